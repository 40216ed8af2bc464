//! The answer of `GET /v2/schedules/{identifier}/on-calls`
//! (https://docs.opsgenie.com/docs/who-is-on-call-api): with `flat=true`,
//! `onCallRecipients`, the usernames of everyone on call, teams and
//! escalations resolved to their users by Opsgenie; with `flat=false`,
//! `onCallParticipants`, each `{"id", "name", "type"}` where a user's `name`
//! is its username and a team or an escalation is named as such (an
//! escalation with its own nested `onCallParticipants`).

use opsgenie_api::unique;
use serde::Deserialize;

/// Who is on call, in either form.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OnCalls {
    /// The flat form: usernames.
    #[serde(default)]
    on_call_recipients: Vec<String>,
    /// The participant form: users, teams and escalations.
    #[serde(default)]
    on_call_participants: Vec<Participant>,
}

/// One on-call participant of the participant form.
#[derive(Debug, Deserialize)]
struct Participant {
    #[serde(default)]
    name: String,
    #[serde(rename = "type", default)]
    kind: String,
}

/// The users on call in person, and the teams and escalations left out.
#[derive(Debug, PartialEq, Eq)]
pub struct InPerson {
    /// Usernames, each once.
    pub usernames: Vec<String>,
    /// "team `ops`", "escalation `ops_escalation`", ...
    pub left_out: Vec<String>,
}

impl OnCalls {
    /// Everyone on call, from the flat form, each once.
    pub fn everyone(&self) -> Vec<String> {
        unique(&self.on_call_recipients)
    }

    /// The users on call in person, from the participant form.
    pub fn in_person(&self) -> InPerson {
        let (users, others): (Vec<&Participant>, Vec<&Participant>) = self
            .on_call_participants
            .iter()
            .partition(|participant| participant.kind == "user");
        InPerson {
            usernames: unique(users.iter().map(|user| &user.name)),
            left_out: others
                .iter()
                .map(|other| format!("{} `{}`", other.kind, other.name))
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn on_calls(data: serde_json::Value) -> OnCalls {
        serde_json::from_value(data).unwrap()
    }

    #[test]
    fn the_flat_form_lists_everyone_once() {
        let flat = on_calls(json!({
            "_parent": { "id": "d875", "name": "Ops", "enabled": true },
            "onCallRecipients": ["ada@example.com", "bob@example.com", "Ada@example.com"]
        }));
        assert_eq!(flat.everyone(), ["ada@example.com", "bob@example.com"]);
    }

    #[test]
    fn in_person_keeps_the_users_and_names_the_teams_and_escalations_left_out() {
        let participants = on_calls(json!({
            "_parent": { "id": "d875", "name": "Ops", "enabled": true },
            "onCallParticipants": [
                { "id": "c569", "name": "ops", "type": "team" },
                { "id": "b1", "name": "ada@example.com", "type": "user" },
                { "id": "1544", "name": "ops_escalation", "type": "escalation", "onCallParticipants": [
                    { "id": "b2", "name": "bob@example.com", "type": "user", "escalationTime": 0, "notifyType": "default" }
                ] }
            ]
        }));
        assert_eq!(
            participants.in_person(),
            InPerson {
                usernames: vec!["ada@example.com".into()],
                left_out: vec!["team `ops`".into(), "escalation `ops_escalation`".into()],
            }
        );
    }

    #[test]
    fn no_one_on_call_is_an_empty_list_in_either_form() {
        let nobody =
            on_calls(json!({ "_parent": { "id": "d875", "name": "Ops", "enabled": true } }));
        assert!(nobody.everyone().is_empty());
        assert!(nobody.in_person().usernames.is_empty());
    }
}
