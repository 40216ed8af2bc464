//! What `allsync` prints on stdout: readable text, or JSON with `--json`.

use crate::app::{InstanceReport, RunReport};
use crate::audit::{Outcome as AuditOutcome, Record};
use crate::conformance::{Check, Outcome};
use crate::saved::SavedPlan;
use allsync_engine::{DestinationReport, JobReport, Plan, Status};
use allsync_runtime::{Listing, Plugin};
use serde::Serialize;
use serde_json::json;
use std::fmt::Write;

/// Prints a plan or sync report.
pub fn run_report(report: &RunReport, json: bool) {
    match json {
        true => print_json(report),
        false => print!("{}", render_run(report)),
    }
}

/// Prints the adapters of a plugins folder; broken files go to stderr.
pub fn listing(catalog: &Listing, json: bool) {
    for broken in &catalog.broken {
        eprintln!("error: {broken}");
    }
    if json {
        let plugins: Vec<_> = catalog
            .plugins
            .iter()
            .map(|plugin| plugin_json(plugin))
            .collect();
        let broken: Vec<String> = catalog.broken.iter().map(ToString::to_string).collect();
        return print_json(&json!({ "plugins": plugins, "broken": broken }));
    }
    if catalog.plugins.is_empty() {
        println!("no adapters in {}", catalog.dir.display());
        return;
    }
    let rows: Vec<[String; 5]> = catalog
        .plugins
        .iter()
        .map(|plugin| {
            let info = &plugin.info;
            let role = if info.read_only {
                "source"
            } else {
                "source, destination"
            };
            [
                info.name.clone(),
                info.version.clone(),
                role.into(),
                plugin.path.display().to_string(),
                info.description.clone(),
            ]
        })
        .collect();
    print!(
        "{}",
        table(["NAME", "VERSION", "ROLES", "FILE", "DESCRIPTION"], &rows)
    );
}

/// Prints everything about one adapter.
pub fn plugin(plugin: &Plugin, json: bool) {
    if json {
        return print_json(&plugin_json(plugin));
    }
    let info = &plugin.info;
    let mut out = String::new();
    let none = |list: &[String]| {
        if list.is_empty() {
            "(none)".to_string()
        } else {
            list.join(", ")
        }
    };
    let _ = writeln!(out, "name:         {}", info.name);
    let _ = writeln!(out, "version:      {}", info.version);
    let _ = writeln!(out, "description:  {}", info.description);
    let _ = writeln!(out, "file:         {}", plugin.path.display());
    let _ = writeln!(out, "sha256:       {}", plugin.sha256);
    let _ = writeln!(
        out,
        "read-only:    {}",
        if info.read_only { "yes" } else { "no" }
    );
    let _ = writeln!(out, "hosts:        {}", none(&info.hosts));
    let _ = writeln!(
        out,
        "grants:       by default, HTTP to the hosts above if none is a wildcard (public addresses only); \
         no files, environment or sockets; more with allowed_hosts and directory in allsync.toml"
    );
    let _ = writeln!(out, "config keys:");
    let rows: Vec<[String; 3]> = info
        .config
        .iter()
        .map(|key| {
            let flags = [
                key.required.then_some("required"),
                key.secret.then_some("secret"),
            ];
            let flags: Vec<&str> = flags.into_iter().flatten().collect();
            [
                key.name.clone(),
                if flags.is_empty() {
                    "optional".into()
                } else {
                    flags.join(", ")
                },
                key.description.clone(),
            ]
        })
        .collect();
    match rows.is_empty() {
        true => out.push_str("  (none)\n"),
        false => out.push_str(&indent(&table(["KEY", "KIND", "DESCRIPTION"], &rows))),
    }
    let _ = writeln!(out, "imports:");
    for import in &plugin.imports {
        let _ = writeln!(out, "  {import}");
    }
    let _ = writeln!(out, "exports:");
    for export in &plugin.exports {
        let _ = writeln!(out, "  {export}");
    }
    print!("{out}");
}

/// Prints what `check` found: the config is ready, and with what.
pub fn checked(session: &crate::app::Session) {
    let config = session.config();
    let instances: usize = config.jobs.iter().map(|job| job.endpoints().count()).sum();
    let mut out = format!(
        "{} is ready: {}, {}; nothing was run\n",
        config.file.display(),
        counted(config.jobs.len(), "job"),
        counted(instances, "adapter instance")
    );
    for adapter in session.adapters() {
        let _ = writeln!(
            out,
            "  {} {} (sha256 {})",
            adapter.name, adapter.version, adapter.sha256
        );
    }
    print!("{out}");
}

/// Prints a plan in Markdown,/// Prints a plan in Markdown, to post on a pull request: a table of every
/// destination, then each one's changes in a folded block.
pub fn plan_markdown(report: &RunReport) {
    print!("{}", render_markdown(report));
}

