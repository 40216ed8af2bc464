//! The `github-team` adapter against the fake GitHub.

use crate::fakes::github::FakeGitHub;
use crate::support::{Workspace, syncing_into_fake};

const TOKEN: &str = "ghp_testtoken";
const MAPPING: &str =
    "ada@example.com=alice,bob@example.com=bob,cy@example.com=carol,dan@example.com=Dave";

fn team(github: &FakeGitHub, token: &str, extra: &str, people: &[&str]) -> Workspace {
    let config = format!(
        "org = \"acme\", team = \"devs\", token = \"{token}\", api_url = \"{}\", {extra}",
        github.api_url()
    );
    syncing_into_fake("github-team", github.addr, &config, people)
}

fn github() -> FakeGitHub {
    let github = FakeGitHub::start(TOKEN, "acme", &["alice", "bob", "carol", "dave", "zed"]);
    github.team("devs", &["alice", "dave", "zed"]);
    github
}

#[test]
fn a_team_is_paged_through_and_made_to_match_through_a_mapping_table() {
    let github = github();
    let people = ["ada@example.com", "bob@example.com", "cy@example.com"];
    let workspace = team(&github, TOKEN, &format!("mapping = \"{MAPPING}\""), &people);
    let run = workspace.run(&["sync"]).expect_code(0);
    assert!(
        run.stdout.contains("dest (add-remove): 2 added, 1 removed"),
        "{}",
        run.stdout
    );
    assert_eq!(
        github.members("devs"),
        ["alice", "bob", "carol", "zed"],
        "zed has no known email: left alone"
    );
    assert!(
        run.stderr
            .contains("team member zed has no known email; left alone"),
        "{}",
        run.stderr
    );
    assert_eq!(
        github.controls.count("GET /orgs/acme/teams/devs/members"),
        2,
        "pages of 2"
    );
    assert_eq!(
        github
            .controls
            .count("PUT /orgs/acme/teams/devs/memberships/"),
        2
    );
    assert_eq!(
        github
            .controls
            .count("DELETE /orgs/acme/teams/devs/memberships/Dave"),
        1
    );

    let writes = github.controls.writes();
    workspace.run(&["sync"]).expect_code(0);
    assert_eq!(
        github.controls.writes(),
        writes,
        "the second run makes no write call"
    );
}

#[test]
fn saml_identities_map_emails_to_logins_in_one_paginated_query() {
    let github = github();
    github.saml("ada@example.com", Some("alice"));
    github.saml("bob@example.com", Some("bob"));
    github.saml("dan@example.com", Some("dave"));
    github.saml("cy@example.com", None);
    let run = team(
        &github,
        TOKEN,
        "saml = true",
        &["ada@example.com", "bob@example.com", "cy@example.com"],
    )
    .run(&["sync"])
    .expect_code(4);
    assert!(
        run.stdout
            .contains("! could not add cy@example.com: no GitHub login is known for this email"),
        "an identity not linked to a user is never paired: {}",
        run.stdout
    );
    assert_eq!(github.members("devs"), ["alice", "bob", "zed"]);
    assert_eq!(
        github.controls.count("POST /graphql"),
        2,
        "identities come in pages of 2"
    );
}

#[test]
fn a_login_github_does_not_know_is_rejected_and_the_rest_applied() {
    let github = github();
    let mapping = format!("{MAPPING},eve@example.com=no-such-user");
    let run = team(
        &github,
        TOKEN,
        &format!("mapping = \"{mapping}\""),
        &["ada@example.com", "dan@example.com", "eve@example.com"],
    )
    .run(&["sync"])
    .expect_code(4);
    assert!(
        run.stdout.contains(
            "! could not add eve@example.com: change the membership of no-such-user: HTTP 404"
        ),
        "{}",
        run.stdout
    );
    assert_eq!(github.members("devs"), ["alice", "dave", "zed"]);
}

#[test]
fn a_bad_token_is_unauthorized_and_nothing_is_written() {
    let github = github();
    let run = team(
        &github,
        "ghp_wrong",
        &format!("mapping = \"{MAPPING}\""),
        &["bob@example.com"],
    )
    .run(&["sync"])
    .expect_code(4);
    assert!(
        run.stdout
            .contains("FAILED: unauthorized: list team members: HTTP 401"),
        "{}",
        run.stdout
    );
    assert_eq!(github.controls.writes(), 0);
}

#[test]
fn rate_limits_and_outages_are_waited_out_by_the_host() {
    let github = github();
    github.controls.rate_limit(1, 1);
    let workspace = team(
        &github,
        TOKEN,
        &format!("mapping = \"{MAPPING}\""),
        &["ada@example.com", "dan@example.com"],
    );
    workspace.run(&["plan"]).expect_code(0);
    github.controls.outage(1);
    let run = workspace.run(&["sync"]).expect_code(0);
    assert!(
        run.stdout
            .contains("HTTP retries: job `people` destination `dest` 1."),
        "{}",
        run.stdout
    );
}

#[test]
fn membership_changes_overlap_up_to_the_configured_concurrency() {
    let github = github();
    github
        .controls
        .latency(std::time::Duration::from_millis(100));
    github.controls.page_size(100);
    let people = [
        "ada@example.com",
        "bob@example.com",
        "cy@example.com",
        "dan@example.com",
    ];
    let mapping = format!("{MAPPING},eve@example.com=eve");
    let run = team(
        &github,
        TOKEN,
        &format!("mapping = \"{mapping}\", concurrency = 2"),
        &people,
    )
    .run(&["sync"])
    .expect_code(0);
    assert!(
        run.stdout.contains("dest (add-remove): 2 added, 0 removed"),
        "{}",
        run.stdout
    );
    assert_eq!(
        github.controls.most_in_flight(),
        2,
        "two at a time, as configured"
    );
    assert_eq!(
        github.controls.count("GET /orgs/acme/teams/devs/members"),
        1,
        "one page of 100"
    );
}
