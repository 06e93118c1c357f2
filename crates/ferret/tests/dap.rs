//! DAP on a headless server's shared port, beside JSON-RPC clients, and
//! what bad input gets. (Full client sessions are in `dap_debugclient.rs`
//! and `dap_differential.rs`.)

use std::io::{Read, Write};
use std::time::Duration;

use ferret_testkit::dap::DapClient;
use ferret_testkit::fixture::{build_fixture, BuildOptions};
use ferret_testkit::rpc::RpcClient;
use ferret_testkit::servers::FerretServer;
use ferret_testkit::toolchain::GoToolchain;
use serde_json::{json, Value};

/// The vars fixture's source and the line of its `pause("main")` call,
/// found in the source (no hand-typed line numbers).
fn vars_source() -> (String, u32) {
    let path = ferret_testkit::fixture::fixture_dir("vars").join("main.go");
    let text = std::fs::read_to_string(&path).unwrap();
    let line = text
        .lines()
        .position(|l| l.contains("pause(\"main\")"))
        .expect("the pause line") as u32
        + 1;
    (path.to_str().unwrap().to_owned(), line)
}

fn vars() -> std::path::PathBuf {
    build_fixture("vars", &GoToolchain::find("1.26"), &BuildOptions::debug())
}

/// Remote attach: halt, capabilities, initialized, the attach response.
fn attach_remote(dap: &mut DapClient) {
    assert_eq!(dap.initialize()["success"], true);
    let attach = dap.request("attach", json!({"mode": "remote"}));
    assert_eq!(attach["success"], true, "{attach}");
}

#[test]
fn a_json_rpc_client_and_a_dap_client_share_target_and_breakpoints() {
    let (source, line) = vars_source();
    let server = FerretServer::exec(&vars(), &[]);
    let mut rpc = RpcClient::connect(&server.addr).unwrap();
    let mut dap = DapClient::connect(&server.addr).unwrap();
    attach_remote(&mut dap);

    // A breakpoint made over JSON-RPC stops the DAP client's run.
    let made = rpc
        .call(
            "CreateBreakpoint",
            json!({"Breakpoint": {"file": source, "line": line}}),
        )
        .unwrap();
    let rpc_id = made["Breakpoint"]["id"].as_i64().unwrap();
    // Beyond Delve: the DAP client hears of it.
    let told = dap.wait_event("breakpoint");
    assert_eq!(told["body"]["reason"], "new", "{told}");
    assert_eq!(told["body"]["breakpoint"]["id"], rpc_id, "{told}");
    assert_eq!(told["body"]["breakpoint"]["line"], line, "{told}");
    // One made over DAP is a breakpoint JSON-RPC clients see, by Delve's name.
    let set = dap.request(
        "setFunctionBreakpoints",
        json!({"breakpoints": [{"name": "main.inspect"}]}),
    );
    let dap_id = set["body"]["breakpoints"][0]["id"].as_i64().unwrap();
    let listed = rpc.call("ListBreakpoints", json!({})).unwrap();
    let names: Vec<&str> = listed["Breakpoints"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|b| b["name"].as_str())
        .collect();
    assert!(
        names.contains(&"functionBreakpoint Name=main.inspect"),
        "{listed}"
    );

    assert_eq!(dap.request("configurationDone", json!({}))["success"], true);
    let stopped = dap.wait_event("stopped");
    assert_eq!(stopped["body"]["reason"], "breakpoint", "{stopped}");
    assert_eq!(stopped["body"]["hitBreakpointIds"], json!([rpc_id]));
    let state = rpc.call("State", json!({})).unwrap();
    assert_eq!(state["State"]["currentThread"]["line"], line);

    // A JSON-RPC continue is seen by the DAP client: continued, then the
    // stop at the DAP-made breakpoint.
    let state = rpc.call("Command", json!({"name": "continue"})).unwrap();
    assert_eq!(
        state["State"]["currentThread"]["breakPoint"]["id"], dap_id,
        "{state}"
    );
    assert_eq!(
        dap.wait_event("continued")["body"]["allThreadsContinued"],
        true
    );
    let stopped = dap.wait_event("stopped");
    assert_eq!(
        stopped["body"]["reason"], "function breakpoint",
        "{stopped}"
    );
    assert_eq!(stopped["body"]["hitBreakpointIds"], json!([dap_id]));
    let frames = dap.request(
        "stackTrace",
        json!({"threadId": stopped["body"]["threadId"], "levels": 1}),
    );
    assert_eq!(frames["body"]["stackFrames"][0]["name"], "main.inspect");

    rpc.call("Detach", json!({"Kill": true})).unwrap();
}

