//! The contact history: how many conversations each tenant receives per quarter
//! hour, language and channel, and how long they take to handle. The scheduler
//! forecasts staffing from it (`crossdesk schedule plan`).
//!
//! What counts:
//! - an **arrival** is the first `TICKET_CREATED` or `CUSTOMER_MESSAGE` of a
//!   ticket the sidecar has not seen for [`TICKET_MEMORY`], in whichever order
//!   they come (a conversation reopened after a long silence counts again, as
//!   helpdesks count contacts). Each replica remembers the tickets it saw: a
//!   ticket whose creation and first message go to two replicas counts twice;
//! - a **handled** conversation is a `TICKET_SOLVED` event whose attribute
//!   [`HANDLE_TIME_ATTRIBUTE`] gives the agents' working seconds (helpdesks
//!   report it, e.g. Zendesk's agent work time); without it, or beyond
//!   [`MAX_HANDLE_SECS`], nothing is counted, so unknown handling times do not
//!   pull the average toward zero.
//!
//! The language is the customer's locale, else the language a plugin tagged the
//! event with (`lang-xx`, as the translation plugin does), else the one recorded
//! at the ticket's arrival, else `und`. The host detects nothing itself: whatever
//! plugin a tenant runs, its tag counts. Counting runs after the plugins, once per
//! event id (redeliveries are not counted twice).
//!
//! Counts leave the request path at once: a background task adds them up and
//! writes each tenant's in one transaction every [`FLUSH_EVERY`] (and when the
//! sidecar shuts down), so a burst of new conversations costs the store one write
//! a second, not one each. A failure to write is logged and the counts are kept
//! for the next flush, up to [`MAX_PENDING`] sums (past them, during a long
//! outage, new counts are dropped and said so, as are those [`handoff`] cannot
//! hold while a write is slow); what a crash catches unwritten
//! (at most the last second) is lost, which a statistic can afford. Counts of a
//! tenant deleted meanwhile are dropped ([`DataOf`]). The store keeps the history
//! as long as the reports' days (`[insights] retention_days`).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use moka::future::Cache;
use tokio::sync::oneshot;

use crate::handoff;

use crate::pb;
use crate::store::{CONTACT_BUCKET_SECS, ContactCount, DataOf, MAX_HANDLE_SECS, Store, StoreError};

/// How often the counts gathered are written.
pub const FLUSH_EVERY: Duration = Duration::from_secs(1);

/// How long a ticket is remembered: a customer message on a ticket unseen for
/// longer counts as a new arrival.
pub const TICKET_MEMORY: Duration = Duration::from_secs(4 * 3600);
/// The `TICKET_SOLVED` attribute with the agents' handling time in seconds.
pub const HANDLE_TIME_ATTRIBUTE: &str = "handle_time_seconds";
/// Tickets remembered at once, across tenants.
const MAX_TICKETS: u64 = 1_000_000;
/// Sums waiting to be written, at most (tenant, quarter hour, language and
/// channel each): while the store is away, what comes past them is dropped
/// (and said so) rather than memory growing with the outage.
pub const MAX_PENDING: usize = 100_000;

/// Records events into the store's contact history.
pub struct ContactHistory {
    /// To the writer task; it ends (after a last flush) when this is dropped.
    counts: handoff::Sender<ToWriter>,
    /// (tenant incarnation, ticket) → the ticket's language, for tickets seen
    /// recently. A tenant created again under a deleted one's id knows none of
    /// its predecessor's tickets.
    tickets: Cache<(Arc<DataOf>, String), String>,
}

/// What the writer task is sent.
enum ToWriter {
    Count(Arc<DataOf>, ContactCount),
    /// Write what is pending now; answer whether all of it was written.
    Flush(oneshot::Sender<bool>),
}

impl ContactHistory {
    /// Starts the writer task on the current tokio runtime.
    pub fn new(store: Store) -> ContactHistory {
        let (counts, received) = handoff::channel(handoff::CAPACITY);
        tokio::spawn(write_counts(store, received));
        ContactHistory {
            counts,
            tickets: Cache::builder()
                .max_capacity(MAX_TICKETS)
                .time_to_idle(TICKET_MEMORY)
                .build(),
        }
    }

    /// Counts one event (handled for the first time, with the actions the
    /// plugins answered) in the history of its tenant, `of`.
    pub async fn record(&self, of: &Arc<DataOf>, event: &pb::Event, actions: &[pb::Action]) {
        if let Some(count) = self.count(of, event, actions).await {
            self.counts.offer(ToWriter::Count(of.clone(), count));
        }
    }

