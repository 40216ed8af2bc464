//! The `github-team` adapter: the members of a GitHub organisation team, as
//! emails.
//!
//! REST: `GET /orgs/{org}/teams/{team_slug}/members` and
//! `.../invitations` (pending memberships count as on the team), both
//! following `Link` pages; `PUT` and `DELETE .../memberships/{username}`,
//! one request per person, `concurrency` at a time. Emails map to logins
//! through the `mapping` config and/or the org's SAML identities
//! (`saml = true`), one email per login (see [`directory`]). An email with
//! no login is rejected, never guessed; a team member with no known email
//! is left alone.

mod directory;
mod roster;
mod saml;

use allsync_sdk::http::{Request, Response, encode, follow_pages, send_all};
use allsync_sdk::{Adapter, Config, ConfigKey, Error, Info, Ledger, Outcome, Rejected, export};
use directory::{Directory, Origin};
use roster::{Invitation, Member, Presence, Roster};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use std::collections::HashMap;

const GITHUB_API: &str = "https://api.github.com";
/// Seconds to wait on a secondary rate limit that does not say how long:
/// "at least one minute", say GitHub's docs.
const SECONDARY_RATE_LIMIT_WAIT: u32 = 60;

struct Team {
    api: String,
    /// A token given in config; without one, the host's credentials authorise.
    token: Option<String>,
    org: String,
    team: String,
    directory: Directory,
    /// Membership changes in flight at once.
    concurrency: usize,
    /// Each login `get` found on the team (lower case), and how.
    present: HashMap<String, Presence>,
    /// The logins (lower case) this run added and removed.
    ledger: Ledger,
}

/// One membership change to send: the email asked for, and its login.
struct Change {
    email: String,
    login: String,
}

/// Which membership change is being made.
#[derive(Debug, Clone, Copy)]
enum Action {
    Add,
    Remove,
}

impl Action {
    /// What the change of `login` in `team` is, to name it in errors.
    fn describe(self, login: &str, team: &str) -> String {
        match self {
            Action::Add => format!("add {login} to team {team}"),
            Action::Remove => format!("remove {login} from team {team}"),
        }
    }
}

/// What GitHub's answer to one membership change comes to.
#[derive(Debug)]
enum Verdict {
    /// Applied, with GitHub's answer.
    Done(Response),
    /// Refused for this person alone (no such user, not a user), and why.
    Refused(String),
    /// The request failed; what it did not apply is rejected with this.
    Failed(Error),
}

impl Adapter for Team {
    fn describe() -> Info {
        Info::new(
            "github-team",
            env!("CARGO_PKG_VERSION"),
            "The members of a GitHub organisation team (token: admin:org, or read:org for plan only)",
        )
        .key(ConfigKey::optional("token", "a GitHub token; leave it out where the host holds `credentials` for this instance (a GitHub App)").secret())
        .key(ConfigKey::required("org", "the organisation's login"))
        .key(ConfigKey::required("team", "the team's slug"))
        .key(ConfigKey::optional("mapping", "email=login pairs, comma-separated; one email per login"))
        .key(ConfigKey::optional("saml", "true: map emails to logins through the org's SAML identities too"))
        .key(ConfigKey::optional("api_url", "the REST API base URL (default: https://api.github.com; GitHub Enterprise Server: https://HOST/api/v3)"))
        .key(ConfigKey::optional("concurrency", "membership changes in flight at once (default 8)"))
        .host(GITHUB_API)
    }

    fn init(config: Config) -> Result<Self, Error> {
        let mut team = Team {
            api: config
                .get_or("api_url", GITHUB_API)
                .trim_end_matches('/')
                .to_string(),
            token: config.get("token").map(String::from),
            org: config.require("org")?.to_string(),
            team: config.require("team")?.to_string(),
            directory: Directory::from_mapping(&config.list("mapping"))?,
            concurrency: config.parse_or("concurrency", 8)?,
            present: HashMap::new(),
            ledger: Ledger::new(),
        };
        if config.parse_or("saml", false)? {
            let identities = Directory::from_pairs(&team.saml_identities()?, Origin::Saml)?;
            team.directory.extend_under(identities);
        } else if team.directory.is_empty() {
            return Err(Error::InvalidConfig(
                "set `mapping` (email=login pairs) or `saml = true`".into(),
            ));
        }
        Ok(team)
    }

    fn get(&mut self) -> Result<Vec<String>, Error> {
        let members: Vec<Member> = self.pages("members", "list team members")?;
        let invitations = self.invitations()?;
        let roster = Roster::new(&members, &invitations, &self.directory);
        for line in &roster.left_alone {
            eprintln!("{line}");
        }
        self.present = roster.present;
        Ok(roster.emails)
    }

