//! The HCP Terraform adapters (`tfc-organization`, `tfc-team-members`,
//! `tfc-teams`) against the fake HCP Terraform, through the real binary.

use crate::conformance::{PROBE, kit, passes};
use crate::fakes::Fault;
use crate::fakes::tfc::{FakeTfc, Status, rate_limit};
use crate::support::{Run, Workspace, component, syncing_into_fake};
use std::time::{Duration, Instant};

const TOKEN: &str = "tfc-test-token";
const OWNER: &str = "root@example.com";
const MEMBERSHIPS: &str = "GET /api/v2/organizations/acme/organization-memberships";
const INVITE: &str = "POST /api/v2/organizations/acme/organization-memberships";
const TEAMS: &str = "GET /api/v2/organizations/acme/teams";
const CREATE_TEAM: &str = "POST /api/v2/organizations/acme/teams";
const SERVER_ERROR: &str =
    r#"{"errors":[{"status":"500","title":"internal server error","detail":"try again"}]}"#;
/// The organisation's memberships, as `tfc-organization` lists them.
const EVERYONE: [&str; 5] = [
    OWNER,
    "ada@example.com",
    "Bob@Example.com",
    "cy@example.com",
    "eve@example.com",
];

/// Organisation acme: its owner; ada (on devs) and Bob (spelt
/// Bob@Example.com, on no team), active; cy, invited onto devs; eve,
/// active on ops. Pages hold 2.
fn acme() -> FakeTfc {
    let tfc = FakeTfc::start(TOKEN, "acme", OWNER);
    tfc.team("devs");
    tfc.team("ops");
    tfc.member("ada@example.com", Status::Active, &["devs"]);
    tfc.member("Bob@Example.com", Status::Active, &[]);
    tfc.member("cy@example.com", Status::Invited, &["devs"]);
    tfc.member("eve@example.com", Status::Active, &["ops"]);
    tfc
}

fn config(tfc: &FakeTfc, token: &str, extra: &str) -> String {
    format!(
        "organization = \"acme\", token = \"{token}\", api_url = \"{}\"{extra}",
        tfc.api_url()
    )
}

/// A workspace syncing `people` into `adapter` with `extra` config (`, key = "value"`).
fn syncing(adapter: &str, tfc: &FakeTfc, extra: &str, people: &[&str]) -> Workspace {
    syncing_into_fake(adapter, tfc.addr, &config(tfc, TOKEN, extra), people)
}

fn organization(tfc: &FakeTfc, people: &[&str]) -> Workspace {
    syncing("tfc-organization", tfc, "", people)
}

fn devs(tfc: &FakeTfc, extra: &str, people: &[&str]) -> Workspace {
    let extra = format!(", team = \"devs\"{extra}");
    syncing("tfc-team-members", tfc, &extra, people)
}

fn teams(tfc: &FakeTfc, extra: &str, names: &[&str]) -> Workspace {
    syncing("tfc-teams", tfc, extra, names)
}

/// Adds destination options (`case_sensitive = true`) to the workspace's destination.
fn with_option(workspace: Workspace, option: &str) -> Workspace {
    let config = workspace.read("allsync.toml");
    workspace.write("allsync.toml", &format!("{config}{option}\n"));
    workspace
}

fn says(run: &Run, text: &str) {
    assert!(
        run.stdout.contains(text),
        "expected {text:?} in\n--- stdout\n{}\n--- stderr\n{}",
        run.stdout,
        run.stderr
    );
}

/// Runs the sync twice more: the first applies nothing new, the second too.
fn second_sync_writes_nothing(tfc: &FakeTfc, workspace: &Workspace) {
    let writes = tfc.controls.writes();
    says(&workspace.run(&["sync"]).expect_code(0), "up to date");
    assert_eq!(
        tfc.controls.writes(),
        writes,
        "the second run writes nothing"
    );
}

