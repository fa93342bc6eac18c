//! Outbound HTTP for plugins: which hosts a tenant allowed, which addresses they may
//! resolve to, and which secrets the host adds on the way out.
//!
//! A request passes four checks: its scheme is http or https; its host matches an
//! allowed pattern of the tenant's grant; every address the host resolves to is
//! public, unless the *operator* listed that host in `[outbound] private_hosts` (a
//! tenant, or a tenant's admin, can never open loopback, private or link-local
//! space); and a request that carries a secret goes over https, or to such an
//! operator-listed host. Redirects are not followed, so a server cannot bounce a
//! plugin to a host it was not granted; proxies from the environment are ignored,
//! so every connection goes to the address that was checked; and a secret echoed
//! back by the server is cut out of the response before the plugin sees it.
//! Secrets are headers, or stand for what the host computes or writes from them:
//! an AWS signature ([`aws_sigv4`]), a JSON body field ([`json_field`]).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use super::aws_sigv4;
use super::json_field::{self, JsonField};

/// An entry of `allowed_hosts`: `api.example.com`, `*.example.com` or
/// `127.0.0.1:2737` (a port narrows the entry to that port).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostPattern {
    host: String,
    wildcard: bool,
    port: Option<u16>,
}

impl HostPattern {
    /// Parses an `allowed_hosts` entry.
    pub fn parse(text: &str) -> Result<HostPattern, String> {
        let text = text.trim().to_ascii_lowercase();
        if text.is_empty() || text.contains('/') || text.contains('@') {
            return Err(format!(
                "'{text}' is not a host name (no scheme, path or user)"
            ));
        }
        let (host, port) = match text.rsplit_once(':') {
            Some((host, port)) if !host.contains(':') || host.ends_with(']') => {
                let port = port
                    .parse::<u16>()
                    .map_err(|_| format!("'{text}': bad port '{port}'"))?;
                (host.to_owned(), Some(port))
            }
            _ => (text.clone(), None),
        };
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        let (host, wildcard) = match host.strip_prefix("*.") {
            Some(rest) if !rest.is_empty() => (rest.to_owned(), true),
            Some(_) => return Err(format!("'{text}': a wildcard needs a domain")),
            None => (host, false),
        };
        if host.contains('*') {
            return Err(format!("'{text}': '*' is only allowed as the first label"));
        }
        // Letters, digits, '-' and '.' (and ':' of an IPv6 address): anything else
        // (a space, a '%' escape) names no host a request could reach.
        if host.is_empty()
            || !host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | ':'))
        {
            return Err(format!("'{text}' is not a host name"));
        }
        Ok(HostPattern {
            host,
            wildcard,
            port,
        })
    }

    /// The host an entry names exactly (no wildcard), without its port.
    pub fn exact_host(&self) -> Option<&str> {
        (!self.wildcard).then_some(self.host.as_str())
    }

    /// The host name as granted: `*.example.com` for a wildcard.
    fn granted_name(&self) -> String {
        if self.wildcard {
            format!("*.{}", self.host)
        } else {
            self.host.clone()
        }
    }

    fn matches(&self, host: &str, port: u16) -> bool {
        if self.port.is_some_and(|p| p != port) {
            return false;
        }
        if self.wildcard {
            host.strip_suffix(self.host.as_str())
                .is_some_and(|rest| rest.ends_with('.'))
        } else {
            host == self.host
        }
    }
}

/// Hosts the operator lets plugins reach although they resolve to loopback, private
/// or link-local addresses (`[outbound] private_hosts`): exact host names or
/// addresses, no wildcard and no port (a tenant's `allowed_hosts` narrows the port).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PrivateHosts {
    hosts: Vec<String>,
    /// The entries a grant reaches them through, when only some of its entries
    /// may (the operator's: see [`PrivateHosts::reached_by`]); their ports
    /// bound the ports reached.
    through: Option<Vec<HostPattern>>,
}

impl PrivateHosts {
    /// Parses the operator's list; an entry must name one host.
    pub fn parse(entries: &[String]) -> Result<PrivateHosts, String> {
        let mut hosts = Vec::with_capacity(entries.len());
        for entry in entries {
            let pattern = HostPattern::parse(entry)?;
            if pattern.wildcard || pattern.port.is_some() {
                return Err(format!(
                    "'{entry}': a private host is named exactly, without '*' or a port"
                ));
            }
            hosts.push(pattern.host);
        }
        Ok(PrivateHosts {
            hosts,
            through: None,
        })
    }

    /// Whether the operator listed `host` (lower-case, without brackets).
    pub fn contains(&self, host: &str) -> bool {
        self.hosts.iter().any(|h| h == host)
    }

    /// Whether a request may reach the listed `host` on `port`: through an
    /// entry that opens it on that port.
    pub fn opens(&self, host: &str, port: u16) -> bool {
        self.contains(host)
            && self
                .through
                .as_ref()
                .is_none_or(|entries| entries.iter().any(|p| p.matches(host, port)))
    }

    /// The operator's private host an `allowed_hosts` entry would reach, if any
    /// (a wildcard entry reaches every listed host under it).
    pub fn opened_by(&self, entry: &str) -> Option<&str> {
        let pattern = HostPattern::parse(entry).ok()?;
        self.hosts
            .iter()
            .find(|host| pattern.matches(host, pattern.port.unwrap_or(0)))
            .map(String::as_str)
    }

    /// The private hosts that `entries` (`allowed_hosts` patterns) reach, on
    /// their ports only: what a grant may open when the operator gave it those
    /// entries (its other entries open none).
    pub fn reached_by(&self, entries: &[String]) -> PrivateHosts {
        let patterns: Vec<HostPattern> = entries
            .iter()
            .filter_map(|entry| HostPattern::parse(entry).ok())
            .collect();
        let hosts = self
            .hosts
            .iter()
            .filter(|host| {
                patterns
                    .iter()
                    .any(|p| p.matches(host, p.port.unwrap_or(0)))
            })
            .cloned()
            .collect();
        PrivateHosts {
            hosts,
            through: Some(patterns),
        }
    }

    /// Whether an `allowed_hosts` entry may be granted by a tenant: an address
    /// literal outside public space needs the operator's listing.
    pub fn check_grant(&self, entry: &str) -> Result<(), String> {
        let pattern = HostPattern::parse(entry)?;
        match pattern.host.parse::<IpAddr>() {
            Ok(ip) if !is_public(ip) && !self.contains(&pattern.host) => Err(format!(
                "'{entry}' is not a public address; only the operator can open it \
                 (`[outbound] private_hosts` of the configuration file)"
            )),
            _ => Ok(()),
        }
    }
}

