//! Thin, typed wrappers over the ptrace requests ferret uses. Every
//! function here must run on the tracer thread (see the crate docs).

use nix::errno::Errno;

use crate::error::{Result, TargetError};
use crate::{FpRegisters, Registers, Tid};

/// Options every tracee gets: follow new threads.
pub const BASE_OPTIONS: libc::c_int = libc::PTRACE_O_TRACECLONE | libc::PTRACE_O_TRACEEXEC;

/// Size of the buffer offered to `PTRACE_GETREGSET NT_X86_XSTATE`; larger
/// than any XSAVE area current CPUs use.
const XSTATE_BUFFER: usize = 8192;

/// The regset number of the XSAVE area (`NT_X86_XSTATE` in elf.h).
const NT_X86_XSTATE: usize = 0x202;

/// Offset of `u_debugreg` in the kernel's `struct user` on x86-64.
const DEBUG_REGISTER_OFFSET: usize = 848;

/// Issues a ptrace request, mapping failure to a typed error.
fn request(
    name: &'static str,
    req: libc::c_uint,
    tid: Tid,
    addr: usize,
    data: usize,
) -> Result<libc::c_long> {
    Errno::clear();
    // SAFETY: callers pass addresses of live buffers sized for `req`, or plain
    // integers for requests that take none.
    let ret = unsafe {
        libc::ptrace(
            req,
            tid,
            addr as *mut libc::c_void,
            data as *mut libc::c_void,
        )
    };
    if ret == -1 {
        let errno = Errno::last();
        // PEEK requests may legitimately return -1; they check errno.
        if errno != Errno::UnknownErrno {
            return Err(TargetError::ptrace(name, tid, errno));
        }
    }
    Ok(ret)
}

/// `PTRACE_SEIZE` with `options`.
pub fn seize(tid: Tid, options: libc::c_int) -> Result<()> {
    request("SEIZE", libc::PTRACE_SEIZE, tid, 0, options as usize).map(drop)
}

/// `PTRACE_INTERRUPT`: stop a seized tracee (reported as `PTRACE_EVENT_STOP`).
pub fn interrupt(tid: Tid) -> Result<()> {
    request("INTERRUPT", libc::PTRACE_INTERRUPT, tid, 0, 0).map(drop)
}

/// `PTRACE_CONT`, delivering `signal` (0 for none).
pub fn cont(tid: Tid, signal: i32) -> Result<()> {
    request("CONT", libc::PTRACE_CONT, tid, 0, signal as usize).map(drop)
}

/// `PTRACE_SINGLESTEP`, delivering `signal` (0 for none).
pub fn single_step(tid: Tid, signal: i32) -> Result<()> {
    request(
        "SINGLESTEP",
        libc::PTRACE_SINGLESTEP,
        tid,
        0,
        signal as usize,
    )
    .map(drop)
}

/// `PTRACE_DETACH`, delivering `signal` (0 for none).
pub fn detach(tid: Tid, signal: i32) -> Result<()> {
    request("DETACH", libc::PTRACE_DETACH, tid, 0, signal as usize).map(drop)
}

/// `PTRACE_GETEVENTMSG` (e.g. the new thread id after a clone event).
pub fn event_message(tid: Tid) -> Result<u64> {
    let mut msg: libc::c_ulong = 0;
    request(
        "GETEVENTMSG",
        libc::PTRACE_GETEVENTMSG,
        tid,
        0,
        &mut msg as *mut _ as usize,
    )?;
    Ok(msg)
}

/// `PTRACE_GETSIGINFO`.
pub fn siginfo(tid: Tid) -> Result<libc::siginfo_t> {
    // SAFETY: siginfo_t is plain data; all-zero is a valid value.
    let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
    request(
        "GETSIGINFO",
        libc::PTRACE_GETSIGINFO,
        tid,
        0,
        &mut info as *mut _ as usize,
    )?;
    Ok(info)
}

/// `PTRACE_GETREGS`.
pub fn registers(tid: Tid) -> Result<Registers> {
    let mut regs = Registers::default();
    request(
        "GETREGS",
        libc::PTRACE_GETREGS,
        tid,
        0,
        &mut regs as *mut Registers as usize,
    )?;
    Ok(regs)
}

/// `PTRACE_SETREGS`.
pub fn set_registers(tid: Tid, regs: &Registers) -> Result<()> {
    request(
        "SETREGS",
        libc::PTRACE_SETREGS,
        tid,
        0,
        regs as *const Registers as usize,
    )
    .map(drop)
}

/// `PTRACE_GETREGSET NT_X86_XSTATE`, falling back to the FXSAVE area
/// (`PTRACE_GETFPREGS`) on kernels or CPUs without XSAVE.
pub fn fp_registers(tid: Tid) -> Result<FpRegisters> {
    let mut buf = vec![0u8; XSTATE_BUFFER];
    let mut iov = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len(),
    };
    match request(
        "GETREGSET",
        libc::PTRACE_GETREGSET,
        tid,
        NT_X86_XSTATE,
        &mut iov as *mut _ as usize,
    ) {
        Ok(_) => {
            buf.truncate(iov.iov_len);
            Ok(FpRegisters { raw: buf })
        }
        Err(_) => {
            let mut fx = vec![0u8; 512];
            request(
                "GETFPREGS",
                libc::PTRACE_GETFPREGS,
                tid,
                0,
                fx.as_mut_ptr() as usize,
            )?;
            Ok(FpRegisters { raw: fx })
        }
    }
}

/// Reads debug register `index` (0-7).
pub fn debug_register(tid: Tid, index: usize) -> Result<u64> {
    let offset = DEBUG_REGISTER_OFFSET + 8 * index;
    request("PEEKUSER", libc::PTRACE_PEEKUSER, tid, offset, 0).map(|v| v as u64)
}

/// Writes debug register `index` (0-7).
pub fn set_debug_register(tid: Tid, index: usize, value: u64) -> Result<()> {
    let offset = DEBUG_REGISTER_OFFSET + 8 * index;
    request(
        "POKEUSER",
        libc::PTRACE_POKEUSER,
        tid,
        offset,
        value as usize,
    )
    .map(drop)
}