#[test]
fn bad_dap_input_gets_errors_and_the_server_goes_on() {
    // A program that keeps running (eight goroutines spinning for a minute).
    let busy = build_fixture("busy", &GoToolchain::find("1.26"), &BuildOptions::debug());
    let server = FerretServer::exec(&busy, &["spin", "60"]);
    let mut dap = DapClient::connect(&server.addr).unwrap();
    attach_remote(&mut dap);

    // A command DAP does not define: Delve's internal error (8888); one it
    // defines that is not served: "Unsupported command" (9999).
    let unknown = dap.request("noSuchCommand", json!({}));
    assert_eq!(unknown["success"], false);
    assert_eq!(unknown["body"]["error"]["id"], 8888, "{unknown}");
    let modules = dap.request("modules", json!({}));
    assert_eq!(modules["body"]["error"]["id"], 9999, "{modules}");
    // A body that is not JSON: an error, and the connection goes on.
    let garbage = b"{not json";
    dap_raw(&server.addr, garbage, |answer| {
        assert_eq!(answer["success"], false, "{answer}");
        assert!(
            answer["body"]["error"]["format"]
                .as_str()
                .unwrap()
                .contains("not a JSON object"),
            "{answer}"
        );
    });
    // A stack of a goroutine that does not exist: an error response.
    let stack = dap.request("stackTrace", json!({"threadId": 999999}));
    assert_eq!(stack["success"], false);
    assert_eq!(stack["body"]["error"]["id"], 2004, "{stack}");
    // Requests needing a stopped target, while it runs: 4000.
    let done = dap.request("configurationDone", json!({}));
    assert_eq!(done["success"], true);
    let scopes = dap.request("scopes", json!({"frameId": 1000}));
    if scopes["success"] == false {
        assert_eq!(scopes["body"]["error"]["id"], 4000, "{scopes}");
        assert_eq!(scopes["message"], "Unable to process `scopes`", "{scopes}");
    }
    // A malformed header closes that connection only.
    let mut bad = std::net::TcpStream::connect(&server.addr).unwrap();
    bad.write_all(b"Content-Length: lots\r\n\r\n{}").unwrap();
    bad.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let answer = ferret_testkit::dap::read_message(&mut bad).unwrap();
    assert_eq!(answer["success"], false, "{answer}");
    let mut rest = Vec::new();
    let _ = bad.read_to_end(&mut rest);
    // A client leaving while the target runs leaves it running; another
    // client attaches, pauses, and finds it alive.
    drop(dap);
    let mut second = DapClient::connect(&server.addr).unwrap();
    attach_remote(&mut second);
    let threads = second.request("threads", json!({}));
    assert_eq!(threads["success"], true, "{threads}");
    assert!(!threads["body"]["threads"].as_array().unwrap().is_empty());
    let mut rpc = RpcClient::connect(&server.addr).unwrap();
    let state = rpc.call("State", json!({})).unwrap();
    assert_eq!(state["State"]["exited"], false, "{state}");
    rpc.call("Detach", json!({"Kill": true})).unwrap();
}

/// Sends `initialize` framed around `body` bytes on a fresh connection,
/// checks the first answer, then that the connection still serves.
fn dap_raw(addr: &str, body: &[u8], check: impl FnOnce(&Value)) {
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut message = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
    message.extend_from_slice(body);
    stream.write_all(&message).unwrap();
    check(&ferret_testkit::dap::read_message(&mut stream).unwrap());
    let good = r#"{"seq":2,"type":"request","command":"initialize","arguments":{}}"#;
    stream
        .write_all(format!("Content-Length: {}\r\n\r\n{good}", good.len()).as_bytes())
        .unwrap();
    let answer = ferret_testkit::dap::read_message(&mut stream).unwrap();
    assert_eq!(answer["success"], true, "{answer}");
}

