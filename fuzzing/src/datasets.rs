//! The files admins import into plugins, read by the plugins' own parsers (plain
//! Rust, linked natively here): translation memories in TMX and term lists in CSV
//! (translation), the catalog and the knowledge base in JSON or CSV (recommend;
//! the knowledge base's format and ranking are `crossdesk-text`'s), the roster in
//! JSON or CSV (schedule). Inputs of the JSON-or-CSV datasets are read both ways.

use crossdesk_sdk::{DatasetEntries, Plugin as _};
use crossdesk_text::kb::{self, Article};
use crossdesk_text::text::tokenize;
use jiff::Timestamp;
use recommend::{Product, Recommend};
use schedule::{Roster, Schedule};
use translation::exchange::{self, TermRecord};
use translation::lang;
use translation::memory::normalize;

/// A translation memory in TMX, as `import-tmx` reads it.
pub fn tmx(data: &[u8]) {
    let Some(text) = crate::text(data) else {
        return;
    };
    let Ok(records) = exchange::parse_tmx(text) else {
        return;
    };
    for r in &records {
        check_language(&r.source_language);
        check_standard(&r.target_language);
        assert_ne!(r.source_language, r.target_language, "{r:?}");
        for segment in [&r.source, &r.target] {
            assert!(
                !segment.is_empty() && normalize(segment) == *segment,
                "{r:?}"
            );
        }
    }
    // What `export-tmx` writes, `import-tmx` reads back the same.
    let written = exchange::write_tmx(&records);
    match exchange::parse_tmx(&written) {
        Ok(back) => assert_eq!(back, records, "the memory changed through TMX:\n{written}"),
        Err(e) => panic!("an exported memory does not import: {e}\n{written}"),
    }
}

/// A term list in CSV, as `import-terms` reads it.
pub fn terms(data: &[u8]) {
    let Some(text) = crate::text(data) else {
        return;
    };
    let Ok(terms) = exchange::parse_terms(text) else {
        return;
    };
    for term in &terms {
        match term {
            TermRecord::Keep(term) => assert!(!term.is_empty() && normalize(term) == *term),
            TermRecord::Force {
                source_language,
                target_language,
                term,
                target,
            } => {
                check_language(source_language);
                check_standard(target_language);
                for text in [term, target] {
                    assert!(!text.is_empty() && normalize(text) == *text, "{term:?}");
                }
            }
        }
    }
    // The list written back in its own format reads the same.
    let mut writer = csv::Writer::from_writer(Vec::new());
    let mut rows = vec![["source_language", "target_language", "source", "target"]];
    rows.extend(terms.iter().map(|term| match term {
        TermRecord::Keep(term) => ["", "", term.as_str(), ""],
        TermRecord::Force {
            source_language,
            target_language,
            term,
            target,
        } => [
            source_language.as_str(),
            target_language.as_str(),
            term.as_str(),
            target.as_str(),
        ],
    }));
    for row in rows {
        writer
            .write_record(row)
            .unwrap_or_else(|e| panic!("writing CSV to memory: {e}"));
    }
    let written = writer
        .into_inner()
        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
        .unwrap_or_else(|e| panic!("writing CSV to memory: {e}"));
    match exchange::parse_terms(&written) {
        Ok(back) => assert_eq!(back, terms, "the list changed through CSV:\n{written}"),
        Err(e) => panic!("a written term list does not parse: {e}\n{written}"),
    }
}

/// Languages are stored by their canonical code, which is its own canonical code.
fn check_language(code: &str) {
    assert_eq!(lang::from_code(code), Some(code), "language {code:?}");
}

/// A target's written standard, as the memory keeps it (`zh-Hant`).
fn check_standard(code: &str) {
    assert_eq!(
        translation::memory::standard_of_code(code).as_deref(),
        Some(code),
        "standard {code:?}"
    );
}

/// The `catalog` dataset, in JSON and in CSV.
pub fn catalog(data: &[u8]) {
    for format in ["json", "csv"] {
        let Ok(entries) = Recommend::import_dataset("catalog", format, data) else {
            continue;
        };
        let products: Vec<Product> = stored(&entries, recommend::catalog::PRODUCT_PREFIX);
        for p in &products {
            assert!(p.price.is_finite() && p.price >= 0.0, "price {}", p.price);
            assert!(!p.id.trim().is_empty() && !p.category.trim().is_empty());
        }
        // A catalog written as JSON imports back the same.
        let json = serde_json::to_string(&products).unwrap_or_else(|e| panic!("{e}"));
        match recommend::parse_catalog_json(&json) {
            Ok(back) => {
                assert_eq!(back.len(), products.len());
                for (a, b) in back.iter().zip(&products) {
                    assert!(
                        same_price(a.price, b.price),
                        "{} became {}",
                        b.price,
                        a.price
                    );
                    assert_eq!(
                        (&a.id, &a.category, &a.currency),
                        (&b.id, &b.category, &b.currency)
                    );
                    assert_eq!((&a.tags, &a.names), (&b.tags, &b.names));
                }
            }
            Err(e) => panic!("a catalog written as JSON does not import: {e}\n{json}"),
        }
    }
}

