//! A plugin as released for contract 0.2.0: built with wit-bindgen against the
//! frozen `sdk/wit/crossdesk-plugin@0.2.0` (not the SDK, which targets the current
//! contract). It reads a setting and counts events in storage, so the tests see a
//! 0.2.0 component's imports answered by a host of a later 0.2.x contract.

// wit-bindgen's generated glue (the bindings and the export) is unsafe code; this
// fixture has none of its own.
#![allow(unsafe_code)]

#[allow(unreachable_pub, clippy::all)]
mod bindings {
    wit_bindgen::generate!({
        path: "../../../sdk/wit/crossdesk-plugin@0.2.0",
        world: "plugin",
    });
}

use bindings::crossdesk::plugin::types::{
    Action, Capabilities, Event, EventKind, PluginError, PluginManifest,
};
use bindings::crossdesk::plugin::{kv, settings};
use bindings::exports::crossdesk::plugin::tools::{CommandInput, CommandOutput, DatasetEntries};

/// The plugin.
pub struct Legacy;

fn failed(message: String) -> PluginError {
    PluginError {
        message,
        retryable: false,
    }
}

impl bindings::exports::crossdesk::plugin::handler::Guest for Legacy {
    fn manifest() -> PluginManifest {
        PluginManifest {
            name: "legacy-0-2".into(),
            version: "0.2.0".into(),
            description: "Greets in a note and counts messages (contract 0.2.0)".into(),
            events: vec![EventKind::CustomerMessage],
            capabilities: Capabilities {
                kv: true,
                outbound_hosts: Vec::new(),
                settings: vec!["greeting".into()],
            },
            cacheable: false,
            datasets: Vec::new(),
            commands: Vec::new(),
        }
    }

    fn handle(event: Event) -> Result<Vec<Action>, PluginError> {
        let greeting = settings::get("greeting").unwrap_or_else(|| "hello".into());
        let seen = match kv::get("seen").map_err(|e| failed(format!("{e:?}")))? {
            Some(bytes) => String::from_utf8_lossy(&bytes).parse::<u64>().unwrap_or(0),
            None => 0,
        }
        .saturating_add(1);
        kv::put("seen", seen.to_string().as_bytes()).map_err(|e| failed(format!("{e:?}")))?;
        Ok(vec![Action::InternalNote(format!(
            "{greeting} from contract 0.2.0: event {} is message {seen}",
            event.event_id
        ))])
    }
}

impl bindings::exports::crossdesk::plugin::tools::Guest for Legacy {
    fn import_dataset(
        dataset: String,
        _format: String,
        _content: Vec<u8>,
    ) -> Result<DatasetEntries, PluginError> {
        Err(failed(format!("no dataset '{dataset}'")))
    }

    fn run_command(command: String, _input: CommandInput) -> Result<CommandOutput, PluginError> {
        Err(failed(format!("no command '{command}'")))
    }
}

#[cfg(target_arch = "wasm32")]
bindings::export!(Legacy with_types_in bindings);
