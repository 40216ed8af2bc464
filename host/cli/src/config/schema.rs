//! The shape of `allsync.toml` as a JSON Schema: printed by `allsync config
//! schema`, committed as `docs/allsync.schema.json` for editors (taplo, Even
//! Better TOML), and the source of the keys the config checker knows, so the
//! two cannot disagree. Values are described by the very types the checker
//! reads them into (`Mode`, `ChangeLimit`, `Limits`, `CredentialsConfig`...).
//!
//! Only the schema of these types is used: none is ever built.
#![expect(dead_code, reason = "shape types are only read by schemars")]

use super::{AuditConfig, CredentialsConfig, DirectoryConfig, TransformConfig};
use allsync_engine::{ChangeLimit, Mode};
use allsync_runtime::Limits;
use schemars::generate::SchemaSettings;
use schemars::transform::RecursiveTransform;
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde_json::Value;
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::OnceLock;

/// The JSON Schema of `allsync.toml`, pretty-printed, ending in a newline.
pub fn json() -> String {
    let mut text = serde_json::to_string_pretty(root()).expect("a schema is JSON");
    text.push('\n');
    text
}

/// The schema of the whole file, generated once: it holds every shape's.
fn root() -> &'static Schema {
    static ROOT: OnceLock<Schema> = OnceLock::new();
    ROOT.get_or_init(|| generator().into_root_schema_for::<File>())
}

/// Schemas as TOML needs them: an optional key is left out, never null.
fn generator() -> SchemaGenerator {
    SchemaSettings::draft2020_12()
        .with_transform(RecursiveTransform(without_null))
        .into_generator()
}

/// `schema` without the `null` that schemars allows an `Option`: TOML has no null.
fn without_null(schema: &mut Schema) {
    let null = serde_json::json!({ "type": "null" });
    if let Some(Value::Array(types)) = schema.get_mut("type") {
        types.retain(|kind| kind != "null");
        if let [only] = types.as_slice() {
            let only = only.clone();
            schema.insert("type".into(), only);
        }
    }
    let Some(Value::Array(choices)) = schema.get_mut("anyOf") else {
        return;
    };
    choices.retain(|choice| *choice != null);
    if let [Value::Object(only)] = choices.as_slice() {
        let only = only.clone();
        schema.remove("anyOf");
        for (key, value) in only {
            schema.insert(key, value);
        }
    }
}

/// The keys a table of shape `T` may hold, as the file's schema lists them.
pub(crate) fn keys<T: JsonSchema>() -> Vec<String> {
    let schema = match T::schema_name() {
        name if name == File::schema_name() => root().as_value(),
        name => &root().as_value()["$defs"][name.as_ref()],
    };
    let properties = schema["properties"]
        .as_object()
        .unwrap_or_else(|| panic!("{} is a shape of allsync.toml", T::schema_name()));
    properties.keys().cloned().collect()
}

/// allsync.toml: sync jobs, each sources and destinations, and how allsync
/// runs them (see README, Configuration).
#[derive(JsonSchema)]
#[schemars(title = "allsync.toml", deny_unknown_fields)]
pub(crate) struct File {
    /// Where the adapters are, relative to this file (default: --plugins-dir, else ./plugins).
    plugins_dir: Option<PathBuf>,
    /// Resource limits of every adapter instance; each instance's `limits` override them.
    limits: Option<Limits>,
    /// Host names pinned to addresses, for every adapter (like curl's --resolve).
    resolve: Option<BTreeMap<String, IpAddr>>,
    /// Jobs, and destinations of one job, run at once (default 4).
    #[schemars(range(min = 1))]
    concurrency: Option<u32>,
    /// The audit log: one JSON line per change, rejection and failure.
    audit: Option<AuditConfig>,
    /// The most requests each origin (`scheme://host:port`) is sent: "10/s", "50/min", "5000/h".
    rate_limits: Option<BTreeMap<String, RateText>>,
    /// How `allsync serve` listens, and the schedule of jobs without their own.
    serve: Option<Serve>,
    /// The sync jobs, at least one.
    #[schemars(length(min = 1))]
    sync: Vec<Job>,
}

