//! The reference implementation, dlv, as an oracle: started headless on a
//! binary and asked questions over its JSON-RPC API v2.
//!
//! dlv v1.27.2 supports Go 1.25 to 1.27; [`Delve::supports`] says whether a
//! toolchain's binaries may be given to it.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use serde_json::{json, Value};

use crate::repo_root;
use crate::rpc::RpcClient;
use crate::toolchain::GoToolchain;

/// A running `dlv exec --headless` and a connection to it.
pub struct Delve {
    child: Child,
    client: RpcClient,
}

impl Delve {
    /// Where `scripts/install-tools` puts dlv.
    pub fn path() -> PathBuf {
        repo_root().join(".toolchains/dlv/dlv")
    }

    /// [`Delve::path`], after checking dlv is there (a clear message when
    /// not).
    pub fn installed() -> PathBuf {
        let dlv = Delve::path();
        assert!(
            dlv.exists(),
            "dlv is not installed at {}: run scripts/install-tools",
            dlv.display()
        );
        dlv
    }

    /// Whether dlv can debug binaries built by `toolchain`.
    pub fn supports(toolchain: &GoToolchain) -> bool {
        toolchain.minor() >= (1, 25)
    }

    /// Starts dlv on `binary` (launched, stopped at entry, not run).
    pub fn exec(binary: &Path) -> Delve {
        Delve::exec_with_args(binary, &[])
    }

    /// Starts dlv on `binary` with program arguments.
    pub fn exec_with_args(binary: &Path, args: &[&str]) -> Delve {
        let mut dlv_args: Vec<String> = vec!["exec".into(), binary.display().to_string()];
        dlv_args.extend(Delve::server_flags());
        if !args.is_empty() {
            dlv_args.push("--".into());
            dlv_args.extend(args.iter().map(|a| a.to_string()));
        }
        Delve::start(&dlv_args)
    }

    /// Starts `dlv core` on an executable and its core.
    pub fn core(binary: &Path, core: &Path) -> Delve {
        let mut dlv_args: Vec<String> = vec![
            "core".into(),
            binary.display().to_string(),
            core.display().to_string(),
        ];
        dlv_args.extend(Delve::server_flags());
        Delve::start(&dlv_args)
    }

    fn server_flags() -> Vec<String> {
        [
            "--headless",
            "--listen=127.0.0.1:0",
            "--api-version=2",
            "--accept-multiclient",
        ]
        .map(String::from)
        .to_vec()
    }

    /// The dlv server's peak resident memory so far (VmHWM), in KiB.
    pub fn peak_rss_kib(&self) -> u64 {
        std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .ok()
            .and_then(|s| {
                s.lines().find_map(|l| {
                    l.strip_prefix("VmHWM:")
                        .map(|v| v.trim().trim_end_matches(" kB").trim().to_owned())
                })
            })
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    }

    fn start(args: &[String]) -> Delve {
        let dlv = Delve::installed();
        let mut child = Command::new(&dlv)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start dlv");
        let mut first = String::new();
        let mut stdout = BufReader::new(child.stdout.take().expect("dlv stdout"));
        stdout.read_line(&mut first).expect("read dlv banner");
        // The program dlv launches shares this stdout: keep draining it, or
        // its writes die of SIGPIPE.
        std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
        let addr = first
            .trim()
            .strip_prefix("API server listening at: ")
            .unwrap_or_else(|| panic!("unexpected dlv banner: {first:?}"))
            .to_owned();
        let client = RpcClient::connect(&addr).expect("connect to dlv");
        Delve { child, client }
    }

    /// Calls `RPCServer.<method>` with one parameter object; returns the
    /// result, or the error text dlv answered with.
    pub fn call(&mut self, method: &str, params: Value) -> Result<Value, String> {
        self.client.call(method, params)
    }

    /// `FindLocation` of `spec` in the global scope: each location's
    /// (pc, pcs, file, line, function name), or dlv's error text.
    #[allow(clippy::type_complexity)]
    pub fn find_location(
        &mut self,
        spec: &str,
    ) -> Result<Vec<(u64, Vec<u64>, String, u32, Option<String>)>, String> {
        let result = self.call(
            "FindLocation",
            json!({"Scope": {"GoroutineID": -1}, "Loc": spec}),
        )?;
        Ok(result["Locations"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .map(|l| {
                (
                    l["pc"].as_u64().unwrap_or(0),
                    l["pcs"]
                        .as_array()
                        .map(Vec::as_slice)
                        .unwrap_or_default()
                        .iter()
                        .filter_map(Value::as_u64)
                        .collect(),
                    l["file"].as_str().unwrap_or("").to_owned(),
                    l["line"].as_u64().unwrap_or(0) as u32,
                    l["function"]["name"].as_str().map(str::to_owned),
                )
            })
            .collect())
    }
}

impl Drop for Delve {
    fn drop(&mut self) {
        let _ = self.call("Detach", json!({"Kill": true}));
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
