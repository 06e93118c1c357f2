//! Writing a core of the live target while clients watch it being written:
//! Delve's `dump` (`DumpStart`, `DumpWait`, `DumpCancel`). The dump runs on
//! the tracer thread like any other job (requests that need the target
//! wait behind it, as they wait behind Delve's target lock); its progress
//! lives here, outside the session, so `DumpWait` answers meanwhile.

use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

/// Where a core dump stands (Delve's `api.DumpState`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DumpState {
    /// A dump is being written.
    pub dumping: bool,
    /// The last dump finished writing.
    pub all_done: bool,
    /// Threads written so far.
    pub threads_done: usize,
    /// Threads to write.
    pub threads_total: usize,
    /// Memory bytes written so far.
    pub mem_done: u64,
    /// Memory bytes to write.
    pub mem_total: u64,
    /// Why the last dump failed ("" when it did not).
    pub err: String,
}

/// The current dump's state, shared by the tracer thread writing it and
/// the clients asking about it.
#[derive(Debug, Default)]
pub(crate) struct DumpProgress {
    inner: Mutex<Progress>,
    changed: Condvar,
}

#[derive(Debug, Default)]
struct Progress {
    state: DumpState,
    canceled: bool,
}

impl DumpProgress {
    fn lock(&self) -> std::sync::MutexGuard<'_, Progress> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Marks a dump as started; `false` when one is already running.
    pub(crate) fn begin(&self) -> bool {
        let mut p = self.lock();
        if p.state.dumping {
            return false;
        }
        *p = Progress {
            state: DumpState {
                dumping: true,
                ..DumpState::default()
            },
            canceled: false,
        };
        true
    }

    /// The state now.
    pub(crate) fn state(&self) -> DumpState {
        self.lock().state.clone()
    }

    /// The state once the dump ends or `wait` has passed, whichever is
    /// first (at once for a zero `wait` or when no dump runs).
    pub(crate) fn wait(&self, wait: Duration) -> DumpState {
        let deadline = Instant::now() + wait;
        let mut p = self.lock();
        while p.state.dumping {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            p = self
                .changed
                .wait_timeout(p, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        p.state.clone()
    }

    /// Asks the running dump to stop.
    pub(crate) fn cancel(&self) {
        self.lock().canceled = true;
    }

    /// Records that the threads (`count` of them) were read.
    pub(crate) fn threads_done(&self, count: usize) {
        let mut p = self.lock();
        p.state.threads_total = count;
        p.state.threads_done = count;
    }

    /// Records memory written; `false` when the dump was canceled.
    pub(crate) fn memory(&self, done: u64, total: u64) -> bool {
        let mut p = self.lock();
        p.state.mem_done = done;
        p.state.mem_total = total;
        !p.canceled
    }

    /// Ends the dump: written whole, canceled (no error, not done, as
    /// Delve reports it) or failed with `err`.
    pub(crate) fn finish(&self, outcome: DumpOutcome) {
        let mut p = self.lock();
        p.state.dumping = false;
        match outcome {
            DumpOutcome::Written => p.state.all_done = true,
            DumpOutcome::Canceled => {}
            DumpOutcome::Failed(err) => p.state.err = err,
        }
        self.changed.notify_all();
    }
}

/// How a dump ended.
#[derive(Debug)]
pub(crate) enum DumpOutcome {
    Written,
    Canceled,
    Failed(String),
}
