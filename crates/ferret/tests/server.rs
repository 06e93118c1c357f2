//! The headless server end to end: the real `dlv connect` against ferret
//! and against dlv on the same fixture, recorded dlv exchanges replayed
//! against ferret, Delve's multi-client rules, and bad input.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use ferret_testkit::fixture::{build_fixture, fixture_dir, BuildOptions};
use ferret_testkit::proto;
use ferret_testkit::rpc::RpcClient;
use ferret_testkit::terminal;
use ferret_testkit::toolchain::GoToolchain;
use serde_json::{json, Value};

/// A running `ferret` server; killed when dropped.
struct Server {
    child: Child,
    addr: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// Starts `ferret ARGS` and reads Delve's startup line.
    fn start(args: &[&str]) -> Server {
        let mut child = Command::new(ferret_testkit::ferret_binary())
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start ferret");
        let mut line = String::new();
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
        stdout.read_line(&mut line).expect("read startup line");
        // Keep reading: the target writes to the same stdout, and a closed
        // pipe would kill it with SIGPIPE.
        std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
        let addr = line
            .trim()
            .strip_prefix("API server listening at: ")
            .unwrap_or_else(|| panic!("unexpected startup line {line:?}"))
            .to_owned();
        Server { child, addr }
    }

    /// `ferret exec BINARY --headless --listen=127.0.0.1:0 --api-version=2 --accept-multiclient`.
    fn exec(binary: &Path) -> Server {
        let binary = binary.to_str().expect("utf-8 path");
        Server::start(&[
            "exec",
            binary,
            "--headless",
            "--listen=127.0.0.1:0",
            "--api-version=2",
            "--accept-multiclient",
        ])
    }

    fn client(&self) -> RpcClient {
        RpcClient::connect(&self.addr).expect("connect to ferret")
    }

