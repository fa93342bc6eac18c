//! What a tenant's engine reaches: every language it has a pair for, with the route
//! each way between it and the agents' language. The `languages` command prints it
//! as a Markdown table (README's "what the demo serves" is this table for the demo).

use crossdesk_sdk::PluginError;

use crate::Settings;
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

/// Every language of the engine's pairs other than `agent`, with its routes.
pub fn reach(settings: &Settings, agent: &str) -> Result<Vec<Reach>, PluginError> {
    let engine = &settings.engine;
    let pairs = engine.pairs()?;
    let route = |src: &str, tgt: &str| {
        route::plan(
            engine,
            &pairs,
            src,
            tgt,
            &settings.pivot_languages,
            settings.max_legs,
        )
        .ok()
        .map(|r| r.to_string())
    };
    Ok(pairs
        .languages()
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
/// assert!(text.contains("| Swedish (sv) | sv→is→en | — |"));
/// ```
pub fn table(agent: &str, engine: &str, max_legs: usize, rows: &[Reach]) -> String {
    let mut rows: Vec<&Reach> = rows.iter().collect();
    rows.sort_by_key(|r| lang::name(&r.language).to_owned());
    let both = rows
        .iter()
        .filter(|r| r.inbound.is_some() && r.outbound.is_some())
        .count();
    let mut out = format!(
        "Languages engine {engine} reaches from and to {} ({agent}), in routes of at most \
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
