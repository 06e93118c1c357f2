//! Emulating the one instruction under a breakpoint, so a thread can go
//! past the breakpoint without it being taken out (which would let other,
//! running threads pass it unseen) and without a single step.
//!
//! Only plain instructions touching at most one memory location are
//! emulated: moves between registers, memory and immediates (with zero
//! and sign extension), `lea`, `push` of a register, `nop`s, direct `call`
//! and `jmp`, and integer `add`/`sub`/`cmp`/`and`/`or`/`xor`/`test` with
//! their flags. These are what Go puts where breakpoints go (the frame
//! set-up ending a prologue, argument spills, loads of locals, calls).
//! Anything else is left to the caller's fallback: stop the world and
//! step with the breakpoint lifted.

use iced_x86::{Code, Decoder, DecoderOptions, Instruction, Mnemonic, OpKind, Register};

use super::Registers;

/// One instruction decoded once, to be emulated on each pass.
#[derive(Debug, Clone)]
pub struct Emulation {
    instruction: Instruction,
}

/// What an emulated instruction does: the registers after it (the PC
/// moved past it) and at most one store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Emulated {
    /// The registers after the instruction.
    pub registers: Registers,
    /// Bytes to write and where.
    pub store: Option<(u64, Vec<u8>)>,
}

impl Emulation {
    /// Decodes the instruction in `bytes` (its original bytes, no int3)
    /// at `addr`; `None` when it is not one this module emulates.
    pub fn decode(addr: u64, bytes: &[u8]) -> Option<Emulation> {
        let mut decoder = Decoder::with_ip(64, bytes, addr, DecoderOptions::NONE);
        let instruction = decoder.decode();
        if instruction.is_invalid() || !is_emulated(&instruction) {
            return None;
        }
        Some(Emulation { instruction })
    }

    /// Whether it writes memory (a write a hardware watchpoint would see).
    pub fn stores(&self) -> bool {
        let i = &self.instruction;
        i.mnemonic() == Mnemonic::Push || (i.op_count() >= 1 && i.op0_kind() == OpKind::Memory)
    }

    /// Its effect on a thread with registers `regs`; `read` fills a buffer
    /// from the target's memory. `None` when a read fails (the caller
    /// falls back).
    pub fn apply(
        &self,
        regs: &Registers,
        read: impl Fn(u64, &mut [u8]) -> bool,
    ) -> Option<Emulated> {
        let i = &self.instruction;
        let mut after = *regs;
        after.rip = i.next_ip();
        let mut store = None;
        match i.mnemonic() {
            Mnemonic::Nop => {}
            Mnemonic::Lea => {
                let addr = self.address(regs)?;
                set_register(&mut after, i.op0_register(), addr)?;
            }
            Mnemonic::Push => {
                let value = self.source(regs, 0, &read)?;
                after.rsp = regs.rsp.wrapping_sub(8);
                store = Some((after.rsp, value.to_le_bytes().to_vec()));
            }
            Mnemonic::Call => {
                after.rsp = regs.rsp.wrapping_sub(8);
                store = Some((after.rsp, i.next_ip().to_le_bytes().to_vec()));
                after.rip = i.near_branch_target();
            }
            Mnemonic::Jmp => after.rip = i.near_branch_target(),
            m if is_arithmetic(m) => {
                let bits = self.width();
                let a = self.source(regs, 0, &read)? & mask(bits);
                let b = self.source(regs, 1, &read)? & mask(bits);
                let (result, flags) = arithmetic(i.mnemonic(), a, b, bits);
                after.eflags = (regs.eflags & !ARITHMETIC_FLAGS) | flags;
                if !matches!(i.mnemonic(), Mnemonic::Cmp | Mnemonic::Test) {
                    match i.op0_kind() {
                        OpKind::Register => set_register(&mut after, i.op0_register(), result)?,
                        OpKind::Memory => {
                            let addr = self.address(regs)?;
                            store =
                                Some((addr, result.to_le_bytes()[..bits as usize / 8].to_vec()));
                        }
                        _ => return None,
                    }
                }
            }
            Mnemonic::Mov | Mnemonic::Movzx | Mnemonic::Movsx | Mnemonic::Movsxd => {
                let value = self.source(regs, 1, &read)?;
                match i.op0_kind() {
                    OpKind::Register => set_register(&mut after, i.op0_register(), value)?,
                    OpKind::Memory => {
                        let size = i.memory_size().size();
                        let addr = self.address(regs)?;
                        store = Some((addr, value.to_le_bytes()[..size].to_vec()));
                    }
                    _ => return None,
                }
            }
            _ => return None,
        }
        Some(Emulated {
            registers: after,
            store,
        })
    }

