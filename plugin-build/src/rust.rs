//! Rust plugins: a crate built for wasm32 with the `plugin` profile (small and
//! fast: `opt-level = "s"`, LTO, `panic = "abort"`), its core module encoded as a
//! component by `wit-component`.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{BuildError, io, run};

/// The target plugins are built for.
pub const TARGET: &str = "wasm32-unknown-unknown";

/// The cargo profile plugins are built with.
pub const PROFILE: &str = "plugin";

/// How to get a wasm32 standard library on this machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Toolchain {
    /// rustup's prebuilt target.
    Rustup,
    /// Debian's Rust with the library source, built with `-Zbuild-std`.
    DebianBuildStd,
}

impl Toolchain {
    /// rustup's target when installed, else Debian's route when complete.
    pub fn detect() -> Result<Toolchain, BuildError> {
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
            && on_path("wasm-ld");
        if debian_ready {
            return Ok(Toolchain::DebianBuildStd);
        }
        Err(BuildError::NoToolchain)
    }

    /// `cargo build` for wasm32 in `dir` with the `plugin` profile, without the
    /// calling cargo's settings (they are for a host build).
    pub fn cargo_build(self, dir: &Path, target_dir: &Path) -> Command {
        let mut cmd = match self {
            Toolchain::Rustup => {
                let mut cmd =
                    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
                cmd.env_remove("RUSTC");
                cmd
            }
            Toolchain::DebianBuildStd => {
                let mut cmd = Command::new("/usr/bin/cargo");
                cmd.env("RUSTC", "/usr/bin/rustc")
                    // -Zbuild-std is unstable; Debian's stable compiler accepts it so.
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
        cmd.current_dir(dir)
            .arg("build")
            .args(["--target", TARGET, "--profile", PROFILE])
            .arg("--target-dir")
            .arg(target_dir);
        cmd
    }
}

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(program).is_file()))
}

/// Where cargo leaves the core module of library `lib_name`.
pub fn module_path(target_dir: &Path, lib_name: &str) -> PathBuf {
    target_dir
        .join(TARGET)
        .join(PROFILE)
        .join(format!("{lib_name}.wasm"))
}

/// The core module at `module` encoded as a component.
pub fn encode_component(module: &Path) -> Result<Vec<u8>, BuildError> {
    let bytes = std::fs::read(module).map_err(io(module))?;
    wit_component::ComponentEncoder::default()
        .module(&bytes)
        .and_then(|encoder| encoder.validate(true).encode())
        .map_err(|e| BuildError::Component {
            module: module.to_owned(),
            reason: format!("{e:#}"),
        })
}

/// Writes `bytes` to `out` unless it holds them already, so that a host's cache of
/// compiled plugins stays valid.
pub fn write_if_changed(out: &Path, bytes: &[u8]) -> Result<(), BuildError> {
    if std::fs::read(out).ok().as_deref() == Some(bytes) {
        return Ok(());
    }
    if let Some(parent) = out.parent() {
        std::fs::create_dir_all(parent).map_err(io(parent))?;
    }
    std::fs::write(out, bytes).map_err(io(out))
}

/// Builds the plugin crate in `dir` (a crate of its own, anywhere) into a
/// component, by default `target/NAME.wasm` in its target folder.
///
/// `dir` and `out` are absolute ([`crate::build`] makes them so): cargo runs in
/// `dir`.
pub(crate) fn build_project(dir: &Path, out: Option<&Path>) -> Result<PathBuf, BuildError> {
    let manifest = PluginManifest::read(dir)?;
    let toolchain = Toolchain::detect()?;
    // A relative CARGO_TARGET_DIR is the caller's too.
    let target_dir = match std::env::var_os("CARGO_TARGET_DIR") {
        Some(target) => crate::absolute(Path::new(&target))?,
        None => dir.join("target"),
    };
    let mut cargo = toolchain.cargo_build(dir, &target_dir);
    // The profile, for a crate that does not declare it (given on the command line,
    // it would override the crate's own).
    if !manifest.declares_profile {
        for setting in [
            "profile.plugin.inherits=\"release\"",
            "profile.plugin.opt-level=\"s\"",
            "profile.plugin.lto=true",
            "profile.plugin.codegen-units=1",
            "profile.plugin.panic=\"abort\"",
            "profile.plugin.strip=\"debuginfo\"",
        ] {
            cargo.args(["--config", setting]);
        }
    }
    run(cargo, "cargo build for wasm32")?;
    let component = encode_component(&module_path(&target_dir, &manifest.lib_name))?;
    let out = out.map(Path::to_path_buf).unwrap_or_else(|| {
        target_dir.join(format!("{}.wasm", manifest.lib_name.replace('_', "-")))
    });
    write_if_changed(&out, &component)?;
    Ok(out)
}

