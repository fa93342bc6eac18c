//! Zendesk, attached through the mapping shipped as `mappings/zendesk.toml` (the
//! bridge's `mapped` engine runs it). This module says what that mapping follows in
//! Zendesk's documents, and tests it against payloads shaped as Zendesk documents
//! them (`tests/fixtures/zendesk/`):
//!
//! - **Signature** ([Verifying webhook authenticity]): every delivery carries
//!   `X-Zendesk-Webhook-Signature` = `base64(HMAC-SHA256(secret, TIMESTAMP + BODY))`
//!   and `X-Zendesk-Webhook-Signature-Timestamp` (ISO 8601, e.g. `2021-03-25T05:09:27Z`,
//!   see [Anatomy of a webhook request]). The secret is the webhook's signing secret,
//!   used as-is (its bytes are the HMAC key).
//! - **Payload** ([Webhook event types], [Ticket events]): webhooks subscribed to
//!   Zendesk events get `{"type": "zen:event-type:ticket.comment_added", "id", "time",
//!   "subject": "zen:ticket:<id>", "account_id", "zendesk_event_version", "detail":
//!   <the ticket>, "event": <what happened>}`. For ticket events `detail` holds the
//!   ticket (`id`, `requester_id`, `submitter_id`, `actor_id`, `via.channel`, `tags`,
//!   `description`, ... — ids as strings) and, for `ticket.comment_added`, `event` is
//!   `{"comment": {"id", "body", "is_public", "author": {"id", "is_staff", "name"}}}`.
//!   Ids are read as strings or numbers, since Zendesk's REST API uses numbers.
//! - **Write-back** ([Tickets API: update ticket], [Ticket comments]): one `PUT
//!   /api/v2/tickets/{id}.json` with `{"ticket": {"comment": {"body", "public"},
//!   "additional_tags", "custom_fields": [{"id", "value"}], "group_id", "assignee_id",
//!   "priority"}}`. An update adds at most one comment, so a public reply next to an
//!   internal note costs a second request.
//! - **Customer lookup** ([Users API: show user]): event webhooks name the requester
//!   only by id, so before an event runs the bridge reads `GET
//!   /api/v2/users/{requester_id}.json` and adds the user's `email`, `phone` (also as
//!   the WhatsApp id on WhatsApp tickets; not when `shared_phone_number`),
//!   `external_id`, `locale` and `iana_time_zone` to the event's customer.
//! - **Authentication** ([API token authentication]): basic auth with
//!   `{email}/token:{api_token}`.
//!
//! [Verifying webhook authenticity]: https://developer.zendesk.com/documentation/webhooks/verifying/
//! [Anatomy of a webhook request]: https://developer.zendesk.com/documentation/webhooks/anatomy-of-a-webhook-request/
//! [Webhook event types]: https://developer.zendesk.com/api-reference/webhooks/event-types/webhook-event-types/
//! [Ticket events]: https://developer.zendesk.com/api-reference/webhooks/event-types/ticket-events/
//! [Tickets API: update ticket]: https://developer.zendesk.com/api-reference/ticketing/tickets/tickets/#update-ticket
//! [Ticket comments]: https://developer.zendesk.com/api-reference/ticketing/tickets/ticket_comments/
//! [Users API: show user]: https://developer.zendesk.com/api-reference/ticketing/users/users/#show-user
//! [API token authentication]: https://developer.zendesk.com/api-reference/introduction/security-and-auth/#api-token

pub use super::writes::REVIEW_TAG;

#[cfg(test)]
mod tests {
    use crate::mapped::{self, Mapped};
    use crate::pb;
    use crate::types::{Credentials, Helpdesk, Inbound, Job, NotePolicy, Rejection, Rules, Target};
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD as BASE64;
    use serde_json::{Value, json};
    use std::time::SystemTime;

    const SIGNATURE_HEADER: &str = "x-zendesk-webhook-signature";
    const TIMESTAMP_HEADER: &str = "x-zendesk-webhook-signature-timestamp";

