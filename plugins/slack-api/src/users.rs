//! Slack users (https://api.slack.com/types/user), what kind of account
//! each is, and which kinds a user group or a channel can hold.

use serde::Deserialize;

/// Slackbot's user ID: a bot, though `users.info` does not say `is_bot`.
const SLACKBOT: &str = "USLACKBOT";

/// A Slack user, as `users.info` and `users.lookupByEmail` describe it.
#[derive(Debug, Clone, Deserialize)]
pub struct User {
    /// The user ID, e.g. `U012AB3CD`.
    pub id: String,
    #[serde(default)]
    is_bot: bool,
    #[serde(default)]
    deleted: bool,
    #[serde(default)]
    is_restricted: bool,
    #[serde(default)]
    is_ultra_restricted: bool,
    #[serde(default)]
    profile: Profile,
}

#[derive(Debug, Clone, Default, Deserialize)]
struct Profile {
    email: Option<String>,
}

/// What kind of account a user is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A full, active member of the workspace.
    Person,
    /// An active guest: `is_restricted` (multi-channel) or
    /// `is_ultra_restricted` (single-channel).
    Guest,
    /// A bot user, or Slackbot.
    Bot,
    /// A deactivated account (`deleted`), whatever it was.
    Deactivated,
}

impl User {
    /// What kind of account this is; a deactivated bot counts as a bot.
    pub fn kind(&self) -> Kind {
        if self.is_bot || self.id == SLACKBOT {
            Kind::Bot
        } else if self.deleted {
            Kind::Deactivated
        } else if self.is_restricted || self.is_ultra_restricted {
            Kind::Guest
        } else {
            Kind::Person
        }
    }

    /// The email on the user's profile, as Slack spells it, if it shows one.
    pub fn email(&self) -> Option<&str> {
        self.profile
            .email
            .as_deref()
            .map(str::trim)
            .filter(|email| !email.is_empty())
    }
}

/// Which kinds of account a list can hold, and why it refuses the others.
#[derive(Debug, Clone, Copy)]
pub struct Admission {
    /// The list, for messages: "a user group", "a channel".
    pub list: &'static str,
    /// Whether guests can be members.
    pub guests: bool,
    /// Why bots are refused.
    pub bots: &'static str,
}

impl Admission {
    /// Whether `user` can be a member.
    pub fn admits(&self, user: &User) -> bool {
        self.refusal(user).is_none()
    }

    /// Why `user` cannot be a member, and what to do; `None` if it can.
    pub fn refusal(&self, user: &User) -> Option<String> {
        let id = &user.id;
        match user.kind() {
            Kind::Person => None,
            Kind::Guest if self.guests => None,
            Kind::Guest => Some(format!(
                "Slack user {id} is a guest, and Slack does not allow guests in {}: make them a \
                 full member in Slack, or take them out of the source",
                self.list
            )),
            Kind::Bot => Some(format!(
                "Slack user {id} is a bot: {}; take it out of the source, or list it in the \
                 destination's `ignore`",
                self.bots
            )),
            Kind::Deactivated => Some(format!(
                "Slack user {id} is deactivated: reactivate the account in Slack, or take it out \
                 of the source"
            )),
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use serde_json::json;

    /// A user as Slack describes one: `flags` are the user object's boolean
    /// fields that are true (`is_bot`, `deleted`, `is_restricted`, ...).
    pub(crate) fn user(id: &str, email: &str, flags: &[&str]) -> User {
        let mut user = json!({ "id": id, "profile": { "email": email } });
        for flag in flags {
            user[*flag] = json!(true);
        }
        serde_json::from_value(user).unwrap()
    }

    pub(crate) const USER_GROUP: Admission = Admission {
        list: "a user group",
        guests: false,
        bots: "Slack does not allow bots in user groups",
    };

    #[test]
    fn accounts_are_told_apart_by_the_user_objects_flags() {
        assert_eq!(user("U1", "a@x.com", &[]).kind(), Kind::Person);
        assert_eq!(user("U2", "b@x.com", &["is_bot"]).kind(), Kind::Bot);
        assert_eq!(user(SLACKBOT, "", &[]).kind(), Kind::Bot);
        assert_eq!(
            user("U3", "c@x.com", &["is_bot", "deleted"]).kind(),
            Kind::Bot
        );
        assert_eq!(
            user("U4", "d@x.com", &["deleted"]).kind(),
            Kind::Deactivated
        );
        assert_eq!(
            user("U5", "e@x.com", &["is_restricted"]).kind(),
            Kind::Guest
        );
        assert_eq!(
            user("U6", "f@x.com", &["is_restricted", "is_ultra_restricted"]).kind(),
            Kind::Guest
        );
        assert_eq!(user("U7", " ", &[]).email(), None, "no email shown");
    }

    #[test]
    fn a_user_group_refuses_bots_guests_and_deactivated_accounts_saying_why() {
        assert!(USER_GROUP.admits(&user("U1", "a@x.com", &[])));
        let bot = USER_GROUP
            .refusal(&user("U2", "b@x.com", &["is_bot"]))
            .unwrap();
        assert!(
            bot.starts_with("Slack user U2 is a bot: Slack does not allow bots"),
            "{bot}"
        );
        let guest = USER_GROUP
            .refusal(&user("U3", "c@x.com", &["is_restricted"]))
            .unwrap();
        assert!(
            guest.contains("does not allow guests in a user group"),
            "{guest}"
        );
        let gone = USER_GROUP
            .refusal(&user("U4", "d@x.com", &["deleted"]))
            .unwrap();
        assert!(gone.contains("is deactivated: reactivate"), "{gone}");
    }

    #[test]
    fn a_list_that_takes_guests_admits_them() {
        let channel = Admission {
            guests: true,
            ..USER_GROUP
        };
        assert!(channel.admits(&user("U3", "c@x.com", &["is_ultra_restricted"])));
        assert!(!channel.admits(&user("U2", "b@x.com", &["is_bot"])));
    }
}
