//! The `entra-group` and `entra-users` adapters against the fake Microsoft
//! Graph, through the real binary: what each run reads and writes, what it
//! reports, and what it leaves alone or refuses.

use crate::conformance::{PROBE, kit, passes};
use crate::fakes::Fault;
use crate::fakes::entra::{FakeEntra, THROTTLED};
use crate::support::{Run, Workspace, syncing_into, syncing_into_fake};

const TOKEN: &str = "graph-test-token";

/// A tenant with ada, bob, cy and dan, and the group Engineering holding
/// ada, cy and dan; returns the fake and the group's id.
fn tenant() -> (FakeEntra, String) {
    let graph = FakeEntra::start(TOKEN);
    let ada = graph.user("ada@example.com");
    graph.user("bob@example.com");
    let cy = graph.user("cy@example.com");
    let dan = graph.user("dan@example.com");
    let group = graph.group("Engineering", &[&ada, &cy, &dan]);
    (graph, group)
}

/// The config of an instance reaching `graph` with `token`, naming `group`,
/// with `extra` keys (`, key = "value"`).
fn config(graph: &FakeEntra, token: &str, group: &str, extra: &str) -> String {
    format!(
        "group = \"{group}\", token = \"{token}\", api_url = \"{}\"{extra}",
        graph.api_url()
    )
}

/// A workspace syncing `people` into `group` with `extra` config.
fn group_with(graph: &FakeEntra, group: &str, extra: &str, people: &[&str]) -> Workspace {
    syncing_into_fake(
        "entra-group",
        graph.addr,
        &config(graph, TOKEN, group, extra),
        people,
    )
}

/// A workspace whose one job reads `adapter` (configured with `config`)
/// and writes what it lists into out.txt.
fn reading(adapter: &str, graph: &FakeEntra, config: &str) -> Workspace {
    let workspace = Workspace::with_adapters(&["file", adapter]);
    workspace.write("out.txt", "").write(
        "allsync.toml",
        &format!(
            "[[sync]]\nname = \"people\"\nallow_empty_source = true\n[sync.source]\nadapter = \"{adapter}\"\n\
             allowed_hosts = [\"http://{}\"]\nconfig = {{ {config} }}\n\
             [[sync.destination]]\nname = \"out\"\nadapter = \"file\"\n\
             directory = {{ path = \".\", writable = true }}\nconfig = {{ path = \"out.txt\" }}\n",
            graph.addr
        ),
    );
    workspace
}

/// What out.txt holds after a sync of [`reading`], sorted.
fn written(workspace: &Workspace) -> Vec<String> {
    let mut lines: Vec<String> = workspace
        .read("out.txt")
        .lines()
        .map(String::from)
        .collect();
    lines.sort();
    lines
}

fn says(run: &Run, text: &str) {
    assert!(
        run.stdout.contains(text) || run.stderr.contains(text),
        "expected {text:?} in\n--- stdout\n{}\n--- stderr\n{}",
        run.stdout,
        run.stderr
    );
}

/// The body of a Graph error.
fn graph_error(code: &str, message: &str) -> String {
    format!(
        r#"{{"error":{{"code":"{code}","message":"{message}","innerError":{{"date":"2024-05-01T12:00:00","request-id":"1e2d"}}}}}}"#
    )
}

// ---- entra-group ----

#[test]
fn a_group_is_paged_through_and_made_to_match_in_batches_and_a_second_run_writes_nothing() {
    let (graph, group) = tenant();
    let workspace = group_with(
        &graph,
        &group,
        "",
        &["ada@example.com", "bob@example.com", "cy@example.com"],
    );
    let plan = workspace.run(&["plan"]).expect_code(0);
    says(&plan, "1 to add, 1 to remove");
    assert_eq!(graph.controls.writes(), 0, "a plan sends no batch at all");
    let members = format!("GET /v1.0/groups/{group}/members");
    assert_eq!(
        graph.controls.count(&members),
        2,
        "three members, in pages of 2"
    );

    let run = workspace.run(&["sync"]).expect_code(0);
    says(&run, "dest (add-remove): 1 added, 1 removed");
    assert_eq!(
        graph.members(&group),
        ["ada@example.com", "bob@example.com", "cy@example.com"]
    );
    let bob = &graph.batched()[0];
    assert!(
        bob.starts_with("GET /users?$filter=mail eq 'bob@example.com'&$select="),
        "{bob}"
    );
    assert_eq!(
        graph.batched_count(&format!("POST /groups/{group}/members/$ref")),
        1
    );
    assert_eq!(
        graph.batched_count(&format!("DELETE /groups/{group}/members/")),
        1
    );
    assert_eq!(
        graph.batch_sizes(),
        [1, 1, 1],
        "a lookup, an add, a removal"
    );

    let changes = graph.changes();
    let run = workspace.run(&["sync"]).expect_code(0);
    says(&run, "up to date");
    assert_eq!(graph.changes(), changes, "the second run changes nothing");
}

