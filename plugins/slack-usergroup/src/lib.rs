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
use std::collections::{HashMap, HashSet};

struct UserGroup {
    slack: Slack,
    group: String,
    /// Lower-case email to user ID of the members seen by `get` and `add`.
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
        let emails = self.slack.emails(&self.members()?)?;
        self.known = emails.ids;
        Ok(emails.spelt)
    }

    fn add(&mut self, things: Vec<String>) -> Result<Vec<Rejected>, Error> {
        let slack_api::Lookup { found, unknown } = self.slack.lookup_all(&things)?;
        let mut members = self.members()?;
        let present: HashSet<&String> = members.iter().collect();
        let joining: Vec<(String, String)> = found
            .into_iter()
            .filter(|(_, user)| !user.is_bot() && !present.contains(&user.id))
            .map(|(email, user)| (email.to_lowercase(), user.id))
            .collect();
        if !joining.is_empty() {
            members.extend(joining.iter().map(|(_, id)| id.clone()));
            self.update(&members)?;
            self.known.extend(joining);
        }
        Ok(unknown
            .into_iter()
            .map(|email| Rejected::new(email, "no Slack user has this email"))
            .collect())
    }

    fn remove(&mut self, things: Vec<String>) -> Result<Vec<Rejected>, Error> {
        let members = self.members()?;
        // The members' emails as `get` (and `add`) saw them; read again only
        // if someone else changed the group meanwhile.
        let known: HashSet<&String> = self.known.values().collect();
        if members.iter().any(|id| !known.contains(id)) {
            self.known = self.slack.emails(&members)?.ids;
        }
        let mut rejected = Vec::new();
        let mut leaving = HashSet::new();
        for email in things {
            match self.known.get(&email.to_lowercase()) {
                Some(id) => {
                    leaving.insert(id.clone());
                }
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
