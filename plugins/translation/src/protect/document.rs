//! A message cut into units around its spans, translated unit by unit as markup
//! (or segment by segment when an engine loses a placeholder), and rebuilt with
//! the spans put back from the original text.

use super::markup::{escape, parse_placeholder, unescape};
use super::scan::{Span, find_spans};
use crate::memory::Glossary;

#[derive(Debug, Clone)]
enum Piece {
    Text(String),
    Span(usize),
}

#[derive(Debug, Clone)]
enum Part {
    /// Copied as it is: line breaks, white space around units, block tags.
    Fixed(String),
    /// Translated as one piece.
    Unit(Vec<Piece>),
}

/// How a document's translation was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// Nothing needed translating.
    Nothing,
    /// Every unit as one piece of markup with placeholders.
    Placeholders,
    /// At least one unit segment by segment, after its placeholders did not survive.
    Segments,
}

/// A message cut into units and spans, ready to translate.
///
/// ```
/// use translation::protect::{Document, Method};
/// let doc = Document::new("Hi @ana, see https://x.example/a", &Default::default(), "es");
/// assert_eq!(doc.markup(), vec!["Hi <x0/>, see <x1/>"]);
/// let (text, method) = doc
///     .translate(|texts, _| Ok::<_, ()>(texts.iter().map(|t| t.replace("Hi", "Hola").replace("see", "mira")).collect()))
///     .unwrap();
/// assert_eq!(text, "Hola @ana, mira https://x.example/a");
/// assert_eq!(method, Method::Placeholders);
/// ```
#[derive(Debug, Clone)]
pub struct Document {
    parts: Vec<Part>,
    spans: Vec<Span>,
    /// Whether the target writes nouns capitalised (then a capital is no artefact).
    target_capitalises: bool,
}

fn has_letter(s: &str) -> bool {
    s.chars().any(char::is_alphabetic)
}

impl Document {
    /// Scans `text` with `glossary` for a translation into `target`.
    pub fn new(text: &str, glossary: &Glossary, target: &str) -> Document {
        let spans = find_spans(text, glossary);
        let mut parts = Vec::new();
        let mut unit: Vec<Piece> = Vec::new();
        let mut at = 0;
        for (index, span) in spans.iter().enumerate() {
            push_text(&mut parts, &mut unit, &text[at..span.start]);
            if span.block {
                close_unit(&mut parts, &mut unit);
                parts.push(Part::Fixed(span.restore.clone()));
            } else {
                unit.push(Piece::Span(index));
            }
            at = span.end;
        }
        push_text(&mut parts, &mut unit, &text[at..]);
        close_unit(&mut parts, &mut unit);
        Document {
            parts,
            spans,
            target_capitalises: target == "de" || target == "lb",
        }
    }

    /// The protected spans found.
    pub fn spans(&self) -> &[Span] {
        &self.spans
    }

    fn units(&self) -> impl Iterator<Item = &Vec<Piece>> {
        self.parts.iter().filter_map(|p| match p {
            Part::Unit(pieces)
                if pieces
                    .iter()
                    .any(|p| matches!(p, Piece::Text(t) if has_letter(t))) =>
            {
                Some(pieces)
            }
            _ => None,
        })
    }

    /// One markup string per unit that needs translating: escaped text, `<xN/>` for
    /// span N.
    pub fn markup(&self) -> Vec<String> {
        self.units()
            .map(|pieces| {
                pieces
                    .iter()
                    .map(|p| match p {
                        Piece::Text(t) => escape(t),
                        Piece::Span(i) => format!("<x{i}/>"),
                    })
                    .collect()
            })
            .collect()
    }

    /// The texts between spans of unit `unit` that need translating, trimmed.
    fn segments(pieces: &[Piece]) -> Vec<String> {
        pieces
            .iter()
            .filter_map(|p| match p {
                Piece::Text(t) if has_letter(t) => Some(t.trim().to_owned()),
                _ => None,
            })
            .collect()
    }

    /// Whether the author put two spaces in a row somewhere in the unit.
    fn double_spaced(pieces: &[Piece]) -> bool {
        pieces
            .iter()
            .any(|p| matches!(p, Piece::Text(t) if t.contains("  ")))
    }

    /// Whether the unit's text after span `index` starts with a lower-case letter
    /// (after white space; `false` at punctuation or another span).
    fn lower_after(pieces: &[Piece], index: usize) -> bool {
        let mut after = pieces
            .iter()
            .skip_while(|p| !matches!(p, Piece::Span(i) if *i == index))
            .skip(1);
        match after.next() {
            Some(Piece::Text(t)) => t
                .trim_start()
                .chars()
                .next()
                .is_some_and(|c| c.is_alphabetic() && c.is_lowercase()),
            _ => false,
        }
    }

