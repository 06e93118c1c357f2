//! Go assembler (Plan 9) syntax for x86-64, as `go tool objdump` and Delve's
//! Go flavour print it. Both print with `GoSyntax` of
//! golang.org/x/arch/x86/x86asm (v0.28.0 for Delve and Go 1.27); here
//! iced-x86 decodes, the instruction is rebuilt the way x86asm's decoder
//! sees it (operands in Intel order, operand size, memory operand size, the
//! role of each prefix byte, its length) and printed by the same rules:
//!
//! - operands are reversed (destination last), except for `CMP`, which
//!   keeps the Intel order;
//! - general-purpose instructions take a size suffix (`B`, `W`, `L`, `Q`)
//!   from the size of their memory operand, else from the operand size
//!   (hence `MOVL $0xff, AL`), except that a lone 64-bit register gives `Q`
//!   (`PUSHQ BP`);
//! - registers go by their 64-bit names (`AX`, `R8`, `X0`, `Y1`, `Z2`, `K1`);
//! - memory is `seg:disp(base)(index*scale)`, RIP-relative `disp(IP)`, or
//!   `name+off(SB)` when the address lies in a symbol;
//! - immediates are `$0x…` (`$-0x…` when negative and within 32 bits);
//! - branch targets are absolute addresses, or `name(SB)` at a symbol's
//!   start;
//! - `REP` and `REPNE` print as opcodes of their own (`REP; STOSQ …`);
//!   besides them only the last prefix byte the instruction does not
//!   consume itself is shown (`LOCK`, `CS`, `FS`, branch hints `PN`/`PT`),
//!   and an operand- or address-size prefix after it hides it;
//! - AVX-512 masks follow the destination, and broadcast, rounding and
//!   zeroing decorate the opcode (`VPERMB.Z Z4, Z6, K1, Z0`).
//!
//! x86asm's quirks are kept so that the text matches byte for byte: a
//! 32-bit displacement of a legacy (non-VEX) instruction is read unsigned
//! (`0xffffff00(SP)`; a RIP-relative one pointing backwards then finds no
//! symbol); VEX and EVEX RIP-relative operands lose their `(IP)` base;
//! `VZEROUPPER` and `VZEROALL` swallow a ModR/M byte (and what it implies)
//! they do not have; instructions x86asm does not know (BMI1/BMI2, ADX,
//! `ENDBR64`, VMX, …) and VEX/EVEX encodings setting a length or W bit the
//! instruction ignores are undecodable. Undecodable bytes become one-byte
//! instructions: `?`, or, when the byte is a legacy prefix, that prefix as
//! an instruction without opcode (`LOCK Op(0)`), which is what Delve shows
//! where objdump shows `?`.
//!
//! Checked against x86asm over every opcode with many prefix, ModR/M and
//! VEX/EVEX field combinations: every encoding iced holds valid prints the
//! same, but for a few privileged or rare ones that x86asm reads as other
//! instructions (`LOCK MOV CR0` as `MOV CR8`, `PTWRITE` as `REP; XSAVE`,
//! `TPAUSE` and `UMWAIT` on register 0 as `MFENCE`, VMX instructions with
//! REX.W as `RDRAND`). Invalid encodings x86asm decodes anyway may differ
//! too (`MOV` to a test register, a 0x66 prefix the instruction does not
//! take, AVX-512 masking or rounding the instruction does not allow).

use iced_x86::{
    Code, CpuidFeature, Decoder, DecoderOptions, EncodingKind, FlowControl, Instruction as Decoded,
    MemorySize, Mnemonic, OpKind, Register, RoundingControl,
};

use super::{Instruction, SymbolLookup};

/// Decodes `code`, which starts at `address`, into instructions with Go
/// syntax text; `symbols` names addresses (see [`SymbolLookup`]).
pub(super) fn disassemble(code: &[u8], address: u64, symbols: &SymbolLookup) -> Vec<Instruction> {
    // x86asm decodes what the processor would reject (a misplaced LOCK, say).
    let mut decoder = Decoder::with_ip(64, code, address, DecoderOptions::NO_INVALID_CHECK);
    let mut out = Vec::new();
    let mut offset = 0;
    while offset < code.len() {
        let pc = address + offset as u64;
        decoder
            .set_position(offset)
            .expect("offset lies within the code");
        decoder.set_ip(pc);
        let decoded = decoder.decode();
        let rest = &code[offset..];
        let insn = match GoInst::new(&decoded, rest) {
            Some(go) => Instruction {
                address: pc,
                bytes: rest[..go.len].to_vec(),
                text: go.text(symbols),
                branch_target: super::direct_target(&decoded),
                is_call: matches!(
                    decoded.flow_control(),
                    FlowControl::Call | FlowControl::IndirectCall
                ),
                is_return: decoded.mnemonic() == Mnemonic::Ret,
            },
            None => Instruction {
                address: pc,
                bytes: rest[..1].to_vec(),
                text: undecodable(rest[0]),
                branch_target: None,
                is_call: false,
                is_return: false,
            },
        };
        offset += insn.bytes.len();
        out.push(insn);
    }
    out
}

/// The text for bytes x86asm cannot decode, starting with `first`: for a
/// legacy prefix x86asm returns the prefix alone as an instruction, without
/// opcode, which Delve prints as [`GoInst::text`] would (objdump prints
/// `?`); otherwise it fails and both print `?`.
fn undecodable(first: u8) -> String {
    match first {
        0xf3 => "REP; Op(0)".to_owned(),
        0xf2 => "REPNE; Op(0)".to_owned(),
        0x66 | 0x67 => "Op(0)".to_owned(),
        _ => match prefix_name(first) {
            Some(name) => format!("{name} Op(0)"),
            None => "?".to_owned(),
        },
    }
}

/// The legacy prefix bytes.
const LEGACY_PREFIXES: [u8; 11] = [
    0xf0, 0xf2, 0xf3, 0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65, 0x66, 0x67,
];