    fn add(&mut self, things: Vec<String>) -> Result<Vec<Rejected>, Error> {
        let mut outcome = Outcome::new();
        let mut changes = Vec::new();
        for email in things {
            match self.login_to_add(&email) {
                Ok(Some(login)) => changes.push(Change { email, login }),
                Ok(None) => outcome.applied(),
                Err(reason) => outcome.reject(email, reason),
            }
        }
        let body = json!({ "role": "member" });
        let requests = changes
            .iter()
            .map(|change| Request::put(&self.membership_url(&change.login)).json(&body))
            .collect::<Result<Vec<_>, _>>()?;
        self.send(
            &mut outcome,
            changes,
            requests,
            Action::Add,
            |change, response| self.note_if_pending(&change.login, response),
        );
        outcome.finish()
    }

    fn remove(&mut self, things: Vec<String>) -> Result<Vec<Rejected>, Error> {
        let mut outcome = Outcome::new();
        let mut changes = Vec::new();
        for email in things {
            match self.login_to_remove(&email) {
                Ok(login) => changes.push(Change { email, login }),
                Err(reason) => outcome.reject(email, reason),
            }
        }
        let requests = changes
            .iter()
            .map(|change| Request::delete(&self.membership_url(&change.login)))
            .collect();
        self.send(&mut outcome, changes, requests, Action::Remove, |_, _| {});
        outcome.finish()
    }
}

impl Team {
    fn request(&self, request: Request) -> Request {
        request
            .bearer_if_any(self.token.as_deref())
            .header("accept", "application/vnd.github+json")
            .header("x-github-api-version", "2022-11-28")
    }

    fn team_url(&self) -> String {
        format!(
            "{}/orgs/{}/teams/{}",
            self.api,
            encode(&self.org),
            encode(&self.team)
        )
    }

    fn membership_url(&self, login: &str) -> String {
        format!("{}/memberships/{}", self.team_url(), encode(login))
    }

    /// Every item of the team's `list` (`members`, `invitations`), following `Link` pages.
    fn pages<T: DeserializeOwned>(&self, list: &str, what: &str) -> Result<Vec<T>, Error> {
        let first = format!("{}/{list}?per_page=100", self.team_url());
        follow_pages(self.request(Request::get(&first)), |response| {
            let response = checked(response, what)?;
            let next = response
                .next_link()
                .map(|url| self.request(Request::get(&url)));
            Ok((response.json()?, next))
        })
    }

    /// The team's pending invitations; none where GitHub has no such list
    /// for a team it just listed (organisations of Enterprise Managed Users
    /// add members directly and have no invitations).
    fn invitations(&self) -> Result<Vec<Invitation>, Error> {
        match self.pages("invitations", "list pending team invitations") {
            Err(Error::NotFound(why)) => {
                eprintln!("counting no pending invitations: {why}");
                Ok(Vec::new())
            }
            invitations => invitations,
        }
    }

    /// The login of `email`, or why there is none.
    fn login(&self, email: &str) -> Result<String, String> {
        self.directory
            .login_for(email)
            .map(String::from)
            .ok_or_else(|| {
                "no GitHub login is known for this email (see `mapping` or `saml`)".to_string()
            })
    }

    /// The login to `PUT` for `email`: `None` when it is on the team already
    /// (a member, or invited), a reason when it must not be added.
    fn login_to_add(&mut self, email: &str) -> Result<Option<String>, String> {
        let login = self.login(email)?;
        let account = login.to_lowercase();
        if let Some(reason) = self.ledger.refuse_add(&account, email) {
            return Err(reason);
        }
        let on_the_team = self.present.contains_key(&account);
        self.ledger.added(account, email);
        Ok((!on_the_team).then_some(login))
    }

    /// The login to `DELETE` for `email`, or why it must not be removed.
    fn login_to_remove(&mut self, email: &str) -> Result<String, String> {
        let login = self.login(email)?;
        let account = login.to_lowercase();
        if let Some(reason) = self.ledger.refuse_remove(&account, email) {
            return Err(reason);
        }
        if self.present.get(&account) == Some(&Presence::InvitedByEmail) {
            return Err(format!(
                "{login} is invited to the team by email, an invitation the team membership API \
                 cannot cancel: cancel it in the organisation's pending invitations"
            ));
        }
        self.ledger.removed(account, email);
        Ok(login)
    }

    /// Sends one request per change, `concurrency` at a time, and notes in
    /// `outcome` what each did; `done` is told of each one applied.
    fn send(
        &self,
        outcome: &mut Outcome,
        changes: Vec<Change>,
        requests: Vec<Request>,
        action: Action,
        done: impl Fn(&Change, &Response),
    ) {
        let requests = requests.into_iter().map(|r| self.request(r)).collect();
        for (change, response) in changes
            .into_iter()
            .zip(send_all(requests, self.concurrency))
        {
            let what = action.describe(&change.login, &self.team);
            match verdict(response, &what) {
                Verdict::Done(response) => {
                    outcome.applied();
                    done(&change, &response);
                }
                Verdict::Refused(reason) => outcome.reject(change.email, reason),
                Verdict::Failed(error) => outcome.failed([change.email], error),
            }
        }
    }

