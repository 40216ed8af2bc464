//! The `slack-usergroup` adapter: the members of a Slack user group, as
//! emails.
//!
//! Slack Web API: `usergroups.users.list` and `users.info` to read;
//! `users.lookupByEmail` to map emails to users; `usergroups.users.update`,
//! which replaces the whole member list: once per sync (`apply` takes the
//! additions and removals together), never one call per person, and not at
//! all when nothing changes.
//!
//! Slack refuses bots, guests and deactivated accounts in a user group
//! (`invalid_users`), so an update carries only the active people the group
//! holds, plus those joining, minus those leaving: any bot, guest or
//! deactivated account still listed drops out with the next update. Such
//! accounts in the source are rejected, each with the reason.

use allsync_sdk::{Adapter, Config, ConfigKey, Error, Info, Ledger, Outcome, Rejected, export};
use serde::Deserialize;
use slack_api::changes::{joiners, leavers, settle, unique_ids};
use slack_api::{Admission, Change, Direction, Directory, Roster, Slack};
use std::collections::HashSet;

/// Who a user group can hold: active people only.
const ADMISSION: Admission = Admission {
    list: "a user group",
    guests: false,
    bots: "Slack does not allow bots in user groups",
};

struct UserGroup {
    slack: Slack,
    group: String,
    directory: Directory,
    accounts: Ledger,
}

#[derive(Deserialize)]
struct Members {
    users: Vec<String>,
}

impl Adapter for UserGroup {
    fn describe() -> Info {
        slack_api::describe(
            Info::new(
                "slack-usergroup",
                env!("CARGO_PKG_VERSION"),
                "The members of a Slack user group, active people only (scopes: usergroups:read, \
                 usergroups:write, users:read, users:read.email)",
            )
            .key(ConfigKey::required(
                "usergroup",
                "the user group's ID, e.g. S0123ABCD",
            )),
        )
    }

    fn init(config: Config) -> Result<Self, Error> {
        Ok(UserGroup {
            slack: Slack::from_config(&config)?,
            group: config.require("usergroup")?.to_string(),
            directory: Directory::default(),
            accounts: Ledger::default(),
        })
    }

    fn get(&mut self) -> Result<Vec<String>, Error> {
        Ok(self.roster()?.emails())
    }

    fn add(&mut self, things: Vec<String>) -> Result<Vec<Rejected>, Error> {
        let roster = self.roster()?;
        let mut outcome = Outcome::new();
        let joining: Vec<Change> = joiners(
            &self.slack,
            things,
            &roster,
            &ADMISSION,
            &mut self.directory,
            &mut self.accounts,
            &mut outcome,
        )
        .into_iter()
        .map(|(change, _)| change)
        .collect();
        if !joining.is_empty() {
            let written = self.update(&with_joiners(&roster, &joining));
            settle(
                Direction::Add,
                joining,
                written,
                &mut self.accounts,
                &mut outcome,
            );
        }
        outcome.finish()
    }

    fn remove(&mut self, things: Vec<String>) -> Result<Vec<Rejected>, Error> {
        let roster = self.roster()?;
        let mut outcome = Outcome::new();
        let leaving = leavers(things, &roster, &self.accounts, &mut outcome);
        if !leaving.is_empty() {
            let remaining =
                without_leavers(roster.ids(), roster.left_out(), &leaving, &self.group)?;
            let written = self.update(&remaining);
            settle(
                Direction::Remove,
                leaving,
                written,
                &mut self.accounts,
                &mut outcome,
            );
        }
        outcome.finish()
    }

    /// Additions and removals in one `usergroups.users.update`.
    fn apply(&mut self, add: Vec<String>, remove: Vec<String>) -> Result<Vec<Rejected>, Error> {
        let roster = self.roster()?;
        let mut outcome = Outcome::new();
        let joining: Vec<Change> = joiners(
            &self.slack,
            add,
            &roster,
            &ADMISSION,
            &mut self.directory,
            &mut self.accounts,
            &mut outcome,
        )
        .into_iter()
        .map(|(change, _)| change)
        .collect();
        // Noted before the leavers are chosen, so one account never both
        // joins and leaves in this one change (two spellings of a person).
        for change in &joining {
            self.accounts.added(&change.id, &change.thing);
        }
        let leaving = leavers(remove, &roster, &self.accounts, &mut outcome);
        if joining.is_empty() && leaving.is_empty() {
            return outcome.finish();
        }
        let members = with_joiners(&roster, &joining);
        let members = without_leavers(&members, roster.left_out(), &leaving, &self.group)?;
        let written = self.update(&members);
        settle(
            Direction::Add,
            joining,
            written.clone(),
            &mut self.accounts,
            &mut outcome,
        );
        settle(
            Direction::Remove,
            leaving,
            written,
            &mut self.accounts,
            &mut outcome,
        );
        outcome.finish()
    }
}