/// `[serve]`.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct Serve {
    /// Where the status page, /metrics, /healthz and /readyz are served (default "127.0.0.1:9848").
    listen: Option<String>,
    /// When jobs without their own schedule run.
    schedule: Option<ScheduleText>,
    /// The most random delay added to each run, such as "30s".
    jitter: Option<DurationText>,
}

/// One `[[sync]]` job.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct Job {
    /// The job's unique name.
    #[schemars(length(min = 1))]
    name: String,
    /// Where the things come from (or several `[[sync.sources]]`).
    source: Option<Source>,
    /// Several named sources, combined.
    sources: Option<Vec<ListedSource>>,
    /// How included sources are joined: `union` (default) or `intersection`.
    combine: Option<CombineText>,
    /// When `allsync serve` runs it.
    schedule: Option<ScheduleText>,
    /// The most random delay added to each of its runs in `allsync serve`, such as "30s".
    jitter: Option<DurationText>,
    /// Where the things go.
    #[schemars(length(min = 1))]
    destination: Vec<Destination>,
    #[schemars(flatten)]
    options: Options,
}

/// Engine options, at job level or per destination (which overrides the job's).
#[derive(JsonSchema)]
pub(crate) struct Options {
    /// Which changes a sync makes, and in which order (default `add-remove`).
    mode: Option<Mode>,
    /// Compare things exactly rather than ignoring case (default false).
    case_sensitive: Option<bool>,
    /// The most additions plus removals one sync may make: a count, or "N%" of the destination.
    max_changes: Option<ChangeLimit>,
    /// Let an empty source empty the destination (default false).
    allow_empty_source: Option<bool>,
    /// Things never added or removed (`*` wildcards allowed).
    ignore: Option<Vec<String>>,
}

/// An adapter instance: which adapter, its config, and what it is granted.
#[derive(JsonSchema)]
pub(crate) struct Endpoint {
    /// The adapter's name, as `allsync plugins list` shows it.
    #[schemars(length(min = 1))]
    adapter: String,
    /// The adapter's keys (see its docs page); `${NAME}` reads an environment variable.
    config: Option<BTreeMap<String, ConfigValue>>,
    /// The hosts (or origins, `*.example.com`) it may send HTTP requests to.
    allowed_hosts: Option<Vec<String>>,
    /// A directory it may read (or write, with `writable = true`).
    directory: Option<DirectoryConfig>,
    /// Its resource limits, over the file's `[limits]`.
    limits: Option<Limits>,
    /// The sha256 its adapter file must have (see `allsync plugins inspect`).
    #[schemars(regex(pattern = r"^[0-9a-fA-F]{64}$"))]
    sha256: Option<String>,
    /// Credentials the host holds for it, adding tokens to its requests.
    credentials: Option<CredentialsConfig>,
}

/// `[sync.source]`: one source.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct Source {
    /// Steps applied to what the source returns, in order.
    transform: Option<Vec<TransformConfig>>,
    #[schemars(flatten)]
    endpoint: Endpoint,
}

/// One of several `[[sync.sources]]`.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct ListedSource {
    /// The source's name, unique in the job.
    #[schemars(length(min = 1))]
    name: String,
    /// Whether its things are taken out of the others' rather than added.
    exclude: Option<bool>,
    /// Steps applied to what the source returns, in order.
    transform: Option<Vec<TransformConfig>>,
    #[schemars(flatten)]
    endpoint: Endpoint,
}

/// One `[[sync.destination]]`.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct Destination {
    /// Its name, unique in the job (default: the adapter's name).
    name: Option<String>,
    #[schemars(flatten)]
    endpoint: Endpoint,
    #[schemars(flatten)]
    options: Options,
}

