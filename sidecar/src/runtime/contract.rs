//! Which versions of the plugin contract (`crossdesk:plugin`, the WIT in
//! `sdk/wit/`) this host loads, and the check that a component targets one of them.
//!
//! The check reads the component's exports before anything is linked or run, so a
//! plugin built for another contract gets a sentence naming both versions instead of
//! a link error.

use wasmtime::Engine;
use wasmtime::component::Component;

/// Contract versions this host loads, oldest first. 0.2.1 only adds to 0.2.0: a
/// 0.2.0 component's imports and exports match 0.2.1's (wasmtime resolves
/// names by semver), so one set of bindings serves both.
pub const SUPPORTED_CONTRACTS: &[&str] = &["0.1.0", "0.2.0", "0.2.1"];

/// A contract version this host loads, ordered oldest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Contract {
    V0_1,
    V0_2,
    /// 0.2.0 and `kv.compare-and-swap`.
    V0_2_1,
}

impl Contract {
    /// The version as WIT spells it, e.g. `0.2.1`.
    pub fn version(self) -> &'static str {
        match self {
            Contract::V0_1 => "0.1.0",
            Contract::V0_2 => "0.2.0",
            Contract::V0_2_1 => "0.2.1",
        }
    }

    fn of(version: &str) -> Option<Contract> {
        match version {
            "0.1.0" => Some(Contract::V0_1),
            "0.2.0" => Some(Contract::V0_2),
            "0.2.1" => Some(Contract::V0_2_1),
            _ => None,
        }
    }
}

const HANDLER_INTERFACE: &str = "crossdesk:plugin/handler";

/// Why a component is not a plugin this host can load.
#[derive(Debug, thiserror::Error)]
pub enum ContractError {
    #[error(
        "plugin targets contract crossdesk:plugin@{found}; this host loads versions {supported}"
    )]
    Unsupported { found: String, supported: String },
    #[error(
        "not a Crossdesk plugin: it exports no {HANDLER_INTERFACE} interface (it exports: {exports})"
    )]
    NotAPlugin { exports: String },
}

/// Checks that `component` exports the handler of a supported contract version,
/// and says which (the newest, should it export several).
pub(super) fn check(engine: &Engine, component: &Component) -> Result<Contract, ContractError> {
    let ty = component.component_type();
    let exports: Vec<&str> = ty.exports(engine).map(|(name, _)| name).collect();
    let versions: Vec<&str> = exports
        .iter()
        .filter_map(|name| name.strip_prefix(HANDLER_INTERFACE))
        .map(|rest| rest.strip_prefix('@').unwrap_or("(unversioned)"))
        .collect();
    if let Some(contract) = versions.iter().filter_map(|v| Contract::of(v)).max() {
        return Ok(contract);
    }
    match versions.first() {
        Some(found) => Err(ContractError::Unsupported {
            found: (*found).to_owned(),
            supported: SUPPORTED_CONTRACTS.join(", "),
        }),
        None => Err(ContractError::NotAPlugin {
            exports: if exports.is_empty() {
                "nothing".into()
            } else {
                exports.join(", ")
            },
        }),
    }
}
