//! The command line: config errors, plugin listing, exit codes, the cache.

use crate::support::{Workspace, component};
use sha2::{Digest, Sha256};

fn sha256(bytes: &[u8]) -> Vec<u8> {
    Sha256::digest(bytes).to_vec()
}

const CONFIG: &str = r#"
[[sync]]
name = "team"
[sync.source]
adapter = "file"
directory = { path = "." }
config = { path = "people.txt" }
[[sync.destination]]
adapter = "file"
directory = { path = ".", writable = true }
config = { path = "team.txt" }
"#;

fn workspace(config: &str) -> Workspace {
    let workspace = Workspace::with_adapters(&["file", "http-probe"]);
    workspace
        .write("allsync.toml", config)
        .write("people.txt", "a@x.com\n")
        .write("team.txt", "");
    workspace
}

#[test]
fn config_problems_are_all_reported_with_where_they_are_and_exit_3() {
    let config = CONFIG
        .replace(
            "adapter = \"file\"\ndirectory = { path = \".\" }",
            "adapter = \"slack\"\ndirectory = { path = \".\" }",
        )
        .replace(
            "config = { path = \"team.txt\" }",
            "config = { file = \"team.txt\" }",
        );
    let run = workspace(&config).run(&["plan"]).expect_code(3);
    assert!(
        run.stderr
            .contains("job `team` source: no adapter named `slack` in"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("(available: file, http-probe)"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("job `team` destination `file`: config key `file` is not one the `file` adapter knows (its keys: path, format, column)"),
        "{}",
        run.stderr
    );
    assert!(run.stdout.is_empty());
}

#[test]
fn a_missing_required_key_or_environment_variable_is_a_config_error() {
    let run = workspace(&CONFIG.replace("config = { path = \"team.txt\" }", ""))
        .run(&["sync"])
        .expect_code(3);
    assert!(
        run.stderr
            .contains("config key `path` is required by the `file` adapter"),
        "{}",
        run.stderr
    );

    let config = CONFIG.replace("\"team.txt\"", "\"${TEAM_FILE}\"");
    let run = workspace(&config).run(&["sync"]).expect_code(3);
    assert!(
        run.stderr
            .contains("refers to ${TEAM_FILE}, which is not set in the environment"),
        "{}",
        run.stderr
    );
    let run = workspace(&config).run_with_env(&["plan"], &[("TEAM_FILE", "team.txt")]);
    assert_eq!(run.code, 0, "{}", run.stderr);
}

#[test]
fn an_unknown_job_or_a_missing_config_file_is_a_config_error() {
    let workspace = workspace(CONFIG);
    let run = workspace.run(&["plan", "--job", "nope"]).expect_code(3);
    assert!(
        run.stderr.contains("no job named `nope` (jobs: team)"),
        "{}",
        run.stderr
    );
    let run = workspace
        .run(&["plan", "-c", "missing.toml"])
        .expect_code(3);
    assert!(
        run.stderr.contains("missing.toml: cannot read it"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_broken_plugin_file_is_named_and_the_others_are_still_listed() {
    let workspace = workspace(CONFIG);
    workspace.write("plugins/broken.wasm", "this is not WebAssembly");
    std::fs::copy(component("file"), workspace.plugins().join("notes.txt")).unwrap();
    let run = workspace.run(&["plugins", "list"]).expect_code(4);
    assert!(
        run.stderr
            .contains("broken.wasm is not a usable allsync adapter"),
        "{}",
        run.stderr
    );
    assert!(run.stdout.contains("file        0.1.0"), "{}", run.stdout);
    assert!(run.stdout.contains("http-probe  0.1.0"), "{}", run.stdout);
    assert!(
        !run.stdout.contains("notes.txt"),
        "only *.wasm files are candidates"
    );
    // A broken file does not stop a sync that does not use it.
    workspace.run(&["sync"]).expect_code(0);
}

#[test]
fn inspect_shows_keys_secrets_hosts_hash_and_interfaces() {
    let workspace = workspace(CONFIG);
    let run = workspace
        .run(&["plugins", "inspect", "http-probe"])
        .expect_code(0);
    assert!(
        run.stdout.contains("token  required, secret  bearer token"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("wasi:http/outgoing-handler@0.2.12"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("allsync:adapter/adapter@0.1.0"),
        "{}",
        run.stdout
    );
    let path = component("file");
    let json = workspace
        .run(&["plugins", "inspect", path.to_str().unwrap(), "--json"])
        .expect_code(0)
        .json();
    assert_eq!(json["info"]["name"], "file");
    assert_eq!(json["sha256"].as_str().unwrap().len(), 64);
    let run = workspace
        .run(&["plugins", "inspect", "nope"])
        .expect_code(3);
    assert!(
        run.stderr.contains("no adapter named `nope`"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_second_run_loads_compiled_adapters_from_the_cache() {
    let workspace = workspace(CONFIG).with_own_cache();
    let first = workspace.run(&["plan"]).expect_code(0);
    assert!(first.stderr.contains("compiling"), "{}", first.stderr);
    let second = workspace.run(&["plan"]).expect_code(0);
    assert!(!second.stderr.contains("compiling"), "{}", second.stderr);
    // A damaged cache entry is detected and recompiled, never loaded.
    for entry in std::fs::read_dir(workspace.path("cache")).unwrap() {
        let path = entry.unwrap().path();
        let mut bytes = std::fs::read(&path).unwrap();
        let middle = bytes.len() / 2;
        bytes[middle] ^= 0xff;
        std::fs::write(&path, bytes).unwrap();
    }
    let third = workspace.run(&["plan"]).expect_code(0);
    assert!(
        third.stderr.contains("is unusable: checksum mismatch"),
        "{}",
        third.stderr
    );
    // An entry whose checksum holds but whose contents another engine wrote
    // (here: not a compiled component at all) is refused by wasmtime's checks.
    for entry in std::fs::read_dir(workspace.path("cache")).unwrap() {
        let path = entry.unwrap().path();
        let foreign = b"compiled by some other wasmtime".to_vec();
        let checksum = sha256(&foreign);
        std::fs::write(&path, [foreign, checksum].concat()).unwrap();
    }
    let fourth = workspace.run(&["plan"]).expect_code(0);
    assert!(fourth.stderr.contains("is unusable:"), "{}", fourth.stderr);
    assert!(fourth.stderr.contains("compiling"), "{}", fourth.stderr);
}

#[test]
fn help_documents_the_exit_codes() {
    let run = workspace(CONFIG).run(&["--help"]).expect_code(0);
    assert!(
        run.stdout.contains("3  configuration error"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("6  plan --detailed-exitcode only"),
        "{}",
        run.stdout
    );
}

#[test]
fn components_for_another_contract_or_needing_unknown_imports_are_refused_at_load() {
    let workspace = Workspace::with_adapters(&["file", "future-contract", "unknown-import"]);
    let run = workspace.run(&["plugins", "list"]).expect_code(4);
    assert!(
        run.stderr.contains(
            "future-contract.wasm is not a usable allsync adapter: it exports allsync:adapter/adapter@0.2.0, \
             but this host implements allsync:adapter@0.1.0"
        ),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains(
            "unknown-import.wasm is not a usable allsync adapter: it needs something the host does not provide: \
             component imports instance `acme:vault/secrets`"
        ),
        "{}",
        run.stderr
    );
    assert!(run.stdout.contains("file  0.1.0"), "{}", run.stdout);
}

#[test]
fn a_pinned_sha256_that_does_not_match_refuses_the_adapter() {
    let sha = {
        let workspace = workspace(CONFIG);
        let json = workspace
            .run(&["plugins", "inspect", "file", "--json"])
            .expect_code(0)
            .json();
        json["sha256"].as_str().unwrap().to_string()
    };
    let pinned = |hash: &str| {
        CONFIG.replace("adapter = \"file\"\ndirectory = { path = \".\", writable = true }", &format!("adapter = \"file\"\nsha256 = \"{hash}\"\ndirectory = {{ path = \".\", writable = true }}"))
    };
    workspace(&pinned(&sha)).run(&["sync"]).expect_code(0);
    let wrong = "0".repeat(64);
    let run = workspace(&pinned(&wrong)).run(&["sync"]).expect_code(3);
    assert!(
        run.stderr.contains(&format!(
            "its sha256 is {sha}, but allsync.toml pins {wrong}"
        )),
        "{}",
        run.stderr
    );
}

#[test]
fn plan_shows_the_effective_grants_of_each_instance() {
    let run = workspace(CONFIG).run(&["plan"]).expect_code(0);
    assert!(
        run.stdout
            .contains("grants:\n  job `team` source (file): http: none; files: "),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains(" (read-only)\n  job `team` destination `file` (file): http: none; files: "),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains(" (read-write)\n"), "{}", run.stdout);
}
