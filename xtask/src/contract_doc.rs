//! `xtask contract-doc`: the plugin contract's reference (`docs/contract.md`),
//! rendered from the WIT and its doc comments, so that the reference says what the
//! WIT says. A test fails when the committed file is not what the WIT renders.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::{Context, Result};
use wit_parser::{Docs, Function, Resolve, Type, TypeDefKind, TypeId, TypeOwner};

/// The contract version the reference documents: the newest.
pub(crate) const CONTRACT: &str = "crossdesk-plugin@0.2.1";

/// Where the reference lives, from the workspace's root.
pub(crate) const REFERENCE: &str = "docs/contract.md";

/// The reference of the contract in `wit_dir`, as Markdown.
pub(crate) fn render(wit_dir: &Path) -> Result<String> {
    let mut resolve = Resolve::new();
    let (package, _) = resolve
        .push_dir(wit_dir)
        .with_context(|| format!("cannot read the WIT in {}", wit_dir.display()))?;
    let package = &resolve.packages[package];
    let mut out = String::new();
    writeln!(out, "# The plugin contract: `{}`", package.name)?;
    writeln!(out)?;
    writeln!(
        out,
        "Generated from [the WIT](../sdk/wit/{CONTRACT}/plugin.wit) by \
         `cargo run -p xtask -- contract-doc`; `make test` fails when it is out of date."
    )?;
    writeln!(out)?;
    paragraph(&mut out, &package.docs)?;
    for (world_name, world) in &package.worlds {
        let world = &resolve.worlds[*world];
        writeln!(out, "## World `{world_name}`")?;
        writeln!(out)?;
        paragraph(&mut out, &world.docs)?;
        for (direction, items) in [("imports", &world.imports), ("exports", &world.exports)] {
            let names: Vec<String> = items
                .keys()
                .map(|key| format!("`{}`", resolve.name_world_key(key)))
                .collect();
            writeln!(out, "It {direction} {}.", names.join(", "))?;
        }
        writeln!(out)?;
    }
    for (name, interface) in &package.interfaces {
        let interface = &resolve.interfaces[*interface];
        writeln!(out, "## Interface `{name}`")?;
        writeln!(out)?;
        paragraph(&mut out, &interface.docs)?;
        for (type_name, id) in &interface.types {
            type_section(&mut out, &resolve, type_name, *id)?;
        }
        for function in interface.functions.values() {
            function_section(&mut out, &resolve, function)?;
        }
    }
    Ok(out)
}

fn type_section(out: &mut String, resolve: &Resolve, name: &str, id: TypeId) -> Result<()> {
    let def = &resolve.types[id];
    // A `use` of another interface's type: documented where it is defined.
    if let TypeDefKind::Type(Type::Id(other)) = def.kind
        && resolve.types[other].owner != def.owner
    {
        return Ok(());
    }
    let what = match &def.kind {
        TypeDefKind::Record(_) => "record",
        TypeDefKind::Variant(_) => "variant",
        TypeDefKind::Enum(_) => "enum",
        TypeDefKind::Flags(_) => "flags",
        TypeDefKind::Resource => "resource",
        _ => "type",
    };
    writeln!(out, "### {what} `{name}`")?;
    writeln!(out)?;
    paragraph(out, &def.docs)?;
    match &def.kind {
        TypeDefKind::Record(record) => {
            for field in &record.fields {
                item(
                    out,
                    &field.name,
                    Some(type_name(resolve, &field.ty)),
                    &field.docs,
                )?;
            }
        }
        TypeDefKind::Variant(variant) => {
            for case in &variant.cases {
                let payload = case.ty.as_ref().map(|ty| type_name(resolve, ty));
                item(out, &case.name, payload, &case.docs)?;
            }
        }
        TypeDefKind::Enum(enumeration) => {
            for case in &enumeration.cases {
                item(out, &case.name, None, &case.docs)?;
            }
        }
        TypeDefKind::Flags(flags) => {
            for flag in &flags.flags {
                item(out, &flag.name, None, &flag.docs)?;
            }
        }
        other => {
            writeln!(out, "`{name}` = `{}`", kind_name(resolve, other))?;
        }
    }
    writeln!(out)?;
    Ok(())
}