fn render_markdown(report: &RunReport) -> String {
    let cell = |text: &str| text.replace('|', "\\|").replace('\n', " ");
    let mut out = String::from("### allsync plan\n\n");
    out.push_str("| job | destination | mode | to add | to remove | unchanged | status |\n");
    out.push_str("|---|---|---|---:|---:|---:|---|\n");
    let mut details = String::new();
    for job in &report.jobs {
        for destination in &job.destinations {
            let (add, remove, unchanged) = destination.plan.as_ref().map_or((0, 0, 0), |plan| {
                (plan.add.len(), plan.remove.len(), plan.unchanged)
            });
            let status = match destination.status {
                Status::UpToDate => "up to date".to_string(),
                Status::Pending => "changes to apply".to_string(),
                Status::Blocked => format!(
                    "**blocked**: {}",
                    destination.error.as_deref().unwrap_or_default()
                ),
                _ => format!(
                    "**failed**: {}",
                    destination.error.as_deref().unwrap_or_default()
                ),
            };
            let _ = writeln!(
                out,
                "| {} | {} | {} | {add} | {remove} | {unchanged} | {} |",
                cell(&job.name),
                cell(&destination.name),
                destination.mode,
                cell(&status)
            );
            if let Some(plan) = destination.plan.as_ref().filter(|plan| plan.changes() > 0) {
                let _ = writeln!(
                    details,
                    "\n<details><summary>{} → {}: {add} to add, {remove} to remove</summary>\n\n```diff",
                    html(&job.name),
                    html(&destination.name)
                );
                for thing in &plan.add {
                    let _ = writeln!(details, "+ {}", fenced(thing));
                }
                for thing in &plan.remove {
                    let _ = writeln!(details, "- {}", fenced(thing));
                }
                details.push_str("```\n\n</details>\n");
            }
        }
    }
    out.push_str(&details);
    let _ = write!(out, "\n{}", summary(report));
    out
}

/// `text` safe inside HTML.
fn html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// `text` safe inside a fenced block: a run of backticks cannot close it.
fn fenced(text: &str) -> String {
    text.replace("```", "`\u{200b}``")
}

/// Prints a saved plan: where it came from, then each destination's changes.
pub fn saved_plan(saved: &SavedPlan, file: &std::path::Path, json: bool) {
    if json {
        return print_json(saved);
    }
    let mut out = String::new();
    let _ = writeln!(
        out,
        "saved plan made {} by allsync {}\nconfig: {} (sha256 {})",
        saved.created,
        saved.allsync,
        saved.config.path.display(),
        saved.config.sha256
    );
    for adapter in &saved.adapters {
        let _ = writeln!(
            out,
            "adapter: {} {} (sha256 {})",
            adapter.name, adapter.version, adapter.sha256
        );
    }
    let (mut changes, mut destinations) = (0, 0);
    for job in &saved.jobs {
        let _ = writeln!(out, "job {}:", job.name);
        for destination in &job.destinations {
            let head = format!("  {} ({}):", destination.name, destination.adapter);
            let note = destination.note.as_deref().unwrap_or_default();
            let _ = match destination.status {
                Status::Pending => writeln!(
                    out,
                    "{head} {} to add, {} to remove",
                    destination.add.len(),
                    destination.remove.len()
                ),
                Status::UpToDate => writeln!(out, "{head} up to date"),
                Status::Blocked => writeln!(out, "{head} BLOCKED, will not be changed: {note}"),
                _ => writeln!(
                    out,
                    "{head} FAILED when planned, will not be changed: {note}"
                ),
            };
            for thing in &destination.add {
                let _ = writeln!(out, "    + {thing}");
            }
            for thing in &destination.remove {
                let _ = writeln!(out, "    - {thing}");
            }
            if destination.status == Status::Pending {
                changes += destination.add.len() + destination.remove.len();
                destinations += 1;
            }
        }
    }
    let _ = match changes {
        0 => writeln!(out, "Plan: no changes to apply."),
        _ => writeln!(
            out,
            "Plan: {} to {}; run `allsync apply {}` to apply exactly these.",
            counted(changes, "change"),
            counted(destinations, "destination"),
            file.display()
        ),
    };
    print!("{out}");
}

/// Prints what the audit log holds: a line per record, oldest first.
pub fn audit(records: &[Record], json: bool) {
    if json {
        return print_json(&records);
    }
    if records.is_empty() {
        println!("no matching records in the audit log");
        return;
    }
    let rows: Vec<[String; 8]> = records
        .iter()
        .map(|record| {
            let outcome = match record.outcome {
                AuditOutcome::Attempt => "attempted (no outcome recorded: the run was cut short)",
                AuditOutcome::Applied => "applied",
                AuditOutcome::Rejected => "rejected",
                AuditOutcome::Failed => "failed",
            };
            [
                record.time.clone(),
                record.run.clone(),
                record.job.clone(),
                record.destination.clone(),
                record.operation.to_string(),
                record.thing.clone(),
                outcome.to_string(),
                record.reason.clone().unwrap_or_default(),
            ]
        })
        .collect();
    print!(
        "{}",
        table(
            [
                "TIME",
                "RUN",
                "JOB",
                "DESTINATION",
                "OPERATION",
                "THING",
                "OUTCOME",
                "REASON"
            ],
            &rows
        )
    );
}

