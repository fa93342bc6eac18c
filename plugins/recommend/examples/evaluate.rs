//! Offline evaluation of the recommendation plugin's product ranking against a
//! popularity baseline, on a seeded synthetic shop.
//!
//! ```text
//! cargo run --release -p recommend --example evaluate -- [--seed N] [--customers N] [--shops N] [--json]
//!
//! `--generator herd` evaluates on a shop built on other assumptions (bestsellers,
//! price bands mostly ignored: see `Assumptions`).
//!
//! `--customers 30 --shops 20` evaluates a cold shop: twenty shops of thirty
//! customers each (seeds N to N + 19), pooled, since one such shop is too small
//! to measure.
//! ```
//!
//! # The generator (deterministic for a seed; SplitMix64, no external crates)
//!
//! * **Catalog**: 300 products over 8 categories (lenses, cameras, tripods, bags,
//!   drones, audio, lighting, accessories), ~37 each. A product's price is
//!   log-normal around a category median (`median · exp(σ·N(0,1))`, e.g. lenses
//!   600 with σ = 0.7, accessories 40 with σ = 0.8). Each product has 2 tags from
//!   its category's pool (`autofocus`, `portrait`, `travel`, `gimbal`, …), names in
//!   en, es and ja built from brand + category noun + model (`Kestrel Lens 85`,
//!   `Objetivo Kestrel 85`, `Kestrel レンズ 85`) and a latent *appeal*
//!   (log-normal, σ = 0.8) that makes some products popular whatever the customer.
//! * **Articles**: 40 — three how-tos per category in en (24), one per category in
//!   es (8) and in ja (8). They do not enter the product metrics.
//! * **Customers** (default 2,000), each with latent traits: 1–3 favourite
//!   categories with random weights; a price band — value (30 %), mid (45 %),
//!   premium (25 %) — i.e. a preferred price percentile within a category
//!   (uniform in 0.05–0.30, 0.35–0.65, 0.70–0.95); a language (en 70 %, es 20 %,
//!   ja 10 %, given as the locale); 1–2 channels.
//! * **Purchases**: 3–15 per customer at uniform times over one year (sorted).
//!   Category: a favourite (by weight) with probability 0.85, else any category.
//!   Product (never one already bought): with probability 0.85 drawn with weight
//!   `appeal · exp(−(percentile − target)² / (2·0.12²))`, where `target` is the
//!   customer's percentile jittered by N(0, 0.08) per purchase; else by appeal only
//!   (noise: gifts, one-offs).
//! * **Inquiries**: 0–3 per customer at uniform times in the training period, mostly
//!   about a favourite category, written in the customer's language from templates
//!   of category nouns and tags (`autofocus problem with my lens`, `busco un
//!   trípode nuevo con travel`, `レンズのautofocusについて質問があります`).
//!
//! # The protocol
//!
//! For each customer with ≥ 4 purchases the last purchase is held out. The
//! profile is built from the earlier events exactly as the plugin does
//! (`Profile::observe` with the customer's locale and channel, `record_purchase`,
//! `record_inquiry` with the category and topic the crate infers from the text).
//! Popularity counts the training purchases of all customers (held-out purchases
//! never count). One hour before the held-out purchase the customer writes an
//! inquiry about the held-out item's *category* (a template with the category noun
//! and a random tag of that category — not necessarily the item's), and
//! `recommend(…, top_k = 10)` ranks the products.
//!
//! **Baseline**: the most purchased products (training counts), within the
//! category the crate's own `Inquiry::new` infers from the same text (the whole
//! catalog when it infers none), excluding items the customer already bought; ties
//! by id — i.e. the plugin's own cold start plus the bought-item exclusion. A
//! second, weaker reference ranks the whole catalog by popularity.
//!
//! **Metrics** (one relevant item): hit-rate@5, and NDCG@10 = 1/log2(rank + 1)
//! when the held-out product is within the top 10 (0 otherwise); also by the
//! customer's latent price band, language and whether the held-out category was
//! bought before, and the share of evaluation inquiries whose category the crate
//! recognized correctly.

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::time::Instant;

use crossdesk_sdk::Customer;
use recommend::profile::{Inquiry as ProfileInquiry, Purchase, percentile};
use recommend::rank::Inquiry;
use recommend::{Article, Product, Profile, recommend};

