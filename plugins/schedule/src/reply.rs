//! The after-hours auto-reply, in the customer's language: that nobody is on
//! shift, when a person will answer (a date and time in the customer's own time
//! zone, written the way that language writes dates), and, when the knowledge base
//! has one, the article that best matches the question.
//!
//! Languages with a template: English, Spanish, French, German, Portuguese,
//! Italian, Dutch, Japanese, Chinese (Simplified, and Traditional for `zh-TW`,
//! `zh-HK`, `zh-MO` and `zh-Hant`: [`is_traditional_tag`]) and Korean. Others get
//! English, as the issue of a reply in a language we cannot write well is worse
//! than a clear English one.
//! The Japanese, Chinese and Korean texts use the cushioned formulas customers
//! there expect; the European ones stay short, and address the customer formally
//! (usted, Lei, u, Sie, vous), as a first contact with a company should.

use jiff::Zoned;

/// An article to offer while the customer waits.
#[derive(Debug, Clone, PartialEq)]
pub struct FaqAnswer {
    pub title: String,
    pub body: String,
}

/// The longest article body quoted in a reply, in characters.
pub const MAX_FAQ_CHARS: usize = 600;

struct Template {
    language: &'static str,
    /// Before the time: "Thanks for your message. Our team is offline right now;"
    offline: &'static str,
    /// "{when}" is replaced by the formatted time, "{zone}" by [`Template::local`]
    /// (or `UTC`, when the customer's zone is not known).
    next: &'static str,
    /// "your time": the time is the customer's own.
    local: &'static str,
    /// Introduces the article.
    faq: &'static str,
    weekdays: [&'static str; 7],
    months: [&'static str; 12],
    style: DateStyle,
}

/// How a language writes a date and time.
#[derive(Clone, Copy)]
enum DateStyle {
    /// "Tuesday, December 2 at 9:00 AM"
    English,
    /// "martes 2 de diciembre, 09:00" (weekday, day, `de`, month; 24 h)
    DayMonth { of: &'static str },
    /// "Dienstag, 2. Dezember, 09:00"
    German,
    /// "12月2日（火）9:00"; Chinese puts 周 before the weekday.
    Cjk { weekday_prefix: &'static str },
    /// "12월 2일 (화) 9:00"
    Korean,
}

const TEMPLATES: &[Template] = &[
    Template {
        language: "en",
        offline: "Thank you for your message. Our team is offline right now.",
        next: "A member of our team will reply from {when} ({zone}).",
        local: "your time",
        faq: "In the meantime, this article may help:",
        weekdays: [
            "Monday",
            "Tuesday",
            "Wednesday",
            "Thursday",
            "Friday",
            "Saturday",
            "Sunday",
        ],
        months: [
            "January",
            "February",
            "March",
            "April",
            "May",
            "June",
            "July",
            "August",
            "September",
            "October",
            "November",
            "December",
        ],
        style: DateStyle::English,
    },
    Template {
        language: "es",
        offline: "Gracias por su mensaje. Nuestro equipo no está disponible en este momento.",
        next: "Una persona del equipo le responderá a partir del {when} ({zone}).",
        local: "su hora local",
        faq: "Mientras tanto, este artículo puede ayudarle:",
        weekdays: [
            "lunes",
            "martes",
            "miércoles",
            "jueves",
            "viernes",
            "sábado",
            "domingo",
        ],
        months: [
            "enero",
            "febrero",
            "marzo",
            "abril",
            "mayo",
            "junio",
            "julio",
            "agosto",
            "septiembre",
            "octubre",
            "noviembre",
            "diciembre",
        ],
        style: DateStyle::DayMonth { of: "de " },
    },
    Template {
        language: "fr",
        offline: "Merci pour votre message. Notre équipe est absente pour le moment.",
        next: "Un membre de l'équipe vous répondra à partir du {when} ({zone}).",
        local: "heure locale",
        faq: "En attendant, cet article peut vous aider :",
        weekdays: [
            "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche",
        ],
        months: [
            "janvier",
            "février",
            "mars",
            "avril",
            "mai",
            "juin",
            "juillet",
            "août",
            "septembre",
            "octobre",
            "novembre",
            "décembre",
        ],
        style: DateStyle::DayMonth { of: "" },
    },
    Template {
        language: "de",
        offline: "Danke für Ihre Nachricht. Unser Team ist gerade nicht erreichbar.",
        next: "Wir antworten Ihnen ab {when} ({zone}).",
        local: "Ihre Ortszeit",
        faq: "Bis dahin hilft Ihnen vielleicht dieser Artikel:",
        weekdays: [
            "Montag",
            "Dienstag",
            "Mittwoch",
            "Donnerstag",
            "Freitag",
            "Samstag",
            "Sonntag",
        ],
        months: [
            "Januar",
            "Februar",
            "März",
            "April",
            "Mai",
            "Juni",
            "Juli",
            "August",
            "September",
            "Oktober",
            "November",
            "Dezember",
        ],
        style: DateStyle::German,
    },
    Template {
        language: "pt",
        offline: "Obrigado pela sua mensagem. Nossa equipe não está disponível no momento.",
        next: "Uma pessoa da equipe responderá a partir de {when} ({zone}).",
        local: "seu horário local",
        faq: "Enquanto isso, este artigo pode ajudar:",
        weekdays: [
            "segunda-feira",
            "terça-feira",
            "quarta-feira",
            "quinta-feira",
            "sexta-feira",
            "sábado",
            "domingo",
        ],
        months: [
            "janeiro",
            "fevereiro",
            "março",
            "abril",
            "maio",
            "junho",
            "julho",
            "agosto",
            "setembro",
            "outubro",
            "novembro",
            "dezembro",
        ],
        style: DateStyle::DayMonth { of: "de " },
    },
    Template {
        language: "it",
        offline: "Grazie per il Suo messaggio. Il nostro team non è disponibile in questo momento.",
        next: "Una persona del team Le risponderà a partire da {when} ({zone}).",
        local: "ora locale",
        faq: "Nel frattempo, questo articolo può esserLe utile:",
        weekdays: [
            "lunedì",
            "martedì",
            "mercoledì",
            "giovedì",
            "venerdì",
            "sabato",
            "domenica",
        ],
        months: [
            "gennaio",
            "febbraio",
            "marzo",
            "aprile",
            "maggio",
            "giugno",
            "luglio",
            "agosto",
            "settembre",
            "ottobre",
            "novembre",
            "dicembre",
        ],
        style: DateStyle::DayMonth { of: "" },
    },
    Template {
        language: "nl",
        offline: "Bedankt voor uw bericht. Ons team is op dit moment niet bereikbaar.",
        next: "Iemand van ons team antwoordt vanaf {when} ({zone}).",
        local: "uw tijd",
        faq: "Misschien helpt dit artikel u alvast:",
        weekdays: [
            "maandag",
            "dinsdag",
            "woensdag",
            "donderdag",
            "vrijdag",
            "zaterdag",
            "zondag",
        ],
        months: [
            "januari",
            "februari",
            "maart",
            "april",
            "mei",
            "juni",
            "juli",
            "augustus",
            "september",
            "oktober",
            "november",
            "december",
        ],
        style: DateStyle::DayMonth { of: "" },
    },
    Template {
        language: "ja",
        offline: "お問い合わせいただき、誠にありがとうございます。\
                  申し訳ございませんが、ただいま営業時間外のため、担当者が対応できません。",
        next: "{when}（{zone}）以降、担当者より順次ご連絡いたしますので、\
               今しばらくお待ちくださいますようお願い申し上げます。",
        local: "お客様の現地時間",
        faq: "お待ちいただく間、こちらの記事がお役に立てば幸いです。",
        weekdays: ["月", "火", "水", "木", "金", "土", "日"],
        months: [
            "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12",
        ],
        style: DateStyle::Cjk { weekday_prefix: "" },
    },
    Template {
        language: "zh",
        offline: "非常感谢您的来信。很抱歉，我们的客服团队目前不在服务时间内。",
        next: "我们的工作人员将于{when}（{zone}）起尽快回复您，敬请谅解。",
        local: "您的当地时间",
        faq: "在此期间，以下文章或许能为您提供帮助：",
        weekdays: ["一", "二", "三", "四", "五", "六", "日"],
        months: [
            "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12",
        ],
        style: DateStyle::Cjk {
            weekday_prefix: "周",
        },
    },
    // Traditional characters, for Taiwan, Hong Kong and Macao (`zh-Hant`): the
    // same text, with Taiwan's usage (回覆, 週).
    Template {
        language: "zh-Hant",
        offline: "非常感謝您的來信。很抱歉，我們的客服團隊目前不在服務時間內。",
        next: "我們的工作人員將於{when}（{zone}）起盡快回覆您，敬請見諒。",
        local: "您的當地時間",
        faq: "在此期間，以下文章或許能為您提供幫助：",
        weekdays: ["一", "二", "三", "四", "五", "六", "日"],
        months: [
            "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12",
        ],
        style: DateStyle::Cjk {
            weekday_prefix: "週",
        },
    },
    Template {
        language: "ko",
        offline: "문의해 주셔서 진심으로 감사드립니다. \
                  죄송하지만 지금은 상담 가능 시간이 아닙니다.",
        next: "{when}({zone})부터 담당자가 순서대로 답변드리겠습니다. \
               양해 부탁드립니다.",
        local: "고객님의 현지 시간",
        faq: "기다리시는 동안 아래 도움말이 도움이 되시길 바랍니다.",
        weekdays: ["월", "화", "수", "목", "금", "토", "일"],
        months: [
            "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12",
        ],
        style: DateStyle::Korean,
    },
];

fn template(language: &str) -> &'static Template {
    TEMPLATES
        .iter()
        .find(|t| t.language == language)
        .unwrap_or(&TEMPLATES[0])
}

/// Whether a Chinese language tag asks for Traditional characters: the `Hant`
/// script, or Taiwan, Hong Kong or Macao without the `Hans` script. `zh`, `zh-CN`,
/// `zh-SG`, `zh-Hans` and `zh-Hans-TW` are Simplified.
///
/// ```
/// use schedule::reply::is_traditional_tag;
/// for tag in ["zh-TW", "zh_hk", "zh-MO", "zh-Hant", "zh-Hant-CN", "cmn-TW"] {
///     assert!(is_traditional_tag(tag), "{tag}");
/// }
/// for tag in ["zh", "zh-CN", "zh-SG", "zh-Hans", "zh-Hans-TW", "en-TW"] {
///     assert!(!is_traditional_tag(tag), "{tag}");
/// }
/// ```
pub fn is_traditional_tag(tag: &str) -> bool {
    let subtags: Vec<String> = tag
        .trim()
        .split(['-', '_'])
        .map(str::to_ascii_lowercase)
        .collect();
    let chinese = subtags
        .first()
        .and_then(|base| crossdesk_text::lang::from_code(base))
        == Some("zh");
    chinese
        && !subtags.iter().any(|s| s == "hans")
        && subtags
            .iter()
            .skip(1)
            .any(|s| matches!(s.as_str(), "hant" | "tw" | "hk" | "mo"))
}

/// Characters written differently in the two scripts, frequent in customers'
/// messages: each Traditional one at the same position as its Simplified one.
const TRADITIONAL: &str = "們這說為會來時個對國過還後開關門問題經發號訂單貨錢買賣運費話謝請幫電機換灣體點網帳戶麼沒嗎樣讓處氣東車長間見現應該與從無務聯絡達給寫認識讀價錯壞碼場報詢態";
const SIMPLIFIED: &str = "们这说为会来时个对国过还后开关门问题经发号订单货钱买卖运费话谢请帮电机换湾体点网帐户么没吗样让处气东车长间见现应该与从无务联络达给写认识读价错坏码场报询态";

/// Whether Chinese `text` is written in Traditional characters: more of them
/// than Simplified ones.
///
/// ```
/// assert!(schedule::reply::writes_traditional("我的訂單還沒到，請問什麼時候會寄出？"));
/// assert!(!schedule::reply::writes_traditional("我的订单还没到，请问什么时候会寄出？"));
/// ```
pub fn writes_traditional(text: &str) -> bool {
    let traditional = text.chars().filter(|c| TRADITIONAL.contains(*c)).count();
    let simplified = text.chars().filter(|c| SIMPLIFIED.contains(*c)).count();
    traditional > simplified
}

/// The language the reply is written in: `language` (a code or a tag: `es`,
/// `pt-BR`, `zh-TW`) when a template exists, `zh-Hant` for Chinese in
/// Traditional characters ([`is_traditional_tag`]), else English.
///
/// ```
/// use schedule::reply::reply_language;
/// assert_eq!(reply_language(Some("zh-TW")), "zh-Hant");
/// assert_eq!(reply_language(Some("zh-CN")), "zh");
/// assert_eq!(reply_language(Some("pt-BR")), "pt");
/// assert_eq!(reply_language(Some("sw")), "en");
/// ```
pub fn reply_language(language: Option<&str>) -> &'static str {
    let tag = language.unwrap_or("en");
    if is_traditional_tag(tag) {
        return template("zh-Hant").language;
    }
    template(crossdesk_text::lang::from_code(tag).unwrap_or(tag)).language
}

/// `when` as the customer's language writes a date and time.
pub fn format_when(language: &str, when: &Zoned) -> String {
    let t = template(language);
    let weekday = t.weekdays[usize::from(when.weekday().to_monday_zero_offset().unsigned_abs())];
    let month = t.months[usize::from(when.month().unsigned_abs()).saturating_sub(1)];
    let (day, hour, minute) = (when.day(), when.hour(), when.minute());
    match t.style {
        DateStyle::English => {
            let (h12, half) = match hour {
                0 => (12, "AM"),
                1..=11 => (hour, "AM"),
                12 => (12, "PM"),
                _ => (hour - 12, "PM"),
            };
            format!("{weekday}, {month} {day} at {h12}:{minute:02} {half}")
        }
        DateStyle::DayMonth { of } => {
            format!("{weekday} {day} {of}{month}, {hour:02}:{minute:02}")
        }
        DateStyle::German => format!("{weekday}, {day}. {month}, {hour:02}:{minute:02} Uhr"),
        DateStyle::Cjk { weekday_prefix } => {
            format!("{month}月{day}日（{weekday_prefix}{weekday}）{hour}:{minute:02}")
        }
        DateStyle::Korean => format!("{month}월 {day}일 ({weekday}) {hour}:{minute:02}"),
    }
}

/// The whole auto-reply. `next` is `None` when nobody is scheduled at all in the
/// coming week; the reply then only promises an answer.
pub fn after_hours_reply(
    language: Option<&str>,
    next: Option<&Zoned>,
    faq: Option<&FaqAnswer>,
) -> String {
    let t = template(reply_language(language));
    let mut reply = t.offline.to_owned();
    if let Some(next) = next {
        reply.push('\n');
        // A zone the customer did not give (nor their country's one) is UTC,
        // and said so: not passed off as their own time.
        let zone = match next.time_zone().iana_name() {
            Some("UTC") => "UTC",
            _ => t.local,
        };
        reply.push_str(
            &t.next
                .replace("{when}", &format_when(t.language, next))
                .replace("{zone}", zone),
        );
    }
    if let Some(faq) = faq {
        let title = plain(&faq.title);
        let body = excerpt(&plain(&faq.body), MAX_FAQ_CHARS);
        reply.push_str(&format!("\n\n{}\n{title}\n{body}", t.faq));
    }
    reply
}

/// An article's text as a chat shows it: an HTML body (a help center's
/// article) read as its reader would, not its tags. An article may start with
/// text or an inline tag: one that closes a tag or breaks a line is HTML too.
fn plain(text: &str) -> String {
    if crossdesk_text::html::is_html(text) || text.contains("</") || text.contains("<br") {
        crossdesk_text::html::to_text(text)
    } else {
        text.trim().to_owned()
    }
}

/// The first `max` characters of `text`, cut after a word (where the text has
/// spaces) and marked with `…` when anything was left out.
///
/// ```
/// use schedule::reply::excerpt;
/// assert_eq!(excerpt("Send it back within 30 days.", 20), "Send it back within…");
/// assert_eq!(excerpt("Send it back within 30 days.", 22), "Send it back within 30…");
/// assert_eq!(excerpt("短い", 20), "短い");
/// ```
pub fn excerpt(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let cut: String = text.chars().take(max).collect();
    // Where a word ends right at the cut, it stays; else back to the last
    // space, unless that leaves too little (a script written without spaces,
    // or one very long word).
    let word_ends = text.chars().nth(max).is_some_and(char::is_whitespace);
    let head = match cut.rfind(char::is_whitespace) {
        _ if word_ends => cut.as_str(),
        Some(at) if cut[..at].chars().count() >= max / 2 => &cut[..at],
        _ => cut.as_str(),
    };
    format!("{}…", head.trim_end())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str, zone: &str) -> Zoned {
        let ts: jiff::Timestamp = text.parse().expect("timestamp");
        ts.to_zoned(jiff::tz::TimeZone::get(zone).expect("zone"))
    }

    #[test]
    fn dates_are_written_the_way_each_language_writes_them() {
        let tokyo = at("2026-12-02T00:00Z", "Asia/Tokyo"); // Wed 09:00 JST
        assert_eq!(format_when("ja", &tokyo), "12月2日（水）9:00");
        assert_eq!(format_when("zh", &tokyo), "12月2日（周三）9:00");
        assert_eq!(format_when("ko", &tokyo), "12월 2일 (수) 9:00");
        let madrid = at("2026-12-01T08:30Z", "Europe/Madrid"); // Tue 09:30 CET
        assert_eq!(format_when("es", &madrid), "martes 1 de diciembre, 09:30");
        assert_eq!(
            format_when("de", &madrid),
            "Dienstag, 1. Dezember, 09:30 Uhr"
        );
        assert_eq!(format_when("fr", &madrid), "mardi 1 décembre, 09:30");
        let ny = at("2026-12-01T22:05Z", "America/New_York"); // Tue 17:05 EST
        assert_eq!(format_when("en", &ny), "Tuesday, December 1 at 5:05 PM");
        assert_eq!(format_when("xx", &ny), "Tuesday, December 1 at 5:05 PM");
    }

    #[test]
    fn traditional_chinese_is_written_in_traditional_characters_only() {
        let t = template(reply_language(Some("zh-Hant")));
        assert_eq!(t.language, "zh-Hant");
        for text in [t.offline, t.next, t.local, t.faq] {
            assert!(!text.chars().any(|c| SIMPLIFIED.contains(c)), "{text}");
        }
        let tokyo = at("2026-12-02T00:00Z", "Asia/Taipei"); // Wed 08:00
        assert_eq!(format_when("zh-Hant", &tokyo), "12月2日（週三）8:00");
        let reply = after_hours_reply(Some("zh-HK"), Some(&tokyo), None);
        assert!(reply.contains("回覆您"), "{reply}");
        let simplified = after_hours_reply(Some("zh-Hans-TW"), Some(&tokyo), None);
        assert!(simplified.contains("回复您"), "{simplified}");
    }

    #[test]
    fn the_reply_falls_back_to_english_and_quotes_the_article() {
        let when = at("2026-12-02T00:00Z", "Asia/Tokyo");
        let faq = FaqAnswer {
            title: "Returns".into(),
            body: "x".repeat(MAX_FAQ_CHARS + 5),
        };
        let reply = after_hours_reply(Some("sw"), Some(&when), Some(&faq));
        assert!(reply.starts_with("Thank you for your message."), "{reply}");
        assert!(
            reply.contains("Wednesday, December 2 at 9:00 AM"),
            "{reply}"
        );
        assert!(reply.contains("Returns\n"), "{reply}");
        assert!(reply.ends_with('…'), "{reply}");
        let ja = after_hours_reply(Some("ja"), Some(&when), None);
        assert!(ja.contains("誠にありがとうございます"), "{ja}");
        assert!(ja.contains("12月2日（水）9:00"), "{ja}");
        assert_eq!(reply_language(Some("ko")), "ko");
        assert_eq!(reply_language(None), "en");
    }

    /// A help center's article is HTML: the customer reads its text, on WhatsApp
    /// as anywhere, cut after a word.
    #[test]
    fn an_html_article_is_quoted_as_its_text() {
        let when = at("2026-12-02T00:00Z", "Asia/Tokyo");
        let faq = FaqAnswer {
            title: "Returns & refunds".into(),
            body: format!(
                "<h2>How to return</h2>\n<p>Send it back within <b>30&nbsp;days</b>.</p><p>{}</p>",
                "Keep the label. ".repeat(60)
            ),
        };
        let reply = after_hours_reply(Some("en"), Some(&when), Some(&faq));
        assert!(!reply.contains(['<', '>']), "{reply}");
        assert!(reply.contains("\nReturns & refunds\n"), "{reply}");
        assert!(
            reply.contains("How to return\n\nSend it back within 30 days.\n\nKeep the label."),
            "{reply}"
        );
        // 600 characters end inside "Keep the la|bel": the cut is after "the".
        assert!(reply.ends_with(" the…"), "{reply}");
    }

    /// A customer whose zone is unknown is told the time in UTC, named so.
    #[test]
    fn a_time_in_utc_is_not_called_the_customers_own() {
        let known = after_hours_reply(
            Some("en"),
            Some(&at("2026-12-02T00:00Z", "Asia/Tokyo")),
            None,
        );
        assert!(known.contains("9:00 AM (your time)"), "{known}");
        let unknown = after_hours_reply(Some("es"), Some(&at("2026-12-02T08:00Z", "UTC")), None);
        assert!(unknown.contains("08:00 (UTC)"), "{unknown}");
        assert!(!unknown.contains("su hora local"), "{unknown}");
        for template in TEMPLATES {
            assert!(template.next.contains("{zone}"), "{}", template.language);
        }
    }

    /// A company's first answer addresses the customer formally: the tone
    /// plugin's profiles ask for usted (es-MX), Lei and u, and it does not see
    /// auto-replies.
    #[test]
    fn european_replies_address_the_customer_formally() {
        let when = at("2026-12-01T08:30Z", "Europe/Madrid");
        let faq = FaqAnswer {
            title: "t".into(),
            body: "b".into(),
        };
        for (language, formal, informal) in [
            (
                "es",
                ["su mensaje", "le responderá", "su hora", "ayudarle"],
                [" tu ", " te ", "ayudarte"],
            ),
            (
                "it",
                ["Suo messaggio", "Le risponderà", "esserLe", "Le risponderà"],
                ["tuo", " ti ", "esserti"],
            ),
            (
                "nl",
                ["uw bericht", "(uw tijd)", "artikel u ", "uw bericht"],
                [" je ", "jouw", " jij "],
            ),
        ] {
            let reply = after_hours_reply(Some(language), Some(&when), Some(&faq));
            for word in formal {
                assert!(reply.contains(word), "{language}: {word}: {reply}");
            }
            for word in informal {
                assert!(!reply.contains(word), "{language}: {word}: {reply}");
            }
        }
    }
}
