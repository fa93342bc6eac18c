//! What a plugin offers admins outside the event path: datasets they import whole
//! (a roster, a catalog) and commands they run (`crossdesk plugin exec PLUGIN
//! COMMAND ...`). A plugin lists them in its [`Manifest`](crate::Manifest) and
//! answers them in [`Plugin::import_dataset`](crate::Plugin::import_dataset) and
//! [`Plugin::run_command`](crate::Plugin::run_command).

use crate::PluginError;
use crate::host::bindings::crossdesk::plugin::types as wit_types;
use crate::host::bindings::exports::crossdesk::plugin::tools as wit;

/// A dataset the plugin reads from its storage, imported whole by an admin.
///
/// ```
/// let roster = crossdesk_sdk::DatasetSpec::new("roster", "The agents").formats(&["json", "csv"]);
/// assert_eq!(roster.formats, ["json", "csv"]);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatasetSpec {
    /// The name admins use, e.g. `catalog`.
    pub name: String,
    /// One sentence for admins.
    pub description: String,
    /// The formats [`Plugin::import_dataset`](crate::Plugin::import_dataset) parses.
    pub formats: Vec<String>,
}

impl DatasetSpec {
    /// A dataset in JSON.
    ///
    /// ```
    /// assert_eq!(crossdesk_sdk::DatasetSpec::new("kb", "Articles").formats, ["json"]);
    /// ```
    pub fn new(name: impl Into<String>, description: impl Into<String>) -> DatasetSpec {
        DatasetSpec {
            name: name.into(),
            description: description.into(),
            formats: vec!["json".into()],
        }
    }

    /// Sets the formats it is imported in.
    ///
    /// ```
    /// let d = crossdesk_sdk::DatasetSpec::new("kb", "Articles").formats(&["csv"]);
    /// assert_eq!(d.formats, ["csv"]);
    /// ```
    pub fn formats(mut self, formats: &[&str]) -> DatasetSpec {
        self.formats = formats.iter().map(|f| (*f).to_owned()).collect();
        self
    }
}

/// What replaces a dataset: every key of the plugin's storage (for the tenant)
/// starting with `prefix` is removed and `entries` written, in one transaction.
///
/// ```
/// let d = crossdesk_sdk::DatasetEntries::new("roster")
///     .entry("roster", b"{}".to_vec())
///     .summary(1, "1 agent");
/// assert_eq!(d.records, 1);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatasetEntries {
    /// The key prefix the dataset owns; every entry's key starts with it.
    pub prefix: String,
    /// The new entries.
    pub entries: Vec<(String, Vec<u8>)>,
    /// Records in the new data.
    pub records: u32,
    /// One line describing the new data, for people and the audit log.
    pub summary: String,
}

impl DatasetEntries {
    /// No entries yet under `prefix`.
    ///
    /// ```
    /// assert!(crossdesk_sdk::DatasetEntries::new("p/").entries.is_empty());
    /// ```
    pub fn new(prefix: impl Into<String>) -> DatasetEntries {
        DatasetEntries {
            prefix: prefix.into(),
            entries: Vec::new(),
            records: 0,
            summary: String::new(),
        }
    }

    /// Adds an entry.
    ///
    /// ```
    /// let d = crossdesk_sdk::DatasetEntries::new("p/").entry("p/1", vec![1]);
    /// assert_eq!(d.entries.len(), 1);
    /// ```
    pub fn entry(mut self, key: impl Into<String>, value: Vec<u8>) -> DatasetEntries {
        self.entries.push((key.into(), value));
        self
    }

    /// Sets the record count and the summary.
    ///
    /// ```
    /// let d = crossdesk_sdk::DatasetEntries::new("p/").summary(3, "3 products");
    /// assert_eq!(d.summary, "3 products");
    /// ```
    pub fn summary(mut self, records: u32, summary: impl Into<String>) -> DatasetEntries {
        self.records = records;
        self.summary = summary.into();
        self
    }
}

/// How a command's parameter is given on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamKind {
    /// `--name` alone; its value is `"true"` when present.
    Flag,
    /// `--name VALUE` (or the value alone when positional).
    Value,
    /// A file the host reads and hands over in [`CommandInput::file`].
    InputFile,
    /// A file the command writes ([`CommandOutput::file`]); the host writes it to
    /// the path the admin gave.
    OutputFile,
    /// A folder the host writes the command's other files into.
    OutputDir,
}

