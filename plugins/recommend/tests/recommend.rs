//! The recommendation plugin end to end, natively through `Recommend::handle` with
//! the SDK's stand-in host: catalog and knowledge base imported into kv, profiles
//! built from events, recommendations for inquiries.

use crossdesk_sdk::testing::MockHost;
use crossdesk_sdk::{Action, Customer, Event, EventKind, Plugin, Recommendation, kv};
use recommend::catalog::{article_entries, product_entries};
use recommend::{Profile, Recommend, parse_catalog_json, parse_kb_json};

const DAY: i64 = 86_400_000;
const NOW: i64 = 1_000 * DAY;

const CATALOG: &str = r#"[
  {"id": "lens-24-basic", "category": "lenses", "price": 99, "currency": "EUR", "tags": ["wide"], "names": {"en": "Lens 24mm Basic"}},
  {"id": "lens-35-value", "category": "lenses", "price": 149, "currency": "EUR", "tags": ["autofocus"], "names": {"en": "Lens 35mm Value"}},
  {"id": "lens-50-std", "category": "lenses", "price": 199, "currency": "EUR", "tags": ["autofocus"], "names": {"en": "Lens 50mm Standard"}},
  {"id": "lens-28-std", "category": "lenses", "price": 299, "currency": "EUR", "names": {"en": "Lens 28mm"}},
  {"id": "lens-40-std", "category": "lenses", "price": 449, "currency": "EUR", "tags": ["autofocus"], "names": {"en": "Lens 40mm"}},
  {"id": "lens-50-art", "category": "lenses", "price": 899, "currency": "EUR", "tags": ["autofocus"], "names": {"en": "Lens 50mm", "ja": "レンズ50mm"}},
  {"id": "lens-70-art", "category": "lenses", "price": 999, "currency": "EUR", "tags": ["autofocus"], "names": {"en": "Lens 70mm", "ja": "レンズ70mm"}},
  {"id": "lens-85-pro", "category": "lenses", "price": 1299, "currency": "EUR", "tags": ["autofocus", "new", "portrait", "オートフォーカス"], "names": {"en": "Lens 85mm Pro", "ja": "85mm プロレンズ"}},
  {"id": "lens-600-super", "category": "lenses", "price": 4999, "currency": "EUR", "tags": ["telephoto"], "names": {"en": "Lens 600mm Super"}},
  {"id": "tripod-travel", "category": "tripods", "price": 120, "currency": "EUR", "tags": ["travel"], "names": {"en": "Travel Tripod"}},
  {"id": "tripod-pro", "category": "tripods", "price": 400, "currency": "EUR", "names": {"en": "Pro Tripod"}}
]"#;

const KB: &str = r#"{"articles": [
  {"id": "kb-af-tutorial", "title": "Autofocus tutorial: modes and focus points", "body": "Learn how the autofocus modes AF-S and AF-C work on your lens and camera.", "language": "en", "category": "lenses"},
  {"id": "kb-af-ja", "title": "オートフォーカスの使い方", "body": "レンズのオートフォーカスモードの設定方法を説明します。", "language": "ja", "category": "lenses"},
  {"id": "kb-shipping", "title": "Shipping times and tracking", "body": "Parcels ship within two days; tracking links arrive by email.", "language": "en", "category": "shipping"},
  {"id": "kb-lens-care", "title": "Cleaning your lens", "body": "Use a blower and a microfiber cloth to clean the lens glass.", "language": "en", "category": "lenses"}
]}"#;

/// A host with kv granted and the catalog and knowledge base imported.
fn host() -> std::rc::Rc<MockHost> {
    let host = MockHost::new().grant_kv().now_ms(NOW).install();
    let products = parse_catalog_json(CATALOG).expect("catalog");
    let articles = parse_kb_json(KB).expect("knowledge base");
    for (key, value) in product_entries(&products)
        .into_iter()
        .chain(article_entries(&articles))
    {
        kv::put(&key, &value).expect("kv put");
    }
    host
}

fn customer(id: &str, locale: &str, external: &[(&str, &str)]) -> Customer {
    Customer {
        id: id.into(),
        locale: Some(locale.into()),
        external_ids: external
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        ..Default::default()
    }
}

