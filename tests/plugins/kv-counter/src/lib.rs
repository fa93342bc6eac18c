//! Counts the customer messages of a tenant in key-value storage and reports the
//! count in a note: shows that storage persists, per tenant, and needs a grant.
//! With a `spin_ms` setting it computes that long between reading the count and
//! writing it back, so that two events run at once would lose an update.
use crossdesk_sdk::{Action, Event, EventKind, Manifest, Plugin, PluginError, clock, kv, settings};

pub struct Counter;

impl Plugin for Counter {
    fn manifest() -> Manifest {
        Manifest::new("kv-counter", "0.1.0")
            .handles(EventKind::CustomerMessage)
            .wants_kv()
            .reads_setting("spin_ms")
    }

    fn handle(_event: Event) -> Result<Vec<Action>, PluginError> {
        let count = match kv::get("count")? {
            Some(bytes) => String::from_utf8_lossy(&bytes).parse::<u64>().unwrap_or(0),
            None => 0,
        } + 1;
        let spin_ms: i64 = settings::get("spin_ms")
            .and_then(|ms| ms.parse().ok())
            .unwrap_or(0);
        let until = clock::now_ms().saturating_add(spin_ms);
        while clock::now_ms() < until {
            std::hint::spin_loop();
        }
        kv::put("count", count.to_string().as_bytes())?;
        Ok(vec![Action::InternalNote(format!("count: {count}"))])
    }
}

crossdesk_sdk::export_plugin!(Counter);
