//! The end-to-end suite: the real sidecar (in process, or as a `crossdesk`
//! process where a test kills it) on loopback, real gRPC clients, plugins built
//! from source, and the servers a test needs — one APy and one PostgreSQL per run,
//! a database per test.
//!
//! One executable with a module per area, so the whole crate graph is linked
//! once, not once per file.

mod admin;
mod admin_cli;
mod admin_page;
mod bridge;
mod bridge_queue;
mod cli;
mod conformance;
mod deploy;
mod durability;
mod engines;
mod event_api;
mod idempotency;
mod insights;
mod leak_check;
mod ops;
mod plugin_authoring;
mod plugin_tools;
mod recommend;
mod replicas;
mod sandbox;
mod schedule;
mod store;
mod tls;
mod tone;
mod traces;
mod translation;
mod warm;
