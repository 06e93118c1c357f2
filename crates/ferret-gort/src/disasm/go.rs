//! Go assembler (Plan 9) syntax for x86-64, as `go tool objdump` and Delve's
//! Go flavour print it. Both print with `GoSyntax` of
//! golang.org/x/arch/x86/x86asm; here iced-x86 decodes, and the instruction
//! is rebuilt the way that package's decoder sees it (operands in Intel
//! order, operand size, memory operand size, the role of each prefix byte)
//! and printed by the same rules:
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
//!   and an operand- or address-size prefix after it hides it.
//!
//! x86asm's quirks are kept so that the text matches byte for byte: a
//! 32-bit displacement of a legacy (non-VEX) instruction is read unsigned
//! (`0xffffff00(SP)`; a RIP-relative one pointing backwards then finds no
//! symbol); VEX and EVEX RIP-relative operands lose their `(IP)` base;
//! `VZEROUPPER` and `VZEROALL` swallow a ModR/M byte (and what it implies)
//! they do not have; and bytes x86asm cannot decode print as `?`, one byte
//! long.

use iced_x86::{
    Code, Decoder, DecoderOptions, EncodingKind, FlowControl, Instruction as Decoded, MemorySize,
    Mnemonic, OpKind, Register, RoundingControl,
};

use super::{Instruction, SymbolLookup};

/// Decodes `code`, which starts at `address`, into instructions with Go
/// syntax text; `symbols` names addresses (see [`SymbolLookup`]).
pub(super) fn disassemble(code: &[u8], address: u64, symbols: &SymbolLookup) -> Vec<Instruction> {
    let mut decoder = Decoder::with_ip(64, code, address, DecoderOptions::NONE);
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

/// The text for bytes x86asm cannot decode, starting with `first`. When
/// `first` is a legacy prefix x86asm returns that prefix alone as an
/// instruction without opcode, which Delve prints (`Op(0)`, after the
/// prefix as [`GoInst::text`] would show it); otherwise it fails and Delve,
/// like objdump, prints `?`.
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
    /// Whether `op` takes a size suffix.
    suffixed: bool,
    /// `REP; ` or `REPNE; ` as printed, or empty.
    rep: &'static str,
    /// The prefix printed before the opcode, if any.
    prefix: Option<&'static str>,
}

impl GoInst {
    /// Rebuilds `decoded`, whose bytes start `bytes`, as x86asm would
    /// decode it; `None` when x86asm cannot.
    fn new(decoded: &Decoded, bytes: &[u8]) -> Option<GoInst> {
        if decoded.is_invalid() {
            return None;
        }
        match decoded.encoding() {
            EncodingKind::Legacy => Some(GoInst::legacy(decoded, bytes)),
            // x86asm recognises a VEX or EVEX prefix only as the first byte.
            EncodingKind::VEX | EncodingKind::EVEX if !LEGACY_PREFIXES.contains(&bytes[0]) => {
                GoInst::vex(decoded, bytes)
            }
            _ => None,
        }
    }

