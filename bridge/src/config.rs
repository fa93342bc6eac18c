//! The bridge's configuration file: the listener, the queue, the sidecar to call
//! and each helpdesk endpoint, with their defaults, checked when loaded (every
//! endpoint's integration is chosen then, so a wrong one stops the start).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use secrecy::SecretString;
use serde::Deserialize;

use crate::queue::QueueSettings;
use crate::types::Helpdesk;
use crate::{BridgeError, chatwoot, mapped};

/// The bridge's configuration file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BridgeConfig {
    /// Where helpdesks deliver webhooks.
    #[serde(default = "default_listen")]
    pub listen: SocketAddr,
    /// The queue's folder (its SQLite file), unless `[queue]` names a database.
    #[serde(default = "default_data_dir")]
    pub data_dir: PathBuf,
    /// The queue: where it lives, its workers and how long it keeps jobs.
    #[serde(default)]
    pub queue: QueueSettings,
    /// The sidecar's event API, e.g. `http://127.0.0.1:50051`.
    pub sidecar: String,
    /// The environment variable holding the bridge's event-API token, if the
    /// sidecar requires one.
    #[serde(default)]
    pub sidecar_token_env: Option<String>,
    /// TLS to the sidecar (an `https://` address): the CA that signed its
    /// certificate, and the bridge's own certificate when it requires one.
    #[serde(default)]
    pub sidecar_tls: Option<SidecarTls>,
    /// Attempts of one job before it goes to the dead-letter list (an agent's
    /// reply the sidecar has not answered by then is held back, with a note).
    #[serde(default = "default_max_attempts")]
    pub max_attempts: u32,
    /// How long after a job came it is still tried while the helpdesk or the
    /// sidecar is away (unreachable, `429`, `502`-`504`, `UNAVAILABLE`,
    /// `RESOURCE_EXHAUSTED`), whatever its attempts: an outage of an hour must
    /// not send every queued job to the dead letters.
    #[serde(default = "default_max_outage_secs")]
    pub max_outage_secs: u64,
    /// First retry delay; doubled per attempt up to `retry_max_ms`.
    #[serde(default = "default_retry_base_ms")]
    pub retry_base_ms: u64,
    #[serde(default = "default_retry_max_ms")]
    pub retry_max_ms: u64,
    /// Deadline of one REST call to a helpdesk.
    #[serde(default = "default_request_timeout_ms")]
    pub request_timeout_ms: u64,
    /// Deadline of one event sent to the sidecar: a little over the sidecar's own
    /// default (`server.request_timeout_ms`, 30 s), so that it answers first.
    #[serde(default = "default_sidecar_timeout_ms")]
    pub sidecar_timeout_ms: u64,
    /// How long a job waits before it is written back, so that a burst of events
    /// on one ticket goes back as one update (helpdesks cap updates per ticket).
    #[serde(default = "default_debounce_ms")]
    pub debounce_ms: u64,
    /// How long a customer looked up in a helpdesk is remembered: one API read per
    /// customer and period, not one per message (helpdesks rate-limit their APIs).
    #[serde(default = "default_lookup_cache_secs")]
    pub lookup_cache_secs: u64,
    /// Webhook deliveries handled at once; one more is answered `503` with
    /// `Retry-After` (each may hold its body, up to 2 MiB, in memory).
    #[serde(default = "default_max_webhooks_in_flight")]
    pub max_webhooks_in_flight: u32,
    /// The longest one delivery may take, its body's upload included: a
    /// client that sends slowly, or a delivery the queue is slow to take, is
    /// answered `503` with `Retry-After` rather than held forever.
    /// Helpdesks wait about as long (Zendesk 12 s) before they count a failure;
    /// a proxy that buffers request bodies (nginx's default) keeps slow uploads
    /// from reaching the bridge at all.
    #[serde(default = "default_webhook_timeout_ms")]
    pub webhook_timeout_ms: u64,
    /// The helpdesk endpoints.
    pub endpoints: Vec<EndpointConfig>,
}

fn default_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 8088))
}
fn default_data_dir() -> PathBuf {
    PathBuf::from(".crossdesk-bridge")
}
fn default_max_attempts() -> u32 {
    10
}
fn default_max_outage_secs() -> u64 {
    86_400
}
fn default_retry_base_ms() -> u64 {
    1_000
}
fn default_retry_max_ms() -> u64 {
    300_000
}
fn default_request_timeout_ms() -> u64 {
    10_000
}
fn default_sidecar_timeout_ms() -> u64 {
    35_000
}
fn default_debounce_ms() -> u64 {
    1_000
}

/// How the bridge speaks TLS to the sidecar's event API (`[sidecar_tls]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SidecarTls {
    /// PEM certificates of the CA that signed the sidecar's certificate.
    pub ca_file: PathBuf,
    /// The bridge's certificate (PEM), for a sidecar that requires client
    /// certificates (`server.tls.client_ca_file`); with `key_file`.
    #[serde(default)]
    pub cert_file: Option<PathBuf>,
    /// That certificate's private key (PEM).
    #[serde(default)]
    pub key_file: Option<PathBuf>,
    /// The name the sidecar's certificate carries, when the address's host is
    /// another (an IP address, a Service name).
    #[serde(default)]
    pub server_name: Option<String>,
}

