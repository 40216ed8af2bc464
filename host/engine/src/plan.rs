//! The difference between a source and a destination, under a destination's
//! options: what to add, what to remove, and whether the guards allow it.

use super::options::SyncOptions;
use foldhash::fast::RandomState;
use hashbrown::HashTable;
use hashbrown::hash_table::Entry;
use serde::Serialize;
use std::borrow::Cow;
use std::collections::HashSet as StdHashSet;
use std::fmt;
use std::hash::BuildHasher;

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
    /// For each addition, the sources that hold it, when the job has
    /// several (else empty).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub add_from: Vec<Vec<String>>,
}

impl Plan {
    /// Additions plus removals.
    pub fn changes(&self) -> usize {
        self.add.len() + self.remove.len()
    }
}

/// The additions and removals a destination is expected to make, as a
/// saved plan recorded them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Changes {
    /// Things to add.
    pub add: Vec<String>,
    /// Things to remove.
    pub remove: Vec<String>,
}

impl Plan {
    /// How this plan's changes differ from `expected`, in words, if they do
    /// (order aside): what it would add or remove that `expected` does not,
    /// and what `expected` holds that it no longer would.
    pub fn drift_from(&self, expected: &Changes) -> Option<String> {
        let differences: Vec<String> = [
            ("now also adds", &self.add, &expected.add),
            ("no longer adds", &expected.add, &self.add),
            ("now also removes", &self.remove, &expected.remove),
            ("no longer removes", &expected.remove, &self.remove),
        ]
        .into_iter()
        .filter_map(|(what, these, those)| {
            let those: StdHashSet<&str> = those.iter().map(String::as_str).collect();
            let extra: Vec<&str> = these
                .iter()
                .map(String::as_str)
                .filter(|thing| !those.contains(thing))
                .collect();
            (!extra.is_empty()).then(|| format!("{what} {}", listed(&extra)))
        })
        .collect();
        (!differences.is_empty()).then(|| differences.join("; "))
    }
}

/// Up to five things, quoted, and how many more.
fn listed(things: &[&str]) -> String {
    const SHOWN: usize = 5;
    let quoted: Vec<String> = things
        .iter()
        .take(SHOWN)
        .map(|thing| format!("{thing:?}"))
        .collect();
    match things.len().saturating_sub(SHOWN) {
        0 => quoted.join(", "),
        more => format!("{} and {more} more", quoted.join(", ")),
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
            } => {
                write!(
                    f,
                    "{changes} changes exceed max_changes = {max_changes} (at most {allowed} here); \
                     nothing was changed (check the source, or raise max_changes"
                )?;
                if max_changes.ends_with('%') {
                    f.write_str(
                        "; a percentage is of the destination's current size: to fill a new or \
                         small destination, use a count for that run",
                    )?;
                }
                f.write_str(")")
            }
        }
    }
}

/// Plans how to make `destination` match `source` under `options`.
///
/// Things are compared case-insensitively unless `case_sensitive` (see
/// [`fold`]); additions keep the source's spelling, in source order, each
/// person once; removals are every spelling the destination holds of each
/// person the source lacks, so no spelling is left behind. Things `ignore`
/// matches are left out on both sides; a source with nothing left after
/// that counts as empty for the empty-source guard.
pub fn plan(source: &[String], destination: &[String], options: &SyncOptions) -> Plan {
    let matcher = Matcher::new(options);
    let parallel = source.len() + destination.len() >= PARALLEL_FROM;
    // Each side's keys and their hashes, a side on each thread; then the
    // source's people indexed, half the hashes on each thread; then each
    // destination thing looked up, half of them on each thread.
    let hasher = RandomState::default();
    let (source_keys, destination_keys) = both(
        parallel,
        || matcher.hashed_keys(source, &hasher),
        || matcher.hashed_keys(destination, &hasher),
    );
    let wanted = Wanted::of(&source_keys, parallel);
    let half = destination_keys.len().div_ceil(2);
    let (front, back) = destination_keys.split_at(half);
    let (first, second) = both(parallel, || wanted.look_up(front), || wanted.look_up(back));
    let (present, missing) = first.joined(second, half, source.len());
    let remove = every_spelling(destination, &missing);
    let (add, unchanged) = wanted.not_in(source, &present);
    let mut plan = Plan {
        unchanged,
        ignored: destination_keys.iter().filter(|key| key.is_none()).count(),
        add: if options.mode.adds() { add } else { Vec::new() },
        remove: if options.mode.removes() {
            remove
        } else {
            Vec::new()
        },
        destination_size: destination.len(),
        blocked: None,
        add_from: Vec::new(),
    };
    plan.blocked = guard(&plan, wanted.is_empty(), options);
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

/// Each thing's key and its hash, or `None` where `ignore` matches it.
type Keys<'a> = Vec<Option<(Cow<'a, str>, u64)>>;

