//! Placeholders no rule may touch: URLs, e-mail addresses, order numbers and codes,
//! `{{macros}}`, `@mentions`, `code`, numbers with units and the tenant's
//! `keep_terms`.
//!
//! The scanner is this crate's own, small one. The translation plugin has a fuller
//! one (`translation::protect`), but that crate is itself a plugin component: linking
//! it would put a second plugin export and its language detector into this component.
//! Before any rule runs, every span is replaced by one private-use sentinel
//! character ([`Protected`]) and put back afterwards, so the spans come out byte for
//! byte whatever the rules do around them. The sensitive-topic scan and the language
//! detection read the text with the spans blanked out ([`masked`]): a URL that
//! contains "election" is not a reply about elections.

use crate::matching::{Boundary, Folded, is_cjk, is_hangul, is_word_char};

/// What a protected span is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Inline or fenced code between backticks.
    Code,
    /// A template macro: `{{customer.name}}`, `{% if %}`.
    Macro,
    /// A URL, with a scheme, `www.`, or a known top-level domain.
    Url,
    /// An e-mail address.
    Email,
    /// An `@mention`.
    Mention,
    /// An order number, code, date, time or version: `#1234`, `ORD-2024-778`,
    /// `A1B2C3`, `2024-05-01`, `14:30`.
    Reference,
    /// A number with a unit or currency: `5 kg`, `10 €`, `€10`, `25%`.
    Quantity,
    /// One of the tenant's `keep_terms`.
    Keep,
}

/// One protected byte range of a text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    /// What it is.
    pub kind: Kind,
    /// Start (inclusive), in bytes.
    pub start: usize,
    /// End (exclusive), in bytes.
    pub end: usize,
}

/// The protected spans of `text`, sorted and without overlaps.
///
/// ```
/// let text = "Order ORD-2024-778: see https://shop.example.com/t?id=1 or ask @maria.";
/// let spans: Vec<&str> = tone::spans::find(text, &[]).iter().map(|s| &text[s.start..s.end]).collect();
/// assert_eq!(spans, ["ORD-2024-778", "https://shop.example.com/t?id=1", "@maria"]);
/// ```
pub fn find(text: &str, keep_terms: &[String]) -> Vec<Span> {
    let mut spans = Vec::new();
    code(text, &mut spans);
    macros(text, &mut spans);
    urls(text, &mut spans);
    emails_and_mentions(text, &mut spans);
    codes_and_quantities(text, &mut spans);
    keep(text, keep_terms, &mut spans);
    merge(spans)
}

/// Whether the byte range `[start, end)` touches a span.
pub fn overlaps(spans: &[Span], start: usize, end: usize) -> bool {
    spans.iter().any(|s| s.start < end && start < s.end)
}

/// Whether byte `at` lies inside a span.
pub fn inside(spans: &[Span], at: usize) -> bool {
    spans.iter().any(|s| s.start <= at && at < s.end)
}

/// The text with every span replaced by spaces of the same byte length, so that
/// offsets stay valid and no word runs across a span.
pub fn masked(text: &str, spans: &[Span]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for span in spans {
        out.push_str(&text[at..span.start]);
        out.extend(std::iter::repeat_n(' ', span.end - span.start));
        at = span.end;
    }
    out.push_str(&text[at..]);
    out
}

/// First character used to stand for a protected span while the rules run (the
/// Supplementary Private Use Area-B: never a letter, digit, space, emoji or
/// punctuation to any rule).
const SENTINEL_BASE: u32 = 0x10_0000;
const SENTINEL_LAST: u32 = 0x10_FFFD;

/// Whether `c` is in the range used for sentinels.
pub fn is_sentinel(c: char) -> bool {
    (SENTINEL_BASE..=SENTINEL_LAST).contains(&(c as u32))
}

/// A text whose spans are replaced by one sentinel character each, so that no rule
/// can touch them, whatever it does around them; [`Protected::restore`] puts them
/// back byte for byte.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Protected {
    /// The text with sentinels.
    pub text: String,
    originals: Vec<String>,
}

