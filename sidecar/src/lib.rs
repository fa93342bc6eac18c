//! The Crossdesk sidecar: runs a tenant's sandboxed WebAssembly plugins on the
//! helpdesk events it receives over gRPC and returns the actions they ask for.
//! The API's types come from `crossdesk-proto`; this crate knows no plugin and no
//! helpdesk (the webhook bridge is `crossdesk-bridge`, the binary `crossdesk`).
//!
//! The data path, one module each:
//! `api` (gRPC edge) → `pipeline` (tenants, cache, outcomes; within it `idempotency`
//! remembers responses for redeliveries, `ordering` runs a customer's events one at
//! a time, `admission` applies quotas) →
//! `runtime` (wasmtime components, limits, capabilities) → `store` (persistence:
//! SQLite or PostgreSQL). `auth` decides which caller may act for which tenant.
//!
//! The control path: `admin` (the admin API and web page) → `control` (tenants' settings,
//! validated against the plugins' typed `settings`, stored with an audit entry) →
//! the pipeline's snapshot is rebuilt. `grant` is the one model of what a tenant
//! grants a plugin and its validator; `limits` the per-call limits and quotas. `secrets` seals secret values at rest;
//! `signing` checks plugin signatures. `config` holds the settings of all of them.
//! `tools` runs what plugins offer admins (dataset imports, commands) in the
//! sandbox; `history` keeps the contact history those commands may read;
//! `insights` records tickets' figures and builds the admins' reports; both write
//! in the background, handed their records through `handoff`.

// Arithmetic on values from outside (sizes, counts, times) is checked or saturating:
// an overflow would panic in a debug build and wrap in a release one.
#![cfg_attr(not(test), warn(clippy::arithmetic_side_effects))]

pub mod admin;
pub mod api;
pub mod auth;
pub mod config;
pub mod conformance;
pub mod control;
pub mod grant;
pub mod handoff;
pub mod history;
pub mod insights;
pub mod limits;
pub mod metrics;
pub mod ops;
pub mod pipeline;
pub mod runtime;
pub mod secrets;
pub mod settings;
pub mod signing;
pub mod store;
pub mod tools;

pub use crossdesk_proto::{json, pb};

pub use config::Config;
pub use pipeline::Sidecar;
