//! Local fakes of the services the shipped adapters talk to, each holding
//! real in-memory state and following its public API documentation (named
//! in each fake's header). They listen on 127.0.0.1 with an ephemeral port.
//!
//! Every fake shares [`Controls`]: a log of the requests it received, and
//! faults to inject: rate limits (429 with `Retry-After`, in the service's
//! own error shape), outages (503), and any other answer to chosen requests
//! ([`Fault`]: a 5xx on page 2, a failure half-way through a batch, a 403
//! with `Retry-After`).

#![allow(
    clippy::result_large_err,
    reason = "a fake's handlers give back an HTTP answer as their error, as axum handlers do"
)]

pub mod entra;
pub mod github;
pub mod google;
pub mod opsgenie;
pub mod scim;
pub mod slack;
pub mod tfc;
pub mod tokens;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

/// What a fake logged, and the faults it will inject next.
#[derive(Clone, Default)]
pub struct Controls {
    inner: Arc<Mutex<ControlState>>,
}

/// An answer given instead of the real one to some requests: those whose
/// "METHOD /path?query" starts with a prefix, after letting some through.
#[derive(Debug, Clone)]
pub struct Fault {
    prefix: String,
    skip: usize,
    times: usize,
    status: StatusCode,
    headers: Vec<(String, String)>,
    body: String,
}

impl Fault {
    /// Requests starting with `prefix` (e.g. "GET /api/users.list") get `status` once.
    pub fn on(prefix: &str, status: u16) -> Self {
        Fault {
            prefix: prefix.to_string(),
            skip: 0,
            times: 1,
            status: StatusCode::from_u16(status).expect("a valid status code"),
            headers: Vec::new(),
            body: String::new(),
        }
    }

    /// Lets the first `skip` matching requests through (so `after(1)` hits the second).
    pub fn after(mut self, skip: usize) -> Self {
        self.skip = skip;
        self
    }

    /// Fails `times` matching requests instead of one.
    pub fn times(mut self, times: usize) -> Self {
        self.times = times;
        self
    }

    /// Adds a header to the answer.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    /// The answer's body (sent as JSON).
    pub fn body(mut self, body: &str) -> Self {
        self.body = body.to_string();
        self
    }

    /// Whether this fault answers `line`, counting it off if so.
    fn strikes(&mut self, line: &str) -> bool {
        if self.times == 0 || !line.starts_with(&self.prefix) {
            return false;
        }
        if self.skip > 0 {
            self.skip -= 1;
            return false;
        }
        self.times -= 1;
        true
    }

    fn response(&self) -> Response {
        let mut response = (self.status, Body::from(self.body.clone())).into_response();
        let headers = response.headers_mut();
        headers.insert("content-type", HeaderValue::from_static("application/json"));
        for (name, value) in &self.headers {
            headers.insert(
                axum::http::HeaderName::from_bytes(name.as_bytes()).expect("a valid header name"),
                HeaderValue::from_str(value).expect("a valid header value"),
            );
        }
        response
    }
}

#[derive(Default)]
struct ControlState {
    faults: Vec<Fault>,
    rate_limits: u32,
    retry_after: u32,
    outages: u32,
    latency: std::time::Duration,
    page_size: Option<usize>,
    in_flight: usize,
    most_in_flight: usize,
    log: Vec<String>,
    /// At most this many requests a second, as a service's limit would.
    per_second: Option<usize>,
    window: Option<(std::time::Instant, usize)>,
    /// When each request over the rate was answered 429.
    limited: Vec<std::time::Instant>,
    /// When each request arrived.
    arrivals: Vec<std::time::Instant>,
}

impl ControlState {
    /// Counts a request against the rate limit, if any; whether it is over.
    fn over_the_rate(&mut self) -> bool {
        let Some(most) = self.per_second else {
            return false;
        };
        let now = std::time::Instant::now();
        let (start, count) = match self.window {
            Some((start, count)) if now.duration_since(start).as_secs() < 1 => (start, count + 1),
            _ => (now, 1),
        };
        self.window = Some((start, count));
        count > most
    }
}

impl Controls {
    /// The next `times` requests get 429 with `Retry-After: retry_after`.
    pub fn rate_limit(&self, times: u32, retry_after: u32) {
        let mut state = self.inner.lock().unwrap();
        state.rate_limits = times;
        state.retry_after = retry_after;
    }

    /// Answers more than `requests` requests in one second with 429 and
    /// `Retry-After: 1`, as a service's rate limit per token does.
    pub fn limit_per_second(&self, requests: usize) {
        self.inner.lock().unwrap().per_second = Some(requests);
    }

