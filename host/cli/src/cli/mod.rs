//! The `allsync` command line: parses, calls [`crate::app`], prints.

mod exit;
mod output;

use crate::app::{self, AppError, Locations, Selection, Session};
use crate::audit::{self, Query};
use crate::config::{self, Config};
use crate::conformance::Outcome;
use crate::lock;
use crate::progress::{self, Progress};
use crate::saved::SavedPlan;
use crate::scaffold::{self, Language};
use crate::serve::{self, ServeRequest};
use crate::shard::Shard;
use crate::starter;
use allsync_engine::Action;
use allsync_runtime::CacheLocation;
use clap::{Args, CommandFactory, Parser, Subcommand};
use exit::Exit;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use tracing_subscriber::EnvFilter;

/// Keep lists of people in sync: read a source, make each destination match.
#[derive(Debug, Parser)]
#[command(name = "allsync", version, after_help = exit::HELP)]
struct Cli {
    /// More log detail on stderr (-v debug, -vv trace); RUST_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,

    /// No progress lines, and only errors in the log.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    quiet: bool,

    /// Folder of adapter components (*.wasm) [default: the config's plugins_dir, else ./plugins]
    #[arg(long, global = true, env = "ALLSYNC_PLUGINS_DIR", value_name = "DIR")]
    plugins_dir: Option<PathBuf>,

    /// Where compiled adapters are cached [default: the user cache folder]
    #[arg(long, global = true, env = "ALLSYNC_CACHE_DIR", value_name = "DIR")]
    cache_dir: Option<PathBuf>,

    /// Compile adapters on every run instead of caching them.
    #[arg(long, global = true)]
    no_cache: bool,

    /// How logs on stderr look: text, or json (one JSON object a line).
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text, env = "ALLSYNC_LOG_FORMAT")]
    log_format: LogFormat,

    #[command(subcommand)]
    command: Command,
}

/// How `plan` prints its report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    /// Readable text.
    Text,
    /// JSON, as `--json`.
    Json,
    /// Markdown: a summary table, then each destination's changes folded.
    Markdown,
}

/// The form of log lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum LogFormat {
    /// Readable lines.
    Text,
    /// One JSON object a line.
    Json,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Show what a sync would change, changing nothing.
    Plan {
        #[command(flatten)]
        run: RunArgs,
        /// Exit with 6 when there are changes to apply (0 when there are none).
        #[arg(long)]
        detailed_exitcode: bool,
        /// Also save the plan to FILE, for `allsync apply FILE`.
        #[arg(short, long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// How to print the plan: text, json (as --json), or markdown (to post on a pull request).
        #[arg(long, value_enum, conflicts_with = "json")]
        format: Option<Format>,
    },
    /// Make every destination match its source, and show what was done.
    Sync {
        #[command(flatten)]
        run: RunArgs,
    },
    /// Apply a saved plan: exactly its changes, or none if anything drifted.
    Apply {
        /// The plan, saved with `allsync plan -o FILE`.
        file: PathBuf,
        #[command(flatten)]
        config: ConfigArgs,
    },
    /// Show a saved plan.
    Show {
        /// The plan, saved with `allsync plan -o FILE`.
        file: PathBuf,
        /// Print machine-readable JSON on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Search the audit log: who added or removed what, and when.
    Audit(AuditArgs),
    /// Check the config, the adapters it names and the variables it reads, calling no adapter.
    Check {
        #[command(flatten)]
        config: ConfigFile,
    },
    /// Write a commented starter allsync.toml for the adapters in the plugins folder.
    Init {
        /// Where to write it; an existing file is never overwritten.
        #[arg(default_value = "allsync.toml", value_name = "FILE")]
        file: PathBuf,
    },
    /// Print a completion script for a shell: source its output to complete allsync's commands.
    Completions {
        /// bash, zsh, fish, elvish or powershell.
        shell: clap_complete::Shell,
    },
    /// Print allsync's man page (roff), e.g. `allsync man > allsync.1`.
    Man,
    /// About allsync.toml itself.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Run every job on its schedule until stopped, serving /metrics, /healthz and /readyz.
    Serve {
        // Read again on SIGHUP.
        #[command(flatten)]
        config: ConfigFile,
        /// Serve only this shard's jobs: I/N, I from 0 to N-1.
        #[arg(long, value_name = "I/N", env = "ALLSYNC_SHARD")]
        shard: Option<Shard>,
    },
    /// List or inspect the adapters in the plugins folder.
    #[command(subcommand)]
    Plugins(PluginsCommand),
    /// Check that an adapter component keeps the allsync contract.
    TestAdapter(TestAdapterArgs),
    /// Create a new adapter project, ready to build and test.
    New {
        /// The language: rust, python, javascript (js) or c.
        language: Language,
        /// The adapter's name (lower-case letters, digits, dashes); also its folder.
        name: String,
        /// Where to create the project folder.
        #[arg(long, default_value = ".", value_name = "DIR")]
        dir: PathBuf,
    },
}

