//! Writing a list file back in place, so that it keeps its inode, and with it
//! its mode, owner and hard links, and is written through a symbolic link
//! rather than replacing the link.
//!
//! WASI preview 2 lets a guest neither read nor set a file's mode or owner,
//! so the usual "write a temporary file, rename it over" would give every
//! rewritten file the default mode and the host's user as owner (a private
//! list would become world-readable), and would replace a symbolic link by a
//! plain file. Instead, as vim's `backupcopy=yes` does:
//!
//! 1. the previous contents go to a backup beside the file, under a random
//!    name of its own created exclusively (so no other writer can take it),
//!    synced to disk together with the folder that lists it;
//! 2. the file is overwritten in place (opened without truncating, written
//!    from the start, cut to the new length) and synced;
//! 3. the backup is removed, and the folder synced.
//!
//! The trade-off: a reader at the very moment of step 2 may see a partly
//! written file. Nothing is lost: until the new contents are on disk the
//! previous ones are in the backup, which is left in place (and named in the
//! error) when step 2 fails, and survives a crash.
//!
//! Under wasmtime-wasi 48, opening a folder read-only and calling `sync_all`
//! on it fsyncs the host folder (a folder descriptor's `sync` opens `.` and
//! fsyncs it), so the folder syncs here are real.

use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use tempfile::NamedTempFile;

/// How a backup's name ends: `<file name>.<random>.allsync-backup`.
const BACKUP_SUFFIX: &str = ".allsync-backup";

/// Why [`overwrite`] failed, and whether the file was touched.
#[derive(Debug)]
pub enum WriteError {
    /// The file could not be opened for writing; it is unchanged.
    Open(io::Error),
    /// The backup could not be made; the file is unchanged.
    Backup(io::Error),
    /// Writing the file failed after its previous contents went to `backup`,
    /// which is left in place: the file may be partly written.
    Overwrite { backup: PathBuf, source: io::Error },
}

impl fmt::Display for WriteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WriteError::Open(err) => write!(f, "{err}"),
            WriteError::Backup(err) => write!(
                f,
                "cannot make a backup beside it ({err}), so it was left unchanged \
                 (is its folder writable, with space left?)"
            ),
            WriteError::Overwrite { backup, source } => write!(
                f,
                "{source}; it may be partly written, and its previous contents are in `{}`: \
                 copy that back over it before running again",
                backup.display()
            ),
        }
    }
}

/// Replaces the contents of the file at `path`, which were `previous`, with
/// `contents`, in place (see the module's documentation for how, and what is
/// guaranteed).
pub fn overwrite(path: &Path, previous: &[u8], contents: &[u8]) -> Result<(), WriteError> {
    let mut file = OpenOptions::new()
        .write(true)
        .open(path)
        .map_err(WriteError::Open)?;
    let mut backup = make_backup(path, previous).map_err(WriteError::Backup)?;
    let backup_name = name_beside(&backup, path);
    if let Err(source) = write_in_place(&mut file, contents) {
        backup.disable_cleanup(true);
        return Err(WriteError::Overwrite {
            backup: backup_name,
            source,
        });
    }
    if let Err(err) = backup.close().and_then(|()| sync_folder(path)) {
        // The new contents are on disk: a backup left over is untidy, not a failure.
        eprintln!(
            "wrote `{}`, but tidying away its backup `{}` failed ({err}): \
             delete the backup if it is still there",
            path.display(),
            backup_name.display()
        );
    }
    Ok(())
}

/// A new backup of `previous` beside `path`, on disk and listed in its folder.
fn make_backup(path: &Path, previous: &[u8]) -> io::Result<NamedTempFile> {
    let mut prefix = path.file_name().unwrap_or_default().to_os_string();
    prefix.push(".");
    let mut backup = tempfile::Builder::new()
        .prefix(&prefix)
        .suffix(BACKUP_SUFFIX)
        .tempfile_in(folder_of(path))?;
    backup.write_all(previous)?;
    backup.as_file().sync_all()?;
    sync_folder(path)?;
    Ok(backup)
}

/// Writes `contents` over `file`, just opened (so from its start), cuts it to
/// their length and syncs it.
fn write_in_place(file: &mut File, contents: &[u8]) -> io::Result<()> {
    file.write_all(contents)?;
    let length = u64::try_from(contents.len()).expect("a length in memory fits in u64");
    file.set_len(length)?;
    file.sync_all()
}

