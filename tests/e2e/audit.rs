//! The audit log: one JSON line per change, rejection and failure, kept
//! across runs and crashes, and `allsync audit` to ask who changed what.

use crate::fakes::{Controls, serve};
use crate::support::Workspace;
use axum::Json;
use axum::Router;
use axum::routing::{get, post};
use serde_json::Value;
use std::time::{Duration, Instant};

const SOURCE: &str = r#"
[audit]
file = "audit.jsonl"

[[sync]]
name = "team"
[sync.source]
adapter = "file"
directory = { path = "." }
config = { path = "people.txt" }
"#;

const TEAM: &str = r#"
[[sync.destination]]
name = "team"
adapter = "file"
directory = { path = ".", writable = true }
config = { path = "team.txt" }
"#;

/// A workspace syncing people.txt (ada, bob) into team.txt (ken), audited.
fn audited() -> Workspace {
    let workspace = Workspace::with_adapters(&["file", "hostile", "webhook"]);
    workspace
        .write("allsync.toml", &format!("{SOURCE}{TEAM}"))
        .write("people.txt", "ada@example.com\nbob@example.com\n")
        .write("team.txt", "ken@example.com\n");
    workspace
}

/// Every line of the audit log, each parsed.
fn records(workspace: &Workspace) -> Vec<Value> {
    workspace
        .read("audit.jsonl")
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|err| panic!("{err}: {line:?}")))
        .collect()
}

/// "outcome operation thing" of each record of `destination`.
fn outcomes(records: &[Value], destination: &str) -> Vec<String> {
    records
        .iter()
        .filter(|record| record["destination"] == destination)
        .map(|record| {
            format!(
                "{} {} {}",
                record["outcome"].as_str().unwrap(),
                record["operation"].as_str().unwrap(),
                record["thing"].as_str().unwrap()
            )
        })
        .collect()
}

#[test]
fn every_change_a_sync_makes_is_a_json_line_saying_who_what_and_when() {
    let workspace = audited();
    workspace.run(&["sync"]).expect_code(0);
    let records = records(&workspace);
    assert_eq!(
        outcomes(&records, "team"),
        [
            "attempt add ada@example.com",
            "attempt add bob@example.com",
            "attempt remove ken@example.com",
            "applied add ada@example.com",
            "applied add bob@example.com",
            "applied remove ken@example.com",
        ]
    );
    let removal = &records[5];
    assert_eq!(removal["command"], "sync");
    assert_eq!(removal["job"], "team");
    assert_eq!(removal["adapter"]["name"], "file");
    assert_eq!(removal["adapter"]["version"], "0.1.0");
    assert_eq!(
        removal["adapter"]["sha256"],
        crate::cli::sha256_hex(&std::fs::read(workspace.plugins().join("file.wasm")).unwrap())
    );
    let time = removal["time"].as_str().unwrap();
    assert!(time.starts_with("20") && time.ends_with('Z'), "{time}");
    let run = removal["run"].as_str().unwrap();
    assert!(
        records.iter().all(|record| record["run"] == run),
        "one run, one id"
    );
}

#[test]
fn a_later_run_appends_and_never_truncates() {
    let workspace = audited();
    workspace.run(&["sync"]).expect_code(0);
    let first = workspace.read("audit.jsonl");
    workspace.write("people.txt", "bob@example.com\n");
    workspace.run(&["sync"]).expect_code(0);
    let both = workspace.read("audit.jsonl");
    assert!(both.starts_with(&first), "{both}");
    let later = records(&workspace).split_off(first.lines().count());
    assert_eq!(
        outcomes(&later, "team"),
        [
            "attempt remove ada@example.com",
            "applied remove ada@example.com"
        ]
    );
    assert_ne!(
        later[0]["run"],
        records(&workspace)[0]["run"],
        "each run has its own id"
    );
}

#[test]
fn a_plan_writes_nothing_to_the_audit_log() {
    let workspace = audited();
    workspace.run(&["plan"]).expect_code(0);
    assert!(!workspace.path("audit.jsonl").exists());
}

#[test]
fn allsync_audit_answers_who_removed_someone_and_when() {
    let workspace = audited();
    workspace.run(&["sync"]).expect_code(0);
    let run = workspace
        .run(&["audit", "--thing", "KEN@example.com"])
        .expect_code(0);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 2, "a header and the removal: {}", run.stdout);
    assert!(lines[0].starts_with("TIME"), "{}", run.stdout);
    for word in ["team", "remove", "ken@example.com", "applied"] {
        assert!(lines[1].contains(word), "{word} in {}", run.stdout);
    }
    let json = workspace
        .run(&["audit", "--thing", "ken@example.com", "--json"])
        .expect_code(0)
        .json();
    assert_eq!(json[0]["operation"], "remove");
    assert_eq!(json[0]["outcome"], "applied");
}