/// One helpdesk account attached to one tenant, at `/webhooks/{name}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EndpointConfig {
    pub name: String,
    /// `zendesk`, `chatwoot`, or a helpdesk whose mapping ships with Crossdesk
    /// (`freshdesk`); any name with `mapping`.
    pub helpdesk: String,
    /// A mapping file describing the helpdesk (reference in
    /// `examples/freshdesk/README.md`); a relative path is taken from the
    /// configuration file's folder.
    #[serde(default)]
    pub mapping: Option<PathBuf>,
    pub tenant: String,
    /// The helpdesk's API base, e.g. `https://acme.zendesk.com`: `https`, or
    /// `http` to a loopback address (or anywhere with `allow_plain_http`).
    pub base_url: String,
    /// Send the API token over plain `http` to a host that is not loopback (a
    /// self-hosted helpdesk on a private network): anyone on the path reads it.
    #[serde(default)]
    pub allow_plain_http: bool,
    /// Environment variable holding the webhook's signing secret (or give it as
    /// `signing_secret`).
    #[serde(default)]
    pub signing_secret_env: Option<String>,
    #[serde(default)]
    pub signing_secret: Option<SecretString>,
    /// The API user (Zendesk: the agent e-mail of the API token).
    #[serde(default)]
    pub api_user: String,
    /// Environment variable holding the API token (or give it as `api_token`).
    #[serde(default)]
    pub api_token_env: Option<String>,
    #[serde(default)]
    pub api_token: Option<SecretString>,
    /// An agent's internal note starting with this becomes the public reply.
    #[serde(default = "default_agent_prefix")]
    pub agent_prefix: String,
    /// The helpdesk user ids the bridge writes as (their comments are ignored).
    #[serde(default)]
    pub bot_author_ids: Vec<String>,
    /// The text closing every note the bridge writes, followed by a tag only the
    /// bridge can make ([`marker`]): a comment carrying the tag is ignored, one
    /// with only the text (a customer may type it) is not.
    #[serde(default = "default_marker")]
    pub marker: String,
    /// Oldest accepted signed delivery; also how long a delivery is remembered
    /// to refuse its replay where the helpdesk signs no timestamp.
    #[serde(default = "default_max_age_secs")]
    pub max_age_secs: u64,
    /// Read the customer from the helpdesk's API before an event runs, when the
    /// webhook names them only by id (Zendesk), so plugins get their e-mail, phone,
    /// locale and time zone. Lookups are cached for `lookup_cache_secs`.
    #[serde(default = "default_look_up_customers")]
    pub look_up_customers: bool,
    /// The most API requests one bridge process makes to this helpdesk in any
    /// minute (writes and lookups): set it to your plan's limit less what other
    /// integrations use, divided by the bridge's replicas (each paces its own).
    /// Requests beyond it wait instead of being refused.
    #[serde(default = "default_max_requests_per_minute")]
    pub max_requests_per_minute: u32,
    /// The most internal notes the bridge adds to one ticket: helpdesks cap the
    /// comments of a ticket (Zendesk: 5,000, customers' and agents' included), so
    /// past this the bridge stops adding notes there, saying so in the last one;
    /// tags, fields, routing and replies go on.
    #[serde(default = "default_max_notes_per_ticket")]
    pub max_notes_per_ticket: u32,
    /// Custom fields that are not text, by the name (or id) plugins set them
    /// under: `number`, `decimal`, `boolean` (or `text`). Their values are sent as
    /// that type; one that is not of it is left out and goes into the note.
    #[serde(default)]
    pub field_types: std::collections::BTreeMap<String, crate::types::FieldType>,
}

fn default_agent_prefix() -> String {
    "#reply".into()
}
fn default_marker() -> String {
    "— via Crossdesk".into()
}
fn default_max_age_secs() -> u64 {
    300
}
fn default_look_up_customers() -> bool {
    true
}
fn default_max_requests_per_minute() -> u32 {
    100
}
fn default_max_notes_per_ticket() -> u32 {
    1_000
}
fn default_lookup_cache_secs() -> u64 {
    600
}
fn default_max_webhooks_in_flight() -> u32 {
    64
}
fn default_webhook_timeout_ms() -> u64 {
    10_000
}

impl BridgeConfig {
    /// Reads and checks a bridge configuration file.
    pub fn load(path: &Path) -> Result<BridgeConfig, BridgeError> {
        let text = std::fs::read_to_string(path).map_err(|source| BridgeError::Read {
            path: path.to_owned(),
            source,
        })?;
        let folder = path.parent().unwrap_or(Path::new("."));
        BridgeConfig::parse_in(&text, folder)
    }

    /// Parses and checks a bridge configuration (mapping files relative to the
    /// working directory).
    pub fn parse(text: &str) -> Result<BridgeConfig, BridgeError> {
        BridgeConfig::parse_in(text, Path::new("."))
    }