    /// Waits for the server process to end by itself.
    fn wait_exit(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
        let start = Instant::now();
        while start.elapsed() < timeout {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }
}

fn hello(version: &str) -> PathBuf {
    build_fixture("hello", &GoToolchain::find(version), &BuildOptions::debug())
}

fn goroot() -> PathBuf {
    let out = Command::new("go")
        .args(["env", "GOROOT"])
        .env("GOTOOLCHAIN", "local")
        .output()
        .expect("go env");
    PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
}

#[test]
fn dlv_connect_session_reads_the_same_against_ferret_and_dlv() {
    let binary = hello("1.26");
    let session = terminal::basic_session(&fixture_dir("hello").join("main.go"));
    let commands: Vec<&str> = session.iter().map(String::as_str).collect();
    let timeout = Duration::from_secs(60);

    let (mut dlv, dlv_addr) = terminal::start_dlv_headless(&binary, &[]);
    let theirs = terminal::run_dlv_connect(&dlv_addr, &commands, timeout);
    terminal::wait_or_kill(&mut dlv, Duration::from_secs(10));

    let mut ferret = Server::exec(&binary);
    let ours = terminal::run_dlv_connect(&ferret.addr, &commands, timeout);
    assert!(
        ferret.wait_exit(Duration::from_secs(10)).is_some(),
        "ferret did not exit after `exit`"
    );

    let fixture = fixture_dir("hello");
    let root = goroot();
    assert!(
        !theirs.timed_out && !ours.timed_out,
        "a session timed out:\n{}\n---\n{}",
        theirs.raw,
        ours.raw
    );
    let theirs = terminal::normalize(&theirs.render(), &fixture, &root);
    let ours = terminal::normalize(&ours.render(), &fixture, &root);
    let mismatches: Vec<String> = theirs
        .lines()
        .zip(ours.lines())
        .enumerate()
        .filter(|(_, (a, b))| a != b)
        .map(|(i, (a, b))| format!("line {}:\n  dlv:    {a}\n  ferret: {b}", i + 1))
        .collect();
    assert!(
        mismatches.is_empty() && theirs.lines().count() == ours.lines().count(),
        "transcripts differ:\n{}\n--- dlv ---\n{theirs}\n--- ferret ---\n{ours}",
        mismatches.join("\n")
    );
}

/// Exchanges whose answers ferret is known to give differently, with why.
const KNOWN_DIFFERENCES: &[(&str, &str, &str)] = &[(
    "connect",
    "RPCServer.GetVersion",
    "ferret supports Go from 1.21, dlv 1.27 from 1.25 (MinSupportedVersionOfGo)",
)];

#[test]
fn recorded_dlv_exchanges_replay_against_ferret() {
    let fixture = fixture_dir("hello");
    let mut failures = Vec::new();
    let mut compared = 0;
    for scenario in proto::load_scenarios() {
        if scenario.name == "events" {
            // Two connections and asynchronous replies: covered by the
            // dlv connect session, which waits on GetEvents.
            continue;
        }
        let version = scenario.go_version.trim_start_matches("go");
        let binary = hello(version);
        let server = Server::exec(&binary);
        let mut client = server.client();
        let mut last_state = Value::Null;
        for (i, exchange) in scenario.exchanges.iter().enumerate() {
            let mut request = scenario.request_for(exchange, &fixture);
            exchange.fill_from_state(&mut request, &last_state);
            let method = exchange.method().to_owned();
            let Some(actual) = client.request(&request) else {
                failures.push(format!(
                    "{}#{i} {method}: ferret closed the connection",
                    scenario.name
                ));
                break;
            };
            if let Some(state) = actual.pointer("/result/State") {
                last_state = state.clone();
            }
            let bare = method.trim_start_matches("RPCServer.");
            if KNOWN_DIFFERENCES
                .iter()
                .any(|(s, m, _)| *s == scenario.name && m.trim_start_matches("RPCServer.") == bare)
            {
                continue;
            }
            let expected = proto::normalize(&exchange.response);
            let got = proto::normalize(&actual);
            for difference in proto::diff(&expected, &got) {
                failures.push(format!("{}#{i} {method}: {difference}", scenario.name));
            }
            compared += 1;
        }
    }
    assert!(compared > 50, "only {compared} exchanges compared");
    assert!(
        failures.is_empty(),
        "{} differences:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn a_second_client_halts_a_continue_and_leaving_clients_change_nothing() {
    let busy = build_fixture("busy", &GoToolchain::find("1.26"), &BuildOptions::debug());
    let busy = busy.to_str().unwrap();
    let server = Server::start(&[
        "exec",
        busy,
        "--headless",
        "--listen=127.0.0.1:0",
        "--api-version=2",
        "--accept-multiclient",
        "--",
        "spin",
        "60",
    ]);
    let mut a = server.client();
    a.call("SetApiVersion", json!({"APIVersion": 2})).unwrap();
    a.send(&json!({"method": "RPCServer.Command", "params": [{"name": "continue"}], "id": 100}))
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let mut b = server.client();
    let state = b.call("State", json!({"NonBlocking": true})).unwrap();
    assert_eq!(state["State"]["Running"], json!(true), "{state}");
    // A third client that leaves in the middle changes nothing.
    drop(server.client());
    let halted = b.call("Command", json!({"name": "halt"})).unwrap();
    assert_eq!(halted["State"]["Running"], json!(false), "{halted}");
    assert_eq!(halted["State"]["stopReason"], json!("manual"), "{halted}");
    let first = a.receive().expect("the blocked continue completes");
    assert_eq!(first["id"], json!(100));
    assert_eq!(first["result"]["State"]["Running"], json!(false), "{first}");
    // A client vanishing during a continue leaves the target running.
    let mut c = server.client();
    c.send(&json!({"method": "RPCServer.Command", "params": [{"name": "continue"}], "id": 1}))
        .unwrap();
    std::thread::sleep(Duration::from_millis(200));
    drop(c);
    std::thread::sleep(Duration::from_millis(200));
    let state = b.call("State", json!({"NonBlocking": true})).unwrap();
    assert_eq!(state["State"]["Running"], json!(true), "{state}");
    b.call("Command", json!({"name": "halt"})).unwrap();
    b.call("Detach", json!({"Kill": true})).unwrap();
}

#[test]
fn detach_ends_the_server_and_kills_a_launched_target() {
    let binary = hello("1.26");
    let mut server = Server::exec(&binary);
    let mut client = server.client();
    let pid = client.call("ProcessPid", json!({})).unwrap()["Pid"]
        .as_i64()
        .unwrap();
    client.call("Detach", json!({"Kill": false})).unwrap();
    assert!(
        server.wait_exit(Duration::from_secs(10)).is_some(),
        "server still running after Detach"
    );
    assert!(
        !Path::new(&format!("/proc/{pid}")).exists(),
        "launched target survived Detach"
    );
}

#[test]
fn without_multiclient_the_server_ends_with_its_client() {
    let binary = hello("1.26");
    let mut server = Server::start(&[
        "exec",
        binary.to_str().unwrap(),
        "--headless",
        "--listen=127.0.0.1:0",
        "--api-version=2",
    ]);
    let mut client = server.client();
    assert_eq!(
        client.call("IsMulticlient", json!({})).unwrap(),
        json!({"IsMulticlient": false})
    );
    let pid = client.call("ProcessPid", json!({})).unwrap()["Pid"]
        .as_i64()
        .unwrap();
    drop(client);
    assert!(
        server.wait_exit(Duration::from_secs(10)).is_some(),
        "server still running"
    );
    assert!(
        !Path::new(&format!("/proc/{pid}")).exists(),
        "launched target survived"
    );
}

#[test]
fn bad_requests_get_errors_and_the_server_stays_up() {
    let binary = hello("1.26");
    let server = Server::exec(&binary);
    let mut client = server.client();
    // Wrong parameter types and unknown methods: error replies.
    let reply = client
        .request(&json!({"method": "RPCServer.State", "params": [{"NonBlocking": "yes"}], "id": 1}))
        .unwrap();
    assert!(
        reply["error"]
            .as_str()
            .unwrap()
            .contains("cannot unmarshal string"),
        "{reply}"
    );
    let reply = client
        .request(&json!({"method": "RPCServer.Nope", "params": [{}], "id": 2}))
        .unwrap();
    assert_eq!(reply["error"], json!("unknown method: RPCServer.Nope"));
    let reply = client.request(&json!({"method": "RPCServer.CreateBreakpoint", "params": [{"Breakpoint": {"line": "x"}}], "id": 3})).unwrap();
    assert!(reply["error"].is_string(), "{reply}");
    // Garbage closes only that connection.
    let mut garbage = server.client();
    garbage.send_raw(b"\x00\x01 this is not json }{").unwrap();
    assert!(
        garbage.receive().is_none(),
        "garbage must close the connection"
    );
    // A 100 MB request closes only that connection.
    let mut huge = std::net::TcpStream::connect(&server.addr).unwrap();
    huge.set_write_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let _ = huge.write_all(b"{\"method\":\"RPCServer.State\",\"params\":[{\"pad\":\"");
    let chunk = vec![b'a'; 1 << 20];
    for _ in 0..100 {
        if huge.write_all(&chunk).is_err() {
            break;
        }
    }
    let mut rest = Vec::new();
    huge.set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let _ = huge.read_to_end(&mut rest);
    let rest = String::from_utf8_lossy(&rest);
    assert!(
        rest.contains("request larger than the server's limit"),
        "oversized request got {rest:?}"
    );
    // The first client still works.
    let reply = client.call("IsMulticlient", json!({})).unwrap();
    assert_eq!(reply, json!({"IsMulticlient": true}));
    // A DAP client is served on the same port.
    let mut dap = std::net::TcpStream::connect(&server.addr).unwrap();
    let body = r#"{"seq":1,"type":"request","command":"initialize","arguments":{}}"#;
    dap.write_all(format!("Content-Length: {}\r\n\r\n{body}", body.len()).as_bytes())
        .unwrap();
    dap.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let answer = ferret_testkit::dap::read_message(&mut dap).unwrap();
    assert_eq!(answer["command"], "initialize", "{answer}");
    assert_eq!(answer["success"], true, "{answer}");
    client.call("Detach", json!({"Kill": true})).unwrap();
}

#[test]
fn startup_errors_are_clear() {
    let binary = hello("1.26");
    let binary = binary.to_str().unwrap();
    let run = |args: &[&str]| {
        let out = Command::new(ferret_testkit::ferret_binary())
            .args(args)
            .output()
            .expect("run ferret");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let busy_port = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let taken = busy_port.local_addr().unwrap().to_string();
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            vec![
                "exec".into(),
                binary.into(),
                "--headless".into(),
                format!("--listen={taken}"),
            ],
            "couldn't start listener",
        ),
        (
            vec![
                "exec".into(),
                binary.into(),
                "--headless".into(),
                "--listen=not-an-address".into(),
            ],
            "couldn't start listener",
        ),
        (
            vec![
                "exec".into(),
                "/nonexistent/prog".into(),
                "--headless".into(),
            ],
            "/nonexistent/prog",
        ),
        (
            vec!["attach".into(), "1073741823".into(), "--headless".into()],
            "1073741823",
        ),
        (vec!["exec".into(), binary.into()], "--headless"),
        (
            vec![
                "exec".into(),
                binary.into(),
                "--headless".into(),
                "--api-version=1".into(),
            ],
            "API version 1",
        ),
        (
            vec![
                "exec".into(),
                binary.into(),
                "--headless".into(),
                "--continue".into(),
            ],
            "--continue requires --accept-multiclient",
        ),
    ];
    for (args, needle) in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (ok, stderr) = run(&args);
        assert!(!ok, "{args:?} should fail");
        assert!(
            stderr.contains(needle),
            "{args:?}: {stderr:?} should mention {needle:?}"
        );
    }
}

