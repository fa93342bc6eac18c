//! The tone plugin's case table, shared by its native tests (`tests/tone.rs`, through
//! the SDK's MockHost) and the end-to-end tests (through the sidecar over gRPC).
//!
//! Plain data, no dependency: each [`Case`] describes an `AgentReplyDrafted` event
//! (customer locale, country, display name, the `customer.title` attribute, the
//! agent's working language, the draft), the plugin settings to run it with
//! ([`Case::config`]: [`BASE_CONFIG`] plus the case's own), and what must come out:
//!
//! - `profile`: the profile the note must name (`"Tone: profile ja-JP (…"`); empty
//!   when no profile fits, and then the plugin returns no action at all;
//! - `draft_language`: the reply language the note must name (`"(ja, by …"`);
//! - `rewritten`: whether a `ReplaceDraft` comes back; without one the draft is the
//!   output;
//! - `contains` / `absent`: strings the output must / must not contain;
//! - `rules`: rule ids the note must list (`"- greeting.add: …"`), the note-only
//!   findings included;
//! - `placeholders`: strings that must come through byte-identical (each at least
//!   as often as in the draft).
//!
//! Every case also holds for the invariants: running the plugin on its output
//! changes nothing, and the plugin never answers with `AutoReply`.
//!
//! [`SENSITIVE_CASES`] are drafts that must be flagged (category and the term as it
//! appears in the draft, which the flag's reason quotes) or must not be.

#![allow(dead_code)]

/// Settings every case runs with; a case's own `config` entries win.
pub(crate) const BASE_CONFIG: &[(&str, &str)] = &[
    ("keep_terms", "Crossdesk, Magic Mouse, iPhone"),
    ("competitors", "Zentrix, HelpHub"),
];

/// One reply draft and what the plugin must make of it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Case {
    /// Unique, `locale/what`.
    pub(crate) id: &'static str,
    /// The customer's locale; empty for none.
    pub(crate) locale: &'static str,
    /// The customer's country; empty for none.
    pub(crate) country: &'static str,
    /// The customer's display name; empty for none.
    pub(crate) name: &'static str,
    /// Event attribute `customer.title`.
    pub(crate) title: Option<&'static str>,
    /// The agent's working language; empty for none.
    pub(crate) agent_language: &'static str,
    /// The draft.
    pub(crate) draft: &'static str,
    /// The language the draft is written in (ISO 639-1).
    pub(crate) draft_language: &'static str,
    /// Settings of this case (added to [`BASE_CONFIG`], winning over it).
    pub(crate) config: &'static [(&'static str, &'static str)],
    /// The profile the plugin must choose; empty: none, and no actions at all.
    pub(crate) profile: &'static str,
    /// Whether the draft must be replaced.
    pub(crate) rewritten: bool,
    /// Strings the output must contain.
    pub(crate) contains: &'static [&'static str],
    /// Strings the output must not contain.
    pub(crate) absent: &'static [&'static str],
    /// Rule ids the note must list.
    pub(crate) rules: &'static [&'static str],
    /// Strings that must come through byte-identical.
    pub(crate) placeholders: &'static [&'static str],
}

impl Case {
    /// The event's attributes.
    pub(crate) fn attributes(&self) -> Vec<(&'static str, &'static str)> {
        self.title
            .map(|t| ("customer.title", t))
            .into_iter()
            .collect()
    }

    /// The plugin settings: [`BASE_CONFIG`] with the case's own entries on top.
    pub(crate) fn config(&self) -> Vec<(&'static str, &'static str)> {
        let mut out: Vec<(&'static str, &'static str)> = BASE_CONFIG
            .iter()
            .filter(|(k, _)| !self.config.iter().any(|(c, _)| c == k))
            .copied()
            .collect();
        out.extend(self.config.iter().copied());
        out
    }

    /// What the note's first line must contain.
    pub(crate) fn note_fragments(&self) -> Vec<String> {
        vec![
            format!("Tone: profile {} (", self.profile),
            format!("({}", self.draft_language),
        ]
    }

    /// The note line of each expected rule.
    pub(crate) fn rule_lines(&self) -> Vec<String> {
        self.rules.iter().map(|r| format!("- {r}: ")).collect()
    }

    const fn country(mut self, country: &'static str) -> Case {
        self.country = country;
        self
    }

    const fn title(mut self, title: &'static str) -> Case {
        self.title = Some(title);
        self
    }

    const fn agent(mut self, language: &'static str) -> Case {
        self.agent_language = language;
        self
    }

    const fn config_with(mut self, config: &'static [(&'static str, &'static str)]) -> Case {
        self.config = config;
        self
    }

    const fn profile(mut self, profile: &'static str) -> Case {
        self.profile = profile;
        self
    }

    /// The draft comes back unchanged (no rule changes the text).
    const fn unchanged(mut self) -> Case {
        self.rewritten = false;
        self
    }

    const fn contains(mut self, strings: &'static [&'static str]) -> Case {
        self.contains = strings;
        self
    }

    const fn absent(mut self, strings: &'static [&'static str]) -> Case {
        self.absent = strings;
        self
    }

    const fn rules(mut self, ids: &'static [&'static str]) -> Case {
        self.rules = ids;
        self
    }

    const fn keeps(mut self, placeholders: &'static [&'static str]) -> Case {
        self.placeholders = placeholders;
        self
    }
}

/// A case for `locale` (also its profile), rewritten unless said otherwise.
const fn case(
    id: &'static str,
    locale: &'static str,
    name: &'static str,
    draft: &'static str,
    draft_language: &'static str,
) -> Case {
    Case {
        id,
        locale,
        country: "",
        name,
        title: None,
        agent_language: "",
        draft,
        draft_language,
        config: &[],
        profile: locale,
        rewritten: true,
        contains: &[],
        absent: &[],
        rules: &[],
        placeholders: &[],
    }
}

const GREET_CLOSE: &[&str] = &["greeting.add", "closing.add"];
const GREET_THANK_CLOSE: &[&str] = &["greeting.add", "opener.gratitude", "closing.add"];
const GREET_CUSHION_CLOSE: &[&str] = &["greeting.add", "opener.cushion", "closing.add"];

