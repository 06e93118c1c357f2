//! Per-architecture register sets and constants. Only x86-64 exists today;
//! arm64 will be a sibling module chosen at this `mod` line.

#[cfg(target_arch = "x86_64")]
pub mod amd64;

#[cfg(target_arch = "x86_64")]
pub use amd64::{emulate, FpRegisters, Registers, BREAKPOINT_INSTRUCTION};
