//! The plugin: what it does for each event kind (its settings are read in
//! `settings`, languages decided in `detection`, texts translated in `failover`,
//! admin commands answered in `tools`).

use crossdesk_sdk::{
    Action, CommandInput, CommandOutput, Event, EventKind, Manifest, Plugin, PluginError, clock,
    log,
};

use crate::detection::decide;
use crate::engine::{Formality, Variant};
use crate::failover::{Translated, Untranslated, translate};
use crate::lang;
use crate::memory::{self, TmEntry, or_warn};
use crate::settings::{DECLARATIONS, Settings};
use crate::ticket_language;
use crate::vocabulary;

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
            ticket_language::remember(&event.ticket_id, src, clock::now_ms()),
        );
    }
    let mut actions = vec![Action::AddTags(vec![format!("lang-{src}")])];
    let tgt = settings.agent_language_for(event);
    if src == tgt {
        return Ok(actions);
    }
    // Agents who read Traditional Chinese are written it (and given its
    // corrections).
    let variant =
        Variant::of_locale(&settings.agent_standard_for(event)).filter(|v| v.language() == tgt);
    let translated = match translate(
        &settings,
        &event.text,
        src,
        &tgt,
        Formality::Default,
        variant,
    ) {
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
        "Translation from {} · {} · route {}",
        decision.describe(),
        translated.engine_note(),
        translated.how
    );
    remember_unknown_words(event, &settings, src, &tgt, &translated);
    actions.insert(
        0,
        Action::InternalNote(format!("{header}\n\n{}", translated.text)),
    );
    Ok(actions)
}

/// Keeps the words of a customer's message no engine knew (vocabulary), with the
/// customer's region: the marked ones, or those the engine handed back as they were.
fn remember_unknown_words(
    event: &Event,
    settings: &Settings,
    src: &str,
    tgt: &str,
    translated: &Translated,
) {
    if settings.unknown_words == vocabulary::Keep::Off || translated.engine.is_none() {
        return;
    }
    // Not from a URL's or an e-mail address's parts (`maria`, `gmail`): they come
    // back as they went, and they name the customer.
    let prose = crate::protect::prose(&event.text);
    let mut words = translated.unknown.clone();
    if translated.engine != Some("apertium") {
        words = vocabulary::untranslated(&prose, &translated.text, tgt);
    }
    let region = event
        .customer
        .as_ref()
        .and_then(|c| {
            c.country.clone().or_else(|| {
                c.locale
                    .as_deref()
                    .and_then(|l| l.split(['-', '_']).nth(1))
                    .map(str::to_owned)
            })
        })
        .filter(|r| !r.is_empty())
        .map_or_else(|| "-".to_owned(), |r| r.to_ascii_uppercase());
    let now = clock::now_ms();
    let message = vocabulary::Message {
        event_id: &event.event_id,
        region: &region,
        source: &prose,
        output: &translated.text,
    };
    for word in vocabulary::worth_recording(&words) {
        if let Err(e) = vocabulary::record(src, word, &message, settings.unknown_words, now) {
            log::warn(&format!("unknown word not kept: {e}"));
        }
    }
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
    // The language the customer wrote in on this ticket (remembered from their
    // messages) first: a helpdesk's default locale (`en-US` for every e-mail
    // customer) would otherwise have a Spanish writer answered in English.
    let written = (!event.ticket_id.is_empty())
        .then(|| {
            or_warn(
                "ticket language unavailable",
                ticket_language::recall(&event.ticket_id, clock::now_ms()),
            )
        })
        .flatten()
        .as_deref()
        .and_then(lang::from_code)
        .map(str::to_owned);
    let (tgt, from) = match (written, locale) {
        (Some(l), _) => (l, "ticket language"),
        (None, Some(l)) => (l, "customer locale"),
        (None, None) => return Ok(Vec::new()),
    };
    if src == tgt {
        return Ok(Vec::new());
    }
    let reader = reader_locale(event, &tgt);
    let formality = settings.formality_for(reader.as_deref());
    let variant = reader.as_deref().and_then(Variant::of_locale);
    let translated = match translate(&settings, &event.text, &src, &tgt, formality, variant) {
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
        "Reply translated into {} ({tgt}, from the {from}) · {} · route {}\n\nAgent's original:\n{}",
        lang::name(&tgt),
        translated.engine_note(),
        translated.how,
        event.text
    );
    Ok(vec![
        Action::ReplaceDraft(translated.text),
        Action::InternalNote(note),
    ])
}

/// The locale a reply in `tgt` is written for: the customer's own when it is of
/// that language, else `tgt` in the customer's country (`zh` in `TW`: `zh-TW`).
/// Without a locale the tone plugin chooses its profile by the country too, so
/// that the script and the register asked of the engine are those of the
/// greeting and pronouns it writes.
fn reader_locale(event: &Event, tgt: &str) -> Option<String> {
    let customer = event.customer.as_ref()?;
    if let Some(locale) = customer.locale.as_deref()
        && lang::from_code(locale) == Some(tgt)
    {
        return Some(locale.to_owned());
    }
    let country = customer.country.as_deref()?.trim();
    (country.len() == 2 && country.bytes().all(|b| b.is_ascii_alphabetic()))
        .then(|| format!("{tgt}-{}", country.to_ascii_uppercase()))
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
    let unknown = |name: &str, code: &str| {
        PluginError::new(format!("attribute {name}: unknown language {code:?}"))
    };
    let src = lang::from_code(src_code).ok_or_else(|| unknown("source_language", src_code))?;
    // The target's standard: a correction for Taiwan is not one for Beijing.
    let tgt =
        memory::standard_of_code(tgt_code).ok_or_else(|| unknown("target_language", tgt_code))?;
    let tgt = tgt.as_str();
    if src == memory::language_of(tgt) {
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
    let suggested =
        vocabulary::learn_from_correction(src, tgt, source, corrected, clock::now_ms())?;
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
    for (word, translation) in &suggested {
        note.push_str(&format!(
            "\nSuggested for the glossary: {word} → {translation} (`crossdesk plugin exec \
             translation accept-word {word} \"{translation}\" --language {src} --target {tgt}`)"
        ));
    }
    Ok(vec![Action::InternalNote(note)])
}
