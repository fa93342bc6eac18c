//! Japanese and Korean mark the customer's standing in the verb at the end of each
//! sentence, not in a pronoun: this module puts a reply's sentence endings in the
//! polite level a formal profile asks for.
//!
//! - **Japanese**: plain endings (`だ`, `である`, `する`, `ない`, dictionary-form
//!   verbs, i-adjectives) become です/ます (丁寧語), the level the Agency for
//!   Cultural Affairs' 敬語の指針 (2007) gives for customer correspondence. Respect
//!   and humble verbs (尊敬語, 謙譲語) are words, not endings: they stay as written.
//! - **Korean**: 해요체 endings (`있어요`, `보내드릴게요`, `확인해 주세요`) become
//!   합쇼체 (`있습니다`, `보내드리겠습니다`, `확인해 주십시오`), the level of the
//!   formulas the plugin writes (National Institute of Korean Language, 표준 언어
//!   예절). Syllables are taken apart and put together by the Unicode Hangul
//!   arithmetic.
//!
//! Only the end of a sentence changes; an ending the tables do not know stays. Past
//! plain verbs in Japanese (`送った` is 送る, 送つ or 送う) are ambiguous and stay.

use crate::language::Lang;

/// A reply in the polite level, and each ending changed (before, after).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leveled {
    /// The text.
    pub text: String,
    /// The endings changed, as written before and after.
    pub changes: Vec<(String, String)>,
}

/// Puts the sentence endings of `text`, written in `lang` (Japanese or Korean), in
/// the polite level; other languages come back unchanged.
///
/// ```
/// use tone::language::Lang;
/// use tone::speech_level::polite;
/// assert_eq!(polite("明日発送する。", Lang::Ja).text, "明日発送します。");
/// assert_eq!(polite("내일 보내드릴게요.", Lang::Ko).text, "내일 보내드리겠습니다.");
/// ```
pub fn polite(text: &str, lang: Lang) -> Leveled {
    let end_of: fn(&str) -> Option<(usize, String)> = match lang {
        Lang::Ja => japanese,
        Lang::Ko => korean,
        _ => {
            return Leveled {
                text: text.to_owned(),
                changes: Vec::new(),
            };
        }
    };
    let mut out = String::with_capacity(text.len() + 16);
    let mut changes = Vec::new();
    for sentence in sentences(text) {
        let body = sentence.trim_end_matches(is_terminal);
        let tail = &sentence[body.len()..];
        let question = tail.contains(['?', '？']);
        let replaced = end_of(body).map(|(cut, polite)| {
            let polite = match (question, lang) {
                (true, Lang::Ko) => polite.replace("니다", "니까").replace("십시오", "십니까"),
                _ => polite,
            };
            (cut, polite)
        });
        match replaced {
            Some((cut, polite)) => {
                changes.push((body[cut..].to_owned(), polite.clone()));
                out.push_str(&body[..cut]);
                out.push_str(&polite);
            }
            None => out.push_str(body),
        }
        out.push_str(tail);
    }
    Leveled { text: out, changes }
}

fn is_terminal(c: char) -> bool {
    matches!(
        c,
        '。' | '.' | '!' | '?' | '！' | '？' | '\n' | ' ' | '\u{3000}'
    )
}

/// The text cut after each run of sentence-ending marks (and line breaks).
fn sentences(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut in_tail = false;
    for (i, c) in text.char_indices() {
        if is_terminal(c) && c != ' ' && c != '\u{3000}' {
            in_tail = true;
        } else if in_tail && !is_terminal(c) {
            out.push(&text[start..i]);
            start = i;
            in_tail = false;
        }
    }
    out.push(&text[start..]);
    out
}

// ---------------------------------------------------------------- Japanese

/// Plain endings and their polite forms, longest first.
const JA_ENDINGS: &[(&str, &str)] = &[
    ("ありがとう", "ありがとうございます"),
    ("おめでとう", "おめでとうございます"),
    ("しよう", "しましょう"),
    ("ではない", "ではありません"),
    ("じゃない", "ではありません"),
    ("していた", "していました"),
    ("している", "しています"),
    ("できない", "できません"),
    ("だろう", "でしょう"),
    ("だった", "でした"),
    ("である", "です"),
    ("しない", "しません"),
    ("できる", "できます"),
    ("あった", "ありました"),
    ("なった", "なりました"),
    ("いない", "いません"),
    ("ている", "ています"),
    ("ていた", "ていました"),
    ("した", "しました"),
    ("する", "します"),
    ("ある", "あります"),
    ("いる", "います"),
    ("なる", "なります"),
    ("だ", "です"),
];