    fn zendesk() -> Mapped {
        mapped::builtin("zendesk")
            .expect("shipped")
            .expect("the shipped Zendesk mapping is valid")
    }
    use hmac::{Hmac, Mac};
    use sha2::Sha256;
    use std::time::Duration;
    use std::time::UNIX_EPOCH;

    const SECRET: &str = "dGhpc19zZWNyZXRfaXNfZm9yX3Rlc3Rpbmdfb25seQ==";
    const BOT: &str = "9000000000001";
    const MARKER: &str = "— crossdesk";

    const EMAIL: &str =
        include_str!("../../tests/fixtures/zendesk/comment_added_email_customer.json");
    const WHATSAPP: &str =
        include_str!("../../tests/fixtures/zendesk/comment_added_whatsapp_customer.json");
    const AGENT_REPLY: &str =
        include_str!("../../tests/fixtures/zendesk/comment_added_agent_reply_note.json");
    const BRIDGE_NOTE: &str =
        include_str!("../../tests/fixtures/zendesk/comment_added_bridge_note.json");
    const CREATED: &str = include_str!("../../tests/fixtures/zendesk/ticket_created_web.json");
    const SOLVED: &str = include_str!("../../tests/fixtures/zendesk/status_changed_solved.json");
    const RATED: &str =
        include_str!("../../tests/fixtures/zendesk/satisfaction_rated_trigger.json");

    fn rules() -> Rules {
        Rules {
            agent_prefix: "#reply".to_owned(),
            bot_author_ids: vec![BOT.to_owned()],
            marker: crate::marker::Marker::new(MARKER, "zendesk-api-token"),
            max_age_secs: 300,
            notes: NotePolicy::Write,
            batch: None,
            field_types: Default::default(),
        }
    }

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    /// 2024-05-01T12:00:00Z
    const SIGNED_AT: u64 = 1_714_564_800;

    fn signed(secret: &str, timestamp: &str, body: &[u8]) -> http::HeaderMap {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("hmac key");
        mac.update(timestamp.as_bytes());
        mac.update(body);
        let signature = BASE64.encode(mac.finalize().into_bytes());
        let mut headers = http::HeaderMap::new();
        headers.insert(
            "X-Zendesk-Webhook-Signature",
            signature.parse().expect("header"),
        );
        headers.insert(
            "X-Zendesk-Webhook-Signature-Timestamp",
            timestamp.parse().expect("header"),
        );
        headers
    }

    fn verify(headers: &http::HeaderMap, body: &[u8], now: SystemTime) -> Result<(), Rejection> {
        zendesk().verify(headers, body, SECRET, now, &rules())
    }

    fn job_of(fixture: &str, rules: &Rules) -> (Job, pb::Event) {
        match zendesk()
            .map("acme", fixture.as_bytes(), rules)
            .expect("mapped")
        {
            Inbound::Job(job) => {
                let event = crate::json::event_from_json(&job.event_json).expect("event json");
                (job, event)
            }
            Inbound::Ignored(why) => panic!("ignored: {why}"),
        }
    }

    fn ignored(body: &str, rules: &Rules) -> String {
        match zendesk()
            .map("acme", body.as_bytes(), rules)
            .expect("mapped")
        {
            Inbound::Ignored(why) => why,
            Inbound::Job(job) => panic!("unexpected job {}", job.delivery_key),
        }
    }

    fn target() -> Target {
        Target {
            ticket_id: "5158".to_owned(),
            account_id: String::new(),
            ..Default::default()
        }
    }

    fn action(kind: pb::action::Kind) -> pb::Action {
        pb::Action {
            plugin: "test".to_owned(),
            kind: Some(kind),
        }
    }

    // --- signature ---------------------------------------------------------

    #[test]
    fn verify_accepts_a_valid_signature() {
        let body = EMAIL.as_bytes();
        let headers = signed(SECRET, "2024-05-01T12:00:00Z", body);
        assert_eq!(verify(&headers, body, at(SIGNED_AT + 10)), Ok(()));
    }

