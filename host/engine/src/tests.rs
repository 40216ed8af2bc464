//! The engine's rules, shown with in-memory adapters.

use super::*;
use std::sync::{Arc, Mutex};

/// An in-memory list that records every call made to it.
#[derive(Clone, Default)]
struct Memory {
    state: Arc<Mutex<State>>,
}

#[derive(Default)]
struct State {
    things: Vec<String>,
    calls: Vec<String>,
    fail: Option<&'static str>,
    reject: Vec<String>,
}

impl Memory {
    fn with(things: &[&str]) -> Self {
        let memory = Memory::default();
        memory.state.lock().unwrap().things = things.iter().map(|t| t.to_string()).collect();
        memory
    }

    /// Makes the named call (`get`, `add`, `remove`) fail.
    fn failing(self, call: &'static str) -> Self {
        self.state.lock().unwrap().fail = Some(call);
        self
    }

    /// Makes `add`/`remove` refuse this thing.
    fn rejecting(self, thing: &str) -> Self {
        self.state.lock().unwrap().reject.push(thing.to_string());
        self
    }

    fn things(&self) -> Vec<String> {
        self.state.lock().unwrap().things.clone()
    }

    fn calls(&self) -> Vec<String> {
        self.state.lock().unwrap().calls.clone()
    }

    fn call(&self, name: &str, things: &[String]) -> Result<Vec<Rejected>, AdapterError> {
        let mut state = self.state.lock().unwrap();
        state.calls.push(
            format!("{name} {}", things.join(","))
                .trim_end()
                .to_string(),
        );
        if state.fail == Some(name) {
            return Err(AdapterError::Unauthorized(format!("{name} refused")));
        }
        let (rejected, accepted): (Vec<&String>, Vec<&String>) = things
            .iter()
            .partition(|thing| state.reject.contains(thing));
        for thing in accepted {
            match name {
                "add" => state.things.push(thing.clone()),
                _ => state.things.retain(|t| t != thing),
            }
        }
        Ok(rejected
            .into_iter()
            .map(|thing| Rejected {
                thing: thing.clone(),
                reason: "nope".into(),
            })
            .collect())
    }
}

impl Adapter for Memory {
    async fn get(&mut self) -> Result<Vec<String>, AdapterError> {
        self.call("get", &[])?;
        Ok(self.things())
    }

    async fn add(&mut self, things: &[String]) -> Result<Vec<Rejected>, AdapterError> {
        self.call("add", things)
    }

    async fn remove(&mut self, things: &[String]) -> Result<Vec<Rejected>, AdapterError> {
        self.call("remove", things)
    }
}

/// Starts as `adapter`, which is already there.
fn ready<'a, A: Send + 'a>(adapter: Result<A, AdapterError>) -> Start<'a, A> {
    Box::pin(async move { adapter })
}

fn destination(name: &str, memory: &Memory, options: SyncOptions) -> Destination<'static, Memory> {
    Destination {
        name: name.into(),
        options,
        adapter: ready(Ok(memory.clone())),
        target: Target::default(),
        expected: None,
        journal: None,
        stop: Stop::default(),
    }
}

fn source_of(memory: &Memory) -> Source<Memory> {
    Source {
        adapter: Ok(memory.clone()),
        target: Target::default(),
    }
}

/// Syncs `source` into one destination with `options`.
async fn sync_one(
    source: &Memory,
    target: &Memory,
    options: SyncOptions,
    action: Action,
) -> DestinationReport {
    let report = run_job(
        "job",
        source_of(source),
        vec![destination("d", target, options)],
        action,
        4,
    )
    .await;
    report.destinations.into_iter().next().unwrap()
}

fn strings(things: &[&str]) -> Vec<String> {
    things.iter().map(|t| t.to_string()).collect()
}

fn mode(mode: Mode) -> SyncOptions {
    SyncOptions {
        mode,
        ..SyncOptions::default()
    }
}

#[tokio::test]
async fn add_remove_adds_the_missing_then_removes_the_extra() {
    let source = Memory::with(&["a", "b", "c"]);
    let target = Memory::with(&["b", "x"]);
    let report = sync_one(&source, &target, SyncOptions::default(), Action::Apply).await;
    assert_eq!(report.status, Status::Applied);
    assert_eq!(
        (report.added, report.removed),
        (strings(&["a", "c"]), strings(&["x"]))
    );
    assert_eq!(target.calls(), ["get", "add a,c", "remove x"]);
    assert_eq!(target.things(), ["b", "a", "c"]);
}

#[tokio::test]
async fn remove_add_removes_first() {
    let target = Memory::with(&["x"]);
    sync_one(
        &Memory::with(&["a"]),
        &target,
        mode(Mode::RemoveAdd),
        Action::Apply,
    )
    .await;
    assert_eq!(target.calls(), ["get", "remove x", "add a"]);
}

#[tokio::test]
async fn add_only_never_removes_and_remove_only_never_adds() {
    let target = Memory::with(&["x"]);
    let report = sync_one(
        &Memory::with(&["a"]),
        &target,
        mode(Mode::AddOnly),
        Action::Apply,
    )
    .await;
    assert_eq!(target.calls(), ["get", "add a"]);
    assert!(report.plan.unwrap().remove.is_empty());

    let target = Memory::with(&["x"]);
    let report = sync_one(
        &Memory::with(&["a"]),
        &target,
        mode(Mode::RemoveOnly),
        Action::Apply,
    )
    .await;
    assert_eq!(target.calls(), ["get", "remove x"]);
    assert!(report.plan.unwrap().add.is_empty());
}