#[test]
fn continue_flag_starts_the_target_before_any_client() {
    let busy = build_fixture("busy", &GoToolchain::find("1.26"), &BuildOptions::debug());
    let server = Server::start(&[
        "exec",
        busy.to_str().unwrap(),
        "--headless",
        "--listen=127.0.0.1:0",
        "--api-version=2",
        "--accept-multiclient",
        "--continue",
        "--",
        "spin",
        "60",
    ]);
    std::thread::sleep(Duration::from_millis(300));
    let mut client = server.client();
    let state = client.call("State", json!({"NonBlocking": true})).unwrap();
    assert_eq!(state["State"]["Running"], json!(true), "{state}");
    client.call("Command", json!({"name": "halt"})).unwrap();
    client.call("Detach", json!({"Kill": true})).unwrap();
}

#[test]
fn disassembly_matches_go_tool_objdump() {
    let toolchain = GoToolchain::find("1.26");
    let binary = hello("1.26");
    let server = Server::exec(&binary);
    let mut client = server.client();
    let entry = ferret_testkit::oracle::nm(&toolchain, &binary)
        .into_iter()
        .find(|s| s.name == "main.main")
        .expect("main.main")
        .address;
    let reply = client
        .call(
            "Disassemble",
            json!({"StartPC": entry, "EndPC": 0, "Flavour": 1}),
        )
        .unwrap();
    let ours: Vec<(u64, String)> = reply["Disassemble"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["Loc"]["pc"].as_u64().unwrap(),
                i["Loc"]["line"].to_string(),
            )
        })
        .collect();
    let theirs: Vec<(u64, String)> =
        ferret_testkit::oracle::objdump(&toolchain, &binary, r"^main\.main$")
            .into_iter()
            .map(|i| (i.address, i.line.to_string()))
            .collect();
    assert_eq!(ours, theirs, "instruction addresses and lines of main.main");
    let err = client
        .call("Disassemble", json!({"StartPC": 0, "EndPC": 0}))
        .unwrap_err();
    assert_eq!(err, "address 0x0 does not belong to any function");
    client.call("Detach", json!({"Kill": true})).unwrap();
}

