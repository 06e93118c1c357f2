//! Builds the Go programs under `tests/fixtures/<name>/` and caches the
//! result by source hash, toolchain version and build options.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::toolchain::GoToolchain;
use crate::{repo_root, target_dir};

/// How to build a fixture.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct BuildOptions {
    /// Build with the compiler's optimizations and inlining (by default
    /// fixtures are built with `-gcflags=all=-N -l`, as debuggers want).
    pub optimized: bool,
    /// Build with `-trimpath`.
    pub trimpath: bool,
    /// Extra `-ldflags`, e.g. `-s -w` to strip.
    pub ldflags: Option<String>,
}

impl BuildOptions {
    /// The default debug build.
    pub fn debug() -> BuildOptions {
        BuildOptions::default()
    }

    /// An optimized build (inlining on).
    pub fn optimized() -> BuildOptions {
        BuildOptions {
            optimized: true,
            ..BuildOptions::default()
        }
    }

    /// A short tag for cache paths and test messages.
    pub fn tag(&self) -> String {
        let mut tag = String::from(if self.optimized { "opt" } else { "dbg" });
        if self.trimpath {
            tag.push_str("-trim");
        }
        if self.ldflags.is_some() {
            tag.push_str("-ld");
        }
        tag
    }
}

/// The source directory of fixture `name`.
pub fn fixture_dir(name: &str) -> PathBuf {
    repo_root().join("tests/fixtures").join(name)
}

/// Serializes builds within one test process; separate processes are kept
/// apart by building into a private directory and renaming into place.
static BUILD_LOCK: Mutex<()> = Mutex::new(());

/// Builds fixture `name` with `toolchain` and `options` (once; later calls
/// return the cached executable) and returns the executable's path.
/// Panics with the compiler's output when the build fails.
pub fn build_fixture(name: &str, toolchain: &GoToolchain, options: &BuildOptions) -> PathBuf {
    let source = fixture_dir(name);
    let mut hasher = DefaultHasher::new();
    hash_tree(&source, &mut hasher);
    toolchain.version.hash(&mut hasher);
    options.hash(&mut hasher);
    let key = format!(
        "{name}-{}-{}-{:016x}",
        toolchain.version,
        options.tag(),
        hasher.finish()
    );
    let dir = target_dir().join("fixtures").join(key);
    let exe = dir.join(name);
    let _guard = BUILD_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    if exe.exists() {
        return exe;
    }
    let staging = dir.with_extension(format!("tmp{}", std::process::id()));
    std::fs::create_dir_all(&staging).expect("create fixture staging directory");
    let mut cmd = toolchain.command();
    cmd.current_dir(&source)
        .arg("build")
        .arg("-o")
        .arg(staging.join(name));
    if !options.optimized {
        cmd.arg("-gcflags=all=-N -l");
    }
    if options.trimpath {
        cmd.arg("-trimpath");
    }
    if let Some(ldflags) = &options.ldflags {
        cmd.arg(format!("-ldflags={ldflags}"));
    }
    cmd.arg(".");
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", toolchain.go.display()));
    assert!(
        out.status.success(),
        "building fixture {name} with {} failed:\n{}",
        toolchain.version,
        String::from_utf8_lossy(&out.stderr)
    );
    // Another process may have won the race; either result is the same build.
    if std::fs::rename(&staging, &dir).is_err() {
        let _ = std::fs::remove_dir_all(&staging);
    }
    assert!(
        exe.exists(),
        "fixture build left no executable at {}",
        exe.display()
    );
    exe
}

/// Hashes every file under `dir` (sorted relative paths and contents).
fn hash_tree(dir: &Path, hasher: &mut DefaultHasher) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read fixture directory {}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for path in entries {
        path.file_name().hash(hasher);
        if path.is_dir() {
            hash_tree(&path, hasher);
        } else {
            std::fs::read(&path)
                .expect("read fixture file")
                .hash(hasher);
        }
    }
}

/// Builds `tests/c/<name>.c` with gcc (`-O0 -g -no-pie -pthread`, so symbol
/// addresses are fixed and `nm` gives them directly), once per source hash.
pub fn build_c_program(name: &str) -> PathBuf {
    let source = repo_root().join("tests/c").join(format!("{name}.c"));
    let text =
        std::fs::read(&source).unwrap_or_else(|e| panic!("cannot read {}: {e}", source.display()));
    let mut hasher = DefaultHasher::new();
    text.hash(&mut hasher);
    let dir = target_dir()
        .join("fixtures")
        .join(format!("c-{name}-{:016x}", hasher.finish()));
    let exe = dir.join(name);
    let _guard = BUILD_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    if exe.exists() {
        return exe;
    }
    let staging = dir.with_extension(format!("tmp{}", std::process::id()));
    std::fs::create_dir_all(&staging).expect("create C fixture staging directory");
    let out = std::process::Command::new("gcc")
        .args(["-O0", "-g", "-no-pie", "-pthread", "-o"])
        .arg(staging.join(name))
        .arg(&source)
        .output()
        .expect("run gcc");
    assert!(
        out.status.success(),
        "gcc {name}.c failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    if std::fs::rename(&staging, &dir).is_err() {
        let _ = std::fs::remove_dir_all(&staging);
    }
    exe
}
