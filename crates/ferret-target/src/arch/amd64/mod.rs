//! x86-64 registers, in the kernel's `user_regs_struct` layout (the same
//! layout ptrace returns and core files store in `NT_PRSTATUS`), and the
//! XSAVE area (`NT_X86_XSTATE`).

pub mod emulate;

/// `int3`.
pub const BREAKPOINT_INSTRUCTION: u8 = 0xcc;

/// General-purpose registers, field order as in `user_regs_struct`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[repr(C)]
#[allow(missing_docs)]
pub struct Registers {
    pub r15: u64,
    pub r14: u64,
    pub r13: u64,
    pub r12: u64,
    pub rbp: u64,
    pub rbx: u64,
    pub r11: u64,
    pub r10: u64,
    pub r9: u64,
    pub r8: u64,
    pub rax: u64,
    pub rcx: u64,
    pub rdx: u64,
    pub rsi: u64,
    pub rdi: u64,
    pub orig_rax: u64,
    pub rip: u64,
    pub cs: u64,
    pub eflags: u64,
    pub rsp: u64,
    pub ss: u64,
    pub fs_base: u64,
    pub gs_base: u64,
    pub ds: u64,
    pub es: u64,
    pub fs: u64,
    pub gs: u64,
}

/// Size of `user_regs_struct` in bytes.
pub const REGISTERS_SIZE: usize = 27 * 8;

/// Names in `user_regs_struct` order, for listings.
pub const REGISTER_NAMES: [&str; 27] = [
    "r15", "r14", "r13", "r12", "rbp", "rbx", "r11", "r10", "r9", "r8", "rax", "rcx", "rdx", "rsi",
    "rdi", "orig_rax", "rip", "cs", "eflags", "rsp", "ss", "fs_base", "gs_base", "ds", "es", "fs",
    "gs",
];

impl Registers {
    /// Program counter.
    pub fn pc(&self) -> u64 {
        self.rip
    }

    /// Stack pointer.
    pub fn sp(&self) -> u64 {
        self.rsp
    }

    /// Sets the program counter.
    pub fn set_pc(&mut self, pc: u64) {
        self.rip = pc;
    }

    /// The registers as 27 words in `user_regs_struct` order.
    pub fn to_words(&self) -> [u64; 27] {
        [
            self.r15,
            self.r14,
            self.r13,
            self.r12,
            self.rbp,
            self.rbx,
            self.r11,
            self.r10,
            self.r9,
            self.r8,
            self.rax,
            self.rcx,
            self.rdx,
            self.rsi,
            self.rdi,
            self.orig_rax,
            self.rip,
            self.cs,
            self.eflags,
            self.rsp,
            self.ss,
            self.fs_base,
            self.gs_base,
            self.ds,
            self.es,
            self.fs,
            self.gs,
        ]
    }

    /// Registers from 27 words in `user_regs_struct` order.
    pub fn from_words(w: &[u64; 27]) -> Registers {
        Registers {
            r15: w[0],
            r14: w[1],
            r13: w[2],
            r12: w[3],
            rbp: w[4],
            rbx: w[5],
            r11: w[6],
            r10: w[7],
            r9: w[8],
            r8: w[9],
            rax: w[10],
            rcx: w[11],
            rdx: w[12],
            rsi: w[13],
            rdi: w[14],
            orig_rax: w[15],
            rip: w[16],
            cs: w[17],
            eflags: w[18],
            rsp: w[19],
            ss: w[20],
            fs_base: w[21],
            gs_base: w[22],
            ds: w[23],
            es: w[24],
            fs: w[25],
            gs: w[26],
        }
    }

    /// Registers from the raw little-endian bytes of a `user_regs_struct`
    /// (e.g. `pr_reg` of a core's `NT_PRSTATUS`). `None` if too short.
    pub fn from_bytes(bytes: &[u8]) -> Option<Registers> {
        let bytes = bytes.get(..REGISTERS_SIZE)?;
        let mut words = [0u64; 27];
        for (word, chunk) in words.iter_mut().zip(bytes.chunks_exact(8)) {
            *word = u64::from_le_bytes(chunk.try_into().expect("8-byte chunk"));
        }
        Some(Registers::from_words(&words))
    }

    /// The raw little-endian bytes of a `user_regs_struct`.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.to_words()
            .iter()
            .flat_map(|w| w.to_le_bytes())
            .collect()
    }

    /// The value of DWARF register `number` (System V x86-64 numbering:
    /// 0 rax, 1 rdx, 2 rcx, 3 rbx, 4 rsi, 5 rdi, 6 rbp, 7 rsp, 8-15 r8-r15,
    /// 16 the return address, i.e. rip).
    pub fn dwarf_register(&self, number: u16) -> Option<u64> {
        Some(match number {
            0 => self.rax,
            1 => self.rdx,
            2 => self.rcx,
            3 => self.rbx,
            4 => self.rsi,
            5 => self.rdi,
            6 => self.rbp,
            7 => self.rsp,
            8 => self.r8,
            9 => self.r9,
            10 => self.r10,
            11 => self.r11,
            12 => self.r12,
            13 => self.r13,
            14 => self.r14,
            15 => self.r15,
            16 => self.rip,
            _ => return None,
        })
    }

    /// The field holding DWARF register `number` (see
    /// [`Registers::dwarf_register`]), to change it.
    pub fn dwarf_register_mut(&mut self, number: u16) -> Option<&mut u64> {
        Some(match number {
            0 => &mut self.rax,
            1 => &mut self.rdx,
            2 => &mut self.rcx,
            3 => &mut self.rbx,
            4 => &mut self.rsi,
            5 => &mut self.rdi,
            6 => &mut self.rbp,
            7 => &mut self.rsp,
            8 => &mut self.r8,
            9 => &mut self.r9,
            10 => &mut self.r10,
            11 => &mut self.r11,
            12 => &mut self.r12,
            13 => &mut self.r13,
            14 => &mut self.r14,
            15 => &mut self.r15,
            16 => &mut self.rip,
            _ => return None,
        })
    }
}

