//! Delve's location syntax (the subset ferret supports so far), parsed and
//! resolved to addresses.
//!
//! Supported: `main.main`, `pkg.Func`, `pkg.(*T).Method`, `pkg.T.Method`,
//! `file.go:12` (any unambiguous path suffix) and `/abs/path/file.go:12`.
//! Offsets (`+N`, `-N`), addresses (`*0x...`) and regular expressions come
//! later.

use crate::error::{BinaryError, Result};

/// A parsed location expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LocationSpec {
    /// A fully qualified function name.
    Function(String),
    /// A source line, with the file given as a path or a path suffix.
    FileLine {
        /// Absolute path or a suffix of one (`main.go`, `hello/main.go`).
        file: String,
        /// 1-based line.
        line: u32,
    },
}

impl LocationSpec {
    /// Parses `spec`; errors name the expression and say what is wrong.
    pub fn parse(spec: &str) -> Result<LocationSpec> {
        let bad = |reason: &str| BinaryError::BadLocation {
            spec: spec.to_owned(),
            reason: reason.to_owned(),
        };
        let trimmed = spec.trim();
        if trimmed.is_empty() {
            return Err(bad("empty location"));
        }
        if trimmed.starts_with('+') || trimmed.starts_with('-') {
            return Err(bad("line offsets are not supported yet"));
        }
        if trimmed.starts_with('*') {
            return Err(bad("address locations are not supported yet"));
        }
        if trimmed.starts_with('/') && !trimmed.contains(':') {
            return Err(bad("regular expression locations are not supported yet"));
        }
        if trimmed.chars().any(char::is_whitespace) {
            return Err(bad("a location has no spaces"));
        }
        if let Some((file, line)) = trimmed.rsplit_once(':') {
            if file.is_empty() {
                return Err(bad("missing file name before ':'"));
            }
            let line: u32 = line
                .parse()
                .map_err(|_| bad("the part after ':' must be a line number"))?;
            if line == 0 {
                return Err(bad("line numbers start at 1"));
            }
            return Ok(LocationSpec::FileLine {
                file: file.to_owned(),
                line,
            });
        }
        Ok(LocationSpec::Function(trimmed.to_owned()))
    }
}

/// What a location resolved to, shaped like Delve's `api.Location`: every
/// address, and the source position of the first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The lowest address in `pcs`.
    pub pc: u64,
    /// Every address, sorted: for a function, its first address after the
    /// prologue and the start of each inlined copy; for a source line, one
    /// address per function and per inlined copy holding the line.
    pub pcs: Vec<u64>,
    /// The concrete function holding `pc`.
    pub function: Option<String>,
    /// Source file of `pc` (the innermost one, for inlined code).
    pub file: String,
    /// Source line of `pc`.
    pub line: u32,
}

/// Whether the source path `path` is what the user's `file` names: the
/// same path, or a suffix of it starting at a path separator.
pub(crate) fn file_matches(path: &str, file: &str) -> bool {
    if file.starts_with('/') {
        return path == file;
    }
    path == file || (path.ends_with(file) && path.as_bytes()[path.len() - file.len() - 1] == b'/')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_functions_and_lines() {
        assert_eq!(
            LocationSpec::parse("main.main").unwrap(),
            LocationSpec::Function("main.main".into())
        );
        assert_eq!(
            LocationSpec::parse("pkg.(*T).Method").unwrap(),
            LocationSpec::Function("pkg.(*T).Method".into())
        );
        assert_eq!(
            LocationSpec::parse("/a/b/main.go:12").unwrap(),
            LocationSpec::FileLine {
                file: "/a/b/main.go".into(),
                line: 12
            }
        );
        assert_eq!(
            LocationSpec::parse("main.go:7").unwrap(),
            LocationSpec::FileLine {
                file: "main.go".into(),
                line: 7
            }
        );
    }

    #[test]
    fn rejects_what_it_does_not_support() {
        for spec in [
            "",
            "+3",
            "-1",
            "*0x401000",
            "/regex/",
            "main.go:x",
            "main.go:0",
            ":12",
            "a b",
        ] {
            assert!(
                matches!(
                    LocationSpec::parse(spec),
                    Err(BinaryError::BadLocation { .. })
                ),
                "{spec}"
            );
        }
    }

    #[test]
    fn suffix_matching_respects_separators() {
        assert!(file_matches("/src/hello/main.go", "main.go"));
        assert!(file_matches("/src/hello/main.go", "hello/main.go"));
        assert!(!file_matches("/src/hello/xmain.go", "main.go"));
        assert!(file_matches("/src/hello/main.go", "/src/hello/main.go"));
        assert!(!file_matches("/src/hello/main.go", "/hello/main.go"));
    }
}
