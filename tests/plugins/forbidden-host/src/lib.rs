//! Fetches the URL of its `url` setting and reports the answer in a note, or fails
//! with the host's reason: shows outbound HTTP needs a grant for that very host,
//! that deadlines cover slow hosts, and that secrets are added by the host.
use crossdesk_sdk::{Action, Event, EventKind, Manifest, Plugin, PluginError, http, settings};

pub struct Fetch;

impl Plugin for Fetch {
    fn manifest() -> Manifest {
        Manifest::new("forbidden-host", "0.1.0")
            .handles(EventKind::CustomerMessage)
            .reads_setting("url")
    }

    fn handle(_event: Event) -> Result<Vec<Action>, PluginError> {
        let url = settings::get("url").unwrap_or_else(|| "http://example.com/".into());
        let response = http::get(&url)?;
        Ok(vec![Action::InternalNote(format!(
            "{} answered {}: {}",
            url,
            response.status,
            response.text()
        ))])
    }
}

crossdesk_sdk::export_plugin!(Fetch);
