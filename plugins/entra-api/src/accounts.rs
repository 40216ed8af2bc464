//! Which directory objects are synced, and under which email.
//!
//! A group's members are directory objects of several types (`@odata.type`
//! `#microsoft.graph.user`, `.group`, `.servicePrincipal`, `.device`,
//! `.orgContact`); only users are synced. A user's email is its `mail`, its
//! `userPrincipalName`, or its `mail` falling back to the UPN, as [`Match`]
//! says; a UPN holding `#EXT#` (an invited guest's) is never an email.
//! Guests (`userType` Guest, or a `#EXT#` UPN) are synced only if asked.

use allsync_sdk::Error;
use serde::Deserialize;
use std::collections::BTreeMap;

const USER_TYPE: &str = "#microsoft.graph.user";
/// What marks the UPN of a user invited from another organisation.
const EXTERNAL_UPN: &str = "#EXT#";

/// A user, or another directory object, with the properties read.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DirectoryObject {
    /// The object id.
    pub id: String,
    /// The type, in a collection of several types (absent in `/users`).
    #[serde(rename = "@odata.type")]
    pub odata_type: Option<String>,
    pub mail: Option<String>,
    pub user_principal_name: Option<String>,
    /// `Member` or `Guest`.
    pub user_type: Option<String>,
    pub account_enabled: Option<bool>,
}

impl DirectoryObject {
    /// Whether this is a user.
    pub fn is_user(&self) -> bool {
        self.odata_type
            .as_deref()
            .is_none_or(|kind| kind == USER_TYPE)
    }

    /// Whether this user is a guest: `userType` Guest, or invited from
    /// another organisation (a `#EXT#` UPN).
    pub fn is_guest(&self) -> bool {
        self.user_type
            .as_deref()
            .is_some_and(|kind| kind.eq_ignore_ascii_case("guest"))
            || self.external_upn()
    }

    /// Whether the account is known to be disabled.
    pub fn is_disabled(&self) -> bool {
        self.account_enabled == Some(false)
    }

    fn external_upn(&self) -> bool {
        self.user_principal_name
            .as_deref()
            .is_some_and(|upn| upn.to_ascii_uppercase().contains(EXTERNAL_UPN))
    }

    /// The type without its namespace: `group`, `servicePrincipal`.
    fn kind(&self) -> &str {
        let kind = self.odata_type.as_deref().unwrap_or(USER_TYPE);
        kind.strip_prefix("#microsoft.graph.").unwrap_or(kind)
    }
}

/// Which user property is the email a user is synced under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Match {
    /// `mail`: users without one are left alone.
    Mail,
    /// `userPrincipalName`.
    UserPrincipalName,
    /// `mail`, and the UPN for users without one.
    MailThenUserPrincipalName,
}

impl Match {
    /// The rule the `match` key names: `mail`, `userPrincipalName`, or
    /// `mail,userPrincipalName` (case and spaces aside).
    pub fn parse(value: &str) -> Result<Self, Error> {
        let names: Vec<String> = value
            .split(',')
            .map(|name| name.trim().to_ascii_lowercase())
            .collect();
        match names.iter().map(String::as_str).collect::<Vec<_>>()[..] {
            ["mail"] => Ok(Match::Mail),
            ["userprincipalname"] => Ok(Match::UserPrincipalName),
            ["mail", "userprincipalname"] => Ok(Match::MailThenUserPrincipalName),
            _ => Err(Error::InvalidConfig(format!(
                "match `{value}` is not one of mail, userPrincipalName, mail,userPrincipalName"
            ))),
        }
    }

    /// The rule as the `match` key writes it.
    pub fn name(self) -> &'static str {
        match self {
            Match::Mail => "mail",
            Match::UserPrincipalName => "userPrincipalName",
            Match::MailThenUserPrincipalName => "mail,userPrincipalName",
        }
    }

    /// The email `user` is synced under, if it has one.
    pub fn email_of(self, user: &DirectoryObject) -> Option<&str> {
        let upn = present(&user.user_principal_name).filter(|_| !user.external_upn());
        match self {
            Match::Mail => present(&user.mail),
            Match::UserPrincipalName => upn,
            Match::MailThenUserPrincipalName => present(&user.mail).or(upn),
        }
    }

    /// The OData `$filter` finding the users `email` may belong to.
    pub fn filter(self, email: &str) -> String {
        let literal = format!("'{}'", email.replace('\'', "''"));
        match self {
            Match::Mail => format!("mail eq {literal}"),
            Match::UserPrincipalName => format!("userPrincipalName eq {literal}"),
            Match::MailThenUserPrincipalName => {
                format!("mail eq {literal} or userPrincipalName eq {literal}")
            }
        }
    }
}

