//! `ferret`: the command-line entry point of the ferret debug server.
//!
//! `exec`, `attach`, `core` and `debug` start a headless server with
//! Delve's flags; `bininfo` prints what ferret reads from a Go executable.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

mod certs;
mod crash;
mod goroutines;
mod tunnel;

use clap::{Args, Parser, Subcommand};
use ferret_debugger::{Debugger, SessionError, TargetSpec};
use ferret_gort::BinaryInfo;
use ferret_server::ServerConfig;
use ferret_target::linux::LaunchOptions;

/// ferret: a headless debug server for Go programs, compatible with
/// Delve's JSON-RPC API v2.
#[derive(Parser)]
#[command(name = "ferret", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Start a compiled program and debug it.
    Exec {
        /// The program.
        binary: PathBuf,
        /// Arguments for the program (after `--`).
        #[arg(last = true)]
        args: Vec<String>,
        #[command(flatten)]
        server: ServerFlags,
    },
    /// Attach to a running process.
    Attach {
        /// The process id.
        pid: i32,
        /// Its executable (default: /proc/PID/exe).
        binary: Option<PathBuf>,
        #[command(flatten)]
        server: ServerFlags,
    },
    /// Examine a core file.
    Core {
        /// The executable that crashed.
        binary: PathBuf,
        /// The core file.
        core: PathBuf,
        /// Open the core even if it was not written by this executable
        /// (their build ids differ).
        #[arg(long)]
        allow_mismatch: bool,
        #[command(flatten)]
        server: ServerFlags,
    },
    /// Print the crash report of a core: the fatal signal, the panic (or
    /// fatal error) as the runtime printed it, the crashed goroutine's
    /// stack from user code, and the goroutines by wait reason.
    Crash {
        /// The executable that crashed.
        binary: PathBuf,
        /// The core file.
        core: PathBuf,
        /// Open the core even if it was not written by this executable.
        #[arg(long)]
        allow_mismatch: bool,
    },
    /// Build the Go package in the current directory (or PACKAGE) without
    /// optimizations and debug it.
    Debug {
        /// The package to build (default: the current directory).
        package: Option<String>,
        /// Arguments for the program (after `--`).
        #[arg(last = true)]
        args: Vec<String>,
        #[command(flatten)]
        server: ServerFlags,
    },
    /// Serve one DAP client (VS Code, nvim-dap, ...): its `launch` (modes
    /// exec and core) or `attach` (mode local, processId) starts the target,
    /// and its disconnect ends the server, as `dlv dap` does.
    Dap {
        /// Address to listen on.
        #[arg(short = 'l', long, default_value = "127.0.0.1:0")]
        listen: String,
        /// Accepted and ignored, as `dlv dap` does (with a warning).
        #[arg(long)]
        headless: bool,
        /// Accepted and ignored, as `dlv dap` does (with a warning).
        #[arg(long)]
        accept_multiclient: bool,
        /// Enable logging.
        #[arg(long)]
        log: bool,
        /// Components to log (accepted for compatibility).
        #[arg(long)]
        log_output: Option<String>,
        /// Where logs go (accepted for compatibility; editors pass it).
        #[arg(long)]
        log_dest: Option<String>,
        /// Accepted for compatibility (ferret reads Go 1.21 and later).
        #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
        check_go_version: bool,
    },
    /// Write an example CA, server and client certificate for TLS (never use
    /// them in production: the CA key sits next to them).
    Certs {
        /// Directory to write into (created if missing).
        #[arg(long)]
        out: PathBuf,
        /// Host names and addresses for the server certificate
        /// (default: localhost,127.0.0.1,::1).
        #[arg(long, value_delimiter = ',')]
        hosts: Vec<String>,
    },
    /// Offer a local plain port that forwards each connection over TLS to a
    /// ferret server, for clients that cannot speak TLS.
    Tunnel {
        /// The TLS server, HOST:PORT.
        #[arg(long)]
        connect: String,
        /// The CA that signed the server certificate (PEM).
        #[arg(long)]
        tls_ca: PathBuf,
        /// Client certificate (PEM), when the server requires one.
        #[arg(long, requires = "tls_key")]
        tls_cert: Option<PathBuf>,
        /// Client private key (PEM).
        #[arg(long, requires = "tls_cert")]
        tls_key: Option<PathBuf>,
        /// Local address to listen on.
        #[arg(long, default_value = "127.0.0.1:0")]
        listen: String,
    },
    /// Summarize a ferret server's goroutines for leak hunting: counts per
    /// wait reason (or location, or label), and with --watch their growth.
    Goroutines {
        /// The ferret server, HOST:PORT (for a TLS server, connect through
        /// `ferret tunnel`).
        #[arg(long)]
        connect: String,
        /// One or two comma-separated keys: waitreason, userloc, startloc,
        /// goloc, curloc, label:KEY.
        #[arg(long, default_value = "waitreason", value_delimiter = ',')]
        group: Vec<String>,
        /// Only goroutines waiting at least this long (e.g. 30s, 5m, 1h).
        #[arg(long, value_parser = ferret_server::leak::parse_duration)]
        min_wait: Option<std::time::Duration>,
        /// Sample again at this interval and show each group's growth,
        /// until interrupted (e.g. 5s).
        #[arg(long, value_parser = ferret_server::leak::parse_duration)]
        watch: Option<std::time::Duration>,
    },
    /// Print what ferret reads from a Go executable: build info, packages,
    /// functions, and resolved locations.
    Bininfo {
        /// The Go executable.
        binary: PathBuf,
        /// Location expressions to resolve (`main.main`, `pkg.(*T).M`,
        /// `file.go:12`); may be repeated.
        #[arg(long = "resolve", value_name = "LOCATION")]
        resolve: Vec<String>,
        /// Addresses (hex, 0x-prefixed or not) to describe; may be repeated.
        #[arg(long = "pc", value_name = "ADDR")]
        pcs: Vec<String>,
        /// Decode everything (all units, line tables, frame info) and print
        /// totals.
        #[arg(long)]
        full_index: bool,
        /// Print the time taken by each step on stderr.
        #[arg(long)]
        timings: bool,
    },
}

