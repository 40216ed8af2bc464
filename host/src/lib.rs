//! allsync: one-way sync of lists (usually email addresses) from a source to
//! destinations, through adapters loaded as sandboxed WebAssembly components.
//!
//! - [`engine`], the sync rules (diff, modes, limits, plan), over a plain trait;
//! - [`runtime`], loading, sandboxing and calling adapter components;
//! - [`config`], `allsync.toml`;
//! - [`conformance`], the checks behind `allsync test-adapter`;
//! - [`scaffold`], `allsync new`;
//! - [`app`], config, runtime and engine put together for the CLI;
//! - [`text`], what in adapters' text cannot be shown or compared safely;
//! - [`cli`], the `allsync` command.

pub mod app;
pub mod cli;
pub mod config;
pub mod conformance;
pub mod engine;
pub mod runtime;
pub mod scaffold;
pub mod text;
