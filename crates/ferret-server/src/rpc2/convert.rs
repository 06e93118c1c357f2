//! The session's model in Delve's JSON shapes (service/api/types.go): the
//! one place that knows the wire names, their odd casing included.

use std::io::{self, Write};

use ferret_debugger::dump::DumpState;
use ferret_debugger::goroutines::{GoroutineListing, GoroutineSummary};
use ferret_debugger::model::{
    signal_name, Breakpoint, CrashReport, DeferredCall, Frame, FunctionRef, Goroutine, LoadConfig,
    Location, State, Thread, Variable,
};
use ferret_gort::bininfo::Kind;
use serde::Serialize;
use serde_json::{json, Map, Value};

/// `api.Function` on the wire.
#[derive(Serialize)]
struct WireFunction<'a> {
    name: &'a str,
    value: u64,
    #[serde(rename = "type")]
    kind: u8,
    #[serde(rename = "goType")]
    go_type: u8,
    optimized: bool,
}

impl<'a> From<&'a FunctionRef> for WireFunction<'a> {
    fn from(f: &'a FunctionRef) -> Self {
        WireFunction {
            name: &f.name,
            value: f.entry,
            kind: 0,
            go_type: 0,
            optimized: f.optimized,
        }
    }
}

/// `api.Location` on the wire (`function` and `pcs` only when present).
#[derive(Serialize)]
struct WireLocation<'a> {
    pc: u64,
    file: &'a str,
    line: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    function: Option<WireFunction<'a>>,
    #[serde(skip_serializing_if = "<[u64]>::is_empty")]
    pcs: &'a [u64],
}

impl<'a> From<&'a Location> for WireLocation<'a> {
    fn from(l: &'a Location) -> Self {
        WireLocation {
            pc: l.pc,
            file: &l.file,
            line: l.line,
            function: l.function.as_ref().map(Into::into),
            pcs: &l.pcs,
        }
    }
}

/// `api.Goroutine` on the wire. An unreadable goroutine is a zero one
/// with only `unreadable` set, as Delve sends it.
#[derive(Serialize)]
pub struct WireGoroutine<'a> {
    id: i64,
    #[serde(rename = "currentLoc")]
    current_loc: WireLocation<'a>,
    #[serde(rename = "userCurrentLoc")]
    user_current_loc: WireLocation<'a>,
    #[serde(rename = "goStatementLoc")]
    go_statement_loc: WireLocation<'a>,
    #[serde(rename = "startLoc")]
    start_loc: WireLocation<'a>,
    #[serde(rename = "threadID")]
    thread_id: i32,
    status: u64,
    #[serde(rename = "waitSince")]
    wait_since: i64,
    #[serde(rename = "waitReason")]
    wait_reason: u64,
    unreadable: &'a str,
    #[serde(
        skip_serializing_if = "<[(String, String)]>::is_empty",
        serialize_with = "labels_map"
    )]
    labels: &'a [(String, String)],
}

/// Labels as a JSON object, in the runtime's order.
fn labels_map<S: serde::Serializer>(
    labels: &&[(String, String)],
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.collect_map(labels.iter().map(|(k, v)| (k, v)))
}

static EMPTY_LOCATION: std::sync::LazyLock<Location> = std::sync::LazyLock::new(Location::default);

impl<'a> From<&'a Goroutine> for WireGoroutine<'a> {
    fn from(g: &'a Goroutine) -> Self {
        if !g.unreadable.is_empty() {
            let empty = || WireLocation::from(&*EMPTY_LOCATION);
            return WireGoroutine {
                id: 0,
                current_loc: empty(),
                user_current_loc: empty(),
                go_statement_loc: empty(),
                start_loc: empty(),
                thread_id: 0,
                status: 0,
                wait_since: 0,
                wait_reason: 0,
                unreadable: &g.unreadable,
                labels: &[],
            };
        }
        WireGoroutine {
            id: g.id,
            current_loc: (&g.current_loc).into(),
            user_current_loc: (&g.user_current_loc).into(),
            go_statement_loc: (&g.go_statement_loc).into(),
            start_loc: (&g.start_loc).into(),
            thread_id: g.thread_id,
            status: g.status,
            wait_since: g.wait_since,
            wait_reason: g.wait_reason,
            unreadable: "",
            labels: &g.labels,
        }
    }
}