/// The people a source holds: for each, the index of the first thing spelt
/// with its key (ignored things left out). The tables hold only indices,
/// so they stay small enough to stay in cache while a million are looked
/// up; there are two, split by a bit of the hash, so each can be built on a
/// thread of its own.
struct Wanted<'k, 'a> {
    keys: &'k Keys<'a>,
    halves: [HashTable<u32>; 2],
}

/// What looking up some destination keys found: the source indices of the
/// people found, and the positions (in those keys) of the things not found.
#[derive(Default)]
struct Lookup {
    found: Vec<usize>,
    missing: Vec<usize>,
}

/// The table of the two a hash belongs in.
fn half_of(hash: u64) -> usize {
    (hash >> 63) as usize
}

impl<'k, 'a> Wanted<'k, 'a> {
    fn of(keys: &'k Keys<'a>, parallel: bool) -> Self {
        let (low, high) = both(parallel, || Self::half(keys, 0), || Self::half(keys, 1));
        Wanted {
            keys,
            halves: [low, high],
        }
    }

    /// The table of the keys whose hash is in `half`.
    fn half(keys: &Keys, half: usize) -> HashTable<u32> {
        let key_at = |index: u32| keys[index as usize].as_ref().map(|(key, _)| key.as_ref());
        let hash_at = |index: &u32| keys[*index as usize].as_ref().map_or(0, |(_, hash)| *hash);
        let mut table = HashTable::with_capacity(keys.len() / 2 + 1);
        for (index, (key, hash)) in keys
            .iter()
            .enumerate()
            .filter_map(|(index, key)| Some((index, key.as_ref()?)))
        {
            if half_of(*hash) != half {
                continue;
            }
            let entry = table.entry(*hash, |&seen| key_at(seen) == Some(key.as_ref()), hash_at);
            if let Entry::Vacant(vacant) = entry {
                vacant.insert(u32::try_from(index).expect("fewer than 2^32 things"));
            }
        }
        table
    }

    fn is_empty(&self) -> bool {
        self.halves.iter().all(HashTable::is_empty)
    }

    fn look_up(&self, keys: &[Option<(Cow<str>, u64)>]) -> Lookup {
        let mut lookup = Lookup::default();
        for (position, key) in keys.iter().enumerate() {
            let Some((key, hash)) = key else { continue };
            let same = |seen: &u32| {
                self.keys[*seen as usize]
                    .as_ref()
                    .is_some_and(|(seen, _)| seen == key)
            };
            match self.halves[half_of(*hash)].find(*hash, same) {
                Some(&index) => lookup.found.push(index as usize),
                None => lookup.missing.push(position),
            }
        }
        lookup
    }

    /// The first spelling of each person the destination lacks, in source
    /// order, and how many people it has.
    fn not_in(&self, source: &[String], present: &[bool]) -> (Vec<String>, usize) {
        let people = self.halves.iter().flat_map(HashTable::iter);
        let mut lacking: Vec<usize> = people
            .map(|&index| index as usize)
            .filter(|&index| !present[index])
            .collect();
        lacking.sort_unstable();
        let unchanged = self.halves.iter().map(HashTable::len).sum::<usize>() - lacking.len();
        let add = lacking
            .into_iter()
            .map(|index| source[index].clone())
            .collect();
        (add, unchanged)
    }
}

impl Lookup {
    /// This lookup and `next` (of the keys after the first `offset`) as
    /// one: whether each of the `sources` source things was found, and
    /// which destination positions were missing.
    fn joined(self, next: Lookup, offset: usize, sources: usize) -> (Vec<bool>, Vec<usize>) {
        let mut present = vec![false; sources];
        for index in self.found.into_iter().chain(next.found) {
            present[index] = true;
        }
        let mut missing = self.missing;
        missing.extend(next.missing.into_iter().map(|position| position + offset));
        (present, missing)
    }
}

/// The destination things at `missing`, each distinct spelling once.
fn every_spelling(destination: &[String], missing: &[usize]) -> Vec<String> {
    let mut spellings = HashSet::with_capacity_and_hasher(missing.len(), RandomState::default());
    missing
        .iter()
        .map(|&position| destination[position].as_str())
        .filter(|thing| spellings.insert(*thing))
        .map(String::from)
        .collect()
}