/// The name x86asm gives a prefix byte, for those it prints.
fn prefix_name(byte: u8) -> Option<&'static str> {
    Some(match byte {
        0xf0 => "LOCK",
        0x26 => "ES",
        0x2e => "CS",
        0x36 => "SS",
        0x3e => "DS",
        0x64 => "FS",
        0x65 => "GS",
        _ => return None,
    })
}

/// One operand, as x86asm holds it.
enum Arg {
    Reg(Register),
    Mem(Mem),
    Imm(i64),
    /// A branch target (absolute).
    Rel(u64),
}

/// A memory operand, as x86asm holds it.
struct Mem {
    /// Segment shown before the address (`Register::None` for none).
    segment: Register,
    /// Base register: `Register::RIP` prints as `IP`.
    base: Register,
    index: Register,
    scale: u32,
    disp: i64,
    /// The address x86asm looks up to show the operand as a symbol, if it
    /// does for this form.
    symbol_address: Option<u64>,
}

/// An instruction as x86asm decodes it.
struct GoInst {
    /// Length in bytes, by x86asm's reckoning.
    len: usize,
    /// Opcode name, with AVX-512 decorations, before the size suffix.
    op: String,
    /// Operands, in Intel order.
    args: Vec<Arg>,
    /// Operand size in bits from the prefixes (16, 32 or 64; 0 for VEX and
    /// EVEX instructions).
    data_size: u32,
    /// Size in bytes of the memory operand (0 when none, or for `LEA`).
    mem_bytes: u32,
    /// `REP; ` or `REPNE; ` as printed, or empty.
    rep: &'static str,
    /// The prefix printed before the opcode, if any.
    prefix: Option<&'static str>,
}

impl GoInst {
    /// Rebuilds `decoded`, whose bytes start `bytes`, as x86asm would
    /// decode it; `None` when x86asm cannot.
    fn new(decoded: &Decoded, bytes: &[u8]) -> Option<GoInst> {
        if decoded.is_invalid() || !x86asm_decodes(decoded) {
            return None;
        }
        match decoded.encoding() {
            EncodingKind::Legacy => GoInst::legacy(decoded, bytes),
            // x86asm recognises a VEX or EVEX prefix only as the first byte.
            EncodingKind::VEX | EncodingKind::EVEX if !LEGACY_PREFIXES.contains(&bytes[0]) => {
                GoInst::vex(decoded, bytes)
            }
            _ => None,
        }
    }

    /// A legacy-encoded instruction; `None` when x86asm cannot decode it.
    fn legacy(decoded: &Decoded, bytes: &[u8]) -> Option<GoInst> {
        let prefixes = Prefixes::read(bytes)?;
        if decoded.mnemonic() == Mnemonic::Prefetchw && (bytes[prefixes.opcode() + 2] >> 3) & 7 != 1
        {
            // x86asm knows only 0F 0D /1.
            return None;
        }
        let mut len = decoded.len();
        let mut has_memory = decoded.op_kinds().any(|k| k == OpKind::Memory);
        if (0..decoded.op_count()).any(|i| {
            let r = decoded.op_register(i);
            r.is_cr() || r.is_dr() || r.is_tr()
        }) {
            // Moving a control, debug or test register: x86asm reads the
            // ModR/M byte, the last, as it would for a memory operand.
            let modrm = len - 1;
            if bytes[modrm] >> 6 != 3 {
                has_memory = true;
                len = modrm_end(bytes, modrm)?;
            }
        }
        let (mut args, mem_bytes) = legacy_args(decoded, prefixes.segment())?;
        let (op, rep_is_prefix) = legacy_op(decoded, &prefixes, &mut args);
        let (rep, prefix) = prefixes.shown(decoded, has_memory, rep_is_prefix);
        Some(GoInst {
            len,
            op,
            args,
            data_size: prefixes.data_size(),
            mem_bytes,
            rep,
            prefix,
        })
    }

    /// A VEX- or EVEX-encoded instruction (x86asm's AVX decoder); `None`
    /// when that decoder fails.
    fn vex(decoded: &Decoded, bytes: &[u8]) -> Option<GoInst> {
        if sets_ignored_bit(decoded, bytes) {
            return None;
        }
        let evex = decoded.encoding() == EncodingKind::EVEX;
        if evex && decoded.is_vsib() && decoded.op_mask() == Register::None {
            // An EVEX gather or scatter needs a mask other than K0.
            return None;
        }
        let mut len = decoded.len();
        if matches!(
            decoded.mnemonic(),
            Mnemonic::Vzeroupper | Mnemonic::Vzeroall
        ) {
            // x86asm reads a ModR/M byte for every VEX opcode.
            len = modrm_end(bytes, len)?;
        }
        let mut args = Vec::new();
        let mut mem_bytes = 0;
        for i in 0..decoded.op_count() {
            let arg = match decoded.op_kind(i) {
                OpKind::Register => Arg::Reg(decoded.op_register(i)),
                OpKind::Memory => {
                    mem_bytes = decoded.memory_size().size() as u32;
                    Arg::Mem(vex_mem(decoded))
                }
                OpKind::Immediate8 => Arg::Imm(i64::from(decoded.immediate8())),
                // The implicit DS:rDI of VMASKMOVDQU is not listed.
                OpKind::MemorySegDI | OpKind::MemorySegEDI | OpKind::MemorySegRDI => continue,
                _ => return None,
            };
            args.push(arg);
        }
        if decoded.op_mask() != Register::None {
            // x86asm lists the mask right after the destination.
            args.insert(args.len().min(1), Arg::Reg(decoded.op_mask()));
        }
        let op = vex_op(decoded, bytes, &mut args, mem_bytes);
        Some(GoInst {
            len,
            op,
            args,
            data_size: 0,
            mem_bytes,
            rep: "",
            prefix: None,
        })
    }

