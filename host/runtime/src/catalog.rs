//! The adapters of a plugins folder: every `*.wasm` file in it, each
//! loaded only when it is needed.
//!
//! An adapter's name is what its `describe()` says, so learning it means
//! compiling the file, which takes seconds for a Python or JavaScript one.
//! Finding one adapter must not compile the whole folder, so the catalog
//! keeps an index, in the cache folder, of the name each file had when it
//! was last loaded (keyed by the file's size and modification time). The
//! index is a hint: whatever is loaded is checked against its own
//! `describe()`. Looking for adapter `name`, the catalog loads the files the
//! index says are `name`; failing that, the file `name.wasm`; failing
//! that, every file it does not know yet.

use super::{Plugin, Runtime, RuntimeError};
use futures_util::{StreamExt, stream};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::UNIX_EPOCH;

/// The `*.wasm` files of a plugins folder, and what is known of them.
pub struct Catalog {
    /// The folder.
    pub dir: PathBuf,
    files: Vec<PathBuf>,
    index: Mutex<Index>,
    index_file: Option<PathBuf>,
}

/// Every adapter in a folder, loaded.
pub struct Listing {
    /// The folder.
    pub dir: PathBuf,
    /// Adapters that loaded, sorted by name.
    pub plugins: Vec<Arc<Plugin>>,
    /// Files that could not be loaded, and why.
    pub broken: Vec<RuntimeError>,
}

/// The name each file had when last loaded, by file name.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Index {
    files: BTreeMap<String, Seen>,
}

/// A file as it was when loaded: its size and modification time, and the
/// adapter name its `describe()` gave.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Seen {
    size: u64,
    modified_ns: u128,
    name: String,
}

