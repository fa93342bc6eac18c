//! New plugin projects: `crossdesk plugin new NAME [--lang rust|js]`. Each starts as
//! a small working plugin with a native unit test, depending on the SDK from its
//! registry or from a local copy.

use std::path::{Path, PathBuf};

use crate::{BuildError, Language, io};

/// Rust: (path in the project, contents with `{{name}}` and `{{sdk}}`).
const RUST_FILES: &[(&str, &str)] = &[
    (
        "Cargo.toml",
        include_str!("../templates/rust/Cargo.toml.tmpl"),
    ),
    ("src/lib.rs", include_str!("../templates/rust/src/lib.rs")),
    ("README.md", include_str!("../templates/rust/README.md")),
    (".gitignore", include_str!("../templates/rust/.gitignore")),
];

/// JavaScript, likewise.
const JS_FILES: &[(&str, &str)] = &[
    ("package.json", include_str!("../templates/js/package.json")),
    (
        "src/plugin.js",
        include_str!("../templates/js/src/plugin.js"),
    ),
    (
        "test/plugin.test.js",
        include_str!("../templates/js/test/plugin.test.js"),
    ),
    ("README.md", include_str!("../templates/js/README.md")),
    (".gitignore", include_str!("../templates/js/.gitignore")),
];

/// Where a new project takes the SDK from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sdk {
    /// The package registry (crates.io, npm), at this version requirement.
    Registry(String),
    /// A local copy: an unpacked `crossdesk-sdk` crate, or a `@crossdesk/plugin-sdk`
    /// folder or tarball.
    Path(PathBuf),
}

impl Default for Sdk {
    fn default() -> Self {
        Sdk::Registry(env!("CARGO_PKG_VERSION").to_owned())
    }
}

/// Writes a new `language` project named `name` into `dir`, which must not exist
/// or be empty; returns the files written.
pub fn new_project(
    dir: &Path,
    name: &str,
    language: Language,
    sdk: &Sdk,
) -> Result<Vec<PathBuf>, BuildError> {
    check_name(name)?;
    if dir
        .read_dir()
        .is_ok_and(|mut entries| entries.next().is_some())
    {
        return Err(BuildError::Project(format!(
            "{} exists and is not empty",
            dir.display()
        )));
    }
    let (files, sdk_spec) = match language {
        Language::Rust => (RUST_FILES, rust_dependency(sdk)?),
        Language::JavaScript => (JS_FILES, js_dependency(sdk)?),
    };
    let mut written = Vec::new();
    for (path, contents) in files {
        let path = dir.join(path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(io(parent))?;
        }
        let contents = contents
            .replace("{{name}}", name)
            .replace("{{sdk}}", &sdk_spec);
        std::fs::write(&path, contents).map_err(io(&path))?;
        written.push(path);
    }
    Ok(written)
}

/// A plugin name: lowercase ASCII letters, digits and `-`, starting with a letter
/// (it names the crate or npm package, the component and the installed plugin).
fn check_name(name: &str) -> Result<(), BuildError> {
    let valid = name.len() <= 64
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if valid {
        Ok(())
    } else {
        Err(BuildError::Project(format!(
            "'{name}' is not a plugin name: use lowercase letters, digits and '-', \
             starting with a letter (at most 64)"
        )))
    }
}

fn rust_dependency(sdk: &Sdk) -> Result<String, BuildError> {
    Ok(match sdk {
        Sdk::Registry(version) => toml_string(version),
        // Checked now: cargo would say so only at the project's first build.
        Sdk::Path(path) if !path.join("Cargo.toml").is_file() => {
            return Err(BuildError::Project(format!(
                "--sdk {}: a Rust project takes the SDK crate's folder, the one holding its \
                 Cargo.toml (a .crate file is a tar.gz of it: unpack it with tar xzf)",
                path.display()
            )));
        }
        Sdk::Path(path) => format!("{{ path = {} }}", toml_string(&utf8(&absolute(path)?)?)),
    })
}

/// `text` as a TOML string, escaped as TOML escapes (Rust's `{:?}` writes
/// `\u{301}`, which TOML refuses).
fn toml_string(text: &str) -> String {
    toml::Value::String(text.to_owned()).to_string()
}

/// `text` as a JSON string.
fn json_string(text: &str) -> String {
    serde_json::Value::String(text.to_owned()).to_string()
}

fn utf8(path: &Path) -> Result<String, BuildError> {
    path.to_str().map(str::to_owned).ok_or_else(|| {
        BuildError::Project(format!(
            "--sdk {}: the path is not UTF-8, which a manifest cannot name",
            path.display()
        ))
    })
}

fn js_dependency(sdk: &Sdk) -> Result<String, BuildError> {
    Ok(match sdk {
        Sdk::Registry(version) => json_string(&format!("^{version}")),
        Sdk::Path(path) if !path.join("package.json").is_file() && !path.is_file() => {
            return Err(BuildError::Project(format!(
                "--sdk {}: a JavaScript project takes the SDK's folder (holding its \
                 package.json) or the tarball npm pack made of it",
                path.display()
            )));
        }
        // npm links a folder as it is: the SDK's own dependencies (the component
        // build) come from its `node_modules`, which npm does not fill.
        Sdk::Path(path) if path.is_dir() && !path.join("node_modules").is_dir() => {
            return Err(BuildError::Project(format!(
                "--sdk {}: npm links an SDK folder without installing its dependencies: \
                 run `npm install` in it first, or pass the tarball `npm pack` makes of it",
                path.display()
            )));
        }
        Sdk::Path(path) => json_string(&format!("file:{}", utf8(&absolute(path)?)?)),
    })
}