/// What the build needs from a plugin crate's `Cargo.toml`.
struct PluginManifest {
    /// `[lib] name`, else the package name with `_` for `-`.
    lib_name: String,
    /// Whether `[profile.plugin]` is declared where cargo reads it: in the
    /// crate's manifest, or, for a member of a workspace, in the workspace's
    /// (cargo ignores a member's profiles).
    declares_profile: bool,
}

impl PluginManifest {
    fn read(dir: &Path) -> Result<PluginManifest, BuildError> {
        let manifest_path = dir.join("Cargo.toml");
        let text = std::fs::read_to_string(&manifest_path).map_err(io(&manifest_path))?;
        let bad = |what: &str| BuildError::Project(format!("{}: {what}", manifest_path.display()));
        let manifest: toml::Table = text.parse().map_err(|e| bad(&format!("{e}")))?;
        let lib = manifest.get("lib").and_then(|l| l.as_table());
        let crate_types = lib
            .and_then(|l| l.get("crate-type"))
            .and_then(|t| t.as_array())
            .map(|types| types.iter().filter_map(|t| t.as_str()).collect::<Vec<_>>())
            .unwrap_or_default();
        if !crate_types.contains(&"cdylib") {
            return Err(bad(
                "a plugin is a library with crate-type = [\"cdylib\", \"rlib\"] under [lib]",
            ));
        }
        let lib_name = match lib.and_then(|l| l.get("name")).and_then(|n| n.as_str()) {
            Some(name) => name.to_owned(),
            None => manifest
                .get("package")
                .and_then(|p| p.get("name"))
                .and_then(|n| n.as_str())
                .map(|name| name.replace('-', "_"))
                .ok_or_else(|| bad("no [package] name"))?,
        };
        let has_profile = |manifest: &toml::Table| {
            manifest
                .get("profile")
                .and_then(|p| p.get(PROFILE))
                .is_some()
        };
        let declares_profile = match enclosing_workspace(dir, &manifest) {
            Some(workspace) => has_profile(&workspace),
            None => has_profile(&manifest),
        };
        Ok(PluginManifest {
            lib_name,
            declares_profile,
        })
    }
}

/// The manifest of the workspace `dir`'s crate (whose manifest is `own`) is a
/// member of, when it is not its own root: the nearest folder above holding a
/// `Cargo.toml` with `[workspace]`, as cargo looks for it.
fn enclosing_workspace(dir: &Path, own: &toml::Table) -> Option<toml::Table> {
    if own.contains_key("workspace") {
        return None;
    }
    dir.ancestors().skip(1).find_map(|folder| {
        let text = std::fs::read_to_string(folder.join("Cargo.toml")).ok()?;
        let manifest: toml::Table = text.parse().ok()?;
        manifest.contains_key("workspace").then_some(manifest)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest(toml: &str) -> Result<PluginManifest, BuildError> {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("Cargo.toml"), toml).unwrap();
        PluginManifest::read(dir.path())
    }

    #[test]
    fn the_manifest_names_the_library_and_says_whether_it_has_the_profile() {
        let lib = "[lib]\ncrate-type = [\"cdylib\", \"rlib\"]\n";
        let plain = manifest(&format!("[package]\nname = \"order-flags\"\n{lib}")).unwrap();
        assert_eq!(plain.lib_name, "order_flags");
        assert!(!plain.declares_profile, "built with the default profile");
        let own = manifest(&format!(
            "[package]\nname = \"x\"\n{lib}name = \"flags\"\n[profile.plugin]\ninherits = \"release\"\n"
        ))
        .unwrap();
        assert_eq!(own.lib_name, "flags");
        assert!(own.declares_profile, "its own profile is not overridden");
        let error = manifest("[package]\nname = \"x\"\n").err().unwrap();
        assert!(error.to_string().contains("cdylib"), "{error}");
    }

    /// A member's own `[profile.plugin]` is ignored by cargo: what counts is the
    /// workspace's, and without one the build passes the profile itself.
    #[test]
    fn a_workspace_members_profile_is_the_workspaces() {
        let root = tempfile::tempdir().unwrap();
        let member = root.path().join("plugins").join("p");
        std::fs::create_dir_all(&member).unwrap();
        std::fs::write(
            member.join("Cargo.toml"),
            "[package]\nname = \"p\"\n[lib]\ncrate-type = [\"cdylib\", \"rlib\"]\n\
             [profile.plugin]\ninherits = \"release\"\n",
        )
        .unwrap();
        let workspace = root.path().join("Cargo.toml");
        std::fs::write(&workspace, "[workspace]\nmembers = [\"plugins/*\"]\n").unwrap();
        assert!(!PluginManifest::read(&member).unwrap().declares_profile);
        std::fs::write(
            &workspace,
            "[workspace]\nmembers = [\"plugins/*\"]\n[profile.plugin]\ninherits = \"release\"\n",
        )
        .unwrap();
        assert!(PluginManifest::read(&member).unwrap().declares_profile);
    }
}
