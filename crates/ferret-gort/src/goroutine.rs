//! Goroutines as the Go runtime keeps them: `runtime.allgs` holds every
//! `runtime.g` ever made, and each thread's TLS slot points at the `g` it
//! runs. Every offset comes from the binary's DWARF (see [`RuntimeLayout`]),
//! so one code path reads Go 1.21 through 1.27 alike; what is read comes
//! through [`Memory`], so a live process and a core are read the same way.

use ferret_target::{Memory, PrefetchedMemory};

use crate::bininfo::{BinaryInfo, StructLayout, TypeName};
use crate::error::{BinaryError, Result};

/// `_Gdead`: a `g` kept for reuse, not a goroutine.
pub const STATUS_DEAD: u32 = 6;
/// `_Gdeadextra` (1.26+): a dead `g` parked on an extra M for cgo callbacks.
pub const STATUS_DEAD_EXTRA: u32 = 11;
/// `_Grunning`.
pub const STATUS_RUNNING: u32 = 2;
/// `_Gsyscall`.
pub const STATUS_SYSCALL: u32 = 3;
/// `_Gwaiting`.
pub const STATUS_WAITING: u32 = 4;
/// The `_Gscan` bit, set while the GC scans a stack.
const STATUS_SCAN_BIT: u32 = 0x1000;

/// Byte offsets of the `runtime.g` fields ferret reads.
#[derive(Debug, Clone, Copy)]
struct GFields {
    size: u64,
    goid: u64,
    status: u64,
    wait_reason: u64,
    wait_since: u64,
    sched_pc: u64,
    sched_sp: u64,
    sched_bp: Option<u64>,
    stack_lo: u64,
    stack_hi: u64,
    m: u64,
    gopc: u64,
    startpc: u64,
    parent_goid: Option<u64>,
    labels: Option<u64>,
}

/// Byte offsets of the `runtime.m` fields ferret reads.
#[derive(Debug, Clone, Copy)]
struct MFields {
    procid: u64,
    curg: u64,
}

/// How `g.labels` is laid out (pprof labels).
#[derive(Debug, Clone)]
enum LabelsLayout {
    /// The program has no pprof labels type (it does not import
    /// `runtime/pprof`): there are none.
    Absent,
    /// Go 1.24+: a struct holding a slice of `{key, value string}` at
    /// `slice_offset`, elements `element_size` bytes apart.
    List {
        slice_offset: u64,
        element_size: u64,
        key: u64,
        value: u64,
    },
    /// Go 1.21–1.23: `map[string]string` (classic hash map).
    Map(MapLayout),
}

/// The classic `runtime.hmap` for `map[string]string`.
#[derive(Debug, Clone, Copy)]
struct MapLayout {
    log2_buckets: u64,
    buckets: u64,
    bucket_size: u64,
    keys: u64,
    elems: u64,
    overflow: u64,
}

/// Where the runtime keeps what ferret reads, for one binary.
#[derive(Debug, Clone)]
pub struct RuntimeLayout {
    g: GFields,
    m: MFields,
    allgs: u64,
    allglen: u64,
    wait_reasons: Option<(u64, usize)>,
    labels: LabelsLayout,
    ancestors: Option<AncestorsLayout>,
    defers: Option<DeferLayout>,
}

/// Where the runtime keeps a goroutine's pending deferred calls: the list
/// at `g._defer` of `runtime._defer` records.
#[derive(Debug, Clone, Copy)]
struct DeferLayout {
    /// `g._defer`.
    field: u64,
    /// `_defer.fn`: a `func()` (a pointer to a closure whose first word is
    /// the code's address).
    func: u64,
    /// `_defer.pc`: where the `defer` statement registered it.
    pc: u64,
    /// `_defer.sp`: the registering frame's stack pointer.
    sp: u64,
    /// `_defer.link`: the next (older) record.
    link: u64,
    /// The size of a `_defer` record.
    size: u64,
    /// Where `_defer.head` leads to the records of a range-over-func loop
    /// body (Go 1.23+): the offset of `head` in `_defer` and of the pointer
    /// inside the atomic pointer it points at.
    rangefunc_head: Option<(u64, u64)>,
}

