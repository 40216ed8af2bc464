//! What a job did (or would do), per destination, ready to print or serialise.

use super::options::Mode;
use super::plan::Plan;
use serde::{Deserialize, Serialize};

/// How one destination ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// Already matches the source: no change was needed, no write was made.
    UpToDate,
    /// Planning only: the plan has changes that a sync would make.
    Pending,
    /// The plan was applied (see `rejected` for things the adapter refused).
    Applied,
    /// A guard (`max_changes`, the empty-source guard) stopped it before any write.
    Blocked,
    /// An adapter call failed; see `error`.
    Failed,
    /// Its plan is no longer the one a saved plan expected: nothing was written; see `error`.
    Stale,
}

/// Whether a rejected thing was being added or removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Operation {
    /// `add`
    Add,
    /// `remove`
    Remove,
}

impl std::fmt::Display for Operation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Operation::Add => "add",
            Operation::Remove => "remove",
        })
    }
}

/// One thing a destination refused, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rejection {
    /// Whether it was being added or removed.
    pub operation: Operation,
    /// The thing.
    pub thing: String,
    /// The adapter's reason.
    pub reason: String,
}

/// What happened to one destination.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DestinationReport {
    /// The destination's name in the config.
    pub name: String,
    /// The mode it was synced in.
    pub mode: Mode,
    /// How it ended.
    pub status: Status,
    /// The plan, when the destination could be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plan: Option<Plan>,
    /// Things added by this run.
    pub added: Vec<String>,
    /// Things removed by this run.
    pub removed: Vec<String>,
    /// Things the adapter refused to add or remove.
    pub rejected: Vec<Rejection>,
    /// Why it failed or was blocked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl DestinationReport {
    pub(super) fn new(name: String, mode: Mode) -> Self {
        DestinationReport {
            name,
            mode,
            status: Status::UpToDate,
            plan: None,
            added: Vec::new(),
            removed: Vec::new(),
            rejected: Vec::new(),
            error: None,
        }
    }

    pub(super) fn fail(mut self, error: impl ToString) -> Self {
        self.status = Status::Failed;
        self.error = Some(error.to_string());
        self
    }
}

/// What the source returned.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SourceReport {
    /// How many things it returned, if it could be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub count: Option<usize>,
    /// Why it could not be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// What happened in one job.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JobReport {
    /// The job's name in the config.
    pub name: String,
    /// The source's outcome.
    pub source: SourceReport,
    /// Each destination's outcome, in config order.
    pub destinations: Vec<DestinationReport>,
}