#[test]
fn rejections_and_failures_are_recorded_with_their_reasons() {
    let workspace = audited();
    workspace.write(
        "allsync.toml",
        &format!(
            r#"{SOURCE}
[[sync.destination]]
name = "picky"
adapter = "hostile"
config = {{ act = "forge", things = "old@example.com" }}

[[sync.destination]]
name = "bomb"
adapter = "hostile"
config = {{ act = "panic-in-add", things = "old@example.com" }}
"#
        ),
    );
    workspace.run(&["sync"]).expect_code(4);
    let records = records(&workspace);
    let rejected: Vec<&Value> = records
        .iter()
        .filter(|record| record["destination"] == "picky" && record["outcome"] == "rejected")
        .collect();
    assert!(!rejected.is_empty(), "{records:?}");
    assert!(rejected.iter().all(|record| record["reason"].is_string()));
    let failed: Vec<&Value> = records
        .iter()
        .filter(|record| record["destination"] == "bomb" && record["outcome"] == "failed")
        .collect();
    assert_eq!(failed.len(), 2, "ada and bob: {records:?}");
    assert!(
        failed[0]["reason"]
            .as_str()
            .unwrap()
            .contains("add failed: the adapter crashed in add"),
        "{failed:?}"
    );
}

#[test]
fn the_log_also_goes_to_stderr_as_json_when_asked() {
    let workspace = audited();
    workspace.write(
        "allsync.toml",
        &format!("{SOURCE}{TEAM}").replace(
            "file = \"audit.jsonl\"",
            "file = \"audit.jsonl\"\nstderr = true",
        ),
    );
    let run = workspace.run(&["sync"]).expect_code(0);
    let on_stderr: Vec<Value> = run
        .stderr
        .lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect();
    assert_eq!(on_stderr, records(&workspace));
}

#[test]
fn an_audit_log_that_cannot_be_written_stops_the_sync_before_any_change() {
    let workspace = audited();
    std::fs::create_dir(workspace.path("audit.jsonl")).unwrap();
    let run = workspace.run(&["sync"]).expect_code(3);
    assert!(
        run.stderr.contains("audit log") && run.stderr.contains("nothing was changed"),
        "{}",
        run.stderr
    );
    assert_eq!(workspace.read("team.txt"), "ken@example.com\n");
}

/// A webhook receiver that reads as empty and never answers a change.
fn stuck_receiver() -> std::net::SocketAddr {
    let router = Router::new()
        .route("/state", get(|| async { Json(Vec::<String>::new()) }))
        .route("/hook", post(std::future::pending::<()>));
    serve(router, Controls::default(), "{}")
}

#[test]
fn a_run_killed_between_writes_loses_no_record_and_shows_what_it_was_doing() {
    let workspace = audited();
    let addr = stuck_receiver();
    workspace.write(
        "allsync.toml",
        &format!(
            r#"{SOURCE}{TEAM}
[[sync.destination]]
name = "hook"
adapter = "webhook"
allowed_hosts = ["http://{addr}"]
config = {{ url = "http://{addr}/hook", state_url = "http://{addr}/state" }}
"#
        ),
    );
    let mut child = workspace.command(&["sync"]).spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    // The team is done and the hook's first change is under way (it never ends).
    let team_done_hook_stuck = |text: &str| {
        text.contains(r#""destination":"team","adapter""#)
            && text
                .contains(r#""operation":"remove","thing":"ken@example.com","outcome":"applied""#)
            && text.contains(r#""destination":"hook","adapter""#)
    };
    while !team_done_hook_stuck(
        &std::fs::read_to_string(workspace.path("audit.jsonl")).unwrap_or_default(),
    ) {
        assert!(Instant::now() < deadline, "the sync never got under way");
        assert!(
            child.try_wait().unwrap().is_none(),
            "the sync ended by itself"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();

    let kept = records(&workspace);
    assert_eq!(
        outcomes(&kept, "team"),
        [
            "attempt add ada@example.com",
            "attempt add bob@example.com",
            "attempt remove ken@example.com",
            "applied add ada@example.com",
            "applied add bob@example.com",
            "applied remove ken@example.com",
        ]
    );
    assert_eq!(
        workspace.read("team.txt"),
        "ada@example.com\nbob@example.com\n"
    );
    let audit = workspace
        .run(&["audit", "--destination", "hook"])
        .expect_code(0);
    assert!(
        audit
            .stdout
            .contains("attempted (no outcome recorded: the run was cut short)"),
        "{}",
        audit.stdout
    );

    // A later run appends to the same log, whole lines only.
    workspace.write("allsync.toml", &format!("{SOURCE}{TEAM}"));
    workspace.write("people.txt", "bob@example.com\n");
    workspace.run(&["sync"]).expect_code(0);
    assert_eq!(records(&workspace).len(), kept.len() + 2);
}

#[test]
fn a_line_cut_short_by_a_crash_is_skipped_with_a_warning_and_the_next_run_starts_a_new_line() {
    let workspace = audited();
    workspace.run(&["sync"]).expect_code(0);
    let whole = workspace.read("audit.jsonl");
    workspace.write("audit.jsonl", &format!("{whole}{{\"time\":\"2026-"));
    workspace.write("people.txt", "bob@example.com\n");
    workspace.run(&["sync"]).expect_code(0);
    let audit = workspace
        .run(&["audit", "--thing", "ada@example.com"])
        .expect_code(0);
    assert!(
        audit
            .stderr
            .contains("audit.jsonl line 7: not an audit record"),
        "{}",
        audit.stderr
    );
    assert_eq!(
        audit.stdout.lines().count(),
        3,
        "header, added, removed: {}",
        audit.stdout
    );
}
