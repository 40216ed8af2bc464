//! Progress lines: live on a terminal's stderr, one per instance at work;
//! nothing of them when stderr is not a terminal, with `--quiet`, or on
//! stdout.

use crate::fakes::slack::FakeSlack;
use crate::support::{Workspace, syncing_into_fake};
use std::fs::File;
use std::io::Read;
use std::os::fd::{FromRawFd, OwnedFd};
use std::process::{Command, Stdio};
use std::time::Duration;

const TOKEN: &str = "xoxb-progress-token";

/// A sync into a Slack user group that answers slowly, and first with a 429
/// asking for two seconds.
fn slow_sync() -> (FakeSlack, Workspace) {
    let people = ["ada@example.com", "bob@example.com", "cy@example.com"];
    let slack = FakeSlack::start(TOKEN, &people);
    slack.group("S1", &[]);
    slack.controls.latency(Duration::from_millis(150));
    slack.controls.rate_limit(1, 2);
    let config = format!(
        "usergroup = \"S1\", token = \"{TOKEN}\", api_url = \"{}\"",
        slack.api_url()
    );
    let workspace = syncing_into_fake("slack-usergroup", slack.addr, &config, &people);
    (slack, workspace)
}

/// Runs `command` with stderr on a new pseudo-terminal (160 columns) and
/// stdout on a pipe: its exit code, what the terminal showed, and stdout.
fn on_terminal(mut command: Command) -> (i32, String, String) {
    let (mut controller, mut terminal) = (0, 0);
    let size = libc::winsize {
        ws_row: 40,
        ws_col: 160,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: the out-pointers are valid; no name buffer or termios is passed.
    let opened = unsafe {
        libc::openpty(
            &mut controller,
            &mut terminal,
            std::ptr::null_mut(),
            std::ptr::null(),
            &size,
        )
    };
    assert_eq!(opened, 0, "openpty: {}", std::io::Error::last_os_error());
    // SAFETY: openpty just opened both; each is owned once, here.
    let (mut controller, terminal) = unsafe {
        (
            File::from_raw_fd(controller),
            OwnedFd::from_raw_fd(terminal),
        )
    };
    command
        .env("TERM", "xterm-256color")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::from(terminal));
    let mut child = command.spawn().unwrap();
    // The command holds the terminal's other end: drop it, so reading ends with the child.
    drop(command);
    let shown = std::thread::spawn(move || {
        let mut shown = Vec::new();
        let mut buffer = [0; 4096];
        // Reading ends with EIO once the child has closed the terminal.
        while let Ok(read @ 1..) = controller.read(&mut buffer) {
            shown.extend_from_slice(&buffer[..read]);
        }
        String::from_utf8_lossy(&shown).into_owned()
    });
    let mut stdout = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .unwrap();
    let code = child.wait().unwrap().code().unwrap_or(-1);
    (code, shown.join().unwrap(), stdout)
}

/// The separator of a progress line's parts, which nothing else prints.
const PART: &str = " · ";

#[test]
fn a_terminal_shows_each_instance_its_call_requests_things_and_the_retry_it_waits_out() {
    let (slack, workspace) = slow_sync();
    let (code, terminal, stdout) = on_terminal(workspace.command(&["sync"]));
    assert_eq!(code, 0, "{terminal}\n{stdout}");
    let destination = "job `people` destination `dest`:";
    assert!(terminal.contains(destination), "{terminal}");
    assert!(terminal.contains("job `people` source:"), "{terminal}");
    for part in ["get", "requests", "waiting", "Retry-After", "things", "add"] {
        assert!(terminal.contains(part), "{part}: {terminal}");
    }
    assert!(!stdout.contains(PART), "never on stdout: {stdout}");
    assert!(stdout.contains("dest (add-remove): 3 added"), "{stdout}");
    assert_eq!(slack.group_emails("S1").len(), 3);
}

#[test]
fn no_progress_without_a_terminal_or_with_quiet() {
    let (_slack, workspace) = slow_sync();
    let piped = workspace.run(&["sync"]).expect_code(0);
    assert!(!piped.stderr.contains(PART), "{}", piped.stderr);
    assert!(
        !piped.stderr.contains('\u{1b}'),
        "no terminal codes: {}",
        piped.stderr
    );

    let (_slack, workspace) = slow_sync();
    let (code, terminal, _) = on_terminal(workspace.command(&["--quiet", "sync"]));
    assert_eq!(code, 0, "{terminal}");
    assert!(!terminal.contains(PART), "{terminal}");
}
