//! Sensitive topics: the lexicons (`data/sensitive.toml`, embedded) and the scan of
//! a draft. A hit flags the reply for human review instead of rewriting it.
//!
//! A lexicon applies when the reply is written in one of its languages, or when the
//! customer's profile is one of its locales. Competitor disparagement is a
//! tenant competitor and a disparaging word of the reply's language in one sentence.
//! Protected spans are masked first: links, addresses and codes are not read.

use serde::Deserialize;

use crate::language::Lang;
use crate::matching::{Boundary, Folded, is_sentence_end};
use crate::spans::{self, Span};

/// The embedded lexicons.
pub const SENSITIVE_TOML: &str = include_str!("../data/sensitive.toml");

/// The category of competitor disparagement.
pub const COMPETITOR: &str = "competitor-disparagement";

/// The categories a lexicon may have (and [`COMPETITOR`]).
pub const CATEGORIES: &[&str] = &[
    "politics",
    "religion",
    "ethnicity",
    "disaster",
    "sensitive-date",
    "sensitive-place",
    COMPETITOR,
];

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Lexicon {
    category: String,
    #[serde(default)]
    languages: Vec<String>,
    #[serde(default)]
    locales: Vec<String>,
    terms: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Disparaging {
    languages: Vec<String>,
    terms: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    version: String,
    lexicon: Vec<Lexicon>,
    disparaging: Vec<Disparaging>,
}

/// The lexicons.
#[derive(Debug, Clone)]
pub struct Lexicons {
    /// The data file's `version`.
    pub version: String,
    lexicons: Vec<Lexicon>,
    disparaging: Vec<Disparaging>,
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    /// One of [`CATEGORIES`].
    pub category: String,
    /// The lexicon term (or the competitor's name).
    pub term: String,
    /// The text as it appears in the draft.
    pub matched: String,
    /// For competitor disparagement, the disparaging word.
    pub context: Option<String>,
}

impl Hit {
    /// The reason shown with the flag.
    pub fn reason(&self) -> String {
        match &self.context {
            Some(word) => format!(
                "mentions competitor \"{}\" next to \"{word}\": disparaging a competitor needs review",
                self.matched
            ),
            None => format!(
                "mentions \"{}\" ({} lexicon term \"{}\")",
                self.matched, self.category, self.term
            ),
        }
    }
}

impl Lexicons {
    /// The embedded lexicons.
    ///
    /// ```
    /// let l = tone::sensitive::Lexicons::embedded().unwrap();
    /// assert!(!l.version.is_empty());
    /// ```
    pub fn embedded() -> Result<Lexicons, String> {
        let file: File =
            toml::from_str(SENSITIVE_TOML).map_err(|e| format!("sensitive lexicons: {e}"))?;
        for lexicon in &file.lexicon {
            if !CATEGORIES.contains(&lexicon.category.as_str()) {
                return Err(format!(
                    "sensitive lexicons: unknown category {:?}",
                    lexicon.category
                ));
            }
            if lexicon.languages.is_empty() && lexicon.locales.is_empty() {
                return Err(format!(
                    "sensitive lexicons: a {} lexicon has neither languages nor locales",
                    lexicon.category
                ));
            }
        }
        Ok(Lexicons {
            version: file.version,
            lexicons: file.lexicon,
            disparaging: file.disparaging,
        })
    }

    /// The languages that have a lexicon of their own.
    pub fn languages(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .lexicons
            .iter()
            .flat_map(|l| l.languages.clone())
            .collect();
        out.sort();
        out.dedup();
        out
    }

    /// Scans `text` (outside `spans`). `lang` is the reply's language, `locale` the
    /// customer's profile, `competitors` the tenant's list; `skip` lists categories
    /// the tenant disabled. At most one hit per category and term.
    ///
    /// ```
    /// use tone::{language::Lang, sensitive::Lexicons};
    /// let l = Lexicons::embedded().unwrap();
    /// let hits = l.scan("Sorry, the election slowed deliveries.", &[], Some(Lang::En), "en-US", &[], &[]);
    /// assert_eq!(hits[0].category, "politics");
    /// assert_eq!(hits[0].term, "election");
    /// ```
    pub fn scan(
        &self,
        text: &str,
        spans: &[Span],
        lang: Option<Lang>,
        locale: &str,
        competitors: &[String],
        skip: &[String],
    ) -> Vec<Hit> {
        let masked = spans::masked(text, spans);
        let folded = Folded::new(&masked);
        let code = lang.map(Lang::code);
        let applies = |languages: &[String], locales: &[String]| {
            code.is_some_and(|c| languages.iter().any(|l| l == c))
                || locales.iter().any(|l| l.eq_ignore_ascii_case(locale))
        };
        let mut hits: Vec<Hit> = Vec::new();
        for lexicon in &self.lexicons {
            if skip.contains(&lexicon.category) || !applies(&lexicon.languages, &lexicon.locales) {
                continue;
            }
            for term in &lexicon.terms {
                if let Some(&(start, end)) = folded.find_all(term, Boundary::for_term(term)).first()
                {
                    let duplicate = hits
                        .iter()
                        .any(|h| h.category == lexicon.category && h.term == *term);
                    if !duplicate {
                        hits.push(Hit {
                            category: lexicon.category.clone(),
                            term: term.clone(),
                            matched: text[start..end].to_owned(),
                            context: None,
                        });
                    }
                }
            }
        }
        if !skip.iter().any(|s| s == COMPETITOR) {
            hits.extend(self.disparagement(text, &masked, code, competitors));
        }
        hits
    }

    fn disparagement(
        &self,
        text: &str,
        masked: &str,
        code: Option<&str>,
        competitors: &[String],
    ) -> Vec<Hit> {
        let Some(code) = code else {
            return Vec::new();
        };
        let words: Vec<&String> = self
            .disparaging
            .iter()
            .filter(|d| d.languages.iter().any(|l| l == code))
            .flat_map(|d| &d.terms)
            .collect();
        let mut hits: Vec<Hit> = Vec::new();
        for (start, end) in sentences(masked) {
            let sentence = Folded::new(&masked[start..end]);
            let word = words
                .iter()
                .find(|w| sentence.contains(w, Boundary::for_term(w)));
            let Some(word) = word else { continue };
            for competitor in competitors {
                let boundary = match Boundary::for_term(competitor) {
                    Boundary::Word => Boundary::Word,
                    _ => Boundary::None,
                };
                if let Some(&(s, e)) = sentence.find_all(competitor, boundary).first()
                    && !hits.iter().any(|h| h.term == *competitor)
                {
                    hits.push(Hit {
                        category: COMPETITOR.to_owned(),
                        term: competitor.clone(),
                        matched: text[start + s..start + e].to_owned(),
                        context: Some((*word).clone()),
                    });
                }
            }
        }
        hits
    }
}

/// Byte ranges of the sentences of `text` (split after sentence-final punctuation
/// and at line breaks).
fn sentences(text: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, c) in text.char_indices() {
        if is_sentence_end(c) || c == '\n' {
            let end = i + c.len_utf8();
            if !text[start..end].trim().is_empty() {
                out.push((start, end));
            }
            start = end;
        }
    }
    if !text[start..].trim().is_empty() {
        out.push((start, text.len()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(text: &str, lang: Lang, locale: &str) -> Vec<(String, String)> {
        let l = Lexicons::embedded().expect("lexicons parse");
        let competitors = vec!["Zentrix".to_owned(), "HelpHub".to_owned()];
        l.scan(
            text,
            &spans::find(text, &[]),
            Some(lang),
            locale,
            &competitors,
            &[],
        )
        .into_iter()
        .map(|h| (h.category, h.term))
        .collect()
    }

    #[test]
    fn lexicons_cover_the_required_languages() {
        let l = Lexicons::embedded().expect("lexicons parse");
        let langs = l.languages();
        for code in ["en", "de", "fr", "es", "ja", "zh", "ko", "ar", "pt", "it"] {
            assert!(langs.iter().any(|l| l == code), "{code}");
        }
    }

    #[test]
    fn flags_terms_on_word_boundaries() {
        assert_eq!(
            scan("Deliveries paused during the election.", Lang::En, "en-US"),
            [("politics".into(), "election".into())]
        );
        assert!(
            scan(
                "Our return policy applies; the race condition is fixed.",
                Lang::En,
                "en-US"
            )
            .is_empty()
        );
        assert!(scan("Adiós, gracias por su pedido.", Lang::Es, "es-ES").is_empty());
    }

    #[test]
    fn locale_lexicons_apply_whatever_the_language() {
        let hits = scan("Our office near Tiananmen is closed.", Lang::En, "zh-CN");
        assert_eq!(hits, [("sensitive-date".into(), "tiananmen".into())]);
        assert!(scan("Our office near Tiananmen is closed.", Lang::En, "en-US").is_empty());
    }

    #[test]
    fn cjk_substrings() {
        assert_eq!(
            scan("地震の影響で配送が遅れています。", Lang::Ja, "ja-JP"),
            [("disaster".into(), "地震".into())]
        );
        assert!(scan("テロップを確認してください。", Lang::Ja, "ja-JP").is_empty());
    }

    #[test]
    fn competitor_disparagement_needs_both_in_one_sentence() {
        let hits = scan("Zentrix is much worse than us.", Lang::En, "en-US");
        assert_eq!(hits, [(COMPETITOR.into(), "Zentrix".into())]);
        assert!(
            scan(
                "You can import your data from Zentrix. The old export was worse.",
                Lang::En,
                "en-US"
            )
            .is_empty()
        );
    }

    #[test]
    fn protected_spans_are_not_read() {
        assert!(
            scan(
                "See https://example.com/election-results for details.",
                Lang::En,
                "en-US"
            )
            .is_empty()
        );
    }
}
