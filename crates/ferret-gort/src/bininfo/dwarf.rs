//! The DWARF of a Go binary, indexed lazily.
//!
//! Opening reads only the unit headers and each unit's root entry (package
//! name, address ranges, line program header). A unit's functions, inlined
//! calls, types and line table are decoded the first time a question needs
//! them, then cached. The whole-binary indexes (functions by name, files to
//! units) are built only when a question cannot be answered from one unit.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, OnceLock};

use gimli::Reader as _;

use super::image::Image;
use super::lines::{file_names, LineTable};
use crate::error::{BinaryError, Result};

/// The gimli reader used throughout: sections are owned (decompressed or
/// copied once) and shared.
pub(crate) type Reader = gimli::EndianArcSlice<gimli::RunTimeEndian>;

/// A function with machine code: a concrete DWARF subprogram.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Function {
    /// Fully qualified Go name, e.g. `main.(*Counter).Add`.
    pub name: String,
    /// Entry address.
    pub entry: u64,
    /// First address past the function's code.
    pub end: u64,
    /// Index of the compilation unit (package) that holds it.
    pub unit: usize,
    /// Marked `DW_AT_trampoline`: a compiler-made wrapper that only calls
    /// the real function; location lookups skip it, as Delve does.
    pub trampoline: bool,
    /// Offset of its entry in `.debug_info` (its variables are below it).
    pub offset: u64,
}

/// One inlined call: the code of `function` inlined into a caller at
/// `call_file:call_line`. Calls whose code was optimized away entirely
/// (no address range) are not recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InlinedCall {
    /// Name of the inlined (callee) function.
    pub function: String,
    /// Address ranges of the inlined body, in DWARF order (the first range's
    /// start is where a breakpoint on the call goes).
    pub ranges: Vec<(u64, u64)>,
    /// File of the call site.
    pub call_file: String,
    /// Line of the call site.
    pub call_line: u32,
    /// Nesting depth: 0 for a call inlined directly into a concrete function.
    pub depth: u32,
    /// Index into the unit's function list of the concrete function it is in.
    pub parent: usize,
    /// Offset of its `DW_TAG_inlined_subroutine` entry in `.debug_info`
    /// (the inlined body's variables are below it).
    pub offset: u64,
}

impl InlinedCall {
    /// Whether `pc` is inside the inlined body.
    pub fn contains(&self, pc: u64) -> bool {
        self.ranges
            .iter()
            .any(|&(begin, end)| begin <= pc && pc < end)
    }

    /// Where the inlined body starts: the start of its first range.
    pub fn low_pc(&self) -> u64 {
        self.ranges.first().map_or(0, |r| r.0)
    }
}

/// A named type defined in DWARF.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeName {
    /// Go type name, e.g. `main.Counter` or `*main.Counter`.
    pub name: String,
    /// Offset of its entry in `.debug_info`.
    pub offset: u64,
}

/// A struct type's layout, read from DWARF so no offset is hard-coded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StructLayout {
    /// Go type name.
    pub name: String,
    /// Size in bytes.
    pub size: u64,
    /// Members in declaration order.
    pub members: Vec<Member>,
}

impl StructLayout {
    /// The member called `name`.
    pub fn member(&self, name: &str) -> Option<&Member> {
        self.members.iter().find(|m| m.name == name)
    }
}

/// One member of a struct.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// Field name.
    pub name: String,
    /// Byte offset within the struct.
    pub offset: u64,
    /// Its type's Go name (e.g. `*runtime.m`, `runtime.gobuf`).
    pub type_name: String,
    /// Its type's size in bytes (0 when DWARF does not say).
    pub size: u64,
}

/// What one unit's debugging entries describe.
#[derive(Debug, Default)]
pub struct UnitEntries {
    /// Concrete functions, sorted by entry address.
    pub functions: Vec<Function>,
    /// Inlined calls, in entry order (outer calls before the calls inside them).
    pub inlined: Vec<InlinedCall>,
    /// Named types.
    pub types: Vec<TypeName>,
    /// Names of functions with an abstract entry here (`DW_AT_inline`):
    /// the ones the compiler inlined somewhere, possibly in other units.
    pub inlinable: HashSet<String>,
}