/// Whether an address is reachable from the public internet: not loopback,
/// private, shared, link-local, reserved, multicast, documentation or benchmarking
/// space, nor an IPv6 address embedding such an IPv4 one (IPv4-mapped, -translated and
/// -compatible, NAT64, 6to4), nor a Teredo tunnel or a local-use NAT64 prefix
/// (where the embedded address is hidden or placed as the network chose).
pub fn is_public(addr: IpAddr) -> bool {
    match addr {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || a == 0
                || a >= 240 // reserved for future use (240.0.0.0/4)
                || (a == 100 && (64..128).contains(&b)) // carrier-grade NAT
                || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
                || (a == 192 && b == 88 && c == 99) // 6to4 relay anycast
                || (a == 198 && (b == 18 || b == 19)) // benchmarking
                // Azure's WireServer: a VM's goal state and certificates, answered
                // from inside the VM only (the other clouds' metadata addresses
                // are link-local, refused above).
                || v4 == Ipv4Addr::new(168, 63, 129, 16))
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = embedded_ipv4(v6) {
                return is_public(IpAddr::V4(v4));
            }
            let s = v6.segments();
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00 // unique local
                || (s[0] & 0xffc0) == 0xfe80 // link-local
                || (s[0] & 0xffc0) == 0xfec0 // site-local (deprecated)
                || (s[0] == 0x2001 && s[1] == 0) // Teredo
                // NAT64 local use (RFC 8215): where a network puts the IPv4
                // address inside it is that network's choice, so none is public.
                || (s[0] == 0x64 && s[1] == 0xff9b && s[2] == 1)
                || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
                || (s[0] == 0x3fff && s[1] < 0x1000) // documentation (3fff::/20)
                || (s[0] == 0x2001 && s[1] == 2 && s[2] == 0) // benchmarking
                || (s[0] == 0x2001 && matches!(s[1] & 0xfff0, 0x10 | 0x20)) // ORCHID
                || (s[0] == 0x0100 && s[1..4] == [0, 0, 0])) // discard-only
        }
    }
}

/// The IPv4 address an IPv6 address carries, for the forms a router or a NAT64
/// gateway turns into a connection to that IPv4 address.
fn embedded_ipv4(v6: std::net::Ipv6Addr) -> Option<std::net::Ipv4Addr> {
    let s = v6.segments();
    let low = |hi: u16, lo: u16| {
        let [a, b] = hi.to_be_bytes();
        let [c, d] = lo.to_be_bytes();
        std::net::Ipv4Addr::new(a, b, c, d)
    };
    if let Some(v4) = v6.to_ipv4_mapped() {
        return Some(v4); // ::ffff:a.b.c.d
    }
    if s[..6] == [0; 6] && !(s[6] == 0 && s[7] <= 1) {
        return Some(low(s[6], s[7])); // ::a.b.c.d (IPv4-compatible), not :: or ::1
    }
    if s[..6] == [0, 0, 0, 0, 0xffff, 0] {
        return Some(low(s[6], s[7])); // IPv4-translated ::ffff:0:a.b.c.d (SIIT)
    }
    if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return Some(low(s[6], s[7])); // NAT64 well-known prefix 64:ff9b::/96
    }
    if s[0] == 0x2002 {
        return Some(low(s[1], s[2])); // 6to4 2002:AABB:CCDD::/48
    }
    None
}

/// Why an outbound request was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum OutboundError {
    #[error("{0}")]
    Denied(String),
    #[error("{0}")]
    Invalid(String),
    #[error("request timed out")]
    Timeout,
    #[error("{0}")]
    Transport(String),
    #[error("response body is larger than the {0} bytes allowed")]
    TooLarge(usize),
}

/// A secret header: the allowed-host entry it goes to, its name and value.
type SecretHeader = (
    HostPattern,
    reqwest::header::HeaderName,
    reqwest::header::HeaderValue,
);

/// What one tenant allows one plugin to reach.
#[derive(Clone)]
pub struct OutboundPolicy {
    patterns: Vec<HostPattern>,
    /// Headers added to requests whose host matches the pattern (an `allowed_hosts` entry).
    secrets: Vec<SecretHeader>,
    private: Arc<PrivateHosts>,
    client: reqwest::Client,
}

/// The host a URL names, as patterns match it (lower case, an IPv6 address
/// without its brackets), and its port (the scheme's when not given).
fn host_and_port(url: &reqwest::Url) -> Option<(String, u16)> {
    let host = url
        .host_str()?
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_ascii_lowercase();
    Some((host, url.port_or_known_default().unwrap_or(80)))
}

/// Headers a plugin may not set. `host` would send a request, and its secrets,
/// to another site served at the granted host's address (a shared load balancer
/// or CDN routes by it); the others frame the request or the connection, where a
/// plugin's value could split one request into two.
const HOST_SET_HEADERS: [&str; 10] = [
    "host",
    "content-length",
    "transfer-encoding",
    "te",
    "trailer",
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authorization",
    "upgrade",
];

impl std::fmt::Debug for OutboundPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutboundPolicy")
            .field("patterns", &self.patterns)
            .field("secrets", &self.secrets.len())
            .finish()
    }
}

/// A credential the host adds as header `header` to requests to `host` (an
/// `allowed_hosts` entry); its value never reaches the plugin.
pub struct Secret<'a> {
    pub host: &'a str,
    pub header: &'a str,
    pub value: &'a str,
}

/// Whether a secret can go out as given: to one host (not a wildcard), with a
/// header name and value a request can carry, and a header that stands for
/// something else ([`json_field::JSON_FIELD_HEADER`]) with a value of its shape.
/// Checked when a secret is configured or set, so that a bad one is refused then
/// and not at every request. The error names the part at fault (`host`, `header`
/// or `value`) and says why, without the value.
pub fn check_secret(host: &str, header: &str, value: &str) -> Result<(), (&'static str, String)> {
    if let Some(why) = refused_host(host) {
        return Err(("host", why));
    }
    let name = reqwest::header::HeaderName::from_bytes(header.as_bytes())
        .map_err(|_| ("header", format!("'{header}' is not a header name")))?;
    if let Some(why) = refused_header(name.as_str()) {
        return Err(("header", why));
    }
    // Visible ASCII (and spaces) only: a value the send path cannot read as text
    // would fail every request instead of being refused here.
    if reqwest::header::HeaderValue::from_str(value).map_or(true, |v| v.to_str().is_err()) {
        return Err((
            "value",
            format!("the value of header '{header}' is not a valid header value"),
        ));
    }
    // The server would strip them and might echo the rest, which the cut of
    // echoed secrets, looking for the value as it was sent, would then miss.
    if value.trim_matches([' ', '\t']) != value {
        return Err((
            "value",
            format!("the value of header '{header}' begins or ends with a space or a tab"),
        ));
    }
    if name.as_str() == json_field::JSON_FIELD_HEADER {
        JsonField::parse(value).map_err(|e| ("value", e))?;
    }
    Ok(())
}

