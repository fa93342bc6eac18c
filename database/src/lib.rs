//! The PostgreSQL connections of the sidecar's store and the bridge's queue: a
//! pool opened from a `postgres://` URL (no error repeats its password), over
//! TLS when the URL asks for it, and the words a failure is reported in.
//!
//! With `sslmode=require` in the URL the connection is TLS and the server is
//! verified as libpq's `verify-full` does it (stricter than libpq's `require`,
//! which checks nothing): its certificate chains to a trusted root and names the
//! URL's host. The roots are the PEM certificates of `ca_file` when it is given
//! (a managed database's bundle, or your own CA: as libpq's `sslrootcert`, only
//! those), else Mozilla's (webpki-roots). libpq's `verify-ca` and `verify-full`,
//! which cloud providers' instructions give, mean the same here (the host name is
//! checked for `verify-ca` too).
//! Without `sslmode`, or with `prefer` or `disable`, connections are plain TCP,
//! for a database on a trusted network.

mod clock;

pub use clock::{MAX_ROUND_TRIP, ServerClock, local_now_ms};

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Pool, PoolError, RecyclingMethod, Runtime};
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;
use tokio_postgres::config::SslMode;
use tokio_postgres::error::DbError;

/// How long a call waits for a free connection before failing rather than hanging.
pub const WAIT_TIMEOUT: Duration = Duration::from_secs(30);
/// How long opening a connection (TLS included) may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Where a pool connects, and how. Its Debug leaves the URL out (it may hold a
/// password).
#[derive(Clone, Copy)]
pub struct Target<'a> {
    /// `postgres://user:password@host:port/database[?sslmode=require]`.
    pub url: &'a str,
    /// PEM certificates of the CA that signed the server's certificate, besides
    /// Mozilla's roots (only with `sslmode=require`).
    pub ca_file: Option<&'a Path>,
    /// Shown in `pg_stat_activity` unless the URL names one.
    pub application_name: &'a str,
    /// Connections the pool opens at most.
    pub max_connections: usize,
}

impl std::fmt::Debug for Target<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Target")
            .field("url", &"<redacted>")
            .field("ca_file", &self.ca_file)
            .field("application_name", &self.application_name)
            .field("max_connections", &self.max_connections)
            .finish()
    }
}

/// Why a pool could not be made. No variant carries the URL.
#[derive(Debug, thiserror::Error)]
pub enum DatabaseError {
    #[error("invalid PostgreSQL URL: {0}")]
    Url(String),
    #[error("PostgreSQL CA file {path}: {reason}")]
    CaFile { path: PathBuf, reason: String },
    #[error("TLS to PostgreSQL: {0}")]
    Tls(String),
    #[error("PostgreSQL connection pool: {0}")]
    Pool(String),
}

/// A pool of connections to `target`; connections open when first needed.
pub fn pool(target: &Target<'_>) -> Result<Pool, DatabaseError> {
    let mut config: tokio_postgres::Config = verifying_modes_as_require(target.url)
        .parse()
        .map_err(|e| DatabaseError::Url(describe(&e)))?;
    if config.get_application_name().is_none() {
        config.application_name(target.application_name);
    }
    let manager_config = ManagerConfig {
        recycling_method: RecyclingMethod::Fast,
    };
    let manager = if config.get_ssl_mode() == SslMode::Require {
        let tls = tls_connector(target.ca_file)?;
        Manager::from_config(config, tls, manager_config)
    } else {
        if let Some(path) = target.ca_file {
            // A CA file says TLS was meant: do not go on in clear text.
            return Err(DatabaseError::CaFile {
                path: path.to_owned(),
                reason: "given, but the URL does not ask for TLS: add sslmode=require".into(),
            });
        }
        Manager::from_config(config, tokio_postgres::NoTls, manager_config)
    };
    Pool::builder(manager)
        .max_size(target.max_connections)
        .runtime(Runtime::Tokio1)
        .wait_timeout(Some(WAIT_TIMEOUT))
        .create_timeout(Some(CONNECT_TIMEOUT))
        .build()
        .map_err(|e| DatabaseError::Pool(e.to_string()))
}

/// The URL with libpq's `sslmode=verify-ca` and `verify-full` written
/// `require`, the one TLS mode the driver parses, which verifies fully here.
/// Only a whole parameter is rewritten: after `?`, `&`, a space, or at the start
/// of a key-value string.
fn verifying_modes_as_require(url: &str) -> String {
    let mut out = String::with_capacity(url.len());
    let mut rest = url;
    while let Some(at) = rest.find("sslmode=verify-") {
        let (before, from) = rest.split_at(at);
        out.push_str(before);
        let at_boundary = out.is_empty() || out.ends_with(['?', '&', ' ']);
        let mode_end = from.find(['&', ' ']).unwrap_or(from.len());
        let mode = &from["sslmode=".len()..mode_end];
        if at_boundary && matches!(mode, "verify-ca" | "verify-full") {
            out.push_str("sslmode=require");
            rest = &from[mode_end..];
        } else {
            out.push_str(&from[..mode_end]);
            rest = &from[mode_end..];
        }
    }
    out.push_str(rest);
    out
}