#[test]
fn only_the_same_user_may_connect_to_a_loopback_server() {
    if !running_as_root() {
        eprintln!("skipping only_the_same_user_may_connect_to_a_loopback_server: creating another user needs root");
        return;
    }
    let (uid, gid) = other_user();
    let binary = hello("1.26");
    let server = Server::exec(&binary);
    // A client running as another user is closed on at once with nothing sent.
    let (host, port) = server.addr.rsplit_once(':').unwrap();
    let script = format!(
        "import socket\n\
         s = socket.create_connection(('{host}', {port}))\n\
         s.settimeout(10)\n\
         try:\n\
         \x20   s.sendall(b'{{\"method\":\"RPCServer.IsMulticlient\",\"params\":[{{}}],\"id\":1}}')\n\
         \x20   print(repr(s.recv(100)))\n\
         except ConnectionResetError:\n\
         \x20   print(repr(b''))\n"
    );
    // Isolated Python in `/`: the user's home and the test's working
    // directory play no part.
    let out = Command::new("setpriv")
        .args([
            &format!("--reuid={uid}"),
            &format!("--regid={gid}"),
            "--clear-groups",
            "/usr/bin/python3",
            "-I",
            "-c",
            &script,
        ])
        .current_dir("/")
        .output()
        .expect("run setpriv");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "client as {OTHER_USER} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        stdout.trim(),
        "b''",
        "another user's client must get nothing"
    );
    // The same user is served.
    let mut client = server.client();
    assert_eq!(
        client.call("IsMulticlient", json!({})).unwrap(),
        json!({"IsMulticlient": true})
    );
    client.call("Detach", json!({"Kill": true})).unwrap();
}

