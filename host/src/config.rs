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

use crate::engine::{ChangeLimit, Mode, SyncOptions};
use crate::runtime::Limits;
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::path::{Path, PathBuf};

/// A problem with the config file, saying where.
#[derive(Debug, thiserror::Error)]
#[error("{file}: {message}")]
pub struct ConfigError {
    /// The config file.
    pub file: PathBuf,
    /// What is wrong, and where in the file.
    pub message: String,
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
}

/// One `[[sync]]` job.
#[derive(Debug, Clone)]
pub struct Job {
    /// Its unique name.
    pub name: String,
    /// Where the things come from.
    pub source: Endpoint,
    /// Where they go.
    pub destinations: Vec<Destination>,
    options: Overrides,
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
}

/// `directory = { path = "...", writable = true }`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct DirectoryConfig {
    /// The directory, resolved against the config file's folder.
    pub path: PathBuf,
    /// Whether the adapter may write in it (default: read-only).
    #[serde(default)]
    pub writable: bool,
}

/// Engine options as written at job or destination level; unset ones inherit.
#[derive(Debug, Clone, Default, Deserialize)]
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
    /// Reads and checks `file`; `${VAR}` in config values is looked up with `env`.
    pub fn load(file: &Path, env: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let fail = |message: String| ConfigError {
            file: file.to_path_buf(),
            message,
        };
        let text = std::fs::read_to_string(file)
            .map_err(|err| fail(format!("cannot read it: {err} (pass another file with -c)")))?;
        let raw: RawFile = toml::from_str(&text).map_err(|err| fail(err.to_string()))?;
        let base = file.parent().unwrap_or(Path::new("."));
        let mut config = raw.check(base, &env).map_err(fail)?;
        config.file = file.to_path_buf();
        Ok(config)
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    plugins_dir: Option<PathBuf>,
    #[serde(default)]
    limits: toml::Table,
    #[serde(default)]
    resolve: HashMap<String, IpAddr>,
    concurrency: Option<usize>,
    #[serde(default)]
    sync: Vec<RawJob>,
}

#[derive(Deserialize)]
struct RawJob {
    name: Option<String>,
    source: Option<RawSource>,
    #[serde(default, rename = "destination")]
    destinations: Vec<RawDestination>,
    #[serde(flatten)]
    options: Overrides,
    #[serde(flatten)]
    unknown: BTreeMap<String, toml::Value>,
}

#[derive(Deserialize)]
struct RawSource {
    #[serde(flatten)]
    endpoint: RawEndpoint,
    #[serde(flatten)]
    unknown: BTreeMap<String, toml::Value>,
}

#[derive(Deserialize)]
struct RawDestination {
    name: Option<String>,
    #[serde(flatten)]
    endpoint: RawEndpoint,
    #[serde(flatten)]
    options: Overrides,
    #[serde(flatten)]
    unknown: BTreeMap<String, toml::Value>,
}

#[derive(Deserialize)]
struct RawEndpoint {
    adapter: Option<String>,
    #[serde(default)]
    config: BTreeMap<String, toml::Value>,
    allowed_hosts: Option<Vec<String>>,
    directory: Option<DirectoryConfig>,
    #[serde(default)]
    limits: toml::Table,
    sha256: Option<String>,
}

type Env<'a> = &'a dyn Fn(&str) -> Option<String>;

/// What every endpoint is checked against: the file's folder, the
/// environment, and the file-wide `[limits]`.
struct Context<'a> {
    base: &'a Path,
    env: Env<'a>,
    limits: &'a toml::Table,
}

impl RawFile {
    fn check(self, base: &Path, env: Env) -> Result<Config, String> {
        limits(&self.limits, &toml::Table::new()).map_err(|err| format!("[limits]: {err}"))?;
        let context = Context {
            base,
            env,
            limits: &self.limits,
        };
        if self.sync.is_empty() {
            return Err("no [[sync]] jobs: add at least one (see README, Configuration)".into());
        }
        let mut jobs: Vec<Job> = Vec::new();
        for (index, raw) in self.sync.into_iter().enumerate() {
            let where_ = match &raw.name {
                Some(name) => format!("job `{name}`"),
                None => format!("[[sync]] #{}", index + 1),
            };
            let job = raw
                .check(&context)
                .map_err(|err| format!("{where_}: {err}"))?;
            if jobs.iter().any(|other| other.name == job.name) {
                return Err(format!(
                    "two jobs are named `{}`: job names must be unique",
                    job.name
                ));
            }
            jobs.push(job);
        }
        Ok(Config {
            file: PathBuf::new(),
            plugins_dir: self.plugins_dir.map(|dir| base.join(dir)),
            resolve: self.resolve,
            concurrency: match self.concurrency {
                Some(0) => return Err("concurrency must be at least 1".into()),
                Some(n) => n,
                None => 4,
            },
            jobs,
        })
    }
}