/// The first guard the plan breaks, if any; `source_is_empty` counts only
/// what `ignore` left of the source.
fn guard(plan: &Plan, source_is_empty: bool, options: &SyncOptions) -> Option<Blocked> {
    if source_is_empty && !plan.remove.is_empty() && !options.allow_empty_source {
        return Some(Blocked::EmptySource {
            would_remove: plan.remove.len(),
        });
    }
    let limit = options.max_changes?;
    let allowed = limit.allowance(plan.destination_size)?;
    (plan.changes() > allowed).then(|| Blocked::TooManyChanges {
        changes: plan.changes(),
        allowed,
        max_changes: limit.to_string(),
    })
}

/// Compares things under one destination's case and ignore rules.
struct Matcher {
    case_sensitive: bool,
    /// The `ignore` patterns, folded as keys are, so a pattern matches a
    /// thing exactly when it matches every spelling the comparison equates.
    ignore: Vec<WildMatch>,
}

impl Matcher {
    fn new(options: &SyncOptions) -> Self {
        let case_sensitive = options.case_sensitive;
        let ignore = options
            .ignore
            .iter()
            .map(|pattern| WildMatch::new(&key(pattern, case_sensitive)))
            .collect();
        Matcher {
            case_sensitive,
            ignore,
        }
    }

    /// Each thing's key and its hash, or `None` where `ignore` matches it.
    fn hashed_keys<'a>(&self, things: &'a [String], hasher: &RandomState) -> Keys<'a> {
        things
            .iter()
            .map(|thing| {
                let key = self.key_of(thing)?;
                let hash = hasher.hash_one(key.as_ref());
                Some((key, hash))
            })
            .collect()
    }

    /// A thing's key, or `None` where `ignore` matches it.
    fn key_of<'a>(&self, thing: &'a str) -> Option<Cow<'a, str>> {
        let key = key(thing, self.case_sensitive);
        (!self.ignore.iter().any(|pattern| pattern.matches(&key))).then_some(key)
    }
}

/// The comparison key of a thing: itself, or [`fold`]ed.
fn key(thing: &str, case_sensitive: bool) -> Cow<'_, str> {
    match case_sensitive {
        true => Cow::Borrowed(thing),
        false => fold(thing),
    }
}

/// `thing` with case ignored, safely: ASCII letters lower-cased (a fast
/// path, for most emails are ASCII), and other letters lower-cased only
/// where that never turns them into ASCII. So `Ann@x.com` equals
/// `ann@x.com`, `ÉVA@x.com` equals `éva@x.com`, but a lookalike never equals
/// the real thing: the Kelvin sign `K` is not `k`, nor `İ` `i`, nor `ſ` `s`.
pub fn fold(thing: &str) -> Cow<'_, str> {
    if thing.is_ascii() {
        return match thing.bytes().any(|byte| byte.is_ascii_uppercase()) {
            true => Cow::Owned(thing.to_ascii_lowercase()),
            false => Cow::Borrowed(thing),
        };
    }
    if !thing.chars().any(char::is_uppercase) {
        return Cow::Borrowed(thing);
    }
    let mut folded = String::with_capacity(thing.len());
    for c in thing.chars() {
        let lower = c.to_lowercase();
        match c.is_ascii() || !lower.clone().any(|l| l.is_ascii()) {
            true => folded.extend(lower),
            false => folded.push(c),
        }
    }
    Cow::Owned(folded)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_ignores_case_but_never_makes_a_lookalike_ascii() {
        assert_eq!(fold("Ann@X.com"), "ann@x.com");
        assert_eq!(fold("ÉVA@x.com"), "éva@x.com");
        assert_eq!(fold("ΣΟΦΙΑ@x.gr"), "σοφια@x.gr");
        for lookalike in ["\u{212A}en@x.com", "\u{130}van@x.com"] {
            let folded = fold(lookalike);
            assert!(folded.starts_with(&lookalike[..3]), "{lookalike}: {folded}");
            assert_ne!(
                folded,
                fold(&lookalike.replace('\u{212A}', "K").replace('\u{130}', "I"))
            );
        }
        assert_eq!(fold("\u{17F}am@x.com"), "\u{17F}am@x.com");
        assert_ne!(fold("\u{131}van@x.com"), fold("Ivan@x.com"));
    }
}