/// The user the same-user test connects as.
const OTHER_USER: &str = "ferret-test-other";

/// Whether this test runs with effective uid 0.
fn running_as_root() -> bool {
    let out = Command::new("id").arg("-u").output().expect("run id");
    String::from_utf8_lossy(&out.stdout).trim() == "0"
}

/// Creates [`OTHER_USER`] (a system user without a home) unless an earlier
/// run did, and returns its uid and gid.
fn other_user() -> (String, String) {
    let out = Command::new("useradd")
        .args([
            "--system",
            "--no-create-home",
            "--shell",
            "/usr/sbin/nologin",
            OTHER_USER,
        ])
        .output()
        .expect("run useradd");
    // Exit status 9: the user exists already.
    assert!(
        matches!(out.status.code(), Some(0 | 9)),
        "useradd {OTHER_USER}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let id = |flag: &str| {
        let out = Command::new("id")
            .args([flag, OTHER_USER])
            .output()
            .expect("run id");
        assert!(
            out.status.success(),
            "id {flag} {OTHER_USER}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    };
    (id("-u"), id("-g"))
}

#[test]
fn an_attached_target_keeps_running_after_detach_and_debug_builds_the_package() {
    let (pid, log, mut server) = attach_to_heartbeat("server-attach");
    let mut client = server.client();
    assert_eq!(
        client.call("AttachedToExistingProcess", json!({})).unwrap(),
        json!({"Answer": true})
    );
    assert_eq!(
        client.call("ProcessPid", json!({})).unwrap()["Pid"],
        json!(pid)
    );
    client
        .call(
            "CreateBreakpoint",
            json!({"Breakpoint": {}, "LocExpr": "main.beat"}),
        )
        .unwrap();
    let stopped = client.call("Command", json!({"name": "continue"})).unwrap();
    assert_eq!(
        stopped["State"]["currentThread"]["function"]["name"],
        json!("main.beat")
    );
    client.call("Detach", json!({"Kill": false})).unwrap();
    assert!(server.wait_exit(Duration::from_secs(10)).is_some());
    assert!(
        still_beating(&log),
        "the attached program stopped beating after Detach"
    );
    nix_kill(pid);

    // `ferret debug` builds the package in the working directory.
    let mut child = Command::new(ferret_testkit::ferret_binary())
        .args([
            "debug",
            "--headless",
            "--listen=127.0.0.1:0",
            "--accept-multiclient",
        ])
        .current_dir(fixture_dir("hello"))
        .env("GOTOOLCHAIN", "local")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut line = String::new();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    stdout.read_line(&mut line).unwrap();
    std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
    let addr = line
        .trim()
        .strip_prefix("API server listening at: ")
        .expect("startup line")
        .to_owned();
    let mut client = RpcClient::connect(&addr).unwrap();
    let location = client
        .call("FindLocation", json!({"Loc": "main.main"}))
        .unwrap();
    assert_eq!(
        location["Locations"][0]["function"]["name"],
        json!("main.main")
    );
    client.call("Detach", json!({"Kill": true})).unwrap();
    let _ = child.wait();
}

/// Starts the busy fixture's heartbeat (logging into a fresh scratch
/// directory named after `name`) and a multiclient `ferret attach` on it.
fn attach_to_heartbeat(name: &str) -> (i32, PathBuf, Server) {
    let busy = build_fixture("busy", &GoToolchain::find("1.26"), &BuildOptions::debug());
    let dir = ferret_testkit::target_dir()
        .join("scratch")
        .join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let log = dir.join("beats.txt");
    let pid = start_heartbeat(&busy, &log);
    let server = Server::start(&[
        "attach",
        &pid.to_string(),
        "--headless",
        "--listen=127.0.0.1:0",
        "--accept-multiclient",
    ]);
    (pid, log, server)
}

/// Starts the busy fixture's heartbeat outside this test's children (as an
/// attach target would be) and returns its pid.
fn start_heartbeat(busy: &Path, log: &Path) -> i32 {
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "'{}' heartbeat '{}' >/dev/null 2>&1 & echo $!",
            busy.display(),
            log.display()
        ))
        .output()
        .unwrap();
    let pid = String::from_utf8_lossy(&out.stdout).trim().parse().unwrap();
    std::thread::sleep(Duration::from_millis(200));
    pid
}

