//! Contract 0.1.0, kept loading: its bindings, its imports answered by the 0.2.0
//! implementations (`host`), and its types converted to and from the current
//! contract's at the boundary, so the rest of the runtime knows one contract.
//!
//! 0.1.0 differs from 0.2.0 in names only where they meet (its `config` interface
//! is 0.2.0's `settings`) and in what it lacks (datasets, commands, the contact
//! history): a 0.1.0 plugin offers no dataset or command.

use super::bindings as current;
use super::host::CallState;

wasmtime::component::bindgen!({
    path: "../sdk/wit/crossdesk-plugin@0.1.0",
    world: "plugin",
    imports: {
        "crossdesk:plugin/kv": async,
        "crossdesk:plugin/http": async,
    },
    exports: { default: async },
});

use self::crossdesk::plugin::{clock, config, http, kv, log, types};

pub(super) use self::Plugin as PluginV0_1;
pub(super) use self::PluginPre as PluginPreV0_1;

impl types::Host for CallState {}

impl log::Host for CallState {
    fn log(&mut self, level: log::Level, message: String) {
        let level = match level {
            log::Level::Trace => current::log::Level::Trace,
            log::Level::Debug => current::log::Level::Debug,
            log::Level::Info => current::log::Level::Info,
            log::Level::Warn => current::log::Level::Warn,
            log::Level::Error => current::log::Level::Error,
        };
        current::log::Host::log(self, level, message);
    }
}

impl clock::Host for CallState {
    fn now_ms(&mut self) -> i64 {
        current::clock::Host::now_ms(self)
    }
}

impl config::Host for CallState {
    fn get(&mut self, key: String) -> Option<String> {
        current::settings::Host::get(self, key)
    }

    fn all(&mut self) -> Vec<(String, String)> {
        current::settings::Host::all(self)
    }
}

fn kv_error(error: current::kv::KvError) -> kv::KvError {
    use current::kv::KvError as E;
    match error {
        E::Denied(m) => kv::KvError::Denied(m),
        E::TooLarge(m) => kv::KvError::TooLarge(m),
        E::Backend(m) => kv::KvError::Backend(m),
    }
}

impl kv::Host for CallState {
    async fn get(&mut self, key: String) -> Result<Option<Vec<u8>>, kv::KvError> {
        current::kv::Host::get(self, key).await.map_err(kv_error)
    }

    async fn put(&mut self, key: String, value: Vec<u8>) -> Result<(), kv::KvError> {
        current::kv::Host::put(self, key, value)
            .await
            .map_err(kv_error)
    }

    async fn delete(&mut self, key: String) -> Result<(), kv::KvError> {
        current::kv::Host::delete(self, key).await.map_err(kv_error)
    }

    async fn list_keys(&mut self, prefix: String) -> Result<Vec<String>, kv::KvError> {
        current::kv::Host::list_keys(self, prefix)
            .await
            .map_err(kv_error)
    }
}

impl http::Host for CallState {
    async fn fetch(&mut self, request: http::Request) -> Result<http::Response, http::HttpError> {
        use current::http::HttpError as E;
        let request = current::http::Request {
            method: request.method,
            url: request.url,
            headers: request.headers,
            body: request.body,
        };
        match current::http::Host::fetch(self, request).await {
            Ok(r) => Ok(http::Response {
                status: r.status,
                headers: r.headers,
                body: r.body,
            }),
            Err(E::Denied(m)) => Err(http::HttpError::Denied(m)),
            Err(E::InvalidRequest(m)) => Err(http::HttpError::InvalidRequest(m)),
            Err(E::Timeout) => Err(http::HttpError::Timeout),
            Err(E::Transport(m)) => Err(http::HttpError::Transport(m)),
            Err(E::TooLarge) => Err(http::HttpError::TooLarge),
        }
    }
}

/// The current contract's event as 0.1.0 spells it.
pub(super) fn event(event: &current::WitEvent) -> types::Event {
    let e = event.clone();
    types::Event {
        tenant_id: e.tenant_id,
        event_id: e.event_id,
        kind: kind(e.kind),
        ticket_id: e.ticket_id,
        channel: e.channel,
        customer: e.customer.map(|c| types::Customer {
            id: c.id,
            locale: c.locale,
            country: c.country,
            time_zone: c.time_zone,
            display_name: c.display_name,
            external_ids: c.external_ids,
        }),
        agent: e.agent.map(|a| types::Agent {
            id: a.id,
            working_language: a.working_language,
        }),
        text: e.text,
        occurred_at_ms: e.occurred_at_ms,
        attributes: e.attributes,
    }
}

