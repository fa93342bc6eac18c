//! Tuning the detection weights on the development half of the catalog strings:
//! whatlang alone against [`crossdesk_text::detect::rank`], per language and
//! overall, with no locale given, and — given the engine's coverage of each message
//! — the translation plugin's tie-break simulated.
//!
//!     python3 scripts/detection-set.py target/detection
//!     python3 scripts/detection-coverage.py target/detection/dev.tsv target/detection/dev.cov
//!     cargo run --release -p crossdesk-text --example detection_tuning -- \
//!         target/detection/dev.tsv target/detection/dev.cov
//!
//! The tie-break's knobs, as environment variables: `K` candidates within
//! `WITHIN` of the best get the coverage, weighted `WC`; `FAMILY` adds the best
//! one's relatives; the coverage is skipped when the best leads by `SKIP` or more.
//! The plugin's constants are the values chosen here (K=4, WITHIN=2, WC=3,
//! FAMILY, SKIP=1). The held-out measurement is `make detection`, through the
//! sidecar. The reachable languages are the demo's offline engine's
//! (docs/languages.md); Croatian, Serbian, Bosnian and Serbo-Croatian count as one
//! language (Apertium reads them with one pair).

use std::collections::BTreeMap;

use crossdesk_text::detect::{Hints, rank};
use crossdesk_text::lang;

const REACHABLE: &[&str] = &[
    "en", "es", "pt", "fr", "it", "ca", "gl", "ro", "eu", "oc", "an", "ast", "eo", "sv", "da",
    "nb", "nn", "is", "sh", "hr", "sr", "bs", "sl", "mk", "bg", "br", "sc", "frp",
];

fn group(code: &str) -> &str {
    match code {
        "hr" | "sr" | "bs" | "sh" => "sh",
        other => other,
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .ok_or("usage: detection FILE.tsv (language<TAB>text per line)")?;
    let text = std::fs::read_to_string(&path)?;
    // Optional: the engine's coverage of each message per language (`lang=0.83 ...`
    // per line, same order), to simulate the plugin's tie-break.
    let coverage: Vec<Vec<(String, f64)>> = match std::env::args().nth(2) {
        Some(p) => std::fs::read_to_string(p)?
            .lines()
            .map(|l| {
                l.split('\t')
                    .nth(1)
                    .unwrap_or_default()
                    .split(' ')
                    .filter_map(|kv| kv.split_once('='))
                    .map(|(k, v)| (k.to_owned(), v.parse().unwrap_or(0.0)))
                    .collect()
            })
            .collect(),
        None => Vec::new(),
    };
    let k: usize = std::env::var("K")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    let wc: f64 = std::env::var("WC")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1.0);
    let within: f64 = std::env::var("WITHIN")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1.0);
    // language → (messages, whatlang right, rank right)
    let mut by_language: BTreeMap<String, (u32, u32, u32)> = BTreeMap::new();
    let hints = Hints {
        reachable: REACHABLE,
        ..Hints::default()
    };
    for (n, line) in text.lines().enumerate() {
        let Some((language, message)) = line.split_once('\t') else {
            continue;
        };
        let expected = group(language).to_owned();
        let baseline = lang::detect(message).map(|d| group(d.language).to_owned());
        let mut ranked = rank(message, &hints);
        let skip_above: f64 = std::env::var("SKIP")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(f64::MAX);
        if let Some(cov) = coverage.get(n).filter(|_| ranked.margin() < skip_above) {
            let candidates = if std::env::var_os("FAMILY").is_some() {
                ranked.candidates(within, k, REACHABLE)
            } else {
                ranked.close(within, k)
            };
            for candidate in candidates {
                let c = cov
                    .iter()
                    .find(|(l, _)| l == group(candidate))
                    .map_or(0.0, |(_, v)| *v);
                ranked.add(candidate, wc * c);
            }
        }
        let ours = ranked.best().map(|l| group(l).to_owned());
        let entry = by_language.entry(expected.clone()).or_default();
        entry.0 += 1;
        entry.1 += u32::from(baseline.as_deref() == Some(expected.as_str()));
        entry.2 += u32::from(ours.as_deref() == Some(expected.as_str()));
    }
    let pct = |n: u32, d: u32| {
        if d == 0 {
            0.0
        } else {
            100.0 * f64::from(n) / f64::from(d)
        }
    };
    println!("| language | messages | whatlang alone | crossdesk_text::detect |");
    println!("| --- | --- | --- | --- |");
    let (mut n, mut b, mut o) = (0, 0, 0);
    for (language, (count, base, ours)) in &by_language {
        println!(
            "| {} ({language}) | {count} | {:.0} % | {:.0} % |",
            lang::name(language),
            pct(*base, *count),
            pct(*ours, *count)
        );
        n += count;
        b += base;
        o += ours;
    }
    println!(
        "| **all** | {n} | **{:.1} %** | **{:.1} %** |",
        pct(b, n),
        pct(o, n)
    );
    Ok(())
}
