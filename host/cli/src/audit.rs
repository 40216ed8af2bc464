//! The audit log (`[audit]` in allsync.toml): every change a sync makes,
//! every rejection and every failed write, one JSON line per thing,
//! appended, flushed and fsync'd before the sync goes on to its next write.
//! An `attempt` line goes before each adapter call, so a run killed in the
//! middle of a call still leaves a trace of what it was doing. The format is
//! documented in README ("Audit log").

use crate::app::AdapterId;
use crate::config::AuditConfig;
use allsync_engine::{Entry, Journal, Operation};
use serde::{Deserialize, Serialize};
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

/// Why the audit log cannot be opened, written or read.
#[derive(Debug, thiserror::Error)]
#[error("audit log {}: {why}", path.display())]
pub struct AuditError {
    /// The log file.
    pub path: PathBuf,
    /// What went wrong, and what to do.
    pub why: String,
}

/// What came of one thing in one adapter call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// The call that changes it is about to be made.
    Attempt,
    /// It was changed.
    Applied,
    /// The adapter refused to change it (see `reason`).
    Rejected,
    /// The call failed (see `reason`): it may or may not have been changed.
    Failed,
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Outcome::Attempt => "attempt",
            Outcome::Applied => "applied",
            Outcome::Rejected => "rejected",
            Outcome::Failed => "failed",
        })
    }
}

/// One line of the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// When it was written (RFC 3339, UTC).
    pub time: String,
    /// The run it belongs to: every line of one `sync` or `apply` shares it.
    pub run: String,
    /// `sync` or `apply`.
    pub command: String,
    /// The job's name.
    pub job: String,
    /// The destination's name.
    pub destination: String,
    /// The destination's adapter.
    pub adapter: AdapterId,
    /// `add` or `remove`.
    pub operation: Operation,
    /// The thing added or removed.
    pub thing: String,
    /// What came of it.
    pub outcome: Outcome,
    /// Why it was rejected or failed.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub reason: Option<String>,
}

/// The audit log of one run, open for appending.
pub struct AuditLog {
    path: PathBuf,
    file: Mutex<File>,
    stderr: bool,
    run: String,
    command: &'static str,
}

impl AuditLog {
    /// Opens (creating it if need be, readable by this user alone) the log
    /// `config` names, for a run of `command`.
    pub fn open(config: &AuditConfig, command: &'static str) -> Result<Arc<Self>, AuditError> {
        let fail = |why: String| AuditError {
            path: config.file.clone(),
            why,
        };
        let mut file = open_append(&config.file).map_err(|err| {
            fail(format!(
                "cannot open it for appending: {err}; nothing was changed (fix [audit] file in \
                 allsync.toml, or the file's permissions)"
            ))
        })?;
        end_last_line(&mut file).map_err(|err| fail(format!("cannot read its end: {err}")))?;
        Ok(Arc::new(AuditLog {
            path: config.file.clone(),
            file: Mutex::new(file),
            stderr: config.stderr,
            run: run_id(),
            command,
        }))
    }

    /// The journal of one destination of one job.
    pub fn journal(
        self: &Arc<Self>,
        job: &str,
        destination: &str,
        adapter: AdapterId,
    ) -> Arc<dyn Journal> {
        Arc::new(DestinationJournal {
            log: self.clone(),
            job: job.to_string(),
            destination: destination.to_string(),
            adapter,
        })
    }

    /// Appends `records` and waits until they are on disk.
    fn append(&self, records: &[Record]) -> Result<(), String> {
        let mut lines = String::new();
        for record in records {
            lines.push_str(&serde_json::to_string(record).expect("a record serialises"));
            lines.push('\n');
        }
        let mut file = self
            .file
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        file.write_all(lines.as_bytes())
            .and_then(|()| file.sync_data())
            .map_err(|err| format!("cannot append to {}: {err}", self.path.display()))?;
        if self.stderr {
            eprint!("{lines}");
        }
        Ok(())
    }
}

/// Opens `path` for appending, creating it readable and writable by its owner alone.
fn open_append(path: &Path) -> std::io::Result<File> {
    let mut options = std::fs::OpenOptions::new();
    options.append(true).read(true).create(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let file = options.open(path)?;
    if !file.metadata()?.is_file() {
        return Err(std::io::Error::other("it is not a regular file"));
    }
    Ok(file)
}

/// Ends a last line cut short (by a crash mid-write), so the next record
/// starts on a line of its own.
fn end_last_line(file: &mut File) -> std::io::Result<()> {
    if file.metadata()?.len() == 0 {
        return Ok(());
    }
    file.seek(SeekFrom::End(-1))?;
    let mut last = [0u8];
    file.read_exact(&mut last)?;
    if last[0] != b'\n' {
        file.write_all(b"\n")?;
        file.sync_data()?;
    }
    Ok(())
}

/// A run's id: when it started (Unix seconds, hex) and 32 random bits.
fn run_id() -> String {
    let seconds = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |since| since.as_secs());
    let mut random = [0u8; 4];
    // Without randomness the time alone still tells runs apart.
    let _ = getrandom::fill(&mut random);
    format!("{seconds:x}-{}", u32::from_be_bytes(random))
}

