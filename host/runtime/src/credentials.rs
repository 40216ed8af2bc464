//! Credentials the host holds for an adapter instance, so a sync can run
//! unattended: it mints short-lived access tokens itself and adds them, as
//! `Authorization: Bearer`, to the instance's requests to its granted
//! origins. The private key or client secret never enters the sandbox,
//! and neither does the token: an adapter cannot leak what it never sees.
//! A token is reused until shortly before it expires, then minted again.
//!
//! Three kinds:
//! - OAuth 2.0 client credentials (RFC 6749 §4.4): Microsoft Entra ID, or
//!   any token endpoint;
//! - a Google service account: a JWT signed RS256 with its key, exchanged
//!   for a token (RFC 7523), with domain-wide delegation to `subject`;
//! - a GitHub App installation: a JWT signed RS256 with the App's key,
//!   exchanged for an installation token.

use super::activity::Activity;
use super::budget::Budgets;
use super::retry;
use super::route::{GrantAdvice, Incidents, Pins, RetryPolicy, Route};
use super::secrets::Secrets;
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::sync::Mutex;
use tokio::time::Instant;

/// How long before it expires a token is replaced, at most.
const REFRESH_MARGIN: Duration = Duration::from_secs(60);
/// The most bytes of a token endpoint's answer read.
const MAX_ANSWER_BYTES: usize = 1024 * 1024;
/// How long a JWT sent to a token endpoint is valid (GitHub allows at most 10 minutes).
const ASSERTION_LIFETIME: Duration = Duration::from_secs(9 * 60);

/// Why a token could not be had.
#[derive(Debug, Clone, thiserror::Error)]
pub enum CredentialError {
    /// The configured key or secret is unusable.
    #[error("{0}")]
    Invalid(String),
    /// The token endpoint could not be reached.
    #[error("cannot reach the token endpoint {endpoint}: {why}")]
    Unreachable {
        /// The endpoint.
        endpoint: String,
        /// Why.
        why: String,
    },
    /// The token endpoint refused the credentials.
    #[error("the token endpoint {endpoint} refused these credentials (HTTP {status}: {why})")]
    Refused {
        /// The endpoint.
        endpoint: String,
        /// Its HTTP status.
        status: u16,
        /// What it said, secrets redacted.
        why: String,
    },
    /// The token endpoint answered something that is not a token.
    #[error("the token endpoint {endpoint} gave no usable token: {why}")]
    Unusable {
        /// The endpoint.
        endpoint: String,
        /// What is wrong with the answer.
        why: String,
    },
}

/// What the operator configured for one instance.
#[derive(Debug, Clone)]
pub enum CredentialSpec {
    /// OAuth 2.0 client credentials.
    ClientCredentials {
        /// The token endpoint.
        token_url: String,
        /// The client's id.
        client_id: String,
        /// The client's secret.
        client_secret: String,
        /// The scope asked for, if any.
        scope: Option<String>,
        /// Send id and secret with HTTP Basic (`client_secret_basic`)
        /// rather than in the form (`client_secret_post`).
        basic_auth: bool,
    },
    /// A Google service account key file's contents.
    GoogleServiceAccount {
        /// The key file, as JSON.
        key: String,
        /// The user to act as (domain-wide delegation), if any.
        subject: Option<String>,
        /// The OAuth scopes asked for.
        scopes: Vec<String>,
    },
    /// A GitHub App installation.
    GitHubApp {
        /// The App's id (or client id).
        app_id: String,
        /// The installation's id.
        installation_id: String,
        /// The App's private key, PEM.
        private_key: String,
        /// The REST API base (`https://api.github.com`, or GHES's `/api/v3`).
        api_url: String,
    },
}

impl CredentialSpec {
    /// The kind, as written in `allsync.toml`.
    pub fn kind(&self) -> &'static str {
        match self {
            CredentialSpec::ClientCredentials { .. } => "oauth2-client-credentials",
            CredentialSpec::GoogleServiceAccount { .. } => "google-service-account",
            CredentialSpec::GitHubApp { .. } => "github-app",
        }
    }
}

/// A way of minting tokens, ready to use.
enum Minter {
    ClientCredentials {
        token_url: String,
        client_id: String,
        client_secret: String,
        scope: Option<String>,
        basic_auth: bool,
    },
    Google {
        client_email: String,
        key: EncodingKey,
        token_url: String,
        subject: Option<String>,
        scope: String,
    },
    GitHubApp {
        app_id: String,
        key: EncodingKey,
        token_url: String,
    },
}