    /// Rebuilds a unit from its translated markup; `None` if a placeholder of the
    /// unit is missing or repeated, or one that is not the unit's appears.
    fn fill_markup(&self, pieces: &[Piece], translated: &str) -> Option<String> {
        let expected: Vec<usize> = pieces
            .iter()
            .filter_map(|p| match p {
                Piece::Span(i) => Some(*i),
                Piece::Text(_) => None,
            })
            .collect();
        let mut seen = Vec::new();
        let mut chunks: Vec<(String, Option<usize>)> = Vec::new();
        let mut rest = translated;
        while let Some(lt) = rest.find('<') {
            match parse_placeholder(&rest[lt..]) {
                Some((index, closing, len)) => {
                    let text = unescape(&rest[..lt]);
                    if closing {
                        chunks.push((text, None));
                    } else {
                        seen.push(index);
                        chunks.push((text, Some(index)));
                    }
                    rest = &rest[lt + len..];
                }
                None => {
                    chunks.push((unescape(&rest[..=lt]), None));
                    rest = &rest[lt + 1..];
                }
            }
        }
        chunks.push((unescape(rest), None));
        let mut sorted = seen.clone();
        sorted.sort_unstable();
        let mut wanted = expected.clone();
        wanted.sort_unstable();
        if sorted != wanted {
            return None;
        }
        let double = Self::double_spaced(pieces);
        let mut out = String::new();
        let mut after_span: Option<usize> = None;
        for (text, span) in chunks {
            let mut text = self.tidy(double, &text);
            // Engines capitalise after a placeholder as after a boundary: a word that
            // followed the span in lower case stays in lower case.
            if let Some(i) = after_span.take()
                && Self::lower_after(pieces, i)
            {
                text = self.fix_case_like("a", &text);
            }
            out.push_str(&text);
            if let Some(i) = span {
                out.push_str(&self.spans.get(i)?.restore);
                after_span = Some(i);
            }
        }
        Some(self.fix_initial(pieces, out.trim()))
    }

    /// Rebuilds a unit from the translations of its segments.
    fn fill_segments(&self, pieces: &[Piece], translated: &[String]) -> String {
        let double = Self::double_spaced(pieces);
        let mut next = translated.iter();
        let mut out = String::new();
        for piece in pieces {
            match piece {
                Piece::Text(t) if has_letter(t) => {
                    let lead = &t[..t.len() - t.trim_start().len()];
                    let trail = &t[t.trim_end().len()..];
                    let body = next.next().map_or(t.trim(), |s| s.trim());
                    let body = self.fix_case_like(t, &self.tidy(double, body));
                    out.push_str(lead);
                    out.push_str(&body);
                    out.push_str(trail);
                }
                Piece::Text(t) => out.push_str(t),
                Piece::Span(i) => {
                    if let Some(span) = self.spans.get(*i) {
                        out.push_str(&span.restore);
                    }
                }
            }
        }
        out.trim().to_owned()
    }

    /// Engines double spaces where they drop a word (Apertium drops subject
    /// pronouns): one space, unless the author wrote two.
    fn tidy(&self, double_spaced: bool, text: &str) -> String {
        if double_spaced || !text.contains("  ") {
            return text.to_owned();
        }
        let mut out = String::with_capacity(text.len());
        for c in text.chars() {
            if !(c == ' ' && out.ends_with(' ')) {
                out.push(c);
            }
        }
        out
    }

    /// A unit that starts in lower case should not come back capitalised (engines
    /// capitalise after the boundaries that separate units in one request).
    fn fix_initial(&self, pieces: &[Piece], translated: &str) -> String {
        match pieces.first() {
            Some(Piece::Text(t)) => self.fix_case_like(t, translated),
            _ => translated.to_owned(),
        }
    }

    fn fix_case_like(&self, source: &str, translated: &str) -> String {
        let source_lower = source
            .chars()
            .find(|c| c.is_alphabetic())
            .is_some_and(char::is_lowercase);
        if !source_lower || self.target_capitalises {
            return translated.to_owned();
        }
        let Some((at, first)) = translated.char_indices().find(|(_, c)| c.is_alphabetic()) else {
            return translated.to_owned();
        };
        // Only the first word's capital, and only if the rest of that word is lower case
        // (an acronym stays as it is, and so does English "I").
        let word: String = translated[at..]
            .chars()
            .take_while(|c| c.is_alphabetic())
            .collect();
        if !first.is_uppercase() || word.chars().skip(1).any(char::is_uppercase) || word == "I" {
            return translated.to_owned();
        }
        let mut out = translated[..at].to_owned();
        out.extend(first.to_lowercase());
        out.push_str(&translated[at + first.len_utf8()..]);
        out
    }

