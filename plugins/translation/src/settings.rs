//! The plugin's settings: their defaults, their declarations in the manifest, and
//! reading them with an error that names the key.

use crossdesk_sdk::{Event, PluginError};

use crate::engine::{Engine, Formality};
use crate::lang;
use crate::vocabulary::Keep;

/// The settings, each with its default.
const DEFAULTS: &[(&str, &str)] = &[
    ("engine", "apertium"),
    ("engine_url", "http://127.0.0.1:2737"),
    ("engines", ""),
    ("llm_model", crate::engine::DEFAULT_MODEL),
    ("agent_language", "en"),
    ("pivot_languages", "es,en"),
    ("max_legs", "3"),
    ("min_detect_chars", "24"),
    // The tone plugin's default pronouns: tú in Spain, você in Brazil, the formal
    // pronoun elsewhere.
    ("formality", "es-ES=informal, pt-BR=informal, *=formal"),
    ("unknown_words", "contexts"),
];

/// The settings as declared in the manifest, with their types, so the host refuses
/// a bad value when an admin sets it rather than at the next event.
pub(crate) const DECLARATIONS: &[&str] = &[
    "engine: one-of(apertium|libretranslate|deepl|google|azure|amazon|openai)",
    "engine_url: url",
    "engines: list",
    "llm_model: string",
    "agent_language: language",
    "pivot_languages: languages",
    "max_legs: int(1..4)",
    "min_detect_chars: int(0..100000)",
    "formality: list",
    "unknown_words: one-of(off|contexts|messages)",
];

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
    /// The engines, tried in order (`engines`, else `engine` at `engine_url`).
    pub engines: Vec<Engine>,
    /// The agents' working language (`agent_language`), canonical.
    pub agent_language: String,
    /// The standard of it they read (`zh-Hant` for an `agent_language` of
    /// `zh-TW`: [`crate::memory::standard`]).
    pub agent_standard: String,
    /// Intermediate languages tried first, in order (`pivot_languages`), canonical.
    pub pivot_languages: Vec<String>,
    /// The most legs a route may have (`max_legs`): each leg costs quality.
    pub max_legs: usize,
    /// Below this many letters the customer's locale decides (`min_detect_chars`).
    pub min_detect_chars: usize,
    /// The formality asked of engines that take one, by locale, language or `*`
    /// (`formality`), in the order given.
    pub formality: Vec<(String, Formality)>,
    /// What is kept of customer messages with words no engine knew
    /// (`unknown_words`).
    pub unknown_words: Keep,
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
        let engines = engines(&setting("engines"), &setting("llm_model"))?;
        let agent_setting = setting("agent_language");
        let agent_language = language_setting("agent_language", &agent_setting)?;
        let agent_standard = crate::memory::standard(
            &agent_language,
            crate::engine::Variant::of_locale(agent_setting.trim()),
        );
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
        let unknown_words = Keep::parse(&setting("unknown_words")).ok_or_else(|| {
            PluginError::new(format!(
                "setting unknown_words: {:?} is not off, contexts or messages",
                setting("unknown_words")
            ))
        })?;
        Ok(Settings {
            unknown_words,
            engines,
            agent_language,
            agent_standard,
            pivot_languages,
            max_legs,
            min_detect_chars,
            formality,
        })
    }

    /// The formality for a customer's locale: its own entry, else its language's,
    /// else `*`'s, else the engine's default. A bare language (`es`) is read as
    /// the locale the tone plugin writes it for (`es-ES`), so that the register
    /// asked of the engine and the pronouns tone sets after it agree.
    ///
    /// ```
    /// use crossdesk_sdk::testing::MockHost;
    /// use translation::engine::Formality;
    /// let _host = MockHost::new().install();
    /// let settings = translation::Settings::load().unwrap();
    /// assert_eq!(settings.formality_for(Some("es-MX")), Formality::More);
    /// assert_eq!(settings.formality_for(Some("es_ES")), Formality::Less);
    /// assert_eq!(settings.formality_for(Some("es")), Formality::Less);
    /// assert_eq!(settings.formality_for(Some("pt")), Formality::Less);
    /// assert_eq!(settings.formality_for(None), Formality::More);
    /// ```
    pub fn formality_for(&self, locale: Option<&str>) -> Formality {
        let mut locale = locale.unwrap_or("").replace('_', "-").to_lowercase();
        if let Some((_, full)) = BARE_LANGUAGE_LOCALES.iter().find(|(l, _)| *l == locale) {
            locale = (*full).to_owned();
        }
        let language = locale.split('-').next().unwrap_or("").to_owned();
        [locale.as_str(), language.as_str(), "*"]
            .iter()
            .filter(|k| !k.is_empty())
            .find_map(|k| self.formality.iter().find(|(l, _)| l == k))
            .map_or(Formality::Default, |(_, f)| *f)
    }

    /// The agents' language for this event: the agent's own, else the setting.
    pub(crate) fn agent_language_for(&self, event: &Event) -> String {
        event
            .agent
            .as_ref()
            .and_then(|a| a.working_language.as_deref())
            .and_then(lang::from_code)
            .map_or_else(|| self.agent_language.clone(), str::to_owned)
    }

    /// The standard of the agents' language the event's agent reads: from the
    /// agent's working language when it names one (`zh-TW`), else the setting's.
    pub(crate) fn agent_standard_for(&self, event: &Event) -> String {
        let agent = event
            .agent
            .as_ref()
            .and_then(|a| a.working_language.as_deref())
            .filter(|code| lang::from_code(code).is_some());
        match agent {
            Some(code) => {
                crate::memory::standard_of_code(code).unwrap_or_else(|| self.agent_standard.clone())
            }
            None => self.agent_standard.clone(),
        }
    }
}

/// The locale the tone plugin writes a bare language tag for (its profile
/// table's defaults, and Brazil's Portuguese as its first `pt` profile). Plugins
/// link no other plugin, so the four are repeated here; the doc test of tone's
/// `Profiles::select` holds tone to them.
const BARE_LANGUAGE_LOCALES: [(&str, &str); 4] = [
    ("en", "en-us"),
    ("es", "es-es"),
    ("pt", "pt-br"),
    ("zh", "zh-cn"),
];

/// The engines of the `engines` setting (`name=url`, comma-separated, in the order
/// they are tried), or the one of `engine` and `engine_url` when it is empty.
///
/// ```
/// use crossdesk_sdk::testing::MockHost;
/// let _host = MockHost::new()
///     .setting("engines", "deepl=https://api.deepl.com, apertium=http://127.0.0.1:2737")
///     .install();
/// let settings = translation::Settings::load().unwrap();
/// let names: Vec<&str> = settings.engines.iter().map(|e| e.name()).collect();
/// assert_eq!(names, ["deepl", "apertium"]);
/// ```
fn engines(list: &str, model: &str) -> Result<Vec<Engine>, PluginError> {
    let entries: Vec<&str> = list
        .split(',')
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .collect();
    if entries.is_empty() {
        return Ok(vec![
            Engine::new(&setting("engine"), &setting("engine_url"))?.with_model(model),
        ]);
    }
    entries
        .into_iter()
        .map(|entry| {
            let (name, url) = entry.split_once('=').ok_or_else(|| {
                PluginError::new(format!(
                    "setting engines: {entry:?} is not name=url (e.g. \"deepl=https://api.deepl.com\")"
                ))
            })?;
            Engine::new(name, url)
                .map(|e| e.with_model(model))
                .map_err(|e| PluginError::new(format!("setting engines: {}", e.message)))
        })
        .collect()
}
