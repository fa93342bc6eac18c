//! The commands the plugin offers admins (`crossdesk plugin exec translation ...`):
//! `import-tmx` and `export-tmx` for the tenant's translation memory, `import-terms`
//! for its glossary, `unknown-words` and `accept-word` for the words its engine
//! did not know, `languages` for what its engine reaches. The file formats are
//! [`crate::exchange`]'s; this module reads the arguments, runs the exchange on the
//! tenant's storage and says what it did.

use crossdesk_sdk::kv::KvError;
use crossdesk_sdk::{CommandInput, CommandOutput, CommandSpec, Param, PluginError};

use crate::exchange::{self, ExchangeError};

/// The commands, as the manifest offers them.
pub(crate) fn command_specs() -> Vec<CommandSpec> {
    vec![
        CommandSpec::new(
            "import-tmx",
            "Add a TMX file's translation units to the tenant's translation memory",
        )
        .param(Param::input_file("file", "The TMX 1.4 file").required())
        .for_tenant(),
        CommandSpec::new(
            "export-tmx",
            "Write the tenant's translation memory as TMX (to stdout without --output)",
        )
        .param(Param::output_file("output", "The TMX file to write"))
        .for_tenant(),
        CommandSpec::new(
            "import-terms",
            "Add a CSV term list (`source_language,target_language,source,target`; \
             no target = never translate) to the tenant's glossary",
        )
        .param(Param::input_file("file", "The CSV term list").required())
        .for_tenant(),
        CommandSpec::new(
            "unknown-words",
            "List the words of customers' messages no engine knew, most frequent first, \
             with their regions, contexts and the translations agents' corrections suggest",
        )
        .param(Param::value("language", "Only this language (ISO 639-1)"))
        .param(Param::value("top", "How many (default 20)"))
        .for_tenant(),
        CommandSpec::new(
            "accept-word",
            "Accept a translation of an unknown word: a glossary term from now on",
        )
        .param(
            Param::value("word", "The customers' word")
                .positional()
                .required(),
        )
        .param(
            Param::value("translation", "Its translation")
                .positional()
                .required(),
        )
        .param(Param::value("language", "The word's language (ISO 639-1)").required())
        .param(Param::value(
            "target",
            "The language it is translated into (default: the agents')",
        ))
        .for_tenant(),
        CommandSpec::new(
            "languages",
            "List the languages the tenant's engine reaches, with the route each way \
             between each and the agents' language (a Markdown table)",
        )
        .for_tenant(),
    ]
}

/// Runs `command` with the host's parsed `input`.
pub(crate) fn run_command(
    command: &str,
    input: &CommandInput,
) -> Result<CommandOutput, PluginError> {
    match command {
        "import-tmx" => import_tmx(input),
        "export-tmx" => export_tmx(input),
        "import-terms" => import_terms(input),
        "languages" => languages(input),
        "unknown-words" => unknown_words(input),
        "accept-word" => accept_word(input),
        other => Err(PluginError::new(format!(
            "unknown command '{other}' (import-tmx, export-tmx, import-terms, languages, \
             unknown-words or accept-word)"
        ))),
    }
}

/// The tenant the command runs for; the manifest asks for one, so the host always
/// names it.
fn tenant<'a>(command: &str, input: &'a CommandInput) -> Result<&'a str, PluginError> {
    input
        .tenant
        .as_deref()
        .ok_or_else(|| PluginError::new(format!("{command} runs for a tenant; none was given")))
}

/// The text of input file `file`.
fn file_text<'a>(command: &str, input: &'a CommandInput) -> Result<&'a str, PluginError> {
    let content = input
        .file("file")
        .ok_or_else(|| PluginError::new(format!("{command} needs the input file `file`")))?;
    std::str::from_utf8(content).map_err(|_| PluginError::new("the file is not UTF-8 text"))
}

/// A storage failure, saying what was being done (the host's message names the
/// plugin and tenant, e.g. when storage is not granted).
fn storage(doing: &str, e: KvError) -> PluginError {
    PluginError::new(format!("{doing}: {e}"))
}

fn exchange_error(doing: &str, e: ExchangeError) -> PluginError {
    match e {
        ExchangeError::Kv(e) => storage(doing, e),
        other => PluginError::new(other.to_string()),
    }
}

