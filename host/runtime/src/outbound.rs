//! Outbound HTTP from adapters: only to origins granted to that adapter
//! instance, only to public addresses unless an exact grant says otherwise,
//! and within the instance's request and response limits. Anything else is
//! refused before a connection is made, and recorded as an incident.

use super::activity::Activity;
use super::budget::Budgets;
use super::credentials::Credentials;
use super::grants::{Grants, HttpGrant};
use super::limits::Limits;
use super::origin::Origin;
use super::retry::{self, Sent};
use super::route::{GrantAdvice, Incidents, Pins, RetryPolicy, Route};
use std::sync::Arc;
use std::time::Duration;
use wasmtime_wasi_http::{Error, RequestOptions, WasiBody, WasiHttpHooks};

/// The `wasi:http` hooks of one adapter instance.
pub(crate) struct OutboundPolicy {
    label: Arc<str>,
    grants: Arc<[HttpGrant]>,
    pins: Pins,
    advice: GrantAdvice,
    credentials: Option<Arc<Credentials>>,
    max_response_bytes: u64,
    max_request_bytes: u64,
    max_requests_per_call: u64,
    requests: u64,
    incidents: Incidents,
    retry: RetryPolicy,
    budgets: Budgets,
    activity: Activity,
}

impl OutboundPolicy {
    /// The policy of instance `label`, with `grants`; its requests are counted in `activity`.
    pub(crate) fn new(
        label: &str,
        grants: &Grants,
        limits: &Limits,
        incidents: Incidents,
        activity: Activity,
    ) -> Self {
        OutboundPolicy {
            label: label.into(),
            grants: grants.http.as_slice().into(),
            pins: grants.resolve.clone(),
            advice: grants.advice,
            credentials: grants.credentials.clone(),
            max_response_bytes: limits.max_response_bytes,
            max_request_bytes: limits.max_request_bytes,
            max_requests_per_call: limits.max_requests_per_call,
            requests: 0,
            incidents,
            retry: RetryPolicy {
                max_retries: limits.max_retries,
                max_wait: Duration::from_secs(limits.max_retry_wait_secs),
            },
            budgets: grants.budgets.clone(),
            activity,
        }
    }

    /// Starts counting requests for a new call.
    pub(crate) fn start_call(&mut self) {
        self.requests = 0;
    }

    /// How the request may go, or `None` (recorded as an incident) if it may not.
    fn route(&mut self, uri: &http::Uri) -> Option<Route> {
        let origin = request_origin(uri)?;
        let matching: Vec<&HttpGrant> = self
            .grants
            .iter()
            .filter(|grant| grant.pattern.matches(&origin))
            .collect();
        if matching.is_empty() {
            self.incidents.record(format!(
                "refused a request from {} to {origin}: that origin is not granted to it; {}",
                self.label,
                self.advice.allow(&origin.to_string())
            ));
            return None;
        }
        self.requests += 1;
        if self.requests > self.max_requests_per_call {
            self.incidents.record(format!(
                "refused request {} of one call from {}: over limits.max_requests_per_call = {}",
                self.requests, self.label, self.max_requests_per_call
            ));
            return None;
        }
        Some(Route {
            https: origin.scheme == "https",
            private_allowed: matching.iter().any(|grant| grant.private),
            origin: origin.to_string(),
            advice: self.advice,
            host: origin.host,
            port: origin.port,
            pins: self.pins.clone(),
            max_response_bytes: self.max_response_bytes,
            max_request_bytes: self.max_request_bytes,
            incidents: self.incidents.clone(),
            label: self.label.clone(),
            retry: self.retry.clone(),
            budgets: self.budgets.clone(),
            activity: self.activity.clone(),
        })
    }
}

type SendFuture = Box<dyn Future<Output = Result<Sent, Error>> + Send>;

impl WasiHttpHooks for OutboundPolicy {
    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        _response_errors: Box<dyn Future<Output = Result<(), Error>> + Send>,
    ) -> SendFuture {
        match (self.route(request.uri()), self.credentials.clone()) {
            (None, _) => Box::new(async { Err(Error::HttpRequestDenied) }),
            (Some(route), None) => Box::new(retry::send(request, options, route)),
            (Some(route), Some(credentials)) => {
                Box::new(send_with_token(request, options, route, credentials))
            }
        }
    }
}

/// Sends `request` with the token of `credentials` as its `Authorization`
/// (whatever the adapter put there); a token the service refuses (401) is
/// forgotten, so the next request carries a fresh one.
async fn send_with_token(
    mut request: http::Request<WasiBody>,
    options: Option<RequestOptions>,
    route: Route,
    credentials: Arc<Credentials>,
) -> Result<Sent, Error> {
    let token = credentials.token().await.map_err(|err| {
        route
            .incidents
            .record(format!("could not get a token for {}: {err}", route.label));
        Error::HttpRequestDenied
    })?;
    let value = http::HeaderValue::try_from(format!("Bearer {token}"))
        .map_err(|_| Error::InternalError(Some("the token is not a valid header value".into())))?;
    request
        .headers_mut()
        .insert(http::header::AUTHORIZATION, value);
    let sent = retry::send(request, options, route).await?;
    if sent.0.status() == http::StatusCode::UNAUTHORIZED {
        credentials.forget().await;
    }
    Ok(sent)
}

/// The origin a request URI points at, if it names a scheme and host.
fn request_origin(uri: &http::Uri) -> Option<Origin> {
    let scheme = uri.scheme_str()?.to_ascii_lowercase();
    let port = uri
        .port_u16()
        .unwrap_or(if scheme == "https" { 443 } else { 80 });
    let host = uri
        .host()?
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_ascii_lowercase();
    Some(Origin { scheme, host, port })
}
