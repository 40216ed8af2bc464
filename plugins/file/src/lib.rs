//! The `file` adapter: a list of things kept in a file in the directory that
//! `allsync.toml` grants to this adapter instance.
//!
//! Formats: plain text (one thing per line; blank lines and `#` comments are
//! kept but not read), CSV (one named column) and JSON (an array of strings).
//! A write changes only what it must (see [`document`]) and is done in place,
//! after a backup, so the file keeps its mode, owner and links and nothing is
//! lost if the write breaks off (see [`overwrite`]).

mod document;
mod entries;
mod overwrite;
#[cfg(test)]
mod properties;
mod table;

use allsync_sdk::{Adapter, Config, ConfigKey, Error, Info, Rejected, export};
use document::{Document, Format};
use overwrite::{WriteError, overwrite};
use std::collections::HashSet;
use std::io::{self, ErrorKind};
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
        Ok(self.load()?.1.things())
    }

    fn add(&mut self, things: Vec<String>) -> Result<Vec<Rejected>, Error> {
        let (previous, mut document) = self.load()?;
        let rejected = document.add(&things);
        if rejected.len() < things.len() {
            self.save(&previous, &document)?;
        }
        Ok(rejected)
    }

    /// Removes every entry equal (once trimmed) to any of `things`; rejects
    /// only the things found nowhere in the file.
    fn remove(&mut self, things: Vec<String>) -> Result<Vec<Rejected>, Error> {
        let (previous, mut document) = self.load()?;
        let wanted: HashSet<&str> = things.iter().map(|thing| thing.trim()).collect();
        let removed = document.remove(&wanted);
        if !removed.is_empty() {
            self.save(&previous, &document)?;
        }
        Ok(things
            .iter()
            .filter(|thing| !removed.contains(thing.trim()))
            .map(|thing| Rejected::new(thing.as_str(), "not in the file"))
            .collect())
    }
}

impl FileList {
    /// The file's bytes (kept for the backup a write makes) and its parse.
    fn load(&self) -> Result<(Vec<u8>, Document), Error> {
        let bytes = std::fs::read(&self.path).map_err(|err| self.io_error("read", err))?;
        let path = self.path.display();
        let text = std::str::from_utf8(&bytes).map_err(|err| {
            Error::Other(format!(
                "cannot read `{path}`: it is not UTF-8 text ({err}); save it as UTF-8"
            ))
        })?;
        let document = Document::parse(&self.format, text)
            .map_err(|why| Error::Other(format!("{path}: {why}")))?;
        Ok((bytes, document))
    }

    /// Writes `document` over the file, whose contents were `previous`.
    fn save(&self, previous: &[u8], document: &Document) -> Result<(), Error> {
        overwrite(&self.path, previous, &document.render()).map_err(|err| match err {
            WriteError::Open(err) => self.io_error("write", err),
            err => Error::Other(format!("cannot write `{}`: {err}", self.path.display())),
        })
    }

    fn io_error(&self, action: &str, err: io::Error) -> Error {
        let path = self.path.display();
        if let Some(why) = self.unfollowable_link() {
            return Error::Other(format!("cannot {action} `{path}`: {why}"));
        }
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

    /// Why the file is a symbolic link this adapter cannot follow, if it is one.
    fn unfollowable_link(&self) -> Option<String> {
        let link = std::fs::symlink_metadata(&self.path).ok()?;
        if !link.file_type().is_symlink() || std::fs::metadata(&self.path).is_ok() {
            return None;
        }
        // The sandbox does not say where an absolute link leads.
        let target = std::fs::read_link(&self.path)
            .map(|target| format!(" to `{}`", target.display()))
            .unwrap_or_default();
        Some(format!(
            "it is a symbolic link{target} that this adapter cannot follow: a link is followed \
             only when it is relative and leads to an existing file inside the directory \
             granted to this adapter (grant the directory that holds the file itself, and set \
             `path` to it)"
        ))
    }
}

export!(FileList);

#[cfg(test)]
mod tests {
    use super::*;

    /// An adapter instance over `name` holding `text`, in a scratch folder.
    fn file_list(name: &str, format: Format, text: &str) -> (tempfile::TempDir, FileList) {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join(name);
        std::fs::write(&path, text).unwrap();
        (folder, FileList { path, format })
    }

    fn strings(things: &[&str]) -> Vec<String> {
        things.iter().map(|thing| thing.to_string()).collect()
    }

    #[test]
    fn remove_takes_every_spelling_given_and_rejects_only_what_is_nowhere() {
        let (_folder, mut list) = file_list(
            "team.txt",
            Format::Text,
            "ann@x.com\nANN@x.com\nbob@x.com\n",
        );
        let given = strings(&[
            "ann@x.com",
            "ANN@x.com",
            "ann@x.com",
            " bob@x.com ",
            "cy@x.com",
        ]);
        let rejected: Vec<String> = list
            .remove(given)
            .unwrap()
            .into_iter()
            .map(|rejected| rejected.thing)
            .collect();
        assert_eq!(rejected, ["cy@x.com"]);
        assert_eq!(list.get().unwrap(), Vec::<String>::new());
    }

    #[test]
    fn a_change_that_changes_nothing_does_not_write_the_file() {
        let (_folder, mut list) = file_list("team.txt", Format::Text, "ann@x.com\n");
        let long_ago = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1000);
        let file = std::fs::File::options()
            .write(true)
            .open(&list.path)
            .unwrap();
        file.set_modified(long_ago).unwrap();
        assert_eq!(list.remove(strings(&["bob@x.com"])).unwrap().len(), 1);
        assert_eq!(list.add(strings(&["# comment"])).unwrap().len(), 1);
        let modified = std::fs::metadata(&list.path).unwrap().modified().unwrap();
        assert_eq!(modified, long_ago);
    }

    #[test]
    fn a_link_that_leads_nowhere_is_named_with_what_to_do() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("team.txt");
        std::os::unix::fs::symlink("../gone/team.txt", &path).unwrap();
        let mut list = FileList {
            path,
            format: Format::Text,
        };
        let Err(Error::Other(message)) = list.get() else {
            panic!("a dangling link must fail to read");
        };
        assert!(
            message.contains(
                "is a symbolic link to `../gone/team.txt` that this adapter cannot follow"
            ),
            "{message}"
        );
        assert!(
            message.contains("grant the directory that holds the file"),
            "{message}"
        );
    }

    #[test]
    fn a_file_that_is_not_utf8_is_refused_by_name() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("team.txt");
        std::fs::write(&path, b"ann\xff@x.com\n").unwrap();
        let mut list = FileList {
            path,
            format: Format::Text,
        };
        let Err(Error::Other(message)) = list.get() else {
            panic!("bytes that are not UTF-8 must fail to read");
        };
        assert!(message.contains("is not UTF-8 text"), "{message}");
    }
}