/// Delve's server flags, with Delve's names and meanings.
#[derive(Args, Clone)]
struct ServerFlags {
    /// Run in server mode only (ferret has no built-in terminal client).
    #[arg(long)]
    headless: bool,
    /// Address to listen on.
    #[arg(short = 'l', long, default_value = "127.0.0.1:0")]
    listen: String,
    /// JSON-RPC API version (only 2 exists).
    #[arg(long, default_value_t = 2)]
    api_version: u32,
    /// Allow several clients, and keep running when they leave.
    #[arg(long)]
    accept_multiclient: bool,
    /// Start the program running before any client connects.
    #[arg(long = "continue")]
    continue_: bool,
    /// Working directory of the program.
    #[arg(long)]
    wd: Option<PathBuf>,
    /// Redirect the program's streams: `stdin:FILE`, `stdout:FILE`,
    /// `stderr:FILE`, or just `FILE` for stdin.
    #[arg(short = 'r', long = "redirect")]
    redirect: Vec<String>,
    /// Enable logging.
    #[arg(long)]
    log: bool,
    /// Components to log (accepted for compatibility).
    #[arg(long)]
    log_output: Option<String>,
    /// Refuse Go versions ferret does not know (accepted for compatibility;
    /// ferret reads Go 1.21 and later through DWARF).
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    check_go_version: bool,
    /// On a loopback listener, only accept connections from the same user.
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    only_same_user: bool,
    /// Serve over TLS with this certificate chain (PEM); reloaded on SIGHUP.
    #[arg(long, requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The TLS private key (PEM).
    #[arg(long, requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Require client certificates signed by this CA (mutual TLS).
    #[arg(long, requires = "tls_cert")]
    tls_client_ca: Option<PathBuf>,
    /// Most clients served at once; more get an error and are closed.
    #[arg(long, default_value_t = ferret_server::DEFAULT_MAX_CLIENTS)]
    max_clients: usize,
    /// Largest request in bytes; a bigger one gets an error and its
    /// connection is closed.
    #[arg(long, default_value_t = ferret_server::DEFAULT_MAX_REQUEST_BYTES)]
    max_request_size: usize,
    /// Only these client certificate subjects (e.g. "CN=ferret client").
    #[arg(long, value_delimiter = ';', requires = "tls_client_ca")]
    tls_allowed_subjects: Vec<String>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Bininfo { binary, resolve, pcs, full_index, timings } => {
            bininfo(&binary, &resolve, &pcs, full_index, timings)
        }
        Command::Exec { binary, args, server } => launch(binary, args, server),
        Command::Crash { binary, core, allow_mismatch } => crash::run(binary, core, allow_mismatch),
        Command::Goroutines { connect, group, min_wait, watch } => {
            goroutines::run(&goroutines::Options { connect, group, min_wait, watch })
        }
        Command::Debug { package, args, server } => debug(package, args, server),
        Command::Attach { pid, binary, server } => {
            check_flags(&server).and_then(|()| run_server(TargetSpec::Attach { pid, binary }, &server, false))
        }
        Command::Core { binary, core, allow_mismatch, server } => check_flags(&server).and_then(|()| {
            run_server(TargetSpec::Core { binary, core, allow_mismatch }, &server, true)
        }),
        Command::Dap { listen, headless, accept_multiclient, .. } => dap(&listen, headless, accept_multiclient),
        Command::Certs { out, hosts } => certs::write_certs(&out, &hosts).map(|paths| {
            for path in paths {
                println!("wrote {}", path.display());
            }
            println!("These are example certificates: the CA key is in the same directory. Never use them in production.");
        }),
        Command::Tunnel { connect, tls_ca, tls_cert, tls_key, listen } => {
            let settings = tunnel::TunnelSettings { connect, ca: tls_ca, client_cert: tls_cert.zip(tls_key), listen };
            async_runtime().and_then(|runtime| runtime.block_on(tunnel::run(settings)))
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("Error: {message}");
            ExitCode::FAILURE
        }
    }
}

