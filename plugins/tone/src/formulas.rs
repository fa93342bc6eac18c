//! What the plugin writes: greeting, gratitude, cushion and closing formulas per
//! language, in both registers, and the customer's name with the right honorific.
//!
//! The formulas are in the language of the reply (see [`crate::language`]); the
//! register and the form of address come from the customer's profile. No formula
//! contains an exclamation mark, an emoji or anything another rule rewrites, so a
//! second pass of the plugin finds nothing to do.

use crate::language::{Lang, Reply};
use crate::names::{Name, Title, TitleKind};
use crate::profile::{Honorific, Register};

/// The customer, as far as the event tells.
#[derive(Debug, Clone, Copy, Default)]
pub struct Addressee<'a> {
    /// The name, if known.
    pub name: Option<&'a Name>,
    /// The title, if known.
    pub title: Option<&'a Title>,
}

/// `[formal, informal]`.
type Pair = [&'static str; 2];

fn pick(pair: Pair, register: Register) -> &'static str {
    match register {
        Register::Formal => pair[0],
        Register::Informal => pair[1],
    }
}

/// The closing formula.
///
/// ```
/// use tone::{formulas::closing, language::{Lang, Reply}, profile::Register};
/// let de = Reply { lang: Lang::De, traditional: false };
/// assert_eq!(closing(de, Register::Formal), "Mit freundlichen Grüßen");
/// ```
pub fn closing(reply: Reply, register: Register) -> &'static str {
    pick(
        match reply.lang {
            Lang::En => ["Kind regards,", "Best regards,"],
            Lang::De => ["Mit freundlichen Grüßen", "Viele Grüße"],
            Lang::Fr => ["Cordialement,", "À bientôt,"],
            Lang::Es => ["Saludos cordiales,", "Un saludo,"],
            Lang::Pt => ["Atenciosamente,", "Abraços,"],
            Lang::It => ["Cordiali saluti,", "A presto,"],
            Lang::Nl => ["Met vriendelijke groet,", "Hartelijke groet,"],
            Lang::Ja => ["よろしくお願いいたします。", "よろしくお願いします。"],
            Lang::Zh if reply.traditional => ["敬祝 順心", "祝好"],
            Lang::Zh => ["祝您生活愉快。", "祝好"],
            Lang::Ko => ["감사합니다.", "고마워요."],
            Lang::Ar => ["مع خالص التحية،", "مع التحية،"],
        },
        register,
    )
}

/// The gratitude opener (high-context profiles, no bad news).
pub fn gratitude(reply: Reply, register: Register) -> &'static str {
    pick(
        match reply.lang {
            Lang::En => ["Thank you for contacting us.", "Thanks for reaching out."],
            Lang::De => [
                "Vielen Dank für Ihre Nachricht.",
                "Danke für deine Nachricht.",
            ],
            Lang::Fr => [
                "Nous vous remercions de votre message.",
                "Merci pour ton message.",
            ],
            Lang::Es => [
                "Gracias por ponerse en contacto con nosotros.",
                "Gracias por escribirnos.",
            ],
            Lang::Pt => ["Agradecemos o seu contato.", "Obrigado pelo contato."],
            Lang::It => [
                "La ringraziamo per averci contattato.",
                "Grazie per averci scritto.",
            ],
            Lang::Nl => ["Bedankt voor uw bericht.", "Bedankt voor je bericht."],
            Lang::Ja => [
                "お問い合わせいただきありがとうございます。",
                "お問い合わせありがとうございます。",
            ],
            Lang::Zh if reply.traditional => ["感謝您的來信。", "謝謝你的來信。"],
            Lang::Zh => ["感谢您的来信。", "谢谢你的来信。"],
            Lang::Ko => ["문의해 주셔서 감사합니다.", "문의해 주셔서 고마워요."],
            Lang::Ar => ["نشكرك على تواصلك معنا.", "شكرًا لتواصلك معنا."],
        },
        register,
    )
}

