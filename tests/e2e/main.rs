//! End-to-end tests: the `allsync` binary, real adapter components built
//! from `plugins/` and `tests/adapters/`, and loopback servers.

mod cli;
mod file_sync;
mod hostile;
mod http_grants;
mod list_server;
mod secrets;
mod support;
