//! `allsync.toml`: sync jobs, each a source and destinations, with engine
//! options per job (overridable per destination) and each adapter
//! instance's config and grants.
//!
//! ```toml
//! [[sync]]
//! name = "engineers"
//! max_changes = "10%"
//!
//! [sync.source]
//! adapter = "file"
//! directory = { path = "." }
//! config = { path = "people.txt" }
//!
//! [[sync.destination]]
//! adapter = "slack-usergroup"
//! config = { usergroup = "S0123", token = "${SLACK_TOKEN}" }
//! ```

use crate::schedule::Schedule;
use allsync_engine::{Blend, ChangeLimit, Combine, Mode, Role, SyncOptions, Transform};
use allsync_runtime::{Limits, OriginPattern, Rate};
use schemars::JsonSchema;
use serde::Deserialize;

mod schema;
pub use schema::json as schema;
use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// What is wrong with the config file: every problem found, each saying
/// where (job, destination, key).
#[derive(Debug, thiserror::Error)]
#[error("{}: {}", file.display(), problems.join("\n  "))]
pub struct ConfigError {
    /// The config file.
    pub file: PathBuf,
    /// Each problem, with where in the file it is.
    pub problems: Vec<String>,
}

/// A parsed and checked `allsync.toml`.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file it was read from.
    pub file: PathBuf,
    /// `plugins_dir`, resolved against the file's folder.
    pub plugins_dir: Option<PathBuf>,
    /// `resolve`: host names pinned to addresses, for every adapter.
    pub resolve: HashMap<String, IpAddr>,
    /// `concurrency`: jobs, and destinations of a job, run at once (default 4).
    pub concurrency: usize,
    /// The jobs, in file order.
    pub jobs: Vec<Job>,
    /// `[audit]`: where every change a sync makes is recorded, if anywhere.
    pub audit: Option<AuditConfig>,
    /// `[serve]`: how `allsync serve` listens and schedules.
    pub serve: ServeConfig,
    /// `rate_limits`: the most requests each origin (`scheme://host:port`) is sent.
    pub rate_limits: HashMap<String, Rate>,
    /// The sha256 of the file's bytes, hex: what a saved plan was made from.
    pub sha256: String,
}

/// `[serve]`: the listener of `allsync serve`, and the schedule of jobs
/// that have none of their own.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// Where `/metrics`, `/healthz` and `/readyz` are served (default 127.0.0.1:9848).
    pub listen: SocketAddr,
    /// The schedule of jobs without one.
    pub schedule: Option<Schedule>,
    /// The most random delay added to each run of jobs without their own.
    pub jitter: Duration,
}

/// Where `allsync serve` listens unless `[serve] listen` says otherwise: loopback only.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:9848";

/// `[audit]`: the audit log, one JSON line per change, rejection and failure.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AuditConfig {
    /// The file lines are appended to, resolved against the config file's folder.
    pub file: PathBuf,
    /// Whether each line also goes to stderr.
    #[serde(default)]
    pub stderr: bool,
}

/// One `[[sync]]` job.
#[derive(Debug, Clone)]
pub struct Job {
    /// Its unique name.
    pub name: String,
    /// Where the things come from: `[sync.source]`, or each `[[sync.sources]]`.
    pub sources: Vec<JobSource>,
    /// `combine`: how the included sources are joined.
    pub combine: Combine,
    /// `schedule`: when `allsync serve` runs it, if not as `[serve]` says.
    pub schedule: Option<Schedule>,
    /// `jitter`: the most random delay added to each of its runs in `serve`.
    pub jitter: Option<Duration>,
    /// Where they go.
    pub destinations: Vec<Destination>,
    options: Overrides,
}

/// One source of a job.
#[derive(Debug, Clone)]
pub struct JobSource {
    /// Its adapter instance.
    pub endpoint: Endpoint,
    /// Its name (`source` for `[sync.source]`), whether it is excluded, and its transforms.
    pub blend: Blend,
}

/// One `[[sync.destination]]`.
#[derive(Debug, Clone)]
pub struct Destination {
    /// Its name, unique in the job (defaults to the adapter's name).
    pub name: String,
    /// Its adapter instance.
    pub endpoint: Endpoint,
    options: Overrides,
}

/// An adapter instance: which adapter, its config, what it is granted.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// The adapter's name (`describe().name`).
    pub adapter: String,
    /// Config keys and values, environment references expanded.
    pub config: BTreeMap<String, String>,
    /// `allowed_hosts`, as written; `None` when absent.
    pub allowed_hosts: Option<Vec<String>>,
    /// A directory granted to the instance.
    pub directory: Option<DirectoryConfig>,
    /// Its resource limits: its own `limits`, over the file's `[limits]`, over the defaults.
    pub limits: Limits,
    /// The sha256 the adapter's file must have, if pinned.
    pub sha256: Option<String>,
    /// Credentials the host holds for the instance, if any.
    pub credentials: Option<CredentialsConfig>,
}

