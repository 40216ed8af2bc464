//! The Slack adapters against the fake Slack Web API, through the real
//! binary: what each run writes, what it reports, and what it refuses.

use crate::fakes::Fault;
use crate::fakes::slack::{FakeSlack, Kind};
use crate::support::{Run, Workspace, syncing_into_fake};

const TOKEN: &str = "xoxb-test-token";
const PEOPLE: [&str; 5] = [
    "ada@example.com",
    "bob@example.com",
    "cy@example.com",
    "dan@example.com",
    "eve@example.com",
];

fn usergroup(slack: &FakeSlack, token: &str, people: &[&str]) -> Workspace {
    let config = format!(
        "usergroup = \"S1\", token = \"{token}\", api_url = \"{}\"",
        slack.api_url()
    );
    syncing_into_fake("slack-usergroup", slack.addr, &config, people)
}

fn channel(slack: &FakeSlack, people: &[&str]) -> Workspace {
    channel_with(slack, "", people)
}

/// A workspace syncing into channel C1, with `extra` config (`, key = "value"`).
fn channel_with(slack: &FakeSlack, extra: &str, people: &[&str]) -> Workspace {
    let config = format!(
        "channel = \"C1\", token = \"{TOKEN}\", api_url = \"{}\"{extra}",
        slack.api_url()
    );
    syncing_into_fake("slack-channel", slack.addr, &config, people)
}

/// Compares the destination's things exactly (`case_sensitive = true`).
fn case_sensitive(workspace: Workspace) -> Workspace {
    let config = workspace.read("allsync.toml");
    workspace.write("allsync.toml", &format!("{config}case_sensitive = true\n"));
    workspace
}

fn says(run: &Run, text: &str) {
    assert!(
        run.stdout.contains(text),
        "expected {text:?} in\n--- stdout\n{}\n--- stderr\n{}",
        run.stdout,
        run.stderr
    );
}

fn never_says(run: &Run, text: &str) {
    assert!(
        !run.stdout.contains(text) && !run.stderr.contains(text),
        "did not expect {text:?} in\n--- stdout\n{}\n--- stderr\n{}",
        run.stdout,
        run.stderr
    );
}

/// A fake holding PEOPLE, the bot, a deactivated gone@example.com, a guest
/// guest@example.com and a single-channel guest solo@example.com.
fn awkward_slack() -> FakeSlack {
    let slack = FakeSlack::start(TOKEN, &PEOPLE);
    slack.user("gone@example.com", Kind::Deactivated);
    slack.user("guest@example.com", Kind::Guest);
    slack.user("solo@example.com", Kind::SingleChannelGuest);
    slack
}

// ---- slack-usergroup ----

#[test]
fn a_user_group_is_made_to_match_with_one_update_and_a_second_run_writes_nothing() {
    let slack = FakeSlack::start(TOKEN, &PEOPLE);
    slack.group("S1", &["ada@example.com", "dan@example.com"]);
    let workspace = usergroup(
        &slack,
        TOKEN,
        &["ada@example.com", "bob@example.com", "cy@example.com"],
    );
    let run = workspace.run(&["sync"]).expect_code(0);
    says(&run, "dest (add-remove): 2 added, 1 removed");
    assert_eq!(
        slack.group_emails("S1"),
        ["ada@example.com", "bob@example.com", "cy@example.com"]
    );
    assert_eq!(
        slack.controls.count("POST /api/usergroups.users.update"),
        1,
        "the additions and the removal in one update (apply)"
    );

    let writes = slack.controls.writes();
    let again = workspace.run(&["sync"]).expect_code(0);
    says(&again, "dest (add-remove): up to date (3 unchanged)");
    assert_eq!(
        slack.controls.writes(),
        writes,
        "the second run makes no write call"
    );
}

