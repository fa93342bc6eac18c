//! JavaScript plugins: the project's module built into a component by
//! componentize-js, through the build script of the `@crossdesk/plugin-sdk` the
//! project installed (so the SDK, the contract's WIT and componentize-js come in
//! one version, offline once `npm install` ran).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{BuildError, io, run};

/// The SDK's build script inside a project.
const BUILD_SCRIPT: &str = "node_modules/@crossdesk/plugin-sdk/build.mjs";

/// Builds the project in `dir`: its `main` module (default `src/plugin.js`) into
/// `dist/NAME.wasm`, or `out`.
///
/// `dir` and `out` are absolute ([`crate::build`] makes them so): node runs in
/// `dir`.
pub(crate) fn build_project(dir: &Path, out: Option<&Path>) -> Result<PathBuf, BuildError> {
    let package_path = dir.join("package.json");
    let text = std::fs::read_to_string(&package_path).map_err(io(&package_path))?;
    let package: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| BuildError::Project(format!("{}: {e}", package_path.display())))?;
    let name = package["name"]
        .as_str()
        .map(|n| n.rsplit('/').next().unwrap_or(n).to_owned())
        .ok_or_else(|| BuildError::Project(format!("{}: no name", package_path.display())))?;
    let main = dir.join(package["main"].as_str().unwrap_or("src/plugin.js"));
    let script = dir.join(BUILD_SCRIPT);
    if !script.is_file() {
        return Err(BuildError::Project(format!(
            "{} is missing: run `npm install` in {} first",
            script.display(),
            dir.display()
        )));
    }
    let out = out
        .map(Path::to_path_buf)
        .unwrap_or_else(|| dir.join("dist").join(format!("{name}.wasm")));
    let mut node = Command::new("node");
    node.current_dir(dir).arg(&script).arg(&main).arg(&out);
    run(node, "componentize-js")?;
    Ok(out)
}
