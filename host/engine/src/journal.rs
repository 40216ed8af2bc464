//! Where a destination's writes are recorded as they happen (the audit log):
//! before each adapter call, what it is about to change; after it, what came
//! of it. A record that cannot be kept stops the destination before its next
//! write, so no change goes unrecorded. Where additions and removals may go
//! in one call, both attempts are recorded before it; if the adapter declines
//! such a call (changing nothing), the separate calls that follow are not
//! announced again.

use super::report::{Operation, Rejection};

/// One record of a destination's writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entry<'a> {
    /// The adapter is about to be asked to make these changes.
    Attempt {
        /// Adding or removing.
        operation: Operation,
        /// What it will be asked to change.
        things: &'a [String],
    },
    /// The adapter made these changes.
    Done {
        /// Adding or removing.
        operation: Operation,
        /// What it changed.
        things: &'a [String],
    },
    /// The adapter refused one thing.
    Rejected(&'a Rejection),
    /// The call failed: the things may or may not have been changed.
    Failed {
        /// Adding or removing.
        operation: Operation,
        /// What it was asked to change.
        things: &'a [String],
        /// Why it failed.
        error: &'a str,
    },
}

/// Keeps a destination's records, durably, before the run goes on.
pub trait Journal: Send + Sync {
    /// Records `entries` (those of one adapter call); an error says why they
    /// could not be kept, and the destination writes nothing more.
    fn record(&self, entries: &[Entry<'_>]) -> Result<(), String>;
}