#[test]
fn a_plan_of_a_user_group_shows_the_changes_and_writes_nothing() {
    let slack = FakeSlack::start(TOKEN, &PEOPLE);
    slack.group("S1", &["ada@example.com", "dan@example.com"]);
    let run = usergroup(&slack, TOKEN, &["ada@example.com", "bob@example.com"])
        .run(&["plan"])
        .expect_code(0);
    says(
        &run,
        "dest (add-remove): 1 to add, 1 to remove, 1 unchanged",
    );
    says(&run, "    + bob@example.com\n    - dan@example.com\n");
    assert_eq!(slack.controls.writes(), 0);
    assert_eq!(
        slack.group_emails("S1"),
        ["ada@example.com", "dan@example.com"]
    );
}

#[test]
fn a_thousand_additions_to_a_user_group_make_one_update_call() {
    let slack = FakeSlack::start(TOKEN, &["ada@example.com"]);
    let newcomers: Vec<String> = (0..1000).map(|n| format!("new{n}@example.com")).collect();
    slack.add_users(newcomers.clone());
    slack.group("S1", &["ada@example.com"]);
    let mut people: Vec<&str> = newcomers.iter().map(String::as_str).collect();
    people.push("ada@example.com");
    let run = usergroup(&slack, TOKEN, &people)
        .run(&["sync"])
        .expect_code(0);
    says(&run, "dest (add-remove): 1000 added, 0 removed");
    assert_eq!(slack.controls.count("POST /api/usergroups.users.update"), 1);
    assert_eq!(slack.group_emails("S1").len(), 1001);
}

#[test]
fn many_people_to_resolve_are_read_from_the_user_list_not_one_by_one() {
    let emails: Vec<String> = (0..1000).map(|n| format!("user{n}@example.com")).collect();
    let emails: Vec<&str> = emails.iter().map(String::as_str).collect();
    let slack = FakeSlack::start(TOKEN, &emails);
    slack.user("bot@example.com", Kind::Bot);
    slack.group("S1", &emails[500..]);
    let mut people = emails[..500].to_vec();
    people.push("bot@example.com");
    let run = usergroup(&slack, TOKEN, &people)
        .run(&["sync"])
        .expect_code(4);
    says(&run, "dest (add-remove): 500 added, 500 removed");
    says(&run, "! could not add bot@example.com:");
    let mut wanted = emails[..500].to_vec();
    wanted.sort();
    assert_eq!(slack.group_emails("S1"), wanted);
    assert_eq!(
        (
            slack.controls.count("GET /api/users.list"),
            slack.controls.count("GET /api/users.info"),
            slack.controls.count("GET /api/users.lookupByEmail"),
            slack.controls.count("POST /api/usergroups.users.update"),
        ),
        (6, 0, 0, 1),
        "1,001 users in pages of 200, no one read alone, one update"
    );
}

#[test]
fn an_email_slack_does_not_know_is_rejected_and_the_rest_applied() {
    let slack = FakeSlack::start(TOKEN, &PEOPLE);
    slack.group("S1", &["ada@example.com"]);
    let run = usergroup(
        &slack,
        TOKEN,
        &["ada@example.com", "bob@example.com", "nobody@example.com"],
    )
    .run(&["sync"])
    .expect_code(4);
    says(
        &run,
        "! could not add nobody@example.com: no Slack user has this email",
    );
    assert_eq!(
        slack.group_emails("S1"),
        ["ada@example.com", "bob@example.com"]
    );
}

#[test]
fn a_bad_token_is_unauthorized_at_once_and_the_token_is_never_shown() {
    let slack = FakeSlack::start(TOKEN, &PEOPLE);
    slack.group("S1", &["ada@example.com"]);
    let run = usergroup(&slack, "xoxb-wrong-token", &["bob@example.com"])
        .run(&["sync"])
        .expect_code(4);
    says(
        &run,
        "FAILED: unauthorized: Slack usergroups.users.list failed: invalid_auth (check `token`",
    );
    assert_eq!(slack.controls.requests().len(), 1, "no retry");
    never_says(&run, "HTTP retries");
    never_says(&run, "xoxb-wrong-token");
    assert_eq!(slack.controls.writes(), 0);
}