#[test]
fn a_group_is_found_by_display_name_and_a_name_two_groups_share_is_refused_with_their_ids() {
    let (graph, group) = tenant();
    let run = group_with(
        &graph,
        "Engineering",
        "",
        &["ada@example.com", "cy@example.com", "dan@example.com"],
    )
    .run(&["sync"])
    .expect_code(0);
    says(&run, "up to date");
    assert_eq!(
        graph
            .controls
            .count("GET /v1.0/groups?$filter=displayName%20eq%20%27Engineering%27"),
        1
    );

    let twin = graph.group("Engineering", &[]);
    let run = group_with(&graph, "Engineering", "", &["ada@example.com"])
        .run(&["plan"])
        .expect_code(4);
    says(
        &run,
        &format!(
            "invalid config: 2 groups have the display name \"Engineering\" (ids {group}, {twin}): \
             set `group` to the object id of the one to sync"
        ),
    );
    let run = group_with(&graph, "Nobody's group", "", &["ada@example.com"])
        .run(&["plan"])
        .expect_code(4);
    says(
        &run,
        "not found: no group has the display name (or object id) \"Nobody's group\"",
    );
}

#[test]
fn nested_groups_service_principals_devices_and_contacts_are_left_alone() {
    let (graph, group) = tenant();
    let leads = graph.group("Leads", &[]);
    graph.add_member(&group, &leads);
    for (kind, name) in [
        ("servicePrincipal", "deploy-bot"),
        ("device", "laptop-7"),
        ("orgContact", "auditor"),
    ] {
        let object = graph.object(kind, name);
        graph.add_member(&group, &object);
    }
    let run = group_with(
        &graph,
        &group,
        "",
        &["ada@example.com", "leads@groups.example"],
    )
    .run(&["sync"])
    .expect_code(4);
    says(&run, "left alone 4 member(s) of group \"Engineering\"");
    says(
        &run,
        "): 1 device, 1 group, 1 orgContact, 1 servicePrincipal; only users are synced",
    );
    says(
        &run,
        "! could not add leads@groups.example: no user in the directory has mail leads@groups.example",
    );
    says(&run, "dest (add-remove): 0 added, 2 removed");
    assert_eq!(
        graph.members(&group),
        [
            "ada@example.com",
            "device:laptop-7",
            "group:Leads",
            "orgContact:auditor",
            "servicePrincipal:deploy-bot"
        ],
        "only the users cy and dan were removed"
    );
}

#[test]
fn guests_are_left_alone_and_refused_unless_included() {
    let (graph, group) = tenant();
    let gus = graph.guest("gus@partner.example");
    graph.add_member(&group, &gus);
    graph.guest("gia@partner.example");
    let people = [
        "ada@example.com",
        "cy@example.com",
        "dan@example.com",
        "gia@partner.example",
    ];
    let run = group_with(&graph, &group, "", &people)
        .run(&["sync"])
        .expect_code(4);
    says(&run, "1 guest (include_guests is false)");
    says(&run, "! could not add gia@partner.example: user ");
    says(
        &run,
        "is a guest account (userType Guest or a #EXT# UPN): set include_guests = true to sync guests",
    );
    assert!(
        graph
            .members(&group)
            .contains(&"gus@partner.example".to_string()),
        "gus is not removed"
    );

    let run = group_with(&graph, &group, ", include_guests = true", &people)
        .run(&["sync"])
        .expect_code(0);
    says(&run, "dest (add-remove): 1 added, 1 removed");
    assert_eq!(
        graph.members(&group),
        [
            "ada@example.com",
            "cy@example.com",
            "dan@example.com",
            "gia@partner.example"
        ]
    );
}

