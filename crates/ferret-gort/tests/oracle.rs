//! ferret's binary info compared with Go's own tools (`nm`, `addr2line`,
//! `objdump`, `go version -m`) on every fixture, built by every selected Go
//! toolchain, in debug, optimized and `-trimpath` variants.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;

use ferret_gort::bininfo::{CfaRule, RegisterRule};
use ferret_gort::{BinaryError, BinaryInfo};
use ferret_testkit::fixture::{build_fixture, fixture_dir, BuildOptions};
use ferret_testkit::oracle::{self, ObjdumpInsn};
use ferret_testkit::toolchain::GoToolchain;

/// Fixtures every oracle test covers.
const FIXTURES: &[&str] = &["hello"];

/// One fixture built one way.
struct Case {
    toolchain: GoToolchain,
    fixture: &'static str,
    options: BuildOptions,
    binary: PathBuf,
}

impl Case {
    fn label(&self) -> String {
        format!(
            "{} {} {}",
            self.fixture,
            self.toolchain.version,
            self.options.tag()
        )
    }
}

/// Every (toolchain, fixture, build variant) combination.
fn cases() -> Vec<Case> {
    let variants = [
        BuildOptions::debug(),
        BuildOptions::optimized(),
        BuildOptions {
            trimpath: true,
            ..BuildOptions::debug()
        },
    ];
    let mut out = Vec::new();
    for toolchain in GoToolchain::selected() {
        for fixture in FIXTURES {
            for options in &variants {
                let binary = build_fixture(fixture, &toolchain, options);
                out.push(Case {
                    toolchain: toolchain.clone(),
                    fixture,
                    options: options.clone(),
                    binary,
                });
            }
        }
    }
    out
}

fn open(case: &Case) -> BinaryInfo {
    BinaryInfo::open(&case.binary).unwrap_or_else(|e| panic!("{}: open failed: {e}", case.label()))
}

fn basename(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// The main package's instructions, from objdump.
fn main_instructions(case: &Case) -> Vec<ObjdumpInsn> {
    oracle::objdump(&case.toolchain, &case.binary, r"^main\.")
}

/// The 1-based line of the first source line of `file` containing `needle`.
fn source_line(fixture: &str, file: &str, needle: &str) -> u32 {
    let text =
        std::fs::read_to_string(fixture_dir(fixture).join(file)).expect("read fixture source");
    let index = text
        .lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("{needle:?} not in {file}"));
    index as u32 + 1
}

#[test]
fn symbol_table_matches_go_tool_nm() {
    for case in cases() {
        let info = open(&case);
        // Before Go 1.27, nm called bss symbols D; ferret says B, as 1.27 does.
        let old_nm = case.toolchain.minor() < (1, 27);
        let as_old_nm = |code: char| match code {
            'B' if old_nm => 'D',
            'b' if old_nm => 'd',
            other => other,
        };
        let ours: BTreeSet<(u64, String, char, u64)> = info
            .symbols()
            .iter()
            .map(|s| (s.address, s.name.clone(), as_old_nm(s.code), s.size))
            .collect();
        let theirs: BTreeSet<(u64, String, char, u64)> = oracle::nm(&case.toolchain, &case.binary)
            .into_iter()
            .map(|s| (s.address, s.name, s.code, s.size))
            .collect();
        let missing: Vec<_> = theirs.difference(&ours).take(5).collect();
        let extra: Vec<_> = ours.difference(&theirs).take(5).collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "{}: nm only {missing:?}; ferret only {extra:?}",
            case.label()
        );
        assert!(
            theirs.len() > 1000,
            "{}: suspiciously few symbols",
            case.label()
        );
    }
}

