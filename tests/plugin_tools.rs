//! Plugin contracts side by side, and what plugins offer admins: components built
//! against contracts 0.1.0 and 0.2.0 run beside 0.2.1 ones through the gRPC API, and a
//! third-party-style plugin (`tests/plugins/faq`, nothing but the SDK) gets its
//! dataset imported and its commands run through the same generic path as the
//! first-party plugins — in process and through the `crossdesk` binary.

use crossdesk_integration_tests::logs::Logged;
use crossdesk_integration_tests::*;
use crossdesk_sidecar::runtime::{CommandInput, Contract};
use pb::plugin_outcome::Status;

/// Tenants `acme` and `globex` running the 0.1.0 and 0.2.0 plugins, the SDK's
/// tagger and the third-party faq plugin, each granted storage.
fn config() -> String {
    // plugin-js-hostile is built by the JavaScript SDK.
    let mut config = install(&[
        "plugin-legacy-v0-1",
        "plugin-legacy-v0-2",
        "plugin-tagger",
        "plugin-faq",
        "plugin-js-hostile",
    ]);
    for tenant in ["acme", "globex"] {
        config.push_str(&format!(
            r#"
[[tenants]]
id = "{tenant}"
[[tenants.plugins]]
name = "plugin-legacy-v0-1"
kv = true
settings = {{ greeting = "hola {tenant}" }}
[[tenants.plugins]]
name = "plugin-legacy-v0-2"
kv = true
settings = {{ greeting = "hallo {tenant}" }}
[[tenants.plugins]]
name = "plugin-tagger"
[[tenants.plugins]]
name = "plugin-faq"
kv = true
"#
        ));
    }
    config
}

fn input(values: &[(&str, &str)], files: &[(&str, &[u8])]) -> CommandInput {
    CommandInput {
        tenant: None,
        values: values
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        files: files
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.to_vec()))
            .collect(),
    }
}

#[tokio::test]
async fn plugins_of_contracts_0_1_and_0_2_0_run_beside_0_2_1_ones_over_grpc() {
    let server = TestServer::start(&config()).await;
    let contract = |name: &str| {
        server
            .sidecar
            .installed_plugin(name)
            .expect("installed")
            .contract
    };
    assert_eq!(contract("plugin-legacy-v0-1"), Contract::V0_1);
    assert_eq!(contract("plugin-tagger"), Contract::V0_2_1);
    assert_eq!(contract("plugin-faq"), Contract::V0_2_1);
    // A 0.2.0 component loads on the 0.2.1 host as it is.
    assert_eq!(contract("plugin-legacy-v0-2"), Contract::V0_2);
    assert_eq!(contract("plugin-js-hostile"), Contract::V0_2_1);

    for n in 1..=2 {
        let response = server
            .handle(customer_message(
                "acme",
                &format!("m-{n}"),
                "Where is my parcel?",
            ))
            .await;
        for plugin in [
            "plugin-legacy-v0-1",
            "plugin-legacy-v0-2",
            "plugin-tagger",
            "plugin-faq",
        ] {
            assert_eq!(
                outcome(&response, plugin).status(),
                Status::Ok,
                "{response:#?}"
            );
        }
        // Settings (0.1.0's `config` interface) and storage reach the old plugin.
        let expected = format!("hola acme from contract 0.1.0: event m-{n} is message {n}");
        assert!(notes(&response).contains(&expected), "{response:#?}");
        let expected = format!("hallo acme from contract 0.2.0: event m-{n} is message {n}");
        assert!(notes(&response).contains(&expected), "{response:#?}");
    }
    // Its storage is the tenant's own.
    let other = server
        .handle(customer_message("globex", "g-1", "Hello"))
        .await;
    assert!(
        notes(&other).contains(&"hola globex from contract 0.1.0: event g-1 is message 1".into()),
        "{other:#?}"
    );
}

