//! Builders for [`Info`] and [`ConfigKey`], so `describe` reads as a sentence.

use crate::{ConfigKey, Info};

impl Info {
    /// An adapter with no config keys, no origins, able to add and remove.
    pub fn new(name: &str, version: &str, description: &str) -> Self {
        Info {
            name: name.to_string(),
            version: version.to_string(),
            description: description.to_string(),
            config: Vec::new(),
            hosts: Vec::new(),
            read_only: false,
        }
    }

    /// Declares a config key.
    pub fn key(mut self, key: ConfigKey) -> Self {
        self.config.push(key);
        self
    }

    /// Declares an origin the adapter reaches by default, e.g. `https://slack.com`.
    pub fn host(mut self, origin: &str) -> Self {
        self.hosts.push(origin.to_string());
        self
    }

    /// Marks the adapter as a source only: `add` and `remove` are unsupported.
    pub fn read_only(mut self) -> Self {
        self.read_only = true;
        self
    }
}

impl ConfigKey {
    /// A key `init` cannot do without.
    pub fn required(name: &str, description: &str) -> Self {
        Self::new(name, description, true)
    }

    /// A key with a default.
    pub fn optional(name: &str, description: &str) -> Self {
        Self::new(name, description, false)
    }

    /// Marks the key's value as secret: the host never shows or logs it.
    pub fn secret(mut self) -> Self {
        self.secret = true;
        self
    }

    fn new(name: &str, description: &str, required: bool) -> Self {
        ConfigKey {
            name: name.to_string(),
            description: description.to_string(),
            required,
            secret: false,
        }
    }
}
