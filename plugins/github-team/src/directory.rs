//! Which email is which GitHub login: one email per login and one login per
//! email, from the `mapping` config and the organisation's SAML identities.
//!
//! GitHub knows logins; allsync compares emails. `get` reports each team
//! member as one email, so a login with two emails would come back as one
//! or the other and flip in and out of the team: such a table is refused.
//! Emails and logins are compared case-insensitively (GitHub logins are).

use allsync_sdk::Error;
use std::collections::HashMap;

/// Where a pair of the table came from, to say so when it is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// The `mapping` config key.
    Mapping,
    /// The organisation's SAML identities (`saml = true`).
    Saml,
}

impl Origin {
    fn name(self) -> &'static str {
        match self {
            Origin::Mapping => "`mapping`",
            Origin::Saml => "the organisation's SAML identities",
        }
    }

    fn remedy(self) -> &'static str {
        match self {
            Origin::Mapping => "keep one of the two in `mapping`",
            Origin::Saml => {
                "fix the identities in the identity provider, or pin the login's email \
                 with `mapping`, which takes precedence over SAML identities"
            }
        }
    }
}

/// A one-to-one table of emails and logins.
#[derive(Debug, Default)]
pub struct Directory {
    /// Lower-case email to the login, as written.
    logins: HashMap<String, String>,
    /// Lower-case login to the email, as written.
    emails: HashMap<String, String>,
}

impl Directory {
    /// The table of the `email=login` pairs of `mapping`.
    pub fn from_mapping(pairs: &[&str]) -> Result<Self, Error> {
        let mut directory = Directory::default();
        for pair in pairs {
            let (email, login) = split_pair(pair)?;
            directory.insert(email, login, Origin::Mapping)?;
        }
        Ok(directory)
    }

    /// The table of `(email, login)` pairs from `origin`.
    pub fn from_pairs(pairs: &[(String, String)], origin: Origin) -> Result<Self, Error> {
        let mut directory = Directory::default();
        for (email, login) in pairs {
            directory.insert(email, login, origin)?;
        }
        Ok(directory)
    }

    /// Adds the pairs of `other` whose email and login this table does not
    /// know yet: this table takes precedence.
    pub fn extend_under(&mut self, other: Directory) {
        for (email, login) in other.logins {
            let known =
                self.logins.contains_key(&email) || self.emails.contains_key(&login.to_lowercase());
            if !known {
                self.emails.insert(login.to_lowercase(), email.clone());
                self.logins.insert(email, login);
            }
        }
    }

    /// The login of `email`, if known.
    pub fn login_for(&self, email: &str) -> Option<&str> {
        self.logins.get(&email.to_lowercase()).map(String::as_str)
    }

    /// The email of `login`, as written in the table, if known.
    pub fn email_for(&self, login: &str) -> Option<&str> {
        self.emails.get(&login.to_lowercase()).map(String::as_str)
    }

    /// Whether the table holds no pair.
    pub fn is_empty(&self) -> bool {
        self.logins.is_empty()
    }

    fn insert(&mut self, email: &str, login: &str, origin: Origin) -> Result<(), Error> {
        if let Some(known) = self.emails.get(&login.to_lowercase())
            && !known.eq_ignore_ascii_case(email)
        {
            return Err(Error::InvalidConfig(format!(
                "{} gives GitHub login `{login}` two emails, `{known}` and `{email}`: a login \
                 stands for one email, or the team member would flip in and out of the team; {}",
                origin.name(),
                origin.remedy()
            )));
        }
        if let Some(known) = self.logins.get(&email.to_lowercase())
            && !known.eq_ignore_ascii_case(login)
        {
            return Err(Error::InvalidConfig(format!(
                "{} gives email `{email}` two GitHub logins, `{known}` and `{login}`; {}",
                origin.name(),
                origin.remedy()
            )));
        }
        // The first spelling of a pair stays.
        self.emails
            .entry(login.to_lowercase())
            .or_insert_with(|| email.to_string());
        self.logins
            .entry(email.to_lowercase())
            .or_insert_with(|| login.to_string());
        Ok(())
    }
}

