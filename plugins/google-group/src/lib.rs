//! The `google-group` adapter: the users of a Google Workspace group that
//! hold one role, as emails.
//!
//! Admin SDK Directory API: `members.list` (following `nextPageToken`),
//! `members.insert` and `members.delete`, one request per person,
//! `concurrency` at a time. Only members of `type` USER holding the role are
//! synced; nested groups, CUSTOMER members and users with another role are
//! left alone (see [`members`]). Auth is an OAuth access token given in
//! config, or minted by the host from a service account (`credentials`).

mod members;

use allsync_sdk::http::{Request, Response, encode, follow_pages, send_all};
use allsync_sdk::{Adapter, Config, ConfigKey, Error, Info, Ledger, Outcome, Rejected, export};
use members::{Member, Membership};
use serde::Deserialize;
use serde_json::{Value, json};

const GOOGLE_API: &str = "https://admin.googleapis.com";
const ROLES: [&str; 3] = ["MEMBER", "MANAGER", "OWNER"];

struct Group {
    /// The group's email address or ID, as configured.
    key: String,
    members_url: String,
    /// A token given in config; without one, the host's credentials authorise.
    token: Option<String>,
    role: String,
    concurrency: usize,
    /// The group as the last `get` found it.
    membership: Membership,
    /// The emails (lower case) this run added and removed.
    ledger: Ledger,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Page {
    #[serde(default)]
    members: Vec<Member>,
    next_page_token: Option<String>,
}

/// Which member change is being made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    Add,
    Remove,
}

/// What Google's answer to one member change comes to.
#[derive(Debug)]
enum Verdict {
    /// Applied, or already so (409 "Member already exists", 404 of a member
    /// not in the group).
    Done,
    /// Refused for this person alone (no such user, not allowed), and why.
    Refused(String),
    /// The request failed; what it did not apply is rejected with this.
    Failed(Error),
}

impl Adapter for Group {
    fn describe() -> Info {
        Info::new(
            "google-group",
            env!("CARGO_PKG_VERSION"),
            "The users of a Google Workspace group with one role (scope: admin.directory.group.member)",
        )
        .key(ConfigKey::optional("token", "an OAuth 2.0 access token; leave it out where the host holds `credentials` for this instance (a service account)").secret())
        .key(ConfigKey::required("group", "the group's email address or ID"))
        .key(ConfigKey::optional("role", "MEMBER (default), MANAGER or OWNER: the members synced"))
        .key(ConfigKey::optional("api_url", "the API base URL (default: https://admin.googleapis.com)"))
        .key(ConfigKey::optional("concurrency", "member changes in flight at once (default 8)"))
        .host(GOOGLE_API)
    }

    fn init(config: Config) -> Result<Self, Error> {
        let role = config.get_or("role", "MEMBER").to_uppercase();
        if !ROLES.contains(&role.as_str()) {
            return Err(Error::InvalidConfig(format!(
                "role `{role}` is not one of MEMBER, MANAGER, OWNER"
            )));
        }
        let api = config
            .get_or("api_url", GOOGLE_API)
            .trim_end_matches('/')
            .to_string();
        let key = config.require("group")?.to_string();
        Ok(Group {
            members_url: format!("{api}/admin/directory/v1/groups/{}/members", encode(&key)),
            key,
            token: config.get("token").map(String::from),
            role,
            concurrency: config.parse_or("concurrency", 8)?,
            membership: Membership::default(),
            ledger: Ledger::new(),
        })
    }

    fn get(&mut self) -> Result<Vec<String>, Error> {
        let membership = Membership::sort(self.list()?, &self.role);
        if let Some(note) = membership.left_alone() {
            eprintln!("{note}");
        }
        self.membership = membership;
        Ok(self.membership.emails.clone())
    }

    fn add(&mut self, things: Vec<String>) -> Result<Vec<Rejected>, Error> {
        let mut outcome = Outcome::new();
        let mut sending = Vec::new();
        for email in things {
            match self.needs_insert(&email) {
                Ok(true) => sending.push(email),
                Ok(false) => outcome.applied(),
                Err(reason) => outcome.reject(email, reason),
            }
        }
        let requests = sending
            .iter()
            .map(|email| {
                Request::post(&self.members_url).json(&json!({ "email": email, "role": self.role }))
            })
            .collect::<Result<Vec<_>, _>>()?;
        self.send(&mut outcome, sending, requests, Action::Add);
        outcome.finish()
    }

    fn remove(&mut self, things: Vec<String>) -> Result<Vec<Rejected>, Error> {
        let mut outcome = Outcome::new();
        let mut sending = Vec::new();
        for email in things {
            let account = email.to_lowercase();
            match self.ledger.refuse_remove(&account, &email) {
                Some(reason) => outcome.reject(email, reason),
                None => {
                    self.ledger.removed(account, &email);
                    sending.push(email);
                }
            }
        }
        let requests = sending
            .iter()
            .map(|email| Request::delete(&format!("{}/{}", self.members_url, encode(email))))
            .collect();
        self.send(&mut outcome, sending, requests, Action::Remove);
        outcome.finish()
    }
}

