//! The conformance kit behind `allsync test-adapter`: checks that an adapter
//! component keeps the contract, whatever language it was written in.
//!
//! - `describe` is well formed: version and description set, config keys
//!   named once each, credential-like keys marked secret, hosts valid origins;
//! - `init` without each required key fails with `invalid-config`, and with
//!   the given config succeeds;
//! - `get` returns usable things, without duplicates;
//! - a read-only adapter answers `unsupported` to `add` and `remove`; any
//!   other, when pointed at a sandbox target, shows a thing after `add` and
//!   no longer after `remove`.

use allsync_engine::{Adapter, AdapterError};
use allsync_runtime::{
    Activity, Grants, Limits, OriginPattern, Plugin, Runtime, Secrets, WasmAdapter,
};
use serde::Serialize;

/// What to test an adapter with.
pub struct Setup {
    /// The config handed to `init`.
    pub config: Vec<(String, String)>,
    /// What the adapter instance may reach.
    pub grants: Grants,
    /// The secret values in `config`, redacted from all the adapter says.
    pub secrets: Secrets,
    /// Whether the target may be changed, so `add` and `remove` are tested.
    pub sandbox: bool,
    /// The thing `add` and `remove` are tested with.
    pub probe: String,
}

/// How one check ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", content = "detail", rename_all = "kebab-case")]
pub enum Outcome {
    /// It holds.
    Pass,
    /// It does not, and why.
    Fail(String),
    /// It was not run, and why.
    Skip(String),
}

/// One check and its outcome.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    /// What was checked.
    pub name: String,
    /// How it ended.
    #[serde(flatten)]
    pub outcome: Outcome,
}

/// Words that make a config key look like a credential.
const CREDENTIAL_WORDS: [&str; 5] = ["token", "secret", "password", "api_key", "credential"];

/// Runs every check on `plugin` with `setup`.
pub async fn run(runtime: &Runtime, plugin: &Plugin, setup: &Setup) -> Vec<Check> {
    let mut checks = vec![check("describe is well formed", describe_problems(plugin))];
    for key in plugin.info.config.iter().filter(|key| key.required) {
        let config: Vec<(String, String)> = setup
            .config
            .iter()
            .filter(|(name, _)| *name != key.name)
            .cloned()
            .collect();
        let outcome = match start(runtime, plugin, setup, &config).await {
            Err(AdapterError::InvalidConfig(_)) => Outcome::Pass,
            Err(other) => Outcome::Fail(format!("failed with another error: {other}")),
            Ok(_) => Outcome::Fail("init succeeded".into()),
        };
        checks.push(Check {
            name: format!("init without `{}` fails with invalid-config", key.name),
            outcome,
        });
    }
    let mut adapter = match start(runtime, plugin, setup, &setup.config).await {
        Ok(adapter) => adapter,
        Err(err) => {
            checks.push(check(
                "init with the given config succeeds",
                Err(err.to_string()),
            ));
            return checks;
        }
    };
    checks.push(check("init with the given config succeeds", Ok(())));
    let things = adapter.get().await;
    checks.push(check(
        "get returns usable things without duplicates",
        things
            .as_ref()
            .map_err(ToString::to_string)
            .and_then(|things| list_problems(things)),
    ));
    if things.is_err() {
        return checks;
    }
    checks.extend(writes(&mut adapter, plugin, setup).await);
    checks
}

async fn start(
    runtime: &Runtime,
    plugin: &Plugin,
    setup: &Setup,
    config: &[(String, String)],
) -> Result<WasmAdapter, AdapterError> {
    let label = format!("{} under test", plugin.info.name);
    runtime
        .start(
            plugin,
            &label,
            &setup.grants,
            &Limits::default(),
            config,
            setup.secrets.clone(),
            Activity::default(),
        )
        .await
}

fn check(name: &str, result: Result<(), String>) -> Check {
    Check {
        name: name.to_string(),
        outcome: match result {
            Ok(()) => Outcome::Pass,
            Err(why) => Outcome::Fail(why),
        },
    }
}