/// Prints a conformance report, closing with "N passed, N failed, N skipped".
pub fn conformance(plugin: &Plugin, checks: &[Check], json: bool) {
    if json {
        return print_json(
            &json!({ "file": plugin.path, "adapter": plugin.info.name, "checks": checks }),
        );
    }
    let mut out = format!(
        "conformance of {} ({} {})\n",
        plugin.path.display(),
        plugin.info.name,
        plugin.info.version
    );
    let mut counts = [0; 3];
    for check in checks {
        let (index, word, detail) = match &check.outcome {
            Outcome::Pass => (0, "PASS", String::new()),
            Outcome::Fail(why) => (1, "FAIL", format!(": {why}")),
            Outcome::Skip(why) => (2, "SKIP", format!(": {why}")),
        };
        counts[index] += 1;
        let _ = writeln!(out, "  {word}  {}{detail}", check.name);
    }
    let _ = writeln!(
        out,
        "{} passed, {} failed, {} skipped",
        counts[0], counts[1], counts[2]
    );
    print!("{out}");
}

fn plugin_json(plugin: &Plugin) -> serde_json::Value {
    json!({
        "file": plugin.path,
        "sha256": plugin.sha256,
        "info": plugin.info,
        "imports": plugin.imports,
        "exports": plugin.exports,
    })
}

fn print_json(value: &impl Serialize) {
    println!(
        "{}",
        serde_json::to_string_pretty(value).expect("reports serialise to JSON")
    );
}

/// The human-readable form of a report; a plan also lists what each
/// adapter instance was granted.
fn render_run(report: &RunReport) -> String {
    let mut out = String::new();
    for job in &report.jobs {
        render_job(&mut out, job, report.action);
    }
    if report.action == "plan" {
        render_grants(&mut out, &report.instances);
    }
    out.push_str(&summary(report));
    out
}

fn render_grants(out: &mut String, grants: &[InstanceReport]) {
    let _ = writeln!(out, "grants:");
    for instance in grants {
        let http = match instance.http.is_empty() {
            true => "none".to_string(),
            false => instance.http.join(", "),
        };
        let files = match (
            &instance.directory,
            instance.writable,
            instance.writable_in_sync,
        ) {
            (None, _, _) => "none".to_string(),
            (Some(dir), true, _) => format!("{} (read-write)", dir.display()),
            (Some(dir), false, true) => {
                format!(
                    "{} (read-only in a plan; read-write in a sync)",
                    dir.display()
                )
            }
            (Some(dir), false, false) => format!("{} (read-only)", dir.display()),
        };
        let credentials = match &instance.credentials {
            Some(credentials) => format!("; credentials: {credentials}"),
            None => String::new(),
        };
        let _ = writeln!(
            out,
            "  {} ({}): http: {http}; files: {files}{credentials}",
            instance.instance, instance.adapter
        );
    }
}

fn render_job(out: &mut String, job: &JobReport, action: &str) {
    let _ = match (&job.source.count, &job.source.error) {
        (_, Some(error)) => writeln!(out, "job {}: source FAILED: {error}", job.name),
        (Some(count), None) => writeln!(
            out,
            "job {}: source has {}",
            job.name,
            counted(*count, "thing")
        ),
        (None, None) => writeln!(out, "job {}:", job.name),
    };
    for destination in &job.destinations {
        render_destination(out, destination, action);
    }
}

