//! [`Process`]: a live process under ptrace, in all-stop mode: either every
//! thread runs, or every thread is stopped.
//!
//! Stops come from `waitpid` on the tracer thread. When one thread stops
//! for a reason worth reporting, every other thread is interrupted
//! (`PTRACE_INTERRUPT`) and waited for; stops the others report meanwhile
//! (another breakpoint hit, a signal) are kept, so none is lost. Signals the
//! program uses itself (Go's SIGURG preemption, SIGPROF, SIGCHLD, SIGPIPE,
//! SIGSEGV it turns into a panic, ...) are passed on untouched; SIGTRAPs
//! caused by ferret's breakpoints and steps never are.

use std::cell::Cell;
use std::collections::{BTreeMap, HashMap};
use std::marker::PhantomData;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use nix::sys::signal::{kill, Signal};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid as NixPid;

use super::launch::{spawn_seized, LaunchOptions};
use super::memory::ProcessMemory;
use super::ptrace;
use crate::arch::emulate::Emulation;
use crate::arch::BREAKPOINT_INSTRUCTION;
use crate::error::{Result, TargetError};
use crate::{FpRegisters, Mapping, Memory, Pid, Registers, ThreadState, Tid};

/// `si_code` of a SIGTRAP raised by an `int3`.
const SI_KERNEL: i32 = 0x80;
/// `si_code` of a SIGTRAP raised by a breakpoint instruction (some kernels).
const TRAP_BRKPT: i32 = 1;
/// `si_code` of a SIGTRAP ending a single step.
const TRAP_TRACE: i32 = 2;
/// `si_code` of a SIGTRAP raised by a hardware breakpoint or watchpoint.
const TRAP_HWBKPT: i32 = 4;
/// Number of x86 debug address registers.
const WATCH_SLOTS: usize = 4;

/// Why one thread stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    /// It hit a ferret breakpoint at `addr` (its PC is now `addr`).
    Breakpoint {
        /// The breakpoint address.
        addr: u64,
    },
    /// It executed an `int3` that is not ferret's (e.g. Go's
    /// `runtime.Breakpoint()`); its PC is after the instruction.
    TrapInstruction {
        /// The PC after the `int3`.
        pc: u64,
    },
    /// A hardware watchpoint fired.
    Watchpoint {
        /// The slot returned by [`Process::set_watchpoint`].
        slot: usize,
        /// The watched address.
        addr: u64,
    },
    /// A signal the caller asked to stop on ([`Process::stop_on_signals`]);
    /// it is delivered when the thread resumes unless cleared.
    Signal(Signal),
    /// Stopped because ferret stopped the world or was asked to halt.
    Halted,
    /// A single step finished.
    StepDone,
}

/// A thread's stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThreadStop {
    /// The thread.
    pub tid: Tid,
    /// Why it stopped.
    pub reason: StopReason,
}

/// Thread lifecycle seen while the process ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThreadEvent {
    /// A new thread appeared.
    Created(Tid),
    /// A thread exited.
    Exited(Tid),
}

/// What [`Process::wait`] or [`Process::step`] ended with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// Every thread is stopped; these are the ones that stopped for a reason
    /// (the first is the one that stopped first).
    Stopped {
        /// Stops with a reason.
        stops: Vec<ThreadStop>,
        /// Threads created or exited since the process was resumed.
        thread_events: Vec<ThreadEvent>,
    },
    /// The process exited with this status.
    Exited {
        /// The exit status.
        status: i32,
        /// Threads created or exited since the process was resumed.
        thread_events: Vec<ThreadEvent>,
    },
    /// The process was killed by this signal.
    Killed {
        /// The killing signal.
        signal: Signal,
        /// Threads created or exited since the process was resumed.
        thread_events: Vec<ThreadEvent>,
    },
}

/// What [`Process::wait_first`] ended with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FirstStop {
    /// Thread `tid` stopped on the breakpoint at `addr` (its PC is `addr`)
    /// and the other threads still run.
    Breakpoint {
        /// The stopped thread.
        tid: Tid,
        /// The breakpoint address.
        addr: u64,
    },
    /// Every thread is stopped, or the process ended, as
    /// [`Process::wait`] reports.
    Event(Event),
}

/// What a hardware watchpoint reacts to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WatchKind {
    /// Writes.
    Write,
    /// Reads and writes.
    ReadWrite,
    /// Execution of the instruction at the address.
    Execute,
}

/// One thread's bookkeeping.
#[derive(Debug, Default)]
struct Thread {
    /// Stopped in some ptrace-stop (so requests may be issued).
    stopped: bool,
    /// A signal to deliver when resumed.
    pending_signal: i32,
    /// A stop reason to report at the next stop (found while stopping the
    /// world or stepping).
    pending_stop: Option<StopReason>,
    /// Whether its debug registers have been set to the current watchpoints.
    watch_applied: bool,
}

/// State shared with [`HaltHandle`]s.
#[derive(Debug)]
struct HaltState {
    pid: Pid,
    /// The tracer is (about to be) waiting for a running process.
    running: AtomicBool,
    /// A halt was asked for and not yet seen.
    requested: AtomicBool,
}

/// Stops a running [`Process`] from any thread.
#[derive(Debug, Clone)]
pub struct HaltHandle(Arc<HaltState>);

impl HaltHandle {
    /// Asks the process to stop; [`Process::wait`] then returns a stop with
    /// [`StopReason::Halted`]. Does nothing if the process is not running.
    pub fn halt(&self) {
        if self.0.running.load(Ordering::SeqCst) && !self.0.requested.swap(true, Ordering::SeqCst) {
            // A process-directed SIGSTOP: whichever thread takes it reports a
            // signal stop, which the tracer recognises as this request.
            let _ = kill(NixPid::from_raw(self.0.pid), Signal::SIGSTOP);
        }
    }
}

