//! Syncing files with the `file` adapter, as in the demo.

use crate::support::Workspace;

const CONFIG: &str = r#"
[[sync]]
name = "team"
ignore = ["robot@example.com"]

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
config = { path = "roster.csv" }
"#;

fn workspace() -> Workspace {
    let workspace = Workspace::with_adapters(&["file"]);
    workspace
        .write("allsync.toml", CONFIG)
        .write(
            "people.txt",
            "# everyone\nada@example.com\nGrace@Example.com\nlinus@example.com\n",
        )
        .write(
            "team.txt",
            "# the team\nada@example.com\ngrace@example.com\nrobot@example.com\nken@example.com\n",
        )
        .write("roster.csv", "name,email\nAda,ada@example.com\n");
    workspace
}

#[test]
fn plan_shows_every_change_and_changes_nothing() {
    let workspace = workspace();
    let run = workspace.run(&["plan"]).expect_code(0);
    assert!(
        run.stdout
            .contains("team-file (add-remove): 1 to add, 1 to remove, 2 unchanged, 1 ignored"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("    + linus@example.com\n    - ken@example.com"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("roster (add-remove): 2 to add, 1 unchanged"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("Plan: 4 changes to 2 destinations"),
        "{}",
        run.stdout
    );
    assert!(workspace.read("team.txt").contains("ken@example.com"));
    assert_eq!(
        workspace.read("roster.csv"),
        "name,email\nAda,ada@example.com\n"
    );
}

#[test]
fn sync_applies_the_plan_then_has_nothing_left_to_do() {
    let workspace = workspace();
    workspace
        .run(&["plan", "--detailed-exitcode"])
        .expect_code(6);
    let run = workspace.run(&["sync"]).expect_code(0);
    assert!(
        run.stdout
            .contains("team-file (add-remove): 1 added, 1 removed"),
        "{}",
        run.stdout
    );
    assert_eq!(
        workspace.read("team.txt"),
        "# the team\nada@example.com\ngrace@example.com\nrobot@example.com\nlinus@example.com\n",
        "comments, spelling of unchanged entries and ignored entries are kept"
    );
    assert_eq!(
        workspace.read("roster.csv"),
        "name,email\nAda,ada@example.com\n,Grace@Example.com\n,linus@example.com\n"
    );

    let again = workspace.run(&["sync", "--json"]).expect_code(0);
    let report = again.json();
    for destination in report["jobs"][0]["destinations"].as_array().unwrap() {
        assert_eq!(destination["status"], "up-to-date", "{destination}");
    }
    workspace
        .run(&["plan", "--detailed-exitcode"])
        .expect_code(0);
}

#[test]
fn plan_json_says_exactly_what_sync_would_do() {
    let workspace = workspace();
    let plan = workspace.run(&["plan", "--json"]).expect_code(0).json();
    let planned = &plan["jobs"][0]["destinations"][0]["plan"];
    assert_eq!(planned["add"], serde_json::json!(["linus@example.com"]));
    assert_eq!(planned["remove"], serde_json::json!(["ken@example.com"]));
    let sync = workspace.run(&["sync", "--json"]).expect_code(0).json();
    let done = &sync["jobs"][0]["destinations"][0];
    assert_eq!(
        (&done["added"], &done["removed"]),
        (&planned["add"], &planned["remove"])
    );
}

#[test]
fn a_change_limit_leaves_the_destination_untouched_and_exits_5() {
    let workspace = workspace();
    workspace.write(
        "allsync.toml",
        &CONFIG.replace("name = \"team\"\n", "name = \"team\"\nmax_changes = 1\n"),
    );
    let run = workspace.run(&["sync"]).expect_code(5);
    assert!(
        run.stdout.contains(
            "roster (add-remove): BLOCKED (2 to add, 1 unchanged): 2 changes exceed max_changes = 1"
        ),
        "{}",
        run.stdout
    );
    assert_eq!(
        workspace.read("roster.csv"),
        "name,email\nAda,ada@example.com\n"
    );
    assert!(
        run.stdout.contains("team-file (add-remove): BLOCKED"),
        "{}",
        run.stdout
    );
}

#[test]
fn an_empty_source_does_not_empty_the_destination() {
    let workspace = workspace();
    workspace.write("people.txt", "# nobody, by mistake\n");
    let run = workspace.run(&["sync", "--job", "team"]).expect_code(5);
    assert!(
        run.stdout.contains("the source returned nothing"),
        "{}",
        run.stdout
    );
    assert!(workspace.read("team.txt").contains("ken@example.com"));
}

#[test]
fn without_a_directory_grant_the_file_adapter_sees_no_files() {
    let workspace = workspace();
    workspace.write(
        "allsync.toml",
        &CONFIG.replace("directory = { path = \".\" }\n", ""),
    );
    let run = workspace.run(&["sync"]).expect_code(4);
    assert!(
        run.stdout
            .contains("job team: source FAILED: not found: cannot read `people.txt`"),
        "{}",
        run.stdout
    );
    assert!(workspace.read("team.txt").contains("ken@example.com"));
}

#[test]
fn a_read_only_grant_stops_writes_and_the_file_stays_whole() {
    let workspace = workspace();
    let config = CONFIG.replace(
        "directory = { path = \".\", writable = true }\nconfig = { path = \"team.txt\" }",
        "directory = { path = \".\" }\nconfig = { path = \"team.txt\" }",
    );
    workspace.write("allsync.toml", &config);
    let before = workspace.read("team.txt");
    let run = workspace.run(&["sync"]).expect_code(4);
    assert!(
        run.stdout
            .contains("team-file (add-remove): FAILED: add failed: cannot write `team.txt`"),
        "{}",
        run.stdout
    );
    assert_eq!(workspace.read("team.txt"), before);
    assert!(
        run.stdout
            .contains("roster (add-remove): 2 added, 0 removed"),
        "the other destination still synced: {}",
        run.stdout
    );
}

/// A config of two jobs, each syncing its own source file in `mode` into a
/// destination named team: `destination` (its adapter, directory and config lines).
fn two_jobs_into_one_list(mode: &str, destination: &str) -> String {
    let job = |name: &str, source: &str| {
        format!(
            "[[sync]]\nname = \"{name}\"\nmode = \"{mode}\"\n[sync.source]\nadapter = \"file\"\n\
             directory = {{ path = \".\" }}\nconfig = {{ path = \"{source}\" }}\n\
             [[sync.destination]]\nname = \"team\"\n{destination}\n"
        )
    };
    format!(
        "{}{}",
        job("first", "first.txt"),
        job("second", "second.txt")
    )
}

const TEAM_FILE: &str = "adapter = \"file\"\ndirectory = { path = \".\", writable = true }\n\
                         config = { path = \"team.txt\" }";

#[test]
fn two_jobs_adding_to_one_file_at_once_lose_no_update() {
    let workspace = Workspace::with_adapters(&["file"]);
    let people = |prefix: &str| -> String {
        (0..20_000)
            .map(|n| format!("{prefix}{n}@example.com\n"))
            .collect()
    };
    workspace
        .write("first.txt", &people("first"))
        .write("second.txt", &people("second"))
        .write("team.txt", "")
        .write(
            "allsync.toml",
            &two_jobs_into_one_list("add-only", TEAM_FILE),
        );
    let run = workspace.run(&["sync"]).expect_code(0);
    assert!(
        run.stdout
            .contains("Sync: 40000 changes applied to 2 destinations."),
        "{}",
        run.stdout
    );
    assert_eq!(workspace.read("team.txt").lines().count(), 40_000);
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
fn destinations_in_one_folder_are_written_one_at_a_time() {
    // Each add reads the list, waits half a second, and writes it back:
    // run side by side, the second write would lose the first one's update.
    let workspace = Workspace::with_adapters(&["file", "hostile"]);
    workspace
        .write("first.txt", "ann@example.com\n")
        .write("second.txt", "bob@example.com\n")
        .write("list.txt", "")
        .write(
            "allsync.toml",
            &two_jobs_into_one_list(
                "add-only",
                "adapter = \"hostile\"\ndirectory = { path = \".\", writable = true }\n\
                 config = { act = \"slow-append\" }",
            ),
        );
    workspace.run(&["sync"]).expect_code(0);
    let mut list: Vec<String> = workspace
        .read("list.txt")
        .lines()
        .map(String::from)
        .collect();
    list.sort();
    assert_eq!(list, ["ann@example.com", "bob@example.com"]);
}

#[test]
fn two_jobs_that_would_undo_each_other_in_one_file_are_refused_before_anything_runs() {
    let workspace = Workspace::with_adapters(&["file"]);
    workspace
        .write("first.txt", "ann@example.com\n")
        .write("second.txt", "bob@example.com\n")
        .write("team.txt", "cy@example.com\n")
        .write(
            "allsync.toml",
            &two_jobs_into_one_list("add-remove", TEAM_FILE),
        );
    let run = workspace.run(&["sync"]).expect_code(3);
    assert!(
        run.stderr.contains(
            "job `first` destination `team` and job `second` destination `team` write the same list \
             (file with the same config and directory); with removals, each run would undo the other's changes"
        ),
        "{}",
        run.stderr
    );
    assert_eq!(workspace.read("team.txt"), "cy@example.com\n");
}

#[test]
fn counts_are_spelt_for_one_and_for_many() {
    let workspace = Workspace::with_adapters(&["file"]);
    workspace
        .write("first.txt", "ann@example.com\n")
        .write("second.txt", "bob@example.com\n")
        .write("team.txt", "")
        .write(
            "allsync.toml",
            &two_jobs_into_one_list("add-only", TEAM_FILE),
        );
    let plan = workspace.run(&["plan"]).expect_code(0);
    assert!(
        plan.stdout.contains("job first: source has 1 thing\n"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout.contains("Plan: 2 changes to 2 destinations;"),
        "{}",
        plan.stdout
    );
}