#[tokio::test]
async fn comparison_ignores_case_by_default_and_adds_the_source_spelling() {
    let source = Memory::with(&["Ann@Example.com", "Bob@Example.com"]);
    let target = Memory::with(&["ann@example.com"]);
    let report = sync_one(&source, &target, SyncOptions::default(), Action::Apply).await;
    assert_eq!(report.added, ["Bob@Example.com"]);
    assert!(report.removed.is_empty());
    assert_eq!(report.plan.unwrap().unchanged, 1);
}

#[tokio::test]
async fn case_sensitive_comparison_treats_spellings_as_different_things() {
    let options = SyncOptions {
        case_sensitive: true,
        ..SyncOptions::default()
    };
    let report = sync_one(
        &Memory::with(&["Ann"]),
        &Memory::with(&["ann"]),
        options,
        Action::Apply,
    )
    .await;
    assert_eq!(
        (report.added, report.removed),
        (strings(&["Ann"]), strings(&["ann"]))
    );
}

#[tokio::test]
async fn a_person_spelt_several_ways_in_the_source_is_added_once() {
    let source = Memory::with(&["a@x.com", "A@x.com", "a@x.com", "b@x.com"]);
    let report = sync_one(
        &source,
        &Memory::with(&[]),
        SyncOptions::default(),
        Action::Plan,
    )
    .await;
    assert_eq!(report.plan.unwrap().add, strings(&["a@x.com", "b@x.com"]));
}

#[tokio::test]
async fn every_spelling_of_a_removed_person_is_removed() {
    let target = Memory::with(&["ann@x.com", "ANN@x.com", "bob@x.com", "ann@x.com"]);
    let report = sync_one(
        &Memory::with(&["bob@x.com"]),
        &target,
        SyncOptions::default(),
        Action::Apply,
    )
    .await;
    assert_eq!(report.removed, strings(&["ann@x.com", "ANN@x.com"]));
    assert_eq!(target.things(), ["bob@x.com"]);
    let plan = report.plan.unwrap();
    assert_eq!((plan.unchanged, plan.destination_size), (1, 4));
    let again = sync_one(
        &Memory::with(&["bob@x.com"]),
        &target,
        SyncOptions::default(),
        Action::Plan,
    )
    .await;
    assert_eq!(again.status, Status::UpToDate, "no spelling is left behind");
}

#[tokio::test]
async fn a_lookalike_is_never_the_real_person() {
    let kelvin = "\u{212A}en@x.com";
    let report = sync_one(
        &Memory::with(&["ken@x.com"]),
        &Memory::with(&[kelvin]),
        SyncOptions::default(),
        Action::Plan,
    )
    .await;
    let plan = report.plan.unwrap();
    assert_eq!(
        (plan.add, plan.remove),
        (strings(&["ken@x.com"]), strings(&[kelvin]))
    );
}

#[tokio::test]
async fn a_count_limit_stops_the_destination_before_any_write() {
    let options = SyncOptions {
        max_changes: Some(ChangeLimit::Count(2)),
        ..SyncOptions::default()
    };
    let target = Memory::with(&["x", "y"]);
    let report = sync_one(
        &Memory::with(&["a", "b"]),
        &target,
        options.clone(),
        Action::Apply,
    )
    .await;
    assert_eq!(report.status, Status::Blocked);
    assert_eq!(target.calls(), ["get"]);
    assert_eq!(target.things(), ["x", "y"]);
    let error = report.error.unwrap();
    assert!(
        error.contains("4 changes exceed max_changes = 2 (at most 2 here)"),
        "{error}"
    );

    let report = sync_one(
        &Memory::with(&["a", "x"]),
        &Memory::with(&["x", "z"]),
        options,
        Action::Apply,
    )
    .await;
    assert_eq!(
        report.status,
        Status::Applied,
        "two changes are within a limit of two"
    );
}

#[tokio::test]
async fn a_percentage_limit_is_of_the_destination_size() {
    let options = SyncOptions {
        max_changes: Some(ChangeLimit::parse("10%").unwrap()),
        ..SyncOptions::default()
    };
    let current: Vec<String> = (0..20).map(|n| format!("u{n}")).collect();
    let current: Vec<&str> = current.iter().map(String::as_str).collect();
    let mut wanted = current.clone();
    wanted.extend(["new1", "new2"]);
    let report = sync_one(
        &Memory::with(&wanted),
        &Memory::with(&current),
        options.clone(),
        Action::Apply,
    )
    .await;
    assert_eq!(report.status, Status::Applied, "2 changes are 10% of 20");
    wanted.push("new3");
    let target = Memory::with(&current);
    let report = sync_one(&Memory::with(&wanted), &target, options, Action::Apply).await;
    assert_eq!(
        report.status,
        Status::Blocked,
        "3 changes are more than 10% of 20"
    );
    assert_eq!(target.calls(), ["get"]);
}