#[test]
fn users_without_mail_are_synced_by_their_upn_only_when_match_says_so() {
    let (graph, group) = tenant();
    let eve = graph.user_without_mail("eve@corp.example");
    graph.add_member(&group, &eve);
    graph.user_without_mail("fay@corp.example");
    let people = [
        "ada@example.com",
        "cy@example.com",
        "dan@example.com",
        "fay@corp.example",
    ];
    let run = group_with(&graph, &group, "", &people)
        .run(&["sync"])
        .expect_code(4);
    says(&run, "1 user without mail (see `match`)");
    says(
        &run,
        "! could not add fay@corp.example: no user in the directory has mail fay@corp.example",
    );

    let run = group_with(
        &graph,
        &group,
        ", match = \"mail,userPrincipalName\"",
        &people,
    )
    .run(&["sync"])
    .expect_code(0);
    says(&run, "dest (add-remove): 1 added, 1 removed");
    assert_eq!(
        graph.members(&group),
        [
            "ada@example.com",
            "cy@example.com",
            "dan@example.com",
            "fay@corp.example"
        ],
        "eve, known by her UPN now, was not in the source"
    );
    assert!(
        graph.batched().iter().any(|line| line
            .contains("mail eq 'fay@corp.example' or userPrincipalName eq 'fay@corp.example'")),
        "{:?}",
        graph.batched()
    );
}

#[test]
fn an_email_no_user_has_is_rejected_and_the_rest_applied() {
    let (graph, group) = tenant();
    let run = group_with(
        &graph,
        &group,
        "",
        &[
            "ada@example.com",
            "bob@example.com",
            "cy@example.com",
            "dan@example.com",
            "stranger@example.com",
        ],
    )
    .run(&["sync"])
    .expect_code(4);
    says(
        &run,
        "! could not add stranger@example.com: no user in the directory has mail stranger@example.com",
    );
    says(&run, "dest (add-remove): 1 added, 0 removed");
    assert!(
        graph
            .members(&group)
            .contains(&"bob@example.com".to_string())
    );
}

#[test]
fn already_a_member_and_no_longer_a_member_are_not_failures() {
    let (graph, group) = tenant();
    graph.inject_in_batch(Fault::on(&format!("POST /groups/{group}/members/$ref"), 400).body(&graph_error(
        "Request_BadRequest",
        "One or more added object references already exist for the following modified properties: 'members'.",
    )));
    graph.inject_in_batch(Fault::on(&format!("DELETE /groups/{group}/members/"), 404).body(&graph_error(
        "Request_ResourceNotFound",
        &format!("Resource '{group}' does not exist or one of its queried reference-property objects are not present."),
    )));
    let run = group_with(
        &graph,
        &group,
        "",
        &["ada@example.com", "bob@example.com", "cy@example.com"],
    )
    .run(&["sync"])
    .expect_code(0);
    says(&run, "dest (add-remove): 1 added, 1 removed");
    let group_check = format!("GET /v1.0/groups/{group}?$select=id");
    assert_eq!(
        graph
            .controls
            .requests()
            .iter()
            .filter(|line| **line == group_check)
            .count(),
        1,
        "a 404 is the member's only once the group is known to exist"
    );
}

#[test]
fn a_throttled_request_inside_a_batch_is_waited_out_and_sent_again() {
    let (graph, group) = tenant();
    graph.user("eve@example.com");
    let adds = format!("POST /groups/{group}/members/$ref");
    graph.inject_in_batch(
        Fault::on(&adds, 429)
            .header("Retry-After", "1")
            .body(THROTTLED),
    );
    let run = group_with(
        &graph,
        &group,
        "",
        &[
            "ada@example.com",
            "bob@example.com",
            "cy@example.com",
            "dan@example.com",
            "eve@example.com",
        ],
    )
    .run(&["sync"])
    .expect_code(0);
    says(&run, "dest (add-remove): 2 added, 0 removed");
    says(
        &run,
        "Graph throttled 1 request(s) of a $batch (HTTP 429): sending them again in 1 s",
    );
    assert_eq!(graph.batched_count(&adds), 3, "two adds, one of them twice");
    assert_eq!(
        graph.batch_sizes(),
        [2, 2, 1],
        "the lookups, the adds, the one throttled"
    );
    assert!(
        !run.stdout.contains("HTTP retries"),
        "the host never saw a 429: {}",
        run.stdout
    );
}

