//! A live Linux process under ptrace: see [`Process`].

mod launch;
mod memory;
mod process;
mod ptrace;

pub use launch::LaunchOptions;
pub use process::{Event, HaltHandle, Process, StopReason, ThreadEvent, ThreadStop, WatchKind};
