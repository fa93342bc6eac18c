//! Says it is cacheable, yet notes how many calls its instance has served: the
//! same event answered twice differs, so a cached answer would be wrong.
use std::sync::atomic::{AtomicU32, Ordering};

use crossdesk_sdk::{Action, Event, EventKind, Manifest, Plugin, PluginError};

static CALLS: AtomicU32 = AtomicU32::new(0);

pub struct CacheUnstable;

impl Plugin for CacheUnstable {
    fn manifest() -> Manifest {
        Manifest::new("cache-unstable", "0.1.0")
            .handles(EventKind::CustomerMessage)
            .cacheable(true)
    }

    fn handle(_event: Event) -> Result<Vec<Action>, PluginError> {
        let calls = CALLS.fetch_add(1, Ordering::Relaxed).wrapping_add(1);
        Ok(vec![Action::InternalNote(format!("call {calls}"))])
    }
}

crossdesk_sdk::export_plugin!(CacheUnstable);
