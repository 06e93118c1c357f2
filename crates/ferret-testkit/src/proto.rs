//! Recorded Delve JSON-RPC exchanges (`proto-fixtures/*.json`) and the
//! normalization that makes dlv's answers and ferret's comparable.
//!
//! `scripts/record-proto-fixtures` starts the real dlv on the `hello`
//! fixture once per scenario and stores every request with dlv's answer.
//! A replay test sends the same requests to ferret (see
//! [`Scenario::request_for`] and [`Exchange::fill_from_state`] for the
//! parts that depend on the machine or the run) and checks that
//! `normalize(dlv's answer) == normalize(ferret's answer)`, printing
//! [`diff`] when they differ.
//!
//! # Normalization rules
//!
//! [`normalize`] replaces what differs from run to run (or from machine to
//! machine) by a `$NAME` placeholder string and keeps everything else
//! exactly. Zero, `""` and `null` are never replaced, so "no thread" (a
//! goroutine's `threadID:0`) or "not known while running" (`Pid:0`,
//! `TargetGoVersion:""`) still has to match.
//!
//! Process and thread ids:
//! - `Pid` and `PID` (any object) → `"$PID"`; every element of `addrpid`
//!   (Breakpoint) and `pcpids` (Location) → `"$PID"`; the number in an error
//!   text `Process N has exited with status S` → `Process $PID has exited…`.
//! - Thread ids → `"$TID"`: `id` of a Thread object (recognized by having
//!   both `goroutineID` and `CallReturn`: `currentThread`, `Threads[]`,
//!   `GetThread`'s `Thread`, `ListTargets`' `CurrentThread`), `threadID`
//!   (Goroutine, Command) and `ThreadID` (Event).
//! - `Threads` arrays (DebuggerState, ListThreads): an *idle* thread (one
//!   with `goroutineID` 0 and no `breakPoint`) sits in whichever runtime
//!   wait (`futex`, `usleep`, `osyield`, …) the race put it, and how many
//!   there are varies between runs of the same program (4 or 5 at
//!   `main.main` of `hello`). Idle threads are dropped and, when there was
//!   at least one, the string `"$IDLE_THREADS"` is appended. The remaining
//!   threads are sorted by `goroutineID` (then by their normalized text), so
//!   the order does not depend on which OS thread ids the kernel handed out.
//!   `currentThread` itself is kept whole even when idle (at entry it is the
//!   deterministic `_rt0_amd64_linux`).
//!
//! Order:
//! - `Breakpoints` (ListBreakpoints) is sorted by `id`: dlv returns its
//!   logical breakpoint map in Go's random map order.
//! - A breakpoint on several addresses (`runtime-fatal-throw`, id -2) lists
//!   them in map order too: `addrs` is sorted, `addrpid` follows it, and
//!   `addr` (dlv sets it to `addrs[0]`) becomes the lowest address when it
//!   is one of `addrs`.
//!
//! Run-dependent numbers:
//! - `FrameOffset`, `FramePointerOffset` (Stackframe) → `"$OFFSET"` when
//!   their magnitude is 2³⁰ or more (no goroutine stack is that big). dlv computes both relative to the
//!   goroutine's stack top, so for ordinary frames they are small and the
//!   same on every run (-144, -160 for `main.main` of `hello`) and are kept.
//!   The bottom frame (`runtime.goexit`) has no saved frame pointer, so its
//!   `FramePointerOffset` is whatever BP held minus the stack top
//!   (-48138813534208 in one run, -52006195130368 in the next), and frames
//!   on a system stack are reported as absolute addresses.
//! - `SP` (Defer) → `"$ADDR"`; `waitSince` (Goroutine) → `"$WAIT_SINCE"`.
//! - In a Variable (an object with `onlyAddr` and `kind`): `addr` and
//!   `base` at or above `0xc0_0000_0000` (the Go heap arena and everything
//!   mapped above it: goroutine and thread stacks) → `"$ADDR"`, and so is
//!   the `value` of a pointer (`kind` 22 or 26), which dlv prints as a
//!   decimal address. Addresses below (globals, functions in the executable)
//!   are kept.
//!
//! Times and versions:
//! - `Time` (LastModified) → `"$TIME"`, `When` → `"$WHEN"`.
//! - `DelveVersion` → `"$DELVE_VERSION"`, `TargetGoVersion` →
//!   `"$GO_VERSION"`, `BuildID` → `"$BUILD_ID"`.
//!
//! Paths (in every string, error texts included; a path starts with `/` at
//! the start of the string or after a space, quote, `(`, `[`, `=` or `,`):
//! - a path through `/tests/fixtures/<name>` → `$FIXTURE` + the rest
//!   (`$FIXTURE/main.go:66`);
//! - a path through `/pkg/mod/` → `$GOMODCACHE/` + the rest;
//! - any other path to a `.go`, `.s`, `.c` or `.h` file containing `/src/`
//!   → `$GOROOT/src/` + what follows the last `/src/`
//!   (`$GOROOT/src/runtime/proc.go`);
//! - `TargetCommandLine` and `CmdLine` (the executable, which the recorder
//!   builds into a temporary directory, then its arguments): the first word
//!   → `$BIN`.
//!
//! Kept exactly: the JSON-RPC envelope (`id`, `result`, `error`), file names
//! after the prefix replacement, lines, function names, `pc`s, `pcs`,
//! function entry `value`s, breakpoint ids, addresses and every other
//! breakpoint field, hit counts, goroutine ids, states, stop reasons, exit
//! codes and error texts (after the replacements above). For the same
//! executable these are the same on every run, so a difference there is a
//! real difference.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use crate::repo_root;

/// One recorded scenario: a fresh dlv on the fixture, its requests in order.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// The file's stem (`connect`, `breakpoints`, …).
    pub name: String,
    /// The dlv version that answered.
    pub dlv_version: String,
    /// The Go version (`go env GOVERSION`) that built the fixture.
    pub go_version: String,
    /// The fixture under `tests/fixtures/`.
    pub fixture: String,
    /// `debug` (`-gcflags=all=-N -l`).
    pub build: String,
    /// The absolute fixture directory at record time; requests that carry
    /// paths contain it (see [`Scenario::request_for`]).
    pub fixture_dir: String,
    /// What the scenario does and anything a replayer must know.
    pub notes: String,
    /// The exchanges in the order the requests were sent.
    pub exchanges: Vec<Exchange>,
}

/// One request and dlv's answer to it.
#[derive(Debug, Clone)]
pub struct Exchange {
    /// The request object as sent (`method`, `params`, `id`), or the raw
    /// malformed object for the `errors` scenario.
    pub request: Value,
    /// The response object as received (`id`, `result`, `error`).
    pub response: Value,
    /// The connection it went over: `"A"` unless the scenario uses several.
    pub conn: String,
    /// Sent without waiting for the answer: the next request goes out
    /// first, and the answer is read later (async methods such as
    /// `GetEvents` and `Command`).
    pub is_async: bool,
    /// Where a line number in the request came from.
    pub line_of: Option<LineOf>,
    /// Request parameters to take from the target's state at replay time:
    /// `(key of params[0], dotted path in the last DebuggerState)`, e.g.
    /// `("threadID", "currentThread.id")`.
    pub fill: Vec<(String, String)>,
}

