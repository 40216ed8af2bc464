//! Loading adapters as sandboxed WebAssembly components and calling them.
//!
//! [`Runtime`] compiles (or loads from its cache) a component and checks it
//! implements the `allsync:adapter` world, giving a [`Plugin`]; a plugin
//! starts [`WasmAdapter`] instances, each in its own sandbox (`sandbox.rs`) with its own
//! [`Grants`]. Nothing here knows about sync rules.

mod activity;
mod address;
mod bindings;
mod budget;
mod cache;
mod catalog;
mod connect;
mod credentials;
mod grants;
mod instance;
mod limits;
mod origin;
mod outbound;
mod retry;
mod route;
mod sandbox;
mod secrets;
mod things;

pub use activity::{Activity, Snapshot};
pub use budget::{Budgets, Rate};
pub use catalog::{Catalog, Listing};
pub use credentials::{CredentialError, CredentialSpec, Credentials};
pub use grants::{DirectoryGrant, Grants, HttpGrant};
pub use instance::WasmAdapter;
pub use limits::Limits;
pub use origin::OriginPattern;
pub use route::{GrantAdvice, Pins};
pub use secrets::Secrets;

use allsync_engine::text::one_line;
use bindings::PluginPre;
use cache::ComponentCache;
use sandbox::Sandbox;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::time::Duration;
use wasmtime::Engine;
use wasmtime::component::{Component, Linker};

/// The interface every adapter exports: the `allsync:adapter` contract this host implements.
const CONTRACT: &str = "allsync:adapter/adapter@0.1.0";
/// The optional interface of adapters that apply additions and removals in one call.
const APPLY: &str = "allsync:adapter/apply@0.1.0";

/// How often the epoch advances: the granularity of time limits.
const EPOCH_TICK: Duration = Duration::from_millis(10);

/// Why a component could not be loaded or started.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not a component this host can run as an adapter.
    #[error("{path} is not a usable allsync adapter: {reason}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The host itself could not be set up.
    #[error("cannot start the WebAssembly runtime: {0}")]
    Setup(String),
}

/// What an adapter says about itself (`describe`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AdapterInfo {
    /// The adapter's name, used as `adapter = "..."` in allsync.toml.
    pub name: String,
    /// Its version.
    pub version: String,
    /// One line on what it syncs.
    pub description: String,
    /// The config keys it understands.
    pub config: Vec<ConfigKey>,
    /// Origins it asks to reach.
    pub hosts: Vec<String>,
    /// Whether it can only be a source.
    pub read_only: bool,
}

/// One config key an adapter understands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConfigKey {
    /// The key.
    pub name: String,
    /// What it is for.
    pub description: String,
    /// Whether `init` fails without it.
    pub required: bool,
    /// Whether its value is a secret, never to be shown or logged.
    pub secret: bool,
}

/// A compiled adapter component, checked against the contract and described.
pub struct Plugin {
    /// The file it was loaded from.
    pub path: PathBuf,
    /// The sha256 of the file, hex.
    pub sha256: String,
    /// What `describe` returned.
    pub info: AdapterInfo,
    /// The component's imports, e.g. `wasi:http/outgoing-handler@0.2.12`.
    pub imports: Vec<String>,
    /// The component's exports, e.g. `allsync:adapter/adapter@0.1.0`.
    pub exports: Vec<String>,
    pre: PluginPre<Sandbox>,
}

impl Plugin {
    /// The values in `config` of the keys this adapter marks secret, or why
    /// one of them cannot be kept secret (see [`Secrets::refuse`]).
    pub fn secrets<'a>(
        &self,
        config: impl IntoIterator<Item = (&'a String, &'a String)>,
    ) -> Result<Secrets, String> {
        let mut values = Vec::new();
        for (name, value) in config {
            if self.is_secret(name) {
                if let Some(why) = Secrets::refuse(name, value) {
                    return Err(why);
                }
                values.push(value.clone());
            }
        }
        Ok(Secrets::new(values))
    }

    /// Whether this adapter marks config key `name` secret.
    pub fn is_secret(&self, name: &str) -> bool {
        self.info
            .config
            .iter()
            .any(|key| key.secret && key.name == name)
    }
}

/// Where compiled components are cached, and the key that seals them (kept
/// outside the cache folder: see `cache.rs` for the trust model).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheLocation {
    /// The cache folder.
    pub dir: PathBuf,
    /// The file holding this user's key, created if missing.
    pub key: PathBuf,
}

/// The wasmtime engine, the host functions adapters may import, and the cache.
pub struct Runtime {
    engine: Engine,
    linker: Linker<Sandbox>,
    cache: ComponentCache,
}

