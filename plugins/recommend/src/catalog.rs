//! The tenant's product catalog and knowledge base: records, kv layout, JSON and CSV
//! import.
//!
//! An admin's dataset import (`catalog`, `knowledge-base`) writes one kv entry per
//! record (the plugin's kv is scoped to the tenant):
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
//!
//! or CSV with a header row naming the same fields: list cells (`tags`) separate
//! items with `;`, and a product's names are columns `name.<language>`:
//!
//! ```text
//! id,category,price,currency,tags,name.en,name.ja
//! lens-85,lenses,1299,EUR,autofocus;portrait,Lens 85mm Pro,85mm プロレンズ
//! ```
//!
//! Both go through the same checks; an error names the record (0-based, data rows
//! for CSV) and its id.

use std::collections::{BTreeMap, HashSet};

use serde::{Deserialize, Serialize};

/// The kv prefix of products.
pub const PRODUCT_PREFIX: &str = "catalog/product/";
/// The kv prefix of articles.
pub use crossdesk_text::kb::{ARTICLE_PREFIX, Article};
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
    /// The name in `language` (a name keyed `pt-BR` is Portuguese too), else
    /// English, else any name, else the id.
    pub fn name(&self, language: Option<&str>) -> &str {
        language
            .and_then(|l| self.name_in(l))
            .or_else(|| self.name_in("en"))
            .or_else(|| self.names.values().next())
            .map_or(self.id.as_str(), String::as_str)
    }

    /// The name keyed `language` itself, else one keyed by a tag of the same
    /// language (`pt-BR` for `pt`).
    fn name_in(&self, language: &str) -> Option<&String> {
        self.names.get(language).or_else(|| {
            self.names
                .iter()
                .find(|(key, _)| crossdesk_text::lang::same_language(key, language))
                .map(|(_, name)| name)
        })
    }
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

/// How CSV cells become the JSON a record deserializes from.
struct CsvShape {
    /// Columns holding numbers.
    numbers: &'static [&'static str],
    /// Columns holding `;`-separated lists.
    lists: &'static [&'static str],
    /// Columns `<prefix><key>` gathered into the object field `.1`.
    maps: &'static [(&'static str, &'static str)],
}

/// The rows of a CSV document as JSON objects shaped by `shape`; empty cells are
/// left out, so that defaults apply.
fn csv_records(text: &str, shape: &CsvShape) -> Result<Vec<serde_json::Value>, ImportError> {
    use serde_json::{Map, Value};
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| ImportError {
            index: None,
            id: None,
            message: format!("invalid CSV header: {e}"),
        })?
        .clone();
    let mut out = Vec::new();
    for (index, row) in reader.records().enumerate() {
        let row = row.map_err(|e| ImportError {
            index: Some(index),
            id: None,
            message: format!("invalid CSV: {e}"),
        })?;
        let mut object = Map::new();
        for (header, cell) in headers.iter().zip(row.iter()) {
            if cell.is_empty() {
                continue;
            }
            if let Some((prefix, field)) = shape.maps.iter().find(|(p, _)| header.starts_with(p)) {
                let entry = object
                    .entry(*field)
                    .or_insert_with(|| Value::Object(Map::new()));
                if let Value::Object(map) = entry {
                    map.insert(header[prefix.len()..].to_owned(), Value::from(cell));
                }
            } else if shape.numbers.contains(&header) {
                let number = cell.parse::<f64>().map_err(|_| ImportError {
                    index: Some(index),
                    id: row.get(0).map(str::to_owned),
                    message: format!("{header}: '{cell}' is not a number"),
                })?;
                object.insert(header.to_owned(), Value::from(number));
            } else if shape.lists.contains(&header) {
                let items: Vec<Value> = cell
                    .split(';')
                    .map(str::trim)
                    .filter(|i| !i.is_empty())
                    .map(Value::from)
                    .collect();
                object.insert(header.to_owned(), Value::Array(items));
            } else {
                object.insert(header.to_owned(), Value::from(cell));
            }
        }
        out.push(Value::Object(object));
    }
    Ok(out)
}

const PRODUCT_CSV: CsvShape = CsvShape {
    numbers: &["price"],
    lists: &["tags"],
    maps: &[("name.", "names")],
};

