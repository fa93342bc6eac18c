//! The tenant's product catalog and knowledge base: records, kv layout, JSON import.
//!
//! The host's import tools write one kv entry per record (the plugin's kv is scoped
//! to the tenant):
//!
//! | key | value |
//! | --- | --- |
//! | `catalog/product/<id>` | a [`Product`] as JSON |
//! | `kb/article/<id>` | an [`Article`] as JSON |
//! | `popularity/<product id>` | purchase count, decimal text (kept by the plugin) |
//!
//! The import format is a JSON array of records (or an object with a `products` /
//! `articles` array):
//!
//! ```json
//! [{"id": "lens-85", "category": "lenses", "price": 1299, "currency": "EUR",
//!   "tags": ["autofocus", "portrait"], "names": {"en": "Lens 85mm Pro", "ja": "85mm プロレンズ"}}]
//! [{"id": "kb-af", "title": "Autofocus tutorial", "body": "…", "language": "en", "category": "lenses"}]
//! ```

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The kv prefix of products.
pub const PRODUCT_PREFIX: &str = "catalog/product/";
/// The kv prefix of articles.
pub const ARTICLE_PREFIX: &str = "kb/article/";
/// The kv prefix of per-product purchase counts.
pub const POPULARITY_PREFIX: &str = "popularity/";

/// The kv key of product `id`.
pub fn product_key(id: &str) -> String {
    format!("{PRODUCT_PREFIX}{id}")
}

/// The kv key of article `id`.
pub fn article_key(id: &str) -> String {
    format!("{ARTICLE_PREFIX}{id}")
}

/// The kv key of product `id`'s purchase count.
pub fn popularity_key(id: &str) -> String {
    format!("{POPULARITY_PREFIX}{id}")
}

/// A product of the catalog.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Product {
    /// Unique within the tenant.
    pub id: String,
    /// The product category, e.g. `lenses`.
    pub category: String,
    /// The price, in `currency`.
    pub price: f64,
    /// ISO 4217 code.
    #[serde(default)]
    pub currency: String,
    /// Free-form tags, matched against inquiries.
    #[serde(default)]
    pub tags: Vec<String>,
    /// The product's name by language (`en`, `ja`, …).
    #[serde(default)]
    pub names: BTreeMap<String, String>,
}

impl Product {
    /// The name in `language`, else English, else any name, else the id.
    pub fn name(&self, language: Option<&str>) -> &str {
        language
            .and_then(|l| self.names.get(l))
            .or_else(|| self.names.get("en"))
            .or_else(|| self.names.values().next())
            .map_or(self.id.as_str(), String::as_str)
    }
}

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

/// A record of an import that could not be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportError {
    /// The record's position in the array (0-based), `None` for the document as a whole.
    pub index: Option<usize>,
    /// The record's id, when it has one.
    pub id: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for ImportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.index, &self.id) {
            (Some(i), Some(id)) => write!(f, "record {i} (id {id:?}): {}", self.message),
            (Some(i), None) => write!(f, "record {i}: {}", self.message),
            _ => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for ImportError {}

fn records(text: &str, field: &str) -> Result<Vec<serde_json::Value>, ImportError> {
    let whole = |message: String| ImportError {
        index: None,
        id: None,
        message,
    };
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| whole(format!("invalid JSON: {e}")))?;
    match value {
        serde_json::Value::Array(items) => Ok(items),
        serde_json::Value::Object(mut map) => match map.remove(field) {
            Some(serde_json::Value::Array(items)) => Ok(items),
            _ => Err(whole(format!(
                "expected an array or an object with a `{field}` array"
            ))),
        },
        _ => Err(whole(format!(
            "expected an array or an object with a `{field}` array"
        ))),
    }
}

fn parse<T: serde::de::DeserializeOwned>(
    text: &str,
    field: &str,
    id_of: impl Fn(&T) -> &str,
    check: impl Fn(&T) -> Result<(), String>,
) -> Result<Vec<T>, ImportError> {
    let mut out: Vec<T> = Vec::new();
    for (index, raw) in records(text, field)?.into_iter().enumerate() {
        let id = raw.get("id").and_then(|v| v.as_str()).map(str::to_owned);
        let fail = |message: String| ImportError {
            index: Some(index),
            id: id.clone(),
            message,
        };
        let record: T = serde_json::from_value(raw).map_err(|e| fail(e.to_string()))?;
        if id_of(&record).trim().is_empty() {
            return Err(fail("empty id".into()));
        }
        check(&record).map_err(fail)?;
        if out.iter().any(|r| id_of(r) == id_of(&record)) {
            return Err(fail("duplicate id".into()));
        }
        out.push(record);
    }
    Ok(out)
}

