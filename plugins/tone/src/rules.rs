//! The rewrite of a reply draft, rule by rule, each with a stable id reported back.
//!
//! | id | what it does |
//! | --- | --- |
//! | `register.pronoun` | rewrites the reply into the profile's pronoun of address, verbs and possessives with it: `tú` and `vosotros` forms into `usted`, `tu` into `vous`, `du` into `Sie`, `tu` into `você` ([`crate::pronoun`]) |
//! | `register.speech-level` | puts Japanese and Korean sentence endings in the polite level of a formal profile: plain forms into です/ます, 해요체 into 합쇼체 ([`crate::speech_level`]) |
//! | `emoji.remove` | removes emoji and text emoticons, tidying the spaces; an emoji that ended a sentence becomes a full stop (profile `emoji = remove`) |
//! | `exclamation.tone-down` | a sentence-final `!` becomes `.` (`。` in CJK text), `!?` becomes `?`, `¡` goes; a greeting ending in `!` gets a comma (profile `exclamation = tone-down`) |
//! | `exclamation.collapse` | `!!!` becomes `!` (profile `exclamation = collapse`) |
//! | `directness.trim-filler` | removes or shortens filler sentences and wordy phrases (direct profiles) |
//! | `directness.lead-with-answer` | removes a preamble clause ("Just wanted to let you know that …") so the sentence starts with the answer (direct profiles) |
//! | `honorific.add` | adds the honorific to the name in the agent's own greeting: `山田さん` → `山田様`, `김민준,` → `김민준님,`, `Hallo Anna,` → `Hallo Frau Schmidt,` (formal, title known) |
//! | `greeting.add` | adds the greeting formula when the draft has none (profile `greeting = required`) |
//! | `opener.cushion` | adds an apology after the greeting when the draft brings bad news and has none (cushioned profiles) |
//! | `opener.gratitude` | adds a gratitude formula after the greeting otherwise, when the draft thanks nobody (cushioned profiles) |
//! | `closing.add` | adds the closing formula when the draft has none, before a `-- ` signature (profile `closing = required`) |
//! | `register.informal-address` | note only: informal pronouns (du, tu, tú, je, 你) left under a formal pronoun (languages without a rewrite, words the rewrite does not know) |
//! | `register.formal-address` | note only: formal pronouns (usted, u, 您) under an informal pronoun (never rewritten: they share the third person's forms) |
//!
//! Protected spans ([`crate::spans`]) are replaced by sentinels before the first rule
//! and put back after the last, so nothing in them changes. The rules run in the
//! order above, then again on their own output until nothing changes (at most three
//! passes), so applying the plugin to its output changes nothing.

use crate::formulas::{self, Addressee};
use crate::language::{Lang, Reply};
use crate::matching::{Boundary, Folded, is_han, is_kana};
use crate::names::{Name, Title};
use crate::phrases::{self, FillerKind};
use crate::profile::{
    Directness, EmojiPolicy, ExclamationPolicy, Honorific, Profile, Register, Requirement,
};
use crate::pronoun::{self, Pronoun};
use crate::spans;

/// A rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Rule {
    /// `register.pronoun`
    Pronoun,
    /// `register.speech-level`
    SpeechLevel,
    /// `emoji.remove`
    EmojiRemove,
    /// `exclamation.tone-down`
    ExclamationToneDown,
    /// `exclamation.collapse`
    ExclamationCollapse,
    /// `directness.trim-filler`
    TrimFiller,
    /// `directness.lead-with-answer`
    LeadWithAnswer,
    /// `honorific.add`
    HonorificAdd,
    /// `greeting.add`
    GreetingAdd,
    /// `opener.cushion`
    OpenerCushion,
    /// `opener.gratitude`
    OpenerGratitude,
    /// `closing.add`
    ClosingAdd,
    /// `register.informal-address` (note only)
    RegisterInformal,
    /// `register.formal-address` (note only)
    RegisterFormal,
}

impl Rule {
    /// Every rule, in the order they run.
    pub const ALL: [Rule; 14] = [
        Rule::Pronoun,
        Rule::SpeechLevel,
        Rule::EmojiRemove,
        Rule::ExclamationToneDown,
        Rule::ExclamationCollapse,
        Rule::TrimFiller,
        Rule::LeadWithAnswer,
        Rule::HonorificAdd,
        Rule::GreetingAdd,
        Rule::OpenerCushion,
        Rule::OpenerGratitude,
        Rule::ClosingAdd,
        Rule::RegisterInformal,
        Rule::RegisterFormal,
    ];

