//! The one error type of this crate.

use std::path::PathBuf;

/// Everything that can go wrong while reading a Go binary or answering a
/// question about it. Each variant carries the value that caused it so the
/// message is useful on its own, on the wire or on a terminal.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum BinaryError {
    /// The file could not be opened or mapped.
    #[error("cannot open {path}: {source}")]
    Io {
        /// The file asked for.
        path: PathBuf,
        /// What the OS said (shared so the error can be cloned out of caches).
        source: std::sync::Arc<std::io::Error>,
    },
    /// The path names a directory, not an executable.
    #[error("{path} is a directory, not a Go executable")]
    IsDirectory {
        /// The path asked for.
        path: PathBuf,
    },
    /// The file does not start with the ELF magic.
    #[error("{path} is not an ELF executable (ferret reads Linux ELF binaries only)")]
    NotElf {
        /// The file asked for.
        path: PathBuf,
    },
    /// The file is ELF but its headers or a section point past its end.
    #[error("{path} is truncated or corrupt: {detail}")]
    Truncated {
        /// The file asked for.
        path: PathBuf,
        /// What did not fit.
        detail: String,
    },
    /// The ELF file has no trace of the Go toolchain.
    #[error(
        "{path} is not a Go executable (no .go.buildinfo, .gopclntab or runtime.buildVersion)"
    )]
    NotGo {
        /// The file asked for.
        path: PathBuf,
    },
    /// A Go binary without DWARF, e.g. built with `-ldflags=-s -w`.
    #[error(
        "{path} has no DWARF debug information (built with -ldflags='-s -w' or stripped); \
         rebuild it without those flags, e.g. `go build -gcflags='all=-N -l' -o {}`",
        path.display()
    )]
    Stripped {
        /// The file asked for.
        path: PathBuf,
    },
    /// An architecture other than the ones ferret supports.
    #[error("{path} is built for {arch}; ferret supports x86-64 and arm64 Linux binaries")]
    UnsupportedArchitecture {
        /// The file asked for.
        path: PathBuf,
        /// The ELF machine as named by the object crate.
        arch: String,
    },
    /// A DWARF section could not be decompressed or parsed.
    #[error("bad DWARF in {what}: {source}")]
    Dwarf {
        /// Which section or unit.
        what: String,
        /// gimli's description.
        source: gimli::Error,
    },
    /// A section is present but its content could not be read.
    #[error("cannot read section {section}: {detail}")]
    Section {
        /// The section name.
        section: String,
        /// What went wrong.
        detail: String,
    },
    /// A location expression is not in a syntax ferret understands.
    #[error("invalid location {spec:?}: {reason}")]
    BadLocation {
        /// The location as the user typed it.
        spec: String,
        /// Why it was rejected.
        reason: String,
    },
    /// A location expression matched nothing in the binary.
    #[error("location {spec:?} not found")]
    LocationNotFound {
        /// The location as the user typed it.
        spec: String,
    },
    /// A file name in a location matched several source files.
    #[error("location {spec:?} is ambiguous: {}", candidates.join(", "))]
    AmbiguousLocation {
        /// The location as the user typed it.
        spec: String,
        /// The matching files.
        candidates: Vec<String>,
    },
    /// The binary does not describe a runtime structure ferret needs to
    /// read goroutines (a stripped runtime, or a Go version too different).
    #[error("cannot read goroutines: the binary does not describe {what}")]
    RuntimeMissing {
        /// The type, field or symbol that is missing.
        what: String,
    },
    /// Target memory that the runtime's structures point at is unreadable.
    #[error("cannot read {what} from the target: {detail}")]
    Memory {
        /// What was being read.
        what: String,
        /// What the target layer said.
        detail: String,
    },
}

impl BinaryError {
    /// Wraps a gimli error with a description of where it happened.
    pub(crate) fn dwarf(what: impl Into<String>, source: gimli::Error) -> Self {
        BinaryError::Dwarf {
            what: what.into(),
            source,
        }
    }
}

/// Result alias for this crate.
pub type Result<T, E = BinaryError> = std::result::Result<T, E>;
