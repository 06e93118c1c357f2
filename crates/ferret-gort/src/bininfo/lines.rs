//! Line tables: one per compilation unit, decoded from `.debug_line` the
//! first time a question needs it.

use std::sync::Arc;

use gimli::Reader as _;

use super::dwarf::Reader;
use crate::error::{BinaryError, Result};

/// One row of a decoded line table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineRow {
    /// First address the row covers.
    pub address: u64,
    /// Index into [`LineTable::files`].
    pub file: u32,
    /// 1-based source line; 0 when the compiler had none.
    pub line: u32,
    /// A recommended breakpoint position (DWARF `is_stmt`).
    pub is_stmt: bool,
    /// The first address after the function prologue (`prologue_end`).
    pub prologue_end: bool,
    /// Marks the first address past the end of a sequence.
    pub end_sequence: bool,
}

/// A compilation unit's decoded line table: rows sorted by address, with
/// each sequence closed by an `end_sequence` row.
#[derive(Debug)]
pub struct LineTable {
    /// Full source paths, as the rows' `file` indexes name them.
    pub files: Vec<Arc<str>>,
    /// All rows, sequences ordered by start address.
    pub rows: Vec<LineRow>,
    /// The line program's initial state as a row template: file 1, line 1
    /// and the header's default `is_stmt` (see [`LineTable::leading_row`]).
    initial: Option<LineRow>,
}

impl LineTable {
    /// Decodes the line program of `unit`.
    pub(crate) fn decode(
        dwarf: &gimli::Dwarf<Reader>,
        unit: &gimli::Unit<Reader>,
        unit_name: &str,
    ) -> Result<LineTable> {
        let Some(program) = unit.line_program.clone() else {
            return Ok(LineTable {
                files: Vec::new(),
                rows: Vec::new(),
                initial: None,
            });
        };
        let err = |e| BinaryError::dwarf(format!(".debug_line of unit {unit_name}"), e);
        let names = file_names(dwarf, unit)?;
        // Raw DWARF file indexes (0- or 1-based by version) -> our indexes.
        let mut files: Vec<Arc<str>> = Vec::new();
        let mut index_of_raw: Vec<u32> = Vec::with_capacity(names.len());
        for name in names {
            let name: Arc<str> = name.unwrap_or_default().into();
            let index = match files.iter().position(|f| *f == name) {
                Some(i) => i,
                None => {
                    files.push(name);
                    files.len() - 1
                }
            };
            index_of_raw.push(index as u32);
        }

        let default_is_stmt = program.header().default_is_stmt();
        // Rows go into one list; sequences (one per function in Go) are
        // reordered by start address only when they are not in order already.
        let mut rows: Vec<LineRow> = Vec::new();
        // (start address, first row) of each finished sequence.
        let mut sequences: Vec<(u64, usize)> = Vec::new();
        let mut sequence_start = 0;
        let mut program_rows = program.rows();
        while let Some((_, row)) = program_rows.next_row().map_err(err)? {
            let file = index_of_raw
                .get(row.file_index() as usize)
                .copied()
                .unwrap_or(u32::MAX);
            rows.push(LineRow {
                address: row.address(),
                file,
                line: row.line().map_or(0, |l| l.get() as u32),
                is_stmt: row.is_stmt(),
                prologue_end: row.prologue_end(),
                end_sequence: row.end_sequence(),
            });
            if row.end_sequence() {
                sequences.push((rows[sequence_start].address, sequence_start));
                sequence_start = rows.len();
            }
        }
        // Rows after the last end_sequence belong to no finished sequence.
        rows.truncate(sequence_start);
        if !sequences.is_sorted_by_key(|s| s.0) {
            let bounds: Vec<(usize, usize)> = sequences
                .iter()
                .enumerate()
                .map(|(i, s)| (s.1, sequences.get(i + 1).map_or(rows.len(), |n| n.1)))
                .collect();
            let mut order: Vec<usize> = (0..sequences.len()).collect();
            order.sort_by_key(|&i| sequences[i].0);
            rows = order
                .iter()
                .flat_map(|&i| rows[bounds[i].0..bounds[i].1].iter().copied())
                .collect();
        }
        let initial = index_of_raw.get(1).map(|&file| LineRow {
            address: 0,
            file,
            line: 1,
            is_stmt: default_is_stmt,
            prologue_end: false,
            end_sequence: false,
        });
        Ok(LineTable {
            files,
            rows,
            initial,
        })
    }

