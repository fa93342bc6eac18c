//! Crossdesk: a sidecar for helpdesks that runs sandboxed WebAssembly plugins on
//! helpdesk events received over gRPC and returns the actions they ask for.
//!
//! The data path, one module each:
//! `api` (gRPC edge) → `pipeline` (tenants, idempotency, cache, outcomes) →
//! `runtime` (wasmtime components, limits, capabilities) → `store` (persistence:
//! SQLite or PostgreSQL). `auth` decides which caller may act for which tenant.
//!
//! The control path: `admin` (the admin API) → `control` (tenants' settings,
//! validated against the plugins' typed `settings`, stored with an audit entry) →
//! the pipeline's snapshot is rebuilt. `secrets` seals secret values at rest;
//! `signing` checks plugin signatures. `config` holds the settings of all of them;
//! `json` maps events to and from the proto3 JSON form used by the CLI. `tools`
//! runs what plugins offer admins (dataset imports, commands) in the sandbox;
//! `history` keeps the contact history those commands may read.

pub mod admin;
pub mod api;
pub mod auth;
pub mod bridge;
pub mod config;
pub mod control;
pub mod history;
pub mod json;
pub mod pipeline;
pub mod runtime;
pub mod secrets;
pub mod settings;
pub mod signing;
pub mod store;
pub mod tools;

/// The gRPC APIs generated from `proto/crossdesk/v1/` (events and admin).
#[allow(missing_docs, unreachable_pub, clippy::all)]
pub mod pb {
    tonic::include_proto!("crossdesk.v1");

    /// Encoded descriptors of the API, for server reflection and JSON mapping.
    pub const FILE_DESCRIPTOR_SET: &[u8] =
        include_bytes!(concat!(env!("OUT_DIR"), "/crossdesk_descriptor.bin"));
}

pub use config::Config;
pub use pipeline::Sidecar;
