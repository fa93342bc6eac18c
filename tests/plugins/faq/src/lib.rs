//! A plugin as a third party would write it, with nothing but the SDK: canned
//! answers by keyword. Admins import the answers as a dataset (`answers`, CSV
//! lines `keyword,answer` or a JSON object), list and export them with commands;
//! a customer message naming a keyword gets the answer as a note. `echo` needs no
//! tenant and shows input files and values reaching a command.

use crossdesk_sdk::{
    Action, CommandInput, CommandOutput, CommandSpec, DatasetEntries, DatasetSpec, Event,
    EventKind, Manifest, Param, Plugin, PluginError, kv,
};

const PREFIX: &str = "answer/";

/// The plugin.
pub struct Faq;

impl Plugin for Faq {
    fn manifest() -> Manifest {
        Manifest::new("faq", "1.0.0")
            .describe("Canned answers by keyword")
            .handles(EventKind::CustomerMessage)
            .wants_kv()
            .offers_dataset(
                DatasetSpec::new("answers", "Answers by keyword").formats(&["csv", "json"]),
            )
            .offers_command(CommandSpec::new("list", "Lists the answers").for_tenant())
            .offers_command(
                CommandSpec::new("export", "Writes the answers as CSV")
                    .param(Param::output_file("output", "The CSV file"))
                    .for_tenant(),
            )
            .offers_command(
                CommandSpec::new("echo", "Prints a file's lines, repeated")
                    .param(Param::input_file("file", "A text file").required())
                    .param(Param::value("times", "How often").default_value("1")),
            )
    }

    fn handle(event: Event) -> Result<Vec<Action>, PluginError> {
        let text = event.text.to_lowercase();
        let mut notes = Vec::new();
        for (keyword, answer) in answers()? {
            if text.contains(&keyword) {
                notes.push(Action::InternalNote(format!("Suggested answer: {answer}")));
            }
        }
        Ok(notes)
    }

    fn import_dataset(
        dataset: &str,
        format: &str,
        content: &[u8],
    ) -> Result<DatasetEntries, PluginError> {
        if dataset != "answers" {
            return Err(PluginError::new(format!(
                "no dataset '{dataset}' (answers)"
            )));
        }
        let text = std::str::from_utf8(content)
            .map_err(|_| PluginError::new("the content is not UTF-8 text"))?;
        let pairs = match format {
            "csv" => parse_csv(text)?,
            "json" => parse_json(text)?,
            other => return Err(PluginError::new(format!("no format '{other}' (csv, json)"))),
        };
        let mut entries = DatasetEntries::new(PREFIX);
        for (keyword, answer) in &pairs {
            entries = entries.entry(format!("{PREFIX}{keyword}"), answer.as_bytes().to_vec());
        }
        let count = u32::try_from(pairs.len()).unwrap_or(u32::MAX);
        Ok(entries.summary(count, format!("{count} answer(s)")))
    }

    fn run_command(command: &str, input: CommandInput) -> Result<CommandOutput, PluginError> {
        match command {
            "list" => Ok(CommandOutput::text(
                answers()?
                    .iter()
                    .map(|(k, a)| format!("{k}: {a}\n"))
                    .collect::<String>(),
            )),
            "export" => {
                let csv: String = answers()?
                    .iter()
                    .map(|(k, a)| format!("{k},{a}\n"))
                    .collect();
                Ok(CommandOutput::text("exported\n").file("output", "answers.csv", csv.into()))
            }
            "echo" => {
                let file = input.file("file").unwrap_or_default();
                let times: usize = input.parse("times")?.unwrap_or(1);
                let text = String::from_utf8_lossy(file).repeat(times.min(100));
                Ok(CommandOutput::text(text))
            }
            other => Err(PluginError::new(format!("no command '{other}'"))),
        }
    }
}

/// The imported answers, by keyword.
fn answers() -> Result<Vec<(String, String)>, PluginError> {
    let mut all = Vec::new();
    for key in kv::list_keys(PREFIX)? {
        if let Some(value) = kv::get(&key)? {
            let keyword = key.trim_start_matches(PREFIX).to_owned();
            all.push((keyword, String::from_utf8_lossy(&value).into_owned()));
        }
    }
    Ok(all)
}

fn parse_csv(text: &str) -> Result<Vec<(String, String)>, PluginError> {
    let mut pairs = Vec::new();
    for (i, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let (keyword, answer) = line
            .split_once(',')
            .ok_or_else(|| PluginError::new(format!("line {}: expected keyword,answer", i + 1)))?;
        pairs.push((keyword.trim().to_lowercase(), answer.trim().to_owned()));
    }
    Ok(pairs)
}

/// A flat JSON object of strings, `{"refund": "..."}`, read without a JSON crate.
fn parse_json(text: &str) -> Result<Vec<(String, String)>, PluginError> {
    let body = text
        .trim()
        .strip_prefix('{')
        .and_then(|t| t.strip_suffix('}'))
        .ok_or_else(|| PluginError::new("expected a JSON object"))?;
    let mut pairs = Vec::new();
    for item in body.split(',').filter(|i| !i.trim().is_empty()) {
        let (key, value) = item
            .split_once(':')
            .ok_or_else(|| PluginError::new(format!("expected \"key\": \"value\", got {item}")))?;
        let unquote = |s: &str| s.trim().trim_matches('"').to_owned();
        pairs.push((unquote(key).to_lowercase(), unquote(value)));
    }
    Ok(pairs)
}

crossdesk_sdk::export_plugin!(Faq);