/// One deferred call that has not run yet.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Defer {
    /// The code the call runs: the deferred function or, since Go 1.17,
    /// a compiler-made wrapper calling it.
    pub function_pc: u64,
    /// Where the `defer` statement registered it (a return address).
    pub defer_pc: u64,
    /// The stack pointer of the frame that deferred it.
    pub sp: u64,
    /// The address just past the `_defer` record, where Go once kept the
    /// call's arguments; Delve's scope of a deferred call starts there.
    pub end: u64,
    /// Why the record could not be read (the list ends there).
    pub unreadable: Option<String>,
    /// Calls deferred in the body of a range-over-func loop, which the
    /// runtime keeps behind this record (newest first).
    pub rangefunc: Vec<Defer>,
}

/// Where the runtime records a goroutine's creators
/// (`GODEBUG=tracebackancestors=N`).
#[derive(Debug, Clone, Copy)]
struct AncestorsLayout {
    /// `g.ancestors`: a pointer to a `[]runtime.ancestorInfo`.
    field: u64,
    /// Address of `runtime.debug.tracebackancestors` (an int32).
    enabled: u64,
    /// `runtime.ancestorInfo`: size, and offsets of `pcs` and `goid`.
    size: u64,
    pcs: u64,
    goid: u64,
}

/// One creator of a goroutine, as the runtime recorded it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ancestor {
    /// Its goroutine id.
    pub id: i64,
    /// The PCs of its stack when it made the next one (return addresses).
    pub pcs: Vec<u64>,
    /// How many PCs there are in all (`pcs` may be cut short).
    pub total_pcs: usize,
}

/// One goroutine, as read from its `runtime.g`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct G {
    /// Index in `runtime.allgs` (Delve pages listings by it).
    pub index: usize,
    /// Address of the `runtime.g`.
    pub addr: u64,
    /// Goroutine id (0 for g0 and gsignal).
    pub id: i64,
    /// Status with the scan bit cleared (see `runtime/runtime2.go`).
    pub status: u32,
    /// Whether the GC was scanning its stack.
    pub scanning: bool,
    /// Wait reason number (meaningful while waiting).
    pub wait_reason: u8,
    /// `nanotime` when it started waiting, 0 when unknown.
    pub wait_since: i64,
    /// Saved PC, SP and BP (valid while not running).
    pub sched_pc: u64,
    /// See `sched_pc`.
    pub sched_sp: u64,
    /// See `sched_pc`.
    pub sched_bp: u64,
    /// Stack bounds.
    pub stack_lo: u64,
    /// See `stack_lo`.
    pub stack_hi: u64,
    /// The `runtime.m` running it (0: none).
    pub m: u64,
    /// The OS thread id of `m` (0 when no M).
    pub thread_id: i64,
    /// PC of the `go` statement that created it (a return address).
    pub gopc: u64,
    /// Entry PC of its start function.
    pub startpc: u64,
    /// Id of the goroutine that created it, where the runtime records it.
    pub parent_id: i64,
    /// The pointer behind `g.labels` (0: no labels).
    pub labels_addr: u64,
    /// Why the `runtime.g` could not be read (every other field is then
    /// zero but `index` and `addr`).
    pub unreadable: Option<String>,
}

/// The first member of `layout` called one of `names`.
fn member_offset(layout: &StructLayout, names: &[&str]) -> Option<u64> {
    names
        .iter()
        .find_map(|n| layout.member(n))
        .map(|m| m.offset)
}

/// `outer.inner`, where `inner` is a member of the struct type of `outer`.
fn nested_offset(
    bi: &BinaryInfo,
    layout: &StructLayout,
    outer: &str,
    inner: &str,
) -> Result<Option<u64>> {
    let Some(member) = layout.member(outer) else {
        return Ok(None);
    };
    let Some(sub) = bi.struct_layout(&member.type_name)? else {
        return Ok(None);
    };
    Ok(member_offset(&sub, &[inner]).map(|o| member.offset + o))
}

