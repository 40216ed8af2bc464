//! Reporting exactly what an `add` or `remove` call did.
//!
//! The host counts as applied every thing a call was given and did not
//! reject. A call that sends several requests can fail part-way: the things
//! a failed request did not apply must then come back as rejections, with
//! the failure as the reason, or the host would report them as done.
//! [`Outcome`] keeps that account; [`Ledger`] keeps one run from adding and
//! removing the same account.

use crate::{Error, Rejected};
use std::collections::HashMap;

/// What one `add` or `remove` call did, thing by thing.
///
/// ```ignore
/// let mut outcome = Outcome::new();
/// for (email, response) in emails.into_iter().zip(send_all(requests, 8)) {
///     outcome.record(email, response.and_then(|r| r.success("add a member")).map(drop));
/// }
/// outcome.finish()
/// ```
#[derive(Debug, Default)]
pub struct Outcome {
    applied: usize,
    rejected: Vec<Rejected>,
    failure: Option<Error>,
}

impl Outcome {
    /// An outcome with nothing applied yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Notes that one thing was applied.
    pub fn applied(&mut self) {
        self.applied += 1;
    }

    /// Rejects one thing for a reason of its own (unknown here, refused for
    /// this thing only); the call goes on.
    pub fn reject(&mut self, thing: impl Into<String>, reason: impl Into<String>) {
        self.rejected.push(Rejected::new(thing, reason));
    }

    /// Notes that `things` were not applied because a request failed with `error`.
    pub fn failed<I>(&mut self, things: I, error: Error)
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        let reason = format!("not applied: {}", message(&error));
        self.rejected.extend(
            things
                .into_iter()
                .map(|thing| Rejected::new(thing, reason.clone())),
        );
        self.failure.get_or_insert(error);
    }

    /// Notes `result` for `thing`: applied if `Ok`, failed with the error if not.
    pub fn record(&mut self, thing: impl Into<String>, result: Result<(), Error>) {
        match result {
            Ok(()) => self.applied(),
            Err(error) => self.failed([thing], error),
        }
    }

    /// Whether a request has failed, so the caller can stop sending more.
    pub fn has_failed(&self) -> bool {
        self.failure.is_some()
    }

    /// The call's result: the rejections; or, when a request failed and
    /// nothing at all was applied, that first failure as the call's error
    /// (so "nothing was done" reads as such).
    pub fn finish(self) -> Result<Vec<Rejected>, Error> {
        match (self.applied, self.failure) {
            (0, Some(error)) => Err(error),
            _ => Ok(self.rejected),
        }
    }
}

/// The accounts one adapter instance has added and removed in this run, so
/// that a run never adds and removes the same account: two spellings of one
/// person, or one account known under two emails, would otherwise flip it
/// in and out on every run. Undoing a change for the very same thing (a
/// round trip, as the conformance kit makes) is allowed.
///
/// Accounts are whatever identifies a member to the service (a user ID, a
/// login), compared exactly: normalise them (e.g. lower-case) first.
#[derive(Debug, Default)]
pub struct Ledger {
    /// Each account added, and the thing it was added for.
    added: HashMap<String, String>,
    /// Each account removed, and the thing it was removed for.
    removed: HashMap<String, String>,
}

impl Ledger {
    /// An empty ledger.
    pub fn new() -> Self {
        Self::default()
    }

    /// Why `account` (wanted for `thing`) must not be added, if this run
    /// removed it for another thing.
    pub fn refuse_add(&self, account: &str, thing: &str) -> Option<String> {
        Self::clash(&self.removed, account, thing).then(|| clash("removed", account, thing))
    }

    /// Why `account` (wanted for `thing`) must not be removed, if this run
    /// added it for another thing.
    pub fn refuse_remove(&self, account: &str, thing: &str) -> Option<String> {
        Self::clash(&self.added, account, thing).then(|| clash("added", account, thing))
    }

    /// Notes that `account` was added (or found already there) for `thing`.
    pub fn added(&mut self, account: impl Into<String>, thing: impl Into<String>) {
        self.added.insert(account.into(), thing.into());
    }

