//! Test-only adapter whose only purpose is to misbehave, chosen by its `act`
//! config key, so the tests can show that the allsync host holds:
//!
//! - `loop`: `get` never returns;
//! - `grow`: `get` allocates memory without bound;
//! - `recurse`: `get` recurses without bound;
//! - `panic-in-add`: `get` returns `things`, `add` panics;
//! - `many-things`: `get` returns `count` things;
//! - `huge-thing`: `get` returns one thing of `count` bytes;
//! - `fetch`: `get` sends `GET <url>` `count` times (although `describe`
//!   declares no hosts) and fails saying what came back;
//! - `snoop`: `get` tries to read `/etc/passwd` and the environment.

use allsync_sdk::http::Request;
use allsync_sdk::{Adapter, Config, ConfigKey, Error, Info, Rejected, export};

struct Hostile {
    act: String,
    url: String,
    things: Vec<String>,
    count: usize,
}

impl Adapter for Hostile {
    fn describe() -> Info {
        Info::new(
            "hostile",
            env!("CARGO_PKG_VERSION"),
            "Test adapter that misbehaves on purpose",
        )
        .key(ConfigKey::required(
            "act",
            "how to misbehave (see the source)",
        ))
        .key(ConfigKey::optional("url", "for fetch: what to fetch"))
        .key(ConfigKey::optional(
            "things",
            "for panic-in-add: comma-separated things get returns",
        ))
        .key(ConfigKey::optional(
            "count",
            "for many-things, huge-thing and fetch: how many",
        ))
    }

    fn init(config: Config) -> Result<Self, Error> {
        Ok(Hostile {
            act: config.require("act")?.to_string(),
            url: config.get_or("url", "").to_string(),
            things: config
                .get_or("things", "")
                .split(',')
                .filter(|t| !t.is_empty())
                .map(String::from)
                .collect(),
            count: config.parse_or("count", 0)?,
        })
    }

    fn get(&mut self) -> Result<Vec<String>, Error> {
        match self.act.as_str() {
            "loop" => spin(),
            "grow" => grow(),
            "recurse" => Ok(vec![format!("{}", recurse(1))]),
            "panic-in-add" => Ok(self.things.clone()),
            "many-things" => Ok((0..self.count)
                .map(|n| format!("user{n}@example.com"))
                .collect()),
            "huge-thing" => Ok(vec!["x".repeat(self.count)]),
            "fetch" => {
                let mut statuses = Vec::new();
                for _ in 0..self.count.max(1) {
                    statuses.push(Request::get(&self.url).send()?.status.to_string());
                }
                Err(Error::Other(format!(
                    "fetched: HTTP {}",
                    statuses.join(", ")
                )))
            }
            "snoop" => snoop(),
            other => Err(Error::InvalidConfig(format!("unknown act {other}"))),
        }
    }

    fn add(&mut self, _things: Vec<String>) -> Result<Vec<Rejected>, Error> {
        panic!("add blew up on purpose");
    }
}

fn spin() -> ! {
    let mut counter = 0u64;
    loop {
        counter = std::hint::black_box(counter.wrapping_add(1));
    }
}

fn grow() -> Result<Vec<String>, Error> {
    let mut hoard: Vec<Vec<u8>> = Vec::new();
    loop {
        hoard.push(vec![1; 1 << 20]);
        std::hint::black_box(&hoard);
    }
}

#[allow(unconditional_recursion, reason = "runaway recursion is the point")]
fn recurse(depth: u64) -> u64 {
    std::hint::black_box(depth) + recurse(depth + 1)
}

/// Reports what it could reach; a sound sandbox leaves it nothing.
fn snoop() -> Result<Vec<String>, Error> {
    let file = match std::fs::read_to_string("/etc/passwd") {
        Ok(_) => "file: read".to_string(),
        Err(err) => format!("file: {}", err.kind()),
    };
    let env = match std::env::vars().count() {
        0 => "env: empty".to_string(),
        n => format!("env: {n} variables"),
    };
    Err(Error::Other(format!("{file}; {env}")))
}

export!(Hostile);
