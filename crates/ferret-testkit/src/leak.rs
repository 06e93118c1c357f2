//! The `leak` fixture (`tests/fixtures/leak`): goroutines parked in the
//! common wait states, as a live process or a kernel core, with the
//! fixture's own account of them and dlv's `goroutines` command as oracles.
//!
//! `leak N` starts N goroutines from each function of [`WORKERS`], prints
//! `ready` once all are parked, then one JSON line ([`LeakReport`]) read
//! from `runtime.Stack`'s dump of all goroutines.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::Duration;

use serde_json::Value;

use crate::cores::wait_until_asleep;
use crate::fixture::fixture_dir;
use crate::terminal::{normalize_paths, run_dlv_connect, start_dlv_core, wait_or_kill, Transcript};
use crate::toolchain::GoToolchain;

/// The functions the fixture starts its goroutines with, one per kind.
pub const WORKERS: &[&str] = &[
    "main.recvWorker",
    "main.sendWorker",
    "main.selectWorker",
    "main.mutexWorker",
    "main.waitGroupWorker",
    "main.sleepWorker",
    "main.pipeWorker",
    "main.condWorker",
];

/// The wait reason the runtime gives each worker's goroutines (in the
/// order of [`WORKERS`]) in binaries built by `toolchain`: before Go 1.24 a
/// WaitGroup wait is plain `semacquire`.
pub fn wait_reasons(toolchain: &GoToolchain) -> [&'static str; 8] {
    let wait_group = if toolchain.minor() >= (1, 24) {
        "sync.WaitGroup.Wait"
    } else {
        "semacquire"
    };
    [
        "chan receive",
        "chan send",
        "select",
        "sync.Mutex.Lock",
        wait_group,
        "sleep",
        "IO wait",
        "sync.Cond.Wait",
    ]
}

/// The `goroutines` commands of dlv's terminal (v1.27.2) worth comparing
/// between servers on a `leak` core, ending with `exit` (answered `y`, so
/// the server quits). Labels: `kind` is `recv` or `send`, `worker` the index.
pub const GOROUTINES_SCRIPT: &[&str] = &[
    "goroutines",
    "goroutines -u",
    "goroutines -r",
    "goroutines -g",
    "goroutines -s",
    "goroutines -t",
    "goroutines -t 3",
    "goroutines -l",
    "goroutines -with user",
    "goroutines -without user",
    "goroutines -with running",
    "goroutines -without running",
    "goroutines -with label kind",
    "goroutines -with label kind=recv",
    "goroutines -without label kind",
    "goroutines -with startloc main.pipeWorker",
    "goroutines -with userloc main.go",
    "goroutines -without curloc runtime.gopark",
    "goroutines -with goloc main.startAll",
    "goroutines -group userloc",
    "goroutines -group curloc",
    "goroutines -group goloc",
    "goroutines -group startloc",
    "goroutines -group running",
    "goroutines -group user",
    "goroutines -group label kind",
    "goroutines -s -with user -group startloc",
    "exit",
];

/// What the fixture says about its goroutines, from `runtime.Stack`'s dump
/// (which leaves out system goroutines).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeakReport {
    /// The process id.
    pub pid: u32,
    /// Goroutines started per kind.
    pub n: usize,
    /// Goroutines in the dump: main and the workers.
    pub goroutines: usize,
    /// Goroutines other than main by wait reason, as the runtime names it in
    /// goroutine headers (`chan receive`, `IO wait`, ...), without the
    /// `, N minutes` kind of suffix.
    pub counts: BTreeMap<String, usize>,
    /// Goroutines other than main by start function: the bottom-most frame
    /// of package main in each stack (one of [`WORKERS`]).
    pub start: BTreeMap<String, usize>,
}

impl LeakReport {
    /// Parses the fixture's JSON line.
    pub fn parse(line: &str) -> LeakReport {
        let value: Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("bad leak report {line:?}: {e}"));
        let number = |key: &str| {
            value[key]
                .as_u64()
                .unwrap_or_else(|| panic!("leak report lacks {key}: {line}"))
        };
        let counts = |key: &str| -> BTreeMap<String, usize> {
            value[key]
                .as_object()
                .unwrap_or_else(|| panic!("leak report lacks {key}: {line}"))
                .iter()
                .map(|(k, v)| (k.clone(), v.as_u64().expect("a count") as usize))
                .collect()
        };
        LeakReport {
            pid: number("pid") as u32,
            n: number("n") as usize,
            goroutines: number("goroutines") as usize,
            counts: counts("counts"),
            start: counts("start"),
        }
    }
}

