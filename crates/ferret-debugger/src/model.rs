//! The session's plain data: what every front end (JSON-RPC, DAP) turns
//! into its own wire shapes. No protocol knowledge here.

use std::collections::BTreeMap;
use std::sync::Arc;

/// A function as shown to clients.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionRef {
    /// Fully qualified name (shared: listings repeat a few names 10^5 times).
    pub name: Arc<str>,
    /// Entry address.
    pub entry: u64,
    /// Compiled with optimizations.
    pub optimized: bool,
}

/// A resolved source position.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Location {
    /// The address.
    pub pc: u64,
    /// Source file (empty when unknown; shared like function names).
    pub file: Arc<str>,
    /// Source line (0 when unknown).
    pub line: u32,
    /// The function holding `pc`.
    pub function: Option<FunctionRef>,
    /// Every address of a multi-address location (breakpoints, FindLocation).
    pub pcs: Vec<u64>,
}

pub use ferret_gort::value::{LoadConfig, Variable};

/// Where an expression is evaluated (Delve's `EvalScope`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EvalScope {
    /// The goroutine (-1: the selected one).
    pub goroutine_id: i64,
    /// The frame, 0 being the innermost.
    pub frame: usize,
    /// A deferred call of that frame (0: none).
    pub deferred_call: usize,
}

/// A user breakpoint with Delve's attributes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Breakpoint {
    /// Positive id.
    pub id: i32,
    /// Optional name.
    pub name: String,
    /// Addresses.
    pub addrs: Vec<u64>,
    /// Source file of the first address.
    pub file: String,
    /// Source line of the first address.
    pub line: u32,
    /// Function of the first address.
    pub function_name: String,
    /// The location expression the client gave, if any.
    pub expr: String,
    /// Condition expression (stored; evaluated once expressions exist).
    pub cond: String,
    /// Hit condition, e.g. `> 3`.
    pub hit_cond: String,
    /// Whether the hit condition counts per goroutine.
    pub hit_cond_per_g: bool,
    /// A tracepoint: report and keep going (`continue` on the wire).
    pub tracepoint: bool,
    /// Trace returns.
    pub trace_return: bool,
    /// Collect the goroutine on hit.
    pub goroutine: bool,
    /// Frames of stack to collect on hit.
    pub stacktrace: i64,
    /// Expressions to evaluate on hit.
    pub variables: Vec<String>,
    /// Load arguments on hit with this config.
    pub load_args: Option<LoadConfig>,
    /// Load locals on hit with this config.
    pub load_locals: Option<LoadConfig>,
    /// Hits per goroutine id.
    pub hit_count: BTreeMap<i64, u64>,
    /// All hits.
    pub total_hit_count: u64,
    /// Disabled breakpoints are kept but not inserted.
    pub disabled: bool,
    /// For a watchpoint (a hardware data breakpoint): the watched
    /// expression (empty for code breakpoints).
    pub watch_expr: String,
    /// For a watchpoint: Delve's access bits (1 read, 2 write).
    pub watch_type: u8,
}

/// How a client asks for a breakpoint.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BreakpointRequest {
    /// Attributes to copy (name, cond, tracepoint, ...); `id` > 0 forces it.
    pub template: Breakpoint,
    /// Location expression (`main.main`, `file.go:12`); used when the
    /// template names no place.
    pub loc_expr: String,
    /// An explicit address (`addr` on the wire).
    pub addr: u64,
}

/// An OS thread of the target.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Thread {
    /// Kernel thread id.
    pub id: i32,
    /// Program counter.
    pub pc: u64,
    /// Source file at `pc`.
    pub file: String,
    /// Source line at `pc`.
    pub line: u32,
    /// Function at `pc`.
    pub function: Option<FunctionRef>,
    /// Id of the goroutine running on it (0: none).
    pub goroutine_id: i64,
    /// The breakpoint it is stopped at, if any.
    pub breakpoint: Option<Breakpoint>,
    /// What that breakpoint asked to load (`LoadArgs`, `LoadLocals`):
    /// the arguments and locals of the stopped frame.
    pub breakpoint_info: Option<BreakpointInfo>,
    /// A `stepout` finished on this thread: the returning function's
    /// results (empty when the command asked for none).
    pub return_values: Option<Vec<Variable>>,
}

