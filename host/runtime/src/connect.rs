//! One attempt at a granted request: resolve the host, keep only addresses
//! the grant allows, connect, TLS for https, HTTP/1.1; the response body is
//! cut off at a size limit. Retrying is `retry.rs`'s.
//!
//! The address check is made on the addresses actually dialled, so a name
//! that resolves to a private address is refused like the address itself.

use super::address::non_public;
use super::route::Route;
use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::{Arc, LazyLock};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::net::TcpStream;
use wasmtime_wasi_http::io::TokioIo;
use wasmtime_wasi_http::{Error, RequestOptions, WasiBody};

const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// Why one attempt failed, and whether the request may have reached the server.
pub(crate) struct Failure {
    pub error: Error,
    /// False when no connection was made, so even a POST can be tried again.
    pub maybe_sent: bool,
}

impl Failure {
    fn before_sending(error: Error) -> Self {
        Failure {
            error,
            maybe_sent: false,
        }
    }

    fn after_sending(error: Error) -> Self {
        Failure {
            error,
            maybe_sent: true,
        }
    }
}

/// Makes one attempt at `request` along `route`.
pub(crate) async fn attempt(
    mut request: http::Request<Full<Bytes>>,
    options: Option<RequestOptions>,
    route: &Route,
) -> Result<http::Response<Incoming>, Failure> {
    let connect_timeout = options
        .and_then(|o| o.connect_timeout)
        .unwrap_or(DEFAULT_TIMEOUT);
    let first_byte_timeout = options
        .and_then(|o| o.first_byte_timeout)
        .unwrap_or(DEFAULT_TIMEOUT);
    let addresses = route.addresses().await.map_err(|error| Failure {
        error,
        maybe_sent: false,
    })?;
    let tcp = connect(&addresses, connect_timeout)
        .await
        .map_err(Failure::before_sending)?;
    let io = match route.https {
        true => TokioIo::new(Box::new(
            tls(&route.host, tcp)
                .await
                .map_err(Failure::before_sending)?,
        ) as Box<dyn Stream>),
        false => TokioIo::new(Box::new(tcp) as Box<dyn Stream>),
    };
    let (mut sender, connection) = hyper::client::conn::http1::handshake(io)
        .await
        .map_err(|err| Failure::before_sending(err.into()))?;
    tokio::spawn(async move {
        if let Err(err) = connection.await {
            tracing::debug!("connection closed with an error: {err}");
        }
    });
    // The request line carries only the path: the origin went into the connection.
    let path = request
        .uri()
        .path_and_query()
        .map_or("/", |path| path.as_str())
        .to_string();
    *request.uri_mut() = path
        .parse()
        .map_err(|_| Failure::before_sending(Error::HttpRequestUriInvalid))?;
    tokio::time::timeout(first_byte_timeout, sender.send_request(request))
        .await
        .map_err(|_| Failure::after_sending(Error::ConnectionReadTimeout))?
        .map_err(|err| Failure::after_sending(err.into()))
}

/// The response with its body cut off at the route's size limit.
pub(crate) fn limit_body(
    response: http::Response<Incoming>,
    route: Route,
) -> http::Response<WasiBody> {
    let (parts, incoming) = response.into_parts();
    let limit = route.max_response_bytes;
    let body = LimitedBody {
        inner: incoming,
        remaining: limit,
        limit,
        route,
    };
    http::Response::from_parts(parts, body.boxed_unsync())
}

trait Stream: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin {}
impl<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin> Stream for T {}

impl Route {
    /// The addresses this request may be sent to.
    async fn addresses(&self) -> Result<Vec<SocketAddr>, Error> {
        let resolved: Vec<SocketAddr> =
            match (self.pins.get(&self.host), self.host.parse::<IpAddr>()) {
                (Some(&ip), _) | (None, Ok(ip)) => vec![SocketAddr::new(ip, self.port)],
                (None, Err(_)) => tokio::net::lookup_host((self.host.as_str(), self.port))
                    .await
                    .map_err(|err| Error::DnsError {
                        rcode: Some(err.to_string()),
                        info_code: None,
                    })?
                    .collect(),
            };
        if self.private_allowed {
            return Ok(resolved);
        }
        let (public, refused): (Vec<SocketAddr>, Vec<SocketAddr>) = resolved
            .into_iter()
            .partition(|address| non_public(address.ip()).is_none());
        if public.is_empty() {
            let described: Vec<String> = refused
                .iter()
                .map(|address| {
                    format!(
                        "{} ({})",
                        address.ip(),
                        non_public(address.ip()).unwrap_or("unknown")
                    )
                })
                .collect();
            self.incidents.record(format!(
                "refused to connect {} to {}: it resolves to {}, which only an exact grant of that origin \
                 may reach (no wildcard); {}",
                self.label,
                self.origin,
                described.join(", "),
                self.advice.allow(&self.origin)
            ));
            return Err(Error::DestinationIpProhibited);
        }
        Ok(public)
    }
}

async fn connect(addresses: &[SocketAddr], timeout: Duration) -> Result<TcpStream, Error> {
    let mut last = Error::DestinationNotFound;
    for address in addresses {
        match tokio::time::timeout(timeout, TcpStream::connect(address)).await {
            Ok(Ok(stream)) => return Ok(stream),
            Ok(Err(err)) => last = Error::Connect(err),
            Err(_) => last = Error::ConnectionTimeout,
        }
    }
    Err(last)
}

async fn tls(
    host: &str,
    tcp: TcpStream,
) -> Result<tokio_rustls::client::TlsStream<TcpStream>, Error> {
    static CONNECTOR: LazyLock<tokio_rustls::TlsConnector> = LazyLock::new(|| {
        let roots = rustls::RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.into(),
        };
        let config = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .expect("ring supports the default TLS versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
        tokio_rustls::TlsConnector::from(Arc::new(config))
    });
    let name = rustls::pki_types::ServerName::try_from(host.to_string())?;
    CONNECTOR.connect(name, tcp).await.map_err(Error::Tls)
}

/// A response body that fails once more than `limit` bytes have come.
struct LimitedBody {
    inner: Incoming,
    remaining: u64,
    limit: u64,
    route: Route,
}

impl Body for LimitedBody {
    type Data = Bytes;
    type Error = Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Error>>> {
        let frame = match Pin::new(&mut self.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => frame,
            Poll::Ready(Some(Err(err))) => return Poll::Ready(Some(Err(Error::from(err)))),
            Poll::Ready(None) => return Poll::Ready(None),
            Poll::Pending => return Poll::Pending,
        };
        let size = frame.data_ref().map_or(0, |data| data.len() as u64);
        match self.remaining.checked_sub(size) {
            Some(remaining) => {
                self.remaining = remaining;
                Poll::Ready(Some(Ok(frame)))
            }
            None => {
                let limit = self.limit;
                self.route.incidents.record(format!(
                    "cut off a response to {} from {} at limits.max_response_bytes = {limit}",
                    self.route.label, self.route.host
                ));
                self.remaining = 0;
                Poll::Ready(Some(Err(Error::HttpResponseBodySize(Some(limit)))))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
