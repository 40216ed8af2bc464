//! A schedule and its rotations as `GET /v2/schedules/{identifier}` answers
//! them (https://docs.opsgenie.com/docs/schedule-api), and the participant
//! lists written back with `PATCH .../rotations/{id}`
//! (https://docs.opsgenie.com/docs/schedule-rotation-api).
//!
//! What the docs say of `participants`: a "List of escalations, teams, users
//! or the reserved word none which will be used in schedule. Each of them can
//! be used multiple times and will be rotated in the order they given", each
//! `{"type": "user"|"team"|"escalation"|"none", ...}` (a user by `id` or
//! `username`); a rotation is created with at least one.
//!
//! So a participant the adapter does not change is written back exactly as
//! it was read, in its place: teams, escalations, `none` slots, and users
//! not being removed. Newcomers join at the end, in the order given. A
//! rotation left with no one holds a single `none` participant (it cannot
//! be empty), and one holding nothing but `none` is refilled from scratch.

use allsync_sdk::Error;
use opsgenie_api::unique;
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::HashSet;

/// A schedule, with its rotations.
#[derive(Debug, Deserialize)]
pub struct Schedule {
    pub id: String,
    pub name: String,
    #[serde(default)]
    rotations: Vec<Rotation>,
}

/// One rotation of a schedule, its participants as Opsgenie gave them.
#[derive(Debug, Clone, Deserialize)]
pub struct Rotation {
    pub id: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    participants: Vec<Value>,
}

impl Schedule {
    /// The rotation the adapter manages: the one `wanted` names (by name or
    /// ID), else the schedule's only one. A schedule with none, or with
    /// several and no `rotation` key, is refused saying what to do.
    pub fn into_rotation(self, wanted: Option<&str>) -> Result<Rotation, Error> {
        let label = format!("schedule `{}`", self.name);
        let listed = self.listing();
        let mut rotations = self.rotations;
        if let Some(wanted) = wanted {
            return rotations
                .into_iter()
                .find(|rotation| rotation.id == wanted || rotation.name.eq_ignore_ascii_case(wanted))
                .ok_or_else(|| {
                    Error::NotFound(format!(
                        "{label} has no rotation `{wanted}` (its rotations: {listed}): check `rotation`, \
                         the name or ID of one of them"
                    ))
                });
        }
        match rotations.len() {
            1 => Ok(rotations.remove(0)),
            0 => Err(Error::Other(format!(
                "{label} has no rotation: add one in Opsgenie; this adapter changes the \
                 participants of a rotation, and never creates one"
            ))),
            count => Err(Error::Other(format!(
                "{label} has {count} rotations ({listed}): this adapter manages the participants \
                 of one rotation; set `rotation` to the name or ID of the one to sync, or keep a \
                 single rotation in the schedule"
            ))),
        }
    }

    /// "`Day` (id r-1), `Night` (id r-2)", or "none".
    fn listing(&self) -> String {
        let names: Vec<String> = self
            .rotations
            .iter()
            .map(|rotation| format!("`{}` (id {})", rotation.name, rotation.id))
            .collect();
        match names.is_empty() {
            true => "none".to_string(),
            false => names.join(", "),
        }
    }
}

impl Rotation {
    /// How messages name it: "rotation `Weekly`".
    pub fn label(&self) -> String {
        format!("rotation `{}`", self.name)
    }

    /// The usernames of its users, each once, in rotation order.
    pub fn usernames(&self) -> Vec<String> {
        unique(self.participants.iter().filter_map(username))
    }

    /// Whether `username` is one of its users (ignoring case).
    pub fn holds(&self, username: &str) -> bool {
        self.participants
            .iter()
            .filter_map(username_of)
            .any(|held| held.eq_ignore_ascii_case(username))
    }

    /// Its participants that are not users, for the log: "team `ops`",
    /// "escalation `ops_escalation`", "a `none` slot (no one)".
    pub fn others(&self) -> Vec<String> {
        self.participants
            .iter()
            .filter(|participant| username(participant).is_none())
            .map(describe)
            .collect()
    }

    /// Its participants once `joiners` (usernames) have joined at the end;
    /// a rotation holding nothing but `none` is refilled with them alone.
    pub fn with(&self, joiners: &[String]) -> Vec<Value> {
        let placeholder_only = self.participants.iter().all(is_nobody);
        let kept = self
            .participants
            .iter()
            .filter(|_| !placeholder_only)
            .cloned();
        kept.chain(
            joiners
                .iter()
                .map(|username| json!({ "type": "user", "username": username })),
        )
        .collect()
    }

    /// Its participants once the users in `leaving` (lower-case usernames)
    /// have left, every occurrence; a single `none` if no one is left.
    pub fn without(&self, leaving: &HashSet<String>) -> Vec<Value> {
        let remaining: Vec<Value> = self
            .participants
            .iter()
            .filter(|participant| {
                username_of(participant).is_none_or(|held| !leaving.contains(&held.to_lowercase()))
            })
            .cloned()
            .collect();
        match remaining.is_empty() {
            true => vec![json!({ "type": "none" })],
            false => remaining,
        }
    }
}

/// The username of a user participant that is usable as a thing.
fn username(participant: &Value) -> Option<&str> {
    username_of(participant).filter(|name| !name.trim().is_empty())
}