impl Runtime {
    /// A runtime caching compiled components at `cache` (no cache if
    /// `None`); `fuel` turns on fuel metering, needed by any fuel limit.
    pub fn new(cache: Option<&CacheLocation>, fuel: bool) -> Result<Self, RuntimeError> {
        let setup = |err: wasmtime::Error| RuntimeError::Setup(format!("{err:#}"));
        let mut config = wasmtime::Config::new();
        config.epoch_interruption(true).consume_fuel(fuel);
        let engine = Engine::new(&config).map_err(setup)?;
        start_epoch_ticker(&engine);
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker).map_err(setup)?;
        wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker).map_err(setup)?;
        let cache = ComponentCache::new(cache, &engine);
        Ok(Runtime {
            engine,
            linker,
            cache,
        })
    }

    /// Where the catalog keeps its index of the plugins it has loaded (in
    /// the cache folder), if there is a cache.
    pub fn index_file(&self) -> Option<PathBuf> {
        self.cache.dir().map(|dir| dir.join("plugins.json"))
    }

    /// Loads the component at `path`, checks it is an adapter this host can
    /// run, and asks it to describe itself.
    pub async fn load(&self, path: &Path) -> Result<Plugin, RuntimeError> {
        let invalid = |reason: String| RuntimeError::Invalid {
            path: path.to_path_buf(),
            reason,
        };
        let wasm = std::fs::read(path).map_err(|source| RuntimeError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let sha256 = sha256_hex(&wasm);
        // Compiling takes seconds for some adapters: off the async threads,
        // so several can compile at once.
        let (cache, engine, hash) = (self.cache.clone(), self.engine.clone(), sha256.clone());
        let name = path
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let component =
            tokio::task::spawn_blocking(move || cache.load(&engine, &wasm, &hash, &name))
                .await
                .map_err(|err| invalid(format!("compiling it crashed: {err}")))?
                .map_err(|err| {
                    invalid(format!(
                        "not a WebAssembly component this host can compile: {err:#}"
                    ))
                })?;
        let (imports, exports) = self.interface_names(&component);
        let instance_pre = self.linker.instantiate_pre(&component).map_err(|err| {
            invalid(format!(
                "it needs something the host does not provide: {err:#}"
            ))
        })?;
        let pre = PluginPre::new(instance_pre).map_err(|err| {
            let contracts: Vec<&str> = exports.iter().filter(|name| name.starts_with("allsync:adapter/")).map(String::as_str).collect();
            invalid(match contracts.as_slice() {
                [] => format!("it exports no allsync:adapter interface ({err:#})"),
                found => format!(
                    "it exports {}, but this host implements allsync:adapter@0.1.0: use a build of the adapter for 0.1.x, \
                     or an allsync that supports its version",
                    found.join(", ")
                ),
            })
        })?;
        let info = self.describe(&pre, path).await.map_err(invalid)?;
        Ok(Plugin {
            path: path.to_path_buf(),
            sha256,
            info,
            imports,
            exports,
            pre,
        })
    }

    fn interface_names(&self, component: &Component) -> (Vec<String>, Vec<String>) {
        let ty = component.component_type();
        let imports = ty
            .imports(&self.engine)
            .map(|(name, _)| name.to_string())
            .collect();
        let exports = ty
            .exports(&self.engine)
            .map(|(name, _)| name.to_string())
            .collect();
        (imports, exports)
    }

    /// Calls `describe` in a sandbox with no grants and checks the answer.
    async fn describe(&self, pre: &PluginPre<Sandbox>, path: &Path) -> Result<AdapterInfo, String> {
        let label = path.display().to_string();
        let mut instance = WasmAdapter::instantiate(
            &self.engine,
            pre,
            &label,
            &Grants::default(),
            &Limits::default(),
            Secrets::default(),
            Activity::default(),
        )
        .await
        .map_err(|err| err.to_string())?;
        let info = instance
            .describe()
            .await
            .map_err(|err| format!("describe() failed: {err}"))?;
        let valid_name = |name: &str| {
            !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        };
        if !valid_name(&info.name) {
            return Err(format!(
                "describe() gave the name {:?}; a name must be lower-case letters, digits and dashes",
                info.name
            ));
        }
        Ok(info)
    }

    /// Starts an instance of `plugin` named `label`, with `grants` and
    /// `limits`, and initialises it with `config`. `secrets` are redacted
    /// from all it says; what it does is recorded in `activity`.
    #[allow(clippy::too_many_arguments)]
    pub async fn start(
        &self,
        plugin: &Plugin,
        label: &str,
        grants: &Grants,
        limits: &Limits,
        config: &[(String, String)],
        secrets: Secrets,
        activity: Activity,
    ) -> Result<WasmAdapter, allsync_engine::AdapterError> {
        if let Some(credentials) = &grants.credentials {
            // A first token now: credentials that do not work fail here, clearly.
            credentials.token().await.map_err(|err| {
                allsync_engine::AdapterError::Unauthorized(format!(
                    "{label} could not get a token ({}): {err}",
                    credentials.describe()
                ))
            })?;
        }
        let mut instance = WasmAdapter::instantiate(
            &self.engine,
            &plugin.pre,
            label,
            grants,
            limits,
            secrets,
            activity,
        )
        .await?;
        instance.init(config).await?;
        Ok(instance)
    }
}

/// Advances the engine's epoch every [`EPOCH_TICK`] while the engine lives.
fn start_epoch_ticker(engine: &Engine) {
    let engine = engine.weak();
    std::thread::spawn(move || {
        while let Some(engine) = engine.upgrade() {
            engine.increment_epoch();
            drop(engine);
            std::thread::sleep(EPOCH_TICK);
        }
    });
}

/// What `describe` returned, every string on one line: allsync prints them,
/// and an adapter must not forge lines of its output.
impl From<bindings::allsync::adapter::types::Info> for AdapterInfo {
    fn from(info: bindings::allsync::adapter::types::Info) -> Self {
        AdapterInfo {
            name: one_line(&info.name),
            version: one_line(&info.version),
            description: one_line(&info.description),
            config: info
                .config
                .into_iter()
                .map(|key| ConfigKey {
                    name: one_line(&key.name),
                    description: one_line(&key.description),
                    required: key.required,
                    secret: key.secret,
                })
                .collect(),
            hosts: info.hosts.iter().map(|host| one_line(host)).collect(),
            read_only: info.read_only,
        }
    }
}

/// The sha256 of `bytes`, as lower-case hex: how adapter files (and
/// whatever else allsync pins) are identified.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}
