//! The `scim-group` adapter against the fake SCIM service provider, as
//! RFC 7644 describes one and as AWS IAM Identity Center answers.

use crate::conformance::{PROBE, kit, passes};
use crate::fakes::Fault;
use crate::fakes::scim::{AWS, FakeScim, Flavour, RFC};
use crate::support::{Workspace, syncing_into, syncing_into_fake};

const TOKEN: &str = "scim-test-token";
const PATCHES: &str = "PATCH /scim/v2/Groups/g1";
const USERS_IN_GROUP: &str = "GET /scim/v2/Users?filter=groups.value%20eq%20%22g1%22";
/// A service that lists no members on the group, but pages by startIndex.
const USERS_BY_GROUP: Flavour = Flavour {
    members_on_read: false,
    ..RFC
};

/// Users ada, bob, cy, dan, eve, fay and gus (`name@example.com`), and
/// group g1, "Engineering", holding ada, dan and cy.
fn scim(flavour: Flavour) -> FakeScim {
    let scim = FakeScim::start(TOKEN, flavour);
    scim.users(&[
        "ada@example.com",
        "bob@example.com",
        "cy@example.com",
        "dan@example.com",
        "eve@example.com",
        "fay@example.com",
        "gus@example.com",
    ]);
    scim.group(
        "Engineering",
        &["ada@example.com", "dan@example.com", "cy@example.com"],
    );
    scim
}

fn config(scim: &FakeScim, token: &str, extra: &str) -> String {
    format!(
        "base_url = \"{}\", group = \"g1\", token = \"{token}\", {extra}",
        scim.base_url()
    )
}

fn group(scim: &FakeScim, extra: &str, people: &[&str]) -> Workspace {
    syncing_into_fake("scim-group", scim.addr, &config(scim, TOKEN, extra), people)
}

/// A SCIM error body (RFC 7644 §3.12).
fn scim_error(status: u16, scim_type: &str, detail: &str) -> String {
    format!(
        r#"{{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"{status}","scimType":"{scim_type}","detail":"{detail}"}}"#
    )
}

#[test]
fn a_group_is_read_and_made_to_match_and_a_second_run_writes_nothing() {
    let scim = scim(RFC);
    let workspace = group(
        &scim,
        "",
        &["ada@example.com", "bob@example.com", "cy@example.com"],
    );
    let plan = workspace.run(&["plan"]).expect_code(0);
    assert!(
        plan.stdout.contains("1 to add, 1 to remove"),
        "{}",
        plan.stdout
    );
    assert_eq!(scim.controls.writes(), 0, "a plan writes nothing");

    let run = workspace.run(&["sync"]).expect_code(0);
    assert!(
        run.stdout.contains("dest (add-remove): 1 added, 1 removed"),
        "{}",
        run.stdout
    );
    assert_eq!(
        scim.members("g1"),
        ["ada@example.com", "bob@example.com", "cy@example.com"]
    );
    assert_eq!(scim.controls.count(PATCHES), 2, "one add, one remove");
    assert_eq!(
        scim.controls.count("GET /scim/v2/Users/"),
        6,
        "each member read by id, in each run"
    );

    let writes = scim.controls.writes();
    let run = workspace.run(&["sync"]).expect_code(0);
    assert!(run.stdout.contains("up to date"), "{}", run.stdout);
    assert_eq!(
        scim.controls.writes(),
        writes,
        "the second run writes nothing"
    );
}

