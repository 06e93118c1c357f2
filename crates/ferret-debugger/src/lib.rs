//! ferret-debugger: the protocol-neutral debugging session.
//!
//! One [`Debugger`] per target, shared by every client: it owns the
//! dedicated tracer thread (the only thread that makes ptrace calls), the
//! breakpoints with Delve's attributes, and next/step/stepout. Front ends
//! (JSON-RPC, DAP) turn its plain [`model`] types into their wire shapes.
//!
//! # Layout
//! - [`session`]: [`Debugger`] (the handle) and the tracer thread.
//! - [`model`]: states, threads, breakpoints, locations, frames.
//! - [`goroutines`]: Delve's goroutine filters and groups.
//! - [`dump`]: core dumps of the live target and their progress.
//! - [`error`]: the session's error type.

pub mod dump;
pub mod error;
pub mod goroutines;
pub mod model;
pub mod session;

pub use error::{Result, SessionError};
pub use session::{Debugger, TargetSpec};