fn describe_problems(plugin: &Plugin) -> Result<(), String> {
    let info = &plugin.info;
    let mut problems = Vec::new();
    if info.version.trim().is_empty() {
        problems.push("the version is empty".to_string());
    }
    if info.description.trim().is_empty() {
        problems.push("the description is empty".to_string());
    }
    for (index, key) in info.config.iter().enumerate() {
        if key.name.trim().is_empty() || key.name.contains(char::is_whitespace) {
            problems.push(format!("config key {:?} is not a usable name", key.name));
        }
        if info.config[..index]
            .iter()
            .any(|earlier| earlier.name == key.name)
        {
            problems.push(format!("config key `{}` is declared twice", key.name));
        }
        let lower = key.name.to_lowercase();
        if !key.secret && CREDENTIAL_WORDS.iter().any(|word| lower.contains(word)) {
            problems.push(format!(
                "config key `{}` looks like a credential but is not marked secret",
                key.name
            ));
        }
    }
    for host in &info.hosts {
        if let Err(err) = OriginPattern::parse(host) {
            problems.push(format!("host {err}"));
        }
    }
    match problems.is_empty() {
        true => Ok(()),
        false => Err(problems.join("; ")),
    }
}

fn list_problems(things: &[String]) -> Result<(), String> {
    let mut seen = std::collections::HashSet::new();
    if let Some(thing) = things
        .iter()
        .find(|thing| thing.is_empty() || thing.trim() != thing.as_str())
    {
        return Err(format!("{thing:?} is empty or padded with spaces"));
    }
    match things.iter().find(|thing| !seen.insert(thing.as_str())) {
        Some(duplicate) => Err(format!("{duplicate:?} is returned more than once")),
        None => Ok(()),
    }
}

/// The add/remove checks: `unsupported` for read-only adapters, a round
/// trip for the others on a sandbox target, else skipped.
async fn writes(adapter: &mut WasmAdapter, plugin: &Plugin, setup: &Setup) -> Vec<Check> {
    let probe = std::slice::from_ref(&setup.probe);
    if plugin.info.read_only {
        let add = adapter.add(probe).await;
        let remove = adapter.remove(probe).await;
        return vec![
            unsupported("a read-only adapter answers add with unsupported", add),
            unsupported(
                "a read-only adapter answers remove with unsupported",
                remove,
            ),
        ];
    }
    if !setup.sandbox {
        let why = "pass --sandbox (with a config pointing at a target you may change) to test add and remove";
        return vec![
            Check {
                name: "add then get shows the thing".into(),
                outcome: Outcome::Skip(why.into()),
            },
            Check {
                name: "remove then get no longer shows it".into(),
                outcome: Outcome::Skip(why.into()),
            },
        ];
    }
    let added = round_trip(adapter, probe, true).await;
    let removed = round_trip(adapter, probe, false).await;
    vec![
        check(&format!("add then get shows {}", setup.probe), added),
        check(
            &format!("remove then get no longer shows {}", setup.probe),
            removed,
        ),
    ]
}

async fn round_trip(adapter: &mut WasmAdapter, probe: &[String], add: bool) -> Result<(), String> {
    let rejected = match add {
        true => adapter.add(probe).await,
        false => adapter.remove(probe).await,
    }
    .map_err(|err| err.to_string())?;
    if let Some(rejection) = rejected.first() {
        return Err(format!("rejected: {}", rejection.reason));
    }
    let things = adapter.get().await.map_err(|err| err.to_string())?;
    let present = things
        .iter()
        .any(|thing| thing.eq_ignore_ascii_case(&probe[0]));
    match (add, present) {
        (true, false) => Err("get does not show it".into()),
        (false, true) => Err("get still shows it".into()),
        _ => Ok(()),
    }
}

fn unsupported<T>(name: &str, result: Result<T, AdapterError>) -> Check {
    check(
        name,
        match result {
            Err(AdapterError::Unsupported(_)) => Ok(()),
            Err(other) => Err(format!("answered {other}")),
            Ok(_) => Err("it succeeded".into()),
        },
    )
}
