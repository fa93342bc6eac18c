//! The conformance kit (`crossdesk plugin check`): every first-party plugin and
//! example passes it, and each hostile fixture is refused under the rule it breaks,
//! with a reason; the CLI's exit status and JSON report say the same.

use crossdesk_integration_tests::*;
use crossdesk_sidecar::config::Limits;
use crossdesk_sidecar::conformance::{self, CheckOptions, Report, Verdict};
use crossdesk_sidecar::runtime::Runtime;

/// The deadline the infinite loop is stopped by: short, to keep the test quick.
/// The other fixtures keep the default: on a loaded machine a memory bomb may take
/// more than half a second to reach the memory limit, and would then break the
/// deadline rule instead.
const LOOP_DEADLINE_MS: u64 = 500;

async fn check(file: &std::path::Path) -> Report {
    check_within(file, Limits::default().timeout_ms).await
}

/// Checks with a call deadline of `timeout_ms`.
async fn check_within(file: &std::path::Path, timeout_ms: u64) -> Report {
    check_with(file, timeout_ms, &[]).await
}

/// Checks with a call deadline of `timeout_ms`, letting `private_hosts` resolve
/// to loopback or a private network (`plugin check --private-host`).
async fn check_with(file: &std::path::Path, timeout_ms: u64, private_hosts: &[&str]) -> Report {
    let limits = Limits {
        timeout_ms,
        ..Limits::default()
    };
    // As `plugin check` runs: every call may use its whole deadline on the
    // workers (a memory bomb in overtime, on a machine busy with other tests,
    // would meet its deadline before the memory limit).
    let runtime = Runtime::alone(&limits, 4, &compiled_dir()).expect("runtime");
    let data = tempfile::tempdir().expect("tempdir");
    let options = CheckOptions {
        limits,
        private_hosts: private_hosts.iter().map(|h| h.to_string()).collect(),
        ..Default::default()
    };
    conformance::check(&runtime, file, &options, data.path()).await
}

fn verdict<'r>(report: &'r Report, rule: &str) -> (&'r Verdict, &'r str) {
    let finding = report
        .findings
        .iter()
        .find(|f| f.rule == rule)
        .unwrap_or_else(|| panic!("no finding for {rule}: {report:?}"));
    (&finding.verdict, &finding.detail)
}

#[tokio::test]
async fn first_party_plugins_and_examples_are_conformant() {
    for name in [
        "translation",
        "tone",
        "recommend",
        "schedule",
        "hello-plugin",
        "js-plugin",
        "plugin-faq",
        "plugin-legacy-v0-1",
    ] {
        // Translation's default engine is Apertium on loopback, which the
        // person checking lets it reach.
        let report = check_with(&plugin(name), Limits::default().timeout_ms, &["127.0.0.1"]).await;
        assert!(report.passed, "{name}: {report:#?}");
        assert_eq!(report.findings.len(), conformance::Rule::ALL.len());
    }
}

/// A host a plugin declares is reached on public addresses only, unless the
/// person checking lists it: translation's loopback engine is then refused.
#[tokio::test]
async fn a_declared_host_on_loopback_is_refused_unless_listed() {
    let report = check(&plugin("translation")).await;
    let (verdict, detail) = verdict(&report, "capabilities");
    assert_eq!(*verdict, Verdict::Failed, "{report:#?}");
    assert!(detail.contains("not public"), "{detail}");
}

/// The settings a plugin is checked with are held to its declarations, as a
/// tenant admin's are: a key it does not read fails the settings rule.
#[tokio::test]
async fn settings_it_does_not_declare_fail_the_check() {
    let runtime = Runtime::alone(&Limits::default(), 4, &compiled_dir()).expect("runtime");
    let data = tempfile::tempdir().expect("tempdir");
    let options = CheckOptions {
        settings: vec![("greting".into(), "Hola".into())],
        ..Default::default()
    };
    let report = conformance::check(&runtime, &plugin("hello-plugin"), &options, data.path()).await;
    assert!(!report.passed, "{report:#?}");
    let (verdict, detail) = verdict(&report, "settings");
    assert!(matches!(verdict, Verdict::Failed), "{report:#?}");
    assert!(detail.contains("greting"), "{detail}");
}

