//! The plugin: settings, and what it does for each event kind (admin commands are
//! answered in `tools`).

use crossdesk_sdk::{
    Action, CommandInput, CommandOutput, Event, EventKind, Manifest, Plugin, PluginError,
    kv::KvError, log,
};

use crate::engine::{Engine, Formality, Pairs};
use crate::lang;
use crate::memory::{self, Glossary, TmEntry};
use crate::protect::{self, Document, Method};
use crate::route::{self, Route};
use crossdesk_text::detect;

/// The settings, each with its default.
const DEFAULTS: &[(&str, &str)] = &[
    ("engine", "apertium"),
    ("engine_url", "http://127.0.0.1:2737"),
    ("agent_language", "en"),
    ("pivot_languages", "es,en"),
    ("max_legs", "3"),
    ("min_detect_chars", "24"),
    // The tone plugin's default pronouns: tú in Spain, você in Brazil, the formal
    // pronoun elsewhere.
    ("formality", "es-ES=informal, pt-BR=informal, *=formal"),
];

/// The settings as declared in the manifest, with their types, so the host refuses
/// a bad value when an admin sets it rather than at the next event.
const DECLARATIONS: &[&str] = &[
    "engine: one-of(apertium|libretranslate|deepl)",
    "engine_url: url",
    "agent_language: language",
    "pivot_languages: languages",
    "max_legs: int(1..4)",
    "min_detect_chars: int(0..100000)",
    "formality: list",
];

/// The translation plugin.
///
/// ```
/// use crossdesk_sdk::{Action, Event, EventKind, Plugin, testing::MockHost};
/// use translation::Translation;
///
/// let _host = MockHost::new().grant_kv().install();
/// let message = Event::new(EventKind::CustomerMessage, "Thanks a lot, the replacement arrived this morning.");
/// // English for an English-speaking agent: only the language tag.
/// assert_eq!(Translation::handle(message).unwrap(), vec![Action::AddTags(vec!["lang-en".into()])]);
/// ```
pub struct Translation;

impl Plugin for Translation {
    fn manifest() -> Manifest {
        let mut manifest = Manifest::new("translation", env!("CARGO_PKG_VERSION"))
            .describe(
                "Translates customer messages for agents and reply drafts for customers, \
                 keeping URLs, codes and glossary terms intact",
            )
            .handles(EventKind::CustomerMessage)
            .handles(EventKind::AgentReplyDrafted)
            .handles(EventKind::TranslationCorrected)
            .wants_kv()
            // Informational: admins grant the engine's host in allowed_hosts.
            .wants_host("127.0.0.1:2737")
            .cacheable(true);
        for declaration in DECLARATIONS {
            manifest = manifest.reads_setting(*declaration);
        }
        for command in crate::tools::command_specs() {
            manifest = manifest.offers_command(command);
        }
        manifest
    }

    fn handle(event: Event) -> Result<Vec<Action>, PluginError> {
        match event.kind {
            EventKind::CustomerMessage => inbound(&event),
            EventKind::AgentReplyDrafted => outbound(&event),
            EventKind::TranslationCorrected => correction(&event),
            _ => Ok(Vec::new()),
        }
    }

    fn run_command(command: &str, input: CommandInput) -> Result<CommandOutput, PluginError> {
        crate::tools::run_command(command, &input)
    }
}

/// The plugin's settings, read from the tenant's settings with defaults.
///
/// ```
/// use crossdesk_sdk::testing::MockHost;
/// let _host = MockHost::new().setting("pivot_languages", "ca, es").install();
/// let settings = translation::Settings::load().unwrap();
/// assert_eq!(settings.agent_language, "en");
/// assert_eq!(settings.pivot_languages, vec!["ca", "es"]);
/// assert_eq!(settings.min_detect_chars, 24);
/// ```
#[derive(Debug, Clone)]
pub struct Settings {
    /// The engine and its URL (`engine`, `engine_url`).
    pub engine: Engine,
    /// The agents' working language (`agent_language`), canonical.
    pub agent_language: String,
    /// Intermediate languages tried first, in order (`pivot_languages`), canonical.
    pub pivot_languages: Vec<String>,
    /// The most legs a route may have (`max_legs`): each leg costs quality.
    pub max_legs: usize,
    /// Below this many letters the customer's locale decides (`min_detect_chars`).
    pub min_detect_chars: usize,
    /// The formality asked of engines that take one, by locale, language or `*`
    /// (`formality`), in the order given.
    pub formality: Vec<(String, Formality)>,
}