/// The cushion (high-context profiles, bad news in the draft).
pub fn cushion(reply: Reply, register: Register) -> &'static str {
    pick(
        match reply.lang {
            Lang::En => [
                "We are sorry for the inconvenience.",
                "Sorry for the trouble.",
            ],
            Lang::De => [
                "Bitte entschuldigen Sie die Unannehmlichkeiten.",
                "Entschuldige bitte die Unannehmlichkeiten.",
            ],
            Lang::Fr => [
                "Nous vous prions de nous excuser pour la gêne occasionnée.",
                "Désolés pour la gêne occasionnée.",
            ],
            Lang::Es => [
                "Lamentamos las molestias ocasionadas.",
                "Sentimos las molestias.",
            ],
            Lang::Pt => [
                "Pedimos desculpas pelo transtorno.",
                "Desculpe pelo transtorno.",
            ],
            Lang::It => ["Ci scusiamo per il disagio.", "Scusa per il disagio."],
            Lang::Nl => ["Onze excuses voor het ongemak.", "Sorry voor het ongemak."],
            Lang::Ja => [
                "ご不便をおかけして申し訳ございません。",
                "ご不便をおかけしてすみません。",
            ],
            Lang::Zh if reply.traditional => ["造成您的不便，敬請見諒。", "造成你的不便，抱歉。"],
            Lang::Zh => ["给您带来不便，敬请谅解。", "给你带来不便，抱歉。"],
            Lang::Ko => ["불편을 드려 죄송합니다.", "불편을 드려 죄송해요."],
            Lang::Ar => ["نعتذر عن الإزعاج.", "نعتذر عن الإزعاج."],
        },
        register,
    )
}

/// The title in `lang`, if that language has a word for it.
fn title_word(lang: Lang, title: &Title) -> Option<String> {
    let word = match (lang, title.kind) {
        (Lang::En, _) => {
            let english = ["ms", "mrs", "miss", "mr", "dr", "mx", "prof"];
            let key = title.text.trim_end_matches('.').to_lowercase();
            if english.contains(&key.as_str()) {
                return Some(title.text.clone());
            }
            match title.kind {
                TitleKind::Female => "Ms",
                TitleKind::Male => "Mr",
                TitleKind::Doctor => "Dr",
                TitleKind::Other => return None,
            }
        }
        (Lang::De, TitleKind::Female) => "Frau",
        (Lang::De, TitleKind::Male) => "Herr",
        (Lang::De, TitleKind::Doctor) => "Dr.",
        (Lang::Fr, TitleKind::Female) => "Madame",
        (Lang::Fr, TitleKind::Male) => "Monsieur",
        (Lang::Es | Lang::Pt, TitleKind::Female) => "Sra.",
        (Lang::Es | Lang::Pt, TitleKind::Male) => "Sr.",
        (Lang::Es | Lang::Pt, TitleKind::Doctor) => "Dr.",
        (Lang::It, TitleKind::Female) => "Sig.ra",
        (Lang::It, TitleKind::Male) => "Sig.",
        (Lang::It, TitleKind::Doctor) => "Dott.",
        (Lang::Nl, TitleKind::Female) => "mevrouw",
        (Lang::Nl, TitleKind::Male) => "heer",
        (Lang::Ar, TitleKind::Female) => "السيدة",
        (Lang::Ar, TitleKind::Male) => "السيد",
        (Lang::Ar, TitleKind::Doctor) => "د.",
        (Lang::Zh, TitleKind::Female) => "女士",
        (Lang::Zh, TitleKind::Male) => "先生",
        (Lang::Zh, TitleKind::Doctor) => "博士",
        _ => return None,
    };
    Some(word.to_owned())
}

/// A Dutch family name after a title starts with a capital: `de Vries` → `De Vries`.
fn capitalized(family: &str) -> String {
    let mut chars = family.chars();
    chars.next().map_or_else(String::new, |c| {
        c.to_uppercase().collect::<String>() + chars.as_str()
    })
}