fn absolute(path: &Path) -> Result<PathBuf, BuildError> {
    std::path::absolute(path).map_err(io(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rust_project_names_itself_and_its_sdk() {
        let dir = tempfile::tempdir().unwrap();
        let project = dir.path().join("order-flags");
        let sdk_dir = dir.path().join("crossdesk-sdk");
        std::fs::create_dir(&sdk_dir).unwrap();
        std::fs::write(sdk_dir.join("Cargo.toml"), "").unwrap();
        let sdk = Sdk::Path(sdk_dir.clone());
        let files = new_project(&project, "order-flags", Language::Rust, &sdk).unwrap();
        assert_eq!(files.len(), RUST_FILES.len());
        let manifest = std::fs::read_to_string(project.join("Cargo.toml")).unwrap();
        assert!(manifest.contains("name = \"order-flags\""), "{manifest}");
        assert!(manifest.contains(&format!("crossdesk-sdk = {{ path = {sdk_dir:?} }}")));
        let lib = std::fs::read_to_string(project.join("src/lib.rs")).unwrap();
        assert!(lib.contains("Manifest::new(\"order-flags\""));
        assert!(!lib.contains("{{"), "every placeholder is filled");
    }

    #[test]
    fn a_javascript_project_names_itself_and_its_sdk() {
        let dir = tempfile::tempdir().unwrap();
        let project = dir.path().join("lang-notes");
        let tarball = dir.path().join("crossdesk-plugin-sdk-0.1.0.tgz");
        std::fs::write(&tarball, "").unwrap();
        let sdk = Sdk::Path(tarball.clone());
        new_project(&project, "lang-notes", Language::JavaScript, &sdk).unwrap();
        let package = std::fs::read_to_string(project.join("package.json")).unwrap();
        assert!(package.contains("\"name\": \"lang-notes\""), "{package}");
        assert!(package.contains(&format!("\"file:{}\"", tarball.display())));
        assert!(package.contains("dist/lang-notes.wasm"));
        for (path, _) in JS_FILES {
            let text = std::fs::read_to_string(project.join(path)).unwrap();
            assert!(!text.contains("{{"), "{path}: every placeholder is filled");
        }
    }

    /// A folder name in decomposed form (macOS writes `é` as `e` and a combining
    /// accent) is written as each manifest's own escapes, which Rust's `{:?}`
    /// (`\u{301}`) are not.
    #[test]
    fn an_sdk_path_with_any_character_makes_manifests_that_parse() {
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path().join("Jose\u{301} \"sdk\"");
        std::fs::create_dir(&folder).unwrap();
        std::fs::write(folder.join("Cargo.toml"), "").unwrap();
        std::fs::write(folder.join("package.json"), "{}").unwrap();
        std::fs::create_dir(folder.join("node_modules")).unwrap();
        let sdk = Sdk::Path(folder.clone());
        let rust = dir.path().join("r");
        new_project(&rust, "r", Language::Rust, &sdk).unwrap();
        let manifest: toml::Table = std::fs::read_to_string(rust.join("Cargo.toml"))
            .unwrap()
            .parse()
            .expect("Cargo.toml parses");
        assert_eq!(
            manifest["dependencies"]["crossdesk-sdk"]["path"].as_str(),
            folder.to_str()
        );
        let js = dir.path().join("j");
        new_project(&js, "j", Language::JavaScript, &sdk).unwrap();
        let package: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(js.join("package.json")).unwrap())
                .expect("package.json parses");
        let dependencies = package["dependencies"].as_object().expect("dependencies");
        assert!(
            dependencies
                .values()
                .any(|v| v.as_str() == Some(&format!("file:{}", folder.display()))),
            "{package}"
        );
    }

    #[test]
    fn an_sdk_the_project_could_not_build_with_is_refused_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let packaged = dir.path().join("crossdesk-sdk-0.1.0.crate");
        std::fs::write(&packaged, "").unwrap();
        let missing = dir.path().join("nowhere");
        // An SDK folder npm has not installed: linked, it could not build.
        let uninstalled = dir.path().join("js-sdk");
        std::fs::create_dir(&uninstalled).unwrap();
        std::fs::write(uninstalled.join("package.json"), "{}").unwrap();
        for (language, sdk) in [
            (Language::Rust, &packaged),
            (Language::Rust, &missing),
            (Language::JavaScript, &missing),
            (Language::JavaScript, &uninstalled),
        ] {
            let project = dir.path().join("p");
            let error = new_project(&project, "p", language, &Sdk::Path(sdk.clone())).unwrap_err();
            assert!(error.to_string().starts_with("--sdk "), "{error}");
            assert!(!project.exists(), "nothing is written");
        }
    }

    #[test]
    fn an_installed_javascript_sdk_folder_is_linked() {
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path().join("js-sdk");
        std::fs::create_dir_all(folder.join("node_modules")).unwrap();
        std::fs::write(folder.join("package.json"), "{}").unwrap();
        let project = dir.path().join("p");
        new_project(
            &project,
            "p",
            Language::JavaScript,
            &Sdk::Path(folder.clone()),
        )
        .unwrap();
        let package = std::fs::read_to_string(project.join("package.json")).unwrap();
        assert!(
            package.contains(&format!("\"file:{}\"", folder.display())),
            "{package}"
        );
    }

    #[test]
    fn bad_names_and_occupied_folders_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["", "My-Plugin", "9lives", "a b", "a/b"] {
            let error = new_project(&dir.path().join("x"), name, Language::Rust, &Sdk::default());
            assert!(error.is_err(), "{name:?} was accepted");
        }
        std::fs::write(dir.path().join("taken"), "").unwrap();
        let error = new_project(dir.path(), "fine", Language::Rust, &Sdk::default()).unwrap_err();
        assert!(error.to_string().contains("not empty"), "{error}");
    }
}