/// The credentials of one instance, and the token they last gave.
pub struct Credentials {
    minter: Minter,
    /// Where tokens come from, for messages: the kind and the endpoint.
    describe: String,
    label: Arc<str>,
    pins: Pins,
    secrets: Secrets,
    token: Mutex<Option<Token>>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the key, the secret or the token.
        f.debug_tuple("Credentials").field(&self.describe).finish()
    }
}

struct Token {
    value: String,
    replace_at: Instant,
}

/// A Google service account key file: the fields used.
#[derive(Deserialize)]
struct ServiceAccountKey {
    client_email: String,
    private_key: String,
    #[serde(default = "google_token_uri")]
    token_uri: String,
}

fn google_token_uri() -> String {
    "https://oauth2.googleapis.com/token".into()
}

/// The claims of a JWT sent to a token endpoint.
#[derive(Serialize)]
struct Claims<'a> {
    iss: &'a str,
    iat: u64,
    exp: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    aud: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    scope: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sub: Option<&'a str>,
}

impl Credentials {
    /// Credentials for instance `label` from `spec`; names in `pins` are
    /// resolved as for the instance's own requests.
    pub fn new(spec: CredentialSpec, label: &str, pins: Pins) -> Result<Self, CredentialError> {
        let invalid = CredentialError::Invalid;
        let (minter, secret) = match spec {
            CredentialSpec::ClientCredentials {
                token_url,
                client_id,
                client_secret,
                scope,
                basic_auth,
            } => {
                let secret = client_secret.clone();
                let minter = Minter::ClientCredentials {
                    token_url,
                    client_id,
                    client_secret,
                    scope,
                    basic_auth,
                };
                (minter, Some(secret))
            }
            CredentialSpec::GoogleServiceAccount {
                key,
                subject,
                scopes,
            } => {
                let key: ServiceAccountKey = serde_json::from_str(&key).map_err(|err| {
                    invalid(format!(
                        "not a Google service account key file (JSON with client_email and private_key): {err}"
                    ))
                })?;
                if scopes.is_empty() {
                    return Err(invalid(
                        "a Google service account needs `scopes`, e.g. \
                         [\"https://www.googleapis.com/auth/admin.directory.group.member\"]"
                            .into(),
                    ));
                }
                let minter = Minter::Google {
                    client_email: key.client_email,
                    key: rsa_key(&key.private_key)?,
                    token_url: key.token_uri,
                    subject,
                    scope: scopes.join(" "),
                };
                (minter, None)
            }
            CredentialSpec::GitHubApp {
                app_id,
                installation_id,
                private_key,
                api_url,
            } => {
                let token_url = format!(
                    "{}/app/installations/{}/access_tokens",
                    api_url.trim_end_matches('/'),
                    installation_id
                );
                let minter = Minter::GitHubApp {
                    app_id,
                    key: rsa_key(&private_key)?,
                    token_url,
                };
                (minter, None)
            }
        };
        let describe = format!("{} from {}", minter.kind(), minter.token_url());
        Ok(Credentials {
            minter,
            describe,
            label: format!("the credentials of {label}").into(),
            pins,
            secrets: Secrets::new(secret),
            token: Mutex::new(None),
        })
    }

    /// Where its tokens come from, e.g. "github-app from https://api.github.com/...".
    pub fn describe(&self) -> &str {
        &self.describe
    }

    /// A token, minted if there is none or the last is about to expire.
    pub async fn token(&self) -> Result<String, CredentialError> {
        let mut token = self.token.lock().await;
        if let Some(token) = token
            .as_ref()
            .filter(|token| Instant::now() < token.replace_at)
        {
            return Ok(token.value.clone());
        }
        let (value, lifetime) = self.mint().await?;
        let margin = REFRESH_MARGIN.min(lifetime / 2);
        *token = Some(Token {
            value: value.clone(),
            replace_at: Instant::now() + lifetime.saturating_sub(margin),
        });
        Ok(value)
    }

    /// Forgets the current token (the service refused it), so the next
    /// request gets a fresh one.
    pub async fn forget(&self) {
        *self.token.lock().await = None;
    }

