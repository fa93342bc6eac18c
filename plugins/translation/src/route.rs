//! Choosing how to get from one language to another with an engine's pairs: the
//! direct pair, or else through the first pivot language that both legs exist for.

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

/// The route from `src` to `tgt`: direct if `pairs` has it, else through the first
/// of `pivots` (in order) with both legs. Without one, an error (not retryable)
/// starting with `unsupported pair` that names both languages and the engine.
///
/// ```
/// use translation::{engine::{Engine, Pairs}, route::plan};
/// let engine = Engine::new("apertium", "http://127.0.0.1:2737").unwrap();
/// let pairs = Pairs::from_engine_codes(&[("fra".into(), "spa".into()), ("spa".into(), "eng".into())]);
/// let pivots = ["es".to_string(), "en".to_string()];
/// assert_eq!(plan(&engine, &pairs, "fr", "en", &pivots).unwrap().to_string(), "fr→es→en");
/// let err = plan(&engine, &pairs, "en", "fr", &pivots).unwrap_err();
/// assert!(err.message.starts_with("unsupported pair"));
/// ```
pub fn plan(
    engine: &Engine,
    pairs: &Pairs,
    src: &str,
    tgt: &str,
    pivots: &[String],
) -> Result<Route, PluginError> {
    if pairs.has(src, tgt) {
        return Ok(Route::new(vec![src.to_owned(), tgt.to_owned()]));
    }
    for pivot in pivots {
        if pivot != src && pivot != tgt && pairs.has(src, pivot) && pairs.has(pivot, tgt) {
            return Ok(Route::new(vec![
                src.to_owned(),
                pivot.clone(),
                tgt.to_owned(),
            ]));
        }
    }
    Err(PluginError::new(format!(
        "unsupported pair {} ({src}) → {} ({tgt}) for engine {}: no direct pair and no pivot through {}",
        lang::name(src),
        lang::name(tgt),
        engine.name(),
        if pivots.is_empty() {
            "(no pivot_languages)".to_owned()
        } else {
            pivots.join(", ")
        }
    )))
}
