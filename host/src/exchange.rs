//! Exchange files for the translation plugin's data, read and written by the CLI
//! straight into the store: translation memories as TMX 1.4 (the format CAT tools
//! and translation vendors exchange) and term lists (glossaries, regional slang) as
//! CSV.
//!
//! The key layout is the plugin's own ([`translation::memory`]), so what is imported
//! here is what the plugin reads. Every import is one transaction and bumps the data's
//! generation, so a running sidecar stops serving cached translations it affects.

use std::io::Write as _;

use quick_xml::Reader;
use quick_xml::escape::escape;
use quick_xml::events::{BytesStart, Event};
use translation::{lang, memory};

use crate::store::{Store, StoreError};

/// Why a file could not be imported or exported.
#[derive(Debug, thiserror::Error)]
pub enum ExchangeError {
    #[error("not a readable TMX file: {0}")]
    Xml(String),
    #[error("TMX translation unit {unit}: {message}")]
    Unit { unit: usize, message: String },
    #[error("term list line {line}: {message}")]
    Term { line: u64, message: String },
    #[error("stored entry {key}: {message}")]
    Stored { key: String, message: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// One translation-memory entry with its languages (canonical ISO 639-1 codes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TmRecord {
    pub source_language: String,
    pub target_language: String,
    pub source: String,
    pub target: String,
    /// `import`, `correction`, `correction:<agent id>`, ...
    pub origin: String,
}

/// A glossary entry: a forced translation, or (without a target) a term that is
/// never translated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TermRecord {
    Keep(String),
    Force {
        source_language: String,
        target_language: String,
        term: String,
        target: String,
    },
}

/// `<prop type="...">` carrying an entry's origin in our exports.
const ORIGIN_PROP: &str = "x-crossdesk-origin";

fn canonical(code: &str) -> Option<String> {
    lang::from_code(code).map(str::to_owned)
}

/// A `<tuv>` while it is read.
struct Variant {
    language: String,
    text: String,
}

/// A `<tu>` while it is read.
#[derive(Default)]
struct Unit {
    source_language: Option<String>,
    origin: Option<String>,
    variants: Vec<Variant>,
}

fn attribute(element: &BytesStart<'_>, names: &[&[u8]]) -> Result<Option<String>, String> {
    for attr in element.attributes() {
        let attr = attr.map_err(|e| e.to_string())?;
        if names.contains(&attr.key.as_ref()) {
            return attr
                .unescape_value()
                .map(|v| Some(v.into_owned()))
                .map_err(|e| e.to_string());
        }
    }
    Ok(None)
}

/// Reads a TMX document. Every translation unit gives one record per language other
/// than its source language (the unit's `srclang`, else the header's, else its first
/// variant). A segment's inline markup (`<ph>`, `<bpt>`, ...) contributes its text,
/// which in TMX is the original's native code.
pub fn parse_tmx(text: &str) -> Result<Vec<TmRecord>, ExchangeError> {
    let xml = |e: &dyn std::fmt::Display| ExchangeError::Xml(e.to_string());
    let mut reader = Reader::from_str(text);
    let mut records = Vec::new();
    let mut header_source: Option<String> = None;
    let mut seen_tmx = false;
    let mut unit: Option<Unit> = None;
    let mut units = 0usize;
    let mut variant_language: Option<String> = None;
    let mut segment: Option<String> = None;
    let mut prop_type: Option<String> = None;
    let mut prop_text = String::new();
    loop {
        let event = reader.read_event().map_err(|e| xml(&e))?;
        match event {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let empty = matches!(event, Event::Empty(_));
                match e.name().as_ref() {
                    b"tmx" => seen_tmx = true,
                    b"header" => {
                        header_source = attribute(e, &[b"srclang"]).map_err(|m| xml(&m))?
                    }
                    b"tu" if !empty => {
                        units += 1;
                        unit = Some(Unit {
                            source_language: attribute(e, &[b"srclang"]).map_err(|m| xml(&m))?,
                            ..Unit::default()
                        });
                    }
                    b"tuv" if !empty => {
                        variant_language =
                            attribute(e, &[b"xml:lang", b"lang"]).map_err(|m| xml(&m))?;
                        if variant_language.is_none() {
                            return Err(ExchangeError::Unit {
                                unit: units,
                                message: "a <tuv> without xml:lang".into(),
                            });
                        }
                    }
                    b"seg" if !empty => segment = Some(String::new()),
                    b"prop" if !empty && unit.is_some() && segment.is_none() => {
                        prop_type = attribute(e, &[b"type"]).map_err(|m| xml(&m))?;
                        prop_text.clear();
                    }
                    _ => {}
                }
            }
            Event::Text(t) => {
                let t = t.unescape().map_err(|e| xml(&e))?;
                if let Some(segment) = segment.as_mut() {
                    segment.push_str(&t);
                } else if prop_type.is_some() {
                    prop_text.push_str(&t);
                }
            }
            Event::CData(t) => {
                let t = String::from_utf8_lossy(&t.into_inner()).into_owned();
                if let Some(segment) = segment.as_mut() {
                    segment.push_str(&t);
                }
            }
            Event::End(e) => match e.name().as_ref() {
                b"seg" => {
                    if let (Some(unit), Some(language), Some(text)) =
                        (unit.as_mut(), variant_language.clone(), segment.take())
                    {
                        unit.variants.push(Variant { language, text });
                    }
                }
                b"tuv" => variant_language = None,
                b"prop" => {
                    if let (Some(unit), Some(kind)) = (unit.as_mut(), prop_type.take())
                        && kind == ORIGIN_PROP
                    {
                        unit.origin = Some(prop_text.trim().to_owned());
                    }
                }
                b"tu" => {
                    if let Some(unit) = unit.take() {
                        unit_records(units, unit, header_source.as_deref(), &mut records)?;
                    }
                }
                _ => {}
            },
            Event::Eof => break,
            _ => {}
        }
    }
    if !seen_tmx {
        return Err(ExchangeError::Xml("no <tmx> element".into()));
    }
    Ok(records)
}

