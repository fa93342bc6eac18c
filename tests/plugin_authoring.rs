//! A third party's plugin, made outside this repository as a plugin author would,
//! in Rust and in JavaScript: `crossdesk plugin new` in a temporary folder with the
//! SDK from its package (`cargo package`, `npm pack`; never the workspace), the
//! project's own tests (`cargo test`, `npm test`), `crossdesk plugin build`,
//! `plugin check` and `plugin run`; then installed through the admin API and run
//! through gRPC next to a first-party plugin.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crossdesk_integration_tests::*;

const OPS: &str = "ops-S3CR3T-authoring-0123456789";

/// The SDK as `cargo package` made it (`make test` packages it before the tests),
/// unpacked into `into`.
fn packaged_sdk(into: &Path) -> PathBuf {
    let version = env!("CARGO_PKG_VERSION");
    let crate_file = workspace_dir().join(format!("target/package/crossdesk-sdk-{version}.crate"));
    assert!(
        crate_file.is_file(),
        "{} is missing: run `cargo package -p crossdesk-sdk` (make test does)",
        crate_file.display()
    );
    succeeds(
        Command::new("tar")
            .arg("-xzf")
            .arg(&crate_file)
            .arg("-C")
            .arg(into),
        "unpacking the SDK",
    );
    into.join(format!("crossdesk-sdk-{version}"))
}

