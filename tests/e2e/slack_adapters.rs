//! The Slack adapters against the fake Slack Web API.

use crate::fakes::slack::FakeSlack;
use crate::support::{Workspace, syncing_into_fake};

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
    let config = format!(
        "channel = \"C1\", token = \"{TOKEN}\", api_url = \"{}\"",
        slack.api_url()
    );
    syncing_into_fake("slack-channel", slack.addr, &config, people)
}

#[test]
fn a_user_group_is_made_to_match_with_one_update_per_change_and_a_second_run_writes_nothing() {
    let slack = FakeSlack::start(TOKEN, &PEOPLE);
    slack.group("S1", &["ada@example.com", "dan@example.com"]);
    let workspace = usergroup(
        &slack,
        TOKEN,
        &["ada@example.com", "bob@example.com", "cy@example.com"],
    );
    let run = workspace.run(&["sync"]).expect_code(0);
    assert!(
        run.stdout.contains("dest (add-remove): 2 added, 1 removed"),
        "{}",
        run.stdout
    );
    assert_eq!(
        slack.group_emails("S1"),
        ["ada@example.com", "bob@example.com", "cy@example.com"]
    );
    assert_eq!(
        slack.controls.count("POST /api/usergroups.users.update"),
        2,
        "one for the additions, one for the removal"
    );

    let writes = slack.controls.writes();
    let again = workspace.run(&["sync"]).expect_code(0);
    assert!(
        again
            .stdout
            .contains("dest (add-remove): up to date (3 unchanged)"),
        "{}",
        again.stdout
    );
    assert_eq!(
        slack.controls.writes(),
        writes,
        "the second run makes no write call"
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
    assert!(
        run.stdout
            .contains("dest (add-remove): 1000 added, 0 removed"),
        "{}",
        run.stdout
    );
    assert_eq!(slack.controls.count("POST /api/usergroups.users.update"), 1);
    assert_eq!(slack.group_emails("S1").len(), 1001);
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
    assert!(
        run.stdout
            .contains("! could not add nobody@example.com: no Slack user has this email"),
        "{}",
        run.stdout
    );
    assert_eq!(
        slack.group_emails("S1"),
        ["ada@example.com", "bob@example.com"]
    );
}

#[test]
fn a_bad_token_is_unauthorized_and_nothing_is_written() {
    let slack = FakeSlack::start(TOKEN, &PEOPLE);
    slack.group("S1", &["ada@example.com"]);
    let run = usergroup(&slack, "xoxb-wrong", &["bob@example.com"])
        .run(&["sync"])
        .expect_code(4);
    assert!(
        run.stdout
            .contains("FAILED: unauthorized: Slack usergroups.users.list failed: invalid_auth"),
        "{}",
        run.stdout
    );
    assert_eq!(slack.controls.writes(), 0);
    assert!(!run.stdout.contains("xoxb-wrong"), "the token is a secret");
}

#[test]
fn an_unknown_user_group_is_not_found() {
    let slack = FakeSlack::start(TOKEN, &PEOPLE);
    slack.group("S9", &["ada@example.com"]);
    let run = usergroup(&slack, TOKEN, &["bob@example.com"])
        .run(&["plan"])
        .expect_code(4);
    assert!(
        run.stdout
            .contains("FAILED: not found: Slack usergroups.users.list failed: no_such_subteam"),
        "{}",
        run.stdout
    );
}

#[test]
fn slack_refuses_an_empty_user_group_and_the_error_says_so() {
    let slack = FakeSlack::start(TOKEN, &PEOPLE);
    slack.group("S1", &["ada@example.com", "bob@example.com"]);
    let run = usergroup(&slack, TOKEN, &[]).run(&["sync"]).expect_code(4);
    assert!(run.stdout.contains("Slack does not allow an empty user group: removing these would leave S1 with no members"), "{}", run.stdout);
    assert_eq!(slack.group_emails("S1").len(), 2);
}

#[test]
fn rate_limits_and_outages_are_waited_out_by_the_host() {
    let slack = FakeSlack::start(TOKEN, &PEOPLE);
    slack.group("S1", &["ada@example.com"]);
    slack.controls.rate_limit(1, 1);
    let run = usergroup(&slack, TOKEN, &["ada@example.com", "bob@example.com"])
        .run(&["sync"])
        .expect_code(0);
    assert!(
        run.stdout
            .contains("HTTP retries: job `people` destination `dest` 1."),
        "{}",
        run.stdout
    );
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
    assert!(
        run.stdout
            .contains("HTTP retries: job `people` destination `dest` 2."),
        "{}",
        run.stdout
    );
    assert_eq!(
        slack.group_emails("S1"),
        ["ada@example.com", "cy@example.com"]
    );
}

#[test]
fn a_channel_is_paged_through_invited_in_one_batch_and_bots_are_left_alone() {
    let slack = FakeSlack::start(TOKEN, &PEOPLE);
    slack.channel(
        "C1",
        &[
            "ada@example.com",
            "dan@example.com",
            "bot@example.com",
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
    assert!(
        run.stdout.contains("dest (add-remove): 2 added, 1 removed"),
        "{}",
        run.stdout
    );
    assert_eq!(
        slack.channel_emails("C1"),
        [
            "ada@example.com",
            "bob@example.com",
            "bot@example.com",
            "cy@example.com",
            "eve@example.com"
        ]
    );
    assert_eq!(slack.controls.count("POST /api/conversations.invite"), 1);
    assert!(
        slack.controls.count("GET /api/conversations.members") >= 2,
        "members come in pages of 3"
    );

    let writes = slack.controls.writes();
    let again = workspace.run(&["sync"]).expect_code(0);
    assert!(
        again.stdout.contains("up to date (4 unchanged)"),
        "the bot is not counted: {}",
        again.stdout
    );
    assert_eq!(slack.controls.writes(), writes);
}

#[test]
fn a_channel_rejects_unknown_emails_and_never_removes_a_bot() {
    let slack = FakeSlack::start(TOKEN, &PEOPLE);
    slack.channel("C1", &["ada@example.com"]);
    let run = channel(&slack, &["ada@example.com", "ghost@example.com"])
        .run(&["sync"])
        .expect_code(4);
    assert!(
        run.stdout
            .contains("! could not add ghost@example.com: no Slack user has this email"),
        "{}",
        run.stdout
    );
    assert_eq!(slack.channel_emails("C1"), ["ada@example.com"]);
}

#[test]
fn a_channel_with_a_bad_token_rate_limits_and_outages_behaves_like_a_user_group() {
    let slack = FakeSlack::start(TOKEN, &PEOPLE);
    slack.channel("C1", &["ada@example.com"]);
    let workspace = channel(&slack, &["ada@example.com", "bob@example.com"]);
    let config = workspace.read("allsync.toml");
    workspace.write("allsync.toml", &config.replace(TOKEN, "xoxb-wrong"));
    let run = workspace.run(&["sync"]).expect_code(4);
    assert!(
        run.stdout
            .contains("FAILED: unauthorized: Slack conversations.members failed: invalid_auth"),
        "{}",
        run.stdout
    );
    assert_eq!(slack.controls.writes(), 0);

    workspace.write("allsync.toml", &config);
    slack.controls.rate_limit(1, 1);
    workspace.run(&["plan"]).expect_code(0);
    slack.controls.outage(1);
    let run = workspace.run(&["sync"]).expect_code(0);
    assert!(
        run.stdout
            .contains("HTTP retries: job `people` destination `dest` 1."),
        "{}",
        run.stdout
    );
    assert_eq!(
        slack.channel_emails("C1"),
        ["ada@example.com", "bob@example.com"]
    );
}
