//! Attaches to a pid, prints what it found, and detaches. Used by the tests
//! to check how attaching fails for an unprivileged user.

fn main() {
    let pid: i32 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| {
            eprintln!("usage: attach PID");
            std::process::exit(2);
        });
    match ferret_target::linux::Process::attach(pid) {
        Ok(mut process) => {
            println!(
                "attached to {pid}: {} threads",
                ferret_target::ThreadState::threads(&process).len()
            );
            if let Err(e) = process.detach() {
                eprintln!("detach: {e}");
                std::process::exit(1);
            }
        }
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    }
}