fn kind(kind: current::WitEventKind) -> types::EventKind {
    use current::WitEventKind as K;
    match kind {
        K::CustomerMessage => types::EventKind::CustomerMessage,
        K::AgentReplyDrafted => types::EventKind::AgentReplyDrafted,
        K::TicketCreated => types::EventKind::TicketCreated,
        K::TicketSolved => types::EventKind::TicketSolved,
        K::SatisfactionRated => types::EventKind::SatisfactionRated,
        K::CustomerRegistered => types::EventKind::CustomerRegistered,
        K::PurchaseRecorded => types::EventKind::PurchaseRecorded,
        K::ProfileUpdated => types::EventKind::ProfileUpdated,
        K::TranslationCorrected => types::EventKind::TranslationCorrected,
        K::Other(name) => types::EventKind::Other(name),
    }
}

fn kind_back(kind: types::EventKind) -> current::WitEventKind {
    use types::EventKind as K;
    match kind {
        K::CustomerMessage => current::WitEventKind::CustomerMessage,
        K::AgentReplyDrafted => current::WitEventKind::AgentReplyDrafted,
        K::TicketCreated => current::WitEventKind::TicketCreated,
        K::TicketSolved => current::WitEventKind::TicketSolved,
        K::SatisfactionRated => current::WitEventKind::SatisfactionRated,
        K::CustomerRegistered => current::WitEventKind::CustomerRegistered,
        K::PurchaseRecorded => current::WitEventKind::PurchaseRecorded,
        K::ProfileUpdated => current::WitEventKind::ProfileUpdated,
        K::TranslationCorrected => current::WitEventKind::TranslationCorrected,
        K::Other(name) => current::WitEventKind::Other(name),
    }
}

/// A 0.1.0 manifest in the current contract's terms: no datasets, no commands.
pub(super) fn manifest(m: types::PluginManifest) -> current::WitPluginManifest {
    current::WitPluginManifest {
        name: m.name,
        version: m.version,
        description: m.description,
        events: m.events.into_iter().map(kind_back).collect(),
        capabilities: current::types::Capabilities {
            kv: m.capabilities.kv,
            outbound_hosts: m.capabilities.outbound_hosts,
            settings: m.capabilities.config_keys,
        },
        cacheable: m.cacheable,
        datasets: Vec::new(),
        commands: Vec::new(),
    }
}

/// A 0.1.0 `handle` result in the current contract's terms.
pub(super) fn handled(
    result: Result<Vec<types::Action>, types::PluginError>,
) -> Result<Vec<current::WitAction>, current::WitPluginError> {
    match result {
        Ok(actions) => Ok(actions.into_iter().map(action).collect()),
        Err(e) => Err(current::WitPluginError {
            message: e.message,
            retryable: e.retryable,
        }),
    }
}

fn action(action: types::Action) -> current::WitAction {
    use current::types as t;
    use types::Action as A;
    match action {
        A::InternalNote(text) => t::Action::InternalNote(text),
        A::ReplaceDraft(text) => t::Action::ReplaceDraft(text),
        A::AddTags(tags) => t::Action::AddTags(tags),
        A::SetFields(fields) => t::Action::SetFields(fields),
        A::Recommend(items) => t::Action::Recommend(
            items
                .into_iter()
                .map(|r| t::Recommendation {
                    kind: r.kind,
                    id: r.id,
                    title: r.title,
                    reason: r.reason,
                    score: r.score,
                })
                .collect(),
        ),
        A::Route(r) => t::Action::Route(t::Routing {
            group: r.group,
            agent_id: r.agent_id,
            priority: r.priority,
            reason: r.reason,
        }),
        A::AutoReply(text) => t::Action::AutoReply(text),
        A::FlagForReview(f) => t::Action::FlagForReview(t::ReviewFlag {
            category: f.category,
            reason: f.reason,
        }),
    }
}
