//! The real `dlv connect` terminal client, driven through a scripted session
//! against any headless server (dlv's own or ferret), with a normalized
//! transcript that can be compared line by line between the two.
//!
//! How the client is driven (learnt from dlv v1.27.2):
//!
//! - With stdin not a terminal, `--allow-non-terminal-interactive=true` lets
//!   the terminal run. Commands are not echoed and nothing is colored when
//!   `TERM=dumb`; each prompt is the bare `(dlv) ` with no newline. A command
//!   is written only once the previous prompt has appeared, so each
//!   command's output is known exactly (the output of command *i* is what
//!   comes between prompt *i* and prompt *i+1*).
//! - Yes/no questions (`exit` asks `Would you like to kill the headless
//!   instance? [Y/n] `, and for an attached process also `Would you like to
//!   kill the process? [Y/n] `) come through the same line reader; every one
//!   is answered `y`, so `exit` detaches with `Kill:true` and the server and
//!   its target go away.
//! - End of input makes the client print `exit`, ask its question, print
//!   `EOF` and quit with status 2 without detaching (a multiclient server
//!   stays up).
//! - The client shortens paths under its working directory to `./...`, so
//!   it runs in a private empty directory; it also reads a config file and
//!   writes its history under `$XDG_CONFIG_HOME/dlv`, and Go telemetry under
//!   `$XDG_CONFIG_HOME/go`, so `XDG_CONFIG_HOME` points at a private
//!   directory holding an empty config and telemetry mode `off`.
//! - stdout and stderr (where `Command failed: ...` goes) share one pipe so
//!   their order is kept.

use std::ffi::OsString;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use crate::delve::Delve;

/// The terminal's prompt, printed with no newline after it.
pub const PROMPT: &str = "(dlv) ";

/// The label of the first block: what the client prints on connecting,
/// before its first prompt.
pub const CONNECT: &str = "<connect>";

/// The label of the block that follows the end of input, when the script
/// did not make the client exit.
pub const END_OF_INPUT: &str = "<eof>";

/// What is written after a yes/no question; blocks show it as a terminal
/// would echo it.
const ANSWER: &str = "y";

/// The standard scripted session for `tests/fixtures/hello`: stop at
/// `main.main`, three `next`s to `c.Add(4)`, `step` into
/// `main.(*Counter).Add`, back out, look around, clear the breakpoint, run to
/// the end and exit (killing the server). [`basic_session`] derives the same
/// script from the source.
pub const BASIC_SESSION: &[&str] = &[
    "break main.main",
    "continue",
    "next",
    "next",
    "next",
    "step",
    "stepout",
    "bt",
    "breakpoints",
    "clear 1",
    "continue",
    "exit",
];

/// A `dlv connect` session as it happened.
#[derive(Debug, Clone, Default)]
pub struct Transcript {
    /// Everything the client printed (stdout and stderr in order), byte for
    /// byte, plus `[ferret-testkit: ...]` lines where the session did not
    /// go to plan (time-out, early exit).
    pub raw: String,
    /// `(command, its output)`, in order. The first block is [`CONNECT`];
    /// a last [`END_OF_INPUT`] block follows when the script did not exit.
    /// An output runs up to (not including) the next prompt; answers to
    /// yes/no questions are shown after the question as if echoed, and the
    /// `[ferret-testkit: ...]` notes are included.
    pub blocks: Vec<(String, String)>,
    /// The session ran out of time and the client was killed.
    pub timed_out: bool,
    /// How the client exited (`None` only if it could not be waited for).
    pub status: Option<ExitStatus>,
}

impl Transcript {
    /// The session as a terminal would have shown it: each command after a
    /// prompt, then its output.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for (command, output) in &self.blocks {
            if command != CONNECT {
                out.push_str(PROMPT);
                if command != END_OF_INPUT {
                    out.push_str(command);
                }
                out.push('\n');
            }
            out.push_str(output);
            if !output.is_empty() && !output.ends_with('\n') {
                out.push('\n');
            }
        }
        out
    }

    /// [`Transcript::render`] passed through [`normalize`].
    pub fn normalized(&self, fixture_dir: &Path, goroot: &Path) -> String {
        normalize(&self.render(), fixture_dir, goroot)
    }

    /// The output of the first block whose command is `command`.
    pub fn output_of(&self, command: &str) -> Option<&str> {
        self.blocks
            .iter()
            .find(|(c, _)| c == command)
            .map(|(_, o)| o.as_str())
    }
}

