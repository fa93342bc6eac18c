//! Choosing how to get from one language to another with an engine's pairs: the
//! direct pair, or else the shortest chain of pairs through other languages (the
//! tenant's preferred pivots first), up to a number of legs.

use crossdesk_sdk::PluginError;

use crate::engine::{Engine, Pairs};
use crate::lang;

/// The languages a translation passes through, source first and target last.
///
/// ```
/// use translation::route::Route;
/// let route = Route::new(vec!["fr".into(), "es".into(), "en".into()]);
/// assert_eq!(route.to_string(), "fr→es→en");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    languages: Vec<String>,
}

impl Route {
    /// A route through `languages` (at least two).
    pub fn new(languages: Vec<String>) -> Route {
        Route { languages }
    }

    /// The legs, as `(from, to)`.
    pub fn legs(&self) -> impl Iterator<Item = (&str, &str)> {
        self.languages
            .windows(2)
            .map(|w| (w[0].as_str(), w[1].as_str()))
    }
}

impl std::fmt::Display for Route {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.languages.join("→"))
    }
}

/// The shortest route from `src` to `tgt` of at most `max_legs` legs: direct if
/// `pairs` has it, else through intermediate languages, `pivots` (in order) tried
/// before the others at each step. Without one, an error (not retryable) starting
/// with `unsupported pair` that names both languages and the engine.
///
/// ```
/// use translation::{engine::{Engine, Pairs}, route::plan};
/// let engine = Engine::new("apertium", "http://127.0.0.1:2737").unwrap();
/// let codes = [("fra", "spa"), ("spa", "eng"), ("swe", "isl"), ("isl", "eng")];
/// let pairs = Pairs::from_engine_codes(&codes.map(|(s, t)| (s.into(), t.into())));
/// let pivots = ["es".to_string(), "en".to_string()];
/// assert_eq!(plan(&engine, &pairs, "fr", "en", &pivots, 3).unwrap().to_string(), "fr→es→en");
/// // Icelandic is no configured pivot, but the only way from Swedish.
/// assert_eq!(plan(&engine, &pairs, "sv", "en", &pivots, 3).unwrap().to_string(), "sv→is→en");
/// let err = plan(&engine, &pairs, "en", "fr", &pivots, 3).unwrap_err();
/// assert!(err.message.starts_with("unsupported pair"));
/// ```
pub fn plan(
    engine: &Engine,
    pairs: &Pairs,
    src: &str,
    tgt: &str,
    pivots: &[String],
    max_legs: usize,
) -> Result<Route, PluginError> {
    // Breadth first: the first path to reach `tgt` has the fewest legs; within one
    // length, the preferred pivots come first.
    let rank = |l: &str| pivots.iter().position(|p| p == l).unwrap_or(pivots.len());
    let mut frontier: Vec<Vec<String>> = vec![vec![src.to_owned()]];
    let mut seen: std::collections::BTreeSet<String> = [src.to_owned()].into();
    for _ in 0..max_legs {
        let mut next: Vec<Vec<String>> = Vec::new();
        for path in &frontier {
            let Some(last) = path.last() else { continue };
            if pairs.has(last, tgt) {
                let mut route = path.clone();
                route.push(tgt.to_owned());
                return Ok(Route::new(route));
            }
            let mut steps: Vec<&str> = pairs.targets(last);
            steps.sort_by_key(|l| rank(l));
            for step in steps {
                if seen.insert(step.to_owned()) {
                    let mut longer = path.clone();
                    longer.push(step.to_owned());
                    next.push(longer);
                }
            }
        }
        frontier = next;
    }
    Err(PluginError::new(format!(
        "unsupported pair {} ({src}) → {} ({tgt}) for engine {}: no route of at most {max_legs} legs",
        lang::name(src),
        lang::name(tgt),
        engine.name(),
    )))
}
