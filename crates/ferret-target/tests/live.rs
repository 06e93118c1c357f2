//! Live processes under ferret's ptrace layer: real programs (a C program
//! built with gcc and Go fixtures), real ptrace, and the programs' own
//! output, `nm` and `readelf` as oracles.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use ferret_target::linux::{
    Event, FirstStop, LaunchOptions, Process, StopReason, ThreadEvent, WatchKind,
};
use ferret_target::{Memory, TargetError, ThreadState};
use ferret_testkit::fixture::{build_c_program, build_fixture, BuildOptions};
use ferret_testkit::oracle;
use ferret_testkit::toolchain::GoToolchain;

fn c_program() -> (PathBuf, HashMap<String, u64>) {
    let exe = build_c_program("threads");
    let symbols = oracle::gnu_nm(&exe);
    (exe, symbols)
}

fn go_busy() -> PathBuf {
    build_fixture("busy", &GoToolchain::find("1.26"), &BuildOptions::debug())
}

fn scratch(name: &str) -> PathBuf {
    let dir = ferret_testkit::target_dir()
        .join("scratch")
        .join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn launch(program: &Path, args: &[&str]) -> Process {
    let options = LaunchOptions {
        program: program.to_owned(),
        args: args.iter().map(|s| s.to_string()).collect(),
        ..LaunchOptions::default()
    };
    Process::launch(&options).unwrap_or_else(|e| panic!("launch {}: {e}", program.display()))
}

/// Runs until the process exits, asserting it stops for nothing else.
fn run_to_exit(process: &mut Process) -> i32 {
    process.resume().unwrap();
    match process.wait().unwrap() {
        Event::Exited { status, .. } => status,
        other => panic!("expected exit, got {other:?}"),
    }
}

/// The one-letter state of every task of `pid` from /proc.
fn task_states(pid: i32) -> Vec<char> {
    std::fs::read_dir(format!("/proc/{pid}/task"))
        .unwrap()
        .filter_map(|e| {
            let stat = std::fs::read_to_string(e.ok()?.path().join("stat")).ok()?;
            stat[stat.rfind(')')? + 2..].chars().next()
        })
        .collect()
}

/// Launches `threads hits PER_THREAD` (8 threads calling `hit` that many
/// times each, then `done`) with its output in a scratch directory named
/// `name`; returns it with the addresses of `hit` and `done`.
fn launch_hits(name: &str, per_thread: usize) -> (Process, u64, u64, PathBuf) {
    let (exe, symbols) = c_program();
    let dir = scratch(name);
    let options = LaunchOptions {
        program: exe,
        args: vec!["hits".into(), per_thread.to_string()],
        stdout: Some(dir.join("out.txt")),
        ..Default::default()
    };
    let process = Process::launch(&options).unwrap();
    (process, symbols["hit"], symbols["done"], dir)
}

/// The sum `threads hits` printed says each of the 8 threads' calls of
/// `hit` ran exactly once.
fn assert_every_call_ran_once(dir: &Path, per_thread: usize) {
    let expected: i64 = 8 * (0..per_thread as i64).sum::<i64>();
    assert_eq!(
        std::fs::read_to_string(dir.join("out.txt")).unwrap(),
        format!("counter {expected}\n")
    );
}

fn pid_exists(pid: i32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

#[test]
fn launch_stops_at_the_first_instruction() {
    let busy = go_busy();
    let process = launch(&busy, &["spin", "0"]);
    let regs = process.registers(process.pid()).unwrap();
    // A static Go binary: the first instruction is the ELF entry point.
    assert_eq!(regs.pc(), oracle::elf_entry(&busy));
    assert_eq!(process.threads(), vec![process.pid()]);
    let entry = process
        .auxv()
        .unwrap()
        .into_iter()
        .find(|&(k, _)| k == libc::AT_ENTRY)
        .map(|(_, v)| v);
    assert_eq!(entry, Some(regs.pc()));
}

#[test]
fn launch_passes_args_env_cwd_and_redirects() {
    let (exe, _) = c_program();
    let dir = scratch("launch-redirects");
    std::fs::write(dir.join("in.txt"), "from stdin\n").unwrap();
    let options = LaunchOptions {
        program: exe,
        args: vec!["env".into(), "one".into(), "two words".into()],
        env: Some(vec!["FERRET_TEST=hello".into()]),
        cwd: Some(dir.clone()),
        stdin: Some(dir.join("in.txt")),
        stdout: Some(dir.join("out.txt")),
        stderr: Some(dir.join("err.txt")),
    };
    let mut process = Process::launch(&options).unwrap();
    assert_eq!(run_to_exit(&mut process), 0);
    let out = std::fs::read_to_string(dir.join("out.txt")).unwrap();
    assert_eq!(
        out,
        format!(
            "args one two words\nenv hello\ncwd {}\nstdin from stdin\n",
            dir.canonicalize().unwrap().display()
        )
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("err.txt")).unwrap(),
        "to stderr\n"
    );
}

#[test]
fn bad_launches_are_clear_errors_and_leave_nothing_behind() {
    let (exe, _) = c_program();
    let dir = scratch("bad-launch");
    let text = dir.join("not-exec");
    std::fs::write(&text, "just text").unwrap();
    let cases: Vec<(LaunchOptions, &str)> = vec![
        (
            LaunchOptions {
                program: dir.join("missing"),
                ..Default::default()
            },
            "No such file",
        ),
        (
            LaunchOptions {
                program: dir.clone(),
                ..Default::default()
            },
            "directory",
        ),
        (
            LaunchOptions {
                program: text.clone(),
                ..Default::default()
            },
            "execute permission",
        ),
        (
            LaunchOptions {
                program: exe.clone(),
                stdin: Some(dir.join("no-input")),
                ..Default::default()
            },
            "no-input",
        ),
        (
            LaunchOptions {
                program: exe.clone(),
                cwd: Some(dir.join("no-dir")),
                ..Default::default()
            },
            "working directory",
        ),
    ];
    for (options, needle) in cases {
        let err = Process::launch(&options).expect_err("launch must fail");
        assert!(
            matches!(
                err,
                TargetError::NotExecutable { .. } | TargetError::Redirect { .. }
            ),
            "{err}"
        );
        assert!(
            err.to_string().contains(needle),
            "{err} should mention {needle}"
        );
    }
    // An executable bit on a file that is not a program: execve fails.
    let script = dir.join("garbage");
    std::fs::write(&script, [0u8, 1, 2, 3]).unwrap();
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let err = Process::launch(&LaunchOptions {
        program: script,
        ..Default::default()
    })
    .unwrap_err();
    assert!(matches!(err, TargetError::NotExecutable { .. }), "{err}");
    // No child is left behind (stopped, traced or zombie).
    let leftover = nix::sys::wait::waitpid(
        None,
        Some(
            nix::sys::wait::WaitPidFlag::WNOHANG
                | nix::sys::wait::WaitPidFlag::__WALL
                | nix::sys::wait::WaitPidFlag::__WNOTHREAD,
        ),
    );
    assert_eq!(leftover, Err(nix::errno::Errno::ECHILD));
}

#[test]
fn a_breakpoint_hit_by_8_threads_is_reported_for_every_hit() {
    let per_thread = 300;
    let (mut process, hit, done, dir) = launch_hits("bp-8-threads", per_thread);
    let mut original = [0u8; 4];
    process.read_memory(hit, &mut original).unwrap();
    process.set_breakpoint(hit).unwrap();
    process.set_breakpoint(done).unwrap();
    // Reads never show the int3.
    let mut seen = [0u8; 4];
    process.read_memory(hit, &mut seen).unwrap();
    assert_eq!(seen, original);

    let mut hits = 0;
    let mut hitting_threads = std::collections::BTreeSet::new();
    let mut max_simultaneous = 0;
    loop {
        process.resume().unwrap();
        match process.wait().unwrap() {
            Event::Stopped { stops, .. } => {
                let at_hit: Vec<_> = stops
                    .iter()
                    .filter(|s| s.reason == StopReason::Breakpoint { addr: hit })
                    .collect();
                max_simultaneous = max_simultaneous.max(at_hit.len());
                for stop in &at_hit {
                    assert_eq!(
                        process.registers(stop.tid).unwrap().pc(),
                        hit,
                        "thread {} pc",
                        stop.tid
                    );
                    hitting_threads.insert(stop.tid);
                }
                hits += at_hit.len();
                if stops
                    .iter()
                    .any(|s| s.reason == StopReason::Breakpoint { addr: done })
                {
                    break;
                }
                for stop in &stops {
                    assert!(
                        matches!(stop.reason, StopReason::Breakpoint { .. }),
                        "unexpected stop {stop:?}"
                    );
                }
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(hits, 8 * per_thread, "every hit reported, none lost");
    assert_eq!(hitting_threads.len(), 8);
    eprintln!("most threads reported in one stop: {max_simultaneous}");
    process.clear_breakpoint(hit).unwrap();
    assert_eq!(run_to_exit(&mut process), 0);
    // The program's own sum says every call ran exactly once.
    assert_every_call_ran_once(&dir, per_thread);
}

#[test]
fn single_step_moves_one_thread_one_instruction() {
    let (exe, symbols) = c_program();
    let hit = symbols["hit"];
    let mut process = launch(&exe, &["loop", "3"]);
    process.set_breakpoint(hit).unwrap();
    process.resume().unwrap();
    let Event::Stopped { stops, .. } = process.wait().unwrap() else {
        panic!("no stop")
    };
    let tid = stops[0].tid;
    assert_eq!(process.registers(tid).unwrap().pc(), hit);
    // objdump says what the next instruction address is.
    let out = std::process::Command::new("objdump")
        .args(["-d", "--no-show-raw-insn"])
        .arg(format!("--start-address={hit:#x}"))
        .arg(format!("--stop-address={:#x}", hit + 16))
        .arg(&exe)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let addresses: Vec<u64> = text
        .lines()
        .filter_map(|l| u64::from_str_radix(l.trim().split(':').next()?.trim(), 16).ok())
        .collect();
    assert!(addresses.len() >= 2, "objdump output: {text}");
    let Event::Stopped { stops, .. } = process.step(tid).unwrap() else {
        panic!("no stop")
    };
    assert_eq!(stops[0].reason, StopReason::StepDone);
    assert_eq!(process.registers(tid).unwrap().pc(), addresses[1]);
    // The breakpoint is back in place: the next call stops again.
    process.resume().unwrap();
    let Event::Stopped { stops, .. } = process.wait().unwrap() else {
        panic!("no stop")
    };
    assert_eq!(stops[0].reason, StopReason::Breakpoint { addr: hit });
    process.kill().unwrap();
}

#[test]
fn halt_stops_a_process_running_flat_out() {
    let busy = go_busy();
    let mut process = launch(&busy, &["spin", "60"]);
    let pid = process.pid();
    for round in 0..3 {
        process.resume().unwrap();
        let handle = process.halt_handle();
        let asker = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(200));
            handle.halt();
        });
        let started = Instant::now();
        let event = process.wait().unwrap();
        asker.join().unwrap();
        let Event::Stopped { stops, .. } = event else {
            panic!("round {round}: {event:?}")
        };
        assert!(
            stops.iter().any(|s| s.reason == StopReason::Halted),
            "round {round}: {stops:?}"
        );
        assert!(started.elapsed() < Duration::from_secs(10));
        // Every thread is in a tracing stop.
        let states = task_states(pid);
        assert!(
            states.len() >= 8,
            "expected the busy threads, got {states:?}"
        );
        assert!(
            states.iter().all(|&s| s == 't'),
            "round {round}: task states {states:?}"
        );
        assert_eq!(process.threads().len(), states.len());
    }
    process.kill().unwrap();
    assert!(!pid_exists(pid));
}

#[test]
fn go_runtime_signals_pass_through() {
    let busy = go_busy();
    let dir = scratch("signals");
    let options = LaunchOptions {
        program: busy,
        args: vec!["signals".into()],
        stdout: Some(dir.join("out.txt")),
        ..Default::default()
    };
    let mut process = Process::launch(&options).unwrap();
    assert_eq!(run_to_exit(&mut process), 0);
    assert_eq!(
        std::fs::read_to_string(dir.join("out.txt")).unwrap(),
        "ok\n"
    );
}

#[test]
fn kill_leaves_no_zombie() {
    let (exe, _) = c_program();
    let mut process = launch(&exe, &["spin"]);
    let pid = process.pid();
    process.resume().unwrap();
    std::thread::sleep(Duration::from_millis(50));
    process.kill().unwrap();
    assert!(!pid_exists(pid), "pid {pid} still exists (zombie?)");
}

#[test]
fn dropping_a_launched_process_kills_it() {
    let (exe, _) = c_program();
    let process = launch(&exe, &["spin"]);
    let pid = process.pid();
    drop(process);
    assert!(!pid_exists(pid));
}

#[test]
fn threads_created_and_exiting_are_tracked() {
    let (exe, symbols) = c_program();
    let mut process = launch(&exe, &["churn", "100"]);
    process.set_breakpoint(symbols["done"]).unwrap();
    process.resume().unwrap();
    let Event::Stopped {
        stops,
        thread_events,
    } = process.wait().unwrap()
    else {
        panic!("no stop")
    };
    assert_eq!(
        stops[0].reason,
        StopReason::Breakpoint {
            addr: symbols["done"]
        }
    );
    let created = thread_events
        .iter()
        .filter(|e| matches!(e, ThreadEvent::Created(_)))
        .count();
    let exited = thread_events
        .iter()
        .filter(|e| matches!(e, ThreadEvent::Exited(_)))
        .count();
    assert_eq!((created, exited), (100, 100));
    assert_eq!(process.threads(), vec![process.pid()]);
    assert_eq!(run_to_exit(&mut process), 0);
}

#[test]
fn watchpoints_fire_on_every_thread_including_new_ones() {
    let (exe, symbols) = c_program();
    let watched = symbols["watched"];
    let dir = scratch("watch");
    let options = LaunchOptions {
        program: exe,
        args: vec!["watch".into()],
        stdout: Some(dir.join("out.txt")),
        ..Default::default()
    };
    let mut process = Process::launch(&options).unwrap();
    let pid = process.pid();
    let slot = process
        .set_watchpoint(watched, 8, WatchKind::Write)
        .unwrap();
    let mut writers = Vec::new();
    for expected in [1i64, 42] {
        process.resume().unwrap();
        let Event::Stopped { stops, .. } = process.wait().unwrap() else {
            panic!("no stop")
        };
        assert_eq!(
            stops[0].reason,
            StopReason::Watchpoint {
                slot,
                addr: watched
            }
        );
        let mut value = [0u8; 8];
        process.read_memory(watched, &mut value).unwrap();
        assert_eq!(i64::from_le_bytes(value), expected);
        writers.push(stops[0].tid);
    }
    assert_eq!(writers[0], pid, "main thread wrote first");
    assert_ne!(writers[1], pid, "the new thread's write was caught too");
    process.clear_watchpoint(slot).unwrap();
    assert_eq!(run_to_exit(&mut process), 0);
    assert_eq!(
        std::fs::read_to_string(dir.join("out.txt")).unwrap(),
        "watched 42\n"
    );

    let mut process = launch(&build_c_program("threads"), &["watch"]);
    assert!(
        process
            .set_watchpoint(watched + 1, 8, WatchKind::Write)
            .is_err(),
        "misaligned"
    );
    assert!(
        process
            .set_watchpoint(watched, 3, WatchKind::Write)
            .is_err(),
        "bad size"
    );
    for _ in 0..4 {
        process
            .set_watchpoint(watched, 8, WatchKind::ReadWrite)
            .unwrap();
    }
    assert!(
        process
            .set_watchpoint(watched, 8, WatchKind::Write)
            .is_err(),
        "only 4 slots"
    );
}

#[test]
fn registers_and_vector_state_read_and_write() {
    let (exe, symbols) = c_program();
    let with_xmm = symbols["with_xmm"];
    let mut process = launch(&exe, &["regs"]);
    process.set_breakpoint(with_xmm).unwrap();
    process.resume().unwrap();
    let Event::Stopped { stops, .. } = process.wait().unwrap() else {
        panic!("no stop")
    };
    let tid = stops[0].tid;
    // The System V ABI passes the double argument 1.5 in xmm0.
    let fp = process.fp_registers(tid).unwrap();
    assert_eq!(&fp.xmm(0).unwrap()[..8], &1.5f64.to_le_bytes());
    assert!(fp.mxcsr().is_some());
    let mut regs = process.registers(tid).unwrap();
    assert_ne!(regs.fs_base, 0, "threads have a TLS base");
    regs.r12 = 0x1234_5678;
    process.set_registers(tid, &regs).unwrap();
    assert_eq!(process.registers(tid).unwrap().r12, 0x1234_5678);
    process.kill().unwrap();
}

#[test]
fn writes_reach_text_and_respect_breakpoints() {
    let (exe, symbols) = c_program();
    let hit = symbols["hit"];
    let mut process = launch(&exe, &["loop", "1"]);
    let mut original = [0u8; 2];
    process.read_memory(hit, &mut original).unwrap();
    process.set_breakpoint(hit).unwrap();
    // Writing over a breakpoint changes what is restored, not the int3.
    process.write_memory(hit, &[0x90, 0x90]).unwrap();
    let mut seen = [0u8; 2];
    process.read_memory(hit, &mut seen).unwrap();
    assert_eq!(seen, [0x90, 0x90]);
    let raw = std::fs::read(format!("/proc/{}/mem", process.pid())).ok();
    drop(raw);
    process.write_memory(hit, &original).unwrap();
    process.clear_breakpoint(hit).unwrap();
    process.read_memory(hit, &mut seen).unwrap();
    assert_eq!(seen, original);
    assert!(matches!(
        process.clear_breakpoint(hit),
        Err(TargetError::Breakpoint { .. })
    ));
    assert!(
        process.read_memory(0x10, &mut seen).is_err(),
        "unmapped address"
    );
}

/// Starts `program args` outside this process's children (as an attach
/// target would be) and returns its pid.
fn spawn_detached(program: &Path, args: &[&str]) -> i32 {
    let mut command = format!("'{}'", program.display());
    for a in args {
        command.push_str(&format!(" '{a}'"));
    }
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("{command} >/dev/null 2>&1 & echo $!"))
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
}

