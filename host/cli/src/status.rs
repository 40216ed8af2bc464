//! The status page of `allsync serve`, at `/` on its listener: each job's
//! schedule, last and next run, last outcome and recent failures, and the
//! latest changes in the audit log. One read-only HTML page, its style
//! inline and nothing fetched from elsewhere, refreshing itself.

use crate::app::RunReport;
use crate::audit::{self, Query, Record};
use allsync_engine::Status;
use chrono::{DateTime, SecondsFormat, Utc};
use maud::{DOCTYPE, Markup, PreEscaped, html};
use std::collections::{BTreeMap, VecDeque};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

/// How often the page reloads itself.
pub const REFRESH_SECS: u32 = 10;
/// How many failures, and audit records, the page lists.
const RECENT: usize = 20;

/// What the page shows, updated by `serve` as jobs are scheduled and run; clones share it.
#[derive(Clone, Default)]
pub struct Board {
    shared: Arc<Mutex<Shown>>,
}

#[derive(Default)]
struct Shown {
    config: PathBuf,
    audit: Option<PathBuf>,
    jobs: BTreeMap<String, JobStatus>,
    failures: VecDeque<Failure>,
}

#[derive(Default)]
struct JobStatus {
    schedule: String,
    next: Option<DateTime<Utc>>,
    running_since: Option<DateTime<Utc>>,
    last: Option<LastRun>,
}

struct LastRun {
    started: DateTime<Utc>,
    took: Duration,
    outcome: Outcome,
    /// One line per destination: its name, how it ended, what was changed.
    destinations: Vec<(String, String)>,
}

/// How a run ended, as the page says it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Ok,
    Blocked,
    Failed,
}

struct Failure {
    at: DateTime<Utc>,
    job: String,
    place: String,
    error: String,
}

impl Board {
    /// The served config: its file, audit log, and each job with its schedule as written.
    pub fn configure(&self, config: PathBuf, audit: Option<PathBuf>, jobs: Vec<(String, String)>) {
        let mut shown = self.shown();
        shown.config = config;
        shown.audit = audit;
        let mut kept = std::mem::take(&mut shown.jobs);
        shown.jobs = jobs
            .into_iter()
            .map(|(name, schedule)| {
                let status = JobStatus {
                    schedule,
                    ..kept.remove(&name).unwrap_or_default()
                };
                (name, status)
            })
            .collect();
    }

    /// `job` runs next at `at`.
    pub fn next_run(&self, job: &str, at: DateTime<Utc>) {
        if let Some(status) = self.shown().jobs.get_mut(job) {
            status.next = Some(at);
        }
    }

    /// `job` has started a run.
    pub fn started(&self, job: &str) {
        if let Some(status) = self.shown().jobs.get_mut(job) {
            status.running_since = Some(Utc::now());
            status.next = None;
        }
    }

    /// `job`'s run has ended after `took`: its report, or why it could not run.
    pub fn finished(&self, job: &str, took: Duration, report: Result<&RunReport, String>) {
        let mut shown = self.shown();
        let started = Utc::now() - took;
        let mut failures: Vec<Failure> = Vec::new();
        let (outcome, destinations) = match report {
            Ok(report) => {
                for source in report
                    .jobs
                    .iter()
                    .filter_map(|job| job.source.error.as_ref())
                {
                    failures.push(failure(job, "source", source));
                }
                let destinations = report.jobs.iter().flat_map(|job| &job.destinations);
                let mut lines = Vec::new();
                let mut blocked = false;
                for destination in destinations {
                    blocked |= destination.status == Status::Blocked;
                    if let Some(error) = &destination.error {
                        failures.push(failure(job, &destination.name, error));
                    }
                    lines.push((
                        destination.name.clone(),
                        format!(
                            "{}: {} added, {} removed, {} rejected",
                            word(destination.status),
                            destination.added.len(),
                            destination.removed.len(),
                            destination.rejected.len()
                        ),
                    ));
                }
                let outcome = match (report.succeeded(), blocked) {
                    (true, _) => Outcome::Ok,
                    (false, true) if failures.is_empty() => Outcome::Blocked,
                    (false, _) => Outcome::Failed,
                };
                (outcome, lines)
            }
            Err(why) => {
                failures.push(failure(job, "the run", &why));
                (Outcome::Failed, Vec::new())
            }
        };
        for failure in failures {
            shown.failures.push_front(failure);
        }
        shown.failures.truncate(RECENT);
        if let Some(status) = shown.jobs.get_mut(job) {
            status.running_since = None;
            status.last = Some(LastRun {
                started,
                took,
                outcome,
                destinations,
            });
        }
    }

    /// The page as it stands now. The audit log is read without holding
    /// the board, which `serve` updates as it schedules and runs jobs.
    pub fn page(&self) -> String {
        let audit = self.shown().audit.clone();
        let changes = audit.map(|path| {
            audit::search(&path, &Query::default())
                .map(|(records, _)| {
                    let skip = records.len().saturating_sub(RECENT);
                    records.into_iter().skip(skip).rev().collect::<Vec<_>>()
                })
                .map_err(|err| err.to_string())
        });
        render(&self.shown(), changes, Utc::now()).into_string()
    }

