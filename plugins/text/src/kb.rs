//! The knowledge base as plugins share it: its storage format (one [`Article`] as
//! JSON under [`ARTICLE_PREFIX`] in the storage of the plugin that keeps it, which
//! others read as `@<plugin>/kb/article/...` when granted) and its ranking, BM25
//! over title and body with the inquiry's language first. The recommendation
//! plugin ranks it with a customer's interests; the scheduler quotes its best
//! article after hours.

use serde::{Deserialize, Serialize};

use crate::text::{Bm25, tokenize};

/// The key prefix of the articles in the keeping plugin's storage.
pub const ARTICLE_PREFIX: &str = "kb/article/";

/// An article of the knowledge base.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Article {
    /// Unique within the tenant.
    pub id: String,
    /// The title (searched with the body).
    pub title: String,
    /// The text.
    #[serde(default)]
    pub body: String,
    /// The article's language (`en`, `ja`, …).
    pub language: String,
    /// A product category (e.g. `lenses`) or a topic name (e.g. `shipping`).
    #[serde(default)]
    pub category: String,
}

/// An article that matches an inquiry, with its score and the inquiry's terms it
/// matched (best first).
#[derive(Debug, Clone, PartialEq)]
pub struct ArticleMatch {
    /// Its position in the ranked slice.
    pub index: usize,
    /// BM25 relative to the best match (0..=1), plus 1 when it is in the
    /// inquiry's language, plus the caller's `bonus`.
    pub score: f64,
    /// The inquiry's terms it contains.
    pub terms: Vec<String>,
    /// Whether it is in the inquiry's language.
    pub same_language: bool,
}

/// The articles matching `terms` (only those sharing a term), scored: relative
/// BM25, +1 in `language`, + `bonus(article)` (e.g. for the inquiry's topic or the
/// customer's interests). Unsorted: callers order and cut.
pub fn rank(
    articles: &[Article],
    terms: &[String],
    language: Option<&str>,
    bonus: impl Fn(&Article) -> f64,
) -> Vec<ArticleMatch> {
    let docs: Vec<Vec<String>> = articles
        .iter()
        .map(|a| tokenize(&format!("{} {}", a.title, a.body)))
        .collect();
    let index = Bm25::new(&docs);
    let matches = index.rank(terms);
    let best = matches.first().map_or(0.0, |m| m.1);
    matches
        .into_iter()
        .filter_map(|(i, bm25)| {
            let a = articles.get(i)?;
            let same_language =
                language.is_some_and(|l| crate::lang::same_language(&a.language, l));
            Some(ArticleMatch {
                index: i,
                score: bm25 / best + f64::from(u8::from(same_language)) + bonus(a),
                terms: index
                    .matched(terms, i)
                    .into_iter()
                    .map(str::to_owned)
                    .collect(),
                same_language,
            })
        })
        .collect()
}
