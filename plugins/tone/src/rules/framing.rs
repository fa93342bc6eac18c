//! What frames a reply: `greeting.add`, the `opener.cushion` / `opener.gratitude` after it, and `closing.add`.
//!
//! In an HTML draft ([`html::is_html`]) each judges the text as the customer reads it
//! ([`View`]) and adds its formula as a paragraph of its own.

use super::*;

pub(super) fn greeting(text: &mut String, input: &Input) -> Option<Applied> {
    let reply = input.reply?;
    if input.profile.greeting != Requirement::Required || !input.enabled(Rule::GreetingAdd) {
        return None;
    }
    let view = html::is_html(text).then(|| View::new(text));
    let readable = view.as_ref().map_or(text.as_str(), |v| v.text.as_str());
    let (ls, le) = first_line(readable)?;
    if is_greeting_line(&readable[ls..le], input.name) {
        return None;
    }
    let formula = formulas::greeting(
        reply,
        input.profile.register,
        input.profile.honorific,
        &input.who(),
    );
    *text = match &view {
        // In front of the first block, as a paragraph of its own.
        Some(view) => {
            let at = html::before_block(text, view.source_start(ls));
            format!(
                "{}{}{}",
                &text[..at],
                html::paragraph(&formula),
                &text[at..]
            )
        }
        None => format!("{formula}\n\n{}", text.trim_start()),
    };
    Some(Applied {
        rule: Rule::GreetingAdd,
        detail: format!(
            "added {} ({})",
            quote(&formula.replace('\n', " / ")),
            greeting_reason(input)
        ),
    })
}

pub(super) fn greeting_reason(input: &Input) -> String {
    let register = input.profile.register.name();
    let address = match (input.name, input.title) {
        (None, _) => "no name known".to_owned(),
        (Some(_), Some(t)) => format!("title {:?} from customer.title", t.text),
        (Some(_), None) => "no title known".to_owned(),
    };
    let honorific = match input.profile.honorific {
        Honorific::SurnameSama | Honorific::FullNameSama
            if input.reply.is_some_and(|r| r.lang == Lang::Ja) =>
        {
            ", honorific 様"
        }
        Honorific::NameNim if input.reply.is_some_and(|r| r.lang == Lang::Ko) => ", honorific 님",
        _ => "",
    };
    format!("{register} register, {address}{honorific}")
}

/// Where an opener goes: after the greeting line and the gratitude lines right under
/// it, or at the start.
pub(super) fn opener_position(text: &str, input: &Input, lang: Lang) -> usize {
    let all = lines(text);
    let Some(first) = all
        .iter()
        .position(|(s, e)| !text[*s..*e].trim().is_empty())
    else {
        return 0;
    };
    let (s, e) = all[first];
    if !is_greeting_line(&text[s..e], input.name) {
        return 0;
    }
    let mut end = e;
    for &(s, e) in &all[first + 1..] {
        let line = &text[s..e];
        if line.trim().is_empty() {
            break;
        }
        let gratitude = phrases::find_in(&Folded::new(line), phrases::GRATITUDE, lang).is_some();
        if gratitude && line.chars().count() <= 60 {
            end = e;
        } else {
            break;
        }
    }
    end
}

pub(super) fn opener(text: &mut String, input: &Input) -> Option<Applied> {
    let reply = input.reply?;
    if input.profile.directness != Directness::Cushioned {
        return None;
    }
    let lang = reply.lang;
    let view = html::is_html(text).then(|| View::new(text));
    let readable = view.as_ref().map_or(text.as_str(), |v| v.text.as_str());
    let folded = Folded::new(readable);
    let bad = phrases::find_in(&folded, phrases::BAD_NEWS, lang);
    let (rule, formula, why) = match bad {
        Some(word) => {
            if phrases::find_in(&folded, phrases::CUSHION, lang).is_some() {
                return None;
            }
            (
                Rule::OpenerCushion,
                formulas::cushion(reply, input.profile.register),
                format!("bad news ({}) in a high-context reply", quote(word)),
            )
        }
        None => {
            if phrases::find_in(&folded, phrases::GRATITUDE, lang).is_some() {
                return None;
            }
            (
                Rule::OpenerGratitude,
                formulas::gratitude(reply, input.profile.register),
                "high-context reply without a word of thanks".to_owned(),
            )
        }
    };
    if !input.enabled(rule) {
        return None;
    }
    let at = opener_position(readable, input, lang);
    let head = readable[..at].to_owned();
    // German continues in lower case after a salutation ending with a comma.
    let formula = if lang == Lang::De && head.trim_end().ends_with(',') {
        lower_first(formula)
    } else {
        formula.to_owned()
    };
    *text = match &view {
        // A paragraph of its own, after the greeting's block or before the first.
        Some(view) => {
            let at = if head.trim().is_empty() {
                let first = readable.len() - readable.trim_start().len();
                html::before_block(text, view.source_start(first))
            } else {
                html::after_block(text, view.source_end(at))
            };
            format!(
                "{}{}{}",
                &text[..at],
                html::paragraph(&formula),
                &text[at..]
            )
        }
        None => {
            let rest = text[at..].trim_start();
            match (head.is_empty(), rest.is_empty()) {
                (true, _) => format!("{formula}\n\n{rest}"),
                (false, true) => format!("{head}\n\n{formula}"),
                (false, false) => format!("{head}\n\n{formula}\n\n{rest}"),
            }
        }
    };
    Some(Applied {
        rule,
        detail: format!("added {} ({why})", quote(&formula)),
    })
}

pub(super) fn closing(text: &mut String, input: &Input) -> Option<Applied> {
    let reply = input.reply?;
    if input.profile.closing != Requirement::Required || !input.enabled(Rule::ClosingAdd) {
        return None;
    }
    let view = html::is_html(text).then(|| View::new(text));
    let readable = view.as_ref().map_or(text.as_str(), |v| v.text.as_str());
    let signature = signature_start(readable);
    let body = &readable[..signature.unwrap_or(readable.len())];
    if has_closing(body, reply.lang) {
        return None;
    }
    let formula = formulas::closing(reply, input.profile.register);
    *text = match (&view, signature) {
        // A paragraph of its own, before the signature's block or after the last.
        (Some(view), Some(signature)) => {
            let at = html::before_block(text, view.source_start(signature));
            format!("{}{}{}", &text[..at], html::paragraph(formula), &text[at..])
        }
        (Some(view), None) => {
            let at = html::after_block(text, view.source_end(body.trim_end().len()));
            format!("{}{}{}", &text[..at], html::paragraph(formula), &text[at..])
        }
        (None, Some(signature)) => format!(
            "{}\n\n{formula}\n{}",
            text[..signature].trim_end(),
            &text[signature..]
        ),
        (None, None) => format!("{}\n\n{formula}", text.trim_end()),
    };
    Some(Applied {
        rule: Rule::ClosingAdd,
        detail: format!(
            "added {} ({} register)",
            quote(formula),
            input.profile.register.name()
        ),
    })
}

/// Whether the body (the draft up to its signature) ends with a closing: from the
/// end, name or department lines may follow the closing; the first sentence of the
/// body ends the search. The greeting does not count.
fn has_closing(body: &str, lang: Lang) -> bool {
    let all: Vec<(usize, usize)> = lines(body)
        .into_iter()
        .filter(|(s, e)| !body[*s..*e].trim().is_empty())
        .collect();
    for (s, e) in all.iter().skip(1).rev().take(4) {
        let line = &body[*s..*e];
        if is_closing_line(line, lang) {
            return true;
        }
        if !is_signature_line(line) {
            return false;
        }
    }
    false
}
