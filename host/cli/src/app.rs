//! What the CLI asks for, done: a config checked against the adapters in the
//! plugins folder, each job's adapter instances started with their grants,
//! and the engine run over them.

use crate::audit::{AuditError, AuditLog};
use crate::config::{
    ClientAuth, Config, ConfigError, CredentialsConfig, DirectoryConfig, Endpoint, Job,
};
use crate::conformance::{self, Check};
use crate::lock::{self, Lock, LockError};
use crate::progress::Progress;
use crate::saved::{ConfigId, Expectations, SavedPlan, SavedPlanError};
use crate::shard::Shard;
use allsync_engine::{self as engine, Action, AdapterError, JobReport, Status};
use allsync_runtime::{
    Activity, Budgets, CacheLocation, Catalog, CredentialSpec, Credentials, DirectoryGrant,
    GrantAdvice, Grants, HttpGrant, Limits, Listing, OriginPattern, Pins, Plugin, Runtime,
    RuntimeError, Secrets, WasmAdapter,
};
use futures_util::{StreamExt, stream};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Where to find things, as given on the command line or in the environment.
#[derive(Debug, Clone, Default)]
pub struct Locations {
    /// `--plugins-dir`: overrides the config's `plugins_dir` and `./plugins`.
    pub plugins_dir: Option<PathBuf>,
    /// Where compiled components are cached; `None` disables the cache.
    pub cache: Option<CacheLocation>,
}

/// Why a command could not run at all.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The config file is unreadable or malformed.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The config does not fit the adapters (unknown adapter, missing key, bad grant, ...).
    #[error("{file}: {}", problems.join("\n  "))]
    Mismatch {
        /// The config file.
        file: PathBuf,
        /// Every problem found, each saying where.
        problems: Vec<String>,
    },
    /// No adapter (or more than one) has the name asked for.
    #[error("{0}")]
    UnknownAdapter(String),
    /// What the command line gave cannot be used.
    #[error("{0}")]
    Invalid(String),
    /// The plugins folder or an adapter file could not be read or loaded.
    #[error(transparent)]
    Plugin(#[from] RuntimeError),
    /// The audit log could not be opened: nothing was run.
    #[error(transparent)]
    Audit(#[from] AuditError),
    /// A saved plan could not be written or read.
    #[error(transparent)]
    SavedPlan(#[from] SavedPlanError),
    /// The lock file could not be read or written.
    #[error(transparent)]
    Lock(#[from] LockError),
    /// A saved plan no longer holds: nothing was changed.
    #[error(
        "the saved plan no longer holds, so nothing was changed:\n  {}",
        .0.join("\n  ")
    )]
    Stale(Vec<String>),
}

/// An adapter, as the audit log and saved plans identify it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdapterId {
    /// Its name.
    pub name: String,
    /// Its version, as it describes itself.
    pub version: String,
    /// The sha256 of its file.
    pub sha256: String,
}

impl From<&Plugin> for AdapterId {
    fn from(plugin: &Plugin) -> Self {
        AdapterId {
            name: plugin.info.name.clone(),
            version: plugin.info.version.clone(),
            sha256: plugin.sha256.clone(),
        }
    }
}

/// Which jobs of the config a run covers.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// Only the job of this name.
    pub job: Option<String>,
    /// Only the jobs of this shard.
    pub shard: Option<Shard>,
}

/// Everything one `plan` or `sync` did, job by job.
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    /// `plan` or `sync`.
    pub action: &'static str,
    /// One report per job run.
    pub jobs: Vec<JobReport>,
    /// What each adapter instance of those jobs was granted, and its retries.
    pub instances: Vec<InstanceReport>,
}

impl RunReport {
    /// Whether every destination is up to date or was synced, with nothing rejected.
    pub fn succeeded(&self) -> bool {
        self.jobs
            .iter()
            .flat_map(|job| &job.destinations)
            .all(|destination| {
                matches!(destination.status, Status::Applied | Status::UpToDate)
                    && destination.rejected.is_empty()
            })
    }
}

