//! Entry points for the fuzzers under `fuzz/` and for the tests that
//! replay their corpora, so both run exactly the same code.

use std::path::Path;

use crate::core::CoreFile;
use crate::{Memory, ThreadState};

/// Writes `data` to a scratch file private to this thread, runs `f` on its
/// path and removes it: the readers under test open files by path and map
/// them, and that is the path the fuzzer must take too.
pub fn with_scratch_file<T>(data: &[u8], f: impl FnOnce(&Path) -> T) -> T {
    let name = format!(
        "ferret-fuzz-{}-{:?}",
        std::process::id(),
        std::thread::current().id()
    );
    let dir = if Path::new("/dev/shm").is_dir() {
        std::path::PathBuf::from("/dev/shm")
    } else {
        std::env::temp_dir()
    };
    let path = dir.join(name.replace(|c: char| !c.is_ascii_alphanumeric() && c != '-', ""));
    std::fs::write(&path, data).expect("write the fuzz scratch file");
    let result = f(&path);
    let _ = std::fs::remove_file(&path);
    result
}

/// The core-file reader: opens `data` as a core (with itself as the
/// executable, checked and unchecked) and reads what a debugger reads.
pub fn core_reader(data: &[u8]) {
    with_scratch_file(data, |path| {
        let _ = CoreFile::open(path, path, false);
        let Ok(core) = CoreFile::open(path, path, true) else {
            return;
        };
        let _ = (
            core.pid(),
            core.auxv(),
            core.entry_point(),
            core.fatal_signal(),
            core.fault_address(),
        );
        let _ = (core.process_name(), core.command_line());
        let mut buf = [0u8; 64];
        for mapping in core.mappings().iter().take(64) {
            for addr in [
                mapping.start,
                mapping.end.saturating_sub(1),
                mapping.end.saturating_sub(32),
            ] {
                let _ = core.read_memory(addr, &mut buf);
            }
        }
        for thread in core.threads_in_note_order().iter().take(64) {
            let _ = core.registers(thread.tid);
            let _ = core.fp_registers(thread.tid);
        }
    })
}
