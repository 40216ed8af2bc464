//! The `entra-group` adapter: the user members of a Microsoft Entra ID
//! group, as emails.
//!
//! Microsoft Graph v1.0: the group is found by object id or display name
//! (see [`group`]); `get` lists `/groups/{id}/members` (or
//! `transitiveMembers`), following `@odata.nextLink`, and syncs only users
//! (see [`membership`]). `add` resolves emails to users with `$filter`
//! lookups, then sends `POST /groups/{id}/members/$ref`; `remove` sends
//! `DELETE /groups/{id}/members/{user-id}/$ref`; lookups and changes go 20
//! to a JSON `$batch`, so each person's answer is their own (see
//! [`changes`]).

mod changes;
mod group;
mod membership;

use allsync_sdk::http::encode;
use allsync_sdk::{Adapter, Config, ConfigKey, Error, Info, Ledger, Outcome, Rejected, export};
use changes::{Action, Verdict};
use entra_api::{Accounts, BatchRequest, Found, Graph, Query, USER_PROPERTIES, email_key};
use group::Group;
use membership::Membership;
use serde_json::{Value, json};

/// What the application needs, named when Graph refuses it.
const PERMISSIONS: &str = "GroupMember.ReadWrite.All and User.Read.All \
                           (GroupMember.Read.All and User.Read.All for a source)";

struct EntraGroup {
    graph: Graph,
    /// The `group` key: an object id or a display name.
    key: String,
    accounts: Accounts,
    /// Whether members of nested groups are listed too (a source only).
    transitive: bool,
    /// The group, once found.
    group: Option<Group>,
    /// The group as the last `get` found it.
    membership: Membership,
    /// The user ids (lower case) this run added and removed.
    ledger: Ledger,
}

/// One member change to send: the email asked for, and its users' ids.
struct Change {
    email: String,
    ids: Vec<String>,
}

impl Adapter for EntraGroup {
    fn describe() -> Info {
        let info = Info::new(
            "entra-group",
            env!("CARGO_PKG_VERSION"),
            "The user members of a Microsoft Entra ID group (Graph: GroupMember.ReadWrite.All, User.Read.All)",
        )
        .key(ConfigKey::required("group", "the group's object id, or its display name (refused if several groups have it)"))
        .key(ConfigKey::optional("transitive", "true: the members of nested groups too (a source only)"))
        .key(ConfigKey::optional("concurrency", "$batch requests in flight at once (default 4)"));
        entra_api::describe(info)
    }

    fn init(config: Config) -> Result<Self, Error> {
        Ok(EntraGroup {
            graph: Graph::from_config(&config, PERMISSIONS)?,
            key: config.require("group")?.trim().to_string(),
            accounts: Accounts::from_config(&config)?,
            transitive: config.parse_or("transitive", false)?,
            group: None,
            membership: Membership::default(),
            ledger: Ledger::new(),
        })
    }

    fn get(&mut self) -> Result<Vec<String>, Error> {
        let group = self.group()?;
        let relation = match self.transitive {
            true => "transitiveMembers",
            false => "members",
        };
        let url = self.graph.url(&format!(
            "/groups/{}/{relation}?$select={USER_PROPERTIES}&$top={}",
            encode(&group.id),
            entra_api::PAGE_SIZE
        ));
        let what = format!("list the {relation} of group {}", group.label());
        let members = self.graph.list(&url, Query::Default, &what)?;
        self.membership = Membership::sort(members, &self.accounts);
        let what = format!("member(s) of group {}", group.label());
        if let Some(note) = self.membership.left_alone.summary(&what) {
            eprintln!("{note}; only users are synced");
        }
        Ok(self.membership.emails.clone())
    }