#[tokio::test]
async fn a_third_party_dataset_is_imported_whole_and_used_per_tenant() {
    let server = TestServer::start(&config()).await;
    let sidecar = &server.sidecar;
    let csv = b"refund,Refunds take 5 days.\nparcel,Parcels ship in 24 hours.\n";
    let imported = sidecar
        .import_dataset("test", "acme", "plugin-faq", "answers", "csv", csv)
        .await
        .expect("imported");
    assert_eq!(imported.records, 2);
    assert_eq!(imported.summary, "2 answer(s)");

    let response = server
        .handle(customer_message("acme", "q-1", "Where is my parcel?"))
        .await;
    assert!(
        notes(&response).contains(&"Suggested answer: Parcels ship in 24 hours.".into()),
        "{response:#?}"
    );
    // Another tenant's data is untouched.
    let other = server
        .handle(customer_message("globex", "q-2", "Where is my parcel?"))
        .await;
    assert!(
        !notes(&other).iter().any(|n| n.starts_with("Suggested")),
        "{other:#?}"
    );

    // A second import replaces the first whole.
    let again = sidecar
        .import_dataset(
            "test",
            "acme",
            "plugin-faq",
            "answers",
            "json",
            br#"{"invoice": "Invoices are in your account."}"#,
        )
        .await
        .expect("imported");
    assert_eq!((again.records, again.replaced), (1, 2));
    let listed = sidecar
        .run_command(Some("acme"), "plugin-faq", "list", input(&[], &[]))
        .await
        .expect("list");
    assert_eq!(listed.text, "invoice: Invoices are in your account.\n");

    // A file the plugin refuses changes nothing.
    let err = sidecar
        .import_dataset("test", "acme", "plugin-faq", "answers", "csv", b"no comma")
        .await
        .expect_err("refused");
    assert!(
        err.to_string().contains("line 1: expected keyword,answer"),
        "{err}"
    );
    let listed = sidecar
        .run_command(Some("acme"), "plugin-faq", "list", input(&[], &[]))
        .await
        .expect("list");
    assert_eq!(listed.text, "invoice: Invoices are in your account.\n");
}

/// An import that would take a plugin's storage for a tenant past
/// `runtime.kv_quota_mb` is refused whole; one replacing its own dataset is
/// weighed without the entries it replaces.
#[tokio::test]
async fn an_import_past_the_storage_quota_is_refused_whole() {
    let server = TestServer::start(&(config() + "\n[runtime]\nkv_quota_mb = 1\n")).await;
    let sidecar = &server.sidecar;
    // Answers of 1,000 bytes: each entry weighs about 1,080 with its key.
    let csv = |answers: usize| -> Vec<u8> {
        (0..answers)
            .map(|i| format!("k{i},{}\n", "x".repeat(1000)))
            .collect::<String>()
            .into_bytes()
    };
    let import = |content: Vec<u8>| async move {
        sidecar
            .import_dataset("test", "acme", "plugin-faq", "answers", "csv", &content)
            .await
    };
    import(csv(700)).await.expect("about 750 KB of 1 MiB");
    import(csv(700))
        .await
        .expect("the same again, in place of the first");
    let err = import(csv(1000)).await.expect_err("about 1.08 MB");
    assert!(
        matches!(&err, crossdesk_sidecar::tools::ToolError::OverQuota { .. })
            && err.to_string().contains("quota of 1048576 bytes"),
        "{err}"
    );
    let listed = sidecar
        .run_command(Some("acme"), "plugin-faq", "list", input(&[], &[]))
        .await
        .expect("list");
    assert_eq!(listed.text.lines().count(), 700, "what was there stays");
}

#[tokio::test]
async fn what_a_plugin_does_not_offer_is_refused_with_what_it_does() {
    let server = TestServer::start(&config()).await;
    let sidecar = &server.sidecar;
    let err = sidecar
        .import_dataset("t", "acme", "plugin-legacy-v0-1", "answers", "csv", b"")
        .await
        .expect_err("a 0.1.0 plugin offers no dataset");
    assert!(err.to_string().contains("contract 0.1.0"), "{err}");
    let err = sidecar
        .run_command(Some("acme"), "plugin-faq", "delete-all", input(&[], &[]))
        .await
        .expect_err("no such command");
    assert!(
        err.to_string().contains("it offers: list, export, echo"),
        "{err}"
    );
    let err = sidecar
        .run_command(None, "plugin-faq", "list", input(&[], &[]))
        .await
        .expect_err("needs a tenant");
    assert!(err.to_string().contains("give --tenant"), "{err}");
    let err = sidecar
        .import_dataset("t", "initech", "plugin-faq", "answers", "csv", b"")
        .await
        .expect_err("no such tenant");
    assert!(err.to_string().contains("no tenant 'initech'"), "{err}");
    // The contact history is the admin's, never an event handler's: the grant a
    // command gets is not the one events run with (see the schedule plan tests).
}

