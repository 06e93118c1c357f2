//! The executable file itself: mapping it, checking it is a whole ELF file,
//! finding sections (decompressing DWARF ones) and reading the ELF symbol
//! table.
//!
//! The file is memory-mapped, never read whole: only the pages of sections
//! that are asked for get paged in.

use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use memmap2::Mmap;
use object::{Object, ObjectSection, ObjectSymbol, SectionFlags, SectionKind, SymbolSection};

use crate::error::{BinaryError, Result};

/// The most a compressed section may grow when decompressed (deflate's
/// limit is about 1032:1; zstd on DWARF stays far below).
const MAX_EXPANSION: u64 = 1100;

/// CPU architecture of the executable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arch {
    /// x86-64 (Go's amd64).
    Amd64,
    /// AArch64 (Go's arm64).
    Arm64,
}

/// A mapped ELF executable whose headers have been checked against the file
/// size. Cheap to clone: the mapping is shared.
#[derive(Clone)]
pub struct Image {
    path: PathBuf,
    map: Arc<Mmap>,
    arch: Arch,
    little_endian: bool,
}

impl std::fmt::Debug for Image {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Image")
            .field("path", &self.path)
            .field("arch", &self.arch)
            .finish()
    }
}

/// A section's place in memory and in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SectionInfo {
    /// Section name, e.g. `.text`.
    pub name: String,
    /// Link-time virtual address (0 for non-allocated sections).
    pub address: u64,
    /// Size in memory.
    pub size: u64,
}

/// One entry of the ELF symbol table, classified like `go tool nm` does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Symbol {
    /// Symbol name as written in the table (Go names are fully qualified).
    pub name: String,
    /// Link-time address.
    pub address: u64,
    /// Size in bytes (0 when unknown).
    pub size: u64,
    /// `go tool nm`'s one-letter kind: T text, R read-only data, D data,
    /// B bss or common, U undefined, `?` unclassified; lower case for local
    /// symbols.
    pub code: char,
}

impl Image {
    /// Maps `path` and validates its ELF headers.
    pub fn open(path: &Path) -> Result<Image> {
        let io_err = |source: std::io::Error| BinaryError::Io {
            path: path.to_owned(),
            source: Arc::new(source),
        };
        let meta = std::fs::metadata(path).map_err(io_err)?;
        if meta.is_dir() {
            return Err(BinaryError::IsDirectory {
                path: path.to_owned(),
            });
        }
        let file = std::fs::File::open(path).map_err(io_err)?;
        // SAFETY: the mapping is read-only; a file changed underneath us by
        // another process is the only hazard, as for every debugger.
        let map = unsafe { Mmap::map(&file) }.map_err(io_err)?;
        if map.len() < 4 || &map[..4] != b"\x7fELF" {
            return Err(BinaryError::NotElf {
                path: path.to_owned(),
            });
        }
        let truncated = |detail: String| BinaryError::Truncated {
            path: path.to_owned(),
            detail,
        };
        let obj = object::File::parse(&*map).map_err(|e| truncated(e.to_string()))?;
        let arch = match obj.architecture() {
            object::Architecture::X86_64 => Arch::Amd64,
            object::Architecture::Aarch64 => Arch::Arm64,
            other => {
                return Err(BinaryError::UnsupportedArchitecture {
                    path: path.to_owned(),
                    arch: format!("{other:?}"),
                })
            }
        };
        // object checks the header tables but reads section contents only on
        // demand; check every section's bytes are present now so a truncated
        // file is reported once, clearly, instead of as odd DWARF errors later.
        for section in obj.sections() {
            if let Some((offset, size)) = section.file_range() {
                if offset
                    .checked_add(size)
                    .is_none_or(|end| end > map.len() as u64)
                {
                    return Err(truncated(format!(
                        "section {} needs bytes {}..{} but the file has {} bytes",
                        section.name().unwrap_or("?"),
                        offset,
                        offset.saturating_add(size),
                        map.len()
                    )));
                }
            }
        }
        let little_endian = obj.is_little_endian();
        drop(obj);
        Ok(Image {
            path: path.to_owned(),
            map: Arc::new(map),
            arch,
            little_endian,
        })
    }

    /// The path the image was opened from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The executable's architecture.
    pub fn arch(&self) -> Arch {
        self.arch
    }

    /// Whether the file is little-endian (always, for supported targets).
    pub fn is_little_endian(&self) -> bool {
        self.little_endian
    }

