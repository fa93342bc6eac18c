//! The deployment files agree with the code and with each other: the container's
//! configurations parse as the sidecar and the bridge read them, the Kubernetes
//! ConfigMap carries exactly those files, every secret a configuration names in an
//! environment variable is set by its Deployment, and the image ships every plugin
//! the configuration installs. (`scripts/deploy-check.sh`, run by `make test`, lints
//! the Dockerfile and validates the manifests against the Kubernetes schemas.)

use crossdesk_integration_tests::{crossdesk_command, workspace_dir};

fn read(path: &str) -> String {
    std::fs::read_to_string(workspace_dir().join(path))
        .unwrap_or_else(|e| panic!("cannot read {path}: {e}"))
}

/// The literal block `key: |` of the ConfigMap, de-indented.
fn configmap_file(manifest: &str, key: &str) -> String {
    let mut lines = manifest
        .lines()
        .skip_while(|l| l.trim() != format!("{key}: |"));
    assert!(lines.next().is_some(), "no {key} in the ConfigMap");
    let mut text = String::new();
    for line in lines {
        match line.strip_prefix("    ") {
            Some(content) => text.push_str(content),
            None if line.is_empty() => {}
            None => break,
        }
        text.push('\n');
    }
    text
}

/// Values of the `*_env` settings in a TOML text: the variables it reads.
fn env_names(toml_text: &str) -> Vec<String> {
    fn walk(value: &toml::Value, out: &mut Vec<String>) {
        match value {
            toml::Value::Table(table) => {
                for (key, value) in table {
                    match value {
                        toml::Value::String(name) if key.ends_with("_env") => {
                            out.push(name.clone());
                        }
                        _ => walk(value, out),
                    }
                }
            }
            toml::Value::Array(items) => items.iter().for_each(|v| walk(v, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    let document: toml::Table = toml::from_str(toml_text).expect("TOML");
    walk(&toml::Value::Table(document), &mut out);
    out.sort();
    out.dedup();
    out
}

#[test]
fn the_configmap_carries_the_containers_configuration_files() {
    let manifest = read("deploy/kubernetes/config.yaml");
    for file in ["crossdesk.toml", "bridge.toml"] {
        assert_eq!(
            configmap_file(&manifest, file),
            read(&format!("deploy/container/{file}")),
            "deploy/kubernetes/config.yaml's {file} differs from deploy/container/{file}"
        );
    }
}

#[test]
fn the_container_configurations_parse_and_keep_secrets_in_the_environment() {
    let path = workspace_dir().join("deploy/container/crossdesk.toml");
    let sidecar_text = read("deploy/container/crossdesk.toml");
    // As the container reads it: the variables the Deployment sets, set (the
    // master key as one: base64 of 32 bytes; the database's as a URL).
    let checked = |master_key: &str| {
        let mut check = crossdesk_command();
        check.arg("check-config").arg("--config").arg(&path);
        for name in env_names(&sidecar_text) {
            check.env(&name, format!("{name}-0123456789-not-a-secret"));
        }
        check.env("CROSSDESK_MASTER_KEY", master_key);
        // A URL check-config can parse (it does not connect).
        check.env(
            "CROSSDESK_DATABASE_URL",
            "postgres://crossdesk:not-a-secret@postgres:5432/crossdesk",
        );
        check.output().expect("crossdesk check-config")
    };
    let output = checked("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // The Secrets template's placeholder is not a key: refused here, not at the
    // first start.
    let placeholder = checked("CHANGE-ME");
    assert!(!placeholder.status.success(), "a placeholder master key");
    assert!(
        String::from_utf8_lossy(&placeholder.stderr).contains("invalid master key"),
        "{}",
        String::from_utf8_lossy(&placeholder.stderr)
    );
    let missing = crossdesk_command()
        .arg("check-config")
        .arg("--config")
        .arg(&path)
        .env_remove("CROSSDESK_BRIDGE_TOKEN")
        .output()
        .expect("crossdesk check-config");
    assert!(!missing.status.success(), "an unset variable is an error");
    assert!(
        String::from_utf8_lossy(&missing.stderr).contains("CROSSDESK_BRIDGE_TOKEN"),
        "{}",
        String::from_utf8_lossy(&missing.stderr)
    );
    for setting in ["[ops]", "url_env", "master_key_env"] {
        assert!(sidecar_text.contains(setting), "{setting} is configured");
    }
    assert!(
        !sidecar_text.contains("token ="),
        "no token is written in the file"
    );
}

#[test]
fn the_bridges_container_configuration_passes_its_check() {
    let path = workspace_dir().join("deploy/container/bridge.toml");
    let names = env_names(&read("deploy/container/bridge.toml"));
    // As the container reads it, but for `changed` (a variable's value, or unset).
    let check = |changed: Option<(&str, Option<&str>)>| {
        let mut check = crossdesk_command();
        check
            .args(["bridge", "check-config", "--config"])
            .arg(&path);
        for name in &names {
            check.env(name, format!("{name}-0123456789-not-a-secret"));
        }
        // A URL check-config can parse (it does not connect).
        check.env(
            "CROSSDESK_DATABASE_URL",
            "postgres://crossdesk:not-a-secret@postgres:5432/crossdesk",
        );
        match changed {
            Some((name, Some(value))) => check.env(name, value),
            Some((name, None)) => check.env_remove(name),
            None => &mut check,
        };
        let output = check.output().expect("crossdesk bridge check-config");
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        (output.status.success(), stdout, stderr)
    };
    let (ok, stdout, stderr) = check(None);
    assert!(ok, "{stderr}");
    assert!(stdout.contains("valid (1 endpoints)"), "{stdout}");
    // Each variable is read, as `bridge serve` would, and named when unset.
    for name in &names {
        let (ok, _, stderr) = check(Some((name, None)));
        assert!(!ok, "{name} unset");
        assert!(stderr.contains(name.as_str()), "{name}: {stderr}");
    }
    // The queue's URL is parsed, not only present.
    let (ok, _, stderr) = check(Some(("CROSSDESK_DATABASE_URL", Some("postgres://[::1"))));
    assert!(!ok, "a URL that does not parse");
    assert!(stderr.contains("queue"), "{stderr}");
}

#[test]
fn each_deployment_sets_every_variable_its_configuration_reads() {
    for (config, manifest) in [
        (
            "deploy/container/crossdesk.toml",
            "deploy/kubernetes/sidecar.yaml",
        ),
        (
            "deploy/container/bridge.toml",
            "deploy/kubernetes/bridge.yaml",
        ),
    ] {
        let manifest_text = read(manifest);
        let names = env_names(&read(config));
        assert!(!names.is_empty(), "{config} reads no variable?");
        for name in names {
            assert!(
                manifest_text.contains(&format!("- name: {name}\n")),
                "{manifest} does not set {name}, which {config} reads"
            );
        }
    }
}

#[test]
fn the_image_ships_every_plugin_its_configuration_installs() {
    let dockerfile = read("Dockerfile");
    let shipped: Vec<&str> = dockerfile
        .lines()
        .find_map(|l| l.trim().strip_prefix("&& for plugin in "))
        .and_then(|l| l.strip_suffix("; do \\"))
        .expect("the Dockerfile's list of shipped plugins")
        .split_whitespace()
        .collect();
    let document: toml::Table =
        toml::from_str(&read("deploy/container/crossdesk.toml")).expect("TOML");
    let files: Vec<&str> = document["plugins"]
        .as_array()
        .expect("[[plugins]]")
        .iter()
        .filter_map(|p| p.get("path")?.as_str())
        .collect();
    assert!(!files.is_empty());
    for file in files {
        let stem = file.strip_suffix(".wasm").expect("a .wasm file");
        assert!(
            shipped.contains(&stem),
            "{} installs {file}, which the image does not ship ({shipped:?})",
            "deploy/container/crossdesk.toml"
        );
        assert!(
            workspace_dir().join("plugins").join(stem).is_dir()
                || workspace_dir().join("examples").join(stem).is_dir(),
            "{stem} is built from this repository"
        );
    }
}
