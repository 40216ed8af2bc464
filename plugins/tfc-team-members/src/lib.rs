//! The `tfc-team-members` adapter: the members of an HCP Terraform (or
//! Terraform Enterprise) team, as emails.
//!
//! The team is named in config and found among the organisation's teams
//! (`GET /organizations/{name}/teams`). Its members are read from the
//! organisation's memberships (`GET .../organization-memberships?include=user`),
//! each of which lists its teams, invited memberships included: the Teams
//! API leaves those out. Changes go through the Team Membership API by
//! organisation membership ID, which takes an invited membership too
//! ("the user only needs an invitation to the organization"):
//! `POST` and `DELETE /teams/{id}/relationships/organization-memberships`,
//! up to 100 memberships a request.
//!
//! An email with no membership of the organisation is rejected, unless
//! `invite = true`: then it is invited to the organisation onto the team.

use allsync_sdk::{Adapter, Config, ConfigKey, Error, Info, Ledger, Outcome, Rejected, export};
use serde_json::{Value, json};
use tfc_api::{Roster, Team, Tfc, Verdict};

/// Memberships per team membership request.
const BATCH: usize = 100;

struct TeamMembers {
    tfc: Tfc,
    /// The team's name, as configured.
    name: String,
    /// The team, once found.
    team: Option<Team>,
    /// Whether an email with no membership is invited to the organisation.
    invite: bool,
    /// The organisation's memberships as last read, and changed since.
    roster: Roster,
    /// Whether they have been read.
    read: bool,
    /// The membership IDs this run added to and removed from the team.
    ledger: Ledger,
}

/// One membership to move: the email asked for, and the membership's ID.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Change {
    email: String,
    id: String,
}

/// Which way a team membership change goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Direction {
    Join,
    Leave,
}

impl Adapter for TeamMembers {
    fn describe() -> Info {
        tfc_api::describe(
            Info::new(
                "tfc-team-members",
                env!("CARGO_PKG_VERSION"),
                "The members of an HCP Terraform team, active and invited (token: the \
                 organization token or the owners team's)",
            )
            .key(ConfigKey::required(
                "team",
                "the team's name (compared exactly, case included)",
            ))
            .key(ConfigKey::optional(
                "invite",
                "true: invite an email with no membership to the organization, onto the team \
                 (default false: rejected)",
            )),
        )
    }

    fn init(config: Config) -> Result<Self, Error> {
        Ok(TeamMembers {
            tfc: Tfc::from_config(&config)?,
            name: config.require("team")?.trim().to_string(),
            team: None,
            invite: config.parse_or("invite", false)?,
            roster: Roster::default(),
            read: false,
            ledger: Ledger::new(),
        })
    }

    fn get(&mut self) -> Result<Vec<String>, Error> {
        let team = self.team()?;
        self.roster = self.tfc.memberships()?;
        self.read = true;
        Ok(self.roster.team_emails(&team.id))
    }

    fn add(&mut self, things: Vec<String>) -> Result<Vec<Rejected>, Error> {
        let team = self.read_once()?;
        let mut outcome = Outcome::new();
        let (joining, strangers) = self.joiners(things, &team, &mut outcome);
        self.change(Direction::Join, joining, &team, &mut outcome);
        self.welcome(strangers, &team, &mut outcome);
        outcome.finish()
    }

    fn remove(&mut self, things: Vec<String>) -> Result<Vec<Rejected>, Error> {
        let team = self.read_once()?;
        let mut outcome = Outcome::new();
        let leaving = self.leavers(things, &team, &mut outcome);
        self.change(Direction::Leave, leaving, &team, &mut outcome);
        outcome.finish()
    }
}

impl TeamMembers {
    /// The team, found by name once.
    fn team(&mut self) -> Result<Team, Error> {
        if let Some(team) = &self.team {
            return Ok(team.clone());
        }
        let team = self.tfc.team_named(&self.name)?;
        self.team = Some(team.clone());
        Ok(team)
    }

    /// The team, with the memberships read unless `get` has.
    fn read_once(&mut self) -> Result<Team, Error> {
        if !self.read {
            self.get()?;
        }
        self.team()
    }

