//! The plugin's view of events, actions and its manifest: plain Rust types,
//! converted to and from the contract's generated types at the boundary.

use crate::host::bindings::crossdesk::plugin::types as wit;

/// What happened in the helpdesk.
///
/// ```
/// use crossdesk_sdk::EventKind;
/// assert_ne!(EventKind::CustomerMessage, EventKind::AgentReplyDrafted);
/// assert_eq!(EventKind::Other("refund-issued".into()).name(), "refund-issued");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum EventKind {
    /// A customer wrote.
    CustomerMessage,
    /// An agent drafted a reply (not sent yet).
    AgentReplyDrafted,
    /// A ticket was opened.
    TicketCreated,
    /// A ticket was solved.
    TicketSolved,
    /// A customer rated the support they got.
    SatisfactionRated,
    /// A customer signed up.
    CustomerRegistered,
    /// A customer bought something.
    PurchaseRecorded,
    /// A customer's profile changed.
    ProfileUpdated,
    /// An agent corrected a machine translation.
    TranslationCorrected,
    /// A kind added after this contract, by name.
    Other(String),
}

impl EventKind {
    /// The contract's name of the kind, e.g. `"customer-message"`.
    ///
    /// ```
    /// assert_eq!(crossdesk_sdk::EventKind::TicketSolved.name(), "ticket-solved");
    /// ```
    pub fn name(&self) -> &str {
        match self {
            EventKind::CustomerMessage => "customer-message",
            EventKind::AgentReplyDrafted => "agent-reply-drafted",
            EventKind::TicketCreated => "ticket-created",
            EventKind::TicketSolved => "ticket-solved",
            EventKind::SatisfactionRated => "satisfaction-rated",
            EventKind::CustomerRegistered => "customer-registered",
            EventKind::PurchaseRecorded => "purchase-recorded",
            EventKind::ProfileUpdated => "profile-updated",
            EventKind::TranslationCorrected => "translation-corrected",
            EventKind::Other(name) => name,
        }
    }
}

/// The customer an event is about.
///
/// ```
/// let customer = crossdesk_sdk::Customer { locale: Some("ja-JP".into()), ..Default::default() };
/// assert_eq!(customer.language(), Some("ja"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Customer {
    /// The helpdesk's id of the customer.
    pub id: String,
    /// BCP 47 tag, e.g. `ja-JP`.
    pub locale: Option<String>,
    /// ISO 3166-1 alpha-2 country, e.g. `JP`.
    pub country: Option<String>,
    /// IANA time zone, e.g. `Asia/Tokyo`.
    pub time_zone: Option<String>,
    /// How the customer is called.
    pub display_name: Option<String>,
    /// Identities on other channels, e.g. `("email", "a@b.c")`.
    pub external_ids: Vec<(String, String)>,
}

impl Customer {
    /// The language subtag of the locale: `"ja"` for `ja-JP`.
    ///
    /// ```
    /// let c = crossdesk_sdk::Customer { locale: Some("pt_BR".into()), ..Default::default() };
    /// assert_eq!(c.language(), Some("pt"));
    /// ```
    pub fn language(&self) -> Option<&str> {
        let locale = self.locale.as_deref()?;
        locale.split(['-', '_']).next().filter(|l| !l.is_empty())
    }
}

/// The agent an event is about.
///
/// ```
/// let agent = crossdesk_sdk::Agent { id: "a-1".into(), working_language: Some("en".into()) };
/// assert_eq!(agent.working_language.as_deref(), Some("en"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Agent {
    /// The helpdesk's id of the agent.
    pub id: String,
    /// BCP 47 tag of the language the agent reads and writes.
    pub working_language: Option<String>,
}

/// One helpdesk event.
///
/// ```
/// use crossdesk_sdk::{Event, EventKind};
/// let event = Event::new(EventKind::CustomerMessage, "Hi").with_attribute("plan", "gold");
/// assert_eq!(event.attribute("plan"), Some("gold"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// The helpdesk account.
    pub tenant_id: String,
    /// Unique per tenant.
    pub event_id: String,
    /// What happened.
    pub kind: EventKind,
    /// The ticket or conversation.
    pub ticket_id: String,
    /// `"email"`, `"web-chat"`, `"whatsapp"`, `"facebook"`, `"phone"`, ...
    pub channel: String,
    /// The customer, if the event has one.
    pub customer: Option<Customer>,
    /// The agent, if the event has one.
    pub agent: Option<Agent>,
    /// The message, or the draft as the plugins before this one left it.
    pub text: String,
    /// Milliseconds since the Unix epoch (UTC).
    pub occurred_at_ms: i64,
    /// Free attributes from the integrator.
    pub attributes: Vec<(String, String)>,
}

