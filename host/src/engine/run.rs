//! Running a job: read the source once, then sync each destination on its own.

use super::adapter::{Adapter, AdapterError, Rejected};
use super::options::SyncOptions;
use super::plan::{Plan, plan};
use super::report::{DestinationReport, JobReport, Operation, Rejection, SourceReport, Status};
use futures_util::{StreamExt, stream};
use std::collections::HashSet;

/// Whether a run only plans or also applies its plans.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Read everything, change nothing.
    Plan,
    /// Apply each plan that no guard stopped.
    Apply,
}

/// One destination of a job: its name, its options, and its adapter (or why
/// the adapter could not be started).
pub struct Destination<A> {
    /// The destination's name in the config.
    pub name: String,
    /// How to sync it.
    pub options: SyncOptions,
    /// The started adapter, or why it could not start.
    pub adapter: Result<A, AdapterError>,
}

/// Runs one job: `get` on the source once, then every destination, up to
/// `concurrency` of them at a time; reports come in destination order.
pub async fn run_job<S: Adapter, D: Adapter>(
    name: &str,
    source: Result<S, AdapterError>,
    destinations: Vec<Destination<D>>,
    action: Action,
    concurrency: usize,
) -> JobReport {
    let things = match source {
        Ok(mut source) => read(&mut source, "source").await,
        Err(err) => Err(err),
    };
    let source_report = SourceReport {
        count: things.as_ref().ok().map(Vec::len),
        error: things.as_ref().err().map(ToString::to_string),
    };
    let reports = match &things {
        Ok(things) => {
            stream::iter(destinations)
                .map(|destination| sync_destination(things, destination, action))
                .buffered(concurrency.max(1))
                .collect()
                .await
        }
        Err(_) => destinations
            .into_iter()
            .map(|destination| {
                DestinationReport::new(destination.name, destination.options.mode)
                    .fail("not synced: the source could not be read")
            })
            .collect(),
    };
    JobReport {
        name: name.to_string(),
        source: source_report,
        destinations: reports,
    }
}

/// Reads a list and checks every thing in it is usable.
async fn read(adapter: &mut impl Adapter, side: &str) -> Result<Vec<String>, AdapterError> {
    let things = adapter.get().await?;
    match things.iter().position(|thing| {
        thing.is_empty() || thing.trim() != thing || thing.contains(char::is_control)
    }) {
        None => Ok(things),
        Some(index) => Err(AdapterError::Other(format!(
            "the {side} returned an unusable thing {:?} at position {index} \
             (empty, padded with spaces, or holding control characters): fix the adapter or its data",
            things[index]
        ))),
    }
}

async fn sync_destination<D: Adapter>(
    source: &[String],
    destination: Destination<D>,
    action: Action,
) -> DestinationReport {
    let mut report = DestinationReport::new(destination.name, destination.options.mode);
    let mut adapter = match destination.adapter {
        Ok(adapter) => adapter,
        Err(err) => return report.fail(err),
    };
    let current = match read(&mut adapter, "destination").await {
        Ok(current) => current,
        Err(err) => return report.fail(err),
    };
    let plan = plan(source, &current, &destination.options);
    report.status = match (&plan.blocked, plan.changes(), action) {
        (Some(blocked), _, _) => {
            report.error = Some(blocked.to_string());
            Status::Blocked
        }
        (None, 0, _) => Status::UpToDate,
        (None, _, Action::Plan) => Status::Pending,
        (None, _, Action::Apply) => {
            apply(&mut adapter, &plan, &destination.options, &mut report).await
        }
    };
    report.plan = Some(plan);
    report
}

/// Applies `plan` in the order its mode asks; stops at the first failed call.
async fn apply<D: Adapter>(
    adapter: &mut D,
    plan: &Plan,
    options: &SyncOptions,
    report: &mut DestinationReport,
) -> Status {
    let steps = match options.mode.removes_first() {
        true => [Operation::Remove, Operation::Add],
        false => [Operation::Add, Operation::Remove],
    };
    for operation in steps {
        let (things, done) = match operation {
            Operation::Add => (&plan.add, &mut report.added),
            Operation::Remove => (&plan.remove, &mut report.removed),
        };
        if things.is_empty() {
            continue;
        }
        let result = match operation {
            Operation::Add => adapter.add(things).await,
            Operation::Remove => adapter.remove(things).await,
        };
        match result {
            Ok(rejected) => record(operation, things, rejected, done, &mut report.rejected),
            Err(err) => {
                report.error = Some(format!("{operation} failed: {err}"));
                return Status::Failed;
            }
        }
    }
    Status::Applied
}

/// Notes which things were done and which were rejected.
fn record(
    operation: Operation,
    things: &[String],
    rejected: Vec<Rejected>,
    done: &mut Vec<String>,
    rejections: &mut Vec<Rejection>,
) {
    let refused: HashSet<&str> = rejected.iter().map(|r| r.thing.as_str()).collect();
    done.extend(
        things
            .iter()
            .filter(|thing| !refused.contains(thing.as_str()))
            .cloned(),
    );
    rejections.extend(rejected.into_iter().map(|r| Rejection {
        operation,
        thing: r.thing,
        reason: r.reason,
    }));
}
