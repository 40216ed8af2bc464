//! `allsync init`: a commented starter `allsync.toml` for the adapters in
//! the plugins folder: an example job syncing two files (when the `file`
//! adapter is there), and, commented out, a destination for every other
//! adapter with its keys, secrets read from `${VARIABLES}`.

use allsync_runtime::Plugin;
use std::fmt::Write;
use std::path::Path;

/// The starter config for `plugins` (found in `plugins_dir`).
pub fn starter_config(plugins: &[&Plugin], plugins_dir: &Path) -> String {
    let mut out = String::from(
        "# allsync.toml, made by `allsync init`: edit it, then run `allsync check` and\n\
         # `allsync plan` (which changes nothing). See README, \"Configuration\".\n\n",
    );
    let _ = writeln!(
        out,
        "plugins_dir = {:?}\n",
        plugins_dir.display().to_string()
    );
    let has_file = plugins.iter().any(|plugin| plugin.info.name == "file");
    if has_file {
        out.push_str(
            "[[sync]]\nname = \"example\"\n# Safe defaults: an empty source never empties a destination, and no run\n\
             # changes more than this.\nmax_changes = 25\n\n\
             [sync.source]\nadapter = \"file\"\ndirectory = { path = \".\" }\nconfig = { path = \"people.txt\" }\n\n\
             [[sync.destination]]\nname = \"team\"\nadapter = \"file\"\n\
             directory = { path = \".\", writable = true }\nconfig = { path = \"team.txt\" }\n",
        );
    } else {
        out.push_str(
            "# No `file` adapter in the plugins folder: uncomment a source and a\n\
             # destination below, in a [[sync]] job with a name.\n",
        );
    }
    for plugin in plugins.iter().filter(|plugin| plugin.info.name != "file") {
        out.push('\n');
        out.push_str(&commented(&instance(plugin)));
    }
    out
}

/// One adapter instance of `plugin`, as a destination (or, for a read-only
/// adapter, a source), with each of its keys.
fn instance(plugin: &Plugin) -> String {
    let info = &plugin.info;
    let mut out = format!("{} ({} {})\n", info.description, info.name, info.version);
    let (header, table) = match info.read_only {
        true => ("[sync.source]", "sync.source"),
        false => ("[[sync.destination]]", "sync.destination"),
    };
    let _ = writeln!(out, "{header}\nadapter = {:?}\n[{table}.config]", info.name);
    for key in info.config.iter().filter(|key| key.required) {
        let value = match key.secret {
            true => format!("\"${{{}}}\"", variable(&info.name, &key.name)),
            false => "\"\"".to_string(),
        };
        let _ = writeln!(out, "{} = {value}    # {}", key.name, key.description);
    }
    let optional: Vec<&str> = info
        .config
        .iter()
        .filter(|key| !key.required)
        .map(|key| key.name.as_str())
        .collect();
    if !optional.is_empty() {
        let _ = writeln!(
            out,
            "# optional: {} (`allsync plugins inspect {}` says what each is)",
            optional.join(", "),
            info.name
        );
    }
    out
}

/// The environment variable a secret key is read from: `SLACK_USERGROUP_TOKEN`.
fn variable(adapter: &str, key: &str) -> String {
    format!("{adapter}_{key}")
        .chars()
        .map(|c| match c.is_ascii_alphanumeric() {
            true => c.to_ascii_uppercase(),
            false => '_',
        })
        .collect()
}

/// `text` as TOML comments.
fn commented(text: &str) -> String {
    text.lines().map(|line| format!("# {line}\n")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_is_read_from_a_variable_named_after_adapter_and_key() {
        assert_eq!(
            variable("slack-usergroup", "token"),
            "SLACK_USERGROUP_TOKEN"
        );
        assert_eq!(
            variable("opsgenie-oncall", "api_key"),
            "OPSGENIE_ONCALL_API_KEY"
        );
    }
}
