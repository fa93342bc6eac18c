//! The plugin: its manifest, kv storage of profiles and the handling of each event
//! kind (dataset imports are answered in `tools`).

use std::collections::BTreeMap;

use crossdesk_sdk::{
    Action, Customer, DatasetEntries, Event, EventKind, Manifest, Plugin, PluginError, clock, kv,
    log, settings,
};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::catalog::{
    ARTICLE_PREFIX, Article, POPULARITY_PREFIX, PRODUCT_PREFIX, Product, popularity_key,
};
use crate::profile::{
    Identity, Inquiry, Preferences, Profile, Purchase, Rating, identities, profile_key,
};
use crate::rank::{self, Ranked};
use crate::topic::Topic;

/// Recommendations of each kind when `top_k` is not set.
pub const DEFAULT_TOP_K: usize = 3;
/// The settings the plugin reads, as declared in the manifest.
pub const SETTING_KEYS: &[&str] = &["top_k: int(1..20)"];

/// The recommendation plugin.
pub struct Recommend;

impl Plugin for Recommend {
    fn manifest() -> Manifest {
        let mut manifest = Manifest::new("recommend", env!("CARGO_PKG_VERSION"))
            .describe(
                "Personalized product and help-article recommendations from unified customer \
                 profiles (purchases, inquiries, language, price sensitivity)",
            )
            .handles(EventKind::CustomerRegistered)
            .handles(EventKind::PurchaseRecorded)
            .handles(EventKind::ProfileUpdated)
            .handles(EventKind::SatisfactionRated)
            .handles(EventKind::CustomerMessage)
            .wants_kv()
            .cacheable(false);
        for key in SETTING_KEYS {
            manifest = manifest.reads_setting(*key);
        }
        for dataset in crate::tools::dataset_specs() {
            manifest = manifest.offers_dataset(dataset);
        }
        manifest
    }

    fn import_dataset(
        dataset: &str,
        format: &str,
        content: &[u8],
    ) -> Result<DatasetEntries, PluginError> {
        Ok(crate::tools::import_dataset(dataset, format, content)?)
    }

    fn handle(event: Event) -> Result<Vec<Action>, PluginError> {
        let now = if event.occurred_at_ms > 0 {
            event.occurred_at_ms
        } else {
            clock::now_ms()
        };
        match event.kind {
            EventKind::CustomerRegistered | EventKind::ProfileUpdated => {
                update_profile(&event, now, |profile| observe(profile, &event))?;
                Ok(Vec::new())
            }
            EventKind::PurchaseRecorded => {
                let catalog = load_all::<Product>(PRODUCT_PREFIX)?;
                let Some(purchase) = purchase_from_event(&event, &catalog, now) else {
                    log::warn("purchase-recorded event without purchase.item_id; ignored");
                    return Ok(Vec::new());
                };
                // Every customer's purchases count here, concurrently: a
                // compare-and-swap, so that no purchase is lost.
                kv::update(&popularity_key(&purchase.item_id), |old| {
                    let count = old
                        .and_then(|v| String::from_utf8_lossy(v).trim().parse::<u64>().ok())
                        .unwrap_or(0);
                    Some(count.saturating_add(1).to_string().into_bytes())
                })?;
                update_profile(&event, now, |profile| {
                    observe(profile, &event);
                    profile.record_purchase(purchase.clone());
                })?;
                Ok(Vec::new())
            }
            EventKind::SatisfactionRated => {
                update_profile(&event, now, |profile| {
                    observe(profile, &event);
                    if let Some(score) = rating_from_event(&event) {
                        profile.record_rating(Rating {
                            score,
                            time_ms: now,
                        });
                    }
                })?;
                Ok(Vec::new())
            }
            EventKind::CustomerMessage => on_message(&event, now),
            _ => Ok(Vec::new()),
        }
    }
}

/// The result of [`recommend`]: the inquiry's topic and the ranked items.
#[derive(Debug, Clone, PartialEq)]
pub struct Recommendations {
    /// The inquiry as understood (terms, topic, product category, language).
    pub inquiry: rank::Inquiry,
    /// Top products.
    pub products: Vec<Ranked>,
    /// Top articles.
    pub articles: Vec<Ranked>,
}

