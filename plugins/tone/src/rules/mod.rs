//! The rewrite of a reply draft, rule by rule, each with a stable id reported back.
//!
//! | id | what it does |
//! | --- | --- |
//! | `register.pronoun` | rewrites the reply into the profile's pronoun of address, verbs and possessives with it: `tú` and `vosotros` forms into `usted`, `tu` into `vous`, `du` into `Sie`, `tu` into `você` ([`crate::pronoun`]) |
//! | `register.speech-level` | puts Japanese and Korean sentence endings in the polite level of a formal profile: plain forms into です/ます, 해요체 into 합쇼체 ([`crate::speech_level`]) |
//! | `emoji.remove` | removes emoji and text emoticons, tidying the spaces; an emoji that ended a sentence becomes a full stop (profile `emoji = remove`) |
//! | `exclamation.tone-down` | a sentence-final `!` becomes `.` (`。` in CJK text), `!?` becomes `?`, `¡` goes; a greeting ending in `!` gets a comma (profile `exclamation = tone-down`) |
//! | `exclamation.collapse` | `!!!` becomes `!` (profile `exclamation = collapse`) |
//! | `directness.trim-filler` | removes or shortens filler sentences and wordy phrases (direct profiles) |
//! | `directness.lead-with-answer` | removes a preamble clause ("Just wanted to let you know that …") so the sentence starts with the answer (direct profiles) |
//! | `honorific.add` | adds the honorific to the name in the agent's own greeting: `山田さん` → `山田様`, `김민준,` → `김민준님,`, `Hallo Anna,` → `Hallo Frau Schmidt,` (formal, title known) |
//! | `greeting.add` | adds the greeting formula when the draft has none (profile `greeting = required`) |
//! | `opener.cushion` | adds an apology after the greeting when the draft brings bad news and has none (cushioned profiles) |
//! | `opener.gratitude` | adds a gratitude formula after the greeting otherwise, when the draft thanks nobody (cushioned profiles) |
//! | `closing.add` | adds the closing formula when the draft has none, before a `-- ` signature (profile `closing = required`) |
//! | `register.informal-address` | note only: informal pronouns (du, tu, tú, je, 你) left under a formal pronoun (languages without a rewrite, words the rewrite does not know) |
//! | `register.formal-address` | note only: formal pronouns (usted, u, 您) under an informal pronoun (never rewritten: they share the third person's forms) |
//!
//! In an HTML draft ([`crate::html`]) the greeting, opener, closing and honorific
//! rules judge the text with its tags stripped and write HTML.
//!
//! Protected spans ([`crate::spans`]) are replaced by sentinels before the first rule
//! and put back after the last, so nothing in them changes. The rules run in the
//! order above, then again on their own output until nothing changes (at most three
//! passes), so applying the plugin to its output changes nothing.

use crate::formulas::{self, Addressee};
use crate::html::{self, View};
use crate::language::{Lang, Reply};
use crate::matching::{Boundary, Folded, is_han, is_kana};
use crate::names::{Name, Title};
use crate::phrases::{self, FillerKind};
use crate::profile::{
    Directness, EmojiPolicy, ExclamationPolicy, Honorific, Profile, Register, Requirement,
};
use crate::pronoun::{self, Pronoun};
use crate::spans;

/// A rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Rule {
    /// `register.pronoun`
    Pronoun,
    /// `register.speech-level`
    SpeechLevel,
    /// `emoji.remove`
    EmojiRemove,
    /// `exclamation.tone-down`
    ExclamationToneDown,
    /// `exclamation.collapse`
    ExclamationCollapse,
    /// `directness.trim-filler`
    TrimFiller,
    /// `directness.lead-with-answer`
    LeadWithAnswer,
    /// `honorific.add`
    HonorificAdd,
    /// `greeting.add`
    GreetingAdd,
    /// `opener.cushion`
    OpenerCushion,
    /// `opener.gratitude`
    OpenerGratitude,
    /// `closing.add`
    ClosingAdd,
    /// `register.informal-address` (note only)
    RegisterInformal,
    /// `register.formal-address` (note only)
    RegisterFormal,
}

