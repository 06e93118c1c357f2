//! Entry point for the ELF/DWARF loader fuzzer under `fuzz/` and for the
//! test that replays its corpus, so both run exactly the same code.

use ferret_target::fuzzing::with_scratch_file;

use crate::BinaryInfo;

/// How many functions get their line table, prologue and frame rules read:
/// enough to reach every parser, few enough to keep each run short.
const FUNCTIONS_PROBED: usize = 16;

/// Opens `data` as an executable and asks what the debugger asks of one:
/// symbols, functions, packages, files, types, line tables, PC lookups,
/// locations, call frame information and the full index.
pub fn elf_loader(data: &[u8]) {
    with_scratch_file(data, |path| {
        let Ok(binary) = BinaryInfo::open(path) else {
            return;
        };
        let _ = (
            binary.symbols().len(),
            binary.packages(),
            binary.source_files(),
            binary.types(),
        );
        let functions = match binary.functions() {
            Ok(functions) => functions
                .iter()
                .take(FUNCTIONS_PROBED)
                .cloned()
                .collect::<Vec<_>>(),
            Err(_) => Vec::new(),
        };
        for function in &functions {
            let _ = binary.is_optimized(function);
            let _ = binary.first_pc_after_prologue(function);
            let _ = binary.function_at(function.entry);
            for pc in [
                function.entry,
                function.end.saturating_sub(1),
                function.entry + function.end.saturating_sub(function.entry) / 2,
            ] {
                if let Ok(Some(info)) = binary.pc_info(pc) {
                    for frame in &info.frames {
                        let _ = binary.line_to_pcs(&frame.file, frame.line);
                    }
                }
                let _ = binary.frame_rule(pc);
            }
            let _ = binary.resolve_location(&function.name);
        }
        for spec in ["main.main", "main.go:1", "+1", "*0x401000", "/ma/"] {
            let _ = binary.resolve_location(spec);
        }
        let _ = binary.struct_layout("runtime.g");
        let _ = binary.build_full_index();
    })
}