#[test]
fn function_entries_match_go_tool_nm() {
    for case in cases() {
        let info = open(&case);
        let nm = oracle::nm(&case.toolchain, &case.binary);
        let text: HashMap<&str, u64> = nm
            .iter()
            .filter(|s| s.code.eq_ignore_ascii_case(&'T'))
            .map(|s| (s.name.as_str(), s.address))
            .collect();
        let functions = info.functions().expect("function index");
        assert!(
            functions.len() > 1000,
            "{}: only {} functions",
            case.label(),
            functions.len()
        );
        for f in functions {
            // Every DWARF function is a text symbol at the same address;
            // assembly functions are `name.abi0` in the symbol table.
            // and DWARF keeps a middle dot where the symbol table has '.'.
            let name = f.name.replace('·', ".");
            let plain = text.get(name.as_str());
            let abi0 = text.get(format!("{name}.abi0").as_str());
            assert!(
                plain == Some(&f.entry) || abi0 == Some(&f.entry),
                "{}: function {} at {:#x}, nm has {plain:x?} / .abi0 {abi0:x?}",
                case.label(),
                f.name,
                f.entry
            );
        }
        // Every main-package text symbol is found by name, at nm's address.
        let mut main_symbols = 0;
        for s in nm
            .iter()
            .filter(|s| s.code == 'T' && s.name.starts_with("main.") && s.size > 0)
        {
            main_symbols += 1;
            let f = info
                .function_by_name(&s.name)
                .expect("lookup")
                .unwrap_or_else(|| {
                    panic!("{}: {} not found by name", case.label(), s.name);
                });
            assert_eq!(f.entry, s.address, "{}: entry of {}", case.label(), s.name);
            assert_eq!(
                f.end,
                s.address + s.size,
                "{}: end of {}",
                case.label(),
                s.name
            );
        }
        assert!(
            main_symbols >= 2,
            "{}: expected the fixture's functions in nm",
            case.label()
        );
    }
}

#[test]
fn pc_to_line_matches_go_tool_addr2line() {
    for case in cases() {
        let info = open(&case);
        let nm = oracle::nm(&case.toolchain, &case.binary);
        // Every function entry, middle and last byte.
        let mut pcs = Vec::new();
        for s in nm.iter().filter(|s| s.code == 'T' && s.size > 0) {
            pcs.extend([s.address, s.address + s.size / 2, s.address + s.size - 1]);
        }
        let answers = oracle::addr2line(&case.toolchain, &case.binary, &pcs);
        let mut compared = 0;
        for (pc, want) in pcs.iter().zip(&answers) {
            let got = info.pc_info(*pc).expect("pc_info");
            if want.function == "?" {
                assert!(
                    got.is_none(),
                    "{}: {pc:#x}: addr2line knows nothing, ferret says {got:?}",
                    case.label()
                );
                continue;
            }
            let got = got.unwrap_or_else(|| {
                panic!(
                    "{}: {pc:#x}: ferret has nothing, addr2line {want:?}",
                    case.label()
                )
            });
            let innermost = &got.frames[0];
            assert_eq!(
                got.function.name,
                want.function,
                "{}: function at {pc:#x}",
                case.label()
            );
            assert_eq!(
                (innermost.file.as_str(), innermost.line),
                (want.file.as_str(), want.line),
                "{}: file:line at {pc:#x} ({})",
                case.label(),
                want.function
            );
            compared += 1;
        }
        assert!(
            compared > 3000,
            "{}: only {compared} addresses compared",
            case.label()
        );
    }
}

#[test]
fn every_main_instruction_matches_go_tool_objdump() {
    for case in cases() {
        let info = open(&case);
        let insns = main_instructions(&case);
        assert!(
            insns.len() > 100,
            "{}: objdump gave {} instructions",
            case.label(),
            insns.len()
        );
        for insn in &insns {
            let got = info
                .pc_info(insn.address)
                .expect("pc_info")
                .unwrap_or_else(|| {
                    panic!(
                        "{}: no info at {:#x} ({})",
                        case.label(),
                        insn.address,
                        insn.function
                    )
                });
            let innermost = &got.frames[0];
            assert_eq!(
                got.function.name,
                insn.function,
                "{}: function at {:#x}",
                case.label(),
                insn.address
            );
            assert_eq!(
                (basename(&innermost.file), innermost.line),
                (insn.file.as_str(), insn.line),
                "{}: line at {:#x} in {}",
                case.label(),
                insn.address,
                insn.function
            );
        }
    }
}

