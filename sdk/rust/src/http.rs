//! A small blocking HTTP client over `wasi:http`, with JSON bodies.
//!
//! ```ignore
//! let members: Vec<String> = Request::get(&url).bearer(token).send()?.success("list members")?.json()?;
//! ```
//!
//! The host decides which origins an adapter may reach; a refused request
//! fails with an error that says so.

use crate::Error;
use crate::bindings::wasi::http::outgoing_handler;
use crate::bindings::wasi::http::types::{
    ErrorCode, Fields, FutureIncomingResponse, IncomingBody, IncomingResponse, Method,
    OutgoingBody, OutgoingRequest, Scheme,
};
use crate::bindings::wasi::io::poll::{Pollable, poll};
use crate::bindings::wasi::io::streams::StreamError;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Bytes written to a request body per `wasi:io` call (the stream's limit).
const WRITE_CHUNK: usize = 4096;
/// Bytes asked for per read of a response body.
const READ_CHUNK: u64 = 64 * 1024;

/// An HTTP request, built then [sent](Request::send).
#[derive(Debug, Clone)]
pub struct Request {
    method: Method,
    url: String,
    headers: Vec<(String, String)>,
    body: Option<Vec<u8>>,
}

/// A complete HTTP response.
#[derive(Debug, Clone)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// Header names (lower case) and values, in order.
    pub headers: Vec<(String, String)>,
    /// The whole body.
    pub body: Vec<u8>,
}

impl Request {
    /// A `GET` of `url`.
    pub fn get(url: &str) -> Self {
        Self::new(Method::Get, url)
    }

    /// A `POST` to `url`.
    pub fn post(url: &str) -> Self {
        Self::new(Method::Post, url)
    }

    /// A `PUT` to `url`.
    pub fn put(url: &str) -> Self {
        Self::new(Method::Put, url)
    }

    /// A `PATCH` of `url`.
    pub fn patch(url: &str) -> Self {
        Self::new(Method::Patch, url)
    }

    /// A `DELETE` of `url`.
    pub fn delete(url: &str) -> Self {
        Self::new(Method::Delete, url)
    }

    fn new(method: Method, url: &str) -> Self {
        Request {
            method,
            url: url.to_string(),
            headers: vec![("user-agent".into(), "allsync-adapter".into())],
            body: None,
        }
    }

    /// Adds a header.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    /// Adds `Authorization: Bearer <token>`.
    pub fn bearer(self, token: &str) -> Self {
        self.header("authorization", &format!("Bearer {token}"))
    }

    /// Adds `Authorization: Bearer <token>` if there is a token. Without
    /// one, the request goes as it is: where the operator configured
    /// `credentials` for this instance, the host adds a token it minted
    /// (and the adapter never sees it).
    pub fn bearer_if_any(self, token: Option<&str>) -> Self {
        match token {
            Some(token) => self.bearer(token),
            None => self,
        }
    }

    /// Sets a JSON body and its content type.
    pub fn json<T: Serialize + ?Sized>(mut self, body: &T) -> Result<Self, Error> {
        let bytes = serde_json::to_vec(body)
            .map_err(|err| Error::Other(format!("could not encode a JSON body: {err}")))?;
        self.body = Some(bytes);
        Ok(self.header("content-type", "application/json; charset=utf-8"))
    }

    /// Sets a raw body; set its content type with [`Request::header`].
    pub fn body(mut self, bytes: Vec<u8>) -> Self {
        self.body = Some(bytes);
        self
    }

    /// Sends the request and reads the whole response.
    ///
    /// Fails only when no response came back (refused by the host, DNS,
    /// connection, TLS); an error status is still a response.
    pub fn send(self) -> Result<Response, Error> {
        let pending = self.start()?;
        pending.future.subscribe().block();
        pending.finish()
    }

