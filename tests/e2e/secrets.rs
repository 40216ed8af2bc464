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

/// One job whose source is the hostile adapter, with `config` as its
/// config table's body; runs `sync` with everything logged.
fn hostile_source(config: &str) -> crate::support::Run {
    let workspace = Workspace::with_adapters(&["file", "hostile"]);
    workspace.write("team.txt", "").write(
        "allsync.toml",
        &format!(
            "[[sync]]\nname = \"leaky\"\nallow_empty_source = true\n[sync.source]\nadapter = \"hostile\"\n\
             config = {{ {config} }}\n[[sync.destination]]\nadapter = \"file\"\n\
             directory = {{ path = \".\", writable = true }}\nconfig = {{ path = \"team.txt\" }}\n"
        ),
    );
    workspace.run(&["sync", "-vv"])
}

#[test]
fn a_secret_in_a_refused_host_name_is_redacted_whatever_its_case() {
    let run = hostile_source(
        "act = \"fetch\", url = \"http://SeCrEt-HoSt-ToKeN.invalid/\", token = \"SeCrEt-HoSt-ToKeN\"",
    )
    .expect_code(4);
    assert!(
        run.stdout
            .contains("refused a request from job `leaky` source to http://[REDACTED].invalid:80"),
        "{}",
        run.stdout
    );
    for output in [&run.stdout, &run.stderr] {
        assert!(
            !output.to_ascii_lowercase().contains("secret-host-token"),
            "{output}"
        );
    }
}

#[test]
fn a_secret_across_the_cut_of_a_long_stderr_line_is_redacted() {
    let token = "tattled-secret-0123456789";
    let run = hostile_source(&format!("act = \"tattle\", token = \"{token}\"")).expect_code(0);
    assert!(run.stderr.contains("[REDACTED]"), "{}", run.stderr);
    assert!(!run.stderr.contains("tattle"), "not even a part of it");
    assert!(!run.stderr.contains("0123456789"), "not even a part of it");
}

#[test]
fn a_secret_too_short_to_redact_is_refused_before_anything_runs() {
    let run = hostile_source("act = \"fetch\", token = \"t\"").expect_code(3);
    assert!(
        run.stderr.contains(
            "job `leaky` source: config key `token` is secret, but its value is only 1 characters long"
        ),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("GET h[REDACTED]"), "{}", run.stderr);
}

#[test]
fn logs_are_coloured_only_on_a_terminal_or_when_forced() {
    let server = ListServer::start(&[], SECRET);
    let workspace = workspace(&server);
    let coloured = |env: &[(&str, &str)]| {
        let mut env = env.to_vec();
        env.push(("PROBE_TOKEN", SECRET));
        let run = workspace.run_with_env(&["plan", "-vv"], &env);
        assert!(run.stderr.contains("DEBUG"), "{}", run.stderr);
        run.stderr.contains('\u{1b}')
    };
    assert!(!coloured(&[]), "a pipe gets no colour");
    assert!(coloured(&[("CLICOLOR_FORCE", "1")]));
    assert!(!coloured(&[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")]));
}
