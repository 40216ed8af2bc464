//! Which schedule the config names: `schedule`, read as an ID, or as a name
//! with `schedule_identifier_type = "name"`, as the API's own
//! `scheduleIdentifierType` / `identifierType` parameters ("Possible values
//! are id and name. Default value is id").

use allsync_sdk::http::encode;
use allsync_sdk::{Config, Error};

/// A schedule, as the config names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleRef {
    identifier: String,
    by_name: bool,
}

impl ScheduleRef {
    /// The schedule of `schedule` and `schedule_identifier_type` in `config`.
    pub fn from_config(config: &Config) -> Result<Self, Error> {
        let kind = config.get_or("schedule_identifier_type", "id");
        let by_name = match kind.trim().to_ascii_lowercase().as_str() {
            "id" => false,
            "name" => true,
            _ => {
                return Err(Error::InvalidConfig(format!(
                    "`schedule_identifier_type` is `{kind}`: use id (the default) or name"
                )));
            }
        };
        Ok(ScheduleRef {
            identifier: config.require("schedule")?.trim().to_string(),
            by_name,
        })
    }

    /// `/v2/schedules/{identifier}`, the identifier encoded.
    pub fn path(&self) -> String {
        format!("/v2/schedules/{}", encode(&self.identifier))
    }

    /// `id` or `name`, as the identifier type parameters take it.
    pub fn identifier_type(&self) -> &'static str {
        match self.by_name {
            true => "name",
            false => "id",
        }
    }

    /// How messages name the schedule: "schedule `Ops`".
    pub fn label(&self) -> String {
        format!("schedule `{}`", self.identifier)
    }

    /// `error`, with what to check when Opsgenie knows no such schedule.
    pub fn explain(&self, error: Error) -> Error {
        let hint = match self.by_name {
            true => "check `schedule`: no schedule has that name",
            false => {
                "check `schedule`: it is read as a schedule ID; to give a name, set \
                 schedule_identifier_type = \"name\""
            }
        };
        match error {
            Error::NotFound(message) => Error::NotFound(format!("{message} ({hint})")),
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schedule(pairs: &[(&str, &str)]) -> Result<ScheduleRef, Error> {
        let entries = pairs
            .iter()
            .map(|(key, value)| (key.to_string(), value.to_string()))
            .collect();
        ScheduleRef::from_config(&Config::new(entries))
    }

    #[test]
    fn a_schedule_is_an_id_unless_said_to_be_a_name() {
        let by_id = schedule(&[("schedule", "d875-4219")]).unwrap();
        assert_eq!(
            (by_id.path().as_str(), by_id.identifier_type()),
            ("/v2/schedules/d875-4219", "id")
        );
        let by_name = schedule(&[
            ("schedule", "Ops On Call"),
            ("schedule_identifier_type", "Name"),
        ]);
        let by_name = by_name.unwrap();
        assert_eq!(
            (by_name.path().as_str(), by_name.identifier_type()),
            ("/v2/schedules/Ops%20On%20Call", "name")
        );
        assert_eq!(by_name.label(), "schedule `Ops On Call`");
    }

    #[test]
    fn another_identifier_type_is_refused() {
        let error = schedule(&[("schedule", "x"), ("schedule_identifier_type", "slug")]);
        assert!(
            matches!(&error, Err(Error::InvalidConfig(m)) if m == "`schedule_identifier_type` is `slug`: use id (the default) or name"),
            "{error:?}"
        );
    }

    #[test]
    fn an_unknown_schedule_says_how_the_identifier_was_read() {
        let by_id = schedule(&[("schedule", "Ops")]).unwrap();
        let error = by_id.explain(Error::NotFound("read schedule `Ops`: HTTP 404".into()));
        assert!(
            matches!(&error, Error::NotFound(m) if m.contains("it is read as a schedule ID; to give a name, set schedule_identifier_type = \"name\"")),
            "{error:?}"
        );
        let unchanged = by_id.explain(Error::Other("HTTP 500".into()));
        assert!(matches!(unchanged, Error::Other(m) if m == "HTTP 500"));
    }
}
