//! Retrying adapters' HTTP requests, for every adapter in every language:
//! on a rate limit the host waits as long as the service asks (capped) and
//! tries again; on a connection failure or a 502/503/504 it retries
//! idempotent methods with exponential backoff and jitter. A request that
//! may have reached the server is never retried unless its method is
//! idempotent.
//!
//! A rate limit is a 429, or a 403 that says when to come back, as GitHub's
//! secondary limits do; the wait is `Retry-After` (seconds or an HTTP date),
//! else `x-ratelimit-reset` when `x-ratelimit-remaining` is 0 (a Unix time,
//! as GitHub sends it, or seconds from now, as Terraform Cloud does).

use super::connect;
use super::route::{RetryPolicy, Route};
use bytes::Bytes;
use http::{Method, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use std::hash::{BuildHasher, RandomState};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use wasmtime_wasi_http::{Error, RequestOptions, WasiBody};

/// The first backoff; each further one doubles, plus up to as much jitter.
const FIRST_BACKOFF: Duration = Duration::from_millis(200);

/// A response, and the future wasi-http awaits for errors after it.
pub(crate) type Sent = (
    http::Response<WasiBody>,
    Box<dyn Future<Output = Result<(), Error>> + Send>,
);

/// What one attempt came to, as far as retrying is concerned.
enum Attempt<'a> {
    /// The server answered; `wait` is how long it asks to be left alone, if it says.
    Answered {
        status: StatusCode,
        wait: Option<Duration>,
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
    // Buffered, so the same body can be sent again, up to the limit.
    let limit = route.max_request_bytes;
    let body = match Limited::new(body, usize::try_from(limit).unwrap_or(usize::MAX))
        .collect()
        .await
    {
        Ok(body) => body.to_bytes(),
        Err(_) => {
            route.incidents.record(format!(
                "refused a request from {} to {}: its body is over limits.max_request_bytes = {limit}",
                route.label, route.host
            ));
            return Err(Error::HttpRequestBodySize(Some(limit)));
        }
    };
    let budget = route.budgets.of(
        &route.origin,
        parts
            .headers
            .get(http::header::AUTHORIZATION)
            .map(|value| value.as_bytes()),
    );
    let mut retries = 0;
    loop {
        budget.take().await;
        route.activity.request();
        let outcome = connect::attempt(rebuild(&parts, body.clone()), options, &route).await;
        let attempt = match &outcome {
            Ok(response) => {
                let status = response.status();
                let wait = requested_wait(response.headers(), SystemTime::now());
                if let Some(wait) = wait.filter(|_| rate_limited(status)) {
                    // Everyone sharing the budget waits, not just this request.
                    budget.pause(wait);
                }
                Attempt::Answered { status, wait }
            }
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
        route.activity.retry_after(wait);
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

/// Whether `status` says to slow down (when it also says for how long).
fn rate_limited(status: StatusCode) -> bool {
    status == StatusCode::TOO_MANY_REQUESTS || status == StatusCode::FORBIDDEN
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
        // A wait longer than allowed goes back to the adapter as it came.
        Attempt::Answered {
            status: StatusCode::TOO_MANY_REQUESTS | StatusCode::FORBIDDEN,
            wait: Some(wait),
        } if wait > policy.max_wait => None,
        Attempt::Answered {
            status: status @ (StatusCode::TOO_MANY_REQUESTS | StatusCode::FORBIDDEN),
            wait: Some(wait),
        } => Some((wait, format!("rate limited ({})", status.as_u16()))),
        Attempt::Answered {
            status: StatusCode::TOO_MANY_REQUESTS,
            wait: None,
        } => Some((backoff(retries), "rate limited (429)".into())),
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

/// How long the server asks to be left alone, at `now`: `Retry-After`
/// (seconds or an HTTP date), else `x-ratelimit-reset` once
/// `x-ratelimit-remaining` is 0. `None` when it does not say.
fn requested_wait(headers: &http::HeaderMap, now: SystemTime) -> Option<Duration> {
    let header = |name: &str| headers.get(name)?.to_str().ok().map(str::trim);
    if let Some(value) = header("retry-after") {
        // Seconds, which Microsoft Graph sends with a fraction ("2.128").
        return match value.parse::<f64>() {
            Ok(seconds) if seconds.is_finite() && seconds >= 0.0 => {
                Some(Duration::from_secs_f64(seconds))
            }
            Ok(_) => None,
            Err(_) => Some(until(httpdate::parse_http_date(value).ok()?, now)),
        };
    }
    if header("x-ratelimit-remaining")? != "0" {
        return None;
    }
    let reset: f64 = header("x-ratelimit-reset")?.parse().ok()?;
    // A reset written as a Unix time is far past any sane wait in seconds.
    const UNIX_TIME_FROM: f64 = 1_000_000_000.0;
    match reset {
        reset if !reset.is_finite() || reset < 0.0 => None,
        reset if reset >= UNIX_TIME_FROM => {
            Some(until(UNIX_EPOCH + Duration::from_secs_f64(reset), now))
        }
        reset => Some(Duration::from_secs_f64(reset)),
    }
}

/// How long from `now` until `time` (nothing if it has passed).
fn until(time: SystemTime, now: SystemTime) -> Duration {
    time.duration_since(now).unwrap_or(Duration::ZERO)
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
        }
    }

    fn answered(status: u16, wait: Option<u64>) -> Attempt<'static> {
        Attempt::Answered {
            status: StatusCode::from_u16(status).unwrap(),
            wait: wait.map(Duration::from_secs),
        }
    }

    fn headers(pairs: &[(&'static str, &str)]) -> http::HeaderMap {
        pairs
            .iter()
            .map(|(name, value)| {
                (
                    http::HeaderName::from_static(name),
                    http::HeaderValue::from_str(value).unwrap(),
                )
            })
            .collect()
    }

    #[test]
    fn a_403_that_says_when_to_come_back_is_a_rate_limit() {
        let (wait, why) = decide(answered(403, Some(2)), &Method::PUT, 0, &policy()).unwrap();
        assert_eq!(
            (wait, why.as_str()),
            (Duration::from_secs(2), "rate limited (403)")
        );
        assert!(
            decide(answered(403, None), &Method::GET, 0, &policy()).is_none(),
            "a plain 403 is a refusal"
        );
        assert!(decide(answered(403, Some(61)), &Method::GET, 0, &policy()).is_none());
    }

    #[test]
    fn the_wait_is_read_from_retry_after_in_either_form_or_from_the_reset() {
        let now = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let wait = |pairs: &[(&'static str, &str)]| requested_wait(&headers(pairs), now);
        assert_eq!(wait(&[("retry-after", "6")]), Some(Duration::from_secs(6)));
        assert_eq!(
            wait(&[("retry-after", "2.128")]),
            Some(Duration::from_millis(2128))
        );
        assert_eq!(wait(&[("retry-after", "-1")]), None);
        let in_six = httpdate::fmt_http_date(now + Duration::from_secs(6));
        assert_eq!(
            wait(&[("retry-after", &in_six)]),
            Some(Duration::from_secs(6))
        );
        let past = httpdate::fmt_http_date(now - Duration::from_secs(60));
        assert_eq!(wait(&[("retry-after", &past)]), Some(Duration::ZERO));
        assert_eq!(wait(&[("retry-after", "soon")]), None);
        let unix = (1_800_000_000u64 + 30).to_string();
        assert_eq!(
            wait(&[("x-ratelimit-remaining", "0"), ("x-ratelimit-reset", &unix)]),
            Some(Duration::from_secs(30)),
            "GitHub: a Unix time"
        );
        assert_eq!(
            wait(&[
                ("x-ratelimit-remaining", "0"),
                ("x-ratelimit-reset", "0.25")
            ]),
            Some(Duration::from_millis(250)),
            "Terraform Cloud: seconds from now"
        );
        assert_eq!(
            wait(&[("x-ratelimit-remaining", "12"), ("x-ratelimit-reset", "5")]),
            None,
            "not exhausted"
        );
        assert_eq!(wait(&[]), None);
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
