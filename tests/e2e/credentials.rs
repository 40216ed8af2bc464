//! Credentials the host holds: it mints the tokens itself (from a fake
//! token endpoint here) and adds them to the adapter's requests; the key,
//! the secret and the token never reach the adapter nor the output.

use crate::fakes::entra::FakeEntra;
use crate::fakes::github::FakeGitHub;
use crate::fakes::google::FakeGoogle;
use crate::fakes::tokens::{
    APP_ID, CLIENT_ID, CLIENT_SECRET, FakeTokens, INSTALLATION, PRIVATE_KEY_PKCS1,
};
use crate::support::{Run, Workspace, syncing_into};

const GOOGLE_TOKEN: &str = "ya29.minted-by-the-host";
const PEOPLE: [&str; 2] = ["ada@example.com", "bob@example.com"];
/// The group's members once PEOPLE are synced in, as the fake lists them.
const SYNCED: [&str; 2] = ["ada@example.com MEMBER", "bob@example.com MEMBER"];

fn google() -> FakeGoogle {
    let google = FakeGoogle::start(GOOGLE_TOKEN, &PEOPLE);
    google.group("eng@example.com", &[("bob@example.com", "MEMBER")]);
    google
}

/// A workspace syncing PEOPLE into the Google group through `credentials`.
fn google_group(google: &FakeGoogle, credentials: &str) -> Workspace {
    syncing_into(
        &format!(
            "adapter = \"google-group\"\nallowed_hosts = [\"http://{}\"]\n\
             config = {{ group = \"eng@example.com\", api_url = \"{}\" }}\ncredentials = {credentials}",
            google.addr,
            google.api_url()
        ),
        &PEOPLE,
    )
}

fn leaks_nothing(run: &Run, secrets: &[&str]) {
    for secret in secrets {
        assert!(
            !run.stdout.contains(secret) && !run.stderr.contains(secret),
            "{secret} leaked:\n{}\n{}",
            run.stdout,
            run.stderr
        );
    }
}

#[test]
fn a_google_service_account_runs_the_google_group_unattended() {
    let tokens = FakeTokens::start(GOOGLE_TOKEN, 3600);
    let google = google();
    let workspace = google_group(
        &google,
        "{ kind = \"google-service-account\", key_file = \"service-account.json\", \
         subject = \"admin@example.com\", scopes = [\"https://www.googleapis.com/auth/admin.directory.group.member\"] }",
    );
    workspace.write("service-account.json", &tokens.service_account_key());
    let plan = workspace.run(&["plan"]).expect_code(0);
    assert!(
        plan.stdout.contains(&format!(
            "credentials: google-service-account from {}",
            tokens.url("/google/token")
        )),
        "{}",
        plan.stdout
    );
    let run = workspace.run(&["sync"]).expect_code(0);
    assert!(
        run.stdout.contains("dest (add-remove): 1 added, 0 removed"),
        "{}",
        run.stdout
    );
    assert_eq!(google.members("eng@example.com"), SYNCED);
    leaks_nothing(&run, &[GOOGLE_TOKEN, "PRIVATE KEY"]);
    assert_eq!(
        tokens.minted(),
        2,
        "one token for the plan, one for the sync"
    );
}

#[test]
fn a_github_app_runs_the_github_team_with_installation_tokens() {
    let token = "ghs_installation-token-by-the-host";
    let tokens = FakeTokens::start(token, 3600);
    let github = FakeGitHub::start(token, "acme", &["alice", "bob"]);
    github.team("devs", &["bob"]);
    let workspace = syncing_into(
        &format!(
            "adapter = \"github-team\"\nallowed_hosts = [\"http://{}\"]\n\
             config = {{ org = \"acme\", team = \"devs\", api_url = \"{}\", \
             mapping = \"ada@example.com=alice,bob@example.com=bob\" }}\n\
             credentials = {{ kind = \"github-app\", app_id = {APP_ID}, installation_id = \"{INSTALLATION}\", \
             private_key_file = \"app.pem\", api_url = \"{}\" }}",
            github.addr,
            github.api_url(),
            tokens.url("")
        ),
        &PEOPLE,
    );
    workspace.write("app.pem", PRIVATE_KEY_PKCS1);
    let run = workspace.run(&["sync"]).expect_code(0);
    assert!(
        run.stdout.contains("dest (add-remove): 1 added, 0 removed"),
        "{}",
        run.stdout
    );
    assert_eq!(github.members("devs"), ["alice", "bob"]);
    leaks_nothing(&run, &[token, "PRIVATE KEY"]);
    assert_eq!(tokens.minted(), 1);
}

#[test]
fn client_credentials_are_sent_in_the_form_or_with_basic_auth() {
    for client_auth in ["body", "basic"] {
        let tokens = FakeTokens::start(GOOGLE_TOKEN, 3600);
        let google = google();
        let workspace = google_group(
            &google,
            &format!(
                "{{ kind = \"oauth2-client-credentials\", token_url = \"{}\", client_id = \"{CLIENT_ID}\", \
                 client_secret = \"${{CLIENT_SECRET}}\", client_auth = \"{client_auth}\" }}",
                tokens.url("/oauth2/token")
            ),
        );
        let run = workspace
            .run_with_env(&["sync"], &[("CLIENT_SECRET", CLIENT_SECRET)])
            .expect_code(0);
        assert_eq!(google.members("eng@example.com"), SYNCED, "{client_auth}");
        leaks_nothing(&run, &[GOOGLE_TOKEN, CLIENT_SECRET]);
    }
}