fn import_tmx(input: &CommandInput) -> Result<CommandOutput, PluginError> {
    let tenant = tenant("import-tmx", input)?;
    let records = exchange::parse_tmx(file_text("import-tmx", input)?)
        .map_err(|e| PluginError::new(e.to_string()))?;
    let changed = exchange::import_tm(&records)
        .map_err(|e| storage("cannot write the translation memory", e))?;
    Ok(CommandOutput::text(format!(
        "{} translation(s) read, {changed} new or changed in tenant '{tenant}'\n",
        records.len()
    )))
}

fn export_tmx(input: &CommandInput) -> Result<CommandOutput, PluginError> {
    tenant("export-tmx", input)?;
    let records = exchange::export_tm()
        .map_err(|e| exchange_error("cannot read the translation memory", e))?;
    let tmx = exchange::write_tmx(&records);
    // Without --output the TMX is printed, as a shell pipeline expects; with it, the
    // host writes the file to the path given.
    Ok(match input.value("output") {
        None => CommandOutput::text(tmx),
        Some(_) => CommandOutput::default().file("output", "memory.tmx", tmx.into_bytes()),
    })
}

fn import_terms(input: &CommandInput) -> Result<CommandOutput, PluginError> {
    let tenant = tenant("import-terms", input)?;
    let terms = exchange::parse_terms(file_text("import-terms", input)?)
        .map_err(|e| PluginError::new(e.to_string()))?;
    let changed =
        exchange::import_terms(&terms).map_err(|e| storage("cannot write the glossary", e))?;
    Ok(CommandOutput::text(format!(
        "{} term(s) read, {changed} new or changed in tenant '{tenant}'\n",
        terms.len()
    )))
}

/// A language parameter, canonical.
fn language_value(name: &str, value: &str) -> Result<&'static str, PluginError> {
    crate::lang::from_code(value)
        .ok_or_else(|| PluginError::new(format!("--{name}: unknown language {value:?}")))
}

fn unknown_words(input: &CommandInput) -> Result<CommandOutput, PluginError> {
    let tenant = tenant("unknown-words", input)?;
    let language = input
        .value("language")
        .map(|l| language_value("language", l))
        .transpose()?;
    let top: usize = input.parse("top")?.unwrap_or(20);
    // Suggestions are kept by standard: the agents' own.
    let agent = crate::Settings::load()?.agent_standard;
    let words = crate::vocabulary::top(language, top, crossdesk_sdk::clock::now_ms())
        .map_err(|e| storage("cannot read the unknown words", e))?;
    if words.is_empty() {
        return Ok(CommandOutput::text(format!(
            "No unknown words in tenant '{tenant}'{}.\n",
            language.map(|l| format!(" for {l}")).unwrap_or_default()
        )));
    }
    let mut out = String::from(
        "| word | language | seen | regions | contexts | suggested |\n| --- | --- | --- | --- | --- | --- |\n",
    );
    for w in &words {
        let regions: Vec<String> = w.regions.iter().map(|(r, n)| format!("{r} {n}")).collect();
        let contexts: Vec<String> = w
            .examples
            .iter()
            .map(|e| format!("«{}»", e.source))
            .collect();
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} |\n",
            w.word,
            w.language,
            w.count,
            regions.join(", "),
            contexts.join(" "),
            w.best_suggestion(&agent).unwrap_or("—")
        ));
    }
    Ok(CommandOutput::text(out))
}

fn accept_word(input: &CommandInput) -> Result<CommandOutput, PluginError> {
    let tenant = tenant("accept-word", input)?;
    let missing = |name: &str| PluginError::new(format!("accept-word needs {name}"));
    let word = input.value("word").ok_or_else(|| missing("the word"))?;
    let translation = input
        .value("translation")
        .ok_or_else(|| missing("the translation"))?;
    let src = language_value(
        "language",
        input
            .value("language")
            .ok_or_else(|| missing("--language"))?,
    )?;
    let tgt = match input.value("target") {
        // A standard: `zh-TW` is kept as `zh-Hant`, apart from `zh`.
        Some(t) => crate::memory::standard_of_code(t)
            .ok_or_else(|| PluginError::new(format!("--target: unknown language {t:?}")))?,
        None => crate::Settings::load()?.agent_standard,
    };
    crate::vocabulary::accept(src, &tgt, word, translation)
        .map_err(|e| storage("cannot write the glossary", e))?;
    Ok(CommandOutput::text(format!(
        "'{word}' ({src}) is translated as '{translation}' ({tgt}) in tenant '{tenant}' from now on\n"
    )))
}

