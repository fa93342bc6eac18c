//! The properties Crossdesk is fuzzed for: one function per fuzz target, each
//! taking the raw bytes of an input that reaches Crossdesk from outside.
//!
//! Two harnesses call them. `cargo fuzz` (the `fuzz/` crate, nightly, libFuzzer)
//! runs each function on generated inputs for as long as `make fuzz` allows; this
//! crate's `tests/replay.rs` runs each on stable, under `cargo test`, on every
//! seed (`fuzz/seeds/<target>/`, generated from the repository's fixtures by
//! [`seeds`]) and every input that once failed (`fuzz/regressions/<target>/`),
//! so that a crash found once is a regression test from then on.
//!
//! A function panics — the finding — when a property fails:
//!
//! - the code under test never panics on its input;
//! - what it accepts, written back out the way Crossdesk writes it (protobuf,
//!   proto3 JSON, stored JSON, TMX, the admin API's listing of settings), reads
//!   back as the same value;
//! - what it promises about an accepted value holds (an imported price is
//!   non-negative, a signed delivery verifies, a mapped event passes the
//!   sidecar's validation, ...).
//!
//! Inputs without a format of their own (webhook deliveries, settings schemas,
//! signed plugins) are written in small text formats, documented on each
//! function, that seeds and crash files share.

mod config;
mod datasets;
mod events;
mod helpdesk;
mod manifest;
pub mod seeds;

pub use config::config;
pub use datasets::{catalog, kb, roster, terms, tmx};
pub use events::{event_json, event_proto};
pub use helpdesk::{chatwoot, freshdesk, mapping, zendesk};
pub use manifest::{manifest, settings, signature};

/// A fuzz target's body.
pub type Target = fn(&[u8]);

/// Every fuzz target, by the name of its `fuzz/fuzz_targets/<name>.rs` and of its
/// seed and regression folders.
pub const TARGETS: &[(&str, Target)] = &[
    ("event_proto", event_proto),
    ("event_json", event_json),
    ("config", config),
    ("settings", settings),
    ("manifest", manifest),
    ("signature", signature),
    ("mapping", mapping),
    ("zendesk", zendesk),
    ("freshdesk", freshdesk),
    ("chatwoot", chatwoot),
    ("tmx", tmx),
    ("terms", terms),
    ("catalog", catalog),
    ("kb", kb),
    ("roster", roster),
];

/// The input as text; fuzz inputs that are not UTF-8 are of no interest to a
/// parser of text, which receives a `&str`.
fn text(data: &[u8]) -> Option<&str> {
    std::str::from_utf8(data).ok()
}
