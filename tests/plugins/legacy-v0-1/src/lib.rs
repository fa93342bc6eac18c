//! A plugin as released for contract 0.1.0: built with wit-bindgen against the
//! frozen `proto/wit/crossdesk-plugin@0.1.0` (not the SDK, which targets the
//! current contract). It reads a setting through 0.1.0's `config` interface and
//! counts events in storage, so the tests see every 0.1.0 import still answered.

// wit-bindgen's generated glue (the bindings and the export) is unsafe code; this
// fixture has none of its own.
#![allow(unsafe_code)]

#[allow(unreachable_pub, clippy::all)]
mod bindings {
    wit_bindgen::generate!({
        path: "../../../sdk/wit/crossdesk-plugin@0.1.0",
        world: "plugin",
    });
}

use bindings::crossdesk::plugin::types::{
    Action, Capabilities, Event, EventKind, PluginError, PluginManifest,
};
use bindings::crossdesk::plugin::{config, kv};

/// The plugin.
pub struct Legacy;

impl bindings::exports::crossdesk::plugin::handler::Guest for Legacy {
    fn manifest() -> PluginManifest {
        PluginManifest {
            name: "legacy".into(),
            version: "0.1.0".into(),
            description: "Greets in a note and counts messages (contract 0.1.0)".into(),
            events: vec![EventKind::CustomerMessage],
            capabilities: Capabilities {
                kv: true,
                outbound_hosts: Vec::new(),
                config_keys: vec!["greeting".into()],
            },
            cacheable: false,
        }
    }

    fn handle(event: Event) -> Result<Vec<Action>, PluginError> {
        let failed = |message: String| PluginError {
            message,
            retryable: false,
        };
        let greeting = config::get("greeting").unwrap_or_else(|| "hello".into());
        let seen = match kv::get("seen").map_err(|e| failed(format!("{e:?}")))? {
            Some(bytes) => String::from_utf8_lossy(&bytes).parse::<u64>().unwrap_or(0),
            None => 0,
        }
        .saturating_add(1);
        kv::put("seen", seen.to_string().as_bytes()).map_err(|e| failed(format!("{e:?}")))?;
        Ok(vec![
            Action::InternalNote(format!(
                "{greeting} from contract 0.1.0: event {} is message {seen}",
                event.event_id
            )),
            Action::AddTags(vec!["legacy".into()]),
        ])
    }
}

#[cfg(target_arch = "wasm32")]
bindings::export!(Legacy with_types_in bindings);