#[tokio::test]
async fn an_empty_source_never_empties_a_destination_unless_allowed() {
    let target = Memory::with(&["a", "b"]);
    let report = sync_one(
        &Memory::with(&[]),
        &target,
        SyncOptions::default(),
        Action::Apply,
    )
    .await;
    assert_eq!(report.status, Status::Blocked);
    assert!(
        report
            .error
            .unwrap()
            .contains("the source returned nothing")
    );
    assert_eq!(target.things(), ["a", "b"]);

    let options = SyncOptions {
        allow_empty_source: true,
        ..SyncOptions::default()
    };
    let report = sync_one(&Memory::with(&[]), &target, options, Action::Apply).await;
    assert_eq!(report.status, Status::Applied);
    assert!(target.things().is_empty());
}

#[tokio::test]
async fn a_source_holding_only_ignored_things_counts_as_empty() {
    let options = SyncOptions {
        ignore: strings(&["*@bots.example.com"]),
        ..SyncOptions::default()
    };
    let target = Memory::with(&["ann@x.com", "bob@x.com"]);
    let report = sync_one(
        &Memory::with(&["ci@bots.example.com"]),
        &target,
        options,
        Action::Apply,
    )
    .await;
    assert_eq!(report.status, Status::Blocked);
    assert!(
        report
            .error
            .unwrap()
            .contains("the source returned nothing"),
        "nothing is left to sync once ignored things are left out"
    );
    assert_eq!(target.calls(), ["get"]);
}

#[tokio::test]
async fn a_percentage_limit_lets_an_empty_destination_be_filled() {
    let options = SyncOptions {
        max_changes: Some(ChangeLimit::parse("10%").unwrap()),
        ..SyncOptions::default()
    };
    let report = sync_one(
        &Memory::with(&["a", "b", "c"]),
        &Memory::with(&[]),
        options,
        Action::Apply,
    )
    .await;
    assert_eq!(report.status, Status::Applied);
}

#[tokio::test]
async fn a_percentage_limit_that_blocks_says_how_to_fill_a_small_destination() {
    let options = SyncOptions {
        max_changes: Some(ChangeLimit::parse("10%").unwrap()),
        ..SyncOptions::default()
    };
    let report = sync_one(
        &Memory::with(&["a", "b", "c"]),
        &Memory::with(&["a"]),
        options,
        Action::Plan,
    )
    .await;
    let error = report.error.unwrap();
    assert!(
        error.contains("2 changes exceed max_changes = 10% (at most 1 here)"),
        "{error}"
    );
    assert!(error.contains("use a count"), "{error}");
}

#[tokio::test]
async fn the_empty_source_guard_holds_in_remove_only_mode_too() {
    let target = Memory::with(&["a"]);
    let report = sync_one(
        &Memory::with(&[]),
        &target,
        mode(Mode::RemoveOnly),
        Action::Apply,
    )
    .await;
    assert_eq!(report.status, Status::Blocked);
}

#[tokio::test]
async fn ignored_things_are_never_added_nor_removed() {
    let options = SyncOptions {
        ignore: strings(&["*@bots.example.com", "admin@x.com"]),
        ..SyncOptions::default()
    };
    let source = Memory::with(&["a@x.com", "ci@bots.example.com"]);
    let target = Memory::with(&["Admin@X.com", "deploy@BOTS.example.com"]);
    let report = sync_one(&source, &target, options, Action::Apply).await;
    assert_eq!(
        (report.added, report.removed),
        (strings(&["a@x.com"]), vec![])
    );
    assert_eq!(report.plan.unwrap().ignored, 2);
}

#[tokio::test]
async fn rejections_are_reported_per_item_without_hiding_the_rest() {
    let target = Memory::with(&["x", "y"]).rejecting("b").rejecting("y");
    let report = sync_one(
        &Memory::with(&["a", "b"]),
        &target,
        SyncOptions::default(),
        Action::Apply,
    )
    .await;
    assert_eq!(report.status, Status::Applied);
    assert_eq!(
        (report.added, report.removed),
        (strings(&["a"]), strings(&["x"]))
    );
    let rejected: Vec<(Operation, &str)> = report
        .rejected
        .iter()
        .map(|r| (r.operation, r.thing.as_str()))
        .collect();
    assert_eq!(rejected, [(Operation::Add, "b"), (Operation::Remove, "y")]);
}

#[tokio::test]
async fn one_failing_destination_does_not_stop_the_others() {
    let source = Memory::with(&["a"]);
    let broken = Memory::with(&[]).failing("add");
    let healthy = Memory::with(&[]);
    let unstartable = Destination {
        name: "unstartable".into(),
        options: SyncOptions::default(),
        adapter: ready(Err(AdapterError::Other("it would not start".into()))),
        target: Target::default(),
        expected: None,
        journal: None,
        stop: Stop::default(),
    };
    let destinations = vec![
        destination("broken", &broken, SyncOptions::default()),
        unstartable,
        destination("healthy", &healthy, SyncOptions::default()),
    ];
    let report = run_job("job", source_of(&source), destinations, Action::Apply, 2).await;
    let statuses: Vec<Status> = report.destinations.iter().map(|d| d.status).collect();
    assert_eq!(statuses, [Status::Failed, Status::Failed, Status::Applied]);
    assert_eq!(
        report.destinations[0].error.as_deref(),
        Some("add failed: unauthorized: add refused")
    );
    assert_eq!(
        report.destinations[1].error.as_deref(),
        Some("it would not start")
    );
    assert_eq!(healthy.things(), ["a"]);
    assert_eq!(
        source.calls(),
        ["get"],
        "the source is read once for all destinations"
    );
}

