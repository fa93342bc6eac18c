//! The CLI's connections to a running server's gRPC APIs (the event API for
//! `send`, the admin API for `admin`): the address, TLS trusting the server's
//! CA or the public ones (with a client certificate for mutual TLS), and the
//! bearer token every request carries.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use clap::Args;
use tonic::metadata::{Ascii, MetadataValue};
use tonic::service::Interceptor;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint, Identity};

/// How to speak TLS to the server.
#[derive(Args, Clone, Default)]
pub(crate) struct TlsArgs {
    /// CA certificate (PEM) that signed the server's certificate; enables TLS
    /// (an `https://` address without it trusts the public CAs).
    #[arg(long, global = true, value_name = "PEM")]
    pub(crate) ca_file: Option<PathBuf>,
    /// Client certificate (PEM) for mutual TLS; needs --key-file.
    #[arg(long, global = true, value_name = "PEM", requires = "key_file")]
    pub(crate) cert_file: Option<PathBuf>,
    /// The client certificate's private key (PEM); needs --cert-file.
    #[arg(long, global = true, value_name = "PEM", requires = "cert_file")]
    pub(crate) key_file: Option<PathBuf>,
    /// The name the server's certificate must carry, when it differs from the host
    /// of --addr (e.g. `localhost` when connecting to 127.0.0.1).
    #[arg(long, global = true, value_name = "NAME")]
    pub(crate) tls_server_name: Option<String>,
}

impl TlsArgs {
    fn any(&self) -> bool {
        self.ca_file.is_some() || self.cert_file.is_some() || self.tls_server_name.is_some()
    }
}

fn read_file(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))
}

/// A connection to `api` (named in errors) at `addr`: `https://` is assumed
/// when a TLS option is given, `http://` otherwise.
pub(crate) async fn channel(addr: &str, tls: &TlsArgs, api: &str) -> Result<Channel> {
    let uri = if addr.contains("://") {
        addr.to_owned()
    } else if tls.any() {
        format!("https://{addr}")
    } else {
        format!("http://{addr}")
    };
    let mut endpoint = Endpoint::from_shared(uri.clone())
        .with_context(|| format!("'{uri}' is not a valid address"))?
        .connect_timeout(Duration::from_secs(10));
    if uri.starts_with("https://") {
        // A server's own CA, else the public ones (Mozilla's list, built in: a
        // server behind a publicly trusted certificate).
        let mut config = match &tls.ca_file {
            Some(ca_file) => {
                ClientTlsConfig::new().ca_certificate(Certificate::from_pem(read_file(ca_file)?))
            }
            None => ClientTlsConfig::new().with_webpki_roots(),
        };
        if let (Some(cert), Some(key)) = (&tls.cert_file, &tls.key_file) {
            config = config.identity(Identity::from_pem(read_file(cert)?, read_file(key)?));
        }
        if let Some(name) = &tls.tls_server_name {
            config = config.domain_name(name.clone());
        }
        endpoint = endpoint
            .tls_config(config)
            .context("invalid TLS configuration")?;
    } else if tls.any() {
        bail!("--ca-file, --cert-file and --tls-server-name need TLS, but the address is {uri}");
    }
    let public_cas_only = uri.starts_with("https://") && tls.ca_file.is_none();
    endpoint.connect().await.with_context(|| {
        let hint = if public_cas_only {
            " (trusting the public CAs: for a certificate your own CA signed, give it with --ca-file)"
        } else {
            ""
        };
        format!("cannot connect to the {api} at {uri}{hint}")
    })
}

/// Adds `authorization: Bearer <token>` to every request.
#[derive(Clone)]
pub(crate) struct Bearer(Option<MetadataValue<Ascii>>);

impl Bearer {
    /// The token, if one is given (blank counts as none).
    pub(crate) fn new(token: Option<&str>) -> Result<Bearer> {
        match token.map(str::trim) {
            Some(token) if !token.is_empty() => {
                let mut value: MetadataValue<Ascii> = format!("Bearer {token}")
                    .parse()
                    .map_err(|_| anyhow!("the token must be printable ASCII"))?;
                value.set_sensitive(true);
                Ok(Bearer(Some(value)))
            }
            _ => Ok(Bearer(None)),
        }
    }

    pub(crate) fn is_given(&self) -> bool {
        self.0.is_some()
    }
}

impl Interceptor for Bearer {
    fn call(
        &mut self,
        mut request: tonic::Request<()>,
    ) -> Result<tonic::Request<()>, tonic::Status> {
        if let Some(value) = &self.0 {
            request
                .metadata_mut()
                .insert("authorization", value.clone());
        }
        Ok(request)
    }
}
