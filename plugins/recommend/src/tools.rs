//! What the plugin offers admins outside the event path: the `catalog` and
//! `knowledge-base` datasets, imported whole (JSON or CSV, see [`crate::catalog`]).
//!
//! An import is checked whole here and handed back as the entries that replace the
//! dataset's prefix; the host writes them in one transaction, so a bad file changes
//! nothing.

use crossdesk_sdk::{DatasetEntries, DatasetSpec, PluginError};

use crate::catalog::{self, ARTICLE_PREFIX, ImportError, PRODUCT_PREFIX};

/// The formats both datasets are imported in.
const FORMATS: &[&str] = &["json", "csv"];

/// The datasets, as the manifest offers them.
pub(crate) fn dataset_specs() -> Vec<DatasetSpec> {
    vec![
        DatasetSpec::new(
            "catalog",
            "The products recommended to customers, one record per product",
        )
        .formats(FORMATS),
        DatasetSpec::new(
            "knowledge-base",
            "The help articles recommended to customers, one record per article (alias: kb)",
        )
        .formats(FORMATS),
    ]
}

/// Why an import was refused.
#[derive(Debug, thiserror::Error)]
pub(crate) enum DatasetError {
    #[error("unknown dataset '{0}' (catalog or knowledge-base)")]
    UnknownDataset(String),
    #[error("unknown format '{0}' (json or csv)")]
    UnknownFormat(String),
    #[error("the content is not UTF-8 text")]
    NotText,
    #[error(transparent)]
    Invalid(#[from] ImportError),
    /// More records than the plugin reads back: it lists them in one listing of
    /// the host's ([`crossdesk_sdk::kv::MAX_LISTED`] keys), and would rank only
    /// the first, silently.
    #[error(
        "{count} {what}: this plugin reads at most {max} of them; import the ones to \
         recommend",
        max = crossdesk_sdk::kv::MAX_LISTED
    )]
    TooMany { count: usize, what: &'static str },
}

impl From<DatasetError> for PluginError {
    fn from(e: DatasetError) -> PluginError {
        PluginError::new(e.to_string())
    }
}

#[derive(Debug, Clone, Copy)]
enum Dataset {
    Catalog,
    KnowledgeBase,
}

#[derive(Debug, Clone, Copy)]
enum Format {
    Json,
    Csv,
}

fn dataset(name: &str) -> Result<Dataset, DatasetError> {
    match name.trim().to_ascii_lowercase().as_str() {
        "catalog" => Ok(Dataset::Catalog),
        // `kb` is what `crossdesk recommend import-kb` called it.
        "knowledge-base" | "kb" => Ok(Dataset::KnowledgeBase),
        _ => Err(DatasetError::UnknownDataset(name.to_owned())),
    }
}

fn format(name: &str) -> Result<Format, DatasetError> {
    match name.trim().to_ascii_lowercase().as_str() {
        "json" => Ok(Format::Json),
        "csv" => Ok(Format::Csv),
        _ => Err(DatasetError::UnknownFormat(name.to_owned())),
    }
}

