//! Running a job: read the source once, then sync each destination on its own.

use super::adapter::{Adapter, AdapterError, Rejected};
use super::options::SyncOptions;
use super::plan::{Plan, fold, plan};
use super::report::{DestinationReport, JobReport, Operation, Rejection, SourceReport, Status};
use crate::text::{code_point, first_hidden};
use futures_util::lock::Mutex;
use futures_util::{StreamExt, stream};
use std::borrow::Cow;
use std::collections::HashSet;
use std::pin::Pin;
use std::sync::Arc;

/// Whether a run only plans or also applies its plans.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Read everything, change nothing.
    Plan,
    /// Apply each plan that no guard stopped.
    Apply,
}

/// Starts an adapter when it is first needed: a destination is started
/// only once the source has been read, and only when its turn comes.
pub type Start<'a, A> = Pin<Box<dyn Future<Output = Result<A, AdapterError>> + Send + 'a>>;

/// One destination of a job: its name, its options, how to start its
/// adapter, and the list it writes.
pub struct Destination<'a, A> {
    /// The destination's name in the config.
    pub name: String,
    /// How to sync it.
    pub options: SyncOptions,
    /// Starts the adapter, or says why it could not start.
    pub adapter: Start<'a, A>,
    /// The list it changes: destinations holding the same [`Target`] are
    /// synced one at a time.
    pub target: Target,
}

/// What a destination writes, as far as running destinations side by side
/// goes: destinations that share one (clones of the same `Target`) are
/// synced one at a time, each reading, planning and writing while the
/// others wait, so none overwrites another's update. A new `Target` is
/// shared with nothing.
#[derive(Debug, Clone, Default)]
pub struct Target(Arc<Mutex<()>>);

/// The source of a job: its adapter (or why it could not be started), and
/// the list it reads.
pub struct Source<A> {
    /// The started adapter, or why it could not start.
    pub adapter: Result<A, AdapterError>,
    /// The list it reads: it is not read while a destination holding the
    /// same [`Target`] is being synced.
    pub target: Target,
}

/// Runs one job: `get` on the source once, then every destination, up to
/// `concurrency` of them at a time; reports come in destination order.
pub async fn run_job<S: Adapter, D: Adapter>(
    name: &str,
    source: Source<S>,
    destinations: Vec<Destination<'_, D>>,
    action: Action,
    concurrency: usize,
) -> JobReport {
    let things = match source.adapter {
        Ok(mut adapter) => {
            let _one_at_a_time = source.target.0.lock().await;
            read(&mut adapter, "source").await
        }
        Err(err) => Err(err),
    };
    let source_report = SourceReport {
        count: things.as_ref().ok().map(Vec::len),
        error: things.as_ref().err().map(ToString::to_string),
    };
    let reports = match &things {
        Ok(things) => {
            // The futures are made first, then run: with the mapping inside
            // the stream, the compiler cannot show a job's future is Send
            // (a known limit of its higher-ranked lifetime checks).
            let syncs: Vec<_> = destinations
                .into_iter()
                .map(|destination| sync_destination(things, destination, action))
                .collect();
            stream::iter(syncs)
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
    match things
        .iter()
        .enumerate()
        .find_map(|(index, thing)| unusable(thing).map(|why| (index, thing, why)))
    {
        None => Ok(things),
        Some((index, thing, why)) => Err(AdapterError::Other(format!(
            "the {side} returned an unusable thing {thing:?}, number {} of {}: {why}; \
             fix the adapter or its data",
            index + 1,
            things.len()
        ))),
    }
}

/// Why a thing cannot be synced, if it cannot: it is empty, padded with
/// spaces, or holds a character that could make it pass for another.
fn unusable(thing: &str) -> Option<String> {
    if thing.is_empty() {
        return Some("it is empty".into());
    }
    if thing.trim() != thing {
        return Some("it starts or ends with white space".into());
    }
    first_hidden(thing).map(|(position, c)| {
        format!(
            "it holds {}, an invisible or control character, at character {position}",
            code_point(c)
        )
    })
}

async fn sync_destination<D: Adapter>(
    source: &[String],
    destination: Destination<'_, D>,
    action: Action,
) -> DestinationReport {
    let mut report = DestinationReport::new(destination.name, destination.options.mode);
    let _one_at_a_time = destination.target.0.lock().await;
    let mut adapter = match destination.adapter.await {
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

/// Applies `plan` in the order its mode asks; stops at the first failed
/// call. Additions and removals go in one call where the adapter takes
/// them together and the order does not matter (see [`steps`]).
async fn apply<D: Adapter>(
    adapter: &mut D,
    plan: &Plan,
    options: &SyncOptions,
    report: &mut DestinationReport,
) -> Status {
    let steps = steps(plan, options);
    if let [(Operation::Add, add), (Operation::Remove, remove)]
    | [(Operation::Remove, remove), (Operation::Add, add)] = steps.as_slice()
        && !add.is_empty()
        && !remove.is_empty()
        && let Some(result) = adapter.apply(add, remove).await
    {
        return applied_together(add, remove, result, report);
    }
    for (operation, things) in steps {
        if things.is_empty() {
            continue;
        }
        let (result, done) = match operation {
            Operation::Add => (adapter.add(&things).await, &mut report.added),
            Operation::Remove => (adapter.remove(&things).await, &mut report.removed),
        };
        match result {
            Ok(rejected) => record(operation, &things, rejected, done, &mut report.rejected),
            Err(err) => {
                report.error = Some(format!("{operation} failed: {err}"));
                return Status::Failed;
            }
        }
    }
    Status::Applied
}

/// Notes what one call applying `add` and `remove` together did.
fn applied_together(
    add: &[String],
    remove: &[String],
    result: Result<Vec<Rejected>, AdapterError>,
    report: &mut DestinationReport,
) -> Status {
    let rejected = match result {
        Ok(rejected) => rejected,
        Err(err) => {
            report.error = Some(format!("apply failed: {err}"));
            return Status::Failed;
        }
    };
    let adding: HashSet<&str> = add.iter().map(String::as_str).collect();
    let (of_add, of_remove): (Vec<Rejected>, Vec<Rejected>) = rejected
        .into_iter()
        .partition(|rejected| adding.contains(rejected.thing.as_str()));
    record(
        Operation::Add,
        add,
        of_add,
        &mut report.added,
        &mut report.rejected,
    );
    record(
        Operation::Remove,
        remove,
        of_remove,
        &mut report.removed,
        &mut report.rejected,
    );
    Status::Applied
}

/// The calls that apply `plan`, in order: additions then removals, or
/// removals first in `remove-add`. But a removal spelt like an addition
/// but for case (possible only with `case_sensitive`) always comes after
/// the additions: where the destination holds both spellings as one account
/// (an email), its adapter can then refuse to remove what it just added,
/// rather than remove it and refuse to add it back.
fn steps(plan: &Plan, options: &SyncOptions) -> Vec<(Operation, Vec<String>)> {
    if !options.mode.removes_first() {
        return vec![
            (Operation::Add, plan.add.clone()),
            (Operation::Remove, plan.remove.clone()),
        ];
    }
    let added: HashSet<Cow<str>> = plan.add.iter().map(|thing| fold(thing)).collect();
    let (twins, others): (Vec<String>, Vec<String>) = plan
        .remove
        .iter()
        .cloned()
        .partition(|thing| added.contains(&fold(thing)));
    let mut steps = vec![
        (Operation::Remove, others),
        (Operation::Add, plan.add.clone()),
    ];
    if !twins.is_empty() {
        steps.push((Operation::Remove, twins));
    }
    steps
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
