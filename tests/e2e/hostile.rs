//! Adapters that misbehave on purpose (`tests/adapters/hostile`): for each,
//! the error a user sees, the host still healthy (a normal exit with the
//! adapter-failure code), the other job of the same run still synced, and
//! the destination untouched.
//!
//! Every request here goes to loopback. Forbidden targets (a private or
//! metadata address) are stood in for by names pinned to 127.0.0.1 that the
//! policy must refuse, so a broken host fails the test without a packet
//! leaving the machine.

use crate::list_server::ListServer;
use crate::support::{Run, Workspace};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};

const TEAM: &str = "# the team\nada@example.com\n";

/// Two jobs: `hostile` (the hostile adapter as source, `extra` added to its
/// instance table, syncing into team.txt) and `healthy` (people.txt into
/// other.txt). Runs `sync` and checks what every hostile test checks.
fn sync_with_hostile_source(extra: &str, top: &str) -> Run {
    let workspace = Workspace::with_adapters(&["file", "hostile"]);
    workspace
        .write("team.txt", TEAM)
        .write("people.txt", "ada@example.com\nbob@example.com\n")
        .write("other.txt", "")
        .write(
            "allsync.toml",
            &format!(
                r#"{top}
[[sync]]
name = "hostile"
allow_empty_source = true
[sync.source]
adapter = "hostile"
{extra}
[[sync.destination]]
name = "team"
adapter = "file"
directory = {{ path = ".", writable = true }}
config = {{ path = "team.txt" }}

[[sync]]
name = "healthy"
[sync.source]
adapter = "file"
directory = {{ path = "." }}
config = {{ path = "people.txt" }}
[[sync.destination]]
name = "other"
adapter = "file"
directory = {{ path = ".", writable = true }}
config = {{ path = "other.txt" }}
"#
            ),
        );
    let run = workspace.run(&["sync"]).expect_code(4);
    assert_eq!(
        workspace.read("team.txt"),
        TEAM,
        "the destination is untouched"
    );
    assert_eq!(
        workspace.read("other.txt"),
        "ada@example.com\nbob@example.com\n",
        "the other job still synced"
    );
    assert!(
        run.stdout
            .contains("other (add-remove): 2 added, 0 removed"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("team (add-remove): FAILED: not synced: the source could not be read"),
        "{}",
        run.stdout
    );
    run
}

fn source_error(run: &Run) -> &str {
    let line = run
        .stdout
        .lines()
        .find(|line| line.starts_with("job hostile: source FAILED: "))
        .unwrap_or_else(|| panic!("{}", run.stdout));
    line.trim_start_matches("job hostile: source FAILED: ")
}

#[test]
fn an_infinite_loop_is_stopped_at_the_call_time_limit() {
    let run = sync_with_hostile_source(
        "config = { act = \"loop\" }\nlimits = { call_timeout_secs = 1 }",
        "",
    );
    assert_eq!(
        source_error(&run),
        "get did not finish within 1 s (limits.call_timeout_secs = 1)"
    );
}

#[test]
fn the_job_time_limit_bounds_all_calls_together() {
    let run = sync_with_hostile_source(
        "config = { act = \"loop\" }\nlimits = { job_timeout_secs = 1 }",
        "",
    );
    assert_eq!(
        source_error(&run),
        "get did not finish within 0 s (the job's limits.job_timeout_secs = 1)"
    );
}

#[test]
fn unbounded_memory_growth_stops_at_the_memory_limit() {
    let run = sync_with_hostile_source(
        "config = { act = \"grow\" }\nlimits = { memory_mb = 32 }",
        "",
    );
    assert_eq!(
        source_error(&run),
        "get ran out of memory: the adapter reached limits.memory_mb = 32"
    );
}

#[test]
fn runaway_recursion_overflows_its_own_stack_only() {
    let run = sync_with_hostile_source("config = { act = \"recurse\" }", "");
    assert_eq!(
        source_error(&run),
        "the adapter overflowed its stack (runaway recursion) in get"
    );
}

#[test]
fn a_fuel_budget_stops_a_busy_adapter_deterministically() {
    let run = sync_with_hostile_source(
        "config = { act = \"loop\" }\nlimits = { fuel = 1000000 }",
        "",
    );
    assert_eq!(
        source_error(&run),
        "get used up its CPU budget: limits.fuel = 1000000"
    );
}

#[test]
fn millions_of_things_break_the_count_limit() {
    let run = sync_with_hostile_source("config = { act = \"many-things\", count = 3000000 }", "");
    assert_eq!(
        source_error(&run),
        "get returned 3000000 things, over limits.max_things = 2000000"
    );
}

#[test]
fn a_flood_of_things_is_refused_before_the_host_copies_it() {
    let workspace = Workspace::with_adapters(&["file", "hostile"]);
    workspace.write("team.txt", "").write(
        "allsync.toml",
        "[[sync]]\nname = \"flood\"\n[sync.source]\nadapter = \"hostile\"\n\
         config = { act = \"many-things\", count = 3000000 }\n[[sync.destination]]\nadapter = \"file\"\n\
         directory = { path = \".\" }\nconfig = { path = \"team.txt\" }\n",
    );
    let (run, peak) = workspace.run_measuring_memory(&["plan"]);
    let run = run.expect_code(4);
    assert!(
        run.stdout
            .contains("get returned 3000000 things, over limits.max_things = 2000000"),
        "{}",
        run.stdout
    );
    // The adapter's own memory holds the three million things (some 150 MiB);
    // copied into the host as well, the process passed 320 MiB.
    const MIB: u64 = 1024 * 1024;
    assert!(peak < 280 * MIB, "peak {} MiB", peak / MIB);
}

#[test]
fn one_enormous_thing_breaks_the_size_limit() {
    let run = sync_with_hostile_source(
        "config = { act = \"huge-thing\", count = 8388608 }\nlimits = { max_things_bytes = 1048576 }",
        "",
    );
    assert_eq!(
        source_error(&run),
        "get returned more than limits.max_things_bytes = 1048576 bytes of things \
         (8388608 counted when it was stopped)"
    );
}

#[test]
fn memory_refused_without_a_trap_is_named_when_the_call_times_out() {
    let run = sync_with_hostile_source(
        "config = { act = \"membomb\" }\nlimits = { memory_mb = 32, call_timeout_secs = 2 }",
        "",
    );
    assert_eq!(
        source_error(&run),
        "get ran out of memory: the adapter reached limits.memory_mb = 32 and, refused more, \
         kept running until it was stopped after 2 s (limits.call_timeout_secs = 2)"
    );
}

#[test]
fn a_request_body_over_its_limit_is_refused_before_it_is_sent() {
    let server = ListServer::start(&[], "list-token");
    let url = server.url();
    let run = sync_with_hostile_source(
        &format!(
            "config = {{ act = \"post\", url = \"{url}/\", count = 2048 }}\nallowed_hosts = [\"{url}\"]\n\
             limits = {{ max_request_bytes = 1024 }}"
        ),
        "",
    );
    assert!(
        source_error(&run).contains(
            "refused a request from job `hostile` source to 127.0.0.1: its body is over \
             limits.max_request_bytes = 1024"
        ),
        "{}",
        run.stdout
    );
    assert_eq!(server.requests(), 0);
}

#[test]
fn the_sandbox_has_no_files_and_no_environment() {
    let run = sync_with_hostile_source("config = { act = \"snoop\" }", "");
    assert_eq!(source_error(&run), "file: entity not found; env: empty");
}

#[test]
fn a_lying_describe_does_not_grant_the_host_it_calls() {
    let server = ListServer::start(&[], "t");
    let run = sync_with_hostile_source(
        &format!(
            "config = {{ act = \"fetch\", url = \"{}/\" }}",
            server.url()
        ),
        "",
    );
    let origin = format!("http://127.0.0.1:{}", server.addr.port());
    assert!(
        source_error(&run).contains(&format!(
            "refused a request from job `hostile` source to {origin}: that origin is not granted"
        )),
        "{}",
        run.stdout
    );
    assert_eq!(server.requests(), 0);
}

#[test]
fn a_granted_name_that_resolves_to_loopback_is_refused() {
    let server = ListServer::start(&[], "t");
    let port = server.addr.port();
    let run = sync_with_hostile_source(
        &format!(
            "config = {{ act = \"fetch\", url = \"http://api.rebound.test:{port}/\" }}\nallowed_hosts = [\"http://*.rebound.test:{port}\"]"
        ),
        "resolve = { \"api.rebound.test\" = \"127.0.0.1\" }",
    );
    assert!(
        source_error(&run).contains(&format!(
            "refused to connect job `hostile` source to http://api.rebound.test:{port}: it resolves to \
             127.0.0.1 (loopback), which only an exact grant of that origin may reach (no wildcard); \
             add \"http://api.rebound.test:{port}\" to its allowed_hosts in allsync.toml to allow it"
        )),
        "{}",
        run.stdout
    );
    assert_eq!(server.requests(), 0);
}

#[test]
fn a_cloud_metadata_name_is_refused_even_under_a_wildcard_grant() {
    // metadata.google.internal stands pinned to loopback here; the unit tests
    // show 169.254.169.254 itself is refused the same way.
    let server = ListServer::start(&[], "t");
    let port = server.addr.port();
    let run = sync_with_hostile_source(
        &format!(
            "config = {{ act = \"fetch\", url = \"http://metadata.google.internal:{port}/computeMetadata/v1/\" }}\n\
             allowed_hosts = [\"http://*.google.internal:{port}\"]"
        ),
        "resolve = { \"metadata.google.internal\" = \"127.0.0.1\" }",
    );
    assert!(
        source_error(&run).contains(
            "refused to connect job `hostile` source to http://metadata.google.internal:"
        ),
        "{}",
        run.stdout
    );
    assert_eq!(server.requests(), 0);
}

#[test]
fn an_exact_grant_of_the_pinned_name_lets_it_through() {
    // The counterpart of the two tests above: the operator's exact grant is
    // what allows a non-public address.
    let server = ListServer::start(&[], "t");
    let port = server.addr.port();
    let run = sync_with_hostile_source(
        &format!(
            "config = {{ act = \"fetch\", url = \"http://api.rebound.test:{port}/\" }}\nallowed_hosts = [\"http://api.rebound.test:{port}\"]"
        ),
        "resolve = { \"api.rebound.test\" = \"127.0.0.1\" }",
    );
    assert_eq!(server.requests(), 1, "{}", run.stdout);
    assert_eq!(source_error(&run), "fetched: HTTP 401");
}

#[test]
fn requests_beyond_the_per_call_limit_are_refused() {
    let server = ListServer::start(&[], "t");
    let url = server.url();
    let run = sync_with_hostile_source(
        &format!(
            "config = {{ act = \"fetch\", url = \"{url}/\", count = 5 }}\nallowed_hosts = [\"{url}\"]\nlimits = {{ max_requests_per_call = 3 }}"
        ),
        "",
    );
    assert!(
        source_error(&run).contains("refused request 4 of one call from job `hostile` source: over limits.max_requests_per_call = 3"),
        "{}",
        run.stdout
    );
    assert_eq!(server.requests(), 3);
}

#[test]
fn an_endless_response_body_is_cut_off_at_the_size_limit() {
    let addr = endless_body_server();
    let run = sync_with_hostile_source(
        &format!(
            "config = {{ act = \"fetch\", url = \"http://{addr}/\" }}\nallowed_hosts = [\"http://{addr}\"]\n\
             limits = {{ max_response_bytes = 1048576 }}"
        ),
        "",
    );
    let error = source_error(&run);
    assert!(
        error.contains(
            "response body broke off: HTTP response body size exceeds limit: 1048576 bytes"
        ),
        "{error}\n{}\n{}",
        run.stdout,
        run.stderr
    );
    assert!(error.contains("cut off a response to job `hostile` source from 127.0.0.1 at limits.max_response_bytes = 1048576"), "{error}\n{}\n{}", run.stdout, run.stderr);
}

#[test]
fn a_panic_in_add_fails_that_destination_only() {
    let workspace = Workspace::with_adapters(&["file", "hostile"]);
    workspace
        .write("people.txt", "ada@example.com\n")
        .write("team.txt", "")
        .write(
            "allsync.toml",
            r#"
[[sync]]
name = "job"
[sync.source]
adapter = "file"
directory = { path = "." }
config = { path = "people.txt" }
[[sync.destination]]
name = "bomb"
adapter = "hostile"
config = { act = "panic-in-add", things = "old@example.com" }
[[sync.destination]]
name = "team"
adapter = "file"
directory = { path = ".", writable = true }
config = { path = "team.txt" }
"#,
        );
    let run = workspace.run(&["sync"]).expect_code(4);
    assert!(
        run.stdout
            .contains("bomb (add-remove): FAILED: add failed: the adapter crashed in add"),
        "{}",
        run.stdout
    );
    assert!(
        run.stderr.contains("add blew up on purpose"),
        "the adapter's panic message reaches the log: {}",
        run.stderr
    );
    assert!(
        !run.stdout.contains("- old@example.com"),
        "no removal after the crash: {}",
        run.stdout
    );
    assert_eq!(workspace.read("team.txt"), "ada@example.com\n");
}

/// A loopback server answering every connection with 200 and a body that
/// only ends when the client hangs up (or after 256 MiB, so it stops by
/// itself even if the client never does).
fn endless_body_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(4) {
            let Ok(mut stream) = stream else { continue };
            let mut request = [0u8; 4096];
            let _ = stream.read(&mut request);
            let _ = stream.write_all(
                b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\n",
            );
            let chunk = [b'x'; 64 * 1024];
            for _ in 0..4096 {
                if stream.write_all(&chunk).is_err() {
                    break;
                }
            }
        }
    });
    addr
}

