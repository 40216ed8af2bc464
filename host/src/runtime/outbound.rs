//! Outbound HTTP from adapters: only to origins granted to that adapter
//! instance; anything else is refused before a connection is made.

use super::origin::{Origin, OriginPattern};
use http_body_util::BodyExt;
use std::sync::{Arc, Mutex};
use wasmtime_wasi_http::{Error, RequestOptions, WasiBody, WasiHttpHooks, default_send_request};

/// Origins an adapter instance tried to reach and was refused, in order.
#[derive(Debug, Clone, Default)]
pub struct Refusals(Arc<Mutex<Vec<Origin>>>);

impl Refusals {
    fn record(&self, origin: Origin) {
        let mut refused = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if !refused.contains(&origin) {
            refused.push(origin);
        }
    }

    /// Takes the refusals recorded so far.
    pub fn take(&self) -> Vec<Origin> {
        std::mem::take(
            &mut *self
                .0
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner()),
        )
    }
}

/// The `wasi:http` hooks of one adapter instance.
pub(crate) struct OutboundPolicy {
    adapter: Arc<str>,
    allowed: Arc<[OriginPattern]>,
    refusals: Refusals,
}

impl OutboundPolicy {
    pub(crate) fn new(adapter: &str, allowed: &[OriginPattern], refusals: Refusals) -> Self {
        OutboundPolicy {
            adapter: adapter.into(),
            allowed: allowed.into(),
            refusals,
        }
    }

    /// The request's origin if it is granted; otherwise records and logs the refusal.
    fn check(&self, uri: &http::Uri) -> Result<(), ()> {
        let origin = request_origin(uri).ok_or(())?;
        if self.allowed.iter().any(|pattern| pattern.matches(&origin)) {
            return Ok(());
        }
        tracing::warn!(
            "{}: refused HTTP request to {origin}: that origin is not granted to this adapter \
             (add \"{origin}\" to its allowed_hosts in allsync.toml to allow it)",
            self.adapter
        );
        self.refusals.record(origin);
        Err(())
    }
}

type SendFuture = Box<
    dyn Future<
            Output = Result<
                (
                    http::Response<WasiBody>,
                    Box<dyn Future<Output = Result<(), Error>> + Send>,
                ),
                Error,
            >,
        > + Send,
>;

impl WasiHttpHooks for OutboundPolicy {
    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        _response_errors: Box<dyn Future<Output = Result<(), Error>> + Send>,
    ) -> SendFuture {
        if self.check(request.uri()).is_err() {
            return Box::new(async { Err(Error::HttpRequestDenied) });
        }
        Box::new(async move {
            let (response, io) = default_send_request(request, options).await?;
            let io: Box<dyn Future<Output = Result<(), Error>> + Send> = Box::new(io);
            Ok((response.map(BodyExt::boxed_unsync), io))
        })
    }
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
