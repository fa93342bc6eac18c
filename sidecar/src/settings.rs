//! Typed declarations of the configuration keys a plugin reads.
//!
//! A plugin's manifest lists the settings it reads as declarations of the form
//! `name` or `name: type` (whitespace around `:` is optional). This module owns that
//! grammar: parsing a declaration into a [`KeySpec`], printing a type back
//! ([`ValueKind`]'s `Display`), checking one value against its type
//! ([`KeySpec::check`]) and checking a whole set of settings against the declarations
//! ([`validate`]).
//!
//! Types:
//!
//! | type | accepted values |
//! |------|-----------------|
//! | `string` (default) | any text |
//! | `bool` | `true` or `false` |
//! | `int`, `int(MIN..MAX)` | an `i64` within the inclusive bounds; either bound may be omitted |
//! | `url` | an absolute `http://` or `https://` URL with a host, that the host's URL parser reads |
//! | `language` | a language tag such as `en`, `pt-BR`, `zh-Hant-TW` |
//! | `languages` | comma-separated language tags; the empty string is the empty list |
//! | `one-of(a\|b\|c)` | exactly one of the listed words |
//! | `list` | comma-separated free text |
//!
//! Values are checked as given, without trimming, so that a value that passes
//! [`KeySpec::check`] also parses with the standard library (`str::parse::<i64>()`,
//! `str::parse::<bool>()`). Lists are split with [`list_items`].

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

/// The longest value quoted back in an error message, in characters.
const MAX_QUOTED_CHARS: usize = 80;

/// One declared setting: its key and the type of its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeySpec {
    /// The key, as it appears in the settings (ASCII letters, digits, `_`, `-`, `.`).
    pub name: String,
    /// The type its value must have.
    pub kind: ValueKind,
}

/// The type of a setting's value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ValueKind {
    /// `string`: any text (the type when a declaration has none).
    Text,
    /// `bool`: `true` or `false`.
    Bool,
    /// `int` or `int(MIN..MAX)`: a 64-bit integer within inclusive, optional bounds.
    Int {
        /// The smallest accepted value, if bounded below.
        min: Option<i64>,
        /// The largest accepted value, if bounded above.
        max: Option<i64>,
    },
    /// `url`: an absolute `http://` or `https://` URL with a host.
    Url,
    /// `language`: one language tag, such as `en` or `pt-BR`.
    Language,
    /// `languages`: comma-separated language tags (empty text = no languages).
    Languages,
    /// `one-of(a|b|c)`: exactly one of the listed words.
    OneOf(Vec<String>),
    /// `list`: comma-separated free text; every value is accepted.
    List,
}

/// Why a setting declaration in a manifest could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpecError {
    /// Nothing before the `:` (or an empty declaration).
    #[error("setting declaration '{declaration}' has no key name; write `name` or `name: type`")]
    EmptyName {
        /// The declaration as written.
        declaration: String,
    },
    /// The key name has a character outside the allowed set.
    #[error(
        "setting declaration '{declaration}': key name '{name}' may only contain ASCII letters, \
         digits, '_', '-' and '.'"
    )]
    BadName {
        /// The declaration as written.
        declaration: String,
        /// The offending name.
        name: String,
    },
    /// The type is not one of the known types.
    #[error(
        "setting declaration '{declaration}': unknown type '{ty}'; expected string, bool, int, \
         int(MIN..MAX), url, language, languages, one-of(a|b|...) or list"
    )]
    UnknownType {
        /// The declaration as written.
        declaration: String,
        /// The type as written.
        ty: String,
    },
    /// The type is known but its parameters are wrong, e.g. `int(5..1)` or `one-of()`.
    #[error("setting declaration '{declaration}': {reason}")]
    BadType {
        /// The declaration as written.
        declaration: String,
        /// What is wrong with the type's parameters.
        reason: String,
    },
    /// The same key is declared twice (see [`parse_specs`]).
    #[error("setting '{name}' is declared more than once")]
    Duplicate {
        /// The key declared twice.
        name: String,
    },
}

