//! x86-64 disassembly (iced-x86): instruction boundaries, text in GNU or
//! Intel syntax, and direct call targets (what `step` needs to find the
//! functions a line calls).

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
}

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
    let mut decoder = Decoder::with_ip(64, code, address, DecoderOptions::NONE);
    let mut formatter: Box<dyn Formatter> = match syntax {
        Syntax::Gnu => Box::new(GasFormatter::new()),
        Syntax::Intel => Box::new(IntelFormatter::new()),
    };
    let mut out = Vec::new();
    for instruction in &mut decoder {
        let mut text = String::new();
        formatter.format(&instruction, &mut text);
        let start = (instruction.ip() - address) as usize;
        let bytes = code[start..start + instruction.len()].to_vec();
        let direct = matches!(
            instruction.op0_kind(),
            OpKind::NearBranch64 | OpKind::NearBranch32 | OpKind::NearBranch16
        );
        out.push(Instruction {
            address: instruction.ip(),
            bytes,
            text,
            branch_target: direct.then(|| instruction.near_branch_target()),
            is_call: matches!(
                instruction.flow_control(),
                FlowControl::Call | FlowControl::IndirectCall
            ),
            is_return: instruction.mnemonic() == Mnemonic::Ret,
        });
    }
    out
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
}