/// Prices through JSON: serde_json parses a float it printed to the same value,
/// or (without its `float_roundtrip` feature, as here) to a neighbour.
fn same_price(a: f64, b: f64) -> bool {
    a == b || (a - b).abs() <= f64::EPSILON * a.abs().max(b.abs())
}

/// The `knowledge-base` dataset, in JSON and in CSV, and its ranking.
pub fn kb(data: &[u8]) {
    for format in ["json", "csv"] {
        let Ok(entries) = Recommend::import_dataset("knowledge-base", format, data) else {
            continue;
        };
        let articles: Vec<Article> = stored(&entries, kb::ARTICLE_PREFIX);
        for a in &articles {
            assert!(!a.id.trim().is_empty() && !a.title.trim().is_empty());
            assert!(!a.language.trim().is_empty());
        }
        // An article's own title finds it, first among those in its language.
        for (i, article) in articles.iter().enumerate() {
            let terms = tokenize(&article.title);
            if terms.is_empty() {
                continue;
            }
            let ranked = kb::rank(&articles, &terms, Some(&article.language), |_| 0.0);
            for m in &ranked {
                assert!(m.score.is_finite() && m.score >= 0.0, "score {}", m.score);
                assert!(!m.terms.is_empty() && m.index < articles.len());
            }
            assert!(
                ranked.iter().any(|m| m.index == i),
                "article {i} is not found by its own title"
            );
        }
    }
}

/// The entries an import hands the host, each under the dataset's prefix, read
/// back as the plugin reads them.
fn stored<T: serde::de::DeserializeOwned>(entries: &DatasetEntries, prefix: &str) -> Vec<T> {
    assert_eq!(entries.prefix, prefix);
    assert_eq!(entries.entries.len(), entries.records as usize);
    entries
        .entries
        .iter()
        .map(|(key, value)| {
            assert!(key.starts_with(prefix), "{key:?} is outside {prefix:?}");
            serde_json::from_slice(value).unwrap_or_else(|e| panic!("{key}: {e}"))
        })
        .collect()
}

/// The `roster` dataset, in JSON and in CSV, and the shifts it makes.
pub fn roster(data: &[u8]) {
    let text = crate::text(data);
    for format in ["json", "csv"] {
        let imported = Schedule::import_dataset("roster", format, data);
        let parsed = text.map(|t| match format {
            "json" => Roster::from_json(t),
            _ => Roster::from_csv(t),
        });
        let Some(Ok(roster)) = parsed else {
            assert!(imported.is_err(), "import and parser disagree on {format}");
            continue;
        };
        let entries = match imported {
            Ok(entries) => entries,
            Err(e) => panic!("the parser accepts, the import refuses: {}", e.message),
        };
        // What the import stores reads back as the same roster.
        assert_eq!(entries.entries.len(), 1);
        let stored = String::from_utf8_lossy(&entries.entries[0].1).into_owned();
        match Roster::from_json(&stored) {
            Ok(back) => assert_eq!(back.records, roster.records, "{stored}"),
            Err(e) => panic!("a stored roster does not read back: {e}\n{stored}"),
        }
        check_shifts(&roster);
    }
}

/// A week of shifts around a change to summer time (Europe, 2026-03-29): each in
/// order and of positive length, and an agent is available when a shift starts.
fn check_shifts(roster: &Roster) {
    let (Ok(from), Ok(to)) = (
        "2026-03-26T00:00:00Z".parse::<Timestamp>(),
        "2026-04-02T00:00:00Z".parse::<Timestamp>(),
    ) else {
        panic!("the week's bounds are valid timestamps");
    };
    for agent in &roster.agents {
        let windows = agent.windows(from, to);
        for pair in windows.windows(2) {
            assert!(pair[0] <= pair[1], "{:?}", agent.id);
        }
        for window in &windows {
            assert!(window.start < window.end && window.end > from && window.start < to);
            assert!(
                agent.available_at(window.start),
                "{} at {}",
                agent.id,
                window.start
            );
        }
    }
}
