//! Call frame information: for any PC, how to find the canonical frame
//! address (CFA) and where the caller's registers were saved. Read from
//! `.debug_frame` (what the Go linker writes) and `.eh_frame` (what C code
//! linked in by cgo brings). This is the basis of stack unwinding.

use gimli::{UnwindSection, UnwindTableRow};

use super::dwarf::{load_section, Reader};
use super::image::Image;
use crate::error::{BinaryError, Result};

/// How to compute the canonical frame address at a PC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CfaRule {
    /// CFA = value of DWARF register `register` + `offset`.
    RegisterOffset {
        /// DWARF register number (amd64: 7 is RSP, 6 is RBP).
        register: u16,
        /// Byte offset added to the register.
        offset: i64,
    },
    /// CFA is computed by a DWARF expression (rare in Go code).
    Expression,
}

/// Where the caller's value of one register is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegisterRule {
    /// Not recoverable.
    Undefined,
    /// Unchanged from the callee.
    SameValue,
    /// Saved in memory at CFA + offset.
    AtCfaOffset(i64),
    /// Equal to CFA + offset (not in memory).
    CfaPlusOffset(i64),
    /// Held in another DWARF register.
    InRegister(u16),
    /// Described by a DWARF expression or an architecture-specific rule.
    Other,
}

/// The unwind rules in force at one PC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameRule {
    /// Start of the address range these rules cover.
    pub start: u64,
    /// End (exclusive) of that range.
    pub end: u64,
    /// How to find the CFA.
    pub cfa: CfaRule,
    /// DWARF register number holding the return address (amd64: 16).
    pub return_address_register: u16,
    /// Rules for registers the rows mention; others follow the ABI default.
    pub registers: Vec<(u16, RegisterRule)>,
}

impl FrameRule {
    /// The rule for DWARF register `register`, `None` when the rows do not
    /// mention it.
    pub fn register(&self, register: u16) -> Option<RegisterRule> {
        self.registers
            .iter()
            .find(|(r, _)| *r == register)
            .map(|(_, rule)| *rule)
    }
}

/// One FDE's address range and where to find it.
#[derive(Debug, Clone, Copy)]
struct FdeEntry {
    start: u64,
    end: u64,
    offset: usize,
}

/// One frame section and its FDEs sorted by address.
struct FrameSection<S> {
    section: S,
    bases: gimli::BaseAddresses,
    fdes: Vec<FdeEntry>,
}

/// Indexes of both frame sections of a binary.
pub(crate) struct FrameIndex {
    debug_frame: Option<FrameSection<gimli::DebugFrame<Reader>>>,
    eh_frame: Option<FrameSection<gimli::EhFrame<Reader>>>,
}

impl FrameIndex {
    /// Loads and indexes `.debug_frame` and `.eh_frame` (whichever exist).
    pub fn open(image: &Image) -> Result<FrameIndex> {
        let text = image
            .sections()
            .into_iter()
            .find(|s| s.name == ".text")
            .map_or(0, |s| s.address);
        let debug_frame = if image.has_section(".debug_frame") {
            let mut section = gimli::DebugFrame::from(load_section(image, ".debug_frame")?);
            section.set_address_size(8);
            let bases = gimli::BaseAddresses::default().set_text(text);
            Some(index_section(section, bases, ".debug_frame")?)
        } else {
            None
        };
        let eh_frame = match image.sections().into_iter().find(|s| s.name == ".eh_frame") {
            Some(info) if info.size > 0 => {
                let mut section = gimli::EhFrame::from(load_section(image, ".eh_frame")?);
                section.set_address_size(8);
                let bases = gimli::BaseAddresses::default()
                    .set_text(text)
                    .set_eh_frame(info.address);
                Some(index_section(section, bases, ".eh_frame")?)
            }
            _ => None,
        };
        Ok(FrameIndex {
            debug_frame,
            eh_frame,
        })
    }

    /// The unwind rules at `pc`, `None` when no FDE covers it.
    pub fn rule_at(&self, pc: u64) -> Result<Option<FrameRule>> {
        if let Some(found) = self
            .debug_frame
            .as_ref()
            .map(|s| rule_in(s, pc, ".debug_frame"))
            .transpose()?
            .flatten()
        {
            return Ok(Some(found));
        }
        Ok(self
            .eh_frame
            .as_ref()
            .map(|s| rule_in(s, pc, ".eh_frame"))
            .transpose()?
            .flatten())
    }
}

/// Walks a frame section once, recording each FDE's range and offset.
fn index_section<S: UnwindSection<Reader>>(
    section: S,
    bases: gimli::BaseAddresses,
    name: &str,
) -> Result<FrameSection<S>>
where
    S::Offset: gimli::UnwindOffset<usize>,
{
    let err = |e| BinaryError::dwarf(name, e);
    let mut fdes = Vec::new();
    let mut entries = section.entries(&bases);
    while let Some(entry) = entries.next().map_err(err)? {
        if let gimli::CieOrFde::Fde(partial) = entry {
            let fde = partial.parse(S::cie_from_offset).map_err(err)?;
            if fde.len() > 0 {
                let start = fde.initial_address();
                fdes.push(FdeEntry {
                    start,
                    end: start + fde.len(),
                    offset: fde.offset(),
                });
            }
        }
    }
    fdes.sort_unstable_by_key(|f| f.start);
    Ok(FrameSection {
        section,
        bases,
        fdes,
    })
}

/// Finds the FDE covering `pc` and evaluates its rows up to `pc`.
fn rule_in<S: UnwindSection<Reader>>(
    frames: &FrameSection<S>,
    pc: u64,
    name: &str,
) -> Result<Option<FrameRule>>
where
    S::Offset: gimli::UnwindOffset<usize>,
{
    let after = frames.fdes.partition_point(|f| f.start <= pc);
    let Some(entry) = after
        .checked_sub(1)
        .map(|i| frames.fdes[i])
        .filter(|f| pc < f.end)
    else {
        return Ok(None);
    };
    let err = |e| BinaryError::dwarf(name, e);
    let fde = frames
        .section
        .fde_from_offset(
            &frames.bases,
            S::Offset::from(entry.offset),
            S::cie_from_offset,
        )
        .map_err(err)?;
    let mut context = Box::new(gimli::UnwindContext::new());
    let row = fde
        .unwind_info_for_address(&frames.section, &frames.bases, &mut context, pc)
        .map_err(err)?;
    Ok(Some(convert_row(
        row,
        fde.cie().return_address_register().0,
    )))
}

/// Turns gimli's row into ferret's plain rule.
fn convert_row(row: &UnwindTableRow<usize>, return_address_register: u16) -> FrameRule {
    let cfa = match row.cfa() {
        gimli::CfaRule::RegisterAndOffset { register, offset } => CfaRule::RegisterOffset {
            register: register.0,
            offset: *offset,
        },
        _ => CfaRule::Expression,
    };
    let registers = row
        .registers()
        .map(|(register, rule)| {
            let rule = match rule {
                gimli::RegisterRule::Undefined => RegisterRule::Undefined,
                gimli::RegisterRule::SameValue => RegisterRule::SameValue,
                gimli::RegisterRule::Offset(o) => RegisterRule::AtCfaOffset(*o),
                gimli::RegisterRule::ValOffset(o) => RegisterRule::CfaPlusOffset(*o),
                gimli::RegisterRule::Register(r) => RegisterRule::InRegister(r.0),
                _ => RegisterRule::Other,
            };
            (register.0, rule)
        })
        .collect();
    FrameRule {
        start: row.start_address(),
        end: row.end_address(),
        cfa,
        return_address_register,
        registers,
    }
}
