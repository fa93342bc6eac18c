//! The protection table shared by the plugin's tests (recorded APy responses) and
//! the end-to-end tests (a real APy through the sidecar): varied messages and the
//! spans in each that must come back byte-identical.

/// One case: the agent's language, the customer's, the draft, and the spans that
/// must come back byte-identical. Glossary terms use the keep list "Crossdesk" and
/// "Magic Mouse", and the forced term en→es "refund" = "reembolso".
pub(crate) struct Case {
    pub(crate) src: &'static str,
    pub(crate) tgt: &'static str,
    pub(crate) text: &'static str,
    pub(crate) spans: &'static [&'static str],
}

/// The glossary every case runs with: never translated.
pub(crate) const KEEP_TERMS: &[&str] = &["Crossdesk", "Magic Mouse"];
/// The glossary every case runs with: forced terms (source, target), en→es.
pub(crate) const FORCED_TERMS_EN_ES: &[(&str, &str)] = &[("refund", "reembolso")];

impl Case {
    /// How often `span` must appear in the translation: as often as in the source,
    /// except a forced term's target, which appears wherever its source term did.
    pub(crate) fn expected_count(&self, span: &str) -> usize {
        let forced_source = FORCED_TERMS_EN_ES
            .iter()
            .find(|(_, target)| *target == span)
            .filter(|_| self.src == "en" && self.tgt == "es");
        match forced_source {
            Some((source, _)) => self.text.matches(source).count(),
            None => self.text.matches(span).count(),
        }
    }
}

const fn case(
    src: &'static str,
    tgt: &'static str,
    text: &'static str,
    spans: &'static [&'static str],
) -> Case {
    Case {
        src,
        tgt,
        text,
        spans,
    }
}

