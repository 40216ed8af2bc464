//! allsync's benchmarks, run with `scripts/bench.sh`: adapter start-up,
//! lists across the component boundary, the diff, HTTP against the local
//! fakes with injected latency, and many jobs at once. Prints one table:
//! figure, median, min, max, and the ratio against its baseline.
//!
//! Every request goes to fakes on 127.0.0.1.

#[path = "../tests/e2e/fakes/mod.rs"]
#[allow(dead_code)]
mod fakes;

use allsync::engine::{self, Adapter, AdapterError, ChangeLimit, Rejected, SyncOptions};
use allsync::runtime::{CacheLocation, Grants, Limits, Runtime, Secrets};
use fakes::github::FakeGitHub;
use fakes::google::FakeGoogle;
use fakes::slack::FakeSlack;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// One line of the table.
struct Row {
    figure: String,
    samples: Vec<Duration>,
    /// What the median is compared with, and how the ratio reads.
    ratio: Option<String>,
}

struct Table {
    rows: Vec<Row>,
    notes: Vec<String>,
}

impl Table {
    fn add(
        &mut self,
        figure: impl Into<String>,
        samples: Vec<Duration>,
        ratio: Option<String>,
    ) -> Duration {
        let row = Row {
            figure: figure.into(),
            samples,
            ratio,
        };
        let median = median(&row.samples);
        eprintln!("  {}: {}", row.figure, format_duration(median));
        self.rows.push(row);
        median
    }

    fn note(&mut self, note: String) {
        eprintln!("  {note}");
        self.notes.push(note);
    }

    fn print(&self) {
        println!("| figure | median | min | max | ratio vs baseline |");
        println!("|---|---:|---:|---:|---|");
        for row in &self.rows {
            let min = row.samples.iter().min().unwrap();
            let max = row.samples.iter().max().unwrap();
            println!(
                "| {} | {} | {} | {} | {} |",
                row.figure,
                format_duration(median(&row.samples)),
                format_duration(*min),
                format_duration(*max),
                row.ratio.as_deref().unwrap_or("")
            );
        }
        println!();
        for note in &self.notes {
            println!("- {note}");
        }
    }
}

fn median(samples: &[Duration]) -> Duration {
    let mut sorted = samples.to_vec();
    sorted.sort();
    sorted[sorted.len() / 2]
}

fn format_duration(duration: Duration) -> String {
    match duration.as_secs_f64() {
        s if s >= 1.0 => format!("{s:.2} s"),
        s if s >= 0.001 => format!("{:.1} ms", s * 1e3),
        s => format!("{:.0} µs", s * 1e6),
    }
}

fn measure<T>(runs: usize, mut work: impl FnMut() -> T) -> Vec<Duration> {
    (0..runs)
        .map(|_| {
            let started = Instant::now();
            std::hint::black_box(work());
            started.elapsed()
        })
        .collect()
}

fn times(slower: Duration, faster: Duration) -> String {
    format!("{:.1}x", slower.as_secs_f64() / faster.as_secs_f64())
}

