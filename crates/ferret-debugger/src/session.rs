//! The debugging session: one tracer thread that owns the target, and a
//! cheap, cloneable [`Debugger`] handle that every client uses.
//!
//! Requests are closures sent to the tracer thread and run there in order,
//! so every ptrace call happens on the thread that attached. While a run
//! command waits for the target, later requests queue behind it (as they
//! wait for Delve's target lock); [`Debugger::state`] with `non_blocking`
//! and [`Debugger::halt`] do not queue.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use ferret_gort::bininfo::{
    is_private_runtime, location_text, variable_place, DeclaredVariable, LocationSpec,
    VariablePlace, VariableRole,
};
use ferret_gort::crash::PanicLayout;
use ferret_gort::disasm::direct_call_targets;
use ferret_gort::eval::{
    assignment, channel_waiters, evaluate, place_of, Binding, Frame as EvalFrame,
};
use ferret_gort::goroutine::{RuntimeLayout, G};
use ferret_gort::stack::{frame_addresses, stack_window, unwind, StackFrame, UnwindStart};
use ferret_gort::value::{flags as value_flags, LoadConfig, Loader, Variable};
use ferret_gort::{BinaryError, BinaryInfo};
use ferret_target::core::{write_core, CoreFile};
use ferret_target::linux::{Event, FirstStop, HaltHandle, LaunchOptions, Process, StopReason};
use ferret_target::{Memory, PrefetchedMemory, Registers, TargetError, ThreadState};

use crate::dump::{DumpOutcome, DumpProgress, DumpState};
use crate::error::{Result, SessionError};
use crate::goroutines::{
    diff, is_system_start, is_user_frame, matches, summarize, summary_value, wait_ns, DiffGroup,
    GoroutineField, GoroutineFilter, GoroutineListing, GoroutineSummary, GroupOptions, Grouper,
    SummaryKey, SummaryRequest,
};
use crate::model::{
    Ancestor, Breakpoint, BreakpointInfo, BreakpointRequest, Command, CrashReport, DeferredCall,
    EvalScope, Frame, FunctionRef, Goroutine, Location, State, StopKind, Thread,
};

/// What to debug.
#[derive(Debug, Clone)]
pub enum TargetSpec {
    /// Start a program.
    Launch(LaunchOptions),
    /// Attach to a running process; the executable defaults to
    /// `/proc/PID/exe`.
    Attach {
        /// The process.
        pid: i32,
        /// Its executable, if not the one `/proc` names.
        binary: Option<PathBuf>,
    },
    /// Open a core file of `binary`.
    Core {
        /// The executable that crashed.
        binary: PathBuf,
        /// The core file.
        core: PathBuf,
        /// Open it even when it was not made from `binary` (build ids
        /// differ).
        allow_mismatch: bool,
    },
}

/// A job for the tracer thread.
type Job = Box<dyn FnOnce(&mut Session) + Send>;

/// What the tracer thread is asked to do.
enum Message {
    /// Run a job on the session.
    Job(Job),
    /// Run a client's sequence of [`Debugger`] calls (see
    /// [`Debugger::run_on_tracer`]).
    Calls(Box<dyn FnOnce() + Send>),
}

thread_local! {
    /// The session, on the tracer thread only (elsewhere `None`): calls a
    /// client makes from [`Debugger::run_on_tracer`] reach it here at once
    /// instead of queueing behind themselves.
    static TRACER_SESSION: std::cell::RefCell<Option<Session>> =
        const { std::cell::RefCell::new(None) };
}

/// Runs `job` on this thread's session, or gives it back when this is not
/// the tracer thread (or its session is busy: a job calling back into the
/// session must queue).
fn run_here(job: Job) -> std::result::Result<(), Job> {
    TRACER_SESSION.with(|session| match session.try_borrow_mut() {
        Ok(mut session) => match session.as_mut() {
            Some(session) => {
                job(session);
                Ok(())
            }
            None => Err(job),
        },
        Err(_) => Err(job),
    })
}

/// What clients may read without queueing behind the tracer thread.
#[derive(Debug)]
struct Shared {
    pid: AtomicI32,
    command_line: Mutex<String>,
    running: AtomicBool,
    halt: Mutex<Option<HaltHandle>>,
    /// A client asked for a halt (as opposed to a halt made to serve a
    /// [`Debugger::peek`]).
    halt_requested: AtomicBool,
    /// Jobs that may briefly stop a running target: the run loop serves
    /// them and resumes.
    peeks: PeekQueue,
    /// A halt was sent to serve peeks (a stop it causes is not reported).
    peek_halt: AtomicBool,
    binary: PathBuf,
    bininfo: Arc<BinaryInfo>,
    attached: bool,
    /// The core dump being (or last) written.
    dump: DumpProgress,
}

/// An I/O error as Go words it (`no such file or directory`): the OS's
/// message, lower-cased, without Rust's `(os error N)`.
fn go_error_text(e: &std::io::Error) -> String {
    let text = e.to_string();
    let text = match text.rfind(" (os error ") {
        Some(at) => &text[..at],
        None => &text,
    };
    let mut chars = text.chars();
    chars
        .next()
        .map(|first| first.to_lowercase().chain(chars).collect())
        .unwrap_or_default()
}

/// Frames of the crashed goroutine read for a crash report.
const CRASH_DEPTH: usize = 64;

/// Longest fatal-error message read, in bytes.
const MAX_THROW_MESSAGE: u64 = 1024;

/// Goroutine ids listed per wait reason in a crash report.
const CRASH_SAMPLES: usize = 5;

/// A job running `f` on the tracer thread, and where its answer arrives.
fn job_with_answer<R: Send + 'static>(
    f: impl FnOnce(&mut Session) -> R + Send + 'static,
) -> (Job, mpsc::Receiver<R>) {
    let (tx, rx) = mpsc::channel();
    let job: Job = Box::new(move |session: &mut Session| {
        let _ = tx.send(f(session));
    });
    (job, rx)
}

/// How long [`Debugger::peek`] and [`Debugger::halt`] wait before asking a
/// running target to halt again.
const PEEK_HALT_RETRY: std::time::Duration = std::time::Duration::from_millis(20);

/// Jobs waiting for [`Debugger::peek`].
#[derive(Default)]
struct PeekQueue(Mutex<Vec<Job>>);

impl std::fmt::Debug for PeekQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let pending = self.0.lock().map_or(0, |jobs| jobs.len());
        f.debug_struct("PeekQueue")
            .field("pending", &pending)
            .finish()
    }
}

/// A handle on the debugging session; clone it freely.
#[derive(Debug, Clone)]
pub struct Debugger {
    jobs: mpsc::Sender<Message>,
    shared: Arc<Shared>,
}