impl Event {
    /// An event of `kind` with `text` and everything else empty: handy in tests.
    ///
    /// ```
    /// let e = crossdesk_sdk::Event::new(crossdesk_sdk::EventKind::TicketSolved, "");
    /// assert!(e.customer.is_none());
    /// ```
    pub fn new(kind: EventKind, text: impl Into<String>) -> Event {
        Event {
            tenant_id: String::new(),
            event_id: String::new(),
            kind,
            ticket_id: String::new(),
            channel: String::new(),
            customer: None,
            agent: None,
            text: text.into(),
            occurred_at_ms: 0,
            attributes: Vec::new(),
        }
    }

    /// This event with `customer` set.
    ///
    /// ```
    /// use crossdesk_sdk::{Customer, Event, EventKind};
    /// let e = Event::new(EventKind::CustomerMessage, "x")
    ///     .with_customer(Customer { id: "c-1".into(), ..Default::default() });
    /// assert_eq!(e.customer.unwrap().id, "c-1");
    /// ```
    pub fn with_customer(mut self, customer: Customer) -> Event {
        self.customer = Some(customer);
        self
    }

    /// This event with the attribute `key` set to `value`.
    ///
    /// ```
    /// let e = crossdesk_sdk::Event::new(crossdesk_sdk::EventKind::PurchaseRecorded, "")
    ///     .with_attribute("price", "649.00");
    /// assert_eq!(e.attribute("price"), Some("649.00"));
    /// ```
    pub fn with_attribute(mut self, key: impl Into<String>, value: impl Into<String>) -> Event {
        self.attributes.push((key.into(), value.into()));
        self
    }

    /// The value of attribute `key`, if present.
    ///
    /// ```
    /// let e = crossdesk_sdk::Event::new(crossdesk_sdk::EventKind::SatisfactionRated, "");
    /// assert_eq!(e.attribute("csat.score"), None);
    /// ```
    pub fn attribute(&self, key: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// A suggested product, article or answer.
///
/// ```
/// let r = crossdesk_sdk::Recommendation {
///     kind: "article".into(), id: "kb-7".into(), title: "Autofocus tips".into(),
///     reason: "asked about autofocus".into(), score: 0.8,
/// };
/// assert_eq!(r.kind, "article");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Recommendation {
    /// `"product"`, `"article"`, `"answer"`, ...
    pub kind: String,
    /// The catalog's or knowledge base's id.
    pub id: String,
    /// What the agent sees.
    pub title: String,
    /// Why it fits this customer.
    pub reason: String,
    /// Higher is better; must be finite.
    pub score: f64,
}

/// Where a conversation should go.
///
/// ```
/// let r = crossdesk_sdk::Routing { group: Some("es-support".into()), reason: "speaks Spanish".into(), ..Default::default() };
/// assert!(r.agent_id.is_none());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Routing {
    /// The group to assign.
    pub group: Option<String>,
    /// The agent to assign.
    pub agent_id: Option<String>,
    /// A priority name, e.g. `"high"`.
    pub priority: Option<String>,
    /// Why, shown to agents.
    pub reason: String,
}

/// A request that a human reviews the reply before it is sent.
///
/// ```
/// let f = crossdesk_sdk::ReviewFlag { category: "politics".into(), reason: "mentions an election".into() };
/// assert_eq!(f.category, "politics");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewFlag {
    /// What kind of concern, e.g. `"politics"`.
    pub category: String,
    /// What was found.
    pub reason: String,
}

/// What a plugin asks the helpdesk to do.
///
/// ```
/// use crossdesk_sdk::Action;
/// let note = Action::InternalNote("Translated: Hello".into());
/// let tags = Action::AddTags(vec!["shipping".into()]);
/// assert_ne!(note, tags);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// A note only agents see.
    InternalNote(String),
    /// Replace the agent's reply draft (only on `AgentReplyDrafted` events).
    ReplaceDraft(String),
    /// Add tags to the ticket; tags have no whitespace.
    AddTags(Vec<String>),
    /// Set ticket fields.
    SetFields(Vec<(String, String)>),
    /// Suggest products, articles or answers.
    Recommend(Vec<Recommendation>),
    /// Route the conversation.
    Route(Routing),
    /// Answer the customer at once.
    AutoReply(String),
    /// Ask for human review before sending.
    FlagForReview(ReviewFlag),
}