/// How a status from `waitpid` was handled.
enum Handled {
    /// Nothing to report; keep waiting.
    Continue,
    /// This thread is now stopped with something to report.
    Stop(ThreadStop),
    /// This thread is stopped, with nothing to report.
    Quiet,
    /// The whole process is gone.
    Gone(Event),
}

/// A live process under ptrace. Must be used only on the thread that made
/// it (the tracer thread); see the crate docs.
pub struct Process {
    pid: Pid,
    /// Launched by ferret (killed when dropped) rather than attached.
    launched: bool,
    threads: BTreeMap<Tid, Thread>,
    memory: ProcessMemory,
    /// Breakpoint address -> original byte.
    breakpoints: BTreeMap<u64, u8>,
    /// The registers of the thread [`Process::wait_first`] returned on a
    /// breakpoint, as the kernel holds them, while it stays stopped
    /// there: its condition and the emulated step read them without
    /// asking the kernel again. Cleared whenever a thread may run or
    /// registers change.
    first_stop_registers: Cell<Option<(Tid, Registers)>>,
    /// Breakpoint address -> its instruction decoded for
    /// [`Process::pass_breakpoint`] (`None`: not one that can be emulated).
    emulations: HashMap<u64, Option<Emulation>>,
    /// Watchpoint slots: (address, size, kind).
    watchpoints: [Option<(u64, u8, WatchKind)>; WATCH_SLOTS],
    halt: Arc<HaltState>,
    /// Signals that stop the process instead of passing through.
    stop_signals: Vec<Signal>,
    thread_events: Vec<ThreadEvent>,
    exited: bool,
    /// An exit that happened inside `resume` (during a step over a
    /// breakpoint), for the next `wait` to report.
    unreported_exit: Option<Event>,
    /// Keeps the type on its thread: ptrace requests are per tracer thread.
    _not_send: PhantomData<*const ()>,
}

impl std::fmt::Debug for Process {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Process")
            .field("pid", &self.pid)
            .field("threads", &self.threads.len())
            .finish()
    }
}

impl Process {
    /// Starts a program stopped before its first instruction. It is killed
    /// if ferret exits (`PTRACE_O_EXITKILL`) or the `Process` is dropped.
    pub fn launch(options: &LaunchOptions) -> Result<Process> {
        let pid = spawn_seized(options, ptrace::BASE_OPTIONS | libc::PTRACE_O_EXITKILL)?;
        let mut process = Process::new(pid, true)?;
        process.threads.insert(
            pid,
            Thread {
                stopped: true,
                ..Thread::default()
            },
        );
        Ok(process)
    }

    /// Attaches to a running process and every one of its threads, leaving
    /// it stopped. Errors: no such process, a kernel thread, already traced,
    /// not permitted. On failure nothing stays attached.
    pub fn attach(pid: Pid) -> Result<Process> {
        check_attachable(pid)?;
        let mut process = Process::new(pid, false)?;
        // Seize every thread; repeat until no new thread shows up.
        loop {
            let mut new = 0;
            for tid in list_tasks(pid)? {
                if process.threads.contains_key(&tid) {
                    continue;
                }
                match ptrace::seize(tid, ptrace::BASE_OPTIONS) {
                    Ok(()) => {}
                    // The thread exited meanwhile.
                    Err(TargetError::Ptrace {
                        errno: nix::errno::Errno::ESRCH,
                        ..
                    }) if tid != pid => continue,
                    Err(TargetError::Ptrace {
                        errno: nix::errno::Errno::EPERM,
                        ..
                    }) => {
                        process.abandon();
                        return Err(TargetError::PermissionDenied {
                            pid,
                            detail: "the kernel refused ptrace (another user's process, or \
                                     /proc/sys/kernel/yama/ptrace_scope forbids it)"
                                .into(),
                        });
                    }
                    Err(e) => {
                        process.abandon();
                        return Err(e);
                    }
                }
                process.threads.insert(tid, Thread::default());
                new += 1;
            }
            if new == 0 {
                break;
            }
        }
        if let Err(e) = process.stop_world() {
            process.abandon();
            return Err(e);
        }
        // Stops seen while attaching are not news to anyone.
        for thread in process.threads.values_mut() {
            thread.pending_stop = None;
        }
        process.thread_events.clear();
        Ok(process)
    }

    fn new(pid: Pid, launched: bool) -> Result<Process> {
        Ok(Process {
            pid,
            launched,
            threads: BTreeMap::new(),
            memory: ProcessMemory::open(pid)?,
            breakpoints: BTreeMap::new(),
            first_stop_registers: Cell::new(None),
            emulations: HashMap::new(),
            watchpoints: [None; WATCH_SLOTS],
            halt: Arc::new(HaltState {
                pid,
                running: AtomicBool::new(false),
                requested: AtomicBool::new(false),
            }),
            stop_signals: Vec::new(),
            thread_events: Vec::new(),
            exited: false,
            unreported_exit: None,
            _not_send: PhantomData,
        })
    }

    /// Detaches from whatever was seized during a failed attach.
    fn abandon(&mut self) {
        for &tid in self.threads.keys() {
            let _ = ptrace::detach(tid, 0);
        }
        self.threads.clear();
        self.exited = true;
    }

    /// The process id.
    pub fn pid(&self) -> Pid {
        self.pid
    }

    /// Whether ferret started the process (as opposed to attaching).
    pub fn launched(&self) -> bool {
        self.launched
    }

    /// Whether the process has exited.
    pub fn has_exited(&self) -> bool {
        self.exited
    }

    /// A handle that stops the process from any thread.
    pub fn halt_handle(&self) -> HaltHandle {
        HaltHandle(self.halt.clone())
    }

    /// Signals that stop the process (reported as [`StopReason::Signal`])
    /// instead of being passed on silently. Empty by default.
    pub fn stop_on_signals(&mut self, signals: &[Signal]) {
        self.stop_signals = signals.to_vec();
    }

