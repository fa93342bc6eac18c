//! The listeners' TLS: a rustls configuration built from the operator's PEM files,
//! and built again when they change, so that a renewed certificate (cert-manager,
//! certbot, a rotated client CA) is served without a restart; and the accepted
//! connections, whose handshakes run beside the accept loop.
//!
//! The files are read again for every new connection (one at a time: others
//! meanwhile take the configuration as it is) and compared with those last loaded
//! (connections are long-lived HTTP/2; a handshake costs far more than reading
//! three small files). A set that does not load — a certificate renewed before its
//! key, a file half-written — is logged once and the last good configuration
//! kept, so a renewal in progress never turns clients away.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use rustls::ServerConfig;
use rustls::server::WebPkiClientVerifier;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use sha2::{Digest, Sha256};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

use super::ServeError;
use crate::config::TlsSettings;

/// How long a client has to finish its handshake: one that connects and says
/// nothing holds no task for longer.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Connections handshaken but not yet taken by the server.
const ACCEPTED_QUEUE: usize = 64;

/// A listener's TLS files and the configuration last built from them.
pub struct TlsFiles {
    settings: TlsSettings,
    /// What new connections are handshaken with.
    current: arc_swap::ArcSwap<ServerConfig>,
    /// Whether a connection is reading the files now: the others meanwhile take
    /// `current` as it is, so that a flood of connections reads them once at a
    /// time, on one blocking thread, and a hung disk holds no worker.
    checking: AtomicBool,
    /// What the files held, as the one checker last found them.
    seen: parking_lot::Mutex<Seen>,
}

struct Seen {
    /// Digest of the files `current` was built from.
    loaded: [u8; 32],
    /// Digest of the files last refused, not built again while they stay.
    refused: Option<[u8; 32]>,
    /// The last warning, so that a problem that lasts is logged once.
    warned: Option<String>,
}

impl TlsFiles {
    /// Reads the files and builds the configuration: a missing file, or a
    /// certificate or key that does not load, is an error before anything listens.
    pub fn load(settings: &TlsSettings) -> Result<TlsFiles, ServeError> {
        let (loaded, contents) = read(settings)?;
        let config = build(settings, &contents)?;
        Ok(TlsFiles {
            settings: settings.clone(),
            current: arc_swap::ArcSwap::from_pointee(config),
            checking: AtomicBool::new(false),
            seen: parking_lot::Mutex::new(Seen {
                loaded,
                refused: None,
                warned: None,
            }),
        })
    }

    /// The configuration for a new connection: from the files as they are now
    /// (unless another connection is reading them), or the last good one while
    /// they do not load.
    async fn config(self: &Arc<Self>) -> Arc<ServerConfig> {
        if !self.checking.swap(true, Ordering::AcqRel) {
            let files = Arc::clone(self);
            // Off the runtime's workers: the files may be on a slow disk.
            let _ = tokio::task::spawn_blocking(move || {
                // Cleared however the check ends, or no file would be read again.
                struct Done<'a>(&'a AtomicBool);
                impl Drop for Done<'_> {
                    fn drop(&mut self) {
                        self.0.store(false, Ordering::Release);
                    }
                }
                let _done = Done(&files.checking);
                files.check();
            })
            .await;
        }
        self.current.load_full()
    }

    /// Builds `current` again if the files changed and load.
    fn check(&self) {
        let mut seen = self.seen.lock();
        let problem = match read(&self.settings) {
            Ok((files, _)) if files == seen.loaded => {
                // Back to the set in use: a problem seen before is over, and
                // one seen again is logged again.
                seen.refused = None;
                seen.warned = None;
                None
            }
            Ok((files, _)) if Some(files) == seen.refused => None,
            Ok((files, contents)) => match build(&self.settings, &contents) {
                Ok(config) => {
                    self.current.store(Arc::new(config));
                    *seen = Seen {
                        loaded: files,
                        refused: None,
                        warned: None,
                    };
                    tracing::info!(
                        cert_file = %self.settings.cert_file.display(),
                        "TLS files changed: new connections get the new ones"
                    );
                    None
                }
                Err(e) => {
                    seen.refused = Some(files);
                    Some(e.to_string())
                }
            },
            // Not remembered as refused: a file being replaced comes back.
            Err(e) => Some(e.to_string()),
        };
        if let Some(problem) = problem
            && seen.warned.as_ref() != Some(&problem)
        {
            tracing::warn!("TLS files not loaded, the last good ones serve: {problem}");
            seen.warned = Some(problem);
        }
    }
}

/// The files' contents: certificate chain, key, client CA (empty without one).
struct Contents {
    cert: Vec<u8>,
    key: secrecy::SecretBox<Vec<u8>>,
    client_ca: Vec<u8>,
}