/// The effective grants and limits of one adapter instance, and the HTTP
/// retries the host made for it.
#[derive(Debug, Clone, Serialize)]
pub struct InstanceReport {
    /// e.g. "job `team` destination `slack`".
    pub instance: String,
    /// The adapter's name.
    pub adapter: String,
    /// Origins it may reach; "(private addresses allowed)" marks exact grants.
    pub http: Vec<String>,
    /// The directory it sees as `/`, if any.
    pub directory: Option<PathBuf>,
    /// Whether it may write there in this run.
    pub writable: bool,
    /// Whether it may write there in a sync (a plan writes nowhere).
    pub writable_in_sync: bool,
    /// Where the tokens the host adds to its requests come from, if anywhere.
    pub credentials: Option<String>,
    /// Its resource limits.
    pub limits: Limits,
    /// HTTP requests the host retried for it (429, 502/503/504, failed connections).
    pub retries: u64,
}

/// A checked config, with the runtime and the adapters it uses.
pub struct Session {
    config: Config,
    runtime: Runtime,
    /// Each adapter the config names, loaded, or why it could not be.
    plugins: HashMap<String, Result<Arc<Plugin>, String>>,
    pins: Pins,
    /// Each list's target, shared by every run of the session, so instances
    /// that share a list run one at a time even across runs.
    targets: Arc<Targets>,
    /// Once set, no run of the session begins another write.
    stop: engine::Stop,
    /// The request budgets every instance of the session shares.
    budgets: Budgets,
    /// `allsync.lock` beside the config, if there is one.
    lock: Option<Lock>,
    /// Where each instance's activity is shown as it runs.
    progress: Progress,
}

/// Loads the adapters `config` names, and only those, several at once.
async fn plugins_of(
    config: &Config,
    catalog: &Catalog,
    runtime: &Runtime,
) -> HashMap<String, Result<Arc<Plugin>, String>> {
    let mut names: Vec<&str> = config
        .jobs
        .iter()
        .flat_map(Job::endpoints)
        .map(|endpoint| endpoint.adapter.as_str())
        .collect();
    names.sort_unstable();
    names.dedup();
    let found =
        futures_util::future::join_all(names.iter().map(|name| catalog.find(runtime, name))).await;
    names.into_iter().map(String::from).zip(found).collect()
}

/// One adapter instance, ready to start.
struct Instance<'a> {
    label: String,
    plugin: &'a Plugin,
    grants: Grants,
    limits: Limits,
    config: Vec<(String, String)>,
    secrets: Secrets,
    list: ListKey,
    writable_in_sync: bool,
}

/// The list an instance reads or writes, as far as allsync can tell: the
/// adapter, its config with the secret values left out (two tokens for one
/// group are still one group), and its directory.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct ListKey {
    adapter: String,
    config: Vec<(String, String)>,
    directory: Option<PathBuf>,
}

impl ListKey {
    /// What instances that must not run side by side share: the folder, for
    /// instances with one (files in one folder may be links to each other,
    /// or spelt two ways), else the list itself.
    fn lock(&self) -> ListKey {
        match &self.directory {
            Some(directory) => ListKey {
                adapter: String::new(),
                config: Vec::new(),
                directory: Some(directory.clone()),
            },
            None => self.clone(),
        }
    }
}

impl Instance<'_> {
    fn report(&self, retries: u64) -> InstanceReport {
        InstanceReport {
            instance: self.label.clone(),
            adapter: self.plugin.info.name.clone(),
            http: self
                .grants
                .http
                .iter()
                .map(|grant| match grant.private {
                    true => format!("{} (private addresses allowed)", grant.pattern),
                    false => grant.pattern.to_string(),
                })
                .collect(),
            directory: self
                .grants
                .directory
                .as_ref()
                .map(|directory| directory.path.clone()),
            writable: self
                .grants
                .directory
                .as_ref()
                .is_some_and(|directory| directory.writable),
            writable_in_sync: self.writable_in_sync,
            credentials: self
                .grants
                .credentials
                .as_ref()
                .map(|credentials| credentials.describe().to_string()),
            limits: self.limits.clone(),
            retries,
        }
    }
}

