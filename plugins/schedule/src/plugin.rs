//! The component: on each customer message, read the roster from kv, decide
//! where the conversation goes ([`crate::route`]) and, after hours, answer the
//! customer ([`crate::reply`]).
//!
//! Storage (kv, scoped to the tenant and this plugin): `roster` holds the
//! imported roster (JSON). The knowledge base quoted after hours is the one of the
//! plugin named by `faq_from` (default `recommend`), read as `@<plugin>/kb/article/…`
//! — the admin grants that read (`kv_read`); without it the reply has no article.
//!
//! Settings: routing reads `translation_plugin` and `faq_from`; the others are the
//! planning parameters the `plan` command reads (see [`PlanSettings`]).
//!
//! Admins import the roster and run the staffing commands through
//! [`crate::tools`], which this plugin's manifest offers.
//!
//! [`PlanSettings`]: crate::plan::PlanSettings

use crossdesk_sdk::{
    Action, CommandInput, CommandOutput, DatasetEntries, Event, EventKind, Manifest, Plugin,
    PluginError, Routing,
};
use crossdesk_sdk::{clock, kv, log, settings};
use jiff::Timestamp;
use jiff::tz::TimeZone;

use crate::reply::{self, FaqAnswer};
use crate::route::{self, Rule, Situation};
use crate::stored::{SETTING_KEYS, load_roster};

/// The host's event attribute listing the tenant's plugins for this event.
pub const PIPELINE_ATTRIBUTE: &str = "crossdesk.pipeline";
/// Articles read at most when looking for an answer.
const MAX_ARTICLES: usize = 500;
/// Fewer letters than this are not enough to detect a language.
pub const MIN_DETECT_LETTERS: usize = 12;

/// The scheduling plugin.
pub struct Schedule;

impl Schedule {
    /// The plugin's name in its manifest.
    pub const NAME: &str = "schedule";
}

impl Plugin for Schedule {
    fn manifest() -> Manifest {
        let mut manifest = Manifest::new(Schedule::NAME, env!("CARGO_PKG_VERSION"))
            .describe(
                "Routes each conversation to agents on shift who speak the customer's \
                 language (or through translation), answers after hours with the next \
                 shift in the customer's local time, and plans Erlang C staffing",
            )
            .handles(EventKind::CustomerMessage)
            .wants_kv()
            // The answer depends on the time of day.
            .cacheable(false);
        for key in SETTING_KEYS {
            manifest = manifest.reads_setting(*key);
        }
        for dataset in crate::tools::datasets() {
            manifest = manifest.offers_dataset(dataset);
        }
        for command in crate::tools::commands() {
            manifest = manifest.offers_command(command);
        }
        manifest
    }

    fn import_dataset(
        dataset: &str,
        format: &str,
        content: &[u8],
    ) -> Result<DatasetEntries, PluginError> {
        crate::tools::import_dataset(dataset, format, content)
    }

    fn run_command(command: &str, input: CommandInput) -> Result<CommandOutput, PluginError> {
        crate::tools::run_command(command, &input)
    }

    fn handle(event: Event) -> Result<Vec<Action>, PluginError> {
        let roster = load_roster()?.ok_or_else(|| {
            PluginError::new(
                "no roster imported for this tenant (crossdesk admin import-data \
                 --tenant T --plugin schedule --dataset roster FILE)",
            )
        })?;
        let now_ms = if event.occurred_at_ms > 0 {
            event.occurred_at_ms
        } else {
            clock::now_ms()
        };
        let now = Timestamp::from_millisecond(now_ms)
            .map_err(|e| PluginError::new(format!("event time {now_ms} ms: {e}")))?;
        let language = customer_language(&event);
        let translation_plugin =
            settings::get("translation_plugin").unwrap_or_else(|| "translation".into());
        let translation = event
            .attribute(PIPELINE_ATTRIBUTE)
            .is_some_and(|names| names.split(',').any(|n| n == translation_plugin));
        let decision = route::decide(Situation {
            roster: &roster,
            language: language.as_deref(),
            now,
            translation,
            ticket_id: &event.ticket_id,
        });
        let mut actions = vec![
            Action::Route(Routing {
                group: decision.group.clone(),
                agent_id: decision.agent_id.clone(),
                priority: None,
                reason: decision.reason.clone(),
            }),
            Action::AddTags(vec![decision.rule.tag().to_owned()]),
        ];
        if decision.rule == Rule::AfterHours {
            let zone = customer_zone(&event);
            let next = decision.next_start.map(|t| t.to_zoned(zone));
            let faq = settings::get("faq_from")
                .or_else(|| Some("recommend".into()))
                .filter(|source| !source.is_empty())
                .and_then(|source| best_article(&source, &event.text, language.as_deref()));
            let locale = event.customer.as_ref().and_then(|c| c.locale.as_deref());
            let reply_in = reply_tag(locale, language.as_deref(), &event.text);
            actions.push(Action::AutoReply(reply::after_hours_reply(
                reply_in.as_deref(),
                next.as_ref(),
                faq.as_ref(),
            )));
        }
        Ok(actions)
    }
}