/// Why a secret may not go to `host`, if it may not: one host, named exactly;
/// under a wildcard the plugin would choose which subdomain (one it controls,
/// on a shared platform's domain) receives it.
fn refused_host(host: &str) -> Option<String> {
    is_wildcard(host)
        .then(|| format!("'{host}': a secret goes to one host, named exactly (no wildcard)"))
}

/// Why a secret may not go as header `name` (lowercase), if it may not: the
/// host sets it, and a `host` header would send the secret to another site
/// behind the granted address.
fn refused_header(name: &str) -> Option<String> {
    HOST_SET_HEADERS
        .contains(&name)
        .then(|| format!("header '{name}' is set by the host, so a secret cannot go as it"))
}

/// Why a stored secret is not sent, if it breaks a rule [`check_secret`] now
/// enforces but did not when it was stored.
fn unusable_secret(secret: &Secret<'_>) -> Option<String> {
    refused_host(secret.host).or_else(|| refused_header(&secret.header.to_ascii_lowercase()))
}

/// Whether an `allowed_hosts` entry is a wildcard (`*.example.com`).
fn is_wildcard(entry: &str) -> bool {
    HostPattern::parse(entry).is_ok_and(|pattern| pattern.exact_host().is_none())
}

/// What replaces a secret the server echoed back.
const REDACTED: &str = "[redacted]";

/// Most headers a plugin sets on one request: more is no API's need, and the
/// header map the host builds panics past some 24,000.
const MAX_REQUEST_HEADERS: usize = 100;

/// How a secret sent as `value` may come back in an answer that echoes it: as
/// it was, escaped in a JSON string, and with `/` escaped too (as PHP's
/// `json_encode` writes it).
fn echoed_forms(value: &[u8]) -> Vec<Vec<u8>> {
    let mut forms = vec![value.to_vec()];
    if let Ok(text) = std::str::from_utf8(value) {
        let quoted = serde_json::Value::from(text).to_string();
        if let Some(inner) = quoted.strip_prefix('"').and_then(|q| q.strip_suffix('"')) {
            forms.push(inner.as_bytes().to_vec());
            forms.push(inner.replace('/', "\\/").into_bytes());
        }
    }
    forms.sort();
    forms.dedup();
    forms
}

impl OutboundPolicy {
    /// The policy of someone trying a plugin out (`plugin run`, `plugin
    /// check`): `hosts` are reached on public addresses, and those `private`
    /// lists (host names without port, as an operator's `private_hosts`) on
    /// loopback or a private network too. Naming a host is not vouching for
    /// where its DNS points: a plugin's author may point their own domain at
    /// 127.0.0.1. None when `hosts` is empty.
    pub fn standalone(hosts: &[String], private: &[String]) -> Result<Option<Self>, String> {
        let private = PrivateHosts::parse(private).map_err(|e| format!("private hosts: {e}"))?;
        if hosts.is_empty() {
            return Ok(None);
        }
        Self::new(hosts, &[], Arc::new(private)).map(Some)
    }