fn line_count(path: &Path) -> usize {
    std::fs::read_to_string(path)
        .map(|s| s.lines().count())
        .unwrap_or(0)
}

fn wait_for_lines(path: &Path, n: usize) {
    let start = Instant::now();
    while line_count(path) < n {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "{} never reached {n} lines",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn attach_then_detach_leaves_the_program_running_untouched() {
    for (label, program, beat) in [
        ("c", build_c_program("threads"), c_program().1["beat"]),
        ("go", go_busy(), {
            let nm = oracle::nm(&GoToolchain::find("1.26"), &go_busy());
            nm.iter().find(|s| s.name == "main.beat").unwrap().address
        }),
    ] {
        let dir = scratch(&format!("attach-{label}"));
        let log = dir.join("beats.txt");
        let pid = spawn_detached(&program, &["heartbeat", log.to_str().unwrap()]);
        wait_for_lines(&log, 3);

        let mut process = Process::attach(pid).unwrap_or_else(|e| panic!("{label}: attach: {e}"));
        let tasks = std::fs::read_dir(format!("/proc/{pid}/task"))
            .unwrap()
            .count();
        assert_eq!(
            process.threads().len(),
            tasks,
            "{label}: every thread attached"
        );
        assert!(
            task_states(pid).iter().all(|&s| s == 't'),
            "{label}: attached and stopped"
        );
        let mut original = [0u8];
        process.read_memory(beat, &mut original).unwrap();
        process.set_breakpoint(beat).unwrap();
        process.resume().unwrap();
        let Event::Stopped { stops, .. } = process.wait().unwrap() else {
            panic!("{label}: no stop")
        };
        assert_eq!(
            stops[0].reason,
            StopReason::Breakpoint { addr: beat },
            "{label}"
        );

        // Attaching twice is refused while we hold it.
        let second = std::thread::spawn(move || Process::attach(pid).map(|p| p.pid()));
        assert!(
            matches!(
                second.join().unwrap(),
                Err(TargetError::AlreadyTraced { .. })
            ),
            "{label}"
        );

        process.detach().unwrap();
        let before = line_count(&log);
        wait_for_lines(&log, before + 5);
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
        assert!(status.contains("TracerPid:\t0"), "{label}: still traced");
        let mut now = [0u8];
        std::fs::File::open(format!("/proc/{pid}/mem"))
            .and_then(|f| std::os::unix::fs::FileExt::read_exact_at(&f, &mut now, beat))
            .unwrap();
        assert_eq!(now, original, "{label}: breakpoint byte left behind");
        nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(pid),
            nix::sys::signal::Signal::SIGKILL,
        )
        .unwrap();
    }
}

#[test]
fn attach_refuses_what_cannot_be_traced() {
    // A pid above pid_max exists nowhere.
    assert!(matches!(
        Process::attach(0x3fff_ffff),
        Err(TargetError::NoSuchProcess { .. })
    ));
    assert!(matches!(
        Process::attach(-5),
        Err(TargetError::NoSuchProcess { .. })
    ));
    // kthreadd (pid 2) is a kernel thread wherever a kernel runs one.
    if let Ok(stat) = std::fs::read_to_string("/proc/2/stat") {
        if stat.contains("(kthreadd)") {
            assert!(matches!(
                Process::attach(2),
                Err(TargetError::KernelThread { .. })
            ));
        }
    }
    // Another user's process: run the attach example as nobody.
    let example = ferret_testkit::target_dir().join("release/examples/attach");
    let (exe, _) = c_program();
    let pid = spawn_detached(&exe, &["spin"]);
    let out = std::process::Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(&example)
        .arg(pid.to_string())
        .output()
        .expect("run setpriv");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("not permitted to trace process"),
        "{stderr}"
    );
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    assert!(status.contains("TracerPid:\t0"));
    assert!(task_states(pid).iter().all(|&s| s == 'R' || s == 'S'));
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
}

