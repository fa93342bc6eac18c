//! Typed settings: each setting a plugin reads, declared once in Rust with its type,
//! bounds, default and documentation, then put in the manifest
//! ([`Manifest::setting`](crate::Manifest::setting)) and read back typed.
//!
//! Declarations are `const`: a wrong key, an empty range or a default that does not
//! fit the type stops the build, not a tenant's first event. The manifest carries
//! the declaration in the contract's grammar (`max_suggestions: int(1..10)`), which
//! the host checks every tenant's value against before the plugin ever runs.
//!
//! ```
//! use crossdesk_sdk::{Setting, settings, testing::MockHost};
//!
//! /// How many products to suggest at most.
//! const MAX_SUGGESTIONS: Setting = Setting::int("max_suggestions").range(1, 10).default("3");
//! const TONE: Setting = Setting::one_of("tone", &["formal", "casual"]).default("formal");
//!
//! let _host = MockHost::new().setting("tone", "casual").install();
//! // One host call for several settings.
//! let read = settings::read();
//! assert_eq!(read.int(&MAX_SUGGESTIONS).unwrap(), 3);
//! assert_eq!(read.text(&TONE).unwrap(), "casual");
//! assert_eq!(MAX_SUGGESTIONS.declaration(), "max_suggestions: int(1..10)");
//! ```
//!
//! These do not build:
//!
//! ```compile_fail
//! // An empty range.
//! const N: crossdesk_sdk::Setting = crossdesk_sdk::Setting::int("n").range(5, 1);
//! ```
//!
//! ```compile_fail
//! // A default that is not one of the words.
//! const TONE: crossdesk_sdk::Setting =
//!     crossdesk_sdk::Setting::one_of("tone", &["formal", "casual"]).default("rude");
//! ```
//!
//! ```compile_fail
//! // A key the host would refuse.
//! const K: crossdesk_sdk::Setting = crossdesk_sdk::Setting::text("two words");
//! ```
//!
//! ```compile_fail
//! // A word given twice.
//! const TONE: crossdesk_sdk::Setting =
//!     crossdesk_sdk::Setting::one_of("tone", &["formal", "formal"]);
//! ```

use crate::PluginError;

/// One setting a plugin reads. Build it with a `const` constructor
/// ([`Setting::text`], [`Setting::int`], ...) and the `const` refinements
/// ([`Setting::range`], [`Setting::default`], [`Setting::doc`]).
///
/// ```
/// const GREETING: crossdesk_sdk::Setting =
///     crossdesk_sdk::Setting::text("greeting").doc("Opens every note").default("Hello");
/// assert_eq!(GREETING.key, "greeting");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Setting {
    /// The key tenants set (ASCII letters, digits, `_`, `-`, `.`).
    pub key: &'static str,
    /// The type of its value.
    pub kind: SettingKind,
    /// The value when a tenant sets none.
    pub default: Option<&'static str>,
    /// One line on what it does ([`Setting::doc`]).
    pub doc: &'static str,
}

/// The type of a setting's value, as the contract's grammar names it.
///
/// ```
/// use crossdesk_sdk::{Setting, SettingKind};
/// assert_eq!(Setting::bool("dry_run").kind, SettingKind::Bool);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SettingKind {
    /// `string`: any text.
    Text,
    /// `bool`: `true` or `false`.
    Bool,
    /// `int(MIN..MAX)`: a 64-bit integer within inclusive, optional bounds.
    Int {
        /// The smallest accepted value, if bounded below.
        min: Option<i64>,
        /// The largest accepted value, if bounded above.
        max: Option<i64>,
    },
    /// `url`: an absolute `http://` or `https://` URL.
    Url,
    /// `language`: one language tag such as `pt-BR`.
    Language,
    /// `languages`: comma-separated language tags.
    Languages,
    /// `one-of(a|b)`: exactly one of the words.
    OneOf(&'static [&'static str]),
    /// `list`: comma-separated free text.
    List,
}

impl Setting {
    const fn new(key: &'static str, kind: SettingKind) -> Setting {
        check_key(key);
        Setting {
            key,
            kind,
            default: None,
            doc: "",
        }
    }

