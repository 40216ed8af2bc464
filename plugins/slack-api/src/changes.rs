//! Sorting the emails an `add` or `remove` was given into the changes to
//! send and those to report at once: already done, unknown to Slack, an
//! account the list cannot hold, or one this run changed the other way.

use crate::Slack;
use crate::roster::{Directory, Roster};
use crate::users::{Admission, User};
use allsync_sdk::Ledger;
use allsync_sdk::{Error, Outcome};

/// One email to apply, and the Slack user it stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// The email, as the host gave it.
    pub thing: String,
    /// The user's ID.
    pub id: String,
}

impl Change {
    /// `thing`, which stands for user `id`.
    pub fn new(thing: String, id: &str) -> Self {
        Change {
            thing,
            id: id.to_string(),
        }
    }
}

/// Whether changes add or remove.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// `add`
    Add,
    /// `remove`
    Remove,
}

/// The emails to add that are not members of `roster` yet, each with its
/// user. The others are settled in `outcome`: members already (applied,
/// whatever the case of the email), unknown to Slack, accounts `admission`
/// refuses, and accounts this run removed under another email (rejected,
/// saying why); a failed look-up is not applied. Users looked up are noted
/// in `directory`.
pub fn joiners(
    slack: &Slack,
    things: Vec<String>,
    roster: &Roster,
    admission: &Admission,
    directory: &mut Directory,
    accounts: &mut Ledger,
    outcome: &mut Outcome,
) -> Vec<(Change, User)> {
    let mut others = Vec::new();
    for thing in things {
        match roster.find(&thing) {
            Some(id) => already_in(Change::new(thing, id), accounts, outcome),
            None => others.push(thing),
        }
    }
    let found = slack.lookup(directory, &others);
    let mut joining = Vec::new();
    for (thing, found) in others.into_iter().zip(found) {
        match found {
            Err(error) => outcome.failed([thing], error),
            Ok(None) => outcome.reject(thing, "no Slack user has this email"),
            Ok(Some(user)) => {
                directory.note(&user.id, Some(user.clone()));
                let change = Change::new(thing, &user.id);
                if let Some(change) = newcomer(change, &user, roster, admission, accounts, outcome)
                {
                    joining.push((change, user));
                }
            }
        }
    }
    joining
}

/// `change`, for `user`, if it is to be sent: not if the user cannot join,
/// is a member already, or was removed by this run under another email.
fn newcomer(
    change: Change,
    user: &User,
    roster: &Roster,
    admission: &Admission,
    accounts: &mut Ledger,
    outcome: &mut Outcome,
) -> Option<Change> {
    if let Some(why) = admission.refusal(user) {
        outcome.reject(change.thing, why);
    } else if roster.contains(&user.id) {
        already_in(change, accounts, outcome);
    } else if let Some(why) = accounts.refuse_add(&change.id, &change.thing) {
        outcome.reject(change.thing, why);
    } else {
        return Some(change);
    }
    None
}

/// A member already: applied, unless this run removed the account.
fn already_in(change: Change, accounts: &mut Ledger, outcome: &mut Outcome) {
    match accounts.refuse_add(&change.id, &change.thing) {
        Some(why) => outcome.reject(change.thing, why),
        None => applied(Direction::Add, change, accounts, outcome),
    }
}

/// The emails to remove that are members of `roster`, each with its user.
/// The others are settled in `outcome`: not members (applied: nothing to
/// remove), and accounts this run added under another email (rejected).
pub fn leavers(
    things: Vec<String>,
    roster: &Roster,
    accounts: &Ledger,
    outcome: &mut Outcome,
) -> Vec<Change> {
    let mut leaving = Vec::new();
    for thing in things {
        let Some(id) = roster.find(&thing) else {
            outcome.applied();
            continue;
        };
        match accounts.refuse_remove(id, &thing) {
            Some(why) => outcome.reject(thing, why),
            None => leaving.push(Change::new(thing, id)),
        }
    }
    leaving
}

/// Notes that Slack applied `change`.
pub fn applied(direction: Direction, change: Change, accounts: &mut Ledger, outcome: &mut Outcome) {
    match direction {
        Direction::Add => accounts.added(&change.id, &change.thing),
        Direction::Remove => accounts.removed(&change.id, &change.thing),
    }
    outcome.applied();
}

