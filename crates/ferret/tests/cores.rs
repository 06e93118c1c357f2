//! Core dumps end to end at the server: `DumpStart`/`DumpWait`/
//! `DumpCancel` as Delve answers them, and the cores ferret writes opened
//! by ferret, dlv and gdb, which must count the same threads and
//! goroutines as the live process had.

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use ferret_testkit::delve::Delve;
use ferret_testkit::fixture::{build_fixture, BuildOptions};
use ferret_testkit::rpc::RpcClient;
use ferret_testkit::servers::{BothOnCore, FerretServer};
use ferret_testkit::target_dir;
use ferret_testkit::toolchain::GoToolchain;
use serde_json::{json, Value};

/// A scratch directory for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = target_dir()
        .join("cores-tests")
        .join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The crash fixture started with `sleep`, once it sleeps.
fn sleeping_crash_fixture(exe: &Path) -> Child {
    let mut child = Command::new(exe)
        .arg("sleep")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let sleeping = std::io::BufReader::new(stdout)
        .lines()
        .any(|l| l.is_ok_and(|l| l == "sleeping"));
    assert!(sleeping, "the crash fixture did not get to sleep");
    ferret_testkit::cores::wait_until_asleep(child.id());
    child
}

/// `DumpWait` with a one-second wait until the dump ends; its last state.
fn wait_for_dump(client: &mut RpcClient) -> Value {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let state = client.call("DumpWait", json!({"Wait": 1000})).unwrap()["State"].take();
        if !state["Dumping"].as_bool().unwrap() {
            return state;
        }
        assert!(Instant::now() < deadline, "the dump did not end: {state}");
    }
}

/// Goroutines and threads a server lists.
fn counts(client: &mut RpcClient) -> (usize, usize) {
    let goroutines = client.call("ListGoroutines", json!({})).unwrap()["Goroutines"]
        .as_array()
        .unwrap()
        .len();
    let threads = client.call("ListThreads", json!({})).unwrap()["Threads"]
        .as_array()
        .unwrap()
        .len();
    (goroutines, threads)
}

/// The threads gdb lists in `core` of `exe`.
fn gdb_threads(exe: &Path, core: &Path) -> usize {
    let out = Command::new("gdb")
        .args(["-batch", "-nx", "-ex", "info threads"])
        .arg(exe)
        .arg(core)
        .output()
        .expect("run gdb");
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .filter(|l| {
            let l = l.trim_start_matches('*').trim_start();
            l.split_whitespace()
                .next()
                .is_some_and(|n| n.parse::<u32>().is_ok())
                && (l.contains("Thread") || l.contains("LWP"))
        })
        .count()
}

