//! A live Linux process under ptrace: see [`Process`].

mod launch;
mod memory;
mod process;
mod ptrace;
mod resources;

pub use launch::LaunchOptions;
pub use process::{
    Event, FirstStop, HaltHandle, Process, StopReason, ThreadEvent, ThreadStop, WatchKind,
};
pub use resources::{monotonic_now_ns, resources, Resources};
