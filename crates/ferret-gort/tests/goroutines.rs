//! Goroutines read from the runtime, on a core of the `leak` fixture and on
//! the live process, checked against what the fixture reports about itself
//! (its own `runtime.Stack` dump): how many goroutines wait for each reason,
//! and how many started in each worker function; plus pprof labels and
//! stacks that end at `runtime.goexit`.

use std::collections::BTreeMap;
use std::path::Path;

use ferret_gort::goroutine::{RuntimeLayout, G};
use ferret_gort::stack::{unwind, UnwindStart};
use ferret_gort::BinaryInfo;
use ferret_target::core::CoreFile;
use ferret_target::linux::Process;
use ferret_target::Memory;
use ferret_testkit::fixture::{build_fixture, BuildOptions};
use ferret_testkit::leak::{leak_core, start_leak, LeakReport, WORKERS};
use ferret_testkit::target_dir;
use ferret_testkit::toolchain::GoToolchain;

/// Goroutines per worker.
const N: usize = 3;

/// The worker function a goroutine started in: the bottom `main.` frame
/// of its stack, as the fixture counts them.
fn start_function(bi: &BinaryInfo, mem: &dyn Memory, g: &G) -> Option<String> {
    let frames = unwind(bi, mem, UnwindStart::from_sched(g), Some(g), 64).expect("unwind");
    assert_eq!(
        frames.last().and_then(|f| f.function_name()),
        Some("runtime.goexit"),
        "goroutine {} stack does not end at goexit: {:?}",
        g.id,
        frames.iter().map(|f| f.function_name()).collect::<Vec<_>>()
    );
    frames
        .iter()
        .filter_map(|f| f.info.as_ref())
        .flat_map(|i| i.frames.iter().map(|s| s.function.clone()))
        .rfind(|name| WORKERS.contains(&name.as_str()))
}

/// Checks what ferret reads against the fixture's own report.
fn check(bi: &BinaryInfo, mem: &dyn Memory, report: &LeakReport, context: &str) {
    let layout = RuntimeLayout::new(bi).expect("runtime layout");
    let gs = layout.goroutines(mem).expect("goroutines");
    let names = layout.wait_reason_names(mem);
    assert!(
        names.iter().any(|n| n == "chan receive"),
        "{context}: wait reasons {names:?}"
    );
    let workers: Vec<&G> = gs.iter().filter(|g| g.id != 1 && g.status == 4).collect();
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    let mut starts: BTreeMap<String, usize> = BTreeMap::new();
    for g in &gs {
        let Some(start) = (g.id != 1).then(|| start_function(bi, mem, g)).flatten() else {
            continue;
        };
        *starts.entry(start).or_default() += 1;
        *counts
            .entry(names[g.wait_reason as usize].clone())
            .or_default() += 1;
    }
    assert_eq!(starts, report.start, "{context}: start functions");
    assert_eq!(counts, report.counts, "{context}: wait reasons");
    assert!(
        workers.len() >= WORKERS.len() * N,
        "{context}: {} waiting goroutines",
        workers.len()
    );
    let labelled: Vec<Vec<(String, String)>> = gs
        .iter()
        .map(|g| layout.labels(mem, g))
        .filter(|l| l.iter().any(|(k, v)| k == "kind" && v == "recv"))
        .collect();
    assert_eq!(
        labelled.len(),
        N,
        "{context}: goroutines labelled kind=recv"
    );
    let mut workers: Vec<&str> = labelled
        .iter()
        .flat_map(|l| l.iter().filter(|(k, _)| k == "worker"))
        .map(|(_, v)| v.as_str())
        .collect();
    workers.sort();
    assert_eq!(workers, ["0", "1", "2"], "{context}: worker labels");
}

#[test]
fn goroutines_of_a_core_match_the_fixture() {
    for toolchain in GoToolchain::selected() {
        let exe = build_fixture("leak", &toolchain, &BuildOptions::debug());
        let dir = target_dir().join("scratch").join(format!(
            "gort-goroutines-{}-{}",
            toolchain.version,
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let (core_path, report) = leak_core(&exe, N, &dir);
        let bi = BinaryInfo::open(&exe).unwrap();
        let core = CoreFile::open(&core_path, &exe, false).unwrap();
        check(
            &bi,
            &core,
            &report,
            &format!("core, Go {}", toolchain.version),
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[test]
fn goroutines_of_a_live_process_match_the_fixture() {
    for toolchain in GoToolchain::selected() {
        let exe = build_fixture("leak", &toolchain, &BuildOptions::debug());
        let leak = start_leak(&exe, N);
        let mut process = Process::attach(leak.pid as i32).expect("attach");
        let bi = BinaryInfo::open(Path::new(&exe)).unwrap();
        check(
            &bi,
            &process,
            &leak.report,
            &format!("live, Go {}", toolchain.version),
        );
        process.detach().expect("detach");
    }
}

/// A core whose `allgs` holds one pointer to nowhere: that goroutine is
/// listed as unreadable, with the reason, and every other one as before.
#[test]
fn a_corrupted_g_is_marked_unreadable_and_the_rest_are_listed() {
    use object::{Object, ObjectSegment};
    let toolchain = GoToolchain::selected()
        .into_iter()
        .next()
        .expect("a Go toolchain");
    let exe = build_fixture("leak", &toolchain, &BuildOptions::debug());
    let dir = target_dir()
        .join("scratch")
        .join(format!("gort-corrupt-g-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let (core_path, _) = leak_core(&exe, 1, &dir);
    let bi = BinaryInfo::open(&exe).unwrap();
    let layout = RuntimeLayout::new(&bi).unwrap();
    let before = layout
        .goroutines(&CoreFile::open(&core_path, &exe, false).unwrap())
        .unwrap();

    // Point the last listed goroutine's allgs slot at an unmapped address.
    let mut bytes = std::fs::read(&core_path).unwrap();
    let core = CoreFile::open(&core_path, &exe, false).unwrap();
    let allgs = bi
        .symbols()
        .iter()
        .find(|s| s.name == "runtime.allgs")
        .unwrap()
        .address;
    let victim = before.last().unwrap();
    let slot = core.read_u64(allgs).unwrap() + victim.index as u64 * 8;
    let file = object::File::parse(&*bytes).unwrap();
    let offset = file
        .segments()
        .find_map(|seg| {
            let (start, size) = seg.file_range();
            (seg.address() <= slot && slot + 8 <= seg.address() + size)
                .then(|| start + slot - seg.address())
        })
        .expect("the allgs array is in the core");
    drop(file);
    bytes[offset as usize..offset as usize + 8].copy_from_slice(&0x10u64.to_le_bytes());
    let corrupted = dir.join("corrupted.core");
    std::fs::write(&corrupted, &bytes).unwrap();

    let after = layout
        .goroutines(&CoreFile::open(&corrupted, &exe, false).unwrap())
        .unwrap();
    assert_eq!(after.len(), before.len());
    let marked: Vec<&G> = after.iter().filter(|g| g.unreadable.is_some()).collect();
    assert_eq!(marked.len(), 1, "{after:?}");
    assert_eq!(marked[0].index, victim.index);
    assert!(
        marked[0].unreadable.as_deref().unwrap().contains("0x10"),
        "{:?}",
        marked[0].unreadable
    );
    let ids = |gs: &[G]| {
        gs.iter()
            .filter(|g| g.unreadable.is_none())
            .map(|g| g.id)
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(&after), ids(&before[..before.len() - 1]));
    let _ = std::fs::remove_dir_all(&dir);
}