/// `credentials = { kind = "...", ... }`: credentials the host holds for an
/// instance, minting the tokens it adds to the instance's requests.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq, JsonSchema)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum CredentialsConfig {
    /// OAuth 2.0 client credentials, from any token endpoint (Microsoft Entra ID...).
    #[serde(rename = "oauth2-client-credentials")]
    ClientCredentials {
        /// The token endpoint.
        token_url: String,
        /// The client's id.
        client_id: String,
        /// The client's secret.
        client_secret: String,
        /// The scope to ask for.
        scope: Option<String>,
        /// How the client authenticates: `body` (default) or `basic`.
        #[serde(default)]
        client_auth: ClientAuth,
    },
    /// A Google service account key file, with domain-wide delegation to `subject`.
    GoogleServiceAccount {
        /// The key file (JSON), resolved against the config file's folder.
        key_file: PathBuf,
        /// The Workspace user to act as.
        subject: Option<String>,
        /// The OAuth scopes to ask for.
        scopes: Vec<String>,
    },
    /// A GitHub App installation.
    GithubApp {
        /// The App's id.
        #[schemars(extend("type" = ["string", "integer"]))]
        app_id: String,
        /// The installation's id.
        #[schemars(extend("type" = ["string", "integer"]))]
        installation_id: String,
        /// The App's private key (PEM), resolved against the config file's folder.
        private_key_file: PathBuf,
        /// The REST API base (default `https://api.github.com`; GHES: `https://HOST/api/v3`).
        api_url: Option<String>,
    },
}

/// How an OAuth client sends its id and secret to the token endpoint.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ClientAuth {
    /// In the form (`client_secret_post`).
    #[default]
    Body,
    /// With HTTP Basic (`client_secret_basic`).
    Basic,
}

/// One step of a source's `transform`, as written.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
enum TransformConfig {
    /// `"lowercase"`
    Lowercase,
    /// `{ replace_domain = { from = "old.example.com", to = "example.com" } }`
    ReplaceDomain { from: String, to: String },
    /// `{ keep = ["*@example.com"] }`
    Keep(Vec<String>),
    /// `{ drop = ["ci-*@example.com"] }`
    Drop(Vec<String>),
}

/// `directory = { path = "...", writable = true }`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DirectoryConfig {
    /// The directory, resolved against the config file's folder.
    pub path: PathBuf,
    /// Whether the adapter may write in it (default: read-only).
    #[serde(default)]
    pub writable: bool,
}

/// Engine options as written at job or destination level; unset ones inherit.
#[derive(Debug, Clone, Default)]
struct Overrides {
    mode: Option<Mode>,
    case_sensitive: Option<bool>,
    max_changes: Option<ChangeLimit>,
    allow_empty_source: Option<bool>,
    ignore: Option<Vec<String>>,
}

impl Overrides {
    /// `self` where set, else `base`.
    fn over(&self, base: &Overrides) -> Overrides {
        Overrides {
            mode: self.mode.or(base.mode),
            case_sensitive: self.case_sensitive.or(base.case_sensitive),
            max_changes: self.max_changes.or(base.max_changes),
            allow_empty_source: self.allow_empty_source.or(base.allow_empty_source),
            ignore: self.ignore.clone().or_else(|| base.ignore.clone()),
        }
    }
}

impl Job {
    /// Every adapter instance of the job: its sources', then its destinations'.
    pub fn endpoints(&self) -> impl Iterator<Item = &Endpoint> {
        self.sources.iter().map(|source| &source.endpoint).chain(
            self.destinations
                .iter()
                .map(|destination| &destination.endpoint),
        )
    }

    /// Whether the job's own options compare things exactly (how its
    /// sources are combined).
    pub fn case_sensitive(&self) -> bool {
        self.options.case_sensitive.unwrap_or(false)
    }

    /// The engine options for `destination`: its own, else the job's, else defaults.
    pub fn options_for(&self, destination: &Destination) -> SyncOptions {
        let options = destination.options.over(&self.options);
        SyncOptions {
            mode: options.mode.unwrap_or_default(),
            case_sensitive: options.case_sensitive.unwrap_or(false),
            max_changes: options.max_changes,
            allow_empty_source: options.allow_empty_source.unwrap_or(false),
            ignore: options.ignore.unwrap_or_default(),
        }
    }
}

impl Config {
    /// Reads and checks `file`; `${VAR}` in config values is looked up with
    /// `env`. Every problem is reported at once.
    pub fn load(file: &Path, env: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let fail = |problems: Vec<String>| ConfigError {
            file: file.to_path_buf(),
            problems,
        };
        let text = std::fs::read_to_string(file).map_err(|err| {
            fail(vec![format!(
                "cannot read it: {err} (pass another file with -c)"
            )])
        })?;
        let table: toml::Table =
            toml::from_str(&text).map_err(|err| fail(vec![syntax_error(&text, &err)]))?;
        let mut context = Context {
            base: file.parent().unwrap_or(Path::new(".")),
            env: &env,
            limits: toml::Table::new(),
            problems: RefCell::default(),
        };
        let config = context.file(file, &table).map(|config| Config {
            sha256: allsync_runtime::sha256_hex(text.as_bytes()),
            ..config
        });
        match context.problems.into_inner() {
            problems if problems.is_empty() => Ok(config.expect("no problems, so a config")),
            problems => Err(fail(problems)),
        }
    }