/// A compiled-component cache in `dir`, sealed with the benchmarks' own key beside it.
fn cache_at(dir: &Path) -> CacheLocation {
    CacheLocation {
        dir: dir.to_path_buf(),
        key: dir.with_extension("key"),
    }
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn component(name: &str) -> PathBuf {
    [root().join("plugins"), root().join("target/test-adapters")]
        .into_iter()
        .map(|dir| dir.join(format!("{name}.wasm")))
        .find(|path| path.exists())
        .unwrap_or_else(|| panic!("no {name}.wasm: run scripts/bench.sh, which builds it"))
}

fn pairs(config: &[(&str, &str)]) -> Vec<(String, String)> {
    config
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// `n` numbered emails from `offset`, every tenth in capitals (as the
/// `numbered` adapter makes them with `upper_every = 10`).
fn numbered(offset: usize, count: usize) -> Vec<String> {
    (offset..offset + count)
        .map(|n| match n % 10 {
            0 => format!("USER{n}@EXAMPLE.COM"),
            _ => format!("user{n}@example.com"),
        })
        .collect()
}

/// The `numbered` adapter's list, made natively behind the same trait.
struct NativeNumbered(Vec<String>);

impl Adapter for NativeNumbered {
    async fn get(&mut self) -> Result<Vec<String>, AdapterError> {
        Ok(self.0.clone())
    }
    async fn add(&mut self, _: &[String]) -> Result<Vec<Rejected>, AdapterError> {
        Ok(Vec::new())
    }
    async fn remove(&mut self, _: &[String]) -> Result<Vec<Rejected>, AdapterError> {
        Ok(Vec::new())
    }
}

/// Runs every section, or only those named on the command line
/// (`scripts/bench.sh diff boundary`): memory, start, boundary, diff, http, jobs.
fn main() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mut table = Table {
        rows: Vec::new(),
        notes: Vec::new(),
    };
    // cargo passes --bench; every other argument names a section.
    let only: Vec<String> = std::env::args()
        .skip(1)
        .filter(|arg| !arg.starts_with("--"))
        .collect();
    let wanted = |section: &str| only.is_empty() || only.iter().any(|name| name == section);
    if wanted("memory") {
        eprintln!("1M-thing sync, whole process");
        whole_sync(&mut table);
    }
    if wanted("start") {
        eprintln!("adapter start-up");
        start_up(&runtime, &mut table);
    }
    if wanted("boundary") {
        eprintln!("the component boundary");
        boundary(&runtime, &mut table);
    }
    if wanted("diff") {
        eprintln!("the diff");
        diff(&mut table);
    }
    if wanted("http") {
        eprintln!("HTTP against the fakes, 20 ms a request");
        http(&mut table);
    }
    if wanted("jobs") {
        eprintln!("many jobs");
        many_jobs(&mut table);
    }
    table.print();
}

/// A scratch folder with a plugins folder holding `adapters`.
fn scratch(adapters: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("plugins")).unwrap();
    for adapter in adapters {
        std::fs::copy(
            component(adapter),
            dir.path().join("plugins").join(format!("{adapter}.wasm")),
        )
        .unwrap();
    }
    dir
}

/// Runs `allsync <args>` in `dir` with a warm cache; returns its wall time.
fn allsync(dir: &Path, args: &[&str]) -> Duration {
    let started = Instant::now();
    let status = Command::new(env!("CARGO_BIN_EXE_allsync"))
        .current_dir(dir)
        .args([
            "--cache-dir",
            root().join("target/bench-cache").to_str().unwrap(),
        ])
        .args(args)
        .stdout(Stdio::null())
        .env("RUST_LOG", "error")
        .status()
        .unwrap();
    assert!(
        status.success() || status.code() == Some(6),
        "allsync {args:?} failed: {status}"
    );
    started.elapsed()
}

/// Peak memory of the children waited for so far, in MiB.
fn children_peak_mib() -> f64 {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: getrusage fills the struct it is given.
    let usage = unsafe {
        libc::getrusage(libc::RUSAGE_CHILDREN, usage.as_mut_ptr());
        usage.assume_init()
    };
    usage.ru_maxrss as f64 / 1024.0
}

fn whole_sync(table: &mut Table) {
    let dir = scratch(&["numbered"]);
    std::fs::write(
        dir.path().join("allsync.toml"),
        "[[sync]]\nname = \"million\"\n[sync.source]\nadapter = \"numbered\"\n\
         config = { count = 1000000, upper_every = 10 }\n[[sync.destination]]\nname = \"copy\"\n\
         adapter = \"numbered\"\nconfig = { count = 1000000, offset = 100000 }\n",
    )
    .unwrap();
    allsync(dir.path(), &["plan"]);
    let runs = measure(3, || allsync(dir.path(), &["sync"]));
    table.add(
        "sync 1M vs 1M (10% add, 10% remove), whole allsync process",
        runs,
        None,
    );
    table.note(format!(
        "peak memory of that whole sync (source, destination, plan, in one process): {:.0} MiB (bar: 400)",
        children_peak_mib()
    ));
}

