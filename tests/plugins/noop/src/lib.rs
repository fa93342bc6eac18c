//! Handles every event kind and returns no actions: the plugin the benchmark chains.
use crossdesk_sdk::{Action, Event, EventKind, Manifest, Plugin, PluginError};

pub struct Noop;

impl Plugin for Noop {
    fn manifest() -> Manifest {
        [
            EventKind::CustomerMessage,
            EventKind::AgentReplyDrafted,
            EventKind::TicketCreated,
            EventKind::TicketSolved,
            EventKind::SatisfactionRated,
            EventKind::CustomerRegistered,
            EventKind::PurchaseRecorded,
            EventKind::ProfileUpdated,
            EventKind::TranslationCorrected,
        ]
        .into_iter()
        .fold(Manifest::new("noop", "0.1.0"), Manifest::handles)
    }

    fn handle(_event: Event) -> Result<Vec<Action>, PluginError> {
        Ok(Vec::new())
    }
}

crossdesk_sdk::export_plugin!(Noop);