/// `DumpStart` on a live process (attached, stopped): `DumpWait` reports
/// progress to `AllDone`; the core ferret wrote opens in ferret, dlv and
/// gdb with as many threads and goroutines as the live process had. Bad
/// destinations and a second dump get Delve's errors.
#[test]
fn a_dump_of_a_live_process_opens_in_ferret_dlv_and_gdb() {
    for toolchain in GoToolchain::selected().into_iter().filter(Delve::supports) {
        let version = &toolchain.version;
        let exe = build_fixture("crash", &toolchain, &BuildOptions::debug());
        let dir = scratch(&format!("dump-{version}"));
        let mut fixture = sleeping_crash_fixture(&exe);
        let server = FerretServer::attach(fixture.id());
        let mut client = RpcClient::connect(&server.addr).unwrap();
        let live = counts(&mut client);

        let bad = dir.join("missing/x.core");
        assert_eq!(
            client.call("DumpStart", json!({"Destination": bad})),
            Err(format!("open {}: no such file or directory", bad.display()))
        );
        let idle = client.call("DumpWait", json!({"Wait": 0})).unwrap();
        assert_eq!(
            idle,
            json!({"State": {"Dumping": false, "AllDone": false, "ThreadsDone": 0, "ThreadsTotal": 0, "MemDone": 0, "MemTotal": 0, "Err": ""}})
        );

        let core = dir.join("ferret.core");
        let started = client
            .call("DumpStart", json!({"Destination": core}))
            .unwrap();
        assert_eq!(started["State"]["Err"], "", "{started}");
        let done = wait_for_dump(&mut client);
        assert_eq!(done["AllDone"], true, "{done}");
        assert_eq!(done["Err"], "");
        assert_eq!(done["ThreadsDone"], live.1 as u64);
        assert_eq!(done["ThreadsTotal"], live.1 as u64);
        assert_eq!(done["MemDone"], done["MemTotal"]);
        assert!(done["MemTotal"].as_u64().unwrap() > 1 << 20, "{done}");
        // The process is still there, stopped, and keeps its state.
        assert_eq!(counts(&mut client), live, "{version}: live after the dump");
        // The terminal's `dump` command drives the same methods.
        let by_terminal = dir.join("terminal.core");
        let command = format!("dump {}", by_terminal.display());
        let transcript = ferret_testkit::terminal::run_dlv_connect(
            &server.addr,
            &[&command],
            Duration::from_secs(60),
        );
        let output = transcript.output_of(&command).unwrap_or_default();
        assert!(output.contains("Dumping memory"), "{version}: {output}");
        assert!(!output.contains("rror"), "{version}: {output}");
        let mut in_terminal_core = BothOnCore::start(&exe, &by_terminal);
        assert_eq!(
            counts(&mut in_terminal_core.ferret),
            live,
            "{version}: terminal's dump"
        );
        drop(in_terminal_core);
        let _ = client.call("Detach", json!({"Kill": false}));
        drop(server);
        let _ = fixture.kill();
        let _ = fixture.wait();

        let mut both = BothOnCore::start(&exe, &core);
        let in_ferret = counts(&mut both.ferret);
        let in_dlv = counts(&mut both.dlv);
        assert_eq!(in_ferret, live, "{version}: ferret on the dump vs live");
        assert_eq!(in_dlv, live, "{version}: dlv on the dump vs live");
        // A core has no command line (its pid may be another process's
        // now) and no breakpoints, not even the internal ones.
        let state = |client: &mut RpcClient| {
            client.call("State", json!({})).unwrap()["State"]["TargetCommandLine"].take()
        };
        assert_eq!(state(&mut both.ferret), state(&mut both.dlv), "{version}");
        let all = json!({"All": true});
        assert_eq!(
            both.ferret.call("ListBreakpoints", all.clone()),
            both.dlv.call("ListBreakpoints", all),
            "{version}: breakpoints of a core"
        );
        // A core cannot be dumped again, in Delve's words.
        let refused = both
            .ferret
            .call("DumpStart", json!({"Destination": dir.join("again.core")}));
        assert_eq!(
            refused,
            both.dlv
                .call("DumpStart", json!({"Destination": dir.join("again.core")}))
        );
        drop(both);
        assert_eq!(gdb_threads(&exe, &core), live.1, "{version}: gdb threads");
        let _ = std::fs::remove_dir_all(&dir);
    }
}

