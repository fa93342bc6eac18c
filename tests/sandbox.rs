//! Hostile plugins, built from source like any other: each is stopped or refused,
//! reported in its own outcome, and never disturbs other plugins or requests.

use std::time::{Duration, Instant};

use crossdesk_integration_tests::*;
use pb::plugin_outcome::Status;

/// One tenant per hostile plugin, each followed by the harmless tagger, plus a
/// tenant that only runs the tagger.
fn config() -> String {
    config_with("tenant", 100)
}

/// [`config`] with the hostile tenants' `isolation`, and a CPU budget per call.
///
/// The memory bombs must meet their memory limit, not the deadline: on a test
/// machine busy with other tests, a budget of 5 ms could send one to the overtime
/// thread, which then waits for idle CPU until the deadline. Hence 100 ms, except
/// where a test wants the loop in overtime early.
fn config_with(isolation: &str, cpu_budget_ms: u64) -> String {
    let hostile = [
        "plugin-infinite-loop",
        "plugin-memory-bomb",
        "plugin-deep-recursion",
        "plugin-huge-output",
        "plugin-panics",
        "plugin-file-access",
        "plugin-socket-access",
        "plugin-forbidden-host",
        "plugin-kv-counter",
    ];
    let mut config = install(&[&hostile[..], &["plugin-tagger", "plugin-js-hostile"]].concat());
    config.push_str(&format!(
        r#"
[limits]
timeout_ms = 300
max_memory_bytes = 33554432

[runtime]
cpu_budget_ms = {cpu_budget_ms}

[[tenants]]
id = "calm"
[[tenants.plugins]]
name = "plugin-tagger"
settings = {{ tag = "calm" }}
"#
    ));
    for name in hostile {
        config.push_str(&format!(
            "\n[[tenants]]\nid = \"{name}\"\nisolation = \"{isolation}\"\n\
             [[tenants.plugins]]\nname = \"{name}\"\n\
             [[tenants.plugins]]\nname = \"plugin-tagger\"\nconfig = {{ tag = \"ok\" }}\n"
        ));
    }
    // The JavaScript one, one tenant per attack.
    for attack in ["loop", "hoard", "fail"] {
        config.push_str(&format!(
            "\n[[tenants]]\nid = \"js-{attack}\"\nisolation = \"{isolation}\"\n\
             [[tenants.plugins]]\nname = \"plugin-js-hostile\"\n\
             settings = {{ attack = \"{attack}\" }}\n\
             [[tenants.plugins]]\nname = \"plugin-tagger\"\n"
        ));
    }
    // The forbidden-host plugin is granted one host, and asks for another.
    config.push_str(
        r#"
[[tenants]]
id = "granted-other-host"
[[tenants.plugins]]
name = "plugin-forbidden-host"
allowed_hosts = ["api.example.com"]
settings = { url = "http://evil.example.net/steal" }

[[tenants]]
id = "wildcard-to-loopback"
[[tenants.plugins]]
name = "plugin-forbidden-host"
allowed_hosts = ["*.0.0.1"]
settings = { url = "http://127.0.0.1:5432/" }

[[tenants]]
id = "refusal-flood"
[[tenants.plugins]]
name = "plugin-forbidden-host"
settings = { url = "http://evil.example.net/steal", repeat = "2000", pad = "16384" }

[[tenants]]
id = "name-to-loopback"
[[tenants.plugins]]
name = "plugin-forbidden-host"
allowed_hosts = ["localhost:5432"]
settings = { url = "http://localhost:5432/" }
"#,
    );
    config
}

async fn run(server: &TestServer, tenant: &str, id: &str) -> pb::HandleEventResponse {
    server
        .client()
        .await
        .handle_event(request(customer_message(tenant, id, "hello")))
        .await
        .expect("the request itself succeeds")
        .into_inner()
}

/// The hostile plugin failed as expected and the plugin after it still ran.
fn assert_contained(
    response: &pb::HandleEventResponse,
    plugin: &str,
    status: Status,
    needle: &str,
) {
    let bad = outcome(response, plugin);
    assert_eq!(bad.status(), status, "{bad:?}");
    assert!(
        bad.error.to_lowercase().contains(needle),
        "error of {plugin} should mention {needle:?}: {bad:?}"
    );
    assert!(response.actions.iter().all(|a| a.plugin != plugin));
    assert_eq!(outcome(response, "plugin-tagger").status(), Status::Ok);
}

