//! Tone profiles: the data table (`data/profiles.toml`, embedded), the choice of a
//! profile for a customer, and the tenant's overrides.
//!
//! A profile says how a reply to a customer of one locale should sound: high- or
//! low-context, formal or informal register, whether a greeting and a closing are
//! expected, direct or cushioned, what happens to emoji and exclamation marks, and
//! how the customer is addressed by name. The table keeps the source of every value
//! next to it; see README.md for the rules that derive the settings from the
//! measured values.

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;

use crate::language::Lang;
use crate::pronoun::{Pronoun, Variety};

/// The embedded table.
pub const PROFILES_TOML: &str = include_str!("../data/profiles.toml");

/// Hall's context dimension.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Context {
    /// Meaning lives in the words: be explicit and brief.
    Low,
    /// Meaning lives in the relationship: formulas and cushioning matter.
    High,
}

/// The register of the formulas the plugin writes (and expects from the agent).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Register {
    /// Sie, vous, usted, u, Lei, 您, です/ます, 합니다.
    Formal,
    /// du, tu, tú, je, 你, first names.
    Informal,
}

/// Whether a formula is expected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Requirement {
    /// Added when the draft has none.
    Required,
    /// Left to the agent.
    Optional,
}

/// How directly to get to the point.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Directness {
    /// Trim filler, lead with the answer.
    Direct,
    /// Open with gratitude, or an apology when the news is bad.
    Cushioned,
}

/// What happens to emoji.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EmojiPolicy {
    /// Left alone.
    Keep,
    /// Removed (outside protected spans).
    Remove,
}

/// What happens to exclamation marks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ExclamationPolicy {
    /// Left alone.
    Keep,
    /// Runs such as `!!!` become one mark.
    Collapse,
    /// Every `!` becomes a full stop (a comma after a greeting).
    ToneDown,
}

/// How the customer is addressed by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Honorific {
    /// Title and surname when a title is known; else the full name (the given name
    /// in the informal register).
    TitleSurname,
    /// Always the given name.
    GivenName,
    /// Always the full name.
    FullName,
    /// Japanese: family name + 様 (the full name when it cannot be split).
    SurnameSama,
    /// Japanese: full name + 様.
    FullNameSama,
    /// Korean: full name + 님.
    NameNim,
    /// Chinese: surname + 先生/女士 when the title is known, else the full name.
    SurnameTitleZh,
}

/// One row of the table as stored.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Row {
    language: String,
    countries: Vec<String>,
    power_distance: u8,
    individualism: u8,
    uncertainty_avoidance: u8,
    hofstede_source: String,
    context: Context,
    context_source: String,
    register: Register,
    register_source: String,
    directness: Directness,
    directness_source: String,
    greeting: Requirement,
    greeting_source: String,
    closing: Requirement,
    closing_source: String,
    emoji: EmojiPolicy,
    emoji_source: String,
    exclamation: ExclamationPolicy,
    exclamation_source: String,
    honorific: Honorific,
    honorific_source: String,
    /// Only where the pronoun does not follow the register (Brazil's `você`).
    #[serde(default)]
    pronoun: Option<Pronoun>,
    #[serde(default)]
    pronoun_source: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    version: String,
    locales: BTreeMap<String, Row>,
}

/// A tone profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    /// The locale, e.g. `ja-JP`.
    pub locale: String,
    /// Its language.
    pub language: Lang,
    /// Countries (ISO 3166-1 alpha-2) that fall back to this profile.
    pub countries: Vec<String>,
    /// Hofstede's power distance.
    pub power_distance: u8,
    /// Hofstede's individualism.
    pub individualism: u8,
    /// Hofstede's uncertainty avoidance.
    pub uncertainty_avoidance: u8,
    /// Hall's context.
    pub context: Context,
    /// Register of the formulas.
    pub register: Register,
    /// Direct or cushioned.
    pub directness: Directness,
    /// Whether a greeting is added.
    pub greeting: Requirement,
    /// Whether a closing is added.
    pub closing: Requirement,
    /// Emoji policy.
    pub emoji: EmojiPolicy,
    /// Exclamation-mark policy.
    pub exclamation: ExclamationPolicy,
    /// Form of address.
    pub honorific: Honorific,
    /// The pronoun of address where it does not follow the register; see
    /// [`Profile::pronoun`].
    pub pronoun_choice: Option<Pronoun>,
    /// The source of each value, by field name.
    pub sources: BTreeMap<&'static str, String>,
}