/// The x87/SSE/AVX state: an XSAVE area (or, from cores without
/// `NT_X86_XSTATE`, just its first 512 bytes, the FXSAVE part).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FpRegisters {
    /// The raw area as the kernel gave it.
    pub raw: Vec<u8>,
}

/// Offset of XMM0 in the FXSAVE area.
const XMM_OFFSET: usize = 160;
/// Offset of ST0 in the FXSAVE area.
const ST_OFFSET: usize = 32;
/// Offset of MXCSR in the FXSAVE area.
const MXCSR_OFFSET: usize = 24;
/// Offset of the upper halves of YMM0-15 in the standard XSAVE layout.
const YMM_HIGH_OFFSET: usize = 576;
/// Offset of XSTATE_BV in the XSAVE header.
const XSTATE_BV_OFFSET: usize = 512;
/// XSTATE_BV bit saying the AVX (YMM upper halves) component is present.
const XSTATE_AVX: u64 = 1 << 2;

impl FpRegisters {
    /// XMM register `i` (0-15), 16 bytes.
    pub fn xmm(&self, i: usize) -> Option<[u8; 16]> {
        let at = XMM_OFFSET + 16 * i;
        (i < 16)
            .then(|| self.raw.get(at..at + 16)?.try_into().ok())
            .flatten()
    }

    /// YMM register `i` (0-15), 32 bytes, when the AVX state is present.
    pub fn ymm(&self, i: usize) -> Option<[u8; 32]> {
        let low = self.xmm(i)?;
        let bv = u64::from_le_bytes(
            self.raw
                .get(XSTATE_BV_OFFSET..XSTATE_BV_OFFSET + 8)?
                .try_into()
                .ok()?,
        );
        let at = YMM_HIGH_OFFSET + 16 * i;
        let high: [u8; 16] = if bv & XSTATE_AVX != 0 {
            self.raw.get(at..at + 16)?.try_into().ok()?
        } else {
            [0; 16]
        };
        let mut out = [0u8; 32];
        out[..16].copy_from_slice(&low);
        out[16..].copy_from_slice(&high);
        Some(out)
    }

    /// x87 register ST(`i`) (0-7), its 10 significant bytes.
    pub fn st(&self, i: usize) -> Option<[u8; 10]> {
        let at = ST_OFFSET + 16 * i;
        (i < 8)
            .then(|| self.raw.get(at..at + 10)?.try_into().ok())
            .flatten()
    }

    /// The SSE control and status register.
    pub fn mxcsr(&self) -> Option<u32> {
        Some(u32::from_le_bytes(
            self.raw
                .get(MXCSR_OFFSET..MXCSR_OFFSET + 4)?
                .try_into()
                .ok()?,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_round_trip_and_dwarf_numbers() {
        let words: [u64; 27] = std::array::from_fn(|i| i as u64 * 3 + 1);
        let regs = Registers::from_words(&words);
        assert_eq!(regs.to_words(), words);
        assert_eq!(Registers::from_bytes(&regs.to_bytes()), Some(regs));
        assert_eq!(regs.dwarf_register(7), Some(regs.rsp));
        assert_eq!(regs.dwarf_register(16), Some(regs.rip));
        assert_eq!(regs.dwarf_register(0), Some(regs.rax));
        assert_eq!(regs.dwarf_register(17), None);
        assert_eq!(std::mem::size_of::<Registers>(), REGISTERS_SIZE);
    }

    #[test]
    fn fp_accessors_read_the_fxsave_layout() {
        let mut raw = vec![0u8; 1024];
        raw[XMM_OFFSET..XMM_OFFSET + 8].copy_from_slice(&1.5f64.to_le_bytes());
        raw[MXCSR_OFFSET..MXCSR_OFFSET + 4].copy_from_slice(&0x1f80u32.to_le_bytes());
        raw[XSTATE_BV_OFFSET] = 0x7;
        raw[YMM_HIGH_OFFSET] = 0xab;
        let fp = FpRegisters { raw };
        assert_eq!(&fp.xmm(0).unwrap()[..8], &1.5f64.to_le_bytes());
        assert_eq!(fp.mxcsr(), Some(0x1f80));
        assert_eq!(fp.ymm(0).unwrap()[16], 0xab);
        assert!(fp.xmm(16).is_none());
    }
}
