//! The database server's clock, as one process reads it. Replicas sharing a
//! database compare the times they write there (leases, claims, heartbeats,
//! retry times): taken from each replica's own clock, a replica whose clock
//! runs ahead would take a live lease as ended. Each measures how far its
//! clock is from the server's, the way NTP does (the server's reading against
//! the middle of the round trip), and adds that to its own: the replicas then
//! disagree by their measurements' error, a fraction of a round trip, however
//! far apart their own clocks are.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use deadpool_postgres::GenericClient;

/// The server's time now, in milliseconds since the epoch.
const SERVER_NOW_MS: &str = "SELECT (extract(epoch FROM clock_timestamp()) * 1000)::BIGINT";

/// The database server's clock: this process's clock, corrected by the offset
/// last measured ([`ServerClock::measure`]); uncorrected until then.
#[derive(Debug)]
pub struct ServerClock {
    offset_ms: AtomicI64,
    /// This process's clock (another in tests, to play a replica whose clock
    /// is off).
    local_ms: fn() -> i64,
}

impl Default for ServerClock {
    fn default() -> ServerClock {
        ServerClock::reading(local_now_ms)
    }
}

impl ServerClock {
    /// A clock corrected from `local_ms`, a reading of this process's clock in
    /// milliseconds since the epoch.
    pub fn reading(local_ms: fn() -> i64) -> ServerClock {
        ServerClock {
            offset_ms: AtomicI64::new(0),
            local_ms,
        }
    }

    /// Now, on the server's clock, in milliseconds since the epoch.
    pub fn now_ms(&self) -> i64 {
        (self.local_ms)().saturating_add(self.offset_ms.load(Ordering::Relaxed))
    }

    /// Measures the offset again with one query on `client`.
    pub async fn measure(&self, client: &impl GenericClient) -> Result<(), tokio_postgres::Error> {
        let sent = (self.local_ms)();
        let server: i64 = client.query_one(SERVER_NOW_MS, &[]).await?.try_get(0)?;
        let received = (self.local_ms)();
        let midway = sent.saturating_add(received.saturating_sub(sent) / 2);
        self.offset_ms
            .store(server.saturating_sub(midway), Ordering::Relaxed);
        Ok(())
    }
}

/// This process's clock, in milliseconds since the epoch.
pub fn local_now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}