/// The fields an override may set, in table order.
pub const FIELDS: &[&str] = &[
    "power_distance",
    "individualism",
    "uncertainty_avoidance",
    "context",
    "register",
    "directness",
    "greeting",
    "closing",
    "emoji",
    "exclamation",
    "honorific",
    "pronoun",
];

/// The profile for a bare language tag (`en`, `zh`) where the table has several.
const LANGUAGE_DEFAULTS: &[(Lang, &str)] = &[
    (Lang::En, "en-US"),
    (Lang::Es, "es-ES"),
    (Lang::Zh, "zh-CN"),
];

/// Regions whose speakers of a language read another profile than the one their
/// country falls back to. A country has one profile, for customers without a locale
/// (`US` → en-US, `LU` → fr-FR), but a locale names the language too: `es-US` is
/// Latin American Spanish, `pt-LU` European Portuguese. After CLDR's parent locales
/// (`supplementalData.xml`, `parentLocales`): es-US, es-BZ and es-BR inherit from
/// es-419, and pt-CH, pt-FR, pt-GQ, pt-LU and pt-MO from pt-PT. The UN M49 areas
/// 419 (Latin America and the Caribbean), 005 (South America), 013 (Central
/// America) and 029 (the Caribbean) read as Latin America too.
const REGIONAL_PROFILES: &[(Lang, &[&str], &str)] = &[
    (
        Lang::Es,
        &["419", "005", "013", "029", "US", "BZ", "BR"],
        "es-MX",
    ),
    (Lang::Pt, &["CH", "FR", "GQ", "LU", "MO"], "pt-PT"),
];

/// The table: its version and the profiles.
#[derive(Debug, Clone)]
pub struct Profiles {
    /// The data file's `version`.
    pub version: String,
    /// The profiles, sorted by locale.
    pub profiles: Vec<Profile>,
}

/// How a profile was chosen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    /// The customer's locale is the profile's.
    Locale(String),
    /// The nearest profile for the customer's locale (same language).
    NearestLocale(String),
    /// No locale; the customer's country.
    Country(String),
}

impl fmt::Display for Selection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Selection::Locale(l) => write!(f, "locale {l}"),
            Selection::NearestLocale(l) => write!(f, "nearest to locale {l}"),
            Selection::Country(c) => write!(f, "country {c}"),
        }
    }
}

impl Profile {
    /// The pronoun the customer is addressed with: the profile's own choice (or the
    /// tenant's override), else the register's (formal → `usted`, `Sie`, `vous`).
    ///
    /// ```
    /// use tone::pronoun::Pronoun;
    /// let profiles = tone::profile::Profiles::embedded().unwrap();
    /// assert_eq!(profiles.get("es-MX").unwrap().pronoun(), Pronoun::Formal);
    /// assert_eq!(profiles.get("es-ES").unwrap().pronoun(), Pronoun::Informal);
    /// // Brazil: formal formulas, and você.
    /// assert_eq!(profiles.get("pt-BR").unwrap().pronoun(), Pronoun::Informal);
    /// ```
    pub fn pronoun(&self) -> Pronoun {
        self.pronoun_choice.unwrap_or(match self.register {
            Register::Formal => Pronoun::Formal,
            Register::Informal => Pronoun::Informal,
        })
    }

    /// Portugal's Portuguese for `pt-PT` (and its countries), Brazil's otherwise.
    pub fn variety(&self) -> Variety {
        if self.locale.eq_ignore_ascii_case("pt-PT") {
            Variety::Portugal
        } else {
            Variety::Brazil
        }
    }
}

