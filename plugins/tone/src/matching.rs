//! Character classes and case-insensitive phrase search, shared by every module that
//! looks for words in a draft.
//!
//! Search works on a [`Folded`] copy of the text (lower case, typographic
//! apostrophes made straight) that remembers the byte offset of every character,
//! so matches are reported as byte ranges of the original text. How a match must
//! sit among its neighbours depends on the script of the term ([`Boundary`]).

/// Chinese characters (and the CJK compatibility block).
pub fn is_han(c: char) -> bool {
    matches!(c as u32,
        0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x2FFFF)
}

/// Hiragana and katakana (full and half width), with the prolonged sound mark.
pub fn is_kana(c: char) -> bool {
    matches!(c as u32, 0x3041..=0x309F | 0x30A0..=0x30FF | 0x31F0..=0x31FF | 0xFF66..=0xFF9D)
}

/// Hangul syllables and jamo.
pub fn is_hangul(c: char) -> bool {
    matches!(c as u32, 0xAC00..=0xD7AF | 0x1100..=0x11FF | 0x3130..=0x318F)
}

/// Arabic letters (presentation forms included).
pub fn is_arabic(c: char) -> bool {
    matches!(c as u32, 0x0620..=0x064A | 0x066E..=0x06D3 | 0x06FA..=0x06FF | 0x0750..=0x077F | 0xFB50..=0xFDFF | 0xFE70..=0xFEFF)
}

/// Characters of scripts written without spaces between words (Chinese, Japanese)
/// and CJK punctuation: they never count as part of a Latin word.
pub fn is_cjk(c: char) -> bool {
    is_han(c) || is_kana(c) || matches!(c as u32, 0x3000..=0x303F | 0xFF00..=0xFF65)
}

/// A letter or digit of a word in a script that separates words with spaces.
pub fn is_word_char(c: char) -> bool {
    (c.is_alphanumeric() || c == '_') && !is_cjk(c)
}

/// Sentence-final punctuation, Latin and CJK.
pub fn is_sentence_end(c: char) -> bool {
    matches!(c, '.' | '!' | '?' | '。' | '！' | '？' | '…')
}

/// How a term must be delimited to count as a match.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Boundary {
    /// Anywhere (Chinese and Japanese, which have no spaces).
    None,
    /// Whole words: no word character right before or after.
    Word,
    /// The start of a word, any ending (Korean: particles attach to the word).
    WordStart,
    /// A whole Arabic word, optionally with proclitics (و ف ب ل ك and ال) attached.
    Arabic,
}

impl Boundary {
    /// The natural boundary for a term, from its script.
    ///
    /// ```
    /// use tone::matching::Boundary;
    /// assert_eq!(Boundary::for_term("election"), Boundary::Word);
    /// assert_eq!(Boundary::for_term("選挙"), Boundary::None);
    /// assert_eq!(Boundary::for_term("선거"), Boundary::WordStart);
    /// ```
    pub fn for_term(term: &str) -> Boundary {
        if term.chars().any(is_cjk) {
            Boundary::None
        } else if term.chars().any(is_hangul) {
            Boundary::WordStart
        } else if term.chars().any(is_arabic) {
            Boundary::Arabic
        } else {
            Boundary::Word
        }
    }
}

/// The comparison form of one character: lower case, straight apostrophe.
pub fn fold(c: char) -> char {
    match c {
        '\u{2019}' | '\u{2018}' | '\u{02BC}' => '\'',
        c if c.is_ascii() => c.to_ascii_lowercase(),
        c => c.to_lowercase().next().unwrap_or(c),
    }
}

/// Folds a whole term.
pub fn fold_str(s: &str) -> Vec<char> {
    s.chars().map(fold).collect()
}

/// A text prepared for case-insensitive search.
#[derive(Debug, Clone)]
pub struct Folded {
    chars: Vec<char>,
    /// Byte offset of each character in the original text, and the text's length.
    offsets: Vec<usize>,
}

impl Folded {
    /// Prepares `text`.
    pub fn new(text: &str) -> Folded {
        let mut chars = Vec::with_capacity(text.len());
        let mut offsets = Vec::with_capacity(text.len() + 1);
        for (i, c) in text.char_indices() {
            chars.push(fold(c));
            offsets.push(i);
        }
        offsets.push(text.len());
        Folded { chars, offsets }
    }

