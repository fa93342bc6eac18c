//! The database server's clock, as one process reads it. Replicas sharing a
//! database compare the times they write there (leases, claims, heartbeats,
//! retry times): taken from each replica's own clock, a replica whose clock
//! runs ahead would take a live lease as ended. Each measures how far its
//! clock is from the server's, the way NTP does (the server's reading against
//! the middle of the round trip), and adds that to its own: the replicas then
//! disagree by their measurements' error, a fraction of a round trip, however
//! far apart their own clocks are.

use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use deadpool_postgres::GenericClient;

/// The server's time now, in milliseconds since the epoch.
const SERVER_NOW_MS: &str = "SELECT (extract(epoch FROM clock_timestamp()) * 1000)::BIGINT";

/// A reading whose round trip took longer is not taken, once one was: where
/// the server read its clock within it is uncertain by up to half of it (a
/// stalled runtime, a paused machine), and leases last seconds.
pub const MAX_ROUND_TRIP: Duration = Duration::from_millis(200);

/// The database server's clock: this process's clock, corrected by the offset
/// last measured ([`ServerClock::measure`]); uncorrected until then.
#[derive(Debug)]
pub struct ServerClock {
    offset_ms: AtomicI64,
    measured: AtomicBool,
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
            measured: AtomicBool::new(false),
            local_ms,
        }
    }

    /// Now, on the server's clock, in milliseconds since the epoch.
    pub fn now_ms(&self) -> i64 {
        (self.local_ms)().saturating_add(self.offset_ms.load(Ordering::Relaxed))
    }

    /// Measures the offset again with one round trip on `client` (its
    /// statement prepared first, apart). Whether the reading was taken: one
    /// slower than [`MAX_ROUND_TRIP`] is not, but the first.
    pub async fn measure(
        &self,
        client: &impl GenericClient,
    ) -> Result<bool, tokio_postgres::Error> {
        let statement = client.prepare_cached(SERVER_NOW_MS).await?;
        let sent = (self.local_ms)();
        let started = Instant::now();
        let server: i64 = client.query_one(&statement, &[]).await?.try_get(0)?;
        let round_trip = started.elapsed();
        if round_trip > MAX_ROUND_TRIP && self.measured.load(Ordering::Relaxed) {
            return Ok(false);
        }
        let half_ms = i64::try_from(round_trip.as_millis() / 2).unwrap_or(i64::MAX);
        self.offset_ms.store(
            server.saturating_sub(sent.saturating_add(half_ms)),
            Ordering::Relaxed,
        );
        self.measured.store(true, Ordering::Relaxed);
        Ok(true)
    }
}

/// This process's clock, in milliseconds since the epoch.
pub fn local_now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}