/// One parameter of a command.
///
/// ```
/// use crossdesk_sdk::Param;
/// let p = Param::value("contacts", "Contacts in the interval").required();
/// assert!(p.required && !p.positional);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Param {
    /// Its name: `--name` on the command line.
    pub name: String,
    /// One line of help.
    pub help: String,
    /// How it is given.
    pub kind: ParamKind,
    /// Whether the command refuses to run without it.
    pub required: bool,
    /// Given by position rather than as `--name`.
    pub positional: bool,
    /// May be given more than once ([`CommandInput::values_of`]).
    pub repeated: bool,
    /// The value used when the admin gives none.
    pub default_value: Option<String>,
}

impl Param {
    fn new(kind: ParamKind, name: impl Into<String>, help: impl Into<String>) -> Param {
        Param {
            name: name.into(),
            help: help.into(),
            kind,
            required: false,
            positional: false,
            repeated: false,
            default_value: None,
        }
    }

    /// `--name` alone.
    ///
    /// ```
    /// assert_eq!(crossdesk_sdk::Param::flag("json", "Print JSON").kind, crossdesk_sdk::ParamKind::Flag);
    /// ```
    pub fn flag(name: impl Into<String>, help: impl Into<String>) -> Param {
        Param::new(ParamKind::Flag, name, help)
    }

    /// `--name VALUE`.
    ///
    /// ```
    /// assert_eq!(crossdesk_sdk::Param::value("seed", "Seed").kind, crossdesk_sdk::ParamKind::Value);
    /// ```
    pub fn value(name: impl Into<String>, help: impl Into<String>) -> Param {
        Param::new(ParamKind::Value, name, help)
    }

    /// A file to read, given by position.
    ///
    /// ```
    /// assert!(crossdesk_sdk::Param::input_file("file", "A TMX file").positional);
    /// ```
    pub fn input_file(name: impl Into<String>, help: impl Into<String>) -> Param {
        Param {
            positional: true,
            ..Param::new(ParamKind::InputFile, name, help)
        }
    }

    /// A file to write, `--name PATH`: the command returns it
    /// ([`CommandOutput::file`]) and the host writes it to the path given, or
    /// under its plain name in the working folder. When the admin gave the
    /// parameter, its path is among the command's values too, so that a command
    /// may print what it would otherwise write when none is asked for.
    ///
    /// ```
    /// let p = crossdesk_sdk::Param::output_file("heatmap", "The SVG");
    /// assert_eq!(p.kind, crossdesk_sdk::ParamKind::OutputFile);
    /// ```
    pub fn output_file(name: impl Into<String>, help: impl Into<String>) -> Param {
        Param::new(ParamKind::OutputFile, name, help)
    }

    /// A folder to write files into, `--name DIR`.
    ///
    /// ```
    /// let p = crossdesk_sdk::Param::output_dir("out", "Where the files go");
    /// assert_eq!(p.kind, crossdesk_sdk::ParamKind::OutputDir);
    /// ```
    pub fn output_dir(name: impl Into<String>, help: impl Into<String>) -> Param {
        Param::new(ParamKind::OutputDir, name, help)
    }

    /// Makes it required.
    ///
    /// ```
    /// assert!(crossdesk_sdk::Param::value("x", "").required().required);
    /// ```
    pub fn required(mut self) -> Param {
        self.required = true;
        self
    }

    /// Makes it positional.
    ///
    /// ```
    /// assert!(crossdesk_sdk::Param::value("x", "").positional().positional);
    /// ```
    pub fn positional(mut self) -> Param {
        self.positional = true;
        self
    }

    /// Lets it be given more than once.
    ///
    /// ```
    /// assert!(crossdesk_sdk::Param::value("set", "KEY=VALUE").repeated().repeated);
    /// ```
    pub fn repeated(mut self) -> Param {
        self.repeated = true;
        self
    }

    /// Sets its default value.
    ///
    /// ```
    /// let p = crossdesk_sdk::Param::value("interval", "").default_value("30m");
    /// assert_eq!(p.default_value.as_deref(), Some("30m"));
    /// ```
    pub fn default_value(mut self, value: impl Into<String>) -> Param {
        self.default_value = Some(value.into());
        self
    }
}

/// A command the plugin offers to admins.
///
/// ```
/// use crossdesk_sdk::{CommandSpec, Param};
/// let c = CommandSpec::new("export", "Write the memory as TMX")
///     .param(Param::output_file("output", "The file"))
///     .for_tenant();
/// assert!(c.needs_tenant);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandSpec {
    /// Its name on the command line.
    pub name: String,
    /// One sentence for admins.
    pub description: String,
    /// Its parameters, in order.
    pub params: Vec<Param>,
    /// Whether it runs for a tenant, with that tenant's grants and settings.
    pub needs_tenant: bool,
}

