//! Opens a core file and prints its thread count: the smallest program that
//! measures what opening a core costs (the target benchmark runs it).

fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(core), Some(exe)) = (args.next(), args.next()) else {
        eprintln!("usage: open_core CORE EXECUTABLE");
        std::process::exit(2);
    };
    let start = std::time::Instant::now();
    match ferret_target::core::CoreFile::open(core.as_ref(), exe.as_ref(), false) {
        Ok(core) => println!(
            "{} threads, opened in {:.2} ms",
            ferret_target::ThreadState::threads(&core).len(),
            start.elapsed().as_secs_f64() * 1e3
        ),
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    }
}
