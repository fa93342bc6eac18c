//! The bridge's queue on both of its backends, the SQLite file and a PostgreSQL
//! database on the run's shared server: the same behaviour, and on PostgreSQL,
//! queues opened separately (as by two bridge replicas) sharing the work.

use std::collections::{BTreeMap, HashSet};

use crossdesk_bridge::queue::{Batch, JobState, Queue, QueueError, QueueSettings};
use crossdesk_bridge::types::{Job, Target};
use crossdesk_integration_tests::postgres::TestPostgres;

/// Where a test's queue lives; [`Backend::open`] opens it again as another
/// process would.
enum Backend {
    Sqlite(tempfile::TempDir),
    Postgres(String),
}

impl Backend {
    fn sqlite() -> Backend {
        Backend::Sqlite(tempfile::tempdir().expect("temp dir"))
    }

    async fn postgres() -> Backend {
        Backend::Postgres(TestPostgres::fresh_database().await)
    }

    async fn open(&self) -> Queue {
        let (settings, dir) = match self {
            Backend::Sqlite(dir) => (QueueSettings::default(), dir.path().to_owned()),
            Backend::Postgres(url) => (
                QueueSettings {
                    url: Some(crossdesk_bridge::SecretString::from(url.clone())),
                    ..QueueSettings::default()
                },
                std::path::PathBuf::from("unused"),
            ),
        };
        Queue::open(&settings, &dir).await.expect("open the queue")
    }

    /// Makes a job waiting for its retry due now, as time would.
    async fn due_now(&self, delivery_key: &str) {
        match self {
            Backend::Sqlite(dir) => {
                let db = rusqlite::Connection::open(dir.path().join("bridge.db")).expect("open");
                db.execute(
                    "UPDATE jobs SET next_at_ms = 0 WHERE delivery_key = ?1",
                    rusqlite::params![delivery_key],
                )
                .expect("due now");
            }
            Backend::Postgres(url) => {
                TestPostgres::client(url)
                    .await
                    .execute(
                        "UPDATE bridge_jobs SET next_at_ms = 0 WHERE delivery_key = $1",
                        &[&delivery_key],
                    )
                    .await
                    .expect("due now");
            }
        }
    }

    /// Writes over a queued job's text, as a hand or another version might.
    async fn spoil(&self, delivery_key: &str, text: &str) {
        match self {
            Backend::Sqlite(dir) => {
                let db = rusqlite::Connection::open(dir.path().join("bridge.db")).expect("open");
                db.execute(
                    "UPDATE jobs SET job = ?2 WHERE delivery_key = ?1",
                    rusqlite::params![delivery_key, text],
                )
                .expect("spoil");
            }
            Backend::Postgres(url) => {
                TestPostgres::client(url)
                    .await
                    .execute(
                        "UPDATE bridge_jobs SET job = $2 WHERE delivery_key = $1",
                        &[&delivery_key, &text],
                    )
                    .await
                    .expect("spoil");
            }
        }
    }
}

macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    super::$name(&super::Backend::sqlite()).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $name() {
                    super::$name(&super::Backend::postgres().await).await;
                }
            )*
        }
    };
}

on_both_backends!(
    a_delivery_key_is_a_redelivery_only_at_the_same_endpoint,
    a_delivery_is_queued_once_and_survives_reopening,
    stats_count_waiting_and_dead_jobs_and_the_oldest_ones_age,
    due_jobs_of_one_ticket_form_one_batch_that_a_retry_keeps,
    a_job_waits_out_its_debounce_delay,
    failures_back_off_then_die_and_replay_revives,
    a_retry_far_in_the_future_neither_panics_nor_blocks_the_queue,
    a_ticket_has_one_worker_at_a_time_and_the_others_go_on,
    a_begun_write_back_holds_its_tickets_later_jobs_until_done_or_dead,
    a_claim_that_ran_out_is_taken_over_with_its_progress_and_fences_its_old_owner,
    many_workers_take_every_job_once_and_each_tickets_in_order,
    finished_jobs_are_purged_after_their_retention_and_dead_ones_kept,
    a_ticket_stays_counted_while_its_batches_go_on,
    an_unreadable_job_goes_to_the_dead_letters_and_the_queue_goes_on,
    a_refused_event_leaves_its_batch_alone,
    a_claim_leaves_the_endpoints_it_is_told_to_skip,
    a_shared_queues_replica_claims_only_its_own_endpoints_jobs,
    dead_letters_are_discarded_a_batch_whole_and_only_they,
);

