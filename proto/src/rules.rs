//! What an event must be to be accepted: its required fields, known enum values,
//! and a bound on every part a caller sends (ids, names, maps, text, time), so that
//! no field from outside can grow a plugin's input, a stored record or an error
//! message without limit, and no NUL character in any of them but the text and the
//! tenant id, which is looked up, not stored (PostgreSQL's text refuses a NUL: one
//! such id would fail every batch of report facts or records it joins). [`check`] is the one gate: the sidecar applies it to
//! every event it handles, the webhook bridge to every event it maps from a
//! helpdesk's payload, before queueing it.

use crate::pb;

/// Longest accepted event id, in bytes.
pub const MAX_EVENT_ID: usize = 256;
/// Longest accepted id, name, locale, country, time zone or custom kind, in bytes.
pub const MAX_FIELD: usize = 256;
/// Most entries in `attributes` or `customer.external_ids`.
pub const MAX_ENTRIES: usize = 64;
/// Longest key of such a map, in bytes.
pub const MAX_KEY: usize = 128;
/// Longest value of such a map, in bytes.
pub const MAX_VALUE: usize = 4096;
/// Earliest and latest `occurred_at` (0001-01-01T00:00:00Z to
/// 9999-12-31T23:59:59Z, what RFC 3339 can write).
const MIN_SECONDS: i64 = -62_135_596_800;
const MAX_SECONDS: i64 = 253_402_300_799;

/// Checks one event; the error names the field and the bound it broke.
pub fn check(event: &pb::Event, max_text_bytes: usize) -> Result<(), String> {
    if event.tenant_id.is_empty() {
        return Err("event.tenant_id is required".into());
    }
    if event.event_id.is_empty() {
        return Err("event.event_id is required (it is the idempotency key)".into());
    }
    bounded("event.event_id", &event.event_id, MAX_EVENT_ID)?;
    match pb::EventKind::try_from(event.kind) {
        Err(_) => return Err(format!("event.kind: unknown value {}", event.kind)),
        Ok(pb::EventKind::Unspecified) => return Err("event.kind is required".into()),
        Ok(pb::EventKind::Custom) if event.custom_kind.is_empty() => {
            return Err("event.custom_kind is required when kind is EVENT_KIND_CUSTOM".into());
        }
        Ok(_) => {}
    }
    match pb::Channel::try_from(event.channel) {
        Err(_) => return Err(format!("event.channel: unknown value {}", event.channel)),
        Ok(pb::Channel::Custom) if event.custom_channel.is_empty() => {
            return Err("event.custom_channel is required when channel is CHANNEL_CUSTOM".into());
        }
        Ok(_) => {}
    }
    if event.text.len() > max_text_bytes {
        return Err(format!(
            "event.text is {} bytes; the limit is {max_text_bytes}",
            event.text.len()
        ));
    }
    for (field, value) in [
        ("event.custom_kind", &event.custom_kind),
        ("event.custom_channel", &event.custom_channel),
        ("event.ticket_id", &event.ticket_id),
    ] {
        bounded(field, value, MAX_FIELD)?;
    }
    if let Some(customer) = &event.customer {
        for (field, value) in [
            ("event.customer.id", &customer.id),
            ("event.customer.locale", &customer.locale),
            ("event.customer.country", &customer.country),
            ("event.customer.time_zone", &customer.time_zone),
            ("event.customer.display_name", &customer.display_name),
        ] {
            bounded(field, value, MAX_FIELD)?;
        }
        bounded_map("event.customer.external_ids", &customer.external_ids)?;
    }
    if let Some(agent) = &event.agent {
        bounded("event.agent.id", &agent.id, MAX_FIELD)?;
        bounded(
            "event.agent.working_language",
            &agent.working_language,
            MAX_FIELD,
        )?;
    }
    bounded_map("event.attributes", &event.attributes)?;
    if let Some(at) = &event.occurred_at {
        if !(MIN_SECONDS..=MAX_SECONDS).contains(&at.seconds) {
            return Err(format!(
                "event.occurred_at: {} s since 1970 is outside years 1 to 9999",
                at.seconds
            ));
        }
        if !(0..1_000_000_000).contains(&at.nanos) {
            return Err(format!(
                "event.occurred_at: nanos {} is not within 0 to 999999999",
                at.nanos
            ));
        }
    }
    Ok(())
}

fn bounded(field: &str, value: &str, max: usize) -> Result<(), String> {
    if value.len() > max {
        return Err(format!(
            "{field} is {} bytes; the limit is {max}",
            value.len()
        ));
    }
    no_nul(field, value)
}

fn no_nul(field: &str, value: &str) -> Result<(), String> {
    if value.contains('\0') {
        return Err(format!("{field} contains a NUL character"));
    }
    Ok(())
}