/// The username of a user participant.
fn username_of(participant: &Value) -> Option<&str> {
    match participant["type"].as_str() {
        Some("user") => participant["username"].as_str(),
        _ => None,
    }
}

fn is_nobody(participant: &Value) -> bool {
    participant["type"] == "none"
}

fn describe(participant: &Value) -> String {
    let kind = participant["type"].as_str().unwrap_or("participant");
    let name = participant["name"]
        .as_str()
        .or(participant["username"].as_str())
        .or(participant["id"].as_str());
    match (kind, name) {
        ("none", _) => "a `none` slot (no one)".to_string(),
        (kind, Some(name)) => format!("{kind} `{name}`"),
        (kind, None) => kind.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schedule(rotations: Value) -> Schedule {
        serde_json::from_value(json!({ "id": "s-1", "name": "Ops", "timezone": "Europe/London", "enabled": true, "rotations": rotations })).unwrap()
    }

    fn rotation(participants: Value) -> Rotation {
        serde_json::from_value(json!({ "id": "r-1", "name": "Weekly", "startDate": "2024-05-06T09:00:00Z", "type": "weekly", "length": 1, "participants": participants })).unwrap()
    }

    fn user(username: &str) -> Value {
        json!({ "type": "user", "id": format!("id-{username}"), "username": username })
    }

    fn team() -> Value {
        json!({ "type": "team", "id": "t-1", "name": "ops" })
    }

    fn leaving(usernames: &[&str]) -> HashSet<String> {
        usernames.iter().map(|u| u.to_lowercase()).collect()
    }

    #[test]
    fn only_users_are_listed_each_once_and_the_others_are_named() {
        let weekly = rotation(json!([
            user("ada@x.com"),
            team(),
            { "type": "escalation", "id": "e-1", "name": "ops_escalation" },
            { "type": "none" },
            user("Ada@x.com"),
            user("bob@x.com"),
        ]));
        assert_eq!(weekly.usernames(), ["ada@x.com", "bob@x.com"]);
        assert!(weekly.holds("ADA@x.com"));
        assert!(!weekly.holds("cy@x.com"));
        assert_eq!(
            weekly.others(),
            [
                "team `ops`",
                "escalation `ops_escalation`",
                "a `none` slot (no one)"
            ]
        );
    }

    #[test]
    fn newcomers_join_at_the_end_and_everyone_else_stays_as_read() {
        let weekly = rotation(json!([user("ada@x.com"), team(), { "type": "none" }]));
        assert_eq!(
            weekly.with(&["cy@x.com".into()]),
            [
                user("ada@x.com"),
                team(),
                json!({ "type": "none" }),
                json!({ "type": "user", "username": "cy@x.com" })
            ]
        );
    }

    #[test]
    fn leavers_go_from_every_place_and_the_others_keep_theirs() {
        let weekly = rotation(json!([
            user("ada@x.com"),
            team(),
            user("bob@x.com"),
            user("ADA@x.com")
        ]));
        assert_eq!(
            weekly.without(&leaving(&["ada@x.com"])),
            [team(), user("bob@x.com")]
        );
    }

    #[test]
    fn a_rotation_left_with_no_one_holds_none_and_is_refilled_from_scratch() {
        let weekly = rotation(json!([user("ada@x.com")]));
        let emptied = weekly.without(&leaving(&["ada@x.com"]));
        assert_eq!(emptied, [json!({ "type": "none" })]);
        let refilled = rotation(Value::Array(emptied)).with(&["bob@x.com".into()]);
        assert_eq!(
            refilled,
            [json!({ "type": "user", "username": "bob@x.com" })]
        );
    }

    #[test]
    fn the_only_rotation_is_taken_and_a_named_one_is_found_by_name_or_id() {
        let weekly = json!({ "id": "r-1", "name": "Weekly", "participants": [] });
        let nights = json!({ "id": "r-2", "name": "Nights", "participants": [] });
        let only = schedule(json!([weekly])).into_rotation(None).unwrap();
        assert_eq!(only.id, "r-1");
        let both = json!([weekly, nights]);
        assert_eq!(
            schedule(both.clone())
                .into_rotation(Some("nights"))
                .unwrap()
                .id,
            "r-2"
        );
        assert_eq!(
            schedule(both).into_rotation(Some("r-1")).unwrap().name,
            "Weekly"
        );
    }

    #[test]
    fn several_rotations_or_none_are_refused_saying_what_to_do() {
        let both = json!([
            { "id": "r-1", "name": "Weekly", "participants": [] },
            { "id": "r-2", "name": "Nights", "participants": [] }
        ]);
        let error = schedule(both.clone()).into_rotation(None).unwrap_err();
        assert!(
            matches!(&error, Error::Other(m) if m.starts_with(
                "schedule `Ops` has 2 rotations (`Weekly` (id r-1), `Nights` (id r-2)): this adapter manages the participants of one rotation; set `rotation`"
            )),
            "{error:?}"
        );
        let error = schedule(json!([])).into_rotation(None).unwrap_err();
        assert!(
            matches!(&error, Error::Other(m) if m.starts_with("schedule `Ops` has no rotation: add one in Opsgenie")),
            "{error:?}"
        );
        let error = schedule(both).into_rotation(Some("Days")).unwrap_err();
        assert!(
            matches!(&error, Error::NotFound(m) if m.starts_with("schedule `Ops` has no rotation `Days` (its rotations: `Weekly` (id r-1)")),
            "{error:?}"
        );
    }
}
