//! Counts the customer messages of a tenant in key-value storage and reports the
//! count in a note: shows that storage persists, per tenant, and needs a grant.
use crossdesk_sdk::{Action, Event, EventKind, Manifest, Plugin, PluginError, kv};

pub struct Counter;

impl Plugin for Counter {
    fn manifest() -> Manifest {
        Manifest::new("kv-counter", "0.1.0")
            .handles(EventKind::CustomerMessage)
            .wants_kv()
    }

    fn handle(_event: Event) -> Result<Vec<Action>, PluginError> {
        let count = match kv::get("count")? {
            Some(bytes) => String::from_utf8_lossy(&bytes).parse::<u64>().unwrap_or(0),
            None => 0,
        } + 1;
        kv::put("count", count.to_string().as_bytes())?;
        Ok(vec![Action::InternalNote(format!("count: {count}"))])
    }
}

crossdesk_sdk::export_plugin!(Counter);