/// A line number in a request, found by searching the fixture's source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineOf {
    /// Text that occurs on exactly one line of `file`.
    pub needle: String,
    /// The file, relative to the fixture directory.
    pub file: String,
    /// The line it was on when recorded.
    pub line: u64,
}

/// `proto-fixtures/` at the repository root.
pub fn proto_fixtures_dir() -> PathBuf {
    repo_root().join("proto-fixtures")
}

/// Every scenario in `proto-fixtures/*.json`, sorted by name. Panics on a
/// file that does not parse.
pub fn load_scenarios() -> Vec<Scenario> {
    load_scenarios_from(&proto_fixtures_dir())
}

/// Every scenario in `dir/*.json`, sorted by name. Panics on a file that
/// does not parse.
pub fn load_scenarios_from(dir: &Path) -> Vec<Scenario> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|p| {
            let text =
                std::fs::read_to_string(p).unwrap_or_else(|e| panic!("read {}: {e}", p.display()));
            Scenario::from_json(&text).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        })
        .collect()
}

impl Scenario {
    /// Parses one scenario file.
    pub fn from_json(text: &str) -> Result<Scenario, String> {
        let v: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
        let s = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
        let exchanges = v
            .get("exchanges")
            .and_then(Value::as_array)
            .ok_or("no exchanges array")?
            .iter()
            .enumerate()
            .map(|(i, e)| Exchange::from_json(e).map_err(|m| format!("exchange {i}: {m}")))
            .collect::<Result<Vec<_>, _>>()?;
        let name = s("name");
        if name.is_empty() {
            return Err("no name".into());
        }
        Ok(Scenario {
            name,
            dlv_version: s("dlv_version"),
            go_version: s("go_version"),
            fixture: s("fixture"),
            build: s("build"),
            fixture_dir: s("fixture_dir"),
            notes: s("notes"),
            exchanges,
        })
    }

    /// The exchange's request made fit for `fixture_dir` (the fixture's
    /// source directory on this machine): the recorded fixture directory in
    /// any string is replaced by this one, and a line found through
    /// [`Exchange::line_of`] is searched again, so that an edit above it in
    /// the source does not silently point the request elsewhere. Panics if
    /// the needle is no longer on exactly one line.
    pub fn request_for(&self, exchange: &Exchange, fixture_dir: &Path) -> Value {
        let dir = fixture_dir.display().to_string();
        let mut request = if self.fixture_dir.is_empty() {
            exchange.request.clone()
        } else {
            map_strings(&exchange.request, &|s| s.replace(&self.fixture_dir, &dir))
        };
        if let Some(l) = &exchange.line_of {
            let path = fixture_dir.join(&l.file);
            let now = line_of(&path, &l.needle).unwrap_or_else(|| {
                panic!(
                    "{:?} is not on exactly one line of {}",
                    l.needle,
                    path.display()
                )
            });
            if now != l.line {
                request = relocate(&request, &l.file, l.line, now);
            }
        }
        request
    }
}

impl Exchange {
    fn from_json(v: &Value) -> Result<Exchange, String> {
        let request = v.get("request").cloned().ok_or("no request")?;
        let response = v.get("response").cloned().ok_or("no response")?;
        let line_of = match v.get("line_of") {
            None | Some(Value::Null) => None,
            Some(l) => Some(LineOf {
                needle: l
                    .get("needle")
                    .and_then(Value::as_str)
                    .ok_or("line_of without needle")?
                    .to_owned(),
                file: l
                    .get("file")
                    .and_then(Value::as_str)
                    .ok_or("line_of without file")?
                    .to_owned(),
                line: l
                    .get("line")
                    .and_then(Value::as_u64)
                    .ok_or("line_of without line")?,
            }),
        };
        let fill = v
            .get("fill")
            .and_then(Value::as_object)
            .map(|m| {
                m.iter()
                    .map(|(k, p)| (k.clone(), p.as_str().unwrap_or("").to_owned()))
                    .collect()
            })
            .unwrap_or_default();
        Ok(Exchange {
            request,
            response,
            conn: v
                .get("conn")
                .and_then(Value::as_str)
                .unwrap_or("A")
                .to_owned(),
            is_async: v.get("async").and_then(Value::as_bool).unwrap_or(false),
            line_of,
            fill,
        })
    }

    /// The request's method without the `RPCServer.` prefix (`""` for a
    /// request without one).
    pub fn method(&self) -> &str {
        let m = self
            .request
            .get("method")
            .and_then(Value::as_str)
            .unwrap_or("");
        m.strip_prefix("RPCServer.").unwrap_or(m)
    }

    /// Sets the parameters named in [`Exchange::fill`] from `state`, the
    /// last DebuggerState the replayer saw (e.g. the current thread's id).
    /// Paths that `state` does not have are left as recorded.
    pub fn fill_from_state(&self, request: &mut Value, state: &Value) {
        for (key, path) in &self.fill {
            let mut v = state;
            let mut found = true;
            for part in path.split('.') {
                match v.get(part) {
                    Some(next) => v = next,
                    None => {
                        found = false;
                        break;
                    }
                }
            }
            if let (true, Some(params)) = (
                found,
                request
                    .pointer_mut("/params/0")
                    .and_then(Value::as_object_mut),
            ) {
                params.insert(key.clone(), v.clone());
            }
        }
    }
}

/// The 1-based line of the only line of `file` that contains `needle`.
pub fn line_of(file: &Path, needle: &str) -> Option<u64> {
    let text = std::fs::read_to_string(file).ok()?;
    let mut hits = text
        .lines()
        .enumerate()
        .filter(|(_, l)| l.contains(needle))
        .map(|(i, _)| i as u64 + 1);
    let first = hits.next()?;
    hits.next().is_none().then_some(first)
}

/// `request` with line `old` of `file` moved to `new`: numbers under a
/// `line` key and `file:old` inside strings.
fn relocate(request: &Value, file: &str, old: u64, new: u64) -> Value {
    fn walk(v: &Value, key: Option<&str>, file: &str, old: u64, new: u64) -> Value {
        match v {
            Value::Object(m) => Value::Object(
                m.iter()
                    .map(|(k, x)| (k.clone(), walk(x, Some(k), file, old, new)))
                    .collect(),
            ),
            Value::Array(a) => {
                Value::Array(a.iter().map(|x| walk(x, None, file, old, new)).collect())
            }
            Value::Number(n) if key == Some("line") && n.as_u64() == Some(old) => Value::from(new),
            Value::String(s) => Value::String(replace_line(s, file, old, new)),
            _ => v.clone(),
        }
    }
    walk(request, None, file, old, new)
}

/// Replaces `file:old` by `file:new` where `old` is not followed by a digit.
fn replace_line(s: &str, file: &str, old: u64, new: u64) -> String {
    let pat = format!("{file}:{old}");
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find(&pat) {
        let after = &rest[i + pat.len()..];
        out.push_str(&rest[..i]);
        if after.starts_with(|c: char| c.is_ascii_digit()) {
            out.push_str(&pat);
        } else {
            out.push_str(&format!("{file}:{new}"));
        }
        rest = after;
    }
    out.push_str(rest);
    out
}

fn map_strings(v: &Value, f: &dyn Fn(&str) -> String) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, x)| (k.clone(), map_strings(x, f)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(|x| map_strings(x, f)).collect()),
        Value::String(s) => Value::String(f(s)),
        _ => v.clone(),
    }
}

