//! Emails resolved to users: one `GET /users?$filter=...` per email (an
//! `eq` filter on the property [`Match`] reads, which Graph supports by
//! default), 20 to a `$batch`. Graph's batching examples write the URLs
//! inside a batch unencoded (`$filter=city eq null`), so only what would
//! end or change the query value (`%`, `&`, `#`, `+`) is escaped there.
//!
//! Graph compares the filter ignoring case; the users it finds are then
//! kept only if the rule really reads that email from them, so an email
//! resolves to the user `get` would list under it, and to no other.

use crate::accounts::{DirectoryObject, Match, email_key};
use crate::{BatchRequest, Graph, Reply, USER_PROPERTIES};
use allsync_sdk::Error;
use serde::Deserialize;

/// What the directory holds for one email.
#[derive(Debug)]
pub enum Found {
    /// The one user synced under it.
    One(DirectoryObject),
    /// The ids of the several users synced under it.
    Several(Vec<String>),
    /// No user is synced under it, and why.
    Nobody(String),
}

#[derive(Deserialize)]
struct Users {
    #[serde(default)]
    value: Vec<DirectoryObject>,
}

impl Graph {
    /// The users each of `emails` belongs to under `rule`, in order.
    pub fn find_users(&self, rule: Match, emails: &[String]) -> Vec<Result<Found, Error>> {
        let requests: Vec<BatchRequest> = emails
            .iter()
            .map(|email| {
                BatchRequest::get(format!(
                    "/users?$filter={}&$select={USER_PROPERTIES}",
                    escape(&rule.filter(email))
                ))
            })
            .collect();
        self.batch(&requests, "look up users by email")
            .into_iter()
            .zip(emails)
            .map(|(reply, email)| self.found(rule, email, reply?))
            .collect()
    }

    fn found(&self, rule: Match, email: &str, reply: Reply) -> Result<Found, Error> {
        let what = format!("look up the user with {} {email}", rule.name());
        if !reply.is_success() {
            return Err(self.failure(&reply, &what));
        }
        let users: Users = reply.json(&what)?;
        Ok(sort(rule, email, users.value))
    }
}

/// `value` as a query value inside a batch: `%`, `&`, `#` and `+`
/// percent-encoded, the rest as it is.
fn escape(value: &str) -> String {
    let mut escaped = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '%' | '&' | '#' | '+' => escaped.push_str(&format!("%{:02X}", c as u32)),
            c => escaped.push(c),
        }
    }
    escaped
}

/// What `candidates` (the users Graph's filter found) come to for `email`.
fn sort(rule: Match, email: &str, candidates: Vec<DirectoryObject>) -> Found {
    let key = email_key(email);
    let (mut synced, others): (Vec<_>, Vec<_>) = candidates
        .into_iter()
        .partition(|user| rule.email_of(user).is_some_and(|own| email_key(own) == key));
    match (synced.len(), others.first()) {
        (1, _) => Found::One(synced.remove(0)),
        (0, None) => Found::Nobody(format!(
            "no user in the directory has {} {email}",
            rule.name()
        )),
        (0, Some(other)) => Found::Nobody(format!(
            "{email} belongs to user {}, who is synced as {} under match = {}: use that in the source",
            other.id,
            rule.email_of(other).unwrap_or("nothing (no usable email)"),
            rule.name()
        )),
        _ => Found::Several(synced.into_iter().map(|user| user.id).collect()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(id: &str, mail: Option<&str>, upn: &str) -> DirectoryObject {
        DirectoryObject {
            id: id.into(),
            mail: mail.map(String::from),
            user_principal_name: Some(upn.into()),
            ..DirectoryObject::default()
        }
    }

    #[test]
    fn a_filter_in_a_batch_escapes_only_what_would_break_its_query() {
        assert_eq!(
            escape(&Match::Mail.filter("a+b&c#d%@example.com")),
            "mail eq 'a%2Bb%26c%23d%25@example.com'"
        );
    }

    #[test]
    fn an_email_resolves_to_the_one_user_synced_under_it_whatever_its_case() {
        let found = sort(
            Match::Mail,
            "ADA@example.com",
            vec![user("u1", Some("ada@example.com"), "ada@corp")],
        );
        assert!(matches!(found, Found::One(user) if user.id == "u1"));
    }

    #[test]
    fn an_email_a_user_is_not_synced_under_resolves_to_nobody_and_says_what_is() {
        let rule = Match::MailThenUserPrincipalName;
        let found = sort(
            rule,
            "ada@corp.example",
            vec![user("u1", Some("ada@example.com"), "ada@corp.example")],
        );
        assert!(
            matches!(&found, Found::Nobody(why)
            if why == "ada@corp.example belongs to user u1, who is synced as ada@example.com \
                       under match = mail,userPrincipalName: use that in the source"),
            "{found:?}"
        );
        let found = sort(Match::Mail, "eve@example.com", Vec::new());
        assert!(
            matches!(found, Found::Nobody(why) if why == "no user in the directory has mail eve@example.com")
        );
    }

    #[test]
    fn an_email_shared_by_several_users_names_them_all() {
        let found = sort(
            Match::Mail,
            "team@example.com",
            vec![
                user("u1", Some("team@example.com"), "a@corp"),
                user("u2", Some("Team@example.com"), "b@corp"),
            ],
        );
        assert!(matches!(found, Found::Several(ids) if ids == ["u1", "u2"]));
    }
}
