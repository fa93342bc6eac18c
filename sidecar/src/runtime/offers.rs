//! What a plugin offers admins (its datasets, its commands and their parameters),
//! checked when it is loaded: the CLI turns commands into command lines
//! (`crossdesk plugin exec PLUGIN COMMAND --param ...`), where a name that is not
//! a plain word, a name given twice, or one the CLI reads for itself would be
//! ambiguous or taken, so such a plugin is refused with the name it used.

use super::{CommandSpec, DatasetSpec, ParamKind};

/// Options `crossdesk plugin exec` and clap read for themselves.
const RESERVED: [&str; 7] = [
    "help",
    "version",
    "tenant",
    "config",
    "data-dir",
    "plugin-dir",
    "plugin",
];

/// A lowercase word: letters and digits, `-` between them.
fn plain(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_lowercase())
        && !name.ends_with('-')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// Checks the names and shapes of what the manifest offers.
pub(super) fn check(datasets: &[DatasetSpec], commands: &[CommandSpec]) -> Result<(), String> {
    let mut seen = Vec::new();
    for dataset in datasets {
        if !plain(&dataset.name) || seen.contains(&dataset.name.as_str()) {
            return Err(unplain("dataset", &dataset.name));
        }
        seen.push(dataset.name.as_str());
    }
    let mut seen = Vec::new();
    for command in commands {
        if !plain(&command.name) || seen.contains(&command.name.as_str()) {
            return Err(unplain("command", &command.name));
        }
        seen.push(command.name.as_str());
        check_params(command)?;
    }
    Ok(())
}

fn check_params(command: &CommandSpec) -> Result<(), String> {
    let at = |param: &str| format!("command '{}', parameter '{param}'", command.name);
    let mut seen = Vec::new();
    let positional: Vec<_> = command.params.iter().filter(|p| p.positional).collect();
    for param in &command.params {
        let name = param.name.as_str();
        if !plain(name) || seen.contains(&name) {
            return Err(unplain(&at(name), name));
        }
        if RESERVED.contains(&name) {
            return Err(format!(
                "{}: the command line reads --{name} for itself",
                at(name)
            ));
        }
        if param.positional && param.kind == ParamKind::Flag {
            return Err(format!(
                "{}: a flag is given by name, not position",
                at(name)
            ));
        }
        seen.push(name);
    }
    if let Some(early) = positional.iter().rev().skip(1).find(|p| p.repeated) {
        return Err(format!(
            "{}: only the last positional parameter may be repeated",
            at(&early.name)
        ));
    }
    Ok(())
}

fn unplain(what: &str, name: &str) -> String {
    format!(
        "{what} {name:?}: names are lowercase words (letters, digits and '-'), each \
         given once"
    )
}

#[cfg(test)]
mod tests {
    use super::super::Param;
    use super::*;

    fn param(name: &str, kind: ParamKind, positional: bool, repeated: bool) -> Param {
        Param {
            name: name.into(),
            help: String::new(),
            kind,
            required: false,
            positional,
            repeated,
            default_value: None,
        }
    }

    fn command(params: Vec<Param>) -> CommandSpec {
        CommandSpec {
            name: "plan".into(),
            description: String::new(),
            params,
            needs_tenant: false,
        }
    }

    #[test]
    fn plain_names_given_once_pass() {
        let ok = command(vec![
            param("service-level", ParamKind::Value, false, false),
            param("json", ParamKind::Flag, false, false),
            param("files", ParamKind::InputFile, true, true),
        ]);
        assert_eq!(check(&[], &[ok]), Ok(()));
    }

    #[test]
    fn what_the_command_line_cannot_carry_is_refused() {
        for (params, says) in [
            (
                vec![param("Tenant", ParamKind::Value, false, false)],
                "lowercase",
            ),
            (
                vec![param("a b", ParamKind::Value, false, false)],
                "lowercase",
            ),
            (
                vec![
                    param("seed", ParamKind::Value, false, false),
                    param("seed", ParamKind::Flag, false, false),
                ],
                "once",
            ),
            (
                vec![param("tenant", ParamKind::Value, false, false)],
                "for itself",
            ),
            (
                vec![param("help", ParamKind::Flag, false, false)],
                "for itself",
            ),
            (vec![param("all", ParamKind::Flag, true, false)], "by name"),
            (
                vec![
                    param("first", ParamKind::InputFile, true, true),
                    param("last", ParamKind::InputFile, true, false),
                ],
                "last positional",
            ),
        ] {
            let err = check(&[], &[command(params)]).expect_err(says);
            assert!(err.contains(says), "{err}");
        }
        let twice = [command(Vec::new()), command(Vec::new())];
        assert!(check(&[], &twice).is_err());
    }
}
