//! Where and how one outbound request may go: plain data that the HTTP
//! path hands along one way, `outbound.rs` (decides) → `retry.rs` (tries
//! again) → `connect.rs` (dials), with no module importing one before it.

use super::activity::Activity;
use super::budget::Budgets;
use super::secrets::Secrets;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Names pinned to addresses (`resolve` in allsync.toml), consulted before DNS.
pub type Pins = Arc<HashMap<String, IpAddr>>;

/// Where the operator grants origins, so a refusal can say what to add.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum GrantAdvice {
    /// In the instance's `allowed_hosts` in `allsync.toml`.
    #[default]
    ConfigFile,
    /// With `--allow-host` on the command line (`allsync test-adapter`).
    CommandLine,
}

impl GrantAdvice {
    /// What to do to grant `origin`.
    pub fn allow(self, origin: &str) -> String {
        match self {
            GrantAdvice::ConfigFile => {
                format!("add \"{origin}\" to its allowed_hosts in allsync.toml to allow it")
            }
            GrantAdvice::CommandLine => format!("pass --allow-host {origin} to allow it"),
        }
    }
}

/// Where and how one request may go.
pub(crate) struct Route {
    /// `scheme://host:port`, for messages.
    pub origin: String,
    /// How the operator grants more, for messages.
    pub advice: GrantAdvice,
    pub host: String,
    pub port: u16,
    pub https: bool,
    /// Whether non-public addresses may be dialled (an exact operator grant).
    pub private_allowed: bool,
    pub pins: Pins,
    pub max_response_bytes: u64,
    pub max_request_bytes: u64,
    pub incidents: Incidents,
    pub label: Arc<str>,
    pub retry: RetryPolicy,
    /// The budgets shared with other instances, by origin and credential.
    pub budgets: Budgets,
    /// Where its requests and retries are counted.
    pub activity: Activity,
}

/// How one instance retries.
#[derive(Debug, Clone)]
pub(crate) struct RetryPolicy {
    pub max_retries: u32,
    pub max_wait: Duration,
}

/// What the host refused or cut short for one instance, each message saying
/// what happened and how to allow it, the instance's secrets redacted
/// (an adapter may put a token in a host name).
#[derive(Debug, Clone)]
pub struct Incidents {
    list: Arc<Mutex<Vec<String>>>,
    secrets: Secrets,
}

impl Incidents {
    /// Incidents of an instance holding `secrets`.
    pub(crate) fn new(secrets: Secrets) -> Self {
        Incidents {
            list: Arc::default(),
            secrets,
        }
    }

    pub(crate) fn record(&self, message: String) {
        let message = self.secrets.redact(&message);
        tracing::warn!("{message}");
        let mut incidents = self
            .list
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if !incidents.contains(&message) {
            incidents.push(message);
        }
    }

    /// Takes the incidents recorded so far.
    pub fn take(&self) -> Vec<String> {
        std::mem::take(
            &mut *self
                .list
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner()),
        )
    }
}
