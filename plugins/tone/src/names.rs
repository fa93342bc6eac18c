//! The customer's name and title, as the formulas need them.
//!
//! The family name's position comes from the script: names written in Chinese
//! characters, kana or Hangul put the family name first (`山田 太郎`, `김민준`), names
//! in Latin (and other) scripts put it last (`Anna Schmidt`, `Ludwig van Beethoven`).
//! An unspaced Japanese name cannot be split reliably and is used whole; an unspaced
//! Chinese or Korean name gives its first character or syllable (or a known
//! two-character surname). The integrator can say it exactly with the event
//! attributes `customer.family_name` and `customer.given_name`.

use crate::language::Lang;
use crate::matching::{is_han, is_hangul, is_kana};

/// A customer's name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Name {
    /// The name as shown (white space normalised).
    pub full: String,
    /// The given name, when it can be told apart.
    pub given: Option<String>,
    /// The family name, when it can be told apart.
    pub family: Option<String>,
    /// Written family-first (Chinese characters, kana, Hangul).
    pub family_first: bool,
}

/// What a title says about how to address the customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TitleKind {
    /// Ms, Mrs, Frau, Madame, Sra., 女士 ...
    Female,
    /// Mr, Herr, Monsieur, Sr., 先生 ...
    Male,
    /// Dr, Dott., 博士 ...
    Doctor,
    /// Mx and anything else: kept only in English.
    Other,
}

/// The customer's title (event attribute `customer.title`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Title {
    /// What it says.
    pub kind: TitleKind,
    /// As given, trimmed.
    pub text: String,
}

/// Reads a title; an empty one is none.
///
/// ```
/// use tone::names::{parse_title, TitleKind};
/// assert_eq!(parse_title("Ms").unwrap().kind, TitleKind::Female);
/// assert_eq!(parse_title("Herr").unwrap().kind, TitleKind::Male);
/// assert_eq!(parse_title("Mx.").unwrap().kind, TitleKind::Other);
/// assert!(parse_title(" ").is_none());
/// ```
pub fn parse_title(text: &str) -> Option<Title> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    let key = text.trim_end_matches('.').to_lowercase();
    let kind = match key.as_str() {
        "ms" | "mrs" | "miss" | "frau" | "fr" | "mme" | "madame" | "mlle" | "sra" | "señora"
        | "senora" | "srta" | "sig.ra" | "sigra" | "signora" | "mevrouw" | "mevr" | "mw"
        | "dona" | "女士" | "小姐" | "夫人" | "السيدة" | "سيدة" => {
            TitleKind::Female
        }
        "mr" | "herr" | "hr" | "m" | "monsieur" | "sr" | "señor" | "senor" | "sig" | "signor"
        | "signore" | "meneer" | "dhr" | "de heer" | "heer" | "先生" | "السيد" | "سيد" => {
            TitleKind::Male
        }
        "dr" | "doctor" | "dott" | "dottore" | "dottoressa" | "docteur" | "doktor" | "博士"
        | "د" | "الدكتور" => TitleKind::Doctor,
        _ => TitleKind::Other,
    };
    Some(Title {
        kind,
        text: text.to_owned(),
    })
}

/// Two-character Chinese surnames.
const ZH_COMPOUND_SURNAMES: &[&str] = &[
    "欧阳", "歐陽", "司马", "司馬", "诸葛", "諸葛", "上官", "东方", "東方", "皇甫", "令狐", "慕容",
    "夏侯", "尉迟", "尉遲", "公孙", "公孫", "长孙", "長孫",
];

/// Two-syllable Korean surnames.
const KO_COMPOUND_SURNAMES: &[&str] = &["남궁", "황보", "제갈", "선우", "독고", "사공", "서문"];

/// Particles that start a family name in Latin script: `van Beethoven`, `da Silva`.
const PARTICLES: &[&str] = &[
    "van", "von", "de", "der", "den", "del", "della", "di", "da", "das", "dos", "du", "le", "la",
    "ten", "ter", "bin", "al", "el", "zu",
];

