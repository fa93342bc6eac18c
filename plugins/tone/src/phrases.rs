//! What the rules look for in a draft, per language: greeting and closing lines,
//! gratitude and apology phrases, bad-news words, filler, and pronouns of address.
//!
//! Latin-script entries are matched as whole words ignoring case; Chinese and
//! Japanese ones as substrings; Korean ones at the start of a word; Arabic ones as
//! substrings here (these lists only decide whether to add a formula, never what to
//! flag). See [`crate::matching`].

use crate::language::Lang;
use crate::matching::{Boundary, Folded, is_arabic};

/// Words per language.
pub type Table = &'static [(Lang, &'static [&'static str])];

/// How a greeting line starts (or, for Japanese, Korean and Chinese, what it holds).
pub const GREETING_STARTERS: Table = &[
    (
        Lang::En,
        &[
            "dear",
            "hi",
            "hello",
            "hey",
            "good morning",
            "good afternoon",
            "good evening",
            "greetings",
        ],
    ),
    (
        Lang::De,
        &[
            "sehr geehrte",
            "sehr geehrter",
            "liebe",
            "lieber",
            "hallo",
            "guten tag",
            "guten morgen",
            "guten abend",
            "moin",
            "servus",
            "grüß gott",
        ],
    ),
    (
        Lang::Fr,
        &[
            "bonjour", "bonsoir", "madame", "monsieur", "cher", "chère", "salut", "coucou",
        ],
    ),
    (
        Lang::Es,
        &[
            "hola",
            "estimado",
            "estimada",
            "estimados",
            "buenos días",
            "buenas tardes",
            "buenas noches",
            "querido",
            "querida",
            "apreciado",
            "apreciada",
        ],
    ),
    (
        Lang::Pt,
        &[
            "olá",
            "oi",
            "prezado",
            "prezada",
            "prezados",
            "caro",
            "cara",
            "bom dia",
            "boa tarde",
            "boa noite",
        ],
    ),
    (
        Lang::It,
        &[
            "gentile",
            "gentilissimo",
            "gentilissima",
            "egregio",
            "egregia",
            "caro",
            "cara",
            "ciao",
            "buongiorno",
            "buonasera",
            "salve",
        ],
    ),
    (
        Lang::Nl,
        &[
            "geachte",
            "beste",
            "hallo",
            "hoi",
            "goedemorgen",
            "goedemiddag",
            "goedenavond",
            "dag",
        ],
    ),
    (
        Lang::Ar,
        &[
            "السلام عليكم",
            "مرحبا",
            "مرحبًا",
            "أهلا",
            "أهلاً",
            "عزيزي",
            "عزيزتي",
            "السيد",
            "السيدة",
            "صباح الخير",
            "مساء الخير",
        ],
    ),
];

/// Japanese, Chinese and Korean greeting lines: what they start with.
pub const CJK_GREETING_STARTS: &[&str] = &[
    "お世話になっております",
    "いつもお世話",
    "いつもご利用",
    "こんにちは",
    "拝啓",
    "尊敬的",
    "亲爱的",
    "親愛的",
    "您好",
    "你好",
    "안녕하세요",
    "안녕하십니까",
];

/// Japanese, Chinese and Korean greeting lines: what they end with (after the
/// punctuation is dropped).
pub const CJK_GREETING_ENDS: &[&str] = &[
    "様",
    "さま",
    "殿",
    "御中",
    "님",
    "您好",
    "你好",
    "안녕하세요",
];

/// How a closing line starts.
pub const CLOSING_STARTERS: Table = &[
    (
        Lang::En,
        &[
            "kind regards",
            "best regards",
            "warm regards",
            "regards",
            "best wishes",
            "best",
            "thanks",
            "thank you",
            "many thanks",
            "cheers",
            "sincerely",
            "yours sincerely",
            "yours faithfully",
            "all the best",
            "take care",
        ],
    ),
    (
        Lang::De,
        &[
            "mit freundlichen grüßen",
            "mit freundlichen grüssen",
            "freundliche grüße",
            "freundliche grüsse",
            "viele grüße",
            "viele grüsse",
            "beste grüße",
            "liebe grüße",
            "herzliche grüße",
            "mfg",
            "gruß",
            "grüße",
            "danke",
        ],
    ),
    (
        Lang::Fr,
        &[
            "cordialement",
            "bien cordialement",
            "bien à vous",
            "sincères salutations",
            "veuillez agréer",
            "à bientôt",
            "bonne journée",
            "merci",
            "salutations",
        ],
    ),
    (
        Lang::Es,
        &[
            "saludos",
            "un saludo",
            "un cordial saludo",
            "atentamente",
            "cordialmente",
            "gracias",
            "un abrazo",
            "reciba un cordial saludo",
        ],
    ),
    (
        Lang::Pt,
        &[
            "atenciosamente",
            "abraços",
            "abraço",
            "cordialmente",
            "obrigado",
            "obrigada",
            "saudações",
            "att",
        ],
    ),
    (
        Lang::It,
        &[
            "cordiali saluti",
            "distinti saluti",
            "saluti",
            "a presto",
            "un saluto",
            "grazie",
            "cordialmente",
            "un caro saluto",
        ],
    ),
    (
        Lang::Nl,
        &[
            "met vriendelijke groet",
            "met vriendelijke groeten",
            "vriendelijke groet",
            "groet",
            "groeten",
            "hartelijke groet",
            "groetjes",
            "mvg",
            "bedankt",
        ],
    ),
    (Lang::Ja, &["よろしくお願い", "以上", "敬具", "今後とも"]),
    (
        Lang::Zh,
        &["祝", "此致", "敬礼", "顺祝", "順祝", "敬祝", "谢谢", "謝謝"],
    ),
    (
        Lang::Ko,
        &["감사합니다", "감사드립니다", "고맙습니다", "고마워요"],
    ),
    (
        Lang::Ar,
        &[
            "مع خالص",
            "مع التحية",
            "مع تحيات",
            "تحياتي",
            "شكرا",
            "شكرًا",
            "وتفضلوا",
        ],
    ),
];

/// Gratitude already expressed.
pub const GRATITUDE: Table = &[
    (
        Lang::En,
        &[
            "thank you for",
            "thanks for",
            "many thanks",
            "thank you so much",
            "we appreciate",
        ],
    ),
    (
        Lang::De,
        &["vielen dank", "danke für", "herzlichen dank", "wir danken"],
    ),
    (
        Lang::Fr,
        &["merci", "nous vous remercions", "je vous remercie"],
    ),
    (
        Lang::Es,
        &[
            "gracias por",
            "le agradecemos",
            "te agradecemos",
            "agradecemos",
        ],
    ),
    (Lang::Pt, &["obrigado", "obrigada", "agradecemos"]),
    (Lang::It, &["grazie", "la ringraziamo", "ti ringraziamo"]),
    (
        Lang::Nl,
        &["bedankt", "dank u", "dank je", "hartelijk dank"],
    ),
    (
        Lang::Ja,
        &[
            "ありがとうございます",
            "ありがとうございました",
            "お世話になっております",
            "お世話になります",
        ],
    ),
    (Lang::Zh, &["感谢", "感謝", "谢谢", "謝謝"]),
    (Lang::Ko, &["주셔서 감사", "감사드립니다", "주셔서 고마"]),
    (Lang::Ar, &["شكر"]),
];

/// An apology already made.
pub const CUSHION: Table = &[
    (
        Lang::En,
        &["sorry", "apologize", "apologise", "apologies", "we regret"],
    ),
    (
        Lang::De,
        &[
            "entschuldigen",
            "entschuldige",
            "entschuldigung",
            "bedauern",
            "tut uns leid",
        ],
    ),
    (
        Lang::Fr,
        &[
            "désolé",
            "désolée",
            "désolés",
            "excuser",
            "excuses",
            "regrettons",
        ],
    ),
    (
        Lang::Es,
        &[
            "lamentamos",
            "sentimos",
            "disculpe",
            "disculpa",
            "disculpas",
            "perdón",
            "lo siento",
        ],
    ),
    (
        Lang::Pt,
        &["desculpe", "desculpa", "desculpas", "lamentamos"],
    ),
    (
        Lang::It,
        &[
            "ci scusiamo",
            "scusa",
            "scusi",
            "scuse",
            "ci dispiace",
            "spiacenti",
        ],
    ),
    (Lang::Nl, &["excuses", "excuus", "sorry", "spijt"]),
    (Lang::Ja, &["申し訳", "お詫び", "すみません"]),
    (
        Lang::Zh,
        &[
            "抱歉",
            "谅解",
            "諒解",
            "见谅",
            "見諒",
            "对不起",
            "對不起",
            "致歉",
        ],
    ),
    (Lang::Ko, &["죄송", "사과드립니다", "미안"]),
    (Lang::Ar, &["نعتذر", "نأسف", "اعتذار", "آسف"]),
];

/// Words that announce bad news.
pub const BAD_NEWS: Table = &[
    (
        Lang::En,
        &[
            "unfortunately",
            "sorry",
            "delay",
            "delayed",
            "delays",
            "refund",
            "refunds",
            "refunded",
            "unable",
            "cannot",
            "can't",
            "regret",
            "cancelled",
            "canceled",
            "cancellation",
            "out of stock",
            "damaged",
            "lost",
            "broken",
            "defective",
            "declined",
            "rejected",
            "not possible",
            "problem",
        ],
    ),
    (
        Lang::De,
        &[
            "leider",
            "verzögerung",
            "verzögert",
            "verspätung",
            "verspätet",
            "rückerstattung",
            "erstattung",
            "erstatten",
            "storniert",
            "stornierung",
            "nicht möglich",
            "beschädigt",
            "defekt",
            "problem",
            "fehler",
            "verloren",
            "abgelehnt",
            "nicht lieferbar",
            "bedauern",
            "entschuldigung",
        ],
    ),
    (
        Lang::Fr,
        &[
            "malheureusement",
            "retard",
            "retardée",
            "remboursement",
            "rembourser",
            "désolé",
            "désolée",
            "annulé",
            "annulée",
            "annulation",
            "impossible",
            "endommagé",
            "endommagée",
            "perdu",
            "défectueux",
            "problème",
            "erreur",
            "regrettons",
            "refusé",
            "rupture de stock",
        ],
    ),
    (
        Lang::Es,
        &[
            "lamentablemente",
            "desafortunadamente",
            "retraso",
            "demora",
            "reembolso",
            "lo siento",
            "sentimos",
            "lamentamos",
            "cancelado",
            "cancelada",
            "cancelación",
            "imposible",
            "dañado",
            "dañada",
            "perdido",
            "defectuoso",
            "problema",
            "error",
            "rechazado",
            "agotado",
        ],
    ),
    (
        Lang::Pt,
        &[
            "infelizmente",
            "atraso",
            "atrasado",
            "reembolso",
            "estorno",
            "desculpe",
            "lamentamos",
            "cancelado",
            "cancelamento",
            "impossível",
            "danificado",
            "extraviado",
            "defeito",
            "defeituoso",
            "problema",
            "erro",
            "recusado",
            "esgotado",
        ],
    ),
    (
        Lang::It,
        &[
            "purtroppo",
            "sfortunatamente",
            "ritardo",
            "rimborso",
            "spiacenti",
            "ci dispiace",
            "annullato",
            "annullamento",
            "impossibile",
            "danneggiato",
            "smarrito",
            "difettoso",
            "problema",
            "errore",
            "rifiutato",
            "esaurito",
        ],
    ),
    (
        Lang::Nl,
        &[
            "helaas",
            "vertraging",
            "vertraagd",
            "terugbetaling",
            "restitutie",
            "excuses",
            "sorry",
            "geannuleerd",
            "annulering",
            "niet mogelijk",
            "beschadigd",
            "kwijt",
            "defect",
            "probleem",
            "fout",
            "afgewezen",
            "uitverkocht",
        ],
    ),
    (
        Lang::Ja,
        &[
            "申し訳",
            "遅延",
            "遅れ",
            "返金",
            "残念",
            "欠品",
            "在庫切れ",
            "キャンセル",
            "破損",
            "不具合",
            "紛失",
            "できかねます",
            "問題",
            "エラー",
            "不便",
        ],
    ),
    (
        Lang::Zh,
        &[
            "抱歉", "延迟", "延遲", "延误", "延誤", "退款", "遗憾", "遺憾", "取消", "缺货", "缺貨",
            "损坏", "損壞", "丢失", "遺失", "问题", "問題", "无法", "無法", "错误", "錯誤", "不便",
        ],
    ),
    (
        Lang::Ko,
        &[
            "죄송", "지연", "환불", "유감", "취소", "품절", "파손", "분실", "불가", "문제", "오류",
            "불편",
        ],
    ),
    (
        Lang::Ar,
        &[
            "للأسف",
            "تأخير",
            "تأخر",
            "استرداد",
            "استرجاع",
            "نعتذر",
            "آسف",
            "إلغاء",
            "تلف",
            "تالف",
            "مفقود",
            "مشكلة",
            "خطأ",
            "رفض",
            "متعذر",
        ],
    ),
];

/// Pronouns and possessives of informal address, found under a formal profile.
pub const INFORMAL_ADDRESS: Table = &[
    (
        Lang::De,
        &[
            "du", "dich", "dir", "dein", "deine", "deinen", "deinem", "deiner", "deines", "euch",
            "euer", "eure", "euren", "eurem",
        ],
    ),
    (Lang::Fr, &["tu", "toi", "te", "tes", "ta"]),
    (
        Lang::Es,
        &[
            "tú", "tu", "tus", "ti", "contigo", "te", "vosotros", "vosotras", "vuestro", "vuestra",
            "vuestros", "vuestras", "os",
        ],
    ),
    (
        Lang::Pt,
        &["tu", "teu", "tua", "teus", "tuas", "contigo", "te"],
    ),
    (Lang::It, &["tu", "ti", "te", "tuo", "tua", "tuoi", "tue"]),
    (Lang::Nl, &["je", "jij", "jou", "jouw", "jullie"]),
    (Lang::Zh, &["你"]),
];

/// Pronouns of formal address, found under an informal profile (only where they are
/// unambiguous: German Sie and French vous also mean "they" and "you all").
pub const FORMAL_ADDRESS: Table = &[
    (Lang::Es, &["usted"]),
    (Lang::Pt, &["o senhor", "a senhora"]),
    (Lang::Nl, &["u", "uw"]),
    (Lang::Zh, &["您"]),
];

/// The entries of `table` for `lang`.
pub fn words(table: Table, lang: Lang) -> &'static [&'static str] {
    table
        .iter()
        .find(|(l, _)| *l == lang)
        .map_or(&[], |(_, words)| *words)
}

