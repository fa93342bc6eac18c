//! Language detection of short messages through the whole sidecar (issue 23), run
//! by `make detection`: each message goes to the translation plugin as a customer
//! message **without a locale** and without history, with the real Apertium APy
//! as the engine; the `lang-xx` tag it gets is compared with the message's
//! language. In the same run, whatlang alone (what the plugin used before) guesses
//! each message, as the baseline.
//!
//!     detection FILE.tsv...     # language<TAB>text per line
//!
//! Prints a Markdown table per file: messages, accuracy per language and overall
//! for both, and the median time the sidecar took per message. Croatian, Serbian,
//! Bosnian and Serbo-Croatian count as one language: Apertium reads them with one
//! pair (`hbs`).

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::time::Instant;

use crossdesk_integration_tests::engine::Apertium;
use crossdesk_integration_tests::*;

fn group(code: &str) -> &str {
    match code {
        "hr" | "sr" | "bs" | "sh" => "sh",
        other => other,
    }
}

fn config(engine_url: &str) -> String {
    install(&["translation"])
        + LOOPBACK_OUTBOUND
        + "[[tenants]]\nid = \"acme\"\n"
        + &translation_step(
            engine_url,
            "agent_language = \"en\"",
            "limits = { timeout_ms = 20000 }",
        )
}

fn message(id: usize, text: &str) -> pb::Event {
    pb::Event {
        tenant_id: "acme".into(),
        event_id: format!("detect-{id}"),
        kind: pb::EventKind::CustomerMessage as i32,
        // A ticket of its own: no earlier language to lean on.
        ticket_id: format!("T-{id}"),
        channel: pb::Channel::WebChat as i32,
        customer: Some(pb::Customer {
            id: format!("cust-{id}"),
            ..Default::default()
        }),
        text: text.into(),
        ..Default::default()
    }
}

#[derive(Default)]
struct Tally {
    messages: u32,
    baseline: u32,
    sidecar: u32,
}

fn pct(n: u32, d: u32) -> f64 {
    if d == 0 {
        0.0
    } else {
        100.0 * f64::from(n) / f64::from(d)
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let files: Vec<String> = std::env::args().skip(1).collect();
    if files.is_empty() {
        eprintln!("usage: detection FILE.tsv... (language<TAB>text per line)");
        return ExitCode::from(2);
    }
    let apertium = Apertium::start();
    let server = TestServer::start(&config(&apertium.url())).await;
    let mut id = 0;
    for file in files {
        let Ok(text) = std::fs::read_to_string(&file) else {
            eprintln!("cannot read {file}");
            return ExitCode::FAILURE;
        };
        let mut tallies: BTreeMap<String, Tally> = BTreeMap::new();
        let mut micros: Vec<u128> = Vec::new();
        for line in text.lines() {
            let Some((language, body)) = line.split_once('\t') else {
                continue;
            };
            id += 1;
            let expected = group(language);
            let baseline = crossdesk_text::lang::detect(body).map(|d| group(d.language).to_owned());
            let started = Instant::now();
            let response = server.handle(message(id, body)).await;
            micros.push(started.elapsed().as_micros());
            let tagged = tags(&response)
                .iter()
                .find_map(|t| t.strip_prefix("lang-").map(|l| group(l).to_owned()));
            let tally = tallies.entry(expected.to_owned()).or_default();
            tally.messages += 1;
            tally.baseline += u32::from(baseline.as_deref() == Some(expected));
            tally.sidecar += u32::from(tagged.as_deref() == Some(expected));
        }
        micros.sort_unstable();
        let median_ms = micros.get(micros.len() / 2).copied().unwrap_or(0) as f64 / 1000.0;
        println!("\n{file} (median {median_ms:.0} ms per message through the sidecar)\n");
        println!("| language | messages | whatlang alone | the translation plugin |");
        println!("| --- | --- | --- | --- |");
        let mut all = Tally::default();
        for (language, t) in &tallies {
            println!(
                "| {} ({language}) | {} | {:.0} % | {:.0} % |",
                crossdesk_text::lang::name(language),
                t.messages,
                pct(t.baseline, t.messages),
                pct(t.sidecar, t.messages)
            );
            all.messages += t.messages;
            all.baseline += t.baseline;
            all.sidecar += t.sidecar;
        }
        println!(
            "| **all** | {} | **{:.1} %** | **{:.1} %** |",
            all.messages,
            pct(all.baseline, all.messages),
            pct(all.sidecar, all.messages)
        );
    }
    ExitCode::SUCCESS
}
