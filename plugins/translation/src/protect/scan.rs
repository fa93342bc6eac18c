//! Finding the spans a translation must keep: one pass over the message, each
//! position tried against every kind of span, bounded so that hostile input
//! stays linear.

use crate::memory::Glossary;

/// What a protected span is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A fenced or inline code span (backticks), or an HTML `code` or `pre` element.
    Code,
    /// A template macro: `{{customer.name}}`, `{% if %}`.
    Macro,
    /// An HTML tag or comment (the text between tags is translated).
    Html,
    /// An HTML character reference: `&nbsp;`, `&#8364;`.
    Entity,
    /// A URL, with or without a scheme (`https://…`, `www.…`, `shop.example.com/…`).
    Url,
    /// An e-mail address.
    Email,
    /// An `@mention`.
    Mention,
    /// An order number, code or reference: `#1234`, `#general`, `ORD-2024-778`,
    /// `A1B2C3`, dates, times, versions.
    OrderNumber,
    /// A number with a unit or currency: `5 kg`, `10 €`, `€10`, `3.5GB`, `25%`.
    Quantity,
    /// One or more emoji.
    Emoji,
    /// A do-not-translate glossary term.
    Keep,
    /// A forced glossary term, put back as its target term.
    Term,
}

/// One protected span of the source text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Span {
    /// What it is.
    pub kind: Kind,
    /// Byte range in the source text.
    pub start: usize,
    /// End of the byte range (exclusive).
    pub end: usize,
    /// What replaces it in the translation: the original text, or a forced term's
    /// target.
    pub restore: String,
    /// Whether it separates units (block-level HTML tags, fenced code).
    pub block: bool,
}

/// Where characters of no word meet: letters and digits of alphabetic scripts.
/// CJK characters count as separators, because those scripts put codes and
/// addresses right against their words.
fn is_word_char(c: char) -> bool {
    (c.is_alphanumeric() || c == '_') && !is_cjk(c)
}

fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x3000..=0x30FF       // CJK punctuation, hiragana, katakana
        | 0x3400..=0x4DBF     // CJK extension A
        | 0x4E00..=0x9FFF     // CJK unified ideographs
        | 0xAC00..=0xD7AF     // Hangul syllables
        | 0xF900..=0xFAFF     // CJK compatibility ideographs
        | 0xFF00..=0xFFEF     // full-width forms
        | 0x20000..=0x2FFFF)
}

fn is_emoji(c: char) -> bool {
    matches!(c as u32,
        0x1F000..=0x1FAFF     // pictographs, emoticons, transport, flags, symbols
        | 0x2600..=0x27BF     // miscellaneous symbols, dingbats
        | 0x2300..=0x23FF     // technical (⌚, ⏰)
        | 0x2B00..=0x2BFF     // arrows and stars (⭐)
        | 0x2190..=0x21FF     // arrows
        | 0x25A0..=0x25FF     // geometric shapes
        | 0x2934 | 0x2935 | 0x3030 | 0x303D | 0x3297 | 0x3299 | 0x2122 | 0x2139 | 0x24C2)
}

/// Characters that continue an emoji sequence without being emoji themselves.
fn is_emoji_joiner(c: char) -> bool {
    matches!(
        c as u32,
        0x200D                // zero-width joiner
        | 0xFE0E | 0xFE0F     // variation selectors
        | 0x20E3              // combining keycap
        | 0xE0020..=0xE007F
    ) // tag characters (subdivision flags)
}

fn is_block_tag(name: &str) -> bool {
    matches!(
        name,
        "p" | "div"
            | "br"
            | "hr"
            | "li"
            | "ul"
            | "ol"
            | "dl"
            | "dt"
            | "dd"
            | "h1"
            | "h2"
            | "h3"
            | "h4"
            | "h5"
            | "h6"
            | "table"
            | "thead"
            | "tbody"
            | "tfoot"
            | "tr"
            | "td"
            | "th"
            | "caption"
            | "blockquote"
            | "section"
            | "article"
            | "header"
            | "footer"
            | "nav"
            | "aside"
            | "main"
            | "figure"
            | "figcaption"
            | "form"
            | "fieldset"
            | "details"
            | "summary"
            | "address"
            | "center"
            | "html"
            | "head"
            | "body"
            | "title"
    )
}