    /// The text.
    fn text(&self, symbols: &SymbolLookup) -> String {
        let mut args: Vec<String> = self
            .args
            .iter()
            .rev()
            .map(|a| self.arg_text(a, symbols))
            .collect();
        if self.op == "CMP" {
            // Comparisons read left to right (Go issue 60920).
            args.swap(0, 1);
        }
        let mut text = String::from(self.rep);
        if let Some(prefix) = self.prefix {
            text.push_str(prefix);
            text.push(' ');
        }
        text.push_str(&self.op);
        if takes_suffix(&self.op) {
            text.push_str(self.suffix());
        }
        if !args.is_empty() {
            text.push(' ');
            text.push_str(&args.join(", "));
        }
        text
    }

    /// The size suffix of a general-purpose instruction.
    fn suffix(&self) -> &'static str {
        let bits = match self.args.as_slice() {
            _ if self.mem_bytes != 0 => self.mem_bytes * 8,
            [Arg::Reg(r)] if r.is_gpr64() => 64,
            _ => self.data_size,
        };
        match bits {
            8 => "B",
            16 => "W",
            32 => "L",
            64 => "Q",
            _ => "",
        }
    }

    fn arg_text(&self, arg: &Arg, symbols: &SymbolLookup) -> String {
        match arg {
            Arg::Reg(r) => register_name(*r),
            Arg::Rel(target) => match symbols(*target) {
                Some((name, start)) if start == *target => format!("{name}(SB)"),
                _ => format!("{target:#x}"),
            },
            Arg::Imm(value) => {
                // Only a 32-bit MOV or PUSH immediate may be an address.
                if matches!(self.op.as_str(), "MOV" | "PUSH") && self.data_size == 32 {
                    if let Some((name, start)) = symbols(*value as u64) {
                        let offset = (*value as u64).wrapping_sub(start);
                        return if offset == 0 {
                            format!("${name}(SB)")
                        } else {
                            format!("${name}+{offset}(SB)")
                        };
                    }
                }
                if i64::from(*value as i32) == *value {
                    format!("${}", signed_hex(*value))
                } else {
                    format!("${:#x}", *value as u64)
                }
            }
            Arg::Mem(mem) => mem_text(mem, symbols),
        }
    }
}

/// The legacy prefixes of an instruction, and its REX prefix.
struct Prefixes<'a> {
    /// The legacy prefix bytes, in order.
    legacy: &'a [u8],
    /// The REX byte, 0 for none.
    rex: u8,
}

impl Prefixes<'_> {
    /// The prefixes at the start of `bytes`; `None` when a REX prefix is not
    /// followed by the opcode, which x86asm expects there.
    fn read(bytes: &[u8]) -> Option<Prefixes<'_>> {
        let count = bytes
            .iter()
            .take_while(|b| LEGACY_PREFIXES.contains(b))
            .count();
        let is_rex = |b: &u8| b & 0xf0 == 0x40;
        let rex = bytes.get(count).copied().filter(is_rex).unwrap_or(0);
        if rex != 0 {
            let next = bytes.get(count + 1)?;
            if is_rex(next) || LEGACY_PREFIXES.contains(next) {
                return None;
            }
        }
        Some(Prefixes {
            legacy: &bytes[..count],
            rex,
        })
    }

    /// Where the opcode starts.
    fn opcode(&self) -> usize {
        self.legacy.len() + usize::from(self.rex != 0)
    }

    /// Whether REX.W is set.
    fn rex_w(&self) -> bool {
        self.rex & 0x08 != 0
    }

    /// The operand size in bits, from REX.W or an operand-size prefix.
    fn data_size(&self) -> u32 {
        if self.rex_w() {
            64
        } else if self.legacy.contains(&0x66) {
            16
        } else {
            32
        }
    }

    /// The segment override: only FS and GS override in 64-bit mode, and
    /// the last wins.
    fn segment(&self) -> Register {
        match self.legacy.iter().rev().find(|&&p| p == 0x64 || p == 0x65) {
            Some(0x64) => Register::FS,
            Some(_) => Register::GS,
            None => Register::None,
        }
    }

    /// What `decoded` shows of the prefixes: `REP; ` or `REPNE; ` (or
    /// nothing), and the prefix before the opcode, if any. x86asm hides the
    /// prefixes an instruction consumes: the last REP or REPNE when it is
    /// part of the opcode (unless `rep_is_prefix`), and the last FS or GS
    /// when a memory operand shows it (`has_memory`, or string
    /// instructions).
    fn shown(
        &self,
        decoded: &Decoded,
        has_memory: bool,
        rep_is_prefix: bool,
    ) -> (&'static str, Option<&'static str>) {
        let mnemonic = decoded.mnemonic();
        let rep_index = self.legacy.iter().rposition(|&p| p == 0xf2 || p == 0xf3);
        let rep_in_opcode = !rep_is_prefix
            && rep_index.is_some_and(|i| {
                mnemonic == Mnemonic::Pause
                    || if self.legacy[i] == 0xf3 {
                        !decoded.has_repe_prefix()
                    } else {
                        !decoded.has_repne_prefix()
                    }
            });
        let segment_index = self.legacy.iter().rposition(|&p| p == 0x64 || p == 0x65);
        let shows_segment = has_memory
            || matches!(
                mnemonic,
                Mnemonic::Outsb
                    | Mnemonic::Outsw
                    | Mnemonic::Outsd
                    | Mnemonic::Movsb
                    | Mnemonic::Movsw
                    | Mnemonic::Movsq
                    | Mnemonic::Cmpsb
                    | Mnemonic::Cmpsw
                    | Mnemonic::Cmpsq
                    | Mnemonic::Lodsb
                    | Mnemonic::Lodsw
                    | Mnemonic::Lodsd
                    | Mnemonic::Lodsq
                    | Mnemonic::Xlatb
            )
            || matches!(decoded.code(), Code::Movsd_m32_m32 | Code::Cmpsd_m32_m32);
        // A branch hint is the last CS or DS prefix of a conditional branch.
        let hint_index = if is_conditional_branch(mnemonic) {
            self.legacy.iter().rposition(|&p| p == 0x2e || p == 0x3e)
        } else {
            None
        };
        let mut rep = "";
        let mut last = None;
        for (i, &p) in self.legacy.iter().enumerate() {
            if (Some(i) == rep_index && rep_in_opcode)
                || (Some(i) == segment_index && shows_segment)
            {
                continue;
            }
            match p {
                0xf3 => rep = "REP; ",
                0xf2 => rep = "REPNE; ",
                0x2e if Some(i) == hint_index => last = Some("PN"),
                0x3e if Some(i) == hint_index => last = Some("PT"),
                // Size prefixes are never shown, but hide earlier ones.
                _ => last = prefix_name(p),
            }
        }
        (rep, last)
    }
}