impl Session {
    /// Loads `config_file` and the plugins folder, and checks every job
    /// against the adapters, reporting every problem at once.
    pub async fn open(config_file: &Path, locations: &Locations) -> Result<Self, AppError> {
        let config = Config::load(config_file, |name| std::env::var(name).ok())?;
        let plugins_dir = locations
            .plugins_dir
            .clone()
            .or_else(|| config.plugins_dir.clone())
            .unwrap_or_else(|| PathBuf::from("plugins"));
        let fuel = config
            .jobs
            .iter()
            .flat_map(Job::endpoints)
            .any(|endpoint| endpoint.limits.fuel.is_some());
        let runtime = Runtime::new(locations.cache.as_ref(), fuel)?;
        let catalog = Catalog::open(&runtime, &plugins_dir)?;
        let plugins = plugins_of(&config, &catalog, &runtime).await;
        catalog.save_index();
        let pins = Pins::new(config.resolve.clone());
        let config_rates = config.rate_limits.clone();
        let lock = Lock::read(&lock::beside(&config.file))?;
        let session = Session {
            config,
            runtime,
            plugins,
            pins,
            targets: Arc::default(),
            stop: engine::Stop::default(),
            budgets: Budgets::new(config_rates),
            lock,
            progress: Progress::off(),
        };
        let mut problems: Vec<String> = session
            .config
            .jobs
            .iter()
            .flat_map(|job| {
                session
                    .instances(job, Action::Apply)
                    .err()
                    .unwrap_or_default()
            })
            .collect();
        if problems.is_empty() {
            problems.extend(session.conflicting_destinations());
        }
        match problems.is_empty() {
            true => Ok(session),
            false => Err(AppError::Mismatch {
                file: session.config.file.clone(),
                problems,
            }),
        }
    }

    /// The session, whose runs stop before their next write once `stop` is set.
    pub fn stopped_by(self, stop: engine::Stop) -> Self {
        Session { stop, ..self }
    }

    /// The session, showing each instance's activity in `progress` as it runs.
    pub fn with_progress(self, progress: Progress) -> Self {
        Session { progress, ..self }
    }

    /// The checked config.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Plans or syncs the jobs `selection` picks.
    pub async fn run(
        self: &Arc<Self>,
        action: Action,
        selection: &Selection,
    ) -> Result<RunReport, AppError> {
        let jobs = self.select(selection)?;
        self.run_jobs(action, jobs, None).await
    }

    /// The config's jobs that `selection` picks, in config order.
    fn select(&self, selection: &Selection) -> Result<Vec<Job>, AppError> {
        let mismatch = |problem: String| AppError::Mismatch {
            file: self.config.file.clone(),
            problems: vec![problem],
        };
        let jobs: Vec<Job> = match &selection.job {
            Some(name) => vec![self.config.job(name).map_err(mismatch)?.clone()],
            None => self.config.jobs.clone(),
        };
        match (selection.shard, &selection.job) {
            (Some(shard), Some(name)) if !shard.has(name) => Err(AppError::Invalid(format!(
                "job `{name}` is not in shard {shard}: drop --job or --shard"
            ))),
            (Some(shard), _) => Ok(jobs
                .into_iter()
                .filter(|job| shard.has(&job.name))
                .collect()),
            (None, _) => Ok(jobs),
        }
    }

    /// Applies a saved plan: exactly its changes, after re-reading every
    /// source and destination it covers; if anything it depends on has
    /// changed (the config, an adapter file, a plan), nothing is changed.
    pub async fn apply_saved(self: &Arc<Self>, saved: &SavedPlan) -> Result<RunReport, AppError> {
        let drift = saved.file_drift(&self.config_id(), &self.adapters());
        if !drift.is_empty() {
            return Err(AppError::Stale(drift));
        }
        let jobs: Vec<Job> = saved
            .job_names()
            .iter()
            .map(|name| self.config.job(name).cloned())
            .collect::<Result<_, _>>()
            .map_err(|problem| AppError::Stale(vec![problem]))?;
        let expected = Arc::new(saved.expectations());
        let check = self
            .run_jobs(Action::Plan, jobs.clone(), Some(expected.clone()))
            .await?;
        let drift = stale(&check);
        if !drift.is_empty() {
            return Err(AppError::Stale(drift));
        }
        self.run_jobs(Action::Apply, jobs, Some(expected)).await
    }