    /// A setting of any text.
    ///
    /// ```
    /// assert_eq!(crossdesk_sdk::Setting::text("signature").declaration(), "signature: string");
    /// ```
    pub const fn text(key: &'static str) -> Setting {
        Setting::new(key, SettingKind::Text)
    }

    /// `true` or `false`.
    ///
    /// ```
    /// assert_eq!(crossdesk_sdk::Setting::bool("dry_run").declaration(), "dry_run: bool");
    /// ```
    pub const fn bool(key: &'static str) -> Setting {
        Setting::new(key, SettingKind::Bool)
    }

    /// A 64-bit integer; bound it with [`Setting::range`].
    ///
    /// ```
    /// assert_eq!(crossdesk_sdk::Setting::int("retries").declaration(), "retries: int");
    /// ```
    pub const fn int(key: &'static str) -> Setting {
        Setting::new(
            key,
            SettingKind::Int {
                min: None,
                max: None,
            },
        )
    }

    /// An absolute `http://` or `https://` URL.
    ///
    /// ```
    /// assert_eq!(crossdesk_sdk::Setting::url("engine_url").declaration(), "engine_url: url");
    /// ```
    pub const fn url(key: &'static str) -> Setting {
        Setting::new(key, SettingKind::Url)
    }

    /// One language tag, such as `es` or `pt-BR`.
    ///
    /// ```
    /// assert_eq!(crossdesk_sdk::Setting::language("agent").declaration(), "agent: language");
    /// ```
    pub const fn language(key: &'static str) -> Setting {
        Setting::new(key, SettingKind::Language)
    }

    /// Comma-separated language tags.
    ///
    /// ```
    /// assert_eq!(crossdesk_sdk::Setting::languages("pivots").declaration(), "pivots: languages");
    /// ```
    pub const fn languages(key: &'static str) -> Setting {
        Setting::new(key, SettingKind::Languages)
    }

