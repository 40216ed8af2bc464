//! The `tfc-organization` adapter: the memberships of an HCP Terraform (or
//! Terraform Enterprise) organisation, as emails.
//!
//! Organization Memberships API: `GET /organizations/{name}/organization-memberships`
//! (every page, `include=user`) to read, active and invited memberships
//! alike; `POST` there to invite, `DELETE /organization-memberships/{id}`
//! to remove, one request per person, `concurrency` at a time. Newcomers
//! are invited onto the teams named in `teams`, if any.

use allsync_sdk::{Adapter, Config, ConfigKey, Error, Info, Ledger, Outcome, Rejected, export};
use tfc_api::{Roster, Tfc, Verdict};

struct Organization {
    tfc: Tfc,
    /// The names of the teams newcomers are invited onto.
    invite_onto: Vec<String>,
    /// Their IDs, once looked up.
    invite_team_ids: Option<Vec<String>>,
    /// The memberships as the last `get` found them, and changed since.
    roster: Roster,
    /// Whether they have been read.
    read: bool,
    /// The membership IDs this run added and removed.
    ledger: Ledger,
}

/// One membership to remove: the email asked for, and the membership's ID.
struct Leaver {
    email: String,
    id: String,
}

impl Adapter for Organization {
    fn describe() -> Info {
        tfc_api::describe(
            Info::new(
                "tfc-organization",
                env!("CARGO_PKG_VERSION"),
                "The members of an HCP Terraform organization, active and invited (token: the \
                 organization token or the owners team's)",
            )
            .key(ConfigKey::optional(
                "teams",
                "team names, comma-separated, that invited newcomers join (default: none)",
            )),
        )
    }

    fn init(config: Config) -> Result<Self, Error> {
        Ok(Organization {
            tfc: Tfc::from_config(&config)?,
            invite_onto: config.list("teams").into_iter().map(String::from).collect(),
            invite_team_ids: None,
            roster: Roster::default(),
            read: false,
            ledger: Ledger::new(),
        })
    }

    fn get(&mut self) -> Result<Vec<String>, Error> {
        self.roster = self.tfc.memberships()?;
        self.read = true;
        Ok(self.roster.emails())
    }

    fn add(&mut self, things: Vec<String>) -> Result<Vec<Rejected>, Error> {
        self.read_once()?;
        let mut outcome = Outcome::new();
        let newcomers = self.newcomers(things, &mut outcome);
        if !newcomers.is_empty() {
            let team_ids = self.invite_team_ids()?;
            self.tfc.invite(
                newcomers,
                &team_ids,
                &mut self.roster,
                &mut self.ledger,
                &mut outcome,
            );
        }
        outcome.finish()
    }

    fn remove(&mut self, things: Vec<String>) -> Result<Vec<Rejected>, Error> {
        self.read_once()?;
        let mut outcome = Outcome::new();
        let leavers = self.leavers(things, &mut outcome);
        self.delete(leavers, &mut outcome);
        outcome.finish()
    }
}

impl Organization {
    /// Reads the memberships unless `get` has.
    fn read_once(&mut self) -> Result<(), Error> {
        if !self.read {
            self.get()?;
        }
        Ok(())
    }

    /// The emails to invite: those with no membership yet. A member already
    /// (active or invited, whatever the case of the email) is applied,
    /// unless this run removed that membership under another spelling.
    fn newcomers(&mut self, things: Vec<String>, outcome: &mut Outcome) -> Vec<String> {
        let mut newcomers = Vec::new();
        for email in things {
            let Some(member) = self.roster.find(&email) else {
                newcomers.push(email);
                continue;
            };
            let id = member.id.clone();
            match self.ledger.refuse_add(&id, &email) {
                Some(why) => outcome.reject(email, why),
                None => {
                    self.ledger.added(id, &email);
                    outcome.applied();
                }
            }
        }
        newcomers
    }

    /// The memberships to delete. An email with none has nothing to remove
    /// (applied); a membership this run added under another spelling is
    /// not removed (rejected, saying why).
    fn leavers(&mut self, things: Vec<String>, outcome: &mut Outcome) -> Vec<Leaver> {
        let mut leavers = Vec::new();
        for email in things {
            let Some(member) = self.roster.find(&email) else {
                outcome.applied();
                continue;
            };
            let id = member.id.clone();
            match self.ledger.refuse_remove(&id, &email) {
                Some(why) => outcome.reject(email, why),
                None => leavers.push(Leaver { email, id }),
            }
        }
        leavers
    }