const LEASE: u64 = 60_000;

fn job(key: &str) -> Job {
    on_ticket(key, "1", false)
}

fn on_ticket(key: &str, ticket: &str, agent_reply: bool) -> Job {
    Job {
        delivery_key: key.into(),
        event_json: "{}".into(),
        target: Target {
            ticket_id: ticket.into(),
            ..Default::default()
        },
        agent_reply,
        ..Job::default()
    }
}

fn keys(batch: &Batch) -> Vec<String> {
    std::iter::once(&batch.lead)
        .chain(&batch.members)
        .map(|j| j.job.delivery_key.clone())
        .collect()
}

/// A replica started before an endpoint was added (its configuration rolling
/// out) leaves that endpoint's jobs to the replicas that have it, on a queue
/// they share; a queue of one process has no one else to leave them to.
async fn a_shared_queues_replica_claims_only_its_own_endpoints_jobs(backend: &Backend) {
    let queue = backend.open().await;
    queue
        .enqueue("new", &on_ticket("n1", "1", false), 0)
        .await
        .expect("enqueue");
    let mine = ["old".to_owned()];
    let claimed = queue
        .claim("w1", LEASE, &[], Some(&mine))
        .await
        .expect("claim");
    match backend {
        Backend::Postgres(_) => {
            assert!(claimed.is_none(), "another replica's endpoint");
            let theirs = ["new".to_owned()];
            let taken = queue
                .claim("w2", LEASE, &[], Some(&theirs))
                .await
                .expect("claim");
            assert_eq!(taken.map(|b| b.lead.endpoint).as_deref(), Some("new"));
        }
        Backend::Sqlite(_) => {
            assert_eq!(claimed.map(|b| b.lead.endpoint).as_deref(), Some("new"));
        }
    }
}

/// A worker leaves the jobs of a helpdesk that asked to wait (or that holds
/// the process's other workers) and takes another's, later though they came.
async fn a_claim_leaves_the_endpoints_it_is_told_to_skip(backend: &Backend) {
    let queue = backend.open().await;
    queue
        .enqueue("zd", &on_ticket("z1", "1", false), 0)
        .await
        .expect("enqueue");
    queue
        .enqueue("cw", &on_ticket("c1", "2", false), 0)
        .await
        .expect("enqueue");
    let skip = ["zd".to_owned()];
    let other = queue.claim("w1", LEASE, &skip, None).await.expect("claim");
    assert_eq!(other.map(|b| b.lead.endpoint).as_deref(), Some("cw"));
    assert!(
        queue
            .claim("w2", LEASE, &skip, None)
            .await
            .expect("claim")
            .is_none(),
        "only the skipped endpoint's job is left"
    );
    let skipped = queue.claim("w2", LEASE, &[], None).await.expect("claim");
    assert_eq!(skipped.map(|b| b.lead.endpoint).as_deref(), Some("zd"));
}

async fn claim(queue: &Queue, owner: &str) -> Option<Batch> {
    queue.claim(owner, LEASE, &[], None).await.expect("claim")
}

