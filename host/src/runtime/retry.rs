//! Retrying adapters' HTTP requests, for every adapter in every language:
//! on 429 the host waits `Retry-After` (capped) and tries again; on a
//! connection failure or a 502/503/504 it retries idempotent methods with
//! exponential backoff and jitter. A request that may have reached the
//! server is never retried unless its method is idempotent.

use super::connect::{self, Route};
use bytes::Bytes;
use http::{Method, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use std::hash::{BuildHasher, RandomState};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use wasmtime_wasi_http::{Error, RequestOptions, WasiBody};

/// The first backoff; each further one doubles, plus up to as much jitter.
const FIRST_BACKOFF: Duration = Duration::from_millis(200);

/// How one instance retries, and how many retries it has made.
#[derive(Debug, Clone)]
pub(crate) struct RetryPolicy {
    pub max_retries: u32,
    pub max_wait: Duration,
    pub count: Arc<AtomicU64>,
}

type Sent = (
    http::Response<WasiBody>,
    Box<dyn Future<Output = Result<(), Error>> + Send>,
);

/// What one attempt came to, as far as retrying is concerned.
enum Attempt<'a> {
    /// The server answered.
    Answered {
        status: StatusCode,
        retry_after: Option<Duration>,
    },
    /// No answer came.
    Failed { error: &'a Error, maybe_sent: bool },
}

/// Sends `request` along `route`, retrying as the module says.
pub(crate) async fn send(
    request: http::Request<WasiBody>,
    options: Option<RequestOptions>,
    route: Route,
) -> Result<Sent, Error> {
    let (parts, body) = request.into_parts();
    // Buffered, so the same body can be sent again.
    let body = body.collect().await?.to_bytes();
    let mut retries = 0;
    loop {
        let outcome = connect::attempt(rebuild(&parts, body.clone()), options, &route).await;
        let attempt = match &outcome {
            Ok(response) => Attempt::Answered {
                status: response.status(),
                retry_after: retry_after(response),
            },
            Err(failure) => Attempt::Failed {
                error: &failure.error,
                maybe_sent: failure.maybe_sent,
            },
        };
        let Some((wait, why)) = decide(attempt, &parts.method, retries, &route.retry) else {
            let response = outcome.map_err(|failure| failure.error)?;
            return Ok((
                connect::limit_body(response, route),
                Box::new(async { Ok(()) }),
            ));
        };
        retries += 1;
        route.retry.count.fetch_add(1, Ordering::Relaxed);
        tracing::info!(
            "{}: {why}; retry {retries} of {} in {:.1} s",
            route.label,
            route.retry.max_retries,
            wait.as_secs_f64()
        );
        tokio::time::sleep(wait).await;
    }
}

fn rebuild(parts: &http::request::Parts, body: Bytes) -> http::Request<Full<Bytes>> {
    let mut request = http::Request::new(Full::new(body));
    *request.method_mut() = parts.method.clone();
    *request.uri_mut() = parts.uri.clone();
    *request.version_mut() = parts.version;
    *request.headers_mut() = parts.headers.clone();
    request
}

/// How long to wait before trying again, and why; `None` to give the
/// outcome to the adapter as it is.
fn decide(
    attempt: Attempt,
    method: &Method,
    retries: u32,
    policy: &RetryPolicy,
) -> Option<(Duration, String)> {
    let idempotent = [
        Method::GET,
        Method::HEAD,
        Method::PUT,
        Method::DELETE,
        Method::OPTIONS,
    ]
    .contains(method);
    if retries >= policy.max_retries {
        return None;
    }
    let outage = [
        StatusCode::BAD_GATEWAY,
        StatusCode::SERVICE_UNAVAILABLE,
        StatusCode::GATEWAY_TIMEOUT,
    ];
    match attempt {
        Attempt::Answered {
            status: StatusCode::TOO_MANY_REQUESTS,
            retry_after,
        } => match retry_after {
            // A wait longer than allowed goes back to the adapter as a 429.
            Some(wait) if wait > policy.max_wait => None,
            wait => Some((
                wait.unwrap_or_else(|| backoff(retries)),
                "rate limited (429)".into(),
            )),
        },
        Attempt::Answered { status, .. } if idempotent && outage.contains(&status) => {
            Some((backoff(retries), format!("server error ({status})")))
        }
        Attempt::Failed { error, maybe_sent }
            if retryable(error) && (idempotent || !maybe_sent) =>
        {
            Some((backoff(retries), format!("connection failed ({error})")))
        }
        _ => None,
    }
}

/// Failures worth another try (not refusals, bad requests or DNS answers).
fn retryable(error: &Error) -> bool {
    matches!(
        error,
        Error::Connect(_)
            | Error::Hyper(_)
            | Error::ConnectionRefused
            | Error::ConnectionTerminated
            | Error::ConnectionTimeout
            | Error::ConnectionReadTimeout
    )
}

/// `Retry-After` in seconds (the HTTP-date form is left to backoff).
fn retry_after(response: &http::Response<Incoming>) -> Option<Duration> {
    let value = response
        .headers()
        .get(http::header::RETRY_AFTER)?
        .to_str()
        .ok()?;
    value.trim().parse().ok().map(Duration::from_secs)
}

/// Exponential backoff with full jitter: `2^n × FIRST_BACKOFF` plus up to as much again.
fn backoff(retries: u32) -> Duration {
    let base = FIRST_BACKOFF.saturating_mul(1 << retries.min(10));
    let jitter = RandomState::new().hash_one(retries) % (base.as_millis() as u64 + 1);
    base + Duration::from_millis(jitter)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> RetryPolicy {
        RetryPolicy {
            max_retries: 4,
            max_wait: Duration::from_secs(60),
            count: Arc::default(),
        }
    }

    fn answered(status: u16, retry_after: Option<u64>) -> Attempt<'static> {
        Attempt::Answered {
            status: StatusCode::from_u16(status).unwrap(),
            retry_after: retry_after.map(Duration::from_secs),
        }
    }

    #[test]
    fn a_429_is_waited_out_for_any_method_within_the_cap() {
        let (wait, _) = decide(answered(429, Some(3)), &Method::POST, 0, &policy()).unwrap();
        assert_eq!(wait, Duration::from_secs(3));
        assert!(
            decide(answered(429, Some(61)), &Method::GET, 0, &policy()).is_none(),
            "over the cap"
        );
        assert!(
            decide(answered(429, None), &Method::GET, 0, &policy()).is_some(),
            "no Retry-After: backoff"
        );
    }

    #[test]
    fn outages_are_retried_only_for_idempotent_methods() {
        for method in [Method::GET, Method::PUT, Method::DELETE] {
            assert!(
                decide(answered(503, None), &method, 0, &policy()).is_some(),
                "{method}"
            );
        }
        for method in [Method::POST, Method::PATCH] {
            assert!(
                decide(answered(502, None), &method, 0, &policy()).is_none(),
                "{method} may have been applied"
            );
        }
        assert!(
            decide(answered(500, None), &Method::GET, 0, &policy()).is_none(),
            "500 is not an outage"
        );
        assert!(decide(answered(404, None), &Method::GET, 0, &policy()).is_none());
    }

    #[test]
    fn a_post_is_retried_only_when_it_never_left() {
        let refused = Error::ConnectionRefused;
        let before = Attempt::Failed {
            error: &refused,
            maybe_sent: false,
        };
        assert!(decide(before, &Method::POST, 0, &policy()).is_some());
        let reset = Error::ConnectionTerminated;
        let after = Attempt::Failed {
            error: &reset,
            maybe_sent: true,
        };
        assert!(decide(after, &Method::POST, 0, &policy()).is_none());
        let after = Attempt::Failed {
            error: &reset,
            maybe_sent: true,
        };
        assert!(decide(after, &Method::GET, 0, &policy()).is_some());
        let denied = Error::DestinationIpProhibited;
        let denied = Attempt::Failed {
            error: &denied,
            maybe_sent: false,
        };
        assert!(
            decide(denied, &Method::GET, 0, &policy()).is_none(),
            "a refusal is final"
        );
    }

    #[test]
    fn retries_stop_at_the_limit() {
        assert!(decide(answered(429, Some(1)), &Method::GET, 3, &policy()).is_some());
        assert!(decide(answered(429, Some(1)), &Method::GET, 4, &policy()).is_none());
    }

    #[test]
    fn backoff_doubles_and_adds_at_most_as_much_jitter() {
        for retries in 0..5 {
            let base = FIRST_BACKOFF * (1 << retries);
            let wait = backoff(retries);
            assert!(wait >= base && wait <= base * 2, "{retries}: {wait:?}");
        }
    }
}
