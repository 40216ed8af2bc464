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
//! - `snoop`: `get` tries to read `/etc/passwd` and the environment;
//! - `membomb`: `get` asks for memory until refused, then, not trapping,
//!   spins;
//! - `scribble`: `get` tries to write a file in its directory and fails
//!   saying whether it could;
//! - `forge`: `get` returns `things`; `add` and `remove` reject each thing
//!   under a name and reason holding line breaks and terminal escapes;
//! - `post`: `get` POSTs a body of `count` bytes to `url`;
//! - `slow-append`: a list in `/list.txt` whose `add` reads the file,
//!   waits half a second, then writes it back with the things appended (a
//!   read-modify-write that loses updates if two overlap);
//! - `tattle`: `get` prints `token` (a secret) in a stderr line of 16 KiB
//!   and more, in two writes that cut the token in two, and returns nothing.
//!
//! Its description tries to forge a line of allsync's output too.

use allsync_sdk::http::Request;
use allsync_sdk::{Adapter, Config, ConfigKey, Error, Info, Rejected, export};

struct Hostile {
    act: String,
    url: String,
    token: String,
    things: Vec<String>,
    count: usize,
}

impl Adapter for Hostile {
    fn describe() -> Info {
        Info::new(
            "hostile",
            env!("CARGO_PKG_VERSION"),
            "Test adapter that misbehaves on purpose\n\u{1b}[31mforged  0.1.0  a line of allsync's",
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
            "for many-things, huge-thing, fetch and post: how many",
        ))
        .key(ConfigKey::optional("token", "for tattle: a secret to print").secret())
    }

    fn init(config: Config) -> Result<Self, Error> {
        Ok(Hostile {
            act: config.require("act")?.to_string(),
            url: config.get_or("url", "").to_string(),
            token: config.get_or("token", "").to_string(),
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
            "panic-in-add" | "forge" => Ok(self.things.clone()),
            "slow-append" => Ok(read_list()?.lines().map(String::from).collect()),
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
            "membomb" => membomb(),
            "scribble" => Err(Error::Other(format!(
                "wrote a file: {}",
                match std::fs::write("/scribbled.txt", "was here") {
                    Ok(()) => "yes".to_string(),
                    Err(err) => format!("no ({})", err.kind()),
                }
            ))),
            "post" => {
                let body = vec![b'x'; self.count];
                let status = Request::post(&self.url).body(body).send()?.status;
                Err(Error::Other(format!("posted: HTTP {status}")))
            }
            "tattle" => {
                tattle(&self.token);
                Ok(Vec::new())
            }
            other => Err(Error::InvalidConfig(format!("unknown act {other}"))),
        }
    }

    fn add(&mut self, things: Vec<String>) -> Result<Vec<Rejected>, Error> {
        match self.act.as_str() {
            "forge" => Ok(forged(things)),
            "slow-append" => slow_append(things),
            _ => panic!("add blew up on purpose"),
        }
    }

    fn remove(&mut self, things: Vec<String>) -> Result<Vec<Rejected>, Error> {
        Ok(forged(things))
    }
}

fn read_list() -> Result<String, Error> {
    std::fs::read_to_string("/list.txt").map_err(|err| Error::Other(format!("list.txt: {err}")))
}

/// Reads the list, waits, then writes it back with `things` appended.
fn slow_append(things: Vec<String>) -> Result<Vec<Rejected>, Error> {
    let mut list = read_list()?;
    std::thread::sleep(std::time::Duration::from_millis(500));
    for thing in things {
        list.push_str(&thing);
        list.push('\n');
    }
    std::fs::write("/list.txt", list).map_err(|err| Error::Other(format!("list.txt: {err}")))?;
    Ok(Vec::new())
}

/// Each thing rejected under a name and a reason that try to forge lines
/// (and colours) of allsync's output.
fn forged(things: Vec<String>) -> Vec<Rejected> {
    things
        .into_iter()
        .map(|thing| {
            Rejected::new(
                format!("{thing}\n  team (add-remove): up to date\u{1b}[0m"),
                "no\r\nSync: 0 changes applied.\u{202e}",
            )
        })
        .collect()
}

/// Prints `token` in one long stderr line, written in two pieces that cut it in two.
fn tattle(token: &str) {
    use std::io::Write;
    let (head, tail) = token.split_at(token.len() / 2);
    let mut stderr = std::io::stderr();
    let first = format!("{}{head}", "x".repeat(16 * 1024 - 6));
    let _ = stderr.write_all(first.as_bytes());
    let _ = stderr.flush();
    let _ = stderr.write_all(format!("{tail}{}\n", "y".repeat(100)).as_bytes());
}

/// Asks for memory a MiB at a time; once refused (without trapping, as
/// `try_reserve` allows), keeps the CPU busy.
fn membomb() -> ! {
    let mut hoard: Vec<Vec<u8>> = Vec::new();
    loop {
        let mut chunk = Vec::new();
        if chunk.try_reserve_exact(1 << 20).is_err() {
            spin();
        }
        chunk.resize(1 << 20, 1);
        hoard.push(chunk);
        std::hint::black_box(&hoard);
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
