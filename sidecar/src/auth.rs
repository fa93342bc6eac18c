//! Who may act for which tenant. Callers of the event API (and admins of the admin
//! API, with their own set of tokens) present a bearer token (`authorization: Bearer
//! <token>`); each configured caller may act for its own tenants only. Tokens are
//! kept as SHA-256 digests, never in clear.
//!
//! With no caller configured, the event API is open to whoever reaches the listener:
//! the embedded default listens on loopback only.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use sha2::{Digest, Sha256};
use tonic::Status;
use tonic::metadata::MetadataMap;

use crate::config::{CallerConfig, ConfigError};

/// A known caller.
#[derive(Debug, Clone)]
pub struct Caller {
    pub name: String,
    tenants: Vec<String>,
}

impl Caller {
    /// Refuses a request about a tenant the caller was not given.
    pub fn authorize(&self, tenant: &str) -> Result<(), Status> {
        if self.tenants.iter().any(|t| t == "*" || t == tenant) {
            Ok(())
        } else {
            // The same answer whether the tenant exists or not; the id as the
            // caller sent it is unchecked yet, so it is shown cut.
            Err(Status::permission_denied(format!(
                "'{}' has no access to tenant '{}'",
                self.name,
                crate::grant::shown_id(tenant)
            )))
        }
    }

    /// Whether the caller was given every tenant.
    pub fn is_global(&self) -> bool {
        self.tenants.iter().any(|t| t == "*")
    }
}

/// The callers of the event API.
#[derive(Debug, Clone, Default)]
pub struct Callers {
    by_token: HashMap<[u8; 32], Caller>,
}

impl Callers {
    pub fn from_config(callers: &[CallerConfig]) -> Result<Callers, ConfigError> {
        let mut by_token = HashMap::new();
        for caller in callers {
            let digest: [u8; 32] = Sha256::digest(caller.resolve()?.as_bytes()).into();
            let previous = by_token.insert(
                digest,
                Caller {
                    name: caller.name.clone(),
                    tenants: caller.tenants.clone(),
                },
            );
            if let Some(previous) = previous {
                return Err(ConfigError::Invalid(format!(
                    "callers '{}' and '{}' have the same token",
                    previous.name, caller.name
                )));
            }
        }
        Ok(Callers { by_token })
    }

    /// Whether callers must identify themselves.
    pub fn required(&self) -> bool {
        !self.by_token.is_empty()
    }

    /// The caller a request comes from: `Ok(None)` when no caller is configured,
    /// `UNAUTHENTICATED` for a missing or unknown token.
    pub fn identify(&self, metadata: &MetadataMap) -> Result<Option<&Caller>, Status> {
        if !self.required() {
            return Ok(None);
        }
        let token = metadata
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            // The scheme's name is case-insensitive (RFC 9110 §11.1).
            .and_then(|v| {
                let (scheme, token) = v.trim_start().split_once(' ')?;
                scheme.eq_ignore_ascii_case("bearer").then_some(token)
            })
            .ok_or_else(|| {
                Status::unauthenticated("this event API requires `authorization: Bearer <token>`")
            })?;
        let digest: [u8; 32] = Sha256::digest(token.trim().as_bytes()).into();
        self.by_token
            .get(&digest)
            .map(Some)
            .ok_or_else(|| Status::unauthenticated("unknown token"))
    }
}

/// Failed sign-ins an address may make within [`FAILURE_WINDOW`]…
pub const FAILURES_ALLOWED: u32 = 10;
/// …counted from its first failure; then it is refused, even with a good token,
/// until the window ends.
pub const FAILURE_WINDOW: Duration = Duration::from_secs(60);
/// Addresses remembered at most (those seen least lately go first).
const ADDRESSES_REMEMBERED: u64 = 100_000;

/// Failed sign-ins by the address they came from. Tokens of 16 characters or
/// more are not guessed by trying, but a weak one could be, and each failure is
/// a log line: an address that fails [`FAILURES_ALLOWED`] times in a window is
/// refused until the window ends. An IPv6 address counts as its /64, which one
/// host commonly holds whole. Whoever shares the admins' address (a proxy, a
/// NAT) can keep it refused; admins with a client certificate are not counted.
#[derive(Debug)]
pub struct FailedSignIns {
    by_address: moka::sync::Cache<IpAddr, Arc<AtomicU32>>,
}

impl Default for FailedSignIns {
    fn default() -> FailedSignIns {
        FailedSignIns::with_window(FAILURE_WINDOW)
    }
}

impl FailedSignIns {
    fn with_window(window: Duration) -> FailedSignIns {
        FailedSignIns {
            by_address: moka::sync::Cache::builder()
                .max_capacity(ADDRESSES_REMEMBERED)
                .time_to_live(window)
                .build(),
        }
    }

    /// RESOURCE_EXHAUSTED when `from` has failed too often lately (an unknown
    /// address, `None`, is never refused).
    pub fn check(&self, from: Option<IpAddr>) -> Result<(), Status> {
        let Some(from) = from else { return Ok(()) };
        match self.by_address.get(&counted_as(from)) {
            Some(failures) if failures.load(Ordering::Relaxed) >= FAILURES_ALLOWED => {
                Err(Status::resource_exhausted(
                    "too many failed sign-ins from this address: try again in a minute",
                ))
            }
            _ => Ok(()),
        }
    }