/// Ranks products and articles for a message — the plugin's whole decision, pure,
/// for native use (offline evaluation). `language` is the customer's locale
/// language; the profile's language wins over it.
#[allow(clippy::too_many_arguments)]
pub fn recommend(
    profile: Option<&Profile>,
    catalog: &[Product],
    articles: &[Article],
    popularity: &BTreeMap<String, u64>,
    text: &str,
    language: Option<&str>,
    now_ms: i64,
    top_k: usize,
) -> Recommendations {
    let prefs = profile.map_or_else(Preferences::default, |p| {
        Preferences::derive(p, catalog, now_ms)
    });
    let language = prefs
        .language
        .clone()
        .or_else(|| language.map(str::to_lowercase));
    let inquiry = rank::Inquiry::new(text, catalog, language);
    let products = rank::rank_products(profile, &prefs, catalog, popularity, &inquiry, top_k);
    let articles = rank::rank_articles(articles, &prefs, &inquiry, top_k);
    Recommendations {
        inquiry,
        products,
        articles,
    }
}

/// The purchase a `PurchaseRecorded` event describes: attributes `purchase.item_id`
/// (required), `purchase.category`, `purchase.price`, `purchase.currency`; the
/// missing ones come from the catalog product (no price when neither has one).
pub fn purchase_from_event(event: &Event, catalog: &[Product], now_ms: i64) -> Option<Purchase> {
    let item_id = event.attribute("purchase.item_id")?.trim();
    if item_id.is_empty() {
        return None;
    }
    let product = catalog.iter().find(|p| p.id == item_id);
    let text = |key: &str| {
        event
            .attribute(key)
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    };
    Some(Purchase {
        item_id: item_id.to_owned(),
        category: text("purchase.category")
            .or_else(|| product.map(|p| p.category.clone()))
            .unwrap_or_else(|| "uncategorized".into()),
        // Unknown when neither tells: not 0, which would read as the cheapest.
        price: text("purchase.price")
            .and_then(|p| p.parse::<f64>().ok())
            .filter(|p| p.is_finite())
            .or_else(|| product.map(|p| p.price)),
        currency: text("purchase.currency")
            .or_else(|| product.map(|p| p.currency.clone()))
            .unwrap_or_default(),
        time_ms: now_ms,
    })
}

/// The score of a `SatisfactionRated` event: attribute `satisfaction.score`, else
/// the event text, as a number.
pub fn rating_from_event(event: &Event) -> Option<f64> {
    event
        .attribute("satisfaction.score")
        .unwrap_or(&event.text)
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|s| s.is_finite())
}

/// `top_k` from the settings, 1..=20, default 3.
pub fn top_k() -> usize {
    settings::get("top_k")
        .and_then(|v| v.trim().parse::<usize>().ok())
        .map_or(DEFAULT_TOP_K, |k| k.clamp(1, 20))
}

fn on_message(event: &Event, now: i64) -> Result<Vec<Action>, PluginError> {
    let catalog = load_all::<Product>(PRODUCT_PREFIX)?;
    let articles = load_all::<Article>(ARTICLE_PREFIX)?;
    let popularity = load_popularity()?;
    // A profile another event changed meanwhile: ranked without it this time.
    let profile = match resolve(event.customer.as_ref(), now)? {
        Resolved::Stored(profile, _) => Some(*profile),
        Resolved::NoCustomer | Resolved::Changed => None,
    };
    let language = event.customer.as_ref().and_then(Customer::language);
    let result = recommend(
        profile.as_ref(),
        &catalog,
        &articles,
        &popularity,
        &event.text,
        language,
        now,
        top_k(),
    );
    if event.customer.is_some() {
        let inquiry = Inquiry {
            category: result.inquiry.category.clone(),
            topic: result.inquiry.topic.name().to_owned(),
            time_ms: now,
        };
        update_profile(event, now, |profile| {
            observe(profile, event);
            profile.record_inquiry(inquiry.clone());
        })?;
    }
    let topic: Topic = result.inquiry.topic;
    let mut actions = vec![Action::AddTags(vec![topic.tag()])];
    let items: Vec<_> = result
        .products
        .into_iter()
        .chain(result.articles)
        .map(Into::into)
        .collect();
    if !items.is_empty() {
        actions.push(Action::Recommend(items));
    }
    Ok(actions)
}

