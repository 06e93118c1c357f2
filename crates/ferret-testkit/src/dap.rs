//! DAP servers for tests, the DebugClient harness that drives them, and
//! a minimal blocking DAP client ([`DapClient`]).
//!
//! A [`DapServer`] is either a `dap` server (`dlv dap` / `ferret dap`: the
//! client's `launch` request starts the program) or a headless server
//! (`dlv exec` / `ferret exec ... --headless --accept-multiclient`: the
//! program is already loaded and the client sends `attach` with mode
//! `remote`). It is stopped when dropped, whether the test passed or not,
//! together with every program it started.
//!
//! [`run_debugclient`] runs `tests/dap-clients/debugclient/session.js`,
//! which drives one session with Microsoft's DAP test client
//! (`@vscode/debugadapter-testsupport`, installed by
//! `scripts/install-tools`).

use std::collections::VecDeque;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use std::io::Write;
use std::net::TcpStream;

use serde_json::{json, Value};

use crate::delve::Delve;
use crate::repo_root;

/// Which debugger serves DAP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DapDebugger {
    /// The reference, `.toolchains/dlv/dlv`.
    Dlv,
    /// ferret's own binary ([`crate::ferret_binary`]).
    Ferret,
}

impl DapDebugger {
    /// The executable.
    pub fn binary(self) -> PathBuf {
        match self {
            DapDebugger::Dlv => Delve::installed(),
            DapDebugger::Ferret => crate::ferret_binary(),
        }
    }

    /// `dlv` or `ferret`.
    pub fn name(self) -> &'static str {
        match self {
            DapDebugger::Dlv => "dlv",
            DapDebugger::Ferret => "ferret",
        }
    }
}

/// How a DAP client reaches the program.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DapEntry {
    /// `<debugger> dap --listen=127.0.0.1:0`, then `launch` with mode `exec`.
    LaunchExec,
    /// `<debugger> exec PROGRAM --headless --listen=127.0.0.1:0
    /// --api-version=2 --accept-multiclient [-- ARGS]`, then `attach` with
    /// mode `remote`.
    RemoteAttach,
}

impl DapEntry {
    /// The DAP request the client sends: `launch` or `attach`.
    pub fn request(self) -> &'static str {
        match self {
            DapEntry::LaunchExec => "launch",
            DapEntry::RemoteAttach => "attach",
        }
    }
}

/// A running DAP-capable server; killed (with what it started) on drop.
pub struct DapServer {
    child: Child,
    /// `dlv`/`ferret` and how it was started, for messages.
    pub description: String,
    /// Where it listens (`127.0.0.1:PORT`).
    pub addr: String,
    /// The port of [`DapServer::addr`].
    pub port: u16,
    output: Arc<Mutex<Vec<u8>>>,
    /// Programs it started (pid, executable), killed on drop if still there.
    debuggees: Vec<(u32, PathBuf)>,
}

impl DapServer {
    /// Starts the server `entry` needs: a `dap` server for
    /// [`DapEntry::LaunchExec`] (`program` and `args` then go in the
    /// client's `launch` request), or a headless server on `program` with
    /// `args` for [`DapEntry::RemoteAttach`].
    pub fn start(
        debugger: DapDebugger,
        entry: DapEntry,
        program: &Path,
        args: &[&str],
    ) -> DapServer {
        match entry {
            DapEntry::LaunchExec => DapServer::dap(debugger),
            DapEntry::RemoteAttach => DapServer::headless_exec(debugger, program, args),
        }
    }

    /// `<debugger> dap --listen=127.0.0.1:0`, once it prints
    /// `DAP server listening at: 127.0.0.1:PORT`.
    pub fn dap(debugger: DapDebugger) -> DapServer {
        let args = ["dap".to_owned(), "--listen=127.0.0.1:0".to_owned()];
        DapServer::spawn(debugger, &args, "DAP server listening at: ", None)
    }

