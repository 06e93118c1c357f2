//! Go syntax disassembly compared with `go tool objdump`, instruction by
//! instruction, over every function of a fixture's binary (package main
//! and everything linked in: runtime, standard library, assembly), in debug
//! and optimized builds, for every selected Go toolchain; and, with
//! [`DelveSymbols`] naming addresses, with dlv's own `Disassemble`.
//!
//! Delve prints with the x86asm of golang.org/x/arch v0.28.0, which Go 1.27
//! vendors too. Older toolchains' objdump vendors older x86asm versions,
//! which print differently where x86asm changed since: before Go 1.27 they
//! decode no AVX-512 and fewer VEX instructions, so only functions free of
//! VEX and EVEX instructions are compared; before Go 1.25 they show every
//! immediate inside a symbol as `$name+off(SB)`, where Delve only does so
//! for 32-bit `MOV` and `PUSH`, so other immediates are compared by value.

use std::collections::HashMap;
use std::path::Path;

use ferret_gort::bininfo::VariableLocation;
use ferret_gort::disasm::{disassemble_go, DelveSymbols, Instruction};
use ferret_gort::BinaryInfo;
use ferret_testkit::delve::Delve;
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

    /// The address of the symbol named `name`.
    fn address_of(&self, name: &str) -> Option<u64> {
        self.0.iter().find(|s| s.name == name).map(|s| s.address)
    }
}

/// `text` with its symbolized immediate (`$name+off(SB)`), if any, shown
/// as the number instead, unless the instruction is a `MOVL` or `PUSHL`:
/// Go 1.24's objdump and older symbolize every immediate.
fn unsymbolize_immediate(text: &str, symbols: &Symbols) -> String {
    if text.starts_with("MOVL ") || text.starts_with("PUSHL ") {
        return text.to_owned();
    }
    let Some(start) = text.find('$') else {
        return text.to_owned();
    };
    let Some(len) = text[start..].find("(SB)") else {
        return text.to_owned();
    };
    let symbol = &text[start + 1..start + len];
    let (name, offset) = match symbol.rsplit_once('+') {
        Some((name, offset)) if offset.parse::<u64>().is_ok() => (name, offset.parse().unwrap()),
        _ => (symbol, 0),
    };
    let Some(address) = symbols.address_of(name) else {
        return text.to_owned();
    };
    format!(
        "{}${:#x}{}",
        &text[..start],
        address + offset,
        &text[start + len + 4..]
    )
}