/// Each fixture breaks one rule; the report names that rule and why.
#[tokio::test]
async fn each_broken_rule_is_named_with_its_reason() {
    for (name, rule, reason) in [
        ("plugin-huge-output", "output", "exceeds the limit"),
        ("plugin-infinite-loop", "deadline", "deadline of 500 ms"),
        ("plugin-forbidden-host", "capabilities", "not granted"),
        ("plugin-panics", "events", "trapped"),
        ("plugin-memory-bomb", "events", "memory limit"),
        ("plugin-manifest-traps", "manifest", "its manifest() failed"),
        ("plugin-bad-setting", "settings", "unknown type 'integer'"),
        ("plugin-cache-unstable", "deterministic", "call 2"),
    ] {
        let deadline_ms = match name {
            "plugin-infinite-loop" => LOOP_DEADLINE_MS,
            _ => Limits::default().timeout_ms,
        };
        let report = check_within(&plugin(name), deadline_ms).await;
        assert!(!report.passed, "{name} passed: {report:#?}");
        let (verdict, detail) = verdict(&report, rule);
        assert_eq!(*verdict, Verdict::Failed, "{name}: {report:#?}");
        assert!(detail.contains(reason), "{name}: {detail}");
    }
}

#[tokio::test]
async fn a_file_that_is_no_component_breaks_the_contract_rule() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("not-a-plugin.wasm");
    std::fs::write(&file, b"\0asm\x01\0\0\0").expect("write");
    let report = check(&file).await;
    assert!(!report.passed);
    assert_eq!(*verdict(&report, "contract").0, Verdict::Failed);
    assert_eq!(report.plugin, None);
    // The rules after it were not reached.
    assert_eq!(*verdict(&report, "events").0, Verdict::NotChecked);
}

/// For CI: the exit status fails the job, the JSON names the rule.
#[test]
fn the_cli_exits_non_zero_and_reports_json() {
    let data = tempfile::tempdir().expect("tempdir");
    let output = crossdesk_command()
        .args(["plugin", "check", "--json", "--data-dir"])
        .arg(data.path())
        .arg(plugin("plugin-huge-output"))
        .output()
        .expect("crossdesk runs");
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(report["passed"], false);
    let output_rule = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["rule"] == "output")
        .expect("output rule");
    assert_eq!(output_rule["verdict"], "failed");

    let passing = crossdesk_command()
        .args(["plugin", "check", "--data-dir"])
        .arg(data.path())
        .arg(plugin("plugin-noop"))
        .output()
        .expect("crossdesk runs");
    assert!(passing.status.success(), "{passing:?}");
    assert!(String::from_utf8_lossy(&passing.stdout).contains("conformant"));
}

/// No manifest declares reading another plugin's storage (an admin grants it,
/// `kv_read`): `--kv-read` grants it for the check, and the rule names the flag.
#[test]
fn reading_another_plugins_storage_is_granted_by_kv_read() {
    let data = tempfile::tempdir().expect("tempdir");
    let event = data.path().join("reads-other.json");
    std::fs::write(
        &event,
        r#"{"tenantId": "conformance", "eventId": "e-1", "kind": "EVENT_KIND_CUSTOMER_MESSAGE",
            "ticketId": "T-1", "text": "hola",
            "attributes": {"read": "@kv-counter/count", "strict": "yes"}}"#,
    )
    .expect("write");
    let check = |grant: &[&str]| {
        crossdesk_command()
            .args(["plugin", "check", "--json", "--data-dir"])
            .arg(data.path())
            .arg("--event")
            .arg(&event)
            .args(grant)
            .arg(plugin("plugin-kv-probe"))
            .output()
            .expect("crossdesk runs")
    };
    let refused = check(&[]);
    assert_eq!(refused.status.code(), Some(1), "{refused:?}");
    let report: serde_json::Value = serde_json::from_slice(&refused.stdout).expect("JSON");
    let rule = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["rule"] == "capabilities")
        .expect("capabilities rule")
        .clone();
    assert_eq!(rule["verdict"], "failed", "{rule}");
    assert!(
        rule["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("may not read the storage of plugin 'kv-counter'"),
        "{rule}"
    );
    let granted = check(&["--kv-read", "kv-counter"]);
    assert!(granted.status.success(), "{granted:?}");
}