    /// `<debugger> exec PROGRAM --headless --listen=127.0.0.1:0
    /// --api-version=2 --accept-multiclient [-- ARGS]`, once it prints
    /// `API server listening at: 127.0.0.1:PORT`.
    pub fn headless_exec(
        debugger: DapDebugger,
        program: &Path,
        program_args: &[&str],
    ) -> DapServer {
        let mut args = vec!["exec".to_owned(), program.display().to_string()];
        args.extend(
            [
                "--headless",
                "--listen=127.0.0.1:0",
                "--api-version=2",
                "--accept-multiclient",
            ]
            .map(String::from),
        );
        if !program_args.is_empty() {
            args.push("--".to_owned());
            args.extend(program_args.iter().map(|a| a.to_string()));
        }
        DapServer::spawn(debugger, &args, "API server listening at: ", Some(program))
    }

    fn spawn(
        debugger: DapDebugger,
        args: &[String],
        banner: &str,
        program: Option<&Path>,
    ) -> DapServer {
        let binary = debugger.binary();
        let description = format!("{} {}", debugger.name(), args.join(" "));
        let mut command = Command::new(&binary);
        if debugger == DapDebugger::Dlv {
            // dlv's telemetry (golang.org/x/telemetry) forks a sidecar that
            // outlives dlv; "2" tells it that it runs under that sidecar,
            // where it starts nothing.
            command.env("GO_TELEMETRY_CHILD", "2");
        }
        let mut child = command
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
        let output = Arc::new(Mutex::new(Vec::new()));
        // The server's stdout (shared with the program it runs) and stderr
        // are read to the end, or the program's writes would die of SIGPIPE
        // or block; the first line naming the address is passed on.
        let (tx, rx) = mpsc::channel();
        let stdout = child.stdout.take().expect("server stdout");
        let banner_owned = banner.to_owned();
        let out = Arc::clone(&output);
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            let mut line = Vec::new();
            let mut sent = false;
            while reader.read_until(b'\n', &mut line).unwrap_or(0) > 0 {
                out.lock().unwrap().extend_from_slice(&line);
                let text = String::from_utf8_lossy(&line);
                if !sent {
                    if let Some(addr) = text.trim().strip_prefix(banner_owned.as_str()) {
                        let _ = tx.send(addr.to_owned());
                        sent = true;
                    }
                }
                line.clear();
            }
        });
        let mut stderr = child.stderr.take().expect("server stderr");
        let err = Arc::clone(&output);
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = stderr.read(&mut buf) {
                if n == 0 {
                    break;
                }
                err.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        });
        let mut server = DapServer {
            child,
            description,
            addr: String::new(),
            port: 0,
            output,
            debuggees: Vec::new(),
        };
        let addr = match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(addr) => addr,
            Err(_) => {
                let status = server.wait_exit(Duration::from_secs(1));
                panic!(
                    "{} printed no {banner:?} line (exit: {status:?}); its output:\n{}",
                    server.description,
                    server.output()
                )
            }
        };
        server.port = addr
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("no port in {addr:?}"));
        server.addr = addr;
        // A headless server has started its program by now.
        if let Some(program) = program {
            for pid in descendants(server.child.id()) {
                server.adopt(pid, program);
            }
        }
        server
    }

    /// Everything the server (and the program it runs) printed so far.
    pub fn output(&self) -> String {
        String::from_utf8_lossy(&self.output.lock().unwrap()).into_owned()
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Records process `pid`, running `program`, as started by this server:
    /// it is killed on drop if still there.
    pub fn adopt(&mut self, pid: u32, program: &Path) {
        if is_running(pid, program) {
            self.debuggees.push((pid, program.to_owned()));
        }
    }

    /// Waits up to `timeout` for the server to exit by itself.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            match self.child.try_wait() {
                Ok(Some(status)) => return Some(status),
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(20))
                }
                _ => return None,
            }
        }
    }

    /// The programs this server started that still run.
    pub fn live_debuggees(&self) -> Vec<u32> {
        self.debuggees
            .iter()
            .filter(|(pid, program)| is_running(*pid, program))
            .map(|(pid, _)| *pid)
            .collect()
    }
}

