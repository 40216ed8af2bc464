//! Outbound HTTP: an adapter reaches only the origins granted to it.

use crate::list_server::ListServer;
use crate::support::Workspace;

const TOKEN: &str = "probe-token-42";

fn workspace(server: &ListServer, allowed_hosts: Option<&str>) -> Workspace {
    let workspace = Workspace::with_adapters(&["file", "http-probe"]);
    let grant = allowed_hosts
        .map(|hosts| format!("allowed_hosts = [\"{hosts}\"]\n"))
        .unwrap_or_default();
    workspace
        .write("people.txt", "ada@example.com\nbob@example.com\n")
        .write(
            "allsync.toml",
            &format!(
                r#"
[[sync]]
name = "web"
[sync.source]
adapter = "file"
directory = {{ path = "." }}
config = {{ path = "people.txt" }}
[[sync.destination]]
name = "list"
adapter = "http-probe"
{grant}config = {{ url = "{}", token = "{TOKEN}" }}
"#,
                server.url()
            ),
        );
    workspace
}

#[test]
fn a_granted_origin_is_reached_through_wasi_http() {
    let server = ListServer::start(&["old@example.com"], TOKEN);
    let workspace = workspace(&server, Some(&server.url()));
    let run = workspace.run(&["sync"]).expect_code(0);
    assert!(
        run.stdout.contains("list (add-remove): 2 added, 1 removed"),
        "{}",
        run.stdout
    );
    assert_eq!(server.things(), ["ada@example.com", "bob@example.com"]);
}

#[test]
fn an_origin_not_granted_is_refused_before_any_request_and_the_error_says_how_to_grant_it() {
    let server = ListServer::start(&["old@example.com"], TOKEN);
    // Granted: the same host on another port, which must not cover this one.
    let other_port = format!("http://127.0.0.1:{}", server.addr.port() ^ 1);
    let workspace = workspace(&server, Some(&other_port));
    let run = workspace.run(&["sync"]).expect_code(4);
    let origin = format!("http://127.0.0.1:{}", server.addr.port());
    assert!(
        run.stdout.contains("list (add-remove): FAILED:"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains(&format!(
            "[allsync refused a request from job `web` destination `list` to {origin}: that origin is not \
             granted to it; add \"{origin}\" to its allowed_hosts in allsync.toml to allow it]"
        )),
        "{}",
        run.stdout
    );
    assert!(
        run.stderr
            .contains(&format!("to {origin}: that origin is not granted")),
        "{}",
        run.stderr
    );
    assert_eq!(server.requests(), 0, "no request reached the server");
    assert_eq!(
        server.things(),
        ["old@example.com"],
        "the destination is untouched"
    );
}

#[test]
fn with_no_allowed_hosts_an_adapter_gets_only_what_it_declares() {
    // http-probe declares no hosts, so without allowed_hosts it may reach none.
    let server = ListServer::start(&[], TOKEN);
    let workspace = workspace(&server, None);
    let run = workspace.run(&["plan"]).expect_code(4);
    assert!(
        run.stdout.contains(
            "allsync refused a request from job `web` destination `list` to http://127.0.0.1:"
        ),
        "{}",
        run.stdout
    );
    assert_eq!(server.requests(), 0);
}