    /// Writes the counts recorded so far, waiting at most `wait`: false when
    /// they were not all written by then (the store is down, or slow).
    pub async fn flush(&self, wait: Duration) -> bool {
        let (done, written) = oneshot::channel();
        let flushed =
            async { self.counts.send(ToWriter::Flush(done)).await && written.await == Ok(true) };
        matches!(tokio::time::timeout(wait, flushed).await, Ok(true))
    }

    async fn count(
        &self,
        of: &Arc<DataOf>,
        event: &pb::Event,
        actions: &[pb::Action],
    ) -> Option<ContactCount> {
        use pb::EventKind;
        let kind = event.kind();
        if !matches!(
            kind,
            EventKind::TicketCreated | EventKind::CustomerMessage | EventKind::TicketSolved
        ) || event.ticket_id.is_empty()
        {
            return None;
        }
        let key = (of.clone(), event.ticket_id.clone());
        let known = self.tickets.get(&key).await;
        let language = language_of(event, actions)
            .or_else(|| known.clone())
            .unwrap_or_else(|| "und".to_owned());
        let channel = crossdesk_proto::channel::channel_name(event);
        let mut count = ContactCount {
            // Its quarter hour, as the store keeps it: pending counts are summed
            // per bucket, not per second.
            bucket_start_s: occurred_at_s(event)
                .div_euclid(CONTACT_BUCKET_SECS)
                .saturating_mul(CONTACT_BUCKET_SECS),
            language: language.clone(),
            channel: if channel.is_empty() {
                "unknown".to_owned()
            } else {
                channel
            },
            arrivals: 0,
            handled: 0,
            handle_secs: 0.0,
        };
        match kind {
            EventKind::TicketSolved => {
                self.tickets.invalidate(&key).await;
                let seconds = event
                    .attributes
                    .get(HANDLE_TIME_ATTRIBUTE)
                    .and_then(|v| v.trim().parse::<f64>().ok())
                    .filter(|s| s.is_finite() && *s > 0.0 && *s <= MAX_HANDLE_SECS)?;
                count.handled = 1;
                count.handle_secs = seconds;
            }
            _ => {
                self.tickets.insert(key, language).await;
                // A ticket seen lately arrived already, whichever of its creation
                // and its first message came first.
                if known.is_some() {
                    return None;
                }
                count.arrivals = 1;
            }
        }
        Some(count)
    }
}

/// Counts not written yet, summed per tenant, quarter hour, language and
/// channel, at most [`MAX_PENDING`] sums; `dropped` counts those refused since
/// the last flush.
#[derive(Default)]
struct Pending {
    sums: HashMap<(Arc<DataOf>, i64, String, String), ContactCount>,
    dropped: u64,
}

impl Pending {
    fn add(&mut self, tenant: Arc<DataOf>, count: ContactCount) {
        let key = (
            tenant,
            count.bucket_start_s,
            count.language.clone(),
            count.channel.clone(),
        );
        let full = self.sums.len() >= MAX_PENDING;
        match self.sums.get_mut(&key) {
            Some(sum) => {
                // Counts come from imports: a sum saturates rather than overflows.
                sum.arrivals = sum.arrivals.saturating_add(count.arrivals);
                sum.handled = sum.handled.saturating_add(count.handled);
                sum.handle_secs += count.handle_secs;
            }
            None if full => {
                self.dropped = self.dropped.saturating_add(1);
            }
            None => {
                self.sums.insert(key, count);
            }
        }
    }
}

/// Gathers counts and writes them every [`FLUSH_EVERY`], and once more when the
/// channel closes.
async fn write_counts(store: Store, mut received: handoff::Receiver<ToWriter>) {
    let mut pending = Pending::default();
    let mut tick = tokio::time::interval(FLUSH_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let open = tokio::select! {
            message = received.recv() => match message {
                Some(ToWriter::Count(tenant, count)) => {
                    pending.add(tenant, count);
                    continue;
                }
                Some(ToWriter::Flush(done)) => {
                    pending.dropped = pending.dropped.saturating_add(received.take_dropped());
                    flush(&store, &mut pending).await;
                    let _ = done.send(pending.sums.is_empty());
                    continue;
                }
                None => false,
            },
            _ = tick.tick() => true,
        };
        pending.dropped = pending.dropped.saturating_add(received.take_dropped());
        flush(&store, &mut pending).await;
        if !open {
            return;
        }
    }
}