impl Drop for DapServer {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            // SIGTERM first: dlv (and ferret) then kill a program they
            // launched and detach from one they attached to.
            let running: Vec<u32> = descendants(self.child.id());
            signal("TERM", self.child.id());
            if self.wait_exit(Duration::from_secs(5)).is_none() {
                let _ = self.child.kill();
                let _ = self.child.wait();
            }
            for pid in running {
                signal("KILL", pid);
            }
        }
        for pid in self.live_debuggees() {
            signal("KILL", pid);
        }
    }
}

/// `kill -SIGNAL PID`, quietly (the process may be gone already).
fn signal(name: &str, pid: u32) {
    let _ = Command::new("kill")
        .arg(format!("-{name}"))
        .arg(pid.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

/// The parent process id of `pid` (from `/proc/PID/stat`).
fn parent_of(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // "PID (COMM) STATE PPID ...": COMM may hold spaces and parentheses.
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(1)?.parse().ok()
}

/// Every live descendant of `pid`.
pub fn descendants(pid: u32) -> Vec<u32> {
    let all: Vec<(u32, u32)> = std::fs::read_dir("/proc")
        .map(|dir| {
            dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
                .filter_map(|p| Some((p, parent_of(p)?)))
                .collect()
        })
        .unwrap_or_default();
    let mut found = vec![pid];
    let mut i = 0;
    while i < found.len() {
        let parent = found[i];
        found.extend(all.iter().filter(|(_, pp)| *pp == parent).map(|(p, _)| *p));
        i += 1;
    }
    found.remove(0);
    found
}

/// Whether process `pid` exists, is not a zombie, and runs `program`.
fn is_running(pid: u32, program: &Path) -> bool {
    let zombie = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| Some(s[s.rfind(')')? + 1..].trim_start().starts_with('Z')))
        .unwrap_or(true);
    let exe = std::fs::read_link(format!("/proc/{pid}/exe")).ok();
    let program = program
        .canonicalize()
        .unwrap_or_else(|_| program.to_owned());
    !zombie && exe.is_some_and(|exe| exe == program)
}

/// What one run of the DebugClient harness did.
#[derive(Debug)]
pub struct DebugClientRun {
    /// Whether it exited 0 (every check passed).
    pub passed: bool,
    /// How it ended (`None`: killed after the time limit).
    pub status: Option<ExitStatus>,
    /// Its stdout and stderr: one line per step, and the failure if any.
    pub output: String,
    /// Process ids of the programs the server said it launched (the
    /// `process` event of a `launch`).
    pub launched_pids: Vec<u32>,
}

/// The directory of the DebugClient harness.
pub fn debugclient_dir() -> PathBuf {
    repo_root().join("tests/dap-clients/debugclient")
}

/// Configuration files written so far by this process (for unique names).
static CONFIGS_WRITTEN: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// The launch or attach configuration `docs/clients.md` shows for `entry`:
/// the JSON block after its `<!-- debugclient: launch|attach -->` marker,
/// with `${workspaceFolder}` replaced by `workspace`.
pub fn documented_configuration(entry: DapEntry, workspace: &Path) -> Value {
    let doc_path = repo_root().join("docs/clients.md");
    let doc = std::fs::read_to_string(&doc_path).expect("docs/clients.md");
    let marker = format!("<!-- debugclient: {} -->", entry.request());
    let after = doc
        .split_once(&marker)
        .unwrap_or_else(|| panic!("docs/clients.md has no {marker}"))
        .1;
    let block = after
        .split_once("```json")
        .and_then(|(_, rest)| rest.split_once("```"))
        .map(|(block, _)| block)
        .unwrap_or_else(|| panic!("no json block after {marker} in docs/clients.md"));
    let block = block.replace("${workspaceFolder}", workspace.to_str().unwrap());
    serde_json::from_str(&block)
        .unwrap_or_else(|e| panic!("the block after {marker} in docs/clients.md is not JSON: {e}"))
}

/// Runs `node session.js` against the DAP server on `port`: session
/// `session` (`vars` or `panic`) with request `entry`, on `program` built
/// from `source` (its `main.go`), with `program_args` (used by `launch`;
/// for `attach` the server was given them), built with Go `go_version`
/// (`go1.26.8`). The configuration sent is the one docs/clients.md shows.
pub fn run_debugclient(
    port: u16,
    entry: DapEntry,
    session: &str,
    program: &Path,
    source: &Path,
    program_args: &[&str],
    go_version: &str,
) -> DebugClientRun {
    let dir = debugclient_dir();
    assert!(
        dir.join("node_modules/@vscode/debugadapter-testsupport")
            .exists(),
        "{}/node_modules is missing: run scripts/install-tools (needs node and npm)",
        dir.display()
    );
    let mut cmd = Command::new("node");
    cmd.current_dir(&dir)
        .arg("session.js")
        .args(["--port", &port.to_string()])
        .args(["--request", entry.request()])
        .args(["--session", session])
        .arg("--program")
        .arg(program)
        .arg("--source")
        .arg(source);
    for arg in program_args {
        cmd.args(["--program-arg", arg]);
    }
    // The configuration a user copies from docs/clients.md.
    let workspace = source.parent().expect("the source's directory");
    let config = documented_configuration(entry, workspace);
    let config_file = crate::target_dir().join(format!(
        "dap-clients/config-{}-{}.json",
        std::process::id(),
        CONFIGS_WRITTEN.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
    ));
    std::fs::create_dir_all(config_file.parent().unwrap()).unwrap();
    std::fs::write(&config_file, config.to_string()).unwrap();
    cmd.arg("--config").arg(&config_file);
    cmd.args(["--go-version", go_version]);
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run node (install Node.js 20 or later): {e}"));
    let output = Arc::new(Mutex::new(Vec::new()));
    let readers: Vec<_> = [
        Box::new(child.stdout.take().expect("node stdout")) as Box<dyn Read + Send>,
        Box::new(child.stderr.take().expect("node stderr")),
    ]
    .into_iter()
    .map(|mut pipe| {
        let out = Arc::clone(&output);
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = pipe.read(&mut buf) {
                if n == 0 {
                    break;
                }
                out.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        })
    })
    .collect();
    // The script stops itself after 60 s; this is the backstop.
    let status = crate::terminal::wait_or_kill(&mut child, Duration::from_secs(120));
    for reader in readers {
        let _ = reader.join();
    }
    let output = String::from_utf8_lossy(&output.lock().unwrap()).into_owned();
    let launched_pids = output
        .lines()
        .filter_map(|l| l.strip_prefix("debuggee pid: ")?.trim().parse().ok())
        .collect();
    DebugClientRun {
        passed: status.is_some_and(|s| s.success()),
        status,
        output,
        launched_pids,
    }
}