    fn add(&mut self, things: Vec<String>) -> Result<Vec<Rejected>, Error> {
        let group = self.writable_group()?;
        let mut outcome = Outcome::new();
        let changes = self.changes_to_add(things, &mut outcome);
        let members = format!("/groups/{}/members/$ref", encode(&group.id));
        let requests = |change: &Change| {
            change
                .ids
                .iter()
                .map(|id| {
                    BatchRequest::post(
                        members.clone(),
                        json!({ "@odata.id": self.graph.object_reference(id) }),
                    )
                })
                .collect()
        };
        self.send_changes(&group, Action::Add, changes, requests, &mut outcome);
        outcome.finish()
    }

    fn remove(&mut self, things: Vec<String>) -> Result<Vec<Rejected>, Error> {
        let group = self.writable_group()?;
        let mut outcome = Outcome::new();
        let changes = self.changes_to_remove(things, &mut outcome);
        let member =
            |id: &String| format!("/groups/{}/members/{}/$ref", encode(&group.id), encode(id));
        let requests = |change: &Change| {
            change
                .ids
                .iter()
                .map(|id| BatchRequest::delete(member(id)))
                .collect()
        };
        self.send_changes(&group, Action::Remove, changes, requests, &mut outcome);
        outcome.finish()
    }
}

impl EntraGroup {
    /// The group, found the first time it is needed.
    fn group(&mut self) -> Result<Group, Error> {
        if self.group.is_none() {
            self.group = Some(Group::resolve(&self.graph, &self.key)?);
        }
        Ok(self.group.clone().expect("found"))
    }

    /// The group, if its members can be changed here.
    fn writable_group(&mut self) -> Result<Group, Error> {
        if self.transitive {
            return Err(Error::Unsupported(
                "transitive = true reads the members of nested groups too, which cannot be added \
                 or removed here: use this instance as a source only, or leave transitive out"
                    .into(),
            ));
        }
        let group = self.group()?;
        if group.is_dynamic() {
            return Err(Error::Unsupported(format!(
                "group {} has dynamic membership: its membership rule decides its members, so \
                 they cannot be added or removed; use it as a source only",
                group.label()
            )));
        }
        Ok(group)
    }

    /// The changes that adding `things` takes; what needs no request (a
    /// member already) or cannot be done is noted in `outcome`.
    fn changes_to_add(&mut self, things: Vec<String>, outcome: &mut Outcome) -> Vec<Change> {
        let (present, absent): (Vec<String>, Vec<String>) = things
            .into_iter()
            .partition(|email| self.membership.ids.contains_key(&email_key(email)));
        for email in present {
            let ids = self.membership.ids[&email_key(&email)].clone();
            let verdict = match ids.iter().find_map(|id| self.ledger.refuse_add(id, &email)) {
                Some(why) => Verdict::Refused(why),
                None => Verdict::Done,
            };
            ids.into_iter().for_each(|id| self.ledger.added(id, &email));
            verdict.record(outcome, email);
        }
        let found = self.graph.find_users(self.accounts.rule, &absent);
        let mut changes = Vec::new();
        for (email, found) in absent.into_iter().zip(found) {
            match self.user_to_add(&email, found) {
                Ok(id) => changes.push(Change {
                    email,
                    ids: vec![id],
                }),
                Err(verdict) => verdict.record(outcome, email),
            }
        }
        changes
    }

    /// The id of the user to send an add for, for `email`; or, when no
    /// request is to be sent, what the email came to.
    fn user_to_add(&mut self, email: &str, found: Result<Found, Error>) -> Result<String, Verdict> {
        let user = match found {
            Ok(Found::One(user)) => user,
            Ok(Found::Several(ids)) => {
                return Err(Verdict::Refused(format!(
                    "{} users have {} {email} (ids {}): not guessing which to add",
                    ids.len(),
                    self.accounts.rule.name(),
                    ids.join(", ")
                )));
            }
            Ok(Found::Nobody(why)) => return Err(Verdict::Refused(why)),
            Err(error) => return Err(Verdict::Failed(error)),
        };
        if let Some(why) = self.accounts.refusal(&user) {
            return Err(Verdict::Refused(why));
        }
        let id = user.id.to_lowercase();
        if let Some(why) = self.ledger.refuse_add(&id, email) {
            return Err(Verdict::Refused(why));
        }
        self.ledger.added(id, email);
        Ok(user.id)
    }