/// The operands of a legacy instruction as x86asm lists them (before the
/// opcode-specific changes of [`legacy_op`]), and the size in bytes of its
/// memory operand; `None` for a far branch, which x86asm does not decode
/// in 64-bit mode. `segment` is the segment override.
fn legacy_args(decoded: &Decoded, segment: Register) -> Option<(Vec<Arg>, u32)> {
    let string_segment = if segment == Register::None {
        Register::DS
    } else {
        segment
    };
    let mut args = Vec::new();
    let mut mem_bytes = 0;
    for i in 0..decoded.op_count() {
        let arg = match decoded.op_kind(i) {
            OpKind::Register => Arg::Reg(decoded.op_register(i)),
            OpKind::NearBranch16 | OpKind::NearBranch32 | OpKind::NearBranch64 => {
                Arg::Rel(decoded.near_branch_target())
            }
            OpKind::Memory => {
                mem_bytes = legacy_mem_bytes(decoded);
                Arg::Mem(legacy_mem(decoded, segment))
            }
            OpKind::MemorySegSI | OpKind::MemorySegESI | OpKind::MemorySegRSI => {
                Arg::Mem(string_mem(string_segment, Register::RSI))
            }
            OpKind::MemoryESDI | OpKind::MemoryESEDI | OpKind::MemoryESRDI => {
                Arg::Mem(string_mem(Register::ES, Register::RDI))
            }
            // The implicit DS:rDI of MASKMOVQ and MASKMOVDQU is not listed.
            OpKind::MemorySegDI | OpKind::MemorySegEDI | OpKind::MemorySegRDI => continue,
            OpKind::FarBranch16 | OpKind::FarBranch32 => return None,
            kind => Arg::Imm(immediate(decoded, i, kind)),
        };
        args.push(arg);
    }
    if decoded.mnemonic() == Mnemonic::Xlatb {
        args = vec![Arg::Mem(string_mem(string_segment, Register::RBX))];
    }
    Some((args, mem_bytes))
}

/// The opcode name x86asm gives the legacy instruction `decoded`, fixing
/// up `args` where x86asm lists other operands than iced; and whether an
/// F2 or F3 prefix iced takes as part of the opcode is a plain prefix to
/// x86asm.
fn legacy_op(decoded: &Decoded, prefixes: &Prefixes, args: &mut Vec<Arg>) -> (String, bool) {
    let mnemonic = decoded.mnemonic();
    let name = match decoded.code() {
        Code::Movsd_xmm_xmmm64 | Code::Movsd_xmmm64_xmm => "MOVSD_XMM",
        Code::Cmpsd_xmm_xmmm64_imm8 => "CMPSD_XMM",
        Code::Call_m1616 | Code::Call_m1632 | Code::Call_m1664 => "LCALL",
        Code::Jmp_m1616 | Code::Jmp_m1632 | Code::Jmp_m1664 => "LJMP",
        Code::Rdrand_r64 => {
            // x86asm loses the operand of the 64-bit form.
            args.clear();
            "RDRAND"
        }
        _ => match mnemonic {
            Mnemonic::Int3 => {
                args.push(Arg::Imm(3));
                "INT"
            }
            Mnemonic::Int1 => "ICEBP",
            Mnemonic::Wait => "FWAIT",
            Mnemonic::Retf => "LRET",
            Mnemonic::Sysretq => "SYSRET",
            Mnemonic::Sysexitq => "SYSEXIT",
            Mnemonic::Pcmpestri64 => "PCMPESTRI",
            Mnemonic::Pcmpestrm64 => "PCMPESTRM",
            // x86asm knows these by the older instructions whose encodings
            // they extend with a prefix.
            Mnemonic::Wbnoinvd => return ("WBINVD".to_owned(), true),
            Mnemonic::Clflushopt => "CLFLUSH",
            Mnemonic::Clwb if prefixes.rex_w() => "XSAVEOPT64",
            Mnemonic::Clwb => "XSAVEOPT",
            Mnemonic::Fcom
            | Mnemonic::Fcomp
            | Mnemonic::Fucom
            | Mnemonic::Fucomp
            | Mnemonic::Fxch => {
                // x86asm does not list the implicit ST(0).
                if args.len() == 2 {
                    args.remove(0);
                }
                return (mnemonic_name(mnemonic), false);
            }
            Mnemonic::Sha256rnds2
            | Mnemonic::Blendvpd
            | Mnemonic::Blendvps
            | Mnemonic::Pblendvb => {
                // x86asm lists the implicit XMM0.
                args.push(Arg::Reg(Register::XMM0));
                return (mnemonic_name(mnemonic), false);
            }
            _ => return (mnemonic_name(mnemonic), false),
        },
    };
    (name.to_owned(), false)
}