    /// Parses the ELF headers again; cheap (the section table only), and it
    /// spares us a self-referential struct.
    fn object(&self) -> object::File<'_> {
        // Cannot fail: `open` parsed the same bytes.
        object::File::parse(&**self.map).expect("ELF headers were validated in Image::open")
    }

    /// All sections, in file order.
    pub fn sections(&self) -> Vec<SectionInfo> {
        self.object()
            .sections()
            .map(|s| SectionInfo {
                name: s.name().unwrap_or("").to_owned(),
                address: s.address(),
                size: s.size(),
            })
            .collect()
    }

    /// Whether a section of that name exists (for DWARF names, also the
    /// `.zdebug_` spelling).
    pub fn has_section(&self, name: &str) -> bool {
        self.object().section_by_name(name).is_some()
    }

    /// The bytes of a section, decompressed when the file stores it
    /// compressed (SHF_COMPRESSED zlib/zstd, or the old `.zdebug_` form).
    /// `Ok(None)` when the section does not exist.
    pub fn section_data(&self, name: &str) -> Result<Option<Cow<'_, [u8]>>> {
        let obj = self.object();
        let Some(section) = obj.section_by_name(name) else {
            return Ok(None);
        };
        if section.kind() == SectionKind::UninitializedData {
            return Ok(Some(Cow::Borrowed(&[])));
        }
        let err = |e: object::Error| BinaryError::Section {
            section: name.to_owned(),
            detail: e.to_string(),
        };
        let compressed = section.compressed_data().map_err(err)?;
        // A damaged header can claim any size; deflate cannot expand data
        // more than about 1032 times, so anything beyond is not real.
        let limit = compressed.data.len() as u64 * MAX_EXPANSION + 4096;
        if compressed.format != object::CompressionFormat::None
            && compressed.uncompressed_size > limit
        {
            return Err(BinaryError::Section {
                section: name.to_owned(),
                detail: format!(
                    "it claims {} bytes once decompressed, from {} compressed bytes",
                    compressed.uncompressed_size,
                    compressed.data.len()
                ),
            });
        }
        let data = compressed.decompress().map_err(err)?;
        // Re-borrow from the map rather than from the short-lived object::File.
        Ok(Some(match data {
            Cow::Borrowed(bytes) => Cow::Borrowed(self.rebase(bytes)),
            Cow::Owned(bytes) => Cow::Owned(bytes),
        }))
    }

    /// The section's address and raw bytes as stored (not decompressed);
    /// for loaded sections such as `.go.buildinfo` and `.gopclntab`.
    pub fn loaded_section(&self, name: &str) -> Option<(u64, &[u8])> {
        let obj = self.object();
        let section = obj.section_by_name(name)?;
        let bytes = section.data().ok()?;
        Some((section.address(), self.rebase(bytes)))
    }

    /// Reads `len` bytes at link-time address `addr` from whichever loaded
    /// section holds them. `None` for addresses outside file-backed data.
    pub fn read_at(&self, addr: u64, len: usize) -> Option<&[u8]> {
        let obj = self.object();
        for section in obj.sections() {
            let start = section.address();
            if start == 0 || addr < start || addr >= start + section.size() {
                continue;
            }
            let bytes = section.data().ok()?;
            let from = (addr - start) as usize;
            let bytes = bytes.get(from..from.checked_add(len)?)?;
            return Some(self.rebase(bytes));
        }
        None
    }

    /// Turns a slice borrowed through a temporary `object::File` into one
    /// with the lifetime of the map it points into.
    fn rebase<'a>(&'a self, bytes: &[u8]) -> &'a [u8] {
        // object answers an empty section (or one whose size is zero in a
        // damaged file) with a static empty slice outside the map.
        if bytes.is_empty() {
            return &[];
        }
        let base = self.map.as_ptr() as usize;
        let start = bytes.as_ptr() as usize - base;
        &self.map[start..start + bytes.len()]
    }

    /// The ELF symbol table (`.symtab`), every entry but the null one,
    /// classified by section flags the way `go tool nm` (1.27) does; older
    /// nm versions say D where it says B (bss). Empty for
    /// binaries linked with `-s`.
    pub fn symbols(&self) -> Vec<Symbol> {
        const SHF_WRITE: u64 = 0x1;
        const SHF_ALLOC: u64 = 0x2;
        const SHF_EXECINSTR: u64 = 0x4;
        let obj = self.object();
        let mut out = Vec::new();
        for sym in obj.symbols() {
            let name = sym.name().unwrap_or("");
            let code = match sym.section() {
                SymbolSection::Undefined => 'U',
                SymbolSection::Common => 'B',
                SymbolSection::Section(index) => {
                    let section = obj.section_by_index(index).ok();
                    let flags = match section.as_ref().map(|s| s.flags()) {
                        Some(SectionFlags::Elf { sh_flags }) => {
                            sh_flags & (SHF_WRITE | SHF_ALLOC | SHF_EXECINSTR)
                        }
                        _ => 0,
                    };
                    let no_bits =
                        section.is_some_and(|s| s.kind() == SectionKind::UninitializedData);
                    match flags {
                        f if f == SHF_ALLOC | SHF_EXECINSTR => 'T',
                        SHF_ALLOC => 'R',
                        f if f == SHF_ALLOC | SHF_WRITE && no_bits => 'B',
                        f if f == SHF_ALLOC | SHF_WRITE => 'D',
                        _ => '?',
                    }
                }
                _ => '?',
            };
            // nm lowers the letter of local symbols by plain arithmetic, so
            // an unclassified local '?' becomes '_'.
            let code = if sym.is_local() {
                (code as u8 + (b'a' - b'A')) as char
            } else {
                code
            };
            out.push(Symbol {
                name: name.to_owned(),
                address: sym.address(),
                size: sym.size(),
                code,
            });
        }
        out
    }
}
