//! Probes the host's sharing rules: reads the key named by the event's `read`
//! attribute and lists the keys under its `list` prefix (another plugin's storage,
//! `@<plugin>/...`), tries to write the key named by `write`, and reports every
//! result and the host's `crossdesk.*` attributes in one note per line. Its `fill`
//! attribute, `KEY:KIB`, writes that many kibibytes under `KEY` (the storage quota).
use crossdesk_sdk::{Action, Event, EventKind, Manifest, Plugin, PluginError, kv};

pub struct Probe;

impl Plugin for Probe {
    fn manifest() -> Manifest {
        Manifest::new("kv-probe", "0.1.0")
            .handles(EventKind::CustomerMessage)
            .wants_kv()
    }

    fn handle(event: Event) -> Result<Vec<Action>, PluginError> {
        let mut lines = Vec::new();
        if let Some(key) = event.attribute("read") {
            lines.push(match kv::get(key) {
                Ok(Some(value)) => format!("read {key}: {}", String::from_utf8_lossy(&value)),
                Ok(None) => format!("read {key}: none"),
                Err(e) => format!("read {key}: error: {e}"),
            });
        }
        if let Some(prefix) = event.attribute("list") {
            lines.push(match kv::list_keys(prefix) {
                Ok(keys) => format!("list {prefix}: {}", keys.join(",")),
                Err(e) => format!("list {prefix}: error: {e}"),
            });
        }
        if let Some(key) = event.attribute("write") {
            lines.push(match kv::put(key, b"probe") {
                Ok(()) => format!("write {key}: ok"),
                Err(e) => format!("write {key}: error: {e}"),
            });
        }
        if let Some(fill) = event.attribute("fill") {
            let spec = fill
                .split_once(':')
                .and_then(|(key, kib)| Some((key, kib.parse::<usize>().ok()?)));
            lines.push(match spec {
                Some((key, kib)) => match kv::put(key, &vec![b'x'; kib.saturating_mul(1024)]) {
                    Ok(()) => format!("fill {key}: ok"),
                    Err(e) => format!("fill {key}: error: {e}"),
                },
                None => format!("fill {fill}: not KEY:KIB"),
            });
        }
        for (key, value) in &event.attributes {
            if key.starts_with("crossdesk.") {
                lines.push(format!("attribute {key}={value}"));
            }
        }
        Ok(vec![Action::InternalNote(lines.join("\n"))])
    }
}

crossdesk_sdk::export_plugin!(Probe);
