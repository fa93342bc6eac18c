//! The tone plugin's case table, run natively through `Tone::handle` with the SDK's
//! stand-in host: every case's expectations, and for every case the invariants —
//! running the plugin on its own output changes nothing, placeholders come through
//! byte-identical, and no `AutoReply` is ever returned.

use crossdesk_sdk::testing::MockHost;
use crossdesk_sdk::{Action, Agent, Customer, Event, EventKind, Plugin, ReviewFlag};
use tone::Tone;

#[path = "common/cases.rs"]
mod cases;
use cases::{BASE_CONFIG, CASES, Case, SENSITIVE_CASES, SensitiveCase};

fn opt(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_owned())
}

/// The `AgentReplyDrafted` event a case describes, with `text` as the draft.
fn event(case: &Case, text: &str) -> Event {
    let mut e = Event::new(EventKind::AgentReplyDrafted, text).with_customer(Customer {
        id: "c-1".into(),
        locale: opt(case.locale),
        country: opt(case.country),
        display_name: opt(case.name),
        ..Default::default()
    });
    if !case.agent_language.is_empty() {
        e.agent = Some(Agent {
            id: "a-1".into(),
            working_language: opt(case.agent_language),
        });
    }
    for (k, v) in case.attributes() {
        e = e.with_attribute(k, v);
    }
    e
}

/// Runs the plugin on `text` with the case's settings.
fn run(case: &Case, text: &str) -> Vec<Action> {
    let mut host = MockHost::new();
    for (k, v) in case.config() {
        host = host.setting(k, v);
    }
    host.install();
    Tone::handle(event(case, text)).unwrap_or_else(|e| panic!("{}: {}", case.id, e.message))
}

fn replaced(actions: &[Action]) -> Option<&str> {
    actions.iter().find_map(|a| match a {
        Action::ReplaceDraft(t) => Some(t.as_str()),
        _ => None,
    })
}

fn note(actions: &[Action]) -> Option<&str> {
    actions.iter().find_map(|a| match a {
        Action::InternalNote(t) => Some(t.as_str()),
        _ => None,
    })
}

fn flags(actions: &[Action]) -> Vec<&ReviewFlag> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::FlagForReview(f) => Some(f),
            _ => None,
        })
        .collect()
}

fn keep_terms() -> Vec<String> {
    BASE_CONFIG
        .iter()
        .filter(|(k, _)| *k == "keep_terms")
        .flat_map(|(_, v)| v.split(','))
        .map(|t| t.trim().to_owned())
        .collect()
}

/// Checks one case; returns what went wrong.
fn check(case: &Case) -> Vec<String> {
    let mut problems = Vec::new();
    let actions = run(case, case.draft);
    if actions.iter().any(|a| matches!(a, Action::AutoReply(_))) {
        problems.push("returned an AutoReply".to_owned());
    }
    if !flags(&actions).is_empty() {
        problems.push(format!("flagged: {:?}", flags(&actions)));
    }
    if case.profile.is_empty() {
        if !actions.is_empty() {
            problems.push(format!("no profile expected, got {actions:?}"));
        }
        return problems;
    }
    let output = replaced(&actions).unwrap_or(case.draft).to_owned();
    match (case.rewritten, replaced(&actions)) {
        (true, None) => problems.push("expected a ReplaceDraft, got none".to_owned()),
        (false, Some(t)) => problems.push(format!("expected no ReplaceDraft, got {t:?}")),
        _ => {}
    }
    for s in case.contains {
        if !output.contains(s) {
            problems.push(format!("output lacks {s:?}"));
        }
    }
    for s in case.absent {
        if output.contains(s) {
            problems.push(format!("output contains {s:?}"));
        }
    }
    match note(&actions) {
        Some(n) => {
            for fragment in case.note_fragments() {
                if !n.contains(&fragment) {
                    problems.push(format!("note lacks {fragment:?}"));
                }
            }
            for line in case.rule_lines() {
                if !n.contains(&line) {
                    problems.push(format!("note lacks rule {line:?}"));
                }
            }
        }
        None if case.rewritten || !case.rules.is_empty() => problems.push("no note".to_owned()),
        None => {}
    }
    // Placeholders: the case's own, and every span the scanner protects.
    let keep = keep_terms();
    let mut placeholders: Vec<String> = case.placeholders.iter().map(|s| (*s).to_owned()).collect();
    placeholders.extend(
        tone::spans::find(case.draft, &keep)
            .iter()
            .map(|s| case.draft[s.start..s.end].to_owned()),
    );
    for p in &placeholders {
        if !case.draft.contains(p.as_str()) {
            problems.push(format!("placeholder {p:?} is not in the draft"));
        } else if output.matches(p.as_str()).count() < case.draft.matches(p.as_str()).count() {
            problems.push(format!("placeholder {p:?} not kept byte-identical"));
        }
    }
    // Idempotence: the output run again is not rewritten.
    let again = run(case, &output);
    if let Some(t) = replaced(&again) {
        problems.push(format!("second run rewrote again: {t:?}"));
    }
    if again.iter().any(|a| matches!(a, Action::AutoReply(_))) {
        problems.push("second run returned an AutoReply".to_owned());
    }
    problems
}