/// The values a breakpoint loads when it stops a thread (Delve's
/// `BreakpointInfo`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BreakpointInfo {
    /// The frame's arguments, when the breakpoint has `LoadArgs`.
    pub arguments: Option<Vec<Variable>>,
    /// The frame's locals, when the breakpoint has `LoadLocals`.
    pub locals: Option<Vec<Variable>>,
}

/// A goroutine, as much as this layer knows of it so far.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Goroutine {
    /// Goroutine id.
    pub id: i64,
    /// Where it is.
    pub current_loc: Location,
    /// Its topmost frame outside the runtime.
    pub user_current_loc: Location,
    /// Where its `go` statement was.
    pub go_statement_loc: Location,
    /// Its start function.
    pub start_loc: Location,
    /// The thread running it (0: none).
    pub thread_id: i32,
    /// Runtime status (2 running, 4 waiting, ...).
    pub status: u64,
    /// The runtime's wait reason number (stale while running, as Delve shows).
    pub wait_reason: u64,
    /// The runtime's `nanotime` when it started waiting (0: unknown).
    pub wait_since: i64,
    /// pprof labels, in the runtime's order.
    pub labels: Vec<(String, String)>,
    /// Started by the runtime for itself (Delve's `G.System`).
    pub system: bool,
    /// Index in the runtime's list of all goroutines (`allgs`).
    pub index: usize,
    /// Why it could not be read ("" when it could; every other field is
    /// then empty, as Delve shows it).
    pub unreadable: String,
}

/// Why the target last stopped (Delve's names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StopKind {
    /// Not known.
    #[default]
    Unknown,
    /// Just launched.
    Launched,
    /// Just attached.
    Attached,
    /// The process exited.
    Exited,
    /// A user breakpoint.
    Breakpoint,
    /// An `int3` in the program itself.
    HardcodedBreakpoint,
    /// Halted on request.
    Manual,
    /// A next/step/stepout finished.
    NextFinished,
    /// A watchpoint fired.
    Watchpoint,
}

impl StopKind {
    /// Delve's wire name (empty for unknown).
    pub fn as_str(self) -> &'static str {
        match self {
            StopKind::Unknown => "",
            StopKind::Launched => "launched",
            StopKind::Attached => "attached",
            StopKind::Exited => "exited",
            StopKind::Breakpoint => "breakpoint",
            StopKind::HardcodedBreakpoint => "hardcoded breakpoint",
            StopKind::Manual => "manual",
            StopKind::NextFinished => "next finished",
            StopKind::Watchpoint => "watchpoint",
        }
    }
}

/// The debugger's state as clients see it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct State {
    /// Process id.
    pub pid: i32,
    /// The target's command line.
    pub command_line: String,
    /// Whether the target is running.
    pub running: bool,
    /// Whether it has exited.
    pub exited: bool,
    /// Exit status once exited.
    pub exit_status: i32,
    /// The selected thread.
    pub current_thread: Option<Thread>,
    /// The selected goroutine.
    pub current_goroutine: Option<Goroutine>,
    /// Every thread.
    pub threads: Vec<Thread>,
    /// A next/step/stepout was interrupted and can be continued or cancelled.
    pub next_in_progress: bool,
    /// Why it stopped.
    pub stop_reason: StopKind,
}