#[test]
fn the_debug_console_shows_goroutine_leaks_as_the_goroutines_command_does() {
    const N: usize = 3;
    let exe = build_fixture("leak", &GoToolchain::find("1.26"), &BuildOptions::debug());
    let leak = ferret_testkit::leak::start_leak(&exe, N);
    let server = FerretServer::attach(leak.pid);
    let mut dap = DapClient::connect(&server.addr).unwrap();
    // A client that shows progress (as VS Code does) hears of the summary.
    dap.request(
        "initialize",
        json!({"adapterID": "go", "pathFormat": "path", "linesStartAt1": true,
               "columnsStartAt1": true, "supportsProgressReporting": true}),
    );
    assert_eq!(
        dap.request("attach", json!({"mode": "remote"}))["success"],
        true
    );
    let answer = dap.request(
        "evaluate",
        json!({"expression": "ferret goroutines --group waitreason", "context": "repl"}),
    );
    assert_eq!(answer["success"], true, "{answer}");
    let progress: Vec<&Value> = dap
        .received_events()
        .iter()
        .filter(|e| e["event"].as_str().unwrap().starts_with("progress"))
        .collect();
    assert_eq!(progress.len(), 2, "{progress:?}");
    assert_eq!(progress[0]["event"], "progressStart");
    assert_eq!(progress[1]["event"], "progressEnd");
    assert_eq!(
        progress[0]["body"]["progressId"],
        progress[1]["body"]["progressId"]
    );
    let text = answer["body"]["result"].as_str().unwrap();
    assert!(
        text.contains("COUNT") && text.contains("WAITREASON"),
        "{text}"
    );
    // Every wait reason the fixture counted among its own goroutines is a
    // group at least that big (the runtime's goroutines add to some).
    for (reason, count) in &leak.report.counts {
        let row = text
            .lines()
            .find(|l| l.split("  ").any(|cell| cell.trim() == reason))
            .unwrap_or_else(|| panic!("no {reason:?} group in\n{text}"));
        let listed: usize = row.split_whitespace().next().unwrap().parse().unwrap();
        assert!(listed >= *count, "{reason}: {listed} < {count}\n{text}");
    }
    let bad = dap.request(
        "evaluate",
        json!({"expression": "ferret goroutines --group nosuch", "context": "repl"}),
    );
    assert_eq!(bad["success"], false, "{bad}");
    assert!(
        bad["body"]["error"]["format"]
            .as_str()
            .unwrap()
            .contains("unknown grouping"),
        "{bad}"
    );
    let _ = dap.request("disconnect", json!({"terminateDebuggee": false}));
}

/// `debugger dap` launching the vars fixture with `settings` added to the
/// launch configuration, stopped at `line` of its source: the server (kept
/// alive by the caller), the client and the `stopped` event.
fn launched_to_line(
    debugger: ferret_testkit::dap::DapDebugger,
    exe: &std::path::Path,
    settings: Value,
    line: u32,
) -> (ferret_testkit::dap::DapServer, DapClient, Value) {
    use ferret_testkit::dap::{DapEntry, DapServer};
    let (source, _) = vars_source();
    let server = DapServer::start(debugger, DapEntry::LaunchExec, exe, &[]);
    let mut dap = DapClient::connect(&format!("127.0.0.1:{}", server.port)).unwrap();
    assert_eq!(dap.initialize()["success"], true);
    let mut launch = json!({"mode": "exec", "program": exe});
    for (key, value) in settings.as_object().into_iter().flatten() {
        launch[key] = value.clone();
    }
    let launched = dap.request("launch", launch);
    assert_eq!(launched["success"], true, "{launched}");
    dap.request(
        "setBreakpoints",
        json!({"source": {"path": source}, "breakpoints": [{"line": line}]}),
    );
    dap.request("configurationDone", json!({}));
    let stopped = dap.wait_event("stopped");
    (server, dap, stopped)
}