    /// Builds the policy and its HTTP client; `private` is the operator's list of
    /// hosts that may resolve to non-public addresses.
    pub fn new(
        allowed_hosts: &[String],
        secrets: &[Secret<'_>],
        private: Arc<PrivateHosts>,
    ) -> Result<Self, String> {
        let patterns = allowed_hosts
            .iter()
            .map(|h| HostPattern::parse(h))
            .collect::<Result<Vec<_>, _>>()?;
        let secrets = secrets
            .iter()
            // A secret stored before [`check_secret`] refused its host or header
            // is not used: under a wildcard the plugin would choose which
            // subdomain receives it; as `host` it would pick another site.
            .filter(|s| match unusable_secret(s) {
                Some(why) => {
                    tracing::warn!("a secret for '{}' is not sent: {why}", s.host);
                    false
                }
                None => true,
            })
            .map(|s| {
                let name = reqwest::header::HeaderName::from_bytes(s.header.as_bytes())
                    .map_err(|_| format!("secret header name '{}' is invalid", s.header))?;
                let mut value = reqwest::header::HeaderValue::from_str(s.value)
                    .map_err(|_| format!("secret for '{}' is not a valid header value", s.host))?;
                value.set_sensitive(true);
                Ok((HostPattern::parse(s.host)?, name, value))
            })
            .collect::<Result<Vec<_>, String>>()?;
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            // A proxy would connect to a host the resolver never checked.
            .no_proxy()
            .dns_resolver(Arc::new(CheckedResolver {
                private: private.clone(),
            }))
            .connect_timeout(Duration::from_secs(5))
            .user_agent(concat!("crossdesk/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("cannot build HTTP client: {e}"))?;
        Ok(Self {
            patterns,
            secrets,
            private,
            client,
        })
    }

    /// Whether any host is allowed at all.
    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    /// The granted name `url` falls under (`*.example.com` for any of its
    /// subdomains), empty when none: a label of bounded variety, where the host
    /// itself would be the plugin's to make up.
    pub fn granted_name(&self, url: &str) -> String {
        let Some((host, port)) = reqwest::Url::parse(url)
            .ok()
            .as_ref()
            .and_then(host_and_port)
        else {
            return String::new();
        };
        self.patterns
            .iter()
            .find(|p| p.matches(&host, port))
            .map(HostPattern::granted_name)
            .unwrap_or_default()
    }

    /// Checks and sends one request; the body read stops at `max_body` bytes.
    pub async fn send(
        &self,
        method: &str,
        url: &str,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
        max_body: usize,
    ) -> Result<(u16, Vec<(String, String)>, Vec<u8>), OutboundError> {
        let url = reqwest::Url::parse(url)
            .map_err(|e| OutboundError::Invalid(format!("bad URL '{url}': {e}")))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(OutboundError::Denied(format!(
                "scheme '{}' is not allowed, only http and https",
                url.scheme()
            )));
        }
        let (host, port) = host_and_port(&url)
            .ok_or_else(|| OutboundError::Invalid(format!("URL '{url}' has no host")))?;
        if !self.patterns.iter().any(|p| p.matches(&host, port)) {
            return Err(OutboundError::Denied(format!(
                "host '{host}' is not in this plugin's allowed hosts for this tenant"
            )));
        }
        let operator_listed = self.private.contains(&host);
        // The resolver opens a listed host by name; its port is checked here.
        if operator_listed && !self.private.opens(&host, port) {
            return Err(OutboundError::Denied(format!(
                "'{host}' is one of the operator's private hosts, granted to this plugin on \
                 other ports only"
            )));
        }
        // An address literal never reaches the resolver: check it here.
        if let Ok(ip) = host.parse::<IpAddr>()
            && !is_public(ip)
            && !operator_listed
        {
            return Err(OutboundError::Denied(format!(
                "address {ip} is not public; only the operator's private_hosts may be"
            )));
        }
        let method = reqwest::Method::from_bytes(method.to_ascii_uppercase().as_bytes())
            .map_err(|_| OutboundError::Invalid(format!("bad method '{method}'")))?;
        if headers.len() > MAX_REQUEST_HEADERS {
            return Err(OutboundError::Invalid(format!(
                "{} headers: a request has at most {MAX_REQUEST_HEADERS}",
                headers.len()
            )));
        }
        let mut header_map = reqwest::header::HeaderMap::new();
        for (name, value) in headers {
            let name = reqwest::header::HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| OutboundError::Invalid(format!("bad header name '{name}'")))?;
            if HOST_SET_HEADERS.contains(&name.as_str()) {
                return Err(OutboundError::Denied(format!(
                    "header '{name}' is set by the host (from the URL and the body), not by plugins"
                )));
            }
            let value = reqwest::header::HeaderValue::from_str(&value)
                .map_err(|_| OutboundError::Invalid(format!("bad value for header '{name}'")))?;
            header_map.append(name, value);
        }
        let mut sent_secrets = Vec::new();
        let mut aws_credentials = None;
        let mut json_fields = Vec::new();
        for (secret_host, name, value) in &self.secrets {
            if secret_host.matches(&host, port) {
                // In clear text only to a host the operator vouched for (its own network).
                if url.scheme() != "https" && !operator_listed {
                    return Err(OutboundError::Denied(format!(
                        "a secret goes to '{host}' over https only (this request is {})",
                        url.scheme()
                    )));
                }
                if name.as_str() == aws_sigv4::AWS_SIGV4_HEADER {
                    let credentials = value
                        .to_str()
                        .map_err(|_| "not text".to_owned())
                        .and_then(|v| aws_sigv4::Credentials::parse(v, &host))
                        .map_err(OutboundError::Denied)?;
                    aws_credentials = Some(credentials);
                    continue;
                }
                if name.as_str() == json_field::JSON_FIELD_HEADER {
                    let field = value
                        .to_str()
                        .map_err(|_| "not text".to_owned())
                        .and_then(JsonField::parse)
                        .map_err(OutboundError::Denied)?;
                    sent_secrets.extend(echoed_forms(field.value.as_bytes()));
                    json_fields.push(field);
                    continue;
                }
                header_map.insert(name.clone(), value.clone());
                sent_secrets.extend(echoed_forms(value.as_bytes()));
            }
        }
        if !sent_secrets.is_empty() || aws_credentials.is_some() {
            // An echoed secret is cut out of the answer only where it appears
            // whole: not compressed, not split across ranges the plugin asked for.
            use reqwest::header::{ACCEPT_ENCODING, HeaderValue, IF_RANGE, RANGE};
            header_map.insert(ACCEPT_ENCODING, HeaderValue::from_static("identity"));
            header_map.remove(RANGE);
            header_map.remove(IF_RANGE);
        }
        if !json_fields.is_empty() && !body.is_empty() {
            // The field must reach the server as JSON and nothing else: read as a
            // form (or decoded), the plugin's own text around it could carry the
            // key into a field the server echoes changed (a translation).
            json_field::check_framing(&header_map).map_err(OutboundError::Denied)?;
            header_map.insert(
                reqwest::header::CONTENT_TYPE,
                reqwest::header::HeaderValue::from_static("application/json"),
            );
        }
        let body = json_field::write_fields(body, &json_fields).map_err(OutboundError::Denied)?;
        if let Some(credentials) = &aws_credentials {
            sign_aws(
                &mut header_map,
                method.as_str(),
                &url,
                &host,
                &body,
                credentials,
            )?;
            sent_secrets.push(credentials.secret().as_bytes().to_vec());
        }
        let sent_secrets: Vec<&[u8]> = sent_secrets.iter().map(Vec::as_slice).collect();
        let mut response = self
            .client
            .request(method, url)
            .headers(header_map)
            .body(body)
            .send()
            .await
            .map_err(classify)?;
        // Asked for none: an encoded answer would hide an echoed secret from the
        // cut below, and the plugin could decode it.
        if !sent_secrets.is_empty()
            && let Some(encoding) = response
                .headers()
                .get(reqwest::header::CONTENT_ENCODING)
                .filter(|e| !e.as_bytes().eq_ignore_ascii_case(b"identity"))
        {
            return Err(OutboundError::Denied(format!(
                "the answer came encoded ({}) though a secret was sent with the request \
                 and no encoding was accepted: refused, so that no secret it echoes \
                 reaches the plugin",
                String::from_utf8_lossy(encoding.as_bytes())
            )));
        }
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .filter_map(|(k, v)| {
                let value = redact(v.as_bytes(), &sent_secrets);
                Some((k.as_str().to_owned(), String::from_utf8(value).ok()?))
            })
            .collect();
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(classify)? {
            if body.len().saturating_add(chunk.len()) > max_body {
                return Err(OutboundError::TooLarge(max_body));
            }
            body.extend_from_slice(&chunk);
        }
        Ok((status, headers, redact(&body, &sent_secrets)))
    }
}

/// Signs the request for AWS (Signature Version 4): `x-amz-date`,
/// `x-amz-content-sha256` and `authorization` over every header it has and `host`.
fn sign_aws(
    headers: &mut reqwest::header::HeaderMap,
    method: &str,
    url: &reqwest::Url,
    host: &str,
    body: &[u8],
    credentials: &aws_sigv4::Credentials,
) -> Result<(), OutboundError> {
    use reqwest::header::{HeaderName, HeaderValue};
    let amz_date = jiff::Timestamp::now()
        .strftime("%Y%m%dT%H%M%SZ")
        .to_string();
    let payload_hash = aws_sigv4::payload_hash(body);
    // As the client writes `Host`: with the port only when it is not the scheme's.
    let host_value = match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    };
    let invalid = |what: &str| OutboundError::Invalid(format!("cannot sign: bad {what}"));
    for (name, value) in [
        ("x-amz-date", amz_date.as_str()),
        ("x-amz-content-sha256", payload_hash.as_str()),
    ] {
        headers.insert(
            HeaderName::from_static(name),
            HeaderValue::from_str(value).map_err(|_| invalid(name))?,
        );
    }
    let mut signed: Vec<(String, String)> = headers
        .iter()
        .filter_map(|(n, v)| Some((n.as_str().to_owned(), v.to_str().ok()?.to_owned())))
        .collect();
    signed.push(("host".to_owned(), host_value));
    let authorization = aws_sigv4::authorization(
        credentials,
        &aws_sigv4::Signed {
            method,
            path: url.path(),
            query: url.query().unwrap_or(""),
            headers: &signed,
            payload_hash: &payload_hash,
            amz_date: &amz_date,
        },
    );
    let mut value = HeaderValue::from_str(&authorization).map_err(|_| invalid("authorization"))?;
    value.set_sensitive(true);
    headers.insert(reqwest::header::AUTHORIZATION, value);
    Ok(())
}

