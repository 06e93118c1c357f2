//! `outputMode: "remote"`: what a launched program writes to stdout and
//! stderr goes to the client as `output` events instead of to the
//! terminal ferret runs in (an editor that starts `ferret dap` shows it in
//! its debug console).
//!
//! The program's two streams are named pipes in a private directory:
//! ferret opens their reading ends before the launch (so the program's
//! opening them does not block), and after the launch one thread per pipe
//! forwards what arrives until the program closes it.

use std::fs::File;
use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::io::AsRawFd;
use std::path::PathBuf;

use serde_json::json;

use super::wire::Outbox;

/// The pipes for one launch; forwarding starts with [`Pipes::forward`].
pub struct Pipes {
    dir: PathBuf,
    streams: Vec<(File, &'static str)>,
}

impl Pipes {
    /// Makes the pipes and opens their reading ends.
    pub fn new() -> std::io::Result<Pipes> {
        static MADE: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "ferret-dap-output-{}-{}",
            std::process::id(),
            MADE.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
        ));
        std::fs::create_dir(&dir)?;
        std::fs::set_permissions(&dir, std::os::unix::fs::PermissionsExt::from_mode(0o700))?;
        let mut streams = Vec::new();
        for category in ["stdout", "stderr"] {
            let path = dir.join(category);
            let c_path = std::ffi::CString::new(path.as_os_str().as_encoded_bytes())
                .map_err(std::io::Error::other)?;
            // SAFETY: a valid NUL-terminated path.
            if unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) } != 0 {
                return Err(std::io::Error::last_os_error());
            }
            // Opening without blocking needs no writer yet.
            let file = std::fs::OpenOptions::new()
                .read(true)
                .custom_flags(libc::O_NONBLOCK)
                .open(&path)?;
            streams.push((file, category));
        }
        Ok(Pipes { dir, streams })
    }

    /// Where the program's stdout goes.
    pub fn stdout(&self) -> PathBuf {
        self.dir.join("stdout")
    }

    /// Where the program's stderr goes.
    pub fn stderr(&self) -> PathBuf {
        self.dir.join("stderr")
    }

    /// Forwards each stream to `out` as `output` events of its category,
    /// once the program has opened them (after the launch).
    pub fn forward(self, out: Outbox) {
        let _ = std::fs::remove_dir_all(&self.dir);
        for (mut file, category) in self.streams {
            let out = out.clone();
            // Blocking reads from here on: the writer exists now.
            // SAFETY: fcntl on an open descriptor this value owns.
            unsafe {
                let flags = libc::fcntl(file.as_raw_fd(), libc::F_GETFL);
                libc::fcntl(file.as_raw_fd(), libc::F_SETFL, flags & !libc::O_NONBLOCK);
            }
            std::thread::spawn(move || {
                let mut chunk = [0u8; 4096];
                while let Ok(n) = file.read(&mut chunk) {
                    if n == 0 {
                        break;
                    }
                    let text = String::from_utf8_lossy(&chunk[..n]).into_owned();
                    out.event(
                        "output",
                        Some(json!({"category": category, "output": text})),
                    );
                }
            });
        }
    }

    /// Removes the pipes when the launch failed.
    pub fn discard(self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Whether `path` is one of a [`Pipes`]' (for tests).
#[cfg(test)]
fn is_pipe(path: &std::path::Path) -> bool {
    use std::os::unix::fs::FileTypeExt;
    std::fs::metadata(path).is_ok_and(|m| m.file_type().is_fifo())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pipes_are_made_private_and_removed() {
        let pipes = Pipes::new().unwrap();
        assert!(is_pipe(&pipes.stdout()) && is_pipe(&pipes.stderr()));
        let dir = pipes.dir.clone();
        pipes.discard();
        assert!(!dir.exists());
    }
}