/// The Registers scope (`showRegisters`) of the top two frames at the
/// vars fixture's pause line, as one debugger lists it.
fn registers_at_pause(
    debugger: ferret_testkit::dap::DapDebugger,
    exe: &std::path::Path,
) -> Vec<Vec<Value>> {
    let (_, line) = vars_source();
    let (_server, mut dap, stopped) =
        launched_to_line(debugger, exe, json!({"showRegisters": true}), line);
    let stack = dap.request(
        "stackTrace",
        json!({"threadId": stopped["body"]["threadId"], "levels": 2}),
    );
    let mut out = Vec::new();
    for frame in stack["body"]["stackFrames"].as_array().unwrap() {
        let scopes = dap.request("scopes", json!({"frameId": frame["id"]}));
        let registers = scopes["body"]["scopes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == "Registers")
            .unwrap_or_else(|| panic!("no Registers scope: {scopes}"))
            .clone();
        let listed = dap.request(
            "variables",
            json!({"variablesReference": registers["variablesReference"]}),
        );
        out.push(listed["body"]["variables"].as_array().unwrap().clone());
    }
    let _ = dap.request("disconnect", json!({"terminateDebuggee": true}));
    out
}

#[test]
fn registers_scope_lists_what_dlv_lists() {
    use ferret_testkit::dap::DapDebugger;
    let exe = vars();
    let ours = registers_at_pause(DapDebugger::Ferret, &exe);
    let theirs = registers_at_pause(DapDebugger::Dlv, &exe);
    assert_eq!(ours.len(), theirs.len());
    for (frame, (ours, theirs)) in ours.iter().zip(&theirs).enumerate() {
        let shape = |list: &[Value]| -> Vec<(Value, Value, Value)> {
            list.iter()
                .map(|v| {
                    (
                        v["name"].clone(),
                        v["evaluateName"].clone(),
                        v["type"].clone(),
                    )
                })
                .collect()
        };
        assert_eq!(shape(ours), shape(theirs), "frame {frame}");
        // The same code address; stacks differ from run to run, but not
        // the distance between stack and frame pointer.
        let value = |list: &[Value], name: &str| {
            let text = list
                .iter()
                .find(|v| v["name"].as_str().unwrap().trim() == name)
                .unwrap()["value"]
                .as_str()
                .unwrap()
                .to_owned();
            u64::from_str_radix(text.trim_start_matches("0x"), 16).unwrap()
        };
        assert_eq!(value(ours, "rip"), value(theirs, "rip"), "frame {frame}");
        assert_eq!(
            value(ours, "rbp").wrapping_sub(value(ours, "rsp")),
            value(theirs, "rbp").wrapping_sub(value(theirs, "rsp")),
            "frame {frame}"
        );
    }
}

#[test]
fn restart_runs_the_program_again_with_its_breakpoints() {
    use ferret_testkit::dap::DapDebugger;
    let (source, line) = vars_source();
    let (_server, mut dap, first) = launched_to_line(DapDebugger::Ferret, &vars(), json!({}), line);
    assert_eq!(first["body"]["reason"], "breakpoint", "{first}");
    // The program runs on to its end, then starts again.
    dap.request("continue", json!({"threadId": 1}));
    dap.wait_event("terminated");
    // Beyond Delve: the program's source files, its main.go among them.
    let sources = dap.request("loadedSources", json!({}));
    assert!(
        sources["body"]["sources"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["path"] == source.as_str()),
        "{sources}"
    );
    let restarted = dap.request("restart", json!({}));
    assert_eq!(restarted["success"], true, "{restarted}");
    dap.wait_event("initialized");
    dap.request("configurationDone", json!({}));
    let again = dap.wait_event("stopped");
    assert_eq!(again["body"]["reason"], "breakpoint", "{again}");
    let stack = dap.request(
        "stackTrace",
        json!({"threadId": again["body"]["threadId"], "levels": 1}),
    );
    assert_eq!(stack["body"]["stackFrames"][0]["line"], line, "{stack}");
    let _ = dap.request("disconnect", json!({"terminateDebuggee": true}));
}

#[test]
fn remote_output_mode_sends_the_programs_output_as_events() {
    use ferret_testkit::dap::{DapDebugger, DapEntry, DapServer};
    let exe = vars();
    // What the program prints, run on its own (the oracle).
    let printed = std::process::Command::new(&exe).output().unwrap();
    let printed = String::from_utf8_lossy(&printed.stdout).into_owned();
    assert!(!printed.is_empty());
    let server = DapServer::start(DapDebugger::Ferret, DapEntry::LaunchExec, &exe, &[]);
    let mut dap = DapClient::connect(&format!("127.0.0.1:{}", server.port)).unwrap();
    dap.initialize();
    let launched = dap.request(
        "launch",
        json!({"mode": "exec", "program": exe, "outputMode": "remote"}),
    );
    assert_eq!(launched["success"], true, "{launched}");
    dap.request("configurationDone", json!({}));
    dap.wait_event("terminated");
    // Output events may come just before or after the exit.
    let mut stdout = String::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !stdout.ends_with(&printed) && std::time::Instant::now() < deadline {
        let _ = dap.request("threads", json!({}));
        stdout = dap
            .received_events()
            .iter()
            .filter(|e| e["event"] == "output" && e["body"]["category"] == "stdout")
            .map(|e| e["body"]["output"].as_str().unwrap().to_owned())
            .collect();
    }
    assert_eq!(stdout, printed);
    let both = dap.request(
        "launch",
        json!({"mode": "exec", "program": exe, "outputMode": "remote", "stdoutTo": "/dev/null"}),
    );
    assert_eq!(both["success"], false, "{both}");
    let _ = dap.request("disconnect", json!({}));
}

#[test]
fn a_data_breakpoint_stops_where_the_program_writes() {
    use ferret_testkit::dap::DapDebugger;
    let (source, _) = vars_source();
    let text = std::fs::read_to_string(&source).unwrap();
    // The loop that fills bigArr: bigArr[k] = k * 2.
    let loop_line = text
        .lines()
        .position(|l| l.contains("for k := range bigArr"))
        .expect("the bigArr loop") as u32
        + 1;
    let (_server, mut dap, stopped) =
        launched_to_line(DapDebugger::Ferret, &vars(), json!({}), loop_line);
    let thread = stopped["body"]["threadId"].clone();
    let stack = dap.request("stackTrace", json!({"threadId": thread, "levels": 1}));
    let frame = stack["body"]["stackFrames"][0]["id"].clone();
    let info = dap.request(
        "dataBreakpointInfo",
        json!({"name": "bigArr[500]", "frameId": frame}),
    );
    assert_eq!(info["success"], true, "{info}");
    let data_id = info["body"]["dataId"].clone();
    let set = dap.request(
        "setDataBreakpoints",
        json!({"breakpoints": [{"dataId": data_id, "accessType": "write"}]}),
    );
    assert_eq!(set["body"]["breakpoints"][0]["verified"], true, "{set}");
    // The source breakpoint is done with; the watchpoint stops the loop
    // right after it writes element 500, which it sets to 500 * 2.
    dap.request(
        "setBreakpoints",
        json!({"source": {"path": source}, "breakpoints": []}),
    );
    dap.request("continue", json!({"threadId": thread}));
    let hit = dap.wait_event("stopped");
    assert_eq!(hit["body"]["reason"], "data breakpoint", "{hit}");
    let stack = dap.request(
        "stackTrace",
        json!({"threadId": hit["body"]["threadId"], "levels": 1}),
    );
    let frame = stack["body"]["stackFrames"][0]["id"].clone();
    for (expression, value) in [("k", "500"), ("bigArr[500]", "1000"), ("bigArr[501]", "0")] {
        let answer = dap.request(
            "evaluate",
            json!({"expression": expression, "frameId": frame, "context": "watch"}),
        );
        assert_eq!(answer["body"]["result"], value, "{expression}: {answer}");
    }
    let _ = dap.request("disconnect", json!({"terminateDebuggee": true}));
}

#[test]
fn ferret_dap_attaches_to_a_running_process_and_leaves_it_running() {
    use ferret_testkit::dap::{DapDebugger, DapEntry, DapServer};
    let busy = build_fixture("busy", &GoToolchain::find("1.26"), &BuildOptions::debug());
    let mut program = std::process::Command::new(&busy)
        .args(["spin", "60"])
        .spawn()
        .unwrap();
    // `DapServer` with LaunchExec starts `ferret dap`; the program given is
    // only for messages here.
    let server = DapServer::start(DapDebugger::Ferret, DapEntry::LaunchExec, &busy, &[]);
    let mut dap = DapClient::connect(&format!("127.0.0.1:{}", server.port)).unwrap();
    dap.initialize();
    let missing = dap.request("attach", json!({"mode": "local"}));
    assert_eq!(missing["success"], false, "{missing}");
    let attached = dap.request(
        "attach",
        json!({"mode": "local", "processId": program.id()}),
    );
    assert_eq!(attached["success"], true, "{attached}");
    let caps = dap.wait_event("capabilities");
    assert_eq!(
        caps["body"]["capabilities"]["supportTerminateDebuggee"],
        true
    );
    dap.request("configurationDone", json!({}));
    dap.request("pause", json!({"threadId": 1}));
    // As dlv does, a pause names a goroutine (a thread that runs one).
    let stopped = dap.wait_event("stopped");
    assert_eq!(stopped["body"]["reason"], "pause", "{stopped}");
    assert_ne!(stopped["body"]["threadId"], 0, "{stopped}");
    // As an editor does: the threads, then a stack.
    let threads = dap.request("threads", json!({}));
    let first = threads["body"]["threads"][0]["id"].clone();
    let frames = dap.request("stackTrace", json!({"threadId": first, "levels": 50}));
    assert_eq!(frames["success"], true, "{frames}");
    let disconnected = dap.request("disconnect", json!({"terminateDebuggee": false}));
    assert_eq!(disconnected["success"], true, "{disconnected}");
    // Detached, not killed: it goes on spinning.
    std::thread::sleep(Duration::from_millis(200));
    assert!(program.try_wait().unwrap().is_none(), "the program ended");
    let _ = program.kill();
    let _ = program.wait();
}