fn event(kind: EventKind, text: &str, channel: &str, customer: &Customer, at: i64) -> Event {
    let mut e = Event::new(kind, text).with_customer(customer.clone());
    e.tenant_id = "t-1".into();
    e.channel = channel.into();
    e.occurred_at_ms = at;
    e
}

fn purchase(customer: &Customer, item: &str, price: &str, at: i64) {
    let e = event(EventKind::PurchaseRecorded, "", "web", customer, at)
        .with_attribute("purchase.item_id", item)
        .with_attribute("purchase.category", "lenses")
        .with_attribute("purchase.price", price)
        .with_attribute("purchase.currency", "EUR");
    assert_eq!(Recommend::handle(e).expect("purchase"), vec![]);
}

/// Runs a message; returns (tags, products, articles).
fn ask(
    customer: &Customer,
    channel: &str,
    text: &str,
) -> (Vec<String>, Vec<Recommendation>, Vec<Recommendation>) {
    let actions = Recommend::handle(event(
        EventKind::CustomerMessage,
        text,
        channel,
        customer,
        NOW,
    ))
    .expect("message");
    let mut tags = Vec::new();
    let mut items = Vec::new();
    for action in actions {
        match action {
            Action::AddTags(t) => tags.extend(t),
            Action::Recommend(r) => items.extend(r),
            other => panic!("unexpected action {other:?}"),
        }
    }
    let (products, articles) = items.into_iter().partition(|r| r.kind == "product");
    (tags, products, articles)
}

fn profiles() -> Vec<Profile> {
    kv::list_keys("profile/")
        .expect("kv list")
        .iter()
        .map(|k| {
            serde_json::from_slice(&kv::get(k).expect("kv get").expect("profile"))
                .expect("profile JSON")
        })
        .collect()
}

const AUTOFOCUS: &str = "How do I get the autofocus to work properly? It keeps hunting.";

#[test]
fn premium_photographer_gets_the_new_upper_range_lens_and_the_tutorial() {
    let _host = host();
    let ana = customer("c-ana", "en-GB", &[("email", "ana@example.com")]);
    purchase(&ana, "lens-50-art", "899", NOW - 60 * DAY);
    purchase(&ana, "lens-70-art", "999", NOW - 20 * DAY);

    let (tags, products, articles) = ask(&ana, "email", AUTOFOCUS);
    assert_eq!(tags, ["topic-usage"]);
    assert_eq!(products.len(), 3);
    assert_eq!(products[0].id, "lens-85-pro", "{products:#?}");
    assert_eq!(products[0].title, "Lens 85mm Pro");
    assert_eq!(
        products[0].reason,
        "bought Lens 70mm in lenses; prefers premium in lenses; matches 'autofocus'"
    );
    assert!(
        products
            .iter()
            .all(|p| p.id != "lens-50-art" && p.id != "lens-70-art")
    );
    assert_eq!(articles[0].id, "kb-af-tutorial");
    assert!(
        articles[0].reason.starts_with("matches 'autofocus'"),
        "{}",
        articles[0].reason
    );
    assert!(articles.iter().all(|a| a.id != "kb-af-ja"));

    // The inquiry is now part of the profile.
    let profile = &profiles()[0];
    assert_eq!(profile.inquiries.len(), 1);
    assert_eq!(profile.inquiries[0].category.as_deref(), Some("lenses"));
    assert_eq!(profile.inquiries[0].topic, "usage");
}

#[test]
fn budget_customer_asking_the_same_gets_a_budget_lens() {
    let _host = host();
    let ben = customer("c-ben", "en-US", &[]);
    purchase(&ben, "lens-24-basic", "99", NOW - 10 * DAY);
    let (_, products, articles) = ask(&ben, "chat", AUTOFOCUS);
    assert_eq!(products[0].id, "lens-35-value", "{products:#?}");
    assert!(
        products[0].reason.contains("prefers value in lenses"),
        "{}",
        products[0].reason
    );
    assert_ne!(products[0].id, "lens-85-pro");
    assert_eq!(articles[0].id, "kb-af-tutorial");
}

