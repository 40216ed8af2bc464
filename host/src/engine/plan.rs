//! The difference between a source and a destination, under a destination's
//! options: what to add, what to remove, and whether the guards allow it.

use super::options::SyncOptions;
use foldhash::fast::RandomState;
use serde::Serialize;
use std::borrow::Cow;
use std::collections::HashSet as StdHashSet;
use std::fmt;

type HashSet<T> = StdHashSet<T, RandomState>;
use wildmatch::WildMatch;

/// What a sync would do to one destination.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Plan {
    /// Things to add, spelt as in the source, in source order.
    pub add: Vec<String>,
    /// Things to remove, spelt as in the destination, in destination order.
    pub remove: Vec<String>,
    /// Destination things that are also in the source.
    pub unchanged: usize,
    /// Destination things left alone because `ignore` matches them.
    pub ignored: usize,
    /// How many things the destination holds now.
    pub destination_size: usize,
    /// Why the plan must not be applied, if a guard stopped it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blocked: Option<Blocked>,
}

impl Plan {
    /// Additions plus removals.
    pub fn changes(&self) -> usize {
        self.add.len() + self.remove.len()
    }
}

/// A guard that stopped a plan before any write.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "reason", rename_all = "kebab-case")]
pub enum Blocked {
    /// The source returned nothing and the plan would remove things.
    EmptySource {
        /// How many things the plan would remove.
        would_remove: usize,
    },
    /// The plan makes more changes than `max_changes` allows.
    TooManyChanges {
        /// Additions plus removals in the plan.
        changes: usize,
        /// The most changes allowed for this destination now.
        allowed: usize,
        /// The configured limit, as written.
        max_changes: String,
    },
}

impl fmt::Display for Blocked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Blocked::EmptySource { would_remove } => write!(
                f,
                "the source returned nothing, so this would remove all {would_remove} things; \
                 nothing was changed (set allow_empty_source = true if that is intended)"
            ),
            Blocked::TooManyChanges {
                changes,
                allowed,
                max_changes,
            } => write!(
                f,
                "{changes} changes exceed max_changes = {max_changes} (at most {allowed} here); \
                 nothing was changed (check the source, or raise max_changes)"
            ),
        }
    }
}

/// Plans how to make `destination` match `source` under `options`.
///
/// Things are compared case-insensitively unless `case_sensitive`; additions
/// keep the source's spelling and removals the destination's. Duplicates
/// (under that comparison) count once.
pub fn plan(source: &[String], destination: &[String], options: &SyncOptions) -> Plan {
    let matcher = Matcher::new(options);
    let parallel = source.len() + destination.len() >= PARALLEL_FROM;
    // One key per thing, computed once (`None` when ignored); then the sets
    // of keys; then what each side misses. Both sides at once, each time.
    let (source_keys, destination_keys) = both(
        parallel,
        || matcher.keys(source),
        || matcher.keys(destination),
    );
    let (in_source, in_destination) = both(
        parallel,
        || key_set(&source_keys),
        || key_set(&destination_keys),
    );
    let (add, remove) = both(
        parallel,
        || missing(source, &source_keys, &in_source, &in_destination),
        || missing(destination, &destination_keys, &in_destination, &in_source),
    );
    let mut plan = Plan {
        unchanged: in_destination.len() - remove.len(),
        ignored: destination_keys.iter().filter(|key| key.is_none()).count(),
        add: if options.mode.adds() { add } else { Vec::new() },
        remove: if options.mode.removes() {
            remove
        } else {
            Vec::new()
        },
        destination_size: destination.len(),
        blocked: None,
    };
    plan.blocked = guard(&plan, source.is_empty(), options);
    plan
}

/// How many things in all make planning worth a second thread.
const PARALLEL_FROM: usize = 20_000;

/// Runs `a` and `b`, side by side on two threads if `parallel`.
fn both<A: Send, B: Send>(
    parallel: bool,
    a: impl FnOnce() -> A + Send,
    b: impl FnOnce() -> B + Send,
) -> (A, B) {
    if !parallel {
        return (a(), b());
    }
    std::thread::scope(|scope| {
        let a = scope.spawn(a);
        let b = b();
        (a.join().expect("planning does not panic"), b)
    })
}

fn key_set<'a>(keys: &'a Keys) -> HashSet<&'a str> {
    let mut set = HashSet::with_capacity_and_hasher(keys.len(), RandomState::default());
    set.extend(keys.iter().flatten().map(|key| key.as_ref()));
    set
}

type Keys<'a> = Vec<Option<Cow<'a, str>>>;

/// The things (not ignored, first spelling of each key) whose key is not in
/// `other`; `own` is the set of `keys`, which tells whether any repeats.
fn missing(
    things: &[String],
    keys: &Keys,
    own: &HashSet<&str>,
    other: &HashSet<&str>,
) -> Vec<String> {
    let repeats = own.len() < keys.iter().flatten().count();
    let mut seen = HashSet::with_hasher(RandomState::default());
    things
        .iter()
        .zip(keys)
        .filter_map(|(thing, key)| {
            let key = key.as_deref()?;
            let first = !repeats || seen.insert(key);
            (!other.contains(key) && first).then(|| thing.clone())
        })
        .collect()
}

/// The first guard the plan breaks, if any.
fn guard(plan: &Plan, source_is_empty: bool, options: &SyncOptions) -> Option<Blocked> {
    if source_is_empty && !plan.remove.is_empty() && !options.allow_empty_source {
        return Some(Blocked::EmptySource {
            would_remove: plan.remove.len(),
        });
    }
    let limit = options.max_changes?;
    let allowed = limit.allowance(plan.destination_size);
    (plan.changes() > allowed).then(|| Blocked::TooManyChanges {
        changes: plan.changes(),
        allowed,
        max_changes: limit.to_string(),
    })
}

/// Compares things under one destination's case and ignore rules.
struct Matcher {
    case_sensitive: bool,
    ignore: Vec<WildMatch>,
}

impl Matcher {
    fn new(options: &SyncOptions) -> Self {
        let compile = |pattern: &String| match options.case_sensitive {
            true => WildMatch::new(pattern),
            false => WildMatch::new_case_insensitive(pattern),
        };
        Matcher {
            case_sensitive: options.case_sensitive,
            ignore: options.ignore.iter().map(compile).collect(),
        }
    }

    /// The comparison key of a thing: itself, or its lower case (with a
    /// fast path for ASCII, which most emails are).
    fn key<'a>(&self, thing: &'a str) -> Cow<'a, str> {
        if self.case_sensitive {
            return Cow::Borrowed(thing);
        }
        let ascii = thing.is_ascii();
        let folds = match ascii {
            true => thing.bytes().any(|byte| byte.is_ascii_uppercase()),
            false => thing.chars().any(char::is_uppercase),
        };
        match (folds, ascii) {
            (false, _) => Cow::Borrowed(thing),
            (true, true) => Cow::Owned(thing.to_ascii_lowercase()),
            (true, false) => Cow::Owned(thing.to_lowercase()),
        }
    }

    fn is_ignored(&self, thing: &str) -> bool {
        self.ignore.iter().any(|pattern| pattern.matches(thing))
    }

    /// Each thing's key, or `None` where `ignore` matches it.
    fn keys<'a>(&self, things: &'a [String]) -> Keys<'a> {
        things
            .iter()
            .map(|thing| (!self.is_ignored(thing)).then(|| self.key(thing)))
            .collect()
    }
}
