//! A Crossdesk plugin. On a customer message it tags the conversation with the
//! customer's language and, when the message asks about an order, leaves the agent
//! an internal note (worded by the tenant's `note_prefix` setting).

use crossdesk_sdk::{Action, Event, EventKind, Manifest, Plugin, PluginError, Setting, settings};

/// How the note on an order question starts. Declared once, typed; a mistake in a
/// declaration stops the build.
const NOTE_PREFIX: Setting = Setting::text("note_prefix")
    .doc("How the note on an order question starts")
    .default("Order question");

pub struct MyPlugin;

impl Plugin for MyPlugin {
    fn manifest() -> Manifest {
        Manifest::new("{{name}}", env!("CARGO_PKG_VERSION"))
            .describe("Tags the customer's language and flags order questions")
            .handles(EventKind::CustomerMessage)
            .setting(&NOTE_PREFIX)
            .cacheable(true)
    }

    fn handle(event: Event) -> Result<Vec<Action>, PluginError> {
        let mut actions = Vec::new();
        if let Some(language) = language(&event) {
            actions.push(Action::AddTags(vec![format!("lang-{language}")]));
        }
        if asks_about_an_order(&event.text) {
            let prefix = settings::read().text(&NOTE_PREFIX)?;
            actions.push(Action::InternalNote(format!("{prefix}: check the order status")));
        }
        Ok(actions)
    }
}

/// The customer's language, from their locale (`es-MX` → `es`).
fn language(event: &Event) -> Option<String> {
    let locale = event.customer.as_ref()?.locale.as_deref()?;
    let language = locale.split(['-', '_']).next()?.to_ascii_lowercase();
    (!language.is_empty()).then_some(language)
}

/// Whether the text asks about an order, in a few languages.
fn asks_about_an_order(text: &str) -> bool {
    let text = text.to_lowercase();
    ["order", "pedido", "bestellung", "commande", "注文"]
        .iter()
        .any(|word| text.contains(word))
}

crossdesk_sdk::export_plugin!(MyPlugin);

#[cfg(test)]
mod tests {
    use super::*;
    use crossdesk_sdk::Customer;
    use crossdesk_sdk::testing::MockHost;

    fn message(locale: &str, text: &str) -> Event {
        Event::new(EventKind::CustomerMessage, text).with_customer(Customer {
            id: "c-1".into(),
            locale: Some(locale.into()),
            ..Default::default()
        })
    }

    #[test]
    fn flags_order_questions_in_the_customers_language() {
        // Held to the manifest, as the host is: a setting it does not declare fails here.
        let _host = MockHost::new()
            .setting("note_prefix", "Pedido")
            .install_for::<MyPlugin>();
        let actions = MyPlugin::handle(message("es-MX", "¿Dónde está mi pedido?")).unwrap();
        assert_eq!(
            actions,
            vec![
                Action::AddTags(vec!["lang-es".into()]),
                Action::InternalNote("Pedido: check the order status".into()),
            ]
        );
    }

    #[test]
    fn leaves_other_messages_alone_but_tags_the_language() {
        let _host = MockHost::new().install_for::<MyPlugin>();
        assert_eq!(
            MyPlugin::handle(message("de-DE", "Guten Tag")).unwrap(),
            vec![Action::AddTags(vec!["lang-de".into()])]
        );
    }
}
