//! What Graph's answer to one member change comes to
//! (`POST /groups/{id}/members/$ref`, `DELETE
//! /groups/{id}/members/{user-id}/$ref`), as documented: 204 when done; a
//! 400 "One or more added object references already exist" for a member
//! already there, and a 404 `Request_ResourceNotFound` (or a 400 "One or
//! more removed object references do not exist") for one not there: both
//! what was wanted. A 404 on an add means the object does not exist; but a
//! missing group answers 404 too, with the same message, so a 404 is
//! [`Verdict::Missing`] until the group is checked.

use allsync_sdk::{Error, Outcome};
use entra_api::{Graph, Reply};

/// Which member change is being made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Add,
    Remove,
}

impl Action {
    /// The change of `who` in `group`, to name it in errors.
    pub fn describe(self, who: &str, group: &str) -> String {
        match self {
            Action::Add => format!("add {who} to group {group}"),
            Action::Remove => format!("remove {who} from group {group}"),
        }
    }
}

/// What one member change came to.
#[derive(Debug)]
pub enum Verdict {
    /// Applied, or already so.
    Done,
    /// Refused for this person alone, and why.
    Refused(String),
    /// The request failed; what it did not apply is rejected with this.
    Failed(Error),
    /// Graph answered 404: the group, or the user, does not exist.
    Missing,
}

impl Verdict {
    /// The verdict of `reply` to a change of `action`; `what` names it.
    pub fn of(graph: &Graph, reply: Result<Reply, Error>, action: Action, what: &str) -> Self {
        let reply = match reply {
            Ok(reply) if reply.is_success() => return Verdict::Done,
            Ok(reply) => reply,
            Err(error) => return Verdict::Failed(error),
        };
        let message = reply.message().to_lowercase();
        let already = match action {
            Action::Add => message.contains("already exist"),
            Action::Remove => message.contains("do not exist"),
        };
        match reply.status {
            400 if already => Verdict::Done,
            404 => Verdict::Missing,
            400 => Verdict::Refused(format!(
                "{what}: HTTP 400 {}: {}",
                reply.code(),
                reply.message()
            )),
            _ => Verdict::Failed(graph.failure(&reply, what)),
        }
    }

    /// What a 404 came to, now that the group is known to exist or not:
    /// the user is gone (refused when adding it, done when removing it),
    /// or the group is (the request failed).
    pub fn settle(self, group_exists: &Result<bool, Error>, action: Action, what: &str) -> Self {
        match (self, group_exists, action) {
            (Verdict::Missing, Ok(true), Action::Add) => Verdict::Refused(format!(
                "{what}: the user no longer exists in the directory"
            )),
            (Verdict::Missing, Ok(true), Action::Remove) => Verdict::Done,
            (Verdict::Missing, Ok(false), _) => Verdict::Failed(Error::NotFound(format!(
                "{what}: the group no longer exists"
            ))),
            (Verdict::Missing, Err(error), _) => Verdict::Failed(error.clone()),
            (verdict, _, _) => verdict,
        }
    }

    /// The verdict of a change made of several requests: the first that
    /// failed, else the first refused, else done.
    pub fn combine(verdicts: Vec<Verdict>) -> Self {
        let mut combined = Verdict::Done;
        for verdict in verdicts {
            combined = match (combined, verdict) {
                (Verdict::Failed(error), _) | (_, Verdict::Failed(error)) => Verdict::Failed(error),
                (Verdict::Refused(why), _) | (_, Verdict::Refused(why)) => Verdict::Refused(why),
                (done, _) => done,
            };
        }
        combined
    }

    /// Notes in `outcome` what this verdict, [settled](Verdict::settle),
    /// did for `thing`.
    pub fn record(self, outcome: &mut Outcome, thing: String) {
        match self {
            Verdict::Done => outcome.applied(),
            Verdict::Missing => unreachable!("a 404 is settled before it is recorded"),
            Verdict::Refused(why) => outcome.reject(thing, why),
            Verdict::Failed(error) => outcome.failed([thing], error),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use allsync_sdk::Config;
    use serde_json::json;

    fn graph() -> Graph {
        Graph::from_config(&Config::default(), "GroupMember.ReadWrite.All").unwrap()
    }

    fn graph_error(status: u16, code: &str, message: &str) -> Result<Reply, Error> {
        Ok(Reply {
            status,
            headers: Vec::new(),
            body: json!({ "error": { "code": code, "message": message, "innerError": {} } }),
        })
    }

    fn verdict(reply: Result<Reply, Error>, action: Action) -> Verdict {
        Verdict::of(&graph(), reply, action, "change ada")
    }

    #[test]
    fn already_a_member_and_not_a_member_are_what_was_wanted() {
        let exists = graph_error(
            400,
            "Request_BadRequest",
            "One or more added object references already exist for the following modified properties: 'members'.",
        );
        assert!(matches!(verdict(exists, Action::Add), Verdict::Done));
        let gone = graph_error(
            400,
            "Request_BadRequest",
            "One or more removed object references do not exist for the following modified properties: 'members'.",
        );
        assert!(matches!(verdict(gone, Action::Remove), Verdict::Done));
        let not_found = graph_error(
            404,
            "Request_ResourceNotFound",
            "Resource 'g1' does not exist or one of its queried reference-property objects are not present.",
        );
        let missing = verdict(not_found, Action::Remove);
        assert!(matches!(
            missing.settle(&Ok(true), Action::Remove, "remove ada"),
            Verdict::Done
        ));
    }

    #[test]
    fn a_404_is_the_users_alone_unless_the_group_is_gone() {
        let settle = |group_exists, action| {
            Verdict::Missing.settle(&group_exists, action, "add ada to group g1")
        };
        assert!(matches!(settle(Ok(true), Action::Add),
            Verdict::Refused(why) if why == "add ada to group g1: the user no longer exists in the directory"));
        assert!(matches!(settle(Ok(false), Action::Remove),
            Verdict::Failed(Error::NotFound(why)) if why == "add ada to group g1: the group no longer exists"));
        assert!(matches!(
            settle(Err(Error::Other("HTTP 500".into())), Action::Add),
            Verdict::Failed(Error::Other(_))
        ));
    }

    #[test]
    fn other_bad_requests_are_refused_for_that_person_and_the_rest_fail_the_request() {
        let bad = graph_error(400, "Request_BadRequest", "Invalid object identifier 'x'.");
        assert!(matches!(verdict(bad, Action::Add),
            Verdict::Refused(why) if why == "change ada: HTTP 400 Request_BadRequest: Invalid object identifier 'x'."));
        let exists_on_remove = graph_error(400, "Request_BadRequest", "references already exist");
        assert!(matches!(
            verdict(exists_on_remove, Action::Remove),
            Verdict::Refused(_)
        ));
        for reply in [
            graph_error(401, "InvalidAuthenticationToken", "Access token is empty."),
            graph_error(500, "UnknownError", ""),
            graph_error(429, "TooManyRequests", "Please retry again later."),
            Err(Error::Other("POST ...: connection refused".into())),
        ] {
            assert!(matches!(verdict(reply, Action::Add), Verdict::Failed(_)));
        }
    }

    #[test]
    fn a_change_of_several_requests_is_done_only_if_each_is() {
        assert!(matches!(
            Verdict::combine(vec![Verdict::Done, Verdict::Done]),
            Verdict::Done
        ));
        let mixed = Verdict::combine(vec![
            Verdict::Done,
            Verdict::Refused("no".into()),
            Verdict::Failed(Error::Other("HTTP 500".into())),
        ]);
        assert!(matches!(mixed, Verdict::Failed(_)));
    }
}