impl RuntimeLayout {
    /// Reads the layout from `bi`'s DWARF and symbols. Fails when the binary
    /// does not describe the runtime's goroutine structures.
    pub fn new(bi: &BinaryInfo) -> Result<RuntimeLayout> {
        let missing = |what: &str| BinaryError::RuntimeMissing {
            what: what.to_owned(),
        };
        let g = bi
            .struct_layout("runtime.g")?
            .ok_or_else(|| missing("the type runtime.g"))?;
        let field = |name: &str| {
            member_offset(&g, &[name]).ok_or_else(|| missing(&format!("runtime.g.{name}")))
        };
        let nested = |outer: &str, inner: &str| {
            nested_offset(bi, &g, outer, inner)?
                .ok_or_else(|| missing(&format!("runtime.g.{outer}.{inner}")))
        };
        let g_fields = GFields {
            size: g.size,
            goid: field("goid")?,
            status: nested("atomicstatus", "value").or_else(|_| field("atomicstatus"))?,
            wait_reason: field("waitreason")?,
            wait_since: field("waitsince")?,
            sched_pc: nested("sched", "pc")?,
            sched_sp: nested("sched", "sp")?,
            sched_bp: nested_offset(bi, &g, "sched", "bp")?,
            stack_lo: nested("stack", "lo")?,
            stack_hi: nested("stack", "hi")?,
            m: field("m")?,
            gopc: field("gopc")?,
            startpc: field("startpc")?,
            parent_goid: member_offset(&g, &["parentGoid"]),
            labels: member_offset(&g, &["labels"]),
        };
        let m = bi
            .struct_layout("runtime.m")?
            .ok_or_else(|| missing("the type runtime.m"))?;
        let m_fields = MFields {
            procid: member_offset(&m, &["procid"]).ok_or_else(|| missing("runtime.m.procid"))?,
            curg: member_offset(&m, &["curg"]).ok_or_else(|| missing("runtime.m.curg"))?,
        };
        let symbol = |name: &str| bi.symbols().iter().find(|s| s.name == name);
        let allgs = symbol("runtime.allgs")
            .ok_or_else(|| missing("runtime.allgs"))?
            .address;
        let allglen = symbol("runtime.allglen")
            .ok_or_else(|| missing("runtime.allglen"))?
            .address;
        let wait_reasons =
            symbol("runtime.waitReasonStrings").map(|s| (s.address, (s.size / 16) as usize));
        Ok(RuntimeLayout {
            g: g_fields,
            m: m_fields,
            allgs,
            allglen,
            wait_reasons,
            labels: labels_layout(bi)?,
            ancestors: ancestors_layout(bi, &g)?,
            defers: defer_layout(bi, &g)?,
        })
    }

    /// Every goroutine in `runtime.allgs` except dead ones. A `g` that
    /// cannot be read is listed with [`G::unreadable`] set (a corrupted heap
    /// must not hide the rest).
    pub fn goroutines(&self, mem: &dyn Memory) -> Result<Vec<G>> {
        Ok(self.goroutines_from(mem, 0, usize::MAX)?.0)
    }

    /// At most `want` goroutines (dead ones skipped, unreadable ones
    /// listed) from index `start` of `runtime.allgs`, and the index of the
    /// live one after them (`None`: no more). Reads only as far as it
    /// must: the first page of 100,000 goroutines costs a page of reads.
    pub fn goroutines_from(
        &self,
        mem: &dyn Memory,
        start: usize,
        want: usize,
    ) -> Result<(Vec<G>, Option<usize>)> {
        let count = read_u64(mem, self.allglen, "runtime.allglen")?;
        let array = read_u64(mem, self.allgs, "runtime.allgs")?;
        if count > 1 << 28 {
            return Err(BinaryError::Memory {
                what: "runtime.allglen".into(),
                detail: format!("implausible goroutine count {count}"),
            });
        }
        let size = self.g.size as usize;
        let mut out = Vec::with_capacity(want.min(count as usize));
        let mut pointers = vec![0u8; G_BATCH * 8];
        let mut bytes = vec![0u8; G_BATCH * size];
        for batch_start in (start..count as usize).step_by(G_BATCH) {
            let batch_len = G_BATCH.min(count as usize - batch_start);
            let pointers = &mut pointers[..batch_len * 8];
            mem.read_memory(array + batch_start as u64 * 8, pointers)
                .map_err(|e| BinaryError::Memory {
                    what: "runtime.allgs".into(),
                    detail: e.to_string(),
                })?;
            let addrs: Vec<(usize, u64)> = pointers
                .chunks_exact(8)
                .map(|chunk| u64::from_le_bytes(chunk.try_into().expect("8 bytes")))
                .enumerate()
                .map(|(i, addr)| (batch_start + i, addr))
                .filter(|&(_, addr)| addr != 0)
                .collect();
            let mut reads: Vec<(u64, &mut [u8])> = addrs
                .iter()
                .map(|&(_, addr)| addr)
                .zip(bytes.chunks_exact_mut(size))
                .collect();
            let results = mem.read_each(&mut reads);
            for ((&(index, addr), result), buf) in
                addrs.iter().zip(results).zip(bytes.chunks_exact(size))
            {
                // A damaged entry is listed as unreadable; the rest go on.
                let g = match result {
                    Err(e) => G {
                        index,
                        addr,
                        unreadable: Some(e.to_string()),
                        ..G::default()
                    },
                    Ok(()) => G {
                        index,
                        ..self.decode_g(addr, buf, mem)
                    },
                };
                if g.unreadable.is_none()
                    && (g.status == STATUS_DEAD || g.status == STATUS_DEAD_EXTRA)
                {
                    continue;
                }
                if out.len() == want {
                    return Ok((out, Some(index)));
                }
                out.push(g);
            }
        }
        Ok((out, None))
    }