    #[test]
    fn verify_signs_timestamp_then_body() {
        // Computed independently (Python hmac) over "2021-07-25T10:00:00Z" + body.
        let body = br#"{"say": "hello"}"#;
        let mut headers = http::HeaderMap::new();
        headers.insert(
            SIGNATURE_HEADER,
            "Rry/4TtIdFyawtXXp8QdI6tlAUUQ/5kL1OTp5qo/ZIk="
                .parse()
                .expect("header"),
        );
        headers.insert(
            TIMESTAMP_HEADER,
            "2021-07-25T10:00:00Z".parse().expect("header"),
        );
        let now = at(1_627_207_200);
        assert_eq!(
            zendesk().verify(
                &headers,
                body,
                "HRkRd4BeOAoUkfZr-mhauJT64rvBASlJRoIyPsd3zeA=",
                now,
                &rules()
            ),
            Ok(())
        );
    }

    #[test]
    fn verify_rejects_a_wrong_secret() {
        let body = EMAIL.as_bytes();
        let headers = signed("another-secret", "2024-05-01T12:00:00Z", body);
        assert!(matches!(
            verify(&headers, body, at(SIGNED_AT)),
            Err(Rejection::BadSignature(_))
        ));
    }

    #[test]
    fn verify_rejects_a_tampered_body() {
        let headers = signed(SECRET, "2024-05-01T12:00:00Z", EMAIL.as_bytes());
        let tampered = EMAIL.replace("Toujours", "Encore");
        assert!(matches!(
            verify(&headers, tampered.as_bytes(), at(SIGNED_AT)),
            Err(Rejection::BadSignature(_))
        ));
    }

    #[test]
    fn verify_rejects_a_tampered_timestamp() {
        let body = EMAIL.as_bytes();
        let mut headers = signed(SECRET, "2024-05-01T12:00:00Z", body);
        headers.insert(
            TIMESTAMP_HEADER,
            "2024-05-01T12:00:01Z".parse().expect("header"),
        );
        assert!(matches!(
            verify(&headers, body, at(SIGNED_AT)),
            Err(Rejection::BadSignature(_))
        ));
    }

    #[test]
    fn verify_rejects_missing_headers_and_garbage() {
        let body = EMAIL.as_bytes();
        let full = signed(SECRET, "2024-05-01T12:00:00Z", body);
        for name in [SIGNATURE_HEADER, TIMESTAMP_HEADER] {
            let mut headers = full.clone();
            headers.remove(name);
            let err = verify(&headers, body, at(SIGNED_AT)).expect_err("refused");
            assert!(
                matches!(&err, Rejection::BadSignature(m) if m.contains(name)),
                "{err:?}"
            );
        }
        let mut headers = full.clone();
        headers.insert(SIGNATURE_HEADER, "not base64!".parse().expect("header"));
        assert!(matches!(
            verify(&headers, body, at(SIGNED_AT)),
            Err(Rejection::BadSignature(_))
        ));
        assert!(matches!(
            zendesk().verify(&full, body, "", at(SIGNED_AT), &rules()),
            Err(Rejection::BadSignature(_))
        ));
    }

    #[test]
    fn verify_rejects_stale_and_future_timestamps() {
        let body = EMAIL.as_bytes();
        let headers = signed(SECRET, "2024-05-01T12:00:00Z", body);
        assert_eq!(verify(&headers, body, at(SIGNED_AT + 300)), Ok(()));
        assert_eq!(verify(&headers, body, at(SIGNED_AT - 300)), Ok(()));
        assert!(matches!(
            verify(&headers, body, at(SIGNED_AT + 301)),
            Err(Rejection::Stale(_))
        ));
        assert!(matches!(
            verify(&headers, body, at(SIGNED_AT - 301)),
            Err(Rejection::Stale(_))
        ));
        // Same instant with an offset and fractional seconds.
        let headers = signed(SECRET, "2024-05-01T14:00:00.250+02:00", body);
        assert_eq!(verify(&headers, body, at(SIGNED_AT)), Ok(()));
        // A signed but unreadable timestamp.
        let headers = signed(SECRET, "yesterday", body);
        assert!(matches!(
            verify(&headers, body, at(SIGNED_AT)),
            Err(Rejection::BadSignature(_))
        ));
    }