fn start_up(runtime: &tokio::runtime::Runtime, table: &mut Table) {
    for (label, name, compiles) in [
        ("Rust", "file", 3),
        ("Python", "http-json", 2),
        ("JavaScript", "webhook", 2),
    ] {
        let file = component(name);
        let load = |cache: &Path| {
            let wasm = Runtime::new(Some(&cache_at(cache)), false).unwrap();
            runtime.block_on(wasm.load(&file)).unwrap();
        };
        let compile = measure(compiles, || load(tempfile::tempdir().unwrap().path()));
        let compile = table.add(
            format!("{label} adapter ({name}) start, nothing cached: compile"),
            compile,
            None,
        );
        let warm = tempfile::tempdir().unwrap();
        load(warm.path());
        let cached = measure(5, || load(warm.path()));
        let cached_median = median(&cached);
        table.add(
            format!("{label} adapter ({name}) start, cached"),
            cached,
            Some(format!(
                "{} faster (bar: 50x)",
                times(compile, cached_median)
            )),
        );
    }
    let warm = root().join("target/bench-cache");
    let wasm = Runtime::new(Some(&cache_at(&warm)), false).unwrap();
    let plugin = runtime.block_on(wasm.load(&component("file"))).unwrap();
    let config = pairs(&[("path", "people.txt")]);
    let instantiate = measure(20, || {
        runtime
            .block_on(wasm.start(
                &plugin,
                "bench",
                &Grants::default(),
                &Limits::default(),
                &config,
                Secrets::default(),
            ))
            .unwrap()
    });
    table.add(
        "instantiate + init one instance (InstancePre)",
        instantiate,
        None,
    );
    plan_three_adapters(table);
}

/// `allsync plan` with three Rust adapters against their fakes, no latency.
fn plan_three_adapters(table: &mut Table) {
    let people: Vec<String> = (0..20).map(|n| format!("user{n}@example.com")).collect();
    let people: Vec<&str> = people.iter().map(String::as_str).collect();
    let slack = FakeSlack::start("xoxb-b", &people);
    slack.group("S1", &people[..10]);
    let github = FakeGitHub::start("ghp_b", "acme", &["user0", "user1"]);
    github.team("devs", &["user0"]);
    let google = FakeGoogle::start("ya29.b", &people);
    google.group("g@example.com", &[("user0@example.com", "MEMBER")]);
    let dir = scratch(&["file", "slack-usergroup", "github-team", "google-group"]);
    std::fs::write(dir.path().join("people.txt"), people.join("\n")).unwrap();
    let config = format!(
        "[[sync]]\nname = \"three\"\n[sync.source]\nadapter = \"file\"\ndirectory = {{ path = \".\" }}\nconfig = {{ path = \"people.txt\" }}\n\
         [[sync.destination]]\nadapter = \"slack-usergroup\"\nallowed_hosts = [\"http://{}\"]\nconfig = {{ usergroup = \"S1\", token = \"xoxb-b\", api_url = \"{}\" }}\n\
         [[sync.destination]]\nadapter = \"github-team\"\nallowed_hosts = [\"http://{}\"]\nconfig = {{ org = \"acme\", team = \"devs\", token = \"ghp_b\", api_url = \"{}\", mapping = \"user0@example.com=user0\" }}\n\
         [[sync.destination]]\nadapter = \"google-group\"\nallowed_hosts = [\"http://{}\"]\nconfig = {{ group = \"g@example.com\", token = \"ya29.b\", api_url = \"{}\" }}\n",
        slack.addr,
        slack.api_url(),
        github.addr,
        github.api_url(),
        google.addr,
        google.api_url()
    );
    std::fs::write(dir.path().join("allsync.toml"), config).unwrap();
    allsync(dir.path(), &["plan"]);
    let runs = measure(5, || allsync(dir.path(), &["plan"]));
    table.add(
        "allsync plan, three Rust adapters against local fakes, whole process (bar: host < 50 ms)",
        runs,
        None,
    );
}

fn boundary(runtime: &tokio::runtime::Runtime, table: &mut Table) {
    let wasm = Runtime::new(Some(&cache_at(&root().join("target/bench-cache"))), false).unwrap();
    let plugin = runtime.block_on(wasm.load(&component("numbered"))).unwrap();
    for count in [100_000, 1_000_000] {
        let config = pairs(&[("count", &count.to_string()), ("upper_every", "10")]);
        let mut adapter = runtime
            .block_on(wasm.start(
                &plugin,
                "bench",
                &Grants::default(),
                &Limits::default(),
                &config,
                Secrets::default(),
            ))
            .unwrap();
        let mut native = NativeNumbered(numbered(0, count));
        let native_runs = measure(5, || runtime.block_on(native.get()).unwrap());
        let native_median = table.add(
            format!("get {count} things, native Rust adapter (baseline)"),
            native_runs,
            None,
        );
        let wasm_runs = measure(5, || runtime.block_on(adapter.get()).unwrap());
        let wasm_median = median(&wasm_runs);
        table.add(
            format!("get {count} things through the component boundary"),
            wasm_runs,
            Some(format!(
                "{} of native (bar at 1M: within 2x, under 1 s)",
                times(wasm_median, native_median)
            )),
        );
    }
}