/// Why a plugin could not handle an event.
///
/// ```
/// let e = crossdesk_sdk::PluginError::retryable("engine unavailable");
/// assert!(e.retryable);
/// assert_eq!(e.to_string(), "engine unavailable");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginError {
    /// What went wrong, for the outcome the host reports.
    pub message: String,
    /// Whether trying again later may succeed.
    pub retryable: bool,
}

impl PluginError {
    /// An error that will not go away by retrying.
    ///
    /// ```
    /// assert!(!crossdesk_sdk::PluginError::new("bad input").retryable);
    /// ```
    pub fn new(message: impl Into<String>) -> PluginError {
        PluginError {
            message: message.into(),
            retryable: false,
        }
    }

    /// An error that may go away by retrying (a service was down).
    ///
    /// ```
    /// assert!(crossdesk_sdk::PluginError::retryable("timeout").retryable);
    /// ```
    pub fn retryable(message: impl Into<String>) -> PluginError {
        PluginError {
            message: message.into(),
            retryable: true,
        }
    }
}

impl std::fmt::Display for PluginError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for PluginError {}

impl From<crate::kv::KvError> for PluginError {
    fn from(error: crate::kv::KvError) -> PluginError {
        PluginError::new(error.to_string())
    }
}

impl From<crate::http::HttpError> for PluginError {
    fn from(error: crate::http::HttpError) -> PluginError {
        let retryable = matches!(
            error,
            crate::http::HttpError::Timeout | crate::http::HttpError::Transport(_)
        );
        PluginError {
            message: error.to_string(),
            retryable,
        }
    }
}

/// Who the plugin is, what it handles and what it asks for.
///
/// ```
/// use crossdesk_sdk::{EventKind, Manifest};
/// let m = Manifest::new("mt", "0.2.0")
///     .handles(EventKind::CustomerMessage)
///     .handles(EventKind::AgentReplyDrafted)
///     .wants_kv()
///     .wants_host("api.deepl.com")
///     .reads_setting("target_language")
///     .cacheable(true);
/// assert_eq!(m.events.len(), 2);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    /// The plugin's name.
    pub name: String,
    /// Its version, e.g. `"1.2.0"`.
    pub version: String,
    /// One sentence for admins.
    pub description: String,
    /// Event kinds it handles; others are skipped without a call.
    pub events: Vec<EventKind>,
    /// Whether it asks for key-value storage.
    pub kv: bool,
    /// Hosts it asks to reach.
    pub outbound_hosts: Vec<String>,
    /// Settings it reads, each `name` or `name: type`.
    pub settings: Vec<String>,
    /// Whether the same event and settings always give the same actions.
    pub cacheable: bool,
    /// Datasets admins import for it.
    pub datasets: Vec<crate::DatasetSpec>,
    /// Commands admins run.
    pub commands: Vec<crate::CommandSpec>,
}

impl Manifest {
    /// A manifest handling nothing and asking for nothing.
    ///
    /// ```
    /// let m = crossdesk_sdk::Manifest::new("x", "0.1.0");
    /// assert!(m.events.is_empty() && !m.kv && !m.cacheable);
    /// ```
    pub fn new(name: impl Into<String>, version: impl Into<String>) -> Manifest {
        Manifest {
            name: name.into(),
            version: version.into(),
            description: String::new(),
            events: Vec::new(),
            kv: false,
            outbound_hosts: Vec::new(),
            settings: Vec::new(),
            cacheable: false,
            datasets: Vec::new(),
            commands: Vec::new(),
        }
    }

    /// Sets the description.
    ///
    /// ```
    /// let m = crossdesk_sdk::Manifest::new("x", "0.1.0").describe("Does x");
    /// assert_eq!(m.description, "Does x");
    /// ```
    pub fn describe(mut self, description: impl Into<String>) -> Manifest {
        self.description = description.into();
        self
    }

