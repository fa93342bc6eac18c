//! A tenant's own inquiry categories: each a name and keywords, per language or
//! for every language (`*`). A ticket no plugin or integrator categorised gets
//! the first category one of whose keywords its customer's message contains
//! (case-insensitive; a whole word where the language writes spaces, anywhere in
//! the text otherwise, as in Chinese or Japanese). The uncategorised share of the
//! reports shows what is left to name.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Most categories a tenant defines, and keywords per category.
pub const MAX_CATEGORIES: usize = 100;
pub const MAX_KEYWORDS: usize = 200;
const MAX_KEYWORD_BYTES: usize = 64;

/// One category of a tenant, as its document and configuration keep it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CategoryRule {
    pub name: String,
    /// Language (`es`, or `*` for any) → keywords.
    pub keywords: BTreeMap<String, Vec<String>>,
}

/// Checks a tenant's categories; why not, naming the category.
pub fn check(rules: &[CategoryRule]) -> Result<(), String> {
    if rules.len() > MAX_CATEGORIES {
        return Err(format!("at most {MAX_CATEGORIES} categories"));
    }
    let mut names = std::collections::HashSet::new();
    for rule in rules {
        if super::category_name(&rule.name).as_deref() != Some(rule.name.as_str()) {
            return Err(format!(
                "category {:?}: a name is 1 to 64 lower-case letters, digits, '-' or '_'",
                rule.name.chars().take(64).collect::<String>()
            ));
        }
        if !names.insert(&rule.name) {
            return Err(format!("category {:?} is defined twice", rule.name));
        }
        let keywords: usize = rule.keywords.values().map(Vec::len).sum();
        if keywords == 0 || keywords > MAX_KEYWORDS {
            return Err(format!(
                "category {:?}: give 1 to {MAX_KEYWORDS} keywords",
                rule.name
            ));
        }
        for (language, words) in &rule.keywords {
            let known = language == "*"
                || ((2..=3).contains(&language.len())
                    && language.chars().all(|c| c.is_ascii_lowercase()));
            if !known {
                return Err(format!(
                    "category {:?}: {language:?} is not a language code (es, de, ja) or *",
                    rule.name
                ));
            }
            if let Some(bad) = words
                .iter()
                .find(|w| w.trim().is_empty() || w.len() > MAX_KEYWORD_BYTES)
            {
                return Err(format!(
                    "category {:?}: keyword {:?} is empty or longer than {MAX_KEYWORD_BYTES} bytes",
                    rule.name,
                    bad.chars().take(64).collect::<String>()
                ));
            }
        }
    }
    Ok(())
}

/// Whether `keyword` stands in `text` (both lower-cased): as a whole word when it
/// is made of letters of a script that separates words.
fn contains_keyword(text: &str, keyword: &str) -> bool {
    let spaced = keyword
        .chars()
        .all(|c| !c.is_alphabetic() || c.is_ascii() || is_spaced_script(c));
    if !spaced {
        return text.contains(keyword);
    }
    text.match_indices(keyword).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at.saturating_add(keyword.len())..].chars().next();
        !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric)
    })
}

/// Latin, Greek, Cyrillic, Arabic and Hebrew letters: scripts written with spaces.
fn is_spaced_script(c: char) -> bool {
    matches!(u32::from(c), 0x00C0..=0x06FF)
}

/// `rules` ready for [`categorize`]: keywords trimmed and lower-cased once, when
/// the tenant's pipeline is built, rather than for every message.
pub fn prepared(rules: &[CategoryRule]) -> Vec<CategoryRule> {
    rules
        .iter()
        .map(|rule| CategoryRule {
            name: rule.name.clone(),
            keywords: rule
                .keywords
                .iter()
                .map(|(language, words)| {
                    let words = words.iter().map(|w| w.trim().to_lowercase()).collect();
                    (language.clone(), words)
                })
                .collect(),
        })
        .collect()
}

/// The first of `rules` ([`prepared`]) matching `text` in `language` (keywords
/// of that language and of `*`).
pub fn categorize(rules: &[CategoryRule], language: &str, text: &str) -> Option<String> {
    let text = text.to_lowercase();
    rules
        .iter()
        .find(|rule| {
            rule.keywords
                .iter()
                .filter(|(l, _)| l.as_str() == "*" || l.as_str() == language)
                .flat_map(|(_, words)| words)
                .any(|word| contains_keyword(&text, word))
        })
        .map(|rule| rule.name.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(name: &str, keywords: &[(&str, &[&str])]) -> CategoryRule {
        CategoryRule {
            name: name.into(),
            keywords: keywords
                .iter()
                .map(|(l, w)| ((*l).to_owned(), w.iter().map(|w| (*w).to_owned()).collect()))
                .collect(),
        }
    }

    #[test]
    fn keywords_match_whole_words_in_their_language() {
        let rules = prepared(&[
            rule(
                "returns",
                &[("es", &["devolver", "devolución"]), ("*", &["refund"])],
            ),
            rule(
                "shipping",
                &[("es", &["envío", "pedido"]), ("ja", &["配送"])],
            ),
        ]);
        assert_eq!(
            categorize(&rules, "es", "Quiero DEVOLVER el producto").as_deref(),
            Some("returns")
        );
        assert_eq!(
            categorize(&rules, "es", "¿Dónde está mi pedido?").as_deref(),
            Some("shipping")
        );
        // Not part of another word, and not in another language's list.
        assert_eq!(categorize(&rules, "es", "los pedidos"), None);
        assert_eq!(categorize(&rules, "de", "Ich will devolver"), None);
        // `*` keywords apply to every language; Japanese has no spaces.
        assert_eq!(
            categorize(&rules, "en", "a refund please").as_deref(),
            Some("returns")
        );
        assert_eq!(
            categorize(&rules, "ja", "配送はいつですか").as_deref(),
            Some("shipping")
        );
    }

    #[test]
    fn bad_categories_are_refused_by_name() {
        for (rules, says) in [
            (vec![rule("Returns", &[("es", &["x"])])], "lower-case"),
            (
                vec![rule("a", &[("es", &["x"])]), rule("a", &[("es", &["y"])])],
                "twice",
            ),
            (vec![rule("a", &[])], "keywords"),
            (vec![rule("a", &[("spanish", &["x"])])], "language code"),
            (vec![rule("a", &[("es", &["  "])])], "empty"),
        ] {
            let error = check(&rules).expect_err(says);
            assert!(error.contains(says), "{error}");
        }
        assert!(check(&[rule("returns", &[("*", &["refund"])])]).is_ok());
    }
}
