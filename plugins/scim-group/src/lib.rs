//! The `scim-group` adapter: the user members of a group on a SCIM 2.0
//! service provider (RFC 7643, RFC 7644), as their `userName`s or emails.
//!
//! - The group is `group`: an id, or a displayName found with
//!   `GET /Groups?filter=displayName eq "..."` (two groups of that name are
//!   refused).
//! - `get` reads `GET /Groups/{id}?attributes=members`, and each member
//!   user by id (`GET /Users/{id}`, `concurrency` at a time); nested groups
//!   are left alone. Where the group comes back with no members, as AWS IAM
//!   Identity Center always answers ("GetGroup and ListGroups return an
//!   empty member list"), its users are listed instead with
//!   `GET /Users?filter=groups.value eq "{id}"`, page by page (see [`pages`]).
//! - `add` finds each user with `filter=userName eq "..."` (or
//!   `emails.value`); `add` and `remove` change members with
//!   `PATCH /Groups/{id}`, `batch` changes a request (see [`patch`]).

mod members;
mod pages;
mod patch;
mod scim;
mod users;

use allsync_sdk::http::{Response, encode, send_all};
use allsync_sdk::{Adapter, Config, ConfigKey, Error, Info, Ledger, Outcome, Rejected, export};
use members::{GroupName, GroupResource, Kind, Member, Membership};
use pages::Pager;
use patch::{Action, DEFAULT_BATCH, Verdict};
use scim::{ListResponse, Service, checked, describe, eq_filter};
use users::{Belonging, Found, User, UserAttribute, same};

struct ScimGroup {
    service: Service,
    /// The group as configured: an id or a displayName.
    group: String,
    attribute: UserAttribute,
    /// Membership changes per PATCH request.
    batch: usize,
    /// User look-ups in flight at once.
    concurrency: usize,
    /// The group's id, once found.
    group_id: Option<String>,
    /// The group as last read or changed.
    membership: Membership,
    /// Whether the group has been read in this run.
    read: bool,
    /// The user ids this run added and removed.
    ledger: Ledger,
}

/// One membership change to send: the thing asked for, and its user's id.
#[derive(Debug, Clone)]
struct Change {
    thing: String,
    id: String,
}

impl Adapter for ScimGroup {
    fn describe() -> Info {
        Info::new(
            "scim-group",
            env!("CARGO_PKG_VERSION"),
            "The user members of a group on a SCIM 2.0 service (AWS IAM Identity Center, apps \
             built to Okta's SCIM guide); grant the service's origin with allowed_hosts",
        )
        .key(ConfigKey::required(
            "base_url",
            "the SCIM endpoint, e.g. https://scim.us-east-1.amazonaws.com/TENANT/scim/v2 \
             (grant its origin with allowed_hosts)",
        ))
        .key(ConfigKey::required(
            "group",
            "the group's id, or its displayName",
        ))
        .key(ConfigKey::required("token", "a SCIM bearer token").secret())
        .key(ConfigKey::optional(
            "user_attribute",
            "what each thing is: userName (default) or emails (the user's primary email)",
        ))
        .key(ConfigKey::optional(
            "batch",
            "membership changes per PATCH request (default 100, AWS IAM Identity Center's most)",
        ))
        .key(ConfigKey::optional(
            "concurrency",
            "user look-ups in flight at once (default 8)",
        ))
    }

    fn init(config: Config) -> Result<Self, Error> {
        let base = config.require("base_url")?.trim();
        if !is_http_url(base) {
            return Err(Error::InvalidConfig(format!(
                "config key `base_url` is `{base}`: give the SCIM endpoint as an https:// URL"
            )));
        }
        Ok(ScimGroup {
            service: Service::new(base, config.require("token")?),
            group: config.require("group")?.trim().to_string(),
            attribute: UserAttribute::from_config(config.get_or("user_attribute", "userName"))?,
            batch: at_least_one(&config, "batch", DEFAULT_BATCH)?,
            concurrency: at_least_one(&config, "concurrency", 8)?,
            group_id: None,
            membership: Membership::default(),
            read: false,
            ledger: Ledger::new(),
        })
    }

    fn get(&mut self) -> Result<Vec<String>, Error> {
        let membership = self.read_membership()?;
        if let Some(note) = membership.left_alone_note() {
            eprintln!("{note}");
        }
        self.membership = membership;
        self.read = true;
        Ok(self.membership.things())
    }