const ARTICLE_CSV: CsvShape = CsvShape {
    numbers: &[],
    lists: &[],
    maps: &[],
};

fn parse<T: serde::de::DeserializeOwned>(
    records: Vec<serde_json::Value>,
    id_of: impl Fn(&T) -> &str,
    check: impl Fn(&T) -> Result<(), String>,
) -> Result<Vec<T>, ImportError> {
    let mut out: Vec<T> = Vec::new();
    // The ids seen, for the duplicate check: a set, not a pass over `out` per
    // record (quadratic on a catalog of 100,000).
    let mut ids: HashSet<String> = HashSet::new();
    for (index, raw) in records.into_iter().enumerate() {
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
        if !ids.insert(id_of(&record).to_owned()) {
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
        records(text, "products")?,
        |p: &Product| &p.id,
        check_product,
    )
}

/// Parses a catalog import in CSV (see the module docs).
///
/// ```
/// let products = recommend::parse_catalog_csv(
///     "id,category,price,currency,tags,name.en,name.ja\n\
///      lens-1,lenses,499,EUR,autofocus;portrait,Lens 50mm,50mm レンズ\n",
/// ).unwrap();
/// assert_eq!(products[0].tags, ["autofocus", "portrait"]);
/// assert_eq!(products[0].name(Some("ja")), "50mm レンズ");
/// let err = recommend::parse_catalog_csv("id,category,price\nx,c,cheap\n").unwrap_err();
/// assert_eq!(err.to_string(), r#"record 0 (id "x"): price: 'cheap' is not a number"#);
/// ```
pub fn parse_catalog_csv(text: &str) -> Result<Vec<Product>, ImportError> {
    parse(
        csv_records(text, &PRODUCT_CSV)?,
        |p: &Product| &p.id,
        check_product,
    )
}

fn check_product(p: &Product) -> Result<(), String> {
    if !p.price.is_finite() || p.price < 0.0 {
        Err("price must be a non-negative number".into())
    } else if p.category.trim().is_empty() {
        Err("empty category".into())
    } else {
        Ok(())
    }
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
        records(text, "articles")?,
        |a: &Article| &a.id,
        check_article,
    )
}

/// Parses a knowledge-base import in CSV (columns `id,title,body,language,category`).
///
/// ```
/// let articles = recommend::parse_kb_csv(
///     "id,title,body,language\nkb-1,Returns,\"How to return, step by step\",en\n",
/// ).unwrap();
/// assert_eq!(articles[0].body, "How to return, step by step");
/// ```
pub fn parse_kb_csv(text: &str) -> Result<Vec<Article>, ImportError> {
    parse(
        csv_records(text, &ARTICLE_CSV)?,
        |a: &Article| &a.id,
        check_article,
    )
}

fn check_article(a: &Article) -> Result<(), String> {
    if a.language.trim().is_empty() {
        Err("empty language".into())
    } else if a.title.trim().is_empty() {
        Err("empty title".into())
    } else {
        Ok(())
    }
}

/// The kv entries (key, JSON value) for products, as a dataset import writes them.
pub fn product_entries(products: &[Product]) -> Vec<(String, Vec<u8>)> {
    products
        .iter()
        .filter_map(|p| serde_json::to_vec(p).ok().map(|v| (product_key(&p.id), v)))
        .collect()
}

/// The kv entries (key, JSON value) for articles, as a dataset import writes them.
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

    /// A help centre's export keys names by locale; customers' languages are
    /// bare codes.
    #[test]
    fn a_name_keyed_by_locale_is_found_by_language() {
        let p = parse_catalog_json(
            r#"[{"id": "a", "category": "c", "price": 1,
                 "names": {"en-US": "Lens", "pt-BR": "Lente", "zh-TW": "鏡頭"}}]"#,
        )
        .unwrap();
        assert_eq!(p[0].name(Some("pt")), "Lente");
        assert_eq!(p[0].name(Some("zh")), "鏡頭");
        assert_eq!(p[0].name(Some("pt-BR")), "Lente");
        assert_eq!(p[0].name(Some("ja")), "Lens", "English, keyed en-US, first");
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
