//! Unwinding a goroutine's stack (linux/amd64).
//!
//! Frames are found through the call frame information (`.debug_frame`),
//! with Go's frame-pointer convention for RBP, and with the runtime's
//! special frames handled the way the runtime builds them:
//!
//! - `runtime.goexit`, `runtime.mstart`, `runtime.rt0_go`: the bottom.
//! - a return into `runtime.sigreturn__sigaction`: the frame below is the
//!   signal handler (`runtime.sigtramp`, not shown); the interrupted
//!   registers are in the `ucontext` the kernel put right above the
//!   handler's return address.
//! - `runtime.systemstack`, `runtime.mcall`, `runtime.morestack` on a
//!   system stack: the goroutine saved its state in `g.sched` before
//!   switching; unwinding goes on from there on the goroutine's stack.
//! - frames interrupted rather than calling (below `runtime.sigpanic` or
//!   `runtime.asyncPreempt`): their PC is the interrupted instruction, not
//!   a return address, so its line is looked up at the PC itself.

use ferret_target::Memory;

use crate::bininfo::{BinaryInfo, CfaRule, FrameRule, PcInfo, RegisterRule};
use crate::error::Result;
use crate::goroutine::G;

/// Registers an unwind starts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnwindStart {
    /// Program counter.
    pub pc: u64,
    /// Stack pointer.
    pub sp: u64,
    /// Frame pointer.
    pub bp: u64,
}

impl UnwindStart {
    /// A parked goroutine's saved registers (`g.sched`).
    pub fn from_sched(g: &G) -> UnwindStart {
        UnwindStart {
            pc: g.sched_pc,
            sp: g.sched_sp,
            bp: g.sched_bp,
        }
    }
}

/// One physical frame (inlined calls are in `info.frames`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackFrame {
    /// The frame's PC: the current instruction for the first frame and
    /// interrupted frames, else the return address.
    pub pc: u64,
    /// The PC whose source position describes the frame (`pc`, or the
    /// call instruction just before a return address).
    pub lookup_pc: u64,
    /// Canonical frame address (0 when unknown).
    pub cfa: u64,
    /// The frame pointer's value in this frame.
    pub bp: u64,
    /// What the PC means in source terms, `None` outside known code.
    pub info: Option<PcInfo>,
}

impl StackFrame {
    /// The name of the function whose machine code holds the PC.
    pub fn function_name(&self) -> Option<&str> {
        self.info.as_ref().map(|i| i.function.name.as_str())
    }
}

/// Offsets in the kernel's `ucontext_t` on x86-64 of the saved RBP, RSP
/// and RIP (`uc_mcontext.gregs[REG_RBP|REG_RSP|REG_RIP]`).
const UCONTEXT_RBP: u64 = 40 + 10 * 8;
const UCONTEXT_RSP: u64 = 40 + 15 * 8;
const UCONTEXT_RIP: u64 = 40 + 16 * 8;

