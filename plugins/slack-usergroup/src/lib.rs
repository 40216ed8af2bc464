//! The `slack-usergroup` adapter: the members of a Slack user group, as
//! emails.
//!
//! Slack Web API: `usergroups.users.list` and `users.info` to read;
//! `users.lookupByEmail` to map emails to users; `usergroups.users.update`,
//! which replaces the whole member list, once per `add` or `remove` (never
//! one call per person), and not at all when nothing changes.

use allsync_sdk::{Adapter, Config, ConfigKey, Error, Info, Rejected, export};
use serde::Deserialize;
use slack_api::Slack;
use std::collections::HashMap;

struct UserGroup {
    slack: Slack,
    group: String,
    /// Email to user ID of the members seen by the last `get`.
    known: HashMap<String, String>,
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
                "The members of a Slack user group (scopes: usergroups:read, usergroups:write, users:read, users:read.email)",
            )
            .key(ConfigKey::required("usergroup", "the user group's ID, e.g. S0123ABCD")),
        )
    }

    fn init(config: Config) -> Result<Self, Error> {
        Ok(UserGroup {
            slack: Slack::from_config(&config)?,
            group: config.require("usergroup")?.to_string(),
            known: HashMap::new(),
        })
    }

    fn get(&mut self) -> Result<Vec<String>, Error> {
        let members = self.members()?;
        self.known = self.slack.emails(&members)?;
        Ok(self.known.keys().cloned().collect())
    }

    fn add(&mut self, things: Vec<String>) -> Result<Vec<Rejected>, Error> {
        let slack_api::Lookup {
            found: users,
            unknown,
        } = self.slack.lookup_all(&things)?;
        let mut members = self.members()?;
        let before = members.len();
        for (_, user) in users.into_iter().filter(|(_, user)| !user.is_bot()) {
            if !members.contains(&user.id) {
                members.push(user.id);
            }
        }
        if members.len() != before {
            self.update(&members)?;
        }
        Ok(unknown
            .into_iter()
            .map(|email| Rejected::new(email, "no Slack user has this email"))
            .collect())
    }

    fn remove(&mut self, things: Vec<String>) -> Result<Vec<Rejected>, Error> {
        let members = self.members()?;
        // The members' emails, as `get` saw them (read again only if unknown).
        if self.known.is_empty() || members.iter().any(|id| !self.known.values().any(|known| known == id)) {
            self.known = self.slack.emails(&members)?;
        }
        let by_email = &self.known;
        let mut rejected = Vec::new();
        let mut leaving = Vec::new();
        for email in things {
            match by_email
                .iter()
                .find(|(known, _)| known.eq_ignore_ascii_case(&email))
            {
                Some((_, id)) => leaving.push(id.clone()),
                None => rejected.push(Rejected::new(email, "not a member of the user group")),
            }
        }
        let remaining: Vec<String> = members
            .into_iter()
            .filter(|id| !leaving.contains(id))
            .collect();
        if remaining.is_empty() {
            return Err(Error::Other(format!(
                "Slack does not allow an empty user group: removing these would leave {} with no members \
                 (disable the group in Slack instead, or keep someone in it)",
                self.group
            )));
        }
        if !leaving.is_empty() {
            self.update(&remaining)?;
        }
        Ok(rejected)
    }
}

impl UserGroup {
    fn members(&self) -> Result<Vec<String>, Error> {
        let members: Members = self
            .slack
            .read("usergroups.users.list", &[("usergroup", &self.group)])?;
        Ok(members.users)
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

export!(UserGroup);
