//! Binary info: everything ferret knows about a Go executable without
//! running it — build facts, symbols, functions, line tables, inlining,
//! source files, types, locations and call frame information.
//!
//! [`BinaryInfo::open`] maps the file and reads only headers and unit root
//! entries; everything else is decoded on first use and cached, so opening a
//! large binary and resolving one function stays cheap.

mod buildinfo;
mod dwarf;
mod frame;
mod image;
mod lines;
mod location;
mod scope;
mod types;

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::{Mutex, OnceLock};

pub use buildinfo::BuildInfo;
pub use dwarf::{package_of, Function, InlinedCall, Member, StructLayout, TypeName, UnitEntries};
pub use frame::{CfaRule, FrameRule, RegisterRule};
pub use image::{Arch, Image, SectionInfo, Symbol};
pub use lines::{LineRow, LineTable};
pub use location::{Location, LocationSpec};
pub use scope::{
    location_text, variable_place, CapturedVariable, DeclaredVariable, VariableLocation,
    VariablePlace, VariableRole,
};
pub use types::{Field, GoType, Kind, Shape};

use crate::error::{BinaryError, Result};
use dwarf::DwarfIndex;
use frame::FrameIndex;

/// One level of the source-level call chain at a PC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFrame {
    /// Function name (an inlined callee for all but the last frame).
    pub function: String,
    /// Source file.
    pub file: String,
    /// Source line.
    pub line: u32,
    /// For an inlined callee, the `.debug_info` offset of its inlined-call
    /// entry (where its variables are).
    pub inlined_call: Option<u64>,
}

/// What a PC means in source terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PcInfo {
    /// The concrete function whose machine code holds the PC.
    pub function: Function,
    /// The source call chain, innermost first: with inlining, the first
    /// frame is the inlined callee and the last is `function` at the call
    /// site; without inlining there is exactly one frame.
    pub frames: Vec<SourceFrame>,
    /// Whether the line-table row at this PC is a statement start.
    pub is_stmt: bool,
}

/// An opened Go executable. Shareable between threads; lazily filled caches
/// are internal.
pub struct BinaryInfo {
    image: Image,
    build: BuildInfo,
    dwarf: DwarfIndex,
    frames: OnceLock<Result<FrameIndex>>,
    symbols: OnceLock<Vec<Symbol>>,
    /// Answers of [`BinaryInfo::pc_info`] so far: listing many goroutines
    /// asks about the same few PCs again and again.
    pc_info_memo: Mutex<HashMap<u64, Option<PcInfo>>>,
    /// Answers of [`BinaryInfo::frame_rule`] so far, for the same reason.
    frame_rule_memo: Mutex<HashMap<u64, Option<FrameRule>>>,
    /// Types decoded so far, by `.debug_info` offset.
    types_memo: Mutex<HashMap<u64, std::sync::Arc<GoType>>>,
    /// Runtime types and named constants (built on first use).
    type_indexes: OnceLock<Result<types::TypeIndexes>>,
    /// Package-level variables, and their index by full name (built on
    /// first use).
    package_variables: OnceLock<Result<PackageVariables>>,
    /// Type entries by Go name (built on first use; the first of a name
    /// wins).
    types_by_name: OnceLock<Result<HashMap<String, u64>>>,
    /// `.debug_loc` / `.debug_loclists`, loaded on first use.
    location_lists: OnceLock<Result<gimli::LocationLists<dwarf::Reader>>>,
}

impl std::fmt::Debug for BinaryInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BinaryInfo")
            .field("image", &self.image)
            .field("go", &self.build.go_version)
            .finish()
    }
}

impl BinaryInfo {
    /// Opens a Go executable. Fails with a specific [`BinaryError`] for a
    /// missing file, a directory, a non-ELF file, a truncated file, an ELF
    /// file not made by Go, and a Go binary without DWARF.
    pub fn open(path: impl AsRef<Path>) -> Result<BinaryInfo> {
        BinaryInfo::open_with(path.as_ref(), false)
    }

    /// Like [`BinaryInfo::open`], also for an executable with DWARF that
    /// is not Go (a C program whose core is examined): no Go build info,
    /// goroutines or Go types are found in it, but its functions, lines
    /// and frames are.
    pub fn open_any(path: impl AsRef<Path>) -> Result<BinaryInfo> {
        BinaryInfo::open_with(path.as_ref(), true)
    }