impl UserGroup {
    /// The group's members as Slack lists them now, each resolved (once
    /// per instance) to tell people from bots, guests and deactivated ones.
    fn roster(&mut self) -> Result<Roster, Error> {
        let members: Members = self
            .slack
            .read("usergroups.users.list", &[("usergroup", &self.group)])?;
        self.slack.learn(&mut self.directory, &members.users)?;
        Ok(self.directory.roster(&members.users, &ADMISSION))
    }

    /// Replaces the whole member list in one call.
    fn update(&self, members: &[String]) -> Result<(), Error> {
        let users = members.join(",");
        self.slack.write::<serde::de::IgnoredAny>(
            "usergroups.users.update",
            &[("usergroup", &self.group), ("users", &users)],
        )?;
        Ok(())
    }
}

/// The member list once `joining` have joined: the group's people, then the
/// newcomers, each once.
fn with_joiners(roster: &Roster, joining: &[Change]) -> Vec<String> {
    let mut members = roster.ids().to_vec();
    members.extend(unique_ids(joining));
    members
}

/// `members` once `leaving` have left, or why Slack would refuse it: a user
/// group cannot be emptied, and only people count (`left_out` bots, guests
/// and deactivated accounts the group lists do not).
fn without_leavers(
    members: &[String],
    left_out: usize,
    leaving: &[Change],
    group: &str,
) -> Result<Vec<String>, Error> {
    let gone: HashSet<&str> = leaving.iter().map(|change| change.id.as_str()).collect();
    let remaining: Vec<String> = members
        .iter()
        .filter(|id| !gone.contains(id.as_str()))
        .cloned()
        .collect();
    if !remaining.is_empty() {
        return Ok(remaining);
    }
    let others = match left_out {
        0 => String::new(),
        n => format!(
            " ({n} bot, guest or deactivated account(s) it lists do not count: Slack refuses them \
             in an update)"
        ),
    };
    Err(Error::Other(format!(
        "Slack does not allow an empty user group: removing these would leave {group} with no \
         members{others}, so nothing was removed; keep at least one active person in the source, \
         or disable the group in Slack (usergroups.disable) if it is no longer wanted"
    )))
}

export!(UserGroup);

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use slack_api::User;

    fn user(id: &str, flags: &[&str]) -> User {
        let mut user = json!({ "id": id, "profile": { "email": format!("{id}@x.com") } });
        for flag in flags {
            user[*flag] = json!(true);
        }
        serde_json::from_value(user).unwrap()
    }

    /// A group listing a person U1, a bot B1 and a deactivated U2, and U3.
    fn roster() -> Roster {
        let mut directory = Directory::default();
        for member in [
            user("U1", &[]),
            user("B1", &["is_bot"]),
            user("U2", &["deleted"]),
            user("U3", &[]),
        ] {
            directory.note(&member.id.clone(), Some(member));
        }
        let listed: Vec<String> = ["U1", "B1", "U2", "U3"].map(String::from).to_vec();
        directory.roster(&listed, &ADMISSION)
    }

    fn change(id: &str) -> Change {
        Change {
            thing: format!("{id}@x.com"),
            id: id.into(),
        }
    }

    #[test]
    fn an_update_never_carries_the_bots_and_deactivated_accounts_the_group_lists() {
        assert_eq!(
            with_joiners(&roster(), &[change("U4"), change("U4")]),
            ["U1", "U3", "U4"]
        );
        assert_eq!(
            without_leavers(roster().ids(), roster().left_out(), &[change("U3")], "S1").unwrap(),
            ["U1"]
        );
    }

    #[test]
    fn removing_the_last_person_is_refused_saying_what_would_be_left_and_what_to_do() {
        let roster = roster();
        let leaving = [change("U1"), change("U3")];
        let error = without_leavers(roster.ids(), roster.left_out(), &leaving, "S1").unwrap_err();
        let Error::Other(message) = error else {
            panic!("{error:?}")
        };
        assert!(
            message.starts_with(
                "Slack does not allow an empty user group: removing these would leave S1 with no \
                 members (2 bot, guest or deactivated account(s) it lists do not count"
            ),
            "{message}"
        );
        assert!(message.contains("so nothing was removed"), "{message}");
        assert!(message.contains("usergroups.disable"), "{message}");
    }
}