    /// Reads the `runtime.g` at `addr`.
    pub fn read_g(&self, mem: &dyn Memory, addr: u64) -> Result<G> {
        let mut buf = vec![0u8; self.g.size as usize];
        mem.read_memory(addr, &mut buf)
            .map_err(|e| BinaryError::Memory {
                what: format!("runtime.g at {addr:#x}"),
                detail: e.to_string(),
            })?;
        Ok(self.decode_g(addr, &buf, mem))
    }

    fn decode_g(&self, addr: u64, buf: &[u8], mem: &dyn Memory) -> G {
        let f = &self.g;
        let word = |offset: u64| field_u64(buf, offset);
        let raw_status = field_u32(buf, f.status);
        let m = word(f.m);
        let thread_id = if m != 0 {
            read_u64(mem, m + self.m.procid, "m.procid").unwrap_or(0) as i64
        } else {
            0
        };
        G {
            index: 0,
            addr,
            id: word(f.goid) as i64,
            status: raw_status & !STATUS_SCAN_BIT,
            scanning: raw_status & STATUS_SCAN_BIT != 0,
            wait_reason: buf.get(f.wait_reason as usize).copied().unwrap_or(0),
            wait_since: word(f.wait_since) as i64,
            sched_pc: word(f.sched_pc),
            sched_sp: word(f.sched_sp),
            sched_bp: f.sched_bp.map_or(0, word),
            stack_lo: word(f.stack_lo),
            stack_hi: word(f.stack_hi),
            m,
            thread_id,
            gopc: word(f.gopc),
            startpc: word(f.startpc),
            parent_id: f.parent_goid.map_or(0, word) as i64,
            labels_addr: f.labels.map_or(0, word),
            unreadable: None,
        }
    }

    /// The goroutine a thread runs, from the `g` in its TLS slot (the word
    /// below `fs_base` on linux/amd64). On a system stack (g0, gsignal)
    /// this is the user goroutine the M was running (`m.curg`), with
    /// `true`; `None` when the thread runs no goroutine.
    pub fn goroutine_of_thread(&self, mem: &dyn Memory, fs_base: u64) -> Option<(G, bool)> {
        if fs_base < 8 {
            return None;
        }
        let addr = read_u64(mem, fs_base - 8, "TLS g")
            .ok()
            .filter(|&a| a != 0)?;
        let g = self.read_g(mem, addr).ok()?;
        if g.id != 0 {
            return Some((g, false));
        }
        let curg = read_u64(mem, g.m.checked_add(self.m.curg)?, "m.curg")
            .ok()
            .filter(|&a| a != 0)?;
        Some((self.read_g(mem, curg).ok()?, true))
    }