    fn parse_in(text: &str, folder: &Path) -> Result<BridgeConfig, BridgeError> {
        let mut config: BridgeConfig = toml::from_str(text)
            .map_err(|e| BridgeError::Parse(crossdesk_proto::toml_errors::describe(text, &e)))?;
        for endpoint in &mut config.endpoints {
            if let Some(mapping) = endpoint.mapping.as_mut().filter(|m| m.is_relative()) {
                *mapping = folder.join(&*mapping);
            }
        }
        let mut names = std::collections::HashSet::new();
        for endpoint in &config.endpoints {
            if !names.insert(endpoint.name.as_str()) {
                return Err(BridgeError::Invalid(format!(
                    "endpoint '{}' is configured twice",
                    endpoint.name
                )));
            }
            helpdesk(endpoint)?;
            check_endpoint(endpoint)?;
            // A delivery replayed within its max age, after its job was deleted,
            // would be a new job.
            if endpoint.max_age_secs > config.queue.retention_secs {
                return Err(BridgeError::Invalid(format!(
                    "endpoint '{}': max_age_secs ({}) is above [queue] retention_secs ({}): \
                     a delivery replayed after its job is deleted would run again",
                    endpoint.name, endpoint.max_age_secs, config.queue.retention_secs
                )));
            }
            if endpoint.max_requests_per_minute == 0 {
                return Err(BridgeError::Invalid(format!(
                    "endpoint '{}': max_requests_per_minute must be above 0",
                    endpoint.name
                )));
            }
        }
        let zeros = [
            ("max_attempts", config.max_attempts == 0),
            ("max_outage_secs", config.max_outage_secs == 0),
            ("request_timeout_ms", config.request_timeout_ms == 0),
            ("sidecar_timeout_ms", config.sidecar_timeout_ms == 0),
            ("max_webhooks_in_flight", config.max_webhooks_in_flight == 0),
            ("webhook_timeout_ms", config.webhook_timeout_ms == 0),
        ];
        if let Some((field, _)) = zeros.iter().find(|(_, zero)| *zero) {
            return Err(BridgeError::Invalid(format!("{field} must be above 0")));
        }
        config.queue.check()?;
        Ok(config)
    }
}

/// What would make every delivery or write of `endpoint` fail, refused at load
/// rather than found in the dead letters.
fn check_endpoint(endpoint: &EndpointConfig) -> Result<(), BridgeError> {
    let invalid = |m: String| BridgeError::Invalid(format!("endpoint '{}': {m}", endpoint.name));
    if endpoint.tenant.trim().is_empty() {
        return Err(invalid("tenant is empty: name the sidecar's tenant".into()));
    }
    if endpoint.max_age_secs == 0 {
        return Err(invalid(
            "max_age_secs must be above 0 (every delivery would be stale)".into(),
        ));
    }
    let url = reqwest::Url::parse(&endpoint.base_url)
        .map_err(|e| invalid(format!("base_url '{}': {e}", endpoint.base_url)))?;
    let Some(host) = url.host_str() else {
        return Err(invalid(format!(
            "base_url '{}' names no host",
            endpoint.base_url
        )));
    };
    let loopback = host.eq_ignore_ascii_case("localhost")
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    match url.scheme() {
        "https" => Ok(()),
        "http" if loopback || endpoint.allow_plain_http => Ok(()),
        "http" => Err(invalid(format!(
            "base_url '{}' is plain http: the API token would cross the network readable; \
             use https, or set allow_plain_http = true for a private network",
            endpoint.base_url
        ))),
        other => Err(invalid(format!(
            "base_url '{}': the scheme is {other}, not https",
            endpoint.base_url
        ))),
    }
}

/// The integration of an endpoint: its mapping file when it names one, else the
/// built-in integration or shipped mapping of its helpdesk's name.
pub fn helpdesk(endpoint: &EndpointConfig) -> Result<Arc<dyn Helpdesk>, BridgeError> {
    let invalid = |m: String| BridgeError::Invalid(format!("endpoint '{}': {m}", endpoint.name));
    if let Some(path) = &endpoint.mapping {
        let mapped =
            mapped::Mapped::load(path).map_err(|e| invalid(format!("{}: {e}", path.display())))?;
        if mapped.name() != endpoint.helpdesk {
            return Err(invalid(format!(
                "{} describes helpdesk '{}', not '{}'",
                path.display(),
                mapped.name(),
                endpoint.helpdesk
            )));
        }
        return Ok(Arc::new(mapped));
    }
    match endpoint.helpdesk.as_str() {
        "chatwoot" => Ok(Arc::new(chatwoot::Chatwoot)),
        name => match mapped::builtin(name) {
            Some(Ok(mapped)) => Ok(Arc::new(mapped)),
            Some(Err(e)) => Err(invalid(format!("shipped mapping '{name}': {e}"))),
            None => Err(invalid(format!(
                "unknown helpdesk '{name}' (known: chatwoot, {}; or give a `mapping` file)",
                mapped::builtin_names().collect::<Vec<_>>().join(", ")
            ))),
        },
    }
}
