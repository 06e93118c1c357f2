//! `ferret crash BINARY CORE`: the crash report of a core as text, the
//! first screen after a crash, without a server or a client.

use std::fmt::Write as _;
use std::path::PathBuf;

use ferret_debugger::model::{signal_name, CrashReport};
use ferret_debugger::{Debugger, TargetSpec};

/// Opens `core` of `binary` and prints its crash report.
pub fn run(binary: PathBuf, core: PathBuf, allow_mismatch: bool) -> Result<(), String> {
    let spec = TargetSpec::Core {
        binary,
        core,
        allow_mismatch,
    };
    let debugger =
        Debugger::start(spec).map_err(|e| crate::start_error("could not open core file", e))?;
    crate::warn_if_not_go(&debugger);
    let report = debugger.crash_report().map_err(|e| e.to_string())?;
    print!("{}", render(&report));
    Ok(())
}

/// The report as text: the signal, the panic or fatal error as the runtime
/// printed it, the crashed goroutine's frames from user code, and the
/// goroutines counted by wait reason.
pub fn render(r: &CrashReport) -> String {
    let mut out = String::new();
    if let Some(signal) = r.fatal_signal {
        let _ = write!(out, "fatal signal {}", signal_name(signal));
        if let Some(addr) = r.fault_address {
            let _ = write!(out, " at address {addr:#x}");
        }
        if let Some(tid) = r.thread_id {
            let _ = write!(out, " on thread {tid}");
        }
        out.push('\n');
    }
    for (i, panic) in r.panics.iter().enumerate() {
        let indent = if i == 0 { "" } else { "\t" };
        let recovered = if panic.recovered { " [recovered]" } else { "" };
        let _ = writeln!(out, "{indent}panic: {}{recovered}", panic.message);
    }
    if let Some(s) = r.go_signal {
        let _ = writeln!(
            out,
            "[signal {} addr={:#x} pc={:#x}]",
            signal_name(s.signal as i32),
            s.addr,
            s.pc
        );
    }
    if let Some(message) = &r.fatal_error {
        let _ = writeln!(out, "fatal error: {message}");
    }
    match r.goroutine_id {
        Some(id) => {
            let _ = writeln!(
                out,
                "\ngoroutine {id}, from its first frame outside the runtime:"
            );
            for f in &r.frames {
                let name = f.location.function.as_ref().map_or("?", |r| &r.name);
                let _ = writeln!(
                    out,
                    "  {name}()\n      {}:{} ({:#x})",
                    f.location.file, f.location.line, f.location.pc
                );
            }
        }
        None => out.push_str(
            "\nno goroutine crashed (no panic, and no goroutine on the signalled thread)\n",
        ),
    }
    let summary = &r.wait_reasons;
    let _ = writeln!(
        out,
        "\ngoroutines by wait reason ({} in all):",
        summary.total
    );
    for group in &summary.groups {
        let _ = writeln!(out, "  {:>7}  {}", group.count, group.key.join(" "));
    }
    out
}
