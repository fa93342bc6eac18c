//! Customer profiles, identities, and the explainable preferences derived from them.
//!
//! A profile is stored at `profile/<profile id>`; each identity of the customer —
//! the helpdesk customer id and every external id (`email`, `phone`, `whatsapp`,
//! `facebook`, …) — is stored at `identity/<kind>/<value>` with the profile id as
//! value. When one event's identities lead to two profiles, they are [merged]
//! (`Profile::merge`) and the identities repointed.
//!
//! Preferences ([`Preferences::derive`]):
//!
//! * **price sensitivity** per category: the mean [`percentile`] of the customer's
//!   purchase prices among that category's catalog prices — below 0.35 `value`,
//!   above 0.65 `premium`, else `mid` (a purchase whose price is unknown is left
//!   out, not counted as free);
//! * **interest** per category: purchases (weight 1) and inquiries (weight 0.5),
//!   each decayed by age with a half-life of 90 days ([`decay`]);
//! * **language**: from the customer's locale.
//!
//! [merged]: Profile::merge

use std::collections::BTreeMap;

use crossdesk_sdk::Customer;
use serde::{Deserialize, Serialize};

use crate::catalog::Product;

/// The kv prefix of profiles.
pub const PROFILE_PREFIX: &str = "profile/";
/// The kv prefix of identities.
pub const IDENTITY_PREFIX: &str = "identity/";
/// Interest half-life.
pub const HALF_LIFE_DAYS: f64 = 90.0;
/// Upper percentile bound of the `value` band (exclusive).
pub const VALUE_BELOW: f64 = 0.35;
/// Lower percentile bound of the `premium` band (exclusive).
pub const PREMIUM_ABOVE: f64 = 0.65;
/// Weight of one inquiry relative to one purchase in category interest.
pub const INQUIRY_WEIGHT: f64 = 0.5;

const DAY_MS: f64 = 86_400_000.0;

/// The kv key of profile `id`.
pub fn profile_key(id: &str) -> String {
    format!("{PROFILE_PREFIX}{id}")
}

/// One way to recognize a customer: a kind (`customer`, `email`, `phone`, …) and a
/// normalized value.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Identity {
    /// Lowercase kind.
    pub kind: String,
    /// Normalized value: emails lowercased, phone numbers (`phone`, `whatsapp`,
    /// `sms`) reduced to digits.
    pub value: String,
}

impl Identity {
    /// Normalizes `kind` and `value`; `None` when either is empty or the value
    /// cannot tell one person from another (see [`placeholder`]).
    pub fn new(kind: &str, value: &str) -> Option<Identity> {
        let kind = kind.trim().to_lowercase();
        let value = value.trim();
        let value = match kind.as_str() {
            "email" => value.to_lowercase(),
            "phone" | "whatsapp" | "sms" => value.chars().filter(char::is_ascii_digit).collect(),
            _ => value.to_owned(),
        };
        (!kind.is_empty() && !value.is_empty() && !placeholder(&kind, &value))
            .then_some(Identity { kind, value })
    }

    /// `kind/value`.
    pub fn label(&self) -> String {
        format!("{}/{}", self.kind, self.value)
    }

    /// The kv key: `identity/<kind>/<value>`.
    pub fn key(&self) -> String {
        format!("{IDENTITY_PREFIX}{}", self.label())
    }
}