impl CommandSpec {
    /// A command without parameters that needs no tenant.
    ///
    /// ```
    /// let c = crossdesk_sdk::CommandSpec::new("version", "Prints the version");
    /// assert!(c.params.is_empty() && !c.needs_tenant);
    /// ```
    pub fn new(name: impl Into<String>, description: impl Into<String>) -> CommandSpec {
        CommandSpec {
            name: name.into(),
            description: description.into(),
            params: Vec::new(),
            needs_tenant: false,
        }
    }

    /// Adds a parameter.
    ///
    /// ```
    /// let c = crossdesk_sdk::CommandSpec::new("c", "").param(crossdesk_sdk::Param::flag("json", ""));
    /// assert_eq!(c.params.len(), 1);
    /// ```
    pub fn param(mut self, param: Param) -> CommandSpec {
        self.params.push(param);
        self
    }

    /// Makes it run for a tenant.
    ///
    /// ```
    /// assert!(crossdesk_sdk::CommandSpec::new("c", "").for_tenant().needs_tenant);
    /// ```
    pub fn for_tenant(mut self) -> CommandSpec {
        self.needs_tenant = true;
        self
    }
}

/// A command's arguments, as the host parsed them against its [`CommandSpec`].
///
/// ```
/// let input = crossdesk_sdk::CommandInput::new().with_value("seed", "7").with_file("file", b"x".to_vec());
/// assert_eq!(input.parse::<u64>("seed").unwrap(), Some(7));
/// assert_eq!(input.file("file"), Some(&b"x"[..]));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CommandInput {
    /// The tenant the command runs for, when it needs one.
    pub tenant: Option<String>,
    /// Flags and values given (or defaulted), by parameter name.
    pub values: Vec<(String, String)>,
    /// The content of each input file, by parameter name.
    pub files: Vec<(String, Vec<u8>)>,
}

impl CommandInput {
    /// No arguments: for tests of a command's logic.
    ///
    /// ```
    /// assert!(crossdesk_sdk::CommandInput::new().values.is_empty());
    /// ```
    pub fn new() -> CommandInput {
        CommandInput::default()
    }

    /// These arguments for `tenant`.
    ///
    /// ```
    /// let input = crossdesk_sdk::CommandInput::new().for_tenant("acme");
    /// assert_eq!(input.tenant.as_deref(), Some("acme"));
    /// ```
    pub fn for_tenant(mut self, tenant: impl Into<String>) -> CommandInput {
        self.tenant = Some(tenant.into());
        self
    }

    /// These arguments with one more value.
    ///
    /// ```
    /// let input = crossdesk_sdk::CommandInput::new().with_value("a", "1");
    /// assert_eq!(input.value("a"), Some("1"));
    /// ```
    pub fn with_value(mut self, name: impl Into<String>, value: impl Into<String>) -> CommandInput {
        self.values.push((name.into(), value.into()));
        self
    }

    /// These arguments with one more input file.
    ///
    /// ```
    /// let input = crossdesk_sdk::CommandInput::new().with_file("f", vec![]);
    /// assert_eq!(input.file("f"), Some(&[][..]));
    /// ```
    pub fn with_file(mut self, name: impl Into<String>, content: Vec<u8>) -> CommandInput {
        self.files.push((name.into(), content));
        self
    }

    /// The value of parameter `name`, if given.
    ///
    /// ```
    /// assert_eq!(crossdesk_sdk::CommandInput::new().value("x"), None);
    /// ```
    pub fn value(&self, name: &str) -> Option<&str> {
        self.values
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of a repeated parameter, in the order given.
    ///
    /// ```
    /// let input = crossdesk_sdk::CommandInput::new().with_value("set", "a=1").with_value("set", "b=2");
    /// assert_eq!(input.values_of("set"), ["a=1", "b=2"]);
    /// ```
    pub fn values_of(&self, name: &str) -> Vec<&str> {
        self.values
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// Whether flag `name` was given.
    ///
    /// ```
    /// let input = crossdesk_sdk::CommandInput::new().with_value("json", "true");
    /// assert!(input.flag("json") && !input.flag("csv"));
    /// ```
    pub fn flag(&self, name: &str) -> bool {
        self.value(name) == Some("true")
    }

    /// The value of `name` parsed as `T`; an error naming the parameter when it
    /// does not parse.
    ///
    /// ```
    /// let input = crossdesk_sdk::CommandInput::new().with_value("n", "x");
    /// assert!(input.parse::<u32>("n").unwrap_err().message.contains("--n"));
    /// ```
    pub fn parse<T>(&self, name: &str) -> Result<Option<T>, PluginError>
    where
        T: std::str::FromStr,
        T::Err: std::fmt::Display,
    {
        self.value(name)
            .map(|v| {
                v.trim()
                    .parse()
                    .map_err(|e| PluginError::new(format!("--{name} '{v}': {e}")))
            })
            .transpose()
    }

    /// The content of input file `name`, if given.
    ///
    /// ```
    /// assert_eq!(crossdesk_sdk::CommandInput::new().file("f"), None);
    /// ```
    pub fn file(&self, name: &str) -> Option<&[u8]> {
        self.files
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, c)| c.as_slice())
    }
}