/// Asserts a bad token fails the destination as unauthorized, at once, unshown.
fn a_bad_token_is_refused_at_once(adapter: &str, extra: &str, people: &[&str], what: &str) {
    let tfc = acme();
    let workspace = syncing_into_fake(
        adapter,
        tfc.addr,
        &config(&tfc, "tfc-wrong-token", extra),
        people,
    );
    let run = workspace.run(&["sync"]).expect_code(4);
    says(
        &run,
        &format!(
            "FAILED: unauthorized: {what}: HTTP 401: unauthorized (the token is missing, invalid or expired)"
        ),
    );
    assert!(!run.stdout.contains("HTTP retries"), "{}", run.stdout);
    assert_eq!(tfc.controls.requests().len(), 1, "no retry");
    for output in [&run.stdout, &run.stderr] {
        assert!(!output.contains("tfc-wrong-token"), "{output}");
    }
}

/// Asserts a sync waited out the 429 for the seconds `x-ratelimit-reset` said.
fn waited_out(run: &Run, started: Instant, reset: f64) {
    says(run, "HTTP retries: job `people` destination `dest` 1.");
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_secs_f64(reset),
        "waited {waited:?}, not the {reset} s x-ratelimit-reset asked"
    );
}

// tfc-organization

#[test]
fn an_organization_is_paged_through_and_made_to_match_by_invitation_and_removal() {
    let tfc = acme();
    let people = [
        OWNER,
        "ada@example.com",
        "bob@example.com",
        "cy@example.com",
        "dan@example.com",
    ];
    let workspace = organization(&tfc, &people);
    let plan = workspace.run(&["plan"]).expect_code(0);
    says(
        &plan,
        "dest (add-remove): 1 to add, 1 to remove, 4 unchanged",
    );
    says(&plan, "+ dan@example.com");
    says(&plan, "- eve@example.com");
    assert_eq!(tfc.controls.writes(), 0, "a plan writes nothing");

    let run = workspace.run(&["sync"]).expect_code(0);
    says(&run, "dest (add-remove): 1 added, 1 removed");
    assert_eq!(
        tfc.memberships(),
        [
            "Bob@Example.com (active)",
            "ada@example.com (active)",
            "cy@example.com (invited)",
            "dan@example.com (invited)",
            "root@example.com (active)"
        ],
        "Bob matched ignoring case; dan invited; eve removed"
    );
    assert_eq!(
        tfc.controls.count(MEMBERSHIPS),
        6,
        "5 memberships, pages of 2, in each run"
    );
    assert_eq!(tfc.controls.count(INVITE), 1);
    assert_eq!(
        tfc.controls
            .count("DELETE /api/v2/organization-memberships/"),
        1
    );
    second_sync_writes_nothing(&tfc, &workspace);
}

#[test]
fn an_invitation_not_yet_accepted_is_a_membership_and_removing_it_cancels_it() {
    let tfc = acme();
    let plan = organization(&tfc, &EVERYONE).run(&["plan"]).expect_code(0);
    says(&plan, "dest (add-remove): up to date (5 unchanged)");

    let without_cy = [
        OWNER,
        "ada@example.com",
        "Bob@Example.com",
        "eve@example.com",
    ];
    let run = organization(&tfc, &without_cy)
        .run(&["sync"])
        .expect_code(0);
    says(&run, "dest (add-remove): 0 added, 1 removed");
    assert!(
        !tfc.memberships()
            .contains(&"cy@example.com (invited)".to_string())
    );
}

#[test]
fn newcomers_are_invited_onto_the_teams_named_in_config() {
    let tfc = acme();
    let mut people = EVERYONE.to_vec();
    people.push("dan@example.com");
    let run = syncing("tfc-organization", &tfc, ", teams = \"devs,ops\"", &people)
        .run(&["sync"])
        .expect_code(0);
    says(&run, "dest (add-remove): 1 added, 0 removed");
    for team in ["devs", "ops"] {
        assert!(
            tfc.team_members(team)
                .contains(&"dan@example.com".to_string()),
            "{team}"
        );
    }

    people.push("fay@example.com");
    let run = syncing("tfc-organization", &tfc, ", teams = \"Devs\"", &people)
        .run(&["sync"])
        .expect_code(4);
    says(
        &run,
        "config key `teams` names `Devs`, which is not a team of organization acme",
    );
    assert_eq!(
        tfc.controls.count(INVITE),
        1,
        "nobody invited without their teams"
    );
}

