//! The `opsgenie-schedule` adapter: the users of an Opsgenie schedule's
//! rotation, as their usernames (the emails they sign in with).
//!
//! Like go-sync's, it manages a schedule with exactly one rotation (or the
//! one `rotation` names): `GET /v2/schedules/{identifier}` reads it, and
//! each `add` or `remove` makes at most one `PATCH
//! /v2/schedules/{id}/rotations/{rotationId}` with the whole participant
//! list, none when nothing changes. Teams, escalations and `none` slots are
//! left untouched and in place (see [`rotation`]). A newcomer must be an
//! Opsgenie user (`GET /v2/users/{username}`, `concurrency` at a time);
//! one that is not is rejected on its own.

mod rotation;

use allsync_sdk::http::encode;
use allsync_sdk::{Adapter, Config, ConfigKey, Error, Info, Ledger, Outcome, Rejected, export};
use opsgenie_api::{Opsgenie, ScheduleRef, unique};
use rotation::{Rotation, Schedule};
use serde_json::{Value, json};
use std::collections::HashSet;

struct ScheduleRotation {
    opsgenie: Opsgenie,
    schedule: ScheduleRef,
    /// The rotation's name or ID, for a schedule with several.
    rotation: Option<String>,
    /// User look-ups in flight at once.
    concurrency: usize,
    /// The usernames (lower case) this run added and removed.
    ledger: Ledger,
}

/// The rotation to change, as Opsgenie holds it now.
struct Target {
    schedule_id: String,
    /// "rotation `Weekly` of schedule `Ops`".
    label: String,
    rotation: Rotation,
}

/// One participant change to write: the thing asked for, and its account
/// (the username, lower case).
struct Change {
    thing: String,
    account: String,
}

/// Which way a change goes.
#[derive(Clone, Copy)]
enum Direction {
    Add,
    Remove,
}

impl Adapter for ScheduleRotation {
    fn describe() -> Info {
        opsgenie_api::describe(Info::new(
            "opsgenie-schedule",
            env!("CARGO_PKG_VERSION"),
            "The users of an Opsgenie schedule's rotation (API key: Read, Create and Update, \
             and Configuration access; Read and Configuration access for plan only)",
        ))
        .key(ConfigKey::optional(
            "rotation",
            "the rotation's name or ID, for a schedule with several (default: the \
             schedule's only rotation)",
        ))
        .key(ConfigKey::optional(
            "concurrency",
            "user look-ups in flight at once (default 8)",
        ))
    }

    fn init(config: Config) -> Result<Self, Error> {
        Ok(ScheduleRotation {
            opsgenie: Opsgenie::from_config(&config)?,
            schedule: ScheduleRef::from_config(&config)?,
            rotation: config
                .get("rotation")
                .map(str::trim)
                .filter(|rotation| !rotation.is_empty())
                .map(String::from),
            concurrency: config.parse_or("concurrency", 8)?,
            ledger: Ledger::new(),
        })
    }

    fn get(&mut self) -> Result<Vec<String>, Error> {
        let target = self.target()?;
        let others = target.rotation.others();
        if !others.is_empty() {
            eprintln!(
                "{} also holds {}: left as they are",
                target.label,
                others.join(", ")
            );
        }
        Ok(target.rotation.usernames())
    }

    fn add(&mut self, things: Vec<String>) -> Result<Vec<Rejected>, Error> {
        let target = self.target()?;
        let mut outcome = Outcome::new();
        let mut newcomers = Vec::new();
        for thing in things {
            let account = thing.to_lowercase();
            if let Some(reason) = self.ledger.refuse_add(&account, &thing) {
                outcome.reject(thing, reason);
            } else if target.rotation.holds(&thing) {
                self.ledger.added(account, &thing);
                outcome.applied();
            } else {
                newcomers.push(thing);
            }
        }
        let joining = self.look_up(newcomers, &mut outcome);
        if !joining.is_empty() {
            let usernames = unique(joining.iter().map(|(_, username)| username));
            let written = self.write(&target, target.rotation.with(&usernames));
            let changes = joining
                .into_iter()
                .map(|(thing, username)| Change {
                    thing,
                    account: username.to_lowercase(),
                })
                .collect();
            self.settle(Direction::Add, changes, written, &mut outcome);
        }
        outcome.finish()
    }