/// A workspace syncing people.txt (ada) into a hostile destination acting
/// `act`, whose `get` returns old@example.com.
fn hostile_destination(act: &str) -> Workspace {
    let workspace = Workspace::with_adapters(&["file", "hostile"]);
    workspace.write("people.txt", "ada@example.com\n").write(
        "allsync.toml",
        &format!(
            r#"[[sync]]
name = "team"
[sync.source]
adapter = "file"
directory = {{ path = "." }}
config = {{ path = "people.txt" }}
[[sync.destination]]
name = "team"
adapter = "hostile"
directory = {{ path = ".", writable = true }}
config = {{ act = "{act}", things = "old@example.com" }}
"#
        ),
    );
    workspace
}

#[test]
fn a_plan_cannot_write_even_where_a_sync_may() {
    let workspace = hostile_destination("scribble");
    let plan = workspace.run(&["plan"]).expect_code(4);
    assert!(
        plan.stdout
            .contains("team (add-remove): FAILED: wrote a file: no"),
        "{}",
        plan.stdout
    );
    assert!(!workspace.path("scribbled.txt").exists());
    let sync = workspace.run(&["sync"]).expect_code(4);
    assert!(
        sync.stdout
            .contains("team (add-remove): FAILED: wrote a file: yes"),
        "the same grant lets a sync write: {}",
        sync.stdout
    );
}

#[test]
fn what_an_adapter_says_cannot_forge_lines_or_colours_of_the_output() {
    let workspace = hostile_destination("forge");
    let run = workspace.run(&["sync"]).expect_code(4);
    for forged in ['\u{1b}', '\r', '\u{202e}'] {
        assert!(!run.stdout.contains(forged), "{forged:?} in {}", run.stdout);
    }
    assert!(
        run.stdout.contains(
            "    ! could not add ada@example.com   team (add-remove): up to date [0m: no  Sync: 0 changes applied."
        ),
        "{}",
        run.stdout
    );
    assert_eq!(
        run.stdout
            .lines()
            .filter(|line| line.starts_with("Sync:"))
            .count(),
        1,
        "{}",
        run.stdout
    );
    let list = workspace.run(&["plugins", "list"]).expect_code(0);
    assert!(!list.stdout.contains('\u{1b}'), "{}", list.stdout);
    assert!(
        !list.stdout.lines().any(|line| line.starts_with("forged")),
        "{}",
        list.stdout
    );
    assert!(
        list.stdout
            .contains("Test adapter that misbehaves on purpose  [31mforged  0.1.0"),
        "{}",
        list.stdout
    );
}
