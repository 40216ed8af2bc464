//! Opsgenie's answers (https://docs.opsgenie.com/docs/response): a 2xx
//! with `{"data": ..., "took", "requestId"}`, or an error status with
//! `{"message": ..., "took", "requestId"}`. The statuses that matter here:
//!
//! - 401 "apiKey is invalid or integration is disabled" (a key used on the
//!   other instance, US or EU, is invalid there too);
//! - 402 "the account cannot do this action because of subscription plan";
//! - 403 (internal code 40301) "apiKey is valid but the apiKey cannot do
//!   this operation because of permissions", which is also the answer when
//!   a team integration's key asks for a schedule its team may not access;
//! - 404 "Resource or handler not found";
//! - 422 "Semantic errors in request body";
//! - 429, a rate limit (https://docs.opsgenie.com/docs/api-rate-limiting),
//!   sent with `X-RateLimit-State: THROTTLED`, `X-RateLimit-Reason` and
//!   `X-RateLimit-Period-In-Sec` (60 when the per-minute bucket is spent, 1
//!   for the per-second one), and no `Retry-After`. The host waits 429s out
//!   with backoff; one it gave up on comes back here as `rate-limited` with
//!   that period.

use allsync_sdk::Error;
use allsync_sdk::http::Response;
use serde_json::Value;

/// What to do about a 403.
const FORBIDDEN: &str = "the API key may not do this: give it the Read and Configuration access \
                         rights (and Create and Update to change a schedule), or, for a team \
                         integration's key, use one whose team may access this schedule";
/// What to do about a 401.
const UNAUTHENTICATED: &str = "check `api_key`, and `region`: a key is valid only on its own \
                               Opsgenie instance, US or EU";

/// `response` if it came back with a 2xx status, else the error it stands
/// for (see [`error`]); a request that got no answer fails as it came.
pub fn checked(response: Result<Response, Error>, what: &str) -> Result<Response, Error> {
    let response = response?;
    match response.is_success() {
        true => Ok(response),
        false => Err(error(&response, what)),
    }
}

/// The error an Opsgenie error answer to `what` stands for: 429
/// `rate-limited` (for `X-RateLimit-Period-In-Sec`), 401 and 403
/// `unauthorized`, 404 `not-found`, the rest `other`; the message names the
/// operation, the status, Opsgenie's message and request ID, and what to do.
pub fn error(response: &Response, what: &str) -> Error {
    if response.status == 429 {
        return Error::RateLimited(throttled_for(response));
    }
    let detail = format!(
        "{what}: Opsgenie answered HTTP {}: {}",
        response.status,
        message(response)
    );
    match response.status {
        401 => Error::Unauthorized(format!("{detail} ({UNAUTHENTICATED})")),
        403 => Error::Unauthorized(format!("{detail} ({FORBIDDEN})")),
        402 => Error::Other(format!(
            "{detail} (the account's Opsgenie plan does not allow this)"
        )),
        404 => Error::NotFound(detail),
        _ => Error::Other(detail),
    }
}

/// Seconds a 429 asks to wait: `X-RateLimit-Period-In-Sec`, else
/// `Retry-After`, else 1.
fn throttled_for(response: &Response) -> u32 {
    response
        .header("x-ratelimit-period-in-sec")
        .and_then(|period| period.trim().parse().ok())
        .or_else(|| response.retry_after())
        .unwrap_or(1)
}

/// Opsgenie's `message`, with the request ID to quote to Opsgenie's support
/// when there is one; else the start of the body.
pub fn message(response: &Response) -> String {
    let body: Value = response.json().unwrap_or_default();
    let text = match body["message"].as_str() {
        Some(message) => message.to_string(),
        None if response.body.is_empty() => "no message".to_string(),
        None => response.text().chars().take(200).collect(),
    };
    match body["requestId"].as_str() {
        Some(id) => format!("{text} (request ID {id})"),
        None => text,
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

    fn opsgenie(status: u16, message: &str) -> Response {
        let body = format!(r#"{{"message":"{message}","took":0.002,"requestId":"r-1"}}"#);
        answer(status, &[], &body)
    }

    #[test]
    fn a_bad_key_says_to_check_the_key_and_the_region() {
        let error = error(
            &opsgenie(401, "Could not authenticate"),
            "read schedule `ops`",
        );
        assert!(
            matches!(&error, Error::Unauthorized(m) if m.starts_with(
                "read schedule `ops`: Opsgenie answered HTTP 401: Could not authenticate (request ID r-1) (check `api_key`, and `region`"
            )),
            "{error:?}"
        );
    }

    #[test]
    fn missing_rights_name_the_rights_to_give() {
        let answer = opsgenie(403, "You are not authorized for this action!");
        let error = error(&answer, "update rotation");
        assert!(
            matches!(&error, Error::Unauthorized(m) if m.contains("the Read and Configuration access rights (and Create and Update")),
            "{error:?}"
        );
    }

    #[test]
    fn a_throttled_request_waits_the_period_opsgenie_names() {
        let throttled = answer(
            429,
            &[
                ("X-RateLimit-State", "THROTTLED"),
                ("X-RateLimit-Reason", "ACCOUNT"),
                ("X-RateLimit-Period-In-Sec", "60"),
            ],
            r#"{"message":"TooManyRequests","took":0.0,"requestId":"r-2"}"#,
        );
        assert!(matches!(error(&throttled, "read"), Error::RateLimited(60)));
        assert!(matches!(
            error(&answer(429, &[], ""), "read"),
            Error::RateLimited(1)
        ));
    }

    #[test]
    fn other_failures_keep_their_kind_and_message() {
        assert!(matches!(
            error(&opsgenie(404, "Schedule not found"), "read"),
            Error::NotFound(m) if m == "read: Opsgenie answered HTTP 404: Schedule not found (request ID r-1)"
        ));
        assert!(matches!(
            error(&opsgenie(422, "Invalid participant"), "update"),
            Error::Other(m) if m.contains("HTTP 422: Invalid participant")
        ));
        assert!(matches!(
            error(&answer(502, &[], "<html>bad gateway</html>"), "read"),
            Error::Other(m) if m == "read: Opsgenie answered HTTP 502: <html>bad gateway</html>"
        ));
        assert!(matches!(
            error(&opsgenie(402, "Upgrade"), "update"),
            Error::Other(m) if m.ends_with("(the account's Opsgenie plan does not allow this)")
        ));
    }

    #[test]
    fn a_success_passes_and_no_answer_fails_as_it_came() {
        assert!(checked(Ok(answer(200, &[], "{}")), "read").is_ok());
        let lost = Err(Error::Other("GET ...: connection refused".into()));
        assert!(
            matches!(checked(lost, "read"), Err(Error::Other(m)) if m.ends_with("connection refused"))
        );
    }
}