/// Unwinds from `start`, at most `depth` physical frames. `goroutine` is
/// the user goroutine the stack belongs to, used to cross from a system
/// stack back to the goroutine's own (`g.sched`); pass it for threads
/// found on g0 or gsignal.
pub fn unwind(
    bi: &BinaryInfo,
    mem: &dyn Memory,
    start: UnwindStart,
    goroutine: Option<&G>,
    depth: usize,
) -> Result<Vec<StackFrame>> {
    let UnwindStart {
        mut pc,
        mut sp,
        mut bp,
    } = start;
    let mut stack = StackWindow::new(mem, sp, goroutine);
    let mut frames: Vec<StackFrame> = Vec::new();
    // The first frame's PC is where it stands; so is an interrupted one's.
    let mut interrupted = true;
    let mut switched = false;
    while frames.len() < depth && pc != 0 {
        let lookup_pc = if interrupted { pc } else { pc - 1 };
        let info = bi.pc_info(lookup_pc)?;
        let name = info
            .as_ref()
            .map(|i| i.function.name.clone())
            .unwrap_or_default();
        let rule = bi.frame_rule(lookup_pc)?;
        let addresses = rule.as_ref().and_then(|r| frame_addresses(r, sp, bp));
        frames.push(StackFrame {
            pc,
            lookup_pc,
            cfa: addresses.map_or(0, |a| a.0),
            bp,
            info,
        });
        if matches!(
            name.as_str(),
            "runtime.goexit" | "runtime.mstart" | "runtime.rt0_go"
        ) {
            break;
        }
        // Back onto the goroutine's stack from a system stack.
        if !switched
            && matches!(
                name.as_str(),
                "runtime.systemstack" | "runtime.mcall" | "runtime.morestack"
            )
        {
            if let Some(g) =
                goroutine.filter(|g| g.sched_sp != 0 && !(g.stack_lo..g.stack_hi).contains(&sp))
            {
                switched = true;
                (pc, sp, bp) = (g.sched_pc, g.sched_sp, g.sched_bp);
                stack = StackWindow::new(mem, sp, goroutine);
                // sched.pc of systemstack_switch/morestack is a return
                // address into the function that switched.
                interrupted = false;
                frames.pop();
                continue;
            }
        }
        let (Some(rule), Some((cfa, ra_slot))) = (rule, addresses) else {
            break;
        };
        let Some(ra) = stack.read_u64(ra_slot) else {
            break;
        };
        if bi
            .function_at(ra)?
            .is_some_and(|f| f.name.starts_with("runtime.sigreturn"))
        {
            // A signal handler's frame: resume from the interrupted context.
            let context = ra_slot + 8;
            let (Some(rip), Some(rsp), Some(rbp)) = (
                stack.read_u64(context + UCONTEXT_RIP),
                stack.read_u64(context + UCONTEXT_RSP),
                stack.read_u64(context + UCONTEXT_RBP),
            ) else {
                break;
            };
            (pc, sp, bp) = (rip, rsp, rbp);
            stack = StackWindow::new(mem, sp, goroutine);
            // The handler's own frame stands for the signal; like Delve,
            // show the interrupted code in its place, its line looked up
            // as for a return address (after a system call, the saved PC
            // is the instruction after it).
            frames.pop();
            interrupted = false;
            continue;
        }
        // Go's CFI does not describe the frame pointer; Go saves it just
        // below the return address.
        let saved_bp = match rule.register(6) {
            Some(RegisterRule::AtCfaOffset(o)) => cfa.wrapping_add(o as u64),
            _ => ra_slot.wrapping_sub(8),
        };
        bp = stack.read_u64(saved_bp).unwrap_or(bp);
        sp = cfa;
        pc = ra;
        interrupted = matches!(name.as_str(), "runtime.sigpanic" | "runtime.asyncPreempt");
    }
    Ok(frames)
}

/// The CFA of a frame whose stack and frame pointers are `sp` and `bp`,
/// and the address of the slot holding its return address, by `rule`.
/// `None` when the CFA is not register-based on SP or BP.
pub fn frame_addresses(rule: &FrameRule, sp: u64, bp: u64) -> Option<(u64, u64)> {
    let CfaRule::RegisterOffset { register, offset } = rule.cfa else {
        return None;
    };
    let base = match register {
        7 => sp,
        6 => bp,
        _ => return None,
    };
    let cfa = base.wrapping_add(offset as u64);
    let ra_offset = match rule.register(rule.return_address_register) {
        Some(RegisterRule::AtCfaOffset(o)) => o,
        _ => -8,
    };
    Some((cfa, cfa.wrapping_add(ra_offset as u64)))
}

/// How much of a stack is read at once, from the stack pointer up: most
/// goroutine stacks unwind within it, so a stack costs one read instead of
/// two per frame.
const WINDOW_BYTES: u64 = 4096;

/// The top of a stack read in one go, with reads outside it going to the
/// target.
/// The bytes an unwind from `sp` reads first (start and length): up to
/// 4 KiB, not past the goroutine's stack top when `sp` is on its stack.
/// Listings read these ahead for many goroutines at once.
pub fn stack_window(sp: u64, goroutine: Option<&G>) -> (u64, usize) {
    let end = match goroutine {
        Some(g) if (g.stack_lo..g.stack_hi).contains(&sp) => g.stack_hi.min(sp + WINDOW_BYTES),
        _ => sp.saturating_add(WINDOW_BYTES / 4),
    };
    (sp, end.saturating_sub(sp) as usize)
}

struct StackWindow<'a> {
    mem: &'a dyn Memory,
    base: u64,
    bytes: Vec<u8>,
}

impl<'a> StackWindow<'a> {
    /// Reads up to [`WINDOW_BYTES`] from `sp`, not past the goroutine's
    /// stack top when it is known (and `sp` is on that stack).
    fn new(mem: &'a dyn Memory, sp: u64, goroutine: Option<&G>) -> StackWindow<'a> {
        let (_, len) = stack_window(sp, goroutine);
        let mut bytes = vec![0u8; len];
        if mem.read_memory(sp, &mut bytes).is_err() {
            bytes.clear();
        }
        StackWindow {
            mem,
            base: sp,
            bytes,
        }
    }

    fn read_u64(&self, addr: u64) -> Option<u64> {
        let inside = addr
            .checked_sub(self.base)
            .and_then(|o| self.bytes.get(o as usize..o as usize + 8));
        if let Some(word) = inside {
            return Some(u64::from_le_bytes(word.try_into().expect("8 bytes")));
        }
        self.mem.read_u64(addr).ok()
    }
}
