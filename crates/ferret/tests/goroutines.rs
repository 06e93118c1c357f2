//! Groundwork for goroutine listings: the `leak` fixture reports its own
//! parked goroutines correctly on every toolchain, and dlv's `goroutines`
//! command on a `leak` core is stable enough to be the oracle for ferret.

use std::collections::BTreeMap;

use ferret_testkit::delve::Delve;
use ferret_testkit::fixture::{build_fixture, BuildOptions};
use ferret_testkit::leak::{
    dlv_goroutines_transcript, goroutines_transcript, leak_core, normalize_same_core, start_leak,
    wait_reasons, GOROUTINES_SCRIPT, WORKERS,
};
use ferret_testkit::rpc::RpcClient;
use ferret_testkit::servers::{BothOnCore, FerretServer};
use ferret_testkit::target_dir;
use ferret_testkit::terminal::{start_dlv_attach, wait_or_kill, Transcript};
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
                names
                    .iter()
                    .filter(|_| n > 0)
                    .map(|name| (name.to_string(), n))
                    .collect()
            };
            let context = format!("{} leak {n}: {report:?}", toolchain.version);
            assert_eq!(report.pid, leak.pid, "{context}");
            assert_eq!(report.n, n, "{context}");
            assert_eq!(report.goroutines, WORKERS.len() * n + 1, "{context}");
            assert_eq!(
                report.counts,
                per_name(&wait_reasons(&toolchain)),
                "{context}"
            );
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
                assert_eq!(
                    transcript.blocks.len(),
                    GOROUTINES_SCRIPT.len() + 1,
                    "{version}:\n{}",
                    transcript.raw
                );
                normalize_same_core(&transcript.render(), &toolchain)
            })
            .collect();
        assert_eq!(
            runs[0], runs[1],
            "{version}: two dlv runs on one core differ"
        );

        let grouped = block(&runs[0], "goroutines -group startloc");
        for worker in WORKERS {
            assert!(
                grouped.contains(&format!(" in {worker}\n")),
                "{version}: no group for {worker}:\n{grouped}"
            );
        }
        let labelled = block(&runs[0], "goroutines -with label kind=recv");
        assert_eq!(
            labelled.matches("main.recvWorker.func1").count(),
            2,
            "{version}:\n{labelled}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}

/// The output of `command` in a rendered transcript.
fn block<'a>(rendered: &'a str, command: &str) -> &'a str {
    let prompt = format!("(dlv) {command}\n");
    let start = rendered
        .find(&prompt)
        .unwrap_or_else(|| panic!("no {command:?} in:\n{rendered}"))
        + prompt.len();
    let rest = &rendered[start..];
    &rest[..rest.find("(dlv) ").unwrap_or(rest.len())]
}

/// The real `dlv connect` prints the same for every `goroutines` command of
/// [`GOROUTINES_SCRIPT`] against ferret as against dlv, both serving the
/// same core.
#[test]
fn dlv_connect_goroutines_read_the_same_against_ferret_and_dlv() {
    for toolchain in GoToolchain::selected().into_iter().filter(Delve::supports) {
        let version = &toolchain.version;
        let exe = build_fixture("leak", &toolchain, &BuildOptions::debug());
        let dir = target_dir().join(format!(
            "goroutines-tests/ferret-{version}-{}",
            std::process::id()
        ));
        let (core, _) = leak_core(&exe, 2, &dir);
        let dlv = dlv_goroutines_transcript(&exe, &core, GOROUTINES_SCRIPT);
        let mut server = FerretServer::core(&exe, &core);
        let ferret = goroutines_transcript(&server.addr, GOROUTINES_SCRIPT);
        server.stop();
        assert_same_transcripts(&dlv, &ferret, &toolchain, "core");
        let _ = std::fs::remove_dir_all(&dir);
    }
}

