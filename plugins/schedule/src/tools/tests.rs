//! Native tests of the admin tools through the plugin's own entry points
//! (`Schedule::import_dataset`, `Schedule::run_command`), with the SDK's stand-in
//! host for storage, settings and the contact history.

use crossdesk_sdk::contacts::ContactCount;
use crossdesk_sdk::testing::MockHost;
use crossdesk_sdk::{CommandInput, CommandOutput, Plugin, PluginError, kv};

use crate::generate::generate;
use crate::{ROSTER_KEY, Roster, Schedule};

const ROSTER_JSON: &str = r#"{"agents": [
    {"id": "a1", "name": "Ana", "languages": ["es-ES", "en"], "time_zone": "Europe/Madrid",
     "availability": ["mon-fri 09:00-17:00"], "max_hours_per_week": 32},
    {"id": "b2", "languages": ["ja"], "time_zone": "Asia/Tokyo",
     "availability": ["daily 22:00-06:00"]}
]}"#;

const ROSTER_CSV: &str = "id,name,languages,time_zone,availability,group\n\
    a1,Ana,es-ES;en,Europe/Madrid,mon-fri 09:00-17:00,support-es\n\
    b2,,ja,Asia/Tokyo,daily 22:00-06:00;sat 10:00-12:00,\n";

fn run(command: &str, input: CommandInput) -> Result<CommandOutput, PluginError> {
    Schedule::run_command(command, input)
}

fn erlang(args: &[(&str, &str)]) -> Result<CommandOutput, PluginError> {
    let input = args.iter().fold(CommandInput::new(), |input, (k, v)| {
        input.with_value(*k, *v)
    });
    run("erlang", input)
}

fn file<'a>(output: &'a CommandOutput, name: &str) -> &'a [u8] {
    output
        .files
        .iter()
        .find(|f| f.name == name)
        .map(|f| f.content.as_slice())
        .unwrap_or_else(|| panic!("no file {name} in {:?}", output.files))
}

#[test]
fn the_manifest_offers_the_roster_and_the_commands() {
    let manifest = Schedule::manifest();
    assert_eq!(manifest.datasets.len(), 1);
    assert_eq!(manifest.datasets[0].name, "roster");
    assert_eq!(manifest.datasets[0].formats, ["json", "csv"]);
    let names: Vec<&str> = manifest.commands.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["erlang", "roster-show", "generate", "plan"]);
    let tenant: Vec<bool> = manifest.commands.iter().map(|c| c.needs_tenant).collect();
    assert_eq!(tenant, [false, true, false, true]);
    assert!(
        manifest
            .settings
            .iter()
            .any(|s| s.starts_with("plan_time_zone"))
    );
    let plan = &manifest.commands[3];
    assert!(plan.params.iter().any(|p| p.name == "set" && p.repeated));
}

#[test]
fn a_roster_imports_from_json_and_csv_with_the_same_summary() {
    for (format, content) in [("json", ROSTER_JSON), ("csv", ROSTER_CSV)] {
        let entries = Schedule::import_dataset("roster", format, content.as_bytes()).expect(format);
        assert_eq!(entries.prefix, ROSTER_KEY);
        assert_eq!(entries.records, 2);
        assert_eq!(entries.summary, "2 agent(s), 3 language(s): en, es, ja");
        assert_eq!(entries.entries.len(), 1);
        let (key, value) = &entries.entries[0];
        assert_eq!(key, ROSTER_KEY);
        // Stored as the plugin reads it back.
        let records = serde_json::from_slice(value).expect("stored JSON");
        let stored = Roster::from_records(records).expect("stored roster");
        assert_eq!(stored.agents[1].id, "b2");
    }
}

#[test]
fn a_bad_roster_file_is_refused_with_the_reason() {
    let bad_zone = ROSTER_JSON.replace("Asia/Tokyo", "Mars/Olympus");
    let err = Schedule::import_dataset("roster", "json", bad_zone.as_bytes()).unwrap_err();
    assert!(err.message.contains("agent 'b2'"), "{}", err.message);
    assert!(err.message.contains("time_zone"), "{}", err.message);

    let err = Schedule::import_dataset("roster", "csv", b"id,name\na1,Ana\n").unwrap_err();
    assert!(
        err.message.contains("'languages' column"),
        "{}",
        err.message
    );

    let err = Schedule::import_dataset("roster", "json", &[0xff, 0xfe]).unwrap_err();
    assert_eq!(err.message, "the content is not UTF-8 text");

    let err = Schedule::import_dataset("roster", "xml", b"<a/>").unwrap_err();
    assert!(err.message.contains("'xml'") && err.message.contains("json or csv"));

    let err = Schedule::import_dataset("catalog", "json", b"[]").unwrap_err();
    assert!(err.message.contains("'catalog'") && err.message.contains("'roster'"));
}