#[tokio::test]
async fn a_failed_add_stops_before_the_removals() {
    let target = Memory::with(&["x"]).failing("add");
    let report = sync_one(
        &Memory::with(&["a"]),
        &target,
        SyncOptions::default(),
        Action::Apply,
    )
    .await;
    assert_eq!(report.status, Status::Failed);
    assert_eq!(target.calls(), ["get", "add a"]);
    assert_eq!(target.things(), ["x"]);
}

#[tokio::test]
async fn with_case_sensitive_removals_first_a_case_twin_of_an_addition_is_removed_last() {
    let options = SyncOptions {
        mode: Mode::RemoveAdd,
        case_sensitive: true,
        ..SyncOptions::default()
    };
    let target = Memory::with(&["ann@x.com", "old@x.com"]);
    sync_one(
        &Memory::with(&["Ann@x.com"]),
        &target,
        options,
        Action::Apply,
    )
    .await;
    assert_eq!(
        target.calls(),
        [
            "get",
            "remove old@x.com",
            "add Ann@x.com",
            "remove ann@x.com"
        ],
        "an email adapter can then keep ann rather than remove her and refuse her back"
    );
}

/// A list that takes additions and removals in one call, refusing `no@x`;
/// it notes every call made to it.
#[derive(Clone, Default)]
struct Together {
    things: Vec<String>,
    calls: Arc<Mutex<Vec<String>>>,
}

impl Together {
    fn note(&self, call: String) {
        self.calls.lock().unwrap().push(call);
    }
}

impl Adapter for Together {
    async fn get(&mut self) -> Result<Vec<String>, AdapterError> {
        Ok(self.things.clone())
    }

    async fn add(&mut self, things: &[String]) -> Result<Vec<Rejected>, AdapterError> {
        self.note(format!("add {}", things.join(",")));
        Ok(Vec::new())
    }

    async fn remove(&mut self, things: &[String]) -> Result<Vec<Rejected>, AdapterError> {
        self.note(format!("remove {}", things.join(",")));
        Ok(Vec::new())
    }

    async fn apply(
        &mut self,
        add: &[String],
        remove: &[String],
    ) -> Option<Result<Vec<Rejected>, AdapterError>> {
        self.note(format!("apply +{} -{}", add.join(","), remove.join(",")));
        let rejected = add
            .iter()
            .chain(remove)
            .filter(|thing| thing.as_str() == "no@x")
            .map(|thing| Rejected {
                thing: thing.clone(),
                reason: "refused".into(),
            })
            .collect();
        Some(Ok(rejected))
    }
}

#[tokio::test]
async fn an_adapter_that_takes_both_at_once_gets_one_call() {
    for mode in [Mode::AddRemove, Mode::RemoveAdd] {
        let together = Together {
            things: strings(&["old@x", "no@x"]),
            ..Together::default()
        };
        let destinations = vec![Destination {
            name: "d".into(),
            options: SyncOptions {
                mode,
                ..SyncOptions::default()
            },
            adapter: ready(Ok(together.clone())),
            target: Target::default(),
            expected: None,
            journal: None,
            stop: Stop::default(),
        }];
        let report = run_job(
            "job",
            source_of(&Memory::with(&["new@x"])),
            destinations,
            Action::Apply,
            4,
        )
        .await;
        assert_eq!(
            *together.calls.lock().unwrap(),
            ["apply +new@x -old@x,no@x"]
        );
        let destination = &report.destinations[0];
        assert_eq!(destination.added, strings(&["new@x"]), "{mode}");
        assert_eq!(destination.removed, strings(&["old@x"]), "{mode}");
        assert_eq!(destination.rejected.len(), 1);
        assert_eq!(destination.rejected[0].operation, Operation::Remove);
    }
}

#[tokio::test]
async fn case_twins_are_never_applied_together() {
    let together = Together {
        things: strings(&["ann@x", "old@x"]),
        ..Together::default()
    };
    let destinations = vec![Destination {
        name: "d".into(),
        options: SyncOptions {
            mode: Mode::RemoveAdd,
            case_sensitive: true,
            ..SyncOptions::default()
        },
        adapter: ready(Ok(together.clone())),
        target: Target::default(),
        expected: None,
        journal: None,
        stop: Stop::default(),
    }];
    run_job(
        "job",
        source_of(&Memory::with(&["Ann@x"])),
        destinations,
        Action::Apply,
        4,
    )
    .await;
    assert_eq!(
        *together.calls.lock().unwrap(),
        ["remove old@x", "add Ann@x", "remove ann@x"]
    );
}

#[tokio::test]
async fn a_failed_add_after_the_removals_reports_the_removals_it_made() {
    let target = Memory::with(&["x"]).failing("add");
    let report = sync_one(
        &Memory::with(&["a"]),
        &target,
        mode(Mode::RemoveAdd),
        Action::Apply,
    )
    .await;
    assert_eq!(report.status, Status::Failed);
    assert_eq!(report.removed, strings(&["x"]), "the removal was made");
    assert!(report.added.is_empty());
    assert_eq!(
        report.error.as_deref(),
        Some("add failed: unauthorized: add refused")
    );
    assert!(target.things().is_empty());
}

