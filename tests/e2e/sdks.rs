//! Adapters written with the Python and JavaScript SDKs (their examples,
//! built from source by the test command): a real sync through each, the
//! conformance kit, and the compiled-component cache's effect on start-up.

use crate::fakes::{Controls, Fault, bearer, serve};
use crate::support::{Workspace, component, syncing_into, syncing_into_fake};
use axum::Json;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// Serves `people` as JSON pages of two, `{"data": [{"email": ...}],
/// "links": {"next": URL or null}}`, to requests bearing `token`.
fn people_pages(people: &'static [&'static str], token: &'static str) -> (SocketAddr, Controls) {
    async fn page(
        State(token): State<&'static str>,
        Query(query): Query<HashMap<String, String>>,
        headers: HeaderMap,
    ) -> Response {
        if bearer(&headers) != Some(token) {
            return (
                StatusCode::UNAUTHORIZED,
                Json(json!({ "error": "bad token" })),
            )
                .into_response();
        }
        let people = PEOPLE;
        let page: usize = query.get("page").and_then(|n| n.parse().ok()).unwrap_or(0);
        let end = (page * 2 + 2).min(people.len());
        let host = headers
            .get("host")
            .and_then(|h| h.to_str().ok())
            .unwrap_or_default();
        let next = (end < people.len()).then(|| format!("http://{host}/people?page={}", page + 1));
        let data: Vec<Value> = people[page * 2..end]
            .iter()
            .map(|email| json!({ "email": email, "active": true }))
            .collect();
        Json(json!({ "data": data, "links": { "next": next } })).into_response()
    }
    assert_eq!(people, PEOPLE);
    let controls = Controls::default();
    let router = Router::new().route("/people", get(page)).with_state(token);
    (serve(router, controls.clone(), "{}"), controls)
}

/// The bearer token the people pages want.
const TOKEN: &str = "s3cret-token";

const PEOPLE: &[&str] = &[
    "ada@example.com",
    "bob@example.com",
    "cy@example.com",
    "dan@example.com",
    "eve@example.com",
];

/// Prints how long `plugins inspect` takes on `adapter` with an empty
/// compiled-component cache, then with it filled.
fn print_start_up(adapter: &str) {
    let workspace = Workspace::with_adapters(&[adapter]).with_own_cache();
    let mut timings = Vec::new();
    for _ in 0..2 {
        let started = Instant::now();
        workspace
            .run(&["plugins", "inspect", adapter])
            .expect_code(0);
        timings.push(started.elapsed());
    }
    println!(
        "{adapter} start-up: first run (compiles) {:?}, second run (cached) {:?}",
        timings[0], timings[1]
    );
}

#[test]
fn a_python_source_syncs_pages_of_json_into_a_file() {
    let (addr, controls) = people_pages(PEOPLE, TOKEN);
    let url = format!("http://{addr}/people");
    let workspace = syncing_into(
        "adapter = \"file\"\ndirectory = { path = \".\", writable = true }\nconfig = { path = \"team.txt\" }",
        &[],
    );
    workspace.write("team.txt", "old@example.com\n");
    let config = format!(
        "[[sync]]\nname = \"people\"\n[sync.source]\nadapter = \"http-json\"\nallowed_hosts = [\"http://{addr}\"]\n\
         config = {{ url = \"{url}\", path = \"data[].email\", next = \"links.next\", token = \"{TOKEN}\" }}\n\
         [[sync.destination]]\nname = \"team\"\nadapter = \"file\"\ndirectory = {{ path = \".\", writable = true }}\n\
         config = {{ path = \"team.txt\" }}\n"
    );
    workspace.write("allsync.toml", &config);
    std::fs::copy(
        component("http-json"),
        workspace.plugins().join("http-json.wasm"),
    )
    .unwrap();
    let run = workspace.run(&["sync"]).expect_code(0);
    assert!(
        run.stdout.contains("job people: source has 5 things"),
        "{}",
        run.stdout
    );
    assert_eq!(
        workspace.read("team.txt"),
        format!("{}\n", PEOPLE.join("\n"))
    );
    assert_eq!(controls.count("GET /people"), 3, "three pages of two");
    print_start_up("http-json");
}