    fn live(&self) -> Result<()> {
        if self.exited {
            Err(TargetError::ProcessExited)
        } else {
            Ok(())
        }
    }

    fn thread(&self, tid: Tid) -> Result<&Thread> {
        self.threads
            .get(&tid)
            .ok_or(TargetError::NoSuchThread { tid })
    }

    // ---- memory and registers ------------------------------------------

    /// Thread `tid`'s registers, from [`Process::first_stop_registers`]
    /// when they are known.
    fn read_registers(&self, tid: Tid) -> Result<Registers> {
        match self.first_stop_registers.get() {
            Some((known, regs)) if known == tid => Ok(regs),
            _ => ptrace::registers(tid),
        }
    }

    /// Sets thread `tid`'s registers.
    fn write_registers(&self, tid: Tid, regs: &Registers) -> Result<()> {
        self.first_stop_registers.set(None);
        ptrace::set_registers(tid, regs)
    }

    /// Resumes thread `tid` as [`cont_alive`] does, forgetting the
    /// registers known of the first stop.
    fn cont_thread(&self, tid: Tid, signal: i32) -> Result<()> {
        self.first_stop_registers.set(None);
        cont_alive(tid, signal)
    }

    /// Runs one instruction of thread `tid` (PTRACE_SINGLESTEP).
    fn step_instruction(&self, tid: Tid, signal: i32) -> Result<()> {
        self.first_stop_registers.set(None);
        ptrace::single_step(tid, signal)
    }

    /// Writes memory (text included). Bytes under a breakpoint keep the
    /// breakpoint; the write changes the byte restored when it is removed.
    pub fn write_memory(&mut self, addr: u64, data: &[u8]) -> Result<()> {
        self.live()?;
        let mut patched = data.to_vec();
        for (&bp, original) in self.breakpoints.range_mut(addr..addr + data.len() as u64) {
            let i = (bp - addr) as usize;
            *original = data[i];
            patched[i] = BREAKPOINT_INSTRUCTION;
        }
        self.memory.write(addr, &patched)
    }

    /// Sets a stopped thread's general registers.
    pub fn set_registers(&mut self, tid: Tid, regs: &Registers) -> Result<()> {
        self.live()?;
        self.thread(tid)?;
        self.write_registers(tid, regs)
    }

    /// The readable mappings, from `/proc/PID/maps`.
    pub fn mappings(&self) -> Result<Vec<Mapping>> {
        let path = format!("/proc/{}/maps", self.pid);
        let text = std::fs::read_to_string(&path).map_err(|source| TargetError::Io {
            path: path.into(),
            source,
        })?;
        Ok(text.lines().filter_map(parse_maps_line).collect())
    }

    /// The auxiliary vector, from `/proc/PID/auxv`.
    pub fn auxv(&self) -> Result<Vec<(u64, u64)>> {
        let path = format!("/proc/{}/auxv", self.pid);
        let bytes = std::fs::read(&path).map_err(|source| TargetError::Io {
            path: path.into(),
            source,
        })?;
        Ok(bytes
            .chunks_exact(16)
            .map(|c| {
                (
                    u64::from_le_bytes(c[..8].try_into().expect("8 bytes")),
                    u64::from_le_bytes(c[8..].try_into().expect("8 bytes")),
                )
            })
            .take_while(|&(key, _)| key != 0)
            .collect())
    }

    // ---- breakpoints and watchpoints -----------------------------------

    /// Inserts a software breakpoint (`int3`) at `addr`.
    pub fn set_breakpoint(&mut self, addr: u64) -> Result<()> {
        self.live()?;
        if self.breakpoints.contains_key(&addr) {
            return Err(TargetError::Breakpoint {
                addr,
                detail: "already set",
            });
        }
        let mut original = [0u8];
        self.memory.read(addr, &mut original)?;
        self.memory.write(addr, &[BREAKPOINT_INSTRUCTION])?;
        self.breakpoints.insert(addr, original[0]);
        Ok(())
    }

    /// Removes the software breakpoint at `addr`, restoring the byte.
    pub fn clear_breakpoint(&mut self, addr: u64) -> Result<()> {
        self.live()?;
        let original = *self.breakpoints.get(&addr).ok_or(TargetError::Breakpoint {
            addr,
            detail: "not set",
        })?;
        self.memory.write(addr, &[original])?;
        self.breakpoints.remove(&addr);
        self.emulations.remove(&addr);
        Ok(())
    }

    /// Addresses of the inserted breakpoints.
    pub fn breakpoints(&self) -> Vec<u64> {
        self.breakpoints.keys().copied().collect()
    }

    /// Sets a hardware watchpoint on every thread (and on threads created
    /// later); returns its slot. `size` is 1, 2, 4 or 8 and `addr` must be
    /// aligned to it; execute watchpoints have size 1.
    pub fn set_watchpoint(&mut self, addr: u64, size: u8, kind: WatchKind) -> Result<usize> {
        self.live()?;
        let bad = |detail| TargetError::Watchpoint { addr, size, detail };
        if ![1, 2, 4, 8].contains(&size) {
            return Err(bad("size must be 1, 2, 4 or 8 bytes"));
        }
        if !addr.is_multiple_of(u64::from(size)) {
            return Err(bad("address must be aligned to the size"));
        }
        if kind == WatchKind::Execute && size != 1 {
            return Err(bad("execute watchpoints have size 1"));
        }
        let slot = self
            .watchpoints
            .iter()
            .position(Option::is_none)
            .ok_or(bad("all 4 hardware slots are in use"))?;
        self.watchpoints[slot] = Some((addr, size, kind));
        self.apply_watchpoints_everywhere()?;
        Ok(slot)
    }

