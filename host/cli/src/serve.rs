//! `allsync serve`: every job on its own schedule, one run of a job at a
//! time, until SIGTERM or SIGINT; SIGHUP reloads the config (keeping the
//! old one if the new one is invalid); an HTTP listener serves a status
//! page at `/`, `/metrics`, `/healthz` and `/readyz`. Adapters stay
//! compiled and loaded in the session between runs.

use crate::app::{AppError, Locations, Selection, Session};
use crate::config::Job;
use crate::metrics::Metrics;
use crate::schedule::{Schedule, jittered};
use crate::shard::Shard;
use crate::status::{self, Board};
use allsync_engine::{Action, Stop};
use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse};
use axum::routing::get;
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;
use tokio::signal::unix::{SignalKind, signal};
use tokio::task::JoinSet;
use tokio::time::sleep_until;

/// What `allsync serve` was asked to serve.
pub struct ServeRequest {
    /// The config file, read again on SIGHUP.
    pub config: PathBuf,
    /// Where to find adapters and the cache.
    pub locations: Locations,
    /// Only this shard's jobs.
    pub shard: Option<Shard>,
}

/// What the HTTP listener reads.
struct Shared {
    metrics: Metrics,
    stop: Stop,
    board: Board,
}

/// When each job runs next, and which are running, posted on the status board.
struct Timetable {
    next: HashMap<String, tokio::time::Instant>,
    running: HashSet<String>,
    board: Board,
}

/// Serves until SIGTERM or SIGINT, after the runs under way have finished
/// their current adapter call.
pub async fn serve(request: ServeRequest) -> Result<(), AppError> {
    let stop = Stop::default();
    let mut session = open(&request, &stop).await?;
    let shared = Arc::new(Shared {
        metrics: Metrics::default(),
        stop: stop.clone(),
        board: Board::default(),
    });
    let listen = session.config().serve.listen;
    let listener = tokio::net::TcpListener::bind(listen).await.map_err(|err| {
        AppError::Invalid(format!(
            "cannot listen on {listen}: {err} (set [serve] listen in allsync.toml)"
        ))
    })?;
    let address = listener
        .local_addr()
        .map_err(|err| AppError::Invalid(err.to_string()))?;
    tracing::info!("listening on http://{address} (the status page; /metrics, /healthz, /readyz)");
    let http = tokio::spawn(listen_http(listener, shared.clone()));

    let signals = |kind| {
        signal(kind).map_err(|err| AppError::Invalid(format!("cannot watch signals: {err}")))
    };
    let (mut hangup, mut terminate, mut interrupt) = (
        signals(SignalKind::hangup())?,
        signals(SignalKind::terminate())?,
        signals(SignalKind::interrupt())?,
    );
    let mut timetable = Timetable {
        next: HashMap::new(),
        running: HashSet::new(),
        board: shared.board.clone(),
    };
    timetable.plan(&session, &request);
    let mut runs: JoinSet<String> = JoinSet::new();
    loop {
        let next = timetable.earliest();
        tokio::select! {
            _ = sleep_until(next) => {
                for job in timetable.due() {
                    runs.spawn(run_once(session.clone(), job, shared.clone()));
                }
            }
            Some(finished) = runs.join_next() => {
                let job = finished.expect("a run's task does not panic");
                timetable.finished(&session, &request, &job);
            }
            _ = hangup.recv() => {
                match open(&request, &stop).await {
                    Ok(reloaded) => {
                        tracing::info!("reloaded {}", request.config.display());
                        shared.metrics.record_reload(true);
                        session = reloaded;
                        timetable.plan(&session, &request);
                    }
                    Err(err) => {
                        tracing::error!("the config was not reloaded, the previous one is kept: {err}");
                        shared.metrics.record_reload(false);
                    }
                }
            }
            _ = terminate.recv() => break,
            _ = interrupt.recv() => break,
        }
    }
    tracing::info!(
        "stopping: no new write is begun; waiting for {} run(s) under way",
        runs.len()
    );
    stop.stop();
    while runs.join_next().await.is_some() {}
    http.abort();
    tracing::info!("stopped");
    Ok(())
}

/// Opens the config, checking that every job of the shard has a schedule.
async fn open(request: &ServeRequest, stop: &Stop) -> Result<Arc<Session>, AppError> {
    let session = Session::open(&request.config, &request.locations)
        .await?
        .stopped_by(stop.clone());
    let config = session.config();
    let unscheduled: Vec<String> = served_jobs(config.jobs.iter(), request.shard)
        .filter(|job| job.schedule.is_none() && config.serve.schedule.is_none())
        .map(|job| format!("job `{}` has no `schedule` (nor does [serve])", job.name))
        .collect();
    match unscheduled.is_empty() {
        true => Ok(Arc::new(session)),
        false => Err(AppError::Mismatch {
            file: config.file.clone(),
            problems: unscheduled,
        }),
    }
}

fn served_jobs<'a>(
    jobs: impl Iterator<Item = &'a Job>,
    shard: Option<Shard>,
) -> impl Iterator<Item = &'a Job> {
    jobs.filter(move |job| shard.is_none_or(|shard| shard.has(&job.name)))
}

