//! Differential DAP tests: one scripted session, run by the go-dap client
//! in `tests/dap-clients/godap/` against dlv and against ferret, the two
//! transcripts compared.
//!
//! The client (built once per source hash and Go version, cached under
//! `target/dap-clients/`) connects to a server, runs a scenario against
//! the `vars` fixture and prints a JSON document:
//!
//! ```text
//! {"scenario": NAME, "result": "ok" | why it stopped early,
//!  "steps": [{"request": {...} | "action": "...", "raw"?: true,
//!             "received": [message, ...]}, ...]}
//! ```
//!
//! # Ordering rule
//!
//! A step is one request (or a client action: writing the debuggee's stdin,
//! connecting again); its `received` list is every message read after the
//! request went out and before the next one did, in arrival order. The
//! client sends the next request only when the step's completion condition
//! holds: the response to its request plus each event the script names for
//! it (`stopped` after a run request, `invalidated` after `setVariable`,
//! `exited` and `terminated` at the end, `eof` when the server must close
//! the connection). Those are the last messages dlv sends for each step,
//! so the split into steps does not depend on timing. Within a step, dlv
//! writes everything from one goroutine in sequence (e.g. `continued`,
//! then the `next` response, then `stopped`; `stopped` *before* the
//! `configurationDone` response when `stopOnEntry`), so [`compare`]
//! demands the same messages **in the same order**.
//!
//! # Normalization (done by the client, see its `main.go`)
//!
//! `seq` dropped (`request_seq` kept: the client numbers its requests);
//! `systemProcessId`, `(Thread N)` and `Process N` replaced; the program
//! path, the fixture's source directory, GOROOT, the server's address and
//! the Go version replaced by `<PROGRAM>`, `<SRC>`, `<GOROOT>`, `<ADDR>`,
//! `<GOVERSION>`; hex numbers at or above `0xc000000000` (heap, stacks)
//! numbered `<addr:N>` by first appearance (smaller ones, text and data
//! addresses of the one binary, are kept); map entries sorted (Go seeds map
//! hashing per process), and a map text Delve cut short replaced by a note;
//! in `threads`, goroutines standing in the runtime collapsed into one
//! `{"_runtime_goroutines": "elided"}` entry (which exist depends on the
//! garbage collector); in `initialize`, the capabilities ferret adds beyond
//! Delve's (`supportsLoadedSourcesRequest`) dropped, and so are ferret's
//! progress events (`progressStart`/`Update`/`End`). Everything else is
//! compared: names, values, types,
//! reasons, error ids and texts, handle numbers, key presence.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::Duration;

use serde_json::Value;

use crate::delve::Delve;
use crate::terminal::wait_or_kill;
use crate::toolchain::GoToolchain;
use crate::{repo_root, target_dir};

/// Which kind of server a scenario talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerKind {
    /// `dlv dap --listen=127.0.0.1:0`: one client, which launches.
    Dap,
    /// `dlv exec PROGRAM --headless --listen=127.0.0.1:0 --api-version=2
    /// --accept-multiclient`: the program already loaded, stopped at its
    /// entry point; DAP clients attach in `remote` mode.
    Headless,
}

/// One scripted session of the client.
#[derive(Debug, Clone, Copy)]
pub struct Scenario {
    /// The client's `--scenario` name, and the recorded file's stem.
    pub name: &'static str,
    /// The server it needs.
    pub server: ServerKind,
    /// What it does, for the recorded file.
    pub about: &'static str,
}

/// Every scenario the client knows.
pub const SCENARIOS: [Scenario; 4] = [
    Scenario {
        name: "launch",
        server: ServerKind::Dap,
        about: "VS Code-style launch (mode exec): line, no-statement and function breakpoints; \
                threads, stackTrace, scopes, variables (every kind, nested, paged), evaluate in \
                every context and failing, dlv commands, setVariable, readMemory, disassemble; \
                continue, stepOut, stepIn, next (one ended by a breakpoint), run to exit, disconnect",
    },
    Scenario {
        name: "remote",
        server: ServerKind::Headless,
        about: "remote attach with stopOnEntry to a headless multiclient dlv exec; stop at a line \
                breakpoint in main.inspect, look around, next, stepOut, disconnect terminating",
    },
    Scenario {
        name: "errors",
        server: ServerKind::Dap,
        about: "what dlv dap refuses: unknown command, requests before launch, bad initialize, \
                attach remote/local/bad mode, bad launches, bad breakpoints, requests while running \
                (the debuggee blocked reading a FIFO), unknown goroutine/frame/reference, bad \
                evaluate and setVariable, unsupported requests, stepBack, next of a missing \
                goroutine, requests after exit",
    },
    Scenario {
        name: "errors-remote",
        server: ServerKind::Headless,
        about: "what a headless dlv refuses: launch and local attach; then remote attach, a request \
                whose arguments do not decode (dlv drops the connection), and a second client that \
                attaches and ends the session",
    },
];

