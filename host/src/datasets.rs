//! Plugin data an admin imports whole: the scheduler's roster, the recommender's
//! product catalog and knowledge base. This module checks a file against the
//! plugin's own parser and swaps it into the tenant's plugin storage in one
//! transaction, for the CLI (`crossdesk schedule roster import`, `crossdesk
//! recommend import-*`) and the admin API (`ImportPluginData`) alike.

use crate::store::{Store, StoreError};

/// A dataset a first-party plugin reads from its storage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dataset {
    /// The schedule plugin's agents.
    Roster,
    /// The recommend plugin's products.
    Catalog,
    /// The recommend plugin's help articles.
    KnowledgeBase,
}

/// How the content is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Csv,
}

/// Why an import was refused; nothing was written.
#[derive(Debug, thiserror::Error)]
pub enum DatasetError {
    #[error("unknown dataset '{0}' (roster, catalog or knowledge-base)")]
    UnknownDataset(String),
    #[error("unknown format '{0}' (json or csv)")]
    UnknownFormat(String),
    #[error("the content is not UTF-8 text")]
    NotText,
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl std::fmt::Display for Dataset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl Dataset {
    /// Parses a dataset's name as the API and CLI spell it.
    pub fn parse(name: &str) -> Result<Dataset, DatasetError> {
        match name.trim().to_ascii_lowercase().as_str() {
            "roster" => Ok(Dataset::Roster),
            "catalog" => Ok(Dataset::Catalog),
            "knowledge-base" | "kb" => Ok(Dataset::KnowledgeBase),
            _ => Err(DatasetError::UnknownDataset(name.to_owned())),
        }
    }

    /// The dataset's name.
    pub fn name(self) -> &'static str {
        match self {
            Dataset::Roster => "roster",
            Dataset::Catalog => "catalog",
            Dataset::KnowledgeBase => "knowledge-base",
        }
    }

    /// The name (in its manifest) of the plugin that reads it.
    pub fn plugin(self) -> &'static str {
        match self {
            Dataset::Roster => schedule::Schedule::NAME,
            Dataset::Catalog | Dataset::KnowledgeBase => "recommend",
        }
    }
}

impl Format {
    /// Parses `json` or `csv`.
    pub fn parse(name: &str) -> Result<Format, DatasetError> {
        match name.trim().to_ascii_lowercase().as_str() {
            "json" => Ok(Format::Json),
            "csv" => Ok(Format::Csv),
            _ => Err(DatasetError::UnknownFormat(name.to_owned())),
        }
    }

    /// The format a file's extension names (`.csv`; anything else is JSON).
    pub fn of_path(path: &std::path::Path) -> Format {
        match path.extension() {
            Some(ext) if ext.eq_ignore_ascii_case("csv") => Format::Csv,
            _ => Format::Json,
        }
    }
}

/// What an import did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Imported {
    /// Records in the new dataset (agents, products, articles).
    pub records: usize,
    /// Storage entries of the dataset replaced.
    pub replaced: usize,
    /// One line describing the new data, for people and the audit log.
    pub summary: String,
}

/// Checks `content` and replaces `dataset` of `plugin` (its installed name) for
/// `tenant` with it, atomically.
pub async fn import(
    store: &Store,
    tenant: &str,
    plugin: &str,
    dataset: Dataset,
    format: Format,
    content: &[u8],
) -> Result<Imported, DatasetError> {
    let text = std::str::from_utf8(content).map_err(|_| DatasetError::NotText)?;
    let invalid = |e: &dyn std::fmt::Display| DatasetError::Invalid(e.to_string());
    let (prefix, entries, records, summary) = match (dataset, format) {
        (Dataset::Roster, format) => {
            let roster = match format {
                Format::Json => schedule::Roster::from_json(text),
                Format::Csv => schedule::Roster::from_csv(text),
            }
            .map_err(|e| invalid(&e))?;
            let languages = roster.languages();
            let summary = format!(
                "{} agent(s), {} language(s): {}",
                roster.agents.len(),
                languages.len(),
                languages.join(", ")
            );
            let entries = vec![(
                schedule::ROSTER_KEY.to_owned(),
                roster.to_json().into_bytes(),
            )];
            (schedule::ROSTER_KEY, entries, roster.agents.len(), summary)
        }
        (Dataset::Catalog, format) => {
            let products = match format {
                Format::Json => recommend::parse_catalog_json(text),
                Format::Csv => recommend::parse_catalog_csv(text),
            }
            .map_err(|e| invalid(&e))?;
            let summary = format!("{} product(s)", products.len());
            let entries = recommend::catalog::product_entries(&products);
            (
                recommend::catalog::PRODUCT_PREFIX,
                entries,
                products.len(),
                summary,
            )
        }
        (Dataset::KnowledgeBase, format) => {
            let articles = match format {
                Format::Json => recommend::parse_kb_json(text),
                Format::Csv => recommend::parse_kb_csv(text),
            }
            .map_err(|e| invalid(&e))?;
            let summary = format!("{} article(s)", articles.len());
            let entries = recommend::catalog::article_entries(&articles);
            (
                recommend::catalog::ARTICLE_PREFIX,
                entries,
                articles.len(),
                summary,
            )
        }
    };
    let replaced = store
        .kv_replace_prefix(tenant, plugin, prefix, entries)
        .await?;
    Ok(Imported {
        records,
        replaced,
        summary,
    })
}