/// Parses a catalog import (see the module docs); an error names the bad record.
///
/// ```
/// let products = recommend::parse_catalog_json(
///     r#"[{"id": "lens-1", "category": "lenses", "price": 499, "currency": "EUR", "names": {"en": "Lens 50mm"}}]"#,
/// ).unwrap();
/// assert_eq!(products[0].name(Some("fr")), "Lens 50mm");
/// let err = recommend::parse_catalog_json(r#"[{"id": "x", "category": "c", "price": -1}]"#).unwrap_err();
/// assert_eq!(err.to_string(), r#"record 0 (id "x"): price must be a non-negative number"#);
/// ```
pub fn parse_catalog_json(text: &str) -> Result<Vec<Product>, ImportError> {
    parse(
        text,
        "products",
        |p: &Product| &p.id,
        |p| {
            if !p.price.is_finite() || p.price < 0.0 {
                Err("price must be a non-negative number".into())
            } else if p.category.trim().is_empty() {
                Err("empty category".into())
            } else {
                Ok(())
            }
        },
    )
}

/// Parses a knowledge-base import (see the module docs); an error names the bad record.
///
/// ```
/// let articles = recommend::parse_kb_json(
///     r#"{"articles": [{"id": "kb-1", "title": "Returns", "body": "How to return", "language": "en"}]}"#,
/// ).unwrap();
/// assert_eq!(articles[0].id, "kb-1");
/// ```
pub fn parse_kb_json(text: &str) -> Result<Vec<Article>, ImportError> {
    parse(
        text,
        "articles",
        |a: &Article| &a.id,
        |a| {
            if a.language.trim().is_empty() {
                Err("empty language".into())
            } else if a.title.trim().is_empty() {
                Err("empty title".into())
            } else {
                Ok(())
            }
        },
    )
}

/// The kv entries (key, JSON value) for products, as the import tools write them.
pub fn product_entries(products: &[Product]) -> Vec<(String, Vec<u8>)> {
    products
        .iter()
        .filter_map(|p| serde_json::to_vec(p).ok().map(|v| (product_key(&p.id), v)))
        .collect()
}

/// The kv entries (key, JSON value) for articles, as the import tools write them.
pub fn article_entries(articles: &[Article]) -> Vec<(String, Vec<u8>)> {
    articles
        .iter()
        .filter_map(|a| serde_json::to_vec(a).ok().map(|v| (article_key(&a.id), v)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_products_with_defaults() {
        let p = parse_catalog_json(
            r#"{"products": [{"id": "a", "category": "lenses", "price": 10.5}]}"#,
        )
        .unwrap();
        assert_eq!(p[0].price, 10.5);
        assert!(p[0].tags.is_empty());
        assert_eq!(p[0].name(Some("ja")), "a");
    }

    #[test]
    fn errors_name_the_record() {
        let err = parse_catalog_json(
            r#"[{"id": "a", "category": "c", "price": 1}, {"id": "b", "category": "c"}]"#,
        )
        .unwrap_err();
        assert_eq!(err.index, Some(1));
        assert_eq!(err.id.as_deref(), Some("b"));
        assert!(err.to_string().contains("missing field `price`"), "{err}");

        let err = parse_catalog_json(
            r#"[{"id": "a", "category": "c", "price": 1}, {"id": "a", "category": "c", "price": 2}]"#,
        )
        .unwrap_err();
        assert_eq!(err.to_string(), r#"record 1 (id "a"): duplicate id"#);

        let err = parse_kb_json(r#"[{"title": "t", "language": "en"}]"#).unwrap_err();
        assert_eq!(err.to_string(), "record 0: missing field `id`");

        let err = parse_kb_json(r#"[{"id": "k", "title": "t", "language": ""}]"#).unwrap_err();
        assert_eq!(err.to_string(), r#"record 0 (id "k"): empty language"#);

        let err = parse_kb_json("{").unwrap_err();
        assert!(err.to_string().starts_with("invalid JSON"));
        let err = parse_kb_json(r#"{"products": []}"#).unwrap_err();
        assert!(err.to_string().contains("`articles`"));
        let err =
            parse_catalog_json(r#"[{"id": "a", "category": "c", "price": 1, "colour": "red"}]"#)
                .unwrap_err();
        assert!(err.to_string().contains("unknown field `colour`"), "{err}");
    }

    #[test]
    fn names_by_language() {
        let p = parse_catalog_json(
            r#"[{"id": "a", "category": "c", "price": 1, "names": {"en": "Lens", "ja": "レンズ"}}]"#,
        )
        .unwrap();
        assert_eq!(p[0].name(Some("ja")), "レンズ");
        assert_eq!(p[0].name(Some("de")), "Lens");
        assert_eq!(p[0].name(None), "Lens");
    }

    #[test]
    fn entries_round_trip() {
        let p = parse_catalog_json(r#"[{"id": "a", "category": "c", "price": 1}]"#).unwrap();
        let entries = product_entries(&p);
        assert_eq!(entries[0].0, "catalog/product/a");
        let back: Product = serde_json::from_slice(&entries[0].1).unwrap();
        assert_eq!(back, p[0]);
        let a = parse_kb_json(r#"[{"id": "k", "title": "t", "language": "en"}]"#).unwrap();
        assert_eq!(article_entries(&a)[0].0, "kb/article/k");
    }
}