    fn remove(&mut self, things: Vec<String>) -> Result<Vec<Rejected>, Error> {
        let target = self.target()?;
        let mut outcome = Outcome::new();
        let mut leaving = Vec::new();
        for thing in things {
            let account = thing.to_lowercase();
            if let Some(reason) = self.ledger.refuse_remove(&account, &thing) {
                outcome.reject(thing, reason);
            } else if target.rotation.holds(&thing) {
                leaving.push(Change { thing, account });
            } else {
                self.ledger.removed(account, &thing);
                outcome.applied();
            }
        }
        if !leaving.is_empty() {
            let gone: HashSet<String> = leaving.iter().map(|c| c.account.clone()).collect();
            let written = self.write(&target, target.rotation.without(&gone));
            self.settle(Direction::Remove, leaving, written, &mut outcome);
        }
        outcome.finish()
    }
}

impl ScheduleRotation {
    /// The schedule as Opsgenie holds it now, and the rotation to manage.
    fn target(&self) -> Result<Target, Error> {
        let path = format!(
            "{}?identifierType={}",
            self.schedule.path(),
            self.schedule.identifier_type()
        );
        let what = format!("read {}", self.schedule.label());
        let schedule: Schedule = self
            .opsgenie
            .read(&path, &what)
            .map_err(|error| self.schedule.explain(error))?;
        let label = format!("of schedule `{}`", schedule.name);
        let schedule_id = schedule.id.clone();
        let rotation = schedule.into_rotation(self.rotation.as_deref())?;
        Ok(Target {
            schedule_id,
            label: format!("{} {label}", rotation.label()),
            rotation,
        })
    }

    /// Each of `emails` with the username Opsgenie knows it by; one no user
    /// has is rejected, and one whose look-up failed is not applied.
    fn look_up(&self, emails: Vec<String>, outcome: &mut Outcome) -> Vec<(String, String)> {
        let found = self.opsgenie.look_up_users(&emails, self.concurrency);
        let mut users = Vec::new();
        for (email, user) in emails.into_iter().zip(found) {
            match user {
                Ok(Some(username)) => users.push((email, username)),
                Ok(None) => {
                    let reason = format!(
                        "no Opsgenie user has the username {email}: a rotation takes only existing \
                         users; add them to Opsgenie first, or take them out of the source"
                    );
                    outcome.reject(email, reason);
                }
                Err(error) => outcome.failed([email], error),
            }
        }
        users
    }

    /// Writes `participants` as the rotation's whole list, in one request.
    fn write(&self, target: &Target, participants: Vec<Value>) -> Result<(), Error> {
        let path = format!(
            "/v2/schedules/{}/rotations/{}?scheduleIdentifierType=id",
            encode(&target.schedule_id),
            encode(&target.rotation.id)
        );
        let what = format!("update the participants of {}", target.label);
        self.opsgenie
            .patch(&path, &json!({ "participants": participants }), &what)
    }

    /// Notes what one write did: every change applied, or none.
    fn settle(
        &mut self,
        direction: Direction,
        changes: Vec<Change>,
        written: Result<(), Error>,
        outcome: &mut Outcome,
    ) {
        if let Err(error) = written {
            outcome.failed(changes.into_iter().map(|change| change.thing), error);
            return;
        }
        for Change { thing, account } in changes {
            match direction {
                Direction::Add => self.ledger.added(account, thing),
                Direction::Remove => self.ledger.removed(account, thing),
            }
            outcome.applied();
        }
    }
}

export!(ScheduleRotation);