fn diff(table: &mut Table) {
    let source = numbered(0, 1_000_000);
    let destination: Vec<String> = numbered(100_000, 1_000_000)
        .iter()
        .map(|thing| thing.to_lowercase())
        .collect();
    let baseline = measure(3, || naive_plan(&source, &destination));
    let baseline = table.add(
        "plan 1M vs 1M, case-insensitive: plain HashSet<String> diff (baseline)",
        baseline,
        None,
    );
    let options = SyncOptions {
        max_changes: Some(ChangeLimit::parse("100%").expect("a valid limit")),
        ..SyncOptions::default()
    };
    let ours = measure(5, || {
        let plan = engine::plan(&source, &destination, &options);
        assert_eq!((plan.add.len(), plan.remove.len()), (100_000, 100_000));
        plan
    });
    let ours_median = median(&ours);
    table.add(
        "plan 1M vs 1M, case-insensitive: allsync's engine",
        ours,
        Some(format!(
            "{} faster (bar: < 0.5 s)",
            times(baseline, ours_median)
        )),
    );
}

/// What a first implementation would write: lower-case copies in two sets.
fn naive_plan(source: &[String], destination: &[String]) -> (Vec<String>, Vec<String>) {
    let wanted: HashSet<String> = source.iter().map(|thing| thing.to_lowercase()).collect();
    let present: HashSet<String> = destination
        .iter()
        .map(|thing| thing.to_lowercase())
        .collect();
    let add = source
        .iter()
        .filter(|thing| !present.contains(&thing.to_lowercase()))
        .cloned()
        .collect();
    let remove = destination
        .iter()
        .filter(|thing| !wanted.contains(&thing.to_lowercase()))
        .cloned()
        .collect();
    (add, remove)
}

/// One service's sync of 1,000 additions and 1,000 removals at 20 ms a
/// request: wall time, and requests made against the fewest possible.
struct HttpCase<'a> {
    label: &'a str,
    adapter: &'a str,
    table: &'a str,
    addr: std::net::SocketAddr,
    controls: fakes::Controls,
    fewest: usize,
}

fn http(table: &mut Table) {
    let emails: Vec<String> = (0..2000).map(|n| format!("user{n}@example.com")).collect();
    let emails: Vec<&str> = emails.iter().map(String::as_str).collect();
    let (current, wanted) = (&emails[1000..], &emails[..1000]);
    let latency = Duration::from_millis(20);

    let slack = FakeSlack::start("xoxb-b", &emails);
    slack.group("S1", current);
    slack.channel("C1", current);
    let logins: Vec<String> = (0..2000).map(|n| format!("user{n}")).collect();
    let logins: Vec<&str> = logins.iter().map(String::as_str).collect();
    let github = FakeGitHub::start("ghp_b", "acme", &logins);
    let mapping: Vec<String> = (0..2000)
        .map(|n| format!("user{n}@example.com=user{n}"))
        .collect();
    let google = FakeGoogle::start("ya29.b", &emails);
    let members: Vec<(&str, &str)> = current.iter().map(|email| (*email, "MEMBER")).collect();
    google.group("g@example.com", &members);

    let cases = [
        HttpCase {
            label: "Slack user group",
            adapter: "slack-usergroup",
            table: &format!(
                "config = {{ usergroup = \"S1\", token = \"xoxb-b\", api_url = \"{}\" }}",
                slack.api_url()
            ),
            addr: slack.addr,
            controls: slack.controls.clone(),
            // list + users.info per member + lookup per addition + one update each way
            fewest: 1 + 1000 + 1000 + 2,
        },
        HttpCase {
            label: "Slack channel",
            adapter: "slack-channel",
            table: &format!(
                "config = {{ channel = \"C1\", token = \"xoxb-b\", api_url = \"{}\" }}",
                slack.api_url()
            ),
            addr: slack.addr,
            controls: slack.controls.clone(),
            // 5 pages of 200 + users.info per member + lookup per addition + one invite + a kick per removal
            fewest: 5 + 1000 + 1000 + 1 + 1000,
        },
        HttpCase {
            label: "GitHub team",
            adapter: "github-team",
            table: &format!(
                "config = {{ org = \"acme\", team = \"devs\", token = \"ghp_b\", api_url = \"{}\", mapping = \"{}\" }}",
                github.api_url(),
                mapping.join(",")
            ),
            addr: github.addr,
            controls: github.controls.clone(),
            // 10 pages of 100 + one request per membership change
            fewest: 10 + 2000,
        },
        HttpCase {
            label: "Google group",
            adapter: "google-group",
            table: &format!(
                "config = {{ group = \"g@example.com\", token = \"ya29.b\", api_url = \"{}\" }}",
                google.api_url()
            ),
            addr: google.addr,
            controls: google.controls.clone(),
            // 5 pages of 200 + one request per member change
            fewest: 5 + 2000,
        },
    ];
    for case in &cases {
        case.controls.page_size(200);
        case.controls.latency(latency);
    }
    github.controls.page_size(100);
    for case in cases {
        slack.group("S1", current);
        slack.channel("C1", current);
        github.team(
            "devs",
            current
                .iter()
                .map(|email| email.trim_end_matches("@example.com"))
                .collect::<Vec<_>>()
                .as_slice(),
        );
        google.group("g@example.com", &members);
        let dir = sync_dir(case.adapter, case.addr, case.table, wanted);
        let before = case.controls.requests().len();
        let wall = allsync(dir.path(), &["sync"]);
        let made = case.controls.requests().len() - before;
        table.add(
            format!(
                "{}: 1,000 additions + 1,000 removals, 20 ms a request",
                case.label
            ),
            vec![wall],
            Some(format!("{made} requests, fewest possible {}", case.fewest)),
        );
        if case.adapter == "github-team" {
            github.team(
                "devs",
                current
                    .iter()
                    .map(|email| email.trim_end_matches("@example.com"))
                    .collect::<Vec<_>>()
                    .as_slice(),
            );
            let one_at_a_time = case.table.replace("api_url", "concurrency = 1, api_url");
            let dir = sync_dir(case.adapter, case.addr, &one_at_a_time, wanted);
            let sequential = allsync(dir.path(), &["sync"]);
            table.add(
                "GitHub team, the same one request at a time (baseline)",
                vec![sequential],
                Some(format!(
                    "concurrency 8 is {} faster",
                    times(sequential, wall)
                )),
            );
        }
    }
}

