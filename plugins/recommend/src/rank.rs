//! Ranking products and articles for one inquiry.
//!
//! **Products**, for a customer with purchases: every product not yet bought gets
//!
//! ```text
//! score = 1.0 · interest(category) / max interest      (decayed: recency)
//!       + 2.5 · [category is the inquiry's category]
//!       + 0.6 · price fit                               (1 − |percentile − target|)
//!       + 0.3 · [a tag or name word is in the inquiry]
//!       + 0.5 · ln(1 + n) / ln(1 + max n)                  (popularity: n purchases)
//!             · n / (n + 20)                               (its evidence)
//!             · price fit, where the customer has one in the category
//! ```
//!
//! Popularity is shrunk by its evidence: on a young shop a product bought once is
//! "the most popular" as much as one bought a thousand times, and would outrank
//! what fits the customer; at 20 purchases it weighs half. It also counts only as
//! much as the product fits the customer's price band, so what a budget buyer
//! bought is not pushed to one who buys premium, nor the reverse.
//!
//! The price target is the customer's percentile in that category, moved halfway
//! to the top for `premium` customers (they get upper-range items) and halfway to
//! the bottom for `value` customers; categories the customer never bought in get a
//! neutral fit of 0.5. **Cold start** (no profile or no purchases): the most
//! purchased products of the inquiry's category (all products when none was
//! recognized), reason `popular in <category>` — only for a product that was
//! bought: one nobody bought gets `asked about <category>` (or `in <category>`
//! when the inquiry named none), for a known customer too.
//!
//! **Articles**: BM25 over title + body ([`crate::text`]); only articles that match
//! are returned, scored `bm25 / best bm25 + 1.0 · [in the preferred language] +
//! 0.3 · interest(article category) / max interest + 0.2 · [article category is the
//! inquiry's topic or category]` — so articles in the customer's language come first.

use std::collections::{BTreeMap, HashMap};

use crossdesk_sdk::Recommendation;

use crate::catalog::{Article, Product};
use crate::profile::{Preferences, PriceBand, Profile, percentile_in_sorted};
use crate::text::tokenize;
use crate::topic::Topic;

/// One ranked item, with the reason shown to the agent.
#[derive(Debug, Clone, PartialEq)]
pub struct Ranked {
    /// `product` or `article`.
    pub kind: &'static str,
    /// The product or article id.
    pub id: String,
    /// The product name (in the customer's language when known) or article title.
    pub title: String,
    /// Why it is recommended.
    pub reason: String,
    /// The ranking score (higher is better; comparable within one kind and call).
    pub score: f64,
}

impl From<Ranked> for Recommendation {
    fn from(r: Ranked) -> Recommendation {
        Recommendation {
            kind: r.kind.to_owned(),
            id: r.id,
            title: r.title,
            reason: r.reason,
            score: r.score,
        }
    }
}

/// What the ranking knows about the inquiry.
#[derive(Debug, Clone, PartialEq)]
pub struct Inquiry {
    /// The message's terms ([`tokenize`]).
    pub terms: Vec<String>,
    /// Its topic.
    pub topic: Topic,
    /// The product category it is about, if recognized ([`infer_category`]).
    pub category: Option<String>,
    /// The language to answer in (profile, locale, or script of the message).
    pub language: Option<String>,
}

impl Inquiry {
    /// The inquiry for `text` against `catalog`.
    pub fn new(text: &str, catalog: &[Product], language: Option<String>) -> Inquiry {
        let terms = tokenize(text);
        let category = infer_category(&terms, catalog);
        Inquiry {
            topic: crate::topic::classify(text),
            category,
            language: language
                .or_else(|| crate::text::detect_cjk_language(text).map(str::to_owned)),
            terms,
        }
    }
}

fn product_terms(p: &Product) -> Vec<String> {
    let mut terms = tokenize(&p.category);
    for t in &p.tags {
        terms.extend(tokenize(t));
    }
    for n in p.names.values() {
        terms.extend(tokenize(n));
    }
    terms
}