/// Already polite, or a request form that must stay (`ください`).
const JA_POLITE: &[&str] = &[
    "ます",
    "ました",
    "ません",
    "です",
    "でした",
    "でしょう",
    "ください",
    "下さい",
    "なさい",
    "ございます",
    "ましょう",
    "ませ",
];

/// Verbs ending in `る` after a kanji that conjugate as ichidan (`見る` → `見ます`).
const JA_ICHIDAN_KANJI: &[&str] = &["見る", "着る", "寝る", "出る", "得る", "居る"];

/// Kanji of the common `ぐ` verbs: before `がない` they make a verb's negative
/// (`急がない` → `急ぎません`); anywhere else `が` is the particle (`在庫がない`).
const JA_GU_VERB_KANJI: &str = "泳急脱騒稼防注継繋仰嗅剥";

/// Adjectives ending in `ない` after a kanji (`少ない`): です, as any i-adjective.
const JA_NAI_ADJECTIVES: &[&str] = &["少ない", "危ない", "切ない", "情けない", "頼りない"];

fn is_kanji(c: char) -> bool {
    ('\u{4E00}'..='\u{9FFF}').contains(&c)
}

/// Whether the kana before `ない` is a particle (`在庫がない`, `待つしかない`),
/// not the a-row stem of a verb (`届かない`, `急がない`, `いかない`): `が` but
/// after a `ぐ` verb's kanji, `か` in `しか`.
fn particle_before_nai(stem: &str) -> bool {
    let mut back = stem.chars().rev();
    let (Some(kana), before) = (back.next(), back.next()) else {
        return false;
    };
    match kana {
        'が' => !before.is_some_and(|c| JA_GU_VERB_KANJI.contains(c)),
        'か' => before == Some('し'),
        _ => false,
    }
}

fn kana_row_shift(c: char, to_i: bool) -> Option<char> {
    // u-row → i-row (dictionary form → ます stem); a-row → i-row (ない stem).
    const U: &str = "うくぐすつぬぶむる";
    const A: &str = "わかがさたなばまら";
    const I: &str = "いきぎしちにびみり";
    let from = if to_i { U } else { A };
    let at = from.chars().position(|k| k == c)?;
    I.chars().nth(at)
}

fn japanese(body: &str) -> Option<(usize, String)> {
    if JA_POLITE.iter().any(|p| body.ends_with(p)) || body.ends_with("さい") {
        return None;
    }
    for (plain, polite) in JA_ENDINGS {
        if let Some(stem) = body.strip_suffix(plain) {
            // `だ` after a verb is part of it (`読んだ`, past): not the copula.
            if *plain == "だ" && stem.ends_with('ん') {
                return None;
            }
            return Some((stem.len(), (*polite).to_owned()));
        }
    }
    let chars: Vec<(usize, char)> = body.char_indices().collect();
    let &(last_at, last) = chars.last()?;
    let before = chars.len().checked_sub(2).map(|i| chars[i]);
    // `…ない`: an adjective (`少ない` → `少ないです`); a verb's negative after an
    // a-row kana (`届かない` → `届きません`); else after a noun or a particle
    // (`問題ない`, `在庫がない` → `…ありません`).
    if JA_NAI_ADJECTIVES.iter().any(|a| body.ends_with(a)) {
        return Some((body.len(), "です".to_owned()));
    }
    if let Some(stem) = body.strip_suffix("ない") {
        let negative_stem = stem
            .chars()
            .next_back()
            .filter(|_| !particle_before_nai(stem))
            .and_then(|c| kana_row_shift(c, false));
        return Some(match negative_stem {
            Some(i_kana) => {
                let cut = stem.len() - stem.chars().next_back().map_or(0, char::len_utf8);
                (cut, format!("{i_kana}ません"))
            }
            None => (stem.len(), "ありません".to_owned()),
        });
    }
    // An i-adjective: add です (`ありがたい` → `ありがたいです`).
    if last == 'い' && before.is_some() {
        return Some((body.len(), "です".to_owned()));
    }
    // A dictionary-form verb: u-row → i-row + ます; `る` after e/i-row kana, or in
    // the ichidan list, is dropped (`届ける` → `届けます`).
    let previous = before.map(|(_, c)| c);
    if last == 'る' {
        let ichidan = previous
            .is_some_and(|p| "えけげせぜてでねへべぺめれいきぎしじちぢにひびぴみり".contains(p))
            || JA_ICHIDAN_KANJI.iter().any(|v| body.ends_with(v));
        if ichidan {
            return Some((last_at, "ます".to_owned()));
        }
    }
    // `…おう` endings are volitional (`行こう`) or fixed phrases: not dictionary forms.
    if last == 'う' && previous.is_some_and(|p| "おこごそぞとどのほぼぽもよろ".contains(p))
    {
        return None;
    }
    // `…しく`, `…かく`, `…ろく` end adverbs (`よろしく`, `とにかく`), not verbs.
    if last == 'く' && previous.is_some_and(|p| "しかろ".contains(p)) {
        return None;
    }
    let is_kanji_or_kana =
        previous.is_some_and(|p| is_kanji(p) || ('\u{3041}'..='\u{3096}').contains(&p));
    let i_kana = kana_row_shift(last, true).filter(|_| is_kanji_or_kana)?;
    Some((last_at, format!("{i_kana}ます")))
}