#[test]
fn an_unknown_user_group_is_not_found() {
    let slack = FakeSlack::start(TOKEN, &PEOPLE);
    slack.group("S9", &["ada@example.com"]);
    let run = usergroup(&slack, TOKEN, &["bob@example.com"])
        .run(&["plan"])
        .expect_code(4);
    says(
        &run,
        "FAILED: not found: Slack usergroups.users.list failed: no_such_subteam (check `usergroup`",
    );
}

#[test]
fn emptying_a_user_group_is_refused_saying_that_its_bots_and_deactivated_accounts_do_not_count() {
    let slack = awkward_slack();
    slack.group(
        "S1",
        &[
            "ada@example.com",
            "bob@example.com",
            "bot@example.com",
            "gone@example.com",
        ],
    );
    let run = usergroup(&slack, TOKEN, &[]).run(&["sync"]).expect_code(4);
    says(
        &run,
        "FAILED: remove failed: Slack does not allow an empty user group: removing these would \
         leave S1 with no members (2 bot, guest or deactivated account(s) it lists do not count: \
         Slack refuses them in an update), so nothing was removed; keep at least one active \
         person in the source, or disable the group in Slack (usergroups.disable)",
    );
    assert!(slack.updates().is_empty(), "no update was sent");
    assert_eq!(slack.group_emails("S1").len(), 4);
}

#[test]
fn rate_limits_and_outages_are_waited_out_by_the_host() {
    let slack = FakeSlack::start(TOKEN, &PEOPLE);
    slack.group("S1", &["ada@example.com"]);
    slack.controls.rate_limit(1, 1);
    let run = usergroup(&slack, TOKEN, &["ada@example.com", "bob@example.com"])
        .run(&["sync"])
        .expect_code(0);
    says(&run, "HTTP retries: job `people` destination `dest` 1.");
    assert!(
        run.stderr
            .contains("rate limited (429); retry 1 of 4 in 1.0 s"),
        "{}",
        run.stderr
    );
    slack.controls.outage(2);
    let run = usergroup(&slack, TOKEN, &["ada@example.com", "cy@example.com"])
        .run(&["sync"])
        .expect_code(0);
    says(&run, "HTTP retries: job `people` destination `dest` 2.");
    assert_eq!(
        slack.group_emails("S1"),
        ["ada@example.com", "cy@example.com"]
    );
}

#[test]
fn a_user_group_holding_a_bot_and_a_deactivated_account_can_still_be_changed_and_no_update_carries_them()
 {
    let slack = awkward_slack();
    slack.group(
        "S1",
        &[
            "ada@example.com",
            "bot@example.com",
            "dan@example.com",
            "gone@example.com",
        ],
    );
    let workspace = usergroup(&slack, TOKEN, &["ada@example.com", "bob@example.com"]);
    let run = workspace.run(&["sync"]).expect_code(0);
    says(&run, "dest (add-remove): 1 added, 1 removed");
    assert_eq!(
        slack.updates(),
        [vec!["ada@example.com", "bob@example.com"]],
        "Slack refuses bots and deactivated accounts in an update: they drop out"
    );
    assert_eq!(
        slack.group_emails("S1"),
        ["ada@example.com", "bob@example.com"]
    );

    let again = workspace.run(&["sync"]).expect_code(0);
    says(&again, "up to date (2 unchanged)");
    assert_eq!(slack.updates().len(), 1, "the second run writes nothing");
}

#[test]
fn a_guest_in_the_source_is_rejected_as_slack_keeps_guests_out_of_user_groups() {
    let slack = awkward_slack();
    slack.group("S1", &["ada@example.com"]);
    let run = usergroup(
        &slack,
        TOKEN,
        &[
            "ada@example.com",
            "guest@example.com",
            "solo@example.com",
            "bob@example.com",
        ],
    )
    .run(&["sync"])
    .expect_code(4);
    says(&run, "dest (add-remove): 1 added, 0 removed");
    for guest in ["guest@example.com", "solo@example.com"] {
        says(&run, &format!("! could not add {guest}: Slack user U"));
    }
    says(
        &run,
        "is a guest, and Slack does not allow guests in a user group: make them a full member in \
         Slack, or take them out of the source",
    );
    assert_eq!(
        slack.updates(),
        [vec!["ada@example.com", "bob@example.com"]]
    );
}