/// Writes the pending counts, one transaction per tenant; what fails stays
/// pending for the next flush, but for the counts of a tenant deleted since.
async fn flush(store: &Store, pending: &mut Pending) {
    if pending.dropped > 0 {
        tracing::warn!(
            dropped = pending.dropped,
            "contact history: counts dropped, the store holding its writer up"
        );
        pending.dropped = 0;
    }
    let mut by_tenant: HashMap<Arc<DataOf>, Vec<ContactCount>> = HashMap::new();
    for ((of, ..), count) in pending.sums.drain() {
        by_tenant.entry(of).or_default().push(count);
    }
    let mut store_away = false;
    for (of, counts) in by_tenant {
        let tenant = &of.tenant;
        // Once the store failed, the other tenants' counts wait too: trying
        // each against a store that is away would hold the writer (and what it
        // is sent meanwhile) for a timeout per tenant.
        if store_away {
            for count in counts {
                pending.add(of.clone(), count);
            }
            continue;
        }
        match store.add_contacts(&of, counts.clone()).await {
            Ok(()) => {}
            Err(StoreError::TenantGone(_)) => {
                tracing::debug!(%tenant, "contact history of a deleted tenant dropped");
            }
            Err(e) if e.is_for_now() => {
                tracing::warn!(%tenant, "contact history not written yet: {e}");
                store_away = true;
                for count in counts {
                    pending.add(of.clone(), count);
                }
            }
            // Counts the store will never take: kept, they would be tried
            // every second for good.
            Err(e) => tracing::error!(%tenant, "contact history dropped: {e}"),
        }
    }
}

/// The tag prefix plugins mark a conversation's language with (`lang-es`).
pub const LANGUAGE_TAG_PREFIX: &str = "lang-";

/// The conversation's language: the customer's locale (its primary subtag), else
/// the first `lang-xx` tag a plugin added.
fn language_of(event: &pb::Event, actions: &[pb::Action]) -> Option<String> {
    let from_locale = event
        .customer
        .as_ref()
        .and_then(|c| primary_language(&c.locale));
    from_locale.or_else(|| {
        actions.iter().find_map(|action| match &action.kind {
            Some(pb::action::Kind::AddTags(tags)) => tags
                .tags
                .iter()
                .find_map(|t| t.strip_prefix(LANGUAGE_TAG_PREFIX))
                .and_then(primary_language),
            _ => None,
        })
    })
}

/// `es` of `es-MX` (or `es_MX`), lower-cased; `None` unless it is 2–3 ASCII
/// letters (a BCP 47 primary language subtag).
pub(crate) fn primary_language(tag: &str) -> Option<String> {
    let primary = tag.trim().split(['-', '_']).next()?;
    ((2..=3).contains(&primary.len()) && primary.chars().all(|c| c.is_ascii_alphabetic()))
        .then(|| primary.to_ascii_lowercase())
}