fn observe(profile: &mut Profile, event: &Event) {
    if let Some(customer) = &event.customer {
        profile.observe(customer, &event.channel);
    }
}

fn load<T: DeserializeOwned>(key: &str) -> Result<Option<T>, PluginError> {
    match kv::get(key)? {
        None => Ok(None),
        Some(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| PluginError::new(format!("kv {key}: {e}"))),
    }
}

fn to_json<T: Serialize>(key: &str, value: &T) -> Result<Vec<u8>, PluginError> {
    serde_json::to_vec(value).map_err(|e| PluginError::new(format!("kv {key}: {e}")))
}

/// Every record under `prefix`; a record that does not parse is logged and skipped.
fn load_all<T: DeserializeOwned>(prefix: &str) -> Result<Vec<T>, PluginError> {
    let mut out = Vec::new();
    for key in kv::list_keys(prefix)? {
        match load::<T>(&key) {
            Ok(Some(record)) => out.push(record),
            Ok(None) => {}
            Err(e) => log::warn(&format!("skipped: {e}")),
        }
    }
    Ok(out)
}

fn load_popularity() -> Result<BTreeMap<String, u64>, PluginError> {
    let mut out = BTreeMap::new();
    for key in kv::list_keys(POPULARITY_PREFIX)? {
        if let Some(bytes) = kv::get(&key)?
            && let Ok(n) = String::from_utf8_lossy(&bytes).trim().parse::<u64>()
            && let Some(id) = key.strip_prefix(POPULARITY_PREFIX)
        {
            out.insert(id.to_owned(), n);
        }
    }
    Ok(out)
}

/// Applies `change` to the profile of the event's customer and stores it without
/// losing another event's update of it: every write is a compare-and-swap against
/// what was read, and when another event wrote meanwhile, the profile is read
/// again and `change` applied to that.
fn update_profile(
    event: &Event,
    now: i64,
    mut change: impl FnMut(&mut Profile),
) -> Result<(), PluginError> {
    for _ in 0..kv::UPDATE_ATTEMPTS {
        let (mut profile, stored) = match resolve(event.customer.as_ref(), now)? {
            Resolved::NoCustomer => return Ok(()),
            Resolved::Changed => continue,
            Resolved::Stored(profile, stored) => (*profile, stored),
        };
        change(&mut profile);
        let bytes = to_json(&profile_key(&profile.id), &profile)?;
        if kv::compare_and_swap(&profile_key(&profile.id), Some(&stored), Some(&bytes))? {
            return Ok(());
        }
    }
    Err(PluginError::new(
        "a customer's profile kept changing while this event updated it",
    ))
}

/// What [`resolve`] found.
enum Resolved {
    /// The event names no customer.
    NoCustomer,
    /// Another event changed the profile while this one merged it: resolve again.
    Changed,
    /// The profile, and the bytes stored for it: the caller stores its other
    /// changes by a compare-and-swap against them.
    Stored(Box<Profile>, Vec<u8>),
}

