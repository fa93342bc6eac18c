//! The event API end to end: the real sidecar on loopback, a tonic client, plugins
//! built from source.

use std::time::Duration;

use crossdesk_integration_tests::*;
use futures::StreamExt;
use pb::plugin_outcome::Status;
use tonic::{Code, Request};

fn config() -> String {
    install(&["plugin-tagger", "plugin-noop", "plugin-kv-counter"])
        + r#"
[[tenants]]
id = "acme"
[[tenants.plugins]]
name = "plugin-tagger"
settings = { tag = "acme-tag" }
[[tenants.plugins]]
name = "plugin-noop"
[[tenants.plugins]]
name = "plugin-kv-counter"
kv = true

[[tenants]]
id = "globex"
[[tenants.plugins]]
name = "plugin-kv-counter"
kv = true
[[tenants.plugins]]
name = "plugin-tagger"
settings = { tag = "globex-tag" }

# Granted the tagger exactly as acme is.
[[tenants]]
id = "initech"
[[tenants.plugins]]
name = "plugin-tagger"
settings = { tag = "acme-tag" }
"#
}

#[tokio::test]
async fn happy_path_returns_actions_and_outcomes_in_pipeline_order() {
    let server = TestServer::start(&config()).await;
    let mut client = server.client().await;
    let response = client
        .handle_event(request(customer_message(
            "acme",
            "e-1",
            "Where is my parcel?",
        )))
        .await
        .expect("ok")
        .into_inner();
    assert_eq!(response.event_id, "e-1");
    assert!(!response.replayed);
    let plugins: Vec<&str> = response
        .outcomes
        .iter()
        .map(|o| o.plugin.as_str())
        .collect();
    assert_eq!(
        plugins,
        ["plugin-tagger", "plugin-noop", "plugin-kv-counter"]
    );
    for outcome in &response.outcomes {
        assert_eq!(outcome.status(), Status::Ok, "{outcome:?}");
    }
    let tags: Vec<&str> = response
        .actions
        .iter()
        .filter_map(|a| match &a.kind {
            Some(pb::action::Kind::AddTags(t)) => Some(t.tags.iter().map(String::as_str)),
            _ => None,
        })
        .flatten()
        .collect();
    assert_eq!(tags, ["acme-tag"]);
    assert!(
        notes(&response)
            .iter()
            .any(|n| n.contains("Where is my parcel?")),
        "{response:#?}"
    );
    // Actions are attributed, in pipeline order.
    let first = response.actions.first().expect("actions");
    assert_eq!(first.plugin, "plugin-tagger");
}

#[tokio::test]
async fn redelivery_returns_the_first_response_without_running_plugins_again() {
    let server = TestServer::start(&config()).await;
    let mut client = server.client().await;
    let event = customer_message("acme", "dup-1", "hello");
    let first = client
        .handle_event(request(event.clone()))
        .await
        .expect("ok")
        .into_inner();
    let again = client
        .handle_event(request(event.clone()))
        .await
        .expect("ok")
        .into_inner();
    assert!(again.replayed);
    assert_eq!(first.actions, again.actions);
    // The counter plugin ran once: a new event sees 2, not 3.
    let next = client
        .handle_event(request(customer_message("acme", "dup-2", "hello")))
        .await
        .expect("ok")
        .into_inner();
    let counts: Vec<String> = notes(&next)
        .into_iter()
        .filter(|n| n.contains("count"))
        .collect();
    assert!(counts.iter().any(|n| n.contains('2')), "{counts:?}");

    // Concurrent deliveries of one new id also run the plugins once.
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let mut client = client.clone();
        tasks.push(tokio::spawn(async move {
            client
                .handle_event(request(customer_message("acme", "dup-3", "hello")))
                .await
                .expect("ok")
                .into_inner()
        }));
    }
    let mut fresh = 0;
    for task in tasks {
        if !task.await.expect("join").replayed {
            fresh += 1;
        }
    }
    assert_eq!(fresh, 1, "exactly one delivery ran the pipeline");
}