/// Runs `job` once, counting what it did; returns its name.
async fn run_once(session: Arc<Session>, job: String, shared: Arc<Shared>) -> String {
    let started = Instant::now();
    let selection = Selection {
        job: Some(job.clone()),
        shard: None,
    };
    shared.board.started(&job);
    match session.run(Action::Apply, &selection).await {
        Ok(report) => {
            shared
                .metrics
                .record_run(&job, started.elapsed(), Some(&report));
            shared.board.finished(&job, started.elapsed(), Ok(&report));
            for destination in report.jobs.iter().flat_map(|job| &job.destinations) {
                let changes = destination.added.len() + destination.removed.len();
                match &destination.error {
                    Some(error) => tracing::warn!(
                        job = %job, destination = %destination.name,
                        "{} after {changes} changes: {error}", status::word(destination.status)
                    ),
                    None => tracing::info!(
                        job = %job, destination = %destination.name,
                        "{}: {changes} changes, {} rejected", status::word(destination.status), destination.rejected.len()
                    ),
                }
            }
        }
        Err(err) => {
            shared.metrics.record_run(&job, started.elapsed(), None);
            shared.board.finished(
                &job,
                started.elapsed(),
                Err(format!("could not run: {err}")),
            );
            tracing::error!(job = %job, "could not run: {err}");
        }
    }
    job
}

impl Timetable {
    /// Schedules every job of `session` that is not running, from now.
    fn plan(&mut self, session: &Session, request: &ServeRequest) {
        let config = session.config();
        let jobs: Vec<&Job> = served_jobs(config.jobs.iter(), request.shard).collect();
        self.board.configure(
            config.file.clone(),
            config.audit.as_ref().map(|audit| audit.file.clone()),
            jobs.iter()
                .map(|job| (job.name.clone(), schedule_of(session, job).to_string()))
                .collect(),
        );
        self.next
            .retain(|name, _| jobs.iter().any(|job| job.name == *name));
        for job in jobs {
            if !self.running.contains(&job.name) {
                self.schedule(session, job);
            }
        }
    }

    /// Schedules `job` after the run that just finished, if it is still served.
    fn finished(&mut self, session: &Session, request: &ServeRequest, job: &str) {
        self.running.remove(job);
        match served_jobs(session.config().jobs.iter(), request.shard).find(|j| j.name == job) {
            Some(job) => self.schedule(session, job),
            None => {
                self.next.remove(job);
            }
        }
    }

    fn schedule(&mut self, session: &Session, job: &Job) {
        let first = !self.next.contains_key(&job.name);
        let serve = &session.config().serve;
        let schedule = schedule_of(session, job);
        let now = chrono::Utc::now();
        let wait = match first {
            true => schedule.first_wait(now),
            false => schedule.wait(now),
        } + jittered(job.jitter.unwrap_or(serve.jitter));
        let at = tokio::time::Instant::now()
            .checked_add(wait)
            .unwrap_or_else(far_future);
        tracing::debug!(job = %job.name, "next run in {}", humantime::format_duration(wait));
        if let Some(at) = chrono::TimeDelta::from_std(wait)
            .ok()
            .and_then(|wait| now.checked_add_signed(wait))
        {
            self.board.next_run(&job.name, at);
        }
        self.next.insert(job.name.clone(), at);
    }

    /// When the next job that is not running is due.
    fn earliest(&self) -> tokio::time::Instant {
        self.next
            .iter()
            .filter(|(name, _)| !self.running.contains(*name))
            .map(|(_, at)| *at)
            .min()
            .unwrap_or_else(far_future)
    }

    /// The jobs due now, marked running.
    fn due(&mut self) -> Vec<String> {
        let now = tokio::time::Instant::now();
        let due: Vec<String> = self
            .next
            .iter()
            .filter(|(name, at)| **at <= now && !self.running.contains(*name))
            .map(|(name, _)| name.clone())
            .collect();
        self.running.extend(due.iter().cloned());
        due
    }
}

/// The schedule `job` runs on: its own, else `[serve]`'s.
fn schedule_of<'a>(session: &'a Session, job: &'a Job) -> &'a Schedule {
    job.schedule
        .as_ref()
        .or(session.config().serve.schedule.as_ref())
        .expect("checked when the config was opened")
}

fn far_future() -> tokio::time::Instant {
    tokio::time::Instant::now() + std::time::Duration::from_secs(365 * 24 * 3600)
}

async fn listen_http(listener: tokio::net::TcpListener, shared: Arc<Shared>) {
    let router = Router::new()
        .route("/", get(status_page))
        .route("/metrics", get(metrics))
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(readiness))
        .with_state(shared);
    if let Err(err) = axum::serve(listener, router).await {
        tracing::error!("the HTTP listener failed: {err}");
    }
}

async fn metrics(State(shared): State<Arc<Shared>>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        shared.metrics.render(),
    )
}

/// The status page, off the async threads: it reads the audit log.
async fn status_page(State(shared): State<Arc<Shared>>) -> impl IntoResponse {
    let board = shared.board.clone();
    let page = tokio::task::spawn_blocking(move || board.page())
        .await
        .unwrap_or_else(|err| format!("the status page failed: {err}"));
    ([(header::CACHE_CONTROL, "no-store")], Html(page))
}

async fn readiness(State(shared): State<Arc<Shared>>) -> impl IntoResponse {
    match shared.stop.is_stopped() {
        false => (StatusCode::OK, "ready\n"),
        true => (StatusCode::SERVICE_UNAVAILABLE, "stopping\n"),
    }
}
