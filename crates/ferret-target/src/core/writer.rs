//! Writing ELF core files (Linux x86-64) of a stopped process, the basis of
//! Delve's `dump` command.
//!
//! The layout is the one the kernel and gcore use, so gdb and dlv read the
//! result: an ELF64 `ET_CORE` header, one `PT_NOTE` segment (`NT_PRPSINFO`,
//! then per thread `NT_PRSTATUS`, `NT_FPREGSET`, `NT_X86_XSTATE` and
//! `NT_SIGINFO`, then
//! `NT_AUXV` and `NT_FILE`), then one `PT_LOAD` segment per mapping with the
//! mapping's bytes, page-aligned. All-zero pages are left as holes, so the
//! file is sparse where memory was untouched.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use object::elf;
use object::{LittleEndian as LE, U16, U32, U64};

use crate::{FpRegisters, Mapping, Memory, Pid, Registers, Result, TargetError, ThreadState, Tid};

/// Page size of the written layout (x86-64).
const PAGE: u64 = 4096;
/// How much memory is read at a time.
const CHUNK: usize = 1 << 20;
/// Size of the ELF64 file header.
const EHDR_SIZE: u64 = 64;
/// Size of one ELF64 program header.
const PHDR_SIZE: u64 = 56;
/// Size of one ELF64 section header.
const SHDR_SIZE: u64 = 64;
/// Size of `elf_prstatus` on x86-64.
const PRSTATUS_SIZE: usize = 336;
/// Size of `elf_prpsinfo` on x86-64.
const PRPSINFO_SIZE: usize = 136;
/// Size of the FXSAVE area.
const FXSAVE_SIZE: usize = 512;

/// A stopped process that can be written as a core: its threads, registers
/// and memory (through the supertraits) and the few facts a core records
/// besides. Implemented by [`crate::core::CoreFile`] (re-dumping a core) and
/// by the live process.
pub trait CoreSource: Memory + ThreadState {
    /// The process id.
    fn pid(&self) -> Pid;

    /// The mappings to dump, in address order. The writer reads those with
    /// read or execute permission and writes the others as empty segments.
    fn mappings(&self) -> Vec<Mapping>;

    /// The auxiliary vector as (key, value) pairs, without `AT_NULL`.
    fn auxv(&self) -> Vec<(u64, u64)>;

    /// The process name (the kernel's `comm`, at most 15 bytes are kept).
    fn process_name(&self) -> String;

    /// The command line, arguments separated by spaces (at most 79 bytes
    /// are kept).
    fn command_line(&self) -> String;

    /// The thread to write first, which debuggers show as current (the one
    /// that stopped or crashed). `None`: the first of `threads()`.
    fn current_thread(&self) -> Option<Tid> {
        None
    }

    /// The signal `tid` is stopped with, recorded as its `pr_cursig`
    /// (0 when none).
    fn thread_signal(&self, tid: Tid) -> i32 {
        let _ = tid;
        0
    }

    /// The raw `siginfo_t` of the signal `tid` is stopped with
    /// (`PTRACE_GETSIGINFO`), written as its `NT_SIGINFO`; `None` to write
    /// none.
    fn siginfo(&self, tid: Tid) -> Option<Vec<u8>> {
        let _ = tid;
        None
    }
}

/// One thread's state, gathered before anything is written.
struct ThreadRecord {
    /// Thread id.
    tid: Tid,
    /// Its signal.
    signal: i32,
    /// General-purpose registers.
    registers: Registers,
    /// Floating-point state (may be empty).
    fp: FpRegisters,
    /// Raw `siginfo_t`, if any.
    siginfo: Option<Vec<u8>>,
}

/// Appends one note (name, type, descriptor), 4-byte aligned.
fn push_note(out: &mut Vec<u8>, name: &[u8], kind: u32, desc: &[u8]) {
    out.extend_from_slice(&(name.len() as u32 + 1).to_le_bytes());
    out.extend_from_slice(&(desc.len() as u32).to_le_bytes());
    out.extend_from_slice(&kind.to_le_bytes());
    out.extend_from_slice(name);
    out.push(0);
    out.resize(out.len().next_multiple_of(4), 0);
    out.extend_from_slice(desc);
    out.resize(out.len().next_multiple_of(4), 0);
}

/// Copies `text` into a fixed-size C string field, truncated to leave a NUL.
fn put_c_string(field: &mut [u8], text: &str) {
    let n = text.len().min(field.len() - 1);
    field[..n].copy_from_slice(&text.as_bytes()[..n]);
}

