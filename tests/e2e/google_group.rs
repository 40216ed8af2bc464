//! The `google-group` adapter against the fake Directory API.

use crate::fakes::Fault;
use crate::fakes::google::FakeGoogle;
use crate::support::{Workspace, syncing_into, syncing_into_fake};

const TOKEN: &str = "ya29.test-access-token";
const MEMBERS: &str = "/admin/directory/v1/groups/eng%40example.com/members";

fn config(google: &FakeGoogle, token: &str, extra: &str) -> String {
    format!(
        "group = \"eng@example.com\", token = \"{token}\", api_url = \"{}\", {extra}",
        google.api_url()
    )
}

fn group(google: &FakeGoogle, token: &str, people: &[&str]) -> Workspace {
    group_with(google, token, "", people)
}

fn group_with(google: &FakeGoogle, token: &str, extra: &str, people: &[&str]) -> Workspace {
    syncing_into_fake(
        "google-group",
        google.addr,
        &config(google, token, extra),
        people,
    )
}

fn google() -> FakeGoogle {
    let google = FakeGoogle::start(
        TOKEN,
        &[
            "ada@example.com",
            "bob@example.com",
            "cy@example.com",
            "dan@example.com",
            "eve@example.com",
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

/// A Google error body, in the API's shape.
fn google_error(code: u16, message: &str, reason: &str) -> String {
    format!(
        r#"{{"error":{{"code":{code},"message":"{message}","errors":[{{"message":"{message}","domain":"global","reason":"{reason}"}}]}}}}"#
    )
}

#[test]
fn members_with_the_role_are_paged_through_and_made_to_match() {
    let google = google();
    let workspace = group(
        &google,
        TOKEN,
        &["ada@example.com", "bob@example.com", "cy@example.com"],
    );
    let plan = workspace.run(&["plan"]).expect_code(0);
    assert!(
        plan.stdout.contains("1 to add, 1 to remove"),
        "{}",
        plan.stdout
    );
    assert_eq!(google.controls.writes(), 0, "a plan writes nothing");

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
        google.controls.count(&format!("GET {MEMBERS}")),
        4,
        "pages of 2, in each run"
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
fn nested_groups_and_the_whole_domain_are_left_alone_and_suspended_users_kept() {
    let google = google();
    google.nest("eng@example.com", "eng-leads@example.com");
    google.add_customer("eng@example.com", "C03az79cb");
    google.suspend("cy@example.com");
    let run = group(
        &google,
        TOKEN,
        &["ada@example.com", "cy@example.com", "eng-leads@example.com"],
    )
    .run(&["sync"])
    .expect_code(0);
    assert!(
        run.stderr.contains(
            "left alone 2 group member(s) that are not users (1 CUSTOMER, 1 GROUP): only users are synced"
        ),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains(
            "eng-leads@example.com is in the group already as a nested group; left as it is"
        ),
        "{}",
        run.stderr
    );
    assert_eq!(
        google.members("eng@example.com"),
        [
            "C03az79cb MEMBER CUSTOMER",
            "ada@example.com MEMBER",
            "boss@example.com OWNER",
            "cy@example.com MEMBER",
            "eng-leads@example.com MEMBER GROUP",
        ],
        "only dan, a user not in the source, was removed"
    );
    assert_eq!(google.controls.count(&format!("POST {MEMBERS}")), 0);
    assert_eq!(google.controls.writes(), 1);
}

#[test]
fn a_source_spelt_in_another_case_never_gets_one_member_added_and_removed() {
    let google = google();
    let destination = format!(
        "adapter = \"google-group\"\nallowed_hosts = [\"http://{}\"]\ncase_sensitive = true\nconfig = {{ {} }}",
        google.addr,
        config(&google, TOKEN, "")
    );
    let run = syncing_into(
        &destination,
        &["Ada@Example.com", "cy@example.com", "dan@example.com"],
    )
    .run(&["sync"])
    .expect_code(4);
    assert!(
        run.stdout.contains(
            "! could not remove ada@example.com: ada@example.com is account ada@example.com, \
             which this run already added under another spelling"
        ),
        "{}",
        run.stdout
    );
    assert_eq!(google.controls.writes(), 0, "ada was in the group already");
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
            "bob@example.com",
            "stranger@example.com",
        ],
    )
    .run(&["sync"])
    .expect_code(4);
    assert!(
        run.stdout.contains(
            "! could not add stranger@example.com: add stranger@example.com to group \
             eng@example.com: HTTP 400: Invalid Input: memberKey"
        ),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("dest (add-remove): 1 added, 0 removed"),
        "{}",
        run.stdout
    );
}

#[test]
fn a_failure_half_way_through_inserts_reports_exactly_what_was_applied() {
    let google = google();
    google.controls.inject(
        Fault::on(&format!("POST {MEMBERS}"), 500)
            .after(1)
            .body(&google_error(500, "Backend Error", "backendError")),
    );
    let people = [
        "ada@example.com",
        "cy@example.com",
        "bob@example.com",
        "eve@example.com",
    ];
    let workspace = group_with(&google, TOKEN, "concurrency = 1", &people);
    let run = workspace.run(&["sync"]).expect_code(4);
    assert!(
        run.stdout.contains("dest (add-remove): 1 added, 1 removed"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains(
            "! could not add eve@example.com: not applied: add eve@example.com to group \
             eng@example.com: HTTP 500"
        ),
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
        ]
    );
    workspace.run(&["sync"]).expect_code(0);
    assert!(
        google
            .members("eng@example.com")
            .contains(&"eve@example.com MEMBER".to_string()),
        "the next run applies the rest"
    );
}

#[test]
fn already_a_member_and_no_longer_a_member_are_not_failures() {
    let google = google();
    google.controls.inject(
        Fault::on(&format!("POST {MEMBERS}"), 409).body(&google_error(
            409,
            "Member already exists.",
            "duplicate",
        )),
    );
    google.controls.inject(
        Fault::on(&format!("DELETE {MEMBERS}/dan%40example.com"), 404).body(&google_error(
            404,
            "Resource Not Found: memberKey",
            "notFound",
        )),
    );
    let run = group(
        &google,
        TOKEN,
        &["ada@example.com", "cy@example.com", "bob@example.com"],
    )
    .run(&["sync"])
    .expect_code(0);
    assert!(
        run.stdout.contains("dest (add-remove): 1 added, 1 removed"),
        "{}",
        run.stdout
    );
}

#[test]
fn a_group_gone_by_the_time_of_the_changes_fails_the_call() {
    let google = google();
    google
        .controls
        .inject(
            Fault::on(&format!("DELETE {MEMBERS}"), 404)
                .times(2)
                .body(&google_error(
                    404,
                    "Resource Not Found: groupKey",
                    "notFound",
                )),
        );
    let run = group(&google, TOKEN, &["ada@example.com"])
        .run(&["sync"])
        .expect_code(4);
    assert!(
        run.stdout
            .contains("FAILED: remove failed: not found: remove "),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("from group eng@example.com: HTTP 404"),
        "{}",
        run.stdout
    );
}

#[test]
fn a_server_error_on_page_two_is_retried_and_every_page_read() {
    let google = google();
    google.controls.inject(
        Fault::on(&format!("GET {MEMBERS}"), 503)
            .after(1)
            .body(&google_error(503, "Service unavailable", "backendError")),
    );
    let run = group(
        &google,
        TOKEN,
        &["ada@example.com", "cy@example.com", "dan@example.com"],
    )
    .run(&["sync"])
    .expect_code(0);
    assert!(run.stdout.contains("up to date"), "{}", run.stdout);
    assert!(
        run.stdout
            .contains("HTTP retries: job `people` destination `dest` 1."),
        "{}",
        run.stdout
    );
    assert_eq!(google.controls.count(&format!("GET {MEMBERS}")), 3);
}

#[test]
fn a_bad_token_is_unauthorized_at_once_and_an_unknown_group_not_found() {
    let google = google();
    let run = group(&google, "ya29.wrong-token", &["bob@example.com"])
        .run(&["sync"])
        .expect_code(4);
    assert!(
        run.stdout
            .contains("FAILED: unauthorized: list group members: HTTP 401"),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("HTTP retries"), "{}", run.stdout);
    assert_eq!(google.controls.requests().len(), 1, "no retry");
    for output in [&run.stdout, &run.stderr] {
        assert!(!output.contains("ya29.wrong-token"), "{output}");
    }
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
