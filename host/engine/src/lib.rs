//! allsync's sync engine: plain Rust over the [`Adapter`] trait, with no
//! knowledge of WebAssembly (this crate does not depend on wasmtime, so the
//! compiler holds it to that).
//!
//! A job reads its source once, then for each destination reads what is
//! there, [plans](plan::plan) the difference under that destination's
//! [`SyncOptions`], and (unless only planning) applies it. Destinations are
//! independent: one failing never stops another.

mod adapter;
mod journal;
mod options;
mod plan;
mod report;
mod run;
mod sources;
pub mod text;

pub use adapter::{Adapter, AdapterError, Rejected};
pub use journal::{Entry, Journal};
pub use options::{ChangeLimit, Mode, Percent, SyncOptions};
pub use plan::{Blocked, Changes, Plan, fold, plan};
pub use report::{DestinationReport, JobReport, Operation, Rejection, SourceReport, Status};
pub use run::{Action, Destination, Source, Sources, Start, Stop, Target, run_job};
pub use sources::{Blend, Combine, Combined, Role, Transform, combine, transform};

#[cfg(test)]
mod tests;
