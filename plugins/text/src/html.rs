//! HTML as its reader sees it: helpdesks hand over rich text (Zendesk's
//! `html_body`, knowledge-base articles), and what a plugin judges, quotes or
//! rewrites in it is the text a customer reads.
//!
//! [`View`] reads HTML into that text (tags removed, block tags as line breaks,
//! character references decoded, white space as spaces), each character
//! remembering the bytes it comes from, so that an edit of the text can be made
//! in the HTML ([`View::splice`], [`View::replace_line`]); [`to_text`] is the
//! text alone, laid out for a plain-text channel. The parser is deliberately
//! small: it knows tags, comments, `script`/`style` contents and character
//! references, which is all a reply draft or an article holds.

/// Elements that start a new line where they open or close.
const BLOCKS: &[&str] = &[
    "address",
    "article",
    "aside",
    "blockquote",
    "body",
    "br",
    "dd",
    "div",
    "dl",
    "dt",
    "figcaption",
    "figure",
    "footer",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hr",
    "html",
    "li",
    "main",
    "ol",
    "p",
    "pre",
    "section",
    "table",
    "tbody",
    "td",
    "tfoot",
    "th",
    "thead",
    "tr",
    "ul",
];

/// Elements whose contents are not text the customer reads.
const HIDDEN: &[&str] = &["head", "script", "style", "title"];

/// Whether `text` is an HTML draft: it starts (after white space) with a block-level
/// tag, a doctype or a comment.
///
/// ```
/// use crossdesk_text::html::is_html;
/// assert!(is_html("<p>Hi Maria,</p><p>Your order has shipped.</p>"));
/// assert!(is_html("  <DIV class=\"x\">Hello</DIV>"));
/// assert!(is_html("<br/>Hello"));
/// assert!(!is_html("Hi Maria,\n\nUse <b> for bold."));
/// assert!(!is_html("<3 thanks"));
/// ```
pub fn is_html(text: &str) -> bool {
    let t = text.trim_start();
    let Some(rest) = t.strip_prefix('<') else {
        return false;
    };
    if rest
        .get(..8)
        .is_some_and(|d| d.eq_ignore_ascii_case("!doctype"))
        || rest.starts_with("!--")
    {
        return true;
    }
    let name: String = rest
        .chars()
        .take_while(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect();
    let after = rest[name.len()..].chars().next();
    BLOCKS.contains(&name.as_str())
        && after.is_none_or(|c| c == '>' || c == '/' || c.is_whitespace())
}

/// `text` escaped for HTML content.
///
/// ```
/// assert_eq!(crossdesk_text::html::escape("Tom & \"Jerry\" <3"), "Tom &amp; &quot;Jerry&quot; &lt;3");
/// ```
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    out
}

/// One character of the view and the bytes of the draft it stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Piece {
    /// Its byte offset in [`View::text`].
    at: usize,
    /// The draft's bytes it comes from: the character itself, a character
    /// reference, or a block tag (a line break).
    start: usize,
    end: usize,
}

/// An HTML draft as the customer reads it: tags removed, a line break for every
/// block tag, character references decoded, white space as spaces; each character
/// remembers the bytes of the draft it comes from.
///
/// ```
/// let view = crossdesk_text::html::View::new("<p>Hi Maria,</p><p>Caf&eacute; &amp; more</p>");
/// assert_eq!(view.text, "\nHi Maria,\n\nCafé & more\n");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct View {
    /// The readable text.
    pub text: String,
    pieces: Vec<Piece>,
    len: usize,
}

/// The byte after the tag, comment or declaration starting with `<` at `at`, if
/// there is one there, and the element's name (lower case; empty for comments and
/// declarations) with whether it is a closing tag.
pub fn tag_at(html: &str, at: usize) -> Option<(usize, String, bool)> {
    let rest = html.get(at..)?.strip_prefix('<')?;
    if let Some(comment) = rest.strip_prefix("!--") {
        let end = comment.find("-->").map_or(html.len(), |i| at + 4 + i + 3);
        return Some((end, String::new(), false));
    }
    let (closing, body) = match rest.strip_prefix('/') {
        Some(b) => (true, b),
        None => (false, rest),
    };
    let first = body.chars().next()?;
    if !(first.is_ascii_alphabetic() || (!closing && matches!(first, '!' | '?'))) {
        return None;
    }
    // To the first `>` outside quotes.
    let mut quote: Option<char> = None;
    let mut end = None;
    for (i, c) in rest.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '>') => {
                end = Some(at + 1 + i + 1);
                break;
            }
            (None, _) => {}
        }
    }
    let name = body
        .chars()
        .take_while(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect();
    Some((end?, name, closing))
}