impl Protected {
    /// Protects the spans of `text`. `None` when the text already holds characters
    /// of the sentinel range (private-use characters no real draft contains).
    ///
    /// ```
    /// let p = tone::spans::Protected::new("Order #4471 ships!", &[]).unwrap();
    /// assert_eq!(p.text.chars().count(), "Order X ships!".chars().count());
    /// assert_eq!(p.restore(&p.text.replace('!', ".")), "Order #4471 ships.");
    /// ```
    pub fn new(text: &str, keep_terms: &[String]) -> Option<Protected> {
        if text.chars().any(is_sentinel) {
            return None;
        }
        let spans = find(text, keep_terms);
        let mut out = String::with_capacity(text.len());
        let mut originals = Vec::with_capacity(spans.len());
        let mut at = 0;
        for span in spans {
            let sentinel =
                char::from_u32(SENTINEL_BASE + originals.len() as u32).filter(|c| is_sentinel(*c));
            let Some(sentinel) = sentinel else { break };
            out.push_str(&text[at..span.start]);
            out.push(sentinel);
            originals.push(text[span.start..span.end].to_owned());
            at = span.end;
        }
        out.push_str(&text[at..]);
        Some(Protected {
            text: out,
            originals,
        })
    }

    /// `text` (a rewrite of [`Protected::text`]) with every sentinel replaced by its
    /// span.
    pub fn restore(&self, text: &str) -> String {
        let mut out = String::with_capacity(
            text.len() + self.originals.iter().map(String::len).sum::<usize>(),
        );
        for c in text.chars() {
            let original = is_sentinel(c)
                .then(|| self.originals.get((c as u32 - SENTINEL_BASE) as usize))
                .flatten();
            match original {
                Some(original) => out.push_str(original),
                None => out.push(c),
            }
        }
        out
    }
}

fn merge(mut spans: Vec<Span>) -> Vec<Span> {
    spans.sort_by(|a, b| a.start.cmp(&b.start).then(b.end.cmp(&a.end)));
    let mut merged: Vec<Span> = Vec::with_capacity(spans.len());
    for span in spans {
        match merged.last_mut() {
            Some(last) if span.start < last.end => last.end = last.end.max(span.end),
            _ => merged.push(span),
        }
    }
    merged
}

fn char_before(text: &str, at: usize) -> Option<char> {
    text[..at].chars().next_back()
}

fn char_at(text: &str, at: usize) -> Option<char> {
    text.get(at..).and_then(|s| s.chars().next())
}

fn code(text: &str, spans: &mut Vec<Span>) {
    let mut at = 0;
    while let Some(offset) = text[at..].find('`') {
        let start = at + offset;
        if text[start..].starts_with("```") {
            match text[start + 3..].find("```") {
                Some(len) => {
                    let end = start + 3 + len + 3;
                    spans.push(Span {
                        kind: Kind::Code,
                        start,
                        end,
                    });
                    at = end;
                }
                None => return,
            }
            continue;
        }
        let rest = &text[start + 1..];
        let line_end = rest.find('\n').unwrap_or(rest.len());
        match rest[..line_end].find('`') {
            Some(len) => {
                let end = start + 1 + len + 1;
                spans.push(Span {
                    kind: Kind::Code,
                    start,
                    end,
                });
                at = end;
            }
            None => at = start + 1,
        }
    }
}

fn macros(text: &str, spans: &mut Vec<Span>) {
    for (open, close) in [("{{", "}}"), ("{%", "%}")] {
        let mut at = 0;
        while let Some(offset) = text[at..].find(open) {
            let start = at + offset;
            let body = &text[start + 2..];
            // Bounded: an unclosed "{{" does not swallow the rest of the draft,
            // nor is the rest searched for its close (a draft of "{{" repeated
            // would make that quadratic).
            let mut window = body.len().min(200 + close.len());
            while !body.is_char_boundary(window) {
                window -= 1;
            }
            match body[..window].find(close).filter(|len| *len <= 200) {
                Some(len) => {
                    let end = start + 2 + len + 2;
                    spans.push(Span {
                        kind: Kind::Macro,
                        start,
                        end,
                    });
                    at = end;
                }
                None => at = start + 2,
            }
        }
    }
}

/// Top-level domains recognised in addresses written without a scheme. Short on
/// purpose: `e.g.` or `node.js` are no addresses.
const TLDS: &[&str] = &[
    "com", "org", "net", "edu", "gov", "io", "co", "dev", "app", "info", "shop", "store", "us",
    "uk", "de", "fr", "es", "it", "nl", "be", "ch", "at", "pt", "br", "mx", "jp", "cn", "kr", "tw",
    "sa", "ae", "eu",
];