/// Top-level domains recognised in addresses written without a scheme
/// (`shop.example.com`). Deliberately short: `e.g.` or `node.js` are no addresses.
const TLDS: &[&str] = &[
    "com", "org", "net", "edu", "gov", "io", "co", "dev", "app", "ai", "info", "biz", "shop",
    "store", "online", "site", "xyz", "tech", "us", "uk", "de", "fr", "es", "it", "nl", "be", "ch",
    "at", "pt", "br", "mx", "ar", "cl", "pe", "jp", "cn", "kr", "ru", "pl", "se", "dk", "fi", "ie",
    "ca", "au", "nz", "eu", "tv",
];

/// Units after a number, longest first where one is a prefix of another. Units of
/// one letter must touch the number (`5m`), except the common `m`, `g`, `l`, `L`.
const UNITS: &[&str] = &[
    "kWh", "mAh", "Mbps", "Gbps", "kbps", "GHz", "MHz", "kHz", "KiB", "MiB", "GiB", "TiB", "lbs",
    "gal", "min", "sec", "hrs", "dpi", "°C", "°F", "kg", "mg", "lb", "oz", "km", "cm", "mm", "mi",
    "ft", "yd", "ml", "mL", "cl", "dl", "KB", "kB", "MB", "GB", "TB", "PB", "Kb", "Mb", "Gb", "Ah",
    "Wh", "kW", "Hz", "px", "pt", "ms", "hr", "EUR", "USD", "GBP", "MXN", "BRL", "JPY", "CNY",
    "CHF", "CAD", "AUD", "INR", "%", "‰", "°", "€", "$", "£", "¥", "₹", "₽", "₩", "g", "m", "l",
    "L", "t", "s", "h", "W", "V", "A",
];

/// Units that may follow the number after one space.
fn unit_allows_space(unit: &str) -> bool {
    unit.chars().count() > 1
        || matches!(unit, "m" | "g" | "l" | "L")
        || !unit.starts_with(char::is_alphabetic)
}

/// Currency signs written before the amount, longest first.
const CURRENCY_PREFIXES: &[&str] = &[
    "US$", "MX$", "R$", "C$", "A$", "€", "$", "£", "¥", "₹", "₽", "₩",
];

/// Longest tag (`<a href="…">`), e-mail local part, domain, code or number the
/// scanner considers. Real ones are far shorter; the bounds keep a hostile message
/// (thousands of `<a '` or `a.a.a.`) from making the scan quadratic.
const MAX_TAG: usize = 2048;
const MAX_LOCAL_PART: usize = 64;
const MAX_DOMAIN: usize = 253;
const MAX_TOKEN: usize = 128;

/// A cursor over the text being scanned.
struct Scanner<'a> {
    text: &'a str,
    /// `text` with ASCII letters in lower case (same byte offsets).
    lower: String,
    glossary: Vec<(String, Option<String>)>,
    /// Where each closing marker last occurs, looked up once: an opener after it
    /// cannot close, and is dismissed without a search.
    last_closer: std::cell::RefCell<Vec<(String, Option<usize>)>>,
}

