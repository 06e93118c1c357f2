//! ferret-debugger: the protocol-neutral debugging session.
//!
//! This crate will hold the one session state all clients share:
//! breakpoints and conditions, next/step/stepout, halt, process exit. It owns
//! the dedicated tracer thread that drives ptrace and takes commands over
//! channels, so no async code ever calls ptrace.
//!
//! Empty until the server issue fills it; see `docs/ARCHITECTURE.md`.
