//! A running adapter instance, seen by the engine as an [`Adapter`].
//!
//! Every call runs within the instance's time limits; an instance that
//! crashed, broke a limit or timed out is never called again. Everything it
//! returns passes through its [`Secrets`], and what the host refused on its
//! behalf is added to its errors.

use super::AdapterInfo;
use super::activity::Activity;
use super::bindings::allsync::adapter::types::{Error as WitError, Rejected as WitRejected};
use super::bindings::{Plugin as Bindings, PluginPre};
use super::grants::Grants;
use super::limits::Limits;
use super::route::Incidents;
use super::sandbox::Sandbox;
use super::secrets::Secrets;
use super::things::{Overflow, ThingLimits, Things, with_limits};
use super::{APPLY, CONTRACT};
use allsync_engine::text::one_line;
use allsync_engine::{Adapter, AdapterError, Rejected};
use std::time::{Duration, Instant};
use tokio::time::error::Elapsed;
use wasmtime::component::{ComponentExportIndex, Instance, TypedFunc};
use wasmtime::{Engine, Store, Trap, UpdateDeadline};

/// One instance of an adapter component.
pub struct WasmAdapter {
    label: String,
    store: Store<Sandbox>,
    bindings: Bindings,
    /// `get`, lifting its list within the limits (see `things.rs`).
    get: TypedFunc<(), (Result<Things, WitError>,)>,
    /// `apply`, where the adapter exports it.
    apply: Option<ApplyFunc>,
    secrets: Secrets,
    incidents: Incidents,
    activity: Activity,
    limits: Limits,
    deadline: Instant,
    broken: Option<String>,
}

/// How long a call may take, and which limit says so.
struct Budget {
    time: Duration,
    limit: String,
}

type Outcome<T> = Result<wasmtime::Result<Result<T, WitError>>, Elapsed>;

impl WasmAdapter {
    /// Instantiates `pre` as `label` in a sandbox with `grants` and
    /// `limits`, recording what it does in `activity`.
    pub(super) async fn instantiate(
        engine: &Engine,
        pre: &PluginPre<Sandbox>,
        label: &str,
        grants: &Grants,
        limits: &Limits,
        secrets: Secrets,
        activity: Activity,
    ) -> Result<Self, AdapterError> {
        let incidents = Incidents::new(secrets.clone());
        let sandbox = Sandbox::new(
            label,
            grants,
            limits,
            secrets.clone(),
            incidents.clone(),
            activity.clone(),
        )
        .map_err(|err| {
            AdapterError::Other(format!("cannot set up the sandbox of {label}: {err}"))
        })?;
        let mut store = Store::new(engine, sandbox);
        store.limiter(|sandbox| &mut sandbox.memory);
        store.set_hostcall_fuel(limits.transfer_bytes());
        // Fails only when fuel metering is off, which means no instance has a fuel limit.
        let _ = store.set_fuel(limits.fuel.unwrap_or(u64::MAX));
        // Yield to the executor at every epoch tick, so time limits can fire
        // even while the guest spins.
        store.epoch_deadline_callback(|_| Ok(UpdateDeadline::Yield(1)));
        store.set_epoch_deadline(1);
        let time = Duration::from_secs(limits.init_timeout_secs);
        let instance = tokio::time::timeout(time, pre.instance_pre().instantiate_async(&mut store))
            .await
            .map_err(|_| {
                AdapterError::Other(format!(
                    "{label} did not start within limits.init_timeout_secs = {}",
                    limits.init_timeout_secs
                ))
            })?
            .map_err(|err| AdapterError::Other(format!("{label} failed to start: {err:#}")))?;
        let failed =
            |err: wasmtime::Error| AdapterError::Other(format!("{label} failed to start: {err:#}"));
        let bindings = Bindings::new(&mut store, &instance).map_err(failed)?;
        let get = typed_get(&mut store, &instance).map_err(failed)?;
        let apply = typed_apply(&mut store, &instance).map_err(failed)?;
        Ok(WasmAdapter {
            label: label.to_string(),
            store,
            bindings,
            get,
            apply,
            secrets,
            incidents,
            activity,
            limits: limits.clone(),
            deadline: Instant::now() + Duration::from_secs(limits.job_timeout_secs),
            broken: None,
        })
    }

    /// Asks the adapter to describe itself.
    pub(super) async fn describe(&mut self) -> Result<AdapterInfo, AdapterError> {
        let budget = self.begin("describe")?;
        let guest = self.bindings.allsync_adapter_adapter();
        let outcome = tokio::time::timeout(budget.time, async {
            guest.call_describe(&mut self.store).await.map(Ok)
        })
        .await;
        self.settle("describe", &budget, outcome)
            .map(AdapterInfo::from)
    }