#[derive(Debug, Args)]
struct TestAdapterArgs {
    /// The adapter component (.wasm).
    file: PathBuf,
    /// A config key for init, as KEY=VALUE (repeat for more).
    #[arg(long = "config", value_name = "KEY=VALUE", value_parser = key_value)]
    config: Vec<(String, String)>,
    /// An origin the adapter may reach (repeat for more) [default: the hosts it declares]
    #[arg(long = "allow-host", value_name = "ORIGIN")]
    allow_hosts: Vec<String>,
    /// A directory the adapter sees as `/`, read-only unless --writable.
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
    /// Let the adapter write in --dir.
    #[arg(long, requires = "dir")]
    writable: bool,
    /// The config points at a target that may be changed: test add and remove.
    #[arg(long)]
    sandbox: bool,
    /// The thing add and remove are tested with.
    #[arg(
        long,
        default_value = "allsync-conformance@example.com",
        value_name = "THING"
    )]
    thing: String,
    /// Print machine-readable JSON on stdout.
    #[arg(long)]
    json: bool,
}

fn key_value(text: &str) -> Result<(String, String), String> {
    text.split_once('=')
        .map(|(key, value)| (key.to_string(), value.to_string()))
        .ok_or_else(|| format!("`{text}` is not KEY=VALUE"))
}

#[derive(Debug, Args)]
struct ConfigFile {
    /// The sync file.
    #[arg(
        short,
        long,
        default_value = "allsync.toml",
        env = "ALLSYNC_CONFIG",
        value_name = "FILE"
    )]
    config: PathBuf,
}

#[derive(Debug, Args)]
struct ConfigArgs {
    #[command(flatten)]
    file: ConfigFile,
    /// Print machine-readable JSON on stdout.
    #[arg(long)]
    json: bool,
}

impl ConfigArgs {
    fn path(&self) -> &std::path::Path {
        &self.file.config
    }
}

#[derive(Debug, Args)]
struct RunArgs {
    #[command(flatten)]
    config: ConfigArgs,
    /// Run only the job with this name.
    #[arg(long, value_name = "NAME")]
    job: Option<String>,
    /// Run only this shard's jobs: I/N, I from 0 to N-1 (jobs are split by a stable hash of their names).
    #[arg(long, value_name = "I/N", env = "ALLSYNC_SHARD")]
    shard: Option<Shard>,
}

#[derive(Debug, Args)]
struct AuditArgs {
    #[command(flatten)]
    config: ConfigArgs,
    /// Only records of this thing (ASCII case ignored).
    #[arg(long, value_name = "THING")]
    thing: Option<String>,
    /// Only records of this job.
    #[arg(long, value_name = "NAME")]
    job: Option<String>,
    /// Only records of this destination.
    #[arg(long, value_name = "NAME")]
    destination: Option<String>,
}