/// The real `dlv connect` prints the same against ferret as against dlv,
/// both attached in turn to one live `leak` process (each detaches and
/// leaves it running).
#[test]
fn dlv_connect_goroutines_read_the_same_against_ferret_and_dlv_on_a_live_process() {
    // Without the final `exit`, which would kill the attached process.
    let script = &GOROUTINES_SCRIPT[..GOROUTINES_SCRIPT.len() - 1];
    for toolchain in GoToolchain::selected().into_iter().filter(Delve::supports) {
        let exe = build_fixture("leak", &toolchain, &BuildOptions::debug());
        let leak = start_leak(&exe, 2);
        let mut ferret_server = FerretServer::attach(leak.pid);
        let ferret = goroutines_transcript(&ferret_server.addr, script);
        detach(&ferret_server.addr);
        ferret_server.stop();
        let (mut dlv_server, addr) = start_dlv_attach(leak.pid);
        let dlv = goroutines_transcript(&addr, script);
        detach(&addr);
        let _ = wait_or_kill(&mut dlv_server, std::time::Duration::from_secs(10));
        assert_same_transcripts(&dlv, &ferret, &toolchain, "live");
    }
}

/// Checks that the server's target is running (a summary or snapshot
/// stopped it only briefly).
fn assert_running(client: &mut RpcClient) {
    let state = client
        .call("State", serde_json::json!({"NonBlocking": true}))
        .expect("state");
    assert_eq!(
        state["State"]["Running"], true,
        "the target must run on: {state}"
    );
}

/// Asks a server to detach and leave its target running.
fn detach(addr: &str) {
    let mut client = RpcClient::connect(addr).expect("connect");
    client
        .call("Detach", serde_json::json!({"Kill": false}))
        .expect("detach");
}

/// Compares two `dlv connect` transcripts line by line after path
/// normalization, listing the first differences.
fn assert_same_transcripts(
    dlv: &Transcript,
    ferret: &Transcript,
    toolchain: &GoToolchain,
    what: &str,
) {
    let version = &toolchain.version;
    assert!(
        !ferret.timed_out,
        "{version} {what}: ferret's session timed out:\n{}",
        ferret.raw
    );
    let dlv = normalize_same_core(&dlv.render(), toolchain);
    let ferret = normalize_same_core(&ferret.render(), toolchain);
    let differences: Vec<String> = dlv
        .lines()
        .zip(ferret.lines())
        .enumerate()
        .filter(|(_, (a, b))| a != b)
        .map(|(i, (a, b))| format!("line {}:\n  dlv:    {a}\n  ferret: {b}", i + 1))
        .collect();
    assert!(
        differences.is_empty() && dlv.lines().count() == ferret.lines().count(),
        "{version} {what}: {} differing lines ({} vs {} lines):\n{}\n\nferret's transcript:\n{ferret}",
        differences.len(),
        dlv.lines().count(),
        ferret.lines().count(),
        differences.iter().take(40).cloned().collect::<Vec<_>>().join("\n")
    );
}