    /// Asks the token endpoint for a token, and how long it lasts.
    async fn mint(&self) -> Result<(String, Duration), CredentialError> {
        let endpoint = self.minter.token_url().to_string();
        let request = self.minter.request()?;
        let (status, answer) = self.send(request).await?;
        let refused = |why: String| CredentialError::Refused {
            endpoint: endpoint.clone(),
            status,
            why: self.secrets.redact(&why),
        };
        if !(200..300).contains(&status) {
            return Err(refused(refusal(&answer)));
        }
        self.minter
            .token_from(&answer)
            .map_err(|why| CredentialError::Unusable {
                endpoint: endpoint.clone(),
                why,
            })
    }

    /// Sends `request` to the token endpoint; its status and JSON answer.
    async fn send(
        &self,
        request: http::Request<Full<Bytes>>,
    ) -> Result<(u16, Value), CredentialError> {
        let endpoint = request.uri().to_string();
        let unreachable = |why: String| CredentialError::Unreachable {
            endpoint: endpoint.clone(),
            why,
        };
        let route = self.route(request.uri()).map_err(unreachable)?;
        let request = request.map(|body| body.map_err(|never| match never {}).boxed_unsync());
        let (response, _) = retry::send(request, None, route)
            .await
            .map_err(|err| unreachable(err.to_string()))?;
        let status = response.status().as_u16();
        let body = Limited::new(response.into_body(), MAX_ANSWER_BYTES)
            .collect()
            .await
            .map_err(|err| unreachable(format!("its answer broke off: {err}")))?
            .to_bytes();
        let answer = serde_json::from_slice(&body).unwrap_or(Value::Null);
        Ok((status, answer))
    }

    /// How to reach the token endpoint: the operator configured it, so any
    /// address is allowed, names in `resolve` included.
    fn route(&self, uri: &http::Uri) -> Result<Route, String> {
        let https = match uri.scheme_str() {
            Some("https") => true,
            Some("http") => false,
            _ => return Err("it must be an http:// or https:// URL".into()),
        };
        let host = uri.host().ok_or("it has no host")?;
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_ascii_lowercase();
        let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
        Ok(Route {
            origin: format!("{}://{host}:{port}", uri.scheme_str().unwrap_or_default()),
            advice: GrantAdvice::ConfigFile,
            host,
            port,
            https,
            private_allowed: true,
            pins: self.pins.clone(),
            max_response_bytes: MAX_ANSWER_BYTES as u64,
            max_request_bytes: MAX_ANSWER_BYTES as u64,
            incidents: Incidents::new(self.secrets.clone()),
            label: self.label.clone(),
            retry: RetryPolicy {
                max_retries: 2,
                max_wait: Duration::from_secs(30),
            },
            budgets: Budgets::default(),
            activity: Activity::default(),
        })
    }
}