/// The opcode name x86asm gives the VEX or EVEX instruction `decoded`
/// (whose bytes start `bytes`, with memory operand of `mem_bytes`), with
/// its suffixes and AVX-512 decorations, fixing up `args` where x86asm
/// shows other registers than iced.
fn vex_op(decoded: &Decoded, bytes: &[u8], args: &mut [Arg], mem_bytes: u32) -> String {
    let mnemonic = decoded.mnemonic();
    let evex = decoded.encoding() == EncodingKind::EVEX;
    let mut op = match decoded.code() {
        Code::EVEX_Vpextrw_r32_xmm_imm8 | Code::EVEX_Vpextrw_r64_xmm_imm8 => {
            "VPEXTRW_C5".to_owned()
        }
        _ => mnemonic_name(mnemonic),
    };
    if mnemonic == Mnemonic::Vpcmpistri && bytes[0] == 0xc4 && bytes[2] & 0x80 != 0 {
        // x86asm names the VEX.W1 form apart, as iced does VPCMPESTRI64.
        op.push_str("64");
    }
    // The vector length, from the prefix as x86asm reads it.
    let vector_length = if evex {
        (bytes[3] >> 5) & 3
    } else if bytes[0] == 0xc5 {
        (bytes[1] >> 2) & 1
    } else {
        (bytes[2] >> 2) & 1
    };
    let length_suffix = ["X", "Y", "Z", ""][usize::from(vector_length)];
    let has_gpr64 = args
        .iter()
        .any(|a| matches!(a, Arg::Reg(r) if r.is_gpr64()));
    match mnemonic {
        Mnemonic::Vfpclasspd | Mnemonic::Vfpclassps | Mnemonic::Vcvtpd2dq => {
            op.push_str(length_suffix);
        }
        Mnemonic::Vcvttpd2dq
        | Mnemonic::Vcvttpd2udq
        | Mnemonic::Vcvttpd2qq
        | Mnemonic::Vcvttpd2uqq
        | Mnemonic::Vcvtpd2udq
        | Mnemonic::Vcvtpd2qq
        | Mnemonic::Vcvtpd2uqq
        | Mnemonic::Vcvtpd2ps
            if !evex =>
        {
            op.push_str(length_suffix);
        }
        Mnemonic::Vcvttsd2si | Mnemonic::Vcvttss2si | Mnemonic::Vcvtsd2si | Mnemonic::Vcvtss2si
            if has_gpr64 =>
        {
            op.push('Q');
        }
        Mnemonic::Vcvtsi2sd | Mnemonic::Vcvtsi2ss => {
            op.push(if mem_bytes == 8 || has_gpr64 {
                'Q'
            } else {
                'L'
            });
        }
        _ => {}
    }
    if evex {
        evex_decorations(decoded, vector_length, &mut op, args);
    }
    op
}

/// Adds the AVX-512 decorations of `decoded` to `op` (`.BCST`, rounding or
/// `.SAE`, `.Z`), with x86asm's quirks, some of which change `args`.
/// `vector_length` is EVEX.L'L.
fn evex_decorations(decoded: &Decoded, vector_length: u8, op: &mut String, args: &mut [Arg]) {
    let mnemonic = decoded.mnemonic();
    let register_form = !decoded.op_kinds().any(|k| k == OpKind::Memory);
    if register_form && vector_length == 0 {
        // x86asm shows the narrower register of these conversions, at 128
        // bits, as a YMM register.
        let narrow = match mnemonic {
            Mnemonic::Vcvtpd2dq
            | Mnemonic::Vcvtpd2ps
            | Mnemonic::Vcvtpd2udq
            | Mnemonic::Vcvttpd2dq
            | Mnemonic::Vcvttpd2udq
            | Mnemonic::Vcvtps2ph => Some(0),
            Mnemonic::Vcvtdq2pd
            | Mnemonic::Vcvtudq2pd
            | Mnemonic::Vcvtps2pd
            | Mnemonic::Vcvtph2ps => Some(args.len() - 1),
            _ => None,
        };
        if let Some(Arg::Reg(r)) = narrow.and_then(|i| args.get_mut(i)) {
            *r = Register::YMM0 + r.number() as u32;
        }
    }
    // These half-precision instructions broadcast to x86asm only in name:
    // it shows neither `.BCST` nor the element-sized scaling of an 8-bit
    // displacement.
    let ignores_broadcast = matches!(
        mnemonic,
        Mnemonic::Vrndscaleph
            | Mnemonic::Vgetmantph
            | Mnemonic::Vreduceph
            | Mnemonic::Vfpclassph
            | Mnemonic::Vcmpph
    );
    if decoded.is_broadcast() && !ignores_broadcast {
        op.push_str(".BCST");
    } else if decoded.is_broadcast() && decoded.memory_displ_size() == 1 {
        for arg in args.iter_mut() {
            if let Arg::Mem(mem) = arg {
                // From 2-byte elements to the whole vector.
                mem.disp *= 8 << vector_length;
            }
        }
    }
    let rounding = match decoded.rounding_control() {
        RoundingControl::None
            if decoded.suppress_all_exceptions()
                && matches!(mnemonic, Mnemonic::Vcvtps2pd | Mnemonic::Vcvtss2sd) =>
        {
            // x86asm takes these for instructions with rounding.
            [".RN_SAE", ".RD_SAE", ".RU_SAE", ".RZ_SAE"]
                .get(usize::from(vector_length))
                .copied()
        }
        RoundingControl::None => decoded.suppress_all_exceptions().then_some(".SAE"),
        RoundingControl::RoundToNearest => Some(".RN_SAE"),
        RoundingControl::RoundDown => Some(".RD_SAE"),
        RoundingControl::RoundUp => Some(".RU_SAE"),
        RoundingControl::RoundTowardZero => Some(".RZ_SAE"),
    };
    if let Some(rounding) = rounding {
        op.push_str(rounding);
    }
    if decoded.zeroing_masking() {
        op.push_str(".Z");
    }
}