/// `Ferret.GoroutineSummary` groups the `leak` goroutines by start function
/// and wait reason exactly as the fixture says it parked them, on a live
/// process and on a core; wait-time filters and the process's resources
/// work; bad groupings get clear errors.
#[test]
fn goroutine_summary_matches_the_fixture() {
    const N: usize = 3;
    for toolchain in GoToolchain::selected() {
        let version = &toolchain.version;
        let exe = build_fixture("leak", &toolchain, &BuildOptions::debug());
        let reasons = wait_reasons(&toolchain);
        let started = std::time::Instant::now();
        let leak = start_leak(&exe, N);
        let server = FerretServer::attach(leak.pid);
        let mut client = RpcClient::connect(&server.addr).expect("connect");
        let summary = |client: &mut RpcClient, params: serde_json::Value| {
            client.request(&serde_json::json!({"method": "Ferret.GoroutineSummary", "params": [params], "id": 1})).expect("reply")
        };

        let reply = summary(
            &mut client,
            serde_json::json!({"GroupBy": ["startloc", "waitreason"], "Samples": 2}),
        );
        let result = &reply["result"];
        assert!(reply["error"].is_null(), "{version}: {reply}");
        for (worker, reason) in WORKERS.iter().zip(reasons) {
            let group = result["Groups"]
                .as_array()
                .unwrap()
                .iter()
                .find(|g| {
                    g["Key"][0]
                        .as_str()
                        .unwrap()
                        .ends_with(&format!(" in {worker}"))
                })
                .unwrap_or_else(|| panic!("{version}: no group for {worker}: {result}"));
            assert_eq!(group["Key"][1], reason, "{version}: {worker}");
            assert_eq!(group["Count"], N, "{version}: {worker}");
            assert_eq!(
                group["SampleIDs"].as_array().unwrap().len(),
                2,
                "{version}: {worker}"
            );
            // The fixture collects garbage twice once its workers are
            // parked, which makes the runtime record their wait starts.
            let oldest = group["OldestWaitSeconds"].as_f64();
            let alive = started.elapsed().as_secs_f64();
            assert!(
                oldest.is_some_and(|s| (0.0..=alive).contains(&s)),
                "{version}: {group} (fixture started {alive} s ago)"
            );
        }
        let process = &result["Process"];
        assert!(
            process["Threads"].as_u64().unwrap() >= 2,
            "{version}: {process}"
        );
        assert!(
            process["FDs"]["pipe"].as_u64().unwrap() >= 2 * N as u64,
            "{version}: {process}"
        );

        // Filters: one wait reason; waits longer than an hour (none yet).
        let reply = summary(
            &mut client,
            serde_json::json!({"WaitReasons": ["chan send"]}),
        );
        assert_eq!(reply["result"]["Matched"], N, "{version}: {reply}");
        assert_eq!(
            reply["result"]["Groups"][0]["Key"][0], "chan send",
            "{version}: {reply}"
        );
        let reply = summary(&mut client, serde_json::json!({"MinWaitSeconds": 3600}));
        assert_eq!(reply["result"]["Matched"], 0, "{version}: {reply}");
        // Every worker has waited a little (main too: it sleeps).
        let reply = summary(&mut client, serde_json::json!({"MinWaitSeconds": 1e-6}));
        let matched = reply["result"]["Matched"].as_u64().unwrap();
        assert!(matched > (WORKERS.len() * N) as u64, "{version}: {reply}");
        let reply = summary(&mut client, serde_json::json!({"GroupBy": ["label:kind"]}));
        let groups = reply["result"]["Groups"].as_array().unwrap();
        assert!(
            groups
                .iter()
                .any(|g| g["Key"][0] == "kind=recv" && g["Count"] == N),
            "{version}: {reply}"
        );

        for (params, error) in [
            (
                serde_json::json!({"GroupBy": ["bogus"]}),
                "unknown grouping \"bogus\"",
            ),
            (
                serde_json::json!({"GroupBy": ["userloc", "startloc", "goloc"]}),
                "GroupBy takes one or two keys",
            ),
            (
                serde_json::json!({"MinWaitSeconds": -1}),
                "MinWaitSeconds must be",
            ),
        ] {
            let reply = summary(&mut client, params);
            assert!(
                reply["error"]
                    .as_str()
                    .is_some_and(|e| e.starts_with(error)),
                "{version}: {reply}"
            );
        }
        detach(&server.addr);
    }
}

