//! `register.pronoun` and `register.speech-level` (the reply in the profile's pronoun and speech level), and the note-only register findings.

use super::*;

/// `register.speech-level`: Japanese and Korean sentence endings in the polite
/// level, under a formal profile of the reply's language.
pub(super) fn speech_level(text: &mut String, input: &Input) -> Option<Applied> {
    let reply = input.reply?;
    let profile = input.profile;
    if !input.enabled(Rule::SpeechLevel)
        || reply.lang != profile.language
        || profile.pronoun() != Pronoun::Formal
        || !matches!(reply.lang, Lang::Ja | Lang::Ko)
    {
        return None;
    }
    let out = crate::speech_level::polite(text, reply.lang);
    if out.changes.is_empty() {
        return None;
    }
    let level = if reply.lang == Lang::Ja {
        "です/ます (丁寧語)"
    } else {
        "합쇼체"
    };
    let list: Vec<String> = out
        .changes
        .iter()
        .map(|(from, to)| format!("{from} → {to}"))
        .collect();
    *text = out.text;
    Some(Applied {
        rule: Rule::SpeechLevel,
        detail: format!(
            "sentence endings in {level} (profile {}): {}",
            profile.locale,
            list.join(", ")
        ),
    })
}

/// `register.pronoun`: the reply in the profile's pronoun, when it is written in
/// the profile's language (an English reply to a German customer has no `du`).
pub(super) fn pronoun(text: &mut String, input: &Input) -> Option<Applied> {
    let reply = input.reply?;
    let profile = input.profile;
    if !input.enabled(Rule::Pronoun)
        || reply.lang != profile.language
        || !pronoun::rewrites(reply.lang)
    {
        return None;
    }
    let wanted = profile.pronoun();
    let variety = profile.variety();
    let title = input.title.map(|t| t.kind);
    let out = pronoun::rewrite(
        text,
        pronoun::Target {
            lang: reply.lang,
            variety,
            pronoun: wanted,
            title,
        },
    );
    if out.changes.is_empty() {
        return None;
    }
    let mut shown: Vec<String> = Vec::new();
    for (from, to) in &out.changes {
        let pair = format!("{from} → {to}");
        if !shown.contains(&pair) {
            shown.push(pair);
        }
    }
    let more = shown.len().saturating_sub(8);
    shown.truncate(8);
    let mut list = shown.join(", ");
    if more > 0 {
        list.push_str(&format!(" and {more} more"));
    }
    *text = out.text;
    Some(Applied {
        rule: Rule::Pronoun,
        detail: format!(
            "addressed the customer as {} (profile {}): {list}",
            wanted.describe(reply.lang, variety),
            profile.locale
        ),
    })
}

/// Register mismatches in the agent's own text, reported, never rewritten: the verb
/// forms would have to change with the pronouns, which rules cannot do safely.
pub fn register_findings(text: &str, input: &Input) -> Vec<Applied> {
    let Some(reply) = input.reply else {
        return Vec::new();
    };
    let lang = reply.lang;
    let spans = spans::find(text, input.keep_terms);
    let masked = spans::masked(text, &spans);
    let folded = Folded::new(&masked);
    let wanted = input.profile.pronoun();
    let expected = wanted.word(lang, input.profile.variety());
    let (table, rule, found_kind) = match wanted {
        Pronoun::Formal => (
            phrases::INFORMAL_ADDRESS,
            Rule::RegisterInformal,
            "informal",
        ),
        Pronoun::Informal => (phrases::FORMAL_ADDRESS, Rule::RegisterFormal, "formal"),
    };
    if !input.enabled(rule) {
        return Vec::new();
    }
    let mut words: Vec<String> = Vec::new();
    for (_, places) in phrases::find_all_in(&folded, table, lang) {
        let real = places.iter().any(|(_, e)| {
            // 你们 / 您们 address a group: not the register of one customer.
            !(lang == Lang::Zh && matches!(char_at(&masked, *e), Some('们' | '們')))
        });
        if real {
            let (s, e) = places[0];
            words.push(format!("\"{}\"", &text[s..e]));
        }
    }
    if words.is_empty() {
        return Vec::new();
    }
    let why = match wanted {
        Pronoun::Formal if pronoun::rewrites(lang) => {
            "left by register.pronoun (a form its lexicon does not know), please review"
        }
        Pronoun::Informal if pronoun::rewrites(lang) => {
            "not rewritten (these forms are also the third person's or the plural's), please review"
        }
        _ => "not rewritten in this language, please review",
    };
    vec![Applied {
        rule,
        detail: format!(
            "{found_kind} address ({}) in a reply to a profile that expects {expected}; {why}",
            words.join(", ")
        ),
    }]
}