fn unit_records(
    index: usize,
    unit: Unit,
    header_source: Option<&str>,
    out: &mut Vec<TmRecord>,
) -> Result<(), ExchangeError> {
    let error = |message: String| ExchangeError::Unit {
        unit: index,
        message,
    };
    if unit.variants.len() < 2 {
        return Err(error(format!(
            "{} language variant(s); a translation needs two",
            unit.variants.len()
        )));
    }
    let mut variants = Vec::with_capacity(unit.variants.len());
    for v in unit.variants {
        let language = canonical(&v.language)
            .ok_or_else(|| error(format!("unknown language '{}'", v.language)))?;
        let text = memory::normalize(&v.text);
        if text.is_empty() {
            return Err(error(format!("the {language} segment is empty")));
        }
        variants.push((language, text));
    }
    let declared = unit
        .source_language
        .as_deref()
        .or(header_source)
        .filter(|l| *l != "*all*");
    let source_index = match declared {
        None => 0,
        Some(code) => {
            let wanted = canonical(code)
                .ok_or_else(|| error(format!("unknown source language '{code}'")))?;
            variants
                .iter()
                .position(|(language, _)| *language == wanted)
                .ok_or_else(|| error(format!("no segment in the source language {wanted}")))?
        }
    };
    let (source_language, source) = variants[source_index].clone();
    for (i, (language, text)) in variants.into_iter().enumerate() {
        if i == source_index || language == source_language {
            continue;
        }
        out.push(TmRecord {
            source_language: source_language.clone(),
            target_language: language,
            source: source.clone(),
            target: text,
            origin: unit.origin.clone().unwrap_or_else(|| "import".to_owned()),
        });
    }
    Ok(())
}

/// Writes records as a TMX 1.4 document, one translation unit per record.
pub fn write_tmx(records: &[TmRecord]) -> String {
    let mut out = Vec::new();
    // Writing into a Vec cannot fail.
    let _ = write!(
        out,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<tmx version=\"1.4\">\n  \
         <header creationtool=\"crossdesk\" creationtoolversion=\"{}\" segtype=\"sentence\" \
         o-tmf=\"crossdesk\" adminlang=\"en\" srclang=\"*all*\" datatype=\"plaintext\"/>\n  <body>\n",
        env!("CARGO_PKG_VERSION")
    );
    for r in records {
        let _ = write!(
            out,
            "    <tu srclang=\"{src}\">\n      <prop type=\"{ORIGIN_PROP}\">{origin}</prop>\n      \
             <tuv xml:lang=\"{src}\"><seg>{source}</seg></tuv>\n      \
             <tuv xml:lang=\"{tgt}\"><seg>{target}</seg></tuv>\n    </tu>\n",
            src = escape(r.source_language.as_str()),
            tgt = escape(r.target_language.as_str()),
            origin = escape(r.origin.as_str()),
            source = escape(r.source.as_str()),
            target = escape(r.target.as_str()),
        );
    }
    out.extend_from_slice(b"  </body>\n</tmx>\n");
    String::from_utf8_lossy(&out).into_owned()
}

