//! The Crossdesk translation plugin: agents work in one language, customers write
//! in theirs.
//!
//! - A **customer message** is detected (whatlang; the customer's locale decides
//!   when the text is short or detection unreliable), tagged `lang-xx`, and — if it
//!   is not in the agents' language — translated into an internal note with a
//!   header saying how the language was decided, by which engine and along which
//!   route. The customer's text is never altered. The conversation's language is
//!   remembered per ticket while it is active ([`ticket_language`]).
//! - An **agent's reply draft** is translated into the customer's language (locale,
//!   else the ticket's remembered language) and replaces the draft; a note keeps the
//!   agent's original.
//! - A **translation correction** teaches the translation memory (the same source
//!   gets the corrected text next time, without calling the engine) and, optionally,
//!   forced glossary terms.
//!
//! Engines: Apertium APy (default), LibreTranslate, DeepL, Google Cloud
//! Translation, Azure Translator, Amazon Translate or a chat model in OpenAI's
//! format, over the SDK's `http` ([`engine`]), tried in the tenant's order with a
//! circuit breaker each ([`engine::health`]); a pair an engine lacks goes through
//! other languages ([`route`]).
//! URLs, addresses, order numbers, macros, mentions, code, quantities, HTML tags,
//! emoji and glossary terms come through byte-identical ([`protect`]). What the
//! plugin keeps in kv is laid out in [`memory`].
//!
//! Admins run four commands for a tenant (`crossdesk plugin exec translation
//! ...`): `import-tmx FILE` and `export-tmx [--output FILE]` exchange the
//! translation memory as TMX 1.4, `import-terms FILE` adds a CSV term list to the
//! glossary ([`exchange`]), `languages` lists what the engine reaches ([`reach`]).

mod detection;
pub mod engine;
pub mod exchange;
mod failover;
pub mod memory;
pub mod periods;
mod plugin;
pub mod protect;
pub mod reach;
pub mod route;
mod settings;
pub mod ticket_language;
mod tools;
pub mod vocabulary;

pub use crossdesk_text::lang;
pub use plugin::Translation;
pub use settings::Settings;

#[cfg(feature = "component")]
crossdesk_sdk::export_plugin!(Translation);
