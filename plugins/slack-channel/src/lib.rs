//! The `slack-channel` adapter: the members of a Slack conversation
//! (channel), as emails. People and guests count; bots and deactivated
//! accounts are never counted, invited nor removed.
//!
//! Slack Web API: `conversations.members` (cursor pagination) and
//! `users.info` to read; `users.lookupByEmail` to map emails to users;
//! `conversations.invite` (up to 1000 users per call, with `force` so that
//! one refused user does not stop the others) and `conversations.kick` (one
//! user per call) to change. Each call reports exactly what Slack did: a
//! batch or a kick that fails part-way leaves the others as they ended.

use allsync_sdk::{Adapter, Config, ConfigKey, Error, Info, Ledger, Outcome, Rejected, export};
use serde::Deserialize;
use slack_api::changes::{applied, joiners, leavers, unique_ids};
use slack_api::{Admission, Change, Direction, Directory, Reply, Roster, Slack, User};
use std::collections::{HashMap, HashSet};

/// The most users `conversations.invite` takes in one call.
const INVITE_BATCH: usize = 1000;

/// Who a channel can hold: people and guests.
const ADMISSION: Admission = Admission {
    list: "a channel",
    guests: true,
    bots: "allsync never invites nor removes bots (a bot joins a channel when its app is added)",
};

/// Invitation errors that a call inviting one user answers for that user.
const PER_USER_INVITE: [&str; 5] = [
    "already_in_channel",
    "cant_invite",
    "cant_invite_self",
    "user_not_found",
    "ura_max_channels",
];

/// Kick errors that concern the user kicked, not the call.
const PER_USER_KICK: [&str; 4] = [
    "cant_kick_self",
    "cant_kick_from_general",
    "user_not_found",
    "not_supported",
];

struct Channel {
    slack: Slack,
    channel: String,
    directory: Directory,
    /// The members as `get` read them, kept up to date by `add` and `remove`.
    roster: Option<Roster>,
    accounts: Ledger,
}

#[derive(Deserialize)]
struct MembersPage {
    members: Vec<String>,
    #[serde(default)]
    response_metadata: Metadata,
}

#[derive(Default, Deserialize)]
struct Metadata {
    #[serde(default)]
    next_cursor: String,
}

/// One user's error in a `conversations.invite` answer's `errors`.
#[derive(Deserialize)]
struct InviteError {
    user: String,
    error: String,
}

/// How one kick ended.
#[derive(Debug)]
enum Kick {
    /// The user is out of the channel (kicked now, or not in it).
    Gone,
    /// Slack refused to remove this user; its error code.
    Refused(String),
    /// The call failed as a whole.
    Failed(Error),
}

impl Adapter for Channel {
    fn describe() -> Info {
        slack_api::describe(
            Info::new(
                "slack-channel",
                env!("CARGO_PKG_VERSION"),
                "The members of a Slack channel, people and guests, bots left out (scopes: \
                 channels:read, channels:manage, groups:read, groups:write, users:read, \
                 users:read.email)",
            )
            .key(ConfigKey::required(
                "channel",
                "the channel's ID, e.g. C0123ABCD",
            )),
        )
    }

    fn init(config: Config) -> Result<Self, Error> {
        Ok(Channel {
            slack: Slack::from_config(&config)?,
            channel: config.require("channel")?.to_string(),
            directory: Directory::default(),
            roster: None,
            accounts: Ledger::default(),
        })
    }

    fn get(&mut self) -> Result<Vec<String>, Error> {
        let roster = self.read_roster()?;
        let emails = roster.emails();
        self.roster = Some(roster);
        Ok(emails)
    }

    fn add(&mut self, things: Vec<String>) -> Result<Vec<Rejected>, Error> {
        let mut roster = self.roster()?;
        let mut outcome = Outcome::new();
        let joining = joiners(
            &self.slack,
            things,
            &roster,
            &ADMISSION,
            &mut self.directory,
            &mut self.accounts,
            &mut outcome,
        );
        let mut failure: Option<Error> = None;
        for batch in joining.chunks(INVITE_BATCH) {
            let answer = match &failure {
                Some(error) => Err(error.clone()),
                None => self.invite(batch),
            };
            if let Err(error) = &answer {
                failure.get_or_insert_with(|| error.clone());
            }
            self.settle_invitations(batch, answer, &mut roster, &mut outcome);
        }
        self.roster = Some(roster);
        outcome.finish()
    }

