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

mod breakpoints;
mod inspect;
mod memory;

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

/// What is behind a frame handle: the goroutine, the frame's index in its
/// stack, and whether its function is optimized (Delve names the Locals
/// scope after it), as the `stackTrace` that gave it out saw them.
#[derive(Debug, Clone, Copy)]
struct FrameHandle {
    goroutine: i64,
    frame: usize,
    optimized: bool,
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
    /// Frames handed out since the last stop (handle 1000 + index).
    frames: Vec<FrameHandle>,
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
            read_expression(debugger, goroutine, frame, expression, config)
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
        let config = values::load_config(&self.options());
        let variable = self.reader(goroutine, 0)(expression, config)?;
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

/// Reads `expression` in goroutine `goroutine`'s frame `frame`, waiting
/// for the tracer thread in place (tokio moves this worker's other tasks
/// away meanwhile).
fn read_expression(
    debugger: &Debugger,
    goroutine: i64,
    frame: usize,
    expression: &str,
    config: LoadConfig,
) -> Result<Variable, String> {
    let scope = EvalScope {
        goroutine_id: goroutine,
        frame,
        deferred_call: 0,
    };
    let expression = expression.to_owned();
    tokio::task::block_in_place(|| debugger.eval(scope, expression, config))
        .map_err(|e| e.to_string())
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
            read_expression(&ctx.debugger, goroutine, 0, expression, config)
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