    /// The stable id.
    ///
    /// ```
    /// assert_eq!(tone::rules::Rule::GreetingAdd.id(), "greeting.add");
    /// ```
    pub fn id(self) -> &'static str {
        match self {
            Rule::Pronoun => "register.pronoun",
            Rule::SpeechLevel => "register.speech-level",
            Rule::EmojiRemove => "emoji.remove",
            Rule::ExclamationToneDown => "exclamation.tone-down",
            Rule::ExclamationCollapse => "exclamation.collapse",
            Rule::TrimFiller => "directness.trim-filler",
            Rule::LeadWithAnswer => "directness.lead-with-answer",
            Rule::HonorificAdd => "honorific.add",
            Rule::GreetingAdd => "greeting.add",
            Rule::OpenerCushion => "opener.cushion",
            Rule::OpenerGratitude => "opener.gratitude",
            Rule::ClosingAdd => "closing.add",
            Rule::RegisterInformal => "register.informal-address",
            Rule::RegisterFormal => "register.formal-address",
        }
    }

    /// The rule with this id.
    pub fn from_id(id: &str) -> Option<Rule> {
        Rule::ALL.into_iter().find(|r| r.id() == id)
    }

    /// Whether the rule only reports (never changes the text).
    pub fn note_only(self) -> bool {
        matches!(self, Rule::RegisterInformal | Rule::RegisterFormal)
    }
}

/// A rule that applied, with a short explanation for the agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    /// The rule.
    pub rule: Rule,
    /// What it did, in a few words.
    pub detail: String,
}

/// What the rules need to know.
#[derive(Debug, Clone, Copy)]
pub struct Input<'a> {
    /// The customer's profile (overrides applied).
    pub profile: &'a Profile,
    /// The reply's language, if supported.
    pub reply: Option<Reply>,
    /// The customer's name.
    pub name: Option<&'a Name>,
    /// The customer's title.
    pub title: Option<&'a Title>,
    /// Terms never touched.
    pub keep_terms: &'a [String],
    /// Rules the tenant disabled.
    pub disabled: &'a [Rule],
}

impl Input<'_> {
    fn enabled(&self, rule: Rule) -> bool {
        !self.disabled.contains(&rule)
    }

    fn who(&self) -> Addressee<'_> {
        Addressee {
            name: self.name,
            title: self.title,
        }
    }
}

/// The rewritten text and the rules that changed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rewrite {
    /// The new text (equal to the draft when nothing applied).
    pub text: String,
    /// The rules that changed the text, in order, one entry per rule.
    pub applied: Vec<Applied>,
}

/// Applies the rules to `text` until nothing changes. Protected spans are replaced
/// by sentinels first ([`spans::Protected`]) and put back at the end, so no rule
/// can alter them, whatever it does around them.
pub fn rewrite(text: &str, input: &Input) -> Rewrite {
    let mut applied: Vec<Applied> = Vec::new();
    let protected = match spans::Protected::new(text, input.keep_terms) {
        Some(p) if !text.trim().is_empty() => p,
        _ => {
            return Rewrite {
                text: text.to_owned(),
                applied,
            };
        }
    };
    let mut current = protected.text.clone();
    for _ in 0..3 {
        let (next, round) = pass(&current, input);
        if round.is_empty() || next == current {
            break;
        }
        for a in round {
            match applied.iter_mut().find(|x| x.rule == a.rule) {
                Some(existing) => {
                    existing.detail.push_str("; ");
                    existing.detail.push_str(&a.detail);
                }
                None => applied.push(a),
            }
        }
        current = next;
    }
    applied.sort_by_key(|a| a.rule);
    Rewrite {
        text: protected.restore(&current),
        applied,
    }
}

fn pass(text: &str, input: &Input) -> (String, Vec<Applied>) {
    let mut text = text.to_owned();
    let mut applied = Vec::new();
    let steps: [fn(&mut String, &Input) -> Option<Applied>; 10] = [
        pronoun,
        speech_level,
        emoji,
        exclamation,
        trim_filler,
        lead_with_answer,
        honorific,
        greeting,
        opener,
        closing,
    ];
    for step in steps {
        let before = text.clone();
        if let Some(a) = step(&mut text, input) {
            if text != before {
                applied.push(a);
            } else {
                text = before;
            }
        }
    }
    (text, applied)
}

// ---------------------------------------------------------------- helpers

fn char_before(text: &str, at: usize) -> Option<char> {
    text[..at].chars().next_back()
}

fn char_at(text: &str, at: usize) -> Option<char> {
    text.get(at..).and_then(|s| s.chars().next())
}

fn quote(s: &str) -> String {
    let s = s.trim();
    let short: String = s.chars().take(60).collect();
    if short.len() < s.len() {
        format!("\"{short}…\"")
    } else {
        format!("\"{short}\"")
    }
}

/// Byte ranges of the lines of `text` (without their `\n`).
fn lines(text: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, c) in text.char_indices() {
        if c == '\n' {
            out.push((start, i));
            start = i + 1;
        }
    }
    out.push((start, text.len()));
    out
}

const TRAILING_PUNCTUATION: &[char] = &[
    ',', '.', ':', ';', '!', '?', '，', '。', '：', '；', '！', '？', '、', '،', ' ', '\u{3000}',
];

