//! Starting a program under ptrace, stopped before its first instruction.
//!
//! The child waits on a pipe until the parent has seized it, then execs;
//! the parent sees the exec as a `PTRACE_EVENT_EXEC` stop. Nothing runs in
//! the child between fork and exec but async-signal-safe calls.

use std::ffi::CString;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::{fork, ForkResult, Pid as NixPid};

use super::ptrace;
use crate::error::{Result, TargetError};
use crate::Pid;

/// How to start a program.
#[derive(Debug, Clone, Default)]
pub struct LaunchOptions {
    /// The executable.
    pub program: PathBuf,
    /// Arguments after the program name.
    pub args: Vec<String>,
    /// Environment as `KEY=VALUE`; `None` inherits ferret's.
    pub env: Option<Vec<String>>,
    /// Working directory; `None` keeps ferret's.
    pub cwd: Option<PathBuf>,
    /// File to use as stdin (like Delve's `-r stdin:FILE`).
    pub stdin: Option<PathBuf>,
    /// File to write stdout to (created or truncated).
    pub stdout: Option<PathBuf>,
    /// File to write stderr to (created or truncated).
    pub stderr: Option<PathBuf>,
}

/// Checks that `path` is a regular, executable file, with a clear reason
/// when not.
fn check_executable(path: &Path) -> Result<()> {
    let not_exec = |reason: &str| TargetError::NotExecutable {
        path: path.to_owned(),
        reason: reason.to_owned(),
    };
    let meta = std::fs::metadata(path).map_err(|e| not_exec(&e.to_string()))?;
    if meta.is_dir() {
        return Err(not_exec("it is a directory"));
    }
    if !meta.is_file() {
        return Err(not_exec("it is not a regular file"));
    }
    if meta.permissions().mode() & 0o111 == 0 {
        return Err(not_exec("it has no execute permission"));
    }
    Ok(())
}

/// Opens a redirect target; the error names the file.
fn open_redirect(path: &Path, write: bool) -> Result<OwnedFd> {
    let file = if write {
        std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(path)
    } else {
        std::fs::File::open(path)
    };
    file.map(OwnedFd::from)
        .map_err(|source| TargetError::Redirect {
            path: path.to_owned(),
            source,
        })
}

fn cstring(bytes: &[u8], what: &Path) -> Result<CString> {
    CString::new(bytes).map_err(|_| TargetError::NotExecutable {
        path: what.to_owned(),
        reason: "an argument or environment entry contains a NUL byte".into(),
    })
}

/// Forks and execs `options.program`, seized with `options_flags`, and
/// returns its pid once it is stopped at the exec. The tracee is a child of
/// the calling thread, which must be the tracer thread.
pub(crate) fn spawn_seized(options: &LaunchOptions, seize_options: libc::c_int) -> Result<Pid> {
    check_executable(&options.program)?;
    let program = &options.program;
    let path = cstring(program.as_os_str().as_bytes(), program)?;
    let mut argv = vec![path.clone()];
    for arg in &options.args {
        argv.push(cstring(arg.as_bytes(), program)?);
    }
    let env: Vec<CString> = match &options.env {
        Some(env) => env
            .iter()
            .map(|e| cstring(e.as_bytes(), program))
            .collect::<Result<_>>()?,
        None => std::env::vars_os()
            .map(|(k, v)| {
                let mut kv = k.as_bytes().to_vec();
                kv.push(b'=');
                kv.extend_from_slice(v.as_bytes());
                cstring(&kv, program)
            })
            .collect::<Result<_>>()?,
    };
    let cwd = options
        .cwd
        .as_ref()
        .map(|c| cstring(c.as_os_str().as_bytes(), c))
        .transpose()?;
    if let Some(dir) = &options.cwd {
        if !dir.is_dir() {
            return Err(TargetError::NotExecutable {
                path: program.clone(),
                reason: format!("working directory {} does not exist", dir.display()),
            });
        }
    }
    let stdin = options
        .stdin
        .as_deref()
        .map(|p| open_redirect(p, false))
        .transpose()?;
    let stdout = options
        .stdout
        .as_deref()
        .map(|p| open_redirect(p, true))
        .transpose()?;
    let stderr = options
        .stderr
        .as_deref()
        .map(|p| open_redirect(p, true))
        .transpose()?;

    let argv_ptrs: Vec<*const libc::c_char> = argv
        .iter()
        .map(|a| a.as_ptr())
        .chain(std::iter::once(std::ptr::null()))
        .collect();
    let env_ptrs: Vec<*const libc::c_char> = env
        .iter()
        .map(|e| e.as_ptr())
        .chain(std::iter::once(std::ptr::null()))
        .collect();
    let (go_read, go_write) =
        nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).map_err(|errno| TargetError::System {
            call: "pipe2",
            errno,
        })?;

    // SAFETY: the child only calls async-signal-safe functions (read, dup2,
    // chdir, execve, _exit) on data prepared before the fork.
    match unsafe { fork() }.map_err(|errno| TargetError::System {
        call: "fork",
        errno,
    })? {
        ForkResult::Child => unsafe {
            let mut byte = 0u8;
            libc::read(go_read.as_raw_fd(), (&mut byte as *mut u8).cast(), 1);
            for (fd, target) in [(&stdin, 0), (&stdout, 1), (&stderr, 2)] {
                if let Some(fd) = fd {
                    libc::dup2(fd.as_raw_fd(), target);
                }
            }
            if let Some(dir) = &cwd {
                if libc::chdir(dir.as_ptr()) != 0 {
                    libc::_exit(126);
                }
            }
            libc::execve(path.as_ptr(), argv_ptrs.as_ptr(), env_ptrs.as_ptr());
            libc::_exit(127);
        },
        ForkResult::Parent { child } => {
            drop(go_read);
            let pid = child.as_raw();
            let kill_child = || {
                let _ = nix::sys::signal::kill(child, nix::sys::signal::Signal::SIGKILL);
                let _ = waitpid(child, Some(WaitPidFlag::__WALL));
            };
            if let Err(e) = ptrace::seize(pid, seize_options) {
                kill_child();
                return Err(e);
            }
            // Let the child exec.
            let _ = nix::unistd::write(&go_write, &[1u8]);
            drop(go_write);
            wait_for_exec(child, program).inspect_err(|_| kill_child())?;
            Ok(pid)
        }
    }
}

/// Waits for the seized child's exec stop.
fn wait_for_exec(child: NixPid, program: &Path) -> Result<()> {
    loop {
        match waitpid(child, Some(WaitPidFlag::__WALL)).map_err(|errno| TargetError::System {
            call: "waitpid",
            errno,
        })? {
            WaitStatus::PtraceEvent(_, _, event) if event == libc::PTRACE_EVENT_EXEC => {
                return Ok(())
            }
            WaitStatus::Exited(_, code) => {
                let reason = match code {
                    126 => "cannot change to the working directory".to_owned(),
                    _ => "execve failed (wrong format or missing interpreter?)".to_owned(),
                };
                return Err(TargetError::NotExecutable {
                    path: program.to_owned(),
                    reason,
                });
            }
            WaitStatus::Signaled(_, signal, _) => {
                return Err(TargetError::NotExecutable {
                    path: program.to_owned(),
                    reason: format!("killed by {signal} before exec"),
                })
            }
            // Anything else before the exec (e.g. a signal): keep it moving.
            WaitStatus::Stopped(_, signal) => {
                ptrace::cont(child.as_raw(), signal as i32)?;
            }
            _ => {
                ptrace::cont(child.as_raw(), 0)?;
            }
        }
    }
}