#[test]
fn line_to_pcs_agrees_with_go_tool_objdump() {
    for case in cases() {
        let info = open(&case);
        let insns = main_instructions(&case);
        let main_go = info
            .pc_info(info.function_by_name("main.main").unwrap().unwrap().entry)
            .unwrap()
            .unwrap()
            .frames[0]
            .file
            .clone();
        // objdump's view: line -> addresses of instructions on it.
        let mut by_line: BTreeMap<u32, BTreeSet<u64>> = BTreeMap::new();
        for insn in insns.iter().filter(|i| i.file == "main.go") {
            by_line.entry(insn.line).or_default().insert(insn.address);
        }
        let mut lines_with_statements = 0;
        for (line, addresses) in &by_line {
            let pcs = info.line_to_pcs(&main_go, *line).expect("line_to_pcs");
            for pc in &pcs {
                assert!(
                    addresses.contains(pc),
                    "{}: ferret gives {pc:#x} for main.go:{line}, objdump has {addresses:x?}",
                    case.label()
                );
            }
            // Suffix and absolute spellings give the same answer.
            assert_eq!(
                info.line_to_pcs("main.go", *line).unwrap(),
                pcs,
                "{}: main.go:{line}",
                case.label()
            );
            if !pcs.is_empty() {
                lines_with_statements += 1;
            }
        }
        assert!(
            lines_with_statements * 10 >= by_line.len() * 8,
            "{}: only {lines_with_statements} of {} lines have statement PCs",
            case.label(),
            by_line.len()
        );
    }
}

#[test]
fn locations_resolve_like_go_tools_say() {
    for case in cases() {
        let info = open(&case);
        let nm = oracle::nm(&case.toolchain, &case.binary);
        let insns = main_instructions(&case);
        let symbol = |name: &str| nm.iter().find(|s| s.name == name && s.code == 'T').cloned();
        for name in [
            "main.main",
            "main.(*Counter).Add",
            "main.Counter.Describe",
            "main.worker",
        ] {
            let Some(sym) = symbol(name) else {
                // The optimizer may inline a function away entirely.
                assert!(
                    case.options.optimized,
                    "{}: {name} missing from nm",
                    case.label()
                );
                continue;
            };
            let l = info
                .resolve_location(name)
                .unwrap_or_else(|e| panic!("{}: {name}: {e}", case.label()));
            assert_eq!(
                l.function.as_deref(),
                Some(name),
                "{}: {name}",
                case.label()
            );
            assert!(
                sym.address <= l.pc && l.pc < sym.address + sym.size,
                "{}: {name} at {:#x}",
                case.label(),
                l.pc
            );
            // The address is an instruction start on the line objdump shows.
            let insn = insns.iter().find(|i| i.address == l.pc).unwrap_or_else(|| {
                panic!(
                    "{}: {name} resolved to {:#x}, not an instruction start",
                    case.label(),
                    l.pc
                )
            });
            assert_eq!(
                (basename(&l.file), l.line),
                (insn.file.as_str(), insn.line),
                "{}: {name}",
                case.label()
            );
        }

        // A source line: the lowest statement address of the line, per function.
        // (Optimized builds may keep no instruction on it: then not found.)
        let line = source_line(case.fixture, "main.go", "fmt.Println(c.Describe())");
        let spec = format!("main.go:{line}");
        let on_line: Vec<u64> = insns
            .iter()
            .filter(|i| i.file == "main.go" && i.line == line)
            .map(|i| i.address)
            .collect();
        if on_line.is_empty() {
            assert!(matches!(
                info.resolve_location(&spec),
                Err(BinaryError::LocationNotFound { .. })
            ));
            continue;
        }
        let location = info
            .resolve_location(&spec)
            .unwrap_or_else(|e| panic!("{}: {spec}: {e}", case.label()));
        assert!(
            on_line.contains(&location.pc),
            "{}: {spec} -> {:#x}",
            case.label(),
            location.pc
        );
        assert_eq!(location.line, line);
        let absolute = format!("{}:{line}", location.file);
        assert_eq!(
            info.resolve_location(&absolute).unwrap(),
            location,
            "{}: {absolute}",
            case.label()
        );

        // Errors say what went wrong.
        assert!(matches!(
            info.resolve_location("main.nosuch"),
            Err(BinaryError::LocationNotFound { .. })
        ));
        assert!(matches!(
            info.resolve_location("main.go:100000"),
            Err(BinaryError::LocationNotFound { .. })
        ));
        assert!(matches!(
            info.resolve_location("nosuchfile.go:3"),
            Err(BinaryError::LocationNotFound { .. })
        ));
        assert!(matches!(
            info.resolve_location("proc.go:10"),
            Err(BinaryError::AmbiguousLocation { .. })
        ));
        assert!(matches!(
            info.resolve_location("+2"),
            Err(BinaryError::BadLocation { .. })
        ));
    }
}