#[tokio::test]
async fn an_event_id_reused_for_other_content_is_refused() {
    let server = TestServer::start(&config()).await;
    let mut client = server.client().await;
    client
        .handle_event(request(customer_message("acme", "same-id", "one")))
        .await
        .expect("ok");
    let err = client
        .handle_event(request(customer_message("acme", "same-id", "two")))
        .await
        .expect_err("refused");
    assert_eq!(err.code(), Code::AlreadyExists, "{err:?}");
}

#[tokio::test]
async fn kv_is_scoped_per_tenant_and_survives_a_restart() {
    let server = TestServer::start(&config()).await;
    let mut client = server.client().await;
    for i in 0..3 {
        client
            .handle_event(request(customer_message("acme", &format!("k-{i}"), "x")))
            .await
            .expect("ok");
    }
    // Tenant globex has its own counter.
    let globex = client
        .handle_event(request(customer_message("globex", "g-1", "x")))
        .await
        .expect("ok")
        .into_inner();
    assert!(
        notes(&globex).iter().any(|n| n.contains("count: 1")),
        "{globex:#?}"
    );

    let data = server.stop().await;
    let server = TestServer::start_in(&config(), data).await;
    let mut client = server.client().await;
    let after = client
        .handle_event(request(customer_message("acme", "k-after", "x")))
        .await
        .expect("ok")
        .into_inner();
    assert!(
        notes(&after).iter().any(|n| n.contains("count: 4")),
        "{after:#?}"
    );
}

#[tokio::test]
async fn cacheable_results_are_served_from_cache_per_tenant_config() {
    let server = TestServer::start(&config()).await;
    let mut client = server.client().await;
    let first = client
        .handle_event(request(customer_message("acme", "c-1", "same words")))
        .await
        .expect("ok")
        .into_inner();
    assert!(!outcome(&first, "plugin-tagger").cache_hit);
    let second = client
        .handle_event(request(customer_message("acme", "c-2", "same words")))
        .await
        .expect("ok")
        .into_inner();
    assert!(outcome(&second, "plugin-tagger").cache_hit);
    // The non-cacheable counter never is.
    assert!(!outcome(&second, "plugin-kv-counter").cache_hit);
    // Another tenant (another config) does not get acme's result.
    let other = client
        .handle_event(request(customer_message("globex", "c-3", "same words")))
        .await
        .expect("ok")
        .into_inner();
    assert!(!outcome(&other, "plugin-tagger").cache_hit);
    assert!(format!("{other:?}").contains("globex-tag"));
    assert!(!format!("{other:?}").contains("acme-tag"));
    // Nor does a tenant granted the very same: a result is its tenant's (one
    // computed from stored data may differ at an equal generation).
    let same_grant = client
        .handle_event(request(customer_message("initech", "c-4", "same words")))
        .await
        .expect("ok")
        .into_inner();
    assert!(
        !outcome(&same_grant, "plugin-tagger").cache_hit,
        "{same_grant:#?}"
    );
}

#[tokio::test]
async fn plugins_skip_event_kinds_they_do_not_handle() {
    let server = TestServer::start(&config()).await;
    let mut client = server.client().await;
    let mut event = customer_message("acme", "s-1", "");
    event.kind = pb::EventKind::TicketSolved as i32;
    let response = client
        .handle_event(request(event))
        .await
        .expect("ok")
        .into_inner();
    assert_eq!(
        outcome(&response, "plugin-tagger").status(),
        Status::Skipped
    );
}