    /// Notes that `account` was removed (or found already gone) for `thing`.
    pub fn removed(&mut self, account: impl Into<String>, thing: impl Into<String>) {
        self.removed.insert(account.into(), thing.into());
    }

    fn clash(done: &HashMap<String, String>, account: &str, thing: &str) -> bool {
        done.get(account).is_some_and(|done_for| done_for != thing)
    }
}

fn clash(done: &str, account: &str, thing: &str) -> String {
    let undo = if done == "added" { "remove" } else { "add" };
    format!(
        "{thing} is account {account}, which this run already {done} under another spelling; \
         not going to {undo} it in the same run (two spellings of one person, or one account \
         mapped from two emails: make the source and the mapping agree)"
    )
}

/// The text of an error, with its kind, as a rejection reason.
pub fn message(error: &Error) -> String {
    match error {
        Error::InvalidConfig(message) => format!("invalid config: {message}"),
        Error::Unauthorized(message) => format!("unauthorized: {message}"),
        Error::NotFound(message) => format!("not found: {message}"),
        Error::RateLimited(seconds) => {
            format!("rate limited: the service asks to retry in {seconds} s")
        }
        Error::Unsupported(message) => format!("unsupported: {message}"),
        Error::Other(message) => message.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn things(rejected: &[Rejected]) -> Vec<(&str, &str)> {
        rejected
            .iter()
            .map(|r| (r.thing.as_str(), r.reason.as_str()))
            .collect()
    }

    #[test]
    fn a_failure_part_way_rejects_what_was_not_applied_with_the_failure() {
        let mut outcome = Outcome::new();
        outcome.record("ann@x.com", Ok(()));
        outcome.reject("bob@x.com", "no such user");
        outcome.record("cy@x.com", Err(Error::Other("HTTP 500".into())));
        outcome.failed(["dan@x.com"], Error::Other("HTTP 500".into()));
        assert!(outcome.has_failed());
        let rejected = outcome.finish().unwrap();
        assert_eq!(
            things(&rejected),
            [
                ("bob@x.com", "no such user"),
                ("cy@x.com", "not applied: HTTP 500"),
                ("dan@x.com", "not applied: HTTP 500"),
            ]
        );
    }

    #[test]
    fn a_failure_before_anything_was_applied_fails_the_call() {
        let mut outcome = Outcome::new();
        outcome.reject("bob@x.com", "no such user");
        outcome.failed(["ann@x.com"], Error::Unauthorized("bad token".into()));
        outcome.failed(["cy@x.com"], Error::Other("later".into()));
        assert!(matches!(outcome.finish(), Err(Error::Unauthorized(m)) if m == "bad token"));
    }

    #[test]
    fn rejections_alone_are_not_a_failure() {
        let mut outcome = Outcome::new();
        outcome.reject("bob@x.com", "no such user");
        assert!(!outcome.has_failed());
        assert_eq!(outcome.finish().unwrap().len(), 1);
    }

    #[test]
    fn an_account_is_never_added_and_removed_in_one_run() {
        let mut ledger = Ledger::new();
        assert_eq!(ledger.refuse_remove("ann", "ann@x.com"), None);
        ledger.added("ann", "ann@x.com");
        let why = ledger.refuse_remove("ann", "Ann.Smith@x.com").unwrap();
        assert!(why.contains("Ann.Smith@x.com is account ann"), "{why}");
        assert!(why.contains("not going to remove it"), "{why}");
        ledger.removed("bob", "bob@x.com");
        assert!(ledger.refuse_add("bob", "BOB@x.com").is_some());
        assert_eq!(ledger.refuse_add("cy", "cy@x.com"), None);
    }

    #[test]
    fn the_very_same_thing_may_be_undone() {
        let mut ledger = Ledger::new();
        ledger.added("probe", "probe@x.com");
        assert_eq!(ledger.refuse_remove("probe", "probe@x.com"), None);
        ledger.removed("probe", "probe@x.com");
        assert_eq!(ledger.refuse_add("probe", "probe@x.com"), None);
        assert!(ledger.refuse_add("probe", "Probe@x.com").is_some());
    }
}