/// On a running target (`--continue`), a summary stops it only briefly:
/// the reply comes, the target is running again afterwards, and the
/// `ferret goroutines` client prints the summary as a table, then with
/// `--watch` a second table with each group's growth.
#[test]
fn summary_of_a_running_target_and_the_goroutines_client() {
    const N: usize = 2;
    let toolchain = GoToolchain::selected()
        .into_iter()
        .next()
        .expect("a Go toolchain");
    let exe = build_fixture("leak", &toolchain, &BuildOptions::debug());
    let leak = start_leak(&exe, N);
    let server = FerretServer::start(&[
        std::ffi::OsStr::new("attach"),
        std::ffi::OsStr::new(&leak.pid.to_string()),
        std::ffi::OsStr::new("--continue"),
    ]);
    let mut client = RpcClient::connect(&server.addr).expect("connect");
    for _ in 0..3 {
        let reply = client
            .request(
                &serde_json::json!({"method": "Ferret.GoroutineSummary", "params": [{}], "id": 1}),
            )
            .expect("reply");
        assert!(reply["error"].is_null(), "{reply}");
        assert!(
            reply["result"]["Total"].as_u64().unwrap() > 8 * N as u64,
            "{reply}"
        );
        assert_running(&mut client);
    }

    let out = std::process::Command::new(ferret_testkit::ferret_binary())
        .args([
            "goroutines",
            "--connect",
            &server.addr,
            "--group",
            "waitreason,startloc",
        ])
        .output()
        .expect("ferret goroutines");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.lines()
            .next()
            .is_some_and(|l| l.contains(" goroutines; ") && l.contains("threads")),
        "{text}"
    );
    assert!(
        text.contains("COUNT") && text.contains("WAITREASON") && text.contains("STARTLOC"),
        "{text}"
    );
    let recv = text
        .lines()
        .find(|l| l.contains("in main.recvWorker"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(
        recv.starts_with(&format!("{N} ")) && recv.contains("chan receive"),
        "{recv}"
    );

    // --watch: a second table with a GROWTH column (nothing grows here).
    let mut watch = std::process::Command::new(ferret_testkit::ferret_binary())
        .args(["goroutines", "--connect", &server.addr, "--watch", "300ms"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("ferret goroutines --watch");
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let _ = watch.kill();
    let out = watch.wait_with_output().expect("output");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("GROWTH"), "{text}");
    assert!(
        text.lines()
            .filter(|l| l.contains("chan receive"))
            .skip(1)
            .all(|l| l.contains("+0")),
        "{text}"
    );
    detach(&server.addr);
}

/// Snapshot, wait, diff: on a target that keeps leaking goroutines in
/// `main.growWorker` (running under `--continue`), the diff from a
/// snapshot to now and between two snapshots shows exactly that group
/// growing, with new ids that were not in the first snapshot and a stack
/// that goes through `main.growWorker`; nothing else grows.
#[test]
fn goroutine_snapshots_and_diffs_find_the_growing_group() {
    let toolchain = GoToolchain::selected()
        .into_iter()
        .next()
        .expect("a Go toolchain");
    let exe = build_fixture("leak", &toolchain, &BuildOptions::debug());
    let leak = ferret_testkit::leak::start_growing_leak(&exe, 1);
    let server = FerretServer::start(&[
        std::ffi::OsStr::new("attach"),
        std::ffi::OsStr::new(&leak.pid.to_string()),
        std::ffi::OsStr::new("--continue"),
    ]);
    let mut client = RpcClient::connect(&server.addr).expect("connect");
    let mut call = |method: &str, params: serde_json::Value| {
        let reply = client
            .request(&serde_json::json!({"method": method, "params": [params], "id": 1}))
            .expect("reply");
        assert!(reply["error"].is_null(), "{method}: {reply}");
        reply["result"].clone()
    };
    // Goroutines that exist before the first snapshot (never exit here).
    // (ListGoroutines would wait for the target to stop, as in Delve; a
    // summary with every id sampled does not.)
    let first_ids: Vec<i64> = {
        let summary = call(
            "Ferret.GoroutineSummary",
            serde_json::json!({"GroupBy": ["startloc"], "Samples": 100000}),
        );
        let groups = summary["Groups"].as_array().unwrap().clone();
        groups
            .iter()
            .flat_map(|g| g["SampleIDs"].as_array().unwrap().clone())
            .map(|id| id.as_i64().unwrap())
            .collect()
    };
    let first = call(
        "Ferret.GoroutineSnapshot",
        serde_json::json!({"Name": "first"}),
    );
    std::thread::sleep(std::time::Duration::from_millis(400));
    call(
        "Ferret.GoroutineSnapshot",
        serde_json::json!({"Name": "second"}),
    );
    std::thread::sleep(std::time::Duration::from_millis(200));

    for to in ["second", ""] {
        let diff = call(
            "Ferret.GoroutineDiff",
            serde_json::json!({"From": "first", "To": to, "GroupBy": ["startloc"]}),
        );
        let groups = diff["Groups"].as_array().unwrap();
        assert_eq!(
            groups.len(),
            1,
            "to {to:?}: only the leaking group grows: {diff}"
        );
        let group = &groups[0];
        assert!(
            group["Key"][0]
                .as_str()
                .unwrap()
                .ends_with(" in main.growWorker"),
            "{group}"
        );
        let growth = group["Growth"].as_u64().unwrap();
        assert!(growth >= 5, "to {to:?}: {group}");
        let new_ids = group["NewIDs"].as_array().unwrap();
        assert_eq!(new_ids.len() as u64, growth, "{group}");
        assert!(
            new_ids
                .iter()
                .all(|id| !first_ids.contains(&id.as_i64().unwrap())),
            "{group}"
        );
        let stack: Vec<&str> = group["Stack"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|f| f["function"]["name"].as_str())
            .collect();
        assert!(stack.contains(&"main.growWorker"), "to {to:?}: {stack:?}");
    }
    assert!(first["Goroutines"].as_u64().unwrap() > 8, "{first}");
    let reply = client
        .request(&serde_json::json!({"method": "Ferret.GoroutineDiff", "params": [{"From": "nope"}], "id": 2}))
        .expect("reply");
    assert_eq!(
        reply["error"],
        "no goroutine snapshot named \"nope\"; take one with Ferret.GoroutineSnapshot",
        "{reply}"
    );
    assert_running(&mut client);
    detach(&server.addr);
}

/// Stacks through the runtime's special frames read the same in
/// `dlv connect` against ferret as against dlv, on a `GOTRACEBACK=crash`
/// core of the `crash` fixture (a nil-map write: gopanic, fatalpanic, then
/// the abort, interrupted by the signal on the gsignal stack). One known
/// difference, where ferret is right: below the signal, dlv skips
/// `runtime.dieFromSignal`, the caller of `runtime.raise` (its return
/// address is what the stack holds; `go tool objdump` shows the call), so
/// the crashing goroutine's frames are compared by name with that frame
/// taken out, and everything else line by line.
#[test]
fn stacks_on_a_crash_core_read_the_same_against_ferret_and_dlv() {
    let script = ["goroutines -t 40", "bt 40", "threads", "exit"];
    for toolchain in GoToolchain::selected().into_iter().filter(Delve::supports) {
        let exe = build_fixture("crash", &toolchain, &BuildOptions::debug());
        let dir = target_dir().join(format!(
            "goroutines-tests/crash-{}-{}",
            toolchain.version,
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let status = std::process::Command::new("sh")
            .arg("-c")
            .arg("ulimit -c unlimited; exec \"$0\"")
            .arg(&exe)
            .current_dir(&dir)
            .env("GOTRACEBACK", "crash")
            .output()
            .expect("run crash");
        assert!(!status.status.success());
        let core = std::fs::read_dir(&dir)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .find(|p| {
                p.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with("core"))
            })
            .expect("a core");
        let dlv = dlv_goroutines_transcript(&exe, &core, &script);
        let mut server = FerretServer::core(&exe, &core);
        let ferret = goroutines_transcript(&server.addr, &script);
        server.stop();
        let dlv_text = normalize_same_core(&dlv.render(), &toolchain);
        let ferret_text = normalize_same_core(&ferret.render(), &toolchain);
        let version = &toolchain.version;

        // The crashing goroutine's frames, by function name.
        let names = |text: &str| -> Vec<String> {
            block(text, "bt 40")
                .lines()
                .filter_map(|l| l.split(" in ").nth(1))
                .map(str::to_owned)
                .collect()
        };
        let mut ferret_names = names(&ferret_text);
        // The interrupted raise: the last one (the handler may raise again).
        let raise = ferret_names
            .iter()
            .rposition(|n| n == "runtime.raise")
            .expect("raise in ferret's bt");
        assert_eq!(
            ferret_names.get(raise + 1).map(String::as_str),
            Some("runtime.dieFromSignal"),
            "{ferret_text}"
        );
        ferret_names.remove(raise + 1);
        assert_eq!(
            ferret_names,
            names(&dlv_text),
            "{version}: crashing goroutine's frames"
        );

        // Everything else, line by line: the listings without stacks of the
        // crashing goroutine.
        let without_crashing = |text: &str| -> String {
            let mut out = Vec::new();
            let mut skipping = false;
            for line in text.lines() {
                if line.starts_with("(dlv) ") {
                    skipping = line == "(dlv) bt 40";
                } else if line.starts_with("* Goroutine ") {
                    skipping = true;
                } else if line.starts_with("  Goroutine ") {
                    skipping = false;
                }
                if !skipping || line.starts_with("* Goroutine ") || line.starts_with("(dlv) ") {
                    out.push(line);
                }
            }
            out.join("\n")
        };
        let (d, f) = (without_crashing(&dlv_text), without_crashing(&ferret_text));
        let differing: Vec<String> = d
            .lines()
            .zip(f.lines())
            .filter(|(a, b)| a != b)
            .map(|(a, b)| format!("  dlv:    {a}\n  ferret: {b}"))
            .collect();
        assert!(
            differing.is_empty() && d.lines().count() == f.lines().count(),
            "{version}: {} differing lines:\n{}\n\nferret:\n{f}",
            differing.len(),
            differing.join("\n")
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}

/// `Ancestors` answers what dlv answers on the same core: with
/// `GODEBUG=tracebackancestors=5` each worker's creator (goroutine 1, with
/// its stack at the `go` statement), and without it Delve's error.
#[test]
fn ancestors_read_the_same_against_ferret_and_dlv() {
    for toolchain in GoToolchain::selected().into_iter().filter(Delve::supports) {
        let version = &toolchain.version;
        let exe = build_fixture("leak", &toolchain, &BuildOptions::debug());
        let dir = target_dir().join(format!(
            "goroutines-tests/ancestors-{version}-{}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        let (core, _) = ferret_testkit::leak::leak_core_with_env(
            &exe,
            1,
            &dir,
            &[("GODEBUG", "tracebackancestors=5")],
        );

        let mut both = BothOnCore::start(&exe, &core);
        let workers: Vec<i64> = both
            .goroutines()
            .iter()
            .filter(|g| {
                g["startLoc"]["function"]["name"]
                    .as_str()
                    .is_some_and(|n| n.starts_with("main."))
            })
            .map(|g| g["id"].as_i64().unwrap())
            .collect();
        assert!(workers.len() >= 8, "{version}: {workers:?}");
        let BothOnCore { dlv, ferret, .. } = &mut both;
        for id in workers.iter().take(4).chain([-1].iter()) {
            let params = serde_json::json!({"GoroutineID": id, "NumAncestors": 5, "Depth": 10});
            let theirs = dlv.call("Ancestors", params.clone());
            let ours = ferret.call("Ancestors", params);
            assert_eq!(ours, theirs, "{version}: Ancestors of goroutine {id}");
            if *id != -1 {
                let ours = ours.unwrap();
                assert_eq!(ours["Ancestors"][0]["ID"], 1, "{version}: {ours}");
            }
        }
        let missing = serde_json::json!({"GoroutineID": 99999, "NumAncestors": 5, "Depth": 10});
        assert_eq!(
            ferret.call("Ancestors", missing.clone()),
            dlv.call("Ancestors", missing),
            "{version}"
        );
        drop(both);

        // Without GODEBUG: Delve's error.
        let (plain_core, _) = leak_core(&exe, 1, &dir.join("plain"));
        let server = FerretServer::core(&exe, &plain_core);
        let mut ferret = RpcClient::connect(&server.addr).unwrap();
        let reply = ferret.call(
            "Ancestors",
            serde_json::json!({"GoroutineID": 1, "NumAncestors": 5, "Depth": 10}),
        );
        assert_eq!(
            reply,
            Err("tracebackancestors is disabled".to_owned()),
            "{version}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}

/// `Stacktrace` with deferred calls (`Defers`, or `Opts` bit 1) answers
/// what dlv answers on the same core: the leak fixture's wait-group workers
/// park with two calls deferred (a function with an argument and a
/// closure) and its cond workers with a method value; each frame lists the
/// calls it deferred. Skip is compared too, and the scopes of those
/// deferred calls (`DeferredCall`): their variables, an `Eval` in them and
/// the error for one past the last.
#[test]
fn stacktrace_defers_read_the_same_against_ferret_and_dlv() {
    for toolchain in GoToolchain::selected().into_iter().filter(Delve::supports) {
        let version = &toolchain.version;
        let exe = build_fixture("leak", &toolchain, &BuildOptions::debug());
        let dir = target_dir().join(format!(
            "goroutines-tests/defers-{version}-{}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        let (core, _) = leak_core(&exe, 2, &dir);

        let mut both = BothOnCore::start(&exe, &core);
        let ids: Vec<i64> = both
            .goroutines()
            .iter()
            .map(|g| g["id"].as_i64().unwrap())
            .collect();
        let BothOnCore { dlv, ferret, .. } = &mut both;
        // Delve builds a deferred call's scope on the current thread's
        // goroutine: select a thread running one (the main goroutine, in
        // a system call), when there is one, so the scopes are made.
        let threads = ferret.call("ListThreads", serde_json::json!({})).unwrap();
        let with_g = threads["Threads"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["goroutineID"].as_i64().unwrap_or(0) != 0)
            .map(|t| t["id"].clone());
        eprintln!("{version}: thread running a goroutine: {with_g:?}");
        if let Some(tid) = &with_g {
            for client in [&mut *dlv, &mut *ferret] {
                client
                    .call(
                        "Command",
                        serde_json::json!({"name": "switchThread", "threadID": tid}),
                    )
                    .unwrap();
            }
        }
        let mut frames_with_defers = 0;
        for id in &ids {
            for params in [
                serde_json::json!({"Id": id, "Depth": 20, "Opts": 1}),
                serde_json::json!({"Id": id, "Depth": 20, "Defers": true, "Skip": 2}),
            ] {
                let theirs = dlv.call("Stacktrace", params.clone());
                let ours = ferret.call("Stacktrace", params.clone());
                assert_eq!(ours, theirs, "{version}: Stacktrace {params}");
                if let Ok(ours) = ours {
                    frames_with_defers += ours["Locations"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .filter(|f| !f["Defers"].as_array().unwrap().is_empty())
                        .count();
                }
            }
            // Scopes of deferred calls (and one past the last), as dlv
            // makes them.
            let stack = ferret
                .call(
                    "Stacktrace",
                    serde_json::json!({"Id": id, "Depth": 20, "Defers": true}),
                )
                .unwrap();
            for (frame, location) in stack["Locations"].as_array().unwrap().iter().enumerate() {
                let defers = location["Defers"].as_array().unwrap().len();
                if defers == 0 {
                    continue;
                }
                for call in 1..=defers + 1 {
                    let scope = serde_json::json!({"GoroutineID": id, "Frame": frame, "DeferredCall": call});
                    for (method, params) in [
                        (
                            "ListLocalVars",
                            serde_json::json!({"Scope": scope, "Cfg": full_config()}),
                        ),
                        (
                            "ListFunctionArgs",
                            serde_json::json!({"Scope": scope, "Cfg": full_config()}),
                        ),
                        ("Eval", serde_json::json!({"Scope": scope, "Expr": "1 + 2"})),
                    ] {
                        let theirs = dlv.call(method, params.clone());
                        let ours = ferret.call(method, params.clone());
                        assert_eq!(ours, theirs, "{version}: {method} {params}");
                    }
                }
            }
        }
        // Two wait-group workers and two cond workers, each asked twice.
        assert!(frames_with_defers >= 8, "{version}: {frames_with_defers}");
        drop(both);
        let _ = std::fs::remove_dir_all(&dir);
    }
}

/// Delve's `LoadFullValue`.
fn full_config() -> serde_json::Value {
    serde_json::json!({"FollowPointers": true, "MaxVariableRecurse": 1, "MaxStringLen": 64, "MaxArrayValues": 64, "MaxStructFields": -1})
}

/// Requests sent all at once are answered in order, each as it is when
/// asked alone: `Stacktrace` and `ListGoroutines` (pipelined at the tracer
/// thread) mixed with inline methods and errors, on a live target.
#[test]
fn pipelined_requests_are_answered_in_order() {
    let toolchain = GoToolchain::selected().remove(0);
    let exe = build_fixture("leak", &toolchain, &BuildOptions::debug());
    let leak = start_leak(&exe, 2);
    let mut server = FerretServer::attach(leak.pid);
    let mut client = RpcClient::connect(&server.addr).unwrap();
    let listing = client
        .call("ListGoroutines", serde_json::json!({}))
        .unwrap();
    let ids: Vec<i64> = listing["Goroutines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["id"].as_i64().unwrap())
        .collect();
    let mut requests = Vec::new();
    for (i, id) in ids.iter().enumerate() {
        requests.push(("Stacktrace", serde_json::json!({"Id": id, "Depth": 5})));
        match i % 4 {
            0 => requests.push(("GetVersion", serde_json::json!({}))),
            1 => requests.push((
                "ListGoroutines",
                serde_json::json!({"Start": i, "Count": 2}),
            )),
            2 => requests.push(("Stacktrace", serde_json::json!({"Id": 999_999, "Depth": 5}))),
            _ => requests.push(("ListThreads", serde_json::json!({}))),
        }
    }
    let alone: Vec<Result<serde_json::Value, String>> = requests
        .iter()
        .map(|(method, params)| client.call(method, params.clone()))
        .collect();
    let mut batch = String::new();
    for (i, (method, params)) in requests.iter().enumerate() {
        let request = serde_json::json!({"method": format!("RPCServer.{method}"), "params": [params], "id": 1000 + i});
        batch.push_str(&format!("{request}\n"));
    }
    client.send_raw(batch.as_bytes()).unwrap();
    for (i, expected) in alone.iter().enumerate() {
        let reply = client.receive().expect("a reply");
        assert_eq!(reply["id"], 1000 + i, "reply {i} out of order: {reply}");
        let got = match &reply["error"] {
            serde_json::Value::String(message) => Err(message.clone()),
            _ => Ok(reply["result"].clone()),
        };
        assert_eq!(&got, expected, "reply {i} to {:?}", requests[i]);
    }
    detach(&server.addr);
    server.stop();
}

/// Paging through a fresh core's goroutines (each page read on its own,
/// before anything reads the whole list) gives dlv's pages, `Nextg`
/// included, and the same pages as after a whole listing.
#[test]
fn first_pages_of_a_fresh_core_read_the_same_as_dlv() {
    for toolchain in GoToolchain::selected().into_iter().filter(Delve::supports) {
        let version = &toolchain.version;
        let exe = build_fixture("leak", &toolchain, &BuildOptions::debug());
        let dir = target_dir().join(format!(
            "goroutines-tests/pages-{version}-{}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        let (core, _) = leak_core(&exe, 3, &dir);
        let pages = |client: &mut RpcClient| {
            let mut pages = Vec::new();
            let mut next = 0;
            while next >= 0 {
                let page = client
                    .call(
                        "ListGoroutines",
                        serde_json::json!({"Start": next, "Count": 7}),
                    )
                    .unwrap();
                next = page["Nextg"].as_i64().unwrap();
                pages.push(page);
            }
            pages
        };
        let mut both = BothOnCore::start(&exe, &core);
        let fresh = pages(&mut both.ferret);
        assert_eq!(fresh, pages(&mut both.dlv), "{version}: pages");
        assert!(fresh.len() > 3, "{version}: {} pages", fresh.len());
        both.goroutines();
        assert_eq!(
            pages(&mut both.ferret),
            fresh,
            "{version}: after a whole listing"
        );
        drop(both);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