    fn add(&mut self, things: Vec<String>) -> Result<Vec<Rejected>, Error> {
        self.ensure_read()?;
        let mut outcome = Outcome::new();
        let mut changes = Vec::new();
        let mut unknown = Vec::new();
        for thing in things {
            let present = self.membership.accounts_of(&thing).to_vec();
            match present.is_empty() {
                true => unknown.push(thing),
                false => self.admit(thing, &present, &mut outcome, &mut changes),
            }
        }
        for (thing, found) in self.look_up(unknown) {
            match found {
                Ok(Found::User(id)) => self.admit(thing, &[id], &mut outcome, &mut changes),
                Ok(Found::Unknown(reason)) => outcome.reject(thing, reason),
                Err(error) => outcome.failed([thing], error),
            }
        }
        self.apply(&changes, Action::Add, &mut outcome);
        outcome.finish()
    }

    fn remove(&mut self, things: Vec<String>) -> Result<Vec<Rejected>, Error> {
        self.ensure_read()?;
        let mut outcome = Outcome::new();
        let mut changes = Vec::new();
        for thing in things {
            let accounts = self.membership.accounts_of(&thing).to_vec();
            if let Some(reason) = accounts
                .iter()
                .find_map(|id| self.ledger.refuse_remove(id, &thing))
            {
                outcome.reject(thing, reason);
                continue;
            }
            if accounts.is_empty() {
                outcome.applied();
            }
            for id in accounts {
                self.ledger.removed(id.clone(), &thing);
                changes.push(Change {
                    thing: thing.clone(),
                    id,
                });
            }
        }
        self.apply(&changes, Action::Remove, &mut outcome);
        outcome.finish()
    }
}

impl ScimGroup {
    /// The group's members, read now.
    fn read_membership(&mut self) -> Result<Membership, Error> {
        let id = self.group_id()?;
        let group = self.read_group(&id)?;
        let mut membership = Membership::default();
        match group.members.filter(|members| !members.is_empty()) {
            Some(members) => self.note_members(&members, &mut membership)?,
            None => self.note_users_listed_in(&id, &mut membership)?,
        }
        Ok(membership)
    }

    /// Reads the group unless `get` already has.
    fn ensure_read(&mut self) -> Result<(), Error> {
        if !self.read {
            self.membership = self.read_membership()?;
            self.read = true;
        }
        Ok(())
    }

    /// The group's id: `group` itself, unless it is the displayName of a group.
    fn group_id(&mut self) -> Result<String, Error> {
        if let Some(id) = &self.group_id {
            return Ok(id.clone());
        }
        let id = self
            .find_by_display_name()?
            .unwrap_or_else(|| self.group.clone());
        self.group_id = Some(id.clone());
        Ok(id)
    }

