//! Test support shared by ferret's crates (used only as a dev-dependency).
//!
//! - [`toolchain`]: the Go toolchains a test run uses (`FERRET_GO_VERSIONS`).
//! - [`fixture`]: builds the Go programs under `tests/fixtures/` once per
//!   toolchain and build options, cached under `target/fixtures/`.
//! - [`cores`]: kernel cores of fixtures stopped where a test wants them.
//! - [`dap`]: dlv and ferret as DAP servers, the DebugClient (npm) harness,
//!   and a minimal DAP client.
//! - [`dapdiff`]: the go-dap client in `tests/dap-clients/godap/`, run
//!   against dlv and ferret as DAP servers, and the comparison of its
//!   normalized transcripts.
//! - [`delve`]: the real dlv as an oracle, driven over its JSON-RPC API.
//! - [`rpc`]: a minimal Delve JSON-RPC client.
//! - [`servers`]: ferret and dlv as headless servers, stopped when dropped.
//! - [`oracle`]: runs Go's own tools (`nm`, `addr2line`, `objdump`,
//!   `go version -m`) and parses what they print, so tests compare ferret
//!   with an independent answer instead of hand-typed values.
//! - [`proto`]: the dlv JSON-RPC exchanges recorded in `proto-fixtures/`,
//!   and the normalization and diff that compare dlv's answers with ferret's.
//! - [`terminal`]: the real `dlv connect` terminal run through a script, with
//!   a normalized transcript to compare dlv's own server with ferret's.
//! - [`leak`]: the `leak` fixture's parked goroutines, live or in a core,
//!   with its own report and dlv's `goroutines` output as oracles.
//! - [`vars`]: the `vars` fixture (one variable of each kind), paused in
//!   a core, with the values it printed.
//! - [`replay_fuzz_corpus`]: the fuzzers' corpora as regression tests.

pub mod cores;
pub mod dap;
pub mod dapdiff;
pub mod delve;
pub mod fixture;
pub mod leak;
pub mod oracle;
pub mod proto;
pub mod rpc;
pub mod servers;
pub mod terminal;
pub mod toolchain;
pub mod vars;

use std::path::PathBuf;

/// The repository root (two levels above this crate).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("repository root exists")
}

/// Cargo's target directory (honours `CARGO_TARGET_DIR`).
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("target"))
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

/// Runs `fuzz_target` on every input in `fuzz/corpus/TARGET` (seeds, and
/// inputs that once crashed or found new paths), reporting every input that
/// panics by name. The fuzzers themselves run outside CI (`scripts/fuzz`).
pub fn replay_fuzz_corpus(target: &str, fuzz_target: fn(&[u8])) {
    let dir = repo_root().join("fuzz").join("corpus").join(target);
    let mut inputs: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .map(|entry| entry.expect("corpus entry").path())
        .collect();
    inputs.sort();
    assert!(!inputs.is_empty(), "{} holds no inputs", dir.display());
    let failed: Vec<String> = inputs
        .iter()
        .filter(|path| {
            let data = std::fs::read(path).expect("read corpus input");
            std::panic::catch_unwind(|| fuzz_target(&data)).is_err()
        })
        .map(|path| path.display().to_string())
        .collect();
    assert!(
        failed.is_empty(),
        "{} of {} inputs panicked: {failed:#?}",
        failed.len(),
        inputs.len()
    );
}
