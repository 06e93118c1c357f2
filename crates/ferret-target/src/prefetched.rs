//! Memory read ahead in one batch, then served from there: a listing that
//! unwinds 10^5 parked goroutines reads every stack top with a few system
//! calls instead of one each.

use std::collections::BTreeMap;

use crate::error::Result;
use crate::Memory;

/// `inner`, with some ranges read ahead of time. A read that falls wholly
/// inside one of them is copied from it; any other goes to `inner`.
pub struct PrefetchedMemory<'a> {
    inner: &'a dyn Memory,
    /// Ranges read, by start address.
    ranges: BTreeMap<u64, Vec<u8>>,
}

impl<'a> PrefetchedMemory<'a> {
    /// Reads `ranges` (start, length) from `inner` in one
    /// [`Memory::read_each`]; a range that cannot be read is left out
    /// (reads of it go to `inner` and fail there, with its error).
    pub fn new(inner: &'a dyn Memory, ranges: &[(u64, usize)]) -> PrefetchedMemory<'a> {
        let mut memory = PrefetchedMemory {
            inner,
            ranges: BTreeMap::new(),
        };
        memory.extend(ranges);
        memory
    }

    /// Reads more ranges ahead, as [`PrefetchedMemory::new`] does (for
    /// reads that depend on what earlier ranges hold).
    pub fn extend(&mut self, ranges: &[(u64, usize)]) {
        let mut buffers: Vec<Vec<u8>> = ranges.iter().map(|&(_, len)| vec![0u8; len]).collect();
        let mut reads: Vec<(u64, &mut [u8])> = ranges
            .iter()
            .map(|&(start, _)| start)
            .zip(buffers.iter_mut().map(Vec::as_mut_slice))
            .collect();
        let results = self.inner.read_each(&mut reads);
        for ((&(start, _), bytes), result) in ranges.iter().zip(buffers).zip(results) {
            if result.is_ok() {
                self.ranges.insert(start, bytes);
            }
        }
    }
}

impl PrefetchedMemory<'_> {
    /// Adds bytes known without reading them from the target (a value
    /// held in registers, placed at a made-up address).
    pub fn insert(&mut self, start: u64, bytes: Vec<u8>) {
        self.ranges.insert(start, bytes);
    }
}

impl Memory for PrefetchedMemory<'_> {
    fn read_memory(&self, addr: u64, buf: &mut [u8]) -> Result<()> {
        if let Some((&start, bytes)) = self.ranges.range(..=addr).next_back() {
            let offset = (addr - start) as usize;
            if let Some(source) = bytes.get(offset..offset + buf.len()) {
                buf.copy_from_slice(source);
                return Ok(());
            }
        }
        self.inner.read_memory(addr, buf)
    }
}

/// `inner`, read in 64 KiB blocks that are kept: many small reads close to
/// each other (a hash map's groups, walked slot by slot) cost one read per
/// block. A block that cannot be read whole is not kept; reads in it go to
/// `inner`.
pub struct BlockCachedMemory<'a> {
    inner: &'a dyn Memory,
    blocks: std::cell::RefCell<std::collections::HashMap<u64, Option<Vec<u8>>>>,
}

/// The size of a [`BlockCachedMemory`] block.
const BLOCK: u64 = 64 << 10;

impl<'a> BlockCachedMemory<'a> {
    /// `inner` with nothing cached yet.
    pub fn new(inner: &'a dyn Memory) -> BlockCachedMemory<'a> {
        BlockCachedMemory {
            inner,
            blocks: Default::default(),
        }
    }
}

impl Memory for BlockCachedMemory<'_> {
    fn read_memory(&self, addr: u64, buf: &mut [u8]) -> Result<()> {
        let start = addr - addr % BLOCK;
        let end = addr.saturating_add(buf.len() as u64);
        if buf.is_empty() || end > start + BLOCK {
            return self.inner.read_memory(addr, buf);
        }
        let mut blocks = self.blocks.borrow_mut();
        let block = blocks.entry(start).or_insert_with(|| {
            let mut bytes = vec![0u8; BLOCK as usize];
            self.inner
                .read_memory(start, &mut bytes)
                .ok()
                .map(|()| bytes)
        });
        match block {
            Some(bytes) => {
                let offset = (addr - start) as usize;
                buf.copy_from_slice(&bytes[offset..offset + buf.len()]);
                Ok(())
            }
            None => self.inner.read_memory(addr, buf),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::TargetError;

    /// Memory holding `i as u8` at address `i` below 4096, unreadable above.
    struct Counting {
        reads: std::cell::Cell<usize>,
    }

    impl Memory for Counting {
        fn read_memory(&self, addr: u64, buf: &mut [u8]) -> Result<()> {
            self.reads.set(self.reads.get() + 1);
            if addr + buf.len() as u64 > 4096 {
                return Err(TargetError::Memory {
                    op: "read",
                    addr,
                    len: buf.len(),
                    detail: "unmapped".into(),
                });
            }
            for (i, b) in buf.iter_mut().enumerate() {
                *b = (addr + i as u64) as u8;
            }
            Ok(())
        }
    }

    #[test]
    fn blocks_are_read_once_and_unreadable_ones_go_to_the_inner_memory() {
        let inner = Counting {
            reads: Default::default(),
        };
        let memory = BlockCachedMemory::new(&inner);
        let mut buf = [0u8; 4];
        // Block 0 (0..64 KiB) is unreadable past 4096: reads go through.
        memory.read_memory(10, &mut buf).unwrap();
        assert_eq!(buf, [10, 11, 12, 13]);
        memory.read_memory(20, &mut buf).unwrap();
        assert_eq!(buf, [20, 21, 22, 23]);
        assert_eq!(
            inner.reads.get(),
            3,
            "one failed block read, then two direct reads"
        );
        assert!(memory.read_memory(5000, &mut buf).is_err());
    }

    #[test]
    fn reads_inside_a_range_are_served_from_it() {
        let inner = Counting {
            reads: Default::default(),
        };
        let memory = PrefetchedMemory::new(&inner, &[(100, 50), (1000, 10), (4090, 100)]);
        assert_eq!(inner.reads.get(), 3);
        let mut buf = [0u8; 8];
        memory.read_memory(120, &mut buf).unwrap();
        assert_eq!(buf, [120, 121, 122, 123, 124, 125, 126, 127]);
        memory.read_memory(142, &mut buf).unwrap();
        assert_eq!(inner.reads.get(), 3, "both inside the first range");
        // Past a range's end, between ranges, and in the unreadable one.
        memory.read_memory(145, &mut buf).unwrap();
        assert_eq!(buf[0], 145);
        memory.read_memory(500, &mut buf).unwrap();
        assert_eq!(inner.reads.get(), 5);
        assert!(memory.read_memory(4092, &mut buf).is_err());
    }
}
