//! Request budgets shared by every adapter instance that reaches one origin
//! with one credential (the same `Authorization` header, compared by its
//! sha256, never kept): requests go no faster than the rate the operator
//! set for that origin, and when one of them is told to slow down (a 429,
//! or a 403 that says when to come back) all of them wait until then. So a
//! hundred jobs against one Slack workspace share its limit instead of each
//! running into it.

use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;

/// At most `requests` requests every `per`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    /// How many requests.
    pub requests: u32,
    /// In how long.
    pub per: Duration,
}

impl Rate {
    /// The time between two requests at this rate.
    fn interval(self) -> Duration {
        self.per / self.requests
    }
}

impl FromStr for Rate {
    type Err = String;

    /// `"10/s"`, `"50/min"`, `"5000/h"`.
    fn from_str(text: &str) -> Result<Self, String> {
        let usage =
            || format!("`{text}` is not a rate: write REQUESTS/s, /min or /h, e.g. \"50/min\"");
        let (requests, unit) = text.split_once('/').ok_or_else(usage)?;
        let requests: u32 = requests.trim().parse().map_err(|_| usage())?;
        let per = match unit.trim() {
            "s" => Duration::from_secs(1),
            "min" => Duration::from_secs(60),
            "h" => Duration::from_secs(3600),
            _ => return Err(usage()),
        };
        match requests {
            0 => Err(format!("`{text}`: a rate must allow at least one request")),
            _ => Ok(Rate { requests, per }),
        }
    }
}

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let unit = match self.per.as_secs() {
            1 => "s",
            60 => "min",
            _ => "h",
        };
        write!(f, "{}/{unit}", self.requests)
    }
}

/// Every budget of a run, by origin and credential; clones share them.
#[derive(Debug, Clone, Default)]
pub struct Budgets {
    rates: Arc<HashMap<String, Rate>>,
    budgets: Arc<Mutex<HashMap<BudgetKey, Arc<Budget>>>>,
}

/// An origin, and the sha256 of the credential its requests carry.
type BudgetKey = (String, [u8; 32]);

impl Budgets {
    /// Budgets pacing each origin in `rates` (`scheme://host:port`) at its rate.
    pub fn new(rates: HashMap<String, Rate>) -> Self {
        Budgets {
            rates: Arc::new(rates),
            budgets: Arc::default(),
        }
    }

    /// The budget of requests to `origin` bearing `authorization`.
    pub(crate) fn of(&self, origin: &str, authorization: Option<&[u8]>) -> Arc<Budget> {
        let credential: [u8; 32] = Sha256::digest(authorization.unwrap_or_default()).into();
        let mut budgets = self
            .budgets
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        budgets
            .entry((origin.to_string(), credential))
            .or_insert_with(|| {
                Arc::new(Budget {
                    interval: self.rates.get(origin).map(|rate| rate.interval()),
                    times: Mutex::new(Times::default()),
                })
            })
            .clone()
    }
}

/// The requests of one origin and credential.
#[derive(Debug)]
pub(crate) struct Budget {
    /// The least time between two requests, if paced.
    interval: Option<Duration>,
    times: Mutex<Times>,
}

/// Until when a request waits, and whether it may go then.
struct Wait {
    until: Instant,
    is_turn: bool,
}

#[derive(Debug, Default)]
struct Times {
    /// When the next request may go, at the configured rate.
    next_slot: Option<Instant>,
    /// Until when the service asked everyone to wait.
    paused_until: Option<Instant>,
}

impl Budget {
    /// Waits until a request may go: after any pause the service asked for,
    /// and in its turn at the configured rate.
    pub(crate) async fn take(&self) {
        while let Some(wait) = self.turn() {
            tokio::time::sleep_until(wait.until).await;
            if wait.is_turn {
                return;
            }
        }
    }

    /// What a request must wait for now, if anything: a pause (after which
    /// it asks again), or its turn at the rate (which it then has).
    fn turn(&self) -> Option<Wait> {
        let mut times = self
            .times
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let now = Instant::now();
        if let Some(until) = times.paused_until.filter(|until| *until > now) {
            return Some(Wait {
                until,
                is_turn: false,
            });
        }
        let interval = self.interval?;
        let slot = times.next_slot.map_or(now, |slot| slot.max(now));
        times.next_slot = Some(slot + interval);
        (slot > now).then_some(Wait {
            until: slot,
            is_turn: true,
        })
    }

    /// Makes every request of this budget wait `wait` from now (or longer,
    /// if an earlier pause ends later).
    pub(crate) fn pause(&self, wait: Duration) {
        let until = Instant::now() + wait;
        let mut times = self
            .times
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        times.paused_until = Some(
            times
                .paused_until
                .map_or(until, |earlier| earlier.max(until)),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rate_is_requests_per_second_minute_or_hour() {
        assert_eq!(
            "50/min".parse(),
            Ok(Rate {
                requests: 50,
                per: Duration::from_secs(60)
            })
        );
        assert_eq!(
            "10/s".parse::<Rate>().unwrap().interval(),
            Duration::from_millis(100)
        );
        assert!("0/s".parse::<Rate>().unwrap_err().contains("at least one"));
        assert!("ten/s".parse::<Rate>().unwrap_err().contains("REQUESTS/s"));
        assert!("5/day".parse::<Rate>().unwrap_err().contains("/min or /h"));
    }

    #[test]
    fn one_credential_at_one_origin_is_one_budget() {
        let budgets = Budgets::default();
        let a = budgets.of("https://slack.com:443", Some(b"Bearer one"));
        assert!(Arc::ptr_eq(
            &a,
            &budgets
                .clone()
                .of("https://slack.com:443", Some(b"Bearer one"))
        ));
        assert!(!Arc::ptr_eq(
            &a,
            &budgets.of("https://slack.com:443", Some(b"Bearer two"))
        ));
        assert!(!Arc::ptr_eq(
            &a,
            &budgets.of("https://api.github.com:443", Some(b"Bearer one"))
        ));
    }

    #[tokio::test(start_paused = true)]
    async fn a_pause_holds_every_request_of_the_budget_until_it_ends() {
        let budget = Budgets::default().of("https://slack.com:443", None);
        budget.pause(Duration::from_secs(3));
        let started = Instant::now();
        budget.take().await;
        assert_eq!(started.elapsed(), Duration::from_secs(3));
        budget.take().await;
        assert_eq!(
            started.elapsed(),
            Duration::from_secs(3),
            "the pause is over"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn requests_go_no_faster_than_the_rate() {
        let rates = HashMap::from([("https://slack.com:443".to_string(), "4/s".parse().unwrap())]);
        let budget = Budgets::new(rates).of("https://slack.com:443", None);
        let started = Instant::now();
        for _ in 0..5 {
            budget.take().await;
        }
        assert_eq!(
            started.elapsed(),
            Duration::from_secs(1),
            "the fifth goes a second after the first"
        );
    }
}