impl Minter {
    fn kind(&self) -> &'static str {
        match self {
            Minter::ClientCredentials { .. } => "oauth2-client-credentials",
            Minter::Google { .. } => "google-service-account",
            Minter::GitHubApp { .. } => "github-app",
        }
    }

    fn token_url(&self) -> &str {
        match self {
            Minter::ClientCredentials { token_url, .. }
            | Minter::Google { token_url, .. }
            | Minter::GitHubApp { token_url, .. } => token_url,
        }
    }

    /// The request that asks for a token.
    fn request(&self) -> Result<http::Request<Full<Bytes>>, CredentialError> {
        let builder = http::Request::post(self.token_url()).header("user-agent", "allsync");
        let invalid =
            |err: http::Error| CredentialError::Invalid(format!("bad token request: {err}"));
        match self {
            Minter::ClientCredentials {
                client_id,
                client_secret,
                scope,
                basic_auth,
                ..
            } => {
                let mut form = form_urlencoded::Serializer::new(String::new());
                form.append_pair("grant_type", "client_credentials");
                if let Some(scope) = scope {
                    form.append_pair("scope", scope);
                }
                let builder = match basic_auth {
                    true => builder.header("authorization", basic(client_id, client_secret)),
                    false => {
                        form.append_pair("client_id", client_id);
                        form.append_pair("client_secret", client_secret);
                        builder
                    }
                };
                builder
                    .header("content-type", "application/x-www-form-urlencoded")
                    .header("accept", "application/json")
                    .body(Full::new(Bytes::from(form.finish())))
                    .map_err(invalid)
            }
            Minter::Google {
                client_email,
                key,
                token_url,
                subject,
                scope,
            } => {
                let assertion = sign(
                    key,
                    &Claims {
                        iss: client_email,
                        aud: Some(token_url),
                        scope: Some(scope),
                        sub: subject.as_deref(),
                        ..Claims::now(client_email)
                    },
                )?;
                let form = form_urlencoded::Serializer::new(String::new())
                    .append_pair("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer")
                    .append_pair("assertion", &assertion)
                    .finish();
                builder
                    .header("content-type", "application/x-www-form-urlencoded")
                    .header("accept", "application/json")
                    .body(Full::new(Bytes::from(form)))
                    .map_err(invalid)
            }
            Minter::GitHubApp { app_id, key, .. } => {
                let jwt = sign(key, &Claims::now(app_id))?;
                builder
                    .header("authorization", format!("Bearer {jwt}"))
                    .header("accept", "application/vnd.github+json")
                    .header("x-github-api-version", "2022-11-28")
                    .body(Full::new(Bytes::new()))
                    .map_err(invalid)
            }
        }
    }

    /// The token in a successful answer, and how long it lasts.
    fn token_from(&self, answer: &Value) -> Result<(String, Duration), String> {
        let text = |name: &str| {
            answer[name]
                .as_str()
                .filter(|value| !value.is_empty())
                .map(String::from)
                .ok_or_else(|| format!("no `{name}` in its answer"))
        };
        match self {
            Minter::GitHubApp { .. } => {
                let token = text("token")?;
                let expires_at = text("expires_at")?;
                let expires_at = humantime::parse_rfc3339(&expires_at)
                    .map_err(|err| format!("`expires_at` is not a time: {err}"))?;
                let lifetime = expires_at
                    .duration_since(SystemTime::now())
                    .unwrap_or(Duration::ZERO);
                Ok((token, lifetime))
            }
            Minter::ClientCredentials { .. } | Minter::Google { .. } => {
                let token = text("access_token")?;
                // RFC 6749 makes expires_in a number; some servers send a string.
                let seconds = match &answer["expires_in"] {
                    Value::Number(number) => number.as_u64(),
                    Value::String(text) => text.parse().ok(),
                    _ => None,
                }
                .ok_or("no `expires_in` (seconds) in its answer")?;
                Ok((token, Duration::from_secs(seconds)))
            }
        }
    }
}

impl<'a> Claims<'a> {
    /// Claims issued by `issuer` now, valid for [`ASSERTION_LIFETIME`]
    /// (back-dated a minute against clock drift, as GitHub advises).
    fn now(issuer: &'a str) -> Self {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        Claims {
            iss: issuer,
            iat: now.saturating_sub(60),
            exp: now + ASSERTION_LIFETIME.as_secs(),
            aud: None,
            scope: None,
            sub: None,
        }
    }
}

fn sign(key: &EncodingKey, claims: &Claims) -> Result<String, CredentialError> {
    jsonwebtoken::encode(&Header::new(Algorithm::RS256), claims, key)
        .map_err(|err| CredentialError::Invalid(format!("cannot sign a JWT with the key: {err}")))
}

/// An RSA private key from PEM (PKCS#1 or PKCS#8); the error never quotes it.
fn rsa_key(pem: &str) -> Result<EncodingKey, CredentialError> {
    EncodingKey::from_rsa_pem(pem.as_bytes()).map_err(|err| {
        CredentialError::Invalid(format!(
            "the private key is not an RSA key in PEM form ({err})"
        ))
    })
}

fn basic(id: &str, secret: &str) -> String {
    use base64::Engine;
    let encode = |text: &str| form_urlencoded::byte_serialize(text.as_bytes()).collect::<String>();
    let pair = format!("{}:{}", encode(id), encode(secret));
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(pair)
    )
}

/// What a refusing token endpoint said: OAuth's `error` and
/// `error_description`, or GitHub's `message`.
fn refusal(answer: &Value) -> String {
    let field = |name: &str| answer[name].as_str().map(allsync_engine::text::one_line);
    match (field("error"), field("error_description"), field("message")) {
        (Some(error), Some(description), _) => format!("{error}: {description}"),
        (Some(error), None, _) => error,
        (None, _, Some(message)) => message,
        _ => "no reason given".into(),
    }
}

#[cfg(test)]
mod tests;
