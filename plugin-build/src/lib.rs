//! Building plugin components from source, for this repository's own plugins
//! (`xtask build-plugins`) and for plugin authors' projects anywhere
//! (`crossdesk plugin new` and `crossdesk plugin build`).
//!
//! - [`rust`]: a crate built for wasm32 (rustup's target where installed, else
//!   Debian's `rustc-web` route with `-Zbuild-std`) and its core module encoded
//!   as a component.
//! - [`js`]: a JavaScript module built by componentize-js, through the build
//!   script of the project's installed `@crossdesk/plugin-sdk`.
//! - [`template`]: a new project of either kind, with a native unit test.

pub mod js;
pub mod rust;
pub mod template;

use std::path::PathBuf;

/// Why a plugin could not be built or a project not started.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error(
        "no wasm32 toolchain: with rustup, run `rustup target add wasm32-unknown-unknown`; \
         without it, install Debian's rustc-web, cargo-web, rust-web-src and lld \
         (scripts/wasm-toolchain.sh in the Crossdesk repository does)"
    )]
    NoToolchain,
    #[error("{0} is neither a Rust plugin (Cargo.toml) nor a JavaScript one (package.json)")]
    UnknownProject(PathBuf),
    #[error("cannot run {program}: {source}")]
    Spawn {
        program: String,
        source: std::io::Error,
    },
    #[error("{what} failed ({status})")]
    Failed {
        what: String,
        status: std::process::ExitStatus,
    },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0}")]
    Project(String),
    #[error("cannot turn {module} into a component: {reason}")]
    Component { module: PathBuf, reason: String },
}

/// Which kind of plugin project.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    Rust,
    JavaScript,
}

impl Language {
    /// The project's language, from its manifest file.
    pub fn of(dir: &std::path::Path) -> Result<Language, BuildError> {
        if dir.join("Cargo.toml").is_file() {
            Ok(Language::Rust)
        } else if dir.join("package.json").is_file() {
            Ok(Language::JavaScript)
        } else {
            Err(BuildError::UnknownProject(dir.to_owned()))
        }
    }
}

/// Builds the project in `dir` into a component; returns where it was written.
/// Relative paths are the caller's: the build tools run in `dir`, so they are
/// made absolute first.
pub fn build(dir: &std::path::Path, out: Option<&std::path::Path>) -> Result<PathBuf, BuildError> {
    let dir = absolute(dir)?;
    let out = out.map(absolute).transpose()?;
    match Language::of(&dir)? {
        Language::Rust => rust::build_project(&dir, out.as_deref()),
        Language::JavaScript => js::build_project(&dir, out.as_deref()),
    }
}

/// `path` from the current folder.
fn absolute(path: &std::path::Path) -> Result<PathBuf, BuildError> {
    std::path::absolute(path).map_err(io(path))
}

fn io(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> BuildError + '_ {
    move |source| BuildError::Io {
        path: path.to_owned(),
        source,
    }
}

/// Runs `command`, failing with `what` when it does not succeed.
fn run(mut command: std::process::Command, what: &str) -> Result<(), BuildError> {
    let program = command.get_program().to_string_lossy().into_owned();
    let status = command
        .status()
        .map_err(|source| BuildError::Spawn { program, source })?;
    if status.success() {
        Ok(())
    } else {
        Err(BuildError::Failed {
            what: what.to_owned(),
            status,
        })
    }
}
