//! Graph's answers, whether a whole HTTP response or one answer inside a
//! `$batch` response (https://learn.microsoft.com/graph/json-batching):
//! a status, headers and a JSON body, with errors in the shape
//! `{"error": {"code", "message", "innerError"}}`
//! (https://learn.microsoft.com/graph/errors).

use allsync_sdk::Error;
use allsync_sdk::http::Response;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// One answer from Graph.
#[derive(Debug, Clone)]
pub struct Reply {
    /// The HTTP status.
    pub status: u16,
    /// Header names and values, as sent.
    pub headers: Vec<(String, String)>,
    /// The body: JSON, or the text that was not JSON as a string; null if empty.
    pub body: Value,
}

impl From<Response> for Reply {
    fn from(response: Response) -> Self {
        let body = match response.body.is_empty() {
            true => Value::Null,
            false => serde_json::from_slice(&response.body)
                .unwrap_or_else(|_| Value::String(response.text())),
        };
        Reply {
            status: response.status,
            headers: response.headers,
            body,
        }
    }
}

impl Reply {
    /// Whether the status is 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// The body parsed as `T`; `what` names the operation if it does not parse.
    pub fn json<T: DeserializeOwned>(&self, what: &str) -> Result<T, Error> {
        T::deserialize(&self.body).map_err(|err| {
            Error::Other(format!(
                "{what}: unexpected answer from Graph (HTTP {}): {err}",
                self.status
            ))
        })
    }

    /// The `code` of Graph's error body (may be empty).
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or_default()
    }

    /// The `message` of Graph's error body, else the start of the body.
    pub fn message(&self) -> String {
        match self.body["error"]["message"].as_str() {
            Some(message) => message.to_string(),
            None => match &self.body {
                Value::Null => "no message".to_string(),
                Value::String(text) => text.chars().take(200).collect(),
                other => other.to_string().chars().take(200).collect(),
            },
        }
    }

    /// The seconds `Retry-After` asks for: whole or fractional seconds
    /// (Graph sends `2.128`), rounded up, or an HTTP date.
    pub fn retry_after(&self) -> Option<u32> {
        let value = self.header("retry-after")?.trim();
        match value.parse::<f64>() {
            Ok(seconds) if seconds.is_finite() && seconds >= 0.0 => Some(seconds.ceil() as u32),
            Ok(_) => None,
            Err(_) => Response {
                status: self.status,
                headers: vec![("retry-after".into(), value.into())],
                body: Vec::new(),
            }
            .retry_after(),
        }
    }

    /// The seconds to wait, if this is a throttled answer: a 429 (1 s
    /// unless it says), or a 403 or 503 that says when to come back.
    pub fn throttled(&self) -> Option<u32> {
        match (self.status, self.retry_after()) {
            (429, wait) => Some(wait.unwrap_or(1)),
            (403 | 503, Some(wait)) => Some(wait),
            _ => None,
        }
    }

    /// The error this answer comes to (it is not a success): throttled
    /// `rate-limited`, 401/403 `unauthorized`, 404 `not-found`, anything
    /// else `other`; `what` names the operation.
    pub fn failure(&self, what: &str) -> Error {
        if let Some(seconds) = self.throttled() {
            return Error::RateLimited(seconds);
        }
        let detail = match self.code() {
            "" => format!("{what}: HTTP {}: {}", self.status, self.message()),
            code => format!("{what}: HTTP {} {code}: {}", self.status, self.message()),
        };
        match self.status {
            401 | 403 => Error::Unauthorized(detail),
            404 => Error::NotFound(detail),
            _ => Error::Other(detail),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn reply(status: u16, headers: &[(&str, &str)], body: Value) -> Reply {
        Reply {
            status,
            headers: headers
                .iter()
                .map(|(name, value)| (name.to_string(), value.to_string()))
                .collect(),
            body,
        }
    }

    fn graph_error(code: &str, message: &str) -> Value {
        json!({ "error": { "code": code, "message": message, "innerError": { "date": "2024-05-01T12:00:00", "request-id": "9f1c" } } })
    }

    #[test]
    fn an_error_names_the_operation_graphs_code_and_message() {
        let missing = reply(
            404,
            &[],
            graph_error("Request_ResourceNotFound", "Resource 'g1' does not exist."),
        );
        assert!(matches!(
            missing.failure("read group g1"),
            Error::NotFound(m) if m == "read group g1: HTTP 404 Request_ResourceNotFound: Resource 'g1' does not exist."
        ));
        let bare = reply(500, &[], Value::String("upstream broke".into()));
        assert!(matches!(
            bare.failure("list users"),
            Error::Other(m) if m == "list users: HTTP 500: upstream broke"
        ));
    }

    #[test]
    fn throttling_waits_as_long_as_graph_asks_even_in_fractions() {
        let fractional = reply(
            429,
            &[("Retry-After", "2.128")],
            graph_error("TooManyRequests", "x"),
        );
        assert_eq!(fractional.throttled(), Some(3));
        assert!(matches!(fractional.failure("add"), Error::RateLimited(3)));
        assert_eq!(reply(429, &[], Value::Null).throttled(), Some(1));
        assert_eq!(
            reply(503, &[("retry-after", "7")], Value::Null).throttled(),
            Some(7)
        );
        assert_eq!(reply(503, &[], Value::Null).throttled(), None);
        let past = reply(
            429,
            &[("retry-after", "Wed, 21 Oct 2015 07:28:00 GMT")],
            Value::Null,
        );
        assert_eq!(past.retry_after(), Some(0), "an HTTP date");
        let refused = reply(
            403,
            &[],
            graph_error("Authorization_RequestDenied", "Insufficient privileges"),
        );
        assert!(matches!(refused.failure("add"), Error::Unauthorized(_)));
    }

    #[test]
    fn a_response_becomes_a_reply_whatever_its_body() {
        let response = |body: &str| Response {
            status: 200,
            headers: Vec::new(),
            body: body.as_bytes().to_vec(),
        };
        assert_eq!(Reply::from(response("")).body, Value::Null);
        assert_eq!(
            Reply::from(response("{\"value\":[]}")).body,
            json!({ "value": [] })
        );
        assert_eq!(
            Reply::from(response("<html>")).body,
            Value::String("<html>".into())
        );
    }
}
