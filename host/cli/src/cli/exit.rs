//! The exit codes of `allsync`, documented in `--help` and the README.

use crate::app::{AppError, RunReport};
use allsync_engine::Status;
use allsync_runtime::RuntimeError;
use std::process::ExitCode;

/// What `--help` says about exit codes.
pub const HELP: &str = "\
Exit codes:
  0  success: everything is in sync (sync), or the plan was shown (plan)
  1  unexpected error
  2  usage error (bad command line)
  3  configuration error (allsync.toml, environment, adapter config or grants); nothing was run
  4  an adapter failed, crashed, or rejected things
  5  a guard stopped a destination before any write (max_changes, empty source)
  6  plan --detailed-exitcode only: there are changes to apply
  7  apply: the saved plan is stale (the config, an adapter or a list changed since); nothing was changed
When several apply, the lowest non-zero code of 3, 4, 5, 6, 7 wins.";

/// The exit codes, in order of precedence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Exit {
    Ok = 0,
    Unexpected = 1,
    Config = 3,
    AdapterFailed = 4,
    Blocked = 5,
    ChangesPending = 6,
    Stale = 7,
}

impl Exit {
    /// The exit code a plan or sync ends with.
    pub fn of_run(report: &RunReport, detailed: bool) -> Exit {
        // A source that fails marks each of its destinations as failed.
        report
            .jobs
            .iter()
            .flat_map(|job| &job.destinations)
            .map(|destination| match destination.status {
                Status::Failed => Exit::AdapterFailed,
                _ if !destination.rejected.is_empty() => Exit::AdapterFailed,
                Status::Blocked => Exit::Blocked,
                Status::Stale => Exit::Stale,
                Status::Pending if detailed => Exit::ChangesPending,
                _ => Exit::Ok,
            })
            .filter(|exit| *exit != Exit::Ok)
            .min()
            .unwrap_or(Exit::Ok)
    }
}

impl From<&AppError> for Exit {
    fn from(err: &AppError) -> Self {
        match err {
            AppError::Config(_)
            | AppError::Mismatch { .. }
            | AppError::UnknownAdapter(_)
            | AppError::Invalid(_)
            | AppError::Audit(_)
            | AppError::SavedPlan(_)
            | AppError::Lock(_) => Exit::Config,
            AppError::Stale(_) => Exit::Stale,
            AppError::Plugin(RuntimeError::Read { .. }) => Exit::Config,
            AppError::Plugin(RuntimeError::Invalid { .. }) => Exit::AdapterFailed,
            AppError::Plugin(RuntimeError::Setup(_)) => Exit::Unexpected,
        }
    }
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> Self {
        ExitCode::from(exit as u8)
    }
}
