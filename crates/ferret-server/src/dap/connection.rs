//! One DAP client, served the way Delve's DAP server serves it.
//!
//! Requests are read and answered in order by one task. Run control
//! (`configurationDone`, `continue`, `next`, `stepIn`, `stepOut`) answers at
//! once and runs the target in a task of its own; when the target stops, the
//! loop is told and sends `stopped` (or `exited` and `terminated`). While
//! the target runs, only requests that make sense then are served (Delve's
//! rules). Frame and variable handles start at 1000 and are forgotten at
//! every stop. Stops and resumes caused by other clients (JSON-RPC or DAP)
//! arrive through [`Context::run_events`] and are told to this client too.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use ferret_debugger::model::{
    Breakpoint, BreakpointRequest, Command, EvalScope, LoadConfig, State, StopKind, Variable,
};
use ferret_debugger::{Debugger, SessionError, TargetSpec};
use serde_json::{json, Value};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite};
use tokio::sync::{broadcast, mpsc};

use super::commands;
use super::config::{launch_spec, SessionArgs};
use super::framing::{DapFrameError, DapFramer};
use super::output;
use super::values::{self, Expandable};
use super::wire::{error_id, Outbox, Request};
use crate::{Context, RunEvent, ServerConfig};

/// Every request DAP defines; other commands get the error Delve's
/// decoder gives them.
const DAP_REQUESTS: &[&str] = &[
    "attach",
    "breakpointLocations",
    "cancel",
    "completions",
    "configurationDone",
    "continue",
    "dataBreakpointInfo",
    "disassemble",
    "disconnect",
    "evaluate",
    "exceptionInfo",
    "goto",
    "gotoTargets",
    "initialize",
    "launch",
    "loadedSources",
    "locations",
    "modules",
    "next",
    "pause",
    "readMemory",
    "restart",
    "restartFrame",
    "reverseContinue",
    "scopes",
    "setBreakpoints",
    "setDataBreakpoints",
    "setExceptionBreakpoints",
    "setExpression",
    "setFunctionBreakpoints",
    "setInstructionBreakpoints",
    "setVariable",
    "source",
    "stackTrace",
    "stepBack",
    "stepIn",
    "stepInTargets",
    "stepOut",
    "terminate",
    "terminateThreads",
    "threads",
    "variables",
    "writeMemory",
];

/// The longest x86-64 instruction, in bytes.
const MAX_INSTRUCTION_LENGTH: u64 = 15;

/// The first handle number of frames and variables (Delve's).
const FIRST_HANDLE: i64 = 1000;

/// Breakpoint name prefixes, as Delve names the breakpoints DAP clients
/// make (other clients see these names too).
const SOURCE_PREFIX: &str = "sourceBp";
const FUNCTION_PREFIX: &str = "functionBreakpoint";
const INSTRUCTION_PREFIX: &str = "instructionBreakpoint";
const DATA_PREFIX: &str = "dataBreakpoint";

/// How this connection reaches a target.
pub enum Backend {
    /// DAP on a headless server's port: the target exists; only remote
    /// attach is accepted.
    Shared(Arc<Context>),
    /// `ferret dap` listening at `address`: `launch` or `attach` starts
    /// the target.
    Standalone {
        /// How the session is served once it exists.
        config: Box<ServerConfig>,
        /// Where the server listens.
        address: String,
    },
}

/// What is behind a variables handle, and the frame its expressions are
/// read in.
struct VariablesHandle {
    content: HandleContent,
    goroutine: i64,
    frame: usize,
}

/// What a variables handle lists.
enum HandleContent {
    /// A scope or a value whose children are listed on request.
    Value(Box<Expandable>),
    /// The `Registers` scope: (name, value text) in Delve's order.
    Registers(Vec<(String, String)>),
}

/// How a run this connection started ended.
type RunOutcome = Result<State, String>;

/// One DAP client's session.
pub struct Connection {
    id: u64,
    out: Outbox,
    ctx: Option<Arc<Context>>,
    /// For `ferret dap`: the configuration and address a launch or attach
    /// serves its session with.
    standalone: Option<(ServerConfig, String)>,
    args: SessionArgs,
    /// The target was launched by this connection's `launch` (killed on
    /// disconnect) rather than attached to.
    launched: bool,
    frames: Vec<(i64, usize)>,
    variables: Vec<VariablesHandle>,
    /// A run this connection started has not ended yet.
    running: bool,
    outcomes_tx: mpsc::UnboundedSender<RunOutcome>,
    /// The last run ended in an error (for `exceptionInfo`).
    run_error: Option<String>,
    /// The client said `disconnect`.
    done: bool,
    /// The disconnect ended the session: the server ends after the last
    /// answer is written.
    ends_server: bool,
    /// The client handles `invalidated` events.
    client_takes_invalidated: bool,
    /// The client shows variables' types.
    client_takes_types: bool,
    /// The client pages long lists itself.
    client_pages_variables: bool,
    /// The client shows progress events.
    client_takes_progress: bool,
    /// Progress reports sent so far (their ids).
    progress_reports: u64,
    /// The breakpoints as last told to the client, by id (to tell it of
    /// other clients' changes with `breakpoint` events).
    known_breakpoints: std::collections::HashMap<i32, Breakpoint>,
    /// `memoryReference`s handed out since the last stop: address -> size.
    memory_references: std::collections::HashMap<u64, i64>,
}

/// Serves one DAP client until it disconnects or goes away. For a
/// standalone server, returns the context the client's launch or attach
/// created (so the server can end the session).
pub async fn serve<S>(stream: S, backend: Backend, id: u64) -> Option<Arc<Context>>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (mut reader, writer) = tokio::io::split(stream);
    let (out, writer_task) = Outbox::start(writer);
    let (outcomes_tx, mut outcomes_rx) = mpsc::unbounded_channel();
    let (ctx, standalone) = match backend {
        Backend::Shared(ctx) => (Some(ctx), None),
        Backend::Standalone { config, address } => (None, Some((*config, address))),
    };
    let max_request = ctx
        .as_ref()
        .map_or(crate::DEFAULT_MAX_REQUEST_BYTES, |c| c.max_request_bytes);
    let mut connection = Connection {
        id,
        out,
        ctx,
        standalone,
        args: SessionArgs::default(),
        launched: false,
        frames: Vec::new(),
        variables: Vec::new(),
        running: false,
        outcomes_tx,
        run_error: None,
        done: false,
        ends_server: false,
        client_takes_invalidated: false,
        client_takes_types: false,
        client_pages_variables: false,
        client_takes_progress: false,
        progress_reports: 0,
        memory_references: std::collections::HashMap::new(),
        known_breakpoints: std::collections::HashMap::new(),
    };
    let mut framer = DapFramer::new(max_request);
    let mut events: Option<broadcast::Receiver<RunEvent>> =
        connection.ctx.as_ref().map(|c| c.run_events.subscribe());
    let mut chunk = vec![0u8; 64 * 1024];
    while !connection.done {
        // Messages already buffered go first.
        match framer.next_message() {
            Ok(Some(message)) => {
                if let Some(field) = mistyped_argument(&message) {
                    // Delve's decoder rejects the message and the
                    // connection ends without an answer; ferret says why
                    // in its log.
                    eprintln!("DAP client {id}: closing: argument {field:?} has the wrong type in {message}");
                    break;
                }
                match Request::from_message(&message) {
                    Ok(request) => connection.handle(request).await,
                    Err((seq, why)) => connection.out.fail_seq(
                        seq,
                        "",
                        error_id::INTERNAL,
                        "Internal Error",
                        &why,
                        false,
                    ),
                }
                if events.is_none() {
                    events = connection.ctx.as_ref().map(|c| c.run_events.subscribe());
                }
                continue;
            }
            Ok(None) => {}
            Err(DapFrameError::BadBody(why)) => {
                connection.out.fail_seq(
                    0,
                    "",
                    error_id::INTERNAL,
                    "Internal Error",
                    &format!("DAP message body is not a JSON object: {why}"),
                    false,
                );
                continue;
            }
            Err(e) => {
                connection.out.fail_seq(
                    0,
                    "",
                    error_id::INTERNAL,
                    "Internal Error",
                    &format!("{e}; closing this connection"),
                    false,
                );
                break;
            }
        }
        let shutdown = async {
            match connection.ctx.clone() {
                Some(ctx) if ctx.accept_multiclient || connection.standalone.is_none() => {
                    ctx.shutdown.notified().await
                }
                _ => std::future::pending().await,
            }
        };
        tokio::select! {
            read = reader.read(&mut chunk) => match read {
                Ok(0) | Err(_) => break,
                Ok(n) => framer.push(&chunk[..n]),
            },
            Some(outcome) = outcomes_rx.recv() => connection.finish_run(outcome),
            event = next_event(&mut events) => connection.on_run_event(event),
            _ = shutdown => break,
        }
    }
    // A client that vanished mid-run leaves the target to the others; a run
    // it started keeps going and its outcome is dropped.
    let ctx = connection.ctx.clone();
    let ends_server = connection.ends_server;
    drop(connection);
    let _ = writer_task.await;
    if let Some(ctx) = ctx.as_ref().filter(|_| ends_server) {
        ctx.end_server();
    }
    ctx
}

/// The next run event from other clients (never ends without a context).
async fn next_event(events: &mut Option<broadcast::Receiver<RunEvent>>) -> RunEvent {
    loop {
        match events {
            Some(rx) => match rx.recv().await {
                Ok(event) => return event,
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => *events = None,
            },
            None => std::future::pending::<()>().await,
        }
    }
}

impl Connection {
    fn debugger(&self) -> Option<&Debugger> {
        self.ctx.as_ref().map(|c| &c.debugger)
    }

    /// Runs a debugger call on this thread (the tracer thread does the
    /// work; tokio moves this worker's other tasks away meanwhile).
    fn call<T>(&self, f: impl FnOnce(&Debugger) -> Result<T, SessionError>) -> Result<T, String> {
        let debugger = self.debugger().ok_or("no debug session")?;
        tokio::task::block_in_place(|| f(debugger)).map_err(|e| e.to_string())
    }

    /// How values are shown, from the client's capabilities and the
    /// launch configuration.
    fn options(&self) -> values::Options {
        values::Options {
            client_shows_types: self.client_takes_types,
            client_pages_variables: self.client_pages_variables,
            raw_strings: self.args.show_raw_strings,
            max_string_len: self.args.max_string_len,
            max_array_values: self.args.max_array_values,
        }
    }

    /// Reads expressions in goroutine `goroutine`'s frame `frame` (for
    /// values that need reading again).
    fn reader(
        &self,
        goroutine: i64,
        frame: usize,
    ) -> impl FnMut(&str, LoadConfig) -> Result<Variable, String> {
        let debugger = self.debugger().cloned();
        move |expression: &str, config: LoadConfig| {
            let debugger = debugger.as_ref().ok_or("no debug session")?;
            let scope = EvalScope {
                goroutine_id: goroutine,
                frame,
                deferred_call: 0,
            };
            let expression = expression.to_owned();
            tokio::task::block_in_place(|| debugger.eval(scope, expression, config))
                .map_err(|e| e.to_string())
        }
    }

    /// Gives each shown value that expands a handle, and remembers memory
    /// references; returns the DAP objects.
    fn publish_shown(
        &mut self,
        shown: Vec<values::Shown>,
        goroutine: i64,
        frame: usize,
    ) -> Vec<Value> {
        shown
            .into_iter()
            .map(|s| {
                let reference = self.handle_for(&s, goroutine, frame);
                values::to_json(&s, reference)
            })
            .collect()
    }