/// The tokio runtime the servers and the tunnel run on (two workers: the
/// machine ferret targets has few cores, and ptrace work has its own
/// thread).
fn async_runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))
}

/// `ferret dap`: one DAP client starts and ends the session.
fn dap(listen: &str, headless: bool, accept_multiclient: bool) -> Result<(), String> {
    for (given, flag) in [
        (headless, "--headless"),
        (accept_multiclient, "--accept-multiclient"),
    ] {
        if given {
            eprintln!("Warning: {flag} is ignored with dap");
        }
    }
    let runtime = async_runtime()?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .map_err(|e| format!("couldn't start listener: listen tcp {listen}: {e}"))?;
        let address = listener.local_addr().map_err(|e| e.to_string())?;
        println!("DAP server listening at: {address}");
        let _ = std::io::stdout().flush();
        let config = ferret_server::ServerConfig {
            accept_multiclient: false,
            core: false,
            max_request_bytes: ferret_server::DEFAULT_MAX_REQUEST_BYTES,
            only_same_user: true,
            tls: None,
            max_clients: 1,
        };
        ferret_server::dap::serve_standalone(listener, config).await;
        Ok(())
    })
}

/// Refuses flag combinations Delve refuses.
fn check_flags(flags: &ServerFlags) -> Result<(), String> {
    if !flags.headless {
        return Err(
            "ferret has no built-in terminal client: start it with --headless and connect one, \
                    e.g. `ferret exec ./prog --headless --listen=127.0.0.1:40000 --api-version=2` \
                    then `dlv connect 127.0.0.1:40000`"
                .into(),
        );
    }
    if flags.api_version != 2 {
        return Err(format!(
            "API version {} is not supported: ferret speaks JSON-RPC API version 2 only (use --api-version=2)",
            flags.api_version
        ));
    }
    if flags.continue_ && !flags.accept_multiclient {
        return Err("--continue requires --accept-multiclient".into());
    }
    Ok(())
}

