//! Reading ELF core files (Linux x86-64).
//!
//! The core is memory-mapped and never copied: opening one parses only the
//! ELF header, the program headers and the notes, and checks that every
//! segment's bytes are present in the file. Memory is served from the
//! `PT_LOAD` segments; what the kernel (or gcore) left out of the core, such
//! as unmodified file-backed pages, is read from the files the `NT_FILE`
//! note names, mapped lazily on first use. The main executable is always
//! read from the path given to [`CoreFile::open`], never from the path
//! recorded in the core.

use std::collections::HashMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use memmap2::{Mmap, UncheckedAdvice};
use object::elf;
use object::read::elf::{FileHeader, ProgramHeader, SectionHeader};
use object::LittleEndian as LE;

use crate::{FpRegisters, Mapping, Memory, Pid, Registers, Result, TargetError, ThreadState, Tid};

/// The 64-bit little-endian ELF header type of x86-64 files.
type ElfHeader = elf::FileHeader64<LE>;

/// Size of the ELF64 file header.
const EHDR_SIZE: usize = 64;
/// Size of one ELF64 program header.
const PHDR_SIZE: usize = 56;

/// `elf_prstatus` (x86-64): offset of `pr_cursig` (u16).
const PRSTATUS_CURSIG: usize = 12;
/// `elf_prstatus` (x86-64): offset of `pr_pid`.
const PRSTATUS_PID: usize = 32;
/// `elf_prstatus` (x86-64): offset of `pr_reg` (`user_regs_struct`).
const PRSTATUS_REG: usize = 112;
/// `elf_prpsinfo` (x86-64): offset of `pr_pid`.
const PRPSINFO_PID: usize = 24;
/// `elf_prpsinfo` (x86-64): offset of `pr_fname` (16 bytes).
const PRPSINFO_FNAME: usize = 40;
/// `elf_prpsinfo` (x86-64): offset of `pr_psargs` (80 bytes).
const PRPSINFO_PSARGS: usize = 56;
/// `elf_prpsinfo` (x86-64): total size.
const PRPSINFO_SIZE: usize = 136;
/// Size of the FXSAVE area (`NT_FPREGSET`).
const FXSAVE_SIZE: usize = 512;

/// Auxiliary vector: the program's entry point.
const AT_ENTRY: u64 = 9;

/// `NT_GNU_BUILD_ID`, in notes named `GNU`.
const NT_GNU_BUILD_ID: u32 = 3;
/// The Go linker's build-id note type, in notes named `Go`.
const NT_GO_BUILD_ID: u32 = 4;

/// The fewest bytes of an `NT_SIGINFO` note we read (`si_signo`,
/// `si_errno`, `si_code`, padding, `si_addr`).
const SIGINFO_MIN: usize = 24;

/// Signals whose `siginfo_t` carries a faulting address in `si_addr`.
const FAULT_SIGNALS: [i32; 4] = [libc::SIGSEGV, libc::SIGBUS, libc::SIGILL, libc::SIGFPE];

/// One thread of a core, from its `NT_PRSTATUS` note and the register
/// notes that follow it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoreThread {
    /// Thread id (`pr_pid`).
    pub tid: Tid,
    /// General-purpose registers (`pr_reg`).
    pub registers: Registers,
    /// The signal current in the thread when the core was made
    /// (`pr_cursig`), 0 if none.
    pub signal: i32,
    /// Floating-point state: the XSAVE area of `NT_X86_XSTATE` when present,
    /// else the 512-byte FXSAVE area of `NT_FPREGSET`, else `None`.
    pub fp_registers: Option<FpRegisters>,
    /// The raw `siginfo_t` of the thread's `NT_SIGINFO` note, when it has
    /// one (the kernel writes one, for the dumping thread; gcore one per
    /// thread, with the signal that stopped it).
    pub siginfo: Option<Vec<u8>>,
}

/// A `PT_LOAD` segment of the core.
#[derive(Debug, Clone, Copy)]
struct Segment {
    /// First virtual address.
    vaddr: u64,
    /// Size in memory.
    memsz: u64,
    /// Offset of the dumped bytes in the core.
    offset: u64,
    /// Number of bytes dumped (the rest was omitted).
    filesz: u64,
    /// `PF_R`/`PF_W`/`PF_X`.
    flags: u32,
}

impl Segment {
    /// First address past the segment.
    fn end(&self) -> u64 {
        self.vaddr.saturating_add(self.memsz)
    }
}

/// A file mapping recorded in `NT_FILE`.
#[derive(Debug, Clone)]
struct FileMapping {
    /// First address.
    start: u64,
    /// First address past the end.
    end: u64,
    /// Byte offset of `start` in the file.
    offset: u64,
    /// The path as recorded in the core.
    path: String,
}

/// Bytes read out of a core's mapping between two releases of its pages
/// ([`CoreFile::note_read`]).
const RELEASE_EVERY: u64 = 2 << 20;

/// A file the core's memory falls back to, mapped on first use.
enum Backing {
    /// The file's bytes.
    Mapped(Mmap),
    /// The file exists but is empty.
    Empty,
    /// Why it could not be opened.
    Failed(String),
}

/// A build-id note of the executable.
#[derive(Debug, Clone)]
struct BuildIdNote {
    /// Link-time address of the note header.
    vaddr: u64,
    /// Note name, without the trailing NUL (`GNU` or `Go`).
    name: Vec<u8>,
    /// Note type.
    kind: u32,
    /// The id itself.
    desc: Vec<u8>,
}

impl BuildIdNote {
    /// `GNU build id` or `Go build id`.
    fn label(&self) -> String {
        format!("{} build id", String::from_utf8_lossy(&self.name))
    }
}