    /// Clears watchpoint `slot` on every thread.
    pub fn clear_watchpoint(&mut self, slot: usize) -> Result<()> {
        self.live()?;
        match self.watchpoints.get_mut(slot) {
            Some(w @ Some(_)) => *w = None,
            _ => {
                return Err(TargetError::Watchpoint {
                    addr: 0,
                    size: 0,
                    detail: "no watchpoint in that slot",
                })
            }
        }
        self.apply_watchpoints_everywhere()
    }

    fn apply_watchpoints_everywhere(&mut self) -> Result<()> {
        let tids: Vec<Tid> = self.threads.keys().copied().collect();
        for tid in tids {
            self.apply_watchpoints(tid)?;
        }
        Ok(())
    }

    /// Writes DR0-3 and DR7 of one stopped thread.
    fn apply_watchpoints(&mut self, tid: Tid) -> Result<()> {
        // Disable first so a half-written set never fires.
        ptrace::set_debug_register(tid, 7, 0)?;
        let mut dr7: u64 = 0;
        for (slot, watch) in self.watchpoints.iter().enumerate() {
            let Some((addr, size, kind)) = *watch else {
                continue;
            };
            ptrace::set_debug_register(tid, slot, addr)?;
            let rw: u64 = match kind {
                WatchKind::Execute => 0b00,
                WatchKind::Write => 0b01,
                WatchKind::ReadWrite => 0b11,
            };
            let len: u64 = match size {
                1 => 0b00,
                2 => 0b01,
                8 => 0b10,
                _ => 0b11,
            };
            dr7 |= 1 << (2 * slot);
            dr7 |= (rw | (len << 2)) << (16 + 4 * slot);
        }
        if dr7 != 0 {
            ptrace::set_debug_register(tid, 7, dr7)?;
        }
        if let Some(thread) = self.threads.get_mut(&tid) {
            thread.watch_applied = true;
        }
        Ok(())
    }

    // ---- run control ----------------------------------------------------

    /// Resumes every thread. A thread sitting on a breakpoint first steps
    /// over it alone (the breakpoint is out only during that step).
    pub fn resume(&mut self) -> Result<()> {
        self.live()?;
        self.thread_events.clear();
        let on_breakpoint: Vec<Tid> = self
            .threads
            .keys()
            .copied()
            .filter(|&tid| {
                self.read_registers(tid)
                    .is_ok_and(|r| self.breakpoints.contains_key(&r.pc()))
            })
            .collect();
        for tid in on_breakpoint {
            if self
                .threads
                .get(&tid)
                .is_some_and(|t| t.pending_stop.is_some())
            {
                // It has a stop to report: do not move it.
                continue;
            }
            if let Some(Handled::Gone(event)) = self.step_thread(tid)? {
                // The process ended during the step: wait() reports it.
                self.finish_exit(&event);
                self.unreported_exit = Some(event);
                return Ok(());
            }
        }
        // Threads with an unreported stop stay stopped: the next wait()
        // returns at once.
        if self.threads.values().any(|t| t.pending_stop.is_some()) {
            return Ok(());
        }
        self.halt.running.store(true, Ordering::SeqCst);
        self.first_stop_registers.set(None);
        for (&tid, thread) in self.threads.iter_mut() {
            if thread.stopped {
                let signal = std::mem::take(&mut thread.pending_signal);
                cont_alive(tid, signal)?;
                thread.stopped = false;
            }
        }
        Ok(())
    }

    /// Waits until the process stops (every thread stopped) or ends.
    pub fn wait(&mut self) -> Result<Event> {
        match self.wait_first()? {
            FirstStop::Breakpoint { tid, addr } => self.stop_others(tid, addr),
            FirstStop::Event(event) => Ok(event),
        }
    }

    /// Waits for the first stop worth reporting. A thread stopped on a
    /// breakpoint is returned while the others still run, for the caller
    /// to decide: let it go on ([`Process::pass_breakpoint`]) or stop
    /// the world ([`Process::stop_others`]). Any other stop stops every
    /// thread, as [`Process::wait`] does.
    pub fn wait_first(&mut self) -> Result<FirstStop> {
        if let Some(event) = self.unreported_exit.take() {
            return Ok(FirstStop::Event(event));
        }
        if self.exited {
            return Err(TargetError::ProcessExited);
        }
        // Stops found earlier (while stopping the world) are reported first.
        if self.threads.values().any(|t| t.pending_stop.is_some()) {
            self.stop_world()?;
            return Ok(FirstStop::Event(self.collect_stops(Vec::new())));
        }
        loop {
            let (tid, status) = self.wait_any()?;
            match self.handle(tid, status, false)? {
                Handled::Continue | Handled::Quiet => continue,
                Handled::Gone(event) => {
                    self.finish_exit(&event);
                    return Ok(FirstStop::Event(event));
                }
                Handled::Stop(ThreadStop {
                    tid,
                    reason: StopReason::Breakpoint { addr },
                }) => return Ok(FirstStop::Breakpoint { tid, addr }),
                Handled::Stop(first) => {
                    if let Some(event) = self.stop_world()? {
                        return Ok(FirstStop::Event(event));
                    }
                    return Ok(FirstStop::Event(self.collect_stops(vec![first])));
                }
            }
        }
    }

    /// After [`FirstStop::Breakpoint`]: stops every other thread and
    /// reports that stop with any others found meanwhile.
    pub fn stop_others(&mut self, tid: Tid, addr: u64) -> Result<Event> {
        if let Some(event) = self.stop_world()? {
            return Ok(event);
        }
        let first = ThreadStop {
            tid,
            reason: StopReason::Breakpoint { addr },
        };
        Ok(self.collect_stops(vec![first]))
    }

    /// Whether a thread stopped on the breakpoint at `addr` can be let go
    /// with [`Process::pass_breakpoint`]: its instruction can be emulated
    /// (and, while watchpoints are set, does not write memory, which they
    /// would not see).
    pub fn can_pass_breakpoint(&mut self, addr: u64) -> bool {
        let watching = self.watchpoints.iter().any(Option::is_some);
        self.emulation(addr)
            .is_some_and(|emulation| !(watching && emulation.stores()))
    }

