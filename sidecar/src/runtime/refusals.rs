//! A call's refusals of capabilities: what its outcome names (`DENIED`) and what
//! the log says. Bounded: a plugin looping on a refused request, each naming a
//! URL of its own making, fills neither the host's memory nor its logs. And
//! [`one_line`], which keeps what a plugin wrote (a refusal's URL, a log line)
//! to one line of the host's log.

/// Refusals kept per call; later ones are dropped (the first is the one the
/// outcome names).
const KEPT: usize = 8;
/// Longest refusal kept, in bytes: a refusal names what was asked for.
const LONGEST: usize = 512;

/// The first refusals of one call.
#[derive(Debug, Default)]
pub(super) struct Refusals {
    kept: Vec<String>,
}

impl Refusals {
    /// Records `what`, cut to [`LONGEST`] bytes; returns it so cut, and whether
    /// it was kept (the first [`KEPT`] are, and only those are worth a log line).
    pub(super) fn record(&mut self, what: &str) -> (String, bool) {
        let what = shortened(what);
        let kept = self.kept.len() < KEPT;
        if kept {
            self.kept.push(what.clone());
        }
        (what, kept)
    }

    pub(super) fn clear(&mut self) {
        self.kept.clear();
    }

    pub(super) fn iter(&self) -> impl Iterator<Item = &String> {
        self.kept.iter()
    }
}

/// `text` cut at a character boundary to at most [`LONGEST`] bytes, marked `…`.
fn shortened(text: &str) -> String {
    cut_to(text, LONGEST)
}

/// Longest error of a plugin's own that the host passes on, in bytes.
const LONGEST_ERROR: usize = 2048;

/// A plugin's own error message as the host passes it on (the event's outcome,
/// a fail-closed status, the log): on one line ([`one_line`]) and cut to
/// [`LONGEST_ERROR`] bytes. It would otherwise bypass the output and log
/// limits: the plugin writes it, as long as it likes.
pub(super) fn plugin_error(message: &str) -> String {
    cut_to(&one_line(message), LONGEST_ERROR)
}

/// `text` cut at a character boundary to at most `longest` bytes, marked `…`.
fn cut_to(text: &str, longest: usize) -> String {
    if text.len() <= longest {
        return text.to_owned();
    }
    let cut = text.floor_char_boundary(longest.saturating_sub('…'.len_utf8()));
    format!("{}…", &text[..cut])
}

/// `text` on one line: control characters (line breaks among them) escaped, so
/// that a plugin's log line cannot pass for lines of the host's own.
pub(super) fn one_line(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return text.into();
    }
    text.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect::<String>()
        .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plugins_error_is_one_line_and_cut() {
        let error = format!(
            "bad\n2026-12-07T00:00:00Z ERROR forged {}",
            "x".repeat(1 << 20)
        );
        let passed = plugin_error(&error);
        assert!(passed.len() <= LONGEST_ERROR, "{}", passed.len());
        assert!(passed.starts_with("bad\\n2026"), "{passed:.40}");
        assert!(!passed.contains('\n'));
        assert_eq!(plugin_error("short"), "short");
    }

    #[test]
    fn only_the_first_refusals_are_kept_and_each_is_cut() {
        let mut refusals = Refusals::default();
        let long = format!("fetch of https://x.example/{}", "é".repeat(1 << 20));
        for i in 0..10_000 {
            let (what, kept) = refusals.record(&long);
            assert_eq!(kept, i < KEPT);
            assert!(
                what.len() <= LONGEST && what.ends_with('…'),
                "{}",
                what.len()
            );
        }
        assert_eq!(refusals.iter().count(), KEPT);
        refusals.clear();
        assert_eq!(refusals.iter().count(), 0);
        assert_eq!(refusals.record("short").0, "short");
    }

    #[test]
    fn a_log_line_stays_one_line() {
        assert_eq!(one_line("plain, ünïcode 日本"), "plain, ünïcode 日本");
        assert_eq!(
            one_line("ok\n2026-12-06T00:00:00Z ERROR forged\r\u{1b}[31m"),
            "ok\\n2026-12-06T00:00:00Z ERROR forged\\r\\u{1b}[31m"
        );
    }
}