/// A running `leak N`, killed when dropped.
///
/// Once [`start_leak`] returns, every thread of the process sleeps, so main
/// too is parked (in `time.Sleep`), not still returning from its last write.
pub struct LeakProcess {
    child: Child,
    /// The process id.
    pub pid: u32,
    /// What it said about itself once its goroutines were parked.
    pub report: LeakReport,
}

impl Drop for LeakProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `binary N` (the leak fixture) and waits for its report.
pub fn start_leak(binary: &Path, n: usize) -> LeakProcess {
    start(binary, n, false)
}

/// [`start_leak`] with `grow`: after its report the fixture starts one more
/// goroutine every 20 ms (in `main.growWorker`), so it never sleeps.
pub fn start_growing_leak(binary: &Path, n: usize) -> LeakProcess {
    start(binary, n, true)
}

fn start(binary: &Path, n: usize, grow: bool) -> LeakProcess {
    let mut child = Command::new(binary)
        .arg(n.to_string())
        .args(grow.then_some("grow"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
    let report = read_report(child.stdout.take().expect("leak stdout"));
    let Some(report) = report else {
        let _ = child.kill();
        panic!(
            "{} {n} exited before reporting: {:?}",
            binary.display(),
            child.wait()
        );
    };
    if !grow {
        wait_until_asleep(child.id());
    }
    LeakProcess {
        pid: child.id(),
        child,
        report,
    }
}

/// Reads the fixture's stdout up to `ready` and returns the report after it;
/// `None` if the output ends first.
fn read_report(stdout: ChildStdout) -> Option<LeakReport> {
    let mut lines = BufReader::new(stdout).lines().map_while(Result::ok);
    lines.by_ref().find(|line| line == "ready")?;
    lines.next().map(|line| LeakReport::parse(&line))
}

/// Makes a kernel core of `binary N` in `dir`: runs it there with
/// `GOTRACEBACK=crash` and no core size limit, waits for its report and for
/// all its threads to sleep, then sends SIGQUIT (the runtime dumps its goroutines to `dir/leak.stderr` and
/// aborts). Returns the core's path (`core` or `core.PID`, as the kernel's
/// `core_pattern` says) and the fixture's report; panics when no core or an
/// empty one was written.
pub fn leak_core(binary: &Path, n: usize, dir: &Path) -> (PathBuf, LeakReport) {
    leak_core_with_env(binary, n, dir, &[])
}

/// [`leak_core`] with extra environment for the fixture (for example
/// `GODEBUG=tracebackancestors=5`).
pub fn leak_core_with_env(
    binary: &Path,
    n: usize,
    dir: &Path,
    env: &[(&str, &str)],
) -> (PathBuf, LeakReport) {
    crate::cores::core_when_ready(binary, &[&n.to_string()], env, dir, read_report)
}

/// Runs `commands` in the real `dlv connect` against `dlv core BINARY CORE`
/// and stops the server afterwards (it quits by itself when the script
/// ends with `exit`).
pub fn dlv_goroutines_transcript(binary: &Path, core: &Path, commands: &[&str]) -> Transcript {
    let (mut server, addr) = start_dlv_core(binary, core);
    let transcript = goroutines_transcript(&addr, commands);
    wait_or_kill(&mut server, Duration::from_secs(10));
    transcript
}

/// Runs `commands` (e.g. [`GOROUTINES_SCRIPT`]) in the real `dlv connect`
/// against the server at `addr`, whichever it is.
pub fn goroutines_transcript(addr: &str, commands: &[&str]) -> Transcript {
    run_dlv_connect(addr, commands, Duration::from_secs(60))
}

/// Makes transcripts of two servers reading the same `leak` core
/// comparable: only the fixture's directory and `toolchain`'s GOROOT are
/// replaced ([`normalize_paths`]); addresses, goroutine and thread ids are
/// the core's and stay.
pub fn normalize_same_core(text: &str, toolchain: &GoToolchain) -> String {
    let out = toolchain
        .command()
        .args(["env", "GOROOT"])
        .output()
        .expect("go env GOROOT");
    let goroot = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    normalize_paths(text, &fixture_dir("leak"), &goroot)
}
