//! Differential DAP: the go-dap client in `tests/dap-clients/godap/` runs
//! each scripted scenario against two servers and their normalized
//! transcripts must be equal (ordering and normalization rules:
//! `ferret_testkit::dapdiff`).
//!
//! - `dap_transcripts_dlv_against_itself`: two fresh dlv servers per
//!   scenario; proves the script and its normalization are deterministic,
//!   and checks `proto-fixtures/dap/` against the live dlv when the Go
//!   version matches the recording's.
//! - `dap_transcripts_ferret_against_dlv`: the test of record for ferret's
//!   DAP server.
//! - `record_dap_fixtures` (ignored): rewrites `proto-fixtures/dap/` from
//!   dlv with the machine's Go (`FERRET_DAP_OUT=DIR` writes elsewhere):
//!   `cargo test -p ferret --test dap_differential record_dap_fixtures -- --ignored`

use std::time::Instant;

use ferret_testkit::dapdiff::{self, Implementation, Scenario, Target, SCENARIOS};
use ferret_testkit::delve::Delve;
use ferret_testkit::toolchain::GoToolchain;
use serde_json::Value;

/// The vars fixture for every selected toolchain dlv supports.
fn targets() -> Vec<Target> {
    GoToolchain::selected()
        .into_iter()
        .filter(Delve::supports)
        .map(|t| Target::vars(&t))
        .collect()
}

/// Runs every scenario on every target against `expected` then `actual`
/// (one thread per scenario); returns each mismatch, readable. With
/// `check_recorded`, the first transcript is also compared with the
/// recorded one when that was made with the same Go and dlv.
fn differential(
    expected: Implementation,
    actual: Implementation,
    check_recorded: bool,
) -> Vec<String> {
    let targets = targets();
    assert!(
        !targets.is_empty(),
        "no selected Go toolchain is one dlv supports (FERRET_GO_VERSIONS)"
    );
    dapdiff::client();
    let dlv_version = check_recorded.then(dapdiff::dlv_version);
    let labels = (expected.name(), actual.name());
    let labels = if expected == actual {
        ("first", "second")
    } else {
        labels
    };
    std::thread::scope(|scope| {
        let handles: Vec<_> = SCENARIOS
            .iter()
            .map(|scenario| {
                let targets = &targets;
                let dlv_version = dlv_version.as_deref();
                scope.spawn(move || {
                    let mut failures = Vec::new();
                    for target in targets {
                        let a = dapdiff::run(expected, scenario, target);
                        let b = dapdiff::run(actual, scenario, target);
                        let context =
                            format!("scenario {} on {}", scenario.name, target.go_version);
                        if a["result"] != "ok" {
                            failures.push(format!(
                                "{context}: the script did not finish against {}: {}",
                                labels.0, a["result"]
                            ));
                        }
                        if let Err(diff) = dapdiff::compare(&a, &b, labels) {
                            failures.push(format!(
                                "{context}: {} and {} differ\n{diff}",
                                labels.0, labels.1
                            ));
                        }
                        if let Some(version) = dlv_version {
                            failures.extend(check_against_recording(scenario, target, version, &a));
                        }
                    }
                    failures
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    })
}

/// Compares a live dlv transcript with `proto-fixtures/dap/`, when the
/// recording was made with the same Go and dlv versions.
fn check_against_recording(
    scenario: &Scenario,
    target: &Target,
    dlv_version: &str,
    live: &Value,
) -> Option<String> {
    let recorded = dapdiff::recorded(scenario)?;
    if recorded["go_version"] != target.go_version.as_str()
        || recorded["dlv_version"] != dlv_version
    {
        return None;
    }
    dapdiff::compare(&recorded["transcript"], live, ("recorded", "dlv now"))
        .err()
        .map(|diff| {
            format!(
                "proto-fixtures/dap/{}.json no longer matches dlv (re-record: cargo test -p ferret \
                 --test dap_differential record_dap_fixtures -- --ignored)\n{diff}",
                scenario.name
            )
        })
}

#[test]
fn dap_transcripts_dlv_against_itself() {
    let start = Instant::now();
    let failures = differential(Implementation::Dlv, Implementation::Dlv, true);
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    eprintln!(
        "dlv against itself: {} scenarios equal on {} in {:.1?}",
        SCENARIOS.len(),
        targets()
            .iter()
            .map(|t| t.go_version.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        start.elapsed()
    );
}

#[test]
fn dap_transcripts_ferret_against_dlv() {
    let failures = differential(Implementation::Dlv, Implementation::Ferret, false);
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
#[ignore = "re-records proto-fixtures/dap/ from dlv"]
fn record_dap_fixtures() {
    let go = dapdiff::machine_toolchain().expect("the machine's go records the fixtures");
    assert!(
        Delve::supports(&go),
        "dlv does not support the machine's {}",
        go.version
    );
    let target = Target::vars(&go);
    let dir = std::env::var_os("FERRET_DAP_OUT")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(dapdiff::recorded_dir);
    std::fs::create_dir_all(&dir).expect("create the output directory");
    for scenario in &SCENARIOS {
        let doc = dapdiff::run(Implementation::Dlv, scenario, &target);
        assert_eq!(doc["result"], "ok", "{}: {}", scenario.name, doc["result"]);
        let again = dapdiff::run(Implementation::Dlv, scenario, &target);
        if let Err(diff) = dapdiff::compare(&doc, &again, ("first", "second")) {
            panic!(
                "{}: two dlv runs differ, not recording\n{diff}",
                scenario.name
            );
        }
        let recording = dapdiff::recording(scenario, &target, &doc);
        let mut text = serde_json::to_string_pretty(&recording).expect("serialize");
        text.push('\n');
        let path = dir.join(format!("{}.json", scenario.name));
        std::fs::write(&path, text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
        eprintln!("wrote {}", path.display());
    }
}