/// `read_each` gives what `read_memory` gives one by one, over more reads
/// than one system call takes: the same bytes (breakpoints hidden), and an
/// error exactly for the unreadable ones, the others unaffected.
#[test]
fn batched_reads_match_single_reads() {
    let (exe, symbols) = c_program();
    let hit = symbols["hit"];
    let counter = symbols["counter"];
    let mut process = launch(&exe, &["loop", "1"]);
    process.set_breakpoint(hit).unwrap();
    let addresses: Vec<u64> = (0..3000u64)
        .map(|i| match i % 5 {
            0 => hit,
            1 => counter,
            2 => 0x10 + i, // unmapped
            3 => hit + i % 16,
            _ => counter - i % 8,
        })
        .collect();
    let mut buffers: Vec<Vec<u8>> = addresses.iter().map(|_| vec![0u8; 8]).collect();
    let mut reads: Vec<(u64, &mut [u8])> = addresses
        .iter()
        .copied()
        .zip(buffers.iter_mut().map(|b| b.as_mut_slice()))
        .collect();
    let results = process.read_each(&mut reads);
    assert_eq!(results.len(), addresses.len());
    for (i, (&addr, result)) in addresses.iter().zip(&results).enumerate() {
        let mut alone = [0u8; 8];
        let single = process.read_memory(addr, &mut alone);
        assert_eq!(result.is_ok(), single.is_ok(), "read {i} at {addr:#x}");
        if single.is_ok() {
            assert_eq!(buffers[i], alone, "read {i} at {addr:#x}");
        }
    }
    assert_ne!(buffers[0][0], 0xcc, "the breakpoint shows through");
    process.kill().unwrap();
}