    fn open_with(path: &Path, any_language: bool) -> Result<BinaryInfo> {
        let image = Image::open(path)?;
        let build = match BuildInfo::read(&image) {
            Some(build) => build,
            None if image.has_section(".gopclntab") || any_language => BuildInfo::default(),
            None => {
                return Err(BinaryError::NotGo {
                    path: path.to_owned(),
                })
            }
        };
        if !image.has_section(".debug_info") {
            return Err(BinaryError::Stripped {
                path: path.to_owned(),
            });
        }
        let dwarf = DwarfIndex::open(&image)?;
        Ok(BinaryInfo {
            image,
            build,
            dwarf,
            frames: OnceLock::new(),
            symbols: OnceLock::new(),
            pc_info_memo: Mutex::default(),
            frame_rule_memo: Mutex::default(),
            types_memo: Mutex::default(),
            type_indexes: OnceLock::new(),
            location_lists: OnceLock::new(),
            package_variables: OnceLock::new(),
            types_by_name: OnceLock::new(),
        })
    }

    /// Whether the executable is a Go program (opened with
    /// [`BinaryInfo::open_any`], it may not be).
    pub fn is_go(&self) -> bool {
        self.build != BuildInfo::default() || self.image.has_section(".gopclntab")
    }

    /// The mapped file.
    pub fn image(&self) -> &Image {
        &self.image
    }

    /// The executable's architecture.
    pub fn arch(&self) -> Arch {
        self.image.arch()
    }

    /// Go version, main module and build settings.
    pub fn build_info(&self) -> &BuildInfo {
        &self.build
    }

    /// The ELF symbol table, read on first use.
    pub fn symbols(&self) -> &[Symbol] {
        self.symbols.get_or_init(|| self.image.symbols())
    }

    /// Package paths, one per compilation unit, sorted and deduplicated.
    pub fn packages(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .dwarf
            .unit_names()
            .filter(|n| !n.is_empty())
            .map(str::to_owned)
            .collect();
        names.sort();
        names.dedup();
        names
    }

    /// Every source file the line tables name, sorted.
    pub fn source_files(&self) -> Result<Vec<String>> {
        Ok(self.dwarf.files()?.map(str::to_owned).collect())
    }

    /// Every named type, in `.debug_info` order.
    pub fn types(&self) -> Result<Vec<TypeName>> {
        self.dwarf.types()
    }

    /// The named types described in package `path`'s units (finding one
    /// there spares decoding every unit).
    pub fn types_in_package(&self, path: &str) -> Result<Vec<TypeName>> {
        self.dwarf.types_in_package(path)
    }

    /// Every concrete function, sorted by entry address.
    pub fn functions(&self) -> Result<&[Function]> {
        self.dwarf.functions()
    }

    /// The function with exactly this fully qualified name.
    pub fn function_by_name(&self, name: &str) -> Result<Option<Function>> {
        self.dwarf.function_by_name(name)
    }

    /// The concrete function whose code holds `pc`.
    pub fn function_at(&self, pc: u64) -> Result<Option<Function>> {
        self.dwarf.function_at(pc)
    }

    /// Whether `function` was compiled with optimizations (Delve's
    /// `optimized` flag).
    pub fn is_optimized(&self, function: &Function) -> bool {
        self.dwarf.unit_optimized(function.unit)
    }

    /// The function a compiler-made wrapper calls (`DW_AT_trampoline`, such
    /// as `main.f.gowrap1` for `go f(x)`): the first direct call in its code
    /// to a function outside the runtime's private ones (so stack growth is
    /// skipped, and, as in Delve, so are wrappers of private runtime
    /// functions). Any other function is itself.
    pub fn unwrap_trampoline(&self, function: &Function) -> Result<Function> {
        if !function.trampoline {
            return Ok(function.clone());
        }
        let Some(code) = self.image.read_at(
            function.entry,
            function.end.saturating_sub(function.entry) as usize,
        ) else {
            return Ok(function.clone());
        };
        for target in crate::disasm::direct_call_targets(code, function.entry) {
            match self.function_at(target)? {
                Some(callee) if !is_private_runtime(&callee.name) => return Ok(callee),
                _ => {}
            }
        }
        Ok(function.clone())
    }