#[test]
fn on_aws_the_members_are_listed_as_users_of_the_group_by_cursor_to_the_end() {
    let scim = scim(AWS);
    let workspace = group(
        &scim,
        "",
        &["ada@example.com", "bob@example.com", "cy@example.com"],
    );
    let run = workspace.run(&["sync"]).expect_code(0);
    assert!(
        run.stdout.contains("dest (add-remove): 1 added, 1 removed"),
        "{}",
        run.stdout
    );
    assert_eq!(
        scim.members("g1"),
        ["ada@example.com", "bob@example.com", "cy@example.com"]
    );
    let listed: Vec<String> = scim
        .controls
        .requests()
        .into_iter()
        .filter(|line| line.starts_with(USERS_IN_GROUP))
        .collect();
    assert_eq!(
        listed.len(),
        4,
        "page 2 by startIndex came back as page 1, so the list was read again by cursor, \
         in pages of 2: {listed:#?}"
    );
    assert!(listed[2].ends_with("&cursor=&count=100"), "{listed:#?}");
    assert!(
        listed[3].ends_with("&cursor=after%3A2&count=100"),
        "{listed:#?}"
    );

    let writes = scim.controls.writes();
    workspace.run(&["sync"]).expect_code(0);
    assert_eq!(
        scim.controls.writes(),
        writes,
        "the second run writes nothing"
    );
}

#[test]
fn a_service_refusing_start_index_has_the_members_read_by_cursor() {
    let scim = scim(AWS);
    scim.controls.inject(
        Fault::on(&format!("{USERS_IN_GROUP}&startIndex=1"), 400).body(&scim_error(
            400,
            "invalidValue",
            "startIndex is not supported",
        )),
    );
    let run = group(
        &scim,
        "",
        &["ada@example.com", "cy@example.com", "dan@example.com"],
    )
    .run(&["sync"])
    .expect_code(0);
    assert!(run.stdout.contains("up to date"), "{}", run.stdout);
    assert_eq!(
        scim.controls.count(USERS_IN_GROUP),
        3,
        "refused by index, then 2 pages by cursor"
    );
}

