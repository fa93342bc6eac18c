//! The event API over TLS (rustls) and mutual TLS, with certificates made by the
//! test: a CA, a server certificate for `localhost`, client certificates from that
//! CA and from a stranger's.

use crossdesk_integration_tests::certs::Authority;
use crossdesk_integration_tests::*;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Identity};

/// A sidecar with TLS (and, with `mutual`, required client certificates from
/// `ca`), `extra` added to its configuration; its folder holds `ca.pem`.
pub(crate) async fn tls_server(
    ca: &Authority,
    mutual: bool,
    extra: &str,
) -> (TestServer, tempfile::TempDir) {
    let files = tempfile::tempdir().expect("temp dir");
    let (cert, key) = ca.issue("localhost", false);
    let write = |name: &str, text: &str| {
        let path = files.path().join(name);
        std::fs::write(&path, text).expect("write");
        path
    };
    let cert = write("server.pem", &cert);
    let key = write("server.key", &key);
    let ca_file = write("ca.pem", &ca.cert.pem());
    let mut config = format!("[server.tls]\ncert_file = {cert:?}\nkey_file = {key:?}\n",);
    if mutual {
        config.push_str(&format!("client_ca_file = {ca_file:?}\n"));
    }
    config.push_str(&install(&["plugin-noop"]));
    config.push_str("[[tenants]]\nid = \"acme\"\n[[tenants.plugins]]\nname = \"plugin-noop\"\n");
    config.push_str(extra);
    (TestServer::start(&config).await, files)
}

/// Sends one event over TLS trusting `ca`, presenting `identity` if given.
async fn call(
    server: &TestServer,
    ca: &Authority,
    identity: Option<(String, String)>,
) -> Result<pb::HandleEventResponse, String> {
    let mut tls = ClientTlsConfig::new()
        .ca_certificate(Certificate::from_pem(ca.cert.pem()))
        .domain_name("localhost");
    if let Some((cert, key)) = identity {
        tls = tls.identity(Identity::from_pem(cert, key));
    }
    let channel = Channel::from_shared(format!("https://localhost:{}", server.addr.port()))
        .map_err(|e| e.to_string())?
        .tls_config(tls)
        .map_err(|e| e.to_string())?
        .connect()
        .await
        .map_err(|e| format!("{e:?}"))?;
    pb::event_service_client::EventServiceClient::new(channel)
        .handle_event(request(customer_message("acme", "tls-1", "hi")))
        .await
        .map(tonic::Response::into_inner)
        .map_err(|status| format!("{status:?}"))
}

#[tokio::test]
async fn the_event_api_speaks_tls_and_refuses_plaintext() {
    let ca = Authority::new("Crossdesk test CA");
    let (server, _files) = tls_server(&ca, false, "").await;
    let response = call(&server, &ca, None).await.expect("TLS call succeeds");
    assert_eq!(response.event_id, "tls-1");
    // A plaintext HTTP/2 client gets no answer from the TLS listener.
    let plaintext = pb::event_service_client::EventServiceClient::connect(server.uri())
        .await
        .expect("TCP connects")
        .handle_event(request(customer_message("acme", "plain-1", "hi")))
        .await;
    assert!(plaintext.is_err(), "plaintext was served: {plaintext:?}");
    // A client that does not trust the server's CA refuses the handshake.
    let stranger = Authority::new("Some other CA");
    assert!(call(&server, &stranger, None).await.is_err());
}

#[tokio::test]
async fn mutual_tls_requires_a_client_certificate_from_the_configured_ca() {
    let ca = Authority::new("Crossdesk test CA");
    let (server, _files) = tls_server(&ca, true, "").await;
    let response = call(&server, &ca, Some(ca.issue("helpdesk-bridge", true)))
        .await
        .expect("a client certificate from the CA is accepted");
    assert_eq!(response.event_id, "tls-1");
    let without = call(&server, &ca, None).await;
    assert!(without.is_err(), "served without a client certificate");
    let stranger = Authority::new("Some other CA");
    let foreign = call(&server, &ca, Some(stranger.issue("intruder", true))).await;
    assert!(foreign.is_err(), "served a certificate from another CA");
}

/// `crossdesk send` reaches an event API that speaks TLS and wants a caller's
/// token, as the README shows it; without the token, the error says how to give one.
#[test]
fn send_speaks_tls_and_carries_the_callers_token() {
    const TOKEN: &str = "acme-caller-S3CR3T-0123456789";
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let ca = Authority::new("Crossdesk test CA");
    let callers =
        format!("[[callers]]\nname = \"acme\"\ntoken = \"{TOKEN}\"\ntenants = [\"acme\"]\n");
    let (server, files) = runtime.block_on(tls_server(&ca, false, &callers));
    let event = files.path().join("event.json");
    let json = crossdesk_proto::json::to_json(
        "crossdesk.v1.Event",
        &customer_message("acme", "cli-tls-1", "hi"),
    )
    .expect("proto3 JSON");
    std::fs::write(&event, json).expect("write event");
    let send = |token: Option<&str>| {
        let mut command = crossdesk_command();
        command
            .args([
                "send",
                "--addr",
                &format!("localhost:{}", server.addr.port()),
            ])
            .arg("--ca-file")
            .arg(files.path().join("ca.pem"))
            .arg(&event)
            .env_remove("CROSSDESK_TOKEN");
        if let Some(token) = token {
            command.env("CROSSDESK_TOKEN", token);
        }
        command.output().expect("crossdesk send")
    };
    let sent = send(Some(TOKEN));
    assert!(
        sent.status.success(),
        "{}",
        String::from_utf8_lossy(&sent.stderr)
    );
    assert!(String::from_utf8_lossy(&sent.stdout).contains("\"eventId\": \"cli-tls-1\""));
    let refused = send(None);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success());
    assert!(
        stderr.contains("Unauthenticated") && stderr.contains("CROSSDESK_TOKEN"),
        "{stderr}"
    );
    // An https address without --ca-file trusts the public CAs: this test CA is
    // none of them, so the handshake fails on the certificate.
    let public_only = crossdesk_command()
        .args([
            "send",
            "--addr",
            &format!("https://localhost:{}", server.addr.port()),
        ])
        .arg(&event)
        .env("CROSSDESK_TOKEN", TOKEN)
        .output()
        .expect("crossdesk send");
    let stderr = String::from_utf8_lossy(&public_only.stderr);
    assert!(!public_only.status.success());
    assert!(
        stderr.contains("cannot connect") && stderr.contains("UnknownIssuer"),
        "{stderr}"
    );
    drop(server);
}