/// When the event happened (its own timestamp, else now), in Unix seconds.
pub(crate) fn occurred_at_s(event: &pb::Event) -> i64 {
    event
        .occurred_at
        .as_ref()
        .map(|t| t.seconds)
        .filter(|s| *s > 0)
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// As the insights' writer: a deleted tenant's pending counts are dropped,
    /// not kept to be tried again at every flush; the others are written.
    #[tokio::test]
    async fn counts_of_a_deleted_tenant_are_dropped_and_the_others_written() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::connect(None, None, dir.path()).await.expect("store");
        let count = ContactCount {
            bucket_start_s: 0,
            language: "en".into(),
            channel: "email".into(),
            arrivals: 1,
            handled: 0,
            handle_secs: 0.0,
        };
        let mut pending = Pending::default();
        let deleted = DataOf {
            tenant: "deleted".into(),
            incarnation: Some("aa".into()),
        };
        pending.add(Arc::new(deleted), count.clone());
        pending.add(Arc::new(DataOf::tenant("from-the-file")), count);
        flush(&store, &mut pending).await;
        assert!(
            pending.sums.is_empty(),
            "{} counts kept",
            pending.sums.len()
        );
        let written = store
            .contact_history("from-the-file", i64::MIN, i64::MAX)
            .await
            .expect("history");
        assert_eq!(written.len(), 1);
        let deleted = store
            .contact_history("deleted", i64::MIN, i64::MAX)
            .await
            .expect("history");
        assert!(deleted.is_empty(), "{deleted:?}");
    }

    /// A ticket's first customer message is an arrival, the next ones are not;
    /// under a tenant created again, the same ticket id is a new ticket.
    #[tokio::test]
    async fn a_ticket_is_known_to_its_tenants_incarnation_only() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::connect(None, None, dir.path()).await.expect("store");
        let history = ContactHistory::new(store);
        let of = |incarnation: &str| {
            Arc::new(DataOf {
                tenant: "acme".into(),
                incarnation: Some(incarnation.into()),
            })
        };
        let event = pb::Event {
            kind: pb::EventKind::CustomerMessage.into(),
            ticket_id: "t-1".into(),
            ..message("es")
        };
        let arrivals = |count: Option<ContactCount>| count.map(|c| (c.arrivals, c.language));
        assert_eq!(
            arrivals(history.count(&of("aa"), &event, &[]).await),
            Some((1, "es".to_owned()))
        );
        assert_eq!(arrivals(history.count(&of("aa"), &event, &[]).await), None);
        // Its creation, delivered after its first message, is no second arrival.
        let created = pb::Event {
            kind: pb::EventKind::TicketCreated.into(),
            ..event.clone()
        };
        assert_eq!(
            arrivals(history.count(&of("aa"), &created, &[]).await),
            None
        );
        let unknown_locale = pb::Event {
            kind: pb::EventKind::CustomerMessage.into(),
            ticket_id: "t-1".into(),
            ..message("")
        };
        assert_eq!(
            arrivals(history.count(&of("bb"), &unknown_locale, &[]).await),
            Some((1, "und".to_owned())),
            "a new ticket, of unknown language"
        );
    }

    /// What a stop calls: the counts recorded so far are written at once, not at
    /// the next second's write.
    #[tokio::test]
    async fn a_flush_writes_the_counts_recorded_so_far() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::connect(None, None, dir.path()).await.expect("store");
        let history = ContactHistory::new(store.clone());
        // The writer's first tick, at its start, has passed.
        tokio::task::yield_now().await;
        let event = pb::Event {
            kind: pb::EventKind::CustomerMessage.into(),
            ticket_id: "t-1".into(),
            ..message("es")
        };
        history
            .record(&Arc::new(DataOf::tenant("acme")), &event, &[])
            .await;
        assert!(history.flush(Duration::from_secs(10)).await, "written");
        let written = store
            .contact_history("acme", i64::MIN, i64::MAX)
            .await
            .expect("history");
        assert_eq!(written.iter().map(|c| c.arrivals).sum::<u64>(), 1);
    }

    fn message(locale: &str) -> pb::Event {
        pb::Event {
            customer: Some(pb::Customer {
                id: "c".into(),
                locale: locale.into(),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    fn tags(plugin: &str, tags: &[&str]) -> pb::Action {
        pb::Action {
            plugin: plugin.into(),
            kind: Some(pb::action::Kind::AddTags(pb::Tags {
                tags: tags.iter().map(|t| (*t).to_owned()).collect(),
            })),
        }
    }

    #[test]
    fn the_locale_decides_the_language_first() {
        let actions = [tags("translation", &["lang-de"])];
        assert_eq!(
            language_of(&message("es-MX"), &actions).as_deref(),
            Some("es")
        );
    }

    #[test]
    fn without_a_locale_any_plugins_language_tag_counts() {
        let actions = [
            tags("recommend", &["topic-shipping"]),
            tags("third-party", &["vip", "lang-PT-BR"]),
        ];
        assert_eq!(language_of(&message(""), &actions).as_deref(), Some("pt"));
    }

    #[test]
    fn nothing_known_gives_none_and_malformed_tags_are_ignored() {
        assert_eq!(language_of(&message(""), &[]), None);
        let actions = [tags("x", &["lang-", "lang-1234", "lang-ümlaut"])];
        assert_eq!(language_of(&message("?"), &actions), None);
    }

    /// While the store is away, counts wait summed per quarter hour and no more
    /// than [`MAX_PENDING`] sums: the outage's length does not grow memory.
    #[test]
    fn pending_counts_are_summed_per_quarter_hour_and_bounded() {
        let count = |bucket_start_s: i64, channel: &str| ContactCount {
            bucket_start_s,
            language: "en".into(),
            channel: channel.into(),
            arrivals: 1,
            handled: 0,
            handle_secs: 0.0,
        };
        let tenant = Arc::new(DataOf::tenant("acme"));
        let mut pending = Pending::default();
        for n in 0..(MAX_PENDING + 10) {
            pending.add(tenant.clone(), count(0, &format!("custom-{n}")));
        }
        assert_eq!(pending.sums.len(), MAX_PENDING);
        assert_eq!(pending.dropped, 10);
        // A sum already waiting still counts.
        pending.add(tenant.clone(), count(0, "custom-0"));
        let key = (tenant, 0, "en".to_owned(), "custom-0".to_owned());
        assert_eq!(pending.sums[&key].arrivals, 2);
    }
}