fn setting(key: &str) -> String {
    crossdesk_sdk::settings::get(key)
        .filter(|v| !v.trim().is_empty())
        .or_else(|| {
            DEFAULTS
                .iter()
                .find(|(k, _)| *k == key)
                .map(|(_, v)| (*v).to_owned())
        })
        .unwrap_or_default()
}

fn language_setting(key: &str, value: &str) -> Result<String, PluginError> {
    lang::from_code(value).map(str::to_owned).ok_or_else(|| {
        PluginError::new(format!(
            "setting {key}: unknown language {value:?} (use ISO 639-1 codes such as en, es, fr)"
        ))
    })
}

impl Settings {
    /// Reads the settings; a value that makes no sense is an error naming its key.
    pub fn load() -> Result<Settings, PluginError> {
        let engine = Engine::new(&setting("engine"), &setting("engine_url"))?;
        let agent_language = language_setting("agent_language", &setting("agent_language"))?;
        let pivot_languages = setting("pivot_languages")
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(|p| language_setting("pivot_languages", p))
            .collect::<Result<Vec<_>, _>>()?;
        let min = setting("min_detect_chars");
        let min_detect_chars = min.trim().parse().map_err(|_| {
            PluginError::new(format!(
                "setting min_detect_chars: {min:?} is not a whole number"
            ))
        })?;
        let formality = setting("formality")
            .split(',')
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .map(|entry| {
                let bad = || {
                    PluginError::new(format!(
                        "setting formality: {entry:?} is not locale=formal|informal|default \
                         (e.g. \"es-ES=informal, *=formal\")"
                    ))
                };
                let (locale, value) = entry.split_once('=').ok_or_else(bad)?;
                let value = Formality::parse(value.trim()).ok_or_else(bad)?;
                Ok((locale.trim().replace('_', "-").to_lowercase(), value))
            })
            .collect::<Result<Vec<_>, PluginError>>()?;
        let legs = setting("max_legs");
        let max_legs = legs
            .trim()
            .parse()
            .ok()
            .filter(|n| (1..=4).contains(n))
            .ok_or_else(|| {
                PluginError::new(format!(
                    "setting max_legs: {legs:?} is not a number from 1 to 4"
                ))
            })?;
        Ok(Settings {
            engine,
            agent_language,
            pivot_languages,
            max_legs,
            min_detect_chars,
            formality,
        })
    }

    /// The formality for a customer's locale: its own entry, else its language's,
    /// else `*`'s, else the engine's default.
    ///
    /// ```
    /// use crossdesk_sdk::testing::MockHost;
    /// use translation::engine::Formality;
    /// let _host = MockHost::new().install();
    /// let settings = translation::Settings::load().unwrap();
    /// assert_eq!(settings.formality_for(Some("es-MX")), Formality::More);
    /// assert_eq!(settings.formality_for(Some("es_ES")), Formality::Less);
    /// assert_eq!(settings.formality_for(None), Formality::More);
    /// ```
    pub fn formality_for(&self, locale: Option<&str>) -> Formality {
        let locale = locale.unwrap_or("").replace('_', "-").to_lowercase();
        let language = locale.split('-').next().unwrap_or("").to_owned();
        [locale.as_str(), language.as_str(), "*"]
            .iter()
            .filter(|k| !k.is_empty())
            .find_map(|k| self.formality.iter().find(|(l, _)| l == k))
            .map_or(Formality::Default, |(_, f)| *f)
    }

    /// The agents' language for this event: the agent's own, else the setting.
    fn agent_language_for(&self, event: &Event) -> String {
        event
            .agent
            .as_ref()
            .and_then(|a| a.working_language.as_deref())
            .and_then(lang::from_code)
            .map_or_else(|| self.agent_language.clone(), str::to_owned)
    }
}

/// Reads that may fail without stopping the translation (storage not granted or
/// failing): logged, and treated as "nothing stored".
fn or_warn<T: Default>(what: &str, result: Result<T, KvError>) -> T {
    result.unwrap_or_else(|e| {
        log::warn(&format!("{what}: {e}"));
        T::default()
    })
}

/// A translation and how it was obtained.
struct Translated {
    text: String,
    /// `memory`, or the route (`fr→es→en`), with a remark when segments were used.
    how: String,
}