/// The product category an inquiry is about: the category whose name, product tags
/// and product names share the most terms with it (ties: alphabetical first).
pub fn infer_category(terms: &[String], catalog: &[Product]) -> Option<String> {
    let mut hits: BTreeMap<&str, usize> = BTreeMap::new();
    for p in catalog {
        let vocabulary = product_terms(p);
        let n = terms.iter().filter(|t| vocabulary.contains(t)).count();
        let entry = hits.entry(&p.category).or_insert(0);
        *entry = (*entry).max(n);
    }
    hits.into_iter()
        .filter(|(_, n)| *n > 0)
        .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(a.0)))
        .map(|(c, _)| c.to_owned())
}

fn sort_top(mut ranked: Vec<Ranked>, top_k: usize) -> Vec<Ranked> {
    ranked.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.id.cmp(&b.id)));
    ranked.truncate(top_k);
    ranked
}

/// The reason for a product nothing about the customer explains: `popular in
/// <category>` only when it was bought (`purchases` > 0) — a product nobody bought
/// is not popular anywhere — else `asked about <category>` when the inquiry is
/// about its category, else `in <category>`.
fn plain_reason(p: &Product, purchases: u64, inquiry: &Inquiry) -> String {
    if purchases > 0 {
        format!("popular in {}", p.category)
    } else if inquiry.category.as_deref() == Some(p.category.as_str()) {
        format!("asked about {}", p.category)
    } else {
        format!("in {}", p.category)
    }
}

/// The price target for a customer's preference: their percentile, pushed halfway
/// to the top (premium) or bottom (value).
pub fn price_target(percentile: f64, band: PriceBand) -> f64 {
    match band {
        PriceBand::Premium => (percentile + 1.0) / 2.0,
        PriceBand::Value => percentile / 2.0,
        PriceBand::Mid => percentile,
    }
}

/// Weight of "in the category the customer asks about". Above everything else a
/// product can score (interest ≤ 1, price fit ≤ 0.6, word 0.3, popularity ≤ 0.5):
/// what the customer asks about comes first, their habits order within it.
const ASKED_CATEGORY_WEIGHT: f64 = 2.5;

/// Weight of a product's popularity (log-scaled to 0..1) for a known customer: what
/// many buy is a fair guess where price and interest do not tell products apart.
const POPULARITY_WEIGHT: f64 = 0.5;

/// Purchases at which a product's popularity counts half: below, it rests on too
/// few customers to say much (a young shop's single sale).
const POPULARITY_EVIDENCE: f64 = 20.0;