/// `value`, trimmed, if it holds anything.
fn present(value: &Option<String>) -> Option<&str> {
    value
        .as_deref()
        .map(str::trim)
        .filter(|value| !value.is_empty())
}

/// Who an instance syncs: users, under the email its rule reads, guests
/// only if asked.
#[derive(Debug, Clone, Copy)]
pub struct Accounts {
    pub rule: Match,
    pub guests: bool,
}

/// What an instance makes of one directory object.
#[derive(Debug, PartialEq, Eq)]
pub enum Standing<'a> {
    /// Synced, under this email.
    Synced(&'a str),
    /// Left alone; the label says which kind, for the log.
    LeftAlone(String),
}

impl Accounts {
    /// The rule and guest policy of the `match` and `include_guests` keys.
    pub fn from_config(config: &allsync_sdk::Config) -> Result<Self, Error> {
        Ok(Accounts {
            rule: Match::parse(config.get_or("match", "mail"))?,
            guests: config.parse_or("include_guests", false)?,
        })
    }

    /// Whether `object` is synced, and under which email.
    pub fn standing<'a>(&self, object: &'a DirectoryObject) -> Standing<'a> {
        if !object.is_user() {
            return Standing::LeftAlone(object.kind().to_string());
        }
        if object.is_guest() && !self.guests {
            return Standing::LeftAlone("guest (include_guests is false)".into());
        }
        match self.rule.email_of(object) {
            Some(email) => Standing::Synced(email),
            None => Standing::LeftAlone(format!("user without {}", self.without())),
        }
    }

    /// Why `user` (a user this instance found for an email) cannot be
    /// synced, if it cannot.
    pub fn refusal(&self, user: &DirectoryObject) -> Option<String> {
        (user.is_guest() && !self.guests).then(|| {
            format!(
                "user {} is a guest account (userType Guest or a #EXT# UPN): set include_guests = true to sync guests",
                user.id
            )
        })
    }

    fn without(&self) -> &'static str {
        match self.rule {
            Match::Mail => "mail (see `match`)",
            Match::UserPrincipalName => "a userPrincipalName of its own",
            Match::MailThenUserPrincipalName => "mail or a userPrincipalName of its own",
        }
    }
}

/// The objects left alone, counted by kind, for one line of log.
#[derive(Debug, Default)]
pub struct Tally {
    counts: BTreeMap<String, usize>,
}

impl Tally {
    /// Counts one object of `kind`.
    pub fn note(&mut self, kind: impl Into<String>) {
        *self.counts.entry(kind.into()).or_default() += 1;
    }

    /// "left alone N <what>: 1 group, 2 guest (...)", if any were left alone.
    pub fn summary(&self, what: &str) -> Option<String> {
        let total: usize = self.counts.values().sum();
        let kinds: Vec<String> = self
            .counts
            .iter()
            .map(|(kind, count)| format!("{count} {kind}"))
            .collect();
        (total > 0).then(|| format!("left alone {total} {what}: {}", kinds.join(", ")))
    }
}

