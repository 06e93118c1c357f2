//! ferret and dlv as headless servers for tests: started on a free port,
//! stopped when dropped, whether the test passed or not.

use std::ffi::OsStr;
use std::io::BufRead;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::rpc::RpcClient;
use crate::terminal::{start_dlv_core, wait_or_kill};

/// A headless multiclient `ferret` server.
pub struct FerretServer {
    child: Child,
    /// Where it listens (`127.0.0.1:PORT`).
    pub addr: String,
}

impl FerretServer {
    /// `ferret core BINARY CORE`.
    pub fn core(binary: &Path, core: &Path) -> FerretServer {
        FerretServer::start(&[OsStr::new("core"), binary.as_os_str(), core.as_os_str()])
    }

    /// `ferret attach PID`.
    pub fn attach(pid: u32) -> FerretServer {
        FerretServer::start(&[OsStr::new("attach"), OsStr::new(&pid.to_string())])
    }

    /// `ferret exec BINARY -- ARGS`: the program launched, stopped at its
    /// first instruction.
    pub fn exec(binary: &Path, args: &[&str]) -> FerretServer {
        FerretServer::start_with_program_args(&[OsStr::new("exec"), binary.as_os_str()], args)
    }

    /// `ferret ARGS --headless ...`, once it says where it listens.
    pub fn start(args: &[&OsStr]) -> FerretServer {
        FerretServer::start_with_program_args(args, &[])
    }

    fn start_with_program_args(args: &[&OsStr], program_args: &[&str]) -> FerretServer {
        let separator: &[&str] = if program_args.is_empty() {
            &[]
        } else {
            &["--"]
        };
        let mut child = Command::new(crate::ferret_binary())
            .args(args)
            .args([
                "--headless",
                "--listen=127.0.0.1:0",
                "--api-version=2",
                "--accept-multiclient",
            ])
            .args(separator)
            .args(program_args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start ferret core");
        let mut stdout = std::io::BufReader::new(child.stdout.take().expect("stdout"));
        let mut line = String::new();
        stdout.read_line(&mut line).expect("ferret's startup line");
        std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
        let addr = line
            .trim()
            .strip_prefix("API server listening at: ")
            .expect("listening line")
            .to_owned();
        FerretServer { child, addr }
    }

    /// Waits for the server to end (after `Detach`), killing it after 10 s.
    pub fn stop(&mut self) {
        let _ = wait_or_kill(&mut self.child, Duration::from_secs(10));
    }
}

impl Drop for FerretServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// dlv and ferret serving the same core, a client connected to each; dlv
/// is stopped when this is dropped, whether the test passed or not.
pub struct BothOnCore {
    dlv_server: Child,
    /// A client of dlv.
    pub dlv: RpcClient,
    /// A client of ferret.
    pub ferret: RpcClient,
    _ferret_server: FerretServer,
}

impl BothOnCore {
    /// Both servers on `core` of `exe`.
    pub fn start(exe: &Path, core: &Path) -> BothOnCore {
        let (dlv_server, dlv_addr) = start_dlv_core(exe, core);
        let ferret_server = FerretServer::core(exe, core);
        BothOnCore {
            dlv: RpcClient::connect(&dlv_addr).unwrap(),
            ferret: RpcClient::connect(&ferret_server.addr).unwrap(),
            dlv_server,
            _ferret_server: ferret_server,
        }
    }

    /// The goroutines ferret lists (all of them, one page).
    pub fn goroutines(&mut self) -> Vec<serde_json::Value> {
        let listing = self
            .ferret
            .call("ListGoroutines", serde_json::json!({}))
            .unwrap();
        listing["Goroutines"].as_array().unwrap().clone()
    }
}

impl Drop for BothOnCore {
    fn drop(&mut self) {
        let _ = self.dlv.call("Detach", serde_json::json!({"Kill": false}));
        let _ = wait_or_kill(&mut self.dlv_server, Duration::from_secs(10));
    }
}