impl Scanner<'_> {
    fn char_at(&self, i: usize) -> Option<char> {
        self.text.get(i..).and_then(|s| s.chars().next())
    }

    fn char_before(&self, i: usize) -> Option<char> {
        self.text.get(..i).and_then(|s| s.chars().next_back())
    }

    fn word_start(&self, i: usize) -> bool {
        self.char_before(i).is_none_or(|c| !is_word_char(c))
    }

    fn word_end(&self, i: usize) -> bool {
        self.char_at(i).is_none_or(|c| !is_word_char(c))
    }

    fn rest(&self, i: usize) -> &str {
        self.text.get(i..).unwrap_or_default()
    }

    /// Up to `max` bytes of the text from `i` (cut at a character boundary).
    fn window(&self, i: usize, max: usize) -> &str {
        let rest = self.rest(i);
        let mut end = rest.len().min(max);
        while !rest.is_char_boundary(end) {
            end -= 1;
        }
        &rest[..end]
    }

    /// The first `closer` (compared without ASCII case) at or after `from`.
    fn find_closer(&self, from: usize, closer: &str) -> Option<usize> {
        let last = {
            let mut cache = self.last_closer.borrow_mut();
            match cache.iter().find(|(c, _)| c == closer) {
                Some((_, last)) => *last,
                None => {
                    let last = self.lower.rfind(closer);
                    cache.push((closer.to_owned(), last));
                    last
                }
            }
        };
        if last? < from {
            return None;
        }
        self.lower.get(from..)?.find(closer).map(|j| from + j)
    }

    /// The span starting at `i`, if any: (end, kind, block, restore override).
    fn span_at(&self, i: usize) -> Option<(usize, Kind, bool, Option<String>)> {
        let rest = self.rest(i);
        let c = rest.chars().next()?;
        let plain = |(end, kind): (usize, Kind)| (end, kind, false, None);
        match c {
            '`' => return self.code(i),
            '{' => return self.macro_(i).map(plain),
            '<' => return self.html(i),
            '&' => return self.entity(i).map(plain),
            _ => {}
        }
        if self.word_start(i) {
            if let Some(found) = self
                .url(i)
                .or_else(|| self.email(i))
                .or_else(|| self.bare_domain(i))
            {
                return Some(plain(found));
            }
            if c == '@'
                && let Some(found) = self.mention(i)
            {
                return Some(plain(found));
            }
            if let Some((end, restore)) = self.glossary_term(i) {
                let kind = if restore.is_some() {
                    Kind::Term
                } else {
                    Kind::Keep
                };
                return Some((end, kind, false, restore));
            }
            if let Some(found) = self.quantity(i).or_else(|| self.order_code(i)) {
                return Some(plain(found));
            }
        }
        self.emoji(i).map(plain)
    }

    fn code(&self, i: usize) -> Option<(usize, Kind, bool, Option<String>)> {
        let rest = self.rest(i);
        if let Some(body) = rest.strip_prefix("```") {
            // Unclosed fences run to the end: what follows is code as the author meant it.
            let end = body.find("```").map_or(self.text.len(), |j| i + 3 + j + 3);
            return Some((end, Kind::Code, true, None));
        }
        let body = rest.get(1..)?;
        let close = body.find(['`', '\n'])?;
        (body.get(close..)?.starts_with('`') && close > 0).then_some((
            i + 1 + close + 1,
            Kind::Code,
            false,
            None,
        ))
    }

    fn macro_(&self, i: usize) -> Option<(usize, Kind)> {
        let rest = self.rest(i);
        let close = if rest.starts_with("{{") {
            "}}"
        } else if rest.starts_with("{%") {
            "%}"
        } else {
            return None;
        };
        let j = self.find_closer(i + 2, close)?;
        Some((j + 2, Kind::Macro))
    }

    fn html(&self, i: usize) -> Option<(usize, Kind, bool, Option<String>)> {
        let rest = self.rest(i);
        if rest.starts_with("<!--") {
            let j = self.find_closer(i + 4, "-->")?;
            return Some((j + 3, Kind::Html, false, None));
        }
        let mut chars = self.window(i, MAX_TAG).char_indices().skip(1).peekable();
        let closing = chars.next_if(|(_, c)| *c == '/' || *c == '!').is_some();
        let (_, first) = *chars.peek()?;
        if !first.is_ascii_alphabetic() {
            return None;
        }
        let mut name = String::new();
        while let Some((_, c)) =
            chars.next_if(|(_, c)| c.is_ascii_alphanumeric() || *c == '-' || *c == ':')
        {
            name.push(c.to_ascii_lowercase());
        }
        // The rest of the tag, honouring quoted attribute values.
        let mut quote = None;
        let mut end = None;
        for (j, c) in chars {
            match (quote, c) {
                (Some(q), c) if c == q => quote = None,
                (Some(_), _) => {}
                (None, '"' | '\'') => quote = Some(c),
                (None, '>') => {
                    end = Some(i + j + 1);
                    break;
                }
                (None, '<') => return None,
                _ => {}
            }
        }
        let end = end?;
        // Code and scripts are content no one should translate: take the element whole.
        if !closing
            && matches!(
                name.as_str(),
                "code" | "pre" | "script" | "style" | "kbd" | "samp"
            )
            && let Some(after) = self.find_closer(end, &format!("</{name}"))
        {
            let gt = self
                .rest(after)
                .find('>')
                .map_or(self.text.len(), |k| after + k + 1);
            return Some((gt, Kind::Code, name == "pre", None));
        }
        Some((end, Kind::Html, is_block_tag(&name), None))
    }

    fn entity(&self, i: usize) -> Option<(usize, Kind)> {
        let body = self.window(i, 40).get(1..)?;
        let semi = body.find(';')?;
        let name = body.get(..semi)?;
        let ok = if let Some(num) = name.strip_prefix("#x").or_else(|| name.strip_prefix("#X")) {
            (1..=6).contains(&num.len()) && num.chars().all(|c| c.is_ascii_hexdigit())
        } else if let Some(num) = name.strip_prefix('#') {
            (1..=7).contains(&num.len()) && num.chars().all(|c| c.is_ascii_digit())
        } else {
            (2..=32).contains(&name.len())
                && name.starts_with(|c: char| c.is_ascii_alphabetic())
                && name.chars().all(|c| c.is_ascii_alphanumeric())
        };
        ok.then_some((i + 1 + semi + 1, Kind::Entity))
    }

    /// The end of an address's path starting at `from`: up to white space, markup
    /// or CJK text, without trailing punctuation or an unbalanced closing bracket.
    fn address_end(&self, from: usize) -> usize {
        let rest = self.rest(from);
        let mut end = from
            + rest
                .find(|c: char| {
                    c.is_whitespace() || matches!(c, '<' | '>' | '"' | '`') || is_cjk(c)
                })
                .unwrap_or(rest.len());
        let address = self.text.get(from..end).unwrap_or_default();
        let count = |c: char| address.matches(c).count();
        let (open_paren, mut close_paren) = (count('('), count(')'));
        let (open_bracket, mut close_bracket) = (count('['), count(']'));
        while let Some(last) = self.text.get(from..end).and_then(|s| s.chars().next_back()) {
            let strip = match last {
                '.' | ',' | ';' | ':' | '!' | '?' | '\'' | '*' => true,
                ')' if close_paren > open_paren => {
                    close_paren -= 1;
                    true
                }
                ']' if close_bracket > open_bracket => {
                    close_bracket -= 1;
                    true
                }
                _ => false,
            };
            if !strip {
                break;
            }
            end -= last.len_utf8();
        }
        end
    }

    fn url(&self, i: usize) -> Option<(usize, Kind)> {
        // Compared as bytes: the eighth byte may fall inside the host's first
        // character (`http://п…`).
        let head = self.rest(i).as_bytes();
        let prefix = ["https://", "http://", "ftp://", "mailto:", "www."]
            .into_iter()
            .find(|p| {
                head.get(..p.len())
                    .is_some_and(|h| h.eq_ignore_ascii_case(p.as_bytes()))
            })?;
        let end = self.address_end(i + prefix.len());
        (end > i + prefix.len()).then_some((end, Kind::Url))
    }

    /// `label.label.tld` at `i`, with the end of the domain.
    fn domain(&self, i: usize) -> Option<usize> {
        let rest = self.window(i, MAX_DOMAIN + 1);
        let len = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '.'))
            .unwrap_or(rest.len());
        if len > MAX_DOMAIN {
            return None;
        }
        let candidate = rest.get(..len)?.trim_end_matches(['.', '-']);
        let labels: Vec<&str> = candidate.split('.').collect();
        if labels.len() < 2 || labels.iter().any(|l| l.is_empty()) {
            return None;
        }
        let tld = labels.last()?;
        (tld.len() >= 2 && tld.chars().all(|c| c.is_ascii_alphabetic()))
            .then_some(i + candidate.len())
    }

    fn email(&self, i: usize) -> Option<(usize, Kind)> {
        let rest = self.window(i, MAX_LOCAL_PART + 1);
        let local = rest.find(|c: char| !(c.is_ascii_alphanumeric() || "._%+-".contains(c)))?;
        if local == 0 || !rest.get(local..)?.starts_with('@') {
            return None;
        }
        let end = self.domain(i + local + 1)?;
        self.word_end(end).then_some((end, Kind::Email))
    }

    fn bare_domain(&self, i: usize) -> Option<(usize, Kind)> {
        let end = self.domain(i)?;
        let domain = self.text.get(i..end)?;
        let written = domain.rsplit('.').next()?;
        // "it.It works", "Gracias.De verdad": a capitalised word after a full stop
        // with no space is a sentence's start, not a domain (written `de` or `DE`).
        let capitalised = written.starts_with(|c: char| c.is_ascii_uppercase())
            && written.chars().any(|c| c.is_ascii_lowercase());
        let tld = written.to_ascii_lowercase();
        if capitalised || !TLDS.contains(&tld.as_str()) || !self.word_end(end) {
            return None;
        }
        // A path or port makes it an address however it ends.
        if matches!(self.char_at(end), Some('/' | ':'))
            && self.char_at(end + 1).is_some_and(|c| !c.is_whitespace())
        {
            return Some((self.address_end(end), Kind::Url));
        }
        Some((end, Kind::Url))
    }

    fn mention(&self, i: usize) -> Option<(usize, Kind)> {
        let body = self.window(i, MAX_TOKEN + 2).get(1..)?;
        let len = body
            .find(|c: char| !(is_word_char(c) || c == '.' || c == '-'))
            .unwrap_or(body.len());
        if len > MAX_TOKEN {
            return None;
        }
        let name = body.get(..len)?.trim_end_matches(['.', '-']);
        name.starts_with(is_word_char)
            .then_some((i + 1 + name.len(), Kind::Mention))
    }

    /// A glossary term at `i` (case ignored, whole words): its end, and the target
    /// term for a forced term (`None` for a do-not-translate term).
    fn glossary_term(&self, i: usize) -> Option<(usize, Option<String>)> {
        let rest = self.rest(i);
        for (term, target) in &self.glossary {
            let Some(len) = match_ignoring_case(rest, term) else {
                continue;
            };
            let end = i + len;
            let edge_ok =
                term.chars().next_back().is_none_or(|c| !is_word_char(c)) || self.word_end(end);
            if !edge_ok {
                continue;
            }
            let restore = target.as_ref().map(|target| {
                // "Refund" at the start of a sentence becomes "Reembolso", not "reembolso".
                let source_upper = rest.chars().next().is_some_and(char::is_uppercase);
                let mut chars = target.chars();
                match chars.next() {
                    Some(first) if source_upper && first.is_lowercase() => {
                        first.to_uppercase().chain(chars).collect()
                    }
                    _ => target.clone(),
                }
            });
            return Some((end, restore));
        }
        None
    }

    /// A number with a currency sign before it or a unit after it.
    fn quantity(&self, i: usize) -> Option<(usize, Kind)> {
        let rest = self.rest(i);
        let mut at = i;
        let mut prefixed = false;
        if let Some(p) = CURRENCY_PREFIXES.iter().find(|p| rest.starts_with(**p)) {
            at += p.len();
            prefixed = true;
            if self.char_at(at) == Some(' ') {
                at += 1;
            }
        }
        let mut end = self.number(at)?;
        // A range: 5-10 kg.
        if matches!(self.char_at(end), Some('-' | '–')) {
            let dash = self.char_at(end).map_or(1, char::len_utf8);
            if let Some(e) = self.number(end + dash) {
                end = e;
            }
        }
        if let Some(e) = self.unit(end) {
            return Some((e, Kind::Quantity));
        }
        (prefixed && self.word_end(end)).then_some((end, Kind::Quantity))
    }

    /// Digits with `.`, `,` or `'` between groups, starting at `i`.
    fn number(&self, i: usize) -> Option<usize> {
        let bytes = self.text.as_bytes();
        let mut j = i;
        if !bytes.get(j).is_some_and(u8::is_ascii_digit) {
            return None;
        }
        while j < bytes.len() {
            let separator = matches!(bytes[j], b'.' | b',' | b'\'')
                && bytes.get(j + 1).is_some_and(u8::is_ascii_digit);
            if !(bytes[j].is_ascii_digit() || separator) {
                break;
            }
            j += 1;
            if j - i > MAX_TOKEN {
                return None;
            }
        }
        Some(j)
    }

    fn unit(&self, i: usize) -> Option<usize> {
        let spaced = self
            .rest(i)
            .strip_prefix([' ', '\u{a0}', '\u{202f}'])
            .map(|_| i + self.char_at(i).map_or(1, char::len_utf8));
        for (at, space) in [(Some(i), false), (spaced, true)] {
            let Some(at) = at else { continue };
            let rest = self.rest(at);
            for unit in UNITS {
                if !rest.starts_with(unit) || (space && !unit_allows_space(unit)) {
                    continue;
                }
                let end = at + unit.len();
                let needs_boundary = unit.ends_with(|c: char| c.is_alphanumeric());
                if !needs_boundary || self.word_end(end) {
                    return Some(end);
                }
            }
        }
        None
    }

    /// `#1234`, `#general`, `ORD-2024-778`, `A1B2C3`, `2024-05-01`, `v2.3.1`: ASCII
    /// letters and digits, with `-_/.:` between them, after a `#` or holding a digit
    /// and a letter or separator. Ordinals (`1st`, `22nd`) are words.
    fn order_code(&self, i: usize) -> Option<(usize, Kind)> {
        let bytes = self.text.as_bytes();
        let hash = bytes.get(i) == Some(&b'#');
        let mut j = i + usize::from(hash);
        let (mut digit, mut letter, mut sep) = (false, false, false);
        if !bytes.get(j).is_some_and(u8::is_ascii_alphanumeric) {
            return None;
        }
        while j < bytes.len() {
            let b = bytes[j];
            if b.is_ascii_digit() {
                digit = true;
            } else if b.is_ascii_alphabetic() {
                letter = true;
            } else if matches!(b, b'-' | b'_' | b'/' | b'.' | b':')
                && bytes.get(j + 1).is_some_and(u8::is_ascii_alphanumeric)
            {
                sep = true;
            } else {
                break;
            }
            j += 1;
            if j - i > MAX_TOKEN {
                return None;
            }
        }
        // `#` makes any token a reference (`#4471`, `#general`); otherwise a digit must be
        // there with a letter or a separator.
        if !(hash || digit && (letter || sep)) || !self.word_end(j) {
            return None;
        }
        let token = self.text.get(i..j)?;
        let ordinal = !hash && !sep && {
            let suffix = token
                .trim_start_matches(|c: char| c.is_ascii_digit())
                .to_ascii_lowercase();
            token.len() > suffix.len() && matches!(suffix.as_str(), "st" | "nd" | "rd" | "th")
        };
        (!ordinal).then_some((j, Kind::OrderNumber))
    }

    fn emoji(&self, i: usize) -> Option<(usize, Kind)> {
        let rest = self.rest(i);
        let mut chars = rest.char_indices().peekable();
        let (_, first) = *chars.peek()?;
        // A keycap: 1️⃣ is a digit, a variation selector and a combining keycap.
        let keycap = (first.is_ascii_digit() || first == '#' || first == '*')
            && rest
                .chars()
                .nth(1)
                .is_some_and(|c| c == '\u{fe0f}' || c == '\u{20e3}');
        if !is_emoji(first) && !keycap {
            return None;
        }
        let mut end = 0;
        for (j, c) in chars {
            if j == 0 || is_emoji(c) || is_emoji_joiner(c) {
                end = j + c.len_utf8();
            } else {
                break;
            }
        }
        Some((i + end, Kind::Emoji))
    }
}