/// A purchase whose price nobody knows (an item outside the catalog, no
/// `purchase.price`) is no evidence of the price band: counted as free, it made a
/// premium buyer a mid-range one.
#[test]
fn a_purchase_without_a_price_leaves_the_price_band_alone() {
    let _host = host();
    let ana = customer("c-ana", "en-GB", &[]);
    purchase(&ana, "lens-50-art", "899", NOW - 60 * DAY);
    purchase(&ana, "lens-70-art", "999", NOW - 20 * DAY);
    let e = event(EventKind::PurchaseRecorded, "", "web", &ana, NOW - DAY)
        .with_attribute("purchase.item_id", "lens-cap-72")
        .with_attribute("purchase.category", "lenses");
    assert_eq!(Recommend::handle(e).expect("purchase"), vec![]);
    let profile = &profiles()[0];
    assert_eq!(profile.purchases.len(), 3);
    assert_eq!(profile.purchases[2].price, None);

    let (_, products, _) = ask(&ana, "email", AUTOFOCUS);
    assert_eq!(products[0].id, "lens-85-pro", "{products:#?}");
    assert!(
        products[0].reason.contains("prefers premium in lenses"),
        "{}",
        products[0].reason
    );
}

#[test]
fn top_k_comes_from_the_settings() {
    let host = MockHost::new()
        .grant_kv()
        .now_ms(NOW)
        .setting("top_k", "1")
        .install();
    let products = parse_catalog_json(CATALOG).unwrap();
    for (key, value) in product_entries(&products) {
        kv::put(&key, &value).unwrap();
    }
    let ana = customer("c-ana", "en-GB", &[]);
    purchase(&ana, "lens-50-art", "899", NOW);
    let (_, products, _) = ask(&ana, "email", AUTOFOCUS);
    assert_eq!(products.len(), 1);
    drop(host);
}

#[test]
fn three_channels_merge_into_one_profile() {
    let _host = host();
    let by_email = customer("c-100", "es-ES", &[("email", "Lucia@Example.com")]);
    let by_whatsapp = customer("wa-1", "", &[("whatsapp", "+34 600 11 22 33")]);
    let by_facebook = customer("fb-777", "", &[("facebook", "777")]);

    Recommend::handle(event(
        EventKind::CustomerRegistered,
        "",
        "email",
        &by_email,
        NOW - 30 * DAY,
    ))
    .unwrap();
    let e = event(
        EventKind::PurchaseRecorded,
        "",
        "whatsapp",
        &by_whatsapp,
        NOW - 20 * DAY,
    )
    .with_attribute("purchase.item_id", "lens-50-art");
    Recommend::handle(e).unwrap();
    ask(&by_facebook, "facebook", "¿Cuándo llega mi paquete?");
    let mut rating = event(
        EventKind::SatisfactionRated,
        "",
        "facebook",
        &by_facebook,
        NOW,
    );
    rating
        .attributes
        .push(("satisfaction.score".into(), "4".into()));
    Recommend::handle(rating).unwrap();
    assert_eq!(profiles().len(), 3);

    // One event shows all three identities: the profiles are one person.
    let all = customer(
        "c-100",
        "es-ES",
        &[
            ("email", "lucia@example.com"),
            ("whatsapp", "+34600112233"),
            ("facebook", "777"),
        ],
    );
    Recommend::handle(event(EventKind::ProfileUpdated, "", "email", &all, NOW)).unwrap();

    let merged = profiles();
    assert_eq!(merged.len(), 1, "{merged:#?}");
    let profile = &merged[0];
    assert_eq!(profile.id, "customer:c-100");
    assert_eq!(profile.purchases.len(), 1);
    assert_eq!(profile.purchases[0].category, "lenses");
    assert_eq!(profile.purchases[0].price, Some(899.0));
    assert_eq!(profile.inquiries.len(), 1);
    assert_eq!(profile.inquiries[0].topic, "shipping");
    assert_eq!(profile.satisfaction.len(), 1);
    assert_eq!(profile.language.as_deref(), Some("es"));
    assert_eq!(profile.channels["email"], 2);
    assert_eq!(profile.channels["whatsapp"], 1);
    assert_eq!(profile.channels["facebook"], 2);
    assert_eq!(profile.merged_from.len(), 2);
    assert_eq!(profile.first_seen_ms, NOW - 30 * DAY);
    for key in [
        "identity/customer/c-100",
        "identity/customer/wa-1",
        "identity/customer/fb-777",
        "identity/email/lucia@example.com",
        "identity/whatsapp/34600112233",
        "identity/facebook/777",
    ] {
        assert_eq!(
            kv::get(key).unwrap().as_deref(),
            Some(b"customer:c-100".as_slice()),
            "{key}"
        );
    }

    // Writing through any one channel now reaches the merged history.
    let (_, products, _) = ask(&by_facebook, "facebook", AUTOFOCUS);
    assert!(
        products[0].reason.contains("bought Lens 50mm in lenses"),
        "{products:#?}"
    );
}