/// The rewrite table: at least five cases for each of the 15 profiles.
pub(crate) const CASES: &[Case] = &[
    // ------------------------------------------------------------ en-US
    case(
        "en-US/filler-and-first-name",
        "en-US",
        "Anna Smith",
        "I hope this email finds you well. Just wanted to let you know that your order #4471 has shipped!!! Track it at https://shop.example.com/track?id=4471 🎉",
        "en",
    )
    .contains(&["Hi Anna,\n\nYour order #4471 has shipped! Track it at https://shop.example.com/track?id=4471 🎉"])
    .absent(&["I hope", "Just wanted", "!!", "Kind regards"])
    .rules(&["exclamation.collapse", "directness.trim-filler", "directness.lead-with-answer", "greeting.add"])
    .keeps(&["#4471", "https://shop.example.com/track?id=4471"]),
    case("en-US/title-given", "en-US", "Anna Smith", "Your refund of $25.00 was issued today.", "en")
        .title("Ms")
        .contains(&["Hi Ms Smith,\n\nYour refund of $25.00 was issued today."])
        .rules(&["greeting.add"])
        .keeps(&["$25.00"]),
    case(
        "en-US/already-fine",
        "en-US",
        "Anna Smith",
        "Hi Anna,\n\nYour replacement Magic Mouse ships tomorrow. Questions? Write to support@example.com.",
        "en",
    )
    .unchanged()
    .keeps(&["Magic Mouse", "support@example.com"]),
    case(
        "en-US/hesitate-shortened",
        "en-US",
        "Anna Smith",
        "Hi Anna,\n\nWe have reset your password. Please don't hesitate to reach out if you have any questions.",
        "en",
    )
    .contains(&["We have reset your password. Just reply if you have any questions."])
    .absent(&["hesitate"])
    .rules(&["directness.trim-filler"]),
    case(
        "en-US/macros-code-mentions",
        "en-US",
        "Anna Smith",
        "{{customer.first_name}}, in order to finish the setup, run `crossdesk sync --all`. @maria will call you at 14:30.",
        "en",
    )
    .contains(&["Hi Anna,\n\n{{customer.first_name}}, to finish the setup"])
    .absent(&["in order to"])
    .rules(&["directness.trim-filler", "greeting.add"])
    .keeps(&["{{customer.first_name}}", "`crossdesk sync --all`", "@maria", "14:30"]),
    case("en-US/emoji-kept", "en-US", "Anna Smith", "Great news!! Your Crossdesk plan is upgraded 😀", "en")
        .contains(&["Hi Anna,\n\nGreat news! Your Crossdesk plan is upgraded 😀"])
        .rules(&["exclamation.collapse", "greeting.add"])
        .keeps(&["Crossdesk"]),
    // ------------------------------------------------------------ en-GB
    case("en-GB/dear-and-regards", "en-GB", "Anna Smith", "Your parcel is on its way.", "en")
        .contains(&["Dear Anna Smith,\n\nYour parcel is on its way.\n\nKind regards,"])
        .rules(GREET_CLOSE),
    case(
        "en-GB/title-and-preamble",
        "en-GB",
        "James Wilson",
        "Please be advised that your invoice INV-2024-0042 is attached. 🙂",
        "en",
    )
    .title("Mr")
    .contains(&["Dear Mr Wilson,\n\nYour invoice INV-2024-0042 is attached.\n\nKind regards,"])
    .absent(&["🙂", "advised"])
    .rules(&["emoji.remove", "directness.lead-with-answer", "greeting.add", "closing.add"])
    .keeps(&["INV-2024-0042"]),
    case(
        "en-GB/honorific-on-own-greeting",
        "en-GB",
        "Anna Smith",
        "Dear Anna,\n\nYour parcel is on its way.\n\nKind regards,",
        "en",
    )
    .title("Ms")
    .contains(&["Dear Ms Smith,\n\nYour parcel is on its way."])
    .absent(&["Dear Anna,"])
    .rules(&["honorific.add"]),
    case(
        "en-GB/closing-before-signature",
        "en-GB",
        "Anna Smith",
        "Dear Anna Smith,\n\nI hope you are well. We have refunded £12.99 to your card.\n\n-- \nAcme Support",
        "en",
    )
    .contains(&["Dear Anna Smith,\n\nWe have refunded £12.99 to your card.\n\nKind regards,\n-- \nAcme Support"])
    .absent(&["I hope"])
    .rules(&["directness.trim-filler", "closing.add"])
    .keeps(&["£12.99"]),
    case(
        "en-GB/already-fine",
        "en-GB",
        "Anna Smith",
        "Dear Anna Smith,\n\nThe Magic Mouse is back in stock: https://shop.example.co.uk/mm\n\nKind regards,",
        "en",
    )
    .unchanged()
    .keeps(&["Magic Mouse", "https://shop.example.co.uk/mm"]),
    case(
        "en-GB/country-without-locale",
        "",
        "Oliver Brown",
        "Thanks!!! Your order ORD-2024-778 has been dispatched.",
        "en",
    )
    .country("GB")
    .profile("en-GB")
    .contains(&["Dear Oliver Brown,\n\nThanks! Your order ORD-2024-778 has been dispatched.\n\nKind regards,"])
    .rules(&["exclamation.collapse", "greeting.add", "closing.add"])
    .keeps(&["ORD-2024-778"]),
    // ------------------------------------------------------------ de-DE
    case("de-DE/guten-tag", "de-DE", "Anna Schmidt", "Ihre Bestellung #4471 ist unterwegs!", "de")
        .contains(&["Guten Tag Anna Schmidt,\n\nIhre Bestellung #4471 ist unterwegs.\n\nMit freundlichen Grüßen"])
        .absent(&["!"])
        .rules(&["exclamation.tone-down", "greeting.add", "closing.add"])
        .keeps(&["#4471"]),
    case("de-DE/title-frau", "de-DE", "Anna Schmidt", "Die Rückerstattung über 49,90 € ist veranlasst.", "de")
        .title("Frau")
        .contains(&["Sehr geehrte Frau Schmidt,\n\nDie Rückerstattung über 49,90 € ist veranlasst.\n\nMit freundlichen Grüßen"])
        .rules(GREET_CLOSE)
        .keeps(&["49,90 €"]),
    case("de-DE/du-to-sie", "de-DE", "Jan Weber", "Kannst du mir deine Bestellnummer schicken?", "de")
        .contains(&["Guten Tag Jan Weber,", "Können Sie mir Ihre Bestellnummer schicken?", "Mit freundlichen Grüßen"])
        .absent(&[" du ", "deine"])
        .rules(&["register.pronoun", "greeting.add", "closing.add"]),
    case("de-DE/du-by-override", "de-DE", "Jan Weber", "Können Sie mir Ihre Bestellnummer schicken?", "de")
        .config_with(&[("overrides", "de-DE.pronoun=du")])
        // `Sie` is also "they": never rewritten into `du`, and not reported either.
        .contains(&["Können Sie mir Ihre Bestellnummer schicken?"])
        .rules(&["greeting.add", "closing.add"]),
    case(
        "de-DE/filler-shortened",
        "de-DE",
        "Anna Schmidt",
        "Guten Tag Anna Schmidt,\n\nIhr Paket wurde heute versandt. Zögern Sie nicht, uns zu kontaktieren, wenn Sie weitere Fragen haben.\n\nMit freundlichen Grüßen",
        "de",
    )
    .contains(&["Ihr Paket wurde heute versandt. Bei Fragen antworten Sie einfach auf diese E-Mail."])
    .absent(&["Zögern"])
    .rules(&["directness.trim-filler"]),
    case(
        "de-DE/emoji-and-link",
        "de-DE",
        "Anna Schmidt",
        "Ihr Passwort wurde zurückgesetzt 👍 Anmelden: https://app.example.com/login?next=/konto!",
        "de",
    )
    .contains(&["Ihr Passwort wurde zurückgesetzt. Anmelden: https://app.example.com/login?next=/konto."])
    .absent(&["👍", "!"])
    .rules(&["emoji.remove", "exclamation.tone-down", "greeting.add", "closing.add"])
    .keeps(&["https://app.example.com/login?next=/konto"]),
    case("de-DE/override-informal", "de-DE", "Anna Schmidt", "Dein Paket ist unterwegs.", "de")
        .config_with(&[("overrides", "de-DE.register=informal")])
        .contains(&["Hallo Anna,\n\nDein Paket ist unterwegs.\n\nViele Grüße"])
        .absent(&["Sehr geehrte", "Mit freundlichen"])
        .rules(GREET_CLOSE),
    // ------------------------------------------------------------ fr-FR
    case("fr-FR/bonjour-and-thanks", "fr-FR", "Claire Martin", "Votre commande a été expédiée aujourd'hui.", "fr")
        .contains(&["Bonjour Claire Martin,\n\nNous vous remercions de votre message.\n\nVotre commande a été expédiée aujourd'hui.\n\nCordialement,"])
        .rules(GREET_THANK_CLOSE),
    case("fr-FR/madame-bad-news", "fr-FR", "Claire Martin", "Malheureusement, votre colis est en retard !", "fr")
        .title("Mme")
        .contains(&["Bonjour Madame Martin,\n\nNous vous prions de nous excuser pour la gêne occasionnée.\n\nMalheureusement, votre colis est en retard.\n\nCordialement,"])
        .absent(&["!"])
        .rules(&["exclamation.tone-down", "greeting.add", "opener.cushion", "closing.add"]),
    case("fr-FR/tu-to-vous", "fr-FR", "Claire Martin", "Merci pour ta commande, tu la recevras demain.", "fr")
        .contains(&["Bonjour Claire Martin,", "Merci pour votre commande, vous la recevrez demain.", "Cordialement,"])
        .absent(&["Nous vous remercions", " tu "])
        .rules(&["register.pronoun", "greeting.add", "closing.add"]),
    case(
        "fr-FR/placeholders-and-cushion",
        "fr-FR",
        "Claire Martin",
        "Bonjour Claire Martin,\n\nMerci pour votre patience. Votre remboursement de 25 € (réf. RMB-2024-19) est en cours : https://shop.example.fr/suivi 😊\n\nCordialement,",
        "fr",
    )
    .contains(&[
        "Bonjour Claire Martin,\n\nNous vous prions de nous excuser pour la gêne occasionnée.\n\nMerci pour votre patience.",
        "est en cours : https://shop.example.fr/suivi\n\nCordialement,",
    ])
    .absent(&["😊"])
    .rules(&["emoji.remove", "opener.cushion"])
    .keeps(&["25 €", "RMB-2024-19", "https://shop.example.fr/suivi"]),
    case(
        "fr-FR/already-fine",
        "fr-FR",
        "Claire Martin",
        "Bonjour Claire Martin,\n\nNous vous remercions de votre message. Votre commande est prête.\n\nCordialement,",
        "fr",
    )
    .unchanged(),
    case("fr-FR/nearest-from-fr-CA", "fr-CA", "Louis Tremblay", "Votre colis arrive demain.", "fr")
        .profile("fr-FR")
        .contains(&["Bonjour Louis Tremblay,", "Cordialement,"])
        .rules(GREET_THANK_CLOSE),
    // ------------------------------------------------------------ es-ES
    case("es-ES/hola-first-name", "es-ES", "Lucía Fernández", "Tu pedido ya está en camino.", "es")
        .contains(&["Hola, Lucía:\n\nGracias por escribirnos.\n\nTu pedido ya está en camino.\n\nUn saludo,"])
        .rules(GREET_THANK_CLOSE),
    case(
        "es-ES/bad-news",
        "es-ES",
        "Lucía Fernández",
        "Lamentablemente tu pedido #5521 llegará con retraso!!",
        "es",
    )
    .contains(&["Hola, Lucía:\n\nSentimos las molestias.\n\nLamentablemente tu pedido #5521 llegará con retraso!\n\nUn saludo,"])
    .absent(&["!!"])
    .rules(&["exclamation.collapse", "greeting.add", "opener.cushion", "closing.add"])
    .keeps(&["#5521"]),
    case("es-ES/usted-reported", "es-ES", "Lucía Fernández", "Usted recibirá el reembolso en 5 días.", "es")
        .contains(&["Hola, Lucía:\n\nSentimos las molestias.\n\nUsted recibirá el reembolso en 5 días."])
        .rules(&["greeting.add", "opener.cushion", "closing.add", "register.formal-address"]),
    case(
        "es-ES/own-greeting-emoji-kept",
        "es-ES",
        "Lucía Fernández",
        "¡Hola, Lucía!\n\nTu pedido ha llegado 😊\n\nUn saludo,",
        "es",
    )
    .contains(&["¡Hola, Lucía!\n\nGracias por escribirnos.\n\nTu pedido ha llegado 😊\n\nUn saludo,"])
    .rules(&["opener.gratitude"]),
    case("es-ES/vosotros-to-tu", "es-ES", "Lucía Fernández", "Vuestro pedido ya está en camino.", "es")
        .contains(&["Tu pedido ya está en camino."])
        .rules(&["register.pronoun", "greeting.add", "opener.gratitude", "closing.add"]),
    case("es-ES/usted-by-override", "es-ES", "Lucía Fernández", "Tu pedido ya está en camino; puedes seguirlo aquí.", "es")
        .config_with(&[("overrides", "es-ES.pronoun=usted")])
        .contains(&["Su pedido ya está en camino; puede seguirlo aquí."])
        .rules(&["register.pronoun", "greeting.add", "opener.gratitude", "closing.add"]),
    case("es-ES/override-formal", "es-ES", "Lucía Fernández", "Su pedido ya está en camino.", "es")
        .config_with(&[("overrides", "es-ES.register=formal")])
        .contains(&["Hola, Lucía Fernández:\n\nGracias por ponerse en contacto con nosotros.", "Saludos cordiales,"])
        .rules(GREET_THANK_CLOSE),
    // ------------------------------------------------------------ es-MX
    case("es-MX/estimada", "es-MX", "María García", "Su pedido ORD-2024-778 fue enviado hoy.", "es")
        .title("Sra.")
        .contains(&["Estimada Sra. García:\n\nGracias por ponerse en contacto con nosotros.\n\nSu pedido ORD-2024-778 fue enviado hoy.\n\nSaludos cordiales,"])
        .rules(GREET_THANK_CLOSE)
        .keeps(&["ORD-2024-778"]),
    case("es-MX/tu-to-usted", "es-MX", "Carlos López", "Tu reembolso ya fue procesado.", "es")
        .contains(&["Hola, Carlos López:\n\nLamentamos las molestias ocasionadas.\n\nSu reembolso ya fue procesado."])
        .rules(&["register.pronoun", "greeting.add", "opener.cushion", "closing.add"]),
    case("es-MX/vosotros-to-usted", "es-MX", "Carlos López", "Vuestro pedido ha salido. Puedes seguirlo aquí.", "es")
        .contains(&["Su pedido ha salido. Puede seguirlo aquí."])
        .absent(&["Vuestro", "Puedes"])
        .rules(&["register.pronoun", "greeting.add", "opener.gratitude", "closing.add"]),
    case(
        "es-MX/tone-down-and-emoji",
        "es-MX",
        "Carlos López",
        "¡Gracias por su compra! Su pedido llegará el lunes 🚚",
        "es",
    )
    .contains(&["Hola, Carlos López:\n\nGracias por su compra. Su pedido llegará el lunes.\n\nSaludos cordiales,"])
    .absent(&["¡", "!", "🚚"])
    .rules(&["emoji.remove", "exclamation.tone-down", "greeting.add", "closing.add"]),
    case("es-MX/country-without-locale", "", "Carlos López", "Su paquete llegará mañana.", "es")
        .country("MX")
        .profile("es-MX")
        .contains(&["Hola, Carlos López:", "Saludos cordiales,"])
        .rules(GREET_THANK_CLOSE),
    case("es-MX/nearest-from-es-AR", "es-AR", "Sofía Díaz", "Su pedido fue cancelado.", "es")
        .profile("es-MX")
        .contains(&["Hola, Sofía Díaz:\n\nLamentamos las molestias ocasionadas."])
        .rules(GREET_CUSHION_CLOSE),
    // ------------------------------------------------------------ pt-BR
    case("pt-BR/ola", "pt-BR", "João Silva", "Seu pedido foi enviado hoje.", "pt")
        .contains(&["Olá, João Silva,\n\nAgradecemos o seu contato.\n\nSeu pedido foi enviado hoje.\n\nAtenciosamente,"])
        .rules(GREET_THANK_CLOSE),
    case("pt-BR/prezada-bad-news", "pt-BR", "Ana Souza", "Infelizmente seu pedido #7781 está atrasado!", "pt")
        .title("Sra.")
        .contains(&["Prezada Sra. Souza,\n\nPedimos desculpas pelo transtorno.\n\nInfelizmente seu pedido #7781 está atrasado.\n\nAtenciosamente,"])
        .rules(&["exclamation.tone-down", "greeting.add", "opener.cushion", "closing.add"])
        .keeps(&["#7781"]),
    case(
        "pt-BR/emoji-and-tracking-code",
        "pt-BR",
        "João Silva",
        "Olá, João Silva,\n\nObrigado pela compra! 😊 O código de rastreio é BR123456789XX.\n\nAtenciosamente,",
        "pt",
    )
    .contains(&["Obrigado pela compra. O código de rastreio é BR123456789XX."])
    .absent(&["😊", "!"])
    .rules(&["emoji.remove", "exclamation.tone-down"])
    .keeps(&["BR123456789XX"]),
    case("pt-BR/te-to-lhe", "pt-BR", "João Silva", "Te enviei o código de acesso por e-mail.", "pt")
        .contains(&["Olá, João Silva,", "Lhe enviei o código de acesso por e-mail."])
        .rules(&["register.pronoun", "greeting.add", "opener.gratitude", "closing.add"]),
    case("pt-BR/o-senhor-by-override", "pt-BR", "João Silva", "Você pode acompanhar seu pedido.", "pt")
        .title("Sr.")
        .config_with(&[("overrides", "pt-BR.pronoun=o senhor")])
        .contains(&["O senhor pode acompanhar seu pedido."])
        .rules(&["register.pronoun", "greeting.add", "opener.gratitude", "closing.add"]),
    case("pt-PT/own-profile", "pt-PT", "Rui Costa", "O seu reembolso foi processado.", "pt")
        .contains(&["Olá, Rui Costa,\n\nPedimos desculpas pelo transtorno."])
        .rules(GREET_CUSHION_CLOSE),
    case("pt-PT/title-prezada", "pt-PT", "Ana Costa", "A sua encomenda foi enviada hoje.", "pt")
        .title("Sra.")
        .contains(&["Prezada Sra. Costa,\n\nAgradecemos o seu contato.\n\nA sua encomenda foi enviada hoje.\n\nAtenciosamente,"])
        .rules(GREET_THANK_CLOSE),
    case("pt-PT/reflexive-te", "pt-PT", "Rui Costa", "Se te registaste, recebeste um e-mail.", "pt")
        .contains(&["Se se registou, recebeu um e-mail."])
        .rules(&["register.pronoun", "greeting.add", "opener.gratitude", "closing.add"]),
    case("pt-PT/bad-news", "pt-PT", "Rui Costa", "Infelizmente a tua encomenda está atrasada!", "pt")
        .contains(&["Olá, Rui Costa,\n\nPedimos desculpas pelo transtorno.\n\nInfelizmente a sua encomenda está atrasada.\n\nAtenciosamente,"])
        .absent(&["!"])
        .rules(&["register.pronoun", "exclamation.tone-down", "greeting.add", "opener.cushion", "closing.add"]),
    case("pt-PT/tu-to-voce", "pt-PT", "Rui Costa", "Podes acompanhar a tua encomenda aqui.", "pt")
        .contains(&["Pode acompanhar a sua encomenda aqui."])
        .rules(&["register.pronoun", "greeting.add", "opener.gratitude", "closing.add"]),
    // ------------------------------------------------------------ it-IT
    case("it-IT/gentile", "it-IT", "Giulia Rossi", "Il suo ordine è stato spedito oggi.", "it")
        .contains(&["Gentile Giulia Rossi,\n\nLa ringraziamo per averci contattato.\n\nIl suo ordine è stato spedito oggi.\n\nCordiali saluti,"])
        .rules(GREET_THANK_CLOSE),
    case("it-IT/title-bad-news", "it-IT", "Giulia Rossi", "Purtroppo il rimborso richiede 5 giorni!", "it")
        .title("Sig.ra")
        .contains(&["Gentile Sig.ra Rossi,\n\nCi scusiamo per il disagio.\n\nPurtroppo il rimborso richiede 5 giorni.\n\nCordiali saluti,"])
        .rules(&["exclamation.tone-down", "greeting.add", "opener.cushion", "closing.add"]),
    case("it-IT/tu-reported", "it-IT", "Marco Bianchi", "Ciao Marco,\n\nil tuo ordine è partito.", "it")
        .contains(&["Ciao Marco,\n\nLa ringraziamo per averci contattato.\n\nil tuo ordine è partito.\n\nCordiali saluti,"])
        .rules(&["opener.gratitude", "closing.add", "register.informal-address"]),
    case(
        "it-IT/placeholders",
        "it-IT",
        "Giulia Rossi",
        "Gentile Giulia Rossi,\n\nGrazie! Il codice sconto è {{coupon.code}} e vale 10% su www.example.it fino al 2024-12-31.\n\nCordiali saluti,",
        "it",
    )
    .contains(&["Grazie. Il codice sconto è {{coupon.code}} e vale 10% su www.example.it fino al 2024-12-31."])
    .rules(&["exclamation.tone-down"])
    .keeps(&["{{coupon.code}}", "10%", "www.example.it", "2024-12-31"]),
    case(
        "it-IT/already-fine",
        "it-IT",
        "Giulia Rossi",
        "Gentile Giulia Rossi,\n\nLa ringraziamo per averci contattato. Il pacco è in consegna.\n\nCordiali saluti,",
        "it",
    )
    .unchanged(),
    // ------------------------------------------------------------ nl-NL
    case("nl-NL/beste", "nl-NL", "Sanne de Vries", "Uw bestelling is vandaag verzonden.", "nl")
        .contains(&["Beste Sanne de Vries,\n\nUw bestelling is vandaag verzonden.\n\nMet vriendelijke groet,"])
        .rules(GREET_CLOSE),
    case(
        "nl-NL/geachte-and-filler",
        "nl-NL",
        "Sanne de Vries",
        "Ik hoop dat alles goed met u gaat. Uw pakket is onderweg.",
        "nl",
    )
    .title("mevrouw")
    .contains(&["Geachte mevrouw De Vries,\n\nUw pakket is onderweg.\n\nMet vriendelijke groet,"])
    .absent(&["Ik hoop"])
    .rules(&["directness.trim-filler", "greeting.add", "closing.add"]),
    case("nl-NL/je-reported", "nl-NL", "Sanne de Vries", "Je pakket komt morgen aan!!", "nl")
        .contains(&["Beste Sanne de Vries,\n\nJe pakket komt morgen aan!\n\nMet vriendelijke groet,"])
        .rules(&["exclamation.collapse", "greeting.add", "closing.add", "register.informal-address"]),
    case(
        "nl-NL/emoji-and-filler",
        "nl-NL",
        "Sanne de Vries",
        "Beste Sanne de Vries,\n\nUw retour is ontvangen 👍 Aarzel niet om contact met ons op te nemen als u nog vragen heeft.\n\nMet vriendelijke groet,",
        "nl",
    )
    .contains(&["Uw retour is ontvangen. Vragen? Antwoord gerust op deze e-mail."])
    .absent(&["👍", "Aarzel"])
    .rules(&["emoji.remove", "directness.trim-filler"]),
    case(
        "nl-NL/already-fine",
        "nl-NL",
        "Sanne de Vries",
        "Beste Sanne de Vries,\n\nUw bestelling #8812 is onderweg.\n\nMet vriendelijke groet,",
        "nl",
    )
    .unchanged()
    .keeps(&["#8812"]),
    case("nl-NL/nearest-from-nl-BE", "nl-BE", "Pieter Peeters", "Uw pakket is onderweg.", "nl")
        .profile("nl-NL")
        .contains(&["Beste Pieter Peeters,"])
        .rules(GREET_CLOSE),
    // ------------------------------------------------------------ ja-JP
    case("ja-JP/japanese-reply", "ja-JP", "山田 太郎", "ご注文の商品は本日発送いたしました！", "ja")
        .contains(&["山田様\nいつもご利用いただきありがとうございます。\n\nご注文の商品は本日発送いたしました。\n\nよろしくお願いいたします。"])
        .absent(&["！"])
        .rules(&["exclamation.tone-down", "greeting.add", "closing.add"]),
    case(
        "ja-JP/japanese-bad-news",
        "ja-JP",
        "山田 太郎",
        "配送が遅延しております。到着は2024-05-03の予定です。",
        "ja",
    )
    .contains(&["山田様\nいつもご利用いただきありがとうございます。\n\nご不便をおかけして申し訳ございません。\n\n配送が遅延しております。"])
    .rules(GREET_CUSHION_CLOSE)
    .keeps(&["2024-05-03"]),
    case(
        "ja-JP/answered-in-english",
        "ja-JP",
        "Taro Yamada",
        "Your order #4471 has shipped!! 😊",
        "en",
    )
    .title("Mr")
    .contains(&["Dear Mr Yamada,\n\nThank you for contacting us.\n\nYour order #4471 has shipped.\n\nKind regards,"])
    .absent(&["様", "😊", "!"])
    .rules(&["emoji.remove", "exclamation.tone-down", "greeting.add", "opener.gratitude", "closing.add"])
    .keeps(&["#4471"]),
    case(
        "ja-JP/answered-in-english-bad-news",
        "ja-JP",
        "山田 太郎",
        "Unfortunately the Magic Mouse is out of stock until 5 June. We can refund ¥9,800 today.",
        "en",
    )
    .agent("en")
    .contains(&["Dear 山田 太郎,\n\nWe are sorry for the inconvenience.\n\nUnfortunately the Magic Mouse", "Kind regards,"])
    .absent(&["よろしく"])
    .rules(GREET_CUSHION_CLOSE)
    .keeps(&["Magic Mouse", "¥9,800"]),
    case("ja-JP/plain-to-desu-masu", "ja-JP", "山田 太郎", "商品は明日届ける。返金もできる。", "ja")
        .contains(&["商品は明日届けます。返金もできます。"])
        .rules(&["register.speech-level", "greeting.add", "closing.add"]),
    case("ja-JP/honorific-on-own-greeting", "ja-JP", "山田 太郎", "山田さん\n\nご注文の商品を発送しました。", "ja")
        .contains(&["山田様\n\nお問い合わせいただきありがとうございます。\n\nご注文の商品を発送しました。\n\nよろしくお願いいたします。"])
        .absent(&["山田さん"])
        .rules(&["honorific.add", "opener.gratitude", "closing.add"]),
    case("ja-JP/country-without-locale", "", "鈴木 花子", "ご返金の手続きが完了しました。", "ja")
        .country("JP")
        .profile("ja-JP")
        .contains(&["鈴木様\nいつもご利用いただきありがとうございます。\n\nご不便をおかけして申し訳ございません。"])
        .rules(GREET_CUSHION_CLOSE),
    // ------------------------------------------------------------ zh-CN
    case("zh-CN/neutral-address", "zh-CN", "王小明", "您的订单已经发货了。", "zh")
        .contains(&["尊敬的王小明：\n\n感谢您的来信。\n\n您的订单已经发货了。\n\n祝您生活愉快。"])
        .rules(GREET_THANK_CLOSE),
    case("zh-CN/title-known", "zh-CN", "王丽", "很抱歉，您的退款将延迟三天！！", "zh")
        .title("女士")
        .contains(&["尊敬的王女士：\n\n很抱歉，您的退款将延迟三天！\n\n祝您生活愉快。"])
        .absent(&["！！"])
        .rules(&["exclamation.collapse", "greeting.add", "closing.add"]),
    case("zh-CN/ni-reported", "zh-CN", "王小明", "你的订单ORD-2024-778已经发货。", "zh")
        .contains(&["尊敬的王小明：", "你的订单ORD-2024-778已经发货。"])
        .rules(&["greeting.add", "opener.gratitude", "closing.add", "register.informal-address"])
        .keeps(&["ORD-2024-778"]),
    case(
        "zh-CN/emoji-between-sentences",
        "zh-CN",
        "王小明",
        "尊敬的王小明：\n\n感谢您的耐心等待😊 您的包裹已送达。\n\n祝您生活愉快。",
        "zh",
    )
    .contains(&["感谢您的耐心等待。您的包裹已送达。"])
    .absent(&["😊"])
    .rules(&["emoji.remove"]),
    case("zh-CN/answered-in-english", "zh-CN", "Li Wang", "Your refund has been processed.", "en")
        .title("Ms")
        .contains(&["Dear Ms Wang,\n\nWe are sorry for the inconvenience.\n\nYour refund has been processed.\n\nKind regards,"])
        .rules(GREET_CUSHION_CLOSE),
    // ------------------------------------------------------------ zh-TW
    case("zh-TW/neutral-address", "zh-TW", "陳志明", "您的訂單已經出貨了。", "zh")
        .contains(&["陳志明您好：\n\n感謝您的來信。\n\n您的訂單已經出貨了。\n\n敬祝 順心"])
        .rules(GREET_THANK_CLOSE),
    case("zh-TW/title-bad-news", "zh-TW", "陳志明", "您的退款將延遲三天！", "zh")
        .title("先生")
        .contains(&["陳先生您好：\n\n造成您的不便，敬請見諒。\n\n您的退款將延遲三天。\n\n敬祝 順心"])
        .rules(&["exclamation.tone-down", "greeting.add", "opener.cushion", "closing.add"]),
    case("zh-TW/ni-reported", "zh-TW", "陳志明", "你的包裹已送達。", "zh")
        .contains(&["陳志明您好：", "你的包裹已送達。"])
        .rules(&["greeting.add", "opener.gratitude", "closing.add", "register.informal-address"]),
    case("zh-TW/nearest-from-zh-HK", "zh-HK", "李嘉欣", "您的訂單已取消。", "zh")
        .profile("zh-TW")
        .contains(&["李嘉欣您好：\n\n造成您的不便，敬請見諒。"])
        .rules(GREET_CUSHION_CLOSE),
    case(
        "zh-TW/placeholders-already-fine",
        "zh-TW",
        "陳志明",
        "陳志明您好：\n\n感謝您的來信。請至 https://shop.example.com.tw/orders 查詢訂單 #9921 的狀態。\n\n敬祝 順心",
        "zh",
    )
    .unchanged()
    .keeps(&["https://shop.example.com.tw/orders", "#9921"]),
    // ------------------------------------------------------------ ko-KR
    case("ko-KR/nim", "ko-KR", "김민준", "주문하신 상품이 오늘 발송되었습니다.", "ko")
        .contains(&["김민준님, 안녕하세요.\n\n문의해 주셔서 감사합니다.\n\n주문하신 상품이 오늘 발송되었습니다.\n\n감사합니다."])
        .rules(GREET_THANK_CLOSE),
    case("ko-KR/bad-news", "ko-KR", "김민준", "배송이 지연되고 있습니다!", "ko")
        .contains(&["김민준님, 안녕하세요.\n\n불편을 드려 죄송합니다.\n\n배송이 지연되고 있습니다.\n\n감사합니다."])
        .rules(&["exclamation.tone-down", "greeting.add", "opener.cushion", "closing.add"]),
    case("ko-KR/honorific-on-own-greeting", "ko-KR", "김민준", "김민준 씨, 안녕하세요.\n\n환불이 완료되었습니다.", "ko")
        .contains(&["김민준님, 안녕하세요.\n\n불편을 드려 죄송합니다.\n\n환불이 완료되었습니다.\n\n감사합니다."])
        .absent(&["씨"])
        .rules(&["honorific.add", "opener.cushion", "closing.add"]),
    case("ko-KR/answered-in-english", "ko-KR", "Minjun Kim", "Your order has shipped.", "en")
        .contains(&["Dear Minjun Kim,\n\nThank you for contacting us.\n\nYour order has shipped.\n\nKind regards,"])
        .rules(GREET_THANK_CLOSE),
    case(
        "ko-KR/emoji-and-placeholders",
        "ko-KR",
        "김민준",
        "김민준님, 안녕하세요.\n\n쿠폰 코드는 {{coupon.code}} 입니다 😊 https://shop.example.kr 에서 사용하세요.\n\n감사합니다.",
        "ko",
    )
    .contains(&["쿠폰 코드는 {{coupon.code}} 입니다 https://shop.example.kr 에서 사용하십시오."])
    .absent(&["😊", "사용하세요"])
    .rules(&["register.speech-level", "emoji.remove", "opener.gratitude"])
    .keeps(&["{{coupon.code}}", "https://shop.example.kr"]),
    case("ko-KR/haeyo-to-hapsyo", "ko-KR", "김민준", "내일 보내드릴게요. 환불도 가능해요?", "ko")
        .contains(&["내일 보내드리겠습니다. 환불도 가능합니까?"])
        .rules(&["register.speech-level", "greeting.add", "opener.cushion", "closing.add"]),
    case("ko-KR/informal-keeps-haeyo", "ko-KR", "김민준", "내일 보내드릴게요.", "ko")
        .config_with(&[("overrides", "ko-KR.pronoun=informal")])
        .contains(&["내일 보내드릴게요."])
        .rules(&["greeting.add", "opener.gratitude", "closing.add"]),
    // ------------------------------------------------------------ ar-SA
    case("ar-SA/salam", "ar-SA", "محمد العتيبي", "تم شحن طلبك اليوم.", "ar")
        .contains(&["السلام عليكم محمد العتيبي،\n\nنشكرك على تواصلك معنا.\n\nتم شحن طلبك اليوم.\n\nمع خالص التحية،"])
        .rules(GREET_THANK_CLOSE),
    case("ar-SA/title-bad-news", "ar-SA", "نورة القحطاني", "للأسف تأخر طلبك!", "ar")
        .title("Ms")
        .contains(&["السيدة نورة القحطاني المحترمة،\n\nنعتذر عن الإزعاج.\n\nللأسف تأخر طلبك.\n\nمع خالص التحية،"])
        .rules(&["exclamation.tone-down", "greeting.add", "opener.cushion", "closing.add"]),
    case("ar-SA/answered-in-english", "ar-SA", "Mohammed Alotaibi", "Your refund was approved!", "en")
        .title("Mr")
        .contains(&["Dear Mr Alotaibi,\n\nWe are sorry for the inconvenience.\n\nYour refund was approved.\n\nKind regards,"])
        .rules(&["exclamation.tone-down", "greeting.add", "opener.cushion", "closing.add"]),
    case(
        "ar-SA/emoji-and-placeholders",
        "ar-SA",
        "محمد العتيبي",
        "السلام عليكم محمد العتيبي،\n\nرقم طلبك #4471 😊 يمكنك التتبع عبر https://shop.example.sa/t\n\nمع خالص التحية،",
        "ar",
    )
    .contains(&["السلام عليكم محمد العتيبي،\n\nنشكرك على تواصلك معنا.\n\nرقم طلبك #4471 يمكنك التتبع عبر https://shop.example.sa/t"])
    .absent(&["😊"])
    .rules(&["emoji.remove", "opener.gratitude"])
    .keeps(&["#4471", "https://shop.example.sa/t"]),
    case("ar-SA/country-without-locale", "", "خالد المنصوري", "تم استلام طلبك.", "ar")
        .country("AE")
        .profile("ar-SA")
        .contains(&["السلام عليكم خالد المنصوري،"])
        .rules(GREET_THANK_CLOSE),
    case(
        "ar-SA/already-fine",
        "ar-SA",
        "محمد العتيبي",
        "السلام عليكم محمد العتيبي،\n\nنشكرك على تواصلك معنا. تم شحن طلبك.\n\nمع خالص التحية،",
        "ar",
    )
    .unchanged(),
    // ------------------------------------------------------------ no profile
    case("none/unsupported-locale", "ru-RU", "Ivan Petrov", "Your order has shipped!!!", "en")
        .profile("")
        .unchanged(),
    case("none/no-locale-no-country", "", "Ivan Petrov", "Your order has shipped!!!", "en")
        .profile("")
        .unchanged(),
];

