//! `honorific.add`: the customer's name in the agent's own greeting, with the honorific the profile asks for.

use super::*;

pub(super) fn first_line(text: &str) -> Option<(usize, usize)> {
    lines(text)
        .into_iter()
        .find(|(s, e)| !text[*s..*e].trim().is_empty())
}

pub(super) fn honorific(text: &mut String, input: &Input) -> Option<Applied> {
    let reply = input.reply?;
    let name = input.name?;
    if !input.enabled(Rule::HonorificAdd) {
        return None;
    }
    // An HTML draft is read as the customer reads it, and only the name changes.
    let view = html::is_html(text).then(|| View::new(text));
    let readable = view.as_ref().map_or(text.as_str(), |v| v.text.as_str());
    let (ls, le) = first_line(readable)?;
    let line = readable[ls..le].to_owned();
    if !is_greeting_line(&line, Some(name)) {
        return None;
    }
    let candidates = |family_first_only: bool| -> Vec<String> {
        let mut out = vec![name.full.clone()];
        // "山田 太郎" is often written "山田太郎": found whole before its family
        // name, whose honorific would otherwise split it ("山田様太郎さん").
        let compact: String = name.full.split_whitespace().collect();
        if compact != name.full {
            out.push(compact);
        }
        if let Some(f) = &name.family
            && (!family_first_only || name.family_first)
        {
            out.push(f.clone());
        }
        if let Some(g) = &name.given {
            out.push(g.clone());
        }
        out
    };
    // A Latin-script greeting ("Dear Anna,") takes no Japanese or Korean honorific:
    // nothing Latin may come before the name.
    let latin_before = |pos: usize| line[..pos].chars().any(|c| c.is_ascii_alphabetic());
    let (new_line, what) = match reply.lang {
        Lang::Ja => {
            let (pos, part) = candidates(false)
                .into_iter()
                .find_map(|c| line.find(&c).map(|p| (p, c)))?;
            if latin_before(pos) {
                return None;
            }
            let after = &line[pos + part.len()..];
            if ["様", "さま", "殿", "御中", "各位"]
                .iter()
                .any(|h| after.starts_with(h))
            {
                return None;
            }
            let suffix = ["さん", "くん", "ちゃん", "氏"]
                .iter()
                .find(|s| after.starts_with(**s))
                .map_or(0, |s| s.len());
            let end = pos + part.len();
            let new_line = format!("{}様{}", &line[..end], &line[end + suffix..]);
            (
                new_line,
                format!(
                    "{} → {} (Japanese honorific 様)",
                    quote(&line[pos..end + suffix]),
                    quote(&format!("{part}様"))
                ),
            )
        }
        Lang::Ko => {
            let (pos, part) = candidates(false)
                .into_iter()
                .find_map(|c| line.find(&c).map(|p| (p, c)))?;
            if latin_before(pos) {
                return None;
            }
            let end = pos + part.len();
            let after = &line[end..];
            if after.trim_start().starts_with('님') || after.trim_start().starts_with("고객님")
            {
                return None;
            }
            let suffix = [" 씨", "씨"]
                .iter()
                .find(|s| after.starts_with(**s))
                .map_or(0, |s| s.len());
            let new_line = format!("{}님{}", &line[..end], &line[end + suffix..]);
            (
                new_line,
                format!(
                    "{} → {} (Korean honorific 님)",
                    quote(&line[pos..end + suffix]),
                    quote(&format!("{part}님"))
                ),
            )
        }
        lang if lang.is_latin() => {
            if input.profile.register != Register::Formal || input.title.is_none() {
                return None;
            }
            let formal = formulas::address(
                lang,
                Register::Formal,
                input.profile.honorific,
                &input.who(),
            )?;
            let bare = line.trim().trim_end_matches(TRAILING_PUNCTUATION);
            // "<greeting word> <name>": the name is the line's tail.
            let part = [Some(&name.full), name.given.as_ref()]
                .into_iter()
                .flatten()
                .find(|p| bare.ends_with(p.as_str()) && bare.len() > p.len())?;
            if formal == *part || bare.ends_with(&formal) {
                return None;
            }
            let pos = line.find(bare)? + bare.len() - part.len();
            let head = &line[..pos];
            if !head
                .trim_end()
                .chars()
                .next_back()
                .is_some_and(|c| c.is_alphabetic() || c == ',')
            {
                return None;
            }
            let new_line = format!("{head}{formal}{}", &line[pos + part.len()..]);
            let detail = format!(
                "{} → {} (formal register, title known)",
                quote(&line),
                quote(&new_line)
            );
            (new_line, detail)
        }
        _ => return None,
    };
    match &view {
        Some(view) => *text = view.replace_line(text, (ls, le), &new_line)?,
        None => text.replace_range(ls..le, &new_line),
    }
    Some(Applied {
        rule: Rule::HonorificAdd,
        detail: what,
    })
}