    /// The creators of `g`, newest first, at most `max` of them with at most
    /// `max_pcs` PCs each; `None` when the runtime does not record them
    /// (`GODEBUG=tracebackancestors` unset or 0).
    pub fn ancestors(
        &self,
        mem: &dyn Memory,
        g: &G,
        max: usize,
        max_pcs: usize,
    ) -> Result<Option<Vec<Ancestor>>> {
        let Some(layout) = self.ancestors else {
            return Ok(None);
        };
        let mut enabled = [0u8; 4];
        mem.read_memory(layout.enabled, &mut enabled)
            .map_err(|e| BinaryError::Memory {
                what: "runtime.debug".into(),
                detail: e.to_string(),
            })?;
        if i32::from_le_bytes(enabled) == 0 {
            return Ok(None);
        }
        let slice = read_u64(mem, g.addr + layout.field, "g.ancestors")?;
        if slice == 0 {
            return Ok(Some(Vec::new()));
        }
        let array = read_u64(mem, slice, "ancestors")?;
        let len = read_u64(mem, slice + 8, "ancestors")?.min(max as u64);
        let mut out = Vec::new();
        for i in 0..len {
            let info = array + i * layout.size;
            let pcs_array = read_u64(mem, info + layout.pcs, "ancestor pcs")?;
            let total = read_u64(mem, info + layout.pcs + 8, "ancestor pcs")?;
            let mut bytes = vec![0u8; total.min(max_pcs as u64) as usize * 8];
            mem.read_memory(pcs_array, &mut bytes)
                .map_err(|e| BinaryError::Memory {
                    what: "ancestor pcs".into(),
                    detail: e.to_string(),
                })?;
            out.push(Ancestor {
                id: read_u64(mem, info + layout.goid, "ancestor goid")? as i64,
                pcs: bytes
                    .chunks_exact(8)
                    .map(|c| u64::from_le_bytes(c.try_into().expect("8 bytes")))
                    .collect(),
                total_pcs: total as usize,
            });
        }
        Ok(Some(out))
    }

    /// The deferred calls of `g` that have not run yet, newest first, at
    /// most `max` of them. A record that cannot be read, or whose stack
    /// pointer is below the previous one's (the list is ordered by frame),
    /// ends the list marked unreadable.
    pub fn defers(&self, mem: &dyn Memory, g: &G, max: usize) -> Vec<Defer> {
        let Some(layout) = self.defers else {
            return Vec::new();
        };
        let mut out: Vec<Defer> = Vec::new();
        let mut next = read_u64(mem, g.addr + layout.field, "g._defer").unwrap_or(0);
        while next != 0 && out.len() < max {
            let (mut record, link) = read_defer(mem, &layout, next);
            if record.unreadable.is_none() && out.last().is_some_and(|p| record.sp < p.sp) {
                record.unreadable = Some("corrupted defer list: SP decreased".into());
            }
            if record.unreadable.is_none() {
                record.rangefunc = rangefunc_defers(mem, &layout, next);
            }
            let stop = record.unreadable.is_some();
            out.push(record);
            if stop {
                break;
            }
            next = link;
        }
        out
    }

    /// The wait-reason names, read from the target's own
    /// `runtime.waitReasonStrings` (so every Go version names them right).
    pub fn wait_reason_names(&self, mem: &dyn Memory) -> Vec<String> {
        let Some((addr, count)) = self.wait_reasons else {
            return Vec::new();
        };
        (0..count as u64)
            .map(|i| read_string(mem, addr + i * 16).unwrap_or_default())
            .collect()
    }

    /// Reads ahead into `mem` what [`RuntimeLayout::labels`] will read for
    /// each of `gs` (list layout: the lists, their elements and their
    /// strings, each for all goroutines at once), so a listing costs a few
    /// batches of reads instead of several reads per labelled goroutine.
    pub fn prefetch_labels(&self, mem: &mut PrefetchedMemory<'_>, gs: &[G]) {
        let LabelsLayout::List {
            slice_offset,
            element_size,
            key,
            value,
        } = self.labels
        else {
            return;
        };
        let headers: Vec<u64> = gs
            .iter()
            .filter(|g| g.labels_addr != 0)
            .map(|g| g.labels_addr + slice_offset)
            .collect();
        mem.extend(&headers.iter().map(|&h| (h, 16)).collect::<Vec<_>>());
        let lists: Vec<(u64, u64)> = headers
            .iter()
            .filter_map(|&h| pointer_and_len(mem, h))
            .map(|(array, len)| (array, len.min(MAX_LABELS)))
            .filter(|&(_, len)| len > 0)
            .collect();
        let arrays: Vec<(u64, usize)> = lists
            .iter()
            .map(|&(array, len)| (array, (len * element_size) as usize))
            .collect();
        mem.extend(&arrays);
        let strings: Vec<(u64, usize)> = lists
            .iter()
            .flat_map(|&(array, len)| (0..len).map(move |i| array + i * element_size))
            .flat_map(|element| [element + key, element + value])
            .filter_map(|s| pointer_and_len(mem, s))
            .filter(|&(_, len)| len > 0)
            .map(|(data, len)| (data, len.min(MAX_STRING) as usize))
            .collect();
        mem.extend(&strings);
    }

