//! The schema, as numbered migrations applied in order by both backends. Each
//! migration is written once per SQL dialect; the tables, columns and keys are the
//! same. A database records the migrations it has applied in `schema_migrations`,
//! so a newer host upgrades an older database on start, and an older host refuses a
//! database newer than it knows.

/// One step of the schema.
#[derive(Debug)]
pub struct Migration {
    pub version: u32,
    pub description: &'static str,
    pub sqlite: &'static str,
    pub postgres: &'static str,
}

/// Every migration, oldest first. Released entries are never edited: a change is a
/// new entry.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        description: "plugin key-value data and its generations",
        // IF NOT EXISTS: databases created before migrations were recorded have
        // these tables already.
        sqlite: "
            CREATE TABLE IF NOT EXISTS plugin_kv (
                tenant TEXT NOT NULL,
                plugin TEXT NOT NULL,
                key    TEXT NOT NULL,
                value  BLOB NOT NULL,
                PRIMARY KEY (tenant, plugin, key)
            ) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS plugin_kv_generation (
                tenant     TEXT NOT NULL,
                plugin     TEXT NOT NULL,
                generation INTEGER NOT NULL,
                PRIMARY KEY (tenant, plugin)
            ) WITHOUT ROWID;",
        postgres: "
            CREATE TABLE IF NOT EXISTS plugin_kv (
                tenant TEXT NOT NULL,
                plugin TEXT NOT NULL,
                key    TEXT NOT NULL,
                value  BYTEA NOT NULL,
                PRIMARY KEY (tenant, plugin, key)
            );
            CREATE TABLE IF NOT EXISTS plugin_kv_generation (
                tenant     TEXT NOT NULL,
                plugin     TEXT NOT NULL,
                generation BIGINT NOT NULL,
                PRIMARY KEY (tenant, plugin)
            );",
    },
    Migration {
        version: 2,
        description: "control plane: tenants, secrets, plugin versions, audit log",
        sqlite: "
            CREATE TABLE control_version (
                id      INTEGER PRIMARY KEY CHECK (id = 1),
                version INTEGER NOT NULL
            );
            INSERT INTO control_version (id, version) VALUES (1, 0);
            CREATE TABLE tenants (
                id       TEXT PRIMARY KEY,
                doc      TEXT NOT NULL,
                revision INTEGER NOT NULL
            );
            CREATE TABLE tenant_secrets (
                tenant TEXT NOT NULL,
                plugin TEXT NOT NULL,
                host   TEXT NOT NULL,
                header TEXT NOT NULL,
                sealed BLOB NOT NULL,
                PRIMARY KEY (tenant, plugin, host, header)
            );
            CREATE TABLE plugins (
                name     TEXT PRIMARY KEY,
                active   TEXT NOT NULL,
                previous TEXT
            );
            CREATE TABLE plugin_blobs (
                digest          TEXT PRIMARY KEY,
                name            TEXT NOT NULL,
                version         TEXT NOT NULL,
                bytes           BLOB NOT NULL,
                signature       TEXT,
                installed_at_ms INTEGER NOT NULL
            );
            CREATE TABLE audit_log (
                id     INTEGER PRIMARY KEY AUTOINCREMENT,
                at_ms  INTEGER NOT NULL,
                actor  TEXT NOT NULL,
                tenant TEXT,
                action TEXT NOT NULL,
                target TEXT NOT NULL,
                before TEXT,
                after  TEXT
            );
            CREATE INDEX audit_log_by_tenant ON audit_log (tenant, id);",
        postgres: "
            CREATE TABLE control_version (
                id      INTEGER PRIMARY KEY CHECK (id = 1),
                version BIGINT NOT NULL
            );
            INSERT INTO control_version (id, version) VALUES (1, 0);
            CREATE TABLE tenants (
                id       TEXT PRIMARY KEY,
                doc      TEXT NOT NULL,
                revision BIGINT NOT NULL
            );
            CREATE TABLE tenant_secrets (
                tenant TEXT NOT NULL,
                plugin TEXT NOT NULL,
                host   TEXT NOT NULL,
                header TEXT NOT NULL,
                sealed BYTEA NOT NULL,
                PRIMARY KEY (tenant, plugin, host, header)
            );
            CREATE TABLE plugins (
                name     TEXT PRIMARY KEY,
                active   TEXT NOT NULL,
                previous TEXT
            );
            CREATE TABLE plugin_blobs (
                digest          TEXT PRIMARY KEY,
                name            TEXT NOT NULL,
                version         TEXT NOT NULL,
                bytes           BYTEA NOT NULL,
                signature       TEXT,
                installed_at_ms BIGINT NOT NULL
            );
            CREATE TABLE audit_log (
                id     BIGSERIAL PRIMARY KEY,
                at_ms  BIGINT NOT NULL,
                actor  TEXT NOT NULL,
                tenant TEXT,
                action TEXT NOT NULL,
                target TEXT NOT NULL,
                before TEXT,
                after  TEXT
            );
            CREATE INDEX audit_log_by_tenant ON audit_log (tenant, id);",
    },
    Migration {
        version: 3,
        description: "contact history: arrivals and handling per tenant, quarter hour, language and channel",
        sqlite: "
            CREATE TABLE contact_history (
                tenant         TEXT NOT NULL,
                bucket_start_s INTEGER NOT NULL,
                language       TEXT NOT NULL,
                channel        TEXT NOT NULL,
                arrivals       INTEGER NOT NULL,
                handled        INTEGER NOT NULL,
                handle_secs    REAL NOT NULL,
                PRIMARY KEY (tenant, bucket_start_s, language, channel)
            ) WITHOUT ROWID;",
        postgres: "
            CREATE TABLE contact_history (
                tenant         TEXT NOT NULL,
                bucket_start_s BIGINT NOT NULL,
                language       TEXT NOT NULL,
                channel        TEXT NOT NULL,
                arrivals       BIGINT NOT NULL,
                handled        BIGINT NOT NULL,
                handle_secs    DOUBLE PRECISION NOT NULL,
                PRIMARY KEY (tenant, bucket_start_s, language, channel)
            );",
    },
    Migration {
        version: 4,
        description: "event responses: the first response to each event id, for redeliveries",
        // `response` is NULL while a replica's claim on the event runs; then
        // (a rowid table: responses can be kilobytes, too big for WITHOUT ROWID)
        // `expires_at_ms` is the claim's lease, afterwards the record's time to live.
        sqlite: "
            CREATE TABLE event_responses (
                tenant        TEXT NOT NULL,
                event_id      TEXT NOT NULL,
                event_hash    BLOB NOT NULL,
                owner         TEXT NOT NULL,
                response      BLOB,
                size          INTEGER NOT NULL,
                expires_at_ms INTEGER NOT NULL,
                PRIMARY KEY (tenant, event_id)
            );
            CREATE INDEX event_responses_by_expiry ON event_responses (expires_at_ms);",
        postgres: "
            CREATE TABLE event_responses (
                tenant        TEXT NOT NULL,
                event_id      TEXT NOT NULL,
                event_hash    BYTEA NOT NULL,
                owner         TEXT NOT NULL,
                response      BYTEA,
                size          BIGINT NOT NULL,
                expires_at_ms BIGINT NOT NULL,
                PRIMARY KEY (tenant, event_id)
            );
            CREATE INDEX event_responses_by_expiry ON event_responses (expires_at_ms);",
    },
    Migration {
        version: 5,
        description: "customer leases: one event of a customer at a time across replicas",
        sqlite: "
            CREATE TABLE customer_leases (
                tenant        TEXT NOT NULL,
                customer      TEXT NOT NULL,
                holder        TEXT NOT NULL,
                expires_at_ms INTEGER NOT NULL,
                PRIMARY KEY (tenant, customer)
            ) WITHOUT ROWID;",
        postgres: "
            CREATE TABLE customer_leases (
                tenant        TEXT NOT NULL,
                customer      TEXT NOT NULL,
                holder        TEXT NOT NULL,
                expires_at_ms BIGINT NOT NULL,
                PRIMARY KEY (tenant, customer)
            );",
    },
    Migration {
        version: 6,
        description: "replicas: heartbeats of the processes sharing the store",
        sqlite: "
            CREATE TABLE replicas (
                owner      TEXT PRIMARY KEY,
                seen_at_ms INTEGER NOT NULL
            ) WITHOUT ROWID;",
        postgres: "
            CREATE TABLE replicas (
                owner      TEXT PRIMARY KEY,
                seen_at_ms BIGINT NOT NULL
            );",
    },
    Migration {
        version: 7,
        description: "insights: tickets, their daily cells, translation counts",
        sqlite: "
            CREATE TABLE insight_tickets (
                tenant          TEXT NOT NULL,
                ticket          TEXT NOT NULL,
                customer        TEXT NOT NULL,
                created_s       INTEGER NOT NULL,
                first_reply_s   INTEGER,
                solved_s        INTEGER,
                last_customer_s INTEGER,
                reopens         INTEGER NOT NULL,
                rating          REAL,
                rating_s        INTEGER,
                country         TEXT NOT NULL,
                language        TEXT NOT NULL,
                channel         TEXT NOT NULL,
                category        TEXT NOT NULL,
                grp             TEXT NOT NULL,
                PRIMARY KEY (tenant, ticket)
            ) WITHOUT ROWID;
            CREATE INDEX insight_tickets_created ON insight_tickets (tenant, created_s);
            CREATE INDEX insight_tickets_customer ON insight_tickets (tenant, customer);
            CREATE TABLE insight_cells (
                tenant   TEXT NOT NULL,
                day      INTEGER NOT NULL,
                country  TEXT NOT NULL,
                language TEXT NOT NULL,
                channel  TEXT NOT NULL,
                category TEXT NOT NULL,
                grp      TEXT NOT NULL,
                tickets  INTEGER NOT NULL,
                figures  BLOB NOT NULL,
                PRIMARY KEY (tenant, day, country, language, channel, category, grp)
            ) WITHOUT ROWID;
            CREATE TABLE insight_translation (
                tenant     TEXT NOT NULL,
                day        INTEGER NOT NULL,
                source     TEXT NOT NULL,
                target     TEXT NOT NULL,
                translated INTEGER NOT NULL,
                corrected  INTEGER NOT NULL,
                PRIMARY KEY (tenant, day, source, target)
            ) WITHOUT ROWID;",
        postgres: "
            CREATE TABLE insight_tickets (
                tenant          TEXT NOT NULL,
                ticket          TEXT NOT NULL,
                customer        TEXT NOT NULL,
                created_s       BIGINT NOT NULL,
                first_reply_s   BIGINT,
                solved_s        BIGINT,
                last_customer_s BIGINT,
                reopens         INTEGER NOT NULL,
                rating          DOUBLE PRECISION,
                rating_s        BIGINT,
                country         TEXT NOT NULL,
                language        TEXT NOT NULL,
                channel         TEXT NOT NULL,
                category        TEXT NOT NULL,
                grp             TEXT NOT NULL,
                PRIMARY KEY (tenant, ticket)
            );
            CREATE INDEX insight_tickets_created ON insight_tickets (tenant, created_s);
            CREATE INDEX insight_tickets_customer ON insight_tickets (tenant, customer);
            CREATE TABLE insight_cells (
                tenant   TEXT NOT NULL,
                day      BIGINT NOT NULL,
                country  TEXT NOT NULL,
                language TEXT NOT NULL,
                channel  TEXT NOT NULL,
                category TEXT NOT NULL,
                grp      TEXT NOT NULL,
                tickets  BIGINT NOT NULL,
                figures  BYTEA NOT NULL,
                PRIMARY KEY (tenant, day, country, language, channel, category, grp)
            );
            CREATE TABLE insight_translation (
                tenant     TEXT NOT NULL,
                day        BIGINT NOT NULL,
                source     TEXT NOT NULL,
                target     TEXT NOT NULL,
                translated BIGINT NOT NULL,
                corrected  BIGINT NOT NULL,
                PRIMARY KEY (tenant, day, source, target)
            );",
    },
    Migration {
        version: 8,
        description: "insights: first replies per day, language and hour",
        sqlite: "
            CREATE TABLE insight_hours (
                tenant      TEXT NOT NULL,
                day         INTEGER NOT NULL,
                language    TEXT NOT NULL,
                hour        INTEGER NOT NULL,
                first_reply BLOB NOT NULL,
                PRIMARY KEY (tenant, day, language, hour)
            ) WITHOUT ROWID;",
        postgres: "
            CREATE TABLE insight_hours (
                tenant      TEXT NOT NULL,
                day         BIGINT NOT NULL,
                language    TEXT NOT NULL,
                hour        INTEGER NOT NULL,
                first_reply BYTEA NOT NULL,
                PRIMARY KEY (tenant, day, language, hour)
            );",
    },
    Migration {
        version: 9,
        description: "insights: whether a ticket's first reply came after business hours",
        sqlite: "ALTER TABLE insight_tickets ADD COLUMN after_hours INTEGER;",
        postgres: "ALTER TABLE insight_tickets ADD COLUMN after_hours BOOLEAN;",
    },
    Migration {
        version: 10,
        description: "insights: when each customer and their tickets were erased (by keyed \
                      digests), so that facts gathered before are not written after",
        sqlite: "
            CREATE TABLE insight_erasures (
                tenant    TEXT NOT NULL,
                mark      TEXT NOT NULL,
                erased_ms INTEGER NOT NULL,
                PRIMARY KEY (tenant, mark)
            ) WITHOUT ROWID;",
        postgres: "
            CREATE TABLE insight_erasures (
                tenant    TEXT NOT NULL,
                mark      TEXT NOT NULL,
                erased_ms BIGINT NOT NULL,
                PRIMARY KEY (tenant, mark)
            );",
    },
    Migration {
        version: 11,
        description: "insights: each ticket's first solve, so that a reopen counts whatever \
                      order its facts are written in",
        sqlite: "ALTER TABLE insight_tickets ADD COLUMN first_solved_s INTEGER;",
        postgres: "ALTER TABLE insight_tickets ADD COLUMN first_solved_s BIGINT;",
    },
    Migration {
        version: 12,
        description: "plugin storage: what each tenant's data of each plugin weighs, kept by \
                      its writes, for the quota",
        // 64: `KV_ENTRY_OVERHEAD`, as it was when this migration was written.
        // (`WHERE true`: SQLite's parser needs a clause before an upsert's ON.)
        sqlite: "
            ALTER TABLE plugin_kv_generation ADD COLUMN bytes INTEGER NOT NULL DEFAULT 0;
            INSERT INTO plugin_kv_generation (tenant, plugin, generation, bytes)
                SELECT tenant, plugin, 0, SUM(length(CAST(key AS BLOB)) + length(value) + 64)
                FROM plugin_kv WHERE true GROUP BY tenant, plugin
                ON CONFLICT (tenant, plugin) DO UPDATE SET bytes = excluded.bytes;",
        postgres: "
            ALTER TABLE plugin_kv_generation ADD COLUMN bytes BIGINT NOT NULL DEFAULT 0;
            INSERT INTO plugin_kv_generation (tenant, plugin, generation, bytes)
                SELECT tenant, plugin, 0, SUM(octet_length(key) + octet_length(value) + 64)
                FROM plugin_kv GROUP BY tenant, plugin
                ON CONFLICT (tenant, plugin) DO UPDATE SET bytes = excluded.bytes;",
    },
    Migration {
        version: 13,
        description: "insights: the days whose cells are out of date, marked with the facts \
                      that made them so, so that a crash before their rebuild loses none",
        sqlite: "
            CREATE TABLE insight_stale_days (
                tenant     TEXT NOT NULL,
                day        INTEGER NOT NULL,
                generation INTEGER NOT NULL,
                marked_ms  INTEGER NOT NULL,
                PRIMARY KEY (tenant, day)
            ) WITHOUT ROWID;",
        postgres: "
            CREATE TABLE insight_stale_days (
                tenant     TEXT NOT NULL,
                day        BIGINT NOT NULL,
                generation BIGINT NOT NULL,
                marked_ms  BIGINT NOT NULL,
                PRIMARY KEY (tenant, day)
            );",
    },
    Migration {
        version: 14,
        description: "insights: on PostgreSQL, the creation time a ticket's merge found, so \
                      that a ticket two replicas insert at once leaves no day counting it twice",
        // SQLite's writes are serialised: its merge reads the row first.
        sqlite: "",
        postgres: "ALTER TABLE insight_tickets ADD COLUMN merged_from_s BIGINT;",
    },
];

/// The newest schema version this host knows.
pub fn latest() -> u32 {
    MIGRATIONS.last().map_or(0, |m| m.version)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_consecutive_from_one() {
        for (i, m) in MIGRATIONS.iter().enumerate() {
            assert_eq!(m.version as usize, i + 1, "{}", m.description);
        }
    }
}