    /// Initialises the adapter with its config.
    pub(super) async fn init(&mut self, config: &[(String, String)]) -> Result<(), AdapterError> {
        let budget = self.begin("init")?;
        let guest = self.bindings.allsync_adapter_adapter();
        let outcome = tokio::time::timeout(
            budget.time,
            guest.call_init(&mut self.store, &config.to_vec()),
        )
        .await;
        self.settle("init", &budget, outcome)
    }

    /// Checks the instance may be called, and readies its per-call limits.
    fn begin(&mut self, call: &'static str) -> Result<Budget, AdapterError> {
        if let Some(why) = &self.broken {
            return Err(AdapterError::Other(format!(
                "{} was stopped earlier in this run ({why})",
                self.label
            )));
        }
        self.store.data_mut().outbound.start_call();
        self.activity.begin(call);
        match self.limits.fuel {
            Some(fuel) => self
                .store
                .set_fuel(fuel)
                .map_err(|err| AdapterError::Other(format!("cannot set fuel: {err}")))?,
            // Fails only when no instance has a fuel limit, and fuel is off.
            None => drop(self.store.set_fuel(u64::MAX)),
        }
        let left = self.deadline.saturating_duration_since(Instant::now());
        let (seconds, setting) = match call {
            "describe" | "init" => (self.limits.init_timeout_secs, "init_timeout_secs"),
            _ => (self.limits.call_timeout_secs, "call_timeout_secs"),
        };
        let budget = match Duration::from_secs(seconds) {
            time if time <= left => Budget {
                time,
                limit: format!("limits.{setting} = {seconds}"),
            },
            _ => Budget {
                time: left,
                limit: format!(
                    "the job's limits.job_timeout_secs = {}",
                    self.limits.job_timeout_secs
                ),
            },
        };
        match budget.time.is_zero() {
            true => Err(AdapterError::Other(format!(
                "{call} was not started: {} ran out",
                budget.limit
            ))),
            false => Ok(budget),
        }
    }

    /// Turns a call's outcome into the engine's terms.
    fn settle<T>(
        &mut self,
        call: &str,
        budget: &Budget,
        outcome: Outcome<T>,
    ) -> Result<T, AdapterError> {
        self.activity.end();
        let incidents = self.incidents.take();
        let error = match outcome {
            Ok(Ok(Ok(value))) => return Ok(value),
            Ok(Ok(Err(error))) => convert(error),
            Ok(Err(trap)) => self.stop(self.explain_trap(call, &trap)),
            Err(_) if self.store.data().memory.hit => self.stop(format!(
                "{call} ran out of memory: the adapter reached limits.memory_mb = {} and, refused \
                 more, kept running until it was stopped after {} s ({})",
                self.limits.memory_mb,
                budget.time.as_secs(),
                budget.limit
            )),
            Err(_) => self.stop(format!(
                "{call} did not finish within {} s ({})",
                budget.time.as_secs(),
                budget.limit
            )),
        };
        Err(error.map_message(|mut message| {
            for incident in incidents {
                message.push_str(&format!(" [allsync {incident}]"));
            }
            self.secrets.redact(&one_line(&message))
        }))
    }

    /// Marks the instance as never to be called again.
    fn stop(&mut self, why: String) -> AdapterError {
        self.broken = Some(why.clone());
        AdapterError::Other(why)
    }

    fn explain_trap(&self, call: &str, trap: &wasmtime::Error) -> String {
        if self.store.data().memory.hit {
            return format!(
                "{call} ran out of memory: the adapter reached limits.memory_mb = {}",
                self.limits.memory_mb
            );
        }
        if let Some(overflow) = trap.downcast_ref::<Overflow>() {
            return overflow.to_string();
        }
        if format!("{trap:#}").contains("fuel allocated for hostcalls") {
            return format!(
                "{call} returned more data than limits.max_things = {} and limits.max_things_bytes = {} allow",
                self.limits.max_things, self.limits.max_things_bytes
            );
        }
        match trap.downcast_ref::<Trap>() {
            Some(Trap::StackOverflow) => {
                format!("the adapter overflowed its stack (runaway recursion) in {call}")
            }
            Some(Trap::OutOfFuel) => format!(
                "{call} used up its CPU budget: limits.fuel = {}",
                self.limits.fuel.unwrap_or_default()
            ),
            Some(Trap::UnreachableCodeReached) => {
                format!(
                    "the adapter crashed in {call}: it panicked or aborted (its stderr, in the log, says why)"
                )
            }
            Some(other) => format!("the adapter crashed in {call}: {other}"),
            None => format!("the adapter crashed in {call}: {trap}"),
        }
    }

