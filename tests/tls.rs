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

/// Sends one event on a new connection trusting `ca`, presenting `identity` if given.
async fn call(
    server: &TestServer,
    ca: &Authority,
    identity: Option<(String, String)>,
) -> Result<pb::HandleEventResponse, String> {
    send(connect(server, ca, identity).await?).await
}

/// A new TLS connection to `server`, trusting `ca`, presenting `identity` if given.
async fn connect(
    server: &TestServer,
    ca: &Authority,
    identity: Option<(String, String)>,
) -> Result<Channel, String> {
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
    Ok(channel)
}

/// Sends one event on `channel`.
async fn send(channel: Channel) -> Result<pb::HandleEventResponse, String> {
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

/// Writes `text` to `path` as a renewal does (certbot renames, Kubernetes swaps a
/// symbolic link): a reader sees the old file or the new one, never a part.
fn renew(path: &std::path::Path, text: &str) {
    let new = path.with_extension("new");
    std::fs::write(&new, text).expect("write");
    std::fs::rename(&new, path).expect("rename");
}

/// A renewed certificate is served to the next connection without a restart,
/// and a connection made before goes on. A renewal half done (the key of a new
/// certificate written first, or a file that holds no certificate) is not
/// loaded: the last good pair serves until the set is whole again.
#[tokio::test]
async fn a_renewed_certificate_is_served_without_a_restart() {
    let first = Authority::new("Crossdesk test CA");
    let (server, files) = tls_server(&first, false, "").await;
    let before = connect(&server, &first, None).await.expect("connects");
    let (cert_file, key_file) = (
        files.path().join("server.pem"),
        files.path().join("server.key"),
    );

    let second = Authority::new("The CA renewed from");
    let (cert, key) = second.issue("localhost", false);
    // The new key beside the old certificate: they do not match.
    renew(&key_file, &key);
    call(&server, &first, None)
        .await
        .expect("the last good pair serves");
    renew(&cert_file, &cert);
    call(&server, &second, None)
        .await
        .expect("the renewed certificate serves");
    let old = call(&server, &first, None).await;
    assert!(old.is_err(), "the old certificate served: {old:?}");
    send(before)
        .await
        .expect("a connection made before goes on");

    // A key file that holds none: the renewed pair still serves, its bytes
    // never quoted (the leak check reads the logs for the mark).
    renew(&key_file, &format!("not a key {}\n", logs::SECRET_MARK));
    call(&server, &second, None)
        .await
        .expect("the last good pair serves");
    let (cert, key) = first.issue("localhost", false);
    renew(&key_file, &key);
    renew(&cert_file, &cert);
    call(&server, &first, None)
        .await
        .expect("whole again, the new set serves");
}

/// A client CA renewed in its file is required from the next connection on;
/// a certificate of the bundle that cannot be used is passed over, as before.
#[tokio::test]
async fn a_renewed_client_ca_is_required_without_a_restart() {
    let server_ca = Authority::new("Crossdesk test CA");
    let (server, files) = tls_server(&server_ca, true, "").await;
    let clients = Authority::new("The callers' new CA");
    let refused = call(&server, &server_ca, Some(clients.issue("bridge", true))).await;
    assert!(refused.is_err(), "a stranger's client served: {refused:?}");
    let unusable = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
    renew(
        &files.path().join("ca.pem"),
        &format!("{unusable}{}", clients.cert.pem()),
    );
    call(&server, &server_ca, Some(clients.issue("bridge", true)))
        .await
        .expect("a client of the new CA is served");
    let old = call(&server, &server_ca, Some(server_ca.issue("bridge", true))).await;
    assert!(old.is_err(), "a client of the replaced CA served: {old:?}");
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