#[test]
fn one_membership_is_never_added_and_removed_in_one_run_under_two_spellings() {
    let tfc = acme();
    let people = [
        OWNER,
        "ada@example.com",
        "BOB@example.com",
        "cy@example.com",
        "eve@example.com",
    ];
    let workspace = with_option(organization(&tfc, &people), "case_sensitive = true");
    let run = workspace.run(&["sync"]).expect_code(4);
    says(
        &run,
        "! could not remove Bob@Example.com: Bob@Example.com is account ou-",
    );
    says(&run, "which this run already added under another spelling");
    assert_eq!(tfc.controls.writes(), 0, "Bob was a member already");
    assert!(
        tfc.memberships()
            .contains(&"Bob@Example.com (active)".to_string())
    );
}

#[test]
fn an_invalid_email_is_rejected_and_the_rest_applied() {
    let tfc = acme();
    let mut people = EVERYONE.to_vec();
    people.extend(["dan.example.com", "fay@example.com"]);
    let run = organization(&tfc, &people).run(&["sync"]).expect_code(4);
    says(&run, "dest (add-remove): 1 added, 0 removed");
    says(
        &run,
        "! could not add dan.example.com: invite dan.example.com to organization acme: HTTP 422: Email is invalid",
    );
    assert!(
        tfc.memberships()
            .contains(&"fay@example.com (invited)".to_string())
    );
}

#[test]
fn a_removal_the_api_refuses_is_rejected_alone() {
    let tfc = acme();
    let everyone_but_the_owner = &EVERYONE[1..];
    let run = organization(&tfc, everyone_but_the_owner)
        .run(&["sync"])
        .expect_code(4);
    says(
        &run,
        "! could not remove root@example.com: remove root@example.com (ou-",
    );
    says(
        &run,
        "from organization acme: HTTP 422: the owners team cannot be left empty",
    );
    assert!(
        tfc.memberships()
            .contains(&"root@example.com (active)".to_string())
    );
}

#[test]
fn an_invitation_failing_half_way_reports_exactly_what_was_applied() {
    let tfc = acme();
    tfc.controls
        .inject(Fault::on(INVITE, 500).after(1).body(SERVER_ERROR));
    let mut people = EVERYONE.to_vec();
    people.extend(["dan@example.com", "fay@example.com", "gus@example.com"]);
    let workspace = syncing("tfc-organization", &tfc, ", concurrency = 1", &people);
    let run = workspace.run(&["sync"]).expect_code(4);
    says(&run, "dest (add-remove): 2 added, 0 removed");
    says(
        &run,
        "! could not add fay@example.com: not applied: invite fay@example.com to organization acme: HTTP 500: try again",
    );
    assert!(
        !tfc.memberships()
            .contains(&"fay@example.com (invited)".to_string())
    );

    let run = workspace.run(&["sync"]).expect_code(0);
    says(&run, "dest (add-remove): 1 added, 0 removed");
}

#[test]
fn a_rate_limit_is_waited_out_for_as_long_as_x_ratelimit_reset_says() {
    let tfc = acme();
    tfc.controls.inject(rate_limit(MEMBERSHIPS, 1.5));
    let started = Instant::now();
    let run = organization(&tfc, &EVERYONE).run(&["sync"]).expect_code(0);
    waited_out(&run, started, 1.5);
    says(&run, "up to date");
}

#[test]
fn a_server_error_on_page_two_is_retried_and_every_page_read() {
    let tfc = acme();
    tfc.controls
        .inject(Fault::on(MEMBERSHIPS, 503).after(1).body(SERVER_ERROR));
    let run = organization(&tfc, &EVERYONE).run(&["sync"]).expect_code(0);
    says(&run, "up to date (5 unchanged)");
    says(&run, "HTTP retries: job `people` destination `dest` 1.");
    assert_eq!(tfc.controls.count(MEMBERSHIPS), 4, "page 2 asked for twice");
}