/// Instructions compared and matched, in one part of a binary.
#[derive(Default)]
struct Tally {
    compared: usize,
    matched: usize,
    /// Instructions of functions left out (see the module comment).
    skipped: usize,
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
    let decodes_avx512 = toolchain.minor() >= (1, 27);
    let symbolizes_immediates = toolchain.minor() < (1, 25);
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
        let tally = if function.name.starts_with("main.") {
            &mut main
        } else {
            &mut rest
        };
        if !decodes_avx512 && ours.iter().any(is_vex) {
            tally.skipped += objdump.len();
            continue;
        }
        let by_address: HashMap<u64, &str> =
            ours.iter().map(|i| (i.address, i.text.as_str())).collect();
        for insn in objdump {
            tally.compared += 1;
            let got = by_address.get(&insn.address).copied().unwrap_or("<none>");
            let want = if symbolizes_immediates {
                unsymbolize_immediate(&insn.asm, &symbols)
            } else {
                insn.asm.clone()
            };
            if got == want {
                tally.matched += 1;
            } else {
                tally
                    .mismatches
                    .push((function.name.clone(), insn.address, want, got.to_owned()));
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
                "{label}: main {}/{} ({:.3}%), other packages {}/{} ({:.3}%); \
                 left out {} instructions of functions with VEX or EVEX",
                main.matched,
                main.compared,
                main.rate(),
                rest.matched,
                rest.compared,
                rest.rate(),
                main.skipped + rest.skipped
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

/// The address of package variable `name`, when it has a fixed one.
fn variable_address(info: &BinaryInfo, name: &str) -> Option<u64> {
    let variable = info.package_variable(name).ok()??;
    match &variable.location {
        VariableLocation::Expression(e) if e.len() == 9 && e[0] == 0x03 => {
            Some(u64::from_le_bytes(e[1..].try_into().ok()?))
        }
        _ => None,
    }
}

/// Whether `ours` and `theirs` differ only in naming one of two package
/// variables at the same address: Delve picks among them by the order an
/// unstable sort leaves them in.
fn same_address_variables(info: &BinaryInfo, ours: &str, theirs: &str) -> bool {
    let symbol = |text: &str| -> Option<(String, String)> {
        let end = text.find("(SB)")?;
        let start = text[..end].rfind([' ', '$']).map_or(0, |i| i + 1);
        let name = &text[start..end];
        let name = name.rsplit_once('+').map_or(name, |(n, _)| n);
        Some((name.to_owned(), text.replacen(name, "", 1)))
    };
    match (symbol(ours), symbol(theirs)) {
        (Some((a, rest_a)), Some((b, rest_b))) => {
            rest_a == rest_b
                && variable_address(info, &a).is_some()
                && variable_address(info, &a) == variable_address(info, &b)
        }
        _ => false,
    }
}

/// Packages whose functions the comparison with dlv covers (one request per
/// function): main, and the runtime with its assembly helpers (AVX2 and
/// AVX-512 included).
const DELVE_PACKAGES: &[&str] = &[
    "main.",
    "runtime.",
    "internal/bytealg.",
    "internal/runtime/",
];

#[test]
fn go_syntax_with_delve_symbols_matches_dlv() {
    let mut failures = Vec::new();
    for toolchain in GoToolchain::selected() {
        if !Delve::supports(&toolchain) {
            continue;
        }
        let binary = build_fixture("vars", &toolchain, &BuildOptions::debug());
        let label = format!("vars {} dbg", toolchain.version);
        let info = BinaryInfo::open(&binary).expect("open fixture");
        let symbols = DelveSymbols::new(&info).expect("symbols");
        let lookup = |address: u64| symbols.lookup(address);
        let mut delve = Delve::exec(&binary);
        let (mut compared, mut aliased, mut mismatches) = (0, 0, Vec::new());
        let functions = Symbols::new(oracle::nm(&toolchain, &binary));
        for function in functions.0.iter().filter(|s| {
            matches!(s.code, 'T' | 't') && DELVE_PACKAGES.iter().any(|p| s.name.starts_with(p))
        }) {
            let end = function.address + function.size;
            let code = info
                .image()
                .read_at(function.address, function.size as usize)
                .expect("function code");
            let ours = disassemble_go(code, function.address, &lookup);
            // The parameters, collected into a JSON object (2: Go flavour).
            let params = [
                ("StartPC", function.address),
                ("EndPC", end),
                ("Flavour", 2),
            ];
            let theirs = delve
                .call("Disassemble", params.into_iter().collect())
                .unwrap_or_else(|e| panic!("{label}: dlv Disassemble {}: {e}", function.name));
            let theirs: Vec<(u64, &str)> = theirs["Disassemble"]
                .as_array()
                .expect("instructions")
                .iter()
                .map(|i| {
                    (
                        i["Loc"]["pc"].as_u64().unwrap_or(0),
                        i["Text"].as_str().unwrap_or(""),
                    )
                })
                .collect();
            let by_address: HashMap<u64, &str> =
                ours.iter().map(|i| (i.address, i.text.as_str())).collect();
            for (address, text) in theirs {
                compared += 1;
                let got = by_address.get(&address).copied().unwrap_or("<none>");
                if got == text {
                    continue;
                }
                if same_address_variables(&info, got, text) {
                    aliased += 1;
                } else {
                    mismatches.push(format!(
                        "{} {address:#x}: dlv {text:?}, ferret {got:?}",
                        function.name
                    ));
                }
            }
        }
        eprintln!(
            "{label}: {} of {compared} instructions as dlv prints them, \
             {aliased} more naming another variable at the same address",
            compared - aliased - mismatches.len()
        );
        for m in mismatches.iter().take(40) {
            eprintln!("  {m}");
        }
        assert!(
            compared > 50_000,
            "{label}: only {compared} instructions compared"
        );
        if !mismatches.is_empty() {
            failures.push(label);
        }
    }
    assert!(failures.is_empty(), "mismatches with dlv in {failures:?}");
}