fn languages(input: &CommandInput) -> Result<CommandOutput, PluginError> {
    tenant("languages", input)?;
    let settings = crate::Settings::load()?;
    let agent = settings.agent_language.clone();
    let rows = crate::reach::reach(&settings, &agent)?;
    let names: Vec<&str> = settings.engines.iter().map(|e| e.name()).collect();
    Ok(CommandOutput::text(crate::reach::table(
        &agent,
        &names.join(", "),
        settings.max_legs,
        &rows,
    )))
}

#[cfg(test)]
mod tests {
    use crossdesk_sdk::testing::MockHost;
    use crossdesk_sdk::{Plugin, kv};

    use super::*;
    use crate::Translation;
    use crate::memory;

    const TMX: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<tmx version="1.4">
  <header srclang="en-US" datatype="plaintext" segtype="sentence" adminlang="en"
          o-tmf="x" creationtool="X" creationtoolversion="1"/>
  <body>
    <tu>
      <tuv xml:lang="en-US"><seg>Where is my   order?</seg></tuv>
      <tuv xml:lang="es-ES"><seg>¿Dónde está mi pedido?</seg></tuv>
      <tuv xml:lang="fr-FR"><seg>Où est ma commande ?</seg></tuv>
    </tu>
    <tu>
      <tuv xml:lang="en"><seg>Refunds &amp; returns</seg></tuv>
      <tuv xml:lang="es"><seg>Reembolsos y devoluciones</seg></tuv>
    </tu>
  </body>
</tmx>"#;

    fn run(command: &str, input: CommandInput) -> Result<CommandOutput, PluginError> {
        Translation::run_command(command, input.for_tenant("acme"))
    }

    fn file_input(content: &str) -> CommandInput {
        CommandInput::new().with_file("file", content.as_bytes().to_vec())
    }

