//! The pronoun a reply addresses the customer with — the T–V distinction (`tú` /
//! `usted`, `tu` / `vous`, `du` / `Sie`, `tu` / `você` / `o senhor`) — and the rewrite
//! of a reply into the one the tenant chose.
//!
//! Translation engines pick a pronoun of their own: Apertium's English–Spanish pair
//! writes `vuestro` for "your" and `puedes` for "you can" in one sentence, so a
//! Mexican customer reads vosotros forms that Latin America never uses. The rewrite
//! runs on the reply as the customer will read it, after translation.
//!
//! What is rewritten, and what only reported:
//!
//! - **towards the formal pronoun**, everything the languages mark unambiguously as
//!   the second person: pronouns, possessives, clitics and the verbs that agree with
//!   them (`puedes` → `puede`, `tu peux` → `vous pouvez`, `kannst du` → `können
//!   Sie`, `podes` → `pode`), plus the plural `vosotros` / `vós` forms, which a reply
//!   to one customer never wants;
//! - **towards the informal pronoun**, only the plural forms (`vuestro` → `tu`); the
//!   formal forms share the third person (`su`, `le`, `Sie`, `vous`) with "his",
//!   "her", "they" and "you all", so a rewrite could change who is meant. Such
//!   forms stay, reported by `register.formal-address`.
//!
//! Spanish and Portuguese drop the subject pronoun, so their verbs are recognised
//! from a lexicon of the verbs support replies use, conjugated by rule ([`es`],
//! [`pt`]); French and German always have the pronoun next to the verb, so there the
//! verb is found by its place ([`fr`], [`de`]). A word the lexicon does not know is
//! left as it is. Italian, Dutch, Japanese, Korean and Chinese are not rewritten.

mod de;
mod es;
mod fr;
mod pt;
mod words;

use serde::Deserialize;

use crate::language::Lang;
use crate::names::TitleKind;

/// The pronoun of address: the V form (`usted`, `vous`, `Sie`, `Lei`, `u`; `você`
/// in Portugal, `o senhor` / `a senhora` in Brazil) or the T form (`tú`, `tu`, `du`,
/// `je`; `você` in Brazil).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Pronoun {
    /// The V form.
    Formal,
    /// The T form.
    Informal,
}

/// Which Portuguese: Brazil's `você` / `o senhor`, or Portugal's `tu` / `você`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variety {
    /// Brazil (and anything not Portugal's).
    Brazil,
    /// Portugal, Angola, Mozambique and the other countries following its norm.
    Portugal,
}

