//! Target-layer benchmark: prints figures, never fails on them.
//!
//! - breakpoint round trips per second (hit, report to the tracer, step
//!   over, resume): a single-threaded C loop, a single-goroutine Go loop
//!   (beside dlv doing the same through its JSON-RPC API), and a Go program
//!   with 8 busy threads;
//! - memory read throughput of one 256 MiB region, live and from a core;
//! - opening a 4 GiB core: wall time and peak RSS (beside `dlv core`).
//!
//! Run with `cargo bench -p ferret-target`. The bench process and its
//! targets are pinned to CPU 1 (the 2 shared cores make unpinned figures
//! swing); figures are medians of several runs.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use ferret_target::core::{write_core, CoreFile};
use ferret_target::linux::{Event, LaunchOptions, Process, StopReason};
use ferret_target::Memory;
use ferret_testkit::delve::Delve;
use ferret_testkit::fixture::{build_c_program, build_fixture, BuildOptions};
use ferret_testkit::oracle;
use ferret_testkit::toolchain::GoToolchain;
use serde_json::json;

const RUNS: usize = 5;

fn median(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(|a, b| a.partial_cmp(b).expect("no NaN"));
    samples[samples.len() / 2]
}

fn pin_to_cpu1() {
    // SAFETY: plain libc call on a zeroed cpu_set_t.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(1, &mut set);
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set);
    }
}

fn scratch(name: &str) -> PathBuf {
    let dir = ferret_testkit::target_dir().join("bench").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("bench scratch dir");
    dir
}

fn launch_quiet(program: &Path, args: &[&str]) -> Process {
    Process::launch(&LaunchOptions {
        program: program.to_owned(),
        args: args.iter().map(|s| s.to_string()).collect(),
        stdout: Some("/dev/null".into()),
        ..LaunchOptions::default()
    })
    .expect("launch")
}

/// Hits per second of a breakpoint at `addr` until the process exits or
/// `stop_at` is hit.
fn round_trips(program: &Path, args: &[&str], addr: u64, stop_at: Option<u64>) -> f64 {
    let mut process = launch_quiet(program, args);
    process.set_breakpoint(addr).expect("breakpoint");
    if let Some(stop) = stop_at {
        process.set_breakpoint(stop).expect("breakpoint");
    }
    let start = Instant::now();
    let mut hits = 0u64;
    loop {
        process.resume().expect("resume");
        match process.wait().expect("wait") {
            Event::Stopped { stops, .. } => {
                hits += stops
                    .iter()
                    .filter(|s| s.reason == StopReason::Breakpoint { addr })
                    .count() as u64;
                if stops
                    .iter()
                    .any(|s| Some(s.reason) == stop_at.map(|a| StopReason::Breakpoint { addr: a }))
                {
                    break;
                }
            }
            _ => break,
        }
    }
    let rate = hits as f64 / start.elapsed().as_secs_f64();
    let _ = process.kill();
    rate
}

/// The same loop through dlv: CreateBreakpoint, then `continue` per hit.
fn dlv_round_trips(program: &Path, hits: u64) -> f64 {
    let mut dlv = Delve::exec_with_args(program, &["loop", "100000000"]);
    dlv.call(
        "CreateBreakpoint",
        json!({"Breakpoint": {"functionName": "main.work"}}),
    )
    .expect("dlv breakpoint");
    let start = Instant::now();
    for _ in 0..hits {
        dlv.call("Command", json!({"name": "continue"}))
            .expect("dlv continue");
    }
    hits as f64 / start.elapsed().as_secs_f64()
}