    /// The pprof labels of `g`, in the runtime's order.
    pub fn labels(&self, mem: &dyn Memory, g: &G) -> Vec<(String, String)> {
        if g.labels_addr == 0 {
            return Vec::new();
        }
        match &self.labels {
            LabelsLayout::Absent => Vec::new(),
            LabelsLayout::List {
                slice_offset,
                element_size,
                key,
                value,
            } => {
                let base = g.labels_addr + slice_offset;
                let (Ok(array), Ok(len)) = (
                    read_u64(mem, base, "labels"),
                    read_u64(mem, base + 8, "labels"),
                ) else {
                    return Vec::new();
                };
                (0..len.min(MAX_LABELS))
                    .filter_map(|i| {
                        let at = array + i * element_size;
                        Some((read_string(mem, at + key)?, read_string(mem, at + value)?))
                    })
                    .collect()
            }
            // `g.labels` points at a `labelMap` variable, itself a map
            // (a pointer to the hash map's header).
            LabelsLayout::Map(map) => match read_u64(mem, g.labels_addr, "labels") {
                Ok(hmap) if hmap != 0 => read_string_map(mem, map, hmap),
                _ => Vec::new(),
            },
        }
    }
}

/// The two words at `addr`: a slice's or string's pointer and length.
fn pointer_and_len(mem: &dyn Memory, addr: u64) -> Option<(u64, u64)> {
    Some((mem.read_u64(addr).ok()?, mem.read_u64(addr + 8).ok()?))
}

/// How many `runtime.g` are read per [`Memory::read_each`].
const G_BATCH: usize = 1024;

/// At most this many labels are read per goroutine (a guard against
/// corrupted lengths).
const MAX_LABELS: u64 = 64;

/// At most this many records of a range-over-func loop body are read per
/// deferred call (a guard against a damaged list, as in Delve).
const MAX_RANGEFUNC_DEFERS: usize = 11;

/// The `_defer` record at `addr` and the address of the next one.
fn read_defer(mem: &dyn Memory, layout: &DeferLayout, addr: u64) -> (Defer, u64) {
    let read = |offset: u64, what: &str| read_u64(mem, addr + offset, what);
    let fields = (|| -> Result<(Defer, u64)> {
        let closure = read(layout.func, "_defer.fn")?;
        let function_pc = if closure == 0 {
            0
        } else {
            read_u64(mem, closure, "deferred closure")?
        };
        let record = Defer {
            function_pc,
            defer_pc: read(layout.pc, "_defer.pc")?,
            sp: read(layout.sp, "_defer.sp")?,
            end: addr + layout.size,
            ..Defer::default()
        };
        Ok((record, read(layout.link, "_defer.link")?))
    })();
    fields.unwrap_or_else(|e| {
        (
            Defer {
                unreadable: Some(e.to_string()),
                ..Defer::default()
            },
            0,
        )
    })
}

/// The records a range-over-func loop body deferred, kept behind the
/// record at `addr` (`_defer.head`), newest first.
fn rangefunc_defers(mem: &dyn Memory, layout: &DeferLayout, addr: u64) -> Vec<Defer> {
    let Some((head, pointer)) = layout.rangefunc_head else {
        return Vec::new();
    };
    let mut next = match read_u64(mem, addr + head, "_defer.head") {
        Ok(atomic) if atomic != 0 => read_u64(mem, atomic + pointer, "_defer.head").unwrap_or(0),
        _ => 0,
    };
    let mut out = Vec::new();
    while next != 0 && out.len() < MAX_RANGEFUNC_DEFERS {
        let (record, link) = read_defer(mem, layout, next);
        out.push(record);
        next = link;
    }
    out
}

