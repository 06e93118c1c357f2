//! ferret-gort: what ferret knows about Go programs.
//!
//! This crate reads Go executables (ELF, DWARF) and, in later layers, the Go
//! runtime's state in a target process or core. It never drives a process
//! itself: target access comes through `ferret-target`'s traits.
//!
//! # Layout
//! - [`bininfo`]: the executable — build info, symbols, functions, line
//!   tables, inlining, locations, call frame information.
//! - [`disasm`]: x86-64 instruction decoding.
//! - [`eval`]: Go expressions evaluated against a stopped target, as Delve's `Eval`.
//! - [`expr`]: Go expressions as debugger clients type them: lexer, parser, AST.
//! - [`goroutine`]: goroutines read from the runtime's own structures.
//! - [`stack`]: unwinding goroutine stacks, across the runtime's special frames.
//! - [`value`]: Go values read from memory, as Delve shows them.
//! - [`error`]: [`BinaryError`], the crate's one error type.
//! - [`fuzzing`]: what the ELF/DWARF loader fuzzer feeds bytes to.

pub mod bininfo;
pub mod crash;
pub mod disasm;
pub mod error;
pub mod eval;
pub mod expr;
pub mod fuzzing;
pub mod goroutine;
pub mod stack;
pub mod value;

pub use bininfo::BinaryInfo;
pub use error::{BinaryError, Result};