#[derive(Debug, Subcommand)]
enum ConfigCommand {
    /// Print the JSON Schema of allsync.toml, for editors (taplo, Even Better TOML).
    Schema,
}

#[derive(Debug, Subcommand)]
enum PluginsCommand {
    /// List every adapter in the plugins folder (broken files are reported too).
    List {
        /// Print machine-readable JSON on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Copy an adapter into the plugins folder once it loads, and pin it in allsync.lock.
    Add {
        /// The adapter component (.wasm).
        file: PathBuf,
        /// allsync.lock goes beside this config file.
        #[command(flatten)]
        config: ConfigFile,
    },
    /// (Re)write allsync.lock: every adapter of the plugins folder, pinned by sha256.
    Lock {
        /// allsync.lock goes beside this config file.
        #[command(flatten)]
        config: ConfigFile,
    },
    /// Show an adapter's description, config keys, hosts, hash, imports and exports.
    Inspect {
        /// An adapter name from the plugins folder, or a path to a .wasm file.
        target: String,
        /// Print machine-readable JSON on stdout.
        #[arg(long)]
        json: bool,
    },
}

/// Runs the command line and returns the documented exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    // Whatever allsync or an adapter creates (cache entries, a file
    // adapter's backups) is readable by this user alone.
    // SAFETY: umask has no preconditions and cannot fail.
    unsafe { libc::umask(0o077) };
    init_logging(cli.verbose, cli.quiet, cli.log_format);
    let progress = match cli.quiet {
        true => Progress::off(),
        false => Progress::on_stderr(),
    };
    let locations = Locations {
        plugins_dir: cli.plugins_dir.clone(),
        cache: match cli.no_cache {
            true => None,
            false => cache_location(cli.cache_dir.clone()),
        },
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            return Exit::Unexpected.into();
        }
    };
    let exit = runtime
        .block_on(run(cli.command, locations, progress))
        .unwrap_or_else(|err| {
            eprintln!("error: {err}");
            Exit::from(&err)
        });
    exit.into()
}

/// The session of `file`, showing its progress in `progress`.
async fn open(
    file: &std::path::Path,
    locations: &Locations,
    progress: &Progress,
) -> Result<Arc<Session>, AppError> {
    let session = Session::open(file, locations).await?;
    Ok(Arc::new(session.with_progress(progress.clone())))
}

/// The cache folder (`dir`, else the user cache folder's `allsync`), and
/// the key that seals its entries, in the user's data folder, outside it.
fn cache_location(dir: Option<PathBuf>) -> Option<CacheLocation> {
    let dir = dir.or_else(|| dirs::cache_dir().map(|dir| dir.join("allsync")))?;
    let Some(data) = dirs::data_local_dir() else {
        tracing::warn!(
            "no data folder (is HOME set?) for the cache key: adapters are compiled on every run"
        );
        return None;
    };
    Some(CacheLocation {
        dir,
        key: data.join("allsync").join("cache-key"),
    })
}

