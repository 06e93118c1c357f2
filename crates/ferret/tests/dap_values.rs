//! DAP values: the `vars` fixture (one variable of each kind of Go value)
//! paused in a core, shown through DAP by the real `dlv dap` and by
//! ferret's `dap::values` over the session's `Debugger`. The Locals scope
//! is walked as a client does (children to a depth of 5, long lists paged
//! the way VS Code pages them, partly loaded ones paged more), and
//! expressions are evaluated in every context: each `variables` and
//! `evaluate` answer, handles included, must be dlv's. Both read the same
//! core, so addresses need no normalizing.

use ferret_debugger::model::{EvalScope, LoadConfig, Variable};
use ferret_debugger::{Debugger, TargetSpec};
use ferret_server::dap::values::{self, Expandable, Options};
use ferret_testkit::dap::DelveDap;
use ferret_testkit::delve::Delve;
use ferret_testkit::fixture::{build_fixture, BuildOptions};
use ferret_testkit::target_dir;
use ferret_testkit::toolchain::GoToolchain;
use ferret_testkit::vars::vars_core;
use serde_json::{json, Value};

/// How deep the walk goes below the Locals scope.
const MAX_DEPTH: usize = 5;
/// VS Code shows an indexed list of more than this many in pages of
/// this size.
const PAGE: i64 = 100;
/// The first handle of a stop (Delve's handle maps start there).
const FIRST_HANDLE: i64 = 1000;

/// Expressions evaluated in every context.
const EXPRESSIONS: &[&str] = &[
    "s",
    "long",
    "uni",
    "empty",
    "u8",
    "uptr",
    "c64",
    "day",
    "p",
    "pp",
    "&p",
    "*pp",
    "&outer",
    "nilPtr",
    "arr",
    "bigArr",
    "sl",
    "bytes",
    "m",
    "bigMap",
    "nilMap",
    "ch",
    "fn",
    "closure",
    "shape",
    "nilShape",
    "anyInt",
    "err",
    "outer",
    "n1",
    "when",
    "uptrPoint",
    "matrix",
    "points",
    "box",
    "len(s)",
    "sl[1]",
    "i+1",
    "bigMap[42]",
    "nosuch",
];

/// Contexts a client evaluates in.
const CONTEXTS: &[&str] = &["watch", "repl", "hover", "clipboard", "variables"];