    /// The job named `name`, or an error listing the job names.
    pub fn job(&self, name: &str) -> Result<&Job, String> {
        self.jobs
            .iter()
            .find(|job| job.name == name)
            .ok_or_else(|| {
                let names: Vec<&str> = self.jobs.iter().map(|job| job.name.as_str()).collect();
                format!("no job named `{name}` (jobs: {})", names.join(", "))
            })
    }
}

/// Where a TOML syntax error is, and what it is, without quoting the line:
/// the line may hold a secret.
fn syntax_error(text: &str, err: &toml::de::Error) -> String {
    let place = err.span().map(|span| {
        let before = &text[..span.start.min(text.len())];
        let line = before.matches('\n').count() + 1;
        let column = before
            .rsplit('\n')
            .next()
            .unwrap_or_default()
            .chars()
            .count()
            + 1;
        format!("line {line}, column {column}: ")
    });
    format!(
        "{}not valid TOML: {}",
        place.unwrap_or_default(),
        err.message().trim_end()
    )
}

type Env<'a> = &'a dyn Fn(&str) -> Option<String>;

/// What every part of the file is checked against (the file's folder, the
/// environment, the file-wide `[limits]`), and the problems found so far.
struct Context<'a> {
    base: &'a Path,
    env: Env<'a>,
    limits: toml::Table,
    problems: RefCell<Vec<String>>,
}

/// A TOML table being checked, and where it is in the file, for messages.
#[derive(Clone, Copy)]
struct Place<'a> {
    table: &'a toml::Table,
    name: &'a str,
}

