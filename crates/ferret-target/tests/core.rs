//! Core files, read and written, checked against real cores and real tools.
//!
//! The kernel writes the cores (the `crash` fixture aborting under
//! `GOTRACEBACK=crash`, a C program calling `abort()`), gcore writes one of a
//! live process, and `write_core` writes them again. gdb and dlv are the
//! oracles for threads, registers and memory; the programs print their own
//! marker values and addresses.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::Instant;

use ferret_target::arch::amd64::REGISTER_NAMES;
use ferret_target::core::{write_core, CoreFile, CoreSource};
use ferret_target::{
    FpRegisters, Mapping, Memory, Pid, Registers, Result, TargetError, ThreadState, Tid,
};
use ferret_testkit::fixture::{build_fixture, BuildOptions};
use ferret_testkit::toolchain::GoToolchain;

// ---------------------------------------------------------------------------
// Scratch directories and programs

/// A fresh, empty directory for one test, under the target directory.
fn scratch(name: &str) -> PathBuf {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let base = ferret_testkit::target_dir().join("core-tests");
    // Directories of earlier runs (whose process is gone) are removed.
    static CLEANED: OnceLock<()> = OnceLock::new();
    CLEANED.get_or_init(|| {
        for entry in std::fs::read_dir(&base).into_iter().flatten().flatten() {
            let pid = entry
                .file_name()
                .to_string_lossy()
                .split('-')
                .next()
                .unwrap_or("")
                .to_owned();
            if pid.parse::<u32>().is_ok_and(|p| {
                p != std::process::id() && !Path::new(&format!("/proc/{p}")).exists()
            }) {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
    });
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    let dir = base.join(format!("{}-{name}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create scratch directory");
    dir
}

/// The `crash` fixture, built once.
fn crash_exe() -> PathBuf {
    static EXE: OnceLock<PathBuf> = OnceLock::new();
    EXE.get_or_init(|| build_fixture("crash", &GoToolchain::find("1.26"), &BuildOptions::debug()))
        .clone()
}

/// Runs `exe args` in `dir` with core dumps enabled and returns the core
/// the kernel wrote and the program's stdout. Fails loudly when no core
/// appears.
fn kernel_core(exe: &Path, args: &[&str], dir: &Path) -> (PathBuf, String) {
    let out = Command::new("sh")
        .arg("-c")
        .arg("ulimit -c unlimited; exec \"$0\" \"$@\"")
        .arg(exe)
        .args(args)
        .current_dir(dir)
        .env("GOTRACEBACK", "crash")
        .output()
        .expect("run the program");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let core = std::fs::read_dir(dir)
        .expect("read scratch directory")
        .flatten()
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .is_some_and(|n| n == "core" || n.to_string_lossy().starts_with("core."))
        });
    match core {
        Some(core) => (core, stdout),
        None => {
            let pattern =
                std::fs::read_to_string("/proc/sys/kernel/core_pattern").unwrap_or_default();
            let limit = Command::new("sh")
                .arg("-c")
                .arg("ulimit -c unlimited; ulimit -c")
                .output();
            let limit = limit
                .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
                .unwrap_or_default();
            panic!(
                "the kernel wrote no core for {} in {} (exit status {}); core_pattern is {:?}, ulimit -c after \
                 raising it is {limit:?}\nstderr:\n{}",
                exe.display(),
                dir.display(),
                out.status,
                pattern.trim(),
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
}

/// `name=0xVALUE at 0xADDR` in a program's output: (address, value).
fn printed(stdout: &str, name: &str) -> (u64, u64) {
    let prefix = format!("{name}=");
    let line = stdout
        .lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .unwrap_or_else(|| panic!("the program printed no {name}: {stdout}"));
    let (value, addr) = line.split_once(" at ").expect("`value at address`");
    (hex(addr), hex(value))
}

/// Parses `0x…` (or bare) hexadecimal.
fn hex(s: &str) -> u64 {
    u64::from_str_radix(s.trim().trim_start_matches("0x"), 16)
        .unwrap_or_else(|_| panic!("not hex: {s:?}"))
}

/// The kernel core of the Go fixture, made once and shared.
struct GoCrash {
    /// The fixture.
    exe: PathBuf,
    /// The core.
    core: PathBuf,
    /// (address, value) of the marker in the data segment.
    marker: (u64, u64),
    /// (address, value) of the marker on the heap.
    heap_marker: (u64, u64),
    /// The process id the program printed.
    pid: Pid,
}

fn go_crash() -> &'static GoCrash {
    static CRASH: OnceLock<GoCrash> = OnceLock::new();
    CRASH.get_or_init(|| {
        let exe = crash_exe();
        let dir = scratch("go-crash");
        let (core, stdout) = kernel_core(&exe, &[], &dir);
        let pid = stdout
            .lines()
            .find_map(|l| l.strip_prefix("pid="))
            .expect("pid printed")
            .trim()
            .parse()
            .unwrap();
        GoCrash {
            exe,
            core,
            marker: printed(&stdout, "marker"),
            heap_marker: printed(&stdout, "heapmarker"),
            pid,
        }
    })
}

/// C source of the non-Go program: two idle threads, then `abort()` (or,
/// given an argument, a write to address 0x18).
/// `BIG` adds a large read-only array to change the layout.
const C_PROGRAM: &str = r#"
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

volatile uint64_t marker = 0xfeedfacecafebeefULL;
#ifdef BIG
static const char big[1 << 16] = {1};
#endif

static void *idle(void *arg) {
    (void)arg;
    for (;;) pause();
    return NULL;
}

int main(int argc, char **argv) {
    (void)argv;
    pthread_t threads[2];
    for (int i = 0; i < 2; i++) pthread_create(&threads[i], NULL, idle, NULL);
#ifdef BIG
    printf("big=%d\n", big[argc]);
#endif
    printf("marker=%#llx at %p\n", (unsigned long long)marker, (void *)&marker);
    fflush(stdout);
    if (argc > 1) *(volatile int *)(uintptr_t)0x18 = 1; /* SIGSEGV at 0x18 */
    abort();
}
"#;

/// Compiles [`C_PROGRAM`] in `dir` as `name` with extra gcc flags.
fn compile_c(dir: &Path, name: &str, flags: &[&str]) -> PathBuf {
    let source = dir.join(format!("{name}.c"));
    std::fs::write(&source, C_PROGRAM).expect("write C source");
    let exe = dir.join(name);
    let out = Command::new("gcc")
        .args(["-g", "-O0", "-pthread", "-o"])
        .arg(&exe)
        .arg(&source)
        .args(flags)
        .output()
        .expect("run gcc");
    assert!(
        out.status.success(),
        "gcc failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    exe
}

/// A live process killed when dropped.
struct Live(Child);

impl Drop for Live {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

// ---------------------------------------------------------------------------
// Oracles

/// What gdb says about a core.
#[derive(Debug)]
struct GdbView {
    /// (is current, LWP) in gdb's order.
    threads: Vec<(bool, Tid)>,
    /// Registers by LWP, as `info registers` prints them.
    registers: HashMap<Tid, HashMap<String, u64>>,
    /// `x/gx` of each address asked for (`None`: gdb could not read it).
    words: Vec<Option<u64>>,
    /// xmm0-15 of the current thread as (low, high) quadwords, when shown.
    xmm: Vec<Option<(u64, u64)>>,
    /// The whole output, for failure messages.
    text: String,
}

/// Runs `gdb -batch` on `exe` and `core` and parses what it prints.
fn gdb(exe: &Path, core: &Path, addrs: &[u64]) -> GdbView {
    let mut cmd = Command::new("timeout");
    cmd.args([
        "60",
        "gdb",
        "-nx",
        "-batch",
        "-iex",
        "set auto-load python-scripts off",
    ]);
    for (i, addr) in addrs.iter().enumerate() {
        cmd.args([
            "-ex",
            &format!("echo @@word {i}\\n"),
            "-ex",
            &format!("x/gx {addr:#x}"),
        ]);
    }
    for i in 0..16 {
        cmd.args([
            "-ex",
            &format!("echo @@xmm {i}\\n"),
            "-ex",
            &format!("p/x $xmm{i}.v2_int64"),
        ]);
    }
    cmd.args(["-ex", "echo @@threads\\n", "-ex", "info threads"]);
    cmd.args([
        "-ex",
        "echo @@registers\\n",
        "-ex",
        "thread apply all info registers",
    ]);
    let out = cmd
        .arg(exe)
        .arg(core)
        .stdin(Stdio::null())
        .output()
        .expect("run gdb");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();

    let mut view = GdbView {
        threads: Vec::new(),
        registers: HashMap::new(),
        words: vec![None; addrs.len()],
        xmm: vec![None; 16],
        text: text.clone(),
    };
    let mut section = "";
    let mut index = 0usize;
    let mut lwp: Option<Tid> = None;
    for line in text.lines() {
        if let Some(marker) = line.strip_prefix("@@") {
            let (name, arg) = marker.split_once(' ').unwrap_or((marker, "0"));
            section = match name {
                "word" => "word",
                "xmm" => "xmm",
                "threads" => "threads",
                _ => "registers",
            };
            index = arg.parse().unwrap_or(0);
            continue;
        }
        let lwp_in = |l: &str| {
            l.split("LWP ")
                .nth(1)
                .and_then(|r| r.split(|c: char| !c.is_ascii_digit()).next()?.parse().ok())
        };
        match section {
            "word" => {
                if let Some((_, value)) = line.split_once(":\t") {
                    view.words[index] =
                        u64::from_str_radix(value.trim().trim_start_matches("0x"), 16).ok();
                }
            }
            "xmm" => {
                if let Some(body) = line.split_once("= {").map(|(_, b)| b.trim_end_matches('}')) {
                    let parts: Vec<Option<u64>> = body
                        .split(", ")
                        .map(|p| u64::from_str_radix(p.trim_start_matches("0x"), 16).ok())
                        .collect();
                    if let [Some(low), Some(high)] = parts[..] {
                        view.xmm[index] = Some((low, high));
                    }
                }
            }
            "threads" => {
                let trimmed = line.trim_start();
                let current = trimmed.starts_with('*');
                let rest = trimmed.trim_start_matches('*').trim_start();
                if rest
                    .split_whitespace()
                    .next()
                    .is_some_and(|id| id.parse::<u32>().is_ok())
                {
                    if let Some(tid) = lwp_in(rest) {
                        view.threads.push((current, tid));
                    }
                }
            }
            _ => {
                if line.starts_with("Thread ") {
                    lwp = lwp_in(line);
                } else if let (Some(tid), [name, value, ..]) =
                    (lwp, &line.split_whitespace().collect::<Vec<_>>()[..])
                {
                    if let Some(v) = value
                        .strip_prefix("0x")
                        .and_then(|v| u64::from_str_radix(v, 16).ok())
                    {
                        view.registers
                            .entry(tid)
                            .or_default()
                            .insert((*name).to_owned(), v);
                    }
                }
            }
        }
    }
    view
}

/// What dlv says about a core: (is current, thread id, pc) per thread.
fn dlv_threads(exe: &Path, core: &Path) -> Vec<(bool, Tid, u64)> {
    let dlv = ferret_testkit::delve::Delve::path();
    assert!(
        dlv.exists(),
        "dlv is not installed at {}: run scripts/install-tools",
        dlv.display()
    );
    let init = core.with_extension("dlv-init");
    std::fs::write(&init, "threads\nexit\n").expect("write dlv init file");
    let out = Command::new("timeout")
        .arg("60")
        .arg(&dlv)
        .arg("core")
        .arg(exe)
        .arg(core)
        .arg("--init")
        .arg(&init)
        .arg("--allow-non-terminal-interactive=true")
        .stdin(Stdio::null())
        .output()
        .expect("run dlv");
    let text = String::from_utf8_lossy(&out.stdout);
    let threads: Vec<(bool, Tid, u64)> = text
        .lines()
        .filter_map(|line| {
            let current = line.trim_start().starts_with('*');
            let words: Vec<&str> = line
                .trim_start_matches(['*', ' '])
                .split_whitespace()
                .collect();
            match words[..] {
                ["Thread", tid, "at", pc, ..] => Some((current, tid.parse().ok()?, hex(pc))),
                _ => None,
            }
        })
        .collect();
    assert!(
        !threads.is_empty(),
        "dlv listed no threads:\n{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    threads
}

// ---------------------------------------------------------------------------
// Checks shared by the tests

/// Our registers by `info registers` name.
fn named(registers: &Registers) -> HashMap<&'static str, u64> {
    REGISTER_NAMES
        .iter()
        .copied()
        .zip(registers.to_words())
        .collect()
}

/// The core as CoreFile reads it agrees with gdb: same threads (the first
/// note's thread is gdb's current one), every register gdb shows, the words
/// at `addrs`, and the current thread's xmm registers.
fn assert_matches_gdb(core: &CoreFile, addrs: &[u64]) -> GdbView {
    let view = gdb(core.executable_path(), core.core_path(), addrs);
    let context = || format!("{}\ngdb said:\n{}", core.core_path().display(), view.text);
    let mut gdb_tids: Vec<Tid> = view.threads.iter().map(|&(_, t)| t).collect();
    gdb_tids.sort_unstable();
    assert_eq!(
        core.threads(),
        gdb_tids,
        "thread ids differ from gdb's: {}",
        context()
    );
    let current = view.threads.iter().find(|t| t.0).map(|t| t.1);
    assert_eq!(
        current,
        Some(core.threads_in_note_order()[0].tid),
        "current thread: {}",
        context()
    );

    for tid in core.threads() {
        let ours = named(&core.registers(tid).unwrap());
        let theirs = view
            .registers
            .get(&tid)
            .unwrap_or_else(|| panic!("gdb showed no registers of {tid}: {}", context()));
        for must in ["rip", "rsp", "rbp", "rax", "eflags"] {
            assert!(
                theirs.contains_key(must),
                "gdb showed no {must} for thread {tid}: {}",
                context()
            );
        }
        for (name, value) in theirs {
            if let Some(&mine) = ours.get(name.as_str()) {
                assert_eq!(mine, *value, "thread {tid} register {name}: {}", context());
            }
        }
    }

    for (addr, word) in addrs.iter().zip(&view.words) {
        let mut buf = [0u8; 8];
        core.read_memory(*addr, &mut buf)
            .unwrap_or_else(|e| panic!("reading {addr:#x}: {e}"));
        let word = word.unwrap_or_else(|| panic!("gdb could not read {addr:#x}: {}", context()));
        assert_eq!(
            u64::from_le_bytes(buf),
            word,
            "word at {addr:#x}: {}",
            context()
        );
    }

    let fp = core
        .fp_registers(core.threads_in_note_order()[0].tid)
        .unwrap();
    let mut compared = 0;
    for (i, theirs) in view.xmm.iter().enumerate() {
        if let Some((low, high)) = theirs {
            let ours = fp.xmm(i).expect("xmm register present");
            assert_eq!(
                u64::from_le_bytes(ours[..8].try_into().unwrap()),
                *low,
                "xmm{i} low: {}",
                context()
            );
            assert_eq!(
                u64::from_le_bytes(ours[8..].try_into().unwrap()),
                *high,
                "xmm{i} high: {}",
                context()
            );
            compared += 1;
        }
    }
    assert_eq!(
        compared,
        16,
        "gdb showed not all xmm registers: {}",
        context()
    );
    view
}

/// The core as CoreFile reads it agrees with dlv: same threads, same pcs,
/// same current thread.
fn assert_matches_dlv(core: &CoreFile) {
    let mut theirs = dlv_threads(core.executable_path(), core.core_path());
    theirs.sort_by_key(|t| t.1);
    let ours: Vec<(bool, Tid, u64)> = core
        .threads()
        .into_iter()
        .map(|tid| {
            (
                tid == core.threads_in_note_order()[0].tid,
                tid,
                core.registers(tid).unwrap().rip,
            )
        })
        .collect();
    assert_eq!(
        ours,
        theirs,
        "threads (current, tid, pc) differ from dlv's for {}",
        core.core_path().display()
    );
}

/// Reads a u64.
fn word(memory: &impl Memory, addr: u64) -> u64 {
    let mut buf = [0u8; 8];
    memory
        .read_memory(addr, &mut buf)
        .unwrap_or_else(|e| panic!("reading {addr:#x}: {e}"));
    u64::from_le_bytes(buf)
}

/// A few addresses inside every mapping of the executable (including the
/// parts a core omits and serves from the file), for comparing with gdb.
fn executable_addresses(core: &CoreFile) -> Vec<u64> {
    let name = core
        .executable_path()
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    let mut addrs: Vec<u64> = core
        .mappings()
        .iter()
        .filter(|m| {
            m.path
                .as_deref()
                .is_some_and(|p| p.ends_with(&format!("/{name}")))
        })
        .flat_map(|m| [m.start, m.start + (m.end - m.start) / 2 / 8 * 8, m.end - 8])
        .collect();
    addrs.extend(core.entry_point());
    assert!(
        addrs.len() >= 4,
        "no mappings of {name} in {:?}",
        core.mappings()
    );
    addrs
}

/// Everything two CoreFiles serve is the same.
fn assert_same_core(a: &CoreFile, b: &CoreFile, addrs: &[u64]) {
    assert_eq!(a.pid(), b.pid());
    // The current thread stays first; the writer orders the rest by id.
    assert_eq!(
        a.threads_in_note_order()[0].tid,
        b.threads_in_note_order()[0].tid
    );
    assert_eq!(a.threads(), b.threads());
    for x in a.threads_in_note_order() {
        let y = b
            .threads_in_note_order()
            .iter()
            .find(|y| y.tid == x.tid)
            .unwrap();
        assert_eq!(x, y, "thread {}", x.tid);
    }
    assert_eq!(a.fault_address(), b.fault_address());
    assert_eq!(a.auxv(), b.auxv());
    assert_eq!(a.process_name(), b.process_name());
    assert_eq!(a.command_line(), b.command_line());
    assert_eq!(a.fatal_signal(), b.fatal_signal());
    let spans = |c: &CoreFile| {
        c.mappings()
            .iter()
            .map(|m| (m.start, m.end, m.path.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(spans(a), spans(b));
    for &addr in addrs {
        assert_eq!(word(a, addr), word(b, addr), "word at {addr:#x}");
    }
}

/// Writes `source` to `out` and checks the progress reports.
fn rewrite(source: &impl CoreSource, out: &Path) {
    let mut reports: Vec<(u64, u64)> = Vec::new();
    write_core(out, source, &mut |done, total| {
        reports.push((done, total));
        true
    })
    .expect("write_core");
    let total = reports.last().expect("progress reported").1;
    assert!(total > 0);
    assert!(
        reports
            .windows(2)
            .all(|w| w[0].0 <= w[1].0 && w[0].1 == w[1].1),
        "progress must grow: {reports:?}"
    );
    assert_eq!(reports.last(), Some(&(total, total)));
    let leftovers: Vec<_> = std::fs::read_dir(out.parent().unwrap())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().contains(".tmp-"))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
}

// ---------------------------------------------------------------------------
// Tests: real cores

#[test]
fn kernel_core_of_go_program_matches_gdb_and_dlv() {
    let crash = go_crash();
    let started = Instant::now();
    let core = CoreFile::open(&crash.core, &crash.exe, false).expect("open the kernel core");
    let opened = started.elapsed();
    assert!(opened.as_millis() < 500, "opening took {opened:?}");

    assert_eq!(core.pid(), crash.pid);
    assert_eq!(core.process_name(), "crash");
    assert!(
        core.threads().len() >= 5,
        "expected the locked threads too: {:?}",
        core.threads()
    );
    assert_eq!(core.fatal_signal(), Some(libc::SIGABRT));
    assert_eq!(core.fault_address(), None, "SIGABRT has no fault address");
    assert!(core
        .threads_in_note_order()
        .iter()
        .all(|t| t.signal == libc::SIGABRT));
    assert!(core
        .threads_in_note_order()
        .iter()
        .all(|t| t.fp_registers.as_ref().is_some_and(|f| f.raw.len() > 512)));

    assert_eq!(word(&core, crash.marker.0), crash.marker.1);
    assert_eq!(word(&core, crash.heap_marker.0), crash.heap_marker.1);
    let mut addrs = vec![crash.marker.0, crash.heap_marker.0];
    addrs.extend(executable_addresses(&core));
    assert_matches_gdb(&core, &addrs);
    assert_matches_dlv(&core);
}

#[test]
fn rewritten_kernel_core_reads_the_same_in_ferret_gdb_and_dlv() {
    let crash = go_crash();
    let original = CoreFile::open(&crash.core, &crash.exe, false).unwrap();
    let dir = scratch("rewrite-kernel");
    let out = dir.join("rewritten.core");
    rewrite(&original, &out);

    let copy = CoreFile::open(&out, &crash.exe, false).expect("open the rewritten core");
    let mut addrs = vec![crash.marker.0, crash.heap_marker.0];
    addrs.extend(executable_addresses(&original));
    assert_same_core(&original, &copy, &addrs);
    assert_eq!(word(&copy, crash.marker.0), crash.marker.1);
    assert_eq!(word(&copy, crash.heap_marker.0), crash.heap_marker.1);
    assert_matches_gdb(&copy, &addrs);
    assert_matches_dlv(&copy);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn gcore_of_live_go_program_and_its_rewrite() {
    let exe = crash_exe();
    let dir = scratch("gcore");
    let mut child = Live(
        Command::new(&exe)
            .arg("sleep")
            .current_dir(&dir)
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the fixture"),
    );
    let mut stdout = String::new();
    let mut lines = BufReader::new(child.0.stdout.take().unwrap()).lines();
    for line in lines.by_ref() {
        let line = line.expect("read fixture output");
        stdout.push_str(&line);
        stdout.push('\n');
        if line == "sleeping" {
            break;
        }
    }
    assert!(
        stdout.ends_with("sleeping\n"),
        "the fixture did not start sleeping: {stdout}"
    );
    let pid = child.0.id();
    let gcore = Command::new("timeout")
        .arg("60")
        .arg("gcore")
        .arg("-o")
        .arg(dir.join("gcore"))
        .arg(pid.to_string())
        .stdin(Stdio::null())
        .output()
        .expect("run gcore");
    drop(child);
    let core_path = dir.join(format!("gcore.{pid}"));
    assert!(
        core_path.exists(),
        "gcore wrote no core:\n{}{}",
        String::from_utf8_lossy(&gcore.stdout),
        String::from_utf8_lossy(&gcore.stderr)
    );
    let (marker, heap_marker) = (printed(&stdout, "marker"), printed(&stdout, "heapmarker"));

    let core = CoreFile::open(&core_path, &exe, false).expect("open the gcore core");
    assert_eq!(core.pid(), pid as Pid);
    assert_eq!(word(&core, marker.0), marker.1);
    assert_eq!(word(&core, heap_marker.0), heap_marker.1);
    let mut addrs = vec![marker.0, heap_marker.0];
    addrs.extend(executable_addresses(&core));
    assert_matches_gdb(&core, &addrs);

    let out = dir.join("rewritten.core");
    rewrite(&core, &out);
    let copy = CoreFile::open(&out, &exe, false).expect("open the rewritten gcore core");
    assert_same_core(&core, &copy, &addrs);
    assert_matches_gdb(&copy, &addrs);
    assert_matches_dlv(&copy);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn kernel_core_of_c_program_matches_gdb() {
    let dir = scratch("c-core");
    let exe = compile_c(&dir, "cprog", &[]);
    let (core_path, stdout) = kernel_core(&exe, &[], &dir);
    let marker = printed(&stdout, "marker");
    let core = CoreFile::open(&core_path, &exe, false).expect("open the C core");
    assert_eq!(core.threads().len(), 3);
    assert_eq!(core.process_name(), "cprog");
    assert_eq!(core.fatal_signal(), Some(libc::SIGABRT));
    assert_eq!(word(&core, marker.0), marker.1);
    let mut addrs = vec![marker.0];
    addrs.extend(executable_addresses(&core));
    // Shared libraries are read from their files too.
    let libc_text = core
        .mappings()
        .into_iter()
        .find(|m| m.path.as_deref().is_some_and(|p| p.contains("libc.so")) && m.perms.2)
        .expect("libc's text is mapped");
    addrs.push(libc_text.start + 0x1000);
    assert_matches_gdb(&core, &addrs);

    let out = dir.join("rewritten.core");
    rewrite(&core, &out);
    let copy = CoreFile::open(&out, &exe, false).expect("open the rewritten C core");
    assert_same_core(&core, &copy, &addrs);
    assert_matches_gdb(&copy, &addrs);
    let _ = std::fs::remove_dir_all(dir);
}

/// A source that hides every file name and the executable's unwritable
/// contents, to make a core with no `NT_FILE` whose text is not dumped.
struct WithoutFiles<'a>(&'a CoreFile);

impl Memory for WithoutFiles<'_> {
    fn read_memory(&self, addr: u64, buf: &mut [u8]) -> Result<()> {
        self.0.read_memory(addr, buf)
    }
}

impl ThreadState for WithoutFiles<'_> {
    fn threads(&self) -> Vec<Tid> {
        self.0.threads()
    }
    fn registers(&self, tid: Tid) -> Result<Registers> {
        self.0.registers(tid)
    }
    fn fp_registers(&self, tid: Tid) -> Result<FpRegisters> {
        self.0.fp_registers(tid)
    }
}

impl CoreSource for WithoutFiles<'_> {
    fn pid(&self) -> Pid {
        self.0.pid()
    }
    fn mappings(&self) -> Vec<Mapping> {
        let exe = self
            .0
            .executable_path()
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        CoreFile::mappings(self.0)
            .into_iter()
            .map(|mut m| {
                if m.path.as_deref().is_some_and(|p| p.ends_with(&exe)) && !m.perms.1 {
                    m.perms = (false, false, false);
                }
                m.path = None;
                m
            })
            .collect()
    }
    fn auxv(&self) -> Vec<(u64, u64)> {
        self.0.auxv().to_vec()
    }
    fn process_name(&self) -> String {
        self.0.process_name().to_owned()
    }
    fn command_line(&self) -> String {
        self.0.command_line().to_owned()
    }
    fn current_thread(&self) -> Option<Tid> {
        Some(self.0.threads_in_note_order()[0].tid)
    }
}

#[test]
fn core_without_nt_file_reads_text_from_the_executable() {
    let crash = go_crash();
    let original = CoreFile::open(&crash.core, &crash.exe, false).unwrap();
    let dir = scratch("no-nt-file");
    let out = dir.join("no-files.core");
    rewrite(&WithoutFiles(&original), &out);

    let copy = CoreFile::open(&out, &crash.exe, false).expect("open a core without NT_FILE");
    assert!(copy.mappings().iter().all(|m| m.path.is_none()));
    assert_eq!(
        copy.threads_in_note_order()[0].tid,
        original.threads_in_note_order()[0].tid
    );
    assert_eq!(word(&copy, crash.marker.0), crash.marker.1);
    for addr in executable_addresses(&original) {
        assert_eq!(
            word(&copy, addr),
            word(&original, addr),
            "word at {addr:#x}"
        );
    }
    // Another program's executable is still refused: the build ids are
    // found at the executable's link-time addresses.
    let hello = build_fixture("hello", &GoToolchain::find("1.26"), &BuildOptions::debug());
    let err = CoreFile::open(&out, &hello, false).unwrap_err();
    assert!(matches!(err, TargetError::CoreMismatch { .. }), "{err}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn threads_memory_and_mappings_errors() {
    let crash = go_crash();
    let core = CoreFile::open(&crash.core, &crash.exe, false).unwrap();
    assert!(matches!(
        core.registers(-1),
        Err(TargetError::NoSuchThread { tid: -1 })
    ));
    assert!(matches!(
        core.fp_registers(0),
        Err(TargetError::NoSuchThread { tid: 0 })
    ));

    let mut buf = [0u8; 8];
    let err = core.read_memory(0x10, &mut buf).unwrap_err();
    assert!(
        matches!(err, TargetError::Memory { addr: 0x10, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("0x10"), "{err}");
    // A mapping the kernel did not dump and no file backs (a PROT_NONE
    // reservation of the Go runtime).
    let reserved = core
        .mappings()
        .into_iter()
        .find(|m| m.perms == (false, false, false) && m.path.is_none());
    let reserved = reserved.expect("the Go runtime reserves address space");
    assert!(matches!(
        core.read_memory(reserved.start, &mut buf),
        Err(TargetError::Memory { .. })
    ));
    // A read running off the end of the last mapping fails; one spanning
    // two adjacent dumped mappings works.
    let maps = core.mappings();
    let last = maps.last().unwrap();
    assert!(core.read_memory(last.end - 4, &mut buf).is_err());
    let pair = maps.windows(2).find(|w| {
        w[0].end == w[1].start
            && [&w[0], &w[1]]
                .iter()
                .all(|m| m.perms.0 && core.read_memory(m.start, &mut [0u8; 1]).is_ok())
    });
    let pair = pair.expect("two adjacent readable mappings");
    let mut span = [0u8; 16];
    core.read_memory(pair[0].end - 8, &mut span)
        .expect("read across a segment boundary");
    assert_eq!(
        u64::from_le_bytes(span[..8].try_into().unwrap()),
        word(&core, pair[0].end - 8)
    );
    assert_eq!(
        u64::from_le_bytes(span[8..].try_into().unwrap()),
        word(&core, pair[1].start)
    );
}

// ---------------------------------------------------------------------------
// Tests: bad input

/// Asserts `open` fails with `NotACore`.
fn assert_not_a_core(path: &Path, exe: &Path) {
    match CoreFile::open(path, exe, false) {
        Err(TargetError::NotACore { path: p, .. }) => assert_eq!(p, path),
        other => panic!("{}: expected NotACore, got {other:?}", path.display()),
    }
}

/// Asserts `open` fails with `CorruptCore` mentioning `needle`.
fn assert_corrupt(path: &Path, exe: &Path, needle: &str) {
    match CoreFile::open(path, exe, false) {
        Err(e @ TargetError::CorruptCore { .. }) => {
            assert!(
                e.to_string().contains(needle),
                "{}: {e} should mention {needle:?}",
                path.display()
            )
        }
        other => panic!("{}: expected CorruptCore, got {other:?}", path.display()),
    }
}

#[test]
fn files_that_are_not_cores() {
    let exe = crash_exe();
    let dir = scratch("not-cores");
    let empty = dir.join("empty");
    std::fs::write(&empty, b"").unwrap();
    assert_not_a_core(&empty, &exe);
    assert_not_a_core(&dir, &exe);
    let text = dir.join("text");
    std::fs::write(&text, b"this is not an ELF file\n").unwrap();
    assert_not_a_core(&text, &exe);
    assert_not_a_core(&exe, &exe);
    let missing = dir.join("missing");
    assert!(matches!(
        CoreFile::open(&missing, &exe, false),
        Err(TargetError::Io { .. })
    ));
    // A good core with a missing executable.
    let crash = go_crash();
    match CoreFile::open(&crash.core, &missing, true) {
        Err(TargetError::Io { path, .. }) => assert_eq!(path, missing),
        other => panic!("expected Io naming the executable, got {other:?}"),
    }
    let _ = std::fs::remove_dir_all(dir);
}

/// Little-endian integers of the core's headers, read by hand so the test
/// does not trust the code it tests.
fn le(bytes: &[u8], at: usize, size: usize) -> u64 {
    bytes[at..at + size]
        .iter()
        .rev()
        .fold(0, |acc, &b| acc << 8 | u64::from(b))
}

#[test]
fn truncated_cores_are_corrupt() {
    let crash = go_crash();
    let dir = scratch("truncated");
    let mut head = vec![0u8; 1 << 16];
    {
        use std::io::Read;
        let mut f = std::fs::File::open(&crash.core).unwrap();
        f.read_exact(&mut head).unwrap();
    }
    let (phoff, phnum) = (le(&head, 32, 8) as usize, le(&head, 56, 2) as usize);
    let phdr = |i: usize| {
        let at = phoff + 56 * i;
        (
            le(&head, at, 4) as u32,
            le(&head, at + 8, 8),
            le(&head, at + 16, 8),
            le(&head, at + 32, 8),
        )
    };
    let note = (0..phnum).map(phdr).find(|p| p.0 == 4).expect("a PT_NOTE");
    let (last_index, last_load) = (0..phnum)
        .map(|i| (i, phdr(i)))
        .filter(|(_, p)| p.0 == 1 && p.3 > 0)
        .max_by_key(|(_, p)| p.1)
        .expect("a PT_LOAD with data");

    let cut = |name: &str, len: u64| {
        let path = dir.join(name);
        std::fs::copy(&crash.core, &path).unwrap();
        std::fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .unwrap()
            .set_len(len)
            .unwrap();
        path
    };
    assert_corrupt(&cut("in-header", 40), &crash.exe, "ELF header");
    assert_corrupt(
        &cut("in-phdrs", (phoff + 56 * phnum / 2) as u64),
        &crash.exe,
        "program headers",
    );
    assert_corrupt(&cut("in-notes", note.1 + note.3 / 2), &crash.exe, "PT_NOTE");
    let in_load = cut("in-load", last_load.1 + last_load.3 / 2);
    assert_corrupt(
        &in_load,
        &crash.exe,
        &format!(
            "program header {last_index} (PT_LOAD at {:#x})",
            last_load.2
        ),
    );

    // A note whose size runs past its segment.
    let bad_note = cut("bad-note", std::fs::metadata(&crash.core).unwrap().len());
    {
        use std::os::unix::fs::FileExt;
        let f = std::fs::OpenOptions::new()
            .write(true)
            .open(&bad_note)
            .unwrap();
        f.write_all_at(&0x7fff_0000u32.to_le_bytes(), note.1 + 4)
            .unwrap(); // n_descsz of the first note
    }
    assert_corrupt(&bad_note, &crash.exe, "note");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn core_of_another_program_is_refused() {
    let crash = go_crash();
    let hello = build_fixture("hello", &GoToolchain::find("1.26"), &BuildOptions::debug());
    match CoreFile::open(&crash.core, &hello, false) {
        Err(e @ TargetError::CoreMismatch { .. }) => {
            let text = e.to_string();
            assert!(text.contains("build id"), "{text}");
            assert!(text.contains(&hello.display().to_string()), "{text}");
            assert!(
                text.contains(&crash.exe.display().to_string()),
                "the core's own path: {text}"
            );
        }
        other => panic!("expected CoreMismatch, got {other:?}"),
    }
    // Asked to, it opens anyway.
    let core = CoreFile::open(&crash.core, &hello, true).expect("allow_mismatch");
    assert_eq!(
        core.threads().len(),
        CoreFile::open(&crash.core, &crash.exe, false)
            .unwrap()
            .threads()
            .len()
    );

    // A C program's core with the Go executable, and the other way round.
    let dir = scratch("mismatch");
    let c_exe = compile_c(&dir, "cprog", &[]);
    let (c_core, _) = kernel_core(&c_exe, &[], &dir);
    assert!(matches!(
        CoreFile::open(&c_core, &crash.exe, false),
        Err(TargetError::CoreMismatch { .. })
    ));
    assert!(matches!(
        CoreFile::open(&crash.core, &c_exe, false),
        Err(TargetError::CoreMismatch { .. })
    ));
    // The same C source built again differently has another GNU build id.
    let other_c = compile_c(&dir, "cprog2", &["-DBIG"]);
    let err = CoreFile::open(&c_core, &other_c, false).unwrap_err();
    assert!(
        matches!(err, TargetError::CoreMismatch { .. }) && err.to_string().contains("GNU build id"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn fault_address_of_a_segfault_matches_gdb() {
    let dir = scratch("segv");
    let exe = compile_c(&dir, "segv", &[]);
    let (core_path, _) = kernel_core(&exe, &["segv"], &dir);
    let core = CoreFile::open(&core_path, &exe, false).expect("open the C core");
    assert_eq!(core.fatal_signal(), Some(libc::SIGSEGV));
    let out = Command::new("gdb")
        .args([
            "-nx",
            "-batch",
            "-ex",
            "p/x $_siginfo._sifields._sigfault.si_addr",
        ])
        .arg(&exe)
        .arg(&core_path)
        .stdin(Stdio::null())
        .output()
        .expect("run gdb");
    let text = String::from_utf8_lossy(&out.stdout);
    let addr = text
        .lines()
        .find_map(|l| l.strip_prefix("$1 = "))
        .unwrap_or_else(|| panic!("gdb said: {text}"));
    assert_eq!(core.fault_address(), Some(hex(addr)));
    assert_eq!(
        core.fault_address(),
        Some(0x18),
        "the address the program wrote to"
    );

    let out = dir.join("rewritten.core");
    rewrite(&core, &out);
    let copy = CoreFile::open(&out, &exe, false).unwrap();
    assert_eq!(copy.fatal_signal(), Some(libc::SIGSEGV));
    assert_eq!(copy.fault_address(), Some(0x18));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn core_files_can_be_shared_between_threads() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<CoreFile>();
}

#[test]
fn without_build_ids_the_layout_decides() {
    let dir = scratch("no-build-id");
    let exe = compile_c(&dir, "plain", &["-Wl,--build-id=none"]);
    let other = compile_c(&dir, "plain-big", &["-Wl,--build-id=none", "-DBIG"]);
    let (core, stdout) = kernel_core(&exe, &[], &dir);
    let marker = printed(&stdout, "marker");
    let opened = CoreFile::open(&core, &exe, false).expect("the right executable fits");
    assert_eq!(word(&opened, marker.0), marker.1);
    match CoreFile::open(&core, &other, false) {
        Err(e @ TargetError::CoreMismatch { .. }) => {
            assert!(e.to_string().contains("maps its file bytes"), "{e}")
        }
        other => panic!("expected CoreMismatch, got {other:?}"),
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn opening_a_4gib_core_is_cheap() {
    let crash = go_crash();
    let dir = scratch("big");
    let big = dir.join("big.core");
    std::fs::copy(&crash.core, &big).unwrap();
    // Sparse: the file is 4 GiB long but takes no space.
    std::fs::OpenOptions::new()
        .write(true)
        .open(&big)
        .unwrap()
        .set_len(4 << 30)
        .unwrap();
    let rss = || {
        let status = std::fs::read_to_string("/proc/self/status").unwrap();
        let line = status
            .lines()
            .find(|l| l.starts_with("VmRSS:"))
            .unwrap()
            .to_owned();
        line.split_whitespace()
            .nth(1)
            .unwrap()
            .parse::<u64>()
            .unwrap()
    };
    let before = rss();
    let started = Instant::now();
    let core = CoreFile::open(&big, &crash.exe, false).expect("open a 4 GiB core");
    let took = started.elapsed();
    let grew = rss().saturating_sub(before);
    eprintln!("opening a 4 GiB core: {took:?}, RSS +{grew} KiB (other tests run alongside)");
    assert!(took.as_millis() < 500, "opening took {took:?}");
    assert_eq!(word(&core, crash.marker.0), crash.marker.1);
    drop(core);
    let _ = std::fs::remove_dir_all(dir);
}

/// A source whose thread list names a thread it cannot give registers for.
struct Broken<'a>(&'a CoreFile);

impl Memory for Broken<'_> {
    fn read_memory(&self, addr: u64, buf: &mut [u8]) -> Result<()> {
        self.0.read_memory(addr, buf)
    }
}

impl ThreadState for Broken<'_> {
    fn threads(&self) -> Vec<Tid> {
        let mut tids = self.0.threads();
        tids.push(i32::MAX);
        tids
    }
    fn registers(&self, tid: Tid) -> Result<Registers> {
        self.0.registers(tid)
    }
    fn fp_registers(&self, tid: Tid) -> Result<FpRegisters> {
        self.0.fp_registers(tid)
    }
}

impl CoreSource for Broken<'_> {
    fn pid(&self) -> Pid {
        self.0.pid()
    }
    fn mappings(&self) -> Vec<Mapping> {
        CoreFile::mappings(self.0)
    }
    fn auxv(&self) -> Vec<(u64, u64)> {
        Vec::new()
    }
    fn process_name(&self) -> String {
        String::new()
    }
    fn command_line(&self) -> String {
        String::new()
    }
}

#[test]
fn failed_dumps_leave_nothing_behind() {
    let crash = go_crash();
    let core = CoreFile::open(&crash.core, &crash.exe, false).unwrap();
    let dir = scratch("failed-dump");
    let out = dir.join("out.core");
    let err = write_core(&out, &Broken(&core), &mut |_, _| true).unwrap_err();
    assert!(
        matches!(err, TargetError::NoSuchThread { tid: i32::MAX }),
        "{err}"
    );
    // The output path is a directory: the final rename fails after all the
    // writing.
    std::fs::create_dir(&out).unwrap();
    std::fs::write(out.join("keep"), b"x").unwrap();
    let err = write_core(&out, &core, &mut |_, _| true).unwrap_err();
    assert!(matches!(err, TargetError::Io { .. }), "{err}");
    let left: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(
        left,
        vec![std::ffi::OsString::from("out.core")],
        "only the directory remains"
    );
    let missing_dir = dir.join("no/such/dir/out.core");
    assert!(matches!(
        write_core(&missing_dir, &core, &mut |_, _| true),
        Err(TargetError::Io { .. })
    ));
    let _ = std::fs::remove_dir_all(dir);
}

// ---------------------------------------------------------------------------
// Dumps of live processes (the basis of Delve's `dump`)

/// Runs `process` until it stops at a breakpoint on `addr`.
fn run_to(process: &mut ferret_target::linux::Process, addr: u64) {
    use ferret_target::linux::{Event, StopReason};
    process.set_breakpoint(addr).expect("breakpoint");
    process.resume().expect("resume");
    match process.wait().expect("wait") {
        Event::Stopped { stops, .. } => {
            assert!(
                stops
                    .iter()
                    .any(|s| s.reason == StopReason::Breakpoint { addr }),
                "{stops:?}"
            )
        }
        other => panic!("expected a stop, got {other:?}"),
    }
}

#[test]
fn dump_of_a_live_c_process_opens_in_ferret_and_gdb() {
    use ferret_target::linux::{LaunchOptions, Process};
    let exe = ferret_testkit::fixture::build_c_program("threads");
    let symbols = ferret_testkit::oracle::gnu_nm(&exe);
    let dir = scratch("live-dump-c");
    let out = dir.join("out.txt");
    let mut process = Process::launch(&LaunchOptions {
        program: exe.clone(),
        args: vec!["mem".into(), "16".into()],
        stdout: Some(out.clone()),
        ..LaunchOptions::default()
    })
    .expect("launch");
    run_to(&mut process, symbols["done"]);
    // The program printed where its region is; it is filled with 0x5a.
    let region = hex(std::fs::read_to_string(&out).expect("address").trim());
    let core_path = dir.join("live.core");
    let mut last = (0, 0);
    write_core(&core_path, &process, &mut |done, total| {
        last = (done, total);
        true
    })
    .expect("dump");
    assert_eq!(last.0, last.1, "progress reaches the total");
    let live_threads = process.threads();
    let mut live_word = [0u8; 8];
    process
        .read_memory(symbols["done"], &mut live_word)
        .expect("read text");
    process.kill().expect("kill");

    let core = CoreFile::open(&core_path, &exe, false).expect("open dump");
    assert_eq!(core.threads(), live_threads);
    let mut word = [0u8; 8];
    core.read_memory(region, &mut word).expect("read region");
    assert_eq!(word, [0x5a; 8]);
    // The breakpoint's int3 is not in the dump: text reads as the original.
    core.read_memory(symbols["done"], &mut word)
        .expect("read text");
    assert_eq!(word, live_word);

    let view = gdb(&exe, &core_path, &[region]);
    assert_eq!(
        view.threads.len(),
        live_threads.len(),
        "gdb threads:\n{}",
        view.text
    );
    assert_eq!(
        view.words[0],
        Some(0x5a5a_5a5a_5a5a_5a5a),
        "gdb x/gx:\n{}",
        view.text
    );
}

#[test]
fn dump_of_a_live_go_process_opens_in_ferret_gdb_and_dlv() {
    use ferret_target::linux::{LaunchOptions, Process};
    let toolchain = GoToolchain::find("1.26");
    let exe = build_fixture("busy", &toolchain, &BuildOptions::debug());
    let nm = ferret_testkit::oracle::nm(&toolchain, &exe);
    let work = nm
        .iter()
        .find(|s| s.name == "main.work")
        .expect("main.work")
        .address;
    let total = nm
        .iter()
        .find(|s| s.name == "main.total")
        .expect("main.total")
        .address;
    let dir = scratch("live-dump-go");
    let mut process = Process::launch(&LaunchOptions {
        program: exe.clone(),
        args: vec!["spin".into(), "30".into()],
        stdout: Some(dir.join("out.txt")),
        ..LaunchOptions::default()
    })
    .expect("launch");
    // Let the goroutines get going on their threads first.
    run_to(&mut process, work);
    process.clear_breakpoint(work).expect("clear");
    for _ in 0..3 {
        run_to(&mut process, work);
        process.clear_breakpoint(work).expect("clear");
    }
    let core_path = dir.join("live.core");
    write_core(&core_path, &process, &mut |_, _| true).expect("dump");
    let live_threads = process.threads();
    let mut live_total = [0u8; 8];
    process
        .read_memory(total, &mut live_total)
        .expect("read total");
    process.kill().expect("kill");

    let core = CoreFile::open(&core_path, &exe, false).expect("open dump");
    assert_eq!(core.threads(), live_threads);
    let mut word = [0u8; 8];
    core.read_memory(total, &mut word).expect("read total");
    assert_eq!(word, live_total);

    let view = gdb(&exe, &core_path, &[total]);
    assert_eq!(
        view.threads.len(),
        live_threads.len(),
        "gdb threads:\n{}",
        view.text
    );
    assert_eq!(
        view.words[0],
        Some(u64::from_le_bytes(live_total)),
        "gdb x/gx:\n{}",
        view.text
    );
    let dlv = dlv_threads(&exe, &core_path);
    let mut dlv_tids: Vec<Tid> = dlv.iter().map(|t| t.1).collect();
    dlv_tids.sort_unstable();
    assert_eq!(dlv_tids, live_threads, "dlv sees the same threads");
}