/// `elf_prpsinfo` for x86-64.
fn prpsinfo(pid: Pid, name: &str, args: &str) -> Vec<u8> {
    let mut d = vec![0u8; PRPSINFO_SIZE];
    d[1] = b'R'; // pr_sname
    d[24..28].copy_from_slice(&pid.to_le_bytes()); // pr_pid
    d[32..36].copy_from_slice(&pid.to_le_bytes()); // pr_pgrp
    d[36..40].copy_from_slice(&pid.to_le_bytes()); // pr_sid
    put_c_string(&mut d[40..56], name); // pr_fname
    put_c_string(&mut d[56..136], args); // pr_psargs
    d
}

/// `elf_prstatus` for x86-64.
fn prstatus(thread: &ThreadRecord) -> Vec<u8> {
    let mut d = vec![0u8; PRSTATUS_SIZE];
    d[0..4].copy_from_slice(&thread.signal.to_le_bytes()); // pr_info.si_signo
    d[12..14].copy_from_slice(&(thread.signal as u16).to_le_bytes()); // pr_cursig
    d[32..36].copy_from_slice(&thread.tid.to_le_bytes()); // pr_pid
    d[112..112 + crate::arch::amd64::REGISTERS_SIZE].copy_from_slice(&thread.registers.to_bytes()); // pr_reg
    let fp_valid = u32::from(thread.fp.raw.len() >= FXSAVE_SIZE);
    d[328..332].copy_from_slice(&fp_valid.to_le_bytes()); // pr_fpvalid
    d
}

/// `NT_FILE` for the file-backed mappings; `None` when there are none.
fn nt_file(mappings: &[Mapping]) -> Option<Vec<u8>> {
    let files: Vec<(&Mapping, &str)> = mappings
        .iter()
        .filter_map(|m| {
            Some((
                m,
                m.path
                    .as_deref()
                    .filter(|p| !p.is_empty() && !p.starts_with('['))?,
            ))
        })
        .collect();
    if files.is_empty() {
        return None;
    }
    let mut d = Vec::new();
    d.extend_from_slice(&(files.len() as u64).to_le_bytes());
    d.extend_from_slice(&PAGE.to_le_bytes());
    for (m, _) in &files {
        for word in [m.start, m.end, m.file_offset / PAGE] {
            d.extend_from_slice(&word.to_le_bytes());
        }
    }
    for (_, path) in &files {
        d.extend_from_slice(path.as_bytes());
        d.push(0);
    }
    Some(d)
}

/// The whole `PT_NOTE` segment.
fn build_notes(
    source: &impl CoreSource,
    threads: &[ThreadRecord],
    mappings: &[Mapping],
) -> Vec<u8> {
    let mut notes = Vec::new();
    let info = prpsinfo(source.pid(), &source.process_name(), &source.command_line());
    push_note(&mut notes, elf::ELF_NOTE_CORE, elf::NT_PRPSINFO, &info);
    for thread in threads {
        push_note(
            &mut notes,
            elf::ELF_NOTE_CORE,
            elf::NT_PRSTATUS,
            &prstatus(thread),
        );
        if thread.fp.raw.len() >= FXSAVE_SIZE {
            push_note(
                &mut notes,
                elf::ELF_NOTE_CORE,
                elf::NT_FPREGSET,
                &thread.fp.raw[..FXSAVE_SIZE],
            );
        }
        if thread.fp.raw.len() > FXSAVE_SIZE {
            push_note(
                &mut notes,
                elf::ELF_NOTE_LINUX,
                elf::NT_X86_XSTATE,
                &thread.fp.raw,
            );
        }
        if let Some(info) = &thread.siginfo {
            push_note(&mut notes, elf::ELF_NOTE_CORE, elf::NT_SIGINFO, info);
        }
    }
    let mut auxv: Vec<u8> = source
        .auxv()
        .iter()
        .flat_map(|&(k, v)| [k.to_le_bytes(), v.to_le_bytes()])
        .flatten()
        .collect();
    auxv.extend_from_slice(&[0u8; 16]); // AT_NULL
    push_note(&mut notes, elf::ELF_NOTE_CORE, elf::NT_AUXV, &auxv);
    if let Some(files) = nt_file(mappings) {
        push_note(&mut notes, elf::ELF_NOTE_CORE, elf::NT_FILE, &files);
    }
    notes
}

