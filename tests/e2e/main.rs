//! End-to-end tests: the `allsync` binary, real adapter components built
//! from `plugins/` and `tests/adapters/`, and loopback servers.

mod audit;
mod budgets;
mod cli;
mod conformance;
mod credentials;
mod entra;
mod fakes;
mod file_sync;
mod file_writes;
mod github_team;
mod google_group;
mod hostile;
mod http_grants;
mod list_server;
mod opsgenie;
mod peak;
mod progress;
mod saved_plans;
mod scim;
mod sdks;
mod secrets;
mod serve;
mod slack_adapters;
mod sources;
mod support;
mod tfc;