/// The scenario named `name`.
pub fn scenario(name: &str) -> Scenario {
    SCENARIOS
        .iter()
        .copied()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("no DAP scenario {name}"))
}

/// The implementation behind a server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Implementation {
    /// dlv from `.toolchains/dlv/dlv`.
    Dlv,
    /// ferret from [`crate::ferret_binary`].
    Ferret,
}

impl Implementation {
    /// A short name for messages.
    pub fn name(self) -> &'static str {
        match self {
            Implementation::Dlv => "dlv",
            Implementation::Ferret => "ferret",
        }
    }
}

/// The vars fixture built by one toolchain, as the client needs it.
#[derive(Debug, Clone)]
pub struct Target {
    /// The executable.
    pub program: PathBuf,
    /// Its source directory (`tests/fixtures/vars`).
    pub src: PathBuf,
    /// GOROOT of the toolchain that built it.
    pub goroot: String,
    /// That toolchain's version, e.g. `go1.26.8`.
    pub go_version: String,
}

impl Target {
    /// The vars fixture, debug build, by `toolchain`.
    pub fn vars(toolchain: &GoToolchain) -> Target {
        let program = crate::fixture::build_fixture(
            "vars",
            toolchain,
            &crate::fixture::BuildOptions::debug(),
        );
        let out = toolchain
            .command()
            .args(["env", "GOROOT"])
            .output()
            .expect("go env GOROOT");
        Target {
            program,
            src: crate::fixture::fixture_dir("vars"),
            goroot: String::from_utf8_lossy(&out.stdout).trim().to_owned(),
            go_version: toolchain.version.clone(),
        }
    }
}

/// A DAP server for one scenario; stopped (SIGTERM, then SIGKILL) when
/// dropped if it has not ended by itself.
pub struct DapServer {
    child: Child,
    /// Where it listens (`127.0.0.1:PORT`).
    pub addr: String,
}

impl DapServer {
    /// Starts `implementation` as a server of `kind` (a headless one
    /// debugging `program`).
    pub fn start(implementation: Implementation, kind: ServerKind, program: &Path) -> DapServer {
        let exe = match implementation {
            Implementation::Dlv => Delve::installed(),
            Implementation::Ferret => crate::ferret_binary(),
        };
        let mut cmd = Command::new(&exe);
        let banner = match kind {
            ServerKind::Dap => {
                cmd.args(["dap", "--listen=127.0.0.1:0"]);
                "DAP server listening at: "
            }
            ServerKind::Headless => {
                cmd.arg("exec").arg(program).args([
                    "--headless",
                    "--listen=127.0.0.1:0",
                    "--api-version=2",
                    "--accept-multiclient",
                ]);
                "API server listening at: "
            }
        };
        let mut child = cmd
            .env_remove("VARS_PAUSE")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("start {}: {e}", exe.display()));
        let mut stdout = BufReader::new(child.stdout.take().expect("server stdout"));
        let mut stderr = child.stderr.take().expect("server stderr");
        let stderr_text = std::sync::Arc::new(Mutex::new(Vec::new()));
        let sink = stderr_text.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = std::io::Read::read(&mut stderr, &mut buf) {
                if n == 0 {
                    break;
                }
                let mut text = sink.lock().unwrap_or_else(|e| e.into_inner());
                if text.len() < 64 * 1024 {
                    text.extend_from_slice(&buf[..n]);
                }
            }
        });
        let mut line = String::new();
        let _ = stdout.read_line(&mut line);
        // The launched program writes to the same stdout: keep draining it.
        std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
        let Some(addr) = line.trim().strip_prefix(banner).map(str::to_owned) else {
            let _ = wait_or_kill(&mut child, Duration::from_millis(500));
            std::thread::sleep(Duration::from_millis(50));
            let stderr = stderr_text.lock().unwrap_or_else(|e| e.into_inner());
            panic!(
                "{} printed {line:?}, not {banner:?}ADDR; its stderr:\n{}",
                implementation.name(),
                String::from_utf8_lossy(&stderr)
            );
        };
        DapServer { child, addr }
    }
}