/// A loadable segment of the executable.
#[derive(Debug, Clone, Copy)]
struct ExeSegment {
    /// File offset.
    offset: u64,
    /// Link-time address.
    vaddr: u64,
    /// Bytes in the file.
    filesz: u64,
}

/// What the mismatch check needs to know about the executable.
#[derive(Debug)]
struct ExeInfo {
    /// `ET_EXEC` or `ET_DYN`.
    e_type: u16,
    /// Link-time entry point.
    entry: u64,
    /// Loadable segments.
    segments: Vec<ExeSegment>,
    /// `NT_GNU_BUILD_ID` and Go build-id notes.
    build_ids: Vec<BuildIdNote>,
}

/// An ELF core file opened for reading, with the executable it was made
/// from. Implements [`Memory`] and [`ThreadState`] like a live process.
pub struct CoreFile {
    /// The core's path.
    core_path: PathBuf,
    /// The executable's path, as given to `open`.
    executable_path: PathBuf,
    /// The whole core, mapped.
    map: Mmap,
    /// Bytes copied out of `map` since its pages were last let go (see
    /// [`CoreFile::note_read`]).
    read_since_release: AtomicU64,
    /// The process id.
    pid: Pid,
    /// Threads in note order (the first one made the dump).
    threads: Vec<CoreThread>,
    /// `PT_LOAD` segments sorted by address.
    segments: Vec<Segment>,
    /// `NT_FILE` mappings sorted by address.
    files: Vec<FileMapping>,
    /// The executable's file-backed ranges derived from its own program
    /// headers, used only when the core has no `NT_FILE` entry for it.
    exe_fallback: Vec<FileMapping>,
    /// The main executable's path as recorded in `NT_FILE`.
    main_path: Option<String>,
    /// The auxiliary vector, without the final `AT_NULL`.
    auxv: Vec<(u64, u64)>,
    /// `pr_fname` of `NT_PRPSINFO`.
    process_name: String,
    /// `pr_psargs` of `NT_PRPSINFO`.
    command_line: String,
    /// Files mapped on demand, by recorded path.
    backing: Mutex<HashMap<String, Arc<Backing>>>,
}

impl std::fmt::Debug for CoreFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CoreFile")
            .field("core_path", &self.core_path)
            .field("executable_path", &self.executable_path)
            .field("pid", &self.pid)
            .field("threads", &self.threads.len())
            .field("segments", &self.segments.len())
            .finish()
    }
}

/// Maps `path`, which must be a regular, non-empty file.
fn map_file(path: &Path) -> std::result::Result<Option<Mmap>, std::io::Error> {
    let file = File::open(path)?;
    if file.metadata()?.len() == 0 {
        return Ok(None);
    }
    // SAFETY: the mapping is read-only; a file changed underneath us by
    // another process is the only hazard, as for every debugger.
    let map = unsafe { Mmap::map(&file) }?;
    Ok(Some(map))
}

/// Little-endian u16 at `at` (the caller checked the length).
fn u16_at(data: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([data[at], data[at + 1]])
}

/// Little-endian u32 at `at` (the caller checked the length).
fn u32_at(data: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(data[at..at + 4].try_into().expect("4 bytes"))
}

/// Little-endian u64 at `at` (the caller checked the length).
fn u64_at(data: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(data[at..at + 8].try_into().expect("8 bytes"))
}

/// The bytes of a fixed-size C string field up to its first NUL.
fn c_string(field: &[u8]) -> String {
    let len = field.iter().position(|&b| b == 0).unwrap_or(field.len());
    String::from_utf8_lossy(&field[..len]).into_owned()
}

/// Rounds down to a page boundary.
fn page_down(x: u64) -> u64 {
    x & !0xfff
}

/// Rounds up to a page boundary.
fn page_up(x: u64) -> u64 {
    x.saturating_add(0xfff) & !0xfff
}

/// One ELF note found by [`parse_notes`].
#[derive(Debug)]
pub(crate) struct RawNote<'a> {
    /// Offset of the note header in the parsed data.
    pub(crate) offset: usize,
    /// Name without trailing NULs.
    pub(crate) name: &'a [u8],
    /// Note type.
    pub(crate) kind: u32,
    /// Descriptor.
    pub(crate) desc: &'a [u8],
}

/// Parses a note segment or section. `align` is its alignment (4 or 8;
/// smaller values mean 4, as binutils reads them).
pub(crate) fn parse_notes(
    data: &[u8],
    align: u64,
) -> std::result::Result<Vec<RawNote<'_>>, String> {
    let align = if align == 8 { 8 } else { 4 };
    let round = |x: usize| x.div_ceil(align) * align;
    let mut notes = Vec::new();
    let mut at = 0usize;
    while at < data.len() {
        if data.len() - at < 12 {
            return Err(format!(
                "note at offset {at} has a cut-off header ({} bytes left)",
                data.len() - at
            ));
        }
        let namesz = u32_at(data, at) as usize;
        let descsz = u32_at(data, at + 4) as usize;
        let kind = u32_at(data, at + 8);
        let name_at = at + 12;
        let desc_at = round(name_at.saturating_add(namesz));
        let desc_end = desc_at.saturating_add(descsz);
        if desc_end > data.len() {
            return Err(format!(
                "note at offset {at} (type {kind:#x}) needs {} bytes but only {} remain",
                desc_end - at,
                data.len() - at
            ));
        }
        let mut name = &data[name_at..name_at + namesz];
        while let [rest @ .., 0] = name {
            name = rest;
        }
        notes.push(RawNote {
            offset: at,
            name,
            kind,
            desc: &data[desc_at..desc_end],
        });
        at = round(desc_end);
    }
    Ok(notes)
}