    /// Adds an event kind the plugin handles.
    ///
    /// ```
    /// use crossdesk_sdk::{EventKind, Manifest};
    /// let m = Manifest::new("x", "0.1.0").handles(EventKind::TicketSolved);
    /// assert_eq!(m.events, vec![EventKind::TicketSolved]);
    /// ```
    pub fn handles(mut self, kind: EventKind) -> Manifest {
        self.events.push(kind);
        self
    }

    /// Asks for key-value storage.
    ///
    /// ```
    /// assert!(crossdesk_sdk::Manifest::new("x", "0.1.0").wants_kv().kv);
    /// ```
    pub fn wants_kv(mut self) -> Manifest {
        self.kv = true;
        self
    }

    /// Asks to reach `host` over HTTP.
    ///
    /// ```
    /// let m = crossdesk_sdk::Manifest::new("x", "0.1.0").wants_host("api.example.com");
    /// assert_eq!(m.outbound_hosts, vec!["api.example.com".to_string()]);
    /// ```
    pub fn wants_host(mut self, host: impl Into<String>) -> Manifest {
        self.outbound_hosts.push(host.into());
        self
    }

    /// Declares a setting the plugin reads; admins may set only declared keys.
    ///
    /// A declaration is the key alone (any text is accepted) or `key: type`, and
    /// the host then refuses a value of another type when an admin sets it, naming
    /// the key. Types: `string`, `bool`, `int`, `int(MIN..MAX)` (either bound may be
    /// left out), `url` (http or https), `language` (a tag such as `pt-BR`),
    /// `languages` and `list` (comma-separated), `one-of(a|b|c)`. The plugin reads
    /// the setting by its key alone.
    ///
    /// ```
    /// let m = crossdesk_sdk::Manifest::new("x", "0.1.0")
    ///     .reads_setting("greeting")
    ///     .reads_setting("max_suggestions: int(1..10)");
    /// assert_eq!(m.settings, vec!["greeting".to_string(), "max_suggestions: int(1..10)".to_string()]);
    /// ```
    pub fn reads_setting(mut self, key: impl Into<String>) -> Manifest {
        self.settings.push(key.into());
        self
    }

    /// Reads a typed setting ([`crate::Setting`]); the manifest carries its
    /// declaration.
    ///
    /// ```
    /// const TONE: crossdesk_sdk::Setting =
    ///     crossdesk_sdk::Setting::one_of("tone", &["formal", "casual"]).default("formal");
    /// let m = crossdesk_sdk::Manifest::new("x", "0.1.0").setting(&TONE);
    /// assert_eq!(m.settings, vec!["tone: one-of(formal|casual)".to_string()]);
    /// ```
    pub fn setting(self, setting: &crate::Setting) -> Manifest {
        self.reads_setting(setting.declaration())
    }

    /// Offers a dataset admins import ([`Plugin::import_dataset`](crate::Plugin::import_dataset)).
    ///
    /// ```
    /// let m = crossdesk_sdk::Manifest::new("x", "0.1.0")
    ///     .offers_dataset(crossdesk_sdk::DatasetSpec::new("catalog", "Products"));
    /// assert_eq!(m.datasets[0].name, "catalog");
    /// ```
    pub fn offers_dataset(mut self, dataset: crate::DatasetSpec) -> Manifest {
        self.datasets.push(dataset);
        self
    }

    /// Offers a command admins run ([`Plugin::run_command`](crate::Plugin::run_command)).
    ///
    /// ```
    /// let m = crossdesk_sdk::Manifest::new("x", "0.1.0")
    ///     .offers_command(crossdesk_sdk::CommandSpec::new("stats", "Prints statistics"));
    /// assert_eq!(m.commands[0].name, "stats");
    /// ```
    pub fn offers_command(mut self, command: crate::CommandSpec) -> Manifest {
        self.commands.push(command);
        self
    }

    /// Declares whether results may be served from the host's cache.
    ///
    /// ```
    /// assert!(crossdesk_sdk::Manifest::new("x", "0.1.0").cacheable(true).cacheable);
    /// ```
    pub fn cacheable(mut self, cacheable: bool) -> Manifest {
        self.cacheable = cacheable;
        self
    }
}

// Conversions at the boundary with the generated contract types.

