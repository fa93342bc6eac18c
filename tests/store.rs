//! The store's behaviour through its public API, on both backends: each scenario
//! is written once, against a [`Db`], and runs on SQLite (a temp folder) and on a
//! throwaway PostgreSQL server (`scripts/postgres.sh`). PostgreSQL-only matters
//! (concurrent migrations, schema checks, collations, connection errors) follow.
//! (The SQLite backend has no unit tests of its own: these are they.)

use std::path::Path;

use crossdesk_integration_tests::postgres::TestPostgres;
use crossdesk_sidecar::store::{
    ContactCount, ControlWrite, DataOf, ErasureAudit, ErasureMarks, EventKey, MAX_HANDLE_SECS,
    NewAuditEntry, PluginBlob, PluginRow, ResponseWrite, SecretRow, Store, StoreError, TenantRow,
    WriteOutcome, migrations,
};

/// A database that scenarios open stores on, as many as they like (each `open` is
/// a new connection, like another process's).
pub(crate) enum Db {
    Sqlite(tempfile::TempDir),
    Postgres { url: String },
}

impl Db {
    pub(crate) fn sqlite() -> Db {
        Db::Sqlite(tempfile::tempdir().expect("temp dir"))
    }

    /// A database of its own on the run's shared server.
    pub(crate) async fn postgres() -> Db {
        Db::Postgres {
            url: TestPostgres::fresh_database().await,
        }
    }

    /// Runs `sql` (one statement per backend, `;`-separated) behind the store's back.
    pub(crate) async fn execute(&self, sql: (&str, &str)) {
        match self {
            Db::Sqlite(dir) => rusqlite::Connection::open(dir.path().join("crossdesk.db"))
                .expect("open sqlite")
                .execute_batch(sql.0)
                .expect(sql.0),
            Db::Postgres { url } => TestPostgres::client(url)
                .await
                .batch_execute(sql.1)
                .await
                .expect(sql.1),
        }
    }

    pub(crate) async fn open(&self) -> Store {
        match self {
            Db::Sqlite(dir) => Store::connect(None, None, dir.path())
                .await
                .expect("open sqlite"),
            Db::Postgres { url, .. } => Store::connect(Some(url), None, Path::new("unused"))
                .await
                .expect("connect to postgres"),
        }
    }
}

/// Every scenario, as a test on each backend: `sqlite::NAME` and `postgres::NAME`.
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    super::$name(&super::Db::sqlite()).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $name() {
                    super::$name(&super::Db::postgres().await).await;
                }
            )*
        }
    };
}

pub(crate) use on_both_backends;

/// A trigger that refuses every new audit entry, in SQLite's and PostgreSQL's words.
const REFUSE_AUDIT_ENTRIES: (&str, &str) = (
    "CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_log
     BEGIN SELECT RAISE(ABORT, 'the audit log takes no entry'); END;",
    "CREATE FUNCTION refuse_audit() RETURNS trigger LANGUAGE plpgsql AS
       $$ BEGIN RAISE EXCEPTION 'the audit log takes no entry'; END $$;
     CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_log
       FOR EACH ROW EXECUTE FUNCTION refuse_audit();",
);
const ACCEPT_AUDIT_ENTRIES: (&str, &str) = (
    "DROP TRIGGER refuse_audit;",
    "DROP TRIGGER refuse_audit ON audit_log;",
);

on_both_backends!(
    an_erasure_and_its_audit_entry_are_one,
    an_import_and_its_audit_entry_are_one,
    kv_is_scoped_and_survives_reopen,
    only_real_changes_bump_the_generation,
    tenants_have_revisions_and_conflicts,
    deleting_a_tenant_removes_its_secrets_and_data,
    secrets_are_upserted_and_deleted,
    plugin_blobs_and_versions,
    set_plugin_checks_the_active_version,
    a_plugin_cannot_be_removed_and_attached_at_once,
    audit_log_is_newest_first_with_filter_and_paging,
    control_version_counts_changes_across_connections,
    racing_changes_with_the_same_expectation_let_one_win,
    replacing_a_prefix_swaps_its_keys_in_one_go,
    contact_history_adds_up_per_bucket_and_stays_in_its_tenant,
    counts_neither_store_could_keep_are_refused_alike,
    a_tickets_insight_row_merges_its_events_in_any_order_and_its_day_is_rebuilt,
    a_ticket_moved_to_an_earlier_day_leaves_both_days_to_rebuild,
    a_stale_day_stays_marked_in_the_store_until_it_is_rebuilt,
    an_erasure_whose_rebuild_failed_leaves_its_days_marked,
    facts_gathered_before_a_tenants_deletion_are_not_written_after_it,
    facts_gathered_before_a_customers_erasure_are_not_written_after_it,
    retention_purges_the_days_before_it_and_the_erasure_marks_too,
    plugin_storage_of_a_deleted_tenant_is_not_written,
    leases_that_ended_are_purged,
    a_plugins_storage_is_weighed_by_its_writes,
    writes_past_the_storage_quota_are_refused_whole,
    replicas_writing_at_once_hold_the_quota_exactly,
    a_database_from_before_the_count_is_counted_when_migrated,
    storage_keys_holding_a_nul_character_are_refused,
);