/// A setting that is not declared, or whose value does not have the declared type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("setting '{key}': {reason}")]
pub struct SettingError {
    /// The setting's key.
    pub key: String,
    /// Why it was refused.
    pub reason: String,
}

impl KeySpec {
    /// Parses a declaration `name` or `name: type`.
    ///
    /// The error names the declaration and says what is wrong with it.
    pub fn parse(declaration: &str) -> Result<KeySpec, SpecError> {
        let (name, ty) = match declaration.split_once(':') {
            Some((name, ty)) => (name.trim(), Some(ty.trim())),
            None => (declaration.trim(), None),
        };
        if name.is_empty() {
            return Err(SpecError::EmptyName {
                declaration: declaration.to_owned(),
            });
        }
        if !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        {
            return Err(SpecError::BadName {
                declaration: declaration.to_owned(),
                name: name.to_owned(),
            });
        }
        let kind = match ty {
            None => ValueKind::Text,
            Some(ty) => parse_kind(ty).map_err(|problem| match problem {
                KindProblem::Unknown => SpecError::UnknownType {
                    declaration: declaration.to_owned(),
                    ty: ty.to_owned(),
                },
                KindProblem::Bad(reason) => SpecError::BadType {
                    declaration: declaration.to_owned(),
                    reason,
                },
            })?,
        };
        Ok(KeySpec {
            name: name.to_owned(),
            kind,
        })
    }

    /// Checks `value` against the declared type.
    ///
    /// `Err` holds a reason meant for a person, such as
    /// `expected one of apertium, libretranslate, deepl, got 'foo'`.
    pub fn check(&self, value: &str) -> Result<(), String> {
        match &self.kind {
            ValueKind::Text | ValueKind::List => Ok(()),
            ValueKind::Bool => match value {
                "true" | "false" => Ok(()),
                _ => Err(format!("expected true or false, got {}", quote(value))),
            },
            ValueKind::Int { min, max } => check_int(value, *min, *max),
            ValueKind::Url => check_url(value).map_err(|why| {
                if has_credentials(value) {
                    // Never echo a password into logs.
                    format!("expected an http:// or https:// URL: {why}")
                } else {
                    format!(
                        "expected an http:// or https:// URL, got {}: {why}",
                        quote(value)
                    )
                }
            }),
            ValueKind::Language => check_language(value).map_err(|why| {
                format!(
                    "expected a language tag such as 'en' or 'pt-BR', got {}: {why}",
                    quote(value)
                )
            }),
            ValueKind::Languages => check_languages(value),
            ValueKind::OneOf(words) => {
                if words.iter().any(|word| word == value) {
                    Ok(())
                } else {
                    Err(format!(
                        "expected one of {}, got {}",
                        words.join(", "),
                        quote(value)
                    ))
                }
            }
        }
    }
}

impl fmt::Display for KeySpec {
    /// Prints the declaration back, e.g. `max_length: int(1..500)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.name, self.kind)
    }
}

impl fmt::Display for ValueKind {
    /// Prints the type in the declaration grammar, e.g. `int(1..500)` or `one-of(a|b)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ValueKind::Text => f.write_str("string"),
            ValueKind::Bool => f.write_str("bool"),
            ValueKind::Int {
                min: None,
                max: None,
            } => f.write_str("int"),
            ValueKind::Int { min, max } => {
                f.write_str("int(")?;
                if let Some(min) = min {
                    write!(f, "{min}")?;
                }
                f.write_str("..")?;
                if let Some(max) = max {
                    write!(f, "{max}")?;
                }
                f.write_str(")")
            }
            ValueKind::Url => f.write_str("url"),
            ValueKind::Language => f.write_str("language"),
            ValueKind::Languages => f.write_str("languages"),
            ValueKind::OneOf(words) => write!(f, "one-of({})", words.join("|")),
            ValueKind::List => f.write_str("list"),
        }
    }
}