impl From<wit::EventKind> for EventKind {
    fn from(kind: wit::EventKind) -> EventKind {
        match kind {
            wit::EventKind::CustomerMessage => EventKind::CustomerMessage,
            wit::EventKind::AgentReplyDrafted => EventKind::AgentReplyDrafted,
            wit::EventKind::TicketCreated => EventKind::TicketCreated,
            wit::EventKind::TicketSolved => EventKind::TicketSolved,
            wit::EventKind::SatisfactionRated => EventKind::SatisfactionRated,
            wit::EventKind::CustomerRegistered => EventKind::CustomerRegistered,
            wit::EventKind::PurchaseRecorded => EventKind::PurchaseRecorded,
            wit::EventKind::ProfileUpdated => EventKind::ProfileUpdated,
            wit::EventKind::TranslationCorrected => EventKind::TranslationCorrected,
            wit::EventKind::Other(name) => EventKind::Other(name),
        }
    }
}

impl From<EventKind> for wit::EventKind {
    fn from(kind: EventKind) -> wit::EventKind {
        match kind {
            EventKind::CustomerMessage => wit::EventKind::CustomerMessage,
            EventKind::AgentReplyDrafted => wit::EventKind::AgentReplyDrafted,
            EventKind::TicketCreated => wit::EventKind::TicketCreated,
            EventKind::TicketSolved => wit::EventKind::TicketSolved,
            EventKind::SatisfactionRated => wit::EventKind::SatisfactionRated,
            EventKind::CustomerRegistered => wit::EventKind::CustomerRegistered,
            EventKind::PurchaseRecorded => wit::EventKind::PurchaseRecorded,
            EventKind::ProfileUpdated => wit::EventKind::ProfileUpdated,
            EventKind::TranslationCorrected => wit::EventKind::TranslationCorrected,
            EventKind::Other(name) => wit::EventKind::Other(name),
        }
    }
}

impl From<wit::Event> for Event {
    fn from(e: wit::Event) -> Event {
        Event {
            tenant_id: e.tenant_id,
            event_id: e.event_id,
            kind: e.kind.into(),
            ticket_id: e.ticket_id,
            channel: e.channel,
            customer: e.customer.map(|c| Customer {
                id: c.id,
                locale: c.locale,
                country: c.country,
                time_zone: c.time_zone,
                display_name: c.display_name,
                external_ids: c.external_ids,
            }),
            agent: e.agent.map(|a| Agent {
                id: a.id,
                working_language: a.working_language,
            }),
            text: e.text,
            occurred_at_ms: e.occurred_at_ms,
            attributes: e.attributes,
        }
    }
}

impl From<Action> for wit::Action {
    fn from(action: Action) -> wit::Action {
        match action {
            Action::InternalNote(text) => wit::Action::InternalNote(text),
            Action::ReplaceDraft(text) => wit::Action::ReplaceDraft(text),
            Action::AddTags(tags) => wit::Action::AddTags(tags),
            Action::SetFields(fields) => wit::Action::SetFields(fields),
            Action::Recommend(items) => wit::Action::Recommend(
                items
                    .into_iter()
                    .map(|r| wit::Recommendation {
                        kind: r.kind,
                        id: r.id,
                        title: r.title,
                        reason: r.reason,
                        score: r.score,
                    })
                    .collect(),
            ),
            Action::Route(r) => wit::Action::Route(wit::Routing {
                group: r.group,
                agent_id: r.agent_id,
                priority: r.priority,
                reason: r.reason,
            }),
            Action::AutoReply(text) => wit::Action::AutoReply(text),
            Action::FlagForReview(f) => wit::Action::FlagForReview(wit::ReviewFlag {
                category: f.category,
                reason: f.reason,
            }),
        }
    }
}

impl From<PluginError> for wit::PluginError {
    fn from(e: PluginError) -> wit::PluginError {
        wit::PluginError {
            message: e.message,
            retryable: e.retryable,
        }
    }
}

impl From<Manifest> for wit::PluginManifest {
    fn from(m: Manifest) -> wit::PluginManifest {
        wit::PluginManifest {
            name: m.name,
            version: m.version,
            description: m.description,
            events: m.events.into_iter().map(Into::into).collect(),
            capabilities: wit::Capabilities {
                kv: m.kv,
                outbound_hosts: m.outbound_hosts,
                settings: m.settings,
            },
            cacheable: m.cacheable,
            datasets: m.datasets.into_iter().map(Into::into).collect(),
            commands: m.commands.into_iter().map(Into::into).collect(),
        }
    }
}