/// Where deferred calls are kept, when the binary describes `_defer`.
fn defer_layout(bi: &BinaryInfo, g: &StructLayout) -> Result<Option<DeferLayout>> {
    let Some(field) = member_offset(g, &["_defer"]) else {
        return Ok(None);
    };
    let Some(record) = bi.struct_layout("runtime._defer")? else {
        return Ok(None);
    };
    let (Some(func), Some(pc), Some(sp), Some(link)) = (
        member_offset(&record, &["fn"]),
        member_offset(&record, &["pc"]),
        member_offset(&record, &["sp"]),
        member_offset(&record, &["link"]),
    ) else {
        return Ok(None);
    };
    // head: *atomic.Pointer[_defer] { u: UnsafePointer { value } } (the
    // runtime's internal atomics) or { v } (sync/atomic's).
    let rangefunc_head = match record.member("head") {
        Some(head) => {
            let pointee = head.type_name.trim_start_matches('*');
            match bi.struct_layout(pointee)? {
                Some(atomic) => match atomic.member("u") {
                    Some(u) => bi
                        .struct_layout(&u.type_name)?
                        .and_then(|inner| member_offset(&inner, &["value"]))
                        .map(|value| (head.offset, u.offset + value)),
                    None => member_offset(&atomic, &["v"]).map(|v| (head.offset, v)),
                },
                None => None,
            }
        }
        None => None,
    };
    Ok(Some(DeferLayout {
        field,
        func,
        pc,
        sp,
        link,
        size: record.size,
        rangefunc_head,
    }))
}

/// Where ancestors are recorded, when the binary describes it all.
fn ancestors_layout(bi: &BinaryInfo, g: &StructLayout) -> Result<Option<AncestorsLayout>> {
    let Some(field) = member_offset(g, &["ancestors"]) else {
        return Ok(None);
    };
    let Some(info) = bi.struct_layout("runtime.ancestorInfo")? else {
        return Ok(None);
    };
    let (Some(pcs), Some(goid)) = (
        member_offset(&info, &["pcs"]),
        member_offset(&info, &["goid"]),
    ) else {
        return Ok(None);
    };
    // `runtime.debug` is an anonymous struct: find its type by the field.
    let Some(debug) = bi
        .symbols()
        .iter()
        .find(|s| s.name == "runtime.debug")
        .map(|s| s.address)
    else {
        return Ok(None);
    };
    // It is described in the runtime's unit; every unit is searched only
    // if not.
    let is_debug =
        |t: &TypeName| t.name.starts_with("struct {") && t.name.contains("tracebackancestors");
    let debug_type = match bi.types_in_package("runtime")?.into_iter().find(is_debug) {
        Some(t) => Some(t),
        None => bi.types()?.into_iter().find(is_debug),
    };
    let Some(debug_type) = debug_type else {
        return Ok(None);
    };
    let Some(debug_layout) = bi.struct_layout(&debug_type.name)? else {
        return Ok(None);
    };
    let Some(enabled) = member_offset(
        &debug_layout,
        &["tracebackancestors", "runtime.tracebackancestors"],
    ) else {
        return Ok(None);
    };
    Ok(Some(AncestorsLayout {
        field,
        enabled: debug + enabled,
        size: info.size,
        pcs,
        goid,
    }))
}