    /// After [`FirstStop::Breakpoint`]: moves thread `tid` past the
    /// breakpoint's instruction by emulating it, the int3 staying in
    /// place, and resumes that thread alone, the others never having
    /// stopped. `false` (nothing changed) when it cannot; the caller then
    /// stops the others.
    pub fn pass_breakpoint(&mut self, tid: Tid, addr: u64) -> Result<bool> {
        if !self.can_pass_breakpoint(addr) {
            return Ok(false);
        }
        let Some(emulation) = self.emulations.get(&addr).cloned().flatten() else {
            return Ok(false);
        };
        let regs = self.read_registers(tid)?;
        if regs.pc() != addr {
            return Ok(false);
        }
        // Loads and stores go where the program itself may read and write:
        // a fault (a nil dereference Go turns into a panic) is left to the
        // CPU.
        let memory = &self.memory;
        let Some(effect) = emulation.apply(&regs, |at, buf| memory.read_as_program(at, buf)) else {
            return Ok(false);
        };
        if let Some((at, bytes)) = &effect.store {
            // A store onto a breakpoint's byte must keep the int3.
            let end = at.saturating_add(bytes.len() as u64);
            if self.breakpoints.range(*at..end).next().is_some() {
                return Ok(false);
            }
            if !self.memory.write_as_program(*at, bytes) {
                return Ok(false);
            }
        }
        self.write_registers(tid, &effect.registers)?;
        let signal = std::mem::take(&mut self.threads.entry(tid).or_default().pending_signal);
        self.cont_thread(tid, signal)?;
        self.threads.entry(tid).or_default().stopped = false;
        Ok(true)
    }

    /// The instruction at breakpoint `addr`, decoded once.
    fn emulation(&mut self, addr: u64) -> Option<&Emulation> {
        if !self.emulations.contains_key(&addr) {
            let mut bytes = [0u8; 15];
            let decoded = self
                .read_memory(addr, &mut bytes)
                .ok()
                .and_then(|()| Emulation::decode(addr, &bytes));
            self.emulations.insert(addr, decoded);
        }
        self.emulations.get(&addr).and_then(Option::as_ref)
    }

    /// Single-steps thread `tid` while every other thread stays stopped,
    /// stepping over a breakpoint under its PC if there is one.
    pub fn step(&mut self, tid: Tid) -> Result<Event> {
        self.live()?;
        self.thread(tid)?;
        self.thread_events.clear();
        match self.step_thread(tid)? {
            Some(Handled::Gone(event)) => {
                self.finish_exit(&event);
                Ok(event)
            }
            _ => {
                let stop = match self
                    .threads
                    .get_mut(&tid)
                    .and_then(|t| t.pending_stop.take())
                {
                    Some(reason) => ThreadStop { tid, reason },
                    None => ThreadStop {
                        tid,
                        reason: StopReason::StepDone,
                    },
                };
                Ok(self.collect_stops(vec![stop]))
            }
        }
    }

    /// Steps one stopped thread by one instruction, lifting a breakpoint
    /// under its PC for the duration. Other threads stay stopped. Returns
    /// `Some(Gone)` if the process ended.
    fn step_thread(&mut self, tid: Tid) -> Result<Option<Handled>> {
        let pc = self.read_registers(tid)?.pc();
        let lifted = self.breakpoints.get(&pc).copied();
        if let Some(original) = lifted {
            self.memory.write(pc, &[original])?;
        }
        let result = self.single_step_raw(tid);
        if lifted.is_some() && !self.exited {
            // Put it back whatever happened (the process may be gone).
            let _ = self.memory.write(pc, &[BREAKPOINT_INSTRUCTION]);
        }
        result
    }

    /// Issues PTRACE_SINGLESTEP and waits for that thread to finish it.
    /// Asynchronous signals that arrive meanwhile (Go's SIGURG preemption,
    /// SIGPROF, ...) are held and delivered when the thread next resumes,
    /// so a step never lands in a signal handler; faults raised by the
    /// stepped instruction itself are delivered at once.
    fn single_step_raw(&mut self, tid: Tid) -> Result<Option<Handled>> {
        self.step_instruction(tid, 0)?;
        if let Some(t) = self.threads.get_mut(&tid) {
            t.stopped = false;
        }
        loop {
            let status =
                waitpid(NixPid::from_raw(tid), Some(WaitPidFlag::__WALL)).map_err(|errno| {
                    TargetError::System {
                        call: "waitpid",
                        errno,
                    }
                })?;
            match status {
                WaitStatus::Stopped(_, Signal::SIGTRAP) => {
                    let info = ptrace::siginfo(tid)?;
                    self.mark_stopped(tid);
                    match info.si_code {
                        TRAP_TRACE => return Ok(None),
                        TRAP_HWBKPT => {
                            // A watchpoint fired by the stepped instruction.
                            if let Some(reason) = self.watchpoint_hit(tid)? {
                                self.threads.entry(tid).or_default().pending_stop = Some(reason);
                            }
                            return Ok(None);
                        }
                        _ => {
                            // Some other trap during the step: report later.
                            let handled = self.handle(tid, status, true)?;
                            if let Handled::Stop(stop) = handled {
                                self.threads.entry(tid).or_default().pending_stop =
                                    Some(stop.reason);
                            }
                            return Ok(None);
                        }
                    }
                }
                WaitStatus::PtraceEvent(_, _, event) if event == libc::PTRACE_EVENT_STOP => {
                    // A stale interrupt: step again.
                    self.step_instruction(tid, 0)?;
                }
                WaitStatus::Stopped(_, signal) => {
                    if self.stop_signals.contains(&signal) {
                        self.mark_stopped(tid);
                        let t = self.threads.entry(tid).or_default();
                        t.pending_signal = signal as i32;
                        t.pending_stop = Some(StopReason::Signal(signal));
                        return Ok(None);
                    }
                    let synchronous = matches!(
                        signal,
                        Signal::SIGSEGV | Signal::SIGBUS | Signal::SIGFPE | Signal::SIGILL
                    );
                    if synchronous {
                        self.step_instruction(tid, signal as i32)?;
                    } else {
                        // Hold it for the next resume and step again.
                        let t = self.threads.entry(tid).or_default();
                        if t.pending_signal == 0 {
                            t.pending_signal = signal as i32;
                        }
                        self.step_instruction(tid, 0)?;
                    }
                }
                other => match self.handle(tid, other, true)? {
                    Handled::Gone(event) => return Ok(Some(Handled::Gone(event))),
                    Handled::Continue => {
                        // The thread exited (or cloned and was resumed): done.
                        if !self.threads.contains_key(&tid) {
                            return Ok(None);
                        }
                        self.step_instruction(tid, 0)?;
                    }
                    _ => return Ok(None),
                },
            }
        }
    }