/// A file a command produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputFile {
    /// The output-file parameter it is for, or empty for the output folder.
    pub param: String,
    /// A plain file name: where it goes when the admin named no path.
    pub name: String,
    /// Its bytes.
    pub content: Vec<u8>,
}

/// What a command printed and wrote.
///
/// ```
/// let out = crossdesk_sdk::CommandOutput::text("done\n").file("heatmap", "plan.svg", b"<svg/>".to_vec());
/// assert_eq!(out.files[0].name, "plan.svg");
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CommandOutput {
    /// Printed to the admin's terminal.
    pub text: String,
    /// Files for the host to write.
    pub files: Vec<OutputFile>,
}

impl CommandOutput {
    /// Output of `text` only.
    ///
    /// ```
    /// assert_eq!(crossdesk_sdk::CommandOutput::text("hi").text, "hi");
    /// ```
    pub fn text(text: impl Into<String>) -> CommandOutput {
        CommandOutput {
            text: text.into(),
            files: Vec::new(),
        }
    }

    /// Adds a file for output-file parameter `param` (or, with `param` empty, for
    /// the output folder), named `name` when the admin gave no path.
    ///
    /// ```
    /// let out = crossdesk_sdk::CommandOutput::default().file("", "roster.json", b"{}".to_vec());
    /// assert_eq!(out.files.len(), 1);
    /// ```
    pub fn file(
        mut self,
        param: impl Into<String>,
        name: impl Into<String>,
        content: Vec<u8>,
    ) -> CommandOutput {
        self.files.push(OutputFile {
            param: param.into(),
            name: name.into(),
            content,
        });
        self
    }
}

// Conversions at the boundary with the generated contract types.

impl From<DatasetSpec> for wit_types::DatasetSpec {
    fn from(d: DatasetSpec) -> wit_types::DatasetSpec {
        wit_types::DatasetSpec {
            name: d.name,
            description: d.description,
            formats: d.formats,
        }
    }
}

impl From<CommandSpec> for wit_types::CommandSpec {
    fn from(c: CommandSpec) -> wit_types::CommandSpec {
        wit_types::CommandSpec {
            name: c.name,
            description: c.description,
            params: c
                .params
                .into_iter()
                .map(|p| wit_types::Param {
                    name: p.name,
                    help: p.help,
                    kind: match p.kind {
                        ParamKind::Flag => wit_types::ParamKind::Flag,
                        ParamKind::Value => wit_types::ParamKind::Value,
                        ParamKind::InputFile => wit_types::ParamKind::InputFile,
                        ParamKind::OutputFile => wit_types::ParamKind::OutputFile,
                        ParamKind::OutputDir => wit_types::ParamKind::OutputDir,
                    },
                    required: p.required,
                    positional: p.positional,
                    repeated: p.repeated,
                    default_value: p.default_value,
                })
                .collect(),
            needs_tenant: c.needs_tenant,
        }
    }
}

impl From<wit::CommandInput> for CommandInput {
    fn from(input: wit::CommandInput) -> CommandInput {
        CommandInput {
            tenant: input.tenant,
            values: input.values,
            files: input.files,
        }
    }
}

impl From<CommandOutput> for wit::CommandOutput {
    fn from(output: CommandOutput) -> wit::CommandOutput {
        wit::CommandOutput {
            text: output.text,
            files: output
                .files
                .into_iter()
                .map(|f| wit::OutputFile {
                    param: f.param,
                    name: f.name,
                    content: f.content,
                })
                .collect(),
        }
    }
}

impl From<DatasetEntries> for wit::DatasetEntries {
    fn from(d: DatasetEntries) -> wit::DatasetEntries {
        wit::DatasetEntries {
            prefix: d.prefix,
            entries: d.entries,
            records: d.records,
            summary: d.summary,
        }
    }
}
