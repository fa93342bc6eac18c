//! Probes the host's sharing rules: reads the key named by the event's `read`
//! attribute and lists the keys under its `list` prefix (another plugin's storage,
//! `@<plugin>/...`), tries to write the key named by `write`, and reports every
//! result and the host's `crossdesk.*` attributes in one note per line (with a
//! `strict` attribute, a refused read fails the call instead). Its `fill`
//! attribute, `KEY:KIB`, writes that many kibibytes under `KEY` (the storage quota);
//! `swap`, the same through compare-and-swap, where `KEY` holds nothing yet.
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
                // A plugin that cannot do without what it reads.
                Err(e) if event.attribute("strict").is_some() => return Err(e.into()),
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
        for how in ["fill", "swap"] {
            let Some(spec) = event.attribute(how) else {
                continue;
            };
            let parsed = spec
                .split_once(':')
                .and_then(|(key, kib)| Some((key, kib.parse::<usize>().ok()?)));
            let Some((key, kib)) = parsed else {
                lines.push(format!("{how} {spec}: not KEY:KIB"));
                continue;
            };
            let value = vec![b'x'; kib.saturating_mul(1024)];
            let written = match how {
                "fill" => kv::put(key, &value),
                _ => kv::compare_and_swap(key, None, Some(&value)).map(drop),
            };
            lines.push(match written {
                Ok(()) => format!("{how} {key}: ok"),
                Err(e) => format!("{how} {key}: error: {e}"),
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