/// Reads the files, with a digest of their contents together.
fn read(settings: &TlsSettings) -> Result<([u8; 32], Contents), ServeError> {
    let read = |path: &Path| {
        std::fs::read(path).map_err(|source| ServeError::TlsFile {
            path: path.to_owned(),
            source,
        })
    };
    let contents = Contents {
        cert: read(&settings.cert_file)?,
        key: secrecy::SecretBox::new(Box::new(read(&settings.key_file)?)),
        client_ca: match &settings.client_ca_file {
            Some(path) => read(path)?,
            None => Vec::new(),
        },
    };
    let mut digest = Sha256::new();
    for part in [
        &contents.cert,
        secrecy::ExposeSecret::expose_secret(&contents.key),
        &contents.client_ca,
    ] {
        // Lengths first: no two different sets digest alike by moving bytes
        // from one file to the next.
        digest.update((part.len() as u64).to_le_bytes());
        digest.update(part);
    }
    Ok((digest.finalize().into(), contents))
}

/// The rustls configuration of `contents`: HTTP/2 by ALPN (gRPC), and with a
/// client CA, a client certificate it signed required during the handshake.
fn build(settings: &TlsSettings, contents: &Contents) -> Result<ServerConfig, ServeError> {
    let invalid = |path: &Path, message: String| ServeError::TlsInvalid {
        path: path.to_owned(),
        message,
    };
    let certificates = |path: &Path, pem: &[u8]| {
        let certificates = CertificateDer::pem_slice_iter(pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| invalid(path, e.to_string()))?;
        match certificates.is_empty() {
            true => Err(invalid(path, "no certificate in it".into())),
            false => Ok(certificates),
        }
    };
    let chain = certificates(&settings.cert_file, &contents.cert)?;
    let key = PrivateKeyDer::from_pem_slice(secrecy::ExposeSecret::expose_secret(&contents.key))
        // Not the error's text: it could quote the key's bytes.
        .map_err(|_| invalid(&settings.key_file, "no private key in it".into()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| invalid(&settings.cert_file, e.to_string()))?;
    let builder = match &settings.client_ca_file {
        None => builder.with_no_client_auth(),
        Some(path) => {
            let mut roots = rustls::RootCertStore::empty();
            // A bundle's certificates that rustls cannot take are skipped, as
            // tonic's own listener did; one it can take is needed.
            let (added, _) =
                roots.add_parsable_certificates(certificates(path, &contents.client_ca)?);
            if added == 0 {
                return Err(invalid(path, "no CA certificate in it can be used".into()));
            }
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .map_err(|e| invalid(path, e.to_string()))?;
            builder.with_client_cert_verifier(verifier)
        }
    };
    let mut config = builder
        .with_single_cert(chain, key)
        .map_err(|e| invalid(&settings.key_file, format!("with the certificate: {e}")))?;
    config.alpn_protocols = vec![b"h2".to_vec()];
    Ok(config)
}

/// The connections `listener` accepts, each handshaken with the configuration
/// current when it came, for a tonic server's `serve_with_incoming`. Accepting
/// stops when the server drops the stream.
pub(crate) fn incoming(
    listener: TcpListener,
    files: Arc<TlsFiles>,
) -> tokio_stream::wrappers::ReceiverStream<std::io::Result<TlsStream<TcpStream>>> {
    let (accepted, stream) = tokio::sync::mpsc::channel(ACCEPTED_QUEUE);
    tokio::spawn(async move {
        loop {
            let socket = tokio::select! {
                socket = listener.accept() => socket,
                () = accepted.closed() => break,
            };
            let (socket, peer) = match socket {
                Ok(socket) => socket,
                // The server logs it and goes on, as with its own listener.
                Err(e) => match accepted.send(Err(e)).await {
                    Ok(()) => continue,
                    Err(_) => break,
                },
            };
            // Small RPCs' responses must not wait for the client's delayed ACK.
            let _ = socket.set_nodelay(true);
            let (files, accepted) = (files.clone(), accepted.clone());
            tokio::spawn(async move {
                // The check of the files within the deadline: a hung disk
                // holds no connection for longer.
                let handshake = async {
                    let config = files.config().await;
                    TlsAcceptor::from(config).accept(socket).await
                };
                match tokio::time::timeout(HANDSHAKE_TIMEOUT, handshake).await {
                    Ok(Ok(connection)) => {
                        let _ = accepted.send(Ok(connection)).await;
                    }
                    Ok(Err(e)) => tracing::debug!(%peer, "TLS handshake failed: {e}"),
                    Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
                }
            });
        }
    });
    tokio_stream::wrappers::ReceiverStream::new(stream)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(dir: &Path) -> TlsSettings {
        TlsSettings {
            cert_file: dir.join("cert.pem"),
            key_file: dir.join("key.pem"),
            client_ca_file: None,
        }
    }

    #[test]
    fn files_that_do_not_load_are_named() {
        let dir = tempfile::tempdir().expect("temp dir");
        let settings = settings(dir.path());
        let missing = TlsFiles::load(&settings).err().expect("no files");
        assert!(missing.to_string().contains("cert.pem"), "{missing}");
        std::fs::write(&settings.cert_file, "not a certificate").expect("write");
        std::fs::write(&settings.key_file, "not a key").expect("write");
        let empty = TlsFiles::load(&settings).err().expect("no certificate");
        assert!(empty.to_string().contains("cert.pem"), "{empty}");
        assert!(empty.to_string().contains("no certificate"), "{empty}");
    }
}
