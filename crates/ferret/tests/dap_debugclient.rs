//! DAP as an editor speaks it: Microsoft's own DAP test client (DebugClient
//! from npm `@vscode/debugadapter-testsupport`, run by
//! `tests/dap-clients/debugclient/session.js`) drives whole debug sessions
//! against a server, through both ways in:
//!
//! - launch: `<debugger> dap --listen=127.0.0.1:0`, then a `launch`
//!   request with mode `exec`;
//! - remote attach: `<debugger> exec PROGRAM --headless --listen=127.0.0.1:0
//!   --api-version=2 --accept-multiclient`, then an `attach` request with
//!   mode `remote` on the same port.
//!
//! Sessions: the `vars` fixture (a conditional breakpoint, a log point,
//! variables of every kind, evaluate, next/stepIn/stepOut, continue to the
//! exit) and the `panics` fixture (an exception breakpoint, exceptionInfo).
//! The same code runs against dlv (the reference, which must pass) and
//! against ferret. After each session the server must exit by itself
//! (the client disconnected) and no program it ran may be left.

use std::path::Path;
use std::time::Duration;

use ferret_testkit::dap::{run_debugclient, DapDebugger, DapEntry, DapServer};
use ferret_testkit::delve::Delve;
use ferret_testkit::fixture::{build_fixture, fixture_dir, BuildOptions};
use ferret_testkit::toolchain::GoToolchain;

/// The sessions: (script session, fixture, program arguments).
const SESSIONS: [(&str, &str, &[&str]); 2] =
    [("vars", "vars", &[]), ("panic", "panics", &["string"])];

/// The last `max` bytes of `text` (at a character boundary).
fn tail(text: &str, max: usize) -> &str {
    let mut start = text.len().saturating_sub(max);
    while !text.is_char_boundary(start) {
        start += 1;
    }
    &text[start..]
}

/// Runs every session through `entry` against `debugger`, with each Go
/// toolchain it supports.
fn sessions(debugger: DapDebugger, entry: DapEntry) {
    let toolchains: Vec<GoToolchain> = GoToolchain::selected()
        .into_iter()
        .filter(|t| debugger == DapDebugger::Ferret || Delve::supports(t))
        .collect();
    assert!(
        !toolchains.is_empty(),
        "no selected Go toolchain is supported by {} (FERRET_GO_VERSIONS)",
        debugger.name()
    );
    for toolchain in &toolchains {
        for (session, fixture, args) in SESSIONS {
            let exe = build_fixture(fixture, toolchain, &BuildOptions::debug());
            let source = fixture_dir(fixture).join("main.go");
            session_once(
                debugger,
                entry,
                session,
                &exe,
                &source,
                args,
                &toolchain.version,
            );
        }
    }
}

fn session_once(
    debugger: DapDebugger,
    entry: DapEntry,
    session: &str,
    exe: &Path,
    source: &Path,
    args: &[&str],
    go_version: &str,
) {
    let mut server = DapServer::start(debugger, entry, exe, args);
    let run = run_debugclient(server.port, entry, session, exe, source, args, go_version);
    for &pid in &run.launched_pids {
        server.adopt(pid, exe);
    }
    let what = format!(
        "{} session '{session}' ({}, {go_version}) against `{}`",
        entry.request(),
        exe.display(),
        server.description
    );
    assert!(
        run.passed,
        "{what} failed ({:?}):\n{}\n--- server output (tail):\n{}",
        run.status,
        run.output,
        tail(&server.output(), 6000)
    );
    // The client disconnected (terminateDebuggee for a headless server):
    // the server ends by itself, and so has the program.
    let exited = server.wait_exit(Duration::from_secs(10));
    assert!(
        exited.is_some(),
        "{what}: the server still runs 10 s after the client disconnected\n{}",
        run.output
    );
    let left = server.live_debuggees();
    assert!(left.is_empty(), "{what}: programs left running: {left:?}");
    eprintln!("{what}: passed\n{}", run.output);
}

#[test]
fn launch_exec_against_dlv() {
    sessions(DapDebugger::Dlv, DapEntry::LaunchExec);
}

#[test]
fn remote_attach_against_dlv() {
    sessions(DapDebugger::Dlv, DapEntry::RemoteAttach);
}

#[test]
fn launch_exec_against_ferret() {
    sessions(DapDebugger::Ferret, DapEntry::LaunchExec);
}

#[test]
fn remote_attach_against_ferret() {
    sessions(DapDebugger::Ferret, DapEntry::RemoteAttach);
}
