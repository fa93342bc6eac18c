//! The Crossdesk gRPC API as Rust types: the messages and services generated from
//! `crossdesk/v1/` (events and admin), their proto3 JSON mapping (`json`), and the
//! names the plugin contract gives channels (`channel`), and how the sidecar and
//! the bridge tell errors in their TOML files (`toml_errors`). Everything that speaks
//! the API — the sidecar, the webhook bridge, the CLI — depends on this crate,
//! and on nothing of the sidecar's internals.

// Arithmetic on values from outside (sizes, counts, times) is checked or saturating:
// an overflow would panic in a debug build and wrap in a release one.
#![cfg_attr(not(test), warn(clippy::arithmetic_side_effects))]

pub mod channel;
pub mod json;
pub mod rules;
pub mod toml_errors;

/// The gRPC APIs generated from `crossdesk/v1/` (events and admin).
#[allow(missing_docs, unreachable_pub, clippy::all)]
pub mod pb {
    tonic::include_proto!("crossdesk.v1");

    /// Encoded descriptors of the API, for server reflection and JSON mapping.
    pub const FILE_DESCRIPTOR_SET: &[u8] =
        include_bytes!(concat!(env!("OUT_DIR"), "/crossdesk_descriptor.bin"));
}
