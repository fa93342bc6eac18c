//! Declares a setting of a type the host does not know (`integer`, where the
//! contract says `int`): the host refuses it at load time, not at a tenant's first
//! event.
use crossdesk_sdk::{Action, Event, EventKind, Manifest, Plugin, PluginError};

pub struct BadSetting;

impl Plugin for BadSetting {
    fn manifest() -> Manifest {
        Manifest::new("bad-setting", "0.1.0")
            .handles(EventKind::CustomerMessage)
            .reads_setting("retries: integer")
    }

    fn handle(_event: Event) -> Result<Vec<Action>, PluginError> {
        Ok(Vec::new())
    }
}

crossdesk_sdk::export_plugin!(BadSetting);
