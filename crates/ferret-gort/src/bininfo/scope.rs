//! The variables a function declares, as DWARF lists them under its entry:
//! parameters, results and locals, in lexical blocks that cover only part
//! of its code.

use super::dwarf::{DwarfIndex, Reader};
use super::types::global_offset;
use super::Function;
use crate::error::{BinaryError, Result};

/// What a declared variable is to its function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VariableRole {
    /// A local variable.
    Local,
    /// A parameter.
    Argument,
    /// A result (`~r0`, or a named result).
    Result,
}

/// Where DWARF says a variable is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VariableLocation {
    /// One expression, valid wherever the variable is in scope.
    Expression(Vec<u8>),
    /// A location list at this offset: an expression per PC range.
    List(u64),
    /// No location (optimized away).
    Missing,
}

/// One variable a function declares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeclaredVariable {
    /// Its name as DWARF gives it (`&x` for a variable moved to the heap).
    pub name: String,
    /// Its type (`.debug_info` offset).
    pub ty: u64,
    /// `DW_AT_location`.
    pub location: VariableLocation,
    /// The unit declaring it (location lists are read through it).
    pub unit: usize,
    /// Line of its declaration (0 when not given).
    pub decl_line: u32,
    /// Parameter, result or local.
    pub role: VariableRole,
    /// How many lexical blocks enclose it (0: the function's own scope).
    pub depth: usize,
}

/// A variable a closure captured (Go 1.23+ describes them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CapturedVariable {
    /// Its name (`&x` when captured by reference: the slot holds a pointer).
    pub name: String,
    /// Its type (`.debug_info` offset; the pointer's type for `&x`).
    pub ty: u64,
    /// Byte offset of its slot in the closure object.
    pub offset: u64,
}

/// `DW_AT_go_closure_offset`: where a captured variable sits in the closure.
const DW_AT_GO_CLOSURE_OFFSET: gimli::DwAt = gimli::DwAt(0x2907);

impl DwarfIndex {
    /// Every package-level variable, unit by unit in declaration order
    /// (their names are full: `main.counter`, `net/http.DefaultClient`).
    pub(super) fn package_variables(&self) -> Result<Vec<DeclaredVariable>> {
        let mut out = Vec::new();
        for (index, cu) in self.units.iter().enumerate() {
            let unit = &cu.unit;
            let err = |e| BinaryError::dwarf(format!("variables of unit {}", cu.name), e);
            let mut tree = unit.entries_tree(None).map_err(err)?;
            let root = tree.root().map_err(err)?;
            let mut children = root.children();
            while let Some(child) = children.next().map_err(err)? {
                let entry = child.entry();
                if entry.tag() != gimli::DW_TAG_variable {
                    continue;
                }
                let Some(name) = self.entry_name(unit, entry).map_err(err)? else {
                    continue;
                };
                let location = match entry.attr_value(gimli::DW_AT_location).map_err(err)? {
                    Some(gimli::AttributeValue::Exprloc(expression)) => {
                        VariableLocation::Expression(
                            gimli::Reader::to_slice(&expression.0)
                                .map_err(err)?
                                .into_owned(),
                        )
                    }
                    _ => VariableLocation::Missing,
                };
                out.push(DeclaredVariable {
                    name,
                    ty: entry
                        .attr_value(gimli::DW_AT_type)
                        .map_err(err)?
                        .and_then(|v| global_offset(unit, v))
                        .unwrap_or(0),
                    location,
                    unit: index,
                    decl_line: 0,
                    role: VariableRole::Local,
                    depth: 0,
                });
            }
        }
        Ok(out)
    }

    /// The expression of the location list at `offset` (of unit `unit`)
    /// that covers `pc`, if any.
    pub(super) fn list_expression(
        &self,
        lists: &gimli::LocationLists<Reader>,
        unit: usize,
        offset: u64,
        pc: u64,
    ) -> Result<Option<Vec<u8>>> {
        let err = |e| BinaryError::dwarf(format!("location list at {offset:#x}"), e);
        let unit = &self.units[unit].unit;
        let mut entries = lists
            .locations(
                gimli::LocationListsOffset(offset as usize),
                unit.encoding(),
                unit.low_pc,
                &self.dwarf.debug_addr,
                unit.addr_base,
            )
            .map_err(err)?;
        while let Some(entry) = entries.next().map_err(err)? {
            if entry.range.begin <= pc && pc < entry.range.end {
                return Ok(Some(
                    gimli::Reader::to_slice(&entry.data.0)
                        .map_err(err)?
                        .into_owned(),
                ));
            }
        }
        Ok(None)
    }