/// How the customer is called in a Latin-script (or Arabic) formula: the name part
/// only, without the greeting word.
///
/// ```
/// use tone::formulas::{address, Addressee};
/// use tone::{language::Lang, names::{parse_name, parse_title}, profile::{Honorific, Register}};
/// let name = parse_name("Anna Schmidt", None, None, Lang::De).unwrap();
/// let title = parse_title("Ms").unwrap();
/// let who = Addressee { name: Some(&name), title: Some(&title) };
/// assert_eq!(address(Lang::En, Register::Formal, Honorific::TitleSurname, &who).unwrap(), "Ms Schmidt");
/// let who = Addressee { name: Some(&name), title: None };
/// assert_eq!(address(Lang::En, Register::Informal, Honorific::TitleSurname, &who).unwrap(), "Anna");
/// ```
pub fn address(
    lang: Lang,
    register: Register,
    honorific: Honorific,
    who: &Addressee,
) -> Option<String> {
    let name = who.name?;
    let given = name.given.clone().unwrap_or_else(|| name.full.clone());
    match honorific {
        Honorific::GivenName => return Some(given),
        Honorific::FullName => return Some(name.full.clone()),
        _ => {}
    }
    let titled = who.title.and_then(|t| {
        let word = title_word(lang, t)?;
        let family = name.family.as_deref()?;
        Some(match lang {
            Lang::Nl => format!("{word} {}", capitalized(family)),
            // Arabic titles precede the full name.
            Lang::Ar => format!("{word} {}", name.full),
            _ => format!("{word} {family}"),
        })
    });
    Some(titled.unwrap_or_else(|| match register {
        Register::Formal => name.full.clone(),
        Register::Informal => given,
    }))
}

/// The Japanese form: family name (or full name) + 様.
fn japanese_address(honorific: Honorific, who: &Addressee) -> String {
    match who.name {
        None => "お客様".to_owned(),
        Some(name) => {
            let base = match (honorific, &name.family) {
                (Honorific::SurnameSama, Some(family)) if name.family_first => family.clone(),
                _ => name.full.clone(),
            };
            format!("{base}様")
        }
    }
}

/// The Korean form: full name + 님.
fn korean_address(honorific: Honorific, who: &Addressee) -> String {
    match who.name {
        None => "고객님".to_owned(),
        Some(name) => {
            let base = match (honorific, &name.given) {
                (Honorific::GivenName, Some(given)) => given.clone(),
                _ => name.full.clone(),
            };
            format!("{base}님")
        }
    }
}

/// The Chinese form: surname + 先生/女士 with a known title, else the full name.
fn chinese_address(who: &Addressee) -> Option<String> {
    let name = who.name?;
    let titled = who.title.and_then(|t| {
        let word = title_word(Lang::Zh, t)?;
        Some(format!("{}{word}", name.family.as_deref()?))
    });
    Some(titled.unwrap_or_else(|| name.full.clone()))
}