/// `bytes` with every occurrence of a sent secret (the whole header value, and
/// its credential after a scheme word such as `Bearer`) replaced by [`REDACTED`]:
/// a server that echoes request headers must not hand the secret to the plugin.
fn redact(bytes: &[u8], secrets: &[&[u8]]) -> Vec<u8> {
    let mut needles: Vec<&[u8]> = Vec::new();
    for secret in secrets {
        needles.push(secret);
        if let Some(space) = secret.iter().position(|b| *b == b' ') {
            let credential = secret
                .get(space..)
                .and_then(|rest| rest.get(1..))
                .unwrap_or_default();
            // A short tail would redact ordinary words.
            if credential.len() >= 8 {
                needles.push(credential);
            }
        }
    }
    let mut out = bytes.to_vec();
    for needle in needles.iter().filter(|n| !n.is_empty()) {
        let finder = memchr::memmem::Finder::new(needle);
        if finder.find(&out).is_none() {
            continue;
        }
        let mut replaced = Vec::with_capacity(out.len());
        let mut last = 0;
        for at in finder.find_iter(&out) {
            if at < last {
                continue;
            }
            replaced.extend_from_slice(&out[last..at]);
            replaced.extend_from_slice(REDACTED.as_bytes());
            last = at.saturating_add(needle.len());
        }
        replaced.extend_from_slice(&out[last..]);
        out = replaced;
    }
    out
}

fn classify(error: reqwest::Error) -> OutboundError {
    if error.is_timeout() {
        return OutboundError::Timeout;
    }
    // Our resolver's refusal surfaces as a connect error; report it as a denial.
    let mut source: Option<&dyn std::error::Error> = Some(&error);
    while let Some(e) = source {
        if let Some(denied) = e.downcast_ref::<AddressDenied>() {
            return OutboundError::Denied(denied.to_string());
        }
        source = e.source();
    }
    OutboundError::Transport(error.to_string())
}

/// The plugin (and the event's caller) learn only that the name is not public:
/// the address would map the operator's internal network from inside the
/// sandbox, so it goes to the host's log alone.
#[derive(Debug, thiserror::Error)]
#[error(
    "'{host}' resolves to an address that is not public; only the operator's private_hosts may"
)]
struct AddressDenied {
    host: String,
}

/// Resolves names and refuses non-public addresses for hosts the operator did not
/// list. Checking at resolution (not before it) leaves no window for a DNS answer
/// that changes between the check and the connection.
struct CheckedResolver {
    private: Arc<PrivateHosts>,
}

