//! Exchange files for the plugin's data: translation memories as TMX 1.4 (the format
//! CAT tools and translation vendors exchange) and term lists (glossaries, regional
//! slang) as CSV. Parsing and writing are pure; [`import_tm`], [`export_tm`] and
//! [`import_terms`] read and write the tenant's storage through the SDK's [`kv`],
//! in the layout of [`crate::memory`], so what is imported is what the plugin reads.

use std::io::Write as _;

use crossdesk_sdk::kv::{self, KvError};
use quick_xml::Reader;
use quick_xml::escape::escape;
use quick_xml::events::{BytesStart, Event};

use crate::{lang, memory};

/// Why a file could not be imported or exported.
///
/// ```
/// let err = translation::exchange::parse_tmx("<html/>").unwrap_err();
/// assert_eq!(err.to_string(), "not a readable TMX file: no <tmx> element");
/// ```
#[derive(Debug, thiserror::Error)]
pub enum ExchangeError {
    /// The document is not well-formed XML, or not TMX.
    #[error("not a readable TMX file: {0}")]
    Xml(String),
    /// A translation unit (1-based) cannot be used.
    #[error("TMX translation unit {unit}: {message}")]
    Unit {
        /// Its position in the document, from 1.
        unit: usize,
        /// What is wrong.
        message: String,
    },
    /// A line of a term list cannot be used.
    #[error("term list line {line}: {message}")]
    Term {
        /// The line, from 1 (the header).
        line: u64,
        /// What is wrong.
        message: String,
    },
    /// A stored memory entry cannot be read back.
    #[error("stored entry {key}: {message}")]
    Stored {
        /// Its key.
        key: String,
        /// What is wrong.
        message: String,
    },
    /// The storage refused or failed.
    #[error(transparent)]
    Kv(#[from] KvError),
}

/// One translation-memory entry with its languages (canonical ISO 639-1 codes;
/// the target's written standard, [`memory::standard`]: `zh-Hant`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TmRecord {
    /// Language of `source`.
    pub source_language: String,
    /// Standard of `target`.
    pub target_language: String,
    /// The source text, normalized ([`memory::normalize`]).
    pub source: String,
    /// Its translation.
    pub target: String,
    /// `import`, `correction`, `correction:<agent id>`, ...
    pub origin: String,
}

/// A glossary entry: a forced translation, or (without a target) a term that is
/// never translated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TermRecord {
    /// Never translated, in any pair.
    Keep(String),
    /// Always translated as `target` from `source_language` to `target_language`.
    Force {
        /// Language of `term`.
        source_language: String,
        /// Standard of `target` ([`memory::standard`]).
        target_language: String,
        /// The source term.
        term: String,
        /// Its forced translation.
        target: String,
    },
}

/// `<prop type="...">` carrying an entry's origin in our exports.
const ORIGIN_PROP: &str = "x-crossdesk-origin";

fn canonical(code: &str) -> Option<String> {
    lang::from_code(code).map(str::to_owned)
}

