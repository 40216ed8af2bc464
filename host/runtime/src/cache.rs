//! The on-disk cache of compiled components.
//!
//! Compiling a component is slow (seconds for a Python or JavaScript
//! adapter); loading a compiled one takes milliseconds. But loading runs
//! native code without checking it, so an entry must be one this user's
//! allsync wrote for exactly this component:
//!
//! - the folder is created `0700` and refused (the cache is then not used)
//!   if it is owned by someone else or writable by group or others, as ssh
//!   refuses such key files;
//! - each entry carries a MAC, under a key of this user's kept outside the
//!   folder (also `0600`, in a `0700` folder), over the component's sha256,
//!   the engine's compatibility hash and the compiled bytes: an entry from
//!   anyone without the key, or copied under another component's name, is
//!   never deserialised, only recompiled over;
//! - entries are written `0600` under unpredictable names, created
//!   exclusively, then renamed into place.

use super::CacheLocation;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::fs;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use wasmtime::Engine;
use wasmtime::component::Component;

type EntryMac = Hmac<Sha256>;
const MAC_LEN: usize = 32;
const KEY_LEN: usize = 32;

/// Compiled components on disk, or nothing when caching is off or unsafe.
#[derive(Clone)]
pub struct ComponentCache {
    store: Option<Store>,
    engine_key: String,
}

/// A usable cache folder and the key its entries are sealed with.
#[derive(Clone)]
struct Store {
    dir: PathBuf,
    key: [u8; KEY_LEN],
}

impl ComponentCache {
    /// A cache at `location` for components compiled by `engine`; `None`
    /// disables it. A folder or key that is not safe to trust is reported
    /// and not used.
    pub fn new(location: Option<&CacheLocation>, engine: &Engine) -> Self {
        let mut hasher = DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut hasher);
        let store = location.and_then(|location| {
            Store::open(&location.dir, &location.key)
                .inspect_err(|why| {
                    tracing::warn!(
                        "not using the compiled-component cache: {why}; adapters are compiled on every run"
                    )
                })
                .ok()
        });
        ComponentCache {
            store,
            engine_key: format!("{:016x}", hasher.finish()),
        }
    }

    /// The cache folder, when the cache is in use.
    pub fn dir(&self) -> Option<&Path> {
        self.store.as_ref().map(|store| store.dir.as_path())
    }

    /// The compiled form of `wasm` (whose sha256 is `sha256`, from the file
    /// `name`), from the cache when a sound entry exists, else compiled and stored.
    pub fn load(
        &self,
        engine: &Engine,
        wasm: &[u8],
        sha256: &str,
        name: &str,
    ) -> wasmtime::Result<Component> {
        let Some(store) = &self.store else {
            return Component::new(engine, wasm);
        };
        let entry = store
            .dir
            .join(format!("{sha256}-{}.cwasm", self.engine_key));
        let seal = self.seal(store, sha256);
        match read_entry(engine, &entry, seal.clone()) {
            Ok(component) => return Ok(component),
            Err(err) if err.kind() == io::ErrorKind::NotFound => {}
            Err(err) => tracing::warn!(
                "recompiling: cache entry {} is unusable: {err}",
                entry.display()
            ),
        }
        tracing::info!(
            "compiling {name} ({sha256:.12}), once: it is cached afterwards in {}",
            store.dir.display()
        );
        let compiled = engine.precompile_component(wasm)?;
        if let Err(err) = write_entry(&store.dir, &entry, &compiled, seal) {
            tracing::warn!(
                "could not cache the compiled component in {}: {err}",
                entry.display()
            );
        }
        // SAFETY: `compiled` was produced just now by this engine.
        unsafe { Component::deserialize(engine, &compiled) }
    }

    /// The MAC state an entry for component `sha256` is sealed with, before its compiled bytes.
    fn seal(&self, store: &Store, sha256: &str) -> EntryMac {
        let mut mac = EntryMac::new_from_slice(&store.key).expect("HMAC takes a key of any length");
        for part in ["allsync compiled component v1", sha256, &self.engine_key] {
            mac.update(&(part.len() as u64).to_le_bytes());
            mac.update(part.as_bytes());
        }
        mac
    }
}