impl Debugger {
    /// Opens the binary, then starts the tracer thread and the target.
    pub fn start(spec: TargetSpec) -> Result<Debugger> {
        let binary = match &spec {
            TargetSpec::Launch(options) => options.program.clone(),
            TargetSpec::Attach {
                binary: Some(binary),
                ..
            } => binary.clone(),
            TargetSpec::Attach { pid, binary: None } => {
                std::fs::read_link(format!("/proc/{pid}/exe"))
                    .map_err(|_| SessionError::Target(format!("no process with pid {pid}")))?
            }
            TargetSpec::Core { binary, .. } => binary.clone(),
        };
        // A core may come from a program that is not Go: its threads,
        // registers and memory are still served.
        let bininfo = Arc::new(match &spec {
            TargetSpec::Core { .. } => BinaryInfo::open_any(&binary)?,
            _ => BinaryInfo::open(&binary)?,
        });
        let (jobs, inbox) = mpsc::channel::<Message>();
        let (ready_tx, ready_rx) = mpsc::channel::<Result<Arc<Shared>>>();
        std::thread::Builder::new()
            .name("ferret-tracer".into())
            .spawn(move || {
                let session = match Session::open(spec, binary, bininfo) {
                    Ok(session) => session,
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                        return;
                    }
                };
                let _ = ready_tx.send(Ok(session.shared.clone()));
                TRACER_SESSION.set(Some(session));
                while let Ok(message) = inbox.recv() {
                    match message {
                        Message::Job(job) => {
                            let _ = run_here(job);
                        }
                        Message::Calls(calls) => calls(),
                    }
                    let ended = TRACER_SESSION.with_borrow(|s| s.as_ref().is_none_or(|s| s.ended));
                    if ended {
                        break;
                    }
                }
                TRACER_SESSION.set(None);
            })
            .map_err(|e| SessionError::Target(format!("cannot start the tracer thread: {e}")))?;
        let shared = ready_rx.recv().map_err(|_| SessionError::Ended)??;
        Ok(Debugger { jobs, shared })
    }

    /// Runs `f` on the tracer thread and waits for its result.
    fn call<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Session) -> R + Send + 'static,
    ) -> Result<R> {
        let (job, answer) = job_with_answer(f);
        self.submit(job)?;
        answer.recv().map_err(|_| SessionError::Ended)
    }

    /// Hands `job` to the tracer thread, or runs it at once when this is
    /// the tracer thread (inside [`Debugger::run_on_tracer`]).
    fn submit(&self, job: Job) -> Result<()> {
        match run_here(job) {
            Ok(()) => Ok(()),
            Err(job) => self
                .jobs
                .send(Message::Job(job))
                .map_err(|_| SessionError::Ended),
        }
    }

    /// Runs `calls` (any sequence of this handle's methods) on the tracer
    /// thread itself, then hands the result to `done` there: a client
    /// waits for it without holding a thread, and its calls skip the hop
    /// to the tracer thread. Use it for calls that finish on their own;
    /// halting a running target (`halt`, and peeks while a `continue`
    /// runs) must be asked from another thread.
    pub fn run_on_tracer<R: 'static>(
        &self,
        calls: impl FnOnce(&Debugger) -> R + Send + 'static,
        done: impl FnOnce(R) + Send + 'static,
    ) -> Result<()> {
        let debugger = self.clone();
        self.jobs
            .send(Message::Calls(Box::new(move || done(calls(&debugger)))))
            .map_err(|_| SessionError::Ended)
    }

    /// Runs `f` on the tracer thread as soon as possible: at once when the
    /// target is stopped; while it runs, by stopping it briefly, running
    /// `f` and resuming it, so a running `continue` goes on unnoticed.
    fn peek<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Session) -> R + Send + 'static,
    ) -> Result<R> {
        let (job, rx) = job_with_answer(f);
        self.shared
            .peeks
            .0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(job);
        // Whichever comes first serves it: the run loop after the halt
        // below, or this job once the tracer thread is free.
        self.submit(Box::new(|session: &mut Session| {
            session.serve_peeks();
        }))?;
        self.await_halting(&rx, &self.shared.peek_halt)
    }

    /// Waits for the answer on `answer`, halting the target meanwhile
    /// whenever it runs: a halt only reaches a target that is executing
    /// (between the stops of a run it is a no-op), so it is asked again
    /// until the answer comes. `flag` records why the target was halted.
    fn await_halting<R>(&self, answer: &mpsc::Receiver<R>, flag: &AtomicBool) -> Result<R> {
        loop {
            if self.shared.running.load(Ordering::SeqCst) {
                if let Some(handle) = self
                    .shared
                    .halt
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .as_ref()
                {
                    flag.store(true, Ordering::SeqCst);
                    handle.halt();
                }
            }
            match answer.recv_timeout(PEEK_HALT_RETRY) {
                Ok(answer) => return Ok(answer),
                Err(mpsc::RecvTimeoutError::Timeout) => continue,
                Err(mpsc::RecvTimeoutError::Disconnected) => return Err(SessionError::Ended),
            }
        }
    }

    /// Starts writing a core of the live target to `dest` (Delve's
    /// `DumpStart`) and returns the dump's state. The file is created at
    /// once, so a bad path is the answer; the writing goes on on the
    /// tracer thread (requests needing the target wait behind it), and a
    /// dump that fails or is canceled leaves no file.
    pub fn dump_start(&self, dest: PathBuf) -> Result<DumpState> {
        self.call(|s| s.check_can_dump())??;
        if self.shared.dump.state().dumping {
            return Err(SessionError::Eval("core dump in progress".into()));
        }
        if let Err(e) = std::fs::File::create(&dest) {
            return Err(SessionError::Eval(format!(
                "open {}: {}",
                dest.display(),
                go_error_text(&e)
            )));
        }
        if !self.shared.dump.begin() {
            return Err(SessionError::Eval("core dump in progress".into()));
        }
        let shared = self.shared.clone();
        self.submit(Box::new(move |session: &mut Session| {
            let outcome = session.dump(&dest, &shared.dump);
            if !matches!(outcome, DumpOutcome::Written) {
                let _ = std::fs::remove_file(&dest);
            }
            shared.dump.finish(outcome);
        }))?;
        Ok(self.shared.dump.state())
    }

    /// The dump's state once it ends or `wait` has passed (Delve's
    /// `DumpWait`; a zero `wait` answers at once).
    pub fn dump_wait(&self, wait: std::time::Duration) -> DumpState {
        self.shared.dump.wait(wait)
    }

    /// Asks a running dump to stop (Delve's `DumpCancel`).
    pub fn dump_cancel(&self) {
        self.shared.dump.cancel();
    }

    /// The executable's binary info (answers location and symbol questions
    /// without touching the target).
    pub fn bininfo(&self) -> &Arc<BinaryInfo> {
        &self.shared.bininfo
    }

    /// The executable's path.
    pub fn binary(&self) -> &Path {
        &self.shared.binary
    }

    /// The target's pid.
    pub fn pid(&self) -> i32 {
        self.shared.pid.load(Ordering::SeqCst)
    }

    /// Whether the target is running now.
    pub fn is_running(&self) -> bool {
        self.shared.running.load(Ordering::SeqCst)
    }

    /// Whether ferret attached to an existing process.
    pub fn attached(&self) -> bool {
        self.shared.attached
    }

    /// The current state. With `non_blocking`, a running target answers at
    /// once with a `running` state and nothing else.
    pub fn state(&self, non_blocking: bool) -> Result<State> {
        if non_blocking && self.is_running() {
            return Ok(State {
                running: true,
                ..State::default()
            });
        }
        self.call(|s| s.state())?
    }

    /// Runs a command and returns the state once the target stops.
    pub fn command(&self, command: Command) -> Result<State> {
        self.call(move |s| s.command(command))?
    }

    /// Stops a running target and returns the state once it has stopped
    /// (a stopped target is left as it is).
    pub fn halt(&self) -> Result<State> {
        let (job, answer) = job_with_answer(|s: &mut Session| s.state());
        self.submit(job)?;
        self.await_halting(&answer, &self.shared.halt_requested)?
    }

    /// Creates a breakpoint.
    pub fn create_breakpoint(&self, request: BreakpointRequest) -> Result<Breakpoint> {
        self.call(move |s| s.create_breakpoint(request))?
    }

    /// Every user breakpoint, by id.
    pub fn breakpoints(&self) -> Result<Vec<Breakpoint>> {
        self.call(|s| s.breakpoints.values().cloned().collect())
    }

    /// One breakpoint, by name when `name` is not empty, else by id.
    pub fn breakpoint(&self, id: i32, name: String) -> Result<Breakpoint> {
        self.call(move |s| s.find_breakpoint(id, &name).cloned())?
    }

    /// Deletes a breakpoint (by name when `name` is not empty) and returns it.
    pub fn clear_breakpoint(&self, id: i32, name: String) -> Result<Breakpoint> {
        self.call(move |s| s.clear_breakpoint(id, &name))?
    }

    /// Replaces a breakpoint's attributes (condition, hit condition, name,
    /// tracing options, load configs, disabled).
    pub fn amend_breakpoint(&self, update: Breakpoint) -> Result<()> {
        self.call(move |s| s.amend_breakpoint(update))?
    }

    /// Flips a breakpoint's `disabled` flag and returns it.
    pub fn toggle_breakpoint(&self, id: i32, name: String) -> Result<Breakpoint> {
        self.call(move |s| s.toggle_breakpoint(id, &name))?
    }

    /// Drops an interrupted next/step/stepout.
    pub fn cancel_next(&self) -> Result<()> {
        self.call(|s| s.temps.clear())
    }

    /// Resolves a location expression without changing anything.
    pub fn find_location(&self, spec: &str) -> Result<Location> {
        let bi = &self.shared.bininfo;
        let resolved = resolve(bi, spec).map_err(|e| match e {
            SessionError::NoFunction(_) => SessionError::LocationNotFound(spec.to_owned()),
            other => other,
        })?;
        Ok(location_at(bi, resolved.pc, resolved.pcs))
    }

    /// The source position of an address (from the binary alone).
    pub fn location_of(&self, pc: u64) -> Location {
        location_at(&self.shared.bininfo, pc, Vec::new())
    }

    /// Every thread.
    pub fn threads(&self) -> Result<Vec<Thread>> {
        self.call(|s| s.live_state().map(|_| s.threads()))?
    }

    /// One thread.
    pub fn thread(&self, id: i32) -> Result<Thread> {
        self.call(move |s| {
            s.live_state()?;
            s.threads()
                .into_iter()
                .find(|t| t.id == id)
                .ok_or(SessionError::NoThreadWithId(id))
        })?
    }

    /// The frames of goroutine `goroutine_id` (-1: the selected one), at
    /// most `depth` after skipping `skip`; with their deferred calls when
    /// `with_defers`, and with their variables loaded as `variables` says
    /// when given.
    pub fn stacktrace(
        &self,
        goroutine_id: i64,
        depth: usize,
        skip: usize,
        with_defers: bool,
        variables: Option<LoadConfig>,
    ) -> Result<Vec<Frame>> {
        self.call(move |s| {
            s.live_state()?;
            let (frames, id) = if goroutine_id == -1 {
                match s.selected() {
                    Some((g, thread)) => {
                        (s.stack(&g, thread, depth + skip, with_defers)?, Some(g.id))
                    }
                    None => (
                        s.thread_stack(s.current_tid.unwrap_or(s.pid), depth + skip)?,
                        None,
                    ),
                }
            } else {
                let (g, thread) = s.find_goroutine(goroutine_id)?;
                (s.stack(&g, thread, depth + skip, with_defers)?, Some(g.id))
            };
            let mut frames: Vec<Frame> = frames.into_iter().skip(skip).collect();
            if let Some(config) = variables {
                for (i, frame) in frames.iter_mut().enumerate() {
                    let scope = EvalScope {
                        goroutine_id: id.unwrap_or(-1),
                        frame: skip + i,
                        deferred_call: 0,
                    };
                    let (locals, arguments) = match id {
                        Some(_) => (
                            s.scope_variables(scope, config, false).unwrap_or_default(),
                            s.scope_variables(scope, config, true).unwrap_or_default(),
                        ),
                        None => (Vec::new(), Vec::new()),
                    };
                    frame.locals = Some(locals);
                    frame.arguments = Some(arguments);
                }
            }
            Ok(frames)
        })?
    }

    /// Goroutines in the runtime's order (`allgs`), from index `start`, at
    /// most `count` of them (0: all), as Delve pages them; those passing
    /// every filter, grouped when `grouping` is given.
    pub fn goroutine_listing(
        &self,
        start: usize,
        count: usize,
        filters: Vec<GoroutineFilter>,
        grouping: Option<GroupOptions>,
        scope: EvalScope,
    ) -> Result<GoroutineListing> {
        self.call(move |s| {
            s.live_state()?;
            let waiting = s.channel_filter_waiters(&filters, scope)?;
            s.goroutine_listing(start, count, &filters, grouping.as_ref(), &waiting)
        })?
    }

    /// One goroutine, described as listings describe it.
    pub fn goroutine(&self, id: i64) -> Result<Goroutine> {
        self.call(move |s| {
            s.live_state()?;
            let (g, thread) = s.find_goroutine(id)?;
            Ok(s.describe_cached(&g, thread, s.target.state()))
        })?
    }

    /// Groups the goroutines for leak hunting (see
    /// [`crate::goroutines::summarize`]).
    /// A running target is stopped only for the time it takes to read.
    pub fn goroutine_summary(&self, request: SummaryRequest) -> Result<GoroutineSummary> {
        self.peek(move |s| {
            s.live_state()?;
            s.goroutine_summary(&request)
        })?
    }

    /// What a crash left behind (see [`CrashReport`]); meant for cores,
    /// answers for a live process too (without a fatal signal).
    pub fn crash_report(&self) -> Result<CrashReport> {
        self.peek(move |s| {
            s.live_state()?;
            s.crash_report()
        })?
    }

    /// The local variables in scope at `scope`, loaded as `config` says.
    pub fn local_vars(&self, scope: EvalScope, config: LoadConfig) -> Result<Vec<Variable>> {
        self.call(move |s| {
            s.live_state()?;
            s.scope_variables(scope, config, false)
        })?
    }

    /// The arguments and results of the function at `scope`.
    pub fn function_args(&self, scope: EvalScope, config: LoadConfig) -> Result<Vec<Variable>> {
        self.call(move |s| {
            s.live_state()?;
            s.scope_variables(scope, config, true)
        })?
    }

    /// The package-level variables whose full name `filter` accepts, in
    /// the binary's order, loaded as `config` says.
    pub fn package_vars(
        &self,
        filter: impl Fn(&str) -> bool + Send + 'static,
        config: LoadConfig,
    ) -> Result<Vec<Variable>> {
        self.call(move |s| {
            s.live_state()?;
            let loader = Loader::new(&s.bi, s.target.state(), config);
            let mut out = Vec::new();
            for var in s.bi.package_variables()? {
                if !filter(&var.name) {
                    continue;
                }
                // Variables of types DWARF does not describe are left out.
                if s.bi
                    .go_type(var.ty)
                    .map_or(true, |t| t.kind == ferret_gort::bininfo::Kind::Invalid)
                {
                    continue;
                }
                out.push(s.load_declared(&loader, var));
            }
            Ok(out)
        })?
    }

    /// Evaluates a Go expression in the frame at `scope`, loading the
    /// result as `config` says.
    pub fn eval(
        &self,
        scope: EvalScope,
        expression: String,
        config: LoadConfig,
    ) -> Result<Variable> {
        self.call(move |s| {
            s.live_state()?;
            s.evaluate(scope, &expression, config)
        })?
    }

    /// Where `expression` lives in the frame at `scope`: its address and
    /// size (what a watchpoint on it watches).
    pub fn place_of(&self, scope: EvalScope, expression: String) -> Result<(u64, u64)> {
        self.call(move |s| {
            s.live_state()?;
            s.in_scope(scope, |frame, memory| {
                place_of(&s.bi, memory, frame, &expression).map_err(eval_error)
            })
        })?
    }

    /// Makes a watchpoint: a hardware data breakpoint on what `expression`
    /// names in the frame at `scope`, stopping on writes (`watch_type` 2)
    /// or on reads and writes (1 or 3; x86 cannot watch reads alone), with
    /// `template`'s name and conditions.
    pub fn create_watchpoint(
        &self,
        scope: EvalScope,
        expression: String,
        watch_type: u8,
        template: Breakpoint,
    ) -> Result<Breakpoint> {
        let (addr, size) = self.place_of(scope, expression.clone())?;
        self.call(move |s| {
            let Target::Live(process) = &mut s.target else {
                return Err(SessionError::CoreFile("write to"));
            };
            let kind = if watch_type == 2 {
                ferret_target::linux::WatchKind::Write
            } else {
                ferret_target::linux::WatchKind::ReadWrite
            };
            let size = u8::try_from(size).unwrap_or(0);
            let slot = process.set_watchpoint(addr, size, kind)?;
            s.last_breakpoint_id += 1;
            let id = s.last_breakpoint_id;
            let breakpoint = Breakpoint {
                id,
                addrs: vec![addr],
                watch_expr: expression,
                watch_type,
                hit_count: BTreeMap::new(),
                total_hit_count: 0,
                ..template
            };
            s.watch_slots.insert(id, slot);
            s.breakpoints.insert(id, breakpoint.clone());
            Ok(breakpoint)
        })?
    }

    /// Assigns `value` to `symbol` in the frame at `scope` (Delve's `Set`).
    pub fn set_variable(&self, scope: EvalScope, symbol: String, value: String) -> Result<()> {
        self.call(move |s| {
            s.live_state()?;
            let (addr, bytes) = s.in_scope(scope, |frame, memory| {
                assignment(&s.bi, memory, frame, &symbol, &value).map_err(eval_error)
            })?;
            let in_register = s.composites.borrow().registers.get(&addr).copied();
            if addr >= 0xbeed_0000_0000_0000 && in_register.is_none() {
                return Err(SessionError::Eval(
                    "can not set a variable held in several registers or pieces".into(),
                ));
            }
            let Target::Live(process) = &mut s.target else {
                return Err(SessionError::CoreFile("write to"));
            };
            match in_register {
                // A value in a register: its low bytes change.
                Some((tid, n)) => {
                    let mut regs = process.registers(tid)?;
                    if let Some(register) = regs.dwarf_register_mut(n) {
                        let mut word = register.to_le_bytes();
                        let len = bytes.len().min(8);
                        word[..len].copy_from_slice(&bytes[..len]);
                        *register = u64::from_le_bytes(word);
                    }
                    process.set_registers(tid, &regs)?;
                }
                None => process.write_memory(addr, &bytes)?,
            }
            s.forget_goroutines();
            Ok(())
        })?
    }

    /// The general registers of thread `thread_id` (0: the current
    /// thread), or of the innermost frame of `scope`'s goroutine when it
    /// runs on a thread: (Delve's name, value, DWARF number), in Delve's
    /// order.
    pub fn registers(
        &self,
        thread_id: i32,
        scope: Option<EvalScope>,
    ) -> Result<Vec<(String, u64, u16)>> {
        self.call(move |s| {
            s.live_state()?;
            let regs = match scope {
                Some(scope) => {
                    let frame = s.scope_frame(scope)?;
                    frame.registers.ok_or_else(|| {
                        SessionError::Eval(
                            "only the innermost frame of a goroutine on a thread has registers"
                                .into(),
                        )
                    })?
                }
                None => {
                    let tid = if thread_id == 0 {
                        s.current_tid.unwrap_or(s.pid)
                    } else {
                        thread_id
                    };
                    if !s.target.state().threads().contains(&tid) {
                        return Err(SessionError::Eval(format!(
                            "couldn't find thread {thread_id}"
                        )));
                    }
                    s.target.state().registers(tid)?
                }
            };
            Ok(register_list(&regs))
        })?
    }

    /// `length` bytes of the target's memory at `address` (breakpoints
    /// hidden), as Delve's `ExamineMemory` reads them.
    pub fn examine_memory(&self, address: u64, length: usize) -> Result<Vec<u8>> {
        self.call(move |s| {
            s.live_state()?;
            let mut bytes = vec![0u8; length];
            if length > 0 {
                s.target.state().read_memory(address, &mut bytes)?;
            }
            Ok(bytes)
        })?
    }

    /// Writes `bytes` at `address` of a live process (DAP `writeMemory`).
    pub fn write_memory(&self, address: u64, bytes: Vec<u8>) -> Result<()> {
        self.call(move |s| {
            s.live_state()?;
            let Target::Live(process) = &mut s.target else {
                return Err(SessionError::CoreFile("write to"));
            };
            process.write_memory(address, &bytes)?;
            s.forget_goroutines();
            Ok(())
        })?
    }

    /// The recorded creators of goroutine `goroutine_id` (-1: the selected
    /// one): at most `count`, each with at most `depth` frames.
    pub fn ancestors(
        &self,
        goroutine_id: i64,
        count: usize,
        depth: usize,
    ) -> Result<Vec<Ancestor>> {
        self.call(move |s| {
            s.live_state()?;
            let g = match goroutine_id {
                -1 => s
                    .selected()
                    .map(|(g, _)| g)
                    .ok_or(SessionError::NoSelectedGoroutine)?,
                id => s.find_goroutine(id)?.0,
            };
            let runtime = s.runtime.as_ref().ok_or(SessionError::AncestorsDisabled)?;
            let ancestors = runtime
                .ancestors(s.target.state(), &g, count, depth)?
                .ok_or(SessionError::AncestorsDisabled)?;
            Ok(ancestors
                .into_iter()
                .map(|a| {
                    let mut stack: Vec<Frame> = a
                        .pcs
                        .iter()
                        .map(|&pc| {
                            // Recorded PCs are return addresses: the line is the call's.
                            let lookup = match s.bi.function_at(pc).ok().flatten() {
                                Some(f) if pc > f.entry => pc - 1,
                                _ => pc,
                            };
                            Frame {
                                location: Location {
                                    pc,
                                    ..s.location(lookup)
                                },
                                ..Frame::default()
                            }
                        })
                        .collect();
                    if let Some(last) = stack.last_mut() {
                        last.bottom = a.total_pcs == a.pcs.len();
                    }
                    Ancestor {
                        id: a.id,
                        stack,
                        unreadable: String::new(),
                    }
                })
                .collect())
        })?
    }

    /// Records the goroutines under `name` (replacing an older snapshot of
    /// that name) for a later [`Debugger::goroutine_diff`]; returns how
    /// many there are. A running target is stopped only while they are read.
    pub fn goroutine_snapshot(&self, name: String) -> Result<usize> {
        self.peek(move |s| {
            s.live_state()?;
            let goroutines = s.all_goroutines()?;
            let count = goroutines.len();
            s.snapshots.insert(name, goroutines);
            Ok(count)
        })?
    }

    /// The groups that grew from snapshot `from` to snapshot `to` (or to
    /// now), each with up to `max_ids` new goroutine ids and the stack
    /// (`stack_depth` frames) of the first new one that still exists.
    pub fn goroutine_diff(
        &self,
        from: String,
        to: Option<String>,
        keys: Vec<SummaryKey>,
        max_ids: usize,
        stack_depth: usize,
    ) -> Result<Vec<(DiffGroup, Vec<Frame>)>> {
        self.peek(move |s| {
            s.live_state()?;
            let before = s
                .snapshots
                .get(&from)
                .ok_or_else(|| SessionError::NoSnapshot(from.clone()))?;
            let now;
            let after = match &to {
                Some(name) => s
                    .snapshots
                    .get(name)
                    .ok_or_else(|| SessionError::NoSnapshot(name.clone()))?,
                None => {
                    now = s.all_goroutines()?;
                    &now
                }
            };
            let wait_reasons = s.wait_reason_names();
            let grown = diff(before, after, &keys, &wait_reasons, max_ids);
            Ok(grown
                .into_iter()
                .map(|group| {
                    let stack = group
                        .new_ids
                        .iter()
                        .find_map(|&id| s.find_goroutine(id).ok())
                        .and_then(|(g, thread)| s.stack(&g, thread, stack_depth, false).ok())
                        .unwrap_or_default();
                    (group, stack)
                })
                .collect())
        })?
    }

    /// Kills and starts again a launched process, keeping breakpoints.
    pub fn restart(&self) -> Result<()> {
        self.call(|s| s.restart())?
    }

    /// Ends the session: a launched process is killed (as Delve does, even
    /// when `kill` is false), an attached one detached unless `kill`.
    pub fn detach(&self, kill: bool) -> Result<()> {
        self.call(move |s| s.detach(kill))?
    }
}