/// `DumpCancel` stops a dump: on a process holding 400 MiB of heap (the
/// busy fixture stopped in `ready`), a dump canceled at once ends not
/// done, without an error, and leaves no file; the server goes on.
#[test]
fn a_canceled_dump_leaves_no_file() {
    let toolchain = &GoToolchain::selected()[0];
    let exe = build_fixture("busy", toolchain, &BuildOptions::debug());
    let dir = scratch("cancel");
    let server = FerretServer::exec(&exe, &["hold", "400"]);
    let mut client = RpcClient::connect(&server.addr).unwrap();
    client
        .call(
            "CreateBreakpoint",
            json!({"Breakpoint": {"functionName": "main.ready"}}),
        )
        .unwrap();
    client.call("Command", json!({"name": "continue"})).unwrap();
    let core = dir.join("canceled.core");
    client
        .call("DumpStart", json!({"Destination": core}))
        .unwrap();
    assert_eq!(client.call("DumpCancel", json!({})).unwrap(), json!({}));
    let end = wait_for_dump(&mut client);
    assert_eq!(end["Err"], "", "{end}");
    assert_eq!(end["AllDone"], false, "{end}");
    assert!(
        end["MemDone"].as_u64() < end["MemTotal"].as_u64(),
        "stopped part-way: {end}"
    );
    assert!(!core.exists(), "a canceled dump left {}", core.display());
    // The server goes on serving the process, and can dump it after all.
    assert!(counts(&mut client).0 > 0);
    client
        .call("DumpStart", json!({"Destination": core}))
        .unwrap();
    assert_eq!(wait_for_dump(&mut client)["AllDone"], true);
    assert!(std::fs::metadata(&core).unwrap().len() > 400 << 20);
    let _ = client.call("Detach", json!({"Kill": true}));
    let _ = std::fs::remove_dir_all(&dir);
}

/// `ferret core` with an executable that did not write the core refuses
/// it, naming both and the way past; `--allow-mismatch` opens it.
#[test]
fn a_core_of_another_executable_is_refused_unless_allowed() {
    let toolchain = &GoToolchain::selected()[0];
    let crash = build_fixture("crash", toolchain, &BuildOptions::debug());
    let hello = build_fixture("hello", toolchain, &BuildOptions::debug());
    let dir = scratch("mismatch");
    let (core, ()) =
        ferret_testkit::cores::core_when_ready(&crash, &["sleep"], &[], &dir, |stdout| {
            std::io::BufReader::new(stdout)
                .lines()
                .any(|l| l.is_ok_and(|l| l == "sleeping"))
                .then_some(())
        });
    let refused = Command::new(ferret_testkit::ferret_binary())
        .arg("core")
        .arg(&hello)
        .arg(&core)
        .args(["--headless", "--listen=127.0.0.1:0"])
        .output()
        .unwrap();
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    for needle in [
        crash.display().to_string(),
        hello.display().to_string(),
        "--allow-mismatch".to_owned(),
    ] {
        assert!(stderr.contains(&needle), "{needle} not in: {stderr}");
    }
    let server = FerretServer::start(&[
        std::ffi::OsStr::new("core"),
        hello.as_os_str(),
        core.as_os_str(),
        std::ffi::OsStr::new("--allow-mismatch"),
    ]);
    let mut client = RpcClient::connect(&server.addr).unwrap();
    let (_, threads) = counts(&mut client);
    assert!(threads > 1, "the core's threads are served");
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}

/// The core the kernel wrote in `dir` (`core` or `core.PID`).
fn core_in(dir: &Path) -> Option<PathBuf> {
    std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n == "core" || n.starts_with("core."))
        })
}