/// Why a text was not translated.
enum Untranslated {
    /// No engine has a route between the two languages: an outcome to report, not
    /// a failure (`unsupported pair …`).
    NoRoute(String),
    /// The engine failed.
    Failed(PluginError),
}

impl From<PluginError> for Untranslated {
    fn from(e: PluginError) -> Self {
        Untranslated::Failed(e)
    }
}

/// Translates `text` from `src` to `tgt`: the memory first, else the engine, with
/// protection.
fn translate(
    settings: &Settings,
    text: &str,
    src: &str,
    tgt: &str,
    formality: Formality,
) -> Result<Translated, Untranslated> {
    if let Some(entry) = or_warn(
        "translation memory unavailable",
        memory::lookup_tm(src, tgt, text),
    ) {
        return Ok(Translated {
            text: entry.target,
            how: "memory".to_owned(),
        });
    }
    let glossary: Glossary = or_warn("glossary unavailable", memory::load_glossary(src, tgt));
    let document = Document::new(text, &glossary, tgt);
    let engine = &settings.engine;
    // The pair list and the route are looked up once, and only if there is text to
    // translate.
    let mut plan: Option<(Pairs, Route)> = None;
    let mut no_route: Option<String> = None;
    let translation = document.translate(|texts, markup| {
        let (pairs, route) = match &mut plan {
            Some(plan) => plan,
            None => {
                let pairs = engine.pairs()?;
                let route = route::plan(
                    engine,
                    &pairs,
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
        for (from, to) in route.legs() {
            // The customer reads the last leg; a pivot's own formality is moot.
            let formality = if to == tgt {
                formality
            } else {
                Formality::Default
            };
            texts = engine.translate(pairs, from, to, &texts, markup, formality)?;
        }
        Ok::<_, PluginError>(texts)
    });
    let (translated, method) = match (translation, no_route) {
        (Ok(done), _) => done,
        (Err(_), Some(reason)) => return Err(Untranslated::NoRoute(reason)),
        (Err(e), None) => return Err(Untranslated::Failed(e)),
    };
    let how = match (plan, method) {
        (Some((_, route)), Method::Segments) => format!("{route}, segment by segment"),
        (Some((_, route)), _) => route.to_string(),
        // Nothing to translate (only addresses, codes, emoji...): kept as written.
        (None, _) => "nothing to translate".to_owned(),
    };
    Ok(Translated {
        text: translated,
        how,
    })
}

/// How the customer's language was decided.
enum Decision {
    Detected { language: &'static str, why: String },
    Locale { language: &'static str, why: String },
}

impl Decision {
    fn language(&self) -> &'static str {
        match self {
            Decision::Detected { language, .. } | Decision::Locale { language, .. } => language,
        }
    }

    fn describe(&self) -> String {
        match self {
            Decision::Detected { language, why } => {
                format!("{} ({language}) · detected ({why})", lang::name(language))
            }
            Decision::Locale { language, why } => format!(
                "{} ({language}) · customer locale ({why})",
                lang::name(language)
            ),
        }
    }
}

/// The engine's coverage is asked for when the best language leads by less than
/// `COVERAGE_BELOW_MARGIN`: for up to `COVERAGE_CANDIDATES` languages within
/// `COVERAGE_WITHIN` of the best, and the best's close relatives; a full coverage
/// weighs `COVERAGE_WEIGHT` (tuned on the development half of
/// `scripts/detection-set.py`'s catalogs; BENCHMARKS.md, "Language detection").
const COVERAGE_BELOW_MARGIN: f64 = 1.0;
const COVERAGE_CANDIDATES: usize = 4;
const COVERAGE_WITHIN: f64 = 2.0;
const COVERAGE_WEIGHT: f64 = 3.0;

/// The ranking, in words: the best score and the next language's.
fn explain(ranked: &detect::Ranked) -> String {
    match ranked.scores.as_slice() {
        [(_, best), (next, score), ..] => {
            format!("score {best:.2}, next {} {score:.2}", lang::name(next))
        }
        [(_, best)] => format!("score {best:.2}, no other candidate"),
        [] => "no evidence".to_owned(),
    }
}

/// Decides the language of a customer's message. Protected spans (URLs, code...)
/// are left out of detection and of the letter count. A short message with a
/// customer locale is in the locale's language; otherwise the words, letters and
/// whatlang ([`detect::rank`]), with the languages the engine reaches, the ticket's
/// earlier language and the locale as hints, and the engine's coverage of the
/// closest candidates where it has analysers.
fn decide(event: &Event, settings: &Settings) -> Option<Decision> {
    let text = &event.text;
    let mut prose = String::with_capacity(text.len());
    let mut at = 0;
    for span in protect::find_spans(text, &Glossary::default()) {
        prose.push_str(&text[at..span.start]);
        prose.push(' ');
        at = span.end;
    }
    prose.push_str(&text[at..]);
    let letters = lang::letter_count(&prose);
    let locale = event
        .customer
        .as_ref()
        .and_then(|c| c.language())
        .and_then(lang::from_code);
    let ticket = (!event.ticket_id.is_empty())
        .then(|| {
            or_warn(
                "ticket language unavailable",
                memory::ticket_language(&event.ticket_id),
            )
        })
        .flatten();
    let engine = &settings.engine;
    let pairs = engine
        .pairs()
        .map_err(|e| {
            log::warn(&format!(
                "detection without the engine's languages: {}",
                e.message
            ))
        })
        .ok();
    let mut reachable: Vec<&str> = pairs.as_ref().map(Pairs::languages).unwrap_or_default();
    reachable.push(settings.agent_language.as_str());
    let hints = detect::Hints {
        reachable: &reachable,
        locale,
        ticket: ticket.as_deref(),
    };
    let mut ranked = detect::rank(&prose, &hints);
    let mut coverage = Vec::new();
    if let Some(pairs) = pairs
        .as_ref()
        .filter(|_| ranked.margin() < COVERAGE_BELOW_MARGIN)
    {
        for candidate in ranked.candidates(COVERAGE_WITHIN, COVERAGE_CANDIDATES, &reachable) {
            match engine.coverage(pairs, candidate, &prose) {
                Ok(Some(share)) => {
                    ranked.add(candidate, COVERAGE_WEIGHT * share);
                    coverage.push(format!("{candidate} {share:.2}"));
                }
                Ok(None) => {}
                Err(e) => log::warn(&format!("no coverage for {candidate}: {}", e.message)),
            }
        }
    }
    let mut why = explain(&ranked);
    if !coverage.is_empty() {
        why.push_str(&format!("; engine coverage {}", coverage.join(", ")));
    }
    match (ranked.best(), locale) {
        (Some(best), Some(language)) if letters < settings.min_detect_chars => {
            Some(Decision::Locale {
                language,
                why: format!(
                    "text too short: {letters} letters, under {}; detected {} ({best}), {why}",
                    settings.min_detect_chars,
                    lang::name(best)
                ),
            })
        }
        (Some(language), _) => Some(Decision::Detected { language, why }),
        (None, Some(language)) => Some(Decision::Locale {
            language,
            why: "no language detected".to_owned(),
        }),
        (None, None) => None,
    }
}

fn inbound(event: &Event) -> Result<Vec<Action>, PluginError> {
    if event.text.trim().is_empty() {
        return Ok(Vec::new());
    }
    let settings = Settings::load()?;
    let Some(decision) = decide(event, &settings) else {
        log::info("no language detected and no customer locale: nothing to do");
        return Ok(Vec::new());
    };
    let src = decision.language();
    if !event.ticket_id.is_empty() {
        // Written only when the ticket's language changes.
        or_warn(
            "ticket language not remembered",
            memory::remember_ticket_language(&event.ticket_id, src),
        );
    }
    let mut actions = vec![Action::AddTags(vec![format!("lang-{src}")])];
    let tgt = settings.agent_language_for(event);
    if src == tgt {
        return Ok(actions);
    }
    let translated = match translate(&settings, &event.text, src, &tgt, Formality::Default) {
        Ok(translated) => translated,
        Err(Untranslated::NoRoute(reason)) => {
            // The language is known even when no engine translates it: the tag lets
            // routing and reports find the customer.
            actions.insert(
                0,
                Action::InternalNote(format!(
                    "Not translated from {}: {reason}",
                    decision.describe()
                )),
            );
            return Ok(actions);
        }
        Err(Untranslated::Failed(e)) => return Err(e),
    };
    let header = format!(
        "Translation from {} · engine {} · route {}",
        decision.describe(),
        settings.engine.name(),
        translated.how
    );
    actions.insert(
        0,
        Action::InternalNote(format!("{header}\n\n{}", translated.text)),
    );
    Ok(actions)
}

fn outbound(event: &Event) -> Result<Vec<Action>, PluginError> {
    if event.text.trim().is_empty() {
        return Ok(Vec::new());
    }
    let settings = Settings::load()?;
    let src = settings.agent_language_for(event);
    let locale = event
        .customer
        .as_ref()
        .and_then(|c| c.language())
        .and_then(lang::from_code)
        .map(str::to_owned);
    let (tgt, from) = match locale {
        Some(l) => (l, "customer locale"),
        None if !event.ticket_id.is_empty() => {
            match or_warn(
                "ticket language unavailable",
                memory::ticket_language(&event.ticket_id),
            )
            .as_deref()
            .and_then(lang::from_code)
            {
                Some(l) => (l.to_owned(), "ticket language"),
                None => return Ok(Vec::new()),
            }
        }
        None => return Ok(Vec::new()),
    };
    if src == tgt {
        return Ok(Vec::new());
    }
    let customer_locale = event.customer.as_ref().and_then(|c| c.locale.as_deref());
    let formality = settings.formality_for(customer_locale);
    let translated = match translate(&settings, &event.text, &src, &tgt, formality) {
        Ok(translated) => translated,
        Err(Untranslated::NoRoute(reason)) => {
            return Ok(vec![Action::InternalNote(format!(
                "Reply not translated into {} ({tgt}, from the {from}): {reason}. The draft \
                 is left as the agent wrote it.",
                lang::name(&tgt)
            ))]);
        }
        Err(Untranslated::Failed(e)) => return Err(e),
    };
    let note = format!(
        "Reply translated into {} ({tgt}, from the {from}) · engine {} · route {}\n\nAgent's original:\n{}",
        lang::name(&tgt),
        settings.engine.name(),
        translated.how,
        event.text
    );
    Ok(vec![
        Action::ReplaceDraft(translated.text),
        Action::InternalNote(note),
    ])
}

/// A non-blank attribute.
fn attribute<'a>(event: &'a Event, name: &str) -> Option<&'a str> {
    event.attribute(name).filter(|v| !v.trim().is_empty())
}

fn correction(event: &Event) -> Result<Vec<Action>, PluginError> {
    let missing =
        |name: &str| PluginError::new(format!("translation correction without attribute {name}"));
    let src_code = attribute(event, "source_language").ok_or_else(|| missing("source_language"))?;
    let tgt_code = attribute(event, "target_language").ok_or_else(|| missing("target_language"))?;
    let source = attribute(event, "source_text").ok_or_else(|| missing("source_text"))?;
    let language = |name: &str, code: &str| {
        lang::from_code(code)
            .ok_or_else(|| PluginError::new(format!("attribute {name}: unknown language {code:?}")))
    };
    let src = language("source_language", src_code)?;
    let tgt = language("target_language", tgt_code)?;
    if src == tgt {
        return Err(PluginError::new(format!(
            "attributes source_language and target_language are both {src}"
        )));
    }
    let corrected = event.text.trim();
    if corrected.is_empty() {
        return Err(PluginError::new(
            "translation correction with an empty text (the corrected translation)",
        ));
    }
    let terms = match attribute(event, "terms") {
        Some(spec) => memory::parse_terms(spec)
            .map_err(|e| PluginError::new(format!("attribute terms: {e}")))?,
        None => Vec::new(),
    };
    let origin = match event.agent.as_ref().map(|a| a.id.as_str()) {
        Some(id) if !id.is_empty() => format!("correction:{id}"),
        _ => "correction".to_owned(),
    };
    let entry = TmEntry::new(memory::normalize(source), corrected, origin);
    let mut learned = memory::store_tm(src, tgt, &entry)?;
    for (term, target) in &terms {
        learned |= memory::put_term(src, tgt, term, target)?;
    }
    let mut note = format!(
        "{} translation memory {}→{}: «{}» → «{}»",
        if learned {
            "Learned for the"
        } else {
            "Already in the"
        },
        src,
        tgt,
        entry.source,
        entry.target
    );
    if !terms.is_empty() {
        let list: Vec<String> = terms.iter().map(|(s, t)| format!("{s} → {t}")).collect();
        note.push_str(&format!(
            "\nGlossary terms {src}→{tgt}: {}",
            list.join("; ")
        ));
    }
    Ok(vec![Action::InternalNote(note)])
}