    /// Saves the plan `report` shows (of a `plan` run of this session).
    pub fn save_plan(&self, report: &RunReport, path: &Path) -> Result<(), AppError> {
        let adapter_of = |job: &str, destination: &str| {
            self.config
                .job(job)
                .ok()
                .and_then(|job| job.destinations.iter().find(|d| d.name == destination))
                .map(|destination| destination.endpoint.adapter.clone())
                .unwrap_or_default()
        };
        let saved = SavedPlan::new(report, self.config_id(), self.adapters(), adapter_of);
        Ok(saved.write(path)?)
    }

    /// The config file, as a saved plan names it.
    fn config_id(&self) -> ConfigId {
        ConfigId {
            path: self.config.file.clone(),
            sha256: self.config.sha256.clone(),
        }
    }

    /// Every adapter the config uses, by name.
    pub fn adapters(&self) -> Vec<AdapterId> {
        let mut adapters: Vec<AdapterId> = self
            .plugins
            .values()
            .filter_map(|plugin| plugin.as_deref().ok().map(AdapterId::from))
            .collect();
        adapters.sort_by(|a, b| a.name.cmp(&b.name));
        adapters
    }

    /// Plans or syncs `jobs`, each destination held to the changes in
    /// `expected` if given.
    ///
    /// Up to `concurrency` jobs run at once, each a task of its own, so
    /// adapters that compute (rather than wait on the network) use every core.
    async fn run_jobs(
        self: &Arc<Self>,
        action: Action,
        jobs: Vec<Job>,
        expected: Option<Arc<Expectations>>,
    ) -> Result<RunReport, AppError> {
        let audit = match (&self.config.audit, action) {
            (Some(config), Action::Apply) => Some(AuditLog::open(
                config,
                if expected.is_some() { "apply" } else { "sync" },
            )?),
            _ => None,
        };
        let concurrency = self.config.concurrency;
        let outcomes: Vec<(JobReport, Vec<InstanceReport>)> = stream::iter(jobs)
            .map(|job| {
                let context = JobContext {
                    targets: self.targets.clone(),
                    audit: audit.clone(),
                    expected: expected.clone(),
                };
                let session = self.clone();
                tokio::spawn(async move { session.run_job(&job, action, &context).await })
            })
            .buffered(concurrency)
            .map(|finished| finished.expect("a job's task does not panic"))
            .collect()
            .await;
        let (reports, instances): (Vec<JobReport>, Vec<Vec<InstanceReport>>) =
            outcomes.into_iter().unzip();
        let instances = instances.into_iter().flatten().collect();
        Ok(RunReport {
            action: match action {
                Action::Plan => "plan",
                Action::Apply => "sync",
            },
            jobs: reports,
            instances,
        })
    }

    async fn run_job(
        &self,
        job: &Job,
        action: Action,
        context: &JobContext,
    ) -> (JobReport, Vec<InstanceReport>) {
        let (sources, destinations) = self
            .instances(job, action)
            .expect("checked when the session opened");
        let activities: Vec<Activity> = sources
            .iter()
            .chain(&destinations)
            .map(|instance| self.progress.track(&instance.label))
            .collect();
        let (source_activities, destination_activities) = activities.split_at(sources.len());
        let mut list = Vec::with_capacity(sources.len());
        for ((source, instance), activity) in
            job.sources.iter().zip(&sources).zip(source_activities)
        {
            let started = engine::Source {
                adapter: self.start(instance, activity).await,
                target: context.targets.of(&instance.list),
            };
            list.push((source.blend.clone(), started));
        }
        let lazy = job
            .destinations
            .iter()
            .zip(&destinations)
            .zip(destination_activities)
            .map(|((destination, instance), activity)| engine::Destination {
                name: destination.name.clone(),
                options: job.options_for(destination),
                adapter: Box::pin(self.start(instance, activity)),
                target: context.targets.of(&instance.list),
                expected: context.expected.as_ref().map(|expected| {
                    expected
                        .get(&(job.name.clone(), destination.name.clone()))
                        .cloned()
                        .unwrap_or_default()
                }),
                journal: context.audit.as_ref().map(|audit| {
                    audit.journal(&job.name, &destination.name, instance.plugin.into())
                }),
                stop: self.stop.clone(),
            })
            .collect();
        let sources_of_job = engine::Sources {
            list,
            combine: job.combine,
            case_sensitive: job.case_sensitive(),
        };
        let report = engine::run_job(
            &job.name,
            sources_of_job,
            lazy,
            action,
            self.config.concurrency,
        )
        .await;
        let instances = sources
            .iter()
            .chain(&destinations)
            .zip(&activities)
            .map(|(instance, activity)| {
                self.progress.finish(&instance.label);
                instance.report(activity.retries())
            })
            .collect();
        (report, instances)
    }