    /// The memberships to add to the team, and the emails with no
    /// membership at all. Those on the team already (active or invited,
    /// whatever the case of the email) are applied, unless this run
    /// removed them under another spelling.
    fn joiners(
        &mut self,
        things: Vec<String>,
        team: &Team,
        outcome: &mut Outcome,
    ) -> (Vec<Change>, Vec<String>) {
        let (mut joining, mut strangers) = (Vec::new(), Vec::new());
        for email in things {
            let Some(member) = self.roster.find(&email) else {
                strangers.push(email);
                continue;
            };
            let change = Change {
                id: member.id.clone(),
                email,
            };
            let on_the_team = member.teams.contains(&team.id);
            if let Some(why) = self.ledger.refuse_add(&change.id, &change.email) {
                outcome.reject(change.email, why);
            } else if on_the_team {
                self.ledger.added(&change.id, &change.email);
                outcome.applied();
            } else {
                joining.push(change);
            }
        }
        (joining, strangers)
    }

    /// The memberships to take off the team. An email with none, or not
    /// on the team, has nothing to remove (applied); a membership this run
    /// added under another spelling is not removed (rejected, saying why).
    fn leavers(&mut self, things: Vec<String>, team: &Team, outcome: &mut Outcome) -> Vec<Change> {
        let mut leaving = Vec::new();
        for email in things {
            let member = self.roster.find(&email);
            let Some(member) = member.filter(|m| m.teams.contains(&team.id)) else {
                outcome.applied();
                continue;
            };
            let change = Change {
                id: member.id.clone(),
                email,
            };
            match self.ledger.refuse_remove(&change.id, &change.email) {
                Some(why) => outcome.reject(change.email, why),
                None => leaving.push(change),
            }
        }
        leaving
    }

    /// Invites `strangers` to the organisation onto the team if `invite`
    /// is set; otherwise rejects each, saying what to do.
    fn welcome(&mut self, strangers: Vec<String>, team: &Team, outcome: &mut Outcome) {
        if self.invite {
            let onto = [team.id.clone()];
            self.tfc.invite(
                strangers,
                &onto,
                &mut self.roster,
                &mut self.ledger,
                outcome,
            );
            return;
        }
        for email in strangers {
            let why = format!(
                "{email} has no membership of organization {}, invited or active: invite them \
                 first (the tfc-organization adapter), or set `invite = true`",
                self.tfc.organization()
            );
            outcome.reject(email, why);
        }
    }

    /// Sends `changes` in requests of up to [`BATCH`] memberships, one
    /// after another, and notes what each did. The API refusing a request
    /// (422) rejects its memberships with the reason; a request failing
    /// otherwise rejects its own with the failure.
    fn change(
        &mut self,
        direction: Direction,
        changes: Vec<Change>,
        team: &Team,
        outcome: &mut Outcome,
    ) {
        let path = format!("/teams/{}/relationships/organization-memberships", team.id);
        for batch in changes.chunks(BATCH) {
            let body = linkages(batch);
            let request = match direction {
                Direction::Join => self.tfc.post(&path, &body),
                Direction::Leave => self.tfc.delete_with(&path, &body),
            };
            let what = request_name(direction, batch.len(), &team.name);
            match Verdict::of(request.send(), &what, &[422]) {
                Verdict::Done(_) => self.settle(direction, batch, team, outcome),
                Verdict::Refused(why) => {
                    for change in batch {
                        outcome.reject(&change.email, why.clone());
                    }
                }
                Verdict::Failed(error) => {
                    outcome.failed(batch.iter().map(|change| change.email.clone()), error)
                }
            }
        }
    }

    /// Notes that the API applied `batch`.
    fn settle(
        &mut self,
        direction: Direction,
        batch: &[Change],
        team: &Team,
        outcome: &mut Outcome,
    ) {
        for change in batch {
            match direction {
                Direction::Join => {
                    self.roster.join(&change.email, &team.id);
                    self.ledger.added(&change.id, &change.email);
                }
                Direction::Leave => {
                    self.roster.leave(&change.email, &team.id);
                    self.ledger.removed(&change.id, &change.email);
                }
            }
            outcome.applied();
        }
    }
}

