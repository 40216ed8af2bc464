//! Users (RFC 7643 §4.1) and the attribute that makes each one a thing:
//! its `userName`, or its primary email.

use crate::scim::{ListResponse, checked, eq_filter};
use allsync_sdk::Error;
use allsync_sdk::http::Response;
use serde::Deserialize;

/// A User resource, as far as this adapter reads it.
#[derive(Debug, Clone, Deserialize)]
pub struct User {
    pub id: String,
    #[serde(rename = "userName")]
    pub user_name: Option<String>,
    pub emails: Option<Vec<Email>>,
    /// The groups the user is in, where the service says (AWS does not).
    pub groups: Option<Vec<GroupRef>>,
}

/// One of a user's emails.
#[derive(Debug, Clone, Deserialize)]
pub struct Email {
    pub value: Option<String>,
    pub primary: Option<bool>,
}

/// One of the groups a user is in (RFC 7643 §4.1.2: `type` is "direct",
/// or "indirect" for a membership through a nested group).
#[derive(Debug, Clone, Deserialize)]
pub struct GroupRef {
    pub value: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<String>,
}

/// How a user listed as a member of a group is in it, by its `groups`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Belonging {
    /// A member in its own right (or the user does not say otherwise).
    Direct,
    /// A member only through a nested group.
    Indirect,
    /// Its `groups` does not name the group at all.
    NotListed,
}

impl User {
    /// How this user is in group `group_id`. A user with no `groups`
    /// (AWS IAM Identity Center returns none) is taken at its word: the
    /// service listed it as a member.
    pub fn belonging(&self, group_id: &str) -> Belonging {
        let groups = self.groups.as_deref().unwrap_or_default();
        if groups.is_empty() {
            return Belonging::Direct;
        }
        let mut listed = groups
            .iter()
            .filter(|group| group.value.as_deref() == Some(group_id))
            .peekable();
        if listed.peek().is_none() {
            return Belonging::NotListed;
        }
        let indirect = |group: &GroupRef| {
            group
                .kind
                .as_deref()
                .is_some_and(|kind| kind.eq_ignore_ascii_case("indirect"))
        };
        match listed.all(indirect) {
            true => Belonging::Indirect,
            false => Belonging::Direct,
        }
    }
}

/// What a thing is to the service: which attribute of a user it names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserAttribute {
    /// The user's `userName`, unique per service (RFC 7643 §4.1.1).
    UserName,
    /// The user's primary email (else its first), from `emails`.
    Emails,
}

/// Who a thing to add turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    /// The user, by id.
    User(String),
    /// Nobody this adapter can add, and why.
    Unknown(String),
}

impl UserAttribute {
    /// The attribute `value` (`user_attribute` in the config) names.
    pub fn from_config(value: &str) -> Result<Self, Error> {
        match value.trim().to_ascii_lowercase().as_str() {
            "username" => Ok(UserAttribute::UserName),
            "emails" => Ok(UserAttribute::Emails),
            _ => Err(Error::InvalidConfig(format!(
                "config key `user_attribute` is `{value}`: use `userName` (the default) or `emails`"
            ))),
        }
    }