#[test]
fn the_cli_imports_runs_and_writes_only_where_the_admin_points() {
    let data = tempfile::tempdir().expect("tempdir");
    let config_path = data.path().join("crossdesk.toml");
    std::fs::write(
        &config_path,
        format!(
            "data_dir = {:?}\nplugin_dir = {:?}\n{}",
            data.path().join("data"),
            plugin_dir(),
            config()
        ),
    )
    .expect("write config");
    let answers = data.path().join("answers.csv");
    std::fs::write(&answers, "refund,Refunds take 5 days.\n").expect("write");
    let run = |args: &[&str]| {
        let output = crossdesk_command()
            .args(args)
            .arg("--config")
            .arg(&config_path)
            .logged_output()
            .expect("run crossdesk");
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        assert!(output.status.success(), "{args:?}: {stderr}");
        (String::from_utf8_lossy(&output.stdout).into_owned(), stderr)
    };
    let path = answers.to_str().expect("utf-8");
    let (out, _) = run(&[
        "plugin",
        "import",
        "plugin-faq",
        "answers",
        path,
        "--tenant",
        "acme",
    ]);
    assert_eq!(
        out.trim(),
        "answers of tenant 'acme' imported: 1 answer(s) (replacing 0 entries)"
    );
    let exported = data.path().join("out.csv");
    let exported_arg = exported.to_str().expect("utf-8");
    let (out, _) = run(&[
        "plugin",
        "exec",
        "plugin-faq",
        "export",
        "--output",
        exported_arg,
        "--tenant",
        "acme",
    ]);
    assert_eq!(out, "exported\n");
    assert_eq!(
        std::fs::read_to_string(&exported).expect("written"),
        "refund,Refunds take 5 days.\n"
    );
    // A command that needs no tenant runs from the component alone.
    let component = plugin("plugin-faq");
    let (out, _) = run(&[
        "plugin",
        "exec",
        component.to_str().expect("utf-8"),
        "echo",
        path,
        "--times",
        "2",
    ]);
    assert_eq!(out, "refund,Refunds take 5 days.\n".repeat(2));
    // An author's component, with no configuration: imported and used for a
    // tenant, its storage kept in the data folder given.
    let alone = data.path().join("alone");
    let alone_arg = alone.to_str().expect("utf-8");
    let by_path = |args: &[&str]| {
        let output = crossdesk_command()
            .args(args)
            .args(["--tenant", "acme", "--data-dir", alone_arg])
            .logged_output()
            .expect("run crossdesk");
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        assert!(output.status.success(), "{args:?}: {stderr}");
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    let component_arg = component.to_str().expect("utf-8");
    let out = by_path(&["plugin", "import", component_arg, "answers", path]);
    assert_eq!(
        out.trim(),
        "answers of tenant 'acme' imported: 1 answer(s) (replacing 0 entries)"
    );
    let out = by_path(&["plugin", "exec", component_arg, "list"]);
    assert!(out.contains("Refunds take 5 days."), "{out}");
    // Bad arguments are refused by the plugin's own parameter list.
    let output = crossdesk_command()
        .args(["plugin", "exec", "plugin-faq", "echo", "--times", "2"])
        .arg("--config")
        .arg(&config_path)
        .logged_output()
        .expect("run crossdesk");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("<file>"), "{stderr}");
    // Help needs no tenant, even for a command that runs for one.
    let (help, _) = run(&["plugin", "exec", component_arg, "export", "--help"]);
    assert!(help.contains("--output"), "{help}");
    // `--plugin` (the aliases' installed name) would be ignored here: refused.
    let output = crossdesk_command()
        .args(["plugin", "exec", "plugin-faq", "list", "--plugin", "other"])
        .args(["--tenant", "acme", "--config"])
        .arg(&config_path)
        .logged_output()
        .expect("run crossdesk");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("got --plugin other"), "{stderr}");
}