/// Resolves a location expression, with Delve's error texts.
fn resolve(bi: &BinaryInfo, spec: &str) -> Result<ferret_gort::bininfo::Location> {
    check_well_formed(spec)?;
    match bi.resolve_location(spec) {
        Ok(location) => Ok(location),
        Err(BinaryError::LocationNotFound { .. }) => Err(match LocationSpec::parse(spec)? {
            LocationSpec::Function(name) => SessionError::NoFunction(name),
            LocationSpec::FileLine { file, line } => match bi
                .source_files()?
                .into_iter()
                .find(|f| f == &file || f.ends_with(&format!("/{file}")))
            {
                Some(path) => SessionError::NoStatement { file: path, line },
                None => SessionError::LocationNotFound(spec.to_owned()),
            },
        }),
        Err(e) => Err(e.into()),
    }
}

/// Refuses `file:line` expressions whose line is not a number, in Delve's words.
fn check_well_formed(spec: &str) -> Result<()> {
    match spec.rsplit_once(':') {
        Some((_, line)) if line.parse::<u32>().is_err() => Err(SessionError::MalformedLocation {
            spec: spec.to_owned(),
            at: spec.len() - line.len(),
        }),
        _ => Ok(()),
    }
}

/// A [`Location`] for `pc`.
fn location_at(bi: &BinaryInfo, pc: u64, pcs: Vec<u64>) -> Location {
    match bi.pc_info(pc) {
        Ok(Some(info)) => {
            let frame = info.frames.first().cloned();
            Location {
                pc,
                file: frame
                    .as_ref()
                    .map(|f| f.file.clone())
                    .unwrap_or_default()
                    .into(),
                line: frame.map_or(0, |f| f.line),
                function: Some(FunctionRef {
                    optimized: bi.is_optimized(&info.function),
                    name: info.function.name.into(),
                    entry: info.function.entry,
                }),
                pcs,
            }
        }
        _ => Location {
            pc,
            pcs,
            ..Location::default()
        },
    }
}

/// The target's goroutines at one stop.
#[derive(Default)]
struct GoroutineList {
    /// Live goroutines in `allgs` order.
    gs: Vec<G>,
    /// Goroutine id -> index in `gs`.
    by_id: HashMap<i64, usize>,
    /// `g` address -> the thread running it, and whether on a system stack.
    threads: HashMap<u64, (i32, bool)>,
}

/// How many frames are unwound first when looking for a goroutine's
/// topmost user frame.
/// At most this many pending deferred calls are read per goroutine (a
/// guard against a damaged list).
const MAX_DEFERS: usize = 10_000;

/// The general registers in Delve's order: Rip, Rsp, Rax, Rbx, Rcx, Rdx,
/// then by DWARF number.
fn register_list(r: &Registers) -> Vec<(String, u64, u16)> {
    [
        ("Rip", r.rip, 16),
        ("Rsp", r.rsp, 7),
        ("Rax", r.rax, 0),
        ("Rbx", r.rbx, 3),
        ("Rcx", r.rcx, 2),
        ("Rdx", r.rdx, 1),
        ("Rsi", r.rsi, 4),
        ("Rdi", r.rdi, 5),
        ("Rbp", r.rbp, 6),
        ("R8", r.r8, 8),
        ("R9", r.r9, 9),
        ("R10", r.r10, 10),
        ("R11", r.r11, 11),
        ("R12", r.r12, 12),
        ("R13", r.r13, 13),
        ("R14", r.r14, 14),
        ("R15", r.r15, 15),
        ("Rflags", r.eflags, 49),
        ("Es", r.es, 50),
        ("Cs", r.cs, 51),
        ("Ss", r.ss, 52),
        ("Ds", r.ds, 53),
        ("Fs", r.fs, 54),
        ("Gs", r.gs, 55),
        ("Fs_base", r.fs_base, 58),
        ("Gs_base", r.gs_base, 59),
    ]
    .into_iter()
    .map(|(name, value, number)| (name.to_owned(), value, number))
    .collect()
}

/// An evaluation error as a session error (unknown names get their own).
fn eval_error(message: String) -> SessionError {
    match message.strip_prefix("could not find symbol value for ") {
        Some(name) => SessionError::NoSymbol(name.to_owned()),
        None => SessionError::Eval(message),
    }
}

/// A located variable loaded by `loader`, with its flags and location.
fn load_binding(loader: &Loader<'_>, binding: Binding) -> Variable {
    let mut v = loader.load(&binding.name, binding.addr, binding.ty);
    v.flags |= binding.flags;
    v.location_expr = binding.location_expr;
    v.decl_line = binding.decl_line;
    v
}

/// The frame a variables request is about.
struct ScopeFrame {
    /// The physical function holding the PC.
    function: ferret_gort::bininfo::Function,
    /// For an inlined call's frame, its inlined-call entry.
    inlined_call: Option<u64>,
    /// The PC scopes are looked up at (the call, above the first frame).
    lookup_pc: u64,
    /// The frame's PC (a return address above the first frame), which
    /// location lists are read at, as Delve does.
    pc: u64,
    /// The line of `lookup_pc`.
    line: u32,
    cfa: u64,
    /// The registers, for the innermost frame of a goroutine on a thread.
    registers: Option<Registers>,
    /// The thread those registers are of.
    thread: Option<i32>,
}

/// Values held in registers (or pieces) this stop, given made-up addresses
/// as Delve does: from `0xbeef000000000000`, each after the previous one
/// rounded up to 0x100, the same variable (frame and location) reusing its
/// address; forgotten when the target runs.
#[derive(Default)]
struct Composites {
    by_key: HashMap<(u64, String), u64>,
    values: Vec<(u64, Vec<u8>)>,
    /// Made-up address -> the thread and DWARF register holding it, for
    /// values wholly in one register (they can be set).
    registers: HashMap<u64, (i32, u16)>,
    next: u64,
}

impl Composites {
    const FIRST: u64 = 0xbeef_0000_0000_0000;

    /// The address of the value of the variable located by `expression` in
    /// the frame with `cfa`.
    fn address(
        &mut self,
        cfa: u64,
        expression: &str,
        bytes: Vec<u8>,
        register: Option<(i32, u16)>,
    ) -> u64 {
        if let Some(&known) = self.by_key.get(&(cfa, expression.to_owned())) {
            return known;
        }
        let addr = if self.next == 0 {
            Self::FIRST
        } else {
            self.next
        };
        self.next = (addr + bytes.len().max(1) as u64).div_ceil(0x100) * 0x100;
        self.by_key.insert((cfa, expression.to_owned()), addr);
        self.values.push((addr, bytes));
        if let Some(register) = register {
            self.registers.insert(addr, register);
        }
        addr
    }
}

/// A breakpoint's hit condition (`HitCond`): an operator and a count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct HitCondition {
    op: HitOperator,
    count: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum HitOperator {
    Equal,
    NotEqual,
    Greater,
    GreaterOrEqual,
    Less,
    LessOrEqual,
    /// Every `count`-th hit.
    Multiple,
}

impl HitCondition {
    /// Whether the breakpoint, hit `hits` times, counts as hit now.
    fn holds(self, hits: u64) -> bool {
        match self.op {
            HitOperator::Equal => hits == self.count,
            HitOperator::NotEqual => hits != self.count,
            HitOperator::Greater => hits > self.count,
            HitOperator::GreaterOrEqual => hits >= self.count,
            HitOperator::Less => hits < self.count,
            HitOperator::LessOrEqual => hits <= self.count,
            HitOperator::Multiple => self.count != 0 && hits.is_multiple_of(self.count),
        }
    }
}

/// Parses a hit condition as Delve does (`5`, `== 5`, `>3`, `% 2`, ...);
/// `None` for an empty one, Delve's error text for a malformed one.
fn parse_hit_condition(text: &str) -> std::result::Result<Option<HitCondition>, String> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Ok(None);
    }
    let malformed = || {
        format!(
            "unable to parse breakpoint hit condition: {text:?}\nhit conditions should be of the form \"number\" or \"OP number\""
        )
    };
    let op_len = trimmed
        .find(|c: char| !matches!(c, '=' | '>' | '<' | '%' | '!'))
        .ok_or_else(malformed)?;
    let (op, rest) = trimmed.split_at(op_len);
    let digits = rest.strip_prefix(' ').unwrap_or(rest).replace('_', "");
    if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
        return Err(malformed());
    }
    let count = digits.parse::<u64>().map_err(|_| malformed())?;
    let op = match op {
        "==" | "" => HitOperator::Equal,
        "!=" => HitOperator::NotEqual,
        ">" => HitOperator::Greater,
        ">=" => HitOperator::GreaterOrEqual,
        "<" => HitOperator::Less,
        "<=" => HitOperator::LessOrEqual,
        "%" => HitOperator::Multiple,
        other => {
            return Err(format!(
                "unable to parse breakpoint hit condition: {text:?}\ninvalid operator: {other:?}"
            ))
        }
    };
    Ok(Some(HitCondition { op, count }))
}

/// Compiler-made variables Delve does not list.
fn is_hidden_variable(name: &str) -> bool {
    matches!(name, ".dict" | ".closureptr")
        || name.starts_with("#yield")
        || name.starts_with("&#yield")
}

/// Goroutines described together: their stack tops (4 KiB each) and
/// labels are read ahead in one batch of reads.
const DESCRIBE_BATCH: usize = 1024;

const USER_FRAME_FIRST_LOOK: usize = 8;

/// A frame's PC and the PC whose source position describes it (see
/// [`StackFrame::lookup_pc`]).
#[derive(Debug, Clone, Copy)]
struct FramePc {
    pc: u64,
    lookup_pc: u64,
}

impl FramePc {
    fn of(frame: &StackFrame) -> FramePc {
        FramePc {
            pc: frame.pc,
            lookup_pc: frame.lookup_pc,
        }
    }
}

/// Where a goroutine is, as listings show it (Delve's currentLoc and
/// userCurrentLoc).
#[derive(Debug, Clone, Copy)]
struct StackTops {
    current: FramePc,
    user: FramePc,
}

/// How many frames are searched for a goroutine's topmost user frame.
const USER_FRAME_SEARCH_DEPTH: usize = 64;

/// The target: a live process or a core.
enum Target {
    Live(Process),
    Core(CoreFile),
}

impl Target {
    fn state(&self) -> &dyn ThreadStateAndMemory {
        match self {
            Target::Live(p) => p,
            Target::Core(c) => c,
        }
    }
}

/// Both read traits, as one object-safe view.
trait ThreadStateAndMemory: ThreadState + Memory {}
impl<T: ThreadState + Memory> ThreadStateAndMemory for T {}

/// Which frame a temporary breakpoint accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FrameCheck {
    /// The frame with this CFA (a `next` staying in its function).
    Same(u64),
    /// A frame whose CFA is above this one (the caller, after a return).
    Above(u64),
    /// Any frame (the first line of a stepped-into function).
    Any,
}

/// A breakpoint placed by next/step/stepout, for one goroutine.
#[derive(Debug, Clone, Copy)]
struct TempBreakpoint {
    addr: u64,
    /// The goroutine (its `g` address) the step is for; 0 when unknown.
    g: u64,
    frame: FrameCheck,
}

/// A goroutine and the thread running it (with whether on a system
/// stack), as `find_goroutine` answers.
type FoundGoroutine = (G, Option<(i32, bool)>);

/// The session state, owned by the tracer thread.
struct Session {
    target: Target,
    bi: Arc<BinaryInfo>,
    shared: Arc<Shared>,
    pid: i32,
    launch: Option<LaunchOptions>,
    breakpoints: BTreeMap<i32, Breakpoint>,
    last_breakpoint_id: i32,
    /// Addresses where an int3 is in the target now.
    inserted: BTreeSet<u64>,
    temps: Vec<TempBreakpoint>,
    current_tid: Option<i32>,
    /// Which user breakpoint each thread stopped at, for the last stop.
    thread_breakpoint: HashMap<i32, i32>,
    /// Watchpoints' hardware slots, by breakpoint id.
    watch_slots: HashMap<i32, usize>,
    stop_reason: StopKind,
    exit_status: Option<i32>,
    /// Where the runtime keeps goroutines; `None` for a binary whose
    /// DWARF does not describe them.
    runtime: Option<RuntimeLayout>,
    /// The goroutine selected by `switchGoroutine` when it is not the one
    /// on the current thread; cleared whenever the target runs.
    selected_goroutine: Option<i64>,
    /// The goroutines as of this stop (filled on first need).
    goroutine_list: std::cell::RefCell<Option<GoroutineList>>,
    /// Goroutines looked up by id since the last stop without reading the
    /// whole list (see `find_goroutine`).
    found_goroutines: std::cell::RefCell<HashMap<i64, FoundGoroutine>>,
    /// Source locations by PC (the binary never changes).
    pc_locations: std::cell::RefCell<HashMap<u64, Location>>,
    /// Start PC -> the function a goroutine shows as its start.
    start_functions: std::cell::RefCell<HashMap<u64, u64>>,
    /// Goroutine snapshots by name (`Ferret.GoroutineSnapshot`).
    snapshots: HashMap<String, Vec<Goroutine>>,
    /// Where each goroutine described this stop is, by `g` address: only
    /// PCs, so that 10^5 goroutines cost a few MiB (locations come from
    /// `pc_locations`).
    described: std::cell::RefCell<HashMap<u64, StackTops>>,
    /// Values of this stop that live in registers, at made-up addresses.
    composites: std::cell::RefCell<Composites>,
    /// The thread whose `stepout` finished last and the returned
    /// function's results (shown until the next run command).
    returned: Option<(i32, Vec<Variable>)>,
    ended: bool,
}

impl Session {
    fn open(spec: TargetSpec, binary: PathBuf, bi: Arc<BinaryInfo>) -> Result<Session> {
        let (target, launch, stop_reason, attached) = match spec {
            TargetSpec::Launch(options) => (
                Target::Live(Process::launch(&options)?),
                Some(options),
                StopKind::Launched,
                false,
            ),
            TargetSpec::Attach { pid, .. } => (
                Target::Live(Process::attach(pid)?),
                None,
                StopKind::Attached,
                true,
            ),
            TargetSpec::Core {
                binary,
                core,
                allow_mismatch,
            } => (
                Target::Core(CoreFile::open(&core, &binary, allow_mismatch).map_err(
                    |e| match e {
                        TargetError::CoreMismatch { .. } => {
                            SessionError::CoreMismatch(e.to_string())
                        }
                        e => e.into(),
                    },
                )?),
                None,
                StopKind::Unknown,
                false,
            ),
        };
        let pid = match &target {
            Target::Live(p) => p.pid(),
            Target::Core(c) => c.pid(),
        };
        // A core's pid may belong to another process now: Delve reports no
        // command line for a core, and neither does ferret.
        let command_line = match &target {
            Target::Core(_) => String::new(),
            Target::Live(process) => {
                let line = ferret_target::core::CoreSource::command_line(process);
                if line.is_empty() {
                    binary.display().to_string()
                } else {
                    line
                }
            }
        };
        let halt = match &target {
            Target::Live(p) => Some(p.halt_handle()),
            Target::Core(_) => None,
        };
        let runtime = RuntimeLayout::new(&bi).ok();
        let shared = Arc::new(Shared {
            pid: AtomicI32::new(pid),
            command_line: Mutex::new(command_line),
            running: AtomicBool::new(false),
            halt: Mutex::new(halt),
            halt_requested: AtomicBool::new(false),
            peeks: PeekQueue::default(),
            peek_halt: AtomicBool::new(false),
            binary,
            bininfo: bi.clone(),
            attached,
            dump: DumpProgress::default(),
        });
        // A core selects the thread that dumped it (its first thread), as
        // Delve does; a process its main thread.
        let current_tid = match &target {
            Target::Core(core) => core
                .threads_in_note_order()
                .first()
                .map(|t| t.tid)
                .or(Some(pid)),
            Target::Live(_) => Some(pid),
        };
        // A core cannot stop anywhere: Delve lists no breakpoints for one.
        let breakpoints = if runtime.is_some() && matches!(target, Target::Live(_)) {
            internal_breakpoints(&bi)
        } else {
            BTreeMap::new()
        };
        let mut session = Session {
            target,
            bi,
            shared,
            pid,
            launch,
            breakpoints,
            last_breakpoint_id: 0,
            inserted: BTreeSet::new(),
            temps: Vec::new(),
            current_tid,
            thread_breakpoint: HashMap::new(),
            watch_slots: HashMap::new(),
            stop_reason,
            exit_status: None,
            runtime,
            selected_goroutine: None,
            goroutine_list: Default::default(),
            found_goroutines: Default::default(),
            snapshots: HashMap::new(),
            pc_locations: Default::default(),
            start_functions: Default::default(),
            described: Default::default(),
            composites: Default::default(),
            returned: None,
            ended: false,
        };
        session.sync_breakpoints()?;
        Ok(session)
    }