/// Every instruction of the `emulate` program's block (moves, lea, push,
/// call, jmp, nops and flag-setting arithmetic, on changing values) is
/// emulated as the CPU runs it: with a breakpoint on each, the emulation's
/// registers and store must equal the registers and memory after a real
/// single step of the same instruction. objdump lists the instructions.
#[test]
fn emulated_instructions_do_what_the_cpu_does() {
    use ferret_target::arch::emulate::Emulation;
    let exe = build_c_program("emulate");
    let symbols = oracle::gnu_nm(&exe);
    let (start, end) = (symbols["emu_start"], symbols["emu_end"]);
    let out = std::process::Command::new("objdump")
        .args(["-d", "--no-show-raw-insn"])
        .arg(format!("--start-address={start:#x}"))
        .arg(format!("--stop-address={end:#x}"))
        .arg(&exe)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    // address -> mnemonic
    let instructions: HashMap<u64, String> = text
        .lines()
        .filter_map(|l| {
            let (addr, rest) = l.trim().split_once(':')?;
            let addr = u64::from_str_radix(addr.trim(), 16).ok()?;
            Some((addr, rest.split_whitespace().next()?.to_owned()))
        })
        .collect();
    assert!(instructions.len() > 40, "objdump output: {text}");
    let rounds = 6;
    let mut process = launch(&exe, &[&rounds.to_string()]);
    for &addr in instructions.keys() {
        process.set_breakpoint(addr).unwrap();
    }
    let mut emulated = 0;
    let mut not_emulated = std::collections::BTreeSet::new();
    // A step ending on the next breakpoint is the next stop (resuming
    // would step over it unseen).
    let mut next: Option<(i32, u64)> = None;
    loop {
        let stop = match next.take() {
            Some(stop) => stop,
            None => {
                process.resume().unwrap();
                match process.wait().unwrap() {
                    Event::Stopped { stops, .. } => match stops[0].reason {
                        StopReason::Breakpoint { addr } => (stops[0].tid, addr),
                        other => panic!("unexpected stop {other:?}"),
                    },
                    Event::Exited { status, .. } => {
                        assert_eq!(status, 0);
                        break;
                    }
                    other => panic!("unexpected {other:?}"),
                }
            }
        };
        let (tid, addr) = stop;
        let mnemonic = &instructions[&addr];
        let before = process.registers(tid).unwrap();
        let mut bytes = [0u8; 15];
        process.read_memory(addr, &mut bytes).unwrap();
        let expected = Emulation::decode(addr, &bytes)
            .and_then(|e| e.apply(&before, |at, buf| process.read_memory(at, buf).is_ok()));
        let Event::Stopped { .. } = process.step(tid).unwrap() else {
            panic!("the step at {addr:#x} ended the process")
        };
        let after = process.registers(tid).unwrap();
        if instructions.contains_key(&after.pc()) {
            next = Some((tid, after.pc()));
        }
        let Some(expected) = expected else {
            not_emulated.insert(mnemonic.clone());
            continue;
        };
        emulated += 1;
        // The logical instructions leave AF undefined.
        let defined = if ["and", "or", "xor", "test"]
            .iter()
            .any(|m| mnemonic.starts_with(m))
        {
            !0x10
        } else {
            !0
        };
        let mut want = expected.registers;
        want.eflags &= defined;
        let mut got = after;
        got.eflags &= defined;
        assert_eq!(got, want, "registers after {mnemonic} at {addr:#x}");
        if let Some((at, stored)) = expected.store {
            let mut now = vec![0u8; stored.len()];
            process.read_memory(at, &mut now).unwrap();
            assert_eq!(now, stored, "memory after {mnemonic} at {addr:#x}");
        }
    }
    // Each round stops at every instruction; only `pop` is not emulated.
    assert_eq!(
        not_emulated.into_iter().collect::<Vec<_>>(),
        vec!["pop".to_owned()]
    );
    assert_eq!(emulated, rounds * (instructions.len() - 1));
}

