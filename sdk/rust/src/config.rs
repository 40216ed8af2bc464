//! The key/value configuration handed to [`crate::Adapter::init`].

use crate::Error;
use std::str::FromStr;

/// An adapter instance's configuration, as written in `allsync.toml`.
#[derive(Debug, Clone, Default)]
pub struct Config {
    entries: Vec<(String, String)>,
}

impl Config {
    /// Wraps the pairs the host passed to `init`.
    pub fn new(entries: Vec<(String, String)>) -> Self {
        Config { entries }
    }

    /// The value of `name`, if set.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.entries
            .iter()
            .rev()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// The value of `name`, or an `invalid-config` error saying it is missing.
    pub fn require(&self, name: &str) -> Result<&str, Error> {
        match self.get(name) {
            Some(value) if !value.trim().is_empty() => Ok(value),
            _ => Err(Error::InvalidConfig(format!(
                "missing required config key `{name}`"
            ))),
        }
    }

    /// The value of `name`, or `default` when unset.
    pub fn get_or<'a>(&'a self, name: &str, default: &'a str) -> &'a str {
        self.get(name).unwrap_or(default)
    }

    /// The comma-separated values of `name`, trimmed, empty ones left out.
    pub fn list(&self, name: &str) -> Vec<&str> {
        self.get(name)
            .map(|value| {
                value
                    .split(',')
                    .map(str::trim)
                    .filter(|item| !item.is_empty())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The value of `name` parsed as `T`, or `default` when unset; an
    /// `invalid-config` error names the key and the value when it does not parse.
    pub fn parse_or<T: FromStr>(&self, name: &str, default: T) -> Result<T, Error> {
        match self.get(name) {
            None => Ok(default),
            Some(value) => value.trim().parse().map_err(|_| {
                Error::InvalidConfig(format!(
                    "config key `{name}` has an invalid value `{value}`"
                ))
            }),
        }
    }
}
