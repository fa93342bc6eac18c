//! Tries to reach files through WASI: the host links WASI but preopens no
//! directory, so there is nothing to open. It reports what it found.
use crossdesk_sdk::{Action, Event, EventKind, Manifest, Plugin, PluginError};

#[allow(unsafe_code, unreachable_pub, clippy::all)]
mod wasi {
    wit_bindgen::generate!({ path: "wit", world: "probe", type_section_suffix: "file-probe" });
}

pub struct FileAccess;

impl Plugin for FileAccess {
    fn manifest() -> Manifest {
        Manifest::new("file-access", "0.1.0").handles(EventKind::CustomerMessage)
    }

    fn handle(_event: Event) -> Result<Vec<Action>, PluginError> {
        let directories = wasi::wasi::filesystem::preopens::get_directories();
        if directories.is_empty() {
            return Err(PluginError::new(
                "no preopened directories: the host granted no file access",
            ));
        }
        let names: Vec<String> = directories.into_iter().map(|(_, name)| name).collect();
        Ok(vec![Action::InternalNote(format!(
            "found directories: {names:?}"
        ))])
    }
}

crossdesk_sdk::export_plugin!(FileAccess);
