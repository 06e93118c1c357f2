//! `ferret`: the command-line entry point of the ferret debug server.
//!
//! The headless server subcommands (`exec`, `attach`, `core`, `debug`) arrive
//! with the server; today the binary offers `bininfo`, which prints what
//! ferret reads from a Go executable.

use std::process::ExitCode;
use std::time::Instant;

use clap::{Parser, Subcommand};
use ferret_gort::BinaryInfo;

/// ferret: a headless debug server for Go programs.
#[derive(Parser)]
#[command(name = "ferret", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print what ferret reads from a Go executable: build info, packages,
    /// functions, and resolved locations.
    Bininfo {
        /// The Go executable.
        binary: std::path::PathBuf,
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

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Bininfo { binary, resolve, pcs, full_index, timings } => {
            match bininfo(&binary, &resolve, &pcs, full_index, timings) {
                Ok(()) => ExitCode::SUCCESS,
                Err(message) => {
                    eprintln!("ferret: {message}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}

/// The `bininfo` subcommand.
fn bininfo(
    binary: &std::path::Path,
    resolve: &[String],
    pcs: &[String],
    full_index: bool,
    timings: bool,
) -> Result<(), String> {
    let start = Instant::now();
    let lap = |what: &str| {
        if timings {
            eprintln!("timing: {what}: {:.2} ms", start.elapsed().as_secs_f64() * 1e3);
        }
    };
    let info = BinaryInfo::open(binary).map_err(|e| e.to_string())?;
    lap("open");
    let build = info.build_info();
    println!("binary:  {}", binary.display());
    println!("arch:    {:?}", info.arch());
    println!("go:      {}", build.go_version);
    println!("path:    {}", build.main_path);
    println!("module:  {} {}", build.main_module, build.main_module_version);
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
        let pc = u64::from_str_radix(text.trim_start_matches("0x"), 16).map_err(|e| format!("bad address {text}: {e}"))?;
        match info.pc_info(pc).map_err(|e| e.to_string())? {
            Some(pc_info) => {
                for frame in &pc_info.frames {
                    println!("pc {pc:#x}: {} {}:{}", frame.function, frame.file, frame.line);
                }
            }
            None => println!("pc {pc:#x}: no function"),
        }
    }
    if full_index {
        info.build_full_index().map_err(|e| e.to_string())?;
        lap("full index");
        println!("packages: {}", info.packages().len());
        println!("functions: {}", info.functions().map_err(|e| e.to_string())?.len());
        println!("files: {}", info.source_files().map_err(|e| e.to_string())?.len());
        println!("types: {}", info.types().map_err(|e| e.to_string())?.len());
        println!("symbols: {}", info.symbols().len());
    }
    Ok(())
}