impl Rule {
    /// Every rule, in the order they run.
    pub const ALL: [Rule; 14] = [
        Rule::Pronoun,
        Rule::SpeechLevel,
        Rule::EmojiRemove,
        Rule::ExclamationToneDown,
        Rule::ExclamationCollapse,
        Rule::TrimFiller,
        Rule::LeadWithAnswer,
        Rule::HonorificAdd,
        Rule::GreetingAdd,
        Rule::OpenerCushion,
        Rule::OpenerGratitude,
        Rule::ClosingAdd,
        Rule::RegisterInformal,
        Rule::RegisterFormal,
    ];

    /// The stable id.
    ///
    /// ```
    /// assert_eq!(tone::rules::Rule::GreetingAdd.id(), "greeting.add");
    /// ```
    pub fn id(self) -> &'static str {
        match self {
            Rule::Pronoun => "register.pronoun",
            Rule::SpeechLevel => "register.speech-level",
            Rule::EmojiRemove => "emoji.remove",
            Rule::ExclamationToneDown => "exclamation.tone-down",
            Rule::ExclamationCollapse => "exclamation.collapse",
            Rule::TrimFiller => "directness.trim-filler",
            Rule::LeadWithAnswer => "directness.lead-with-answer",
            Rule::HonorificAdd => "honorific.add",
            Rule::GreetingAdd => "greeting.add",
            Rule::OpenerCushion => "opener.cushion",
            Rule::OpenerGratitude => "opener.gratitude",
            Rule::ClosingAdd => "closing.add",
            Rule::RegisterInformal => "register.informal-address",
            Rule::RegisterFormal => "register.formal-address",
        }
    }

    /// The rule with this id.
    pub fn from_id(id: &str) -> Option<Rule> {
        Rule::ALL.into_iter().find(|r| r.id() == id)
    }

    /// Whether the rule only reports (never changes the text).
    pub fn note_only(self) -> bool {
        matches!(self, Rule::RegisterInformal | Rule::RegisterFormal)
    }
}

/// A rule that applied, with a short explanation for the agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    /// The rule.
    pub rule: Rule,
    /// What it did, in a few words.
    pub detail: String,
}

/// What the rules need to know.
#[derive(Debug, Clone, Copy)]
pub struct Input<'a> {
    /// The customer's profile (overrides applied).
    pub profile: &'a Profile,
    /// The reply's language, if supported.
    pub reply: Option<Reply>,
    /// The customer's name.
    pub name: Option<&'a Name>,
    /// The customer's title.
    pub title: Option<&'a Title>,
    /// Terms never touched.
    pub keep_terms: &'a [String],
    /// Rules the tenant disabled.
    pub disabled: &'a [Rule],
}

impl Input<'_> {
    fn enabled(&self, rule: Rule) -> bool {
        !self.disabled.contains(&rule)
    }

    fn who(&self) -> Addressee<'_> {
        Addressee {
            name: self.name,
            title: self.title,
        }
    }
}

/// The rewritten text and the rules that changed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rewrite {
    /// The new text (equal to the draft when nothing applied).
    pub text: String,
    /// The rules that changed the text, in order, one entry per rule.
    pub applied: Vec<Applied>,
}

/// Applies the rules to `text` until nothing changes. Protected spans are replaced
/// by sentinels first ([`spans::Protected`]) and put back at the end, so no rule
/// can alter them, whatever it does around them.
pub fn rewrite(text: &str, input: &Input) -> Rewrite {
    let mut applied: Vec<Applied> = Vec::new();
    let protected = match spans::Protected::new(text, input.keep_terms) {
        Some(p) if !text.trim().is_empty() => p,
        _ => {
            return Rewrite {
                text: text.to_owned(),
                applied,
            };
        }
    };
    let mut current = protected.text.clone();
    for _ in 0..3 {
        let (next, round) = pass(&current, input);
        if round.is_empty() || next == current {
            break;
        }
        for a in round {
            match applied.iter_mut().find(|x| x.rule == a.rule) {
                Some(existing) => {
                    existing.detail.push_str("; ");
                    existing.detail.push_str(&a.detail);
                }
                None => applied.push(a),
            }
        }
        current = next;
    }
    applied.sort_by_key(|a| a.rule);
    Rewrite {
        text: protected.restore(&current),
        applied,
    }
}

