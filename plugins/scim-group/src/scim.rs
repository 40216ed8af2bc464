//! The parts of the SCIM 2.0 protocol (RFC 7644) this adapter speaks:
//! authenticated requests, `eq` filters (§3.4.2.2), list responses
//! (§3.4.2), and error responses (§3.12), turned into allsync errors.

use allsync_sdk::Error;
use allsync_sdk::http::{Request, Response, encode};
use serde::Deserialize;
use serde::de::DeserializeOwned;

/// The media type of SCIM requests and responses (RFC 7644 §3.1).
const SCIM_JSON: &str = "application/scim+json";
/// The URN of a PATCH request body (RFC 7644 §3.5.2).
pub const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
/// Error text kept from a body that is not a SCIM error.
const SNIPPET: usize = 200;

/// One SCIM service provider: its base URL and bearer token.
#[derive(Debug, Clone)]
pub struct Service {
    base: String,
    token: String,
}

impl Service {
    /// The service at `base` (trailing `/` dropped), called with `token`.
    pub fn new(base: &str, token: &str) -> Self {
        Service {
            base: base.trim_end_matches('/').to_string(),
            token: token.to_string(),
        }
    }

    /// The base URL, to name it in messages.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// A `GET` of `path` (`/Users?...`) under the base URL.
    pub fn get(&self, path: &str) -> Request {
        self.authorised(Request::get(&format!("{}{path}", self.base)))
    }

    /// A `PATCH` of `path` with a JSON `body`.
    pub fn patch(&self, path: &str, body: &serde_json::Value) -> Request {
        self.authorised(Request::patch(&format!("{}{path}", self.base)))
            .header("content-type", SCIM_JSON)
            .body(body.to_string().into_bytes())
    }

    fn authorised(&self, request: Request) -> Request {
        request.bearer(&self.token).header("accept", SCIM_JSON)
    }
}

/// The query part `filter=attribute eq "value"`, percent-encoded. The value
/// is written as a JSON string, as RFC 7644 §3.4.2.2 has it (`compValue`
/// follows JSON's rules), so `"` and `\` in it are escaped.
pub fn eq_filter(attribute: &str, value: &str) -> String {
    let literal = serde_json::Value::String(value.to_string()).to_string();
    format!("filter={}", encode(&format!("{attribute} eq {literal}")))
}

/// A list response (RFC 7644 §3.4.2): one page of resources, with
/// `totalResults` and `startIndex` (index paging, §3.4.2.4) or `nextCursor`
/// (cursor paging, as AWS IAM Identity Center answers when asked).
#[derive(Debug, Deserialize)]
#[serde(bound = "T: DeserializeOwned")]
pub struct ListResponse<T> {
    #[serde(rename = "totalResults")]
    pub total_results: Option<usize>,
    #[serde(rename = "startIndex")]
    pub start_index: Option<usize>,
    #[serde(rename = "Resources", alias = "resources")]
    pub resources: Option<Vec<T>>,
    #[serde(rename = "nextCursor")]
    pub next_cursor: Option<String>,
}

/// The body of a SCIM error (RFC 7644 §3.12), every field optional: services
/// differ in what they send.
#[derive(Debug, Default, Deserialize)]
pub struct Problem {
    #[serde(rename = "scimType")]
    pub scim_type: Option<String>,
    pub detail: Option<String>,
}

impl Problem {
    /// The SCIM error in `response`'s body; empty when there is none.
    pub fn of(response: &Response) -> Self {
        response.json().unwrap_or_default()
    }

    /// Whether the error's `scimType` is `scim_type` (e.g. `noTarget`).
    pub fn is(&self, scim_type: &str) -> bool {
        self.scim_type
            .as_deref()
            .is_some_and(|found| found.eq_ignore_ascii_case(scim_type))
    }
}