/// The boundary used for marker lists: Arabic as substrings (clitics attach on both
/// sides), the rest by script.
fn marker_boundary(term: &str) -> Boundary {
    if term.chars().any(is_arabic) {
        Boundary::None
    } else {
        Boundary::for_term(term)
    }
}

/// The first entry of `table` for `lang` found in `text`.
pub fn find_in(text: &Folded, table: Table, lang: Lang) -> Option<&'static str> {
    words(table, lang)
        .iter()
        .copied()
        .find(|w| text.contains(w, marker_boundary(w)))
}

/// Every entry of `table` for `lang` found in `text`, with its byte ranges.
pub fn find_all_in(
    text: &Folded,
    table: Table,
    lang: Lang,
) -> Vec<(&'static str, Vec<(usize, usize)>)> {
    words(table, lang)
        .iter()
        .map(|w| (*w, text.find_all(w, marker_boundary(w))))
        .filter(|(_, found)| !found.is_empty())
        .collect()
}

/// What to do with a filler phrase.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FillerKind {
    /// A whole sentence that says nothing: removed.
    Remove,
    /// A whole sentence said at length: replaced by the shorter one.
    Replace(&'static str),
    /// A clause before the answer ("Just wanted to let you know that ..."): removed,
    /// so that the sentence starts with the answer. Only for languages whose word
    /// order survives it (not German or Dutch, whose verb moves in a subordinate
    /// clause).
    Prefix,
    /// A wordy phrase inside a sentence: replaced by the short one.
    Inline(&'static str),
}

/// A filler phrase (lower case, without the final full stop).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Filler {
    /// What is matched.
    pub pattern: &'static str,
    /// What happens to it.
    pub kind: FillerKind,
}