impl Catalog {
    /// The `*.wasm` files in `dir` (not its subfolders), and the index the
    /// runtime's cache keeps of them; nothing is loaded yet.
    pub fn open(runtime: &Runtime, dir: &Path) -> Result<Self, RuntimeError> {
        let entries = std::fs::read_dir(dir).map_err(|source| RuntimeError::Read {
            path: dir.to_path_buf(),
            source,
        })?;
        let mut files: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|entry| entry.path())
            .filter(|path| path.is_file() && path.extension().is_some_and(|ext| ext == "wasm"))
            .collect();
        files.sort();
        let index_file = runtime.index_file();
        let index = index_file
            .as_ref()
            .and_then(|file| std::fs::read(file).ok())
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_default();
        Ok(Catalog {
            dir: dir.to_path_buf(),
            files,
            index: Mutex::new(index),
            index_file,
        })
    }

    /// The adapter named `name`. The error says what is available instead,
    /// or which files claim the same name, or why a file failed to load.
    pub async fn find(&self, runtime: &Runtime, name: &str) -> Result<Arc<Plugin>, String> {
        let (indexed, unknown): (Vec<&PathBuf>, Vec<&PathBuf>) = {
            let index = self.lock_index();
            let known = |file: &PathBuf| index.name_of(file);
            let indexed = self
                .files
                .iter()
                .filter(|file| known(file).as_deref() == Some(name));
            let unknown = self.files.iter().filter(|file| known(file).is_none());
            (indexed.collect(), unknown.collect())
        };
        let own_file = self.dir.join(format!("{name}.wasm"));
        let rounds: [Vec<&PathBuf>; 3] = [
            indexed,
            unknown
                .iter()
                .copied()
                .filter(|file| **file == own_file)
                .collect(),
            unknown
                .iter()
                .copied()
                .filter(|file| **file != own_file)
                .collect(),
        ];
        let mut failed = Vec::new();
        for round in rounds {
            let (plugins, broken) = self.load_all(runtime, round).await;
            failed.extend(broken);
            let found: Vec<Arc<Plugin>> = plugins
                .into_iter()
                .filter(|plugin| plugin.info.name == name)
                .collect();
            match found.as_slice() {
                [] => {}
                [plugin] => return Ok(plugin.clone()),
                several => return Err(self.duplicates(name, several)),
            }
        }
        Err(self.missing(name, &failed))
    }

    /// Loads every file, several at once, reporting each as it is loaded.
    pub async fn list(&self, runtime: &Runtime) -> Listing {
        let (mut plugins, broken) = self.load_all(runtime, self.files.iter().collect()).await;
        plugins.sort_by(|a, b| a.info.name.cmp(&b.info.name));
        Listing {
            dir: self.dir.clone(),
            plugins,
            broken,
        }
    }

    /// Loads `files`, as many at once as there are cores, noting each
    /// one's name in the index.
    async fn load_all(
        &self,
        runtime: &Runtime,
        files: Vec<&PathBuf>,
    ) -> (Vec<Arc<Plugin>>, Vec<RuntimeError>) {
        let at_once = std::thread::available_parallelism().map_or(2, usize::from);
        let outcomes: Vec<Result<Plugin, RuntimeError>> = stream::iter(files)
            .map(|file| runtime.load(file))
            .buffered(at_once)
            .collect()
            .await;
        let mut plugins = Vec::new();
        let mut broken = Vec::new();
        for outcome in outcomes {
            match outcome {
                Ok(plugin) => {
                    self.remember(&plugin);
                    plugins.push(Arc::new(plugin));
                }
                Err(err) => broken.push(err),
            }
        }
        (plugins, broken)
    }

    /// Writes the index back, for the next run; a cache that cannot be
    /// written only makes the next run slower.
    pub fn save_index(&self) {
        let Some(file) = &self.index_file else {
            return;
        };
        let json = serde_json::to_vec_pretty(&*self.lock_index()).expect("an index is JSON");
        let written = file
            .parent()
            .ok_or_else(|| std::io::Error::other("no folder"))
            .and_then(tempfile::NamedTempFile::new_in)
            .and_then(|mut temporary| {
                std::io::Write::write_all(&mut temporary, &json)?;
                temporary.persist(file).map_err(|err| err.error)?;
                Ok(())
            });
        if let Err(err) = written {
            tracing::debug!("could not save the plugins index {}: {err}", file.display());
        }
    }

    fn remember(&self, plugin: &Plugin) {
        if let Some(seen) = Seen::of(&plugin.path, &plugin.info.name) {
            let key = key(&plugin.path);
            self.lock_index().files.insert(key, seen);
        }
    }

    fn lock_index(&self) -> std::sync::MutexGuard<'_, Index> {
        self.index
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn duplicates(&self, name: &str, several: &[Arc<Plugin>]) -> String {
        let files: Vec<String> = several
            .iter()
            .map(|plugin| plugin.path.display().to_string())
            .collect();
        format!(
            "several files declare the adapter name `{name}`: {}; keep one",
            files.join(", ")
        )
    }

    fn missing(&self, name: &str, broken: &[RuntimeError]) -> String {
        let names: Vec<String> = {
            let index = self.lock_index();
            let mut names: Vec<String> = self
                .files
                .iter()
                .filter_map(|file| index.name_of(file))
                .collect();
            names.sort();
            names.dedup();
            names
        };
        let mut message = format!(
            "no adapter named `{name}` in {} (available: {})",
            self.dir.display(),
            match names.is_empty() {
                true => "none".to_string(),
                false => names.join(", "),
            }
        );
        if !broken.is_empty() {
            message.push_str(&format!(
                "; {} file(s) there failed to load: see `allsync plugins list`",
                broken.len()
            ));
        }
        message
    }
}

impl Index {
    /// The name `file` had when last loaded, if it has not changed since.
    fn name_of(&self, file: &Path) -> Option<String> {
        let seen = self.files.get(&key(file))?;
        let now = Seen::of(file, &seen.name)?;
        (now == *seen).then(|| seen.name.clone())
    }
}

impl Seen {
    fn of(file: &Path, name: &str) -> Option<Self> {
        let metadata = std::fs::metadata(file).ok()?;
        let modified = metadata.modified().ok()?.duration_since(UNIX_EPOCH).ok()?;
        Some(Seen {
            size: metadata.len(),
            modified_ns: modified.as_nanos(),
            name: name.to_string(),
        })
    }
}

/// The index key of `file`: its path, made absolute.
fn key(file: &Path) -> String {
    std::path::absolute(file)
        .unwrap_or_else(|_| file.to_path_buf())
        .display()
        .to_string()
}