    /// The value of operand `n` (a register, an immediate or memory),
    /// extended as the instruction says to the width it is used at.
    fn source(
        &self,
        regs: &Registers,
        n: u32,
        read: &impl Fn(u64, &mut [u8]) -> bool,
    ) -> Option<u64> {
        let i = &self.instruction;
        let (raw, bits) = match i.op_kind(n) {
            OpKind::Register => {
                let r = i.op_register(n);
                (register(regs, r)?, r.size() * 8)
            }
            OpKind::Memory => {
                let size = i.memory_size().size();
                let mut bytes = [0u8; 8];
                if size > 8 || !read(self.address(regs)?, &mut bytes[..size]) {
                    return None;
                }
                (u64::from_le_bytes(bytes), size * 8)
            }
            kind if is_immediate(kind) => (i.immediate(n), 64),
            _ => return None,
        };
        let signed = matches!(i.mnemonic(), Mnemonic::Movsx | Mnemonic::Movsxd);
        Some(if signed && bits < 64 {
            let shift = 64 - bits as u32;
            (((raw << shift) as i64) >> shift) as u64
        } else {
            raw
        })
    }

    /// The width in bits of the first operand.
    fn width(&self) -> u32 {
        let i = &self.instruction;
        match i.op0_kind() {
            OpKind::Register => i.op0_register().size() as u32 * 8,
            _ => i.memory_size().size() as u32 * 8,
        }
    }

    /// The address of the memory operand.
    fn address(&self, regs: &Registers) -> Option<u64> {
        let i = &self.instruction;
        let operand = (0..i.op_count()).find(|&n| i.op_kind(n) == OpKind::Memory)?;
        i.virtual_address(operand, 0, |r, _, _| match r {
            Register::ES | Register::CS | Register::SS | Register::DS => Some(0),
            Register::FS => Some(regs.fs_base),
            Register::GS => Some(regs.gs_base),
            Register::RIP => Some(i.next_ip()),
            r => register(regs, r),
        })
    }
}

/// Whether `i` is one of the forms [`Emulation::apply`] handles.
fn is_emulated(i: &Instruction) -> bool {
    let gpr = |r: Register| r.is_gpr();
    let plain_memory = || i.memory_index() == Register::None || i.memory_index().is_gpr();
    match i.mnemonic() {
        Mnemonic::Nop => true,
        Mnemonic::Lea => gpr(i.op0_register()) && i.op0_register().size() >= 4 && plain_memory(),
        Mnemonic::Push => i.code() == Code::Push_r64,
        Mnemonic::Call => i.code() == Code::Call_rel32_64,
        Mnemonic::Jmp => matches!(i.code(), Code::Jmp_rel32_64 | Code::Jmp_rel8_64),
        m if is_arithmetic(m)
            || matches!(
                m,
                Mnemonic::Mov | Mnemonic::Movzx | Mnemonic::Movsx | Mnemonic::Movsxd
            ) =>
        {
            i.op_count() == 2 && !i.has_lock_prefix() && operands_ok(i, gpr, plain_memory)
        }
        _ => false,
    }
}

/// Whether `m` is one of the emulated integer instructions that set flags.
fn is_arithmetic(m: Mnemonic) -> bool {
    matches!(
        m,
        Mnemonic::Add
            | Mnemonic::Sub
            | Mnemonic::Cmp
            | Mnemonic::And
            | Mnemonic::Or
            | Mnemonic::Xor
            | Mnemonic::Test
    )
}

/// Whether both operands of `i` are general registers, memory of at
/// most 8 bytes addressed through general registers, or (the second) an
/// immediate.
fn operands_ok(
    i: &Instruction,
    gpr: impl Fn(Register) -> bool,
    plain_memory: impl Fn() -> bool,
) -> bool {
    let ok = |n: u32| match i.op_kind(n) {
        OpKind::Register => gpr(i.op_register(n)),
        OpKind::Memory => plain_memory() && i.memory_size().size() <= 8,
        kind => n == 1 && is_immediate(kind),
    };
    ok(0) && ok(1)
}