/// A folder syncing `people` (a file) into one destination.
fn sync_dir(
    adapter: &str,
    addr: std::net::SocketAddr,
    config: &str,
    people: &[&str],
) -> tempfile::TempDir {
    let dir = scratch(&["file", adapter]);
    std::fs::write(dir.path().join("people.txt"), people.join("\n")).unwrap();
    std::fs::write(
        dir.path().join("allsync.toml"),
        format!(
            "[[sync]]\nname = \"bench\"\n[sync.source]\nadapter = \"file\"\ndirectory = {{ path = \".\" }}\nconfig = {{ path = \"people.txt\" }}\n\
             [[sync.destination]]\nadapter = \"{adapter}\"\nallowed_hosts = [\"http://{addr}\"]\n{config}\n"
        ),
    )
    .unwrap();
    dir
}

fn many_jobs(table: &mut Table) {
    let dir = scratch(&["numbered"]);
    let jobs: String = (0..100)
        .map(|n| {
            format!(
                "[[sync]]\nname = \"job{n}\"\n[sync.source]\nadapter = \"numbered\"\nconfig = {{ count = 1000, offset = {a} }}\n\
                 [[sync.destination]]\nname = \"a\"\nadapter = \"numbered\"\nconfig = {{ count = 1000, offset = {b} }}\n\
                 [[sync.destination]]\nname = \"b\"\nadapter = \"numbered\"\nconfig = {{ count = 1000, offset = {c} }}\n",
                a = n * 10_000,
                b = n * 10_000 + 100,
                c = n * 10_000 + 200,
            )
        })
        .collect();
    let mut medians = Vec::new();
    for concurrency in [1, 4] {
        std::fs::write(
            dir.path().join("allsync.toml"),
            format!("concurrency = {concurrency}\n{jobs}"),
        )
        .unwrap();
        allsync(dir.path(), &["plan"]);
        let runs = measure(3, || allsync(dir.path(), &["sync"]));
        let ratio = medians
            .first()
            .map(|first| format!("{} faster than one at a time", times(*first, median(&runs))));
        medians.push(table.add(
            format!("100 jobs x 2 destinations (1,000 things each), concurrency {concurrency}"),
            runs,
            ratio,
        ));
    }
}