    /// A legacy-encoded instruction.
    fn legacy(decoded: &Decoded, bytes: &[u8]) -> GoInst {
        let prefix_count = bytes
            .iter()
            .take_while(|b| LEGACY_PREFIXES.contains(b))
            .count();
        let prefixes = &bytes[..prefix_count];
        let rex = bytes
            .get(prefix_count)
            .copied()
            .filter(|b| b & 0xf0 == 0x40)
            .unwrap_or(0);
        let data_size = if rex & 0x08 != 0 {
            64
        } else if prefixes.contains(&0x66) {
            16
        } else {
            32
        };
        let mnemonic = decoded.mnemonic();
        // Only FS and GS override segments in 64-bit mode; the last wins.
        let segment = match prefixes.iter().rev().find(|&&p| p == 0x64 || p == 0x65) {
            Some(0x64) => Register::FS,
            Some(_) => Register::GS,
            None => Register::None,
        };
        let next_pc = decoded.next_ip();
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
                    Arg::Mem(legacy_mem(decoded, segment, next_pc))
                }
                OpKind::MemorySegSI | OpKind::MemorySegESI | OpKind::MemorySegRSI => {
                    Arg::Mem(string_mem(
                        if segment == Register::None {
                            Register::DS
                        } else {
                            segment
                        },
                        Register::RSI,
                    ))
                }
                OpKind::MemoryESDI | OpKind::MemoryESEDI | OpKind::MemoryESRDI => {
                    Arg::Mem(string_mem(Register::ES, Register::RDI))
                }
                kind => Arg::Imm(immediate(decoded, i, kind)),
            };
            args.push(arg);
        }
        let op = match decoded.code() {
            Code::Movsd_xmm_xmmm64 | Code::Movsd_xmmm64_xmm => "MOVSD_XMM".to_owned(),
            Code::Cmpsd_xmm_xmmm64_imm8 => "CMPSD_XMM".to_owned(),
            _ => match mnemonic {
                Mnemonic::Int3 => {
                    args.push(Arg::Imm(3));
                    "INT".to_owned()
                }
                Mnemonic::Int1 => "ICEBP".to_owned(),
                Mnemonic::Wait => "FWAIT".to_owned(),
                Mnemonic::Retf => "LRET".to_owned(),
                Mnemonic::Xlatb => {
                    args = vec![Arg::Mem(string_mem(
                        if segment == Register::None {
                            Register::DS
                        } else {
                            segment
                        },
                        Register::RBX,
                    ))];
                    "XLATB".to_owned()
                }
                _ => mnemonic_name(mnemonic),
            },
        };

        // Which prefixes the instruction consumes, as x86asm marks them
        // "implicit": the last REP/REPNE when it is part of the opcode, and
        // the last FS/GS when a memory operand shows it.
        let rep_index = prefixes.iter().rposition(|&p| p == 0xf2 || p == 0xf3);
        let mandatory_rep = rep_index.is_some_and(|i| {
            mnemonic == Mnemonic::Pause
                || if prefixes[i] == 0xf3 {
                    !decoded.has_repe_prefix()
                } else {
                    !decoded.has_repne_prefix()
                }
        });
        let seg_index = prefixes.iter().rposition(|&p| p == 0x64 || p == 0x65);
        let shows_segment = decoded.op_kinds().any(|k| k == OpKind::Memory)
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
            prefixes.iter().rposition(|&p| p == 0x2e || p == 0x3e)
        } else {
            None
        };
        let mut rep = "";
        let mut last: Option<&'static str> = None;
        for (i, &p) in prefixes.iter().enumerate() {
            let consumed =
                (Some(i) == rep_index && mandatory_rep) || (Some(i) == seg_index && shows_segment);
            if consumed {
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

        GoInst {
            len: decoded.len(),
            suffixed: takes_suffix(&op),
            op,
            args,
            data_size,
            mem_bytes,
            rep,
            prefix: last,
        }
    }

    /// A VEX- or EVEX-encoded instruction (x86asm's AVX decoder); `None`
    /// when that decoder fails.
    fn vex(decoded: &Decoded, bytes: &[u8]) -> Option<GoInst> {
        let evex = decoded.encoding() == EncodingKind::EVEX;
        let mnemonic = decoded.mnemonic();
        let mut len = decoded.len();
        if matches!(mnemonic, Mnemonic::Vzeroupper | Mnemonic::Vzeroall) {
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
                _ => return None,
            };
            args.push(arg);
        }
        if decoded.op_mask() != Register::None {
            // x86asm lists the mask right after the destination.
            args.insert(args.len().min(1), Arg::Reg(decoded.op_mask()));
        }
        let mut op = mnemonic_name(mnemonic);
        // The vector length, from the prefix as x86asm reads it.
        let vector_length = if evex {
            (bytes[3] >> 5) & 3
        } else if bytes[0] == 0xc5 {
            (bytes[1] >> 2) & 1
        } else {
            (bytes[2] >> 2) & 1
        };
        match mnemonic {
            Mnemonic::Vfpclasspd
            | Mnemonic::Vfpclassps
            | Mnemonic::Vcvttpd2dq
            | Mnemonic::Vcvttpd2udq
            | Mnemonic::Vcvttpd2qq
            | Mnemonic::Vcvttpd2uqq
            | Mnemonic::Vcvtpd2dq
            | Mnemonic::Vcvtpd2udq
            | Mnemonic::Vcvtpd2qq
            | Mnemonic::Vcvtpd2uqq
            | Mnemonic::Vcvtpd2ps => {
                if !evex
                    || matches!(
                        mnemonic,
                        Mnemonic::Vfpclasspd | Mnemonic::Vfpclassps | Mnemonic::Vcvtpd2dq
                    )
                {
                    op.push_str(["X", "Y", "Z", ""][usize::from(vector_length)]);
                }
            }
            Mnemonic::Vcvttsd2si
            | Mnemonic::Vcvttss2si
            | Mnemonic::Vcvtsd2si
            | Mnemonic::Vcvtss2si
            | Mnemonic::Vcvtsi2sd
            | Mnemonic::Vcvtsi2ss => {
                let converts_from_int =
                    matches!(mnemonic, Mnemonic::Vcvtsi2sd | Mnemonic::Vcvtsi2ss);
                let wide = (converts_from_int && mem_bytes == 8)
                    || args
                        .iter()
                        .any(|a| matches!(a, Arg::Reg(r) if r.is_gpr64()));
                if wide {
                    op.push('Q');
                } else if converts_from_int {
                    op.push('L');
                }
            }
            _ => {}
        }
        if evex {
            if decoded.is_broadcast() {
                op.push_str(".BCST");
            }
            let rounding = match decoded.rounding_control() {
                RoundingControl::None => None,
                RoundingControl::RoundToNearest => Some(".RN_SAE"),
                RoundingControl::RoundDown => Some(".RD_SAE"),
                RoundingControl::RoundUp => Some(".RU_SAE"),
                RoundingControl::RoundTowardZero => Some(".RZ_SAE"),
            };
            if let Some(rounding) = rounding {
                op.push_str(rounding);
            } else if decoded.suppress_all_exceptions() {
                op.push_str(".SAE");
            }
            if decoded.zeroing_masking() {
                op.push_str(".Z");
            }
        }
        Some(GoInst {
            len,
            op,
            args,
            data_size: 0,
            mem_bytes,
            suffixed: false,
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
        if self.suffixed {
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
        let bits = if self.mem_bytes != 0 {
            self.mem_bytes * 8
        } else if let [Arg::Reg(r)] = self.args.as_slice() {
            if r.is_gpr64() {
                64
            } else {
                self.data_size
            }
        } else {
            self.data_size
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
    if mem.index != Register::None && mem.scale != 0 {
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

/// A legacy instruction's memory operand.
fn legacy_mem(decoded: &Decoded, segment: Register, next_pc: u64) -> Mem {
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
            0 | 1 => displacement as i64,
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
