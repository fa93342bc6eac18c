//! Errors in the TOML files the sidecar and the bridge read, told without the
//! file's text. Those files hold tokens, secrets and database URLs, and an error
//! is printed and logged: `toml`'s own message quotes the offending line, and
//! serde's quotes a value of the wrong type (`invalid type: string "whsec_…"`).

/// Where `error` is in `text` (line and column, from 1) and what is wrong, with
/// any value serde quoted replaced by its kind.
pub fn describe(text: &str, error: &toml::de::Error) -> String {
    let message = without_values(error.message().trim_end());
    match error.span() {
        Some(span) => {
            let before = text.get(..span.start).unwrap_or(text);
            let line = before.matches('\n').count().saturating_add(1);
            let column = before
                .rsplit('\n')
                .next()
                .map_or(0, |start| start.chars().count())
                .saturating_add(1);
            format!("line {line}, column {column}: {message}")
        }
        None => message,
    }
}

/// `message` with the values serde quotes (`string "…"`, `integer `…``,
/// `unknown variant `…``, …) left out; field names and expectations stay.
fn without_values(message: &str) -> String {
    const QUOTED: [(&str, char); 6] = [
        ("string \"", '"'),
        ("unknown variant `", '`'),
        ("integer `", '`'),
        ("floating point `", '`'),
        ("boolean `", '`'),
        ("character `", '`'),
    ];
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    'scan: while !rest.is_empty() {
        for (prefix, close) in QUOTED {
            if let Some(quoted) = rest.strip_prefix(prefix) {
                let kind = prefix.trim_end_matches(['"', '`', ' ']);
                out.push_str(kind);
                // A string's value may hold escaped quotes; its end is the last
                // unescaped one.
                let mut escaped = false;
                let end = quoted.char_indices().find_map(|(i, c)| {
                    let found = c == close && !escaped;
                    escaped = close == '"' && c == '\\' && !escaped;
                    found.then_some(i)
                });
                rest = end.map_or("", |i| &quoted[i.saturating_add(1)..]);
                continue 'scan;
            }
        }
        let mut chars = rest.chars();
        if let Some(c) = chars.next() {
            out.push(c);
        }
        rest = chars.as_str();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct File {
        token: Option<String>,
        port: Option<u16>,
        tls: Option<bool>,
        mode: Option<Mode>,
    }

    #[derive(Debug, serde::Deserialize)]
    enum Mode {
        On,
    }

    fn error_of(text: &str) -> String {
        let error = toml::from_str::<File>(text).expect_err("invalid");
        describe(text, &error)
    }

    #[test]
    fn an_error_names_the_place_and_the_field_never_the_value() {
        let text = "port = 8080\ntokn = \"s3cr3t-value\"\n";
        assert_eq!(
            error_of(text),
            "line 2, column 1: unknown field `tokn`, expected one of `token`, `port`, `tls`, `mode`"
        );
        for text in [
            "token = 12345678\n",
            "port = \"s3cr3t \\\" value\"\n",
            "port = 7.5\n",
            "token = true\n",
            "port = 1\ntls = \"s3cr3t\n",
            "mode = \"s3cr3t\"\n",
        ] {
            let told = error_of(text);
            for secret in ["s3cr3t", "12345678", "7.5", "true"] {
                assert!(!told.contains(secret), "{text:?} told {told:?}");
            }
            assert!(told.starts_with("line "), "{told}");
        }
        assert_eq!(
            error_of("token = 12345678\n"),
            "line 1, column 9: invalid type: integer, expected a string"
        );
    }
}
