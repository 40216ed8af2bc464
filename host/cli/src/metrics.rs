//! What `allsync serve` tells Prometheus at `/metrics` (OpenMetrics text):
//! runs, changes, rejections, failures, guard stops, retries, durations,
//! the last success of each destination, and config reloads. Names and
//! labels are documented in README ("allsync serve").

use crate::app::RunReport;
use allsync_engine::Status;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use std::sync::atomic::AtomicU64;
use std::time::{Duration, SystemTime};

type Labels = Vec<(&'static str, String)>;

/// The metrics of one `serve` process.
pub struct Metrics {
    registry: Registry,
    runs: Family<Labels, Counter>,
    changes: Family<Labels, Counter>,
    rejections: Family<Labels, Counter>,
    failures: Family<Labels, Counter>,
    guard_stops: Family<Labels, Counter>,
    retries: Family<Labels, Counter>,
    durations: Family<Labels, Histogram>,
    last_success: Family<Labels, Gauge<f64, AtomicU64>>,
    reloads: Family<Labels, Counter>,
}

fn run_durations() -> Histogram {
    // From 50 ms to about 14 minutes.
    Histogram::new(exponential_buckets(0.05, 2.0, 15))
}

impl Default for Metrics {
    fn default() -> Self {
        let mut metrics = Metrics {
            registry: Registry::with_prefix("allsync"),
            runs: Family::default(),
            changes: Family::default(),
            rejections: Family::default(),
            failures: Family::default(),
            guard_stops: Family::default(),
            retries: Family::default(),
            durations: Family::new_with_constructor(run_durations),
            last_success: Family::default(),
            reloads: Family::default(),
        };
        let registry = &mut metrics.registry;
        registry.register(
            "runs",
            "Runs of a job, by outcome (ok or failed)",
            metrics.runs.clone(),
        );
        registry.register(
            "changes",
            "Things added or removed, by job, destination and operation",
            metrics.changes.clone(),
        );
        registry.register(
            "rejections",
            "Things a destination's adapter refused to change",
            metrics.rejections.clone(),
        );
        registry.register(
            "failures",
            "Destinations that failed (could not be read or written)",
            metrics.failures.clone(),
        );
        registry.register(
            "guard_stops",
            "Destinations a guard (max_changes, the empty-source guard) stopped before any write",
            metrics.guard_stops.clone(),
        );
        registry.register(
            "http_retries",
            "HTTP requests the host retried for a job's adapters (429, 502/503/504, failed connections)",
            metrics.retries.clone(),
        );
        registry.register(
            "run_duration_seconds",
            "How long each run of a job took",
            metrics.durations.clone(),
        );
        registry.register(
            "last_success_timestamp_seconds",
            "When a destination was last synced without a failure or rejection (Unix time)",
            metrics.last_success.clone(),
        );
        registry.register(
            "config_reloads",
            "Config reloads, by outcome (ok, or failed and the previous config kept)",
            metrics.reloads.clone(),
        );
        metrics
    }
}

impl Metrics {
    /// Counts one run of `job` that took `took`: its report, or that it could not run.
    pub fn record_run(&self, job: &str, took: Duration, report: Option<&RunReport>) {
        let ok = report.is_some_and(RunReport::succeeded);
        let outcome = if ok { "ok" } else { "failed" };
        self.runs
            .get_or_create(&vec![
                ("job", job.to_string()),
                ("outcome", outcome.to_string()),
            ])
            .inc();
        self.durations
            .get_or_create(&vec![("job", job.to_string())])
            .observe(took.as_secs_f64());
        let Some(report) = report else { return };
        let retries: u64 = report
            .instances
            .iter()
            .map(|instance| instance.retries)
            .sum();
        self.retries
            .get_or_create(&vec![("job", job.to_string())])
            .inc_by(retries);
        let now = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0.0, |since| since.as_secs_f64());
        for destination in report.jobs.iter().flat_map(|job| &job.destinations) {
            let labels = vec![
                ("job", job.to_string()),
                ("destination", destination.name.clone()),
            ];
            for (operation, done) in [
                ("add", &destination.added),
                ("remove", &destination.removed),
            ] {
                let mut labels = labels.clone();
                labels.push(("operation", operation.to_string()));
                self.changes
                    .get_or_create(&labels)
                    .inc_by(done.len() as u64);
            }
            self.rejections
                .get_or_create(&labels)
                .inc_by(destination.rejected.len() as u64);
            match destination.status {
                Status::Failed | Status::Stale => {
                    self.failures.get_or_create(&labels).inc();
                }
                Status::Blocked => {
                    self.guard_stops.get_or_create(&labels).inc();
                }
                Status::Applied | Status::UpToDate if destination.rejected.is_empty() => {
                    self.last_success.get_or_create(&labels).set(now);
                }
                _ => {}
            }
        }
    }

    /// Counts a config reload.
    pub fn record_reload(&self, ok: bool) {
        let outcome = if ok { "ok" } else { "failed" };
        self.reloads
            .get_or_create(&vec![("outcome", outcome.to_string())])
            .inc();
    }

    /// Everything, in the OpenMetrics text format.
    pub fn render(&self) -> String {
        let mut text = String::new();
        encode(&mut text, &self.registry).expect("writing to a String cannot fail");
        text
    }
}
