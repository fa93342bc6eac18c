//! `exclamation.tone-down` and `exclamation.collapse`: the profile's policy for exclamation marks.

use super::*;

pub(super) fn is_bang(c: char) -> bool {
    matches!(c, '!' | '！')
}

pub(super) fn exclamation(text: &mut String, input: &Input) -> Option<Applied> {
    let policy = input.profile.exclamation;
    let rule = match policy {
        ExclamationPolicy::Keep => return None,
        ExclamationPolicy::Collapse => Rule::ExclamationCollapse,
        ExclamationPolicy::ToneDown => Rule::ExclamationToneDown,
    };
    if !input.enabled(rule) {
        return None;
    }
    // An HTML draft's greeting is found in its text; a mark before a tag (`!</p>`)
    // ends a sentence there.
    let view = html::is_html(text).then(|| View::new(text));
    let greeting_end = match &view {
        Some(view) => first_line(&view.text)
            .filter(|(s, e)| is_greeting_line(&view.text[*s..*e], input.name))
            .map(|(_, e)| view.source_end(e)),
        None => first_line(text)
            .filter(|(s, e)| is_greeting_line(&text[*s..*e], input.name))
            .map(|(_, e)| e),
    };
    let mut out = String::with_capacity(text.len());
    let mut changed = 0;
    let mut at = 0;
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut k = 0;
    while k < chars.len() {
        let (i, c) = chars[k];
        if policy == ExclamationPolicy::ToneDown && c == '¡' {
            out.push_str(&text[at..i]);
            let wordish =
                |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || spans::is_sentinel(c));
            if wordish(char_before(text, i)) && wordish(char_at(text, i + c.len_utf8())) {
                out.push(' ');
            }
            at = i + c.len_utf8();
            changed += 1;
            k += 1;
            continue;
        }
        if !is_bang(c) {
            k += 1;
            continue;
        }
        // The run of ! and ? starting here.
        let mut m = k;
        while m < chars.len() && matches!(chars[m].1, '!' | '！' | '?' | '？') {
            m += 1;
        }
        // A run starting with ? was passed over above; find its real start.
        let mut start_k = k;
        while start_k > 0
            && matches!(chars[start_k - 1].1, '?' | '？')
            && chars[start_k - 1].0 >= at
        {
            start_k -= 1;
        }
        let run_start = chars[start_k].0;
        let run_end = chars.get(m).map_or(text.len(), |(j, _)| *j);
        // Only marks that end a sentence: "Yahoo!Mail", "!important" and "a!b" stay.
        let ends_sentence = char_at(text, run_end).is_none_or(|n| {
            n.is_whitespace()
                || (n == '<' && view.is_some())
                || is_han(n)
                || is_kana(n)
                || crate::matching::is_hangul(n)
                || is_emoji(n)
                || matches!(
                    n,
                    ')' | ']' | '}' | '"' | '\'' | '»' | '”' | '’' | '」' | '』' | '）'
                )
        });
        if !ends_sentence {
            k = m.max(k + 1);
            continue;
        }
        let run = &text[run_start..run_end];
        let bangs = run.chars().filter(|c| is_bang(*c)).count();
        let question = run.chars().find(|c| matches!(c, '?' | '？'));
        let full_width = run.contains('！') || run.contains('？');
        let replacement: Option<String> = match policy {
            ExclamationPolicy::Collapse => {
                (bangs >= 2 && question.is_none()).then(|| run.chars().take(1).collect())
            }
            _ => Some(match question {
                Some(q) => q.to_string(),
                None => {
                    let before = char_before(text, run_start);
                    let cjk_before = before.is_some_and(|b| is_han(b) || is_kana(b));
                    if greeting_end == Some(run_end) && !full_width && !cjk_before {
                        ",".to_owned()
                    } else if full_width || cjk_before {
                        "。".to_owned()
                    } else {
                        ".".to_owned()
                    }
                }
            }),
        };
        if let Some(replacement) = replacement
            && replacement != run
        {
            // French puts a space before "!"; a full stop takes none.
            let mut cut = run_start;
            if replacement != "?" {
                while let Some(b) =
                    char_before(text, cut).filter(|b| matches!(b, ' ' | '\u{a0}' | '\u{202f}'))
                {
                    if cut <= at {
                        break;
                    }
                    cut -= b.len_utf8();
                }
            }
            out.push_str(&text[at..cut]);
            out.push_str(&replacement);
            at = run_end;
            changed += bangs;
        }
        k = m.max(k + 1);
    }
    out.push_str(&text[at..]);
    if changed == 0 {
        return None;
    }
    *text = out;
    let marks = if changed == 1 { "mark" } else { "marks" };
    let detail = match policy {
        ExclamationPolicy::Collapse => {
            format!("collapsed repeated exclamation marks ({changed} {marks})")
        }
        _ => format!(
            "toned down {changed} exclamation {marks} (the profile's exclamation policy is tone-down)"
        ),
    };
    Some(Applied { rule, detail })
}