/// Parses every declaration of a manifest, refusing a key declared twice.
pub fn parse_specs<S: AsRef<str>>(declarations: &[S]) -> Result<Vec<KeySpec>, SpecError> {
    let mut seen = BTreeSet::new();
    let mut specs = Vec::with_capacity(declarations.len());
    for declaration in declarations {
        let spec = KeySpec::parse(declaration.as_ref())?;
        if !seen.insert(spec.name.clone()) {
            return Err(SpecError::Duplicate { name: spec.name });
        }
        specs.push(spec);
    }
    Ok(specs)
}

/// Checks every setting against the declarations.
///
/// A key that is not declared is refused with an error naming it and listing the
/// declared keys; a value of the wrong type is refused with an error naming the key
/// and saying why. Declared keys absent from `settings` are fine: settings are
/// optional. The first problem (in key order) is reported.
pub fn validate(
    specs: &[KeySpec],
    settings: &BTreeMap<String, String>,
) -> Result<(), SettingError> {
    for (key, value) in settings {
        let Some(spec) = specs.iter().find(|spec| &spec.name == key) else {
            let reason = if specs.is_empty() {
                "unknown setting: the plugin declares no settings".to_owned()
            } else {
                let known: Vec<&str> = specs.iter().map(|spec| spec.name.as_str()).collect();
                format!(
                    "unknown setting: the plugin declares only {}",
                    known.join(", ")
                )
            };
            return Err(SettingError {
                key: key.clone(),
                reason,
            });
        };
        spec.check(value).map_err(|reason| SettingError {
            key: key.clone(),
            reason: format!("{reason} (declared type: {})", spec.kind),
        })?;
    }
    Ok(())
}

/// Splits a `list` or `languages` value into its items: split at commas, each item
/// trimmed; a value that is empty or only whitespace is the empty list.
pub fn list_items(value: &str) -> Vec<&str> {
    if value.trim().is_empty() {
        Vec::new()
    } else {
        value.split(',').map(str::trim).collect()
    }
}

/// Why a type could not be parsed.
enum KindProblem {
    /// Not a type name this grammar knows.
    Unknown,
    /// A known type with wrong parameters.
    Bad(String),
}

fn parse_kind(ty: &str) -> Result<ValueKind, KindProblem> {
    match ty {
        "string" => return Ok(ValueKind::Text),
        "bool" => return Ok(ValueKind::Bool),
        "int" => {
            return Ok(ValueKind::Int {
                min: None,
                max: None,
            });
        }
        "url" => return Ok(ValueKind::Url),
        "language" => return Ok(ValueKind::Language),
        "languages" => return Ok(ValueKind::Languages),
        "list" => return Ok(ValueKind::List),
        _ => {}
    }
    if let Some(inner) = parameters(ty, "int")? {
        return parse_int_range(inner);
    }
    if let Some(inner) = parameters(ty, "one-of")? {
        return parse_one_of(inner);
    }
    Err(KindProblem::Unknown)
}

/// For `name(...)` returns the text between the parentheses; `None` when `ty` is not
/// a parameterised `name`.
fn parameters<'a>(ty: &'a str, name: &str) -> Result<Option<&'a str>, KindProblem> {
    let Some(rest) = ty.strip_prefix(name) else {
        return Ok(None);
    };
    let Some(rest) = rest.trim_start().strip_prefix('(') else {
        return Ok(None);
    };
    match rest.strip_suffix(')') {
        Some(inner) => Ok(Some(inner.trim())),
        None => Err(KindProblem::Bad(format!("{name}(...) must end with ')'"))),
    }
}

fn parse_int_range(inner: &str) -> Result<ValueKind, KindProblem> {
    let Some((min, max)) = inner.split_once("..") else {
        return Err(KindProblem::Bad(format!(
            "int range '{inner}' must be MIN..MAX, MIN.. or ..MAX (inclusive bounds)"
        )));
    };
    let bound = |text: &str| -> Result<Option<i64>, KindProblem> {
        let text = text.trim();
        if text.is_empty() {
            return Ok(None);
        }
        text.parse::<i64>().map(Some).map_err(|_| {
            KindProblem::Bad(format!(
                "int bound '{text}' is not a whole number between {} and {}",
                i64::MIN,
                i64::MAX
            ))
        })
    };
    let (min, max) = (bound(min)?, bound(max)?);
    if let (Some(low), Some(high)) = (min, max)
        && low > high
    {
        return Err(KindProblem::Bad(format!(
            "int range {low}..{high} is empty: the lower bound is above the upper bound"
        )));
    }
    Ok(ValueKind::Int { min, max })
}