const fn remove(pattern: &'static str) -> Filler {
    Filler {
        pattern,
        kind: FillerKind::Remove,
    }
}

const fn replace(pattern: &'static str, with: &'static str) -> Filler {
    Filler {
        pattern,
        kind: FillerKind::Replace(with),
    }
}

const fn prefix(pattern: &'static str) -> Filler {
    Filler {
        pattern,
        kind: FillerKind::Prefix,
    }
}

const fn inline(pattern: &'static str, with: &'static str) -> Filler {
    Filler {
        pattern,
        kind: FillerKind::Inline(with),
    }
}

const EN_QUESTIONS: &str = "Just reply if you have any questions.";
const DE_QUESTIONS_SIE: &str = "Bei Fragen antworten Sie einfach auf diese E-Mail.";
const DE_QUESTIONS_DU: &str = "Bei Fragen antworte einfach auf diese E-Mail.";
const NL_QUESTIONS: &str = "Vragen? Antwoord gerust op deze e-mail.";

const EN: &[Filler] = &[
    remove("i hope this email finds you well"),
    remove("i hope this message finds you well"),
    remove("i hope you are doing well"),
    remove("i hope you're doing well"),
    remove("i hope you are well"),
    remove("i hope you're well"),
    remove("i hope all is well"),
    replace(
        "please do not hesitate to contact us if you have any further questions",
        EN_QUESTIONS,
    ),
    replace(
        "please don't hesitate to contact us if you have any further questions",
        EN_QUESTIONS,
    ),
    replace(
        "please do not hesitate to contact us if you have any questions",
        EN_QUESTIONS,
    ),
    replace(
        "please don't hesitate to contact us if you have any questions",
        EN_QUESTIONS,
    ),
    replace(
        "please do not hesitate to reach out if you have any questions",
        EN_QUESTIONS,
    ),
    replace(
        "please don't hesitate to reach out if you have any questions",
        EN_QUESTIONS,
    ),
    replace(
        "should you have any further questions, please do not hesitate to contact us",
        EN_QUESTIONS,
    ),
    replace(
        "if you have any further questions, please do not hesitate to contact us",
        EN_QUESTIONS,
    ),
    replace(
        "if you have any further questions, please don't hesitate to contact us",
        EN_QUESTIONS,
    ),
    prefix("i just wanted to let you know that "),
    prefix("just wanted to let you know that "),
    prefix("i wanted to let you know that "),
    prefix("i would like to inform you that "),
    prefix("we would like to inform you that "),
    prefix("i am writing to let you know that "),
    prefix("i'm writing to let you know that "),
    prefix("i am writing to inform you that "),
    prefix("this is to inform you that "),
    prefix("please be advised that "),
    prefix("kindly note that "),
    inline("in order to", "to"),
    inline("at this point in time", "now"),
    inline("due to the fact that", "because"),
];