impl Profiles {
    /// The embedded table.
    ///
    /// ```
    /// let profiles = tone::profile::Profiles::embedded().unwrap();
    /// assert!(profiles.profiles.len() >= 14);
    /// assert!(profiles.get("ja-JP").is_some());
    /// ```
    pub fn embedded() -> Result<Profiles, String> {
        Profiles::parse(PROFILES_TOML)
    }

    /// Parses a table in the format of `data/profiles.toml`.
    pub fn parse(text: &str) -> Result<Profiles, String> {
        let file: File = toml::from_str(text).map_err(|e| format!("profiles table: {e}"))?;
        let mut profiles = Vec::with_capacity(file.locales.len());
        for (locale, row) in file.locales {
            let language = Lang::from_tag(&row.language).ok_or_else(|| {
                format!(
                    "profiles table: {locale}: unknown language {:?}",
                    row.language
                )
            })?;
            let pronoun_source = row.pronoun_source.unwrap_or_else(|| {
                "follows the register: formal → the V pronoun, informal → the T pronoun".to_owned()
            });
            let sources = BTreeMap::from([
                ("hofstede", row.hofstede_source),
                ("context", row.context_source),
                ("register", row.register_source),
                ("directness", row.directness_source),
                ("greeting", row.greeting_source),
                ("closing", row.closing_source),
                ("emoji", row.emoji_source),
                ("exclamation", row.exclamation_source),
                ("honorific", row.honorific_source),
                ("pronoun", pronoun_source),
            ]);
            profiles.push(Profile {
                locale,
                language,
                countries: row.countries,
                power_distance: row.power_distance,
                individualism: row.individualism,
                uncertainty_avoidance: row.uncertainty_avoidance,
                context: row.context,
                register: row.register,
                directness: row.directness,
                greeting: row.greeting,
                closing: row.closing,
                emoji: row.emoji,
                exclamation: row.exclamation,
                honorific: row.honorific,
                pronoun_choice: row.pronoun,
                sources,
            });
        }
        Ok(Profiles {
            version: file.version,
            profiles,
        })
    }

    /// The profile of `locale` exactly (case and `_`/`-` do not matter).
    pub fn get(&self, locale: &str) -> Option<&Profile> {
        let wanted = normalize_tag(locale);
        self.profiles
            .iter()
            .find(|p| p.locale.eq_ignore_ascii_case(&wanted))
    }

    fn get_mut(&mut self, locale: &str) -> Option<&mut Profile> {
        let wanted = normalize_tag(locale);
        self.profiles
            .iter_mut()
            .find(|p| p.locale.eq_ignore_ascii_case(&wanted))
    }

