//! Translating a text with the tenant's engines in order: the translation memory
//! first, then each engine whose circuit breaker is closed ([`health`]), until one
//! translates. What each engine said is kept for the note.

use crossdesk_sdk::{PluginError, clock};

use crate::engine::{Engine, EngineError, Formality, Pairs, Variant, health};
use crate::memory::{self, Glossary, or_warn};
use crate::protect::{Document, Method};
use crate::route::{self, Route};
use crate::settings::Settings;

/// A translation and how it was obtained.
pub(crate) struct Translated {
    pub(crate) text: String,
    /// `memory`, or the route (`fr→es→en`), with a remark when segments were used.
    pub(crate) how: String,
    /// The engine that translated (none for a memory hit).
    pub(crate) engine: Option<&'static str>,
    /// What the engines before it said (`google: HTTP status 429 … (retry after 30 s)`).
    pub(crate) passed_over: Vec<String>,
    /// Words of the text the engine did not know, lower case (Apertium marks them).
    pub(crate) unknown: Vec<String>,
}

impl Translated {
    /// `engine deepl (after google: …)` for a note's header.
    pub(crate) fn engine_note(&self) -> String {
        match (self.engine, self.passed_over.as_slice()) {
            (None, _) => "engine none".to_owned(),
            (Some(engine), []) => format!("engine {engine}"),
            (Some(engine), before) => format!("engine {engine} (after {})", before.join("; ")),
        }
    }
}

/// Why a text was not translated.
pub(crate) enum Untranslated {
    /// No engine has a route between the two languages: an outcome to report, not
    /// a failure (`unsupported pair …` from each engine).
    NoRoute(String),
    /// Engines that might have translated it failed.
    Failed(PluginError),
}

/// What one engine made of the text.
enum Attempt {
    /// The translation, the route, and the words the engine did not know.
    Done(String, String, Vec<String>),
    NoRoute(String),
    Failed(EngineError),
}

/// Translates `text` from `src` to `tgt`: the memory first, else the engines in
/// order, with protection.
/// `variant`: the standard of `tgt` the reader writes, if it has several.
pub(crate) fn translate(
    settings: &Settings,
    text: &str,
    src: &str,
    tgt: &str,
    formality: Formality,
    variant: Option<Variant>,
) -> Result<Translated, Untranslated> {
    // Corrections and terms are the reader's standard's (`zh-Hant`, not `zh`).
    let standard = memory::standard(tgt, variant);
    if let Some(entry) = or_warn(
        "translation memory unavailable",
        memory::lookup_tm(src, &standard, text),
    ) {
        return Ok(Translated {
            text: entry.target,
            how: "memory".to_owned(),
            engine: None,
            passed_over: Vec::new(),
            unknown: Vec::new(),
        });
    }
    let glossary: Glossary = or_warn(
        "glossary unavailable",
        memory::load_glossary(src, &standard),
    );
    let document = Document::new(text, &glossary, tgt);
    let mut passed_over: Vec<String> = Vec::new();
    let mut only_no_route = true;
    let mut failures: Vec<EngineError> = Vec::new();
    for engine in &settings.engines {
        let before = health::load(engine);
        if let Some(wait_ms) = before.open_for_ms(clock::now_ms()) {
            passed_over.push(format!(
                "{}: skipped for {} s more after failing ({})",
                engine.name(),
                wait_ms.saturating_add(999) / 1000,
                before.last_error
            ));
            only_no_route = false;
            continue;
        }
        match attempt(settings, engine, &document, src, tgt, formality, variant) {
            Attempt::Done(text, how, unknown) => {
                health::record_success(engine, &before);
                return Ok(Translated {
                    text,
                    how,
                    engine: Some(engine.name()),
                    passed_over,
                    unknown,
                });
            }
            Attempt::NoRoute(reason) => passed_over.push(reason),
            Attempt::Failed(error) => {
                health::record_failure(engine, &before, &error);
                only_no_route = false;
                passed_over.push(error.message.clone());
                failures.push(error);
            }
        }
    }
    let said = passed_over.join("; ");
    if only_no_route {
        return Err(Untranslated::NoRoute(said));
    }
    // One engine: its own error, as it said it. Several: what each said, worth
    // retrying if any of them may recover.
    Err(Untranslated::Failed(
        match (failures.as_slice(), passed_over.len()) {
            ([only], 1) => only.clone().into(),
            _ if failures.iter().any(|f| f.retryable) || failures.is_empty() => {
                PluginError::retryable(format!("no engine translated {src}→{tgt}: {said}"))
            }
            _ => PluginError::new(format!("no engine translated {src}→{tgt}: {said}")),
        },
    ))
}

/// `document` translated by `engine`: its pairs and the route are looked up once,
/// and only if there is text to translate.
fn attempt(
    settings: &Settings,
    engine: &Engine,
    document: &Document,
    src: &str,
    tgt: &str,
    formality: Formality,
    variant: Option<Variant>,
) -> Attempt {
    let mut plan: Option<(&Pairs, Route)> = None;
    let mut no_route: Option<String> = None;
    let mut failure: Option<EngineError> = None;
    let mut unknown: Vec<String> = Vec::new();
    let translation = document.translate(|texts, markup| {
        let (pairs, route) = match &mut plan {
            Some(plan) => plan,
            None => {
                let pairs = engine.pairs().inspect_err(|e| failure = Some(e.clone()))?;
                let route = route::plan(
                    engine,
                    pairs,
                    src,
                    tgt,
                    &settings.pivot_languages,
                    settings.max_legs,
                )
                .inspect_err(|e| no_route = Some(e.message.clone()))?;
                plan.insert((pairs, route))
            }
        };
        let mut texts = texts.to_vec();
        for (leg, (from, to)) in route.legs().enumerate() {
            // Only the source's own unknown words: a pivot's are the engine's.
            let mut scratch = Vec::new();
            let marked = if leg == 0 { &mut unknown } else { &mut scratch };
            // The customer reads the last leg; a pivot's own register and
            // standard are moot.
            let (formality, variant) = if to == tgt {
                (formality, variant)
            } else {
                (Formality::Default, None)
            };
            texts = engine
                .translate(pairs, from, to, &texts, markup, formality, variant, marked)
                .inspect_err(|e| failure = Some(e.clone()))?;
        }
        Ok::<_, PluginError>(texts)
    });
    match (translation, no_route, failure) {
        (Ok((text, method)), _, _) => {
            let how = match (plan, method) {
                (Some((_, route)), Method::Segments) => format!("{route}, segment by segment"),
                (Some((_, route)), _) => route.to_string(),
                // Nothing to translate (only addresses, codes, emoji...): kept as written.
                (None, _) => "nothing to translate".to_owned(),
            };
            Attempt::Done(text, how, unknown)
        }
        (Err(_), Some(reason), _) => Attempt::NoRoute(reason),
        (Err(_), None, Some(error)) => Attempt::Failed(error),
        (Err(e), None, None) => Attempt::Failed(EngineError {
            message: e.message,
            retryable: e.retryable,
            retry_after_ms: None,
        }),
    }
}
