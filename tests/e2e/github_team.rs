//! The `github-team` adapter against the fake GitHub.

use crate::fakes::Fault;
use crate::fakes::github::{FakeGitHub, primary_rate_limit, secondary_rate_limit};
use crate::support::{Workspace, syncing_into, syncing_into_fake};

const TOKEN: &str = "ghp_testtoken";
const MAPPING: &str =
    "ada@example.com=alice,bob@example.com=bob,cy@example.com=carol,dan@example.com=Dave";
const MEMBERS: &str = "GET /orgs/acme/teams/devs/members";
const INVITATIONS: &str = "GET /orgs/acme/teams/devs/invitations";
const MEMBERSHIPS: &str = "/orgs/acme/teams/devs/memberships/";

fn config(github: &FakeGitHub, token: &str, extra: &str) -> String {
    format!(
        "org = \"acme\", team = \"devs\", token = \"{token}\", api_url = \"{}\", {extra}",
        github.api_url()
    )
}

fn team(github: &FakeGitHub, token: &str, extra: &str, people: &[&str]) -> Workspace {
    syncing_into_fake(
        "github-team",
        github.addr,
        &config(github, token, extra),
        people,
    )
}

fn mapped(github: &FakeGitHub, mapping: &str, people: &[&str]) -> Workspace {
    team(github, TOKEN, &format!("mapping = \"{mapping}\""), people)
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
    let workspace = mapped(&github, MAPPING, &people);
    let plan = workspace.run(&["plan"]).expect_code(0);
    assert!(
        plan.stdout.contains("2 to add, 1 to remove"),
        "{}",
        plan.stdout
    );
    assert_eq!(github.controls.writes(), 0, "a plan writes nothing");

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
    assert_eq!(github.controls.count(MEMBERS), 4, "pages of 2, in each run");
    assert_eq!(github.controls.count(&format!("PUT {MEMBERSHIPS}")), 2);
    assert_eq!(
        github.controls.count(&format!("DELETE {MEMBERSHIPS}Dave")),
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
fn on_enterprise_server_graphql_is_served_beside_the_rest_api_not_under_it() {
    let github = FakeGitHub::start_enterprise(TOKEN, "acme", &["alice", "bob"]);
    github.team("devs", &["alice"]);
    github.saml("ada@example.com", Some("alice"));
    github.saml("bob@example.com", Some("bob"));
    github.saml("cy@example.com", Some("carol"));
    assert!(github.api_url().ends_with("/api/v3"));
    let run = team(
        &github,
        TOKEN,
        "saml = true",
        &["ada@example.com", "bob@example.com"],
    )
    .run(&["sync"])
    .expect_code(0);
    assert!(
        run.stdout.contains("dest (add-remove): 1 added, 0 removed"),
        "{}",
        run.stdout
    );
    assert_eq!(github.members("devs"), ["alice", "bob"]);
    assert_eq!(github.controls.count("POST /api/graphql"), 2);
    assert_eq!(github.controls.count("POST /api/v3/graphql"), 0);
    assert_eq!(
        github
            .controls
            .count("PUT /api/v3/orgs/acme/teams/devs/memberships/bob"),
        1
    );
}

#[test]
fn a_login_given_two_emails_is_refused_at_init_naming_both() {
    let github = github();
    let run = mapped(
        &github,
        "ada@example.com=alice,ada.lovelace@example.com=Alice",
        &["ada@example.com"],
    )
    .run(&["sync"])
    .expect_code(4);
    assert!(
        run.stdout.contains(
            "invalid config: `mapping` gives GitHub login `Alice` two emails, \
             `ada@example.com` and `ada.lovelace@example.com`"
        ),
        "{}",
        run.stdout
    );
    assert!(
        github.controls.requests().is_empty(),
        "refused before any request"
    );
}

#[test]
fn a_source_spelt_in_another_case_never_gets_one_login_added_and_removed() {
    let github = github();
    let destination = format!(
        "adapter = \"github-team\"\nallowed_hosts = [\"http://{}\"]\ncase_sensitive = true\nconfig = {{ {} }}",
        github.addr,
        config(&github, TOKEN, &format!("mapping = \"{MAPPING}\""))
    );
    let run = syncing_into(&destination, &["ADA@example.com", "dan@example.com"])
        .run(&["sync"])
        .expect_code(4);
    assert!(
        run.stdout.contains(
            "! could not remove ada@example.com: ada@example.com is account alice, \
             which this run already added under another spelling"
        ),
        "{}",
        run.stdout
    );
    assert_eq!(github.controls.writes(), 0, "alice was on the team already");
    assert_eq!(github.members("devs"), ["alice", "dave", "zed"]);
}

#[test]
fn a_login_github_does_not_know_is_rejected_and_the_rest_applied() {
    let github = github();
    let mapping = format!("{MAPPING},eve@example.com=no-such-user");
    let run = mapped(
        &github,
        &mapping,
        &["ada@example.com", "dan@example.com", "eve@example.com"],
    )
    .run(&["sync"])
    .expect_code(4);
    assert!(
        run.stdout.contains(
            "! could not add eve@example.com: add no-such-user to team devs: HTTP 404: Not Found"
        ),
        "{}",
        run.stdout
    );
    assert_eq!(github.members("devs"), ["alice", "dave", "zed"]);
}

#[test]
fn a_failure_half_way_through_reports_exactly_what_was_applied() {
    let github = github();
    github.controls.inject(
        Fault::on(&format!("PUT {MEMBERSHIPS}"), 500)
            .after(1)
            .body(r#"{"message":"Server Error"}"#),
    );
    let people = ["ada@example.com", "bob@example.com", "cy@example.com"];
    let workspace = team(
        &github,
        TOKEN,
        &format!("mapping = \"{MAPPING}\", concurrency = 1"),
        &people,
    );
    let run = workspace.run(&["sync"]).expect_code(4);
    assert!(
        run.stdout.contains("dest (add-remove): 1 added, 1 removed"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains(
            "! could not add cy@example.com: not applied: add carol to team devs: HTTP 500"
        ),
        "{}",
        run.stdout
    );
    assert_eq!(github.members("devs"), ["alice", "bob", "zed"]);

    let run = workspace.run(&["sync"]).expect_code(0);
    assert!(
        run.stdout.contains("dest (add-remove): 1 added, 0 removed"),
        "the next run applies the rest: {}",
        run.stdout
    );
}

#[test]
fn a_pending_invitation_counts_as_on_the_team_so_the_next_run_writes_nothing() {
    let github = github();
    github.outsiders(&["eve", "fay", "gus"]);
    let mapping = format!("{MAPPING},eve@example.com=eve,fay@example.com=fay,gus@example.com=gus");
    let people = [
        "ada@example.com",
        "eve@example.com",
        "fay@example.com",
        "gus@example.com",
    ];
    let run = mapped(&github, &mapping, &people)
        .run(&["sync"])
        .expect_code(0);
    assert!(
        run.stdout.contains("dest (add-remove): 3 added, 1 removed"),
        "{}",
        run.stdout
    );
    assert!(
        run.stderr
            .contains("eve invited to acme; membership of team devs pending until they accept"),
        "{}",
        run.stderr
    );
    assert_eq!(github.invitations("devs"), ["eve", "fay", "gus"]);
    assert_eq!(github.members("devs"), ["alice", "zed"]);

    let (writes, listed) = (github.controls.writes(), github.controls.count(INVITATIONS));
    let run = mapped(&github, &mapping, &people)
        .run(&["sync"])
        .expect_code(0);
    assert!(run.stdout.contains("up to date"), "{}", run.stdout);
    assert_eq!(github.controls.writes(), writes, "nothing re-sent");
    assert_eq!(
        github.controls.count(INVITATIONS) - listed,
        2,
        "three invitations, in pages of 2"
    );

    mapped(&github, &mapping, &people[..3])
        .run(&["sync"])
        .expect_code(0);
    assert_eq!(
        github.invitations("devs"),
        ["eve", "fay"],
        "removing a pending membership cancels the invitation"
    );
}

#[test]
fn an_invitation_sent_by_email_counts_as_on_the_team_and_is_never_half_cancelled() {
    let github = github();
    github.invite_by_email("devs", "Hal@Example.com");
    let mapping = format!("{MAPPING},hal@example.com=hal");
    let run = mapped(
        &github,
        &mapping,
        &["ada@example.com", "dan@example.com", "hal@example.com"],
    )
    .run(&["sync"])
    .expect_code(0);
    assert!(run.stdout.contains("up to date"), "{}", run.stdout);

    let run = mapped(&github, &mapping, &["ada@example.com", "dan@example.com"])
        .run(&["sync"])
        .expect_code(4);
    assert!(
        run.stdout.contains(
            "! could not remove hal@example.com: hal is invited to the team by email, \
             an invitation the team membership API cannot cancel"
        ),
        "{}",
        run.stdout
    );
    assert_eq!(github.controls.writes(), 0);
}

#[test]
fn a_team_without_a_list_of_invitations_is_synced_as_having_none() {
    let github = github();
    github.controls.inject(
        Fault::on(INVITATIONS, 404)
            .body(r#"{"message":"Not Found","documentation_url":"https://docs.github.com/rest","status":"404"}"#),
    );
    let run = mapped(
        &github,
        MAPPING,
        &["ada@example.com", "bob@example.com", "dan@example.com"],
    )
    .run(&["sync"])
    .expect_code(0);
    assert!(
        run.stderr
            .contains("counting no pending invitations: list pending team invitations: HTTP 404"),
        "{}",
        run.stderr
    );
    assert_eq!(github.members("devs"), ["alice", "bob", "dave", "zed"]);
}

#[test]
fn a_bad_token_is_unauthorized_at_once_and_never_shown() {
    let github = github();
    let run = team(
        &github,
        "ghp_wrong-token",
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
    assert!(!run.stdout.contains("HTTP retries"), "{}", run.stdout);
    assert_eq!(github.controls.requests().len(), 1, "no retry");
    for output in [&run.stdout, &run.stderr] {
        assert!(!output.contains("ghp_wrong-token"), "{output}");
    }
    assert_eq!(github.controls.writes(), 0);
}

#[test]
fn rate_limits_and_outages_are_waited_out_by_the_host() {
    let github = github();
    github.controls.rate_limit(1, 1);
    let workspace = mapped(&github, MAPPING, &["ada@example.com", "dan@example.com"]);
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
fn a_server_error_on_page_two_is_retried_and_every_page_read() {
    let github = github();
    github.controls.inject(
        Fault::on(MEMBERS, 503)
            .after(1)
            .body(r#"{"message":"Service Unavailable"}"#),
    );
    let run = mapped(&github, MAPPING, &["ada@example.com", "dan@example.com"])
        .run(&["sync"])
        .expect_code(0);
    assert!(run.stdout.contains("up to date"), "{}", run.stdout);
    assert!(
        run.stdout
            .contains("HTTP retries: job `people` destination `dest` 1."),
        "{}",
        run.stdout
    );
    assert_eq!(github.controls.count(MEMBERS), 3, "page 2 asked for twice");
}

#[test]
fn a_secondary_rate_limit_on_a_membership_change_is_waited_out() {
    let github = github();
    github
        .controls
        .inject(secondary_rate_limit(&format!("PUT {MEMBERSHIPS}bob"), 1));
    let run = mapped(
        &github,
        MAPPING,
        &["ada@example.com", "bob@example.com", "dan@example.com"],
    )
    .run(&["sync"])
    .expect_code(0);
    assert!(
        run.stdout.contains("dest (add-remove): 1 added, 0 removed"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("HTTP retries: job `people` destination `dest` 1."),
        "{}",
        run.stdout
    );
    assert_eq!(github.members("devs"), ["alice", "bob", "dave", "zed"]);
}

#[test]
fn a_spent_primary_rate_limit_is_reported_as_one_and_nothing_is_written() {
    let github = github();
    github.controls.inject(primary_rate_limit(MEMBERS, 3600));
    let run = mapped(&github, MAPPING, &["bob@example.com"])
        .run(&["sync"])
        .expect_code(4);
    assert!(
        run.stdout
            .contains("FAILED: rate limited: the service asks to retry in"),
        "{}",
        run.stdout
    );
    assert_eq!(github.controls.writes(), 0);
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
    assert_eq!(github.controls.count(MEMBERS), 1, "one page of 100");
}