fn function_section(out: &mut String, resolve: &Resolve, function: &Function) -> Result<()> {
    let params: Vec<String> = function
        .params
        .iter()
        .map(|p| format!("{}: {}", p.name, type_name(resolve, &p.ty)))
        .collect();
    let result = function
        .result
        .as_ref()
        .map(|ty| format!(" -> {}", type_name(resolve, ty)))
        .unwrap_or_default();
    writeln!(out, "### func `{}`", function.name)?;
    writeln!(out)?;
    writeln!(
        out,
        "`{}: func({}){result}`",
        function.name,
        params.join(", ")
    )?;
    writeln!(out)?;
    paragraph(out, &function.docs)?;
    Ok(())
}

/// A field, case or flag: its name, its type if any, and its docs on one line.
fn item(out: &mut String, name: &str, ty: Option<String>, docs: &Docs) -> Result<()> {
    let ty = ty.map(|ty| format!(": `{ty}`")).unwrap_or_default();
    let docs = docs
        .contents
        .as_deref()
        .map(|d| format!(" — {}", d.split_whitespace().collect::<Vec<_>>().join(" ")))
        .unwrap_or_default();
    writeln!(out, "- `{name}`{ty}{docs}")?;
    Ok(())
}

fn paragraph(out: &mut String, docs: &Docs) -> Result<()> {
    if let Some(text) = docs.contents.as_deref() {
        writeln!(out, "{}", text.trim_end())?;
        writeln!(out)?;
    }
    Ok(())
}

/// A type as WIT spells it.
fn type_name(resolve: &Resolve, ty: &Type) -> String {
    match ty {
        Type::Bool => "bool".into(),
        Type::U8 => "u8".into(),
        Type::U16 => "u16".into(),
        Type::U32 => "u32".into(),
        Type::U64 => "u64".into(),
        Type::S8 => "s8".into(),
        Type::S16 => "s16".into(),
        Type::S32 => "s32".into(),
        Type::S64 => "s64".into(),
        Type::F32 => "f32".into(),
        Type::F64 => "f64".into(),
        Type::Char => "char".into(),
        Type::String => "string".into(),
        Type::ErrorContext => "error-context".into(),
        Type::Id(id) => {
            let def = &resolve.types[*id];
            match (&def.name, def.owner) {
                (Some(name), TypeOwner::Interface(_) | TypeOwner::World(_)) => name.clone(),
                _ => kind_name(resolve, &def.kind),
            }
        }
    }
}

/// An anonymous type (`list<string>`, `option<customer>`, ...) as WIT spells it.
fn kind_name(resolve: &Resolve, kind: &TypeDefKind) -> String {
    let name = |ty: &Type| type_name(resolve, ty);
    let maybe = |ty: &Option<Type>| ty.as_ref().map(name).unwrap_or_else(|| "_".into());
    match kind {
        TypeDefKind::List(ty) => format!("list<{}>", name(ty)),
        TypeDefKind::Option(ty) => format!("option<{}>", name(ty)),
        TypeDefKind::Tuple(tuple) => format!(
            "tuple<{}>",
            tuple.types.iter().map(name).collect::<Vec<_>>().join(", ")
        ),
        TypeDefKind::Result(result) => match (&result.ok, &result.err) {
            (None, None) => "result".into(),
            (ok, err) => format!("result<{}, {}>", maybe(ok), maybe(err)),
        },
        TypeDefKind::Type(ty) => name(ty),
        other => format!("{other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_committed_reference_is_what_the_wit_renders() {
        let root = crate::workspace_root();
        let rendered = render(&root.join("sdk/wit").join(CONTRACT)).expect("render");
        let committed = std::fs::read_to_string(root.join(REFERENCE)).unwrap_or_default();
        assert!(
            committed == rendered,
            "{REFERENCE} is out of date: run `cargo run -p xtask -- contract-doc`"
        );
        for name in [
            "customer-message",
            "replace-draft",
            "list-keys",
            "run-command",
        ] {
            assert!(rendered.contains(name), "{name} is missing");
        }
    }
}