/// Any wire struct as a JSON value (they cannot fail to serialize).
fn value_of(wire: impl Serialize) -> Value {
    serde_json::to_value(wire).expect("wire structs serialize")
}

/// `api.Function`.
pub fn function(f: &FunctionRef) -> Value {
    value_of(WireFunction::from(f))
}

/// `api.Location` (`pcs` only when there are some).
pub fn location(l: &Location) -> Value {
    value_of(WireLocation::from(l))
}

/// `api.Location` as FindLocation returns it (with `pcpids`).
pub fn found_location(l: &Location, pid: i32) -> Value {
    let mut out = location(l);
    if let Value::Object(map) = &mut out {
        map.insert("pcpids".into(), json!(vec![pid; l.pcs.len()]));
    }
    out
}

fn load_config(c: &Option<LoadConfig>) -> Value {
    match c {
        None => Value::Null,
        Some(c) => json!({
            "FollowPointers": c.follow_pointers,
            "MaxVariableRecurse": c.max_variable_recurse,
            "MaxStringLen": c.max_string_len,
            "MaxArrayValues": c.max_array_values,
            "MaxStructFields": c.max_struct_fields,
        }),
    }
}

/// `api.Breakpoint`.
pub fn breakpoint(b: &Breakpoint, pid: i32) -> Value {
    let hit_count: Map<String, Value> = b
        .hit_count
        .iter()
        .map(|(g, n)| (g.to_string(), json!(n)))
        .collect();
    let mut out = json!({
        "id": b.id,
        "name": b.name,
        "addr": if b.disabled { 0 } else { b.addrs.first().copied().unwrap_or(0) },
        // A disabled or pending breakpoint has no addresses in the target.
        "addrs": if b.disabled || b.addrs.is_empty() { Value::Null } else { json!(b.addrs) },
        "addrpid": if b.disabled || b.addrs.is_empty() { Value::Null } else { json!(vec![pid; b.addrs.len()]) },
        "file": b.file,
        "line": b.line,
        "functionName": b.function_name,
        "ExprString": b.expr,
        "Cond": b.cond,
        "HitCond": b.hit_cond,
        "HitCondPerG": b.hit_cond_per_g,
        "continue": b.tracepoint,
        "traceReturn": b.trace_return,
        "goroutine": b.goroutine,
        "stacktrace": b.stacktrace,
        "LoadArgs": load_config(&b.load_args),
        "LoadLocals": load_config(&b.load_locals),
        "WatchExpr": b.watch_expr,
        "WatchType": b.watch_type,
        "hitCount": hit_count,
        "totalHitCount": b.total_hit_count,
        "disabled": b.disabled,
        "RootFuncName": "",
        "TraceFollowCalls": 0,
    });
    let map = out.as_object_mut().expect("object");
    if b.function_name.is_empty() {
        map.remove("functionName");
    }
    if !b.variables.is_empty() {
        map.insert("variables".into(), json!(b.variables));
    }
    out
}

/// How much of a thread's stop context to show: Command replies carry
/// `breakPointInfo`, states carry `ReturnValues`, thread listings neither.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThreadView {
    /// ListThreads, GetThread, ListTargets.
    Listing,
    /// State.
    State,
    /// Command replies.
    Command,
}

/// `api.Thread`.
pub fn thread(t: &Thread, pid: i32, view: ThreadView) -> Value {
    let mut out = Map::new();
    out.insert("id".into(), json!(t.id));
    out.insert("pc".into(), json!(t.pc));
    out.insert("file".into(), json!(t.file));
    out.insert("line".into(), json!(t.line));
    if let Some(f) = &t.function {
        out.insert("function".into(), function(f));
    }
    out.insert("goroutineID".into(), json!(t.goroutine_id));
    if let Some(b) = &t.breakpoint {
        out.insert("breakPoint".into(), breakpoint(b, pid));
        if view == ThreadView::Command {
            let mut info = Map::new();
            if let Some(bp_info) = &t.breakpoint_info {
                let list = |vars: &Vec<Variable>| value_of(WireChildren(vars));
                // Empty lists are left out, as Go's omitempty does.
                if let Some(arguments) = bp_info.arguments.as_ref().filter(|a| !a.is_empty()) {
                    info.insert("arguments".into(), list(arguments));
                }
                if let Some(locals) = bp_info.locals.as_ref().filter(|l| !l.is_empty()) {
                    info.insert("locals".into(), list(locals));
                }
            }
            out.insert("breakPointInfo".into(), Value::Object(info));
        }
    }
    let returned = t
        .return_values
        .as_ref()
        .filter(|_| view != ThreadView::Listing);
    out.insert(
        "ReturnValues".into(),
        match returned {
            Some(values) => value_of(WireChildren(values)),
            None => Value::Null,
        },
    );
    out.insert("CallReturn".into(), json!(false));
    Value::Object(out)
}