const DAY_MS: i64 = 86_400_000;
/// "Now" of the synthetic shop: the end of the one-year history.
const END_MS: i64 = 1_750_000_000_000;
const START_MS: i64 = END_MS - 365 * DAY_MS;
const PRODUCTS: usize = 300;
const TOP_K: usize = 10;

// ---------------------------------------------------------------------------
// PRNG

/// SplitMix64 (Steele, Lea, Flood 2014): small, fast, good enough for sampling.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.f64()
    }

    /// Uniform in lo..=hi.
    fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + (self.next_u64() % (hi - lo + 1) as u64) as usize
    }

    fn chance(&mut self, p: f64) -> bool {
        self.f64() < p
    }

    /// Standard normal (Box–Muller).
    fn normal(&mut self) -> f64 {
        let u1 = self.f64().max(1e-300);
        let u2 = self.f64();
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.range(0, items.len() - 1)]
    }

    /// An index drawn with the given non-negative weights (uniform when all are 0).
    fn weighted(&mut self, weights: &[f64]) -> usize {
        let total: f64 = weights.iter().sum();
        if total <= 0.0 {
            return self.range(0, weights.len() - 1);
        }
        let mut x = self.f64() * total;
        for (i, w) in weights.iter().enumerate() {
            if x < *w {
                return i;
            }
            x -= w;
        }
        weights.len() - 1
    }
}

// ---------------------------------------------------------------------------
// The synthetic shop

struct Category {
    name: &'static str,
    en: &'static str,
    es: &'static str,
    ja: &'static str,
    median: f64,
    sigma: f64,
    tags: &'static [&'static str],
}

const CATEGORIES: &[Category] = &[
    Category {
        name: "lenses",
        en: "Lens",
        es: "Objetivo",
        ja: "レンズ",
        median: 600.0,
        sigma: 0.7,
        tags: &[
            "autofocus",
            "portrait",
            "wide",
            "zoom",
            "prime",
            "macro",
            "stabilization",
        ],
    },
    Category {
        name: "cameras",
        en: "Camera",
        es: "Cámara",
        ja: "カメラ",
        median: 1200.0,
        sigma: 0.6,
        tags: &[
            "mirrorless",
            "sensor",
            "video",
            "4k",
            "compact",
            "viewfinder",
            "battery",
        ],
    },
    Category {
        name: "tripods",
        en: "Tripod",
        es: "Trípode",
        ja: "三脚",
        median: 150.0,
        sigma: 0.7,
        tags: &[
            "travel",
            "carbon",
            "ballhead",
            "aluminium",
            "legs",
            "monopod",
        ],
    },
    Category {
        name: "bags",
        en: "Bag",
        es: "Mochila",
        ja: "バッグ",
        median: 90.0,
        sigma: 0.6,
        tags: &[
            "backpack",
            "sling",
            "waterproof",
            "strap",
            "padded",
            "rolling",
        ],
    },
    Category {
        name: "drones",
        en: "Drone",
        es: "Dron",
        ja: "ドローン",
        median: 900.0,
        sigma: 0.7,
        tags: &["gimbal", "propeller", "fpv", "obstacle", "range", "flight"],
    },
    Category {
        name: "audio",
        en: "Microphone",
        es: "Micrófono",
        ja: "マイク",
        median: 200.0,
        sigma: 0.8,
        tags: &[
            "wireless",
            "shotgun",
            "lavalier",
            "headphones",
            "recorder",
            "xlr",
        ],
    },
    Category {
        name: "lighting",
        en: "Light",
        es: "Luz",
        ja: "ライト",
        median: 180.0,
        sigma: 0.8,
        tags: &["led", "softbox", "flash", "rgb", "panel", "strobe"],
    },
    Category {
        name: "accessories",
        en: "Accessory",
        es: "Accesorio",
        ja: "アクセサリー",
        median: 40.0,
        sigma: 0.8,
        tags: &["filter", "memory", "charger", "cable", "cleaning", "strap"],
    },
];

const BRANDS: &[&str] = &[
    "Kestrel", "Orion", "Vanta", "Halden", "Sora", "Lumo", "Brava", "Nexa",
];

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Band {
    Value,
    Mid,
    Premium,
}

impl Band {
    fn name(self) -> &'static str {
        match self {
            Band::Value => "value",
            Band::Mid => "mid",
            Band::Premium => "premium",
        }
    }
}

struct Person {
    id: String,
    favourites: Vec<(usize, f64)>,
    band: Band,
    target: f64,
    language: &'static str,
    channels: Vec<&'static str>,
}