#[test]
fn inlined_calls_have_their_call_chain() {
    let body_line = source_line("hello", "main.go", "return x * x");
    let call_line = source_line("hello", "main.go", "total += square(i)");
    for case in cases().into_iter().filter(|c| c.options.optimized) {
        let info = open(&case);
        let insns = main_instructions(&case);
        let inlined: Vec<&ObjdumpInsn> = insns
            .iter()
            .filter(|i| i.file == "main.go" && i.line == body_line)
            .collect();
        assert!(
            !inlined.is_empty(),
            "{}: square's body not found in objdump",
            case.label()
        );
        for insn in inlined {
            let got = info.pc_info(insn.address).unwrap().unwrap();
            let names: Vec<&str> = got.frames.iter().map(|f| f.function.as_str()).collect();
            assert_eq!(
                names[0],
                "main.square",
                "{}: {:#x}: {names:?}",
                case.label(),
                insn.address
            );
            assert_eq!(
                got.frames[0].line,
                body_line,
                "{}: {:#x}",
                case.label(),
                insn.address
            );
            assert_eq!(
                got.frames[1].line,
                call_line,
                "{}: call site of square at {:#x}",
                case.label(),
                insn.address
            );
            assert_eq!(
                names.last().copied(),
                Some(insn.function.as_str()),
                "{}: outermost",
                case.label()
            );
        }
    }
}

#[test]
fn cfa_follows_the_stack_pointer_through_each_prologue() {
    const RSP: u16 = 7;
    const RETURN_ADDRESS: u16 = 16;
    for case in cases().into_iter().filter(|c| !c.options.optimized) {
        let info = open(&case);
        let insns = main_instructions(&case);
        let mut checked = 0;
        let mut by_function: BTreeMap<&str, Vec<&ObjdumpInsn>> = BTreeMap::new();
        for insn in &insns {
            by_function.entry(&insn.function).or_default().push(insn);
        }
        for (function, body) in by_function {
            // Walk straight-line code from the entry, tracking how far SP has
            // moved, until the first return or jump.
            let mut sp_moved: i64 = 0;
            for insn in body {
                let rule = info.frame_rule(insn.address).unwrap().unwrap_or_else(|| {
                    panic!(
                        "{}: no CFI at {:#x} in {function}",
                        case.label(),
                        insn.address
                    )
                });
                assert_eq!(
                    rule.cfa,
                    CfaRule::RegisterOffset {
                        register: RSP,
                        offset: 8 + sp_moved
                    },
                    "{}: CFA at {:#x} in {function} ({})",
                    case.label(),
                    insn.address,
                    insn.asm
                );
                assert_eq!(rule.return_address_register, RETURN_ADDRESS);
                assert_eq!(
                    rule.register(RETURN_ADDRESS),
                    Some(RegisterRule::AtCfaOffset(-8))
                );
                checked += 1;
                let asm = insn.asm.as_str();
                if asm.starts_with("RET")
                    || asm.starts_with("JMP")
                    || asm.starts_with("CALL runtime.morestack")
                {
                    break;
                }
                sp_moved += stack_adjustment(asm);
            }
        }
        assert!(
            checked > 50,
            "{}: only {checked} instructions checked",
            case.label()
        );
    }
}