#[tokio::test]
async fn a_destination_is_started_only_once_the_source_has_been_read() {
    let started = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let noted = started.clone();
    let destinations = vec![Destination {
        name: "d".into(),
        options: SyncOptions::default(),
        adapter: Box::pin(async move {
            noted.store(true, std::sync::atomic::Ordering::SeqCst);
            Ok(Memory::with(&[]))
        }),
        target: Target::default(),
        expected: None,
        journal: None,
        stop: Stop::default(),
    }];
    run_job(
        "job",
        source_of(&Memory::with(&["a"]).failing("get")),
        destinations,
        Action::Apply,
        4,
    )
    .await;
    assert!(
        !started.load(std::sync::atomic::Ordering::SeqCst),
        "no destination starts when the source cannot be read"
    );
}

#[tokio::test]
async fn a_failed_source_leaves_every_destination_untouched() {
    let target = Memory::with(&["x"]);
    let destinations = vec![destination("d", &target, SyncOptions::default())];
    let report = run_job(
        "job",
        source_of(&Memory::with(&["a"]).failing("get")),
        destinations,
        Action::Apply,
        4,
    )
    .await;
    assert_eq!(
        report.source.error.as_deref(),
        Some("unauthorized: get refused")
    );
    assert_eq!(report.destinations[0].status, Status::Failed);
    assert!(target.calls().is_empty());
}

#[tokio::test]
async fn an_empty_diff_makes_no_write_call() {
    let target = Memory::with(&["a", "b"]);
    let report = sync_one(
        &Memory::with(&["B", "a"]),
        &target,
        SyncOptions::default(),
        Action::Apply,
    )
    .await;
    assert_eq!(report.status, Status::UpToDate);
    assert_eq!(target.calls(), ["get"]);
}

#[tokio::test]
async fn planning_reads_but_never_writes() {
    let target = Memory::with(&["x"]);
    let report = sync_one(
        &Memory::with(&["a"]),
        &target,
        SyncOptions::default(),
        Action::Plan,
    )
    .await;
    assert_eq!(report.status, Status::Pending);
    assert_eq!(target.calls(), ["get"]);
    let plan = report.plan.unwrap();
    assert_eq!((plan.add, plan.remove), (strings(&["a"]), strings(&["x"])));
}

#[tokio::test]
async fn unusable_things_from_an_adapter_fail_that_side_with_the_position() {
    let report = sync_one(
        &Memory::with(&["a", " b"]),
        &Memory::with(&[]),
        SyncOptions::default(),
        Action::Apply,
    )
    .await;
    assert_eq!(report.status, Status::Failed);
    let forged = "a@x.com\n  team (add-remove): up to date";
    let report = sync_one(
        &Memory::with(&[forged]),
        &Memory::with(&[]),
        SyncOptions::default(),
        Action::Apply,
    )
    .await;
    assert_eq!(
        report.status,
        Status::Failed,
        "a thing holding a line break could forge output"
    );
    let target = Memory::with(&["x", ""]);
    let report = sync_one(
        &Memory::with(&["a"]),
        &target,
        SyncOptions::default(),
        Action::Apply,
    )
    .await;
    let error = report.error.unwrap();
    assert!(
        error.contains(
            "the destination returned an unusable thing \"\", number 2 of 2: it is empty"
        ),
        "{error}"
    );
    assert_eq!(target.calls(), ["get"]);
}

#[tokio::test]
async fn invisible_characters_are_refused_with_their_position() {
    for (thing, named) in [
        ("\u{feff}ann@x.com", "U+FEFF"),
        (
            "ann\u{200b}@x.com",
            "U+200B, an invisible or control character, at character 4",
        ),
        ("ann@x.com\u{202e}", "U+202E"),
        ("ann\u{200d}@x.com", "U+200D"),
    ] {
        let target = Memory::with(&["ann@x.com", thing]);
        let report = sync_one(
            &Memory::with(&["bob@x.com"]),
            &target,
            SyncOptions::default(),
            Action::Apply,
        )
        .await;
        assert_eq!(report.status, Status::Failed, "{thing:?}");
        let error = report.error.unwrap();
        assert!(
            error.contains("number 2 of 2") && error.contains(named),
            "{error}"
        );
        assert_eq!(target.calls(), ["get"], "nothing is written");
    }
}

/// A destination whose `get` waits until every other one sharing its
/// barrier is in `get` too.
struct Rendezvous(Arc<tokio::sync::Barrier>);

impl Adapter for Rendezvous {
    async fn get(&mut self) -> Result<Vec<String>, AdapterError> {
        self.0.wait().await;
        Ok(Vec::new())
    }

    async fn add(&mut self, _: &[String]) -> Result<Vec<Rejected>, AdapterError> {
        Ok(Vec::new())
    }

    async fn remove(&mut self, _: &[String]) -> Result<Vec<Rejected>, AdapterError> {
        Ok(Vec::new())
    }
}

