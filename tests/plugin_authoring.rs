//! A third party's plugin, made outside this repository as a plugin author would:
//! `crossdesk plugin new` in a temporary folder with the SDK from its packaged crate
//! (never the workspace), the project's own `cargo test`, `crossdesk plugin build`,
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

    // Its logic, natively, as the author runs it.
    let tests = succeeds(
        cargo(&project, &workspace_dir().join("target/authoring")).args(["test", "--quiet"]),
        "the project's cargo test",
    );
    assert!(
        String::from_utf8_lossy(&tests.stdout).contains("2 passed"),
        "{}",
        String::from_utf8_lossy(&tests.stdout)
    );

    // The component. The wasm32 standard library `make plugins` built is reused.
    let component = outside.path().join("order-flags.wasm");
    succeeds(
        crossdesk_command()
            .env("CARGO_TARGET_DIR", workspace_dir().join("target/wasm"))
            .args(["plugin", "build"])
            .arg(&project)
            .arg("--out")
            .arg(&component),
        "plugin build",
    );
    let data = outside.path().join("data");
    succeeds(
        crossdesk_command()
            .args(["plugin", "check", "--data-dir"])
            .arg(&data)
            .arg(&component),
        "plugin check",
    );
    let run = succeeds(
        crossdesk_command()
            .args([
                "plugin",
                "run",
                "--setting",
                "note_prefix=Pedido",
                "--data-dir",
            ])
            .arg(&data)
            .arg(&component),
        "plugin run",
    );
    let printed = String::from_utf8_lossy(&run.stdout);
    assert!(printed.contains("lang-es"), "{printed}");

    // Installed at runtime by the operator, enabled by the tenant's admin.
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
                component: std::fs::read(&component).expect("component"),
                signature: String::new(),
                name: "order-flags".into(),
            },
        ))
        .await
        .expect("install");
    admin
        .configure_plugin(as_admin(
            OPS,
            pb::ConfigurePluginRequest {
                tenant_id: "shop".into(),
                plugin: "order-flags".into(),
                set_settings: [("note_prefix".to_owned(), "Pedido".to_owned())].into(),
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
    for plugin in ["plugin-tagger", "order-flags"] {
        assert_eq!(
            outcome(&response, plugin).status(),
            pb::plugin_outcome::Status::Ok,
            "{response:?}"
        );
    }
    assert!(
        notes(&response).contains(&"Pedido: check the order status".to_owned()),
        "{response:?}"
    );
}
