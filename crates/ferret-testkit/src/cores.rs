//! Kernel cores of fixtures stopped where a test wants them: the fixture
//! says on stdout that it is ready, then every thread must sleep, then
//! SIGQUIT with `GOTRACEBACK=crash` makes the Go runtime abort and the
//! kernel write the core.

use std::path::{Path, PathBuf};
use std::process::{ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use crate::terminal::wait_or_kill;

/// Runs `binary args` in `dir` with `env`, `GOTRACEBACK=crash` and no core
/// size limit; `ready` reads its stdout until it is ready (returning what
/// the test wants from it, or `None` when it ended first). Then waits for
/// all its threads to sleep and sends SIGQUIT. Returns the core's path
/// (`core` or `core.PID`, as the kernel's `core_pattern` says) and what
/// `ready` returned; panics when no core or an empty one was written.
pub fn core_when_ready<T>(
    binary: &Path,
    args: &[&str],
    env: &[(&str, &str)],
    dir: &Path,
    ready: impl FnOnce(ChildStdout) -> Option<T>,
) -> (PathBuf, T) {
    std::fs::create_dir_all(dir).unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
    let _ = std::fs::remove_file(dir.join("core"));
    let stderr_path = dir.join("fixture.stderr");
    let stderr = std::fs::File::create(&stderr_path).expect("create fixture.stderr");
    let mut child = Command::new("bash")
        .arg("-c")
        .arg(r#"ulimit -c unlimited; exec "$0" "$@""#)
        .arg(binary)
        .args(args)
        .current_dir(dir)
        .env("GOTRACEBACK", "crash")
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
    let pid = child.id();
    let report = ready(child.stdout.take().expect("fixture stdout"));
    let reported = report.is_some();
    if reported {
        wait_until_asleep(pid);
        let killed = Command::new("kill")
            .args(["-QUIT", &pid.to_string()])
            .status();
        assert!(killed.is_ok_and(|s| s.success()), "kill -QUIT {pid} failed");
    }
    let status = wait_or_kill(&mut child, Duration::from_secs(30));
    let stderr = std::fs::read_to_string(&stderr_path).unwrap_or_default();
    assert!(
        reported,
        "{} {args:?} exited before it was ready ({status:?}):\n{stderr}",
        binary.display()
    );
    let core = [dir.join(format!("core.{pid}")), dir.join("core")]
        .into_iter()
        .find(|p| p.exists());
    let Some(core) = core else {
        let pattern = std::fs::read_to_string("/proc/sys/kernel/core_pattern").unwrap_or_default();
        panic!(
            "no core in {} after SIGQUIT to {} ({status:?}); core_pattern is {:?}\nstderr:\n{stderr}",
            dir.display(),
            binary.display(),
            pattern.trim()
        );
    };
    let size = std::fs::metadata(&core).map(|m| m.len()).unwrap_or(0);
    assert!(size > 0, "{} is empty", core.display());
    (core, report.expect("reported"))
}

/// Waits until every thread of process `pid` has been asleep (state `S` in
/// `/proc/PID/task/*/stat`) in three polls in a row. Panics after 10 s.
pub fn wait_until_asleep(pid: u32) {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut asleep_polls = 0;
    loop {
        let states: Vec<String> = std::fs::read_dir(format!("/proc/{pid}/task"))
            .map(|tasks| {
                tasks
                    .flatten()
                    .filter_map(|t| std::fs::read_to_string(t.path().join("stat")).ok())
                    .collect()
            })
            .unwrap_or_default();
        // The state follows the command name, which ends at the last `)`.
        let asleep = !states.is_empty()
            && states.iter().all(|s| {
                s.rsplit_once(") ")
                    .is_some_and(|(_, rest)| rest.starts_with('S'))
            });
        asleep_polls = if asleep { asleep_polls + 1 } else { 0 };
        if asleep_polls == 3 {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the threads of process {pid} never all slept: {states:?}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}
