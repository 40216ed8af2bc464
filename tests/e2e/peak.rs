//! Waiting for a child process, and learning the most memory it used: the
//! end-to-end tests and the benchmarks both bound allsync's.

use std::process::Child;

/// Waits for `child`; its exit code (or `None` if a signal ended it), and
/// the most memory (resident, in bytes) it ever used.
#[allow(
    clippy::zombie_processes,
    reason = "the child is reaped by wait4, which also reports its memory"
)]
pub fn wait_with_peak(child: Child) -> (Option<i32>, u64) {
    let pid = i32::try_from(child.id()).expect("a process id");
    let mut status = 0;
    // SAFETY: an all-zero rusage is valid, and wait4 only writes into it.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `pid` is our child, not yet waited for; the pointers are valid.
    assert_eq!(unsafe { libc::wait4(pid, &mut status, 0, &mut usage) }, pid);
    let code = libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status));
    // Linux gives the peak resident size in KiB.
    (code, u64::try_from(usage.ru_maxrss).unwrap_or(0) * 1024)
}
