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
//! - [`error`]: [`BinaryError`], the crate's one error type.

pub mod bininfo;
pub mod disasm;
pub mod error;

pub use bininfo::BinaryInfo;
pub use error::{BinaryError, Result};