impl Context<'_> {
    fn problem(&self, place: &str, problem: impl Into<String>) {
        let problem = problem.into();
        self.problems.borrow_mut().push(match place {
            "" => problem,
            place => format!("{place}: {problem}"),
        });
    }

    /// The value of `key` in `at` as a `T`, if set; a value of the wrong
    /// kind is a problem at that key.
    fn value<T: serde::de::DeserializeOwned>(&self, at: Place, key: &str) -> Option<T> {
        let value = at.table.get(key)?;
        T::deserialize(value.clone())
            .inspect_err(|err| {
                self.problem(at.name, format!("`{key}`: {}", err.to_string().trim_end()))
            })
            .ok()
    }

    /// Every key in `at` that a table of shape `T` cannot hold is a problem.
    fn known_keys<T: JsonSchema>(&self, at: Place) {
        let known = schema::keys::<T>();
        for key in at.table.keys().filter(|key| !known.contains(key)) {
            self.problem(
                at.name,
                format!("unknown key `{key}` (known here: {})", known.join(", ")),
            );
        }
    }

    /// The table at `key` in `at`, if it is one.
    fn table<'t>(&self, at: Place<'t>, key: &str) -> Option<&'t toml::Table> {
        match at.table.get(key)? {
            toml::Value::Table(table) => Some(table),
            other => {
                self.problem(
                    at.name,
                    format!("`{key}` must be a table, not {}", other.type_str()),
                );
                None
            }
        }
    }

    fn file(&mut self, file: &Path, table: &toml::Table) -> Option<Config> {
        let at = Place { table, name: "" };
        self.known_keys::<schema::File>(at);
        if let Some(global) = self.table(at, "limits") {
            match limits(global, &toml::Table::new()) {
                Ok(_) => self.limits = global.clone(),
                Err(err) => self.problem("[limits]", err),
            }
        }
        let plugins_dir: Option<PathBuf> = self.value(at, "plugins_dir");
        let resolve: HashMap<String, IpAddr> = self.value(at, "resolve").unwrap_or_default();
        let concurrency = match self.value::<usize>(at, "concurrency") {
            Some(0) => {
                self.problem("", "`concurrency` must be at least 1");
                None
            }
            Some(n) => Some(n),
            None => Some(4),
        };
        let audit = self
            .value::<AuditConfig>(at, "audit")
            .map(|audit| AuditConfig {
                file: self.base.join(audit.file),
                ..audit
            });
        let serve = self.serve(at);
        let rate_limits = self.rate_limits(at);
        let jobs = self.jobs(at);
        Some(Config {
            file: file.to_path_buf(),
            plugins_dir: plugins_dir.map(|dir| self.base.join(dir)),
            resolve,
            concurrency: concurrency?,
            jobs: jobs?,
            audit,
            serve: serve?,
            rate_limits: rate_limits?,
            sha256: String::new(),
        })
    }

    fn jobs(&self, at: Place) -> Option<Vec<Job>> {
        let tables: Vec<&toml::Table> = match at.table.get("sync") {
            None => Vec::new(),
            Some(toml::Value::Array(jobs)) => {
                jobs.iter().filter_map(toml::Value::as_table).collect()
            }
            Some(other) => {
                self.problem(
                    "",
                    format!("`sync` must be [[sync]] tables, not {}", other.type_str()),
                );
                return None;
            }
        };
        if tables.is_empty() {
            self.problem(
                "",
                "no [[sync]] jobs: add at least one (see README, Configuration)",
            );
            return None;
        }
        let mut jobs: Vec<Job> = Vec::new();
        let mut complete = true;
        for (index, table) in tables.into_iter().enumerate() {
            match self.job(index, table) {
                Some(job) if jobs.iter().any(|other| other.name == job.name) => {
                    self.problem(
                        "",
                        format!(
                            "two jobs are named `{}`: job names must be unique",
                            job.name
                        ),
                    );
                }
                Some(job) => jobs.push(job),
                None => complete = false,
            }
        }
        complete.then_some(jobs)
    }

    fn job(&self, index: usize, table: &toml::Table) -> Option<Job> {
        let name: Option<String> = self
            .value(Place { table, name: "" }, "name")
            .filter(|name: &String| !name.trim().is_empty());
        let place = match &name {
            Some(name) => format!("job `{name}`"),
            None => format!("[[sync]] number {}", index + 1),
        };
        let at = Place {
            table,
            name: &place,
        };
        self.known_keys::<schema::Job>(at);
        if name.is_none() {
            self.problem(&place, "every job needs a `name`");
        }
        let options = self.options(at);
        let combine = match self.value::<String>(at, "combine").as_deref() {
            None | Some("union") => Some(Combine::Union),
            Some("intersection") => Some(Combine::Intersection),
            Some(other) => {
                self.problem(
                    &place,
                    format!("`combine` is `union` or `intersection`, not `{other}`"),
                );
                None
            }
        };
        let schedule = self.schedule(at);
        let jitter = self.duration(at, "jitter");
        let sources = self.sources(at);
        let destinations = self.destinations(at);
        Some(Job {
            name: name?,
            sources: sources?,
            combine: combine?,
            schedule: schedule?,
            jitter: jitter?,
            destinations: destinations?,
            options: options?,
        })
    }

    /// `rate_limits = { "https://slack.com" = "50/min" }`, origins as allsync writes them.
    fn rate_limits(&self, at: Place) -> Option<HashMap<String, Rate>> {
        let written: BTreeMap<String, String> = match at.table.get("rate_limits") {
            None => return Some(HashMap::new()),
            Some(_) => self.value(at, "rate_limits")?,
        };
        let problems = self.problems.borrow().len();
        let rates = written
            .into_iter()
            .filter_map(|(origin, rate)| {
                let fail = |why: String| self.problem("rate_limits", format!("`{origin}`: {why}"));
                let exact = OriginPattern::parse(&origin)
                    .map_err(|err| fail(err.to_string()))
                    .ok()?;
                if exact.to_string().contains('*') {
                    fail("a rate is for one origin, not a wildcard".into());
                    return None;
                }
                let rate = rate.parse::<Rate>().map_err(fail).ok()?;
                Some((exact.to_string(), rate))
            })
            .collect();
        (self.problems.borrow().len() == problems).then_some(rates)
    }

    /// `[serve]`, or its defaults.
    fn serve(&self, at: Place) -> Option<ServeConfig> {
        let Some(table) = self.table(at, "serve") else {
            return Some(ServeConfig {
                listen: DEFAULT_LISTEN.parse().expect("a socket address"),
                schedule: None,
                jitter: Duration::ZERO,
            });
        };
        let at = Place {
            table,
            name: "[serve]",
        };
        self.known_keys::<schema::Serve>(at);
        let listen = match self.value::<String>(at, "listen") {
            None => DEFAULT_LISTEN.parse().ok(),
            Some(text) => text.parse::<SocketAddr>().map_err(|_| {
                self.problem(at.name, format!("`listen`: `{text}` is not an address and port, such as \"{DEFAULT_LISTEN}\""));
            }).ok(),
        };
        let schedule = self.schedule(at);
        let jitter = self.duration(at, "jitter");
        Some(ServeConfig {
            listen: listen?,
            schedule: schedule?,
            jitter: jitter?.unwrap_or_default(),
        })
    }

    /// `schedule` in `at`, if set; `None` if it is malformed.
    fn schedule(&self, at: Place) -> Option<Option<Schedule>> {
        match self.value::<String>(at, "schedule") {
            None if at.table.contains_key("schedule") => None,
            None => Some(None),
            Some(text) => match text.parse::<Schedule>() {
                Ok(schedule) => Some(Some(schedule)),
                Err(why) => {
                    self.problem(at.name, format!("`schedule`: {why}"));
                    None
                }
            },
        }
    }

    /// A duration (`"30s"`, `"5m"`) at `key` in `at`, if set; `None` if it is malformed.
    fn duration(&self, at: Place, key: &str) -> Option<Option<Duration>> {
        match self.value::<String>(at, key) {
            None if at.table.contains_key(key) => None,
            None => Some(None),
            Some(text) => match humantime::parse_duration(&text) {
                Ok(duration) => Some(Some(duration)),
                Err(err) => {
                    self.problem(
                        at.name,
                        format!("`{key}`: `{text}`: {err} (write a duration such as \"30s\")"),
                    );
                    None
                }
            },
        }
    }

    /// The job's `[sync.source]`, or its `[[sync.sources]]`.
    fn sources(&self, job: Place) -> Option<Vec<JobSource>> {
        let tables: Vec<&toml::Table> = match (job.table.get("source"), job.table.get("sources")) {
            (Some(_), Some(_)) => {
                self.problem(
                    job.name,
                    "both [sync.source] and [[sync.sources]]: use one source table, or a list of them",
                );
                return None;
            }
            (None, None) => {
                self.problem(job.name, "no [sync.source]: say where the things come from");
                return None;
            }
            (Some(_), None) => {
                let source = self.table(job, "source")?;
                let at = Place {
                    table: source,
                    name: &format!("{} source", job.name),
                };
                return self.source(at, "source", false).map(|source| vec![source]);
            }
            (None, Some(toml::Value::Array(list))) => {
                list.iter().filter_map(toml::Value::as_table).collect()
            }
            (None, Some(other)) => {
                self.problem(
                    job.name,
                    format!(
                        "`sources` must be [[sync.sources]] tables, not {}",
                        other.type_str()
                    ),
                );
                return None;
            }
        };
        let mut sources: Vec<JobSource> = Vec::new();
        let mut complete = true;
        for (index, table) in tables.into_iter().enumerate() {
            let name: Option<String> = self.value(
                Place {
                    table,
                    name: job.name,
                },
                "name",
            );
            let place = match &name {
                Some(name) => format!("{} source `{name}`", job.name),
                None => format!("{} source number {}", job.name, index + 1),
            };
            let at = Place {
                table,
                name: &place,
            };
            match (name, self.source(at, "", true)) {
                (None, _) => {
                    self.problem(&place, "each of several sources needs a `name`");
                    complete = false;
                }
                (Some(name), Some(_)) if sources.iter().any(|s| s.blend.name == name) => {
                    self.problem(
                        job.name,
                        format!("two sources are named `{name}`: names must be unique"),
                    );
                }
                (Some(name), Some(mut source)) => {
                    source.blend.name = name;
                    sources.push(source);
                }
                (Some(_), None) => complete = false,
            }
        }
        if complete
            && sources
                .iter()
                .all(|source| source.blend.role == Role::Exclude)
        {
            self.problem(
                job.name,
                "every source is `exclude = true`: include at least one",
            );
            return None;
        }
        complete.then_some(sources)
    }

    /// One source: an adapter instance, with `exclude` and `transform` if `listed`.
    fn source(&self, at: Place, name: &str, listed: bool) -> Option<JobSource> {
        match listed {
            true => self.known_keys::<schema::ListedSource>(at),
            false => self.known_keys::<schema::Source>(at),
        }
        let exclude = self.value::<bool>(at, "exclude").unwrap_or(false);
        let transforms = self.transforms(at);
        let endpoint = self.endpoint_keys(at);
        Some(JobSource {
            endpoint: endpoint?,
            blend: Blend {
                name: name.to_string(),
                role: match exclude {
                    true => Role::Exclude,
                    false => Role::Include,
                },
                transforms: transforms?,
            },
        })
    }

    /// `transform = ["lowercase", { replace_domain = { from, to } }, { keep = [...] }, { drop = [...] }]`.
    fn transforms(&self, at: Place) -> Option<Vec<Transform>> {
        let written: Vec<TransformConfig> = match at.table.get("transform") {
            None => return Some(Vec::new()),
            Some(_) => self.value(at, "transform")?,
        };
        let problems = self.problems.borrow().len();
        let transforms = written
            .into_iter()
            .map(|step| match step {
                TransformConfig::Lowercase => Transform::Lowercase,
                TransformConfig::ReplaceDomain { from, to } => {
                    for domain in [&from, &to] {
                        if domain.is_empty() || domain.contains('@') || domain.trim() != domain {
                            self.problem(
                                at.name,
                                format!("`transform`: replace_domain takes domains such as \"example.com\", not {domain:?}"),
                            );
                        }
                    }
                    Transform::ReplaceDomain { from, to }
                }
                TransformConfig::Keep(patterns) => Transform::Keep(patterns),
                TransformConfig::Drop(patterns) => Transform::Drop(patterns),
            })
            .collect();
        (self.problems.borrow().len() == problems).then_some(transforms)
    }

    fn destinations(&self, job: Place) -> Option<Vec<Destination>> {
        let tables: Vec<&toml::Table> = match job.table.get("destination") {
            None => Vec::new(),
            Some(toml::Value::Array(list)) => {
                list.iter().filter_map(toml::Value::as_table).collect()
            }
            Some(other) => {
                self.problem(
                    job.name,
                    format!(
                        "`destination` must be [[sync.destination]] tables, not {}",
                        other.type_str()
                    ),
                );
                return None;
            }
        };
        if tables.is_empty() {
            self.problem(job.name, "no [[sync.destination]]: say where the things go");
            return None;
        }
        let mut destinations: Vec<Destination> = Vec::new();
        let mut complete = true;
        for table in tables {
            match self.destination(job.name, table) {
                Some(destination) if destinations.iter().any(|d| d.name == destination.name) => {
                    self.problem(
                        job.name,
                        format!(
                            "two destinations are named `{}`: give each a distinct `name`",
                            destination.name
                        ),
                    );
                }
                Some(destination) => destinations.push(destination),
                None => complete = false,
            }
        }
        complete.then_some(destinations)
    }

    fn destination(&self, job: &str, table: &toml::Table) -> Option<Destination> {
        let unnamed = Place { table, name: job };
        let name: Option<String> = self.value(unnamed, "name");
        let adapter = table.get("adapter").and_then(toml::Value::as_str);
        let place = format!(
            "{job} destination `{}`",
            name.as_deref().or(adapter).unwrap_or("(unnamed)")
        );
        let at = Place {
            table,
            name: &place,
        };
        self.known_keys::<schema::Destination>(at);
        let options = self.options(at);
        let endpoint = self.endpoint_keys(at)?;
        Some(Destination {
            name: name.unwrap_or_else(|| endpoint.adapter.clone()),
            endpoint,
            options: options?,
        })
    }

    fn options(&self, at: Place) -> Option<Overrides> {
        let problems = self.problems.borrow().len();
        let options = Overrides {
            mode: self.value(at, "mode"),
            case_sensitive: self.value(at, "case_sensitive"),
            max_changes: self.value(at, "max_changes"),
            allow_empty_source: self.value(at, "allow_empty_source"),
            ignore: self.value(at, "ignore"),
        };
        (self.problems.borrow().len() == problems).then_some(options)
    }

    /// The adapter instance in `at`, whose unknown keys were checked by the caller.
    fn endpoint_keys(&self, at: Place) -> Option<Endpoint> {
        let problems = self.problems.borrow().len();
        let adapter: Option<String> = self
            .value(at, "adapter")
            .filter(|name: &String| !name.is_empty());
        if adapter.is_none() && !at.table.contains_key("adapter") {
            self.problem(at.name, "`adapter` is missing");
        }
        let config = self.config_values(at);
        let allowed_hosts = self.value(at, "allowed_hosts");
        let directory = self
            .value::<DirectoryConfig>(at, "directory")
            .map(|mut directory| {
                directory.path = self.base.join(&directory.path);
                directory
            });
        let local = self.table(at, "limits").cloned().unwrap_or_default();
        let limits = limits(&self.limits, &local)
            .inspect_err(|err| self.problem(at.name, format!("`limits`: {err}")))
            .ok();
        let sha256 = self.value::<String>(at, "sha256").and_then(|hash| {
            match hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit()) {
                true => Some(hash.to_ascii_lowercase()),
                false => {
                    self.problem(
                        at.name,
                        format!(
                            "sha256 = {hash:?} is not 64 hex digits (see `allsync plugins inspect`)"
                        ),
                    );
                    None
                }
            }
        });
        let credentials = self.credentials(at);
        if self.problems.borrow().len() > problems {
            return None;
        }
        Some(Endpoint {
            adapter: adapter?,
            config,
            allowed_hosts,
            directory,
            limits: limits?,
            sha256,
            credentials,
        })
    }

    /// The `credentials` table in `at`: `${NAME}` expanded in its strings,
    /// numbers (an App id) taken as text, files resolved against the config
    /// file's folder.
    fn credentials(&self, at: Place) -> Option<CredentialsConfig> {
        let table = self.table(at, "credentials")?;
        let mut expanded = toml::Table::new();
        for (key, value) in table {
            let value = match value {
                toml::Value::String(text) => expand_env(text, self.env).map(toml::Value::String),
                toml::Value::Integer(number) => Ok(toml::Value::String(number.to_string())),
                other => Ok(other.clone()),
            };
            match value {
                Ok(value) => drop(expanded.insert(key.clone(), value)),
                Err(err) => self.problem(at.name, format!("credentials key `{key}`: {err}")),
            }
        }
        let credentials = CredentialsConfig::deserialize(toml::Value::Table(expanded))
            .map_err(|err| {
                self.problem(
                    at.name,
                    format!("`credentials`: {}", err.to_string().trim_end()),
                )
            })
            .ok()?;
        Some(match credentials {
            CredentialsConfig::GoogleServiceAccount {
                key_file,
                subject,
                scopes,
            } => CredentialsConfig::GoogleServiceAccount {
                key_file: self.base.join(key_file),
                subject,
                scopes,
            },
            CredentialsConfig::GithubApp {
                app_id,
                installation_id,
                private_key_file,
                api_url,
            } => CredentialsConfig::GithubApp {
                app_id,
                installation_id,
                private_key_file: self.base.join(private_key_file),
                api_url,
            },
            other => other,
        })
    }

    /// The adapter's config table, each value a string with `${NAME}` expanded.
    fn config_values(&self, at: Place) -> BTreeMap<String, String> {
        let Some(table) = self.table(at, "config") else {
            return BTreeMap::new();
        };
        table
            .iter()
            .filter_map(|(key, value)| {
                config_value(value)
                    .and_then(|value| expand_env(&value, self.env))
                    .inspect_err(|err| self.problem(at.name, format!("config key `{key}`: {err}")))
                    .ok()
                    .map(|value| (key.clone(), value))
            })
            .collect()
    }
}