/// Whether an identity's (normalized) value is a stand-in that many customers
/// share, which would merge their profiles into one: a number too short to be a
/// phone's, or whose last seven digits (the line's own, after any country and
/// area code: `+1 555 555 5555`) are one repeated digit or a run (`1234567`); an
/// address without `@`; or a word helpdesks fill empty fields with.
fn placeholder(kind: &str, value: &str) -> bool {
    const WORDS: [&str; 8] = ["unknown", "none", "null", "n/a", "na", "-", "0", "test"];
    const LINE_DIGITS: usize = 7;
    let digits_only = matches!(kind, "phone" | "whatsapp" | "sms");
    if digits_only {
        // ASCII digits only (see `Identity::new`): one byte each.
        let Some(line) = value
            .len()
            .checked_sub(LINE_DIGITS)
            .map(|at| &value.as_bytes()[at..])
        else {
            return true;
        };
        let steps: Vec<i16> = line
            .windows(2)
            .map(|pair| i16::from(pair[1]) - i16::from(pair[0]))
            .collect();
        return [0, 1, -1]
            .iter()
            .any(|step| steps.iter().all(|s| s == step));
    }
    if kind == "email" {
        return !value.split_once('@').is_some_and(|(user, domain)| {
            !user.is_empty() && domain.contains('.') && !WORDS.contains(&user)
        });
    }
    WORDS.contains(&value.to_lowercase().as_str())
}

/// The identities an event's customer shows: the customer id (kind `customer`)
/// first, then the external ids.
pub fn identities(customer: &Customer) -> Vec<Identity> {
    let mut out = Vec::new();
    let pairs = std::iter::once(("customer", customer.id.as_str())).chain(
        customer
            .external_ids
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str())),
    );
    for (kind, value) in pairs {
        if let Some(id) = Identity::new(kind, value)
            && !out.contains(&id)
        {
            out.push(id);
        }
    }
    out
}

/// A purchase.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Purchase {
    /// The product id.
    pub item_id: String,
    /// The product category.
    pub category: String,
    /// The price paid; `None` when neither the event nor the catalog told it. A
    /// purchase without a price counts for interest, never for the price band.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price: Option<f64>,
    /// ISO 4217 code.
    pub currency: String,
    /// When (ms since the epoch).
    pub time_ms: i64,
}

/// An inquiry (a customer message).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inquiry {
    /// The product category it was about, when one was recognized.
    pub category: Option<String>,
    /// The topic name (`shipping`, …).
    pub topic: String,
    /// When (ms since the epoch).
    pub time_ms: i64,
}

/// A satisfaction rating.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rating {
    /// The score as the helpdesk sent it.
    pub score: f64,
    /// When (ms since the epoch).
    pub time_ms: i64,
}

/// Purchases a profile keeps, the newest; older ones weigh next to nothing in the
/// interests (90-day half-life) and the stored profile must stay far below the
/// host's 1 MiB value limit however long the customer stays.
pub const MAX_PURCHASES: usize = 500;
/// Inquiries a profile keeps, the newest.
pub const MAX_INQUIRIES: usize = 200;
/// Ratings a profile keeps, the newest.
pub const MAX_RATINGS: usize = 100;

/// Drops the oldest entries of a list sorted oldest first, down to `max`.
fn keep_newest<T>(list: &mut Vec<T>, max: usize) {
    let excess = list.len().saturating_sub(max);
    list.drain(..excess);
}

/// Everything known about one person.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Profile {
    /// The canonical profile id.
    pub id: String,
    /// The identities (`kind/value`) pointing here.
    pub identities: Vec<String>,
    /// Purchases, oldest first (the newest [`MAX_PURCHASES`]).
    pub purchases: Vec<Purchase>,
    /// Inquiries, oldest first (the newest [`MAX_INQUIRIES`]).
    pub inquiries: Vec<Inquiry>,
    /// Language from the latest locale seen (`en`, `ja`, …).
    pub language: Option<String>,
    /// Events seen per channel.
    pub channels: BTreeMap<String, u32>,
    /// Satisfaction ratings, oldest first (the newest [`MAX_RATINGS`]).
    pub satisfaction: Vec<Rating>,
    /// First event seen (ms since the epoch).
    pub first_seen_ms: i64,
    /// Ids of the profiles merged into this one.
    pub merged_from: Vec<String>,
}

impl Profile {
    /// A new, empty profile.
    pub fn new(id: impl Into<String>, now_ms: i64) -> Profile {
        Profile {
            id: id.into(),
            first_seen_ms: now_ms,
            ..Profile::default()
        }
    }

