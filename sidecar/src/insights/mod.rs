//! Insights: what admins learn from their tenant's traffic — volume, satisfaction,
//! resolution, first-response and resolution times, reopens, sliced by country,
//! language, channel, category and routed group — and the reports built from it.
//!
//! What is recorded, per tenant and ticket (never a message's text):
//! - when the sidecar first saw the ticket (`TICKET_CREATED`, or any earlier event),
//!   the first `AGENT_REPLY_DRAFTED`, the last `TICKET_SOLVED`, the last
//!   `CUSTOMER_MESSAGE` (one after a solve is a reopen), the last
//!   `SATISFACTION_RATED` (attributes `csat.score` and `csat.scale`, default 5;
//!   `good`/`bad` as 1/0 of 1);
//! - the ticket's slice, from its first events that say: the customer's country,
//!   the language ([`crate::history`]'s rule: locale, else a plugin's `lang-xx`
//!   tag), the channel, the category (a plugin's `topic-…` tag, e.g. the
//!   recommend plugin's, or the integrator's `category` attribute) and the group a
//!   plugin routed it to;
//! - translated agent replies (a plugin replaced the draft, the agent's working
//!   language differs from the customer's) and `TRANSLATION_CORRECTED` events
//!   (attributes `source_language`, `target_language`), per language pair and day.
//!
//! Recording leaves the request path at once ([`handoff`]: what a held-up writer
//! cannot take is dropped and said so): a task gathers the facts and writes
//! them every [`FLUSH_EVERY`] (and when the sidecar stops), then rebuilds the
//! *cells* ([`figures`]) of the days they touched, so that a report reads one row
//! per day and slice, not the tickets. A day is rebuilt at most once per
//! `[insights] refresh_secs` (a busy tenant's today is thousands of tickets):
//! reports lag the events by at most that. A ticket counts on the day (UTC) it
//! was first seen. What a crash catches unwritten (at most the last second; while
//! the store is down, what waits for it) is lost, as for the contact history;
//! facts of a tenant deleted meanwhile, on any replica, are dropped
//! ([`crate::store::DataOf`]). The days facts made stale are marked in the store
//! with them: a day a stopped replica did not rebuild is rebuilt by the next to
//! start, or by any replica's sweep ([`SWEEP_EVERY`]).
//!
//! An event's own time places it ([`report_time`]): one from beyond this
//! replica's clock (past [`MAX_CLOCK_AHEAD_S`]) counts as received, and one from
//! before the retention is not recorded — its figures would be deleted anyway, and
//! it would move a live ticket onto a day the purge deletes with it.

pub mod api;
pub mod categories;
pub mod chart;
pub mod figures;
pub mod hours;
pub mod regions;
pub mod report;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use crate::handoff;
use crate::history::{LANGUAGE_TAG_PREFIX, occurred_at_s, primary_language};
use crate::pb;
use crate::store::{DataOf, Erased, ErasureMarks, Store, StoreError};

/// How far an event's own time may be ahead of this replica's clock (helpdesks'
/// clocks drift); further, the time it was received stands for it.
pub const MAX_CLOCK_AHEAD_S: i64 = 300;

/// How often the facts gathered are written.
pub const FLUSH_EVERY: Duration = Duration::from_secs(1);

/// How often the writer looks for days marked stale in the store that no replica
/// rebuilt (one stopped first, an erasure's rebuild failed), and how much older
/// than `refresh_secs` their mark must be: younger ones are for the replica that
/// marked them. A starting writer takes every mark.
pub const SWEEP_EVERY: Duration = Duration::from_secs(60);

/// Most stale days one sweep takes.
const SWEEP_LIMIT: usize = 10_000;

/// The tag prefix of an inquiry category (`topic-shipping`).
pub const CATEGORY_TAG_PREFIX: &str = "topic-";

/// Seconds in a day: a report's days are UTC days.
pub const DAY_SECS: i64 = 86_400;

/// The day (since the Unix epoch) of a time in seconds.
pub fn day_of(seconds: i64) -> i64 {
    seconds.div_euclid(DAY_SECS)
}

