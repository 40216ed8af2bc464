//! The `tfc-teams` adapter: the teams of an HCP Terraform (or Terraform
//! Enterprise) organisation, as team names.
//!
//! Teams API: `GET /organizations/{name}/teams` (every page) to read;
//! `POST` there to create a team (with the API's defaults: secret, no
//! organisation access), `DELETE /teams/{id}` to delete one, one request
//! per team, `concurrency` at a time. Names are compared exactly, case
//! included.
//!
//! The `owners` team is never synced: every organisation has it and it
//! "can't be deleted", so `get` leaves it out (a source without it never
//! fails a sync), and adding or removing it is rejected, saying so.

use allsync_sdk::{Adapter, Config, Error, Info, Outcome, Rejected, export};
use serde_json::json;
use tfc_api::document::Single;
use tfc_api::{OWNERS, Team, Tfc, Verdict};

/// Why the owners team is not synced.
const OWNERS_LEFT_ALONE: &str = "the owners team is every organization's own and cannot be \
     deleted, so tfc-teams never syncs it: take it out of the source, or list it in `ignore`";

struct Teams {
    tfc: Tfc,
    /// The teams as the last `get` found them, and changed since.
    teams: Vec<Team>,
    /// Whether they have been read.
    read: bool,
}

impl Adapter for Teams {
    fn describe() -> Info {
        tfc_api::describe(Info::new(
            "tfc-teams",
            env!("CARGO_PKG_VERSION"),
            "The teams of an HCP Terraform organization, by name, owners aside (token: the \
             organization token or the owners team's)",
        ))
    }

    fn init(config: Config) -> Result<Self, Error> {
        Ok(Teams {
            tfc: Tfc::from_config(&config)?,
            teams: Vec::new(),
            read: false,
        })
    }

    fn get(&mut self) -> Result<Vec<String>, Error> {
        self.teams = self.tfc.teams()?;
        self.read = true;
        Ok(self
            .teams
            .iter()
            .filter(|team| team.name != OWNERS)
            .map(|team| team.name.clone())
            .collect())
    }

    fn add(&mut self, things: Vec<String>) -> Result<Vec<Rejected>, Error> {
        self.read_once()?;
        let mut outcome = Outcome::new();
        let mut creating = Vec::new();
        for name in things {
            if name == OWNERS {
                outcome.reject(name, OWNERS_LEFT_ALONE);
            } else if self.find(&name).is_some() {
                outcome.applied();
            } else {
                creating.push(name);
            }
        }
        self.create(creating, &mut outcome);
        outcome.finish()
    }

    fn remove(&mut self, things: Vec<String>) -> Result<Vec<Rejected>, Error> {
        self.read_once()?;
        let mut outcome = Outcome::new();
        let mut deleting = Vec::new();
        for name in things {
            match self.find(&name) {
                _ if name == OWNERS => outcome.reject(name, OWNERS_LEFT_ALONE),
                None => outcome.applied(),
                Some(team) => deleting.push(team.clone()),
            }
        }
        self.delete(deleting, &mut outcome);
        outcome.finish()
    }
}

impl Teams {
    /// Reads the teams unless `get` has.
    fn read_once(&mut self) -> Result<(), Error> {
        if !self.read {
            self.get()?;
        }
        Ok(())
    }

    fn find(&self, name: &str) -> Option<&Team> {
        tfc_api::teams::find(&self.teams, name)
    }

    /// Creates a team named each of `names`, `concurrency` at a time. A
    /// name the API refuses (422: not letters, numbers, `-` and `_`, or
    /// taken) is rejected on its own.
    fn create(&mut self, names: Vec<String>, outcome: &mut Outcome) {
        let path = self.tfc.organization_path("/teams");
        let requests = names
            .iter()
            .map(|name| {
                let body = json!({ "data": { "type": "teams", "attributes": { "name": name } } });
                self.tfc.post(&path, &body)
            })
            .collect();
        for (name, response) in names.into_iter().zip(self.tfc.send_all(requests)) {
            let what = format!(
                "create team {name} in organization {}",
                self.tfc.organization()
            );
            let Some(answer) = Verdict::of(response, &what, &[422]).settle(name.clone(), outcome)
            else {
                continue;
            };
            match answer.json::<Single>() {
                Ok(created) => self.teams.push(Team {
                    id: created.data.id,
                    name,
                }),
                Err(error) => eprintln!("{what}: done, but {}", allsync_sdk::message(&error)),
            }
        }
    }

    /// Deletes each of `teams`, `concurrency` at a time. A deletion the API
    /// refuses for that team (404: gone already, or not the token's to
    /// delete; 422) is rejected on its own.
    fn delete(&mut self, teams: Vec<Team>, outcome: &mut Outcome) {
        let requests = teams
            .iter()
            .map(|team| self.tfc.delete(&format!("/teams/{}", team.id)))
            .collect();
        for (team, response) in teams.into_iter().zip(self.tfc.send_all(requests)) {
            let what = format!(
                "delete team {} ({}) of organization {}",
                team.name,
                team.id,
                self.tfc.organization()
            );
            let verdict = Verdict::of(response, &what, &[404, 422]);
            if verdict.settle(team.name.clone(), outcome).is_some() {
                self.teams.retain(|known| known.id != team.id);
            }
        }
    }
}

export!(Teams);

#[cfg(test)]
mod tests {
    use super::*;

    /// An instance that has read the teams owners and devs.
    fn teams() -> Teams {
        let config = [("token", "tfc-test-token"), ("organization", "acme")]
            .map(|(key, value)| (key.to_string(), value.to_string()));
        let mut teams = Teams::init(Config::new(config.to_vec())).unwrap();
        teams.teams = [("team-1", OWNERS), ("team-2", "devs")]
            .map(|(id, name)| Team {
                id: id.into(),
                name: name.into(),
            })
            .to_vec();
        teams.read = true;
        teams
    }

    #[test]
    fn the_owners_team_is_never_added_nor_removed_and_the_reason_says_what_to_do() {
        let mut teams = teams();
        for rejected in [
            teams.add(vec![OWNERS.into(), "devs".into()]).unwrap(),
            teams.remove(vec![OWNERS.into(), "gone".into()]).unwrap(),
        ] {
            assert_eq!(
                rejected.len(),
                1,
                "devs is there, gone is not: nothing to do"
            );
            assert_eq!(rejected[0].thing, OWNERS);
            assert_eq!(rejected[0].reason, OWNERS_LEFT_ALONE);
        }
    }

    #[test]
    fn a_team_is_there_only_under_its_exact_name() {
        let teams = teams();
        assert!(teams.find("devs").is_some());
        assert!(teams.find("Devs").is_none());
    }
}
