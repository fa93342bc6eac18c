//! The markup the engines receive: text escaped as HTML and every span an empty
//! element `<xN/>`, and back.

/// Escapes text for the markup the engines receive.
///
/// ```
/// assert_eq!(translation::protect::escape("a < b & c"), "a &lt; b &amp; c");
/// ```
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

/// Undoes [`escape`], and the other references an engine may write (`&quot;`,
/// `&#39;`, numeric ones). Anything else is left as it is.
///
/// ```
/// assert_eq!(translation::protect::unescape("a &lt; b &amp;amp; &#233;"), "a < b &amp; é");
/// ```
pub fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        let decoded = rest.get(1..).and_then(|body| {
            let semi = body.find(';').filter(|&s| s <= 10)?;
            let name = &body[..semi];
            let c = match name {
                "amp" => '&',
                "lt" => '<',
                "gt" => '>',
                "quot" => '"',
                "apos" => '\'',
                _ => {
                    let num = name.strip_prefix('#')?;
                    let code = match num.strip_prefix(['x', 'X']) {
                        Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                        None => num.parse().ok()?,
                    };
                    char::from_u32(code)?
                }
            };
            Some((c, semi + 2))
        });
        match decoded {
            Some((c, len)) => {
                out.push(c);
                rest = &rest[len..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Parses `<xN/>`, `<xN>`, `<xN />` or `</xN>` at the start of `s`: (N, closing,
/// length).
pub(super) fn parse_placeholder(s: &str) -> Option<(usize, bool, usize)> {
    let body = s.strip_prefix('<')?;
    let (closing, body) = match body.strip_prefix('/') {
        Some(b) => (true, b),
        None => (false, body),
    };
    let body = body.strip_prefix(['x', 'X'])?;
    let digits = body
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(body.len());
    let index = body.get(..digits)?.parse().ok()?;
    let tail = &body[digits..];
    let trimmed = tail.trim_start();
    let tail_len = tail.len() - trimmed.len();
    let close_len = if trimmed.starts_with("/>") && !closing {
        2
    } else if trimmed.starts_with('>') {
        1
    } else {
        return None;
    };
    Some((index, closing, s.len() - tail.len() + tail_len + close_len))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_round_trips() {
        for text in ["a < b & c > d", "&amp; literally", "&#x41;", "plain"] {
            assert_eq!(unescape(&escape(text)), text);
        }
        assert_eq!(
            unescape("&bogus; & &#xZZ; &#1114112;"),
            "&bogus; & &#xZZ; &#1114112;"
        );
    }

    #[test]
    fn placeholders_are_parsed_in_the_forms_engines_return() {
        assert_eq!(parse_placeholder("<x0/>"), Some((0, false, 5)));
        assert_eq!(parse_placeholder("<x12 />rest"), Some((12, false, 7)));
        assert_eq!(parse_placeholder("<x3>"), Some((3, false, 4)));
        assert_eq!(parse_placeholder("</x3>"), Some((3, true, 5)));
        assert_eq!(parse_placeholder("<xy/>"), None);
        assert_eq!(parse_placeholder("<x1 a=b/>"), None);
    }
}