/// The journal of one destination: its entries become audit records.
struct DestinationJournal {
    log: Arc<AuditLog>,
    job: String,
    destination: String,
    adapter: AdapterId,
}

impl DestinationJournal {
    fn record(
        &self,
        operation: Operation,
        thing: &str,
        outcome: Outcome,
        reason: Option<&str>,
    ) -> Record {
        Record {
            time: humantime::format_rfc3339_millis(SystemTime::now()).to_string(),
            run: self.log.run.clone(),
            command: self.log.command.to_string(),
            job: self.job.clone(),
            destination: self.destination.clone(),
            adapter: self.adapter.clone(),
            operation,
            thing: thing.to_string(),
            outcome,
            reason: reason.map(str::to_string),
        }
    }
}

impl Journal for DestinationJournal {
    fn record(&self, entries: &[Entry<'_>]) -> Result<(), String> {
        let mut records = Vec::new();
        for entry in entries {
            match *entry {
                Entry::Attempt { operation, things } => records.extend(
                    things
                        .iter()
                        .map(|thing| self.record(operation, thing, Outcome::Attempt, None)),
                ),
                Entry::Done { operation, things } => records.extend(
                    things
                        .iter()
                        .map(|thing| self.record(operation, thing, Outcome::Applied, None)),
                ),
                Entry::Rejected(rejection) => records.push(self.record(
                    rejection.operation,
                    &rejection.thing,
                    Outcome::Rejected,
                    Some(&rejection.reason),
                )),
                Entry::Failed {
                    operation,
                    things,
                    error,
                } => records.extend(
                    things
                        .iter()
                        .map(|thing| self.record(operation, thing, Outcome::Failed, Some(error))),
                ),
            }
        }
        self.log.append(&records)
    }
}

/// What `allsync audit` looks for.
#[derive(Debug, Clone, Default)]
pub struct Query {
    /// Only this thing (compared ignoring ASCII case).
    pub thing: Option<String>,
    /// Only this job.
    pub job: Option<String>,
    /// Only this destination.
    pub destination: Option<String>,
}

impl Query {
    fn matches(&self, record: &Record) -> bool {
        self.thing
            .as_ref()
            .is_none_or(|thing| thing.eq_ignore_ascii_case(&record.thing))
            && self.job.as_ref().is_none_or(|job| *job == record.job)
            && self
                .destination
                .as_ref()
                .is_none_or(|destination| *destination == record.destination)
    }
}

/// What the log says, oldest first: the records `query` matches, leaving
/// out each attempt whose outcome was recorded (an attempt left in ended
/// with no outcome: its run was cut short); and a problem per line that is
/// not a record, by line number.
pub fn search(path: &Path, query: &Query) -> Result<(Vec<Record>, Vec<String>), AuditError> {
    let fail = |why: String| AuditError {
        path: path.to_path_buf(),
        why,
    };
    let file = File::open(path).map_err(|err| fail(format!("cannot read it: {err}")))?;
    let mut records: Vec<Record> = Vec::new();
    let mut problems = Vec::new();
    for (index, line) in BufReader::new(file).lines().enumerate() {
        let line = line.map_err(|err| fail(format!("cannot read line {}: {err}", index + 1)))?;
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<Record>(&line) {
            Ok(record) if query.matches(&record) => records.push(record),
            Ok(_) => {}
            Err(err) => problems.push(format!(
                "{} line {}: not an audit record ({err}); skipped",
                path.display(),
                index + 1
            )),
        }
    }
    Ok((settled(records), problems))
}

/// `records` without the attempts that a later record of the same run,
/// destination, operation and thing settled.
fn settled(records: Vec<Record>) -> Vec<Record> {
    let key = |record: &Record| {
        (
            record.run.clone(),
            record.job.clone(),
            record.destination.clone(),
            record.operation,
            record.thing.clone(),
        )
    };
    let outcomes: std::collections::HashSet<_> = records
        .iter()
        .filter(|record| record.outcome != Outcome::Attempt)
        .map(key)
        .collect();
    records
        .into_iter()
        .filter(|record| record.outcome != Outcome::Attempt || !outcomes.contains(&key(record)))
        .collect()
}
