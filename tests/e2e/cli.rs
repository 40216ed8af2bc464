//! The command line: config errors, plugin listing, exit codes, the cache.

use crate::support::{Workspace, component};
use sha2::{Digest, Sha256};

fn sha256(bytes: &[u8]) -> Vec<u8> {
    Sha256::digest(bytes).to_vec()
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    sha256(bytes)
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
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
        third
            .stderr
            .contains("is unusable: its seal does not match"),
        "{}",
        third.stderr
    );
    // An entry with a checksum that holds, but no seal of this user's key
    // (here: not a compiled component at all), is never deserialised.
    for entry in std::fs::read_dir(workspace.path("cache")).unwrap() {
        let path = entry.unwrap().path();
        let foreign = b"compiled by some other wasmtime".to_vec();
        let checksum = sha256(&foreign);
        std::fs::write(&path, [foreign, checksum].concat()).unwrap();
    }
    let fourth = workspace.run(&["plan"]).expect_code(0);
    assert!(
        fourth
            .stderr
            .contains("is unusable: its seal does not match"),
        "{}",
        fourth.stderr
    );
    assert!(fourth.stderr.contains("compiling"), "{}", fourth.stderr);
}

/// The cache entry of the component at `plugin`, in `cache`.
fn entry_of(cache: &std::path::Path, plugin: &std::path::Path) -> std::path::PathBuf {
    let sha = sha256_hex(&std::fs::read(plugin).unwrap());
    std::fs::read_dir(cache)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .find(|path| {
            path.file_name()
                .unwrap()
                .to_str()
                .unwrap()
                .starts_with(&sha)
        })
        .expect("an entry for the component")
}