    /// Stops every running thread and waits until all are stopped. Stops
    /// with a reason found meanwhile are kept as pending. Returns an event
    /// if the process ended while stopping.
    fn stop_world(&mut self) -> Result<Option<Event>> {
        self.halt.running.store(false, Ordering::SeqCst);
        let running: Vec<Tid> = self
            .threads
            .iter()
            .filter(|(_, t)| !t.stopped)
            .map(|(&tid, _)| tid)
            .collect();
        for tid in running {
            // ESRCH: it is exiting; its exit status will arrive.
            let _ = ptrace::interrupt(tid);
        }
        while self.threads.values().any(|t| !t.stopped) {
            let (tid, status) = self.wait_any()?;
            match self.handle(tid, status, true)? {
                Handled::Gone(event) => {
                    self.finish_exit(&event);
                    return Ok(Some(event));
                }
                Handled::Stop(stop) => {
                    if let Some(t) = self.threads.get_mut(&stop.tid) {
                        t.pending_stop = Some(stop.reason);
                    }
                }
                Handled::Continue | Handled::Quiet => {}
            }
        }
        // A halt that raced with another stop: its SIGSTOP may still be on
        // its way; leave the flag so it is recognised when it arrives.
        Ok(None)
    }

    /// Builds a stop event: `first` and every pending stop, oldest first.
    fn collect_stops(&mut self, mut stops: Vec<ThreadStop>) -> Event {
        for (&tid, thread) in self.threads.iter_mut() {
            if let Some(reason) = thread.pending_stop.take() {
                if !stops.iter().any(|s| s.tid == tid) {
                    stops.push(ThreadStop { tid, reason });
                }
            }
        }
        Event::Stopped {
            stops,
            thread_events: std::mem::take(&mut self.thread_events),
        }
    }

    /// `waitpid(-1)` restricted to this thread's tracees.
    fn wait_any(&mut self) -> Result<(Tid, WaitStatus)> {
        loop {
            match waitpid(None, Some(WaitPidFlag::__WALL | WaitPidFlag::__WNOTHREAD)) {
                Ok(status) => {
                    let Some(pid) = status.pid() else { continue };
                    return Ok((pid.as_raw(), status));
                }
                Err(nix::errno::Errno::EINTR) => continue,
                Err(errno) => {
                    return Err(TargetError::System {
                        call: "waitpid",
                        errno,
                    })
                }
            }
        }
    }

    /// Records a thread the first time it shows up.
    fn note_thread(&mut self, tid: Tid) {
        if let std::collections::btree_map::Entry::Vacant(slot) = self.threads.entry(tid) {
            slot.insert(Thread::default());
            self.thread_events.push(ThreadEvent::Created(tid));
        }
    }

    fn mark_stopped(&mut self, tid: Tid) {
        let thread = self.threads.entry(tid).or_default();
        thread.stopped = true;
    }

    /// Resumes a thread that stopped for nothing worth reporting, unless the
    /// world is being stopped (then it just counts as stopped).
    fn quietly_resume(&mut self, tid: Tid, signal: i32, stopping: bool) -> Result<Handled> {
        if stopping {
            let thread = self.threads.entry(tid).or_default();
            thread.stopped = true;
            if signal != 0 {
                thread.pending_signal = signal;
            }
            return Ok(Handled::Quiet);
        }
        self.cont_thread(tid, signal)?;
        if let Some(t) = self.threads.get_mut(&tid) {
            t.stopped = false;
        }
        Ok(Handled::Continue)
    }

    /// Interprets one `waitpid` status.
    fn handle(&mut self, tid: Tid, status: WaitStatus, stopping: bool) -> Result<Handled> {
        match status {
            WaitStatus::Exited(_, code) => Ok(self.thread_gone(
                tid,
                Event::Exited {
                    status: code,
                    thread_events: Vec::new(),
                },
            )),
            WaitStatus::Signaled(_, signal, _) => Ok(self.thread_gone(
                tid,
                Event::Killed {
                    signal,
                    thread_events: Vec::new(),
                },
            )),
            WaitStatus::PtraceEvent(_, _, event) => {
                // Possibly the first stop of a thread not heard of yet.
                self.note_thread(tid);
                self.mark_stopped(tid);
                if event == libc::PTRACE_EVENT_CLONE {
                    // The new thread's own first stop is reported separately.
                    self.note_thread(ptrace::event_message(tid)? as Tid);
                } else if event == libc::PTRACE_EVENT_STOP && !self.threads[&tid].watch_applied {
                    // A new thread's first stop: give it the watchpoints.
                    if self.watchpoints.iter().any(Option::is_some) {
                        self.apply_watchpoints(tid)?;
                    } else if let Some(t) = self.threads.get_mut(&tid) {
                        t.watch_applied = true;
                    }
                }
                // Interrupt stops, clone and exec events: nothing to report.
                self.quietly_resume(tid, 0, stopping)
            }
            WaitStatus::Stopped(_, signal) => {
                self.note_thread(tid);
                self.mark_stopped(tid);
                if signal == Signal::SIGTRAP {
                    if let Some(reason) = self.trap_reason(tid)? {
                        return Ok(Handled::Stop(ThreadStop { tid, reason }));
                    }
                    // Not ours (e.g. sent with kill): pass it on.
                    return self.quietly_resume(tid, signal as i32, stopping);
                }
                if signal == Signal::SIGSTOP && self.halt.requested.swap(false, Ordering::SeqCst) {
                    return Ok(Handled::Stop(ThreadStop {
                        tid,
                        reason: StopReason::Halted,
                    }));
                }
                if self.stop_signals.contains(&signal) {
                    if let Some(t) = self.threads.get_mut(&tid) {
                        t.pending_signal = signal as i32;
                    }
                    return Ok(Handled::Stop(ThreadStop {
                        tid,
                        reason: StopReason::Signal(signal),
                    }));
                }
                self.quietly_resume(tid, signal as i32, stopping)
            }
            WaitStatus::Continued(_) | WaitStatus::StillAlive => Ok(Handled::Continue),
            #[allow(unreachable_patterns)]
            _ => Ok(Handled::Continue),
        }
    }