    /// The thing `user` is, trimmed, if it has one.
    pub fn thing_of<'u>(&self, user: &'u User) -> Option<&'u str> {
        let value = match self {
            UserAttribute::UserName => user.user_name.as_deref(),
            UserAttribute::Emails => primary_email(user),
        };
        value.map(str::trim).filter(|value| !value.is_empty())
    }

    /// The query part finding the user who is `thing`.
    pub fn filter(&self, thing: &str) -> String {
        let path = match self {
            UserAttribute::UserName => "userName",
            UserAttribute::Emails => "emails.value",
        };
        eq_filter(path, thing)
    }

    /// What the attribute is called in messages: "userName", "email".
    pub fn noun(&self) -> &'static str {
        match self {
            UserAttribute::UserName => "userName",
            UserAttribute::Emails => "email",
        }
    }

    /// Who `thing` is, by the answer to its lookup. No match (an empty
    /// list, or 404 as services built to Okta's guide may answer) is an
    /// unknown user; the matches are checked here too, case-insensitively,
    /// so a service that ignored the filter adds nobody by mistake.
    pub fn found(&self, thing: &str, response: Result<Response, Error>) -> Result<Found, Error> {
        let response = response?;
        if response.status == 404 {
            return Ok(Found::Unknown(self.nobody(thing)));
        }
        let what = format!("find the user whose {} is {thing}", self.noun());
        let page: ListResponse<User> = checked(response, &what)
            .map_err(|error| self.hint(error))?
            .json()?;
        let candidates = page.resources.unwrap_or_default();
        let matching: Vec<&User> = candidates
            .iter()
            .filter(|user| self.thing_of(user).is_some_and(|value| same(value, thing)))
            .collect();
        Ok(match matching.as_slice() {
            [user] => Found::User(user.id.clone()),
            [] => Found::Unknown(self.mismatch(thing, &candidates)),
            many => Found::Unknown(format!(
                "{} users have {} {thing} (ids {}): the adapter cannot tell which to add",
                many.len(),
                self.noun(),
                many.iter()
                    .map(|user| user.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        })
    }

    fn nobody(&self, thing: &str) -> String {
        format!("no user has {} {thing}", self.noun())
    }

    /// Why none of the users the lookup answered is `thing`.
    fn mismatch(&self, thing: &str, candidates: &[User]) -> String {
        let by_other_email = candidates.iter().find_map(|user| {
            let listed = user
                .emails
                .as_deref()
                .unwrap_or_default()
                .iter()
                .any(|email| {
                    email
                        .value
                        .as_deref()
                        .is_some_and(|value| same(value.trim(), thing))
                });
            let primary = self.thing_of(user).filter(|_| listed)?;
            Some((user, primary))
        });
        match (self, by_other_email) {
            (UserAttribute::Emails, Some((user, primary))) => format!(
                "{thing} is not the primary email of its user (id {}), which is {primary}: \
                 put {primary} in the source",
                user.id
            ),
            _ => self.nobody(thing),
        }
    }

    /// `error` with what to do when the service refused to filter by email.
    fn hint(&self, error: Error) -> Error {
        match (self, error) {
            (UserAttribute::Emails, Error::Other(message)) if message.contains("HTTP 400") => {
                Error::Other(format!(
                    "{message} (this service may not filter users by email, as AWS IAM Identity \
                     Center does not: set `user_attribute = \"userName\"`)"
                ))
            }
            (_, error) => error,
        }
    }
}

/// The email a user is known by: the one marked primary, else the first.
fn primary_email(user: &User) -> Option<&str> {
    let emails = user.emails.as_deref().unwrap_or_default();
    emails
        .iter()
        .find(|email| email.primary == Some(true))
        .or_else(|| emails.first())
        .and_then(|email| email.value.as_deref())
}

/// Whether two things are one, ignoring case (userName is not case-exact,
/// RFC 7643 §4.1.1, and emails compare case-insensitively).
pub fn same(a: &str, b: &str) -> bool {
    a.to_lowercase() == b.to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scim::tests::answer;
    use serde_json::json;

    fn user(value: serde_json::Value) -> User {
        serde_json::from_value(value).unwrap()
    }

    fn list(users: serde_json::Value) -> Result<Response, Error> {
        let body = json!({ "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"], "totalResults": users.as_array().unwrap().len(), "Resources": users });
        Ok(answer(200, &body.to_string()))
    }

    #[test]
    fn a_user_is_its_username_or_its_primary_email() {
        let ann = user(json!({
            "id": "u1", "userName": " ann ",
            "emails": [{ "value": "ann@home.example" }, { "value": "Ann@Corp.example", "primary": true }]
        }));
        assert_eq!(UserAttribute::UserName.thing_of(&ann), Some("ann"));
        assert_eq!(
            UserAttribute::Emails.thing_of(&ann),
            Some("Ann@Corp.example")
        );
        let first = user(
            json!({ "id": "u2", "emails": [{ "value": "bob@x.example" }, { "value": "b@x.example" }] }),
        );
        assert_eq!(
            UserAttribute::Emails.thing_of(&first),
            Some("bob@x.example")
        );
        assert_eq!(UserAttribute::UserName.thing_of(&first), None);
        let nothing = user(json!({ "id": "u3", "userName": "  ", "emails": null }));
        assert_eq!(UserAttribute::UserName.thing_of(&nothing), None);
        assert_eq!(UserAttribute::Emails.thing_of(&nothing), None);
    }

    #[test]
    fn user_attribute_takes_username_or_emails_in_any_case() {
        assert_eq!(
            UserAttribute::from_config("userName").unwrap(),
            UserAttribute::UserName
        );
        assert_eq!(
            UserAttribute::from_config("Emails").unwrap(),
            UserAttribute::Emails
        );
        assert!(matches!(
            UserAttribute::from_config("externalId"),
            Err(Error::InvalidConfig(m)) if m.contains("`externalId`")
        ));
    }

    #[test]
    fn a_lookup_finds_exactly_one_user_ignoring_case() {
        let found = UserAttribute::UserName.found(
            "ANN@example.com",
            list(json!([{ "id": "u1", "userName": "ann@example.com" }])),
        );
        assert_eq!(found.unwrap(), Found::User("u1".into()));
        for nobody in [
            list(json!([])),
            Ok(answer(404, r#"{"detail":"User not found"}"#)),
        ] {
            assert_eq!(
                UserAttribute::UserName
                    .found("eve@example.com", nobody)
                    .unwrap(),
                Found::Unknown("no user has userName eve@example.com".into())
            );
        }
    }

    #[test]
    fn a_service_that_ignores_the_filter_adds_nobody_by_mistake() {
        let everyone =
            list(json!([{ "id": "u1", "userName": "ann" }, { "id": "u2", "userName": "bob" }]));
        assert!(matches!(
            UserAttribute::UserName.found("cy", everyone).unwrap(),
            Found::Unknown(_)
        ));
    }

    #[test]
    fn two_users_with_one_email_are_refused_naming_both() {
        let twins = list(json!([
            { "id": "u1", "emails": [{ "value": "team@x.example" }] },
            { "id": "u2", "emails": [{ "value": "TEAM@x.example" }] }
        ]));
        let Found::Unknown(why) = UserAttribute::Emails
            .found("team@x.example", twins)
            .unwrap()
        else {
            panic!("two users cannot be one thing");
        };
        assert!(
            why.starts_with("2 users have email team@x.example (ids u1, u2)"),
            "{why}"
        );
    }

    #[test]
    fn a_secondary_email_is_refused_naming_the_primary_one() {
        let ann = list(json!([{ "id": "u1", "emails": [
            { "value": "ann@corp.example", "primary": true }, { "value": "ann@home.example" }
        ] }]));
        let Found::Unknown(why) = UserAttribute::Emails
            .found("ann@home.example", ann)
            .unwrap()
        else {
            panic!("a secondary email is not the user's thing");
        };
        assert!(
            why.contains("is not the primary email of its user (id u1), which is ann@corp.example"),
            "{why}"
        );
    }

    #[test]
    fn a_service_that_cannot_filter_by_email_says_what_to_set_instead() {
        let refused = Ok(answer(
            400,
            r#"{"detail":"Request is unparsable, syntactically incorrect, or violates schema."}"#,
        ));
        let error = UserAttribute::Emails
            .found("ann@x.example", refused)
            .unwrap_err();
        assert!(
            matches!(error, Error::Other(m) if m.contains("set `user_attribute = \"userName\"`"))
        );
        let unauthorized = Ok(answer(401, "{}"));
        assert!(matches!(
            UserAttribute::UserName.found("ann", unauthorized),
            Err(Error::Unauthorized(_))
        ));
    }

    #[test]
    fn a_member_only_through_a_nested_group_is_told_apart() {
        let direct = user(json!({ "id": "u1", "groups": [{ "value": "g1", "type": "direct" }] }));
        let nested = user(json!({ "id": "u2", "groups": [{ "value": "g1", "type": "indirect" }] }));
        let elsewhere = user(json!({ "id": "u3", "groups": [{ "value": "g2" }] }));
        let silent = user(json!({ "id": "u4" }));
        assert_eq!(direct.belonging("g1"), Belonging::Direct);
        assert_eq!(nested.belonging("g1"), Belonging::Indirect);
        assert_eq!(elsewhere.belonging("g1"), Belonging::NotListed);
        assert_eq!(silent.belonging("g1"), Belonging::Direct);
    }
}
