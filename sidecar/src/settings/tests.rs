//! Unit tests of typed plugin settings: declarations parsed, values checked, errors named.

use super::*;

fn spec(declaration: &str) -> KeySpec {
    KeySpec::parse(declaration).expect("test declaration is valid")
}

#[test]
fn declarations_parse_to_their_kinds() {
    let int = |min, max| ValueKind::Int { min, max };
    let cases: &[(&str, &str, ValueKind)] = &[
        ("engine_url", "engine_url", ValueKind::Text),
        ("  engine_url  ", "engine_url", ValueKind::Text),
        ("a.b-c_D9", "a.b-c_D9", ValueKind::Text),
        ("name: string", "name", ValueKind::Text),
        ("name:string", "name", ValueKind::Text),
        ("name :  string ", "name", ValueKind::Text),
        ("flag: bool", "flag", ValueKind::Bool),
        ("n: int", "n", int(None, None)),
        ("n: int(1..500)", "n", int(Some(1), Some(500))),
        ("n: int(0..)", "n", int(Some(0), None)),
        ("n: int(..10)", "n", int(None, Some(10))),
        ("n: int(..)", "n", int(None, None)),
        ("n: int(-5..-1)", "n", int(Some(-5), Some(-1))),
        ("n: int( 3 .. 3 )", "n", int(Some(3), Some(3))),
        ("n: int (1..2)", "n", int(Some(1), Some(2))),
        (
            "n: int(-9223372036854775808..9223372036854775807)",
            "n",
            int(Some(i64::MIN), Some(i64::MAX)),
        ),
        ("u: url", "u", ValueKind::Url),
        ("l: language", "l", ValueKind::Language),
        ("l: languages", "l", ValueKind::Languages),
        ("t: list", "t", ValueKind::List),
        (
            "engine: one-of(apertium|libretranslate|deepl)",
            "engine",
            ValueKind::OneOf(vec![
                "apertium".into(),
                "libretranslate".into(),
                "deepl".into(),
            ]),
        ),
        (
            "e: one-of( a | b )",
            "e",
            ValueKind::OneOf(vec!["a".into(), "b".into()]),
        ),
        (
            "e: one-of(only)",
            "e",
            ValueKind::OneOf(vec!["only".into()]),
        ),
    ];
    for (declaration, name, kind) in cases {
        let parsed = KeySpec::parse(declaration)
            .unwrap_or_else(|e| panic!("'{declaration}' should parse: {e}"));
        assert_eq!(&parsed.name, name, "name of '{declaration}'");
        assert_eq!(&parsed.kind, kind, "kind of '{declaration}'");
    }
}

#[test]
fn bad_declarations_are_refused_and_named() {
    let cases: &[(&str, &str)] = &[
        ("", "has no key name"),
        ("   ", "has no key name"),
        (": int", "has no key name"),
        ("bad name", "may only contain"),
        ("naïve", "may only contain"),
        ("a/b: int", "may only contain"),
        ("n:", "unknown type ''"),
        ("n: integer", "unknown type 'integer'"),
        ("n: Bool", "unknown type 'Bool'"),
        ("n: int: int", "unknown type 'int: int'"),
        ("n: one-of", "unknown type 'one-of'"),
        ("n: int(1..", "must end with ')'"),
        ("n: int(5)", "must be MIN..MAX"),
        ("n: int()", "must be MIN..MAX"),
        ("n: int(a..b)", "is not a whole number"),
        ("n: int(1.5..2)", "is not a whole number"),
        ("n: int(0..99999999999999999999)", "is not a whole number"),
        ("n: int(5..1)", "is empty"),
        ("n: int(1..2)x", "must end with ')'"),
        ("e: one-of()", "lists no words"),
        ("e: one-of(a||b)", "has an empty word"),
        ("e: one-of(a|)", "has an empty word"),
        ("e: one-of(a b|c)", "may not contain spaces"),
        ("e: one-of(a,b)", "may not contain spaces"),
        ("e: one-of(a|a)", "listed twice"),
    ];
    for (declaration, expected) in cases {
        let err = KeySpec::parse(declaration)
            .err()
            .unwrap_or_else(|| panic!("'{declaration}' should be refused"));
        let message = err.to_string();
        assert!(
            message.contains(expected),
            "'{declaration}': message {message:?} should contain {expected:?}"
        );
        if !declaration.trim().is_empty() && !matches!(err, SpecError::Duplicate { .. }) {
            assert!(
                message.contains(&format!("'{declaration}'")),
                "'{declaration}': message {message:?} should name the declaration"
            );
        }
    }
}