    /// Classifies a SIGTRAP; `None` when it is not ferret's.
    fn trap_reason(&mut self, tid: Tid) -> Result<Option<StopReason>> {
        let info = ptrace::siginfo(tid)?;
        match info.si_code {
            SI_KERNEL | TRAP_BRKPT => {
                let mut regs = self.read_registers(tid)?;
                let addr = regs.pc().wrapping_sub(1);
                if self.breakpoints.contains_key(&addr) {
                    regs.set_pc(addr);
                    self.write_registers(tid, &regs)?;
                    self.first_stop_registers.set(Some((tid, regs)));
                    Ok(Some(StopReason::Breakpoint { addr }))
                } else {
                    Ok(Some(StopReason::TrapInstruction { pc: regs.pc() }))
                }
            }
            TRAP_HWBKPT => self.watchpoint_hit(tid),
            TRAP_TRACE => Ok(Some(StopReason::StepDone)),
            _ => Ok(None),
        }
    }

    /// Reads and clears DR6 to find which watchpoint fired.
    fn watchpoint_hit(&mut self, tid: Tid) -> Result<Option<StopReason>> {
        let dr6 = ptrace::debug_register(tid, 6)?;
        ptrace::set_debug_register(tid, 6, 0)?;
        Ok((0..WATCH_SLOTS)
            .find(|slot| dr6 & (1 << slot) != 0)
            .and_then(|slot| {
                self.watchpoints[slot].map(|(addr, _, _)| StopReason::Watchpoint { slot, addr })
            }))
    }

    /// A thread's exit status arrived.
    fn thread_gone(&mut self, tid: Tid, event: Event) -> Handled {
        if self.threads.remove(&tid).is_some() && tid != self.pid {
            self.thread_events.push(ThreadEvent::Exited(tid));
        }
        if tid == self.pid {
            // The leader reports last, after every other thread is gone.
            let thread_events = std::mem::take(&mut self.thread_events);
            return Handled::Gone(match event {
                Event::Exited { status, .. } => Event::Exited {
                    status,
                    thread_events,
                },
                Event::Killed { signal, .. } => Event::Killed {
                    signal,
                    thread_events,
                },
                other => other,
            });
        }
        Handled::Continue
    }

    fn finish_exit(&mut self, _event: &Event) {
        self.exited = true;
        self.threads.clear();
        self.breakpoints.clear();
        self.halt.running.store(false, Ordering::SeqCst);
    }

    // ---- leaving ----------------------------------------------------------

    /// Removes every breakpoint and watchpoint and lets the process run on
    /// untraced. Afterwards every request answers [`TargetError::ProcessExited`].
    pub fn detach(&mut self) -> Result<()> {
        self.live()?;
        if self.threads.values().any(|t| !t.stopped) {
            self.stop_world()?;
        }
        let addrs: Vec<u64> = self.breakpoints.keys().copied().collect();
        for addr in addrs {
            self.clear_breakpoint(addr)?;
        }
        if self.watchpoints.iter().any(Option::is_some) {
            self.watchpoints = [None; WATCH_SLOTS];
            self.apply_watchpoints_everywhere()?;
        }
        for (&tid, thread) in &self.threads {
            let _ = ptrace::detach(tid, thread.pending_signal);
        }
        self.threads.clear();
        self.exited = true;
        Ok(())
    }

    /// Kills the process and reaps it, leaving no zombie. Afterwards every
    /// request answers [`TargetError::ProcessExited`].
    pub fn kill(&mut self) -> Result<()> {
        self.live()?;
        let _ = kill(NixPid::from_raw(self.pid), Signal::SIGKILL);
        while !self.exited {
            let (tid, status) = match self.wait_any() {
                Ok(x) => x,
                // ECHILD: nothing left to wait for.
                Err(_) => break,
            };
            if let Handled::Gone(event) = self.handle(tid, status, true)? {
                self.finish_exit(&event);
            }
        }
        self.exited = true;
        Ok(())
    }
}

impl Drop for Process {
    /// Never leaves a target stopped or patched: a launched process is
    /// killed, an attached one detached.
    fn drop(&mut self) {
        if self.exited {
            return;
        }
        if self.launched {
            let _ = self.kill();
        } else {
            let _ = self.detach();
        }
    }
}

impl Memory for Process {
    fn read_memory(&self, addr: u64, buf: &mut [u8]) -> Result<()> {
        self.live()?;
        self.memory.read(addr, buf)?;
        self.hide_breakpoints(addr, buf);
        Ok(())
    }