/// Reads a term list: CSV with the header `source_language,target_language,source,target`.
/// A row without a target marks a term never to be translated (in any pair).
pub fn parse_terms(text: &str) -> Result<Vec<TermRecord>, ExchangeError> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(false)
        .from_reader(text.as_bytes());
    let header_error = |message: String| ExchangeError::Term { line: 1, message };
    let headers = reader
        .headers()
        .map_err(|e| header_error(e.to_string()))?
        .clone();
    let expected = ["source_language", "target_language", "source", "target"];
    if headers.iter().collect::<Vec<_>>() != expected {
        return Err(header_error(format!(
            "the header must be `{}`",
            expected.join(",")
        )));
    }
    let mut terms = Vec::new();
    for row in reader.records() {
        let row = row.map_err(|e| ExchangeError::Term {
            line: e.position().map_or(0, |p| p.line()),
            message: e.to_string(),
        })?;
        let line = row.position().map_or(0, |p| p.line());
        let error = |message: String| ExchangeError::Term { line, message };
        let field = |i: usize| row.get(i).unwrap_or_default();
        let term = memory::normalize(field(2));
        if term.is_empty() {
            return Err(error("the source term is empty".into()));
        }
        let target = memory::normalize(field(3));
        if target.is_empty() {
            terms.push(TermRecord::Keep(term));
            continue;
        }
        let language =
            |code: &str| canonical(code).ok_or_else(|| error(format!("unknown language '{code}'")));
        terms.push(TermRecord::Force {
            source_language: language(field(0))?,
            target_language: language(field(1))?,
            term,
            target,
        });
    }
    Ok(terms)
}

/// Stores the records in a tenant's translation memory of `plugin`; returns how
/// many entries changed.
pub async fn import_tm(
    store: &Store,
    tenant: &str,
    plugin: &str,
    records: &[TmRecord],
) -> Result<usize, ExchangeError> {
    let pairs = records
        .iter()
        .map(|r| {
            let entry = memory::TmEntry::new(r.source.clone(), r.target.clone(), r.origin.clone());
            (
                memory::tm_key(&r.source_language, &r.target_language, &r.source),
                entry.encode(),
            )
        })
        .collect();
    Ok(store.kv_put_many(tenant, plugin, pairs).await?)
}

/// Every entry of a tenant's translation memory of `plugin`, ordered by language
/// pair.
pub async fn export_tm(
    store: &Store,
    tenant: &str,
    plugin: &str,
) -> Result<Vec<TmRecord>, ExchangeError> {
    let mut records = Vec::new();
    for (key, value) in store.kv_scan(tenant, plugin, memory::TM_PREFIX).await? {
        let stored = |message: String| ExchangeError::Stored {
            key: key.clone(),
            message,
        };
        let mut parts = key[memory::TM_PREFIX.len()..].splitn(3, '/');
        let (Some(src), Some(tgt), Some(_hash)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(stored("not a translation-memory key".into()));
        };
        let entry = memory::TmEntry::decode(&value).map_err(|e| stored(e.to_string()))?;
        records.push(TmRecord {
            source_language: src.to_owned(),
            target_language: tgt.to_owned(),
            source: entry.source,
            target: entry.target,
            origin: entry.origin,
        });
    }
    records.sort_by(|a, b| {
        (&a.source_language, &a.target_language, &a.source).cmp(&(
            &b.source_language,
            &b.target_language,
            &b.source,
        ))
    });
    Ok(records)
}