    /// Starts the request: it is on its way when this returns.
    fn start(self) -> Result<Pending, Error> {
        let target = Target::parse(&self.url)?;
        let fields = Fields::new();
        for (name, value) in &self.headers {
            fields
                .append(name, value.as_bytes())
                .map_err(|err| Error::Other(format!("invalid header `{name}`: {err:?}")))?;
        }
        let request = OutgoingRequest::new(fields);
        let invalid = |part: &str| Error::Other(format!("invalid {part} in URL `{}`", self.url));
        request
            .set_method(&self.method)
            .map_err(|()| invalid("method"))?;
        request
            .set_scheme(Some(&target.scheme))
            .map_err(|()| invalid("scheme"))?;
        request
            .set_authority(Some(&target.authority))
            .map_err(|()| invalid("host"))?;
        request
            .set_path_with_query(Some(&target.path))
            .map_err(|()| invalid("path"))?;
        let body = request.body().map_err(|()| invalid("body"))?;
        let future =
            outgoing_handler::handle(request, None).map_err(|err| transport(&self, err))?;
        write_body(&body, self.body.as_deref().unwrap_or_default())?;
        OutgoingBody::finish(body, None).map_err(|err| transport(&self, err))?;
        Ok(Pending {
            request: self,
            future,
        })
    }

    fn method_name(&self) -> &str {
        match &self.method {
            Method::Get => "GET",
            Method::Head => "HEAD",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Delete => "DELETE",
            Method::Connect => "CONNECT",
            Method::Options => "OPTIONS",
            Method::Trace => "TRACE",
            Method::Patch => "PATCH",
            Method::Other(other) => other,
        }
    }
}

impl Response {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// Whether the status is 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The body as text (lossy UTF-8).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body parsed as JSON into `T`.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, Error> {
        serde_json::from_slice(&self.body).map_err(|err| {
            Error::Other(format!(
                "unexpected response body (HTTP {}): {err}: {}",
                self.status,
                snippet(&self.text())
            ))
        })
    }

    /// This response if its status is 2xx; otherwise the matching error:
    /// a rate limit (429, or 403 with `Retry-After` or an exhausted
    /// `x-ratelimit-remaining`) `rate-limited`, 401/403 `unauthorized`, 404
    /// `not-found`, anything else `other`. `what` names the operation.
    pub fn success(self, what: &str) -> Result<Self, Error> {
        if self.is_success() {
            return Ok(self);
        }
        if let Some(seconds) = self.rate_limited() {
            return Err(Error::RateLimited(seconds));
        }
        let detail = format!("{what}: HTTP {}: {}", self.status, snippet(&self.text()));
        Err(match self.status {
            401 | 403 => Error::Unauthorized(detail),
            404 => Error::NotFound(detail),
            _ => Error::Other(detail),
        })
    }

    /// The seconds to wait, if this response is a rate limit: a 429 (1 s
    /// unless it says), or a 403 that says when to come back (`Retry-After`,
    /// or `x-ratelimit-remaining: 0` with `x-ratelimit-reset`), as GitHub's
    /// secondary and primary rate limits answer.
    pub fn rate_limited(&self) -> Option<u32> {
        let exhausted = self.header("x-ratelimit-remaining").map(str::trim) == Some("0");
        let wait = self
            .retry_after()
            .or_else(|| exhausted.then(|| self.ratelimit_reset()).flatten());
        match self.status {
            429 => Some(wait.unwrap_or(1)),
            403 if wait.is_some() || exhausted => Some(wait.unwrap_or(60)),
            _ => None,
        }
    }

    /// The `rel="next"` URL of a `Link` header (RFC 8288), as GitHub and
    /// others paginate.
    pub fn next_link(&self) -> Option<String> {
        self.header("link")?.split(',').find_map(|link| {
            let (target, params) = link.split_once(';')?;
            let is_next = params.split(';').any(|param| {
                param
                    .trim()
                    .replace(' ', "")
                    .eq_ignore_ascii_case("rel=\"next\"")
            });
            is_next.then(|| {
                target
                    .trim()
                    .trim_start_matches('<')
                    .trim_end_matches('>')
                    .to_string()
            })
        })
    }

    /// Seconds from a `Retry-After` header, rounded up, in either of its
    /// forms: a number of seconds (Microsoft Graph sends fractions), or an
    /// HTTP date (counted from now).
    pub fn retry_after(&self) -> Option<u32> {
        let value = self.header("retry-after")?.trim();
        match value.parse::<f64>() {
            Ok(seconds) if seconds.is_finite() && seconds >= 0.0 => {
                Some(seconds.ceil().min(f64::from(u32::MAX)) as u32)
            }
            Ok(_) => None,
            Err(_) => seconds_until(httpdate::parse_http_date(value).ok()?),
        }
    }

    /// Seconds until `x-ratelimit-reset`: Unix time (GitHub), or seconds
    /// from now (Terraform Cloud, which may send a fraction).
    fn ratelimit_reset(&self) -> Option<u32> {
        let value: f64 = self.header("x-ratelimit-reset")?.trim().parse().ok()?;
        if !value.is_finite() || value < 0.0 {
            return None;
        }
        // A reset written as a Unix time is far past any sane wait in seconds.
        const UNIX_TIME_FROM: f64 = 1_000_000_000.0;
        match value >= UNIX_TIME_FROM {
            true => seconds_until(UNIX_EPOCH + Duration::from_secs(value as u64)),
            false => Some(value.ceil() as u32),
        }
    }
}