    /// The profile for a customer: from the locale if there is one (exactly, else
    /// the profile of the same language whose countries include the locale's
    /// region, else the variety of the region's speakers (`REGIONAL_PROFILES`:
    /// `es-US` → `es-MX`), else the language's default or first profile: `de-AT` →
    /// `de-DE`, `es-AR` → `es-MX`, `zh-Hant` → `zh-TW`); without a locale, from the
    /// country. A locale
    /// of a language without a profile gives none (the customer reads that language,
    /// not the country's).
    ///
    /// ```
    /// let p = tone::profile::Profiles::embedded().unwrap();
    /// assert_eq!(p.select(Some("es_AR"), None).unwrap().0.locale, "es-MX");
    /// assert_eq!(p.select(Some("es-US"), Some("US")).unwrap().0.locale, "es-MX");
    /// assert_eq!(p.select(None, Some("JP")).unwrap().0.locale, "ja-JP");
    /// assert!(p.select(Some("ru-RU"), Some("DE")).is_none());
    /// assert_eq!(p.select(Some("zh-Hans-TW"), None).unwrap().0.locale, "zh-CN");
    /// assert_eq!(p.select(Some("zh-Hant-CN"), None).unwrap().0.locale, "zh-TW");
    /// // A bare language: the translation plugin asks engines for the same
    /// // register (its `BARE_LANGUAGE_LOCALES`).
    /// for (bare, locale) in [("en", "en-US"), ("es", "es-ES"), ("pt", "pt-BR"), ("zh", "zh-CN")] {
    ///     assert_eq!(p.select(Some(bare), None).unwrap().0.locale, locale);
    /// }
    /// ```
    pub fn select(
        &self,
        locale: Option<&str>,
        country: Option<&str>,
    ) -> Option<(&Profile, Selection)> {
        let locale = locale.map(str::trim).filter(|l| !l.is_empty());
        if let Some(locale) = locale {
            let tag = normalize_tag(locale);
            if let Some(p) = self.get(&tag) {
                return Some((p, Selection::Locale(tag)));
            }
            let lang = Lang::from_tag(&tag)?;
            let parts: Vec<&str> = tag.split('-').collect();
            let region = parts
                .iter()
                .skip(1)
                .find(|p| p.len() == 2 || p.len() == 3 && p.chars().all(|c| c.is_ascii_digit()))
                .map(|r| r.to_ascii_uppercase());
            let same_language = || self.profiles.iter().filter(move |p| p.language == lang);
            // A named script decides before the region: `zh-Hans-TW` does not
            // read the Taiwan profile's Traditional characters, nor `zh-Hant-CN`
            // the mainland's Simplified ones.
            let scripted = lang == Lang::Zh && crate::language::tag_names_script(&tag);
            let by_region = region
                .as_deref()
                .filter(|_| !scripted)
                .and_then(|r| same_language().find(|p| p.countries.iter().any(|c| c == r)));
            let by_script = (lang == Lang::Zh && crate::language::tag_is_traditional(&tag))
                .then(|| self.get("zh-TW"))
                .flatten();
            // Latin American Spanish (es-419, es-US …) reads as the Mexican profile,
            // the Portuguese of Portugal's diaspora (pt-LU …) as Portugal's.
            let by_variety = region.as_deref().and_then(|r| {
                REGIONAL_PROFILES
                    .iter()
                    .find(|(l, regions, _)| *l == lang && regions.contains(&r))
                    .and_then(|(_, _, locale)| self.get(locale))
            });
            let by_default = LANGUAGE_DEFAULTS
                .iter()
                .find(|(l, _)| *l == lang)
                .and_then(|(_, locale)| self.get(locale));
            let nearest = by_region
                .or(by_script)
                .or(by_variety)
                .or(by_default)
                .or_else(|| same_language().next())?;
            return Some((nearest, Selection::NearestLocale(tag)));
        }
        let country = country
            .map(|c| c.trim().to_ascii_uppercase())
            .filter(|c| !c.is_empty())?;
        self.profiles
            .iter()
            .find(|p| p.countries.contains(&country))
            .map(|p| (p, Selection::Country(country)))
    }

    /// Applies the tenant's overrides, `locale.field=value` separated by `;` or new
    /// lines; `*` as the locale sets the field in every profile. An unknown locale,
    /// field or value is an error naming it.
    ///
    /// ```
    /// let mut p = tone::profile::Profiles::embedded().unwrap();
    /// p.apply_overrides("de-DE.register=informal; *.emoji=keep").unwrap();
    /// assert_eq!(p.get("de-DE").unwrap().register, tone::profile::Register::Informal);
    /// let err = p.apply_overrides("de-DE.colour=blue").unwrap_err();
    /// assert!(err.contains("unknown field \"colour\""));
    /// ```
    pub fn apply_overrides(&mut self, spec: &str) -> Result<Vec<String>, String> {
        let mut applied = Vec::new();
        for item in spec
            .split([';', '\n'])
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            let (key, value) = item
                .split_once('=')
                .ok_or_else(|| format!("override {item:?}: expected locale.field=value"))?;
            let (locale, field) = key
                .trim()
                .rsplit_once('.')
                .ok_or_else(|| format!("override {item:?}: expected locale.field=value"))?;
            let (locale, field, value) = (locale.trim(), field.trim(), value.trim());
            if !FIELDS.contains(&field) {
                return Err(format!(
                    "override {item:?}: unknown field {field:?} (fields: {})",
                    FIELDS.join(", ")
                ));
            }
            if locale == "*" {
                for profile in &mut self.profiles {
                    set(profile, field, value).map_err(|e| format!("override {item:?}: {e}"))?;
                }
            } else {
                let locales = self.locales().join(", ");
                let profile = self.get_mut(locale).ok_or_else(|| {
                    format!("override {item:?}: unknown locale {locale:?} (locales: {locales})")
                })?;
                set(profile, field, value).map_err(|e| format!("override {item:?}: {e}"))?;
            }
            applied.push(format!("{locale}.{field}={value}"));
        }
        Ok(applied)
    }

    /// The locales of the table.
    pub fn locales(&self) -> Vec<&str> {
        self.profiles.iter().map(|p| p.locale.as_str()).collect()
    }
}

