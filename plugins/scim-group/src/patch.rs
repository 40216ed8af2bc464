//! Changing a group's members with `PATCH /Groups/{id}` (RFC 7644
//! §3.5.2): one `add` of `members` carrying the users' ids, or one `remove`
//! per user with the path `members[value eq "<id>"]`, in batches.
//!
//! A PATCH is atomic ("If a single operation encounters an error condition,
//! the original SCIM resource MUST be restored"), so a refused batch changed
//! nothing, and an answer that may be about one member (`noTarget`,
//! `invalidValue`, `uniqueness`, 409) or about the batch's size (`tooMany`,
//! 413 as §3.7.4 answers too many bulk operations) is worth splitting the
//! batch for: in halves, down to single members.

use crate::scim::{PATCH_OP, Problem, describe, failure};
use allsync_sdk::Error;
use allsync_sdk::http::Response;
use serde_json::{Value, json};

/// The most membership changes per request AWS IAM Identity Center allows
/// ("A maximum of 100 membership changes are allowed in a single request").
pub const DEFAULT_BATCH: usize = 100;

/// Which change is being made to the group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Add,
    Remove,
}

/// What the answer to one batch comes to.
#[derive(Debug)]
pub enum Verdict {
    /// Applied, or already so: an `add` of a member (409, `uniqueness`), a
    /// `remove` of someone not in the group (`noTarget`).
    Done,
    /// Refused over some member, or its size: send each half on its own.
    Split,
    /// The one member of the batch refused, and why.
    Refused(String),
    /// The request failed; its changes were not applied.
    Failed(Error),
}

impl Action {
    /// The PATCH body making this change for users `ids`. `display` is left
    /// out: AWS IAM Identity Center does not support it on `members`.
    pub fn body(self, ids: &[&str]) -> Value {
        let operations: Vec<Value> = match self {
            Action::Add => {
                let members: Vec<Value> = ids.iter().map(|id| json!({ "value": id })).collect();
                vec![json!({ "op": "add", "path": "members", "value": members })]
            }
            Action::Remove => ids
                .iter()
                .map(|id| json!({ "op": "remove", "path": member_path(id) }))
                .collect(),
        };
        json!({ "schemas": [PATCH_OP], "Operations": operations })
    }

    /// The change of `count` members of `group`, to name it in messages;
    /// `one` names the member when there is just one.
    pub fn describe(self, count: usize, one: &str, group: &str) -> String {
        let who = match count {
            1 => one.to_string(),
            _ => format!("{count} members"),
        };
        match self {
            Action::Add => format!("add {who} to group {group}"),
            Action::Remove => format!("remove {who} from group {group}"),
        }
    }

    /// What the answer to a batch of `size` changes comes to; `what` names
    /// the change.
    pub fn verdict(self, response: Result<Response, Error>, size: usize, what: &str) -> Verdict {
        let response = match response {
            Ok(response) if response.is_success() => return Verdict::Done,
            Ok(response) => response,
            Err(error) => return Verdict::Failed(error),
        };
        let problem = Problem::of(&response);
        let conflict = response.status == 409 || problem.is("uniqueness");
        let worth_splitting = conflict
            || response.status == 413
            || ["tooMany", "noTarget", "invalidValue"]
                .iter()
                .any(|scim_type| problem.is(scim_type));
        match self {
            _ if worth_splitting && size > 1 => Verdict::Split,
            Action::Add if conflict => Verdict::Done,
            Action::Remove if problem.is("noTarget") => Verdict::Done,
            _ if problem.is("invalidValue") => {
                Verdict::Refused(format!("{what}: {}", describe(&response)))
            }
            _ => Verdict::Failed(failure(&response, what)),
        }
    }
}

/// The path selecting member `id` (RFC 7644 §3.5.2, Figure 8), the id
/// written as a JSON string.
fn member_path(id: &str) -> String {
    format!("members[value eq {}]", Value::String(id.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scim::tests::answer;

    fn scim_error(status: u16, scim_type: &str) -> Result<Response, Error> {
        let body = json!({ "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"], "status": status.to_string(), "scimType": scim_type, "detail": "refused" });
        Ok(answer(status, &body.to_string()))
    }

    #[test]
    fn additions_are_one_operation_and_removals_one_per_member() {
        assert_eq!(
            Action::Add.body(&["u1", "u2"]),
            json!({ "schemas": [PATCH_OP], "Operations": [
                { "op": "add", "path": "members", "value": [{ "value": "u1" }, { "value": "u2" }] }
            ] })
        );
        assert_eq!(
            Action::Remove.body(&["u1", r#"odd"id"#]),
            json!({ "schemas": [PATCH_OP], "Operations": [
                { "op": "remove", "path": "members[value eq \"u1\"]" },
                { "op": "remove", "path": "members[value eq \"odd\\\"id\"]" }
            ] })
        );
    }

    #[test]
    fn an_answer_about_some_member_splits_the_batch() {
        for refusal in ["tooMany", "noTarget", "invalidValue", "uniqueness"] {
            for action in [Action::Add, Action::Remove] {
                let verdict = action.verdict(scim_error(400, refusal), 4, "change");
                assert!(matches!(verdict, Verdict::Split), "{refusal}: {verdict:?}");
            }
        }
        let conflict = Action::Add.verdict(Ok(answer(409, "{}")), 2, "add");
        assert!(matches!(conflict, Verdict::Split));
        let too_large = Action::Remove.verdict(Ok(answer(413, "{}")), 2, "remove");
        assert!(matches!(too_large, Verdict::Split));
    }

    #[test]
    fn already_a_member_and_not_a_member_are_what_was_wanted() {
        assert!(matches!(
            Action::Add.verdict(Ok(answer(409, "{}")), 1, "add"),
            Verdict::Done
        ));
        assert!(matches!(
            Action::Add.verdict(scim_error(400, "uniqueness"), 1, "add"),
            Verdict::Done
        ));
        assert!(matches!(
            Action::Remove.verdict(scim_error(400, "noTarget"), 1, "remove"),
            Verdict::Done
        ));
        assert!(matches!(
            Action::Add.verdict(Ok(answer(204, "")), 3, "add"),
            Verdict::Done
        ));
    }

    #[test]
    fn one_member_refused_is_rejected_alone_with_the_services_words() {
        let verdict = Action::Add.verdict(scim_error(400, "invalidValue"), 1, "add ann to group g");
        assert!(matches!(verdict, Verdict::Refused(why)
            if why == "add ann to group g: HTTP 400 (invalidValue): refused"));
    }

    #[test]
    fn outages_bad_credentials_a_missing_group_and_lost_connections_fail_the_batch() {
        let cases = [
            Ok(answer(500, "{}")),
            Ok(answer(401, "{}")),
            Ok(answer(404, "{}")),
            scim_error(400, "invalidSyntax"),
            scim_error(400, "tooMany"),
            Ok(answer(413, "{}")),
            Err(Error::Other("PATCH ...: connection refused".into())),
        ];
        for response in cases {
            let verdict = Action::Remove.verdict(response, 1, "remove");
            assert!(matches!(verdict, Verdict::Failed(_)), "{verdict:?}");
        }
    }

    #[test]
    fn a_change_is_named_by_its_member_when_there_is_one() {
        assert_eq!(
            Action::Add.describe(1, "ann (user u1)", "eng"),
            "add ann (user u1) to group eng"
        );
        assert_eq!(
            Action::Remove.describe(3, "ann", "eng"),
            "remove 3 members from group eng"
        );
    }
}
