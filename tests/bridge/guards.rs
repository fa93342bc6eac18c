//! What the bridge cannot be tricked into, end to end (issue 17): following a
//! helpdesk's redirect with its API token, accepting a body-signed delivery twice,
//! taking a customer who types its marker for one of its own notes, or echoing
//! a caller's text at length.

use super::*;

/// Waits until the bridge has given up on a job, and returns its last error.
async fn dead_letter(bridge: &Bridge) -> String {
    let queue = crossdesk_bridge::open_queue(&bridge.config)
        .await
        .expect("queue");
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    loop {
        let dead = queue
            .list(crossdesk_bridge::queue::JobState::Dead)
            .await
            .expect("dead letters");
        if let Some(job) = dead.first() {
            return job.last_error.clone().unwrap_or_default();
        }
        assert!(std::time::Instant::now() < deadline, "no job was given up");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_redirect_fails_the_write_and_sends_the_token_nowhere() {
    let sidecar = sidecar().await;
    let elsewhere = Helpdesk::start().await;
    let helpdesk = Helpdesk::start().await;
    helpdesk.script(&[Answer::Redirect(elsewhere.addr)]);
    let bridge = bridge(&sidecar, &helpdesk.url()).await;
    // Chatwoot's token is a custom header: an HTTP client that follows a redirect
    // to another host keeps sending it.
    let (status, text) =
        post_chatwoot(&bridge, &fixture("chatwoot/message_created_whatsapp.json")).await;
    assert_eq!((status, text.trim()), (200, "queued"));
    let error = dead_letter(&bridge).await;
    assert!(
        error.contains("302") && error.contains(&format!("redirects to {}", elsewhere.addr)),
        "{error}"
    );
    assert_eq!(helpdesk.calls().len(), 1, "a redirect is not retried");
    assert!(
        elsewhere.calls().is_empty() && elsewhere.lookups().is_empty(),
        "the redirect was followed: {:#?} {:#?}",
        elsewhere.calls(),
        elsewhere.lookups()
    );
}

/// The shipped Freshdesk mapping, signed as a helpdesk that signs only the body
/// does: hex HMAC-SHA256 of the body in `x-signature`, the delivery's id at
/// `/delivery`.
fn body_signed_freshdesk(dir: &std::path::Path) -> String {
    let shipped = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../bridge/src/mappings/freshdesk.toml"),
    )
    .expect("shipped mapping");
    let signed = shipped.replace(
        "[signature]\nscheme = \"basic\"",
        "[signature]\nscheme = \"hmac-sha256\"\nheader = \"x-signature\"\nencoding = \"hex\"\n\
         signed = \"{body}\"\ndelivery_id = \"/delivery\"",
    );
    assert_ne!(signed, shipped);
    let path = dir.join("freshdesk-signed.toml");
    std::fs::write(&path, signed).expect("write mapping");
    format!("mapping = {:?}", path.display().to_string())
}

/// A delivery signed without a timestamp, received again: acknowledged as a
/// duplicate and not queued (a helpdesk that lost the first answer is not told
/// its signature failed; a replay by anyone else does nothing).
#[tokio::test]
async fn a_body_signed_delivery_is_not_queued_again_when_it_comes_again() {
    let sidecar = sidecar().await;
    let helpdesk = Helpdesk::start().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let bridge = bridge_configured(
        &sidecar,
        &helpdesk.url(),
        0,
        &body_signed_freshdesk(dir.path()),
    )
    .await;
    let mut reply: serde_json::Value =
        serde_json::from_slice(&fixture("freshdesk/customer_reply_email.json")).expect("json");
    let post = |body: Vec<u8>| {
        let signature = hex::encode(hmac(FRESHDESK_SECRET, &[&body]));
        let bridge = &bridge;
        async move {
            post_webhook(
                bridge,
                "acme-freshdesk",
                &body,
                &[("x-signature", signature)],
            )
            .await
        }
    };
    reply["delivery"] = "d-1".into();
    let first = serde_json::to_vec(&reply).expect("json");
    let (status, text) = post(first.clone()).await;
    assert_eq!((status, text.trim()), (200, "queued"));
    let (status, text) = post(first.clone()).await;
    assert_eq!(
        (status, text.trim()),
        (200, "duplicate delivery: already received")
    );
    // A body without its delivery id is refused naming the field.
    let mut no_id = reply.clone();
    no_id["delivery"] = serde_json::Value::Null;
    let (status, text) = post(serde_json::to_vec(&no_id).expect("json")).await;
    assert_eq!(status, 400, "{text}");
    assert!(text.contains("/delivery"), "{text}");
    // The next delivery is welcome.
    reply["delivery"] = "d-2".into();
    reply["text"] = "Et une autre question.".into();
    let (status, text) = post(serde_json::to_vec(&reply).expect("json")).await;
    assert_eq!((status, text.trim()), (200, "queued"));
    let events = finished_events(&bridge, 2, Duration::from_secs(15)).await;
    assert_eq!(events.len(), 2, "{events:#?}");
}

#[tokio::test]
async fn a_customer_who_types_the_marker_is_heard_and_the_bridges_note_is_not_run_again() {
    let sidecar = sidecar().await;
    let helpdesk = Helpdesk::start().await;
    let bridge = bridge(&sidecar, &helpdesk.url()).await;
    // The endpoint's marker text is the default, "— via Crossdesk".
    let typed = "Le code n'arrive jamais — via Crossdesk";
    let mut comment_json: serde_json::Value =
        serde_json::from_slice(&fixture("zendesk/comment_added_email_customer.json"))
            .expect("json");
    comment_json["event"]["comment"]["body"] = typed.into();
    let body = serde_json::to_vec(&comment_json).expect("json");
    let (status, text) = post_zendesk(&bridge, &body, ZENDESK_SECRET, &rfc3339(now())).await;
    assert_eq!(
        (status, text.trim()),
        (200, "queued"),
        "the customer is heard"
    );
    let events = finished_events(&bridge, 1, Duration::from_secs(15)).await;
    assert_eq!(events[0].text, typed);
    let calls = helpdesk.wait_for_ok(1, Duration::from_secs(10)).await;
    let (note, _) = comment(&calls[0]);
    assert!(note.contains(&format!("echo: {typed}")), "{note}");

    // The bridge's note comes back as a public comment by an author the bridge
    // does not know as its own: its mark alone tells.
    comment_json["event"]["comment"]["id"] = "9876543300".into();
    comment_json["event"]["comment"]["body"] = note.into();
    comment_json["event"]["comment"]["author"]["id"] = "9000000000002".into();
    let body = serde_json::to_vec(&comment_json).expect("json");
    let (status, text) = post_zendesk(&bridge, &body, ZENDESK_SECRET, &rfc3339(now())).await;
    assert_eq!(
        (status, text.trim()),
        (200, "ignored: our own write (loop prevention)")
    );
    drained(&bridge).await;
    assert_eq!(helpdesk.calls().len(), 1, "{:#?}", helpdesk.calls());
}

#[tokio::test]
async fn an_unknown_endpoint_is_named_not_echoed_whole() {
    let sidecar = sidecar().await;
    let bridge = bridge(&sidecar, "http://127.0.0.1:1").await;
    let name = "é".repeat(4_000);
    let (status, text) = post_webhook(&bridge, &name, b"{}", &[]).await;
    assert_eq!(status, 404);
    assert!(text.starts_with("no endpoint 'éé"), "{text}");
    assert!(text.chars().count() < 100, "{} chars", text.chars().count());
}