/// Threads let past a breakpoint by emulation, never stopping the
/// others: 8 threads call `hit` 300 times each with an int3 on it; every
/// hit arrives through `wait_first` and is passed; the program's own
/// total says every call ran exactly once, and the breakpoint is still
/// there afterwards.
#[test]
fn breakpoints_passed_by_emulation_lose_no_call() {
    let per_thread = 300;
    let (mut process, hit, done, dir) = launch_hits("pass-8-threads", per_thread);
    process.set_breakpoint(hit).unwrap();
    process.set_breakpoint(done).unwrap();
    assert!(
        process.can_pass_breakpoint(hit),
        "hit() starts with push %rbp"
    );
    process.resume().unwrap();
    let mut passed = 0;
    loop {
        match process.wait_first().unwrap() {
            FirstStop::Breakpoint { tid, addr } if addr == hit => {
                assert_eq!(process.registers(tid).unwrap().pc(), hit);
                assert!(process.pass_breakpoint(tid, addr).unwrap());
                passed += 1;
            }
            FirstStop::Breakpoint { tid, addr } => {
                assert_eq!(addr, done);
                process.stop_others(tid, addr).unwrap();
                break;
            }
            FirstStop::Event(other) => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(passed, 8 * per_thread, "every hit seen once");
    assert_eq!(process.breakpoints(), {
        let mut both = vec![hit, done];
        both.sort_unstable();
        both
    });
    process.clear_breakpoint(done).unwrap();
    process.clear_breakpoint(hit).unwrap();
    assert_eq!(run_to_exit(&mut process), 0);
    assert_every_call_ran_once(&dir, per_thread);
}

/// An emulated store the program could not make itself (to address 0)
/// is not made: the thread is not passed and nothing changes; resumed, the
/// CPU faults as it would have without ferret.
#[test]
fn a_store_that_would_fault_is_left_to_the_cpu() {
    let exe = build_c_program("emulate");
    let fault = oracle::gnu_nm(&exe)["emu_fault"];
    let mut process = launch(&exe, &["fault"]);
    process.set_breakpoint(fault).unwrap();
    process.resume().unwrap();
    let FirstStop::Breakpoint { tid, addr } = process.wait_first().unwrap() else {
        panic!("no stop at emu_fault")
    };
    assert_eq!(addr, fault);
    let before = process.registers(tid).unwrap();
    assert!(process.can_pass_breakpoint(fault), "a plain store");
    assert!(!process.pass_breakpoint(tid, addr).unwrap());
    assert_eq!(process.registers(tid).unwrap(), before);
    process.stop_others(tid, addr).unwrap();
    process.resume().unwrap();
    match process.wait().unwrap() {
        Event::Killed { signal, .. } => assert_eq!(signal, nix::sys::signal::Signal::SIGSEGV),
        other => panic!("expected the fault, got {other:?}"),
    }
}
