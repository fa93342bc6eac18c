//! What a tenant's engines reach: every language they have a pair for, with the
//! route each way between it and the agents' language. The `languages` command prints it
//! as a Markdown table (README's "what the demo serves" is this table for the demo).

use crossdesk_sdk::PluginError;

use crate::Settings;
use crate::engine::{Engine, Pairs};
use crate::lang;
use crate::route;

/// One language and its routes to and from the agents' language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reach {
    /// The canonical code.
    pub language: String,
    /// The route from the customer's language to the agents' (`sv→is→en`), if any.
    pub inbound: Option<String>,
    /// The route from the agents' language to the customer's, if any.
    pub outbound: Option<String>,
}

/// Every language of the engines' pairs other than `agent`, with its routes: each
/// way, the first engine (in the tenant's order) with a route, named after it when
/// the tenant has several. An engine whose languages cannot be had is left out.
pub fn reach(settings: &Settings, agent: &str) -> Result<Vec<Reach>, PluginError> {
    let mut catalogs: Vec<(&Engine, &Pairs)> = Vec::new();
    let mut last_error: Option<PluginError> = None;
    for engine in &settings.engines {
        match engine.pairs() {
            Ok(pairs) => catalogs.push((engine, pairs)),
            Err(e) => last_error = Some(e.into()),
        }
    }
    if catalogs.is_empty() {
        return Err(last_error.unwrap_or_else(|| PluginError::new("no engine configured")));
    }
    let several = settings.engines.len() > 1;
    let route = |src: &str, tgt: &str| {
        catalogs.iter().find_map(|(engine, pairs)| {
            let route = route::plan(
                engine,
                pairs,
                src,
                tgt,
                &settings.pivot_languages,
                settings.max_legs,
            )
            .ok()?;
            Some(if several {
                format!("{route} ({})", engine.name())
            } else {
                route.to_string()
            })
        })
    };
    let mut languages: Vec<&str> = catalogs.iter().flat_map(|(_, p)| p.languages()).collect();
    languages.sort_unstable();
    languages.dedup();
    Ok(languages
        .into_iter()
        .filter(|l| *l != agent)
        .map(|l| Reach {
            language: l.to_owned(),
            inbound: route(l, agent),
            outbound: route(agent, l),
        })
        .collect())
}

/// The Markdown table of `reach`, one row per language, by name.
///
/// ```
/// use translation::reach::{table, Reach};
/// let rows = vec![Reach { language: "sv".into(), inbound: Some("sv→is→en".into()), outbound: None }];
/// let text = table("en", "apertium", 3, &rows);
/// assert!(text.starts_with("Languages the engines (apertium) reach"));
/// assert!(text.contains("| Swedish (sv) | sv→is→en | — |"));
/// ```
pub fn table(agent: &str, engines: &str, max_legs: usize, rows: &[Reach]) -> String {
    let mut rows: Vec<&Reach> = rows.iter().collect();
    rows.sort_by_key(|r| lang::name(&r.language).to_owned());
    let both = rows
        .iter()
        .filter(|r| r.inbound.is_some() && r.outbound.is_some())
        .count();
    let mut out = format!(
        "Languages the engines ({engines}) reach from and to {} ({agent}), in routes of at most \
         {max_legs} legs: {} in all, {both} both ways.\n\n\
         | language | customer → agent | agent → customer |\n| --- | --- | --- |\n",
        lang::name(agent),
        rows.len()
    );
    for r in rows {
        out.push_str(&format!(
            "| {} ({}) | {} | {} |\n",
            lang::name(&r.language),
            r.language,
            r.inbound.as_deref().unwrap_or("—"),
            r.outbound.as_deref().unwrap_or("—"),
        ));
    }
    out
}
