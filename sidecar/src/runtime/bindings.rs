//! The one place that generates host bindings for the current plugin contract
//! (0.2.0), and the conversions between the contract's types and the gRPC API's
//! types. The rest of the host sees `pb` types and the few items re-exported here;
//! older contracts are adapted to these types in `v0_1`.

use crate::pb;
use crossdesk_proto::channel::channel_name;

wasmtime::component::bindgen!({
    path: "../sdk/wit/crossdesk-plugin@0.2.1",
    world: "plugin",
    imports: {
        // Storage, outbound HTTP and the contact history wait on I/O; the rest
        // answer at once.
        "crossdesk:plugin/kv": async,
        "crossdesk:plugin/http": async,
        "crossdesk:plugin/contacts": async,
    },
    exports: { default: async },
});

pub use self::crossdesk::plugin::types::Event as WitEvent;
pub(crate) use self::crossdesk::plugin::types::EventKind as WitEventKind;
pub(super) use self::crossdesk::plugin::types::{
    Action as WitAction, PluginError as WitPluginError, PluginManifest as WitPluginManifest,
};
use self::crossdesk::plugin::types::{Agent as WitAgent, Customer as WitCustomer};
pub(crate) use self::crossdesk::plugin::{clock, contacts, http, kv, log, settings, types};
pub(crate) use self::exports::crossdesk::plugin::tools;

/// Turns an event of the API into the contract's event.
pub fn event_to_wit(event: &pb::Event) -> WitEvent {
    let non_empty = |s: &str| (!s.is_empty()).then(|| s.to_owned());
    WitEvent {
        tenant_id: event.tenant_id.clone(),
        event_id: event.event_id.clone(),
        kind: kind_to_wit(event),
        ticket_id: event.ticket_id.clone(),
        channel: channel_name(event),
        customer: event.customer.as_ref().map(|c| WitCustomer {
            id: c.id.clone(),
            locale: non_empty(&c.locale),
            country: non_empty(&c.country),
            time_zone: non_empty(&c.time_zone),
            display_name: non_empty(&c.display_name),
            external_ids: c
                .external_ids
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        }),
        agent: event.agent.as_ref().map(|a| WitAgent {
            id: a.id.clone(),
            working_language: non_empty(&a.working_language),
        }),
        text: event.text.clone(),
        occurred_at_ms: event.occurred_at.as_ref().map_or(0, |t| {
            // Saturating: the seconds come from outside and may be anything.
            t.seconds
                .saturating_mul(1000)
                .saturating_add(i64::from(t.nanos) / 1_000_000)
        }),
        attributes: event
            .attributes
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    }
}

fn kind_to_wit(event: &pb::Event) -> WitEventKind {
    use pb::EventKind as K;
    match event.kind() {
        K::CustomerMessage => WitEventKind::CustomerMessage,
        K::AgentReplyDrafted => WitEventKind::AgentReplyDrafted,
        K::TicketCreated => WitEventKind::TicketCreated,
        K::TicketSolved => WitEventKind::TicketSolved,
        K::SatisfactionRated => WitEventKind::SatisfactionRated,
        K::CustomerRegistered => WitEventKind::CustomerRegistered,
        K::PurchaseRecorded => WitEventKind::PurchaseRecorded,
        K::ProfileUpdated => WitEventKind::ProfileUpdated,
        K::TranslationCorrected => WitEventKind::TranslationCorrected,
        K::Custom | K::Unspecified => WitEventKind::Other(event.custom_kind.clone()),
    }
}

/// The contract's name of an event kind: "customer-message", or the custom name.
pub(crate) fn kind_name(kind: &WitEventKind) -> String {
    match kind {
        WitEventKind::CustomerMessage => "customer-message".into(),
        WitEventKind::AgentReplyDrafted => "agent-reply-drafted".into(),
        WitEventKind::TicketCreated => "ticket-created".into(),
        WitEventKind::TicketSolved => "ticket-solved".into(),
        WitEventKind::SatisfactionRated => "satisfaction-rated".into(),
        WitEventKind::CustomerRegistered => "customer-registered".into(),
        WitEventKind::PurchaseRecorded => "purchase-recorded".into(),
        WitEventKind::ProfileUpdated => "profile-updated".into(),
        WitEventKind::TranslationCorrected => "translation-corrected".into(),
        WitEventKind::Other(name) => name.clone(),
    }
}

/// The names of the kinds the contract names (not custom ones).
pub(crate) fn built_in_kind_names() -> Vec<String> {
    [
        WitEventKind::CustomerMessage,
        WitEventKind::AgentReplyDrafted,
        WitEventKind::TicketCreated,
        WitEventKind::TicketSolved,
        WitEventKind::SatisfactionRated,
        WitEventKind::CustomerRegistered,
        WitEventKind::PurchaseRecorded,
        WitEventKind::ProfileUpdated,
        WitEventKind::TranslationCorrected,
    ]
    .iter()
    .map(kind_name)
    .collect()
}

/// Whether a plugin that subscribed to `wanted` handles `event`.
pub(crate) fn kind_matches(wanted: &WitEventKind, event: &WitEventKind) -> bool {
    match (wanted, event) {
        (WitEventKind::Other(a), WitEventKind::Other(b)) => a == b,
        (a, b) => std::mem::discriminant(a) == std::mem::discriminant(b),
    }
}

/// Turns a plugin's action into the API's action, attributed to `plugin`.
pub(crate) fn action_from_wit(plugin: &str, action: WitAction) -> pb::Action {
    use pb::action::Kind;
    let kind = match action {
        WitAction::InternalNote(text) => Kind::InternalNote(text),
        WitAction::ReplaceDraft(text) => Kind::ReplaceDraft(text),
        WitAction::AddTags(tags) => Kind::AddTags(pb::Tags { tags }),
        WitAction::SetFields(fields) => Kind::SetFields(pb::Fields {
            fields: fields.into_iter().collect(),
        }),
        WitAction::Recommend(items) => Kind::Recommend(pb::Recommendations {
            items: items
                .into_iter()
                .map(|r| pb::Recommendation {
                    kind: r.kind,
                    id: r.id,
                    title: r.title,
                    reason: r.reason,
                    score: r.score,
                })
                .collect(),
        }),
        WitAction::Route(r) => Kind::Route(pb::Routing {
            group: r.group.unwrap_or_default(),
            agent_id: r.agent_id.unwrap_or_default(),
            priority: r.priority.unwrap_or_default(),
            reason: r.reason,
        }),
        WitAction::AutoReply(text) => Kind::AutoReply(text),
        WitAction::FlagForReview(flag) => Kind::FlagForReview(pb::ReviewFlag {
            category: flag.category,
            reason: flag.reason,
        }),
    };
    pb::Action {
        plugin: plugin.to_owned(),
        kind: Some(kind),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_occurred_at_from_outside_saturates_instead_of_overflowing() {
        for (seconds, nanos, expected) in [
            (i64::MAX, 999_999_999, i64::MAX),
            (i64::MIN, -999_999_999, i64::MIN),
            (1_795_000_000, 500_000_000, 1_795_000_000_500),
        ] {
            let event = pb::Event {
                occurred_at: Some(prost_types::Timestamp { seconds, nanos }),
                ..Default::default()
            };
            assert_eq!(event_to_wit(&event).occurred_at_ms, expected, "{seconds}");
        }
    }
}
