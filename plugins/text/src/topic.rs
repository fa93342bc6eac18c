//! The topic of an inquiry, from a small keyword lexicon per language.
//!
//! Latin-script keywords are word prefixes (`deliver` matches `delivery`); CJK
//! keywords are substrings. Every lexicon (en, es, fr, de, ja, zh, ko) is tried, so a
//! message is classified whatever its language; the topic with the most keyword
//! hits wins, ties going to the earlier topic in [`Topic::ALL`]. No hit: `Other`.

/// What an inquiry is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Topic {
    /// Returns, refunds and exchanges.
    Returns,
    /// Invoices, charges, payment.
    Billing,
    /// Delivery and tracking.
    Shipping,
    /// Defects, damage, quality.
    ProductQuality,
    /// Login, password, account data.
    Account,
    /// How to use or set up a product.
    Usage,
    /// Nothing recognized.
    Other,
}

impl Topic {
    /// Every topic, in tie-breaking order.
    pub const ALL: [Topic; 7] = [
        Topic::Returns,
        Topic::Billing,
        Topic::Shipping,
        Topic::ProductQuality,
        Topic::Account,
        Topic::Usage,
        Topic::Other,
    ];

    /// The topic's name: `product-quality`, `usage`, `shipping`, `billing`,
    /// `returns`, `account` or `other`.
    pub fn name(self) -> &'static str {
        match self {
            Topic::ProductQuality => "product-quality",
            Topic::Usage => "usage",
            Topic::Shipping => "shipping",
            Topic::Billing => "billing",
            Topic::Returns => "returns",
            Topic::Account => "account",
            Topic::Other => "other",
        }
    }

    /// The tag the plugin adds: `topic-<name>`.
    pub fn tag(self) -> String {
        format!("topic-{}", self.name())
    }

    /// The topic with this name.
    pub fn from_name(name: &str) -> Option<Topic> {
        Topic::ALL.into_iter().find(|t| t.name() == name)
    }
}