    /// Fails when the target can no longer be inspected.
    fn live_state(&self) -> Result<()> {
        match self.exit_status {
            Some(status) => Err(SessionError::Exited {
                pid: self.pid,
                status,
            }),
            None => Ok(()),
        }
    }

    /// Whether a core of the target can be written: a live process, not a
    /// core (Delve's words when not).
    fn check_can_dump(&self) -> Result<()> {
        self.live_state()?;
        match self.target {
            Target::Live(_) => Ok(()),
            Target::Core(_) => Err(SessionError::Eval("core dumping not supported".into())),
        }
    }

    /// Writes a core of the live target to `dest`, reporting progress.
    fn dump(&self, dest: &Path, progress: &DumpProgress) -> DumpOutcome {
        let Target::Live(process) = &self.target else {
            return DumpOutcome::Failed("core dumping not supported".into());
        };
        progress.threads_done(ThreadState::threads(process).len());
        match write_core(dest, process, &mut |done, total| {
            progress.memory(done, total)
        }) {
            Ok(()) => DumpOutcome::Written,
            Err(TargetError::DumpCanceled) => DumpOutcome::Canceled,
            Err(e) => DumpOutcome::Failed(e.to_string()),
        }
    }

    fn process(&mut self) -> Result<&mut Process> {
        self.live_state()?;
        match &mut self.target {
            Target::Live(p) => Ok(p),
            Target::Core(_) => Err(SessionError::CoreFile("continue execution of")),
        }
    }

    // ---- state ------------------------------------------------------------

    fn state(&mut self) -> Result<State> {
        self.live_state()?;
        Ok(self.stopped_state())
    }

    /// The state of a stopped (or exited) target.
    fn stopped_state(&self) -> State {
        let command_line = self
            .shared
            .command_line
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        if let Some(status) = self.exit_status {
            let _ = command_line;
            return State {
                pid: self.pid,
                exited: true,
                exit_status: status,
                ..State::default()
            };
        }
        let threads = self.threads();
        let current_thread = self
            .current_tid
            .and_then(|tid| threads.iter().find(|t| t.id == tid).cloned());
        let current_goroutine = self
            .selected()
            .map(|(g, thread)| self.describe_cached(&g, thread, self.target.state()));
        State {
            pid: self.pid,
            command_line,
            running: false,
            exited: false,
            exit_status: 0,
            current_thread,
            current_goroutine,
            threads,
            next_in_progress: !self.temps.is_empty(),
            stop_reason: self.stop_reason,
        }
    }

    fn threads(&self) -> Vec<Thread> {
        let target = self.target.state();
        target
            .threads()
            .into_iter()
            .filter_map(|tid| {
                let regs = target.registers(tid).ok()?;
                let location = self.location(regs.pc());
                let breakpoint = self
                    .thread_breakpoint
                    .get(&tid)
                    .and_then(|id| self.breakpoints.get(id))
                    .cloned();
                let breakpoint_info = breakpoint.as_ref().map(|bp| self.breakpoint_info(tid, bp));
                Some(Thread {
                    id: tid,
                    pc: regs.pc(),
                    file: location.file.to_string(),
                    line: location.line,
                    function: location.function,
                    goroutine_id: self.goroutine_id(&regs),
                    breakpoint,
                    breakpoint_info,
                    return_values: self
                        .returned
                        .as_ref()
                        .filter(|(returned_tid, _)| *returned_tid == tid)
                        .map(|(_, values)| values.clone()),
                })
            })
            .collect()
    }

    /// The `g` running on a thread (from the TLS slot at FS_BASE-8), 0 if none.
    fn g_of(&self, regs: &Registers) -> u64 {
        if self.runtime.is_none() || regs.fs_base == 0 {
            return 0;
        }
        self.read_u64(regs.fs_base.wrapping_sub(8)).unwrap_or(0)
    }

    fn read_u64(&self, addr: u64) -> Option<u64> {
        self.target.state().read_u64(addr).ok()
    }

    /// The user goroutine a thread runs (through `m.curg` when the thread
    /// is on a system stack), and whether it is on a system stack.
    fn g_on_thread(&self, regs: &Registers) -> Option<(G, bool)> {
        self.runtime
            .as_ref()?
            .goroutine_of_thread(self.target.state(), regs.fs_base)
    }

    /// The id of the goroutine a thread runs (0: none), as Delve shows it.
    fn goroutine_id(&self, regs: &Registers) -> i64 {
        self.g_on_thread(regs).map_or(0, |(g, _)| g.id)
    }

    // ---- goroutines ---------------------------------------------------------

