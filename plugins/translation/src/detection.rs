//! Deciding the language of a customer's message (README, "Inbound").

use crossdesk_sdk::{Event, clock, log};
use crossdesk_text::detect;

use crate::engine::{Engine, EngineError, Kind, Pairs, health};
use crate::lang;
use crate::memory::or_warn;
use crate::protect;
use crate::settings::Settings;

/// How the customer's language was decided.
pub(crate) enum Decision {
    Detected { language: &'static str, why: String },
    Locale { language: &'static str, why: String },
}

impl Decision {
    pub(crate) fn language(&self) -> &'static str {
        match self {
            Decision::Detected { language, .. } | Decision::Locale { language, .. } => language,
        }
    }

    pub(crate) fn describe(&self) -> String {
        match self {
            Decision::Detected { language, why } => {
                format!("{} ({language}) · detected ({why})", lang::name(language))
            }
            Decision::Locale { language, why } => format!(
                "{} ({language}) · customer locale ({why})",
                lang::name(language)
            ),
        }
    }
}

/// The engine's coverage is asked for when the best language leads by less than
/// `COVERAGE_BELOW_MARGIN`: for up to `COVERAGE_CANDIDATES` languages within
/// `COVERAGE_WITHIN` of the best, and the best's close relatives; a full coverage
/// weighs `COVERAGE_WEIGHT` (tuned on the development half of
/// `scripts/detection-set.py`'s catalogs; BENCHMARKS.md, "Language detection").
const COVERAGE_BELOW_MARGIN: f64 = 1.0;
const COVERAGE_CANDIDATES: usize = 4;
const COVERAGE_WITHIN: f64 = 2.0;
const COVERAGE_WEIGHT: f64 = 3.0;
/// What a cloud engine's own detection weighs, times its confidence, when the
/// best language leads by less than `COVERAGE_BELOW_MARGIN` (the engine has no
/// analysers to ask).
const ENGINE_DETECTION_WEIGHT: f64 = 2.0;

/// Adds the engine's coverage of each candidate to its score and returns the shares
/// in words; or adds nothing and returns `None` when a candidate's coverage could
/// not be had. Coverage of only some candidates (one request timed out on a busy
/// engine) would tilt the ranking toward those answered: a Spanish message once
/// went to Asturian that way.
fn add_coverage(
    ranked: &mut detect::Ranked,
    candidates: &[&'static str],
    mut coverage_of: impl FnMut(&'static str) -> Result<Option<f64>, EngineError>,
) -> Option<Vec<String>> {
    let mut shares = Vec::with_capacity(candidates.len());
    for &candidate in candidates {
        match coverage_of(candidate) {
            Ok(Some(share)) => shares.push((candidate, share)),
            // The engine has no analyser for it.
            Ok(None) => {}
            Err(e) => {
                log::warn(&format!(
                    "detection without the engine's coverage: none for {candidate}: {}",
                    e.message
                ));
                return None;
            }
        }
    }
    let described = shares
        .into_iter()
        .map(|(candidate, share)| {
            ranked.add(candidate, COVERAGE_WEIGHT * share);
            format!("{candidate} {share:.2}")
        })
        .collect();
    Some(described)
}

/// The ranking, in words: the best score and the next language's.
fn explain(ranked: &detect::Ranked) -> String {
    match ranked.scores.as_slice() {
        [(_, best), (next, score), ..] => {
            format!("score {best:.2}, next {} {score:.2}", lang::name(next))
        }
        [(_, best)] => format!("score {best:.2}, no other candidate"),
        [] => "no evidence".to_owned(),
    }
}

/// Decides the language of a customer's message. Protected spans (URLs, code...)
/// are left out of detection and of the letter count. A short message with a
/// customer locale is in the locale's language; otherwise the words, letters and
/// whatlang ([`detect::rank`]), with the languages the engine reaches, the ticket's
/// earlier language and the locale as hints, and the engine's coverage of the
/// closest candidates where it has analysers, or a cloud engine's own detection.
pub(crate) fn decide(event: &Event, settings: &Settings) -> Option<Decision> {
    let text = &event.text;
    let prose = protect::prose(text);
    let letters = lang::letter_count(&prose);
    let locale = event
        .customer
        .as_ref()
        .and_then(|c| c.language())
        .and_then(lang::from_code);
    let ticket = (!event.ticket_id.is_empty())
        .then(|| {
            or_warn(
                "ticket language unavailable",
                crate::ticket_language::recall(&event.ticket_id, clock::now_ms()),
            )
        })
        .flatten();
    // The languages the engines reach (their lists are cached), and the first
    // engine with analysers for the coverage.
    let now = clock::now_ms();
    let catalogs: Vec<(&Engine, &Pairs)> = settings
        .engines
        .iter()
        // An engine its breaker keeps out is not asked for its languages either.
        .filter(|engine| health::load(engine).open_for_ms(now).is_none())
        .filter_map(|engine| match engine.pairs() {
            Ok(pairs) => Some((engine, pairs)),
            Err(e) => {
                log::warn(&format!(
                    "detection without {}'s languages: {e}",
                    engine.name()
                ));
                None
            }
        })
        .collect();
    let mut reachable: Vec<&str> = catalogs.iter().flat_map(|(_, p)| p.languages()).collect();
    reachable.push(settings.agent_language.as_str());
    reachable.sort_unstable();
    reachable.dedup();
    let hints = detect::Hints {
        reachable: &reachable,
        locale,
        ticket: ticket.as_deref(),
    };
    let mut ranked = detect::rank(&prose, &hints);
    let analyser = catalogs
        .iter()
        .find(|(engine, _)| engine.kind() == Kind::Apertium)
        .filter(|_| ranked.margin() < COVERAGE_BELOW_MARGIN);
    let coverage = match analyser {
        Some((engine, pairs)) => {
            let candidates = ranked.candidates(COVERAGE_WITHIN, COVERAGE_CANDIDATES, &reachable);
            add_coverage(&mut ranked, &candidates, |candidate| {
                engine.coverage(pairs, candidate, &prose)
            })
        }
        None => Some(Vec::new()),
    };
    // Without analysers, the first cloud engine that detects languages says which
    // it thinks it is.
    let mut detected_by = None;
    if analyser.is_none() && ranked.margin() < COVERAGE_BELOW_MARGIN {
        for (engine, _) in &catalogs {
            match engine.detect(&prose) {
                Ok(Some((language, confidence))) => {
                    if let Some(language) = lang::from_code(&language) {
                        ranked.add(language, ENGINE_DETECTION_WEIGHT * confidence);
                        detected_by = Some(format!("{} {language} {confidence:.2}", engine.name()));
                    }
                    break;
                }
                Ok(None) => {}
                Err(e) => log::warn(&format!("no detection from {}: {e}", engine.name())),
            }
        }
    }
    let mut why = explain(&ranked);
    match coverage {
        Some(shares) if !shares.is_empty() => {
            why.push_str(&format!("; engine coverage {}", shares.join(", ")));
        }
        Some(_) => {}
        None => why.push_str("; engine coverage unavailable"),
    }
    if let Some(detected) = detected_by {
        why.push_str(&format!("; engine detection {detected}"));
    }
    match (ranked.best(), locale) {
        (Some(best), Some(language)) if letters < settings.min_detect_chars => {
            Some(Decision::Locale {
                language,
                why: format!(
                    "text too short: {letters} letters, under {}; detected {} ({best}), {why}",
                    settings.min_detect_chars,
                    lang::name(best)
                ),
            })
        }
        (Some(language), _) => Some(Decision::Detected { language, why }),
        (None, Some(language)) => Some(Decision::Locale {
            language,
            why: "no language detected".to_owned(),
        }),
        (None, None) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Asturian just ahead of Spanish, as a Spanish message can score.
    fn close_call() -> detect::Ranked {
        detect::Ranked {
            scores: vec![("ast", 5.0), ("es", 4.8), ("gl", 4.0)],
        }
    }

    fn timed_out() -> EngineError {
        EngineError {
            message: "apertium: request timed out".to_owned(),
            retryable: true,
            retry_after_ms: None,
        }
    }

    #[test]
    fn every_candidates_coverage_is_added_to_its_score() {
        let mut ranked = close_call();
        let shares = add_coverage(&mut ranked, &["ast", "es", "gl"], |candidate| {
            Ok(match candidate {
                "es" => Some(1.0),
                "ast" => Some(0.5),
                _ => None,
            })
        });
        assert_eq!(
            shares,
            Some(vec!["ast 0.50".to_owned(), "es 1.00".to_owned()])
        );
        assert_eq!(ranked.best(), Some("es"));
    }

    #[test]
    fn one_candidate_without_coverage_leaves_the_ranking_as_it_was() {
        let mut ranked = close_call();
        // The best candidate's request fails; the next one's would have won it.
        let shares = add_coverage(
            &mut ranked,
            &["es", "ast", "gl"],
            |candidate| match candidate {
                "es" => Ok(Some(1.0)),
                "ast" => Err(timed_out()),
                _ => Ok(Some(0.1)),
            },
        );
        assert_eq!(shares, None);
        assert_eq!(ranked.scores, close_call().scores);
    }
}
