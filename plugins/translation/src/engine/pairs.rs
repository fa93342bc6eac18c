//! The language pairs an engine offers, in canonical codes, with the engine's own
//! codes for each.

use std::collections::BTreeMap;

use crate::lang;

/// The language pairs an engine offers: canonical codes to the engine's codes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pairs {
    map: BTreeMap<(String, String), (String, String)>,
    /// Languages any of which translates into any other (cloud engines and
    /// language models): canonical code → the engine's.
    any_to_any: BTreeMap<String, String>,
    /// Languages with an analyser: canonical code → the engine's.
    analysers: BTreeMap<String, String>,
    /// Every code the engine listed for translating into, varieties included.
    listed: std::collections::BTreeSet<String>,
}

impl Pairs {
    /// Pairs from the engine's own codes; codes the language table does not know are
    /// left out. Of a language's varieties (`cat`, `cat_valencia`) the plain code
    /// wins.
    ///
    /// ```
    /// let pairs = translation::engine::Pairs::from_engine_codes(&[
    ///     ("eng".into(), "cat_valencia".into()),
    ///     ("eng".into(), "cat".into()),
    ///     ("spa".into(), "por_BR".into()),
    /// ]);
    /// assert_eq!(pairs.get("en", "ca"), Some(("eng", "cat")));
    /// assert_eq!(pairs.get("es", "pt"), Some(("spa", "por_BR")));
    /// assert_eq!(pairs.get("ca", "en"), None);
    /// ```
    pub fn from_engine_codes(codes: &[(String, String)]) -> Pairs {
        let mut map: BTreeMap<(String, String), (String, String)> = BTreeMap::new();
        for (s, t) in codes {
            let (Some(src), Some(tgt)) = (lang::from_code(s), lang::from_code(t)) else {
                continue;
            };
            if src == tgt {
                continue;
            }
            let variety = |code: &str| code.contains(['_', '-']);
            let key = (src.to_owned(), tgt.to_owned());
            let better = match map.get(&key) {
                None => true,
                Some((es, et)) => (variety(es) || variety(et)) && !(variety(s) || variety(t)),
            };
            if better {
                map.insert(key, (s.clone(), t.clone()));
            }
        }
        // Apertium reads Croatian, Serbian and Bosnian with one Serbo-Croatian
        // analyser (`hbs`): each standard is a source of its pairs.
        let serbo_croatian: Vec<_> = map
            .iter()
            .filter(|((src, _), _)| src == "sh")
            .map(|((_, tgt), codes)| (tgt.clone(), codes.clone()))
            .collect();
        for (tgt, codes) in serbo_croatian {
            for standard in ["hr", "sr", "bs"] {
                if standard != tgt {
                    map.entry((standard.to_owned(), tgt.clone()))
                        .or_insert_with(|| codes.clone());
                }
            }
        }
        Pairs {
            listed: codes.iter().map(|(_, t)| t.clone()).collect(),
            map,
            any_to_any: BTreeMap::new(),
            analysers: BTreeMap::new(),
        }
    }

    /// Pairs of an engine that translates any of its languages into any other
    /// (`codes` as it spells them, `zh-TW` or `pt-PT` included); of a language's
    /// varieties the plain code wins.
    ///
    /// ```
    /// let pairs = translation::engine::Pairs::any_to_any(&["en".into(), "ja".into(), "zh-TW".into(), "zh".into()]);
    /// assert_eq!(pairs.get("ja", "zh"), Some(("ja", "zh")));
    /// assert_eq!(pairs.get("en", "ko"), None);
    /// ```
    pub fn any_to_any(codes: &[String]) -> Pairs {
        let mut any_to_any: BTreeMap<String, String> = BTreeMap::new();
        for code in codes {
            let Some(language) = lang::from_code(code) else {
                continue;
            };
            let plain = !code.contains(['_', '-']);
            match any_to_any.get(language) {
                Some(existing) if !(plain && existing.contains(['_', '-'])) => {}
                _ => {
                    any_to_any.insert(language.to_owned(), code.clone());
                }
            }
        }
        Pairs {
            map: BTreeMap::new(),
            any_to_any,
            analysers: BTreeMap::new(),
            listed: codes.iter().cloned().collect(),
        }
    }

    /// Whether the engine listed `code` (its own spelling) among the languages it
    /// translates into.
    pub fn lists(&self, code: &str) -> bool {
        self.listed.contains(code)
    }

    /// These pairs, with the engine's analysers (its own language codes).
    pub fn with_analysers(mut self, codes: &[String]) -> Pairs {
        for code in codes {
            if let Some(language) = lang::from_code(code) {
                self.analysers
                    .entry(language.to_owned())
                    .or_insert_with(|| code.clone());
            }
        }
        self
    }

    /// The engine's code of `language`'s analyser, if it has one.
    pub fn analyser(&self, language: &str) -> Option<&str> {
        self.analysers.get(language).map(String::as_str)
    }

    /// The languages `src` translates into directly, in code order.
    pub fn targets(&self, src: &str) -> Vec<&str> {
        let mut all: Vec<&str> = self
            .map
            .keys()
            .filter(|(s, _)| s == src)
            .map(|(_, t)| t.as_str())
            .collect();
        if self.any_to_any.contains_key(src) {
            all.extend(
                self.any_to_any
                    .keys()
                    .map(String::as_str)
                    .filter(|t| *t != src),
            );
        }
        all.sort_unstable();
        all.dedup();
        all
    }

    /// Every language of a pair, in code order.
    pub fn languages(&self) -> Vec<&str> {
        let mut all: Vec<&str> = self
            .map
            .keys()
            .flat_map(|(s, t)| [s.as_str(), t.as_str()])
            .chain(self.any_to_any.keys().map(String::as_str))
            .collect();
        all.sort_unstable();
        all.dedup();
        all
    }

    /// The engine's codes for `src` → `tgt`, if it has that pair.
    pub fn get(&self, src: &str, tgt: &str) -> Option<(&str, &str)> {
        if let Some((s, t)) = self.map.get(&(src.to_owned(), tgt.to_owned())) {
            return Some((s.as_str(), t.as_str()));
        }
        match (self.any_to_any.get(src), self.any_to_any.get(tgt)) {
            (Some(s), Some(t)) if src != tgt => Some((s.as_str(), t.as_str())),
            _ => None,
        }
    }

    /// Whether the engine translates `src` → `tgt` directly.
    pub fn has(&self, src: &str, tgt: &str) -> bool {
        self.get(src, tgt).is_some()
    }
}