/// Reads a display name. `culture` is the customer's language (from the profile): it
/// decides whether an unspaced name in Chinese characters is Japanese (not split) or
/// Chinese (surname first). `given` and `family` are the integrator's attributes and
/// win when present. A missing name, or one that is an e-mail address, is none.
///
/// ```
/// use tone::{language::Lang, names::parse_name};
/// let n = parse_name("山田 太郎", None, None, Lang::Ja).unwrap();
/// assert_eq!(n.family.as_deref(), Some("山田"));
/// let n = parse_name("Ludwig van Beethoven", None, None, Lang::De).unwrap();
/// assert_eq!(n.family.as_deref(), Some("van Beethoven"));
/// assert_eq!(n.given.as_deref(), Some("Ludwig"));
/// ```
pub fn parse_name(
    display: &str,
    given: Option<&str>,
    family: Option<&str>,
    culture: Lang,
) -> Option<Name> {
    let full = display.split_whitespace().collect::<Vec<_>>().join(" ");
    let given = given
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned);
    let family = family
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned);
    if full.is_empty() || full.contains('@') {
        return match (&given, &family) {
            (Some(g), Some(f)) => Some(Name {
                full: format!("{g} {f}"),
                given,
                family,
                family_first: false,
            }),
            _ => None,
        };
    }
    let family_first = full
        .chars()
        .any(|c| is_han(c) || is_kana(c) || is_hangul(c));
    let tokens: Vec<&str> = full.split(' ').collect();
    let (mut g, mut f) = (None, None);
    if family_first {
        if tokens.len() >= 2 {
            f = Some(tokens[0].to_owned());
            g = Some(tokens[1..].join(" "));
        } else {
            let name = tokens[0];
            let chars = name.chars().count();
            let hangul = name.chars().all(is_hangul);
            let chinese = name.chars().all(is_han) && culture != Lang::Ja;
            if (hangul || chinese) && (2..=5).contains(&chars) {
                let compounds = if hangul {
                    KO_COMPOUND_SURNAMES
                } else {
                    ZH_COMPOUND_SURNAMES
                };
                let surname_len = if chars >= 3 && compounds.iter().any(|c| name.starts_with(c)) {
                    2
                } else {
                    1
                };
                let split = name
                    .char_indices()
                    .nth(surname_len)
                    .map_or(name.len(), |(i, _)| i);
                f = Some(name[..split].to_owned());
                g = Some(name[split..].to_owned());
            }
        }
    } else if tokens.len() >= 2 {
        g = Some(tokens[0].to_owned());
        // The last word, with the particles right before it (`van Beethoven`,
        // `de la Cruz`): one earlier belongs to a compound given name
        // (`María del Carmen García` is Sra. García).
        let particle = |t: &str| PARTICLES.contains(&t.to_lowercase().as_str());
        let mut start = tokens.len() - 1;
        while start > 1 && particle(tokens[start - 1]) {
            start -= 1;
        }
        f = Some(tokens[start..].join(" "));
    } else {
        g = Some(tokens[0].to_owned());
    }
    if let (None, Some(family)) = (&given, &family) {
        // Only the family name was given: the given name is the rest.
        let rest = full.replacen(family.as_str(), "", 1);
        g = Some(rest.trim().to_owned()).filter(|r| !r.is_empty() && rest.len() < full.len());
    }
    Some(Name {
        full,
        given: given.or(g),
        family: family.or(f),
        family_first,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn family_first_for_cjk_scripts() {
        let n = parse_name("王小明", None, None, Lang::Zh).unwrap();
        assert_eq!(
            (n.family.as_deref(), n.given.as_deref()),
            (Some("王"), Some("小明"))
        );
        let n = parse_name("欧阳娜娜", None, None, Lang::Zh).unwrap();
        assert_eq!(n.family.as_deref(), Some("欧阳"));
        let n = parse_name("김민준", None, None, Lang::Ko).unwrap();
        assert_eq!(n.family.as_deref(), Some("김"));
        let n = parse_name("山田太郎", None, None, Lang::Ja).unwrap();
        assert_eq!(n.family, None);
        assert_eq!(n.full, "山田太郎");
        let n = parse_name("山田\u{3000}太郎", None, None, Lang::Ja).unwrap();
        assert_eq!(n.family.as_deref(), Some("山田"));
        assert!(n.family_first);
    }

    #[test]
    fn family_last_for_latin_script() {
        let n = parse_name("  Anna   Schmidt ", None, None, Lang::De).unwrap();
        assert_eq!(n.full, "Anna Schmidt");
        assert_eq!(
            (n.given.as_deref(), n.family.as_deref()),
            (Some("Anna"), Some("Schmidt"))
        );
        // Latin script is family-last, also for a Japanese customer.
        let n = parse_name("Taro Yamada", None, None, Lang::Ja).unwrap();
        assert_eq!(n.family.as_deref(), Some("Yamada"));
        let n = parse_name("Anna", None, None, Lang::En).unwrap();
        assert_eq!((n.given.as_deref(), n.family), (Some("Anna"), None));
        let n = parse_name("Sanne de Vries", None, None, Lang::Nl).unwrap();
        assert_eq!(n.family.as_deref(), Some("de Vries"));
        // Particles inside a compound given name are not the family name's.
        for (name, family) in [
            ("María del Carmen García", "García"),
            ("José de Jesús Hernández", "Hernández"),
            ("Maria da Conceição Santos", "Santos"),
            ("Juan de la Cruz", "de la Cruz"),
            ("Ludwig van Beethoven", "van Beethoven"),
        ] {
            let n = parse_name(name, None, None, Lang::Es).unwrap();
            assert_eq!(n.family.as_deref(), Some(family), "{name}");
        }
    }

    #[test]
    fn attributes_win_and_addresses_are_no_names() {
        let n = parse_name("Yamada Taro", None, Some("Yamada"), Lang::Ja).unwrap();
        assert_eq!(n.family.as_deref(), Some("Yamada"));
        assert_eq!(n.given.as_deref(), Some("Taro"));
        assert!(parse_name("anna@example.com", None, None, Lang::En).is_none());
        assert!(parse_name("", None, None, Lang::En).is_none());
    }
}
