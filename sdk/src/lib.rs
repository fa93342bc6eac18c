//! Write [Crossdesk](https://github.com/crossdesk/crossdesk) plugins in Rust.
//!
//! A plugin is a type implementing [`Plugin`], registered with [`export_plugin!`] and
//! built into a WebAssembly component (`crossdesk plugin build`). The host calls
//! [`Plugin::handle`] for every helpdesk event of the kinds the [`Manifest`] lists,
//! in a sandbox of the plugin's own, and applies the [`Action`]s it returns. The
//! host may keep that sandbox for the same tenant's next events (never another
//! tenant's) or start a fresh one at any call: keep nothing in memory that a
//! later event depends on ([`kv`], its storage, is for that).
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
//! The host functions ([`kv`], [`settings`], [`http`], [`log`], [`clock`],
//! [`contacts`]) reach the
//! host inside a component; in native builds they reach the [`testing`] host, which a
//! test sets up.

#![warn(missing_docs)]

// The generated bindings name this crate by path, also from inside it.
extern crate self as crossdesk_sdk;

mod host;
mod setting;
mod tools;
mod types;

// Inside a component the real host answers; the stand-in is only for native tests.
#[cfg_attr(target_arch = "wasm32", allow(dead_code))]
pub mod testing;

pub use host::{clock, contacts, http, kv, log, settings};
pub use setting::{Setting, SettingKind, SettingValues};
pub use tools::*;
pub use types::*;

/// The version of the plugin contract (`crossdesk:plugin`) this SDK builds against.
///
/// ```
/// assert_eq!(crossdesk_sdk::CONTRACT_VERSION, "0.2.1");
/// ```
pub const CONTRACT_VERSION: &str = "0.2.1";

/// A Crossdesk plugin. Implement it on a type of your own and register the type with
/// [`export_plugin!`].
///
/// The host may call one instance for several events of the same tenant, and drops
/// it whenever it likes (after a bounded number of calls, when idle, after any
/// failure), or gives every event a fresh one (`isolation = "event"`). So a global
/// may still hold a value from an earlier event of that tenant, or may not: use it
/// as a cache at most, and keep what must last in [`kv`].
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

    /// Checks `content` of a dataset the manifest offers ([`Manifest::offers_dataset`])
    /// whole, in `format` (one of its formats), and returns the storage entries that
    /// replace it. The host writes them in one transaction; nothing is written when
    /// this fails. By default the plugin offers no dataset.
    ///
    /// ```
    /// use crossdesk_sdk::{Action, DatasetEntries, DatasetSpec, Event, Manifest, Plugin, PluginError};
    ///
    /// struct Faq;
    /// impl Plugin for Faq {
    ///     fn manifest() -> Manifest {
    ///         Manifest::new("faq", "1.0.0").offers_dataset(DatasetSpec::new("answers", "Canned answers"))
    ///     }
    ///     fn handle(_: Event) -> Result<Vec<Action>, PluginError> { Ok(vec![]) }
    ///     fn import_dataset(dataset: &str, _format: &str, content: &[u8]) -> Result<DatasetEntries, PluginError> {
    ///         let text = std::str::from_utf8(content).map_err(|_| PluginError::new("not UTF-8"))?;
    ///         let lines: Vec<&str> = text.lines().collect();
    ///         let mut entries = DatasetEntries::new("answer/");
    ///         for (i, line) in lines.iter().enumerate() {
    ///             entries = entries.entry(format!("answer/{i}"), line.as_bytes().to_vec());
    ///         }
    ///         Ok(entries.summary(lines.len() as u32, format!("{} {dataset}", lines.len())))
    ///     }
    /// }
    /// assert_eq!(Faq::import_dataset("answers", "json", b"a\nb").unwrap().records, 2);
    /// ```
    fn import_dataset(
        dataset: &str,
        format: &str,
        content: &[u8],
    ) -> Result<DatasetEntries, PluginError> {
        let _ = (format, content);
        Err(PluginError::new(format!(
            "this plugin offers no dataset '{dataset}'"
        )))
    }

    /// Runs a command the manifest offers ([`Manifest::offers_command`]) with the
    /// arguments the host parsed against its [`CommandSpec`]. A command run for a
    /// tenant has the tenant's grants and settings, and may read its
    /// [`contacts`] history. By default the plugin offers no command.
    ///
    /// ```
    /// use crossdesk_sdk::{Action, CommandInput, CommandOutput, CommandSpec, Event, Manifest, Param, Plugin, PluginError};
    ///
    /// struct Calc;
    /// impl Plugin for Calc {
    ///     fn manifest() -> Manifest {
    ///         Manifest::new("calc", "1.0.0").offers_command(
    ///             CommandSpec::new("double", "Doubles a number").param(Param::value("n", "The number").required()),
    ///         )
    ///     }
    ///     fn handle(_: Event) -> Result<Vec<Action>, PluginError> { Ok(vec![]) }
    ///     fn run_command(command: &str, input: CommandInput) -> Result<CommandOutput, PluginError> {
    ///         let n: i64 = input.parse("n")?.ok_or_else(|| PluginError::new("--n is required"))?;
    ///         Ok(CommandOutput::text(format!("{}\n", n * 2)))
    ///     }
    /// }
    /// let out = Calc::run_command("double", CommandInput::new().with_value("n", "21")).unwrap();
    /// assert_eq!(out.text, "42\n");
    /// ```
    fn run_command(command: &str, input: CommandInput) -> Result<CommandOutput, PluginError> {
        let _ = input;
        Err(PluginError::new(format!(
            "this plugin offers no command '{command}'"
        )))
    }
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

            impl $crate::__private::ToolsGuest for CrossdeskExport {
                fn import_dataset(
                    dataset: ::std::string::String,
                    format: ::std::string::String,
                    content: ::std::vec::Vec<u8>,
                ) -> ::core::result::Result<
                    $crate::__private::WitDatasetEntries,
                    $crate::__private::WitPluginError,
                > {
                    <$plugin as $crate::Plugin>::import_dataset(&dataset, &format, &content)
                        .map(Into::into)
                        .map_err(Into::into)
                }

                fn run_command(
                    command: ::std::string::String,
                    input: $crate::__private::WitCommandInput,
                ) -> ::core::result::Result<
                    $crate::__private::WitCommandOutput,
                    $crate::__private::WitPluginError,
                > {
                    <$plugin as $crate::Plugin>::run_command(&command, input.into())
                        .map(Into::into)
                        .map_err(Into::into)
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
    pub use bindings::exports::crossdesk::plugin::tools::{
        CommandInput as WitCommandInput, CommandOutput as WitCommandOutput,
        DatasetEntries as WitDatasetEntries, Guest as ToolsGuest,
    };

    pub fn handle<P: crate::Plugin>(event: WitEvent) -> Result<Vec<WitAction>, WitPluginError> {
        P::handle(event.into())
            .map(|actions| actions.into_iter().map(Into::into).collect())
            .map_err(Into::into)
    }
}
