//! Secret config values never appear in output or logs, even when an
//! adapter prints them (`http-probe` echoes its token on purpose).

use crate::list_server::ListServer;
use crate::support::{Workspace, syncing_into_fake};

const SECRET: &str = "xoxb-very-secret-0451";

fn workspace(server: &ListServer) -> Workspace {
    let config = format!("url = \"{}\", token = \"${{PROBE_TOKEN}}\"", server.url());
    syncing_into_fake("http-probe", server.addr, &config, &["ada@example.com"])
}

#[test]
fn a_secret_never_appears_in_plan_sync_or_logs() {
    let server = ListServer::start(&["old@example.com"], SECRET);
    let workspace = workspace(&server);
    let quiet = [("PROBE_TOKEN", SECRET)];
    let tracing_everything = [("PROBE_TOKEN", SECRET), ("RUST_LOG", "trace")];
    for (args, env) in [
        (&["plan", "-vv"][..], &quiet[..]),
        (&["plan", "--json"], &tracing_everything),
        (&["sync", "-vv"], &tracing_everything),
        (&["sync", "--json"], &quiet),
    ] {
        let run = workspace.run_with_env(args, env);
        assert_eq!(run.code, 0, "{args:?}: {}{}", run.stdout, run.stderr);
        assert!(
            !run.stdout.contains(SECRET) && !run.stderr.contains(SECRET),
            "{args:?} leaked the secret"
        );
        assert!(
            run.stderr.contains("starting with token [REDACTED]"),
            "{args:?}: {}",
            run.stderr
        );
    }
    assert_eq!(server.things(), ["ada@example.com"]);
}

#[test]
fn a_secret_echoed_in_an_adapter_error_is_redacted() {
    let server = ListServer::start(&[], "the-server-expects-another-token");
    let workspace = workspace(&server);
    let run = workspace
        .run_with_env(&["sync", "-vv"], &[("PROBE_TOKEN", SECRET)])
        .expect_code(4);
    assert!(
        run.stdout
            .contains("FAILED: unauthorized: token [REDACTED] was refused"),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains(SECRET) && !run.stderr.contains(SECRET));
}