/// `pt_br` → `pt-BR`, `zh-hant-tw` → `zh-Hant-TW`.
fn normalize_tag(tag: &str) -> String {
    tag.trim()
        .split(['-', '_'])
        .enumerate()
        .map(|(i, part)| match (i, part.len()) {
            (0, _) => part.to_ascii_lowercase(),
            (_, 2) => part.to_ascii_uppercase(),
            (_, 4) => {
                let mut chars = part.chars();
                chars.next().map_or_else(String::new, |c| {
                    c.to_ascii_uppercase().to_string() + &chars.as_str().to_ascii_lowercase()
                })
            }
            _ => part.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("-")
}

fn parse_enum<T: for<'de> Deserialize<'de>>(
    field: &str,
    value: &str,
    allowed: &str,
) -> Result<T, String> {
    T::deserialize(serde::de::value::StrDeserializer::<serde::de::value::Error>::new(value))
        .map_err(|_| format!("unknown value {value:?} for {field} (values: {allowed})"))
}

fn set(profile: &mut Profile, field: &str, value: &str) -> Result<(), String> {
    let score = |v: &str| -> Result<u8, String> {
        v.parse::<u8>()
            .ok()
            .filter(|n| *n <= 120)
            .ok_or_else(|| format!("unknown value {v:?} for {field} (a score from 0 to 120)"))
    };
    match field {
        "power_distance" => profile.power_distance = score(value)?,
        "individualism" => profile.individualism = score(value)?,
        "uncertainty_avoidance" => profile.uncertainty_avoidance = score(value)?,
        "context" => profile.context = parse_enum(field, value, "high, low")?,
        "register" => profile.register = parse_enum(field, value, "formal, informal")?,
        "directness" => profile.directness = parse_enum(field, value, "direct, cushioned")?,
        "greeting" => profile.greeting = parse_enum(field, value, "required, optional")?,
        "closing" => profile.closing = parse_enum(field, value, "required, optional")?,
        "emoji" => profile.emoji = parse_enum(field, value, "keep, remove")?,
        "exclamation" => {
            profile.exclamation = parse_enum(field, value, "keep, collapse, tone-down")?
        }
        "pronoun" => {
            let variety = profile.variety();
            let pronoun = Pronoun::parse(value, profile.language, variety).ok_or_else(|| {
                format!(
                    "unknown value {value:?} for pronoun (values: formal, informal, {}, {})",
                    Pronoun::Formal.word(profile.language, variety),
                    Pronoun::Informal.word(profile.language, variety)
                )
            })?;
            profile.pronoun_choice = Some(pronoun);
        }
        "honorific" => {
            profile.honorific = parse_enum(
                field,
                value,
                "title-surname, given-name, full-name, surname-sama, full-name-sama, name-nim, surname-title-zh",
            )?
        }
        _ => return Err(format!("unknown field {field:?}")),
    }
    profile
        .sources
        .insert(source_key(field), "tenant override".to_owned());
    Ok(())
}

fn source_key(field: &str) -> &'static str {
    match field {
        "power_distance" | "individualism" | "uncertainty_avoidance" => "hofstede",
        "context" => "context",
        "register" => "register",
        "directness" => "directness",
        "greeting" => "greeting",
        "closing" => "closing",
        "emoji" => "emoji",
        "exclamation" => "exclamation",
        "pronoun" => "pronoun",
        _ => "honorific",
    }
}

impl Context {
    /// `high` or `low`.
    pub fn name(self) -> &'static str {
        match self {
            Context::High => "high",
            Context::Low => "low",
        }
    }
}

