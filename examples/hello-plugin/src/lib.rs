//! The Crossdesk plugin template. Copy this folder to start a plugin of your own.
//!
//! On a customer message it tags the inquiry by topic, remembers how often the
//! customer wrote (in the tenant's key-value storage) and leaves the agent a note
//! greeting returning customers; on an agent's reply draft it appends the tenant's
//! signature.

use crossdesk_sdk::{Action, Event, EventKind, Manifest, Plugin, PluginError, kv, log, settings};

/// Topic tags and the words that suggest them.
const TOPICS: &[(&str, &[&str])] = &[
    (
        "refund",
        &["refund", "reembolso", "remboursement", "erstattung", "返金"],
    ),
    (
        "shipping",
        &[
            "parcel",
            "delivery",
            "shipping",
            "pedido",
            "envío",
            "livraison",
            "配送",
        ],
    ),
    (
        "billing",
        &[
            "invoice", "charge", "billing", "factura", "rechnung", "請求",
        ],
    ),
    (
        "account",
        &["password", "login", "account", "cuenta", "konto"],
    ),
];

pub struct Hello;

impl Plugin for Hello {
    fn manifest() -> Manifest {
        Manifest::new("hello", env!("CARGO_PKG_VERSION"))
            .describe("Tags inquiries by topic, greets returning customers, signs replies")
            .handles(EventKind::CustomerMessage)
            .handles(EventKind::AgentReplyDrafted)
            .wants_kv()
            .reads_setting("greeting")
            .reads_setting("signature")
    }

    fn handle(event: Event) -> Result<Vec<Action>, PluginError> {
        match event.kind {
            EventKind::CustomerMessage => on_message(&event),
            EventKind::AgentReplyDrafted => Ok(sign(&event).into_iter().collect()),
            _ => Ok(Vec::new()),
        }
    }
}

crossdesk_sdk::export_plugin!(Hello);

/// The topic tags whose words appear in `text`.
pub fn topics(text: &str) -> Vec<String> {
    let text = text.to_lowercase();
    TOPICS
        .iter()
        .filter(|(_, words)| words.iter().any(|w| text.contains(w)))
        .map(|(tag, _)| (*tag).to_owned())
        .collect()
}

fn on_message(event: &Event) -> Result<Vec<Action>, PluginError> {
    let mut actions = Vec::new();
    let tags = topics(&event.text);
    if !tags.is_empty() {
        actions.push(Action::AddTags(tags));
    }
    let customer = event.customer.as_ref().map(|c| c.id.as_str()).unwrap_or("");
    if !customer.is_empty() {
        let key = format!("messages:{customer}");
        // Storage is optional: without the grant the plugin still tags.
        match kv::get(&key) {
            Ok(previous) => {
                let count = previous
                    .and_then(|v| String::from_utf8(v).ok())
                    .and_then(|v| v.parse::<u64>().ok())
                    .unwrap_or(0)
                    + 1;
                kv::put(&key, count.to_string().as_bytes())?;
                let greeting = settings::get("greeting").unwrap_or_else(|| "Hello".into());
                let name = event
                    .customer
                    .as_ref()
                    .and_then(|c| c.display_name.clone())
                    .unwrap_or_else(|| customer.to_owned());
                actions.push(Action::InternalNote(match count {
                    1 => format!("{greeting}! First message from {name}."),
                    n => format!("{greeting}! {name} has written {n} times."),
                }));
            }
            Err(error) => log::warn(&format!("not counting messages: {error}")),
        }
    }
    Ok(actions)
}

fn sign(event: &Event) -> Option<Action> {
    let signature = settings::get("signature")?;
    if event.text.trim_end().ends_with(signature.trim()) {
        return None; // already signed: signing twice would repeat it
    }
    Some(Action::ReplaceDraft(format!(
        "{}\n\n{}",
        event.text.trim_end(),
        signature
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossdesk_sdk::{Customer, testing::MockHost};

    fn message(text: &str) -> Event {
        Event::new(EventKind::CustomerMessage, text).with_customer(Customer {
            id: "c-1".into(),
            display_name: Some("Ana".into()),
            ..Default::default()
        })
    }

    #[test]
    fn tags_topics_in_several_languages() {
        assert_eq!(
            topics("Quiero un reembolso de mi pedido"),
            ["refund", "shipping"]
        );
        assert_eq!(topics("請求書について"), ["billing"]);
        assert!(topics("Good morning").is_empty());
    }

    #[test]
    fn counts_messages_per_customer() {
        let host = MockHost::new()
            .grant_kv()
            .setting("greeting", "Hi")
            .install();
        Hello::handle(message("hello")).unwrap();
        let actions = Hello::handle(message("my parcel?")).unwrap();
        assert_eq!(host.kv_value("messages:c-1"), Some(b"2".to_vec()));
        assert!(actions.contains(&Action::AddTags(vec!["shipping".into()])));
        assert!(actions.contains(&Action::InternalNote("Hi! Ana has written 2 times.".into())));
    }

    #[test]
    fn still_tags_without_storage() {
        let host = MockHost::new().install();
        let actions = Hello::handle(message("refund please")).unwrap();
        assert_eq!(actions, vec![Action::AddTags(vec!["refund".into()])]);
        assert_eq!(host.logs().len(), 1);
    }

    #[test]
    fn signs_a_draft_once() {
        MockHost::new()
            .setting("signature", "— Demo Corp")
            .install();
        let draft = Event::new(EventKind::AgentReplyDrafted, "Done.");
        let signed = Hello::handle(draft).unwrap();
        assert_eq!(
            signed,
            vec![Action::ReplaceDraft("Done.\n\n— Demo Corp".into())]
        );
        let again = Hello::handle(Event::new(
            EventKind::AgentReplyDrafted,
            "Done.\n\n— Demo Corp",
        ));
        assert_eq!(again.unwrap(), vec![]);
    }
}