/// The customer's language: the locale's, else the one detected in the text.
pub fn customer_language(event: &Event) -> Option<String> {
    let locale = event.customer.as_ref().and_then(|c| c.locale.as_deref());
    language_of(locale, &event.text)
}

/// A conversation's language as the scheduler sees it: the locale's canonical
/// code, else the language detected in a text long enough to tell
/// ([`MIN_DETECT_LETTERS`] letters).
pub fn language_of(locale: Option<&str>, text: &str) -> Option<String> {
    if let Some(code) = locale.and_then(crossdesk_text::lang::from_code) {
        return Some(code.to_owned());
    }
    if crossdesk_text::lang::letter_count(text) < MIN_DETECT_LETTERS {
        return None;
    }
    crossdesk_text::lang::detect(text).map(|d| d.language.to_owned())
}

/// The tag the after-hours reply is written for: the customer's locale when it
/// names their language (it tells Chinese's script: `zh-TW`, `zh-Hant`), else the
/// language — `zh-Hant` when the customer wrote Chinese in Traditional characters.
///
/// ```
/// use schedule::plugin::reply_tag;
/// assert_eq!(reply_tag(Some("zh-TW"), Some("zh"), "").as_deref(), Some("zh-TW"));
/// assert_eq!(reply_tag(None, Some("zh"), "我的訂單還沒到").as_deref(), Some("zh-Hant"));
/// assert_eq!(reply_tag(None, Some("zh"), "我的订单还没到").as_deref(), Some("zh"));
/// assert_eq!(reply_tag(Some("xx"), Some("es"), "").as_deref(), Some("es"));
/// ```
pub fn reply_tag(locale: Option<&str>, language: Option<&str>, text: &str) -> Option<String> {
    let language = language?;
    if let Some(locale) = locale.filter(|l| crossdesk_text::lang::from_code(l) == Some(language)) {
        return Some(locale.trim().to_owned());
    }
    if language == "zh" && reply::writes_traditional(text) {
        return Some("zh-Hant".to_owned());
    }
    Some(language.to_owned())
}

/// The customer's time zone: the event's, else the country's when the country has
/// one zone, else UTC.
pub fn customer_zone(event: &Event) -> TimeZone {
    let customer = event.customer.as_ref();
    customer
        .and_then(|c| c.time_zone.as_deref())
        .and_then(|name| TimeZone::get(name).ok())
        .or_else(|| {
            customer
                .and_then(|c| c.country.as_deref())
                .and_then(zone_of_country)
                .and_then(|name| TimeZone::get(name).ok())
        })
        .unwrap_or(TimeZone::UTC)
}

/// The zone of a country that has only one (ISO 3166-1 alpha-2).
pub fn zone_of_country(country: &str) -> Option<&'static str> {
    const ZONES: &[(&str, &str)] = &[
        ("JP", "Asia/Tokyo"),
        ("KR", "Asia/Seoul"),
        ("CN", "Asia/Shanghai"),
        ("TW", "Asia/Taipei"),
        ("HK", "Asia/Hong_Kong"),
        ("SG", "Asia/Singapore"),
        ("IN", "Asia/Kolkata"),
        ("PH", "Asia/Manila"),
        ("TH", "Asia/Bangkok"),
        ("VN", "Asia/Ho_Chi_Minh"),
        ("DE", "Europe/Berlin"),
        ("FR", "Europe/Paris"),
        ("IT", "Europe/Rome"),
        ("NL", "Europe/Amsterdam"),
        ("BE", "Europe/Brussels"),
        ("CH", "Europe/Zurich"),
        ("AT", "Europe/Vienna"),
        ("GB", "Europe/London"),
        ("IE", "Europe/Dublin"),
        ("PL", "Europe/Warsaw"),
        ("SE", "Europe/Stockholm"),
        ("NO", "Europe/Oslo"),
        ("DK", "Europe/Copenhagen"),
        ("FI", "Europe/Helsinki"),
        ("GR", "Europe/Athens"),
        ("TR", "Europe/Istanbul"),
        ("IL", "Asia/Jerusalem"),
        ("AE", "Asia/Dubai"),
        ("SA", "Asia/Riyadh"),
        ("EG", "Africa/Cairo"),
        ("ZA", "Africa/Johannesburg"),
        ("NG", "Africa/Lagos"),
        ("KE", "Africa/Nairobi"),
        ("AR", "America/Argentina/Buenos_Aires"),
        ("CO", "America/Bogota"),
        ("PE", "America/Lima"),
        ("CL", "America/Santiago"),
        ("NZ", "Pacific/Auckland"),
    ];
    ZONES
        .iter()
        .find(|(code, _)| code.eq_ignore_ascii_case(country.trim()))
        .map(|(_, zone)| *zone)
}