/// One compilation unit; the Go compiler makes one per package.
pub(crate) struct CompUnit {
    /// Package import path (`DW_AT_name`), e.g. `main` or `runtime`.
    pub name: String,
    /// Address ranges the unit's code covers.
    pub ranges: Vec<(u64, u64)>,
    /// Compiled with optimizations (the producer string lacks `-N`).
    pub optimized: bool,
    /// The gimli unit (root entry and line program header parsed).
    pub unit: gimli::Unit<Reader>,
    entries: OnceLock<Result<Arc<UnitEntries>>>,
    lines: OnceLock<Result<Arc<LineTable>>>,
}

/// Whole-binary indexes, built on the first question that needs them.
#[derive(Debug, Default)]
struct FullIndex {
    /// Every concrete function, sorted by entry.
    functions: Vec<Function>,
    /// Name -> index into `functions`.
    by_name: HashMap<String, usize>,
    /// Inlined function name -> start address of each of its inlined bodies.
    inlined_by_name: HashMap<String, Vec<u64>>,
    /// Source path -> units whose line tables name it.
    files: BTreeMap<String, Vec<usize>>,
}

/// The DWARF sections and units of one binary.
pub(crate) struct DwarfIndex {
    pub(super) dwarf: gimli::Dwarf<Reader>,
    pub(super) units: Vec<CompUnit>,
    /// (begin, end, unit index), sorted by begin, for PC -> unit.
    unit_ranges: Vec<(u64, u64, usize)>,
    /// Unit name -> unit indexes (one per package, but do not assume it).
    unit_by_name: HashMap<String, Vec<usize>>,
    full: OnceLock<Result<FullIndex>>,
}

/// DWARF sections ferret reads while indexing. Location lists and frame
/// information are loaded separately, when first asked for.
const INDEX_SECTIONS: &[gimli::SectionId] = &[
    gimli::SectionId::DebugAbbrev,
    gimli::SectionId::DebugInfo,
    gimli::SectionId::DebugLine,
    gimli::SectionId::DebugLineStr,
    gimli::SectionId::DebugStr,
    gimli::SectionId::DebugStrOffsets,
    gimli::SectionId::DebugAddr,
    gimli::SectionId::DebugRngLists,
    gimli::SectionId::DebugRanges,
];

/// The attributes [`DwarfIndex::decode_entries`] uses, read in one pass
/// over an entry's attributes.
#[derive(Default)]
struct EntryAttributes {
    name: Option<gimli::AttributeValue<Reader>>,
    abstract_origin: Option<gimli::AttributeValue<Reader>>,
    low_pc: Option<gimli::AttributeValue<Reader>>,
    high_pc: Option<gimli::AttributeValue<Reader>>,
    ranges: Option<gimli::AttributeValue<Reader>>,
    call_file: Option<gimli::AttributeValue<Reader>>,
    call_line: Option<gimli::AttributeValue<Reader>>,
    trampoline: Option<gimli::AttributeValue<Reader>>,
    /// `DW_AT_inline` is present: an abstract (inlinable) function.
    inline: bool,
}

impl EntryAttributes {
    /// Keeps `attr` if it is one of the attributes wanted.
    fn record(&mut self, attr: gimli::Attribute<Reader>) {
        let slot = match attr.name() {
            gimli::DW_AT_name => &mut self.name,
            gimli::DW_AT_abstract_origin => &mut self.abstract_origin,
            gimli::DW_AT_low_pc => &mut self.low_pc,
            gimli::DW_AT_high_pc => &mut self.high_pc,
            gimli::DW_AT_ranges => &mut self.ranges,
            gimli::DW_AT_call_file => &mut self.call_file,
            gimli::DW_AT_call_line => &mut self.call_line,
            gimli::DW_AT_trampoline => &mut self.trampoline,
            gimli::DW_AT_inline => {
                self.inline = true;
                return;
            }
            _ => return,
        };
        *slot = Some(attr.value());
    }
}

/// Tags of the type entries a unit's type list records (at the top level).
fn is_named_type_tag(tag: gimli::DwTag) -> bool {
    matches!(
        tag,
        gimli::DW_TAG_base_type
            | gimli::DW_TAG_structure_type
            | gimli::DW_TAG_typedef
            | gimli::DW_TAG_pointer_type
            | gimli::DW_TAG_array_type
            | gimli::DW_TAG_subroutine_type
            | gimli::DW_TAG_unspecified_type
    )
}