/// Declares a value type known to the schema alone: its name, and its schema.
macro_rules! schema_only {
    ($(#[$doc:meta])* $type:ident, $name:literal, $schema:tt) => {
        $(#[$doc])*
        struct $type;

        impl JsonSchema for $type {
            fn schema_name() -> Cow<'static, str> {
                $name.into()
            }

            fn json_schema(_: &mut SchemaGenerator) -> Schema {
                json_schema!($schema)
            }
        }
    };
}

schema_only!(
    /// A string that names a schedule.
    ScheduleText,
    "Schedule",
    {
        "type": "string",
        "description": "\"every DURATION\" (\"every 15m\"), or a cron expression with five or six fields (\"0 7 * * MON-FRI\")",
        "examples": ["every 15m", "0 7 * * MON-FRI"]
    }
);

schema_only!(
    /// A string that names a duration.
    DurationText,
    "Duration",
    {
        "type": "string",
        "description": "a duration such as \"30s\", \"5m\" or \"1h 30m\"",
        "examples": ["30s", "5m"]
    }
);

schema_only!(
    /// A rate, as `rate_limits` takes it.
    RateText,
    "Rate",
    {
        "type": "string",
        "pattern": r"^\s*[0-9]+\s*/\s*(s|min|h)\s*$",
        "examples": ["50/min", "5000/h"]
    }
);

schema_only!(
    /// How sources are combined.
    CombineText,
    "Combine",
    {
        "type": "string",
        "enum": ["union", "intersection"],
        "description": "union: anyone in any included source; intersection: only who is in every one"
    }
);

schema_only!(
    /// A config value: the adapter receives it as a string.
    ConfigValue,
    "ConfigValue",
    { "type": ["string", "integer", "number", "boolean"] }
);

#[cfg(test)]
mod tests {
    use super::super::tests::MINIMAL;
    use super::*;
    use std::path::Path;

    fn repository() -> &'static Path {
        Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
    }

    fn validator() -> jsonschema::Validator {
        let schema: serde_json::Value = serde_json::from_str(&json()).unwrap();
        jsonschema::validator_for(&schema).expect("a valid JSON Schema")
    }

    /// What the schema says is wrong with `toml`, one line per problem.
    fn problems(toml: &str) -> Vec<String> {
        let value: toml::Value = toml::from_str(toml).unwrap_or_else(|err| panic!("{err}"));
        let json = serde_json::to_value(value).unwrap();
        validator()
            .iter_errors(&json)
            .map(|error| format!("{}: {error}", error.instance_path()))
            .collect()
    }

    #[test]
    fn the_committed_schema_is_the_generated_one() {
        let committed = std::fs::read_to_string(repository().join("docs/allsync.schema.json"))
            .unwrap_or_default();
        assert!(
            committed == json(),
            "docs/allsync.schema.json is stale: regenerate it with \
             `allsync config schema > docs/allsync.schema.json`"
        );
    }

    #[test]
    fn a_minimal_config_is_valid() {
        assert_eq!(problems(MINIMAL), Vec::<String>::new());
    }

    #[test]
    fn an_unknown_key_is_rejected_wherever_it_is() {
        for (table, key) in [
            ("[[sync]]", "nmae = \"typo\""),
            ("[sync.source]", "alowed_hosts = []"),
            ("[[sync.destination]]", "max_change = 3"),
        ] {
            let text = MINIMAL.replacen(table, &format!("{table}\n{key}"), 1);
            let found = problems(&text);
            assert!(
                found.iter().any(|problem| problem.contains("not allowed")),
                "{key} under {table}: {found:?}"
            );
        }
        assert!(!problems(&format!("pluginsdir = \"x\"\n{MINIMAL}")).is_empty());
    }

    #[test]
    fn a_bad_mode_is_rejected_and_every_real_mode_accepted() {
        let with_mode = |mode: &str| {
            problems(&MINIMAL.replacen(
                "[[sync.destination]]",
                &format!("[[sync.destination]]\nmode = \"{mode}\""),
                1,
            ))
        };
        assert_eq!(with_mode("add-and-remove").len(), 1);
        for mode in [
            Mode::AddRemove,
            Mode::RemoveAdd,
            Mode::AddOnly,
            Mode::RemoveOnly,
        ] {
            assert_eq!(with_mode(&mode.to_string()), Vec::<String>::new());
        }
    }

    #[test]
    fn max_changes_takes_what_the_engine_reads() {
        for written in ["25", "\"25\"", "\"10%\"", "\"2.5 %\"", "0"] {
            let text =
                MINIMAL.replacen("[[sync]]", &format!("[[sync]]\nmax_changes = {written}"), 1);
            assert_eq!(problems(&text), Vec::<String>::new(), "{written}");
        }
        for written in ["-1", "\"ten\"", "\"10.123456%\"", "2.5"] {
            let text =
                MINIMAL.replacen("[[sync]]", &format!("[[sync]]\nmax_changes = {written}"), 1);
            assert!(!problems(&text).is_empty(), "{written}");
        }
    }

    #[test]
    fn every_combine_the_schema_offers_loads() {
        for combine in ["union", "intersection"] {
            let text =
                MINIMAL.replacen("[[sync]]", &format!("[[sync]]\ncombine = \"{combine}\""), 1);
            assert_eq!(problems(&text), Vec::<String>::new());
            let file = tempfile::NamedTempFile::new().unwrap();
            std::fs::write(file.path(), &text).unwrap();
            super::super::Config::load(file.path(), |_| None).unwrap();
        }
    }

    /// The config blocks (```toml) of the README and docs, each completed
    /// into a whole file where it is a part of one.
    fn documented_configs() -> Vec<(String, String)> {
        let mut found = Vec::new();
        let mut pages = vec![repository().join("README.md")];
        let mut folders = vec![repository().join("docs")];
        while let Some(folder) = folders.pop() {
            for entry in std::fs::read_dir(folder).unwrap() {
                let path = entry.unwrap().path();
                match path.extension().and_then(|e| e.to_str()) {
                    _ if path.is_dir() => folders.push(path),
                    Some("md") => pages.push(path),
                    _ => {}
                }
            }
        }
        for page in pages {
            let text = std::fs::read_to_string(&page).unwrap();
            for (number, block) in text.split("```toml\n").skip(1).enumerate() {
                let block = block.split("\n```").next().unwrap();
                if let Some(whole) = as_whole_file(block) {
                    found.push((format!("{} block {}", page.display(), number + 1), whole));
                }
            }
        }
        found
    }

    /// A block as a whole allsync.toml: as it is, or with what a minimal
    /// job needs added around the part it shows; `None` for a block that is
    /// not allsync's (a `Cargo.toml`, a `.taplo.toml`).
    fn as_whole_file(block: &str) -> Option<String> {
        let has = |table: &str| block.lines().any(|line| line.trim() == table);
        if has("[package]") || has("[lib]") || has("[[rule]]") {
            return None;
        }
        let job = match has("[[sync]]") {
            true => "",
            false => "[[sync]]\nname = \"job\"\n",
        };
        let source = match has("[sync.source]") || has("[[sync.sources]]") {
            true => "",
            false => "[sync.source]\nadapter = \"file\"\n",
        };
        let destination = match has("[[sync.destination]]") {
            true => "",
            false => "[[sync.destination]]\nadapter = \"file\"\n",
        };
        let first_table = block
            .lines()
            .map(str::trim)
            .find(|line| line.starts_with('['));
        Some(match first_table {
            // Top-level keys and tables come first, the job after them.
            Some("[[sync]]") | None => format!("{block}\n{job}{source}{destination}"),
            Some(table) if !table.starts_with("[sync") && !table.starts_with("[[sync") => {
                format!("{block}\n{job}{source}{destination}")
            }
            // A part of a job: the job's table first, then the part, then the rest.
            Some("[[sync.destination]]") => format!("{job}{source}{block}\n"),
            Some(_) => format!("{job}{block}\n{destination}"),
        })
    }

    #[test]
    fn every_config_in_the_docs_and_examples_is_valid() {
        let mut configs = documented_configs();
        assert!(configs.len() > 15, "found only {}", configs.len());
        let demo = repository().join("examples/demo/allsync.toml");
        configs.push((
            demo.display().to_string(),
            std::fs::read_to_string(demo).unwrap(),
        ));
        for (place, text) in configs {
            assert_eq!(problems(&text), Vec::<String>::new(), "{place}:\n{text}");
        }
    }
}