/// `api.Goroutine`.
pub fn goroutine(g: &Goroutine) -> Value {
    value_of(WireGoroutine::from(g))
}

/// `ListGoroutinesOut`, written straight to JSON text: a listing can hold
/// hundreds of thousands of goroutines.
pub fn write_goroutine_listing(out: &mut dyn Write, listing: &GoroutineListing) -> io::Result<()> {
    #[derive(Serialize)]
    #[serde(rename_all = "PascalCase")]
    struct WireGroup<'a> {
        name: &'a str,
        offset: usize,
        count: usize,
        total: usize,
    }
    #[derive(Serialize)]
    #[serde(rename_all = "PascalCase")]
    struct Listing<'a> {
        goroutines: Vec<WireGoroutine<'a>>,
        nextg: i64,
        groups: Option<Vec<WireGroup<'a>>>,
        too_many_groups: bool,
    }
    let wire = Listing {
        goroutines: listing.goroutines.iter().map(WireGoroutine::from).collect(),
        nextg: listing.next,
        groups: listing.groups.as_ref().map(|groups| {
            groups
                .iter()
                .map(|g| WireGroup {
                    name: &g.name,
                    offset: g.offset,
                    count: g.count,
                    total: g.total,
                })
                .collect()
        }),
        too_many_groups: listing.too_many_groups,
    };
    serde_json::to_writer(out, &wire).map_err(io::Error::from)
}

/// About how many bytes [`write_goroutine_listing`] writes.
pub fn goroutine_listing_size(listing: &GoroutineListing) -> usize {
    listing.goroutines.len() * BYTES_PER_GOROUTINE
}

/// About how many bytes of JSON one goroutine takes.
const BYTES_PER_GOROUTINE: usize = 700;

/// `api.DumpState`.
pub fn dump_state(s: &DumpState) -> Value {
    json!({
        "Dumping": s.dumping,
        "AllDone": s.all_done,
        "ThreadsDone": s.threads_done,
        "ThreadsTotal": s.threads_total,
        "MemDone": s.mem_done,
        "MemTotal": s.mem_total,
        "Err": s.err,
    })
}

/// `api.DebuggerState`; `in_command` for Command replies.
pub fn state(s: &State, in_command: bool) -> Value {
    let view = if in_command {
        ThreadView::Command
    } else {
        ThreadView::State
    };
    let mut out = Map::new();
    out.insert("Pid".into(), json!(s.pid));
    out.insert("TargetCommandLine".into(), json!(s.command_line));
    out.insert("Running".into(), json!(s.running));
    out.insert("Recording".into(), json!(false));
    out.insert("CoreDumping".into(), json!(false));
    if let Some(t) = &s.current_thread {
        out.insert("currentThread".into(), thread(t, s.pid, view));
    }
    if let Some(g) = &s.current_goroutine {
        out.insert("currentGoroutine".into(), goroutine(g));
    }
    let threads: Vec<Value> = s.threads.iter().map(|t| thread(t, s.pid, view)).collect();
    out.insert(
        "Threads".into(),
        if s.running || threads.is_empty() {
            Value::Null
        } else {
            json!(threads)
        },
    );
    out.insert("NextInProgress".into(), json!(s.next_in_progress));
    out.insert("WatchOutOfScope".into(), Value::Null);
    out.insert("exited".into(), json!(s.exited));
    out.insert("exitStatus".into(), json!(s.exit_status));
    out.insert("When".into(), json!(""));
    let reason = s.stop_reason.as_str();
    if !reason.is_empty() && !s.running {
        out.insert("stopReason".into(), json!(reason));
    }
    Value::Object(out)
}