/// The greeting formula (one or more lines, no trailing new line).
///
/// ```
/// use tone::formulas::{greeting, Addressee};
/// use tone::{language::{Lang, Reply}, names::parse_name, profile::{Honorific, Register}};
/// let name = parse_name("山田 太郎", None, None, Lang::Ja).unwrap();
/// let who = Addressee { name: Some(&name), title: None };
/// let ja = Reply { lang: Lang::Ja, traditional: false };
/// assert_eq!(
///     greeting(ja, Register::Formal, Honorific::SurnameSama, &who),
///     "山田様\nいつもご利用いただきありがとうございます。"
/// );
/// ```
pub fn greeting(reply: Reply, register: Register, honorific: Honorific, who: &Addressee) -> String {
    let formal = register == Register::Formal;
    let lang = reply.lang;
    let kind = who.title.map(|t| t.kind);
    let has_family = who.name.is_some_and(|n| n.family.is_some());
    let addr = address(lang, register, honorific, who);
    match lang {
        Lang::En => match (addr, formal) {
            (Some(a), true) => format!("Dear {a},"),
            (Some(a), false) => format!("Hi {a},"),
            (None, true) => "Hello,".to_owned(),
            (None, false) => "Hi there,".to_owned(),
        },
        Lang::De => match (addr, kind) {
            (Some(a), Some(TitleKind::Female)) if formal && has_family => {
                format!("Sehr geehrte {a},")
            }
            (Some(a), Some(TitleKind::Male)) if formal && has_family => {
                format!("Sehr geehrter {a},")
            }
            (Some(a), _) if formal => format!("Guten Tag {a},"),
            (Some(a), _) => format!("Hallo {a},"),
            (None, _) if formal => "Guten Tag,".to_owned(),
            (None, _) => "Hallo,".to_owned(),
        },
        Lang::Fr => match addr {
            Some(a) => format!("Bonjour {a},"),
            None => "Bonjour,".to_owned(),
        },
        Lang::Es => match (addr, kind) {
            (Some(a), Some(TitleKind::Female)) if formal && has_family => format!("Estimada {a}:"),
            (Some(a), Some(TitleKind::Male)) if formal && has_family => format!("Estimado {a}:"),
            (Some(a), _) => format!("Hola, {a}:"),
            (None, _) => "Hola:".to_owned(),
        },
        Lang::Pt => match (addr, kind) {
            (Some(a), Some(TitleKind::Female)) if formal && has_family => format!("Prezada {a},"),
            (Some(a), Some(TitleKind::Male)) if formal && has_family => format!("Prezado {a},"),
            (Some(a), _) if formal => format!("Olá, {a},"),
            (Some(a), _) => format!("Oi, {a},"),
            (None, _) => "Olá,".to_owned(),
        },
        Lang::It => match addr {
            Some(a) if formal => format!("Gentile {a},"),
            Some(a) => format!("Ciao {a},"),
            None if formal => "Buongiorno,".to_owned(),
            None => "Ciao,".to_owned(),
        },
        Lang::Nl => match (addr, kind) {
            (Some(a), Some(TitleKind::Female | TitleKind::Male)) if formal && has_family => {
                format!("Geachte {a},")
            }
            (Some(a), _) if formal => format!("Beste {a},"),
            (Some(a), _) => format!("Hoi {a},"),
            (None, _) if formal => "Geachte heer, mevrouw,".to_owned(),
            (None, _) => "Hoi,".to_owned(),
        },
        Lang::Ja => {
            let line = if formal {
                "いつもご利用いただきありがとうございます。"
            } else {
                "いつもありがとうございます。"
            };
            format!("{}\n{line}", japanese_address(honorific, who))
        }
        Lang::Ko => format!("{}, 안녕하세요.", korean_address(honorific, who)),
        Lang::Zh => match (chinese_address(who), formal, reply.traditional) {
            (Some(a), true, false) => format!("尊敬的{a}："),
            (None, true, false) => "尊敬的客户：".to_owned(),
            (Some(a), true, true) => format!("{a}您好："),
            (None, true, true) => "親愛的客戶您好：".to_owned(),
            (Some(a), false, false) => format!("{a}，你好："),
            (Some(a), false, true) => format!("{a}你好："),
            (None, false, _) => "你好：".to_owned(),
        },
        Lang::Ar => match (addr, kind) {
            (Some(a), Some(TitleKind::Female)) if formal => format!("{a} المحترمة،"),
            (Some(a), Some(TitleKind::Male)) if formal => format!("{a} المحترم،"),
            (Some(a), _) if formal => format!("السلام عليكم {a}،"),
            (Some(a), _) => format!("مرحبًا {a}،"),
            (None, _) if formal => "السلام عليكم،".to_owned(),
            (None, _) => "مرحبًا،".to_owned(),
        },
    }
}