async fn an_unreadable_job_goes_to_the_dead_letters_and_the_queue_goes_on(backend: &Backend) {
    let queue = backend.open().await;
    assert!(
        queue
            .enqueue("zd", &on_ticket("bad", "1", false), 0)
            .await
            .expect("a")
    );
    assert!(
        queue
            .enqueue("zd", &on_ticket("member", "1", false), 0)
            .await
            .expect("b")
    );
    assert!(
        queue
            .enqueue("zd", &on_ticket("good", "2", false), 0)
            .await
            .expect("c")
    );
    backend.spoil("bad", "{not json").await;
    backend.spoil("member", "[]").await;
    // The oldest due job cannot be read: it is buried, and claims go on.
    let mut claimed = Vec::new();
    for _ in 0..4 {
        if let Some(batch) = claim(&queue, "w").await {
            claimed.extend(keys(&batch));
        }
    }
    assert_eq!(claimed, ["good"]);
    let dead = queue.list(JobState::Dead).await.expect("dead letters");
    let mut buried: Vec<(&str, bool)> = dead
        .iter()
        .map(|j| {
            let error = j.last_error.as_deref().unwrap_or_default();
            (j.endpoint.as_str(), error.starts_with("unreadable job"))
        })
        .collect();
    buried.sort_unstable();
    assert_eq!(buried, [("zd", true), ("zd", true)], "{dead:?}");

    // A batch's lead that can no longer be read (after a retry) lets its
    // members go on alone.
    for key in ["lead", "follower"] {
        queue
            .enqueue("zd", &on_ticket(key, "3", false), 0)
            .await
            .expect("enqueue");
    }
    let batch = claim(&queue, "w").await.expect("due");
    assert_eq!(keys(&batch), ["lead", "follower"]);
    queue.fail(&batch, "503", Some(0)).await.expect("retry");
    backend.spoil("lead", "{not json").await;
    let mut claimed = Vec::new();
    for _ in 0..3 {
        if let Some(batch) = claim(&queue, "w").await {
            claimed.extend(keys(&batch));
        }
    }
    assert_eq!(claimed, ["follower"]);
}

async fn a_delivery_key_is_a_redelivery_only_at_the_same_endpoint(backend: &Backend) {
    let queue = backend.open().await;
    assert!(queue.enqueue("shop-a", &job("42"), 0).await.expect("a"));
    assert!(
        queue.enqueue("shop-b", &job("42"), 0).await.expect("b"),
        "another helpdesk's delivery 42 is another job"
    );
    assert!(!queue.enqueue("shop-a", &job("42"), 0).await.expect("again"));
}

async fn a_delivery_is_queued_once_and_survives_reopening(backend: &Backend) {
    let queue = backend.open().await;
    assert!(queue.enqueue("zd", &job("k1"), 0).await.expect("enqueue"));
    assert!(!queue.enqueue("zd", &job("k1"), 0).await.expect("again"));
    drop(queue);
    let queue = backend.open().await;
    let batch = claim(&queue, "w").await.expect("one job");
    assert_eq!(batch.lead.job.delivery_key, "k1");
    assert_eq!(batch.lead.state, JobState::Pending);
}

async fn stats_count_waiting_and_dead_jobs_and_the_oldest_ones_age(backend: &Backend) {
    let queue = backend.open().await;
    let now = || {
        i64::try_from(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .expect("clock")
                .as_millis(),
        )
        .expect("ms")
    };
    let empty = queue.stats(now()).await.expect("stats");
    assert_eq!(
        (empty.pending, empty.dead, empty.oldest_pending_ms),
        (0, 0, 0)
    );
    let before = now();
    queue.enqueue("shop", &job("1"), 0).await.expect("1");
    queue
        .enqueue("shop", &on_ticket("2", "2", false), 0)
        .await
        .expect("2");
    let dying = claim(&queue, "w").await.expect("due");
    queue.fail(&dying, "gone", None).await.expect("dead");
    let later = queue.stats(before + 5_000).await.expect("stats");
    assert_eq!((later.pending, later.dead), (1, 1));
    assert!(
        (4_000..=5_000).contains(&later.oldest_pending_ms),
        "{later:?}"
    );
}

async fn due_jobs_of_one_ticket_form_one_batch_that_a_retry_keeps(backend: &Backend) {
    let queue = backend.open().await;
    for (key, ticket, reply) in [
        ("a", "1", false),
        ("b", "2", false),
        ("c", "1", false),
        ("d", "1", true),
        ("e", "1", false),
    ] {
        queue
            .enqueue("zd", &on_ticket(key, ticket, reply), 0)
            .await
            .expect("enqueue");
    }
    let batch = claim(&queue, "w").await.expect("due");
    assert_eq!(
        keys(&batch),
        ["a", "c", "e"],
        "ticket 1, agent replies alone"
    );
    queue.fail(&batch, "503", Some(0)).await.expect("retry");
    // A job of ticket 1 arriving now does not join the batch being retried.
    queue
        .enqueue("zd", &on_ticket("f", "1", false), 0)
        .await
        .expect("enqueue");
    let retried = claim(&queue, "w").await.expect("due");
    assert_eq!(keys(&retried), ["a", "c", "e"]);
    assert_eq!(retried.lead.attempts, 1);
    queue.complete(&retried, false).await.expect("done");
    assert_eq!(queue.list(JobState::Done).await.expect("done").len(), 3);
    let next = claim(&queue, "w").await.expect("due");
    assert_eq!(keys(&next), ["b"]);
}

