//! `cargo run -p xtask -- build-plugins`: builds every workspace crate marked
//! `[package.metadata.crossdesk] plugin = true` for wasm32 and turns each core
//! module into a component in the output folder (`target/plugins/NAME.wasm`).
//!
//! It uses rustup's `wasm32-unknown-unknown` target when installed; otherwise
//! Debian's `rustc-web`/`cargo-web`/`rust-web-src` (`/usr/bin/cargo`, Rust 1.96 with
//! the standard library's source) with `-Zbuild-std`. `scripts/wasm-toolchain.sh`
//! installs the latter when neither is there.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};

const TARGET: &str = "wasm32-unknown-unknown";
const PROFILE: &str = "plugin";

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
}

/// A workspace crate to build as a plugin.
struct PluginCrate {
    package: String,
    lib_name: String,
    /// Whether it depends on another plugin crate (as a library).
    uses_plugin_library: bool,
}

/// How to get a wasm32 standard library on this machine.
#[derive(Clone, Copy)]
enum Toolchain {
    /// rustup's prebuilt target.
    Rustup,
    /// Debian's Rust with the library source, built with `-Zbuild-std`.
    DebianBuildStd,
}

fn main() -> Result<()> {
    match Cli::parse().command {
        Task::BuildPlugins { out_dir } => build_plugins(&out_dir),
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
    let toolchain = detect_toolchain()?;
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
        let mut cmd = cargo_for_wasm(toolchain, &root, &target_dir);
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
    let module_path = target_dir
        .join(TARGET)
        .join(PROFILE)
        .join(format!("{}.wasm", plugin.lib_name));
    let module = std::fs::read(&module_path)
        .with_context(|| format!("cannot read {}", module_path.display()))?;
    let component = wit_component::ComponentEncoder::default()
        .module(&module)
        .and_then(|encoder| encoder.validate(true).encode())
        .with_context(|| format!("cannot turn {} into a component", plugin.package))?;
    let out = out_dir.join(format!("{}.wasm", plugin.package));
    if std::fs::read(&out).ok().as_deref() != Some(component.as_slice()) {
        std::fs::write(&out, &component)
            .with_context(|| format!("cannot write {}", out.display()))?;
    }
    println!("{:>9} bytes  {}", component.len(), out.display());
    Ok(())
}

fn detect_toolchain() -> Result<Toolchain> {
    let rustup_has_target = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .map(|out| {
            String::from_utf8_lossy(&out.stdout)
                .lines()
                .any(|l| l.trim() == TARGET)
        })
        .unwrap_or(false);
    if rustup_has_target {
        return Ok(Toolchain::Rustup);
    }
    let debian_ready = Path::new("/usr/bin/cargo").exists()
        && Path::new("/usr/bin/rustc").exists()
        && Path::new("/usr/lib/rustlib/src/rust/library/std").exists()
        && which("wasm-ld");
    if debian_ready {
        return Ok(Toolchain::DebianBuildStd);
    }
    bail!(
        "no wasm32 toolchain: neither rustup's {TARGET} target nor Debian's rustc-web, \
         cargo-web, rust-web-src and lld are installed; run `bash scripts/wasm-toolchain.sh`"
    )
}

fn which(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(program).is_file()))
}

/// `cargo build` of wasm32 plugins with the detected toolchain, without the outer
/// cargo's settings (they are for the host build).
fn cargo_for_wasm(toolchain: Toolchain, root: &Path, target_dir: &Path) -> Command {
    let mut cmd = match toolchain {
        Toolchain::Rustup => {
            Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        }
        Toolchain::DebianBuildStd => {
            let mut cmd = Command::new("/usr/bin/cargo");
            cmd.env("RUSTC", "/usr/bin/rustc")
                // -Zbuild-std is unstable; Debian's stable compiler accepts it with this.
                .env("RUSTC_BOOTSTRAP", "1")
                .env("CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER", "wasm-ld")
                .arg("-Zbuild-std=std,panic_abort");
            cmd
        }
    };
    for var in [
        "RUSTFLAGS",
        "CARGO_ENCODED_RUSTFLAGS",
        "RUSTC_WRAPPER",
        "RUSTC_WORKSPACE_WRAPPER",
    ] {
        cmd.env_remove(var);
    }
    if matches!(toolchain, Toolchain::Rustup) {
        cmd.env_remove("RUSTC");
    }
    cmd.current_dir(root)
        .arg("build")
        .args(["--target", TARGET, "--profile", PROFILE])
        .arg("--target-dir")
        .arg(target_dir);
    cmd
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