/// The character reference starting with `&` at `at`: its end and the character.
fn reference_at(html: &str, at: usize) -> Option<(usize, char)> {
    let rest = html.get(at..)?.strip_prefix('&')?;
    let semi = rest.char_indices().take(12).find(|(_, c)| *c == ';')?.0;
    let name = &rest[..semi];
    let c = if let Some(num) = name.strip_prefix('#') {
        let code = match num.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok()?,
            None => num.parse().ok()?,
        };
        // A control character (`&#0;`, the C1 range) is no text: the reference
        // stays as written.
        char::from_u32(code).filter(|c| !c.is_control())?
    } else {
        match name {
            "amp" => '&',
            "lt" => '<',
            "gt" => '>',
            "quot" => '"',
            "apos" => '\'',
            "nbsp" => ' ',
            "ndash" => '–',
            "mdash" => '—',
            "hellip" => '…',
            "laquo" => '«',
            "raquo" => '»',
            "lsquo" => '‘',
            "rsquo" => '’',
            "ldquo" => '“',
            "rdquo" => '”',
            "euro" => '€',
            "iexcl" => '¡',
            "iquest" => '¿',
            "szlig" => 'ß',
            "ntilde" => 'ñ',
            "ccedil" => 'ç',
            "eacute" => 'é',
            "egrave" => 'è',
            "aacute" => 'á',
            "agrave" => 'à',
            "iacute" => 'í',
            "oacute" => 'ó',
            "uacute" => 'ú',
            "auml" => 'ä',
            "ouml" => 'ö',
            "uuml" => 'ü',
            "Auml" => 'Ä',
            "Ouml" => 'Ö',
            "Uuml" => 'Ü',
            "Eacute" => 'É',
            "Ntilde" => 'Ñ',
            "copy" => '©',
            "reg" => '®',
            "trade" => '™',
            "deg" => '°',
            "middot" => '·',
            "bull" => '•',
            _ => return None,
        }
    };
    Some((at + 1 + semi + 1, c))
}

impl View {
    /// Reads an HTML draft.
    pub fn new(html: &str) -> View {
        let mut text = String::with_capacity(html.len());
        let mut pieces = Vec::with_capacity(html.len());
        let mut push = |text: &mut String, c: char, start: usize, end: usize| {
            pieces.push(Piece {
                at: text.len(),
                start,
                end,
            });
            text.push(c);
        };
        let mut at = 0;
        while let Some(c) = html.get(at..).and_then(|s| s.chars().next()) {
            if c == '<'
                && let Some((end, name, closing)) = tag_at(html, at)
            {
                if BLOCKS.contains(&name.as_str()) {
                    push(&mut text, '\n', at, end);
                }
                at = end;
                if !closing && HIDDEN.contains(&name.as_str()) {
                    // Up to the element's closing tag.
                    let lower = html[at..].to_ascii_lowercase();
                    at = lower
                        .find(&format!("</{name}"))
                        .map_or(html.len(), |i| at + i);
                }
                continue;
            }
            if c == '&'
                && let Some((end, decoded)) = reference_at(html, at)
            {
                push(&mut text, decoded, at, end);
                at = end;
                continue;
            }
            let end = at + c.len_utf8();
            let c = if c.is_whitespace() { ' ' } else { c };
            push(&mut text, c, at, end);
            at = end;
        }
        View {
            text,
            pieces,
            len: html.len(),
        }
    }

    /// The piece at view offset `at`.
    fn piece(&self, at: usize) -> Option<&Piece> {
        self.pieces
            .binary_search_by_key(&at, |p| p.at)
            .ok()
            .and_then(|i| self.pieces.get(i))
    }

    /// Where the view's character at `at` starts in the draft (the draft's end at the
    /// view's end).
    pub fn source_start(&self, at: usize) -> usize {
        self.piece(at).map_or(self.len, |p| p.start)
    }

    /// Where the view's character ending at `at` ends in the draft (the draft's start
    /// at the view's start).
    pub fn source_end(&self, at: usize) -> usize {
        self.text
            .get(..at)
            .and_then(|head| head.char_indices().next_back())
            .and_then(|(i, _)| self.piece(i))
            .map_or(0, |p| p.end)
    }