#[test]
fn a_cache_entry_copied_under_another_components_name_never_runs_as_it() {
    let workspace = Workspace::with_adapters(&["file", "github-team"]).with_own_cache();
    workspace.run(&["plugins", "list"]).expect_code(0);
    let cache = workspace.path("cache");
    let github = entry_of(&cache, &workspace.plugins().join("github-team.wasm"));
    let file = entry_of(&cache, &workspace.plugins().join("file.wasm"));
    std::fs::copy(&github, &file).unwrap();
    let run = workspace.run(&["plugins", "list", "--json"]).expect_code(0);
    let names: Vec<String> = run.json()["plugins"]
        .as_array()
        .unwrap()
        .iter()
        .map(|plugin| plugin["info"]["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        names,
        ["file", "github-team"],
        "file.wasm is still file: {}",
        run.stderr
    );
    assert!(
        run.stderr.contains("is unusable: its seal does not match"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_cache_folder_others_may_write_in_or_owned_by_someone_else_is_not_used() {
    use std::os::unix::fs::PermissionsExt;
    let workspace = workspace(CONFIG).with_own_cache();
    workspace.run(&["plan"]).expect_code(0);
    let cache = workspace.path("cache");
    assert_eq!(
        std::fs::metadata(&cache).unwrap().permissions().mode() & 0o777,
        0o700,
        "created private"
    );
    std::fs::set_permissions(&cache, std::fs::Permissions::from_mode(0o775)).unwrap();
    let run = workspace.run(&["plan"]).expect_code(0);
    assert!(
        run.stderr
            .contains("not using the compiled-component cache")
            && run
                .stderr
                .contains("is writable by others (mode 775): run `chmod go-w"),
        "{}",
        run.stderr
    );
    std::fs::set_permissions(&cache, std::fs::Permissions::from_mode(0o700)).unwrap();
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        std::os::unix::fs::chown(&cache, Some(65534), None).unwrap();
        let run = workspace.run(&["plan"]).expect_code(0);
        assert!(
            run.stderr.contains("is owned by user 65534, not by you"),
            "{}",
            run.stderr
        );
    }
}

#[test]
fn a_plan_compiles_only_the_adapters_its_config_uses() {
    let workspace =
        Workspace::with_adapters(&["file", "http-probe", "hostile", "numbered"]).with_own_cache();
    workspace
        .write("allsync.toml", CONFIG)
        .write("people.txt", "a@x.com\n")
        .write("team.txt", "");
    let run = workspace.run(&["plan"]).expect_code(0);
    let compiled: Vec<&str> = run
        .stderr
        .lines()
        .filter(|line| line.contains("compiling "))
        .collect();
    assert_eq!(compiled.len(), 1, "{}", run.stderr);
    assert!(
        compiled[0].contains("compiling file.wasm"),
        "{}",
        run.stderr
    );
    let listing = workspace.run(&["plugins", "list"]).expect_code(0);
    assert_eq!(
        listing.stderr.matches("compiling ").count(),
        3,
        "the others, once listed: {}",
        listing.stderr
    );
}

#[test]
fn two_files_declaring_one_adapter_name_are_refused_whatever_they_are_called() {
    let workspace = Workspace::with_adapters(&[]);
    for copy in ["a.wasm", "b.wasm"] {
        std::fs::copy(component("file"), workspace.plugins().join(copy)).unwrap();
    }
    workspace
        .write("allsync.toml", CONFIG)
        .write("people.txt", "a@x.com\n")
        .write("team.txt", "");
    for _ in ["first run", "with the index the first run left"] {
        let run = workspace.run(&["plan"]).expect_code(3);
        assert!(
            run.stderr
                .contains("several files declare the adapter name `file`: ")
                && run.stderr.contains("a.wasm")
                && run.stderr.contains("b.wasm"),
            "{}",
            run.stderr
        );
    }
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
    assert!(
        run.stdout
            .contains(" (read-only in a plan; read-write in a sync)\n"),
        "a plan cannot write, even where a sync may: {}",
        run.stdout
    );
}

/// A config of `count` jobs, `job-0`..., each syncing people.txt into its own file.
fn many_jobs(count: usize) -> Workspace {
    let workspace = Workspace::with_adapters(&["file"]);
    let jobs: String = (0..count)
        .map(|n| {
            format!(
                "[[sync]]\nname = \"job-{n}\"\n[sync.source]\nadapter = \"file\"\n\
                 directory = {{ path = \".\" }}\nconfig = {{ path = \"people.txt\" }}\n\
                 [[sync.destination]]\nadapter = \"file\"\n\
                 directory = {{ path = \".\", writable = true }}\nconfig = {{ path = \"team-{n}.txt\" }}\n"
            )
        })
        .collect();
    workspace
        .write("allsync.toml", &jobs)
        .write("people.txt", "ada@example.com\n");
    for n in 0..count {
        workspace.write(&format!("team-{n}.txt"), "");
    }
    workspace
}

fn job_names(run: &crate::support::Run) -> Vec<String> {
    run.json()["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|job| job["name"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn shards_split_the_jobs_between_them_each_job_in_exactly_one() {
    let workspace = many_jobs(12);
    let mut seen: Vec<String> = Vec::new();
    for shard in ["0/3", "1/3", "2/3"] {
        let run = workspace
            .run(&["plan", "--json", "--shard", shard])
            .expect_code(0);
        let names = job_names(&run);
        assert!(!names.is_empty(), "shard {shard} has none of 12 jobs");
        seen.extend(names);
        let again = workspace
            .run_with_env(&["plan", "--json"], &[("ALLSYNC_SHARD", shard)])
            .expect_code(0);
        assert_eq!(
            job_names(&again),
            job_names(&run),
            "the same split every time"
        );
    }
    seen.sort();
    let mut all: Vec<String> = (0..12).map(|n| format!("job-{n}")).collect();
    all.sort();
    assert_eq!(seen, all);
}

#[test]
fn a_bad_shard_or_a_job_outside_the_shard_is_a_usage_or_config_error() {
    let workspace = many_jobs(2);
    let run = workspace.run(&["plan", "--shard", "2/2"]).expect_code(2);
    assert!(
        run.stderr
            .contains("shards count from 0, so with 2 they are 0/2 to 1/2"),
        "{}",
        run.stderr
    );
    let outside = ["0/2", "1/2"]
        .into_iter()
        .find(|shard| {
            workspace.run(&["plan", "--json", "--shard", shard]).json()["jobs"]
                .as_array()
                .unwrap()
                .iter()
                .all(|job| job["name"] != "job-0")
        })
        .unwrap();
    let run = workspace
        .run(&["sync", "--shard", outside, "--job", "job-0"])
        .expect_code(3);
    assert!(
        run.stderr
            .contains(&format!("job `job-0` is not in shard {outside}")),
        "{}",
        run.stderr
    );
}

#[test]
fn the_bash_completions_load_and_complete_allsync() {
    let workspace = Workspace::with_adapters(&[]);
    let script = workspace
        .run(&["completions", "bash"])
        .expect_code(0)
        .stdout;
    workspace.write("allsync.bash", &script);
    let loaded = std::process::Command::new("bash")
        .arg("-c")
        .arg("source ./allsync.bash && complete -p allsync")
        .current_dir(workspace.path(""))
        .output()
        .expect("bash runs");
    let said = String::from_utf8_lossy(&loaded.stdout);
    assert!(
        loaded.status.success(),
        "{}",
        String::from_utf8_lossy(&loaded.stderr)
    );
    assert!(said.contains("-F _allsync allsync"), "{said}");
    for shell in ["zsh", "fish", "powershell"] {
        let script = workspace.run(&["completions", shell]).expect_code(0).stdout;
        assert!(
            script.contains("apply") && script.contains("serve"),
            "{shell}: {script}"
        );
    }
}

#[test]
fn the_man_page_documents_every_command() {
    let man = Workspace::with_adapters(&[])
        .run(&["man"])
        .expect_code(0)
        .stdout;
    assert!(man.contains(".TH allsync 1"), "{man}");
    for command in [
        "plan",
        "sync",
        "apply",
        "show",
        "audit",
        "serve",
        "completions",
    ] {
        assert!(
            man.contains(&format!("allsync\\-{command}(1)")),
            "{command}"
        );
    }
}

#[test]
fn init_writes_a_starter_config_that_check_passes_and_never_overwrites() {
    let workspace = Workspace::with_adapters(&["file", "slack-usergroup"]);
    let init = workspace.run(&["init"]).expect_code(0);
    assert!(
        init.stdout.contains("wrote allsync.toml"),
        "{}",
        init.stdout
    );
    let starter = workspace.read("allsync.toml");
    assert!(
        starter.contains("# adapter = \"slack-usergroup\""),
        "{starter}"
    );
    assert!(
        starter.contains("# token = \"${SLACK_USERGROUP_TOKEN}\""),
        "{starter}"
    );
    let check = workspace.run(&["check"]).expect_code(0);
    assert!(
        check
            .stdout
            .contains("allsync.toml is ready: 1 job, 2 adapter instances; nothing was run"),
        "{}",
        check.stdout
    );

    // Uncommented and filled in, the Slack destination checks too, once its variable is set.
    let filled = starter
        .lines()
        .skip_while(|line| !line.contains("(slack-usergroup"))
        .skip(1)
        .map_while(|line| line.strip_prefix("# "))
        .map(|line| line.replace("usergroup = \"\"", "usergroup = \"S1\""))
        .collect::<Vec<_>>()
        .join("\n");
    let head: String = starter
        .lines()
        .take_while(|line| !line.starts_with("# The"))
        .collect::<Vec<_>>()
        .join("\n");
    let filled = format!("{head}\n{filled}\n");
    // Both keep to the schema that editors check allsync.toml with.
    for config in [&starter, &filled] {
        assert_eq!(schema_problems(&workspace, config), Vec::<String>::new());
    }
    workspace.write("allsync.toml", &filled);
    let missing = workspace.run(&["check"]).expect_code(3);
    assert!(
        missing.stderr.contains("SLACK_USERGROUP_TOKEN"),
        "{}",
        missing.stderr
    );
    workspace
        .run_with_env(
            &["check"],
            &[("SLACK_USERGROUP_TOKEN", "xoxb-starter-token")],
        )
        .expect_code(0);

    let again = workspace.run(&["init"]).expect_code(3);
    assert!(
        again
            .stderr
            .contains("allsync.toml already exists: nothing was written"),
        "{}",
        again.stderr
    );
}

/// What the schema `allsync config schema` prints finds wrong in `config`.
fn schema_problems(workspace: &Workspace, config: &str) -> Vec<String> {
    let schema = workspace.run(&["config", "schema"]).expect_code(0).stdout;
    let schema: serde_json::Value = serde_json::from_str(&schema).unwrap();
    let config: toml::Value = toml::from_str(config).unwrap();
    let config = serde_json::to_value(config).unwrap();
    jsonschema::validator_for(&schema)
        .unwrap()
        .iter_errors(&config)
        .map(|error| format!("{}: {error}", error.instance_path()))
        .collect()
}

#[test]
fn the_lock_pins_each_adapter_and_refuses_a_swapped_file_until_locked_again() {
    let workspace = Workspace::with_adapters(&[]);
    workspace
        .write("people.txt", "ada@example.com\n")
        .write("team.txt", "")
        .write(
            "allsync.toml",
            "[[sync]]\nname = \"team\"\n[sync.source]\nadapter = \"file\"\ndirectory = { path = \".\" }\n\
             config = { path = \"people.txt\" }\n[[sync.destination]]\nadapter = \"file\"\n\
             directory = { path = \".\", writable = true }\nconfig = { path = \"team.txt\" }\n",
        );
    let add = workspace
        .run(&["plugins", "add", component("file").to_str().unwrap()])
        .expect_code(0);
    let sha = sha256_hex(&std::fs::read(component("file")).unwrap());
    assert!(
        add.stdout.contains(&format!(
            "added file 0.1.0 (sha256 {sha}), pinned in allsync.lock"
        )),
        "{}",
        add.stdout
    );
    assert!(
        workspace
            .read("allsync.lock")
            .contains(&format!("sha256 = \"{sha}\""))
    );
    workspace.run(&["sync"]).expect_code(0);

    // The same component with a custom section appended: it loads, but it is another file.
    let path = workspace.plugins().join("file.wasm");
    let mut wasm = std::fs::read(&path).unwrap();
    wasm.extend_from_slice(&[0, 6, 5, b'e', b'x', b't', b'r', b'a']);
    std::fs::write(&path, wasm).unwrap();
    let refused = workspace.run(&["plan"]).expect_code(3);
    assert!(
        refused.stderr.contains(&format!("but allsync.lock pins {sha} (version 0.1.0); if the new file is intended, run `allsync plugins lock`")),
        "{}",
        refused.stderr
    );
    let lock = workspace.run(&["plugins", "lock"]).expect_code(0);
    assert!(
        lock.stdout.contains("pinned 1 adapter in allsync.lock"),
        "{}",
        lock.stdout
    );
    workspace.run(&["plan"]).expect_code(0);
}