impl Register {
    /// `formal` or `informal`.
    pub fn name(self) -> &'static str {
        match self {
            Register::Formal => "formal",
            Register::Informal => "informal",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> Profiles {
        Profiles::embedded().expect("the embedded table parses")
    }

    #[test]
    fn the_table_has_the_fifteen_locales_with_sources() {
        let t = table();
        for locale in [
            "en-US", "en-GB", "de-DE", "fr-FR", "es-ES", "es-MX", "pt-BR", "pt-PT", "it-IT",
            "nl-NL", "ja-JP", "zh-CN", "zh-TW", "ko-KR", "ar-SA",
        ] {
            let p = t.get(locale).unwrap_or_else(|| panic!("{locale} missing"));
            assert_eq!(p.sources.len(), 10, "{locale}");
            assert!(
                p.sources.values().all(|s| s.len() > 10),
                "{locale} has an empty source"
            );
            assert!(p.sources["hofstede"].starts_with("Hofstede Insights, country comparison"));
            assert!(p.sources["context"].contains("Hall, Beyond Culture (1976)"));
        }
        assert!(!t.version.is_empty());
    }

    /// The derived values follow the rules stated at the top of the data file.
    #[test]
    fn derived_values_follow_the_documented_rules() {
        for p in table().profiles {
            let l = &p.locale;
            let expected_directness = match p.context {
                Context::Low => Directness::Direct,
                Context::High => Directness::Cushioned,
            };
            assert_eq!(p.directness, expected_directness, "{l} directness");
            assert_eq!(p.greeting, Requirement::Required, "{l} greeting");
            let closing_optional = p.context == Context::Low && p.register == Register::Informal;
            assert_eq!(
                p.closing == Requirement::Optional,
                closing_optional,
                "{l} closing"
            );
            assert_eq!(
                p.emoji == EmojiPolicy::Keep,
                p.register == Register::Informal,
                "{l} emoji"
            );
            let tone_down = p.register == Register::Formal && p.uncertainty_avoidance >= 65;
            let expected = if tone_down {
                ExclamationPolicy::ToneDown
            } else {
                ExclamationPolicy::Collapse
            };
            assert_eq!(p.exclamation, expected, "{l} exclamation");
        }
    }

    #[test]
    fn countries_map_to_one_profile_each() {
        let t = table();
        let mut seen = BTreeMap::new();
        for p in &t.profiles {
            for c in &p.countries {
                assert!(
                    seen.insert(c.clone(), p.locale.clone()).is_none(),
                    "{c} twice"
                );
            }
        }
        for (country, locale) in [
            ("JP", "ja-JP"),
            ("DE", "de-DE"),
            ("MX", "es-MX"),
            ("US", "en-US"),
            ("TW", "zh-TW"),
            ("SA", "ar-SA"),
        ] {
            assert_eq!(
                t.select(None, Some(country))
                    .map(|(p, _)| p.locale.as_str()),
                Some(locale)
            );
        }
        assert!(t.select(None, Some("RU")).is_none());
        assert!(t.select(None, None).is_none());
    }

    #[test]
    fn locales_select_exactly_or_nearest() {
        let t = table();
        let pick = |l: &str| {
            t.select(Some(l), Some("US"))
                .map(|(p, s)| (p.locale.clone(), s))
        };
        assert_eq!(
            pick("ja_jp"),
            Some(("ja-JP".into(), Selection::Locale("ja-JP".into())))
        );
        assert_eq!(pick("de-AT").map(|p| p.0), Some("de-DE".into()));
        assert_eq!(pick("zh-Hant").map(|p| p.0), Some("zh-TW".into()));
        assert_eq!(pick("zh-HK").map(|p| p.0), Some("zh-TW".into()));
        assert_eq!(pick("zh").map(|p| p.0), Some("zh-CN".into()));
        assert_eq!(pick("es-419").map(|p| p.0), Some("es-MX".into()));
        assert_eq!(pick("es-ES").map(|p| p.0), Some("es-ES".into()));
        assert_eq!(pick("en-AU").map(|p| p.0), Some("en-GB".into()));
        assert_eq!(pick("en").map(|p| p.0), Some("en-US".into()));
        assert_eq!(pick("fr-CA").map(|p| p.0), Some("fr-FR".into()));
        assert_eq!(pick("ru-RU"), None);
    }

    #[test]
    fn latin_american_spanish_and_european_portuguese_regions_read_their_variety() {
        let t = table();
        let pick = |l: &str| t.select(Some(l), None).map(|(p, _)| p.locale.clone());
        // es-US is Latin American Spanish (usted, no vosotros), not Spain's tú.
        for locale in [
            "es-US", "es_us", "es-419", "es-MX", "es-AR", "es-CO", "es-PR", "es-BZ", "es-005",
            "es-013", "es-029",
        ] {
            assert_eq!(pick(locale).as_deref(), Some("es-MX"), "{locale}");
        }
        let es_us = t.select(Some("es-US"), Some("US")).map(|(p, _)| p);
        assert_eq!(es_us.map(Profile::pronoun), Some(Pronoun::Formal));
        for locale in ["es", "es-ES", "es-GQ", "es-IC"] {
            assert_eq!(pick(locale).as_deref(), Some("es-ES"), "{locale}");
        }
        for locale in ["pt-PT", "pt-AO", "pt-LU", "pt-CH", "pt-MO"] {
            assert_eq!(pick(locale).as_deref(), Some("pt-PT"), "{locale}");
        }
        for locale in ["pt", "pt-BR", "pt_br"] {
            assert_eq!(pick(locale).as_deref(), Some("pt-BR"), "{locale}");
        }
        // A country alone keeps its own profile: the United States read English.
        assert_eq!(
            t.select(None, Some("US")).map(|(p, _)| p.locale.as_str()),
            Some("en-US")
        );
    }

    #[test]
    fn overrides_set_values_and_name_what_is_wrong() {
        let mut t = table();
        let applied = t
            .apply_overrides(
                "de-DE.register=informal; ja-JP.emoji=keep\n nl_nl.exclamation = tone-down",
            )
            .unwrap();
        assert_eq!(applied.len(), 3);
        assert_eq!(t.get("de-DE").unwrap().register, Register::Informal);
        assert_eq!(t.get("ja-JP").unwrap().emoji, EmojiPolicy::Keep);
        assert_eq!(
            t.get("nl-NL").unwrap().exclamation,
            ExclamationPolicy::ToneDown
        );
        assert_eq!(
            t.get("de-DE").unwrap().sources["register"],
            "tenant override"
        );

        let err = t.apply_overrides("xx-XX.register=formal").unwrap_err();
        assert!(err.contains("unknown locale \"xx-XX\""), "{err}");
        let err = t.apply_overrides("de-DE.mood=happy").unwrap_err();
        assert!(err.contains("unknown field \"mood\""), "{err}");
        let err = t.apply_overrides("de-DE.register=casual").unwrap_err();
        assert!(
            err.contains("unknown value \"casual\" for register"),
            "{err}"
        );
        let err = t.apply_overrides("de-DE.power_distance=300").unwrap_err();
        assert!(err.contains("unknown value \"300\""), "{err}");
        let err = t.apply_overrides("register").unwrap_err();
        assert!(err.contains("expected locale.field=value"), "{err}");
    }

    #[test]
    fn wildcard_overrides_every_profile() {
        let mut t = table();
        t.apply_overrides("*.emoji=keep").unwrap();
        assert!(t.profiles.iter().all(|p| p.emoji == EmojiPolicy::Keep));
    }
}
