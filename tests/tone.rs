//! The cultural tone plugin end to end: the whole case table of the plugin (at least
//! five cases for each of its 15 locales, sensitive topics in 11 languages) through
//! the real sidecar over gRPC, with the invariants — a second pass changes nothing,
//! placeholders survive, nothing is sent by itself — and the plugin running after
//! the translation plugin in one tenant's pipeline.

use std::collections::BTreeMap;

use crossdesk_integration_tests::engine::Apertium;
use crossdesk_integration_tests::*;
use pb::action::Kind;
use pb::plugin_outcome::Status;

#[path = "../plugins/tone/tests/common/cases.rs"]
mod cases;
use cases::{BASE_CONFIG, CASES, Case, SENSITIVE_CASES};

/// The TOML inline table of plugin settings.
fn inline(settings: &[(&str, &str)]) -> String {
    let entries: Vec<String> = settings
        .iter()
        .map(|(k, v)| format!("{k} = {:?}", v))
        .collect();
    format!("{{ {} }}", entries.join(", "))
}

/// One tenant per distinct set of settings the cases need, named `t0`, `t1`, ...
fn tenants_for(configs: &[Vec<(&'static str, &'static str)>]) -> String {
    let mut toml = install(&["tone"]);
    for (i, config) in configs.iter().enumerate() {
        toml.push_str(&format!(
            "[[tenants]]\nid = \"t{i}\"\n[[tenants.plugins]]\nname = \"tone\"\nconfig = {}\n",
            inline(config)
        ));
    }
    toml
}

fn reply_event(tenant: &str, id: &str, case: &Case, text: &str) -> pb::Event {
    pb::Event {
        tenant_id: tenant.into(),
        event_id: id.into(),
        kind: pb::EventKind::AgentReplyDrafted as i32,
        ticket_id: "T-1".into(),
        channel: pb::Channel::Email as i32,
        customer: Some(pb::Customer {
            id: "cust-1".into(),
            locale: case.locale.into(),
            country: case.country.into(),
            display_name: case.name.into(),
            ..Default::default()
        }),
        agent: Some(pb::Agent {
            id: "agent-1".into(),
            working_language: case.agent_language.into(),
        }),
        text: text.into(),
        attributes: case
            .attributes()
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect::<BTreeMap<_, _>>(),
        ..Default::default()
    }
}

fn replaced_draft(response: &pb::HandleEventResponse) -> Option<&str> {
    response.actions.iter().find_map(|a| match &a.kind {
        Some(Kind::ReplaceDraft(text)) => Some(text.as_str()),
        _ => None,
    })
}

#[tokio::test]
async fn every_locale_case_holds_through_the_sidecar() {
    let mut configs: Vec<Vec<(&str, &str)>> = Vec::new();
    for case in CASES {
        if !configs.contains(&case.config()) {
            configs.push(case.config());
        }
    }
    let server = TestServer::start(&tenants_for(&configs)).await;
    let mut client = server.client().await;
    let mut per_locale: BTreeMap<&str, usize> = BTreeMap::new();
    for (n, case) in CASES.iter().enumerate() {
        let tenant = format!(
            "t{}",
            configs
                .iter()
                .position(|c| *c == case.config())
                .expect("a tenant per config")
        );
        let response = client
            .handle_event(request(reply_event(
                &tenant,
                &format!("c-{n}"),
                case,
                case.draft,
            )))
            .await
            .unwrap_or_else(|e| panic!("{}: {e:?}", case.id))
            .into_inner();
        assert_eq!(
            outcome(&response, "tone").status(),
            Status::Ok,
            "{}: {response:#?}",
            case.id
        );
        assert!(
            response
                .actions
                .iter()
                .all(|a| !matches!(a.kind, Some(Kind::AutoReply(_)))),
            "{}: the plugin sent something by itself",
            case.id
        );
        if case.profile.is_empty() {
            assert!(response.actions.is_empty(), "{}: {response:#?}", case.id);
            continue;
        }
        *per_locale.entry(case.profile).or_default() += 1;
        // A note says what was done; a draft left alone may come without one.
        let note = notes(&response).join("\n");
        if case.rewritten || !case.rules.is_empty() || !note.is_empty() {
            for fragment in case.note_fragments() {
                assert!(
                    note.contains(&fragment),
                    "{}: {fragment:?} not in {note}",
                    case.id
                );
            }
            for line in case.rule_lines() {
                assert!(
                    note.contains(&line),
                    "{}: rule {line:?} not in {note}",
                    case.id
                );
            }
        }
        assert_eq!(
            replaced_draft(&response).is_some(),
            case.rewritten,
            "{}: {response:#?}",
            case.id
        );
        let output = replaced_draft(&response).unwrap_or(case.draft).to_owned();
        for wanted in case.contains {
            assert!(
                output.contains(wanted),
                "{}: {wanted:?} not in {output:?}",
                case.id
            );
        }
        for unwanted in case.absent {
            assert!(
                !output.contains(unwanted),
                "{}: {unwanted:?} in {output:?}",
                case.id
            );
        }
        for kept in case.placeholders {
            assert!(
                output.matches(kept).count() >= case.draft.matches(kept).count(),
                "{}: {kept:?} did not survive in {output:?}",
                case.id
            );
        }
        // Applying the plugin to its own output changes nothing.
        let again = client
            .handle_event(request(reply_event(
                &tenant,
                &format!("c-{n}-again"),
                case,
                &output,
            )))
            .await
            .expect("second pass")
            .into_inner();
        assert_eq!(
            replaced_draft(&again),
            None,
            "{}: a second pass rewrote {output:?}",
            case.id
        );
    }
    assert!(per_locale.len() >= 14, "locales covered: {per_locale:?}");
    for (locale, count) in &per_locale {
        assert!(*count >= 5, "{locale} has only {count} cases");
    }
}