enum Event {
    Purchase { product: usize, time_ms: i64 },
    Inquiry { text: String, time_ms: i64 },
}

struct Shop {
    catalog: Vec<Product>,
    /// Category index of each product.
    category_of: Vec<usize>,
    /// Price percentile of each product within its category.
    position: Vec<f64>,
    appeal: Vec<f64>,
    articles: Vec<Article>,
}

/// What the generator assumes about how customers buy. `personal` (the default)
/// is the model above; `herd` assumes the opposite of what the plugin bets on:
/// purchases follow a few bestsellers (appeal σ = 1.6), ignore the customer's
/// price band most of the time (it matters in 30 % of purchases) and wander
/// outside the favourite categories (50 %). The plugin should not lose to
/// popularity there by much; it cannot win by much either.
#[derive(Clone, Copy)]
struct Assumptions {
    appeal_sigma: f64,
    price_matters: f64,
    favourite: f64,
}

const PERSONAL: Assumptions = Assumptions {
    appeal_sigma: 0.8,
    price_matters: 0.85,
    favourite: 0.85,
};

const HERD: Assumptions = Assumptions {
    appeal_sigma: 1.6,
    price_matters: 0.3,
    favourite: 0.5,
};

fn generate_shop(rng: &mut Rng, assumptions: Assumptions) -> Shop {
    let mut catalog = Vec::with_capacity(PRODUCTS);
    let mut category_of = Vec::with_capacity(PRODUCTS);
    let mut appeal = Vec::with_capacity(PRODUCTS);
    for i in 0..PRODUCTS {
        let c = i % CATEGORIES.len();
        let cat = &CATEGORIES[c];
        let price = (cat.median * (cat.sigma * rng.normal()).exp())
            .round()
            .max(5.0)
            - 0.01;
        let mut tags: Vec<String> = Vec::new();
        while tags.len() < 2 {
            let t = rng.pick(cat.tags).to_string();
            if !tags.contains(&t) {
                tags.push(t);
            }
        }
        let brand = rng.pick(BRANDS);
        let model = rng.range(10, 99);
        let names = BTreeMap::from([
            ("en".to_string(), format!("{brand} {} {model}", cat.en)),
            ("es".to_string(), format!("{} {brand} {model}", cat.es)),
            ("ja".to_string(), format!("{brand} {} {model}", cat.ja)),
        ]);
        catalog.push(Product {
            id: format!("{}-{:03}", cat.name, i / CATEGORIES.len()),
            category: cat.name.to_string(),
            price,
            currency: "EUR".into(),
            tags,
            names,
        });
        category_of.push(c);
        appeal.push((assumptions.appeal_sigma * rng.normal()).exp());
    }
    let position = catalog
        .iter()
        .map(|p| {
            percentile(
                p.price,
                &recommend::profile::category_prices(&catalog, &p.category),
            )
        })
        .collect();
    let mut articles = Vec::new();
    for cat in CATEGORIES {
        let noun = cat.en.to_lowercase();
        for (k, tag) in cat.tags.iter().take(3).enumerate() {
            articles.push(Article {
                id: format!("kb-{}-en-{k}", cat.name),
                title: format!("How to use {tag} on your {noun}"),
                body: format!(
                    "A step-by-step guide to {tag} for every {noun}: settings, common problems \
                     and fixes."
                ),
                language: "en".into(),
                category: cat.name.into(),
            });
        }
        articles.push(Article {
            id: format!("kb-{}-es", cat.name),
            title: format!("Cómo configurar tu {}", cat.es.to_lowercase()),
            body: format!("Guía paso a paso: {} y problemas frecuentes.", cat.tags[0]),
            language: "es".into(),
            category: cat.name.into(),
        });
        articles.push(Article {
            id: format!("kb-{}-ja", cat.name),
            title: format!("{}の使い方", cat.ja),
            body: format!("{}の設定とよくある問題（{}）。", cat.ja, cat.tags[0]),
            language: "ja".into(),
            category: cat.name.into(),
        });
    }
    Shop {
        catalog,
        category_of,
        position,
        appeal,
        articles,
    }
}