// ---- a minimal DAP client, and dlv dap as an oracle ----

/// How long one message may take to arrive.
const READ_TIMEOUT: Duration = Duration::from_secs(60);

/// Reads one framed DAP message from `stream`.
pub fn read_message(stream: &mut impl Read) -> std::io::Result<Value> {
    let mut reader = BufReader::new(ByteAtATime(stream));
    read_framed(&mut reader)
}

/// Reads byte by byte so nothing past the message is consumed.
struct ByteAtATime<'a, R: Read>(&'a mut R);

impl<R: Read> Read for ByteAtATime<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = buf.len().min(1);
        self.0.read(&mut buf[..n])
    }
}

fn read_framed(reader: &mut impl BufRead) -> std::io::Result<Value> {
    let mut length = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            if name.eq_ignore_ascii_case("Content-Length") {
                length = value.trim().parse::<usize>().ok();
            }
        }
    }
    let length = length.ok_or_else(|| std::io::Error::other("no Content-Length"))?;
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    serde_json::from_slice(&body).map_err(std::io::Error::other)
}

/// A DAP connection.
pub struct DapClient {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
    seq: i64,
    /// Events received while waiting for responses, oldest first.
    events: VecDeque<Value>,
    /// Every event received, oldest first (kept after `wait_event`).
    all_events: Vec<Value>,
}