/// The layout behind `g.labels`, from the `runtime/pprof.labelMap` type.
fn labels_layout(bi: &BinaryInfo) -> Result<LabelsLayout> {
    // Labels are set through runtime/pprof: without it there are none.
    if !bi.has_package("runtime/pprof") {
        return Ok(LabelsLayout::Absent);
    }
    let Some(label_map) = bi.struct_layout("runtime/pprof.labelMap")? else {
        // Up to 1.23 labelMap is a map type, not a struct.
        return Ok(
            match bi
                .struct_layout("bucket<string,string>")?
                .zip(bi.struct_layout("runtime.hmap")?)
            {
                Some((bucket, hmap))
                    if bi
                        .types()?
                        .iter()
                        .any(|t| t.name == "runtime/pprof.labelMap") =>
                {
                    match (
                        member_offset(&hmap, &["B"]),
                        member_offset(&hmap, &["buckets"]),
                        member_offset(&bucket, &["keys"]),
                        member_offset(&bucket, &["elems", "values"]),
                        member_offset(&bucket, &["overflow"]),
                    ) {
                        (
                            Some(log2_buckets),
                            Some(buckets),
                            Some(keys),
                            Some(elems),
                            Some(overflow),
                        ) => LabelsLayout::Map(MapLayout {
                            log2_buckets,
                            buckets,
                            bucket_size: bucket.size,
                            keys,
                            elems,
                            overflow,
                        }),
                        _ => LabelsLayout::Absent,
                    }
                }
                _ => LabelsLayout::Absent,
            },
        );
    };
    // labelMap{ LabelSet | label.Set { list | List []{key|Key, value|Value} } }
    let Some(set) = label_map.members.first() else {
        return Ok(LabelsLayout::Absent);
    };
    let Some(set_layout) = bi.struct_layout(&set.type_name)? else {
        return Ok(LabelsLayout::Absent);
    };
    let Some(list) = set_layout
        .members
        .iter()
        .find(|m| m.name.eq_ignore_ascii_case("list"))
    else {
        return Ok(LabelsLayout::Absent);
    };
    let element_type = list.type_name.trim_start_matches("[]");
    let Some(element) = bi.struct_layout(element_type)? else {
        return Ok(LabelsLayout::Absent);
    };
    let (Some(key), Some(value)) = (
        member_offset(&element, &["key", "Key"]),
        member_offset(&element, &["value", "Value"]),
    ) else {
        return Ok(LabelsLayout::Absent);
    };
    Ok(LabelsLayout::List {
        slice_offset: set.offset + list.offset,
        element_size: element.size,
        key,
        value,
    })
}

/// Reads every entry of a classic `map[string]string` (Go 1.21–1.23
/// labels), bucket by bucket; order is the map's own.
fn read_string_map(mem: &dyn Memory, map: &MapLayout, hmap: u64) -> Vec<(String, String)> {
    // tophash values below this mark empty or evacuated slots.
    const MIN_TOP_HASH: u8 = 5;
    const SLOTS: u64 = 8;
    let mut log2 = [0u8; 1];
    if mem.read_memory(hmap + map.log2_buckets, &mut log2).is_err() || log2[0] > 16 {
        return Vec::new();
    }
    let Ok(buckets) = read_u64(mem, hmap + map.buckets, "hmap.buckets") else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for index in 0..(1u64 << log2[0]) {
        let mut bucket = buckets + index * map.bucket_size;
        // Follow overflow buckets, with a bound against cycles.
        for _ in 0..16 {
            if bucket == 0 {
                break;
            }
            let mut tophash = [0u8; SLOTS as usize];
            if mem.read_memory(bucket, &mut tophash).is_err() {
                break;
            }
            for slot in 0..SLOTS {
                if tophash[slot as usize] < MIN_TOP_HASH || out.len() as u64 >= MAX_LABELS {
                    continue;
                }
                let key = read_string(mem, bucket + map.keys + slot * 16);
                let value = read_string(mem, bucket + map.elems + slot * 16);
                if let (Some(key), Some(value)) = (key, value) {
                    out.push((key, value));
                }
            }
            bucket = read_u64(mem, bucket + map.overflow, "bucket.overflow").unwrap_or(0);
        }
    }
    out
}

/// Longest string read for a label or wait reason.
const MAX_STRING: u64 = 4096;

/// The Go string whose header is at `addr`.
fn read_string(mem: &dyn Memory, addr: u64) -> Option<String> {
    let data = read_u64(mem, addr, "string").ok()?;
    let len = read_u64(mem, addr + 8, "string").ok()?;
    if len == 0 {
        return Some(String::new());
    }
    let mut bytes = vec![0u8; len.min(MAX_STRING) as usize];
    mem.read_memory(data, &mut bytes).ok()?;
    Some(String::from_utf8_lossy(&bytes).into_owned())
}

/// [`Memory::read_u64`], failing with what was being read.
fn read_u64(mem: &dyn Memory, addr: u64, what: &str) -> Result<u64> {
    mem.read_u64(addr).map_err(|e| BinaryError::Memory {
        what: what.to_owned(),
        detail: e.to_string(),
    })
}

fn field_u64(buf: &[u8], offset: u64) -> u64 {
    buf.get(offset as usize..offset as usize + 8)
        .map_or(0, |b| u64::from_le_bytes(b.try_into().expect("8 bytes")))
}

fn field_u32(buf: &[u8], offset: u64) -> u32 {
    buf.get(offset as usize..offset as usize + 4)
        .map_or(0, |b| u32::from_le_bytes(b.try_into().expect("4 bytes")))
}
