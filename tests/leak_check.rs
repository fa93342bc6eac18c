//! The leak check that `make test` runs after the suite (`scripts/leak-check.sh`)
//! fails on what it must fail on: a marked secret in any log, or logs that hold no
//! answered event (nothing recorded, so nothing checked).

use crossdesk_integration_tests::logs::SECRET_MARK;
use crossdesk_integration_tests::workspace_dir;

fn check(files: &[(&str, String)]) -> std::process::Output {
    let dir = tempfile::tempdir().expect("temp dir");
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).expect("write a log");
    }
    std::process::Command::new("bash")
        .arg(workspace_dir().join("scripts/leak-check.sh"))
        .arg(dir.path())
        .output()
        .expect("run the leak check")
}

#[test]
fn a_marked_secret_anywhere_fails_the_run() {
    let answered = "TRACE crossdesk_sidecar::api: answered event_id=e1".to_owned();
    let clean = check(&[("suite-1.log", answered.clone())]);
    assert!(clean.status.success(), "{clean:?}");

    let leaked = format!("error: upstream said 'Bearer x-{SECRET_MARK}-y'");
    for file in ["suite-1.log", "serve-1-0.log", "command-1.log"] {
        let mut files = vec![("suite-1.log", answered.clone())];
        if file == "suite-1.log" {
            files[0].1.push_str(&format!("\n{leaked}\n"));
        } else {
            files.push((file, leaked.clone()));
        }
        let output = check(&files);
        assert!(!output.status.success(), "{file}: {output:?}");
        assert!(
            String::from_utf8_lossy(&output.stdout).contains(&leaked),
            "{file}: the line is shown"
        );
    }
}

#[test]
fn logs_that_recorded_nothing_fail_the_run() {
    let empty = check(&[("suite-1.log", "INFO started".to_owned())]);
    assert!(!empty.status.success());
    let none = check(&[]);
    assert!(!none.status.success());
}