// ---------------------------------------------------------------- Korean

const HANGUL_BASE: u32 = 0xAC00;
const HANGUL_LAST: u32 = 0xD7A3;

/// A syllable's (initial, medial, final) indices.
fn jamo(c: char) -> Option<(u32, u32, u32)> {
    let code = c as u32;
    if !(HANGUL_BASE..=HANGUL_LAST).contains(&code) {
        return None;
    }
    let index = code - HANGUL_BASE;
    Some((index / (21 * 28), (index % (21 * 28)) / 28, index % 28))
}

fn syllable(initial: u32, medial: u32, last: u32) -> Option<char> {
    char::from_u32(HANGUL_BASE + (initial * 21 + medial) * 28 + last)
}

const MEDIAL_A: u32 = 0; // ㅏ
const MEDIAL_EO: u32 = 4; // ㅓ
const MEDIAL_YEO: u32 = 6; // ㅕ
const MEDIAL_O: u32 = 8; // ㅗ
const MEDIAL_WA: u32 = 9; // ㅘ
const MEDIAL_WAE: u32 = 10; // ㅙ
const MEDIAL_OE: u32 = 11; // ㅚ
const MEDIAL_U: u32 = 13; // ㅜ
const MEDIAL_WEO: u32 = 14; // ㅝ
const MEDIAL_I: u32 = 20; // ㅣ
const INITIAL_IEUNG: u32 = 11; // ㅇ
const FINAL_RIEUL: u32 = 8; // ㄹ
const FINAL_BIEUP: u32 = 17; // ㅂ

/// Whole words whose 해요체 form the rules below would get wrong.
const KO_WORDS: &[(&str, &str)] = &[
    ("고마워요", "감사합니다"),
    ("감사해요", "감사합니다"),
    ("죄송해요", "죄송합니다"),
    ("괜찮아요", "괜찮습니다"),
    ("알겠어요", "알겠습니다"),
    ("거예요", "것입니다"),
];

/// Set phrases that keep their 요 in the most formal correspondence (the greeting).
const KO_SET_PHRASES: &[&str] = &["안녕하세요", "안녕히 계세요", "안녕히 가세요"];

/// Endings that say how the writer takes what they say (…네요 noticing, …지요
/// asking agreement, …군요, …잖아요, …래요 and …대요 reporting): 합쇼체 has no
/// ending of one syllable for each, and the syllable rules would garble them
/// (`늦어지네요` → `늦어지넵니다`). They stay.
const KO_ENDINGS_KEPT: &[&str] = &["네요", "지요", "군요", "잖아요", "래요", "대요"];

