//! A job's sources, combined into the one list its destinations are synced
//! to: each source's things transformed as its config says (lower-cased, an
//! email domain replaced, kept or dropped by a pattern), the included
//! sources joined as a union or an intersection, and whatever an exclude
//! source holds (a leavers list) taken out. Things are compared ignoring
//! case (see [`fold`]) unless the job is case-sensitive.

use super::plan::fold;
use std::collections::{HashMap, HashSet};
use wildmatch::WildMatch;

/// One change made to a source's things before they are combined.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transform {
    /// Lower-case every thing, as safely as comparisons ignore case.
    Lowercase,
    /// `someone@from` becomes `someone@to` (the domain compared ignoring ASCII case).
    ReplaceDomain {
        /// The domain replaced.
        from: String,
        /// The domain put in its place.
        to: String,
    },
    /// Keep only the things matching one of these patterns (`*`, `?`; case ignored).
    Keep(Vec<String>),
    /// Drop the things matching one of these patterns (`*`, `?`; case ignored).
    Drop(Vec<String>),
}

/// How a job's included sources are joined.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Combine {
    /// What any of them holds.
    #[default]
    Union,
    /// What every one of them holds.
    Intersection,
}

/// Whether a source's things are wanted or never wanted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Role {
    /// Its things are wanted (joined with the other included sources).
    #[default]
    Include,
    /// Its things are never wanted, whatever the other sources say.
    Exclude,
}

/// How to read one source into the job's list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Blend {
    /// The source's name, for reports.
    pub name: String,
    /// Included or excluded.
    pub role: Role,
    /// Applied in order to its things before combining.
    pub transforms: Vec<Transform>,
}

/// The job's list: the combined things, and, when there are several
/// sources, which included sources hold each of them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Combined {
    /// The things, each person once, in the order the sources first hold them.
    pub things: Vec<String>,
    /// For each thing, the names of the included sources that hold it
    /// (empty when the job has one source).
    pub from: HashMap<String, Vec<String>>,
}

/// `things` with `transforms` applied in order.
pub fn transform(things: Vec<String>, transforms: &[Transform]) -> Vec<String> {
    transforms.iter().fold(things, |things, step| match step {
        Transform::Lowercase => things
            .into_iter()
            .map(|thing| fold(&thing).into_owned())
            .collect(),
        Transform::ReplaceDomain { from, to } => things
            .into_iter()
            .map(|thing| match thing.rsplit_once('@') {
                Some((local, domain)) if domain.eq_ignore_ascii_case(from) => {
                    format!("{local}@{to}")
                }
                _ => thing,
            })
            .collect(),
        Transform::Keep(patterns) => {
            let patterns = compiled(patterns);
            things
                .into_iter()
                .filter(|thing| matches_any(&patterns, thing))
                .collect()
        }
        Transform::Drop(patterns) => {
            let patterns = compiled(patterns);
            things
                .into_iter()
                .filter(|thing| !matches_any(&patterns, thing))
                .collect()
        }
    })
}

fn compiled(patterns: &[String]) -> Vec<WildMatch> {
    patterns
        .iter()
        .map(|pattern| WildMatch::new(&fold(pattern)))
        .collect()
}

fn matches_any(patterns: &[WildMatch], thing: &str) -> bool {
    let folded = fold(thing);
    patterns.iter().any(|pattern| pattern.matches(&folded))
}

/// Combines sources already read and transformed, each with its blend,
/// comparing things exactly if `case_sensitive`.
pub fn combine(sources: Vec<(Blend, Vec<String>)>, how: Combine, case_sensitive: bool) -> Combined {
    let key = |thing: &str| -> String {
        match case_sensitive {
            true => thing.to_string(),
            false => fold(thing).into_owned(),
        }
    };
    let several = sources.len() > 1;
    let (included, excluded): (Vec<_>, Vec<_>) = sources
        .into_iter()
        .partition(|(blend, _)| blend.role == Role::Include);
    let unwanted: HashSet<String> = excluded
        .iter()
        .flat_map(|(_, things)| things.iter().map(|thing| key(thing)))
        .collect();
    // Each person's first spelling, and the sources holding them, in order.
    let mut order: Vec<String> = Vec::new();
    let mut holders: HashMap<String, (String, Vec<String>)> = HashMap::new();
    for (blend, things) in &included {
        for thing in things {
            let person = key(thing);
            if unwanted.contains(&person) {
                continue;
            }
            let (_, names) = holders.entry(person.clone()).or_insert_with(|| {
                order.push(person.clone());
                (thing.clone(), Vec::new())
            });
            if names.last() != Some(&blend.name) {
                names.push(blend.name.clone());
            }
        }
    }
    let everywhere = included.len();
    let mut combined = Combined::default();
    for person in order {
        let (thing, names) = holders
            .remove(&person)
            .expect("every person in order is held");
        if how == Combine::Intersection && names.len() < everywhere {
            continue;
        }
        if several {
            combined.from.insert(thing.clone(), names);
        }
        combined.things.push(thing);
    }
    combined
}