    /// Adds an identity (once).
    pub fn add_identity(&mut self, identity: &Identity) {
        let label = identity.label();
        if !self.identities.contains(&label) {
            self.identities.push(label);
        }
    }

    /// Records what any event shows: the customer's language and the channel.
    pub fn observe(&mut self, customer: &Customer, channel: &str) {
        if let Some(language) = customer.language() {
            self.language = Some(language.to_lowercase());
        }
        if !channel.is_empty() {
            *self.channels.entry(channel.to_lowercase()).or_insert(0) += 1;
        }
    }

    /// Records a purchase (a repeat of the same item at the same time is ignored).
    pub fn record_purchase(&mut self, purchase: Purchase) {
        let seen = self
            .purchases
            .iter()
            .any(|p| p.item_id == purchase.item_id && p.time_ms == purchase.time_ms);
        if !seen {
            self.purchases.push(purchase);
            self.purchases.sort_by_key(|p| p.time_ms);
            keep_newest(&mut self.purchases, MAX_PURCHASES);
        }
    }

    /// Records an inquiry.
    pub fn record_inquiry(&mut self, inquiry: Inquiry) {
        if !self.inquiries.contains(&inquiry) {
            self.inquiries.push(inquiry);
            self.inquiries.sort_by_key(|i| i.time_ms);
            keep_newest(&mut self.inquiries, MAX_INQUIRIES);
        }
    }

    /// Records a satisfaction rating.
    pub fn record_rating(&mut self, rating: Rating) {
        if !self.satisfaction.contains(&rating) {
            self.satisfaction.push(rating);
            self.satisfaction.sort_by_key(|r| r.time_ms);
            keep_newest(&mut self.satisfaction, MAX_RATINGS);
        }
    }

    /// Merges `other` (the same person) into this profile, losing no history
    /// within the caps (the newest entries of both are kept).
    pub fn merge(&mut self, other: Profile) {
        for identity in other.identities {
            if !self.identities.contains(&identity) {
                self.identities.push(identity);
            }
        }
        for p in other.purchases {
            self.record_purchase(p);
        }
        for i in other.inquiries {
            self.record_inquiry(i);
        }
        for r in other.satisfaction {
            self.record_rating(r);
        }
        for (channel, n) in other.channels {
            *self.channels.entry(channel).or_insert(0) += n;
        }
        if self.language.is_none() {
            self.language = other.language;
        }
        self.first_seen_ms = self.first_seen_ms.min(other.first_seen_ms);
        for id in other.merged_from.into_iter().chain([other.id]) {
            if id != self.id && !self.merged_from.contains(&id) {
                self.merged_from.push(id);
            }
        }
    }

    /// The channel with the most events (ties: alphabetical first).
    pub fn preferred_channel(&self) -> Option<&str> {
        self.channels
            .iter()
            .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
            .map(|(c, _)| c.as_str())
    }

    /// Inquiries per category (inquiries without a category under `""`).
    pub fn inquiry_counts(&self) -> BTreeMap<String, u32> {
        let mut counts = BTreeMap::new();
        for i in &self.inquiries {
            *counts
                .entry(i.category.clone().unwrap_or_default())
                .or_insert(0) += 1;
        }
        counts
    }

    /// The mean satisfaction score.
    pub fn mean_satisfaction(&self) -> Option<f64> {
        (!self.satisfaction.is_empty()).then(|| {
            self.satisfaction.iter().map(|r| r.score).sum::<f64>() / self.satisfaction.len() as f64
        })
    }

    /// Whether the customer bought `item_id`.
    pub fn bought(&self, item_id: &str) -> bool {
        self.purchases.iter().any(|p| p.item_id == item_id)
    }
}

/// The share of `population` below `value` (values equal count half), in 0..=1;
/// 0.5 for an empty population.
///
/// ```
/// assert_eq!(recommend::profile::percentile(30.0, &[10.0, 20.0, 30.0, 40.0]), 0.625);
/// ```
pub fn percentile(value: f64, population: &[f64]) -> f64 {
    if population.is_empty() {
        return 0.5;
    }
    let below = population.iter().filter(|&&p| p < value).count() as f64;
    let equal = population.iter().filter(|&&p| p == value).count() as f64;
    (below + equal / 2.0) / population.len() as f64
}