fn succeeds(command: &mut Command, what: &str) -> Output {
    let output = command.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        output.status.success(),
        "{what} failed: {}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// A cargo for the author's project, free of what the test's own cargo set.
fn cargo(project: &Path, target_dir: &Path) -> Command {
    let mut cargo = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cargo
        .current_dir(project)
        .env("CARGO_TARGET_DIR", target_dir)
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS");
    cargo
}

#[tokio::test]
async fn a_rust_plugin_made_outside_the_repository_runs_beside_first_party_plugins() {
    let outside = tempfile::tempdir().expect("tempdir");
    let sdk = packaged_sdk(outside.path());
    let project = outside.path().join("order-flags");
    succeeds(
        crossdesk_command()
            .args(["plugin", "new", "order-flags", "--lang", "rust", "--dir"])
            .arg(&project)
            .arg("--sdk")
            .arg(&sdk),
        "plugin new",
    );
    let manifest = std::fs::read_to_string(project.join("Cargo.toml")).expect("Cargo.toml");
    assert!(!manifest.contains("workspace"), "{manifest}");

    // Its logic, natively, as the author runs it. The template's dev profile is
    // the workspace's, so most dependencies come compiled from the suite's build.
    let tests = succeeds(
        cargo(&project, &workspace_dir().join("target")).args(["test", "--quiet"]),
        "the project's cargo test",
    );
    assert!(
        String::from_utf8_lossy(&tests.stdout).contains("2 passed"),
        "{}",
        String::from_utf8_lossy(&tests.stdout)
    );

    // The component. The wasm32 standard library `make plugins` built is reused.
    // Paths relative to where the author stands.
    let component = outside.path().join("order-flags.wasm");
    succeeds(
        crossdesk_command()
            .current_dir(outside.path())
            .env("CARGO_TARGET_DIR", workspace_dir().join("target/wasm"))
            .args([
                "plugin",
                "build",
                "order-flags",
                "--out",
                "order-flags.wasm",
            ]),
        "plugin build",
    );
    let printed = check_and_run(
        &component,
        "note_prefix=Pedido",
        &outside.path().join("data"),
    );
    assert!(printed.contains("lang-es"), "{printed}");

    let response =
        run_beside_first_party(&component, "order-flags", ("note_prefix", "Pedido")).await;
    assert!(
        notes(&response).contains(&"Pedido: check the order status".to_owned()),
        "{response:?}"
    );
}

#[tokio::test]
async fn a_javascript_plugin_made_outside_the_repository_runs_beside_first_party_plugins() {
    let outside = tempfile::tempdir().expect("tempdir");
    // The SDK as npm would fetch it: `npm pack` (which puts the WIT inside).
    let packed = succeeds(
        Command::new("npm")
            .current_dir(workspace_dir().join("sdk/js"))
            .args(["pack", "--silent", "--pack-destination"])
            .arg(outside.path()),
        "npm pack",
    );
    let tarball = outside
        .path()
        .join(String::from_utf8_lossy(&packed.stdout).trim());
    let project = outside.path().join("lang-notes");
    succeeds(
        crossdesk_command()
            .args(["plugin", "new", "lang-notes", "--lang", "js", "--dir"])
            .arg(&project)
            .arg("--sdk")
            .arg(&tarball),
        "plugin new",
    );
    succeeds(
        Command::new("npm").current_dir(&project).args([
            "install",
            "--prefer-offline",
            "--ignore-scripts",
            "--no-audit",
            "--no-fund",
            "--loglevel=error",
        ]),
        "npm install",
    );
    succeeds(
        Command::new("npm")
            .current_dir(&project)
            .args(["test", "--silent"]),
        "the project's npm test",
    );
    let component = outside.path().join("lang-notes.wasm");
    succeeds(
        crossdesk_command().current_dir(outside.path()).args([
            "plugin",
            "build",
            "lang-notes",
            "--out",
            "lang-notes.wasm",
        ]),
        "plugin build",
    );
    let printed = check_and_run(&component, "home_language=en", &outside.path().join("data"));
    assert!(printed.contains("lang-es"), "{printed}");

    let response =
        run_beside_first_party(&component, "lang-notes", ("note_prefix", "Idioma")).await;
    assert!(
        notes(&response)
            .iter()
            .any(|note| note.starts_with("Idioma: the customer writes in 'es'")),
        "{response:?}"
    );
}

/// `crossdesk plugin check` of `component` (it must pass), then `plugin run` on the
/// sample event with `setting`; what `run` printed.
fn check_and_run(component: &Path, setting: &str, data: &Path) -> String {
    // The commands cache what they compile in `data/compiled`: the suite's shared
    // folder, so that the component is compiled once for both commands and the
    // sidecar after them (a JavaScript component takes seconds).
    std::fs::create_dir_all(data).expect("data folder");
    std::fs::create_dir_all(compiled_dir()).expect("compiled folder");
    std::os::unix::fs::symlink(compiled_dir(), data.join("compiled")).expect("link compiled");
    succeeds(
        crossdesk_command()
            .args(["plugin", "check", "--data-dir"])
            .arg(data)
            .arg(component),
        "plugin check",
    );
    let run = succeeds(
        crossdesk_command()
            .args(["plugin", "run", "--setting", setting, "--data-dir"])
            .arg(data)
            .arg(component),
        "plugin run",
    );
    String::from_utf8_lossy(&run.stdout).into_owned()
}

/// Installs `component` as `name` at runtime (the operator), enables it with
/// `setting` for a tenant that runs a first-party-style plugin too (the tenant's
/// admin), and answers a Spanish customer's message through gRPC.
async fn run_beside_first_party(
    component: &Path,
    name: &str,
    setting: (&str, &str),
) -> pb::HandleEventResponse {
    let config = format!(
        r#"
[admin]
listen = "127.0.0.1:0"
users = [{{ name = "ops", token = "{OPS}", tenants = ["*"] }}]
"#
    ) + &install(&["plugin-tagger"])
        + r#"
[[tenants]]
id = "shop"
[[tenants.plugins]]
name = "plugin-tagger"
"#;
    let server = TestServer::start(&config).await;
    let mut admin = server.admin().await;
    admin
        .install_plugin(as_admin(
            OPS,
            pb::InstallPluginRequest {
                component: std::fs::read(component).expect("component"),
                signature: String::new(),
                name: name.into(),
            },
        ))
        .await
        .expect("install");
    admin
        .configure_plugin(as_admin(
            OPS,
            pb::ConfigurePluginRequest {
                tenant_id: "shop".into(),
                plugin: name.into(),
                set_settings: [(setting.0.to_owned(), setting.1.to_owned())].into(),
                ..Default::default()
            },
        ))
        .await
        .expect("enable");
    let mut event = customer_message("shop", "order-1", "¿Dónde está mi pedido?");
    if let Some(customer) = event.customer.as_mut() {
        customer.locale = "es-MX".into();
    }
    let response = server.handle(event).await;
    for plugin in ["plugin-tagger", name] {
        assert_eq!(
            outcome(&response, plugin).status(),
            pb::plugin_outcome::Status::Ok,
            "{response:?}"
        );
    }
    response
}