#[tokio::test]
async fn destinations_run_at_the_same_time_up_to_the_concurrency() {
    let barrier = Arc::new(tokio::sync::Barrier::new(3));
    let destinations = (0..3)
        .map(|n| Destination {
            name: format!("d{n}"),
            options: SyncOptions::default(),
            adapter: ready(Ok(Rendezvous(barrier.clone()))),
            target: Target::default(),
            expected: None,
            journal: None,
            stop: Stop::default(),
        })
        .collect();
    // With fewer than three at a time, the barrier would never open.
    let run = run_job(
        "job",
        source_of(&Memory::with(&["a"])),
        destinations,
        Action::Plan,
        3,
    );
    let report = tokio::time::timeout(std::time::Duration::from_secs(10), run)
        .await
        .expect("all three destinations were in get at once");
    let names: Vec<&str> = report
        .destinations
        .iter()
        .map(|d| d.name.as_str())
        .collect();
    assert_eq!(names, ["d0", "d1", "d2"], "reports keep the config order");
}

/// A destination that notes how many destinations are syncing its list at once.
struct Shared {
    syncing: Arc<std::sync::atomic::AtomicUsize>,
    most: Arc<std::sync::atomic::AtomicUsize>,
}

impl Adapter for Shared {
    async fn get(&mut self) -> Result<Vec<String>, AdapterError> {
        use std::sync::atomic::Ordering::SeqCst;
        let now = self.syncing.fetch_add(1, SeqCst) + 1;
        self.most.fetch_max(now, SeqCst);
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        Ok(Vec::new())
    }

    async fn add(&mut self, _: &[String]) -> Result<Vec<Rejected>, AdapterError> {
        self.syncing
            .fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
        Ok(Vec::new())
    }

    async fn remove(&mut self, _: &[String]) -> Result<Vec<Rejected>, AdapterError> {
        Ok(Vec::new())
    }
}

#[tokio::test]
async fn destinations_writing_one_target_are_synced_one_at_a_time() {
    let syncing = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let most = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let target = Target::default();
    let destinations = (0..4)
        .map(|n| Destination {
            name: format!("d{n}"),
            options: SyncOptions::default(),
            adapter: ready(Ok(Shared {
                syncing: syncing.clone(),
                most: most.clone(),
            })),
            target: target.clone(),
            expected: None,
            journal: None,
            stop: Stop::default(),
        })
        .collect();
    let report = run_job(
        "job",
        source_of(&Memory::with(&["a"])),
        destinations,
        Action::Apply,
        4,
    )
    .await;
    assert!(
        report
            .destinations
            .iter()
            .all(|d| d.status == Status::Applied)
    );
    assert_eq!(
        most.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "each read, planned and wrote while the others waited"
    );
}

#[test]
fn a_plan_of_big_lists_is_computed_the_same_way() {
    // Big enough to be planned on two threads.
    let source: Vec<String> = (0..15_000).map(|n| format!("User{n}@x.com")).collect();
    let destination: Vec<String> = (5_000..20_000).map(|n| format!("user{n}@x.com")).collect();
    let plan = plan(&source, &destination, &SyncOptions::default());
    assert_eq!(plan.add, source[..5_000]);
    assert_eq!(plan.remove, destination[10_000..]);
    assert_eq!(plan.unchanged, 10_000);
}

/// A journal that keeps entries as lines, and can be made to fail.
#[derive(Default)]
struct Lines {
    lines: Mutex<Vec<String>>,
    fail_after: Option<usize>,
}

