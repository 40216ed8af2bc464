//! The `file` adapter: a list of things kept in a file in the directory that
//! `allsync.toml` grants to this adapter instance.
//!
//! Formats: plain text (one thing per line; blank lines and `#` comments are
//! kept but not read), CSV (one named column) and JSON (an array of strings).
//! Writes go to a temporary file that is then renamed over the original, so
//! a reader never sees half a file.

mod document;

use allsync_sdk::{Adapter, Config, ConfigKey, Error, Info, Rejected, export};
use document::{Document, Format};
use std::collections::HashSet;
use std::io::ErrorKind;
use std::path::PathBuf;

/// A file adapter instance: which file, in which format.
struct FileList {
    path: PathBuf,
    format: Format,
}

impl Adapter for FileList {
    fn describe() -> Info {
        Info::new(
            "file",
            env!("CARGO_PKG_VERSION"),
            "A list of things in a text, CSV or JSON file, in a directory granted to it",
        )
        .key(ConfigKey::required(
            "path",
            "the file, relative to the directory granted to this adapter instance",
        ))
        .key(ConfigKey::optional(
            "format",
            "text, csv or json (default: from the file's extension, else text)",
        ))
        .key(ConfigKey::optional(
            "column",
            "for CSV: the header of the column holding the things (default: email)",
        ))
    }

    fn init(config: Config) -> Result<Self, Error> {
        let path = PathBuf::from(config.require("path")?);
        let format = Format::from_config(config.get("format"), config.get("column"), &path)?;
        Ok(FileList { path, format })
    }

    fn get(&mut self) -> Result<Vec<String>, Error> {
        Ok(self.load()?.things())
    }

    fn add(&mut self, things: Vec<String>) -> Result<Vec<Rejected>, Error> {
        let mut document = self.load()?;
        document.add(&things);
        self.save(&document)?;
        Ok(Vec::new())
    }

    fn remove(&mut self, things: Vec<String>) -> Result<Vec<Rejected>, Error> {
        let mut document = self.load()?;
        let wanted: HashSet<&str> = things.iter().map(String::as_str).collect();
        let removed = document.remove(&wanted);
        self.save(&document)?;
        Ok(things
            .iter()
            .filter(|thing| !removed.contains(thing.as_str()))
            .map(|thing| Rejected::new(thing.as_str(), "not in the file"))
            .collect())
    }
}

impl FileList {
    fn load(&self) -> Result<Document, Error> {
        let text = std::fs::read_to_string(&self.path).map_err(|err| self.io_error("read", err))?;
        Document::parse(&self.format, &text)
            .map_err(|why| Error::Other(format!("{}: {why}", self.path.display())))
    }

    /// Writes `document` to a temporary file beside the target, then renames it over.
    fn save(&self, document: &Document) -> Result<(), Error> {
        let mut temporary = self.path.clone().into_os_string();
        temporary.push(".allsync-tmp");
        std::fs::write(&temporary, document.render())
            .and_then(|()| std::fs::rename(&temporary, &self.path))
            .map_err(|err| {
                let _ = std::fs::remove_file(&temporary);
                self.io_error("write", err)
            })
    }

    fn io_error(&self, action: &str, err: std::io::Error) -> Error {
        let path = self.path.display();
        match err.kind() {
            ErrorKind::NotFound => Error::NotFound(format!(
                "cannot {action} `{path}`: no such file in the directory granted to this adapter \
                 (check `path`, and `directory` in allsync.toml)"
            )),
            _ => Error::Other(format!(
                "cannot {action} `{path}`: {err} (is a directory granted to this adapter \
                 instance, writable if it is a destination?)"
            )),
        }
    }
}

export!(FileList);