/// An inquiry about category `c` in `language`, as a customer would write it.
fn inquiry_text(rng: &mut Rng, c: usize, language: &str) -> String {
    let cat = &CATEGORIES[c];
    let tag = rng.pick(cat.tags);
    let form = rng.range(0, 3);
    match language {
        "es" => {
            let noun = cat.es.to_lowercase();
            match form {
                0 => format!("tengo un problema con mi {noun} ({tag})"),
                1 => format!("busco un {noun} nuevo con {tag}"),
                2 => format!("¿cómo configuro el {tag} de mi {noun}?"),
                _ => format!("pregunta sobre {tag} en el {noun}"),
            }
        }
        "ja" => match form {
            0 => format!("{}の{tag}が動きません", cat.ja),
            1 => format!("{tag}対応の新しい{}を探しています", cat.ja),
            2 => format!("{}の{tag}の設定方法を教えてください", cat.ja),
            _ => format!("{}の{tag}について質問があります", cat.ja),
        },
        _ => {
            let noun = cat.en.to_lowercase();
            match form {
                0 => format!("{tag} problem with my {noun}"),
                1 => format!("looking for a new {noun} with good {tag}"),
                2 => format!("how do I set up the {tag} on my {noun}?"),
                _ => format!("question about the {noun} {tag}"),
            }
        }
    }
}

fn generate_customer(
    rng: &mut Rng,
    shop: &Shop,
    n: usize,
    assumptions: Assumptions,
) -> (Person, Vec<Event>) {
    let nfav = rng.range(1, 3);
    let mut favourites: Vec<(usize, f64)> = Vec::new();
    while favourites.len() < nfav {
        let c = rng.range(0, CATEGORIES.len() - 1);
        if favourites.iter().all(|f| f.0 != c) {
            favourites.push((c, rng.uniform(0.3, 1.0)));
        }
    }
    let u = rng.f64();
    let (band, target) = if u < 0.30 {
        (Band::Value, rng.uniform(0.05, 0.30))
    } else if u < 0.75 {
        (Band::Mid, rng.uniform(0.35, 0.65))
    } else {
        (Band::Premium, rng.uniform(0.70, 0.95))
    };
    let u = rng.f64();
    let language = if u < 0.7 {
        "en"
    } else if u < 0.9 {
        "es"
    } else {
        "ja"
    };
    let all_channels = ["email", "whatsapp", "chat", "facebook"];
    let mut channels = vec![*rng.pick(&all_channels)];
    if rng.chance(0.4) {
        let second = *rng.pick(&all_channels);
        if second != channels[0] {
            channels.push(second);
        }
    }
    let customer = Person {
        id: format!("c-{n:05}"),
        favourites,
        band,
        target,
        language,
        channels,
    };

    let fav_weights: Vec<f64> = customer.favourites.iter().map(|f| f.1).collect();
    let pick_category = |rng: &mut Rng, p_fav: f64| {
        if rng.chance(p_fav) {
            customer.favourites[rng.weighted(&fav_weights)].0
        } else {
            rng.range(0, CATEGORIES.len() - 1)
        }
    };
    let purchases = rng.range(3, 15);
    let mut times: Vec<i64> = (0..purchases)
        .map(|_| START_MS + (rng.f64() * (END_MS - START_MS) as f64) as i64)
        .collect();
    times.sort_unstable();
    let mut bought: Vec<usize> = Vec::new();
    let mut events = Vec::new();
    for time_ms in times {
        let c = pick_category(rng, assumptions.favourite);
        let target = (customer.target + 0.08 * rng.normal()).clamp(0.0, 1.0);
        let price_matters = rng.chance(assumptions.price_matters);
        let weights: Vec<f64> = (0..shop.catalog.len())
            .map(|i| {
                if shop.category_of[i] != c || bought.contains(&i) {
                    0.0
                } else if price_matters {
                    let d = shop.position[i] - target;
                    shop.appeal[i] * (-(d * d) / (2.0 * 0.12 * 0.12)).exp()
                } else {
                    shop.appeal[i]
                }
            })
            .collect();
        let product = rng.weighted(&weights);
        bought.push(product);
        events.push(Event::Purchase { product, time_ms });
    }
    // Inquiries happen before the held-out (last) purchase.
    let last = match events.last() {
        Some(Event::Purchase { time_ms, .. }) => *time_ms,
        _ => END_MS,
    };
    for _ in 0..rng.range(0, 3) {
        let c = pick_category(rng, 0.8);
        let text = inquiry_text(rng, c, customer.language);
        let time_ms = START_MS + (rng.f64() * (last - START_MS - DAY_MS).max(1) as f64) as i64;
        events.push(Event::Inquiry { text, time_ms });
    }
    events.sort_by_key(|e| match e {
        Event::Purchase { time_ms, .. } | Event::Inquiry { time_ms, .. } => *time_ms,
    });
    (customer, events)
}