/// Every formula the plugin can write for `reply`, in both registers, for tests and
/// for the detection of formulas already present.
pub fn all_fixed(reply: Reply) -> Vec<&'static str> {
    let mut out = Vec::new();
    for register in [Register::Formal, Register::Informal] {
        out.push(closing(reply, register));
        out.push(gratitude(reply, register));
        out.push(cushion(reply, register));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::names::{parse_name, parse_title};

    fn reply(lang: Lang) -> Reply {
        Reply {
            lang,
            traditional: false,
        }
    }

    fn greet(
        lang: Lang,
        register: Register,
        honorific: Honorific,
        name: &str,
        title: Option<&str>,
        culture: Lang,
    ) -> String {
        let name = parse_name(name, None, None, culture);
        let title = title.and_then(parse_title);
        let who = Addressee {
            name: name.as_ref(),
            title: title.as_ref(),
        };
        greeting(reply(lang), register, honorific, &who)
    }

    #[test]
    fn english_greetings() {
        use Honorific::TitleSurname as T;
        assert_eq!(
            greet(
                Lang::En,
                Register::Formal,
                T,
                "Anna Smith",
                Some("Ms"),
                Lang::En
            ),
            "Dear Ms Smith,"
        );
        assert_eq!(
            greet(Lang::En, Register::Formal, T, "Anna Smith", None, Lang::En),
            "Dear Anna Smith,"
        );
        assert_eq!(
            greet(
                Lang::En,
                Register::Informal,
                T,
                "Anna Smith",
                None,
                Lang::En
            ),
            "Hi Anna,"
        );
        assert_eq!(
            greet(Lang::En, Register::Formal, T, "山田 太郎", None, Lang::Ja),
            "Dear 山田 太郎,"
        );
        assert_eq!(
            greet(
                Lang::En,
                Register::Formal,
                T,
                "Taro Yamada",
                Some("Mr."),
                Lang::Ja
            ),
            "Dear Mr. Yamada,"
        );
        assert_eq!(
            greet(Lang::En, Register::Formal, T, "", None, Lang::En),
            "Hello,"
        );
    }

    #[test]
    fn german_and_dutch_greetings_follow_the_title() {
        use Honorific::TitleSurname as T;
        assert_eq!(
            greet(
                Lang::De,
                Register::Formal,
                T,
                "Anna Schmidt",
                Some("Frau"),
                Lang::De
            ),
            "Sehr geehrte Frau Schmidt,"
        );
        assert_eq!(
            greet(
                Lang::De,
                Register::Formal,
                T,
                "Jan Weber",
                Some("Mr"),
                Lang::De
            ),
            "Sehr geehrter Herr Weber,"
        );
        assert_eq!(
            greet(
                Lang::De,
                Register::Formal,
                T,
                "Anna Schmidt",
                None,
                Lang::De
            ),
            "Guten Tag Anna Schmidt,"
        );
        assert_eq!(
            greet(
                Lang::De,
                Register::Informal,
                T,
                "Anna Schmidt",
                None,
                Lang::De
            ),
            "Hallo Anna,"
        );
        assert_eq!(
            greet(
                Lang::Nl,
                Register::Formal,
                T,
                "Sanne de Vries",
                Some("Mevrouw"),
                Lang::Nl
            ),
            "Geachte mevrouw De Vries,"
        );
        assert_eq!(
            greet(
                Lang::Nl,
                Register::Formal,
                T,
                "Sanne de Vries",
                None,
                Lang::Nl
            ),
            "Beste Sanne de Vries,"
        );
    }

    #[test]
    fn east_asian_honorifics() {
        assert_eq!(
            greet(
                Lang::Ko,
                Register::Formal,
                Honorific::NameNim,
                "김민준",
                None,
                Lang::Ko
            ),
            "김민준님, 안녕하세요."
        );
        assert_eq!(
            greet(
                Lang::Zh,
                Register::Formal,
                Honorific::SurnameTitleZh,
                "王小明",
                Some("女士"),
                Lang::Zh
            ),
            "尊敬的王女士："
        );
        assert_eq!(
            greet(
                Lang::Zh,
                Register::Formal,
                Honorific::SurnameTitleZh,
                "王小明",
                None,
                Lang::Zh
            ),
            "尊敬的王小明："
        );
        let tw = Reply {
            lang: Lang::Zh,
            traditional: true,
        };
        let name = parse_name("陳志明", None, None, Lang::Zh);
        let who = Addressee {
            name: name.as_ref(),
            title: None,
        };
        assert_eq!(
            greeting(tw, Register::Formal, Honorific::SurnameTitleZh, &who),
            "陳志明您好："
        );
        assert_eq!(
            greet(
                Lang::Ja,
                Register::Formal,
                Honorific::SurnameSama,
                "山田太郎",
                None,
                Lang::Ja
            ),
            "山田太郎様\nいつもご利用いただきありがとうございます。"
        );
    }

    #[test]
    fn formulas_hold_nothing_another_rule_rewrites() {
        for lang in Lang::ALL {
            for traditional in [false, true] {
                for f in all_fixed(Reply { lang, traditional }) {
                    assert!(!f.contains(['!', '！', '¡']), "{f}");
                    assert!(!f.is_empty());
                }
            }
        }
    }
}
