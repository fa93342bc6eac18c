//! The admin API (`crossdesk.v1.AdminService`) and the admin web page, on their own
//! listener ([`serve_admin`], `serve`). `service` decides who may call the API and
//! what each call does with the control plane; `convert` maps its messages to the
//! control plane's documents and back; `page` is the web page, a face on the API.
//!
//! Admins authenticate with a bearer token of `[[admin.users]]` (never an event-API
//! token: the two sets are disjoint and served on different listeners) or, when the
//! admin listener requires client certificates, with a certificate its CA signed.
//! An admin limited to some tenants sees and changes only those; installing,
//! upgrading and removing plugins needs an admin of every tenant (`"*"`).
//!
//! Every change is stored (with its audit entry) before the running pipelines are
//! rebuilt from the store, so what an admin is told is what the store holds.

mod convert;
mod page;
mod serve;
mod service;

pub use serve::{AdminServeError, serve_admin};
pub use service::AdminApi;