fn render_destination(out: &mut String, destination: &DestinationReport, action: &str) {
    let head = format!("  {} ({}):", destination.name, destination.mode);
    let counts = destination
        .plan
        .as_ref()
        .map(plan_counts)
        .unwrap_or_default();
    let error = destination.error.as_deref().unwrap_or_default();
    let _ = match destination.status {
        Status::UpToDate => writeln!(out, "{head} up to date ({counts})"),
        Status::Pending => writeln!(out, "{head} {counts}"),
        Status::Applied => writeln!(
            out,
            "{head} {} added, {} removed",
            destination.added.len(),
            destination.removed.len()
        ),
        Status::Blocked => writeln!(out, "{head} BLOCKED ({counts}): {error}"),
        Status::Stale => writeln!(out, "{head} STALE: {error}"),
        Status::Failed if destination.added.is_empty() && destination.removed.is_empty() => {
            writeln!(out, "{head} FAILED: {error}")
        }
        Status::Failed => writeln!(
            out,
            "{head} FAILED after {} added, {} removed: {error} (run `allsync plan` to see what is left)",
            destination.added.len(),
            destination.removed.len()
        ),
    };
    let (added, removed): (&[String], &[String]) =
        match (destination.status, &destination.plan, action) {
            (Status::Pending, Some(plan), _) => (&plan.add, &plan.remove),
            (Status::Applied | Status::Failed, _, "sync") => {
                (&destination.added, &destination.removed)
            }
            _ => (&[], &[]),
        };
    let from = match (destination.status, &destination.plan) {
        (Status::Pending, Some(plan)) => plan.add_from.as_slice(),
        _ => &[],
    };
    for (index, thing) in added.iter().enumerate() {
        match from.get(index) {
            Some(sources) => {
                let _ = writeln!(out, "    + {thing}  (from {})", sources.join(", "));
            }
            None => {
                let _ = writeln!(out, "    + {thing}");
            }
        }
    }
    for thing in removed {
        let _ = writeln!(out, "    - {thing}");
    }
    for rejection in &destination.rejected {
        let _ = writeln!(
            out,
            "    ! could not {} {}: {}",
            rejection.operation, rejection.thing, rejection.reason
        );
    }
}

/// "2 to add, 1 to remove, 5 unchanged, 1 ignored", leaving out zero changes.
fn plan_counts(plan: &Plan) -> String {
    let parts = [
        (plan.add.len(), "to add"),
        (plan.remove.len(), "to remove"),
        (plan.unchanged, "unchanged"),
        (plan.ignored, "ignored"),
    ];
    let parts: Vec<String> = parts
        .iter()
        .filter(|(count, what)| *count > 0 || *what == "unchanged")
        .map(|(count, what)| format!("{count} {what}"))
        .collect();
    parts.join(", ")
}

/// One closing line: what changed or would change, and what went wrong.
fn summary(report: &RunReport) -> String {
    let destinations: Vec<&DestinationReport> = report
        .jobs
        .iter()
        .flat_map(|job| &job.destinations)
        .collect();
    let count = |status: Status| destinations.iter().filter(|d| d.status == status).count();
    let rejected: usize = destinations.iter().map(|d| d.rejected.len()).sum();
    let mut line = match report.action {
        "plan" => {
            let pending: Vec<&Plan> = destinations
                .iter()
                .filter(|d| d.status == Status::Pending)
                .filter_map(|d| d.plan.as_ref())
                .collect();
            let changes: usize = pending.iter().map(|plan| plan.changes()).sum();
            match changes {
                0 => "Plan: no changes to apply.".to_string(),
                _ => format!(
                    "Plan: {} to {}; run `allsync sync` to apply them.",
                    counted(changes, "change"),
                    counted(pending.len(), "destination")
                ),
            }
        }
        _ => {
            let changed: usize = destinations
                .iter()
                .map(|d| d.added.len() + d.removed.len())
                .sum();
            let changed_destinations = destinations
                .iter()
                .filter(|d| !d.added.is_empty() || !d.removed.is_empty())
                .count();
            format!(
                "Sync: {} applied to {}.",
                counted(changed, "change"),
                counted(changed_destinations, "destination")
            )
        }
    };
    for (n, what) in [
        (count(Status::Blocked), "blocked"),
        (count(Status::Stale), "stale"),
        (count(Status::Failed), "failed"),
    ] {
        if n > 0 {
            let _ = write!(line, " {} {what}.", counted(n, "destination"));
        }
    }
    if rejected > 0 {
        let _ = write!(line, " {} rejected.", counted(rejected, "thing"));
    }
    let retried: Vec<String> = report
        .instances
        .iter()
        .filter(|instance| instance.retries > 0)
        .map(|instance| format!("{} {}", instance.instance, instance.retries))
        .collect();
    if !retried.is_empty() {
        let _ = write!(line, " HTTP retries: {}.", retried.join(", "));
    }
    line.push('\n');
    line
}

/// "1 thing", "2 things".
pub fn counted(count: usize, noun: &str) -> String {
    match count {
        1 => format!("1 {noun}"),
        _ => format!("{count} {noun}s"),
    }
}

/// Left-aligned columns separated by two spaces.
fn table<const N: usize>(header: [&str; N], rows: &[[String; N]]) -> String {
    let mut widths = header.map(str::len);
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let header = header.map(String::from);
    for row in std::iter::once(&header).chain(rows) {
        let cells: Vec<String> = row
            .iter()
            .zip(widths)
            .map(|(cell, width)| format!("{cell:width$}"))
            .collect();
        let _ = writeln!(out, "{}", cells.join("  ").trim_end());
    }
    out
}

fn indent(text: &str) -> String {
    text.lines().map(|line| format!("  {line}\n")).collect()
}
