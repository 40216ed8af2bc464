//! What the operator grants one adapter instance: origins, a directory,
//! pinned names, credentials. Plain data; the sandbox and the outbound
//! policy enforce it.

use super::budget::Budgets;
use super::credentials::Credentials;
use super::origin::OriginPattern;
use super::route::{GrantAdvice, Pins};
use std::path::PathBuf;
use std::sync::Arc;

/// What the operator grants one adapter instance.
#[derive(Debug, Clone, Default)]
pub struct Grants {
    /// Origins it may send HTTP requests to.
    pub http: Vec<HttpGrant>,
    /// A directory it sees as `/`, if any.
    pub directory: Option<DirectoryGrant>,
    /// Host names pinned to addresses, consulted before DNS.
    pub resolve: Pins,
    /// How the operator grants more, for the messages of refused requests.
    pub advice: GrantAdvice,
    /// Credentials the host holds for it: their token goes, as
    /// `Authorization: Bearer`, on every request to the origins above.
    pub credentials: Option<Arc<Credentials>>,
    /// The request budgets it shares with every other instance of the run
    /// (the pace set per origin, and pauses after rate limits).
    pub budgets: Budgets,
}

/// An origin pattern an instance may reach.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpGrant {
    /// The origins it covers.
    pub pattern: OriginPattern,
    /// Whether it may reach loopback, private or link-local addresses: only
    /// an exact origin written in `allowed_hosts` may.
    pub private: bool,
}

/// A host directory made visible to an adapter instance as `/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectoryGrant {
    /// The directory on the host.
    pub path: PathBuf,
    /// Whether the adapter may create, change and delete files in it.
    pub writable: bool,
}
