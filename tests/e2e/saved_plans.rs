//! Saved plans: `plan -o` writes one, `show` prints it, `apply` makes
//! exactly its changes, and refuses, changing nothing, once anything it
//! depends on has drifted.

use crate::fakes::slack::FakeSlack;
use crate::support::{Workspace, syncing_into_fake};

const CONFIG: &str = r#"
[[sync]]
name = "team"

[sync.source]
adapter = "file"
directory = { path = "." }
config = { path = "people.txt" }

[[sync.destination]]
name = "team-file"
adapter = "file"
directory = { path = ".", writable = true }
config = { path = "team.txt" }

[[sync.destination]]
name = "roster"
adapter = "file"
directory = { path = ".", writable = true }
config = { path = "roster.txt" }
"#;

/// A workspace with a plan saved in plan.json: ada and bob to team.txt,
/// ken out of it; bob to roster.txt.
fn planned() -> Workspace {
    let workspace = Workspace::with_adapters(&["file"]);
    workspace
        .write("allsync.toml", CONFIG)
        .write("people.txt", "ada@example.com\nbob@example.com\n")
        .write("team.txt", "ken@example.com\n")
        .write("roster.txt", "ada@example.com\n");
    let run = workspace.run(&["plan", "-o", "plan.json"]).expect_code(0);
    assert!(
        run.stderr.contains("Saved the plan to plan.json"),
        "{}",
        run.stderr
    );
    workspace
}

/// Runs `apply plan.json`, expecting it to refuse with exit code 7 and
/// change no file; returns what it printed on stderr.
fn refused(workspace: &Workspace) -> String {
    let files = ["team.txt", "roster.txt"].map(|file| workspace.read(file));
    let run = workspace.run(&["apply", "plan.json"]).expect_code(7);
    assert!(
        run.stderr
            .contains("the saved plan no longer holds, so nothing was changed"),
        "{}",
        run.stderr
    );
    assert_eq!(
        ["team.txt", "roster.txt"].map(|file| workspace.read(file)),
        files
    );
    run.stderr
}

#[test]
fn a_saved_plan_records_what_it_depends_on_and_every_change() {
    let workspace = planned();
    let plan: serde_json::Value =
        serde_json::from_str(&workspace.read("plan.json")).expect("the plan is JSON");
    assert_eq!(plan["format"], "allsync-plan");
    assert_eq!(plan["version"], 1);
    assert_eq!(plan["allsync"], env!("CARGO_PKG_VERSION"));
    assert_eq!(
        plan["config"]["sha256"],
        crate::cli::sha256_hex(workspace.read("allsync.toml").as_bytes())
    );
    assert_eq!(plan["adapters"][0]["name"], "file");
    assert_eq!(
        plan["adapters"][0]["sha256"],
        crate::cli::sha256_hex(&std::fs::read(workspace.plugins().join("file.wasm")).unwrap())
    );
    let team = &plan["jobs"][0]["destinations"][0];
    assert_eq!(team["name"], "team-file");
    assert_eq!(team["status"], "pending");
    assert_eq!(
        team["add"],
        serde_json::json!(["ada@example.com", "bob@example.com"])
    );
    assert_eq!(team["remove"], serde_json::json!(["ken@example.com"]));
    assert_eq!(
        workspace.read("team.txt"),
        "ken@example.com\n",
        "planning changed nothing"
    );
}

#[test]
fn show_prints_a_saved_plan_for_people() {
    let workspace = planned();
    let show = workspace.run(&["show", "plan.json"]).expect_code(0);
    for line in [
        "job team:",
        "  team-file (file): 2 to add, 1 to remove",
        "    + ada@example.com",
        "    - ken@example.com",
        "  roster (file): 1 to add, 0 to remove",
        "Plan: 4 changes to 2 destinations; run `allsync apply plan.json` to apply exactly these.",
    ] {
        assert!(show.stdout.contains(line), "{line:?} in\n{}", show.stdout);
    }
}