/// Notes how the one write that carried `changes` ended: each applied, or
/// none, with the write's error.
pub fn settle(
    direction: Direction,
    changes: Vec<Change>,
    written: Result<(), Error>,
    accounts: &mut Ledger,
    outcome: &mut Outcome,
) {
    match written {
        Ok(()) => {
            for change in changes {
                applied(direction, change, accounts, outcome);
            }
        }
        Err(error) => outcome.failed(changes.into_iter().map(|change| change.thing), error),
    }
}

/// The IDs of `changes`, each once, in order.
pub fn unique_ids<'a>(changes: impl IntoIterator<Item = &'a Change>) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    changes
        .into_iter()
        .filter(|change| seen.insert(change.id.as_str()))
        .map(|change| change.id.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::users::tests::user;

    fn roster(users: &[User]) -> Roster {
        let mut roster = Roster::default();
        for user in users {
            roster.admit(user);
        }
        roster
    }

    fn reasons(outcome: Outcome) -> Vec<(String, String)> {
        outcome
            .finish()
            .unwrap()
            .into_iter()
            .map(|rejected| (rejected.thing, rejected.reason))
            .collect()
    }

    #[test]
    fn members_leave_whatever_the_case_of_their_email_and_others_have_nothing_to_remove() {
        let members = roster(&[user("U1", "ann@x.com", &[]), user("U2", "bob@x.com", &[])]);
        let mut outcome = Outcome::new();
        let leaving = leavers(
            vec!["ANN@x.com".into(), "gone@x.com".into()],
            &members,
            &Ledger::default(),
            &mut outcome,
        );
        assert_eq!(
            leaving,
            [Change {
                thing: "ANN@x.com".into(),
                id: "U1".into()
            }]
        );
        assert!(
            reasons(outcome).is_empty(),
            "gone@x.com is not a member: done"
        );
    }

    #[test]
    fn an_account_this_run_added_is_not_removed_under_another_spelling() {
        let members = roster(&[user("U1", "ann@x.com", &[])]);
        let mut accounts = Ledger::default();
        accounts.added("U1", "Ann@X.com");
        let mut outcome = Outcome::new();
        let leaving = leavers(vec!["ann@x.com".into()], &members, &accounts, &mut outcome);
        assert!(leaving.is_empty());
        let rejected = reasons(outcome);
        assert_eq!(rejected[0].0, "ann@x.com");
        assert!(
            rejected[0]
                .1
                .contains("already added under another spelling"),
            "{rejected:?}"
        );
    }

    #[test]
    fn a_member_already_is_applied_unless_this_run_removed_the_account() {
        let mut accounts = Ledger::default();
        let mut outcome = Outcome::new();
        already_in(
            Change {
                thing: "Ann@x.com".into(),
                id: "U1".into(),
            },
            &mut accounts,
            &mut outcome,
        );
        assert!(reasons(outcome).is_empty());
        assert!(accounts.refuse_remove("U1", "ann@x.com").is_some());
        let mut accounts = Ledger::default();
        accounts.removed("U1", "ann@x.com");
        let mut outcome = Outcome::new();
        already_in(
            Change {
                thing: "Ann@x.com".into(),
                id: "U1".into(),
            },
            &mut accounts,
            &mut outcome,
        );
        assert!(reasons(outcome)[0].1.contains("already removed"));
    }

    #[test]
    fn a_failed_write_applies_none_of_its_changes() {
        let change = |thing: &str| Change {
            thing: thing.into(),
            id: "U9".into(),
        };
        let mut accounts = Ledger::default();
        let mut outcome = Outcome::new();
        outcome.applied();
        settle(
            Direction::Add,
            vec![change("a@x.com"), change("b@x.com")],
            Err(Error::Other("HTTP 500".into())),
            &mut accounts,
            &mut outcome,
        );
        let rejected = reasons(outcome);
        assert_eq!(rejected.len(), 2);
        assert_eq!(rejected[0].1, "not applied: HTTP 500");
        assert_eq!(accounts.refuse_remove("U9", "c@x.com"), None, "not added");
    }

    #[test]
    fn ids_come_once_each_in_order() {
        let change = |id: &str| Change {
            thing: format!("{id}@x.com"),
            id: id.into(),
        };
        let changes = [change("U2"), change("U1"), change("U2")];
        assert_eq!(unique_ids(&changes), ["U2", "U1"]);
    }
}