/// What a failed response says: `HTTP 400 (tooMany): <detail>`.
pub fn describe(response: &Response) -> String {
    let problem = Problem::of(response);
    let scim_type = problem
        .scim_type
        .filter(|scim_type| !scim_type.is_empty())
        .map(|scim_type| format!(" ({scim_type})"))
        .unwrap_or_default();
    let detail = problem.detail.unwrap_or_else(|| {
        let text = response.text();
        match text.trim() {
            "" => "no detail given".to_string(),
            text => text.chars().take(SNIPPET).collect(),
        }
    });
    format!("HTTP {}{scim_type}: {detail}", response.status)
}

/// `response` if it succeeded, else the error it comes to (see [`failure`]).
pub fn checked(response: Response, what: &str) -> Result<Response, Error> {
    match response.is_success() {
        true => Ok(response),
        false => Err(failure(&response, what)),
    }
}

/// The error a failed `response` to `what` comes to: a rate limit the host
/// gave up waiting out is `rate-limited`; 401 and 403 `unauthorized`, saying
/// what to check; 404 `not-found`; anything else `other`.
pub fn failure(response: &Response, what: &str) -> Error {
    if let Some(seconds) = response.rate_limited() {
        return Error::RateLimited(seconds);
    }
    let message = format!("{what}: {}", describe(response));
    match response.status {
        401 | 403 => Error::Unauthorized(format!(
            "{message} (check `token`, and `base_url`: AWS IAM Identity Center also answers 401 \
             for a wrong tenant)"
        )),
        404 => Error::NotFound(message),
        _ => Error::Other(message),
    }
}

#[cfg(test)]
pub mod tests {
    use super::*;

    /// A response with `status` and a JSON `body`.
    pub fn answer(status: u16, body: &str) -> Response {
        Response {
            status,
            headers: Vec::new(),
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn a_filter_value_is_a_json_string_percent_encoded() {
        assert_eq!(
            eq_filter("userName", "ann@example.com"),
            "filter=userName%20eq%20%22ann%40example.com%22"
        );
        assert_eq!(
            eq_filter("displayName", r#"R&D "core" \ ops"#),
            "filter=displayName%20eq%20%22R%26D%20%5C%22core%5C%22%20%5C%5C%20ops%22",
            "quotes and backslashes escaped as in JSON, then percent-encoded"
        );
    }

    #[test]
    fn a_scim_error_is_told_with_its_type_and_detail() {
        let too_many = answer(
            400,
            r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"400","scimType":"tooMany","detail":"at most 2 changes"}"#,
        );
        assert_eq!(describe(&too_many), "HTTP 400 (tooMany): at most 2 changes");
        assert!(Problem::of(&too_many).is("TOOMANY"));
        assert_eq!(describe(&answer(502, "")), "HTTP 502: no detail given");
        let untyped = answer(500, r#"{"scimType":"","detail":"Internal error"}"#);
        assert_eq!(describe(&untyped), "HTTP 500: Internal error");
        assert_eq!(
            describe(&answer(500, "<h1>down</h1>")),
            "HTTP 500: <h1>down</h1>"
        );
    }

    #[test]
    fn failures_become_the_error_kinds_allsync_reports() {
        let unauthorized = failure(&answer(401, r#"{"detail":"bad token"}"#), "read group g");
        assert!(matches!(unauthorized, Error::Unauthorized(m)
            if m.starts_with("read group g: HTTP 401: bad token (check `token`")));
        assert!(matches!(
            failure(&answer(404, "{}"), "read"),
            Error::NotFound(_)
        ));
        assert!(matches!(
            failure(&answer(500, "{}"), "read"),
            Error::Other(_)
        ));
        let rate_limited = Response {
            status: 429,
            headers: vec![("retry-after".into(), "3".into())],
            body: Vec::new(),
        };
        assert!(matches!(
            failure(&rate_limited, "read"),
            Error::RateLimited(3)
        ));
        assert!(checked(answer(204, ""), "patch").is_ok());
    }
}