    /// The handle for a shown value's children (0 when it does not
    /// expand); its memory reference is remembered for readMemory.
    fn handle_for(&mut self, shown: &values::Shown, goroutine: i64, frame: usize) -> i64 {
        if let Some(m) = &shown.memory_reference {
            self.memory_references.insert(m.address, m.len);
        }
        match shown.expandable.clone() {
            Some(expandable) => self.new_variables_handle(VariablesHandle {
                content: HandleContent::Value(Box::new(expandable)),
                goroutine,
                frame,
            }),
            None => 0,
        }
    }

    /// Reports `title` as a long operation (`progressStart`) to a client
    /// that shows progress; returns its id for [`Connection::progress_end`].
    fn progress_start(&mut self, title: &str) -> Option<String> {
        if !self.client_takes_progress {
            return None;
        }
        self.progress_reports += 1;
        let id = format!("ferret-{}", self.progress_reports);
        self.out.event(
            "progressStart",
            Some(json!({"progressId": id, "title": title, "cancellable": false})),
        );
        Some(id)
    }

    /// Ends a progress report.
    fn progress_end(&self, id: Option<String>) {
        if let Some(id) = id {
            self.out
                .event("progressEnd", Some(json!({"progressId": id})));
        }
    }

    fn target_running(&self) -> bool {
        self.running || self.debugger().is_some_and(Debugger::is_running)
    }

    async fn handle(&mut self, request: Request) {
        if !DAP_REQUESTS.contains(&request.command.as_str()) {
            // What Delve's decoder says of a command DAP does not define.
            let detail = format!(
                "Request command '{}' is not supported (seq: {})",
                request.command, request.seq
            );
            return self.out.fail_seq(
                request.seq,
                "",
                error_id::INTERNAL,
                "Internal Error",
                &detail,
                false,
            );
        }
        match request.command.as_str() {
            "initialize" => return self.initialize(&request),
            "launch" => return self.launch(&request).await,
            "attach" => return self.attach(&request).await,
            "disconnect" => return self.disconnect(&request).await,
            "pause" => return self.pause(&request),
            "terminate" => return self.not_yet(&request),
            "restart" => return self.restart(&request).await,
            _ => {}
        }
        if self.target_running() {
            return self.while_running(&request);
        }
        if self.ctx.is_none() {
            return self.out.fail(
                &request,
                error_id::FAILED_TO_LAUNCH,
                "No debug session started",
                "Use launch or attach request first.",
                true,
            );
        }
        match request.command.as_str() {
            "configurationDone" => self.configuration_done(&request),
            "continue" => {
                self.out
                    .respond(&request, Some(json!({"allThreadsContinued": true})));
                self.start_run(Command::Continue);
            }
            "next" => self.step(&request, Command::Next),
            "stepIn" => self.step(&request, Command::Step),
            "stepOut" => self.step(&request, Command::StepOut(None)),
            "stepBack" | "reverseContinue" => {
                // Only recordings run backwards; ferret makes none.
                self.out.event(
                    "continued",
                    Some(json!({"threadId": request.i64("threadId"), "allThreadsContinued": true})),
                );
                self.out.respond(&request, None);
                let goroutine = self
                    .call(|d| d.state(true))
                    .map(|s| stopped_goroutine(&s))
                    .unwrap_or(0);
                self.run_error = Some("not a recording".to_owned());
                self.out.event(
                    "stopped",
                    Some(json!({"reason": "exception", "description": "runtime error", "text": "not a recording", "threadId": goroutine, "allThreadsStopped": true})),
                );
            }
            "readMemory" => self.read_memory(&request),
            "writeMemory" => self.write_memory(&request),
            "disassemble" => self.disassemble(&request),
            "setBreakpoints" => self.set_breakpoints(&request),
            "setFunctionBreakpoints" => self.set_function_breakpoints(&request),
            "setInstructionBreakpoints" => self.set_instruction_breakpoints(&request),
            "setExceptionBreakpoints" => self.set_exception_breakpoints(&request),
            "dataBreakpointInfo" => self.data_breakpoint_info(&request),
            "setDataBreakpoints" => self.set_data_breakpoints(&request),
            "threads" => self.threads(&request),
            "stackTrace" => self.stack_trace(&request),
            "scopes" => self.scopes(&request),
            "variables" => self.variables_request(&request),
            "evaluate" => self.evaluate(&request),
            "setVariable" => self.set_variable(&request),
            "exceptionInfo" => self.exception_info(&request),
            "source" => self.source(&request),
            "loadedSources" => self.loaded_sources(&request),
            "setExpression" | "cancel" => self.not_yet(&request),
            _ => self.out.fail(
                &request,
                error_id::UNSUPPORTED,
                "Unsupported command",
                &format!("cannot process {:?} request", request.command),
                false,
            ),
        }
    }

    fn not_yet(&self, request: &Request) {
        self.out.fail(
            request,
            error_id::NOT_YET_IMPLEMENTED,
            "Not yet implemented",
            &format!("cannot process {:?} request", request.command),
            false,
        );
    }

    /// Delve's answers while the target runs.
    fn while_running(&mut self, request: &Request) {
        match request.command.as_str() {
            "threads" => self.out.respond(
                request,
                Some(json!({"threads": [{"id": -1, "name": "Current"}]})),
            ),
            "setBreakpoints" | "setFunctionBreakpoints" | "setInstructionBreakpoints" => {
                // Halt, change the breakpoints, and let the run go on. A
                // DAP run resumes by itself once the change is made; a run
                // of a JSON-RPC client ended at the halt and is resumed here.
                let Some(ctx) = self.ctx.clone() else { return };
                ctx.hold_resume.store(true, Ordering::SeqCst);
                let halted = self.call(|d| d.halt());
                if halted.is_ok() {
                    match request.command.as_str() {
                        "setBreakpoints" => self.set_breakpoints(request),
                        "setFunctionBreakpoints" => self.set_function_breakpoints(request),
                        _ => self.set_instruction_breakpoints(request),
                    }
                }
                ctx.hold_resume.store(false, Ordering::SeqCst);
                ctx.resume_allowed.notify_waiters();
                if let Err(e) = halted {
                    return self.out.fail(
                        request,
                        error_id::UNABLE_TO_SET_BREAKPOINTS,
                        "Unable to set or clear breakpoints",
                        &e,
                        false,
                    );
                }
                if ctx.dap_runs.load(Ordering::SeqCst) == 0 {
                    let debugger = ctx.debugger.clone();
                    tokio::task::spawn_blocking(move || debugger.command(Command::Continue));
                }
            }
            "dataBreakpointInfo" | "setDataBreakpoints" => {
                let text = "Can not set data breakpoints while the process is running";
                self.out.fail(
                    request,
                    error_id::UNABLE_TO_SET_BREAKPOINTS,
                    text,
                    text,
                    false,
                )
            }
            other => self.out.fail(
                request,
                error_id::DEBUGGEE_IS_RUNNING,
                &format!("Unable to process `{other}`"),
                "debuggee is running",
                false,
            ),
        }
    }

    fn initialize(&mut self, request: &Request) {
        self.client_takes_invalidated = request.bool("supportsInvalidatedEvent");
        self.client_takes_types = request.bool("supportsVariableType");
        self.client_pages_variables = request.bool("supportsVariablePaging");
        self.client_takes_progress = request.bool("supportsProgressReporting");
        let fail = |detail: &str| {
            self.out.fail(
                request,
                error_id::FAILED_TO_INITIALIZE,
                "Failed to initialize",
                detail,
                false,
            )
        };
        let path_format = request
            .arguments
            .get("pathFormat")
            .and_then(Value::as_str)
            .unwrap_or("path");
        if path_format != "path" {
            return fail(&format!("Unsupported 'pathFormat' value '{path_format}'."));
        }
        let one_based = |key: &str| {
            request
                .arguments
                .get(key)
                .and_then(Value::as_bool)
                .unwrap_or(true)
        };
        if !one_based("linesStartAt1") {
            return fail("Only 1-based line numbers are supported.");
        }
        if !one_based("columnsStartAt1") {
            return fail("Only 1-based column numbers are supported.");
        }
        self.out.respond(
            request,
            Some(json!({
                "supportsConfigurationDoneRequest": true,
                "supportsFunctionBreakpoints": true,
                "supportsConditionalBreakpoints": true,
                "supportsHitConditionalBreakpoints": true,
                "supportsEvaluateForHovers": true,
                "exceptionBreakpointFilters": [
                    {"filter": "unrecovered-panic", "label": "Unrecovered Panics", "default": true},
                    {"filter": "runtime-fatal-throw", "label": "Fatal Throws", "default": true},
                ],
                "supportsSetVariable": true,
                "supportsRestartRequest": true,
                "supportsExceptionInfoRequest": true,
                "supportsDelayedStackTraceLoading": true,
                "supportsLogPoints": true,
                "supportsDataBreakpoints": true,
                "supportsReadMemoryRequest": true,
                "supportsWriteMemoryRequest": true,
                "supportsDisassembleRequest": true,
                "supportsClipboardContext": true,
                "supportsSteppingGranularity": true,
                "supportsInstructionBreakpoints": true,
                // Beyond Delve.
                "supportsLoadedSourcesRequest": true,
            })),
        );
    }