fn url_char(c: char) -> bool {
    !c.is_whitespace() && !matches!(c, '<' | '>' | '"' | '`') && !is_cjk(c) && !is_hangul(c)
}

/// The end of a URL starting at `start`: up to white space, without trailing
/// punctuation (a closing parenthesis stays when the URL opened one).
fn url_end(text: &str, start: usize) -> usize {
    let mut end = start;
    for (i, c) in text[start..].char_indices() {
        if !url_char(c) {
            break;
        }
        end = start + i + c.len_utf8();
    }
    // Counted once, then kept as the end moves back: recounting per character
    // made a URL of thousands of ')' quadratic.
    let url = &text[start..end];
    let opened = url.matches('(').count();
    let mut closed = url.matches(')').count();
    while let Some(last) = char_before(text, end) {
        let unbalanced = last == ')' && opened < closed;
        if matches!(last, '.' | ',' | ';' | ':' | '!' | '?' | '\'' | ']' | '}') || unbalanced {
            if last == ')' {
                closed = closed.saturating_sub(1);
            }
            end -= last.len_utf8();
        } else {
            break;
        }
    }
    end
}

fn urls(text: &str, spans: &mut Vec<Span>) {
    let folded = Folded::new(text);
    for prefix in ["https://", "http://", "www."] {
        for (start, _) in folded.find_all(prefix, Boundary::None) {
            // A scheme is a start wherever it is ("seehttps://" is still a link);
            // "www." only at the start of a word.
            let glued = char_before(text, start).is_some_and(is_word_char);
            if prefix == "www." && glued {
                continue;
            }
            let end = url_end(text, start);
            if end > start + prefix.len() {
                spans.push(Span {
                    kind: Kind::Url,
                    start,
                    end,
                });
            }
        }
    }
    // Bare domains: shop.example.com/track
    let mut at = 0;
    while at < text.len() {
        let Some(c) = char_at(text, at) else { break };
        let starts_token = c.is_ascii_alphanumeric()
            && !char_before(text, at)
                .is_some_and(|p| is_word_char(p) || matches!(p, '.' | '@' | '/' | '-'));
        if !starts_token {
            at += c.len_utf8();
            continue;
        }
        let host_end = text[at..]
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '.' || c == '-'))
            .map_or(text.len(), |i| at + i);
        let host = text[at..host_end].trim_end_matches(['.', '-']);
        let labels: Vec<&str> = host.split('.').collect();
        let is_domain = labels.len() >= 2
            && labels.iter().all(|l| !l.is_empty())
            && labels
                .last()
                .is_some_and(|tld| TLDS.contains(&tld.to_ascii_lowercase().as_str()))
            && char_at(text, at + host.len()) != Some('@');
        if is_domain {
            let end = url_end(text, at).max(at + host.len());
            spans.push(Span {
                kind: Kind::Url,
                start: at,
                end,
            });
            at = end;
        } else {
            at = host_end.max(at + 1);
            while !text.is_char_boundary(at) {
                at += 1;
            }
        }
    }
}

fn local_part_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '%' | '+' | '-')
}

/// A character of an @mention's handle: letters and digits of alphabetic scripts,
/// `_`, `.` and `-` (a Chinese, Japanese or Korean word right after it is not part
/// of it).
fn handle_char(c: char) -> bool {
    (c.is_alphanumeric() && !is_cjk(c) && !is_hangul(c)) || matches!(c, '_' | '.' | '-')
}

fn emails_and_mentions(text: &str, spans: &mut Vec<Span>) {
    for (at, _) in text.match_indices('@') {
        // E-mail: local part before, a dotted domain after.
        let local_start = text[..at]
            .char_indices()
            .rev()
            .take_while(|(_, c)| local_part_char(*c))
            .last()
            .map_or(at, |(i, _)| i);
        let domain_end = text[at + 1..]
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '.' || c == '-'))
            .map_or(text.len(), |i| at + 1 + i);
        let domain = text[at + 1..domain_end].trim_end_matches(['.', '-']);
        let tld_ok = domain
            .rsplit('.')
            .next()
            .is_some_and(|t| t.len() >= 2 && t.chars().all(|c| c.is_ascii_alphabetic()));
        if local_start < at && domain.contains('.') && tld_ok {
            spans.push(Span {
                kind: Kind::Email,
                start: local_start,
                end: at + 1 + domain.len(),
            });
            continue;
        }
        // Mention: @ at the start of a word, then a handle.
        if char_before(text, at).is_some_and(is_word_char) {
            continue;
        }
        let handle_end = text[at + 1..]
            .find(|c: char| !handle_char(c))
            .map_or(text.len(), |i| at + 1 + i);
        let handle = text[at + 1..handle_end].trim_end_matches(['.', '-']);
        if handle
            .chars()
            .next()
            .is_some_and(|c| c.is_alphanumeric() || c == '_')
        {
            spans.push(Span {
                kind: Kind::Mention,
                start: at,
                end: at + 1 + handle.len(),
            });
        }
    }
}