    /// The draft with the view's range `[start, end)` replaced by `with` (escaped).
    /// `None` when the range crosses a tag or a character reference, whose bytes
    /// are not the text's.
    pub fn splice(&self, html: &str, start: usize, end: usize, with: &str) -> Option<String> {
        let (from, to) = if start == end {
            let at = self.source_end(start);
            (at, at)
        } else {
            (self.source_start(start), self.source_end(end))
        };
        let original = html.get(from..to)?;
        if original.contains(['<', '>', '&']) || from > to {
            return None;
        }
        Some(format!("{}{}{}", &html[..from], escape(with), &html[to..]))
    }

    /// The draft with `line` (a view range) rewritten into `new_line`: only the part
    /// that differs is replaced, so the tags around and inside the line stay.
    pub fn replace_line(
        &self,
        html: &str,
        (start, end): (usize, usize),
        new_line: &str,
    ) -> Option<String> {
        let old = self.text.get(start..end)?;
        let prefix: usize = old
            .chars()
            .zip(new_line.chars())
            .take_while(|(a, b)| a == b)
            .map(|(a, _)| a.len_utf8())
            .sum();
        let suffix: usize = old[prefix..]
            .chars()
            .rev()
            .zip(new_line[prefix..].chars().rev())
            .take_while(|(a, b)| a == b)
            .map(|(a, _)| a.len_utf8())
            .sum();
        let with = &new_line[prefix..new_line.len() - suffix];
        self.splice(html, start + prefix, end - suffix, with)
    }
}

/// The text of `html` as a plain-text channel shows it: lines trimmed, runs of
/// spaces as one, at most one blank line between paragraphs.
///
/// ```
/// use crossdesk_text::html::to_text;
/// assert_eq!(
///     to_text("<h2>Returns</h2>\n<p>Send it back within <b>30&nbsp;days</b>.</p><ul><li>Free</li><li>Easy</li></ul>"),
///     "Returns\n\nSend it back within 30 days.\n\nFree\n\nEasy"
/// );
/// ```
pub fn to_text(html: &str) -> String {
    let view = View::new(html);
    let mut out = String::with_capacity(view.text.len());
    let mut blank = false;
    for line in view.text.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        if words.is_empty() {
            blank = !out.is_empty();
            continue;
        }
        if !out.is_empty() {
            out.push_str(if blank { "\n\n" } else { "\n" });
        }
        out.push_str(&words.join(" "));
        blank = false;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_view_reads_text_lines_and_references() {
        let html = "<div style=\"a>b\"><p>Dear Ms O&#39;Neil,</p>\n<!-- x --><p>Tom&nbsp;&amp; Jerry<br>ship<b>ped</b>.</p><style>p{}</style></div>";
        let view = View::new(html);
        assert_eq!(
            view.text,
            "\n\nDear Ms O'Neil,\n \nTom & Jerry\nshipped.\n\n"
        );
        let (s, e) = (2, 2 + "Dear Ms O'Neil,".len());
        assert_eq!(&view.text[s..e], "Dear Ms O'Neil,");
        assert_eq!(
            &html[view.source_start(s)..view.source_end(e)],
            "Dear Ms O&#39;Neil,"
        );
    }

    #[test]
    fn references_decode_to_text_and_controls_stay_as_written() {
        assert_eq!(
            View::new("&copy; &Uuml;ber &#0; &#150;").text,
            "© Über &#0; &#150;"
        );
    }

    #[test]
    fn a_line_is_rewritten_where_it_differs() {
        let html = "<p><b>Dear</b> Anna,</p><p>Hi</p>";
        let view = View::new(html);
        let line = (1, 1 + "Dear Anna,".len());
        assert_eq!(
            view.replace_line(html, line, "Dear Ms Smith & Co,")
                .as_deref(),
            Some("<p><b>Dear</b> Ms Smith &amp; Co,</p><p>Hi</p>")
        );
        assert_eq!(
            view.replace_line(html, line, "Hello Anna,").as_deref(),
            Some("<p><b>Hello</b> Anna,</p><p>Hi</p>")
        );
        // Across a tag: not rewritten.
        assert_eq!(view.replace_line(html, line, "Deax Bnna,"), None);
    }
}