/// A memory operand's text.
fn mem_text(mem: &Mem, symbols: &SymbolLookup) -> String {
    if let Some(address) = mem.symbol_address {
        if let Some((name, start)) = symbols(address) {
            let offset = address.wrapping_sub(start) as i64;
            return match offset {
                0 => format!("{name}(SB)"),
                _ => format!("{name}{offset:+}(SB)"),
            };
        }
    }
    let mut text = String::new();
    if mem.segment != Register::None {
        text.push_str(&register_name(mem.segment));
        text.push(':');
    }
    if mem.disp != 0 {
        text.push_str(&signed_hex(mem.disp));
    } else {
        text.push('0');
    }
    if mem.base != Register::None {
        text.push_str(&format!("({})", register_name(mem.base)));
    }
    if mem.index != Register::None {
        text.push_str(&format!("({}*{})", register_name(mem.index), mem.scale));
    }
    text
}

/// `value` in hex as Go's `%#x` prints a signed integer: `-0x8`, `0x10`.
fn signed_hex(value: i64) -> String {
    if value < 0 {
        format!("-{:#x}", value.unsigned_abs())
    } else {
        format!("{value:#x}")
    }
}

/// A legacy instruction's memory operand, under segment override
/// `segment`.
fn legacy_mem(decoded: &Decoded, segment: Register) -> Mem {
    let next_pc = decoded.next_ip();
    let base = decoded.memory_base();
    let displacement = decoded.memory_displacement64();
    let rip_relative = decoded.is_ip_rel_memory_operand();
    // A 64-bit absolute address (MOV to or from moffs), without base, index
    // or SIB byte.
    let absolute = matches!(
        decoded.code(),
        Code::Mov_AL_moffs8
            | Code::Mov_AX_moffs16
            | Code::Mov_EAX_moffs32
            | Code::Mov_RAX_moffs64
            | Code::Mov_moffs8_AL
            | Code::Mov_moffs16_AX
            | Code::Mov_moffs32_EAX
            | Code::Mov_moffs64_RAX
    );
    // x86asm keeps a 32-bit displacement unsigned.
    let disp = if rip_relative {
        i64::from(displacement.wrapping_sub(next_pc) as u32)
    } else if absolute {
        displacement as i64
    } else {
        match decoded.memory_displ_size() {
            0 => 0,
            1 => i64::from(displacement as i8),
            _ => i64::from(displacement as u32),
        }
    };
    let symbol_address = if segment != Register::None || disp == 0 {
        None
    } else if rip_relative {
        Some(next_pc.wrapping_add(disp as u64))
    } else if absolute {
        Some(disp as u64)
    } else {
        None
    };
    Mem {
        segment,
        base: if rip_relative { Register::RIP } else { base },
        index: decoded.memory_index(),
        scale: decoded.memory_index_scale(),
        disp,
        symbol_address,
    }
}

/// A VEX or EVEX instruction's memory operand: x86asm drops the RIP base of
/// a RIP-relative one and looks its bare displacement up as a symbol.
fn vex_mem(decoded: &Decoded) -> Mem {
    let rip_relative = decoded.is_ip_rel_memory_operand();
    let disp = if rip_relative {
        i64::from(
            decoded
                .memory_displacement64()
                .wrapping_sub(decoded.next_ip()) as i32,
        )
    } else {
        decoded.memory_displacement64() as i64
    };
    Mem {
        segment: Register::None,
        base: if rip_relative {
            Register::None
        } else {
            decoded.memory_base()
        },
        index: decoded.memory_index(),
        scale: decoded.memory_index_scale(),
        disp,
        symbol_address: (rip_relative && disp != 0).then_some(disp as u64),
    }
}

/// The implicit `seg:0(reg)` operand of a string instruction.
fn string_mem(segment: Register, base: Register) -> Mem {
    Mem {
        segment,
        base,
        index: Register::None,
        scale: 0,
        disp: 0,
        symbol_address: None,
    }
}

/// The memory operand's size in bytes as x86asm records it.
fn legacy_mem_bytes(decoded: &Decoded) -> u32 {
    match decoded.mnemonic() {
        // Operands that are "memory" rather than sized data.
        Mnemonic::Lea | Mnemonic::Fldenv | Mnemonic::Frstor => 0,
        _ => match decoded.memory_size() {
            MemorySize::Unknown => 0,
            size => size.size() as u32,
        },
    }
}

/// The immediate operand `i` of kind `kind`, sign-extended as x86asm does.
fn immediate(decoded: &Decoded, i: u32, kind: OpKind) -> i64 {
    match kind {
        OpKind::Immediate8 => i64::from(decoded.immediate8()),
        OpKind::Immediate8_2nd => i64::from(decoded.immediate8_2nd()),
        OpKind::Immediate16 => match decoded.mnemonic() {
            Mnemonic::Ret | Mnemonic::Retf | Mnemonic::Enter => i64::from(decoded.immediate16()),
            _ => i64::from(decoded.immediate16() as i16),
        },
        OpKind::Immediate32 => i64::from(decoded.immediate32() as i32),
        _ => decoded.immediate(i) as i64,
    }
}