/// `DW_AT_byte_size` of a type entry.
fn byte_size(entry: &gimli::DebuggingInformationEntry<Reader>) -> gimli::Result<Option<u64>> {
    Ok(entry
        .attr_value(gimli::DW_AT_byte_size)?
        .and_then(|v| v.udata_value()))
}

/// Loads one DWARF section as a shared reader (empty when absent).
pub(crate) fn load_section(image: &Image, name: &str) -> Result<Reader> {
    let endian = if image.is_little_endian() {
        gimli::RunTimeEndian::Little
    } else {
        gimli::RunTimeEndian::Big
    };
    let data: Arc<[u8]> = match image.section_data(name)? {
        Some(bytes) => Arc::from(bytes.as_ref()),
        None => Arc::from(&[][..]),
    };
    Ok(Reader::new(data, endian))
}

impl DwarfIndex {
    /// Loads the DWARF sections and reads every unit's root entry.
    pub fn open(image: &Image) -> Result<DwarfIndex> {
        // Decompress the two big sections on two cores.
        let (mut loaded, line) = std::thread::scope(|scope| {
            let line = scope.spawn(|| load_section(image, ".debug_line"));
            let mut loaded = HashMap::new();
            for id in INDEX_SECTIONS
                .iter()
                .filter(|id| **id != gimli::SectionId::DebugLine)
            {
                loaded.insert(*id, load_section(image, id.name()));
            }
            (loaded, line.join().expect("section loader thread panicked"))
        });
        loaded.insert(gimli::SectionId::DebugLine, line);
        let empty = load_section(image, ".debug_nonexistent")?;
        let mut dwarf = gimli::Dwarf::load(|id| -> Result<Reader> {
            match loaded.remove(&id) {
                Some(section) => section,
                None => Ok(empty.clone()),
            }
        })?;
        dwarf.populate_abbreviations_cache(gimli::AbbreviationsCacheStrategy::All);

        let mut units = Vec::new();
        let mut headers = dwarf.units();
        while let Some(header) = headers
            .next()
            .map_err(|e| BinaryError::dwarf(".debug_info unit headers", e))?
        {
            let at = format!(
                ".debug_info unit at {:#x}",
                header.offset().as_debug_info_offset().map_or(0, |o| o.0)
            );
            let unit = dwarf
                .unit(header)
                .map_err(|e| BinaryError::dwarf(at.clone(), e))?;
            let name = match unit.name.as_ref() {
                Some(name) => name
                    .to_string_lossy()
                    .map_err(|e| BinaryError::dwarf(at.clone(), e))?
                    .into_owned(),
                None => String::new(),
            };
            let mut ranges = Vec::new();
            let mut iter = dwarf
                .unit_ranges(&unit)
                .map_err(|e| BinaryError::dwarf(at.clone(), e))?;
            while let Some(range) = iter.next().map_err(|e| BinaryError::dwarf(at.clone(), e))? {
                if range.begin < range.end {
                    ranges.push((range.begin, range.end));
                }
            }
            let producer = {
                let mut cursor = unit.entries();
                match cursor.next_dfs() {
                    Ok(Some((_, root))) => {
                        match root.attr_value(gimli::DW_AT_producer).ok().flatten() {
                            Some(value) => dwarf
                                .attr_string(&unit, value)
                                .ok()
                                .and_then(|s| s.to_string_lossy().ok().map(|c| c.into_owned())),
                            None => None,
                        }
                    }
                    _ => None,
                }
            };
            let optimized = producer.is_some_and(|p| !p.split([' ', ';']).any(|w| w == "-N"));
            units.push(CompUnit {
                name,
                ranges,
                optimized,
                unit,
                entries: OnceLock::new(),
                lines: OnceLock::new(),
            });
        }

        let mut unit_ranges: Vec<(u64, u64, usize)> = units
            .iter()
            .enumerate()
            .flat_map(|(i, u)| u.ranges.iter().map(move |&(b, e)| (b, e, i)))
            .collect();
        unit_ranges.sort_unstable();
        let mut unit_by_name: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, u) in units.iter().enumerate() {
            unit_by_name.entry(u.name.clone()).or_default().push(i);
        }
        Ok(DwarfIndex {
            dwarf,
            units,
            unit_ranges,
            unit_by_name,
            full: OnceLock::new(),
        })
    }

    /// Whether unit `index` was compiled with optimizations.
    pub fn unit_optimized(&self, index: usize) -> bool {
        self.units[index].optimized
    }

    /// Number of compilation units.
    pub fn unit_count(&self) -> usize {
        self.units.len()
    }

    /// Unit names (Go package paths), in `.debug_info` order.
    pub fn unit_names(&self) -> impl Iterator<Item = &str> {
        self.units.iter().map(|u| u.name.as_str())
    }

    /// The unit whose code covers `pc`.
    pub fn unit_for_pc(&self, pc: u64) -> Option<usize> {
        let after = self
            .unit_ranges
            .partition_point(|&(begin, _, _)| begin <= pc);
        let &(_, end, unit) = self.unit_ranges.get(after.checked_sub(1)?)?;
        (pc < end).then_some(unit)
    }

    /// Units named `name` (a package path).
    pub fn units_named(&self, name: &str) -> &[usize] {
        self.unit_by_name.get(name).map_or(&[], Vec::as_slice)
    }

    /// The decoded entries of unit `index`.
    pub fn entries(&self, index: usize) -> Result<Arc<UnitEntries>> {
        let unit = &self.units[index];
        unit.entries
            .get_or_init(|| self.decode_entries(index).map(Arc::new))
            .clone()
    }

    /// The decoded line table of unit `index`.
    pub fn lines(&self, index: usize) -> Result<Arc<LineTable>> {
        let unit = &self.units[index];
        unit.lines
            .get_or_init(|| LineTable::decode(&self.dwarf, &unit.unit, &unit.name).map(Arc::new))
            .clone()
    }

    /// The concrete function containing `pc`.
    pub fn function_at(&self, pc: u64) -> Result<Option<Function>> {
        let Some(unit) = self.unit_for_pc(pc) else {
            return Ok(None);
        };
        let entries = self.entries(unit)?;
        let after = entries.functions.partition_point(|f| f.entry <= pc);
        Ok(after
            .checked_sub(1)
            .map(|i| &entries.functions[i])
            .filter(|f| pc < f.end)
            .cloned())
    }

    /// The concrete function named `name`: first looked for in its own
    /// package's unit, then in the whole-binary index.
    pub fn function_by_name(&self, name: &str) -> Result<Option<Function>> {
        let units = self.units_named(package_of(name));
        for &unit in units {
            if let Some(f) = self
                .entries(unit)?
                .functions
                .iter()
                .find(|f| f.name == name)
            {
                return Ok(Some(f.clone()));
            }
        }
        if !units.is_empty() && !name.contains('[') {
            // A package's functions live in its own unit; only generic
            // instantiations are made elsewhere.
            return Ok(None);
        }
        let full = self.full()?;
        Ok(full.by_name.get(name).map(|&i| full.functions[i].clone()))
    }

    /// Every instance of the function named `name`: its concrete copy (if
    /// any) and the start of each body inlined anywhere. A function that
    /// its package's unit does not mark inlinable has no inlined bodies, so
    /// the whole-binary index is built only for functions that do.
    pub fn function_instances(&self, name: &str) -> Result<(Option<Function>, Vec<u64>)> {
        let mut inlinable = false;
        let units = self.units_named(package_of(name));
        let mut concrete = None;
        for &unit in units {
            let entries = self.entries(unit)?;
            inlinable |= entries.inlinable.contains(name);
            if let Some(f) = entries.functions.iter().find(|f| f.name == name) {
                concrete = Some(f.clone());
            }
        }
        if !inlinable && concrete.is_some() {
            // Not marked inlinable in its package: no inlined copies.
            return Ok((concrete, Vec::new()));
        }
        let full = self.full()?;
        let concrete = full.by_name.get(name).map(|&i| full.functions[i].clone());
        let inlined = full.inlined_by_name.get(name).cloned().unwrap_or_default();
        Ok((concrete, inlined))
    }

    /// Every concrete function, sorted by entry address.
    pub fn functions(&self) -> Result<&[Function]> {
        Ok(&self.full()?.functions)
    }

    /// Every source file named by a line table, sorted.
    pub fn files(&self) -> Result<impl Iterator<Item = &str>> {
        Ok(self.full()?.files.keys().map(String::as_str))
    }

    /// Units whose line tables name the source file `path` exactly.
    pub fn units_with_file(&self, path: &str) -> Result<&[usize]> {
        Ok(self.full()?.files.get(path).map_or(&[], Vec::as_slice))
    }

    /// The named types described in the units of package `path`.
    pub fn types_in_package(&self, path: &str) -> Result<Vec<TypeName>> {
        let mut out = Vec::new();
        for &index in self.units_named(path) {
            out.extend(self.entries(index)?.types.iter().cloned());
        }
        Ok(out)
    }

    /// Every named type, in `.debug_info` order.
    pub fn types(&self) -> Result<Vec<TypeName>> {
        let mut out = Vec::new();
        for index in 0..self.units.len() {
            out.extend(self.entries(index)?.types.iter().cloned());
        }
        Ok(out)
    }

    /// The layout of the struct type `name` (e.g. `runtime.g`): its size
    /// and every member with its offset, type name and size. `None` when
    /// no such type is described, or when it is not a struct.
    pub fn struct_layout(&self, name: &str) -> Result<Option<StructLayout>> {
        // Its package's units first, then the runtime's (where the linker
        // puts the runtime's generic instantiations and anonymous types),
        // and only then every unit.
        let package = package_of(name.trim_start_matches('*'));
        let mut found = None;
        for &unit in self
            .units_named(package)
            .iter()
            .chain(self.units_named("runtime"))
        {
            found = self
                .entries(unit)?
                .types
                .iter()
                .find(|t| t.name == name)
                .map(|t| t.offset);
            if found.is_some() {
                break;
            }
        }
        if found.is_none() {
            found = self
                .types()?
                .into_iter()
                .find(|t| t.name == name)
                .map(|t| t.offset);
        }
        let Some(offset) = found else { return Ok(None) };
        let offset = gimli::DebugInfoOffset(offset as usize);
        let Some(index) = self.unit_containing(offset) else {
            return Ok(None);
        };
        let unit = &self.units[index].unit;
        let err = |e| BinaryError::dwarf(format!("type {name}"), e);
        let Some(local) = offset.to_unit_offset(&unit.header) else {
            return Ok(None);
        };
        let mut tree = unit.entries_tree(Some(local)).map_err(err)?;
        let root = tree.root().map_err(err)?;
        if root.entry().tag() != gimli::DW_TAG_structure_type {
            return Ok(None);
        }
        let size = byte_size(root.entry()).map_err(err)?.unwrap_or(0);
        let mut members = Vec::new();
        let mut children = root.children();
        while let Some(child) = children.next().map_err(err)? {
            let entry = child.entry();
            if entry.tag() != gimli::DW_TAG_member {
                continue;
            }
            let Some(member) = self.entry_name(unit, entry).map_err(err)? else {
                continue;
            };
            let at = entry
                .attr_value(gimli::DW_AT_data_member_location)
                .map_err(err)?
                .and_then(|v| v.udata_value());
            let (type_name, type_size) = match entry.attr_value(gimli::DW_AT_type).map_err(err)? {
                Some(reference) => self.type_name_and_size(unit, reference).map_err(err)?,
                None => (String::new(), 0),
            };
            members.push(Member {
                name: member,
                offset: at.unwrap_or(0),
                type_name,
                size: type_size,
            });
        }
        Ok(Some(StructLayout {
            name: name.to_owned(),
            size,
            members,
        }))
    }

    /// Builds (once) the whole-binary indexes and every unit's entries.
    fn full(&self) -> Result<&FullIndex> {
        self.full
            .get_or_init(|| self.build_full())
            .as_ref()
            .map_err(Clone::clone)
    }

    fn build_full(&self) -> Result<FullIndex> {
        let mut index = FullIndex::default();
        for (i, unit) in self.units.iter().enumerate() {
            let entries = self.entries(i)?;
            index.functions.extend(entries.functions.iter().cloned());
            for call in &entries.inlined {
                index
                    .inlined_by_name
                    .entry(call.function.clone())
                    .or_default()
                    .push(call.low_pc());
            }
            for name in file_names(&self.dwarf, &unit.unit)?.into_iter().flatten() {
                let units = index.files.entry(name).or_default();
                if units.last() != Some(&i) {
                    units.push(i);
                }
            }
        }
        index.functions.sort_by_key(|f| f.entry);
        for (i, f) in index.functions.iter().enumerate() {
            index.by_name.entry(f.name.clone()).or_insert(i);
        }
        Ok(index)
    }

    /// Walks one unit's entries: concrete functions, inlined calls, types.
    fn decode_entries(&self, index: usize) -> Result<UnitEntries> {
        let cu = &self.units[index];
        let unit = &cu.unit;
        let what = || format!(".debug_info of unit {}", cu.name);
        let err = |e| BinaryError::dwarf(what(), e);
        let files = file_names(&self.dwarf, unit)?;
        let mut out = UnitEntries::default();
        // Stack of (depth, kind) for the entries enclosing the current one.
        #[derive(Clone, Copy)]
        enum Scope {
            Function(usize),
            Inlined,
            Other,
        }
        let mut stack: Vec<(isize, Scope)> = Vec::new();
        // Names of inlined functions by their abstract entry: thousands of
        // inlined calls share a few hundred origins.
        let mut origin_names: HashMap<gimli::UnitOffset, Option<String>> = HashMap::new();
        let mut name_of = |attrs: &EntryAttributes| -> gimli::Result<Option<String>> {
            match (&attrs.name, &attrs.abstract_origin) {
                (None, Some(gimli::AttributeValue::UnitRef(origin))) => {
                    if let Some(name) = origin_names.get(origin) {
                        return Ok(name.clone());
                    }
                    let name = self.entry_name(unit, &unit.entry(*origin)?)?;
                    origin_names.insert(*origin, name.clone());
                    Ok(name)
                }
                (name, origin) => self.name_or_origin(unit, name.clone(), origin.clone()),
            }
        };
        // Entries are read without building them: only the attributes of
        // functions, inlined calls and top-level types are decoded (once
        // each); the many parameters, variables and members are skipped by
        // their abbreviation alone.
        let mut raw = unit.entries_raw(None).map_err(err)?;
        while !raw.is_empty() {
            let depth = raw.next_depth();
            let offset = raw
                .next_offset()
                .to_debug_info_offset(&unit.header)
                .map_or(0, |o| o.0 as u64);
            let Some(abbrev) = raw.read_abbreviation().map_err(err)? else {
                continue; // the end of a list of children
            };
            while stack.last().is_some_and(|&(d, _)| d >= depth) {
                stack.pop();
            }
            let tag = abbrev.tag();
            let wanted = match tag {
                gimli::DW_TAG_subprogram | gimli::DW_TAG_inlined_subroutine => true,
                _ => depth == 1 && is_named_type_tag(tag),
            };
            if !wanted {
                raw.skip_attributes(abbrev.attributes()).map_err(err)?;
                stack.push((depth, Scope::Other));
                continue;
            }
            let mut attrs = EntryAttributes::default();
            for spec in abbrev.attributes() {
                attrs.record(raw.read_attribute(*spec).map_err(err)?);
            }
            let enclosing_function = stack.iter().rev().find_map(|&(_, s)| match s {
                Scope::Function(i) => Some(i),
                _ => None,
            });
            let inline_depth = stack
                .iter()
                .filter(|(_, s)| matches!(s, Scope::Inlined))
                .count() as u32;
            let scope = match tag {
                gimli::DW_TAG_subprogram => {
                    let ranges = self.attribute_ranges(unit, &attrs).map_err(err)?;
                    match (
                        ranges.iter().map(|r| r.0).min(),
                        ranges.iter().map(|r| r.1).max(),
                    ) {
                        (Some(entry_pc), Some(end)) => {
                            let name = name_of(&attrs).map_err(err)?.unwrap_or_default();
                            out.functions.push(Function {
                                name,
                                entry: entry_pc,
                                end,
                                unit: index,
                                trampoline: matches!(
                                    attrs.trampoline,
                                    Some(gimli::AttributeValue::Flag(true))
                                ),
                                offset,
                            });
                            Scope::Function(out.functions.len() - 1)
                        }
                        _ => {
                            if attrs.inline {
                                if let Some(name) = name_of(&attrs).map_err(err)? {
                                    out.inlinable.insert(name);
                                }
                            }
                            Scope::Other
                        }
                    }
                }
                gimli::DW_TAG_inlined_subroutine => match enclosing_function {
                    Some(parent) => {
                        let function = name_of(&attrs).map_err(err)?.unwrap_or_default();
                        let ranges = self.attribute_ranges(unit, &attrs).map_err(err)?;
                        if ranges.is_empty() {
                            // Optimized away: nothing to point at. Calls
                            // nested in it are recorded one level up.
                            stack.push((depth, Scope::Other));
                            continue;
                        }
                        let call_file = attrs
                            .call_file
                            .as_ref()
                            .and_then(|v| v.udata_value())
                            .and_then(|i| files.get(i as usize).cloned().flatten());
                        let call_line = attrs
                            .call_line
                            .as_ref()
                            .map_or(0, |v| v.udata_value().unwrap_or(0) as u32);
                        out.inlined.push(InlinedCall {
                            function,
                            ranges,
                            call_file: call_file.unwrap_or_default(),
                            call_line,
                            depth: inline_depth,
                            parent,
                            offset,
                        });
                        Scope::Inlined
                    }
                    None => Scope::Other,
                },
                _ => {
                    if let Some(name) = name_of(&attrs).map_err(err)? {
                        out.types.push(TypeName { name, offset });
                    }
                    Scope::Other
                }
            };
            stack.push((depth, scope));
        }
        // Fix up parents after sorting functions by entry.
        let mut order: Vec<usize> = (0..out.functions.len()).collect();
        order.sort_by_key(|&i| out.functions[i].entry);
        let mut new_index = vec![0; order.len()];
        for (new, &old) in order.iter().enumerate() {
            new_index[old] = new;
        }
        out.functions = order.iter().map(|&i| out.functions[i].clone()).collect();
        for call in &mut out.inlined {
            call.parent = new_index[call.parent];
        }
        Ok(out)
    }

    /// Address ranges given by an entry's attributes, as gimli's
    /// `die_ranges` reads them (`ranges` first, else `low_pc`/`high_pc`),
    /// empty ranges left out.
    fn attribute_ranges(
        &self,
        unit: &gimli::Unit<Reader>,
        attrs: &EntryAttributes,
    ) -> gimli::Result<Vec<(u64, u64)>> {
        let mut out = Vec::new();
        if let Some(value) = &attrs.ranges {
            if let Some(mut list) = self.dwarf.attr_ranges(unit, value.clone())? {
                while let Some(r) = list.next()? {
                    if r.begin < r.end {
                        out.push((r.begin, r.end));
                    }
                }
                return Ok(out);
            }
        }
        let Some(low) = &attrs.low_pc else {
            return Ok(out);
        };
        let begin = self
            .dwarf
            .attr_address(unit, low.clone())?
            .ok_or(gimli::Error::UnsupportedAttributeForm)?;
        let end = match &attrs.high_pc {
            Some(gimli::AttributeValue::Udata(size)) => Some(begin + size),
            Some(value) => Some(
                self.dwarf
                    .attr_address(unit, value.clone())?
                    .ok_or(gimli::Error::UnsupportedAttributeForm)?,
            ),
            None => None,
        };
        if let Some(end) = end.filter(|&end| begin < end) {
            out.push((begin, end));
        }
        Ok(out)
    }

    /// Address ranges of an entry (`low_pc`/`high_pc` or `ranges`).
    pub(super) fn entry_ranges(
        &self,
        unit: &gimli::Unit<Reader>,
        entry: &gimli::DebuggingInformationEntry<Reader>,
    ) -> gimli::Result<Vec<(u64, u64)>> {
        let mut out = Vec::new();
        let mut iter = self.dwarf.die_ranges(unit, entry)?;
        while let Some(r) = iter.next()? {
            if r.begin < r.end {
                out.push((r.begin, r.end));
            }
        }
        Ok(out)
    }

    /// An entry's `DW_AT_name`, or its abstract origin's name (inlined
    /// calls and out-of-line copies of inlinable functions have only that).
    pub(super) fn entry_name(
        &self,
        unit: &gimli::Unit<Reader>,
        entry: &gimli::DebuggingInformationEntry<Reader>,
    ) -> gimli::Result<Option<String>> {
        self.name_or_origin(
            unit,
            entry.attr_value(gimli::DW_AT_name)?,
            entry.attr_value(gimli::DW_AT_abstract_origin)?,
        )
    }

    /// The name `DW_AT_name` gives, else the name of the entry
    /// `DW_AT_abstract_origin` points to.
    fn name_or_origin(
        &self,
        unit: &gimli::Unit<Reader>,
        name: Option<gimli::AttributeValue<Reader>>,
        origin: Option<gimli::AttributeValue<Reader>>,
    ) -> gimli::Result<Option<String>> {
        if let Some(value) = name {
            return Ok(Some(
                self.dwarf
                    .attr_string(unit, value)?
                    .to_string_lossy()?
                    .into_owned(),
            ));
        }
        match origin {
            Some(gimli::AttributeValue::UnitRef(offset)) => {
                let origin = unit.entry(offset)?;
                self.entry_name(unit, &origin)
            }
            Some(gimli::AttributeValue::DebugInfoRef(offset)) => {
                let Some(other) = self.unit_containing(offset) else {
                    return Ok(None);
                };
                let other = &self.units[other].unit;
                let Some(local) = offset.to_unit_offset(&other.header) else {
                    return Ok(None);
                };
                let origin = other.entry(local)?;
                self.entry_name(other, &origin)
            }
            _ => Ok(None),
        }
    }

    /// The name and byte size of the type a `DW_AT_type` refers to, in this
    /// unit or (as Go's linker writes them) in another.
    fn type_name_and_size(
        &self,
        unit: &gimli::Unit<Reader>,
        reference: gimli::AttributeValue<Reader>,
    ) -> gimli::Result<(String, u64)> {
        let describe = |unit: &gimli::Unit<Reader>,
                        offset: gimli::UnitOffset|
         -> gimli::Result<(String, u64)> {
            let ty = unit.entry(offset)?;
            Ok((
                self.entry_name(unit, &ty)?.unwrap_or_default(),
                byte_size(&ty)?.unwrap_or(0),
            ))
        };
        match reference {
            gimli::AttributeValue::UnitRef(offset) => describe(unit, offset),
            gimli::AttributeValue::DebugInfoRef(offset) => {
                let Some(other) = self.unit_containing(offset) else {
                    return Ok((String::new(), 0));
                };
                let other = &self.units[other].unit;
                match offset.to_unit_offset(&other.header) {
                    Some(local) => describe(other, local),
                    None => Ok((String::new(), 0)),
                }
            }
            _ => Ok((String::new(), 0)),
        }
    }

    /// The unit whose entries include `.debug_info` offset `offset`.
    pub(super) fn unit_containing(&self, offset: gimli::DebugInfoOffset) -> Option<usize> {
        let start = |u: &CompUnit| {
            u.unit
                .header
                .offset()
                .as_debug_info_offset()
                .map_or(0, |o| o.0)
        };
        let after = self.units.partition_point(|u| start(u) <= offset.0);
        after.checked_sub(1)
    }
}

/// The package path of a Go function name: `example.com/x.(*T).M` ->
/// `example.com/x`. Brackets of generic instantiations are ignored.
pub fn package_of(name: &str) -> &str {
    let head = &name[..name.find('[').unwrap_or(name.len())];
    let last_slash = head.rfind('/').map_or(0, |i| i + 1);
    match head[last_slash..].find('.') {
        Some(dot) => &name[..last_slash + dot],
        None => head,
    }
}

#[cfg(test)]
mod tests {
    use super::package_of;

    #[test]
    fn package_paths() {
        assert_eq!(package_of("main.main"), "main");
        assert_eq!(package_of("example.com/a/b.(*T).M"), "example.com/a/b");
        assert_eq!(
            package_of("main.Map[go.shape.string,example.com/x.T]"),
            "main"
        );
        assert_eq!(package_of("runtime.gopark"), "runtime");
        assert_eq!(package_of("noDot"), "noDot");
    }
}