    /// The variables the closure `function` captured, in the order its
    /// DWARF lists them (Go sorts them by name, not by slot; Delve shows
    /// them in this order too).
    pub(super) fn captured_variables(&self, function: &Function) -> Result<Vec<CapturedVariable>> {
        let err = |e| BinaryError::dwarf(format!("captures of {}", function.name), e);
        let unit = &self.units[function.unit].unit;
        let Some(mut tree) = function_tree(unit, function).map_err(err)? else {
            return Ok(Vec::new());
        };
        let root = tree.root().map_err(err)?;
        let mut out = Vec::new();
        let mut children = root.children();
        while let Some(child) = children.next().map_err(err)? {
            let entry = child.entry();
            let Some(offset) = entry
                .attr_value(DW_AT_GO_CLOSURE_OFFSET)
                .map_err(err)?
                .and_then(|v| v.udata_value())
            else {
                continue;
            };
            out.push(CapturedVariable {
                name: self
                    .entry_name(unit, entry)
                    .map_err(err)?
                    .unwrap_or_default(),
                ty: entry
                    .attr_value(gimli::DW_AT_type)
                    .map_err(err)?
                    .and_then(|v| global_offset(unit, v))
                    .unwrap_or(0),
                offset,
            });
        }
        Ok(out)
    }

    /// The variables `function` declares that are in scope at `pc`: those
    /// of the function itself (or of its inlined call `inlined_call`) and
    /// of every lexical block covering `pc`, in declaration order (outer
    /// blocks' before inner ones at each level).
    pub(super) fn variables_at(
        &self,
        function: &Function,
        inlined_call: Option<u64>,
        pc: u64,
    ) -> Result<Vec<DeclaredVariable>> {
        let what = || format!("variables of {}", function.name);
        let err = |e| BinaryError::dwarf(what(), e);
        let unit = &self.units[function.unit].unit;
        let root_offset = inlined_call.unwrap_or(function.offset);
        let Some(local) = gimli::DebugInfoOffset(root_offset as usize).to_unit_offset(&unit.header)
        else {
            return Ok(Vec::new());
        };
        let mut tree = unit.entries_tree(Some(local)).map_err(err)?;
        let root = tree.root().map_err(err)?;
        let mut out = Vec::new();
        self.collect_variables(unit, function.unit, root, pc, 0, &mut out)
            .map_err(err)?;
        Ok(out)
    }