    /// The goroutines as of this stop, read once per stop.
    fn goroutine_list(&self) -> Result<std::cell::Ref<'_, GoroutineList>> {
        if self.goroutine_list.borrow().is_none() {
            let list = match &self.runtime {
                Some(runtime) => {
                    let gs = runtime.goroutines(self.target.state())?;
                    let by_id = gs.iter().enumerate().map(|(i, g)| (g.id, i)).collect();
                    GoroutineList {
                        gs,
                        by_id,
                        threads: self.threads_by_goroutine(),
                    }
                }
                None => GoroutineList::default(),
            };
            *self.goroutine_list.borrow_mut() = Some(list);
        }
        Ok(std::cell::Ref::map(self.goroutine_list.borrow(), |l| {
            l.as_ref().expect("filled above")
        }))
    }

    /// Forgets what was read of the target's goroutines (it is about to run).
    fn forget_goroutines(&mut self) {
        *self.goroutine_list.get_mut() = None;
        self.found_goroutines.get_mut().clear();
        self.described.get_mut().clear();
        *self.composites.get_mut() = Composites::default();
        self.selected_goroutine = None;
    }

    /// See [`Debugger::goroutine_listing`]. Goroutines are described one
    /// at a time and dropped unless listed.
    fn goroutine_listing(
        &self,
        start: usize,
        count: usize,
        filters: &[GoroutineFilter],
        grouping: Option<&GroupOptions>,
        waiting: &std::collections::HashSet<i64>,
    ) -> Result<GoroutineListing> {
        // A plain page before anything read the whole list (the first
        // page of a fresh core, say) reads only its own goroutines.
        let window;
        let list;
        let (gs, threads, next) = match &self.runtime {
            Some(runtime)
                if count > 0
                    && filters.is_empty()
                    && grouping.is_none()
                    && self.goroutine_list.borrow().is_none() =>
            {
                let (gs, next) = runtime.goroutines_from(self.target.state(), start, count)?;
                window = (gs, self.threads_by_goroutine());
                (&window.0[..], &window.1, next.map_or(-1, |i| i as i64))
            }
            _ => {
                list = self.goroutine_list()?;
                let first = list.gs.partition_point(|g| g.index < start);
                let end = if count > 0 {
                    (first + count).min(list.gs.len())
                } else {
                    list.gs.len()
                };
                let next = list.gs.get(end).map_or(-1, |g| g.index as i64);
                (&list.gs[first..end], &list.threads, next)
            }
        };
        let mut page = Vec::new();
        let mut grouper = grouping.map(Grouper::new);
        for batch in gs.chunks(DESCRIBE_BATCH) {
            self.describe_stacks(batch, threads);
            let labels = self.prefetched_labels(batch);
            for g in batch {
                let thread = threads.get(&g.addr).copied();
                let described = self.describe_cached(g, thread, &labels);
                if !filters.iter().all(|f| matches(&described, f, waiting)) {
                    continue;
                }
                match &mut grouper {
                    Some(grouper) => grouper.add(described),
                    None => page.push(described),
                }
            }
        }
        Ok(match grouper {
            Some(grouper) => {
                let (goroutines, groups, too_many_groups) = grouper.finish();
                GoroutineListing {
                    goroutines,
                    groups: Some(groups),
                    too_many_groups,
                    next,
                }
            }
            None => GoroutineListing {
                goroutines: page,
                next,
                ..GoroutineListing::default()
            },
        })
    }

    /// Every goroutine, described.
    fn all_goroutines(&self) -> Result<Vec<Goroutine>> {
        Ok(self
            .goroutine_listing(0, 0, &[], None, &Default::default())?
            .goroutines)
    }

    /// The target's wait-reason names (none without a Go runtime).
    fn wait_reason_names(&self) -> Vec<String> {
        self.runtime
            .as_ref()
            .map(|r| r.wait_reason_names(self.target.state()))
            .unwrap_or_default()
    }

    /// See [`Debugger::crash_report`].
    fn crash_report(&self) -> Result<CrashReport> {
        let mut report = CrashReport {
            wait_reasons: self.goroutine_summary(&SummaryRequest {
                keys: vec![SummaryKey::WaitReason],
                wait_reasons: Vec::new(),
                min_wait_ns: 0,
                samples: CRASH_SAMPLES,
            })?,
            ..CrashReport::default()
        };
        if let Target::Core(core) = &self.target {
            report.fatal_signal = core.fatal_signal();
            report.fault_address = core.fault_address();
            report.thread_id = core.threads_in_note_order().first().map(|t| t.tid);
        }
        let Some(layout) = PanicLayout::new(&self.bi)? else {
            return Ok(report);
        };
        let mem = self.target.state();
        // The goroutine running a panic not recovered, else the selected
        // one (on the thread that received the signal).
        let crashed = {
            let list = self.goroutine_list()?;
            list.gs
                .iter()
                .map(|g| (g, layout.panics(&self.bi, mem, g.addr)))
                .find(|(_, panics)| panics.iter().any(|p| !p.recovered))
                .map(|(g, panics)| (g.clone(), list.threads.get(&g.addr).copied(), panics))
        };
        let (g, thread, panics) = match crashed {
            Some(found) => found,
            None => match self.selected() {
                Some((g, thread)) => (g, thread, Vec::new()),
                None => return Ok(report),
            },
        };
        report.goroutine_id = Some(g.id);
        report.go_signal = layout.signal(mem, g.addr);
        report.panics = panics;
        let frames = self.stack(&g, thread, CRASH_DEPTH, false)?;
        if report.panics.is_empty() {
            report.fatal_error = self.throw_message(g.id, &frames);
        }
        // The runtime's frames (its files include the `sync.fatal` it
        // provides) are left out.
        let in_runtime = |f: &Frame| {
            let name = f.location.function.as_ref().map_or("", |r| &r.name);
            is_private_runtime(name)
                || name.starts_with("internal/runtime")
                || f.location.file.contains("/src/runtime/")
        };
        let first_user = frames.iter().position(|f| !in_runtime(f)).unwrap_or(0);
        report.frames = frames.into_iter().skip(first_user).collect();
        Ok(report)
    }

    /// The message of the fatal error that `frames` (goroutine `goid`'s)
    /// are throwing: the `s` argument of `runtime.throw`, `runtime.fatal`
    /// or their `sync` twins. In optimized runtime code that argument is
    /// usually dead by the crash; the message then survives in the
    /// closure that printed it, on the throwing frame, found as the first
    /// string header there that points at printable text.
    fn throw_message(&self, goid: i64, frames: &[Frame]) -> Option<String> {
        const THROWERS: [&str; 6] = [
            "runtime.throw",
            "runtime.fatal",
            "sync.throw",
            "sync.fatal",
            "internal/sync.throw",
            "internal/sync.fatal",
        ];
        let config = LoadConfig {
            max_string_len: MAX_THROW_MESSAGE as i64,
            ..LoadConfig::FULL
        };
        for (i, frame) in frames.iter().enumerate() {
            let name = frame.location.function.as_ref().map_or("", |r| &r.name);
            if !THROWERS.contains(&name) {
                continue;
            }
            let scope = EvalScope {
                goroutine_id: goid,
                frame: i,
                deferred_call: 0,
            };
            let argument = self
                .scope_variables(scope, config, true)
                .ok()
                .and_then(|args| {
                    args.into_iter()
                        .find(|v| v.name == "s" && v.unreadable.is_empty())
                });
            if let Some(s) = argument {
                return Some(s.value);
            }
            let low = match i {
                0 => frame.cfa.saturating_sub(512),
                _ => frames[i - 1].cfa,
            };
            if let Some(text) = self.string_in(low, frame.cfa) {
                return Some(text);
            }
        }
        None
    }

    /// The first string header (pointer, length) in `[low, high)` whose
    /// bytes are printable text.
    fn string_in(&self, low: u64, high: u64) -> Option<String> {
        let mem = self.target.state();
        let size = high.checked_sub(low)?.min(4096) as usize;
        let mut region = vec![0u8; size];
        mem.read_memory(low, &mut region).ok()?;
        let word = |at: usize| u64::from_le_bytes(region[at..at + 8].try_into().expect("8 bytes"));
        (0..size.saturating_sub(15)).step_by(8).find_map(|at| {
            let (data, len) = (word(at), word(at + 8));
            if data == 0 || len == 0 || len > MAX_THROW_MESSAGE {
                return None;
            }
            let mut bytes = vec![0u8; len as usize];
            mem.read_memory(data, &mut bytes).ok()?;
            let text = String::from_utf8(bytes).ok()?;
            text.chars().all(|c| !c.is_control()).then_some(text)
        })
    }

    /// See [`Debugger::goroutine_summary`].
    fn goroutine_summary(&self, request: &SummaryRequest) -> Result<GoroutineSummary> {
        let threads = match &*self.goroutine_list.borrow() {
            Some(list) => list.threads.clone(),
            None => self.threads_by_goroutine(),
        };
        let wait_reasons = self.wait_reason_names();
        let live = matches!(self.target, Target::Live(_));
        // A core has no clock: the latest wait start stands in for now. It
        // is known only after a pass over every goroutine, which is made
        // first only when a minimum wait must be checked on the way.
        let now_ns = if live {
            Some(ferret_target::linux::monotonic_now_ns())
        } else if request.min_wait_ns > 0 {
            let mut latest = 0;
            for batch in self.goroutine_batches() {
                latest = batch?.iter().map(|g| g.wait_since).fold(latest, i64::max);
            }
            Some(latest)
        } else {
            None
        };
        // The latest wait start of all goroutines, filtered or not.
        let latest_start = std::cell::Cell::new(0);
        let failed = std::cell::RefCell::new(None);
        let mut total = 0;
        // In batches: stack tops and labels are read ahead for each.
        let described = self
            .goroutine_batches()
            .map_while(|batch| batch.map_err(|e| *failed.borrow_mut() = Some(e)).ok())
            .inspect(|batch| total += batch.len())
            .flat_map(|batch| {
                if request.needs_stacks() {
                    self.describe_stacks(&batch, &threads);
                }
                let labels = if request.needs_labels() {
                    self.prefetched_labels(&batch)
                } else {
                    PrefetchedMemory::new(self.target.state(), &[])
                };
                let described: Vec<Goroutine> = batch
                    .iter()
                    .map(|g| {
                        let thread = threads.get(&g.addr).copied();
                        if request.needs_stacks() {
                            self.describe_cached(g, thread, &labels)
                        } else {
                            let labels_from =
                                request.needs_labels().then_some(&labels as &dyn Memory);
                            self.describe_shallow(g, thread, labels_from)
                        }
                    })
                    .collect();
                described
            });
        let mut matched = 0;
        let (groups, now_ns) = summarize(
            described
                .inspect(|g| latest_start.set(latest_start.get().max(g.wait_since)))
                .filter(|g| {
                    request.wait_reasons.is_empty()
                        || request.wait_reasons.contains(&summary_value(
                            g,
                            &SummaryKey::WaitReason,
                            &wait_reasons,
                        ))
                })
                .filter(|g| {
                    request.min_wait_ns <= 0
                        || now_ns
                            .and_then(|now| wait_ns(g, now))
                            .is_some_and(|w| w >= request.min_wait_ns)
                })
                .inspect(|_| matched += 1),
            &request.keys,
            &wait_reasons,
            || now_ns.unwrap_or(latest_start.get()),
            request.samples,
        );
        if let Some(e) = failed.into_inner() {
            return Err(e);
        }
        Ok(GoroutineSummary {
            total,
            matched,
            now_ns,
            now_estimated: !live,
            groups,
            resources: if live {
                ferret_target::linux::resources(self.pid).ok()
            } else {
                None
            },
        })
    }

    /// The live goroutines in `allgs` order, in batches: copied from the
    /// list when this stop read it whole, else read from the target window
    /// by window and not kept (a summary of 10^5 goroutines holds one
    /// batch at a time).
    fn goroutine_batches(&self) -> Box<dyn Iterator<Item = Result<Vec<G>>> + '_> {
        if self.goroutine_list.borrow().is_some() {
            let list = std::cell::Ref::map(self.goroutine_list.borrow(), |l| {
                l.as_ref().expect("checked above")
            });
            let mut at = 0;
            return Box::new(std::iter::from_fn(move || {
                let batch = list.gs.get(at..(at + DESCRIBE_BATCH).min(list.gs.len()))?;
                at += DESCRIBE_BATCH;
                (!batch.is_empty()).then(|| Ok(batch.to_vec()))
            }));
        }
        let Some(runtime) = &self.runtime else {
            return Box::new(std::iter::empty());
        };
        let mut next = Some(0);
        Box::new(std::iter::from_fn(move || {
            let start = next?;
            match runtime.goroutines_from(self.target.state(), start, DESCRIBE_BATCH) {
                Ok((gs, after)) => {
                    next = after;
                    (!gs.is_empty()).then_some(Ok(gs))
                }
                Err(e) => {
                    next = None;
                    Some(Err(e.into()))
                }
            }
        }))
    }

    /// A goroutine as clients see it, its stack part kept until the target
    /// runs again; labels read from `labels_from`.
    fn describe_cached(
        &self,
        g: &G,
        thread: Option<(i32, bool)>,
        labels_from: &dyn Memory,
    ) -> Goroutine {
        if g.unreadable.is_some() {
            return self.describe_shallow(g, thread, None);
        }
        let known = self.described.borrow().get(&g.addr).copied();
        let tops = known.unwrap_or_else(|| {
            let tops = self.stack_tops(self.target.state(), g, thread);
            self.described.borrow_mut().insert(g.addr, tops);
            tops
        });
        Goroutine {
            current_loc: self.frame_location(tops.current),
            user_current_loc: self.frame_location(tops.user),
            ..self.describe_shallow(g, thread, Some(labels_from))
        }
    }

    /// Which thread runs which `g` (by address), and whether on a system stack.
    fn threads_by_goroutine(&self) -> HashMap<u64, (i32, bool)> {
        let target = self.target.state();
        target
            .threads()
            .into_iter()
            .filter_map(|tid| {
                let regs = target.registers(tid).ok()?;
                let (g, system) = self.g_on_thread(&regs)?;
                Some((g.addr, (tid, system)))
            })
            .collect()
    }

    /// The goroutine with id `id`, and the thread running it.
    fn find_goroutine(&self, id: i64) -> Result<(G, Option<(i32, bool)>)> {
        if self.goroutine_list.borrow().is_none() {
            // Nothing read the whole list since the stop: look through it a
            // window at a time and stop at the goroutine (usually early:
            // the runtime lists goroutines by creation).
            if let Some(found) = self.found_goroutines.borrow().get(&id) {
                return Ok(found.clone());
            }
            if let Some(runtime) = &self.runtime {
                let mut start = 0;
                loop {
                    let (gs, next) =
                        runtime.goroutines_from(self.target.state(), start, DESCRIBE_BATCH)?;
                    if let Some(g) = gs.into_iter().find(|g| g.id == id) {
                        let thread = self.threads_by_goroutine().get(&g.addr).copied();
                        self.found_goroutines
                            .borrow_mut()
                            .insert(id, (g.clone(), thread));
                        return Ok((g, thread));
                    }
                    match next {
                        Some(next) => start = next,
                        None => return Err(SessionError::NoGoroutine(id)),
                    }
                }
            }
        }
        let list = self.goroutine_list()?;
        let g = list
            .by_id
            .get(&id)
            .map(|&i| list.gs[i].clone())
            .ok_or(SessionError::NoGoroutine(id))?;
        let thread = list.threads.get(&g.addr).copied();
        Ok((g, thread))
    }

    /// The goroutine selected now: the one `switchGoroutine` chose, else
    /// the one on the current thread.
    fn selected(&self) -> Option<(G, Option<(i32, bool)>)> {
        if let Some(id) = self.selected_goroutine {
            return self.find_goroutine(id).ok();
        }
        let tid = self.current_tid?;
        let regs = self.target.state().registers(tid).ok()?;
        let (g, system) = self.g_on_thread(&regs)?;
        Some((g, Some((tid, system))))
    }

    /// The physical frames of goroutine `g`, from its thread's registers
    /// when it runs on one, else from its saved `g.sched`.
    fn raw_stack(
        &self,
        g: &G,
        thread: Option<(i32, bool)>,
        depth: usize,
    ) -> Result<Vec<StackFrame>> {
        self.raw_stack_in(self.target.state(), g, thread, depth)
    }

    /// [`Session::raw_stack`], reading the stack from `mem`.
    fn raw_stack_in(
        &self,
        mem: &dyn Memory,
        g: &G,
        thread: Option<(i32, bool)>,
        depth: usize,
    ) -> Result<Vec<StackFrame>> {
        let start = match thread {
            Some((tid, _)) => {
                let regs = self.target.state().registers(tid)?;
                UnwindStart {
                    pc: regs.pc(),
                    sp: regs.sp(),
                    bp: regs.rbp,
                }
            }
            None => UnwindStart::from_sched(g),
        };
        Ok(unwind(&self.bi, mem, start, Some(g), depth)?)
    }

    /// The target's memory with the pprof labels of `gs` read ahead.
    fn prefetched_labels(&self, gs: &[G]) -> PrefetchedMemory<'_> {
        let mut mem = PrefetchedMemory::new(self.target.state(), &[]);
        if let Some(runtime) = &self.runtime {
            runtime.prefetch_labels(&mut mem, gs);
        }
        mem
    }

    /// Finds where each goroutine of `gs` not described yet is
    /// ([`Session::stack_tops`]), the stack tops of parked ones read ahead
    /// together.
    fn describe_stacks(&self, gs: &[G], threads: &HashMap<u64, (i32, bool)>) {
        let described = self.described.borrow();
        let missing: Vec<&G> = gs
            .iter()
            .filter(|g| g.unreadable.is_none() && !described.contains_key(&g.addr))
            .collect();
        drop(described);
        let windows: Vec<(u64, usize)> = missing
            .iter()
            .filter(|g| !threads.contains_key(&g.addr))
            .map(|g| stack_window(g.sched_sp, Some(g)))
            .collect();
        let mem = PrefetchedMemory::new(self.target.state(), &windows);
        for g in missing {
            let tops = self.stack_tops(&mem, g, threads.get(&g.addr).copied());
            self.described.borrow_mut().insert(g.addr, tops);
        }
    }

    /// Where goroutine `g` is: its topmost frame, and its topmost frame
    /// outside the runtime (the topmost one when it has none).
    fn stack_tops(&self, mem: &dyn Memory, g: &G, thread: Option<(i32, bool)>) -> StackTops {
        // Most user frames are near the top: look there first.
        let mut frames = self
            .raw_stack_in(mem, g, thread, USER_FRAME_FIRST_LOOK)
            .unwrap_or_default();
        let is_user = |f: &StackFrame| f.function_name().is_some_and(is_user_frame);
        if frames.len() == USER_FRAME_FIRST_LOOK && !frames.iter().any(is_user) {
            frames = self
                .raw_stack_in(mem, g, thread, USER_FRAME_SEARCH_DEPTH)
                .unwrap_or_default();
        }
        let current = frames.first().map_or(
            FramePc {
                pc: g.sched_pc,
                lookup_pc: g.sched_pc,
            },
            FramePc::of,
        );
        let user = frames
            .iter()
            .find(|f| is_user(f))
            .map_or(current, FramePc::of);
        StackTops { current, user }
    }

    /// [`location_at`] for `pc`, computed once per PC (listings ask about
    /// the same few PCs for every goroutine).
    fn location(&self, pc: u64) -> Location {
        if let Some(known) = self.pc_locations.borrow().get(&pc) {
            return known.clone();
        }
        let location = location_at(&self.bi, pc, Vec::new());
        self.pc_locations.borrow_mut().insert(pc, location.clone());
        location
    }

    /// The [`Location`] of a physical frame: its PC, with the source
    /// position of the instruction that describes it (the call, above the
    /// first frame).
    fn frame_location(&self, frame: FramePc) -> Location {
        Location {
            pc: frame.pc,
            ..self.location(frame.lookup_pc)
        }
    }

    /// The entry of the function a goroutine started in: for `go f(x)` the
    /// runtime starts a wrapper, and Delve shows `f`.
    fn start_function_pc(&self, startpc: u64) -> u64 {
        if let Some(&known) = self.start_functions.borrow().get(&startpc) {
            return known;
        }
        let unwrapped = match self.bi.function_at(startpc).ok().flatten() {
            Some(f) if f.entry == startpc => {
                self.bi.unwrap_trampoline(&f).map_or(startpc, |f| f.entry)
            }
            _ => startpc,
        };
        self.start_functions.borrow_mut().insert(startpc, unwrapped);
        unwrapped
    }

    /// A goroutine described from its `g` alone, without reading its stack:
    /// current and user locations are left empty, and labels unless
    /// `labels_from` says where to read them (they cost a few reads).
    fn describe_shallow(
        &self,
        g: &G,
        thread: Option<(i32, bool)>,
        labels_from: Option<&dyn Memory>,
    ) -> Goroutine {
        if let Some(why) = &g.unreadable {
            return Goroutine {
                unreadable: why.clone(),
                index: g.index,
                ..Goroutine::default()
            };
        }
        // The go statement's PC is a return address: its line is that of
        // the call, the byte before (Delve still reports the PC itself).
        let go_line_pc = if self.bi.function_at(g.gopc).ok().flatten().is_some() {
            g.gopc - 1
        } else {
            g.gopc
        };
        // A goroutine started by `go f(x)` starts in a wrapper; Delve shows f.
        let start_pc = self.start_function_pc(g.startpc);
        let start_loc = self.location(start_pc);
        let system = start_loc
            .function
            .as_ref()
            .is_some_and(|f| is_system_start(&f.name));
        Goroutine {
            id: g.id,
            current_loc: Location::default(),
            user_current_loc: Location::default(),
            go_statement_loc: Location {
                pc: g.gopc,
                ..self.location(go_line_pc)
            },
            start_loc,
            thread_id: thread.map_or(0, |(tid, _)| tid),
            status: u64::from(g.status),
            wait_reason: u64::from(g.wait_reason),
            wait_since: g.wait_since,
            labels: match (&self.runtime, labels_from) {
                (Some(runtime), Some(mem)) => runtime.labels(mem, g),
                _ => Vec::new(),
            },
            system,
            index: g.index,
            unreadable: String::new(),
        }
    }

    // ---- stacks -----------------------------------------------------------

    /// The stack of goroutine `g`, at most `depth` frames, with each
    /// frame's pending deferred calls when `with_defers`.
    fn stack(
        &self,
        g: &G,
        thread: Option<(i32, bool)>,
        depth: usize,
        with_defers: bool,
    ) -> Result<Vec<Frame>> {
        let raw = self.raw_stack(g, thread, depth)?;
        let mut frames = self.expand(&raw, g.stack_hi, Some((g.stack_lo, g.stack_hi)), depth);
        if with_defers {
            self.attach_defers(g, &mut frames);
        }
        Ok(frames)
    }

    /// The stack of a thread that runs no goroutine (a non-Go program, or
    /// a thread on g0 with nothing scheduled); frame offsets are then
    /// relative to its stack pointer.
    fn thread_stack(&self, tid: i32, depth: usize) -> Result<Vec<Frame>> {
        let regs = self.target.state().registers(tid)?;
        let start = UnwindStart {
            pc: regs.pc(),
            sp: regs.sp(),
            bp: regs.rbp,
        };
        let raw = unwind(&self.bi, self.target.state(), start, None, depth)?;
        Ok(self.expand(&raw, regs.sp(), None, depth))
    }

    /// Physical frames to Delve's frames: inlined calls expanded into frames
    /// of their own; offsets relative to `base` (the stack top, or the stack
    /// pointer for a thread's own stack, where `stack` is `None` and
    /// frame-pointer offsets are unknown and 0). `stack` is the goroutine's
    /// stack bounds: frames outside them are on a system stack.
    fn expand(
        &self,
        raw: &[StackFrame],
        base: u64,
        stack: Option<(u64, u64)>,
        depth: usize,
    ) -> Vec<Frame> {
        let mut frames = Vec::new();
        for frame in raw {
            let frame_offset = frame.cfa as i64 - base as i64;
            let frame_pointer_offset = if stack.is_some() {
                frame.bp as i64 - base as i64
            } else {
                0
            };
            let system_stack = stack.is_some_and(|(lo, hi)| frame.cfa < lo || frame.cfa > hi);
            let push = |frames: &mut Vec<Frame>, location: Location, inlined_call: Option<u64>| {
                frames.push(Frame {
                    location,
                    cfa: frame.cfa,
                    frame_offset,
                    frame_pointer_offset,
                    bottom: false,
                    inlined: inlined_call.is_some(),
                    inlined_call,
                    system_stack,
                    defers: Vec::new(),
                    locals: None,
                    arguments: None,
                })
            };
            let Some(info) = &frame.info else {
                let location = Location {
                    pc: frame.pc,
                    ..Location::default()
                };
                push(&mut frames, location, None);
                continue;
            };
            let optimized = self.bi.is_optimized(&info.function);
            for (i, source) in info.frames.iter().enumerate() {
                let entry = if source.function == info.function.name {
                    info.function.entry
                } else {
                    self.bi
                        .function_by_name(&source.function)
                        .ok()
                        .flatten()
                        .map_or(0, |f| f.entry)
                };
                let function = FunctionRef {
                    optimized,
                    name: source.function.as_str().into(),
                    entry,
                };
                let location = Location {
                    pc: frame.pc,
                    file: source.file.as_str().into(),
                    line: source.line,
                    function: Some(function),
                    pcs: Vec::new(),
                };
                // The physical function comes last; the ones before it
                // were inlined into it.
                let inlined_call = if i + 1 < info.frames.len() {
                    source.inlined_call
                } else {
                    None
                };
                push(&mut frames, location, inlined_call);
            }
        }
        frames.truncate(depth);
        if let Some(last) = frames.last_mut() {
            last.bottom = last
                .location
                .function
                .as_ref()
                .is_some_and(|f| &*f.name == "runtime.goexit");
        }
        frames
    }

    /// Gives each frame of `g`'s stack the deferred calls it registered
    /// that have not run yet, as Delve does: the runtime's list is newest
    /// first, each record holding the stack pointer of the frame that
    /// deferred it, so the list and the frames are walked together. A
    /// record that cannot be read goes to the frame reached, and ends the
    /// walk.
    fn attach_defers(&self, g: &G, frames: &mut [Frame]) {
        let Some(runtime) = &self.runtime else {
            return;
        };
        let records = runtime.defers(self.target.state(), g, MAX_DEFERS);
        let mut records = records.iter().peekable();
        let mut i = 0;
        while let (Some(record), true) = (records.peek(), i < frames.len()) {
            let frame = &mut frames[i];
            if record.unreadable.is_some() {
                frame.defers.push(self.deferred_call(record));
                return;
            }
            // A record made by this frame has its SP below the frame's CFA
            // (the SP before the frame's function was called).
            if frame.system_stack || frame.inlined || record.sp >= frame.cfa {
                i += 1;
                continue;
            }
            if record.rangefunc.is_empty() {
                frame.defers.push(self.deferred_call(record));
            } else {
                let calls = record.rangefunc.iter().map(|r| self.deferred_call(r));
                frame.defers.extend(calls);
            }
            records.next();
        }
    }

    /// A deferred call as clients see it: the deferred function (through
    /// the compiler's wrapper) at its entry line, and the `defer` statement.
    fn deferred_call(&self, record: &ferret_gort::goroutine::Defer) -> DeferredCall {
        if let Some(why) = &record.unreadable {
            return DeferredCall {
                unreadable: why.clone(),
                ..DeferredCall::default()
            };
        }
        let function = self
            .bi
            .function_at(record.function_pc)
            .ok()
            .flatten()
            .map(|f| self.bi.unwrap_trampoline(&f).unwrap_or(f));
        let deferred_loc = match function {
            Some(f) => self.location(f.entry),
            None => Location {
                pc: record.defer_pc,
                ..Location::default()
            },
        };
        DeferredCall {
            deferred_loc,
            defer_loc: self.location(record.defer_pc),
            sp: record.sp,
            wrapper_pc: record.function_pc,
            scope_cfa: record.end,
            unreadable: String::new(),
        }
    }

    // ---- variables ----------------------------------------------------------

    /// The function, PC (for scope lookups) and CFA of the frame `scope`
    /// names.
    fn scope_frame(&self, scope: EvalScope) -> Result<ScopeFrame> {
        let (g, thread) = match scope.goroutine_id {
            -1 => self.selected().ok_or(SessionError::NoSelectedGoroutine)?,
            id => self.find_goroutine(id)?,
        };
        let frames = self.stack(&g, thread, scope.frame + 1, scope.deferred_call > 0)?;
        let frame = frames
            .get(scope.frame)
            .ok_or(SessionError::NoFrame(scope.frame))?;
        if scope.deferred_call > 0 {
            return self.deferred_call_scope(scope, &frame.defers);
        }
        // Above the innermost frame the PC is a return address; scopes are
        // those of the call instruction before it.
        let lookup_pc = if scope.frame == 0 {
            frame.location.pc
        } else {
            frame.location.pc - 1
        };
        let function = self
            .bi
            .function_at(lookup_pc)?
            .ok_or(SessionError::NoFrame(scope.frame))?;
        // Only the innermost frame of a goroutine on a thread has its
        // registers (Go keeps no callee-saved ones).
        let registers = match (scope.frame, thread) {
            (0, Some((tid, false))) => self.target.state().registers(tid).ok(),
            _ => None,
        };
        Ok(ScopeFrame {
            function,
            inlined_call: frame.inlined_call,
            lookup_pc,
            pc: frame.location.pc,
            line: frame.location.line,
            cfa: frame.cfa,
            thread: registers.map(|_| thread.map_or(0, |(tid, _)| tid)),
            registers,
        })
    }

    /// The scope of deferred call `scope.deferred_call` (from 1) of the
    /// frame, as Delve makes it: the code the runtime will call, at its
    /// entry, with the CFA just past the runtime's record (where Go once
    /// kept the call's arguments) and no registers.
    fn deferred_call_scope(&self, scope: EvalScope, defers: &[DeferredCall]) -> Result<ScopeFrame> {
        let call = defers.get(scope.deferred_call - 1).ok_or_else(|| {
            SessionError::Eval(format!(
                "Frame {} only has {} deferred calls",
                scope.frame,
                defers.len()
            ))
        })?;
        if !call.unreadable.is_empty() {
            return Err(SessionError::Eval(call.unreadable.clone()));
        }
        // Delve builds it on the current thread's goroutine scope, which
        // must exist.
        if let Some(tid) = self.current_tid {
            let regs = self.target.state().registers(tid)?;
            if self.g_on_thread(&regs).is_none() {
                return Err(SessionError::Eval(format!(
                    "could not get scope: no G executing on thread {tid}"
                )));
            }
        }
        let pc = call.wrapper_pc;
        let function = self
            .bi
            .function_at(pc)?
            .ok_or_else(|| SessionError::Eval(format!("could not find function at {pc:#x}")))?;
        Ok(ScopeFrame {
            function,
            inlined_call: None,
            lookup_pc: pc,
            pc,
            line: self.location(pc).line,
            cfa: call.scope_cfa,
            thread: None,
            registers: None,
        })
    }

    /// The variables of the frame at `scope` that Delve lists as arguments
    /// (`arguments`) or as locals, in Delve's order and with its flags.
    fn scope_variables(
        &self,
        scope: EvalScope,
        config: LoadConfig,
        arguments: bool,
    ) -> Result<Vec<Variable>> {
        let frame = self.scope_frame(scope)?;
        self.frame_variables(&frame, config, arguments)
    }

    /// What `bp` loads for the thread `tid` it stopped (its `LoadArgs` and
    /// `LoadLocals`), from the thread's innermost frame.
    fn breakpoint_info(&self, tid: i32, bp: &Breakpoint) -> BreakpointInfo {
        let frame = self.thread_scope_frame(tid).ok();
        let load = |config: Option<LoadConfig>, arguments: bool| {
            let (config, frame) = (config?, frame.as_ref()?);
            self.frame_variables(frame, config, arguments).ok()
        };
        BreakpointInfo {
            arguments: load(bp.load_args, true),
            locals: load(bp.load_locals, false),
        }
    }

    /// The variables of `frame` Delve lists as arguments (`arguments`) or
    /// as locals.
    fn frame_variables(
        &self,
        frame: &ScopeFrame,
        config: LoadConfig,
        arguments: bool,
    ) -> Result<Vec<Variable>> {
        let bound = self.frame_bindings(frame)?;
        let memory = self.composite_memory();
        let loader = Loader::new(&self.bi, &memory, config);
        let mut all: Vec<Variable> = bound
            .into_iter()
            .map(|binding| match binding {
                Ok(binding) => load_binding(&loader, binding),
                Err(unreadable) => *unreadable,
            })
            .collect();
        // A name seen again hides the earlier variable.
        for i in 0..all.len() {
            if all[i + 1..].iter().any(|later| later.name == all[i].name) {
                all[i].flags |= value_flags::SHADOWED;
            }
        }
        let is_argument =
            |v: &Variable| v.flags & (value_flags::ARGUMENT | value_flags::RETURN_ARGUMENT) != 0;
        Ok(all
            .into_iter()
            .filter(|v| is_argument(v) == arguments)
            .collect())
    }

    /// Runs `f` with the frame at `scope` set up for the evaluator (its
    /// variables bound) and the target's memory as it sees it.
    fn in_scope<R>(
        &self,
        scope: EvalScope,
        f: impl FnOnce(&EvalFrame<'_>, &dyn Memory) -> Result<R>,
    ) -> Result<R> {
        let frame = self.scope_frame(scope)?;
        let bindings = self.eval_bindings(&frame)?;
        let eval_frame = EvalFrame {
            bindings: &bindings,
            function: &frame.function.name,
        };
        let memory = self.composite_memory();
        f(&eval_frame, &memory)
    }

    /// The target's memory with this stop's register-held values at their
    /// made-up addresses.
    fn composite_memory(&self) -> PrefetchedMemory<'_> {
        let mut memory = PrefetchedMemory::new(self.target.state(), &[]);
        for (addr, bytes) in &self.composites.borrow().values {
            memory.insert(*addr, bytes.clone());
        }
        memory
    }

    /// One declared variable of no frame (a package variable), loaded by
    /// `loader`.
    fn load_declared(&self, loader: &Loader<'_>, var: &DeclaredVariable) -> Variable {
        let no_frame = ScopeFrame {
            function: ferret_gort::bininfo::Function {
                name: String::new(),
                entry: 0,
                end: 0,
                unit: var.unit,
                trampoline: false,
                offset: 0,
            },
            inlined_call: None,
            lookup_pc: 0,
            pc: 0,
            line: 0,
            cfa: 0,
            registers: None,
            thread: None,
        };
        match self.bind_declared(var, &no_frame) {
            Ok(binding) => load_binding(loader, binding),
            Err(unreadable) => *unreadable,
        }
    }

    /// Where one declared variable of the frame at `pc` (with canonical
    /// frame address `cfa`) is, and how Delve flags and describes it; a
    /// variable that cannot be located comes back as an unreadable one.
    fn bind_declared(
        &self,
        var: &DeclaredVariable,
        frame: &ScopeFrame,
    ) -> std::result::Result<Binding, Box<Variable>> {
        let (pc, cfa) = (frame.pc, frame.cfa);
        let escaped = var.name.starts_with('&');
        let name = var.name.trim_start_matches('&');
        let role_flags = match var.role {
            VariableRole::Argument => value_flags::ARGUMENT,
            VariableRole::Result => value_flags::RETURN_ARGUMENT,
            VariableRole::Local => 0,
        };
        let unreadable = |why: String, location_expr: String| {
            let ty = self.bi.go_type(var.ty).ok();
            // An array's length is its type's, readable or not.
            let len = match ty.as_ref().map(|t| &t.shape) {
                Some(ferret_gort::bininfo::Shape::Array { len, .. }) => *len as i64,
                _ => 0,
            };
            Box::new(Variable {
                name: name.to_owned(),
                flags: role_flags,
                len,
                cap: len,
                type_name: ty.as_ref().map(|t| t.name.clone()).unwrap_or_default(),
                real_type: ty.as_ref().map(|t| t.name.clone()).unwrap_or_default(),
                kind: ty.map(|t| t.kind),
                unreadable: why,
                location_expr,
                decl_line: var.decl_line,
                ..Variable::default()
            })
        };
        let (expression, prefix) = match self.bi.variable_expression(var, pc) {
            Ok(Some(found)) => found,
            Ok(None) => {
                let offset = match var.location {
                    ferret_gort::bininfo::VariableLocation::List(offset) => offset,
                    _ => 0,
                };
                return Err(unreadable(
                    format!("could not find loclist entry at {offset:#x} for address {pc:#x}"),
                    String::new(),
                ));
            }
            Err(e) => return Err(unreadable(e.to_string(), String::new())),
        };
        let mut location_expr = location_text(&prefix, &expression);
        let registers = frame.registers;
        let register = move |n: u16| {
            if n == 7 {
                // The stack pointer above the innermost frame is the CFA.
                return Some(registers.map_or(cfa, |r| r.rsp));
            }
            registers.and_then(|r| r.dwarf_register(n))
        };
        let place = variable_place(&expression, cfa, &register, self.target.state());
        // A value in registers or pieces gets a made-up address; one wholly
        // in a register of a thread can be set there.
        let (held, in_register) = match &place {
            VariablePlace::Register(n, value) => (
                Some(value.to_le_bytes().to_vec()),
                frame.thread.map(|tid| (tid, *n)),
            ),
            VariablePlace::Value(bytes) => (Some(bytes.clone()), None),
            _ => (None, None),
        };
        if let Some(bytes) = held {
            let addr =
                self.composites
                    .borrow_mut()
                    .address(cfa, &location_expr, bytes, in_register);
            return Ok(Binding {
                name: name.to_owned(),
                addr,
                ty: var.ty,
                flags: role_flags | value_flags::FAKE_ADDRESS,
                location_expr,
                decl_line: var.decl_line,
            });
        }
        match place {
            VariablePlace::Register(..) | VariablePlace::Value(_) => {
                Err(unreadable("a value in registers".into(), location_expr))
            }
            VariablePlace::Memory(addr) if escaped => {
                location_expr.push_str(" (escaped)");
                let pointee = match self.bi.go_type(var.ty).map(|t| t.shape.clone()) {
                    Ok(ferret_gort::bininfo::Shape::Pointer { elem: Some(elem) }) => elem,
                    Ok(_) => {
                        return Err(unreadable(
                            "escaped variable is not a pointer".into(),
                            location_expr,
                        ))
                    }
                    Err(e) => return Err(unreadable(e.to_string(), location_expr)),
                };
                match self.target.state().read_u64(addr) {
                    Ok(0) => Err(unreadable(
                        "no address for escaped variable".into(),
                        location_expr,
                    )),
                    // An escaped variable keeps only the Escaped flag, even
                    // a parameter (Delve then lists it among the locals).
                    Ok(heap) => Ok(Binding {
                        name: name.to_owned(),
                        addr: heap,
                        ty: pointee,
                        flags: value_flags::ESCAPED,
                        location_expr,
                        decl_line: var.decl_line,
                    }),
                    Err(e) => Err(unreadable(e.to_string(), location_expr)),
                }
            }
            VariablePlace::Memory(addr) => Ok(Binding {
                name: name.to_owned(),
                addr,
                ty: var.ty,
                flags: role_flags,
                location_expr,
                decl_line: var.decl_line,
            }),
            VariablePlace::Empty => Err(unreadable("empty OP stack".into(), location_expr)),
            VariablePlace::MissingRegister(n) => {
                let mut v = unreadable(
                    format!("could not read 8 bytes from register {n} (size: 0)"),
                    location_expr,
                );
                v.flags |= value_flags::FAKE_ADDRESS;
                Err(v)
            }
            VariablePlace::Unsupported => Err(unreadable(
                "location expression not supported yet".into(),
                location_expr,
            )),
        }
    }

    /// The variables of `frame` Delve would show, located (register-held
    /// ones get their made-up addresses in DWARF order, as Delve reads
    /// them), then in Delve's order: parameters first, then by block depth
    /// and declaration line. Shadowing is left to the caller.
    fn frame_bindings(
        &self,
        frame: &ScopeFrame,
    ) -> Result<Vec<std::result::Result<Binding, Box<Variable>>>> {
        let mut declared: Vec<(usize, u32, std::result::Result<Binding, Box<Variable>>)> = self
            .bi
            .variables_at(&frame.function, frame.inlined_call, frame.lookup_pc)?
            .into_iter()
            .filter(|var| !is_hidden_variable(&var.name))
            // A local is in scope from the line after its declaration.
            .filter(|var| {
                var.role != VariableRole::Local || var.decl_line == 0 || frame.line > var.decl_line
            })
            .map(|var| {
                let depth = if var.role == VariableRole::Local {
                    var.depth + 1
                } else {
                    0
                };
                (depth, var.decl_line, self.bind_declared(&var, frame))
            })
            .collect();
        declared.sort_by_key(|&(depth, line, _)| (depth, line));
        Ok(declared.into_iter().map(|(_, _, bound)| bound).collect())
    }

    /// The innermost frame of thread `tid`, from its registers (no
    /// goroutine list needed: conditions are evaluated on every hit).
    fn thread_scope_frame(&self, tid: i32) -> Result<ScopeFrame> {
        let regs = self.target.state().registers(tid)?;
        let start = UnwindStart {
            pc: regs.pc(),
            sp: regs.sp(),
            bp: regs.rbp,
        };
        let frames = unwind(&self.bi, self.target.state(), start, None, 1)?;
        let frame = frames.first().ok_or(SessionError::NoFrame(0))?;
        let function = self
            .bi
            .function_at(frame.pc)?
            .ok_or(SessionError::NoFrame(0))?;
        Ok(ScopeFrame {
            function,
            inlined_call: None,
            lookup_pc: frame.pc,
            pc: frame.pc,
            line: self.location(frame.pc).line,
            cfa: frame.cfa,
            registers: Some(regs),
            thread: Some(tid),
        })
    }

    /// Whether breakpoint condition `cond` holds on thread `tid`; an error
    /// in Delve's words when it cannot be evaluated.
    fn condition_holds(&self, tid: i32, cond: &str) -> std::result::Result<bool, String> {
        let frame = self.thread_scope_frame(tid).map_err(|e| e.to_string())?;
        let value = self
            .evaluate_in(&frame, cond, LoadConfig::FULL)
            .map_err(|e| format!("error evaluating expression: {e}"))?;
        if value.kind != Some(ferret_gort::bininfo::Kind::Bool) {
            return Err("condition expression not boolean".into());
        }
        if !value.unreadable.is_empty() {
            return Err(format!(
                "condition expression unreadable: {}",
                value.unreadable
            ));
        }
        Ok(value.value == "true")
    }

    /// The ids of the goroutines waiting on the channels that `chan`
    /// filters name, evaluated in the frame at `scope`.
    fn channel_filter_waiters(
        &self,
        filters: &[GoroutineFilter],
        scope: EvalScope,
    ) -> Result<std::collections::HashSet<i64>> {
        let mut ids = std::collections::HashSet::new();
        for filter in filters
            .iter()
            .filter(|f| f.field == GoroutineField::WaitingOnChannel)
        {
            let gs = self.in_scope(scope, |frame, memory| {
                channel_waiters(&self.bi, memory, frame, &filter.arg).map_err(eval_error)
            })?;
            if let Some(runtime) = &self.runtime {
                for g in gs {
                    ids.insert(runtime.read_g(self.target.state(), g)?.id);
                }
            }
        }
        Ok(ids)
    }

    /// Evaluates `expression` in the frame at `scope`.
    fn evaluate(&self, scope: EvalScope, expression: &str, config: LoadConfig) -> Result<Variable> {
        let frame = self.scope_frame(scope)?;
        self.evaluate_in(&frame, expression, config)
    }

    /// The variables of `frame` an expression can name, innermost first
    /// (the last declared of a name wins).
    fn eval_bindings(&self, frame: &ScopeFrame) -> Result<Vec<Binding>> {
        Ok(self
            .frame_bindings(frame)?
            .into_iter()
            .rev()
            .filter_map(|bound| bound.ok())
            .collect())
    }

    /// Evaluates `expression` in `frame`.
    fn evaluate_in(
        &self,
        frame: &ScopeFrame,
        expression: &str,
        config: LoadConfig,
    ) -> Result<Variable> {
        let bindings = self.eval_bindings(frame)?;
        let eval_frame = EvalFrame {
            bindings: &bindings,
            function: &frame.function.name,
        };
        let memory = self.composite_memory();
        evaluate(&self.bi, &memory, &eval_frame, expression, config).map_err(eval_error)
    }

    // ---- breakpoints --------------------------------------------------------

    fn find_breakpoint(&self, id: i32, name: &str) -> Result<&Breakpoint> {
        if !name.is_empty() {
            return self
                .breakpoints
                .values()
                .find(|b| b.name == name)
                .ok_or_else(|| SessionError::NoBreakpointName(name.to_owned()));
        }
        self.breakpoints
            .get(&id)
            .ok_or(SessionError::NoBreakpointId(id))
    }

    fn create_breakpoint(&mut self, request: BreakpointRequest) -> Result<Breakpoint> {
        self.live_state()?;
        let template = request.template;
        parse_hit_condition(&template.hit_cond).map_err(SessionError::Eval)?;
        // A malformed expression is refused before anything else; after
        // that Delve uses up an id on every attempt, failed ones included.
        if !request.loc_expr.is_empty() {
            check_well_formed(&request.loc_expr)?;
        }
        if template.id <= 0 {
            self.last_breakpoint_id += 1;
        }
        // A condition that does not parse is refused with the parser's
        // words, as Delve does.
        if !template.cond.is_empty() {
            ferret_gort::expr::parse(&template.cond)
                .map_err(|e| SessionError::Eval(e.to_string()))?;
        }
        if !template.name.is_empty() {
            if template.name.parse::<i64>().is_ok() {
                return Err(SessionError::BadBreakpointName(
                    "breakpoint name can not be a number",
                ));
            }
            if self.breakpoints.values().any(|b| b.name == template.name) {
                return Err(SessionError::BadBreakpointName(
                    "breakpoint name already exists",
                ));
            }
        }
        // Delve's precedence: file+line, then function (+line), then
        // addresses, then the location expression.
        let pcs = if !template.file.is_empty() && template.line > 0 {
            match resolve(&self.bi, &format!("{}:{}", template.file, template.line)) {
                Ok(location) => location.pcs,
                // Asked by file and line (not by expression), Delve names
                // the file it cannot find.
                Err(SessionError::LocationNotFound(_)) => {
                    return Err(SessionError::NoSuchFile(template.file.clone()))
                }
                Err(e) => return Err(e),
            }
        } else if !template.function_name.is_empty() {
            resolve(&self.bi, &template.function_name)?.pcs
        } else if !template.addrs.is_empty() {
            template.addrs.clone()
        } else if request.addr != 0 {
            vec![request.addr]
        } else {
            match resolve(&self.bi, &request.loc_expr) {
                Ok(location) => location.pcs,
                // As Delve: a location expression that matches nothing yet
                // makes a breakpoint without addresses, kept by its text.
                Err(SessionError::NoFunction(_) | SessionError::LocationNotFound(_)) => {
                    return Ok(self.pending_breakpoint(template, request.loc_expr));
                }
                Err(e) => return Err(e),
            }
        };
        if matches!(self.target, Target::Core(_)) {
            return Err(SessionError::Eval(
                "cannot write a breakpoint to a core file".into(),
            ));
        }
        let location = location_at(&self.bi, pcs[0], pcs.clone());
        if let Some(existing) = self
            .breakpoints
            .values()
            .find(|b| b.addrs.iter().any(|a| pcs.contains(a)))
        {
            return Err(SessionError::BreakpointExists {
                file: existing.file.clone(),
                line: existing.line,
                addr: existing.addrs[0],
            });
        }
        let id = if template.id > 0 {
            if self.breakpoints.contains_key(&template.id) {
                return Err(SessionError::BreakpointExists {
                    file: location.file.to_string(),
                    line: location.line,
                    addr: pcs[0],
                });
            }
            template.id
        } else {
            self.last_breakpoint_id
        };
        self.last_breakpoint_id = self.last_breakpoint_id.max(id);
        let breakpoint = Breakpoint {
            id,
            addrs: pcs,
            file: location.file.to_string(),
            line: location.line,
            function_name: location
                .function
                .map(|f| f.name.to_string())
                .unwrap_or_default(),
            expr: String::new(),
            hit_count: BTreeMap::new(),
            total_hit_count: 0,
            ..template
        };
        self.breakpoints.insert(id, breakpoint.clone());
        self.sync_breakpoints()?;
        Ok(breakpoint)
    }

    /// A breakpoint whose location matches nothing (yet): no addresses,
    /// just the expression.
    fn pending_breakpoint(&mut self, template: Breakpoint, expr: String) -> Breakpoint {
        let id = if template.id > 0 {
            template.id
        } else {
            self.last_breakpoint_id
        };
        self.last_breakpoint_id = self.last_breakpoint_id.max(id);
        let breakpoint = Breakpoint {
            id,
            addrs: Vec::new(),
            file: String::new(),
            line: 0,
            function_name: String::new(),
            expr,
            hit_count: BTreeMap::new(),
            total_hit_count: 0,
            ..template
        };
        self.breakpoints.insert(id, breakpoint.clone());
        breakpoint
    }

    fn clear_breakpoint(&mut self, id: i32, name: &str) -> Result<Breakpoint> {
        let id = self.find_breakpoint(id, name)?.id;
        let removed = self
            .breakpoints
            .remove(&id)
            .ok_or(SessionError::NoBreakpointId(id))?;
        self.thread_breakpoint.retain(|_, b| *b != id);
        if let Some(slot) = self.watch_slots.remove(&id) {
            if let Target::Live(process) = &mut self.target {
                process.clear_watchpoint(slot)?;
            }
        }
        self.sync_breakpoints()?;
        Ok(removed)
    }

    fn amend_breakpoint(&mut self, update: Breakpoint) -> Result<()> {
        parse_hit_condition(&update.hit_cond).map_err(SessionError::Eval)?;
        let existing = self
            .breakpoints
            .get_mut(&update.id)
            .ok_or(SessionError::NoBreakpointId(update.id))?;
        // Everything but where it is and how often it was hit comes from the
        // client.
        let kept = std::mem::take(existing);
        *existing = Breakpoint {
            id: kept.id,
            addrs: kept.addrs,
            file: kept.file,
            line: kept.line,
            function_name: kept.function_name,
            expr: kept.expr,
            hit_count: kept.hit_count,
            total_hit_count: kept.total_hit_count,
            ..update
        };
        self.sync_breakpoints()
    }

    fn toggle_breakpoint(&mut self, id: i32, name: &str) -> Result<Breakpoint> {
        let id = self.find_breakpoint(id, name)?.id;
        let bp = self
            .breakpoints
            .get_mut(&id)
            .ok_or(SessionError::NoBreakpointId(id))?;
        let was_disabled = bp.disabled;
        bp.disabled = !bp.disabled;
        let mut out = bp.clone();
        if was_disabled {
            // Delve answers with the breakpoint as it was set before the
            // toggle: a disabled one had no addresses in the target.
            out.addrs.clear();
        }
        self.sync_breakpoints()?;
        Ok(out)
    }

    /// Makes the int3s in the target match the enabled user breakpoints
    /// and the temporary ones.
    fn sync_breakpoints(&mut self) -> Result<()> {
        let Target::Live(process) = &mut self.target else {
            return Ok(());
        };
        if self.exit_status.is_some() {
            return Ok(());
        }
        let mut wanted: BTreeSet<u64> = self
            .breakpoints
            .values()
            .filter(|b| !b.disabled && b.watch_expr.is_empty())
            .flat_map(|b| b.addrs.iter().copied())
            .collect();
        wanted.extend(self.temps.iter().map(|t| t.addr));
        for &addr in self.inserted.difference(&wanted) {
            process.clear_breakpoint(addr)?;
        }
        for &addr in wanted.difference(&self.inserted) {
            process.set_breakpoint(addr)?;
        }
        self.inserted = wanted;
        Ok(())
    }

    // ---- run control --------------------------------------------------------

    fn command(&mut self, command: Command) -> Result<State> {
        self.live_state()?;
        if let Target::Core(_) = self.target {
            return Err(SessionError::CoreFile("continue execution of"));
        }
        if matches!(
            command,
            Command::Continue | Command::Next | Command::Step | Command::StepOut(_)
        ) {
            self.returned = None;
        }
        match command {
            Command::Continue => self.run(),
            Command::Next => self.start_next(false),
            Command::Step => self.start_next(true),
            Command::StepOut(config) => {
                let tid = self.current_tid.unwrap_or(self.pid);
                let returning = self.returning_frame(tid).ok();
                let state = self.start_step_out()?;
                if state.stop_reason == StopKind::NextFinished {
                    if let Some(tid) = state.current_thread.as_ref().map(|t| t.id) {
                        let values = match (config, &returning) {
                            (Some(config), Some(frame)) => {
                                self.return_values(tid, frame, config).unwrap_or_default()
                            }
                            _ => Vec::new(),
                        };
                        self.returned = Some((tid, values));
                    }
                    return Ok(self.stopped_state());
                }
                Ok(state)
            }
            Command::StepInstruction => self.step_instruction(),
            Command::SwitchThread(tid) => {
                if !self.target.state().threads().contains(&tid) {
                    return Err(SessionError::NoThread(tid));
                }
                self.current_tid = Some(tid);
                self.selected_goroutine = None;
                Ok(self.stopped_state())
            }
            Command::SwitchGoroutine(goid) => {
                let (_, thread) = self.find_goroutine(goid)?;
                // A goroutine on a thread selects that thread; a parked one
                // is selected on its own and the thread stays (as in Delve).
                match thread {
                    Some((tid, _)) => {
                        self.current_tid = Some(tid);
                        self.selected_goroutine = None;
                    }
                    None => self.selected_goroutine = Some(goid),
                }
                Ok(self.stopped_state())
            }
        }
    }

    fn step_instruction(&mut self) -> Result<State> {
        let tid = self.current_tid.unwrap_or(self.pid);
        self.forget_goroutines();
        self.sync_breakpoints()?;
        let event = self.process()?.step(tid)?;
        if let Some(state) = self.finish_if_exited(&event) {
            return Ok(state);
        }
        self.thread_breakpoint.clear();
        self.stop_reason = StopKind::NextFinished;
        Ok(self.stopped_state())
    }

    /// The CFA of the current thread's top frame and its return address.
    fn frame_of(&self, tid: i32) -> Result<(u64, Option<u64>)> {
        let regs = self.target.state().registers(tid)?;
        let rule = self.bi.frame_rule(regs.pc())?;
        match rule.and_then(|rule| frame_addresses(&rule, regs.sp(), regs.rbp)) {
            Some((cfa, ra_slot)) => Ok((cfa, self.read_u64(ra_slot))),
            None => Ok((regs.sp(), None)),
        }
    }

    /// `next` (and `step` with `step_into`): breakpoints on every other
    /// statement of the current function for this frame, on the return
    /// address for the caller, and (for step) on the first line of each
    /// user function the current line calls directly.
    fn start_next(&mut self, step_into: bool) -> Result<State> {
        let tid = self.current_tid.unwrap_or(self.pid);
        let regs = self.target.state().registers(tid)?;
        let pc = regs.pc();
        let g = self.g_of(&regs);
        let Some(function) = self.bi.function_at(pc)? else {
            return self.step_instruction();
        };
        let (cfa, return_address) = self.frame_of(tid)?;
        let lines = self.bi.line_table(&function)?;
        let here = lines.row_at(pc).map(|r| (r.file, r.line));
        let in_function = |r: &&ferret_gort::bininfo::LineRow| {
            r.address >= function.entry && r.address < function.end
        };
        let mut temps: Vec<TempBreakpoint> = lines
            .rows
            .iter()
            .filter(in_function)
            .filter(|r| {
                r.is_stmt && !r.end_sequence && Some((r.file, r.line)) != here && r.address != pc
            })
            .map(|r| TempBreakpoint {
                addr: r.address,
                g,
                frame: FrameCheck::Same(cfa),
            })
            .collect();
        if let Some(ra) = return_address {
            if self.bi.function_at(ra)?.is_some() {
                temps.push(TempBreakpoint {
                    addr: ra,
                    g,
                    frame: FrameCheck::Above(cfa),
                });
            }
        }
        if step_into {
            // The code of the current line: rows on it, up to the next row.
            let rows: Vec<_> = lines.rows.iter().filter(in_function).collect();
            for (i, row) in rows.iter().enumerate() {
                if Some((row.file, row.line)) != here {
                    continue;
                }
                let end = rows.get(i + 1).map_or(function.end, |next| next.address);
                let mut code = vec![0u8; (end - row.address) as usize];
                if self
                    .target
                    .state()
                    .read_memory(row.address, &mut code)
                    .is_err()
                {
                    continue;
                }
                for target in direct_call_targets(&code, row.address) {
                    let Some(callee) = self.bi.function_at(target)? else {
                        continue;
                    };
                    if !is_user_function(&self.bi, &callee)? {
                        continue;
                    }
                    let entry = self.bi.first_pc_after_prologue(&callee)?;
                    temps.push(TempBreakpoint {
                        addr: entry,
                        g,
                        frame: FrameCheck::Any,
                    });
                }
            }
        }
        self.temps = temps;
        self.run()
    }

    fn start_step_out(&mut self) -> Result<State> {
        let tid = self.current_tid.unwrap_or(self.pid);
        let regs = self.target.state().registers(tid)?;
        let g = self.g_of(&regs);
        let (cfa, return_address) = self.frame_of(tid)?;
        let Some(ra) = return_address else {
            return self.run();
        };
        self.temps = vec![TempBreakpoint {
            addr: ra,
            g,
            frame: FrameCheck::Above(cfa),
        }];
        self.run()
    }

    /// The function thread `tid` is in and its frame's CFA: what a
    /// `stepout` from there returns from.
    fn returning_frame(&self, tid: i32) -> Result<(ferret_gort::bininfo::Function, u64)> {
        let regs = self.target.state().registers(tid)?;
        let function = self
            .bi
            .function_at(regs.pc())?
            .ok_or(SessionError::NoFrame(0))?;
        let (cfa, _) = self.frame_of(tid)?;
        Ok((function, cfa))
    }

    /// The results of `returned` (a function and the CFA its frame had),
    /// read just after it returned to thread `tid`, as Delve does: in a
    /// made-up scope at the function's entry with the returned-to thread's
    /// registers, where the results' locations name the registers (and
    /// stack slots) that hold them now.
    fn return_values(
        &self,
        tid: i32,
        returned: &(ferret_gort::bininfo::Function, u64),
        config: LoadConfig,
    ) -> Result<Vec<Variable>> {
        let (function, cfa) = returned;
        let mut registers = self.target.state().registers(tid)?;
        registers.rsp = cfa - 8;
        registers.rip = function.entry;
        let frame = ScopeFrame {
            function: function.clone(),
            inlined_call: None,
            lookup_pc: function.entry,
            pc: function.entry,
            line: self.location(function.entry).line,
            cfa: *cfa,
            registers: Some(registers),
            thread: None,
        };
        Ok(self
            .frame_variables(&frame, config, true)?
            .into_iter()
            .filter(|v| v.flags & value_flags::RETURN_ARGUMENT != 0)
            .collect())
    }

    /// Whether a temporary breakpoint's conditions hold for thread `tid`.
    fn temp_matches(&self, temp: &TempBreakpoint, tid: i32) -> bool {
        let Ok(regs) = self.target.state().registers(tid) else {
            return false;
        };
        if temp.g != 0 && self.g_of(&regs) != temp.g {
            return false;
        }
        match temp.frame {
            FrameCheck::Any => true,
            FrameCheck::Same(cfa) => self.frame_of(tid).is_ok_and(|(here, _)| here == cfa),
            FrameCheck::Above(cfa) => self.frame_of(tid).is_ok_and(|(here, _)| here > cfa),
        }
    }

    /// Runs the pending [`Debugger::peek`] jobs; whether there were any.
    fn serve_peeks(&mut self) -> bool {
        let jobs = std::mem::take(
            &mut *self
                .shared
                .peeks
                .0
                .lock()
                .unwrap_or_else(|e| e.into_inner()),
        );
        let served = !jobs.is_empty();
        for job in jobs {
            job(self);
        }
        served
    }

    /// Resumes until a stop worth reporting. Clients see the target as
    /// running for the whole time, including the short stops in between
    /// (temporary breakpoints on other goroutines, peeks), so a
    /// non-blocking `State` never waits behind them.
    fn run(&mut self) -> Result<State> {
        self.forget_goroutines();
        self.shared.running.store(true, Ordering::SeqCst);
        let state = self.run_until_reported();
        self.shared.running.store(false, Ordering::SeqCst);
        state
    }

    fn run_until_reported(&mut self) -> Result<State> {
        loop {
            // Peeks asked for just before the target started running found
            // no run to halt: serve them before resuming.
            if self.serve_peeks() {
                self.forget_goroutines();
            }
            self.sync_breakpoints()?;
            // Register-held values of the last stop are stale once it runs.
            *self.composites.get_mut() = Composites::default();
            self.process()?.resume()?;
            let event = self.wait_passing_false_conditions()?;
            if let Some(state) = self.finish_if_exited(&event) {
                return Ok(state);
            }
            let Event::Stopped { stops, .. } = event else {
                continue;
            };
            self.thread_breakpoint.clear();
            let mut report: Option<(i32, StopKind)> = None;
            let mut next_done = false;
            for stop in &stops {
                match stop.reason {
                    StopReason::Breakpoint { addr } => {
                        let regs = self.target.state().registers(stop.tid)?;
                        let goid = self.goroutine_id(&regs);
                        let hit: Vec<i32> = self
                            .breakpoints
                            .values()
                            .filter(|b| !b.disabled && b.addrs.contains(&addr))
                            .map(|b| b.id)
                            .collect();
                        for id in hit {
                            // A false condition is not a hit; neither, as
                            // dlv 1.27 behaves, is one that cannot be
                            // evaluated.
                            let cond = self.breakpoints[&id].cond.clone();
                            if !cond.is_empty() && self.condition_holds(stop.tid, &cond) != Ok(true)
                            {
                                continue;
                            }
                            let bp = self
                                .breakpoints
                                .get_mut(&id)
                                .expect("breakpoint id from the map");
                            *bp.hit_count.entry(goid).or_default() += 1;
                            bp.total_hit_count += 1;
                            let hits = if bp.hit_cond_per_g && goid > 0 {
                                bp.hit_count[&goid]
                            } else {
                                bp.total_hit_count
                            };
                            let counted = match parse_hit_condition(&bp.hit_cond) {
                                Ok(Some(hit_condition)) => hit_condition.holds(hits),
                                _ => true,
                            };
                            if !counted {
                                continue;
                            }
                            // Tracepoints stop and report too, as in Delve:
                            // the client prints what they loaded and
                            // continues.
                            self.thread_breakpoint.insert(stop.tid, id);
                            report.get_or_insert((stop.tid, StopKind::Breakpoint));
                        }
                        let temps: Vec<TempBreakpoint> = self
                            .temps
                            .iter()
                            .filter(|t| t.addr == addr)
                            .copied()
                            .collect();
                        if temps.iter().any(|t| self.temp_matches(t, stop.tid)) && !next_done {
                            next_done = true;
                            if report.is_none() {
                                report = Some((stop.tid, StopKind::NextFinished));
                            }
                        }
                    }
                    StopReason::TrapInstruction { .. } => {
                        report.get_or_insert((stop.tid, StopKind::HardcodedBreakpoint));
                    }
                    StopReason::Watchpoint { slot, .. } => {
                        let id = self
                            .watch_slots
                            .iter()
                            .find(|(_, s)| **s == slot)
                            .map(|(id, _)| *id);
                        let regs = self.target.state().registers(stop.tid)?;
                        let goid = self.goroutine_id(&regs);
                        if let Some(bp) = id.and_then(|id| self.breakpoints.get_mut(&id)) {
                            *bp.hit_count.entry(goid).or_default() += 1;
                            bp.total_hit_count += 1;
                            self.thread_breakpoint.insert(stop.tid, bp.id);
                        }
                        report.get_or_insert((stop.tid, StopKind::Watchpoint));
                    }
                    StopReason::Halted | StopReason::Signal(_) => {
                        report.get_or_insert((stop.tid, StopKind::Manual));
                    }
                    StopReason::StepDone => {}
                }
            }
            // A halt made only to serve peeks: serve them and run on.
            let asked = self.shared.halt_requested.swap(false, Ordering::SeqCst);
            let for_peeks = self.shared.peek_halt.swap(false, Ordering::SeqCst);
            let served = self.serve_peeks();
            if (served || for_peeks)
                && !asked
                && report.is_some_and(|(_, kind)| kind == StopKind::Manual)
            {
                self.forget_goroutines();
                continue;
            }
            let Some((mut tid, kind)) = report else {
                continue;
            };
            if kind == StopKind::Manual {
                // A halt stops threads in no useful order: select one that
                // runs a goroutine, as Delve does, so clients have one to show.
                tid = self.thread_with_goroutine(tid);
            }
            if next_done || kind == StopKind::Manual {
                self.temps.clear();
                self.sync_breakpoints()?;
            }
            self.current_tid = Some(tid);
            self.stop_reason = kind;
            return Ok(self.stopped_state());
        }
    }

    /// `tid` when it runs a goroutine, else the first thread that does
    /// (`tid` when none does).
    fn thread_with_goroutine(&self, tid: i32) -> i32 {
        let target = self.target.state();
        let runs_goroutine = |t: i32| {
            target
                .registers(t)
                .is_ok_and(|regs| self.goroutine_id(&regs) != 0)
        };
        if runs_goroutine(tid) {
            return tid;
        }
        target
            .threads()
            .into_iter()
            .find(|&t| runs_goroutine(t))
            .unwrap_or(tid)
    }

    /// Waits for the target to stop. A thread stopped on breakpoints
    /// whose conditions all fail is sent on past them there and then, the
    /// other threads never stopped: the condition is read while they run
    /// and the instruction under the int3 emulated (see ARCHITECTURE.md).
    fn wait_passing_false_conditions(&mut self) -> Result<Event> {
        loop {
            match self.process()?.wait_first()? {
                FirstStop::Event(event) => return Ok(event),
                FirstStop::Breakpoint { tid, addr } => {
                    if self.passes_unseen(tid, addr)
                        && self.process()?.pass_breakpoint(tid, addr)?
                    {
                        continue;
                    }
                    return Ok(self.process()?.stop_others(tid, addr)?);
                }
            }
        }
    }

    /// Whether thread `tid`, stopped on the breakpoint at `addr` while the
    /// others run, need not stop: breakpoints of clients are there, all
    /// with conditions and none of them true, no temporary breakpoint is
    /// there and its instruction can be emulated.
    fn passes_unseen(&mut self, tid: i32, addr: u64) -> bool {
        if self.temps.iter().any(|t| t.addr == addr) {
            return false;
        }
        let conditions: Vec<String> = self
            .breakpoints
            .values()
            .filter(|b| !b.disabled && b.addrs.contains(&addr))
            .map(|b| b.cond.clone())
            .collect();
        if conditions.is_empty() || conditions.iter().any(String::is_empty) {
            return false;
        }
        if !self.process().is_ok_and(|p| p.can_pass_breakpoint(addr)) {
            return false;
        }
        let pass = conditions
            .iter()
            .all(|cond| self.condition_holds(tid, cond) != Ok(true));
        // Register-held values read for the condition are stale once the
        // thread moves on.
        *self.composites.get_mut() = Composites::default();
        pass
    }

    /// Records an exit; returns the exited state.
    fn finish_if_exited(&mut self, event: &Event) -> Option<State> {
        let status = match event {
            Event::Exited { status, .. } => *status,
            Event::Killed { signal, .. } => -(*signal as i32),
            Event::Stopped { .. } => return None,
        };
        self.exit_status = Some(status);
        self.inserted.clear();
        self.temps.clear();
        self.thread_breakpoint.clear();
        self.stop_reason = StopKind::Exited;
        *self.shared.halt.lock().unwrap_or_else(|e| e.into_inner()) = None;
        Some(self.stopped_state())
    }

    // ---- lifecycle ----------------------------------------------------------

    fn restart(&mut self) -> Result<()> {
        if matches!(self.target, Target::Core(_)) {
            return Err(SessionError::CoreFile("continue execution of"));
        }
        let Some(options) = self.launch.clone() else {
            return Err(SessionError::CannotRestart);
        };
        if let Target::Live(mut process) =
            std::mem::replace(&mut self.target, Target::Live(Process::launch(&options)?))
        {
            if !process.has_exited() {
                let _ = process.kill();
            }
        }
        let Target::Live(process) = &self.target else {
            unreachable!("just launched")
        };
        self.pid = process.pid();
        self.shared.pid.store(self.pid, Ordering::SeqCst);
        *self.shared.halt.lock().unwrap_or_else(|e| e.into_inner()) = Some(process.halt_handle());
        self.inserted.clear();
        self.temps.clear();
        self.thread_breakpoint.clear();
        self.exit_status = None;
        self.current_tid = Some(self.pid);
        self.forget_goroutines();
        self.stop_reason = StopKind::Launched;
        for bp in self.breakpoints.values_mut() {
            bp.hit_count.clear();
            bp.total_hit_count = 0;
        }
        self.sync_breakpoints()
    }

    fn detach(&mut self, kill: bool) -> Result<()> {
        self.ended = true;
        match &mut self.target {
            Target::Live(process) if !process.has_exited() => {
                if kill || process.launched() {
                    process.kill()?;
                } else {
                    process.detach()?;
                }
            }
            _ => {}
        }
        Ok(())
    }
}

