//! The one error type of this crate.

use std::path::PathBuf;

use crate::{Pid, Tid};

/// What can go wrong controlling a process or reading a core. Every variant
/// names the value that caused it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TargetError {
    /// No process has this pid.
    #[error("no process with pid {pid}")]
    NoSuchProcess {
        /// The pid asked for.
        pid: Pid,
    },
    /// The pid names a kernel thread, which cannot be debugged.
    #[error("pid {pid} is a kernel thread ({name}); only user processes can be debugged")]
    KernelThread {
        /// The pid asked for.
        pid: Pid,
        /// Its command name.
        name: String,
    },
    /// Another debugger already traces the process.
    #[error("process {pid} is already being traced by pid {tracer}; detach that debugger first")]
    AlreadyTraced {
        /// The pid asked for.
        pid: Pid,
        /// The tracer's pid.
        tracer: Pid,
    },
    /// The kernel refused (another user's process, or ptrace restrictions).
    #[error("not permitted to trace process {pid}: {detail}")]
    PermissionDenied {
        /// The pid asked for.
        pid: Pid,
        /// The kernel's reason, with a hint.
        detail: String,
    },
    /// The program to launch cannot be executed.
    #[error("cannot execute {path}: {reason}")]
    NotExecutable {
        /// The program path.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// A stdin/stdout/stderr redirect file could not be opened.
    #[error("cannot open redirect {path}: {source}")]
    Redirect {
        /// The redirect path.
        path: PathBuf,
        /// What the OS said.
        source: std::io::Error,
    },
    /// A ptrace request failed.
    #[error("ptrace {request} on thread {tid} failed: {errno}")]
    Ptrace {
        /// The request, e.g. `GETREGS`.
        request: &'static str,
        /// The thread.
        tid: Tid,
        /// The error number.
        errno: nix::errno::Errno,
    },
    /// A wait or signal system call failed.
    #[error("{call} failed: {errno}")]
    System {
        /// The call, e.g. `waitpid`.
        call: &'static str,
        /// The error number.
        errno: nix::errno::Errno,
    },
    /// Memory could not be read or written.
    #[error("cannot {op} {len} bytes at {addr:#x}: {detail}")]
    Memory {
        /// `read` or `write`.
        op: &'static str,
        /// First address.
        addr: u64,
        /// Byte count.
        len: usize,
        /// Why.
        detail: String,
    },
    /// The thread id is not one of the target's threads.
    #[error("no thread {tid} in the target")]
    NoSuchThread {
        /// The thread asked for.
        tid: Tid,
    },
    /// The process has exited; nothing more can be done with it.
    #[error("the process has exited")]
    ProcessExited,
    /// The request needs a stopped process but it is running (or the other
    /// way round).
    #[error("{0}")]
    WrongState(&'static str),
    /// A breakpoint already exists at, or none exists at, this address.
    #[error("breakpoint at {addr:#x}: {detail}")]
    Breakpoint {
        /// The address.
        addr: u64,
        /// What is wrong.
        detail: &'static str,
    },
    /// Watchpoint request the hardware cannot satisfy.
    #[error("watchpoint at {addr:#x} (size {size}): {detail}")]
    Watchpoint {
        /// The address.
        addr: u64,
        /// Size in bytes.
        size: u8,
        /// What is wrong.
        detail: &'static str,
    },
    /// A core file (or a file it names) could not be opened.
    #[error("cannot open {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        source: std::io::Error,
    },
    /// The file is not an ELF core file.
    #[error("{path} is not an ELF core file: {detail}")]
    NotACore {
        /// The file.
        path: PathBuf,
        /// Why.
        detail: String,
    },
    /// The core is cut short or internally inconsistent.
    #[error("core file {path} is truncated or corrupt: {detail}")]
    CorruptCore {
        /// The file.
        path: PathBuf,
        /// What is missing.
        detail: String,
    },
    /// The core was not made from this executable.
    #[error("core file {core} does not belong to {executable}: {detail}")]
    CoreMismatch {
        /// The core file.
        core: PathBuf,
        /// The executable given.
        executable: PathBuf,
        /// What differs, naming both sides.
        detail: String,
    },
    /// Cores are read-only and cannot run.
    #[error("{0} is not possible on a core file")]
    ReadOnlyCore(&'static str),
    /// A core dump was canceled by its caller.
    #[error("core dump canceled")]
    DumpCanceled,
}

impl TargetError {
    /// A failed ptrace request.
    pub(crate) fn ptrace(request: &'static str, tid: Tid, errno: nix::errno::Errno) -> Self {
        TargetError::Ptrace {
            request,
            tid,
            errno,
        }
    }
}

/// Result alias for this crate.
pub type Result<T, E = TargetError> = std::result::Result<T, E>;