fn parse_one_of(inner: &str) -> Result<ValueKind, KindProblem> {
    if inner.is_empty() {
        return Err(KindProblem::Bad(
            "one-of() lists no words; write one-of(a|b|...)".to_owned(),
        ));
    }
    let mut words: Vec<String> = Vec::new();
    for word in inner.split('|').map(str::trim) {
        if word.is_empty() {
            return Err(KindProblem::Bad(format!(
                "one-of({inner}) has an empty word; separate words with a single '|'"
            )));
        }
        if word
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '(' | ')' | ','))
        {
            return Err(KindProblem::Bad(format!(
                "one-of word '{word}' may not contain spaces, commas or parentheses"
            )));
        }
        if words.iter().any(|seen| seen == word) {
            return Err(KindProblem::Bad(format!(
                "one-of word '{word}' is listed twice"
            )));
        }
        words.push(word.to_owned());
    }
    Ok(ValueKind::OneOf(words))
}

fn check_int(value: &str, min: Option<i64>, max: Option<i64>) -> Result<(), String> {
    let range = match (min, max) {
        (Some(low), Some(high)) => format!(" from {low} to {high}"),
        (Some(low), None) => format!(" of at least {low}"),
        (None, Some(high)) => format!(" of at most {high}"),
        (None, None) => String::new(),
    };
    let Ok(number) = value.parse::<i64>() else {
        return Err(format!(
            "expected a whole number{range}, got {}",
            quote(value)
        ));
    };
    let too_low = min.is_some_and(|low| number < low);
    let too_high = max.is_some_and(|high| number > high);
    if too_low || too_high {
        return Err(format!("expected a whole number{range}, got {number}"));
    }
    Ok(())
}

/// Checks an absolute http(s) URL. `Err` says what is wrong, without the value.
fn check_url(value: &str) -> Result<(), String> {
    if let Some(c) = value.chars().find(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!("it contains the character {c:?}"));
    }
    if value.contains('\\') {
        return Err("it contains a backslash; use '/'".to_owned());
    }
    let Some((scheme, rest)) = value.split_once("://") else {
        return Err("it does not start with http:// or https://".to_owned());
    };
    if !scheme.eq_ignore_ascii_case("http") && !scheme.eq_ignore_ascii_case("https") {
        return Err(format!("scheme '{scheme}' is not http or https"));
    }
    if has_credentials(value) {
        return Err("user names and passwords in URLs are not accepted".to_owned());
    }
    let authority = authority_of(rest);
    let (host, port) = split_host_port(authority)?;
    if let Some(port) = port {
        match port.parse::<u16>() {
            Ok(number) if number != 0 && port.bytes().all(|b| b.is_ascii_digit()) => {}
            _ => return Err(format!("port '{port}' is not a number from 1 to 65535")),
        }
    }
    check_host(host)?;
    // A plugin's requests go out through the host, which reads URLs with the URL
    // standard's parser (reqwest's `Url`). It has the last word: it refuses names
    // the rules above let through, such as a last label in hexadecimal
    // (`api.0x1f`) or an `xn--` label that is not punycode (fuzz/regressions/settings/).
    reqwest::Url::parse(value)
        .map(drop)
        .map_err(|e| format!("the host cannot request it: {e}"))
}

/// The authority of a URL whose text after `://` is `rest`.
fn authority_of(rest: &str) -> &str {
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    &rest[..end]
}

/// Whether a URL-like value has a `user:password@` part.
fn has_credentials(value: &str) -> bool {
    value
        .split_once("://")
        .is_some_and(|(_, rest)| authority_of(rest).contains('@'))
}