impl Drop for DapServer {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            // SIGTERM lets a headless server kill the program it launched.
            let _ = Command::new("kill")
                .args(["-TERM", &self.child.id().to_string()])
                .status();
            let _ = wait_or_kill(&mut self.child, Duration::from_secs(3));
        }
    }
}

/// The go-dap client's source directory.
pub fn client_source_dir() -> PathBuf {
    repo_root().join("tests/dap-clients/godap")
}

static CLIENT: Mutex<Option<PathBuf>> = Mutex::new(None);

/// The go-dap client, built once per source hash and Go version with the
/// machine's `go` (or, without one, the first selected toolchain); the
/// build fetches go-dap through the module proxy the first time.
pub fn client() -> PathBuf {
    let mut cached = CLIENT.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(path) = cached.as_ref() {
        return path.clone();
    }
    let go = client_go();
    let source = client_source_dir();
    let mut hasher = DefaultHasher::new();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&source)
        .unwrap_or_else(|e| panic!("read {}: {e}", source.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    for file in &files {
        file.file_name().hash(&mut hasher);
        std::fs::read(file)
            .expect("read client source")
            .hash(&mut hasher);
    }
    go.version.hash(&mut hasher);
    let dir = target_dir().join("dap-clients").join(format!(
        "godap-{}-{:016x}",
        go.version,
        hasher.finish()
    ));
    let exe = dir.join("godap");
    if !exe.exists() {
        let staging = dir.with_extension(format!("tmp{}", std::process::id()));
        std::fs::create_dir_all(&staging).expect("create client staging directory");
        let out = go
            .command()
            .current_dir(&source)
            .env("GOFLAGS", "-buildvcs=false")
            .args(["build", "-o"])
            .arg(staging.join("godap"))
            .arg(".")
            .output()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", go.go.display()));
        assert!(
            out.status.success(),
            "building the go-dap client with {} failed:\n{}",
            go.version,
            String::from_utf8_lossy(&out.stderr)
        );
        if std::fs::rename(&staging, &dir).is_err() {
            let _ = std::fs::remove_dir_all(&staging);
        }
        assert!(
            exe.exists(),
            "client build left nothing at {}",
            exe.display()
        );
    }
    *cached = Some(exe.clone());
    exe
}

/// The toolchain that builds the client: any Go since 1.22 will do.
fn client_go() -> GoToolchain {
    machine_toolchain().unwrap_or_else(|| {
        GoToolchain::selected()
            .into_iter()
            .next()
            .expect("a Go toolchain to build the DAP client")
    })
}

/// The machine's own `go` (on `PATH`), if there is one.
pub fn machine_toolchain() -> Option<GoToolchain> {
    let version = Command::new("go")
        .args(["env", "GOVERSION"])
        .env("GOTOOLCHAIN", "local")
        .env_remove("GOROOT")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())?;
    Some(GoToolchain {
        selected: version.trim_start_matches("go").to_owned(),
        version,
        go: PathBuf::from("go"),
    })
}

/// Runs the client's `scenario` against a server at `addr`; returns its
/// document. Panics when the client cannot run at all.
pub fn run_client(addr: &str, scenario: &Scenario, target: &Target) -> Value {
    let out = Command::new(client())
        .args(["--addr", addr, "--scenario", scenario.name, "--program"])
        .arg(&target.program)
        .arg("--src")
        .arg(&target.src)
        .args([
            "--goroot",
            &target.goroot,
            "--goversion",
            &target.go_version,
        ])
        .stdin(Stdio::null())
        .output()
        .expect("run the go-dap client");
    assert!(
        out.status.success(),
        "the go-dap client failed ({}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "the go-dap client printed no JSON ({e}):\n{}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

/// Runs `scenario` against a fresh server of `implementation`; the server
/// is stopped before this returns.
pub fn run(implementation: Implementation, scenario: &Scenario, target: &Target) -> Value {
    let mut server = DapServer::start(implementation, scenario.server, &target.program);
    let mut doc = run_client(&server.addr, scenario, target);
    // Every scenario ends with what makes dlv exit (a disconnect that
    // terminates the debuggee): that the server ended is compared too.
    let ended = wait_for_exit(&mut server.child, Duration::from_secs(2)).is_some();
    doc["server_ended_by_itself"] = Value::Bool(ended);
    doc
}

/// Waits up to `timeout` for `child` to end by itself; leaves it running
/// otherwise (the caller's drop stops it).
fn wait_for_exit(child: &mut Child, timeout: Duration) -> Option<std::process::ExitStatus> {
    let deadline = std::time::Instant::now() + timeout;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Some(status),
            Ok(None) if std::time::Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(10))
            }
            _ => return None,
        }
    }
}