/// `api.Stackframe`.
pub fn frame(f: &Frame) -> Value {
    value_of(WireFrame::from(f))
}

/// `{key: [api.Variable...]}`, written straight to text: a million-element
/// value must not become a value tree (nor a second tree of wire structs).
pub fn write_variables_reply(
    out: &mut dyn Write,
    key: &str,
    variables: &[Variable],
) -> io::Result<()> {
    let mut reply = std::collections::BTreeMap::new();
    reply.insert(key, WireChildren(variables));
    serde_json::to_writer(out, &reply).map_err(io::Error::from)
}

/// About how many bytes [`write_variables_reply`] writes.
pub fn variables_size(variables: &[Variable]) -> usize {
    variables.iter().map(variable_size).sum()
}

/// `{"Variable": api.Variable}`, as `Eval` answers.
pub fn write_eval_reply(out: &mut dyn Write, v: &Variable) -> io::Result<()> {
    let mut reply = std::collections::BTreeMap::new();
    reply.insert("Variable", WireVariable(v));
    serde_json::to_writer(out, &reply).map_err(io::Error::from)
}

/// About how many bytes `v` takes as JSON, its children included.
pub fn variable_size(v: &Variable) -> usize {
    node_count(v) * BYTES_PER_VARIABLE
}

/// About how many bytes of JSON a variable without children takes.
const BYTES_PER_VARIABLE: usize = 260;

/// How many variables `v` holds, itself included.
fn node_count(v: &Variable) -> usize {
    1 + v.packed.as_ref().map_or(0, |p| p.len()) + v.children.iter().map(node_count).sum::<usize>()
}

/// `api.Variable` on the wire, serialized from the model as it is walked.
#[derive(Clone, Copy)]
struct WireVariable<'a>(&'a Variable);

impl Serialize for WireVariable<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let v = self.0;
        // Delve reports every signed integer as int and every unsigned one
        // as uint.
        let kind = match v.kind {
            Some(k) if k.is_signed() => Kind::Int as u8,
            Some(k) if k.is_unsigned() => Kind::Uint as u8,
            Some(k) => k as u8,
            None => 0,
        };
        let mut out = serializer.serialize_struct("Variable", 16)?;
        out.serialize_field("name", &v.name)?;
        out.serialize_field("addr", &v.addr)?;
        out.serialize_field("onlyAddr", &v.only_addr)?;
        out.serialize_field("type", &v.type_name)?;
        out.serialize_field("realType", &v.real_type)?;
        out.serialize_field("flags", &v.flags)?;
        out.serialize_field("kind", &kind)?;
        out.serialize_field("value", &v.value)?;
        out.serialize_field(
            "StringValueBytes",
            &v.string_bytes.as_deref().map(crate::rpc2::base64_encode),
        )?;
        out.serialize_field("len", &v.len)?;
        out.serialize_field("cap", &v.cap)?;
        match v.kind {
            // Delve shows a complex number's parts as two float children
            // without type or address, whose own children are null.
            Some(Kind::Complex64 | Kind::Complex128) => {
                let part_kind = if v.kind == Some(Kind::Complex64) {
                    13
                } else {
                    14
                };
                let (re, im) = complex_parts(&v.value);
                out.serialize_field(
                    "children",
                    &[
                        ComplexPart("real", part_kind, re),
                        ComplexPart("imaginary", part_kind, im),
                    ],
                )?;
            }
            _ if v.packed.is_some() => out.serialize_field("children", &WireElements(v))?,
            _ => out.serialize_field("children", &WireChildren(&v.children))?,
        }
        out.serialize_field("base", &v.base)?;
        out.serialize_field("unreadable", &v.unreadable)?;
        out.serialize_field("LocationExpr", &v.location_expr)?;
        out.serialize_field("DeclLine", &v.decl_line)?;
        out.end()
    }
}

/// A variable's children on the wire, packed ones made one at a time.
struct WireElements<'a>(&'a Variable);