    /// Starts `instance`, recording what it does in `activity`.
    async fn start(
        &self,
        instance: &Instance<'_>,
        activity: &Activity,
    ) -> Result<WasmAdapter, AdapterError> {
        tracing::debug!("starting {}", instance.label);
        self.runtime
            .start(
                instance.plugin,
                &instance.label,
                &instance.grants,
                &instance.limits,
                &instance.config,
                instance.secrets.clone(),
                activity.clone(),
            )
            .await
    }

    /// Destinations in this config that write the same list and would undo
    /// each other's changes (one of them removes), each pair as a problem.
    fn conflicting_destinations(&self) -> Vec<String> {
        // Each list written, in config order, with its writers and whether one removes.
        let mut lists: Vec<(ListKey, Vec<String>, bool)> = Vec::new();
        for job in &self.config.jobs {
            let (_, instances) = self
                .instances(job, Action::Apply)
                .expect("checked just before");
            for (destination, instance) in job.destinations.iter().zip(instances) {
                let removes = job.options_for(destination).mode.removes();
                match lists.iter_mut().find(|(list, _, _)| *list == instance.list) {
                    Some((_, writers, any_removes)) => {
                        writers.push(instance.label);
                        *any_removes |= removes;
                    }
                    None => lists.push((instance.list, vec![instance.label], removes)),
                }
            }
        }
        lists
            .into_iter()
            .filter(|(_, writers, removes)| writers.len() > 1 && *removes)
            .map(|(list, writers, _)| {
                format!(
                    "{} write the same list ({} with the same config and directory); with removals, \
                     each run would undo the other's changes: sync it from one job with one source, \
                     or make them all add-only",
                    and_list(&writers),
                    list.adapter
                )
            })
            .collect()
    }

    /// The job's source and destination instances, or every problem found.
    /// A plan's instances may not write in their directories.
    #[allow(clippy::type_complexity)]
    fn instances<'a>(
        &'a self,
        job: &Job,
        action: Action,
    ) -> Result<(Vec<Instance<'a>>, Vec<Instance<'a>>), Vec<String>> {
        let sources: Vec<Result<Instance, String>> = job
            .sources
            .iter()
            .map(|source| {
                let label = match job.sources.len() {
                    1 => format!("job `{}` source", job.name),
                    _ => format!("job `{}` source `{}`", job.name, source.blend.name),
                };
                self.instance(&source.endpoint, label, Role::Source)
            })
            .collect();
        let role = match action {
            Action::Plan => Role::PlannedDestination,
            Action::Apply => Role::Destination,
        };
        let destinations: Vec<Result<Instance, String>> = job
            .destinations
            .iter()
            .map(|destination| {
                self.instance(
                    &destination.endpoint,
                    format!("job `{}` destination `{}`", job.name, destination.name),
                    role,
                )
            })
            .collect();
        let problems: Vec<String> = sources
            .iter()
            .chain(&destinations)
            .filter_map(|instance| instance.as_ref().err().cloned())
            .collect();
        match problems.is_empty() {
            true => Ok((
                sources.into_iter().map(Result::unwrap).collect(),
                destinations.into_iter().map(Result::unwrap).collect(),
            )),
            false => Err(problems),
        }
    }

    fn instance<'a>(
        &'a self,
        endpoint: &Endpoint,
        label: String,
        role: Role,
    ) -> Result<Instance<'a>, String> {
        let fail = |problem: String| format!("{label}: {problem}");
        let plugin = self.plugins[&endpoint.adapter]
            .as_deref()
            .map_err(|err| fail(err.clone()))?;
        let info = &plugin.info;
        if role != Role::Source && info.read_only {
            return Err(fail(format!(
                "the `{}` adapter is read-only: it can only be a source",
                info.name
            )));
        }
        if let Some(pinned) = endpoint
            .sha256
            .as_deref()
            .filter(|pinned| *pinned != plugin.sha256)
        {
            return Err(fail(format!(
                "refusing {}: its sha256 is {}, but allsync.toml pins {pinned}",
                plugin.path.display(),
                plugin.sha256
            )));
        }
        if let Some(refused) = self
            .lock
            .as_ref()
            .and_then(|lock| lock.refusal(&info.name, &plugin.sha256))
        {
            return Err(fail(format!(
                "refusing {}: {refused}",
                plugin.path.display()
            )));
        }
        check_keys(plugin, endpoint).map_err(fail)?;
        let mut grants = grants(plugin, endpoint, &self.pins).map_err(fail)?;
        let writable_in_sync = role != Role::Source
            && grants
                .directory
                .as_ref()
                .is_some_and(|directory| directory.writable);
        if let Some(directory) = grants.directory.as_mut() {
            directory.writable &= role == Role::Destination;
        }
        grants.budgets = self.budgets.clone();
        grants.credentials = endpoint
            .credentials
            .as_ref()
            .map(|config| credentials(config, &label, &self.pins))
            .transpose()
            .map_err(fail)?;
        let secrets = plugin.secrets(&endpoint.config).map_err(fail)?;
        let list = ListKey {
            adapter: info.name.clone(),
            config: endpoint
                .config
                .iter()
                .filter(|(name, _)| !plugin.is_secret(name))
                .map(|(name, value)| (name.clone(), value.clone()))
                .collect(),
            directory: grants
                .directory
                .as_ref()
                .map(|directory| canonical(&directory.path)),
        };
        Ok(Instance {
            label,
            plugin,
            grants,
            limits: endpoint.limits.clone(),
            config: endpoint.config.clone().into_iter().collect(),
            secrets,
            list,
            writable_in_sync,
        })
    }
}

