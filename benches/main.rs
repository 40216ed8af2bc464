//! allsync's benchmarks, run with `scripts/bench.sh`: start-up, a million
//! things synced, lists across the component boundary, the diff, HTTP
//! against the local fakes with injected latency, and many jobs at once.
//! Prints one table: figure, median, min, max, and the ratio against its
//! baseline, each baseline and candidate measured alternately in the same
//! run, so a machine that slows down or speeds up weighs on both alike.
//!
//! Every request goes to fakes on 127.0.0.1.

#[path = "../tests/e2e/fakes/mod.rs"]
#[allow(dead_code)]
mod fakes;
#[path = "../tests/e2e/peak.rs"]
mod peak;

use allsync_engine::{self as engine, Adapter, AdapterError, ChangeLimit, Rejected, SyncOptions};
use allsync_runtime::{Activity, CacheLocation, Grants, Limits, Runtime, Secrets};
use fakes::github::FakeGitHub;
use fakes::google::FakeGoogle;
use fakes::slack::FakeSlack;
use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// The system allocator, counting the bytes in use and the most since
/// [`Counting::reset_peak`], so the diff's memory can be measured.
struct Counting;

static IN_USE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call goes to the system allocator unchanged.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as the caller promised.
        let pointer = unsafe { System.alloc(layout) };
        if !pointer.is_null() {
            let now = IN_USE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        pointer
    }

    unsafe fn dealloc(&self, pointer: *mut u8, layout: Layout) {
        IN_USE.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: as the caller promised.
        unsafe { System.dealloc(pointer, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

impl Counting {
    /// Starts a new peak from what is in use now; returns that.
    fn reset_peak() -> usize {
        let now = IN_USE.load(Ordering::Relaxed);
        PEAK.store(now, Ordering::Relaxed);
        now
    }

    /// The most in use since the last reset, above `base`.
    fn peak_above(base: usize) -> usize {
        PEAK.load(Ordering::Relaxed).saturating_sub(base)
    }
}

/// One line of the table.
struct Row {
    figure: String,
    samples: Vec<Duration>,
    /// What the median is compared with, and how the ratio reads.
    ratio: Option<String>,
}

struct Table {
    rows: Vec<Row>,
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

/// Runs `baseline` and `candidate` `runs` times each, alternating.
fn alternate<A, B>(
    runs: usize,
    mut baseline: impl FnMut() -> A,
    mut candidate: impl FnMut() -> B,
) -> (Vec<Duration>, Vec<Duration>) {
    let (mut first, mut second) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        first.extend(measure(1, &mut baseline));
        second.extend(measure(1, &mut candidate));
    }
    (first, second)
}

fn mib(bytes: u64) -> String {
    format!("{:.0} MiB", bytes as f64 / (1024.0 * 1024.0))
}

fn times(slower: Duration, faster: Duration) -> String {
    format!("{:.1}x", slower.as_secs_f64() / faster.as_secs_f64())
}

/// A compiled-component cache in `dir`, sealed with the benchmarks' own key
/// (in a private folder of its own, as the cache requires).
fn cache_at(dir: &Path) -> CacheLocation {
    CacheLocation {
        dir: dir.to_path_buf(),
        key: root().join("target/bench-key/cache-key"),
    }
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("the crate lives in host/cli")
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
    let mut table = Table { rows: Vec::new() };
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
        eprintln!("start-up");
        demo(&mut table);
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
    if wanted("budget") {
        eprintln!("100 jobs against one rate-limited Slack workspace");
        shared_budget(&mut table);
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
    allsync_with(dir, &root().join("target/bench-cache"), args).0
}

/// Runs `allsync <args>` in `dir` with its compiled adapters cached in
/// `cache`; returns its wall time and the most memory it used (resident).
fn allsync_with(dir: &Path, cache: &Path, args: &[&str]) -> (Duration, u64) {
    let started = Instant::now();
    let child = Command::new(env!("CARGO_BIN_EXE_allsync"))
        .current_dir(dir)
        .arg("--cache-dir")
        .arg(cache)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .env("RUST_LOG", "error")
        .spawn()
        .unwrap();
    let (code, peak) = peak::wait_with_peak(child);
    let elapsed = started.elapsed();
    assert!(
        matches!(code, Some(0 | 6)),
        "allsync {args:?} failed: exit {code:?}"
    );
    (elapsed, peak)
}

/// Runs `allsync <args>` `runs` times: the times, and the largest peak.
fn allsync_runs(
    dir: &Path,
    cache: impl Fn() -> PathBuf,
    args: &[&str],
    runs: usize,
) -> (Vec<Duration>, u64) {
    let outcomes: Vec<(Duration, u64)> = (0..runs)
        .map(|_| allsync_with(dir, &cache(), args))
        .collect();
    let peak = outcomes.iter().map(|(_, peak)| *peak).max().unwrap_or(0);
    (outcomes.into_iter().map(|(time, _)| time).collect(), peak)
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
    let warm = || root().join("target/bench-cache");
    let (runs, peak) = allsync_runs(dir.path(), warm, &["sync"], 5);
    table.add(
        "sync 1M vs 1M (10% add, 10% remove), two wasm instances, whole allsync process",
        runs,
        Some(format!("peak {} (bars: < 600 ms, < 200 MiB)", mib(peak))),
    );
}

/// The demo's config and people, with every adapter this repository
/// ships in its plugins folder (Python and JavaScript ones included).
fn demo_dir() -> tempfile::TempDir {
    let shipped: Vec<String> = std::fs::read_dir(root().join("plugins"))
        .unwrap()
        .filter_map(|entry| {
            let name = entry.ok()?.file_name().into_string().ok()?;
            name.strip_suffix(".wasm").map(String::from)
        })
        .collect();
    let shipped: Vec<&str> = shipped.iter().map(String::as_str).collect();
    let dir = scratch(&shipped);
    for file in ["allsync.toml", "people.txt", "team.txt"] {
        std::fs::copy(
            root().join("examples/demo").join(file),
            dir.path().join(file),
        )
        .unwrap();
    }
    dir
}

/// The demo's plan, on an empty cache and on a warm one, and listing the
/// plugins on an empty cache.
fn demo(table: &mut Table) {
    let dir = demo_dir();
    let shipped = std::fs::read_dir(dir.path().join("plugins"))
        .unwrap()
        .count();
    let empty = || tempfile::tempdir().unwrap().keep();
    let (first, first_peak) = allsync_runs(dir.path(), empty, &["plan"], 3);
    table.add(
        format!("first `plan` of the demo, nothing cached, {shipped} adapters in the folder"),
        first,
        Some(format!(
            "peak {}; only the file adapter is compiled (bar: < 1 s)",
            mib(first_peak)
        )),
    );
    let warm_cache = tempfile::tempdir().unwrap();
    let warm = || warm_cache.path().to_path_buf();
    allsync_with(dir.path(), &warm(), &["plan"]);
    let (cached, cached_peak) = allsync_runs(dir.path(), warm, &["plan"], 10);
    table.add(
        "cached `plan` of the demo",
        cached,
        Some(format!(
            "peak {} (bars: < 30 ms, < 40 MiB)",
            mib(cached_peak)
        )),
    );
    let (listed, _) = allsync_runs(dir.path(), empty, &["plugins", "list"], 2);
    table.add(
        format!(
            "`plugins list` of {shipped} adapters, nothing cached (compiles them all, side by side)"
        ),
        listed,
        None,
    );
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
                Activity::default(),
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
    let slack = FakeSlack::start("xoxb-bench-token", &people);
    slack.group("S1", &people[..10]);
    let github = FakeGitHub::start("ghp_bench-token", "acme", &["user0", "user1"]);
    github.team("devs", &["user0"]);
    let google = FakeGoogle::start("ya29.bench-token", &people);
    google.group("g@example.com", &[("user0@example.com", "MEMBER")]);
    let dir = scratch(&["file", "slack-usergroup", "github-team", "google-group"]);
    std::fs::write(dir.path().join("people.txt"), people.join("\n")).unwrap();
    let config = format!(
        "[[sync]]\nname = \"three\"\n[sync.source]\nadapter = \"file\"\ndirectory = {{ path = \".\" }}\nconfig = {{ path = \"people.txt\" }}\n\
         [[sync.destination]]\nadapter = \"slack-usergroup\"\nallowed_hosts = [\"http://{}\"]\nconfig = {{ usergroup = \"S1\", token = \"xoxb-bench-token\", api_url = \"{}\" }}\n\
         [[sync.destination]]\nadapter = \"github-team\"\nallowed_hosts = [\"http://{}\"]\nconfig = {{ org = \"acme\", team = \"devs\", token = \"ghp_bench-token\", api_url = \"{}\", mapping = \"user0@example.com=user0\" }}\n\
         [[sync.destination]]\nadapter = \"google-group\"\nallowed_hosts = [\"http://{}\"]\nconfig = {{ group = \"g@example.com\", token = \"ya29.bench-token\", api_url = \"{}\" }}\n",
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
                Activity::default(),
            ))
            .unwrap();
        let mut native = NativeNumbered(numbered(0, count));
        let (native_runs, wasm_runs) = alternate(
            7,
            || runtime.block_on(native.get()).unwrap(),
            || runtime.block_on(adapter.get()).unwrap(),
        );
        let native_median = table.add(
            format!("get {count} things, native Rust adapter (baseline)"),
            native_runs,
            None,
        );
        let wasm_median = median(&wasm_runs);
        table.add(
            format!("get {count} things through the component boundary"),
            wasm_runs,
            Some(format!(
                "{} of native (bar at 1M: within 1.5x)",
                times(wasm_median, native_median)
            )),
        );
    }
}

fn diff(table: &mut Table) {
    let options = SyncOptions {
        max_changes: Some(ChangeLimit::parse("100%").expect("a valid limit")),
        ..SyncOptions::default()
    };
    for (count, label, runs) in [
        (10_000, "10k", 9),
        (100_000, "100k", 7),
        (1_000_000, "1M", 5),
        (10_000_000, "10M", 1),
    ] {
        let source = numbered(0, count);
        let destination: Vec<String> = numbered(count / 10, count)
            .iter()
            .map(|thing| thing.to_lowercase())
            .collect();
        let base = Counting::reset_peak();
        let plan = engine::plan(&source, &destination, &options);
        let memory = Counting::peak_above(base) as u64;
        assert_eq!(
            (plan.add.len(), plan.remove.len()),
            (count / 10, count / 10)
        );
        drop(plan);
        let (baseline, ours) = alternate(
            runs,
            || naive_plan(&source, &destination),
            || engine::plan(&source, &destination, &options),
        );
        let baseline = table.add(
            format!(
                "plan {label} vs {label}, case-insensitive: plain HashSet<String> diff (baseline)"
            ),
            baseline,
            None,
        );
        let ours_median = median(&ours);
        table.add(
            format!("plan {label} vs {label}, case-insensitive: allsync's engine"),
            ours,
            Some(format!(
                "{} faster; {} beyond the two lists (bar: ≥ 8x at 1M)",
                times(baseline, ours_median),
                mib(memory)
            )),
        );
    }
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

    // Slack's workspace holds 5,000 people, 1,000 of them in the group.
    let workspace: Vec<String> = (0..5000).map(|n| format!("user{n}@example.com")).collect();
    let workspace: Vec<&str> = workspace.iter().map(String::as_str).collect();
    let slack = FakeSlack::start("xoxb-bench-token", &workspace);
    slack.group("S1", current);
    slack.channel("C1", current);
    let logins: Vec<String> = (0..2000).map(|n| format!("user{n}")).collect();
    let logins: Vec<&str> = logins.iter().map(String::as_str).collect();
    let github = FakeGitHub::start("ghp_bench-token", "acme", &logins);
    let mapping: Vec<String> = (0..2000)
        .map(|n| format!("user{n}@example.com=user{n}"))
        .collect();
    let google = FakeGoogle::start("ya29.bench-token", &emails);
    let members: Vec<(&str, &str)> = current.iter().map(|email| (*email, "MEMBER")).collect();
    google.group("g@example.com", &members);

    let cases = [
        HttpCase {
            label: "Slack user group",
            adapter: "slack-usergroup",
            table: &format!(
                "config = {{ usergroup = \"S1\", token = \"xoxb-bench-token\", api_url = \"{}\" }}",
                slack.api_url()
            ),
            addr: slack.addr,
            controls: slack.controls.clone(),
            // the group + the workspace's users in 25 pages of 200 + one update
            fewest: 1 + 25 + 1,
        },
        HttpCase {
            label: "Slack channel",
            adapter: "slack-channel",
            table: &format!(
                "config = {{ channel = \"C1\", token = \"xoxb-bench-token\", api_url = \"{}\" }}",
                slack.api_url()
            ),
            addr: slack.addr,
            controls: slack.controls.clone(),
            // 5 pages of 200 members + the workspace's users in 25 pages + one invite + a kick per removal
            fewest: 5 + 25 + 1 + 1000,
        },
        HttpCase {
            label: "GitHub team",
            adapter: "github-team",
            table: &format!(
                "config = {{ org = \"acme\", team = \"devs\", token = \"ghp_bench-token\", api_url = \"{}\", mapping = \"{}\" }}",
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
                "config = {{ group = \"g@example.com\", token = \"ya29.bench-token\", api_url = \"{}\" }}",
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
        let updates = case.controls.requests()[before..]
            .iter()
            .filter(|request| request.starts_with("POST /api/usergroups.users.update"))
            .count();
        let writes = match case.adapter {
            "slack-usergroup" => {
                format!(", {updates} update call(s) (bar: ≤ 60 requests, 1 update, < 1.5 s)")
            }
            _ => String::new(),
        };
        table.add(
            format!(
                "{}: 1,000 additions + 1,000 removals, 20 ms a request",
                case.label
            ),
            vec![wall],
            Some(format!(
                "{made} requests, fewest possible {}{writes}",
                case.fewest
            )),
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
    let [one, four] = [1, 4].map(|concurrency| {
        let dir = scratch(&["numbered"]);
        std::fs::write(
            dir.path().join("allsync.toml"),
            format!("concurrency = {concurrency}\n{jobs}"),
        )
        .unwrap();
        allsync(dir.path(), &["plan"]);
        dir
    });
    let (sequential, concurrent) = alternate(
        5,
        || allsync(one.path(), &["sync"]),
        || allsync(four.path(), &["sync"]),
    );
    let sequential = table.add(
        "100 jobs x 2 destinations (1,000 things each), concurrency 1 (baseline)",
        sequential,
        None,
    );
    let concurrent_median = median(&concurrent);
    table.add(
        "100 jobs x 2 destinations (1,000 things each), concurrency 4",
        concurrent,
        Some(format!(
            "{} faster than one at a time (bar: ≥ 1.7x on 2 cores)",
            times(sequential, concurrent_median)
        )),
    );
}

/// 100 jobs, each adding one person to its own user group of one Slack
/// workspace that answers more than 50 requests a second with 429: with
/// the budget's shared pause only (baseline), and paced by `rate_limits`.
fn shared_budget(table: &mut Table) {
    const JOBS: usize = 100;
    let slack = FakeSlack::start("xoxb-bench-token", &["ada@example.com"]);
    slack.controls.limit_per_second(50);
    let jobs: String = (0..JOBS)
        .map(|n| {
            format!(
                "[[sync]]\nname = \"group{n}\"\n[sync.source]\nadapter = \"file\"\ndirectory = {{ path = \".\" }}\n\
                 config = {{ path = \"people.txt\" }}\n[[sync.destination]]\nadapter = \"slack-usergroup\"\n\
                 allowed_hosts = [\"http://{}\"]\nconfig = {{ usergroup = \"S{n}\", token = \"xoxb-bench-token\", api_url = \"{}\" }}\n",
                slack.addr,
                slack.api_url()
            )
        })
        .collect();
    let [shared, paced] = [
        String::new(),
        format!("rate_limits = {{ \"http://{}\" = \"40/s\" }}\n", slack.addr),
    ]
    .map(|rates| {
        let dir = scratch(&["file", "slack-usergroup"]);
        std::fs::write(dir.path().join("people.txt"), "ada@example.com\n").unwrap();
        std::fs::write(
            dir.path().join("allsync.toml"),
            format!("concurrency = 8\n{rates}{jobs}"),
        )
        .unwrap();
        dir
    });
    // Each run starts from empty groups, and counts the 429s it met.
    let limited = std::cell::RefCell::new((Vec::new(), Vec::new()));
    let run = |dir: &Path, paced: bool| {
        for n in 0..JOBS {
            slack.group(&format!("S{n}"), &[]);
        }
        std::thread::sleep(Duration::from_secs(1));
        let before = slack.controls.limited().len();
        allsync(dir, &["sync"]);
        let met = slack.controls.limited().len() - before;
        let mut limited = limited.borrow_mut();
        match paced {
            false => limited.0.push(met),
            true => limited.1.push(met),
        }
    };
    let (baseline, candidate) =
        alternate(3, || run(shared.path(), false), || run(paced.path(), true));
    let (shared_429s, paced_429s) = limited.into_inner();
    table.add(
        format!("100 jobs, one Slack token, a 50 requests/s limit: the shared pause only (baseline; 429s met: {shared_429s:?})"),
        baseline,
        None,
    );
    table.add(
        format!("the same, paced by rate_limits = 40/s (429s met: {paced_429s:?})"),
        candidate,
        Some("429s met side by side in the figures' names".into()),
    );
}
