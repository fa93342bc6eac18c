//! The Crossdesk recommendation plugin: personalized product and help-article
//! recommendations for every customer inquiry.
//!
//! * [`profile`]: one profile per person in kv (`profile/<id>`), found through the
//!   customer's identities (`identity/<kind>/<value>`: customer id, email, phone,
//!   WhatsApp, Facebook, …), merged when an event shows two profiles are one person;
//!   explainable [`Preferences`] (price band per category, decayed interest,
//!   language).
//! * [`catalog`]: the tenant's products (`catalog/product/<id>`) and articles
//!   (`kb/article/<id>`) with their JSON and CSV import ([`parse_catalog_json`],
//!   [`parse_kb_json`]) and purchase counts (`popularity/<product id>`).
//! * [`text`] and [`topic`] (from the shared `crossdesk-text` library): tokenizer
//!   (words; CJK bigrams) and BM25 (k1 = 1.2, b = 0.75); the inquiry's topic from
//!   keyword lexicons (en, es, fr, de, ja, zh, ko). The knowledge base's format and
//!   ranking are that library's `kb`, so other plugins read and rank it alike.
//! * [`rank`]: products in the asked category first, then by interest, price fit,
//!   word match and popularity (popularity alone on cold start); articles by BM25
//!   blended with language and interest.
//! * `tools`: the datasets admins import whole, `catalog` and `knowledge-base`
//!   (alias `kb`), each in JSON or CSV.
//!
//! Events: `CustomerRegistered` and `ProfileUpdated` create or update (and merge)
//! profiles; `PurchaseRecorded` records a purchase from the attributes
//! `purchase.item_id`, `purchase.category`, `purchase.price`, `purchase.currency`;
//! `SatisfactionRated` records `satisfaction.score` (else the text as a number);
//! `CustomerMessage` returns `AddTags(["topic-<topic>"])` and `Recommend` with the
//! top `top_k` (setting, 1..=20, default 3) products and articles, each with a reason.
//!
//! Everything but [`plugin`]'s kv access is pure and usable natively ([`recommend`]).

pub mod catalog;
pub mod plugin;
pub mod profile;
pub mod rank;
mod tools;

pub use crossdesk_text::{text, topic};

pub use catalog::{
    Article, ImportError, Product, parse_catalog_csv, parse_catalog_json, parse_kb_csv,
    parse_kb_json,
};
pub use plugin::{
    DEFAULT_TOP_K, Recommend, Recommendations, SETTING_KEYS, purchase_from_event,
    rating_from_event, recommend,
};
pub use profile::{Preferences, PriceBand, Profile};
pub use rank::Ranked;

#[cfg(feature = "component")]
crossdesk_sdk::export_plugin!(Recommend);