#[test]
fn tfc_organization_refuses_a_bad_token_at_once() {
    a_bad_token_is_refused_at_once(
        "tfc-organization",
        "",
        &EVERYONE,
        "list the memberships of organization acme",
    );
}

// tfc-team-members

#[test]
fn a_team_is_made_to_match_through_organization_memberships() {
    let tfc = acme();
    let workspace = devs(&tfc, "", &["ada@example.com", "bob@example.com"]);
    let plan = workspace.run(&["plan"]).expect_code(0);
    says(
        &plan,
        "dest (add-remove): 1 to add, 1 to remove, 1 unchanged",
    );
    says(&plan, "- cy@example.com");
    assert_eq!(tfc.controls.writes(), 0, "a plan writes nothing");

    let run = workspace.run(&["sync"]).expect_code(0);
    says(&run, "dest (add-remove): 1 added, 1 removed");
    assert_eq!(
        tfc.team_members("devs"),
        ["Bob@Example.com", "ada@example.com"],
        "Bob joined; cy's invitation left the team"
    );
    assert!(
        tfc.memberships()
            .contains(&"cy@example.com (invited)".to_string()),
        "cy is still invited to the organisation"
    );
    assert_eq!(tfc.controls.writes(), 2, "one request a change");
    assert_eq!(
        tfc.controls.count(MEMBERSHIPS),
        6,
        "5 memberships, pages of 2, in each run"
    );
    assert_eq!(
        tfc.controls.count(TEAMS),
        4,
        "3 teams, pages of 2, in each run"
    );
    second_sync_writes_nothing(&tfc, &workspace);
}

#[test]
fn an_invited_member_counts_as_on_the_team_though_the_teams_api_leaves_them_out() {
    let tfc = acme();
    let workspace = devs(&tfc, "", &["ada@example.com", "cy@example.com"]);
    says(
        &workspace.run(&["plan"]).expect_code(0),
        "up to date (2 unchanged)",
    );
    tfc.accept("cy@example.com");
    says(
        &workspace.run(&["plan"]).expect_code(0),
        "up to date (2 unchanged)",
    );
}

#[test]
fn an_email_with_no_membership_is_rejected_unless_invite_is_set() {
    let tfc = acme();
    let people = ["ada@example.com", "cy@example.com", "zed@example.com"];
    let run = devs(&tfc, "", &people).run(&["sync"]).expect_code(4);
    says(
        &run,
        "! could not add zed@example.com: zed@example.com has no membership of organization acme, \
         invited or active: invite them first (the tfc-organization adapter), or set `invite = true`",
    );
    assert_eq!(tfc.controls.writes(), 0);

    let invite = devs(&tfc, ", invite = true", &people);
    says(
        &invite.run(&["sync"]).expect_code(0),
        "dest (add-remove): 1 added, 0 removed",
    );
    assert!(
        tfc.memberships()
            .contains(&"zed@example.com (invited)".to_string())
    );
    assert!(
        tfc.team_members("devs")
            .contains(&"zed@example.com".to_string())
    );
    second_sync_writes_nothing(&tfc, &invite);
}

#[test]
fn team_changes_failing_half_way_report_exactly_what_was_applied() {
    let tfc = acme();
    tfc.controls
        .inject(Fault::on(INVITE, 500).after(1).body(SERVER_ERROR));
    let people = [
        "ada@example.com",
        "cy@example.com",
        "bob@example.com",
        "yan@example.com",
        "zed@example.com",
    ];
    let workspace = devs(&tfc, ", invite = true, concurrency = 1", &people);
    let run = workspace.run(&["sync"]).expect_code(4);
    says(&run, "dest (add-remove): 2 added, 0 removed");
    says(
        &run,
        "! could not add zed@example.com: not applied: invite zed@example.com to organization acme: HTTP 500: try again",
    );
    assert_eq!(
        tfc.team_members("devs"),
        [
            "Bob@Example.com",
            "ada@example.com",
            "cy@example.com",
            "yan@example.com"
        ]
    );
    says(
        &workspace.run(&["sync"]).expect_code(0),
        "dest (add-remove): 1 added, 0 removed",
    );
}