#[test]
fn a_wrong_client_secret_fails_clearly_before_the_adapter_sends_anything() {
    let tokens = FakeTokens::start(GOOGLE_TOKEN, 3600);
    let google = google();
    let wrong = "not-the-client-secret";
    let workspace = google_group(
        &google,
        &format!(
            "{{ kind = \"oauth2-client-credentials\", token_url = \"{}\", client_id = \"{CLIENT_ID}\", \
             client_secret = \"{wrong}\" }}",
            tokens.url("/oauth2/token")
        ),
    );
    let run = workspace.run(&["sync"]).expect_code(4);
    assert!(
        run.stdout.contains(&format!(
            "dest (add-remove): FAILED: unauthorized: job `people` destination `dest` could not get a token \
             (oauth2-client-credentials from {url}): the token endpoint {url} refused these credentials \
             (HTTP 401: invalid_client: AADSTS7000215: Invalid client secret provided.)",
            url = tokens.url("/oauth2/token")
        )),
        "{}",
        run.stdout
    );
    leaks_nothing(&run, &[wrong]);
    assert!(
        google.controls.requests().is_empty(),
        "the adapter never ran"
    );
}

#[test]
fn a_token_about_to_expire_is_minted_again() {
    // Tokens that last a second are replaced half a second in; listing the
    // group a member a page, each answer 300 ms late, takes longer than that.
    let tokens = FakeTokens::start(GOOGLE_TOKEN, 1);
    let google = google();
    google.group(
        "eng@example.com",
        &[
            ("bob@example.com", "MEMBER"),
            ("cy@example.com", "MEMBER"),
            ("dan@example.com", "MEMBER"),
        ],
    );
    google.controls.page_size(1);
    google
        .controls
        .latency(std::time::Duration::from_millis(300));
    let workspace = google_group(
        &google,
        &format!(
            "{{ kind = \"oauth2-client-credentials\", token_url = \"{}\", client_id = \"{CLIENT_ID}\", \
             client_secret = \"{CLIENT_SECRET}\" }}",
            tokens.url("/oauth2/token")
        ),
    );
    workspace.run(&["plan"]).expect_code(0);
    assert!(tokens.minted() >= 2, "minted {} times", tokens.minted());
}

#[test]
fn credentials_that_cannot_be_read_are_a_config_error_that_quotes_no_key() {
    let google = google();
    let workspace = google_group(
        &google,
        "{ kind = \"github-app\", app_id = \"1\", installation_id = \"2\", private_key_file = \"missing.pem\" }",
    );
    let run = workspace.run(&["plan"]).expect_code(3);
    assert!(
        run.stderr
            .contains("job `people` destination `dest`: credentials: cannot read ")
            && run.stderr.contains("missing.pem"),
        "{}",
        run.stderr
    );
    workspace.write(
        "missing.pem",
        "-----BEGIN RSA PRIVATE KEY-----\nc2VjcmV0LWJ5dGVz\n-----END RSA PRIVATE KEY-----\n",
    );
    let run = workspace.run(&["plan"]).expect_code(3);
    assert!(
        run.stderr
            .contains("credentials: the private key is not an RSA key in PEM form"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("c2VjcmV0LWJ5dGVz"), "{}", run.stderr);
    let typo = google_group(&google, "{ kind = \"oauth2\", token_url = \"x\" }");
    let run = typo.run(&["plan"]).expect_code(3);
    assert!(
        run.stderr
            .contains("`credentials`: unknown variant `oauth2`"),
        "{}",
        run.stderr
    );
}

/// `credentials` as Microsoft Entra ID's client credentials flow has them,
/// against the fake token endpoint.
fn entra_credentials(tokens: &FakeTokens) -> String {
    format!(
        "{{ kind = \"oauth2-client-credentials\", token_url = \"{}\", client_id = \"{CLIENT_ID}\", \
         client_secret = \"${{ENTRA_SECRET}}\", scope = \"https://graph.microsoft.com/.default\" }}",
        tokens.url("/oauth2/token")
    )
}

#[test]
fn the_entra_adapters_run_with_client_credentials_the_host_holds() {
    let token = "eyJ0eXAi.minted-graph-token";
    let tokens = FakeTokens::start(token, 3600);
    let graph = FakeEntra::start(token);
    let ada = graph.user("ada@example.com");
    graph.user("bob@example.com");
    let group = graph.group("Engineering", &[&ada]);
    let workspace = Workspace::with_adapters(&["entra-users", "entra-group"]);
    workspace.write(
        "allsync.toml",
        &format!(
            "[[sync]]\nname = \"everyone\"\n[sync.source]\nadapter = \"entra-users\"\n\
             allowed_hosts = [\"http://{addr}\"]\nconfig = {{ api_url = \"{api}\" }}\ncredentials = {creds}\n\
             [[sync.destination]]\nname = \"engineering\"\nadapter = \"entra-group\"\n\
             allowed_hosts = [\"http://{addr}\"]\nconfig = {{ group = \"Engineering\", api_url = \"{api}\" }}\n\
             credentials = {creds}\n",
            addr = graph.addr,
            api = graph.api_url(),
            creds = entra_credentials(&tokens),
        ),
    );
    let run = workspace
        .run_with_env(&["sync"], &[("ENTRA_SECRET", CLIENT_SECRET)])
        .expect_code(0);
    assert!(
        run.stdout
            .contains("engineering (add-remove): 1 added, 0 removed"),
        "{}",
        run.stdout
    );
    assert_eq!(graph.members(&group).len(), 2, "{}", run.stdout);
    leaks_nothing(&run, &[token, CLIENT_SECRET]);
    assert_eq!(tokens.minted(), 2, "one token for each instance");
}
