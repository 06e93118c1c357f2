//! ferret-target: the operating-system level of ferret.
//!
//! This crate will own everything that touches a process or a core file:
//! ptrace process control (launch, attach, threads, breakpoints, stepping,
//! halt, memory, registers, watchpoints), ELF core files, and core writing.
//! It knows nothing about DWARF or Go. Architecture-specific code lives in
//! its own module per architecture.
//!
//! The crate is empty until the target-control issue fills it; see
//! `docs/ARCHITECTURE.md` for the rules it will follow (one tracer thread,
//! one memory/thread/register interface shared by live processes and cores).