/// The client setups tried: what VS Code asks for, and a client that
/// neither pages nor shows types, with raw strings and small limits (so
/// that strings and lists are cut, read again and paged).
fn setups() -> [(&'static str, Options); 2] {
    [
        ("vscode", Options::default()),
        (
            "small",
            Options {
                client_shows_types: false,
                client_pages_variables: false,
                raw_strings: true,
                max_string_len: 20,
                max_array_values: 5,
            },
        ),
    ]
}

/// The requests both sides answer, as comparable JSON: a response's body,
/// or for a failure its message and error.
trait Dap {
    fn variables(&mut self, reference: i64, filter: Option<&str>, start: i64, count: i64) -> Value;
    fn evaluate(&mut self, expression: &str, context: &str) -> Value;
}

/// `dlv dap` on the core, stopped, with the main.main frame's id.
struct DelveSide {
    dlv: DelveDap,
    frame_id: Value,
}

impl DelveSide {
    fn start(exe: &std::path::Path, core: &std::path::Path, options: &Options) -> DelveSide {
        let mut dlv = DelveDap::start();
        let client = &mut dlv.client;
        let initialized = client.request(
            "initialize",
            json!({"clientID": "vscode", "adapterID": "go", "linesStartAt1": true,
                   "columnsStartAt1": true, "pathFormat": "path",
                   "supportsVariableType": options.client_shows_types,
                   "supportsVariablePaging": options.client_pages_variables,
                   "supportsMemoryReferences": true}),
        );
        assert_eq!(initialized["success"], true, "{initialized}");
        let launched = client.request(
            "launch",
            json!({"mode": "core", "program": exe, "coreFilePath": core, "stopOnEntry": true,
                   "maxStringLen": options.max_string_len,
                   "maxArrayValues": options.max_array_values,
                   "showRawStrings": options.raw_strings}),
        );
        assert_eq!(launched["success"], true, "{launched}");
        let done = client.request("configurationDone", Value::Null);
        assert_eq!(done["success"], true, "{done}");
        client.wait_event("stopped");
        let stack = client.request(
            "stackTrace",
            json!({"threadId": 1, "startFrame": 0, "levels": 40}),
        );
        let frame_id = stack["body"]["stackFrames"]
            .as_array()
            .and_then(|frames| frames.iter().find(|f| f["name"] == "main.main"))
            .map(|f| f["id"].clone())
            .unwrap_or_else(|| panic!("no main.main frame in {stack}"));
        let scopes = client.request("scopes", json!({"frameId": frame_id}));
        assert_eq!(
            scopes["body"]["scopes"][0]["variablesReference"], FIRST_HANDLE,
            "{scopes}"
        );
        DelveSide { dlv, frame_id }
    }
}

/// A response as compared: the body, or the failure.
fn outcome(response: Value) -> Value {
    if response["success"] == true {
        response["body"].clone()
    } else {
        json!({"message": response["message"], "error": response["body"]["error"]})
    }
}

impl Dap for DelveSide {
    fn variables(&mut self, reference: i64, filter: Option<&str>, start: i64, count: i64) -> Value {
        let mut arguments = json!({"variablesReference": reference});
        if let Some(filter) = filter {
            arguments["filter"] = json!(filter);
            arguments["start"] = json!(start);
            arguments["count"] = json!(count);
        }
        outcome(self.dlv.client.request("variables", arguments))
    }

    fn evaluate(&mut self, expression: &str, context: &str) -> Value {
        outcome(self.dlv.client.request(
            "evaluate",
            json!({"expression": expression, "frameId": self.frame_id, "context": context}),
        ))
    }
}

/// ferret's session on the core, answering as a DAP server built on
/// `dap::values` would: handles numbered from 1000 in the order the
/// shown values come.
struct FerretSide {
    debugger: Debugger,
    scope: EvalScope,
    options: Options,
    handles: Vec<Expandable>,
}

impl FerretSide {
    fn start(debugger: &Debugger, options: Options) -> FerretSide {
        let frames = debugger
            .stacktrace(1, 40, 0, false, None)
            .expect("stack of goroutine 1");
        let frame = frames
            .iter()
            .position(|f| {
                f.location
                    .function
                    .as_ref()
                    .is_some_and(|function| &*function.name == "main.main")
            })
            .expect("a main.main frame");
        let scope = EvalScope {
            goroutine_id: 1,
            frame,
            deferred_call: 0,
        };
        let config = values::load_config(&options);
        let mut variables = debugger.function_args(scope, config).expect("arguments");
        variables.extend(debugger.local_vars(scope, config).expect("locals"));
        FerretSide {
            debugger: debugger.clone(),
            scope,
            options,
            handles: vec![Expandable::locals(variables)],
        }
    }

    /// Reads an expression in the frame (the reload callback).
    fn read(
        debugger: &Debugger,
        scope: EvalScope,
    ) -> impl FnMut(&str, LoadConfig) -> Result<Variable, String> + '_ {
        move |expression, config| {
            debugger
                .eval(scope, expression.to_owned(), config)
                .map_err(|e| e.to_string())
        }
    }

    /// The handle for a shown value that expands (0 for one that does not).
    fn keep(&mut self, expandable: &Option<Expandable>) -> i64 {
        match expandable {
            Some(expandable) => {
                self.handles.push(expandable.clone());
                FIRST_HANDLE + self.handles.len() as i64 - 1
            }
            None => 0,
        }
    }
}

impl Dap for FerretSide {
    fn variables(&mut self, reference: i64, filter: Option<&str>, start: i64, count: i64) -> Value {
        let Some(expandable) = self.handles.get((reference - FIRST_HANDLE) as usize) else {
            return json!({"message": "Unable to lookup variable",
                          "error": {"id": 2008, "format": format!("Unable to lookup variable: unknown reference {reference}"), "showUser": false}});
        };
        let listed = values::children(
            expandable,
            filter,
            start as usize,
            count as usize,
            &self.options,
            &mut Self::read(&self.debugger, self.scope),
        );
        match listed {
            Ok(children) => {
                let variables: Vec<Value> = children
                    .iter()
                    .map(|child| {
                        let reference = self.keep(&child.expandable);
                        values::to_json(child, reference)
                    })
                    .collect();
                json!({"variables": variables})
            }
            Err(e) => json!({"message": "Unable to lookup variable",
                             "error": {"id": 2008, "format": format!("Unable to lookup variable: {e}"), "showUser": false}}),
        }
    }

    fn evaluate(&mut self, expression: &str, context: &str) -> Value {
        let result = values::evaluate(
            expression,
            context,
            &self.options,
            &mut Self::read(&self.debugger, self.scope),
        );
        match result {
            Ok(shown) => {
                let reference = self.keep(&shown.expandable);
                values::evaluate_json(&shown, reference)
            }
            Err(e) => json!({"message": "Unable to evaluate expression",
                             "error": {"id": 2009, "format": format!("Unable to evaluate expression: {e}"),
                                       "showUser": values::shows_error_to_user(context)}}),
        }
    }
}

/// Both sides, asked the same things; what differs is written down.
struct Both {
    dlv: DelveSide,
    ferret: FerretSide,
    differences: Vec<String>,
    /// Variable objects compared.
    compared: usize,
}

