//! What the engine needs from a source or destination.

use std::future::Future;

/// Why a whole adapter call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AdapterError {
    /// The adapter's configuration is wrong.
    #[error("invalid config: {0}")]
    InvalidConfig(String),
    /// The service refused the credentials.
    #[error("unauthorized: {0}")]
    Unauthorized(String),
    /// The list (group, channel, team, file) does not exist.
    #[error("not found: {0}")]
    NotFound(String),
    /// The service asked to slow down.
    #[error("rate limited: the service asks to retry in {0} s")]
    RateLimited(u32),
    /// The adapter cannot do this (for example `add` on a read-only source).
    #[error("unsupported: {0}")]
    Unsupported(String),
    /// Anything else, including the adapter crashing or breaking a rule.
    #[error("{0}")]
    Other(String),
}

impl AdapterError {
    /// The same error with its message passed through `change` (a rate
    /// limit has no message and stays as it is).
    pub fn map_message(self, change: impl FnOnce(String) -> String) -> Self {
        match self {
            AdapterError::InvalidConfig(message) => AdapterError::InvalidConfig(change(message)),
            AdapterError::Unauthorized(message) => AdapterError::Unauthorized(change(message)),
            AdapterError::NotFound(message) => AdapterError::NotFound(change(message)),
            AdapterError::RateLimited(seconds) => AdapterError::RateLimited(seconds),
            AdapterError::Unsupported(message) => AdapterError::Unsupported(change(message)),
            AdapterError::Other(message) => AdapterError::Other(change(message)),
        }
    }
}

/// One thing an adapter could not add or remove, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    /// The thing as it was passed to `add` or `remove`.
    pub thing: String,
    /// The adapter's reason.
    pub reason: String,
}

/// A list of things that can be read and, for a destination, changed.
///
/// `add` and `remove` receive only what the plan says; the engine never calls
/// them with an empty list.
pub trait Adapter: Send {
    /// Every thing currently in the list.
    fn get(&mut self) -> impl Future<Output = Result<Vec<String>, AdapterError>> + Send;

    /// Adds `things`; returns those that could not be added.
    fn add(
        &mut self,
        things: &[String],
    ) -> impl Future<Output = Result<Vec<Rejected>, AdapterError>> + Send;

    /// Removes `things`; returns those that could not be removed.
    fn remove(
        &mut self,
        things: &[String],
    ) -> impl Future<Output = Result<Vec<Rejected>, AdapterError>> + Send;

    /// Adds `add` and removes `remove` in one change, if the adapter can:
    /// `None` when it cannot, and the engine calls `add` and `remove`.
    fn apply(
        &mut self,
        add: &[String],
        remove: &[String],
    ) -> impl Future<Output = Option<Result<Vec<Rejected>, AdapterError>>> + Send {
        let _ = (add, remove);
        async { None }
    }
}