fn bounded_map(
    field: &str,
    map: &std::collections::BTreeMap<String, String>,
) -> Result<(), String> {
    if map.len() > MAX_ENTRIES {
        return Err(format!(
            "{field} has {} entries; the limit is {MAX_ENTRIES}",
            map.len()
        ));
    }
    for (key, value) in map {
        // The key is cut before it is echoed: it is the caller's input.
        let shown: String = key.chars().take(32).collect();
        if key.len() > MAX_KEY {
            return Err(format!(
                "{field}: key '{shown}…' is {} bytes; the limit is {MAX_KEY}",
                key.len()
            ));
        }
        if value.len() > MAX_VALUE {
            return Err(format!(
                "{field}['{shown}'] is {} bytes; the limit is {MAX_VALUE}",
                value.len()
            ));
        }
        if key.contains('\0') || value.contains('\0') {
            let shown = shown.replace('\0', "\\0");
            no_nul(&format!("{field}: key '{shown}'"), key)?;
            no_nul(&format!("{field}['{shown}']"), value)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event() -> pb::Event {
        pb::Event {
            tenant_id: "acme".into(),
            event_id: "e1".into(),
            kind: pb::EventKind::CustomerMessage as i32,
            text: "hola".into(),
            ..pb::Event::default()
        }
    }

    fn refused(edit: impl FnOnce(&mut pb::Event)) -> String {
        let mut event = event();
        edit(&mut event);
        check(&event, 1 << 16).expect_err("refused")
    }

    #[test]
    fn a_plain_event_passes() {
        assert_eq!(check(&event(), 1 << 16), Ok(()));
    }

    #[test]
    fn no_id_name_or_map_entry_holds_a_nul_but_the_text_may() {
        let nul = "t\0".to_owned();
        type Edit<'a> = Box<dyn Fn(&mut pb::Event) + 'a>;
        // (The tenant id is looked up, not stored: an unknown one, whatever it
        // holds, is NOT_FOUND.)
        let cases: [(&str, Edit<'_>); 7] = [
            ("event.event_id", Box::new(|e| e.event_id = nul.clone())),
            ("event.ticket_id", Box::new(|e| e.ticket_id = nul.clone())),
            (
                "event.custom_channel",
                Box::new(|e| {
                    e.channel = pb::Channel::Custom as i32;
                    e.custom_channel = nul.clone();
                }),
            ),
            (
                "event.customer.id",
                Box::new(|e| {
                    e.customer = Some(pb::Customer {
                        id: nul.clone(),
                        ..pb::Customer::default()
                    })
                }),
            ),
            (
                "event.agent.id",
                Box::new(|e| {
                    e.agent = Some(pb::Agent {
                        id: nul.clone(),
                        ..pb::Agent::default()
                    })
                }),
            ),
            (
                "event.attributes: key 't\\0'",
                Box::new(|e| {
                    e.attributes.insert(nul.clone(), "v".into());
                }),
            ),
            (
                "event.attributes['k']",
                Box::new(|e| {
                    e.attributes.insert("k".into(), nul.clone());
                }),
            ),
        ];
        for (field, edit) in cases {
            let err = refused(edit);
            assert_eq!(err, format!("{field} contains a NUL character"));
        }
        let mut event = event();
        event.text = "a\0b".into();
        assert_eq!(check(&event, 1 << 16), Ok(()));
    }

    #[test]
    fn every_field_from_outside_is_bounded() {
        let long = "x".repeat(MAX_FIELD + 1);
        let err = refused(|e| e.ticket_id = long.clone());
        assert!(err.starts_with("event.ticket_id"), "{err}");
        let err = refused(|e| {
            e.customer = Some(pb::Customer {
                display_name: long.clone(),
                ..pb::Customer::default()
            })
        });
        assert!(err.starts_with("event.customer.display_name"), "{err}");
        let err = refused(|e| {
            e.customer = Some(pb::Customer {
                external_ids: (0..=MAX_ENTRIES)
                    .map(|i| (i.to_string(), "v".into()))
                    .collect(),
                ..pb::Customer::default()
            })
        });
        assert!(err.contains("entries"), "{err}");
        let err = refused(|e| {
            e.attributes.insert("k".repeat(10 * MAX_KEY), "v".into());
        });
        assert!(err.contains("key") && err.len() < 200, "{err}");
        let err = refused(|e| {
            e.attributes.insert("k".into(), "v".repeat(MAX_VALUE + 1));
        });
        assert!(err.starts_with("event.attributes['k']"), "{err}");
        let err = refused(|e| {
            e.agent = Some(pb::Agent {
                working_language: long.clone(),
                ..pb::Agent::default()
            })
        });
        assert!(err.starts_with("event.agent.working_language"), "{err}");
    }

    #[test]
    fn occurred_at_is_a_writable_time() {
        for (seconds, nanos) in [
            (i64::MAX, 0),
            (MIN_SECONDS - 1, 0),
            (0, -1),
            (0, 1_000_000_000),
        ] {
            let err = refused(|e| e.occurred_at = Some(prost_types::Timestamp { seconds, nanos }));
            assert!(err.starts_with("event.occurred_at"), "{err}");
        }
        let mut ok = event();
        ok.occurred_at = Some(prost_types::Timestamp {
            seconds: MAX_SECONDS,
            nanos: 999_999_999,
        });
        assert_eq!(check(&ok, 1 << 16), Ok(()));
    }
}