fn main() {
    pin_to_cpu1();
    let toolchain = GoToolchain::find("1.26");
    let busy = build_fixture("busy", &toolchain, &BuildOptions::debug());
    let c = build_c_program("threads");
    let c_symbols = oracle::gnu_nm(&c);
    let go_work = oracle::nm(&toolchain, &busy)
        .into_iter()
        .find(|s| s.name == "main.work")
        .expect("main.work")
        .address;

    println!("ferret-target benchmark (pinned to CPU 1, medians of {RUNS} runs)");
    println!("{:62} {:>14}", "what", "figure");

    // First, while this process is still small: a child's peak RSS counts
    // the parent's pages it shares between fork and exec.
    big_core(&busy);

    // One ptrace stop-and-resume cycle is the floor under every figure
    // below: a breakpoint hit costs two (the hit, and the single step over
    // the breakpoint), a hit with N threads running costs N more.
    let rate = median((0..RUNS).map(|_| single_steps(&c, 20_000)).collect());
    println!(
        "{:62} {:>10.0} /s",
        "single steps (one stop cycle each), C, 1 thread", rate
    );

    let rate = median(
        (0..RUNS)
            .map(|_| {
                round_trips(
                    &c,
                    &["loop", "100000"],
                    c_symbols["hit"],
                    Some(c_symbols["done"]),
                )
            })
            .collect(),
    );
    println!(
        "{:62} {:>10.0} /s",
        "breakpoint round trips, C, 1 thread", rate
    );

    let rate = median(
        (0..RUNS)
            .map(|_| round_trips(&busy, &["loop", "100000"], go_work, None))
            .collect(),
    );
    println!(
        "{:62} {:>10.0} /s",
        "breakpoint round trips, Go, 1 goroutine", rate
    );

    if Delve::path().exists() {
        let rate = median((0..3).map(|_| dlv_round_trips(&busy, 2000)).collect());
        println!(
            "{:62} {:>10.0} /s",
            "  dlv: same Go loop, CreateBreakpoint + Command continue", rate
        );
    }

    let rate = median(
        (0..RUNS)
            .map(|_| round_trips(&busy, &["spin", "2"], go_work, None))
            .collect(),
    );
    println!(
        "{:62} {:>10.0} /s",
        "breakpoint round trips, Go, 8 busy threads (hits of all)", rate
    );

    // Memory: one 256 MiB region of a live process, then of a core of it.
    let dir = scratch("memory");
    let out = dir.join("out.txt");
    let mut process = Process::launch(&LaunchOptions {
        program: c.clone(),
        args: vec!["mem".into(), "256".into()],
        stdout: Some(out.clone()),
        ..LaunchOptions::default()
    })
    .expect("launch mem");
    process
        .set_breakpoint(c_symbols["done"])
        .expect("breakpoint");
    process.resume().expect("resume");
    process.wait().expect("wait");
    let text = std::fs::read_to_string(&out).expect("address line");
    let region =
        u64::from_str_radix(text.trim().trim_start_matches("0x"), 16).expect("hex address");
    let mut buf = vec![0u8; 256 << 20];
    // Touch the destination once so page faults on it are not counted.
    buf.iter_mut().for_each(|b| *b = 1);
    let live: Vec<f64> = (0..RUNS)
        .map(|_| {
            let start = Instant::now();
            process.read_memory(region, &mut buf).expect("read");
            buf.len() as f64 / start.elapsed().as_secs_f64() / 1e9
        })
        .collect();
    assert!(buf.iter().all(|&b| b == 0x5a), "region content");
    let best = live.iter().copied().fold(0.0, f64::max);
    println!(
        "{:62} {:>9.2} GB/s (best {best:.2})",
        "memory read, live, one 256 MiB region",
        median(live)
    );
    let core_path = dir.join("mem.core");
    let start = Instant::now();
    write_core(&core_path, &process, &mut |_, _| true).expect("write core");
    let dumped = start.elapsed();
    let size = std::fs::metadata(&core_path).map(|m| m.len()).unwrap_or(0);
    println!(
        "{:62} {:>9.2} s",
        format!("core writing, live process ({} MiB)", size >> 20),
        dumped.as_secs_f64()
    );
    let _ = process.kill();
    let core = CoreFile::open(&core_path, &c, false).expect("open written core");
    let from_core = median(
        (0..RUNS)
            .map(|_| {
                let start = Instant::now();
                core.read_memory(region, &mut buf).expect("core read");
                buf.len() as f64 / start.elapsed().as_secs_f64() / 1e9
            })
            .collect(),
    );
    assert!(buf.iter().all(|&b| b == 0x5a), "core region content");
    println!(
        "{:62} {:>9.2} GB/s",
        "memory read, core, one 256 MiB region", from_core
    );
    drop(core);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Single steps per second of the only thread of the C program.
fn single_steps(program: &Path, steps: u32) -> f64 {
    let mut process = launch_quiet(program, &["spin"]);
    let tid = process.pid();
    let start = Instant::now();
    for _ in 0..steps {
        process.step(tid).expect("step");
    }
    let rate = f64::from(steps) / start.elapsed().as_secs_f64();
    let _ = process.kill();
    rate
}

/// Makes a ~4 GiB kernel core of the Go fixture and times opening it.
fn big_core(busy: &Path) {
    let dir = scratch("bigcore");
    let status = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "ulimit -c unlimited; GOTRACEBACK=crash exec '{}' crash 4096",
            busy.display()
        ))
        .current_dir(&dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("run crash");
    let core = std::fs::read_dir(&dir)
        .expect("scratch")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("core"))
        });
    let Some(core) = core else {
        println!(
            "big core: the kernel wrote no core (exit {status}); core_pattern is {:?}",
            std::fs::read_to_string("/proc/sys/kernel/core_pattern")
                .unwrap_or_default()
                .trim()
        );
        return;
    };
    let size = std::fs::metadata(&core).map(|m| m.len()).unwrap_or(0);
    let example = ferret_testkit::target_dir().join("release/examples/open_core");
    let mut walls = Vec::new();
    let mut rss = Vec::new();
    for _ in 0..RUNS {
        let (wall, peak) = run_measured(Command::new(&example).arg(&core).arg(busy));
        walls.push(wall);
        rss.push(peak);
    }
    println!(
        "{:62} {:>9.1} ms, {:.1} MiB RSS",
        format!(
            "open a {:.1} GiB core (process spawn to exit)",
            size as f64 / (1u64 << 30) as f64
        ),
        median(walls) * 1e3,
        median(rss) / 1024.0
    );
    if Delve::path().exists() {
        let mut walls = Vec::new();
        let mut rss = Vec::new();
        for _ in 0..3 {
            let start = Instant::now();
            let mut dlv = Delve::core(busy, &core);
            dlv.call("State", json!({})).expect("dlv State");
            walls.push(start.elapsed().as_secs_f64());
            rss.push(dlv.peak_rss_kib() as f64);
        }
        println!(
            "{:62} {:>9.1} ms, {:.1} MiB RSS",
            "  dlv core: spawn until State answers",
            median(walls) * 1e3,
            median(rss) / 1024.0
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Runs a command to completion; returns (wall seconds, peak RSS KiB).
fn run_measured(command: &mut Command) -> (f64, f64) {
    let start = Instant::now();
    let child = command.stdout(Stdio::null()).spawn().expect("spawn");
    let pid = child.id() as i32;
    let mut status = 0;
    // SAFETY: rusage is plain data; wait4 fills it for our own child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let wall = start.elapsed().as_secs_f64();
    std::mem::forget(child);
    (wall, usage.ru_maxrss as f64)
}