/// Each hostile plugin is stopped or refused alike whether its tenant's instances are
/// kept warm (`tenant`, the default) or fresh for every call (`event`); each is
/// called twice, so that the second call meets whatever the first left behind.
#[tokio::test]
async fn every_hostile_plugin_is_contained_with_warm_or_fresh_instances() {
    let expected = [
        ("plugin-infinite-loop", Status::TimedOut, "deadline"),
        ("plugin-memory-bomb", Status::Failed, "memory limit"),
        ("plugin-deep-recursion", Status::Failed, "stack overflow"),
        ("plugin-huge-output", Status::Failed, "exceeds the limit"),
        ("plugin-panics", Status::Failed, "trap"),
        ("plugin-file-access", Status::Failed, "no preopened"),
        ("plugin-socket-access", Status::Denied, "not granted"),
        ("plugin-forbidden-host", Status::Denied, "not granted"),
        ("plugin-kv-counter", Status::Denied, "not granted"),
    ];
    // A JavaScript plugin is stopped the same way.
    let javascript = [
        ("js-loop", Status::TimedOut, "deadline"),
        ("js-hoard", Status::Failed, "memory limit"),
        // The SDK's error is the plugin's, not a trap.
        ("js-fail", Status::Failed, "asked to fail (retryable)"),
    ];
    let cases = expected
        .iter()
        .map(|(plugin, status, needle)| (*plugin, *plugin, *status, *needle))
        .chain(
            javascript
                .iter()
                .map(|(tenant, status, needle)| (*tenant, "plugin-js-hostile", *status, *needle)),
        );
    let cases: Vec<_> = cases.collect();
    for isolation in ["tenant", "event"] {
        let server = TestServer::start(&config_with(isolation, 100)).await;
        for (tenant, plugin, status, needle) in &cases {
            for n in 0..2 {
                let response = run(&server, tenant, &format!("{isolation}-{n}")).await;
                assert_contained(&response, plugin, *status, needle);
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn infinite_loop_times_out_while_other_requests_are_served() {
    // A deadline of a second, not 300 ms: room for a few requests on a loaded
    // machine.
    let config = config_with("tenant", 5).replace("timeout_ms = 300\n", "timeout_ms = 1000\n");
    let server = TestServer::start(&config).await;
    let started = Instant::now();
    let looping = {
        let mut client = server.client().await;
        tokio::spawn(async move {
            client
                .handle_event(request(customer_message(
                    "plugin-infinite-loop",
                    "loop-1",
                    "x",
                )))
                .await
                .expect("ok")
                .into_inner()
        })
    };
    // While the loop burns its budget, other tenants' requests complete.
    let mut served = 0;
    while !looping.is_finished() {
        let response = run(&server, "calm", &format!("calm-{served}")).await;
        assert_eq!(outcome(&response, "plugin-tagger").status(), Status::Ok);
        served += 1;
    }
    let response = looping.await.expect("join");
    let elapsed = started.elapsed();
    assert_contained(
        &response,
        "plugin-infinite-loop",
        Status::TimedOut,
        "deadline",
    );
    // Past its CPU budget (5 ms here) the loop finished on the overtime thread,
    // at the lowest priority.
    assert_contained(
        &response,
        "plugin-infinite-loop",
        Status::TimedOut,
        "past its cpu budget of 5 ms it ran in overtime",
    );
    let reported =
        Duration::from_micros(outcome(&response, "plugin-infinite-loop").duration_micros);
    assert!(reported >= Duration::from_millis(1000), "{reported:?}");
    assert!(
        elapsed < Duration::from_secs(4),
        "stopped long after its deadline of a second: {elapsed:?}"
    );
    assert!(
        served >= 3,
        "only {served} requests were served during the loop"
    );
}

/// With the only worker thread busy with a looping plugin, another tenant's
/// requests still get through in milliseconds: the loop yields to the runtime in
/// a way that lets it poll its network first, instead of running again at once
/// and leaving sockets unread for dozens of ticks (found by the soak, issue 17).
#[tokio::test(flavor = "multi_thread", worker_threads = 1)]
async fn a_looping_plugin_does_not_hold_up_other_tenants_network() {
    let server = TestServer::start(
        &(install(&["plugin-infinite-loop", "plugin-tagger"])
            + r#"
[limits]
timeout_ms = 1500

[[tenants]]
id = "calm"
[[tenants.plugins]]
name = "plugin-tagger"
settings = { tag = "calm" }

[[tenants]]
id = "looping"
[[tenants.plugins]]
name = "plugin-infinite-loop"
"#),
    )
    .await;
    run(&server, "calm", "warm-up").await;
    let mut client = server.client().await;
    let mut calm = async |id: String| {
        let started = Instant::now();
        client
            .handle_event(request(customer_message("calm", &id, "hello")))
            .await
            .expect("served");
        started.elapsed()
    };
    let median = |mut latencies: Vec<Duration>| {
        latencies.sort();
        latencies[latencies.len() / 2]
    };
    // Measured against a quiet run of the same machine, however busy it is.
    let mut quiet = Vec::new();
    for n in 0..15 {
        quiet.push(calm(format!("quiet-{n}")).await);
    }
    let quiet = median(quiet);
    let looping = {
        let mut client = server.client().await;
        tokio::spawn(async move {
            client
                .handle_event(request(customer_message("looping", "loop", "x")))
                .await
        })
    };
    let mut latencies = Vec::new();
    while !looping.is_finished() {
        latencies.push(calm(format!("calm-{}", latencies.len())).await);
    }
    let response = looping.await.expect("join").expect("served").into_inner();
    assert_eq!(
        outcome(&response, "plugin-infinite-loop").status(),
        Status::TimedOut
    );
    let during = latencies.len();
    let slowest = latencies.iter().max().copied();
    let median = median(latencies);
    // Unread sockets would cost dozens of 1 ms ticks per request.
    assert!(
        median < quiet * 5 + Duration::from_millis(15),
        "{during} requests during the loop, median {median:?} (quiet {quiet:?}), \
         slowest {slowest:?}"
    );
}

#[tokio::test]
async fn memory_bomb_is_stopped_at_the_limit_and_host_memory_stays_bounded() {
    let server = TestServer::start(&config()).await;
    let response = run(&server, "plugin-memory-bomb", "mem-0").await;
    assert_contained(
        &response,
        "plugin-memory-bomb",
        Status::Failed,
        "memory limit",
    );
    let before = resident_bytes();
    for i in 1..=20 {
        let response = run(&server, "plugin-memory-bomb", &format!("mem-{i}")).await;
        assert_eq!(
            outcome(&response, "plugin-memory-bomb").status(),
            Status::Failed
        );
    }
    let growth = resident_bytes().saturating_sub(before);
    // 20 bombs of 32 MiB each would be 640 MiB if memory were kept.
    assert!(
        growth < 64 << 20,
        "resident memory grew by {} MiB",
        growth >> 20
    );
}

#[tokio::test]
async fn deep_recursion_traps() {
    let server = TestServer::start(&config()).await;
    let response = run(&server, "plugin-deep-recursion", "rec-1").await;
    assert_contained(
        &response,
        "plugin-deep-recursion",
        Status::Failed,
        "stack overflow",
    );
}

#[tokio::test]
async fn huge_output_is_refused() {
    let server = TestServer::start(&config()).await;
    let response = run(&server, "plugin-huge-output", "huge-1").await;
    assert_contained(
        &response,
        "plugin-huge-output",
        Status::Failed,
        "exceeds the limit",
    );
}

#[tokio::test]
async fn a_panic_fails_only_that_plugin() {
    let server = TestServer::start(&config()).await;
    let response = run(&server, "plugin-panics", "panic-1").await;
    assert_contained(&response, "plugin-panics", Status::Failed, "trap");
}

#[tokio::test]
async fn files_are_not_reachable() {
    let server = TestServer::start(&config()).await;
    let response = run(&server, "plugin-file-access", "file-1").await;
    assert_contained(
        &response,
        "plugin-file-access",
        Status::Failed,
        "no preopened",
    );
}

/// A TCP or UDP socket and a name lookup are each refused and named in the
/// outcome (wasmtime-wasi's own refusals leave no trace, so none would say
/// `DENIED` nor end a warm instance; and a socket is refused before it is an open
/// file of the host's). An instance holding a resource of the host's after its
/// call is not kept.
#[tokio::test]
async fn sockets_are_denied() {
    let server = TestServer::start(&config()).await;
    let attempts = [
        ("tcp", "creating a tcp socket is not granted"),
        ("udp", "creating a udp socket is not granted"),
        ("lookup", "name lookup of example.com is not granted"),
    ];
    // Host resources are bounded per instance: a guest that hoards them fails
    // at the bound, not at its deadline (memory of the host's all the while).
    let send = async |id: &str, text: &str| {
        server
            .handle(customer_message("plugin-socket-access", id, text))
            .await
    };
    assert_contained(
        &send("sock-hoard", "hoard").await,
        "plugin-socket-access",
        Status::Failed,
        "resource table has no free keys",
    );
    for (text, refusal) in attempts {
        // Twice: the second call meets whatever instance the first left.
        for n in 0..2 {
            let response = send(&format!("sock-{text}-{n}"), text).await;
            assert_contained(&response, "plugin-socket-access", Status::Denied, refusal);
        }
    }
    // `wasi:http` requests are never sent; their bodies would hold what the
    // plugin writes (2 MiB each by wasmtime's default, memory of the host's,
    // 128 MiB for the probe's 64): a body holds a byte, and its chunk waiting.
    let bodies = send("sock-bodies", "bodies").await;
    let taken: u64 = notes(&bodies)
        .iter()
        .find_map(|note| {
            note.strip_prefix("the host took ")?
                .strip_suffix(" bytes")?
                .parse()
                .ok()
        })
        .unwrap_or_else(|| panic!("{bodies:?}"));
    assert!(taken <= 2 * 64, "{taken} bytes");
    // An instance that kept a resource of the host's past its call (a network
    // handle, granted or not) does not serve another.
    for n in 0..2 {
        let response = send(&format!("sock-keep-{n}"), "keep").await;
        assert_eq!(
            response.actions.first().and_then(|a| a.kind.clone()),
            Some(pb::action::Kind::InternalNote(
                "kept 1 network handles".into()
            )),
            "{response:?}"
        );
    }
}

#[tokio::test]
async fn outbound_http_needs_a_grant_for_that_host() {
    let server = TestServer::start(&config()).await;
    // No hosts granted at all.
    let response = run(&server, "plugin-forbidden-host", "http-1").await;
    assert_contained(
        &response,
        "plugin-forbidden-host",
        Status::Denied,
        "not granted",
    );
    // Some host granted, but not this one.
    let response = run(&server, "granted-other-host", "http-2").await;
    let result = outcome(&response, "plugin-forbidden-host");
    assert_eq!(result.status(), Status::Denied, "{result:?}");
    assert!(result.error.contains("evil.example.net"), "{result:?}");
    // A wildcard grant never opens loopback.
    let response = run(&server, "wildcard-to-loopback", "http-3").await;
    let result = outcome(&response, "plugin-forbidden-host");
    assert_eq!(result.status(), Status::Denied, "{result:?}");
    assert!(result.error.contains("not public"), "{result:?}");
    // Nor does a tenant's exact grant of a name that resolves to loopback: only the
    // operator's `[outbound] private_hosts` opens it.
    let response = run(&server, "name-to-loopback", "http-4").await;
    let result = outcome(&response, "plugin-forbidden-host");
    assert_eq!(result.status(), Status::Denied, "{result:?}");
    assert!(result.error.contains("operator"), "{result:?}");
    // Which address it resolved to is the host's log's to know, not the
    // plugin's or the caller's: it would map the operator's network.
    assert!(
        !result.error.contains("127.0.0.1") && !result.error.contains("::1"),
        "{result:?}"
    );
}

/// Refusals are kept and logged only for the first few of a call, each cut short:
/// otherwise every one of 2,000 refused requests, each naming a 16 KiB URL, would
/// be kept and logged whole.
#[tokio::test]
async fn a_plugin_looping_on_refusals_fills_neither_memory_nor_the_logs() {
    let server = TestServer::start(&config()).await;
    // The run's logs may hold earlier runs' lines: this one's event is its own.
    let event_id = format!("flood-{}", std::process::id());
    let response = run(&server, "refusal-flood", &event_id).await;
    let result = outcome(&response, "plugin-forbidden-host");
    assert_eq!(result.status(), Status::Denied, "{result:?}");
    let start: String = result.error.chars().take(200).collect();
    assert!(result.error.contains("not granted"), "{start}");
    assert!(result.error.len() < 2048, "{} bytes", result.error.len());
    let logged: usize = std::fs::read_dir(crossdesk_integration_tests::logs::dir())
        .expect("the run's logs")
        .filter_map(|entry| std::fs::read_to_string(entry.ok()?.path()).ok())
        .map(|log| {
            log.lines()
                .filter(|line| {
                    line.contains(&format!("event_id={event_id} "))
                        && line.contains("runtime::host: denied:")
                })
                .count()
        })
        .sum();
    assert!((1..=8).contains(&logged), "{logged} refusals logged");
}

#[tokio::test]
async fn storage_needs_a_grant() {
    let server = TestServer::start(&config()).await;
    let response = run(&server, "plugin-kv-counter", "kv-1").await;
    assert_contained(
        &response,
        "plugin-kv-counter",
        Status::Denied,
        "not granted",
    );
}

fn resident_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| {
            rest.trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<u64>()
                .ok()
        })
        .map(|kb| kb * 1024)
        .unwrap_or(0)
}

fn fetch_config(addr: std::net::SocketAddr, extra: &str) -> String {
    install(&["plugin-forbidden-host"])
        + &format!(
            r#"
[outbound]
private_hosts = ["127.0.0.1"]
[[tenants]]
id = "fetcher"
[[tenants.plugins]]
name = "plugin-forbidden-host"
allowed_hosts = ["127.0.0.1:{port}"]
settings = {{ url = "http://127.0.0.1:{port}/v1/translate" }}
limits = {{ timeout_ms = 300 }}
{extra}
"#,
            port = addr.port()
        )
}

#[tokio::test]
async fn the_deadline_also_bounds_a_slow_host_call() {
    let (addr, mut requests) = recording_http_server(Duration::from_secs(10)).await;
    let server = TestServer::start(&fetch_config(addr, "")).await;
    let started = Instant::now();
    let response = run(&server, "fetcher", "slow-1").await;
    let result = outcome(&response, "plugin-forbidden-host");
    assert_eq!(result.status(), Status::TimedOut, "{result:?}");
    assert!(
        requests.recv().await.is_some(),
        "the request did reach the slow server"
    );
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn secrets_are_added_by_the_host_and_never_reach_the_plugin() {
    let (addr, mut requests) = recording_http_server(Duration::ZERO).await;
    let secret = "Bearer S3CR3T-t0ken";
    let extra = format!(
        r#"secrets = [{{ host = "127.0.0.1:{port}", header = "Authorization", value = "{secret}" }}]"#,
        port = addr.port()
    );
    let config = fetch_config(addr, &extra);
    let server = TestServer::start(&config).await;
    let response = run(&server, "fetcher", "secret-1").await;
    let result = outcome(&response, "plugin-forbidden-host");
    assert_eq!(result.status(), Status::Ok, "{result:?}");
    let head = requests.recv().await.expect("request");
    assert!(
        head.to_lowercase()
            .contains(&format!("authorization: {}", secret.to_lowercase())),
        "{head}"
    );
    assert!(!format!("{response:?}").contains("S3CR3T"), "{response:#?}");
}

/// A call past its CPU budget finishes on the overtime thread with everything it
/// was granted: its request goes out with the host's secret and the answer comes
/// back, before and after another tenant's call that stays within its budget.
#[tokio::test]
async fn a_call_in_overtime_keeps_its_grant() {
    let (addr, mut requests) = recording_http_server(Duration::ZERO).await;
    let secret = "Bearer S3CR3T-overtime";
    let config = install(&["plugin-forbidden-host"])
        + &format!(
            r#"
[runtime]
cpu_budget_ms = 5
[outbound]
private_hosts = ["127.0.0.1"]
[[tenants]]
id = "busy"
[[tenants.plugins]]
name = "plugin-forbidden-host"
allowed_hosts = ["127.0.0.1:{port}"]
settings = {{ url = "http://127.0.0.1:{port}/busy", spin_ms = "40" }}
secrets = [{{ host = "127.0.0.1:{port}", header = "Authorization", value = "{secret}" }}]
limits = {{ timeout_ms = 5000 }}
[[tenants]]
id = "quick"
[[tenants.plugins]]
name = "plugin-forbidden-host"
allowed_hosts = ["127.0.0.1:{port}"]
settings = {{ url = "http://127.0.0.1:{port}/quick" }}
"#,
            port = addr.port()
        );
    let server = TestServer::start(&config).await;
    for (n, (tenant, path)) in [("busy", "/busy"), ("quick", "/quick"), ("busy", "/busy")]
        .into_iter()
        .enumerate()
    {
        let id = format!("{tenant}-{n}");
        let response = run(&server, tenant, &id).await;
        let result = outcome(&response, "plugin-forbidden-host");
        assert_eq!(result.status(), Status::Ok, "{result:?}");
        let note = format!("{:?}", response.actions);
        assert!(note.contains("answered 200"), "{note}");
        let head = requests.recv().await.expect("request");
        assert!(head.contains(path), "{head}");
        assert_eq!(
            head.to_lowercase()
                .contains(&format!("authorization: {}", secret.to_lowercase())),
            tenant == "busy",
            "{head}"
        );
        assert!(!note.contains("S3CR3T"), "{note}");
    }
}

#[tokio::test]
async fn a_fail_closed_plugin_fails_the_event() {
    let config = install(&["plugin-panics", "plugin-tagger", "plugin-infinite-loop"])
        + r#"
[[tenants]]
id = "strict"
[[tenants.plugins]]
name = "plugin-tagger"
settings = { tag = "t" }
[[tenants.plugins]]
name = "plugin-panics"
fail_closed = true

[[tenants]]
id = "slow"
[[tenants.plugins]]
name = "plugin-infinite-loop"
fail_closed = true
limits = { timeout_ms = 200 }
"#;
    let server = TestServer::start(&config).await;
    let err = server
        .client()
        .await
        .handle_event(request(customer_message("strict", "fc-1", "x")))
        .await
        .expect_err("fail-closed");
    // A trap fails again on the same event: not worth sending again.
    assert_eq!(err.code(), tonic::Code::FailedPrecondition, "{err:?}");
    assert!(err.message().contains("plugin-panics"), "{err:?}");
    // Out of time may pass later.
    let err = server
        .client()
        .await
        .handle_event(request(customer_message("slow", "fc-2", "x")))
        .await
        .expect_err("fail-closed");
    assert_eq!(err.code(), tonic::Code::Unavailable, "{err:?}");
    assert!(err.message().contains("deadline"), "{err:?}");
}

/// One tenant's plugin cannot fill the store the tenants share: past
/// `runtime.kv_quota_mb` its writes fail, and another tenant's data of the same
/// plugin has its own room.
#[tokio::test]
async fn a_plugins_storage_for_a_tenant_is_held_to_its_quota() {
    let config = install(&["plugin-kv-probe"])
        + r#"
[runtime]
kv_quota_mb = 1

[[tenants]]
id = "acme"
[[tenants.plugins]]
name = "plugin-kv-probe"
kv = true

[[tenants]]
id = "globex"
[[tenants.plugins]]
name = "plugin-kv-probe"
kv = true
"#;
    let server = TestServer::start(&config).await;
    let write = |how: &'static str, tenant: &'static str, id: &'static str, spec: &'static str| {
        let server = &server;
        async move {
            let mut event = customer_message(tenant, id, "fill");
            event.attributes.insert(how.into(), spec.into());
            let response = server.handle(event).await;
            assert_eq!(outcome(&response, "plugin-kv-probe").status(), Status::Ok);
            notes(&response).join("\n")
        }
    };
    let note = write("fill", "acme", "quota-1", "a:1000").await;
    assert!(note.contains("fill a: ok"), "{note}");
    let note = write("fill", "acme", "quota-2", "b:100").await;
    assert!(
        note.contains("fill b: error") && note.contains("quota of 1048576 bytes"),
        "{note}"
    );
    let note = write("swap", "acme", "quota-3", "b:100").await;
    assert!(
        note.contains("swap b: error") && note.contains("quota of 1048576 bytes"),
        "{note}"
    );
    let note = write("fill", "globex", "quota-4", "b:100").await;
    assert!(note.contains("fill b: ok"), "{note}");
    // Rewriting a key in place counts only what it adds.
    let note = write("fill", "acme", "quota-5", "a:1000").await;
    assert!(note.contains("fill a: ok"), "{note}");
}

fn sharing_config(kv_read: &str) -> String {
    install(&["plugin-kv-counter", "plugin-kv-probe"])
        + &format!(
            r#"
[[tenants]]
id = "acme"
[[tenants.plugins]]
name = "plugin-kv-counter"
kv = true
[[tenants.plugins]]
name = "plugin-kv-probe"
kv = true
{kv_read}

[[tenants]]
id = "globex"
[[tenants.plugins]]
name = "plugin-kv-counter"
kv = true
[[tenants.plugins]]
name = "plugin-kv-probe"
kv = true
"#
        )
}

/// Sends a probe asking to read, list and write `@plugin-kv-counter/count` (the
/// counter has just written `count` in its own storage), with a forged host
/// attribute; returns the probe's note.
async fn probe(server: &TestServer, tenant: &str, id: &str) -> String {
    let mut event = customer_message(tenant, id, "probe");
    for (key, value) in [
        ("read", "@plugin-kv-counter/count"),
        ("list", "@plugin-kv-counter/"),
        ("write", "@plugin-kv-counter/count"),
        ("crossdesk.pipeline", "forged"),
    ] {
        event.attributes.insert(key.into(), value.into());
    }
    let response = server.handle(event).await;
    assert_eq!(outcome(&response, "plugin-kv-probe").status(), Status::Ok);
    notes(&response).join("\n")
}

#[tokio::test]
async fn another_plugins_storage_is_readable_only_when_granted_and_never_writable() {
    let server = TestServer::start(&sharing_config(r#"kv_read = ["plugin-kv-counter"]"#)).await;
    let note = probe(&server, "acme", "share-1").await;
    assert!(note.contains("read @plugin-kv-counter/count: 1"), "{note}");
    assert!(
        note.contains("list @plugin-kv-counter/: @plugin-kv-counter/count"),
        "{note}"
    );
    assert!(
        note.contains("write @plugin-kv-counter/count: error: storage denied"),
        "{note}"
    );
    // The host states the pipeline; the integrator's forged value is dropped.
    assert!(
        note.contains("attribute crossdesk.pipeline=plugin-kv-counter,plugin-kv-probe"),
        "{note}"
    );
    assert!(!note.contains("forged"), "{note}");
    let again = probe(&server, "acme", "share-2").await;
    assert!(
        again.contains("read @plugin-kv-counter/count: 2"),
        "the write was refused: {again}"
    );

    // Another tenant, not granted: denied, and nothing of acme's is visible.
    let other = probe(&server, "globex", "share-3").await;
    assert!(
        other.contains("read @plugin-kv-counter/count: error: storage denied"),
        "{other}"
    );
    assert!(!other.contains(": 2"), "{other}");
}

/// The control plane's validator runs on the configuration file itself: the
/// grant is refused when the file is read, naming the tenant and the field.
#[test]
fn read_access_must_name_a_plugin_of_the_pipeline() {
    let error = crossdesk_sidecar::Config::parse(&sharing_config(r#"kv_read = ["recommend"]"#))
        .expect_err("refused")
        .to_string();
    assert!(
        error.contains("tenant 'acme' plugins.plugin-kv-probe.kv_read[0]")
            && error.contains("'recommend' is not in the tenant's pipeline"),
        "{error}"
    );
}