#[test]
fn kinds_print_back_in_the_grammar_and_reparse() {
    let cases = [
        ("string", "string"),
        ("bool", "bool"),
        ("int", "int"),
        ("int(..)", "int"),
        ("int(1..500)", "int(1..500)"),
        ("int( 0 ..)", "int(0..)"),
        ("int(..10)", "int(..10)"),
        ("int(-3..-1)", "int(-3..-1)"),
        ("url", "url"),
        ("language", "language"),
        ("languages", "languages"),
        ("one-of( a | b|c )", "one-of(a|b|c)"),
        ("list", "list"),
    ];
    for (ty, printed) in cases {
        let parsed = spec(&format!("k: {ty}"));
        assert_eq!(parsed.kind.to_string(), printed, "display of '{ty}'");
        assert_eq!(parsed.to_string(), format!("k: {printed}"));
        assert_eq!(spec(&parsed.to_string()), parsed, "round trip of '{ty}'");
    }
}

/// (type, value, accepted?) for every type.
const VALUE_CASES: &[(&str, &str, bool)] = &[
    // string
    ("string", "", true),
    ("string", "anything at all, ünïcødé", true),
    // bool
    ("bool", "true", true),
    ("bool", "false", true),
    ("bool", "True", false),
    ("bool", "yes", false),
    ("bool", "1", false),
    ("bool", " true", false),
    ("bool", "", false),
    // int
    ("int", "0", true),
    ("int", "-42", true),
    ("int", "+7", true),
    ("int", "9223372036854775807", true),
    ("int", "-9223372036854775808", true),
    ("int", "9223372036854775808", false),
    ("int", "1.5", false),
    ("int", "1e3", false),
    ("int", " 1", false),
    ("int", "", false),
    ("int", "ten", false),
    ("int(1..500)", "1", true),
    ("int(1..500)", "500", true),
    ("int(1..500)", "0", false),
    ("int(1..500)", "501", false),
    ("int(0..)", "0", true),
    ("int(0..)", "9223372036854775807", true),
    ("int(0..)", "-1", false),
    ("int(..10)", "-9223372036854775808", true),
    ("int(..10)", "10", true),
    ("int(..10)", "11", false),
    // url
    ("url", "http://example.com", true),
    ("url", "https://example.com/", true),
    ("url", "HTTPS://Example.COM/path?q=1#frag", true),
    ("url", "http://localhost:5000/translate", true),
    ("url", "http://libre_translate:5000", true),
    ("url", "http://127.0.0.1:8080/x", true),
    ("url", "http://[::1]:8080/", true),
    ("url", "http://[2001:db8::1]", true),
    ("url", "https://api.example.com./v2", true),
    ("url", "https://xn--bcher-kva.example/", true),
    ("url", "https://example.com:65535", true),
    ("url", "", false),
    ("url", "example.com", false),
    ("url", "ftp://example.com", false),
    ("url", "file:///etc/passwd", false),
    ("url", "javascript://alert(1)", false),
    ("url", "http:/example.com", false),
    ("url", "http:example.com", false),
    ("url", "http://", false),
    ("url", "http:///path", false),
    ("url", "http://:80/", false),
    ("url", "http://exa mple.com", false),
    ("url", " http://example.com", false),
    ("url", "http://example.com\n", false),
    ("url", "http://user:pass@example.com/", false),
    ("url", "http://example.com:0", false),
    ("url", "http://example.com:65536", false),
    ("url", "http://example.com:", false),
    ("url", "http://example.com:+80", false),
    ("url", "http://example.com:http", false),
    ("url", "http://example..com", false),
    ("url", "http://.example.com", false),
    ("url", "http://-bad.example.com", false),
    ("url", "http://bad-.example.com", false),
    ("url", "http://exa!mple.com", false),
    ("url", "http://bücher.example", false),
    ("url", "http://256.0.0.1", false),
    ("url", "http://1.2.3", false),
    ("url", "http://example.123", false),
    ("url", "http://[::1", false),
    ("url", "http://[nope]/", false),
    ("url", "http://[::1]x/", false),
    ("url", "http:\\\\example.com", false),
    ("url", "https://example.com\\path", false),
    // language
    ("language", "en", true),
    ("language", "fil", true),
    ("language", "pt-BR", true),
    ("language", "zh-Hant-TW", true),
    ("language", "es-419", true),
    ("language", "de-CH-1901", true),
    ("language", "", false),
    ("language", "e", false),
    ("language", "engl", false),
    ("language", "e1", false),
    ("language", "pt_BR", false),
    ("language", "pt-", false),
    ("language", "pt--BR", false),
    ("language", "-BR", false),
    ("language", "en-a", false),
    ("language", "en-abcdefghi", false),
    ("language", "en-B$", false),
    ("language", " en", false),
    ("language", "en,fr", false),
    // languages
    ("languages", "", true),
    ("languages", "   ", true),
    ("languages", "en", true),
    ("languages", "en,fr", true),
    ("languages", "en, pt-BR ,zh-Hant-TW", true),
    ("languages", "en,,fr", false),
    ("languages", "en,", false),
    ("languages", ",en", false),
    ("languages", "en;fr", false),
    ("languages", "en fr", false),
    ("languages", "en,pt_BR", false),
    // one-of
    ("one-of(apertium|libretranslate|deepl)", "deepl", true),
    ("one-of(apertium|libretranslate|deepl)", "apertium", true),
    ("one-of(apertium|libretranslate|deepl)", "foo", false),
    ("one-of(apertium|libretranslate|deepl)", "DeepL", false),
    ("one-of(apertium|libretranslate|deepl)", " deepl", false),
    ("one-of(apertium|libretranslate|deepl)", "", false),
    // list
    ("list", "", true),
    ("list", "a, b ,, c", true),
    ("list", "anything; really", true),
];