    /// Deletes each of `leavers`' memberships, `concurrency` at a time. A
    /// removal the API refuses for that person (403: "you cannot remove
    /// yourself from organizations which you own"; 404: gone already, or
    /// not the token's to remove; 422) is rejected on its own.
    fn delete(&mut self, leavers: Vec<Leaver>, outcome: &mut Outcome) {
        let requests = leavers
            .iter()
            .map(|leaver| {
                self.tfc
                    .delete(&format!("/organization-memberships/{}", leaver.id))
            })
            .collect();
        for (leaver, response) in leavers.into_iter().zip(self.tfc.send_all(requests)) {
            let what = format!(
                "remove {} ({}) from organization {}",
                leaver.email,
                leaver.id,
                self.tfc.organization()
            );
            let verdict = Verdict::of(response, &what, &[403, 404, 422]);
            if verdict.settle(leaver.email.clone(), outcome).is_some() {
                self.ledger.removed(&leaver.id, &leaver.email);
                self.roster.remove(&leaver.email);
            }
        }
    }

    /// The IDs of the teams named in `teams`, looked up once.
    fn invite_team_ids(&mut self) -> Result<Vec<String>, Error> {
        if let Some(ids) = &self.invite_team_ids {
            return Ok(ids.clone());
        }
        let ids = match self.invite_onto.is_empty() {
            true => Vec::new(),
            false => self.look_up_teams()?,
        };
        self.invite_team_ids = Some(ids.clone());
        Ok(ids)
    }

    fn look_up_teams(&self) -> Result<Vec<String>, Error> {
        let teams = self.tfc.teams()?;
        self.invite_onto
            .iter()
            .map(|name| match tfc_api::teams::find(&teams, name) {
                Some(team) => Ok(team.id.clone()),
                None => Err(Error::InvalidConfig(format!(
                    "config key `teams` names `{name}`, which is not a team of organization {} \
                     (names are compared exactly, case included); nobody was invited",
                    self.tfc.organization()
                ))),
            })
            .collect()
    }
}

export!(Organization);

#[cfg(test)]
mod tests {
    use super::*;
    use tfc_api::Membership;

    /// An instance that has read one membership, Bob's, spelt Bob@Example.com.
    fn with_bob() -> Organization {
        let config = [("token", "tfc-test-token"), ("organization", "acme")]
            .map(|(key, value)| (key.to_string(), value.to_string()));
        let mut organization = Organization::init(Config::new(config.to_vec())).unwrap();
        organization.roster.insert(Membership {
            id: "ou-1".into(),
            email: "Bob@Example.com".into(),
            invited: true,
            teams: Vec::new(),
        });
        organization.read = true;
        organization
    }

    fn reasons(outcome: Outcome) -> Vec<(String, String)> {
        let rejected = outcome.finish().unwrap();
        rejected.into_iter().map(|r| (r.thing, r.reason)).collect()
    }

    #[test]
    fn only_emails_with_no_membership_are_invited_whatever_their_case() {
        let mut organization = with_bob();
        let mut outcome = Outcome::new();
        let things = vec!["bob@example.com".to_string(), "dan@example.com".to_string()];
        assert_eq!(
            organization.newcomers(things, &mut outcome),
            ["dan@example.com"],
            "Bob's invitation is a membership already"
        );
        assert!(reasons(outcome).is_empty());
    }

    #[test]
    fn a_membership_found_for_one_spelling_is_not_removed_for_another_in_the_same_run() {
        let mut organization = with_bob();
        let mut outcome = Outcome::new();
        organization.newcomers(vec!["BOB@example.com".into()], &mut outcome);
        let leaving = organization.leavers(vec!["Bob@Example.com".into()], &mut outcome);
        assert!(leaving.is_empty());
        let rejected = reasons(outcome);
        assert_eq!(rejected[0].0, "Bob@Example.com");
        assert!(
            rejected[0]
                .1
                .contains("is account ou-1, which this run already added"),
            "{rejected:?}"
        );
    }

    #[test]
    fn an_email_with_no_membership_has_nothing_to_remove() {
        let mut organization = with_bob();
        let mut outcome = Outcome::new();
        let leaving = organization.leavers(
            vec!["gone@example.com".into(), "BOB@example.com".into()],
            &mut outcome,
        );
        assert_eq!(leaving.len(), 1);
        assert_eq!(
            (leaving[0].id.as_str(), leaving[0].email.as_str()),
            ("ou-1", "BOB@example.com")
        );
        assert!(reasons(outcome).is_empty());
    }
}