/// The byte length of `term` at the start of `text`, comparing characters without
/// case; `None` if `text` does not start with it.
fn match_ignoring_case(text: &str, term: &str) -> Option<usize> {
    let mut len = 0;
    let mut text_chars = text.chars();
    for t in term.chars() {
        let c = text_chars.next()?;
        if c != t && !c.to_lowercase().eq(t.to_lowercase()) {
            return None;
        }
        len += c.len_utf8();
    }
    Some(len)
}

/// `text` with each protected span (a URL, an e-mail address, a code) made one
/// space: the prose that detection reads and unknown words are taken from.
///
/// ```
/// let prose = translation::protect::prose("mi correo es maria.lopez@gmail.com, ok");
/// assert_eq!(prose, "mi correo es  , ok");
/// ```
pub fn prose(text: &str) -> String {
    let mut prose = String::with_capacity(text.len());
    let mut at = 0;
    for span in find_spans(text, &Glossary::default()) {
        prose.push_str(text.get(at..span.start).unwrap_or_default());
        prose.push(' ');
        at = span.end;
    }
    prose.push_str(text.get(at..).unwrap_or_default());
    prose
}

/// Finds the protected spans of `text`, in order and without overlap.
///
/// ```
/// use translation::protect::{find_spans, Kind};
/// let text = "Order #4471 ships to ana@example.com 📦";
/// let spans = find_spans(text, &Default::default());
/// let found: Vec<_> = spans.iter().map(|s| (s.kind, &text[s.start..s.end])).collect();
/// assert_eq!(found, [(Kind::OrderNumber, "#4471"), (Kind::Email, "ana@example.com"), (Kind::Emoji, "📦")]);
/// ```
pub fn find_spans(text: &str, glossary: &Glossary) -> Vec<Span> {
    let mut terms: Vec<(String, Option<String>)> = glossary
        .terms
        .iter()
        .map(|(s, t)| (s.clone(), Some(t.clone())))
        .chain(glossary.keep.iter().map(|k| (k.clone(), None)))
        .filter(|(s, _)| !s.trim().is_empty())
        .collect();
    // Longest first, so "order number" wins over "order".
    terms.sort_by_key(|(term, _)| std::cmp::Reverse(term.chars().count()));
    let scanner = Scanner {
        text,
        lower: text.to_ascii_lowercase(),
        glossary: terms,
        last_closer: Default::default(),
    };
    let mut spans = Vec::new();
    let mut i = 0;
    while i < text.len() {
        if let Some((end, kind, block, restore)) = scanner.span_at(i)
            && end > i
        {
            spans.push(Span {
                kind,
                start: i,
                end,
                restore: restore.unwrap_or_else(|| text[i..end].to_owned()),
                block,
            });
            i = end;
            continue;
        }
        i += scanner.char_at(i).map_or(1, char::len_utf8);
    }
    spans
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(text: &str) -> Vec<(Kind, &str)> {
        found_with(text, &Glossary::default())
    }

    fn found_with<'a>(text: &'a str, glossary: &Glossary) -> Vec<(Kind, &'a str)> {
        find_spans(text, glossary)
            .into_iter()
            .map(|s| (s.kind, &text[s.start..s.end]))
            .collect()
    }

    #[test]
    fn addresses() {
        assert_eq!(
            found(
                "see https://x.example/a?b=1&c=2. Or (http://y.example/p_(1)), or www.z.example!"
            ),
            [
                (Kind::Url, "https://x.example/a?b=1&c=2"),
                (Kind::Url, "http://y.example/p_(1)"),
                (Kind::Url, "www.z.example"),
            ]
        );
        assert_eq!(
            found("mail ana.b+x@mail.example.com."),
            [(Kind::Email, "ana.b+x@mail.example.com")]
        );
        assert_eq!(
            found("shop.example.com/a/b, example.org"),
            [
                (Kind::Url, "shop.example.com/a/b"),
                (Kind::Url, "example.org"),
            ]
        );
        // Not addresses: abbreviations, file names, sentences without a space.
        assert!(found("e.g. node.js i.e. arrived.Thanks").is_empty());
        // A missing space after a full stop makes no address of the next word.
        assert!(found("I fixed it.It works. Gracias.De verdad").is_empty());
        assert_eq!(
            found("see EXAMPLE.DE or shop.example.de"),
            [(Kind::Url, "EXAMPLE.DE"), (Kind::Url, "shop.example.de")]
        );
        assert_eq!(found("https:// alone"), []);
        // CJK text around an address.
        assert_eq!(
            found("詳細はhttps://x.example/aをご覧ください"),
            [(Kind::Url, "https://x.example/a")]
        );
    }

    #[test]
    fn an_address_with_a_non_ascii_host_is_kept_whole() {
        let text = "pague en http://пример.рф/оплата hoy";
        assert!(
            found(text).contains(&(Kind::Url, "http://пример.рф/оплата")),
            "{:?}",
            found(text)
        );
    }

    #[test]
    fn references_and_codes() {
        assert_eq!(
            found("#4471, ORD-2024-778; A1B2C3 and #general"),
            [
                (Kind::OrderNumber, "#4471"),
                (Kind::OrderNumber, "ORD-2024-778"),
                (Kind::OrderNumber, "A1B2C3"),
                (Kind::OrderNumber, "#general"),
            ]
        );
        assert_eq!(
            found("at 10:30 on 2024-05-01, v2.3.1"),
            [
                (Kind::OrderNumber, "10:30"),
                (Kind::OrderNumber, "2024-05-01"),
                (Kind::OrderNumber, "v2.3.1"),
            ]
        );
        // Ordinals, plain numbers and words are no codes; C# is no reference.
        assert!(found("the 1st and 22nd of 2024, 3ème, C# code").is_empty());
        assert_eq!(found("注文A1B2C3です"), [(Kind::OrderNumber, "A1B2C3")]);
    }

    #[test]
    fn quantities() {
        assert_eq!(
            found("5 kg, 10 €, €10, 3.5GB, 25%, US$ 25, 1,200.50 USD, 5-10 kg, 65W, 2 mins"),
            [
                (Kind::Quantity, "5 kg"),
                (Kind::Quantity, "10 €"),
                (Kind::Quantity, "€10"),
                (Kind::Quantity, "3.5GB"),
                (Kind::Quantity, "25%"),
                (Kind::Quantity, "US$ 25"),
                (Kind::Quantity, "1,200.50 USD"),
                (Kind::Quantity, "5-10 kg"),
                (Kind::Quantity, "65W"),
            ]
        );
        // A one-letter unit after a space is a word: "5 A" is no quantity.
        assert!(found("grade 5 A and 3 s").is_empty());
    }

    #[test]
    fn markup_code_and_macros() {
        assert_eq!(
            found("<p class=\"a>b\">Hi</p> &nbsp; &#233; <!-- x --> a < b, <3"),
            [
                (Kind::Html, "<p class=\"a>b\">"),
                (Kind::Html, "</p>"),
                (Kind::Entity, "&nbsp;"),
                (Kind::Entity, "&#233;"),
                (Kind::Html, "<!-- x -->"),
            ]
        );
        assert_eq!(
            found("run `a b` or ``` x\ny ``` {{ a.b }} {% if x %}"),
            [
                (Kind::Code, "`a b`"),
                (Kind::Code, "``` x\ny ```"),
                (Kind::Macro, "{{ a.b }}"),
                (Kind::Macro, "{% if x %}"),
            ]
        );
        // Unclosed: a lone backtick or brace is text; an open fence runs to the end.
        assert!(found("it`s {{ open").is_empty());
        assert_eq!(found("a ```b\nc"), [(Kind::Code, "```b\nc")]);
        assert_eq!(
            found("<CODE>x y</code> z"),
            [(Kind::Code, "<CODE>x y</code>")]
        );
    }

    #[test]
    fn mentions_and_emoji() {
        assert_eq!(
            found("@maria and @john.smith. 👍🏽 👨‍👩‍👧 🇲🇽 1️⃣ ok"),
            [
                (Kind::Mention, "@maria"),
                (Kind::Mention, "@john.smith"),
                (Kind::Emoji, "👍🏽"),
                (Kind::Emoji, "👨‍👩‍👧"),
                (Kind::Emoji, "🇲🇽"),
                (Kind::Emoji, "1️⃣"),
            ]
        );
    }

    #[test]
    fn glossary_terms_match_whole_words_without_case() {
        let glossary = Glossary {
            keep: vec!["Crossdesk".into(), "返金".into()],
            terms: vec![
                ("order".into(), "pedido".into()),
                ("order number".into(), "número de pedido".into()),
            ],
        };
        assert_eq!(
            found_with(
                "Crossdesk crossdesks CROSSDESK order number, orders, Order 返金について",
                &glossary
            ),
            [
                (Kind::Keep, "Crossdesk"),
                (Kind::Keep, "CROSSDESK"),
                (Kind::Term, "order number"),
                (Kind::Term, "Order"),
                (Kind::Keep, "返金"),
            ]
        );
        let spans = find_spans("Order now", &glossary);
        assert_eq!(spans[0].restore, "Pedido", "capitalised like the source");
    }

    #[test]
    fn hostile_input_is_scanned_in_linear_time() {
        // Each would take minutes if every opener searched the rest of the text.
        for unit in [
            "{{", "<!--", "<a '", "a.", "1.", "&a", "<code>", "x@", "@a.", "`a ",
        ] {
            let text = unit.repeat(64 * 1024 / unit.len());
            let started = std::time::Instant::now();
            let _ = find_spans(&text, &Glossary::default());
            assert!(
                started.elapsed().as_secs() < 2,
                "{unit:?} took {:?}",
                started.elapsed()
            );
        }
    }
}
