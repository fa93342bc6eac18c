//! Tokenization and BM25 ranking.
//!
//! Space-delimited scripts are split into lowercased words (letters and digits);
//! runs of CJK characters (Han, kana, Hangul) become overlapping character bigrams
//! (a lone CJK character is a token of its own). A few very common function words
//! of the Latin-script languages are dropped ([`STOPWORDS`]).
//!
//! [`Bm25`] scores documents with Okapi BM25, `k1 = 1.2`, `b = 0.75`, and the
//! non-negative IDF `ln(1 + (N - n + 0.5) / (n + 0.5))`.

use std::collections::{BTreeMap, BTreeSet};

/// BM25 term-frequency saturation.
pub const K1: f64 = 1.2;
/// BM25 length normalization.
pub const B: f64 = 0.75;

/// Function words (en, es, fr, de) left out of queries and documents.
pub const STOPWORDS: &[&str] = &[
    "a", "an", "and", "are", "at", "be", "can", "do", "does", "for", "get", "i", "in", "is", "it",
    "me", "my", "of", "on", "or", "the", "to", "with", "you", "your", "what", "how", "el", "la",
    "los", "las", "de", "del", "en", "y", "un", "una", "mi", "que", "es", "le", "les", "des", "du",
    "et", "je", "mon", "ma", "est", "une", "der", "die", "das", "und", "ich", "mein", "meine",
    "ist", "ein", "eine", "zu", "mit",
];

/// Whether `c` is written without spaces between words (Han, kana, Hangul).
pub fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x3040..=0x30FF | 0x31F0..=0x31FF | 0x3400..=0x4DBF | 0x4E00..=0x9FFF
        | 0xF900..=0xFAFF | 0xAC00..=0xD7AF | 0xFF66..=0xFF9F)
}

fn flush_word(word: &mut String, tokens: &mut Vec<String>) {
    if !word.is_empty() && !STOPWORDS.contains(&word.as_str()) {
        tokens.push(std::mem::take(word));
    }
    word.clear();
}

fn flush_cjk(run: &mut Vec<char>, tokens: &mut Vec<String>) {
    if run.len() == 1 {
        tokens.push(run[0].to_string());
    } else {
        tokens.extend(run.windows(2).map(|w| w.iter().collect::<String>()));
    }
    run.clear();
}

/// Splits `text` into search terms.
///
/// ```
/// assert_eq!(crossdesk_text::text::tokenize("The Autofocus, fast!"), ["autofocus", "fast"]);
/// assert_eq!(crossdesk_text::text::tokenize("自动对焦"), ["自动", "动对", "对焦"]);
/// ```
pub fn tokenize(text: &str) -> Vec<String> {
    let mut tokens = Vec::new();
    let mut word = String::new();
    let mut run = Vec::new();
    for c in text.chars() {
        if is_cjk(c) {
            flush_word(&mut word, &mut tokens);
            run.push(c);
        } else if c.is_alphanumeric() {
            flush_cjk(&mut run, &mut tokens);
            word.extend(c.to_lowercase());
        } else {
            flush_word(&mut word, &mut tokens);
            flush_cjk(&mut run, &mut tokens);
        }
    }
    flush_word(&mut word, &mut tokens);
    flush_cjk(&mut run, &mut tokens);
    tokens
}

/// The language of a text written in a CJK script: `ja` when it has kana, `ko`
/// for Hangul, `zh` for Han alone; `None` for other scripts.
///
/// ```
/// assert_eq!(crossdesk_text::text::detect_cjk_language("オートフォーカスの使い方"), Some("ja"));
/// assert_eq!(crossdesk_text::text::detect_cjk_language("如何使用自动对焦"), Some("zh"));
/// assert_eq!(crossdesk_text::text::detect_cjk_language("autofocus"), None);
/// ```
pub fn detect_cjk_language(text: &str) -> Option<&'static str> {
    let (mut kana, mut hangul, mut han) = (0, 0, 0);
    for c in text.chars() {
        match c as u32 {
            0x3040..=0x30FF | 0x31F0..=0x31FF | 0xFF66..=0xFF9F => kana += 1,
            0xAC00..=0xD7AF => hangul += 1,
            0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF => han += 1,
            _ => {}
        }
    }
    if kana > 0 {
        Some("ja")
    } else if hangul > 0 {
        Some("ko")
    } else if han > 0 {
        Some("zh")
    } else {
        None
    }
}

/// A BM25 index over a fixed set of tokenized documents.
#[derive(Debug, Clone, Default)]
pub struct Bm25 {
    docs: Vec<BTreeMap<String, u32>>,
    lengths: Vec<usize>,
    avgdl: f64,
    df: BTreeMap<String, usize>,
}

impl Bm25 {
    /// Indexes `docs` (each a list of terms, as [`tokenize`] returns).
    pub fn new(docs: &[Vec<String>]) -> Bm25 {
        let mut index = Bm25::default();
        for doc in docs {
            let mut tf = BTreeMap::new();
            for term in doc {
                *tf.entry(term.clone()).or_insert(0) += 1;
            }
            for term in tf.keys() {
                *index.df.entry(term.clone()).or_insert(0) += 1;
            }
            index.docs.push(tf);
            index.lengths.push(doc.len());
        }
        let total: usize = index.lengths.iter().sum();
        index.avgdl = if docs.is_empty() {
            0.0
        } else {
            total as f64 / docs.len() as f64
        };
        index
    }

    /// The number of documents.
    pub fn len(&self) -> usize {
        self.docs.len()
    }