#[test]
fn the_owners_team_is_never_left_empty_and_the_refusal_is_reported() {
    let tfc = acme();
    let owners = syncing("tfc-team-members", &tfc, ", team = \"owners\"", &[]);
    let run = owners.run(&["sync"]).expect_code(4);
    says(
        &run,
        "! could not remove root@example.com: remove 1 member(s) from team owners: HTTP 422: \
         the owners team cannot be left empty",
    );
    assert_eq!(tfc.team_members("owners"), [OWNER]);
}

#[test]
fn a_team_name_is_compared_exactly_and_a_near_miss_named() {
    let tfc = acme();
    let run = syncing(
        "tfc-team-members",
        &tfc,
        ", team = \"Devs\"",
        &["ada@example.com"],
    )
    .run(&["sync"])
    .expect_code(4);
    says(
        &run,
        "FAILED: not found: organization acme has no team named `Devs` that the token may see \
         (team names are compared exactly: did you mean `devs`?)",
    );
    assert_eq!(tfc.controls.writes(), 0);
}

#[test]
fn a_rate_limited_team_change_is_waited_out() {
    let tfc = acme();
    let join = "POST /api/v2/teams/";
    tfc.controls.inject(rate_limit(join, 1.2));
    let started = Instant::now();
    let run = devs(
        &tfc,
        "",
        &["ada@example.com", "cy@example.com", "bob@example.com"],
    )
    .run(&["sync"])
    .expect_code(0);
    waited_out(&run, started, 1.2);
    says(&run, "dest (add-remove): 1 added, 0 removed");
    assert_eq!(
        tfc.controls.count(join),
        2,
        "asked again once the limit reset"
    );
}

#[test]
fn tfc_team_members_refuses_a_bad_token_at_once() {
    a_bad_token_is_refused_at_once(
        "tfc-team-members",
        ", team = \"devs\"",
        &["ada@example.com"],
        "list the teams of organization acme",
    );
}

// tfc-teams

#[test]
fn teams_are_created_and_deleted_to_match_and_the_owners_team_never_listed() {
    let tfc = acme();
    tfc.team("legacy");
    let workspace = teams(&tfc, "", &["devs", "ops", "platform"]);
    let plan = workspace.run(&["plan"]).expect_code(0);
    says(
        &plan,
        "dest (add-remove): 1 to add, 1 to remove, 2 unchanged",
    );
    says(&plan, "+ platform");
    says(&plan, "- legacy");
    assert!(!plan.stdout.contains("owners"), "{}", plan.stdout);
    assert_eq!(tfc.controls.writes(), 0, "a plan writes nothing");

    let run = workspace.run(&["sync"]).expect_code(0);
    says(&run, "dest (add-remove): 1 added, 1 removed");
    assert_eq!(tfc.team_names(), ["devs", "ops", "owners", "platform"]);
    assert_eq!(
        tfc.controls.count(TEAMS),
        4,
        "4 teams, pages of 2, in each run"
    );
    second_sync_writes_nothing(&tfc, &workspace);
}

#[test]
fn the_owners_team_in_a_source_is_rejected_saying_to_ignore_it() {
    let tfc = acme();
    let run = teams(&tfc, "", &["devs", "ops", "owners"])
        .run(&["sync"])
        .expect_code(4);
    says(
        &run,
        "! could not add owners: the owners team is every organization's own and cannot be \
         deleted, so tfc-teams never syncs it: take it out of the source, or list it in `ignore`",
    );
    let ignoring = with_option(
        teams(&tfc, "", &["devs", "ops", "owners"]),
        "ignore = [\"owners\"]",
    );
    says(&ignoring.run(&["sync"]).expect_code(0), "up to date");
    assert_eq!(tfc.controls.writes(), 0);
}