#[tokio::test]
async fn sensitive_topics_are_flagged_for_review_instead_of_rewritten() {
    let server = TestServer::start(&tenants_for(&[BASE_CONFIG.to_vec()])).await;
    let mut client = server.client().await;
    let mut languages = std::collections::BTreeSet::new();
    for (n, case) in SENSITIVE_CASES.iter().enumerate() {
        let as_case = Case {
            locale: case.locale,
            draft: case.draft,
            draft_language: case.draft_language,
            ..CASES[0]
        };
        let response = client
            .handle_event(request(reply_event(
                "t0",
                &format!("s-{n}"),
                &as_case,
                case.draft,
            )))
            .await
            .expect("ok")
            .into_inner();
        let flags: Vec<&pb::ReviewFlag> = response
            .actions
            .iter()
            .filter_map(|a| match &a.kind {
                Some(Kind::FlagForReview(flag)) => Some(flag),
                _ => None,
            })
            .collect();
        if case.flags.is_empty() {
            assert!(flags.is_empty(), "{}: flagged: {flags:?}", case.id);
            continue;
        }
        languages.insert(case.draft_language);
        for (category, term) in case.flags {
            assert!(
                flags
                    .iter()
                    .any(|f| f.category == *category && f.reason.contains(term)),
                "{}: no {category} flag naming {term:?} in {flags:?}",
                case.id
            );
        }
        assert!(
            replaced_draft(&response).is_none(),
            "{}: a flagged reply must not be changed",
            case.id
        );
    }
    assert!(languages.len() >= 6, "flagged languages: {languages:?}");
}

#[tokio::test]
async fn tone_runs_after_translation_on_the_translated_reply() {
    let url = Apertium::shared().url();
    let config = translation_then_tone(&url, &[("acme", "")], "", "");
    let server = TestServer::start(&config).await;
    let case = Case {
        locale: "es-MX",
        name: "Lucía Hernández",
        agent_language: "en",
        ..CASES[0]
    };
    let response = server
        .client()
        .await
        .handle_event(request(reply_event(
            "acme",
            "mx-1",
            &case,
            "Your order #4471 left our warehouse yesterday.",
        )))
        .await
        .expect("ok")
        .into_inner();
    let drafts: Vec<(&str, &str)> = response
        .actions
        .iter()
        .filter_map(|a| match &a.kind {
            Some(Kind::ReplaceDraft(text)) => Some((a.plugin.as_str(), text.as_str())),
            _ => None,
        })
        .collect();
    assert_eq!(drafts.len(), 2, "{response:#?}");
    assert_eq!(drafts[0].0, "translation");
    assert_eq!(drafts[1].0, "tone");
    // The tone plugin worked on the Spanish text the translation left, in Spanish.
    assert!(drafts[1].1.contains(drafts[0].1.trim_end()) || drafts[1].1.contains("#4471"));
    let note = notes(&response)
        .into_iter()
        .find(|n| n.starts_with("Tone:"))
        .unwrap_or_else(|| panic!("no tone note: {response:#?}"));
    assert!(note.contains("profile es-MX"), "{note}");
    assert!(note.contains("(es"), "{note}\n{drafts:?}");
    assert!(drafts[1].1.contains("#4471"), "{}", drafts[1].1);
}