    /// The abstract origin of `entry` (in its own unit or another), if it
    /// has one.
    fn abstract_origin<'u>(
        &'u self,
        unit: &'u gimli::Unit<Reader>,
        entry: &gimli::DebuggingInformationEntry<Reader>,
    ) -> gimli::Result<
        Option<(
            &'u gimli::Unit<Reader>,
            gimli::DebuggingInformationEntry<'u, 'u, Reader>,
        )>,
    > {
        Ok(match entry.attr_value(gimli::DW_AT_abstract_origin)? {
            Some(gimli::AttributeValue::UnitRef(offset)) => Some((unit, unit.entry(offset)?)),
            Some(gimli::AttributeValue::DebugInfoRef(global)) => {
                let Some(index) = self.unit_containing(global) else {
                    return Ok(None);
                };
                let other = &self.units[index].unit;
                match global.to_unit_offset(&other.header) {
                    Some(local) => Some((other, other.entry(local)?)),
                    None => None,
                }
            }
            _ => None,
        })
    }

    fn collect_variables(
        &self,
        unit: &gimli::Unit<Reader>,
        unit_index: usize,
        node: gimli::EntriesTreeNode<Reader>,
        pc: u64,
        depth: usize,
        out: &mut Vec<DeclaredVariable>,
    ) -> gimli::Result<()> {
        let mut children = node.children();
        while let Some(child) = children.next()? {
            let entry = child.entry();
            // The variables of an inlined body describe themselves through
            // their abstract origin (the callee's own entries, maybe in the
            // callee's package's unit).
            let origin = self.abstract_origin(unit, entry)?;
            let (described_unit, described) = match &origin {
                Some((origin_unit, origin_entry)) => (*origin_unit, origin_entry),
                None => (unit, entry),
            };
            let role = match entry.tag() {
                gimli::DW_TAG_formal_parameter => {
                    let is_result = matches!(
                        described.attr_value(gimli::DW_AT_variable_parameter)?,
                        Some(gimli::AttributeValue::Flag(true))
                    );
                    if is_result {
                        VariableRole::Result
                    } else {
                        VariableRole::Argument
                    }
                }
                gimli::DW_TAG_variable => VariableRole::Local,
                gimli::DW_TAG_lexical_block => {
                    let ranges = self.entry_ranges(unit, entry)?;
                    if ranges.iter().any(|&(begin, end)| begin <= pc && pc < end) {
                        self.collect_variables(unit, unit_index, child, pc, depth + 1, out)?;
                    }
                    continue;
                }
                _ => continue,
            };
            let name = self.entry_name(unit, entry)?.unwrap_or_default();
            let ty = described
                .attr_value(gimli::DW_AT_type)?
                .and_then(|v| global_offset(described_unit, v))
                .unwrap_or(0);
            let location = match entry.attr_value(gimli::DW_AT_location)? {
                Some(gimli::AttributeValue::Exprloc(expression)) => VariableLocation::Expression(
                    gimli::Reader::to_slice(&expression.0)?.into_owned(),
                ),
                Some(gimli::AttributeValue::LocationListsRef(offset)) => {
                    VariableLocation::List(offset.0 as u64)
                }
                Some(gimli::AttributeValue::DebugLocListsIndex(index)) => {
                    let offset = self.dwarf.locations_offset(unit, index)?;
                    VariableLocation::List(offset.0 as u64)
                }
                _ => VariableLocation::Missing,
            };
            let decl_line = described
                .attr_value(gimli::DW_AT_decl_line)?
                .and_then(|v| v.udata_value())
                .unwrap_or(0) as u32;
            out.push(DeclaredVariable {
                name,
                ty,
                location,
                unit: unit_index,
                decl_line,
                role,
                depth,
            });
        }
        Ok(())
    }
}

/// The entries below `function`'s own (none when its offset is not in
/// `unit`).
fn function_tree<'u>(
    unit: &'u gimli::Unit<Reader>,
    function: &Function,
) -> gimli::Result<Option<gimli::EntriesTree<'u, 'u, Reader>>> {
    let Some(local) = gimli::DebugInfoOffset(function.offset as usize).to_unit_offset(&unit.header)
    else {
        return Ok(None);
    };
    unit.entries_tree(Some(local)).map(Some)
}

/// Where a variable's value is, from its DWARF location expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VariablePlace {
    /// In memory at this address.
    Memory(u64),
    /// Not (wholly) in memory: its bytes, gathered from registers and
    /// pieces.
    Value(Vec<u8>),
    /// Wholly in one register (DWARF number) of the frame, with its value.
    Register(u16, u64),
    /// Nowhere: the expression is empty (optimized away here).
    Empty,
    /// In a register this frame does not have (above the innermost frame,
    /// only the stack and frame pointers are known).
    MissingRegister(u16),
    /// The expression uses what ferret does not evaluate.
    Unsupported,
}

/// The encoding Go's DWARF uses on 64-bit targets (what operations need to
/// parse: address size).
const ENCODING: gimli::Encoding = gimli::Encoding {
    format: gimli::Format::Dwarf32,
    version: 4,
    address_size: 8,
};