#[test]
fn values_are_checked_against_their_type() {
    for (ty, value, accepted) in VALUE_CASES {
        let result = spec(&format!("k: {ty}")).check(value);
        assert_eq!(
            result.is_ok(),
            *accepted,
            "{ty} value {value:?}: got {result:?}"
        );
    }
}

#[test]
fn every_type_has_accepted_and_refused_cases() {
    for ty in ["bool", "int", "url", "language", "languages", "one-of("] {
        for accepted in [true, false] {
            assert!(
                VALUE_CASES
                    .iter()
                    .any(|(t, _, ok)| t.starts_with(ty) && *ok == accepted),
                "{ty} lacks a case with accepted = {accepted}"
            );
        }
    }
}

#[test]
fn reasons_say_what_was_expected_and_what_was_given() {
    let cases = [
        (
            "one-of(apertium|libretranslate|deepl)",
            "foo",
            "expected one of apertium, libretranslate, deepl, got 'foo'",
        ),
        ("bool", "yes", "expected true or false, got 'yes'"),
        (
            "int(1..500)",
            "600",
            "expected a whole number from 1 to 500, got 600",
        ),
        (
            "int(0..)",
            "-1",
            "expected a whole number of at least 0, got -1",
        ),
        (
            "int(..10)",
            "11",
            "expected a whole number of at most 10, got 11",
        ),
        ("int", "x", "expected a whole number, got 'x'"),
        ("url", "ftp://x.org", "scheme 'ftp' is not http or https"),
        (
            "url",
            "https://bob:hunter2@example.com",
            "URL: user names and passwords in URLs are not accepted",
        ),
        ("language", "pt_BR", "separate subtags with '-', not '_'"),
        ("languages", "en,xx_Y", "item 2 of 2, 'xx_Y', is not one"),
        ("languages", "en,", "item 2 of 2 is empty"),
    ];
    for (ty, value, expected) in cases {
        let reason = spec(&format!("k: {ty}"))
            .check(value)
            .expect_err("value should be refused");
        assert!(
            reason.contains(expected),
            "{ty} {value:?}: reason {reason:?} should contain {expected:?}"
        );
    }
}

