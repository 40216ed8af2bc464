//! The `opsgenie-oncall` adapter: who is on call now for an Opsgenie
//! schedule, as their usernames (the emails they sign in with). A source
//! only: who is on call is Opsgenie's to compute.
//!
//! Who Is On Call API: `GET /v2/schedules/{identifier}/on-calls` with
//! `scheduleIdentifierType` and no `date`, which the docs default to "the
//! moment of the time that request is received". By default it asks for
//! `flat=true`, which "retrieves user names of all on call participants":
//! Opsgenie resolves the teams and escalations on call to their users
//! itself. With `only_users = true` it asks for the participants instead
//! and keeps only the users on call in person (see [`on_call`]).

mod on_call;

use allsync_sdk::{Adapter, Config, ConfigKey, Error, Info, export};
use on_call::OnCalls;
use opsgenie_api::{Opsgenie, ScheduleRef};

struct OnCall {
    opsgenie: Opsgenie,
    schedule: ScheduleRef,
    /// Only the users on call in person, not those of teams and escalations.
    only_users: bool,
}

impl Adapter for OnCall {
    fn describe() -> Info {
        opsgenie_api::describe(Info::new(
            "opsgenie-oncall",
            env!("CARGO_PKG_VERSION"),
            "Who is on call now for an Opsgenie schedule, as usernames (API key: Read and \
             Configuration access)",
        ))
        .key(ConfigKey::optional(
            "only_users",
            "true: only users on call in person, leaving out the teams and escalations on \
             call (default false: Opsgenie resolves them to their users)",
        ))
        .read_only()
    }

    fn init(config: Config) -> Result<Self, Error> {
        Ok(OnCall {
            opsgenie: Opsgenie::from_config(&config)?,
            schedule: ScheduleRef::from_config(&config)?,
            only_users: config.parse_or("only_users", false)?,
        })
    }

    fn get(&mut self) -> Result<Vec<String>, Error> {
        let on_calls = self.on_calls()?;
        if !self.only_users {
            return Ok(on_calls.everyone());
        }
        let in_person = on_calls.in_person();
        if !in_person.left_out.is_empty() {
            eprintln!(
                "on call for {} but left out (only_users = true): {}",
                self.schedule.label(),
                in_person.left_out.join(", ")
            );
        }
        Ok(in_person.usernames)
    }
}

impl OnCall {
    /// Who is on call now: everyone (flat), or the participants.
    fn on_calls(&self) -> Result<OnCalls, Error> {
        let path = format!(
            "{}/on-calls?scheduleIdentifierType={}&flat={}",
            self.schedule.path(),
            self.schedule.identifier_type(),
            !self.only_users
        );
        let what = format!("read who is on call for {}", self.schedule.label());
        self.opsgenie
            .read(&path, &what)
            .map_err(|error| self.schedule.explain(error))
    }
}

export!(OnCall);