/// The launch options from `exec`/`debug` flags.
fn launch_options(
    binary: PathBuf,
    args: Vec<String>,
    flags: &ServerFlags,
) -> Result<LaunchOptions, String> {
    let mut options = LaunchOptions {
        program: binary,
        args,
        cwd: flags.wd.clone(),
        ..LaunchOptions::default()
    };
    for redirect in &flags.redirect {
        let (stream, file) = redirect
            .split_once(':')
            .unwrap_or(("stdin", redirect.as_str()));
        let file = Some(PathBuf::from(file));
        match stream {
            "stdin" => options.stdin = file,
            "stdout" => options.stdout = file,
            "stderr" => options.stderr = file,
            other => {
                return Err(format!(
                    "unknown redirect {other:?}: use stdin:FILE, stdout:FILE or stderr:FILE"
                ))
            }
        }
    }
    Ok(options)
}

fn launch(binary: PathBuf, args: Vec<String>, flags: ServerFlags) -> Result<(), String> {
    check_flags(&flags)?;
    // A relative path runs as given from the current directory, as Delve does.
    let binary = if binary.is_relative() && binary.components().count() == 1 {
        Path::new(".").join(binary)
    } else {
        binary
    };
    let options = launch_options(binary, args, &flags)?;
    run_server(TargetSpec::Launch(options), &flags, false)
}

/// `debug`: builds the package like `dlv debug`, then execs it.
fn debug(package: Option<String>, args: Vec<String>, flags: ServerFlags) -> Result<(), String> {
    check_flags(&flags)?;
    let dir = std::env::temp_dir().join(format!("ferret-debug-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let output = dir.join("__debug_bin");
    let status = std::process::Command::new("go")
        .args(["build", "-gcflags=all=-N -l", "-o"])
        .arg(&output)
        .arg(package.as_deref().unwrap_or("."))
        .status()
        .map_err(|e| format!("cannot run go build: {e}"))?;
    if !status.success() {
        let _ = std::fs::remove_dir_all(&dir);
        return Err("could not build the package (see the compiler output above)".into());
    }
    let options = launch_options(output, args, &flags)?;
    let result = run_server(TargetSpec::Launch(options), &flags, false);
    let _ = std::fs::remove_dir_all(&dir);
    result
}

/// Binds the listener, starts the session, prints Delve's startup line and
/// serves until the session ends.
/// Why a target could not be opened, with the way past a core of another
/// build.
pub(crate) fn start_error(what: &str, e: SessionError) -> String {
    match e {
        SessionError::CoreMismatch(_) => {
            format!("{what}: {e}\n(--allow-mismatch opens it with this executable anyway)")
        }
        e => format!("{what}: {e}"),
    }
}

/// Says on stderr what a core of a program that is not Go still offers.
pub(crate) fn warn_if_not_go(debugger: &Debugger) {
    if !debugger.bininfo().is_go() {
        eprintln!(
            "warning: {} is not a Go program: its threads, registers and memory are served; goroutines and Go variables are not",
            debugger.binary().display()
        );
    }
}

fn run_server(spec: TargetSpec, flags: &ServerFlags, core: bool) -> Result<(), String> {
    let tls = match (&flags.tls_cert, &flags.tls_key) {
        (Some(cert), Some(key)) => Some(std::sync::Arc::new(ferret_server::tls::TlsState::load(
            ferret_server::tls::TlsSettings {
                cert: cert.clone(),
                key: key.clone(),
                client_ca: flags.tls_client_ca.clone(),
                allowed_subjects: flags.tls_allowed_subjects.clone(),
            },
        )?)),
        _ => None,
    };
    let runtime = async_runtime()?;
    runtime.block_on(async {
        // Bind first: a busy port must not leave a target behind.
        let listener = tokio::net::TcpListener::bind(&flags.listen)
            .await
            .map_err(|e| format!("couldn't start listener: listen tcp {}: {e}", flags.listen))?;
        let address = listener.local_addr().map_err(|e| e.to_string())?;
        let what = match &spec {
            TargetSpec::Launch(_) => "could not launch process",
            TargetSpec::Attach { .. } => "could not attach to pid",
            TargetSpec::Core { .. } => "could not open core file",
        };
        let debugger = tokio::task::spawn_blocking(move || Debugger::start(spec))
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| start_error(what, e))?;
        warn_if_not_go(&debugger);
        if let Some(tls) = tls.clone() {
            // SIGHUP reloads the certificate files; connected clients stay.
            if let Ok(mut hangups) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) {
                tokio::spawn(async move {
                    while hangups.recv().await.is_some() {
                        match tls.reload() {
                            Ok(()) => eprintln!("TLS certificates reloaded"),
                            Err(e) => eprintln!("TLS reload failed, keeping the old certificates: {e}"),
                        }
                    }
                });
            }
        }
        if !address.ip().is_loopback() && tls.is_none() {
            eprintln!(
                "Warning: listening on {address} without TLS: anyone who can reach this port can read and \
                 change the debugged program's memory and run code in it"
            );
        }
        println!("API server listening at: {address}");
        let _ = std::io::stdout().flush();
        if flags.continue_ {
            let debugger = debugger.clone();
            tokio::task::spawn_blocking(move || {
                let _ = debugger.command(ferret_debugger::model::Command::Continue);
            });
        }
        let config = ServerConfig {
            accept_multiclient: flags.accept_multiclient,
            core,
            max_request_bytes: flags.max_request_size,
            max_clients: flags.max_clients,
            only_same_user: flags.only_same_user,
            tls,
        };
        let signals = async {
            let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = async { match term.as_mut() { Some(t) => { t.recv().await; } None => std::future::pending::<()>().await } } => {}
            }
        };
        let session = debugger.clone();
        tokio::select! {
            _ = ferret_server::serve(listener, debugger, config) => {}
            _ = signals => {
                // Like Delve: halt, then detach (killing a launched target).
                let _ = tokio::task::spawn_blocking(move || {
                    if session.is_running() {
                        let _ = session.halt();
                    }
                    let _ = session.detach(false);
                })
                .await;
            }
        }
        Ok(())
    })
}