    fn remove(&mut self, things: Vec<String>) -> Result<Vec<Rejected>, Error> {
        let mut roster = self.roster()?;
        let mut outcome = Outcome::new();
        let leaving = leavers(things, &roster, &self.accounts, &mut outcome);
        let ids: Vec<String> = leaving.iter().map(|change| change.id.clone()).collect();
        let kicks = self
            .slack
            .write_each("conversations.kick", ("channel", &self.channel), &ids);
        for (change, answer) in leaving.into_iter().zip(kicks) {
            match kicked(answer) {
                Kick::Gone => {
                    roster.forget(&change.id);
                    applied(Direction::Remove, change, &mut self.accounts, &mut outcome);
                }
                Kick::Refused(code) => outcome.reject(
                    change.thing,
                    format!("Slack refused to remove this user from the channel: {code}"),
                ),
                Kick::Failed(error) => outcome.failed([change.thing], error),
            }
        }
        self.roster = Some(roster);
        outcome.finish()
    }
}

impl Channel {
    /// The members `get` read, or read now if it did not.
    fn roster(&mut self) -> Result<Roster, Error> {
        match self.roster.take() {
            Some(roster) => Ok(roster),
            None => self.read_roster(),
        }
    }

    /// The channel's members now, each resolved (once per instance).
    fn read_roster(&mut self) -> Result<Roster, Error> {
        let ids = self.member_ids()?;
        self.slack.learn(&mut self.directory, &ids)?;
        Ok(self.directory.roster(&ids, &ADMISSION))
    }

    /// Every member ID, following `next_cursor` to the last page.
    fn member_ids(&self) -> Result<Vec<String>, Error> {
        let mut members = Vec::new();
        let mut cursor = String::new();
        loop {
            let page: MembersPage = self.slack.read(
                "conversations.members",
                &[
                    ("channel", &self.channel),
                    ("limit", "200"),
                    ("cursor", &cursor),
                ],
            )?;
            members.extend(page.members);
            cursor = page.response_metadata.next_cursor;
            if cursor.is_empty() {
                return Ok(members);
            }
        }
    }

    /// Invites one batch of users, and reads what Slack says of each.
    fn invite(&self, batch: &[(Change, User)]) -> Result<HashMap<String, String>, Error> {
        let ids = unique_ids(batch.iter().map(|(change, _)| change));
        let users = ids.join(",");
        let reply = self.slack.write_reply(
            "conversations.invite",
            &[
                ("channel", &self.channel),
                ("users", &users),
                ("force", "true"),
            ],
        )?;
        refusals(&ids, &reply)
    }

    /// Notes how the invitation of `batch` ended, user by user.
    fn settle_invitations(
        &mut self,
        batch: &[(Change, User)],
        answer: Result<HashMap<String, String>, Error>,
        roster: &mut Roster,
        outcome: &mut Outcome,
    ) {
        let refused = match answer {
            Ok(refused) => refused,
            Err(error) => {
                let things = batch.iter().map(|(change, _)| change.thing.as_str());
                return outcome.failed(things, error);
            }
        };
        for (change, user) in batch {
            match refused.get(&change.id) {
                Some(why) => outcome.reject(change.thing.as_str(), why.as_str()),
                None => {
                    roster.admit(user);
                    applied(Direction::Add, change.clone(), &mut self.accounts, outcome);
                }
            }
        }
    }
}

/// What a `conversations.invite` answer says of the users in `batch`: why
/// each one Slack did not put in the channel is not there (everyone else
/// is, invited now or already in); or the error of a call that failed as a
/// whole. With `force`, Slack invites those it can and lists the others in
/// `errors`; an `ok: false` answer does not say whether it invited the
/// users its `errors` leave out, so those are not counted as added.
fn refusals(batch: &[String], reply: &Reply) -> Result<HashMap<String, String>, Error> {
    let mut errors: Vec<InviteError> = reply.field("errors").unwrap_or_default();
    match reply.refusal() {
        Some(code) if errors.is_empty() => match batch {
            [user] if PER_USER_INVITE.contains(&code) => errors.push(InviteError {
                user: user.clone(),
                error: code.to_string(),
            }),
            _ => return Err(reply.error()),
        },
        _ => {}
    }
    let listed: HashSet<String> = errors.iter().map(|error| error.user.clone()).collect();
    let mut refused: HashMap<String, String> = errors
        .into_iter()
        .filter(|error| error.error != "already_in_channel")
        .map(|error| {
            let why = format!("Slack refused the invitation: {}", error.error);
            (error.user, why)
        })
        .collect();
    if let Some(code) = reply.refusal() {
        for user in batch.iter().filter(|user| !listed.contains(*user)) {
            let why = format!(
                "Slack answered {code} to the invitation without saying whether it invited this \
                 user, so it is not counted as added (the next run shows it)"
            );
            refused.insert(user.clone(), why);
        }
    }
    Ok(refused)
}