/// [`percentile`] in a population sorted by [`f64::total_cmp`]: two binary
/// searches instead of a pass.
pub fn percentile_in_sorted(value: f64, sorted: &[f64]) -> f64 {
    if sorted.is_empty() {
        return 0.5;
    }
    let below = sorted.partition_point(|&p| p < value);
    let up_to = sorted.partition_point(|&p| p <= value);
    (below as f64 + up_to.saturating_sub(below) as f64 / 2.0) / sorted.len() as f64
}

/// The weight of something `age_ms` old: 1 now, ½ after [`HALF_LIFE_DAYS`]
/// (future times count as now).
pub fn decay(age_ms: i64) -> f64 {
    let days = age_ms.max(0) as f64 / DAY_MS;
    0.5f64.powf(days / HALF_LIFE_DAYS)
}

/// Price sensitivity in a category.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum PriceBand {
    /// Buys at the low end (percentile < 0.35).
    Value,
    /// In between.
    Mid,
    /// Buys at the high end (percentile > 0.65).
    Premium,
}

impl PriceBand {
    /// The band of a price percentile.
    pub fn of(percentile: f64) -> PriceBand {
        if percentile < VALUE_BELOW {
            PriceBand::Value
        } else if percentile > PREMIUM_ABOVE {
            PriceBand::Premium
        } else {
            PriceBand::Mid
        }
    }

    /// `value`, `mid` or `premium`.
    pub fn name(self) -> &'static str {
        match self {
            PriceBand::Value => "value",
            PriceBand::Mid => "mid",
            PriceBand::Premium => "premium",
        }
    }
}

/// Price sensitivity in one category.
#[derive(Debug, Clone, PartialEq)]
pub struct PricePreference {
    /// The mean percentile of the customer's purchases among the category's
    /// prices in their currency.
    pub percentile: f64,
    /// Its band.
    pub band: PriceBand,
    /// The currency of the customer's purchases in the category (ISO 4217, as
    /// the catalog wrote it; empty when unknown): a band is of that currency.
    pub currency: String,
}

impl PricePreference {
    /// Whether a price in `currency` can be set against the band.
    pub fn applies_to(&self, currency: &str) -> bool {
        same_currency(&self.currency, currency)
    }
}

/// What a profile says the customer prefers; every value is explainable.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Preferences {
    /// Decayed interest per product category.
    pub interests: BTreeMap<String, f64>,
    /// Price sensitivity per category the customer bought in.
    pub price: BTreeMap<String, PricePreference>,
    /// The preferred language.
    pub language: Option<String>,
}

impl Preferences {
    /// Derives the preferences of `profile` at `now_ms` against the catalog.
    pub fn derive(profile: &Profile, catalog: &[Product], now_ms: i64) -> Preferences {
        let mut interests: BTreeMap<String, f64> = BTreeMap::new();
        for p in &profile.purchases {
            *interests.entry(p.category.clone()).or_insert(0.0) += decay(now_ms - p.time_ms);
        }
        for i in &profile.inquiries {
            if let Some(category) = &i.category {
                *interests.entry(category.clone()).or_insert(0.0) +=
                    INQUIRY_WEIGHT * decay(now_ms - i.time_ms);
            }
        }
        let mut by_category: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
        // The currency of the latest purchase counted in each category.
        let mut currency: BTreeMap<&str, &str> = BTreeMap::new();
        for p in &profile.purchases {
            // A purchase whose price nobody told says nothing about the price band
            // (counted as 0 it would make every such customer a bargain hunter).
            let Some(price) = p.price else {
                continue;
            };
            // A price says something only next to prices in its own currency
            // (there are no exchange rates here); a purchase in a currency the
            // category's catalog does not use is no evidence of price sensitivity.
            let comparable: Vec<f64> = catalog
                .iter()
                .filter(|c| c.category == p.category && same_currency(&c.currency, &p.currency))
                .map(|c| c.price)
                .collect();
            if comparable.is_empty() && !category_prices(catalog, &p.category).is_empty() {
                continue;
            }
            by_category
                .entry(&p.category)
                .or_default()
                .push(percentile(price, &comparable));
            currency.insert(&p.category, &p.currency);
        }
        let price = by_category
            .into_iter()
            .map(|(category, ps)| {
                let mean = ps.iter().sum::<f64>() / ps.len() as f64;
                (
                    category.to_owned(),
                    PricePreference {
                        percentile: mean,
                        band: PriceBand::of(mean),
                        currency: currency
                            .get(category)
                            .copied()
                            .unwrap_or_default()
                            .to_owned(),
                    },
                )
            })
            .collect();
        Preferences {
            interests,
            price,
            language: profile.language.clone(),
        }
    }