impl reqwest::dns::Resolve for CheckedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_ascii_lowercase();
        let private_ok = self.private.contains(&host);
        Box::pin(async move {
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            if !private_ok && let Some(bad) = addrs.iter().find(|a| !is_public(a.ip())) {
                // The refusal itself is logged with the call's (capped) denials.
                tracing::debug!(%host, addr = %bad.ip(), "outbound request refused: not public");
                return Err(
                    Box::new(AddressDenied { host }) as Box<dyn std::error::Error + Send + Sync>
                );
            }
            Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Both SDKs' stand-in hosts refuse the headers this host refuses, so that
    /// a plugin meets the rule in its own tests (their lists are kept by hand).
    #[test]
    fn the_sdks_refuse_the_headers_the_host_sets() {
        let rust = include_str!("../../../sdk/src/host.rs");
        let javascript = include_str!("../../../sdk/js/lib/mock-host.js");
        for name in HOST_SET_HEADERS {
            assert!(rust.contains(&format!("\"{name}\",")), "Rust SDK: {name}");
            assert!(
                javascript.contains(&format!("'{name}',")),
                "JavaScript SDK: {name}"
            );
        }
        assert!(rust.contains(&format!(
            "MAX_REQUEST_HEADERS: usize = {MAX_REQUEST_HEADERS};"
        )));
        assert!(javascript.contains(&format!("MAX_REQUEST_HEADERS = {MAX_REQUEST_HEADERS};")));
    }

    #[test]
    fn patterns_match_as_documented() {
        let exact = HostPattern::parse("api.example.com").expect("valid");
        assert!(exact.matches("api.example.com", 443));
        assert!(!exact.matches("evil-api.example.com", 443));
        let wild = HostPattern::parse("*.example.com").expect("valid");
        assert!(wild.matches("a.example.com", 80));
        assert!(!wild.matches("example.com", 80));
        assert!(!wild.matches("badexample.com", 80));
        let port = HostPattern::parse("127.0.0.1:2737").expect("valid");
        assert!(port.matches("127.0.0.1", 2737));
        assert!(!port.matches("127.0.0.1", 80));
        assert!(HostPattern::parse("http://x").is_err());
        assert!(HostPattern::parse("a.*.com").is_err());
    }

    #[test]
    fn private_space_is_not_public() {
        for addr in [
            "127.0.0.1",
            "10.1.2.3",
            "192.168.0.1",
            "169.254.169.254",
            "240.0.0.1",
            "255.255.255.254",
            "192.0.0.170",
            "::1",
            "fe80::1",
            "fec0::1",
            "fd00::1",
            "::ffff:127.0.0.1",
            "::127.0.0.1",
            "::10.0.0.1",
            "64:ff9b::a9fe:a9fe", // NAT64 of 169.254.169.254
            "64:ff9b:1::7f00:1",
            "64:ff9b:1:7f00:1::",   // 127.0.0.1 under a /48's own layout
            "64:ff9b:1::5db8:d822", // even a public IPv4 address: the layout is local
            "::ffff:0:7f00:1",      // IPv4-translated 127.0.0.1
            "3fff:1::1",
            "2001:2::1",
            "2001:10::1",
            "2001:2f::1",
            "2002:7f00:1::1", // 6to4 of 127.0.0.1
            "2002:a9fe:a9fe::",
            "2001:0:4136:e378:8000:63bf:3fff:fdd2", // Teredo
            "2001:db8::1",
            "100.64.0.1",
            "168.63.129.16",        // Azure's WireServer
            "::ffff:168.63.129.16", // the same, IPv4-mapped
        ] {
            assert!(!is_public(addr.parse().expect("ip")), "{addr}");
        }
        for addr in [
            "93.184.216.34",
            "168.63.129.17",
            "2606:4700::1111",
            "64:ff9b::5db8:d822", // NAT64 of 93.184.216.34
            "2002:5db8:d822::1",  // 6to4 of 93.184.216.34
            "::ffff:93.184.216.34",
            "::ffff:0:5db8:d822", // IPv4-translated 93.184.216.34
            "2001:4860::8888",
        ] {
            assert!(is_public(addr.parse().expect("ip")), "{addr}");
        }
    }

    fn operator(hosts: &[&str]) -> Arc<PrivateHosts> {
        let hosts: Vec<String> = hosts.iter().map(|h| h.to_string()).collect();
        Arc::new(PrivateHosts::parse(&hosts).expect("private hosts"))
    }

    fn policy(allowed: &[&str], private: &[&str]) -> OutboundPolicy {
        let allowed: Vec<String> = allowed.iter().map(|h| h.to_string()).collect();
        OutboundPolicy::new(&allowed, &[], operator(private)).expect("policy")
    }

    /// Refused before anything is built or sent: the header map would panic
    /// past some 24,000 names.
    #[tokio::test]
    async fn a_request_with_too_many_headers_is_invalid() {
        let headers: Vec<(String, String)> = (0..30_000)
            .map(|n| (format!("x-{n}"), String::new()))
            .collect();
        let refused = policy(&["api.example.com"], &[])
            .send("GET", "https://api.example.com/", headers, vec![], 1024)
            .await;
        assert!(
            matches!(&refused, Err(OutboundError::Invalid(why)) if why.contains("at most 100")),
            "{refused:?}"
        );
    }

    #[test]
    fn a_secret_is_cut_out_of_an_answer_in_every_form_it_is_echoed() {
        let secret = br#"Basic a/b"c+d=="#;
        let forms = echoed_forms(secret);
        let forms: Vec<&[u8]> = forms.iter().map(Vec::as_slice).collect();
        for echo in [
            r#"{"authorization": "Basic a/b"c+d=="}"#,
            r#"{"authorization": "Basic a/b\"c+d=="}"#,
            r#"{"authorization": "Basic a\/b\"c+d=="}"#,
        ] {
            let cut = String::from_utf8(redact(echo.as_bytes(), &forms)).expect("text");
            assert!(!cut.contains("c+d=="), "{echo} -> {cut}");
        }
    }

    #[test]
    fn the_operators_private_hosts_are_exact_and_portless() {
        assert!(PrivateHosts::parse(&["*.internal".into()]).is_err());
        assert!(PrivateHosts::parse(&["127.0.0.1:2737".into()]).is_err());
        let listed = operator(&["127.0.0.1", "MT.internal"]);
        assert!(listed.contains("mt.internal"));
        assert!(listed.check_grant("127.0.0.1:2737").is_ok());
        assert!(listed.check_grant("api.example.com").is_ok());
        let refused = listed.check_grant("169.254.169.254").expect_err("metadata");
        assert!(refused.contains("operator"), "{refused}");
        assert!(listed.check_grant("[::1]:80").is_err());
    }

    #[tokio::test]
    async fn unlisted_host_is_denied_before_any_connection() {
        let err = policy(&["api.example.com"], &[])
            .send("GET", "http://other.example.com/", vec![], vec![], 1024)
            .await
            .expect_err("denied");
        assert!(matches!(err, OutboundError::Denied(_)), "{err:?}");
    }

    #[test]
    fn a_request_is_named_by_the_grant_it_falls_under() {
        let policy = policy(&["api.example.com", "*.example.org"], &[]);
        for (url, name) in [
            ("https://api.example.com/v2", "api.example.com"),
            ("https://a1b2c3.example.org/", "*.example.org"),
            ("https://x.y.example.org:443/", "*.example.org"),
            ("https://other.example.net/", ""),
            ("not a url", ""),
        ] {
            assert_eq!(policy.granted_name(url), name, "{url}");
        }
    }

    #[tokio::test]
    async fn a_plugin_cannot_set_the_host_or_the_framing() {
        let policy = policy(&["api.example.com"], &[]);
        for name in ["Host", "content-length", "Transfer-Encoding", "connection"] {
            let err = policy
                .send(
                    "POST",
                    "https://api.example.com/",
                    vec![(name.to_owned(), "other.example.com".to_owned())],
                    vec![],
                    1024,
                )
                .await
                .expect_err(name);
            assert!(
                matches!(&err, OutboundError::Denied(m) if m.contains("set by the host")),
                "{name}: {err:?}"
            );
        }
    }

    /// The operator granted a private host on one port; a tenant admin's
    /// wildcard that also matches it opens no other port.
    #[tokio::test]
    async fn a_private_host_is_reached_on_the_operators_ports_only() {
        let listed = PrivateHosts::parse(&["db.internal".to_owned()]).expect("listed");
        let reached = listed.reached_by(&["db.internal:5432".to_owned()]);
        assert!(reached.opens("db.internal", 5432) && !reached.opens("db.internal", 22));
        assert!(
            !listed
                .reached_by(&["api.example.com".to_owned()])
                .contains("db.internal")
        );
        // Without a record of who granted what: any entry, any port, as before.
        assert!(listed.opens("db.internal", 22));
        let allowed = ["db.internal:5432".to_owned(), "*.internal".to_owned()];
        let policy = OutboundPolicy::new(&allowed, &[], Arc::new(reached)).expect("policy");
        let err = policy
            .send("GET", "http://db.internal:22/", vec![], vec![], 1024)
            .await
            .expect_err("another port");
        assert!(
            matches!(&err, OutboundError::Denied(m) if m.contains("other ports only")),
            "{err:?}"
        );
    }

    #[tokio::test]
    async fn a_tenants_exact_grant_cannot_reach_a_private_address_alone() {
        // The tenant named loopback and the metadata address exactly: not enough.
        for url in ["http://127.0.0.1:9/", "http://169.254.169.254/latest/"] {
            let err = policy(&["127.0.0.1:9", "169.254.169.254", "*.0.0.1"], &[])
                .send("GET", url, vec![], vec![], 1024)
                .await
                .expect_err("denied");
            assert!(
                matches!(&err, OutboundError::Denied(m) if m.contains("operator")),
                "{url}: {err:?}"
            );
        }
    }

    #[tokio::test]
    async fn a_name_resolving_to_loopback_needs_the_operator() {
        let err = policy(&["localhost:9"], &[])
            .send("GET", "http://localhost:9/", vec![], vec![], 1024)
            .await
            .expect_err("denied");
        assert!(
            matches!(&err, OutboundError::Denied(m) if m.contains("not public")),
            "{err:?}"
        );
        // Listed by the operator: the request goes out (and finds nothing listening).
        let err = policy(&["localhost:9"], &["localhost"])
            .send("GET", "http://localhost:9/", vec![], vec![], 1024)
            .await
            .expect_err("nothing listens on port 9");
        assert!(matches!(err, OutboundError::Transport(_)), "{err:?}");
    }

    /// Run by [`a_proxy_from_the_environment_is_not_used`] in a child process whose
    /// environment names a proxy (setting it here would race other tests' threads).
    #[tokio::test]
    #[ignore = "run by a_proxy_from_the_environment_is_not_used"]
    async fn proxy_child() {
        if std::env::var_os("CROSSDESK_PROXY_CHILD").is_none() {
            return;
        }
        let err = policy(&["crossdesk-test.invalid"], &[])
            .send(
                "GET",
                "http://crossdesk-test.invalid/",
                vec![],
                vec![],
                1024,
            )
            .await
            .expect_err("no such host");
        assert!(matches!(err, OutboundError::Transport(_)), "{err:?}");
    }

    #[tokio::test]
    async fn a_proxy_from_the_environment_is_not_used() {
        // A proxy would accept the connection for any host, unresolvable ones too.
        let proxy = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!("http://{}", proxy.local_addr().expect("addr"));
        let child = tokio::process::Command::new(std::env::current_exe().expect("test binary"))
            .args(["runtime::http::tests::proxy_child", "--exact", "--ignored"])
            .env("CROSSDESK_PROXY_CHILD", "1")
            .env("HTTP_PROXY", &url)
            .env("http_proxy", &url)
            .env("ALL_PROXY", &url)
            .output();
        let output = tokio::select! {
            output = child => output.expect("child test runs"),
            _ = proxy.accept() => panic!("the plugin's request went through the proxy"),
        };
        let printed = String::from_utf8_lossy(&output.stdout);
        assert!(output.status.success(), "{printed}");
        assert!(printed.contains("1 passed"), "{printed}");
    }

    /// A server on loopback that reads each request whole (its head, then as
    /// much body as it announces) and writes what `answer` makes of it.
    async fn loopback_server(answer: fn(&[u8]) -> Vec<u8>) -> SocketAddr {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let mut request = Vec::new();
                let mut buf = [0u8; 4096];
                let complete = |request: &[u8]| {
                    let Some(end) = request.windows(4).position(|w| w == b"\r\n\r\n") else {
                        return false;
                    };
                    let head = String::from_utf8_lossy(&request[..end]).to_ascii_lowercase();
                    let length = head
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length: "))
                        .and_then(|n| n.trim().parse::<usize>().ok())
                        .unwrap_or(0);
                    request.len() >= end + 4 + length
                };
                while !complete(&request) {
                    match socket.read(&mut buf).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                }
                let _ = socket.write_all(&answer(&request)).await;
            }
        });
        addr
    }

    /// A server on loopback that answers every request with its request headers,
    /// in its headers and its body.
    async fn echo_server() -> SocketAddr {
        loopback_server(|request| {
            let text = String::from_utf8_lossy(request).into_owned();
            let auth = text
                .lines()
                .find_map(|l| l.strip_prefix("authorization: "))
                .unwrap_or_default()
                .to_owned();
            format!(
                "HTTP/1.1 200 OK\r\nx-echo: {auth}\r\ncontent-length: {}\r\n\r\n{text}",
                text.len()
            )
            .into_bytes()
        })
        .await
    }

    /// A server that compresses whatever it is asked: its answers arrive
    /// `content-encoding: gzip`.
    async fn compressing_server() -> SocketAddr {
        loopback_server(|_| {
            b"HTTP/1.1 200 OK\r\ncontent-encoding: gzip\r\ncontent-length: 4\r\n\r\n\x1f\x8b\x08\x00"
                .to_vec()
        })
        .await
    }

    #[test]
    fn a_secret_value_with_spaces_around_it_is_refused() {
        for value in ["Bearer abcdefgh12 ", " abcdefgh12", "abcdefgh12\t"] {
            let (part, why) =
                check_secret("api.example.com", "authorization", value).expect_err(value);
            assert_eq!(part, "value");
            assert!(why.contains("begins or ends"), "{why}");
            assert!(!why.contains("abcdefgh12"), "the value is not shown: {why}");
        }
        assert!(check_secret("api.example.com", "authorization", "Bearer abcdefgh12").is_ok());
        assert!(check_secret("127.0.0.1:2737", "authorization", "Bearer abcdefgh12").is_ok());
        let (part, why) = check_secret("*.example.com", "authorization", "Bearer abcdefgh12")
            .expect_err("a wildcard");
        assert_eq!(part, "host");
        assert!(why.contains("named exactly"), "{why}");
        for header in [
            "host",
            "Host",
            "content-length",
            "transfer-encoding",
            "connection",
        ] {
            let (part, why) =
                check_secret("api.example.com", header, "evil.example.net").expect_err(header);
            assert_eq!(part, "header");
            assert!(why.contains("set by the host"), "{why}");
        }
    }

    #[tokio::test]
    async fn an_encoded_answer_to_a_request_with_a_secret_is_refused() {
        let addr = compressing_server().await;
        let host = format!("127.0.0.1:{}", addr.port());
        let url = format!("http://{host}/");
        let with_secret = OutboundPolicy::new(
            std::slice::from_ref(&host),
            &[Secret {
                host: &host,
                header: "authorization",
                value: "Bearer s3cr3t-t0ken-value",
            }],
            operator(&["127.0.0.1"]),
        )
        .expect("policy");
        let err = with_secret
            .send("GET", &url, vec![], vec![], 1 << 20)
            .await
            .expect_err("refused");
        assert!(
            matches!(&err, OutboundError::Denied(m) if m.contains("came encoded (gzip)")),
            "{err:?}"
        );
        // Without a secret, what the plugin asked for is its own business.
        let without =
            OutboundPolicy::new(std::slice::from_ref(&host), &[], operator(&["127.0.0.1"]))
                .expect("policy");
        let (status, _, body) = without
            .send("GET", &url, vec![], vec![], 1 << 20)
            .await
            .expect("answered");
        assert_eq!((status, body.len()), (200, 4));
    }

    /// A secret stored before grants refused its host (a wildcard) or its
    /// header (one the host sets, `host` above all) is never sent.
    #[test]
    fn a_secret_for_a_wildcard_host_or_a_host_set_header_is_not_used() {
        let secret = |host, header| Secret {
            host,
            header,
            value: "Bearer s3cr3t-t0ken-value",
        };
        let policy = OutboundPolicy::new(
            &["*.example.com".to_owned(), "api.example.com".to_owned()],
            &[
                secret("*.example.com", "authorization"),
                secret("api.example.com", "Host"),
                secret("api.example.com", "authorization"),
            ],
            operator(&[]),
        )
        .expect("policy");
        let hosts: Vec<String> = policy
            .secrets
            .iter()
            .map(|(h, _, _)| h.granted_name())
            .collect();
        assert_eq!(hosts, ["api.example.com"]);
    }

    #[tokio::test]
    async fn secrets_go_over_https_only_and_are_never_echoed_to_the_plugin() {
        let addr = echo_server().await;
        let host = format!("127.0.0.1:{}", addr.port());
        let secret = Secret {
            host: &host,
            header: "authorization",
            value: "DeepL-Auth-Key s3cr3t-t0ken-value",
        };
        // A public host: no secret over plain http (refused before connecting).
        let public = OutboundPolicy::new(
            &["api.example.com".to_owned()],
            &[Secret {
                host: "api.example.com",
                ..secret
            }],
            operator(&[]),
        )
        .expect("policy");
        let err = public
            .send("GET", "http://api.example.com/", vec![], vec![], 1 << 20)
            .await
            .expect_err("denied");
        assert!(
            matches!(&err, OutboundError::Denied(m) if m.contains("https only")),
            "{err:?}"
        );
        // The operator's own network: sent, and cut out of what comes back.
        let internal = OutboundPolicy::new(
            std::slice::from_ref(&host),
            &[Secret {
                host: &host,
                header: "authorization",
                value: "DeepL-Auth-Key s3cr3t-t0ken-value",
            }],
            operator(&["127.0.0.1"]),
        )
        .expect("policy");
        // Asking for it compressed, or in pieces, would hide it from the cut.
        let asked = [("accept-encoding", "gzip"), ("range", "bytes=0-20")]
            .map(|(name, value)| (name.to_owned(), value.to_owned()));
        let (status, headers, body) = internal
            .send(
                "GET",
                &format!("http://{host}/"),
                asked.to_vec(),
                vec![],
                1 << 20,
            )
            .await
            .expect("sent");
        assert_eq!(status, 200);
        let body = String::from_utf8(body).expect("text");
        assert!(body.contains("[redacted]"), "{body}");
        assert!(!body.contains("s3cr3t-t0ken-value"), "{body}");
        assert!(body.contains("accept-encoding: identity"), "{body}");
        assert!(!body.contains("gzip") && !body.contains("range:"), "{body}");
        let echo = headers
            .iter()
            .find(|(k, _)| k == "x-echo")
            .map(|(_, v)| v.as_str());
        assert_eq!(echo, Some("[redacted]"));
    }

    #[tokio::test]
    async fn a_json_field_secret_is_written_into_the_body_and_never_echoed() {
        let addr = echo_server().await;
        let host = format!("127.0.0.1:{}", addr.port());
        let policy = OutboundPolicy::new(
            std::slice::from_ref(&host),
            &[Secret {
                host: &host,
                header: json_field::JSON_FIELD_HEADER,
                value: "api_key=s3cr3t\"key",
            }],
            operator(&["127.0.0.1"]),
        )
        .expect("policy");
        let url = format!("http://{host}/translate");
        let json = vec![("content-type".to_owned(), "application/json".to_owned())];
        let (status, _, body) = policy
            .send(
                "POST",
                &url,
                json.clone(),
                br#"{"q":"hola","api_key":"the plugin's guess"}"#.to_vec(),
                1 << 20,
            )
            .await
            .expect("sent");
        assert_eq!(status, 200);
        let echoed = String::from_utf8(body).expect("text");
        // The server got the field (echoed, escaped, and cut), not the header.
        assert!(echoed.contains(r#""api_key":"[redacted]""#), "{echoed}");
        assert!(echoed.contains(r#""q":"hola""#), "{echoed}");
        assert!(
            !echoed.contains("s3cr3t") && !echoed.contains("guess"),
            "{echoed}"
        );
        assert!(!echoed.contains(json_field::JSON_FIELD_HEADER), "{echoed}");

        // No body: sent as it is. A body that cannot carry the field: refused.
        let (status, _, _) = policy
            .send("GET", &url, vec![], vec![], 1 << 20)
            .await
            .expect("sent");
        assert_eq!(status, 200);
        let err = policy
            .send("POST", &url, json, b"q=hola".to_vec(), 1 << 20)
            .await
            .expect_err("not JSON");
        assert!(
            matches!(&err, OutboundError::Denied(m) if m.contains("JSON object body")),
            "{err:?}"
        );
        // JSON sent as a form would let the plugin's text around the key be read as
        // fields of its own (one the server echoes translated): refused.
        let form = vec![(
            "content-type".to_owned(),
            "application/x-www-form-urlencoded".to_owned(),
        )];
        let err = policy
            .send("POST", &url, form, br#"{"a":"&q="}"#.to_vec(), 1 << 20)
            .await
            .expect_err("not sent as JSON");
        assert!(
            matches!(&err, OutboundError::Denied(m) if m.contains("application/json")),
            "{err:?}"
        );
        // Without a content type, the host says it is JSON.
        let (_, _, body) = policy
            .send("POST", &url, vec![], br#"{"q":"x"}"#.to_vec(), 1 << 20)
            .await
            .expect("sent");
        let echoed = String::from_utf8(body).expect("text");
        assert!(
            echoed.contains("content-type: application/json"),
            "{echoed}"
        );
    }

    #[test]
    fn redaction_covers_the_credential_after_its_scheme() {
        let out = redact(b"token=abcdefgh12 and abcdefgh12", &[b"Bearer abcdefgh12"]);
        assert_eq!(out, b"token=[redacted] and [redacted]");
        assert_eq!(redact(b"Bearer xy", &[b"Bearer xy"]), b"[redacted]");
        assert_eq!(redact(b"xy stays", &[b"Bearer xy"]), b"xy stays");
    }
}