/// The `bininfo` subcommand.
fn bininfo(
    binary: &Path,
    resolve: &[String],
    pcs: &[String],
    full_index: bool,
    timings: bool,
) -> Result<(), String> {
    let start = Instant::now();
    let lap = |what: &str| {
        if timings {
            eprintln!(
                "timing: {what}: {:.2} ms",
                start.elapsed().as_secs_f64() * 1e3
            );
        }
    };
    let info = BinaryInfo::open(binary).map_err(|e| e.to_string())?;
    lap("open");
    let build = info.build_info();
    println!("binary:  {}", binary.display());
    println!("arch:    {:?}", info.arch());
    println!("go:      {}", build.go_version);
    println!("path:    {}", build.main_path);
    println!(
        "module:  {} {}",
        build.main_module, build.main_module_version
    );
    for (key, value) in &build.settings {
        println!("build:   {key}={value}");
    }
    for spec in resolve {
        match info.resolve_location(spec) {
            Ok(l) => {
                let pcs: Vec<String> = l.pcs.iter().map(|pc| format!("{pc:#x}")).collect();
                println!(
                    "location {spec}: {:#x} {} {}:{} (all: {})",
                    l.pc,
                    l.function.as_deref().unwrap_or("?"),
                    l.file,
                    l.line,
                    pcs.join(" ")
                );
            }
            Err(e) => println!("location {spec}: error: {e}"),
        }
    }
    lap("resolve");
    for text in pcs {
        let pc = u64::from_str_radix(text.trim_start_matches("0x"), 16)
            .map_err(|e| format!("bad address {text}: {e}"))?;
        match info.pc_info(pc).map_err(|e| e.to_string())? {
            Some(pc_info) => {
                for frame in &pc_info.frames {
                    println!(
                        "pc {pc:#x}: {} {}:{}",
                        frame.function, frame.file, frame.line
                    );
                }
            }
            None => println!("pc {pc:#x}: no function"),
        }
    }
    if full_index {
        info.build_full_index().map_err(|e| e.to_string())?;
        lap("full index");
        println!("packages: {}", info.packages().len());
        println!(
            "functions: {}",
            info.functions().map_err(|e| e.to_string())?.len()
        );
        println!(
            "files: {}",
            info.source_files().map_err(|e| e.to_string())?.len()
        );
        println!("types: {}", info.types().map_err(|e| e.to_string())?.len());
        println!("symbols: {}", info.symbols().len());
    }
    Ok(())
}
