//! `emoji.remove`: emoji and text emoticons out of a reply whose profile removes them.

use super::*;

pub(super) fn is_emoji(c: char) -> bool {
    let u = c as u32;
    let keep = matches!(u, 0x2605 | 0x2606 | 0x2610..=0x2612 | 0x2713..=0x2718 | 0x2776..=0x27BF);
    !keep
        && matches!(u,
            0x1F000..=0x1FAFF | 0x2600..=0x27BF | 0x2B50 | 0x2B55 | 0x231A | 0x231B
            | 0x23E9..=0x23FA | 0x3030 | 0x303D | 0x3297 | 0x3299)
}

pub(super) fn is_emoji_continuation(c: char) -> bool {
    matches!(c as u32, 0x200D | 0xFE0E | 0xFE0F | 0x20E3 | 0xE0020..=0xE007F | 0x1F3FB..=0x1F3FF)
}

pub(super) const EMOTICONS: &[&str] = &[
    ":-)", ":)", ";-)", ";)", ":-(", ":(", ":-D", ":D", ":-P", ":P", "^^", "^_^",
];

/// How to remove the emoji at `[s, e)`: the range to replace (with the spaces that
/// would be left dangling) and what replaces it. An emoji between two sentences
/// becomes a full stop: `received 👍 Any questions` → `received. Any questions`.
pub(super) fn emoji_edit(text: &str, s: usize, e: usize) -> (usize, usize, &'static str) {
    let s_trim = text[..s].trim_end_matches([' ', '\t']).len();
    let e_trim = text.len() - text[e..].trim_start_matches([' ', '\t']).len();
    let before = char_before(text, s);
    let after = char_at(text, e);
    let before_word = char_before(text, s_trim);
    let after_word = char_at(text, e_trim);
    let cjk = |c: Option<char>| c.is_some_and(|c| is_han(c) || is_kana(c));
    if cjk(before_word) && cjk(after_word) {
        return (s_trim, e_trim, "。");
    }
    if before_word.is_some_and(char::is_alphanumeric) && after_word.is_some_and(char::is_uppercase)
    {
        return (s_trim, e_trim, ". ");
    }
    // Glued between two tokens ("great😊thanks", "#😊4471"): keep them apart, except
    // in scripts without spaces and before punctuation that closes ("great😊.").
    let east_asian = |c: char| is_han(c) || is_kana(c) || crate::matching::is_cjk(c);
    let glued_before = before.is_some_and(|c| {
        !c.is_whitespace()
            && !east_asian(c)
            && !matches!(
                c,
                '(' | '[' | '{' | '"' | '\'' | '“' | '‘' | '«' | '¡' | '¿'
            )
    });
    let glued_after = after.is_some_and(|c| {
        !c.is_whitespace()
            && !east_asian(c)
            && !matches!(
                c,
                '.' | ','
                    | '!'
                    | '?'
                    | ';'
                    | ':'
                    | ')'
                    | ']'
                    | '}'
                    | '"'
                    | '\''
                    | '”'
                    | '’'
                    | '»'
                    | '…'
            )
    });
    if glued_before && glued_after {
        return (s, e, " ");
    }
    // An emoji that ended a sentence of some length at the end of a line (not right
    // after a link or code, which a full stop would seem to extend).
    let after_span = before_word.is_some_and(spans::is_sentinel);
    if after_word.is_none_or(|c| c == '\n')
        && before_word.is_some_and(char::is_alphanumeric)
        && !after_span
    {
        let line = &text[text[..s_trim].rfind('\n').map_or(0, |i| i + 1)..s_trim];
        if cjk(before_word) && line.chars().count() >= 4 {
            return (s_trim, e_trim, "。");
        }
        if !cjk(before_word)
            && line.split_whitespace().count() >= 3
            && !is_greeting_line(line, None)
        {
            return (s_trim, e_trim, ".");
        }
    }
    let after_ends = after.is_none_or(|c| {
        matches!(
            c,
            '\n' | ' ' | '\t' | '.' | ',' | '!' | '?' | ';' | ':' | '。' | '、' | '！' | '？'
        ) || is_emoji(c)
    });
    if matches!(before, Some(' ' | '\t')) && after_ends {
        (s_trim, e, "")
    } else if (before.is_none_or(|c| c == '\n') || cjk(before)) && matches!(after, Some(' ' | '\t'))
    {
        (s, e_trim, "")
    } else {
        (s, e, "")
    }
}

pub(super) fn emoji(text: &mut String, input: &Input) -> Option<Applied> {
    if input.profile.emoji != EmojiPolicy::Remove || !input.enabled(Rule::EmojiRemove) {
        return None;
    }
    let mut ranges: Vec<(usize, usize)> = Vec::new();
    let mut count = 0;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if !is_emoji(c) {
            continue;
        }
        let mut end = i + c.len_utf8();
        while let Some(&(j, next)) = chars.peek() {
            if is_emoji_continuation(next)
                || (is_emoji(next) && char_before(text, j) == Some('\u{200D}'))
            {
                end = j + next.len_utf8();
                chars.next();
            } else {
                break;
            }
        }
        ranges.push((i, end));
        count += 1;
    }
    for emoticon in EMOTICONS {
        for (i, _) in text.match_indices(emoticon) {
            let end = i + emoticon.len();
            let alone_before = char_before(text, i).is_none_or(char::is_whitespace);
            let alone_after =
                char_at(text, end).is_none_or(|c| c.is_whitespace() || matches!(c, '.' | ','));
            if alone_before && alone_after && !ranges.iter().any(|(s, e)| *s < end && i < *e) {
                ranges.push((i, end));
                count += 1;
            }
        }
    }
    if ranges.is_empty() {
        return None;
    }
    ranges.sort_unstable();
    // Emoji side by side (a flag is two characters) go as one.
    let mut merged: Vec<(usize, usize)> = Vec::with_capacity(ranges.len());
    for (s, e) in ranges {
        match merged.last_mut() {
            Some(last) if last.1 >= s => last.1 = last.1.max(e),
            _ => merged.push((s, e)),
        }
    }
    let ranges = merged;
    let edits: Vec<(usize, usize, &str)> = ranges
        .iter()
        .map(|&(s, e)| emoji_edit(text, s, e))
        .collect();
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for (s, e, with) in edits {
        let s = s.max(at);
        if s >= e {
            continue;
        }
        out.push_str(&text[at..s]);
        out.push_str(with);
        at = e;
    }
    out.push_str(&text[at..]);
    *text = out;
    Some(Applied {
        rule: Rule::EmojiRemove,
        detail: format!("removed {count} emoji (the profile's emoji policy is remove)"),
    })
}