/// How much an instruction moves SP down (positive) or up (negative).
fn stack_adjustment(asm: &str) -> i64 {
    let imm = |s: &str| {
        let s = s.trim().trim_start_matches('$');
        let s = s.trim_start_matches("0x");
        i64::from_str_radix(s, 16).unwrap_or(0)
    };
    if asm.starts_with("PUSHQ") {
        8
    } else if asm.starts_with("POPQ") {
        -8
    } else if let Some(rest) = asm
        .strip_prefix("SUBQ ")
        .filter(|r| r.trim_end().ends_with(", SP"))
    {
        imm(rest.trim_end().trim_end_matches(", SP"))
    } else if let Some(rest) = asm
        .strip_prefix("ADDQ ")
        .filter(|r| r.trim_end().ends_with(", SP"))
    {
        -imm(rest.trim_end().trim_end_matches(", SP"))
    } else {
        0
    }
}

#[test]
fn build_info_matches_go_version_m() {
    for case in cases() {
        let info = open(&case);
        let (version, lines) = oracle::version_m(&case.toolchain, &case.binary);
        let build = info.build_info();
        assert_eq!(build.go_version, version, "{}", case.label());
        assert_eq!(build.module_lines, lines, "{}", case.label());
        assert_eq!(build.main_path, "example.com/hello", "{}", case.label());
        assert_eq!(build.main_module, "example.com/hello", "{}", case.label());
        let trimpath = build
            .settings
            .iter()
            .any(|(k, v)| k == "-trimpath" && v == "true");
        assert_eq!(trimpath, case.options.trimpath, "{}", case.label());
    }
}

#[test]
fn packages_files_and_types_are_listed() {
    for case in cases() {
        let info = open(&case);
        let packages = info.packages();
        for p in ["main", "runtime", "fmt", "sync"] {
            assert!(
                packages.iter().any(|x| x == p),
                "{}: package {p} missing",
                case.label()
            );
        }
        let files = info.source_files().unwrap();
        assert!(
            files
                .iter()
                .any(|f| f.ends_with("main.go") && f.contains("hello")),
            "{}",
            case.label()
        );
        assert!(
            files.iter().any(|f| f.ends_with("runtime/proc.go")),
            "{}",
            case.label()
        );
        let types = info.types().unwrap();
        let mut expected = vec!["main.Counter", "int", "string"];
        if !case.options.optimized {
            expected.push("*main.Counter");
        }
        for t in expected {
            assert!(
                types.iter().any(|x| x.name == t),
                "{}: type {t} missing",
                case.label()
            );
        }
    }
}