    fn shown(&self) -> std::sync::MutexGuard<'_, Shown> {
        self.shared.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn failure(job: &str, place: &str, error: &str) -> Failure {
    Failure {
        at: Utc::now(),
        job: job.to_string(),
        place: place.to_string(),
        error: error.to_string(),
    }
}

/// How a destination ended, in a word or two.
pub fn word(status: Status) -> &'static str {
    match status {
        Status::UpToDate => "up to date",
        Status::Pending => "pending",
        Status::Applied => "applied",
        Status::Blocked => "blocked",
        Status::Failed => "failed",
        Status::Stale => "stale",
    }
}

const STYLE: &str = "
body { font: 14px/1.45 system-ui, sans-serif; margin: 1.5rem; color: #1d2430; background: #f7f8fa; }
h1 { font-size: 1.4rem; margin: 0 0 .2rem; } h2 { font-size: 1.1rem; margin: 1.6rem 0 .5rem; }
.meta { color: #5b6575; }
table { border-collapse: collapse; width: 100%; background: #fff; box-shadow: 0 1px 2px #0002; }
th, td { text-align: left; padding: .45rem .6rem; border-bottom: 1px solid #e4e7ec; vertical-align: top; }
th { background: #eef1f5; font-weight: 600; }
.ok { color: #16723a; font-weight: 600; } .failed { color: #b42318; font-weight: 600; }
.blocked { color: #a15c07; font-weight: 600; } .running { color: #1a56db; font-weight: 600; }
.none { color: #5b6575; font-style: italic; }
code { font: 13px ui-monospace, monospace; } .when { white-space: nowrap; }
";

fn render(
    shown: &Shown,
    changes: Option<Result<Vec<Record>, String>>,
    now: DateTime<Utc>,
) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta http-equiv="refresh" content=(REFRESH_SECS);
                title { "allsync serve" }
                style { (PreEscaped(STYLE)) }
            }
            body {
                h1 { "allsync serve" }
                p.meta {
                    code { (shown.config.display()) } " · " (stamp(now))
                    " · this page refreshes every " (REFRESH_SECS) " s"
                }
                h2 { "Jobs" }
                (jobs(shown, now))
                h2 { "Recent failures" }
                (failures(shown))
                h2 { "Recent changes" }
                (recent_changes(changes))
            }
        }
    }
}

fn jobs(shown: &Shown, now: DateTime<Utc>) -> Markup {
    html! {
        table #jobs {
            tr { th { "Job" } th { "Schedule" } th { "Last run" } th { "Outcome" } th { "Destinations" } th { "Next run" } }
            @for (name, status) in &shown.jobs {
                tr {
                    td { code { (name) } }
                    td { (status.schedule) }
                    td {
                        @match &status.last {
                            Some(last) => { (stamp(last.started)) " (" (ago(now, last.started)) ", took " (seconds(last.took)) ")" }
                            None => span.none { "not yet" },
                        }
                    }
                    td {
                        @if let Some(since) = status.running_since {
                            span.running { "running" } " since " (ago(now, since))
                        } @else {
                            @match status.last.as_ref().map(|last| last.outcome) {
                                Some(Outcome::Ok) => span.ok { "ok" },
                                Some(Outcome::Blocked) => span.blocked { "blocked" },
                                Some(Outcome::Failed) => span.failed { "failed" },
                                None => span.none { "—" },
                            }
                        }
                    }
                    td {
                        @for (destination, line) in status.last.iter().flat_map(|last| &last.destinations) {
                            div { code { (destination) } " " (line) }
                        }
                    }
                    td {
                        @match status.next {
                            Some(next) => { (stamp(next)) " (in " (until(now, next)) ")" }
                            None if status.running_since.is_some() => span.none { "after this run" },
                            None => span.none { "—" },
                        }
                    }
                }
            }
        }
    }
}

fn failures(shown: &Shown) -> Markup {
    html! {
        @if shown.failures.is_empty() {
            p.none { "No failures since allsync serve started." }
        } @else {
            table #failures {
                tr { th { "When" } th { "Job" } th { "Where" } th { "Error" } }
                @for failure in &shown.failures {
                    tr {
                        td.when { (stamp(failure.at)) }
                        td { code { (failure.job) } }
                        td { (failure.place) }
                        td.failed { (failure.error) }
                    }
                }
            }
        }
    }
}

fn recent_changes(changes: Option<Result<Vec<Record>, String>>) -> Markup {
    html! {
        @match changes {
            None => p.none { "No audit log: set [audit] file in allsync.toml to list changes here." },
            Some(Err(why)) => p.failed { (why) },
            Some(Ok(records)) if records.is_empty() => p.none { "The audit log has no changes yet." },
            Some(Ok(records)) => table #changes {
                tr { th { "When" } th { "Job" } th { "Destination" } th { "Change" } th { "Outcome" } }
                @for record in &records {
                    tr {
                        td.when { (record.time) }
                        td { code { (record.job) } }
                        td { code { (record.destination) } }
                        td { (record.operation) " " code { (record.thing) } }
                        td {
                            (record.outcome)
                            @if let Some(reason) = &record.reason { ": " (reason) }
                        }
                    }
                }
            },
        }
    }
}

fn stamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn seconds(took: Duration) -> String {
    format!("{:.1} s", took.as_secs_f64())
}

fn ago(now: DateTime<Utc>, then: DateTime<Utc>) -> String {
    format!("{} ago", rounded(now - then))
}

fn until(now: DateTime<Utc>, then: DateTime<Utc>) -> String {
    rounded(then - now)
}

/// A span to the second, as humantime writes it ("4m 12s").
fn rounded(span: chrono::TimeDelta) -> String {
    let secs = span.num_seconds().max(0).unsigned_abs();
    humantime::format_duration(Duration::from_secs(secs)).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use allsync_engine::{DestinationReport, JobReport, Mode, SourceReport};

    fn report(status: Status, added: &[&str], error: Option<&str>) -> RunReport {
        RunReport {
            action: "sync",
            jobs: vec![JobReport {
                name: "engineers".into(),
                source: SourceReport {
                    count: Some(3),
                    error: None,
                },
                destinations: vec![DestinationReport {
                    name: "slack".into(),
                    mode: Mode::AddRemove,
                    status,
                    plan: None,
                    added: added.iter().map(|thing| thing.to_string()).collect(),
                    removed: Vec::new(),
                    rejected: Vec::new(),
                    error: error.map(str::to_string),
                }],
            }],
            instances: Vec::new(),
        }
    }

    fn board() -> Board {
        let board = Board::default();
        board.configure(
            "allsync.toml".into(),
            None,
            vec![
                ("engineers".into(), "every 15m".into()),
                ("on-call".into(), "0 7 * * MON-FRI".into()),
            ],
        );
        board
    }

    #[test]
    fn the_page_lists_every_job_with_its_schedule_outcome_and_next_run() {
        let board = board();
        board.started("engineers");
        board.finished(
            "engineers",
            Duration::from_millis(1500),
            Ok(&report(Status::Applied, &["ada@example.com"], None)),
        );
        board.next_run("engineers", Utc::now() + chrono::TimeDelta::minutes(15));
        board.started("on-call");
        let page = board.page();
        assert!(
            page.contains("<meta http-equiv=\"refresh\" content=\"10\">"),
            "{page}"
        );
        assert!(page.contains("every 15m") && page.contains("0 7 * * MON-FRI"));
        assert!(page.contains("class=\"ok\">ok<"), "{page}");
        assert!(
            page.contains("applied: 1 added, 0 removed, 0 rejected"),
            "{page}"
        );
        assert!(page.contains("took 1.5 s"), "{page}");
        assert!(
            page.contains("(in 14m 59s)") || page.contains("(in 15m)"),
            "{page}"
        );
        assert!(page.contains("class=\"running\">running<"), "{page}");
        assert!(page.contains("No failures since allsync serve started."));
        assert!(page.contains("No audit log: set [audit] file"));
        assert!(
            !page.contains("http://") && !page.contains("https://"),
            "no external assets"
        );
    }

    #[test]
    fn failures_are_listed_newest_first_and_escaped() {
        let board = board();
        board.finished(
            "engineers",
            Duration::from_secs(2),
            Ok(&report(Status::Failed, &[], Some("<b>503</b> from Slack"))),
        );
        board.finished(
            "on-call",
            Duration::ZERO,
            Err("could not run: no token".into()),
        );
        let page = board.page();
        assert!(page.contains("class=\"failed\">failed<"), "{page}");
        assert!(page.contains("&lt;b&gt;503&lt;/b&gt; from Slack"), "{page}");
        assert!(!page.contains("<b>503"), "{page}");
        let newest = page.find("could not run: no token").unwrap();
        let older = page.find("&lt;b&gt;503").unwrap();
        assert!(newest < older, "newest first");
    }

    #[test]
    fn recent_changes_come_from_the_audit_log_newest_first() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("audit.jsonl");
        let lines: Vec<String> = (0..25)
            .map(|n| {
                format!(
                    r#"{{"time":"2026-12-02T10:00:{n:02}Z","run":"r1","command":"sync","job":"engineers","destination":"slack","adapter":{{"name":"slack-usergroup","version":"1.0.0","sha256":"00"}},"operation":"add","thing":"person{n}@example.com","outcome":"applied"}}"#
                )
            })
            .collect();
        std::fs::write(&log, lines.join("\n")).unwrap();
        let board = board();
        board.configure("allsync.toml".into(), Some(log), vec![]);
        let page = board.page();
        assert!(page.contains("person24@example.com"), "{page}");
        assert!(page.contains("person5@example.com"), "{page}");
        assert!(
            !page.contains("person4@example.com"),
            "only the latest 20: {page}"
        );
        assert!(page.find("person24@").unwrap() < page.find("person23@").unwrap());
    }
}