    // --- mapping -----------------------------------------------------------

    #[test]
    fn maps_a_customer_email_comment() {
        let (job, event) = job_of(EMAIL, &rules());
        assert_eq!(job.delivery_key, "zendesk:5158:9876543210");
        assert_eq!(job.target, target());
        assert!(!job.agent_reply);
        assert_eq!(event.tenant_id, "acme");
        assert_eq!(event.event_id, job.delivery_key);
        assert_eq!(event.kind(), pb::EventKind::CustomerMessage);
        assert_eq!(event.ticket_id, "5158");
        assert_eq!(event.channel(), pb::Channel::Email);
        assert_eq!(
            event.text,
            "Toujours le même problème ce matin, le code de vérification n'arrive jamais."
        );
        let customer = event.customer.expect("customer");
        assert_eq!(customer.id, "8447388090494");
        assert_eq!(customer.display_name, "Camille Martin");
        assert_eq!(
            customer.external_ids.get("zendesk").map(String::as_str),
            Some("8447388090494")
        );
        let at = event.occurred_at.expect("occurred_at");
        assert_eq!((at.seconds, at.nanos), (1_736_346_330, 123_456_789));
        assert_eq!(
            event.attributes.get("zendesk.event_id").map(String::as_str),
            Some("d4f5c389-8f4a-4c2e-a1b9-8e4f39c71d52")
        );
        assert!(event.agent.is_none());
    }

    #[test]
    fn maps_a_customer_whatsapp_comment() {
        let (job, event) = job_of(WHATSAPP, &rules());
        assert_eq!(job.delivery_key, "zendesk:6021:31000000442");
        assert_eq!(event.kind(), pb::EventKind::CustomerMessage);
        assert_eq!(event.channel(), pb::Channel::Whatsapp);
        assert_eq!(
            event.text,
            "注文した商品がまだ届いていません。注文番号は A-1042 です。"
        );
        assert_eq!(event.customer.expect("customer").id, "8512200331177");
        assert_eq!(
            event
                .attributes
                .get("zendesk.external_id")
                .map(String::as_str),
            Some("wa-conv-7f3c9a")
        );
        assert_eq!(event.occurred_at.expect("time").seconds, 1_740_960_072);
    }

    #[test]
    fn maps_an_agent_reply_note() {
        let (job, event) = job_of(AGENT_REPLY, &rules());
        assert!(job.agent_reply);
        assert_eq!(job.delivery_key, "zendesk:5158:9876543299");
        assert_eq!(event.kind(), pb::EventKind::AgentReplyDrafted);
        assert_eq!(
            event.text,
            "Sorry about that! We have reset your two-factor settings, please try logging in again."
        );
        assert_eq!(event.agent.expect("agent").id, "8447388090495");
        assert_eq!(event.customer.expect("customer").id, "8447388090494");
        // 14:40:02+01:00
        assert_eq!(event.occurred_at.expect("time").seconds, 1_736_343_602);
    }

    #[test]
    fn maps_a_ticket_created_event() {
        let (job, event) = job_of(CREATED, &rules());
        assert_eq!(job.delivery_key, "zendesk:5999:5999");
        assert_eq!(job.target.ticket_id, "5999");
        assert_eq!(event.kind(), pb::EventKind::TicketCreated);
        assert_eq!(event.channel(), pb::Channel::WebChat);
        assert_eq!(
            event.text,
            "Hola, quiero cambiar la dirección de envío de mi pedido."
        );
        assert_eq!(event.customer.expect("customer").id, "8600112233445");
    }

