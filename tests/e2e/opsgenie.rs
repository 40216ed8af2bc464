//! The `opsgenie-schedule` and `opsgenie-oncall` adapters against the fake
//! Opsgenie.

use crate::conformance::{PROBE, kit, passes};
use crate::fakes::Fault;
use crate::fakes::opsgenie::{FakeOpsgenie, Member, escalation, team, throttled, user};
use crate::support::{Run, Workspace, component, syncing_into, syncing_into_fake};

const KEY: &str = "og-test-key-1234";
const ADA: &str = "ada@example.com";
const BOB: &str = "bob@example.com";
const CY: &str = "cy@example.com";
const DAN: &str = "dan@example.com";
const EVE: &str = "eve@example.com";
const READ_OPS: &str = "GET /v2/schedules/Ops?identifierType=name";
const UPDATES: &str = "PATCH /v2/schedules/schedule-1/rotations/schedule-1-rotation-1";
const USERS: &str = "GET /v2/users/";

/// An account with five users, a team and an escalation, and schedule `Ops`
/// with one rotation, `Weekly`, of `participants`.
fn opsgenie(participants: &[Member]) -> FakeOpsgenie {
    let opsgenie = FakeOpsgenie::start(KEY, &[ADA, BOB, CY, DAN, PROBE]);
    opsgenie.team("ops", &[CY, DAN]);
    opsgenie.escalation("ops_escalation", &[BOB]);
    opsgenie.schedule("Ops", &[("Weekly", participants)]);
    opsgenie
}

fn config(opsgenie: &FakeOpsgenie, key: &str, extra: &str) -> String {
    format!(
        "schedule = \"Ops\", schedule_identifier_type = \"name\", api_key = \"{key}\", api_url = \"{}\"{extra}",
        opsgenie.api_url()
    )
}

/// `people` synced into schedule `Ops`.
fn rotation(opsgenie: &FakeOpsgenie, people: &[&str]) -> Workspace {
    rotation_with(opsgenie, KEY, "", people)
}

fn rotation_with(opsgenie: &FakeOpsgenie, key: &str, extra: &str, people: &[&str]) -> Workspace {
    syncing_into_fake(
        "opsgenie-schedule",
        opsgenie.addr,
        &config(opsgenie, key, extra),
        people,
    )
}

fn expect_in(run: &Run, text: &str) {
    assert!(
        run.stdout.contains(text),
        "{text}\n--- stdout\n{}\n--- stderr\n{}",
        run.stdout,
        run.stderr
    );
}

#[test]
fn a_rotation_is_made_to_match_in_one_update_per_call_and_a_second_sync_writes_nothing() {
    let opsgenie = opsgenie(&[user(ADA), user(DAN)]);
    let workspace = rotation(&opsgenie, &[ADA, BOB, CY]);
    let plan = workspace.run(&["plan"]).expect_code(0);
    expect_in(&plan, "2 to add, 1 to remove");
    assert_eq!(opsgenie.controls.writes(), 0, "a plan writes nothing");

    let run = workspace.run(&["sync"]).expect_code(0);
    expect_in(&run, "dest (add-remove): 2 added, 1 removed");
    assert_eq!(
        opsgenie.participants("Ops"),
        [[ADA, BOB, CY]],
        "newcomers join at the end, in the source's order"
    );
    assert_eq!(
        opsgenie.controls.count(UPDATES),
        2,
        "one update for the additions, one for the removal"
    );

    let writes = opsgenie.controls.writes();
    let again = workspace.run(&["sync"]).expect_code(0);
    expect_in(&again, "up to date");
    assert_eq!(
        opsgenie.controls.writes(),
        writes,
        "the second run writes nothing"
    );
}

#[test]
fn teams_escalations_and_none_slots_are_kept_in_their_places() {
    let opsgenie = opsgenie(&[
        team("ops"),
        user(ADA),
        escalation("ops_escalation"),
        Member::Nobody,
        user(BOB),
    ]);
    let run = rotation(&opsgenie, &[BOB, CY])
        .run(&["sync"])
        .expect_code(0);
    expect_in(&run, "dest (add-remove): 1 added, 1 removed");
    assert_eq!(
        opsgenie.participants("Ops"),
        [["team ops", "escalation ops_escalation", "none", BOB, CY]]
    );
    assert!(
        run.stderr.contains(
            "rotation `Weekly` of schedule `Ops` also holds team `ops`, escalation \
             `ops_escalation`, a `none` slot (no one): left as they are"
        ),
        "{}",
        run.stderr
    );
}