async fn run(command: Command, locations: Locations, progress: Progress) -> Result<Exit, AppError> {
    match command {
        Command::Plan {
            run,
            detailed_exitcode,
            out,
            format,
        } => {
            let session = open(run.config.path(), &locations, &progress).await?;
            let report = session.run(Action::Plan, &run.selection()).await?;
            if let Some(file) = &out {
                session.save_plan(&report, file)?;
            }
            match format {
                Some(Format::Markdown) => output::plan_markdown(&report),
                Some(Format::Json) => output::run_report(&report, true),
                Some(Format::Text) | None => output::run_report(&report, run.config.json),
            }
            if let Some(file) = &out {
                eprintln!(
                    "Saved the plan to {0}: `allsync show {0}` shows it, `allsync apply {0}` applies exactly it.",
                    file.display()
                );
            }
            Ok(Exit::of_run(&report, detailed_exitcode))
        }
        Command::Sync { run } => {
            let session = open(run.config.path(), &locations, &progress).await?;
            let report = session.run(Action::Apply, &run.selection()).await?;
            output::run_report(&report, run.config.json);
            Ok(Exit::of_run(&report, false))
        }
        Command::Apply { file, config } => {
            let saved = SavedPlan::read(&file)?;
            let session = open(config.path(), &locations, &progress).await?;
            let report = session.apply_saved(&saved).await?;
            output::run_report(&report, config.json);
            Ok(Exit::of_run(&report, false))
        }
        Command::Serve { config, shard } => {
            serve::serve(ServeRequest {
                config: config.config,
                locations,
                shard,
            })
            .await?;
            Ok(Exit::Ok)
        }
        Command::Check { config } => {
            let session = Session::open(&config.config, &locations).await?;
            output::checked(&session);
            Ok(Exit::Ok)
        }
        Command::Init { file } => {
            let listing = app::list_plugins(&locations).await?;
            for broken in &listing.broken {
                eprintln!("warning: left out: {broken}");
            }
            let plugins: Vec<&allsync_runtime::Plugin> =
                listing.plugins.iter().map(|p| &**p).collect();
            let dir = locations
                .plugins_dir
                .clone()
                .unwrap_or_else(|| PathBuf::from("plugins"));
            let text = starter::starter_config(&plugins, &dir);
            write_new(&file, &text)?;
            println!(
                "wrote {}: edit it, then `allsync check -c {0}` and `allsync plan -c {0}`",
                file.display()
            );
            Ok(Exit::Ok)
        }
        Command::Completions { shell } => {
            clap_complete::generate(
                shell,
                &mut Cli::command(),
                "allsync",
                &mut std::io::stdout(),
            );
            Ok(Exit::Ok)
        }
        Command::Man => {
            clap_mangen::Man::new(Cli::command())
                .render(&mut std::io::stdout())
                .map_err(|err| AppError::Invalid(format!("cannot write the man page: {err}")))?;
            Ok(Exit::Ok)
        }
        Command::Config(ConfigCommand::Schema) => {
            print!("{}", config::schema());
            Ok(Exit::Ok)
        }
        Command::Show { file, json } => {
            output::saved_plan(&SavedPlan::read(&file)?, &file, json);
            Ok(Exit::Ok)
        }
        Command::Audit(args) => {
            let config = Config::load(args.config.path(), |name| std::env::var(name).ok())?;
            let Some(log) = config.audit else {
                return Err(AppError::Invalid(format!(
                    "{}: no [audit] file is configured, so there is no audit log to search \
                     (see README, \"Audit log\")",
                    config.file.display()
                )));
            };
            let query = Query {
                thing: args.thing,
                job: args.job,
                destination: args.destination,
            };
            let (records, problems) = audit::search(&log.file, &query)?;
            for problem in problems {
                eprintln!("warning: {problem}");
            }
            output::audit(&records, args.config.json);
            Ok(Exit::Ok)
        }
        Command::Plugins(PluginsCommand::List { json }) => {
            let listing = app::list_plugins(&locations).await?;
            output::listing(&listing, json);
            Ok(match listing.broken.is_empty() {
                true => Exit::Ok,
                false => Exit::AdapterFailed,
            })
        }
        Command::Plugins(PluginsCommand::Add { file, config }) => {
            let lock_file = lock::beside(&config.config);
            let added = app::add_plugin(&file, &lock_file, &locations).await?;
            println!(
                "added {} {} (sha256 {}), pinned in {}",
                added.name,
                added.version,
                added.sha256,
                lock_file.display()
            );
            Ok(Exit::Ok)
        }
        Command::Plugins(PluginsCommand::Lock { config }) => {
            let lock_file = lock::beside(&config.config);
            let listing = app::lock_plugins(&lock_file, &locations).await?;
            for broken in &listing.broken {
                eprintln!("warning: not pinned: {broken}");
            }
            println!(
                "pinned {} in {}",
                output::counted(listing.plugins.len(), "adapter"),
                lock_file.display()
            );
            Ok(Exit::Ok)
        }
        Command::New {
            language,
            name,
            dir,
        } => match scaffold::scaffold(language, &name, &dir) {
            Ok(root) => {
                println!(
                    "created {}: run {}/test.sh to build it and test it with `allsync test-adapter`",
                    root.display(),
                    root.display()
                );
                Ok(Exit::Ok)
            }
            Err(err) => {
                eprintln!("error: {err}");
                Ok(Exit::Config)
            }
        },
        Command::TestAdapter(args) => {
            let request = app::TestRequest {
                file: args.file,
                config: args.config,
                allowed_hosts: args.allow_hosts,
                directory: args.dir.map(|dir| (dir, args.writable)),
                sandbox: args.sandbox,
                probe: args.thing,
            };
            let (plugin, checks) = app::test_adapter(request, &locations).await?;
            output::conformance(&plugin, &checks, args.json);
            let failed = checks
                .iter()
                .any(|check| matches!(check.outcome, Outcome::Fail(_)));
            Ok(if failed {
                Exit::AdapterFailed
            } else {
                Exit::Ok
            })
        }
        Command::Plugins(PluginsCommand::Inspect { target, json }) => {
            output::plugin(&*app::inspect(&target, &locations).await?, json);
            Ok(Exit::Ok)
        }
    }
}