/// The knowledge-base article of plugin `source` that best answers `text`, if the
/// tenant lets this plugin read that plugin's storage and one matches.
fn best_article(source: &str, text: &str, language: Option<&str>) -> Option<FaqAnswer> {
    use crossdesk_text::kb::{self, ARTICLE_PREFIX, Article};
    let prefix = format!("@{source}/{ARTICLE_PREFIX}");
    let keys = match kv::list_keys(&prefix) {
        Ok(keys) => keys,
        Err(e) => {
            log::info(&format!("no knowledge base to quote: {e}"));
            return None;
        }
    };
    let articles: Vec<Article> = keys
        .iter()
        .take(MAX_ARTICLES)
        .filter_map(|key| kv::get(key).ok().flatten())
        .filter_map(|value| serde_json::from_slice(&value).ok())
        .collect();
    // As the recommendation plugin ranks its articles for a customer it knows
    // nothing of: the inquiry's topic is the only bonus.
    let terms = crossdesk_text::text::tokenize(text);
    let topic = crossdesk_text::topic::classify(text);
    let language = language
        .map(str::to_owned)
        .or_else(|| crossdesk_text::text::detect_cjk_language(text).map(str::to_owned));
    let on_topic = |a: &Article| 0.2 * f64::from(u8::from(a.category == topic.name()));
    let mut ranked = kb::rank(&articles, &terms, language.as_deref(), on_topic);
    // Best first, ties by id: the order the recommendation plugin gives.
    let id = |i: usize| articles.get(i).map(|a| a.id.as_str());
    ranked.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then(id(a.index).cmp(&id(b.index)))
    });
    let best = ranked.first()?;
    let article = articles.get(best.index)?;
    Some(FaqAnswer {
        title: article.title.clone(),
        body: article.body.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossdesk_sdk::Customer;
    use crossdesk_sdk::testing::MockHost;

    /// An after-hours message from a customer of `locale`, on a Saturday.
    fn after_hours_reply_for(locale: Option<&str>, text: &str) -> String {
        let roster = crate::Roster::from_json(
            r#"[{"id": "li", "languages": ["zh"], "time_zone": "Asia/Taipei",
                "availability": ["mon-fri 09:00-18:00"]}]"#,
        )
        .expect("roster");
        let _host = MockHost::new().grant_kv().setting("faq_from", "").install();
        kv::put(crate::ROSTER_KEY, roster.to_json().as_bytes()).expect("stored");
        let mut event = Event::new(EventKind::CustomerMessage, text).with_customer(Customer {
            locale: locale.map(str::to_owned),
            time_zone: Some("Asia/Taipei".into()),
            ..Default::default()
        });
        // Saturday 2026-12-05 12:00 UTC.
        event.occurred_at_ms = 1_796_472_000_000;
        let actions = Schedule::handle(event).expect("handled");
        actions
            .into_iter()
            .find_map(|a| match a {
                Action::AutoReply(text) => Some(text),
                _ => None,
            })
            .expect("an after-hours reply")
    }

    #[test]
    fn taiwan_and_hong_kong_customers_are_answered_in_traditional_characters() {
        for locale in [Some("zh-TW"), Some("zh-HK"), Some("zh-Hant"), None] {
            let reply = after_hours_reply_for(locale, "我的訂單還沒到，請問什麼時候會寄出？");
            assert!(
                reply.starts_with("非常感謝您的來信。")
                    && reply.contains("12月7日（週一）9:00（您的當地時間）"),
                "{locale:?}: {reply}"
            );
        }
        for locale in [Some("zh-CN"), Some("zh-Hans"), Some("zh"), None] {
            let reply = after_hours_reply_for(locale, "我的订单还没到，请问什么时候会寄出？");
            assert!(
                reply.starts_with("非常感谢您的来信。")
                    && reply.contains("12月7日（周一）9:00（您的当地时间）"),
                "{locale:?}: {reply}"
            );
        }
    }
}