/// Ranks the catalog for an inquiry (see the module docs).
pub fn rank_products(
    profile: Option<&Profile>,
    prefs: &Preferences,
    catalog: &[Product],
    popularity: &BTreeMap<String, u64>,
    inquiry: &Inquiry,
    top_k: usize,
) -> Vec<Ranked> {
    let language = inquiry.language.as_deref();
    let max_pop = popularity.values().copied().max().unwrap_or(0);
    let pop = |id: &str| popularity.get(id).copied().unwrap_or(0);
    let Some(profile) = profile.filter(|p| !p.purchases.is_empty()) else {
        let in_category: Vec<&Product> = catalog
            .iter()
            .filter(|p| inquiry.category.as_deref() == Some(p.category.as_str()))
            .collect();
        let candidates = if in_category.is_empty() {
            catalog.iter().collect()
        } else {
            in_category
        };
        let ranked = candidates
            .into_iter()
            .map(|p| Ranked {
                kind: "product",
                id: p.id.clone(),
                title: p.name(language).to_owned(),
                reason: plain_reason(p, pop(&p.id), inquiry),
                score: pop(&p.id) as f64,
            })
            .collect();
        return sort_top(ranked, top_k);
    };
    let max_interest = prefs.max_interest();
    // Each category's prices sorted, and the products by id, once: per product
    // a lookup, not two passes over the catalog (quadratic on a large one).
    // Per currency too: a price has a place only among prices in its own
    // (there are no exchange rates here).
    let mut prices: HashMap<(&str, String), Vec<f64>> = HashMap::new();
    for p in catalog {
        prices
            .entry((p.category.as_str(), p.currency.to_ascii_uppercase()))
            .or_default()
            .push(p.price);
    }
    for sorted in prices.values_mut() {
        sorted.sort_by(f64::total_cmp);
    }
    let mut by_id: HashMap<&str, &Product> = HashMap::new();
    for p in catalog {
        by_id.entry(p.id.as_str()).or_insert(p);
    }
    let ranked = catalog
        .iter()
        .filter(|p| !profile.bought(&p.id))
        // Another region's SKU, priced in a currency the customer does not pay
        // in for that category, is not theirs to buy.
        .filter(|p| {
            prefs
                .price
                .get(&p.category)
                .is_none_or(|pref| pref.applies_to(&p.currency))
        })
        .map(|p| {
            let interest = if max_interest > 0.0 {
                prefs.interests.get(&p.category).copied().unwrap_or(0.0) / max_interest
            } else {
                0.0
            };
            let asked = inquiry.category.as_deref() == Some(p.category.as_str());
            let preference = prefs.price.get(&p.category);
            let fit = preference.map_or(0.5, |pref| {
                let sorted = prices
                    .get(&(p.category.as_str(), p.currency.to_ascii_uppercase()))
                    .map_or(&[][..], Vec::as_slice);
                let position = percentile_in_sorted(p.price, sorted);
                1.0 - (position - price_target(pref.percentile, pref.band)).abs()
            });
            let vocabulary = product_terms(p);
            let matched = inquiry
                .terms
                .iter()
                .find(|t| vocabulary.contains(t) && **t != p.category);
            let purchases = pop(&p.id) as f64;
            let popular = if max_pop > 0 {
                (1.0 + purchases).ln() / ((1 + max_pop) as f64).ln()
                    * (purchases / (purchases + POPULARITY_EVIDENCE))
                    * preference.map_or(1.0, |_| fit)
            } else {
                0.0
            };
            let score = interest
                + ASKED_CATEGORY_WEIGHT * f64::from(u8::from(asked))
                + 0.6 * fit
                + 0.3 * f64::from(u8::from(matched.is_some()))
                + POPULARITY_WEIGHT * popular;
            let mut reasons = Vec::new();
            if let Some(last) = profile
                .purchases
                .iter()
                .rev()
                .find(|b| b.category == p.category)
            {
                let name = by_id
                    .get(last.item_id.as_str())
                    .map_or(last.item_id.as_str(), |c| c.name(language));
                reasons.push(format!("bought {name} in {}", p.category));
            }
            if let Some(pref) = preference.filter(|pref| pref.band != PriceBand::Mid) {
                reasons.push(format!("prefers {} in {}", pref.band.name(), p.category));
            }
            if let Some(term) = matched {
                reasons.push(format!("matches '{term}'"));
            }
            if reasons.is_empty() {
                reasons.push(plain_reason(p, pop(&p.id), inquiry));
            }
            Ranked {
                kind: "product",
                id: p.id.clone(),
                title: p.name(language).to_owned(),
                reason: reasons.join("; "),
                score,
            }
        })
        .collect();
    sort_top(ranked, top_k)
}