#[test]
fn passwords_in_urls_are_not_echoed() {
    for value in [
        "https://bob:hunter2@example.com/",
        "https://bob:hunter2 x@example.com/",
        "ftp://bob:hunter2@example.com/",
    ] {
        let reason = spec("k: url").check(value).expect_err("credentials");
        assert!(!reason.contains("hunter2"), "{reason}");
    }
}

#[test]
fn long_values_are_shortened_in_reasons() {
    let value = "x".repeat(1000);
    let reason = spec("k: bool").check(&value).expect_err("not a bool");
    assert!(
        reason.len() < 200,
        "reason too long: {} bytes",
        reason.len()
    );
    assert!(reason.contains('…'));
}

fn settings(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

#[test]
fn validate_accepts_declared_valid_settings_and_missing_ones() {
    let specs = parse_specs(&[
        "engine: one-of(apertium|libretranslate|deepl)",
        "engine_url: url",
        "max_chars: int(1..500)",
        "targets: languages",
        "note",
    ])
    .expect("valid declarations");
    let given = settings(&[
        ("engine", "deepl"),
        ("engine_url", "https://api.deepl.com/v2"),
        ("targets", "en, pt-BR"),
    ]);
    assert_eq!(validate(&specs, &given), Ok(()));
    assert_eq!(validate(&specs, &BTreeMap::new()), Ok(()));
}

#[test]
fn validate_names_an_unknown_key_and_lists_the_known_ones() {
    let specs = parse_specs(&["engine", "engine_url: url"]).expect("valid declarations");
    let err = validate(&specs, &settings(&[("engin", "x")])).expect_err("unknown key");
    assert_eq!(err.key, "engin");
    assert_eq!(
        err.to_string(),
        "setting 'engin': unknown setting: the plugin declares only engine, engine_url"
    );

    let err = validate(&[], &settings(&[("x", "1")])).expect_err("nothing declared");
    assert_eq!(
        err.to_string(),
        "setting 'x': unknown setting: the plugin declares no settings"
    );
}

#[test]
fn validate_names_a_bad_value_and_why() {
    let specs = parse_specs(&["engine: one-of(apertium|deepl)", "max: int(1..500)"])
        .expect("valid declarations");
    let err = validate(&specs, &settings(&[("engine", "deepl"), ("max", "0")]))
        .expect_err("out of range");
    assert_eq!(err.key, "max");
    assert_eq!(
        err.to_string(),
        "setting 'max': expected a whole number from 1 to 500, got 0 (declared type: int(1..500))"
    );
}

#[test]
fn parse_specs_refuses_duplicates() {
    let err = parse_specs(&["a: int", "b", "a"]).expect_err("duplicate");
    assert_eq!(err, SpecError::Duplicate { name: "a".into() });
    assert_eq!(err.to_string(), "setting 'a' is declared more than once");

    let err = parse_specs(&["a", "b c"]).expect_err("bad name");
    assert!(matches!(err, SpecError::BadName { .. }));
}

#[test]
fn list_items_splits_and_trims() {
    assert_eq!(list_items(""), Vec::<&str>::new());
    assert_eq!(list_items("  "), Vec::<&str>::new());
    assert_eq!(list_items("en"), vec!["en"]);
    assert_eq!(list_items(" en , pt-BR,fr "), vec!["en", "pt-BR", "fr"]);
    assert_eq!(list_items("a,,b"), vec!["a", "", "b"]);
}