const DE: &[Filler] = &[
    remove("ich hoffe, es geht ihnen gut"),
    remove("ich hoffe, es geht dir gut"),
    remove("ich hoffe, diese e-mail erreicht sie wohlbehalten"),
    replace(
        "zögern sie nicht, uns zu kontaktieren, wenn sie weitere fragen haben",
        DE_QUESTIONS_SIE,
    ),
    replace(
        "zögern sie nicht, uns bei weiteren fragen zu kontaktieren",
        DE_QUESTIONS_SIE,
    ),
    replace(
        "für weitere fragen stehen wir ihnen jederzeit gerne zur verfügung",
        DE_QUESTIONS_SIE,
    ),
    replace(
        "bei weiteren fragen stehen wir ihnen jederzeit gerne zur verfügung",
        DE_QUESTIONS_SIE,
    ),
    replace(
        "zögere nicht, uns zu kontaktieren, wenn du weitere fragen hast",
        DE_QUESTIONS_DU,
    ),
    inline("zum jetzigen zeitpunkt", "jetzt"),
];

const FR: &[Filler] = &[
    remove("j'espère que vous allez bien"),
    remove("j'espère que tu vas bien"),
    replace(
        "n'hésitez pas à nous contacter si vous avez d'autres questions",
        "Pour toute question, répondez simplement à ce message.",
    ),
    replace(
        "n'hésitez pas à nous contacter pour toute question supplémentaire",
        "Pour toute question, répondez simplement à ce message.",
    ),
    prefix("nous tenons à vous informer que "),
    prefix("nous souhaitons vous informer que "),
    prefix("je vous informe que "),
];