pub(crate) const CASES: &[Case] = &[
    case(
        "en",
        "es",
        "Your order #4471 has shipped. Track it at https://shop.example.com/track?id=4471&lang=en today.",
        &["#4471", "https://shop.example.com/track?id=4471&lang=en"],
    ),
    case(
        "en",
        "es",
        "Please write to support@example.com or to billing.team@shop.example.co.uk before Friday.",
        &["support@example.com", "billing.team@shop.example.co.uk"],
    ),
    case(
        "en",
        "es",
        "Order ORD-2024-778 and code A1B2C3 were refunded yesterday.",
        &["ORD-2024-778", "A1B2C3"],
    ),
    case(
        "en",
        "es",
        "Hi {{customer.first_name}}, your ticket {{ticket.id}} is now closed.",
        &["{{customer.first_name}}", "{{ticket.id}}"],
    ),
    case(
        "en",
        "es",
        "@maria will call you back, and @john.smith is copied.",
        &["@maria", "@john.smith"],
    ),
    case(
        "en",
        "es",
        "Run `reset the password` in the settings page.",
        &["`reset the password`"],
    ),
    case(
        "en",
        "es",
        "Paste this into the terminal:\n```\nsudo reset --all\nthe red car\n```\nThen restart the computer.",
        &["```\nsudo reset --all\nthe red car\n```"],
    ),
    case(
        "en",
        "es",
        "The parcel weighs 5 kg and the shipping costs 10 € or €10 in total.",
        &["5 kg", "10 €", "€10"],
    ),
    case(
        "en",
        "es",
        "The plan includes 3.5GB of data and a 25% discount for the first month.",
        &["3.5GB", "25%"],
    ),
    case(
        "en",
        "es",
        "<p>Hello <b>Ana</b>,</p><p>your <a href=\"https://x.example/o/1\">order</a> is ready.</p>",
        &[
            "<p>",
            "<b>",
            "</b>",
            "</p>",
            "<a href=\"https://x.example/o/1\">",
            "</a>",
        ],
    ),
    case(
        "en",
        "es",
        "Thank you so much 😀👍 the new phone arrived today 🎉",
        &["😀👍", "🎉"],
    ),
    case(
        "en",
        "es",
        "Family emoji 👨‍👩‍👧 and the flag 🇲🇽 stay as they are.",
        &["👨‍👩‍👧", "🇲🇽"],
    ),
    case(
        "en",
        "es",
        "The Crossdesk app and the Magic Mouse are both covered by the warranty.",
        &["Crossdesk", "Magic Mouse"],
    ),
    case(
        "en",
        "es",
        "We sent your refund today; the refund takes five days.",
        &["reembolso"],
    ),
    case(
        "en",
        "es",
        "The model 東京タワー A1B2C3 is sold out, sorry.",
        &["A1B2C3"],
    ),
    case(
        "en",
        "es",
        "我们的订单 #8812 is late, the customer wrote to 客服@example.com too.",
        &["#8812"],
    ),
    case(
        "en",
        "es",
        "Visit www.example.com/help or shop.example.com for the manual.",
        &["www.example.com/help", "shop.example.com"],
    ),
    case(
        "en",
        "es",
        "The meeting is on 2024-05-01 at 10:30 with version v2.3.1 installed.",
        &["2024-05-01", "10:30", "v2.3.1"],
    ),
    case(
        "en",
        "es",
        "Prices: US$25, £7.50 and ¥1,200 per unit &amp; free shipping.",
        &["US$25", "£7.50", "¥1,200", "&amp;"],
    ),
    case(
        "en",
        "es",
        "If 3 < 5 and 7 > 2, the big red car & the small house stay.",
        &[],
    ),
    case(
        "en",
        "es",
        "Hello,\n\nyour order #1234 is ready.\nThe driver @pedro calls at 9:00.\n\nRegards",
        &["#1234", "@pedro", "9:00", "\n\n", "\n"],
    ),
    case(
        "en",
        "es",
        "Use the code SAVE20 at https://example.com/cart (valid until 31/12/2025).",
        &["SAVE20", "https://example.com/cart", "31/12/2025"],
    ),
    case(
        "en",
        "es",
        "See the photo (https://example.com/img/a_(1).png), then reply.",
        &["https://example.com/img/a_(1).png"],
    ),
    case(
        "en",
        "es",
        "The battery is 5000 mAh, the screen 6.1 in and the charger 65W.",
        &["5000 mAh", "65W"],
    ),
    case(
        "en",
        "es",
        "<ul><li>red shoes</li><li>green house</li></ul>",
        &["<ul>", "<li>", "</li>", "</ul>"],
    ),
    case(
        "en",
        "es",
        "Please call <!-- internal: VIP --> our team at the big house.",
        &["<!-- internal: VIP -->"],
    ),
    case(
        "es",
        "en",
        "Hola, mi pedido #4471 no ha llegado y quiero un reembolso de 49,99 €.",
        &["#4471", "49,99 €"],
    ),
    case(
        "es",
        "en",
        "Escríbeme a lucia@example.mx o llámame, gracias 🙏",
        &["lucia@example.mx", "🙏"],
    ),
    case(
        "fr",
        "en",
        "Bonjour, ma commande CMD-99812 n'est pas arrivée, voir https://exemple.fr/suivi 😞",
        &["CMD-99812", "https://exemple.fr/suivi", "😞"],
    ),
    case(
        "fr",
        "en",
        "Le colis de 2 kg est chez {{carrier.name}} depuis le 12/03.",
        &["2 kg", "{{carrier.name}}", "12/03"],
    ),
    case(
        "en",
        "fr",
        "Your order #5521 costs €120 and ships from https://shop.example.com/fr.",
        &["#5521", "€120", "https://shop.example.com/fr"],
    ),
    case(
        "en",
        "ca",
        "The invoice INV-2024-0042 for 300 € was sent to anna@example.cat.",
        &["INV-2024-0042", "300 €", "anna@example.cat"],
    ),
    case(
        "ca",
        "en",
        "Bon dia, la comanda #7788 encara no ha arribat. Gràcies!",
        &["#7788"],
    ),
    case(
        "es",
        "pt",
        "Su pedido #3321 llegará el martes con @carlos como repartidor.",
        &["#3321", "@carlos"],
    ),
    case(
        "pt",
        "es",
        "Olá, o meu pedido ORD-5521 chegou danificado 😡 veja https://foto.example.com/x1",
        &["ORD-5521", "😡", "https://foto.example.com/x1"],
    ),
    case(
        "es",
        "fr",
        "El producto <strong>nuevo</strong> cuesta 20 € y pesa 1,5 kg.",
        &["<strong>", "</strong>", "20 €", "1,5 kg"],
    ),
    case(
        "en",
        "es",
        "Keycap 1️⃣ and `code span` and {% if vip %}VIP{% endif %} text.",
        &["1️⃣", "`code span`", "{% if vip %}", "{% endif %}"],
    ),
    case(
        "en",
        "es",
        "The <code>red car</code> function and <pre>big house</pre> stay; the red car moves.",
        &["<code>red car</code>", "<pre>big house</pre>"],
    ),
];