/// `email` as compared: lower case, except where lower-casing would turn
/// a non-ASCII letter into an ASCII one (the Kelvin sign is not a `k`), as
/// allsync itself compares things.
pub fn email_key(email: &str) -> String {
    let mut key = String::with_capacity(email.len());
    for letter in email.chars() {
        let lower: String = letter.to_lowercase().collect();
        match !letter.is_ascii() && lower.is_ascii() {
            true => key.push(letter),
            false => key.push_str(&lower),
        }
    }
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(mail: Option<&str>, upn: &str, user_type: &str) -> DirectoryObject {
        DirectoryObject {
            id: "u1".into(),
            odata_type: Some(USER_TYPE.into()),
            mail: mail.map(String::from),
            user_principal_name: Some(upn.into()),
            user_type: Some(user_type.into()),
            account_enabled: Some(true),
        }
    }

    #[test]
    fn the_match_key_names_a_property_or_mail_falling_back_to_the_upn() {
        assert_eq!(Match::parse("mail").unwrap(), Match::Mail);
        assert_eq!(
            Match::parse("UserPrincipalName").unwrap(),
            Match::UserPrincipalName
        );
        assert_eq!(
            Match::parse(" mail , userPrincipalName ").unwrap(),
            Match::MailThenUserPrincipalName
        );
        assert!(matches!(
            Match::parse("userPrincipalName,mail"),
            Err(Error::InvalidConfig(m)) if m.contains("not one of mail, userPrincipalName")
        ));
        let ann = user(None, "ann@corp.example", "Member");
        assert_eq!(Match::Mail.email_of(&ann), None);
        assert_eq!(
            Match::MailThenUserPrincipalName.email_of(&ann),
            Some("ann@corp.example")
        );
        let bob = user(Some("Bob@example.com"), "bob@corp.example", "Member");
        assert_eq!(
            Match::MailThenUserPrincipalName.email_of(&bob),
            Some("Bob@example.com")
        );
    }

    #[test]
    fn an_invited_guests_upn_is_never_an_email() {
        let guest = user(
            Some("gus@partner.example"),
            "gus_partner.example#EXT#@corp.onmicrosoft.com",
            "Guest",
        );
        assert_eq!(Match::UserPrincipalName.email_of(&guest), None);
        assert_eq!(
            Match::MailThenUserPrincipalName.email_of(&guest),
            Some("gus@partner.example")
        );
        let external_member = user(None, "eve_x.example#ext#@corp.onmicrosoft.com", "Member");
        assert!(external_member.is_guest(), "a #EXT# UPN marks a guest");
    }

    #[test]
    fn only_users_are_synced_and_guests_only_when_asked() {
        let accounts = Accounts {
            rule: Match::Mail,
            guests: false,
        };
        let group = DirectoryObject {
            id: "g2".into(),
            odata_type: Some("#microsoft.graph.group".into()),
            mail: Some("leads@example.com".into()),
            ..DirectoryObject::default()
        };
        assert_eq!(
            accounts.standing(&group),
            Standing::LeftAlone("group".into())
        );
        let guest = user(Some("gus@partner.example"), "gus#EXT#@corp", "Guest");
        assert_eq!(
            accounts.standing(&guest),
            Standing::LeftAlone("guest (include_guests is false)".into())
        );
        assert!(
            accounts
                .refusal(&guest)
                .unwrap()
                .contains("include_guests = true")
        );
        let with_guests = Accounts {
            guests: true,
            ..accounts
        };
        assert_eq!(
            with_guests.standing(&guest),
            Standing::Synced("gus@partner.example")
        );
        assert_eq!(with_guests.refusal(&guest), None);
        let no_mail = user(None, "ann@corp.example", "Member");
        assert_eq!(
            accounts.standing(&no_mail),
            Standing::LeftAlone("user without mail (see `match`)".into())
        );
    }

    #[test]
    fn a_filter_quotes_the_email_as_odata_does() {
        assert_eq!(
            Match::Mail.filter("o'neil@example.com"),
            "mail eq 'o''neil@example.com'"
        );
        assert_eq!(
            Match::MailThenUserPrincipalName.filter("a@x.com"),
            "mail eq 'a@x.com' or userPrincipalName eq 'a@x.com'"
        );
    }

    #[test]
    fn emails_compare_ignoring_case_but_never_through_lookalikes() {
        assert_eq!(email_key("Éva@Example.COM"), "éva@example.com");
        assert_eq!(email_key("\u{212A}en@x.com"), "\u{212A}en@x.com");
        assert_ne!(email_key("\u{212A}en@x.com"), email_key("ken@x.com"));
    }

    #[test]
    fn a_tally_counts_each_kind_once_in_order() {
        let mut tally = Tally::default();
        assert_eq!(tally.summary("members"), None);
        tally.note("servicePrincipal");
        tally.note("group");
        tally.note("group");
        assert_eq!(
            tally.summary("group member(s)").as_deref(),
            Some("left alone 3 group member(s): 2 group, 1 servicePrincipal")
        );
    }
}