/// `name=value&...` with each part percent-encoded, for a query string or
/// an `application/x-www-form-urlencoded` body.
pub fn form(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(name, value)| format!("{}={}", encode(name), encode(value)))
        .collect::<Vec<_>>()
        .join("&")
}

/// Every item of a list served in pages: sends `first`, and hands each
/// response to `page`, which returns that page's items and the request for
/// the next page, if there is one (from a `Link` header, a next URL or
/// cursor in the body, an offset). The host bounds the pages a call may
/// fetch (`limits.max_requests_per_call`), so a server that never stops
/// cannot keep an adapter going.
///
/// ```ignore
/// let members: Vec<Member> = follow_pages(Request::get(&url).bearer(token), |response| {
///     let response = response.success("list members")?;
///     let next = response.next_link().map(|url| Request::get(&url).bearer(token));
///     Ok((response.json()?, next))
/// })?;
/// ```
pub fn follow_pages<T>(
    first: Request,
    mut page: impl FnMut(Response) -> Result<(Vec<T>, Option<Request>), Error>,
) -> Result<Vec<T>, Error> {
    let mut items = Vec::new();
    let mut next = Some(first);
    while let Some(request) = next {
        let (found, following) = page(request.send()?)?;
        items.extend(found);
        next = following;
    }
    Ok(items)
}

/// Sends `requests` with up to `concurrency` of them in flight at once, and
/// returns each one's outcome in the same order. For APIs that take one item
/// per request (team memberships, group members, lookups): the host still
/// waits out each 429 and retries each outage on its own.
pub fn send_all(requests: Vec<Request>, concurrency: usize) -> Vec<Result<Response, Error>> {
    let mut outcomes: Vec<Option<Result<Response, Error>>> =
        requests.iter().map(|_| None).collect();
    let mut waiting = requests.into_iter().enumerate();
    let mut in_flight: Vec<(usize, Pending)> = Vec::new();
    loop {
        while in_flight.len() < concurrency.max(1) {
            let Some((index, request)) = waiting.next() else {
                break;
            };
            match request.start() {
                Ok(pending) => in_flight.push((index, pending)),
                Err(err) => outcomes[index] = Some(Err(err)),
            }
        }
        if in_flight.is_empty() {
            break;
        }
        let pollables: Vec<Pollable> = in_flight
            .iter()
            .map(|(_, pending)| pending.future.subscribe())
            .collect();
        let mut ready = poll(&pollables.iter().collect::<Vec<_>>());
        drop(pollables);
        // Highest first, so each swap_remove leaves the lower indices in place.
        ready.sort_unstable_by(|a, b| b.cmp(a));
        ready.dedup();
        for slot in ready {
            let (index, pending) = in_flight.swap_remove(slot as usize);
            outcomes[index] = Some(pending.finish());
        }
    }
    outcomes
        .into_iter()
        .map(|outcome| outcome.expect("every request ends"))
        .collect()
}

/// A request on its way.
struct Pending {
    request: Request,
    future: FutureIncomingResponse,
}