/// Whether `line` starts with `term` as a whole word (ignoring case).
fn starts_with_term(line: &str, term: &str) -> bool {
    Folded::new(line)
        .find_all(term, Boundary::for_term(term))
        .first()
        .is_some_and(|(s, _)| *s == 0)
}

/// Whether `line` is a greeting: a greeting word of any language first, a CJK
/// greeting, or the customer's name alone.
fn is_greeting_line(line: &str, name: Option<&Name>) -> bool {
    let t = line
        .trim()
        .trim_start_matches(['¡', '¿', '"', '\'', '«', '“']);
    if t.is_empty() {
        return false;
    }
    if phrases::GREETING_STARTERS
        .iter()
        .any(|(_, words)| words.iter().any(|w| starts_with_term(t, w)))
    {
        return true;
    }
    let bare = t.trim_end_matches(TRAILING_PUNCTUATION);
    if phrases::CJK_GREETING_STARTS
        .iter()
        .any(|s| t.starts_with(s))
        || phrases::CJK_GREETING_ENDS.iter().any(|s| bare.ends_with(s))
    {
        return true;
    }
    // The customer's name alone, or with an honorific: "山田さん", "김민준 씨", "Anna,".
    const SUFFIXES: &[&str] = &[
        "",
        "さん",
        "くん",
        "ちゃん",
        "氏",
        "様",
        "さま",
        "殿",
        "님",
        "씨",
        "고객님",
    ];
    name.is_some_and(|n| {
        [Some(&n.full), n.given.as_ref(), n.family.as_ref()]
            .into_iter()
            .flatten()
            .any(|part| {
                bare.strip_prefix(part.as_str())
                    .is_some_and(|rest| SUFFIXES.contains(&rest.trim()))
            })
    })
}

/// Whether `line` is a closing formula of any Latin-script or Arabic language, or of
/// the reply's own language when that is Chinese, Japanese or Korean.
fn is_closing_line(line: &str, lang: Lang) -> bool {
    let t = line.trim();
    if t.is_empty() {
        return false;
    }
    // A sign-off is short ("Mit freundlichen Grüßen", "Thanks!") or ends with a
    // comma ("Thanks again for your patience,"); "Thank you for your order." is not.
    let words = t.split_whitespace().count();
    let short_or_open = words <= 4 || t.ends_with([',', '،']);
    phrases::CLOSING_STARTERS.iter().any(|(l, starters)| {
        let cjk = matches!(l, Lang::Ja | Lang::Zh | Lang::Ko);
        if cjk {
            *l == lang && t.chars().count() <= 24 && starters.iter().any(|s| t.starts_with(s))
        } else {
            short_or_open && starters.iter().any(|s| starts_with_term(t, s))
        }
    })
}

/// A line that may sign a message: a few words, no sentence.
fn is_signature_line(line: &str) -> bool {
    let t = line.trim();
    t.split_whitespace().count() <= 4
        && !t
            .chars()
            .any(|c| crate::matching::is_sentence_end(c) || c == ':' || c == '：')
}

/// Where a `-- ` signature starts (the start of its line), if there is one.
fn signature_start(text: &str) -> Option<usize> {
    lines(text)
        .into_iter()
        .rev()
        .find(|(s, e)| text[*s..*e].trim_end() == "--")
        .map(|(s, _)| s)
}

// ---------------------------------------------------------------- emoji

fn is_emoji(c: char) -> bool {
    let u = c as u32;
    let keep = matches!(u, 0x2605 | 0x2606 | 0x2610..=0x2612 | 0x2713..=0x2718 | 0x2776..=0x27BF);
    !keep
        && matches!(u,
            0x1F000..=0x1FAFF | 0x2600..=0x27BF | 0x2B50 | 0x2B55 | 0x231A | 0x231B
            | 0x23E9..=0x23FA | 0x3030 | 0x303D | 0x3297 | 0x3299)
}

fn is_emoji_continuation(c: char) -> bool {
    matches!(c as u32, 0x200D | 0xFE0E | 0xFE0F | 0x20E3 | 0xE0020..=0xE007F | 0x1F3FB..=0x1F3FF)
}

const EMOTICONS: &[&str] = &[
    ":-)", ":)", ";-)", ";)", ":-(", ":(", ":-D", ":D", ":-P", ":P", "^^", "^_^",
];

