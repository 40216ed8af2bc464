//! The API's answers as allsync sees them. Errors are JSON:API error
//! objects, `{"errors": [{"status", "title", "detail"}]}`; "the 401 status
//! code is reserved for problems with the authentication token; forbidden
//! requests with a valid token result in a 404", and a 404 also stands for
//! what does not exist, so its message says to check both.

use allsync_sdk::http::Response;
use allsync_sdk::{Error, Outcome};
use serde_json::Value;

/// What the answer to one write comes to.
#[derive(Debug)]
pub enum Verdict {
    /// Applied, with the API's answer.
    Done(Response),
    /// Refused for this thing alone (an invalid or taken name or email),
    /// and why.
    Refused(String),
    /// The request failed; what it did not apply is rejected with this.
    Failed(Error),
}

impl Verdict {
    /// What `response` to the write `what` comes to: a status in `refusals`
    /// is the thing's own refusal; any other failure is the request's.
    pub fn of(response: Result<Response, Error>, what: &str, refusals: &[u16]) -> Self {
        match response {
            Err(error) => Verdict::Failed(error),
            Ok(response) if refusals.contains(&response.status) => Verdict::Refused(format!(
                "{what}: HTTP {}: {}",
                response.status,
                detail(&response)
            )),
            Ok(response) => match checked(response, what) {
                Ok(response) => Verdict::Done(response),
                Err(error) => Verdict::Failed(error),
            },
        }
    }

    /// Notes this verdict for `thing` in `outcome`; the answer, if applied.
    pub fn settle(self, thing: String, outcome: &mut Outcome) -> Option<Response> {
        match self {
            Verdict::Done(response) => {
                outcome.applied();
                Some(response)
            }
            Verdict::Refused(reason) => {
                outcome.reject(thing, reason);
                None
            }
            Verdict::Failed(error) => {
                outcome.failed([thing], error);
                None
            }
        }
    }
}

/// `response` if it is a success; otherwise its error, saying what `what`
/// met and what to check: a rate limit (as [`Response::success`] tells
/// it), 401 `unauthorized`, 404 `not-found`, anything else `other`.
pub fn checked(response: Response, what: &str) -> Result<Response, Error> {
    if response.is_success() || response.rate_limited().is_some() {
        return response.success(what);
    }
    let failure = format!("{what}: HTTP {}: {}", response.status, detail(&response));
    Err(match response.status {
        401 => Error::Unauthorized(format!(
            "{failure} (the token is missing, invalid or expired)"
        )),
        403 => Error::Unauthorized(failure),
        404 => Error::NotFound(format!(
            "{failure} (HCP Terraform answers 404 both for what does not exist and for what \
             the token may not see: check the names and the token's permissions)"
        )),
        _ => Error::Other(failure),
    })
}

/// The `detail`s (else `title`s) of a JSON:API error answer, joined; else
/// the start of the body.
pub fn detail(response: &Response) -> String {
    let body: Value = response.json().unwrap_or_default();
    let details: Vec<&str> = body["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|error| error["detail"].as_str().or(error["title"].as_str()))
        .collect();
    match details.is_empty() {
        true => response.text().chars().take(200).collect(),
        false => details.join("; "),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, headers: &[(&str, &str)], body: &str) -> Response {
        Response {
            status,
            headers: headers
                .iter()
                .map(|(name, value)| (name.to_string(), value.to_string()))
                .collect(),
            body: body.as_bytes().to_vec(),
        }
    }

    const TAKEN: &str = r#"{"errors":[{"status":"422","title":"invalid attribute","detail":"Email has already been taken"}]}"#;

    #[test]
    fn a_refusal_of_the_thing_itself_is_its_own_with_the_apis_detail() {
        let verdict = Verdict::of(Ok(answer(422, &[], TAKEN)), "invite ann@x.com", &[422]);
        assert!(matches!(
            verdict,
            Verdict::Refused(reason) if reason == "invite ann@x.com: HTTP 422: Email has already been taken"
        ));
    }

    #[test]
    fn bad_credentials_outages_and_unknown_targets_fail_the_request() {
        let cases = [
            (
                Ok(answer(
                    401,
                    &[],
                    r#"{"errors":[{"status":"401","title":"unauthorized"}]}"#,
                )),
                "unauthorized",
            ),
            (
                Ok(answer(
                    404,
                    &[],
                    r#"{"errors":[{"status":"404","title":"not found"}]}"#,
                )),
                "not found",
            ),
            (Ok(answer(500, &[], "oops")), "oops"),
            (
                Err(Error::Other("POST ...: connection refused".into())),
                "connection refused",
            ),
        ];
        for (response, says) in cases {
            match Verdict::of(response, "invite", &[422]) {
                Verdict::Failed(error) => {
                    let message = allsync_sdk::message(&error);
                    assert!(message.contains(says), "{message}");
                }
                other => panic!("{other:?}"),
            }
        }
        assert!(matches!(
            Verdict::of(Ok(answer(201, &[], "{}")), "invite", &[422]),
            Verdict::Done(_)
        ));
    }

    #[test]
    fn errors_say_what_failed_and_what_to_check() {
        let unauthorized = checked(
            answer(
                401,
                &[],
                r#"{"errors":[{"status":"401","title":"unauthorized"}]}"#,
            ),
            "list teams",
        );
        assert!(matches!(
            unauthorized,
            Err(Error::Unauthorized(m)) if m == "list teams: HTTP 401: unauthorized (the token is missing, invalid or expired)"
        ));
        let hidden = checked(
            answer(
                404,
                &[],
                r#"{"errors":[{"status":"404","title":"not found"}]}"#,
            ),
            "list teams",
        );
        assert!(matches!(
            hidden,
            Err(Error::NotFound(m)) if m.starts_with("list teams: HTTP 404: not found (HCP Terraform answers 404 both")
        ));
    }

    #[test]
    fn a_429_with_the_seconds_to_reset_is_a_rate_limit_of_that_long() {
        let limited = answer(
            429,
            &[
                ("x-ratelimit-limit", "30"),
                ("x-ratelimit-remaining", "0"),
                ("x-ratelimit-reset", "2.4"),
            ],
            r#"{"errors":[{"detail":"You have exceeded the API's rate limit.","status":429,"title":"Too many requests"}]}"#,
        );
        assert!(matches!(
            checked(limited, "list"),
            Err(Error::RateLimited(3))
        ));
    }

    #[test]
    fn details_are_joined_and_a_body_without_errors_is_quoted() {
        let two = answer(
            422,
            &[],
            r#"{"errors":[{"title":"invalid","detail":"Name is invalid"},{"title":"taken"}]}"#,
        );
        assert_eq!(detail(&two), "Name is invalid; taken");
        assert_eq!(detail(&answer(502, &[], "Bad Gateway")), "Bad Gateway");
    }
}
