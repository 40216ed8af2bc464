//! The plan's rules as properties, checked on random sources and
//! destinations: duplicates, case variants, a lookalike, ignored things,
//! every mode, limits as counts and percentages.

use crate::{Blocked, ChangeLimit, Mode, Plan, SyncOptions, plan};
use proptest::prelude::*;
use std::collections::{BTreeMap, BTreeSet};

/// People in a few spellings each, some of them bots, one a lookalike
/// (the Kelvin sign) of another.
fn thing() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "ann@x.com",
        "Ann@x.com",
        "ANN@X.COM",
        "ken@x.com",
        "\u{212A}en@x.com",
        "éva@x.com",
        "Éva@x.com",
        "bob@x.com",
        "ci@bots.example.com",
        "CI@Bots.Example.com",
        "admin@x.com",
    ])
    .prop_map(String::from)
}

fn mode() -> impl Strategy<Value = Mode> {
    prop::sample::select(vec![
        Mode::AddRemove,
        Mode::RemoveAdd,
        Mode::AddOnly,
        Mode::RemoveOnly,
    ])
}

fn limit() -> impl Strategy<Value = Option<ChangeLimit>> {
    prop_oneof![
        Just(None),
        (0usize..6).prop_map(|count| Some(ChangeLimit::Count(count))),
        (0u32..=100).prop_map(|percent| ChangeLimit::parse(&format!("{percent}%")).ok()),
    ]
}

fn options() -> impl Strategy<Value = SyncOptions> {
    let ignore = prop::sample::select(vec![
        vec![],
        vec!["*@bots.example.com".to_string()],
        vec!["admin@x.com".to_string(), "*@BOTS.example.com".to_string()],
    ]);
    (mode(), any::<bool>(), limit(), any::<bool>(), ignore).prop_map(
        |(mode, case_sensitive, max_changes, allow_empty_source, ignore)| SyncOptions {
            mode,
            case_sensitive,
            max_changes,
            allow_empty_source,
            ignore,
        },
    )
}

/// The model's idea of "the same person": exact, or with ASCII letters and
/// É lower-cased (never the Kelvin sign, which only looks like a K).
fn same(thing: &str, options: &SyncOptions) -> String {
    match options.case_sensitive {
        true => thing.to_string(),
        false => thing
            .chars()
            .map(|c| match c {
                'É' => 'é',
                c => c.to_ascii_lowercase(),
            })
            .collect(),
    }
}

fn ignored(thing: &str, options: &SyncOptions) -> bool {
    let key = same(thing, options);
    options.ignore.iter().any(|pattern| {
        let pattern = same(pattern, options);
        match pattern.strip_prefix('*') {
            Some(suffix) => key.ends_with(suffix),
            None => key == pattern,
        }
    })
}

/// The people a list holds, ignored ones left out.
fn people(things: &[String], options: &SyncOptions) -> BTreeSet<String> {
    things
        .iter()
        .filter(|thing| !ignored(thing, options))
        .map(|thing| same(thing, options))
        .collect()
}

/// What the destination holds once `plan` is applied: additions appended,
/// every entry equal to a removal taken out.
fn apply(destination: &[String], plan: &Plan) -> Vec<String> {
    let mut after: Vec<String> = destination
        .iter()
        .filter(|thing| !plan.remove.contains(thing))
        .cloned()
        .collect();
    after.extend(plan.add.iter().cloned());
    after
}

/// The people the destination should hold after a sync in `options.mode`.
fn wanted(source: &[String], destination: &[String], options: &SyncOptions) -> BTreeSet<String> {
    let source = people(source, options);
    let current = people(destination, options);
    match options.mode {
        Mode::AddRemove | Mode::RemoveAdd => source,
        Mode::AddOnly => &current | &source,
        Mode::RemoveOnly => &current & &source,
    }
}

/// Counts each distinct ignored entry, which a sync must leave exactly as it was.
fn ignored_entries(things: &[String], options: &SyncOptions) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for thing in things.iter().filter(|thing| ignored(thing, options)) {
        *counts.entry(thing.clone()).or_default() += 1;
    }
    counts
}

fn the_guard(plan: &Plan, source: &[String], options: &SyncOptions) -> Option<&'static str> {
    let changes = plan.add.len() + plan.remove.len();
    if people(source, options).is_empty() && !plan.remove.is_empty() && !options.allow_empty_source
    {
        return Some("empty source");
    }
    let size = plan.destination_size;
    let allowed = match options.max_changes? {
        ChangeLimit::Count(count) => count,
        ChangeLimit::Percent(_) if size == 0 => return None,
        ChangeLimit::Percent(percent) => {
            let whole: usize = percent.to_string().parse().expect("whole percentages here");
            (whole * size).div_ceil(100)
        }
    };
    (changes > allowed).then_some("too many changes")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn applying_a_plan_gives_exactly_the_wanted_people_and_a_second_plan_is_empty(
        source in prop::collection::vec(thing(), 0..8),
        destination in prop::collection::vec(thing(), 0..8),
        options in options(),
    ) {
        let first = plan(&source, &destination, &options);
        let expected_guard = the_guard(&first, &source, &options);
        let guard = first.blocked.as_ref().map(|blocked| match blocked {
            Blocked::EmptySource { .. } => "empty source",
            Blocked::TooManyChanges { .. } => "too many changes",
        });
        prop_assert_eq!(guard, expected_guard);
        if first.blocked.is_some() {
            return Ok(());
        }
        let after = apply(&destination, &first);
        prop_assert_eq!(people(&after, &options), wanted(&source, &destination, &options));
        prop_assert_eq!(
            ignored_entries(&after, &options),
            ignored_entries(&destination, &options),
            "ignored entries are left exactly as they were"
        );
        let second = plan(&source, &after, &options);
        prop_assert!(
            second.add.is_empty() && second.remove.is_empty(),
            "a second plan changes nothing: {:?}", second
        );
    }

    #[test]
    fn no_person_is_both_added_and_removed_nor_added_twice(
        source in prop::collection::vec(thing(), 0..8),
        destination in prop::collection::vec(thing(), 0..8),
        options in options(),
    ) {
        let plan = plan(&source, &destination, &options);
        let added: Vec<String> = plan.add.iter().map(|thing| same(thing, &options)).collect();
        let removed = people(&plan.remove, &options);
        prop_assert!(added.iter().all(|person| !removed.contains(person)));
        prop_assert_eq!(added.len(), added.iter().collect::<BTreeSet<_>>().len());
        prop_assert_eq!(
            plan.remove.len(),
            plan.remove.iter().collect::<BTreeSet<_>>().len(),
            "each spelling is removed once"
        );
        prop_assert!(plan.add.iter().chain(&plan.remove).all(|thing| !ignored(thing, &options)));
        prop_assert_eq!(
            plan.unchanged,
            (&people(&source, &options) & &people(&destination, &options)).len()
        );
    }
}
