//! How the `file` adapter writes real files: through symbolic links, keeping
//! mode, owner, line endings and byte-order marks, leaving nothing behind.

use crate::support::{Workspace, syncing_into};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

/// The destination: `team.txt` in the folder `lists`, granted writable.
const DESTINATION: &str = "adapter = \"file\"\n\
                           directory = { path = \"lists\", writable = true }\n\
                           config = { path = \"team.txt\" }";

/// A workspace syncing `people` into `lists/team.txt`, which holds `team`.
fn syncing_into_team(people: &[&str], team: &str) -> Workspace {
    let workspace = syncing_into(DESTINATION, people);
    std::fs::create_dir(workspace.path("lists")).unwrap();
    workspace.write("lists/team.txt", team);
    workspace
}

/// Runs a sync, then checks that a second one finds nothing left to do.
fn sync_to_a_standstill(workspace: &Workspace) {
    workspace.run(&["sync"]).expect_code(0);
    let again = workspace.run(&["sync", "--json"]).expect_code(0).json();
    let destination = &again["jobs"][0]["destinations"][0];
    assert_eq!(destination["status"], "up-to-date", "{destination}");
}

fn is_link(path: &Path) -> bool {
    path.symlink_metadata().unwrap().file_type().is_symlink()
}

#[test]
fn a_linked_destination_is_written_through_the_link() {
    let workspace = syncing_into_team(&["ann@x.com", "bob@x.com"], "");
    std::fs::create_dir(workspace.path("lists/real")).unwrap();
    workspace.write("lists/real/team.txt", "ann@x.com\n");
    std::fs::remove_file(workspace.path("lists/team.txt")).unwrap();
    std::os::unix::fs::symlink("real/team.txt", workspace.path("lists/team.txt")).unwrap();

    sync_to_a_standstill(&workspace);
    assert!(is_link(&workspace.path("lists/team.txt")), "still a link");
    assert_eq!(
        workspace.read("lists/real/team.txt"),
        "ann@x.com\nbob@x.com\n"
    );
}

#[test]
fn a_link_leading_outside_the_granted_folder_is_refused_and_nothing_changes() {
    let workspace = syncing_into_team(&["ann@x.com", "bob@x.com"], "");
    workspace.write("outside.txt", "ann@x.com\n");
    let absolute = workspace.path("outside.txt");
    for target in [Path::new("../outside.txt"), absolute.as_path()] {
        let link = workspace.path("lists/team.txt");
        std::fs::remove_file(&link).unwrap();
        std::os::unix::fs::symlink(target, &link).unwrap();

        let run = workspace.run(&["sync"]).expect_code(4);
        assert!(
            run.stdout
                .contains("cannot read `team.txt`: it is a symbolic link")
                && run.stdout.contains("that this adapter cannot follow")
                && run
                    .stdout
                    .contains("grant the directory that holds the file itself"),
            "{target:?}: {}",
            run.stdout
        );
        assert!(is_link(&link));
        assert_eq!(workspace.read("outside.txt"), "ann@x.com\n");
    }
}

#[test]
fn a_private_file_stays_private() {
    let workspace = syncing_into_team(&["ann@x.com", "bob@x.com"], "ann@x.com\n");
    let team = workspace.path("lists/team.txt");
    std::fs::set_permissions(&team, std::fs::Permissions::from_mode(0o600)).unwrap();

    sync_to_a_standstill(&workspace);
    assert_eq!(workspace.read("lists/team.txt"), "ann@x.com\nbob@x.com\n");
    let mode = std::fs::metadata(&team).unwrap().mode() & 0o777;
    assert_eq!(mode, 0o600, "mode {mode:o}");
}

#[test]
fn a_file_keeps_its_owner_and_stays_the_same_file() {
    let workspace = syncing_into_team(&["bob@x.com"], "ann@x.com\n");
    let team = workspace.path("lists/team.txt");
    // Only root can give a file away; anyone can check it stays the same file.
    let as_root = std::fs::metadata(&team).unwrap().uid() == 0;
    if as_root {
        std::os::unix::fs::chown(&team, Some(65534), Some(65534)).unwrap();
    }
    let before = std::fs::metadata(&team).unwrap();

    sync_to_a_standstill(&workspace);
    assert_eq!(workspace.read("lists/team.txt"), "bob@x.com\n");
    let after = std::fs::metadata(&team).unwrap();
    assert_eq!(after.ino(), before.ino(), "written in place, not replaced");
    assert_eq!((after.uid(), after.gid()), (before.uid(), before.gid()));
    if as_root {
        assert_eq!(after.uid(), 65534, "still nobody's");
    }
}

#[test]
fn a_crlf_file_stays_crlf() {
    let workspace = syncing_into_team(
        &["ann@x.com", "bob@x.com"],
        "# the team\r\nann@x.com\r\nken@x.com\r\n",
    );
    sync_to_a_standstill(&workspace);
    assert_eq!(
        workspace.read("lists/team.txt"),
        "# the team\r\nann@x.com\r\nbob@x.com\r\n"
    );
}

#[test]
fn a_source_with_a_byte_order_mark_syncs_its_first_person_as_they_are() {
    let workspace = syncing_into_team(&[], "\u{feff}ann@x.com\n");
    workspace.write("people.txt", "\u{feff}ann@x.com\nbob@x.com\n");

    let plan = workspace.run(&["plan"]).expect_code(0);
    assert!(
        plan.stdout
            .contains("dest (add-remove): 1 to add, 1 unchanged\n    + bob@x.com\n"),
        "{}",
        plan.stdout
    );
    assert!(!plan.stdout.contains("    - "), "{}", plan.stdout);
    sync_to_a_standstill(&workspace);
    assert_eq!(
        workspace.read("lists/team.txt"),
        "\u{feff}ann@x.com\nbob@x.com\n",
        "the destination keeps its byte-order mark"
    );
}

#[test]
fn a_csv_with_a_short_row_syncs_and_keeps_its_rows() {
    let workspace = syncing_into(
        "adapter = \"file\"\ndirectory = { path = \".\", writable = true }\n\
         config = { path = \"roster.csv\" }",
        &["ann@x.com", "bob@x.com"],
    );
    workspace.write(
        "roster.csv",
        "email,name\n\"ann@x.com\"\nken@x.com,\"Ken, K.\"\n",
    );
    sync_to_a_standstill(&workspace);
    assert_eq!(
        workspace.read("roster.csv"),
        "email,name\n\"ann@x.com\"\nbob@x.com,\n"
    );
}

#[test]
fn a_sync_leaves_no_backup_or_temporary_file_behind() {
    let workspace = syncing_into_team(&["ann@x.com", "bob@x.com"], "ann@x.com\nken@x.com\n");
    sync_to_a_standstill(&workspace);
    let left: Vec<String> = std::fs::read_dir(workspace.path("lists"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(left, ["team.txt"]);
}
