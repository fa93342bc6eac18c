//! `directness.trim-filler` and `directness.lead-with-answer`: filler and preambles out of a reply to a direct culture.

use super::*;

/// Whether `at` starts a sentence: the text's start, a line's start or after
/// sentence-final punctuation (spaces between).
pub(super) fn at_sentence_start(text: &str, at: usize) -> bool {
    let before = text[..at].trim_end_matches([' ', '\t']);
    before
        .chars()
        .next_back()
        .is_none_or(|c| c == '\n' || crate::matching::is_sentence_end(c))
}

/// The end of a whole sentence matched up to `end`: after its final `.` or `!`
/// (or at the line's end); `None` if the sentence goes on.
pub(super) fn sentence_end(text: &str, end: usize) -> Option<usize> {
    match char_at(text, end) {
        None | Some('\n') => Some(end),
        Some('.' | '!' | '。') => {
            let after = end + 1;
            char_at(text, after)
                .is_none_or(char::is_whitespace)
                .then_some(after)
        }
        _ => None,
    }
}

/// Removes `[start, end)` and the blank line or doubled blank line it leaves.
pub(super) fn remove_sentence(text: &mut String, start: usize, end: usize) {
    let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[end..].find('\n').map_or(text.len(), |i| end + i);
    let rest_blank = text[end..line_end].trim().is_empty();
    let head_blank = text[line_start..start].trim().is_empty();
    if rest_blank && head_blank {
        // The whole line goes, with its line break.
        let cut_end = if line_end < text.len() {
            line_end + 1
        } else {
            line_end
        };
        let cut_start = if cut_end == text.len() && line_start > 0 {
            line_start - 1
        } else {
            line_start
        };
        text.replace_range(cut_start..cut_end, "");
        let at = cut_start.min(text.len());
        collapse_blank_lines(text, at);
    } else {
        let mut cut_end = end;
        while let Some(' ' | '\t') = char_at(text, cut_end) {
            cut_end += 1;
        }
        let cut_start = if rest_blank {
            text[..start].trim_end_matches([' ', '\t']).len()
        } else {
            start
        };
        text.replace_range(cut_start..cut_end, "");
    }
}

/// Reduces the run of line breaks around `at` to at most one blank line, and drops
/// blank lines at the very start or end.
pub(super) fn collapse_blank_lines(text: &mut String, at: usize) {
    let bytes = text.as_bytes();
    let mut s = at.min(bytes.len());
    while s > 0 && matches!(bytes[s - 1], b'\n' | b' ' | b'\t' | b'\r') {
        s -= 1;
    }
    let mut e = at.min(bytes.len());
    while e < bytes.len() && matches!(bytes[e], b'\n' | b' ' | b'\t' | b'\r') {
        e += 1;
    }
    let breaks = text[s..e].matches('\n').count();
    if s == 0 || e == text.len() {
        text.replace_range(s..e, "");
    } else if breaks > 2 {
        text.replace_range(s..e, "\n\n");
    }
}

pub(super) fn capitalize_at(text: &mut String, at: usize) {
    if let Some(c) = char_at(text, at)
        && c.is_lowercase()
    {
        let upper: String = c.to_uppercase().collect();
        text.replace_range(at..at + c.len_utf8(), &upper);
    }
}

pub(super) fn capitalize_first(s: &str) -> String {
    let mut chars = s.chars();
    chars.next().map_or_else(String::new, |c| {
        c.to_uppercase().collect::<String>() + chars.as_str()
    })
}

pub(super) fn lower_first(s: &str) -> String {
    let mut chars = s.chars();
    chars.next().map_or_else(String::new, |c| {
        c.to_lowercase().collect::<String>() + chars.as_str()
    })
}

pub(super) fn direct_language(input: &Input) -> Option<Lang> {
    (input.profile.directness == Directness::Direct)
        .then_some(input.reply?.lang)
        .filter(|l| !phrases::fillers(*l).is_empty())
}

/// What a rule did, counted per distinct description.
#[derive(Default)]
pub(super) struct Tally(Vec<(String, usize)>);

impl Tally {
    fn add(&mut self, what: String) {
        match self.0.iter_mut().find(|(w, _)| *w == what) {
            Some((_, n)) => *n += 1,
            None => self.0.push((what, 1)),
        }
    }

    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn join(&self) -> String {
        self.0
            .iter()
            .map(|(w, n)| {
                if *n > 1 {
                    format!("{w} (×{n})")
                } else {
                    w.clone()
                }
            })
            .collect::<Vec<_>>()
            .join("; ")
    }
}

pub(super) fn trim_filler(text: &mut String, input: &Input) -> Option<Applied> {
    let lang = direct_language(input)?;
    if !input.enabled(Rule::TrimFiller) {
        return None;
    }
    let mut done = Tally::default();
    for filler in phrases::fillers(lang) {
        if filler.kind == FillerKind::Prefix {
            continue;
        }
        let folded = Folded::new(text);
        let found: Vec<(usize, usize)> = folded
            .find_all(filler.pattern, Boundary::Word)
            .into_iter()
            .filter_map(|(s, e)| match filler.kind {
                FillerKind::Inline(_) => Some((s, e)),
                _ => at_sentence_start(text, s)
                    .then(|| sentence_end(text, e).map(|end| (s, end)))
                    .flatten(),
            })
            .collect();
        // Right to left: an edit never moves the offsets of the ones before it.
        for &(s, e) in found.iter().rev() {
            let original = text[s..e].to_owned();
            match filler.kind {
                FillerKind::Remove => {
                    remove_sentence(text, s, e);
                    done.add(format!("removed {}", quote(&original)));
                }
                FillerKind::Replace(with) => {
                    text.replace_range(s..e, with);
                    done.add(format!("shortened {} to {}", quote(&original), quote(with)));
                }
                FillerKind::Inline(with) => {
                    let with = if original.starts_with(char::is_uppercase) {
                        capitalize_first(with)
                    } else {
                        with.to_owned()
                    };
                    text.replace_range(s..e, &with);
                    done.add(format!("{} → {}", quote(&original), quote(&with)));
                }
                FillerKind::Prefix => {}
            }
        }
    }
    (!done.is_empty()).then(|| Applied {
        rule: Rule::TrimFiller,
        detail: format!("{} (low-context profile: say it plainly)", done.join()),
    })
}

pub(super) fn lead_with_answer(text: &mut String, input: &Input) -> Option<Applied> {
    let lang = direct_language(input)?;
    if !input.enabled(Rule::LeadWithAnswer) {
        return None;
    }
    let mut done = Tally::default();
    for filler in phrases::fillers(lang)
        .iter()
        .filter(|f| f.kind == FillerKind::Prefix)
    {
        let folded = Folded::new(text);
        let found: Vec<(usize, usize)> = folded
            .find_all(filler.pattern, Boundary::Word)
            .into_iter()
            .filter(|(s, e)| {
                at_sentence_start(text, *s) && char_at(text, *e).is_some_and(|c| !c.is_whitespace())
            })
            .collect();
        for &(s, e) in found.iter().rev() {
            let original = text[s..e].to_owned();
            text.replace_range(s..e, "");
            capitalize_at(text, s);
            done.add(format!("removed {} before the answer", quote(&original)));
        }
    }
    (!done.is_empty()).then(|| Applied {
        rule: Rule::LeadWithAnswer,
        detail: format!(
            "{} (low-context profile: lead with the answer)",
            done.join()
        ),
    })
}