impl RawJob {
    fn check(self, context: &Context) -> Result<Job, String> {
        no_unknown_keys(
            &self.unknown,
            "mode, case_sensitive, max_changes, allow_empty_source, ignore, source, destination",
        )?;
        let name = self
            .name
            .filter(|name| !name.trim().is_empty())
            .ok_or("every job needs a `name`")?;
        let source = self
            .source
            .ok_or("no [sync.source]: say where the things come from")?;
        no_unknown_keys(
            &source.unknown,
            "adapter, config, allowed_hosts, directory, limits, sha256",
        )
        .map_err(|err| format!("source: {err}"))?;
        let source = source
            .endpoint
            .check(context)
            .map_err(|err| format!("source: {err}"))?;
        if self.destinations.is_empty() {
            return Err("no [[sync.destination]]: say where the things go".into());
        }
        let mut destinations: Vec<Destination> = Vec::new();
        for raw in self.destinations {
            let destination = raw.check(context)?;
            if destinations
                .iter()
                .any(|other| other.name == destination.name)
            {
                return Err(format!(
                    "two destinations are named `{}`: give each a distinct `name`",
                    destination.name
                ));
            }
            destinations.push(destination);
        }
        Ok(Job {
            name,
            source,
            destinations,
            options: self.options,
        })
    }
}

impl RawDestination {
    fn check(self, context: &Context) -> Result<Destination, String> {
        let label = self
            .name
            .clone()
            .or_else(|| self.endpoint.adapter.clone())
            .unwrap_or_default();
        let where_ = |err: String| format!("destination `{label}`: {err}");
        no_unknown_keys(
            &self.unknown,
            "name, adapter, config, allowed_hosts, directory, limits, sha256, mode, case_sensitive, max_changes, \
             allow_empty_source, ignore",
        )
        .map_err(where_)?;
        let endpoint = self.endpoint.check(context).map_err(where_)?;
        Ok(Destination {
            name: self.name.unwrap_or_else(|| endpoint.adapter.clone()),
            endpoint,
            options: self.options,
        })
    }
}

impl RawEndpoint {
    fn check(self, context: &Context) -> Result<Endpoint, String> {
        let adapter = self
            .adapter
            .filter(|name| !name.is_empty())
            .ok_or("`adapter` is missing")?;
        let config = self
            .config
            .into_iter()
            .map(|(key, value)| {
                let value = config_value(&value)
                    .and_then(|value| expand_env(&value, context.env))
                    .map_err(|err| format!("config key `{key}`: {err}"))?;
                Ok((key, value))
            })
            .collect::<Result<_, String>>()?;
        let directory = self.directory.map(|mut directory| {
            directory.path = context.base.join(&directory.path);
            directory
        });
        let limits =
            limits(context.limits, &self.limits).map_err(|err| format!("limits: {err}"))?;
        let sha256 = match self.sha256 {
            Some(hash) if hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit()) => {
                Some(hash.to_ascii_lowercase())
            }
            Some(hash) => {
                return Err(format!(
                    "sha256 = {hash:?} is not 64 hex digits (see `allsync plugins inspect`)"
                ));
            }
            None => None,
        };
        Ok(Endpoint {
            adapter,
            config,
            allowed_hosts: self.allowed_hosts,
            directory,
            limits,
            sha256,
        })
    }
}

/// The limits of `local` over `global` over the defaults.
fn limits(global: &toml::Table, local: &toml::Table) -> Result<Limits, String> {
    let mut merged = global.clone();
    merged.extend(local.clone());
    Limits::deserialize(toml::Value::Table(merged)).map_err(|err| err.to_string())
}

fn no_unknown_keys(unknown: &BTreeMap<String, toml::Value>, known: &str) -> Result<(), String> {
    match unknown.keys().next() {
        None => Ok(()),
        Some(key) => Err(format!("unknown key `{key}` (known here: {known})")),
    }
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
        Config::load(file.path(), |name| vars.get(name).cloned()).map_err(|err| err.message)
    }

    const MINIMAL: &str = r#"
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
                Some(ChangeLimit::Percent(10.0)),
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
            err.contains("max_changes must be a count like 25 or a percentage"),
            "{err}"
        );
        let err = load(&MINIMAL.replace("name = \"team\"", "name = \"team\"\nmax_changes = -2"))
            .unwrap_err();
        assert!(err.contains("cannot be negative"), "{err}");
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
        assert!(err.contains("job `team`: destination `file`: config key `token`: refers to ${TOKEN}, which is not set"), "{err}");
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
        let source = &config.jobs[0].source.limits;
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
        let directory = config.jobs[0].source.directory.clone().unwrap();
        assert!(
            directory.path.ends_with("data") && directory.path.is_absolute(),
            "{directory:?}"
        );
        assert!(directory.writable);
    }
}
