//! The `dlv ...` commands a DAP client can type in its debug console
//! (an `evaluate` request whose expression starts with `dlv `), answered
//! as Delve's DAP server answers them, so what users learned there works.

use super::config::SessionArgs;

/// Why a `dlv` command failed (the text goes after "Unable to run dlv
/// command: ").
pub type CommandError = String;

/// What a command needs from the session besides its settings.
pub trait CommandContext {
    /// The program's source files.
    fn source_files(&self) -> Result<Vec<String>, String>;
    /// The program's type names.
    fn type_names(&self) -> Result<Vec<String>, String>;
}

/// The commands, with their one-line and full help.
const COMMANDS: &[(&[&str], &str)] = &[
    (&["help", "h"], HELP_HELP),
    (&["config"], HELP_CONFIG),
    (&["sources", "s"], HELP_SOURCES),
    (&["types"], HELP_TYPES),
    (&["target"], HELP_TARGET),
    (&["examinemem", "x"], HELP_EXAMINEMEM),
];

const HELP_HELP: &str = "Prints the help message.\n\t\ndlv help [command]\n\nType \"help\" followed by the name of a command for more information about it.";
const HELP_CONFIG: &str = "Changes configuration parameters.\n\t\n\tdlv config -list\n\t\n\t\tShow all configuration parameters.\n\n\tdlv config -list <parameter>\n\t\n\t\tShow value of a configuration parameter.\n\t\n\tdlv config <parameter> <value>\n\t\n\t\tChanges the value of a configuration parameter.\n\t\n\tdlv config substitutePath <from> <to>\n\tdlv config substitutePath <from>\n\tdlv config substitutePath -clear\n\t\n\t\tAdds or removes a path substitution rule. If -clear is used all substitutePath rules are removed.\n\t\tSee also Documentation/cli/substitutepath.md.\n\n\tdlv config showPprofLabels <label>\n\tdlv config showPprofLabels -clear <label>\n\tdlv config showPprofLabels -clear\n\n\t\tAdds or removes a label key to show in the callstack view. If -clear is used without an argument,\n\t\tall labels are removed.";
const HELP_SOURCES: &str = "Print list of source files.\n\n\tdlv sources [<regex>]\n\nIf regex is specified only the source files matching it will be returned.";
const HELP_TYPES: &str = "Print list of types.\n\n\tdlv types [<regex>]\n\nIf regex is specified only the types matching it will be returned.";
const HELP_TARGET: &str =
    "Manages child process debugging.\n\n        target list\n\nList currently attached processes.";
const HELP_EXAMINEMEM: &str = "Examine raw memory at the given address.\n\n\tdlv examinemem [-fmt <format>] [-count|-len <count>] [-size <size>] <address>";

/// The result of a command: its text, and whether settings that change
/// what the client shows were updated (it then refreshes: `invalidated`).
pub struct Outcome {
    /// What the console shows.
    pub text: String,
    /// Areas to invalidate (`variables`, `threads`), if any.
    pub invalidated: Option<&'static str>,
}

/// Runs `dlv <line>`.
pub fn run(
    line: &str,
    args: &mut SessionArgs,
    context: &dyn CommandContext,
) -> Result<Outcome, CommandError> {
    let (name, rest) = split_two(line.trim());
    let plain = |text: String| {
        Ok(Outcome {
            text,
            invalidated: None,
        })
    };
    match name {
        "help" | "h" => plain(help(rest)?),
        "config" => config(rest, args),
        "sources" | "s" => plain(matching(context.source_files()?, rest)?),
        "types" => plain(matching(context.type_names()?, rest)?),
        _ => Err("command not available".to_owned()),
    }
}

/// The names `pattern` (a regular expression; empty: all) matches,
/// sorted, one per line.
fn matching(names: Vec<String>, pattern: &str) -> Result<String, CommandError> {
    let pattern = regex::Regex::new(pattern).map_err(|e| e.to_string())?;
    let mut names: Vec<String> = names.into_iter().filter(|n| pattern.is_match(n)).collect();
    names.sort();
    Ok(names.join("\n"))
}

fn help(topic: &str) -> Result<String, CommandError> {
    if !topic.is_empty() {
        return COMMANDS
            .iter()
            .find(|(aliases, _)| aliases.contains(&topic))
            .map(|(_, text)| (*text).to_owned())
            .ok_or_else(|| "command not available".to_owned());
    }
    let mut out = String::from("The following commands are available:\n");
    for (aliases, text) in COMMANDS {
        let summary = text.lines().next().unwrap_or("");
        match aliases {
            [name] => out.push_str(&format!("    dlv {name} \t {summary}\n")),
            [name, others @ ..] => out.push_str(&format!(
                "    dlv {name} (alias: {}) \t {summary}\n",
                others.join(" | ")
            )),
            [] => {}
        }
    }
    out.push_str("\nType 'dlv help' followed by a command for full documentation.\n");
    Ok(out)
}

/// Every setting, in Delve's order, as `name\tvalue`.
fn settings(args: &SessionArgs) -> Vec<(&'static str, String)> {
    let quoted = |s: &str| format!("{s:?}");
    let list = |items: &[String]| format!("[{}]", items.join(" "));
    let rules: Vec<String> = args
        .substitute_path
        .iter()
        .map(|(from, to)| format!("[{from} {to}]"))
        .collect();
    vec![
        ("stackTraceDepth", args.stack_trace_depth.to_string()),
        ("maxStringLen", args.max_string_len.to_string()),
        ("maxArrayValues", args.max_array_values.to_string()),
        (
            "showGlobalVariables",
            args.show_global_variables.to_string(),
        ),
        ("showRegisters", args.show_registers.to_string()),
        ("goroutineFilters", quoted(&args.goroutine_filters)),
        ("showPprofLabels", list(&args.show_pprof_labels)),
        (
            "hideSystemGoroutines",
            args.hide_system_goroutines.to_string(),
        ),
        ("substitutePath", list(&rules)),
        ("followExec", "false".to_owned()),
        ("followExecRegex", quoted("")),
        ("showRawStrings", args.show_raw_strings.to_string()),
    ]
}

