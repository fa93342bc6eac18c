//! HTML drafts: helpdesks such as Zendesk hand over rich drafts (`html_body`), and
//! an HTML draft must come back as HTML.
//!
//! No event field says a draft is HTML, so the draft says it: it is HTML when it
//! starts with a block-level tag (`<p`, `<div`, `<br`, `<table` …; [`is_html`]). The
//! rules that frame the reply — `greeting.add`, the openers, `closing.add` and
//! `honorific.add` — then judge the text as the customer reads it ([`View`]: tags
//! removed, block tags as line breaks, character references decoded) and write what
//! they add as HTML: a paragraph of its own with the text escaped ([`paragraph`]).
//! Reading HTML is [`crossdesk_text::html`]'s; this module places what the rules
//! add between its blocks.

use crossdesk_text::html::tag_at;
pub use crossdesk_text::html::{View, escape, is_html};

/// Elements a formula is never put outside of, nor into the middle of: the document
/// and table cells. Every other tag next to the insertion point is stepped over, so
/// the formula's `<p>` sits between blocks, not inside a paragraph.
const CONTAINERS: &[&str] = &[
    "body", "html", "table", "tbody", "td", "tfoot", "th", "thead", "tr",
];

/// A formula as a paragraph of its own: escaped, its line breaks as `<br>`.
///
/// ```
/// assert_eq!(tone::html::paragraph("Dear Ms O'Neil & Co,"), "<p>Dear Ms O'Neil &amp; Co,</p>");
/// assert_eq!(tone::html::paragraph("山田様\nいつも"), "<p>山田様<br>いつも</p>");
/// ```
pub fn paragraph(formula: &str) -> String {
    let lines: Vec<String> = formula.lines().map(escape).collect();
    format!("<p>{}</p>", lines.join("<br>"))
}

/// Where a paragraph goes in front of the text starting at `at`: back over the tags
/// (and white space) right before it, except a container's, so it does not open a
/// paragraph inside another.
pub fn before_block(html: &str, at: usize) -> usize {
    let mut at = at.min(html.len());
    loop {
        let head = html[..at].trim_end();
        if !head.ends_with('>') {
            return if head.is_empty() { 0 } else { at };
        }
        // The tag that ends there.
        let Some(open) = head.rfind('<') else {
            return at;
        };
        match tag_at(html, open) {
            Some((end, name, closing))
                if end == head.len() && !closing && !CONTAINERS.contains(&name.as_str()) =>
            {
                at = open;
            }
            Some((end, name, _)) if end == head.len() && name == "br" => at = open,
            _ => return at,
        }
    }
}

/// Where a paragraph goes after the text ending at `at`: on over the closing tags
/// (and line breaks and white space) right after it, except a container's.
pub fn after_block(html: &str, at: usize) -> usize {
    let mut at = at.min(html.len());
    loop {
        let rest = &html[at..];
        let skipped = rest.len() - rest.trim_start().len();
        let next = at + skipped;
        match tag_at(html, next) {
            Some((end, name, closing))
                if (closing && !CONTAINERS.contains(&name.as_str())) || name == "br" =>
            {
                at = end;
            }
            _ => return at,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paragraphs_go_between_blocks() {
        let html = "<html><body><div><p>Body</p></div></body></html>";
        let body = html.find("Body").expect("body");
        assert_eq!(before_block(html, body), "<html><body>".len());
        let end = after_block(html, body + 4);
        assert_eq!(&html[end..], "</body></html>");
        assert_eq!(before_block("<p>Body</p>", 3), 0);
        let html = "<p>Thanks</p><p>-- <br>Acme</p>";
        let sig = html.find("--").expect("signature");
        assert_eq!(&html[before_block(html, sig)..], "<p>-- <br>Acme</p>");
    }
}