/// A member the sidecar refuses goes to the dead letters alone and the batch
/// goes on; a refused lead lets its members go, to be claimed on their own.
async fn a_refused_event_leaves_its_batch_alone(backend: &Backend) {
    let queue = backend.open().await;
    for key in ["a", "b", "c"] {
        queue
            .enqueue("zd", &on_ticket(key, "1", false), 0)
            .await
            .expect("enqueue");
    }
    let batch = claim(&queue, "w").await.expect("due");
    assert_eq!(keys(&batch), ["a", "b", "c"]);
    let refused = batch.members[0].id;
    queue
        .refuse(&batch.claim, refused, "sidecar: InvalidArgument")
        .await
        .expect("refuse");
    queue.complete(&batch, false).await.expect("done");
    let dead = queue.list(JobState::Dead).await.expect("dead");
    let dead: Vec<(&str, Option<&str>)> = dead
        .iter()
        .map(|j| (j.job.delivery_key.as_str(), j.last_error.as_deref()))
        .collect();
    assert_eq!(dead, [("b", Some("sidecar: InvalidArgument"))]);
    let mut done: Vec<String> = queue
        .list(JobState::Done)
        .await
        .expect("done")
        .into_iter()
        .map(|j| j.job.delivery_key)
        .collect();
    done.sort();
    assert_eq!(done, ["a", "c"]);

    for key in ["d", "e", "f"] {
        queue
            .enqueue("zd", &on_ticket(key, "2", false), 0)
            .await
            .expect("enqueue");
    }
    let batch = claim(&queue, "w").await.expect("due");
    assert_eq!(keys(&batch), ["d", "e", "f"]);
    for member in &batch.members {
        queue
            .leave_batch(&batch.claim, member.id)
            .await
            .expect("leave");
    }
    queue
        .fail(&batch, "sidecar: InvalidArgument", None)
        .await
        .expect("dead");
    let again = claim(&queue, "w")
        .await
        .expect("the members, due on their own");
    assert_eq!(keys(&again), ["e", "f"]);
}

async fn a_job_waits_out_its_debounce_delay(backend: &Backend) {
    let queue = backend.open().await;
    queue
        .enqueue("zd", &job("k"), 60_000)
        .await
        .expect("enqueue");
    assert!(claim(&queue, "w").await.is_none());
    assert!(queue.next_wait_ms().await.expect("wait").expect("pending") > 50_000);
}

async fn failures_back_off_then_die_and_replay_revives(backend: &Backend) {
    let queue = backend.open().await;
    queue.enqueue("zd", &job("k1"), 0).await.expect("enqueue");
    let batch = claim(&queue, "w").await.expect("job");
    let id = batch.lead.id;
    queue.call_started(&batch.claim, id).await.expect("begun");
    queue.call_done(&batch.claim, id).await.expect("progress");
    queue.fail(&batch, "503", Some(0)).await.expect("retry now");
    let again = claim(&queue, "w").await.expect("due again");
    assert_eq!((again.lead.attempts, again.lead.calls_done), (1, 1));
    queue
        .fail(&again, "429", Some(60_000))
        .await
        .expect("retry later");
    assert!(claim(&queue, "w").await.is_none(), "not due yet");
    assert!(queue.next_wait_ms().await.expect("wait").expect("pending") > 50_000);
    assert!(
        matches!(
            queue.replay(Some(vec![id])).await,
            Err(QueueError::NotDead(ids)) if ids == [id]
        ),
        "not dead"
    );
}

