//! Live progress on a terminal: one line on stderr per adapter instance at
//! work (its call, requests, things so far, a retry waiting out a
//! `Retry-After`), redrawn ten times a second and cleared as each finishes.
//! Off when stderr is not a terminal, and with `--quiet`; never on stdout.
//! Log lines are printed above the progress lines, not through them.

use allsync_runtime::{Activity, Snapshot};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::collections::HashMap;
use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock, PoisonError, Weak};
use std::time::Duration;

/// How often the lines are redrawn.
const REDRAW: Duration = Duration::from_millis(100);

/// The progress lines of a run, or nothing; clones share them.
#[derive(Clone, Default)]
pub struct Progress {
    lines: Option<Arc<Lines>>,
}

struct Lines {
    multi: MultiProgress,
    tracked: Mutex<HashMap<String, (ProgressBar, Activity)>>,
}

/// The lines being drawn, for log lines to be printed above them.
static DRAWING: OnceLock<MultiProgress> = OnceLock::new();

impl Progress {
    /// No progress lines.
    pub fn off() -> Self {
        Progress::default()
    }

    /// Progress lines on stderr if it is a terminal, else nothing.
    pub fn on_stderr() -> Self {
        let target = ProgressDrawTarget::stderr_with_hz(20);
        if target.is_hidden() {
            return Progress::off();
        }
        let multi = DRAWING
            .get_or_init(|| MultiProgress::with_draw_target(target))
            .clone();
        let lines = Arc::new(Lines {
            multi,
            tracked: Mutex::default(),
        });
        redraw_while_alive(Arc::downgrade(&lines));
        Progress { lines: Some(lines) }
    }

    /// A new activity for the instance `label`, with a line of its own while it is tracked.
    pub fn track(&self, label: &str) -> Activity {
        let activity = Activity::default();
        if let Some(lines) = &self.lines {
            let bar = lines.multi.add(ProgressBar::new_spinner());
            bar.set_style(
                ProgressStyle::with_template("{spinner} {prefix}: {wide_msg}")
                    .expect("a valid template"),
            );
            bar.set_prefix(label.to_string());
            bar.set_message("starting");
            lines
                .tracked()
                .insert(label.to_string(), (bar, activity.clone()));
        }
        activity
    }

    /// Clears the line of the instance `label`: it has finished.
    pub fn finish(&self, label: &str) {
        let Some(lines) = &self.lines else { return };
        let finished = lines.tracked().remove(label);
        if let Some((bar, _)) = finished {
            bar.finish_and_clear();
            lines.multi.remove(&bar);
        }
    }
}

impl Lines {
    fn tracked(&self) -> std::sync::MutexGuard<'_, HashMap<String, (ProgressBar, Activity)>> {
        self.tracked.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn redraw(&self) {
        for (bar, activity) in self.tracked().values() {
            bar.set_message(describe(&activity.snapshot()));
            bar.tick();
        }
    }
}

/// Redraws the lines until the last [`Progress`] holding them is gone.
fn redraw_while_alive(lines: Weak<Lines>) {
    std::thread::spawn(move || {
        while let Some(lines) = lines.upgrade() {
            lines.redraw();
            drop(lines);
            std::thread::sleep(REDRAW);
        }
    });
}

/// One instance's line: `add · 12 requests · 300 things · retry 2 in 14 s`.
pub fn describe(now: &Snapshot) -> String {
    let Some(call) = now.call else {
        return "starting".to_string();
    };
    let mut parts = vec![match now.busy {
        true => call.to_string(),
        false => format!("{call} done"),
    }];
    parts.push(plural(now.requests, "request"));
    if now.call != Some("init") {
        parts.push(plural(now.things, "thing"));
    }
    match now.waiting {
        Some(wait) => parts.push(format!(
            "retry {} waiting {} s (Retry-After or backoff)",
            now.retries,
            wait.as_secs_f64().ceil()
        )),
        None if now.retries > 0 => parts.push(plural(now.retries, "retry")),
        None => {}
    }
    parts.join(" · ")
}

fn plural(count: u64, noun: &str) -> String {
    match (count, noun) {
        (1, _) => format!("1 {noun}"),
        (_, "retry") => format!("{count} retries"),
        _ => format!("{count} {noun}s"),
    }
}

/// Where log lines go: stderr, above the progress lines while they are drawn.
pub fn log_writer() -> LogWriter {
    LogWriter(Vec::new())
}

/// One log line on its way to stderr.
pub struct LogWriter(Vec<u8>);

impl Write for LogWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        let bytes = std::mem::take(&mut self.0);
        let write = || std::io::stderr().write_all(&bytes);
        match DRAWING.get() {
            Some(multi) => multi.suspend(write),
            None => write(),
        }
    }
}

impl Drop for LogWriter {
    fn drop(&mut self) {
        let _ = self.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snapshot(call: &'static str, busy: bool) -> Snapshot {
        Snapshot {
            call: Some(call),
            busy,
            requests: 12,
            retries: 0,
            things: 300,
            waiting: None,
        }
    }

    #[test]
    fn a_line_says_the_call_its_requests_and_things() {
        assert_eq!(
            describe(&snapshot("add", true)),
            "add · 12 requests · 300 things"
        );
        assert_eq!(
            describe(&snapshot("get", false)),
            "get done · 12 requests · 300 things"
        );
    }

    #[test]
    fn a_waiting_retry_says_for_how_long() {
        let now = Snapshot {
            retries: 2,
            waiting: Some(Duration::from_millis(13_200)),
            ..snapshot("remove", true)
        };
        assert_eq!(
            describe(&now),
            "remove · 12 requests · 300 things · retry 2 waiting 14 s (Retry-After or backoff)"
        );
        let over = Snapshot {
            waiting: None,
            ..now
        };
        assert_eq!(
            describe(&over),
            "remove · 12 requests · 300 things · 2 retries"
        );
    }

    #[test]
    fn off_tracks_activity_without_drawing() {
        let progress = Progress::off();
        let activity = progress.track("job `a` source");
        assert_eq!(activity.snapshot().call, None);
        progress.finish("job `a` source");
    }
}