/// The profile of the event's customer, created when new; when the identities lead
/// to several profiles they are merged into the oldest and the identities repointed.
/// Stores the identities and the merge.
fn resolve(customer: Option<&Customer>, now: i64) -> Result<Resolved, PluginError> {
    let Some(customer) = customer else {
        return Ok(Resolved::NoCustomer);
    };
    let ids: Vec<Identity> = identities(customer);
    let Some(first) = ids.first() else {
        return Ok(Resolved::NoCustomer);
    };
    // Each profile found, with the bytes it was read as.
    let mut found: Vec<(Profile, Vec<u8>)> = Vec::new();
    for identity in &ids {
        if let Some(bytes) = kv::get(&identity.key())? {
            let profile_id = String::from_utf8_lossy(&bytes).into_owned();
            if found.iter().any(|(p, _)| p.id == profile_id) {
                continue;
            }
            let key = profile_key(&profile_id);
            if let Some(stored) = kv::get(&key)? {
                let profile: Profile = serde_json::from_slice(&stored)
                    .map_err(|e| PluginError::new(format!("kv {key}: {e}")))?;
                found.push((profile, stored));
            }
        }
    }
    found.sort_by(|(a, _), (b, _)| a.first_seen_ms.cmp(&b.first_seen_ms).then(a.id.cmp(&b.id)));
    let mut others = found.into_iter();
    let (mut profile, read) = match others.next() {
        Some((profile, stored)) => (profile, Some(stored)),
        None => (Profile::new(first.label().replace('/', ":"), now), None),
    };
    let others: Vec<Profile> = others.map(|(p, _)| p).collect();
    let merged_ids: Vec<String> = others.iter().map(|p| p.id.clone()).collect();
    for other in others {
        log::info(&format!("merged profile {} into {}", other.id, profile.id));
        profile.merge(other);
    }
    for identity in &ids {
        profile.add_identity(identity);
    }
    // The merged profile first, then the identities, then the old profiles: an
    // interruption leaves history duplicated, never lost.
    let key = profile_key(&profile.id);
    let stored = to_json(&key, &profile)?;
    if read.as_deref() != Some(stored.as_slice())
        && !kv::compare_and_swap(&key, read.as_deref(), Some(&stored))?
    {
        return Ok(Resolved::Changed);
    }
    for label in &profile.identities {
        kv::put(
            &format!("{}{label}", crate::profile::IDENTITY_PREFIX),
            profile.id.as_bytes(),
        )?;
    }
    for id in merged_ids {
        kv::delete(&profile_key(&id))?;
    }
    Ok(Resolved::Stored(Box::new(profile), stored))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purchase_attributes_with_catalog_fallback() {
        let catalog = crate::parse_catalog_json(
            r#"[{"id": "l1", "category": "lenses", "price": 499, "currency": "EUR"}]"#,
        )
        .unwrap();
        let e = Event::new(EventKind::PurchaseRecorded, "")
            .with_attribute("purchase.item_id", "l1")
            .with_attribute("purchase.price", "450.5");
        let p = purchase_from_event(&e, &catalog, 7).unwrap();
        assert_eq!(
            (p.category.as_str(), p.price, p.currency.as_str(), p.time_ms),
            ("lenses", Some(450.5), "EUR", 7)
        );
        // Neither the event nor the catalog knows the price: none, not 0.
        let unknown = Event::new(EventKind::PurchaseRecorded, "")
            .with_attribute("purchase.item_id", "gift-card")
            .with_attribute("purchase.category", "lenses");
        let p = purchase_from_event(&unknown, &catalog, 7).unwrap();
        assert_eq!(p.price, None);
        let l1 =
            Event::new(EventKind::PurchaseRecorded, "").with_attribute("purchase.item_id", "l1");
        assert_eq!(
            purchase_from_event(&l1, &catalog, 7).unwrap().price,
            Some(499.0)
        );
        assert!(
            purchase_from_event(&Event::new(EventKind::PurchaseRecorded, ""), &catalog, 0)
                .is_none()
        );
    }

    #[test]
    fn rating_from_attribute_or_text() {
        let e =
            Event::new(EventKind::SatisfactionRated, "4").with_attribute("satisfaction.score", "5");
        assert_eq!(rating_from_event(&e), Some(5.0));
        assert_eq!(
            rating_from_event(&Event::new(EventKind::SatisfactionRated, " 3 ")),
            Some(3.0)
        );
        assert_eq!(
            rating_from_event(&Event::new(EventKind::SatisfactionRated, "great")),
            None
        );
    }

    #[test]
    fn manifest() {
        let m = Recommend::manifest();
        assert_eq!(m.events.len(), 5);
        assert!(m.kv && !m.cacheable);
        assert_eq!(m.settings, ["top_k: int(1..20)"]);
    }
}
