//! A text as words and the gaps between them, edited word by word with the
//! capitalisation kept and every change recorded.

use super::Rewritten;

/// The words of a text (runs of letters) and the gaps around them.
pub(super) struct Words {
    /// `gaps[i]` precedes `words[i]`; the last gap follows the last word.
    gaps: Vec<String>,
    words: Vec<String>,
    changed: Vec<bool>,
    changes: Vec<(String, String)>,
    /// The sentence of each word, as the range of its words (sentence marks are in
    /// the gaps, which no rewrite changes): found once, so that asking costs nothing
    /// on a long text.
    sentences: Vec<std::ops::Range<usize>>,
}

impl Words {
    pub(super) fn new(text: &str) -> Words {
        let mut gaps = vec![String::new()];
        let mut words: Vec<String> = Vec::new();
        let mut in_word = false;
        for c in text.chars() {
            let letter = c.is_alphabetic();
            if letter && !in_word {
                words.push(String::new());
            } else if !letter && in_word {
                gaps.push(String::new());
            }
            in_word = letter;
            match (letter, words.last_mut(), gaps.last_mut()) {
                (true, Some(w), _) => w.push(c),
                (false, _, Some(g)) => g.push(c),
                _ => {}
            }
        }
        if in_word {
            gaps.push(String::new());
        }
        let changed = vec![false; words.len()];
        let mut found = Words {
            gaps,
            words,
            changed,
            changes: Vec::new(),
            sentences: Vec::new(),
        };
        let mut start = 0;
        for i in 1..=found.len() {
            if i == found.len() || found.starts_sentence(i) {
                found.sentences.extend((start..i).map(|_| start..i));
                start = i;
            }
        }
        found
    }

    pub(super) fn len(&self) -> usize {
        self.words.len()
    }

    /// The word as written now.
    pub(super) fn get(&self, i: usize) -> &str {
        self.words.get(i).map_or("", String::as_str)
    }

    /// The word, lower-cased.
    pub(super) fn lower(&self, i: usize) -> String {
        self.get(i).to_lowercase()
    }

    /// Whether an earlier rule already rewrote the word.
    pub(super) fn is_changed(&self, i: usize) -> bool {
        self.changed.get(i).copied().unwrap_or(false)
    }

    /// The text between word `i - 1` and word `i`.
    pub(super) fn gap_before(&self, i: usize) -> &str {
        self.gaps.get(i).map_or("", String::as_str)
    }

    /// The text between word `i` and word `i + 1`.
    pub(super) fn gap_after(&self, i: usize) -> &str {
        self.gaps.get(i + 1).map_or("", String::as_str)
    }

    /// Whether only spaces separate word `i` from the next (no punctuation, no
    /// hyphen, no line break).
    pub(super) fn joined_to_next(&self, i: usize) -> bool {
        let gap = self.gap_after(i);
        !gap.is_empty() && gap.chars().all(|c| c == ' ') && i + 1 < self.len()
    }

    /// Whether word `i` starts a sentence (or a line).
    pub(super) fn starts_sentence(&self, i: usize) -> bool {
        if i == 0 {
            return true;
        }
        let gap = self.gap_before(i);
        gap.contains(['.', '!', '?', '¿', '¡', ':', '\n', '。'])
    }

    /// Whether word `i` starts a clause: a sentence, or after a comma or semicolon.
    pub(super) fn starts_clause(&self, i: usize) -> bool {
        self.starts_sentence(i) || self.gap_before(i).contains([',', ';'])
    }

    /// The words of the sentence around word `i`, as indices.
    pub(super) fn sentence_of(&self, i: usize) -> std::ops::Range<usize> {
        self.sentences.get(i).cloned().unwrap_or(i..i)
    }

    /// Replaces word `i` by `new`, capitalised as the word was.
    pub(super) fn set(&mut self, i: usize, new: &str) {
        let old = self.get(i).to_owned();
        let cased = match_case(&old, new);
        self.set_exact(i, &cased);
    }

    /// Replaces word `i` by `new` exactly as given (German `Sie`, `Ihnen`).
    pub(super) fn set_exact(&mut self, i: usize, new: &str) {
        let Some(word) = self.words.get_mut(i) else {
            return;
        };
        if word == new {
            return;
        }
        self.changes.push((word.clone(), new.to_owned()));
        *word = new.to_owned();
        if let Some(c) = self.changed.get_mut(i) {
            *c = true;
        }
    }

    /// Replaces the text between word `i` and the next.
    pub(super) fn set_gap_after(&mut self, i: usize, gap: &str) {
        if let Some(g) = self.gaps.get_mut(i + 1) {
            *g = gap.to_owned();
        }
    }

    pub(super) fn finish(self) -> Rewritten {
        let mut text = String::new();
        for (i, gap) in self.gaps.iter().enumerate() {
            text.push_str(gap);
            if let Some(w) = self.words.get(i) {
                text.push_str(w);
            }
        }
        Rewritten {
            text,
            changes: self.changes,
        }
    }
}

/// `new` with the capitalisation of `old`: all capitals stay all capitals, a capital
/// first letter stays a capital first letter.
pub(super) fn match_case(old: &str, new: &str) -> String {
    let mut letters = old.chars().filter(|c| c.is_alphabetic());
    let first_upper = letters.next().is_some_and(char::is_uppercase);
    let all_upper = first_upper && old.chars().count() > 1 && letters.all(char::is_uppercase);
    if all_upper {
        return new.to_uppercase();
    }
    if first_upper {
        let mut chars = new.chars();
        return match chars.next() {
            Some(c) => c.to_uppercase().chain(chars).collect(),
            None => String::new(),
        };
    }
    new.to_owned()
}

/// `stem` with the first of `rules` (suffix, replacement) whose suffix it ends in
/// applied: the spelling that keeps a consonant's sound before another vowel
/// (`busc` + `e` → `busqu`).
pub(super) fn respell(stem: &str, rules: &[(&str, &str)]) -> String {
    rules
        .iter()
        .find_map(|(suffix, replacement)| {
            stem.strip_suffix(suffix)
                .map(|base| format!("{base}{replacement}"))
        })
        .unwrap_or_else(|| stem.to_owned())
}

/// `word` without its acute accents (`envía` → `envia`), for comparing stems.
pub(super) fn unaccented(word: &str) -> String {
    word.chars()
        .map(|c| match c {
            'á' => 'a',
            'é' => 'e',
            'í' => 'i',
            'ó' => 'o',
            'ú' => 'u',
            other => other,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_and_gaps_round_trip() {
        let text = "¿Puedes enviar-te-emos? Sí, l'adresse\n\n— ok";
        let w = Words::new(text);
        assert_eq!(w.get(0), "Puedes");
        assert_eq!(w.gap_before(0), "¿");
        assert_eq!(w.finish().text, text);
    }

    #[test]
    fn case_follows_the_old_word() {
        assert_eq!(match_case("Vuestro", "su"), "Su");
        assert_eq!(match_case("VUESTRO", "su"), "SU");
        assert_eq!(match_case("vuestro", "su"), "su");
        assert_eq!(match_case("Tú", "usted"), "Usted");
    }

    #[test]
    fn sentences_end_at_their_marks() {
        let w = Words::new("Hola. ¿Puedes verlo? Gracias");
        assert!(w.starts_sentence(0));
        assert!(w.starts_sentence(1));
        assert!(!w.starts_sentence(2));
        assert!(w.starts_sentence(3));
        assert_eq!(w.sentence_of(2), 1..3);
    }
}