#[test]
fn the_erlang_command_prints_the_classic_example() {
    let args = [
        ("contacts", "100"),
        ("interval", "30m"),
        ("aht", "180s"),
        ("target", "20s"),
        ("service-level", "0.8"),
        ("max-occupancy", "0.85"),
        ("shrinkage", "0.3"),
    ];
    let table = erlang(&args).expect("table").text;
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines[0], "traffic                 10.00 Erlangs");
    assert_eq!(lines[1], "agents needed           14");
    assert_eq!(lines[2], "scheduled head count    20 (shrinkage 30%)");
    assert_eq!(
        lines[3],
        "service level           88.84% answered within 20 s"
    );
    assert!(lines[4].starts_with("probability of waiting  "), "{table}");
    assert!(lines[5].starts_with("average speed of answer "), "{table}");
    assert!(
        lines[6].starts_with("occupancy               71.43%"),
        "{table}"
    );
    assert_eq!(lines.len(), 7);

    let mut json_args = args.to_vec();
    json_args.push(("json", "true"));
    let json = erlang(&json_args).expect("json");
    assert!(json.files.is_empty());
    let json: serde_json::Value = serde_json::from_str(&json.text).expect("JSON");
    assert_eq!(json["input"]["interval_secs"], 1800.0);
    assert_eq!(json["input"]["aht_secs"], 180.0);
    assert_eq!(json["staffing"]["traffic_erlangs"], 10.0);
    assert_eq!(json["staffing"]["agents"], 14);
    assert_eq!(json["staffing"]["scheduled"], 20);

    // Defaults where the host passed nothing: 30m, 20s, 0.8, no cap, no shrinkage.
    let defaults = erlang(&[("contacts", "100"), ("aht", "3m")]).expect("defaults");
    assert!(
        defaults
            .text
            .contains("scheduled head count    14 (shrinkage 0%)")
    );
}

#[test]
fn erlang_errors_name_the_parameter() {
    let message = |args: &[(&str, &str)]| erlang(args).unwrap_err().message;
    assert_eq!(
        message(&[("contacts", "100"), ("aht", "0s")]),
        "--aht '0s': must be a finite number > 0"
    );
    let negative = message(&[("contacts", "100"), ("aht", "-3s")]);
    assert!(negative.starts_with("--aht '-3s': "), "{negative}");
    assert!(negative.ends_with("(e.g. 30m, 180s, 1h)"), "{negative}");
    assert_eq!(message(&[("aht", "3m")]), "--contacts is required");
    assert!(message(&[("contacts", "many"), ("aht", "3m")]).starts_with("--contacts 'many': "));
    assert_eq!(
        message(&[("contacts", "100"), ("aht", "3m"), ("service-level", "1.5")]),
        "--service-level '1.5': must be strictly between 0 and 1"
    );
    assert!(
        message(&[("contacts", "1"), ("aht", "3m"), ("interval", "0s")])
            .starts_with("--interval '0s'")
    );
}

#[test]
fn generate_gives_the_same_files_for_the_same_seed() {
    MockHost::new().install();
    let input = |seed: &str| {
        CommandInput::new()
            .with_value("seed", seed)
            .with_value("weeks", "1")
            .with_value("week", "2026-12-07")
    };
    let first = run("generate", input("7")).expect("generate");
    let again = run("generate", input("7")).expect("generate");
    assert!(first == again, "the same seed gave different files");
    let names: Vec<(&str, &str)> = first
        .files
        .iter()
        .map(|f| (f.param.as_str(), f.name.as_str()))
        .collect();
    assert_eq!(names, [("", "roster.json"), ("", "history.csv")]);
    assert!(first.text.starts_with("seed 7: "), "{}", first.text);
    assert!(first.text.contains("before 2026-12-07"), "{}", first.text);
    let roster = std::str::from_utf8(file(&first, "roster.json")).expect("UTF-8");
    assert!(Roster::from_json(roster).expect("roster").agents.len() >= 33);
    let history = std::str::from_utf8(file(&first, "history.csv")).expect("UTF-8");
    assert!(history.starts_with("bucket_start,language,channel,arrivals,handled,handle_secs\n"));

    let other = run("generate", input("8")).expect("generate");
    assert!(file(&other, "history.csv") != file(&first, "history.csv"));

    let err = run("generate", CommandInput::new().with_value("weeks", "0")).unwrap_err();
    assert!(err.message.starts_with("--weeks '0'"), "{}", err.message);
    let err = run(
        "generate",
        CommandInput::new().with_value("week", "next monday"),
    )
    .unwrap_err();
    assert!(
        err.message.starts_with("--week 'next monday'"),
        "{}",
        err.message
    );
}

/// A tenant with the generated roster (seed 42) in storage and four weeks of
/// generated history before the week of 2026-12-07.
fn planning_tenant() -> std::rc::Rc<MockHost> {
    let week = "2026-12-07T00:00Z".parse().expect("timestamp");
    let generated = generate(42, 4, week);
    let history = generated
        .history
        .iter()
        .map(|row| ContactCount {
            bucket_start_ms: row.bucket_start.as_millisecond(),
            language: row.language.clone(),
            channel: row.channel.clone(),
            arrivals: row.arrivals,
            handled: row.handled,
            handle_secs: row.handle_secs,
        })
        .collect();
    let host = MockHost::new()
        .grant_kv()
        .contact_history(history)
        .install();
    kv::put(ROSTER_KEY, generated.roster.to_json().as_bytes()).expect("roster stored");
    host
}