type Lexicon = &'static [(Topic, &'static [&'static str])];

/// The keyword lexicons, by language.
pub const LEXICONS: &[(&str, Lexicon)] = &[
    (
        "en",
        &[
            (
                Topic::Returns,
                &["return", "refund", "exchange", "send back"],
            ),
            (
                Topic::Billing,
                &[
                    "invoice", "bill", "charge", "payment", "paid", "pay", "receipt", "card",
                ],
            ),
            (
                Topic::Shipping,
                &[
                    "ship", "deliver", "tracking", "parcel", "package", "courier", "arriv",
                ],
            ),
            (
                Topic::ProductQuality,
                &[
                    "broken",
                    "defect",
                    "damage",
                    "faulty",
                    "quality",
                    "scratch",
                    "crack",
                    "malfunction",
                    "blurry",
                ],
            ),
            (
                Topic::Account,
                &[
                    "account", "password", "login", "sign in", "username", "log in",
                ],
            ),
            (
                Topic::Usage,
                &[
                    "how",
                    "use",
                    "using",
                    "setup",
                    "set up",
                    "setting",
                    "install",
                    "configur",
                    "tutorial",
                    "manual",
                    "guide",
                    "instruction",
                    "autofocus",
                    "focus",
                ],
            ),
        ],
    ),
    (
        "es",
        &[
            (Topic::Returns, &["devol", "reembols", "cambiar", "cambio"]),
            (
                Topic::Billing,
                &["factura", "cobr", "pago", "tarjeta", "recibo"],
            ),
            (
                Topic::Shipping,
                &[
                    "envío",
                    "envio",
                    "entrega",
                    "paquete",
                    "seguimiento",
                    "llega",
                    "mensajer",
                ],
            ),
            (
                Topic::ProductQuality,
                &["roto", "defectuos", "dañad", "calidad", "falla", "rayad"],
            ),
            (
                Topic::Account,
                &["cuenta", "contraseña", "sesión", "usuario"],
            ),
            (
                Topic::Usage,
                &[
                    "cómo",
                    "como",
                    "usar",
                    "configur",
                    "enfoque",
                    "autoenfoque",
                    "tutorial",
                    "instrucciones",
                    "manual",
                ],
            ),
        ],
    ),
    (
        "fr",
        &[
            (Topic::Returns, &["retour", "rembours", "échang"]),
            (
                Topic::Billing,
                &[
                    "facture",
                    "paiement",
                    "prélèvement",
                    "carte bancaire",
                    "débit",
                ],
            ),
            (
                Topic::Shipping,
                &["livraison", "livr", "colis", "expédi", "suivi"],
            ),
            (
                Topic::ProductQuality,
                &["cassé", "défectueu", "endommag", "qualité", "rayé", "panne"],
            ),
            (
                Topic::Account,
                &["compte", "mot de passe", "connexion", "identifiant"],
            ),
            (
                Topic::Usage,
                &[
                    "comment",
                    "utilis",
                    "régl",
                    "mise au point",
                    "tutoriel",
                    "mode d'emploi",
                    "notice",
                ],
            ),
        ],
    ),
    (
        "de",
        &[
            (
                Topic::Returns,
                &[
                    "rückgabe",
                    "rücksend",
                    "erstatt",
                    "umtausch",
                    "zurückschick",
                ],
            ),
            (
                Topic::Billing,
                &["rechnung", "zahlung", "abbuchung", "bezahl", "kreditkarte"],
            ),
            (
                Topic::Shipping,
                &["versand", "liefer", "paket", "sendung", "zustell"],
            ),
            (
                Topic::ProductQuality,
                &["kaputt", "defekt", "beschädigt", "qualität", "fehlerhaft"],
            ),
            (
                Topic::Account,
                &["konto", "passwort", "anmeld", "benutzerkonto"],
            ),
            (
                Topic::Usage,
                &[
                    "wie",
                    "benutz",
                    "verwend",
                    "anleitung",
                    "einstell",
                    "autofokus",
                    "fokus",
                ],
            ),
        ],
    ),
    (
        "ja",
        &[
            (Topic::Returns, &["返品", "返金", "交換"]),
            (Topic::Billing, &["請求", "支払", "料金", "領収", "決済"]),
            (
                Topic::Shipping,
                &["配送", "発送", "届", "配達", "荷物", "追跡"],
            ),
            (
                Topic::ProductQuality,
                &["壊れ", "故障", "不良", "傷", "品質"],
            ),
            (Topic::Account, &["アカウント", "パスワード", "ログイン"]),
            (
                Topic::Usage,
                &[
                    "使い方",
                    "設定",
                    "使用",
                    "オートフォーカス",
                    "ピント",
                    "方法",
                ],
            ),
        ],
    ),
    (
        "zh",
        &[
            (Topic::Returns, &["退货", "退款", "换货"]),
            (Topic::Billing, &["发票", "付款", "支付", "扣款", "账单"]),
            (Topic::Shipping, &["发货", "配送", "物流", "快递", "送达"]),
            (
                Topic::ProductQuality,
                &["损坏", "坏了", "质量", "故障", "缺陷"],
            ),
            (Topic::Account, &["账户", "账号", "密码", "登录"]),
            (
                Topic::Usage,
                &["怎么", "如何", "使用", "设置", "自动对焦", "对焦"],
            ),
        ],
    ),
    (
        // Hangul counts as CJK here, so these match as substrings: Korean attaches
        // particles to nouns (배송이, 배송은).
        "ko",
        &[
            (Topic::Returns, &["반품", "환불", "교환"]),
            (
                Topic::Billing,
                &["결제", "청구", "영수증", "카드", "요금", "계산서"],
            ),
            (
                Topic::Shipping,
                &["배송", "택배", "배달", "도착", "운송장", "발송"],
            ),
            (
                Topic::ProductQuality,
                &["고장", "불량", "파손", "품질", "흠집", "깨졌", "결함"],
            ),
            (Topic::Account, &["계정", "비밀번호", "로그인", "아이디"]),
            (
                Topic::Usage,
                &[
                    "사용법",
                    "사용 방법",
                    "설정",
                    "설치",
                    "어떻게",
                    "초점",
                    "설명서",
                ],
            ),
        ],
    ),
];

fn hits(keyword: &str, lower: &str, words: &[&str]) -> usize {
    if keyword.chars().next().is_some_and(crate::text::is_cjk) || keyword.contains(' ') {
        lower.matches(keyword).count()
    } else {
        words.iter().filter(|w| w.starts_with(keyword)).count()
    }
}

/// The topic of `text` with the number of keyword hits per topic that decided it.
///
/// ```
/// use crossdesk_text::topic::{Topic, classify};
/// assert_eq!(classify("Where is my parcel? The tracking shows nothing"), Topic::Shipping);
/// assert_eq!(classify("返品したいです"), Topic::Returns);
/// assert_eq!(classify("Hello there"), Topic::Other);
/// ```
pub fn classify(text: &str) -> Topic {
    let lower = text.to_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    let mut best = (0, Topic::Other);
    for topic in Topic::ALL {
        let count: usize = LEXICONS
            .iter()
            .flat_map(|(_, lexicon)| lexicon.iter())
            .filter(|(t, _)| *t == topic)
            .flat_map(|(_, keywords)| keywords.iter())
            .map(|k| hits(k, &lower, &words))
            .sum();
        if count > best.0 {
            best = (count, topic);
        }
    }
    best.1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn english() {
        assert_eq!(
            classify("My lens arrived broken, the glass has a crack"),
            Topic::ProductQuality
        );
        assert_eq!(classify("How do I set up the autofocus?"), Topic::Usage);
        assert_eq!(
            classify("I was charged twice, please check the invoice"),
            Topic::Billing
        );
        assert_eq!(
            classify("I want to return it and get a refund"),
            Topic::Returns
        );
        assert_eq!(
            classify("I forgot my password and cannot log in"),
            Topic::Account
        );
        assert_eq!(
            classify("When will my package be delivered?"),
            Topic::Shipping
        );
    }

    #[test]
    fn spanish() {
        assert_eq!(
            classify("¿Cuándo llega mi paquete? No hay seguimiento"),
            Topic::Shipping
        );
        assert_eq!(
            classify("Quiero una devolución y el reembolso"),
            Topic::Returns
        );
        assert_eq!(classify("¿Cómo configuro el autoenfoque?"), Topic::Usage);
    }

    #[test]
    fn french() {
        assert_eq!(
            classify("Ma facture indique un double paiement"),
            Topic::Billing
        );
        assert_eq!(
            classify("L'objectif est arrivé cassé, il est défectueux"),
            Topic::ProductQuality
        );
    }

    #[test]
    fn german() {
        assert_eq!(
            classify("Ich habe mein Passwort vergessen, mein Konto ist gesperrt"),
            Topic::Account
        );
        assert_eq!(
            classify("Wann kommt die Lieferung? Das Paket ist nicht da"),
            Topic::Shipping
        );
    }

    #[test]
    fn japanese() {
        assert_eq!(
            classify("オートフォーカスの使い方を教えてください"),
            Topic::Usage
        );
        assert_eq!(classify("荷物がまだ届きません"), Topic::Shipping);
    }

    #[test]
    fn chinese() {
        assert_eq!(classify("我想退货并退款"), Topic::Returns);
        assert_eq!(classify("镜头坏了，质量有问题"), Topic::ProductQuality);
        assert_eq!(classify("我的账号密码忘了"), Topic::Account);
    }

    #[test]
    fn korean() {
        assert_eq!(
            classify("주문한 상품이 아직 도착하지 않았어요. 배송 조회가 안 돼요."),
            Topic::Shipping
        );
        assert_eq!(classify("환불 받고 싶습니다"), Topic::Returns);
        assert_eq!(
            classify("렌즈가 고장 났어요, 불량인 것 같아요"),
            Topic::ProductQuality
        );
        assert_eq!(classify("오토포커스 설정은 어떻게 하나요?"), Topic::Usage);
        assert_eq!(
            classify("비밀번호를 잊어버려서 로그인이 안 됩니다"),
            Topic::Account
        );
        assert_eq!(classify("카드 결제가 두 번 청구되었습니다"), Topic::Billing);
    }

    #[test]
    fn names_and_tags() {
        assert_eq!(Topic::ProductQuality.tag(), "topic-product-quality");
        for t in Topic::ALL {
            assert_eq!(Topic::from_name(t.name()), Some(t));
        }
        assert_eq!(classify(""), Topic::Other);
    }
}
