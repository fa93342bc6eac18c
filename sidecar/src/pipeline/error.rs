//! Why an event got no response ([`PipelineError`], one gRPC status code each) and
//! why the sidecar could not be assembled ([`BuildError`]).

use std::time::Duration;

use crate::control::ControlError;
use crate::runtime;

/// Why an event got no response. Each maps to one gRPC status code.
#[derive(Debug, Clone, thiserror::Error)]
pub enum PipelineError {
    #[error("{0}")]
    InvalidEvent(String),
    #[error("unknown tenant '{0}'")]
    UnknownTenant(String),
    #[error("tenant '{0}' is suspended")]
    Suspended(String),
    #[error("event id '{0}' was already used for a different event")]
    EventIdReused(String),
    #[error("plugin '{plugin}' is fail-closed and did not succeed: {message}")]
    FailClosed {
        plugin: String,
        message: String,
        /// Whether the plugin may succeed on the same event later (see
        /// `runtime::CallFailure::retryable`).
        retryable: bool,
    },
    /// Something the event needs is unreachable for now (the store); retry.
    #[error("{0}")]
    Unavailable(String),
    /// The event did not finish within `server.request_timeout_ms`.
    #[error("the event did not finish within {} ms (server.request_timeout_ms)", .0.as_millis())]
    DeadlineExceeded(Duration),
    /// The event did not finish before the caller's deadline (its `grpc-timeout`).
    #[error("the event did not finish within the caller's deadline of {} ms (grpc-timeout)", .0.as_millis())]
    CallerDeadlineExceeded(Duration),
    #[error("tenant '{tenant}' is over its quota ({reason}); retry in {} ms", retry_after.as_millis())]
    OverQuota {
        tenant: String,
        reason: String,
        retry_after: Duration,
    },
}

/// Why the sidecar could not be assembled from its configuration.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error(transparent)]
    Runtime(#[from] runtime::RuntimeError),
    #[error(transparent)]
    Control(#[from] ControlError),
    #[error("tenant '{tenant}' plugin '{plugin}': {message}")]
    Grant {
        tenant: String,
        plugin: String,
        message: String,
    },
    #[error("admin: {0}")]
    Admin(String),
}
