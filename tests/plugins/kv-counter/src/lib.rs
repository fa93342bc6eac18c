//! Counts the customer messages of a tenant in key-value storage and reports the
//! count in a note: shows that storage persists, per tenant, and needs a grant.
//! With a `spin_ms` setting it computes that long between reading the count and
//! writing it back, so that two events run at once would lose an update; with
//! `atomic = "true"` it writes by compare-and-swap (`kv::update`), and does not.
use crossdesk_sdk::{Action, Event, EventKind, Manifest, Plugin, PluginError, clock, kv, settings};

pub struct Counter;

impl Plugin for Counter {
    fn manifest() -> Manifest {
        Manifest::new("kv-counter", "0.1.0")
            .handles(EventKind::CustomerMessage)
            .wants_kv()
            .reads_setting("spin_ms")
            .reads_setting("atomic")
    }

    fn handle(_event: Event) -> Result<Vec<Action>, PluginError> {
        let spin_ms: i64 = settings::get("spin_ms")
            .and_then(|ms| ms.parse().ok())
            .unwrap_or(0);
        let next = |old: Option<&[u8]>| {
            let count = old
                .map(|bytes| String::from_utf8_lossy(bytes).parse::<u64>().unwrap_or(0))
                .unwrap_or(0)
                + 1;
            spin(spin_ms);
            count
        };
        let count = if settings::get("atomic").as_deref() == Some("true") {
            let written = kv::update("count", |old| Some(next(old).to_string().into_bytes()))?;
            String::from_utf8_lossy(&written.unwrap_or_default())
                .parse::<u64>()
                .unwrap_or(0)
        } else {
            let count = next(kv::get("count")?.as_deref());
            kv::put("count", count.to_string().as_bytes())?;
            count
        };
        Ok(vec![Action::InternalNote(format!("count: {count}"))])
    }
}

/// Computes for `ms` milliseconds.
fn spin(ms: i64) {
    let until = clock::now_ms().saturating_add(ms);
    while clock::now_ms() < until {
        std::hint::spin_loop();
    }
}

crossdesk_sdk::export_plugin!(Counter);
