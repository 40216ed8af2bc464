//! Resource limits of one adapter instance, and the store limiter that
//! enforces its memory limit.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

const MIB: u64 = 1024 * 1024;

/// How much an adapter instance may use; each is settable globally
/// (`[limits]` in allsync.toml) and per instance (`limits = { ... }`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Linear memory, in MiB.
    pub memory_mb: u64,
    /// Wall-clock seconds for one `get`, `add` or `remove`.
    pub call_timeout_secs: u64,
    /// Wall-clock seconds for `describe` or `init`.
    pub init_timeout_secs: u64,
    /// Wall-clock seconds for everything the instance does in one job.
    pub job_timeout_secs: u64,
    /// Bytes of one HTTP response body.
    pub max_response_bytes: u64,
    /// Bytes of one HTTP request body an adapter sends.
    pub max_request_bytes: u64,
    /// Things one `get` may return.
    pub max_things: u64,
    /// Total bytes of the things one `get` returns.
    pub max_things_bytes: u64,
    /// HTTP requests in one call.
    pub max_requests_per_call: u64,
    /// Retries of one request (after a 429, a 502/503/504, or a failed connection).
    pub max_retries: u32,
    /// The longest `Retry-After` the host waits out; a longer one goes back to the adapter.
    pub max_retry_wait_secs: u64,
    /// A deterministic CPU budget per call, in wasmtime fuel units; none by default.
    pub fuel: Option<u64>,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            memory_mb: 256,
            call_timeout_secs: 60,
            init_timeout_secs: 10,
            job_timeout_secs: 600,
            max_response_bytes: 64 * MIB,
            max_request_bytes: 16 * MIB,
            max_things: 2_000_000,
            max_things_bytes: 128 * MIB,
            max_requests_per_call: 20_000,
            max_retries: 4,
            max_retry_wait_secs: 60,
            fuel: None,
        }
    }
}

impl Limits {
    /// The memory limit in bytes.
    pub fn memory_bytes(&self) -> usize {
        usize::try_from(self.memory_mb.saturating_mul(MIB)).unwrap_or(usize::MAX)
    }

    /// The most bytes the host copies out of the guest in one call: room for
    /// `max_things` strings holding `max_things_bytes` in all.
    pub fn transfer_bytes(&self) -> usize {
        let headers = self
            .max_things
            .saturating_mul(std::mem::size_of::<String>() as u64);
        usize::try_from(headers.saturating_add(self.max_things_bytes)).unwrap_or(usize::MAX)
    }
}

/// Enforces the memory limit on all of an instance's linear memories
/// together (a component may have several), and remembers whether it was
/// hit, so a trap or a timeout can be explained.
pub(crate) struct MemoryLimiter {
    max_bytes: usize,
    /// The bytes of every linear memory the instance has, together.
    in_use: usize,
    pub(crate) hit: bool,
}

impl MemoryLimiter {
    pub(crate) fn new(max_bytes: usize) -> Self {
        MemoryLimiter {
            max_bytes,
            in_use: 0,
            hit: false,
        }
    }
}

impl wasmtime::ResourceLimiter for MemoryLimiter {
    /// Called for each memory as it is created (from 0) and as it grows.
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let in_use = self.in_use.saturating_sub(current).saturating_add(desired);
        let allowed = in_use <= self.max_bytes;
        match allowed {
            true => self.in_use = in_use,
            false => self.hit = true,
        }
        Ok(allowed)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        // A table element is a pointer's size; hold tables to the memory limit too.
        Ok(desired.saturating_mul(std::mem::size_of::<usize>()) <= self.max_bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasmtime::ResourceLimiter;

    #[test]
    fn the_memory_limit_holds_for_all_memories_together() {
        let mut limiter = MemoryLimiter::new(100);
        assert!(
            limiter.memory_growing(0, 60, None).unwrap(),
            "a first memory"
        );
        assert!(limiter.memory_growing(60, 70, None).unwrap(), "it grows");
        assert!(
            !limiter.memory_growing(0, 40, None).unwrap(),
            "a second memory would pass 100"
        );
        assert!(limiter.hit);
        assert!(limiter.memory_growing(0, 30, None).unwrap(), "70 + 30 fits");
        assert!(!limiter.memory_growing(30, 31, None).unwrap());
    }
}