/// The email and login of a `mapping` entry `email=login`.
fn split_pair(pair: &str) -> Result<(&str, &str), Error> {
    match pair.split_once('=').map(|(e, l)| (e.trim(), l.trim())) {
        Some((email, login)) if !email.is_empty() && !login.is_empty() => Ok((email, login)),
        _ => Err(Error::InvalidConfig(format!(
            "`mapping` entry `{pair}` is not email=login"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(result: Result<Directory, Error>) -> String {
        match result {
            Err(Error::InvalidConfig(message)) => message,
            other => panic!("expected invalid-config, got {other:?}"),
        }
    }

    #[test]
    fn maps_emails_and_logins_both_ways_whatever_their_case() {
        let directory =
            Directory::from_mapping(&["Ann@Corp.com=Ann", "bob@corp.com = bob"]).unwrap();
        assert_eq!(directory.login_for("ann@corp.com"), Some("Ann"));
        assert_eq!(directory.login_for("ANN@CORP.COM"), Some("Ann"));
        assert_eq!(directory.email_for("ann"), Some("Ann@Corp.com"));
        assert_eq!(directory.email_for("BOB"), Some("bob@corp.com"));
        assert_eq!(directory.login_for("cy@corp.com"), None);
    }

    #[test]
    fn a_login_given_two_emails_is_refused_naming_both() {
        let message = refusal(Directory::from_mapping(&[
            "ann@corp.com=ann",
            "ann.smith@corp.com=Ann",
        ]));
        assert!(
            message.contains(
                "gives GitHub login `Ann` two emails, `ann@corp.com` and `ann.smith@corp.com`"
            ),
            "{message}"
        );
        assert!(
            message.contains("keep one of the two in `mapping`"),
            "{message}"
        );
    }

    #[test]
    fn an_email_given_two_logins_is_refused() {
        let message = refusal(Directory::from_mapping(&[
            "ann@corp.com=ann",
            "ANN@corp.com=ann2",
        ]));
        assert!(
            message.contains("two GitHub logins, `ann` and `ann2`"),
            "{message}"
        );
    }

    #[test]
    fn the_same_pair_twice_in_another_case_is_one_pair() {
        let directory = Directory::from_mapping(&["ann@corp.com=ann", "Ann@Corp.com=ANN"]).unwrap();
        assert_eq!(directory.login_for("ann@corp.com"), Some("ann"));
    }

    #[test]
    fn a_malformed_entry_is_refused() {
        for entry in ["ann@corp.com", "=ann", "ann@corp.com="] {
            let message = refusal(Directory::from_mapping(&[entry]));
            assert!(message.contains("is not email=login"), "{entry}: {message}");
        }
    }

    #[test]
    fn saml_identities_giving_a_login_two_emails_are_refused_with_a_way_out() {
        let pairs = [
            ("ann@corp.com".to_string(), "ann".to_string()),
            ("ann.smith@corp.com".to_string(), "ann".to_string()),
        ];
        let message = refusal(Directory::from_pairs(&pairs, Origin::Saml));
        assert!(
            message.contains("the organisation's SAML identities gives"),
            "{message}"
        );
        assert!(
            message.contains("pin the login's email with `mapping`"),
            "{message}"
        );
    }

    #[test]
    fn the_mapping_takes_precedence_over_saml_identities() {
        let mut directory = Directory::from_mapping(&["ann@corp.com=ann"]).unwrap();
        let saml = [
            ("ann.smith@corp.com", "ann"),
            ("ann@corp.com", "someone-else"),
            ("bob@corp.com", "bob"),
        ]
        .map(|(email, login)| (email.to_string(), login.to_string()));
        let saml = Directory::from_pairs(&saml, Origin::Saml).unwrap();
        directory.extend_under(saml);
        assert_eq!(directory.email_for("ann"), Some("ann@corp.com"));
        assert_eq!(directory.login_for("ann.smith@corp.com"), None);
        assert_eq!(directory.login_for("bob@corp.com"), Some("bob"));
    }
}
