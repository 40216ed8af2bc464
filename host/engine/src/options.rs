//! How a destination is synced: mode, case handling, limits, ignores.

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Deserializer, Serialize};
use std::borrow::Cow;
use std::fmt;

/// Which changes a sync makes, and in which order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeLimit {
    /// At most this many additions plus removals.
    Count(usize),
    /// At most this percentage of the destination's current size, rounded up.
    Percent(Percent),
}

/// A percentage written with up to [`Percent::MAX_DECIMALS`] decimals,
/// kept exactly: `units` hundred-thousandths of a percent, so that 7% of 100
/// is 7, never 8.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Percent {
    units: u64,
}

impl Percent {
    /// The most decimals a percentage may have.
    pub const MAX_DECIMALS: u32 = 5;
    const UNITS_PER_PERCENT: u64 = 10u64.pow(Self::MAX_DECIMALS);

    /// `percent`, exactly, or `None` if it is not a plain decimal number
    /// with at most [`Percent::MAX_DECIMALS`] decimals.
    pub fn parse(percent: &str) -> Option<Self> {
        let (whole, decimals) = percent.split_once('.').unwrap_or((percent, ""));
        let digits = |part: &str| part.bytes().all(|byte| byte.is_ascii_digit());
        if whole.is_empty() || !digits(whole) || !digits(decimals) {
            return None;
        }
        let places = u32::try_from(decimals.len()).ok()?;
        if places > Self::MAX_DECIMALS {
            return None;
        }
        let whole: u64 = whole.parse().ok()?;
        let fraction: u64 = match decimals {
            "" => 0,
            decimals => decimals.parse().ok()?,
        };
        let units = whole
            .checked_mul(Self::UNITS_PER_PERCENT)?
            .checked_add(fraction * 10u64.pow(Self::MAX_DECIMALS - places))?;
        Some(Percent { units })
    }

    /// This percentage of `size`, rounded up.
    pub fn of(self, size: usize) -> usize {
        let whole = u128::from(self.units) * size as u128;
        let divisor = 100 * u128::from(Self::UNITS_PER_PERCENT);
        usize::try_from(whole.div_ceil(divisor)).unwrap_or(usize::MAX)
    }
}

impl fmt::Display for Percent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let whole = self.units / Self::UNITS_PER_PERCENT;
        let fraction = self.units % Self::UNITS_PER_PERCENT;
        match fraction {
            0 => write!(f, "{whole}"),
            _ => {
                let decimals = format!("{fraction:0width$}", width = Self::MAX_DECIMALS as usize);
                write!(f, "{whole}.{}", decimals.trim_end_matches('0'))
            }
        }
    }
}

impl ChangeLimit {
    /// How many changes the limit allows for a destination of `size`
    /// things; `None` when it does not apply. A percentage does not guard
    /// an empty destination: there is nothing in it to lose, and filling it
    /// would otherwise be impossible (use a count to bound a first fill).
    pub fn allowance(self, size: usize) -> Option<usize> {
        match self {
            ChangeLimit::Count(count) => Some(count),
            ChangeLimit::Percent(_) if size == 0 => None,
            ChangeLimit::Percent(percent) => Some(percent.of(size)),
        }
    }

    /// Parses `25` or `10%` (also `2.5%`).
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let invalid = || {
            format!(
                "max_changes must be a whole count like 25 or a percentage like \"10%\" \
                 (at most {} decimals), not {text:?}",
                Percent::MAX_DECIMALS
            )
        };
        match text.strip_suffix('%') {
            Some(percent) => Percent::parse(percent.trim())
                .map(ChangeLimit::Percent)
                .ok_or_else(invalid),
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
        deserializer.deserialize_any(ChangeLimitVisitor)
    }
}

/// Reads `max_changes` from a number or a string, with a message that says
/// what is expected whatever was written.
struct ChangeLimitVisitor;

impl serde::de::Visitor<'_> for ChangeLimitVisitor {
    type Value = ChangeLimit;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a whole count like 25 or a percentage like \"10%\"")
    }

    fn visit_i64<E: serde::de::Error>(self, count: i64) -> Result<ChangeLimit, E> {
        usize::try_from(count)
            .map(ChangeLimit::Count)
            .map_err(|_| E::custom(format!("max_changes cannot be negative ({count})")))
    }

    fn visit_u64<E: serde::de::Error>(self, count: u64) -> Result<ChangeLimit, E> {
        usize::try_from(count)
            .map(ChangeLimit::Count)
            .map_err(|_| E::custom(format!("max_changes = {count} is too large")))
    }

    fn visit_f64<E: serde::de::Error>(self, number: f64) -> Result<ChangeLimit, E> {
        Err(E::custom(format!(
            "max_changes = {number} is not a whole count: write a count like 25, \
             or a percentage in quotes like \"{number}%\""
        )))
    }

    fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<ChangeLimit, E> {
        ChangeLimit::parse(text).map_err(E::custom)
    }
}

/// A count (`25`) or a percentage in a string (`"10%"`), as [`ChangeLimit::parse`] reads it.
impl JsonSchema for ChangeLimit {
    fn schema_name() -> Cow<'static, str> {
        "ChangeLimit".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "a whole count (25) or a percentage of the destination (\"10%\")",
            "oneOf": [
                { "type": "integer", "minimum": 0 },
                { "type": "string", "pattern": r"^\s*[0-9]+((\.[0-9]{1,5})?\s*%)?\s*$" }
            ]
        })
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

    fn allowance(limit: &str, size: usize) -> Option<usize> {
        ChangeLimit::parse(limit).unwrap().allowance(size)
    }

    #[test]
    fn a_percentage_limit_rounds_up_so_small_destinations_can_change() {
        assert_eq!(allowance("10%", 5), Some(1));
        assert_eq!(allowance("10%", 100), Some(10));
        assert_eq!(allowance("2.5 %", 1000), Some(25));
        assert_eq!(allowance("0.00001%", 1), Some(1));
        assert_eq!(allowance(" 7 ", 0), Some(7));
    }

    #[test]
    fn percentages_are_exact_where_floating_point_is_not() {
        // 0.07 * 100 is 7.000000000000001 in floating point, whose ceiling is 8.
        for (limit, size, allowed) in [
            ("7%", 100, 7),
            ("14%", 50, 7),
            ("28%", 25, 7),
            ("55%", 100, 55),
            ("0.1%", 1000, 1),
            ("33.33333%", 3, 1),
            ("100%", 12345, 12345),
        ] {
            assert_eq!(allowance(limit, size), Some(allowed), "{limit} of {size}");
        }
    }

    #[test]
    fn a_percentage_does_not_guard_an_empty_destination_but_a_count_does() {
        assert_eq!(allowance("10%", 0), None);
        assert_eq!(allowance("0", 0), Some(0));
    }

    #[test]
    fn a_limit_prints_as_written() {
        for limit in ["10%", "2.5%", "0.00001%", "25"] {
            assert_eq!(ChangeLimit::parse(limit).unwrap().to_string(), limit);
        }
    }

    #[test]
    fn a_malformed_limit_says_what_is_expected() {
        for bad in [
            "ten",
            "-5%",
            "5%%",
            "",
            "-1",
            "1e2%",
            "0.000001%",
            ".5%",
            "5.%x",
        ] {
            let err = ChangeLimit::parse(bad).unwrap_err();
            assert!(
                err.contains("max_changes must be a whole count"),
                "{bad}: {err}"
            );
        }
    }
}
