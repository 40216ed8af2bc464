//! Slack's answers (https://api.slack.com/web#responses): HTTP 200 with
//! `{"ok": true, ...}`, or with `{"ok": false, "error": "<code>"}` for most
//! failures; HTTP 429 with `Retry-After` for rate limits
//! (https://api.slack.com/apis/rate-limits), which the allsync host waits
//! out before the adapter sees them.

use allsync_sdk::Error;
use allsync_sdk::http::Response;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// A Slack answer that came back with a 2xx status: `ok: true` with its
/// fields, or `ok: false` with an error code (and, for some methods, more).
#[derive(Debug, Clone)]
pub struct Reply {
    method: String,
    body: Value,
    retry_after: Option<u32>,
}

impl Reply {
    /// Reads the answer to a call of `method`; an HTTP failure (a 429 the
    /// host gave up waiting out, a 5xx, no answer at all) or a body that is
    /// not JSON is the error.
    pub fn read(method: &str, response: Result<Response, Error>) -> Result<Self, Error> {
        let response = response?;
        let retry_after = response.retry_after();
        let body = response.success(&format!("Slack {method}"))?.json()?;
        Ok(Reply {
            method: method.to_string(),
            body,
            retry_after,
        })
    }

    /// The answer `body` to a call of `method`, as if read from Slack.
    pub fn new(method: &str, body: Value) -> Self {
        Reply {
            method: method.to_string(),
            body,
            retry_after: None,
        }
    }

    /// The error code of an `ok: false` answer; `None` when `ok: true`.
    pub fn refusal(&self) -> Option<&str> {
        match self.body["ok"] {
            Value::Bool(true) => None,
            _ => Some(self.body["error"].as_str().unwrap_or("unknown_error")),
        }
    }

    /// The error an `ok: false` answer stands for (see [`slack_error`]).
    pub fn error(&self) -> Error {
        let code = self.refusal().unwrap_or("unknown_error");
        slack_error(&self.method, code, &self.body, self.retry_after)
    }

    /// Field `name` of the answer as `T`, if it is there and has that shape
    /// (`ok: false` answers can carry fields too, such as `errors`).
    pub fn field<T: DeserializeOwned>(&self, name: &str) -> Option<T> {
        serde_json::from_value(self.body.get(name)?.clone()).ok()
    }

    /// The fields of an `ok: true` answer as `T`; else the error it stands for.
    pub fn parse<T: DeserializeOwned>(self) -> Result<T, Error> {
        if self.refusal().is_some() {
            return Err(self.error());
        }
        serde_json::from_value(self.body)
            .map_err(|err| Error::Other(format!("Slack {}: unexpected answer: {err}", self.method)))
    }
}

/// The WIT error that Slack error `code`, answered to `method`, stands for:
/// bad or under-scoped tokens are `unauthorized`, `ratelimited` is
/// `rate-limited`, unknown groups, channels and users are `not-found`, the
/// rest `other`; the message names the method and the code, and says what
/// to do where Slack's documentation does.
fn slack_error(method: &str, code: &str, body: &Value, retry_after: Option<u32>) -> Error {
    let message = match hint(code, body) {
        Some(hint) => format!("Slack {method} failed: {code} ({hint})"),
        None => format!("Slack {method} failed: {code}"),
    };
    match code {
        "invalid_auth"
        | "not_authed"
        | "account_inactive"
        | "token_revoked"
        | "token_expired"
        | "missing_scope"
        | "no_permission"
        | "permission_denied"
        | "not_allowed_token_type"
        | "access_denied"
        | "ekm_access_denied" => Error::Unauthorized(message),
        "ratelimited" => Error::RateLimited(retry_after.unwrap_or(1)),
        "users_not_found" | "user_not_found" | "no_such_subteam" | "subteam_not_found"
        | "channel_not_found" => Error::NotFound(message),
        _ => Error::Other(message),
    }
}

/// What to do about Slack error `code`, where there is something to say.
fn hint(code: &str, body: &Value) -> Option<String> {
    let hint = match code {
        "invalid_auth" | "not_authed" | "account_inactive" | "token_revoked" | "token_expired" => {
            "check `token`: a bot token (xoxb-...) of a Slack app installed in this workspace"
        }
        "missing_scope" => {
            let needed = body["needed"].as_str().unwrap_or("one this call needs");
            return Some(format!(
                "the token lacks the scope {needed}: add it to the Slack app and reinstall the app"
            ));
        }
        "permission_denied" => {
            "the workspace's settings do not let this token do this: allow it in Slack's \
             workspace settings, or use the token of a user who may"
        }
        "no_permission" => {
            "the token may not do this here: check the app's scopes, and that its bot user is \
             in the channel"
        }
        "no_such_subteam" | "subteam_not_found" => "check `usergroup`: the user group's ID, S...",
        "channel_not_found" => {
            "check `channel`: the channel's ID, C..., which the app's bot user must be able to see"
        }
        "not_in_channel" => "the app's bot user must be in the channel: add the app to it first",
        "is_archived" => "the channel is archived: unarchive it, or stop syncing it",
        "invalid_users" | "failed_for_some_users" | "single_channel_guests_cannot_be_added" => {
            "Slack refused a user ID: bots, guests and deactivated accounts cannot be in a \
             user group, nor can users of another workspace"
        }
        _ => return None,
    };
    Some(hint.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn refused(method: &str, body: Value) -> Error {
        Reply::new(method, body).error()
    }

    #[test]
    fn bad_tokens_and_missing_scopes_are_unauthorized_and_say_what_to_do() {
        let error = refused(
            "usergroups.users.list",
            json!({ "ok": false, "error": "invalid_auth" }),
        );
        assert!(
            matches!(&error, Error::Unauthorized(m) if m.starts_with("Slack usergroups.users.list failed: invalid_auth (check `token`")),
            "{error:?}"
        );
        let error = refused(
            "usergroups.users.update",
            json!({ "ok": false, "error": "missing_scope", "needed": "usergroups:write", "provided": "usergroups:read" }),
        );
        assert!(
            matches!(&error, Error::Unauthorized(m) if m.contains("lacks the scope usergroups:write")),
            "{error:?}"
        );
    }

    #[test]
    fn unknown_groups_and_channels_are_not_found_and_rate_limits_keep_their_wait() {
        let error = refused(
            "conversations.members",
            json!({ "ok": false, "error": "channel_not_found" }),
        );
        assert!(
            matches!(&error, Error::NotFound(m) if m.contains("check `channel`")),
            "{error:?}"
        );
        let error = refused("users.info", json!({ "ok": false, "error": "ratelimited" }));
        assert!(matches!(error, Error::RateLimited(1)), "{error:?}");
    }

    #[test]
    fn a_refused_user_id_says_which_accounts_slack_refuses() {
        let error = refused(
            "usergroups.users.update",
            json!({ "ok": false, "error": "invalid_users" }),
        );
        assert!(
            matches!(&error, Error::Other(m) if m.contains("bots, guests and deactivated accounts")),
            "{error:?}"
        );
    }

    #[test]
    fn an_ok_answer_parses_and_an_unknown_shape_says_so() {
        let members: Vec<String> = Reply::new(
            "usergroups.users.list",
            json!({ "ok": true, "users": ["U1"] }),
        )
        .field("users")
        .unwrap();
        assert_eq!(members, ["U1"]);
        let error = Reply::new("users.info", json!({ "ok": true }))
            .parse::<Vec<String>>()
            .unwrap_err();
        assert!(
            matches!(&error, Error::Other(m) if m.starts_with("Slack users.info: unexpected answer")),
            "{error:?}"
        );
    }
}
