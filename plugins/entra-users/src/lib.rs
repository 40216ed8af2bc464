//! The `entra-users` adapter, a source: the users of a Microsoft Entra ID
//! tenant matching an OData `$filter`, as emails, as go-sync's azuread
//! user adapter reads them.
//!
//! Microsoft Graph v1.0 `GET /users`, following `@odata.nextLink`, always
//! with the advanced query parameters (`ConsistencyLevel: eventual` on
//! every page, `$count=true`): any filter then works, `ne`, `not` and
//! `endsWith` included, and one supported by default works the same, but
//! eventually consistent (a user made a moment ago may show up on the next
//! run). Disabled accounts are left out unless `include_disabled = true`;
//! guests unless `include_guests = true`; users are synced under the
//! email `match` reads, as the `entra-group` adapter does.

use allsync_sdk::http::encode;
use allsync_sdk::{Adapter, Config, ConfigKey, Error, Info, export};
use entra_api::{
    Accounts, DirectoryObject, Graph, PAGE_SIZE, Query, Standing, Tally, USER_PROPERTIES, email_key,
};
use std::collections::HashSet;

struct EntraUsers {
    graph: Graph,
    /// The `$filter`, if one is set.
    filter: Option<String>,
    accounts: Accounts,
    /// Whether disabled accounts are synced too.
    disabled: bool,
}

impl Adapter for EntraUsers {
    fn describe() -> Info {
        let info = Info::new(
            "entra-users",
            env!("CARGO_PKG_VERSION"),
            "The users of a Microsoft Entra ID tenant matching a filter (Graph: User.Read.All)",
        )
        .key(ConfigKey::optional(
            "filter",
            "an OData $filter on users, e.g. department eq 'Engineering' (default: every user)",
        ))
        .key(ConfigKey::optional(
            "include_disabled",
            "true: disabled accounts (accountEnabled false) too; default false",
        ))
        .read_only();
        entra_api::describe(info)
    }

    fn init(config: Config) -> Result<Self, Error> {
        let filter = config
            .get("filter")
            .map(str::trim)
            .filter(|filter| !filter.is_empty());
        Ok(EntraUsers {
            graph: Graph::from_config(&config, "User.Read.All")?,
            filter: filter.map(String::from),
            accounts: Accounts::from_config(&config)?,
            disabled: config.parse_or("include_disabled", false)?,
        })
    }

    fn get(&mut self) -> Result<Vec<String>, Error> {
        let mut url = self.graph.url(&format!(
            "/users?$select={USER_PROPERTIES}&$top={PAGE_SIZE}&$count=true"
        ));
        if let Some(filter) = &self.filter {
            url.push_str(&format!("&$filter={}", encode(filter)));
        }
        let what = match &self.filter {
            Some(filter) => format!("list the users matching {filter:?}"),
            None => "list the users".to_string(),
        };
        let users = self.graph.list(&url, Query::Advanced, &what)?;
        let (emails, left_alone) = self.sort(&users);
        if let Some(note) = left_alone.summary("user(s) listed") {
            eprintln!("{note}");
        }
        Ok(emails)
    }
}

impl EntraUsers {
    /// The emails of the `users` synced, once each, and what was left alone.
    fn sort(&self, users: &[DirectoryObject]) -> (Vec<String>, Tally) {
        let mut emails = Vec::new();
        let mut seen = HashSet::new();
        let mut left_alone = Tally::default();
        for user in users {
            if user.is_disabled() && !self.disabled {
                left_alone.note("disabled (include_disabled is false)");
                continue;
            }
            match self.accounts.standing(user) {
                Standing::Synced(email) if seen.insert(email_key(email)) => {
                    emails.push(email.to_string())
                }
                Standing::Synced(_) => left_alone.note("user sharing another's email"),
                Standing::LeftAlone(kind) => left_alone.note(kind),
            }
        }
        (emails, left_alone)
    }
}

export!(EntraUsers);

#[cfg(test)]
mod tests {
    use super::*;
    use entra_api::Match;

    fn user(mail: &str, enabled: bool, user_type: &str) -> DirectoryObject {
        DirectoryObject {
            id: mail.into(),
            odata_type: None,
            mail: Some(mail.into()),
            user_principal_name: Some(format!("{id}.upn@corp.example", id = mail.len())),
            user_type: Some(user_type.into()),
            account_enabled: Some(enabled),
        }
    }

    fn adapter(disabled: bool, guests: bool) -> EntraUsers {
        EntraUsers {
            graph: Graph::from_config(&Config::default(), "User.Read.All").unwrap(),
            filter: None,
            accounts: Accounts {
                rule: Match::Mail,
                guests,
            },
            disabled,
        }
    }

    fn users() -> Vec<DirectoryObject> {
        vec![
            user("ada@example.com", true, "Member"),
            user("old@example.com", false, "Member"),
            user("gus@partner.example", true, "Guest"),
            user("Ada@Example.com", true, "Member"),
        ]
    }

    #[test]
    fn disabled_accounts_and_guests_are_left_out_unless_asked_for() {
        let (emails, left_alone) = adapter(false, false).sort(&users());
        assert_eq!(emails, ["ada@example.com"]);
        assert_eq!(
            left_alone.summary("user(s)").as_deref(),
            Some(
                "left alone 3 user(s): 1 disabled (include_disabled is false), \
                 1 guest (include_guests is false), 1 user sharing another's email"
            )
        );
        let (emails, _) = adapter(true, true).sort(&users());
        assert_eq!(
            emails,
            ["ada@example.com", "old@example.com", "gus@partner.example"]
        );
    }
}