/// Whether x86asm decodes `decoded` (iced knows many more instructions):
/// it knows the instructions of these CPUID features, less the forms and
/// aliases it lacks.
fn x86asm_decodes(decoded: &Decoded) -> bool {
    use CpuidFeature as F;
    let mnemonic = decoded.mnemonic();
    let legacy = decoded.encoding() == EncodingKind::Legacy;
    decoded
        .cpuid_features()
        .iter()
        .all(|feature| match feature {
            F::INTEL8086
            | F::INTEL186
            | F::INTEL286
            | F::INTEL386
            | F::INTEL486
            | F::X64
            | F::CPUID
            | F::CMOV
            | F::CX8
            | F::CMPXCHG16B
            | F::MSR
            | F::TSC
            | F::RDTSCP
            | F::RDPMC
            | F::SEP
            | F::SYSCALL
            | F::SMM
            | F::PAUSE
            | F::MONITOR
            | F::INVPCID
            | F::FSGSBASE
            | F::RDRAND
            | F::HLE
            | F::RTM
            | F::HLE_or_RTM
            | F::CLFSH
            | F::CLFLUSHOPT
            | F::CLWB
            | F::WBNOINVD
            | F::FPU
            | F::FPU287
            | F::FPU387
            | F::FXSR
            | F::XSAVE
            | F::XSAVEC
            | F::XSAVEOPT
            | F::XSAVES
            | F::MMX
            | F::SSE
            | F::SSE2
            | F::SSE3
            | F::SSSE3
            | F::SSE4_1
            | F::SSE4_2
            | F::POPCNT
            | F::LZCNT
            | F::MOVBE
            | F::AES
            | F::PCLMULQDQ
            | F::SHA
            | F::AVX
            | F::AVX2
            | F::FMA
            | F::F16C
            | F::VAES
            | F::VPCLMULQDQ
            | F::SHA512
            | F::SM3
            | F::SM4
            | F::AVX_IFMA
            | F::AVX_NE_CONVERT
            | F::AVX_VNNI
            | F::AVX_VNNI_INT8
            | F::AVX_VNNI_INT16
            | F::AVX512F
            | F::AVX512VL
            | F::AVX512BW
            | F::AVX512CD
            | F::AVX512DQ
            | F::AVX512ER
            | F::AVX512PF
            | F::AVX512_4FMAPS
            | F::AVX512_4VNNIW
            | F::AVX512_BF16
            | F::AVX512_BITALG
            | F::AVX512_FP16
            | F::AVX512_IFMA
            | F::AVX512_VBMI
            | F::AVX512_VBMI2
            | F::AVX512_VNNI
            | F::AVX512_VP2INTERSECT
            | F::AVX512_VPOPCNTDQ => true,
            // Of these x86asm knows only some instructions.
            F::BMI1 => mnemonic == Mnemonic::Tzcnt,
            F::GFNI => !legacy,
            F::PREFETCHW => mnemonic == Mnemonic::Prefetchw,
            F::SSE4A => matches!(mnemonic, Mnemonic::Movntsd | Mnemonic::Movntss),
            F::MULTIBYTENOP => matches!(decoded.code(), Code::Nop_rm16 | Code::Nop_rm32),
            _ => false,
        })
        && !matches!(
            decoded.code(),
            // Aliases of other encodings.
            Code::Fcom_st0_sti_DCD0
            | Code::Fcomp_st0_sti_DCD8
            | Code::Fcomp_st0_sti_DED0
            | Code::Fstp_sti_DFD0
            | Code::Fstp_sti_DFD8
            | Code::Fxch_st0_sti_DDC8
            | Code::Fxch_st0_sti_DFC8
            | Code::Fstpnce_sti
            | Code::Fndisi
            | Code::Fneni
            | Code::Fnsetpm
            | Code::Test_rm8_imm8_F6r1
            | Code::Test_rm16_imm16_F7r1
            | Code::Test_rm32_imm32_F7r1
            | Code::Test_rm64_imm32_F7r1
            | Code::Lfence_E9
            | Code::Lfence_EA
            | Code::Lfence_EB
            | Code::Lfence_EC
            | Code::Lfence_ED
            | Code::Lfence_EE
            | Code::Lfence_EF
            | Code::Mfence_F1
            | Code::Mfence_F2
            | Code::Mfence_F3
            | Code::Mfence_F4
            | Code::Mfence_F5
            | Code::Mfence_F6
            | Code::Mfence_F7
            | Code::Sfence_F9
            | Code::Sfence_FA
            | Code::Sfence_FB
            | Code::Sfence_FC
            | Code::Sfence_FD
            | Code::Sfence_FE
            | Code::Sfence_FF
            // Operand sizes x86asm lacks.
            | Code::Ud0_r16_rm16
            | Code::Ud0_r64_rm64
            | Code::Ud1_r16_rm16
            | Code::Ud1_r64_rm64
            | Code::VEX_Vextractps_r64m32_xmm_imm8
            | Code::EVEX_Vextractps_r64m32_xmm_imm8
            | Code::VEX_Vmovmskpd_r64_xmm
            | Code::VEX_Vmovmskpd_r64_ymm
            | Code::VEX_Vmovmskps_r64_xmm
            | Code::VEX_Vmovmskps_r64_ymm
            | Code::VEX_Vpmovmskb_r64_xmm
            | Code::VEX_Vpmovmskb_r64_ymm
            | Code::VEX_Vpextrb_r64m8_xmm_imm8
            | Code::EVEX_Vpextrb_r64m8_xmm_imm8
            | Code::VEX_Vpextrw_r64_xmm_imm8
            | Code::EVEX_Vpextrw_r64_xmm_imm8
            | Code::VEX_Vpextrw_r64m16_xmm_imm8
            | Code::EVEX_Vpextrw_r64m16_xmm_imm8
            | Code::VEX_Vpinsrb_xmm_xmm_r64m8_imm8
            | Code::EVEX_Vpinsrb_xmm_xmm_r64m8_imm8
            | Code::VEX_Vpinsrw_xmm_xmm_r64m16_imm8
            | Code::EVEX_Vpinsrw_xmm_xmm_r64m16_imm8
        )
        && mnemonic != Mnemonic::Sal
}

