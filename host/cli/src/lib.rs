//! allsync: one-way sync of lists (usually email addresses) from a source to
//! destinations, through adapters loaded as sandboxed WebAssembly components.
//!
//! This crate is the `allsync` command, over two others whose floors the
//! compiler keeps: `allsync-engine`, the sync rules (diff, modes, limits,
//! plan) over a plain trait, with no WebAssembly; and `allsync-runtime`,
//! loading, sandboxing and calling adapter components, with no sync rules.
//!
//! - [`config`], `allsync.toml`;
//! - [`app`], config, runtime and engine put together for the CLI;
//! - [`saved`], saved plans (`plan -o`, `apply`, `show`);
//! - [`audit`], the audit log and `allsync audit`;
//! - [`lock`], `allsync.lock`, pinning the plugins folder's adapters;
//! - [`files`], writing a file whole or not at all;
//! - [`shard`], `--shard I/N`;
//! - [`serve`], `allsync serve`: jobs on schedules, signals, the HTTP listener;
//! - [`schedule`], when `allsync serve` runs each job;
//! - [`metrics`], what `allsync serve` serves at `/metrics`;
//! - [`conformance`], the checks behind `allsync test-adapter`;
//! - [`scaffold`], `allsync new`;
//! - [`starter`], `allsync init`;
//! - [`cli`], the command line: parses, calls [`app`], prints.

pub mod app;
pub mod audit;
pub mod cli;
pub mod config;
pub mod conformance;
pub mod files;
pub mod lock;
pub mod metrics;
pub mod progress;
pub mod saved;
pub mod scaffold;
pub mod schedule;
pub mod serve;
pub mod shard;
pub mod starter;
pub mod status;
