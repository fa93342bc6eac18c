//! Crossdesk: a sidecar for helpdesks that runs sandboxed WebAssembly plugins on
//! helpdesk events received over gRPC and returns the actions they ask for.
//!
//! The data path, one module each:
//! `api` (gRPC edge) → `pipeline` (tenants, idempotency, cache, outcomes) →
//! `runtime` (wasmtime components, limits, capabilities) → `store` (persistence).
//! `auth` decides which caller may submit events for which tenant. `config` holds
//! the settings of all of them; `json` maps events to and from the
//! proto3 JSON form used by the CLI; `exchange` reads and writes the translation
//! plugin's memory and glossary files (TMX, CSV term lists).

pub mod api;
pub mod auth;
pub mod config;
pub mod exchange;
pub mod json;
pub mod pipeline;
pub mod runtime;
pub mod store;

/// The gRPC API generated from `proto/crossdesk/v1/events.proto`.
#[allow(missing_docs, unreachable_pub, clippy::all)]
pub mod pb {
    tonic::include_proto!("crossdesk.v1");

    /// Encoded descriptors of the API, for server reflection and JSON mapping.
    pub const FILE_DESCRIPTOR_SET: &[u8] =
        include_bytes!(concat!(env!("OUT_DIR"), "/crossdesk_descriptor.bin"));
}

pub use config::Config;
pub use pipeline::Sidecar;