#[test]
fn the_python_example_passes_the_conformance_kit() {
    let (addr, _) = people_pages(PEOPLE, TOKEN);
    let workspace = Workspace::with_adapters(&[]);
    let file = component("http-json");
    let url = format!("url=http://{addr}/people");
    let run = workspace
        .run(&[
            "test-adapter",
            file.to_str().unwrap(),
            "--config",
            &url,
            "--config",
            "path=data[].email",
            "--config",
            "next=links.next",
            "--config",
            &format!("token={TOKEN}"),
            "--allow-host",
            &format!("http://{addr}"),
        ])
        .expect_code(0);
    assert!(
        run.stdout
            .contains("PASS  a read-only adapter answers add with unsupported"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains(" passed, 0 failed, 0 skipped"),
        "{}",
        run.stdout
    );
}

/// A webhook receiver: `POST /hook` takes `{"event", "things"}` and applies
/// it to the list it keeps; `GET /state` answers that list.
fn receiver() -> (SocketAddr, Controls, Arc<Mutex<Vec<Value>>>) {
    #[derive(Clone, Default)]
    struct Receiver {
        state: Arc<Mutex<Vec<String>>>,
        events: Arc<Mutex<Vec<Value>>>,
    }
    async fn hook(State(receiver): State<Receiver>, Json(event): Json<Value>) -> StatusCode {
        let things: Vec<String> =
            serde_json::from_value(event["things"].clone()).unwrap_or_default();
        let mut state = receiver.state.lock().unwrap();
        match event["event"].as_str() {
            Some("add") => state.extend(things),
            Some("remove") => state.retain(|thing| !things.contains(thing)),
            _ => return StatusCode::BAD_REQUEST,
        }
        receiver.events.lock().unwrap().push(event);
        StatusCode::NO_CONTENT
    }
    async fn state(State(receiver): State<Receiver>) -> Json<Vec<String>> {
        Json(receiver.state.lock().unwrap().clone())
    }
    let receiver = Receiver::default();
    let events = receiver.events.clone();
    let controls = Controls::default();
    let router = Router::new()
        .route("/hook", post(hook))
        .route("/state", get(state))
        .with_state(receiver);
    (serve(router, controls.clone(), "{}"), controls, events)
}

#[test]
fn a_javascript_webhook_receives_each_change_once() {
    let (addr, controls, events) = receiver();
    let config = format!("url = \"http://{addr}/hook\", state_url = \"http://{addr}/state\"");
    let workspace = syncing_into_fake(
        "webhook",
        addr,
        &config,
        &["ada@example.com", "bob@example.com"],
    );
    workspace.run(&["sync"]).expect_code(0);
    workspace.write("people.txt", "bob@example.com\ncy@example.com\n");
    let run = workspace.run(&["sync"]).expect_code(0);
    assert!(
        run.stdout.contains("dest (add-remove): 1 added, 1 removed"),
        "{}",
        run.stdout
    );
    assert_eq!(
        *events.lock().unwrap(),
        [
            json!({ "event": "add", "things": ["ada@example.com"] }),
            json!({ "event": "add", "things": ["bob@example.com"] }),
            json!({ "event": "add", "things": ["cy@example.com"] }),
            json!({ "event": "remove", "things": ["ada@example.com"] }),
        ],
        "one POST per change"
    );
    let posts = controls.count("POST /hook");
    workspace.run(&["sync"]).expect_code(0);
    assert_eq!(
        controls.count("POST /hook"),
        posts,
        "nothing changed, nothing posted"
    );
    print_start_up("webhook");
}

#[test]
fn a_javascript_webhook_failing_part_way_reports_exactly_what_it_sent() {
    let (addr, controls, events) = receiver();
    controls.inject(
        Fault::on("POST /hook", 500)
            .after(2)
            .body(r#"{"error": "disk full"}"#),
    );
    let config = format!("url = \"http://{addr}/hook\", state_url = \"http://{addr}/state\"");
    let workspace = syncing_into_fake("webhook", addr, &config, PEOPLE);
    let run = workspace.run(&["sync"]).expect_code(4);
    assert!(
        run.stdout.contains(
            "dest (add-remove): 2 added, 0 removed\n    + ada@example.com\n    + bob@example.com\n"
        ),
        "{}",
        run.stdout
    );
    for person in &PEOPLE[2..] {
        let line = format!(
            "! could not add {person}: not applied: post the add event: HTTP 500: {{\"error\": \"disk full\"}}"
        );
        assert!(run.stdout.contains(&line), "{line}\n{}", run.stdout);
    }
    assert_eq!(
        controls.count("POST /hook"),
        3,
        "the first failed POST stops the call"
    );
    assert_eq!(
        *events.lock().unwrap(),
        [
            json!({ "event": "add", "things": ["ada@example.com"] }),
            json!({ "event": "add", "things": ["bob@example.com"] }),
        ]
    );
    let rerun = workspace.run(&["sync"]).expect_code(0);
    assert!(
        rerun
            .stdout
            .contains("dest (add-remove): 3 added, 0 removed"),
        "the next run sends only what was not applied: {}",
        rerun.stdout
    );
}

#[test]
fn the_javascript_example_passes_the_conformance_kit() {
    let (addr, _, _) = receiver();
    let workspace = Workspace::with_adapters(&[]);
    let file = component("webhook");
    let run = workspace
        .run(&[
            "test-adapter",
            file.to_str().unwrap(),
            "--sandbox",
            "--config",
            &format!("url=http://{addr}/hook"),
            "--config",
            &format!("state_url=http://{addr}/state"),
            "--allow-host",
            &format!("http://{addr}"),
        ])
        .expect_code(0);
    assert!(
        run.stdout.contains(" passed, 0 failed, 0 skipped"),
        "{}",
        run.stdout
    );
}

#[test]
fn a_c_source_syncs_its_fixed_list() {
    let workspace = syncing_into(
        "adapter = \"file\"\ndirectory = { path = \".\", writable = true }\nconfig = { path = \"team.txt\" }",
        &[],
    );
    std::fs::copy(component("static"), workspace.plugins().join("static.wasm")).unwrap();
    workspace.write("team.txt", "").write(
        "allsync.toml",
        "[[sync]]\nname = \"owners\"\n[sync.source]\nadapter = \"static\"\nconfig = { things = \"ada@example.com, bob@example.com,,\" }\n\
         [[sync.destination]]\nname = \"team\"\nadapter = \"file\"\ndirectory = { path = \".\", writable = true }\nconfig = { path = \"team.txt\" }\n",
    );
    let run = workspace.run(&["sync"]).expect_code(0);
    assert!(
        run.stdout.contains("team (add-remove): 2 added, 0 removed"),
        "{}",
        run.stdout
    );
    assert_eq!(
        workspace.read("team.txt"),
        "ada@example.com\nbob@example.com\n"
    );
    let file = component("static");
    let kit = workspace
        .run(&[
            "test-adapter",
            file.to_str().unwrap(),
            "--config",
            "things=a@x.com",
        ])
        .expect_code(0);
    assert!(
        kit.stdout.contains("6 passed, 0 failed, 0 skipped"),
        "{}",
        kit.stdout
    );
}

/// `allsync new <language>`, then the project's own test.sh: it builds the
/// adapter with the language's tools and runs the conformance kit on it.
fn scaffold_build_and_test(language: &str) {
    let workspace = Workspace::with_adapters(&[]);
    let name = format!("my-{language}-adapter");
    let run = workspace.run(&["new", language, &name]).expect_code(0);
    assert!(
        run.stdout.contains(&format!("created ./{name}")),
        "{}",
        run.stdout
    );
    let started = Instant::now();
    let output = std::process::Command::new(workspace.path(&name).join("test.sh"))
        .env("ALLSYNC", env!("CARGO_BIN_EXE_allsync"))
        .env(
            "CARGO_TARGET_DIR",
            crate::support::root().join("target/templates"),
        )
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "{language} template:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains("6 passed, 0 failed, 0 skipped"), "{stdout}");
    println!(
        "{language} template: built and passed the kit in {:?}",
        started.elapsed()
    );
}

#[test]
fn the_rust_template_builds_and_passes_the_kit() {
    scaffold_build_and_test("rust");
}

#[test]
fn the_python_template_builds_and_passes_the_kit() {
    scaffold_build_and_test("python");
}

#[test]
fn the_javascript_template_builds_and_passes_the_kit() {
    scaffold_build_and_test("javascript");
}

#[test]
fn the_c_template_builds_and_passes_the_kit() {
    scaffold_build_and_test("c");
}