    /// When each request over the rate of [`Controls::limit_per_second`] was answered 429.
    pub fn limited(&self) -> Vec<std::time::Instant> {
        self.inner.lock().unwrap().limited.clone()
    }

    /// When each request arrived.
    pub fn arrivals(&self) -> Vec<std::time::Instant> {
        self.inner.lock().unwrap().arrivals.clone()
    }

    /// Answers matching requests with `fault` instead (see [`Fault`]).
    pub fn inject(&self, fault: Fault) {
        self.inner.lock().unwrap().faults.push(fault);
    }

    /// The next `times` requests get 503.
    pub fn outage(&self, times: u32) {
        self.inner.lock().unwrap().outages = times;
    }

    /// Every answer is delayed by `latency` (requests are still served concurrently).
    pub fn latency(&self, latency: std::time::Duration) {
        self.inner.lock().unwrap().latency = latency;
    }

    /// Pages hold at most `size` items instead of the fake's small default.
    pub fn page_size(&self, size: usize) {
        self.inner.lock().unwrap().page_size = Some(size);
    }

    /// The page size in force: the one set, else `default`.
    pub fn page(&self, default: usize) -> usize {
        self.inner.lock().unwrap().page_size.unwrap_or(default)
    }

    /// The most requests that were being answered at the same time.
    pub fn most_in_flight(&self) -> usize {
        self.inner.lock().unwrap().most_in_flight
    }

    /// Every request so far, as "METHOD /path".
    pub fn requests(&self) -> Vec<String> {
        self.inner.lock().unwrap().log.clone()
    }

    /// How many requests so far were "METHOD /path..." starting with `prefix`.
    pub fn count(&self, prefix: &str) -> usize {
        self.requests()
            .iter()
            .filter(|line| line.starts_with(prefix))
            .count()
    }

    /// How many requests so far changed something (not GET).
    pub fn writes(&self) -> usize {
        self.requests()
            .iter()
            .filter(|line| !line.starts_with("GET "))
            .count()
    }
}

/// Serves `router` on 127.0.0.1 with `controls` applied; `rate_limited` is
/// the body the service sends with a 429.
pub fn serve(router: Router, controls: Controls, rate_limited: &'static str) -> SocketAddr {
    let router = router.layer(middleware::from_fn_with_state(
        (controls, rate_limited),
        faults,
    ));
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            axum::serve(listener, router).await.unwrap();
        });
    });
    addr
}

async fn faults(
    State((controls, rate_limited)): State<(Controls, &'static str)>,
    request: Request,
    next: Next,
) -> Response {
    let latency = {
        let mut state = controls.inner.lock().unwrap();
        state.in_flight += 1;
        state.most_in_flight = state.most_in_flight.max(state.in_flight);
        state.latency
    };
    tokio::time::sleep(latency).await;
    let response = answer(&controls, rate_limited, request, next).await;
    controls.inner.lock().unwrap().in_flight -= 1;
    response
}

async fn answer(
    controls: &Controls,
    rate_limited: &'static str,
    request: Request,
    next: Next,
) -> Response {
    let fault = {
        let mut state = controls.inner.lock().unwrap();
        let path = request
            .uri()
            .path_and_query()
            .map_or("/", |p| p.as_str())
            .to_string();
        let line = format!("{} {path}", request.method());
        let injected = state
            .faults
            .iter_mut()
            .find_map(|fault| fault.strikes(&line).then(|| fault.response()));
        state.log.push(line);
        if let Some(response) = injected {
            return response;
        }
        state.arrivals.push(std::time::Instant::now());
        if state.over_the_rate() {
            state.limited.push(std::time::Instant::now());
            Some((StatusCode::TOO_MANY_REQUESTS, Some(1)))
        } else if state.rate_limits > 0 {
            state.rate_limits -= 1;
            Some((StatusCode::TOO_MANY_REQUESTS, Some(state.retry_after)))
        } else if state.outages > 0 {
            state.outages -= 1;
            Some((StatusCode::SERVICE_UNAVAILABLE, None))
        } else {
            None
        }
    };
    match fault {
        None => next.run(request).await,
        Some((status, retry_after)) => {
            let body = match status {
                StatusCode::TOO_MANY_REQUESTS => Body::from(rate_limited),
                _ => Body::from("upstream unavailable"),
            };
            let mut response = (status, body).into_response();
            if let Some(seconds) = retry_after {
                response
                    .headers_mut()
                    .insert("retry-after", HeaderValue::from(seconds));
            }
            response
                .headers_mut()
                .insert("content-type", HeaderValue::from_static("application/json"));
            response
        }
    }
}

/// The bearer token of a request, if any.
pub fn bearer(headers: &axum::http::HeaderMap) -> Option<&str> {
    headers
        .get("authorization")?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
}
