//! `allsync test-adapter`, the conformance kit, run on every adapter in the
//! repository against a sandbox target; and on one that breaks the contract.

use crate::fakes::github::FakeGitHub;
use crate::fakes::google::FakeGoogle;
use crate::fakes::slack::FakeSlack;
use crate::list_server::ListServer;
use crate::support::{Run, Workspace, component};

/// The thing the kit adds and removes.
pub const PROBE: &str = "probe@example.com";

/// Runs the kit on `adapter` with `args`, from a scratch folder holding
/// `list.txt`, with `--sandbox` and `--thing probe@example.com`.
pub fn kit(adapter: &str, args: &[&str]) -> Run {
    let workspace = Workspace::with_adapters(&[]);
    workspace.write("list.txt", "ada@example.com\n");
    let file = component(adapter);
    let mut all = vec![
        "test-adapter",
        file.to_str().unwrap(),
        "--sandbox",
        "--thing",
        PROBE,
    ];
    all.extend_from_slice(args);
    workspace.run(&all)
}

/// Asserts the kit passed every check and skipped none.
pub fn passes(run: Run) {
    let run = run.expect_code(0);
    assert!(
        run.stdout.contains(" passed, 0 failed, 0 skipped\n"),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("SKIP"), "{}", run.stdout);
}

#[test]
fn the_file_adapter_passes() {
    passes(kit(
        "file",
        &["--config", "path=list.txt", "--dir", ".", "--writable"],
    ));
}

#[test]
fn the_slack_adapters_pass() {
    let slack = FakeSlack::start("xoxb-kit", &["ada@example.com", PROBE]);
    slack.group("S1", &["ada@example.com"]);
    slack.channel("C1", &["ada@example.com"]);
    let api = format!("api_url={}", slack.api_url());
    let host = format!("http://{}", slack.addr);
    for (adapter, target) in [
        ("slack-usergroup", "usergroup=S1"),
        ("slack-channel", "channel=C1"),
    ] {
        passes(kit(
            adapter,
            &[
                "--config",
                "token=xoxb-kit",
                "--config",
                target,
                "--config",
                &api,
                "--allow-host",
                &host,
            ],
        ));
    }
}

#[test]
fn the_github_adapter_passes() {
    let github = FakeGitHub::start("ghp_kit-token", "acme", &["alice", "probe"]);
    github.team("devs", &["alice"]);
    let api = format!("api_url={}", github.api_url());
    let host = format!("http://{}", github.addr);
    let mapping = format!("mapping=ada@example.com=alice,{PROBE}=probe");
    passes(kit(
        "github-team",
        &[
            "--config",
            "token=ghp_kit-token",
            "--config",
            "org=acme",
            "--config",
            "team=devs",
            "--config",
            &mapping,
            "--config",
            &api,
            "--allow-host",
            &host,
        ],
    ));
}

#[test]
fn the_google_adapter_passes() {
    let google = FakeGoogle::start("ya29.kit", &["ada@example.com", PROBE]);
    google.group("eng@example.com", &[("ada@example.com", "MEMBER")]);
    let api = format!("api_url={}", google.api_url());
    let host = format!("http://{}", google.addr);
    passes(kit(
        "google-group",
        &[
            "--config",
            "token=ya29.kit",
            "--config",
            "group=eng@example.com",
            "--config",
            &api,
            "--allow-host",
            &host,
        ],
    ));
}

#[test]
fn the_http_probe_test_adapter_passes() {
    let server = ListServer::start(&["ada@example.com"], "t0ken-kit");
    let url = format!("url={}", server.url());
    passes(kit(
        "http-probe",
        &[
            "--config",
            &url,
            "--config",
            "token=t0ken-kit",
            "--allow-host",
            &server.url(),
        ],
    ));
}

#[test]
fn a_request_the_kit_did_not_grant_says_which_flag_grants_it() {
    let server = ListServer::start(&["ada@example.com"], "t0ken-kit");
    let url = format!("url={}", server.url());
    let run = kit(
        "http-probe",
        &["--config", &url, "--config", "token=t0ken-kit"],
    )
    .expect_code(4);
    assert!(
        run.stdout.contains(&format!(
            "that origin is not granted to it; pass --allow-host {}:{} to allow it",
            server.url(),
            server.addr.port()
        )) || run.stdout.contains(&format!(
            "that origin is not granted to it; pass --allow-host {} to allow it",
            server.url()
        )),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("allsync.toml"), "{}", run.stdout);
    assert_eq!(server.requests(), 0);
}

#[test]
fn an_adapter_that_breaks_the_contract_fails_the_kit() {
    let run = kit(
        "hostile",
        &[
            "--config",
            "act=panic-in-add",
            "--config",
            "things=a@x.com,a@x.com",
        ],
    )
    .expect_code(4);
    assert!(run.stdout.contains("FAIL  get returns usable things without duplicates: \"a@x.com\" is returned more than once"), "{}", run.stdout);
    assert!(run.stdout.contains(" failed, "), "{}", run.stdout);
}

#[test]
fn without_a_sandbox_add_and_remove_are_skipped_and_said_so() {
    let workspace = Workspace::with_adapters(&[]);
    workspace.write("list.txt", "ada@example.com\n");
    let file = component("file");
    let run = workspace
        .run(&[
            "test-adapter",
            file.to_str().unwrap(),
            "--config",
            "path=list.txt",
            "--dir",
            ".",
        ])
        .expect_code(0);
    assert!(
        run.stdout
            .contains("SKIP  add then get shows the thing: pass --sandbox"),
        "{}",
        run.stdout
    );
    assert_eq!(workspace.read("list.txt"), "ada@example.com\n");
}