async fn a_retry_far_in_the_future_neither_panics_nor_blocks_the_queue(backend: &Backend) {
    let queue = backend.open().await;
    assert!(queue.enqueue("e", &job("far"), 0).await.expect("enqueue"));
    let batch = claim(&queue, "w").await.expect("job");
    queue
        .fail(&batch, "429", Some(i64::MAX))
        .await
        .expect("recorded, not overflowed");
    assert!(claim(&queue, "w").await.is_none(), "not due for ages");
    // The queue goes on serving.
    assert!(
        queue
            .enqueue("e", &on_ticket("next", "2", false), 0)
            .await
            .expect("enqueue")
    );
    let next = claim(&queue, "w").await.expect("job");
    assert_eq!(next.lead.job.delivery_key, "next");
    // A dead job comes back with its progress when replayed.
    queue
        .call_started(&next.claim, next.lead.id)
        .await
        .expect("begun");
    queue
        .call_done(&next.claim, next.lead.id)
        .await
        .expect("done");
    queue.fail(&next, "gone", None).await.expect("dead");
    let dead = queue.list(JobState::Dead).await.expect("dead");
    assert_eq!(dead.len(), 1);
    assert_eq!((dead[0].attempts, dead[0].calls_done), (1, 1));
    assert_eq!(dead[0].last_error.as_deref(), Some("gone"));
    // An id that is no dead letter (a typo) replays nothing, named with others.
    let typo = dead[0].id.saturating_add(1_000);
    assert!(matches!(
        queue.replay(Some(vec![dead[0].id, typo])).await,
        Err(QueueError::NotDead(ids)) if ids == [typo]
    ));
    assert_eq!(queue.list(JobState::Dead).await.expect("dead").len(), 1);
    assert_eq!(queue.replay(None).await.expect("replay"), 1);
    let again = claim(&queue, "w").await.expect("job");
    assert_eq!((again.lead.attempts, again.lead.calls_done), (0, 1));
}