/// Units after a number, longest first where one is a prefix of another.
const UNITS: &[&str] = &[
    "kWh", "mAh", "Mbps", "GHz", "MHz", "GB", "MB", "KB", "TB", "kg", "mg", "km", "cm", "mm", "ml",
    "lbs", "lb", "oz", "ft", "min", "hrs", "h", "g", "m", "l", "L", "EUR", "USD", "GBP", "MXN",
    "BRL", "JPY", "CNY", "KRW", "SAR", "%", "€", "$", "£", "¥", "₩", "円", "元", "원", "ريال",
];

/// Currency signs before an amount, longest first.
const CURRENCIES: &[&str] = &["US$", "MX$", "R$", "NT$", "€", "$", "£", "¥", "₩", "SAR "];

fn codes_and_quantities(text: &str, spans: &mut Vec<Span>) {
    // Tokens of letters, digits and code separators, delimited by anything else.
    let token_char =
        |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '/' | ':' | '.' | '_' | '#');
    let mut at = 0;
    while at < text.len() {
        let Some(c) = char_at(text, at) else { break };
        // Tokens start at a word's start, never inside a word ("Grüßen#12" holds "#12"
        // only as part of the word, not as a code of its own).
        if !token_char(c) || char_before(text, at).is_some_and(is_word_char) {
            at += c.len_utf8();
            continue;
        }
        // A decimal comma between digits belongs to the number: 49,90 €, ¥9,800.
        let mut end = at;
        for (i, c) in text[at..].char_indices() {
            let glue = c == ','
                && char_before(text, at + i).is_some_and(|p| p.is_ascii_digit())
                && char_at(text, at + i + 1).is_some_and(|n| n.is_ascii_digit());
            if !(token_char(c) || glue) {
                break;
            }
            end = at + i + c.len_utf8();
        }
        let token = text[at..end].trim_end_matches(['.', ':', '-', '/', '_']);
        let token_end = at + token.len();
        let digits = token.chars().filter(char::is_ascii_digit).count();
        let letters = token.chars().filter(char::is_ascii_alphabetic).count();
        let separators = token
            .chars()
            .filter(|c| matches!(c, '-' | '/' | ':' | '.'))
            .count();
        let hash_code = token
            .strip_prefix('#')
            .is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_alphanumeric()));
        let is_code = hash_code || digits > 0 && (letters > 0 || separators > 0 || digits >= 4);
        if is_code {
            spans.push(Span {
                kind: Kind::Reference,
                start: at,
                end: token_end,
            });
        }
        if digits > 0 && letters == 0 {
            quantity(text, at, token_end, spans);
        }
        at = end.max(at + 1);
    }
}

/// A number at `[start, end)`: protected with its unit or currency, if any.
fn quantity(text: &str, start: usize, end: usize, spans: &mut Vec<Span>) {
    let mut q_start = start;
    for currency in CURRENCIES {
        if text[..start].ends_with(currency) {
            q_start = start - currency.len();
            break;
        }
    }
    let mut q_end = end;
    let after = &text[end..];
    let (gap, rest) = match after
        .strip_prefix(' ')
        .or_else(|| after.strip_prefix('\u{a0}'))
    {
        Some(rest) => (after.len() - rest.len(), rest),
        None => (0, after),
    };
    for unit in UNITS {
        if let Some(tail) = rest.strip_prefix(unit) {
            let single_letter = unit.chars().count() == 1 && unit.chars().all(char::is_alphabetic);
            let delimited = !tail.chars().next().is_some_and(is_word_char);
            if delimited && !(single_letter && gap > 0 && !matches!(*unit, "g" | "m" | "l" | "L")) {
                q_end = end + gap + unit.len();
                break;
            }
        }
    }
    if q_start < start || q_end > end {
        spans.push(Span {
            kind: Kind::Quantity,
            start: q_start,
            end: q_end,
        });
    }
}

