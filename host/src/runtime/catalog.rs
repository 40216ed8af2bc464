//! The adapters found in a plugins folder: every `*.wasm` file in it.

use super::{Plugin, Runtime, RuntimeError};
use std::path::{Path, PathBuf};

/// The loadable adapters of a plugins folder, and the files that failed.
pub struct Catalog {
    /// The folder scanned.
    pub dir: PathBuf,
    /// Adapters that loaded, sorted by name.
    pub plugins: Vec<Plugin>,
    /// Files that could not be loaded, and why.
    pub broken: Vec<RuntimeError>,
}

impl Catalog {
    /// Loads every `*.wasm` file in `dir` (not its subfolders). A broken file
    /// is recorded in [`Catalog::broken`] and does not stop the others.
    pub async fn scan(runtime: &Runtime, dir: &Path) -> Result<Self, RuntimeError> {
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
        let mut catalog = Catalog {
            dir: dir.to_path_buf(),
            plugins: Vec::new(),
            broken: Vec::new(),
        };
        for file in files {
            match runtime.load(&file).await {
                Ok(plugin) => catalog.plugins.push(plugin),
                Err(err) => catalog.broken.push(err),
            }
        }
        catalog
            .plugins
            .sort_by(|a, b| a.info.name.cmp(&b.info.name));
        Ok(catalog)
    }

    /// The adapter named `name`; the error says what is available instead,
    /// or which files claim the same name.
    pub fn find(&self, name: &str) -> Result<&Plugin, String> {
        let matches: Vec<&Plugin> = self
            .plugins
            .iter()
            .filter(|plugin| plugin.info.name == name)
            .collect();
        match matches.as_slice() {
            [plugin] => Ok(plugin),
            [] => {
                let names: Vec<&str> = self
                    .plugins
                    .iter()
                    .map(|plugin| plugin.info.name.as_str())
                    .collect();
                let mut message = format!(
                    "no adapter named `{name}` in {} (available: {})",
                    self.dir.display(),
                    if names.is_empty() {
                        "none".to_string()
                    } else {
                        names.join(", ")
                    }
                );
                if !self.broken.is_empty() {
                    message.push_str(&format!(
                        "; {} file(s) there failed to load: see `allsync plugins list`",
                        self.broken.len()
                    ));
                }
                Err(message)
            }
            several => {
                let files: Vec<String> = several
                    .iter()
                    .map(|plugin| plugin.path.display().to_string())
                    .collect();
                Err(format!(
                    "several files declare the adapter name `{name}`: {}; keep one",
                    files.join(", ")
                ))
            }
        }
    }

    /// Takes the adapter named `name` out of the catalog (see [`Catalog::find`]).
    pub fn take(mut self, name: &str) -> Result<Plugin, String> {
        let path = self.find(name)?.path.clone();
        let index = self
            .plugins
            .iter()
            .position(|plugin| plugin.path == path)
            .expect("found above");
        Ok(self.plugins.swap_remove(index))
    }
}
