//! The parts of minting that need no token endpoint: reading answers and
//! refusals, and building requests. The end-to-end tests run each kind
//! against a local fake token endpoint.

use super::*;

fn client_credentials(basic_auth: bool) -> Credentials {
    let spec = CredentialSpec::ClientCredentials {
        token_url: "https://login.example.test/tenant/oauth2/v2.0/token".into(),
        client_id: "client id".into(),
        client_secret: "s3cret&value=1".into(),
        scope: Some("https://graph.microsoft.com/.default".into()),
        basic_auth,
    };
    Credentials::new(spec, "job `a` source", Pins::default()).unwrap()
}

fn body(request: http::Request<Full<Bytes>>) -> String {
    let bytes = futures_util::FutureExt::now_or_never(request.into_body().collect())
        .unwrap()
        .unwrap()
        .to_bytes();
    String::from_utf8(bytes.to_vec()).unwrap()
}

#[test]
fn client_credentials_go_in_the_form_or_in_basic_auth() {
    let form = body(client_credentials(false).minter.request().unwrap());
    assert_eq!(
        form,
        "grant_type=client_credentials&scope=https%3A%2F%2Fgraph.microsoft.com%2F.default\
         &client_id=client+id&client_secret=s3cret%26value%3D1"
    );
    let request = client_credentials(true).minter.request().unwrap();
    let authorization = request.headers()["authorization"]
        .to_str()
        .unwrap()
        .to_string();
    // base64("client+id:s3cret%26value%3D1"), as RFC 6749 2.3.1 encodes them.
    assert_eq!(
        authorization,
        "Basic Y2xpZW50K2lkOnMzY3JldCUyNnZhbHVlJTNEMQ=="
    );
    assert!(!body(request).contains("s3cret"));
}

#[test]
fn a_token_answer_gives_the_token_and_its_lifetime() {
    let minter = client_credentials(false).minter;
    let answer =
        serde_json::json!({ "access_token": "abc", "expires_in": 3599, "token_type": "Bearer" });
    assert_eq!(
        minter.token_from(&answer).unwrap(),
        ("abc".to_string(), Duration::from_secs(3599))
    );
    let as_text = serde_json::json!({ "access_token": "abc", "expires_in": "60" });
    assert_eq!(
        minter.token_from(&as_text).unwrap().1,
        Duration::from_secs(60)
    );
    let missing = minter
        .token_from(&serde_json::json!({ "expires_in": 5 }))
        .unwrap_err();
    assert_eq!(missing, "no `access_token` in its answer");
}

#[test]
fn a_refusal_says_what_the_endpoint_said() {
    let oauth = serde_json::json!({ "error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret provided.\r\nTrace ID: 1" });
    assert_eq!(
        refusal(&oauth),
        "invalid_client: AADSTS7000215: Invalid client secret provided.  Trace ID: 1"
    );
    let github = serde_json::json!({ "message": "A JSON web token could not be decoded" });
    assert_eq!(refusal(&github), "A JSON web token could not be decoded");
    assert_eq!(refusal(&Value::Null), "no reason given");
}

#[test]
fn a_key_that_is_not_an_rsa_key_is_refused_without_being_quoted() {
    let spec = CredentialSpec::GitHubApp {
        app_id: "12345".into(),
        installation_id: "678".into(),
        private_key:
            "-----BEGIN RSA PRIVATE KEY-----\nbm90IGEga2V5\n-----END RSA PRIVATE KEY-----\n".into(),
        api_url: "https://api.github.com".into(),
    };
    let err = Credentials::new(spec, "x", Pins::default())
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.starts_with("the private key is not an RSA key in PEM form"),
        "{err}"
    );
    assert!(!err.contains("bm90IGEga2V5"), "{err}");
    let spec = CredentialSpec::GoogleServiceAccount {
        key: "{}".into(),
        subject: None,
        scopes: vec!["scope".into()],
    };
    let err = Credentials::new(spec, "x", Pins::default())
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.starts_with("not a Google service account key file"),
        "{err}"
    );
}
