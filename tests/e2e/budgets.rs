//! Jobs that reach one origin with one token share its request budget:
//! the pace set in `rate_limits`, and a pause for all of them when one is
//! rate limited.

use crate::fakes::slack::FakeSlack;
use crate::support::Workspace;
use std::time::Duration;

const TOKEN: &str = "xoxb-shared-budget-token";
const JOBS: usize = 12;

/// `JOBS` jobs, each syncing ada into its own user group of one workspace,
/// which answers more than 20 requests a second with 429.
fn many_jobs_one_workspace(rate_limits: &str) -> (Workspace, FakeSlack) {
    let slack = FakeSlack::start(TOKEN, &["ada@example.com"]);
    slack.controls.limit_per_second(20);
    let workspace = Workspace::with_adapters(&["file", "slack-usergroup"]);
    let jobs: String = (0..JOBS)
        .map(|n| {
            slack.group(&format!("S{n}"), &[]);
            format!(
                "[[sync]]\nname = \"group-{n}\"\n[sync.source]\nadapter = \"file\"\n\
                 directory = {{ path = \".\" }}\nconfig = {{ path = \"people.txt\" }}\n\
                 [[sync.destination]]\nadapter = \"slack-usergroup\"\n\
                 allowed_hosts = [\"http://{}\"]\n\
                 config = {{ usergroup = \"S{n}\", token = \"{TOKEN}\", api_url = \"{}\" }}\n",
                slack.addr,
                slack.api_url()
            )
        })
        .collect();
    workspace
        .write("people.txt", "ada@example.com\n")
        .write("allsync.toml", &format!("{rate_limits}\n{jobs}"));
    (workspace, slack)
}

fn every_group_has_ada(slack: &FakeSlack) {
    for n in 0..JOBS {
        assert_eq!(
            slack.group_emails(&format!("S{n}")),
            ["ada@example.com"],
            "S{n}"
        );
    }
}

#[test]
fn a_rate_limit_pauses_every_job_sharing_the_token_not_just_the_one_that_hit_it() {
    let (workspace, slack) = many_jobs_one_workspace("");
    // The very first request is told to come back in two seconds.
    slack.controls.rate_limit(1, 2);
    let started = std::time::Instant::now();
    workspace.run(&["sync"]).expect_code(0);
    every_group_has_ada(&slack);
    let told = slack.controls.arrivals()[0];
    // Requests already on their way when it was told may still arrive; then
    // no job sends anything until the two seconds are over.
    let meanwhile = slack
        .controls
        .arrivals()
        .into_iter()
        .filter(|at| {
            *at > told + Duration::from_millis(300) && *at < told + Duration::from_millis(1900)
        })
        .count();
    assert_eq!(
        meanwhile, 0,
        "requests sent while the workspace asked to wait"
    );
    assert!(started.elapsed() >= Duration::from_secs(2));
}

#[test]
fn a_configured_rate_keeps_every_job_under_the_limit() {
    let (workspace, slack) = many_jobs_one_workspace(&format!(
        "rate_limits = {{ \"http://{}\" = \"15/s\" }}",
        "ADDR"
    ));
    let config = workspace
        .read("allsync.toml")
        .replace("ADDR", &slack.addr.to_string());
    workspace.write("allsync.toml", &config);
    workspace.run(&["sync"]).expect_code(0);
    every_group_has_ada(&slack);
    assert_eq!(
        slack.controls.limited().len(),
        0,
        "{} requests",
        slack.controls.requests().len()
    );
}

#[test]
fn a_rate_that_is_not_one_is_a_config_error() {
    let (workspace, _slack) = many_jobs_one_workspace(
        "rate_limits = { \"https://*.slack.com\" = \"15/s\", \"https://slack.com\" = \"fast\" }",
    );
    let run = workspace.run(&["plan"]).expect_code(3);
    assert!(
        run.stderr
            .contains("a rate is for one origin, not a wildcard"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("`fast` is not a rate"),
        "{}",
        run.stderr
    );
}