#[tokio::test]
async fn bad_requests_get_clear_status_codes() {
    let server = TestServer::start(&config()).await;
    let mut client = server.client().await;

    let err = client
        .handle_event(request(customer_message("nobody", "u-1", "hi")))
        .await
        .expect_err("unknown tenant");
    assert_eq!(err.code(), Code::NotFound);
    assert!(err.message().contains("nobody"), "{err:?}");
    // A long id is not echoed back whole.
    let long = "x".repeat(100_000);
    let err = client
        .handle_event(request(customer_message(&long, "u-2", "hi")))
        .await
        .expect_err("unknown tenant");
    assert_eq!(err.code(), Code::NotFound);
    assert!(err.message().len() < 300, "{} bytes", err.message().len());

    let err = client
        .handle_event(pb::HandleEventRequest { event: None })
        .await
        .expect_err("no event");
    assert_eq!(err.code(), Code::InvalidArgument);

    let mut event = customer_message("acme", "", "hi");
    event.event_id.clear();
    let err = client
        .handle_event(request(event))
        .await
        .expect_err("no id");
    assert_eq!(err.code(), Code::InvalidArgument);
    assert!(err.message().contains("event_id"), "{err:?}");

    let mut event = customer_message("acme", "bad-kind", "hi");
    event.kind = 4242;
    let err = client
        .handle_event(request(event))
        .await
        .expect_err("bad kind");
    assert_eq!(err.code(), Code::InvalidArgument);
    assert!(err.message().contains("kind"), "{err:?}");

    // Over the request size limit (256 KiB by default): refused before decoding.
    let big = customer_message("acme", "big", &"x".repeat(300 << 10));
    let err = client
        .handle_event(request(big))
        .await
        .expect_err("too big");
    assert_eq!(err.code(), Code::OutOfRange, "{err:?}");

    // Under the request limit but over the text limit (64 KiB).
    let long = customer_message("acme", "long", &"x".repeat(100 << 10));
    let err = client
        .handle_event(request(long))
        .await
        .expect_err("too long");
    assert_eq!(err.code(), Code::InvalidArgument);
    assert!(err.message().contains("text"), "{err:?}");
}

#[tokio::test]
async fn malformed_protobuf_bytes_are_refused() {
    let server = TestServer::start(&config()).await;
    // A length-prefixed gRPC frame whose payload is not a valid HandleEventRequest.
    let channel = server.channel().await;
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready().await.expect("ready");
    let path = tonic::codegen::http::uri::PathAndQuery::from_static(
        "/crossdesk.v1.EventService/HandleEvent",
    );
    let err = grpc
        .unary::<_, pb::HandleEventResponse, _>(
            tonic::Request::new(RawBytes(vec![0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f])),
            path,
            RawCodec,
        )
        .await
        .expect_err("malformed");
    // gRPC's status-code guide gives INTERNAL to a message that cannot be parsed.
    assert_eq!(err.code(), Code::Internal, "{err:?}");
    assert!(err.message().contains("decode"), "{err:?}");
}

#[tokio::test]
async fn stream_returns_one_result_per_event_in_arrival_order() {
    let server = TestServer::start(&config()).await;
    let mut client = server.client().await;
    let mut requests = Vec::new();
    for i in 0..60 {
        let tenant = if i == 17 { "nobody" } else { "acme" };
        requests.push(request(customer_message(
            tenant,
            &format!("st-{i}"),
            &format!("message {i}"),
        )));
    }
    let response = client
        .stream_events(tokio_stream::iter(requests))
        .await
        .expect("stream opens");
    let results: Vec<pb::StreamEventsResponse> = response
        .into_inner()
        .map(|r| r.expect("stream item"))
        .collect()
        .await;
    assert_eq!(results.len(), 60);
    for (i, result) in results.iter().enumerate() {
        assert_eq!(result.event_id, format!("st-{i}"));
        match &result.result {
            Some(pb::stream_events_response::Result::Error(e)) => {
                assert_eq!(i, 17);
                assert_eq!(e.code, Code::NotFound as i32);
            }
            Some(pb::stream_events_response::Result::Response(r)) => {
                assert_ne!(i, 17);
                assert!(notes(r).iter().any(|n| n.contains(&format!("message {i}"))));
            }
            None => panic!("empty result"),
        }
    }
}

/// A looping plugin ("slow") and a harmless one ("acme"), under a request
/// deadline of 1 s.
fn deadline_config() -> String {
    let mut config = install(&["plugin-tagger", "plugin-infinite-loop"]);
    config.push_str(
        r#"
[server]
request_timeout_ms = 1000

[limits]
timeout_ms = 5000

[[tenants]]
id = "slow"
[[tenants.plugins]]
name = "plugin-infinite-loop"

[[tenants]]
id = "acme"
[[tenants.plugins]]
name = "plugin-tagger"
"#,
    );
    config
}