#[test]
fn a_name_the_api_refuses_is_rejected_and_the_rest_applied() {
    let tfc = acme();
    let run = teams(&tfc, "", &["devs", "ops", "data science", "platform"])
        .run(&["sync"])
        .expect_code(4);
    says(&run, "dest (add-remove): 1 added, 0 removed");
    says(
        &run,
        "! could not add data science: create team data science in organization acme: HTTP 422: \
         Name can only include letters, numbers, -, and _",
    );
    assert_eq!(tfc.team_names(), ["devs", "ops", "owners", "platform"]);
}

#[test]
fn team_creation_failing_half_way_reports_exactly_what_was_applied() {
    let tfc = acme();
    tfc.controls
        .inject(Fault::on(CREATE_TEAM, 500).after(1).body(SERVER_ERROR));
    let workspace = teams(
        &tfc,
        ", concurrency = 1",
        &["devs", "ops", "alpha", "beta", "gamma"],
    );
    let run = workspace.run(&["sync"]).expect_code(4);
    says(&run, "dest (add-remove): 2 added, 0 removed");
    says(
        &run,
        "! could not add beta: not applied: create team beta in organization acme: HTTP 500: try again",
    );
    assert_eq!(
        tfc.team_names(),
        ["alpha", "devs", "gamma", "ops", "owners"]
    );
    says(
        &workspace.run(&["sync"]).expect_code(0),
        "dest (add-remove): 1 added, 0 removed",
    );
}

#[test]
fn a_rate_limited_team_creation_is_waited_out() {
    let tfc = acme();
    tfc.controls.inject(rate_limit(CREATE_TEAM, 1.2));
    let started = Instant::now();
    let run = teams(&tfc, "", &["devs", "ops", "platform"])
        .run(&["sync"])
        .expect_code(0);
    waited_out(&run, started, 1.2);
    assert_eq!(tfc.team_names(), ["devs", "ops", "owners", "platform"]);
}

#[test]
fn tfc_teams_refuses_a_bad_token_at_once() {
    a_bad_token_is_refused_at_once(
        "tfc-teams",
        "",
        &["devs"],
        "list the teams of organization acme",
    );
}

// The conformance kit

fn kit_config(tfc: &FakeTfc) -> Vec<String> {
    [
        format!("token={TOKEN}"),
        "organization=acme".to_string(),
        format!("api_url={}", tfc.api_url()),
    ]
    .into_iter()
    .flat_map(|pair| ["--config".to_string(), pair])
    .chain(["--allow-host".to_string(), tfc.api_url()])
    .collect()
}

#[test]
fn tfc_organization_passes_the_conformance_kit() {
    let tfc = acme();
    let args = kit_config(&tfc);
    passes(kit(
        "tfc-organization",
        &args.iter().map(String::as_str).collect::<Vec<_>>(),
    ));
    assert!(!tfc.memberships().iter().any(|m| m.starts_with(PROBE)));
}

#[test]
fn tfc_team_members_passes_the_conformance_kit() {
    let tfc = acme();
    tfc.member(PROBE, Status::Active, &[]);
    let mut args = kit_config(&tfc);
    args.extend(["--config".to_string(), "team=devs".to_string()]);
    passes(kit(
        "tfc-team-members",
        &args.iter().map(String::as_str).collect::<Vec<_>>(),
    ));
    assert!(!tfc.team_members("devs").contains(&PROBE.to_string()));
}

#[test]
fn tfc_teams_passes_the_conformance_kit_with_a_team_name_for_a_probe() {
    let tfc = acme();
    let file = component("tfc-teams");
    let mut args = vec![
        "test-adapter".to_string(),
        file.to_str().unwrap().to_string(),
        "--sandbox".to_string(),
        "--thing".to_string(),
        "allsync-probe".to_string(),
    ];
    args.extend(kit_config(&tfc));
    let workspace = Workspace::with_adapters(&[]);
    passes(workspace.run(&args.iter().map(String::as_str).collect::<Vec<_>>()));
    assert!(!tfc.team_names().contains(&"allsync-probe".to_string()));
}