/// Compares two transcripts (`expected` from dlv, `actual` from the
/// implementation under test) by the rule in the module documentation;
/// `Err` carries a readable account of the first difference.
pub fn compare(expected: &Value, actual: &Value, labels: (&str, &str)) -> Result<(), String> {
    let (el, al) = labels;
    let empty = Vec::new();
    let steps = |doc: &Value| doc["steps"].as_array().unwrap_or(&empty).clone();
    let (es, as_) = (steps(expected), steps(actual));
    for (i, (e, a)) in es.iter().zip(&as_).enumerate() {
        if e == a {
            continue;
        }
        let mut out = format!("step {i}: {}\n", describe_step(e));
        if e.get("request") != a.get("request") || e.get("action") != a.get("action") {
            out += &format!(
                "  the scripts differ: {el} sent {}\n  {al} sent {}\n",
                compact(e.get("request").or(e.get("action"))),
                compact(a.get("request").or(a.get("action")))
            );
            return Err(out);
        }
        let (er, ar) = (
            e["received"].as_array().unwrap_or(&empty),
            a["received"].as_array().unwrap_or(&empty),
        );
        let j = er
            .iter()
            .zip(ar)
            .position(|(x, y)| x != y)
            .unwrap_or(er.len().min(ar.len()));
        out += &format!(
            "  {el} sent {} message(s): {}\n  {al} sent {} message(s): {}\n",
            er.len(),
            summary(er),
            ar.len(),
            summary(ar)
        );
        match (er.get(j), ar.get(j)) {
            (Some(x), Some(y)) => {
                if let Some(path) = first_difference(x, y, "") {
                    out += &format!("  message {j} first differs at {path}\n");
                }
                out += &format!("  {el}: {}\n  {al}: {}\n", pretty(x), pretty(y));
            }
            (Some(x), None) => out += &format!("  only {el} sent message {j}: {}\n", pretty(x)),
            (None, Some(y)) => out += &format!("  only {al} sent message {j}: {}\n", pretty(y)),
            (None, None) => {}
        }
        return Err(out);
    }
    if es.len() != as_.len() {
        let (longer, label) = if es.len() > as_.len() {
            (&es, el)
        } else {
            (&as_, al)
        };
        let n = es.len().min(as_.len());
        return Err(format!(
            "{el} ran {} steps, {al} {} ({el}: {}; {al}: {}); step {n}, only in {label}'s: {}",
            es.len(),
            as_.len(),
            expected["result"],
            actual["result"],
            describe_step(&longer[n])
        ));
    }
    if expected["result"] != actual["result"] {
        return Err(format!(
            "results differ: {el} {} / {al} {}",
            expected["result"], actual["result"]
        ));
    }
    if expected != actual {
        return Err(format!(
            "documents differ outside their steps:\n  {el}: {}\n  {al}: {}",
            compact(Some(expected)),
            compact(Some(actual))
        ));
    }
    Ok(())
}

/// Where two JSON values first differ, as a path (`.body.variables[3].value`).
pub fn first_difference(a: &Value, b: &Value, path: &str) -> Option<String> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let mut keys: Vec<&String> = x.keys().chain(y.keys()).collect();
            keys.sort();
            keys.dedup();
            keys.into_iter().find_map(|k| match (x.get(k), y.get(k)) {
                (Some(p), Some(q)) => first_difference(p, q, &format!("{path}.{k}")),
                (Some(_), None) | (None, Some(_)) => Some(format!("{path}.{k} (on one side only)")),
                (None, None) => None,
            })
        }
        (Value::Array(x), Value::Array(y)) => x
            .iter()
            .zip(y)
            .enumerate()
            .find_map(|(i, (p, q))| first_difference(p, q, &format!("{path}[{i}]")))
            .or_else(|| {
                (x.len() != y.len())
                    .then(|| format!("{path} (lengths {} and {})", x.len(), y.len()))
            }),
        _ if a == b => None,
        _ => Some(if path.is_empty() {
            ".".into()
        } else {
            path.into()
        }),
    }
}

fn describe_step(step: &Value) -> String {
    if let Some(action) = step.get("action") {
        return format!("({})", action.as_str().unwrap_or_default());
    }
    let request = &step["request"];
    format!(
        "{} {}",
        request["command"].as_str().unwrap_or("?"),
        compact(request.get("arguments"))
    )
}

