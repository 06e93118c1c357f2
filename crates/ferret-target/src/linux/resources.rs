//! What a live process holds, from `/proc`: threads and open file
//! descriptors by kind. Leak hunting looks at these beside goroutines (a
//! goroutine leak often leaks sockets too).

use std::collections::BTreeMap;

use crate::error::{Result, TargetError};
use crate::Pid;

/// Threads and open descriptors of a process.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Resources {
    /// OS threads.
    pub threads: usize,
    /// Open file descriptors by kind: `socket`, `pipe`, `file`, `anon`
    /// (anonymous inodes such as epoll or eventfd) and `other`.
    pub fds: BTreeMap<String, usize>,
}

/// Counts the threads and descriptors of `pid`.
pub fn resources(pid: Pid) -> Result<Resources> {
    let io = |path: String| {
        move |source| TargetError::Io {
            path: path.into(),
            source,
        }
    };
    let task = format!("/proc/{pid}/task");
    let threads = std::fs::read_dir(&task).map_err(io(task.clone()))?.count();
    let fd_dir = format!("/proc/{pid}/fd");
    let mut fds = BTreeMap::new();
    for entry in std::fs::read_dir(&fd_dir)
        .map_err(io(fd_dir.clone()))?
        .flatten()
    {
        // A descriptor closed while we look is simply not counted.
        let Ok(target) = std::fs::read_link(entry.path()) else {
            continue;
        };
        *fds.entry(fd_kind(&target.to_string_lossy()).to_owned())
            .or_insert(0) += 1;
    }
    Ok(Resources { threads, fds })
}

/// The kind of descriptor a `/proc/PID/fd` link target names.
fn fd_kind(target: &str) -> &'static str {
    if target.starts_with("socket:") {
        "socket"
    } else if target.starts_with("pipe:") {
        "pipe"
    } else if target.starts_with("anon_inode:") {
        "anon"
    } else if target.starts_with('/') {
        "file"
    } else {
        "other"
    }
}

/// The system's monotonic clock now, in nanoseconds: the clock Go's
/// `nanotime` reads on Linux, so it compares with `g.waitsince`.
pub fn monotonic_now_ns() -> i64 {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `now` is a valid timespec to write into; CLOCK_MONOTONIC
    // always exists on Linux.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut now) };
    now.tv_sec * 1_000_000_000 + now.tv_nsec
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_this_process() {
        let (_r, _w) = std::io::pipe().expect("pipe");
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let mine = resources(std::process::id() as Pid).expect("resources");
        assert!(mine.threads >= 1);
        assert!(mine.fds.get("pipe").copied().unwrap_or(0) >= 2, "{mine:?}");
        assert!(
            mine.fds.get("socket").copied().unwrap_or(0) >= 1,
            "{mine:?}"
        );
        drop(listener);
        assert!(monotonic_now_ns() > 0);
    }
}