/// Runs `dlv connect ADDR` and types `commands` into it one at a time, each
/// after the previous prompt, answering `y` to every yes/no question. When
/// the script ends without the client exiting, stdin is closed. `timeout`
/// bounds the whole session: past it the client is killed, and the
/// transcript says so (`timed_out`, and a note in `raw` and in the block of
/// the command that was waiting). Never panics on a misbehaving server.
pub fn run_dlv_connect(addr: &str, commands: &[&str], timeout: Duration) -> Transcript {
    let deadline = Instant::now() + timeout;
    let dlv = Delve::installed();
    let home = PrivateDir::new("connect");
    write_dlv_config(home.path());
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(r#"exec 2>&1; exec "$0" "$@""#)
        .arg(&dlv)
        .args(["connect", addr, "--allow-non-terminal-interactive=true"])
        .current_dir(home.path())
        .env("TERM", "dumb")
        .env("XDG_CONFIG_HOME", home.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {} connect: {e}", dlv.display()));
    let output = Output::spawn_reader(child.stdout.take().expect("dlv connect stdout"));
    let stdin = child.stdin.take();
    let mut session = Session {
        child,
        stdin,
        output,
        cursor: 0,
        deadline,
        timeout,
        timed_out: false,
        notes: Vec::new(),
    };

    let mut blocks = Vec::new();
    let (text, mut end) = session.collect(CONNECT);
    blocks.push((CONNECT.to_owned(), text));
    let mut sent = 0;
    while end == End::Prompt && sent < commands.len() {
        let command = commands[sent];
        session.send(command);
        let (text, next_end) = session.collect(command);
        blocks.push((command.to_owned(), text));
        end = next_end;
        sent += 1;
    }
    if end == End::Prompt {
        // The script left the client running: end its input.
        session.stdin = None;
        let (text, _) = session.collect(END_OF_INPUT);
        blocks.push((END_OF_INPUT.to_owned(), text));
    }
    let status = session.finish();
    if sent < commands.len() {
        let unsent = commands[sent..]
            .iter()
            .map(|c| format!("`{c}`"))
            .collect::<Vec<_>>()
            .join(", ");
        let note = if end == End::TimedOut {
            format!("[ferret-testkit: not sent after the time-out: {unsent}]\n")
        } else {
            let status = status.map_or_else(|| "unknown status".to_owned(), |s| s.to_string());
            format!("[ferret-testkit: dlv connect exited ({status}) before these were sent: {unsent}]\n")
        };
        if let Some((_, output)) = blocks.last_mut() {
            if !output.is_empty() && !output.ends_with('\n') {
                output.push('\n');
            }
            output.push_str(&note);
        }
        session.notes.push(note);
    }
    let mut raw = session.output.text_from(0);
    for note in &session.notes {
        if !raw.ends_with('\n') && !raw.is_empty() {
            raw.push('\n');
        }
        raw.push_str(note);
    }
    Transcript {
        raw,
        blocks,
        timed_out: session.timed_out,
        status,
    }
}

/// How a block of output ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    /// The next prompt appeared.
    Prompt,
    /// The client exited (or closed its output).
    Exited,
    /// The deadline passed; the client has been killed.
    TimedOut,
}

/// What the client printed so far, filled by a reader thread.
struct Output {
    state: Mutex<(Vec<u8>, bool)>,
    grew: Condvar,
}

impl Output {
    fn spawn_reader(mut pipe: impl Read + Send + 'static) -> Arc<Output> {
        let output = Arc::new(Output {
            state: Mutex::new((Vec::new(), false)),
            grew: Condvar::new(),
        });
        let writer = Arc::clone(&output);
        std::thread::spawn(move || {
            let mut chunk = [0u8; 8192];
            loop {
                let n = pipe.read(&mut chunk).unwrap_or(0);
                let mut state = writer.state.lock().unwrap_or_else(|e| e.into_inner());
                if n == 0 {
                    state.1 = true;
                    writer.grew.notify_all();
                    return;
                }
                state.0.extend_from_slice(&chunk[..n]);
                writer.grew.notify_all();
            }
        });
        output
    }

    fn text_from(&self, from: usize) -> String {
        let state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        String::from_utf8_lossy(state.0.get(from..).unwrap_or_default()).into_owned()
    }
}

/// What [`Session::wait`] saw.
enum Event {
    /// A prompt ends the output; the index is just past it.
    Prompt(usize),
    /// A yes/no question ends the output; the index is just past it.
    Question(usize),
    /// The client is gone and its output complete.
    Exited,
    /// The deadline passed.
    TimedOut,
}

struct Session {
    child: Child,
    stdin: Option<ChildStdin>,
    output: Arc<Output>,
    /// Output before this index belongs to earlier blocks.
    cursor: usize,
    deadline: Instant,
    timeout: Duration,
    timed_out: bool,
    /// `[ferret-testkit: ...]` lines for `raw`.
    notes: Vec<String>,
}

impl Session {
    fn send(&mut self, line: &str) {
        if let Some(stdin) = &mut self.stdin {
            // A failed write means the client is gone; `collect` will see it.
            let _ = stdin
                .write_all(format!("{line}\n").as_bytes())
                .and_then(|()| stdin.flush());
        }
    }

    /// The output of one command: up to the next prompt, the client's exit
    /// or the deadline, answering yes/no questions on the way.
    fn collect(&mut self, command: &str) -> (String, End) {
        let mut text = String::new();
        loop {
            match self.wait() {
                Event::Prompt(end) => {
                    text.push_str(&self.slice(self.cursor, end - PROMPT.len()));
                    self.cursor = end;
                    return (text, End::Prompt);
                }
                Event::Question(end) => {
                    text.push_str(&self.slice(self.cursor, end));
                    self.cursor = end;
                    if self.stdin.is_some() {
                        text.push_str(ANSWER);
                        text.push('\n');
                        self.send(ANSWER);
                    } else {
                        // Input is closed: the client reads EOF; wait for it to go.
                        match self.wait_exit() {
                            Event::TimedOut => return self.timed_out_block(text, command),
                            _ => {
                                let rest = self.output.text_from(self.cursor);
                                self.cursor += rest.len();
                                text.push_str(&rest);
                                return (text, End::Exited);
                            }
                        }
                    }
                }
                Event::Exited => {
                    let rest = self.output.text_from(self.cursor);
                    self.cursor += rest.len();
                    text.push_str(&rest);
                    return (text, End::Exited);
                }
                Event::TimedOut => return self.timed_out_block(text, command),
            }
        }
    }

    fn timed_out_block(&mut self, mut text: String, command: &str) -> (String, End) {
        self.kill();
        let rest = self.output.text_from(self.cursor);
        self.cursor += rest.len();
        text.push_str(&rest);
        let note = format!(
            "[ferret-testkit: timed out after {:?} waiting for the output of `{command}`; dlv connect killed]\n",
            self.timeout
        );
        if !text.is_empty() && !text.ends_with('\n') {
            text.push('\n');
        }
        text.push_str(&note);
        self.notes.push(note);
        (text, End::TimedOut)
    }

    fn slice(&self, from: usize, to: usize) -> String {
        let state = self.output.state.lock().unwrap_or_else(|e| e.into_inner());
        String::from_utf8_lossy(&state.0[from..to]).into_owned()
    }

    /// Waits until the output after the cursor ends with a prompt or a
    /// question, or the client exits, or the deadline passes.
    fn wait(&mut self) -> Event {
        let output = Arc::clone(&self.output);
        let mut state = output.state.lock().unwrap_or_else(|e| e.into_inner());
        let mut exited_at: Option<Instant> = None;
        loop {
            let pending = &state.0[self.cursor..];
            if pending.ends_with(PROMPT.as_bytes()) {
                return Event::Prompt(state.0.len());
            }
            if ends_with_question(pending) {
                return Event::Question(state.0.len());
            }
            if state.1 {
                return Event::Exited;
            }
            let now = Instant::now();
            if now >= self.deadline {
                return Event::TimedOut;
            }
            // Something the client started may keep the pipe open after it
            // exits: give the reader a moment, then stop waiting for EOF.
            match exited_at {
                Some(at) if now.duration_since(at) > Duration::from_millis(500) => {
                    return Event::Exited
                }
                Some(_) => {}
                None => {
                    if matches!(self.child.try_wait(), Ok(Some(_))) {
                        exited_at = Some(now);
                    }
                }
            }
            let pause = (self.deadline - now).min(Duration::from_millis(50));
            state = output
                .grew
                .wait_timeout(state, pause)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    /// Waits for the client to exit, until the deadline.
    fn wait_exit(&mut self) -> Event {
        loop {
            if let Ok(Some(_)) = self.child.try_wait() {
                // Let the reader catch the last bytes.
                let output = Arc::clone(&self.output);
                let state = output.state.lock().unwrap_or_else(|e| e.into_inner());
                let _ = output
                    .grew
                    .wait_timeout_while(state, Duration::from_millis(500), |s| !s.1);
                return Event::Exited;
            }
            if Instant::now() >= self.deadline {
                return Event::TimedOut;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn kill(&mut self) {
        if !self.timed_out {
            self.timed_out = true;
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }

    /// Waits for the client to exit (killing it at the deadline) and
    /// returns its status.
    fn finish(&mut self) -> Option<ExitStatus> {
        self.stdin = None;
        if !self.timed_out {
            if let Event::TimedOut = self.wait_exit() {
                let note = format!(
                    "[ferret-testkit: dlv connect still running {:?} after the session started; killed]\n",
                    self.timeout
                );
                self.notes.push(note);
                self.kill();
            }
        }
        self.child.wait().ok()
    }
}

/// Whether `text` ends with a yes/no question such as `... [Y/n] `.
fn ends_with_question(text: &[u8]) -> bool {
    [b"[Y/n] ", b"[y/N] ", b"[y/n] "]
        .iter()
        .any(|q| text.ends_with(&q[..]))
}

/// A private directory under the system's temporary directory, removed on
/// drop.
struct PrivateDir(PathBuf);

impl PrivateDir {
    fn new(purpose: &str) -> PrivateDir {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!(
            "ferret-testkit-dlv-{purpose}-{}-{n}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path)
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", path.display()));
        PrivateDir(path)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for PrivateDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Fills an `XDG_CONFIG_HOME` for dlv: an empty `dlv/config.yml` (dlv's
/// defaults, whatever the user's own config says) and Go telemetry `off`
/// (no `dlv ** telemetry **` child, no counter files).
fn write_dlv_config(home: &Path) {
    let write = |relative: &str, text: &str| {
        let path = home.join(relative);
        if path.exists() {
            return;
        }
        let dir = path.parent().expect("config file has a parent");
        std::fs::create_dir_all(dir)
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
        // Write aside and rename, as several processes may share `home`.
        let staging = dir.join(format!(
            ".{}.{}",
            std::process::id(),
            path.file_name().unwrap().to_string_lossy()
        ));
        std::fs::write(&staging, text)
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", staging.display()));
        let _ = std::fs::rename(&staging, &path);
    };
    write(
        "dlv/config.yml",
        "# Written by ferret-testkit: dlv's defaults.\n",
    );
    write("go/telemetry/mode", "off\n");
}

/// Starts `dlv exec BINARY --headless --listen=127.0.0.1:0 --api-version=2
/// --accept-multiclient [-- ARGS]` and returns it with the address from its
/// `API server listening at: ADDR` line. The target's output (dlv's stdout
/// and stderr after that line) is read and dropped. dlv runs with telemetry
/// off and its default config.
pub fn start_dlv_headless(binary: &Path, args: &[&str]) -> (Child, String) {
    let mut dlv_args: Vec<OsString> = vec!["exec".into(), binary.into()];
    dlv_args.extend(HEADLESS_FLAGS.iter().map(OsString::from));
    if !args.is_empty() {
        dlv_args.push("--".into());
        dlv_args.extend(args.iter().map(OsString::from));
    }
    start_dlv_server(&dlv_args)
}

/// Starts `dlv core BINARY CORE` headless, as [`start_dlv_headless`] does
/// `dlv exec`.
pub fn start_dlv_core(binary: &Path, core: &Path) -> (Child, String) {
    let mut dlv_args: Vec<OsString> = vec!["core".into(), binary.into(), core.into()];
    dlv_args.extend(HEADLESS_FLAGS.iter().map(OsString::from));
    start_dlv_server(&dlv_args)
}

/// Starts `dlv attach PID` headless, as [`start_dlv_headless`] does
/// `dlv exec`.
pub fn start_dlv_attach(pid: u32) -> (Child, String) {
    let mut dlv_args: Vec<OsString> = vec!["attach".into(), pid.to_string().into()];
    dlv_args.extend(HEADLESS_FLAGS.iter().map(OsString::from));
    start_dlv_server(&dlv_args)
}

/// The flags that make dlv a headless server for any number of clients.
const HEADLESS_FLAGS: [&str; 4] = [
    "--headless",
    "--listen=127.0.0.1:0",
    "--api-version=2",
    "--accept-multiclient",
];

/// Runs dlv with `dlv_args` (a headless server) and returns it with the
/// address it listens at; its later output is read and dropped.
fn start_dlv_server(dlv_args: &[OsString]) -> (Child, String) {
    let dlv = Delve::installed();
    let home = crate::target_dir().join("ferret-testkit/dlv-config");
    write_dlv_config(&home);
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(r#"exec 2>&1; exec "$0" "$@""#)
        .arg(&dlv)
        .args(dlv_args)
        .env("XDG_CONFIG_HOME", &home)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", dlv.display()));
    let mut stdout = BufReader::new(child.stdout.take().expect("dlv stdout"));
    let mut seen = String::new();
    let addr = loop {
        let mut line = String::new();
        if stdout.read_line(&mut line).unwrap_or(0) == 0 {
            let _ = child.kill();
            let _ = child.wait();
            panic!("dlv {dlv_args:?} printed no `API server listening at:` line; it said:\n{seen}");
        }
        if let Some(addr) = line.trim_end().strip_prefix("API server listening at: ") {
            break addr.to_owned();
        }
        seen.push_str(&line);
    };
    std::thread::spawn(move || {
        let _ = std::io::copy(&mut stdout, &mut std::io::sink());
    });
    (child, addr)
}

/// Waits up to `timeout` for `child` (e.g. a headless server after `exit`)
/// to exit on its own; kills it past that. Returns its status if it exited
/// by itself, `None` if it had to be killed.
pub fn wait_or_kill(child: &mut Child, timeout: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + timeout;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Some(status),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
        }
    }
}

/// [`BASIC_SESSION`]'s shape derived from a fixture's `main.go`: stop where
/// three `next`s lead to the first line of `main` that calls a function or
/// method declared in that file (not through `go` or `defer`), so that
/// `step` enters it. The break is `break main.main` when that is where the
/// stop is (in `-N -l` builds dlv stops `main.main` on the `func main()`
/// line), else `break main.go:LINE`. Lines that `next` stops on are
/// approximated by the non-blank, non-comment lines of `main`'s body other
/// than a lone `}`, which holds for simple fixtures; dlv itself shows whether
/// `step` landed where expected.
pub fn basic_session(fixture_main_go: &Path) -> Vec<String> {
    let source = std::fs::read_to_string(fixture_main_go)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", fixture_main_go.display()));
    let lines: Vec<&str> = source.lines().collect();
    let functions: Vec<&str> = lines
        .iter()
        .filter_map(|l| declared_function(l))
        .filter(|n| *n != "main")
        .collect();
    let main_index = lines
        .iter()
        .position(|l| l.starts_with("func main()"))
        .unwrap_or_else(|| panic!("{} has no func main()", fixture_main_go.display()));
    let main_line = main_index + 1;
    let basename = fixture_main_go
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut stops = vec![main_line];
    for (index, line) in lines.iter().enumerate().skip(main_index + 1) {
        if *line == "}" {
            break;
        }
        let text = line.trim();
        if text.is_empty() || text.starts_with("//") || text == "}" {
            continue;
        }
        let deferred = text.starts_with("go ") || text.starts_with("defer ");
        if !deferred && stops.len() >= 3 && calls_any(text, &functions) {
            let stop = stops[stops.len() - 3];
            let brk = if stop == main_line {
                "break main.main".to_owned()
            } else {
                format!("break {basename}:{stop}")
            };
            let mut session = vec![brk];
            session.extend(BASIC_SESSION[1..].iter().map(|c| (*c).to_owned()));
            return session;
        }
        stops.push(index + 1);
    }
    panic!(
        "no line of main in {} calls a function of that file three lines in",
        fixture_main_go.display()
    )
}

/// The name declared by a `func` line (`func name(`, `func (r T) Name(`,
/// `func Name[T any](`).
fn declared_function(line: &str) -> Option<&str> {
    let rest = line.strip_prefix("func ")?;
    let rest = if rest.starts_with('(') {
        rest[rest.find(')')? + 1..].trim_start()
    } else {
        rest
    };
    let end = rest
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(rest.len());
    (end > 0).then(|| &rest[..end])
}

/// Whether `text` calls one of `functions` (`name(` or `name[`, not part of
/// a longer identifier).
fn calls_any(text: &str, functions: &[&str]) -> bool {
    functions.iter().any(|name| {
        text.match_indices(name).any(|(at, _)| {
            let before = text[..at].chars().next_back();
            let after = text[at + name.len()..].chars().next();
            !before.is_some_and(is_ident_char) && matches!(after, Some('(') | Some('['))
        })
    })
}

fn is_ident_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Makes a terminal transcript comparable between runs and servers.
///
/// Replaced: ANSI escapes and `\r` (removed); `fixture_dir` → `$FIXTURE` and
/// `goroot` → `$GOROOT` (as given and canonicalized); hex numbers of at
/// least `0x10000` (addresses; smaller ones are kept as values) →
/// `0x<addr>`, keeping leading zeros so padded and unpadded forms stay
/// apart; `Process N`/`pid N` → `<pid>`; `Thread N` → `<tid>`; the versions
/// after `Version:`, `Build: $Id: ... $`; RFC 3339 times → `<time>`; Go
/// durations (`1.5s`, `20ms`) → `<duration>` and `N minutes` → `<n>
/// minutes`.
///
/// Kept exact: file basenames, line numbers, function names, breakpoint
/// numbers and hit counts, goroutine ids, and source listing lines
/// (`=>  64:\t...`, `    65:\t...`), which only lose their colors.
pub fn normalize(text: &str, fixture_dir: &Path, goroot: &Path) -> String {
    let text = normalize_paths(text, fixture_dir, goroot);
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        if is_source_listing(line) {
            out.push_str(line);
        } else {
            out.push_str(&normalize_line(line));
        }
    }
    out
}

/// The first step of [`normalize`] alone: ANSI escapes and `\r` removed,
/// `fixture_dir` → `$FIXTURE` and `goroot` → `$GOROOT`; everything else
/// (addresses, ids) is kept, as suits two servers reading the same core.
pub fn normalize_paths(text: &str, fixture_dir: &Path, goroot: &Path) -> String {
    let mut text = strip_ansi(text).replace('\r', "");
    let mut paths: Vec<(String, &str)> = Vec::new();
    for (path, token) in [(fixture_dir, "$FIXTURE"), (goroot, "$GOROOT")] {
        let given = path.to_string_lossy().trim_end_matches('/').to_owned();
        if let Ok(canonical) = path.canonicalize() {
            let canonical = canonical.to_string_lossy().trim_end_matches('/').to_owned();
            if canonical != given {
                paths.push((canonical, token));
            }
        }
        paths.push((given, token));
    }
    // Longest first, so a path inside another is replaced by its own token.
    paths.sort_by_key(|(p, _)| std::cmp::Reverse(p.len()));
    for (path, token) in &paths {
        if !path.is_empty() && path != "/" {
            text = replace_path(&text, path, token);
        }
    }
    text
}

/// Removes `ESC [ ... final` sequences (and other two-byte escapes).
fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\u{1b}' {
            out.push(c);
            continue;
        }
        // `ESC [ params final`; any other escape is two characters.
        if chars.next() == Some('[') {
            for c in chars.by_ref() {
                if ('@'..='~').contains(&c) {
                    break;
                }
            }
        }
    }
    out
}

/// Replaces `path` where it is a whole path prefix (followed by `/` or a
/// character that cannot continue a file name).
fn replace_path(text: &str, path: &str, token: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(path) {
        let after = rest[at + path.len()..].chars().next();
        let whole =
            !after.is_some_and(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | '@' | '+'));
        out.push_str(&rest[..at]);
        out.push_str(if whole { token } else { path });
        rest = &rest[at + path.len()..];
    }
    out.push_str(rest);
    out
}

/// A line of a source listing: `=>  64:\t...` or `    65:\t...`.
fn is_source_listing(line: &str) -> bool {
    let rest = line
        .strip_prefix("=>")
        .unwrap_or(line)
        .trim_start_matches(' ');
    let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
    digits > 0 && rest[digits..].starts_with(":\t")
}

fn normalize_line(line: &str) -> String {
    if let Some(at) = line.find("Build: $Id: ") {
        if let Some(end) = line[at + 12..].find('$') {
            return format!(
                "{}Build: <build>{}",
                &line[..at],
                &line[at + 12 + end + 1..]
            );
        }
    }
    let chars: Vec<char> = line.chars().collect();
    let mut out = String::with_capacity(line.len());
    let mut i = 0;
    while i < chars.len() {
        let boundary = i == 0 || !is_ident_char(chars[i - 1]) && chars[i - 1] != '.';
        if boundary {
            if let Some((len, replacement)) = replace_at(&chars, i, &out) {
                out.push_str(&replacement);
                i += len;
                continue;
            }
        }
        out.push(chars[i]);
        i += 1;
    }
    out
}

/// A token starting at `chars[i]` that needs replacing: its length and the
/// replacement. `before` is the normalized text so far (for context such as
/// `Process ` or `Version: `).
fn replace_at(chars: &[char], i: usize, before: &str) -> Option<(usize, String)> {
    let rest = &chars[i..];
    let word_end = |from: usize| -> usize {
        let mut j = from;
        while j < rest.len() && is_ident_char(rest[j]) {
            j += 1;
        }
        j
    };
    // Hex numbers: addresses when at least 0x10000.
    if rest.len() > 2 && rest[0] == '0' && (rest[1] == 'x' || rest[1] == 'X') {
        let end = 2 + rest[2..]
            .iter()
            .take_while(|c| c.is_ascii_hexdigit())
            .count();
        if end > 2 && word_end(end) == end {
            let digits: String = rest[2..end].iter().collect();
            let significant = digits.trim_start_matches('0');
            if significant.len() > 4 {
                let zeros = &digits[..digits.len() - significant.len()];
                return Some((end, format!("0x{zeros}<addr>")));
            }
            return None;
        }
    }
    if !rest[0].is_ascii_digit() {
        return None;
    }
    let number = rest.iter().take_while(|c| c.is_ascii_digit()).count();
    // Identifiers of processes and threads.
    let lower = before.to_ascii_lowercase();
    if word_end(number) == number {
        for (context, token) in [
            ("process ", "<pid>"),
            ("pid ", "<pid>"),
            ("pid: ", "<pid>"),
            ("pid=", "<pid>"),
            ("thread ", "<tid>"),
        ] {
            if lower.ends_with(context) {
                let start = before.len() - context.len();
                if start == 0
                    || !before[..start]
                        .chars()
                        .next_back()
                        .is_some_and(is_ident_char)
                {
                    return Some((number, token.to_owned()));
                }
            }
        }
        if before.ends_with("Version: ") {
            let end = rest
                .iter()
                .position(|c| c.is_whitespace())
                .unwrap_or(rest.len());
            return Some((end, "<version>".to_owned()));
        }
    }
    // RFC 3339 times: 2026-11-26T10:21:05.059686525Z.
    if number == 4 && rest.get(4) == Some(&'-') && rest.get(10) == Some(&'T') {
        let end = rest
            .iter()
            .position(|c| c.is_whitespace() || *c == '"' || *c == ')')
            .unwrap_or(rest.len());
        return Some((end, "<time>".to_owned()));
    }
    // `N minutes` (goroutine wait times).
    let tail: String = rest[number..].iter().take(8).collect();
    if tail.starts_with(" minutes")
        || tail.starts_with(" minute") && word_end(number + 7) == number + 7
    {
        return Some((number, "<n>".to_owned()));
    }
    // Go durations: 1.5s, 20ms, 1m2.5s, 3µs.
    let mut j = 0;
    let mut units = 0;
    loop {
        let start = j;
        while j < rest.len() && rest[j].is_ascii_digit() {
            j += 1;
        }
        if j < rest.len() && rest[j] == '.' {
            j += 1;
            while j < rest.len() && rest[j].is_ascii_digit() {
                j += 1;
            }
        }
        if j == start {
            break;
        }
        let unit_len = ["ns", "us", "µs", "ms", "s", "m", "h"]
            .iter()
            .find(|u| {
                rest[j..]
                    .iter()
                    .take(u.chars().count())
                    .copied()
                    .eq(u.chars())
            })
            .map(|u| u.chars().count());
        let Some(unit_len) = unit_len else { break };
        j += unit_len;
        units += 1;
        if !(j < rest.len() && rest[j].is_ascii_digit()) {
            break;
        }
    }
    if units > 0 && word_end(j) == j {
        return Some((j, "<duration>".to_owned()));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixture::{build_fixture, fixture_dir, BuildOptions};
    use crate::toolchain::GoToolchain;

    #[test]
    fn normalize_replaces_what_varies_and_keeps_the_rest() {
        let fixture = Path::new("/src/fx/hello");
        let goroot = Path::new("/usr/local/go");
        let text = "\u{1b}[33m=>\u{1b}[34m  64:\t\u{1b}[0mfunc main() { x := 0x123456 }\r\n\
                    > [Breakpoint 1] main.main() /src/fx/hello/main.go:64 (hits goroutine(1):1 total:1) (PC: 0x4bfa16)\n\
                    0  0x00000000004bfa98 in main.main\n   at /usr/local/go/src/runtime/proc.go:290\n\
                    Process 1921 has exited with status 0\n* Thread 1950 at 0x4bfa98 /src/fx/hello2/x.go:3\n\
                    Version: 1.27.2\nBuild: $Id: 360e7b2181d3da54115aaee4f569954bca95cfe3 $\n\
                    flags 0x246 took 1.5s or 20ms, [chan receive, 3 minutes] at 2026-11-26T10:21:05.059686525Z\n";
        let want = "=>  64:\tfunc main() { x := 0x123456 }\n\
                    > [Breakpoint 1] main.main() $FIXTURE/main.go:64 (hits goroutine(1):1 total:1) (PC: 0x<addr>)\n\
                    0  0x0000000000<addr> in main.main\n   at $GOROOT/src/runtime/proc.go:290\n\
                    Process <pid> has exited with status 0\n* Thread <tid> at 0x<addr> /src/fx/hello2/x.go:3\n\
                    Version: <version>\nBuild: <build>\n\
                    flags 0x246 took <duration> or <duration>, [chan receive, <n> minutes] at <time>\n";
        assert_eq!(normalize(text, fixture, goroot), want);
    }

    #[test]
    fn basic_session_matches_the_constant_for_hello() {
        assert_eq!(
            basic_session(&fixture_dir("hello").join("main.go")),
            BASIC_SESSION
        );
    }

    /// A server that accepts and never answers: the session ends at the
    /// time-out with the client killed, and the transcript says so.
    #[test]
    fn terminal_times_out_on_a_silent_server() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("address").to_string();
        std::thread::spawn(move || {
            let mut held = Vec::new();
            for stream in listener.incoming().flatten() {
                held.push(stream);
            }
        });
        let started = Instant::now();
        let transcript =
            run_dlv_connect(&addr, &["break main.main", "exit"], Duration::from_secs(2));
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "took {:?}",
            started.elapsed()
        );
        assert!(transcript.timed_out);
        assert_eq!(transcript.blocks.len(), 1, "{:?}", transcript.blocks);
        assert!(transcript
            .raw
            .contains("[ferret-testkit: timed out after 2s waiting for the output of `<connect>`"));
        assert!(transcript
            .raw
            .contains("[ferret-testkit: not sent after the time-out: `break main.main`, `exit`]"));
        eprintln!("{}", transcript.render());
    }

    /// Nothing listening: the client exits at once, and the commands are
    /// reported as never sent.
    #[test]
    fn terminal_reports_a_refused_connection() {
        let addr = std::net::TcpListener::bind("127.0.0.1:0")
            .expect("bind")
            .local_addr()
            .expect("address")
            .to_string();
        let transcript = run_dlv_connect(&addr, &["continue"], Duration::from_secs(30));
        assert!(!transcript.timed_out);
        assert!(!transcript.status.expect("status").success());
        // dlv connect says nothing when it cannot connect; it exits with status 1.
        assert_eq!(transcript.status.and_then(|s| s.code()), Some(1));
        assert_eq!(
            transcript.raw,
            "[ferret-testkit: dlv connect exited (exit status: 1) before these were sent: `continue`]\n"
        );
        assert_eq!(transcript.blocks.len(), 1);
        eprintln!("{}", transcript.render());
    }

    /// A script without `exit` ends the client's input: it quits without
    /// detaching, a multiclient server stays up with its breakpoint, and a
    /// second session can pick up from there.
    #[test]
    fn terminal_end_of_input_leaves_a_multiclient_server_up() {
        let toolchain = GoToolchain::find("1.26");
        let exe = build_fixture("hello", &toolchain, &BuildOptions::debug());
        let (mut server, addr) = start_dlv_headless(&exe, &[]);
        let first = run_dlv_connect(&addr, &["break main.main"], Duration::from_secs(60));
        eprintln!("{}", first.render());
        let last = first.blocks.last().expect("blocks");
        assert_eq!(last.0, END_OF_INPUT);
        assert_eq!(
            last.1,
            "exit\nWould you like to kill the headless instance? [Y/n] EOF\n"
        );
        assert_eq!(first.status.and_then(|s| s.code()), Some(2));
        assert!(
            matches!(server.try_wait(), Ok(None)),
            "the server exited after the first client left"
        );
        let second = run_dlv_connect(&addr, &["breakpoints", "exit"], Duration::from_secs(60));
        eprintln!("{}", second.render());
        assert!(second
            .output_of("breakpoints")
            .expect("breakpoints block")
            .contains("Breakpoint 1 (enabled) at 0x"));
        assert!(
            wait_or_kill(&mut server, Duration::from_secs(10)).is_some(),
            "exit answered y left the server up"
        );
    }

    /// The basic session against two fresh dlv servers gives the same
    /// normalized transcript, with the expected stops in it.
    #[test]
    fn terminal_basic_session_is_stable_against_dlv() {
        let toolchain = GoToolchain::find("1.26");
        let exe = build_fixture("hello", &toolchain, &BuildOptions::debug());
        let fixture = fixture_dir("hello");
        let main_go = fixture.join("main.go");
        let goroot = toolchain
            .command()
            .args(["env", "GOROOT"])
            .output()
            .expect("go env GOROOT");
        let goroot = PathBuf::from(String::from_utf8_lossy(&goroot.stdout).trim());
        let session = basic_session(&main_go);
        let session: Vec<&str> = session.iter().map(String::as_str).collect();

        let mut normalized = Vec::new();
        for run in 0..2 {
            let (mut server, addr) = start_dlv_headless(&exe, &[]);
            let transcript = run_dlv_connect(&addr, &session, Duration::from_secs(60));
            let server_status = wait_or_kill(&mut server, Duration::from_secs(10));
            assert!(
                !transcript.timed_out,
                "run {run} timed out:\n{}",
                transcript.raw
            );
            assert!(
                server_status.is_some(),
                "run {run}: the dlv server was still up after `exit` answered y"
            );
            assert_eq!(
                transcript.blocks.len(),
                session.len() + 1,
                "run {run}:\n{}",
                transcript.raw
            );
            normalized.push(transcript.normalized(&fixture, &goroot));
        }
        eprintln!(
            "normalized transcript of the basic session:\n{}",
            normalized[0]
        );
        assert_eq!(
            normalized[0], normalized[1],
            "two runs differ after normalization"
        );

        let source = std::fs::read_to_string(&main_go).expect("read main.go");
        let line_of = |prefix: &str| {
            source
                .lines()
                .position(|l| l.trim_start().starts_with(prefix))
                .expect(prefix)
                + 1
        };
        let (main_line, add_line, add4_line) = (
            line_of("func main()"),
            line_of("func (c *Counter) Add"),
            line_of("c.Add(4)"),
        );
        let t = &normalized[0];
        for marker in [
            "Type 'help' for list of commands.\n(dlv) break main.main\n".to_owned(),
            format!("Breakpoint 1 set at 0x<addr> for main.main() $FIXTURE/main.go:{main_line}\n"),
            format!("> [Breakpoint 1] main.main() $FIXTURE/main.go:{main_line} (hits goroutine(1):1 total:1) (PC: 0x<addr>)\n"),
            format!("=>  {main_line}:\tfunc main() {{\n"),
            format!("> main.main() $FIXTURE/main.go:{add4_line} (PC: 0x<addr>)\n"),
            format!("(dlv) step\n> main.(*Counter).Add() $FIXTURE/main.go:{add_line} (PC: 0x<addr>)\n"),
            format!("(dlv) stepout\n> main.main() $FIXTURE/main.go:{} (PC: 0x<addr>)\nValues returned:\n", add4_line + 1),
            format!("0  0x0000000000<addr> in main.main\n   at $FIXTURE/main.go:{}\n", add4_line + 1),
            "   at $GOROOT/src/runtime/proc.go:".to_owned(),
            format!("Breakpoint 1 (enabled) at 0x<addr> for main.main() $FIXTURE/main.go:{main_line} (1)\n"),
            format!("Breakpoint 1 cleared at 0x<addr> for main.main() $FIXTURE/main.go:{main_line}\n"),
            "(dlv) continue\nProcess <pid> has exited with status 0\n".to_owned(),
            "(dlv) exit\nRemote process has exited. Would you like to kill the headless instance? [Y/n] y\n".to_owned(),
        ] {
            assert!(t.contains(&marker), "missing {marker:?} in:\n{t}");
        }
    }
}