    /// Whether the program includes package `path` (a compile unit of it).
    pub fn has_package(&self, path: &str) -> bool {
        !self.dwarf.units_named(path).is_empty()
    }

    /// The layout of struct type `name` (members with offsets, type names
    /// and sizes), `None` when the binary does not describe it.
    pub fn struct_layout(&self, name: &str) -> Result<Option<StructLayout>> {
        self.dwarf.struct_layout(name)
    }

    /// The row-level line table of the unit holding `function`.
    pub fn line_table(&self, function: &Function) -> Result<std::sync::Arc<LineTable>> {
        self.dwarf.lines(function.unit)
    }

    /// The inlined calls of the unit holding `function`.
    pub fn unit_entries(&self, function: &Function) -> Result<std::sync::Arc<UnitEntries>> {
        self.dwarf.entries(function.unit)
    }

    /// The source meaning of `pc`: function, file, line and inlined call
    /// chain. `None` for addresses outside every function.
    pub fn pc_info(&self, pc: u64) -> Result<Option<PcInfo>> {
        memoized(&self.pc_info_memo, pc, || self.compute_pc_info(pc))
    }

    fn compute_pc_info(&self, pc: u64) -> Result<Option<PcInfo>> {
        let Some(function) = self.dwarf.function_at(pc)? else {
            return Ok(None);
        };
        let lines = self.dwarf.lines(function.unit)?;
        let row = lines
            .row_at(pc)
            .filter(|r| r.address >= function.entry)
            .copied();
        let row = row.or_else(|| {
            lines
                .leading_row(function.entry, function.end)
                .filter(|r| r.address <= pc)
        });
        let row = row.as_ref();
        let file = row
            .and_then(|r| lines.file(r))
            .map(|f| f.to_string())
            .unwrap_or_default();
        let (line, is_stmt) = row.map_or((0, false), |r| (r.line, r.is_stmt));
        let entries = self.dwarf.entries(function.unit)?;
        let parent = entries
            .functions
            .iter()
            .position(|f| f.entry == function.entry);
        let mut chain: Vec<&InlinedCall> = entries
            .inlined
            .iter()
            .filter(|c| Some(c.parent) == parent && c.contains(pc))
            .collect();
        chain.sort_by_key(|c| c.depth);
        // Innermost frame: the deepest inlined callee (or the function) at
        // the line-table position; each inlined call then contributes its
        // caller at the call site.
        let mut frames = Vec::with_capacity(chain.len() + 1);
        let mut location = (file, line);
        for call in chain.iter().rev() {
            frames.push(SourceFrame {
                function: call.function.clone(),
                file: location.0,
                line: location.1,
                inlined_call: Some(call.offset),
            });
            location = (call.call_file.clone(), call.call_line);
        }
        frames.push(SourceFrame {
            function: function.name.clone(),
            file: location.0,
            line: location.1,
            inlined_call: None,
        });
        Ok(Some(PcInfo {
            function,
            frames,
            is_stmt,
        }))
    }

    /// Statement addresses (`is_stmt` rows) for `line` of every source file
    /// that `file` names (exact path or path suffix), sorted.
    pub fn line_to_pcs(&self, file: &str, line: u32) -> Result<Vec<u64>> {
        let mut pcs = Vec::new();
        for path in self.matching_files(file)? {
            pcs.extend(self.pcs_in_file(&path, line)?);
        }
        pcs.sort_unstable();
        pcs.dedup();
        Ok(pcs)
    }