/// A dead letter that will not be replayed is discarded with its batch,
/// whichever of its jobs is named, and its delivery is still known; a name
/// that is no dead letter discards nothing, and a waiting job is never
/// discarded.
async fn dead_letters_are_discarded_a_batch_whole_and_only_they(backend: &Backend) {
    let queue = backend.open().await;
    for key in ["a", "b"] {
        queue.enqueue("zd", &job(key), 0).await.expect("enqueue");
    }
    let batch = claim(&queue, "w").await.expect("due");
    assert_eq!(keys(&batch), ["a", "b"]);
    queue
        .fail(&batch, "404", None)
        .await
        .expect("dead together");
    queue
        .enqueue("zd", &on_ticket("c", "2", false), 0)
        .await
        .expect("enqueue");
    let lone = claim(&queue, "w").await.expect("due");
    queue.fail(&lone, "404", None).await.expect("dead");
    queue
        .enqueue("zd", &on_ticket("waiting", "3", false), 60_000)
        .await
        .expect("enqueue");
    let dead = |queue: &Queue| {
        let queue = queue.clone();
        async move {
            let dead = queue.list(JobState::Dead).await.expect("dead letters");
            dead.into_iter()
                .map(|j| j.job.delivery_key)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(dead(&queue).await, ["a", "b", "c"]);
    let member = batch.members[0].id;
    let pending = queue.list(JobState::Pending).await.expect("pending")[0].id;
    for named in [vec![member, 9_999], vec![pending]] {
        let refused = queue.discard(Some(named.clone())).await;
        assert!(
            matches!(&refused, Err(QueueError::NotDead(ids)) if *ids == named[named.len() - 1..]),
            "{refused:?}"
        );
    }
    assert_eq!(dead(&queue).await, ["a", "b", "c"], "nothing discarded");
    assert_eq!(queue.discard(Some(vec![member])).await.expect("discard"), 2);
    assert_eq!(dead(&queue).await, ["c"]);
    // Finished, not forgotten: the delivery, sent again, is a duplicate.
    assert!(!queue.enqueue("zd", &job("a"), 0).await.expect("enqueue"));
    assert_eq!(queue.discard(None).await.expect("discard"), 1);
    assert!(dead(&queue).await.is_empty());
    let stats = queue.stats(0).await.expect("stats");
    assert_eq!((stats.pending, stats.dead), (1, 0));
    // Purged with the finished jobs; then a delivery is new again.
    assert_eq!(
        queue
            .purge(i64::MAX, &[("zd", u32::MAX)])
            .await
            .expect("purge"),
        3
    );
    assert!(queue.enqueue("zd", &job("a"), 0).await.expect("enqueue"));
}

async fn a_ticket_has_one_worker_at_a_time_and_the_others_go_on(backend: &Backend) {
    let queue = backend.open().await;
    let other = backend.open().await;
    queue
        .enqueue("zd", &on_ticket("a", "1", false), 0)
        .await
        .expect("a");
    let first = claim(&queue, "w1").await.expect("ticket 1");
    // Arrives while ticket 1 is being written back: it waits for it, and the
    // other worker takes ticket 2.
    queue
        .enqueue("zd", &on_ticket("b", "1", false), 0)
        .await
        .expect("b");
    queue
        .enqueue("zd", &on_ticket("c", "2", false), 0)
        .await
        .expect("c");
    let second = claim(&other, "w2").await.expect("ticket 2");
    assert_eq!(keys(&second), ["c"]);
    assert!(claim(&other, "w2").await.is_none(), "ticket 1 is held");
    // Idle workers wait for the leases, rather than poll for jobs they cannot take.
    let wait = queue.next_wait_ms().await.expect("wait").expect("pending");
    assert!(wait > 10_000, "{wait} ms");
    queue.complete(&first, true).await.expect("done");
    let third = claim(&other, "w2").await.expect("ticket 1 again");
    assert_eq!(keys(&third), ["b"]);
    assert_eq!(
        queue.notes_written("zd", "", "1").await.expect("notes"),
        1,
        "the note of the first batch is counted"
    );
}

async fn a_begun_write_back_holds_its_tickets_later_jobs_until_done_or_dead(backend: &Backend) {
    let queue = backend.open().await;
    let begin = |batch: Batch| {
        let queue = &queue;
        async move {
            queue
                .call_started(&batch.claim, batch.lead.id)
                .await
                .expect("begun");
            queue
                .call_done(&batch.claim, batch.lead.id)
                .await
                .expect("one call done");
            batch
        }
    };
    // Ticket 1's write-back made one call, then failed; it waits to be retried.
    queue
        .enqueue("zd", &on_ticket("a", "1", false), 0)
        .await
        .expect("a");
    let a = begin(claim(&queue, "w").await.expect("a")).await;
    queue
        .fail(&a, "429", Some(60_000))
        .await
        .expect("retry later");
    queue
        .enqueue("zd", &on_ticket("b", "1", false), 0)
        .await
        .expect("b");
    queue
        .enqueue("zd", &on_ticket("c", "2", false), 0)
        .await
        .expect("c");
    assert_eq!(keys(&claim(&queue, "w").await.expect("c")), ["c"]);
    assert!(
        claim(&queue, "w").await.is_none(),
        "b waits for a: finishing first, it would change the notes a's retry counts"
    );
    // A batch that failed before its first call holds nothing.
    queue
        .enqueue("zd", &on_ticket("x", "3", false), 0)
        .await
        .expect("x");
    let x = claim(&queue, "w").await.expect("x");
    queue
        .fail(&x, "unavailable", Some(60_000))
        .await
        .expect("retry later");
    queue
        .enqueue("zd", &on_ticket("y", "3", false), 0)
        .await
        .expect("y");
    assert_eq!(keys(&claim(&queue, "w").await.expect("y")), ["y"]);
    // A begun batch that died lets its ticket go on.
    queue
        .enqueue("zd", &on_ticket("d", "4", false), 0)
        .await
        .expect("d");
    let d = begin(claim(&queue, "w").await.expect("d")).await;
    queue.fail(&d, "gone", None).await.expect("dead");
    queue
        .enqueue("zd", &on_ticket("e", "4", false), 0)
        .await
        .expect("e");
    assert_eq!(keys(&claim(&queue, "w").await.expect("e")), ["e"]);
    // An earlier job that failed before its first call, due again while a later
    // batch of its ticket is begun, waits for that one too.
    queue
        .enqueue("zd", &on_ticket("f", "5", false), 0)
        .await
        .expect("f");
    let f = claim(&queue, "w").await.expect("f");
    queue
        .fail(&f, "unavailable", Some(60_000))
        .await
        .expect("retry later");
    queue
        .enqueue("zd", &on_ticket("g", "5", false), 0)
        .await
        .expect("g");
    let g = begin(claim(&queue, "w").await.expect("g")).await;
    assert_eq!(keys(&g), ["g"]);
    queue
        .fail(&g, "429", Some(60_000))
        .await
        .expect("retry later");
    backend.due_now("f").await;
    assert!(
        claim(&queue, "w").await.is_none(),
        "f waits for g: finishing first, it would change the notes g's retry counts"
    );
    backend.due_now("g").await;
    assert_eq!(keys(&claim(&queue, "w").await.expect("g")), ["g"]);
}

async fn a_claim_that_ran_out_is_taken_over_with_its_progress_and_fences_its_old_owner(
    backend: &Backend,
) {
    let first = backend.open().await;
    let second = backend.open().await;
    first.enqueue("zd", &job("k"), 0).await.expect("enqueue");
    // A lease of 0 ms has run out as soon as it is taken: its owner stalled.
    let stalled = first
        .claim("w1", 0, &[], None)
        .await
        .expect("claim")
        .expect("job");
    let id = stalled.lead.id;
    first
        .set_response(&stalled.claim, id, "{}")
        .await
        .expect("response");
    first.call_started(&stalled.claim, id).await.expect("begun");
    let taken = claim(&second, "w2").await.expect("taken over");
    assert_eq!(taken.lead.id, id);
    assert_eq!(taken.lead.response.as_deref(), Some("{}"));
    assert_eq!(
        (taken.lead.calls_started, taken.lead.calls_done),
        (1, 0),
        "the new owner knows a call was interrupted"
    );
    for refused in [
        first.call_done(&stalled.claim, id).await,
        first.renew(&stalled.claim, LEASE).await,
        first.complete(&stalled, true).await,
        first.fail(&stalled, "late", Some(0)).await,
    ] {
        assert!(
            matches!(refused, Err(QueueError::LeaseLost(_))),
            "{refused:?}"
        );
    }
    second
        .call_done(&taken.claim, id)
        .await
        .expect("the new owner writes");
    second.complete(&taken, true).await.expect("done");
    let done = second.list(JobState::Done).await.expect("done");
    assert_eq!((done.len(), done[0].calls_done), (1, 1));
    assert_eq!(second.notes_written("zd", "", "1").await.expect("notes"), 1);
}

async fn many_workers_take_every_job_once_and_each_tickets_in_order(backend: &Backend) {
    const TICKETS: usize = 6;
    const PER_TICKET: usize = 8;
    let queues = [backend.open().await, backend.open().await];
    for n in 0..PER_TICKET {
        for t in 0..TICKETS {
            // Agents' replies go alone: one batch per job to hand out.
            queues[0]
                .enqueue(
                    "zd",
                    &on_ticket(&format!("{t}-{n}"), &t.to_string(), true),
                    0,
                )
                .await
                .expect("enqueue");
        }
    }
    let written = std::sync::Arc::new(std::sync::Mutex::new(Vec::<(String, usize)>::new()));
    let workers = (0..8).map(|w| {
        let queue = queues[w % 2].clone();
        let written = written.clone();
        tokio::spawn(async move {
            while let Some(batch) = queue
                .claim(&format!("w{w}"), LEASE, &[], None)
                .await
                .expect("claim")
            {
                for job in std::iter::once(&batch.lead).chain(&batch.members) {
                    let (ticket, n) = job.job.delivery_key.split_once('-').expect("key");
                    written
                        .lock()
                        .expect("lock")
                        .push((ticket.to_owned(), n.parse().expect("n")));
                }
                tokio::task::yield_now().await;
                queue.complete(&batch, false).await.expect("complete");
            }
        })
    });
    for worker in workers.collect::<Vec<_>>() {
        worker.await.expect("worker");
    }
    let written = written.lock().expect("lock").clone();
    assert_eq!(
        written.len(),
        TICKETS * PER_TICKET,
        "every job once: {written:?}"
    );
    let unique: HashSet<_> = written.iter().collect();
    assert_eq!(unique.len(), written.len(), "no job twice");
    let mut per_ticket: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (ticket, n) in &written {
        per_ticket.entry(ticket).or_default().push(*n);
    }
    for (ticket, order) in per_ticket {
        assert_eq!(
            order,
            (0..PER_TICKET).collect::<Vec<_>>(),
            "ticket {ticket}"
        );
    }
}

/// A ticket past its share of notes gets none, and stays counted while its
/// batches go on: its count is purged only once none has finished for the
/// retention, or it would get a share of notes again each retention.
async fn a_ticket_stays_counted_while_its_batches_go_on(backend: &Backend) {
    let queue = backend.open().await;
    let now_ms = || {
        let since = std::time::UNIX_EPOCH.elapsed().expect("after 1970");
        i64::try_from(since.as_millis()).expect("in range")
    };
    queue
        .enqueue("zd", &on_ticket("noted", "1", false), 0)
        .await
        .expect("enqueue");
    let noted = claim(&queue, "w").await.expect("1");
    queue
        .complete(&noted, true)
        .await
        .expect("done, with a note");
    // A cut-off after the note, and before the next batch finishes.
    let noted_by = now_ms();
    let cutoff = loop {
        match now_ms() {
            now if now > noted_by => break now,
            _ => std::hint::spin_loop(),
        }
    };
    queue
        .enqueue("zd", &on_ticket("past its share", "1", false), 0)
        .await
        .expect("enqueue");
    let quiet = claim(&queue, "w").await.expect("1 again");
    queue.complete(&quiet, false).await.expect("done, no note");
    queue
        .purge(cutoff, &[("zd", u32::MAX)])
        .await
        .expect("purge");
    assert_eq!(queue.notes_written("zd", "", "1").await.expect("notes"), 1);
}

/// Finished jobs and the note counts of quiet tickets are purged after the
/// retention; dead letters are kept.
async fn finished_jobs_are_purged_after_their_retention_and_dead_ones_kept(backend: &Backend) {
    let queue = backend.open().await;
    for (key, ticket) in [("done", "1"), ("dead", "2"), ("waiting", "3")] {
        queue
            .enqueue("zd", &on_ticket(key, ticket, false), 0)
            .await
            .expect("enqueue");
    }
    let done = claim(&queue, "w").await.expect("1");
    queue
        .complete(&done, true)
        .await
        .expect("done, with a note");
    let dead = claim(&queue, "w").await.expect("2");
    queue.fail(&dead, "gone", None).await.expect("dead");
    let notes = || queue.notes_written("zd", "", "1");
    // Finished within the retention: kept, and the ticket's note count.
    assert_eq!(queue.purge(0, &[("zd", u32::MAX)]).await.expect("purge"), 0);
    assert_eq!(notes().await.expect("notes"), 1);
    assert!(
        !queue
            .enqueue("zd", &on_ticket("done", "1", false), 0)
            .await
            .expect("again")
    );
    // Past it: the finished job goes, and its delivery key with it; the ticket,
    // quiet since, counts its notes from 0 again, unless it had its full share
    // (or its endpoint is another bridge's).
    assert_eq!(queue.purge(i64::MAX, &[("zd", 1)]).await.expect("purge"), 1);
    assert_eq!(notes().await.expect("notes"), 1, "a full share of 1");
    queue.purge(i64::MAX, &[("other", 2)]).await.expect("purge");
    assert_eq!(
        notes().await.expect("notes"),
        1,
        "not this bridge's endpoint"
    );
    queue.purge(i64::MAX, &[("zd", 2)]).await.expect("purge");
    assert_eq!(notes().await.expect("notes"), 0);
    assert!(queue.list(JobState::Done).await.expect("done").is_empty());
    assert_eq!(queue.list(JobState::Dead).await.expect("dead").len(), 1);
    assert_eq!(
        queue.list(JobState::Pending).await.expect("pending").len(),
        1
    );
    assert!(
        queue
            .enqueue("zd", &on_ticket("done", "1", false), 0)
            .await
            .expect("new again")
    );
}