/// The limits of `local` over `global` over the defaults.
fn limits(global: &toml::Table, local: &toml::Table) -> Result<Limits, String> {
    let mut merged = global.clone();
    merged.extend(local.clone());
    Limits::deserialize(toml::Value::Table(merged))
        .map_err(|err| err.to_string().trim_end().to_string())
}

/// A config value as the string handed to the adapter.
fn config_value(value: &toml::Value) -> Result<String, String> {
    match value {
        toml::Value::String(text) => Ok(text.clone()),
        toml::Value::Integer(number) => Ok(number.to_string()),
        toml::Value::Float(number) => Ok(number.to_string()),
        toml::Value::Boolean(flag) => Ok(flag.to_string()),
        other => Err(format!(
            "must be a string, number or boolean, not {}",
            other.type_str()
        )),
    }
}

/// Replaces each `${NAME}` with the variable's value; `$${` stands for a literal `${`.
fn expand_env(text: &str, env: Env) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find('$') {
        out.push_str(&rest[..start]);
        let after = &rest[start..];
        if let Some(escaped) = after.strip_prefix("$${") {
            out.push_str("${");
            rest = escaped;
        } else if let Some(reference) = after.strip_prefix("${") {
            let end = reference
                .find('}')
                .ok_or("an unclosed `${` (write `$${` for a literal one)")?;
            let name = &reference[..end];
            let value = env(name).ok_or_else(|| {
                format!("refers to ${{{name}}}, which is not set in the environment: export {name}=... first")
            })?;
            out.push_str(&value);
            rest = &reference[end + 1..];
        } else {
            out.push('$');
            rest = &after[1..];
        }
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn load(text: &str) -> Result<Config, String> {
        load_with_env(text, &[])
    }

    fn load_with_env(text: &str, vars: &[(&str, &str)]) -> Result<Config, String> {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(text.as_bytes()).unwrap();
        let vars: BTreeMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::load(file.path(), |name| vars.get(name).cloned())
            .map_err(|err| err.problems.join("\n"))
    }

    /// One job: people.txt into team.txt with the `file` adapter.
    pub(super) const MINIMAL: &str = r#"
        [[sync]]
        name = "team"
        [sync.source]
        adapter = "file"
        config = { path = "people.txt" }
        [[sync.destination]]
        adapter = "file"
        config = { path = "team.txt" }
    "#;

    #[test]
    fn a_minimal_job_gets_default_options() {
        let config = load(MINIMAL).unwrap();
        let job = &config.jobs[0];
        assert_eq!(job.destinations[0].name, "file");
        assert_eq!(
            job.options_for(&job.destinations[0]),
            SyncOptions::default()
        );
    }

    #[test]
    fn destination_options_override_job_options() {
        let config = load(
            r#"
            [[sync]]
            name = "team"
            mode = "add-only"
            max_changes = "10%"
            ignore = ["bot@x.com"]
            [sync.source]
            adapter = "file"
            [[sync.destination]]
            name = "a"
            adapter = "file"
            [[sync.destination]]
            name = "b"
            adapter = "file"
            mode = "remove-only"
            max_changes = 3
            case_sensitive = true
            "#,
        )
        .unwrap();
        let job = &config.jobs[0];
        let a = job.options_for(&job.destinations[0]);
        let b = job.options_for(&job.destinations[1]);
        assert_eq!(
            (a.mode, a.max_changes, a.ignore.clone()),
            (
                Mode::AddOnly,
                Some(ChangeLimit::parse("10%").unwrap()),
                vec!["bot@x.com".to_string()]
            )
        );
        assert_eq!(
            (b.mode, b.max_changes, b.case_sensitive),
            (Mode::RemoveOnly, Some(ChangeLimit::Count(3)), true)
        );
        assert_eq!(b.ignore, a.ignore);
    }

    #[test]
    fn an_unknown_mode_is_an_error_never_a_no_op() {
        let err = load(&MINIMAL.replace("name = \"team\"", "name = \"team\"\nmode = \"sync-all\""))
            .unwrap_err();
        assert!(err.contains("unknown variant `sync-all`"), "{err}");
        assert!(err.contains("add-remove"), "{err}");
    }

    #[test]
    fn unknown_keys_are_named() {
        let err = load(&MINIMAL.replace("name = \"team\"", "name = \"team\"\nmax_change = 3"))
            .unwrap_err();
        assert!(err.contains("unknown key `max_change`"), "{err}");
        let err = load(&MINIMAL.replace(
            "adapter = \"file\"\n        config = { path = \"team.txt\" }",
            "adapter = \"file\"\n        mdoe = \"add-only\"",
        ))
        .unwrap_err();
        assert!(
            err.contains("destination `file`: unknown key `mdoe`"),
            "{err}"
        );
    }

    #[test]
    fn bad_limits_say_what_is_expected() {
        let err =
            load(&MINIMAL.replace("name = \"team\"", "name = \"team\"\nmax_changes = \"lots\""))
                .unwrap_err();
        assert!(
            err.contains("job `team`: `max_changes`: max_changes must be a whole count like 25 or a percentage"),
            "{err}"
        );
        let err = load(&MINIMAL.replace("name = \"team\"", "name = \"team\"\nmax_changes = -2"))
            .unwrap_err();
        assert!(err.contains("cannot be negative"), "{err}");
        let err = load(&MINIMAL.replace("name = \"team\"", "name = \"team\"\nmax_changes = 2.5"))
            .unwrap_err();
        assert_eq!(
            err,
            "job `team`: `max_changes`: max_changes = 2.5 is not a whole count: write a count like 25, \
             or a percentage in quotes like \"2.5%\""
        );
    }

    #[test]
    fn every_problem_is_reported_at_once_at_its_key() {
        let text = r#"
            concurrency = 0
            [[sync]]
            name = "a"
            mode = "sync-all"
            [sync.source]
            adapter = "file"
            config = { path = ["x"] }
            [[sync.destination]]
            name = "one"
            adapter = "file"
            case_sensitive = "yes"
            [[sync.destination]]
            name = "two"
            adapter = "file"
            max_changes = 2.5
            [[sync]]
            name = "b"
            [sync.source]
            adapter = "file"
            limits = { memroy_mb = 1 }
            [[sync.destination]]
            adapter = "file"
            directory = { path = "d", writeable = true }
        "#;
        let problems: Vec<String> = load(text).unwrap_err().lines().map(String::from).collect();
        let expected = [
            "`concurrency` must be at least 1",
            "job `a`: `mode`: unknown variant `sync-all`",
            "job `a` source: config key `path`: must be a string, number or boolean, not array",
            "job `a` destination `one`: `case_sensitive`: invalid type: string \"yes\", expected a boolean",
            "job `a` destination `two`: `max_changes`: max_changes = 2.5 is not a whole count",
            "job `b` source: `limits`: unknown field `memroy_mb`",
            "job `b` destination `file`: `directory`: unknown field `writeable`",
        ];
        for expected in expected {
            assert!(
                problems.iter().any(|problem| problem.starts_with(expected)),
                "{expected:?} not in {problems:#?}"
            );
        }
        assert_eq!(problems.len(), expected.len(), "{problems:#?}");
    }

    #[test]
    fn a_syntax_error_says_where_without_quoting_the_line() {
        let text = MINIMAL.replace(
            "config = { path = \"team.txt\" }",
            "config = { path = \"team.txt\", token = \"xoxb-1111-REAL-TOKEN\" ",
        );
        let err = load(&text).unwrap_err();
        assert!(err.starts_with("line 9, column"), "{err}");
        assert!(err.contains("not valid TOML"), "{err}");
        assert!(!err.contains("REAL-TOKEN"), "{err}");
    }

    #[test]
    fn environment_references_are_expanded_and_missing_ones_named() {
        let text = MINIMAL.replace(
            "path = \"team.txt\"",
            "path = \"team.txt\", token = \"x-${TOKEN}-$${LITERAL}\"",
        );
        let config = load_with_env(&text, &[("TOKEN", "s3cret")]).unwrap();
        assert_eq!(
            config.jobs[0].destinations[0].endpoint.config["token"],
            "x-s3cret-${LITERAL}"
        );
        let err = load(&text).unwrap_err();
        assert!(err.contains("job `team` destination `file`: config key `token`: refers to ${TOKEN}, which is not set"), "{err}");
    }

    #[test]
    fn structural_mistakes_are_explained() {
        assert!(load("").unwrap_err().contains("no [[sync]] jobs"));
        let err = load(&MINIMAL.replace("name = \"team\"", "")).unwrap_err();
        assert!(err.contains("every job needs a `name`"), "{err}");
        let twice = format!("{MINIMAL}\n[[sync.destination]]\nadapter = \"file\"\n");
        assert!(
            load(&twice)
                .unwrap_err()
                .contains("two destinations are named `file`")
        );
        let jobs = format!("{MINIMAL}{MINIMAL}");
        assert!(
            load(&jobs)
                .unwrap_err()
                .contains("two jobs are named `team`")
        );
    }

    #[test]
    fn limits_come_from_the_instance_then_the_file_then_the_defaults() {
        let text = format!(
            "[limits]\nmemory_mb = 64\ncall_timeout_secs = 5\n{}",
            MINIMAL.replace(
                "config = { path = \"team.txt\" }",
                "config = { path = \"team.txt\" }\nlimits = { call_timeout_secs = 9, fuel = 1000 }"
            )
        );
        let config = load(&text).unwrap();
        let source = &config.jobs[0].sources[0].endpoint.limits;
        let destination = &config.jobs[0].destinations[0].endpoint.limits;
        assert_eq!(
            (source.memory_mb, source.call_timeout_secs, source.fuel),
            (64, 5, None)
        );
        assert_eq!(
            (
                destination.memory_mb,
                destination.call_timeout_secs,
                destination.fuel
            ),
            (64, 9, Some(1000))
        );
        assert_eq!(destination.max_things, Limits::default().max_things);
        let err = load(&format!("[limits]\nmemroy_mb = 1\n{MINIMAL}")).unwrap_err();
        assert!(err.contains("[limits]: unknown field `memroy_mb`"), "{err}");
    }

    #[test]
    fn a_pinned_hash_must_be_a_sha256() {
        let text = MINIMAL.replace(
            "adapter = \"file\"\n        config = { path = \"team.txt\" }",
            "adapter = \"file\"\n        sha256 = \"abc\"",
        );
        assert!(
            load(&text)
                .unwrap_err()
                .contains("sha256 = \"abc\" is not 64 hex digits")
        );
    }

    #[test]
    fn directories_are_resolved_against_the_config_file() {
        let config = load(&MINIMAL.replace(
            "adapter = \"file\"\n        config = { path = \"people.txt\" }",
            "adapter = \"file\"\n        directory = { path = \"data\", writable = true }",
        ))
        .unwrap();
        let directory = config.jobs[0].sources[0]
            .endpoint
            .directory
            .clone()
            .unwrap();
        assert!(
            directory.path.ends_with("data") && directory.path.is_absolute(),
            "{directory:?}"
        );
        assert!(directory.writable);
    }
}