    #[test]
    fn maps_a_solved_ticket_and_ignores_other_statuses() {
        let (job, event) = job_of(SOLVED, &rules());
        assert_eq!(event.kind(), pb::EventKind::TicketSolved);
        assert_eq!(
            job.delivery_key,
            "zendesk:5999:0f3b1a52-58a1-4c8e-9d0e-6c2b7de1a9f4"
        );
        assert_eq!(event.ticket_id, "5999");
        assert_eq!(event.customer.expect("customer").id, "8600112233445");
        assert_eq!(event.occurred_at.expect("time").seconds, 1_739_531_112);
        // Closed follows solved by itself: not a second solve.
        let closed = SOLVED.replace("\"SOLVED\"", "\"CLOSED\"");
        assert!(ignored(&closed, &rules()).contains("other than solved"));
        let pending = SOLVED.replace("\"SOLVED\"", "\"PENDING\"");
        assert!(ignored(&pending, &rules()).contains("other than solved"));
    }

    #[test]
    fn maps_a_rating_sent_by_a_trigger() {
        let (job, event) = job_of(RATED, &rules());
        assert_eq!(event.kind(), pb::EventKind::SatisfactionRated);
        assert_eq!(
            job.delivery_key,
            "zendesk:5999:5999-rated-bad-2025-02-14T11:20:41Z"
        );
        assert_eq!(event.attributes["csat.score"], "bad");
        assert_eq!(event.text, "Tardaron dos días en responder.");
        // A rating without its score is refused, naming it.
        let unscored = RATED.replace("\"score\": \"bad\",", "");
        match zendesk().map("acme", unscored.as_bytes(), &rules()) {
            Err(Rejection::BadPayload(why)) => assert!(why.contains("/score"), "{why}"),
            other => panic!("{other:?}"),
        }
    }

    /// The line that closes the bridge's notes on ticket `ticket`.
    fn mark(ticket: &str) -> String {
        rules().marker.line("", ticket, None).expect("a marker")
    }

    #[test]
    fn ignores_our_own_writes_by_author_and_by_mark() {
        assert_eq!(
            ignored(BRIDGE_NOTE, &rules()),
            "our own write (loop prevention)"
        );
        // Without the author id, the mark the bridge put on the note tells.
        let no_ids = Rules {
            bot_author_ids: vec![],
            ..rules()
        };
        let marked = BRIDGE_NOTE.replace("\\n\\n— crossdesk", &format!("\\n\\n{}", mark("5158")));
        assert_ne!(marked, BRIDGE_NOTE);
        assert_eq!(ignored(&marked, &no_ids), "our own write (loop prevention)");
        // The marker's visible text is not the mark: this note is an agent's.
        assert!(ignored(BRIDGE_NOTE, &no_ids).contains("without the agent reply prefix"));
        // The bot's public comments (the replies it posts) too.
        let public_by_bot = BRIDGE_NOTE.replace("\"is_public\": false", "\"is_public\": true");
        let no_marker = Rules {
            marker: crate::marker::Marker::new("", "zendesk-api-token"),
            ..rules()
        };
        assert_eq!(
            ignored(&public_by_bot, &no_marker),
            "our own write (loop prevention)"
        );
    }

    #[test]
    fn a_customer_who_types_the_marker_is_heard() {
        // The visible text, or the whole mark of another ticket: the customer's
        // message, processed like any other.
        for typed in [MARKER.to_owned(), mark("5159")] {
            let quoted = EMAIL.replace("jamais.", &format!("jamais. {typed}"));
            let (_, event) = job_of(&quoted, &rules());
            assert_eq!(event.kind(), pb::EventKind::CustomerMessage);
            assert!(event.text.ends_with(&typed), "{}", event.text);
        }
    }

