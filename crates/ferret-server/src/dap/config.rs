//! Launch and attach configurations: the keys Delve's DAP server reads,
//! with its names, defaults and meanings.

use std::path::PathBuf;

use ferret_debugger::goroutines::{GoroutineField, GoroutineFilter};
use ferret_debugger::TargetSpec;
use ferret_target::linux::LaunchOptions;
use serde_json::Value;

/// Settings every launch and attach shares (Delve's
/// `LaunchAttachCommonConfig`), changeable later with `dlv config`.
#[derive(Debug, Clone)]
pub struct SessionArgs {
    /// Stop at entry instead of running after `configurationDone`.
    pub stop_on_entry: bool,
    /// Frames loaded when a `stackTrace` asks for no number.
    pub stack_trace_depth: usize,
    /// Show a `Globals` scope with the current package's variables.
    pub show_global_variables: bool,
    /// Show a `Registers` scope.
    pub show_registers: bool,
    /// Leave runtime goroutines out of `threads`.
    pub hide_system_goroutines: bool,
    /// Filters for `threads`, in the `goroutines` command's syntax.
    pub goroutine_filters: String,
    /// pprof label keys shown in thread names (`*`: all).
    pub show_pprof_labels: Vec<String>,
    /// (client prefix, server prefix) pairs for source paths.
    pub substitute_path: Vec<(String, String)>,
    /// Longest string loaded (0: the default).
    pub max_string_len: i64,
    /// Most elements loaded of an array, slice or map (0: the default).
    pub max_array_values: i64,
    /// Show strings without escaping.
    pub show_raw_strings: bool,
    /// Most goroutines `threads` lists (Delve's fixed 1024; ferret's
    /// `maxGoroutines` key changes it). Filters apply to every goroutine
    /// before the limit, not only to the first ones as in Delve.
    pub max_goroutines: usize,
}

impl Default for SessionArgs {
    fn default() -> SessionArgs {
        SessionArgs {
            stop_on_entry: false,
            stack_trace_depth: 50,
            show_global_variables: false,
            show_registers: false,
            hide_system_goroutines: false,
            goroutine_filters: String::new(),
            show_pprof_labels: Vec::new(),
            substitute_path: Vec::new(),
            max_goroutines: 1024,
            max_string_len: 0,
            max_array_values: 0,
            show_raw_strings: false,
        }
    }
}

impl SessionArgs {
    /// Reads the common keys of a launch or attach request's arguments.
    pub fn from_arguments(arguments: &Value) -> Result<SessionArgs, String> {
        let mut args = SessionArgs::default();
        let flag = |key: &str| arguments.get(key).and_then(Value::as_bool).unwrap_or(false);
        args.stop_on_entry = flag("stopOnEntry");
        args.show_global_variables = flag("showGlobalVariables");
        args.show_registers = flag("showRegisters");
        args.hide_system_goroutines = flag("hideSystemGoroutines");
        if let Some(depth) = arguments.get("stackTraceDepth").and_then(Value::as_u64) {
            if depth > 0 {
                args.stack_trace_depth = depth as usize;
            }
        }
        args.show_raw_strings = flag("showRawStrings");
        let number = |key: &str| arguments.get(key).and_then(Value::as_i64).unwrap_or(0);
        args.max_string_len = number("maxStringLen");
        args.max_array_values = number("maxArrayValues");
        if let Some(max) = arguments.get("maxGoroutines").and_then(Value::as_u64) {
            if max > 0 {
                args.max_goroutines = max as usize;
            }
        }
        if let Some(filters) = arguments.get("goroutineFilters").and_then(Value::as_str) {
            args.goroutine_filters = filters.to_owned();
        }
        if let Some(labels) = arguments.get("showPprofLabels").and_then(Value::as_array) {
            args.show_pprof_labels = labels
                .iter()
                .filter_map(|l| l.as_str().map(str::to_owned))
                .collect();
        }
        if let Some(rules) = arguments.get("substitutePath").and_then(Value::as_array) {
            for rule in rules {
                let from = rule.get("from").and_then(Value::as_str);
                let to = rule.get("to").and_then(Value::as_str);
                match (from, to) {
                    (Some(from), Some(to)) => args.substitute_path.push((from.into(), to.into())),
                    _ => {
                        return Err(
                            "'substitutePath' requires both 'from' and 'to' entries".to_owned()
                        )
                    }
                }
            }
        }
        Ok(args)
    }

    /// A path as the client knows it, from the server's.
    pub fn to_client_path(&self, path: &str) -> String {
        substitute(path, self.substitute_path.iter().map(|(c, s)| (s, c)))
    }

    /// A path as the server knows it, from the client's.
    pub fn to_server_path(&self, path: &str) -> String {
        substitute(path, self.substitute_path.iter().map(|(c, s)| (c, s)))
    }

    /// The `threads` filters: `goroutineFilters` parsed, plus `user` when
    /// system goroutines are hidden.
    pub fn thread_filters(&self) -> Result<Vec<GoroutineFilter>, String> {
        let mut filters = parse_goroutine_filters(&self.goroutine_filters)?;
        if self.hide_system_goroutines {
            filters.push(GoroutineFilter {
                field: GoroutineField::User,
                negated: false,
                arg: String::new(),
            });
        }
        Ok(filters)
    }
}

/// Replaces the first matching prefix (`from` -> `to`), on whole path
/// components.
fn substitute<'a>(path: &str, rules: impl Iterator<Item = (&'a String, &'a String)>) -> String {
    for (from, to) in rules {
        if from.is_empty() {
            continue;
        }
        if let Some(rest) = path.strip_prefix(from.as_str()) {
            if rest.is_empty() || rest.starts_with('/') || from.ends_with('/') {
                return format!("{to}{rest}");
            }
        }
    }
    path.to_owned()
}

