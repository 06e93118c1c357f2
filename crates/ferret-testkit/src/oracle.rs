//! Go's own tools as oracles: run them on a binary and parse their output.

use std::io::Write;
use std::path::Path;
use std::process::Stdio;

use crate::toolchain::GoToolchain;

/// One line of `go tool nm -size`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NmSymbol {
    /// Address.
    pub address: u64,
    /// Size in bytes.
    pub size: u64,
    /// Kind letter (T, R, D, B, U, lower case for locals).
    pub code: char,
    /// Name (may contain spaces, e.g. type symbols).
    pub name: String,
}

/// One instruction line of `go tool objdump`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjdumpInsn {
    /// Function the instruction belongs to (from the `TEXT` header).
    pub function: String,
    /// Base name of the source file, as objdump prints it.
    pub file: String,
    /// Source line.
    pub line: u32,
    /// Address.
    pub address: u64,
    /// Disassembly in Go syntax.
    pub asm: String,
}

/// One answer of `go tool addr2line`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Addr2Line {
    /// Function name, `?` when unknown.
    pub function: String,
    /// Full file path, `?` when unknown.
    pub file: String,
    /// Line, 0 when unknown.
    pub line: u32,
}

/// Runs `go tool <args>` and returns stdout; panics with stderr on failure.
fn go_tool(toolchain: &GoToolchain, args: &[&str], stdin: Option<&str>) -> String {
    let mut cmd = toolchain.command();
    cmd.arg("tool")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    });
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run go tool {args:?}: {e}"));
    if let Some(input) = stdin {
        let mut pipe = child.stdin.take().expect("stdin piped");
        let input = input.to_owned();
        // Feed stdin from a thread so a chatty tool cannot deadlock us.
        std::thread::spawn(move || pipe.write_all(input.as_bytes()));
    }
    let out = child.wait_with_output().expect("wait for go tool");
    assert!(
        out.status.success(),
        "go tool {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `go tool nm -size -n <binary>`.
pub fn nm(toolchain: &GoToolchain, binary: &Path) -> Vec<NmSymbol> {
    let text = go_tool(
        toolchain,
        &["nm", "-size", "-n", &binary.to_string_lossy()],
        None,
    );
    text.lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            if fields.len() < 4 {
                return None;
            }
            let address = u64::from_str_radix(fields[0], 16).ok()?;
            let size = fields[1].parse().ok()?;
            let code = fields[2].chars().next()?;
            // The name is everything after the kind letter.
            let after_code = line.find(&format!(" {} ", fields[2]))? + fields[2].len() + 2;
            Some(NmSymbol {
                address,
                size,
                code,
                name: line[after_code..].to_owned(),
            })
        })
        .collect()
}

/// `go tool addr2line` for each of `pcs`, in order.
pub fn addr2line(toolchain: &GoToolchain, binary: &Path, pcs: &[u64]) -> Vec<Addr2Line> {
    let input: String = pcs.iter().map(|pc| format!("{pc:#x}\n")).collect();
    let text = go_tool(
        toolchain,
        &["addr2line", &binary.to_string_lossy()],
        Some(&input),
    );
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines.len(),
        2 * pcs.len(),
        "addr2line answered {} lines for {} addresses",
        lines.len(),
        pcs.len()
    );
    lines
        .chunks(2)
        .map(|pair| {
            let (file, line) = pair[1].rsplit_once(':').unwrap_or((pair[1], "0"));
            Addr2Line {
                function: pair[0].to_owned(),
                file: file.to_owned(),
                line: line.parse().unwrap_or(0),
            }
        })
        .collect()
}

/// `go tool objdump -s <regexp> <binary>`: every instruction of the
/// functions whose names match.
pub fn objdump(toolchain: &GoToolchain, binary: &Path, regexp: &str) -> Vec<ObjdumpInsn> {
    let text = go_tool(
        toolchain,
        &["objdump", "-s", regexp, &binary.to_string_lossy()],
        None,
    );
    let mut function = String::new();
    let mut out = Vec::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("TEXT ") {
            function = rest.split("(SB)").next().unwrap_or("").to_owned();
            continue;
        }
        let fields: Vec<&str> = line.trim().split('\t').filter(|f| !f.is_empty()).collect();
        if fields.len() < 3 {
            continue;
        }
        let Some((file, line_no)) = fields[0].rsplit_once(':') else {
            continue;
        };
        let Ok(address) = u64::from_str_radix(fields[1].trim_start_matches("0x"), 16) else {
            continue;
        };
        out.push(ObjdumpInsn {
            function: function.clone(),
            file: file.to_owned(),
            line: line_no.parse().unwrap_or(0),
            address,
            asm: fields.get(3).map_or("", |s| s.trim()).to_owned(),
        });
    }
    out
}

/// The module lines of `go version -m <binary>` (without the leading tab),
/// and the Go version from its first line.
pub fn version_m(toolchain: &GoToolchain, binary: &Path) -> (String, Vec<String>) {
    let out = toolchain
        .command()
        .arg("version")
        .arg("-m")
        .arg(binary)
        .output()
        .expect("run go version -m");
    assert!(
        out.status.success(),
        "go version -m failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let mut lines = text.lines();
    let version = lines
        .next()
        .and_then(|l| l.rsplit(' ').next())
        .unwrap_or("")
        .to_owned();
    (
        version,
        lines
            .map(|l| l.trim_start_matches('\t').to_owned())
            .collect(),
    )
}

/// Symbol addresses of any ELF file from GNU `nm` (for C test programs).
pub fn gnu_nm(binary: &Path) -> std::collections::HashMap<String, u64> {
    let out = std::process::Command::new("nm")
        .arg(binary)
        .output()
        .expect("run nm");
    assert!(
        out.status.success(),
        "nm failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|line| {
            let mut fields = line.split_whitespace();
            let address = u64::from_str_radix(fields.next()?, 16).ok()?;
            let _kind = fields.next()?;
            Some((fields.next()?.to_owned(), address))
        })
        .collect()
}

/// The ELF entry point, from `readelf -h`.
pub fn elf_entry(binary: &Path) -> u64 {
    let out = std::process::Command::new("readelf")
        .arg("-h")
        .arg(binary)
        .output()
        .expect("run readelf");
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .find(|l| l.contains("Entry point address:"))
        .expect("entry point line");
    let hex = line
        .rsplit(' ')
        .next()
        .expect("address")
        .trim_start_matches("0x");
    u64::from_str_radix(hex, 16).expect("hex entry point")
}