    /// Resolves a location expression (see [`LocationSpec`]) the way Delve's
    /// `FindLocation` does:
    /// - a function gives its first address after the prologue plus the
    ///   start of every inlined copy;
    /// - a source line gives, per concrete function and per inlined copy
    ///   holding the line, its first statement address (or first address
    ///   when none is a statement); a line with no code that is the call
    ///   site of inlined calls gives their starts. A pick that lands on a
    ///   function's entry moves past the prologue when that stays on the
    ///   same line. Compiler-made trampolines and defer wrappers are skipped.
    pub fn resolve_location(&self, spec: &str) -> Result<Location> {
        let not_found = || BinaryError::LocationNotFound {
            spec: spec.to_owned(),
        };
        let mut pcs = match LocationSpec::parse(spec)? {
            LocationSpec::Function(name) => {
                let (concrete, inlined) = self.dwarf.function_instances(&name)?;
                let mut pcs = inlined;
                if let Some(function) = concrete {
                    pcs.push(self.after_prologue(&function, false)?);
                }
                pcs
            }
            LocationSpec::FileLine { file, line } => {
                let files = self.matching_files(&file)?;
                if files.len() > 1 {
                    return Err(BinaryError::AmbiguousLocation {
                        spec: spec.to_owned(),
                        candidates: files,
                    });
                }
                let Some(path) = files.into_iter().next() else {
                    return Err(not_found());
                };
                self.file_line_pcs(&path, line)?
            }
        };
        pcs.sort_unstable();
        pcs.dedup();
        let Some(&pc) = pcs.first() else {
            return Err(not_found());
        };
        let info = self.pc_info(pc)?;
        let (file, line) = info
            .as_ref()
            .and_then(|i| i.frames.first())
            .map_or((String::new(), 0), |f| (f.file.clone(), f.line));
        Ok(Location {
            pc,
            pcs,
            function: info.map(|i| i.function.name),
            file,
            line,
        })
    }

    /// The breakpoint addresses for `line` of exactly the file `path` (see
    /// [`BinaryInfo::resolve_location`]).
    fn file_line_pcs(&self, path: &str, line: u32) -> Result<Vec<u64>> {
        // Every row on the line, with its statement flag.
        let mut rows: Vec<(u64, bool)> = Vec::new();
        let units = self.dwarf.units_with_file(path)?;
        for &unit in units {
            let lines = self.dwarf.lines(unit)?;
            if let Some(file) = lines.files.iter().position(|f| &**f == path) {
                rows.extend(
                    lines
                        .rows
                        .iter()
                        .filter(|r| r.file == file as u32 && r.line == line && !r.end_sequence)
                        .map(|r| (r.address, r.is_stmt)),
                );
            }
        }
        if rows.is_empty() {
            // A line whose code was all inlined: the call sites remain.
            for &unit in units {
                let entries = self.dwarf.entries(unit)?;
                rows.extend(
                    entries
                        .inlined
                        .iter()
                        .filter(|c| c.call_file == path && c.call_line == line)
                        .map(|c| (c.low_pc(), true)),
                );
            }
        }
        rows.sort_unstable();

        // Group by (concrete function entry, deepest inlined call holding
        // the row); each group keeps its (address, is_stmt) rows.
        type Group = (u64, Option<usize>);
        let mut groups: BTreeMap<Group, Vec<(u64, bool)>> = BTreeMap::new();
        for (pc, is_stmt) in rows {
            let Some(function) = self.function_at(pc)? else {
                continue;
            };
            if function.trampoline || function.name.contains("·dwrap·") {
                continue;
            }
            let entries = self.dwarf.entries(function.unit)?;
            let parent = entries
                .functions
                .iter()
                .position(|f| f.entry == function.entry);
            let deepest = entries
                .inlined
                .iter()
                .enumerate()
                .filter(|(_, c)| Some(c.parent) == parent && c.contains(pc))
                .max_by_key(|(_, c)| c.depth)
                .map(|(i, _)| i);
            groups
                .entry((function.entry, deepest))
                .or_default()
                .push((pc, is_stmt));
        }

        let mut pcs = Vec::new();
        for ((entry, inlined), group) in groups {
            let first_stmt = group
                .iter()
                .find(|(_, stmt)| *stmt)
                .or(group.first())
                .map(|&(pc, _)| pc);
            let Some(mut pc) = first_stmt else { continue };
            if inlined.is_none() && pc == entry {
                if let Some(function) = self.function_at(pc)? {
                    pc = self.after_prologue(&function, true)?;
                }
            }
            pcs.push(pc);
        }
        Ok(pcs)
    }

    /// Where a breakpoint on `function` goes: the first row marked
    /// `prologue_end`, or the entry when there is none.
    pub fn first_pc_after_prologue(&self, function: &Function) -> Result<u64> {
        self.after_prologue(function, false)
    }