    #[test]
    fn ignores_other_comments_and_event_types() {
        let staff_public = AGENT_REPLY.replace("\"is_public\": false", "\"is_public\": true");
        assert!(ignored(&staff_public, &rules()).contains("public comment by an agent"));
        let plain_note = AGENT_REPLY.replace("#reply  Sorry", "Sorry");
        assert!(ignored(&plain_note, &rules()).contains("without the agent reply prefix"));
        let empty_reply = AGENT_REPLY.replace(
            "#reply  Sorry about that! We have reset your two-factor settings, please try logging in again.",
            "#reply   ",
        );
        assert!(ignored(&empty_reply, &rules()).contains("empty"));
        let no_prefix_rule = Rules {
            agent_prefix: String::new(),
            ..rules()
        };
        assert!(ignored(AGENT_REPLY, &no_prefix_rule).contains("without the agent reply prefix"));
        let other = r#"{"type": "zen:event-type:user.active_changed", "id": "x",
            "detail": {"id": "6596848315901"}, "event": {"current": false, "previous": true}}"#;
        assert!(ignored(other, &rules()).contains("user.active_changed"));
    }

    #[test]
    fn rejects_malformed_payloads_naming_the_field() {
        let bad = |body: &str| match zendesk().map("acme", body.as_bytes(), &rules()) {
            Err(Rejection::BadPayload(m)) => m,
            other => panic!("expected BadPayload, got {other:?}"),
        };
        assert!(bad("not json").contains("not JSON"));
        assert!(bad(&EMAIL.replace("\"id\": \"5158\"", "\"id\": null")).contains("`/detail/id`"));
        assert!(bad(&EMAIL.replace("\"id\": \"9876543210\",", "")).contains("`/event/comment/id`"));
        assert!(
            bad(&EMAIL.replace("\"body\":", "\"html_body\":")).contains("`/event/comment/body`")
        );
        assert!(bad(&EMAIL.replace("2025-01-08T14:25:30.123456789Z", "soon")).contains("`/time`"));
        // What no rule recognises is acknowledged and ignored, named when it can be.
        assert_eq!(
            ignored(r#"{"detail": {}}"#, &rules()),
            "no rule of the mapping matches"
        );
        assert!(
            ignored(
                &EMAIL.replace("\"is_public\": true,\n      \"author\"", "\"author\""),
                &rules()
            )
            .contains("ticket.comment_added is not mapped")
        );
    }

    #[test]
    fn accepts_numeric_ids() {
        let numeric = EMAIL
            .replace("\"id\": \"5158\"", "\"id\": 5158")
            .replace("\"id\": \"9876543210\"", "\"id\": 9876543210");
        let (job, _) = job_of(&numeric, &rules());
        assert_eq!(job.delivery_key, "zendesk:5158:9876543210");
    }

    #[test]
    fn maps_channels() {
        for (via, want) in [
            ("email", pb::Channel::Email),
            ("web", pb::Channel::WebChat),
            ("chat", pb::Channel::WebChat),
            ("native_messaging", pb::Channel::WebChat),
            ("whatsapp", pb::Channel::Whatsapp),
            ("facebook", pb::Channel::Facebook),
            ("voice", pb::Channel::Phone),
            ("sms", pb::Channel::Sms),
            ("api", pb::Channel::Api),
            ("web_service", pb::Channel::Api),
        ] {
            assert_eq!(channel_of(Some(via)), (want, String::new()), "{via}");
        }
        assert_eq!(
            channel_of(Some("line")),
            (pb::Channel::Custom, "line".to_owned())
        );
        assert_eq!(channel_of(None), (pb::Channel::Unspecified, String::new()));
    }

    /// The channel of the e-mail fixture's event with `via.channel` set to `via`.
    fn channel_of(via: Option<&str>) -> (pb::Channel, String) {
        let mut payload: Value = serde_json::from_str(EMAIL).expect("fixture");
        payload["detail"]["via"]["channel"] = via.map_or(Value::Null, Value::from);
        let (_, event) = job_of(&payload.to_string(), &rules());
        (event.channel(), event.custom_channel)
    }

    // --- write-back --------------------------------------------------------

    fn typical_actions() -> Vec<pb::Action> {
        use pb::action::Kind;
        vec![
            action(Kind::InternalNote(
                "Translation (fr → en): hello".to_owned(),
            )),
            action(Kind::AddTags(pb::Tags {
                tags: vec!["lang-fr".to_owned(), "translated".to_owned()],
            })),
            action(Kind::SetFields(pb::Fields {
                fields: [
                    ("360001234567".to_owned(), "fr".to_owned()),
                    ("sentiment".to_owned(), "negative".to_owned()),
                ]
                .into_iter()
                .collect(),
            })),
            action(Kind::Route(pb::Routing {
                group: "360000111222".to_owned(),
                agent_id: "tier2-bob".to_owned(),
                priority: "High".to_owned(),
                reason: "French speaker".to_owned(),
            })),
            action(Kind::FlagForReview(pb::ReviewFlag {
                category: "legal".to_owned(),
                reason: "mentions a lawyer".to_owned(),
            })),
            action(Kind::AddTags(pb::Tags {
                tags: vec!["translated".to_owned()],
            })),
            action(Kind::ReplaceDraft("ignored without reply".to_owned())),
        ]
    }

    #[test]
    fn writes_a_typical_action_list_in_one_update() {
        let calls = zendesk().write_back(&target(), &typical_actions(), None, &rules());
        assert_eq!(calls.len(), 1);
        let call = &calls[0];
        assert_eq!(call.method, http::Method::PUT);
        assert_eq!(call.path, "/api/v2/tickets/5158.json");
        assert_eq!(
            call.body,
            json!({"ticket": {
                "comment": {
                    "body": "Translation (fr → en): hello\n\nRouting: French speaker\n\nFlagged for review (legal): mentions a lawyer\n\nsentiment: negative\n\nSuggested routing: agent tier2-bob\n\n".to_owned() + &mark("5158"),
                    "public": false
                },
                "additional_tags": ["lang-fr", "translated", "crossdesk-review"],
                "custom_fields": [{"id": 360001234567u64, "value": "fr"}],
                "group_id": 360000111222u64,
                "priority": "high"
            }})
        );
    }

    #[test]
    fn writes_the_reply_as_a_second_public_update() {
        let calls = zendesk().write_back(
            &target(),
            &typical_actions(),
            Some("Bonjour ! Nous avons réinitialisé vos paramètres."),
            &rules(),
        );
        assert_eq!(calls.len(), 2);
        assert_eq!(calls[0].body["ticket"]["comment"]["public"], json!(false));
        assert_eq!(
            calls[1].body,
            json!({"ticket": {"comment": {
                "body": "Bonjour ! Nous avons réinitialisé vos paramètres.",
                "public": true
            }}})
        );
        assert_eq!(calls[1].path, "/api/v2/tickets/5158.json");
    }

    #[test]
    fn writes_a_lone_reply_or_auto_reply_in_one_update() {
        use pb::action::Kind;
        let draft = [action(Kind::ReplaceDraft("draft".to_owned()))];
        let calls = zendesk().write_back(&target(), &draft, Some("Hola"), &rules());
        assert_eq!(
            calls.iter().map(|c| c.body.clone()).collect::<Vec<_>>(),
            vec![json!({"ticket": {"comment": {"body": "Hola", "public": true}}})]
        );
        let auto = [
            action(Kind::AutoReply("Thanks, we got it.".to_owned())),
            action(Kind::AddTags(pb::Tags {
                tags: vec!["auto".to_owned()],
            })),
        ];
        let calls = zendesk().write_back(&target(), &auto, None, &rules());
        assert_eq!(
            calls.iter().map(|c| c.body.clone()).collect::<Vec<_>>(),
            vec![json!({"ticket": {
                "comment": {"body": "Thanks, we got it.", "public": true},
                "additional_tags": ["auto"]
            }})]
        );
    }

    #[test]
    fn writes_nothing_without_actions() {
        use pb::action::Kind;
        assert!(
            zendesk()
                .write_back(&target(), &[], None, &rules())
                .is_empty()
        );
        let nothing = [
            action(Kind::ReplaceDraft("draft".to_owned())),
            action(Kind::InternalNote("  ".to_owned())),
            pb::Action {
                plugin: "x".to_owned(),
                kind: None,
            },
        ];
        assert!(
            zendesk()
                .write_back(&target(), &nothing, None, &rules())
                .is_empty()
        );
    }

    // --- auth ----------------------------------------------------------------

    #[test]
    fn auth_headers_use_api_token_basic_auth() {
        let credentials = Credentials {
            user: "bridge@acme.example".to_owned(),
            token: "6wiIBWbGkBMo1mRDMuVwkw1EPsNkeUj95PIz2akv".into(),
        };
        let headers = zendesk().auth_headers(&credentials).expect("headers");
        let auth = headers
            .get(http::header::AUTHORIZATION)
            .expect("authorization");
        assert!(auth.is_sensitive());
        let expected = format!(
            "Basic {}",
            BASE64.encode("bridge@acme.example/token:6wiIBWbGkBMo1mRDMuVwkw1EPsNkeUj95PIz2akv")
        );
        assert_eq!(auth.to_str().expect("ascii"), expected);
        assert_eq!(
            headers
                .get(http::header::CONTENT_TYPE)
                .expect("content type"),
            "application/json"
        );
        assert!(zendesk().auth_headers(&Credentials::default()).is_err());
        assert_eq!(zendesk().name(), "zendesk");
    }

    const WHATSAPP_USER: &str =
        include_str!("../../tests/fixtures/zendesk/user_whatsapp_requester.json");

    #[test]
    fn the_requester_is_looked_up_by_numeric_id_only() {
        let (_, event) = job_of(WHATSAPP, &rules());
        assert_eq!(
            zendesk().customer_lookup(&event).as_deref(),
            Some("/api/v2/users/8512200331177.json")
        );
        for id in ["", "abc", "12/../34"] {
            let mut event = event.clone();
            event.customer.as_mut().expect("customer").id = id.to_owned();
            assert_eq!(zendesk().customer_lookup(&event), None, "{id:?}");
        }
        let mut event = event;
        event.customer = None;
        assert_eq!(zendesk().customer_lookup(&event), None);
    }

    #[test]
    fn a_looked_up_requester_adds_identities_locale_and_zone() {
        let (_, mut event) = job_of(WHATSAPP, &rules());
        let answer: Value = serde_json::from_str(WHATSAPP_USER).expect("fixture");
        zendesk().enrich_customer(&mut event, &answer);
        let customer = event.customer.expect("customer");
        let ids: Vec<(&str, &str)> = customer
            .external_ids
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(
            ids,
            [
                ("email", "yuki.tanaka@example.jp"),
                ("external_id", "crm-88213"),
                ("phone", "+819012345678"),
                ("whatsapp", "+819012345678"),
                ("zendesk", "8512200331177"),
            ]
        );
        assert_eq!(customer.locale, "ja");
        assert_eq!(customer.time_zone, "Asia/Tokyo");
        // The webhook's own name stays.
        assert_eq!(customer.display_name, "Yuki Tanaka");
    }

    #[test]
    fn a_shared_phone_number_is_no_identity_and_webhook_fields_win() {
        let (_, mut event) = job_of(EMAIL, &rules());
        let customer = event.customer.as_mut().expect("customer");
        customer.locale = "fr-FR".into();
        customer
            .external_ids
            .insert("email".into(), "given@example.fr".into());
        let answer = json!({ "user": {
            "email": "other@example.fr", "phone": "+33123456789",
            "shared_phone_number": true, "locale": "en-US",
            "iana_time_zone": "Europe/Paris", "external_id": null
        }});
        zendesk().enrich_customer(&mut event, &answer);
        let customer = event.customer.expect("customer");
        assert_eq!(customer.external_ids["email"], "given@example.fr");
        assert!(!customer.external_ids.contains_key("phone"), "{customer:?}");
        assert!(!customer.external_ids.contains_key("external_id"));
        assert_eq!(customer.locale, "fr-FR");
        assert_eq!(customer.time_zone, "Europe/Paris");
        // An answer that is no user changes nothing.
        let (_, mut event) = job_of(EMAIL, &rules());
        let before = event.clone();
        zendesk().enrich_customer(&mut event, &json!({ "error": "RecordNotFound" }));
        assert_eq!(event, before);
    }
}