#[test]
fn an_email_no_opsgenie_user_has_is_rejected_and_the_rest_applied() {
    let opsgenie = opsgenie(&[user(ADA)]);
    let run = rotation(&opsgenie, &[ADA, EVE, BOB])
        .run(&["sync"])
        .expect_code(4);
    expect_in(
        &run,
        "! could not add eve@example.com: no Opsgenie user has the username eve@example.com: \
         a rotation takes only existing users",
    );
    expect_in(&run, "dest (add-remove): 1 added, 0 removed");
    assert_eq!(opsgenie.participants("Ops"), [[ADA, BOB]]);
    assert_eq!(
        opsgenie.controls.count(UPDATES),
        1,
        "bob alone, in one update"
    );
}

#[test]
fn a_schedule_with_two_rotations_is_refused_naming_them_until_one_is_chosen() {
    let opsgenie = FakeOpsgenie::start(KEY, &[ADA, BOB]);
    opsgenie.schedule("Ops", &[("Days", &[user(ADA)]), ("Nights", &[user(BOB)])]);
    let plan = rotation(&opsgenie, &[ADA, BOB])
        .run(&["plan"])
        .expect_code(4);
    expect_in(
        &plan,
        "FAILED: schedule `Ops` has 2 rotations (`Days` (id schedule-1-rotation-1), \
         `Nights` (id schedule-1-rotation-2)): this adapter manages the participants of one \
         rotation; set `rotation` to the name or ID of the one to sync, or keep a single \
         rotation in the schedule",
    );

    let run = rotation_with(&opsgenie, KEY, ", rotation = \"Nights\"", &[ADA, BOB])
        .run(&["sync"])
        .expect_code(0);
    expect_in(&run, "dest (add-remove): 1 added, 0 removed");
    assert_eq!(opsgenie.participants("Ops"), [vec![ADA], vec![BOB, ADA]]);
}

#[test]
fn a_schedule_with_no_rotation_is_refused_as_one_the_adapter_will_not_create() {
    let opsgenie = FakeOpsgenie::start(KEY, &[ADA]);
    opsgenie.schedule("Ops", &[]);
    let run = rotation(&opsgenie, &[ADA]).run(&["sync"]).expect_code(4);
    expect_in(
        &run,
        "FAILED: schedule `Ops` has no rotation: add one in Opsgenie; this adapter \
         changes the participants of a rotation, and never creates one",
    );
    assert_eq!(opsgenie.controls.writes(), 0);
}

#[test]
fn a_rotation_emptied_holds_none_and_is_refilled_from_scratch() {
    let opsgenie = opsgenie(&[user(ADA), user(BOB)]);
    let run = rotation(&opsgenie, &[]).run(&["sync"]).expect_code(0);
    expect_in(&run, "dest (add-remove): 0 added, 2 removed");
    assert_eq!(
        opsgenie.participants("Ops"),
        [["none"]],
        "a rotation cannot be left without a participant"
    );
    let again = rotation(&opsgenie, &[]).run(&["sync"]).expect_code(0);
    expect_in(&again, "up to date");

    rotation(&opsgenie, &[CY]).run(&["sync"]).expect_code(0);
    assert_eq!(opsgenie.participants("Ops"), [[CY]], "the placeholder goes");
}

#[test]
fn one_account_is_never_added_and_removed_under_two_spellings() {
    let opsgenie = opsgenie(&[user(ADA)]);
    let destination = format!(
        "adapter = \"opsgenie-schedule\"\nallowed_hosts = [\"http://{}\"]\ncase_sensitive = true\nconfig = {{ {} }}",
        opsgenie.addr,
        config(&opsgenie, KEY, "")
    );
    let run = syncing_into(&destination, &["ADA@example.com"])
        .run(&["sync"])
        .expect_code(4);
    expect_in(
        &run,
        "! could not remove ada@example.com: ada@example.com is account ada@example.com, which \
         this run already added under another spelling",
    );
    assert_eq!(
        opsgenie.controls.writes(),
        0,
        "ada was in the rotation already"
    );
    assert_eq!(opsgenie.participants("Ops"), [[ADA]]);
}

