//! A fake of the token endpoints the host mints credentials from, each
//! following its documentation:
//!
//! - OAuth 2.0 client credentials (RFC 6749 §4.4 and §2.3.1; Microsoft
//!   identity platform "client credentials flow"): `POST /oauth2/token` with
//!   `grant_type=client_credentials`, the client id and secret in the form or
//!   in HTTP Basic; `{"access_token", "token_type", "expires_in"}`, or 401
//!   `{"error": "invalid_client", "error_description"}`.
//! - Google service accounts (RFC 7523; Google's "Using OAuth 2.0 for
//!   server to server applications"): `POST /google/token` with
//!   `grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer` and an RS256
//!   `assertion` whose `iss` is the account, `aud` this endpoint, `scope` the
//!   scopes and `sub` the user impersonated; 400 `invalid_grant` otherwise.
//! - GitHub App installation tokens (GitHub REST "Create an installation
//!   access token for an app"): `POST /app/installations/{id}/access_tokens`
//!   with `Authorization: Bearer <RS256 JWT issued by the App>`; 201
//!   `{"token", "expires_at"}`, or 401 `{"message": "A JSON web token could not be decoded"}`.
//!
//! Every signature is checked with the test key's public half.

use super::{Controls, serve};
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

pub const CLIENT_ID: &str = "allsync-client";
pub const CLIENT_SECRET: &str = "client-secret-value-42";
pub const SERVICE_ACCOUNT: &str = "sync@allsync-tests.iam.gserviceaccount.com";
pub const APP_ID: &str = "12345";
pub const INSTALLATION: &str = "678";

/// The test RSA key (PKCS#8), as a service account key file holds it.
pub const PRIVATE_KEY: &str = include_str!("../fixtures/test-key.pem");
/// The same key in PKCS#1, as GitHub hands App keys out.
pub const PRIVATE_KEY_PKCS1: &str = include_str!("../fixtures/test-key-pkcs1.pem");
const PUBLIC_KEY: &str = include_str!("../fixtures/test-key.pub.pem");

/// A running fake token endpoint.
#[derive(Clone)]
pub struct FakeTokens {
    pub addr: SocketAddr,
    state: Arc<Issue>,
}

/// What the fake hands out, and how many tokens it has minted.
struct Issue {
    token: String,
    lifetime_secs: u64,
    minted: AtomicUsize,
    addr: std::sync::OnceLock<SocketAddr>,
}

impl FakeTokens {
    /// Hands out `token`, valid for `lifetime_secs`, to whoever proves the
    /// credentials above.
    pub fn start(token: &str, lifetime_secs: u64) -> Self {
        let state = Arc::new(Issue {
            token: token.into(),
            lifetime_secs,
            minted: AtomicUsize::new(0),
            addr: std::sync::OnceLock::new(),
        });
        let router = Router::new()
            .route("/oauth2/token", post(client_credentials))
            .route("/google/token", post(service_account))
            .route("/app/installations/{id}/access_tokens", post(installation))
            .with_state(state.clone());
        let addr = serve(
            router,
            Controls::default(),
            r#"{"error":"temporarily_unavailable"}"#,
        );
        state.addr.set(addr).expect("set once");
        FakeTokens { addr, state }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// How many tokens it has handed out.
    pub fn minted(&self) -> usize {
        self.state.minted.load(Ordering::SeqCst)
    }

    /// A Google service account key file for the account above, whose
    /// token endpoint is this fake.
    pub fn service_account_key(&self) -> String {
        json!({
            "type": "service_account",
            "client_email": SERVICE_ACCOUNT,
            "private_key_id": "0123456789abcdef",
            "private_key": PRIVATE_KEY,
            "token_uri": self.url("/google/token"),
        })
        .to_string()
    }
}

impl Issue {
    fn mint(&self) -> Value {
        self.minted.fetch_add(1, Ordering::SeqCst);
        json!({ "access_token": self.token, "token_type": "Bearer", "expires_in": self.lifetime_secs })
    }
}

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    let body = json!({ "error": error, "error_description": description });
    (status, axum::Json(body)).into_response()
}

fn form(body: &str) -> Vec<(String, String)> {
    form_urlencoded::parse(body.as_bytes())
        .into_owned()
        .collect()
}