/// Short of `request_timeout_ms` by enough that it ends first even when a loaded
/// machine starts the event late, and long enough for the quick event that
/// shares its stream to be answered before it.
const CALLER_DEADLINE: Duration = Duration::from_millis(500);

/// A unary event past a deadline gets DEADLINE_EXCEEDED, as the gRPC protocol
/// says, whichever deadline came first: the server's, or the caller's
/// `grpc-timeout` (tonic's own timer would answer CANCELLED).
#[tokio::test]
async fn a_unary_event_past_either_deadline_gets_deadline_exceeded() {
    let server = TestServer::start(&deadline_config()).await;
    let mut client = server.client().await;
    let cases = [
        (None, "request_timeout_ms"),
        (Some(CALLER_DEADLINE), "deadline of 500 ms (grpc-timeout)"),
        (Some(Duration::from_secs(10)), "request_timeout_ms"),
    ];
    for (n, (timeout, needle)) in cases.into_iter().enumerate() {
        let mut asked = Request::new(request(customer_message(
            "slow",
            &format!("unary-deadline-{n}"),
            "hello",
        )));
        if let Some(timeout) = timeout {
            asked.set_timeout(timeout);
        }
        let status = client
            .handle_event(asked)
            .await
            .expect_err("the looping plugin's event cannot finish");
        assert_eq!(status.code(), Code::DeadlineExceeded, "{status:?}");
        assert!(status.message().contains(needle), "{needle}: {status:?}");
    }
    // The caller's deadline bounds each event of its stream, too.
    stream_past_a_deadline(
        &mut client,
        "stream-deadline",
        Some(CALLER_DEADLINE),
        "(grpc-timeout)",
    )
    .await;
}

/// The server's deadline ends each event of a stream as it ends a unary request:
/// a stream's events hold their claims and their customers' turns no longer.
#[tokio::test]
async fn each_event_of_a_stream_has_the_request_deadline() {
    let server = TestServer::start(&deadline_config()).await;
    let mut client = server.client().await;
    stream_past_a_deadline(&mut client, "deadline", None, "request_timeout_ms").await;
}

/// Streams a looping event (tenant "slow") then a quick one ("acme"), the call
/// with `timeout` as its `grpc-timeout`: the first ends DEADLINE_EXCEEDED naming
/// `needle`, the second is answered.
async fn stream_past_a_deadline(
    client: &mut pb::event_service_client::EventServiceClient<tonic::transport::Channel>,
    id: &str,
    timeout: Option<Duration>,
    needle: &str,
) {
    let events = [("slow", 1), ("acme", 2)]
        .map(|(tenant, n)| request(customer_message(tenant, &format!("{id}-{n}"), "hello")));
    let mut asked = Request::new(tokio_stream::iter(events));
    if let Some(timeout) = timeout {
        asked.set_timeout(timeout);
    }
    let results: Vec<pb::StreamEventsResponse> = client
        .stream_events(asked)
        .await
        .expect("stream opens")
        .into_inner()
        .map(|r| r.expect("stream item"))
        .collect()
        .await;
    match &results[0].result {
        Some(pb::stream_events_response::Result::Error(e)) => {
            assert_eq!(e.code, Code::DeadlineExceeded as i32, "{e:?}");
            assert!(e.message.contains(needle), "{needle}: {e:?}");
        }
        other => panic!("the looping plugin's event ran past the deadline: {other:?}"),
    }
    assert!(matches!(
        &results[1].result,
        Some(pb::stream_events_response::Result::Response(_))
    ));
}