impl Group {
    /// Every member of the group, any role or type, following `nextPageToken`.
    fn list(&self) -> Result<Vec<Member>, Error> {
        let first = format!("{}?maxResults=200", self.members_url);
        follow_pages(
            Request::get(&first).bearer_if_any(self.token.as_deref()),
            |response| {
                let page: Page = response.success("list group members")?.json()?;
                let next = page
                    .next_page_token
                    .filter(|token| !token.is_empty())
                    .map(|token| {
                        Request::get(&format!("{first}&pageToken={}", encode(&token)))
                            .bearer_if_any(self.token.as_deref())
                    });
                Ok((page.members, next))
            },
        )
    }

    /// Whether `email` must be inserted: not when it is in the group
    /// already (with the role, or otherwise: left as it is); a reason when
    /// it must not be added.
    fn needs_insert(&mut self, email: &str) -> Result<bool, String> {
        let account = email.to_lowercase();
        if let Some(reason) = self.ledger.refuse_add(&account, email) {
            return Err(reason);
        }
        self.ledger.added(account.clone(), email);
        if let Some(how) = self.membership.others.get(&account) {
            eprintln!(
                "{email} is in the group already {how}; left as it is (only {} users are synced)",
                self.role
            );
            return Ok(false);
        }
        Ok(!self.membership.present.contains(&account))
    }

    /// Sends one request per email, `concurrency` at a time, and notes in
    /// `outcome` what each did.
    fn send(
        &self,
        outcome: &mut Outcome,
        emails: Vec<String>,
        requests: Vec<Request>,
        action: Action,
    ) {
        let requests = requests
            .into_iter()
            .map(|r| r.bearer_if_any(self.token.as_deref()))
            .collect();
        for (email, response) in emails.into_iter().zip(send_all(requests, self.concurrency)) {
            let what = match action {
                Action::Add => format!("add {email} to group {}", self.key),
                Action::Remove => format!("remove {email} from group {}", self.key),
            };
            match verdict(response, action, &what) {
                Verdict::Done => outcome.applied(),
                Verdict::Refused(reason) => outcome.reject(email, reason),
                Verdict::Failed(error) => outcome.failed([email], error),
            }
        }
    }
}

/// What the answer to one member change comes to. An error about the
/// member (`memberKey`, not `groupKey`) is that person's alone; one about
/// the group, or any other failure, is the request's.
fn verdict(response: Result<Response, Error>, action: Action, what: &str) -> Verdict {
    let response = match response {
        Ok(response) if response.is_success() => return Verdict::Done,
        Ok(response) => response,
        Err(error) => return Verdict::Failed(error),
    };
    let message = google_message(&response);
    let about_the_group = message.contains("groupKey");
    match (response.status, action) {
        (409, Action::Add) => Verdict::Done,
        (404, Action::Remove) if !about_the_group => Verdict::Done,
        (400 | 404 | 412, _) if !about_the_group => {
            Verdict::Refused(format!("{what}: HTTP {}: {message}", response.status))
        }
        _ => match response.success(what) {
            Ok(_) => Verdict::Done,
            Err(error) => Verdict::Failed(error),
        },
    }
}

/// The message of Google's `{"error": {"message": ...}}` shape.
fn google_message(response: &Response) -> String {
    response
        .json::<Value>()
        .ok()
        .and_then(|body| body["error"]["message"].as_str().map(String::from))
        .unwrap_or_else(|| "refused by Google (no message)".to_string())
}

export!(Group);

#[cfg(test)]
mod tests {
    use super::*;

    fn google(status: u16, message: &str) -> Result<Response, Error> {
        let body = json!({ "error": { "code": status, "message": message, "errors": [{ "message": message, "reason": "x" }] } });
        Ok(Response {
            status,
            headers: Vec::new(),
            body: body.to_string().into_bytes(),
        })
    }

    #[test]
    fn already_a_member_and_not_a_member_are_what_was_wanted() {
        let duplicate = google(409, "Member already exists.");
        assert!(matches!(
            verdict(duplicate, Action::Add, "add"),
            Verdict::Done
        ));
        let gone = google(404, "Resource Not Found: memberKey");
        assert!(matches!(
            verdict(gone, Action::Remove, "remove"),
            Verdict::Done
        ));
    }

    #[test]
    fn a_missing_group_fails_the_request_but_a_missing_user_is_refused_alone() {
        for action in [Action::Add, Action::Remove] {
            let group = google(404, "Resource Not Found: groupKey");
            assert!(matches!(
                verdict(group, action, "change"),
                Verdict::Failed(Error::NotFound(_))
            ));
        }
        let unknown = google(400, "Invalid Input: memberKey");
        assert!(matches!(
            verdict(unknown, Action::Add, "add x to group g"),
            Verdict::Refused(reason) if reason == "add x to group g: HTTP 400: Invalid Input: memberKey"
        ));
        let not_found = google(404, "Resource Not Found: memberKey");
        assert!(matches!(
            verdict(not_found, Action::Add, "add"),
            Verdict::Refused(_)
        ));
    }

    #[test]
    fn bad_credentials_outages_and_lost_connections_fail_the_request() {
        let cases = [
            google(401, "Request had invalid authentication credentials."),
            google(500, "Backend Error"),
            google(409, "Member already exists."),
            Err(Error::Other("POST ...: connection refused".into())),
        ];
        let actions = [Action::Add, Action::Add, Action::Remove, Action::Add];
        for (response, action) in cases.into_iter().zip(actions) {
            assert!(matches!(verdict(response, action, "x"), Verdict::Failed(_)));
        }
    }
}