fn keep(text: &str, terms: &[String], spans: &mut Vec<Span>) {
    if terms.is_empty() {
        return;
    }
    let folded = Folded::new(text);
    for term in terms {
        let boundary = match Boundary::for_term(term) {
            Boundary::Word => Boundary::Word,
            _ => Boundary::None,
        };
        for (start, end) in folded.find_all(term, boundary) {
            spans.push(Span {
                kind: Kind::Keep,
                start,
                end,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(text: &str, keep: &[&str]) -> Vec<String> {
        let keep: Vec<String> = keep.iter().map(|s| (*s).to_owned()).collect();
        find(text, &keep)
            .iter()
            .map(|s| text[s.start..s.end].to_owned())
            .collect()
    }

    #[test]
    fn urls_with_and_without_scheme() {
        assert_eq!(
            found(
                "See https://example.com/a?b=1. Or www.example.org, or shop.example.com/x!",
                &[]
            ),
            [
                "https://example.com/a?b=1",
                "www.example.org",
                "shop.example.com/x"
            ]
        );
        assert!(found("e.g. node.js and Mr. Smith", &[]).is_empty());
    }

    #[test]
    fn a_url_keeps_its_own_parentheses_only() {
        assert_eq!(
            found("(see https://x.example/a_(b)).", &[]),
            ["https://x.example/a_(b)"]
        );
        assert_eq!(
            found("https://x.example/a)))", &[]),
            ["https://x.example/a"]
        );
    }

    #[test]
    fn hostile_drafts_are_scanned_in_linear_time() {
        // Each took minutes when a URL's parentheses were recounted per character,
        // or every "{{" searched the rest of the draft for its close.
        let closing = format!("https://a{}", ")".repeat(64 * 1024));
        for text in [closing, "{{}".repeat(20_000), "{%}".repeat(20_000)] {
            let started = std::time::Instant::now();
            let _ = find(&text, &[]);
            assert!(
                started.elapsed().as_secs() < 2,
                "{:?}… took {:?}",
                &text[..12],
                started.elapsed()
            );
        }
    }

    #[test]
    fn emails_and_mentions_differ() {
        assert_eq!(
            found("Write to support@example.com or ask @maria.", &[]),
            ["support@example.com", "@maria"]
        );
    }

    #[test]
    fn order_numbers_codes_dates() {
        assert_eq!(
            found(
                "Order #1234, ref ORD-2024-778, code A1B2C3 on 2024-05-01 at 14:30.",
                &[]
            ),
            ["#1234", "ORD-2024-778", "A1B2C3", "2024-05-01", "14:30"]
        );
    }

    #[test]
    fn quantities_with_units_and_currencies() {
        assert_eq!(
            found(
                "It weighs 5 kg, costs €10 or 12.50 USD, 25% off, 3 days, 49,90 €.",
                &[]
            ),
            ["5 kg", "€10", "12.50 USD", "25%", "49,90 €"]
        );
        assert_eq!(found("合計は3000円です。", &[]), ["3000円"]);
    }

    #[test]
    fn macros_code_and_keep_terms() {
        assert_eq!(
            found(
                "Hi {{customer.first_name}}, run `reset --all` on your iPhone!",
                &["iphone"]
            ),
            ["{{customer.first_name}}", "`reset --all`", "iPhone"]
        );
        assert_eq!(found("Crossdeskは便利です", &["Crossdesk"]), ["Crossdesk"]);
    }

    #[test]
    fn codes_next_to_cjk_text() {
        assert_eq!(found("ご注文#4471は発送済みです", &[]), ["#4471"]);
        assert_eq!(found("订单ORD-2024-778已发货", &[]), ["ORD-2024-778"]);
    }

    #[test]
    fn protection_round_trips() {
        let text = "Mail a@b.co, see `x!` and https://x.example/a!b 😊";
        let p = Protected::new(text, &[]).unwrap();
        assert!(!p.text.contains('@') && !p.text.contains('`'));
        assert_eq!(p.restore(&p.text), text);
        assert!(Protected::new("\u{100000}", &[]).is_none());
    }

    #[test]
    fn masking_keeps_offsets() {
        let text = "Go to www.example.com now";
        let spans = find(text, &[]);
        let m = masked(text, &spans);
        assert_eq!(m.len(), text.len());
        assert!(!m.contains("example"));
    }
}