#[test]
fn a_request_throttled_past_the_wait_budget_is_rejected_as_throttled() {
    let (graph, group) = tenant();
    let adds = format!("POST /groups/{group}/members/$ref");
    graph.inject_in_batch(
        Fault::on(&adds, 429)
            .header("Retry-After", "45")
            .body(THROTTLED),
    );
    let run = group_with(
        &graph,
        &group,
        "",
        &[
            "ada@example.com",
            "bob@example.com",
            "cy@example.com",
            "dan@example.com",
        ],
    )
    .run(&["sync"])
    .expect_code(4);
    says(
        &run,
        "FAILED: add failed: rate limited: the service asks to retry in 45 s",
    );
    assert_eq!(
        graph.batched_count(&adds),
        1,
        "not waited for: 45 s is over the budget"
    );
}

#[test]
fn rate_limits_and_a_server_error_on_page_two_are_waited_out_by_the_host() {
    let (graph, group) = tenant();
    graph.controls.rate_limit(1, 1);
    let members = format!("GET /v1.0/groups/{group}/members");
    graph.controls.inject(
        Fault::on(&members, 503)
            .after(1)
            .body(&graph_error("serviceNotAvailable", "Service unavailable")),
    );
    let run = group_with(
        &graph,
        &group,
        "",
        &["ada@example.com", "cy@example.com", "dan@example.com"],
    )
    .run(&["sync"])
    .expect_code(0);
    says(&run, "up to date");
    says(&run, "HTTP retries: job `people` destination `dest` 2.");
    assert_eq!(graph.controls.count(&members), 3, "page 2 asked for twice");
}

#[test]
fn a_bad_token_is_unauthorized_at_once_and_never_shown() {
    let (graph, group) = tenant();
    let run = syncing_into_fake(
        "entra-group",
        graph.addr,
        &config(&graph, "wrong-graph-token", &group, ""),
        &["bob@example.com"],
    )
    .run(&["sync"])
    .expect_code(4);
    says(
        &run,
        &format!(
            "FAILED: unauthorized: read group {group}: HTTP 401 InvalidAuthenticationToken: Access token validation failure."
        ),
    );
    says(&run, "(check the instance's `credentials`, or its `token`)");
    assert!(!run.stdout.contains("HTTP retries"), "{}", run.stdout);
    assert_eq!(graph.controls.requests().len(), 1, "no retry");
    for output in [&run.stdout, &run.stderr] {
        assert!(!output.contains("wrong-graph-token"), "{output}");
    }
}

#[test]
fn without_a_token_no_authorization_header_is_sent() {
    let (graph, group) = tenant();
    let config = format!("group = \"{group}\", api_url = \"{}\"", graph.api_url());
    let run = syncing_into_fake("entra-group", graph.addr, &config, &["ada@example.com"])
        .run(&["plan"])
        .expect_code(4);
    says(
        &run,
        "HTTP 401 InvalidAuthenticationToken: Access token is empty.",
    );
}

#[test]
fn a_failure_half_way_through_a_batch_reports_exactly_what_was_applied() {
    let (graph, group) = tenant();
    let eve = graph.user("eve@example.com");
    graph.inject_in_batch(
        Fault::on(&format!("POST /groups/{group}/members/$ref {eve}"), 500)
            .body(&graph_error("UnknownError", "Backend failure")),
    );
    let people = [
        "ada@example.com",
        "bob@example.com",
        "cy@example.com",
        "eve@example.com",
    ];
    let workspace = group_with(&graph, &group, "", &people);
    let run = workspace.run(&["sync"]).expect_code(4);
    says(&run, "dest (add-remove): 1 added, 1 removed");
    says(
        &run,
        "! could not add eve@example.com: not applied: add eve@example.com to group \"Engineering\"",
    );
    says(&run, "HTTP 500 UnknownError: Backend failure");
    assert_eq!(
        graph.members(&group),
        ["ada@example.com", "bob@example.com", "cy@example.com"]
    );

    let run = workspace.run(&["sync"]).expect_code(0);
    says(&run, "dest (add-remove): 1 added, 0 removed");
}