// ---------------------------------------------------------------------------
// Evaluation

#[derive(Default, Clone, Copy)]
struct Score {
    n: usize,
    hits5: usize,
    ndcg: f64,
}

impl Score {
    fn add(&mut self, rank: Option<usize>) {
        self.n += 1;
        if let Some(r) = rank {
            if r <= 5 {
                self.hits5 += 1;
            }
            if r <= TOP_K {
                self.ndcg += 1.0 / ((r + 1) as f64).log2();
            }
        }
    }

    fn hit_rate(&self) -> f64 {
        if self.n == 0 {
            0.0
        } else {
            self.hits5 as f64 / self.n as f64
        }
    }

    fn ndcg(&self) -> f64 {
        if self.n == 0 {
            0.0
        } else {
            self.ndcg / self.n as f64
        }
    }
}

#[derive(Default, Clone, Copy)]
struct Row {
    plugin: Score,
    baseline: Score,
    global: Score,
}

/// 1-based rank of `id` in `ranked`, if present.
fn rank_of<'a>(ranked: impl IntoIterator<Item = &'a str>, id: &str) -> Option<usize> {
    ranked.into_iter().position(|r| r == id).map(|i| i + 1)
}

/// The top `k` by popularity among `candidates`, skipping items already bought.
fn popular<'a>(
    candidates: impl Iterator<Item = &'a Product>,
    popularity: &BTreeMap<String, u64>,
    profile: &Profile,
    k: usize,
) -> Vec<&'a str> {
    let mut items: Vec<(&str, u64)> = candidates
        .filter(|p| !profile.bought(&p.id))
        .map(|p| (p.id.as_str(), popularity.get(&p.id).copied().unwrap_or(0)))
        .collect();
    items.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    items.into_iter().take(k).map(|(id, _)| id).collect()
}

struct Options {
    seed: u64,
    customers: usize,
    /// Shops evaluated, seeds `seed`, `seed + 1`, …; their customers pooled.
    shops: u64,
    /// `personal` or `herd` ([`Assumptions`]).
    generator: &'static str,
    assumptions: Assumptions,
    json: bool,
}

fn parse_args() -> Result<Options, String> {
    let mut options = Options {
        seed: 42,
        customers: 2000,
        shops: 1,
        generator: "personal",
        assumptions: PERSONAL,
        json: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--seed" => {
                options.seed = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .ok_or("--seed needs a non-negative integer")?;
            }
            "--customers" => {
                options.customers = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .filter(|n| *n > 0)
                    .ok_or("--customers needs a positive integer")?;
            }
            "--shops" => {
                options.shops = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .filter(|n| *n > 0)
                    .ok_or("--shops needs a positive integer")?;
            }
            "--generator" => match args.next().as_deref() {
                Some("personal") => {
                    (options.generator, options.assumptions) = ("personal", PERSONAL)
                }
                Some("herd") => (options.generator, options.assumptions) = ("herd", HERD),
                _ => return Err("--generator needs personal or herd".into()),
            },
            "--json" => options.json = true,
            "-h" | "--help" => {
                return Err(
                    "usage: evaluate [--seed N (default 42)] [--customers N (default 2000)] \
                     [--shops N (default 1: shops of seeds N, N+1, …, pooled)] \
                     [--generator personal|herd] [--json]"
                        .into(),
                );
            }
            other => return Err(format!("unknown argument {other:?} (try --help)")),
        }
    }
    Ok(options)
}