    /// The id of the one group whose displayName is `group`, if there is
    /// one; two or more are refused. A service that cannot filter groups by
    /// displayName (400) or finds none (404, as services built to Okta's
    /// guide may answer) leaves `group` to be an id.
    fn find_by_display_name(&self) -> Result<Option<String>, Error> {
        let filter = eq_filter("displayName", &self.group);
        let response = self
            .service
            .get(&format!("/Groups?{filter}&excludedAttributes=members"))
            .send()?;
        if matches!(response.status, 400 | 404) {
            return Ok(None);
        }
        let what = format!("find group `{}` by displayName", self.group);
        let page: ListResponse<GroupName> = checked(response, &what)?.json()?;
        let named: Vec<GroupName> = page
            .resources
            .unwrap_or_default()
            .into_iter()
            .filter(|found| {
                found
                    .display_name
                    .as_deref()
                    .is_some_and(|name| same(name, &self.group))
            })
            .collect();
        match named.as_slice() {
            [] => Ok(None),
            [group] => Ok(Some(group.id.clone())),
            many => Err(Error::InvalidConfig(format!(
                "config key `group` is `{}`, the displayName of {} groups (ids {}): set `group` to \
                 the id of the one to sync",
                self.group,
                many.len(),
                many.iter()
                    .map(|group| group.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
        }
    }

    fn read_group(&self, id: &str) -> Result<GroupResource, Error> {
        let path = format!("/Groups/{}?attributes=members", encode(id));
        let response = self.service.get(&path).send()?;
        if response.status == 404 {
            return Err(Error::NotFound(format!(
                "no group has the id or displayName `{}` at {} ({}): check `group`",
                self.group,
                self.service.base(),
                describe(&response)
            )));
        }
        checked(response, &format!("read group {}", self.group))?.json()
    }

    /// Notes the group's members: each user, looked up by id; a nested
    /// group, or an id that is no user, is left alone.
    fn note_members(&self, members: &[Member], membership: &mut Membership) -> Result<(), Error> {
        let mut ids = Vec::new();
        for member in members {
            match member.kind() {
                Kind::User(id) => ids.push(id),
                Kind::Other(what) => membership.leave_alone(what),
            }
        }
        let requests = ids
            .iter()
            .map(|id| self.service.get(&format!("/Users/{}", encode(id))))
            .collect();
        for (id, response) in ids.iter().zip(send_all(requests, self.concurrency)) {
            let response = response?;
            if response.status == 404 {
                membership.leave_alone("member not found as a user");
                continue;
            }
            let user: User = checked(
                response,
                &format!("read member {id} of group {}", self.group),
            )?
            .json()?;
            membership.note_user(&user, self.attribute);
        }
        Ok(())
    }

    /// Notes the users the service lists as in group `id`, for a service
    /// that lists no members on the group itself. One that cannot filter
    /// users by group (400, 501, by index and by cursor) leaves the group
    /// empty, and says so.
    fn note_users_listed_in(&self, id: &str, membership: &mut Membership) -> Result<(), Error> {
        let what = format!("list the users in group {}", self.group);
        let filter = eq_filter("groups.value", id);
        let mut pager = Pager::new();
        let mut first = true;
        loop {
            let path = format!("/Users?{filter}&{}", pager.query());
            let response = self.service.get(&path).send()?;
            if first && matches!(response.status, 400 | 501) {
                if pager.retry_by_cursor() {
                    continue;
                }
                eprintln!(
                    "group {} lists no members, and the service cannot list users by group ({}): \
                     counted as empty",
                    self.group,
                    describe(&response)
                );
                return Ok(());
            }
            first = false;
            let page = checked(response, &what)?.json()?;
            let more = pager
                .take(page)
                .map_err(|why| Error::Other(format!("{what}: {why}")))?;
            if !more {
                break;
            }
        }
        for user in pager.users() {
            match user.belonging(id) {
                Belonging::Direct => membership.note_user(&user, self.attribute),
                Belonging::Indirect => membership.leave_alone("member only through a nested group"),
                Belonging::NotListed => {
                    membership.leave_alone("user listed though not in the group")
                }
            }
        }
        Ok(())
    }

    /// Who each of `things` is, looked up `concurrency` at a time.
    fn look_up(&self, things: Vec<String>) -> Vec<(String, Result<Found, Error>)> {
        let requests = things
            .iter()
            .map(|thing| {
                self.service
                    .get(&format!("/Users?{}", self.attribute.filter(thing)))
            })
            .collect();
        let responses: Vec<Result<Response, Error>> = send_all(requests, self.concurrency);
        things
            .into_iter()
            .zip(responses)
            .map(|(thing, response)| {
                let found = self.attribute.found(&thing, response);
                (thing, found)
            })
            .collect()
    }

    /// Takes `thing`, which is users `accounts`, into the run: refused if
    /// this run removed one of them for another thing; already done if all
    /// are members; else a change for the first who is not.
    fn admit(
        &mut self,
        thing: String,
        accounts: &[String],
        outcome: &mut Outcome,
        changes: &mut Vec<Change>,
    ) {
        if let Some(reason) = accounts
            .iter()
            .find_map(|id| self.ledger.refuse_add(id, &thing))
        {
            outcome.reject(thing, reason);
            return;
        }
        for id in accounts {
            self.ledger.added(id.clone(), &thing);
        }
        match accounts.iter().find(|id| !self.membership.has(id)) {
            Some(id) => changes.push(Change {
                thing,
                id: id.clone(),
            }),
            None => outcome.applied(),
        }
    }

    /// Sends `changes` in batches, one request at a time (each changes the
    /// same group), noting in `outcome` what each did.
    fn apply(&mut self, changes: &[Change], action: Action, outcome: &mut Outcome) {
        for batch in changes.chunks(self.batch) {
            self.send(batch, action, outcome);
        }
    }

    /// Sends one batch; one refused over some member is sent again in halves.
    fn send(&mut self, batch: &[Change], action: Action, outcome: &mut Outcome) {
        let ids: Vec<&str> = batch.iter().map(|change| change.id.as_str()).collect();
        let one = format!("{} (user {})", batch[0].thing, batch[0].id);
        let what = action.describe(batch.len(), &one, &self.group);
        let response = self.group_id().and_then(|id| {
            let path = format!("/Groups/{}", encode(&id));
            self.service.patch(&path, &action.body(&ids)).send()
        });
        match action.verdict(response, batch.len(), &what) {
            Verdict::Done => self.done(batch, action, outcome),
            Verdict::Split => {
                let (first, second) = batch.split_at(batch.len() / 2);
                self.send(first, action, outcome);
                self.send(second, action, outcome);
            }
            Verdict::Refused(reason) => outcome.reject(batch[0].thing.clone(), reason),
            Verdict::Failed(error) => {
                outcome.failed(batch.iter().map(|change| change.thing.clone()), error)
            }
        }
    }

    /// Notes a batch applied, in `outcome` and in the membership, so a later
    /// call in this run sees the group as it now is.
    fn done(&mut self, batch: &[Change], action: Action, outcome: &mut Outcome) {
        for change in batch {
            outcome.applied();
            match action {
                Action::Add => self.membership.joined(&change.id, &change.thing),
                Action::Remove => self.membership.left(&change.id),
            }
        }
    }
}

/// Whether `url` is an http:// or https:// URL with a host.
fn is_http_url(url: &str) -> bool {
    let lower = url.to_ascii_lowercase();
    ["https://", "http://"]
        .iter()
        .filter_map(|scheme| lower.strip_prefix(scheme))
        .any(|rest| !rest.is_empty() && !rest.starts_with('/'))
}

/// Config key `name` as a count of at least one, `default` when unset.
fn at_least_one(config: &Config, name: &str, default: usize) -> Result<usize, Error> {
    match config.parse_or(name, default)? {
        0 => Err(Error::InvalidConfig(format!(
            "config key `{name}` is 0: it must be at least 1"
        ))),
        count => Ok(count),
    }
}

export!(ScimGroup);

#[cfg(test)]
mod tests {
    use super::*;

    fn config(pairs: &[(&str, &str)]) -> Config {
        let mut all = vec![
            (
                "base_url",
                "https://scim.us-east-1.amazonaws.com/t-1/scim/v2/",
            ),
            ("group", "eng"),
            ("token", "scim-token-1"),
        ];
        all.extend_from_slice(pairs);
        Config::new(
            all.into_iter()
                .map(|(key, value)| (key.to_string(), value.to_string()))
                .collect(),
        )
    }

    fn refusal(pairs: &[(&str, &str)]) -> String {
        match ScimGroup::init(config(pairs)) {
            Err(Error::InvalidConfig(message)) => message,
            Err(other) => panic!("not a config error: {other:?}"),
            Ok(_) => panic!("accepted {pairs:?}"),
        }
    }

    #[test]
    fn the_defaults_are_usernames_and_batches_of_a_hundred() {
        let adapter = ScimGroup::init(config(&[])).unwrap();
        assert_eq!(adapter.attribute, UserAttribute::UserName);
        assert_eq!(adapter.batch, 100);
        assert_eq!(adapter.concurrency, 8);
        assert_eq!(
            adapter.service.base(),
            "https://scim.us-east-1.amazonaws.com/t-1/scim/v2"
        );
    }

    #[test]
    fn a_base_url_that_is_no_http_url_is_refused() {
        for base in [
            "scim.example.com/scim/v2",
            "ftp://scim.example.com",
            "https:///scim",
        ] {
            let why = refusal(&[("base_url", base)]);
            assert!(
                why.contains("give the SCIM endpoint as an https:// URL"),
                "{why}"
            );
        }
    }

    #[test]
    fn a_batch_or_concurrency_of_zero_is_refused() {
        assert_eq!(
            refusal(&[("batch", "0")]),
            "config key `batch` is 0: it must be at least 1"
        );
        assert!(refusal(&[("concurrency", "many")]).contains("`concurrency`"));
        assert!(refusal(&[("user_attribute", "id")]).contains("`user_attribute`"));
    }
}