impl DapClient {
    /// Connects to a DAP server at `addr` (`HOST:PORT`).
    pub fn connect(addr: &str) -> io::Result<DapClient> {
        let stream = TcpStream::connect(addr)?;
        stream.set_read_timeout(Some(READ_TIMEOUT))?;
        stream.set_nodelay(true)?;
        Ok(DapClient {
            reader: BufReader::new(stream.try_clone()?),
            writer: stream,
            seq: 0,
            events: VecDeque::new(),
            all_events: Vec::new(),
        })
    }

    /// Sends request `command` with `arguments` (none when `Null`) and
    /// returns its response, successful or not. Panics when the
    /// connection fails.
    pub fn request(&mut self, command: &str, arguments: Value) -> Value {
        self.seq += 1;
        let mut message = json!({"seq": self.seq, "type": "request", "command": command});
        if !arguments.is_null() {
            message["arguments"] = arguments;
        }
        let body = message.to_string();
        // One write per message: with small writes, Nagle's algorithm and
        // delayed acknowledgements cost tens of milliseconds a request.
        let framed = format!("Content-Length: {}\r\n\r\n{body}", body.len());
        self.writer
            .write_all(framed.as_bytes())
            .unwrap_or_else(|e| panic!("send {command}: {e}"));
        loop {
            let received = self.receive();
            if received["type"] == "response" && received["request_seq"] == self.seq {
                return received;
            }
            if received["type"] == "event" {
                self.events.push_back(received);
            }
        }
    }

    /// Waits for event `name` (perhaps already received), dropping the
    /// events before it.
    pub fn wait_event(&mut self, name: &str) -> Value {
        while let Some(event) = self.events.pop_front() {
            if event["event"] == name {
                return event;
            }
        }
        loop {
            let received = self.receive();
            if received["type"] == "event" && received["event"] == name {
                return received;
            }
        }
    }

    /// Every event received so far, oldest first.
    pub fn received_events(&self) -> &[Value] {
        &self.all_events
    }

    /// Reads one message. Panics when the connection fails.
    fn receive(&mut self) -> Value {
        let message =
            read_framed(&mut self.reader).unwrap_or_else(|e| panic!("read a DAP message: {e}"));
        if message["type"] == "event" {
            self.all_events.push(message.clone());
        }
        message
    }

    /// `initialize` with the arguments VS Code sends; returns the response.
    pub fn initialize(&mut self) -> Value {
        self.request(
            "initialize",
            json!({"clientID": "vscode", "adapterID": "go", "pathFormat": "path",
                   "linesStartAt1": true, "columnsStartAt1": true,
                   "supportsVariableType": true, "supportsVariablePaging": true}),
        )
    }
}

/// A running `dlv dap` and a connection to it; the session is ended and
/// dlv stopped when dropped.
pub struct DelveDap {
    child: Child,
    /// The connection.
    pub client: DapClient,
}

impl DelveDap {
    /// Starts `dlv dap` on a loopback port and connects to it.
    pub fn start() -> DelveDap {
        let dlv = Delve::installed();
        let mut child = Command::new(&dlv)
            .args(["dap", "--listen=127.0.0.1:0"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start dlv dap");
        let mut stdout = BufReader::new(child.stdout.take().expect("dlv stdout"));
        let mut banner = String::new();
        stdout.read_line(&mut banner).expect("read dlv banner");
        // A launched program shares this stdout: keep draining it.
        std::thread::spawn(move || io::copy(&mut stdout, &mut io::sink()));
        let addr = banner
            .trim()
            .strip_prefix("DAP server listening at: ")
            .unwrap_or_else(|| panic!("unexpected dlv dap banner: {banner:?}"))
            .to_owned();
        let client = DapClient::connect(&addr).expect("connect to dlv dap");
        DelveDap { child, client }
    }
}

impl Drop for DelveDap {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