/// The name of `backup` as seen from where `path` is (tempfile made it
/// absolute, but the user knows the folder as `path` names it).
fn name_beside(backup: &NamedTempFile, path: &Path) -> PathBuf {
    path.with_file_name(backup.path().file_name().unwrap_or_default())
}

/// Syncs the folder holding `path`, so that what it lists is on disk.
fn sync_folder(path: &Path) -> io::Result<()> {
    File::open(folder_of(path))?.sync_all()
}

/// The folder holding `path` (`.` for a bare file name).
fn folder_of(path: &Path) -> &Path {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::{MetadataExt, PermissionsExt};

    /// A scratch folder holding `team.txt` with `text`.
    fn folder_with_team(text: &str) -> (tempfile::TempDir, PathBuf) {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("team.txt");
        std::fs::write(&path, text).unwrap();
        (folder, path)
    }

    fn names_in(folder: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(folder)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn the_file_keeps_its_inode_and_mode_and_is_cut_to_the_new_length() {
        let (_folder, path) = folder_with_team("ann@x.com\nbob@x.com\n");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        let before = std::fs::metadata(&path).unwrap();
        overwrite(&path, b"ann@x.com\nbob@x.com\n", b"cy@x.com\n").unwrap();
        let after = std::fs::metadata(&path).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "cy@x.com\n");
        assert_eq!(after.ino(), before.ino(), "written in place, not replaced");
        assert_eq!(after.mode() & 0o777, 0o600);
    }

    #[test]
    fn a_symbolic_link_stays_a_link_and_its_target_gets_the_contents() {
        let (folder, target) = folder_with_team("ann@x.com\n");
        let link = folder.path().join("link.txt");
        std::os::unix::fs::symlink("team.txt", &link).unwrap();
        overwrite(&link, b"ann@x.com\n", b"bob@x.com\n").unwrap();
        assert!(link.symlink_metadata().unwrap().file_type().is_symlink());
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "bob@x.com\n");
    }

    #[test]
    fn no_backup_is_left_behind() {
        let (folder, path) = folder_with_team("ann@x.com\n");
        overwrite(&path, b"ann@x.com\n", b"bob@x.com\n").unwrap();
        assert_eq!(names_in(folder.path()), ["team.txt"]);
    }

    #[test]
    fn each_backup_gets_a_name_of_its_own_beside_the_file() {
        let (folder, path) = folder_with_team("ann@x.com\n");
        let first = make_backup(&path, b"first").unwrap();
        let second = make_backup(&path, b"second").unwrap();
        assert_ne!(first.path(), second.path());
        assert_eq!(std::fs::read(first.path()).unwrap(), b"first");
        for backup in [&first, &second] {
            let name = backup.path().file_name().unwrap().to_str().unwrap();
            assert!(
                name.starts_with("team.txt.") && name.ends_with(BACKUP_SUFFIX),
                "{name}"
            );
            assert_eq!(backup.path().parent(), Some(folder.path()));
        }
    }

    #[test]
    fn writers_at_the_same_time_never_trip_over_each_other() {
        let (folder, path) = folder_with_team("start\n");
        std::thread::scope(|scope| {
            for writer in 0..4 {
                let path = &path;
                scope.spawn(move || {
                    for round in 0..20 {
                        let contents = format!("writer {writer} round {round}\n");
                        overwrite(path, b"start\n", contents.as_bytes()).unwrap();
                    }
                });
            }
        });
        assert_eq!(names_in(folder.path()), ["team.txt"]);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn when_the_write_fails_the_error_names_the_backup_holding_the_previous_contents() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("team.txt");
        // Every write to /dev/full fails with "no space left on device".
        std::os::unix::fs::symlink("/dev/full", &path).unwrap();
        let err = overwrite(&path, b"ann@x.com\n", b"bob@x.com\n").unwrap_err();
        let WriteError::Overwrite { backup, .. } = &err else {
            panic!("{err:?}");
        };
        assert_eq!(std::fs::read(backup).unwrap(), b"ann@x.com\n");
        let message = err.to_string();
        assert!(message.contains(&backup.display().to_string()), "{message}");
        assert!(message.contains("partly written"), "{message}");
    }

    #[test]
    fn a_file_that_cannot_be_opened_gets_no_backup() {
        let folder = tempfile::tempdir().unwrap();
        let err = overwrite(&folder.path().join("gone.txt"), b"", b"x\n").unwrap_err();
        assert!(matches!(&err, WriteError::Open(err) if err.kind() == io::ErrorKind::NotFound));
        assert!(names_in(folder.path()).is_empty());
    }
}