// ---------------------------------------------------------------------------
// normalize

/// Lowest address of the Go heap arena on amd64 (`0x00c0 << 32`); addresses
/// from here up are heap or stack and change between runs.
const HEAP_START: u64 = 0xc0_0000_0000;

/// Makes a dlv or ferret answer comparable: the rules are in the
/// [module documentation](self).
pub fn normalize(value: &Value) -> Value {
    norm(value, None)
}

fn norm(v: &Value, key: Option<&str>) -> Value {
    match v {
        Value::Object(m) => norm_object(m),
        Value::Array(a) => norm_array(a, key),
        Value::String(s) => Value::String(norm_string(s, key)),
        Value::Number(_) => norm_number(v, key),
        Value::Bool(_) | Value::Null => v.clone(),
    }
}

fn is_zero(v: &Value) -> bool {
    match v {
        Value::Number(n) => n.as_f64() == Some(0.0),
        Value::String(s) => s.is_empty(),
        Value::Null => true,
        _ => false,
    }
}

/// `placeholder` unless `v` is zero, empty or null.
fn mask(v: &Value, placeholder: &str) -> Value {
    if is_zero(v) {
        v.clone()
    } else {
        Value::String(placeholder.to_owned())
    }
}

fn norm_number(v: &Value, key: Option<&str>) -> Value {
    match key {
        Some("Pid" | "PID") => mask(v, "$PID"),
        Some("threadID" | "ThreadID") => mask(v, "$TID"),
        Some("FrameOffset" | "FramePointerOffset") => match v.as_i64() {
            // Real offsets are within a goroutine stack (at most 1 GiB);
            // garbage BP values land anywhere, sometimes within 2^32.
            Some(o) if o.unsigned_abs() >= 1 << 30 => Value::String("$OFFSET".into()),
            _ => v.clone(),
        },
        Some("SP") => mask(v, "$ADDR"),
        Some("waitSince") => mask(v, "$WAIT_SINCE"),
        _ => v.clone(),
    }
}

fn is_thread(m: &Map<String, Value>) -> bool {
    m.contains_key("goroutineID") && m.contains_key("CallReturn")
}

fn is_variable(m: &Map<String, Value>) -> bool {
    m.contains_key("onlyAddr") && m.contains_key("kind")
}

fn mask_addr(v: &Value) -> Value {
    match v.as_u64() {
        Some(a) if a >= HEAP_START => Value::String("$ADDR".into()),
        _ => v.clone(),
    }
}

fn norm_object(m: &Map<String, Value>) -> Value {
    let sorted;
    let m = match sort_breakpoint_addrs(m) {
        Some(s) => {
            sorted = s;
            &sorted
        }
        None => m,
    };
    let thread = is_thread(m);
    let variable = is_variable(m);
    let pointer = variable && matches!(m.get("kind").and_then(Value::as_u64), Some(22 | 26));
    let mut out = Map::new();
    for (k, v) in m {
        let nv = match k.as_str() {
            "id" if thread => mask(v, "$TID"),
            "addr" | "base" if variable => mask_addr(v),
            "value" if pointer => match v.as_str().and_then(|s| s.parse::<u64>().ok()) {
                Some(a) if a >= HEAP_START => Value::String("$ADDR".into()),
                _ => norm(v, Some(k)),
            },
            _ => norm(v, Some(k)),
        };
        out.insert(k.clone(), nv);
    }
    Value::Object(out)
}

/// A breakpoint on several addresses with `addrs` sorted, `addrpid` along,
/// and `addr` the lowest (when it was one of them); `None` for anything else.
fn sort_breakpoint_addrs(m: &Map<String, Value>) -> Option<Map<String, Value>> {
    let (Some(Value::Array(addrs)), Some(Value::Array(pids))) = (m.get("addrs"), m.get("addrpid"))
    else {
        return None;
    };
    if addrs.len() < 2 || addrs.len() != pids.len() {
        return None;
    }
    let mut pairs: Vec<(Value, Value)> = addrs.iter().cloned().zip(pids.iter().cloned()).collect();
    pairs.sort_by_key(|(a, _)| a.as_u64().unwrap_or(0));
    let mut out = m.clone();
    if let Some(a) = m.get("addr") {
        if addrs.contains(a) {
            out.insert("addr".into(), pairs[0].0.clone());
        }
    }
    let (addrs, pids): (Vec<Value>, Vec<Value>) = pairs.into_iter().unzip();
    out.insert("addrs".into(), Value::Array(addrs));
    out.insert("addrpid".into(), Value::Array(pids));
    Some(out)
}

fn norm_array(a: &[Value], key: Option<&str>) -> Value {
    match key {
        Some("addrpid" | "pcpids") => Value::Array(a.iter().map(|x| mask(x, "$PID")).collect()),
        Some("Threads") => {
            let mut idle = false;
            let mut kept: Vec<Value> = Vec::new();
            for t in a {
                let is_idle = t.as_str() == Some("$IDLE_THREADS")
                    || (t.get("goroutineID").and_then(Value::as_i64) == Some(0)
                        && t.get("breakPoint").is_none());
                if is_idle {
                    idle = true;
                } else {
                    kept.push(norm(t, None));
                }
            }
            kept.sort_by_cached_key(|t| {
                (
                    t.get("goroutineID").and_then(Value::as_i64).unwrap_or(0),
                    t.to_string(),
                )
            });
            if idle {
                kept.push(Value::String("$IDLE_THREADS".into()));
            }
            Value::Array(kept)
        }
        Some("Breakpoints") => {
            let mut bps: Vec<Value> = a.iter().map(|x| norm(x, None)).collect();
            bps.sort_by_key(|b| b.get("id").and_then(Value::as_i64).unwrap_or(0));
            Value::Array(bps)
        }
        _ => Value::Array(a.iter().map(|x| norm(x, None)).collect()),
    }
}

fn norm_string(s: &str, key: Option<&str>) -> String {
    if s.is_empty() {
        return String::new();
    }
    match key {
        Some("Time") => "$TIME".into(),
        Some("When") => "$WHEN".into(),
        Some("DelveVersion") => "$DELVE_VERSION".into(),
        Some("TargetGoVersion") => "$GO_VERSION".into(),
        Some("BuildID") => "$BUILD_ID".into(),
        Some("TargetCommandLine" | "CmdLine") => match s.split_once(' ') {
            Some((_, args)) => format!("$BIN {}", norm_text(args)),
            None => "$BIN".into(),
        },
        _ => norm_text(s),
    }
}

/// Path prefixes and exited-process pids inside free text.
fn norm_text(s: &str) -> String {
    let s = mask_exited_pid(s);
    const BEFORE: &[char] = &[' ', '\t', '\n', '"', '\'', '(', '[', '=', ','];
    const END: &[char] = &[' ', '\t', '\n', '"', '\'', ')', ']', ','];
    let mut out = String::with_capacity(s.len());
    let mut rest = s.as_str();
    let mut at_start = true;
    loop {
        // The next '/' that starts a path.
        let start = rest.char_indices().find(|&(i, c)| {
            c == '/' && {
                let prev = rest[..i].chars().next_back();
                match prev {
                    None => at_start,
                    Some(p) => BEFORE.contains(&p),
                }
            }
        });
        let Some((i, _)) = start else {
            out.push_str(rest);
            return out;
        };
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        let end = tail.find(END).unwrap_or(tail.len());
        out.push_str(&norm_path(&tail[..end]));
        rest = &tail[end..];
        at_start = false;
    }
}

