//! The session's model in Delve's JSON shapes (service/api/types.go): the
//! one place that knows the wire names, their odd casing included.

use ferret_debugger::goroutines::GoroutineSummary;
use ferret_debugger::model::{
    Breakpoint, Frame, FunctionRef, Goroutine, LoadConfig, Location, State, Thread,
};
use serde_json::{json, Map, Value};

/// `api.Function`.
pub fn function(f: &FunctionRef) -> Value {
    json!({"name": f.name, "value": f.entry, "type": 0, "goType": 0, "optimized": f.optimized})
}

/// `api.Location` (`pcs` only when there are some).
pub fn location(l: &Location) -> Value {
    let mut out = Map::new();
    out.insert("pc".into(), json!(l.pc));
    out.insert("file".into(), json!(l.file));
    out.insert("line".into(), json!(l.line));
    if let Some(f) = &l.function {
        out.insert("function".into(), function(f));
    }
    if !l.pcs.is_empty() {
        out.insert("pcs".into(), json!(l.pcs));
    }
    Value::Object(out)
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
        "WatchExpr": "",
        "WatchType": 0,
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
            out.insert("breakPointInfo".into(), json!({}));
        }
    }
    let returned = t.returned && view != ThreadView::Listing;
    out.insert(
        "ReturnValues".into(),
        if returned { json!([]) } else { Value::Null },
    );
    out.insert("CallReturn".into(), json!(false));
    Value::Object(out)
}

/// `api.Goroutine`.
pub fn goroutine(g: &Goroutine) -> Value {
    // Delve sends an unreadable goroutine as a zero one with only this set.
    if !g.unreadable.is_empty() {
        let mut out = goroutine(&Goroutine::default());
        out["unreadable"] = json!(g.unreadable);
        return out;
    }
    let mut out = json!({
        "id": g.id,
        "currentLoc": location(&g.current_loc),
        "userCurrentLoc": location(&g.user_current_loc),
        "goStatementLoc": location(&g.go_statement_loc),
        "startLoc": location(&g.start_loc),
        "threadID": g.thread_id,
        "status": g.status,
        "waitSince": g.wait_since,
        "waitReason": g.wait_reason,
        "unreadable": "",
    });
    // `labels` is omitted when empty (omitempty in Delve).
    if !g.labels.is_empty() {
        let labels: Map<String, Value> = g
            .labels
            .iter()
            .map(|(k, v)| (k.clone(), json!(v)))
            .collect();
        out["labels"] = Value::Object(labels);
    }
    out
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
    let mut out = location(&f.location);
    let map = out.as_object_mut().expect("object");
    map.insert("Locals".into(), Value::Null);
    map.insert("Arguments".into(), Value::Null);
    map.insert("FrameOffset".into(), json!(f.frame_offset));
    map.insert("FramePointerOffset".into(), json!(f.frame_pointer_offset));
    map.insert("Defers".into(), json!([]));
    if f.bottom {
        map.insert("Bottom".into(), json!(true));
    }
    map.insert("Err".into(), json!(""));
    out
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