#[test]
fn the_case_table_covers_every_profile() {
    let locales = [
        "en-US", "en-GB", "de-DE", "fr-FR", "es-ES", "es-MX", "pt-BR", "pt-PT", "it-IT", "nl-NL",
        "ja-JP", "zh-CN", "zh-TW", "ko-KR", "ar-SA",
    ];
    for locale in locales {
        let n = CASES.iter().filter(|c| c.profile == locale).count();
        assert!(n >= 5, "{locale} has {n} cases");
    }
    assert!(CASES.len() >= 70);
    let mut ids: Vec<&str> = CASES.iter().map(|c| c.id).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), CASES.len(), "case ids are unique");
    assert!(
        CASES
            .iter()
            .any(|c| c.profile == "ja-JP" && c.draft_language == "en"),
        "a Japanese customer answered in English"
    );
    assert!(CASES.iter().filter(|c| !c.placeholders.is_empty()).count() >= 14);
}

#[test]
fn every_case_holds() {
    let mut failures = Vec::new();
    for case in CASES {
        let problems = check(case);
        if !problems.is_empty() {
            failures.push(format!("{}:\n  {}", case.id, problems.join("\n  ")));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases fail:\n{}",
        failures.len(),
        CASES.len(),
        failures.join("\n")
    );
}

fn sensitive_event(case: &SensitiveCase) -> Event {
    Event::new(EventKind::AgentReplyDrafted, case.draft).with_customer(Customer {
        id: "c-1".into(),
        locale: Some(case.locale.into()),
        display_name: Some("Sam Lee".into()),
        ..Default::default()
    })
}

#[test]
fn sensitive_topics_are_flagged_not_rewritten() {
    let mut languages: Vec<&str> = SENSITIVE_CASES
        .iter()
        .filter(|c| !c.flags.is_empty())
        .map(|c| c.draft_language)
        .collect();
    languages.sort_unstable();
    languages.dedup();
    assert!(languages.len() >= 6, "flagged in {languages:?}");

    let mut failures = Vec::new();
    for case in SENSITIVE_CASES {
        let mut host = MockHost::new();
        for (k, v) in BASE_CONFIG {
            host = host.setting(*k, *v);
        }
        host.install();
        let actions = Tone::handle(sensitive_event(case))
            .unwrap_or_else(|e| panic!("{}: {}", case.id, e.message));
        let found = flags(&actions);
        let mut problems = Vec::new();
        for (category, term) in case.flags {
            if !found
                .iter()
                .any(|f| f.category == *category && f.reason.contains(&format!("\"{term}\"")))
            {
                problems.push(format!(
                    "no {category} flag naming {term:?} (got {found:?})"
                ));
            }
        }
        if case.flags.is_empty() && !found.is_empty() {
            problems.push(format!("flagged: {found:?}"));
        }
        if !case.flags.is_empty() {
            if replaced(&actions).is_some() {
                problems.push("flagged and rewritten".to_owned());
            }
            if !note(&actions).is_some_and(|n| n.contains("not rewritten")) {
                problems.push("no note saying the draft was not rewritten".to_owned());
            }
        }
        if actions.iter().any(|a| matches!(a, Action::AutoReply(_))) {
            problems.push("returned an AutoReply".to_owned());
        }
        if !problems.is_empty() {
            failures.push(format!("{}:\n  {}", case.id, problems.join("\n  ")));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn keep_terms_are_never_touched() {
    let case = CASES
        .iter()
        .find(|c| c.id == "en-US/emoji-kept")
        .expect("case");
    // "iPhone" right after a removed preamble must not be capitalised.
    let mut host = MockHost::new();
    for (k, v) in case.config() {
        host = host.setting(k, v);
    }
    host.install();
    let e = event(
        case,
        "Just wanted to let you know that iPhone cases ship today.",
    );
    let actions = Tone::handle(e).expect("handled");
    let out = replaced(&actions).expect("rewritten");
    assert!(out.contains("\n\niPhone cases ship today."), "{out}");
}

/// Pieces of drafts that trip text rewriters: emoji sequences, joiners, unbalanced
/// markup, punctuation runs, placeholders glued to words.
const NEUTRAL: &[&str] = &[
    "\n",
    "\n\n",
    " ",
    "!!!",
    "!",
    "?!",
    "😊",
    "👨\u{200D}👩\u{200D}👧",
    "🇯🇵",
    "❤\u{FE0F}",
    ":)",
    "{{",
    "}}",
    "{{x}}",
    "`",
    "```code```",
    "@",
    "@maria",
    "a@b.co",
    "#",
    "#12",
    "ORD-1-2",
    "https://x.example/a!",
    "www.",
    "5 kg",
    "€",
    "10,5 €",
    "-- ",
    "\u{200D}",
    "\u{FE0F}",
    "\t",
    "iPhone",
    ".",
];

/// Pieces in one language each.
const BY_LANGUAGE: &[&[&str]] = &[
    &[
        "Hi Anna,",
        "Unfortunately",
        "refund",
        "I hope you are well.",
        "Just wanted to let you know that ",
        "in order to",
        "Kind regards,",
        "Dear",
        "Your order shipped.",
        "Thank you for your order.",
    ],
    &[
        "Guten Tag,",
        "Ihre Bestellung ist unterwegs.",
        "leider",
        "du",
        "Mit freundlichen Grüßen",
        "Ich hoffe, es geht Ihnen gut.",
        "Straße",
    ],
    &[
        "¡Hola!",
        "tú",
        "Su pedido llegó.",
        "Lamentablemente",
        "Un saludo,",
        "¿Algo más?",
    ],
    &[
        "様",
        "山田さん",
        "ありがとうございます",
        "！",
        "。",
        "ご不便",
        "発送しました。",
    ],
    &["你", "您好", "订单已发货。", "退款", "谢谢"],
    &["김민준 씨", "안녕하세요", "배송되었습니다.", "환불"],
    &["السلام عليكم", "،", "تم شحن طلبك.", "للأسف"],
];

const LOCALES: &[&str] = &[
    "en-US", "en-GB", "de-DE", "fr-FR", "es-ES", "es-MX", "pt-BR", "it-IT", "nl-NL", "ja-JP",
    "zh-CN", "zh-TW", "ko-KR", "ar-SA",
];

/// xorshift64*: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 33) as usize % n
    }

    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from[self.below(from.len())]
    }
}

/// Runs `draft` for `locale`; checks no AutoReply and byte-identical spans; returns
/// the output and the case used.
fn run_generated(locale: &str, draft: &str) -> (String, &'static Case) {
    let case = CASES
        .iter()
        .find(|c| c.locale == locale)
        .expect("a case per locale");
    let actions = run(case, draft);
    assert!(
        !actions.iter().any(|a| matches!(a, Action::AutoReply(_))),
        "{draft:?}"
    );
    let output = replaced(&actions).unwrap_or(draft).to_owned();
    for span in tone::spans::find(draft, &keep_terms()) {
        let p = &draft[span.start..span.end];
        assert!(
            output.matches(p).count() >= draft.matches(p).count(),
            "{locale}: {p:?} lost in {draft:?} -> {output:?}"
        );
    }
    (output, case)
}

/// Drafts in one language, with placeholders, emoji and punctuation glued anywhere:
/// never a panic, spans intact, and a second run changes nothing.
#[test]
fn generated_drafts_settle_after_one_run() {
    let mut rng = Rng(std::env::var("TONE_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x2545_F491_4F6C_DD1D));
    for i in 0..std::env::var("TONE_N")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(600)
    {
        let language = BY_LANGUAGE[rng.below(BY_LANGUAGE.len())];
        let glue = if rng.below(2) == 0 { "" } else { " " };
        let pieces: Vec<&str> = (0..1 + rng.below(12))
            .map(|_| {
                if rng.below(2) == 0 {
                    rng.pick(language)
                } else {
                    rng.pick(NEUTRAL)
                }
            })
            .collect();
        let draft = pieces.join(glue);
        let locale = LOCALES[i % LOCALES.len()];
        let (output, case) = run_generated(locale, &draft);
        let again = run(case, &output);
        assert_eq!(
            replaced(&again),
            None,
            "{locale}: not idempotent for {draft:?} -> {output:?}"
        );
    }
}

/// Drafts that mix every script: never a panic, spans intact. (A second run may
/// decide another reply language when the first removed the words that decided it.)
#[test]
fn mixed_script_drafts_never_panic() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let all: Vec<&str> = NEUTRAL
        .iter()
        .chain(BY_LANGUAGE.iter().flat_map(|l| l.iter()))
        .copied()
        .collect();
    for i in 0..600 {
        let draft: String = (0..1 + rng.below(12)).map(|_| rng.pick(&all)).collect();
        run_generated(LOCALES[i % LOCALES.len()], &draft);
    }
}

#[test]
fn a_large_draft_is_handled() {
    let case = CASES.iter().find(|c| c.locale == "en-GB").expect("case");
    let paragraph = "I hope you are well. Just wanted to let you know that order #4471 shipped!!! \
                     See https://shop.example.com/t?id=4471 😊 Please don't hesitate to reach out if you have any questions.\n\n";
    let draft = paragraph.repeat(60_000 / paragraph.len());
    let start = std::time::Instant::now();
    let actions = run(case, &draft);
    let output = replaced(&actions).expect("rewritten");
    assert!(!output.contains("I hope"));
    assert_eq!(
        output.matches("#4471").count(),
        draft.matches("#4471").count()
    );
    // Generous: a debug build on a slow machine; the component is optimised.
    assert!(start.elapsed().as_secs() < 60, "took {:?}", start.elapsed());
}

/// Prints every case's output: `cargo test -p tone --test tone -- --ignored --nocapture show`.
#[test]
#[ignore]
fn show() {
    for case in CASES {
        let actions = run(case, case.draft);
        println!(
            "=== {}\n{}\n--- note\n{}\n",
            case.id,
            replaced(&actions).unwrap_or("(unchanged)"),
            note(&actions).unwrap_or("(none)")
        );
    }
}