    /// The strongest interest (0 when none).
    pub fn max_interest(&self) -> f64 {
        self.interests.values().copied().fold(0.0, f64::max)
    }
}

/// Whether two ISO 4217 codes name the same currency; an unknown (empty) one is
/// taken to be the catalog's.
fn same_currency(a: &str, b: &str) -> bool {
    a.is_empty() || b.is_empty() || a.eq_ignore_ascii_case(b)
}

/// The catalog prices of a category.
pub fn category_prices(catalog: &[Product], category: &str) -> Vec<f64> {
    catalog
        .iter()
        .filter(|p| p.category == category)
        .map(|p| p.price)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 86_400_000;

    fn product(id: &str, category: &str, price: f64) -> Product {
        Product {
            id: id.into(),
            category: category.into(),
            price,
            currency: "EUR".into(),
            tags: vec![],
            names: BTreeMap::new(),
        }
    }

    fn purchase(item: &str, category: &str, price: f64, time_ms: i64) -> Purchase {
        Purchase {
            item_id: item.into(),
            category: category.into(),
            price: Some(price),
            currency: "EUR".into(),
            time_ms,
        }
    }

    #[test]
    fn prices_in_another_currency_are_no_evidence_of_a_price_band() {
        let catalog = [
            product("a", "lenses", 100.0),
            product("b", "lenses", 500.0),
            product("c", "lenses", 1000.0),
        ];
        let mut profile = Profile::new("customer:c-1", 0);
        // 90,000 yen is not a premium purchase among prices in euros.
        let mut yen = purchase("x", "lenses", 90_000.0, 0);
        yen.currency = "JPY".into();
        profile.record_purchase(yen);
        let prefs = Preferences::derive(&profile, &catalog, 0);
        assert!(!prefs.price.contains_key("lenses"), "{:?}", prefs.price);
        assert!(prefs.interests.contains_key("lenses"), "still an interest");
        profile.record_purchase(purchase("a", "lenses", 100.0, DAY));
        let prefs = Preferences::derive(&profile, &catalog, DAY);
        assert_eq!(prefs.price["lenses"].band, PriceBand::Value);
    }

    #[test]
    fn a_purchase_without_a_price_is_no_evidence_of_a_price_band() {
        let catalog: Vec<Product> = [100.0, 200.0, 300.0, 400.0, 500.0]
            .iter()
            .enumerate()
            .map(|(i, &p)| product(&format!("l{i}"), "lenses", p))
            .collect();
        let mut profile = Profile::new("customer:c-1", 0);
        profile.record_purchase(Purchase {
            price: None,
            ..purchase("gift", "lenses", 0.0, 0)
        });
        let prefs = Preferences::derive(&profile, &catalog, 0);
        assert!(!prefs.price.contains_key("lenses"), "{:?}", prefs.price);
        assert_eq!(prefs.interests["lenses"], 1.0, "still an interest");
        // Next to a premium purchase it does not pull the band down.
        profile.record_purchase(purchase("l4", "lenses", 500.0, DAY));
        let prefs = Preferences::derive(&profile, &catalog, DAY);
        assert_eq!(prefs.price["lenses"].percentile, 0.9);
        assert_eq!(prefs.price["lenses"].band, PriceBand::Premium);
        // Stored without a price, and read back so.
        let json = serde_json::to_string(&profile.purchases[0]).expect("json");
        assert!(!json.contains("price"), "{json}");
        let back: Purchase = serde_json::from_str(&json).expect("purchase");
        assert_eq!(back.price, None);
        let old: Purchase = serde_json::from_str(
            r#"{"item_id": "l1", "category": "lenses", "price": 200.0, "currency": "EUR", "time_ms": 0}"#,
        )
        .expect("a stored purchase");
        assert_eq!(old.price, Some(200.0));
    }

    #[test]
    fn a_long_history_keeps_its_newest_entries_and_stays_small() {
        let mut profile = Profile::new("customer:c-1", 0);
        // Recorded newest first, as a merge or a late import may deliver them.
        for i in (0..(MAX_PURCHASES as i64 + 100)).rev() {
            profile.record_purchase(purchase(&format!("p-{i}"), "lenses", 100.0, i * DAY));
        }
        for i in 0..(MAX_RATINGS as i64 + 10) {
            profile.record_rating(Rating {
                score: 5.0,
                time_ms: i * DAY,
            });
        }
        assert_eq!(profile.purchases.len(), MAX_PURCHASES);
        assert_eq!(
            profile.purchases[0].time_ms,
            100 * DAY,
            "the oldest 100 went"
        );
        assert_eq!(
            profile.purchases.last().map(|p| p.time_ms),
            Some((MAX_PURCHASES as i64 + 99) * DAY)
        );
        assert_eq!(profile.satisfaction.len(), MAX_RATINGS);
        assert_eq!(profile.satisfaction[0].time_ms, 10 * DAY);
        let bytes = serde_json::to_vec(&profile).expect("json").len();
        assert!(bytes < 256 * 1024, "{bytes} bytes");
    }

    #[test]
    fn percentiles_and_bands() {
        let prices = [100.0, 200.0, 300.0, 400.0, 500.0];
        assert_eq!(percentile(100.0, &prices), 0.1);
        assert_eq!(percentile(500.0, &prices), 0.9);
        assert_eq!(percentile(50.0, &prices), 0.0);
        assert_eq!(percentile(900.0, &prices), 1.0);
        assert_eq!(percentile(1.0, &[]), 0.5);
        let population = [300.0, 100.0, 200.0, 200.0, 500.0];
        let mut sorted = population;
        sorted.sort_by(f64::total_cmp);
        for value in [50.0, 100.0, 150.0, 200.0, 500.0, 900.0] {
            assert_eq!(
                percentile_in_sorted(value, &sorted),
                percentile(value, &population),
                "{value}"
            );
        }
        assert_eq!(percentile_in_sorted(1.0, &[]), 0.5);
        assert_eq!(PriceBand::of(0.1), PriceBand::Value);
        assert_eq!(PriceBand::of(0.35), PriceBand::Mid);
        assert_eq!(PriceBand::of(0.65), PriceBand::Mid);
        assert_eq!(PriceBand::of(0.9), PriceBand::Premium);
    }

    #[test]
    fn decay_halves_every_90_days() {
        assert_eq!(decay(0), 1.0);
        assert!((decay(90 * DAY) - 0.5).abs() < 1e-12);
        assert!((decay(180 * DAY) - 0.25).abs() < 1e-12);
        assert_eq!(decay(-DAY), 1.0);
    }

    #[test]
    fn preferences_are_derived_from_purchases_and_inquiries() {
        let catalog: Vec<Product> = [100.0, 200.0, 300.0, 400.0, 500.0]
            .iter()
            .enumerate()
            .map(|(i, &p)| product(&format!("l{i}"), "lenses", p))
            .chain([
                product("t1", "tripods", 50.0),
                product("t2", "tripods", 80.0),
            ])
            .collect();
        let now = 1000 * DAY;
        let mut profile = Profile::new("p", 0);
        profile.record_purchase(purchase("l4", "lenses", 500.0, now));
        profile.record_purchase(purchase("t1", "tripods", 50.0, now - 90 * DAY));
        profile.record_inquiry(Inquiry {
            category: Some("tripods".into()),
            topic: "usage".into(),
            time_ms: now,
        });
        profile.language = Some("ja".into());
        let prefs = Preferences::derive(&profile, &catalog, now);
        assert_eq!(prefs.interests["lenses"], 1.0);
        assert!((prefs.interests["tripods"] - 1.0).abs() < 1e-12);
        assert_eq!(prefs.price["lenses"].band, PriceBand::Premium);
        assert_eq!(prefs.price["tripods"].band, PriceBand::Value);
        assert_eq!(prefs.language.as_deref(), Some("ja"));
        assert_eq!(prefs.max_interest(), 1.0);
    }

    #[test]
    fn identities_are_normalized() {
        let customer = Customer {
            id: "c-1".into(),
            external_ids: vec![
                ("Email".into(), " Ana@Example.COM ".into()),
                ("whatsapp".into(), "+34 600 11 22 33".into()),
                ("facebook".into(), "".into()),
            ],
            ..Default::default()
        };
        let ids: Vec<String> = identities(&customer).iter().map(Identity::key).collect();
        assert_eq!(
            ids,
            [
                "identity/customer/c-1",
                "identity/email/ana@example.com",
                "identity/whatsapp/34600112233"
            ]
        );
    }

    #[test]
    fn stand_ins_many_customers_share_are_no_identity() {
        for (kind, value) in [
            ("phone", "000-000-0000"),
            ("whatsapp", "+1 111 111 1111"),
            ("phone", "+1 555 555 5555"),
            ("phone", "+44 20 1234 5678"),
            ("sms", "+49 30 9876543"),
            ("phone", "12345"),
            ("email", "unknown@example.com"),
            ("email", "no-address"),
            ("email", "@example.com"),
            ("facebook", "N/A"),
            ("customer", "unknown"),
        ] {
            assert_eq!(Identity::new(kind, value), None, "{kind} {value}");
        }
        for (kind, value) in [
            ("phone", "+34 600 11 22 33"),
            ("email", "ana@example.com"),
            ("customer", "c-1"),
        ] {
            assert!(Identity::new(kind, value).is_some(), "{kind} {value}");
        }
    }

    #[test]
    fn merge_keeps_all_history() {
        let mut a = Profile::new("a", 10);
        a.identities = vec!["email/x".into()];
        a.record_purchase(purchase("l1", "lenses", 1.0, 5));
        a.channels.insert("email".into(), 2);
        let mut b = Profile::new("b", 3);
        b.identities = vec!["whatsapp/1".into()];
        b.record_purchase(purchase("l2", "lenses", 2.0, 4));
        b.record_purchase(purchase("l1", "lenses", 1.0, 5));
        b.channels.insert("whatsapp".into(), 5);
        b.language = Some("es".into());
        b.record_rating(Rating {
            score: 4.0,
            time_ms: 1,
        });
        b.record_inquiry(Inquiry {
            category: None,
            topic: "shipping".into(),
            time_ms: 2,
        });
        a.merge(b);
        assert_eq!(a.identities, ["email/x", "whatsapp/1"]);
        assert_eq!(a.purchases.len(), 2);
        assert_eq!(a.purchases[0].item_id, "l2");
        assert_eq!(a.first_seen_ms, 3);
        assert_eq!(a.language.as_deref(), Some("es"));
        assert_eq!(a.preferred_channel(), Some("whatsapp"));
        assert_eq!(a.merged_from, ["b"]);
        assert_eq!(a.mean_satisfaction(), Some(4.0));
        assert_eq!(a.inquiry_counts()[""], 1);
        assert!(a.bought("l2"));
    }
}