#[test]
fn a_server_error_half_way_through_the_look_ups_reports_exactly_what_was_applied() {
    let opsgenie = opsgenie(&[user(ADA)]);
    opsgenie.controls.inject(
        Fault::on(USERS, 500)
            .after(1)
            .body(r#"{"message":"Internal Server Error","took":0.0,"requestId":"r-500"}"#),
    );
    let workspace = rotation_with(&opsgenie, KEY, ", concurrency = 1", &[ADA, BOB, CY]);
    let run = workspace.run(&["sync"]).expect_code(4);
    expect_in(&run, "dest (add-remove): 1 added, 0 removed");
    expect_in(
        &run,
        "! could not add cy@example.com: not applied: look up Opsgenie user cy@example.com: \
         Opsgenie answered HTTP 500: Internal Server Error (request ID r-500)",
    );
    assert_eq!(opsgenie.participants("Ops"), [[ADA, BOB]]);

    let next = workspace.run(&["sync"]).expect_code(0);
    expect_in(&next, "dest (add-remove): 1 added, 0 removed");
    assert_eq!(opsgenie.participants("Ops"), [[ADA, BOB, CY]]);
}

#[test]
fn a_failed_update_applies_nothing_and_says_so() {
    let opsgenie = opsgenie(&[user(ADA)]);
    opsgenie.controls.inject(
        Fault::on(UPDATES, 500)
            .body(r#"{"message":"Internal Server Error","took":0.0,"requestId":"r-500"}"#),
    );
    let run = rotation(&opsgenie, &[ADA, BOB])
        .run(&["sync"])
        .expect_code(4);
    expect_in(
        &run,
        "FAILED: add failed: update the participants of rotation `Weekly` of schedule `Ops`: \
         Opsgenie answered HTTP 500",
    );
    assert_eq!(opsgenie.participants("Ops"), [[ADA]]);
}

#[test]
fn a_throttled_request_is_waited_out_by_the_host() {
    let opsgenie = opsgenie(&[user(ADA)]);
    opsgenie.controls.inject(throttled(READ_OPS));
    let run = rotation(&opsgenie, &[ADA, BOB])
        .run(&["sync"])
        .expect_code(0);
    expect_in(&run, "dest (add-remove): 1 added, 0 removed");
    expect_in(&run, "HTTP retries: job `people` destination `dest` 1.");
}

#[test]
fn a_bad_api_key_is_unauthorized_at_once_and_never_shown() {
    let opsgenie = opsgenie(&[user(ADA)]);
    let run = rotation_with(&opsgenie, "og-wrong-key-5678", "", &[BOB])
        .run(&["sync"])
        .expect_code(4);
    expect_in(
        &run,
        "FAILED: unauthorized: read schedule `Ops`: Opsgenie answered HTTP 401: Could not \
         authenticate (request ID 4f1d3b2a-8c6e-4d7f-9a0b-000000000401) (check `api_key`, and \
         `region`: a key is valid only on its own Opsgenie instance, US or EU)",
    );
    assert!(!run.stdout.contains("HTTP retries"), "{}", run.stdout);
    assert_eq!(opsgenie.controls.requests().len(), 1, "no retry");
    for output in [&run.stdout, &run.stderr] {
        assert!(!output.contains("og-wrong-key-5678"), "{output}");
    }
}

#[test]
fn a_read_only_key_plans_but_its_update_is_refused_naming_the_rights_to_give() {
    let opsgenie = opsgenie(&[user(ADA)]);
    opsgenie.read_only_key("og-read-only-9999");
    let workspace = rotation_with(&opsgenie, "og-read-only-9999", "", &[ADA, BOB]);
    workspace.run(&["plan"]).expect_code(0);
    let run = workspace.run(&["sync"]).expect_code(4);
    expect_in(
        &run,
        "FAILED: add failed: unauthorized: update the participants of rotation `Weekly` of \
         schedule `Ops`: Opsgenie answered HTTP 403",
    );
    expect_in(&run, "(and Create and Update to change a schedule)");
    assert_eq!(opsgenie.participants("Ops"), [[ADA]]);
}

#[test]
fn a_schedule_id_opsgenie_does_not_know_says_how_it_was_read() {
    let opsgenie = opsgenie(&[user(ADA)]);
    let config = format!(
        "schedule = \"Ops\", api_key = \"{KEY}\", api_url = \"{}\"",
        opsgenie.api_url()
    );
    let run = syncing_into_fake("opsgenie-schedule", opsgenie.addr, &config, &[ADA])
        .run(&["plan"])
        .expect_code(4);
    expect_in(
        &run,
        "FAILED: not found: read schedule `Ops`: Opsgenie answered HTTP 404: No schedule exists \
         with id [Ops]",
    );
    expect_in(&run, "to give a name, set schedule_identifier_type");
}

/// A workspace whose job reads who is on call for `Ops` into team.txt.
fn on_call_into_a_file(opsgenie: &FakeOpsgenie, extra: &str) -> Workspace {
    let workspace = Workspace::with_adapters(&["opsgenie-oncall", "file"]);
    workspace.write("team.txt", "old@example.com\n").write(
        "allsync.toml",
        &format!(
            "[[sync]]\nname = \"on-call\"\n[sync.source]\nadapter = \"opsgenie-oncall\"\n\
             allowed_hosts = [\"http://{}\"]\nconfig = {{ {} }}\n\
             [[sync.destination]]\nname = \"team\"\nadapter = \"file\"\n\
             directory = {{ path = \".\", writable = true }}\nconfig = {{ path = \"team.txt\" }}\n",
            opsgenie.addr,
            config(opsgenie, KEY, extra)
        ),
    );
    workspace
}

/// Schedule `Ops`: `Primary` (the team `ops`, then Ada) and `Backup` (the
/// escalation, which notifies Bob), first participants on call.
fn on_call_schedule() -> FakeOpsgenie {
    let opsgenie = FakeOpsgenie::start(KEY, &[ADA, BOB, CY, DAN]);
    opsgenie.team("ops", &[CY, DAN]);
    opsgenie.escalation("ops_escalation", &[BOB]);
    opsgenie.schedule(
        "Ops",
        &[
            ("Primary", &[team("ops"), user(ADA)]),
            ("Backup", &[escalation("ops_escalation")]),
        ],
    );
    opsgenie
}

#[test]
fn everyone_on_call_now_feeds_a_file_with_teams_and_escalations_resolved_by_opsgenie() {
    let opsgenie = on_call_schedule();
    let workspace = on_call_into_a_file(&opsgenie, "");
    let run = workspace.run(&["sync"]).expect_code(0);
    expect_in(&run, "job on-call: source has 3 things");
    assert_eq!(
        workspace.read("team.txt"),
        "cy@example.com\ndan@example.com\nbob@example.com\n"
    );
    assert_eq!(
        opsgenie
            .controls
            .count("GET /v2/schedules/Ops/on-calls?scheduleIdentifierType=name&flat=true"),
        1
    );

    opsgenie.turn("Ops", "Primary", 1);
    workspace.run(&["sync"]).expect_code(0);
    assert_eq!(
        workspace.read("team.txt"),
        "bob@example.com\nada@example.com\n",
        "the hand-over to Ada shows on the next run"
    );
}

#[test]
fn only_users_leaves_out_the_teams_and_escalations_on_call_and_says_so() {
    let opsgenie = on_call_schedule();
    opsgenie.turn("Ops", "Primary", 1);
    let workspace = on_call_into_a_file(&opsgenie, ", only_users = true");
    let run = workspace.run(&["sync"]).expect_code(0);
    assert_eq!(workspace.read("team.txt"), "ada@example.com\n");
    assert!(
        run.stderr.contains(
            "on call for schedule `Ops` but left out (only_users = true): escalation `ops_escalation`"
        ),
        "{}",
        run.stderr
    );
    assert_eq!(
        opsgenie
            .controls
            .count("GET /v2/schedules/Ops/on-calls?scheduleIdentifierType=name&flat=false"),
        1,
        "asks for the participants, not the flat list: {:?}",
        opsgenie.controls.requests()
    );
}

#[test]
fn the_on_call_adapter_is_refused_as_a_destination_before_anything_runs() {
    let opsgenie = on_call_schedule();
    let workspace = Workspace::with_adapters(&["opsgenie-oncall", "file"]);
    workspace.write("team.txt", "ada@example.com\n").write(
        "allsync.toml",
        &format!(
            "[[sync]]\nname = \"on-call\"\n[sync.source]\nadapter = \"file\"\n\
             directory = {{ path = \".\" }}\nconfig = {{ path = \"team.txt\" }}\n\
             [[sync.destination]]\nname = \"oncall\"\nadapter = \"opsgenie-oncall\"\n\
             allowed_hosts = [\"http://{}\"]\nconfig = {{ {} }}\n",
            opsgenie.addr,
            config(&opsgenie, KEY, "")
        ),
    );
    let run = workspace.run(&["sync"]).expect_code(3);
    assert!(
        run.stderr.contains(
            "destination `oncall`: the `opsgenie-oncall` adapter is read-only: it can only be a source"
        ),
        "{}",
        run.stderr
    );
    assert!(opsgenie.controls.requests().is_empty());
}

#[test]
fn both_instances_are_declared_and_the_eu_region_is_reached_with_no_grant() {
    let workspace = Workspace::with_adapters(&["opsgenie-oncall", "opsgenie-schedule", "file"]);
    for adapter in ["opsgenie-oncall", "opsgenie-schedule"] {
        let inspect = workspace
            .run(&["plugins", "inspect", adapter, "--json"])
            .expect_code(0);
        assert_eq!(
            inspect.json()["info"]["hosts"],
            serde_json::json!(["https://api.opsgenie.com", "https://api.eu.opsgenie.com"]),
            "{adapter}"
        );
    }
    // The EU name is pinned to loopback, which only an exact grant may
    // reach: the request is refused before anything is sent, and the
    // refusal names where the adapter went.
    let job = |name: &str, adapter: &str| {
        format!(
            "[[sync]]\nname = \"{name}\"\n[sync.source]\nadapter = \"{adapter}\"\n\
             config = {{ schedule = \"Ops\", api_key = \"{KEY}\", region = \"eu\" }}\n\
             [[sync.destination]]\nadapter = \"file\"\n\
             directory = {{ path = \".\", writable = true }}\nconfig = {{ path = \"{name}.txt\" }}\n"
        )
    };
    workspace.write(
        "allsync.toml",
        &format!(
            "resolve = {{ \"api.eu.opsgenie.com\" = \"127.0.0.1\" }}\n{}{}",
            job("on-call", "opsgenie-oncall"),
            job("rotation", "opsgenie-schedule")
        ),
    );
    let run = workspace.run(&["plan"]).expect_code(4);
    for (job, adapter, url) in [
        (
            "on-call",
            "opsgenie-oncall",
            "/v2/schedules/Ops/on-calls?scheduleIdentifierType=id&flat=true",
        ),
        (
            "rotation",
            "opsgenie-schedule",
            "/v2/schedules/Ops?identifierType=id",
        ),
    ] {
        expect_in(
            &run,
            &format!("job {job}: source FAILED: GET https://api.eu.opsgenie.com{url}: "),
        );
        expect_in(
            &run,
            &format!(
                "allsync refused to connect job `{job}` source to https://api.eu.opsgenie.com:443"
            ),
        );
        expect_in(
            &run,
            &format!(
                "job `{job}` source ({adapter}): http: https://api.opsgenie.com:443, \
                 https://api.eu.opsgenie.com:443; files: none"
            ),
        );
    }
}

#[test]
fn the_schedule_adapter_passes_the_conformance_kit() {
    let opsgenie = opsgenie(&[user(ADA), team("ops")]);
    let api = format!("api_url={}", opsgenie.api_url());
    let host = format!("http://{}", opsgenie.addr);
    let key = format!("api_key={KEY}");
    passes(kit(
        "opsgenie-schedule",
        &[
            "--config",
            &key,
            "--config",
            "schedule=Ops",
            "--config",
            "schedule_identifier_type=name",
            "--config",
            &api,
            "--allow-host",
            &host,
        ],
    ));
    assert_eq!(
        opsgenie.participants("Ops"),
        [[ADA, "team ops"]],
        "the kit's probe came and went, and the team kept its place"
    );
}

#[test]
fn the_on_call_adapter_passes_the_conformance_kit_as_a_read_only_source() {
    let opsgenie = on_call_schedule();
    let workspace = Workspace::with_adapters(&[]);
    let file = component("opsgenie-oncall");
    let api = format!("api_url={}", opsgenie.api_url());
    let host = format!("http://{}", opsgenie.addr);
    let key = format!("api_key={KEY}");
    let run = workspace.run(&[
        "test-adapter",
        file.to_str().unwrap(),
        "--config",
        &key,
        "--config",
        "schedule=Ops",
        "--config",
        "schedule_identifier_type=name",
        "--config",
        &api,
        "--allow-host",
        &host,
    ]);
    expect_in(
        &run,
        "PASS  a read-only adapter answers add with unsupported",
    );
    passes(run);
}
