//! The `{{name}}` allsync adapter.
//!
//! It starts as a read-only source of the things listed in its `things`
//! config key: replace `get` with a call to your service, and add `add` and
//! `remove` (dropping `.read_only()`) to make it a destination.

use allsync_sdk::{Adapter, Config, ConfigKey, Error, Info, export};

struct Template {
    things: Vec<String>,
}

impl Adapter for Template {
    fn describe() -> Info {
        Info::new("{{name}}", env!("CARGO_PKG_VERSION"), "TODO: what this adapter syncs")
            .key(ConfigKey::required("things", "comma-separated things to return"))
            .read_only()
    }

    fn init(config: Config) -> Result<Self, Error> {
        config.require("things")?;
        Ok(Template {
            things: config.list("things").into_iter().map(String::from).collect(),
        })
    }

    fn get(&mut self) -> Result<Vec<String>, Error> {
        Ok(self.things.clone())
    }
}

export!(Template);