/// On PostgreSQL, the writes of events do not lock their tenant's row: a
/// deletion takes the tenant's data lock exclusively, waits for the writes that
/// hold it shared, then deletes what they wrote; writes that come while it
/// waits or runs are refused at once.
#[tokio::test]
async fn on_postgres_a_deletion_waits_for_the_writes_under_way_and_refuses_later_ones() {
    use crossdesk_integration_tests::postgres::TestPostgres;
    use crossdesk_sidecar::store::TENANT_DATA_LOCK;
    let url = TestPostgres::fresh_database().await;
    let store = Db::Postgres { url: url.clone() }.open().await;
    let of = DataOf {
        tenant: "t1".into(),
        incarnation: Some("aa".into()),
    };
    create_tenant(&store, "t1", "aa").await;
    let waiting_for_the_lock = async |client: &tokio_postgres::Client| {
        let since = std::time::Instant::now();
        loop {
            let waiting: i64 = client
                .query_one(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted
                     AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
                    &[],
                )
                .await
                .expect("pg_locks")
                .get(0);
            if waiting > 0 {
                return;
            }
            assert!(since.elapsed() < std::time::Duration::from_secs(30));
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    };
    // A write under way: it holds the data lock shared, as the store's do.
    let writer = TestPostgres::client(&url).await;
    writer
        .batch_execute(&format!(
            "BEGIN; SELECT pg_try_advisory_xact_lock_shared({TENANT_DATA_LOCK}, hashtext('t1'))"
        ))
        .await
        .expect("a write begins");
    let deletion = tokio::spawn({
        let store = store.clone();
        async move {
            store
                .apply(
                    vec![ControlWrite::DeleteTenant {
                        id: "t1".into(),
                        expected: 1,
                    }],
                    audit("tenant.delete", Some("t1")),
                )
                .await
        }
    });
    let observer = TestPostgres::client(&url).await;
    waiting_for_the_lock(&observer).await;
    assert!(!deletion.is_finished(), "the deletion waits for the write");
    // Writes that come now are refused, and wait for nothing.
    let later = tokio::time::timeout(std::time::Duration::from_secs(30), async {
        (
            store.kv_put(&of, "p", "later", b"v".to_vec()).await,
            store
                .write_responses(
                    vec![ResponseWrite::Claim {
                        key: EventKey {
                            of: std::sync::Arc::new(of.clone()),
                            event_id: "e-1".into(),
                        },
                        event_hash: vec![1; 32],
                        owner: "A".into(),
                        lease_until_ms: i64::MAX,
                    }],
                    0,
                )
                .await,
        )
    })
    .await
    .expect("the later writes did not wait");
    assert!(
        matches!(later.0, Err(StoreError::TenantGone(_))),
        "{later:?}"
    );
    assert_eq!(
        later.1.expect("the batch is written"),
        [WriteOutcome::TenantGone]
    );
    // The write under way ends; the deletion then deletes what it wrote.
    writer
        .batch_execute(
            "INSERT INTO plugin_kv (tenant, plugin, key, value) VALUES ('t1', 'p', 'k', 'v');
             COMMIT",
        )
        .await
        .expect("the write commits");
    deletion.await.expect("joined").expect("deleted");
    assert!(store.kv_scan("t1", "p", "").await.expect("scan").is_empty());
}

/// A replica that dies holding a customer's lease leaves it behind: it ends on
/// its own, and the purge removes it (it names the customer).
async fn leases_that_ended_are_purged(db: &Db) {
    let store = db.open().await;
    for (customer, until_ms) in [("c-1", 1_000), ("c-2", 5_000)] {
        assert!(
            store
                .acquire_lease("t", customer, "a dead replica", 0, until_ms)
                .await
                .expect("acquire")
        );
    }
    assert_eq!(store.purge_leases(1_000).await.expect("purge"), 0, "live");
    assert_eq!(store.purge_leases(1_001).await.expect("purge"), 1, "c-1's");
    assert!(
        !store
            .acquire_lease("t", "c-2", "another", 1_001, 9_000)
            .await
            .expect("acquire"),
        "c-2's is still live"
    );
    assert_eq!(store.purge_leases(5_001).await.expect("purge"), 1, "c-2's");
    assert!(
        store
            .acquire_lease("t", "c-2", "another", 5_001, 9_000)
            .await
            .expect("acquire")
    );
}

/// A replica runs a tenant's events until it sees the tenant's deletion, and an
/// admin's import or command may be under way: what they write to the plugin
/// storage afterwards would outlive the tenant and reach one created again
/// under its id, and their audit entry would show in that one's history.
async fn plugin_storage_of_a_deleted_tenant_is_not_written(db: &Db) {
    let store = db.open().await;
    let store = &store;
    let of = |incarnation: &str| DataOf {
        tenant: "t1".into(),
        incarnation: Some(incarnation.into()),
    };
    // Each kind of write of the plugin storage, under `of`.
    let write_all = move |of: DataOf| async move {
        let one = |key: &str| vec![(key.to_owned(), b"v".to_vec())];
        [
            store.kv_put(&of, "p", "a", b"v".to_vec()).await,
            store.kv_put_many(&of, "p", one("b")).await.map(drop),
            store
                .kv_replace_prefix(&of, "p", "c/", one("c/1"), None)
                .await
                .map(drop),
            store
                .kv_compare_and_swap(&of, "p", "d", None, Some(b"v".to_vec()))
                .await
                .map(drop),
            store.kv_delete(&of, "p", "d").await,
        ]
    };
    let gone = |answers: [Result<(), StoreError>; 5]| {
        answers
            .iter()
            .all(|a| matches!(a, Err(StoreError::TenantGone(t)) if t == "t1"))
    };
    let stored = move || async move { store.kv_scan("t1", "p", "").await.expect("scan") };
    let command_audited = move |of: DataOf| async move {
        store
            .record_audit(&of, audit("plugin.command", Some("t1")))
            .await
    };
    let entries = move || async move { store.audit_log(None, None, 100).await.expect("log").len() };
    create_tenant(store, "t1", "aa").await;
    assert!(gone(write_all(of("bb")).await), "another incarnation's");
    assert!(stored().await.is_empty());
    assert!(write_all(of("aa")).await.iter().all(Result::is_ok));
    assert_eq!(stored().await.len(), 3, "a, b and c/1");
    let version = store.control_version().await.expect("version");
    command_audited(of("aa")).await.expect("the tenant's own");
    assert_eq!(
        store.control_version().await.expect("version"),
        version,
        "a command changes nothing replicas load"
    );
    delete_tenant(store, "t1").await;
    let logged = entries().await;
    assert!(gone(write_all(of("aa")).await), "after the deletion");
    assert!(matches!(
        command_audited(of("aa")).await,
        Err(StoreError::TenantGone(_))
    ));
    assert_eq!(entries().await, logged, "no entry of the gone tenant");
    create_tenant(store, "t1", "cc").await;
    assert!(gone(write_all(of("aa")).await), "the old tenant's");
    assert!(stored().await.is_empty(), "{:?}", stored().await);
    assert!(write_all(of("cc")).await.iter().all(Result::is_ok));
    assert_eq!(stored().await.len(), 3);
    // Tenants of the configuration file alone are written unchecked.
    store
        .kv_put(&DataOf::tenant("t2"), "p", "k", b"v".to_vec())
        .await
        .expect("unchecked");
    // On PostgreSQL, an edit of the tenant under way holds its row; the
    // writes of its events do not wait for it.
    if let Db::Postgres { url } = db {
        let editor = crossdesk_integration_tests::postgres::TestPostgres::client(url).await;
        editor
            .batch_execute("BEGIN; UPDATE tenants SET revision = revision WHERE id = 't1'")
            .await
            .expect("an edit under way");
        let written = tokio::time::timeout(std::time::Duration::from_secs(30), write_all(of("cc")))
            .await
            .expect("the writes did not wait for the edit");
        assert!(written.iter().all(Result::is_ok));
        editor.batch_execute("ROLLBACK").await.expect("rollback");
    }
}

/// What one event says about ticket `t-1` of customer `c-1`.
fn facts(seen_s: i64) -> crossdesk_sidecar::insights::TicketFacts {
    crossdesk_sidecar::insights::TicketFacts {
        ticket: "t-1".into(),
        customer: "c-1".into(),
        seen_s,
        ..Default::default()
    }
}

/// A replica whose clock is a minute ahead of the database server's, or
/// behind it, reads the server's time once it has measured it: the times
/// replicas write to a shared store (leases, claims, heartbeats, due times)
/// agree, however far apart their own clocks are.
#[tokio::test]
async fn on_postgres_a_replica_reads_the_servers_clock_whatever_its_own() {
    use crossdesk_database::{ServerClock, local_now_ms};
    fn ahead() -> i64 {
        local_now_ms() + 60_000
    }
    fn behind() -> i64 {
        local_now_ms() - 60_000
    }
    let url = TestPostgres::fresh_database().await;
    let pool = crossdesk_database::pool(&crossdesk_database::Target {
        url: &url,
        ca_file: None,
        application_name: "clock test",
        max_connections: 1,
    })
    .expect("pool");
    let client = pool.get().await.expect("connection");
    let server_now = async || -> i64 {
        client
            .query_one(
                "SELECT (extract(epoch FROM clock_timestamp()) * 1000)::BIGINT",
                &[],
            )
            .await
            .expect("the server's time")
            .get(0)
    };
    for local in [ahead as fn() -> i64, behind] {
        let clock = ServerClock::reading(local);
        let off = clock.now_ms() - server_now().await;
        assert!(off.abs() > 59_000, "not corrected yet: {off} ms");
        assert!(clock.measure(&client).await.expect("measured"), "taken");
        let off = clock.now_ms() - server_now().await;
        assert!(off.abs() < 1_000, "corrected: {off} ms");
    }
}

/// On PostgreSQL the health check has a connection of its own: with every
/// connection of the pool held by requests waiting on a lock (a replica busy
/// with events), the database still answers it.
#[tokio::test]
async fn on_postgres_health_is_asked_apart_from_a_busy_pool() {
    let url = TestPostgres::fresh_database().await;
    let store = Db::Postgres { url: url.clone() }.open().await;
    let locker = TestPostgres::client(&url).await;
    locker
        .batch_execute("BEGIN; LOCK TABLE plugin_kv IN ACCESS EXCLUSIVE MODE")
        .await
        .expect("lock");
    let waiting: Vec<_> = (0..16)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move { store.kv_get("t", "p", &format!("k{i}")).await })
        })
        .collect();
    let observer = TestPostgres::client(&url).await;
    let since = std::time::Instant::now();
    loop {
        let blocked: i64 = observer
            .query_one(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'relation' AND NOT granted",
                &[],
            )
            .await
            .expect("pg_locks")
            .get(0);
        if blocked >= 16 {
            break;
        }
        assert!(
            since.elapsed() < std::time::Duration::from_secs(30),
            "{blocked} waiting"
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let wait = std::time::Duration::from_millis(500);
    assert!(
        tokio::time::timeout(wait, store.control_version())
            .await
            .is_err(),
        "every pooled connection is taken"
    );
    tokio::time::timeout(wait, store.health())
        .await
        .expect("answered within the wait")
        .expect("healthy");
    locker.batch_execute("COMMIT").await.expect("unlock");
    for read in waiting {
        read.await.expect("joined").expect("read");
    }
}

/// On PostgreSQL, two replicas' first facts of one ticket at once: the merge
/// that comes second waits for the other's insert, which its statement's
/// snapshot does not see, and merges into it; when it moves the ticket to an
/// earlier day, the other's day is left to rebuild too (else that day, rebuilt
/// by the other replica before this merge, would count the ticket for good).
#[tokio::test]
async fn on_postgres_a_ticket_another_replica_inserts_meanwhile_leaves_its_day_stale() {
    let url = TestPostgres::fresh_database().await;
    let store = Db::Postgres { url: url.clone() }.open().await;
    let day = 20_000;
    let other = TestPostgres::client(&url).await;
    other
        .batch_execute(&format!(
            "BEGIN; INSERT INTO insight_tickets (tenant, ticket, customer, created_s, reopens,
                 country, language, channel, category, grp)
             VALUES ('acme', 't-1', 'c-1', {}, 0, '', '', '', '', '')",
            (day + 1) * 86_400 + 3_600
        ))
        .await
        .expect("the other replica's insert, not committed");
    let merge = tokio::spawn({
        let store = store.clone();
        async move {
            store
                .record_tickets(&DataOf::tenant("acme"), vec![facts(day * 86_400)], None)
                .await
        }
    });
    let observer = TestPostgres::client(&url).await;
    let since = std::time::Instant::now();
    loop {
        let waiting: i64 = observer
            .query_one(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'transactionid' AND NOT granted",
                &[],
            )
            .await
            .expect("pg_locks")
            .get(0);
        if waiting > 0 {
            break;
        }
        assert!(
            since.elapsed() < std::time::Duration::from_secs(30),
            "the merge never waited"
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    other.batch_execute("COMMIT").await.expect("commit");
    let days = merge.await.expect("joined").expect("record");
    assert_eq!(days.into_iter().collect::<Vec<_>>(), [day, day + 1]);
}

async fn a_tickets_insight_row_merges_its_events_in_any_order_and_its_day_is_rebuilt(db: &Db) {
    use crossdesk_sidecar::insights::figures::{Slice, cells_of};
    let store = db.open().await;
    let day = 20_000;
    let t0 = day * 86_400 + 3_600;
    let mut created = facts(t0);
    created.slice = Slice {
        country: "MX".into(),
        language: "es".into(),
        channel: "email".into(),
        ..Slice::default()
    };
    let reply = crossdesk_sidecar::insights::TicketFacts {
        replied_s: Some(t0 + 600),
        replied_after_hours: Some(true),
        ..facts(t0 + 600)
    };
    // A later reply is not the first: it says nothing of the first's hours.
    let later_reply = crossdesk_sidecar::insights::TicketFacts {
        replied_s: Some(t0 + 5_000),
        replied_after_hours: Some(false),
        ..facts(t0 + 5_000)
    };
    let solved = crossdesk_sidecar::insights::TicketFacts {
        solved_s: Some(t0 + 7_200),
        slice: Slice {
            category: "returns".into(),
            ..Slice::default()
        },
        ..facts(t0 + 7_200)
    };
    let rated = crossdesk_sidecar::insights::TicketFacts {
        rating: Some(0.8),
        ..facts(t0 + 7_300)
    };
    let again = crossdesk_sidecar::insights::TicketFacts {
        customer_s: Some(t0 + 9_000),
        ..facts(t0 + 9_000)
    };
    // The reply arrives before the creation: the earliest sight still wins.
    let days = store
        .record_tickets(
            &DataOf::tenant("acme"),
            vec![
                reply,
                created,
                later_reply,
                solved.clone(),
                rated,
                again.clone(),
            ],
            None,
        )
        .await
        .expect("record");
    assert_eq!(days.into_iter().collect::<Vec<_>>(), [day]);
    let rows = store.customer_tickets("acme", "c-1").await.expect("rows");
    assert_eq!(rows.len(), 1);
    let row = &rows[0];
    assert_eq!(
        (
            row.created_s,
            row.first_reply_s,
            row.solved_s,
            row.last_customer_s
        ),
        (t0, Some(t0 + 600), Some(t0 + 7_200), Some(t0 + 9_000))
    );
    assert_eq!((row.reopens, row.rating), (1, Some(0.8)));
    assert_eq!(row.after_hours, Some(true), "the first reply's hours");
    // More messages after the reopen are the same reopen, written in any order;
    // one after a second solve is another.
    let message = |s| crossdesk_sidecar::insights::TicketFacts {
        customer_s: Some(s),
        ..facts(s)
    };
    let reopens = async |batches: Vec<crossdesk_sidecar::insights::TicketFacts>| {
        for batch in batches {
            store
                .record_tickets(&DataOf::tenant("acme"), vec![batch], None)
                .await
                .expect("record");
        }
        store.customer_tickets("acme", "c-1").await.expect("rows")[0].reopens
    };
    assert_eq!(
        reopens(vec![message(t0 + 9_200), message(t0 + 9_100)]).await,
        1
    );
    let solved_again = crossdesk_sidecar::insights::TicketFacts {
        solved_s: Some(t0 + 10_000),
        ..facts(t0 + 10_000)
    };
    assert_eq!(reopens(vec![solved_again, message(t0 + 10_100)]).await, 2);
    // A reopen whose customer message is written before the solve it follows
    // (two replicas' batches crossing) counts all the same.
    for batch in [facts(t0), again, solved] {
        store
            .record_tickets(&DataOf::tenant("initech"), vec![batch], None)
            .await
            .expect("record");
    }
    let rows = store
        .customer_tickets("initech", "c-1")
        .await
        .expect("rows");
    let reopened = rows.first().expect("the ticket");
    assert_eq!(
        (
            reopened.solved_s,
            reopened.last_customer_s,
            reopened.reopens
        ),
        (Some(t0 + 7_200), Some(t0 + 9_000), 1)
    );
    assert_eq!(
        (row.slice.language.as_str(), row.slice.category.as_str()),
        ("es", "returns"),
        "each slice field is taken once known"
    );
    store
        .rebuild_day("acme", day, cells_of)
        .await
        .expect("rebuild");
    let cells = store
        .insight_cells("acme", day, day + 1)
        .await
        .expect("cells");
    assert_eq!(cells.len(), 1);
    let figures = &cells[0].figures;
    assert_eq!(
        (
            figures.tickets,
            figures.replied,
            figures.solved,
            figures.reopened
        ),
        (1, 1, 0, 1),
        "reopened after its solve: not solved"
    );
    assert!(
        store
            .insight_cells("globex", day, day + 1)
            .await
            .expect("cells")
            .is_empty()
    );
    let erased = store
        .erase_customer("acme", "c-1", &plain_marks(), &by_ops(), cells_of)
        .await
        .expect("erase");
    assert_eq!(erased, 1);
    assert!(
        store
            .insight_cells("acme", day, day + 1)
            .await
            .expect("cells")
            .is_empty()
    );
}

async fn a_ticket_moved_to_an_earlier_day_leaves_both_days_to_rebuild(db: &Db) {
    use crossdesk_sidecar::insights::figures::cells_of;
    let store = db.open().await;
    let day = 20_000;
    let seen = |day: i64| facts(day * 86_400 + 3_600);
    let days = store
        .record_tickets(&DataOf::tenant("acme"), vec![seen(day + 1)], None)
        .await
        .expect("record");
    assert_eq!(days.into_iter().collect::<Vec<_>>(), [day + 1]);
    store
        .rebuild_day("acme", day + 1, cells_of)
        .await
        .expect("rebuild");
    // Its creation comes in late: the ticket now counts on `day`, and no more
    // on the day after, whose figures must be rebuilt too.
    let days = store
        .record_tickets(&DataOf::tenant("acme"), vec![seen(day)], None)
        .await
        .expect("record");
    assert_eq!(days.into_iter().collect::<Vec<_>>(), [day, day + 1]);
    for day in [day, day + 1] {
        store
            .rebuild_day("acme", day, cells_of)
            .await
            .expect("rebuild");
    }
    let tickets: u64 = store
        .insight_cells("acme", day, day + 2)
        .await
        .expect("cells")
        .iter()
        .map(|cell| cell.figures.tickets)
        .sum();
    assert_eq!(tickets, 1);
}

/// The days marked stale, whenever marked.
async fn stale_days(store: &Store) -> Vec<(String, i64)> {
    let mut days = store
        .stale_insight_days(i64::MAX, 100)
        .await
        .expect("stale days");
    days.sort();
    days
}

async fn a_stale_day_stays_marked_in_the_store_until_it_is_rebuilt(db: &Db) {
    use crossdesk_sidecar::insights::figures::cells_of;
    let day = 20_000;
    {
        let store = db.open().await;
        for tenant in ["acme", "globex"] {
            store
                .record_tickets(&DataOf::tenant(tenant), vec![facts(day * 86_400)], None)
                .await
                .expect("record");
        }
        // The replica stops here, before it rebuilds the day.
    }
    let store = db.open().await;
    assert_eq!(
        stale_days(&store).await,
        [("acme".to_owned(), day), ("globex".to_owned(), day)]
    );
    assert!(
        store
            .stale_insight_days(0, 100)
            .await
            .expect("stale days")
            .is_empty(),
        "none marked before 1970"
    );
    assert_eq!(
        store
            .stale_insight_days(i64::MAX, 1)
            .await
            .expect("stale")
            .len(),
        1
    );
    store
        .rebuild_day("acme", day, cells_of)
        .await
        .expect("rebuild");
    assert_eq!(stale_days(&store).await, [("globex".to_owned(), day)]);
    // Retention takes marks of the days it deletes, every tenant's.
    store.purge_insights(day + 1).await.expect("purge");
    assert!(stale_days(&store).await.is_empty());
}

/// Cells that cannot be stored: one slice twice.
fn twice(
    day: i64,
    _: &[crossdesk_sidecar::insights::figures::TicketRow],
) -> crossdesk_sidecar::insights::figures::DayCells {
    use crossdesk_sidecar::insights::figures::{Cell, DayCells};
    let cell = Cell {
        day,
        slice: Default::default(),
        figures: Default::default(),
    };
    DayCells {
        cells: vec![cell.clone(), cell],
        hours: Vec::new(),
    }
}

async fn an_erasure_whose_rebuild_failed_leaves_its_days_marked(db: &Db) {
    use crossdesk_sidecar::insights::figures::cells_of;
    let store = db.open().await;
    let day = 20_000;
    let acme = DataOf::tenant("acme");
    store
        .record_tickets(&acme, vec![facts(day * 86_400)], None)
        .await
        .expect("record");
    store
        .rebuild_day("acme", day, cells_of)
        .await
        .expect("rebuild");
    assert!(stale_days(&store).await.is_empty());
    // The rebuild after the erasure fails (here, its cells collide): the
    // erasure is done and answers, and the day stays marked for the sweep.
    let erased = store
        .erase_customer("acme", "c-1", &plain_marks(), &by_ops(), twice)
        .await
        .expect("erase");
    assert_eq!(erased, 1);
    let counted = |store: &Store| {
        let store = store.clone();
        async move {
            store
                .insight_cells("acme", day, day + 1)
                .await
                .expect("cells")
                .iter()
                .map(|cell| cell.figures.tickets)
                .sum::<u64>()
        }
    };
    assert_eq!(counted(&store).await, 1, "still counted until rebuilt");
    assert_eq!(stale_days(&store).await, [("acme".to_owned(), day)]);
    store
        .rebuild_day("acme", day, cells_of)
        .await
        .expect("rebuild");
    assert_eq!(counted(&store).await, 0);
    assert!(stale_days(&store).await.is_empty());
}

async fn replacing_a_prefix_swaps_its_keys_in_one_go(db: &Db) {
    let store = db.open().await;
    let pairs = |keys: &[&str]| -> Vec<(String, Vec<u8>)> {
        keys.iter()
            .map(|k| ((*k).to_owned(), k.as_bytes().to_vec()))
            .collect()
    };
    store
        .kv_put_many(
            &DataOf::tenant("t"),
            "p",
            pairs(&["cat/a", "cat/b", "cat%/x", "other/c"]),
        )
        .await
        .expect("put");
    let before = store.generation("t", "p").await.expect("generation");
    let replaced = store
        .kv_replace_prefix(
            &DataOf::tenant("t"),
            "p",
            "cat/",
            pairs(&["cat/b", "cat/d"]),
            None,
        )
        .await
        .expect("replace");
    assert_eq!(replaced, 2, "cat/a and cat/b were there");
    let keys: Vec<String> = store
        .kv_scan("t", "p", "")
        .await
        .expect("scan")
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    // The prefix is literal (`%` is no wildcard) and other prefixes stay.
    assert_eq!(keys, ["cat%/x", "cat/b", "cat/d", "other/c"]);
    assert!(store.generation("t", "p").await.expect("generation") > before);
    let refused = store
        .kv_replace_prefix(&DataOf::tenant("t"), "p", "cat/", pairs(&["dog/z"]), None)
        .await
        .expect_err("a key outside the prefix");
    assert!(refused.to_string().contains("dog/z"), "{refused}");
    assert_eq!(
        store.kv_scan("t", "p", "cat/").await.expect("scan").len(),
        2,
        "a refused replacement changes nothing"
    );
}

pub(crate) fn audit(action: &str, tenant: Option<&str>) -> NewAuditEntry {
    NewAuditEntry {
        actor: "admin".into(),
        tenant: tenant.map(str::to_owned),
        action: action.into(),
        target: "target".into(),
        before: None,
        after: None,
    }
}

/// Creates tenant `id` with `incarnation`, as the admin API does.
pub(crate) async fn create_tenant(store: &Store, id: &str, incarnation: &str) {
    let doc = format!(r#"{{"incarnation":"{incarnation}"}}"#);
    store
        .apply(
            vec![put_tenant(id, &doc, None)],
            audit("tenant.create", None),
        )
        .await
        .expect("create the tenant");
}

/// Deletes tenant `id`, created by [`create_tenant`] and not changed since.
pub(crate) async fn delete_tenant(store: &Store, id: &str) {
    store
        .apply(
            vec![ControlWrite::DeleteTenant {
                id: id.into(),
                expected: 1,
            }],
            audit("tenant.delete", Some(id)),
        )
        .await
        .expect("delete the tenant");
}

pub(crate) fn put_tenant(id: &str, doc: &str, expected: Option<u64>) -> ControlWrite {
    ControlWrite::PutTenant {
        id: id.into(),
        doc: doc.into(),
        expected,
    }
}

fn secret(tenant: &str, header: &str, sealed: &[u8]) -> SecretRow {
    SecretRow {
        tenant: tenant.into(),
        plugin: "p".into(),
        host: "api.example.com".into(),
        header: header.into(),
        sealed: sealed.to_vec(),
    }
}

fn blob(digest: &str, name: &str, bytes: &[u8], signed: bool, at: i64) -> PluginBlob {
    PluginBlob {
        digest: digest.into(),
        name: name.into(),
        version: "1.0.0".into(),
        bytes: bytes.to_vec(),
        signature: signed.then(|| "c2lnbmF0dXJl".to_owned()),
        installed_at_ms: at,
    }
}

fn set_plugin(
    name: &str,
    active: Option<&str>,
    previous: Option<&str>,
    expected: Option<&str>,
) -> ControlWrite {
    ControlWrite::SetPlugin {
        name: name.into(),
        active: active.map(str::to_owned),
        previous: previous.map(str::to_owned),
        expected_active: expected.map(str::to_owned),
    }
}

/// The conflict's message, failing the test on success or on another error.
fn conflict(result: Result<u64, StoreError>) -> String {
    match result {
        Err(StoreError::Conflict(message)) => message,
        other => panic!("expected a conflict, got {other:?}"),
    }
}

async fn kv_is_scoped_and_survives_reopen(db: &Db) {
    let store = db.open().await;
    store
        .kv_put(&DataOf::tenant("a"), "p", "k%1", b"one".to_vec())
        .await
        .expect("put");
    store
        .kv_put(&DataOf::tenant("a"), "p", "k_2", b"two".to_vec())
        .await
        .expect("put");
    store
        .kv_put(&DataOf::tenant("a"), "p", "kx", b"three".to_vec())
        .await
        .expect("put");
    store
        .kv_put(&DataOf::tenant("b"), "p", "k%1", b"other".to_vec())
        .await
        .expect("put");
    assert_eq!(store.kv_get("a", "q", "k%1").await.expect("get"), None);
    // `%` and `_` in a prefix are characters, not wildcards.
    assert_eq!(
        store.kv_list("a", "p", "k%", 10).await.expect("list"),
        vec!["k%1".to_owned()]
    );
    assert_eq!(
        store.kv_list("a", "p", "k_", 10).await.expect("list"),
        vec!["k_2".to_owned()]
    );
    assert_eq!(
        store.kv_list("a", "p", "k", 2).await.expect("list"),
        vec!["k%1".to_owned(), "k_2".to_owned()]
    );
    assert_eq!(
        store.kv_scan("a", "p", "k_").await.expect("scan"),
        vec![("k_2".to_owned(), b"two".to_vec())]
    );
    drop(store);
    let store = db.open().await;
    assert_eq!(
        store.kv_get("b", "p", "k%1").await.expect("get"),
        Some(b"other".to_vec())
    );
    store
        .kv_delete(&DataOf::tenant("b"), "p", "k%1")
        .await
        .expect("delete");
    assert_eq!(store.kv_get("b", "p", "k%1").await.expect("get"), None);
    assert_eq!(
        store.kv_get("a", "p", "k%1").await.expect("get"),
        Some(b"one".to_vec())
    );
}

/// What a plugin's storage for a tenant weighs, as its writes count it; and what
/// it weighs counted afresh: keys and values in bytes (a key of two three-byte
/// characters weighs six) and 64 bytes per entry.
async fn counted_and_recounted(store: &Store, tenant: &str, plugin: &str) -> (u64, u64) {
    let counted = store.kv_bytes(tenant, plugin).await.expect("kv_bytes");
    let entries = store.kv_scan(tenant, plugin, "").await.expect("scan");
    let recounted = entries
        .iter()
        .map(|(key, value)| (key.len() + value.len() + 64) as u64)
        .sum();
    (counted, recounted)
}

/// Every kind of write keeps the count of what a plugin's storage weighs for
/// its tenant true, per tenant and plugin.
async fn a_plugins_storage_is_weighed_by_its_writes(db: &Db) {
    let store = db.open().await;
    let acme = DataOf::tenant("a");
    let pair = |key: &str, len: usize| (key.to_owned(), vec![7; len]);
    let check = async |step: &str| {
        let (counted, recounted) = counted_and_recounted(&store, "a", "p").await;
        assert_eq!(counted, recounted, "after {step}");
        counted
    };
    assert_eq!(check("nothing").await, 0);
    store
        .kv_put(&acme, "p", "日本", vec![7; 10])
        .await
        .expect("put");
    assert_eq!(check("a put").await, 6 + 10 + 64);
    store
        .kv_put_many(
            &acme,
            "p",
            vec![pair("k", 100), pair("l", 5), pair("k", 50)],
        )
        .await
        .expect("put many");
    check("a batch writing one key twice").await;
    store
        .kv_put(&acme, "p", "k", vec![1; 50])
        .await
        .expect("put");
    check("a rewrite of the same size").await;
    store
        .kv_put(&acme, "p", "k", vec![1; 500])
        .await
        .expect("put");
    check("a larger rewrite").await;
    for (expected, new) in [
        (None, Some(vec![2; 30])),
        (Some(vec![2; 30]), Some(vec![3; 3])),
        (Some(vec![9]), None),
        (Some(vec![3; 3]), None),
    ] {
        store
            .kv_compare_and_swap(&acme, "p", "c", expected, new)
            .await
            .expect("compare and swap");
        check("a compare-and-swap").await;
    }
    store
        .kv_put_many(&acme, "p", vec![pair("d/1", 10), pair("d/2", 20)])
        .await
        .expect("put many");
    store
        .kv_replace_prefix(
            &acme,
            "p",
            "d/",
            vec![pair("d/2", 5), pair("d/3", 40), pair("d/3", 4)],
            None,
        )
        .await
        .expect("replace");
    check("a replacement").await;
    store
        .kv_replace_prefix(
            &acme,
            "p",
            "日",
            vec![pair("日本", 3), pair("日曜", 4)],
            None,
        )
        .await
        .expect("replace");
    check("a replacement of keys of several bytes a character").await;
    store.kv_delete(&acme, "p", "日曜").await.expect("delete");
    store.kv_delete(&acme, "p", "l").await.expect("delete");
    store
        .kv_delete(&acme, "p", "missing")
        .await
        .expect("delete");
    check("deletions").await;
    // Other tenants' and plugins' data are counted apart.
    store
        .kv_put(&DataOf::tenant("b"), "p", "k", vec![7; 1000])
        .await
        .expect("put");
    store
        .kv_put(&acme, "q", "k", vec![7; 1000])
        .await
        .expect("put");
    let held = check("writes of others").await;
    assert_eq!(store.kv_bytes("b", "p").await.expect("b"), 1 + 1000 + 64);
    assert_eq!(store.kv_bytes("a", "q").await.expect("q"), 1 + 1000 + 64);
    // Another connection (another replica) reads the same count.
    assert_eq!(
        db.open().await.kv_bytes("a", "p").await.expect("other"),
        held
    );
}

/// A write that would take a plugin's storage for a tenant past the quota
/// fails whole, whichever kind it is; one that adds nothing passes even over a
/// quota lowered since.
async fn writes_past_the_storage_quota_are_refused_whole(db: &Db) {
    let store = db.open().await.with_kv_quota(400);
    let acme = DataOf::tenant("a");
    let pair = |key: &str, len: usize| (key.to_owned(), vec![7; len]);
    // Each entry weighs its key, its value and 64 bytes: 1 + 35 + 64.
    store
        .kv_put(&acme, "p", "a", vec![0; 35])
        .await
        .expect("100 of 400");
    let generation = store.generation("a", "p").await.expect("generation");
    let refused = store
        .kv_put_many(&acme, "p", vec![pair("b", 135), pair("c", 136)])
        .await
        .expect_err("501 bytes");
    assert!(
        matches!(
            refused,
            StoreError::OverQuota {
                weight: 501,
                quota: 400
            }
        ),
        "{refused:?}"
    );
    assert_eq!(
        store.kv_get("a", "p", "b").await.expect("get"),
        None,
        "nothing written"
    );
    assert_eq!(
        store.generation("a", "p").await.expect("generation"),
        generation
    );
    store
        .kv_put(&acme, "p", "b", vec![0; 135])
        .await
        .expect("300 of 400");
    let refused = store
        .kv_compare_and_swap(&acme, "p", "c", None, Some(vec![0; 36]))
        .await
        .expect_err("401 bytes");
    assert!(
        matches!(refused, StoreError::OverQuota { weight: 401, .. }),
        "{refused:?}"
    );
    store
        .kv_compare_and_swap(&acme, "p", "c", None, Some(vec![0; 35]))
        .await
        .expect("exactly 400");
    store
        .kv_replace_prefix(&acme, "p", "c", vec![pair("c", 35), pair("c2", 0)], None)
        .await
        .expect_err("a replacement adding 66 bytes");
    assert_eq!(
        store.kv_scan("a", "p", "c").await.expect("scan").len(),
        1,
        "c stays"
    );
    // Another tenant's and another plugin's data have their own room.
    store
        .kv_put(&DataOf::tenant("b"), "p", "a", vec![0; 335])
        .await
        .expect("tenant b");
    store
        .kv_put(&acme, "q", "a", vec![0; 335])
        .await
        .expect("plugin q");
    // Over a lowered quota, writes that add nothing pass and others fail.
    let lowered = db.open().await.with_kv_quota(100);
    lowered
        .kv_put(&acme, "p", "b", vec![1; 135])
        .await
        .expect("a rewrite in place");
    lowered
        .kv_put(&acme, "p", "b", vec![1; 10])
        .await
        .expect("a smaller value");
    lowered
        .kv_delete(&acme, "p", "c")
        .await
        .expect("a deletion");
    lowered
        .kv_put(&acme, "p", "b", vec![1; 11])
        .await
        .expect_err("one byte more");
    let (counted, recounted) = counted_and_recounted(&store, "a", "p").await;
    assert_eq!((counted, recounted), (175, 175));
}

/// A key or prefix holding a NUL character is refused by either backend for
/// writes and listings (PostgreSQL's text cannot hold one; SQLite's string
/// functions, which prefixes are compared with, stop at it).
async fn storage_keys_holding_a_nul_character_are_refused(db: &Db) {
    let store = db.open().await;
    let acme = DataOf::tenant("a");
    let refused = |result: Result<(), StoreError>| {
        assert!(
            matches!(&result, Err(StoreError::BadRequest(m)) if m.contains("NUL")),
            "{result:?}"
        );
    };
    refused(store.kv_put(&acme, "p", "a\0b", vec![1]).await);
    refused(
        store
            .kv_compare_and_swap(&acme, "p", "a\0b", None, Some(vec![1]))
            .await
            .map(drop),
    );
    refused(store.kv_list("a", "p", "a\0", 10).await.map(drop));
    // Reads and deletions too: on PostgreSQL the server's own refusal would
    // read as an outage, and the plugin's bug as worth retrying.
    refused(store.kv_get("a", "p", "a\0b").await.map(drop));
    refused(store.kv_delete(&acme, "p", "a\0b").await);
    refused(
        store
            .kv_replace_prefix(&acme, "p", "a", vec![("a\0".into(), vec![1])], None)
            .await
            .map(drop),
    );
    assert_eq!(store.kv_bytes("a", "p").await.expect("bytes"), 0);
}

/// Replicas writing one plugin's storage for one tenant at once, each through
/// its own connection: the count stays true, and the quota holds exactly,
/// not once per replica.
async fn replicas_writing_at_once_hold_the_quota_exactly(db: &Db) {
    let replicas = futures::future::join_all((0..4).map(|_| db.open())).await;
    let acme = &DataOf::tenant("a");
    // Every kind of write, on keys the replicas share.
    let mixed = replicas.iter().enumerate().map(|(r, store)| async move {
        for i in 0..20usize {
            let key = format!("k{}", i % 5);
            let value = vec![0; (r * 7 + i * 13) % 50];
            match i % 4 {
                0 => store.kv_put(acme, "p", &key, value).await,
                1 => store.kv_delete(acme, "p", &key).await,
                2 => store
                    .kv_compare_and_swap(acme, "p", &key, None, Some(value))
                    .await
                    .map(drop),
                _ => store
                    .kv_replace_prefix(acme, "p", "k1", vec![(format!("k1{r}"), value)], None)
                    .await
                    .map(drop),
            }
            .expect("write");
        }
    });
    futures::future::join_all(mixed).await;
    let (counted, recounted) = counted_and_recounted(&replicas[0], "a", "p").await;
    assert_eq!(counted, recounted, "after writes at once");

    // Each entry weighs 100 bytes (a 3-byte key, 33 bytes and 64): a quota of
    // 2,000 takes 20 of the 40 the replicas try to write, whoever writes them.
    let fill = replicas
        .into_iter()
        .enumerate()
        .map(|(r, store)| async move {
            let store = store.with_kv_quota(2_000);
            let mut written = 0;
            for i in 0..10 {
                match store
                    .kv_put(acme, "q", &format!("{r}-{i}"), vec![0; 33])
                    .await
                {
                    Ok(()) => written += 1,
                    Err(StoreError::OverQuota { .. }) => {}
                    Err(e) => panic!("replica {r}: {e}"),
                }
            }
            written
        });
    let written: u32 = futures::future::join_all(fill).await.into_iter().sum();
    assert_eq!(written, 20);
    assert_eq!(
        counted_and_recounted(&db.open().await, "a", "q").await,
        (2_000, 2_000)
    );
}

/// A database whose plugin storage was written before writes counted its weight
/// (schema version 11) is counted when it is migrated.
async fn a_database_from_before_the_count_is_counted_when_migrated(db: &Db) {
    let store = db.open().await;
    store
        .kv_put_many(
            &DataOf::tenant("a"),
            "p",
            vec![("k".into(), vec![1; 10]), ("日本".into(), vec![2; 20])],
        )
        .await
        .expect("put");
    store
        .kv_put(&DataOf::tenant("b"), "p", "k", vec![])
        .await
        .expect("put");
    drop(store);
    // Back to version 11: no count, and data without a generation row too.
    let downgrade = "DROP TABLE insight_stale_days;
                     ALTER TABLE plugin_kv_generation DROP COLUMN bytes;
                     DELETE FROM plugin_kv_generation WHERE tenant = 'b';
                     DELETE FROM schema_migrations WHERE version >= 12;";
    match db {
        Db::Sqlite(dir) => rusqlite::Connection::open(dir.path().join("crossdesk.db"))
            .expect("open")
            .execute_batch(downgrade)
            .expect("downgrade"),
        // Version 14 is PostgreSQL's alone.
        Db::Postgres { url } => TestPostgres::client(url)
            .await
            .batch_execute(&format!(
                "ALTER TABLE insight_tickets DROP COLUMN merged_from_s; {downgrade}"
            ))
            .await
            .expect("downgrade"),
    }
    let store = db.open().await;
    assert_eq!(
        store.kv_bytes("a", "p").await.expect("a"),
        1 + 10 + 64 + 6 + 20 + 64
    );
    assert_eq!(store.kv_bytes("b", "p").await.expect("b"), 1 + 64);
    assert_eq!(store.generation("a", "p").await.expect("generation"), 1);
}

async fn only_real_changes_bump_the_generation(db: &Db) {
    let store = db.open().await;
    let generation = || store.generation("t", "p");
    assert_eq!(generation().await.expect("gen"), 0);
    store
        .kv_put(&DataOf::tenant("t"), "p", "k", b"v".to_vec())
        .await
        .expect("put");
    assert_eq!(generation().await.expect("gen"), 1);
    // The same value again is no change.
    store
        .kv_put(&DataOf::tenant("t"), "p", "k", b"v".to_vec())
        .await
        .expect("put");
    assert_eq!(generation().await.expect("gen"), 1);
    store
        .kv_put(&DataOf::tenant("t"), "p", "k", b"w".to_vec())
        .await
        .expect("put");
    assert_eq!(generation().await.expect("gen"), 2);
    // Deleting a missing key is no change; deleting a present one is.
    store
        .kv_delete(&DataOf::tenant("t"), "p", "missing")
        .await
        .expect("delete");
    assert_eq!(generation().await.expect("gen"), 2);
    store
        .kv_delete(&DataOf::tenant("t"), "p", "k")
        .await
        .expect("delete");
    assert_eq!(generation().await.expect("gen"), 3);
    // Other tenants and plugins count separately.
    assert_eq!(store.generation("t", "q").await.expect("gen"), 0);
    assert_eq!(store.generation("u", "p").await.expect("gen"), 0);
    // A second connection (another process, such as the CLI) is seen.
    let other = db.open().await;
    let changed = other
        .kv_put_many(
            &DataOf::tenant("t"),
            "p",
            vec![("b".into(), b"2".to_vec()), ("a".into(), b"1".to_vec())],
        )
        .await
        .expect("put many");
    assert_eq!(changed, 2);
    assert_eq!(generation().await.expect("gen"), 4);
    // A batch that changes nothing leaves the generation; one that changes one key
    // of three counts one change and bumps it once.
    let same = vec![("a".into(), b"1".to_vec()), ("b".into(), b"2".to_vec())];
    assert_eq!(
        other
            .kv_put_many(&DataOf::tenant("t"), "p", same)
            .await
            .expect("put"),
        0
    );
    assert_eq!(generation().await.expect("gen"), 4);
    let one_new = vec![
        ("a".into(), b"1".to_vec()),
        ("b".into(), b"2".to_vec()),
        ("c".into(), b"3".to_vec()),
    ];
    assert_eq!(
        other
            .kv_put_many(&DataOf::tenant("t"), "p", one_new)
            .await
            .expect("put"),
        1
    );
    assert_eq!(generation().await.expect("gen"), 5);
    // Of a key given twice in one batch, the last value wins.
    let twice = vec![("d".into(), b"x".to_vec()), ("d".into(), b"y".to_vec())];
    assert_eq!(
        other
            .kv_put_many(&DataOf::tenant("t"), "p", twice)
            .await
            .expect("put"),
        2
    );
    assert_eq!(generation().await.expect("gen"), 6);
    assert_eq!(
        store.kv_scan("t", "p", "").await.expect("scan"),
        vec![
            ("a".to_owned(), b"1".to_vec()),
            ("b".to_owned(), b"2".to_vec()),
            ("c".to_owned(), b"3".to_vec()),
            ("d".to_owned(), b"y".to_vec()),
        ]
    );
    // Values are bytes: empty and non-UTF-8 ones round-trip.
    store
        .kv_put(&DataOf::tenant("t"), "p", "bin", vec![0, 255, 0])
        .await
        .expect("put");
    store
        .kv_put(&DataOf::tenant("t"), "p", "empty", Vec::new())
        .await
        .expect("put");
    assert_eq!(
        other.kv_get("t", "p", "bin").await.expect("get"),
        Some(vec![0, 255, 0])
    );
    assert_eq!(
        other.kv_get("t", "p", "empty").await.expect("get"),
        Some(Vec::new())
    );
}

async fn tenants_have_revisions_and_conflicts(db: &Db) {
    let store = db.open().await;
    let doc1 = r#"{"plugins":[]}"#;
    let doc2 = r#"{"plugins":["tone"]}"#;
    store
        .apply(
            vec![put_tenant("acme", doc1, None)],
            audit("tenant.create", Some("acme")),
        )
        .await
        .expect("create");
    let state = store.control_state().await.expect("state");
    assert_eq!(
        state.tenants,
        vec![TenantRow {
            id: "acme".into(),
            doc: doc1.into(),
            revision: 1
        }]
    );
    // Creating it again, or replacing a revision that is no longer current, conflicts.
    assert_eq!(
        conflict(
            store
                .apply(
                    vec![put_tenant("acme", doc2, None)],
                    audit("tenant.create", Some("acme"))
                )
                .await
        ),
        "tenant 'acme' already exists"
    );
    store
        .apply(
            vec![put_tenant("acme", doc2, Some(1))],
            audit("tenant.update", Some("acme")),
        )
        .await
        .expect("replace");
    assert_eq!(
        conflict(
            store
                .apply(
                    vec![put_tenant("acme", doc1, Some(1))],
                    audit("tenant.update", Some("acme"))
                )
                .await
        ),
        "tenant 'acme' was changed or deleted meanwhile"
    );
    assert_eq!(
        conflict(
            store
                .apply(
                    vec![put_tenant("ghost", doc1, Some(1))],
                    audit("tenant.update", Some("ghost"))
                )
                .await
        ),
        "tenant 'ghost' was changed or deleted meanwhile"
    );
    // A change fails whole: the tenant its first write created is not there, and
    // neither the version nor the audit log moved.
    let version = store.control_version().await.expect("version");
    let logged = store.audit_log(None, None, 100).await.expect("audit").len();
    conflict(
        store
            .apply(
                vec![
                    put_tenant("beta", doc1, None),
                    put_tenant("acme", doc1, Some(1)),
                ],
                audit("tenant.create", Some("beta")),
            )
            .await,
    );
    assert_eq!(store.control_version().await.expect("version"), version);
    assert_eq!(
        store.audit_log(None, None, 100).await.expect("audit").len(),
        logged
    );
    // Tenants come ordered by id, byte-wise (upper case first), on both backends.
    store
        .apply(
            vec![
                put_tenant("alpha", doc1, None),
                put_tenant("Zeta", doc1, None),
            ],
            audit("tenant.create", None),
        )
        .await
        .expect("create two");
    let state = store.control_state().await.expect("state");
    let ids: Vec<_> = state
        .tenants
        .iter()
        .map(|t| (t.id.as_str(), t.revision))
        .collect();
    assert_eq!(ids, vec![("Zeta", 1), ("acme", 2), ("alpha", 1)]);
    assert_eq!(state.tenants[1].doc, doc2);
}

async fn deleting_a_tenant_removes_its_secrets_and_data(db: &Db) {
    let store = db.open().await;
    store
        .apply(
            vec![
                put_tenant("t1", "{}", None),
                put_tenant("t2", "{}", None),
                ControlWrite::PutSecret(secret("t1", "X-Key", b"s1")),
                ControlWrite::PutSecret(secret("t2", "X-Key", b"s2")),
            ],
            audit("tenant.create", None),
        )
        .await
        .expect("create");
    for tenant in ["t1", "t2"] {
        store
            .kv_put(&DataOf::tenant(tenant), "p", "k", b"v".to_vec())
            .await
            .expect("put");
        store
            .add_contacts(
                &DataOf::tenant(tenant),
                vec![contacts(0, "en", "email", 1, 0, 0.0)],
            )
            .await
            .expect("history");
    }
    assert_eq!(
        conflict(
            store
                .apply(
                    vec![ControlWrite::DeleteTenant {
                        id: "t1".into(),
                        expected: 2
                    }],
                    audit("tenant.delete", Some("t1")),
                )
                .await
        ),
        "tenant 't1' was changed or deleted meanwhile"
    );
    assert_eq!(
        store.kv_get("t1", "p", "k").await.expect("get"),
        Some(b"v".to_vec())
    );
    delete_tenant(&store, "t1").await;
    let state = store.control_state().await.expect("state");
    assert_eq!(
        state
            .tenants
            .iter()
            .map(|t| t.id.as_str())
            .collect::<Vec<_>>(),
        vec!["t2"]
    );
    assert_eq!(state.secrets, vec![secret("t2", "X-Key", b"s2")]);
    assert_eq!(store.kv_get("t1", "p", "k").await.expect("get"), None);
    assert_eq!(store.generation("t1", "p").await.expect("gen"), 0);
    assert_eq!(
        store.kv_get("t2", "p", "k").await.expect("get"),
        Some(b"v".to_vec())
    );
    assert_eq!(store.generation("t2", "p").await.expect("gen"), 1);
    assert!(
        history(&store, "t1").await.is_empty(),
        "the history went too"
    );
    assert_eq!(history(&store, "t2").await.len(), 1);
    // Deleting it again conflicts.
    conflict(
        store
            .apply(
                vec![ControlWrite::DeleteTenant {
                    id: "t1".into(),
                    expected: 1,
                }],
                audit("tenant.delete", Some("t1")),
            )
            .await,
    );
}

/// Facts wait in a replica's memory for their batch; another replica may delete
/// the tenant meanwhile, and create it again. Written after that, they would
/// outlive the tenant and count in the new one's reports.
async fn facts_gathered_before_a_tenants_deletion_are_not_written_after_it(db: &Db) {
    use crossdesk_sidecar::insights::TranslationFact;
    let store = db.open().await;
    let of = |incarnation: &str| DataOf {
        tenant: "t1".into(),
        incarnation: Some(incarnation.into()),
    };
    let translation = TranslationFact {
        day: 0,
        source: "en".into(),
        target: "es".into(),
        translated: 1,
        corrected: 0,
    };
    let store = &store;
    // Each kind of facts, gathered under `of`: what the store answered.
    let write_all = move |of: DataOf| {
        let translation = translation.clone();
        async move {
            [
                store
                    .add_contacts(&of, vec![contacts(0, "en", "email", 1, 0, 0.0)])
                    .await,
                store
                    .record_tickets(&of, vec![facts(3_600)], None)
                    .await
                    .map(drop),
                store.add_translations(&of, vec![translation]).await,
            ]
        }
    };
    let gone = |answers: [Result<(), StoreError>; 3]| {
        answers
            .iter()
            .all(|a| matches!(a, Err(StoreError::TenantGone(t)) if t == "t1"))
    };
    let written = |answers: [Result<(), StoreError>; 3]| answers.iter().all(Result::is_ok);
    let t1_data = move || async move {
        (
            history(store, "t1").await.len(),
            store
                .customer_tickets("t1", "c-1")
                .await
                .expect("tickets")
                .len(),
            store
                .translations("t1", 0, 1)
                .await
                .expect("translations")
                .len(),
        )
    };
    create_tenant(store, "t1", "aa").await;
    assert!(gone(write_all(of("bb")).await), "another incarnation's");
    assert!(written(write_all(of("aa")).await));
    assert_eq!(t1_data().await, (1, 1, 1));
    delete_tenant(store, "t1").await;
    assert!(gone(write_all(of("aa")).await), "after the deletion");
    assert_eq!(t1_data().await, (0, 0, 0));
    // Created again under its id: the old tenant's facts still are not written.
    create_tenant(store, "t1", "cc").await;
    assert!(gone(write_all(of("aa")).await), "the old tenant's");
    assert_eq!(t1_data().await, (0, 0, 0));
    assert!(written(write_all(of("cc")).await));
    assert_eq!(t1_data().await, (1, 1, 1));
    // A document from before incarnations has the empty one; unchecked writes
    // (imports, tenants of the configuration file alone) go through.
    store
        .apply(
            vec![put_tenant("t2", "{}", None)],
            audit("tenant.create", None),
        )
        .await
        .expect("create t2");
    let t2 = DataOf {
        tenant: "t2".into(),
        incarnation: Some(String::new()),
    };
    store
        .add_contacts(&t2, vec![contacts(0, "en", "email", 1, 0, 0.0)])
        .await
        .expect("t2's");
    store
        .add_contacts(
            &DataOf::tenant("t3"),
            vec![contacts(0, "en", "email", 1, 0, 0.0)],
        )
        .await
        .expect("unchecked");
    assert_eq!(history(store, "t3").await.len(), 1);
}

/// The daily purge (`[insights] retention_days`) deletes every tenant's tickets,
/// cells, hours, translation counts and contact history of the days before its
/// bound, and the erasure marks made before it.
async fn retention_purges_the_days_before_it_and_the_erasure_marks_too(db: &Db) {
    use crossdesk_sidecar::insights::figures::cells_of;
    use crossdesk_sidecar::insights::{TicketFacts, TranslationFact};
    let store = db.open().await;
    store
        .apply(
            vec![put_tenant("acme", "{}", None)],
            audit("tenant.create", None),
        )
        .await
        .expect("create");
    let (old, kept) = (100, 200);
    let on = |day: i64, ticket: &str, customer: &str| TicketFacts {
        ticket: ticket.into(),
        customer: customer.into(),
        seen_s: day * 86_400 + 3_600,
        replied_s: Some(day * 86_400 + 3_700),
        gathered_ms: (day * 86_400 + 3_600) * 1000,
        ..TicketFacts::default()
    };
    let marks = plain_marks();
    let acme = DataOf::tenant("acme");
    for (day, ticket) in [(old, "t-old"), (kept, "t-kept")] {
        store
            .record_tickets(&acme, vec![on(day, ticket, "c-1")], Some(&marks))
            .await
            .expect("record");
        store
            .rebuild_day("acme", day, cells_of)
            .await
            .expect("rebuild");
        let translation = TranslationFact {
            day,
            source: "en".into(),
            target: "es".into(),
            translated: 1,
            corrected: 0,
        };
        store
            .add_translations(&acme, vec![translation])
            .await
            .expect("translations");
    }
    // Erased now: their facts of day 300 (long before now) are not written.
    store
        .erase_customer("acme", "c-9", &marks, &by_ops(), cells_of)
        .await
        .expect("erase");
    let written = |day| {
        let (store, marks, acme) = (&store, &marks, &acme);
        async move {
            store
                .record_tickets(acme, vec![on(day, "t-9", "c-9")], Some(marks))
                .await
                .expect("record");
            !store
                .customer_tickets("acme", "c-9")
                .await
                .expect("tickets")
                .is_empty()
        }
    };
    assert!(!written(300).await);
    let days = |from, to| {
        let store = &store;
        async move {
            let tickets = store
                .customer_tickets("acme", "c-1")
                .await
                .expect("tickets");
            let cells = store.insight_cells("acme", from, to).await.expect("cells");
            let pairs = store.translations("acme", from, to).await.expect("pairs");
            let hours = store.insight_hours("acme", from, to).await.expect("hours");
            (tickets.len(), cells.len(), pairs.len(), hours.len())
        }
    };
    assert_eq!(days(0, 1_000).await, (2, 2, 2, 2));
    // The contact history keeps as long.
    store
        .add_contacts(
            &acme,
            vec![
                contacts(old * 86_400, "en", "email", 1, 0, 0.0),
                contacts(kept * 86_400, "en", "email", 1, 0, 0.0),
            ],
        )
        .await
        .expect("contacts");
    store.purge_insights(150).await.expect("purge");
    let history = store
        .contact_history("acme", i64::MIN, i64::MAX)
        .await
        .expect("history");
    assert_eq!(
        history.iter().map(|c| c.bucket_start_s).collect::<Vec<_>>(),
        [kept * 86_400],
        "the old quarter hour is gone"
    );
    assert_eq!(
        days(0, 150).await,
        (1, 0, 0, 0),
        "only the kept day's ticket"
    );
    assert_eq!(days(150, 1_000).await, (1, 1, 1, 1));
    assert!(!written(300).await, "the mark is younger than the bound");
    // A bound after the erasure takes its mark too.
    let tomorrow = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs() as i64
        / 86_400
        + 1;
    store.purge_insights(tomorrow).await.expect("purge");
    assert_eq!(days(0, tomorrow).await, (0, 0, 0, 0));
    assert!(written(300).await, "no mark left");
}

/// Erasure marks named plainly (the server keys them with its master key).
fn plain_marks() -> ErasureMarks {
    std::sync::Arc::new(|tenant, erased| format!("{tenant}:{erased:?}"))
}

/// An erasure by `ops`, naming the customer as given.
fn by_ops() -> ErasureAudit {
    ErasureAudit {
        actor: "ops".into(),
        customer: "customer c-1".into(),
    }
}

/// An erasure and its audit entry are one transaction: an erasure whose entry
/// cannot be written erases nothing, and an entry tells of an erasure done.
async fn an_erasure_and_its_audit_entry_are_one(db: &Db) {
    use crossdesk_sidecar::insights::figures::cells_of;
    let store = db.open().await;
    let of = DataOf::tenant("acme");
    store
        .record_tickets(&of, vec![facts(1_700_000_000)], None)
        .await
        .expect("record");
    let audited = async || {
        store
            .audit_log(Some("acme"), None, 10)
            .await
            .expect("audit log")
            .into_iter()
            .map(|e| (e.entry.action, e.entry.actor, e.entry.after))
            .collect::<Vec<_>>()
    };
    // The audit log refuses new entries (a full disk, a revoked grant…).
    db.execute(REFUSE_AUDIT_ENTRIES).await;
    store
        .erase_customer("acme", "c-1", &plain_marks(), &by_ops(), cells_of)
        .await
        .expect_err("not audited, not erased");
    assert_eq!(
        store
            .customer_tickets("acme", "c-1")
            .await
            .expect("rows")
            .len(),
        1
    );
    assert_eq!(audited().await, []);

    db.execute(ACCEPT_AUDIT_ENTRIES).await;
    let erased = store
        .erase_customer("acme", "c-1", &plain_marks(), &by_ops(), cells_of)
        .await
        .expect("erased");
    assert_eq!(erased, 1);
    assert!(
        store
            .customer_tickets("acme", "c-1")
            .await
            .expect("rows")
            .is_empty()
    );
    assert_eq!(
        audited().await,
        [(
            "customer.erase".to_owned(),
            "ops".to_owned(),
            Some(r#"{"tickets_erased":1}"#.to_owned())
        )]
    );
}

async fn an_import_and_its_audit_entry_are_one(db: &Db) {
    use crossdesk_sidecar::store::ImportAudit;
    let store = db.open().await;
    let of = DataOf::tenant("acme");
    let entry = |key: &str| (key.to_owned(), b"v".to_vec());
    store
        .kv_replace_prefix(&of, "faq", "q/", vec![entry("q/old")], None)
        .await
        .expect("first import");
    let audit = ImportAudit {
        actor: "ops".into(),
        target: "faq/questions".into(),
        after: r#"{"records":1}"#.into(),
    };
    let import =
        || store.kv_replace_prefix(&of, "faq", "q/", vec![entry("q/new")], Some(audit.clone()));
    let kept = async |key: &str| store.kv_get("acme", "faq", key).await.expect("read");
    // The audit log refuses new entries (a full disk, a revoked grant…).
    db.execute(REFUSE_AUDIT_ENTRIES).await;
    import().await.expect_err("not audited, not imported");
    assert!(kept("q/old").await.is_some() && kept("q/new").await.is_none());
    db.execute(ACCEPT_AUDIT_ENTRIES).await;
    assert_eq!(import().await.expect("imported"), 1);
    assert!(kept("q/old").await.is_none() && kept("q/new").await.is_some());
    let audited: Vec<_> = store
        .audit_log(Some("acme"), None, 10)
        .await
        .expect("audit log")
        .into_iter()
        .map(|e| {
            (
                e.entry.action,
                e.entry.target,
                e.entry.before,
                e.entry.after,
            )
        })
        .collect();
    assert_eq!(
        audited,
        [(
            "plugin.data.import".to_owned(),
            "faq/questions".to_owned(),
            Some(r#"{"entries":1}"#.to_owned()),
            Some(r#"{"records":1}"#.to_owned())
        )]
    );
}

/// A customer's facts that a replica gathered before their erasure and writes
/// after it are dropped, and so are those of their tickets that name no
/// customer (an agent's reply) and those of events from before it delivered
/// late; those of their later messages count.
async fn facts_gathered_before_a_customers_erasure_are_not_written_after_it(db: &Db) {
    use crossdesk_sidecar::insights::TicketFacts;
    use crossdesk_sidecar::insights::figures::cells_of;
    let store = db.open().await;
    store
        .apply(
            vec![put_tenant("acme", r#"{"incarnation":"aa"}"#, None)],
            audit("tenant.create", None),
        )
        .await
        .expect("create");
    let marks = plain_marks();
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_millis() as i64;
    // An event that happened at `seen_ms` and arrived at `gathered_ms`.
    let late = |ticket: &str, customer: &str, seen_ms: i64, gathered_ms: i64| TicketFacts {
        ticket: ticket.into(),
        customer: customer.into(),
        seen_s: seen_ms / 1000,
        gathered_ms,
        ..TicketFacts::default()
    };
    let gathered = |ticket: &str, customer: &str, at_ms: i64| late(ticket, customer, at_ms, at_ms);
    // Checked against the stored tenant too, as the server's facts are.
    let acme = DataOf {
        tenant: "acme".into(),
        incarnation: Some("aa".into()),
    };
    let reader = &store;
    let tickets = move |tenant: &'static str, customer: &'static str| async move {
        reader
            .customer_tickets(tenant, customer)
            .await
            .expect("tickets")
            .into_iter()
            .map(|t| t.ticket)
            .collect::<Vec<_>>()
    };
    store
        .record_tickets(
            &acme,
            vec![
                gathered("t-1", "c-1", now_ms - 1_000),
                gathered("t-2", "c-2", now_ms - 1_000),
            ],
            Some(&marks),
        )
        .await
        .expect("record");
    let erased = store
        .erase_customer("acme", "c-1", &marks, &by_ops(), cells_of)
        .await
        .expect("erase");
    assert_eq!(erased, 1);
    // Waiting on another replica while the customer was erased: theirs, and
    // a reply on their ticket that names no customer.
    store
        .record_tickets(
            &acme,
            vec![
                gathered("t-1", "c-1", now_ms - 500),
                gathered("t-3", "c-1", now_ms - 500),
                gathered("t-2", "c-2", now_ms - 500),
                gathered("t-1", "", now_ms - 500),
                late("t-5", "c-1", now_ms - 2_000, now_ms + 60_000),
            ],
            Some(&marks),
        )
        .await
        .expect("record");
    assert!(tickets("acme", "c-1").await.is_empty());
    assert!(tickets("acme", "").await.is_empty(), "the reply's ticket");
    assert_eq!(tickets("acme", "c-2").await, ["t-2"]);
    // The customer writes again, after the erasure.
    store
        .record_tickets(
            &acme,
            vec![gathered("t-4", "c-1", now_ms + 60_000)],
            Some(&marks),
        )
        .await
        .expect("record");
    assert_eq!(tickets("acme", "c-1").await, ["t-4"]);
    // The mark is the tenant's alone.
    store
        .record_tickets(
            &DataOf::tenant("globex"),
            vec![gathered("t-1", "c-1", now_ms - 500)],
            Some(&marks),
        )
        .await
        .expect("record");
    assert_eq!(tickets("globex", "c-1").await, ["t-1"]);
}

fn contacts(
    bucket_start_s: i64,
    language: &str,
    channel: &str,
    arrivals: u64,
    handled: u64,
    handle_secs: f64,
) -> ContactCount {
    ContactCount {
        bucket_start_s,
        language: language.into(),
        channel: channel.into(),
        arrivals,
        handled,
        handle_secs,
    }
}

async fn history(store: &Store, tenant: &str) -> Vec<ContactCount> {
    store
        .contact_history(tenant, i64::MIN, i64::MAX)
        .await
        .expect("history")
}

async fn contact_history_adds_up_per_bucket_and_stays_in_its_tenant(db: &Db) {
    let store = db.open().await;
    let quarter = 1_796_000_400; // a multiple of 900
    store
        .add_contacts(
            &DataOf::tenant("t1"),
            vec![
                contacts(quarter + 60, "es", "email", 1, 0, 0.0),
                contacts(quarter + 899, "es", "email", 2, 1, 300.5),
                contacts(quarter, "de", "email", 1, 0, 0.0),
                contacts(quarter + 900, "es", "email", 1, 0, 0.0),
                contacts(quarter - 1, "es", "web-chat", 1, 0, 0.0),
            ],
        )
        .await
        .expect("add");
    // A second connection adds to the same bucket.
    db.open()
        .await
        .add_contacts(
            &DataOf::tenant("t1"),
            vec![contacts(quarter + 10, "es", "email", 0, 1, 99.5)],
        )
        .await
        .expect("add again");
    store
        .add_contacts(
            &DataOf::tenant("t2"),
            vec![contacts(quarter, "es", "email", 7, 0, 0.0)],
        )
        .await
        .expect("other tenant");
    assert_eq!(
        history(&store, "t1").await,
        vec![
            contacts(quarter - 900, "es", "web-chat", 1, 0, 0.0),
            contacts(quarter, "de", "email", 1, 0, 0.0),
            contacts(quarter, "es", "email", 3, 2, 400.0),
            contacts(quarter + 900, "es", "email", 1, 0, 0.0),
        ]
    );
    // The range is on bucket starts, half open.
    let range = store
        .contact_history("t1", quarter, quarter + 900)
        .await
        .expect("range");
    assert_eq!(range.len(), 2, "{range:?}");
    assert_eq!(
        history(&store, "t2").await,
        vec![contacts(quarter, "es", "email", 7, 0, 0.0)]
    );
    assert!(history(&store, "t3").await.is_empty());
}

/// What one backend would store and the other refuse (a NUL in text, sums past
/// a float) is refused by both, and nothing of the call is written.
async fn counts_neither_store_could_keep_are_refused_alike(db: &Db) {
    let store = db.open().await;
    let quarter = 1_796_000_400;
    let fine = contacts(quarter, "es", "email", 1, 1, 300.0);
    let bad = [
        contacts(quarter, "es", "e\0mail", 1, 0, 0.0),
        contacts(quarter, "e\0s", "email", 1, 0, 0.0),
        contacts(quarter, "es", "email", 0, 2, 1e308),
        contacts(quarter, "es", "email", 0, 1, f64::INFINITY),
        contacts(quarter, "es", "email", 0, 1, -1.0),
        contacts(quarter, "es", "email", 0, 0, 1.0),
        contacts(quarter, "es", "email", u64::MAX, 0, 0.0),
    ];
    for count in bad {
        let err = store
            .add_contacts(&DataOf::tenant("t1"), vec![fine.clone(), count.clone()])
            .await
            .expect_err(&format!("{count:?}"));
        assert!(matches!(err, StoreError::BadRequest(_)), "{count:?}: {err}");
    }
    assert!(history(&store, "t1").await.is_empty());
    // Thirty days of handling for each conversation is still a figure.
    let longest = contacts(quarter, "es", "email", 0, 2, 2.0 * MAX_HANDLE_SECS);
    store
        .add_contacts(&DataOf::tenant("t1"), vec![longest.clone()])
        .await
        .expect("the longest handling times");
    assert_eq!(history(&store, "t1").await, vec![longest]);
}

async fn secrets_are_upserted_and_deleted(db: &Db) {
    let store = db.open().await;
    store
        .apply(
            vec![
                ControlWrite::PutSecret(secret("t", "X-Key", b"old")),
                ControlWrite::PutSecret(secret("t", "Authorization", b"auth")),
            ],
            audit("secret.put", Some("t")),
        )
        .await
        .expect("put");
    // The same tenant, plugin, host and header: replaced, not added.
    store
        .apply(
            vec![ControlWrite::PutSecret(secret("t", "X-Key", &[0, 1, 255]))],
            audit("secret.put", Some("t")),
        )
        .await
        .expect("replace");
    let state = store.control_state().await.expect("state");
    assert_eq!(
        state.secrets,
        vec![
            secret("t", "Authorization", b"auth"),
            secret("t", "X-Key", &[0, 1, 255])
        ]
    );
    let delete = |header: &str| ControlWrite::DeleteSecret {
        tenant: "t".into(),
        plugin: "p".into(),
        host: "api.example.com".into(),
        header: header.into(),
    };
    store
        .apply(
            vec![delete("Authorization")],
            audit("secret.delete", Some("t")),
        )
        .await
        .expect("delete");
    // Deleting a missing secret is no error.
    store
        .apply(vec![delete("Missing")], audit("secret.delete", Some("t")))
        .await
        .expect("delete missing");
    let state = store.control_state().await.expect("state");
    assert_eq!(state.secrets, vec![secret("t", "X-Key", &[0, 1, 255])]);
    assert_eq!(state.version, 4);
}

async fn plugin_blobs_and_versions(db: &Db) {
    let store = db.open().await;
    let first = blob("d1", "tone", b"\0asm-one", true, 1_000);
    store
        .apply(
            vec![ControlWrite::PutPluginBlob(first.clone())],
            audit("plugin.upload", None),
        )
        .await
        .expect("upload");
    // The same digest again changes nothing else, whatever it says.
    store
        .apply(
            vec![ControlWrite::PutPluginBlob(blob(
                "d1", "other", b"x", false, 5_000,
            ))],
            audit("plugin.upload", None),
        )
        .await
        .expect("upload again");
    assert_eq!(
        store.plugin_blob("d1").await.expect("blob"),
        Some(first.clone())
    );
    assert_eq!(store.plugin_blob("missing").await.expect("blob"), None);
    store
        .apply(
            vec![
                ControlWrite::PutPluginBlob(blob("d3", "tone", b"three", false, 2_000)),
                ControlWrite::PutPluginBlob(blob("d2", "tone", b"two!", false, 2_000)),
            ],
            audit("plugin.upload", None),
        )
        .await
        .expect("upload two");
    // Uploading an unsigned version again with a signature adds the signature.
    store
        .apply(
            vec![ControlWrite::PutPluginBlob(blob(
                "d3", "tone", b"three", true, 9_000,
            ))],
            audit("plugin.upload", None),
        )
        .await
        .expect("upload signed");
    // Newest first; equal times by digest.
    let versions = store.plugin_versions().await.expect("versions");
    let summary: Vec<_> = versions
        .iter()
        .map(|v| {
            (
                v.digest.as_str(),
                v.name.as_str(),
                v.signed,
                v.size,
                v.installed_at_ms,
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            ("d2", "tone", false, 4, 2_000),
            ("d3", "tone", true, 5, 2_000),
            ("d1", "tone", true, 8, 1_000),
        ]
    );
    assert!(versions.iter().all(|v| v.version == "1.0.0"));
    // A repair writes the bytes its digest names over a stored version's, and
    // nothing else.
    let sha256 = |bytes: &[u8]| hex::encode(<sha2::Sha256 as sha2::Digest>::digest(bytes));
    let real = sha256(b"\0asm-real");
    let damaged = blob(&real, "tone", b"\0asm-damaged", true, 3_000);
    store
        .apply(
            vec![ControlWrite::PutPluginBlob(damaged.clone())],
            audit("plugin.upload", None),
        )
        .await
        .expect("upload");
    let repair = |digest: &str, bytes: &[u8]| ControlWrite::RepairPluginBlob {
        digest: digest.into(),
        bytes: bytes.to_vec(),
    };
    let other = store
        .apply(
            vec![repair(&real, b"\0asm-other")],
            audit("plugin.repair", None),
        )
        .await
        .expect_err("not the bytes the digest names");
    assert!(matches!(other, StoreError::BadRequest(_)), "{other:?}");
    store
        .apply(
            vec![repair(&real, b"\0asm-real")],
            audit("plugin.repair", None),
        )
        .await
        .expect("repair");
    let repaired = store
        .plugin_blob(&real)
        .await
        .expect("blob")
        .expect("stored");
    assert_eq!(repaired.bytes, b"\0asm-real");
    assert_eq!(
        (repaired.name, repaired.signature),
        ("tone".into(), damaged.signature)
    );
    let unknown = sha256(b"never stored");
    let missing = store
        .apply(
            vec![repair(&unknown, b"never stored")],
            audit("plugin.repair", None),
        )
        .await
        .expect_err("nothing to repair");
    assert!(matches!(missing, StoreError::Conflict(_)), "{missing:?}");
    assert_eq!(store.plugin_blob(&unknown).await.expect("blob"), None);
}

/// A removal and a tenant's change validated against the same state: whichever
/// commits second finds the other, in its own transaction.
async fn a_plugin_cannot_be_removed_and_attached_at_once(db: &Db) {
    let store = db.open().await;
    store
        .apply(
            vec![set_plugin("tone", Some("d1"), None, None)],
            audit("plugin.install", None),
        )
        .await
        .expect("install");
    let attaching = r#"{"plugins":[{"name":"tone"}]}"#;
    store
        .apply(
            vec![put_tenant("acme", r#"{"plugins":[]}"#, None)],
            audit("tenant.create", Some("acme")),
        )
        .await
        .expect("create");
    // The tenant's change commits first: the removal finds it.
    store
        .apply(
            vec![put_tenant("acme", attaching, Some(1))],
            audit("plugin.configure", Some("acme")),
        )
        .await
        .expect("attach");
    assert_eq!(
        conflict(
            store
                .apply(
                    vec![set_plugin("tone", None, None, Some("d1"))],
                    audit("plugin.remove", None)
                )
                .await
        ),
        "plugin 'tone' was put in tenant 'acme''s pipeline meanwhile"
    );
    // The removal commits first: the tenant's change finds it.
    store
        .apply(
            vec![put_tenant("acme", r#"{"plugins":[]}"#, Some(2))],
            audit("plugin.detach", Some("acme")),
        )
        .await
        .expect("detach");
    store
        .apply(
            vec![set_plugin("tone", None, None, Some("d1"))],
            audit("plugin.remove", None),
        )
        .await
        .expect("remove");
    assert_eq!(
        conflict(
            store
                .apply(
                    vec![put_tenant("acme", attaching, Some(3))],
                    audit("plugin.configure", Some("acme"))
                )
                .await
        ),
        "plugin 'tone' was removed meanwhile"
    );
}

async fn set_plugin_checks_the_active_version(db: &Db) {
    let store = db.open().await;
    let plugins = |store: &Store| {
        let store = store.clone();
        async move { store.control_state().await.expect("state").plugins }
    };
    store
        .apply(
            vec![set_plugin("tone", Some("d1"), None, None)],
            audit("plugin.install", None),
        )
        .await
        .expect("install");
    assert_eq!(
        plugins(&store).await,
        vec![PluginRow {
            name: "tone".into(),
            active: "d1".into(),
            previous: None
        }]
    );
    // Installing it again (expecting none) conflicts.
    assert_eq!(
        conflict(
            store
                .apply(
                    vec![set_plugin("tone", Some("d2"), None, None)],
                    audit("plugin.install", None)
                )
                .await
        ),
        "plugin 'tone' was changed meanwhile"
    );
    store
        .apply(
            vec![set_plugin("tone", Some("d2"), Some("d1"), Some("d1"))],
            audit("plugin.upgrade", None),
        )
        .await
        .expect("upgrade");
    // An upgrade from a version that is no longer active conflicts.
    conflict(
        store
            .apply(
                vec![set_plugin("tone", Some("d3"), Some("d1"), Some("d1"))],
                audit("plugin.upgrade", None),
            )
            .await,
    );
    store
        .apply(
            vec![set_plugin("alpha", Some("a1"), None, None)],
            audit("plugin.install", None),
        )
        .await
        .expect("install another");
    assert_eq!(
        plugins(&store).await,
        vec![
            PluginRow {
                name: "alpha".into(),
                active: "a1".into(),
                previous: None
            },
            PluginRow {
                name: "tone".into(),
                active: "d2".into(),
                previous: Some("d1".into())
            },
        ]
    );
    // Removing expects the active version too; removing a missing plugin conflicts.
    conflict(
        store
            .apply(
                vec![set_plugin("tone", None, None, Some("d1"))],
                audit("plugin.remove", None),
            )
            .await,
    );
    store
        .apply(
            vec![set_plugin("tone", None, None, Some("d2"))],
            audit("plugin.remove", None),
        )
        .await
        .expect("remove");
    conflict(
        store
            .apply(
                vec![set_plugin("tone", None, None, Some("d2"))],
                audit("plugin.remove", None),
            )
            .await,
    );
    assert_eq!(
        plugins(&store)
            .await
            .iter()
            .map(|p| p.name.as_str())
            .collect::<Vec<_>>(),
        vec!["alpha"]
    );
}

async fn audit_log_is_newest_first_with_filter_and_paging(db: &Db) {
    let store = db.open().await;
    assert!(
        store
            .audit_log(None, None, 10)
            .await
            .expect("audit")
            .is_empty()
    );
    let tenants = [Some("a"), Some("b"), None, Some("a"), Some("b")];
    for (i, tenant) in tenants.iter().enumerate() {
        let entry = NewAuditEntry {
            before: (i % 2 == 0).then(|| format!(r#"{{"n":{i}}}"#)),
            after: Some(format!(r#"{{"n":{}}}"#, i + 1)),
            ..audit(&format!("action.{i}"), *tenant)
        };
        store
            .apply(
                vec![ControlWrite::PutSecret(secret("t", &format!("H{i}"), b"s"))],
                entry,
            )
            .await
            .expect("apply");
    }
    let all = store.audit_log(None, None, 10).await.expect("audit");
    let actions: Vec<_> = all.iter().map(|e| e.entry.action.as_str()).collect();
    assert_eq!(
        actions,
        vec!["action.4", "action.3", "action.2", "action.1", "action.0"]
    );
    assert!(all.windows(2).all(|w| w[0].id > w[1].id));
    assert!(all.iter().all(|e| e.at_ms > 1_600_000_000_000));
    let oldest = &all[4].entry;
    assert_eq!(
        (
            oldest.actor.as_str(),
            oldest.tenant.as_deref(),
            oldest.target.as_str()
        ),
        ("admin", Some("a"), "target")
    );
    assert_eq!(oldest.before.as_deref(), Some(r#"{"n":0}"#));
    assert_eq!(oldest.after.as_deref(), Some(r#"{"n":1}"#));
    assert_eq!(all[3].entry.before, None);
    assert_eq!(all[2].entry.tenant, None);
    // Filtered by tenant.
    let of_a: Vec<_> = store
        .audit_log(Some("a"), None, 10)
        .await
        .expect("audit")
        .into_iter()
        .map(|e| e.entry.action)
        .collect();
    assert_eq!(of_a, vec!["action.3", "action.0"]);
    // Paged: at most `limit`, then those before the last one seen.
    let page1 = store.audit_log(None, None, 2).await.expect("audit");
    assert_eq!(page1, all[..2]);
    let page2 = store
        .audit_log(None, Some(page1[1].id), 2)
        .await
        .expect("audit");
    assert_eq!(page2, all[2..4]);
    let page3 = store
        .audit_log(None, Some(page2[1].id), 2)
        .await
        .expect("audit");
    assert_eq!(page3, all[4..]);
    let last_of_b = store
        .audit_log(Some("b"), Some(all[0].id), 10)
        .await
        .expect("audit");
    assert_eq!(
        last_of_b
            .iter()
            .map(|e| e.entry.action.as_str())
            .collect::<Vec<_>>(),
        vec!["action.1"]
    );
    assert!(
        store
            .audit_log(None, None, 0)
            .await
            .expect("audit")
            .is_empty()
    );
}

async fn control_version_counts_changes_across_connections(db: &Db) {
    let store = db.open().await;
    let other = db.open().await;
    assert_eq!(store.control_version().await.expect("version"), 0);
    assert_eq!(other.control_state().await.expect("state").version, 0);
    let v1 = store
        .apply(
            vec![put_tenant("t", "{}", None)],
            audit("tenant.create", Some("t")),
        )
        .await
        .expect("apply");
    assert_eq!(v1, 1);
    // The other connection (another replica) sees the change and its version.
    assert_eq!(other.control_version().await.expect("version"), 1);
    let state = other.control_state().await.expect("state");
    assert_eq!((state.version, state.tenants.len()), (1, 1));
    let v2 = other
        .apply(
            vec![put_tenant("t", "{\"x\":1}", Some(1))],
            audit("tenant.update", Some("t")),
        )
        .await
        .expect("apply");
    assert_eq!(v2, 2);
    assert_eq!(store.control_version().await.expect("version"), 2);
    // Changes made at once from both connections are serialized: each gets its own
    // version, one apart, and none is lost.
    let changes = (0..8).map(|i| {
        let store = if i % 2 == 0 {
            store.clone()
        } else {
            other.clone()
        };
        async move {
            store
                .apply(
                    vec![put_tenant(&format!("c{i}"), "{}", None)],
                    audit("tenant.create", None),
                )
                .await
                .expect("concurrent apply")
        }
    });
    let mut versions = futures::future::join_all(changes).await;
    versions.sort_unstable();
    assert_eq!(versions, (3..=10).collect::<Vec<u64>>());
    assert_eq!(store.control_version().await.expect("version"), 10);
    assert_eq!(other.control_state().await.expect("state").tenants.len(), 9);
}

/// Changes racing from two connections on the same expectation (install a plugin
/// that is not there, create a tenant): exactly one commits, the others conflict.
async fn racing_changes_with_the_same_expectation_let_one_win(db: &Db) {
    let stores = [db.open().await, db.open().await];
    let race = |write: fn(usize) -> ControlWrite| {
        futures::future::join_all((0..8).map(|i| {
            let store = stores[i % 2].clone();
            async move { store.apply(vec![write(i)], audit("race", None)).await }
        }))
    };
    let installs = race(|i| set_plugin("tone", Some(&format!("d{i}")), None, None)).await;
    let creates = race(|i| put_tenant("t", &format!("{{\"n\":{i}}}"), None)).await;
    for outcomes in [installs, creates] {
        let won = outcomes.iter().filter(|r| r.is_ok()).count();
        let conflicts = outcomes
            .iter()
            .filter(|r| matches!(r, Err(StoreError::Conflict(_))))
            .count();
        assert_eq!((won, conflicts), (1, 7), "{outcomes:?}");
    }
    assert_eq!(stores[0].control_version().await.expect("version"), 2);
    let state = stores[1].control_state().await.expect("state");
    assert_eq!((state.plugins.len(), state.tenants.len()), (1, 1));
}

// PostgreSQL only.

/// Several replicas starting at once on a fresh database: each migration runs once,
/// and every replica ends up with the whole schema.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_replicas_migrate_a_fresh_database_at_once() {
    let url = TestPostgres::fresh_database().await;
    let connects = (0..4).map(|_| {
        let url = url.clone();
        tokio::spawn(async move { Store::connect(Some(&url), None, Path::new("unused")).await })
    });
    let stores: Vec<Store> = futures::future::join_all(connects)
        .await
        .into_iter()
        .map(|joined| joined.expect("task").expect("connect"))
        .collect();
    let client = TestPostgres::client(&url).await;
    let applied: Vec<i32> = client
        .query(
            "SELECT version FROM schema_migrations ORDER BY version",
            &[],
        )
        .await
        .expect("query")
        .iter()
        .map(|row| row.get(0))
        .collect();
    let expected: Vec<i32> = migrations::MIGRATIONS
        .iter()
        .map(|m| i32::try_from(m.version).expect("version"))
        .collect();
    assert_eq!(applied, expected);
    for store in &stores {
        assert_eq!(store.backend_name(), "postgres");
        assert_eq!(store.control_version().await.expect("version"), 0);
    }
}

/// An older host refuses a database that a newer one has migrated.
#[tokio::test]
async fn postgres_refuses_a_newer_schema() {
    let url = TestPostgres::fresh_database().await;
    drop(
        Store::connect(Some(&url), None, Path::new("unused"))
            .await
            .expect("connect"),
    );
    // Connecting again to an up-to-date database is fine.
    drop(
        Store::connect(Some(&url), None, Path::new("unused"))
            .await
            .expect("reconnect"),
    );
    let newer = i32::try_from(migrations::latest() + 1).expect("version");
    TestPostgres::client(&url)
        .await
        .execute(
            "INSERT INTO schema_migrations (version, applied_at) VALUES ($1, 0)",
            &[&newer],
        )
        .await
        .expect("insert");
    match Store::connect(Some(&url), None, Path::new("unused")).await {
        Err(StoreError::Corrupt(message)) => {
            assert!(message.contains("schema version"), "{message}")
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
}

/// Keys, tenants and plugins are ordered by bytes, as on SQLite, also in a
/// database whose own collation orders otherwise.
#[tokio::test]
async fn postgres_orders_by_bytes_whatever_the_collation() {
    let url = TestPostgres::shared()
        .create_database(
            "icu",
            "TEMPLATE template0 ENCODING 'UTF8' LOCALE 'C' \
             LOCALE_PROVIDER icu ICU_LOCALE 'en-US'",
        )
        .await;
    let store = Store::connect(Some(&url), None, Path::new("unused"))
        .await
        .expect("connect");
    // The database really sorts otherwise (ICU: a < b < B < é < f).
    let sorted: Vec<String> = TestPostgres::client(&url)
        .await
        .query(
            "SELECT k FROM unnest(ARRAY['f', 'é', 'B', 'b', 'a']) AS k ORDER BY k",
            &[],
        )
        .await
        .expect("query")
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert_eq!(sorted, ["a", "b", "B", "é", "f"]);
    let keys = ["f", "é", "B", "b", "a"];
    let pairs = keys
        .iter()
        .map(|k| (k.to_string(), b"v".to_vec()))
        .collect();
    store
        .kv_put_many(&DataOf::tenant("t"), "p", pairs)
        .await
        .expect("put");
    let bytewise = vec!["B", "a", "b", "f", "é"];
    assert_eq!(
        store.kv_list("t", "p", "", 10).await.expect("list"),
        bytewise
    );
    let scanned: Vec<String> = store
        .kv_scan("t", "p", "")
        .await
        .expect("scan")
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    assert_eq!(scanned, bytewise);
    let writes = keys
        .iter()
        .flat_map(|k| {
            [
                put_tenant(k, "{}", None),
                set_plugin(k, Some("d"), None, None),
            ]
        })
        .collect();
    store
        .apply(writes, audit("setup", None))
        .await
        .expect("apply");
    let state = store.control_state().await.expect("state");
    assert_eq!(
        state
            .tenants
            .iter()
            .map(|t| t.id.as_str())
            .collect::<Vec<_>>(),
        bytewise
    );
    assert_eq!(
        state
            .plugins
            .iter()
            .map(|p| p.name.as_str())
            .collect::<Vec<_>>(),
        bytewise
    );
}

/// With `sslmode=require` (or libpq's `verify-full`) the store speaks TLS and
/// verifies the server: trusting the CA the operator names, it connects; trusting
/// only the public roots, the handshake fails on the certificate; a CA file with
/// a URL that asks for no TLS is refused, not ignored. The bridge's queue, on the
/// same pool, likewise.
#[tokio::test]
async fn postgres_is_reached_over_tls_with_the_server_verified() {
    let server = TestPostgres::shared();
    let ca = server.ca_file();
    let url = TestPostgres::fresh_database().await;
    for mode in ["require", "verify-full"] {
        let tls_url = format!("{url}?sslmode={mode}");
        let store = Store::connect(Some(&tls_url), Some(&ca), Path::new("unused"))
            .await
            .unwrap_or_else(|e| panic!("{mode}, trusting the cluster's CA: {e}"));
        store.control_version().await.expect("a query over TLS");
    }
    let tls_url = format!("{url}?sslmode=require");
    match Store::connect(Some(&tls_url), None, Path::new("unused")).await {
        Err(StoreError::Postgres(message)) => {
            assert!(message.contains("certificate"), "{message}");
        }
        other => panic!("a server no trusted root vouches for was accepted: {other:?}"),
    }
    match Store::connect(Some(&url), Some(&ca), Path::new("unused")).await {
        Err(StoreError::Postgres(message)) => {
            assert!(message.contains("sslmode=require"), "{message}");
        }
        other => panic!("a CA file without TLS was accepted: {other:?}"),
    }
    let queue = crossdesk_bridge::queue::QueueSettings {
        url: Some(tls_url.clone().into()),
        ca_file: Some(ca.clone()),
        ..Default::default()
    };
    crossdesk_bridge::queue::Queue::open(&queue, Path::new("unused"))
        .await
        .expect("the bridge's queue over TLS");
    let untrusted = crossdesk_bridge::queue::QueueSettings {
        ca_file: None,
        ..queue
    };
    let refused = crossdesk_bridge::queue::Queue::open(&untrusted, Path::new("unused"))
        .await
        .expect_err("no trusted root vouches for the server");
    assert!(refused.to_string().contains("certificate"), "{refused}");
}

/// Connection problems name their cause, and never repeat the URL's password.
#[tokio::test]
async fn postgres_connection_errors_are_described() {
    // A loopback port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let url = format!("postgres://crossdesk:sekrit@127.0.0.1:{port}/crossdesk");
    match Store::connect(Some(&url), None, Path::new("unused")).await {
        Err(StoreError::Postgres(message)) => {
            assert!(message.contains("connect"), "{message}");
            assert!(!message.contains("sekrit"), "{message}");
        }
        other => panic!("expected a connection error, got {other:?}"),
    }
    match Store::connect(
        Some("postgres://user:sekrit@127.0.0.1:notaport/db"),
        None,
        Path::new("unused"),
    )
    .await
    {
        Err(StoreError::Postgres(message)) => {
            assert!(message.contains("invalid PostgreSQL URL"), "{message}");
            assert!(!message.contains("sekrit"), "{message}");
        }
        other => panic!("expected an invalid URL error, got {other:?}"),
    }
}

/// The server's own message, with its SQLSTATE, reaches the caller: here a
/// tenant id PostgreSQL cannot store (text holds no NUL character).
#[tokio::test]
async fn postgres_errors_carry_the_server_message() {
    let url = TestPostgres::fresh_database().await;
    let store = Store::connect(Some(&url), None, Path::new("unused"))
        .await
        .expect("connect");
    match store
        .kv_put(&DataOf::tenant("nul\0tenant"), "p", "key", b"v".to_vec())
        .await
    {
        Err(StoreError::Postgres(message)) => {
            assert!(message.contains("22021"), "{message}");
        }
        other => panic!("expected a database error, got {other:?}"),
    }
    // The connection it failed on is still good for the next call.
    store
        .kv_put(&DataOf::tenant("t"), "p", "key", b"v".to_vec())
        .await
        .expect("put after error");
}
