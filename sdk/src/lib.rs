//! Write [Crossdesk](https://github.com/crossdesk/crossdesk) plugins in Rust.
//!
//! A plugin is a type implementing [`Plugin`], registered with [`export_plugin!`] and
//! built into a WebAssembly component (`make plugins` in the Crossdesk repository).
//! The host calls [`Plugin::handle`] for every helpdesk event of the kinds the
//! [`Manifest`] lists, each time in a fresh sandbox, and applies the [`Action`]s it
//! returns.
//!
//! ```
//! use crossdesk_sdk::{Action, Event, EventKind, Manifest, Plugin, PluginError};
//!
//! struct Greeter;
//!
//! impl Plugin for Greeter {
//!     fn manifest() -> Manifest {
//!         Manifest::new("greeter", "0.1.0").handles(EventKind::CustomerMessage)
//!     }
//!
//!     fn handle(event: Event) -> Result<Vec<Action>, PluginError> {
//!         Ok(vec![Action::InternalNote(format!("New message: {}", event.text))])
//!     }
//! }
//!
//! crossdesk_sdk::export_plugin!(Greeter);
//!
//! // Plugin logic is plain Rust: test it natively.
//! let actions = Greeter::handle(Event::new(EventKind::CustomerMessage, "Hello")).unwrap();
//! assert_eq!(actions, vec![Action::InternalNote("New message: Hello".into())]);
//! ```
//!
//! The host functions ([`kv`], [`config`], [`http`], [`log`], [`clock`]) reach the
//! host inside a component; in native builds they reach the [`testing`] host, which a
//! test sets up.

#![warn(missing_docs)]

// The generated bindings name this crate by path, also from inside it.
extern crate self as crossdesk_sdk;

mod host;
mod types;

// Inside a component the real host answers; the stand-in is only for native tests.
#[cfg_attr(target_arch = "wasm32", allow(dead_code))]
pub mod testing;

pub use host::{clock, config, http, kv, log};
pub use types::*;

/// The version of the plugin contract (`crossdesk:plugin`) this SDK builds against.
///
/// ```
/// assert_eq!(crossdesk_sdk::CONTRACT_VERSION, "0.1.0");
/// ```
pub const CONTRACT_VERSION: &str = "0.1.0";

/// A Crossdesk plugin. Implement it on a type of your own and register the type with
/// [`export_plugin!`].
///
/// ```
/// use crossdesk_sdk::{Action, Event, EventKind, Manifest, Plugin, PluginError};
///
/// struct Tagger;
///
/// impl Plugin for Tagger {
///     fn manifest() -> Manifest {
///         Manifest::new("tagger", "1.0.0")
///             .describe("Tags refund requests")
///             .handles(EventKind::CustomerMessage)
///             .cacheable(true)
///     }
///
///     fn handle(event: Event) -> Result<Vec<Action>, PluginError> {
///         if event.text.to_lowercase().contains("refund") {
///             Ok(vec![Action::AddTags(vec!["refund".into()])])
///         } else {
///             Ok(vec![])
///         }
///     }
/// }
/// # assert_eq!(Tagger::handle(Event::new(EventKind::CustomerMessage, "a refund")).unwrap().len(), 1);
/// ```
pub trait Plugin {
    /// Who the plugin is, which events it handles and what it asks the admin for.
    /// Called once when the host loads the plugin.
    fn manifest() -> Manifest;

    /// Handles one event. Returning an error reports the plugin as failed for this
    /// event; the host goes on with the other plugins.
    fn handle(event: Event) -> Result<Vec<Action>, PluginError>;
}

/// Registers a [`Plugin`] type as the component's export. Call it once per plugin
/// crate, at the top level.
///
/// ```
/// # use crossdesk_sdk::{Action, Event, Manifest, Plugin, PluginError};
/// struct Quiet;
/// impl Plugin for Quiet {
///     fn manifest() -> Manifest { Manifest::new("quiet", "0.1.0") }
///     fn handle(_: Event) -> Result<Vec<Action>, PluginError> { Ok(vec![]) }
/// }
/// crossdesk_sdk::export_plugin!(Quiet);
/// ```
#[macro_export]
macro_rules! export_plugin {
    ($plugin:ty) => {
        const _: () = {
            #[allow(dead_code)]
            struct CrossdeskExport;

            impl $crate::__private::Guest for CrossdeskExport {
                fn manifest() -> $crate::__private::WitManifest {
                    <$plugin as $crate::Plugin>::manifest().into()
                }

                fn handle(
                    event: $crate::__private::WitEvent,
                ) -> ::core::result::Result<
                    ::std::vec::Vec<$crate::__private::WitAction>,
                    $crate::__private::WitPluginError,
                > {
                    $crate::__private::handle::<$plugin>(event)
                }
            }

            // Native builds (unit tests) export nothing: the contract's symbol names
            // are for the component, not for a native shared library.
            #[cfg(target_arch = "wasm32")]
    $crate::__private::export!(CrossdeskExport with_types_in $crate::__private::bindings);
        };
    };
}

/// Plumbing for [`export_plugin!`]; not part of the API.
#[doc(hidden)]
pub mod __private {
    pub use crate::host::bindings;
    pub use crate::host::bindings::__export_crossdesk_plugin as export;
    pub use bindings::crossdesk::plugin::types::{
        Action as WitAction, Event as WitEvent, PluginError as WitPluginError,
        PluginManifest as WitManifest,
    };
    pub use bindings::exports::crossdesk::plugin::handler::Guest;

    pub fn handle<P: crate::Plugin>(event: WitEvent) -> Result<Vec<WitAction>, WitPluginError> {
        P::handle(event.into())
            .map(|actions| actions.into_iter().map(Into::into).collect())
            .map_err(Into::into)
    }
}