/// What a tenant sets for its reports.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TenantRules {
    pub categories: Vec<categories::CategoryRule>,
    pub business_hours: Option<hours::BusinessHours>,
}

/// What one event says about its ticket.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TicketFacts {
    pub ticket: String,
    pub customer: String,
    /// When the event happened.
    pub seen_s: i64,
    pub replied_s: Option<i64>,
    /// Whether that reply came outside the tenant's business hours (when it set
    /// them).
    pub replied_after_hours: Option<bool>,
    pub solved_s: Option<i64>,
    pub customer_s: Option<i64>,
    /// A rating, as a share of its scale.
    pub rating: Option<f64>,
    pub slice: figures::Slice,
    /// When the replica that gathered them received their event (the store's
    /// clock, `Store::now_ms`, milliseconds since the epoch; 0 when unknown): facts of a customer or
    /// ticket erased at or after that time, or after the event happened, are
    /// not written (see `Store::erase_customer`).
    pub gathered_ms: i64,
}

/// How the store's erasure marks name a tenant's customer or ticket (see
/// `Store::erase_customer`): a digest keyed with the master key, so that no
/// reader of the database finds an erased id by hashing guesses.
pub fn erasure_mark(key: &crate::secrets::MasterKey, tenant: &str, erased: Erased<'_>) -> String {
    let (purpose, id) = match erased {
        Erased::Customer(id) => ("insights.erasure.customer", id),
        Erased::Ticket(id) => ("insights.erasure.ticket", id),
    };
    hex::encode(key.digest(purpose, &format!("{tenant}\0{id}")))
}

/// One translated reply or one correction, for a language pair.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TranslationFact {
    pub day: i64,
    pub source: String,
    pub target: String,
    pub translated: u64,
    pub corrected: u64,
}

/// What the recorder sends its writer.
enum Fact {
    Ticket(Arc<DataOf>, TicketFacts),
    Translation(Arc<DataOf>, TranslationFact),
    /// Write what is pending now, then answer.
    Flush(tokio::sync::oneshot::Sender<()>),
}

/// Facts kept for the next flush while the store does not take them; past this,
/// the oldest go (with a warning), so that an outage does not grow memory
/// without bound.
const MAX_PENDING_FACTS: usize = 100_000;

/// Records events for the reports.
pub struct Insights {
    facts: handoff::Sender<Fact>,
    retention_days: u32,
}

impl Insights {
    /// Starts the writer task on the current tokio runtime, as `settings` say;
    /// `marks` where customers can be erased.
    pub fn new(
        store: Store,
        settings: &crate::config::InsightSettings,
        marks: Option<ErasureMarks>,
    ) -> Insights {
        let (facts, received) = handoff::channel(handoff::CAPACITY);
        let refresh = Duration::from_secs(settings.refresh_secs);
        tokio::spawn(write_facts(store.clone(), received, refresh, marks));
        tokio::spawn(purge_daily(store, settings.retention_days));
        Insights {
            facts,
            retention_days: settings.retention_days,
        }
    }

    /// Records one event (handled for the first time) of the tenant `of`,
    /// received at `received_ms` (the store's clock), with the plugins'
    /// actions; the tenant's own rules name the category nothing else did and
    /// tell replies after hours.
    pub fn record(
        &self,
        of: &Arc<DataOf>,
        (event, received_ms): (&pb::Event, i64),
        actions: &[pb::Action],
        own: &TenantRules,
    ) {
        let received_s = received_ms.div_euclid(1_000);
        let Some(at) = report_time(occurred_at_s(event), received_s, self.retention_days) else {
            return;
        };
        if let Some(mut facts) = ticket_facts(event, at, actions) {
            // The customer's words (an agent's reply may name any topic).
            let customers_words = matches!(
                event.kind(),
                pb::EventKind::CustomerMessage | pb::EventKind::TicketCreated
            );
            if facts.slice.category.is_empty() && customers_words && !event.text.is_empty() {
                let language = facts.slice.language.clone();
                if let Some(category) =
                    categories::categorize(&own.categories, &language, &event.text)
                {
                    facts.slice.category = category;
                }
            }
            if let (Some(replied), Some(hours)) = (facts.replied_s, &own.business_hours) {
                facts.replied_after_hours = hours.is_open(replied).map(|open| !open);
            }
            facts.gathered_ms = received_ms;
            self.facts.offer(Fact::Ticket(of.clone(), facts));
        }
        if let Some(fact) = translation_fact(event, at, actions) {
            self.facts.offer(Fact::Translation(of.clone(), fact));
        }
    }