    /// Whether no document is indexed.
    pub fn is_empty(&self) -> bool {
        self.docs.is_empty()
    }

    /// The inverse document frequency of `term` (0 for an unknown term).
    pub fn idf(&self, term: &str) -> f64 {
        let Some(&n) = self.df.get(term) else {
            return 0.0;
        };
        let big_n = self.docs.len() as f64;
        let n = n as f64;
        (1.0 + (big_n - n + 0.5) / (n + 0.5)).ln()
    }

    /// The BM25 score of document `doc` for `query` (repeated query terms count once).
    pub fn score(&self, query: &[String], doc: usize) -> f64 {
        let Some(tf) = self.docs.get(doc) else {
            return 0.0;
        };
        let len = self.lengths[doc] as f64;
        let norm = if self.avgdl > 0.0 {
            K1 * (1.0 - B + B * len / self.avgdl)
        } else {
            K1
        };
        let terms: BTreeSet<&String> = query.iter().collect();
        terms
            .into_iter()
            .filter_map(|t| tf.get(t).map(|&f| (t, f as f64)))
            .map(|(t, f)| self.idf(t) * f * (K1 + 1.0) / (f + norm))
            .sum()
    }

    /// The query terms found in document `doc`, rarest (highest IDF) first.
    pub fn matched<'q>(&self, query: &'q [String], doc: usize) -> Vec<&'q str> {
        let Some(tf) = self.docs.get(doc) else {
            return Vec::new();
        };
        let mut found: Vec<&str> = Vec::new();
        for term in query {
            if tf.contains_key(term) && !found.contains(&term.as_str()) {
                found.push(term);
            }
        }
        found.sort_by(|a, b| self.idf(b).total_cmp(&self.idf(a)).then(a.cmp(b)));
        found
    }

    /// The documents with a positive score, best first (ties by index).
    pub fn rank(&self, query: &[String]) -> Vec<(usize, f64)> {
        let mut scored: Vec<(usize, f64)> = (0..self.docs.len())
            .map(|i| (i, self.score(query, i)))
            .filter(|(_, s)| *s > 0.0)
            .collect();
        scored.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        scored
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_lowercased_and_split_on_punctuation() {
        assert_eq!(
            tokenize("Lens-50mm: AUTOFOCUS isn't working"),
            ["lens", "50mm", "autofocus", "isn", "t", "working"]
        );
        assert_eq!(
            tokenize("Qualität über alles"),
            ["qualität", "über", "alles"]
        );
    }

    #[test]
    fn cjk_runs_become_bigrams() {
        assert_eq!(
            tokenize("オートフォーカス"),
            ["オー", "ート", "トフ", "フォ", "ォー", "ーカ", "カス"]
        );
        assert_eq!(tokenize("返品"), ["返品"]);
        assert_eq!(tokenize("本"), ["本"]);
        // Mixed scripts: the Latin word and the CJK run are tokenized separately.
        assert_eq!(tokenize("AF设置"), ["af", "设置"]);
        assert_eq!(tokenize("계정 비밀번호"), ["계정", "비밀", "밀번", "번호"]);
    }

    #[test]
    fn stopwords_are_dropped() {
        assert_eq!(tokenize("How do I use the lens"), ["use", "lens"]);
    }

    fn corpus() -> Bm25 {
        let docs: Vec<Vec<String>> = [
            "autofocus tutorial autofocus modes for sharp photos",
            "shipping times and tracking your parcel",
            "lens care cleaning the lens and the autofocus motor in a very long article about many other things entirely",
            "returns and refunds",
        ]
        .iter()
        .map(|d| tokenize(d))
        .collect();
        Bm25::new(&docs)
    }

    #[test]
    fn bm25_orders_by_term_frequency_rarity_and_length() {
        let index = corpus();
        let ranked = index.rank(&tokenize("autofocus"));
        assert_eq!(ranked.iter().map(|r| r.0).collect::<Vec<_>>(), [0, 2]);
        assert!(ranked[0].1 > ranked[1].1);
        let ranked = index.rank(&tokenize("tracking my parcel"));
        assert_eq!(ranked[0].0, 1);
        assert_eq!(ranked.len(), 1);
        // A rarer term weighs more than a common one.
        assert!(index.idf("tracking") > index.idf("autofocus"));
        assert_eq!(index.idf("nothing"), 0.0);
    }

    #[test]
    fn bm25_score_matches_the_formula() {
        let docs = vec![tokenize("a b c"), tokenize("c d")];
        // "a" is a stopword; use other terms.
        let docs: Vec<Vec<String>> = docs
            .into_iter()
            .map(|d| d.into_iter().filter(|t| t != "a").collect())
            .collect();
        let index = Bm25::new(&docs);
        let idf = (1.0f64 + (2.0 - 1.0 + 0.5) / 1.5).ln();
        let avgdl = 2.0;
        let expected = idf * 1.0 * (K1 + 1.0) / (1.0 + K1 * (1.0 - B + B * 2.0 / avgdl));
        assert!((index.score(&["b".to_string()], 0) - expected).abs() < 1e-12);
        assert_eq!(
            index.score(&["b".to_string(), "b".to_string()], 0),
            index.score(&["b".to_string()], 0)
        );
    }

    #[test]
    fn matched_terms_are_rarest_first() {
        let index = corpus();
        let query = tokenize("autofocus modes");
        assert_eq!(index.matched(&query, 0), ["modes", "autofocus"]);
    }

    #[test]
    fn empty_index() {
        let index = Bm25::new(&[]);
        assert!(index.is_empty());
        assert!(index.rank(&tokenize("x")).is_empty());
    }
}