/// rustls (ring, as the rest of the process) trusting the certificates of
/// `ca_file` only, or without one Mozilla's roots.
fn tls_connector(
    ca_file: Option<&Path>,
) -> Result<tokio_postgres_rustls::MakeRustlsConnect, DatabaseError> {
    let mut roots = rustls::RootCertStore::empty();
    if ca_file.is_none() {
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    }
    if let Some(path) = ca_file {
        let ca_error = |reason: String| DatabaseError::CaFile {
            path: path.to_owned(),
            reason,
        };
        let certificates = CertificateDer::pem_file_iter(path)
            .map_err(|e| ca_error(e.to_string()))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| ca_error(e.to_string()))?;
        if certificates.is_empty() {
            return Err(ca_error("no PEM certificate in it".into()));
        }
        for certificate in certificates {
            roots
                .add(certificate)
                .map_err(|e| ca_error(e.to_string()))?;
        }
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| DatabaseError::Tls(e.to_string()))?
    .with_root_certificates(roots)
    .with_no_client_auth();
    Ok(tokio_postgres_rustls::MakeRustlsConnect::new(config))
}

/// A driver error in words: the server's own message when it sent one, else
/// the error and its causes (a TLS failure says why the certificate was refused).
pub fn describe(e: &tokio_postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        return describe_db(db);
    }
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// A server's error: severity, SQLSTATE, message, and its detail and hint.
pub fn describe_db(db: &DbError) -> String {
    let mut text = format!("{} {}: {}", db.severity(), db.code().code(), db.message());
    if let Some(detail) = db.detail() {
        text.push_str(&format!(" ({detail})"));
    }
    if let Some(hint) = db.hint() {
        text.push_str(&format!(" (hint: {hint})"));
    }
    text
}

/// Why no connection could be had from the pool.
pub fn describe_pool(e: &PoolError) -> String {
    use deadpool_postgres::TimeoutType;
    match e {
        PoolError::Backend(e) => format!("cannot connect to PostgreSQL: {}", describe(e)),
        PoolError::Timeout(TimeoutType::Wait) => format!(
            "no PostgreSQL connection became free within {}s",
            WAIT_TIMEOUT.as_secs()
        ),
        PoolError::Timeout(TimeoutType::Create) => format!(
            "connecting to PostgreSQL took longer than {}s",
            CONNECT_TIMEOUT.as_secs()
        ),
        other => format!("PostgreSQL connection pool: {other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target<'a>(url: &'a str, ca_file: Option<&'a Path>) -> Target<'a> {
        Target {
            url,
            ca_file,
            application_name: "test",
            max_connections: 1,
        }
    }

    #[test]
    fn a_ca_file_without_tls_asked_for_is_refused() {
        let dir = tempfile::tempdir().expect("temporary folder");
        let ca = dir.path().join("ca.pem");
        let err = pool(&target("postgres://u:pw-S3CR3T@db/x", Some(&ca))).expect_err("no TLS");
        assert!(err.to_string().contains("sslmode=require"), "{err}");
        assert!(!err.to_string().contains("S3CR3T"), "{err}");
    }

    #[test]
    fn a_ca_file_that_holds_no_certificate_is_refused_naming_it() {
        let dir = tempfile::tempdir().expect("temporary folder");
        let ca = dir.path().join("ca.pem");
        std::fs::write(&ca, "not a certificate\n").expect("write");
        let url = "postgres://u@db/x?sslmode=require";
        let err = pool(&target(url, Some(&ca))).expect_err("nothing in it");
        assert!(err.to_string().contains("ca.pem"), "{err}");
        let missing = dir.path().join("missing.pem");
        let err = pool(&target(url, Some(&missing))).expect_err("no file");
        assert!(err.to_string().contains("missing.pem"), "{err}");
    }

    #[test]
    fn libpq_verifying_modes_are_read_as_require() {
        assert_eq!(
            verifying_modes_as_require("postgres://u@db/x?sslmode=verify-full&connect_timeout=5"),
            "postgres://u@db/x?sslmode=require&connect_timeout=5"
        );
        assert_eq!(
            verifying_modes_as_require("host=db sslmode=verify-ca user=u"),
            "host=db sslmode=require user=u"
        );
        // Not a parameter of its own: left as written.
        let inside = "postgres://u:xsslmode=verify-full@db/x";
        assert_eq!(verifying_modes_as_require(inside), inside);
        let err = pool(&target(
            "postgres://u:pw-S3CR3T@db/x?sslmode=verify-none",
            None,
        ))
        .expect_err("not a mode");
        assert!(err.to_string().contains("sslmode"), "{err}");
        assert!(!err.to_string().contains("S3CR3T"), "{err}");
    }
}
