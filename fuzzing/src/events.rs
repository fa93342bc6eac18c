//! Events as the API receives them — protobuf from gRPC clients, proto3 JSON from
//! `crossdesk send` and the bridge's queue — through the sidecar's validation and
//! the conversion into what plugins of each contract version receive.

use crossdesk_proto::channel::channel_name;
use crossdesk_proto::{json, pb};
use crossdesk_sidecar::config::Config;
use crossdesk_sidecar::runtime::{legacy_plugin_event_debug, plugin_event};
use prost::Message;

/// `crossdesk.v1.Event` in protobuf, as a `HandleEvent` request carries it.
pub fn event_proto(data: &[u8]) {
    let Ok(event) = pb::Event::decode(data) else {
        return;
    };
    // What was decoded encodes and decodes to the same event (unknown fields,
    // which the sidecar never reads, are dropped on the first decode).
    let again = pb::Event::decode(event.encode_to_vec().as_slice())
        .unwrap_or_else(|e| panic!("a re-encoded event does not decode: {e}"));
    assert_eq!(again, event, "the event changed through protobuf");
    check_event(&event);
}

/// `crossdesk.v1.Event` in proto3 JSON, as `crossdesk send` reads it.
pub fn event_json(data: &[u8]) {
    let Some(text) = crate::text(data) else {
        return;
    };
    if let Ok(event) = json::event_from_json(text) {
        check_event(&event);
    }
}

/// What holds for any event the API decodes, valid or not.
pub(crate) fn check_event(event: &pb::Event) {
    let max_text_bytes = Config::default().server.max_text_bytes;
    let verdict = crossdesk_proto::rules::check(event, max_text_bytes);
    if verdict.is_ok() {
        assert!(!event.tenant_id.is_empty() && !event.event_id.is_empty());
        assert!(event.event_id.len() <= 256 && event.text.len() <= max_text_bytes);
        assert!(pb::EventKind::try_from(event.kind).is_ok_and(|k| k != pb::EventKind::Unspecified));
        assert!(pb::Channel::try_from(event.channel).is_ok());
    }

    // proto3 JSON, as the bridge queues events and the CLI prints them: an event
    // rendered reads back the same (rendering may refuse what JSON cannot
    // carry, such as a timestamp outside years 1 to 9999).
    if let Ok(rendered) = json::to_json("crossdesk.v1.Event", event) {
        let back = json::event_from_json(&rendered)
            .unwrap_or_else(|e| panic!("a rendered event does not parse: {e}\n{rendered}"));
        assert_eq!(&back, event, "the event changed through JSON:\n{rendered}");
    }

    // What a plugin receives: every field, as the contract names it.
    let wit = plugin_event(event);
    assert_eq!(wit.tenant_id, event.tenant_id);
    assert_eq!(wit.event_id, event.event_id);
    assert_eq!(wit.ticket_id, event.ticket_id);
    assert_eq!(wit.text, event.text);
    assert_eq!(wit.channel, channel_name(event));
    let attributes: Vec<(String, String)> = event
        .attributes
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    assert_eq!(wit.attributes, attributes);
    match (&wit.customer, &event.customer) {
        (Some(to), Some(from)) => {
            assert_eq!(to.id, from.id);
            assert_eq!(to.locale.as_deref().unwrap_or(""), from.locale);
            assert_eq!(to.time_zone.as_deref().unwrap_or(""), from.time_zone);
            let ids: Vec<(String, String)> = from
                .external_ids
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            assert_eq!(to.external_ids, ids);
        }
        (None, None) => {}
        _ => panic!("the customer was lost or made up"),
    }
    assert_eq!(wit.agent.is_some(), event.agent.is_some());
    // Milliseconds, exact where they fit and pinned near the end of i64 toward
    // which they overflow (the seconds come from outside and may be anything).
    if let Some(t) = &event.occurred_at {
        let exact = i128::from(t.seconds) * 1000 + i128::from(t.nanos) / 1_000_000;
        let ms = i128::from(wit.occurred_at_ms);
        if i64::try_from(exact).is_ok() && t.seconds.checked_mul(1000).is_some() {
            assert_eq!(ms, exact, "occurred_at {t:?}");
        } else {
            let end = if t.seconds < 0 { i64::MIN } else { i64::MAX };
            assert!(
                (ms - i128::from(end)).abs() <= 2_147,
                "occurred_at {t:?}: {ms}"
            );
        }
    } else {
        assert_eq!(wit.occurred_at_ms, 0);
    }

    // A plugin of contract 0.1.0 receives the same event, field for field.
    assert_eq!(legacy_plugin_event_debug(&wit), format!("{wit:?}"));
}