#[test]
fn a_server_error_on_page_two_is_retried_and_every_page_read() {
    let scim = scim(USERS_BY_GROUP);
    scim.controls
        .inject(Fault::on(USERS_IN_GROUP, 503).after(1).body(&scim_error(
            503,
            "",
            "Service unavailable",
        )));
    let run = group(
        &scim,
        "",
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
    assert_eq!(
        scim.controls.count(USERS_IN_GROUP),
        3,
        "page 2 (startIndex=3) asked for twice"
    );
    assert_eq!(
        scim.controls
            .count(&format!("{USERS_IN_GROUP}&startIndex=3")),
        2
    );
}

#[test]
fn rate_limits_are_waited_out_by_the_host() {
    let scim = scim(RFC);
    scim.controls.rate_limit(2, 1);
    let run = group(&scim, "", &["ada@example.com", "cy@example.com"])
        .run(&["sync"])
        .expect_code(0);
    assert!(
        run.stdout
            .contains("HTTP retries: job `people` destination `dest` 2."),
        "{}",
        run.stdout
    );
    assert_eq!(scim.members("g1"), ["ada@example.com", "cy@example.com"]);
}

#[test]
fn a_bad_token_is_unauthorized_at_once_and_never_shown() {
    let scim = scim(RFC);
    let workspace = syncing_into_fake(
        "scim-group",
        scim.addr,
        &config(&scim, "scim-wrong-token", ""),
        &["bob@example.com"],
    );
    let run = workspace.run(&["sync"]).expect_code(4);
    assert!(
        run.stdout.contains(
            "FAILED: unauthorized: find group `g1` by displayName: HTTP 401: The bearer token is \
             missing, invalid or expired. (check `token`"
        ),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("HTTP retries"), "{}", run.stdout);
    assert_eq!(scim.controls.requests().len(), 1, "no retry");
    for output in [&run.stdout, &run.stderr] {
        assert!(!output.contains("scim-wrong-token"), "{output}");
    }
}

#[test]
fn a_user_the_service_does_not_know_is_rejected_and_the_rest_applied() {
    let scim = scim(RFC);
    let source = [
        "ada@example.com",
        "cy@example.com",
        "dan@example.com",
        "bob@example.com",
        "stranger@example.com",
    ];
    let run = group(&scim, "", &source).run(&["sync"]).expect_code(4);
    assert!(
        run.stdout.contains(
            "! could not add stranger@example.com: no user has userName stranger@example.com"
        ),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("dest (add-remove): 1 added, 0 removed"),
        "{}",
        run.stdout
    );
    assert_eq!(
        scim.members("g1"),
        [
            "ada@example.com",
            "bob@example.com",
            "cy@example.com",
            "dan@example.com"
        ]
    );
}

#[test]
fn nested_groups_are_left_alone() {
    let scim = scim(RFC);
    let leads = scim.group("Leads", &["eve@example.com"]);
    scim.nest("g1", &leads);
    let run = group(
        &scim,
        "",
        &["ada@example.com", "cy@example.com", "dan@example.com"],
    )
    .run(&["sync"])
    .expect_code(0);
    assert!(run.stdout.contains("up to date"), "{}", run.stdout);
    assert!(
        run.stderr
            .contains("left alone 1 group member(s) (nested group: 1): only users are synced"),
        "{}",
        run.stderr
    );
    assert_eq!(scim.controls.writes(), 0);
    assert_eq!(
        scim.members("g1"),
        [
            "ada@example.com",
            "cy@example.com",
            "dan@example.com",
            "group Leads"
        ]
    );
}

#[test]
fn where_users_are_listed_by_group_a_member_through_a_nested_group_is_left_alone() {
    let scim = scim(USERS_BY_GROUP);
    let leads = scim.group("Leads", &["eve@example.com"]);
    scim.nest("g1", &leads);
    let run = group(&scim, "", &["ada@example.com", "cy@example.com"])
        .run(&["sync"])
        .expect_code(0);
    assert!(
        run.stderr.contains(
            "left alone 1 group member(s) (member only through a nested group: 1): only users \
             are synced"
        ),
        "{}",
        run.stderr
    );
    assert!(
        run.stdout.contains("dest (add-remove): 0 added, 1 removed"),
        "only dan, a member in his own right, was removed: {}",
        run.stdout
    );
}

#[test]
fn a_service_that_cannot_list_users_by_group_leaves_a_memberless_group_empty_and_says_so() {
    let scim = scim(USERS_BY_GROUP);
    scim.controls
        .inject(Fault::on(USERS_IN_GROUP, 400).times(2).body(&scim_error(
            400,
            "invalidFilter",
            "groups.value is not filterable",
        )));
    let plan = group(&scim, "", &["ada@example.com"])
        .run(&["plan"])
        .expect_code(0);
    assert!(
        plan.stderr.contains(
            "group g1 lists no members, and the service cannot list users by group (HTTP 400 \
             (invalidFilter): groups.value is not filterable): counted as empty"
        ),
        "{}",
        plan.stderr
    );
    assert!(
        plan.stdout
            .contains("dest (add-remove): 1 to add, 0 unchanged"),
        "{}",
        plan.stdout
    );
}

#[test]
fn changes_go_in_batches_of_the_configured_size() {
    let scim = scim(RFC);
    let run = group(
        &scim,
        "batch = 2",
        &[
            "ada@example.com",
            "bob@example.com",
            "eve@example.com",
            "fay@example.com",
            "gus@example.com",
        ],
    )
    .run(&["sync"])
    .expect_code(0);
    assert!(
        run.stdout.contains("dest (add-remove): 4 added, 2 removed"),
        "{}",
        run.stdout
    );
    assert_eq!(
        scim.controls.count(PATCHES),
        3,
        "4 additions in 2 requests, 2 removals in 1"
    );
    assert_eq!(
        scim.members("g1"),
        [
            "ada@example.com",
            "bob@example.com",
            "eve@example.com",
            "fay@example.com",
            "gus@example.com"
        ]
    );
}

#[test]
fn a_batch_over_the_services_limit_is_split_until_it_is_taken() {
    let scim = scim(RFC);
    scim.limit_changes(2);
    let run = group(
        &scim,
        "",
        &[
            "ada@example.com",
            "bob@example.com",
            "eve@example.com",
            "fay@example.com",
            "gus@example.com",
        ],
    )
    .run(&["sync"])
    .expect_code(0);
    assert!(
        run.stdout.contains("dest (add-remove): 4 added, 2 removed"),
        "{}",
        run.stdout
    );
    assert_eq!(
        scim.controls.count(PATCHES),
        4,
        "4 additions refused as tooMany, then sent as 2 and 2; 2 removals in 1"
    );
    assert_eq!(
        scim.members("g1"),
        [
            "ada@example.com",
            "bob@example.com",
            "eve@example.com",
            "fay@example.com",
            "gus@example.com"
        ]
    );
}

#[test]
fn a_batch_failing_half_way_reports_exactly_what_was_applied() {
    let scim = scim(RFC);
    scim.controls
        .inject(
            Fault::on(PATCHES, 500)
                .after(1)
                .body(&scim_error(500, "", "Internal error")),
        );
    let source = [
        "ada@example.com",
        "bob@example.com",
        "eve@example.com",
        "fay@example.com",
        "gus@example.com",
    ];
    let workspace = group(&scim, "batch = 2", &source);
    let run = workspace.run(&["sync"]).expect_code(4);
    assert!(
        run.stdout.contains("dest (add-remove): 2 added, 2 removed"),
        "{}",
        run.stdout
    );
    for person in ["fay", "gus"] {
        assert!(
            run.stdout.contains(&format!(
                "! could not add {person}@example.com: not applied: add 2 members to group g1: \
                 HTTP 500: Internal error"
            )),
            "{}",
            run.stdout
        );
    }
    assert_eq!(
        scim.members("g1"),
        ["ada@example.com", "bob@example.com", "eve@example.com"]
    );

    let run = workspace.run(&["sync"]).expect_code(0);
    assert!(
        run.stdout.contains("dest (add-remove): 2 added, 0 removed"),
        "the next run applies the rest: {}",
        run.stdout
    );
    assert_eq!(scim.members("g1"), source);
}

#[test]
fn already_a_member_and_no_longer_a_member_are_not_failures() {
    let scim = scim(RFC);
    scim.controls
        .inject(Fault::on(PATCHES, 409).body(&scim_error(409, "uniqueness", "already a member")));
    scim.controls
        .inject(Fault::on(PATCHES, 400).body(&scim_error(400, "noTarget", "no such member")));
    let run = group(
        &scim,
        "",
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
fn removals_refused_over_one_member_are_sent_again_one_by_one() {
    let scim = scim(RFC);
    scim.controls
        .inject(Fault::on(PATCHES, 400).body(&scim_error(400, "noTarget", "no such member")));
    let run = group(&scim, "", &["ada@example.com"])
        .run(&["sync"])
        .expect_code(0);
    assert!(
        run.stdout.contains("dest (add-remove): 0 added, 2 removed"),
        "{}",
        run.stdout
    );
    assert_eq!(scim.controls.count(PATCHES), 3, "2 together, then 1 and 1");
    assert_eq!(scim.members("g1"), ["ada@example.com"]);
}

#[test]
fn a_group_is_found_by_display_name_and_an_ambiguous_or_unknown_one_refused() {
    let scim = scim(RFC);
    let by_name = |name: &str| {
        let config =
            config(&scim, TOKEN, "").replace("group = \"g1\"", &format!("group = \"{name}\""));
        syncing_into_fake(
            "scim-group",
            scim.addr,
            &config,
            &[
                "ada@example.com",
                "cy@example.com",
                "dan@example.com",
                "bob@example.com",
            ],
        )
    };
    let run = by_name("Engineering").run(&["sync"]).expect_code(0);
    assert!(
        run.stdout.contains("dest (add-remove): 1 added, 0 removed"),
        "{}",
        run.stdout
    );
    assert_eq!(scim.controls.count(PATCHES), 1);

    scim.group("engineering", &[]);
    let run = by_name("Engineering").run(&["plan"]).expect_code(4);
    assert!(
        run.stdout.contains(
            "config key `group` is `Engineering`, the displayName of 2 groups (ids g1, g2): set \
             `group` to the id of the one to sync"
        ),
        "{}",
        run.stdout
    );

    let run = by_name("Platform").run(&["plan"]).expect_code(4);
    assert!(
        run.stdout.contains(&format!(
            "FAILED: not found: no group has the id or displayName `Platform` at {} (HTTP 404: \
             Group Platform not found): check `group`",
            scim.base_url()
        )),
        "{}",
        run.stdout
    );
}

#[test]
fn a_source_spelt_in_another_case_never_gets_one_user_added_and_removed() {
    let scim = scim(RFC);
    let destination = format!(
        "adapter = \"scim-group\"\nallowed_hosts = [\"http://{}\"]\ncase_sensitive = true\nconfig = {{ {} }}",
        scim.addr,
        config(&scim, TOKEN, "")
    );
    let run = syncing_into(
        &destination,
        &["Ada@Example.com", "cy@example.com", "dan@example.com"],
    )
    .run(&["sync"])
    .expect_code(4);
    assert!(
        run.stdout.contains(
            "! could not remove ada@example.com: ada@example.com is account u1, \
             which this run already added under another spelling"
        ),
        "{}",
        run.stdout
    );
    assert_eq!(scim.controls.writes(), 0, "ada was in the group already");
}

#[test]
fn emails_can_be_the_things_where_the_service_filters_users_by_email() {
    let scim = FakeScim::start(TOKEN, RFC);
    scim.user("ann", &["ann@corp.example"]);
    scim.user("ben", &["ben@corp.example", "ben@home.example"]);
    scim.user("cat", &["cat@corp.example"]);
    scim.group("Staff", &["ann", "cat"]);
    let workspace = group(
        &scim,
        "user_attribute = \"emails\"",
        &["ann@corp.example", "Ben@Corp.example"],
    );
    let run = workspace.run(&["sync"]).expect_code(0);
    assert!(
        run.stdout.contains("dest (add-remove): 1 added, 1 removed"),
        "{}",
        run.stdout
    );
    assert_eq!(scim.members("g1"), ["ann", "ben"]);
    assert_eq!(
        scim.controls
            .count("GET /scim/v2/Users?filter=emails.value%20eq%20%22Ben%40Corp.example%22"),
        1
    );
}

#[test]
fn on_aws_emails_cannot_be_the_things_and_the_error_says_what_to_set() {
    let aws = scim(AWS);
    let run = group(
        &aws,
        "user_attribute = \"emails\"",
        &["ada@example.com", "bob@example.com"],
    )
    .run(&["sync"])
    .expect_code(4);
    assert!(
        run.stdout.contains(
            "FAILED: add failed: find the user whose email is bob@example.com: HTTP 400 \
             (invalidFilter)"
        ),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("does not: set `user_attribute = \"userName\"`)"),
        "{}",
        run.stdout
    );
    assert_eq!(aws.controls.writes(), 0);
}

#[test]
fn the_conformance_kit_passes_as_rfc_7644_and_as_aws_answer() {
    for flavour in [RFC, AWS] {
        let scim = scim(flavour);
        scim.users(&[PROBE]);
        let base = format!("base_url={}", scim.base_url());
        let host = format!("http://{}", scim.addr);
        let token = format!("token={TOKEN}");
        passes(kit(
            "scim-group",
            &[
                "--config",
                &base,
                "--config",
                "group=g1",
                "--config",
                &token,
                "--allow-host",
                &host,
            ],
        ));
    }
}
