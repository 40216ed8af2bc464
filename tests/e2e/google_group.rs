//! The `google-group` adapter against the fake Directory API.

use crate::fakes::google::FakeGoogle;
use crate::support::{Workspace, syncing_into_fake};

const TOKEN: &str = "ya29.test-access-token";

fn group(google: &FakeGoogle, token: &str, people: &[&str]) -> Workspace {
    let config = format!(
        "group = \"eng@example.com\", token = \"{token}\", api_url = \"{}\"",
        google.api_url()
    );
    syncing_into_fake("google-group", google.addr, &config, people)
}

fn google() -> FakeGoogle {
    let google = FakeGoogle::start(
        TOKEN,
        &[
            "ada@example.com",
            "bob@example.com",
            "cy@example.com",
            "dan@example.com",
            "boss@example.com",
        ],
    );
    google.group(
        "eng@example.com",
        &[
            ("ada@example.com", "MEMBER"),
            ("dan@example.com", "MEMBER"),
            ("boss@example.com", "OWNER"),
            ("cy@example.com", "MEMBER"),
        ],
    );
    google
}

#[test]
fn members_with_the_role_are_paged_through_and_made_to_match() {
    let google = google();
    let workspace = group(
        &google,
        TOKEN,
        &["ada@example.com", "bob@example.com", "cy@example.com"],
    );
    let run = workspace.run(&["sync"]).expect_code(0);
    assert!(
        run.stdout.contains("dest (add-remove): 1 added, 1 removed"),
        "{}",
        run.stdout
    );
    assert_eq!(
        google.members("eng@example.com"),
        [
            "ada@example.com MEMBER",
            "bob@example.com MEMBER",
            "boss@example.com OWNER",
            "cy@example.com MEMBER"
        ],
        "the owner is not a MEMBER: left alone"
    );
    assert_eq!(
        google
            .controls
            .count("GET /admin/directory/v1/groups/eng%40example.com/members"),
        2,
        "pages of 2"
    );

    let writes = google.controls.writes();
    workspace.run(&["sync"]).expect_code(0);
    assert_eq!(
        google.controls.writes(),
        writes,
        "the second run makes no write call"
    );
}

#[test]
fn an_address_google_does_not_know_is_rejected_and_the_rest_applied() {
    let google = google();
    let run = group(
        &google,
        TOKEN,
        &[
            "ada@example.com",
            "cy@example.com",
            "dan@example.com",
            "stranger@example.com",
        ],
    )
    .run(&["sync"])
    .expect_code(4);
    assert!(
        run.stdout
            .contains("! could not add stranger@example.com: Invalid Input: memberKey"),
        "{}",
        run.stdout
    );
}

#[test]
fn a_bad_token_is_unauthorized_and_an_unknown_group_not_found() {
    let google = google();
    let run = group(&google, "ya29.wrong", &["bob@example.com"])
        .run(&["sync"])
        .expect_code(4);
    assert!(
        run.stdout
            .contains("FAILED: unauthorized: list group members: HTTP 401"),
        "{}",
        run.stdout
    );
    assert_eq!(google.controls.writes(), 0);
    google.group("other@example.com", &[]);
    let workspace = group(&google, TOKEN, &["bob@example.com"]);
    let config = workspace
        .read("allsync.toml")
        .replace("eng@example.com", "missing@example.com");
    workspace.write("allsync.toml", &config);
    let run = workspace.run(&["plan"]).expect_code(4);
    assert!(
        run.stdout
            .contains("FAILED: not found: list group members: HTTP 404"),
        "{}",
        run.stdout
    );
}

#[test]
fn rate_limits_and_outages_are_waited_out_by_the_host() {
    let google = google();
    google.controls.rate_limit(2, 1);
    let run = group(
        &google,
        TOKEN,
        &["ada@example.com", "cy@example.com", "dan@example.com"],
    )
    .run(&["sync"])
    .expect_code(0);
    assert!(
        run.stdout
            .contains("HTTP retries: job `people` destination `dest` 2."),
        "{}",
        run.stdout
    );
    google.controls.outage(1);
    group(&google, TOKEN, &["ada@example.com", "cy@example.com"])
        .run(&["sync"])
        .expect_code(0);
    assert_eq!(
        google.members("eng@example.com"),
        [
            "ada@example.com MEMBER",
            "boss@example.com OWNER",
            "cy@example.com MEMBER"
        ]
    );
}
