//! Retrying adapters' HTTP requests, for every adapter in every language:
//! on 429 the host waits `Retry-After` (capped) and tries again; on a
//! connection failure or a 502/503/504 it retries idempotent methods with
//! exponential backoff and jitter. A request that may have reached the
//! server is never retried unless its method is idempotent.

use super::connect::{self, Failure, Route};
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

/// What to do after an attempt.
enum Next {
    Return(Result<http::Response<Incoming>, Error>),
    RetryAfter(Duration, String),
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
        let request = rebuild(&parts, body.clone());
        let outcome = connect::attempt(request, options, &route).await;
        match next(outcome, &parts.method, retries, &route.retry) {
            Next::Return(result) => {
                let response = result?;
                return Ok((
                    connect::limit_body(response, route),
                    Box::new(async { Ok(()) }),
                ));
            }
            Next::RetryAfter(wait, why) => {
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

fn next(
    outcome: Result<http::Response<Incoming>, Failure>,
    method: &Method,
    retries: u32,
    policy: &RetryPolicy,
) -> Next {
    let idempotent = [
        Method::GET,
        Method::HEAD,
        Method::PUT,
        Method::DELETE,
        Method::OPTIONS,
    ]
    .contains(method);
    if retries >= policy.max_retries {
        return Next::Return(outcome.map_err(|failure| failure.error));
    }
    match outcome {
        Ok(response) if response.status() == StatusCode::TOO_MANY_REQUESTS => {
            match retry_after(&response) {
                Some(wait) if wait <= policy.max_wait => {
                    Next::RetryAfter(wait, "rate limited (429)".into())
                }
                // A wait longer than allowed goes back to the adapter as a 429.
                Some(_) => Next::Return(Ok(response)),
                None => Next::RetryAfter(backoff(retries), "rate limited (429)".into()),
            }
        }
        Ok(response)
            if idempotent
                && [
                    StatusCode::BAD_GATEWAY,
                    StatusCode::SERVICE_UNAVAILABLE,
                    StatusCode::GATEWAY_TIMEOUT,
                ]
                .contains(&response.status()) =>
        {
            Next::RetryAfter(
                backoff(retries),
                format!("server error ({})", response.status()),
            )
        }
        Err(failure) if retryable(&failure.error) && (idempotent || !failure.maybe_sent) => {
            Next::RetryAfter(
                backoff(retries),
                format!("connection failed ({})", failure.error),
            )
        }
        other => Next::Return(other.map_err(|failure| failure.error)),
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

    #[test]
    fn backoff_doubles_and_adds_at_most_as_much_jitter() {
        for retries in 0..5 {
            let base = FIRST_BACKOFF * (1 << retries);
            let wait = backoff(retries);
            assert!(wait >= base && wait <= base * 2, "{retries}: {wait:?}");
        }
    }
}
