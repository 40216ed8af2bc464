//! Test and benchmark adapter: `count` numbered emails
//! (`user<n>@example.com` for n from `offset`), every `upper_every`-th one
//! spelt in capitals, kept in memory so it can also be a destination. It
//! measures moving big lists across the component boundary.

use allsync_sdk::{Adapter, Config, ConfigKey, Error, Info, Rejected, export};
use std::collections::HashSet;

struct Numbered {
    things: Vec<String>,
}

impl Adapter for Numbered {
    fn describe() -> Info {
        Info::new(
            "numbered",
            env!("CARGO_PKG_VERSION"),
            "Numbered emails, generated and kept in memory",
        )
        .key(ConfigKey::required("count", "how many"))
        .key(ConfigKey::optional(
            "offset",
            "the first number (default 0)",
        ))
        .key(ConfigKey::optional(
            "upper_every",
            "spell every n-th in capitals (default: none)",
        ))
    }

    fn init(config: Config) -> Result<Self, Error> {
        config.require("count")?;
        let count: usize = config.parse_or("count", 0)?;
        let offset: usize = config.parse_or("offset", 0)?;
        let upper_every: usize = config.parse_or("upper_every", 0)?;
        let things = (offset..offset + count)
            .map(|n| match upper_every != 0 && n % upper_every == 0 {
                true => format!("USER{n}@EXAMPLE.COM"),
                false => format!("user{n}@example.com"),
            })
            .collect();
        Ok(Numbered { things })
    }

    fn get(&mut self) -> Result<Vec<String>, Error> {
        Ok(self.things.clone())
    }

    fn add(&mut self, things: Vec<String>) -> Result<Vec<Rejected>, Error> {
        self.things.extend(things);
        Ok(Vec::new())
    }

    fn remove(&mut self, things: Vec<String>) -> Result<Vec<Rejected>, Error> {
        let leaving: HashSet<String> = things.into_iter().collect();
        self.things.retain(|thing| !leaving.contains(thing));
        Ok(Vec::new())
    }
}

export!(Numbered);