impl Both {
    /// Lists the children of `reference` on both sides and compares them;
    /// returns dlv's.
    fn variables(
        &mut self,
        path: &str,
        reference: i64,
        filter: Option<&str>,
        start: i64,
        count: i64,
    ) -> Vec<Value> {
        let theirs = self.dlv.variables(reference, filter, start, count);
        let ours = self.ferret.variables(reference, filter, start, count);
        let request = match filter {
            Some(filter) => format!("{path} ({filter} {start}+{count})"),
            None => path.to_owned(),
        };
        let (Some(their_list), Some(our_list)) =
            (theirs["variables"].as_array(), ours["variables"].as_array())
        else {
            self.note(&request, &ours, &theirs);
            return Vec::new();
        };
        if their_list.len() != our_list.len() {
            self.differences.push(format!(
                "{request}: {} children from ferret, {} from dlv\n  ferret: {ours}\n  dlv:    {theirs}",
                our_list.len(),
                their_list.len()
            ));
            return their_list.clone();
        }
        for (our, their) in our_list.iter().zip(their_list) {
            let name = their["name"].as_str().unwrap_or_default();
            self.note(&format!("{request}/{name}"), our, their);
        }
        their_list.clone()
    }

    fn note(&mut self, path: &str, ours: &Value, theirs: &Value) {
        self.compared += 1;
        if ours != theirs {
            self.differences
                .push(format!("{path}\n  ferret: {ours}\n  dlv:    {theirs}"));
        }
    }

    /// Walks the children of `reference` as a client expanding everything
    /// down to `MAX_DEPTH` does.
    fn walk(&mut self, path: &str, reference: i64, depth: usize) {
        let listed = self.variables(path, reference, None, 0, 0);
        if depth >= MAX_DEPTH {
            return;
        }
        for child in listed {
            let reference = child["variablesReference"].as_i64().unwrap_or(0);
            if reference == 0 {
                continue;
            }
            let path = format!("{path}/{}", child["name"].as_str().unwrap_or_default());
            self.expand(&path, reference, &child, depth + 1);
        }
    }

    /// Expands one value: in pages when it has more than a page of
    /// elements (as VS Code does), else whole; a list is then paged once
    /// more from 0 and from 1 (which reads it again unless all of it is
    /// loaded).
    fn expand(&mut self, path: &str, reference: i64, child: &Value, depth: usize) {
        let indexed = child["indexedVariables"].as_i64().unwrap_or(0);
        if indexed > PAGE {
            self.variables(path, reference, Some("named"), 0, 0);
            for start in (0..indexed).step_by(PAGE as usize) {
                let count = PAGE.min(indexed - start);
                self.variables(path, reference, Some("indexed"), start, count);
            }
            return;
        }
        self.walk(path, reference, depth);
        if indexed > 0 {
            self.variables(path, reference, Some("indexed"), 0, indexed);
            self.variables(path, reference, Some("indexed"), 1, 2);
        }
    }

    /// Evaluates `expression` in `context` on both sides, and walks what
    /// it gives one level down.
    fn evaluate(&mut self, expression: &str, context: &str) {
        let theirs = self.dlv.evaluate(expression, context);
        let ours = self.ferret.evaluate(expression, context);
        let path = format!("evaluate {expression} ({context})");
        self.note(&path, &ours, &theirs);
        let reference = theirs["variablesReference"].as_i64().unwrap_or(0);
        if reference != 0 {
            self.walk(&path, reference, MAX_DEPTH - 1);
        }
    }
}

#[test]
fn variables_and_evaluations_show_as_dlv_dap_shows_them() {
    for toolchain in GoToolchain::selected().into_iter().filter(Delve::supports) {
        let version = &toolchain.version;
        let exe = build_fixture("vars", &toolchain, &BuildOptions::debug());
        let dir = target_dir().join(format!("dap-values-tests/{version}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let (core, _) = vars_core(&exe, "main", &dir);
        let debugger = Debugger::start(TargetSpec::Core {
            binary: exe.clone(),
            core: core.clone(),
            allow_mismatch: false,
        })
        .expect("ferret opens the core");
        for (setup, options) in setups() {
            let mut both = Both {
                dlv: DelveSide::start(&exe, &core, &options),
                ferret: FerretSide::start(&debugger, options),
                differences: Vec::new(),
                compared: 0,
            };
            both.walk("Locals", FIRST_HANDLE, 0);
            for context in CONTEXTS {
                for expression in EXPRESSIONS {
                    both.evaluate(expression, context);
                }
            }
            assert!(
                both.differences.is_empty(),
                "{version} {setup}: {} of {} answers differ:\n{}",
                both.differences.len(),
                both.compared,
                both.differences.join("\n")
            );
            assert!(
                both.compared > 500,
                "{version} {setup}: only {} answers compared",
                both.compared
            );
        }
        drop(debugger);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