#[test]
fn a_look_up_failing_part_way_leaves_that_email_out_and_applies_the_others_in_one_update() {
    let slack = FakeSlack::start(TOKEN, &PEOPLE);
    slack.group("S1", &["ada@example.com"]);
    slack.controls.inject(
        Fault::on("GET /api/users.lookupByEmail?email=cy", 500)
            .body(r#"{"ok":false,"error":"internal_error"}"#),
    );
    let run = usergroup(
        &slack,
        TOKEN,
        &[
            "ada@example.com",
            "bob@example.com",
            "cy@example.com",
            "dan@example.com",
        ],
    )
    .run(&["sync"])
    .expect_code(4);
    says(&run, "dest (add-remove): 2 added, 0 removed");
    says(
        &run,
        "! could not add cy@example.com: not applied: Slack users.lookupByEmail: HTTP 500",
    );
    assert_eq!(slack.controls.count("POST /api/usergroups.users.update"), 1);
    assert_eq!(
        slack.group_emails("S1"),
        ["ada@example.com", "bob@example.com", "dan@example.com"]
    );
}

// ---- both adapters ----

#[test]
fn a_bot_or_deactivated_account_in_the_source_is_rejected_every_run_and_the_plan_still_shows_it() {
    for adapter in ["slack-usergroup", "slack-channel"] {
        let slack = awkward_slack();
        slack.group("S1", &["ada@example.com"]);
        slack.channel("C1", &["ada@example.com"]);
        let source = ["ada@example.com", "bot@example.com", "gone@example.com"];
        let workspace = match adapter {
            "slack-usergroup" => usergroup(&slack, TOKEN, &source),
            _ => channel(&slack, &source),
        };
        for _ in 0..2 {
            let run = workspace.run(&["sync"]).expect_code(4);
            says(&run, "dest (add-remove): 0 added, 0 removed");
            says(&run, "! could not add bot@example.com: Slack user U");
            says(&run, "is a bot: ");
            says(
                &run,
                "take it out of the source, or list it in the destination's `ignore`",
            );
            says(&run, "! could not add gone@example.com: Slack user U");
            says(
                &run,
                "is deactivated: reactivate the account in Slack, or take it out of the source",
            );
            never_says(&run, "+ bot@example.com");
            assert_eq!(slack.controls.writes(), 0, "{adapter}: nothing was sent");
            let plan = workspace.run(&["plan"]).expect_code(0);
            says(&plan, "dest (add-remove): 2 to add, 1 unchanged");
            says(&plan, "    + bot@example.com\n    + gone@example.com\n");
        }
    }
}

#[test]
fn with_case_sensitive_a_differently_cased_source_never_adds_and_removes_the_same_user() {
    for adapter in ["slack-usergroup", "slack-channel"] {
        let slack = FakeSlack::start(TOKEN, &PEOPLE);
        slack.group("S1", &["ada@example.com", "bob@example.com"]);
        slack.channel("C1", &["ada@example.com", "bob@example.com"]);
        let source = ["Ada@Example.com", "bob@example.com"];
        let workspace = case_sensitive(match adapter {
            "slack-usergroup" => usergroup(&slack, TOKEN, &source),
            _ => channel(&slack, &source),
        });
        let run = workspace.run(&["sync"]).expect_code(4);
        says(&run, "dest (add-remove): 1 added, 0 removed");
        says(
            &run,
            "! could not remove ada@example.com: ada@example.com is account U1, which this run \
             already added under another spelling; not going to remove it in the same run",
        );
        assert_eq!(slack.controls.writes(), 0, "{adapter}: Ada is in already");
        assert_eq!(
            slack.group_emails("S1"),
            ["ada@example.com", "bob@example.com"]
        );
        assert_eq!(
            slack.channel_emails("C1"),
            ["ada@example.com", "bob@example.com"]
        );
    }
}

// ---- slack-channel ----

#[test]
fn a_channel_is_paged_through_invited_in_one_batch_and_bots_and_deactivated_accounts_left_alone() {
    let slack = awkward_slack();
    slack.channel(
        "C1",
        &[
            "ada@example.com",
            "dan@example.com",
            "bot@example.com",
            "gone@example.com",
            "eve@example.com",
        ],
    );
    let workspace = channel(
        &slack,
        &[
            "ada@example.com",
            "bob@example.com",
            "cy@example.com",
            "eve@example.com",
        ],
    );
    let run = workspace.run(&["sync"]).expect_code(0);
    says(&run, "dest (add-remove): 2 added, 1 removed");
    assert_eq!(
        slack.channel_emails("C1"),
        [
            "ada@example.com",
            "bob@example.com",
            "bot@example.com",
            "cy@example.com",
            "eve@example.com",
            "gone@example.com",
        ]
    );
    assert_eq!(slack.controls.count("POST /api/conversations.invite"), 1);
    assert_eq!(slack.controls.count("POST /api/conversations.kick"), 1);
    assert!(
        slack.controls.count("GET /api/conversations.members") >= 2,
        "members come in pages of 3"
    );

    let writes = slack.controls.writes();
    let again = workspace.run(&["sync"]).expect_code(0);
    says(&again, "up to date (4 unchanged)");
    assert_eq!(slack.controls.writes(), writes);
}

#[test]
fn a_plan_of_a_channel_shows_the_changes_and_writes_nothing() {
    let slack = FakeSlack::start(TOKEN, &PEOPLE);
    slack.channel("C1", &["ada@example.com", "dan@example.com"]);
    let run = channel(&slack, &["ada@example.com", "bob@example.com"])
        .run(&["plan"])
        .expect_code(0);
    says(
        &run,
        "dest (add-remove): 1 to add, 1 to remove, 1 unchanged",
    );
    says(&run, "    + bob@example.com\n    - dan@example.com\n");
    assert_eq!(slack.controls.writes(), 0);
}

#[test]
fn a_channel_is_read_to_its_last_page_through_an_outage_on_page_two() {
    let slack = FakeSlack::start(TOKEN, &PEOPLE);
    slack.add_users(["fay@example.com".to_string(), "gus@example.com".to_string()]);
    let everyone = [&PEOPLE[..], &["fay@example.com", "gus@example.com"]].concat();
    slack.channel("C1", &everyone);
    slack
        .controls
        .inject(Fault::on("GET /api/conversations.members", 503).after(1));
    let run = channel(&slack, &everyone).run(&["plan"]).expect_code(0);
    says(&run, "dest (add-remove): up to date (7 unchanged)");
    says(&run, "HTTP retries: job `people` destination `dest` 1.");
    assert_eq!(
        slack.controls.count("GET /api/conversations.members"),
        4,
        "three pages of at most 3, the second asked twice"
    );
}

#[test]
fn a_channel_rejects_unknown_emails_and_never_removes_a_bot() {
    let slack = FakeSlack::start(TOKEN, &PEOPLE);
    slack.channel("C1", &["ada@example.com", "bot@example.com"]);
    let run = channel(&slack, &["ada@example.com", "ghost@example.com"])
        .run(&["sync"])
        .expect_code(4);
    says(
        &run,
        "! could not add ghost@example.com: no Slack user has this email",
    );
    assert_eq!(
        slack.channel_emails("C1"),
        ["ada@example.com", "bot@example.com"]
    );
}

#[test]
fn a_channel_with_a_bad_token_rate_limits_and_outages_behaves_like_a_user_group() {
    let slack = FakeSlack::start(TOKEN, &PEOPLE);
    slack.channel("C1", &["ada@example.com"]);
    let workspace = channel(&slack, &["ada@example.com", "bob@example.com"]);
    let config = workspace.read("allsync.toml");
    workspace.write("allsync.toml", &config.replace(TOKEN, "xoxb-wrong-token"));
    let run = workspace.run(&["sync"]).expect_code(4);
    says(
        &run,
        "FAILED: unauthorized: Slack conversations.members failed: invalid_auth",
    );
    assert_eq!(slack.controls.requests().len(), 1, "no retry");
    never_says(&run, "xoxb-wrong-token");
    assert_eq!(slack.controls.writes(), 0);

    workspace.write("allsync.toml", &config);
    slack.controls.rate_limit(1, 1);
    workspace.run(&["plan"]).expect_code(0);
    slack.controls.outage(1);
    let run = workspace.run(&["sync"]).expect_code(0);
    says(&run, "HTTP retries: job `people` destination `dest` 1.");
    assert_eq!(
        slack.channel_emails("C1"),
        ["ada@example.com", "bob@example.com"]
    );
}

#[test]
fn a_kick_failing_half_way_reports_exactly_who_was_removed() {
    let slack = FakeSlack::start(TOKEN, &PEOPLE);
    slack.channel("C1", &PEOPLE);
    // The token is revoked as the third kick arrives, and back for the fourth.
    slack.controls.inject(
        Fault::on("POST /api/conversations.kick", 200)
            .after(2)
            .body(r#"{"ok":false,"error":"invalid_auth"}"#),
    );
    let run = channel_with(&slack, ", concurrency = \"1\"", &["ada@example.com"])
        .run(&["sync"])
        .expect_code(4);
    says(&run, "dest (add-remove): 0 added, 3 removed");
    says(
        &run,
        "    - bob@example.com\n    - cy@example.com\n    - eve@example.com\n",
    );
    says(
        &run,
        "! could not remove dan@example.com: not applied: unauthorized: Slack conversations.kick \
         failed: invalid_auth",
    );
    assert_eq!(
        slack.channel_emails("C1"),
        ["ada@example.com", "dan@example.com"]
    );
}

#[test]
fn an_invitation_batch_failing_part_way_reports_the_batch_that_went_through() {
    let slack = FakeSlack::start(TOKEN, &["ada@example.com"]);
    let newcomers: Vec<String> = (0..1001).map(|n| format!("new{n}@example.com")).collect();
    slack.add_users(newcomers.clone());
    slack.channel("C1", &["ada@example.com"]);
    slack.controls.inject(
        Fault::on("POST /api/conversations.invite", 500)
            .after(1)
            .body(r#"{"ok":false,"error":"internal_error"}"#),
    );
    let mut people = vec!["ada@example.com"];
    people.extend(newcomers.iter().map(String::as_str));
    let run = channel(&slack, &people).run(&["sync"]).expect_code(4);
    says(&run, "dest (add-remove): 1000 added, 0 removed");
    says(
        &run,
        "! could not add new1000@example.com: not applied: Slack conversations.invite: HTTP 500",
    );
    assert_eq!(slack.controls.count("POST /api/conversations.invite"), 2);
    assert_eq!(slack.channel_emails("C1").len(), 1001);
}

#[test]
fn a_channel_counts_and_invites_guests_and_reports_the_one_slack_refuses() {
    let slack = awkward_slack();
    slack.channel("C1", &["ada@example.com", "guest@example.com"]);
    slack.channel("C2", &["solo@example.com"]);
    let run = channel(
        &slack,
        &[
            "ada@example.com",
            "guest@example.com",
            "solo@example.com",
            "bob@example.com",
        ],
    )
    .run(&["sync"])
    .expect_code(4);
    says(&run, "dest (add-remove): 1 added, 0 removed");
    says(&run, "    + bob@example.com\n");
    says(
        &run,
        "! could not add solo@example.com: Slack refused the invitation: ura_max_channels",
    );
    assert_eq!(
        slack.channel_emails("C1"),
        ["ada@example.com", "bob@example.com", "guest@example.com"]
    );
}
