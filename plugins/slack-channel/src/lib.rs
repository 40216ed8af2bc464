//! The `slack-channel` adapter: the members of a Slack conversation
//! (channel), as emails. Bots are never counted nor removed.
//!
//! Slack Web API: `conversations.members` (cursor pagination) and
//! `users.info` to read; `users.lookupByEmail` to map emails to users;
//! `conversations.invite` (up to 1000 users per call) and
//! `conversations.kick` (one user per call) to change.

use allsync_sdk::{Adapter, Config, ConfigKey, Error, Info, Rejected, export};
use serde::Deserialize;
use slack_api::Slack;
use std::collections::HashMap;

/// The most users `conversations.invite` takes in one call.
const INVITE_BATCH: usize = 1000;

struct Channel {
    slack: Slack,
    channel: String,
    /// Lower-case email to user ID of the members seen by `get`.
    known: HashMap<String, String>,
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

#[derive(Deserialize)]
struct Invited {
    #[serde(default)]
    errors: Vec<InviteError>,
}

#[derive(Deserialize)]
struct InviteError {
    user: String,
    error: String,
}

impl Adapter for Channel {
    fn describe() -> Info {
        slack_api::describe(
            Info::new(
                "slack-channel",
                env!("CARGO_PKG_VERSION"),
                "The members of a Slack channel, bots left out (scopes: channels:read, channels:manage, \
                 groups:read, groups:write, users:read, users:read.email)",
            )
            .key(ConfigKey::required("channel", "the channel's ID, e.g. C0123ABCD")),
        )
    }

    fn init(config: Config) -> Result<Self, Error> {
        Ok(Channel {
            slack: Slack::from_config(&config)?,
            channel: config.require("channel")?.to_string(),
            known: HashMap::new(),
        })
    }

    fn get(&mut self) -> Result<Vec<String>, Error> {
        let emails = self.slack.emails(&self.members()?)?;
        self.known = emails.ids;
        Ok(emails.spelt)
    }

    fn add(&mut self, things: Vec<String>) -> Result<Vec<Rejected>, Error> {
        let slack_api::Lookup {
            found: users,
            unknown,
        } = self.slack.lookup_all(&things)?;
        let mut rejected: Vec<Rejected> = unknown
            .into_iter()
            .map(|email| Rejected::new(email, "no Slack user has this email"))
            .collect();
        let email_of = |id: &str| {
            users
                .iter()
                .find(|(_, user)| user.id == id)
                .map(|(email, _)| email.clone())
        };
        let ids: Vec<String> = users
            .iter()
            .filter(|(_, user)| !user.is_bot())
            .map(|(_, user)| user.id.clone())
            .collect();
        for batch in ids.chunks(INVITE_BATCH) {
            let users = batch.join(",");
            let invited: Invited = self.slack.write(
                "conversations.invite",
                &[
                    ("channel", &self.channel),
                    ("users", &users),
                    ("force", "true"),
                ],
            )?;
            for error in invited
                .errors
                .into_iter()
                .filter(|error| error.error != "already_in_channel")
            {
                let thing = email_of(&error.user).unwrap_or(error.user);
                rejected.push(Rejected::new(
                    thing,
                    format!("Slack refused the invitation: {}", error.error),
                ));
            }
        }
        Ok(rejected)
    }

    fn remove(&mut self, things: Vec<String>) -> Result<Vec<Rejected>, Error> {
        // Members `get` saw need no lookup (bots were never among them).
        let (known, others): (Vec<String>, Vec<String>) = things
            .into_iter()
            .partition(|email| self.known.contains_key(&email.to_lowercase()));
        let slack_api::Lookup { found, unknown } = self.slack.lookup_all(&others)?;
        let mut rejected: Vec<Rejected> = unknown
            .into_iter()
            .map(|email| Rejected::new(email, "no Slack user has this email"))
            .collect();
        let (bots, people): (Vec<_>, Vec<_>) =
            found.into_iter().partition(|(_, user)| user.is_bot());
        rejected.extend(
            bots.into_iter()
                .map(|(email, _)| Rejected::new(email, "bots are never removed")),
        );
        let mut leaving: Vec<(String, String)> = people
            .into_iter()
            .map(|(email, user)| (email, user.id))
            .collect();
        leaving.extend(known.into_iter().map(|email| {
            let id = self.known[&email.to_lowercase()].clone();
            (email, id)
        }));
        let ids: Vec<String> = leaving.iter().map(|(_, id)| id.clone()).collect();
        let kicks = self
            .slack
            .write_each("conversations.kick", ("channel", &self.channel), &ids);
        for ((email, _), kick) in leaving.into_iter().zip(kicks) {
            match kick {
                Ok(()) => {}
                Err(Error::Other(reason)) if reason.ends_with("not_in_channel") => {}
                Err(Error::Other(reason)) => rejected.push(Rejected::new(email, reason)),
                Err(err) => return Err(err),
            }
        }
        Ok(rejected)
    }
}

impl Channel {
    /// Every member ID, following `next_cursor`.
    fn members(&self) -> Result<Vec<String>, Error> {
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
}

export!(Channel);
