//! Groundwork for goroutine listings: the `leak` fixture reports its own
//! parked goroutines correctly on every toolchain, and dlv's `goroutines`
//! command on a `leak` core is stable enough to be the oracle for ferret.

use std::collections::BTreeMap;

use ferret_testkit::delve::Delve;
use ferret_testkit::fixture::{build_fixture, BuildOptions};
use ferret_testkit::leak::{
    dlv_goroutines_transcript, leak_core, normalize_same_core, start_leak, wait_reasons, GOROUTINES_SCRIPT, WORKERS,
};
use ferret_testkit::target_dir;
use ferret_testkit::toolchain::GoToolchain;

/// `leak 3` reports three goroutines per wait reason and start function,
/// and `leak 0` none but main.
#[test]
fn leak_fixture_reports_itself() {
    for toolchain in GoToolchain::selected() {
        let exe = build_fixture("leak", &toolchain, &BuildOptions::debug());
        for n in [3, 0] {
            let leak = start_leak(&exe, n);
            let report = &leak.report;
            let per_name = |names: &[&str]| -> BTreeMap<String, usize> {
                names.iter().filter(|_| n > 0).map(|name| (name.to_string(), n)).collect()
            };
            let context = format!("{} leak {n}: {report:?}", toolchain.version);
            assert_eq!(report.pid, leak.pid, "{context}");
            assert_eq!(report.n, n, "{context}");
            assert_eq!(report.goroutines, WORKERS.len() * n + 1, "{context}");
            assert_eq!(report.counts, per_name(&wait_reasons(&toolchain)), "{context}");
            assert_eq!(report.start, per_name(WORKERS), "{context}");
        }
    }
}

/// dlv's answers to [`GOROUTINES_SCRIPT`] on one core are the same twice
/// over, group the goroutines by every worker function, and see the labels.
#[test]
fn dlv_goroutines_on_a_core_is_stable() {
    for toolchain in GoToolchain::selected().into_iter().filter(Delve::supports) {
        let version = &toolchain.version;
        let exe = build_fixture("leak", &toolchain, &BuildOptions::debug());
        let dir = target_dir().join(format!("goroutines-tests/{version}-{}", std::process::id()));
        let (core, _) = leak_core(&exe, 2, &dir);
        let runs: Vec<String> = (0..2)
            .map(|_| {
                let transcript = dlv_goroutines_transcript(&exe, &core, GOROUTINES_SCRIPT);
                assert!(!transcript.timed_out, "{version}:\n{}", transcript.raw);
                assert_eq!(transcript.blocks.len(), GOROUTINES_SCRIPT.len() + 1, "{version}:\n{}", transcript.raw);
                normalize_same_core(&transcript.render(), &toolchain)
            })
            .collect();
        eprintln!("{version}: dlv goroutines on a leak 2 core:\n{}", runs[0]);
        assert_eq!(runs[0], runs[1], "{version}: two dlv runs on one core differ");

        let grouped = block(&runs[0], "goroutines -group startloc");
        for worker in WORKERS {
            assert!(grouped.contains(&format!(" in {worker}\n")), "{version}: no group for {worker}:\n{grouped}");
        }
        let labelled = block(&runs[0], "goroutines -with label kind=recv");
        assert_eq!(labelled.matches("main.recvWorker.func1").count(), 2, "{version}:\n{labelled}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}

/// The output of `command` in a rendered transcript.
fn block<'a>(rendered: &'a str, command: &str) -> &'a str {
    let prompt = format!("(dlv) {command}\n");
    let start = rendered.find(&prompt).unwrap_or_else(|| panic!("no {command:?} in:\n{rendered}")) + prompt.len();
    let rest = &rendered[start..];
    &rest[..rest.find("(dlv) ").unwrap_or(rest.len())]
}
