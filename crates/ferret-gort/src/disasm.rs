//! x86-64 disassembly (iced-x86): instruction boundaries, text in GNU,
//! Intel or Go syntax, and direct call targets (what `step` needs to find
//! the functions a line calls).

mod go;
mod symbols;

pub use symbols::DelveSymbols;

use iced_x86::{
    Decoder, DecoderOptions, FlowControl, Formatter, GasFormatter, IntelFormatter, Mnemonic, OpKind,
};

/// Assembly syntax for [`disassemble`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Syntax {
    /// AT&T / GNU syntax.
    Gnu,
    /// Intel syntax.
    Intel,
    /// Go assembler (Plan 9) syntax, as Delve's Go flavour and
    /// `go tool objdump` print it, without symbol names: see
    /// [`disassemble_go`].
    Go,
}

/// Names addresses for [`disassemble_go`]: given an address, the name and
/// start address of the symbol (function or variable) holding it, if any.
/// Go syntax shows a branch target that starts a symbol as `name(SB)`, and
/// a RIP-relative operand (or a 32-bit `MOV`/`PUSH` immediate) inside one
/// as `name+off(SB)`.
pub type SymbolLookup<'a> = dyn Fn(u64) -> Option<(String, u64)> + 'a;

/// One decoded instruction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instruction {
    /// Address.
    pub address: u64,
    /// The instruction's bytes.
    pub bytes: Vec<u8>,
    /// The instruction as text.
    pub text: String,
    /// For a direct `call` or `jmp`, where it goes.
    pub branch_target: Option<u64>,
    /// A `call` (direct or indirect).
    pub is_call: bool,
    /// A `ret`.
    pub is_return: bool,
}

/// Decodes `code`, which starts at `address`, into instructions.
pub fn disassemble(code: &[u8], address: u64, syntax: Syntax) -> Vec<Instruction> {
    let mut formatter: Box<dyn Formatter> = match syntax {
        Syntax::Gnu => Box::new(GasFormatter::new()),
        Syntax::Intel => Box::new(IntelFormatter::new()),
        Syntax::Go => return disassemble_go(code, address, &|_| None),
    };
    let mut decoder = Decoder::with_ip(64, code, address, DecoderOptions::NONE);
    let mut out = Vec::new();
    for instruction in &mut decoder {
        let mut text = String::new();
        formatter.format(&instruction, &mut text);
        let start = (instruction.ip() - address) as usize;
        let bytes = code[start..start + instruction.len()].to_vec();
        out.push(Instruction {
            address: instruction.ip(),
            bytes,
            text,
            branch_target: direct_target(&instruction),
            is_call: matches!(
                instruction.flow_control(),
                FlowControl::Call | FlowControl::IndirectCall
            ),
            is_return: instruction.mnemonic() == Mnemonic::Ret,
        });
    }
    out
}

/// Decodes `code`, which starts at `address`, into instructions with text
/// in Go assembler (Plan 9) syntax, exactly as Delve's Go flavour and
/// `go tool objdump` print it (golang.org/x/arch/x86/x86asm's `GoSyntax`),
/// naming addresses with `symbols`. Instruction boundaries follow x86asm
/// too: bytes it cannot decode become one-byte `?` instructions.
pub fn disassemble_go(code: &[u8], address: u64, symbols: &SymbolLookup) -> Vec<Instruction> {
    go::disassemble(code, address, symbols)
}

/// Where a direct `call` or `jmp` goes.
fn direct_target(instruction: &iced_x86::Instruction) -> Option<u64> {
    matches!(
        instruction.op0_kind(),
        OpKind::NearBranch64 | OpKind::NearBranch32 | OpKind::NearBranch16
    )
    .then(|| instruction.near_branch_target())
}