fn main() -> ExitCode {
    let options = match parse_args() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let started = Instant::now();
    let mut overall = Row::default();
    let mut by_band: BTreeMap<Band, Row> = BTreeMap::new();
    let mut by_language: BTreeMap<&str, Row> = BTreeMap::new();
    let mut by_history: BTreeMap<&str, Row> = BTreeMap::new();
    let mut category_right = 0usize;
    let mut category_none = 0usize;
    let mut total_purchases = 0usize;
    let mut total_inquiries = 0usize;
    let (mut products, mut articles) = (0, 0);
    for shop_seed in options.seed..options.seed.saturating_add(options.shops) {
        let mut rng = Rng::new(shop_seed);
        let shop = generate_shop(&mut rng, options.assumptions);
        let people: Vec<(Person, Vec<Event>)> = (0..options.customers)
            .map(|n| generate_customer(&mut rng, &shop, n, options.assumptions))
            .collect();

        // Popularity over the training purchases (every purchase but each evaluated
        // customer's last).
        let mut popularity: BTreeMap<String, u64> = BTreeMap::new();
        for (_, events) in &people {
            let purchases: Vec<usize> = events
                .iter()
                .filter_map(|e| match e {
                    Event::Purchase { product, .. } => Some(*product),
                    Event::Inquiry { .. } => None,
                })
                .collect();
            total_purchases += purchases.len();
            total_inquiries += events.len() - purchases.len();
            let train = if purchases.len() >= 4 {
                &purchases[..purchases.len() - 1]
            } else {
                &purchases[..]
            };
            for &p in train {
                *popularity.entry(shop.catalog[p].id.clone()).or_insert(0) += 1;
            }
        }

        for (customer, events) in &people {
            let purchases = events
                .iter()
                .filter(|e| matches!(e, Event::Purchase { .. }))
                .count();
            if purchases < 4 {
                continue;
            }
            let sdk_customer = Customer {
                id: customer.id.clone(),
                locale: Some(match customer.language {
                    "es" => "es-ES".to_string(),
                    "ja" => "ja-JP".to_string(),
                    _ => "en-GB".to_string(),
                }),
                ..Customer::default()
            };
            // The profile from the training events, as the plugin's handlers build it.
            let mut profile = Profile::new(format!("customer:{}", customer.id), START_MS);
            let mut held_out = None;
            let mut seen = 0;
            for (k, event) in events.iter().enumerate() {
                let channel = customer.channels[k % customer.channels.len()];
                match event {
                    Event::Purchase { product, time_ms } => {
                        seen += 1;
                        if seen == purchases {
                            held_out = Some((*product, *time_ms));
                            continue;
                        }
                        let p = &shop.catalog[*product];
                        profile.observe(&sdk_customer, channel);
                        profile.record_purchase(Purchase {
                            item_id: p.id.clone(),
                            category: p.category.clone(),
                            price: Some(p.price),
                            currency: p.currency.clone(),
                            time_ms: *time_ms,
                        });
                    }
                    Event::Inquiry { text, time_ms } => {
                        let inquiry = Inquiry::new(text, &shop.catalog, None);
                        profile.observe(&sdk_customer, channel);
                        profile.record_inquiry(ProfileInquiry {
                            category: inquiry.category,
                            topic: inquiry.topic.name().to_owned(),
                            time_ms: *time_ms,
                        });
                    }
                }
            }
            let Some((product, time_ms)) = held_out else {
                continue;
            };
            let target = &shop.catalog[product];
            let text = inquiry_text(&mut rng, shop.category_of[product], customer.language);
            let now = time_ms - 3_600_000;
            let result = recommend(
                Some(&profile),
                &shop.catalog,
                &shop.articles,
                &popularity,
                &text,
                sdk_customer.language(),
                now,
                TOP_K,
            );
            match result.inquiry.category.as_deref() {
                Some(c) if c == target.category => category_right += 1,
                None => category_none += 1,
                Some(_) => {}
            }
            let plugin_rank = rank_of(result.products.iter().map(|r| r.id.as_str()), &target.id);
            let in_category: Vec<&Product> = match result.inquiry.category.as_deref() {
                Some(c) => shop.catalog.iter().filter(|p| p.category == c).collect(),
                None => shop.catalog.iter().collect(),
            };
            let baseline = popular(in_category.into_iter(), &popularity, &profile, TOP_K);
            let baseline_rank = rank_of(baseline, &target.id);
            let global = popular(shop.catalog.iter(), &popularity, &profile, TOP_K);
            let global_rank = rank_of(global, &target.id);
            let history = if profile
                .purchases
                .iter()
                .any(|p| p.category == target.category)
            {
                "category bought"
            } else {
                "category new"
            };
            for row in [
                &mut overall,
                by_band.entry(customer.band).or_default(),
                by_language.entry(customer.language).or_default(),
                by_history.entry(history).or_default(),
            ] {
                row.plugin.add(plugin_rank);
                row.baseline.add(baseline_rank);
                row.global.add(global_rank);
            }
        }
        products = shop.catalog.len();
        articles = shop.articles.len();
    }
    let wall = started.elapsed();
    let evaluated = overall.plugin.n;
    let ratio = |a: f64, b: f64| if b > 0.0 { a / b } else { f64::INFINITY };

    if options.json {
        let row_json = |r: &Row| {
            serde_json::json!({
                "n": r.plugin.n,
                "plugin": {"hit_rate_at_5": r.plugin.hit_rate(), "ndcg_at_10": r.plugin.ndcg()},
                "baseline": {"hit_rate_at_5": r.baseline.hit_rate(), "ndcg_at_10": r.baseline.ndcg()},
                "global_popularity": {"hit_rate_at_5": r.global.hit_rate(), "ndcg_at_10": r.global.ndcg()},
                "ratio": {
                    "hit_rate_at_5": ratio(r.plugin.hit_rate(), r.baseline.hit_rate()),
                    "ndcg_at_10": ratio(r.plugin.ndcg(), r.baseline.ndcg()),
                },
            })
        };
        let out = serde_json::json!({
            "seed": options.seed,
            "shops": options.shops,
            "generator": options.generator,
            "customers": options.customers,
            "evaluated": evaluated,
            "products": products,
            "articles": articles,
            "purchases": total_purchases,
            "inquiries": total_inquiries,
            "top_k": TOP_K,
            "category_recognized": category_right as f64 / evaluated.max(1) as f64,
            "category_unrecognized": category_none as f64 / evaluated.max(1) as f64,
            "overall": row_json(&overall),
            "by_price_band": by_band.iter().map(|(b, r)| (b.name().to_string(), row_json(r))).collect::<serde_json::Map<_, _>>(),
            "by_history": by_history.iter().map(|(h, r)| (h.replace(' ', "_"), row_json(r))).collect::<serde_json::Map<_, _>>(),
            "by_language": by_language.iter().map(|(l, r)| (l.to_string(), row_json(r))).collect::<serde_json::Map<_, _>>(),
            "wall_ms": wall.as_secs_f64() * 1000.0,
        });
        println!("{out}");
        return ExitCode::SUCCESS;
    }

    println!(
        "recommend offline evaluation — {} generator, seed {}, {} shop(s) of {} customers ({} evaluated), {} products, {} articles each, {} purchases, {} inquiries",
        options.generator,
        options.seed,
        options.shops,
        options.customers,
        evaluated,
        products,
        articles,
        total_purchases,
        total_inquiries
    );
    println!(
        "held-out inquiry category recognized correctly: {:.1} % (none recognized: {:.1} %)",
        100.0 * category_right as f64 / evaluated.max(1) as f64,
        100.0 * category_none as f64 / evaluated.max(1) as f64
    );
    println!();
    println!(
        "{:<16} {:>6}  {:>9} {:>9} {:>9} {:>7}  {:>9} {:>9} {:>9} {:>7}",
        "segment",
        "n",
        "HR@5 plg",
        "HR@5 pop",
        "HR@5 glb",
        "ratio",
        "NDCG plg",
        "NDCG pop",
        "NDCG glb",
        "ratio"
    );
    let print_row = |name: &str, r: &Row| {
        println!(
            "{:<16} {:>6}  {:>9.4} {:>9.4} {:>9.4} {:>7.2}  {:>9.4} {:>9.4} {:>9.4} {:>7.2}",
            name,
            r.plugin.n,
            r.plugin.hit_rate(),
            r.baseline.hit_rate(),
            r.global.hit_rate(),
            ratio(r.plugin.hit_rate(), r.baseline.hit_rate()),
            r.plugin.ndcg(),
            r.baseline.ndcg(),
            r.global.ndcg(),
            ratio(r.plugin.ndcg(), r.baseline.ndcg()),
        );
    };
    print_row("all", &overall);
    for (band, row) in &by_band {
        print_row(&format!("band {}", band.name()), row);
    }
    for (language, row) in &by_language {
        print_row(&format!("language {language}"), row);
    }
    for (history, row) in &by_history {
        print_row(history, row);
    }
    println!();
    println!(
        "plg = plugin (recommend, top_k {TOP_K}); pop = popularity within the inferred category \
         (whole catalog when none), bought items excluded; glb = popularity over the whole catalog; \
         ratio = plugin / pop"
    );
    println!("wall time: {:.2} s", wall.as_secs_f64());
    ExitCode::SUCCESS
}