    /// Starts the target of a standalone server's `launch` or local
    /// `attach`.
    async fn start_target(&mut self, spec: TargetSpec) -> Result<(), String> {
        let Some((config, address)) = self.standalone.clone() else {
            return Err("no standalone server".to_owned());
        };
        let debugger = tokio::task::spawn_blocking(move || Debugger::start(spec))
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| e.to_string())?;
        self.ctx = Some(Arc::new(Context::new(debugger, &config, address)));
        Ok(())
    }

    async fn launch(&mut self, request: &Request) {
        let fail = |out: &Outbox, detail: &str| {
            out.fail(
                request,
                error_id::FAILED_TO_LAUNCH,
                "Failed to launch",
                detail,
                true,
            )
        };
        if let Some(ctx) = &self.ctx {
            let detail = format!(
                "debug session already in progress at {} - use remote attach mode to connect to a server with an active debug session",
                ctx.address
            );
            return fail(&self.out, &detail);
        }
        let args = match SessionArgs::from_arguments(&request.arguments) {
            Ok(args) => args,
            Err(e) => return fail(&self.out, &format!("invalid debug configuration - {e}")),
        };
        let mut spec = match launch_spec(&request.arguments) {
            Ok(spec) => spec,
            Err(e) => return fail(&self.out, &e),
        };
        // `outputMode: "remote"`: the program's output as output events.
        let remote_output = match request.str("outputMode") {
            "remote" => true,
            "local" | "" => false,
            other => {
                return fail(
                    &self.out,
                    &format!(
                    "invalid debug configuration - unsupported 'outputMode' attribute {other:?}"
                ),
                )
            }
        };
        let mut pipes = None;
        if let TargetSpec::Launch(options) = &mut spec {
            if remote_output {
                if options.stdout.is_some() || options.stderr.is_some() {
                    return fail(
                        &self.out,
                        "output == \"remote\" can not be used together with stdoutTo or stderrTo",
                    );
                }
                match output::Pipes::new() {
                    Ok(made) => {
                        options.stdout = Some(made.stdout());
                        options.stderr = Some(made.stderr());
                        pipes = Some(made);
                    }
                    Err(e) => return fail(&self.out, &format!("cannot make output pipes: {e}")),
                }
            }
        }
        // The process is named by its command line, as Delve names it.
        let mut program = request.str("program").to_owned();
        if let Some(args) = request.arguments.get("args").and_then(Value::as_array) {
            for arg in args.iter().filter_map(Value::as_str) {
                program.push(' ');
                program.push_str(arg);
            }
        }
        let core = matches!(spec, TargetSpec::Core { .. });
        let progress = self.progress_start(&format!("Loading {program}"));
        let started = self.start_target(spec).await;
        self.progress_end(progress);
        if let Err(e) = started {
            if let Some(pipes) = pipes {
                pipes.discard();
            }
            return fail(&self.out, &e);
        }
        if let Some(pipes) = pipes {
            pipes.forward(self.out.clone());
        }
        self.args = args;
        self.launched = !core;
        let pid = self.debugger().map_or(0, Debugger::pid);
        self.out.event(
            "process",
            Some(json!({
                "name": program,
                "systemProcessId": pid,
                "isLocalProcess": true,
                "startMethod": "launch",
            })),
        );
        self.out.event("initialized", None);
        self.out.respond(request, None);
    }

    async fn attach(&mut self, request: &Request) {
        let fail = |out: &Outbox, detail: &str| {
            out.fail(
                request,
                error_id::FAILED_TO_ATTACH,
                "Failed to attach",
                detail,
                true,
            )
        };
        let args = match SessionArgs::from_arguments(&request.arguments) {
            Ok(args) => args,
            Err(e) => return fail(&self.out, &format!("invalid debug configuration - {e}")),
        };
        let mode = match request.str("mode") {
            "" => "local",
            mode => mode,
        };
        match mode {
            "local" => {
                if let Some(ctx) = &self.ctx {
                    return fail(
                        &self.out,
                        &format!("debug session already in progress at {} - use remote mode to connect to a server with an active debug session", ctx.address),
                    );
                }
                let pid = request.i64("processId");
                if pid == 0 {
                    return fail(
                        &self.out,
                        "The 'processId' or 'waitFor' attribute is missing in debug configuration",
                    );
                }
                let spec = TargetSpec::Attach {
                    pid: pid as i32,
                    binary: None,
                };
                if let Err(e) = self.start_target(spec).await {
                    return fail(&self.out, &e);
                }
                self.out.event(
                    "capabilities",
                    Some(json!({"capabilities": {"supportTerminateDebuggee": true}})),
                );
            }
            "remote" => {
                let Some(ctx) = self.ctx.clone() else {
                    return fail(&self.out, "no debugger found");
                };
                // Halted for the configuration requests; configurationDone
                // resumes unless stopOnEntry.
                ctx.pause_requested.store(true, Ordering::SeqCst);
                if let Err(e) = self.call(|d| d.halt()) {
                    return fail(&self.out, &e);
                }
                if ctx.accept_multiclient || ctx.debugger.attached() {
                    self.out.event(
                        "capabilities",
                        Some(json!({"capabilities": {"supportTerminateDebuggee": true}})),
                    );
                }
            }
            other => {
                return fail(
                    &self.out,
                    &format!(
                        "invalid debug configuration - unsupported 'mode' attribute {other:?}"
                    ),
                )
            }
        }
        self.args = args;
        self.note_breakpoints();
        self.out.event("initialized", None);
        self.out.respond(request, None);
    }

    fn configuration_done(&mut self, request: &Request) {
        if self.args.stop_on_entry {
            self.out.event(
                "stopped",
                Some(json!({"reason": "entry", "threadId": 1, "allThreadsStopped": true})),
            );
        }
        self.out.console("Type 'dlv help' for list of commands.");
        self.out.respond(request, None);
        let core = self.ctx.as_ref().is_some_and(|c| c.core)
            || self.debugger().is_some_and(|d| {
                d.state(true)
                    .map(|s| s.exited || s.pid == 0)
                    .unwrap_or(false)
            });
        if !self.args.stop_on_entry && !core {
            self.start_run(Command::Continue);
        }
    }

    fn step(&mut self, request: &Request, command: Command) {
        let thread = request.i64("threadId");
        self.out.event(
            "continued",
            Some(json!({"threadId": thread, "allThreadsContinued": true})),
        );
        self.out.respond(request, None);
        let command = match request.str("granularity") {
            "instruction" => Command::StepInstruction,
            _ => command,
        };
        if let Err(e) = self.call(|d| d.command(Command::SwitchGoroutine(thread))) {
            let goroutine = self
                .call(|d| d.state(false))
                .map(|s| stopped_goroutine(&s))
                .unwrap_or(0);
            self.out.event(
                "stopped",
                Some(json!({"reason": "error", "threadId": goroutine, "allThreadsStopped": true, "text": e})),
            );
            return;
        }
        self.start_run(command);
    }

    /// Runs `command` in a task; log points print and the run goes on; the
    /// outcome comes back to the loop.
    fn start_run(&mut self, command: Command) {
        let Some(ctx) = self.ctx.clone() else { return };
        self.running = true;
        ctx.pause_requested.store(false, Ordering::SeqCst);
        ctx.dap_runs.fetch_add(1, Ordering::SeqCst);
        ctx.publish(RunEvent::Resumed { by: self.id });
        let out = self.out.clone();
        let options = self.options();
        let outcomes = self.outcomes_tx.clone();
        let single_instruction = matches!(command, Command::StepInstruction);
        // Queued on the tracer thread now, before any later request of this
        // client (a `pause` halts this run instead of coming first).
        let mut submitted = submit_command(&ctx.debugger, command);
        tokio::spawn(async move {
            let outcome = loop {
                let result = match submitted.await {
                    Ok(result) => result,
                    Err(_) => Err(SessionError::Ended.to_string()),
                };
                let state = match result {
                    Ok(state) if !state.exited => state,
                    other => break other,
                };
                log_points(&ctx, &out, &state, &options);
                let on_breakpoint = !stopped_on_breakpoints(&state).is_empty()
                    || state.stop_reason == StopKind::HardcodedBreakpoint;
                // A client that went away no longer drives its run.
                let keeps_going =
                    matches!(state.stop_reason, StopKind::Breakpoint | StopKind::Manual)
                        && !on_breakpoint
                        && !ctx.pause_requested.load(Ordering::SeqCst)
                        && !single_instruction
                        && !outcomes.is_closed();
                if !keeps_going {
                    break Ok(state);
                }
                // A client halted to change breakpoints: resume once done.
                loop {
                    let allowed = ctx.resume_allowed.notified();
                    if !ctx.hold_resume.load(Ordering::SeqCst) {
                        break;
                    }
                    allowed.await;
                }
                submitted = submit_command(&ctx.debugger, Command::Continue);
            };
            ctx.dap_runs.fetch_sub(1, Ordering::SeqCst);
            let _ = outcomes.send(outcome);
        });
    }

    /// A run this connection started has ended.
    fn finish_run(&mut self, outcome: RunOutcome) {
        self.running = false;
        if let Some(ctx) = &self.ctx {
            ctx.publish(RunEvent::Stopped {
                by: self.id,
                state: Arc::new(outcome.clone()),
            });
        }
        let paused = self
            .ctx
            .as_ref()
            .is_some_and(|c| c.pause_requested.load(Ordering::SeqCst));
        self.report_stop(outcome, paused);
    }

    /// Another client's run started or ended.
    fn on_run_event(&mut self, event: RunEvent) {
        match event {
            RunEvent::Resumed { by } if by != self.id && !self.running => {
                self.out.event(
                    "continued",
                    Some(json!({"threadId": 1, "allThreadsContinued": true})),
                );
            }
            RunEvent::Stopped { by, state } if by != self.id && !self.running => {
                self.report_stop((*state).clone(), false);
            }
            RunEvent::BreakpointsChanged { by } if by != self.id => self.tell_breakpoint_changes(),
            _ => {}
        }
    }

    /// Sends `stopped`, or `exited` and `terminated`, for a run's outcome.
    fn report_stop(&mut self, outcome: RunOutcome, halt_requested: bool) {
        let state = match outcome {
            Ok(state) if state.exited => {
                self.out
                    .event("exited", Some(json!({"exitCode": state.exit_status})));
                self.out.event("terminated", Some(json!({})));
                return;
            }
            Ok(state) => state,
            Err(e) => {
                if let Some(status) = exit_status_of(&e) {
                    self.out.event("exited", Some(json!({"exitCode": status})));
                    self.out.event("terminated", Some(json!({})));
                    return;
                }
                self.reset_handles();
                let goroutine = self
                    .call(|d| d.state(true))
                    .map(|s| stopped_goroutine(&s))
                    .unwrap_or(0);
                self.run_error = Some(e.clone());
                self.out.event(
                    "stopped",
                    Some(json!({"reason": "exception", "description": "runtime error", "threadId": goroutine, "allThreadsStopped": true, "text": e})),
                );
                return;
            }
        };
        self.reset_handles();
        self.run_error = None;
        let mut body = json!({"allThreadsStopped": true, "threadId": stopped_goroutine(&state)});
        let reason = match state.stop_reason {
            StopKind::NextFinished => "step",
            StopKind::Manual => "pause",
            StopKind::Unknown => "unknown",
            StopKind::Watchpoint => "data breakpoint",
            _ => {
                let mut reason = "breakpoint";
                let stopped = stopped_on_breakpoints(&state);
                if let Some((goroutine, bp)) = stopped.first() {
                    body["threadId"] = json!(goroutine);
                    if bp.name == "runtime-fatal-throw" {
                        reason = "exception";
                        body["description"] = json!("fatal error");
                        if let Ok(text) = self.expression_text(*goroutine, "s") {
                            body["text"] = json!(text);
                        }
                    } else if bp.name == "unrecovered-panic" {
                        reason = "exception";
                        body["description"] = json!("panic");
                        if let Ok(text) = self.expression_text(*goroutine, "(*msgs).arg.(data)") {
                            body["text"] = json!(text);
                        }
                    } else if bp.name.starts_with(FUNCTION_PREFIX) {
                        reason = "function breakpoint";
                    } else if bp.name.starts_with(INSTRUCTION_PREFIX) {
                        reason = "instruction breakpoint";
                    }
                    body["hitBreakpointIds"] = json!([bp.id]);
                }
                reason
            }
        };
        body["reason"] = json!(reason);
        if reason != "exception" && halt_requested {
            body["reason"] = json!("pause");
            // Delve empties the list, which its encoder then leaves out.
            if let Some(fields) = body.as_object_mut() {
                fields.remove("hitBreakpointIds");
            }
        }
        self.out.event("stopped", Some(body));
        if state.next_in_progress {
            // A breakpoint cut the step short: as in Delve's DAP server the
            // step is dropped, so `continue` does not finish it.
            let _ = self.call(|d| d.cancel_next());
        }
    }

    /// The value of `expression` in goroutine `goroutine`'s top frame, as
    /// text (for exception descriptions).
    fn expression_text(&self, goroutine: i64, expression: &str) -> Result<String, String> {
        let scope = EvalScope {
            goroutine_id: goroutine,
            frame: 0,
            deferred_call: 0,
        };
        let expression = expression.to_owned();
        let config = values::load_config(&self.options());
        let variable = self.call(move |d| d.eval(scope, expression, config))?;
        if !variable.unreadable.is_empty() {
            return Err(variable.unreadable);
        }
        Ok(values::constant_text(&variable))
    }

    fn reset_handles(&mut self) {
        self.frames.clear();
        self.variables.clear();
        self.memory_references.clear();
    }

    fn pause(&mut self, request: &Request) {
        if self.ctx.is_none() {
            return self.out.respond(request, None);
        }
        if let Some(ctx) = &self.ctx {
            ctx.pause_requested.store(true, Ordering::SeqCst);
        }
        match self.call(|d| d.halt()) {
            Ok(_) => self.out.respond(request, None),
            Err(e) => self.out.fail(
                request,
                error_id::UNABLE_TO_HALT,
                "Unable to halt execution",
                &e,
                false,
            ),
        }
    }

    /// `restart`: the launched program starts again (breakpoints kept,
    /// new settings taken from a `launch` configuration in the arguments);
    /// the client then configures it as after `launch` (`initialized`).
    async fn restart(&mut self, request: &Request) {
        // The response only acknowledges, as Delve's; failures follow.
        self.out.respond(request, None);
        let fail = |out: &Outbox, summary: &str, detail: &str| {
            out.fail(request, error_id::FAILED_TO_LAUNCH, summary, detail, false)
        };
        let Some(ctx) = self.ctx.clone() else {
            return fail(
                &self.out,
                "Cannot restart: debugger is not running",
                "Debugger is not running",
            );
        };
        ctx.pause_requested.store(true, Ordering::SeqCst);
        if let Err(e) = self.call(|d| d.halt()) {
            if exit_status_of(&e).is_none() {
                return fail(
                    &self.out,
                    "Cannot restart",
                    &format!("cannot restart process: {e}"),
                );
            }
        }
        if ctx.debugger.attached() {
            return fail(
                &self.out,
                "Cannot restart",
                "cannot restart process Delve did not create",
            );
        }
        let configuration = request.arguments.get("arguments");
        if let Some(configuration) =
            configuration.filter(|c| c.get("request").and_then(Value::as_str) == Some("launch"))
        {
            if let Ok(args) = SessionArgs::from_arguments(configuration) {
                self.args = args;
            }
        }
        let debugger = ctx.debugger.clone();
        let restarted = tokio::task::spawn_blocking(move || debugger.restart())
            .await
            .map_err(|e| e.to_string())
            .and_then(|r| r.map_err(|e| e.to_string()));
        if let Err(e) = restarted {
            return fail(&self.out, "Failed to restart", &e);
        }
        self.reset_handles();
        self.out.event("initialized", None);
    }

    async fn disconnect(&mut self, request: &Request) {
        self.done = true;
        let Some(ctx) = self.ctx.clone() else {
            self.out.respond(request, None);
            self.out.event("terminated", Some(json!({})));
            return;
        };
        let terminate = request.bool("terminateDebuggee");
        if self.standalone.is_none() && ctx.accept_multiclient && !terminate {
            let status = if self.target_running() {
                "running"
            } else {
                "halted"
            };
            self.out.console(&format!(
                "Closing client session, but leaving multi-client DAP server with debuggee {status}"
            ));
            self.out.respond(request, None);
            self.out.event("terminated", Some(json!({})));
            return;
        }
        let kill = self.launched || terminate || !ctx.debugger.attached();
        match ctx.debugger.state(true) {
            Err(e) if exit_status_of(&e.to_string()).is_some() => {
                self.out.console(&e.to_string());
                self.out.console("Detaching");
            }
            _ if kill => self.out.console("Detaching and terminating target process"),
            _ => self
                .out
                .console("Detaching without terminating target process"),
        }
        let debugger = ctx.debugger.clone();
        let result = tokio::task::spawn_blocking(move || {
            if debugger.is_running() {
                let _ = debugger.halt();
            }
            debugger.detach(kill)
        })
        .await
        .map_err(|e| e.to_string())
        .and_then(|r| r.map_err(|e| e.to_string()));
        match result {
            // A target that already exited is no error.
            Err(e) if exit_status_of(&e).is_none() => self.out.fail(
                request,
                error_id::DISCONNECT_ERROR,
                "Error while disconnecting",
                &e,
                false,
            ),
            _ => self.out.respond(request, None),
        }
        self.out.event("terminated", Some(json!({})));
        // The server ends once these last messages are written.
        self.ends_server = true;
    }

    // ---- memory and code ----

    fn read_memory(&mut self, request: &Request) {
        let fail = |out: &Outbox, detail: &str| {
            out.fail(
                request,
                error_id::UNABLE_TO_READ_MEMORY,
                "Unable to read memory",
                detail,
                false,
            )
        };
        let count = request.i64("count");
        if count < 0 {
            return fail(&self.out, "negative count");
        }
        let reference = request.str("memoryReference");
        let Some((address, size)) = parse_address(reference)
            .and_then(|a| self.memory_references.get(&a).map(|&size| (a, size)))
        else {
            return fail(&self.out, "unknown memoryReference");
        };
        // Only the bytes of the value the reference was handed out for.
        let offset = request.i64("offset");
        let from = offset.clamp(0, size);
        let to = (offset + count).clamp(0, size);
        let start = address + from as u64;
        let wanted = (to - from).max(0) as usize;
        let mut unreadable = count - wanted as i64;
        let data = if wanted == 0 {
            Vec::new()
        } else {
            match self.call(move |d| d.examine_memory(start, wanted)) {
                Ok(data) => data,
                Err(e) => return fail(&self.out, &e),
            }
        };
        unreadable += (wanted - data.len()) as i64;
        let mut body = json!({"address": format!("{start:#x}")});
        if !data.is_empty() {
            body["data"] = json!(crate::rpc2::base64_encode(&data));
        }
        if unreadable > 0 {
            body["unreadableBytes"] = json!(unreadable);
        }
        self.out.respond(request, Some(body));
    }

    fn write_memory(&mut self, request: &Request) {
        let fail = |out: &Outbox, detail: &str| {
            out.fail(
                request,
                error_id::UNABLE_TO_WRITE_MEMORY,
                "Unable to write memory",
                detail,
                false,
            )
        };
        let data = request.str("data");
        if data.is_empty() {
            return fail(&self.out, "empty data");
        }
        let Some(address) = parse_address(request.str("memoryReference"))
            .filter(|a| self.memory_references.contains_key(a))
        else {
            return fail(&self.out, "unknown memoryReference");
        };
        let bytes = match crate::rpc2::base64_decode(data) {
            Ok(bytes) => bytes,
            Err(e) => return fail(&self.out, &e),
        };
        let at = address.wrapping_add_signed(request.i64("offset"));
        let written = bytes.len();
        if let Err(e) = self.call(move |d| d.write_memory(at, bytes)) {
            return fail(&self.out, &e);
        }
        self.out
            .respond(request, Some(json!({"bytesWritten": written})));
        if self.client_takes_invalidated {
            self.out
                .event("invalidated", Some(json!({"areas": ["variables"]})));
        }
    }

    /// `disassemble`: `instructionCount` instructions around
    /// `memoryReference` (shifted by `instructionOffset`), padded with
    /// "invalid instruction" where there is no code, as Delve answers.
    fn disassemble(&mut self, request: &Request) {
        let fail = |out: &Outbox, detail: &str| {
            out.fail(
                request,
                error_id::UNABLE_TO_DISASSEMBLE,
                "Unable to disassemble",
                detail,
                false,
            )
        };
        let reference = request.str("memoryReference");
        let address = match parse_go_number(reference, "ParseUint") {
            Ok(address) => address,
            Err(e) => return fail(&self.out, &e),
        };
        let count = request.i64("instructionCount").max(0) as usize;
        let offset = request.i64("instructionOffset");
        let invalid =
            |address: String| json!({"address": address, "instruction": "invalid instruction"});
        if address == 0 || address == u64::MAX {
            let instructions: Vec<Value> =
                (0..count).map(|_| invalid(reference.to_owned())).collect();
            return self
                .out
                .respond(request, Some(json!({"instructions": instructions})));
        }
        let Some(debugger) = self.debugger().cloned() else {
            return fail(&self.out, "no debug session");
        };
        let bi = debugger.bininfo().clone();
        // Whole functions around the wanted bytes, so instructions line up.
        let byte_offset = offset * MAX_INSTRUCTION_LENGTH as i64;
        let mut start = address;
        if byte_offset < 0 {
            start = address.saturating_sub(byte_offset.unsigned_abs());
        }
        let extra = byte_offset.max(0) as u64;
        let end = address + (count as u64 + extra) * MAX_INSTRUCTION_LENGTH;
        if let Ok(Some(f)) = bi.function_at(start) {
            start = f.entry;
        }
        let end = match bi.function_at(end) {
            Ok(Some(f)) => f.end,
            _ => end.min(start + 10 * 1024),
        };
        let Some(code) = bi.image().read_at(start, (end - start) as usize) else {
            return fail(&self.out, &format!("cannot read {start:#x}-{end:#x}"));
        };
        // Go's own assembler syntax, symbols named as Delve names them.
        let symbols = match ferret_gort::disasm::DelveSymbols::new(&bi) {
            Ok(symbols) => symbols,
            Err(e) => return fail(&self.out, &e.to_string()),
        };
        let decoded = ferret_gort::disasm::disassemble_go(code, start, &|a| symbols.lookup(a));
        let Some(at) = decoded.iter().position(|i| i.address == address) else {
            return fail(&self.out, "could not find memory reference");
        };
        let first = at as i64 + offset;
        let mut instructions = Vec::with_capacity(count);
        let (mut last_file, mut last_line) = (String::new(), 0);
        for i in 0..count as i64 {
            let index = first + i;
            if index < 0 {
                instructions.push(invalid("0x0".to_owned()));
                continue;
            }
            let Some(insn) = decoded.get(index as usize) else {
                instructions.push(invalid(format!("{:#x}", u64::MAX)));
                continue;
            };
            let location = debugger.location_of(insn.address);
            let mut answer = json!({
                "address": format!("{:#x}", insn.address),
                "instructionBytes": hex(&insn.bytes),
                "instruction": insn.text,
            });
            if *location.file != *last_file || location.line != last_line {
                answer["location"] = json!({"path": self.args.to_client_path(&location.file)});
                answer["line"] = json!(location.line);
                last_file = location.file.to_string();
                last_line = location.line;
            }
            instructions.push(answer);
        }
        self.out
            .respond(request, Some(json!({"instructions": instructions})));
    }

    // ---- breakpoints ----

    /// Makes the breakpoints whose names start with `prefix` exactly the
    /// `wanted` ones: existing ones are amended, missing ones created, the
    /// rest cleared (Delve's rule). Answers one DAP breakpoint per wanted.
    fn sync_breakpoints(&mut self, prefix: &str, wanted: Vec<WantedBreakpoint>) -> Vec<Value> {
        let existing: Vec<Breakpoint> = self
            .call(|d| d.breakpoints())
            .unwrap_or_default()
            .into_iter()
            .filter(|b| b.name.starts_with(prefix))
            .collect();
        let mut answers = vec![Value::Null; wanted.len()];
        let mut seen = std::collections::HashSet::new();
        // Amend the ones that exist.
        for (i, want) in wanted.iter().enumerate() {
            let Some(got) = existing.iter().find(|b| b.name == want.name) else {
                continue;
            };
            let result = if !seen.insert(want.name.clone()) {
                Err("breakpoint already exists".to_owned())
            } else {
                let mut update = got.clone();
                update.disabled = false;
                update.cond = want.condition.clone();
                update.hit_cond = want.hit_condition.clone();
                update.tracepoint = !want.log_message.is_empty();
                self.remember_log_message(update.id, &want.log_message);
                self.call(move |d| d.amend_breakpoint(update))
                    .map(|()| got.clone())
            };
            answers[i] = self.breakpoint_answer(result);
        }
        // Clear the ones no longer wanted.
        for got in &existing {
            if !seen.contains(&got.name) {
                let (id, name) = (got.id, got.name.clone());
                let _ = self.call(move |d| d.clear_breakpoint(id, name));
                self.remember_log_message(got.id, "");
            }
        }
        // Create the new ones.
        for (i, want) in wanted.into_iter().enumerate() {
            if existing.iter().any(|b| b.name == want.name) {
                continue;
            }
            let result = if !seen.insert(want.name.clone()) {
                Err("breakpoint already exists".to_owned())
            } else if let Err(e) = &want.location {
                Err(e.clone())
            } else {
                let log_message = want.log_message.clone();
                let watch = want.watch.clone();
                let request = BreakpointRequest {
                    template: Breakpoint {
                        name: want.name,
                        cond: want.condition,
                        hit_cond: want.hit_condition,
                        tracepoint: !want.log_message.is_empty(),
                        file: want.file,
                        line: want.line,
                        addrs: want.location.unwrap_or_default(),
                        ..Breakpoint::default()
                    },
                    loc_expr: String::new(),
                    addr: 0,
                };
                let created = match watch {
                    Some((scope, expression, watch_type)) => self.call(move |d| {
                        d.create_watchpoint(scope, expression, watch_type, request.template)
                    }),
                    None => self.call(move |d| d.create_breakpoint(request)),
                };
                if let Ok(bp) = &created {
                    self.remember_log_message(bp.id, &log_message);
                }
                created
            };
            answers[i] = self.breakpoint_answer(result);
        }
        self.note_breakpoints();
        if let Some(ctx) = &self.ctx {
            ctx.publish(RunEvent::BreakpointsChanged { by: self.id });
        }
        answers
    }

    /// Remembers the breakpoints as they are now (this client's own
    /// changes need no events).
    fn note_breakpoints(&mut self) {
        self.known_breakpoints = self
            .call(|d| d.breakpoints())
            .unwrap_or_default()
            .into_iter()
            .filter(|b| b.id > 0)
            .map(|b| (b.id, b))
            .collect();
    }

    /// Sends `breakpoint` events (new, changed, removed) for what other
    /// clients did to the breakpoints since they were last noted.
    fn tell_breakpoint_changes(&mut self) {
        if self.ctx.is_none() || self.target_running() {
            return;
        }
        let before = std::mem::take(&mut self.known_breakpoints);
        self.note_breakpoints();
        let mut events = Vec::new();
        for (id, now) in &self.known_breakpoints {
            match before.get(id) {
                None => events.push(("new", now.clone())),
                Some(old) if old != now => events.push(("changed", now.clone())),
                _ => {}
            }
        }
        for (id, old) in &before {
            if !self.known_breakpoints.contains_key(id) {
                events.push(("removed", old.clone()));
            }
        }
        events.sort_by_key(|(_, b)| b.id);
        for (reason, bp) in events {
            let mut answer = self.breakpoint_answer(Ok(bp.clone()));
            if reason == "removed" {
                answer = json!({"id": bp.id, "verified": false});
            }
            self.out.event(
                "breakpoint",
                Some(json!({"reason": reason, "breakpoint": answer})),
            );
        }
    }

    fn remember_log_message(&self, id: i32, message: &str) {
        if let Some(ctx) = &self.ctx {
            let mut messages = ctx.log_messages.lock().unwrap_or_else(|e| e.into_inner());
            if message.is_empty() {
                messages.remove(&id);
            } else {
                messages.insert(id, message.to_owned());
            }
        }
    }

    /// One DAP `Breakpoint` object.
    fn breakpoint_answer(&self, result: Result<Breakpoint, String>) -> Value {
        let result = result.and_then(|bp| {
            if bp.addrs.is_empty() {
                Err("unable to set breakpoint".to_owned())
            } else {
                Ok(bp)
            }
        });
        match result {
            Ok(bp) => {
                let mut answer = json!({"id": bp.id, "verified": true});
                if !bp.file.is_empty() {
                    let path = self.args.to_client_path(&bp.file);
                    answer["source"] = json!({"name": base_name(&path), "path": path});
                    answer["line"] = json!(bp.line);
                }
                answer
            }
            Err(message) => json!({"verified": false, "message": message}),
        }
    }

    fn set_breakpoints(&mut self, request: &Request) {
        let client_path = request
            .arguments
            .pointer("/source/path")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        if client_path.is_empty() {
            return self.out.fail(
                request,
                error_id::UNABLE_TO_SET_BREAKPOINTS,
                "Unable to set or clear breakpoints",
                "empty file path",
                false,
            );
        }
        let server_path = self.args.to_server_path(&client_path);
        let prefix = format!("{SOURCE_PREFIX} Path={client_path:?} ");
        let wanted = list_of(&request.arguments, "breakpoints")
            .iter()
            .map(|b| {
                let line = b.get("line").and_then(Value::as_u64).unwrap_or(0) as u32;
                let column = b.get("column").and_then(Value::as_u64).unwrap_or(0);
                WantedBreakpoint {
                    name: format!("{prefix} Line={line} Column={column}"),
                    file: server_path.clone(),
                    line,
                    ..WantedBreakpoint::from_request(b)
                }
            })
            .collect();
        let breakpoints = self.sync_breakpoints(&prefix, wanted);
        self.out
            .respond(request, Some(json!({"breakpoints": breakpoints})));
    }

    fn set_function_breakpoints(&mut self, request: &Request) {
        let wanted = list_of(&request.arguments, "breakpoints")
            .iter()
            .map(|b| {
                let name = b.get("name").and_then(Value::as_str).unwrap_or("");
                // Found before anything is made, as Delve does (a failure
                // uses up no breakpoint id).
                let spec = name.to_owned();
                let location = self.call(move |d| d.find_location(&spec)).map(|l| l.pcs);
                WantedBreakpoint {
                    name: format!("{FUNCTION_PREFIX} Name={name}"),
                    log_message: String::new(),
                    location,
                    ..WantedBreakpoint::from_request(b)
                }
            })
            .collect();
        let breakpoints = self.sync_breakpoints(FUNCTION_PREFIX, wanted);
        self.out
            .respond(request, Some(json!({"breakpoints": breakpoints})));
    }

    fn set_instruction_breakpoints(&mut self, request: &Request) {
        let wanted = list_of(&request.arguments, "breakpoints")
            .iter()
            .map(|b| {
                let reference = b
                    .get("instructionReference")
                    .and_then(Value::as_str)
                    .unwrap_or("");
                WantedBreakpoint {
                    name: format!("{INSTRUCTION_PREFIX} PC={reference}"),
                    location: parse_go_number(reference, "ParseInt").map(|pc| vec![pc]),
                    log_message: String::new(),
                    ..WantedBreakpoint::from_request(b)
                }
            })
            .collect();
        let breakpoints = self.sync_breakpoints(INSTRUCTION_PREFIX, wanted);
        self.out
            .respond(request, Some(json!({"breakpoints": breakpoints})));
    }

    /// `dataBreakpointInfo`: what a data breakpoint on a variable would
    /// watch. A child of a listed value is watched at its address (as
    /// `*(*[N]byte)(0xADDR)`, so it stays put when the frame changes); a
    /// name alone is an expression read in the frame given.
    fn data_breakpoint_info(&mut self, request: &Request) {
        let fail = |out: &Outbox, detail: &str| {
            out.fail(
                request,
                error_id::UNABLE_TO_GET_DATA_BREAKPOINT_INFO,
                "Could not get data breakpoint info",
                detail,
                false,
            )
        };
        let name = request.str("name").to_owned();
        let reference = request.i64("variablesReference");
        let (goroutine, frame, expression, description) = if reference != 0 {
            let index = usize::try_from(reference - FIRST_HANDLE).ok();
            let Some(handle) = index.and_then(|i| self.variables.get(i)) else {
                return fail(
                    &self.out,
                    &format!("variable reference {reference} unknown"),
                );
            };
            let HandleContent::Value(expandable) = &handle.content else {
                return fail(&self.out, &format!("field {name} not found"));
            };
            let (goroutine, frame) = (handle.goroutine, handle.frame);
            let parent = expandable.variable.name.clone();
            let expandable = expandable.clone();
            let options = self.options();
            let mut reload = self.reader(goroutine, frame);
            let children = values::children(&expandable, None, 0, 0, &options, &mut reload)
                .unwrap_or_default();
            let Ok(child) = values::evaluate_name_of(&children, &name) else {
                return fail(&self.out, &format!("field {name} not found"));
            };
            let scope = EvalScope {
                goroutine_id: goroutine,
                frame,
                deferred_call: 0,
            };
            let (address, size) = match self.call(move |d| d.place_of(scope, child)) {
                Ok(place) => place,
                Err(e) => return fail(&self.out, &format!("field {name} is unreadable: {e}")),
            };
            (
                -1,
                0,
                format!("*(*[{size}]byte)({address:#x})"),
                format!("{parent}.{name}"),
            )
        } else {
            let (goroutine, frame) = self.frame_of(request);
            (goroutine, frame, name.clone(), name)
        };
        self.out.respond(
            request,
            Some(json!({
                "dataId": format!("{goroutine},{frame},{expression}"),
                "accessTypes": ["read", "write", "readWrite"],
                "canPersist": false,
                "description": description,
            })),
        );
    }

    /// `setDataBreakpoints`: hardware watchpoints on the `dataId`s
    /// `dataBreakpointInfo` gave, as Delve makes them.
    fn set_data_breakpoints(&mut self, request: &Request) {
        let wanted = list_of(&request.arguments, "breakpoints")
            .iter()
            .map(|b| {
                let data_id = b.get("dataId").and_then(Value::as_str).unwrap_or("");
                let access = b.get("accessType").and_then(Value::as_str).unwrap_or("");
                let watch = parse_data_id(data_id).and_then(|(goroutine, frame, expression)| {
                    let watch_type = match access {
                        "read" => 1,
                        "write" => 2,
                        "readWrite" => 3,
                        other => return Err(format!("unknown access type: {other:?}")),
                    };
                    let scope = EvalScope {
                        goroutine_id: goroutine,
                        frame,
                        deferred_call: 0,
                    };
                    Ok((scope, expression, watch_type))
                });
                WantedBreakpoint {
                    name: format!("{DATA_PREFIX} {data_id}"),
                    log_message: String::new(),
                    location: watch.as_ref().map(|_| Vec::new()).map_err(Clone::clone),
                    watch: watch.ok(),
                    ..WantedBreakpoint::from_request(b)
                }
            })
            .collect();
        let breakpoints = self.sync_breakpoints(DATA_PREFIX, wanted);
        self.out
            .respond(request, Some(json!({"breakpoints": breakpoints})));
    }

    /// Enables exactly the internal breakpoints (unrecovered panics, fatal
    /// throws) whose filters are listed.
    fn set_exception_breakpoints(&mut self, request: &Request) {
        let enabled: Vec<String> = list_of(&request.arguments, "filters")
            .iter()
            .filter_map(|f| f.as_str().map(str::to_owned))
            .collect();
        let internal: Vec<Breakpoint> = self
            .call(|d| d.breakpoints())
            .unwrap_or_default()
            .into_iter()
            .filter(|b| b.id < 0)
            .collect();
        let mut answers = Vec::new();
        for mut bp in internal {
            let wanted = enabled.contains(&bp.name);
            if bp.disabled == wanted {
                bp.disabled = !wanted;
                let update = bp.clone();
                let _ = self.call(move |d| d.amend_breakpoint(update));
            }
            if wanted {
                answers.push(self.breakpoint_answer(Ok(bp)));
            }
        }
        let body = if answers.is_empty() {
            json!({})
        } else {
            json!({"breakpoints": answers})
        };
        self.out.respond(request, Some(body));
    }

    // ---- threads, stacks, variables ----

    fn threads(&mut self, request: &Request) {
        let filters = match self.args.thread_filters() {
            Ok(filters) => filters,
            Err(e) => {
                self.out.console(&e);
                Vec::new()
            }
        };
        let scope = EvalScope {
            goroutine_id: -1,
            frame: 0,
            deferred_call: 0,
        };
        // Without filters only the first goroutines are read; with them,
        // every goroutine is tested and the first matches kept.
        let max = self.args.max_goroutines;
        let filtered = !filters.is_empty();
        // Filters read every goroutine: a long operation with many.
        let progress = if filtered {
            self.progress_start("Filtering goroutines")
        } else {
            None
        };
        let listing = self
            .call(move |d| {
                d.goroutine_listing(0, if filtered { 0 } else { max }, filters, None, scope)
            })
            .map(|listing| {
                let more = listing.next >= 0 || listing.goroutines.len() > max;
                let mut goroutines = listing.goroutines;
                goroutines.truncate(max);
                (goroutines, more)
            });
        self.progress_end(progress);
        let selected = self
            .call(|d| d.state(true))
            .ok()
            .and_then(|s| s.current_goroutine.map(|g| g.id));
        let listing = listing.map(|(mut goroutines, more)| {
            if more {
                self.out.console(&format!(
                    "Too many goroutines, only loaded {max} (ferret: raise the limit with the maxGoroutines \
                     setting, or narrow the list with goroutineFilters)"
                ));
                // The selected goroutine is always listed.
                if let Some(id) = selected.filter(|id| !goroutines.iter().any(|g| g.id == *id)) {
                    if let Ok(g) = self.call(move |d| d.goroutine(id)) {
                        goroutines.push(g);
                    }
                }
            }
            goroutines
        });
        let threads: Vec<Value> = match listing {
            Ok(goroutines) if !goroutines.is_empty() => goroutines
                .iter()
                .map(|g| {
                    let star = if Some(g.id) == selected { "* " } else { "" };
                    if !g.unreadable.is_empty() {
                        return json!({"id": 0, "name": format!("{star} Unreadable goroutine: {}", g.unreadable)});
                    }
                    let thread = if g.thread_id != 0 {
                        format!(" (Thread {})", g.thread_id)
                    } else {
                        String::new()
                    };
                    let function = g
                        .user_current_loc
                        .function
                        .as_ref()
                        .map_or("???".to_owned(), |f| short_function_name(&f.name));
                    let labels = self.label_text(&g.labels);
                    json!({"id": g.id, "name": format!("{star}[Go {}{labels}] {function}{thread}", g.id)})
                })
                .collect(),
            Ok(_) => vec![json!({"id": 1, "name": "Dummy"})],
            Err(e) => {
                if exit_status_of(&e).is_none() {
                    self.out.event(
                        "output",
                        Some(json!({"category": "stderr", "output": format!("Unable to retrieve goroutines: {e}\n")})),
                    );
                }
                vec![json!({"id": 1, "name": "Dummy"})]
            }
        };
        self.out.respond(request, Some(json!({"threads": threads})));
    }

    /// The pprof labels shown in a thread's name (`showPprofLabels`).
    fn label_text(&self, labels: &[(String, String)]) -> String {
        let keys = &self.args.show_pprof_labels;
        let value_of = |key: &str| {
            labels
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.as_str())
                .filter(|v| !v.is_empty())
        };
        let mut text = String::new();
        if keys.len() == 1 && keys[0] != "*" {
            if let Some(value) = value_of(&keys[0]) {
                text.push(' ');
                text.push_str(value);
            }
            return text;
        }
        let mut shown: Vec<&str> = if keys.len() == 1 {
            let mut all: Vec<&str> = labels.iter().map(|(k, _)| k.as_str()).collect();
            all.sort_unstable();
            all
        } else {
            keys.iter().map(String::as_str).collect()
        };
        shown.dedup();
        for key in shown {
            if let Some(value) = value_of(key) {
                text.push_str(&format!(" {key}:{value}"));
            }
        }
        text
    }

    fn stack_trace(&mut self, request: &Request) {
        let goroutine = request.i64("threadId");
        let start = request.i64("startFrame").max(0) as usize;
        let levels = match request.i64("levels") {
            n if n > 0 => n as usize,
            _ => self.args.stack_trace_depth,
        };
        let count = start + levels;
        let frames = match self.call(move |d| d.stacktrace(goroutine, count, 0, false, None)) {
            Ok(frames) => frames,
            Err(e) => {
                return self.out.fail(
                    request,
                    error_id::UNABLE_TO_PRODUCE_STACK_TRACE,
                    "Unable to produce stack trace",
                    &e,
                    false,
                )
            }
        };
        let system = self.goroutine_is_system(goroutine);
        let mut stack_frames = Vec::new();
        for (i, frame) in frames.iter().enumerate().skip(start).take(levels) {
            let handle = FIRST_HANDLE + self.frames.len() as i64;
            self.frames.push((goroutine, i));
            let location = &frame.location;
            let function = location.function.as_ref().map(|f| f.name.to_string());
            let mut answer = json!({
                "id": handle,
                "name": function.as_deref().map_or("???".to_owned(), short_function_name),
                "line": location.line,
                "column": 0,
                "instructionPointerReference": format!("{:#x}", location.pc),
            });
            if &*location.file != "<autogenerated>" {
                let path = self.args.to_client_path(&location.file);
                answer["source"] = json!({"name": base_name(&path), "path": path});
            }
            let package = function
                .as_deref()
                .map_or("runtime", ferret_gort::bininfo::package_of);
            if !system && package == "runtime" {
                answer["presentationHint"] = json!("subtle");
            }
            stack_frames.push(answer);
        }
        let mut total = frames.len();
        if frames.len() >= start + levels && !frames.last().is_some_and(|f| f.bottom) {
            total += self.args.stack_trace_depth;
        }
        self.out.respond(
            request,
            Some(json!({"stackFrames": stack_frames, "totalFrames": total})),
        );
    }

    /// Delve's system-goroutine rule, by the goroutine's start function
    /// (an unknown goroutine counts as a system one).
    fn goroutine_is_system(&self, goroutine: i64) -> bool {
        self.call(move |d| d.goroutine(goroutine))
            .map_or(true, |g| g.system)
    }

    fn new_variables_handle(&mut self, handle: VariablesHandle) -> i64 {
        self.variables.push(handle);
        FIRST_HANDLE + self.variables.len() as i64 - 1
    }

    fn scopes(&mut self, request: &Request) {
        let frame_id = request.i64("frameId");
        let Some(&(goroutine, frame)) = usize::try_from(frame_id - FIRST_HANDLE)
            .ok()
            .and_then(|i| self.frames.get(i))
        else {
            return self.out.fail(
                request,
                error_id::UNABLE_TO_LIST_LOCALS,
                "Unable to list locals",
                &format!("unknown frame id {frame_id}"),
                false,
            );
        };
        let scope = EvalScope {
            goroutine_id: goroutine,
            frame,
            deferred_call: 0,
        };
        let config = values::load_config(&self.options());
        let frames = self.call(move |d| d.stacktrace(goroutine, frame + 1, 0, false, None));
        let optimized = match frames.as_ref().map(|f| f.get(frame)) {
            Ok(Some(f)) => f.location.function.as_ref().is_some_and(|f| f.optimized),
            _ => {
                let detail = frames.err().unwrap_or_default();
                return self.out.fail(
                    request,
                    error_id::UNABLE_TO_LIST_ARGS,
                    "Unable to find enclosing function",
                    &detail,
                    false,
                );
            }
        };
        let arguments = match self.call(move |d| d.function_args(scope, config)) {
            Ok(arguments) => arguments,
            Err(e) => {
                return self.out.fail(
                    request,
                    error_id::UNABLE_TO_LIST_ARGS,
                    "Unable to list args",
                    &e,
                    false,
                )
            }
        };
        let locals = match self.call(move |d| d.local_vars(scope, config)) {
            Ok(locals) => locals,
            Err(e) => {
                return self.out.fail(
                    request,
                    error_id::UNABLE_TO_LIST_LOCALS,
                    "Unable to list locals",
                    &e,
                    false,
                )
            }
        };
        let name = if optimized {
            "Locals (warning: optimized function)"
        } else {
            "Locals"
        };
        let mut variables = arguments;
        variables.extend(locals);
        let reference = self.new_variables_handle(VariablesHandle {
            content: HandleContent::Value(Box::new(Expandable::locals(variables))),
            goroutine,
            frame,
        });
        let mut scopes =
            vec![json!({"name": name, "variablesReference": reference, "expensive": false})];
        if self.args.show_global_variables {
            match self.globals() {
                Ok((package, variables)) => {
                    let reference = self.new_variables_handle(VariablesHandle {
                        content: HandleContent::Value(Box::new(Expandable::globals(
                            &package, variables,
                        ))),
                        goroutine: -1,
                        frame: 0,
                    });
                    scopes.push(json!({"name": format!("Globals (package {package})"), "variablesReference": reference, "expensive": false}));
                }
                Err(e) => {
                    return self.out.fail(
                        request,
                        error_id::UNABLE_TO_LIST_GLOBALS,
                        "Unable to list globals",
                        &e,
                        false,
                    )
                }
            }
        }
        if self.args.show_registers {
            match self.registers_of(goroutine, frame) {
                Ok(registers) => {
                    let reference = self.new_variables_handle(VariablesHandle {
                        content: HandleContent::Registers(registers),
                        goroutine,
                        frame,
                    });
                    scopes.push(json!({"name": "Registers", "variablesReference": reference, "expensive": false}));
                }
                Err(e) => {
                    return self.out.fail(
                        request,
                        error_id::UNABLE_TO_LIST_REGISTERS,
                        "Unable to list registers",
                        &e,
                        false,
                    )
                }
            }
        }
        self.out.respond(request, Some(json!({"scopes": scopes})));
    }

    /// The registers of goroutine `goroutine`'s frame `frame`: all of them
    /// for the innermost frame; for the others what unwinding recovers (the
    /// return address, the stack pointer and the saved frame pointer).
    fn registers_of(&self, goroutine: i64, frame: usize) -> Result<Vec<(String, String)>, String> {
        let text = |name: &str, value: u64| {
            (
                name.to_lowercase(),
                crate::rpc2::convert::register_value_text(name, value),
            )
        };
        if frame == 0 {
            let scope = EvalScope {
                goroutine_id: goroutine,
                frame: 0,
                deferred_call: 0,
            };
            let registers = self.call(move |d| d.registers(0, Some(scope)))?;
            return Ok(registers.iter().map(|(n, v, _)| text(n, *v)).collect());
        }
        let frames = self.call(move |d| d.stacktrace(goroutine, frame + 1, 0, false, None))?;
        let (Some(this), Some(callee)) = (frames.get(frame), frames.get(frame - 1)) else {
            return Err(format!("Invalid frame {frame}"));
        };
        let mut registers = vec![text("Rip", this.location.pc), text("Rsp", callee.cfa)];
        // Go saves the caller's frame pointer just below the return address.
        let saved_bp = callee.cfa.wrapping_sub(16);
        if let Ok(bytes) = self.call(move |d| d.examine_memory(saved_bp, 8)) {
            let bp = u64::from_le_bytes(bytes.try_into().unwrap_or_default());
            registers.push(text("Rbp", bp));
        }
        Ok(registers)
    }

    /// The current thread's package and its package-level variables
    /// (Delve's Globals scope).
    fn globals(&self) -> Result<(String, Vec<Variable>), String> {
        let state = self.call(|d| d.state(false))?;
        let function = state
            .current_thread
            .and_then(|t| t.function)
            .ok_or("unable to determine current package due to unspecified function location")?;
        let package = ferret_gort::bininfo::package_of(&function.name).to_owned();
        let filter_prefix = format!("{package}.");
        let config = values::load_config(&self.options());
        let variables = self.call(move |d| {
            d.package_vars(
                move |name| {
                    name.strip_prefix(filter_prefix.as_str())
                        .is_some_and(|rest| !rest.contains('.'))
                },
                config,
            )
        })?;
        Ok((package, variables))
    }

    fn variables_request(&mut self, request: &Request) {
        let reference = request.i64("variablesReference");
        let index = usize::try_from(reference - FIRST_HANDLE).ok();
        let Some(handle) = index.and_then(|i| self.variables.get(i)) else {
            return self.out.fail(
                request,
                error_id::UNABLE_TO_LOOKUP_VARIABLE,
                "Unable to lookup variable",
                &format!("unknown reference {reference}"),
                false,
            );
        };
        let start = request.i64("start").max(0) as usize;
        let count = request.i64("count").max(0) as usize;
        let filter = request
            .arguments
            .get("filter")
            .and_then(Value::as_str)
            .map(str::to_owned);
        let (goroutine, frame) = (handle.goroutine, handle.frame);
        let expandable = match &handle.content {
            HandleContent::Value(expandable) => expandable.clone(),
            HandleContent::Registers(registers) => {
                let variables = registers_json(registers, self.client_takes_types);
                return self
                    .out
                    .respond(request, Some(json!({"variables": variables})));
            }
        };
        let options = self.options();
        let mut reload = self.reader(goroutine, frame);
        let shown = values::children(
            &expandable,
            filter.as_deref(),
            start,
            count,
            &options,
            &mut reload,
        );
        let shown = match shown {
            Ok(shown) => shown,
            Err(e) => {
                return self.out.fail(
                    request,
                    error_id::UNABLE_TO_LOOKUP_VARIABLE,
                    "Unable to lookup variable",
                    &e,
                    false,
                )
            }
        };
        let variables = self.publish_shown(shown, goroutine, frame);
        self.out
            .respond(request, Some(json!({"variables": variables})));
    }

    /// The goroutine and frame a `frameId` names (the selected goroutine's
    /// top frame when absent or unknown).
    fn frame_of(&self, request: &Request) -> (i64, usize) {
        usize::try_from(request.i64("frameId") - FIRST_HANDLE)
            .ok()
            .and_then(|i| self.frames.get(i).copied())
            .unwrap_or((-1, 0))
    }

    fn evaluate(&mut self, request: &Request) {
        let expression = request.str("expression").to_owned();
        if let Some(line) = expression.strip_prefix("dlv ") {
            return self.dlv_command(request, line);
        }
        if let Some(line) = expression.strip_prefix("ferret ") {
            return self.ferret_command(request, line);
        }
        let (goroutine, frame) = self.frame_of(request);
        let context = request.str("context").to_owned();
        let options = self.options();
        let mut eval = self.reader(goroutine, frame);
        match values::evaluate(&expression, &context, &options, &mut eval) {
            Ok(shown) => {
                let reference = self.handle_for(&shown, goroutine, frame);
                self.out
                    .respond(request, Some(values::evaluate_json(&shown, reference)));
            }
            Err(e) => self.out.fail(
                request,
                error_id::UNABLE_TO_EVALUATE_EXPRESSION,
                "Unable to evaluate expression",
                &e,
                values::shows_error_to_user(&context),
            ),
        }
    }

    /// `ferret goroutines [--group KEY[,KEY]] [--min-wait DURATION]` typed
    /// in the debug console: the leak-hunting table of the `ferret
    /// goroutines` command, beyond Delve.
    fn ferret_command(&mut self, request: &Request, line: &str) {
        let progress = self.progress_start("Summarizing goroutines");
        let table = self.goroutines_table(line);
        self.progress_end(progress);
        match table {
            Ok(text) => self.out.respond(
                request,
                Some(json!({"result": text, "variablesReference": 0})),
            ),
            Err(e) => self.out.fail(
                request,
                error_id::UNABLE_TO_RUN_DLV_COMMAND,
                "Unable to run ferret command",
                &e,
                false,
            ),
        }
    }

    fn goroutines_table(&self, line: &str) -> Result<String, String> {
        let usage = "usage: ferret goroutines [--group KEY[,KEY]] [--min-wait DURATION] \
                     (keys: waitreason, userloc, startloc, goloc, curloc, label:KEY)";
        let mut words = line.split_whitespace();
        if words.next() != Some("goroutines") {
            return Err(usage.to_owned());
        }
        let mut group = vec!["waitreason".to_owned()];
        let mut min_wait = std::time::Duration::ZERO;
        while let Some(flag) = words.next() {
            let value = words.next().ok_or(usage)?;
            match flag {
                "--group" => group = value.split(',').map(str::to_owned).collect(),
                "--min-wait" => min_wait = crate::leak::parse_duration(value)?,
                _ => return Err(usage.to_owned()),
            }
        }
        let keys = group
            .iter()
            .map(|g| {
                ferret_debugger::goroutines::SummaryKey::parse(g)
                    .ok_or_else(|| format!("unknown grouping {g:?}; {usage}"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        if keys.len() > 2 {
            return Err(format!("one or two grouping keys, not {}", keys.len()));
        }
        let summary_request = ferret_debugger::goroutines::SummaryRequest {
            keys,
            wait_reasons: Vec::new(),
            min_wait_ns: min_wait.as_nanos() as i64,
            samples: 3,
        };
        let summary = self.call(move |d| d.goroutine_summary(summary_request))?;
        let wire = crate::rpc2::convert::goroutine_summary(&summary);
        Ok(crate::leak::summary_text(&wire, &group, None).0)
    }

    /// `dlv ...` typed in the debug console.
    fn dlv_command(&mut self, request: &Request, line: &str) {
        let context = SessionFiles(self.debugger().cloned());
        match commands::run(line, &mut self.args, &context) {
            Ok(outcome) => {
                self.out.respond(
                    request,
                    Some(json!({"result": outcome.text, "variablesReference": 0})),
                );
                if let Some(area) = outcome.invalidated {
                    self.out
                        .event("invalidated", Some(json!({"areas": [area]})));
                }
            }
            Err(e) => self.out.fail(
                request,
                error_id::UNABLE_TO_RUN_DLV_COMMAND,
                "Unable to run dlv command",
                &e,
                false,
            ),
        }
    }

    /// `setVariable`: the named child of a scope or value is assigned the
    /// text `value` (Delve answers with that text, not a reloaded value).
    fn set_variable(&mut self, request: &Request) {
        let reference = request.i64("variablesReference");
        let name = request.str("name").to_owned();
        let value = request.str("value").to_owned();
        let fail = |out: &Outbox, summary: &str, detail: &str| {
            out.fail(
                request,
                error_id::UNABLE_TO_SET_VARIABLE,
                summary,
                detail,
                false,
            )
        };
        let index = usize::try_from(reference - FIRST_HANDLE).ok();
        let Some(handle) = index.and_then(|i| self.variables.get(i)) else {
            return fail(
                &self.out,
                "Unable to lookup variable",
                &format!("unknown reference {reference}"),
            );
        };
        // The child's own expression (`p.X`, `m["k"]`), as Delve finds it:
        // the children are listed (and given handles) first.
        let (goroutine, frame) = (handle.goroutine, handle.frame);
        let HandleContent::Value(expandable) = &handle.content else {
            return fail(
                &self.out,
                "Unable to set variable",
                "registers can not be set",
            );
        };
        let expandable = expandable.clone();
        let options = self.options();
        let mut reload = self.reader(goroutine, frame);
        let children =
            values::children(&expandable, None, 0, 0, &options, &mut reload).unwrap_or_default();
        for child in &children {
            self.handle_for(child, goroutine, frame);
        }
        let symbol = values::evaluate_name_of(&children, &name).ok();
        let Some(symbol) = symbol else {
            let detail = values::evaluate_name_of(&children, &name)
                .err()
                .unwrap_or_default();
            return fail(&self.out, "Unable to set variable", &detail);
        };
        let scope = EvalScope {
            goroutine_id: goroutine,
            frame,
            deferred_call: 0,
        };
        let evaluated = {
            let symbol = symbol.clone();
            let config = values::load_config(&options);
            self.call(move |d| d.eval(scope, symbol, config))
        };
        let evaluated = match evaluated {
            Ok(v) => v,
            Err(e) => return fail(&self.out, "Unable to lookup variable", &e),
        };
        let assigned = {
            let value = value.clone();
            self.call(move |d| d.set_variable(scope, symbol, value))
        };
        if let Err(e) = assigned {
            return fail(&self.out, "Unable to set variable", &e);
        }
        let mut body = json!({"value": value});
        let type_name = values::type_shown(&evaluated, &options);
        if !type_name.is_empty() {
            body["type"] = json!(type_name);
        }
        self.out.respond(request, Some(body));
        if self.client_takes_invalidated {
            self.out
                .event("invalidated", Some(json!({"areas": ["all"]})));
        }
    }

    fn exception_info(&mut self, request: &Request) {
        let goroutine = request.i64("threadId");
        let fail = |out: &Outbox, detail: &str| {
            out.fail(
                request,
                error_id::UNABLE_TO_GET_EXCEPTION_INFO,
                "Unable to get exception info",
                detail,
                false,
            )
        };
        let state = match self.call(|d| d.state(false)) {
            Ok(state) => state,
            Err(e) => return fail(&self.out, &e),
        };
        let on_breakpoint = stopped_on_breakpoints(&state)
            .into_iter()
            .find(|(g, _)| *g == goroutine)
            .map(|(_, bp)| bp);
        let (exception_id, description) = match on_breakpoint {
            Some(bp) if bp.name == "runtime-fatal-throw" => (
                "fatal error",
                self.expression_text(goroutine, "s")
                    .unwrap_or_else(|e| format!("Error getting throw reason: {e}")),
            ),
            Some(bp) if bp.name == "unrecovered-panic" => (
                "panic",
                self.expression_text(goroutine, "(*msgs).arg.(data)")
                    .unwrap_or_else(|e| format!("Error getting panic message: {e}")),
            ),
            _ => match &self.run_error {
                Some(e) => ("runtime error", e.clone()),
                None => return fail(&self.out, "no runtime error found"),
            },
        };
        let stack = self.stack_text(goroutine);
        self.out.respond(
            request,
            Some(json!({
                "exceptionId": exception_id,
                "description": description,
                "breakMode": "unhandled",
                "details": {"stackTrace": stack},
            })),
        );
    }

    /// A goroutine's stack as `exceptionInfo` prints it.
    fn stack_text(&self, goroutine: i64) -> String {
        let depth = self.args.stack_trace_depth;
        match self.call(move |d| d.stacktrace(goroutine, depth + 1, 0, false, None)) {
            Ok(frames) => {
                let mut text = String::from("Stack:\n");
                let user = frames.iter().any(|f| {
                    f.location
                        .function
                        .as_ref()
                        .is_some_and(|f| !f.name.starts_with("runtime."))
                });
                for (i, frame) in frames.iter().enumerate() {
                    let name = frame
                        .location
                        .function
                        .as_ref()
                        .map_or("???".to_owned(), |f| f.name.to_string());
                    if user && name.starts_with("runtime.") {
                        continue;
                    }
                    text.push_str(&format!(
                        "\t{i:>2}  {:#018x} in {name}\n\t    at {}:{}\n",
                        frame.location.pc,
                        self.args.to_client_path(&frame.location.file),
                        frame.location.line
                    ));
                }
                text
            }
            Err(e) => format!("Error getting stack trace: {e}"),
        }
    }

    /// `loadedSources`, beyond Delve: every source file the program was
    /// built from, as the client names it.
    fn loaded_sources(&mut self, request: &Request) {
        let files = self
            .debugger()
            .map(|d| d.bininfo().source_files())
            .transpose()
            .map_err(|e| e.to_string());
        match files {
            Ok(files) => {
                let sources: Vec<Value> = files
                    .unwrap_or_default()
                    .iter()
                    .map(|f| {
                        let path = self.args.to_client_path(f);
                        json!({"name": base_name(&path), "path": path})
                    })
                    .collect();
                self.out.respond(request, Some(json!({"sources": sources})));
            }
            Err(e) => self.out.fail(
                request,
                error_id::INTERNAL,
                "Unable to list sources",
                &e,
                false,
            ),
        }
    }

    /// `source`, beyond Delve (which refuses it): the text of a source file
    /// the program was built from, for clients that lack the file.
    fn source(&mut self, request: &Request) {
        let path = request
            .arguments
            .pointer("/source/path")
            .and_then(Value::as_str)
            .unwrap_or("");
        let server_path = self.args.to_server_path(path);
        let known = self
            .debugger()
            .and_then(|d| d.bininfo().source_files().ok())
            .map(|files| files.contains(&server_path))
            .unwrap_or(false);
        let text = if known {
            std::fs::read_to_string(&server_path).map_err(|e| e.to_string())
        } else {
            Err(format!("{path:?} is not a source file of the program"))
        };
        match text {
            Ok(content) => self.out.respond(
                request,
                Some(json!({"content": content, "mimeType": "text/x-go"})),
            ),
            // Without a file of the program to serve, Delve's refusal.
            Err(_) => self.out.fail(
                request,
                error_id::UNSUPPORTED,
                "Unsupported command",
                "cannot process \"source\" request",
                false,
            ),
        }
    }
}

/// A breakpoint as a `set*Breakpoints` request asks for it.
#[derive(Debug)]
struct WantedBreakpoint {
    name: String,
    condition: String,
    hit_condition: String,
    log_message: String,
    file: String,
    line: u32,
    /// Addresses, for breakpoints not asked by file and line (or why
    /// there are none).
    location: Result<Vec<u64>, String>,
    /// For a data breakpoint: where its expression is read, the
    /// expression, and Delve's access bits.
    watch: Option<(EvalScope, String, u8)>,
}

impl WantedBreakpoint {
    /// The attributes every kind shares.
    fn from_request(b: &Value) -> WantedBreakpoint {
        let text = |key: &str| b.get(key).and_then(Value::as_str).unwrap_or("").to_owned();
        WantedBreakpoint {
            name: String::new(),
            condition: text("condition"),
            hit_condition: text("hitCondition"),
            log_message: text("logMessage"),
            file: String::new(),
            line: 0,
            location: Ok(Vec::new()),
            watch: None,
        }
    }
}

/// The elements of an array argument (none when absent).
fn list_of<'a>(arguments: &'a Value, key: &str) -> &'a [Value] {
    arguments
        .get(key)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

/// `0x...` or decimal.
fn parse_address(text: &str) -> Option<u64> {
    match text.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => text.parse().ok(),
    }
}

/// The last component of a path.
fn base_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// A function name with its package path cut to the last element
/// (`example.com/x/pkg.F` -> `pkg.F`), as Delve shows it in DAP.
fn short_function_name(name: &str) -> String {
    let package = ferret_gort::bininfo::package_of(name);
    match package.rfind('/') {
        Some(slash) => name[slash + 1..].to_owned(),
        None => name.to_owned(),
    }
}

/// The goroutine a stop is about: the selected one, else the current
/// thread's.
fn stopped_goroutine(state: &State) -> i64 {
    state
        .current_goroutine
        .as_ref()
        .map(|g| g.id)
        .or_else(|| state.current_thread.as_ref().map(|t| t.goroutine_id))
        .unwrap_or(0)
}

/// Goroutines stopped at a breakpoint that is not a tracepoint, the
/// current thread's first.
fn stopped_on_breakpoints(state: &State) -> Vec<(i64, Breakpoint)> {
    let current = state.current_thread.as_ref().map(|t| t.id);
    let mut threads: Vec<_> = state.threads.iter().collect();
    threads.sort_by_key(|t| Some(t.id) != current);
    threads
        .into_iter()
        .filter_map(|t| {
            let bp = t.breakpoint.as_ref()?;
            (!bp.tracepoint).then(|| (t.goroutine_id, bp.clone()))
        })
        .collect()
}

/// Queues `command` on the tracer thread at once; its outcome arrives on
/// the returned channel (which closes without one when the session has
/// ended).
fn submit_command(
    debugger: &Debugger,
    command: Command,
) -> tokio::sync::oneshot::Receiver<Result<State, String>> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    let _ = debugger.run_on_tracer(
        move |d| d.command(command).map_err(|e| e.to_string()),
        move |result| {
            let _ = tx.send(result);
        },
    );
    rx
}