#[tokio::test]
async fn health_and_reflection_answer_standard_clients() {
    let server = TestServer::start(&config()).await;
    let channel = server.channel().await;
    let mut health = tonic_health::pb::health_client::HealthClient::new(channel.clone());
    let status = health
        .check(tonic_health::pb::HealthCheckRequest {
            service: "crossdesk.v1.EventService".into(),
        })
        .await
        .expect("health")
        .into_inner();
    assert_eq!(
        status.status(),
        tonic_health::pb::health_check_response::ServingStatus::Serving
    );

    use tonic_reflection::pb::v1::{
        ServerReflectionRequest, server_reflection_client::ServerReflectionClient,
        server_reflection_request::MessageRequest, server_reflection_response::MessageResponse,
    };
    let mut reflection = ServerReflectionClient::new(channel);
    let mut responses = reflection
        .server_reflection_info(tokio_stream::iter([ServerReflectionRequest {
            host: String::new(),
            message_request: Some(MessageRequest::ListServices(String::new())),
        }]))
        .await
        .expect("reflection")
        .into_inner();
    let first = responses.next().await.expect("one").expect("ok");
    let Some(MessageResponse::ListServicesResponse(list)) = first.message_response else {
        panic!("unexpected {first:?}");
    };
    let names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
    assert!(
        names.contains(&"crossdesk.v1.EventService".to_owned()),
        "{names:?}"
    );
    assert!(
        names.contains(&"grpc.health.v1.Health".to_owned()),
        "{names:?}"
    );
}

/// Bytes sent as they are, to speak malformed protobuf.
struct RawBytes(Vec<u8>);

#[derive(Clone, Copy)]
struct RawCodec;

impl tonic::codec::Codec for RawCodec {
    type Encode = RawBytes;
    type Decode = pb::HandleEventResponse;
    type Encoder = RawEncoder;
    type Decoder = tonic_prost::ProstDecoder<pb::HandleEventResponse>;

    fn encoder(&mut self) -> Self::Encoder {
        RawEncoder
    }

    fn decoder(&mut self) -> Self::Decoder {
        tonic_prost::ProstDecoder::default()
    }
}

struct RawEncoder;

impl tonic::codec::Encoder for RawEncoder {
    type Item = RawBytes;
    type Error = tonic::Status;

    fn encode(
        &mut self,
        item: Self::Item,
        dst: &mut tonic::codec::EncodeBuf<'_>,
    ) -> Result<(), Self::Error> {
        bytes::BufMut::put_slice(dst, &item.0);
        Ok(())
    }
}

#[tokio::test]
async fn a_javascript_plugin_runs_beside_rust_ones() {
    // Built by componentize-js: it imports wasi:http and other WASI interfaces the
    // host links with nothing granted, and the contract's own imports.
    let config = install(&["js-plugin", "plugin-tagger"])
        + r#"
[[tenants]]
id = "polyglot"
[[tenants.plugins]]
name = "js-plugin"
settings = { prefix = "From JS" }
[[tenants.plugins]]
name = "plugin-tagger"
settings = { tag = "rust" }
"#;
    let server = TestServer::start(&config).await;
    let mut client = server.client().await;
    let response = client
        .handle_event(request(customer_message(
            "polyglot",
            "js-1",
            "WHERE IS MY ORDER RIGHT NOW",
        )))
        .await
        .expect("ok")
        .into_inner();
    assert_eq!(
        outcome(&response, "js-plugin").status(),
        Status::Ok,
        "{response:#?}"
    );
    assert!(
        notes(&response).contains(&"From JS: 6 words from cust-1".to_owned()),
        "{response:#?}"
    );
    let tags: Vec<(&str, &str)> = response
        .actions
        .iter()
        .filter_map(|a| match &a.kind {
            Some(pb::action::Kind::AddTags(t)) => {
                Some(t.tags.iter().map(|t| (a.plugin.as_str(), t.as_str())))
            }
            _ => None,
        })
        .flatten()
        .collect();
    assert_eq!(tags, [("js-plugin", "shouting"), ("plugin-tagger", "rust")]);
}

