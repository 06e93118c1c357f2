//! Names for addresses in Go syntax disassembly, chosen as Delve chooses
//! them (its `BinaryInfo.symLookup`), which differs from `go tool objdump`:
//! objdump names any address inside an ELF symbol (`name+off(SB)`, with
//! ELF names such as `runtime.morestack_noctxt.abi0`), Delve only
//!
//! 1. a function's entry, by its DWARF name (`runtime.morestack_noctxt`),
//!    and nothing else inside a function;
//! 2. a local ELF function symbol's address;
//! 3. an address at or after a package variable's, up to the last one's,
//!    as that variable plus the offset, however far past its end.

use std::collections::HashMap;

use crate::bininfo::VariableLocation;
use crate::{BinaryInfo, Result};

/// `DW_OP_addr`, the opcode of a variable location that is a fixed address.
const DW_OP_ADDR: u8 = 0x03;

/// The symbols of one executable for [`super::disassemble_go`], named as
/// Delve names them; pass `&|address| symbols.lookup(address)`.
pub struct DelveSymbols<'a> {
    info: &'a BinaryInfo,
    /// Local ELF function symbols by address.
    local_functions: HashMap<u64, &'a str>,
    /// Package variables with a fixed address, sorted by address.
    variables: Vec<(u64, &'a str)>,
}

impl<'a> DelveSymbols<'a> {
    /// Gathers the symbols of `info`.
    pub fn new(info: &'a BinaryInfo) -> Result<DelveSymbols<'a>> {
        let local_functions = info
            .symbols()
            .iter()
            .filter(|s| s.code == 't')
            .map(|s| (s.address, s.name.as_str()))
            .collect();
        let mut variables: Vec<(u64, &str)> = info
            .package_variables()?
            .iter()
            .filter_map(|v| match &v.location {
                VariableLocation::Expression(e) if e.len() == 9 && e[0] == DW_OP_ADDR => {
                    let address = u64::from_le_bytes(e[1..].try_into().ok()?);
                    Some((address, v.name.as_str()))
                }
                _ => None,
            })
            .collect();
        variables.sort_by_key(|&(address, _)| address);
        Ok(DelveSymbols {
            info,
            local_functions,
            variables,
        })
    }

    /// The name and start of the symbol Delve shows for `address`, if any.
    pub fn lookup(&self, address: u64) -> Option<(String, u64)> {
        if let Ok(Some(function)) = self.info.function_at(address) {
            return (function.entry == address).then_some((function.name, address));
        }
        if let Some(name) = self.local_functions.get(&address) {
            return Some((name.to_string(), address));
        }
        // The first variable at `address`, else the last one before it,
        // unless `address` lies past every variable.
        let i = self
            .variables
            .partition_point(|&(start, _)| start < address);
        let &(start, _) = self.variables.get(i)?;
        let i = if start == address {
            i
        } else {
            i.checked_sub(1)?
        };
        let &(start, name) = &self.variables[i];
        (start != 0).then(|| (name.to_owned(), start))
    }
}