    /// Every byte range where `term` occurs with the given boundary, left to right,
    /// without overlaps.
    ///
    /// ```
    /// use tone::matching::{Boundary, Folded};
    /// let text = Folded::new("Adiós, Dios mío. DIOS!");
    /// assert_eq!(text.find_all("dios", Boundary::Word), vec![(8, 12), (19, 23)]);
    /// ```
    pub fn find_all(&self, term: &str, boundary: Boundary) -> Vec<(usize, usize)> {
        let pattern = fold_str(term);
        let mut found = Vec::new();
        let Some(&first) = pattern.first() else {
            return found;
        };
        let n = pattern.len();
        let mut i = 0;
        while i + n <= self.chars.len() {
            if self.chars[i] == first
                && self.chars[i..i + n] == pattern[..]
                && self.delimited(i, i + n, &pattern, boundary)
            {
                found.push((self.offsets[i], self.offsets[i + n]));
                i += n;
            } else {
                i += 1;
            }
        }
        found
    }

    /// Whether any occurrence exists.
    pub fn contains(&self, term: &str, boundary: Boundary) -> bool {
        !self.find_all(term, boundary).is_empty()
    }

    fn delimited(&self, start: usize, end: usize, pattern: &[char], boundary: Boundary) -> bool {
        let before = start.checked_sub(1).map(|i| self.chars[i]);
        let after = self.chars.get(end).copied();
        match boundary {
            Boundary::None => true,
            Boundary::Word => {
                // A term that starts or ends with punctuation ("9/11", "#") needs no
                // boundary on that side.
                let left = !pattern.first().is_some_and(|c| is_word_char(*c))
                    || !before.is_some_and(is_word_char);
                let right = !pattern.last().is_some_and(|c| is_word_char(*c))
                    || !after.is_some_and(is_word_char);
                left && right
            }
            Boundary::WordStart => !before.is_some_and(|c| is_hangul(c) || is_word_char(c)),
            Boundary::Arabic => {
                if after.is_some_and(is_arabic) {
                    return false;
                }
                // Walk back over at most four proclitic letters (و + ب + ال).
                let mut i = start;
                let mut steps = 0;
                while i > 0 && is_arabic(self.chars[i - 1]) {
                    if steps == 4 || !matches!(self.chars[i - 1], 'و' | 'ف' | 'ب' | 'ل' | 'ك' | 'ا')
                    {
                        return false;
                    }
                    i -= 1;
                    steps += 1;
                }
                true
            }
        }
    }
}

/// Whether `term` occurs in `text` with its natural boundary.
///
/// ```
/// assert!(tone::matching::contains_term("Unfortunately, it is late.", "unfortunately"));
/// assert!(!tone::matching::contains_term("refunded", "refund"));
/// ```
pub fn contains_term(text: &str, term: &str) -> bool {
    Folded::new(text).contains(term, Boundary::for_term(term))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn word_boundaries_for_latin_terms() {
        let text = Folded::new("We regret the delay; delayed parcels are refunded.");
        assert_eq!(text.find_all("delay", Boundary::Word).len(), 1);
        assert!(text.contains("Delayed", Boundary::Word));
        assert!(!text.contains("refund", Boundary::Word));
    }

    #[test]
    fn apostrophes_and_case_fold() {
        let text = Folded::new("Please don\u{2019}t hesitate");
        assert!(text.contains("please DON'T hesitate", Boundary::Word));
    }

    #[test]
    fn cjk_terms_match_inside_text() {
        let text = Folded::new("配送が遅延しております。");
        assert!(text.contains("遅延", Boundary::None));
        assert_eq!(Boundary::for_term("遅延"), Boundary::None);
    }

    #[test]
    fn korean_terms_match_at_word_start() {
        let text = Folded::new("선거가 끝나면 시기도 좋아요");
        assert!(text.contains("선거", Boundary::WordStart));
        assert!(!text.contains("기도", Boundary::WordStart));
    }

    #[test]
    fn arabic_terms_allow_proclitics_only() {
        let text = Folded::new("وبالانتخابات القادمة");
        assert!(text.contains("انتخابات", Boundary::Arabic));
        let text = Folded::new("سنين");
        assert!(!text.contains("سني", Boundary::Arabic));
    }

    #[test]
    fn offsets_are_bytes_of_the_original() {
        let text = "Ünïcode: Élection!";
        let found = Folded::new(text).find_all("élection", Boundary::Word);
        assert_eq!(found.len(), 1);
        let (s, e) = found[0];
        assert_eq!(&text[s..e], "Élection");
    }
}