/// The targets of the direct calls in `code` (which starts at `address`),
/// in order: decoding only, for callers that need no text.
pub fn direct_call_targets(code: &[u8], address: u64) -> Vec<u64> {
    Decoder::with_ip(64, code, address, DecoderOptions::NONE)
        .into_iter()
        .filter(|i| {
            i.flow_control() == FlowControl::Call
                && matches!(
                    i.op0_kind(),
                    OpKind::NearBranch64 | OpKind::NearBranch32 | OpKind::NearBranch16
                )
        })
        .map(|i| i.near_branch_target())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_calls_and_returns() {
        // call +0 (to the next instruction); ret
        let code = [0xe8, 0x00, 0x00, 0x00, 0x00, 0xc3];
        let insns = disassemble(&code, 0x1000, Syntax::Intel);
        assert_eq!(insns.len(), 2);
        assert!(insns[0].is_call);
        assert_eq!(insns[0].branch_target, Some(0x1005));
        assert!(insns[1].is_return);
        assert_eq!(insns[1].text, "ret");
        assert_eq!(direct_call_targets(&code, 0x1000), vec![0x1005]);
    }

    /// Instructions of the `vars` fixture built by Go 1.27.3, with the text
    /// `go tool objdump` gives them.
    #[test]
    fn go_syntax_reads_as_objdump() {
        let cases: &[(&[u8], &str)] = &[
            (&[0x49, 0x3b, 0x66, 0x10], "CMPQ SP, 0x10(R14)"),
            (&[0xf3, 0x48, 0xab], "REP; STOSQ AX, ES:0(DI)"),
            (&[0xf0, 0x48, 0x0f, 0xb1, 0x0a], "LOCK CMPXCHGQ CX, 0(DX)"),
            (
                &[0x64, 0x4c, 0x8b, 0x34, 0x25, 0xf8, 0xff, 0xff, 0xff],
                "MOVQ FS:0xfffffff8, R14",
            ),
            (
                &[0x48, 0x8d, 0x04, 0x45, 0xff, 0xff, 0xff, 0xff],
                "LEAQ 0xffffffff(AX*2), AX",
            ),
            (&[0x0f, 0x1f, 0x44, 0x00, 0x00], "NOPL 0(AX)(AX*1)"),
            (&[0x66, 0x90], "NOPW"),
            (&[0xcc], "INT $0x3"),
            (
                &[0x62, 0xf2, 0x4d, 0xc9, 0x8d, 0xc4],
                "VPERMB.Z Z4, Z6, K1, Z0",
            ),
        ];
        for (code, text) in cases {
            let insns = disassemble(code, 0x401000, Syntax::Go);
            assert_eq!(insns.len(), 1, "{text}");
            assert_eq!(insns[0].text, *text);
        }
        // x86asm takes the next byte for a ModR/M byte of VZEROUPPER, and
        // cannot decode 0x60 in 64-bit mode.
        let insns = disassemble(&[0xc5, 0xf8, 0x77, 0xe9, 0x60], 0x40c3f5, Syntax::Go);
        let texts: Vec<(usize, &str)> = insns
            .iter()
            .map(|i| (i.bytes.len(), i.text.as_str()))
            .collect();
        assert_eq!(texts, [(4, "VZEROUPPER"), (1, "?")]);
    }

    #[test]
    fn go_syntax_names_symbols() {
        // main.pause and runtime.staticuint64s (2048 bytes) of the same
        // binary.
        let symbols = |address: u64| match address {
            0x4da2a0..0x4da3d4 => Some(("main.pause".to_owned(), 0x4da2a0)),
            0x4eb2a0..0x4ebaa0 => Some(("runtime.staticuint64s".to_owned(), 0x4eb2a0)),
            _ => None,
        };
        let call = disassemble_go(&[0xe8, 0x98, 0x2b, 0x00, 0x00], 0x4d7703, &symbols);
        assert_eq!(call[0].text, "CALL main.pause(SB)");
        assert_eq!(call[0].branch_target, Some(0x4da2a0));
        let lea = disassemble_go(
            &[0x48, 0x8d, 0x15, 0xe7, 0x56, 0x01, 0x00],
            0x4d5bba,
            &symbols,
        );
        assert_eq!(lea[0].text, "LEAQ runtime.staticuint64s+8(SB), DX");
    }
}