/// Writes `text` to `file`, which must not exist yet.
fn write_new(file: &std::path::Path, text: &str) -> Result<(), AppError> {
    use std::io::Write as _;
    let mut created = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(file)
        .map_err(|err| match err.kind() {
            std::io::ErrorKind::AlreadyExists => AppError::Invalid(format!(
                "{} already exists: nothing was written (move it away, or name another file)",
                file.display()
            )),
            _ => AppError::Invalid(format!("cannot create {}: {err}", file.display())),
        })?;
    created
        .write_all(text.as_bytes())
        .map_err(|err| AppError::Invalid(format!("cannot write {}: {err}", file.display())))
}

impl RunArgs {
    fn selection(&self) -> Selection {
        Selection {
            job: self.job.clone(),
            shard: self.shard,
        }
    }
}

/// Whether to colour what goes to a stream that `is_terminal` or not:
/// never with `NO_COLOR` set, always with `CLICOLOR_FORCE` set (not `0`),
/// else only on a terminal, never into a file or a pipe.
fn colour(is_terminal: bool) -> bool {
    let set = |name: &str| std::env::var_os(name).is_some_and(|value| !value.is_empty());
    if set("NO_COLOR") {
        return false;
    }
    if set("CLICOLOR_FORCE") && std::env::var_os("CLICOLOR_FORCE").is_some_and(|v| v != "0") {
        return true;
    }
    is_terminal
}

/// Logs go to stderr: `RUST_LOG` if set, else info (warnings only from
/// dependencies), raised by each `-v`.
///
/// wasmtime's WASI crates are held at info whatever is asked: below that they
/// log raw adapter I/O (stderr bytes, HTTP header values), which can carry
/// secrets that allsync must never print.
fn init_logging(verbose: u8, quiet: bool, format: LogFormat) {
    let default = match verbose {
        _ if quiet => "error",
        0 => "warn,allsync=info",
        1 => "info,allsync=debug",
        _ => "debug,allsync=trace",
    };
    let filter = ["wasmtime_wasi=info", "wasmtime_wasi_http=info"]
        .into_iter()
        .fold(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default)),
            |filter, cap| filter.add_directive(cap.parse().expect("a valid log directive")),
        );
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(progress::log_writer)
        .with_target(false);
    match format {
        LogFormat::Text => logs
            .with_ansi(colour(std::io::stderr().is_terminal()))
            .without_time()
            .init(),
        LogFormat::Json => logs.json().with_ansi(false).init(),
    }
}