#[test]
fn plan_a_generated_week_with_and_without_the_heatmap() {
    let _host = planning_tenant();
    let input = || {
        CommandInput::new()
            .for_tenant("acme")
            .with_value("week", "2026-12-09")
    };
    let table = run("plan", input()).expect("plan");
    assert!(
        table
            .text
            .starts_with("Tenant 'acme', week of 2026-12-07; forecast: "),
        "{}",
        table.text
    );
    assert!(
        table.text.contains("(4 week(s) of history)"),
        "{}",
        table.text
    );
    for language in ["en", "es", "de", "ja", "pt"] {
        assert!(
            table.text.contains(language),
            "{language} in {}",
            table.text
        );
    }
    assert_eq!(table.files.len(), 1);
    assert_eq!(table.files[0].param, "heatmap");
    assert_eq!(table.files[0].name, "plan-acme-2026-12-07.svg");
    let svg = std::str::from_utf8(&table.files[0].content).expect("UTF-8");
    assert!(
        svg.starts_with("<svg") || svg.starts_with("<?xml"),
        "{svg:.80}"
    );

    let json = run(
        "plan",
        input()
            .with_value("json", "true")
            .with_value("no-heatmap", "true")
            .with_value("set", "interval_minutes=60")
            .with_value("set", "plan_time_zone=Europe/Madrid"),
    )
    .expect("plan");
    assert!(json.files.is_empty(), "no heatmap: {:?}", json.files);
    let plan: serde_json::Value = serde_json::from_str(&json.text).expect("JSON plan");
    assert_eq!(plan["interval_minutes"], 60);
    assert!(!plan["shifts"].as_array().expect("shifts").is_empty());
    // The week is Monday 00:00 in the plan's zone (CET, UTC+1).
    assert_eq!(plan["week_start"], "2026-12-06T23:00:00Z");
}

#[test]
fn plan_errors_name_the_parameter_or_setting() {
    let _host = planning_tenant();
    let message = |input: CommandInput| {
        run("plan", input.for_tenant("acme"))
            .expect_err("refused")
            .message
    };
    let set = |item: &str| message(CommandInput::new().with_value("set", item));
    assert!(set("interval_minutes").starts_with("--set 'interval_minutes': expected KEY=VALUE"));
    let unknown = set("faq_from=x");
    assert!(unknown.starts_with("--set 'faq_from=x': 'faq_from' is not a planning setting"));
    assert_eq!(
        set("interval_minutes=7"),
        "--set 'interval_minutes=7': 7 is not one of 15, 30, 60"
    );
    assert_eq!(
        set("plan_time_zone=Mars/Olympus"),
        "--set 'plan_time_zone=Mars/Olympus': not an IANA time zone"
    );
    let smoothing = message(CommandInput::new().with_value("smoothing", "2"));
    assert_eq!(smoothing, "--smoothing '2': must be in (0, 1]");
    let both = message(
        CommandInput::new()
            .with_value("heatmap", "plan.svg")
            .with_value("no-heatmap", "true"),
    );
    assert!(both.contains("--heatmap") && both.contains("--no-heatmap"));

    let no_tenant = run("plan", CommandInput::new()).unwrap_err().message;
    assert!(no_tenant.contains("--tenant"), "{no_tenant}");
}

#[test]
fn a_setting_of_the_tenant_is_named_when_it_is_wrong() {
    MockHost::new()
        .grant_kv()
        .setting("aht_seconds", "slow")
        .contact_history(vec![])
        .install();
    let err = run("plan", CommandInput::new().for_tenant("acme")).unwrap_err();
    assert_eq!(err.message, "setting aht_seconds 'slow': not a number");
}

#[test]
fn roster_show_prints_the_stored_roster_or_says_how_to_import_one() {
    MockHost::new().grant_kv().install();
    let missing = run("roster-show", CommandInput::new().for_tenant("acme")).unwrap_err();
    assert!(
        missing.message.contains("import-data"),
        "{}",
        missing.message
    );

    let entries =
        Schedule::import_dataset("roster", "json", ROSTER_JSON.as_bytes()).expect("roster");
    kv::put(ROSTER_KEY, &entries.entries[0].1).expect("stored");
    let shown = run("roster-show", CommandInput::new().for_tenant("acme")).expect("shown");
    let lines: Vec<&str> = shown.text.lines().collect();
    assert_eq!(
        lines,
        [
            "a1             Europe/Madrid      es,en        32h/wk  mon-fri 09:00-17:00",
            "b2             Asia/Tokyo         ja           40h/wk  daily 22:00-06:00",
        ]
    );
}

#[test]
fn an_unknown_command_names_the_commands_offered() {
    let err = run("forecast", CommandInput::new()).unwrap_err();
    assert_eq!(
        err.message,
        "unknown command 'forecast': the schedule plugin offers erlang, roster-show, generate, plan"
    );
}