/// How to remove the emoji at `[s, e)`: the range to replace (with the spaces that
/// would be left dangling) and what replaces it. An emoji between two sentences
/// becomes a full stop: `received 👍 Any questions` → `received. Any questions`.
fn emoji_edit(text: &str, s: usize, e: usize) -> (usize, usize, &'static str) {
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

fn emoji(text: &mut String, input: &Input) -> Option<Applied> {
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

// ---------------------------------------------------------------- exclamation

fn is_bang(c: char) -> bool {
    matches!(c, '!' | '！')
}

fn exclamation(text: &mut String, input: &Input) -> Option<Applied> {
    let policy = input.profile.exclamation;
    let rule = match policy {
        ExclamationPolicy::Keep => return None,
        ExclamationPolicy::Collapse => Rule::ExclamationCollapse,
        ExclamationPolicy::ToneDown => Rule::ExclamationToneDown,
    };
    if !input.enabled(rule) {
        return None;
    }
    let greeting_end = lines(text)
        .into_iter()
        .find(|(s, e)| !text[*s..*e].trim().is_empty())
        .filter(|(s, e)| is_greeting_line(&text[*s..*e], input.name))
        .map(|(_, e)| e);
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

// ---------------------------------------------------------------- directness

/// Whether `at` starts a sentence: the text's start, a line's start or after
/// sentence-final punctuation (spaces between).
fn at_sentence_start(text: &str, at: usize) -> bool {
    let before = text[..at].trim_end_matches([' ', '\t']);
    before
        .chars()
        .next_back()
        .is_none_or(|c| c == '\n' || crate::matching::is_sentence_end(c))
}

/// The end of a whole sentence matched up to `end`: after its final `.` or `!`
/// (or at the line's end); `None` if the sentence goes on.
fn sentence_end(text: &str, end: usize) -> Option<usize> {
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
fn remove_sentence(text: &mut String, start: usize, end: usize) {
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
fn collapse_blank_lines(text: &mut String, at: usize) {
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

fn capitalize_at(text: &mut String, at: usize) {
    if let Some(c) = char_at(text, at)
        && c.is_lowercase()
    {
        let upper: String = c.to_uppercase().collect();
        text.replace_range(at..at + c.len_utf8(), &upper);
    }
}

fn capitalize_first(s: &str) -> String {
    let mut chars = s.chars();
    chars.next().map_or_else(String::new, |c| {
        c.to_uppercase().collect::<String>() + chars.as_str()
    })
}

fn lower_first(s: &str) -> String {
    let mut chars = s.chars();
    chars.next().map_or_else(String::new, |c| {
        c.to_lowercase().collect::<String>() + chars.as_str()
    })
}

fn direct_language(input: &Input) -> Option<Lang> {
    (input.profile.directness == Directness::Direct)
        .then_some(input.reply?.lang)
        .filter(|l| !phrases::fillers(*l).is_empty())
}

/// What a rule did, counted per distinct description.
#[derive(Default)]
struct Tally(Vec<(String, usize)>);

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

fn trim_filler(text: &mut String, input: &Input) -> Option<Applied> {
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

fn lead_with_answer(text: &mut String, input: &Input) -> Option<Applied> {
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

// ---------------------------------------------------------------- honorific

fn first_line(text: &str) -> Option<(usize, usize)> {
    lines(text)
        .into_iter()
        .find(|(s, e)| !text[*s..*e].trim().is_empty())
}

fn honorific(text: &mut String, input: &Input) -> Option<Applied> {
    let reply = input.reply?;
    let name = input.name?;
    if !input.enabled(Rule::HonorificAdd) {
        return None;
    }
    let (ls, le) = first_line(text)?;
    let line = text[ls..le].to_owned();
    if !is_greeting_line(&line, Some(name)) {
        return None;
    }
    let candidates = |family_first_only: bool| -> Vec<String> {
        let mut out = vec![name.full.clone()];
        if let Some(f) = &name.family
            && (!family_first_only || name.family_first)
        {
            out.push(f.clone());
        }
        if let Some(g) = &name.given {
            out.push(g.clone());
        }
        out
    };
    // A Latin-script greeting ("Dear Anna,") takes no Japanese or Korean honorific:
    // nothing Latin may come before the name.
    let latin_before = |pos: usize| line[..pos].chars().any(|c| c.is_ascii_alphabetic());
    let (new_line, what) = match reply.lang {
        Lang::Ja => {
            let (pos, part) = candidates(false)
                .into_iter()
                .find_map(|c| line.find(&c).map(|p| (p, c)))?;
            if latin_before(pos) {
                return None;
            }
            let after = &line[pos + part.len()..];
            if ["様", "さま", "殿", "御中", "各位"]
                .iter()
                .any(|h| after.starts_with(h))
            {
                return None;
            }
            let suffix = ["さん", "くん", "ちゃん", "氏"]
                .iter()
                .find(|s| after.starts_with(**s))
                .map_or(0, |s| s.len());
            let end = pos + part.len();
            let new_line = format!("{}様{}", &line[..end], &line[end + suffix..]);
            (
                new_line,
                format!(
                    "{} → {} (Japanese honorific 様)",
                    quote(&line[pos..end + suffix]),
                    quote(&format!("{part}様"))
                ),
            )
        }
        Lang::Ko => {
            let (pos, part) = candidates(false)
                .into_iter()
                .find_map(|c| line.find(&c).map(|p| (p, c)))?;
            if latin_before(pos) {
                return None;
            }
            let end = pos + part.len();
            let after = &line[end..];
            if after.trim_start().starts_with('님') || after.trim_start().starts_with("고객님")
            {
                return None;
            }
            let suffix = [" 씨", "씨"]
                .iter()
                .find(|s| after.starts_with(**s))
                .map_or(0, |s| s.len());
            let new_line = format!("{}님{}", &line[..end], &line[end + suffix..]);
            (
                new_line,
                format!(
                    "{} → {} (Korean honorific 님)",
                    quote(&line[pos..end + suffix]),
                    quote(&format!("{part}님"))
                ),
            )
        }
        lang if lang.is_latin() => {
            if input.profile.register != Register::Formal || input.title.is_none() {
                return None;
            }
            let formal = formulas::address(
                lang,
                Register::Formal,
                input.profile.honorific,
                &input.who(),
            )?;
            let bare = line.trim().trim_end_matches(TRAILING_PUNCTUATION);
            // "<greeting word> <name>": the name is the line's tail.
            let part = [Some(&name.full), name.given.as_ref()]
                .into_iter()
                .flatten()
                .find(|p| bare.ends_with(p.as_str()) && bare.len() > p.len())?;
            if formal == *part || bare.ends_with(&formal) {
                return None;
            }
            let pos = line.find(bare)? + bare.len() - part.len();
            let head = &line[..pos];
            if !head
                .trim_end()
                .chars()
                .next_back()
                .is_some_and(|c| c.is_alphabetic() || c == ',')
            {
                return None;
            }
            let new_line = format!("{head}{formal}{}", &line[pos + part.len()..]);
            let detail = format!(
                "{} → {} (formal register, title known)",
                quote(&line),
                quote(&new_line)
            );
            (new_line, detail)
        }
        _ => return None,
    };
    text.replace_range(ls..le, &new_line);
    Some(Applied {
        rule: Rule::HonorificAdd,
        detail: what,
    })
}

// ---------------------------------------------------------------- greeting

fn greeting(text: &mut String, input: &Input) -> Option<Applied> {
    let reply = input.reply?;
    if input.profile.greeting != Requirement::Required || !input.enabled(Rule::GreetingAdd) {
        return None;
    }
    let (ls, le) = first_line(text)?;
    if is_greeting_line(&text[ls..le], input.name) {
        return None;
    }
    let formula = formulas::greeting(
        reply,
        input.profile.register,
        input.profile.honorific,
        &input.who(),
    );
    let body = text.trim_start().to_owned();
    *text = format!("{formula}\n\n{body}");
    Some(Applied {
        rule: Rule::GreetingAdd,
        detail: format!(
            "added {} ({})",
            quote(&formula.replace('\n', " / ")),
            greeting_reason(input)
        ),
    })
}

fn greeting_reason(input: &Input) -> String {
    let register = input.profile.register.name();
    let address = match (input.name, input.title) {
        (None, _) => "no name known".to_owned(),
        (Some(_), Some(t)) => format!("title {:?} from customer.title", t.text),
        (Some(_), None) => "no title known".to_owned(),
    };
    let honorific = match input.profile.honorific {
        Honorific::SurnameSama | Honorific::FullNameSama
            if input.reply.is_some_and(|r| r.lang == Lang::Ja) =>
        {
            ", honorific 様"
        }
        Honorific::NameNim if input.reply.is_some_and(|r| r.lang == Lang::Ko) => ", honorific 님",
        _ => "",
    };
    format!("{register} register, {address}{honorific}")
}

// ---------------------------------------------------------------- opener

/// Where an opener goes: after the greeting line and the gratitude lines right under
/// it, or at the start.
fn opener_position(text: &str, input: &Input, lang: Lang) -> usize {
    let all = lines(text);
    let Some(first) = all
        .iter()
        .position(|(s, e)| !text[*s..*e].trim().is_empty())
    else {
        return 0;
    };
    let (s, e) = all[first];
    if !is_greeting_line(&text[s..e], input.name) {
        return 0;
    }
    let mut end = e;
    for &(s, e) in &all[first + 1..] {
        let line = &text[s..e];
        if line.trim().is_empty() {
            break;
        }
        let gratitude = phrases::find_in(&Folded::new(line), phrases::GRATITUDE, lang).is_some();
        if gratitude && line.chars().count() <= 60 {
            end = e;
        } else {
            break;
        }
    }
    end
}

fn opener(text: &mut String, input: &Input) -> Option<Applied> {
    let reply = input.reply?;
    if input.profile.directness != Directness::Cushioned {
        return None;
    }
    let lang = reply.lang;
    let folded = Folded::new(text);
    let bad = phrases::find_in(&folded, phrases::BAD_NEWS, lang);
    let (rule, formula, why) = match bad {
        Some(word) => {
            if phrases::find_in(&folded, phrases::CUSHION, lang).is_some() {
                return None;
            }
            (
                Rule::OpenerCushion,
                formulas::cushion(reply, input.profile.register),
                format!("bad news ({}) in a high-context reply", quote(word)),
            )
        }
        None => {
            if phrases::find_in(&folded, phrases::GRATITUDE, lang).is_some() {
                return None;
            }
            (
                Rule::OpenerGratitude,
                formulas::gratitude(reply, input.profile.register),
                "high-context reply without a word of thanks".to_owned(),
            )
        }
    };
    if !input.enabled(rule) {
        return None;
    }
    let at = opener_position(text, input, lang);
    let head = text[..at].to_owned();
    let rest = text[at..].trim_start().to_owned();
    // German continues in lower case after a salutation ending with a comma.
    let formula = if lang == Lang::De && head.trim_end().ends_with(',') {
        lower_first(formula)
    } else {
        formula.to_owned()
    };
    *text = match (head.is_empty(), rest.is_empty()) {
        (true, _) => format!("{formula}\n\n{rest}"),
        (false, true) => format!("{head}\n\n{formula}"),
        (false, false) => format!("{head}\n\n{formula}\n\n{rest}"),
    };
    Some(Applied {
        rule,
        detail: format!("added {} ({why})", quote(&formula)),
    })
}

// ---------------------------------------------------------------- closing

fn closing(text: &mut String, input: &Input) -> Option<Applied> {
    let reply = input.reply?;
    if input.profile.closing != Requirement::Required || !input.enabled(Rule::ClosingAdd) {
        return None;
    }
    let body_end = signature_start(text).unwrap_or(text.len());
    let body = &text[..body_end];
    let all: Vec<(usize, usize)> = lines(body)
        .into_iter()
        .filter(|(s, e)| !body[*s..*e].trim().is_empty())
        .collect();
    // From the end: name or department lines may follow the closing; the first
    // sentence of the body ends the search. The greeting does not count.
    let mut has_closing = false;
    for (s, e) in all.iter().skip(1).rev().take(4) {
        let line = &body[*s..*e];
        if is_closing_line(line, reply.lang) {
            has_closing = true;
            break;
        }
        if !is_signature_line(line) {
            break;
        }
    }
    if has_closing {
        return None;
    }
    let formula = formulas::closing(reply, input.profile.register);
    let signature = &text[body_end..];
    *text = if signature.is_empty() {
        format!("{}\n\n{formula}", body.trim_end())
    } else {
        format!("{}\n\n{formula}\n{signature}", body.trim_end())
    };
    Some(Applied {
        rule: Rule::ClosingAdd,
        detail: format!(
            "added {} ({} register)",
            quote(formula),
            input.profile.register.name()
        ),
    })
}

// ---------------------------------------------------------------- register

/// `register.speech-level`: Japanese and Korean sentence endings in the polite
/// level, under a formal profile of the reply's language.
fn speech_level(text: &mut String, input: &Input) -> Option<Applied> {
    let reply = input.reply?;
    let profile = input.profile;
    if !input.enabled(Rule::SpeechLevel)
        || reply.lang != profile.language
        || profile.pronoun() != Pronoun::Formal
        || !matches!(reply.lang, Lang::Ja | Lang::Ko)
    {
        return None;
    }
    let out = crate::speech_level::polite(text, reply.lang);
    if out.changes.is_empty() {
        return None;
    }
    let level = if reply.lang == Lang::Ja {
        "です/ます (丁寧語)"
    } else {
        "합쇼체"
    };
    let list: Vec<String> = out
        .changes
        .iter()
        .map(|(from, to)| format!("{from} → {to}"))
        .collect();
    *text = out.text;
    Some(Applied {
        rule: Rule::SpeechLevel,
        detail: format!(
            "sentence endings in {level} (profile {}): {}",
            profile.locale,
            list.join(", ")
        ),
    })
}

/// `register.pronoun`: the reply in the profile's pronoun, when it is written in
/// the profile's language (an English reply to a German customer has no `du`).
fn pronoun(text: &mut String, input: &Input) -> Option<Applied> {
    let reply = input.reply?;
    let profile = input.profile;
    if !input.enabled(Rule::Pronoun)
        || reply.lang != profile.language
        || !pronoun::rewrites(reply.lang)
    {
        return None;
    }
    let wanted = profile.pronoun();
    let variety = profile.variety();
    let title = input.title.map(|t| t.kind);
    let out = pronoun::rewrite(
        text,
        pronoun::Target {
            lang: reply.lang,
            variety,
            pronoun: wanted,
            title,
        },
    );
    if out.changes.is_empty() {
        return None;
    }
    let mut shown: Vec<String> = Vec::new();
    for (from, to) in &out.changes {
        let pair = format!("{from} → {to}");
        if !shown.contains(&pair) {
            shown.push(pair);
        }
    }
    let more = shown.len().saturating_sub(8);
    shown.truncate(8);
    let mut list = shown.join(", ");
    if more > 0 {
        list.push_str(&format!(" and {more} more"));
    }
    *text = out.text;
    Some(Applied {
        rule: Rule::Pronoun,
        detail: format!(
            "addressed the customer as {} (profile {}): {list}",
            wanted.describe(reply.lang, variety),
            profile.locale
        ),
    })
}

/// Register mismatches in the agent's own text, reported, never rewritten: the verb
/// forms would have to change with the pronouns, which rules cannot do safely.
pub fn register_findings(text: &str, input: &Input) -> Vec<Applied> {
    let Some(reply) = input.reply else {
        return Vec::new();
    };
    let lang = reply.lang;
    let spans = spans::find(text, input.keep_terms);
    let masked = spans::masked(text, &spans);
    let folded = Folded::new(&masked);
    let wanted = input.profile.pronoun();
    let expected = wanted.word(lang, input.profile.variety());
    let (table, rule, found_kind) = match wanted {
        Pronoun::Formal => (
            phrases::INFORMAL_ADDRESS,
            Rule::RegisterInformal,
            "informal",
        ),
        Pronoun::Informal => (phrases::FORMAL_ADDRESS, Rule::RegisterFormal, "formal"),
    };
    if !input.enabled(rule) {
        return Vec::new();
    }
    let mut words: Vec<String> = Vec::new();
    for (_, places) in phrases::find_all_in(&folded, table, lang) {
        let real = places.iter().any(|(_, e)| {
            // 你们 / 您们 address a group: not the register of one customer.
            !(lang == Lang::Zh && matches!(char_at(&masked, *e), Some('们' | '們')))
        });
        if real {
            let (s, e) = places[0];
            words.push(format!("\"{}\"", &text[s..e]));
        }
    }
    if words.is_empty() {
        return Vec::new();
    }
    let why = match wanted {
        Pronoun::Formal if pronoun::rewrites(lang) => {
            "left by register.pronoun (a form its lexicon does not know), please review"
        }
        Pronoun::Informal if pronoun::rewrites(lang) => {
            "not rewritten (these forms are also the third person's or the plural's), please review"
        }
        _ => "not rewritten in this language, please review",
    };
    vec![Applied {
        rule,
        detail: format!(
            "{found_kind} address ({}) in a reply to a profile that expects {expected}; {why}",
            words.join(", ")
        ),
    }]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::language::Reply;
    use crate::names::{parse_name, parse_title};
    use crate::profile::Profiles;

    struct Case {
        profiles: Profiles,
    }

    impl Case {
        fn new() -> Case {
            Case {
                profiles: Profiles::embedded().expect("table"),
            }
        }

        fn run(
            &self,
            locale: &str,
            lang: Lang,
            name: &str,
            title: Option<&str>,
            text: &str,
        ) -> Rewrite {
            let profile = self.profiles.get(locale).expect("locale");
            let name = parse_name(name, None, None, profile.language);
            let title = title.and_then(parse_title);
            let input = Input {
                profile,
                reply: Some(Reply {
                    lang,
                    traditional: locale == "zh-TW",
                }),
                name: name.as_ref(),
                title: title.as_ref(),
                keep_terms: &[],
                disabled: &[],
            };
            rewrite(text, &input)
        }
    }

    fn ids(r: &Rewrite) -> Vec<&'static str> {
        r.applied.iter().map(|a| a.rule.id()).collect()
    }

    #[test]
    fn english_us_greets_by_first_name_and_trims_filler() {
        let c = Case::new();
        let r = c.run(
            "en-US",
            Lang::En,
            "Anna Smith",
            None,
            "I hope this email finds you well. Just wanted to let you know that your order #4471 has shipped! 🎉",
        );
        assert_eq!(r.text, "Hi Anna,\n\nYour order #4471 has shipped! 🎉");
        assert_eq!(
            ids(&r),
            [
                "directness.trim-filler",
                "directness.lead-with-answer",
                "greeting.add"
            ]
        );
    }

    #[test]
    fn japanese_customer_answered_in_japanese() {
        let c = Case::new();
        let r = c.run(
            "ja-JP",
            Lang::Ja,
            "山田 太郎",
            None,
            "ご注文の商品は本日発送いたしました！",
        );
        assert_eq!(
            r.text,
            "山田様\nいつもご利用いただきありがとうございます。\n\nご注文の商品は本日発送いたしました。\n\nよろしくお願いいたします。"
        );
        assert_eq!(
            ids(&r),
            ["exclamation.tone-down", "greeting.add", "closing.add"]
        );
    }

    #[test]
    fn japanese_customer_answered_in_english_with_bad_news() {
        let c = Case::new();
        let r = c.run(
            "ja-JP",
            Lang::En,
            "Taro Yamada",
            Some("Mr"),
            "Unfortunately your refund is delayed until Friday!!",
        );
        assert_eq!(
            r.text,
            "Dear Mr Yamada,\n\nWe are sorry for the inconvenience.\n\nUnfortunately your refund is delayed until Friday.\n\nKind regards,"
        );
        assert_eq!(
            ids(&r),
            [
                "exclamation.tone-down",
                "greeting.add",
                "opener.cushion",
                "closing.add"
            ]
        );
    }

    #[test]
    fn german_formal_with_title_and_lowercase_after_salutation() {
        let c = Case::new();
        let mut p = Profiles::embedded().expect("table");
        p.apply_overrides("de-DE.directness=cushioned")
            .expect("override");
        let c2 = Case { profiles: p };
        let r = c2.run(
            "de-DE",
            Lang::De,
            "Anna Schmidt",
            Some("Frau"),
            "Ihre Bestellung ist unterwegs.",
        );
        assert!(
            r.text.starts_with(
                "Sehr geehrte Frau Schmidt,\n\nvielen Dank für Ihre Nachricht.\n\nIhre Bestellung"
            ),
            "{}",
            r.text
        );
        let r = c.run(
            "de-DE",
            Lang::De,
            "Anna Schmidt",
            None,
            "Ihre Bestellung ist unterwegs!",
        );
        assert_eq!(
            r.text,
            "Guten Tag Anna Schmidt,\n\nIhre Bestellung ist unterwegs.\n\nMit freundlichen Grüßen"
        );
    }

    #[test]
    fn honorific_is_added_to_the_agents_greeting() {
        let c = Case::new();
        let r = c.run(
            "ja-JP",
            Lang::Ja,
            "山田 太郎",
            None,
            "山田さん\n\n発送しました。\n\nよろしくお願いいたします。",
        );
        assert!(r.text.starts_with("山田様\n\n"), "{}", r.text);
        assert!(ids(&r).contains(&"honorific.add"));
        let r = c.run(
            "ko-KR",
            Lang::Ko,
            "김민준",
            None,
            "김민준 씨, 안녕하세요.\n\n주문하신 상품이 발송되었습니다.\n\n감사합니다.",
        );
        assert!(r.text.starts_with("김민준님, 안녕하세요."), "{}", r.text);
        let r = c.run(
            "en-GB",
            Lang::En,
            "Anna Smith",
            Some("Ms"),
            "Dear Anna,\n\nYour parcel is on its way.\n\nKind regards,",
        );
        assert_eq!(
            r.text,
            "Dear Ms Smith,\n\nYour parcel is on its way.\n\nKind regards,"
        );
    }

    #[test]
    fn emoji_removal_tidies_spaces() {
        let c = Case::new();
        let r = c.run(
            "en-GB",
            Lang::En,
            "Anna Smith",
            None,
            "Dear Anna Smith,\n\n😊 Your parcel 📦 is on its way 🚚.\n\nKind regards,",
        );
        assert_eq!(
            r.text,
            "Dear Anna Smith,\n\nYour parcel is on its way.\n\nKind regards,"
        );
    }

    #[test]
    fn spanish_tone_down_removes_inverted_marks() {
        let c = Case::new();
        let r = c.run(
            "es-MX",
            Lang::Es,
            "María García",
            Some("Sra."),
            "¡Gracias por su compra! Su pedido ya salió.",
        );
        assert_eq!(
            r.text,
            "Estimada Sra. García:\n\nGracias por su compra. Su pedido ya salió.\n\nSaludos cordiales,"
        );
    }

    #[test]
    fn closing_goes_before_a_signature() {
        let c = Case::new();
        let r = c.run(
            "en-GB",
            Lang::En,
            "Anna Smith",
            None,
            "Dear Anna Smith,\n\nDone.\n\n-- \nAcme Support",
        );
        assert_eq!(
            r.text,
            "Dear Anna Smith,\n\nDone.\n\nKind regards,\n-- \nAcme Support"
        );
    }

    #[test]
    fn informal_address_is_reported_not_rewritten() {
        let profiles = Profiles::embedded().expect("table");
        let profile = profiles.get("de-DE").expect("de-DE");
        let input = Input {
            profile,
            reply: Some(Reply {
                lang: Lang::De,
                traditional: false,
            }),
            name: None,
            title: None,
            keep_terms: &[],
            disabled: &[],
        };
        let f = register_findings("Kannst du mir deine Bestellnummer schicken?", &input);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].rule, Rule::RegisterInformal);
        assert!(f[0].detail.contains("\"du\""), "{}", f[0].detail);
    }

    #[test]
    fn rewriting_twice_changes_nothing() {
        let c = Case::new();
        for (locale, lang, text) in [
            (
                "en-US",
                Lang::En,
                "Just wanted to let you know that it shipped!!! 😀",
            ),
            ("zh-CN", Lang::Zh, "您的订单已经发货了！！"),
            ("ar-SA", Lang::Ar, "تم شحن طلبك اليوم!"),
            (
                "nl-NL",
                Lang::Nl,
                "Ik hoop dat alles goed met u gaat. Uw pakket is onderweg.",
            ),
        ] {
            let once = c.run(locale, lang, "Sam Lee", None, text);
            let twice = c.run(locale, lang, "Sam Lee", None, &once.text);
            assert_eq!(twice.text, once.text, "{locale}");
            assert!(twice.applied.is_empty(), "{locale}: {:?}", twice.applied);
        }
    }
}