impl Store {
    /// The cache folder (created `0700`) and the key, each checked safe.
    fn open(dir: &Path, key_file: &Path) -> Result<Self, String> {
        private_dir(dir)?;
        let key = key(key_file)?;
        Ok(Store {
            dir: dir.to_path_buf(),
            key,
        })
    }
}

/// Creates `dir` (`0700`) if missing; refuses it unless it is this user's
/// folder and no one else may write in it.
fn private_dir(dir: &Path) -> Result<(), String> {
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|err| format!("cannot create {}: {err}", dir.display()))?;
    let metadata =
        fs::metadata(dir).map_err(|err| format!("cannot read {}: {err}", dir.display()))?;
    owned_by_us_alone(dir, &metadata)
}

/// Whether what `metadata` describes is this user's and not writable by group or others.
fn owned_by_us_alone(path: &Path, metadata: &fs::Metadata) -> Result<(), String> {
    // SAFETY: geteuid has no preconditions and cannot fail.
    let me = unsafe { libc::geteuid() };
    let mode = metadata.permissions().mode() & 0o777;
    if metadata.uid() != me {
        return Err(format!(
            "{} is owned by user {}, not by you (user {me}): use a folder of your own (--cache-dir)",
            path.display(),
            metadata.uid()
        ));
    }
    if mode & 0o022 != 0 {
        return Err(format!(
            "{} is writable by others (mode {mode:03o}): run `chmod go-w {}`",
            path.display(),
            path.display()
        ));
    }
    Ok(())
}

/// The key in `file`, created (`0600`, in a `0700` folder) with fresh random
/// bytes if missing; refused if someone else could have written it.
fn key(file: &Path) -> Result<[u8; KEY_LEN], String> {
    let folder = file.parent().unwrap_or(Path::new("."));
    private_dir(folder)?;
    let mut key = [0u8; KEY_LEN];
    match fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(file)
    {
        Ok(mut created) => {
            getrandom::fill(&mut key).map_err(|err| format!("no randomness for a key: {err}"))?;
            created
                .write_all(&key)
                .and_then(|()| created.sync_all())
                .map_err(|err| format!("cannot write {}: {err}", file.display()))?;
            return Ok(key);
        }
        Err(err) if err.kind() == io::ErrorKind::AlreadyExists => {}
        Err(err) => return Err(format!("cannot create {}: {err}", file.display())),
    }
    let metadata = fs::symlink_metadata(file)
        .map_err(|err| format!("cannot read {}: {err}", file.display()))?;
    owned_by_us_alone(file, &metadata)?;
    let bytes = fs::read(file).map_err(|err| format!("cannot read {}: {err}", file.display()))?;
    bytes.try_into().map_err(|_| {
        format!(
            "{} is not a cache key: delete it and run again",
            file.display()
        )
    })
}

/// Reads an entry, checks its seal, and only then deserializes it.
fn read_entry(engine: &Engine, path: &Path, mut seal: EntryMac) -> io::Result<Component> {
    let bytes = fs::read(path)?;
    let split = bytes
        .len()
        .checked_sub(MAC_LEN)
        .ok_or_else(|| unusable("truncated"))?;
    let (compiled, mac) = bytes.split_at(split);
    seal.update(compiled);
    seal.verify_slice(mac).map_err(|_| {
        unusable("its seal does not match: another component's, or not written by you")
    })?;
    // SAFETY: the seal shows these are the bytes this user's allsync wrote
    // after compiling this very component with an engine of the same
    // compatibility hash; wasmtime also checks its version and settings.
    unsafe { Component::deserialize(engine, compiled) }.map_err(|err| unusable(&err.to_string()))
}