    /// Translates the document with `engine`, which receives a batch of texts and
    /// whether they are markup, and must return one translation per text.
    ///
    /// Units are sent as markup first; a unit whose placeholders do not all come back
    /// once is sent again as plain segments. Returns the text and how it was made.
    pub fn translate<E>(
        &self,
        mut engine: impl FnMut(&[String], bool) -> Result<Vec<String>, E>,
    ) -> Result<(String, Method), E> {
        let units: Vec<&Vec<Piece>> = self.units().collect();
        if units.is_empty() {
            return Ok((self.assemble(&[]), Method::Nothing));
        }
        let markup = self.markup();
        let translated = engine(&markup, true)?;
        let mut outputs: Vec<Option<String>> = units
            .iter()
            .enumerate()
            .map(|(i, pieces)| translated.get(i).and_then(|t| self.fill_markup(pieces, t)))
            .collect();
        let failed: Vec<usize> = (0..units.len()).filter(|&i| outputs[i].is_none()).collect();
        let mut method = Method::Placeholders;
        if !failed.is_empty() {
            method = Method::Segments;
            let segments: Vec<Vec<String>> =
                failed.iter().map(|&i| Self::segments(units[i])).collect();
            let flat: Vec<String> = segments.iter().flatten().cloned().collect();
            let translated = engine(&flat, false)?;
            let mut offset = 0;
            for (&unit, segs) in failed.iter().zip(&segments) {
                let end = (offset + segs.len()).min(translated.len());
                let slice = translated.get(offset..end).unwrap_or_default();
                outputs[unit] = Some(self.fill_segments(units[unit], slice));
                offset += segs.len();
            }
        }
        let outputs: Vec<String> = outputs.into_iter().map(Option::unwrap_or_default).collect();
        Ok((self.assemble(&outputs), method))
    }