/// The credentials `config` describes, for the instance `label`, with
/// their key files read; errors never quote a key.
fn credentials(
    config: &CredentialsConfig,
    label: &str,
    pins: &Pins,
) -> Result<Arc<Credentials>, String> {
    let read = |path: &Path| {
        std::fs::read_to_string(path)
            .map_err(|err| format!("credentials: cannot read {}: {err}", path.display()))
    };
    let spec = match config.clone() {
        CredentialsConfig::ClientCredentials {
            token_url,
            client_id,
            client_secret,
            scope,
            client_auth,
        } => CredentialSpec::ClientCredentials {
            token_url,
            client_id,
            client_secret,
            scope,
            basic_auth: client_auth == ClientAuth::Basic,
        },
        CredentialsConfig::GoogleServiceAccount {
            key_file,
            subject,
            scopes,
        } => CredentialSpec::GoogleServiceAccount {
            key: read(&key_file)?,
            subject,
            scopes,
        },
        CredentialsConfig::GithubApp {
            app_id,
            installation_id,
            private_key_file,
            api_url,
        } => CredentialSpec::GitHubApp {
            app_id,
            installation_id,
            private_key: read(&private_key_file)?,
            api_url: api_url.unwrap_or_else(|| "https://api.github.com".into()),
        },
    };
    Credentials::new(spec, label, pins.clone())
        .map(Arc::new)
        .map_err(|err| format!("credentials: {err}"))
}

/// "a and b", "a, b and c".
fn and_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// What an instance is for, which decides what it may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    /// It is read from; its directory is read-only.
    Source,
    /// It is written to in a sync.
    Destination,
    /// A destination in a plan: only read, so its directory is read-only too.
    PlannedDestination,
}

/// What every job of one run shares: the lists' targets, the audit log,
/// and the changes a saved plan expects.
struct JobContext {
    targets: Arc<Targets>,
    audit: Option<Arc<AuditLog>>,
    expected: Option<Arc<Expectations>>,
}

/// The destinations of `report` that a saved plan no longer holds for, each
/// with why.
fn stale(report: &RunReport) -> Vec<String> {
    report
        .jobs
        .iter()
        .flat_map(|job| {
            job.destinations
                .iter()
                .filter(|destination| destination.status == Status::Stale)
                .map(move |destination| {
                    format!(
                        "job `{}` destination `{}`: {}",
                        job.name,
                        destination.name,
                        destination.error.as_deref().unwrap_or("stale")
                    )
                })
        })
        .collect()
}