#[test]
fn a_batch_that_fails_as_a_whole_stops_the_call_and_rejects_exactly_what_was_not_applied() {
    let graph = FakeEntra::start(TOKEN);
    let group = graph.group("Everyone", &[]);
    let people: Vec<String> = (1..=25)
        .map(|n| format!("user{n:02}@example.com"))
        .collect();
    for email in &people {
        graph.user(email);
    }
    // Two batches of lookups (20 and 5), then the adds: the second of those fails.
    graph.controls.inject(
        Fault::on("POST /v1.0/$batch", 500)
            .after(3)
            .body(&graph_error("UnknownError", "")),
    );
    let people: Vec<&str> = people.iter().map(String::as_str).collect();
    let run = group_with(&graph, &group, ", concurrency = 1", &people)
        .run(&["sync"])
        .expect_code(4);
    says(&run, "dest (add-remove): 20 added, 0 removed");
    says(
        &run,
        "! could not add user21@example.com: not applied: add members to group \"Everyone\"",
    );
    assert_eq!(graph.members(&group).len(), 20);
    assert_eq!(
        graph.batch_sizes(),
        [20, 5, 20],
        "the failed batch never reached the fake's handler"
    );
}

#[test]
fn a_source_spelt_in_another_case_never_gets_one_user_added_and_removed() {
    let (graph, group) = tenant();
    let destination = format!(
        "adapter = \"entra-group\"\nallowed_hosts = [\"http://{}\"]\ncase_sensitive = true\nconfig = {{ {} }}",
        graph.addr,
        config(&graph, TOKEN, &group, "")
    );
    let run = syncing_into(
        &destination,
        &["ADA@example.com", "cy@example.com", "dan@example.com"],
    )
    .run(&["sync"])
    .expect_code(4);
    says(
        &run,
        "! could not remove ada@example.com: ada@example.com is account",
    );
    says(&run, "which this run already added under another spelling");
    assert_eq!(graph.changes(), 0, "ada was a member already");
}

#[test]
fn transitive_members_are_read_as_a_source_and_changes_refused() {
    let (graph, group) = tenant();
    let hal = graph.user("hal@example.com");
    let leads = graph.group("Leads", &[&hal]);
    graph.add_member(&group, &leads);
    let workspace = reading(
        "entra-group",
        &graph,
        &config(&graph, TOKEN, &group, ", transitive = true"),
    );
    workspace.run(&["sync"]).expect_code(0);
    assert_eq!(
        written(&workspace),
        [
            "ada@example.com",
            "cy@example.com",
            "dan@example.com",
            "hal@example.com"
        ]
    );
    assert_eq!(
        graph
            .controls
            .count(&format!("GET /v1.0/groups/{group}/transitiveMembers")),
        3
    );

    let run = group_with(&graph, &group, ", transitive = true", &["ada@example.com"])
        .run(&["sync"])
        .expect_code(4);
    says(
        &run,
        "unsupported: transitive = true reads the members of nested groups too",
    );
    assert_eq!(graph.changes(), 0);
}

#[test]
fn a_group_whose_members_a_rule_decides_is_never_changed() {
    let (graph, group) = tenant();
    graph.make_dynamic(&group);
    let run = group_with(&graph, &group, "", &["ada@example.com"])
        .run(&["sync"])
        .expect_code(4);
    says(&run, "unsupported: group \"Engineering\" (");
    says(
        &run,
        "has dynamic membership: its membership rule decides its members",
    );
    assert_eq!(graph.changes(), 0);
}

#[test]
fn the_entra_group_adapter_passes_the_conformance_kit() {
    let (graph, group) = tenant();
    graph.user(PROBE);
    let api = format!("api_url={}", graph.api_url());
    let group = format!("group={group}");
    let token = format!("token={TOKEN}");
    let host = format!("http://{}", graph.addr);
    passes(kit(
        "entra-group",
        &[
            "--config",
            &token,
            "--config",
            &group,
            "--config",
            &api,
            "--allow-host",
            &host,
        ],
    ));
}

