//! The Crossdesk scheduling plugin: 24/7 routing by language and time zone, the
//! after-hours auto-reply, and the staffing plan behind it.
//!
//! * [`roster`]: agents, their languages, zones and weekly availability (JSON or
//!   CSV import), turned into instants with the IANA zone database.
//! * [`route`]: where a customer message goes — agents on shift who speak the
//!   language, else through translation, else after hours to the first to start.
//! * [`reply`]: the after-hours auto-reply in the customer's language, with the
//!   next shift in the customer's local time and the best knowledge-base answer.
//! * [`plugin`]: the component (kv, settings, the event); language detection and
//!   the knowledge base's ranking come from the shared `crossdesk-text` library,
//!   not from the other plugins.
//! * [`stored`]: the settings it declares and the roster's storage key.
//! * [`erlang`]: Erlang C — agents for a service level, and the service level,
//!   waiting probability, speed of answer and occupancy at a head count.
//! * [`forecast`]: contacts per interval and language from the contact history
//!   (weighted weeks or exponential smoothing).
//! * [`plan`]: agents required per interval and language, a week's shifts from the
//!   roster, the gaps, and the plain-text report; [`heatmap`] draws it as SVG.
//! * [`generate`]: a synthetic multi-language centre for a seed.
//! * [`tools`]: what admins get outside the event path — the `roster` dataset and
//!   the `erlang`, `roster-show`, `generate` and `plan` commands
//!   (`crossdesk plugin exec schedule ...`).
//!
//! Everything but the host calls of [`plugin`] and [`tools`] is pure.

pub mod erlang;
pub mod forecast;
pub mod generate;
pub mod heatmap;
pub mod plan;
pub mod plugin;
pub mod reply;
pub mod roster;
pub mod route;
pub mod stored;
pub mod tools;

pub use plugin::Schedule;
pub use roster::{Agent, Roster, RosterError};
pub use stored::{ROSTER_KEY, SETTING_KEYS};

#[cfg(feature = "component")]
crossdesk_sdk::export_plugin!(Schedule);
