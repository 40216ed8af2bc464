//! What one adapter instance is doing, as it does it: the call under way,
//! its HTTP requests and retries, a `Retry-After` being waited out, and
//! how many things its calls have carried. Clones share it; the host
//! records, anyone may read (progress lines, summaries).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// One instance's activity, shared by its clones.
#[derive(Debug, Clone, Default)]
pub struct Activity {
    shared: Arc<Shared>,
}

#[derive(Debug, Default)]
struct Shared {
    requests: AtomicU64,
    retries: AtomicU64,
    moment: Mutex<Moment>,
}

/// What changes together: the call, its things, the wait.
#[derive(Debug, Default, Clone)]
struct Moment {
    call: Option<&'static str>,
    busy: bool,
    things: u64,
    waiting_until: Option<Instant>,
}

/// The activity at one moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    /// The call under way (`get`, `add`, `remove`, `apply`...), or the last one made.
    pub call: Option<&'static str>,
    /// Whether that call is still under way.
    pub busy: bool,
    /// HTTP requests sent, retries included.
    pub requests: u64,
    /// Requests sent again after a 429, a 5xx or a failed connection.
    pub retries: u64,
    /// Things the calls of the current kind have returned or been given.
    pub things: u64,
    /// How much longer a retry waits (a `Retry-After`, or backoff), if one is waiting.
    pub waiting: Option<Duration>,
}

impl Activity {
    /// How things stand now.
    pub fn snapshot(&self) -> Snapshot {
        let moment = self.moment().clone();
        let now = Instant::now();
        Snapshot {
            call: moment.call,
            busy: moment.busy,
            requests: self.shared.requests.load(Ordering::Relaxed),
            retries: self.retries(),
            things: moment.things,
            waiting: moment
                .waiting_until
                .filter(|until| *until > now)
                .map(|until| until - now),
        }
    }

    /// Retries made so far.
    pub fn retries(&self) -> u64 {
        self.shared.retries.load(Ordering::Relaxed)
    }

    /// `call` has started; its things count from zero if the last call was another kind.
    pub(crate) fn begin(&self, call: &'static str) {
        let mut moment = self.moment();
        if moment.call != Some(call) {
            moment.things = 0;
        }
        moment.call = Some(call);
        moment.busy = true;
        moment.waiting_until = None;
    }

    /// The call under way has ended.
    pub(crate) fn end(&self) {
        self.moment().busy = false;
    }

    /// The call under way returned or was given `things` more things.
    pub(crate) fn carried(&self, things: usize) {
        self.moment().things += things as u64;
    }

    /// A request is being sent.
    pub(crate) fn request(&self) {
        self.shared.requests.fetch_add(1, Ordering::Relaxed);
    }

    /// A request will be sent again after `wait`.
    pub(crate) fn retry_after(&self, wait: Duration) {
        self.shared.retries.fetch_add(1, Ordering::Relaxed);
        self.moment().waiting_until = Some(Instant::now() + wait);
    }

    fn moment(&self) -> std::sync::MutexGuard<'_, Moment> {
        self.shared
            .moment
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn things_count_per_kind_of_call_and_requests_count_throughout() {
        let activity = Activity::default();
        activity.begin("get");
        activity.request();
        activity.carried(120);
        activity.begin("add");
        activity.request();
        activity.carried(3);
        activity.begin("add");
        activity.carried(2);
        activity.end();
        let now = activity.snapshot();
        assert_eq!((now.call, now.busy), (Some("add"), false));
        assert_eq!((now.requests, now.things, now.retries), (2, 5, 0));
    }

    #[test]
    fn a_retry_shows_how_long_it_still_waits_until_it_is_over() {
        let activity = Activity::default();
        activity.begin("get");
        activity.retry_after(Duration::from_secs(30));
        let waiting = activity.snapshot().waiting.expect("waiting");
        assert!(waiting > Duration::from_secs(29) && waiting <= Duration::from_secs(30));
        activity.retry_after(Duration::ZERO);
        assert_eq!(activity.snapshot().waiting, None);
        assert_eq!(activity.retries(), 2);
    }
}