/// The JSON:API list of the memberships of `batch`, each once.
fn linkages(batch: &[Change]) -> Value {
    let mut seen = std::collections::HashSet::new();
    let data: Vec<Value> = batch
        .iter()
        .filter(|change| seen.insert(change.id.as_str()))
        .map(|change| json!({ "type": "organization-memberships", "id": change.id }))
        .collect();
    json!({ "data": data })
}

/// What a request moving `count` memberships is, to name it in errors.
fn request_name(direction: Direction, count: usize, team: &str) -> String {
    match direction {
        Direction::Join => format!("add {count} member(s) to team {team}"),
        Direction::Leave => format!("remove {count} member(s) from team {team}"),
    }
}

export!(TeamMembers);

#[cfg(test)]
mod tests {
    use super::*;
    use tfc_api::Membership;

    fn devs() -> Team {
        Team {
            id: "team-devs".into(),
            name: "devs".into(),
        }
    }

    /// An instance of team devs that has read ada (on devs) and Bob (spelt
    /// Bob@Example.com, on no team).
    fn members() -> TeamMembers {
        let config = [
            ("token", "tfc-test-token"),
            ("organization", "acme"),
            ("team", "devs"),
        ]
        .map(|(key, value)| (key.to_string(), value.to_string()));
        let mut members = TeamMembers::init(Config::new(config.to_vec())).unwrap();
        for (id, email, teams) in [
            ("ou-1", "ada@example.com", vec![devs().id]),
            ("ou-2", "Bob@Example.com", vec![]),
        ] {
            members.roster.insert(Membership {
                id: id.into(),
                email: email.into(),
                invited: false,
                teams,
            });
        }
        members.team = Some(devs());
        members.read = true;
        members
    }

    fn reasons(outcome: Outcome) -> Vec<(String, String)> {
        let rejected = outcome.finish().unwrap();
        rejected.into_iter().map(|r| (r.thing, r.reason)).collect()
    }

    #[test]
    fn members_of_the_organization_join_and_others_are_told_apart() {
        let mut members = members();
        let mut outcome = Outcome::new();
        let things = ["ADA@example.com", "bob@example.com", "zed@example.com"].map(String::from);
        let (joining, strangers) = members.joiners(things.to_vec(), &devs(), &mut outcome);
        assert_eq!(joining, [change("bob@example.com", "ou-2")]);
        assert_eq!(strangers, ["zed@example.com"]);
        assert!(reasons(outcome).is_empty(), "ada is on the team already");
    }

    #[test]
    fn without_invite_an_email_outside_the_organization_is_rejected_saying_what_to_do() {
        let mut members = members();
        let mut outcome = Outcome::new();
        members.welcome(vec!["zed@example.com".into()], &devs(), &mut outcome);
        let rejected = reasons(outcome);
        assert_eq!(rejected[0].0, "zed@example.com");
        assert!(
            rejected[0]
                .1
                .contains("has no membership of organization acme"),
            "{rejected:?}"
        );
        assert!(
            rejected[0].1.contains("set `invite = true`"),
            "{rejected:?}"
        );
    }

    #[test]
    fn only_members_of_the_team_leave_it() {
        let mut members = members();
        let mut outcome = Outcome::new();
        let things = ["Ada@example.com", "bob@example.com", "gone@example.com"].map(String::from);
        let leaving = members.leavers(things.to_vec(), &devs(), &mut outcome);
        assert_eq!(leaving, [change("Ada@example.com", "ou-1")]);
        assert!(reasons(outcome).is_empty());
    }

    fn change(email: &str, id: &str) -> Change {
        Change {
            email: email.into(),
            id: id.into(),
        }
    }

    #[test]
    fn a_request_names_each_membership_once() {
        let batch = [
            change("Ann@x.com", "ou-1"),
            change("bob@x.com", "ou-2"),
            change("ann@x.com", "ou-1"),
        ];
        assert_eq!(
            linkages(&batch),
            json!({ "data": [
                { "type": "organization-memberships", "id": "ou-1" },
                { "type": "organization-memberships", "id": "ou-2" }
            ] })
        );
    }
}