/// Renders a build id: Go's as the string it is, GNU's in hex.
fn show_id(note: &BuildIdNote, desc: &[u8]) -> String {
    if note.kind == NT_GO_BUILD_ID && note.name == b"Go" {
        format!("{:?}", String::from_utf8_lossy(desc))
    } else {
        desc.iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// Everything the notes of a core say.
#[derive(Default)]
struct Notes {
    /// Threads in note order.
    threads: Vec<CoreThread>,
    /// `pr_pid` of `NT_PRPSINFO`.
    pid: Option<Pid>,
    /// `pr_fname`.
    process_name: String,
    /// `pr_psargs`.
    command_line: String,
    /// The auxiliary vector.
    auxv: Vec<(u64, u64)>,
    /// `NT_FILE` mappings.
    files: Vec<FileMapping>,
}

impl Notes {
    /// Takes in one note of the core.
    fn add(&mut self, note: &RawNote<'_>) -> std::result::Result<(), String> {
        let desc = note.desc;
        match (note.name, note.kind) {
            (elf::ELF_NOTE_CORE, elf::NT_PRSTATUS) => {
                let registers = Registers::from_bytes(desc.get(PRSTATUS_REG..).unwrap_or_default())
                    .ok_or_else(|| {
                        format!(
                            "NT_PRSTATUS note has {} bytes, too few for x86-64",
                            desc.len()
                        )
                    })?;
                self.threads.push(CoreThread {
                    tid: u32_at(desc, PRSTATUS_PID) as i32,
                    registers,
                    signal: i32::from(u16_at(desc, PRSTATUS_CURSIG) as i16),
                    fp_registers: None,
                    siginfo: None,
                });
            }
            (elf::ELF_NOTE_CORE, elf::NT_FPREGSET) => {
                if let Some(thread) = self.threads.last_mut() {
                    if thread.fp_registers.is_none() && desc.len() >= FXSAVE_SIZE {
                        thread.fp_registers = Some(FpRegisters { raw: desc.to_vec() });
                    }
                }
            }
            (elf::ELF_NOTE_LINUX, elf::NT_X86_XSTATE) => {
                if let Some(thread) = self.threads.last_mut() {
                    if desc.len() >= FXSAVE_SIZE {
                        thread.fp_registers = Some(FpRegisters { raw: desc.to_vec() });
                    }
                }
            }
            (elf::ELF_NOTE_CORE, elf::NT_PRPSINFO) => {
                if desc.len() < PRPSINFO_SIZE {
                    return Err(format!(
                        "NT_PRPSINFO note has {} bytes, expected {PRPSINFO_SIZE}",
                        desc.len()
                    ));
                }
                self.pid = Some(u32_at(desc, PRPSINFO_PID) as i32);
                self.process_name = c_string(&desc[PRPSINFO_FNAME..PRPSINFO_PSARGS]);
                self.command_line = c_string(&desc[PRPSINFO_PSARGS..PRPSINFO_SIZE])
                    .trim_end()
                    .to_owned();
            }
            (elf::ELF_NOTE_CORE, elf::NT_AUXV) => {
                self.auxv = desc
                    .chunks_exact(16)
                    .map(|pair| (u64_at(pair, 0), u64_at(pair, 8)))
                    .take_while(|&(key, _)| key != 0)
                    .collect();
            }
            (elf::ELF_NOTE_CORE, elf::NT_SIGINFO) if desc.len() >= SIGINFO_MIN => {
                if let Some(thread) = self.threads.last_mut() {
                    thread.siginfo.get_or_insert_with(|| desc.to_vec());
                }
            }
            (elf::ELF_NOTE_CORE, elf::NT_FILE) => self.files = parse_nt_file(desc)?,
            _ => {}
        }
        Ok(())
    }
}

/// Parses an `NT_FILE` note: count, page size, count (start, end, page
/// offset) triples, then count NUL-terminated paths.
fn parse_nt_file(desc: &[u8]) -> std::result::Result<Vec<FileMapping>, String> {
    let bad = |what: &str| format!("NT_FILE note ({} bytes) is malformed: {what}", desc.len());
    if desc.len() < 16 {
        return Err(bad("no header"));
    }
    let count = u64_at(desc, 0);
    let page_size = u64_at(desc, 8);
    let table_end = count
        .checked_mul(24)
        .and_then(|n| n.checked_add(16))
        .filter(|&n| n <= desc.len() as u64);
    let Some(table_end) = table_end else {
        return Err(bad(&format!("{count} entries do not fit")));
    };
    let mut names = desc[table_end as usize..].split(|&b| b == 0);
    let mut files = Vec::with_capacity(count as usize);
    for i in 0..count as usize {
        let at = 16 + 24 * i;
        let (start, end, pages) = (
            u64_at(desc, at),
            u64_at(desc, at + 8),
            u64_at(desc, at + 16),
        );
        let name = names
            .next()
            .ok_or_else(|| bad(&format!("entry {i} has no path")))?;
        if end < start {
            return Err(bad(&format!(
                "entry {i} ends at {end:#x} before it starts at {start:#x}"
            )));
        }
        let offset = pages
            .checked_mul(page_size)
            .ok_or_else(|| bad(&format!("entry {i} has offset overflow")))?;
        files.push(FileMapping {
            start,
            end,
            offset,
            path: String::from_utf8_lossy(name).into_owned(),
        });
    }
    Ok(files)
}

/// Reads the executable's ELF headers: type, entry, loadable segments and
/// build-id notes (from note sections and `PT_NOTE` segments).
fn read_exe_info(data: &[u8]) -> std::result::Result<ExeInfo, String> {
    let header = ElfHeader::parse(data).map_err(|e| format!("not a 64-bit ELF file ({e})"))?;
    if !header.is_little_endian() {
        return Err("a big-endian ELF file".into());
    }
    let phdrs = header
        .program_headers(LE, data)
        .map_err(|e| e.to_string())?;
    let mut segments = Vec::new();
    let mut build_ids: Vec<BuildIdNote> = Vec::new();
    let mut add_notes = |bytes: &[u8], align: u64, vaddr: u64| {
        for note in parse_notes(bytes, align).unwrap_or_default() {
            let wanted = (note.name == b"GNU" && note.kind == NT_GNU_BUILD_ID)
                || (note.name == b"Go" && note.kind == NT_GO_BUILD_ID);
            let at = vaddr + note.offset as u64;
            if wanted && !build_ids.iter().any(|n| n.vaddr == at) {
                build_ids.push(BuildIdNote {
                    vaddr: at,
                    name: note.name.to_vec(),
                    kind: note.kind,
                    desc: note.desc.to_vec(),
                });
            }
        }
    };
    for phdr in phdrs {
        match phdr.p_type(LE) {
            elf::PT_LOAD => segments.push(ExeSegment {
                offset: phdr.p_offset(LE),
                vaddr: phdr.p_vaddr(LE),
                filesz: phdr.p_filesz(LE),
            }),
            elf::PT_NOTE => {
                if let Ok(bytes) = phdr.data(LE, data) {
                    add_notes(bytes, phdr.p_align(LE), phdr.p_vaddr(LE));
                }
            }
            _ => {}
        }
    }
    // Some notes (the Go linker's .note.gnu.build-id) are in no PT_NOTE.
    if let Ok(sections) = header.section_headers(LE, data) {
        for section in sections {
            if section.sh_type(LE) == elf::SHT_NOTE
                && section.sh_flags(LE) & u64::from(elf::SHF_ALLOC) != 0
            {
                if let Ok(bytes) = section.data(LE, data) {
                    add_notes(bytes, section.sh_addralign(LE), section.sh_addr(LE));
                }
            }
        }
    }
    Ok(ExeInfo {
        e_type: header.e_type(LE),
        entry: header.e_entry(LE),
        segments,
        build_ids,
    })
}

impl CoreFile {
    /// Opens the core at `core`, made from the executable at `executable`.
    ///
    /// The core is mapped, not read; only its headers and notes are parsed.
    /// Unless `allow_mismatch`, the executable's build ids (GNU and Go) are
    /// compared with the ones in the core's memory, or, when either side
    /// has none, the executable's loadable segments with the core's record
    /// of how it was mapped; a difference is [`TargetError::CoreMismatch`].
    pub fn open(core: &Path, executable: &Path, allow_mismatch: bool) -> Result<CoreFile> {
        let not_a_core = |detail: String| TargetError::NotACore {
            path: core.to_owned(),
            detail,
        };
        let corrupt = |detail: String| TargetError::CorruptCore {
            path: core.to_owned(),
            detail,
        };
        let io = |path: &Path| {
            let path = path.to_owned();
            move |source| TargetError::Io { path, source }
        };

        let meta = std::fs::metadata(core).map_err(io(core))?;
        if meta.is_dir() {
            return Err(not_a_core("it is a directory".into()));
        }
        if meta.len() == 0 {
            return Err(not_a_core("the file is empty".into()));
        }
        let map = map_file(core)
            .map_err(io(core))?
            .ok_or_else(|| not_a_core("the file is empty".into()))?;
        let data: &[u8] = &map;
        let len = data.len() as u64;
        if data.len() < 4 || data[..4] != elf::ELFMAG {
            return Err(not_a_core(
                "it does not start with the ELF magic number".into(),
            ));
        }
        if data.len() < EHDR_SIZE {
            return Err(corrupt(format!(
                "the ELF header needs {EHDR_SIZE} bytes but the file has {len}"
            )));
        }
        if data[4] != elf::ELFCLASS64 || data[5] != elf::ELFDATA2LSB {
            return Err(not_a_core(
                "it is not a 64-bit little-endian ELF file; only x86-64 cores are supported".into(),
            ));
        }
        let header = ElfHeader::parse(data).map_err(|e| corrupt(format!("bad ELF header: {e}")))?;
        let e_type = header.e_type(LE);
        if e_type != elf::ET_CORE {
            let kind = match e_type {
                elf::ET_EXEC => "ET_EXEC, an executable",
                elf::ET_DYN => "ET_DYN, a shared object or position-independent executable",
                elf::ET_REL => "ET_REL, an object file",
                _ => "not ET_CORE",
            };
            return Err(not_a_core(format!("its ELF type is {e_type} ({kind})")));
        }
        if header.e_machine(LE) != elf::EM_X86_64 {
            return Err(not_a_core(format!(
                "its machine is {}, but only x86-64 (EM_X86_64) cores are supported",
                header.e_machine(LE)
            )));
        }

        // Program headers: check their bytes are all there before parsing.
        let phoff = header.e_phoff(LE);
        let phnum = header
            .phnum(LE, data)
            .map_err(|e| corrupt(format!("bad program header count: {e}")))?;
        if phnum > 0 && usize::from(header.e_phentsize(LE)) != PHDR_SIZE {
            return Err(corrupt(format!(
                "program header entries are {} bytes, not {PHDR_SIZE}",
                header.e_phentsize(LE)
            )));
        }
        let ph_end = (phnum as u64)
            .checked_mul(PHDR_SIZE as u64)
            .and_then(|n| n.checked_add(phoff));
        if ph_end.is_none_or(|end| end > len) {
            return Err(corrupt(format!(
                "the {phnum} program headers need bytes {phoff}..{} but the file has {len} bytes",
                phoff.saturating_add((phnum * PHDR_SIZE) as u64)
            )));
        }
        let phdrs = header
            .program_headers(LE, data)
            .map_err(|e| corrupt(format!("bad program headers: {e}")))?;

        let mut segments = Vec::new();
        let mut notes = Notes::default();
        for (index, phdr) in phdrs.iter().enumerate() {
            let p_type = phdr.p_type(LE);
            if p_type != elf::PT_LOAD && p_type != elf::PT_NOTE {
                continue;
            }
            let (offset, filesz) = phdr.file_range(LE);
            let (vaddr, memsz) = (phdr.p_vaddr(LE), phdr.p_memsz(LE));
            let what = if p_type == elf::PT_LOAD {
                format!("PT_LOAD at {vaddr:#x}")
            } else {
                "PT_NOTE".to_owned()
            };
            if offset.checked_add(filesz).is_none_or(|end| end > len) {
                return Err(corrupt(format!(
                    "program header {index} ({what}) needs file bytes {offset}..{} but the file has {len} bytes",
                    offset.saturating_add(filesz)
                )));
            }
            let bytes = &data[offset as usize..(offset + filesz) as usize];
            if p_type == elf::PT_NOTE {
                for note in parse_notes(bytes, phdr.p_align(LE))
                    .map_err(|e| corrupt(format!("{what}: {e}")))?
                {
                    notes.add(&note).map_err(corrupt)?;
                }
            } else if memsz > 0 {
                if vaddr.checked_add(memsz).is_none() {
                    return Err(corrupt(format!(
                        "program header {index} ({what}) runs past the end of the address space ({memsz} bytes)"
                    )));
                }
                if filesz > memsz {
                    return Err(corrupt(format!(
                        "program header {index} ({what}) has {filesz} bytes in the file but {memsz} in memory"
                    )));
                }
                segments.push(Segment {
                    vaddr,
                    memsz,
                    offset,
                    filesz,
                    flags: phdr.p_flags(LE),
                });
            }
        }
        if notes.threads.is_empty() {
            return Err(corrupt("it has no NT_PRSTATUS note, so no threads".into()));
        }
        segments.sort_by_key(|s| s.vaddr);
        let mut files = notes.files;
        files.sort_by_key(|f| f.start);

        // The main executable's recorded path: the mapping holding the entry
        // point, else one whose file name is the executable's.
        let entry = notes
            .auxv
            .iter()
            .find(|&&(k, _)| k == AT_ENTRY)
            .map(|&(_, v)| v);
        let exe_name = executable.file_name();
        let main_path = entry
            .and_then(|e| files.iter().find(|f| f.start <= e && e < f.end))
            .or_else(|| {
                files
                    .iter()
                    .find(|f| exe_name.is_some() && Path::new(&f.path).file_name() == exe_name)
            })
            .map(|f| f.path.clone());

        let pid = notes
            .pid
            .unwrap_or_else(|| notes.threads.iter().map(|t| t.tid).min().unwrap_or(0));
        let mut core_file = CoreFile {
            core_path: core.to_owned(),
            executable_path: executable.to_owned(),
            map,
            read_since_release: AtomicU64::new(0),
            pid,
            threads: notes.threads,
            segments,
            files,
            exe_fallback: Vec::new(),
            main_path,
            auxv: notes.auxv,
            process_name: notes.process_name,
            command_line: notes.command_line,
            backing: Mutex::new(HashMap::new()),
        };

        let exe_meta = std::fs::metadata(executable).map_err(io(executable))?;
        if exe_meta.is_dir() {
            return Err(TargetError::Io {
                path: executable.to_owned(),
                source: std::io::Error::other("is a directory, not an executable"),
            });
        }
        let exe_map = map_file(executable).map_err(io(executable))?;
        let exe_info = read_exe_info(exe_map.as_deref().unwrap_or_default());
        if !allow_mismatch {
            match &exe_info {
                Ok(info) => core_file.check_executable(info)?,
                Err(detail) => {
                    return Err(TargetError::CoreMismatch {
                        core: core.to_owned(),
                        executable: executable.to_owned(),
                        detail: format!("{} is {detail}", executable.display()),
                    })
                }
            }
        }
        if let Ok(info) = &exe_info {
            core_file.exe_fallback = core_file.executable_ranges(info);
        }
        if let Some(exe_map) = exe_map {
            let key = core_file.main_path.clone().unwrap_or_default();
            core_file
                .backing
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(key, Arc::new(Backing::Mapped(exe_map)));
        }
        Ok(core_file)
    }

    /// The path the core was opened from.
    pub fn core_path(&self) -> &Path {
        &self.core_path
    }

    /// The executable's path, as given to [`CoreFile::open`].
    pub fn executable_path(&self) -> &Path {
        &self.executable_path
    }

    /// The process id (`pr_pid` of `NT_PRPSINFO`; without that note, the
    /// smallest thread id).
    pub fn pid(&self) -> Pid {
        self.pid
    }

    /// The threads in the order of their notes. The first is the thread
    /// that crashed or made the dump; debuggers show it as current.
    pub fn threads_in_note_order(&self) -> &[CoreThread] {
        &self.threads
    }

    /// The auxiliary vector as (key, value) pairs, without `AT_NULL`.
    pub fn auxv(&self) -> &[(u64, u64)] {
        &self.auxv
    }

    /// The program's entry point (`AT_ENTRY`), when the core has an
    /// auxiliary vector.
    pub fn entry_point(&self) -> Option<u64> {
        self.auxv
            .iter()
            .find(|&&(k, _)| k == AT_ENTRY)
            .map(|&(_, v)| v)
    }

    /// The process name (`pr_fname`: at most 15 bytes), empty without
    /// `NT_PRPSINFO`.
    pub fn process_name(&self) -> &str {
        &self.process_name
    }

    /// The start of the command line (`pr_psargs`: at most 80 bytes,
    /// arguments separated by spaces), empty without `NT_PRPSINFO`.
    pub fn command_line(&self) -> &str {
        &self.command_line
    }

    /// The signal that made the dump (for a kernel core, the one that
    /// killed the process; for gcore, the one that stopped it): `si_signo`
    /// of the first thread's `NT_SIGINFO`, else its `pr_cursig`; `None`
    /// when neither names one.
    pub fn fatal_signal(&self) -> Option<i32> {
        let first = self.threads.first()?;
        let signo = first
            .siginfo
            .as_deref()
            .map_or(0, |info| u32_at(info, 0) as i32);
        Some(if signo != 0 { signo } else { first.signal }).filter(|&s| s != 0)
    }

    /// The faulting address (`si_addr`) when the first thread's
    /// `NT_SIGINFO` records a fault the kernel raised (SIGSEGV, SIGBUS,
    /// SIGILL, SIGFPE).
    pub fn fault_address(&self) -> Option<u64> {
        let info = self.threads.first()?.siginfo.as_deref()?;
        let (signo, code) = (u32_at(info, 0) as i32, u32_at(info, 8) as i32);
        (FAULT_SIGNALS.contains(&signo) && code > 0).then(|| u64_at(info, 16))
    }

    /// The address space as the core records it, sorted by address: every
    /// `PT_LOAD` segment (permissions from its flags; file and offset from
    /// the `NT_FILE` entry containing it), and the `NT_FILE` mappings that
    /// no segment covers (such as read-only file mappings gcore leaves
    /// out), shown readable.
    pub fn mappings(&self) -> Vec<Mapping> {
        let mut out: Vec<Mapping> = self
            .segments
            .iter()
            .map(|s| {
                let file = self.file_at(s.vaddr);
                Mapping {
                    start: s.vaddr,
                    end: s.end(),
                    file_offset: file.map_or(0, |f| f.offset.wrapping_add(s.vaddr - f.start)),
                    path: file.map(|f| f.path.clone()),
                    perms: (
                        s.flags & elf::PF_R != 0,
                        s.flags & elf::PF_W != 0,
                        s.flags & elf::PF_X != 0,
                    ),
                }
            })
            .collect();
        for f in &self.files {
            // Segments do not overlap, so only the last one starting before
            // the mapping's end can overlap it.
            let i = self.segments.partition_point(|s| s.vaddr < f.end);
            if self.segments[..i].last().is_none_or(|s| s.end() <= f.start) {
                out.push(Mapping {
                    start: f.start,
                    end: f.end,
                    file_offset: f.offset,
                    path: Some(f.path.clone()),
                    perms: (true, false, false),
                });
            }
        }
        out.sort_by_key(|m| m.start);
        out
    }

    /// The thread with id `tid`.
    fn thread(&self, tid: Tid) -> Result<&CoreThread> {
        self.threads
            .iter()
            .find(|t| t.tid == tid)
            .ok_or(TargetError::NoSuchThread { tid })
    }

    /// The `NT_FILE` mapping containing `addr`.
    fn file_at(&self, addr: u64) -> Option<&FileMapping> {
        let i = self.files.partition_point(|f| f.start <= addr);
        self.files[..i].last().filter(|f| addr < f.end)
    }

    /// The segment containing `addr`.
    fn segment_at(&self, addr: u64) -> Option<&Segment> {
        let i = self.segments.partition_point(|s| s.vaddr <= addr);
        self.segments[..i].last().filter(|s| addr < s.end())
    }

    /// Reads bytes the core itself holds (no file fallback). Used to look
    /// at what was really in memory, e.g. build-id notes.
    fn read_dumped(&self, addr: u64, buf: &mut [u8]) -> bool {
        let mut done = 0usize;
        while done < buf.len() {
            let Some(a) = addr.checked_add(done as u64) else {
                return false;
            };
            let Some(s) = self.segment_at(a) else {
                return false;
            };
            let dumped_end = s.vaddr + s.filesz;
            if a >= dumped_end {
                return false;
            }
            let n = ((dumped_end - a) as usize).min(buf.len() - done);
            let at = (s.offset + (a - s.vaddr)) as usize;
            buf[done..done + n].copy_from_slice(&self.map[at..at + n]);
            done += n;
        }
        true
    }

    /// Copies into `out` from the start of `out`, at `addr`, as many bytes
    /// as one source (a segment's dumped bytes or one file) holds; returns
    /// how many, or why none can be read.
    /// Counts `n` bytes copied out of the core's mapping; every
    /// [`RELEASE_EVERY`] bytes, lets go of the mapping's pages. Each page
    /// fault maps the pages around it too (the kernel's fault-around), so
    /// reading 100,000 scattered goroutines would otherwise keep hundreds
    /// of MB of a multi-GB core in this process's resident set. The bytes
    /// stay in the page cache, so a page read again costs a minor fault.
    fn note_read(&self, n: usize) {
        let before = self
            .read_since_release
            .fetch_add(n as u64, Ordering::Relaxed);
        if before + n as u64 >= RELEASE_EVERY {
            self.read_since_release.store(0, Ordering::Relaxed);
            // SAFETY: the mapping is private, read-only and never written,
            // so dropping its pages only makes the next access fault them
            // in again, with the same bytes, from the file. Nothing keeps a
            // reference into it across calls that would see a difference.
            let _ = unsafe { self.map.unchecked_advise(UncheckedAdvice::DontNeed) };
        }
    }

    fn read_piece(&self, addr: u64, out: &mut [u8]) -> std::result::Result<usize, String> {
        let Some(s) = self.segment_at(addr) else {
            return self.read_from_file(addr, out).map_err(|why| {
                why.unwrap_or_else(|| {
                    format!("{addr:#x} is in no segment of the core and in no mapped file")
                })
            });
        };
        let want = ((s.end() - addr) as usize).min(out.len());
        let dumped_end = s.vaddr + s.filesz;
        if addr < dumped_end {
            let n = ((dumped_end - addr) as usize).min(want);
            let at = (s.offset + (addr - s.vaddr)) as usize;
            out[..n].copy_from_slice(&self.map[at..at + n]);
            self.note_read(n);
            return Ok(n);
        }
        self.read_from_file(addr, &mut out[..want]).map_err(|why| {
            why.unwrap_or_else(|| {
                format!(
                    "{addr:#x} is in the segment {:#x}..{:#x} of the core, whose bytes from {dumped_end:#x} on \
                     were not dumped, and no mapped file backs it",
                    s.vaddr,
                    s.end()
                )
            })
        })
    }

    /// Reads from the file mapped at `addr`. `Err(None)`: no file is mapped
    /// there; `Err(Some(why))`: the file cannot provide the bytes.
    fn read_from_file(
        &self,
        addr: u64,
        out: &mut [u8],
    ) -> std::result::Result<usize, Option<String>> {
        let (file, is_main) = match self.file_at(addr) {
            Some(f) => (f, self.main_path.as_deref() == Some(f.path.as_str())),
            None => (
                self.exe_fallback
                    .iter()
                    .find(|f| f.start <= addr && addr < f.end)
                    .ok_or(None)?,
                true,
            ),
        };
        let n = ((file.end - addr) as usize).min(out.len());
        let offset = file.offset.checked_add(addr - file.start).ok_or_else(|| {
            Some(format!(
                "{addr:#x} was not dumped; it maps {}, at an offset too large to read",
                file.path
            ))
        })?;
        let shown = if is_main {
            self.executable_path.display().to_string()
        } else {
            file.path.clone()
        };
        // The executable is cached under its recorded path ("" without one).
        let key = if is_main {
            self.main_path.as_deref().unwrap_or_default()
        } else {
            file.path.as_str()
        };
        let backing = self.backing(key, is_main);
        let bytes: &[u8] = match &*backing {
            Backing::Mapped(map) => map,
            Backing::Empty => &[],
            Backing::Failed(why) => {
                return Err(Some(format!(
                    "{addr:#x} was not dumped; it maps {shown}, which cannot be read: {why}"
                )))
            }
        };
        if offset >= bytes.len() as u64 {
            return Err(Some(format!(
                "{addr:#x} was not dumped; it maps offset {offset:#x} of {shown}, which has only {} bytes",
                bytes.len()
            )));
        }
        let n = n.min(bytes.len() - offset as usize);
        out[..n].copy_from_slice(&bytes[offset as usize..offset as usize + n]);
        Ok(n)
    }

    /// The mapped file for recorded path `key`, opening it on first use
    /// (the executable is mapped by `open`).
    fn backing(&self, key: &str, is_main: bool) -> Arc<Backing> {
        let mut cache = self.backing.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(b) = cache.get(key) {
            return b.clone();
        }
        let path = if is_main {
            self.executable_path.as_path()
        } else {
            Path::new(key)
        };
        let backing = match map_file(path) {
            Ok(Some(map)) => Backing::Mapped(map),
            Ok(None) => Backing::Empty,
            Err(e) => Backing::Failed(e.to_string()),
        };
        let backing = Arc::new(backing);
        cache.insert(key.to_owned(), backing.clone());
        backing
    }

    /// The executable's `NT_FILE` mappings (by recorded path).
    fn main_mappings(&self) -> Vec<&FileMapping> {
        match &self.main_path {
            Some(p) => self.files.iter().filter(|f| &f.path == p).collect(),
            None => Vec::new(),
        }
    }

    /// How far the executable was loaded from its link-time addresses:
    /// 0 for `ET_EXEC`; for `ET_DYN`, from the mapping of its first page,
    /// else from the entry point.
    fn load_bias(&self, info: &ExeInfo) -> Option<u64> {
        if info.e_type == elf::ET_EXEC {
            return Some(0);
        }
        let first = info.segments.iter().map(|s| page_down(s.vaddr)).min()?;
        if let Some(m) = self.main_mappings().into_iter().find(|m| m.offset == 0) {
            return Some(m.start.wrapping_sub(first));
        }
        self.entry_point().map(|e| e.wrapping_sub(info.entry))
    }

    /// The executable's file-backed ranges at their run-time addresses,
    /// used to read text when the core has no `NT_FILE` entry for it.
    fn executable_ranges(&self, info: &ExeInfo) -> Vec<FileMapping> {
        if self.main_path.is_some() {
            return Vec::new();
        }
        let Some(bias) = self.load_bias(info) else {
            return Vec::new();
        };
        let path = self.executable_path.display().to_string();
        info.segments
            .iter()
            .filter(|s| s.filesz > 0)
            .map(|s| {
                let start = page_down(s.vaddr).wrapping_add(bias);
                FileMapping {
                    start,
                    end: page_up(s.vaddr.saturating_add(s.filesz)).wrapping_add(bias),
                    offset: page_down(s.offset),
                    path: path.clone(),
                }
            })
            .collect()
    }

    /// The build-id note of the kind of `exe_note` found in the core's
    /// dumped memory at `addr`, if there is one there.
    fn core_note_at(&self, addr: u64, exe_note: &BuildIdNote) -> Option<Vec<u8>> {
        let mut head = [0u8; 12];
        if !self.read_dumped(addr, &mut head) {
            return None;
        }
        let (namesz, descsz, kind) = (
            u32_at(&head, 0) as usize,
            u32_at(&head, 4) as usize,
            u32_at(&head, 8),
        );
        if kind != exe_note.kind || namesz > 64 || descsz > 4096 {
            return None;
        }
        let mut body = vec![0u8; namesz.div_ceil(4) * 4 + descsz];
        if !self.read_dumped(addr.checked_add(12)?, &mut body) {
            return None;
        }
        let name = c_string(&body[..namesz]);
        (name.as_bytes() == exe_note.name).then(|| body[namesz.div_ceil(4) * 4..].to_vec())
    }

    /// Refuses an executable the core was not made from (see `open`).
    fn check_executable(&self, info: &ExeInfo) -> Result<()> {
        let mismatch = |detail: String| TargetError::CoreMismatch {
            core: self.core_path.clone(),
            executable: self.executable_path.clone(),
            detail,
        };
        let exe = self.executable_path.display();
        let in_core = match &self.main_path {
            Some(p) => format!("the executable in the core ({p})"),
            None => "the executable in the core".to_owned(),
        };

        // Build ids, where both sides have one.
        if let Some(bias) = self.load_bias(info) {
            let mut compared = false;
            for note in &info.build_ids {
                let Some(core_id) = self.core_note_at(note.vaddr.wrapping_add(bias), note) else {
                    continue;
                };
                if core_id != note.desc {
                    return Err(mismatch(format!(
                        "{in_core} has {} {}, but {exe} has {}",
                        note.label(),
                        show_id(note, &core_id),
                        show_id(note, &note.desc)
                    )));
                }
                compared = true;
            }
            if compared {
                return Ok(());
            }
        }

        // No id to compare: the layout of the executable must fit.
        if info.e_type == elf::ET_EXEC {
            if let Some(entry) = self.entry_point() {
                if entry != info.entry {
                    return Err(mismatch(format!(
                        "the process in the core started at {entry:#x}, but {exe} has entry point {:#x}",
                        info.entry
                    )));
                }
            }
        }
        // Every mapping of the executable must lie within a loadable segment
        // of the given file, all at one load bias. Several segments may
        // share a page of the file (a RELRO part made read-only is one
        // mapping, the rest of its segment another), so any fits.
        let bias = self.load_bias(info);
        for m in self.main_mappings() {
            let size = m.end - m.start;
            let biases: Vec<u64> = info
                .segments
                .iter()
                .filter(|s| {
                    s.filesz > 0
                        && page_down(s.offset) <= m.offset
                        && m.offset.saturating_add(size)
                            <= page_up(s.offset.saturating_add(s.filesz))
                })
                .map(|s| {
                    m.start.wrapping_sub(
                        page_down(s.vaddr).wrapping_add(m.offset - page_down(s.offset)),
                    )
                })
                .collect();
            let Some(&first) = biases.first() else {
                return Err(mismatch(format!(
                    "{in_core} maps its file bytes {:#x}..{:#x} at {:#x}, but no loadable segment of {exe} spans \
                     those bytes",
                    m.offset,
                    m.offset.saturating_add(size),
                    m.start
                )));
            };
            if let Some(bias) = bias.filter(|b| !biases.contains(b)) {
                return Err(mismatch(format!(
                    "{in_core} maps its file bytes {:#x}..{:#x} at {:#x}, but {exe} would load them at {:#x}",
                    m.offset,
                    m.offset.saturating_add(size),
                    m.start,
                    m.start.wrapping_sub(first).wrapping_add(bias)
                )));
            }
        }
        Ok(())
    }
}

impl Memory for CoreFile {
    fn read_memory(&self, addr: u64, buf: &mut [u8]) -> Result<()> {
        let mut done = 0usize;
        while done < buf.len() {
            let at = addr
                .checked_add(done as u64)
                .ok_or_else(|| TargetError::Memory {
                    op: "read",
                    addr,
                    len: buf.len(),
                    detail: "the range wraps around the address space".into(),
                })?;
            match self.read_piece(at, &mut buf[done..]) {
                Ok(n) => done += n,
                Err(detail) => {
                    return Err(TargetError::Memory {
                        op: "read",
                        addr,
                        len: buf.len(),
                        detail,
                    })
                }
            }
        }
        Ok(())
    }
}

impl ThreadState for CoreFile {
    fn threads(&self) -> Vec<Tid> {
        let mut tids: Vec<Tid> = self.threads.iter().map(|t| t.tid).collect();
        tids.sort_unstable();
        tids
    }

    fn registers(&self, tid: Tid) -> Result<Registers> {
        Ok(self.thread(tid)?.registers)
    }

    /// A thread the core has no floating-point notes for gets an empty
    /// area (all accessors answer `None`).
    fn fp_registers(&self, tid: Tid) -> Result<FpRegisters> {
        Ok(self.thread(tid)?.fp_registers.clone().unwrap_or_default())
    }
}

/// A core can be written again (Delve's `dump` of a core, and the tests'
/// way to exercise the writer): the same threads in the same order, the
/// same mappings, memory as this core serves it.
impl crate::core::CoreSource for CoreFile {
    fn pid(&self) -> Pid {
        CoreFile::pid(self)
    }

    fn mappings(&self) -> Vec<Mapping> {
        CoreFile::mappings(self)
    }

    fn auxv(&self) -> Vec<(u64, u64)> {
        CoreFile::auxv(self).to_vec()
    }

    fn process_name(&self) -> String {
        CoreFile::process_name(self).to_owned()
    }

    fn command_line(&self) -> String {
        CoreFile::command_line(self).to_owned()
    }

    fn current_thread(&self) -> Option<Tid> {
        self.threads.first().map(|t| t.tid)
    }

    fn thread_signal(&self, tid: Tid) -> i32 {
        self.thread(tid).map_or(0, |t| t.signal)
    }

    fn siginfo(&self, tid: Tid) -> Option<Vec<u8>> {
        self.thread(tid).ok()?.siginfo.clone()
    }
}