    /// Exactly one of `words`.
    ///
    /// ```
    /// let tone = crossdesk_sdk::Setting::one_of("tone", &["formal", "casual"]);
    /// assert_eq!(tone.declaration(), "tone: one-of(formal|casual)");
    /// ```
    pub const fn one_of(key: &'static str, words: &'static [&'static str]) -> Setting {
        assert!(
            !words.is_empty(),
            "a one-of setting needs at least one word"
        );
        let mut i = 0;
        while i < words.len() {
            assert!(!words[i].is_empty(), "a one-of word may not be empty");
            let mut j = 0;
            while j < words[i].len() {
                let c = words[i].as_bytes()[j];
                assert!(
                    !c.is_ascii_whitespace() && c != b',' && c != b'(' && c != b')' && c != b'|',
                    "a one-of word may not contain spaces, commas, parentheses or '|'"
                );
                j += 1;
            }
            let mut k = 0;
            while k < i {
                assert!(!eq(words[k], words[i]), "a one-of word is given twice");
                k += 1;
            }
            i += 1;
        }
        Setting::new(key, SettingKind::OneOf(words))
    }

    /// Comma-separated free text.
    ///
    /// ```
    /// assert_eq!(crossdesk_sdk::Setting::list("vip_ids").declaration(), "vip_ids: list");
    /// ```
    pub const fn list(key: &'static str) -> Setting {
        Setting::new(key, SettingKind::List)
    }

    /// Bounds an integer setting, both inclusive.
    ///
    /// ```
    /// let s = crossdesk_sdk::Setting::int("max").range(1, 50);
    /// assert_eq!(s.declaration(), "max: int(1..50)");
    /// ```
    pub const fn range(mut self, min: i64, max: i64) -> Setting {
        assert!(
            matches!(self.kind, SettingKind::Int { .. }),
            "only an int setting has a range"
        );
        assert!(min <= max, "a setting's range is empty: min > max");
        self.kind = SettingKind::Int {
            min: Some(min),
            max: Some(max),
        };
        self
    }

    /// The value when a tenant sets none. A bool's, an int's (within its range)
    /// and a one-of's are checked when the declaration is built, so at compile
    /// time for a `const`; the others when the setting is read, as a tenant's
    /// value is.
    ///
    /// ```
    /// let s = crossdesk_sdk::Setting::bool("dry_run").default("false");
    /// assert_eq!(s.default, Some("false"));
    /// ```
    pub const fn default(mut self, value: &'static str) -> Setting {
        match self.kind {
            SettingKind::Bool => assert!(
                eq(value, "true") || eq(value, "false"),
                "a bool setting's default is true or false"
            ),
            SettingKind::Int { min, max } => {
                let n = parse_int(value);
                if let Some(min) = min {
                    assert!(n >= min, "a setting's default is below its range");
                }
                if let Some(max) = max {
                    assert!(n <= max, "a setting's default is above its range");
                }
            }
            SettingKind::OneOf(words) => {
                let mut i = 0;
                let mut found = false;
                while i < words.len() {
                    found = found || eq(words[i], value);
                    i += 1;
                }
                assert!(found, "a one-of setting's default is not one of its words");
            }
            _ => {}
        }
        self.default = Some(value);
        self
    }

    /// One line on what the setting does, for the plugin's own code and docs:
    /// the contract carries no description of a setting, so admins do not see
    /// it (say it in the plugin's README).
    ///
    /// ```
    /// let s = crossdesk_sdk::Setting::text("greeting").doc("Opens every note");
    /// assert_eq!(s.doc, "Opens every note");
    /// ```
    pub const fn doc(mut self, doc: &'static str) -> Setting {
        self.doc = doc;
        self
    }

    /// The declaration the manifest carries, in the contract's grammar.
    ///
    /// ```
    /// let s = crossdesk_sdk::Setting::int("n").range(-5, 5);
    /// assert_eq!(s.declaration(), "n: int(-5..5)");
    /// ```
    pub fn declaration(&self) -> String {
        let ty = match self.kind {
            SettingKind::Text => "string".to_owned(),
            SettingKind::Bool => "bool".to_owned(),
            SettingKind::Int { min, max } => match (min, max) {
                (None, None) => "int".to_owned(),
                (min, max) => format!(
                    "int({}..{})",
                    min.map(|n| n.to_string()).unwrap_or_default(),
                    max.map(|n| n.to_string()).unwrap_or_default()
                ),
            },
            SettingKind::Url => "url".to_owned(),
            SettingKind::Language => "language".to_owned(),
            SettingKind::Languages => "languages".to_owned(),
            SettingKind::OneOf(words) => format!("one-of({})", words.join("|")),
            SettingKind::List => "list".to_owned(),
        };
        format!("{}: {ty}", self.key)
    }
}

/// Several settings read with one host call ([`settings::read`](crate::settings::read)),
/// each then taken typed, with its default when the tenant set none.
///
/// ```
/// use crossdesk_sdk::{Setting, settings, testing::MockHost};
/// const DRY_RUN: Setting = Setting::bool("dry_run").default("false");
/// let _host = MockHost::new().setting("dry_run", "true").install();
/// assert!(settings::read().bool(&DRY_RUN).unwrap());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SettingValues(pub(crate) Vec<(String, String)>);

impl SettingValues {
    /// The setting's text: the tenant's value, else its default.
    ///
    /// ```
    /// use crossdesk_sdk::{Setting, SettingValues};
    /// const G: Setting = Setting::text("greeting").default("Hello");
    /// assert_eq!(SettingValues::default().text(&G).unwrap(), "Hello");
    /// ```
    pub fn text(&self, setting: &Setting) -> Result<String, PluginError> {
        self.0
            .iter()
            .find(|(key, _)| key == setting.key)
            .map(|(_, value)| value.clone())
            .or_else(|| setting.default.map(str::to_owned))
            .ok_or_else(|| PluginError::new(format!("setting '{}' is not set", setting.key)))
    }

    /// The setting as an integer, within its range.
    ///
    /// ```
    /// use crossdesk_sdk::{Setting, SettingValues};
    /// const N: Setting = Setting::int("n").range(1, 9).default("4");
    /// assert_eq!(SettingValues::default().int(&N).unwrap(), 4);
    /// ```
    pub fn int(&self, setting: &Setting) -> Result<i64, PluginError> {
        let text = self.text(setting)?;
        let n: i64 = text.parse().map_err(|_| invalid(setting, &text))?;
        if let SettingKind::Int { min, max } = setting.kind
            && (min.is_some_and(|min| n < min) || max.is_some_and(|max| n > max))
        {
            return Err(invalid(setting, &text));
        }
        Ok(n)
    }

