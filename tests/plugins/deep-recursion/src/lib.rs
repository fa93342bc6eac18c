//! Recurses without bound: the host's wasm stack limit must trap it.
use crossdesk_sdk::{Action, Event, EventKind, Manifest, Plugin, PluginError};

pub struct Recurse;

/// Each frame lives on the wasm stack (no address is taken, so nothing goes to the
/// shadow stack in linear memory), and the rotation after the call keeps the
/// optimizer from turning the recursion into a loop.
#[inline(never)]
fn depth(n: u64) -> u64 {
    if n == u64::MAX {
        return 0;
    }
    depth(n + 1).rotate_left((n % 61) as u32) ^ n
}

impl Plugin for Recurse {
    fn manifest() -> Manifest {
        Manifest::new("deep-recursion", "0.1.0").handles(EventKind::CustomerMessage)
    }

    fn handle(event: Event) -> Result<Vec<Action>, PluginError> {
        let n = depth(event.text.len() as u64);
        Ok(vec![Action::InternalNote(n.to_string())])
    }
}

crossdesk_sdk::export_plugin!(Recurse);