    fn read_each(&self, reads: &mut [(u64, &mut [u8])]) -> Vec<Result<()>> {
        if self.live().is_err() {
            // Each read says why.
            return reads
                .iter_mut()
                .map(|(addr, buf)| self.read_memory(*addr, buf))
                .collect();
        }
        let results = self.memory.read_each(reads);
        for (addr, buf) in reads.iter_mut() {
            self.hide_breakpoints(*addr, buf);
        }
        results
    }
}

impl Process {
    /// Puts the original bytes back where `buf` (read from `addr`) shows
    /// ferret's int3s: clients never see them.
    fn hide_breakpoints(&self, addr: u64, buf: &mut [u8]) {
        for (&bp, &original) in self
            .breakpoints
            .range(addr..addr.saturating_add(buf.len() as u64))
        {
            buf[(bp - addr) as usize] = original;
        }
    }
}

impl ThreadState for Process {
    fn threads(&self) -> Vec<Tid> {
        self.threads.keys().copied().collect()
    }

    fn registers(&self, tid: Tid) -> Result<Registers> {
        self.live()?;
        self.thread(tid)?;
        self.read_registers(tid)
    }

    fn fp_registers(&self, tid: Tid) -> Result<FpRegisters> {
        self.live()?;
        self.thread(tid)?;
        ptrace::fp_registers(tid)
    }
}

/// Resumes thread `tid` (PTRACE_CONT with `signal`); one that is gone is
/// no error (its exit status arrives through `waitpid`).
fn cont_alive(tid: Tid, signal: i32) -> Result<()> {
    match ptrace::cont(tid, signal) {
        Err(TargetError::Ptrace {
            errno: nix::errno::Errno::ESRCH,
            ..
        }) => Ok(()),
        other => other,
    }
}

/// Refuses pids that cannot be attached, with the reason.
fn check_attachable(pid: Pid) -> Result<()> {
    if pid <= 0 {
        return Err(TargetError::NoSuchProcess { pid });
    }
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map_err(|_| TargetError::NoSuchProcess { pid })?;
    // Fields after the parenthesised command name; flags is field 9.
    let (name, rest) = match (stat.find('('), stat.rfind(')')) {
        (Some(open), Some(close)) => (stat[open + 1..close].to_owned(), &stat[close + 1..]),
        _ => return Err(TargetError::NoSuchProcess { pid }),
    };
    const PF_KTHREAD: u64 = 0x0020_0000;
    let flags: u64 = rest
        .split_whitespace()
        .nth(6)
        .and_then(|f| f.parse().ok())
        .unwrap_or(0);
    if flags & PF_KTHREAD != 0 {
        return Err(TargetError::KernelThread { pid, name });
    }
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .map_err(|_| TargetError::NoSuchProcess { pid })?;
    let tracer: Pid = status
        .lines()
        .find_map(|l| l.strip_prefix("TracerPid:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    if tracer != 0 {
        return Err(TargetError::AlreadyTraced { pid, tracer });
    }
    Ok(())
}

/// Thread ids of `pid`, from `/proc/PID/task`.
fn list_tasks(pid: Pid) -> Result<Vec<Tid>> {
    let path = format!("/proc/{pid}/task");
    let dir = std::fs::read_dir(&path).map_err(|_| TargetError::NoSuchProcess { pid })?;
    let mut tids: Vec<Tid> = dir
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .collect();
    tids.sort_unstable();
    Ok(tids)
}

/// Parses one `/proc/PID/maps` line into a readable mapping.
fn parse_maps_line(line: &str) -> Option<Mapping> {
    let mut fields = line.split_whitespace();
    let (start, end) = fields.next()?.split_once('-')?;
    let perms = fields.next()?.as_bytes();
    let offset = fields.next()?;
    let _dev = fields.next()?;
    let inode: u64 = fields.next()?.parse().ok()?;
    let path = fields.collect::<Vec<_>>().join(" ");
    let readable = perms.first() == Some(&b'r');
    if !readable {
        return None;
    }
    Some(Mapping {
        start: u64::from_str_radix(start, 16).ok()?,
        end: u64::from_str_radix(end, 16).ok()?,
        file_offset: if inode == 0 {
            0
        } else {
            u64::from_str_radix(offset, 16).ok()?
        },
        path: if path.is_empty() { None } else { Some(path) },
        perms: (
            readable,
            perms.get(1) == Some(&b'w'),
            perms.get(2) == Some(&b'x'),
        ),
    })
}

impl crate::core::CoreSource for Process {
    fn pid(&self) -> Pid {
        self.pid
    }

    fn mappings(&self) -> Vec<Mapping> {
        Process::mappings(self).unwrap_or_default()
    }

    fn auxv(&self) -> Vec<(u64, u64)> {
        Process::auxv(self).unwrap_or_default()
    }

    fn process_name(&self) -> String {
        std::fs::read_to_string(format!("/proc/{}/comm", self.pid))
            .map(|s| s.trim_end().to_owned())
            .unwrap_or_default()
    }

    fn command_line(&self) -> String {
        std::fs::read(format!("/proc/{}/cmdline", self.pid))
            .map(|b| {
                b.split(|&c| c == 0)
                    .filter(|a| !a.is_empty())
                    .map(String::from_utf8_lossy)
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::parse_maps_line;

    #[test]
    fn maps_lines() {
        let m =
            parse_maps_line("00400000-00401000 r-xp 00000000 08:01 1234   /usr/bin/prog").unwrap();
        assert_eq!(
            (m.start, m.end, m.perms),
            (0x400000, 0x401000, (true, false, true))
        );
        assert_eq!(m.path.as_deref(), Some("/usr/bin/prog"));
        assert!(parse_maps_line("7ff000-7ff100 ---p 00000000 00:00 0").is_none());
        let anon = parse_maps_line("c000000000-c000400000 rw-p 00000000 00:00 0 ").unwrap();
        assert_eq!(anon.path, None);
    }
}
