//! Jobs with several sources: a union of files, a leavers list excluded,
//! transforms, and each planned addition naming the sources behind it.

use crate::support::Workspace;

const CONFIG: &str = r#"
[[sync]]
name = "everyone"

[[sync.sources]]
name = "staff"
adapter = "file"
directory = { path = "." }
config = { path = "staff.txt" }

[[sync.sources]]
name = "contractors"
adapter = "file"
directory = { path = "." }
config = { path = "contractors.csv", column = "email" }
transform = [
    { replace_domain = { from = "agency.example.net", to = "example.com" } },
    "lowercase",
    { drop = ["*+test@*"] },
]

[[sync.sources]]
name = "leavers"
exclude = true
adapter = "file"
directory = { path = "." }
config = { path = "leavers.txt" }

[[sync.destination]]
name = "team"
adapter = "file"
directory = { path = ".", writable = true }
config = { path = "team.txt" }
"#;

fn workspace() -> Workspace {
    let workspace = Workspace::with_adapters(&["file"]);
    workspace
        .write("allsync.toml", CONFIG)
        .write("staff.txt", "ada@example.com\nbob@example.com\n")
        .write(
            "contractors.csv",
            "name,email\nCy,CY@agency.example.net\nBob,bob@example.com\nTest,cy+test@agency.example.net\n",
        )
        .write("leavers.txt", "bob@example.com\n")
        .write("team.txt", "bob@example.com\nken@example.com\n");
    workspace
}

#[test]
fn a_plan_names_the_sources_behind_each_addition() {
    let workspace = workspace();
    let run = workspace.run(&["plan"]).expect_code(0);
    assert!(
        run.stdout.contains("job everyone: source has 2 things"),
        "ada and cy; bob left: {}",
        run.stdout
    );
    assert!(
        run.stdout.contains(
            "    + ada@example.com  (from staff)\n    + cy@example.com  (from contractors)\n"
        ),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("    - bob@example.com\n    - ken@example.com\n"),
        "{}",
        run.stdout
    );
    let json = workspace.run(&["plan", "--json"]).expect_code(0).json();
    assert_eq!(
        json["jobs"][0]["destinations"][0]["plan"]["add_from"],
        serde_json::json!([["staff"], ["contractors"]])
    );
}

#[test]
fn a_sync_of_several_sources_converges() {
    let workspace = workspace();
    workspace.run(&["sync"]).expect_code(0);
    assert_eq!(
        workspace.read("team.txt"),
        "ada@example.com\ncy@example.com\n"
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
fn an_unreadable_leavers_list_stops_the_job_before_any_write() {
    let workspace = workspace();
    std::fs::remove_file(workspace.path("leavers.txt")).unwrap();
    let run = workspace.run(&["sync"]).expect_code(4);
    assert!(
        run.stdout
            .contains("source FAILED: not found: source `leavers`"),
        "{}",
        run.stdout
    );
    assert_eq!(
        workspace.read("team.txt"),
        "bob@example.com\nken@example.com\n"
    );
}

#[test]
fn mistakes_in_sources_are_config_errors_that_say_where() {
    let workspace = workspace();
    let broken = CONFIG
        .replace("name = \"contractors\"\n", "")
        .replace("\"lowercase\"", "\"uppercase\"")
        .replace(
            "[[sync.destination]]",
            "[sync.source]\nadapter = \"file\"\n\n[[sync.destination]]",
        );
    workspace.write("allsync.toml", &broken);
    let run = workspace.run(&["plan"]).expect_code(3);
    assert!(
        run.stderr
            .contains("both [sync.source] and [[sync.sources]]"),
        "{}",
        run.stderr
    );
    workspace.write(
        "allsync.toml",
        &CONFIG
            .replace("name = \"contractors\"\n", "")
            .replace("\"lowercase\"", "\"uppercase\""),
    );
    let run = workspace.run(&["plan"]).expect_code(3);
    assert!(
        run.stderr
            .contains("job `everyone` source number 2: each of several sources needs a `name`"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("`transform`: unknown variant `uppercase`"),
        "{}",
        run.stderr
    );
}