fn pass(text: &str, input: &Input) -> (String, Vec<Applied>) {
    let mut text = text.to_owned();
    let mut applied = Vec::new();
    let steps: [fn(&mut String, &Input) -> Option<Applied>; 10] = [
        pronoun,
        speech_level,
        emoji,
        exclamation,
        trim_filler,
        lead_with_answer,
        honorific,
        greeting,
        opener,
        closing,
    ];
    for step in steps {
        let before = text.clone();
        if let Some(a) = step(&mut text, input) {
            if text != before {
                applied.push(a);
            } else {
                text = before;
            }
        }
    }
    (text, applied)
}

// ---------------------------------------------------------------- helpers

fn char_before(text: &str, at: usize) -> Option<char> {
    text[..at].chars().next_back()
}

fn char_at(text: &str, at: usize) -> Option<char> {
    text.get(at..).and_then(|s| s.chars().next())
}

fn quote(s: &str) -> String {
    let s = s.trim();
    let short: String = s.chars().take(60).collect();
    if short.len() < s.len() {
        format!("\"{short}…\"")
    } else {
        format!("\"{short}\"")
    }
}

/// Byte ranges of the lines of `text` (without their `\n`).
fn lines(text: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, c) in text.char_indices() {
        if c == '\n' {
            out.push((start, i));
            start = i + 1;
        }
    }
    out.push((start, text.len()));
    out
}

const TRAILING_PUNCTUATION: &[char] = &[
    ',', '.', ':', ';', '!', '?', '，', '。', '：', '；', '！', '？', '、', '،', ' ', '\u{3000}',
];

/// Whether `line` starts with `term` as a whole word (ignoring case).
fn starts_with_term(line: &str, term: &str) -> bool {
    Folded::new(line)
        .find_all(term, Boundary::for_term(term))
        .first()
        .is_some_and(|(s, _)| *s == 0)
}

/// Whether `line` is a greeting: a greeting word of any language first, a CJK
/// greeting, or the customer's name alone.
fn is_greeting_line(line: &str, name: Option<&Name>) -> bool {
    let t = line
        .trim()
        .trim_start_matches(['¡', '¿', '"', '\'', '«', '“']);
    if t.is_empty() {
        return false;
    }
    if phrases::GREETING_STARTERS
        .iter()
        .any(|(_, words)| words.iter().any(|w| starts_with_term(t, w)))
    {
        return true;
    }
    let bare = t.trim_end_matches(TRAILING_PUNCTUATION);
    if phrases::CJK_GREETING_STARTS
        .iter()
        .any(|s| t.starts_with(s))
        || phrases::CJK_GREETING_ENDS.iter().any(|s| bare.ends_with(s))
    {
        return true;
    }
    // The customer's name alone, or with an honorific: "山田さん", "김민준 씨", "Anna,".
    const SUFFIXES: &[&str] = &[
        "",
        "さん",
        "くん",
        "ちゃん",
        "氏",
        "様",
        "さま",
        "殿",
        "님",
        "씨",
        "고객님",
    ];
    name.is_some_and(|n| {
        [Some(&n.full), n.given.as_ref(), n.family.as_ref()]
            .into_iter()
            .flatten()
            .any(|part| {
                bare.strip_prefix(part.as_str())
                    .is_some_and(|rest| SUFFIXES.contains(&rest.trim()))
            })
    })
}

/// Whether `line` is a closing formula of any Latin-script or Arabic language, or of
/// the reply's own language when that is Chinese, Japanese or Korean.
fn is_closing_line(line: &str, lang: Lang) -> bool {
    let t = line.trim();
    if t.is_empty() {
        return false;
    }
    // A sign-off is short ("Mit freundlichen Grüßen", "Thanks!") or ends with a
    // comma ("Thanks again for your patience,"); "Thank you for your order." is not.
    let words = t.split_whitespace().count();
    let short_or_open = words <= 4 || t.ends_with([',', '،']);
    phrases::CLOSING_STARTERS.iter().any(|(l, starters)| {
        let cjk = matches!(l, Lang::Ja | Lang::Zh | Lang::Ko);
        if cjk {
            *l == lang && t.chars().count() <= 24 && starters.iter().any(|s| t.starts_with(s))
        } else {
            short_or_open && starters.iter().any(|s| starts_with_term(t, s))
        }
    })
}