    /// Writes the facts recorded so far, waiting at most `wait`: false when they
    /// were not all written by then (the store is down, or slow).
    pub async fn flush(&self, wait: Duration) -> bool {
        let (done, written) = tokio::sync::oneshot::channel();
        let flushed = async { self.facts.send(Fact::Flush(done)).await && written.await.is_ok() };
        matches!(tokio::time::timeout(wait, flushed).await, Ok(true))
    }
}

fn tags(actions: &[pb::Action]) -> impl Iterator<Item = &str> {
    actions
        .iter()
        .flat_map(|action| match &action.kind {
            Some(pb::action::Kind::AddTags(tags)) => tags.tags.as_slice(),
            _ => &[],
        })
        .map(String::as_str)
}

/// A category name: lower-case letters, digits, `-` and `_`, at most 64.
pub(crate) fn category_name(text: &str) -> Option<String> {
    let name = text.trim().to_ascii_lowercase();
    (!name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_')))
    .then_some(name)
}

/// When an event that says it happened at `occurred_s` counts for the reports,
/// received at `received_s`: no later than received (beyond a clock's drift,
/// [`MAX_CLOCK_AHEAD_S`]); `None` on a day the retention purges.
pub fn report_time(occurred_s: i64, received_s: i64, retention_days: u32) -> Option<i64> {
    let at = if occurred_s > received_s.saturating_add(MAX_CLOCK_AHEAD_S) {
        received_s
    } else {
        occurred_s
    };
    let first_kept_day = day_of(received_s).saturating_sub(i64::from(retention_days));
    (day_of(at) >= first_kept_day).then_some(at)
}

/// What an event that happened at `at` says about its ticket; `None` for events
/// about no ticket.
pub fn ticket_facts(event: &pb::Event, at: i64, actions: &[pb::Action]) -> Option<TicketFacts> {
    use pb::EventKind as K;
    let kind = event.kind();
    if event.ticket_id.is_empty()
        || !matches!(
            kind,
            K::TicketCreated
                | K::CustomerMessage
                | K::AgentReplyDrafted
                | K::TicketSolved
                | K::SatisfactionRated
        )
    {
        return None;
    }
    let customer = event.customer.as_ref();
    let locale_language = customer.and_then(|c| primary_language(&c.locale));
    let tagged_language = tags(actions)
        .find_map(|t| t.strip_prefix(LANGUAGE_TAG_PREFIX))
        .and_then(primary_language);
    let category = tags(actions)
        .find_map(|t| t.strip_prefix(CATEGORY_TAG_PREFIX))
        .and_then(category_name)
        .or_else(|| {
            event
                .attributes
                .get("category")
                .and_then(|c| category_name(c))
        });
    let group = actions.iter().find_map(|action| match &action.kind {
        // A plugin's words: no control character (PostgreSQL refuses a NUL,
        // which would hold back the tenant's whole batch of facts).
        Some(pb::action::Kind::Route(route)) if !route.group.is_empty() => Some(
            route
                .group
                .chars()
                .filter(|c| !c.is_control())
                .take(64)
                .collect(),
        ),
        _ => None,
    });
    let country = customer
        .map(|c| c.country.trim().to_ascii_uppercase())
        .filter(|c| c.len() == 2 && c.chars().all(|ch| ch.is_ascii_alphabetic()));
    Some(TicketFacts {
        ticket: event.ticket_id.clone(),
        customer: customer.map(|c| c.id.clone()).unwrap_or_default(),
        seen_s: at,
        replied_s: (kind == K::AgentReplyDrafted).then_some(at),
        replied_after_hours: None,
        solved_s: (kind == K::TicketSolved).then_some(at),
        customer_s: (kind == K::CustomerMessage).then_some(at),
        rating: (kind == K::SatisfactionRated)
            .then(|| rating(&event.attributes))
            .flatten(),
        slice: figures::Slice {
            country: country.unwrap_or_default(),
            language: locale_language.or(tagged_language).unwrap_or_default(),
            channel: crossdesk_proto::channel::channel_name(event),
            category: category.unwrap_or_default(),
            group: group.unwrap_or_default(),
        },
        gathered_ms: 0,
    })
}

/// The rating of a `SATISFACTION_RATED` event as a share of its scale:
/// `csat.score` of `csat.scale` (5 unless given), or `good`/`bad`.
pub fn rating(attributes: &std::collections::BTreeMap<String, String>) -> Option<f64> {
    let score = attributes.get("csat.score")?.trim().to_ascii_lowercase();
    match score.as_str() {
        "good" => return Some(1.0),
        "bad" => return Some(0.0),
        _ => {}
    }
    let score: f64 = score.parse().ok()?;
    let scale: f64 = match attributes.get("csat.scale") {
        Some(scale) => scale.trim().parse().ok()?,
        None => 5.0,
    };
    (score.is_finite() && scale.is_finite() && scale > 0.0 && (0.0..=scale).contains(&score))
        .then(|| score / scale)
}

/// A translated agent reply or a correction, at `at`, with its language pair.
fn translation_fact(event: &pb::Event, at: i64, actions: &[pb::Action]) -> Option<TranslationFact> {
    use pb::EventKind as K;
    let day = day_of(at);
    match event.kind() {
        K::TranslationCorrected => {
            let language = |key: &str| event.attributes.get(key).and_then(|l| primary_language(l));
            Some(TranslationFact {
                day,
                source: language("source_language")?,
                target: language("target_language")?,
                translated: 0,
                corrected: 1,
            })
        }
        K::AgentReplyDrafted => {
            let replaced = actions
                .iter()
                .any(|a| matches!(a.kind, Some(pb::action::Kind::ReplaceDraft(_))));
            let source = event
                .agent
                .as_ref()
                .and_then(|a| primary_language(&a.working_language))?;
            let target = event
                .customer
                .as_ref()
                .and_then(|c| primary_language(&c.locale))?;
            (replaced && source != target).then_some(TranslationFact {
                day,
                source,
                target,
                translated: 1,
                corrected: 0,
            })
        }
        _ => None,
    }
}

/// Deletes the figures of days older than the retention, now and once a day.
async fn purge_daily(store: Store, retention_days: u32) {
    let mut every = tokio::time::interval(Duration::from_secs(DAY_SECS.unsigned_abs()));
    loop {
        every.tick().await;
        let today = day_of(crate::store::now_ms().div_euclid(1_000));
        let before = today.saturating_sub(i64::from(retention_days));
        if let Err(e) = store.purge_insights(before).await {
            tracing::warn!("insight figures past their retention not deleted yet: {e}");
        }
    }
}

/// Gathers facts and writes them every [`FLUSH_EVERY`], and once more when the
/// channel closes; rebuilds the days they touched, each at most once per
/// `refresh` (at once when it was not rebuilt within that time), and every stale
/// day when the channel closes. Takes the days marked stale in the store when it
/// starts and every [`SWEEP_EVERY`].
async fn write_facts(
    store: Store,
    mut received: handoff::Receiver<Fact>,
    refresh: Duration,
    marks: Option<ErasureMarks>,
) {
    let mut pending = Vec::new();
    let mut stale = Stale::default();
    let mut tick = tokio::time::interval(FLUSH_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // Its first tick is at once: at the start, every mark.
    let mut sweep = tokio::time::interval(SWEEP_EVERY);
    sweep.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut sweep_age = Duration::ZERO;
    loop {
        let mut asked = None;
        let open = tokio::select! {
            fact = received.recv() => match fact {
                Some(Fact::Flush(done)) => {
                    asked = Some(done);
                    true
                }
                Some(fact) => {
                    pending.push(fact);
                    continue;
                }
                None => false,
            },
            _ = tick.tick() => true,
            _ = sweep.tick() => {
                stale.sweep(&store, sweep_age).await;
                sweep_age = refresh.saturating_add(SWEEP_EVERY);
                true
            }
        };
        let dropped = received.take_dropped();
        if dropped > 0 {
            tracing::warn!(
                dropped,
                "insight facts dropped: the writer was held up by the store"
            );
        }
        for (tenant, days) in flush(&store, &mut pending, marks.as_ref()).await {
            stale
                .days
                .extend(days.into_iter().map(|day| (tenant.clone(), day)));
        }
        if let Some(done) = asked
            && pending.is_empty()
        {
            let _ = done.send(());
        }
        let due = if open { refresh } else { Duration::ZERO };
        stale.rebuild(&store, due).await;
        if !open {
            return;
        }
    }
}

/// Days whose cells are out of date, and when each day was last rebuilt.
#[derive(Default)]
struct Stale {
    days: BTreeSet<(String, i64)>,
    rebuilt: std::collections::HashMap<(String, i64), std::time::Instant>,
}

impl Stale {
    /// Takes the days marked stale in the store at least `age` ago.
    async fn sweep(&mut self, store: &Store, age: Duration) {
        let age_ms = i64::try_from(age.as_millis()).unwrap_or(i64::MAX);
        let marked_before = store.now_ms().saturating_sub(age_ms);
        match store.stale_insight_days(marked_before, SWEEP_LIMIT).await {
            Ok(days) => self.days.extend(days),
            Err(e) => tracing::warn!("days of insight figures to rebuild not read: {e}"),
        }
    }

    /// Rebuilds the stale days not rebuilt within `refresh`.
    async fn rebuild(&mut self, store: &Store, refresh: Duration) {
        let now = std::time::Instant::now();
        self.rebuilt
            .retain(|_, at| now.duration_since(*at) < refresh);
        let due: Vec<(String, i64)> = self
            .days
            .iter()
            .filter(|key| !self.rebuilt.contains_key(*key))
            .cloned()
            .collect();
        for key in due {
            let (tenant, day) = &key;
            match store.rebuild_day(tenant, *day, figures::cells_of).await {
                Ok(()) => {
                    self.days.remove(&key);
                    self.rebuilt.insert(key, now);
                }
                // Stays stale: tried again once `refresh` has passed.
                Err(e) => {
                    tracing::warn!(%tenant, day, "insight figures of a day not rebuilt yet: {e}");
                    self.rebuilt.insert(key, now);
                }
            }
        }
    }
}

/// Writes the pending facts per tenant; returns the days of each tenant they
/// touched. What fails stays pending for the next flush, but for the facts of a
/// tenant deleted since, which go.
async fn flush(
    store: &Store,
    pending: &mut Vec<Fact>,
    marks: Option<&ErasureMarks>,
) -> Vec<(String, BTreeSet<i64>)> {
    let mut tickets: BTreeMap<Arc<DataOf>, Vec<TicketFacts>> = BTreeMap::new();
    let mut translations: BTreeMap<Arc<DataOf>, Vec<TranslationFact>> = BTreeMap::new();
    for fact in pending.drain(..) {
        match fact {
            Fact::Ticket(tenant, facts) => tickets.entry(tenant).or_default().push(facts),
            Fact::Translation(tenant, fact) => translations.entry(tenant).or_default().push(fact),
            Fact::Flush(_) => {}
        }
    }
    let mut touched = Vec::new();
    for (of, facts) in tickets {
        let tenant = &of.tenant;
        match store.record_tickets(&of, facts.clone(), marks).await {
            Ok(days) => touched.push((tenant.clone(), days)),
            Err(StoreError::TenantGone(_)) => {
                tracing::debug!(%tenant, "insights of a deleted tenant dropped");
            }
            Err(e) => {
                tracing::warn!(%tenant, "insights not written yet: {e}");
                pending.extend(facts.into_iter().map(|f| Fact::Ticket(of.clone(), f)));
            }
        }
    }
    for (of, facts) in translations {
        let tenant = &of.tenant;
        match store.add_translations(&of, facts.clone()).await {
            Ok(()) => {}
            Err(StoreError::TenantGone(_)) => {
                tracing::debug!(%tenant, "translation figures of a deleted tenant dropped");
            }
            Err(e) => {
                tracing::warn!(%tenant, "translation figures not written yet: {e}");
                pending.extend(facts.into_iter().map(|f| Fact::Translation(of.clone(), f)));
            }
        }
    }
    if let Some(excess) = pending.len().checked_sub(MAX_PENDING_FACTS)
        && excess > 0
    {
        tracing::warn!(
            dropped = excess,
            "the store has not taken the insight facts for a while: the oldest are dropped"
        );
        pending.drain(..excess);
    }
    touched
}

/// The tenant's report on days `[since_day, until_day)`, sliced `by`. The sums
/// run on a blocking thread (years of cells take long enough to stall a worker's
/// other tasks), holding `slot` until they end.
pub async fn report<Slot: Send + 'static>(
    store: &Store,
    tenant: &str,
    since_day: i64,
    until_day: i64,
    by: Vec<report::Dimension>,
    slot: Slot,
) -> Result<report::Report, crate::store::StoreError> {
    let earliest = report::earliest_day_read(since_day, until_day);
    let cells = store.insight_cells(tenant, since_day, until_day).await?;
    let hours = store.insight_hours(tenant, since_day, until_day).await?;
    let earlier = store.insight_counts(tenant, earliest, since_day).await?;
    let translations = store.translations(tenant, earliest, until_day).await?;
    let build = move || {
        let _slot = slot;
        report::build(
            &cells,
            &hours,
            &earlier,
            &translations,
            since_day,
            until_day,
            &by,
        )
    };
    match tokio::task::spawn_blocking(build).await {
        Ok(report) => Ok(report),
        // A panic goes on as it would have inline; only a runtime shutting down
        // cancels a blocking task.
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A replica's pending facts of a tenant deleted meanwhile (here: never
    /// stored) are dropped, not kept to be tried again at every flush; the
    /// others are written.
    #[tokio::test]
    async fn data_of_a_deleted_tenant_are_dropped_and_the_others_written() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::connect(None, None, dir.path()).await.expect("store");
        let deleted = Arc::new(DataOf {
            tenant: "deleted".into(),
            incarnation: Some("aa".into()),
        });
        let unchecked = Arc::new(DataOf::tenant("from-the-file"));
        let ticket = TicketFacts {
            ticket: "t-1".into(),
            seen_s: 3_600,
            ..TicketFacts::default()
        };
        let translation = TranslationFact {
            day: 0,
            source: "en".into(),
            target: "es".into(),
            translated: 1,
            corrected: 0,
        };
        let mut pending = vec![
            Fact::Ticket(deleted.clone(), ticket.clone()),
            Fact::Translation(deleted, translation),
            Fact::Ticket(unchecked, ticket),
        ];
        let touched = flush(&store, &mut pending, None).await;
        assert!(pending.is_empty(), "{} facts kept", pending.len());
        assert_eq!(touched, [("from-the-file".to_owned(), BTreeSet::from([0]))]);
    }

    #[test]
    fn an_event_counts_when_it_happened_unless_beyond_the_clock_or_the_retention() {
        let received = 100 * DAY_SECS + 7;
        assert_eq!(
            report_time(received - 60, received, 30),
            Some(received - 60)
        );
        // A helpdesk's clock a little ahead: its own time.
        assert_eq!(
            report_time(received + 60, received, 30),
            Some(received + 60)
        );
        // A date from beyond any drift: when received.
        let far = received + 400 * DAY_SECS;
        assert_eq!(report_time(far, received, 30), Some(received));
        // The first day the retention keeps, and the one before it.
        assert_eq!(
            report_time(70 * DAY_SECS, received, 30),
            Some(70 * DAY_SECS)
        );
        assert_eq!(report_time(70 * DAY_SECS - 1, received, 30), None);
    }

    /// An event dated before the retention (a replayed old event, a helpdesk's
    /// bogus date) does not move a live ticket onto a day the purge deletes.
    #[tokio::test]
    async fn an_event_from_before_the_retention_leaves_its_ticket_where_it_was() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::connect(None, None, dir.path()).await.expect("store");
        let settings = crate::config::InsightSettings::default();
        let insights = Insights::new(store.clone(), &settings, None);
        let now_ms = crate::store::now_ms();
        let today = day_of(now_ms.div_euclid(1_000));
        let of = Arc::new(DataOf::tenant("acme"));
        let message = |seconds: i64| pb::Event {
            kind: pb::EventKind::CustomerMessage as i32,
            ticket_id: "t-1".into(),
            occurred_at: Some(prost_types::Timestamp { seconds, nanos: 0 }),
            ..Default::default()
        };
        let rules = TenantRules::default();
        insights.record(
            &of,
            (&message(now_ms.div_euclid(1_000)), now_ms),
            &[],
            &rules,
        );
        // Dated 1970-01-02, then a year past the clock.
        insights.record(&of, (&message(DAY_SECS), now_ms), &[], &rules);
        insights.record(
            &of,
            (&message(now_ms / 1_000 + 365 * DAY_SECS), now_ms),
            &[],
            &rules,
        );
        assert!(insights.flush(Duration::from_secs(10)).await);
        let tickets = |from: i64, to: i64| {
            let store = store.clone();
            async move {
                let cells = store.insight_cells("acme", from, to).await.expect("cells");
                cells.iter().map(|cell| cell.figures.tickets).sum::<u64>()
            }
        };
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        while tickets(today, today + 1).await != 1 {
            assert!(
                std::time::Instant::now() < deadline,
                "today was not rebuilt"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(tickets(0, today).await, 0, "no ticket on an old day");
        assert_eq!(tickets(today + 1, today + 400).await, 0, "none ahead");
    }

    /// A replica wrote facts and stopped before it rebuilt their day: the next
    /// writer to start rebuilds it.
    #[tokio::test]
    async fn a_starting_writer_rebuilds_the_days_left_stale() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::connect(None, None, dir.path()).await.expect("store");
        let today = day_of(crate::store::now_ms().div_euclid(1000));
        let ticket = TicketFacts {
            ticket: "t-1".into(),
            seen_s: today.saturating_mul(DAY_SECS),
            ..TicketFacts::default()
        };
        store
            .record_tickets(&DataOf::tenant("acme"), vec![ticket], None)
            .await
            .expect("record");
        let settings = crate::config::InsightSettings::default();
        let _writer = Insights::new(store.clone(), &settings, None);
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        let cells = loop {
            let cells = store
                .insight_cells("acme", today, today.saturating_add(1))
                .await
                .expect("cells");
            if !cells.is_empty() {
                break cells;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the day was not rebuilt"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        let tickets: u64 = cells.iter().map(|cell| cell.figures.tickets).sum();
        assert_eq!(tickets, 1);
        let marks = store.stale_insight_days(i64::MAX, 10).await.expect("marks");
        assert!(marks.is_empty(), "{marks:?}");
    }

    fn attributes(pairs: &[(&str, &str)]) -> std::collections::BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn translated_replies_and_corrections_are_counted_per_language_pair() {
        let reply = pb::Event {
            kind: pb::EventKind::AgentReplyDrafted as i32,
            agent: Some(pb::Agent {
                id: "a".into(),
                working_language: "zh-CN".into(),
            }),
            customer: Some(pb::Customer {
                locale: "es-MX".into(),
                ..Default::default()
            }),
            occurred_at: Some(prost_types::Timestamp {
                seconds: 86_400 * 3 + 5,
                nanos: 0,
            }),
            ..Default::default()
        };
        let replaced = [pb::Action {
            plugin: "translation".into(),
            kind: Some(pb::action::Kind::ReplaceDraft("hola".into())),
        }];
        let fact =
            translation_fact(&reply, occurred_at_s(&reply), &replaced).expect("a translated reply");
        assert_eq!(
            (
                fact.day,
                fact.source.as_str(),
                fact.target.as_str(),
                fact.translated
            ),
            (3, "zh", "es", 1)
        );
        // Not replaced, or in the customer's own language: not a translation.
        assert_eq!(translation_fact(&reply, 0, &[]), None);
        let same = pb::Event {
            agent: Some(pb::Agent {
                id: "a".into(),
                working_language: "es".into(),
            }),
            ..reply.clone()
        };
        assert_eq!(translation_fact(&same, 0, &replaced), None);
        let correction = pb::Event {
            kind: pb::EventKind::TranslationCorrected as i32,
            attributes: [("source_language", "zh"), ("target_language", "es-MX")]
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
            ..reply
        };
        let fact = translation_fact(&correction, 0, &[]).expect("a correction");
        assert_eq!(
            (fact.source.as_str(), fact.target.as_str(), fact.corrected),
            ("zh", "es", 1)
        );
    }

    #[test]
    fn ratings_are_a_share_of_their_scale() {
        assert_eq!(rating(&attributes(&[("csat.score", "4")])), Some(0.8));
        assert_eq!(
            rating(&attributes(&[("csat.score", "7"), ("csat.scale", "10")])),
            Some(0.7)
        );
        assert_eq!(rating(&attributes(&[("csat.score", "Good")])), Some(1.0));
        for bad in [
            vec![("csat.score", "6")],
            vec![("csat.score", "-1")],
            vec![("csat.score", "4"), ("csat.scale", "0")],
            vec![("csat.score", "NaN")],
            vec![("csat.score", "four")],
            vec![],
        ] {
            assert_eq!(rating(&attributes(&bad)), None, "{bad:?}");
        }
    }

    #[test]
    fn a_ticket_gets_its_slice_from_the_event_and_the_plugins_actions() {
        let event = pb::Event {
            tenant_id: "acme".into(),
            event_id: "e".into(),
            kind: pb::EventKind::CustomerMessage as i32,
            ticket_id: "t-1".into(),
            channel: pb::Channel::Whatsapp as i32,
            customer: Some(pb::Customer {
                id: "c-1".into(),
                country: "mx".into(),
                ..Default::default()
            }),
            occurred_at: Some(prost_types::Timestamp {
                seconds: 1_800_000_000,
                nanos: 0,
            }),
            ..Default::default()
        };
        let actions = [
            pb::Action {
                plugin: "translation".into(),
                kind: Some(pb::action::Kind::AddTags(pb::Tags {
                    tags: vec!["lang-es".into()],
                })),
            },
            pb::Action {
                plugin: "recommend".into(),
                kind: Some(pb::action::Kind::AddTags(pb::Tags {
                    tags: vec!["topic-Shipping".into()],
                })),
            },
            pb::Action {
                plugin: "router".into(),
                kind: Some(pb::action::Kind::Route(pb::Routing {
                    // Control characters are dropped (a NUL would stop the
                    // tenant's facts on PostgreSQL).
                    group: "lat\0am\n".into(),
                    ..Default::default()
                })),
            },
        ];
        let facts = ticket_facts(&event, occurred_at_s(&event), &actions).expect("a ticket");
        assert_eq!(
            facts.slice,
            figures::Slice {
                country: "MX".into(),
                language: "es".into(),
                channel: "whatsapp".into(),
                category: "shipping".into(),
                group: "latam".into(),
            }
        );
        assert_eq!(
            (facts.customer_s, facts.replied_s),
            (Some(1_800_000_000), None)
        );
        let no_ticket = pb::Event {
            ticket_id: String::new(),
            ..event
        };
        assert_eq!(ticket_facts(&no_ticket, 0, &actions), None);
    }
}