impl Serialize for WireElements<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let mut seq = serializer.serialize_seq(Some(self.0.child_count()))?;
        for child in self.0.each_child() {
            seq.serialize_element(&WireVariable(&child))?;
        }
        seq.end()
    }
}

/// Variables on the wire.
struct WireChildren<'a>(&'a [Variable]);

impl Serialize for WireChildren<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.iter().map(WireVariable))
    }
}

/// One part of a complex number: name, kind, value.
struct ComplexPart<'a>(&'a str, u8, &'a str);

impl Serialize for ComplexPart<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let ComplexPart(name, kind, value) = *self;
        let mut out = serializer.serialize_struct("Variable", 16)?;
        out.serialize_field("name", name)?;
        out.serialize_field("addr", &0)?;
        out.serialize_field("onlyAddr", &false)?;
        out.serialize_field("type", "")?;
        out.serialize_field("realType", "")?;
        out.serialize_field("flags", &0)?;
        out.serialize_field("kind", &kind)?;
        out.serialize_field("value", value)?;
        out.serialize_field("StringValueBytes", &None::<String>)?;
        out.serialize_field("len", &0)?;
        out.serialize_field("cap", &0)?;
        out.serialize_field("children", &None::<()>)?;
        out.serialize_field("base", &0)?;
        out.serialize_field("unreadable", "")?;
        out.serialize_field("LocationExpr", "")?;
        out.serialize_field("DeclLine", &0)?;
        out.end()
    }
}

/// The real and imaginary texts of a complex value `(re + imi)`.
fn complex_parts(text: &str) -> (&str, &str) {
    let inner = text.trim_start_matches('(').trim_end_matches(')');
    match inner.split_once(" + ") {
        Some((re, im)) => (re, im.trim_end_matches('i')),
        None => ("", ""),
    }
}

/// A register's value as Delve prints it: 16 hex digits, and for `Rflags`
/// the flags that are set.
pub fn register_value_text(name: &str, value: u64) -> String {
    let hex = format!("{value:#018x}");
    if name == "Rflags" {
        format!("{hex}\t[{}]", eflags_text(value))
    } else {
        hex
    }
}

/// `ListRegisters`' result: the `Registers` text (names right-aligned, as
/// the terminal prints it) and the `Regs` list.
pub fn registers(regs: &[(String, u64, u16)]) -> Value {
    let width = regs
        .iter()
        .map(|(name, _, _)| name.len())
        .max()
        .unwrap_or(0);
    let text: String = regs
        .iter()
        .map(|(name, value, _)| format!("{name:>width$} = {}\n", register_value_text(name, *value)))
        .collect();
    json!({
        "Registers": text,
        "Regs": regs.iter().map(|(name, value, number)| json!({
            "Name": name,
            "Value": register_value_text(name, *value),
            "DwarfNumber": number,
        })).collect::<Vec<_>>(),
    })
}

/// The flags of an x86 `RFLAGS` value as Delve names them: set single-bit
/// flags in bit order, `IOPL=n`, and `unknown_flags=0x..` for the rest.
fn eflags_text(value: u64) -> String {
    const BITS: [(u32, &str); 16] = [
        (0, "CF"),
        (2, "PF"),
        (4, "AF"),
        (6, "ZF"),
        (7, "SF"),
        (8, "TF"),
        (9, "IF"),
        (10, "DF"),
        (11, "OF"),
        (14, "NT"),
        (16, "RF"),
        (17, "VM"),
        (18, "AC"),
        (19, "VIF"),
        (20, "VIP"),
        (21, "ID"),
    ];
    let mut parts: Vec<String> = BITS
        .iter()
        .filter(|(bit, _)| value & (1 << bit) != 0)
        .map(|(_, name)| (*name).to_owned())
        .collect();
    parts.push(format!("IOPL={}", (value >> 12) & 3));
    let known = BITS.iter().fold(0u64, |m, (bit, _)| m | 1 << bit) | 3 << 12 | 1 << 1;
    if value & !known != 0 {
        parts.push(format!("unknown_flags={:#x}", value & !known));
    }
    parts.join(" ")
}