/// One frame of a stack trace.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Frame {
    /// Where: for frames above the first, `pc` is the return address and
    /// the file/line are those of the call.
    pub location: Location,
    /// Canonical frame address.
    pub cfa: u64,
    /// CFA relative to the goroutine's stack top (Delve's FrameOffset).
    pub frame_offset: i64,
    /// The frame pointer relative to the stack top (Delve's
    /// FramePointerOffset; 0 when the stack top is unknown).
    pub frame_pointer_offset: i64,
    /// The outermost frame.
    pub bottom: bool,
    /// A call inlined into the next frame (same PC and CFA).
    pub inlined: bool,
    /// For an inlined call, the `.debug_info` offset of its inlined-call
    /// entry (its variables are there).
    pub inlined_call: Option<u64>,
    /// On a system stack (g0 or gsignal), outside the goroutine's own.
    pub system_stack: bool,
    /// Deferred calls this frame registered that have not run yet, newest
    /// first (filled only when asked for).
    pub defers: Vec<DeferredCall>,
    /// Its local variables, when asked for.
    pub locals: Option<Vec<Variable>>,
    /// Its arguments and results, when asked for.
    pub arguments: Option<Vec<Variable>>,
}

/// A deferred call that has not run yet (Delve's `api.Defer`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DeferredCall {
    /// The deferred function, at its entry.
    pub deferred_loc: Location,
    /// The `defer` statement.
    pub defer_loc: Location,
    /// The stack pointer of the frame that deferred it.
    pub sp: u64,
    /// The code the runtime will call (the compiler's wrapper since Go
    /// 1.17): where Delve's scope of the deferred call is.
    pub wrapper_pc: u64,
    /// The address just past the runtime's record of it: the CFA Delve
    /// gives the deferred call's scope.
    pub scope_cfa: u64,
    /// Why it could not be read ("" when it could).
    pub unreadable: String,
}

/// Run-control commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    /// Run until something stops the target.
    Continue,
    /// Next line in the current function (stepping over calls).
    Next,
    /// Next line, stepping into calls to user functions.
    Step,
    /// Run until the current function returns, then load its results as
    /// the configuration says (none without one).
    StepOut(Option<LoadConfig>),
    /// One machine instruction.
    StepInstruction,
    /// Make a thread current.
    SwitchThread(i32),
    /// Make a goroutine current.
    SwitchGoroutine(i64),
}

/// A goroutine's creator, as the runtime recorded it
/// (`GODEBUG=tracebackancestors=N`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Ancestor {
    /// Its goroutine id.
    pub id: i64,
    /// Its stack when it made the next goroutine, one frame per recorded PC.
    pub stack: Vec<Frame>,
    /// Why it could not be read ("" when it could).
    pub unreadable: String,
}

/// Signal names for the numbers in a [`CrashReport`].
pub use ferret_target::linux::signal_name;

/// The first screen an engineer needs after a crash (`Ferret.CrashReport`,
/// `ferret crash`): how the process died, the goroutine that crashed and
/// where in user code, the panic, and what the other goroutines waited for.
#[derive(Debug, Clone, Default)]
pub struct CrashReport {
    /// The signal that ended the process (cores only: the first thread's
    /// `NT_SIGINFO`).
    pub fatal_signal: Option<i32>,
    /// The faulting address, when the kernel raised that signal for a
    /// fault.
    pub fault_address: Option<u64>,
    /// The thread that received it.
    pub thread_id: Option<i32>,
    /// The goroutine that crashed: the one running a panic, else the one
    /// on that thread.
    pub goroutine_id: Option<i64>,
    /// Its stack from its first frame outside the runtime.
    pub frames: Vec<Frame>,
    /// The panics it runs, oldest first.
    pub panics: Vec<ferret_gort::crash::Panic>,
    /// A fault in Go code the runtime turned into the panic.
    pub go_signal: Option<ferret_gort::crash::GoSignal>,
    /// The message of a fatal error (`runtime.throw`) when no panic runs.
    pub fatal_error: Option<String>,
    /// Every goroutine counted by wait reason.
    pub wait_reasons: crate::goroutines::GoroutineSummary,
}