/// The last draft of a response: what the customer will read.
fn final_draft(response: &pb::HandleEventResponse) -> String {
    response
        .actions
        .iter()
        .rev()
        .find_map(|a| match &a.kind {
            Some(Kind::ReplaceDraft(text)) => Some(text.clone()),
            _ => None,
        })
        .unwrap_or_default()
}

/// Tenants that translate with the engine at `url` (`translation_settings` and
/// `extra` for its step), then run tone with their own `overrides`.
fn translation_then_tone(
    url: &str,
    tenants: &[(&str, &str)],
    translation_settings: &str,
    extra: &str,
) -> String {
    let mut toml = install(&["translation", "tone"]) + LOOPBACK_OUTBOUND;
    for (tenant, overrides) in tenants {
        toml.push_str(&format!("[[tenants]]\nid = {tenant:?}\n"));
        toml.push_str(&translation_step(url, translation_settings, extra));
        toml.push_str(&format!(
            "[[tenants.plugins]]\nname = \"tone\"\nsettings = {{ overrides = {overrides:?} }}\n"
        ));
    }
    toml
}

/// Tenant `acme` keeps every default; `bespoke` chose usted for Spain and `o
/// senhor` for Brazil. Both translate with the run's real APy, then run tone.
fn register_config(url: &str) -> String {
    translation_then_tone(
        url,
        &[
            ("acme", ""),
            ("bespoke", "es-ES.pronoun=usted; pt-BR.pronoun=o senhor"),
        ],
        "",
        "",
    )
}