/// Whether an operand of this kind is an immediate.
fn is_immediate(kind: OpKind) -> bool {
    matches!(
        kind,
        OpKind::Immediate8
            | OpKind::Immediate16
            | OpKind::Immediate32
            | OpKind::Immediate64
            | OpKind::Immediate8to16
            | OpKind::Immediate8to32
            | OpKind::Immediate8to64
            | OpKind::Immediate32to64
    )
}

/// The flags `add`, `sub` and the logical instructions set: CF, PF, AF,
/// ZF, SF and OF.
const ARITHMETIC_FLAGS: u64 = 0x8d5;

/// `a op b` at `bits` wide, and the flags it sets (AF cleared by the
/// logical instructions, which leave it undefined).
fn arithmetic(op: Mnemonic, a: u64, b: u64, bits: u32) -> (u64, u64) {
    let m = mask(bits);
    let sign = 1u64 << (bits - 1);
    let (result, carry, overflow) = match op {
        Mnemonic::Add => {
            let r = a.wrapping_add(b) & m;
            (r, r < a, (!(a ^ b) & (a ^ r) & sign) != 0)
        }
        Mnemonic::Sub | Mnemonic::Cmp => {
            let r = a.wrapping_sub(b) & m;
            (r, a < b, ((a ^ b) & (a ^ r) & sign) != 0)
        }
        Mnemonic::And | Mnemonic::Test => (a & b, false, false),
        Mnemonic::Or => (a | b, false, false),
        _ => (a ^ b, false, false),
    };
    let logical = matches!(
        op,
        Mnemonic::And | Mnemonic::Test | Mnemonic::Or | Mnemonic::Xor
    );
    let mut flags = 0;
    if carry {
        flags |= 1;
    }
    if (result as u8).count_ones().is_multiple_of(2) {
        flags |= 1 << 2;
    }
    if !logical && (a ^ b ^ result) & 0x10 != 0 {
        flags |= 1 << 4;
    }
    if result == 0 {
        flags |= 1 << 6;
    }
    if result & sign != 0 {
        flags |= 1 << 7;
    }
    if overflow {
        flags |= 1 << 11;
    }
    (result, flags)
}

/// The 64-bit register holding `r` and where `r` sits in it: (field,
/// shift in bits, width in bits).
fn locate(regs: &mut Registers, r: Register) -> Option<(&mut u64, u32, u32)> {
    let high_byte = matches!(r, Register::AH | Register::BH | Register::CH | Register::DH);
    let full = match r {
        Register::AH => Register::RAX,
        Register::BH => Register::RBX,
        Register::CH => Register::RCX,
        Register::DH => Register::RDX,
        r => r.full_register(),
    };
    let field = match full {
        Register::RAX => &mut regs.rax,
        Register::RBX => &mut regs.rbx,
        Register::RCX => &mut regs.rcx,
        Register::RDX => &mut regs.rdx,
        Register::RSI => &mut regs.rsi,
        Register::RDI => &mut regs.rdi,
        Register::RBP => &mut regs.rbp,
        Register::RSP => &mut regs.rsp,
        Register::R8 => &mut regs.r8,
        Register::R9 => &mut regs.r9,
        Register::R10 => &mut regs.r10,
        Register::R11 => &mut regs.r11,
        Register::R12 => &mut regs.r12,
        Register::R13 => &mut regs.r13,
        Register::R14 => &mut regs.r14,
        Register::R15 => &mut regs.r15,
        _ => return None,
    };
    let shift = if high_byte { 8 } else { 0 };
    Some((field, shift, r.size() as u32 * 8))
}

/// The value of general register `r` (any width).
fn register(regs: &Registers, r: Register) -> Option<u64> {
    let mut copy = *regs;
    let (field, shift, bits) = locate(&mut copy, r)?;
    Some((*field >> shift) & mask(bits))
}

/// Writes `value` to general register `r` as the CPU does: a 32-bit write
/// clears the upper half, 8- and 16-bit writes keep the other bits.
fn set_register(regs: &mut Registers, r: Register, value: u64) -> Option<()> {
    let (field, shift, bits) = locate(regs, r)?;
    *field = match bits {
        64 => value,
        32 => value & mask(32),
        _ => (*field & !(mask(bits) << shift)) | ((value & mask(bits)) << shift),
    };
    Some(())
}

/// The low `bits` bits set.
fn mask(bits: u32) -> u64 {
    if bits >= 64 {
        u64::MAX
    } else {
        (1u64 << bits) - 1
    }
}