/// A file that is deleted when dropped unless kept.
struct TempFile {
    /// Its path.
    path: PathBuf,
    /// Set once renamed into place.
    kept: bool,
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if !self.kept {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Writes `data` at `offset`, skipping all-zero pages (left as holes).
fn write_sparse(file: &File, offset: u64, data: &[u8]) -> std::io::Result<()> {
    let mut run_start: Option<usize> = None;
    let mut at = 0usize;
    while at < data.len() {
        let end = (at + PAGE as usize).min(data.len());
        let zero = data[at..end].iter().all(|&b| b == 0);
        match (zero, run_start) {
            (false, None) => run_start = Some(at),
            (true, Some(start)) => {
                file.write_all_at(&data[start..at], offset + start as u64)?;
                run_start = None;
            }
            _ => {}
        }
        at = end;
    }
    if let Some(start) = run_start {
        file.write_all_at(&data[start..], offset + start as u64)?;
    }
    Ok(())
}

/// Reads as much of `buf` as can be read from its start: all of it, or,
/// when that fails, page by page up to the first unreadable page.
fn read_prefix(source: &impl CoreSource, addr: u64, buf: &mut [u8]) -> usize {
    if source.read_memory(addr, buf).is_ok() {
        return buf.len();
    }
    let mut done = 0usize;
    while done < buf.len() {
        let n = (buf.len() - done).min(PAGE as usize);
        if source
            .read_memory(addr + done as u64, &mut buf[done..done + n])
            .is_err()
        {
            break;
        }
        done += n;
    }
    done
}

/// Writes an ELF core of `source` to `out`.
///
/// The core is written to a temporary file next to `out` and renamed into
/// place at the end, so a failed or canceled dump leaves nothing behind.
/// `progress` is called as memory is copied with (bytes done, bytes
/// total); when it answers `false` the dump stops with
/// [`TargetError::DumpCanceled`]. Mappings that
/// cannot be read (such as `[vvar]`) are written as segments with no bytes,
/// and a mapping that becomes unreadable part-way keeps the bytes before.
pub fn write_core(
    out: &Path,
    source: &impl CoreSource,
    progress: &mut dyn FnMut(u64, u64) -> bool,
) -> Result<()> {
    let io = |source: std::io::Error| TargetError::Io {
        path: out.to_owned(),
        source,
    };

    // Threads, the current one first.
    let mut tids = source.threads();
    if let Some(current) = source.current_thread() {
        if let Some(i) = tids.iter().position(|&t| t == current) {
            let tid = tids.remove(i);
            tids.insert(0, tid);
        }
    }
    let mut threads = Vec::with_capacity(tids.len());
    for tid in tids {
        threads.push(ThreadRecord {
            tid,
            signal: source.thread_signal(tid),
            registers: source.registers(tid)?,
            fp: source.fp_registers(tid)?,
            siginfo: source.siginfo(tid),
        });
    }
    let mut mappings: Vec<Mapping> = source
        .mappings()
        .into_iter()
        .filter(|m| m.end > m.start)
        .collect();
    mappings.sort_by_key(|m| m.start);
    let notes = build_notes(source, &threads, &mappings);

    // Layout: header, program headers, notes, then page-aligned segment data.
    let phnum = 1 + mappings.len() as u64;
    let notes_offset = EHDR_SIZE + phnum * PHDR_SIZE;
    let data_start = (notes_offset + notes.len() as u64).next_multiple_of(PAGE);

    let name = out
        .file_name()
        .ok_or_else(|| io(std::io::Error::other("the output path has no file name")))?;
    let mut temp = TempFile {
        path: out.with_file_name(format!(
            ".{}.tmp-{}",
            name.to_string_lossy(),
            std::process::id()
        )),
        kept: false,
    };
    let file = File::create(&temp.path).map_err(|e| TargetError::Io {
        path: temp.path.clone(),
        source: e,
    })?;

    let readable = |m: &Mapping| m.perms.0 || m.perms.2;
    let total: u64 = mappings
        .iter()
        .filter(|m| readable(m))
        .map(|m| m.end - m.start)
        .sum();
    let mut done_total = 0u64;
    let mut report = |done: u64| {
        if progress(done, total) {
            Ok(())
        } else {
            Err(TargetError::DumpCanceled)
        }
    };
    report(0)?;
    let mut buf = vec![0u8; CHUNK];
    let mut phdrs = Vec::with_capacity(phnum as usize);
    phdrs.push(elf::ProgramHeader64::<LE> {
        p_type: U32::new(LE, elf::PT_NOTE),
        p_flags: U32::new(LE, 0),
        p_offset: U64::new(LE, notes_offset),
        p_vaddr: U64::new(LE, 0),
        p_paddr: U64::new(LE, 0),
        p_filesz: U64::new(LE, notes.len() as u64),
        p_memsz: U64::new(LE, 0),
        p_align: U64::new(LE, 4),
    });
    let mut offset = data_start;
    for m in &mappings {
        let size = m.end - m.start;
        let mut filesz = 0u64;
        if readable(m) {
            while filesz < size {
                let want = (size - filesz).min(CHUNK as u64) as usize;
                let got = read_prefix(source, m.start + filesz, &mut buf[..want]);
                write_sparse(&file, offset + filesz, &buf[..got]).map_err(io)?;
                filesz += got as u64;
                report(done_total + filesz)?;
                if got < want {
                    break;
                }
            }
            done_total += size;
        }
        let flags = if m.perms.0 { elf::PF_R } else { 0 }
            | if m.perms.1 { elf::PF_W } else { 0 }
            | if m.perms.2 { elf::PF_X } else { 0 };
        phdrs.push(elf::ProgramHeader64::<LE> {
            p_type: U32::new(LE, elf::PT_LOAD),
            p_flags: U32::new(LE, flags),
            p_offset: U64::new(LE, offset),
            p_vaddr: U64::new(LE, m.start),
            p_paddr: U64::new(LE, 0),
            p_filesz: U64::new(LE, filesz),
            p_memsz: U64::new(LE, size),
            p_align: U64::new(LE, PAGE),
        });
        offset += filesz.next_multiple_of(PAGE);
    }
    report(total)?;

    // More than 65534 program headers: the count goes in section 0.
    let extended = phnum >= u64::from(elf::PN_XNUM);
    let mut end = offset;
    if extended {
        let shdr = elf::SectionHeader64::<LE> {
            sh_name: U32::new(LE, 0),
            sh_type: U32::new(LE, elf::SHT_NULL),
            sh_flags: U64::new(LE, 0),
            sh_addr: U64::new(LE, 0),
            sh_offset: U64::new(LE, 0),
            sh_size: U64::new(LE, 0),
            sh_link: U32::new(LE, 0),
            sh_info: U32::new(LE, phnum as u32),
            sh_addralign: U64::new(LE, 0),
            sh_entsize: U64::new(LE, 0),
        };
        file.write_all_at(object::bytes_of(&shdr), offset)
            .map_err(io)?;
        end += SHDR_SIZE;
    }
    let header = elf::FileHeader64::<LE> {
        e_ident: elf::Ident {
            magic: elf::ELFMAG,
            class: elf::ELFCLASS64,
            data: elf::ELFDATA2LSB,
            version: elf::EV_CURRENT,
            os_abi: elf::ELFOSABI_NONE,
            abi_version: 0,
            padding: [0; 7],
        },
        e_type: U16::new(LE, elf::ET_CORE),
        e_machine: U16::new(LE, elf::EM_X86_64),
        e_version: U32::new(LE, u32::from(elf::EV_CURRENT)),
        e_entry: U64::new(LE, 0),
        e_phoff: U64::new(LE, EHDR_SIZE),
        e_shoff: U64::new(LE, if extended { offset } else { 0 }),
        e_flags: U32::new(LE, 0),
        e_ehsize: U16::new(LE, EHDR_SIZE as u16),
        e_phentsize: U16::new(LE, PHDR_SIZE as u16),
        e_phnum: U16::new(LE, if extended { elf::PN_XNUM } else { phnum as u16 }),
        e_shentsize: U16::new(LE, if extended { SHDR_SIZE as u16 } else { 0 }),
        e_shnum: U16::new(LE, u16::from(extended)),
        e_shstrndx: U16::new(LE, elf::SHN_UNDEF),
    };
    let mut head = Vec::with_capacity(notes_offset as usize + notes.len());
    head.extend_from_slice(object::bytes_of(&header));
    head.extend_from_slice(object::bytes_of_slice(&phdrs));
    head.extend_from_slice(&notes);
    file.write_all_at(&head, 0).map_err(io)?;
    file.set_len(end).map_err(io)?;
    drop(file);
    std::fs::rename(&temp.path, out).map_err(io)?;
    temp.kept = true;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::CoreFile;

    /// A made-up process: one thread, `count` inaccessible one-page
    /// mappings and one readable page holding a marker after them.
    struct Fake {
        /// Number of inaccessible mappings.
        count: u64,
    }

    /// Where the fake mappings start.
    const BASE: u64 = 0x1000_0000;
    /// The marker in the readable page.
    const MARKER: u64 = 0xfeed_face_cafe_beef;

    impl Fake {
        fn readable_page(&self) -> u64 {
            BASE + 2 * PAGE * self.count
        }
    }

    impl Memory for Fake {
        fn read_memory(&self, addr: u64, buf: &mut [u8]) -> Result<()> {
            let page = self.readable_page();
            if addr < page || addr + buf.len() as u64 > page + PAGE {
                return Err(TargetError::Memory {
                    op: "read",
                    addr,
                    len: buf.len(),
                    detail: "unmapped".into(),
                });
            }
            for (i, b) in buf.iter_mut().enumerate() {
                let at = addr - page + i as u64;
                *b = if at < 8 {
                    MARKER.to_le_bytes()[at as usize]
                } else {
                    0
                };
            }
            Ok(())
        }
    }

    impl ThreadState for Fake {
        fn threads(&self) -> Vec<Tid> {
            vec![42]
        }
        fn registers(&self, _: Tid) -> Result<Registers> {
            Ok(Registers {
                rip: 0x1234,
                rsp: 0x5678,
                ..Registers::default()
            })
        }
        fn fp_registers(&self, _: Tid) -> Result<FpRegisters> {
            Ok(FpRegisters { raw: vec![7; 512] })
        }
    }

    impl CoreSource for Fake {
        fn pid(&self) -> Pid {
            42
        }
        fn mappings(&self) -> Vec<Mapping> {
            let mut maps: Vec<Mapping> = (0..self.count)
                .map(|i| Mapping {
                    start: BASE + 2 * PAGE * i,
                    end: BASE + 2 * PAGE * i + PAGE,
                    file_offset: 0,
                    path: None,
                    perms: (false, false, false),
                })
                .collect();
            let page = self.readable_page();
            maps.push(Mapping {
                start: page,
                end: page + PAGE,
                file_offset: 0,
                path: None,
                perms: (true, true, false),
            });
            maps
        }
        fn auxv(&self) -> Vec<(u64, u64)> {
            vec![(6, 4096)]
        }
        fn process_name(&self) -> String {
            "a-rather-long-process-name".into()
        }
        fn command_line(&self) -> String {
            "fake --flag".into()
        }
    }

    /// Writes `fake` and opens the result.
    fn round_trip(fake: &Fake, name: &str) -> CoreFile {
        let dir = std::env::temp_dir().join(format!("ferret-writer-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let out = dir.join("fake.core");
        write_core(&out, fake, &mut |_, _| true).unwrap();
        let exe = std::env::current_exe().unwrap();
        let core = CoreFile::open(&out, &exe, true).unwrap();
        let _ = std::fs::remove_dir_all(&dir);
        core
    }

    #[test]
    fn a_small_core_round_trips() {
        let fake = Fake { count: 3 };
        let core = round_trip(&fake, "small");
        assert_eq!(core.pid(), 42);
        assert_eq!(ThreadState::threads(&core), vec![42]);
        assert_eq!(core.registers(42).unwrap(), fake.registers(42).unwrap());
        assert_eq!(
            core.fp_registers(42).unwrap(),
            fake.fp_registers(42).unwrap()
        );
        assert_eq!(core.process_name(), "a-rather-long-p");
        assert_eq!(core.command_line(), "fake --flag");
        assert_eq!(core.auxv(), &[(6, 4096)]);
        assert_eq!(core.mappings().len(), 4);
        let mut word = [0u8; 8];
        core.read_memory(fake.readable_page(), &mut word).unwrap();
        assert_eq!(u64::from_le_bytes(word), MARKER);
        assert!(core.read_memory(BASE, &mut word).is_err());
    }

    #[test]
    fn more_than_65535_segments_use_extended_numbering() {
        let fake = Fake { count: 70_000 };
        let core = round_trip(&fake, "many");
        assert_eq!(core.mappings().len(), 70_001);
        let mut word = [0u8; 8];
        core.read_memory(fake.readable_page(), &mut word).unwrap();
        assert_eq!(u64::from_le_bytes(word), MARKER);
    }

    #[test]
    fn a_canceled_dump_stops_and_leaves_nothing() {
        let fake = Fake { count: 3 };
        let dir = std::env::temp_dir().join(format!("ferret-writer-{}-cancel", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let out = dir.join("fake.core");
        let mut calls = 0;
        let err = write_core(&out, &fake, &mut |_, _| {
            calls += 1;
            calls < 2
        })
        .unwrap_err();
        assert!(matches!(err, TargetError::DumpCanceled), "{err}");
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0, "no file left");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