/// `Stacktrace`'s result, written straight from the frames.
pub fn write_stacktrace(out: &mut dyn Write, frames: &[Frame]) -> io::Result<()> {
    #[derive(Serialize)]
    #[serde(rename_all = "PascalCase")]
    struct Stacktrace<'a> {
        locations: Vec<WireFrame<'a>>,
    }
    let wire = Stacktrace {
        locations: frames.iter().map(WireFrame::from).collect(),
    };
    serde_json::to_writer(out, &wire).map_err(io::Error::from)
}

/// About how many bytes [`write_stacktrace`] writes.
pub fn stacktrace_size(frames: &[Frame]) -> usize {
    let variables = |vars: &Option<Vec<Variable>>| vars.as_deref().map_or(0, variables_size);
    frames
        .iter()
        .map(|f| BYTES_PER_FRAME + variables(&f.locals) + variables(&f.arguments))
        .sum()
}

/// About how many bytes of JSON one frame takes without its variables.
const BYTES_PER_FRAME: usize = 500;

/// `api.Stackframe` on the wire.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct WireFrame<'a> {
    #[serde(flatten)]
    location: WireLocation<'a>,
    locals: Option<WireChildren<'a>>,
    arguments: Option<WireChildren<'a>>,
    frame_offset: i64,
    frame_pointer_offset: i64,
    defers: Vec<WireDefer<'a>>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    bottom: bool,
    err: &'static str,
}

impl<'a> From<&'a Frame> for WireFrame<'a> {
    fn from(f: &'a Frame) -> Self {
        WireFrame {
            location: WireLocation::from(&f.location),
            locals: f.locals.as_deref().map(WireChildren),
            arguments: f.arguments.as_deref().map(WireChildren),
            frame_offset: f.frame_offset,
            frame_pointer_offset: f.frame_pointer_offset,
            defers: f.defers.iter().map(WireDefer::from).collect(),
            bottom: f.bottom,
            err: "",
        }
    }
}

/// `api.Defer` on the wire.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct WireDefer<'a> {
    deferred_loc: WireLocation<'a>,
    defer_loc: WireLocation<'a>,
    #[serde(rename = "SP")]
    sp: u64,
    unreadable: &'a str,
}

impl<'a> From<&'a DeferredCall> for WireDefer<'a> {
    fn from(d: &'a DeferredCall) -> Self {
        WireDefer {
            deferred_loc: WireLocation::from(&d.deferred_loc),
            defer_loc: WireLocation::from(&d.defer_loc),
            sp: d.sp,
            unreadable: &d.unreadable,
        }
    }
}

/// `Ferret.CrashReport`'s result.
pub fn crash_report(r: &CrashReport) -> Value {
    json!({
        "Signal": r.fatal_signal.map(|n| json!({
            "Number": n,
            "Name": signal_name(n),
            "FaultAddress": r.fault_address,
            "ThreadID": r.thread_id,
        })),
        "GoroutineID": r.goroutine_id,
        "GoSignal": r.go_signal.map(|s| json!({
            "Number": s.signal,
            "Name": signal_name(s.signal as i32),
            "Address": s.addr,
            "PC": s.pc,
        })),
        "Panics": r.panics.iter().map(|p| json!({
            "Message": p.message,
            "Recovered": p.recovered,
            "Value": value_of(WireVariable(&p.value)),
        })).collect::<Vec<_>>(),
        "FatalError": r.fatal_error,
        "Frames": r.frames.iter().map(frame).collect::<Vec<_>>(),
        "WaitReasons": goroutine_summary(&r.wait_reasons),
    })
}

/// `Ferret.GoroutineSummary`'s result.
pub fn goroutine_summary(s: &GoroutineSummary) -> Value {
    let seconds = |ns: i64| ns as f64 / 1e9;
    json!({
        "Total": s.total,
        "Matched": s.matched,
        "Now": s.now_ns,
        "NowEstimated": s.now_estimated,
        "Groups": s.groups.iter().map(|g| json!({
            "Key": g.key,
            "Count": g.count,
            "OldestWaitSeconds": g.oldest_wait_ns.map(seconds),
            "SampleIDs": g.sample_ids,
        })).collect::<Vec<_>>(),
        "Process": s.resources.as_ref().map(|r| json!({"Threads": r.threads, "FDs": r.fds})),
    })
}