    /// The first address after `function`'s prologue: the first row marked
    /// `prologue_end`, or the entry when there is none. With `same_line`,
    /// the prologue end is used only when it is on the entry's line.
    fn after_prologue(&self, function: &Function, same_line: bool) -> Result<u64> {
        let lines = self.dwarf.lines(function.unit)?;
        let Some(pc) = lines.prologue_end(function.entry, function.end) else {
            return Ok(function.entry);
        };
        if same_line {
            let line_at = |pc| lines.row_at(pc).map(|r| (r.file, r.line));
            if line_at(pc) != line_at(function.entry) {
                return Ok(function.entry);
            }
        }
        Ok(pc)
    }

    /// The call frame rules at `pc` (from `.debug_frame` or `.eh_frame`).
    pub fn frame_rule(&self, pc: u64) -> Result<Option<FrameRule>> {
        memoized(&self.frame_rule_memo, pc, || self.compute_frame_rule(pc))
    }

    fn compute_frame_rule(&self, pc: u64) -> Result<Option<FrameRule>> {
        let frames = self
            .frames
            .get_or_init(|| FrameIndex::open(&self.image))
            .as_ref()
            .map_err(Clone::clone)?;
        frames.rule_at(pc)
    }

    /// The Go type whose DWARF entry is at `.debug_info` offset `offset`
    /// (decoded once).
    pub fn go_type(&self, offset: u64) -> Result<std::sync::Arc<GoType>> {
        memoized(&self.types_memo, offset, || {
            self.dwarf.go_type(offset).map(std::sync::Arc::new)
        })
    }

    /// The variables `function` declares that are in scope at `pc`
    /// (parameters, results, locals of the lexical blocks covering `pc`);
    /// with `inlined_call`, those of that inlined body of another function.
    pub fn variables_at(
        &self,
        function: &Function,
        inlined_call: Option<u64>,
        pc: u64,
    ) -> Result<Vec<DeclaredVariable>> {
        self.dwarf.variables_at(function, inlined_call, pc)
    }

    /// The location expression of `var` at `pc`, and the prefix Delve
    /// prints before it (see [`location_text`]); `None` where the variable
    /// has no location.
    pub fn variable_expression(
        &self,
        var: &DeclaredVariable,
        pc: u64,
    ) -> Result<Option<(Vec<u8>, String)>> {
        match &var.location {
            VariableLocation::Expression(bytes) => Ok(Some((bytes.clone(), "[block] ".into()))),
            VariableLocation::Missing => Ok(None),
            VariableLocation::List(offset) => {
                let lists = self
                    .location_lists
                    .get_or_init(|| {
                        Ok(gimli::LocationLists::new(
                            gimli::DebugLoc::from(dwarf::load_section(&self.image, ".debug_loc")?),
                            gimli::DebugLocLists::from(dwarf::load_section(
                                &self.image,
                                ".debug_loclists",
                            )?),
                        ))
                    })
                    .as_ref()
                    .map_err(Clone::clone)?;
                Ok(self
                    .dwarf
                    .list_expression(lists, var.unit, *offset, pc)?
                    .map(|e| (e, format!("[{offset:#x}:{pc:#x}] "))))
            }
        }
    }

    /// Every package-level variable (full names), unit by unit in
    /// declaration order.
    pub fn package_variables(&self) -> Result<&[DeclaredVariable]> {
        Ok(&self.package_variable_index()?.0)
    }

    /// The package-level variable with full name `name` (`main.counter`).
    pub fn package_variable(&self, name: &str) -> Result<Option<&DeclaredVariable>> {
        let (all, by_name) = self.package_variable_index()?;
        Ok(by_name.get(name).map(|&i| &all[i]))
    }

    /// The full name of the first package-level variable whose name ends
    /// with `suffix` (`/pkg.Var`: a package known by its last path element).
    pub fn package_variable_ending(&self, suffix: &str) -> Result<Option<String>> {
        Ok(self
            .package_variables()?
            .iter()
            .find(|v| v.name.ends_with(suffix))
            .map(|v| v.name.clone()))
    }