/// Splits `host[:port]` or `[v6][:port]`.
fn split_host_port(authority: &str) -> Result<(&str, Option<&str>), String> {
    if let Some(rest) = authority.strip_prefix('[') {
        let Some((address, after)) = rest.split_once(']') else {
            return Err("the IPv6 address has no closing ']'".to_owned());
        };
        if address.parse::<Ipv6Addr>().is_err() {
            return Err(format!("'[{address}]' is not an IPv6 address"));
        }
        return match after {
            "" => Ok((authority, None)),
            _ => match after.strip_prefix(':') {
                Some(port) => Ok((authority, Some(port))),
                None => Err("unexpected text after the IPv6 address".to_owned()),
            },
        };
    }
    Ok(match authority.split_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (authority, None),
    })
}

/// Checks a host name, IPv4 address or already-checked `[IPv6]` address.
fn check_host(host: &str) -> Result<(), String> {
    if host.starts_with('[') {
        return Ok(()); // checked by split_host_port
    }
    if host.is_empty() {
        return Err("it has no host".to_owned());
    }
    if !host.is_ascii() {
        return Err("the host is not ASCII; write it in its xn-- (punycode) form".to_owned());
    }
    let name = host.strip_suffix('.').unwrap_or(host);
    if name.len() > 253 {
        return Err("the host name is longer than 253 characters".to_owned());
    }
    let labels: Vec<&str> = name.split('.').collect();
    // As browsers do: a name whose last label is numeric must be an IPv4 address.
    if labels
        .last()
        .is_some_and(|label| !label.is_empty() && label.bytes().all(|b| b.is_ascii_digit()))
    {
        return match name.parse::<Ipv4Addr>() {
            Ok(_) => Ok(()),
            Err(_) => Err(format!("'{host}' is not a valid IPv4 address")),
        };
    }
    for label in labels {
        if label.is_empty() {
            return Err(format!("host '{host}' has an empty label"));
        }
        if label.len() > 63 {
            return Err(format!("host label '{label}' is longer than 63 characters"));
        }
        if !label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(format!(
                "host '{host}' contains a character not allowed in a host name"
            ));
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err(format!("host label '{label}' starts or ends with '-'"));
        }
    }
    Ok(())
}

/// Checks one language tag. `Err` says what is wrong, without the value.
fn check_language(tag: &str) -> Result<(), String> {
    if tag.is_empty() {
        return Err("it is empty".to_owned());
    }
    if tag.contains('_') {
        return Err("separate subtags with '-', not '_'".to_owned());
    }
    let mut subtags = tag.split('-');
    let primary = subtags.next().unwrap_or_default();
    if !(2..=3).contains(&primary.len()) || !primary.bytes().all(|b| b.is_ascii_alphabetic()) {
        return Err(format!(
            "the primary subtag '{primary}' must be 2 or 3 ASCII letters"
        ));
    }
    for subtag in subtags {
        if !(2..=8).contains(&subtag.len()) || !subtag.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(format!(
                "subtag '{subtag}' must be 2 to 8 ASCII letters or digits"
            ));
        }
    }
    Ok(())
}

fn check_languages(value: &str) -> Result<(), String> {
    let items = list_items(value);
    let count = items.len();
    for (number, item) in (1usize..).zip(items) {
        if item.is_empty() {
            return Err(format!(
                "expected comma-separated language tags, but item {} of {count} is empty",
                number
            ));
        }
        check_language(item).map_err(|why| {
            format!(
                "expected comma-separated language tags such as 'en, pt-BR', but item {} of \
                 {count}, {}, is not one: {why}",
                number,
                quote(item)
            )
        })?;
    }
    Ok(())
}

/// Quotes a value for an error message, shortening long ones.
fn quote(value: &str) -> String {
    if value.chars().count() > MAX_QUOTED_CHARS {
        let head: String = value.chars().take(MAX_QUOTED_CHARS).collect();
        format!("'{head}…'")
    } else {
        format!("'{value}'")
    }
}

#[cfg(test)]
mod tests;