impl Pronoun {
    /// The pronoun's word in `lang` (for Portuguese, of `variety`).
    ///
    /// ```
    /// use tone::language::Lang;
    /// use tone::pronoun::{Pronoun, Variety};
    /// assert_eq!(Pronoun::Formal.word(Lang::Es, Variety::Brazil), "usted");
    /// assert_eq!(Pronoun::Formal.word(Lang::Pt, Variety::Portugal), "você");
    /// assert_eq!(Pronoun::Informal.word(Lang::Pt, Variety::Brazil), "você");
    /// ```
    pub fn word(self, lang: Lang, variety: Variety) -> &'static str {
        match (lang, self) {
            (Lang::Es, Pronoun::Formal) => "usted",
            (Lang::Es, Pronoun::Informal) => "tú",
            (Lang::Pt, Pronoun::Formal) if variety == Variety::Brazil => "o senhor / a senhora",
            (Lang::Pt, Pronoun::Formal) => "você",
            (Lang::Pt, Pronoun::Informal) if variety == Variety::Brazil => "você",
            (Lang::Pt, Pronoun::Informal) => "tu",
            (Lang::Fr, Pronoun::Formal) => "vous",
            (Lang::De, Pronoun::Formal) => "Sie",
            (Lang::De, Pronoun::Informal) => "du",
            (Lang::It, Pronoun::Formal) => "Lei",
            (Lang::Nl, Pronoun::Formal) => "u",
            (Lang::Nl, Pronoun::Informal) => "je",
            (Lang::Zh, Pronoun::Formal) => "您",
            (Lang::Zh, Pronoun::Informal) => "你",
            (_, Pronoun::Formal) => "formal",
            (Lang::Fr | Lang::It, Pronoun::Informal) => "tu",
            (_, Pronoun::Informal) => "informal",
        }
    }

    /// Reads an override value: `formal` / `informal`, or a pronoun's word of
    /// `lang` (`usted`, `tú`, `tu`, `vous`, `Sie`, `du`, `você`, `o senhor`,
    /// `a senhora`, `Lei`, `u`, `je`).
    ///
    /// ```
    /// use tone::language::Lang;
    /// use tone::pronoun::{Pronoun, Variety};
    /// assert_eq!(Pronoun::parse("usted", Lang::Es, Variety::Brazil), Some(Pronoun::Formal));
    /// assert_eq!(Pronoun::parse("você", Lang::Pt, Variety::Brazil), Some(Pronoun::Informal));
    /// assert_eq!(Pronoun::parse("você", Lang::Pt, Variety::Portugal), Some(Pronoun::Formal));
    /// assert_eq!(Pronoun::parse("vous", Lang::Es, Variety::Brazil), None);
    /// ```
    pub fn parse(value: &str, lang: Lang, variety: Variety) -> Option<Pronoun> {
        let value = value.trim().to_lowercase();
        match value.as_str() {
            "formal" => return Some(Pronoun::Formal),
            "informal" => return Some(Pronoun::Informal),
            _ => {}
        }
        let words = |p: Pronoun| -> Vec<String> {
            let mut all: Vec<String> = p
                .word(lang, variety)
                .split(" / ")
                .map(str::to_lowercase)
                .collect();
            if lang == Lang::Es && p == Pronoun::Informal {
                all.push("tu".into());
            }
            if lang == Lang::Pt && p == Pronoun::Informal && variety == Variety::Brazil {
                all.push("voce".into());
            }
            all
        };
        [Pronoun::Formal, Pronoun::Informal]
            .into_iter()
            .find(|p| words(*p).contains(&value))
    }

    /// The name shown in notes: the word, and `formal` / `informal` in brackets.
    pub fn describe(self, lang: Lang, variety: Variety) -> String {
        let kind = match self {
            Pronoun::Formal => "formal",
            Pronoun::Informal => "informal",
        };
        match self.word(lang, variety) {
            w if w == kind => kind.to_owned(),
            w => format!("{w} ({kind})"),
        }
    }
}

/// What the rewrite needs besides the text.
#[derive(Debug, Clone, Copy)]
pub struct Target {
    /// The reply's language.
    pub lang: Lang,
    /// Portugal's or Brazil's Portuguese.
    pub variety: Variety,
    /// The pronoun wanted.
    pub pronoun: Pronoun,
    /// The customer's title, if known (`o senhor` or `a senhora`).
    pub title: Option<TitleKind>,
}

/// A reply in the wanted pronoun.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rewritten {
    /// The text.
    pub text: String,
    /// Each word changed, as written before and after (`("Vuestro", "Su")`), in order.
    pub changes: Vec<(String, String)>,
}

/// Rewrites `text` into `target`'s pronoun. Languages without a rewrite (see the
/// module doc) come back unchanged.
///
/// ```
/// use tone::language::Lang;
/// use tone::pronoun::{rewrite, Pronoun, Target, Variety};
/// let target = Target { lang: Lang::Es, variety: Variety::Brazil, pronoun: Pronoun::Formal, title: None };
/// let out = rewrite("Vuestro reembolso ha sido emitido. Puedes seguir tu pedido aquí.", target);
/// assert_eq!(out.text, "Su reembolso ha sido emitido. Puede seguir su pedido aquí.");
/// ```
pub fn rewrite(text: &str, target: Target) -> Rewritten {
    let mut words = words::Words::new(text);
    match target.lang {
        Lang::Es => es::rewrite(&mut words, target.pronoun),
        Lang::Pt => pt::rewrite(&mut words, target),
        Lang::Fr => fr::rewrite(&mut words, target.pronoun),
        Lang::De => de::rewrite(&mut words, target.pronoun),
        _ => {}
    }
    words.finish()
}

/// Whether the pronoun of `lang` is rewritten (not only reported).
pub fn rewrites(lang: Lang) -> bool {
    matches!(lang, Lang::Es | Lang::Pt | Lang::Fr | Lang::De)
}
