//! Tags customer messages with its `tag` setting and echoes the text in a note;
//! with a `route_agent` setting, routes the ticket to that agent too.
//! Cacheable: the same event and settings always give the same actions.
use crossdesk_sdk::{Action, Event, EventKind, Manifest, Plugin, PluginError, Routing, settings};

pub struct Tagger;

impl Plugin for Tagger {
    fn manifest() -> Manifest {
        Manifest::new("tagger", "0.1.0")
            .handles(EventKind::CustomerMessage)
            .reads_setting("tag")
            .reads_setting("route_agent")
            .cacheable(true)
    }

    fn handle(event: Event) -> Result<Vec<Action>, PluginError> {
        let tag = settings::get("tag").unwrap_or_else(|| "untagged".into());
        let mut actions = vec![
            Action::AddTags(vec![tag]),
            Action::InternalNote(format!("echo: {}", event.text)),
        ];
        if let Some(agent_id) = settings::get("route_agent") {
            actions.push(Action::Route(Routing {
                agent_id: Some(agent_id),
                ..Routing::default()
            }));
        }
        Ok(actions)
    }
}

crossdesk_sdk::export_plugin!(Tagger);