const ES: &[Filler] = &[
    remove("espero que se encuentre bien"),
    remove("espero que te encuentres bien"),
    replace(
        "no dude en ponerse en contacto con nosotros si tiene alguna otra pregunta",
        "Si tiene alguna pregunta, responda a este mensaje.",
    ),
    replace(
        "no dudes en contactarnos si tienes alguna otra pregunta",
        "Si tienes alguna pregunta, responde a este mensaje.",
    ),
    prefix("le informamos que "),
    prefix("te informamos que "),
    prefix("queremos informarle que "),
    prefix("nos gustaría informarle que "),
];

const PT: &[Filler] = &[
    remove("espero que esteja bem"),
    remove("espero que você esteja bem"),
    replace(
        "não hesite em entrar em contato conosco caso tenha alguma dúvida",
        "Se tiver dúvidas, é só responder a este e-mail.",
    ),
    prefix("gostaríamos de informar que "),
    prefix("informamos que "),
];

const IT: &[Filler] = &[
    remove("spero che stia bene"),
    remove("spero che tu stia bene"),
    replace(
        "non esiti a contattarci per qualsiasi ulteriore domanda",
        "Per qualsiasi domanda, risponda a questa e-mail.",
    ),
    replace(
        "non esitare a contattarci per qualsiasi domanda",
        "Per qualsiasi domanda, rispondi a questa e-mail.",
    ),
    prefix("la informiamo che "),
    prefix("ti informiamo che "),
    prefix("desideriamo informarla che "),
];

