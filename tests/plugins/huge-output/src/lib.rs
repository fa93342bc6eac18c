//! Returns 8 MiB of notes: more than the host's output limit.
use crossdesk_sdk::{Action, Event, EventKind, Manifest, Plugin, PluginError};

pub struct Flood;

impl Plugin for Flood {
    fn manifest() -> Manifest {
        Manifest::new("huge-output", "0.1.0").handles(EventKind::CustomerMessage)
    }

    fn handle(_event: Event) -> Result<Vec<Action>, PluginError> {
        Ok((0..128)
            .map(|_| Action::InternalNote("x".repeat(64 << 10)))
            .collect())
    }
}

crossdesk_sdk::export_plugin!(Flood);