impl Pending {
    /// Waits for the response, and reads it whole.
    fn finish(self) -> Result<Response, Error> {
        let request = self.request;
        let response = loop {
            match self.future.get() {
                Some(Ok(Ok(response))) => break response,
                Some(Ok(Err(err))) => return Err(transport(&request, err)),
                Some(Err(())) => return Err(Error::Other("response was already taken".into())),
                None => self.future.subscribe().block(),
            }
        };
        read_response(response).map_err(|err| match err {
            Error::Other(message) => Error::Other(format!(
                "{} {}: {message}",
                request.method_name(),
                request.url
            )),
            other => other,
        })
    }
}

/// Percent-encodes `value` for use in a URL path segment or query value.
pub fn encode(value: &str) -> String {
    const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'.')
        .remove(b'_')
        .remove(b'~');
    utf8_percent_encode(value, UNRESERVED).to_string()
}

/// Where a URL points: the parts `wasi:http` takes separately.
struct Target {
    scheme: Scheme,
    authority: String,
    path: String,
}

impl Target {
    fn parse(url: &str) -> Result<Self, Error> {
        let invalid = || Error::InvalidConfig(format!("`{url}` is not an http:// or https:// URL"));
        let (scheme, rest) = url.split_once("://").ok_or_else(invalid)?;
        let scheme = match scheme.to_ascii_lowercase().as_str() {
            "http" => Scheme::Http,
            "https" => Scheme::Https,
            _ => return Err(invalid()),
        };
        let split = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, path) = rest.split_at(split);
        if authority.is_empty() {
            return Err(invalid());
        }
        let path = match path {
            "" => "/".to_string(),
            query if query.starts_with('?') => format!("/{query}"),
            path => path.to_string(),
        };
        Ok(Target {
            scheme,
            authority: authority.to_string(),
            path,
        })
    }
}

fn write_body(body: &OutgoingBody, bytes: &[u8]) -> Result<(), Error> {
    if bytes.is_empty() {
        return Ok(());
    }
    let stream = body
        .write()
        .map_err(|()| Error::Other("request body stream unavailable".into()))?;
    for chunk in bytes.chunks(WRITE_CHUNK) {
        stream.blocking_write_and_flush(chunk).map_err(|err| {
            Error::Other(format!(
                "could not send the request body: {}",
                stream_error(err)
            ))
        })?;
    }
    Ok(())
}

fn read_response(response: IncomingResponse) -> Result<Response, Error> {
    let status = response.status();
    let headers = response
        .headers()
        .entries()
        .into_iter()
        .map(|(name, value)| (name, String::from_utf8_lossy(&value).into_owned()))
        .collect();
    let incoming = response
        .consume()
        .map_err(|()| Error::Other("response body unavailable".into()))?;
    let body = read_body(&incoming)?;
    IncomingBody::finish(incoming);
    Ok(Response {
        status,
        headers,
        body,
    })
}

fn read_body(incoming: &IncomingBody) -> Result<Vec<u8>, Error> {
    let stream = incoming
        .stream()
        .map_err(|()| Error::Other("response body stream unavailable".into()))?;
    let mut body = Vec::new();
    loop {
        match stream.blocking_read(READ_CHUNK) {
            Ok(chunk) => body.extend_from_slice(&chunk),
            Err(StreamError::Closed) => return Ok(body),
            Err(err) => {
                return Err(Error::Other(format!(
                    "response body broke off: {}",
                    stream_error(err)
                )));
            }
        }
    }
}

fn stream_error(err: StreamError) -> String {
    match err {
        StreamError::Closed => "stream closed".to_string(),
        // The host's debug string may go on with a backtrace: keep its first line.
        StreamError::LastOperationFailed(err) => err
            .to_debug_string()
            .lines()
            .next()
            .unwrap_or_default()
            .to_string(),
    }
}

fn transport(request: &Request, err: ErrorCode) -> Error {
    let why = match err {
        ErrorCode::HttpRequestDenied => {
            "refused by the allsync host (it says why next to this error)".to_string()
        }
        other => format!("{other:?}"),
    };
    Error::Other(format!("{} {}: {why}", request.method_name(), request.url))
}