/// Whether the VEX or EVEX prefix of `decoded` (whose bytes start `bytes`)
/// sets the vector length or the W bit where the instruction ignores it:
/// x86asm's tables list only the encodings with those bits clear.
fn sets_ignored_bit(decoded: &Decoded, bytes: &[u8]) -> bool {
    // Whether decoding with `bytes[at]` changed by `change` gives the same
    // instruction.
    let ignores = |at: usize, change: fn(u8) -> u8| {
        let mut copy = [0; 15];
        let len = bytes.len().min(copy.len());
        copy[..len].copy_from_slice(&bytes[..len]);
        copy[at] = change(copy[at]);
        let mut decoder = Decoder::with_ip(
            64,
            &copy[..len],
            decoded.ip(),
            DecoderOptions::NO_INVALID_CHECK,
        );
        decoder.decode().code() == decoded.code()
    };
    match bytes[0] {
        0xc5 => bytes[1] & 0x04 != 0 && ignores(1, |b| b ^ 0x04),
        0xc4 => {
            (bytes[2] & 0x04 != 0 && ignores(2, |b| b ^ 0x04))
                || (bytes[2] & 0x80 != 0
                    && decoded.mnemonic() != Mnemonic::Vpcmpistri
                    && ignores(2, |b| b ^ 0x80))
        }
        _ => {
            // EVEX; with EVEX.b a register form's length bits are rounding.
            let rounding = bytes[3] & 0x10 != 0 && !decoded.op_kinds().any(|k| k == OpKind::Memory);
            (bytes[3] & 0x60 != 0 && !rounding && ignores(3, |b| b & !0x60))
                || (bytes[2] & 0x80 != 0 && ignores(2, |b| b ^ 0x80))
        }
    }
}

/// Where the ModR/M byte (with SIB and displacement) that x86asm reads at
/// `at` ends, or `None` when `bytes` end first.
fn modrm_end(bytes: &[u8], at: usize) -> Option<usize> {
    let Some(&modrm) = bytes.get(at) else {
        return Some(at);
    };
    let (mode, rm) = (modrm >> 6, modrm & 7);
    let mut end = at + 1;
    let mut sib_base = 0;
    if mode != 3 && rm == 4 {
        sib_base = bytes.get(end)? & 7;
        end += 1;
    }
    if mode == 0 && (rm == 5 || (rm == 4 && sib_base == 5)) || mode == 2 {
        end += 4;
    } else if mode == 1 {
        end += 1;
    }
    (end <= bytes.len().min(15)).then_some(end)
}

/// Whether x86asm treats CS and DS prefixes of `mnemonic` as branch hints.
fn is_conditional_branch(mnemonic: Mnemonic) -> bool {
    matches!(
        mnemonic,
        Mnemonic::Ja
            | Mnemonic::Jae
            | Mnemonic::Jb
            | Mnemonic::Jbe
            | Mnemonic::Je
            | Mnemonic::Jg
            | Mnemonic::Jge
            | Mnemonic::Jl
            | Mnemonic::Jle
            | Mnemonic::Jne
            | Mnemonic::Jno
            | Mnemonic::Jnp
            | Mnemonic::Jns
            | Mnemonic::Jo
            | Mnemonic::Jp
            | Mnemonic::Js
            | Mnemonic::Loop
            | Mnemonic::Loope
            | Mnemonic::Loopne
            | Mnemonic::Jcxz
            | Mnemonic::Jecxz
            | Mnemonic::Jrcxz
    )
}

/// The opcode name: iced's mnemonic in upper case, which is x86asm's name
/// for the instructions whose names the callers do not special-case.
fn mnemonic_name(mnemonic: Mnemonic) -> String {
    format!("{mnemonic:?}").to_uppercase()
}

/// Whether x86asm gives opcode `op` a size suffix.
fn takes_suffix(op: &str) -> bool {
    matches!(
        op,
        "ADC"
            | "ADD"
            | "AND"
            | "BSF"
            | "BSR"
            | "BT"
            | "BTC"
            | "BTR"
            | "BTS"
            | "CMP"
            | "CMPXCHG"
            | "CVTSI2SD"
            | "CVTSI2SS"
            | "CVTSD2SI"
            | "CVTSS2SI"
            | "CVTTSD2SI"
            | "CVTTSS2SI"
            | "DEC"
            | "DIV"
            | "FLDENV"
            | "FRSTOR"
            | "IDIV"
            | "IMUL"
            | "IN"
            | "INC"
            | "LEA"
            | "MOV"
            | "MOVNTI"
            | "MUL"
            | "NEG"
            | "NOP"
            | "NOT"
            | "OR"
            | "OUT"
            | "POP"
            | "POPA"
            | "POPCNT"
            | "PUSH"
            | "PUSHA"
            | "RCL"
            | "RCR"
            | "ROL"
            | "ROR"
            | "SAR"
            | "SBB"
            | "SHL"
            | "SHLD"
            | "SHR"
            | "SHRD"
            | "SUB"
            | "TEST"
            | "XADD"
            | "XCHG"
            | "XOR"
    )
}

/// A register's Plan 9 name: general-purpose registers by their 64-bit
/// name whatever their size (`AL` and the other legacy byte registers
/// excepted), `IP`, `X0`…, `Y0`…, `Z0`…, `K0`…, `M0`… (MMX), `F0`… (x87).
fn register_name(register: Register) -> String {
    const GPR: [&str; 16] = [
        "AX", "CX", "DX", "BX", "SP", "BP", "SI", "DI", "R8", "R9", "R10", "R11", "R12", "R13",
        "R14", "R15",
    ];
    const BYTE: [&str; 8] = ["AL", "CL", "DL", "BL", "AH", "CH", "DH", "BH"];
    let n = register.number();
    if register.is_gpr8() {
        return if n < 8 { BYTE[n] } else { GPR[n - 4] }.to_owned();
    }
    if register.is_gpr() {
        return GPR[n].to_owned();
    }
    let class = if register.is_ip() {
        return "IP".to_owned();
    } else if register.is_xmm() {
        "X"
    } else if register.is_ymm() {
        "Y"
    } else if register.is_zmm() {
        "Z"
    } else if register.is_k() {
        "K"
    } else if register.is_mm() {
        "M"
    } else if register.is_st() {
        "F"
    } else if register.is_cr() {
        "CR"
    } else if register.is_dr() {
        "DR"
    } else if register.is_tr() {
        "TR"
    } else {
        // Segment registers.
        return format!("{register:?}");
    };
    format!("{class}{n}")
}
