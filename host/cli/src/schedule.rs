//! When `allsync serve` runs a job: `schedule = "every 15m"` (an interval:
//! a first run as `serve` starts, then each counted from the end of the
//! last run, so a slow run is never overlapped) or a cron expression (`"*/15 * * * *"`, five fields, UTC;
//! a run still going at the next time makes that time be skipped), with up
//! to `jitter` of random delay added to each run.

use chrono::{DateTime, Utc};
use croner::Cron;
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// A job's schedule.
#[derive(Debug, Clone)]
pub enum Schedule {
    /// `every DURATION`: this long after the last run ended.
    Every(Duration),
    /// A cron expression, in UTC.
    Cron(Box<Cron>),
}

impl Schedule {
    /// How long to wait, from `now`, before the first run: none for an
    /// interval (a job runs as `serve` starts), the next time for cron.
    pub fn first_wait(&self, now: DateTime<Utc>) -> Duration {
        match self {
            Schedule::Every(_) => Duration::ZERO,
            Schedule::Cron(_) => self.wait(now),
        }
    }

    /// How long to wait, from `now`, before the next run.
    pub fn wait(&self, now: DateTime<Utc>) -> Duration {
        match self {
            Schedule::Every(interval) => *interval,
            Schedule::Cron(cron) => cron
                .find_next_occurrence(&now, false)
                .ok()
                .and_then(|next| (next - now).to_std().ok())
                // A pattern with no next time (say, February 30th) never runs.
                .unwrap_or(Duration::MAX),
        }
    }
}

impl FromStr for Schedule {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if let Some(interval) = text.strip_prefix("every ") {
            let interval = humantime::parse_duration(interval.trim()).map_err(|err| {
                format!(
                    "`{text}`: {err} (write a duration such as \"every 15m\" or \"every 1h 30m\")"
                )
            })?;
            return match interval.is_zero() {
                true => Err(format!(
                    "`{text}`: the interval must be longer than nothing"
                )),
                false => Ok(Schedule::Every(interval)),
            };
        }
        if text.split_whitespace().count() != 5 {
            return Err(format!(
                "`{text}` is neither \"every DURATION\" nor a cron expression of five fields \
                 (minute hour day-of-month month day-of-week)"
            ));
        }
        Cron::from_str(text)
            .map(|cron| Schedule::Cron(Box::new(cron)))
            .map_err(|err| format!("`{text}` is not a valid cron expression: {err}"))
    }
}

impl fmt::Display for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Schedule::Every(interval) => {
                write!(f, "every {}", humantime::format_duration(*interval))
            }
            Schedule::Cron(cron) => write!(f, "{}", cron.pattern),
        }
    }
}

/// A random delay of up to `jitter`.
pub fn jittered(jitter: Duration) -> Duration {
    let mut random = [0u8; 8];
    // Without randomness there is no jitter, which only loses the spreading.
    let _ = getrandom::fill(&mut random);
    let fraction = u64::from_be_bytes(random) as f64 / u64::MAX as f64;
    jitter.mul_f64(fraction)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn an_interval_is_every_and_a_duration() {
        let schedule: Schedule = "every 15m".parse().unwrap();
        assert_eq!(schedule.wait(Utc::now()), Duration::from_secs(900));
        assert_eq!(schedule.to_string(), "every 15m");
        assert!(
            "every 0s"
                .parse::<Schedule>()
                .unwrap_err()
                .contains("longer than nothing")
        );
        assert!(
            "every soon"
                .parse::<Schedule>()
                .unwrap_err()
                .contains("every 15m")
        );
    }

    #[test]
    fn a_cron_expression_waits_until_its_next_time_in_utc() {
        let schedule: Schedule = "*/15 * * * *".parse().unwrap();
        let now = Utc.with_ymd_and_hms(2026, 12, 2, 10, 7, 30).unwrap();
        assert_eq!(schedule.wait(now), Duration::from_secs(7 * 60 + 30));
        let nightly: Schedule = "0 3 * * *".parse().unwrap();
        assert_eq!(
            nightly.wait(now),
            Duration::from_secs(17 * 3600 - 7 * 60 - 30)
        );
    }

    #[test]
    fn anything_else_says_what_a_schedule_is() {
        let err = "15m".parse::<Schedule>().unwrap_err();
        assert!(
            err.contains("neither \"every DURATION\" nor a cron expression"),
            "{err}"
        );
        let err = "61 * * * *".parse::<Schedule>().unwrap_err();
        assert!(err.contains("not a valid cron expression"), "{err}");
    }

    #[test]
    fn jitter_is_at_most_what_is_asked() {
        let jitter = Duration::from_secs(30);
        assert!((0..100).all(|_| jittered(jitter) <= jitter));
        assert_eq!(jittered(Duration::ZERO), Duration::ZERO);
    }
}
