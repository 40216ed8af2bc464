//! The organisation's teams
//! (https://developer.hashicorp.com/terraform/cloud-docs/api-docs/teams):
//! `GET /organizations/{name}/teams`, every page. A team is named by "letters,
//! numbers, `-`, and `_`", "unique in the organization", and names are
//! compared exactly, case included, as HCP Terraform matches them ("This
//! match is case sensitive", of team names in SAML assertions).

use crate::Tfc;
use crate::document::{Page, Resource};
use allsync_sdk::Error;

/// The name of the team every organisation has, which "can't be deleted
/// and can't be empty".
pub const OWNERS: &str = "owners";

/// One team of the organisation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Team {
    /// Its ID, e.g. `team-6p5jTwJQXwqZBncC`.
    pub id: String,
    /// Its name, as the API spells it.
    pub name: String,
}

impl Team {
    /// The team `resource` describes, if it has a name.
    pub fn from_resource(resource: &Resource) -> Option<Self> {
        Some(Team {
            id: resource.id.clone(),
            name: resource.text("name")?.to_string(),
        })
    }
}

impl Tfc {
    /// Every team of the organisation the token may see, in the API's order.
    pub fn teams(&self) -> Result<Vec<Team>, Error> {
        let what = format!("list the teams of organization {}", self.organization());
        let pages = self.pages(&self.organization_path("/teams"), "", &what)?;
        Ok(teams_of(&pages))
    }

    /// The team named exactly `name`.
    pub fn team_named(&self, name: &str) -> Result<Team, Error> {
        let teams = self.teams()?;
        find(&teams, name)
            .cloned()
            .ok_or_else(|| Error::NotFound(unknown_team(name, self.organization(), &teams)))
    }
}

/// The teams listed on `pages`.
fn teams_of(pages: &[Page]) -> Vec<Team> {
    pages
        .iter()
        .flat_map(|page| &page.data)
        .filter_map(Team::from_resource)
        .collect()
}

/// The team of `teams` named exactly `name`.
pub fn find<'a>(teams: &'a [Team], name: &str) -> Option<&'a Team> {
    teams.iter().find(|team| team.name == name)
}

/// Why no team is named `name`, and what may be meant instead.
fn unknown_team(name: &str, organization: &str, teams: &[Team]) -> String {
    let mut message =
        format!("organization {organization} has no team named `{name}` that the token may see");
    if let Some(other) = teams
        .iter()
        .find(|team| team.name.eq_ignore_ascii_case(name))
    {
        message.push_str(&format!(
            " (team names are compared exactly: did you mean `{}`?)",
            other.name
        ));
    } else if name == OWNERS {
        message.push_str(
            " (an organization token does not see the owners team: use the owners team's token)",
        );
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn listed() -> Vec<Team> {
        let page: Page = serde_json::from_value(json!({
            "data": [
                { "id": "team-1", "type": "teams", "attributes": { "name": "owners", "users-count": 1 } },
                { "id": "team-2", "type": "teams", "attributes": { "name": "Platform" } },
                { "id": "team-3", "type": "teams", "attributes": {} }
            ]
        }))
        .unwrap();
        teams_of(&[page])
    }

    #[test]
    fn teams_are_found_by_their_exact_name() {
        let teams = listed();
        assert_eq!(teams.len(), 2, "a team without a name is no team to sync");
        assert_eq!(find(&teams, "Platform").unwrap().id, "team-2");
        assert_eq!(find(&teams, "platform"), None);
    }

    #[test]
    fn an_unknown_name_says_what_may_be_meant() {
        assert_eq!(
            unknown_team("platform", "acme", &listed()),
            "organization acme has no team named `platform` that the token may see \
             (team names are compared exactly: did you mean `Platform`?)"
        );
        assert!(unknown_team("owners", "acme", &[]).contains("use the owners team's token"));
        assert_eq!(
            unknown_team("ops", "acme", &listed()),
            "organization acme has no team named `ops` that the token may see"
        );
    }
}
