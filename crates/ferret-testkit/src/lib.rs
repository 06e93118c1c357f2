//! Test support shared by ferret's crates (used only as a dev-dependency).
//!
//! - [`toolchain`]: the Go toolchains a test run uses (`FERRET_GO_VERSIONS`).
//! - [`fixture`]: builds the Go programs under `tests/fixtures/` once per
//!   toolchain and build options, cached under `target/fixtures/`.
//! - [`delve`]: the real dlv as an oracle, driven over its JSON-RPC API.
//! - [`rpc`]: a minimal Delve JSON-RPC client.
//! - [`oracle`]: runs Go's own tools (`nm`, `addr2line`, `objdump`,
//!   `go version -m`) and parses what they print, so tests compare ferret
//!   with an independent answer instead of hand-typed values.
//! - [`proto`]: the dlv JSON-RPC exchanges recorded in `proto-fixtures/`,
//!   and the normalization and diff that compare dlv's answers with ferret's.
//! - [`terminal`]: the real `dlv connect` terminal run through a script, with
//!   a normalized transcript to compare dlv's own server with ferret's.

pub mod delve;
pub mod fixture;
pub mod oracle;
pub mod proto;
pub mod rpc;
pub mod terminal;
pub mod toolchain;

use std::path::PathBuf;

/// The repository root (two levels above this crate).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().expect("repository root exists")
}

/// Cargo's target directory (honours `CARGO_TARGET_DIR`).
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| repo_root().join("target"))
}

/// The `ferret` executable built by `scripts/test` (release) or a plain
/// `cargo build` (debug).
pub fn ferret_binary() -> PathBuf {
    let target = target_dir();
    ["release", "debug"]
        .iter()
        .map(|profile| target.join(profile).join("ferret"))
        .find(|path| path.exists())
        .expect("build ferret first: cargo build --release --bin ferret")
}