/// Parses the filter part of the `goroutines` command's arguments
/// (`-with KIND [ARG]`, `-without KIND [ARG]`, short `-w`/`-wo`); other
/// options are left alone, as Delve's DAP server uses only the filters.
pub fn parse_goroutine_filters(text: &str) -> Result<Vec<GoroutineFilter>, String> {
    let words: Vec<&str> = text.split_whitespace().collect();
    let mut filters = Vec::new();
    let mut i = 0;
    while i < words.len() {
        let negated = match words[i] {
            "-with" | "-w" => false,
            "-without" | "-wo" => true,
            _ => {
                i += 1;
                continue;
            }
        };
        let kind = words
            .get(i + 1)
            .ok_or_else(|| format!("{} needs a kind", words[i]))?;
        let field = match *kind {
            "curloc" | "c" => GoroutineField::CurrentLoc,
            "userloc" | "u" => GoroutineField::UserLoc,
            "goloc" | "g" => GoroutineField::GoLoc,
            "startloc" | "s" => GoroutineField::StartLoc,
            "label" | "l" => GoroutineField::Label,
            "running" | "r" => GoroutineField::Running,
            "user" => GoroutineField::User,
            other => return Err(format!("unrecognized argument {other:?}")),
        };
        let takes_arg = !matches!(field, GoroutineField::Running | GoroutineField::User);
        let arg = if takes_arg {
            let arg = words
                .get(i + 2)
                .ok_or_else(|| format!("{} {kind} needs an argument", words[i]))?;
            i += 3;
            (*arg).to_owned()
        } else {
            i += 2;
            String::new()
        };
        filters.push(GoroutineFilter {
            field,
            negated,
            arg,
        });
    }
    Ok(filters)
}

/// What a standalone server's `launch` starts, from its arguments.
pub fn launch_spec(arguments: &Value) -> Result<TargetSpec, String> {
    let mode = arguments
        .get("mode")
        .and_then(Value::as_str)
        .unwrap_or("debug");
    let program = arguments
        .get("program")
        .and_then(Value::as_str)
        .unwrap_or("");
    if program.is_empty() {
        return Err("The program attribute is missing in debug configuration.".to_owned());
    }
    match mode {
        "exec" => {
            if std::fs::metadata(program).is_err() {
                return Err(format!(
                    "could not launch process: open {program}: no such file or directory"
                ));
            }
        }
        "core" => {
            let core = arguments
                .get("coreFilePath")
                .and_then(Value::as_str)
                .unwrap_or("");
            if core.is_empty() {
                return Err(
                    "The 'coreFilePath' attribute is missing in debug configuration.".to_owned(),
                );
            }
            return Ok(TargetSpec::Core {
                binary: program.into(),
                core: core.into(),
                allow_mismatch: false,
            });
        }
        "debug" | "test" | "replay" => {
            return Err(format!(
                "invalid debug configuration - mode {mode:?} is not supported by ferret: build the program \
                 with `go build -gcflags=all=-N -l` and use mode \"exec\""
            ))
        }
        other => {
            return Err(format!(
                "invalid debug configuration - unsupported 'mode' attribute {other:?}"
            ))
        }
    }
    let args = match arguments.get("args") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|a| {
                a.as_str().map(str::to_owned).ok_or_else(|| {
                    "invalid debug configuration - 'args' must be strings".to_owned()
                })
            })
            .collect::<Result<_, _>>()?,
        Some(_) => return Err("invalid debug configuration - 'args' must be a list".to_owned()),
    };
    let cwd = arguments
        .get("cwd")
        .and_then(Value::as_str)
        .filter(|c| !c.is_empty())
        .map(PathBuf::from);
    let env = match arguments.get("env").and_then(Value::as_object) {
        None => None,
        Some(changes) => {
            let mut env: Vec<(String, String)> = std::env::vars().collect();
            for (key, value) in changes {
                env.retain(|(k, _)| k != key);
                if let Some(value) = value.as_str() {
                    env.push((key.clone(), value.to_owned()));
                }
            }
            Some(env.into_iter().map(|(k, v)| format!("{k}={v}")).collect())
        }
    };
    let path_arg = |key: &str| {
        arguments
            .get(key)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(PathBuf::from)
    };
    Ok(TargetSpec::Launch(LaunchOptions {
        program: program.into(),
        args,
        env,
        cwd,
        stdin: path_arg("stdinFrom"),
        stdout: path_arg("stdoutTo"),
        stderr: path_arg("stderrTo"),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn goroutine_filters_parse_as_the_goroutines_command() {
        let filters = parse_goroutine_filters("-with user -without curloc main.go -w r").unwrap();
        assert_eq!(filters.len(), 3);
        assert_eq!(filters[0].field, GoroutineField::User);
        assert!(filters[1].negated);
        assert_eq!(filters[1].arg, "main.go");
        assert_eq!(filters[2].field, GoroutineField::Running);
        assert!(parse_goroutine_filters("-with nonsense").is_err());
    }

    #[test]
    fn paths_substitute_on_whole_components() {
        let args = SessionArgs {
            substitute_path: vec![("/home/me/src".into(), "/build".into())],
            ..SessionArgs::default()
        };
        assert_eq!(
            args.to_server_path("/home/me/src/main.go"),
            "/build/main.go"
        );
        assert_eq!(
            args.to_client_path("/build/main.go"),
            "/home/me/src/main.go"
        );
        assert_eq!(args.to_client_path("/buildx/main.go"), "/buildx/main.go");
    }
}