const NL: &[Filler] = &[
    remove("ik hoop dat alles goed met u gaat"),
    remove("ik hoop dat het goed met u gaat"),
    remove("ik hoop dat het goed met je gaat"),
    remove("ik hoop dat alles goed met je gaat"),
    replace(
        "aarzel niet om contact met ons op te nemen als u nog vragen heeft",
        NL_QUESTIONS,
    ),
    replace(
        "aarzel niet om contact met ons op te nemen als je nog vragen hebt",
        NL_QUESTIONS,
    ),
    replace(
        "mocht u nog vragen hebben, neem dan gerust contact met ons op",
        NL_QUESTIONS,
    ),
];

/// The filler phrases of `lang` (none for Japanese, Chinese, Korean and Arabic,
/// whose profiles are high-context: their rules add, they do not trim).
pub fn fillers(lang: Lang) -> &'static [Filler] {
    match lang {
        Lang::En => EN,
        Lang::De => DE,
        Lang::Fr => FR,
        Lang::Es => ES,
        Lang::Pt => PT,
        Lang::It => IT,
        Lang::Nl => NL,
        Lang::Ja | Lang::Zh | Lang::Ko | Lang::Ar => &[],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formulas;
    use crate::language::Reply;

    #[test]
    fn every_table_is_lower_case() {
        for table in [
            GREETING_STARTERS,
            CLOSING_STARTERS,
            GRATITUDE,
            CUSHION,
            BAD_NEWS,
            INFORMAL_ADDRESS,
            FORMAL_ADDRESS,
        ] {
            for (lang, words) in table {
                for w in *words {
                    assert_eq!(*w, w.to_lowercase(), "{lang:?} {w}");
                }
            }
        }
        for lang in Lang::ALL {
            for f in fillers(lang) {
                assert_eq!(f.pattern, f.pattern.to_lowercase());
            }
        }
    }

    /// The plugin recognises its own formulas, so it never adds one twice.
    #[test]
    fn own_formulas_are_recognised() {
        for lang in Lang::ALL {
            for traditional in [false, true] {
                let reply = Reply { lang, traditional };
                for register in [
                    crate::profile::Register::Formal,
                    crate::profile::Register::Informal,
                ] {
                    let g = Folded::new(formulas::gratitude(reply, register));
                    assert!(find_in(&g, GRATITUDE, lang).is_some(), "{lang:?} gratitude");
                    let c = Folded::new(formulas::cushion(reply, register));
                    assert!(find_in(&c, CUSHION, lang).is_some(), "{lang:?} cushion");
                }
            }
        }
    }

    /// No replacement or formula is itself filler: trimming is idempotent.
    #[test]
    fn replacements_are_no_filler() {
        for lang in Lang::ALL {
            let mut outputs: Vec<&str> = fillers(lang)
                .iter()
                .filter_map(|f| match f.kind {
                    FillerKind::Replace(s) | FillerKind::Inline(s) => Some(s),
                    _ => None,
                })
                .collect();
            outputs.extend(formulas::all_fixed(Reply {
                lang,
                traditional: false,
            }));
            for out in outputs {
                let folded = Folded::new(out);
                for f in fillers(lang) {
                    assert!(
                        !folded.contains(f.pattern.trim(), Boundary::Word),
                        "{out} contains {}",
                        f.pattern
                    );
                }
            }
        }
    }
}
