//! ferret-target: the operating-system level of ferret.
//!
//! Everything that touches a process or a core file lives here, and nothing
//! here knows DWARF or Go:
//!
//! - [`linux`]: a live process under ptrace (`linux::Process`): launch,
//!   attach, threads, run control, software breakpoints, single-step, halt,
//!   memory, registers, hardware watchpoints, detach and kill.
//! - [`core`]: ELF core files, read ([`core::CoreFile`]) and written
//!   ([`core::write_core`]).
//! - [`arch`]: per-architecture register sets and constants.
//! - [`fuzzing`]: what the core-reader fuzzer feeds bytes to.
//! - [`Memory`] and [`ThreadState`]: the one interface that both a live
//!   process and a core implement, so the layers above never care which
//!   one they have.
//!
//! # The tracer-thread rule
//! Linux accepts ptrace requests for a tracee only from the thread that
//! attached it. `linux::Process` is therefore `!Sync`, and every method
//! that issues ptrace requests must be called on the thread that created it.
//! The one exception is `linux::HaltHandle`, which any thread may use to
//! stop a running process.

pub mod arch;
pub mod core;
pub mod error;
pub mod fuzzing;
pub mod linux;
pub mod prefetched;

pub use arch::{FpRegisters, Registers};
pub use error::{Result, TargetError};
pub use prefetched::{BlockCachedMemory, PrefetchedMemory};

/// A process id.
pub type Pid = i32;
/// A thread id (the kernel's task id; the main thread's equals the pid).
pub type Tid = i32;

/// Reading the target's memory.
pub trait Memory {
    /// Fills `buf` with the bytes at `addr`. Fails (with the address) if any
    /// byte is unreadable. Live processes never show ferret's breakpoint
    /// instructions: the original bytes are returned.
    fn read_memory(&self, addr: u64, buf: &mut [u8]) -> Result<()>;

    /// The little-endian 64-bit word at `addr` (a pointer, on the targets
    /// ferret supports).
    fn read_u64(&self, addr: u64) -> Result<u64> {
        let mut word = [0u8; 8];
        self.read_memory(addr, &mut word)?;
        Ok(u64::from_le_bytes(word))
    }

    /// Fills each buffer with the bytes at its address, as
    /// [`Memory::read_memory`] would one by one; an unreadable one fails
    /// alone. A live process reads many of them per system call, which
    /// matters when a listing reads 10^5 goroutines.
    fn read_each(&self, reads: &mut [(u64, &mut [u8])]) -> Vec<Result<()>> {
        reads
            .iter_mut()
            .map(|(addr, buf)| self.read_memory(*addr, buf))
            .collect()
    }
}

/// The target's threads and their registers, as of the last stop.
pub trait ThreadState {
    /// Thread ids, sorted.
    fn threads(&self) -> Vec<Tid>;
    /// General-purpose registers of `tid`.
    fn registers(&self, tid: Tid) -> Result<Registers>;
    /// Floating-point and vector state of `tid`.
    fn fp_registers(&self, tid: Tid) -> Result<FpRegisters>;
}

/// A readable mapping of the target's address space.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mapping {
    /// First address.
    pub start: u64,
    /// First address past the end.
    pub end: u64,
    /// Offset of `start` in the mapped file (0 for anonymous memory).
    pub file_offset: u64,
    /// The mapped file, when there is one.
    pub path: Option<String>,
    /// Readable, writable, executable.
    pub perms: (bool, bool, bool),
}
