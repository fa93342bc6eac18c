//! Traps in `manifest()`: a host cannot learn what it is, so it must not load.
use crossdesk_sdk::{Action, Event, Manifest, Plugin, PluginError};

pub struct ManifestTraps;

impl Plugin for ManifestTraps {
    fn manifest() -> Manifest {
        panic!("no manifest today")
    }

    fn handle(_event: Event) -> Result<Vec<Action>, PluginError> {
        Ok(Vec::new())
    }
}

crossdesk_sdk::export_plugin!(ManifestTraps);