/// Tenant `flood` runs a plugin that loops until its 300 ms deadline and may have 4
/// events in flight; tenant `calm` runs a no-op plugin.
fn quota_config() -> String {
    install(&["plugin-infinite-loop", "plugin-noop"])
        + r#"
[[tenants]]
id = "flood"
quota = { max_in_flight = 4 }
[[tenants.plugins]]
name = "plugin-infinite-loop"
limits = { timeout_ms = 300 }

[[tenants]]
id = "calm"
[[tenants.plugins]]
name = "plugin-noop"

[[tenants]]
id = "metered"
quota = { events_per_second = 1, burst = 3 }
[[tenants.plugins]]
name = "plugin-noop"
"#
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_flooding_the_sidecar_does_not_starve_another() {
    let server = TestServer::start(&quota_config()).await;
    let flood: Vec<_> = (0..64)
        .map(|i| {
            let uri = server.uri();
            tokio::spawn(async move {
                let mut client = pb::event_service_client::EventServiceClient::connect(uri).await?;
                client
                    .handle_event(request(customer_message("flood", &format!("f-{i}"), "x")))
                    .await
                    .map(|_| ())
                    .map_err(|status| Box::new(status) as Box<dyn std::error::Error + Send + Sync>)
            })
        })
        .collect();
    // While the flood is on, every calm event is served, and served by its plugin.
    let mut client = server.client().await;
    for i in 0..20 {
        let response = client
            .handle_event(request(customer_message("calm", &format!("c-{i}"), "hi")))
            .await
            .expect("the calm tenant is served during the flood")
            .into_inner();
        assert_eq!(outcome(&response, "plugin-noop").status(), Status::Ok);
    }
    let mut turned_away = 0;
    for task in flood {
        match task.await.expect("task") {
            Ok(()) => {}
            Err(error) => {
                let status = error
                    .downcast_ref::<tonic::Status>()
                    .expect("a gRPC status");
                assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
                assert!(
                    status.message().contains("4 events in flight"),
                    "{status:?}"
                );
                turned_away += 1;
            }
        }
    }
    // 64 events at once against 4 slots of 300 ms: most are turned away, none dropped
    // silently (each got either a response or RESOURCE_EXHAUSTED).
    assert!(turned_away > 0, "the flood was never limited");
}

#[tokio::test]
async fn over_its_rate_a_tenant_gets_resource_exhausted_with_a_retry_hint() {
    use tonic_types::StatusExt;
    let server = TestServer::start(&quota_config()).await;
    let mut client = server.client().await;
    for i in 0..3 {
        client
            .handle_event(request(customer_message(
                "metered",
                &format!("m-{i}"),
                "hi",
            )))
            .await
            .expect("within the burst");
    }
    let status = client
        .handle_event(request(customer_message("metered", "m-3", "hi")))
        .await
        .expect_err("over the rate");
    assert_eq!(status.code(), Code::ResourceExhausted);
    assert!(
        status.message().contains("1 events per second"),
        "{status:?}"
    );
    let retry = status
        .get_error_details()
        .retry_info()
        .and_then(|info| info.retry_delay)
        .expect("a google.rpc.RetryInfo detail");
    assert!(retry > std::time::Duration::ZERO && retry <= std::time::Duration::from_secs(1));
    // On a stream, the event's result carries the same hint.
    let results: Vec<pb::StreamEventsResponse> = client
        .stream_events(tokio_stream::iter([request(customer_message(
            "metered", "m-4", "hi",
        ))]))
        .await
        .expect("stream opens")
        .into_inner()
        .map(|r| r.expect("stream item"))
        .collect()
        .await;
    match &results[..] {
        [
            pb::StreamEventsResponse {
                result: Some(pb::stream_events_response::Result::Error(e)),
                ..
            },
        ] => {
            assert_eq!(e.code, Code::ResourceExhausted as i32, "{e:?}");
            let retry = e.retry_after.expect("a retry hint");
            assert!(
                retry.seconds == 0 && retry.nanos > 0 || retry.seconds == 1 && retry.nanos == 0,
                "{retry:?}"
            );
        }
        other => panic!("over the rate on a stream: {other:?}"),
    }
    // A redelivery runs nothing: it is answered, over the rate as it is.
    let again = client
        .handle_event(request(customer_message("metered", "m-0", "hi")))
        .await
        .expect("a redelivery is answered over the rate")
        .into_inner();
    assert!(again.replayed, "{again:?}");
    // Other tenants are not affected.
    client
        .handle_event(request(customer_message("calm", "c-x", "hi")))
        .await
        .expect("another tenant is served");
}

/// Two tenants and a caller (helpdesk bridge) allowed to submit events for `acme` only.
fn callers_config() -> String {
    install(&["plugin-noop"])
        + r#"
[[tenants]]
id = "acme"
[[tenants.plugins]]
name = "plugin-noop"

[[tenants]]
id = "globex"
[[tenants.plugins]]
name = "plugin-noop"

[[callers]]
name = "acme-bridge"
token = "acme-bridge-S3CR3T-0123456789"
tenants = ["acme"]
"#
}

fn with_token(event: pb::Event, token: &str) -> tonic::Request<pb::HandleEventRequest> {
    let mut request = tonic::Request::new(request(event));
    request.metadata_mut().insert(
        "authorization",
        format!("Bearer {token}").parse().expect("ascii"),
    );
    request
}

#[tokio::test]
async fn a_caller_may_submit_events_for_its_own_tenants_only() {
    let server = TestServer::start(&callers_config()).await;
    let mut client = server.client().await;
    let token = "acme-bridge-S3CR3T-0123456789";
    client
        .handle_event(with_token(customer_message("acme", "a-1", "hi"), token))
        .await
        .expect("its own tenant");
    let refused = client
        .handle_event(with_token(customer_message("globex", "g-1", "hi"), token))
        .await
        .expect_err("another tenant");
    assert_eq!(refused.code(), Code::PermissionDenied, "{refused:?}");
    assert!(refused.message().contains("acme-bridge"), "{refused:?}");
    // A replay of another tenant's event id is refused just the same.
    let refused = client
        .handle_event(with_token(customer_message("globex", "a-1", "hi"), token))
        .await
        .expect_err("another tenant's id");
    assert_eq!(refused.code(), Code::PermissionDenied);
    // No tenant at all: the field is named, not the caller refused.
    let refused = client
        .handle_event(with_token(customer_message("", "n-1", "hi"), token))
        .await
        .expect_err("no tenant");
    assert_eq!(refused.code(), Code::InvalidArgument, "{refused:?}");
    assert!(refused.message().contains("tenant_id"), "{refused:?}");

    // Without a token, or with a wrong one: UNAUTHENTICATED.
    let missing = client
        .handle_event(request(customer_message("acme", "a-2", "hi")))
        .await
        .expect_err("no token");
    assert_eq!(missing.code(), Code::Unauthenticated);
    let wrong = client
        .handle_event(with_token(
            customer_message("acme", "a-3", "hi"),
            "not-the-token-at-all",
        ))
        .await
        .expect_err("wrong token");
    assert_eq!(wrong.code(), Code::Unauthenticated);

    // On a stream, each event is checked: acme's pass, globex's get an error result.
    let events = vec![
        request(customer_message("acme", "s-1", "hi")),
        request(customer_message("globex", "s-2", "hi")),
    ];
    let mut stream_request = tonic::Request::new(tokio_stream::iter(events));
    stream_request.metadata_mut().insert(
        "authorization",
        format!("Bearer {token}").parse().expect("ascii"),
    );
    let results: Vec<_> = client
        .stream_events(stream_request)
        .await
        .expect("stream accepted")
        .into_inner()
        .collect()
        .await;
    let results: Vec<_> = results.into_iter().map(|r| r.expect("item")).collect();
    assert!(matches!(
        results[0].result,
        Some(pb::stream_events_response::Result::Response(_))
    ));
    match &results[1].result {
        Some(pb::stream_events_response::Result::Error(error)) => {
            assert_eq!(error.code, Code::PermissionDenied as i32, "{error:?}");
        }
        other => panic!("globex's event was not refused: {other:?}"),
    }
}