/// A target's code as the memory keeps it: its written standard (`zh-TW` →
/// `zh-Hant`, [`memory::standard`]).
fn target_standard(code: &str) -> Option<String> {
    memory::standard_of_code(code)
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
///
/// ```
/// let records = translation::exchange::parse_tmx(
///     r#"<tmx version="1.4"><header srclang="en"/><body><tu>
///        <tuv xml:lang="en"><seg>Thanks!</seg></tuv><tuv xml:lang="es-ES"><seg>¡Gracias!</seg></tuv>
///        </tu></body></tmx>"#,
/// ).unwrap();
/// assert_eq!((records[0].target_language.as_str(), records[0].target.as_str()), ("es", "¡Gracias!"));
/// ```
pub fn parse_tmx(text: &str) -> Result<Vec<TmRecord>, ExchangeError> {
    let xml = |e: &dyn std::fmt::Display| ExchangeError::Xml(e.to_string());
    let mut reader = Reader::from_str(text);
    let mut records = Vec::new();
    let mut header_source: Option<String> = None;
    let mut seen_tmx = false;
    let mut closed_tmx = false;
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
                b"tmx" => closed_tmx = true,
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
    // The reader does not object to elements left open at the end: a truncated file
    // would import its first half.
    if !closed_tmx {
        return Err(ExchangeError::Xml("the file ends before </tmx>".into()));
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
    // Each segment's standard (its language, or `zh-Hant`, `pt-PT`…): what it
    // is kept for as a target.
    for v in unit.variants {
        let language = target_standard(&v.language)
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
            // Its own standard first (`zh-TW` before a `zh-CN` segment), else
            // any of its language.
            let exact = target_standard(code);
            variants
                .iter()
                .position(|(standard, _)| exact.as_ref() == Some(standard))
                .or_else(|| {
                    variants
                        .iter()
                        .position(|(standard, _)| memory::language_of(standard) == wanted)
                })
                .ok_or_else(|| error(format!("no segment in the source language {wanted}")))?
        }
    };
    let (source_standard, source) = variants[source_index].clone();
    // Sources are looked up by language: the agent's.
    let source_language = memory::language_of(&source_standard).to_owned();
    for (i, (language, text)) in variants.into_iter().enumerate() {
        if i == source_index || memory::language_of(&language) == source_language {
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

/// Writes records as a TMX 1.4 document, one translation unit per record; the
/// origin goes in a `<prop type="x-crossdesk-origin">`, which [`parse_tmx`] reads
/// back.
///
/// ```
/// use translation::exchange::{parse_tmx, write_tmx};
/// assert_eq!(parse_tmx(&write_tmx(&[])).unwrap(), vec![]);
/// ```
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
///
/// ```
/// use translation::exchange::{TermRecord, parse_terms};
/// let terms = parse_terms("source_language,target_language,source,target\n,,Crossdesk,\n").unwrap();
/// assert_eq!(terms, vec![TermRecord::Keep("Crossdesk".into())]);
/// ```
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
        let unknown = |code: &str| error(format!("unknown language '{code}'"));
        terms.push(TermRecord::Force {
            source_language: canonical(field(0)).ok_or_else(|| unknown(field(0)))?,
            target_language: target_standard(field(1)).ok_or_else(|| unknown(field(1)))?,
            term,
            target,
        });
    }
    Ok(terms)
}

// ---- Through the SDK's kv: the tenant's storage, as granted to the plugin. ----
//
// Entries are written one by one (the contract has no batch write); the whole file
// is parsed and checked first, and an entry is written only when it changes, so an
// import that fails half-way is completed by running it again.

/// Stores the records in the tenant's translation memory; returns how many
/// entries changed.
///
/// ```
/// use translation::exchange::{self, TmRecord};
/// let _host = crossdesk_sdk::testing::MockHost::new().grant_kv().install();
/// let record = TmRecord { source_language: "en".into(), target_language: "es".into(),
///     source: "Hi".into(), target: "Hola".into(), origin: "import".into() };
/// assert_eq!(exchange::import_tm(&[record.clone()]).unwrap(), 1);
/// assert_eq!(exchange::import_tm(&[record]).unwrap(), 0);
/// ```
pub fn import_tm(records: &[TmRecord]) -> Result<usize, KvError> {
    let mut changed = 0;
    for r in records {
        let entry = memory::TmEntry::new(r.source.clone(), r.target.clone(), r.origin.clone());
        changed += usize::from(memory::store_tm(
            &r.source_language,
            &r.target_language,
            &entry,
        )?);
    }
    Ok(changed)
}

/// Every entry of the tenant's translation memory, ordered by language pair and
/// source.
///
/// ```
/// let _host = crossdesk_sdk::testing::MockHost::new().grant_kv().install();
/// assert!(translation::exchange::export_tm().unwrap().is_empty());
/// ```
pub fn export_tm() -> Result<Vec<TmRecord>, ExchangeError> {
    let mut records = Vec::new();
    // Every entry: a backup (or a move) of a memory larger than one listing
    // must not stop at its first 10,000.
    for key in kv::list_all_keys(memory::TM_PREFIX, memory::TM_KEY_CHARS)? {
        // Removed since it was listed: nothing to export.
        let Some(value) = kv::get(&key)? else {
            continue;
        };
        let stored = |message: String| ExchangeError::Stored {
            key: key.clone(),
            message,
        };
        let rest = key.strip_prefix(memory::TM_PREFIX).unwrap_or_default();
        let mut parts = rest.splitn(3, '/');
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

/// Stores the terms in the tenant's glossary; returns how many entries changed.
///
/// ```
/// use translation::exchange::{self, TermRecord};
/// let host = crossdesk_sdk::testing::MockHost::new().grant_kv().install();
/// assert_eq!(exchange::import_terms(&[TermRecord::Keep("Crossdesk".into())]).unwrap(), 1);
/// assert_eq!(host.kv_value("glossary/keep/Crossdesk"), Some(vec![]));
/// ```
pub fn import_terms(terms: &[TermRecord]) -> Result<usize, KvError> {
    let mut changed = 0;
    for t in terms {
        let wrote = match t {
            TermRecord::Keep(term) => memory::put_keep(term)?,
            TermRecord::Force {
                source_language,
                target_language,
                term,
                target,
            } => memory::put_term(source_language, target_language, term, target)?,
        };
        changed += usize::from(wrote);
    }
    Ok(changed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossdesk_sdk::testing::MockHost;

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
        let truncated = &SAMPLE[..SAMPLE.find("<tu srclang").expect("second unit")];
        let err = parse_tmx(truncated).expect_err("truncated").to_string();
        assert_eq!(err, "not a readable TMX file: the file ends before </tmx>");
    }

    /// A segment in Traditional Chinese is kept for readers of it, apart from
    /// Simplified; a source in a regional standard is looked up by its language.
    #[test]
    fn targets_keep_their_written_standard() {
        let tmx = r#"<tmx version="1.4"><header srclang="en-GB"/><body>
            <tu><tuv xml:lang="en-GB"><seg>Refund</seg></tuv>
            <tuv xml:lang="zh-TW"><seg>退款</seg></tuv>
            <tuv xml:lang="zh-CN"><seg>退款</seg></tuv>
            <tuv xml:lang="pt-PT"><seg>Reembolso</seg></tuv>
            <tuv xml:lang="en-US"><seg>Refund</seg></tuv></tu></body></tmx>"#;
        let records = parse_tmx(tmx).expect("parse");
        let pairs: Vec<(&str, &str)> = records
            .iter()
            .map(|r| (r.source_language.as_str(), r.target_language.as_str()))
            .collect();
        assert_eq!(pairs, [("en", "zh-Hant"), ("en", "zh"), ("en", "pt")]);
        // A Traditional source is its own segment, whatever comes before it.
        let from_taiwan = r#"<tmx version="1.4"><header srclang="zh-TW"/><body>
            <tu><tuv xml:lang="zh-CN"><seg>退款</seg></tuv>
            <tuv xml:lang="zh-TW"><seg>退款了</seg></tuv>
            <tuv xml:lang="en"><seg>Refund</seg></tuv></tu></body></tmx>"#;
        let records = parse_tmx(from_taiwan).expect("parse");
        assert_eq!(records.len(), 1, "{records:?}");
        assert_eq!(
            (
                records[0].source.as_str(),
                records[0].target_language.as_str()
            ),
            ("退款了", "en")
        );
        let terms = parse_terms(
            "source_language,target_language,source,target
en,zh-HK,refund,退款
",
        )
        .expect("terms");
        assert!(
            matches!(&terms[0], TermRecord::Force { target_language, .. } if target_language == "zh-Hant")
        );
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

    /// A memory larger than one listing of the host's (10,000 keys) is
    /// exported whole: a backup, or a move, must not stop at its first keys.
    #[test]
    fn a_memory_past_one_listing_is_exported_whole() {
        let _host = MockHost::new().grant_kv().install();
        let count = crossdesk_sdk::kv::MAX_LISTED + 20;
        for n in 0..count {
            let entry = memory::TmEntry::new(format!("unit {n}"), format!("unidad {n}"), "import");
            memory::store_tm(if n % 2 == 0 { "en" } else { "de" }, "es", &entry).expect("stored");
        }
        assert_eq!(export_tm().expect("export").len(), count);
    }

    #[test]
    fn imports_land_where_the_plugin_reads_and_export_round_trips() {
        let host = MockHost::new().grant_kv().install();
        let records = parse_tmx(SAMPLE).expect("parse");
        assert_eq!(import_tm(&records).expect("import"), 3);
        // Importing the same again changes nothing.
        assert_eq!(import_tm(&records).expect("import"), 0);
        let hit = memory::lookup_tm("en", "es", "Your refund & receipt")
            .expect("lookup")
            .expect("present");
        assert_eq!(hit.target, "Su reembolso y recibo");
        let mut exported = export_tm().expect("export");
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

        let terms = parse_terms(
            "source_language,target_language,source,target\nen,es,refund,reembolso\n,,Crossdesk,\n",
        )
        .expect("terms");
        assert_eq!(import_terms(&terms).expect("import terms"), 2);
        assert_eq!(
            host.kv_value(&memory::term_key("en", "es", "refund")),
            Some(b"reembolso".to_vec())
        );
        assert!(host.kv_value(&memory::keep_key("Crossdesk")).is_some());
    }

    #[test]
    fn an_undecodable_stored_entry_is_named() {
        let _host = MockHost::new().grant_kv().install();
        kv::put("tm/en/es/abc", b"{").expect("put");
        let err = export_tm().expect_err("undecodable").to_string();
        assert!(
            err.starts_with("stored entry tm/en/es/abc: undecodable"),
            "{err}"
        );
        kv::delete("tm/en/es/abc").expect("delete");
        kv::put("tm/en", b"{}").expect("put");
        let err = export_tm().expect_err("bad key").to_string();
        assert_eq!(err, "stored entry tm/en: not a translation-memory key");
    }
}