/// A record count for the contract (a `u32`); no real dataset comes near the cap.
fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// Checks `content` of `dataset` in `format` whole and returns what replaces it.
pub(crate) fn import_dataset(
    dataset_name: &str,
    format_name: &str,
    content: &[u8],
) -> Result<DatasetEntries, DatasetError> {
    // Both are checked before the content, so a wrong name is reported as such.
    let (dataset, format) = (dataset(dataset_name)?, format(format_name)?);
    let text = std::str::from_utf8(content).map_err(|_| DatasetError::NotText)?;
    let within = |count: usize, what: &'static str| {
        if count > crossdesk_sdk::kv::MAX_LISTED {
            Err(DatasetError::TooMany { count, what })
        } else {
            Ok(())
        }
    };
    let (prefix, entries, records, summary) = match dataset {
        Dataset::Catalog => {
            let products = match format {
                Format::Json => catalog::parse_catalog_json(text),
                Format::Csv => catalog::parse_catalog_csv(text),
            }?;
            within(products.len(), "products")?;
            let summary = format!("{} product(s)", products.len());
            (
                PRODUCT_PREFIX,
                catalog::product_entries(&products),
                products.len(),
                summary,
            )
        }
        Dataset::KnowledgeBase => {
            let articles = match format {
                Format::Json => catalog::parse_kb_json(text),
                Format::Csv => catalog::parse_kb_csv(text),
            }?;
            within(articles.len(), "articles")?;
            let summary = format!("{} article(s)", articles.len());
            (
                ARTICLE_PREFIX,
                catalog::article_entries(&articles),
                articles.len(),
                summary,
            )
        }
    };
    Ok(DatasetEntries {
        prefix: prefix.to_owned(),
        entries,
        records: count(records),
        summary,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Article, Product, Recommend};
    use crossdesk_sdk::Plugin;

    fn import(dataset: &str, format: &str, content: &str) -> Result<DatasetEntries, String> {
        Recommend::import_dataset(dataset, format, content.as_bytes()).map_err(|e| e.message)
    }

    /// The plugin reads its records back in one listing: a catalog past it is
    /// refused, not ranked in part.
    #[test]
    fn a_catalog_past_one_listing_is_refused() {
        let max = crossdesk_sdk::kv::MAX_LISTED;
        let csv = |n: usize| {
            let mut csv = String::from("id,category,price\n");
            for i in 0..n {
                csv.push_str(&format!("p{i},lenses,10\n"));
            }
            csv
        };
        assert!(import("catalog", "csv", &csv(max)).is_ok());
        let refused = import("catalog", "csv", &csv(max + 1)).expect_err("too many");
        assert!(refused.contains("10001 products"), "{refused}");
    }

    #[test]
    fn the_manifest_offers_both_datasets_in_json_and_csv() {
        let m = Recommend::manifest();
        let offered: Vec<(&str, &[String])> = m
            .datasets
            .iter()
            .map(|d| (d.name.as_str(), d.formats.as_slice()))
            .collect();
        let formats = ["json".to_owned(), "csv".to_owned()];
        assert_eq!(
            offered,
            [("catalog", &formats[..]), ("knowledge-base", &formats[..])]
        );
        assert!(m.commands.is_empty());
    }

    #[test]
    fn a_json_catalog_becomes_one_entry_per_product() {
        let d = import(
            "catalog",
            "json",
            r#"[{"id": "l1", "category": "lenses", "price": 499, "currency": "EUR"},
                {"id": "b2", "category": "bags", "price": 59}]"#,
        )
        .expect("import");
        assert_eq!(d.prefix, "catalog/product/");
        assert_eq!((d.records, d.summary.as_str()), (2, "2 product(s)"));
        let keys: Vec<&str> = d.entries.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["catalog/product/l1", "catalog/product/b2"]);
        let first: Product = serde_json::from_slice(&d.entries[0].1).expect("product JSON");
        assert_eq!((first.price, first.currency.as_str()), (499.0, "EUR"));
    }

    #[test]
    fn a_csv_knowledge_base_is_accepted_under_either_name() {
        let csv = "id,title,body,language,category\n\
                   kb-1,Returns,\"How to return, step by step\",en,returns\n";
        for name in ["knowledge-base", "kb", " KB "] {
            let d = import(name, "CSV", csv).expect("import");
            assert_eq!(d.prefix, "kb/article/");
            assert_eq!((d.records, d.summary.as_str()), (1, "1 article(s)"));
            assert_eq!(d.entries[0].0, "kb/article/kb-1");
            let article: Article = serde_json::from_slice(&d.entries[0].1).expect("JSON");
            assert_eq!(article.body, "How to return, step by step");
        }
        // A catalog in CSV too.
        let d = import("catalog", "csv", "id,category,price\nl1,lenses,10\n").expect("csv");
        assert_eq!(d.summary, "1 product(s)");
    }

    #[test]
    fn an_empty_dataset_replaces_the_old_one_with_nothing() {
        let d = import("catalog", "json", "[]").expect("import");
        assert!(d.entries.is_empty());
        assert_eq!(
            (d.prefix.as_str(), d.summary.as_str()),
            ("catalog/product/", "0 product(s)")
        );
    }

    #[test]
    fn bad_input_is_refused_with_a_reason() {
        let err = import(
            "catalog",
            "json",
            r#"[{"id": "a", "category": "lenses", "price": 10}, {"id": "b", "category": "lenses"}]"#,
        )
        .expect_err("no price");
        assert!(err.contains("(id \"b\")") && err.contains("price"), "{err}");
        let err = import("catalog", "csv", "id,category,price\nx,c,cheap\n").expect_err("csv");
        assert_eq!(err, r#"record 0 (id "x"): price: 'cheap' is not a number"#);
        assert!(
            import("knowledge-base", "json", "{")
                .expect_err("json")
                .starts_with("invalid JSON")
        );
        assert_eq!(
            import("roster", "json", "[]").expect_err("dataset"),
            "unknown dataset 'roster' (catalog or knowledge-base)"
        );
        assert_eq!(
            import("catalog", "xml", "[]").expect_err("format"),
            "unknown format 'xml' (json or csv)"
        );
        let err = Recommend::import_dataset("catalog", "json", &[0xff, 0xfe]).expect_err("bytes");
        assert_eq!(err.message, "the content is not UTF-8 text");
        assert!(!err.retryable);
    }
}