// ---- entra-users ----

/// A tenant of users in two departments, a disabled one, a guest, one
/// without mail; more than a page of them.
fn directory() -> FakeEntra {
    let graph = FakeEntra::start(TOKEN);
    graph.user_in("ada@example.com", "Engineering");
    graph.user_in("bob@example.com", "Sales");
    graph.user_in("cy@example.com", "Engineering");
    graph.disabled_user("old@example.com");
    graph.guest("gus@partner.example");
    graph.user_without_mail("eve@corp.example");
    graph.user_in("dan@other.example", "Engineering");
    graph
}

fn users_config(graph: &FakeEntra, extra: &str) -> String {
    format!(
        "token = \"{TOKEN}\", api_url = \"{}\"{extra}",
        graph.api_url()
    )
}

#[test]
fn every_user_is_read_page_by_page_leaving_out_the_disabled_guests_and_those_without_mail() {
    let graph = directory();
    let workspace = reading("entra-users", &graph, &users_config(&graph, ""));
    let run = workspace.run(&["sync"]).expect_code(0);
    assert_eq!(
        written(&workspace),
        [
            "ada@example.com",
            "bob@example.com",
            "cy@example.com",
            "dan@other.example"
        ]
    );
    says(
        &run,
        "left alone 3 user(s) listed: 1 disabled (include_disabled is false), \
         1 guest (include_guests is false), 1 user without mail (see `match`)",
    );
    assert_eq!(
        graph.controls.count("GET /v1.0/users?"),
        4,
        "seven users, in pages of 2"
    );

    let workspace = reading(
        "entra-users",
        &graph,
        &users_config(&graph, ", include_disabled = true, include_guests = true"),
    );
    workspace.run(&["sync"]).expect_code(0);
    assert!(written(&workspace).contains(&"old@example.com".to_string()));
    assert!(written(&workspace).contains(&"gus@partner.example".to_string()));
}

#[test]
fn a_filter_is_sent_as_an_advanced_query_so_ne_and_endswith_work() {
    let graph = directory();
    let filter = ", filter = \"department eq 'Engineering' and endsWith(mail,'@example.com')\"";
    let workspace = reading("entra-users", &graph, &users_config(&graph, filter));
    workspace.run(&["sync"]).expect_code(0);
    assert_eq!(written(&workspace), ["ada@example.com", "cy@example.com"]);
    let first = graph.controls.requests()[0].clone();
    assert!(first.contains("$count=true"), "{first}");
    assert!(
        first.contains("$filter=department%20eq%20%27Engineering%27%20and%20endsWith"),
        "{first}"
    );

    let requests = graph.controls.requests().len();
    let workspace = reading(
        "entra-users",
        &graph,
        &users_config(&graph, ", filter = \"department ne 'Sales'\""),
    );
    workspace.run(&["sync"]).expect_code(0);
    assert_eq!(
        written(&workspace),
        ["ada@example.com", "cy@example.com", "dan@other.example"]
    );
    assert_eq!(
        graph.controls.requests().len() - requests,
        3,
        "six users in pages of 2, each page sent with ConsistencyLevel (the fake refuses `ne` without it)"
    );
}

#[test]
fn a_filter_graph_cannot_run_is_reported_with_graphs_own_message() {
    let graph = directory();
    let run = reading(
        "entra-users",
        &graph,
        &users_config(&graph, ", filter = \"shoeSize eq 42\""),
    )
    .run(&["plan"])
    .expect_code(4);
    says(
        &run,
        "list the users matching \"shoeSize eq 42\": HTTP 400 Request_UnsupportedQuery",
    );
}

#[test]
fn the_entra_users_adapter_passes_the_conformance_kit() {
    let graph = directory();
    let api = format!("api_url={}", graph.api_url());
    let token = format!("token={TOKEN}");
    let host = format!("http://{}", graph.addr);
    passes(kit(
        "entra-users",
        &[
            "--config",
            &token,
            "--config",
            "filter=department eq 'Engineering'",
            "--config",
            &api,
            "--allow-host",
            &host,
        ],
    ));
}
