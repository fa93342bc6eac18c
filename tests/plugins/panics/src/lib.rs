//! Panics: in a component that is a trap, and only this plugin may fail.
use crossdesk_sdk::{Action, Event, EventKind, Manifest, Plugin, PluginError};

pub struct Panics;

impl Plugin for Panics {
    fn manifest() -> Manifest {
        Manifest::new("panics", "0.1.0").handles(EventKind::CustomerMessage)
    }

    fn handle(event: Event) -> Result<Vec<Action>, PluginError> {
        panic!(
            "this plugin always panics (text was {} bytes)",
            event.text.len()
        );
    }
}

crossdesk_sdk::export_plugin!(Panics);