fn summary(messages: &[Value]) -> String {
    messages
        .iter()
        .map(|m| {
            if let Some(e) = m.get("event").and_then(Value::as_str) {
                format!("event {e}")
            } else if m.get("type").and_then(Value::as_str) == Some("response") {
                format!(
                    "{} response{}",
                    m["command"].as_str().unwrap_or("?"),
                    if m["success"] == Value::Bool(false) {
                        " (error)"
                    } else {
                        ""
                    }
                )
            } else {
                compact(Some(m))
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn compact(v: Option<&Value>) -> String {
    let text = v.map(Value::to_string).unwrap_or_default();
    match text.char_indices().nth(300) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}

fn pretty(v: &Value) -> String {
    let text = serde_json::to_string_pretty(v).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    if lines.len() > 60 {
        format!(
            "{}\n    … ({} more lines)",
            lines[..60].join("\n    "),
            lines.len() - 60
        )
    } else {
        lines.join("\n    ")
    }
}

/// `proto-fixtures/dap/`, where the recorded dlv transcripts live.
pub fn recorded_dir() -> PathBuf {
    repo_root().join("proto-fixtures/dap")
}

/// The recorded transcript of `scenario`, if there is one.
pub fn recorded(scenario: &Scenario) -> Option<Value> {
    let path = recorded_dir().join(format!("{}.json", scenario.name));
    let text = std::fs::read_to_string(&path).ok()?;
    Some(
        serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display())),
    )
}

/// The dlv version string (`1.27.2`).
pub fn dlv_version() -> String {
    let out = Command::new(Delve::path())
        .arg("version")
        .output()
        .expect("dlv version");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("Version: "))
        .unwrap_or("?")
        .trim()
        .to_owned()
}

/// Wraps a dlv transcript with what it was recorded with, in the shape of
/// the files under `proto-fixtures/dap/`.
pub fn recording(scenario: &Scenario, target: &Target, doc: &Value) -> Value {
    let server = match scenario.server {
        ServerKind::Dap => "dlv dap --listen=127.0.0.1:0".to_owned(),
        ServerKind::Headless => {
            "dlv exec <PROGRAM> --headless --listen=127.0.0.1:0 --api-version=2 --accept-multiclient"
                .to_owned()
        }
    };
    serde_json::json!({
        "name": scenario.name,
        "about": scenario.about,
        "dlv_version": dlv_version(),
        "go_version": target.go_version,
        "fixture": "vars",
        "build": "debug",
        "server": server,
        "client": "tests/dap-clients/godap (github.com/google/go-dap v0.12.0)",
        "transcript": doc,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn doc(messages: Vec<Value>) -> Value {
        json!({"scenario": "t", "result": "ok", "steps": [
            {"request": {"seq": 1, "type": "request", "command": "next", "arguments": {"threadId": 1}},
             "received": messages}
        ]})
    }

    #[test]
    fn equal_transcripts_compare_equal() {
        let a = doc(vec![json!({"type": "event", "event": "continued"})]);
        assert_eq!(compare(&a, &a.clone(), ("dlv", "ferret")), Ok(()));
    }

    #[test]
    fn order_within_a_step_matters() {
        let a = doc(vec![
            json!({"type": "event", "event": "continued"}),
            json!({"type": "response", "command": "next", "success": true}),
        ]);
        let b = doc(vec![
            json!({"type": "response", "command": "next", "success": true}),
            json!({"type": "event", "event": "continued"}),
        ]);
        let err = compare(&a, &b, ("dlv", "ferret")).unwrap_err();
        assert!(err.contains("step 0: next"), "{err}");
        assert!(err.contains("event continued, next response"), "{err}");
        assert!(err.contains("message 0 first differs"), "{err}");
    }

    #[test]
    fn differences_are_located() {
        let a = json!({"body": {"variables": [{"name": "a", "value": "1"}]}});
        let b = json!({"body": {"variables": [{"name": "a", "value": "2"}]}});
        assert_eq!(
            first_difference(&a, &b, "").as_deref(),
            Some(".body.variables[0].value")
        );
        let c = json!({"body": {}});
        assert_eq!(
            first_difference(&a, &c, "").as_deref(),
            Some(".body.variables (on one side only)")
        );
    }

    #[test]
    fn a_missing_step_is_reported() {
        let a = doc(vec![]);
        let mut b = a.clone();
        b["steps"].as_array_mut().unwrap().clear();
        b["result"] = json!("step 0: no [response] within 10s");
        let err = compare(&a, &b, ("dlv", "ferret")).unwrap_err();
        assert!(err.contains("dlv ran 1 steps, ferret 0"), "{err}");
    }
}