#[test]
fn apply_makes_exactly_the_saved_changes_then_nothing_is_left_to_do() {
    let workspace = planned();
    let run = workspace.run(&["apply", "plan.json"]).expect_code(0);
    assert!(
        run.stdout
            .contains("Sync: 4 changes applied to 2 destinations."),
        "{}",
        run.stdout
    );
    assert_eq!(
        workspace.read("team.txt"),
        "ada@example.com\nbob@example.com\n"
    );
    assert_eq!(
        workspace.read("roster.txt"),
        "ada@example.com\nbob@example.com\n"
    );
    let again = workspace
        .run(&["plan", "--detailed-exitcode"])
        .expect_code(0);
    assert!(
        again.stdout.contains("Plan: no changes to apply."),
        "{}",
        again.stdout
    );
}

#[test]
fn a_change_in_the_source_that_changes_the_plan_is_drift() {
    let workspace = planned();
    workspace.write(
        "people.txt",
        "ada@example.com\nbob@example.com\ncy@example.com\n",
    );
    let stderr = refused(&workspace);
    assert!(
        stderr.contains(r#"job `team` destination `team-file`: the saved plan no longer holds: compared with it, this destination now also adds "cy@example.com""#),
        "{stderr}"
    );
    assert!(
        stderr.contains("destination `roster`"),
        "both destinations drifted: {stderr}"
    );
}

#[test]
fn a_change_in_the_source_that_leaves_the_plan_as_it_was_is_not_drift() {
    let workspace = planned();
    // ada is already in the roster and about to join the team: the same changes.
    workspace.write(
        "people.txt",
        "# the team\nbob@example.com\nada@example.com\n",
    );
    workspace.run(&["apply", "plan.json"]).expect_code(0);
    assert_eq!(
        workspace.read("roster.txt"),
        "ada@example.com\nbob@example.com\n"
    );
}

#[test]
fn a_change_in_a_destination_is_drift_and_the_other_destination_is_left_alone_too() {
    let workspace = planned();
    workspace.write("team.txt", "ken@example.com\nbob@example.com\n");
    let stderr = refused(&workspace);
    assert!(
        stderr.contains(r#"destination `team-file`: the saved plan no longer holds: compared with it, this destination no longer adds "bob@example.com""#),
        "{stderr}"
    );
    assert!(!stderr.contains("destination `roster`"), "{stderr}");
}

#[test]
fn a_changed_config_is_drift() {
    let workspace = planned();
    workspace.write("allsync.toml", &format!("# reviewed\n{CONFIG}"));
    let stderr = refused(&workspace);
    assert!(
        stderr.contains("allsync.toml has changed since the plan was made (sha256 "),
        "{stderr}"
    );
}

#[test]
fn a_changed_adapter_file_is_drift() {
    let workspace = planned();
    // The same component with a custom section appended: it still loads,
    // but it is not the file the plan was made with.
    let path = workspace.plugins().join("file.wasm");
    let mut wasm = std::fs::read(&path).unwrap();
    wasm.extend_from_slice(&[0, 6, 5, b'e', b'x', b't', b'r', b'a']);
    std::fs::write(&path, wasm).unwrap();
    let stderr = refused(&workspace);
    assert!(
        stderr
            .contains("adapter `file` has changed since the plan was made (version 0.1.0, sha256 "),
        "{stderr}"
    );
}

#[test]
fn a_plan_made_for_another_config_is_refused() {
    let workspace = planned();
    workspace.write("other.toml", &CONFIG.replace("roster.txt", "other.txt"));
    let run = workspace
        .run(&["apply", "plan.json", "-c", "other.toml"])
        .expect_code(7);
    assert!(
        run.stderr
            .contains("the plan was made for another config (allsync.toml), not other.toml"),
        "{}",
        run.stderr
    );
}

#[test]
fn what_is_not_a_saved_plan_of_this_version_is_refused_as_such() {
    let workspace = planned();
    workspace.write("report.json", r#"{"action": "plan", "jobs": []}"#);
    let run = workspace.run(&["apply", "report.json"]).expect_code(3);
    assert!(
        run.stderr
            .contains("saved plan report.json: not a saved plan"),
        "{}",
        run.stderr
    );
    let newer = workspace
        .read("plan.json")
        .replace("\"version\": 1", "\"version\": 2");
    workspace.write("newer.json", &newer);
    let run = workspace.run(&["show", "newer.json"]).expect_code(3);
    assert!(
        run.stderr
            .contains("format version 2 is not one this allsync"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_destination_blocked_when_planned_is_not_changed_by_apply() {
    let workspace = Workspace::with_adapters(&["file"]);
    workspace
        .write(
            "allsync.toml",
            &CONFIG.replace("name = \"team\"\n", "name = \"team\"\nmax_changes = 1\n"),
        )
        .write("people.txt", "ada@example.com\nbob@example.com\n")
        .write("team.txt", "ken@example.com\n")
        .write("roster.txt", "ada@example.com\n");
    workspace.run(&["plan", "-o", "plan.json"]).expect_code(5);
    let show = workspace.run(&["show", "plan.json"]).expect_code(0);
    assert!(
        show.stdout
            .contains("team-file (file): BLOCKED, will not be changed"),
        "{}",
        show.stdout
    );
    let run = workspace.run(&["apply", "plan.json"]).expect_code(5);
    assert!(
        run.stdout.contains("team-file (add-remove): BLOCKED"),
        "{}",
        run.stdout
    );
    assert_eq!(workspace.read("team.txt"), "ken@example.com\n");
    assert_eq!(
        workspace.read("roster.txt"),
        "ada@example.com\nbob@example.com\n"
    );
}

#[test]
fn a_saved_plan_holds_no_secret_value() {
    let secret = "xoxb-saved-plan-secret";
    let slack = FakeSlack::start(secret, &["ada@example.com", "bob@example.com"]);
    slack.group("S1", &["bob@example.com"]);
    let config = format!(
        "usergroup = \"S1\", token = \"${{SLACK_TOKEN}}\", api_url = \"{}\"",
        slack.api_url()
    );
    let workspace = syncing_into_fake("slack-usergroup", slack.addr, &config, &["ada@example.com"]);
    workspace
        .run_with_env(&["plan", "-o", "plan.json"], &[("SLACK_TOKEN", secret)])
        .expect_code(0);
    let plan = workspace.read("plan.json");
    assert!(plan.contains("\"ada@example.com\""), "{plan}");
    assert!(!plan.contains(secret), "{plan}");
    let run = workspace
        .run_with_env(&["apply", "plan.json"], &[("SLACK_TOKEN", secret)])
        .expect_code(0);
    assert!(
        run.stdout.contains("dest (add-remove): 1 added, 1 removed"),
        "{}",
        run.stdout
    );
    assert_eq!(slack.group_emails("S1"), ["ada@example.com"]);
}

#[test]
fn a_plan_in_markdown_is_a_table_then_each_destinations_changes_folded() {
    let workspace = planned();
    let run = workspace
        .run(&["plan", "--format", "markdown"])
        .expect_code(0);
    assert_eq!(
        run.stdout,
        "### allsync plan\n\n\
         | job | destination | mode | to add | to remove | unchanged | status |\n\
         |---|---|---|---:|---:|---:|---|\n\
         | team | team-file | add-remove | 2 | 1 | 0 | changes to apply |\n\
         | team | roster | add-remove | 1 | 0 | 1 | changes to apply |\n\
         \n<details><summary>team → team-file: 2 to add, 1 to remove</summary>\n\n\
         ```diff\n+ ada@example.com\n+ bob@example.com\n- ken@example.com\n```\n\n</details>\n\
         \n<details><summary>team → roster: 1 to add, 0 to remove</summary>\n\n\
         ```diff\n+ bob@example.com\n```\n\n</details>\n\
         \nPlan: 4 changes to 2 destinations; run `allsync sync` to apply them.\n"
    );
    let both = workspace
        .run(&["plan", "--format", "markdown", "--json"])
        .expect_code(2);
    assert!(
        both.stderr.contains("cannot be used with"),
        "{}",
        both.stderr
    );
}