    /// Says on stderr when GitHub answered a `PUT` with an invitation.
    fn note_if_pending(&self, login: &str, response: &Response) {
        #[derive(Deserialize)]
        struct Membership {
            state: String,
        }
        if response
            .json::<Membership>()
            .is_ok_and(|membership| membership.state == "pending")
        {
            eprintln!(
                "{login} invited to {}; membership of team {} pending until they accept",
                self.org, self.team
            );
        }
    }

    /// `(email, login)` for each SAML identity linked to a user, in pages.
    fn saml_identities(&self) -> Result<Vec<(String, String)>, Error> {
        let url = saml::graphql_url(&self.api);
        let mut pairs = Vec::new();
        let mut after = Value::Null;
        loop {
            let request =
                self.request(Request::post(&url).json(&saml::request(&self.org, &after))?);
            let answer: Value = checked(request.send()?, "read SAML identities")?.json()?;
            let page = saml::page(&answer, &self.org)?;
            pairs.extend(page.pairs);
            match page.next {
                Some(next) => after = next,
                None => return Ok(pairs),
            }
        }
    }
}

/// What the answer to one membership change comes to: 404 (no such user)
/// and 422 (not a user) are this person's alone; any other failure is the
/// request's.
fn verdict(response: Result<Response, Error>, what: &str) -> Verdict {
    match response {
        Err(error) => Verdict::Failed(error),
        Ok(response) if matches!(response.status, 404 | 422) => Verdict::Refused(format!(
            "{what}: HTTP {}: {}",
            response.status,
            github_message(&response)
        )),
        Ok(response) => match checked(response, what) {
            Ok(response) => Verdict::Done(response),
            Err(error) => Verdict::Failed(error),
        },
    }
}

/// `response` if it is a success, else its error as [`Response::success`]
/// tells it (rate limits included); and a 403 whose message says a
/// secondary rate limit was exceeded, with no header saying how long, is a
/// rate limit of a minute.
fn checked(response: Response, what: &str) -> Result<Response, Error> {
    let secondary = response.status == 403
        && response.rate_limited().is_none()
        && github_message(&response)
            .to_lowercase()
            .contains("secondary rate limit");
    if secondary {
        return Err(Error::RateLimited(SECONDARY_RATE_LIMIT_WAIT));
    }
    response.success(what)
}

/// The `message` of GitHub's JSON error body, else the start of the body.
fn github_message(response: &Response) -> String {
    response
        .json::<Value>()
        .ok()
        .and_then(|body| body["message"].as_str().map(String::from))
        .unwrap_or_else(|| response.text().chars().take(200).collect())
}

export!(Team);

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, headers: &[(&str, &str)], body: &str) -> Response {
        Response {
            status,
            headers: headers
                .iter()
                .map(|(name, value)| (name.to_string(), value.to_string()))
                .collect(),
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn an_unknown_user_or_a_non_user_is_refused_for_that_person_alone() {
        let not_found = answer(404, &[], r#"{"message":"Not Found"}"#);
        assert!(matches!(
            verdict(Ok(not_found), "add eve to team devs"),
            Verdict::Refused(reason) if reason == "add eve to team devs: HTTP 404: Not Found"
        ));
        let org = answer(
            422,
            &[],
            r#"{"message":"Cannot add an organization as a member."}"#,
        );
        assert!(matches!(verdict(Ok(org), "add"), Verdict::Refused(_)));
    }

    #[test]
    fn bad_credentials_outages_and_lost_connections_fail_the_request() {
        let cases = [
            Ok(answer(401, &[], r#"{"message":"Bad credentials"}"#)),
            Ok(answer(500, &[], "")),
            Err(Error::Other(
                "PUT https://api.github.com/...: connection refused".into(),
            )),
        ];
        for response in cases {
            assert!(matches!(verdict(response, "add"), Verdict::Failed(_)));
        }
        let done = verdict(Ok(answer(200, &[], r#"{"state":"active"}"#)), "add");
        assert!(matches!(done, Verdict::Done(_)));
    }

    #[test]
    fn both_rate_limits_are_told_apart_from_a_refusal() {
        let secondary = answer(
            403,
            &[],
            r#"{"message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again."}"#,
        );
        assert!(matches!(
            checked(secondary, "list"),
            Err(Error::RateLimited(60))
        ));
        let with_retry_after = answer(403, &[("retry-after", "5")], r#"{"message":"x"}"#);
        assert!(matches!(
            checked(with_retry_after, "list"),
            Err(Error::RateLimited(5))
        ));
        let primary = answer(
            403,
            &[("x-ratelimit-remaining", "0")],
            r#"{"message":"API rate limit exceeded for user ID 1."}"#,
        );
        assert!(matches!(
            checked(primary, "list"),
            Err(Error::RateLimited(_))
        ));
        let refused = answer(403, &[], r#"{"message":"Must have admin rights"}"#);
        assert!(matches!(
            checked(refused, "list"),
            Err(Error::Unauthorized(_))
        ));
    }
}