/// What `ferret crash EXE CORE` prints (it must succeed).
fn crash_text(exe: &Path, core: &Path) -> String {
    let out = Command::new(ferret_testkit::ferret_binary())
        .arg("crash")
        .arg(exe)
        .arg(core)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "ferret crash: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `Ferret.CrashReport`'s result.
fn crash_report(client: &mut RpcClient) -> Value {
    let mut reply = client
        .request(&json!({"method": "Ferret.CrashReport", "params": [{}], "id": 1}))
        .unwrap();
    reply["result"].take()
}

/// Runs `panics HOW` in `dir` with `GOTRACEBACK=crash` and core dumps
/// on; returns the kernel's core and what the runtime printed on stderr.
fn crash_core(exe: &Path, how: &str, dir: &Path) -> (PathBuf, String) {
    let out = Command::new("bash")
        .arg("-c")
        .arg(r#"ulimit -c unlimited; exec "$0" "$@""#)
        .arg(exe)
        .arg(how)
        .current_dir(dir)
        .env("GOTRACEBACK", "crash")
        .output()
        .unwrap();
    assert!(!out.status.success(), "panics {how} did not crash");
    let core =
        core_in(dir).unwrap_or_else(|| panic!("panics {how} left no core in {}", dir.display()));
    (core, String::from_utf8_lossy(&out.stderr).into_owned())
}

/// Crash reports of kernel cores against what the crashing program
/// printed itself: for each way the `panics` fixture dies, the panic (or
/// fatal error) message `Ferret.CrashReport` and `ferret crash` give is
/// the runtime's first line on stderr (for the program's own error type
/// too: before printing, the runtime replaced the value with its `Error`
/// text, which the core keeps); the crashed goroutine's frames start
/// outside the runtime and pass through `main.crash`; a nil dereference
/// carries SIGSEGV at address 0; the three goroutines the program parked
/// are counted under "chan receive".
#[test]
fn crash_reports_say_what_the_program_printed() {
    for toolchain in GoToolchain::selected() {
        let version = &toolchain.version;
        let exe = build_fixture("panics", &toolchain, &BuildOptions::debug());
        for how in [
            "nilmap", "string", "int", "errors", "wrapped", "index", "nil", "custom", "fatal",
        ] {
            let dir = scratch(&format!("crash-{version}-{how}"));
            let (core, stderr) = crash_core(&exe, how, &dir);
            let printed = stderr.lines().next().unwrap_or_default();
            let server = FerretServer::core(&exe, &core);
            let mut client = RpcClient::connect(&server.addr).unwrap();
            let report = &crash_report(&mut client);
            let context = format!("{version} {how}: {report}");
            assert_eq!(report["Signal"]["Name"], "SIGABRT", "{context}");
            let said = match report["Panics"].as_array().unwrap().last() {
                Some(p) => format!("panic: {}", p["Message"].as_str().unwrap()),
                None => format!(
                    "fatal error: {}",
                    report["FatalError"].as_str().unwrap_or("?")
                ),
            };
            assert_eq!(said, printed, "{context}");
            // From the first frame outside the runtime, through main.crash.
            let frames = report["Frames"].as_array().unwrap();
            let file = frames[0]["file"].as_str().unwrap();
            assert!(!file.contains("/src/runtime/"), "{context}");
            assert!(
                frames.iter().any(|f| f["function"]["name"] == "main.crash"),
                "{context}"
            );
            if how == "nil" {
                assert_eq!(report["GoSignal"]["Name"], "SIGSEGV", "{context}");
                assert_eq!(report["GoSignal"]["Address"], 0, "{context}");
            } else {
                assert!(report["GoSignal"].is_null(), "{context}");
            }
            let chan_receive = report["WaitReasons"]["Groups"]
                .as_array()
                .unwrap()
                .iter()
                .find(|g| g["Key"] == json!(["chan receive"]))
                .map(|g| g["Count"].as_u64().unwrap());
            assert_eq!(chan_receive, Some(3), "{context}");
            drop(server);
            // The CLI prints the same report as text.
            let text = crash_text(&exe, &core);
            assert!(text.contains(&said), "{how}: {said:?} not in:\n{text}");
            assert!(text.contains("main.crash()"), "{text}");
            let _ = std::fs::remove_dir_all(&dir);
        }
    }
}

/// The core of a program that is not Go (a C program that aborts with
/// three threads): `ferret core` says so and still serves its threads,
/// registers and the crash report's signal; `ferret crash` prints it.
#[test]
fn a_core_of_a_c_program_is_served_without_goroutines() {
    let exe = ferret_testkit::fixture::build_c_program("abort");
    let dir = scratch("c-abort");
    let status = Command::new("bash")
        .arg("-c")
        .arg(r#"ulimit -c unlimited; exec "$0""#)
        .arg(&exe)
        .current_dir(&dir)
        .status()
        .unwrap();
    assert!(!status.success());
    let core = core_in(&dir).expect("a core");
    let mut child = Command::new(ferret_testkit::ferret_binary())
        .arg("core")
        .arg(&exe)
        .arg(&core)
        .args(["--headless", "--listen=127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let listening = lines.next().unwrap().unwrap();
    let addr = listening.rsplit(' ').next().unwrap().to_owned();
    let mut client = RpcClient::connect(&addr).unwrap();
    let (goroutines, threads) = counts(&mut client);
    assert_eq!((goroutines, threads), (0, 3));
    let registers = client
        .call("ListRegisters", json!({"ThreadID": 0, "IncludeFp": false}))
        .unwrap();
    assert!(registers["Registers"].as_str().unwrap().contains("Rip"));
    let report = crash_report(&mut client);
    assert_eq!(report["Signal"]["Name"], "SIGABRT", "{report}");
    let _ = child.kill();
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("is not a Go program"), "{stderr}");
    assert!(crash_text(&exe, &core).contains("fatal signal SIGABRT"));
    let _ = std::fs::remove_dir_all(&dir);
}

/// Each goroutine's id and user location (function and line), sorted.
fn goroutine_places(client: &mut RpcClient) -> Vec<(i64, String, u64)> {
    let listing = client.call("ListGoroutines", json!({})).unwrap();
    let mut places: Vec<(i64, String, u64)> = listing["Goroutines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            let loc = &g["userCurrentLoc"];
            (
                g["id"].as_i64().unwrap(),
                loc["function"]["name"].as_str().unwrap_or("").to_owned(),
                loc["line"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    places.sort();
    places
}

/// One sleeping process, three cores of it: ferret's own dump
/// (`DumpStart`), gdb's `gcore`, and the kernel's (SIGQUIT with
/// `GOTRACEBACK=crash`). Each, opened with `ferret core`, lists the
/// goroutines the live process had, each at the same user location, and
/// its threads; where dlv reads the Go version, dlv lists the same.
#[test]
fn kernel_gcore_and_ferret_cores_show_the_live_goroutines() {
    for toolchain in GoToolchain::selected() {
        let version = &toolchain.version;
        let exe = build_fixture("crash", &toolchain, &BuildOptions::debug());
        let dir = scratch(&format!("three-cores-{version}"));
        let mut fixture = Command::new("bash")
            .arg("-c")
            .arg(r#"ulimit -c unlimited; exec "$0" sleep"#)
            .arg(&exe)
            .current_dir(&dir)
            .env("GOTRACEBACK", "crash")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let sleeping = std::io::BufReader::new(fixture.stdout.take().unwrap())
            .lines()
            .any(|l| l.is_ok_and(|l| l == "sleeping"));
        assert!(sleeping, "{version}: the fixture did not get to sleep");
        let pid = fixture.id();
        ferret_testkit::cores::wait_until_asleep(pid);

        // ferret's dump, and the live view to compare with.
        let server = FerretServer::attach(pid);
        let mut client = RpcClient::connect(&server.addr).unwrap();
        let live = goroutine_places(&mut client);
        let live_threads = counts(&mut client).1;
        let dumped = dir.join("ferret.core");
        client
            .call("DumpStart", json!({"Destination": dumped}))
            .unwrap();
        assert_eq!(wait_for_dump(&mut client)["AllDone"], true);
        let _ = client.call("Detach", json!({"Kill": false}));
        drop(server);

        // gdb's.
        let gcore = Command::new("gcore")
            .arg("-o")
            .arg(dir.join("gcore"))
            .arg(pid.to_string())
            .output()
            .unwrap();
        assert!(
            gcore.status.success(),
            "gcore: {}",
            String::from_utf8_lossy(&gcore.stderr)
        );
        let gcored = dir.join(format!("gcore.{pid}"));

        // The kernel's.
        ferret_testkit::cores::wait_until_asleep(pid);
        Command::new("kill")
            .args(["-QUIT", &pid.to_string()])
            .status()
            .unwrap();
        let _ = fixture.wait();
        let kernel = core_in(&dir).expect("a kernel core");

        for (name, core) in [("ferret", &dumped), ("gcore", &gcored), ("kernel", &kernel)] {
            let server = FerretServer::core(&exe, core);
            let mut ferret = RpcClient::connect(&server.addr).unwrap();
            assert_eq!(
                goroutine_places(&mut ferret),
                live,
                "{version} {name}: goroutines"
            );
            assert_eq!(
                counts(&mut ferret).1,
                live_threads,
                "{version} {name}: threads"
            );
            drop(server);
            if Delve::supports(&toolchain) {
                let mut both = BothOnCore::start(&exe, core);
                assert_eq!(
                    goroutine_places(&mut both.dlv),
                    live,
                    "{version} {name}: dlv's goroutines"
                );
            }
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}

/// On a kernel core of the crash fixture (after its nil-map panic), the
/// read-only methods a client uses answer as dlv's do (locations,
/// disassembly, memory, registers, functions and types, goroutine
/// groups), and everything that would run or change the target is
/// refused with dlv's words.
#[test]
fn a_core_answers_read_only_methods_and_refuses_the_rest_as_dlv() {
    for toolchain in GoToolchain::selected().into_iter().filter(Delve::supports) {
        let version = &toolchain.version;
        let exe = build_fixture("crash", &toolchain, &BuildOptions::debug());
        let dir = scratch(&format!("methods-{version}"));
        let run = Command::new("bash")
            .arg("-c")
            .arg(r#"ulimit -c unlimited; exec "$0""#)
            .arg(&exe)
            .current_dir(&dir)
            .env("GOTRACEBACK", "crash")
            .output()
            .unwrap();
        assert!(!run.status.success());
        let stdout = String::from_utf8_lossy(&run.stdout);
        let marker = stdout
            .lines()
            .find_map(|l| l.strip_prefix("marker=0xfeedfacecafebeef at "))
            .map(|a| u64::from_str_radix(a.trim_start_matches("0x"), 16).unwrap())
            .expect("the fixture printed where its marker is");
        let core = core_in(&dir).expect("a kernel core");
        let mut both = BothOnCore::start(&exe, &core);
        let main_go = ferret_testkit::fixture::fixture_dir("crash").join("main.go");
        let location = format!("{}:55", main_go.display());
        let calls = [
            (
                "FindLocation",
                json!({"Scope": {"GoroutineID": -1}, "Loc": "main.main", "IncludeNonExecutableLines": false}),
            ),
            (
                "FindLocation",
                json!({"Scope": {"GoroutineID": -1}, "Loc": location}),
            ),
            (
                "Disassemble",
                json!({"Scope": {"GoroutineID": -1}, "StartPC": 0, "EndPC": 0, "Flavour": 1}),
            ),
            ("ExamineMemory", json!({"Address": marker, "Length": 16})),
            ("ListRegisters", json!({"ThreadID": 0, "IncludeFp": false})),
            (
                "ListGoroutines",
                json!({"GroupBy": 1, "MaxGroupMembers": 2}),
            ),
            ("ListFunctions", json!({"Filter": "^main\\."})),
            ("ListTypes", json!({"Filter": "^main\\."})),
            (
                "Eval",
                json!({"Scope": {"GoroutineID": -1}, "Expr": "main.marker"}),
            ),
            ("Command", json!({"name": "continue"})),
            ("Command", json!({"name": "next"})),
            ("Command", json!({"name": "step"})),
            ("Command", json!({"name": "stepOut"})),
            ("Command", json!({"name": "stepInstruction"})),
            ("Restart", json!({})),
            (
                "CreateBreakpoint",
                json!({"Breakpoint": {"functionName": "main.main"}}),
            ),
            (
                "Set",
                json!({"Scope": {"GoroutineID": -1}, "Symbol": "main.marker", "Value": "1"}),
            ),
        ];
        for (method, params) in calls {
            let theirs = both.dlv.call(method, params.clone());
            let ours = both.ferret.call(method, params.clone());
            assert_eq!(ours, theirs, "{version}: {method} {params}");
        }
        drop(both);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