    /// The setting as `true` or `false`.
    ///
    /// ```
    /// use crossdesk_sdk::{Setting, SettingValues};
    /// const B: Setting = Setting::bool("b").default("true");
    /// assert!(SettingValues::default().bool(&B).unwrap());
    /// ```
    pub fn bool(&self, setting: &Setting) -> Result<bool, PluginError> {
        let text = self.text(setting)?;
        text.parse().map_err(|_| invalid(setting, &text))
    }

    /// The setting as a list (`languages`, `list`): comma-separated, trimmed, empty
    /// items dropped.
    ///
    /// ```
    /// use crossdesk_sdk::{Setting, SettingValues};
    /// const L: Setting = Setting::languages("pivots").default("en, fr");
    /// assert_eq!(SettingValues::default().list(&L).unwrap(), ["en", "fr"]);
    /// ```
    pub fn list(&self, setting: &Setting) -> Result<Vec<String>, PluginError> {
        Ok(self
            .text(setting)?
            .split(',')
            .map(str::trim)
            .filter(|item| !item.is_empty())
            .map(str::to_owned)
            .collect())
    }
}

fn invalid(setting: &Setting, value: &str) -> PluginError {
    PluginError::new(format!(
        "setting '{}' is {value:?}, not a valid {}",
        setting.key,
        setting.declaration()
    ))
}

/// Stops the build on a key the host would refuse.
const fn check_key(key: &str) {
    assert!(!key.is_empty(), "a setting's key may not be empty");
    let bytes = key.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        assert!(
            c.is_ascii_alphanumeric() || c == b'_' || c == b'-' || c == b'.',
            "a setting's key may only contain ASCII letters, digits, '_', '-' and '.'"
        );
        i += 1;
    }
}

const fn eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// An `i64` in decimal, for a default checked at compile time.
const fn parse_int(text: &str) -> i64 {
    let bytes = text.as_bytes();
    assert!(!bytes.is_empty(), "an int setting's default is a number");
    let negative = bytes[0] == b'-';
    let mut i = if negative { 1 } else { 0 };
    assert!(i < bytes.len(), "an int setting's default is a number");
    let mut n: i64 = 0;
    while i < bytes.len() {
        let c = bytes[i];
        assert!(c.is_ascii_digit(), "an int setting's default is a number");
        let digit = (c - b'0') as i64;
        let next = match n.checked_mul(10) {
            Some(tens) if negative => tens.checked_sub(digit),
            Some(tens) => tens.checked_add(digit),
            None => None,
        };
        let Some(next) = next else {
            panic!("an int setting's default does not fit in 64 bits")
        };
        n = next;
        i += 1;
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declarations_read_back_in_the_hosts_grammar() {
        assert_eq!(
            Setting::int("a").range(i64::MIN, 0).declaration(),
            format!("a: int({}..0)", i64::MIN)
        );
        assert_eq!(parse_int("-9223372036854775808"), i64::MIN);
        assert_eq!(parse_int("42"), 42);
    }

    #[test]
    fn a_value_outside_the_type_is_an_error_naming_the_setting() {
        const N: Setting = Setting::int("max").range(1, 5);
        let values = SettingValues(vec![("max".into(), "9".into())]);
        let error = values.int(&N).unwrap_err();
        assert!(error.message.contains("'max'"), "{}", error.message);
        assert!(
            SettingValues::default().int(&N).is_err(),
            "no value, no default"
        );
    }

    #[test]
    #[should_panic(expected = "above its range")]
    fn a_default_outside_the_range_is_refused() {
        let _ = Setting::int("n").range(1, 5).default("6");
    }

    #[test]
    #[should_panic(expected = "may only contain")]
    fn a_bad_key_is_refused() {
        let _ = Setting::text("not a key");
    }
}
