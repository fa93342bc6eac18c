//! Tags customer messages with its `tag` setting and echoes the text in a note.
//! Cacheable: the same event and setting always give the same actions.
use crossdesk_sdk::{Action, Event, EventKind, Manifest, Plugin, PluginError, settings};

pub struct Tagger;

impl Plugin for Tagger {
    fn manifest() -> Manifest {
        Manifest::new("tagger", "0.1.0")
            .handles(EventKind::CustomerMessage)
            .reads_setting("tag")
            .cacheable(true)
    }

    fn handle(event: Event) -> Result<Vec<Action>, PluginError> {
        let tag = settings::get("tag").unwrap_or_else(|| "untagged".into());
        Ok(vec![
            Action::AddTags(vec![tag]),
            Action::InternalNote(format!("echo: {}", event.text)),
        ])
    }
}

crossdesk_sdk::export_plugin!(Tagger);