/// Whole seconds from now until `time` (0 if it has passed), rounded up.
fn seconds_until(time: SystemTime) -> Option<u32> {
    let wait = time
        .duration_since(SystemTime::now())
        .unwrap_or(Duration::ZERO);
    let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    Some(u32::try_from(seconds).unwrap_or(u32::MAX))
}

fn snippet(text: &str) -> &str {
    const LIMIT: usize = 300;
    match text.char_indices().nth(LIMIT) {
        Some((end, _)) => &text[..end],
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_a_url_into_the_parts_wasi_http_takes() {
        let target = Target::parse("https://slack.com:8443/api/x?y=1").unwrap();
        assert!(matches!(target.scheme, Scheme::Https));
        assert_eq!(target.authority, "slack.com:8443");
        assert_eq!(target.path, "/api/x?y=1");
        assert_eq!(Target::parse("http://h?q").unwrap().path, "/?q");
        assert_eq!(Target::parse("http://h").unwrap().path, "/");
        assert!(Target::parse("ftp://h/").is_err());
        assert!(Target::parse("http:///x").is_err());
    }

    #[test]
    fn encodes_emails_for_query_strings() {
        assert_eq!(encode("a+b@x.com"), "a%2Bb%40x.com");
        assert_eq!(
            form(&[("users", "U1,U2"), ("e", "a b")]),
            "users=U1%2CU2&e=a%20b"
        );
    }

    fn answer(status: u16, headers: &[(&str, &str)]) -> Response {
        Response {
            status,
            headers: headers
                .iter()
                .map(|(name, value)| (name.to_string(), value.to_string()))
                .collect(),
            body: b"{}".to_vec(),
        }
    }

    #[test]
    fn rate_limits_are_told_apart_from_refusals() {
        assert_eq!(answer(429, &[("retry-after", "7")]).rate_limited(), Some(7));
        assert_eq!(
            answer(429, &[("retry-after", "2.128")]).rate_limited(),
            Some(3)
        );
        assert_eq!(answer(429, &[]).rate_limited(), Some(1));
        assert_eq!(
            answer(403, &[("Retry-After", "30")]).rate_limited(),
            Some(30)
        );
        let exhausted = answer(403, &[("x-ratelimit-remaining", "0")]);
        assert_eq!(exhausted.rate_limited(), Some(60));
        let reset = answer(
            429,
            &[("x-ratelimit-remaining", "0"), ("x-ratelimit-reset", "2.5")],
        );
        assert_eq!(reset.rate_limited(), Some(3));
        assert_eq!(answer(403, &[]).rate_limited(), None);
        assert!(matches!(
            answer(403, &[]).success("read"),
            Err(Error::Unauthorized(_))
        ));
        assert!(matches!(
            answer(403, &[("retry-after", "5")]).success("read"),
            Err(Error::RateLimited(5))
        ));
    }

    #[test]
    fn retry_after_may_be_an_http_date() {
        let in_a_minute = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(60));
        let wait = answer(429, &[("retry-after", &in_a_minute)])
            .retry_after()
            .unwrap();
        assert!((59..=61).contains(&wait), "{wait}");
        let past = answer(429, &[("retry-after", "Wed, 21 Oct 2015 07:28:00 GMT")]);
        assert_eq!(past.retry_after(), Some(0));
        let unix = (SystemTime::now() + Duration::from_secs(120))
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs()
            .to_string();
        let wait = answer(
            403,
            &[("x-ratelimit-remaining", "0"), ("x-ratelimit-reset", &unix)],
        )
        .rate_limited()
        .unwrap();
        assert!((118..=121).contains(&wait), "{wait}");
    }

    #[test]
    fn finds_the_next_page_in_a_link_header() {
        let response = |link: &str| Response {
            status: 200,
            headers: vec![("link".into(), link.into())],
            body: Vec::new(),
        };
        let link = r#"<https://api.github.com/x?page=2>; rel="next", <https://api.github.com/x?page=5>; rel="last""#;
        assert_eq!(
            response(link).next_link().as_deref(),
            Some("https://api.github.com/x?page=2")
        );
        let last = r#"<https://api.github.com/x?page=1>; rel="prev""#;
        assert_eq!(response(last).next_link(), None);
    }
}