/// A line that may sign a message: a few words, no sentence.
fn is_signature_line(line: &str) -> bool {
    let t = line.trim();
    t.split_whitespace().count() <= 4
        && !t
            .chars()
            .any(|c| crate::matching::is_sentence_end(c) || c == ':' || c == '：')
}

/// Where a `-- ` signature starts (the start of its line), if there is one.
fn signature_start(text: &str) -> Option<usize> {
    lines(text)
        .into_iter()
        .rev()
        .find(|(s, e)| text[*s..*e].trim_end() == "--")
        .map(|(s, _)| s)
}

mod directness;
mod emoji;
mod exclamation;
mod framing;
mod honorific;
mod register;

use directness::*;
use emoji::*;
use exclamation::*;
use framing::*;
use honorific::*;
pub use register::register_findings;
use register::{pronoun, speech_level};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::language::Reply;
    use crate::names::{parse_name, parse_title};
    use crate::profile::Profiles;

    struct Case {
        profiles: Profiles,
    }

    impl Case {
        fn new() -> Case {
            Case {
                profiles: Profiles::embedded().expect("table"),
            }
        }

        fn run(
            &self,
            locale: &str,
            lang: Lang,
            name: &str,
            title: Option<&str>,
            text: &str,
        ) -> Rewrite {
            let profile = self.profiles.get(locale).expect("locale");
            let name = parse_name(name, None, None, profile.language);
            let title = title.and_then(parse_title);
            let input = Input {
                profile,
                reply: Some(Reply {
                    lang,
                    traditional: locale == "zh-TW",
                }),
                name: name.as_ref(),
                title: title.as_ref(),
                keep_terms: &[],
                disabled: &[],
            };
            rewrite(text, &input)
        }
    }

    fn ids(r: &Rewrite) -> Vec<&'static str> {
        r.applied.iter().map(|a| a.rule.id()).collect()
    }

    #[test]
    fn english_us_greets_by_first_name_and_trims_filler() {
        let c = Case::new();
        let r = c.run(
            "en-US",
            Lang::En,
            "Anna Smith",
            None,
            "I hope this email finds you well. Just wanted to let you know that your order #4471 has shipped! 🎉",
        );
        assert_eq!(r.text, "Hi Anna,\n\nYour order #4471 has shipped! 🎉");
        assert_eq!(
            ids(&r),
            [
                "directness.trim-filler",
                "directness.lead-with-answer",
                "greeting.add"
            ]
        );
    }

    #[test]
    fn japanese_customer_answered_in_japanese() {
        let c = Case::new();
        let r = c.run(
            "ja-JP",
            Lang::Ja,
            "山田 太郎",
            None,
            "ご注文の商品は本日発送いたしました！",
        );
        assert_eq!(
            r.text,
            "山田様\nいつもご利用いただきありがとうございます。\n\nご注文の商品は本日発送いたしました。\n\nよろしくお願いいたします。"
        );
        assert_eq!(
            ids(&r),
            ["exclamation.tone-down", "greeting.add", "closing.add"]
        );
    }

    #[test]
    fn japanese_customer_answered_in_english_with_bad_news() {
        let c = Case::new();
        let r = c.run(
            "ja-JP",
            Lang::En,
            "Taro Yamada",
            Some("Mr"),
            "Unfortunately your refund is delayed until Friday!!",
        );
        assert_eq!(
            r.text,
            "Dear Mr Yamada,\n\nWe are sorry for the inconvenience.\n\nUnfortunately your refund is delayed until Friday.\n\nKind regards,"
        );
        assert_eq!(
            ids(&r),
            [
                "exclamation.tone-down",
                "greeting.add",
                "opener.cushion",
                "closing.add"
            ]
        );
    }

    #[test]
    fn german_formal_with_title_and_lowercase_after_salutation() {
        let c = Case::new();
        let mut p = Profiles::embedded().expect("table");
        p.apply_overrides("de-DE.directness=cushioned")
            .expect("override");
        let c2 = Case { profiles: p };
        let r = c2.run(
            "de-DE",
            Lang::De,
            "Anna Schmidt",
            Some("Frau"),
            "Ihre Bestellung ist unterwegs.",
        );
        assert!(
            r.text.starts_with(
                "Sehr geehrte Frau Schmidt,\n\nvielen Dank für Ihre Nachricht.\n\nIhre Bestellung"
            ),
            "{}",
            r.text
        );
        let r = c.run(
            "de-DE",
            Lang::De,
            "Anna Schmidt",
            None,
            "Ihre Bestellung ist unterwegs!",
        );
        assert_eq!(
            r.text,
            "Guten Tag Anna Schmidt,\n\nIhre Bestellung ist unterwegs.\n\nMit freundlichen Grüßen"
        );
    }

    #[test]
    fn honorific_is_added_to_the_agents_greeting() {
        let c = Case::new();
        let r = c.run(
            "ja-JP",
            Lang::Ja,
            "山田 太郎",
            None,
            "山田さん\n\n発送しました。\n\nよろしくお願いいたします。",
        );
        assert!(r.text.starts_with("山田様\n\n"), "{}", r.text);
        assert!(ids(&r).contains(&"honorific.add"));
        // The full name written without its space is honoured whole.
        let r = c.run(
            "ja-JP",
            Lang::Ja,
            "山田 太郎",
            None,
            "こんにちは、山田太郎さん。\nご注文の商品は本日発送いたしました。",
        );
        assert!(r.text.starts_with("こんにちは、山田太郎様。"), "{}", r.text);
        let r = c.run(
            "ko-KR",
            Lang::Ko,
            "김민준",
            None,
            "김민준 씨, 안녕하세요.\n\n주문하신 상품이 발송되었습니다.\n\n감사합니다.",
        );
        assert!(r.text.starts_with("김민준님, 안녕하세요."), "{}", r.text);
        let r = c.run(
            "en-GB",
            Lang::En,
            "Anna Smith",
            Some("Ms"),
            "Dear Anna,\n\nYour parcel is on its way.\n\nKind regards,",
        );
        assert_eq!(
            r.text,
            "Dear Ms Smith,\n\nYour parcel is on its way.\n\nKind regards,"
        );
    }

    #[test]
    fn emoji_removal_tidies_spaces() {
        let c = Case::new();
        let r = c.run(
            "en-GB",
            Lang::En,
            "Anna Smith",
            None,
            "Dear Anna Smith,\n\n😊 Your parcel 📦 is on its way 🚚.\n\nKind regards,",
        );
        assert_eq!(
            r.text,
            "Dear Anna Smith,\n\nYour parcel is on its way.\n\nKind regards,"
        );
    }

    #[test]
    fn spanish_tone_down_removes_inverted_marks() {
        let c = Case::new();
        let r = c.run(
            "es-MX",
            Lang::Es,
            "María García",
            Some("Sra."),
            "¡Gracias por su compra! Su pedido ya salió.",
        );
        assert_eq!(
            r.text,
            "Estimada Sra. García:\n\nGracias por su compra. Su pedido ya salió.\n\nSaludos cordiales,"
        );
    }

    #[test]
    fn closing_goes_before_a_signature() {
        let c = Case::new();
        let r = c.run(
            "en-GB",
            Lang::En,
            "Anna Smith",
            None,
            "Dear Anna Smith,\n\nDone.\n\n-- \nAcme Support",
        );
        assert_eq!(
            r.text,
            "Dear Anna Smith,\n\nDone.\n\nKind regards,\n-- \nAcme Support"
        );
    }

    #[test]
    fn informal_address_is_reported_not_rewritten() {
        let profiles = Profiles::embedded().expect("table");
        let profile = profiles.get("de-DE").expect("de-DE");
        let input = Input {
            profile,
            reply: Some(Reply {
                lang: Lang::De,
                traditional: false,
            }),
            name: None,
            title: None,
            keep_terms: &[],
            disabled: &[],
        };
        let f = register_findings("Kannst du mir deine Bestellnummer schicken?", &input);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].rule, Rule::RegisterInformal);
        assert!(f[0].detail.contains("\"du\""), "{}", f[0].detail);
    }

    #[test]
    fn html_drafts_keep_their_own_greeting_and_closing() {
        let c = Case::new();
        for (locale, lang, name, draft) in [
            (
                "en-GB",
                Lang::En,
                "Maria Lopez",
                "<p>Hi Maria,</p><p>Your order has shipped.</p><p>Best regards</p>",
            ),
            (
                "de-DE",
                Lang::De,
                "Anna Schmidt",
                "<div>Guten Tag Anna Schmidt,</div>\n<div><br></div>\n<div>Ihre Bestellung ist unterwegs.</div>\n<div><br></div>\n<div>Mit freundlichen Gr&uuml;&szlig;en<br>Ihr Acme-Team</div>",
            ),
            (
                "es-MX",
                Lang::Es,
                "María García",
                "<p>Hola, Mar&iacute;a:</p><p>Gracias por su compra. Su pedido ya salió.</p><p>Saludos cordiales,<br>Soporte</p>",
            ),
        ] {
            let r = c.run(locale, lang, name, None, draft);
            assert_eq!(r.text, draft, "{locale}: {:?}", r.applied);
            assert!(r.applied.is_empty(), "{locale}: {:?}", r.applied);
        }
    }

    #[test]
    fn html_drafts_get_their_formulas_as_html() {
        let c = Case::new();
        let r = c.run(
            "fr-FR",
            Lang::Fr,
            "Marie Dupont",
            None,
            "<p>Votre commande a été expédiée.</p>",
        );
        assert_eq!(
            r.text,
            "<p>Bonjour Marie Dupont,</p><p>Nous vous remercions de votre message.</p><p>Votre commande a été expédiée.</p><p>Cordialement,</p>"
        );
        assert_eq!(ids(&r), ["greeting.add", "opener.gratitude", "closing.add"]);
        // The agent's greeting gets the title; the closing goes before the signature;
        // the name is escaped.
        let r = c.run(
            "en-GB",
            Lang::En,
            "Anna O'Neil",
            Some("Ms"),
            "<p>Dear Anna,</p><p>Done &amp; dusted.</p><p>-- <br>Acme Support</p>",
        );
        assert_eq!(
            r.text,
            "<p>Dear Ms O'Neil,</p><p>Done &amp; dusted.</p><p>Kind regards,</p><p>-- <br>Acme Support</p>"
        );
        let r = c.run(
            "en-GB",
            Lang::En,
            "Tom <Admin>",
            None,
            "<div><p>Your parcel is on its way.</p></div>",
        );
        assert_eq!(
            r.text,
            "<p>Dear Tom &lt;Admin&gt;,</p><div><p>Your parcel is on its way.</p></div><p>Kind regards,</p>"
        );
        let once = c.run(
            "ja-JP",
            Lang::Ja,
            "山田 太郎",
            None,
            "<html><body><p>ご注文の商品は本日発送いたしました。</p></body></html>",
        );
        assert_eq!(
            once.text,
            "<html><body><p>山田様<br>いつもご利用いただきありがとうございます。</p><p>ご注文の商品は本日発送いたしました。</p><p>よろしくお願いいたします。</p></body></html>"
        );
        let twice = c.run("ja-JP", Lang::Ja, "山田 太郎", None, &once.text);
        assert!(twice.applied.is_empty(), "{:?}", twice.applied);
    }

    #[test]
    fn html_exclamation_marks_end_sentences_before_tags() {
        let c = Case::new();
        let r = c.run(
            "de-DE",
            Lang::De,
            "Anna Schmidt",
            None,
            "<p>Hallo Anna!</p><p>Ihr Paket ist unterwegs!</p><p>Viele Grüße</p>",
        );
        assert_eq!(
            r.text,
            "<p>Hallo Anna,</p><p>Ihr Paket ist unterwegs.</p><p>Viele Grüße</p>"
        );
        assert_eq!(ids(&r), ["exclamation.tone-down"]);
    }

    #[test]
    fn rewriting_twice_changes_nothing() {
        let c = Case::new();
        for (locale, lang, text) in [
            (
                "en-US",
                Lang::En,
                "Just wanted to let you know that it shipped!!! 😀",
            ),
            ("zh-CN", Lang::Zh, "您的订单已经发货了！！"),
            ("ar-SA", Lang::Ar, "تم شحن طلبك اليوم!"),
            (
                "nl-NL",
                Lang::Nl,
                "Ik hoop dat alles goed met u gaat. Uw pakket is onderweg.",
            ),
        ] {
            let once = c.run(locale, lang, "Sam Lee", None, text);
            let twice = c.run(locale, lang, "Sam Lee", None, &once.text);
            assert_eq!(twice.text, once.text, "{locale}");
            assert!(twice.applied.is_empty(), "{locale}: {:?}", twice.applied);
        }
    }
}