fn config(rest: &str, args: &mut SessionArgs) -> Result<Outcome, CommandError> {
    let (name, value) = split_two(rest);
    if name == "-list" {
        let text = if value.is_empty() {
            settings(args)
                .into_iter()
                .map(|(n, v)| format!("{n}\t{v}\n"))
                .collect()
        } else {
            setting_line(args, value)
        };
        return Ok(Outcome {
            text,
            invalidated: None,
        });
    }
    if !settings(args).iter().any(|(n, _)| *n == name) || name == "followExec" {
        return Err(format!("{name:?} is not a configuration parameter"));
    }
    let number = |v: &str| v.parse::<i64>().map_err(|e| e.to_string());
    let flag = |v: &str| v.parse::<bool>().map_err(|e| e.to_string());
    match name {
        "stackTraceDepth" => args.stack_trace_depth = number(value)?.max(1) as usize,
        "maxStringLen" => args.max_string_len = number(value)?,
        "maxArrayValues" => args.max_array_values = number(value)?,
        "showGlobalVariables" => args.show_global_variables = flag(value)?,
        "showRegisters" => args.show_registers = flag(value)?,
        "goroutineFilters" => args.goroutine_filters = value.to_owned(),
        "hideSystemGoroutines" => args.hide_system_goroutines = flag(value)?,
        "showRawStrings" => args.show_raw_strings = flag(value)?,
        "showPprofLabels" => set_labels(args, value)?,
        "substitutePath" => set_substitution(args, value)?,
        _ => return Err(format!("{name:?} is not a configuration parameter")),
    }
    let invalidated = match name {
        "showGlobalVariables" | "showRegisters" => Some("variables"),
        "goroutineFilters" | "hideSystemGoroutines" | "showPprofLabels" => Some("threads"),
        _ => None,
    };
    Ok(Outcome {
        text: format!("{}\nUpdated", setting_line(args, name)),
        invalidated,
    })
}

fn setting_line(args: &SessionArgs, name: &str) -> String {
    settings(args)
        .into_iter()
        .find(|(n, _)| *n == name)
        .map_or_else(String::new, |(n, v)| format!("{n}\t{v}\n"))
}

fn set_labels(args: &mut SessionArgs, value: &str) -> Result<(), CommandError> {
    let words: Vec<&str> = value.split_whitespace().collect();
    match words.as_slice() {
        ["-clear"] => args.show_pprof_labels.clear(),
        [] => {}
        ["-clear", label] => {
            let before = args.show_pprof_labels.len();
            args.show_pprof_labels.retain(|l| l != label);
            if args.show_pprof_labels.len() == before {
                return Err(format!("could not find label {label:?}"));
            }
        }
        [label] => args.show_pprof_labels.push((*label).to_owned()),
        _ => return Err("too many arguments to \"config showPprofLabels\"".to_owned()),
    }
    Ok(())
}

fn set_substitution(args: &mut SessionArgs, value: &str) -> Result<(), CommandError> {
    let words: Vec<&str> = value.split_whitespace().collect();
    match words.as_slice() {
        ["-clear"] => args.substitute_path.clear(),
        [] => {}
        [from] | ["-clear", from] => {
            let before = args.substitute_path.len();
            args.substitute_path.retain(|(f, _)| f != from);
            if args.substitute_path.len() == before {
                return Err(format!("could not find rule for {from:?}"));
            }
        }
        [from, to] => match args.substitute_path.iter_mut().find(|(f, _)| f == from) {
            Some(rule) => rule.1 = (*to).to_owned(),
            None => args
                .substitute_path
                .push(((*from).to_owned(), (*to).to_owned())),
        },
        _ => return Err("too many arguments to \"config substitutePath\"".to_owned()),
    }
    Ok(())
}

/// The first word and the rest, trimmed.
fn split_two(text: &str) -> (&str, &str) {
    match text.split_once(char::is_whitespace) {
        Some((first, rest)) => (first, rest.trim()),
        None => (text, ""),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct NoSources;
    impl CommandContext for NoSources {
        fn source_files(&self) -> Result<Vec<String>, String> {
            Ok(vec!["/b.go".into(), "/a.go".into()])
        }
        fn type_names(&self) -> Result<Vec<String>, String> {
            Ok(Vec::new())
        }
    }

    #[test]
    fn config_changes_and_lists_settings() {
        let mut args = SessionArgs::default();
        let out = run("config showGlobalVariables true", &mut args, &NoSources).unwrap();
        assert_eq!(out.text, "showGlobalVariables\ttrue\n\nUpdated");
        assert_eq!(out.invalidated, Some("variables"));
        assert!(args.show_global_variables);
        run(
            "config substitutePath /client /server",
            &mut args,
            &NoSources,
        )
        .unwrap();
        assert_eq!(args.to_server_path("/client/x.go"), "/server/x.go");
        let err = run("config nosuch 1", &mut args, &NoSources).err().unwrap();
        assert_eq!(err, "\"nosuch\" is not a configuration parameter");
        assert_eq!(
            run("sources", &mut args, &NoSources).unwrap().text,
            "/a.go\n/b.go"
        );
        assert_eq!(
            run("nosuchcommand", &mut args, &NoSources).err().unwrap(),
            "command not available"
        );
    }
}