/// Stores the terms in a tenant's glossary of `plugin`; returns how many changed.
pub async fn import_terms(
    store: &Store,
    tenant: &str,
    plugin: &str,
    terms: &[TermRecord],
) -> Result<usize, ExchangeError> {
    let pairs = terms
        .iter()
        .map(|t| match t {
            TermRecord::Keep(term) => (memory::keep_key(term), Vec::new()),
            TermRecord::Force {
                source_language,
                target_language,
                term,
                target,
            } => (
                memory::term_key(source_language, target_language, term),
                target.as_bytes().to_vec(),
            ),
        })
        .collect();
    Ok(store.kv_put_many(tenant, plugin, pairs).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<tmx version="1.4">
  <header creationtool="X" creationtoolversion="1" segtype="sentence" o-tmf="x"
          adminlang="en-US" srclang="en-US" datatype="plaintext"/>
  <body>
    <tu>
      <tuv xml:lang="en-US"><seg>Your   refund &amp; receipt</seg></tuv>
      <tuv xml:lang="es-ES"><seg>Su reembolso y recibo</seg></tuv>
      <tuv xml:lang="fr-FR"><seg>Votre remboursement</seg></tuv>
    </tu>
    <tu srclang="es">
      <tuv lang="en"><seg>Line<ph>&lt;br/&gt;</ph>break</seg></tuv>
      <tuv lang="es"><seg><![CDATA[Salto <b>]]></seg></tuv>
    </tu>
  </body>
</tmx>"#;

    #[test]
    fn tmx_units_give_one_record_per_target_language() {
        let records = parse_tmx(SAMPLE).expect("parse");
        assert_eq!(records.len(), 3);
        assert_eq!(records[0].source_language, "en");
        assert_eq!(records[0].target_language, "es");
        assert_eq!(records[0].source, "Your refund & receipt");
        assert_eq!(records[1].target_language, "fr");
        assert_eq!(records[0].origin, "import");
        // The unit's own srclang wins over the header's; inline code keeps its text.
        assert_eq!(records[2].source_language, "es");
        assert_eq!(records[2].source, "Salto <b>");
        assert_eq!(records[2].target, "Line<br/>break");
    }

    #[test]
    fn written_tmx_reads_back_the_same() {
        let records = vec![TmRecord {
            source_language: "en".into(),
            target_language: "ja".into(),
            source: "Order #12 <b>shipped</b> & \"paid\"".into(),
            target: "ご注文 #12 は発送済みです".into(),
            origin: "correction:agent-7".into(),
        }];
        assert_eq!(parse_tmx(&write_tmx(&records)).expect("parse"), records);
    }

    #[test]
    fn bad_tmx_is_refused_with_the_unit_and_reason() {
        let one_variant = r#"<tmx version="1.4"><header srclang="en"/><body>
            <tu><tuv xml:lang="en"><seg>Hi</seg></tuv></tu></body></tmx>"#;
        let err = parse_tmx(one_variant).expect_err("refused").to_string();
        assert!(err.contains("unit 1") && err.contains("two"), "{err}");
        let klingon = r#"<tmx version="1.4"><header srclang="en"/><body>
            <tu><tuv xml:lang="en"><seg>Hi</seg></tuv><tuv xml:lang="tlh"><seg>nuqneH</seg></tuv></tu>
            </body></tmx>"#;
        let err = parse_tmx(klingon).expect_err("refused").to_string();
        assert!(err.contains("unknown language 'tlh'"), "{err}");
        assert!(parse_tmx("<html></html>").is_err());
    }

    #[test]
    fn term_lists_force_or_keep_terms() {
        let csv = "source_language,target_language,source,target\n\
                   en,es,refund,reembolso\n\
                   es-MX,en,chamba,job\n\
                   ,,Crossdesk Pro,\n";
        let terms = parse_terms(csv).expect("parse");
        assert_eq!(
            terms,
            vec![
                TermRecord::Force {
                    source_language: "en".into(),
                    target_language: "es".into(),
                    term: "refund".into(),
                    target: "reembolso".into()
                },
                TermRecord::Force {
                    source_language: "es".into(),
                    target_language: "en".into(),
                    term: "chamba".into(),
                    target: "job".into()
                },
                TermRecord::Keep("Crossdesk Pro".into()),
            ]
        );
        let err = parse_terms("a,b\n").expect_err("bad header").to_string();
        assert!(err.contains("header"), "{err}");
        let err = parse_terms("source_language,target_language,source,target\nxx,es,a,b\n")
            .expect_err("bad language")
            .to_string();
        assert!(err.contains("line 2") && err.contains("'xx'"), "{err}");
    }

    #[tokio::test]
    async fn imports_land_where_the_plugin_reads_and_export_round_trips() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path()).expect("store");
        let records = parse_tmx(SAMPLE).expect("parse");
        assert_eq!(
            import_tm(&store, "acme", "translation", &records)
                .await
                .expect("import"),
            3
        );
        // Importing the same again changes nothing.
        assert_eq!(
            import_tm(&store, "acme", "translation", &records)
                .await
                .expect("import"),
            0
        );
        let key = memory::tm_key("en", "es", "Your refund & receipt");
        let stored = store
            .kv_get("acme", "translation", &key)
            .await
            .expect("get")
            .expect("present");
        assert_eq!(
            memory::TmEntry::decode(&stored).expect("decode").target,
            "Su reembolso y recibo"
        );
        let mut exported = export_tm(&store, "acme", "translation")
            .await
            .expect("export");
        let mut expected = records.clone();
        let order = |r: &TmRecord| {
            (
                r.source_language.clone(),
                r.target_language.clone(),
                r.source.clone(),
            )
        };
        exported.sort_by_key(order);
        expected.sort_by_key(order);
        assert_eq!(exported, expected);
        // Another tenant sees nothing.
        assert!(
            export_tm(&store, "other", "translation")
                .await
                .expect("export")
                .is_empty()
        );

        let terms = parse_terms(
            "source_language,target_language,source,target\nen,es,refund,reembolso\n,,Crossdesk,\n",
        )
        .expect("terms");
        import_terms(&store, "acme", "translation", &terms)
            .await
            .expect("import terms");
        assert_eq!(
            store
                .kv_get(
                    "acme",
                    "translation",
                    &memory::term_key("en", "es", "refund")
                )
                .await
                .expect("get"),
            Some(b"reembolso".to_vec())
        );
        assert!(
            store
                .kv_get("acme", "translation", &memory::keep_key("Crossdesk"))
                .await
                .expect("get")
                .is_some()
        );
    }
}
