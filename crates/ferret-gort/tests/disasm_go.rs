//! Go syntax disassembly compared with `go tool objdump`, instruction by
//! instruction, over every function of a fixture's binary (package main
//! and everything linked in: runtime, standard library, assembly), in debug
//! and optimized builds, for every selected Go toolchain.
//!
//! Delve prints with the x86asm of golang.org/x/arch v0.28.0, which Go 1.27
//! vendors too; older toolchains' objdump vendors older x86asm versions,
//! which print differently where x86asm changed since (they decode no
//! AVX-512, fewer VEX instructions, and Go 1.22's symbolizes every
//! immediate). So all instructions must match for Go 1.27 and later; for
//! older toolchains only functions free of VEX and EVEX instructions are
//! held to it.

use std::collections::HashMap;
use std::path::Path;

use ferret_gort::disasm::{disassemble_go, Instruction};
use ferret_gort::BinaryInfo;
use ferret_testkit::fixture::{build_fixture, BuildOptions};
use ferret_testkit::oracle::{self, NmSymbol, ObjdumpInsn};
use ferret_testkit::toolchain::GoToolchain;

/// Names addresses as objdump does: the symbol whose `[start, start+size)`
/// holds the address, among the symbols sorted by address the last one
/// starting at or before it.
struct Symbols(Vec<NmSymbol>);

impl Symbols {
    fn new(mut symbols: Vec<NmSymbol>) -> Symbols {
        // objdump drops the text section's bounds.
        symbols.retain(|s| {
            !matches!(
                s.name.as_str(),
                "runtime.text" | "text" | "_text" | "runtime.etext" | "etext" | "_etext"
            )
        });
        symbols.sort_by_key(|s| s.address);
        Symbols(symbols)
    }

    fn lookup(&self, address: u64) -> Option<(String, u64)> {
        let i = self.0.partition_point(|s| s.address <= address);
        let s = self.0.get(i.checked_sub(1)?)?;
        (s.address != 0 && address < s.address + s.size).then(|| (s.name.clone(), s.address))
    }
}

/// Instructions compared and matched, in one part of a binary.
#[derive(Default)]
struct Tally {
    compared: usize,
    matched: usize,
    /// (function, address, objdump's text, ferret's text) of mismatches.
    mismatches: Vec<(String, u64, String, String)>,
}

impl Tally {
    fn rate(&self) -> f64 {
        100.0 * self.matched as f64 / self.compared.max(1) as f64
    }
}

/// Whether `insn` is VEX- or EVEX-encoded.
fn is_vex(insn: &Instruction) -> bool {
    matches!(insn.bytes.first(), Some(0xc4 | 0xc5 | 0x62)) && insn.text.starts_with(['V', 'K'])
}

/// Compares every function of `binary` (built by `toolchain`) with
/// objdump; returns the tallies for package main and for the rest.
fn compare(toolchain: &GoToolchain, binary: &Path) -> (Tally, Tally) {
    let info = BinaryInfo::open(binary).expect("open fixture");
    let symbols = Symbols::new(oracle::nm(toolchain, binary));
    let lookup = |address: u64| symbols.lookup(address);
    let mut expected: HashMap<String, Vec<ObjdumpInsn>> = HashMap::new();
    for insn in oracle::objdump(toolchain, binary, ".") {
        expected
            .entry(insn.function.clone())
            .or_default()
            .push(insn);
    }
    let current_x86asm = toolchain.minor() >= (1, 27);
    let (mut main, mut rest) = (Tally::default(), Tally::default());
    for function in symbols.0.iter().filter(|s| matches!(s.code, 'T' | 't')) {
        let Some(objdump) = expected.get(&function.name) else {
            continue;
        };
        let code = info
            .image()
            .read_at(function.address, function.size as usize)
            .expect("function code");
        let ours = disassemble_go(code, function.address, &lookup);
        if !current_x86asm && ours.iter().any(is_vex) {
            continue;
        }
        let by_address: HashMap<u64, &str> =
            ours.iter().map(|i| (i.address, i.text.as_str())).collect();
        let tally = if function.name.starts_with("main.") {
            &mut main
        } else {
            &mut rest
        };
        for insn in objdump {
            tally.compared += 1;
            let got = by_address.get(&insn.address).copied().unwrap_or("<none>");
            if got == insn.asm {
                tally.matched += 1;
            } else {
                tally.mismatches.push((
                    function.name.clone(),
                    insn.address,
                    insn.asm.clone(),
                    got.to_owned(),
                ));
            }
        }
    }
    (main, rest)
}

#[test]
fn go_syntax_matches_go_tool_objdump() {
    let mut failures = Vec::new();
    for toolchain in GoToolchain::selected() {
        for options in [BuildOptions::debug(), BuildOptions::optimized()] {
            let binary = build_fixture("vars", &toolchain, &options);
            let (main, rest) = compare(&toolchain, &binary);
            let label = format!("vars {} {}", toolchain.version, options.tag());
            eprintln!(
                "{label}: main {}/{} ({:.3}%), other packages {}/{} ({:.3}%)",
                main.matched,
                main.compared,
                main.rate(),
                rest.matched,
                rest.compared,
                rest.rate()
            );
            for (function, address, want, got) in
                main.mismatches.iter().chain(&rest.mismatches).take(40)
            {
                eprintln!("  {function} {address:#x}: objdump {want:?}, ferret {got:?}");
            }
            assert!(main.compared > 100, "{label}: too few main instructions");
            assert!(rest.compared > 10_000, "{label}: too few instructions");
            if !main.mismatches.is_empty() || !rest.mismatches.is_empty() {
                failures.push(label);
            }
        }
    }
    assert!(failures.is_empty(), "mismatches in {failures:?}");
}