    /// The row in effect at `pc`: the last row at or before it, unless that
    /// row ends a sequence (then `pc` is in no sequence).
    pub fn row_at(&self, pc: u64) -> Option<&LineRow> {
        let after = self.rows.partition_point(|r| r.address <= pc);
        let row = self.rows.get(after.checked_sub(1)?)?;
        (!row.end_sequence).then_some(row)
    }

    /// The row for the bytes of a function at `entry` that come before the
    /// first row of its sequence, if there are such bytes.
    ///
    /// The Go linker starts each function's sequence with
    /// `DW_LNE_set_address entry` but emits no row there when the entry's
    /// position equals the line program's initial state (file 1, line 1;
    /// typically `<autogenerated>:1`). Those bytes therefore have the initial
    /// state, which is what `go tool addr2line` reports for them too.
    pub fn leading_row(&self, entry: u64, end: u64) -> Option<LineRow> {
        let first = self.rows.partition_point(|r| r.address < entry);
        let row = self.rows.get(first)?;
        let starts_sequence = first == 0 || self.rows[first - 1].end_sequence;
        // A sequence made of its end row alone covers a function with no
        // rows at all, which is the same case.
        let inside = row.address < end || (row.end_sequence && row.address == end);
        if row.address <= entry || !inside || !starts_sequence {
            return None;
        }
        self.initial.map(|r| LineRow {
            address: entry,
            ..r
        })
    }

    /// The file path a row names.
    pub fn file(&self, row: &LineRow) -> Option<&Arc<str>> {
        self.files.get(row.file as usize)
    }

    /// Statement addresses for `line` of the file at `file` index.
    pub fn statement_pcs(&self, file: u32, line: u32) -> impl Iterator<Item = u64> + '_ {
        self.rows
            .iter()
            .filter(move |r| r.file == file && r.line == line && r.is_stmt && !r.end_sequence)
            .map(|r| r.address)
    }

    /// The first address in `[entry, end)` marked `prologue_end`.
    pub fn prologue_end(&self, entry: u64, end: u64) -> Option<u64> {
        let from = self.rows.partition_point(|r| r.address < entry);
        self.rows[from..]
            .iter()
            .take_while(|r| r.address < end)
            .find(|r| r.prologue_end && !r.end_sequence)
            .map(|r| r.address)
    }
}

/// The file table of `unit`'s line program, indexed by raw DWARF file
/// index, as full paths (directory joined where the name is relative).
pub(crate) fn file_names(
    dwarf: &gimli::Dwarf<Reader>,
    unit: &gimli::Unit<Reader>,
) -> Result<Vec<Option<String>>> {
    let Some(program) = unit.line_program.as_ref() else {
        return Ok(Vec::new());
    };
    let header = program.header();
    let err = |e| BinaryError::dwarf(".debug_line file table", e);
    // DWARF 5 numbers files from 0, earlier versions from 1.
    let first = if header.version() >= 5 { 0 } else { 1 };
    let count = header.file_names().len() as u64;
    let mut out = vec![None; first as usize];
    for index in first..first + count {
        let Some(entry) = header.file(index) else {
            out.push(None);
            continue;
        };
        let name = dwarf.attr_string(unit, entry.path_name()).map_err(err)?;
        let name = name.to_string_lossy().map_err(err)?.into_owned();
        // Absolute paths stand alone, and so do Go's pseudo-files such as
        // `<autogenerated>`.
        let path = if name.starts_with('/') || name.starts_with('<') {
            name
        } else {
            match entry.directory(header) {
                Some(dir) => {
                    let dir = dwarf.attr_string(unit, dir).map_err(err)?;
                    let dir = dir.to_string_lossy().map_err(err)?;
                    if dir.is_empty() || dir == "." {
                        name
                    } else {
                        format!("{}/{}", dir.trim_end_matches('/'), name)
                    }
                }
                None => name,
            }
        };
        out.push(Some(path));
    }
    Ok(out)
}