/// A scratch directory for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = ferret_testkit::target_dir()
        .join("scratch")
        .join(format!("{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn bad_binaries_get_clear_errors() {
    let dir = scratch("bad-binaries");
    let toolchain = &GoToolchain::selected()[0];
    let good = build_fixture("hello", toolchain, &BuildOptions::debug());

    let missing = dir.join("does-not-exist");
    assert!(matches!(
        BinaryInfo::open(&missing),
        Err(BinaryError::Io { .. })
    ));
    assert!(matches!(
        BinaryInfo::open(&dir),
        Err(BinaryError::IsDirectory { .. })
    ));

    let text = dir.join("script.sh");
    std::fs::write(&text, "#!/bin/sh\necho hi\n").unwrap();
    assert!(matches!(
        BinaryInfo::open(&text),
        Err(BinaryError::NotElf { .. })
    ));
    let empty = dir.join("empty");
    std::fs::write(&empty, "").unwrap();
    assert!(matches!(
        BinaryInfo::open(&empty),
        Err(BinaryError::NotElf { .. })
    ));

    // A C program is ELF but not Go.
    let c_source = dir.join("hello.c");
    std::fs::write(&c_source, "int main(void) { return 0; }\n").unwrap();
    let c_binary = dir.join("hello-c");
    let status = std::process::Command::new("gcc")
        .arg("-g")
        .arg("-o")
        .arg(&c_binary)
        .arg(&c_source)
        .status();
    assert!(status.is_ok_and(|s| s.success()), "gcc failed");
    let err = BinaryInfo::open(&c_binary).unwrap_err();
    assert!(matches!(err, BinaryError::NotGo { .. }), "{err}");

    // Stripped: the message says how to rebuild.
    let stripped = build_fixture(
        "hello",
        toolchain,
        &BuildOptions {
            ldflags: Some("-s -w".into()),
            ..Default::default()
        },
    );
    let err = BinaryInfo::open(&stripped).unwrap_err();
    assert!(matches!(err, BinaryError::Stripped { .. }), "{err}");
    assert!(
        err.to_string().contains("-s -w") && err.to_string().contains("rebuild"),
        "{err}"
    );

    // Truncated at several points: inside the ELF header, inside section
    // data, and just before the section header table at the end.
    let bytes = std::fs::read(&good).unwrap();
    for cut in [32, 4096, bytes.len() / 2, bytes.len() - 64] {
        let path = dir.join(format!("truncated-{cut}"));
        std::fs::write(&path, &bytes[..cut]).unwrap();
        let err = BinaryInfo::open(&path).unwrap_err();
        assert!(
            matches!(err, BinaryError::Truncated { .. }),
            "cut at {cut}: {err}"
        );
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn the_cli_prints_binary_info() {
    let toolchain = &GoToolchain::selected()[0];
    let binary = build_fixture("hello", toolchain, &BuildOptions::debug());
    let ferret = ferret_testkit::ferret_binary();
    let out = std::process::Command::new(&ferret)
        .arg("bininfo")
        .arg(&binary)
        .args(["--resolve", "main.main"])
        .output()
        .expect("run ferret");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains(&format!("go:      {}", toolchain.version)),
        "{stdout}"
    );
    assert!(stdout.contains("location main.main: 0x"), "{stdout}");

    let out = std::process::Command::new(&ferret)
        .arg("bininfo")
        .arg("/nonexistent/prog")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot open /nonexistent/prog"));
}

#[test]
fn locations_match_dlv_find_location() {
    use ferret_testkit::delve::Delve;
    let source_lines = std::fs::read_to_string(fixture_dir("hello").join("main.go"))
        .unwrap()
        .lines()
        .count() as u32;
    let mut compared = 0;
    for case in cases()
        .into_iter()
        .filter(|c| Delve::supports(&c.toolchain))
    {
        let info = open(&case);
        let mut dlv = Delve::exec(&case.binary);
        let mut specs: Vec<String> = [
            "main.main",
            "main.(*Counter).Add",
            "main.Counter.Describe",
            "main.sumSquares",
            "main.square",
            "main.makeAdder",
            "main.worker",
            "main.makeAdder.func1",
            "main.nosuch",
            "runtime.gopark",
            "fmt.Println",
            "sync.(*WaitGroup).Done",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        // Every line of the fixture, with and without code.
        specs.extend((1..=source_lines + 1).map(|l| format!("main.go:{l}")));
        for spec in &specs {
            let theirs = dlv.find_location(spec);
            let ours = info.resolve_location(spec);
            match (&theirs, &ours) {
                (Ok(theirs), Ok(ours)) => {
                    assert_eq!(
                        theirs.len(),
                        1,
                        "{}: {spec}: dlv gave {theirs:?}",
                        case.label()
                    );
                    let ours = (
                        ours.pc,
                        ours.pcs.clone(),
                        ours.file.clone(),
                        ours.line,
                        ours.function.clone(),
                    );
                    assert_eq!(ours, theirs[0], "{}: {spec}", case.label());
                }
                (Err(_), Err(_)) => {}
                _ => panic!("{}: {spec}: dlv {theirs:?}, ferret {ours:?}", case.label()),
            }
            compared += 1;
        }
    }
    let any_supported = GoToolchain::selected().iter().any(Delve::supports);
    assert!(
        !any_supported || compared > 0,
        "no location was compared with dlv"
    );
}
