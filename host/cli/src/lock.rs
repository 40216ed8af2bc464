//! `allsync.lock`, beside the config: the adapters of the plugins folder,
//! each pinned by name, version and sha256 (written by `allsync plugins
//! add` and `allsync plugins lock`). While it exists, `plan`, `sync` and
//! the rest refuse an adapter whose file no longer has the sha256 it pins:
//! the way to keep third-party adapters pinned in git.

use crate::app::AdapterId;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The lock file's name, in the config file's folder.
pub const FILE: &str = "allsync.lock";

/// Why the lock file cannot be read or written.
#[derive(Debug, thiserror::Error)]
#[error("{}: {why}", path.display())]
pub struct LockError {
    /// The lock file.
    pub path: PathBuf,
    /// What went wrong, and what to do.
    pub why: String,
}

/// The pinned adapters.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lock {
    /// The format's version (1).
    pub version: u32,
    /// Each adapter, by name.
    #[serde(default, rename = "adapter")]
    pub adapters: Vec<AdapterId>,
}

/// Where the lock of `config_file` is.
pub fn beside(config_file: &Path) -> PathBuf {
    match config_file.parent() {
        Some(folder) if !folder.as_os_str().is_empty() => folder.join(FILE),
        _ => PathBuf::from(FILE),
    }
}

impl Lock {
    /// The lock at `path`, or `None` if there is none.
    pub fn read(path: &Path) -> Result<Option<Lock>, LockError> {
        let fail = |why: String| LockError {
            path: path.to_path_buf(),
            why,
        };
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(err) => return Err(fail(format!("cannot read it: {err}"))),
        };
        let lock: Lock = toml::from_str(&text).map_err(|err| {
            fail(format!(
                "not a lock file ({}); rewrite it with `allsync plugins lock`",
                err.message().trim_end()
            ))
        })?;
        match lock.version {
            1 => Ok(Some(lock)),
            other => Err(fail(format!(
                "lock format version {other} is not one this allsync reads (1): rewrite it with `allsync plugins lock`"
            ))),
        }
    }

    /// A lock pinning `adapters`.
    pub fn of(mut adapters: Vec<AdapterId>) -> Lock {
        adapters.sort_by(|a, b| a.name.cmp(&b.name));
        adapters.dedup_by(|a, b| a.name == b.name);
        Lock {
            version: 1,
            adapters,
        }
    }

    /// The same lock with `adapter` pinned (in place of any pin of its name).
    pub fn with(self, adapter: AdapterId) -> Lock {
        let mut adapters: Vec<AdapterId> = self
            .adapters
            .into_iter()
            .filter(|pinned| pinned.name != adapter.name)
            .collect();
        adapters.push(adapter);
        Lock::of(adapters)
    }

    /// Writes it to `path`, whole or not at all.
    pub fn write(&self, path: &Path) -> Result<(), LockError> {
        let fail = |why: String| LockError {
            path: path.to_path_buf(),
            why,
        };
        let body = toml::to_string(self).map_err(|err| fail(err.to_string()))?;
        let text = format!(
            "# The adapters of the plugins folder, pinned: allsync refuses a file whose sha256\n\
             # differs. Written by `allsync plugins add` and `allsync plugins lock`; keep it in git.\n{body}"
        );
        crate::files::write_whole(path, text.as_bytes())
            .map_err(|err| fail(format!("cannot write it: {err}")))
    }

    /// Why an adapter named `name` with `sha256` is refused, if it is.
    pub fn refusal(&self, name: &str, sha256: &str) -> Option<String> {
        let pinned = self
            .adapters
            .iter()
            .find(|pinned| pinned.name == name && pinned.sha256 != sha256)?;
        Some(format!(
            "its sha256 is {sha256}, but {FILE} pins {} (version {}); if the new file is \
             intended, run `allsync plugins lock`",
            pinned.sha256, pinned.version
        ))
    }
}