    fn rejections(&self, rejected: Vec<WitRejected>) -> Vec<Rejected> {
        rejected
            .into_iter()
            .map(|rejected| Rejected {
                thing: one_line(&rejected.thing),
                reason: self.secrets.redact(&one_line(&rejected.reason)),
            })
            .collect()
    }
}

impl Adapter for WasmAdapter {
    async fn get(&mut self) -> Result<Vec<String>, AdapterError> {
        let budget = self.begin("get")?;
        let limits = ThingLimits {
            count: self.limits.max_things,
            bytes: self.limits.max_things_bytes,
        };
        let call = with_limits(limits, self.get.call_async(&mut self.store, ()));
        let outcome = tokio::time::timeout(budget.time, call)
            .await
            .map(|result| result.map(|(things,)| things));
        let Things(things) = self.settle("get", &budget, outcome)?;
        self.activity.carried(things.len());
        Ok(things)
    }

    async fn add(&mut self, things: &[String]) -> Result<Vec<Rejected>, AdapterError> {
        let budget = self.begin("add")?;
        let guest = self.bindings.allsync_adapter_adapter();
        let outcome =
            tokio::time::timeout(budget.time, guest.call_add(&mut self.store, things)).await;
        let rejected = self.settle("add", &budget, outcome)?;
        self.activity.carried(things.len());
        Ok(self.rejections(rejected))
    }

    async fn remove(&mut self, things: &[String]) -> Result<Vec<Rejected>, AdapterError> {
        let budget = self.begin("remove")?;
        let guest = self.bindings.allsync_adapter_adapter();
        let outcome =
            tokio::time::timeout(budget.time, guest.call_remove(&mut self.store, things)).await;
        let rejected = self.settle("remove", &budget, outcome)?;
        self.activity.carried(things.len());
        Ok(self.rejections(rejected))
    }

    /// `apply`, where the adapter exports it and does not answer `unsupported`.
    async fn apply(
        &mut self,
        add: &[String],
        remove: &[String],
    ) -> Option<Result<Vec<Rejected>, AdapterError>> {
        let apply = self.apply?;
        let budget = match self.begin("apply") {
            Ok(budget) => budget,
            Err(err) => return Some(Err(err)),
        };
        let call = apply.call_async(&mut self.store, (add.to_vec(), remove.to_vec()));
        let outcome = tokio::time::timeout(budget.time, call)
            .await
            .map(|result| result.map(|(rejected,)| rejected));
        self.activity.carried(add.len() + remove.len());
        match self.settle("apply", &budget, outcome) {
            Err(AdapterError::Unsupported(_)) => None,
            result => Some(result.map(|rejected| self.rejections(rejected))),
        }
    }
}

fn convert(error: WitError) -> AdapterError {
    match error {
        WitError::InvalidConfig(message) => AdapterError::InvalidConfig(message),
        WitError::Unauthorized(message) => AdapterError::Unauthorized(message),
        WitError::NotFound(message) => AdapterError::NotFound(message),
        WitError::RateLimited(seconds) => AdapterError::RateLimited(seconds),
        WitError::Unsupported(message) => AdapterError::Unsupported(message),
        WitError::Other(message) => AdapterError::Other(message),
    }
}

/// The optional `apply` export: additions and removals in one call.
type ApplyFunc = TypedFunc<(Vec<String>, Vec<String>), (Result<Vec<WitRejected>, WitError>,)>;

/// The function `name` of the exported interface `interface`, if there is one.
fn export(
    store: &mut Store<Sandbox>,
    instance: &Instance,
    interface: &str,
    name: &str,
) -> Option<ComponentExportIndex> {
    let interface = instance.get_export_index(&mut *store, None, interface)?;
    instance.get_export_index(&mut *store, Some(&interface), name)
}

/// The adapter's `get` export, typed to lift its list as [`Things`].
fn typed_get(
    store: &mut Store<Sandbox>,
    instance: &Instance,
) -> wasmtime::Result<TypedFunc<(), (Result<Things, WitError>,)>> {
    let get = export(store, instance, CONTRACT, "get")
        .ok_or_else(|| wasmtime::format_err!("no get in {CONTRACT}"))?;
    instance.get_typed_func(store, get)
}

/// The adapter's `apply` export, if it has one (of the right type).
fn typed_apply(
    store: &mut Store<Sandbox>,
    instance: &Instance,
) -> wasmtime::Result<Option<ApplyFunc>> {
    export(store, instance, APPLY, "apply")
        .map(|apply| instance.get_typed_func(store, apply))
        .transpose()
}