#[test]
fn cold_start_falls_back_to_popularity_in_the_topic_category() {
    let _host = host();
    for (i, (item, times)) in [("lens-40-std", 3), ("lens-85-pro", 1), ("tripod-travel", 5)]
        .into_iter()
        .enumerate()
    {
        for n in 0..times {
            let buyer = customer(&format!("buyer-{i}-{n}"), "en", &[]);
            purchase(&buyer, item, "1", NOW - DAY);
        }
    }
    assert_eq!(
        kv::get("popularity/tripod-travel").unwrap().as_deref(),
        Some(b"5".as_slice())
    );

    let newcomer = customer("c-new", "en-US", &[]);
    let (tags, products, _) = ask(
        &newcomer,
        "web",
        "Which autofocus lens would you recommend?",
    );
    assert_eq!(tags, ["topic-usage"]);
    assert_eq!(products[0].id, "lens-40-std");
    assert_eq!(products[0].reason, "popular in lenses");
    assert_eq!(products[1].id, "lens-85-pro");
    assert_eq!(products[1].reason, "popular in lenses");
    // Nobody bought the third: it is not popular anywhere.
    assert_eq!(products[2].id, "lens-24-basic");
    assert_eq!(products[2].reason, "asked about lenses");
    assert!(products.iter().all(|p| p.id != "tripod-travel"));

    // No customer at all: still popularity, and no profile is created.
    let before = profiles().len();
    let actions = Recommend::handle(Event::new(
        EventKind::CustomerMessage,
        "travel tripod question",
    ))
    .unwrap();
    let Action::Recommend(items) = &actions[1] else {
        panic!("{actions:?}")
    };
    assert_eq!(items[0].id, "tripod-travel");
    assert_eq!(items[0].reason, "popular in tripods");
    assert_eq!(items[1].id, "tripod-pro");
    assert_eq!(items[1].reason, "asked about tripods");
    assert_eq!(profiles().len(), before);
}

#[test]
fn japanese_inquiry_gets_the_japanese_article_and_names() {
    let _host = host();
    let yui = customer("c-yui", "ja-JP", &[("line", "yui")]);
    purchase(&yui, "lens-70-art", "999", NOW - 5 * DAY);
    let (tags, products, articles) = ask(&yui, "line", "オートフォーカスの使い方を教えてください");
    assert_eq!(tags, ["topic-usage"]);
    assert_eq!(articles[0].id, "kb-af-ja");
    assert_eq!(articles[0].title, "オートフォーカスの使い方");
    assert_eq!(products[0].id, "lens-85-pro", "{products:#?}");
    assert_eq!(products[0].title, "85mm プロレンズ");
    assert!(
        products[0]
            .reason
            .starts_with("bought レンズ70mm in lenses"),
        "{}",
        products[0].reason
    );
}

#[test]
fn other_events_and_missing_attributes_are_ignored() {
    let host = host();
    let e = event(
        EventKind::PurchaseRecorded,
        "",
        "web",
        &customer("c", "en", &[]),
        NOW,
    );
    assert_eq!(Recommend::handle(e).unwrap(), vec![]);
    assert!(profiles().is_empty());
    assert!(!host.logs().is_empty());
    assert_eq!(
        Recommend::handle(Event::new(EventKind::TicketSolved, "x")).unwrap(),
        vec![]
    );
}

#[test]
fn without_kv_the_plugin_fails_cleanly() {
    let _host = MockHost::new().install();
    let err = Recommend::handle(Event::new(EventKind::CustomerMessage, "hello")).unwrap_err();
    assert!(err.message.contains("not granted"), "{err}");
}
