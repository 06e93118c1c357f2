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

/// A signal's name (`SIGSEGV`), or `signal N` for a number Linux does not
/// name.
pub fn signal_name(number: i32) -> String {
    nix::sys::signal::Signal::try_from(number)
        .map(|s| s.as_str().to_owned())
        .unwrap_or_else(|_| format!("signal {number}"))
}