/// A draft that must, or must not, be flagged for review.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SensitiveCase {
    /// Unique.
    pub(crate) id: &'static str,
    /// The customer's locale (each has a profile).
    pub(crate) locale: &'static str,
    /// The draft.
    pub(crate) draft: &'static str,
    /// Its language (ISO 639-1).
    pub(crate) draft_language: &'static str,
    /// Expected flags: (category, term as it appears in the draft). Empty: the
    /// draft must not be flagged.
    pub(crate) flags: &'static [(&'static str, &'static str)],
}

const fn sensitive(
    id: &'static str,
    locale: &'static str,
    draft: &'static str,
    draft_language: &'static str,
    flags: &'static [(&'static str, &'static str)],
) -> SensitiveCase {
    SensitiveCase {
        id,
        locale,
        draft,
        draft_language,
        flags,
    }
}

/// Flagged in 11 languages, and look-alikes that must not be flagged. They run with
/// [`BASE_CONFIG`] (competitors Zentrix and HelpHub).
pub(crate) const SENSITIVE_CASES: &[SensitiveCase] = &[
    sensitive(
        "en/politics",
        "en-US",
        "We can't deliver during the election week.",
        "en",
        &[("politics", "election")],
    ),
    sensitive(
        "en/competitor",
        "en-GB",
        "Zentrix is much worse than our service.",
        "en",
        &[("competitor-disparagement", "Zentrix")],
    ),
    sensitive(
        "de/disaster",
        "de-DE",
        "Nach dem Erdbeben verzögert sich die Lieferung.",
        "de",
        &[("disaster", "Erdbeben")],
    ),
    sensitive(
        "fr/politics",
        "fr-FR",
        "Malgré les élections, votre colis arrivera.",
        "fr",
        &[("politics", "élections")],
    ),
    sensitive(
        "es/religion",
        "es-MX",
        "Gracias a Dios su pedido llegó.",
        "es",
        &[("religion", "Dios")],
    ),
    sensitive(
        "pt/disaster",
        "pt-BR",
        "O atraso foi causado pelas enchentes.",
        "pt",
        &[("disaster", "enchentes")],
    ),
    sensitive(
        "it/politics",
        "it-IT",
        "Il ritardo è dovuto alle elezioni.",
        "it",
        &[("politics", "elezioni")],
    ),
    sensitive(
        "nl/politics",
        "nl-NL",
        "Door de verkiezingen is er vertraging.",
        "nl",
        &[("politics", "verkiezingen")],
    ),
    sensitive(
        "ja/disaster",
        "ja-JP",
        "地震の影響で配送が遅れています。",
        "ja",
        &[("disaster", "地震")],
    ),
    sensitive(
        "zh-CN/sensitive-date",
        "zh-CN",
        "六四事件纪念日期间物流暂停。",
        "zh",
        &[("sensitive-date", "六四事件")],
    ),
    sensitive(
        "zh-TW/sensitive-place",
        "zh-TW",
        "您的包裹已從台灣省寄出。",
        "zh",
        &[("sensitive-place", "台灣省")],
    ),
    sensitive(
        "ko/sensitive-place",
        "ko-KR",
        "일본해 연안 지역은 배송이 늦습니다.",
        "ko",
        &[("sensitive-place", "일본해")],
    ),
    sensitive(
        "ar/disaster",
        "ar-SA",
        "نعتذر عن التأخير بسبب الزلزال.",
        "ar",
        &[("disaster", "زلزال")],
    ),
    sensitive(
        "ar-SA/english-reply",
        "ar-SA",
        "Our Christmas sale ends on Friday.",
        "en",
        &[("religion", "Christmas")],
    ),
    sensitive(
        "zh-CN/english-reply",
        "zh-CN",
        "Our office near Tiananmen is closed today.",
        "en",
        &[("sensitive-date", "Tiananmen")],
    ),
    sensitive(
        "zh/competitor",
        "zh-CN",
        "HelpHub的服务是垃圾。",
        "zh",
        &[("competitor-disparagement", "HelpHub")],
    ),
    // Must not be flagged.
    sensitive(
        "en/return-policy",
        "en-US",
        "Our return policy allows refunds within 30 days.",
        "en",
        &[],
    ),
    sensitive(
        "en/race-condition",
        "en-US",
        "We fixed the race condition in the sync.",
        "en",
        &[],
    ),
    sensitive(
        "en/term-inside-link",
        "en-US",
        "Details: https://example.com/election-results",
        "en",
        &[],
    ),
    sensitive(
        "en/competitor-named-kindly",
        "en-US",
        "You can import your data from Zentrix.",
        "en",
        &[],
    ),
    sensitive(
        "es/adios",
        "es-ES",
        "Adiós y gracias por su compra.",
        "es",
        &[],
    ),
    sensitive(
        "de/ihrer-wahl",
        "de-DE",
        "Sie können die Farbe Ihrer Wahl wählen.",
        "de",
        &[],
    ),
    sensitive(
        "ja/telop",
        "ja-JP",
        "テロップの表示を修正しました。",
        "ja",
        &[],
    ),
    sensitive(
        "ar/inshallah",
        "ar-SA",
        "إن شاء الله يصلك الطلب غدًا.",
        "ar",
        &[],
    ),
    sensitive("zh-TW/taipei", "zh-TW", "您的包裹已從台北寄出。", "zh", &[]),
    sensitive(
        "en/tiananmen-outside-zh-CN",
        "en-US",
        "Our office near Tiananmen is closed today.",
        "en",
        &[],
    ),
];
