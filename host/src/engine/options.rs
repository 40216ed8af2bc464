//! How a destination is synced: mode, case handling, limits, ignores.

use serde::{Deserialize, Deserializer, Serialize};
use std::fmt;

/// Which changes a sync makes, and in which order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// Add what is missing, then remove what should not be there.
    #[default]
    AddRemove,
    /// Remove first, then add (for destinations with a size cap).
    RemoveAdd,
    /// Only add; never remove.
    AddOnly,
    /// Only remove; never add.
    RemoveOnly,
}

impl Mode {
    /// Whether this mode adds things.
    pub fn adds(self) -> bool {
        self != Mode::RemoveOnly
    }

    /// Whether this mode removes things.
    pub fn removes(self) -> bool {
        self != Mode::AddOnly
    }

    /// Whether removals are applied before additions.
    pub fn removes_first(self) -> bool {
        self == Mode::RemoveAdd
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Mode::AddRemove => "add-remove",
            Mode::RemoveAdd => "remove-add",
            Mode::AddOnly => "add-only",
            Mode::RemoveOnly => "remove-only",
        })
    }
}

/// The most changes one sync may make to a destination.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ChangeLimit {
    /// At most this many additions plus removals.
    Count(usize),
    /// At most this percentage of the destination's current size, rounded up.
    Percent(f64),
}

impl ChangeLimit {
    /// How many changes the limit allows for a destination of `size` things.
    pub fn allowance(self, size: usize) -> usize {
        match self {
            ChangeLimit::Count(count) => count,
            ChangeLimit::Percent(percent) => (percent / 100.0 * size as f64).ceil() as usize,
        }
    }

    /// Parses `25` or `10%` (also `2.5%`).
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let invalid = || {
            format!(
                "max_changes must be a count like 25 or a percentage like \"10%\", not {text:?}"
            )
        };
        match text.strip_suffix('%') {
            Some(percent) => match percent.trim().parse::<f64>() {
                Ok(percent) if percent.is_finite() && percent >= 0.0 => {
                    Ok(ChangeLimit::Percent(percent))
                }
                _ => Err(invalid()),
            },
            None => text.parse().map(ChangeLimit::Count).map_err(|_| invalid()),
        }
    }
}

impl fmt::Display for ChangeLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChangeLimit::Count(count) => write!(f, "{count}"),
            ChangeLimit::Percent(percent) => write!(f, "{percent}%"),
        }
    }
}

impl<'de> Deserialize<'de> for ChangeLimit {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Count(i64),
            Text(String),
        }
        match Raw::deserialize(deserializer)? {
            Raw::Count(count) => usize::try_from(count).map(ChangeLimit::Count).map_err(|_| {
                serde::de::Error::custom(format!("max_changes cannot be negative ({count})"))
            }),
            Raw::Text(text) => ChangeLimit::parse(&text).map_err(serde::de::Error::custom),
        }
    }
}

impl Serialize for ChangeLimit {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// Everything that decides what a sync does to one destination.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct SyncOptions {
    /// Which changes to make, in which order.
    pub mode: Mode,
    /// Compare things exactly; by default `Ann@x.com` and `ann@x.com` are the same.
    pub case_sensitive: bool,
    /// Refuse to touch the destination if the plan makes more changes than this.
    pub max_changes: Option<ChangeLimit>,
    /// Allow an empty source to empty the destination.
    pub allow_empty_source: bool,
    /// Things never added nor removed; `*` matches any run of characters.
    pub ignore: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_percentage_limit_rounds_up_so_small_destinations_can_change() {
        assert_eq!(ChangeLimit::parse("10%").unwrap().allowance(5), 1);
        assert_eq!(ChangeLimit::parse("10%").unwrap().allowance(100), 10);
        assert_eq!(ChangeLimit::parse("2.5 %").unwrap().allowance(1000), 25);
        assert_eq!(ChangeLimit::parse("10%").unwrap().allowance(0), 0);
        assert_eq!(ChangeLimit::parse(" 7 ").unwrap().allowance(0), 7);
    }

    #[test]
    fn a_malformed_limit_says_what_is_expected() {
        for bad in ["ten", "-5%", "5%%", "", "-1"] {
            let err = ChangeLimit::parse(bad).unwrap_err();
            assert!(err.contains("max_changes must be a count"), "{bad}: {err}");
        }
    }
}