    fn package_variable_index(&self) -> Result<&PackageVariables> {
        self.package_variables
            .get_or_init(|| {
                let all = self.dwarf.package_variables()?;
                let mut by_name = HashMap::new();
                for (i, var) in all.iter().enumerate() {
                    by_name.entry(var.name.clone()).or_insert(i);
                }
                Ok((all, by_name))
            })
            .as_ref()
            .map_err(Clone::clone)
    }

    /// The variables closure `function` captured (Go 1.23 and later
    /// describe them with `DW_AT_go_closure_offset`; older ones do not, and
    /// their closures show none), in the order its DWARF lists them.
    pub fn captured_variables(&self, function: &Function) -> Result<Vec<CapturedVariable>> {
        self.dwarf.captured_variables(function)
    }

    /// The type named `name` (`int`, `main.Point`, `*main.Node`), as a
    /// `.debug_info` offset.
    pub fn type_named(&self, name: &str) -> Result<Option<u64>> {
        let index = self
            .types_by_name
            .get_or_init(|| {
                let mut index = HashMap::new();
                for t in self.types()? {
                    index.entry(t.name).or_insert(t.offset);
                }
                Ok(index)
            })
            .as_ref()
            .map_err(Clone::clone)?;
        Ok(index.get(name).copied())
    }

    /// The type whose runtime descriptor is `offset` bytes after
    /// `runtime.types` (what interface values point at).
    pub fn type_for_runtime_offset(&self, offset: u64) -> Result<Option<u64>> {
        Ok(self.type_indexes()?.runtime_types.get(&offset).copied())
    }

    /// The constants declared with the type at `ty` (full names and values,
    /// sorted by value): what Delve describes enum-like values with.
    pub fn constants_of(&self, ty: u64) -> Result<&[(String, i64)]> {
        Ok(self
            .type_indexes()?
            .constants
            .get(&ty)
            .map_or(&[], Vec::as_slice))
    }

    fn type_indexes(&self) -> Result<&types::TypeIndexes> {
        self.type_indexes
            .get_or_init(|| self.dwarf.type_indexes())
            .as_ref()
            .map_err(Clone::clone)
    }

    /// Decodes everything that is otherwise decoded lazily: every unit's
    /// entries and line table, the whole-binary indexes and the frame
    /// index. For benchmarks and for servers that prefer to pay up front.
    pub fn build_full_index(&self) -> Result<()> {
        self.dwarf.functions()?;
        for unit in 0..self.dwarf.unit_count() {
            self.dwarf.lines(unit)?;
        }
        self.frame_rule(0)?;
        Ok(())
    }

    /// Source files that the user's `file` names.
    fn matching_files(&self, file: &str) -> Result<Vec<String>> {
        Ok(self
            .dwarf
            .files()?
            .filter(|path| location::file_matches(path, file))
            .map(str::to_owned)
            .collect())
    }

    /// Statement addresses for `line` of exactly the file `path`.
    fn pcs_in_file(&self, path: &str, line: u32) -> Result<Vec<u64>> {
        let mut pcs = Vec::new();
        for &unit in self.dwarf.units_with_file(path)? {
            let lines = self.dwarf.lines(unit)?;
            if let Some(file) = lines.files.iter().position(|f| &**f == path) {
                pcs.extend(lines.statement_pcs(file as u32, line));
            }
        }
        Ok(pcs)
    }
}

/// Every package-level variable in DWARF order, and index by full name.
type PackageVariables = (Vec<DeclaredVariable>, HashMap<String, usize>);

/// The answer for `pc` from `memo`, computing and keeping it on first use
/// (errors are not kept).
fn memoized<T: Clone>(
    memo: &Mutex<HashMap<u64, T>>,
    pc: u64,
    compute: impl FnOnce() -> Result<T>,
) -> Result<T> {
    if let Some(known) = memo.lock().unwrap_or_else(|e| e.into_inner()).get(&pc) {
        return Ok(known.clone());
    }
    let answer = compute()?;
    memo.lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(pc, answer.clone());
    Ok(answer)
}

/// `runtime.` followed by a lower-case name: the runtime's own machinery, as
/// opposed to its API (`runtime.Gosched`).
pub fn is_private_runtime(name: &str) -> bool {
    name.strip_prefix("runtime.")
        .is_some_and(|rest| !rest.starts_with(|c: char| c.is_ascii_uppercase()))
}
