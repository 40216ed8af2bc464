//! `allsync serve`: jobs on their schedules, never a run over another,
//! reloads on SIGHUP, a clean stop on SIGTERM, and `/metrics` in the
//! Prometheus text format.

use crate::fakes::{Controls, serve};
use crate::support::Workspace;
use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A job named `name`, run every `every`, reading people.txt; its
/// destination follows.
fn job_reading_people(name: &str, every: &str) -> String {
    format!(
        r#"
[[sync]]
name = "{name}"
schedule = "every {every}"
[sync.source]
adapter = "file"
directory = {{ path = "." }}
config = {{ path = "people.txt" }}
"#
    )
}

/// A job syncing people.txt into `team` every `every`.
fn file_job(name: &str, team: &str, every: &str) -> String {
    format!(
        r#"{}[[sync.destination]]
adapter = "file"
directory = {{ path = ".", writable = true }}
config = {{ path = "{team}" }}
"#,
        job_reading_people(name, every)
    )
}

const LISTEN: &str = "[serve]\nlisten = \"127.0.0.1:0\"\n";

/// A running `allsync serve`, its stderr collected as it comes.
struct Served {
    child: Child,
    stderr: Arc<Mutex<String>>,
    address: SocketAddr,
}

impl Served {
    fn start(workspace: &Workspace) -> Served {
        let mut child = workspace
            .command(&["serve"])
            .stderr(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let stderr = Arc::new(Mutex::new(String::new()));
        let lines = BufReader::new(child.stderr.take().unwrap());
        let collected = stderr.clone();
        std::thread::spawn(move || {
            for line in lines.lines().map_while(Result::ok) {
                let mut text = collected.lock().unwrap();
                text.push_str(&line);
                text.push('\n');
            }
        });
        let mut served = Served {
            child,
            stderr,
            address: "127.0.0.1:1".parse().unwrap(),
        };
        // It listens once its adapters are compiled: a while, on a cold cache.
        let line = served.wait_for_log_within("listening on http://", Duration::from_secs(180));
        let address = line
            .split("listening on http://")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .unwrap();
        served.address = address.parse().unwrap();
        served
    }

    /// Waits until stderr holds `text`, and returns the line holding it.
    fn wait_for_log(&mut self, text: &str) -> String {
        self.wait_for_log_within(text, PATIENCE)
    }

    fn wait_for_log_within(&mut self, text: &str, patience: Duration) -> String {
        let found = eventually_within(patience, || {
            let log = self.stderr.lock().unwrap().clone();
            log.lines()
                .find(|line| line.contains(text))
                .map(String::from)
        });
        found.unwrap_or_else(|| panic!("no {text:?} in the log:\n{}", self.log()))
    }

    fn log(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    fn signal(&self, signal: i32) {
        // SAFETY: kill has no memory-safety preconditions.
        let sent = unsafe { libc::kill(self.child.id() as i32, signal) };
        assert_eq!(sent, 0);
    }

    /// Stops it with SIGTERM and returns its exit code.
    fn stop(mut self) -> (i32, String) {
        self.signal(libc::SIGTERM);
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                std::thread::sleep(Duration::from_millis(100));
                return (status.code().unwrap_or(-1), self.log());
            }
            assert!(
                Instant::now() < deadline,
                "serve did not stop:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// GETs `path` from the listener: the status code and the body.
    fn get(&self, path: &str) -> (u16, String) {
        let mut stream = TcpStream::connect(self.address).unwrap();
        write!(
            stream,
            "GET {path} HTTP/1.1\r\nHost: allsync\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        let (head, body) = response.split_once("\r\n\r\n").unwrap();
        let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
        (status, body.to_string())
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// How long a test waits for something to happen.
const PATIENCE: Duration = Duration::from_secs(30);

/// `check`'s answer once it has one, trying for up to [`PATIENCE`].
fn eventually<T>(check: impl FnMut() -> Option<T>) -> Option<T> {
    eventually_within(PATIENCE, check)
}

/// `check`'s answer once it has one, trying for up to `patience`.
fn eventually_within<T>(patience: Duration, mut check: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + patience;
    loop {
        if let Some(found) = check() {
            return Some(found);
        }
        if Instant::now() > deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
}

fn wait_for_file(workspace: &Workspace, name: &str, text: &str) {
    let found = eventually(|| {
        let now = std::fs::read_to_string(workspace.path(name)).unwrap_or_default();
        (now == text).then_some(())
    });
    assert!(found.is_some(), "{name} never became {text:?}");
}

/// The value of the sample `name` with `labels`, in Prometheus text `metrics`.
fn sample(metrics: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let lines = metrics.lines().map(|line| Ok(line.to_string()));
    let scrape =
        prometheus_parse::Scrape::parse(lines).expect("the metrics parse as Prometheus text");
    scrape
        .samples
        .iter()
        .find(|s| s.metric == name && labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
        .map(|s| match s.value {
            prometheus_parse::Value::Counter(v)
            | prometheus_parse::Value::Gauge(v)
            | prometheus_parse::Value::Untyped(v) => v,
            _ => f64::NAN,
        })
}

/// A webhook receiver whose every answer takes `latency`; it keeps the list
/// and every change posted.
fn slow_receiver(latency: Duration) -> (SocketAddr, Controls, Arc<Mutex<Vec<Value>>>) {
    type Lists = (Arc<Mutex<Vec<String>>>, Arc<Mutex<Vec<Value>>>);
    async fn hook(State((state, events)): State<Lists>, Json(event): Json<Value>) -> StatusCode {
        let things: Vec<String> =
            serde_json::from_value(event["things"].clone()).unwrap_or_default();
        let mut state = state.lock().unwrap();
        match event["event"].as_str() {
            Some("add") => state.extend(things),
            _ => state.retain(|thing| !things.contains(thing)),
        }
        events.lock().unwrap().push(event);
        StatusCode::NO_CONTENT
    }
    async fn list(State((state, _)): State<Lists>) -> Json<Vec<String>> {
        Json(state.lock().unwrap().clone())
    }
    let state = Arc::new(Mutex::new(vec!["old@example.com".to_string()]));
    let events = Arc::new(Mutex::new(Vec::new()));
    let controls = Controls::default();
    controls.latency(latency);
    let router = Router::new()
        .route("/state", get(list))
        .route("/hook", post(hook))
        .with_state((state, events.clone()));
    (serve(router, controls.clone(), "{}"), controls, events)
}

fn hook_job(addr: SocketAddr, every: &str) -> String {
    format!(
        r#"{}[[sync.destination]]
adapter = "webhook"
allowed_hosts = ["http://{addr}"]
config = {{ url = "http://{addr}/hook", state_url = "http://{addr}/state" }}
"#,
        job_reading_people("hook", every)
    )
}

#[test]
fn serve_runs_each_job_on_its_schedule_never_over_itself_and_counts_it_in_metrics() {
    let (addr, controls, _) = slow_receiver(Duration::from_millis(400));
    let workspace = Workspace::with_adapters(&["file", "webhook"]);
    workspace
        .write("people.txt", "ada@example.com\n")
        .write("team.txt", "")
        .write(
            "allsync.toml",
            &format!(
                "{LISTEN}{}{}",
                file_job("team", "team.txt", "150ms"),
                hook_job(addr, "50ms")
            ),
        );
    let served = Served::start(&workspace);
    wait_for_file(&workspace, "team.txt", "ada@example.com\n");
    workspace.write("people.txt", "ada@example.com\nbob@example.com\n");
    wait_for_file(&workspace, "team.txt", "ada@example.com\nbob@example.com\n");
    // Each run of the slow job reads its list for 400 ms; it is due every 50 ms.
    let repeated = eventually(|| (controls.count("GET /state") >= 3).then_some(()));
    assert!(repeated.is_some(), "the slow job ran again and again");
    assert_eq!(
        controls.most_in_flight(),
        1,
        "a run still going is never overlapped"
    );

    assert_eq!(served.get("/healthz").0, 200);
    assert_eq!(served.get("/readyz"), (200, "ready\n".to_string()));
    let (status, metrics) = served.get("/metrics");
    assert_eq!(status, 200);
    let ok_runs = sample(
        &metrics,
        "allsync_runs_total",
        &[("job", "team"), ("outcome", "ok")],
    );
    assert!(ok_runs.is_some_and(|runs| runs >= 2.0), "{metrics}");
    let added = sample(
        &metrics,
        "allsync_changes_total",
        &[
            ("job", "team"),
            ("destination", "file"),
            ("operation", "add"),
        ],
    );
    assert_eq!(added, Some(2.0), "{metrics}");
    let last = sample(
        &metrics,
        "allsync_last_success_timestamp_seconds",
        &[("job", "team"), ("destination", "file")],
    );
    assert!(last.is_some_and(|time| time > 1.7e9), "{metrics}");
    assert!(
        metrics.contains("allsync_run_duration_seconds_bucket{"),
        "{metrics}"
    );

    let (code, log) = served.stop();
    assert_eq!(code, 0, "{log}");
    assert!(log.contains("stopped"), "{log}");
}

#[test]
fn sighup_reloads_a_changed_config_and_keeps_the_old_one_when_the_new_one_is_broken() {
    let workspace = Workspace::with_adapters(&["file"]);
    workspace
        .write("people.txt", "ada@example.com\n")
        .write("team.txt", "")
        .write("other.txt", "")
        .write(
            "allsync.toml",
            &format!("{LISTEN}{}", file_job("team", "team.txt", "100ms")),
        );
    let mut served = Served::start(&workspace);
    wait_for_file(&workspace, "team.txt", "ada@example.com\n");

    workspace.write(
        "allsync.toml",
        &format!(
            "{LISTEN}{}\nbogus = 1\n",
            file_job("team", "other.txt", "100ms")
        ),
    );
    served.signal(libc::SIGHUP);
    served.wait_for_log("the config was not reloaded, the previous one is kept");
    assert!(
        served.log().contains("unknown key `bogus`"),
        "{}",
        served.log()
    );
    workspace.write("people.txt", "bob@example.com\n");
    wait_for_file(&workspace, "team.txt", "bob@example.com\n");
    assert_eq!(
        workspace.read("other.txt"),
        "",
        "the broken config never ran"
    );

    workspace.write(
        "allsync.toml",
        &format!("{LISTEN}{}", file_job("team", "other.txt", "100ms")),
    );
    served.signal(libc::SIGHUP);
    served.wait_for_log("reloaded");
    wait_for_file(&workspace, "other.txt", "bob@example.com\n");

    let metrics = served.get("/metrics").1;
    assert_eq!(
        sample(
            &metrics,
            "allsync_config_reloads_total",
            &[("outcome", "failed")]
        ),
        Some(1.0),
        "{metrics}"
    );
    assert_eq!(
        sample(
            &metrics,
            "allsync_config_reloads_total",
            &[("outcome", "ok")]
        ),
        Some(1.0),
        "{metrics}"
    );
    assert_eq!(served.stop().0, 0);
}

#[test]
fn sigterm_lets_the_call_under_way_finish_and_begins_no_other_write() {
    let (addr, controls, events) = slow_receiver(Duration::from_millis(500));
    let workspace = Workspace::with_adapters(&["file", "webhook"]);
    workspace
        .write("people.txt", "ada@example.com\nbob@example.com\n")
        .write("allsync.toml", &format!("{LISTEN}{}", hook_job(addr, "1h")));
    // Runs at once (an interval counts from start-up), then not for an hour.
    let served = Served::start(&workspace);
    let posting = eventually(|| (controls.count("POST /hook") >= 1).then_some(()));
    assert!(
        posting.is_some(),
        "the first change never began:\n{}",
        served.log()
    );
    let (code, log) = served.stop();
    assert_eq!(code, 0, "{log}");
    let posted: Vec<String> = events
        .lock()
        .unwrap()
        .iter()
        .map(|event| {
            format!(
                "{} {}",
                event["event"].as_str().unwrap(),
                event["things"][0].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        posted,
        ["add ada@example.com", "add bob@example.com"],
        "the add call finished; the removal of old@example.com was never begun"
    );
    assert!(log.contains("asked to stop"), "{log}");
}

#[test]
fn serve_refuses_a_config_with_a_job_that_has_no_schedule() {
    let workspace = Workspace::with_adapters(&["file"]);
    workspace.write("people.txt", "ada@example.com\n").write(
        "allsync.toml",
        &file_job("team", "team.txt", "1m").replace("schedule = \"every 1m\"\n", ""),
    );
    let run = workspace.run(&["serve"]).expect_code(3);
    assert!(
        run.stderr
            .contains("job `team` has no `schedule` (nor does [serve])"),
        "{}",
        run.stderr
    );
}

#[test]
fn logs_are_json_lines_when_asked() {
    let workspace = Workspace::with_adapters(&["file"]);
    workspace
        .write("people.txt", "ada@example.com\n")
        .write("team.txt", "")
        .write(
            "allsync.toml",
            &format!("{LISTEN}{}", file_job("team", "team.txt", "100ms")),
        );
    let mut child = workspace
        .command(&["--log-format", "json", "serve"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for_file(&workspace, "team.txt", "ada@example.com\n");
    // SAFETY: kill has no memory-safety preconditions.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(child.wait().unwrap().success(), "{stderr}");
    let lines: Vec<Value> = stderr
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|err| panic!("{err}: {line}")))
        .collect();
    assert!(lines.iter().any(|line| {
        line["fields"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("listening on"))
    }));
    assert!(
        lines.iter().any(|line| line["fields"]["job"] == "team"),
        "{stderr}"
    );
}

/// Chromium, headless, kept to loopback: every other address goes to a
/// proxy that is not there, and no name is ever looked up.
fn chromium(profile: &std::path::Path) -> std::process::Command {
    let mut command = std::process::Command::new("chromium");
    command.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-extensions",
        "--proxy-server=http://127.0.0.1:9",
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
        "--window-size=1280,800",
    ]);
    command.arg(format!("--user-data-dir={}", profile.display()));
    command
}

#[test]
fn the_status_page_shows_each_job_its_outcome_and_the_latest_changes_in_a_browser() {
    let workspace = Workspace::with_adapters(&["file", "webhook"]);
    let unreachable = "127.0.0.1:9";
    workspace
        .write("people.txt", "ada@example.com\nbob@example.com\n")
        .write("team.txt", "")
        .write(
            "allsync.toml",
            &format!(
                "{LISTEN}[audit]\nfile = \"audit.jsonl\"\n{}{}",
                file_job("team", "team.txt", "200ms"),
                // Not granted the receiver's origin: every run of it fails.
                hook_job(unreachable.parse().unwrap(), "1h")
                    .replace("allowed_hosts = [\"http://127.0.0.1:9\"]\n", "")
            ),
        );
    let served = Served::start(&workspace);
    wait_for_file(&workspace, "team.txt", "ada@example.com\nbob@example.com\n");
    let page = eventually(|| {
        let (status, page) = served.get("/");
        (status == 200 && page.contains("ada@example.com") && page.contains("class=\"failed\""))
            .then_some(page)
    })
    .unwrap_or_else(|| panic!("the page never showed both runs:\n{}", served.get("/").1));
    assert!(
        page.contains("every 200ms") && page.contains("every 1h"),
        "{page}"
    );
    assert!(
        page.contains("allowed_hosts"),
        "the failure says what to do: {page}"
    );

    let profile = tempfile::tempdir().unwrap();
    let url = format!("http://{}/", served.address);
    let dom = chromium(profile.path())
        .args(["--dump-dom", &url])
        .output()
        .expect("chromium runs (scripts/test.sh installs Debian's chromium package)");
    let dom = String::from_utf8_lossy(&dom.stdout);
    for shown in [
        "<h1>allsync serve</h1>",
        "team",
        "hook",
        "add",
        "ada@example.com",
    ] {
        assert!(dom.contains(shown), "{shown} in the rendered page:\n{dom}");
    }
    let screenshot = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("status-page.png");
    let _ = std::fs::remove_file(&screenshot);
    let shot = chromium(profile.path())
        .arg(format!("--screenshot={}", screenshot.display()))
        .arg(&url)
        .output()
        .unwrap();
    let png = std::fs::read(&screenshot).unwrap_or_else(|err| {
        panic!(
            "no screenshot ({err}): {}",
            String::from_utf8_lossy(&shot.stderr)
        )
    });
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 10_000,
        "a real picture"
    );
    println!("status page screenshot: {}", screenshot.display());
    assert_eq!(served.stop().0, 0);
}