    /// Counts a failed sign-in from `from`.
    pub fn failed(&self, from: Option<IpAddr>) {
        let Some(from) = from else { return };
        self.by_address
            .get_with(counted_as(from), Arc::default)
            .fetch_add(1, Ordering::Relaxed);
    }
}

/// The address a failure is counted for: an IPv4 one as it is (also when it
/// comes mapped into IPv6), an IPv6 one as its /64.
fn counted_as(address: IpAddr) -> IpAddr {
    match address.to_canonical() {
        IpAddr::V6(v6) => {
            let bits = u128::from(v6) & !(u128::from(u64::MAX));
            IpAddr::V6(bits.into())
        }
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_that_fails_too_often_is_refused_and_others_are_not() {
        let failures = FailedSignIns::default();
        let (one, other): (IpAddr, IpAddr) = ([192, 0, 2, 1].into(), [192, 0, 2, 2].into());
        for _ in 0..FAILURES_ALLOWED {
            assert!(failures.check(Some(one)).is_ok());
            failures.failed(Some(one));
        }
        let refused = failures.check(Some(one)).expect_err("refused");
        assert_eq!(refused.code(), tonic::Code::ResourceExhausted);
        assert!(failures.check(Some(other)).is_ok());
        assert!(failures.check(None).is_ok());
        // The same address mapped into IPv6 is the same address.
        let mapped: IpAddr = "::ffff:192.0.2.1".parse().expect("address");
        assert!(failures.check(Some(mapped)).is_err());
    }

    #[test]
    fn an_ipv6_host_counts_as_its_64() {
        let failures = FailedSignIns::default();
        for n in 0..FAILURES_ALLOWED {
            let address: IpAddr = format!("2001:db8:1:2::{n:x}").parse().expect("address");
            failures.failed(Some(address));
        }
        let same_64: IpAddr = "2001:db8:1:2:ffff::1".parse().expect("address");
        let next_64: IpAddr = "2001:db8:1:3::1".parse().expect("address");
        assert!(failures.check(Some(same_64)).is_err());
        assert!(failures.check(Some(next_64)).is_ok());
    }

    #[test]
    fn a_window_ends() {
        use std::time::Instant;
        // Long enough for the failures below on a busy machine.
        let failures = FailedSignIns::with_window(Duration::from_millis(1000));
        let one: IpAddr = [192, 0, 2, 1].into();
        for _ in 0..FAILURES_ALLOWED {
            failures.failed(Some(one));
        }
        assert!(failures.check(Some(one)).is_err());
        let since = Instant::now();
        while failures.check(Some(one)).is_err() {
            assert!(since.elapsed() < Duration::from_secs(10), "never ends");
            std::thread::sleep(Duration::from_millis(10));
        }
        failures.failed(Some(one));
        assert!(failures.check(Some(one)).is_ok(), "a new window");
    }

    fn callers() -> Callers {
        Callers::from_config(&[CallerConfig {
            name: "bridge".into(),
            token: Some("a-long-enough-token".into()),
            token_env: None,
            tenants: vec!["acme".into()],
        }])
        .expect("valid")
    }

    fn with_token(token: &str) -> MetadataMap {
        let mut metadata = MetadataMap::new();
        metadata.insert("authorization", token.parse().expect("ascii"));
        metadata
    }

    #[test]
    fn a_caller_is_known_by_its_token_and_limited_to_its_tenants() {
        let callers = callers();
        let caller = callers
            .identify(&with_token("Bearer a-long-enough-token"))
            .expect("known")
            .expect("required");
        assert!(caller.authorize("acme").is_ok());
        let refused = caller.authorize("globex").expect_err("other tenant");
        assert_eq!(refused.code(), tonic::Code::PermissionDenied);
        // An id of any length is refused with a message of bounded length.
        let long = "x".repeat(200_000);
        let refused = caller.authorize(&long).expect_err("other tenant");
        assert!(refused.message().len() < 300, "{}", refused.message().len());
        for spelt in ["bearer a-long-enough-token", "BEARER  a-long-enough-token"] {
            assert!(callers.identify(&with_token(spelt)).is_ok(), "{spelt}");
        }
        for bad in [
            "Bearer wrong-token-of-length",
            "a-long-enough-token",
            "Basic a-long-enough-token",
        ] {
            let err = callers.identify(&with_token(bad)).expect_err("refused");
            assert_eq!(err.code(), tonic::Code::Unauthenticated);
        }
        let err = callers.identify(&MetadataMap::new()).expect_err("no token");
        assert_eq!(err.code(), tonic::Code::Unauthenticated);
    }

    #[test]
    fn without_callers_the_api_is_open() {
        let open = Callers::default();
        assert!(!open.required());
        assert!(open.identify(&MetadataMap::new()).expect("open").is_none());
    }
}
