//! Outbound HTTP for plugins: which hosts a tenant allowed, which addresses they may
//! resolve to, and which secrets the host adds on the way out.
//!
//! A request passes three checks: its scheme is http or https; its host matches an
//! allowed pattern; and every address the host resolves to is public, unless the
//! admin named that host exactly (a wildcard never opens loopback, private or
//! link-local space). Redirects are not followed, so a server cannot bounce a
//! plugin to a host it was not granted.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

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

/// Whether an address is reachable from the public internet (not loopback, private,
/// link-local, unspecified, multicast or documentation space).
pub fn is_public(addr: IpAddr) -> bool {
    match addr {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || a == 0
                || (a == 100 && (64..128).contains(&b)) // carrier-grade NAT
                || (a == 198 && (b == 18 || b == 19))) // benchmarking
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00 // unique local
                || (first & 0xffc0) == 0xfe80) // link-local
        }
    }
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

/// What one tenant allows one plugin to reach.
#[derive(Clone)]
pub struct OutboundPolicy {
    patterns: Vec<HostPattern>,
    /// Headers added to requests whose host matches the pattern (an `allowed_hosts` entry).
    secrets: Vec<(
        HostPattern,
        reqwest::header::HeaderName,
        reqwest::header::HeaderValue,
    )>,
    client: reqwest::Client,
}

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

impl OutboundPolicy {
    /// Builds the policy and its HTTP client.
    pub fn new(allowed_hosts: &[String], secrets: &[Secret<'_>]) -> Result<Self, String> {
        let patterns = allowed_hosts
            .iter()
            .map(|h| HostPattern::parse(h))
            .collect::<Result<Vec<_>, _>>()?;
        let secrets = secrets
            .iter()
            .map(|s| {
                let name = reqwest::header::HeaderName::from_bytes(s.header.as_bytes())
                    .map_err(|_| format!("secret header name '{}' is invalid", s.header))?;
                let mut value = reqwest::header::HeaderValue::from_str(s.value)
                    .map_err(|_| format!("secret for '{}' is not a valid header value", s.host))?;
                value.set_sensitive(true);
                Ok((HostPattern::parse(s.host)?, name, value))
            })
            .collect::<Result<Vec<_>, String>>()?;
        let exact_hosts: Vec<String> = patterns
            .iter()
            .filter(|p| !p.wildcard)
            .map(|p| p.host.clone())
            .collect();
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .dns_resolver(Arc::new(CheckedResolver { exact_hosts }))
            .connect_timeout(Duration::from_secs(5))
            .user_agent(concat!("crossdesk/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("cannot build HTTP client: {e}"))?;
        Ok(Self {
            patterns,
            secrets,
            client,
        })
    }

    /// Whether any host is allowed at all.
    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
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
        let host = url
            .host_str()
            .ok_or_else(|| OutboundError::Invalid(format!("URL '{url}' has no host")))?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_ascii_lowercase();
        let port = url.port_or_known_default().unwrap_or(80);
        let Some(pattern) = self.patterns.iter().find(|p| p.matches(&host, port)) else {
            return Err(OutboundError::Denied(format!(
                "host '{host}' is not in this plugin's allowed hosts for this tenant"
            )));
        };
        // An address literal never reaches the resolver: check it here.
        if let Ok(ip) = host.parse::<IpAddr>()
            && !is_public(ip)
            && pattern.wildcard
        {
            return Err(OutboundError::Denied(format!(
                "address {ip} is not public and was not allowed by name"
            )));
        }
        let method = reqwest::Method::from_bytes(method.to_ascii_uppercase().as_bytes())
            .map_err(|_| OutboundError::Invalid(format!("bad method '{method}'")))?;
        let mut header_map = reqwest::header::HeaderMap::new();
        for (name, value) in headers {
            let name = reqwest::header::HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| OutboundError::Invalid(format!("bad header name '{name}'")))?;
            let value = reqwest::header::HeaderValue::from_str(&value)
                .map_err(|_| OutboundError::Invalid(format!("bad value for header '{name}'")))?;
            header_map.append(name, value);
        }
        for (secret_host, name, value) in &self.secrets {
            if secret_host.matches(&host, port) {
                header_map.insert(name.clone(), value.clone());
            }
        }
        let mut response = self
            .client
            .request(method, url)
            .headers(header_map)
            .body(body)
            .send()
            .await
            .map_err(classify)?;
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .filter_map(|(k, v)| Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned())))
            .collect();
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(classify)? {
            if body.len() + chunk.len() > max_body {
                return Err(OutboundError::TooLarge(max_body));
            }
            body.extend_from_slice(&chunk);
        }
        Ok((status, headers, body))
    }
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

#[derive(Debug, thiserror::Error)]
#[error("'{host}' resolves to {addr}, which is not public; only a host allowed by exact name may")]
struct AddressDenied {
    host: String,
    addr: IpAddr,
}

/// Resolves names and refuses non-public addresses for hosts not allowed by exact name.
struct CheckedResolver {
    exact_hosts: Vec<String>,
}

impl reqwest::dns::Resolve for CheckedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_ascii_lowercase();
        let private_ok = self.exact_hosts.contains(&host);
        Box::pin(async move {
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            if !private_ok && let Some(bad) = addrs.iter().find(|a| !is_public(a.ip())) {
                return Err(Box::new(AddressDenied {
                    host,
                    addr: bad.ip(),
                })
                    as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
            "::1",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
            "100.64.0.1",
        ] {
            assert!(!is_public(addr.parse().expect("ip")), "{addr}");
        }
        for addr in ["93.184.216.34", "2606:4700::1111"] {
            assert!(is_public(addr.parse().expect("ip")), "{addr}");
        }
    }

    #[tokio::test]
    async fn unlisted_host_is_denied_before_any_connection() {
        let policy = OutboundPolicy::new(&["api.example.com".into()], &[]).expect("policy");
        let err = policy
            .send("GET", "http://other.example.com/", vec![], vec![], 1024)
            .await
            .expect_err("denied");
        assert!(matches!(err, OutboundError::Denied(_)), "{err:?}");
    }

    #[tokio::test]
    async fn a_wildcard_cannot_reach_a_private_address_literal() {
        let policy = OutboundPolicy::new(&["*.0.0.1".into()], &[]).expect("policy");
        let err = policy
            .send("GET", "http://127.0.0.1:9/", vec![], vec![], 1024)
            .await
            .expect_err("denied");
        assert!(matches!(err, OutboundError::Denied(_)), "{err:?}");
    }

    #[tokio::test]
    async fn a_name_resolving_to_loopback_is_denied_unless_named_exactly() {
        // As if `localhost` had been allowed through a wildcard.
        let mut policy = OutboundPolicy::new(&["localhost:9".into()], &[]).expect("policy");
        policy.client = reqwest::Client::builder()
            .dns_resolver(Arc::new(CheckedResolver {
                exact_hosts: vec![],
            }))
            .build()
            .expect("client");
        let err = policy
            .send("GET", "http://localhost:9/", vec![], vec![], 1024)
            .await
            .expect_err("denied");
        assert!(
            matches!(&err, OutboundError::Denied(m) if m.contains("not public")),
            "{err:?}"
        );

        // Named exactly: the request goes out (and finds nothing listening).
        let policy = OutboundPolicy::new(&["localhost:9".into()], &[]).expect("policy");
        let err = policy
            .send("GET", "http://localhost:9/", vec![], vec![], 1024)
            .await
            .expect_err("nothing listens on port 9");
        assert!(matches!(err, OutboundError::Transport(_)), "{err:?}");
    }
}
