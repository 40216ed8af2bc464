//! Saved plans (`allsync plan -o plan.json`, `allsync apply plan.json`):
//! what a plan found, with what it depends on (the config's and each
//! adapter's sha256), so that `apply` makes exactly those changes or none.
//! The format is documented in README ("Saved plans").

use crate::app::{AdapterId, RunReport};
use allsync_engine::{Changes, Status};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// What `format` says in every saved plan.
const FORMAT: &str = "allsync-plan";
/// The format version this allsync writes and reads.
const VERSION: u32 = 1;

/// Why a saved plan cannot be written or read.
#[derive(Debug, thiserror::Error)]
#[error("saved plan {}: {why}", path.display())]
pub struct SavedPlanError {
    /// The plan file.
    pub path: PathBuf,
    /// What went wrong, and what to do.
    pub why: String,
}

/// A plan, saved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedPlan {
    /// Always `allsync-plan`.
    pub format: String,
    /// The format's version (1).
    pub version: u32,
    /// The allsync version that made it.
    pub allsync: String,
    /// When it was made (RFC 3339, UTC).
    pub created: String,
    /// The config it was made from.
    pub config: ConfigId,
    /// Every adapter its jobs use.
    pub adapters: Vec<AdapterId>,
    /// The jobs it covers, each destination with its changes.
    pub jobs: Vec<SavedJob>,
}

/// The config file a plan was made from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigId {
    /// Its path, as given.
    pub path: PathBuf,
    /// The sha256 of its bytes.
    pub sha256: String,
}

/// One job of a saved plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedJob {
    /// The job's name.
    pub name: String,
    /// Its destinations, in config order.
    pub destinations: Vec<SavedDestination>,
}

/// One destination of a saved plan: what applying the plan does to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedDestination {
    /// The destination's name.
    pub name: String,
    /// Its adapter's name.
    pub adapter: String,
    /// How the plan found it: `pending` (changes to make), `up-to-date`,
    /// `blocked` or `failed` (nothing will be changed).
    pub status: Status,
    /// What applying adds.
    pub add: Vec<String>,
    /// What applying removes.
    pub remove: Vec<String>,
    /// Why it was blocked or failed.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub note: Option<String>,
}

/// The changes a saved plan expects, per job and destination.
pub type Expectations = HashMap<(String, String), Changes>;

impl SavedPlan {
    /// The plan `report` (of a `plan` run) shows, made from `config` with
    /// `adapters`; `adapter_of(job, destination)` names a destination's adapter.
    pub fn new(
        report: &RunReport,
        config: ConfigId,
        adapters: Vec<AdapterId>,
        adapter_of: impl Fn(&str, &str) -> String,
    ) -> Self {
        let jobs = report
            .jobs
            .iter()
            .map(|job| SavedJob {
                name: job.name.clone(),
                destinations: job
                    .destinations
                    .iter()
                    .map(|destination| {
                        let plan = destination
                            .plan
                            .as_ref()
                            .filter(|_| destination.status == Status::Pending);
                        SavedDestination {
                            name: destination.name.clone(),
                            adapter: adapter_of(&job.name, &destination.name),
                            status: destination.status,
                            add: plan.map(|plan| plan.add.clone()).unwrap_or_default(),
                            remove: plan.map(|plan| plan.remove.clone()).unwrap_or_default(),
                            note: destination.error.clone(),
                        }
                    })
                    .collect(),
            })
            .collect();
        SavedPlan {
            format: FORMAT.into(),
            version: VERSION,
            allsync: env!("CARGO_PKG_VERSION").into(),
            created: humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
            config,
            adapters,
            jobs,
        }
    }

    /// Writes the plan to `path`, whole or not at all, readable by this user alone.
    pub fn write(&self, path: &Path) -> Result<(), SavedPlanError> {
        let fail = |why: String| SavedPlanError {
            path: path.to_path_buf(),
            why,
        };
        let mut text = serde_json::to_vec_pretty(self).expect("a saved plan serialises");
        text.push(b'\n');
        crate::files::write_whole(path, &text)
            .map_err(|err| fail(format!("cannot write it: {err}")))
    }

    /// Reads a plan file, refusing anything but a saved plan of a version this allsync reads.
    pub fn read(path: &Path) -> Result<Self, SavedPlanError> {
        let fail = |why: String| SavedPlanError {
            path: path.to_path_buf(),
            why,
        };
        let text =
            std::fs::read_to_string(path).map_err(|err| fail(format!("cannot read it: {err}")))?;
        let value: serde_json::Value = serde_json::from_str(text.trim_start_matches('\u{feff}'))
            .map_err(|err| fail(format!("not JSON: {err}; make it with `allsync plan -o`")))?;
        if value.get("format").and_then(|format| format.as_str()) != Some(FORMAT) {
            return Err(fail(format!(
                "not a saved plan (no \"format\": \"{FORMAT}\"); make one with `allsync plan -o`"
            )));
        }
        match value.get("version").and_then(|version| version.as_u64()) {
            Some(version) if version == u64::from(VERSION) => {}
            version => {
                return Err(fail(format!(
                    "format version {} is not one this allsync ({}) reads (it reads {VERSION}): \
                     make the plan again with this allsync",
                    version.map_or("(none)".to_string(), |v| v.to_string()),
                    env!("CARGO_PKG_VERSION")
                )));
            }
        }
        serde_json::from_value(value).map_err(|err| fail(format!("malformed: {err}")))
    }

    /// The names of the jobs it covers.
    pub fn job_names(&self) -> Vec<String> {
        self.jobs.iter().map(|job| job.name.clone()).collect()
    }

    /// The changes each destination is expected to make: a pending
    /// destination's, and none for every other.
    pub fn expectations(&self) -> Expectations {
        self.jobs
            .iter()
            .flat_map(|job| {
                job.destinations.iter().map(|destination| {
                    (
                        (job.name.clone(), destination.name.clone()),
                        Changes {
                            add: destination.add.clone(),
                            remove: destination.remove.clone(),
                        },
                    )
                })
            })
            .collect()
    }

    /// What differs between the files the plan was made from and those
    /// used now (`config`, `adapters`), each as a sentence.
    pub fn file_drift(&self, config: &ConfigId, adapters: &[AdapterId]) -> Vec<String> {
        if self.config.sha256 != config.sha256 {
            let which = match self.config.path == config.path {
                true => format!(
                    "{} has changed since the plan was made",
                    config.path.display()
                ),
                false => format!(
                    "the plan was made for another config ({}), not {}",
                    self.config.path.display(),
                    config.path.display()
                ),
            };
            return vec![format!(
                "{which} (sha256 {} then, {} now); make a new plan with `allsync plan -o`",
                self.config.sha256, config.sha256
            )];
        }
        self.adapters
            .iter()
            .filter_map(|saved| {
                let now = adapters.iter().find(|adapter| adapter.name == saved.name);
                match now {
                    Some(now) if now.sha256 == saved.sha256 => None,
                    Some(now) => Some(format!(
                        "adapter `{}` has changed since the plan was made (version {}, sha256 {} \
                         then; version {}, sha256 {} now); make a new plan with `allsync plan -o`",
                        saved.name, saved.version, saved.sha256, now.version, now.sha256
                    )),
                    None => Some(format!("adapter `{}` is no longer used", saved.name)),
                }
            })
            .collect()
    }
}
