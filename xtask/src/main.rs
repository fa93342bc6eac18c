//! `cargo run -p xtask -- build-plugins`: builds every workspace crate marked
//! `[package.metadata.crossdesk] plugin = true` for wasm32 and turns each core
//! module into a component in the output folder (`target/plugins/NAME.wasm`).
//!
//! The toolchain and the encoding are `crossdesk-plugin-build`'s, as for plugin
//! authors' projects: rustup's `wasm32-unknown-unknown` target when installed,
//! otherwise Debian's `rustc-web`/`cargo-web`/`rust-web-src` with `-Zbuild-std`
//! (`scripts/wasm-toolchain.sh` installs the latter when neither is there).

mod contract_doc;

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use crossdesk_plugin_build::rust::{self, Toolchain};

#[derive(Parser)]
struct Cli {
    #[command(subcommand)]
    command: Task,
}

#[derive(Subcommand)]
enum Task {
    /// Build every plugin crate into a component.
    BuildPlugins {
        /// Where the components go.
        #[arg(long, default_value = "target/plugins")]
        out_dir: PathBuf,
    },
    /// Render the plugin contract's reference (docs/contract.md) from its WIT.
    ContractDoc,
}

/// A workspace crate to build as a plugin.
struct PluginCrate {
    package: String,
    lib_name: String,
    /// Whether it depends on another plugin crate (as a library).
    uses_plugin_library: bool,
}

fn main() -> Result<()> {
    match Cli::parse().command {
        Task::BuildPlugins { out_dir } => build_plugins(&out_dir),
        Task::ContractDoc => {
            let root = workspace_root();
            let wit = root.join("sdk/wit").join(contract_doc::CONTRACT);
            let out = root.join(contract_doc::REFERENCE);
            std::fs::create_dir_all(root.join("docs"))?;
            std::fs::write(&out, contract_doc::render(&wit)?)
                .with_context(|| format!("cannot write {}", out.display()))?;
            println!("{}", out.display());
            Ok(())
        }
    }
}

fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

fn build_plugins(out_dir: &Path) -> Result<()> {
    let root = workspace_root();
    let plugins = plugin_crates(&root)?;
    if plugins.is_empty() {
        bail!("no workspace crate has [package.metadata.crossdesk] plugin = true");
    }
    let toolchain = Toolchain::detect()?;
    let target_dir = root.join("target/wasm");

    // A plugin that uses another plugin crate as a library gets a cargo run of its
    // own: built together, cargo would unify the library's features and export
    // both plugins from one component.
    let (alone, together): (Vec<&PluginCrate>, Vec<&PluginCrate>) =
        plugins.iter().partition(|p| p.uses_plugin_library);
    let mut batches = vec![together];
    batches.extend(alone.into_iter().map(|p| vec![p]));
    std::fs::create_dir_all(out_dir)
        .with_context(|| format!("cannot create {}", out_dir.display()))?;
    for batch in batches.iter().filter(|b| !b.is_empty()) {
        let mut cmd = toolchain.cargo_build(&root, &target_dir);
        for plugin in batch {
            cmd.args(["-p", &plugin.package]);
        }
        let status = cmd
            .status()
            .context("cannot run cargo for the wasm32 build")?;
        if !status.success() {
            bail!("building the plugins failed ({status})");
        }
        // Encoded before the next batch runs: a later batch may rebuild a plugin
        // crate as a library (without its export) over the same file.
        for plugin in batch {
            encode_component(&target_dir, plugin, out_dir)?;
        }
    }
    Ok(())
}

/// Turns a plugin's core module into a component in `out_dir` (rewritten only when
/// it changed, so that the host's compiled cache stays valid).
fn encode_component(target_dir: &Path, plugin: &PluginCrate, out_dir: &Path) -> Result<()> {
    let module = rust::module_path(target_dir, &plugin.lib_name);
    let component = rust::encode_component(&module)
        .with_context(|| format!("cannot turn {} into a component", plugin.package))?;
    let out = out_dir.join(format!("{}.wasm", plugin.package));
    rust::write_if_changed(&out, &component)?;
    println!("{:>9} bytes  {}", component.len(), out.display());
    Ok(())
}

/// Workspace packages marked as plugins, from `cargo metadata`.
fn plugin_crates(root: &Path) -> Result<Vec<PluginCrate>> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let output = Command::new(cargo)
        .current_dir(root)
        .args(["metadata", "--format-version", "1", "--no-deps"])
        .output()
        .context("cannot run cargo metadata")?;
    if !output.status.success() {
        bail!(
            "cargo metadata failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let metadata: serde_json::Value =
        serde_json::from_slice(&output.stdout).context("cargo metadata printed invalid JSON")?;
    let is_plugin = |package: &serde_json::Value| {
        package["metadata"]["crossdesk"]["plugin"].as_bool() == Some(true)
    };
    let plugin_names: Vec<&str> = metadata["packages"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|p| is_plugin(p))
        .filter_map(|p| p["name"].as_str())
        .collect();
    let mut plugins = Vec::new();
    for package in metadata["packages"].as_array().into_iter().flatten() {
        if !is_plugin(package) {
            continue;
        }
        let uses_plugin_library = package["dependencies"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|d| d["name"].as_str())
            .any(|d| plugin_names.contains(&d));
        let name = package["name"].as_str().unwrap_or_default().to_owned();
        let lib = package["targets"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|t| {
                t["crate_types"]
                    .as_array()
                    .is_some_and(|types| types.iter().any(|k| k == "cdylib"))
            })
            .and_then(|t| t["name"].as_str())
            .with_context(|| format!("plugin crate {name} has no cdylib target"))?;
        plugins.push(PluginCrate {
            package: name,
            lib_name: lib.replace('-', "_"),
            uses_plugin_library,
        });
    }
    plugins.sort_by(|a, b| a.package.cmp(&b.package));
    Ok(plugins)
}