/// Prints the log points the stopped threads sit on (`output` events,
/// `> [Go N]: message`).
fn log_points(ctx: &Context, out: &Outbox, state: &State, options: &values::Options) {
    for thread in &state.threads {
        let Some(bp) = thread.breakpoint.as_ref().filter(|b| b.tracepoint) else {
            continue;
        };
        let template = ctx
            .log_messages
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&bp.id)
            .cloned();
        let Some(template) = template else { continue };
        let goroutine = thread.goroutine_id;
        let mut read = |expression: &str, config: LoadConfig| {
            let scope = EvalScope {
                goroutine_id: goroutine,
                frame: 0,
                deferred_call: 0,
            };
            ctx.debugger
                .eval(scope, expression.to_owned(), config)
                .map_err(|e| e.to_string())
        };
        let message = expand_log_message(&template, |expression| {
            match read(expression, values::load_config(options)) {
                Ok(v) => values::value_text(&v, options, &mut read),
                Err(e) => format!("{{eval err: {e}}}"),
            }
        });
        out.event(
            "output",
            Some(json!({
                "category": "stdout",
                "output": format!("> [Go {}]: {message}\n", thread.goroutine_id),
                "source": {"path": bp.file},
                "line": bp.line,
            })),
        );
    }
}

/// A log message with each `{expression}` replaced by its value.
fn expand_log_message(template: &str, mut value_of: impl FnMut(&str) -> String) -> String {
    let mut out = String::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        match rest[open + 1..].find('}') {
            Some(close) => {
                out.push_str(&value_of(&rest[open + 1..open + 1 + close]));
                rest = &rest[open + close + 2..];
            }
            None => {
                out.push_str(&rest[open..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// The exit status in a "Process N has exited with status S" error.
fn exit_status_of(error: &str) -> Option<i32> {
    let (_, status) = error.split_once("has exited with status ")?;
    status.trim().parse().ok()
}

/// Integer arguments of DAP requests.
const INTEGER_ARGUMENTS: &[&str] = &[
    "threadId",
    "frameId",
    "variablesReference",
    "startFrame",
    "levels",
    "start",
    "count",
    "offset",
    "instructionOffset",
    "instructionCount",
    "processId",
    "line",
    "column",
];

/// The first integer argument given as something else, which Delve's
/// decoder refuses.
fn mistyped_argument(message: &Value) -> Option<&'static str> {
    let arguments = message.get("arguments")?.as_object()?;
    INTEGER_ARGUMENTS.iter().copied().find(|key| {
        arguments
            .get(*key)
            .is_some_and(|v| !v.is_i64() && !v.is_u64() && !v.is_null())
    })
}

/// The `Registers` scope's variables as Delve's DAP server lists them:
/// names lower-case and right-aligned to six columns, evaluate names as
/// its register pseudo-variables (`_RIP`), typed `int16` (Delve's constant
/// kind, shown as it is).
fn registers_json(registers: &[(String, String)], with_types: bool) -> Vec<Value> {
    registers
        .iter()
        .map(|(name, value)| {
            let mut v = json!({
                "name": format!("{name:>6}"),
                "value": value,
                "evaluateName": format!("_{}", name.to_uppercase()),
                "variablesReference": 0,
            });
            if with_types {
                v["type"] = json!("int16");
            }
            v
        })
        .collect()
}

/// A data breakpoint's `dataId`: `goroutine,frame,expression`.
fn parse_data_id(data_id: &str) -> Result<(i64, usize, String), String> {
    let malformed = || format!("malformed data ID: {data_id:?}");
    let mut parts = data_id.splitn(3, ',');
    let goroutine = parts
        .next()
        .and_then(|g| g.parse().ok())
        .ok_or_else(malformed)?;
    let frame = parts
        .next()
        .and_then(|f| f.parse().ok())
        .ok_or_else(malformed)?;
    let expression = parts.next().ok_or_else(malformed)?;
    Ok((goroutine, frame, expression.to_owned()))
}

/// What `dlv sources` and `dlv types` read.
struct SessionFiles(Option<Debugger>);

impl commands::CommandContext for SessionFiles {
    fn source_files(&self) -> Result<Vec<String>, String> {
        let debugger = self.0.as_ref().ok_or("no debug session")?;
        debugger.bininfo().source_files().map_err(|e| e.to_string())
    }

    fn type_names(&self) -> Result<Vec<String>, String> {
        let debugger = self.0.as_ref().ok_or("no debug session")?;
        let types = debugger.bininfo().types().map_err(|e| e.to_string())?;
        Ok(types.into_iter().map(|t| t.name).collect())
    }
}

/// Parses a number as Go's `strconv.ParseUint(s, 0, 64)` (or `ParseInt`,
/// named by `function`) does (prefixes `0x`, `0o`, `0b`, a leading `0` for
/// octal, `_` separators), with its error text.
fn parse_go_number(text: &str, function: &str) -> Result<u64, String> {
    let syntax = || format!("strconv.{function}: parsing {text:?}: invalid syntax");
    let digits = text.replace('_', "");
    let (radix, body) = if let Some(hex) = digits
        .strip_prefix("0x")
        .or_else(|| digits.strip_prefix("0X"))
    {
        (16, hex.to_owned())
    } else if let Some(bin) = digits
        .strip_prefix("0b")
        .or_else(|| digits.strip_prefix("0B"))
    {
        (2, bin.to_owned())
    } else if let Some(oct) = digits
        .strip_prefix("0o")
        .or_else(|| digits.strip_prefix("0O"))
    {
        (8, oct.to_owned())
    } else if digits.len() > 1 && digits.starts_with('0') {
        (8, digits[1..].to_owned())
    } else {
        (10, digits)
    };
    if body.is_empty() {
        return Err(syntax());
    }
    u64::from_str_radix(&body, radix).map_err(|e| match e.kind() {
        std::num::IntErrorKind::PosOverflow => {
            format!("strconv.{function}: parsing {text:?}: value out of range")
        }
        _ => syntax(),
    })
}

/// Lower-case hex of `bytes`.
fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_messages_expand_each_expression() {
        let text = expand_log_message("i={i}, s={s} {unclosed", |e| format!("<{e}>"));
        assert_eq!(text, "i=<i>, s=<s> {unclosed");
    }

    #[test]
    fn function_names_keep_the_last_package_element() {
        assert_eq!(
            short_function_name("example.com/x/pkg.(*T).M"),
            "pkg.(*T).M"
        );
        assert_eq!(short_function_name("main.main"), "main.main");
    }

    #[test]
    fn addresses_parse_as_go_parses_them() {
        assert_eq!(parse_go_number("0x4de118", "ParseUint"), Ok(0x4de118));
        assert_eq!(parse_go_number("017", "ParseUint"), Ok(15));
        assert_eq!(
            parse_go_number("nonsense", "ParseUint"),
            Err("strconv.ParseUint: parsing \"nonsense\": invalid syntax".to_owned())
        );
    }

    #[test]
    fn exit_statuses_are_read_from_errors() {
        assert_eq!(
            exit_status_of("Process 12 has exited with status 3"),
            Some(3)
        );
        assert_eq!(exit_status_of("something else"), None);
    }
}
