//! Running the real `allsync` binary against real adapter components, in a
//! scratch folder per test.

use crate::peak::wait_with_peak;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("the crate lives in host/cli")
        .to_path_buf()
}

/// A built component: a shipped adapter (`plugins/<name>.wasm`) or a
/// test-only one (`target/test-adapters/<name>.wasm`).
pub fn component(name: &str) -> PathBuf {
    let candidates = [
        root().join("plugins").join(format!("{name}.wasm")),
        root()
            .join("target/test-adapters")
            .join(format!("{name}.wasm")),
    ];
    candidates
        .into_iter()
        .find(|path| path.exists())
        .unwrap_or_else(|| {
            panic!(
                "no built component `{name}`: run scripts/test.sh, which builds the adapters first"
            )
        })
}

/// A scratch folder holding an `allsync.toml`, data files and a plugins folder.
pub struct Workspace {
    pub dir: tempfile::TempDir,
    cache: PathBuf,
}

/// What one run of `allsync` printed, and how it exited.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Workspace {
    /// A workspace whose plugins folder holds the named components.
    pub fn with_adapters(names: &[&str]) -> Self {
        let workspace = Workspace {
            dir: tempfile::tempdir().unwrap(),
            cache: root().join("target/e2e-cache"),
        };
        std::fs::create_dir(workspace.plugins()).unwrap();
        for name in names {
            std::fs::copy(
                component(name),
                workspace.plugins().join(format!("{name}.wasm")),
            )
            .unwrap();
        }
        workspace
    }

    /// Gives the workspace a compiled-component cache of its own, empty.
    pub fn with_own_cache(mut self) -> Self {
        self.cache = self.path("cache");
        self
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn plugins(&self) -> PathBuf {
        self.path("plugins")
    }

    pub fn write(&self, name: &str, text: &str) -> &Self {
        std::fs::write(self.path(name), text).unwrap();
        self
    }

    pub fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.path(name)).unwrap()
    }

    /// Runs `allsync <args>` in the workspace with its plugins folder.
    pub fn run(&self, args: &[&str]) -> Run {
        self.run_with_env(args, &[])
    }

    pub fn run_with_env(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let output: Output = self
            .command(args)
            .envs(env.iter().copied())
            .output()
            .expect("the allsync binary runs");
        Run {
            code: output.status.code().expect("allsync exits normally"),
            stdout: String::from_utf8(output.stdout).unwrap(),
            stderr: String::from_utf8(output.stderr).unwrap(),
        }
    }

    /// Runs `allsync <args>` like [`Workspace::run`], and also returns the
    /// most memory (resident, in bytes) the process ever used.
    pub fn run_measuring_memory(&self, args: &[&str]) -> (Run, u64) {
        let [stdout, stderr] = ["stdout", "stderr"].map(|name| self.path(&format!("{name}.log")));
        let child = self
            .command(args)
            .stdout(std::fs::File::create(&stdout).unwrap())
            .stderr(std::fs::File::create(&stderr).unwrap())
            .spawn()
            .expect("the allsync binary runs");
        let (code, peak) = wait_with_peak(child);
        let run = Run {
            code: code.expect("allsync exits normally"),
            stdout: std::fs::read_to_string(stdout).unwrap(),
            stderr: std::fs::read_to_string(stderr).unwrap(),
        };
        (run, peak)
    }

    /// The `allsync <args>` command of this workspace, to run or spawn.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_allsync"));
        command
            .current_dir(self.dir.path())
            .arg("--plugins-dir")
            .arg(self.plugins())
            .arg("--cache-dir")
            .arg(&self.cache)
            .args(args)
            .env_remove("RUST_LOG");
        command
    }
}

impl Run {
    /// Panics with everything printed unless the exit code is `code`.
    pub fn expect_code(self, code: i32) -> Self {
        assert_eq!(
            self.code, code,
            "exit code\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout, self.stderr
        );
        self
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|err| panic!("{err}: {}", self.stdout))
    }
}

/// A workspace whose one job syncs people.txt (holding `people`) into one
/// destination named `dest`, described by `destination` (its `adapter`,
/// `allowed_hosts`, `config`, ... lines).
pub fn syncing_into(destination: &str, people: &[&str]) -> Workspace {
    let adapter = destination
        .lines()
        .find_map(|line| line.trim().strip_prefix("adapter = \""))
        .and_then(|rest| rest.strip_suffix('"'))
        .expect("the destination names its adapter");
    let workspace = Workspace::with_adapters(&["file", adapter]);
    let mut listed = people.join("\n");
    listed.push('\n');
    workspace.write("people.txt", &listed).write(
        "allsync.toml",
        &format!(
            "[[sync]]\nname = \"people\"\nallow_empty_source = true\n[sync.source]\nadapter = \"file\"\n\
             directory = {{ path = \".\" }}\nconfig = {{ path = \"people.txt\" }}\n\
             [[sync.destination]]\nname = \"dest\"\n{destination}\n"
        ),
    );
    workspace
}

/// [`syncing_into`] a destination served by a fake at `addr`: `adapter`,
/// granted `http://addr`, with `config` as its inline config table's body.
pub fn syncing_into_fake(
    adapter: &str,
    addr: std::net::SocketAddr,
    config: &str,
    people: &[&str],
) -> Workspace {
    syncing_into(
        &format!(
            "adapter = \"{adapter}\"\nallowed_hosts = [\"http://{addr}\"]\nconfig = {{ {config} }}"
        ),
        people,
    )
}