/// How a `conversations.kick` answer ended: `not_in_channel` means the user
/// is out already; errors about the user refuse that one; any other error
/// (a bad token, the channel, an outage) fails the call.
fn kicked(answer: Result<Reply, Error>) -> Kick {
    let reply = match answer {
        Ok(reply) => reply,
        Err(error) => return Kick::Failed(error),
    };
    match reply.refusal() {
        None | Some("not_in_channel") => Kick::Gone,
        Some(code) if PER_USER_KICK.contains(&code) => Kick::Refused(code.to_string()),
        Some(_) => Kick::Failed(reply.error()),
    }
}

export!(Channel);

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn invited(batch: &[&str], body: Value) -> Result<HashMap<String, String>, Error> {
        let batch: Vec<String> = batch.iter().map(ToString::to_string).collect();
        refusals(&batch, &Reply::new("conversations.invite", body))
    }

    #[test]
    fn users_slack_lists_in_errors_are_refused_and_the_others_invited() {
        let refused = invited(
            &["U1", "U2", "U3"],
            json!({ "ok": true, "channel": { "id": "C1" }, "errors": [
                { "user": "U2", "ok": false, "error": "ura_max_channels" },
                { "user": "U3", "ok": false, "error": "already_in_channel" },
            ] }),
        )
        .unwrap();
        assert_eq!(refused.len(), 1, "{refused:?}");
        assert_eq!(
            refused["U2"],
            "Slack refused the invitation: ura_max_channels"
        );
    }

    #[test]
    fn an_ok_false_answer_counts_no_one_it_does_not_name_as_added() {
        let refused = invited(
            &["U1", "U2"],
            json!({ "ok": false, "error": "cant_invite", "errors": [
                { "user": "U2", "ok": false, "error": "cant_invite" },
            ] }),
        )
        .unwrap();
        assert_eq!(refused["U2"], "Slack refused the invitation: cant_invite");
        assert!(
            refused["U1"]
                .starts_with("Slack answered cant_invite to the invitation without saying"),
            "{refused:?}"
        );
    }

    #[test]
    fn a_lone_user_already_in_the_channel_is_in_and_a_refused_one_is_not() {
        let already = json!({ "ok": false, "error": "already_in_channel" });
        assert!(invited(&["U1"], already).unwrap().is_empty());
        let refused = invited(&["U1"], json!({ "ok": false, "error": "cant_invite" })).unwrap();
        assert_eq!(refused["U1"], "Slack refused the invitation: cant_invite");
    }

    #[test]
    fn an_error_about_the_call_fails_the_whole_batch() {
        let error = invited(
            &["U1", "U2"],
            json!({ "ok": false, "error": "not_in_channel" }),
        )
        .unwrap_err();
        assert!(
            matches!(&error, Error::Other(m) if m.contains("the app's bot user must be in the channel")),
            "{error:?}"
        );
        let error = invited(&["U1"], json!({ "ok": false, "error": "invalid_auth" })).unwrap_err();
        assert!(matches!(error, Error::Unauthorized(_)), "{error:?}");
    }

    fn kick(body: Value) -> Kick {
        kicked(Ok(Reply::new("conversations.kick", body)))
    }

    #[test]
    fn a_kick_ends_gone_refused_for_that_user_or_failed_as_a_whole() {
        assert!(matches!(
            kick(json!({ "ok": true, "errors": {} })),
            Kick::Gone
        ));
        assert!(matches!(
            kick(json!({ "ok": false, "error": "not_in_channel" })),
            Kick::Gone
        ));
        assert!(
            matches!(kick(json!({ "ok": false, "error": "cant_kick_from_general" })), Kick::Refused(code) if code == "cant_kick_from_general")
        );
        assert!(matches!(
            kick(json!({ "ok": false, "error": "invalid_auth" })),
            Kick::Failed(Error::Unauthorized(_))
        ));
        assert!(matches!(
            kicked(Err(Error::Other("HTTP 500".into()))),
            Kick::Failed(Error::Other(_))
        ));
    }
}