    /// The changes that removing `things` takes; what needs no request (no
    /// such user) or must not be done is noted in `outcome`.
    fn changes_to_remove(&mut self, things: Vec<String>, outcome: &mut Outcome) -> Vec<Change> {
        let (known, unknown): (Vec<String>, Vec<String>) = things
            .into_iter()
            .partition(|email| self.membership.ids.contains_key(&email_key(email)));
        let mut changes: Vec<Change> = known
            .into_iter()
            .map(|email| Change {
                ids: self.membership.ids[&email_key(&email)].clone(),
                email,
            })
            .collect();
        let found = self.graph.find_users(self.accounts.rule, &unknown);
        for (email, found) in unknown.into_iter().zip(found) {
            match found {
                Ok(Found::One(user)) => changes.push(Change {
                    email,
                    ids: vec![user.id.to_lowercase()],
                }),
                Ok(Found::Several(ids)) => changes.push(Change {
                    email,
                    ids: ids.iter().map(|id| id.to_lowercase()).collect(),
                }),
                Ok(Found::Nobody(_)) => outcome.applied(),
                Err(error) => outcome.failed([email], error),
            }
        }
        changes.retain(|change| self.may_remove(change, outcome));
        changes
    }

    /// Whether `change` may be made: not if this run added one of its
    /// users under another email (then it is rejected in `outcome`).
    fn may_remove(&mut self, change: &Change, outcome: &mut Outcome) -> bool {
        let email = &change.email;
        if let Some(why) = change
            .ids
            .iter()
            .find_map(|id| self.ledger.refuse_remove(id, email))
        {
            outcome.reject(email.clone(), why);
            return false;
        }
        for id in &change.ids {
            self.ledger.removed(id.clone(), email);
        }
        true
    }

    /// Sends the `requests` each change takes, in batches, and notes in
    /// `outcome` what each change came to.
    fn send_changes(
        &self,
        group: &Group,
        action: Action,
        changes: Vec<Change>,
        requests: impl Fn(&Change) -> Vec<BatchRequest>,
        outcome: &mut Outcome,
    ) {
        let per_change: Vec<Vec<BatchRequest>> = changes.iter().map(requests).collect();
        let all: Vec<BatchRequest> = per_change.iter().flatten().cloned().collect();
        let what = action.describe("members", &group.label());
        let mut replies = self.graph.batch(&all, &what).into_iter();
        let mut group_exists = None;
        for (change, requests) in changes.into_iter().zip(per_change) {
            let what = action.describe(&change.email, &group.label());
            let verdicts = replies
                .by_ref()
                .take(requests.len())
                .map(|reply| {
                    let verdict = Verdict::of(&self.graph, reply, action, &what);
                    if matches!(verdict, Verdict::Missing) && group_exists.is_none() {
                        group_exists = Some(self.group_exists(group));
                    }
                    let exists = group_exists.as_ref().unwrap_or(&Ok(true));
                    verdict.settle(exists, action, &what)
                })
                .collect();
            Verdict::combine(verdicts).record(outcome, change.email);
        }
    }

    /// Whether the group still exists (asked when Graph answers 404,
    /// which it does both for a missing group and a missing member).
    fn group_exists(&self, group: &Group) -> Result<bool, Error> {
        let url = self
            .graph
            .url(&format!("/groups/{}?$select=id", encode(&group.id)));
        match self
            .graph
            .read::<Value>(&url, &format!("read group {}", group.label()))
        {
            Ok(_) => Ok(true),
            Err(Error::NotFound(_)) => Ok(false),
            Err(error) => Err(error),
        }
    }
}

export!(EntraGroup);
