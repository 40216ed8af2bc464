//! Running a job: read the source once, then sync each destination on its own.

use super::adapter::{Adapter, AdapterError, Rejected};
use super::journal::{Entry, Journal};
use super::options::SyncOptions;
use super::plan::{Changes, Plan, fold, plan};
use super::report::{DestinationReport, JobReport, Operation, Rejection, SourceReport, Status};
use super::sources::{Blend, Combine, Combined, Role, combine, transform};
use crate::text::{code_point, first_hidden};
use futures_util::lock::Mutex;
use futures_util::{StreamExt, stream};
use std::borrow::Cow;
use std::collections::HashSet;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

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
    /// The changes a saved plan expects of it: if its plan now differs, it
    /// is [`Status::Stale`] and nothing is written.
    pub expected: Option<Changes>,
    /// Where its writes are recorded as they happen, if anywhere.
    pub journal: Option<Arc<dyn Journal>>,
    /// Once set, it makes no further write (nor starts, if it has not yet).
    pub stop: Stop,
}

/// Asks running jobs to stop before their next write: every clone of one
/// `Stop` shares it. A call already made is let finish.
#[derive(Debug, Clone, Default)]
pub struct Stop(Arc<AtomicBool>);

impl Stop {
    /// Asks everything holding a clone to stop.
    pub fn stop(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    /// Whether it has been asked to stop.
    pub fn is_stopped(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
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

/// A job's sources, and how their things are combined into one list.
pub struct Sources<A> {
    /// Each source, with how its things are transformed and whether they are
    /// wanted or excluded.
    pub list: Vec<(Blend, Source<A>)>,
    /// How the included sources are joined.
    pub combine: Combine,
    /// Whether things are compared exactly when combining.
    pub case_sensitive: bool,
}

impl<A> From<Source<A>> for Sources<A> {
    /// One source, taken as it is.
    fn from(source: Source<A>) -> Self {
        Sources {
            list: vec![(Blend::default(), source)],
            combine: Combine::Union,
            case_sensitive: false,
        }
    }
}

/// Runs one job: `get` on each source once, then every destination, up to
/// `concurrency` of them at a time; reports come in destination order. If a
/// source cannot be read, no destination is touched.
pub async fn run_job<S: Adapter, D: Adapter>(
    name: &str,
    sources: impl Into<Sources<S>>,
    destinations: Vec<Destination<'_, D>>,
    action: Action,
    concurrency: usize,
) -> JobReport {
    let combined = read_sources(sources.into()).await;
    let source_report = SourceReport {
        count: combined.as_ref().ok().map(|combined| combined.things.len()),
        error: combined.as_ref().err().map(ToString::to_string),
    };
    let reports = match &combined {
        Ok(combined) => {
            // The futures are made first, then run: with the mapping inside
            // the stream, the compiler cannot show a job's future is Send
            // (a known limit of its higher-ranked lifetime checks).
            let syncs: Vec<_> = destinations
                .into_iter()
                .map(|destination| sync_destination(combined, destination, action))
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

/// Reads every source, one after another, and combines what they hold.
async fn read_sources<S: Adapter>(sources: Sources<S>) -> Result<Combined, AdapterError> {
    let several = sources.list.len() > 1;
    let mut read_lists = Vec::with_capacity(sources.list.len());
    for (blend, source) in sources.list {
        let side = match several {
            true => format!("source `{}`", blend.name),
            false => "source".to_string(),
        };
        let things = match source.adapter {
            Ok(mut adapter) => {
                let _one_at_a_time = source.target.0.lock().await;
                read(&mut adapter, &side).await
            }
            Err(err) => Err(err),
        }
        .map_err(|err| match several {
            true => err.map_message(|message| format!("{side}: {message}")),
            false => err,
        })?;
        let things = transform(things, &blend.transforms);
        read_lists.push((blend, things));
    }
    match read_lists.as_slice() {
        [(blend, _)] if blend.role == Role::Include => Ok(Combined {
            things: read_lists.pop().expect("one list").1,
            ..Combined::default()
        }),
        _ => Ok(combine(read_lists, sources.combine, sources.case_sensitive)),
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
    source: &Combined,
    destination: Destination<'_, D>,
    action: Action,
) -> DestinationReport {
    let mut report = DestinationReport::new(destination.name, destination.options.mode);
    let _one_at_a_time = destination.target.0.lock().await;
    if destination.stop.is_stopped() {
        return report.fail("not synced: allsync was asked to stop before it started");
    }
    let mut adapter = match destination.adapter.await {
        Ok(adapter) => adapter,
        Err(err) => return report.fail(err),
    };
    let current = match read(&mut adapter, "destination").await {
        Ok(current) => current,
        Err(err) => return report.fail(err),
    };
    let mut plan = plan(&source.things, &current, &destination.options);
    if !source.from.is_empty() {
        plan.add_from = plan
            .add
            .iter()
            .map(|thing| source.from.get(thing).cloned().unwrap_or_default())
            .collect();
    }
    let drift = destination
        .expected
        .as_ref()
        .and_then(|expected| plan.drift_from(expected));
    report.status = match (&plan.blocked, drift, plan.changes(), action) {
        (Some(blocked), _, _, _) => {
            report.error = Some(blocked.to_string());
            Status::Blocked
        }
        (None, Some(drift), _, _) => {
            report.error = Some(format!(
                "the saved plan no longer holds: compared with it, this destination {drift}; \
                 nothing was changed (make a new plan with `allsync plan -o` and review it)"
            ));
            Status::Stale
        }
        (None, None, 0, _) => Status::UpToDate,
        (None, None, _, Action::Plan) => Status::Pending,
        (None, None, _, Action::Apply) => {
            let mut writer = Writer {
                adapter: &mut adapter,
                journal: destination.journal.as_deref(),
                stop: &destination.stop,
                report: &mut report,
            };
            writer.apply(&plan, &destination.options).await
        }
    };
    report.plan = Some(plan);
    report
}

/// What applies a plan to one destination: its adapter, where its writes
/// are recorded, and its report.
struct Writer<'a, D> {
    adapter: &'a mut D,
    journal: Option<&'a dyn Journal>,
    stop: &'a Stop,
    report: &'a mut DestinationReport,
}

impl<D: Adapter> Writer<'_, D> {
    /// Applies `plan` in the order its mode asks; stops at the first failed
    /// call. Additions and removals go in one call where the adapter takes
    /// them together and the order does not matter (see [`steps`]).
    async fn apply(&mut self, plan: &Plan, options: &SyncOptions) -> Status {
        let steps = steps(plan, options);
        // Whether the attempts were recorded already, for a call of both at
        // once that the adapter declined (having changed nothing).
        let mut announced = false;
        if let [(Operation::Add, add), (Operation::Remove, remove)]
        | [(Operation::Remove, remove), (Operation::Add, add)] = steps.as_slice()
            && !add.is_empty()
            && !remove.is_empty()
        {
            if let Err(status) = self.may_write() {
                return status;
            }
            if let Err(status) = self.attempt(&[(Operation::Add, add), (Operation::Remove, remove)])
            {
                return status;
            }
            if let Some(result) = self.adapter.apply(add, remove).await {
                return self.applied_together(add, remove, result);
            }
            announced = true;
        }
        for (operation, things) in &steps {
            if things.is_empty() {
                continue;
            }
            if let Err(status) = self.may_write() {
                return status;
            }
            if !announced && let Err(status) = self.attempt(&[(*operation, things)]) {
                return status;
            }
            let result = match operation {
                Operation::Add => self.adapter.add(things).await,
                Operation::Remove => self.adapter.remove(things).await,
            };
            let outcome = match result {
                Ok(rejected) => self.record(*operation, things, rejected),
                Err(err) => self.failed(&[(*operation, things)], &err),
            };
            if outcome != Status::Applied {
                return outcome;
            }
        }
        Status::Applied
    }

    /// Notes what one call applying `add` and `remove` together did.
    fn applied_together(
        &mut self,
        add: &[String],
        remove: &[String],
        result: Result<Vec<Rejected>, AdapterError>,
    ) -> Status {
        let rejected = match result {
            Ok(rejected) => rejected,
            Err(err) => {
                return self.failed(&[(Operation::Add, add), (Operation::Remove, remove)], &err);
            }
        };
        let adding: HashSet<&str> = add.iter().map(String::as_str).collect();
        let (of_add, of_remove): (Vec<Rejected>, Vec<Rejected>) = rejected
            .into_iter()
            .partition(|rejected| adding.contains(rejected.thing.as_str()));
        match self.record(Operation::Add, add, of_add) {
            Status::Applied => self.record(Operation::Remove, remove, of_remove),
            stopped => stopped,
        }
    }

    /// `Err` once the run was asked to stop: no new write is begun.
    fn may_write(&mut self) -> Result<(), Status> {
        if !self.stop.is_stopped() {
            return Ok(());
        }
        self.report.error = Some(
            "stopped before its next write: allsync was asked to stop; the next run makes the rest"
                .into(),
        );
        Err(Status::Failed)
    }

    /// Records that these calls are about to be made; `Err` if they must not be.
    fn attempt(&mut self, calls: &[(Operation, &[String])]) -> Result<(), Status> {
        let entries: Vec<Entry> = calls
            .iter()
            .map(|(operation, things)| Entry::Attempt {
                operation: *operation,
                things,
            })
            .collect();
        self.keep(&entries)
    }

    /// Notes which things were done and which were rejected.
    fn record(
        &mut self,
        operation: Operation,
        things: &[String],
        rejected: Vec<Rejected>,
    ) -> Status {
        let refused: HashSet<&str> = rejected.iter().map(|r| r.thing.as_str()).collect();
        let done: Vec<String> = things
            .iter()
            .filter(|thing| !refused.contains(thing.as_str()))
            .cloned()
            .collect();
        let rejections: Vec<Rejection> = rejected
            .into_iter()
            .map(|r| Rejection {
                operation,
                thing: r.thing,
                reason: r.reason,
            })
            .collect();
        let entries: Vec<Entry> = std::iter::once(Entry::Done {
            operation,
            things: &done,
        })
        .filter(|_| !done.is_empty())
        .chain(rejections.iter().map(Entry::Rejected))
        .collect();
        let kept = self.keep(&entries);
        match operation {
            Operation::Add => self.report.added.extend(done),
            Operation::Remove => self.report.removed.extend(done),
        }
        self.report.rejected.extend(rejections);
        match kept {
            Ok(()) => Status::Applied,
            Err(status) => status,
        }
    }

    /// Notes that a call making `calls` failed.
    fn failed(&mut self, calls: &[(Operation, &[String])], err: &AdapterError) -> Status {
        let label = match calls {
            [(operation, _)] => operation.to_string(),
            _ => "apply".to_string(),
        };
        let error = format!("{label} failed: {err}");
        let entries: Vec<Entry> = calls
            .iter()
            .map(|(operation, things)| Entry::Failed {
                operation: *operation,
                things,
                error: &error,
            })
            .collect();
        let unrecorded = self.keep(&entries).is_err();
        if unrecorded {
            let why = self.report.error.take().unwrap_or_default();
            self.report.error = Some(format!("{error}; {why}"));
        } else {
            self.report.error = Some(error);
        }
        Status::Failed
    }

    /// Hands `entries` to the journal; if it cannot keep them, the
    /// destination has failed and writes nothing more.
    fn keep(&mut self, entries: &[Entry]) -> Result<(), Status> {
        let Some(journal) = self.journal.filter(|_| !entries.is_empty()) else {
            return Ok(());
        };
        journal.record(entries).map_err(|why| {
            self.report.error = Some(format!(
                "the audit log could not be written ({why}); nothing more was changed"
            ));
            Status::Failed
        })
    }
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
