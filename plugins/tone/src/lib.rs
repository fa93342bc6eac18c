//! The Crossdesk tone plugin: an agent's reply draft, adapted to the customer's
//! culture before it is sent.
//!
//! On every `AgentReplyDrafted` event the plugin
//!
//! 1. chooses a **tone profile** from the customer's locale, else the country
//!    ([`profile`]; the data table `data/profiles.toml` cites Hofstede's country
//!    scores, Hall's high/low context and published style guides for every value;
//!    the tenant may override any value);
//! 2. decides the **language the reply is written in** from the script and function
//!    words, with the agent's working language as fallback ([`language`]): the
//!    formulas it adds are in that language, the register and form of address come
//!    from the profile;
//! 3. scans for **sensitive topics** ([`sensitive`], lexicons in
//!    `data/sensitive.toml`) — a hit flags the reply for review and nothing is
//!    rewritten;
//! 4. otherwise applies the **rules** ([`rules`]): greeting, honorific, gratitude or
//!    apology opener, closing ([`formulas`]), filler trimming, emoji and exclamation
//!    policy; and reports informal address under a formal profile without rewriting
//!    it.
//!
//! An HTML draft (one that starts with a block tag such as `<p>`; [`html`]) is
//! judged on its text, tags stripped, and what the rules add comes as HTML.
//!
//! Placeholders — URLs, addresses, order numbers, macros, mentions, code, quantities
//! and the tenant's `keep_terms` — are never touched ([`spans`]). The plugin never
//! sends anything itself: its actions are `ReplaceDraft`, `InternalNote` and
//! `FlagForReview`. Running it on its own output changes nothing.

pub mod formulas;
pub mod html;
pub mod language;
pub mod matching;
pub mod names;
pub mod phrases;
mod plugin;
pub mod profile;
pub mod pronoun;
pub mod rules;
pub mod sensitive;
pub mod spans;
pub mod speech_level;

pub use plugin::{Draft, Review, SETTING_KEYS, Settings, Tone, review};

crossdesk_sdk::export_plugin!(Tone);
