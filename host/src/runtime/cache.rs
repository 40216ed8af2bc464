//! The on-disk cache of compiled components.
//!
//! Compiling a component is slow (seconds for a Python or JavaScript
//! adapter); loading a compiled one takes milliseconds. Entries are keyed by
//! the component's sha256 and the engine's compatibility hash, written
//! atomically, and carry a checksum: an entry that is truncated, corrupt or
//! from another engine is recompiled, never executed blindly.

use sha2::{Digest, Sha256};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::io;
use std::path::{Path, PathBuf};
use wasmtime::Engine;
use wasmtime::component::Component;

const CHECKSUM_LEN: usize = 32;

/// Compiled components on disk, or nothing when caching is off.
#[derive(Debug, Clone)]
pub struct ComponentCache {
    dir: Option<PathBuf>,
    engine_key: String,
}

impl ComponentCache {
    /// A cache in `dir` for components compiled by `engine`; `None` disables it.
    pub fn new(dir: Option<PathBuf>, engine: &Engine) -> Self {
        let mut hasher = DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut hasher);
        ComponentCache {
            dir,
            engine_key: format!("{:016x}", hasher.finish()),
        }
    }

    /// The compiled form of `wasm` (whose sha256 is `sha256`), from the cache
    /// when a sound entry exists, else compiled and stored.
    pub fn load(&self, engine: &Engine, wasm: &[u8], sha256: &str) -> wasmtime::Result<Component> {
        let Some(entry) = self.entry(sha256) else {
            return Component::new(engine, wasm);
        };
        match read_entry(engine, &entry) {
            Ok(component) => return Ok(component),
            Err(err) if err.kind() == io::ErrorKind::NotFound => {}
            Err(err) => tracing::warn!(
                "recompiling: cache entry {} is unusable: {err}",
                entry.display()
            ),
        }
        tracing::info!(
            "compiling {sha256:.12} (cached afterwards in {})",
            entry.display()
        );
        let compiled = engine.precompile_component(wasm)?;
        if let Err(err) = write_entry(&entry, &compiled) {
            tracing::warn!(
                "could not cache the compiled component in {}: {err}",
                entry.display()
            );
        }
        // SAFETY: `compiled` was produced just now by this engine.
        unsafe { Component::deserialize(engine, &compiled) }
    }

    fn entry(&self, sha256: &str) -> Option<PathBuf> {
        let dir = self.dir.as_ref()?;
        Some(dir.join(format!("{sha256}-{}.cwasm", self.engine_key)))
    }
}

/// Reads an entry, checks its checksum, and deserializes it.
fn read_entry(engine: &Engine, path: &Path) -> io::Result<Component> {
    let bytes = std::fs::read(path)?;
    let split = bytes
        .len()
        .checked_sub(CHECKSUM_LEN)
        .ok_or_else(|| corrupt("truncated"))?;
    let (compiled, checksum) = bytes.split_at(split);
    if Sha256::digest(compiled).as_slice() != checksum {
        return Err(corrupt("checksum mismatch"));
    }
    // SAFETY: the checksum shows these are the bytes this host wrote after
    // compiling with an engine of the same compatibility hash (in the file
    // name); wasmtime also checks its version and settings in the header.
    unsafe { Component::deserialize(engine, compiled) }.map_err(|err| corrupt(&err.to_string()))
}

/// Writes `compiled` plus its checksum to a temporary file, then renames it in place.
fn write_entry(path: &Path, compiled: &[u8]) -> io::Result<()> {
    let dir = path.parent().expect("cache entries live in a directory");
    std::fs::create_dir_all(dir)?;
    let temporary = dir.join(format!(".{}.{}.tmp", std::process::id(), unique_suffix()));
    let mut bytes = Vec::with_capacity(compiled.len() + CHECKSUM_LEN);
    bytes.extend_from_slice(compiled);
    bytes.extend_from_slice(&Sha256::digest(compiled));
    std::fs::write(&temporary, &bytes)?;
    std::fs::rename(&temporary, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&temporary);
    })
}

fn unique_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

fn corrupt(why: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, why.to_string())
}