/// The [`engine::Target`] of each list in one run, so that instances of
/// any job that share a list are run one at a time.
#[derive(Default)]
struct Targets(std::sync::Mutex<HashMap<ListKey, engine::Target>>);

impl Targets {
    fn of(&self, list: &ListKey) -> engine::Target {
        let mut targets = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        targets.entry(list.lock()).or_default().clone()
    }
}

/// `path` with links and `..` resolved, so two spellings of one folder are one.
fn canonical(path: &Path) -> PathBuf {
    path.canonicalize().unwrap_or_else(|_| path.to_path_buf())
}

/// Every required key is set and every key set is one the adapter knows.
fn check_keys(plugin: &Plugin, endpoint: &Endpoint) -> Result<(), String> {
    let info = &plugin.info;
    let known: Vec<&str> = info.config.iter().map(|key| key.name.as_str()).collect();
    if let Some(unknown) = endpoint
        .config
        .keys()
        .find(|key| !known.contains(&key.as_str()))
    {
        return Err(format!(
            "config key `{unknown}` is not one the `{}` adapter knows (its keys: {})",
            info.name,
            if known.is_empty() {
                "none".to_string()
            } else {
                known.join(", ")
            }
        ));
    }
    match info
        .config
        .iter()
        .find(|key| key.required && !endpoint.config.contains_key(&key.name))
    {
        Some(missing) => Err(format!(
            "config key `{}` is required by the `{}` adapter: {}",
            missing.name, info.name, missing.description
        )),
        None => Ok(()),
    }
}

/// What the instance may reach: `allowed_hosts` if set (an exact entry may
/// reach private addresses), else the origins the adapter declares (public
/// addresses only; none at all if it declares a wildcard); and its directory.
fn grants(plugin: &Plugin, endpoint: &Endpoint, pins: &Pins) -> Result<Grants, String> {
    let http = match &endpoint.allowed_hosts {
        Some(hosts) => hosts
            .iter()
            .map(|host| {
                let pattern =
                    OriginPattern::parse(host).map_err(|err| format!("allowed_hosts: {err}"))?;
                Ok(HttpGrant {
                    private: !pattern.is_wildcard(),
                    pattern,
                })
            })
            .collect::<Result<Vec<_>, String>>()?,
        None => declared_origins(plugin)
            .into_iter()
            .map(|pattern| HttpGrant {
                pattern,
                private: false,
            })
            .collect(),
    };
    let directory = match &endpoint.directory {
        None => None,
        Some(directory) if directory.path.is_dir() => Some(DirectoryGrant {
            path: directory.path.clone(),
            writable: directory.writable,
        }),
        Some(directory) => {
            return Err(format!(
                "directory {} does not exist or is not a folder",
                directory.path.display()
            ));
        }
    };
    Ok(Grants {
        http,
        directory,
        resolve: pins.clone(),
        advice: GrantAdvice::ConfigFile,
        ..Grants::default()
    })
}

/// The origins an adapter declares, if all are exact; otherwise none.
fn declared_origins(plugin: &Plugin) -> Vec<OriginPattern> {
    let declared: Result<Vec<OriginPattern>, String> = plugin
        .info
        .hosts
        .iter()
        .map(|host| OriginPattern::parse(host))
        .collect();
    match declared {
        Ok(origins) if origins.iter().all(|origin| !origin.is_wildcard()) => origins,
        Ok(_) => {
            tracing::warn!(
                "the `{}` adapter declares wildcard hosts; grant it origins with allowed_hosts",
                plugin.info.name
            );
            Vec::new()
        }
        Err(err) => {
            tracing::warn!(
                "the `{}` adapter declares an unusable host: {err}",
                plugin.info.name
            );
            Vec::new()
        }
    }
}

/// Loads every adapter of the plugins folder, for listing.
pub async fn list_plugins(locations: &Locations) -> Result<Listing, AppError> {
    let (runtime, catalog) = open_catalog(locations)?;
    let listing = catalog.list(&runtime).await;
    catalog.save_index();
    Ok(listing)
}

