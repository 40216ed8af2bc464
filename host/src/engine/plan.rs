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
    let (add, (remove, removed_keys)) = both(
        parallel,
        || first_spellings_missing(source, &source_keys, &in_source, &in_destination),
        || every_spelling_missing(destination, &destination_keys, &in_destination, &in_source),
    );
    let mut plan = Plan {
        unchanged: in_destination.len() - removed_keys,
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
    plan.blocked = guard(&plan, in_source.is_empty(), options);
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

/// Whether some key occurs more than once: `own` is the set of `keys`.
fn repeats(keys: &Keys, own: &HashSet<&str>) -> bool {
    own.len() < keys.iter().flatten().count()
}

/// The things (not ignored) whose key is not in `other`, the first
/// spelling of each key only; `own` is the set of `keys`.
fn first_spellings_missing(
    things: &[String],
    keys: &Keys,
    own: &HashSet<&str>,
    other: &HashSet<&str>,
) -> Vec<String> {
    let repeats = repeats(keys, own);
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

/// The things (not ignored) whose key is not in `other`, every distinct
/// spelling of each, and how many distinct keys they are.
fn every_spelling_missing(
    things: &[String],
    keys: &Keys,
    own: &HashSet<&str>,
    other: &HashSet<&str>,
) -> (Vec<String>, usize) {
    let repeats = repeats(keys, own);
    let mut spellings = HashSet::with_hasher(RandomState::default());
    let mut keys_missing = HashSet::with_hasher(RandomState::default());
    let mut missing = Vec::new();
    for (thing, key) in things.iter().zip(keys) {
        let Some(key) = key.as_deref() else { continue };
        if other.contains(key) {
            continue;
        }
        if !repeats {
            missing.push(thing.clone());
        } else if spellings.insert(thing.as_str()) {
            keys_missing.insert(key);
            missing.push(thing.clone());
        }
    }
    let distinct = if repeats {
        keys_missing.len()
    } else {
        missing.len()
    };
    (missing, distinct)
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

    /// Each thing's key, or `None` where `ignore` matches it.
    fn keys<'a>(&self, things: &'a [String]) -> Keys<'a> {
        things
            .iter()
            .map(|thing| {
                let key = key(thing, self.case_sensitive);
                (!self.ignore.iter().any(|pattern| pattern.matches(&key))).then_some(key)
            })
            .collect()
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