/// Evaluates a location expression of a variable in a frame whose
/// canonical frame address is `cfa` (Go's frame base is the CFA), with the
/// frame's registers by DWARF number where known, reading pieces that are
/// in memory from `mem`.
pub fn variable_place(
    expression: &[u8],
    cfa: u64,
    register: &dyn Fn(u16) -> Option<u64>,
    mem: &dyn ferret_target::Memory,
) -> VariablePlace {
    let mut reader = gimli::EndianSlice::new(expression, gimli::LittleEndian);
    let mut stack: Vec<u64> = Vec::new();
    let mut in_register: Option<u16> = None;
    let mut pieces: Option<Vec<u8>> = None;
    while !reader.is_empty() {
        let Ok(operation) = gimli::Operation::parse(&mut reader, ENCODING) else {
            return VariablePlace::Unsupported;
        };
        match operation {
            gimli::Operation::FrameOffset { offset } => {
                stack.push(cfa.wrapping_add(offset as u64));
            }
            gimli::Operation::CallFrameCFA => stack.push(cfa),
            gimli::Operation::Address { address } => stack.push(address),
            gimli::Operation::PlusConstant { value } => match stack.last_mut() {
                Some(top) => *top = top.wrapping_add(value),
                None => return VariablePlace::Unsupported,
            },
            gimli::Operation::Register { register: r } => in_register = Some(r.0),
            gimli::Operation::RegisterOffset {
                register: r,
                offset,
                ..
            } => match register(r.0) {
                Some(value) => stack.push(value.wrapping_add(offset as u64)),
                None => return VariablePlace::Unsupported,
            },
            gimli::Operation::Piece {
                size_in_bits,
                bit_offset: None,
            } => {
                let size = (size_in_bits / 8) as usize;
                let mut bytes = vec![0u8; size];
                if let Some(r) = in_register.take() {
                    // A register this frame does not have reads as zeros,
                    // as in Delve.
                    let word = register(r).unwrap_or(0).to_le_bytes();
                    let n = size.min(8);
                    bytes[..n].copy_from_slice(&word[..n]);
                } else if let Some(addr) = stack.pop() {
                    if mem.read_memory(addr, &mut bytes).is_err() {
                        return VariablePlace::Unsupported;
                    }
                }
                // Nothing on the stack: optimized out, reads as zeros.
                pieces.get_or_insert_with(Vec::new).extend(bytes);
            }
            _ => return VariablePlace::Unsupported,
        }
    }
    if let Some(bytes) = pieces {
        return VariablePlace::Value(bytes);
    }
    if let Some(r) = in_register {
        return match register(r) {
            Some(value) => VariablePlace::Register(r, value),
            None => VariablePlace::MissingRegister(r),
        };
    }
    match stack.pop() {
        Some(address) => VariablePlace::Memory(address),
        None if expression.is_empty() => VariablePlace::Empty,
        None => VariablePlace::Unsupported,
    }
}

/// Delve's names of the amd64 registers by DWARF number.
fn register_name(number: u16) -> String {
    const NAMES: [&str; 17] = [
        "Rax", "Rdx", "Rcx", "Rbx", "Rsi", "Rdi", "Rbp", "Rsp", "R8", "R9", "R10", "R11", "R12",
        "R13", "R14", "R15", "Rip",
    ];
    match NAMES.get(number as usize) {
        Some(name) => (*name).to_owned(),
        None if (17..33).contains(&number) => format!("X{}", number - 17),
        None => format!("r{number}"),
    }
}

/// A location expression as Delve prints it (`api.Variable.LocationExpr`):
/// `prefix` (`[block] ` for a single expression, `[LIST:PC] ` for one
/// taken from a location list), then each operation followed by a space.
pub fn location_text(prefix: &str, expression: &[u8]) -> String {
    let mut reader = gimli::EndianSlice::new(expression, gimli::LittleEndian);
    let mut out = prefix.to_owned();
    while !reader.is_empty() {
        let Ok(operation) = gimli::Operation::parse(&mut reader, ENCODING) else {
            out.push_str("? ");
            break;
        };
        let signed = |n: i64| {
            if n < 0 {
                format!("-{:#x}", n.unsigned_abs())
            } else {
                format!("{n:#x}")
            }
        };
        let text = match operation {
            gimli::Operation::FrameOffset { offset } => format!("DW_OP_fbreg {}", signed(offset)),
            gimli::Operation::CallFrameCFA => "DW_OP_call_frame_cfa".to_owned(),
            gimli::Operation::Address { address } => format!("DW_OP_addr {address:#x}"),
            gimli::Operation::PlusConstant { value } => format!("DW_OP_plus_uconst {value:#x}"),
            gimli::Operation::Register { register } if register.0 < 32 => {
                format!("DW_OP_reg{}({})", register.0, register_name(register.0))
            }
            gimli::Operation::Register { register } => {
                format!(
                    "DW_OP_regx({}) {:#x}",
                    register_name(register.0),
                    register.0
                )
            }
            gimli::Operation::RegisterOffset {
                register, offset, ..
            } => format!(
                "DW_OP_breg{}({}) {}",
                register.0,
                register_name(register.0),
                signed(offset)
            ),
            gimli::Operation::Piece { size_in_bits, .. } => {
                format!("DW_OP_piece {:#x}", size_in_bits / 8)
            }
            other => format!("{other:?}"),
        };
        out.push_str(&text);
        out.push(' ');
    }
    out
}