/// Whether the heartbeat log grows over 300 ms.
fn still_beating(log: &Path) -> bool {
    let count = || {
        std::fs::read_to_string(log)
            .map(|t| t.lines().count())
            .unwrap_or(0)
    };
    let before = count();
    std::thread::sleep(Duration::from_millis(300));
    count() > before
}

fn nix_kill(pid: i32) {
    let _ = Command::new("kill").arg("-9").arg(pid.to_string()).status();
}

#[test]
fn clients_beyond_the_limit_get_an_error() {
    let binary = hello("1.26");
    let server = Server::start(&[
        "exec",
        binary.to_str().unwrap(),
        "--headless",
        "--listen=127.0.0.1:0",
        "--accept-multiclient",
        "--max-clients=2",
    ]);
    let mut a = server.client();
    let mut b = server.client();
    a.call("IsMulticlient", json!({})).unwrap();
    b.call("IsMulticlient", json!({})).unwrap();
    let mut c = server.client();
    let reply = c
        .request(&json!({"method": "RPCServer.IsMulticlient", "params": [{}], "id": 1}))
        .expect("an error reply");
    assert_eq!(
        reply["error"],
        json!("too many clients: this server accepts at most 2 at once")
    );
    // Room again once a client leaves.
    drop(b);
    std::thread::sleep(Duration::from_millis(200));
    let mut d = server.client();
    assert_eq!(
        d.call("IsMulticlient", json!({})).unwrap(),
        json!({"IsMulticlient": true})
    );
    a.call("Detach", json!({"Kill": true})).unwrap();
}

#[test]
fn sigterm_detaches_from_an_attached_target_which_runs_on() {
    let (pid, log, mut server) = attach_to_heartbeat("sigterm");
    let mut client = server.client();
    let bp = client
        .call(
            "CreateBreakpoint",
            json!({"Breakpoint": {}, "LocExpr": "main.beat"}),
        )
        .unwrap();
    let addr = bp["Breakpoint"]["addr"].as_u64().unwrap();
    client
        .send(&json!({"method": "RPCServer.Command", "params": [{"name": "continue"}], "id": 7}))
        .unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let status = Command::new("kill")
        .arg("-TERM")
        .arg(server.child.id().to_string())
        .status()
        .unwrap();
    assert!(status.success());
    assert!(
        server.wait_exit(Duration::from_secs(10)).is_some(),
        "server ignored SIGTERM"
    );
    // The target runs on, untraced and without our int3.
    assert!(
        still_beating(&log),
        "the attached target stopped after the server's SIGTERM"
    );
    let status_text = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    assert!(status_text.contains("TracerPid:\t0"), "still traced");
    let mut byte = [0u8];
    std::fs::File::open(format!("/proc/{pid}/mem"))
        .and_then(|f| std::os::unix::fs::FileExt::read_exact_at(&f, &mut byte, addr))
        .unwrap();
    assert_ne!(byte[0], 0xcc, "breakpoint left in the target");
    nix_kill(pid);
}