/// An agent's English reply to customers of every Spanish- and Portuguese-speaking
/// profile, and French, through the real APy (vosotros and tú forms come out of
/// it): what the customer reads is in the pronoun the tenant chose, and the note
/// names the rule.
#[tokio::test]
async fn translated_replies_reach_each_locale_in_the_tenants_pronoun() {
    let url = Apertium::shared().url();
    let server = TestServer::start(&register_config(&url)).await;
    let mut client = server.client().await;
    let english = "Your refund for order #4471 has been issued. You can track your order here. \
                   Do you want a new one?";
    // (tenant, locale, title, must contain, must not contain, the pronoun in the note)
    type Expectation<'a> = (
        &'a str,
        &'a str,
        Option<&'a str>,
        &'a [&'a str],
        &'a [&'a str],
        &'a str,
    );
    let expectations: &[Expectation] = &[
        (
            "acme",
            "es-MX",
            None,
            &["Su reembolso", "Puede seguir su"],
            &["uestr", "Puedes", "Quieres", " tu "],
            "usted",
        ),
        (
            "acme",
            "es-AR",
            None,
            &["Su reembolso", "Puede seguir su"],
            &["uestr", "Puedes", "Quieres"],
            "usted",
        ),
        (
            "acme",
            "es-CO",
            None,
            &["Su reembolso", "Puede seguir su"],
            &["uestr", "Puedes", "Quieres"],
            "usted",
        ),
        (
            "acme",
            "es-ES",
            None,
            &["Tu reembolso", "Puedes seguir tu"],
            &["uestr", "Su reembolso"],
            "tú",
        ),
        (
            "bespoke",
            "es-ES",
            None,
            &["Su reembolso", "Puede seguir su"],
            &["uestr", "Puedes"],
            "usted",
        ),
        (
            "acme",
            "pt-BR",
            None,
            &["Seu reembolso", "seguir sua"],
            &["oss"],
            "você",
        ),
        (
            "bespoke",
            "pt-BR",
            Some("Sra."),
            &["Seu reembolso"],
            &["oss"],
            "o senhor / a senhora",
        ),
        (
            "acme",
            "pt-PT",
            None,
            &["Seu reembolso", "sua ordem"],
            &["oss", "Podes", "Queres"],
            "você",
        ),
        (
            "acme",
            "fr-FR",
            None,
            &["Vous pouvez", "Vous voulez"],
            &["Tu ", " tu "],
            "vous",
        ),
    ];
    let mut failures = Vec::new();
    for (n, (tenant, locale, title, contains, absent, pronoun)) in expectations.iter().enumerate() {
        let case = Case {
            locale,
            name: "Alex Doe",
            title: *title,
            agent_language: "en",
            ..CASES[0]
        };
        let response = client
            .handle_event(request(reply_event(
                tenant,
                &format!("reg-{n}"),
                &case,
                english,
            )))
            .await
            .expect("ok")
            .into_inner();
        let text = final_draft(&response);
        let note = notes(&response)
            .into_iter()
            .find(|n| n.starts_with("Tone:"))
            .unwrap_or_default();
        let missing: Vec<&&str> = contains.iter().filter(|c| !text.contains(**c)).collect();
        let present: Vec<&&str> = absent.iter().filter(|a| text.contains(**a)).collect();
        let rule = format!("addressed the customer as {pronoun}");
        let noted = note.contains("- register.pronoun: ") && note.contains(&rule);
        if !missing.is_empty() || !present.is_empty() || !noted {
            failures.push(format!(
                "{tenant} {locale}: missing {missing:?}, present {present:?}, rule noted {noted}\n{text}\n{note}"
            ));
        }
        // The translation ran first: the pronoun was set on the customer's language.
        let drafts: Vec<&str> = response
            .actions
            .iter()
            .filter(|a| matches!(a.kind, Some(Kind::ReplaceDraft(_))))
            .map(|a| a.plugin.as_str())
            .collect();
        assert_eq!(drafts, ["translation", "tone"], "{tenant} {locale}");
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// A German agent's own `du` draft reaches a German customer in `Sie`; and a
/// translation by a DeepL simulator is asked `prefer_more` for German, the tone
/// plugin setting `Sie` even when the engine answered in `du`.
#[tokio::test]
async fn german_replies_come_out_in_sie_and_deepl_is_asked_for_formality() {
    use crossdesk_integration_tests::cloud::{CloudEngine, Protocol};
    let deepl = CloudEngine::start(
        Protocol::DeepL,
        &[(
            "Can you send us a photo of your parcel?",
            "Kannst du uns ein Foto deines Pakets schicken?",
        )],
    )
    .await;
    let (header, value) = deepl.secret();
    let config = translation_then_tone(
        &deepl.url(),
        &[("acme", "")],
        "engine = \"deepl\"",
        &format!(
            "secrets = [{{ host = {:?}, header = {header:?}, value = {value:?} }}]",
            deepl.host()
        ),
    );
    let server = TestServer::start(&config).await;
    let mut client = server.client().await;
    let german = Case {
        locale: "de-DE",
        name: "Jan Weber",
        agent_language: "de",
        ..CASES[0]
    };
    let response = client
        .handle_event(request(reply_event(
            "acme",
            "de-own",
            &german,
            "Kannst du uns ein Foto schicken? Wenn du dich anmeldest, siehst du deine Bestellung.",
        )))
        .await
        .expect("ok")
        .into_inner();
    let text = final_draft(&response);
    assert!(
        text.contains(
            "Können Sie uns ein Foto schicken? Wenn Sie sich anmelden, sehen Sie Ihre Bestellung."
        ),
        "{text}"
    );
    let english_agent = Case {
        agent_language: "en",
        ..german
    };
    let response = client
        .handle_event(request(reply_event(
            "acme",
            "de-deepl",
            &english_agent,
            "Can you send us a photo of your parcel?",
        )))
        .await
        .expect("ok")
        .into_inner();
    let asked = deepl.requests().pop().expect("a request to DeepL");
    assert_eq!(asked.body["formality"], "prefer_more");
    assert_eq!(asked.body["target_lang"], "DE");
    let text = final_draft(&response);
    assert!(
        text.contains("Können Sie uns ein Foto Ihres Pakets schicken?"),
        "{text}\n{response:#?}"
    );
}