/// Loads one adapter, by file path (anything ending in `.wasm`) or by name
/// from the plugins folder.
pub async fn inspect(target: &str, locations: &Locations) -> Result<Arc<Plugin>, AppError> {
    if target.ends_with(".wasm") {
        let runtime = Runtime::new(locations.cache.as_ref(), false)?;
        return Ok(Arc::new(runtime.load(Path::new(target)).await?));
    }
    let (runtime, catalog) = open_catalog(locations)?;
    let plugin = catalog.find(&runtime, target).await;
    catalog.save_index();
    plugin.map_err(AppError::UnknownAdapter)
}

/// The runtime, and the catalog of the plugins folder given on the command line.
fn open_catalog(locations: &Locations) -> Result<(Runtime, Catalog), AppError> {
    let runtime = Runtime::new(locations.cache.as_ref(), false)?;
    let dir = locations
        .plugins_dir
        .clone()
        .unwrap_or_else(|| PathBuf::from("plugins"));
    let catalog = Catalog::open(&runtime, &dir)?;
    Ok((runtime, catalog))
}

/// Copies the adapter at `file` into the plugins folder (as `NAME.wasm`)
/// once it loads, and pins it in `lock_file`; returns what was pinned.
pub async fn add_plugin(
    file: &Path,
    lock_file: &Path,
    locations: &Locations,
) -> Result<AdapterId, AppError> {
    let plugin = inspect(&file.to_string_lossy(), locations).await?;
    let adapter = AdapterId::from(&*plugin);
    let dir = locations
        .plugins_dir
        .clone()
        .unwrap_or_else(|| PathBuf::from("plugins"));
    let copied = dir.join(format!("{}.wasm", adapter.name));
    std::fs::create_dir_all(&dir)
        .and_then(|()| std::fs::copy(file, &copied))
        .map_err(|err| {
            AppError::Invalid(format!(
                "cannot copy {} to {}: {err}",
                file.display(),
                copied.display()
            ))
        })?;
    let lock = Lock::read(lock_file)?.unwrap_or_default();
    lock.with(adapter.clone()).write(lock_file)?;
    Ok(adapter)
}

/// Pins every adapter of the plugins folder in `lock_file`.
pub async fn lock_plugins(lock_file: &Path, locations: &Locations) -> Result<Listing, AppError> {
    let listing = list_plugins(locations).await?;
    let pinned = listing
        .plugins
        .iter()
        .map(|plugin| AdapterId::from(&**plugin))
        .collect();
    Lock::of(pinned).write(lock_file)?;
    Ok(listing)
}

/// What `allsync test-adapter` was given.
pub struct TestRequest {
    /// The component.
    pub file: PathBuf,
    /// The config for `init`.
    pub config: Vec<(String, String)>,
    /// `--allow-host` origins; none means those the adapter declares.
    pub allowed_hosts: Vec<String>,
    /// A directory to grant, and whether it is writable.
    pub directory: Option<(PathBuf, bool)>,
    /// Whether `add` and `remove` may be tested.
    pub sandbox: bool,
    /// The thing to add and remove.
    pub probe: String,
}

/// Loads a component and runs the conformance checks on it.
pub async fn test_adapter(
    request: TestRequest,
    locations: &Locations,
) -> Result<(Plugin, Vec<Check>), AppError> {
    let runtime = Runtime::new(locations.cache.as_ref(), false)?;
    let plugin = runtime.load(&request.file).await?;
    let endpoint = Endpoint {
        adapter: plugin.info.name.clone(),
        config: request.config.iter().cloned().collect(),
        allowed_hosts: (!request.allowed_hosts.is_empty()).then_some(request.allowed_hosts),
        directory: request
            .directory
            .map(|(path, writable)| DirectoryConfig { path, writable }),
        limits: Limits::default(),
        sha256: None,
        credentials: None,
    };
    let grants = Grants {
        advice: GrantAdvice::CommandLine,
        ..grants(&plugin, &endpoint, &Pins::default()).map_err(AppError::Invalid)?
    };
    let secrets = plugin
        .secrets(request.config.iter().map(|(name, value)| (name, value)))
        .map_err(|why| AppError::Invalid(format!("--config: {why}")))?;
    let setup = conformance::Setup {
        config: request.config,
        grants,
        secrets,
        sandbox: request.sandbox,
        probe: request.probe,
    };
    let checks = conformance::run(&runtime, &plugin, &setup).await;
    Ok((plugin, checks))
}