    #[test]
    fn the_manifest_offers_six_tenant_commands() {
        let m = Translation::manifest();
        let names: Vec<&str> = m.commands.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "import-tmx",
                "export-tmx",
                "import-terms",
                "unknown-words",
                "accept-word",
                "languages"
            ]
        );
        assert!(m.commands.iter().all(|c| c.needs_tenant));
        let import = &m.commands[0].params[0];
        assert_eq!(import.name, "file");
        assert!(import.required && import.positional);
        assert_eq!(m.commands[1].params[0].name, "output");
        assert!(m.datasets.is_empty());
    }

    #[test]
    fn imported_tmx_is_used_and_exports_back_the_same() {
        let host = MockHost::new().grant_kv().install();
        let out = run("import-tmx", file_input(TMX)).expect("import");
        assert_eq!(
            out.text,
            "3 translation(s) read, 3 new or changed in tenant 'acme'\n"
        );
        assert!(out.files.is_empty());
        // The plugin reads it: the memory answers the normalized source.
        let hit = memory::lookup_tm("en", "es", "Where is my order?")
            .expect("lookup")
            .expect("present");
        assert_eq!(hit.target, "¿Dónde está mi pedido?");
        assert_eq!(hit.origin, "import");
        // Again: nothing changes.
        let again = run("import-tmx", file_input(TMX)).expect("import");
        assert_eq!(
            again.text,
            "3 translation(s) read, 0 new or changed in tenant 'acme'\n"
        );

        // Without --output: the TMX is the printed text.
        let printed = run("export-tmx", CommandInput::new()).expect("export");
        assert!(printed.files.is_empty());
        let back = exchange::parse_tmx(&printed.text).expect("exported TMX parses");
        assert_eq!(back, exchange::export_tm().expect("records"));
        assert_eq!(back.len(), 3);
        assert_eq!(back, exchange::parse_tmx(TMX).map(sorted).expect("parse"));

        // With --output: the same TMX as the output file, nothing printed.
        let written = run(
            "export-tmx",
            CommandInput::new().with_value("output", "out/memory.tmx"),
        )
        .expect("export");
        assert_eq!(written.text, "");
        assert_eq!(written.files.len(), 1);
        let file = &written.files[0];
        assert_eq!(
            (file.param.as_str(), file.name.as_str()),
            ("output", "memory.tmx")
        );
        assert_eq!(file.content, printed.text.as_bytes());

        // Exported into an empty memory, it gives back the same entries.
        drop(host);
        let _fresh = MockHost::new().grant_kv().install();
        let out = run("import-tmx", file_input(&printed.text)).expect("re-import");
        assert_eq!(
            out.text,
            "3 translation(s) read, 3 new or changed in tenant 'acme'\n"
        );
        let again = run("export-tmx", CommandInput::new()).expect("export");
        assert_eq!(again.text, printed.text);
    }

    fn sorted(mut records: Vec<exchange::TmRecord>) -> Vec<exchange::TmRecord> {
        records.sort_by(|a, b| {
            (&a.source_language, &a.target_language, &a.source).cmp(&(
                &b.source_language,
                &b.target_language,
                &b.source,
            ))
        });
        records
    }

    #[test]
    fn a_term_list_fills_the_glossary() {
        let host = MockHost::new().grant_kv().install();
        let csv = "source_language,target_language,source,target\n\
                   en,es,refund,reembolso\n\
                   es-MX,en,chamba,job\n\
                   ,,Crossdesk Pro,\n";
        let out = run("import-terms", file_input(csv)).expect("import");
        assert_eq!(
            out.text,
            "3 term(s) read, 3 new or changed in tenant 'acme'\n"
        );
        assert_eq!(
            host.kv_value("glossary/term/en/es/refund"),
            Some(b"reembolso".to_vec())
        );
        let glossary = memory::load_glossary("es", "en").expect("glossary");
        assert_eq!(glossary.keep, ["Crossdesk Pro"]);
        assert_eq!(glossary.terms, [("chamba".to_owned(), "job".to_owned())]);
        let again = run("import-terms", file_input(csv)).expect("import");
        assert_eq!(
            again.text,
            "3 term(s) read, 0 new or changed in tenant 'acme'\n"
        );
        let err = run(
            "import-terms",
            file_input("source_language,target_language,source,target\nxx,es,a,b\n"),
        )
        .expect_err("bad language");
        assert_eq!(err.message, "term list line 2: unknown language 'xx'");
    }

    #[test]
    fn a_malformed_tmx_is_refused_and_nothing_is_written() {
        let host = MockHost::new().grant_kv().install();
        // The first unit is good, the second lacks a translation: nothing is stored.
        let half = r#"<tmx version="1.4"><header srclang="en"/><body>
            <tu><tuv xml:lang="en"><seg>Hi</seg></tuv><tuv xml:lang="es"><seg>Hola</seg></tuv></tu>
            <tu><tuv xml:lang="en"><seg>Bye</seg></tuv></tu></body></tmx>"#;
        let err = run("import-tmx", file_input(half)).expect_err("one variant");
        assert_eq!(
            err.message,
            "TMX translation unit 2: 1 language variant(s); a translation needs two"
        );
        assert!(!err.retryable);
        assert_eq!(host.kv_value(&memory::tm_key("en", "es", "Hi")), None);
        // A truncated file (its first unit complete) is refused, not half imported.
        let truncated = &TMX[..TMX.rfind("<tu>").expect("second unit")];
        let err = run("import-tmx", file_input(truncated)).expect_err("truncated");
        assert_eq!(
            err.message,
            "not a readable TMX file: the file ends before </tmx>"
        );
        let err = run("import-tmx", file_input("<tmx><tu></tmx>")).expect_err("mismatched");
        assert!(
            err.message.starts_with("not a readable TMX file: "),
            "{}",
            err.message
        );
        let err = run("import-tmx", file_input("<html/>")).expect_err("not TMX");
        assert_eq!(err.message, "not a readable TMX file: no <tmx> element");
        let err = run(
            "import-tmx",
            CommandInput::new().with_file("file", vec![0xff, 0xfe, 0x3c]),
        )
        .expect_err("UTF-16");
        assert_eq!(err.message, "the file is not UTF-8 text");
        assert!(kv::list_keys("").expect("list").is_empty());
    }

    #[test]
    fn storage_not_granted_is_said_plainly() {
        let _host = MockHost::new().install();
        let err = run("import-tmx", file_input(TMX)).expect_err("denied");
        assert!(
            err.message
                .starts_with("cannot write the translation memory: storage denied: "),
            "{}",
            err.message
        );
        let err = run("export-tmx", CommandInput::new()).expect_err("denied");
        assert!(
            err.message
                .starts_with("cannot read the translation memory: storage denied: "),
            "{}",
            err.message
        );
    }

    #[test]
    fn bad_invocations_are_named() {
        let _host = MockHost::new().grant_kv().install();
        let err = run("import-xliff", CommandInput::new()).expect_err("unknown");
        assert_eq!(
            err.message,
            "unknown command 'import-xliff' (import-tmx, export-tmx, import-terms, languages, unknown-words or accept-word)"
        );
        let err = run("import-tmx", CommandInput::new()).expect_err("no file");
        assert_eq!(err.message, "import-tmx needs the input file `file`");
        let err =
            Translation::run_command("export-tmx", CommandInput::new()).expect_err("no tenant");
        assert_eq!(err.message, "export-tmx runs for a tenant; none was given");
    }
}