fn korean(body: &str) -> Option<(usize, String)> {
    if KO_SET_PHRASES.iter().any(|p| body.ends_with(p))
        || KO_ENDINGS_KEPT.iter().any(|e| body.ends_with(e))
    {
        return None;
    }
    for (haeyo, hapsyo) in KO_WORDS {
        if let Some(stem) = body.strip_suffix(haeyo) {
            return Some((stem.len(), (*hapsyo).to_owned()));
        }
    }
    let stem = body.strip_suffix('요')?;
    let mut chars: Vec<char> = stem.chars().collect();
    let last = chars.pop()?;
    let (initial, medial, final_) = jamo(last)?;
    let cut = |n_chars: usize| -> usize {
        stem.char_indices()
            .rev()
            .nth(n_chars - 1)
            .map_or(0, |(i, _)| i)
    };
    // 세요: a request (십시오), or a question (십니까).
    if last == '세' {
        return Some((cut(1), "십시오".to_owned()));
    }
    // 예요 / 이에요 → 입니다.
    if last == '예' {
        return Some((cut(1), "입니다".to_owned()));
    }
    if last == '에' && chars.last() == Some(&'이') {
        return Some((cut(2), "입니다".to_owned()));
    }
    // …ㄹ게요 → …겠습니다 (드릴게요 → 드리겠습니다).
    if last == '게' {
        let previous = *chars.last()?;
        let (pi, pm, pf) = jamo(previous)?;
        if pf != FINAL_RIEUL {
            return None;
        }
        let open = syllable(pi, pm, 0)?;
        return Some((cut(2), format!("{open}겠습니다")));
    }
    // 어요 / 아요 after a closed syllable: …습니다 (있어요 → 있습니다).
    if initial == INITIAL_IEUNG && final_ == 0 && (medial == MEDIAL_EO || medial == MEDIAL_A) {
        let previous = *chars.last()?;
        let (_, _, pf) = jamo(previous)?;
        if pf == 0 {
            return None;
        }
        return Some((cut(1), "습니다".to_owned()));
    }
    if final_ != 0 {
        return None;
    }
    // 해요 → 합니다; contracted vowels undone (돼 → 되, 봐 → 보, 줘 → 주, 려 → 리),
    // then ㅂ니다 on the open syllable (보내요 → 보냅니다).
    let medial = match medial {
        MEDIAL_WAE => MEDIAL_OE,
        MEDIAL_WA => MEDIAL_O,
        MEDIAL_WEO => MEDIAL_U,
        MEDIAL_YEO => MEDIAL_I,
        m => m,
    };
    let medial = if last == '해' { MEDIAL_A } else { medial };
    let closed = syllable(initial, medial, FINAL_BIEUP)?;
    Some((cut(1), format!("{closed}니다")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn japanese_plain_endings_become_desu_masu() {
        let cases = [
            ("明日発送する。", "明日発送します。"),
            ("ご注文は確認済みだ。", "ご注文は確認済みです。"),
            ("商品は届かない。", "商品は届きません。"),
            ("問題ない。", "問題ありません。"),
            ("すぐにお届けする！", "すぐにお届けします！"),
            (
                "明日届ける。返金もできる。",
                "明日届けます。返金もできます。",
            ),
            ("ご連絡ありがたい。", "ご連絡ありがたいです。"),
            ("担当者が対応している。", "担当者が対応しています。"),
            ("荷物を送る。", "荷物を送ります。"),
            ("ご確認ください。", "ご確認ください。"),
            ("ありがとう！", "ありがとうございます！"),
            ("また行こう。", "また行こう。"),
            ("本日発送いたしました。", "本日発送いたしました。"),
            // Particles before ない, adjectives, adverbs: not verb stems.
            ("在庫がない。", "在庫がありません。"),
            ("待つしかない。", "待つしかありません。"),
            ("商品は急がない。", "商品は急ぎません。"),
            ("書かない。", "書きません。"),
            ("うまくいかない。", "うまくいきません。"),
            ("連絡がつかない。", "連絡がつきません。"),
            ("在庫が少ない。", "在庫が少ないです。"),
            ("今後ともよろしく。", "今後ともよろしく。"),
        ];
        for (plain, polite_form) in cases {
            assert_eq!(polite(plain, Lang::Ja).text, polite_form, "{plain}");
        }
    }

    #[test]
    fn korean_haeyo_endings_become_hapsyo() {
        let cases = [
            ("주문이 확인되었어요.", "주문이 확인되었습니다."),
            ("내일 보내드릴게요.", "내일 보내드리겠습니다."),
            ("사진을 보내 주세요.", "사진을 보내 주십시오."),
            ("환불이 가능해요?", "환불이 가능합니까?"),
            ("배송 예정이에요.", "배송 예정입니다."),
            ("곧 도착할 거예요.", "곧 도착할 것입니다."),
            ("오늘 발송돼요.", "오늘 발송됩니다."),
            ("이메일을 보내요.", "이메일을 보냅니다."),
            ("문의해 주셔서 고마워요.", "문의해 주셔서 감사합니다."),
            ("감사합니다.", "감사합니다."),
            ("언제 오세요?", "언제 오십니까?"),
            ("김민준님, 안녕하세요.", "김민준님, 안녕하세요."),
            // Endings of the writer's stance: kept, never garbled.
            ("배송이 늦어지네요.", "배송이 늦어지네요."),
            ("맞지요?", "맞지요?"),
            ("이미 보냈잖아요.", "이미 보냈잖아요."),
        ];
        for (haeyo, hapsyo) in cases {
            assert_eq!(polite(haeyo, Lang::Ko).text, hapsyo, "{haeyo}");
        }
    }

    #[test]
    fn only_sentence_ends_change() {
        let text = "주문하신 상품이에요. 링크: https://example.com\n감사합니다.";
        let out = polite(text, Lang::Ko);
        assert_eq!(
            out.text,
            "주문하신 상품입니다. 링크: https://example.com\n감사합니다."
        );
        assert_eq!(
            out.changes,
            vec![("이에요".to_owned(), "입니다".to_owned())]
        );
    }
}