    /// The document with translatable units replaced, in order, by `outputs`.
    fn assemble(&self, outputs: &[String]) -> String {
        let mut next = outputs.iter();
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Fixed(s) => out.push_str(s),
                Part::Unit(pieces) => {
                    let translatable = pieces
                        .iter()
                        .any(|p| matches!(p, Piece::Text(t) if has_letter(t)));
                    // Only translatable units were sent (`units`): a line of a
                    // URL alone takes no translation from the next line.
                    match translatable.then(|| next.next()).flatten() {
                        Some(translated) => out.push_str(translated),
                        None => {
                            for piece in pieces {
                                match piece {
                                    Piece::Text(t) => out.push_str(t),
                                    Piece::Span(i) => {
                                        if let Some(span) = self.spans.get(*i) {
                                            out.push_str(&span.restore);
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        out
    }
}

/// Adds text to the current unit; line breaks (with the white space around them)
/// end it and are kept as they are.
fn push_text(parts: &mut Vec<Part>, unit: &mut Vec<Piece>, text: &str) {
    let mut rest = text;
    while let Some(nl) = rest.find('\n') {
        let before = rest[..nl].trim_end_matches([' ', '\t', '\r']);
        if !before.is_empty() {
            unit.push(Piece::Text(before.to_owned()));
        }
        let after = rest[nl..].trim_start_matches(char::is_whitespace);
        let gap = &rest[before.len()..rest.len() - after.len()];
        close_unit(parts, unit);
        parts.push(Part::Fixed(gap.to_owned()));
        rest = after;
    }
    if !rest.is_empty() {
        unit.push(Piece::Text(rest.to_owned()));
    }
}

/// Ends the current unit: white space at its edges becomes fixed text around it.
fn close_unit(parts: &mut Vec<Part>, unit: &mut Vec<Piece>) {
    let mut pieces = std::mem::take(unit);
    let mut lead = String::new();
    let mut trail = String::new();
    if let Some(Piece::Text(t)) = pieces.first_mut() {
        let trimmed = t.trim_start();
        lead = t[..t.len() - trimmed.len()].to_owned();
        *t = trimmed.to_owned();
    }
    if let Some(Piece::Text(t)) = pieces.last_mut() {
        let trimmed = t.trim_end();
        trail = t[trimmed.len()..].to_owned();
        t.truncate(trimmed.len());
    }
    pieces.retain(|p| !matches!(p, Piece::Text(t) if t.is_empty()));
    if !lead.is_empty() {
        parts.push(Part::Fixed(lead));
    }
    if !pieces.is_empty() {
        parts.push(Part::Unit(pieces));
    }
    if !trail.is_empty() {
        parts.push(Part::Fixed(trail));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stand-in engine: upper-cases text, keeps markup, with a twist per test.
    fn engine(
        twist: impl Fn(&str) -> String,
    ) -> impl FnMut(&[String], bool) -> Result<Vec<String>, ()> {
        move |texts, _markup| Ok(texts.iter().map(|t| twist(t)).collect())
    }

    #[test]
    fn units_split_at_lines_and_blocks_and_keep_their_white_space() {
        let doc = Document::new(
            "  Hi <b>you</b>\n\n<p>second line</p>  ",
            &Glossary::default(),
            "es",
        );
        assert_eq!(doc.markup(), ["Hi <x0/>you<x1/>", "second line"]);
        let (out, method) = doc
            .translate(engine(|t| {
                t.replace("Hi", "Hola")
                    .replace("you", "tú")
                    .replace("second line", "segunda línea")
            }))
            .unwrap();
        assert_eq!(out, "  Hola <b>tú</b>\n\n<p>segunda línea</p>  ");
        assert_eq!(method, Method::Placeholders);
    }

    #[test]
    fn a_line_with_nothing_to_translate_leaves_the_next_lines_in_place() {
        let text = "Hi Ana,\nhttps://shop.example/track\nYour parcel ships tomorrow.\nSee you.";
        let doc = Document::new(text, &Glossary::default(), "es");
        assert_eq!(
            doc.markup(),
            ["Hi Ana,", "Your parcel ships tomorrow.", "See you."]
        );
        let (out, _) = doc
            .translate(engine(|t| {
                t.replace("Hi", "Hola")
                    .replace("Your parcel ships tomorrow.", "Tu paquete sale mañana.")
                    .replace("See you.", "Hasta luego.")
            }))
            .unwrap();
        assert_eq!(
            out,
            "Hola Ana,\nhttps://shop.example/track\nTu paquete sale mañana.\nHasta luego."
        );
    }

    #[test]
    fn reordered_placeholders_are_restored_by_number() {
        let doc = Document::new("Send #1 to @ana", &Glossary::default(), "es");
        let (out, _) = doc
            .translate(engine(|_| "A <x1/> envía <x0/>".into()))
            .unwrap();
        assert_eq!(out, "A @ana envía #1");
    }

    #[test]
    fn missing_repeated_or_foreign_placeholders_fall_back_to_segments() {
        for broken in [
            "Envía a",
            "Envía <x0/> <x0/> a <x1/>",
            "Envía <x0/> a <x1/> <x7/>",
        ] {
            let doc = Document::new("Send #1 to @ana", &Glossary::default(), "es");
            let mut calls = Vec::new();
            let (out, method) = doc
                .translate(|texts: &[String], markup| {
                    calls.push((texts.to_vec(), markup));
                    Ok::<_, ()>(if markup {
                        vec![broken.to_owned()]
                    } else {
                        texts
                            .iter()
                            .map(|t| t.replace("Send", "Envía").replace("to", "A"))
                            .collect()
                    })
                })
                .unwrap();
            assert_eq!(method, Method::Segments);
            assert_eq!(calls[1], (vec!["Send".to_owned(), "to".to_owned()], false));
            // "A" came back capitalised; the source had "to" in lower case.
            assert_eq!(out, "Envía #1 a @ana", "after {broken:?}");
        }
    }

    #[test]
    fn engine_artefacts_are_tidied() {
        let doc = Document::new("I love it 😀 thanks!", &Glossary::default(), "es");
        let (out, _) = doc
            .translate(engine(|_| " Quiero  <x0/>  Gracias!".into()))
            .unwrap();
        assert_eq!(out, "Quiero 😀 gracias!");
        // German capitalises nouns: no case fix there.
        let doc = Document::new("the <b>house</b>", &Glossary::default(), "de");
        let (out, _) = doc
            .translate(engine(|_| "Das <x0/>Haus<x1/>".into()))
            .unwrap();
        assert_eq!(out, "Das <b>Haus</b>");
    }

    #[test]
    fn nothing_to_translate_is_kept_but_forced_terms_apply() {
        let glossary = Glossary {
            keep: vec![],
            terms: vec![("refund".into(), "reembolso".into())],
        };
        let doc = Document::new("#4471 👍\nrefund", &glossary, "es");
        assert!(doc.markup().is_empty());
        let (out, method) = doc
            .translate(|_, _| Err::<Vec<String>, _>("no call expected"))
            .unwrap();
        assert_eq!(
            (out.as_str(), method),
            ("#4471 👍\nreembolso", Method::Nothing)
        );
    }
}