fn field<'a>(form: &'a [(String, String)], name: &str) -> Option<&'a str> {
    form.iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.as_str())
}

/// The client id and secret of HTTP Basic auth, each form-decoded (RFC 6749 §2.3.1).
fn basic(headers: &HeaderMap) -> Option<(String, String)> {
    use base64::Engine;
    let encoded = headers
        .get("authorization")?
        .to_str()
        .ok()?
        .strip_prefix("Basic ")?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .ok()?;
    let (id, secret) = std::str::from_utf8(&decoded).ok()?.split_once(':')?;
    let decode = |text: &str| {
        form_urlencoded::parse(format!("x={text}").as_bytes())
            .next()
            .map(|(_, value)| value.into_owned())
    };
    Some((decode(id)?, decode(secret)?))
}

async fn client_credentials(
    State(issue): State<Arc<Issue>>,
    headers: HeaderMap,
    body: String,
) -> Response {
    let form = form(&body);
    if field(&form, "grant_type") != Some("client_credentials") {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "expected client_credentials",
        );
    }
    let given = basic(&headers).or_else(|| {
        Some((
            field(&form, "client_id")?.to_string(),
            field(&form, "client_secret")?.to_string(),
        ))
    });
    match given {
        Some((id, secret)) if id == CLIENT_ID && secret == CLIENT_SECRET => {
            axum::Json(issue.mint()).into_response()
        }
        _ => oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "AADSTS7000215: Invalid client secret provided.",
        ),
    }
}

/// The claims of a JWT signed with the test key, or why it is not one.
fn verified(jwt: &str, audience: Option<&str>) -> Result<Value, String> {
    let key = DecodingKey::from_rsa_pem(PUBLIC_KEY.as_bytes()).expect("the test public key");
    let mut validation = Validation::new(Algorithm::RS256);
    validation.required_spec_claims = ["exp", "iat", "iss"].map(String::from).into();
    match audience {
        Some(audience) => validation.set_audience(&[audience]),
        None => validation.validate_aud = false,
    }
    jsonwebtoken::decode::<Value>(jwt, &key, &validation)
        .map(|data| data.claims)
        .map_err(|err| err.to_string())
}

async fn service_account(State(issue): State<Arc<Issue>>, body: String) -> Response {
    let form = form(&body);
    if field(&form, "grant_type") != Some("urn:ietf:params:oauth:grant-type:jwt-bearer") {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "expected jwt-bearer",
        );
    }
    let audience = format!(
        "http://{}/google/token",
        issue.addr.get().expect("set at start")
    );
    let claims = match verified(
        field(&form, "assertion").unwrap_or_default(),
        Some(&audience),
    ) {
        Ok(claims) => claims,
        Err(why) => {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_grant",
                &format!("Invalid JWT: {why}"),
            );
        }
    };
    if claims["iss"] != SERVICE_ACCOUNT || claims["scope"].as_str().is_none_or(str::is_empty) {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "Invalid JWT: iss or scope",
        );
    }
    if claims["sub"].as_str().is_none() {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "unauthorized_client",
            "Client is unauthorized to retrieve access tokens using this method, or client not authorized for any of the scopes requested.",
        );
    }
    axum::Json(issue.mint()).into_response()
}

async fn installation(
    State(issue): State<Arc<Issue>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let jwt = headers
        .get("authorization")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .unwrap_or_default();
    let refused = |message: &str| {
        (
            StatusCode::UNAUTHORIZED,
            axum::Json(json!({ "message": message })),
        )
            .into_response()
    };
    match verified(jwt, None) {
        Ok(claims) if claims["iss"] == APP_ID && id == INSTALLATION => {
            issue.minted.fetch_add(1, Ordering::SeqCst);
            let expires =
                std::time::SystemTime::now() + std::time::Duration::from_secs(issue.lifetime_secs);
            let body = json!({
                "token": issue.token,
                "expires_at": humantime::format_rfc3339_seconds(expires).to_string(),
                "permissions": { "members": "write" },
            });
            (StatusCode::CREATED, axum::Json(body)).into_response()
        }
        Ok(_) => refused("Not Found"),
        Err(_) => refused("A JSON web token could not be decoded"),
    }
}
