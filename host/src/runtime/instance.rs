//! A running adapter instance, seen by the engine as an [`Adapter`].

use super::bindings::allsync::adapter::types::{Error as WitError, Rejected as WitRejected};
use super::bindings::{Plugin as Bindings, PluginPre};
use super::outbound::Refusals;
use super::sandbox::{Grants, Sandbox};
use super::secrets::Secrets;
use crate::engine::{Adapter, AdapterError, Rejected};
use wasmtime::{Engine, Store};

/// One instance of an adapter component, initialised and ready for calls.
///
/// Everything it returns passes through its [`Secrets`]; an instance that
/// crashed (trapped) is never called again.
pub struct WasmAdapter {
    label: String,
    store: Store<Sandbox>,
    bindings: Bindings,
    secrets: Secrets,
    refusals: Refusals,
    crashed: bool,
}

impl WasmAdapter {
    pub(super) async fn start(
        engine: &Engine,
        pre: &PluginPre<Sandbox>,
        label: &str,
        grants: &Grants,
        config: Vec<(String, String)>,
        secrets: Secrets,
    ) -> Result<Self, AdapterError> {
        let refusals = Refusals::default();
        let sandbox = Sandbox::new(label, grants, secrets.clone(), refusals.clone())
            .map_err(|err| AdapterError::Other(format!("cannot set up the sandbox: {err}")))?;
        let mut store = Store::new(engine, sandbox);
        let bindings = pre
            .instantiate_async(&mut store)
            .await
            .map_err(|err| AdapterError::Other(format!("the adapter failed to start: {err:#}")))?;
        let mut adapter = WasmAdapter {
            label: label.to_string(),
            store,
            bindings,
            secrets,
            refusals,
            crashed: false,
        };
        let result = adapter
            .bindings
            .allsync_adapter_adapter()
            .call_init(&mut adapter.store, &config)
            .await;
        adapter.settle("init", result)?;
        Ok(adapter)
    }

    /// Turns a call's outcome into the engine's terms: traps mark the
    /// instance as crashed, refused requests are explained, secrets redacted.
    fn settle<T>(
        &mut self,
        call: &str,
        result: wasmtime::Result<Result<T, WitError>>,
    ) -> Result<T, AdapterError> {
        let refused = self.refusals.take();
        let error = match result {
            Ok(Ok(value)) => return Ok(value),
            Ok(Err(error)) => convert(error),
            Err(trap) => {
                self.crashed = true;
                AdapterError::Other(format!("the adapter crashed in {call}: {trap:#}"))
            }
        };
        Err(self.explain(error, &refused))
    }

    /// Adds why requests were refused, and redacts secrets.
    fn explain(&self, error: AdapterError, refused: &[super::Origin]) -> AdapterError {
        error.map_message(|message| {
            let mut message = self.secrets.redact(&message);
            for origin in refused {
                message.push_str(&format!(
                    " [allsync refused a request to {origin}: not granted to {}; \
                     add \"{origin}\" to its allowed_hosts in allsync.toml to allow it]",
                    self.label
                ));
            }
            message
        })
    }

    fn ensure_usable(&self) -> Result<(), AdapterError> {
        match self.crashed {
            true => Err(AdapterError::Other(format!(
                "{} crashed earlier in this run and was discarded",
                self.label
            ))),
            false => Ok(()),
        }
    }

    fn rejections(&self, rejected: Vec<WitRejected>) -> Vec<Rejected> {
        rejected
            .into_iter()
            .map(|rejected| Rejected {
                thing: rejected.thing,
                reason: self.secrets.redact(&rejected.reason),
            })
            .collect()
    }
}

impl Adapter for WasmAdapter {
    async fn get(&mut self) -> Result<Vec<String>, AdapterError> {
        self.ensure_usable()?;
        let result = self
            .bindings
            .allsync_adapter_adapter()
            .call_get(&mut self.store)
            .await;
        self.settle("get", result)
    }

    async fn add(&mut self, things: &[String]) -> Result<Vec<Rejected>, AdapterError> {
        self.ensure_usable()?;
        let result = self
            .bindings
            .allsync_adapter_adapter()
            .call_add(&mut self.store, things)
            .await;
        let rejected = self.settle("add", result)?;
        Ok(self.rejections(rejected))
    }

    async fn remove(&mut self, things: &[String]) -> Result<Vec<Rejected>, AdapterError> {
        self.ensure_usable()?;
        let result = self
            .bindings
            .allsync_adapter_adapter()
            .call_remove(&mut self.store, things)
            .await;
        let rejected = self.settle("remove", result)?;
        Ok(self.rejections(rejected))
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