/// Ranks the knowledge base for an inquiry (see the module docs): the shared
/// ranking ([`crossdesk_text::kb::rank`]) with the customer's interests and the
/// inquiry's topic or category as the bonus.
pub fn rank_articles(
    articles: &[Article],
    prefs: &Preferences,
    inquiry: &Inquiry,
    top_k: usize,
) -> Vec<Ranked> {
    let max_interest = prefs.max_interest();
    let bonus = |a: &Article| {
        let interest = if max_interest > 0.0 {
            prefs.interests.get(&a.category).copied().unwrap_or(0.0) / max_interest
        } else {
            0.0
        };
        let on_topic = a.category == inquiry.topic.name()
            || inquiry.category.as_deref() == Some(a.category.as_str());
        0.3 * interest + 0.2 * f64::from(u8::from(on_topic))
    };
    let matches =
        crossdesk_text::kb::rank(articles, &inquiry.terms, inquiry.language.as_deref(), bonus);
    let ranked = matches
        .into_iter()
        .filter_map(|m| {
            let a = articles.get(m.index)?;
            let mut reason = format!(
                "matches {}",
                m.terms
                    .iter()
                    .take(2)
                    .map(|t| format!("'{t}'"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            if m.same_language {
                reason.push_str(&format!("; in {}", a.language));
            }
            Some(Ranked {
                kind: "article",
                id: a.id.clone(),
                title: a.title.clone(),
                reason,
                score: m.score,
            })
        })
        .collect();
    sort_top(ranked, top_k)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::Purchase;

    fn product(id: &str, category: &str, price: f64, tags: &[&str]) -> Product {
        Product {
            id: id.into(),
            category: category.into(),
            price,
            currency: "EUR".into(),
            tags: tags.iter().map(|t| t.to_string()).collect(),
            names: BTreeMap::from([("en".to_string(), format!("Name {id}"))]),
        }
    }

    fn article(id: &str, title: &str, body: &str, language: &str, category: &str) -> Article {
        Article {
            id: id.into(),
            title: title.into(),
            body: body.into(),
            language: language.into(),
            category: category.into(),
        }
    }

    fn catalog() -> Vec<Product> {
        vec![
            product("l0", "lenses", 200.0, &[]),
            product("l1", "lenses", 100.0, &[]),
            product("l2", "lenses", 300.0, &["autofocus"]),
            product("l3", "lenses", 500.0, &[]),
            product("l4", "lenses", 900.0, &["autofocus"]),
            product("t1", "tripods", 80.0, &["travel"]),
        ]
    }

    #[test]
    fn infers_the_category_from_tags_and_names() {
        assert_eq!(
            infer_category(&tokenize("autofocus problem"), &catalog()),
            Some("lenses".into())
        );
        assert_eq!(
            infer_category(&tokenize("a travel tripod"), &catalog()),
            Some("tripods".into())
        );
        assert_eq!(infer_category(&tokenize("hello"), &catalog()), None);
    }

    #[test]
    fn premium_and_value_targets() {
        assert_eq!(price_target(0.8, PriceBand::Premium), 0.9);
        assert_eq!(price_target(0.2, PriceBand::Value), 0.1);
        assert_eq!(price_target(0.5, PriceBand::Mid), 0.5);
    }

    /// The top 3 products for an autofocus question from a customer who bought
    /// `item` (lenses, in EUR) at `price`.
    fn top_for_buyer_of(catalog: &[Product], item: &str, price: f64) -> Vec<Ranked> {
        let inquiry = Inquiry::new("autofocus question", catalog, Some("en".into()));
        let mut customer = Profile::new("c", 0);
        customer.record_purchase(Purchase {
            item_id: item.into(),
            category: "lenses".into(),
            price: Some(price),
            currency: "EUR".into(),
            time_ms: 0,
        });
        let prefs = Preferences::derive(&customer, catalog, 0);
        rank_products(
            Some(&customer),
            &prefs,
            catalog,
            &BTreeMap::new(),
            &inquiry,
            3,
        )
    }

    /// "Popular in" is said of a product only when someone bought it: not on cold
    /// start, nor for a known customer's product nothing else explains.
    #[test]
    fn popularity_is_a_reason_only_for_what_was_bought() {
        let catalog = vec![
            product("l1", "lenses", 100.0, &[]),
            product("l2", "lenses", 300.0, &[]),
            product("t1", "tripods", 80.0, &[]),
            product("t2", "tripods", 120.0, &[]),
        ];
        let popularity = BTreeMap::from([("l1".to_owned(), 4), ("t1".to_owned(), 2)]);
        let reasons = |ranked: Vec<Ranked>| -> BTreeMap<String, String> {
            ranked.into_iter().map(|r| (r.id, r.reason)).collect()
        };
        let lenses = Inquiry::new("a lenses question", &catalog, None);
        let cold = reasons(rank_products(
            None,
            &Preferences::default(),
            &catalog,
            &popularity,
            &lenses,
            4,
        ));
        assert_eq!(cold["l1"], "popular in lenses");
        assert_eq!(cold["l2"], "asked about lenses");
        let anything = Inquiry::new("hello", &catalog, None);
        let cold = reasons(rank_products(
            None,
            &Preferences::default(),
            &catalog,
            &popularity,
            &anything,
            4,
        ));
        assert_eq!(cold["t1"], "popular in tripods");
        assert_eq!(cold["t2"], "in tripods");

        // A customer who bought a lens: the tripods are explained by nothing of
        // theirs.
        let mut customer = Profile::new("c", 0);
        customer.record_purchase(Purchase {
            item_id: "l1".into(),
            category: "lenses".into(),
            price: Some(100.0),
            currency: "EUR".into(),
            time_ms: 0,
        });
        let prefs = Preferences::derive(&customer, &catalog, 0);
        let known = reasons(rank_products(
            Some(&customer),
            &prefs,
            &catalog,
            &popularity,
            &anything,
            4,
        ));
        assert_eq!(known["t1"], "popular in tripods");
        assert_eq!(known["t2"], "in tripods");
    }

    #[test]
    fn products_follow_the_price_band_and_skip_bought_items() {
        let catalog = catalog();
        let ranked = top_for_buyer_of(&catalog, "l3", 500.0);
        assert_eq!(ranked[0].id, "l4");
        assert!(ranked.iter().all(|r| r.id != "l3"));
        assert!(
            ranked[0].reason.contains("bought Name l3 in lenses"),
            "{}",
            ranked[0].reason
        );
        assert!(
            ranked[0].reason.contains("matches 'autofocus'"),
            "{}",
            ranked[0].reason
        );

        let ranked = top_for_buyer_of(&catalog, "l1", 100.0);
        assert_eq!(ranked[0].id, "l2");
        assert!(
            ranked[0].reason.contains("prefers value in lenses"),
            "{}",
            ranked[0].reason
        );
    }

    /// One catalog of regional SKUs: the same lenses in EUR and in JPY. A
    /// customer who pays in EUR is offered EUR lenses, ranked among EUR prices.
    #[test]
    fn prices_are_set_against_prices_of_their_own_currency() {
        let mut catalog = catalog();
        let yen: Vec<Product> = catalog
            .iter()
            .filter(|p| p.category == "lenses")
            .map(|p| Product {
                id: format!("{}-jp", p.id),
                price: p.price * 150.0,
                currency: "JPY".into(),
                ..p.clone()
            })
            .collect();
        catalog.extend(yen);
        let ranked = top_for_buyer_of(&catalog, "l3", 500.0);
        assert_eq!(ranked[0].id, "l4", "{ranked:?}");
        assert!(ranked.iter().all(|r| !r.id.ends_with("-jp")), "{ranked:?}");
    }

    /// The demo's young shop: one premium and one budget customer, a purchase
    /// each. Each one's purchase is the shop's "most popular" product, yet each
    /// customer is first offered what fits their own price band.
    #[test]
    fn a_handful_of_purchases_does_not_outrank_the_customers_price_band() {
        let catalog = vec![
            product("basic-35", "lenses", 199.0, &["autofocus"]),
            product("kit-24", "lenses", 249.0, &["autofocus"]),
            product("compact-28", "lenses", 299.0, &["autofocus"]),
            product("pro-70", "lenses", 899.0, &["autofocus"]),
            product("pro-85", "lenses", 999.0, &["autofocus"]),
            product("pro-100", "lenses", 1_099.0, &["autofocus"]),
        ];
        let popularity = BTreeMap::from([("basic-35".to_owned(), 1), ("pro-100".to_owned(), 1)]);
        let inquiry = Inquiry::new("autofocus question", &catalog, Some("en".into()));
        let customer = |bought: &str, price: f64| {
            let mut profile = Profile::new(bought, 0);
            profile.record_purchase(Purchase {
                item_id: bought.into(),
                category: "lenses".into(),
                price: Some(price),
                currency: "EUR".into(),
                time_ms: 0,
            });
            profile
        };
        let pro = customer("pro-100", 1_099.0);
        let prefs = Preferences::derive(&pro, &catalog, 0);
        let ranked = rank_products(Some(&pro), &prefs, &catalog, &popularity, &inquiry, 3);
        assert!(
            ranked.iter().take(2).all(|r| r.id.starts_with("pro-")),
            "the pro gets premium lenses first: {ranked:#?}"
        );
        let budget = customer("basic-35", 199.0);
        let prefs = Preferences::derive(&budget, &catalog, 0);
        let ranked = rank_products(Some(&budget), &prefs, &catalog, &popularity, &inquiry, 3);
        assert!(
            ranked.iter().take(2).all(|r| !r.id.starts_with("pro-")),
            "the budget buyer gets value lenses first: {ranked:#?}"
        );
        // With real evidence, popularity does tell products of the same fit apart.
        let proven = BTreeMap::from([("kit-24".to_owned(), 400), ("compact-28".to_owned(), 2)]);
        let ranked = rank_products(Some(&budget), &prefs, &catalog, &proven, &inquiry, 3);
        let position = |id: &str| ranked.iter().position(|r| r.id == id);
        assert!(position("kit-24") < position("compact-28"), "{ranked:#?}");
    }

    #[test]
    fn cold_start_uses_popularity_in_the_category() {
        let catalog = catalog();
        let popularity = BTreeMap::from([
            ("l1".to_string(), 7),
            ("l2".to_string(), 2),
            ("t1".to_string(), 50),
        ]);
        let inquiry = Inquiry::new("which autofocus lens", &catalog, None);
        let ranked = rank_products(
            None,
            &Preferences::default(),
            &catalog,
            &popularity,
            &inquiry,
            2,
        );
        assert_eq!(
            ranked.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
            ["l1", "l2"]
        );
        assert_eq!(ranked[0].reason, "popular in lenses");
        let inquiry = Inquiry::new("hello", &catalog, None);
        let ranked = rank_products(
            None,
            &Preferences::default(),
            &catalog,
            &popularity,
            &inquiry,
            1,
        );
        assert_eq!(ranked[0].id, "t1");
    }

    #[test]
    fn articles_in_the_preferred_language_come_first() {
        let articles = vec![
            article(
                "en",
                "Autofocus tutorial",
                "autofocus autofocus オートフォーカス",
                "en",
                "lenses",
            ),
            article(
                "ja",
                "オートフォーカスの使い方",
                "レンズのオートフォーカス",
                "ja",
                "lenses",
            ),
            article("ship", "Shipping", "parcels", "en", "shipping"),
        ];
        let inquiry = Inquiry::new("オートフォーカスの使い方", &[], None);
        assert_eq!(inquiry.language.as_deref(), Some("ja"));
        let ranked = rank_articles(&articles, &Preferences::default(), &inquiry, 3);
        assert_eq!(
            ranked.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
            ["ja", "en"]
        );
        assert!(
            ranked[0].reason.ends_with("; in ja"),
            "{}",
            ranked[0].reason
        );

        let inquiry = Inquiry::new("autofocus help", &[], Some("en".into()));
        let ranked = rank_articles(&articles, &Preferences::default(), &inquiry, 3);
        assert_eq!(ranked[0].id, "en");
        assert_eq!(ranked[0].reason, "matches 'autofocus'; in en");
        assert_eq!(ranked.len(), 1);
    }
}