/// One absolute path, possibly followed by `:line` and punctuation.
fn norm_path(p: &str) -> String {
    const FIXTURES: &str = "/tests/fixtures/";
    if let Some(i) = p.find(FIXTURES) {
        let after = &p[i + FIXTURES.len()..];
        let name_end = after.find('/').unwrap_or(after.len());
        if name_end > 0 {
            return format!("$FIXTURE{}", &after[name_end..]);
        }
    }
    if let Some(i) = p.find("/pkg/mod/") {
        return format!("$GOMODCACHE/{}", &p[i + "/pkg/mod/".len()..]);
    }
    let file = p.split(':').next().unwrap_or(p);
    let source = [".go", ".s", ".c", ".h"].iter().any(|x| file.ends_with(x));
    if source {
        if let Some(i) = p.rfind("/src/") {
            return format!("$GOROOT{}", &p[i..]);
        }
    }
    p.to_owned()
}

/// `Process 1234 has exited with status 0` → `Process $PID has exited …`.
fn mask_exited_pid(s: &str) -> String {
    const HEAD: &str = "Process ";
    const TAIL: &str = " has exited";
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find(HEAD) {
        let after = &rest[i + HEAD.len()..];
        let digits = after.len() - after.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        out.push_str(&rest[..i + HEAD.len()]);
        if digits > 0 && after[digits..].starts_with(TAIL) {
            out.push_str("$PID");
            rest = &after[digits..];
        } else {
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

// ---------------------------------------------------------------------------
// diff

/// Readable differences between two (normally normalized) answers, one per
/// line, each starting with the path of the value:
/// `.result.State.currentThread.line: expected 64, got 65`,
/// `.result.Locations[0].pcs: expected 1 elements, got 2`,
/// `.result.Breakpoint.name: missing, expected "x"`,
/// `.result.Extra: unexpected, got 1`. Empty when the two are equal.
pub fn diff(expected: &Value, actual: &Value) -> Vec<String> {
    let mut out = Vec::new();
    diff_at(&mut String::new(), expected, actual, &mut out);
    out
}

fn show(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 160 {
        let cut: String = s.chars().take(157).collect();
        format!("{cut}...")
    } else {
        s
    }
}

fn diff_at(path: &mut String, expected: &Value, actual: &Value, out: &mut Vec<String>) {
    let here = |path: &str| {
        if path.is_empty() {
            ".".to_owned()
        } else {
            path.to_owned()
        }
    };
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => {
            for (k, ev) in e {
                let len = path.len();
                path.push('.');
                path.push_str(k);
                match a.get(k) {
                    Some(av) => diff_at(path, ev, av, out),
                    None => out.push(format!("{path}: missing, expected {}", show(ev))),
                }
                path.truncate(len);
            }
            for (k, av) in a {
                if !e.contains_key(k) {
                    out.push(format!("{path}.{k}: unexpected, got {}", show(av)));
                }
            }
        }
        (Value::Array(e), Value::Array(a)) => {
            if e.len() != a.len() {
                out.push(format!(
                    "{}: expected {} elements, got {}",
                    here(path),
                    e.len(),
                    a.len()
                ));
            }
            for i in 0..e.len().max(a.len()) {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                match (e.get(i), a.get(i)) {
                    (Some(ev), Some(av)) => diff_at(path, ev, av, out),
                    (Some(ev), None) => out.push(format!("{path}: missing, expected {}", show(ev))),
                    (None, Some(av)) => out.push(format!("{path}: unexpected, got {}", show(av))),
                    (None, None) => {}
                }
                path.truncate(len);
            }
        }
        _ if expected != actual => out.push(format!(
            "{}: expected {}, got {}",
            here(path),
            show(expected),
            show(actual)
        )),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    // Real answers from two recording runs of the same scenario (the
    // `State` lost three Location keys of its goroutine to keep this short).
    const STATE_AFTER_NEXT_1: &str = r#"{"id":9,"result":{"State":{"Pid":12586,"TargetCommandLine":"/tmp/ferret-proto-voj6z72i/hello","Running":false,"Recording":false,"CoreDumping":false,"currentThread":{"id":12586,"pc":4979337,"file":"/work/main/tests/fixtures/hello/main.go","line":67,"function":{"name":"main.main","value":4979200,"type":0,"goType":0,"optimized":false},"goroutineID":1,"ReturnValues":null,"CallReturn":false},"currentGoroutine":{"id":1,"currentLoc":{"pc":4979337,"file":"/work/main/tests/fixtures/hello/main.go","line":67,"function":{"name":"main.main","value":4979200,"type":0,"goType":0,"optimized":false}},"threadID":12586,"status":2,"waitSince":0,"waitReason":19,"unreadable":""},"Threads":[{"id":12595,"pc":4766679,"file":"/usr/local/go/src/runtime/sys_linux_amd64.s","line":135,"function":{"name":"runtime.usleep","value":4766624,"type":0,"goType":0,"optimized":true},"goroutineID":0,"ReturnValues":null,"CallReturn":false},{"id":12596,"pc":4768163,"file":"/usr/local/go/src/runtime/sys_linux_amd64.s","line":570,"function":{"name":"runtime.futex","value":4768128,"type":0,"goType":0,"optimized":true},"goroutineID":0,"ReturnValues":null,"CallReturn":false},{"id":12597,"pc":4768163,"file":"/usr/local/go/src/runtime/sys_linux_amd64.s","line":570,"function":{"name":"runtime.futex","value":4768128,"type":0,"goType":0,"optimized":true},"goroutineID":0,"ReturnValues":null,"CallReturn":false},{"id":12586,"pc":4979337,"file":"/work/main/tests/fixtures/hello/main.go","line":67,"function":{"name":"main.main","value":4979200,"type":0,"goType":0,"optimized":false},"goroutineID":1,"ReturnValues":null,"CallReturn":false}],"NextInProgress":false,"WatchOutOfScope":null,"exited":false,"exitStatus":0,"When":"","stopReason":"next finished"}},"error":null}"#;
    const STATE_AFTER_NEXT_2: &str = r#"{"id":9,"result":{"State":{"Pid":12800,"TargetCommandLine":"/tmp/ferret-proto-e6iwwepb/hello","Running":false,"Recording":false,"CoreDumping":false,"currentThread":{"id":12811,"pc":4979337,"file":"/work/main/tests/fixtures/hello/main.go","line":67,"function":{"name":"main.main","value":4979200,"type":0,"goType":0,"optimized":false},"goroutineID":1,"ReturnValues":null,"CallReturn":false},"currentGoroutine":{"id":1,"currentLoc":{"pc":4979337,"file":"/work/main/tests/fixtures/hello/main.go","line":67,"function":{"name":"main.main","value":4979200,"type":0,"goType":0,"optimized":false}},"threadID":12811,"status":2,"waitSince":0,"waitReason":19,"unreadable":""},"Threads":[{"id":12811,"pc":4979337,"file":"/work/main/tests/fixtures/hello/main.go","line":67,"function":{"name":"main.main","value":4979200,"type":0,"goType":0,"optimized":false},"goroutineID":1,"ReturnValues":null,"CallReturn":false},{"id":12800,"pc":4768163,"file":"/usr/local/go/src/runtime/sys_linux_amd64.s","line":570,"function":{"name":"runtime.futex","value":4768128,"type":0,"goType":0,"optimized":true},"goroutineID":0,"ReturnValues":null,"CallReturn":false},{"id":12808,"pc":4766679,"file":"/usr/local/go/src/runtime/sys_linux_amd64.s","line":135,"function":{"name":"runtime.usleep","value":4766624,"type":0,"goType":0,"optimized":true},"goroutineID":0,"ReturnValues":null,"CallReturn":false},{"id":12809,"pc":4768163,"file":"/usr/local/go/src/runtime/sys_linux_amd64.s","line":570,"function":{"name":"runtime.futex","value":4768128,"type":0,"goType":0,"optimized":true},"goroutineID":0,"ReturnValues":null,"CallReturn":false}],"NextInProgress":false,"WatchOutOfScope":null,"exited":false,"exitStatus":0,"When":"","stopReason":"next finished"}},"error":null}"#;
    const STACKTRACE_1: &str = r#"{"id":13,"result":{"Locations":[{"pc":4979352,"file":"/work/main/tests/fixtures/hello/main.go","line":68,"function":{"name":"main.main","value":4979200,"type":0,"goType":0,"optimized":false},"Locals":null,"Arguments":null,"FrameOffset":-144,"FramePointerOffset":-160,"Defers":[],"Err":""},{"pc":4531847,"file":"/usr/local/go/src/runtime/proc.go","line":290,"function":{"name":"runtime.main","value":4531232,"type":0,"goType":0,"optimized":true},"Locals":null,"Arguments":null,"FrameOffset":-32,"FramePointerOffset":-48,"Defers":[],"Err":""},{"pc":4761185,"file":"/usr/local/go/src/runtime/asm_amd64.s","line":1771,"function":{"name":"runtime.goexit","value":4761184,"type":0,"goType":0,"optimized":true},"Locals":null,"Arguments":null,"FrameOffset":-24,"FramePointerOffset":-31535753424896,"Defers":[],"Bottom":true,"Err":""}]},"error":null}"#;
    const STACKTRACE_2: &str = r#"{"id":13,"result":{"Locations":[{"pc":4979352,"file":"/work/main/tests/fixtures/hello/main.go","line":68,"function":{"name":"main.main","value":4979200,"type":0,"goType":0,"optimized":false},"Locals":null,"Arguments":null,"FrameOffset":-144,"FramePointerOffset":-160,"Defers":[],"Err":""},{"pc":4531847,"file":"/usr/local/go/src/runtime/proc.go","line":290,"function":{"name":"runtime.main","value":4531232,"type":0,"goType":0,"optimized":true},"Locals":null,"Arguments":null,"FrameOffset":-32,"FramePointerOffset":-48,"Defers":[],"Err":""},{"pc":4761185,"file":"/usr/local/go/src/runtime/asm_amd64.s","line":1771,"function":{"name":"runtime.goexit","value":4761184,"type":0,"goType":0,"optimized":true},"Locals":null,"Arguments":null,"FrameOffset":-24,"FramePointerOffset":-42983321923584,"Defers":[],"Bottom":true,"Err":""}]},"error":null}"#;
    const LIST_BREAKPOINTS_1: &str = r#"{"id":24,"result":{"Breakpoints":[{"id":3,"name":"","addr":4978634,"addrs":[4978634],"addrpid":[12569],"file":"/work/main/tests/fixtures/hello/main.go","line":43,"functionName":"main.sumSquares","ExprString":"","Cond":"","HitCond":"","HitCondPerG":false,"continue":false,"traceReturn":false,"goroutine":false,"stacktrace":0,"LoadArgs":null,"LoadLocals":null,"WatchExpr":"","WatchType":0,"hitCount":{},"totalHitCount":0,"disabled":false,"RootFuncName":"","TraceFollowCalls":0},{"id":6,"name":"","addr":0,"addrs":null,"addrpid":null,"file":"","line":0,"ExprString":"main.nosuchfn","Cond":"","HitCond":"","HitCondPerG":false,"continue":false,"traceReturn":false,"goroutine":false,"stacktrace":0,"LoadArgs":null,"LoadLocals":null,"WatchExpr":"","WatchType":0,"hitCount":{},"totalHitCount":0,"disabled":false,"RootFuncName":"","TraceFollowCalls":0},{"id":-1,"name":"unrecovered-panic","addr":4519364,"addrs":[4519364],"addrpid":[12569],"file":"/usr/local/go/src/runtime/panic.go","line":1456,"functionName":"runtime.fatalpanic","ExprString":"","Cond":"","HitCond":"","HitCondPerG":false,"continue":false,"traceReturn":false,"goroutine":false,"stacktrace":0,"variables":["runtime.curg._panic.arg"],"LoadArgs":null,"LoadLocals":null,"WatchExpr":"","WatchType":0,"hitCount":{},"totalHitCount":0,"disabled":false,"RootFuncName":"","TraceFollowCalls":0},{"id":-2,"name":"runtime-fatal-throw","addr":4737732,"addrs":[4737732,4517828,4620238],"addrpid":[12569,12569,12569],"file":"<multiple locations>","line":0,"functionName":"(multiple functions)","ExprString":"","Cond":"","HitCond":"","HitCondPerG":false,"continue":false,"traceReturn":false,"goroutine":false,"stacktrace":0,"LoadArgs":null,"LoadLocals":null,"WatchExpr":"","WatchType":0,"hitCount":{},"totalHitCount":0,"disabled":false,"RootFuncName":"","TraceFollowCalls":0},{"id":2,"name":"","addr":4979327,"addrs":[4979327],"addrpid":[12569],"file":"/work/main/tests/fixtures/hello/main.go","line":66,"functionName":"main.main","ExprString":"","Cond":"c.Total > 0","HitCond":"","HitCondPerG":false,"continue":false,"traceReturn":false,"goroutine":false,"stacktrace":0,"LoadArgs":null,"LoadLocals":null,"WatchExpr":"","WatchType":0,"hitCount":{},"totalHitCount":0,"disabled":false,"RootFuncName":"","TraceFollowCalls":0}]},"error":null}"#;
    const LIST_BREAKPOINTS_2: &str = r#"{"id":24,"result":{"Breakpoints":[{"id":-1,"name":"unrecovered-panic","addr":4519364,"addrs":[4519364],"addrpid":[12784],"file":"/usr/local/go/src/runtime/panic.go","line":1456,"functionName":"runtime.fatalpanic","ExprString":"","Cond":"","HitCond":"","HitCondPerG":false,"continue":false,"traceReturn":false,"goroutine":false,"stacktrace":0,"variables":["runtime.curg._panic.arg"],"LoadArgs":null,"LoadLocals":null,"WatchExpr":"","WatchType":0,"hitCount":{},"totalHitCount":0,"disabled":false,"RootFuncName":"","TraceFollowCalls":0},{"id":-2,"name":"runtime-fatal-throw","addr":4737732,"addrs":[4737732,4517828,4620238],"addrpid":[12784,12784,12784],"file":"<multiple locations>","line":0,"functionName":"(multiple functions)","ExprString":"","Cond":"","HitCond":"","HitCondPerG":false,"continue":false,"traceReturn":false,"goroutine":false,"stacktrace":0,"LoadArgs":null,"LoadLocals":null,"WatchExpr":"","WatchType":0,"hitCount":{},"totalHitCount":0,"disabled":false,"RootFuncName":"","TraceFollowCalls":0},{"id":2,"name":"","addr":4979327,"addrs":[4979327],"addrpid":[12784],"file":"/work/main/tests/fixtures/hello/main.go","line":66,"functionName":"main.main","ExprString":"","Cond":"c.Total > 0","HitCond":"","HitCondPerG":false,"continue":false,"traceReturn":false,"goroutine":false,"stacktrace":0,"LoadArgs":null,"LoadLocals":null,"WatchExpr":"","WatchType":0,"hitCount":{},"totalHitCount":0,"disabled":false,"RootFuncName":"","TraceFollowCalls":0},{"id":3,"name":"","addr":4978634,"addrs":[4978634],"addrpid":[12784],"file":"/work/main/tests/fixtures/hello/main.go","line":43,"functionName":"main.sumSquares","ExprString":"","Cond":"","HitCond":"","HitCondPerG":false,"continue":false,"traceReturn":false,"goroutine":false,"stacktrace":0,"LoadArgs":null,"LoadLocals":null,"WatchExpr":"","WatchType":0,"hitCount":{},"totalHitCount":0,"disabled":false,"RootFuncName":"","TraceFollowCalls":0},{"id":6,"name":"","addr":0,"addrs":null,"addrpid":null,"file":"","line":0,"ExprString":"main.nosuchfn","Cond":"","HitCond":"","HitCondPerG":false,"continue":false,"traceReturn":false,"goroutine":false,"stacktrace":0,"LoadArgs":null,"LoadLocals":null,"WatchExpr":"","WatchType":0,"hitCount":{},"totalHitCount":0,"disabled":false,"RootFuncName":"","TraceFollowCalls":0}]},"error":null}"#;
    const GET_VERSION_1: &str = r#"{"id":6,"result":{"DelveVersion":"Version: 1.27.2\nBuild: $Id: 360e7b2181d3da54115aaee4f569954bca95cfe3 $","APIVersion":2,"Backend":"native","TargetGoVersion":"Go cmd/compile go1.26.8","MinSupportedVersionOfGo":"1.25.0","MaxSupportedVersionOfGo":"1.27.0"},"error":null}"#;
    const GET_VERSION_2: &str = r#"{"id":6,"result":{"DelveVersion":"Version: 1.27.2\nBuild: $Id: 360e7b2181d3da54115aaee4f569954bca95cfe3 $","APIVersion":2,"Backend":"native","TargetGoVersion":"Go cmd/compile go1.26.8","MinSupportedVersionOfGo":"1.25.0","MaxSupportedVersionOfGo":"1.27.0"},"error":null}"#;
    const LAST_MODIFIED_1: &str =
        r#"{"id":8,"result":{"Time":"2026-11-26T10:26:56.743699242Z"},"error":null}"#;
    const LAST_MODIFIED_2: &str =
        r#"{"id":8,"result":{"Time":"2026-11-26T10:26:59.551699344Z"},"error":null}"#;
    const LIST_TARGETS_1: &str = r#"{"id":12,"result":{"Targets":[{"Pid":12549,"CmdLine":"/tmp/ferret-proto-voj6z72i/hello","CurrentThread":{"id":12549,"pc":4766240,"file":"/usr/local/go/src/runtime/rt0_linux_amd64.s","line":8,"function":{"name":"_rt0_amd64_linux","value":4766240,"type":0,"goType":0,"optimized":true},"goroutineID":0,"ReturnValues":null,"CallReturn":false}}]},"error":null}"#;
    const LIST_TARGETS_2: &str = r#"{"id":12,"result":{"Targets":[{"Pid":12764,"CmdLine":"/tmp/ferret-proto-e6iwwepb/hello","CurrentThread":{"id":12764,"pc":4766240,"file":"/usr/local/go/src/runtime/rt0_linux_amd64.s","line":8,"function":{"name":"_rt0_amd64_linux","value":4766240,"type":0,"goType":0,"optimized":true},"goroutineID":0,"ReturnValues":null,"CallReturn":false}}]},"error":null}"#;
    const STATE_AFTER_EXIT_1: &str =
        r#"{"id":20,"result":null,"error":"Process 12586 has exited with status 0"}"#;
    const STATE_AFTER_EXIT_2: &str =
        r#"{"id":20,"result":null,"error":"Process 12800 has exited with status 0"}"#;
    const PROCESS_PID_AFTER_EXIT_1: &str = r#"{"id":21,"result":{"Pid":12586},"error":null}"#;
    const PROCESS_PID_AFTER_EXIT_2: &str = r#"{"id":21,"result":{"Pid":12800},"error":null}"#;

    fn parse(s: &str) -> Value {
        serde_json::from_str(s).expect("snippet parses")
    }

    fn assert_same(a: &Value, b: &Value) {
        let d = diff(&normalize(a), &normalize(b));
        assert!(d.is_empty(), "{}", d.join("\n"));
    }

    #[test]
    fn two_runs_normalize_equal() {
        let pairs = [
            (STATE_AFTER_NEXT_1, STATE_AFTER_NEXT_2),
            (STACKTRACE_1, STACKTRACE_2),
            (LIST_BREAKPOINTS_1, LIST_BREAKPOINTS_2),
            (GET_VERSION_1, GET_VERSION_2),
            (LAST_MODIFIED_1, LAST_MODIFIED_2),
            (LIST_TARGETS_1, LIST_TARGETS_2),
            (STATE_AFTER_EXIT_1, STATE_AFTER_EXIT_2),
            (PROCESS_PID_AFTER_EXIT_1, PROCESS_PID_AFTER_EXIT_2),
        ];
        for (a, b) in pairs {
            let (a, b) = (parse(a), parse(b));
            if a != GET_VERSION_1.parse::<Value>().unwrap() {
                assert_ne!(a, b, "the runs differ before normalization");
            }
            assert_same(&a, &b);
        }
    }

    #[test]
    fn state_keeps_what_is_deterministic() {
        let n = normalize(&parse(STATE_AFTER_NEXT_2));
        let st = &n["result"]["State"];
        assert_eq!(st["Pid"], "$PID");
        assert_eq!(st["TargetCommandLine"], "$BIN");
        assert_eq!(st["stopReason"], "next finished");
        assert_eq!(st["exited"], false);
        let t = &st["currentThread"];
        assert_eq!(t["id"], "$TID");
        assert_eq!(t["pc"], 4979337);
        assert_eq!(t["file"], "$FIXTURE/main.go");
        assert_eq!(t["line"], 67);
        assert_eq!(
            t["function"],
            json!({"name":"main.main","value":4979200,"type":0,"goType":0,"optimized":false})
        );
        assert_eq!(st["currentGoroutine"]["threadID"], "$TID");
        assert_eq!(st["currentGoroutine"]["waitReason"], 19);
        // g1's thread, then the idle ones (three futex/usleep threads) as one marker.
        let threads = st["Threads"].as_array().unwrap();
        assert_eq!(threads.len(), 2);
        assert_eq!(threads[0], *t);
        assert_eq!(threads[1], "$IDLE_THREADS");
        // The envelope is untouched.
        assert_eq!(n["id"], 9);
        assert_eq!(n["error"], Value::Null);
        // Idempotent.
        assert_eq!(normalize(&n), n);
    }

    #[test]
    fn stack_offsets() {
        let n = normalize(&parse(STACKTRACE_1));
        let frames = n["result"]["Locations"].as_array().unwrap();
        assert_eq!(frames[0]["FrameOffset"], -144);
        assert_eq!(frames[0]["FramePointerOffset"], -160);
        assert_eq!(frames[1]["file"], "$GOROOT/src/runtime/proc.go");
        assert_eq!(frames[1]["pc"], 4531847);
        assert_eq!(frames[2]["FrameOffset"], -24);
        assert_eq!(frames[2]["FramePointerOffset"], "$OFFSET");
        assert_eq!(frames[2]["Bottom"], true);
    }

    #[test]
    fn breakpoints_sorted_and_multi_address_breakpoint_canonical() {
        let raw = parse(LIST_BREAKPOINTS_2);
        let n = normalize(&raw);
        let bps = n["result"]["Breakpoints"].as_array().unwrap();
        let ids: Vec<i64> = bps.iter().map(|b| b["id"].as_i64().unwrap()).collect();
        assert_eq!(ids, [-2, -1, 2, 3, 6]);
        assert_eq!(bps[0]["addrs"], json!([4517828, 4620238, 4737732]));
        assert_eq!(bps[0]["addr"], 4517828);
        assert_eq!(bps[0]["addrpid"], json!(["$PID", "$PID", "$PID"]));
        assert_eq!(bps[0]["file"], "<multiple locations>");
        assert_eq!(bps[1]["file"], "$GOROOT/src/runtime/panic.go");
        assert_eq!(bps[2]["addr"], 4979327);
        assert_eq!(bps[2]["line"], 66);
        // A breakpoint whose expression found nothing has no addresses at all.
        assert_eq!(bps[4]["addrs"], Value::Null);
        assert_eq!(bps[4]["addrpid"], Value::Null);
        assert_eq!(bps[4]["ExprString"], "main.nosuchfn");
        // Another run listed runtime-fatal-throw's addresses in this order.
        let mut other = raw.clone();
        for bp in other["result"]["Breakpoints"].as_array_mut().unwrap() {
            if bp["id"] == -2 {
                let pid = bp["addrpid"][0].clone();
                bp["addr"] = json!(4517828);
                bp["addrs"] = json!([4517828, 4620238, 4737732]);
                bp["addrpid"] = json!([pid, pid, pid]);
            }
        }
        assert_ne!(other, raw);
        assert_same(&raw, &other);
    }

    #[test]
    fn versions_times_and_targets() {
        let v = normalize(&parse(GET_VERSION_1));
        assert_eq!(v["result"]["DelveVersion"], "$DELVE_VERSION");
        assert_eq!(v["result"]["TargetGoVersion"], "$GO_VERSION");
        assert_eq!(v["result"]["APIVersion"], 2);
        assert_eq!(v["result"]["MaxSupportedVersionOfGo"], "1.27.0");
        assert_eq!(
            normalize(&parse(LAST_MODIFIED_1))["result"]["Time"],
            "$TIME"
        );
        let t = normalize(&parse(LIST_TARGETS_1));
        let target = &t["result"]["Targets"][0];
        assert_eq!(target["Pid"], "$PID");
        assert_eq!(target["CmdLine"], "$BIN");
        assert_eq!(target["CurrentThread"]["id"], "$TID");
        assert_eq!(
            target["CurrentThread"]["file"],
            "$GOROOT/src/runtime/rt0_linux_amd64.s"
        );
        assert_eq!(target["CurrentThread"]["pc"], 4766240);
        let b = normalize(
            &json!({"id": 1, "result": {"BuildID": "dbcb6c2dcad24496cfe2c3e715b33f6a6fd127e5"}, "error": null}),
        );
        assert_eq!(b["result"]["BuildID"], "$BUILD_ID");
    }

    #[test]
    fn exited_process() {
        let n = normalize(&parse(STATE_AFTER_EXIT_1));
        assert_eq!(n["error"], "Process $PID has exited with status 0");
        assert_eq!(
            normalize(&parse(PROCESS_PID_AFTER_EXIT_1))["result"]["Pid"],
            "$PID"
        );
        assert_eq!(
            normalize(&json!(
                "Process 12 has exited with status 3; Process x has exited"
            )),
            json!("Process $PID has exited with status 3; Process x has exited")
        );
    }

    #[test]
    fn zero_empty_and_null_are_kept() {
        // The stub State{NonBlocking:true} answers while the target runs.
        let running = json!({"State": {"Pid": 0, "TargetCommandLine": "", "Running": true, "Threads": null,
            "exited": false, "exitStatus": 0, "When": ""}});
        assert_eq!(normalize(&running), running);
        let g = json!({"id": 7, "currentLoc": {}, "threadID": 0, "waitSince": 0});
        assert_eq!(normalize(&g), g);
        let v = json!({"DelveVersion": "", "TargetGoVersion": "", "BuildID": "", "Time": ""});
        assert_eq!(normalize(&v), v);
    }

    #[test]
    fn paths() {
        let cases = [
            ("/work/main/tests/fixtures/hello/main.go", "$FIXTURE/main.go"),
            ("/elsewhere/ferret/tests/fixtures/hello/main.go", "$FIXTURE/main.go"),
            ("/usr/local/go/src/runtime/proc.go", "$GOROOT/src/runtime/proc.go"),
            ("/root/.toolchains/go1.27.3/go/src/internal/runtime/syscall/linux/asm_linux_amd64.s",
             "$GOROOT/src/internal/runtime/syscall/linux/asm_linux_amd64.s"),
            ("/home/u/src/go/src/runtime/proc.go", "$GOROOT/src/runtime/proc.go"),
            ("/root/go/pkg/mod/golang.org/x/sys@v0.1.0/unix/syscall.go", "$GOMODCACHE/golang.org/x/sys@v0.1.0/unix/syscall.go"),
            ("<autogenerated>", "<autogenerated>"),
            ("/usr/lib/debug/.build-id", "/usr/lib/debug/.build-id"),
            ("main.go:66", "main.go:66"),
            ("a/b/src/x.go", "a/b/src/x.go"),
            (
                "could not find statement at /work/main/tests/fixtures/hello/main.go:12, please use a line with a statement",
                "could not find statement at $FIXTURE/main.go:12, please use a line with a statement",
            ),
            (
                "Breakpoint exists at /work/main/tests/fixtures/hello/main.go:64 at 4bfa16",
                "Breakpoint exists at $FIXTURE/main.go:64 at 4bfa16",
            ),
            (
                "sourceBp Path=\"/w/tests/fixtures/hello/main.go\"  Line=77",
                "sourceBp Path=\"$FIXTURE/main.go\"  Line=77",
            ),
        ];
        for (input, want) in cases {
            assert_eq!(normalize(&json!(input)), json!(want), "{input}");
        }
        let cmd = json!({"TargetCommandLine": "/tmp/ferret-proto-x/hello a /tmp/tests/fixtures/hello/b.txt"});
        assert_eq!(
            normalize(&cmd)["TargetCommandLine"],
            "$BIN a $FIXTURE/b.txt"
        );
    }

    #[test]
    fn variables_lose_heap_and_stack_addresses_only() {
        // From Eval of an interface holding a struct stored in rodata (reference transcript).
        let v = json!({"name":"sh","addr":24339870698528u64,"onlyAddr":false,"type":"main.Shape","kind":20,"value":"","base":0,
            "children":[{"name":"data","addr":5155280,"onlyAddr":false,"type":"main.Rect","kind":25,"value":"","base":0,"children":[]}]});
        let n = normalize(&v);
        assert_eq!(n["addr"], "$ADDR");
        assert_eq!(n["base"], 0);
        assert_eq!(n["children"][0]["addr"], 5155280);
        let p = json!({"name":"pp","addr":824634400000u64,"onlyAddr":false,"kind":22,"value":"824634400768","base":0,"children":[]});
        let n = normalize(&p);
        assert_eq!(n["addr"], "$ADDR");
        assert_eq!(n["value"], "$ADDR");
        let d = normalize(
            &json!({"Defers": [{"DeferredLoc": {}, "DeferLoc": {}, "SP": 824634400000u64, "Unreadable": ""}]}),
        );
        assert_eq!(d["Defers"][0]["SP"], "$ADDR");
    }

    #[test]
    fn diff_is_path_based() {
        let e = json!({"result": {"State": {"currentThread": {"line": 64}, "Threads": [1, 2]}, "gone": true}, "error": null});
        let a = json!({"result": {"State": {"currentThread": {"line": 65}, "Threads": [1, 3, 4]}, "extra": "x"}, "error": null});
        let mut got = diff(&e, &a);
        got.sort();
        let mut want = vec![
            ".result.State.Threads: expected 2 elements, got 3",
            ".result.State.Threads[1]: expected 2, got 3",
            ".result.State.Threads[2]: unexpected, got 4",
            ".result.State.currentThread.line: expected 64, got 65",
            ".result.gone: missing, expected true",
            ".result.extra: unexpected, got \"x\"",
        ];
        want.sort();
        assert_eq!(got, want);
        assert_eq!(diff(&json!(1), &json!("1")), [".: expected 1, got \"1\""]);
        assert!(diff(&e, &e).is_empty());
    }

    #[test]
    fn recorded_scenarios_are_well_formed() {
        let scenarios = load_scenarios();
        let names: Vec<&str> = scenarios.iter().map(|s| s.name.as_str()).collect();
        for want in [
            "breakpoints",
            "connect",
            "errors",
            "events",
            "restart",
            "run_control",
        ] {
            assert!(
                names.contains(&want),
                "proto-fixtures/{want}.json is missing"
            );
        }
        for s in &scenarios {
            assert!(
                !s.exchanges.is_empty() && !s.fixture_dir.is_empty() && !s.go_version.is_empty(),
                "{}",
                s.name
            );
            assert_eq!(
                s.exchanges.last().unwrap().method(),
                "Detach",
                "{} ends with Detach",
                s.name
            );
            for (i, x) in s.exchanges.iter().enumerate() {
                assert_eq!(x.response["id"], x.request["id"], "{} #{i}", s.name);
                let keys: Vec<&String> = x.response.as_object().unwrap().keys().collect();
                assert_eq!(keys.len(), 3, "{} #{i}: id, result, error", s.name);
                let n = normalize(&x.response);
                assert_eq!(normalize(&n), n, "{} #{i}: normalize is idempotent", s.name);
                let text = n.to_string();
                assert!(
                    !text.contains(&s.fixture_dir) && !text.contains("/tmp/"),
                    "{} #{i}: {text}",
                    s.name
                );
            }
        }
    }

    #[test]
    fn requests_follow_the_fixture() {
        let scenarios = load_scenarios();
        let s = scenarios.iter().find(|s| s.name == "breakpoints").unwrap();
        let source = std::fs::read_to_string(Path::new(&s.fixture_dir).join("main.go")).unwrap();
        let dir = std::env::temp_dir().join(format!("ferret-proto-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("main.go"), format!("// one more line\n{source}")).unwrap();
        let mut moved = 0;
        for x in &s.exchanges {
            let r = s.request_for(x, &dir);
            assert!(!r.to_string().contains(&s.fixture_dir));
            if let Some(l) = &x.line_of {
                let text = r.to_string();
                let old = format!("{}:{}", l.file, l.line);
                let new = format!("{}:{}", l.file, l.line + 1);
                assert!(!text.contains(&format!("{old}\"")), "{text}");
                assert!(
                    text.contains(&format!("{new}\""))
                        || r["params"][0]["Breakpoint"]["line"] == l.line + 1,
                    "{text}"
                );
                moved += 1;
            }
        }
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(moved >= 4);
        // Unchanged source: the request is the recorded one.
        let x = s.exchanges.iter().find(|x| x.line_of.is_some()).unwrap();
        assert_eq!(s.request_for(x, Path::new(&s.fixture_dir)), x.request);
    }

    #[test]
    fn fill_takes_the_current_thread() {
        let scenarios = load_scenarios();
        let s = scenarios.iter().find(|s| s.name == "run_control").unwrap();
        let x = s
            .exchanges
            .iter()
            .find(|x| x.method() == "GetThread")
            .unwrap();
        assert_eq!(x.fill, [("Id".to_owned(), "currentThread.id".to_owned())]);
        let mut r = x.request.clone();
        x.fill_from_state(&mut r, &json!({"currentThread": {"id": 4242}}));
        assert_eq!(r["params"][0]["Id"], 4242);
    }

    /// Set `FERRET_PROTO_COMPARE=DIR[:DIR...]` to directories recorded with
    /// `FERRET_PROTO_OUT=DIR scripts/record-proto-fixtures`: every exchange
    /// must normalize to the same value as in `proto-fixtures/`.
    #[test]
    fn rerecordings_normalize_equal() {
        let Some(dirs) = std::env::var_os("FERRET_PROTO_COMPARE") else {
            return;
        };
        let base = load_scenarios();
        for dir in std::env::split_paths(&dirs) {
            let other = load_scenarios_from(&dir);
            assert_eq!(base.len(), other.len());
            let mut problems = Vec::new();
            for (a, b) in base.iter().zip(&other) {
                assert_eq!(a.name, b.name);
                assert_eq!(a.exchanges.len(), b.exchanges.len(), "{}", a.name);
                for (i, (x, y)) in a.exchanges.iter().zip(&b.exchanges).enumerate() {
                    let unfilled = |e: &Exchange| {
                        let mut r = e.request.clone();
                        for (k, _) in &e.fill {
                            r["params"][0][k] = Value::Null;
                        }
                        r
                    };
                    assert_eq!(unfilled(x), unfilled(y), "{} #{i}", a.name);
                    for d in diff(&normalize(&x.response), &normalize(&y.response)) {
                        problems.push(format!("{} #{i} {}: {d}", a.name, x.method()));
                    }
                }
            }
            assert!(
                problems.is_empty(),
                "{}:\n{}",
                dir.display(),
                problems.join("\n")
            );
        }
    }
}