/// Delve's two internal breakpoints, which stop on unrecovered panics
/// (id -1) and fatal runtime errors (id -2).
fn internal_breakpoints(bi: &BinaryInfo) -> BTreeMap<i32, Breakpoint> {
    let mut out = BTreeMap::new();
    // Concrete functions only: looking these up must not index the whole
    // binary (two of them do not exist in current Go versions).
    let first_pc = |name: &str| {
        let function = bi.function_by_name(name).ok()??;
        bi.first_pc_after_prologue(&function).ok()
    };
    let panic = first_pc("runtime.startpanic").or_else(|| first_pc("runtime.fatalpanic"));
    if let Some(pc) = panic {
        let location = location_at(bi, pc, vec![pc]);
        out.insert(
            -1,
            Breakpoint {
                id: -1,
                name: "unrecovered-panic".into(),
                addrs: location.pcs,
                file: location.file.to_string(),
                line: location.line,
                function_name: location
                    .function
                    .map(|f| f.name.to_string())
                    .unwrap_or_default(),
                variables: vec!["runtime.curg._panic.arg".into()],
                ..Breakpoint::default()
            },
        );
    }
    let throw: Vec<u64> = [
        "runtime.throw",
        "runtime.fatal",
        "runtime.winthrow",
        "runtime.fatalsignal",
    ]
    .iter()
    .filter_map(|n| first_pc(n))
    .collect();
    if !throw.is_empty() {
        out.insert(
            -2,
            Breakpoint {
                id: -2,
                name: "runtime-fatal-throw".into(),
                addrs: throw,
                file: "<multiple locations>".into(),
                function_name: "(multiple functions)".into(),
                ..Breakpoint::default()
            },
        );
    }
    out
}

/// Functions `step` stops in: not the runtime, not compiler-made wrappers.
fn is_user_function(bi: &BinaryInfo, function: &ferret_gort::bininfo::Function) -> Result<bool> {
    if function.trampoline
        || function.name.starts_with("runtime.")
        || function.name.starts_with("internal/")
        || function.name.contains("·dwrap·")
    {
        return Ok(false);
    }
    Ok(bi.pc_info(function.entry)?.is_some_and(|info| {
        info.frames
            .first()
            .is_some_and(|f| !f.file.is_empty() && !f.file.starts_with('<'))
    }))
}