/// Writes `compiled` and its seal to a fresh `0600` file of an unpredictable
/// name in `dir`, then renames it to `path`.
fn write_entry(dir: &Path, path: &Path, compiled: &[u8], mut seal: EntryMac) -> io::Result<()> {
    seal.update(compiled);
    let mut temporary = tempfile::Builder::new()
        .prefix(".entry-")
        .suffix(".tmp")
        .permissions(fs::Permissions::from_mode(0o600))
        .tempfile_in(dir)?;
    temporary.write_all(compiled)?;
    temporary.write_all(&seal.finalize().into_bytes())?;
    temporary.as_file().sync_all()?;
    temporary.persist(path).map_err(|err| err.error)?;
    Ok(())
}

fn unusable(why: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, why.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn engine() -> Engine {
        Engine::default()
    }

    fn cache(dir: &Path, key: &Path, engine: &Engine) -> ComponentCache {
        let location = CacheLocation {
            dir: dir.to_path_buf(),
            key: key.to_path_buf(),
        };
        ComponentCache::new(Some(&location), engine)
    }

    /// A component with nothing in it, and its sha256.
    fn empty_component() -> (Vec<u8>, String) {
        let wasm = wat::parse_str("(component)").unwrap();
        let sha = crate::sha256_hex(&wasm);
        (wasm, sha)
    }

    #[test]
    fn a_folder_others_may_write_in_is_not_used() {
        let home = tempfile::tempdir().unwrap();
        let dir = home.path().join("cache");
        fs::create_dir(&dir).unwrap();
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o777)).unwrap();
        let cache = cache(&dir, &home.path().join("keys/key"), &engine());
        assert!(cache.store.is_none());
        let why = Store::open(&dir, &home.path().join("keys/key"))
            .err()
            .unwrap();
        assert!(why.contains("is writable by others (mode 777)"), "{why}");
    }

    #[test]
    fn the_folder_and_the_key_are_created_private() {
        let home = tempfile::tempdir().unwrap();
        let dir = home.path().join("cache");
        let key_file = home.path().join("data/allsync/cache-key");
        let cache = cache(&dir, &key_file, &engine());
        assert!(cache.store.is_some());
        let mode = |path: &Path| fs::metadata(path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&key_file), 0o600);
        assert_eq!(mode(key_file.parent().unwrap()), 0o700);
        let again = super::tests::cache(&dir, &key_file, &engine());
        assert_eq!(
            again.store.unwrap().key,
            cache.store.unwrap().key,
            "the key is kept"
        );
    }

    #[test]
    fn an_entry_is_sealed_to_its_component_and_written_private() {
        let home = tempfile::tempdir().unwrap();
        let dir = home.path().join("cache");
        let engine = engine();
        let cache = cache(&dir, &home.path().join("key"), &engine);
        let (wasm, sha) = empty_component();
        cache.load(&engine, &wasm, &sha, "empty.wasm").unwrap();
        let entries: Vec<PathBuf> = fs::read_dir(&dir)
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .collect();
        assert_eq!(
            entries.len(),
            1,
            "one entry, no temporary file left: {entries:?}"
        );
        assert_eq!(
            fs::metadata(&entries[0]).unwrap().permissions().mode() & 0o777,
            0o600
        );
        let store = cache.store.as_ref().unwrap();
        assert!(read_entry(&engine, &entries[0], cache.seal(store, &sha)).is_ok());
        let other = "0".repeat(64);
        let err = read_entry(&engine, &entries[0], cache.seal(store, &other))
            .err()
            .unwrap();
        assert!(err.to_string().contains("seal does not match"), "{err}");
        let stranger = super::tests::cache(&dir, &home.path().join("another-key"), &engine);
        let stranger_store = stranger.store.as_ref().unwrap();
        assert!(
            read_entry(&engine, &entries[0], stranger.seal(stranger_store, &sha)).is_err(),
            "an entry sealed under another key is not trusted"
        );
    }
}