impl Journal for Lines {
    fn record(&self, entries: &[Entry<'_>]) -> Result<(), String> {
        let mut lines = self.lines.lock().unwrap();
        if self.fail_after.is_some_and(|most| lines.len() >= most) {
            return Err("the disk is full".into());
        }
        lines.extend(entries.iter().map(|entry| match entry {
            Entry::Attempt { operation, things } => {
                format!("attempt {operation} {}", things.join(","))
            }
            Entry::Done { operation, things } => format!("done {operation} {}", things.join(",")),
            Entry::Rejected(rejection) => {
                format!("rejected {} {}", rejection.operation, rejection.thing)
            }
            Entry::Failed {
                operation, things, ..
            } => format!("failed {operation} {}", things.join(",")),
        }));
        Ok(())
    }
}

/// Syncs `source` into `target` with changes `expected` and a journal.
async fn sync_expecting(
    source: &Memory,
    target: &Memory,
    expected: Option<Changes>,
    journal: Option<Arc<dyn Journal>>,
    action: Action,
) -> DestinationReport {
    let destination = Destination {
        expected,
        journal,
        ..destination("d", target, SyncOptions::default())
    };
    let report = run_job("job", source_of(source), vec![destination], action, 1).await;
    report.destinations.into_iter().next().unwrap()
}

fn changes(add: &[&str], remove: &[&str]) -> Changes {
    Changes {
        add: strings(add),
        remove: strings(remove),
    }
}

#[tokio::test]
async fn the_changes_a_saved_plan_expects_are_applied_when_they_still_hold() {
    let target = Memory::with(&["b", "x"]);
    let expected = Some(changes(&["c", "a"], &["x"]));
    let report = sync_expecting(
        &Memory::with(&["a", "b", "c"]),
        &target,
        expected,
        None,
        Action::Apply,
    )
    .await;
    assert_eq!(report.status, Status::Applied);
    assert_eq!(target.calls(), ["get", "add a,c", "remove x"]);
}

#[tokio::test]
async fn a_destination_whose_plan_drifted_from_the_saved_one_is_stale_and_untouched() {
    // Since the plan was saved, "c" joined the source and "x" left the destination.
    let target = Memory::with(&["b"]);
    let expected = Some(changes(&["a"], &["x"]));
    let report = sync_expecting(
        &Memory::with(&["a", "b", "c"]),
        &target,
        expected,
        None,
        Action::Apply,
    )
    .await;
    assert_eq!(report.status, Status::Stale);
    assert_eq!(target.calls(), ["get"]);
    let error = report.error.unwrap();
    assert!(error.contains(r#"now also adds "c""#), "{error}");
    assert!(error.contains(r#"no longer removes "x""#), "{error}");
    assert!(error.contains("nothing was changed"), "{error}");
}

#[tokio::test]
async fn a_guard_stops_a_saved_plan_as_it_stops_a_sync() {
    let target = Memory::with(&["a", "b"]);
    let expected = Some(changes(&[], &["a", "b"]));
    let report = sync_expecting(&Memory::with(&[]), &target, expected, None, Action::Apply).await;
    assert_eq!(report.status, Status::Blocked);
    assert_eq!(target.calls(), ["get"]);
}

#[tokio::test]
async fn every_write_is_journaled_before_it_is_made_and_its_outcome_after() {
    let target = Memory::with(&["x", "y"]).rejecting("y");
    let journal = Arc::new(Lines::default());
    sync_expecting(
        &Memory::with(&["a"]),
        &target,
        None,
        Some(journal.clone()),
        Action::Apply,
    )
    .await;
    assert_eq!(
        *journal.lines.lock().unwrap(),
        [
            "attempt add a",
            "attempt remove x,y",
            "done add a",
            "done remove x",
            "rejected remove y"
        ]
    );
}

#[tokio::test]
async fn a_failed_call_is_journaled_and_nothing_after_it_is_tried() {
    let target = Memory::with(&["x"]).failing("add");
    let journal = Arc::new(Lines::default());
    let report = sync_expecting(
        &Memory::with(&["a"]),
        &target,
        None,
        Some(journal.clone()),
        Action::Apply,
    )
    .await;
    assert_eq!(report.status, Status::Failed);
    assert_eq!(
        *journal.lines.lock().unwrap(),
        ["attempt add a", "attempt remove x", "failed add a"]
    );
    assert_eq!(target.calls(), ["get", "add a"]);
}

#[tokio::test]
async fn a_journal_that_cannot_be_written_stops_the_destination_before_its_next_write() {
    let target = Memory::with(&["x"]);
    let journal = Arc::new(Lines {
        fail_after: Some(2),
        ..Lines::default()
    });
    let report = sync_expecting(
        &Memory::with(&["a"]),
        &target,
        None,
        Some(journal.clone()),
        Action::Apply,
    )
    .await;
    assert_eq!(report.status, Status::Failed);
    assert_eq!(
        target.calls(),
        ["get", "add a"],
        "the removal was never attempted"
    );
    assert_eq!(report.added, ["a"], "what was done is still reported");
    assert!(
        report
            .error
            .unwrap()
            .contains("the audit log could not be written (the disk is full)")
    );
}

#[tokio::test]
async fn planning_journals_nothing() {
    let journal = Arc::new(Lines::default());
    sync_expecting(
        &Memory::with(&["a"]),
        &Memory::with(&["x"]),
        None,
        Some(journal.clone()),
        Action::Plan,
    )
    .await;
    assert!(journal.lines.lock().unwrap().is_empty());
}

/// A journal that asks the run to stop once the first call is done, as a
/// signal arriving during that call would.
struct StopAfterFirstCall(Stop);

impl Journal for StopAfterFirstCall {
    fn record(&self, entries: &[Entry<'_>]) -> Result<(), String> {
        if entries
            .iter()
            .any(|entry| matches!(entry, Entry::Done { .. }))
        {
            self.0.stop();
        }
        Ok(())
    }
}

#[tokio::test]
async fn a_stop_lets_the_current_call_finish_and_begins_no_other_write() {
    let target = Memory::with(&["x"]);
    let stop = Stop::default();
    let destination = Destination {
        journal: Some(Arc::new(StopAfterFirstCall(stop.clone()))),
        stop: stop.clone(),
        ..destination("d", &target, SyncOptions::default())
    };
    let report = run_job(
        "job",
        source_of(&Memory::with(&["a"])),
        vec![destination],
        Action::Apply,
        1,
    )
    .await;
    let report = &report.destinations[0];
    assert_eq!(target.calls(), ["get", "add a"]);
    assert_eq!(report.added, ["a"]);
    assert_eq!(report.status, Status::Failed);
    assert!(report.error.as_deref().unwrap().contains("asked to stop"));
}

#[tokio::test]
async fn a_destination_not_started_when_the_stop_comes_is_never_started() {
    let target = Memory::with(&["x"]);
    let stop = Stop::default();
    stop.stop();
    let destination = Destination {
        stop,
        ..destination("d", &target, SyncOptions::default())
    };
    run_job(
        "job",
        source_of(&Memory::with(&["a"])),
        vec![destination],
        Action::Apply,
        1,
    )
    .await;
    assert!(target.calls().is_empty());
}

/// A job reading `sources` (name, role, transforms, list) combined `how`,
/// synced into `target`.
async fn sync_sources(
    sources: &[(&str, Role, Vec<Transform>, &Memory)],
    how: Combine,
    target: &Memory,
    action: Action,
) -> JobReport {
    let list = sources
        .iter()
        .map(|(name, role, transforms, memory)| {
            let blend = Blend {
                name: name.to_string(),
                role: *role,
                transforms: transforms.clone(),
            };
            (blend, source_of(memory))
        })
        .collect();
    let sources = Sources {
        list,
        combine: how,
        case_sensitive: false,
    };
    let destinations = vec![destination("d", target, SyncOptions::default())];
    run_job("job", sources, destinations, action, 1).await
}

#[tokio::test]
async fn several_sources_are_joined_and_each_addition_says_where_it_came_from() {
    let hr = Memory::with(&["ada@x.com", "bob@x.com"]);
    let contractors = Memory::with(&["BOB@x.com", "cy@x.com"]);
    let target = Memory::with(&["old@x.com"]);
    let sources = [
        ("hr", Role::Include, vec![], &hr),
        ("contractors", Role::Include, vec![], &contractors),
    ];
    let report = sync_sources(&sources, Combine::Union, &target, Action::Plan).await;
    assert_eq!(report.source.count, Some(3), "bob once");
    let plan = report.destinations[0].plan.clone().unwrap();
    assert_eq!(plan.add, ["ada@x.com", "bob@x.com", "cy@x.com"]);
    assert_eq!(
        plan.add_from,
        [vec!["hr"], vec!["hr", "contractors"], vec!["contractors"]]
    );
    assert_eq!(plan.remove, ["old@x.com"]);
}

#[tokio::test]
async fn an_intersection_keeps_only_who_every_source_holds() {
    let staff = Memory::with(&["ada@x.com", "bob@x.com"]);
    let london = Memory::with(&["Bob@x.com", "cy@x.com"]);
    let sources = [
        ("staff", Role::Include, vec![], &staff),
        ("london", Role::Include, vec![], &london),
    ];
    let report = sync_sources(
        &sources,
        Combine::Intersection,
        &Memory::with(&[]),
        Action::Plan,
    )
    .await;
    assert_eq!(
        report.destinations[0].plan.as_ref().unwrap().add,
        ["bob@x.com"]
    );
}

#[tokio::test]
async fn what_an_exclude_source_holds_is_never_wanted() {
    let staff = Memory::with(&["ada@x.com", "bob@x.com"]);
    let leavers = Memory::with(&["BOB@x.com"]);
    let target = Memory::with(&["bob@x.com"]);
    let sources = [
        ("staff", Role::Include, vec![], &staff),
        ("leavers", Role::Exclude, vec![], &leavers),
    ];
    let report = sync_sources(&sources, Combine::Union, &target, Action::Apply).await;
    let destination = &report.destinations[0];
    assert_eq!(destination.added, ["ada@x.com"]);
    assert_eq!(destination.removed, ["bob@x.com"]);
}

#[tokio::test]
async fn the_empty_source_guard_looks_at_the_combined_list() {
    let staff = Memory::with(&["bob@x.com"]);
    let leavers = Memory::with(&["bob@x.com"]);
    let target = Memory::with(&["ada@x.com", "bob@x.com"]);
    let sources = [
        ("staff", Role::Include, vec![], &staff),
        ("leavers", Role::Exclude, vec![], &leavers),
    ];
    let report = sync_sources(&sources, Combine::Union, &target, Action::Apply).await;
    assert_eq!(report.destinations[0].status, Status::Blocked);
    assert_eq!(target.calls(), ["get"]);
}

#[tokio::test]
async fn a_source_that_cannot_be_read_leaves_every_destination_untouched_and_is_named() {
    let staff = Memory::with(&["ada@x.com"]);
    let leavers = Memory::with(&[]).failing("get");
    let target = Memory::with(&["bob@x.com"]);
    let sources = [
        ("staff", Role::Include, vec![], &staff),
        ("leavers", Role::Exclude, vec![], &leavers),
    ];
    let report = sync_sources(&sources, Combine::Union, &target, Action::Apply).await;
    assert_eq!(
        report.source.error.as_deref(),
        Some("unauthorized: source `leavers`: get refused")
    );
    assert_eq!(report.destinations[0].status, Status::Failed);
    assert!(target.calls().is_empty(), "{:?}", target.calls());
}

#[test]
fn transforms_apply_in_order() {
    let things = strings(&[
        "Ada@Old.example.com",
        "ci-bot@old.example.com",
        "bob@other.com",
    ]);
    let steps = [
        Transform::ReplaceDomain {
            from: "old.example.com".into(),
            to: "example.com".into(),
        },
        Transform::Lowercase,
        Transform::Drop(strings(&["CI-*"])),
        Transform::Keep(strings(&["*@example.com"])),
    ];
    assert_eq!(transform(things, &steps), ["ada@example.com"]);
}

#[test]
fn lower_casing_never_turns_a_lookalike_into_the_real_thing() {
    let kelvin = "\u{212A}en@x.com".to_string();
    assert_eq!(
        transform(vec![kelvin.clone()], &[Transform::Lowercase]),
        [kelvin]
    );
}

mod properties;
