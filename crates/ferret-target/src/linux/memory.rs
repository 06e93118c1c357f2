//! Reading and writing a live process's memory. Reads use
//! `process_vm_readv` (one system call, no ptrace) and fall back to
//! `/proc/PID/mem` for what it refuses; writes go through `/proc/PID/mem`,
//! which can also write read-only text (for breakpoints).

use std::fs::File;
use std::os::unix::fs::FileExt;

use crate::error::{Result, TargetError};
use crate::Pid;

/// Most buffers one `process_vm_readv` takes (the kernel's `UIO_MAXIOV`).
const IOV_MAX: usize = 1024;

/// Access to one process's address space.
#[derive(Debug)]
pub struct ProcessMemory {
    pid: Pid,
    mem: File,
}

impl ProcessMemory {
    /// Opens `/proc/PID/mem` for reading and writing (requires ptrace access).
    pub fn open(pid: Pid) -> Result<ProcessMemory> {
        let path = format!("/proc/{pid}/mem");
        let mem = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&path)
            .map_err(|source| match source.kind() {
                std::io::ErrorKind::PermissionDenied => TargetError::PermissionDenied {
                    pid,
                    detail: "cannot access its memory (another user's process, or \
                             /proc/sys/kernel/yama/ptrace_scope forbids it)"
                        .into(),
                },
                std::io::ErrorKind::NotFound => TargetError::NoSuchProcess { pid },
                _ => TargetError::Io {
                    path: path.into(),
                    source,
                },
            })?;
        Ok(ProcessMemory { pid, mem })
    }

    /// Fills `buf` from `addr`, or fails naming the address.
    pub fn read(&self, addr: u64, buf: &mut [u8]) -> Result<()> {
        if buf.is_empty() {
            return Ok(());
        }
        let done = self.read_vm(addr, buf);
        if done == buf.len() {
            return Ok(());
        }
        // process_vm_readv stops at the first unreadable page; /proc/PID/mem
        // may still read it (e.g. pages mapped without read permission).
        let rest = &mut buf[done..];
        let at = addr + done as u64;
        self.mem
            .read_exact_at(rest, at)
            .map_err(|e| TargetError::Memory {
                op: "read",
                addr: at,
                len: rest.len(),
                detail: e.to_string(),
            })
    }

    /// Writes `data` at `addr` (text included).
    pub fn write(&self, addr: u64, data: &[u8]) -> Result<()> {
        self.mem
            .write_all_at(data, addr)
            .map_err(|e| TargetError::Memory {
                op: "write",
                addr,
                len: data.len(),
                detail: e.to_string(),
            })
    }

    /// Reads as much as `process_vm_readv` will, returning the byte count.
    /// Fills each buffer from its address: up to `IOV_MAX` of them per
    /// `process_vm_readv`, each left where that stops (at the first
    /// unreadable byte) read alone with [`ProcessMemory::read`].
    pub fn read_each(&self, reads: &mut [(u64, &mut [u8])]) -> Vec<Result<()>> {
        let mut results = Vec::with_capacity(reads.len());
        for batch in reads.chunks_mut(IOV_MAX) {
            let local: Vec<libc::iovec> = batch
                .iter_mut()
                .map(|(_, buf)| libc::iovec {
                    iov_base: buf.as_mut_ptr().cast(),
                    iov_len: buf.len(),
                })
                .collect();
            let remote: Vec<libc::iovec> = batch
                .iter()
                .map(|(addr, buf)| libc::iovec {
                    iov_base: *addr as *mut libc::c_void,
                    iov_len: buf.len(),
                })
                .collect();
            // SAFETY: each local iovec covers exactly one buffer of `batch`,
            // borrowed mutably for the call; the remote ones are only
            // interpreted by the kernel in the other process.
            let n = unsafe {
                libc::process_vm_readv(
                    self.pid,
                    local.as_ptr(),
                    local.len() as libc::c_ulong,
                    remote.as_ptr(),
                    remote.len() as libc::c_ulong,
                    0,
                )
            };
            let mut filled = n.max(0) as usize;
            for (addr, buf) in batch.iter_mut() {
                if filled >= buf.len() {
                    filled -= buf.len();
                    results.push(Ok(()));
                } else {
                    filled = 0;
                    results.push(self.read(*addr, buf));
                }
            }
        }
        results
    }

    /// Fills `buf` from `addr` only where the target itself may read
    /// (`process_vm_readv` honours page protections): what an emulated
    /// instruction may load.
    pub fn read_as_program(&self, addr: u64, buf: &mut [u8]) -> bool {
        self.read_vm(addr, buf) == buf.len()
    }

    /// Writes `data` at `addr` only where the target itself may write
    /// (`process_vm_writev`, unlike `/proc/PID/mem`, honours page
    /// protections): what an emulated instruction may store. `false` when
    /// (part of) it cannot; a partial write is possible only across a page
    /// boundary into a page that refuses.
    pub fn write_as_program(&self, addr: u64, data: &[u8]) -> bool {
        let local = libc::iovec {
            iov_base: data.as_ptr() as *mut libc::c_void,
            iov_len: data.len(),
        };
        let remote = libc::iovec {
            iov_base: addr as *mut libc::c_void,
            iov_len: data.len(),
        };
        // SAFETY: `local` covers exactly `data`, only read by the kernel;
        // `remote` is only interpreted by the kernel in the other process.
        let n = unsafe { libc::process_vm_writev(self.pid, &local, 1, &remote, 1, 0) };
        n == data.len() as isize
    }

    fn read_vm(&self, addr: u64, buf: &mut [u8]) -> usize {
        let mut done = 0;
        while done < buf.len() {
            let local = libc::iovec {
                iov_base: buf[done..].as_mut_ptr().cast(),
                iov_len: buf.len() - done,
            };
            let remote = libc::iovec {
                iov_base: (addr + done as u64) as *mut libc::c_void,
                iov_len: buf.len() - done,
            };
            // SAFETY: `local` points into `buf` with its exact remaining length;
            // `remote` is only interpreted by the kernel in the other process.
            let n = unsafe { libc::process_vm_readv(self.pid, &local, 1, &remote, 1, 0) };
            if n <= 0 {
                break;
            }
            done += n as usize;
        }
        done
    }
}
