//! Delve's JSON-RPC API v2 over one connection: Go `net/rpc/jsonrpc`
//! framing (bare JSON objects in, one object plus `\n` out), methods named
//! `RPCServer.X` with one parameter object, errors as plain strings.
//!
//! As in Delve, most methods run inline (the next request is read after
//! the reply), while `Command`, `State`, `Restart` and `GetEvents` run on
//! their own so a blocked `continue` does not stop the connection.
//! `Stacktrace` and `ListGoroutines` are pipelined: their work is queued
//! at the tracer thread in request order while the next request is read,
//! and their replies still go out in order.

pub mod convert;
pub mod framing;
pub mod params;

use std::future::Future;
use std::io::Write;
use std::pin::Pin;
use std::sync::Arc;

use ferret_debugger::goroutines::{
    GoroutineField, GoroutineFilter, GroupOptions, SummaryKey, SummaryRequest,
};
use ferret_debugger::model::{Breakpoint, BreakpointRequest, Command, EvalScope, LoadConfig};
use ferret_debugger::{Debugger, SessionError};
use serde_json::value::RawValue;
use serde_json::{json, Value};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;

use crate::{Context, RunEvent};
use framing::{read_request, JsonFramer, ReadEnd, Request};
use params::Params;

/// The reply to one request: a result object or an error string.
type Reply = Result<Value, String>;

/// Serves JSON-RPC on `stream` until the client leaves or the server ends.
pub async fn serve_connection<S>(stream: S, ctx: Arc<Context>)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (reader, writer) = tokio::io::split(stream);
    let (out_tx, mut out_rx) = mpsc::unbounded_channel::<Outgoing>();
    let writer_task = tokio::spawn(async move {
        // Replies queued back to back (pipelined requests) share a write;
        // a reply is never held back while the writer waits for the next.
        let mut writer = tokio::io::BufWriter::new(writer);
        while let Some(outgoing) = out_rx.recv().await {
            let body = match outgoing {
                Outgoing::Line(line) => Body::Line(line),
                Outgoing::Pending(mut body) => match poll_once(&mut body).await {
                    Some(body) => body,
                    None => {
                        if writer.flush().await.is_err() {
                            break;
                        }
                        body.await
                    }
                },
            };
            let written = match body {
                Body::Line(line) => writer.write_all(&line).await,
                Body::Chunks(mut chunks) => {
                    let mut written = Ok(());
                    while let Some(chunk) = chunks.recv().await {
                        written = writer.write_all(&chunk).await;
                        if written.is_err() {
                            break;
                        }
                    }
                    written
                }
            };
            if written.is_err() {
                break;
            }
            if out_rx.is_empty() && writer.flush().await.is_err() {
                break;
            }
        }
        let _ = writer.shutdown().await;
    });
    let mut reader = reader;
    let mut framer = JsonFramer::new(ctx.max_request_bytes);
    let mut too_large = false;
    loop {
        let request = tokio::select! {
            request = read_request(&mut reader, &mut framer) => request,
            _ = ctx.shutdown.notified() => break,
        };
        let request = match request {
            Ok(request) => Request::decode(&request),
            Err(ReadEnd::TooLarge) => {
                let message = format!(
                    "request larger than the server's limit of {} bytes; closing this connection",
                    ctx.max_request_bytes
                );
                let _ = out_tx.send(Outgoing::Line(envelope(Value::Null, Err(message))));
                too_large = true;
                break;
            }
            Err(_) => break,
        };
        let Request { id, method, params } = request;
        let params = match params {
            Ok(params) => params,
            Err(message) => {
                let _ = out_tx.send(Outgoing::Line(envelope(id, Err(message))));
                continue;
            }
        };
        if let Some(pending) = start_pipelined(&ctx, &method, &params) {
            let body = async move { reply_body(id, pending.await) };
            let _ = out_tx.send(Outgoing::Pending(Box::pin(body)));
            continue;
        }
        let name = method.strip_prefix("RPCServer.").unwrap_or("");
        if is_async(name) {
            let ctx = ctx.clone();
            let out_tx = out_tx.clone();
            let method = method.clone();
            tokio::spawn(async move {
                let reply = answer(&ctx, &method, params).await;
                let _ = out_tx.send(Outgoing::Line(envelope(id, reply)));
            });
        } else {
            let reply = answer(&ctx, &method, params).await;
            let detach = name == "Detach" && reply.is_ok();
            let _ = out_tx.send(Outgoing::Line(envelope(id, reply)));
            if detach {
                // Delve ends the server after answering Detach.
                drop(out_tx);
                let _ = writer_task.await;
                ctx.end_server();
                return;
            }
        }
    }
    drop(out_tx);
    let _ = writer_task.await;
    if too_large {
        // Keep reading (and dropping) what the client is still sending for a
        // moment, so closing does not reset the connection before it has read
        // the error.
        let drain = async {
            let mut sink = [0u8; 64 * 1024];
            while matches!(reader.read(&mut sink).await, Ok(n) if n > 0) {}
        };
        let _ = tokio::time::timeout(std::time::Duration::from_secs(5), drain).await;
    }
}

/// Answers a client that is turned away with one error reply, then closes
/// (after reading what it already sent, so the close does not reset the
/// connection before the client has read the error).
pub async fn refuse<S: AsyncRead + AsyncWrite + Unpin>(mut stream: S, message: &str) {
    let line = envelope(Value::Null, Err(message.to_owned()));
    let _ = stream.write_all(&line).await;
    let _ = stream.shutdown().await;
    let drain = async {
        let mut sink = [0u8; 4096];
        while matches!(stream.read(&mut sink).await, Ok(n) if n > 0) {}
    };
    let _ = tokio::time::timeout(std::time::Duration::from_secs(2), drain).await;
}

/// A reply line for the connection's writer, which sends them in the order
/// they were queued.
enum Outgoing {
    /// Ready to send.
    Line(Vec<u8>),
    /// Still being computed (a pipelined method's reply).
    Pending(Pin<Box<dyn Future<Output = Body> + Send>>),
}

/// The bytes of one reply line: whole, or (a large result) in chunks as
/// they are written, so a reply of hundreds of megabytes is never held
/// in memory at once.
enum Body {
    Line(Vec<u8>),
    Chunks(mpsc::Receiver<Vec<u8>>),
}

/// The output of `future` if it is ready now, without waiting.
async fn poll_once<F: Future + Unpin>(future: &mut F) -> Option<F::Output> {
    std::future::poll_fn(|cx| match Pin::new(&mut *future).poll(cx) {
        std::task::Poll::Ready(output) => std::task::Poll::Ready(Some(output)),
        std::task::Poll::Pending => std::task::Poll::Ready(None),
    })
    .await
}

/// What a method answers: a JSON value, or a writer of its JSON (large
/// results are written straight from the model into the reply, with no
/// value tree and no second copy).
enum Answer {
    Value(Value),
    Json(JsonWriter),
}

impl Answer {
    /// A result written by `write`, about `size_hint` bytes of it.
    fn json(
        size_hint: usize,
        write: impl FnOnce(&mut dyn Write) -> std::io::Result<()> + Send + 'static,
    ) -> Answer {
        Answer::Json(JsonWriter {
            size_hint,
            write: Box::new(write),
        })
    }
}

/// Writes a result's JSON text.
struct JsonWriter {
    /// About how many bytes it writes: larger results are streamed.
    size_hint: usize,
    write: WriteJson,
}

/// Writes JSON text into a writer.
type WriteJson = Box<dyn FnOnce(&mut dyn Write) -> std::io::Result<()> + Send>;

/// Results expected to be larger than this are sent in chunks of this
/// size while they are written.
const STREAM_CHUNK: usize = 1 << 20;

/// How many written chunks may wait for the socket before the writer
/// waits too.
const STREAM_CHUNKS_QUEUED: usize = 2;

/// The reply line for `reply`: a large result is written on a blocking
/// thread into a channel of chunks the connection's writer sends as they
/// come (a client that leaves stops the writing).
fn reply_body(id: Value, reply: Result<Answer, String>) -> Body {
    let writer = match reply {
        Ok(Answer::Json(writer)) if writer.size_hint > STREAM_CHUNK => writer,
        reply => return Body::Line(envelope(id, reply)),
    };
    let (tx, rx) = mpsc::channel(STREAM_CHUNKS_QUEUED);
    tokio::task::spawn_blocking(move || {
        let mut out = ChunkSender {
            chunk: Vec::with_capacity(STREAM_CHUNK),
            tx,
        };
        let _ = write_enveloped(&mut out, &id, writer).and_then(|()| out.send_chunk());
    });
    Body::Chunks(rx)
}

/// `{"id":..,"result":` + the result + `,"error":null}` and a newline.
fn write_enveloped(out: &mut dyn Write, id: &Value, writer: JsonWriter) -> std::io::Result<()> {
    write!(
        out,
        "{{\"id\":{},\"result\":",
        serde_json::to_string(id).expect("an id serializes")
    )?;
    (writer.write)(out)?;
    out.write_all(b",\"error\":null}\n")
}

/// An `io::Write` that hands what is written to a channel in chunks of
/// [`STREAM_CHUNK`] bytes, blocking while the channel is full; it fails
/// once the receiver is gone.
struct ChunkSender {
    chunk: Vec<u8>,
    tx: mpsc::Sender<Vec<u8>>,
}

impl ChunkSender {
    /// Sends what is buffered.
    fn send_chunk(&mut self) -> std::io::Result<()> {
        if self.chunk.is_empty() {
            return Ok(());
        }
        let chunk = std::mem::replace(&mut self.chunk, Vec::with_capacity(STREAM_CHUNK));
        self.tx
            .blocking_send(chunk)
            .map_err(|_| std::io::Error::from(std::io::ErrorKind::BrokenPipe))
    }
}

impl Write for ChunkSender {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.chunk.extend_from_slice(bytes);
        if self.chunk.len() >= STREAM_CHUNK {
            self.send_chunk()?;
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Runs one method.
async fn answer(ctx: &Arc<Context>, method: &str, p: Params) -> Result<Answer, String> {
    if let Some(pending) = start_pipelined(ctx, method, &p) {
        return pending.await;
    }
    dispatch(ctx, method, p).await.map(Answer::Value)
}

/// One reply line: `{"id":..,"result":..,"error":..}` with all three keys,
/// as Go writes it, and a newline.
fn envelope(id: Value, reply: Result<Answer, String>) -> Vec<u8> {
    #[derive(serde::Serialize)]
    struct Envelope<'a> {
        id: &'a Value,
        result: Option<&'a RawValue>,
        error: Option<&'a str>,
    }
    let serialized = |result: Option<&RawValue>, error: Option<&str>| {
        let mut line = serde_json::to_vec(&Envelope {
            id: &id,
            result,
            error,
        })
        .expect("an envelope serializes");
        line.push(b'\n');
        line
    };
    match reply {
        Ok(Answer::Json(writer)) => {
            let mut line = Vec::with_capacity(writer.size_hint + 64);
            write_enveloped(&mut line, &id, writer).expect("writing to memory does not fail");
            line
        }
        Ok(Answer::Value(value)) => {
            let written = serde_json::value::to_raw_value(&value).expect("a JSON value serializes");
            serialized(Some(&written), None)
        }
        Err(message) => serialized(None, Some(&message)),
    }
}

/// Methods Delve runs asynchronously.
fn is_async(name: &str) -> bool {
    matches!(name, "Command" | "State" | "Restart" | "GetEvents")
}

/// Runs a blocking debugger call off the async threads.
async fn blocking<T: Send + 'static>(
    ctx: &Context,
    f: impl FnOnce(&Debugger) -> Result<T, SessionError> + Send + 'static,
) -> Result<T, String> {
    // The call waits for the tracer thread; block this worker in place
    // (tokio moves its other tasks away) rather than hopping to a thread of
    // the blocking pool first.
    tokio::task::block_in_place(|| f(&ctx.debugger)).map_err(|e| e.to_string())
}

/// Hands debugger calls to the tracer thread now, to run there in turn
/// with other requests (see [`Debugger::run_on_tracer`]); the returned
/// future waits for them without holding a thread. For calls that finish
/// on their own, never for halting a running target.
fn on_tracer<T: Send + 'static>(
    ctx: &Context,
    f: impl FnOnce(&Debugger) -> Result<T, SessionError> + Send + 'static,
) -> impl Future<Output = Result<T, String>> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    let submitted = ctx.debugger.run_on_tracer(f, move |result| {
        let _ = tx.send(result);
    });
    async move {
        submitted.map_err(|e| e.to_string())?;
        match rx.await {
            Ok(result) => result.map_err(|e| e.to_string()),
            Err(_) => Err(SessionError::Ended.to_string()),
        }
    }
}

/// A reply being computed on the tracer thread.
type PendingAnswer = Pin<Box<dyn Future<Output = Result<Answer, String>> + Send>>;

/// For the methods clients send many of at once (`Stacktrace` for every
/// goroutine, `ListGoroutines` pages): hands the work to the tracer thread
/// at once, in request order, and returns its pending answer, so the
/// connection reads the next request meanwhile and the tracer works
/// through a batch without waiting for each reply to be written. Replies
/// still go out in request order. `None` for other methods.
fn start_pipelined(ctx: &Context, method: &str, p: &Params) -> Option<PendingAnswer> {
    let started = match method {
        "RPCServer.Stacktrace" => stacktrace(ctx, p),
        "RPCServer.ListGoroutines" => list_goroutines(ctx, p),
        "RPCServer.Eval" => eval(ctx, p),
        "RPCServer.ListLocalVars" => scope_variables(ctx, p, false),
        "RPCServer.ListFunctionArgs" => scope_variables(ctx, p, true),
        "RPCServer.ListPackageVars" => package_variables(ctx, p),
        _ => return None,
    };
    Some(match started {
        Ok(pending) => pending,
        Err(message) => Box::pin(std::future::ready(Err(message))),
    })
}

/// One method call.
async fn dispatch(ctx: &Arc<Context>, method: &str, p: Params) -> Reply {
    match method {
        "Ferret.Clients" => return Ok(clients(ctx)),
        "Ferret.GoroutineSummary" => return goroutine_summary(ctx, &p).await,
        "Ferret.GoroutineSnapshot" => return goroutine_snapshot(ctx, &p).await,
        "Ferret.GoroutineDiff" => return goroutine_diff(ctx, &p).await,
        "Ferret.CrashReport" => {
            let report = blocking(ctx, |d| d.crash_report()).await?;
            return Ok(convert::crash_report(&report));
        }
        _ => {}
    }
    let Some(name) = method.strip_prefix("RPCServer.") else {
        return Err(format!("unknown method: {method}"));
    };
    let pid = ctx.debugger.pid();
    match name {
        "SetApiVersion" => match p.i64("APIVersion")? {
            2 => Ok(json!({})),
            _ => Err("unknown API version".into()),
        },
        "GetVersion" => {
            let running = ctx.debugger.is_running();
            let go = ctx.debugger.bininfo().build_info().go_version.clone();
            Ok(json!({
                "DelveVersion": format!("Version: {}\nBuild: ferret", env!("CARGO_PKG_VERSION")),
                "APIVersion": 2,
                "Backend": if ctx.core { "core" } else { "native" },
                "TargetGoVersion": if running { String::new() } else { format!("Go cmd/compile {go}") },
                "MinSupportedVersionOfGo": "1.21.0",
                "MaxSupportedVersionOfGo": "1.27.0",
            }))
        }
        "IsMulticlient" => Ok(json!({"IsMulticlient": ctx.accept_multiclient})),
        "Recorded" => Ok(json!({"Recorded": false, "TraceDirectory": ""})),
        "FollowExecEnabled" => Ok(json!({"Enabled": false})),
        "AttachedToExistingProcess" => Ok(json!({"Answer": ctx.debugger.attached()})),
        "ProcessPid" => Ok(json!({"Pid": pid})),
        "LastModified" => {
            let modified = std::fs::metadata(ctx.debugger.binary())
                .and_then(|m| m.modified())
                .ok();
            Ok(json!({"Time": modified.map(rfc3339).unwrap_or_default()}))
        }
        "BuildID" => Ok(json!({"BuildID": build_id(ctx)})),
        "DumpStart" => {
            let dest = std::path::PathBuf::from(p.string("Destination")?);
            let state = blocking(ctx, move |d| d.dump_start(dest)).await?;
            Ok(json!({"State": convert::dump_state(&state)}))
        }
        "DumpWait" => {
            // Delve treats a negative wait like zero.
            let wait = std::time::Duration::from_millis(p.i64("Wait")?.max(0) as u64);
            let state = tokio::task::block_in_place(|| ctx.debugger.dump_wait(wait));
            Ok(json!({"State": convert::dump_state(&state)}))
        }
        "DumpCancel" => {
            ctx.debugger.dump_cancel();
            Ok(json!({}))
        }
        "DebugInfoDirectories" => Ok(json!({"List": ["/usr/lib/debug/.build-id"]})),
        "ListTargets" => {
            let state = blocking(ctx, |d| d.state(false)).await;
            let targets = match state {
                Ok(s) if !s.exited => vec![json!({
                    "Pid": s.pid,
                    "CmdLine": s.command_line,
                    "CurrentThread": s.current_thread.as_ref().map(|t| convert::thread(t, s.pid, convert::ThreadView::Listing)),
                })],
                _ => Vec::new(),
            };
            Ok(json!({"Targets": targets}))
        }
        "State" => {
            let non_blocking = p.bool("NonBlocking")?;
            let state = blocking(ctx, move |d| d.state(non_blocking)).await?;
            Ok(json!({"State": convert::state(&state, false)}))
        }
        "Command" => command(ctx, &p).await,
        "GetEvents" => {
            let events = ctx.events.wait().await;
            Ok(
                json!({"Events": events.into_iter().map(|kind| json!({"Kind": kind})).collect::<Vec<_>>()}),
            )
        }
        "Restart" => {
            blocking(ctx, |d| d.restart()).await?;
            Ok(json!({"DiscardedBreakpoints": []}))
        }
        "Detach" => {
            let kill = p.bool("Kill")?;
            if ctx.debugger.is_running() {
                let _ = blocking(ctx, |d| d.halt()).await;
            }
            blocking(ctx, move |d| d.detach(kill)).await?;
            Ok(json!({}))
        }
        "FindLocation" => {
            let spec = p.string("Loc")?;
            let location = blocking(ctx, move |d| d.find_location(&spec)).await?;
            Ok(
                json!({"Locations": [convert::found_location(&location, pid)], "SubstituteLocExpr": ""}),
            )
        }
        "CreateBreakpoint" => {
            let template = match p.object("Breakpoint", "Breakpoint")? {
                Some(bp) => breakpoint_from(&bp)?,
                None => Breakpoint::default(),
            };
            let addr = p
                .object("Breakpoint", "Breakpoint")?
                .map(|b| b.u64("addr"))
                .transpose()?
                .unwrap_or(0);
            let request = BreakpointRequest {
                template,
                loc_expr: p.string("LocExpr")?,
                addr,
            };
            let bp = blocking(ctx, move |d| d.create_breakpoint(request)).await?;
            ctx.publish(RunEvent::BreakpointsChanged { by: 0 });
            Ok(json!({"Breakpoint": convert::breakpoint(&bp, pid)}))
        }
        "ListBreakpoints" => {
            let bps = blocking(ctx, |d| d.breakpoints()).await?;
            Ok(
                json!({"Breakpoints": bps.iter().map(|b| convert::breakpoint(b, pid)).collect::<Vec<_>>()}),
            )
        }
        "GetBreakpoint" | "ClearBreakpoint" | "ToggleBreakpoint" => {
            let id = p.i64("Id")? as i32;
            let bp_name = p.string("Name")?;
            let which = name.to_owned();
            let bp = blocking(ctx, move |d| match which.as_str() {
                "GetBreakpoint" => d.breakpoint(id, bp_name),
                "ClearBreakpoint" => d.clear_breakpoint(id, bp_name),
                _ => d.toggle_breakpoint(id, bp_name),
            })
            .await?;
            if name != "GetBreakpoint" {
                ctx.publish(RunEvent::BreakpointsChanged { by: 0 });
            }
            Ok(json!({"Breakpoint": convert::breakpoint(&bp, pid)}))
        }
        "AmendBreakpoint" => {
            let Some(bp) = p.object("Breakpoint", "Breakpoint")? else {
                return Err("no breakpoint with id 0".into());
            };
            let update = breakpoint_from(&bp)?;
            blocking(ctx, move |d| d.amend_breakpoint(update)).await?;
            ctx.publish(RunEvent::BreakpointsChanged { by: 0 });
            Ok(json!({}))
        }
        "CancelNext" => {
            blocking(ctx, |d| d.cancel_next()).await?;
            Ok(json!({}))
        }
        "Ancestors" => {
            let id = p.i64("GoroutineID")?;
            let count = p.count_or("NumAncestors", 0)?;
            let depth = p.count_or("Depth", 0)?;
            let ancestors = blocking(ctx, move |d| d.ancestors(id, count, depth)).await?;
            Ok(json!({"Ancestors": ancestors.iter().map(|a| json!({
                "ID": a.id,
                "Stack": a.stack.iter().map(convert::frame).collect::<Vec<_>>(),
                "Unreadable": a.unreadable,
            })).collect::<Vec<_>>()}))
        }
        "ListThreads" => {
            let threads = blocking(ctx, |d| d.threads()).await?;
            Ok(
                json!({"Threads": threads.iter().map(|t| convert::thread(t, pid, convert::ThreadView::Listing)).collect::<Vec<_>>()}),
            )
        }
        "GetThread" => {
            let id = p.i64("Id")? as i32;
            let thread = blocking(ctx, move |d| d.thread(id)).await?;
            Ok(json!({"Thread": convert::thread(&thread, pid, convert::ThreadView::Listing)}))
        }
        "ListRegisters" => {
            let thread_id = p.i64("ThreadID")? as i32;
            let scope = match p.get("Scope") {
                None | Some(Value::Null) => None,
                Some(_) => Some(eval_scope(&p, "Scope")?),
            };
            let regs = on_tracer(ctx, move |d| d.registers(thread_id, scope)).await?;
            Ok(convert::registers(&regs))
        }
        "ExamineMemory" => {
            let address = p.u64("Address")?;
            let length = p.i64("Length")?;
            if length > 65536 {
                return Err("len must be less than or equal to 65536".into());
            }
            if length < 0 {
                return Err(format!("len must not be negative, not {length}"));
            }
            let bytes = on_tracer(ctx, move |d| d.examine_memory(address, length as usize)).await?;
            Ok(json!({"Mem": base64_encode(&bytes), "IsLittleEndian": true}))
        }
        "Set" => {
            let scope = eval_scope(&p, "Scope")?;
            let symbol = p.string("Symbol")?;
            let value = p.string("Value")?;
            on_tracer(ctx, move |d| d.set_variable(scope, symbol, value)).await?;
            Ok(json!({}))
        }
        "ListFunctions" => {
            let filter = p.string("Filter")?;
            let bi = ctx.debugger.bininfo().clone();
            let names = tokio::task::spawn_blocking(move || -> Result<Vec<String>, String> {
                let functions = bi.functions().map_err(|e| e.to_string())?;
                let matcher = Matcher::new(&filter)?;
                let mut names: Vec<String> = functions
                    .iter()
                    .map(|f| f.name.clone())
                    .filter(|n| matcher.is_match(n))
                    .collect();
                names.sort();
                names.dedup();
                Ok(names)
            })
            .await
            .map_err(|e| e.to_string())??;
            Ok(json!({"Funcs": names}))
        }
        "ListSources" => {
            let filter = p.string("Filter")?;
            let matcher = Matcher::new(&filter)?;
            let files = ctx
                .debugger
                .bininfo()
                .source_files()
                .map_err(|e| e.to_string())?;
            Ok(
                json!({"Sources": files.into_iter().filter(|f| matcher.is_match(f)).collect::<Vec<_>>()}),
            )
        }
        "ListTypes" => {
            let filter = p.string("Filter")?;
            let matcher = Matcher::new(&filter)?;
            let mut types: Vec<String> = ctx
                .debugger
                .bininfo()
                .types()
                .map_err(|e| e.to_string())?
                .into_iter()
                .map(|t| t.name)
                .filter(|n| matcher.is_match(n))
                .collect();
            types.sort();
            types.dedup();
            Ok(json!({"Types": types}))
        }
        "FunctionReturnLocations" => {
            let function = p.string("FnName")?;
            Ok(json!({"Addrs": return_locations(ctx, &function)?}))
        }
        "GuessSubstitutePath" => Ok(json!({"List": null})),
        "Disassemble" => disassemble(ctx, &p).await,
        _ => Err(format!("unknown method: {method}")),
    }
}

/// `Ferret.GoroutineSummary`: goroutines grouped by wait reason, locations
/// or labels, with filters by wait reason and minimum wait (see
/// docs/ferret-methods.md).
async fn goroutine_summary(ctx: &Arc<Context>, p: &Params) -> Reply {
    let keys = summary_keys(p, &["waitreason"])?;
    let min_wait = p.f64("MinWaitSeconds")?;
    if min_wait < 0.0 || !min_wait.is_finite() {
        return Err(format!(
            "MinWaitSeconds must be a duration of 0 or more seconds, not {min_wait}"
        ));
    }
    let samples = p.count_or("Samples", DEFAULT_SUMMARY_SAMPLES)?;
    let request = SummaryRequest {
        keys,
        wait_reasons: p.strings("WaitReasons")?,
        min_wait_ns: (min_wait * 1e9) as i64,
        samples,
    };
    let summary = blocking(ctx, move |d| d.goroutine_summary(request)).await?;
    Ok(convert::goroutine_summary(&summary))
}

/// `GroupBy` of the leak-hunting methods: one or two keys, `default` when
/// absent.
fn summary_keys(p: &Params, default: &[&str]) -> Result<Vec<SummaryKey>, String> {
    let mut names = p.strings("GroupBy")?;
    if names.is_empty() {
        names = default.iter().map(|s| s.to_string()).collect();
    }
    if names.len() > 2 {
        return Err(format!(
            "GroupBy takes one or two keys, not {}",
            names.len()
        ));
    }
    names
        .iter()
        .map(|n| {
            SummaryKey::parse(n).ok_or_else(|| {
                format!("unknown grouping {n:?}: use waitreason, userloc, startloc, goloc, curloc or label:KEY")
            })
        })
        .collect()
}

/// `Ferret.GoroutineSnapshot`: remembers the goroutines under a name.
async fn goroutine_snapshot(ctx: &Arc<Context>, p: &Params) -> Reply {
    let name = p.string("Name")?;
    if name.is_empty() {
        return Err("a snapshot needs a Name".into());
    }
    let taken = std::time::SystemTime::now();
    let count = blocking(ctx, {
        let name = name.clone();
        move |d| d.goroutine_snapshot(name)
    })
    .await?;
    Ok(json!({"Name": name, "Goroutines": count, "Taken": rfc3339(taken)}))
}

/// `Ferret.GoroutineDiff`: the groups that grew between two snapshots, or
/// between a snapshot and now.
async fn goroutine_diff(ctx: &Arc<Context>, p: &Params) -> Reply {
    let from = p.string("From")?;
    let to = Some(p.string("To")?).filter(|t| !t.is_empty());
    let keys = summary_keys(p, &["waitreason", "userloc"])?;
    let max_ids = p.count_or("MaxIDs", DEFAULT_DIFF_IDS)?;
    let depth = p.count_or("Depth", DEFAULT_DIFF_DEPTH)?;
    let groups = blocking(ctx, {
        let (from, to) = (from.clone(), to.clone());
        move |d| d.goroutine_diff(from, to, keys, max_ids, depth)
    })
    .await?;
    Ok(json!({
        "From": from,
        "To": to.unwrap_or_default(),
        "Groups": groups.iter().map(|(g, stack)| json!({
            "Key": g.key,
            "Before": g.before,
            "After": g.after,
            "Growth": g.after - g.before,
            "NewIDs": g.new_ids,
            "Stack": stack.iter().map(convert::frame).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    }))
}

/// New goroutine ids listed per diff group unless asked otherwise.
const DEFAULT_DIFF_IDS: usize = 100;

/// Frames of each diff group's representative stack unless asked otherwise.
const DEFAULT_DIFF_DEPTH: usize = 10;

/// Goroutine ids listed per summary group unless asked otherwise.
const DEFAULT_SUMMARY_SAMPLES: usize = 5;

/// `Ferret.Clients`: who is connected (address, protocol, certificate
/// subject, connected since, RFC 3339).
fn clients(ctx: &Context) -> Value {
    let clients = ctx
        .clients
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    json!({"Clients": clients.iter().map(|c| json!({
        "Address": c.address,
        "Protocol": c.protocol,
        "Subject": c.subject,
        "ConnectedSince": rfc3339(c.since),
    })).collect::<Vec<_>>()})
}

/// `Stacktrace`: the frames of one goroutine (-1: the selected one),
/// Depth + 1 of them as Delve counts, with deferred calls when asked
/// (`Defers`, or `Opts` bit 1).
fn stacktrace(ctx: &Context, p: &Params) -> Result<PendingAnswer, String> {
    let id = p.i64("Id")?;
    let depth = p.count_or("Depth", 0)?;
    let skip = p.count_or("Skip", 0)?;
    let with_defers = p.bool("Defers")? || p.i64("Opts")? & STACKTRACE_READ_DEFERS != 0;
    // Variables come with a configuration, or with Full (then loaded fully).
    let variables = match load_config(p, "Cfg")? {
        Some(config) => Some(config),
        None if p.bool("Full")? => Some(LoadConfig::FULL),
        None => None,
    };
    let frames = on_tracer(ctx, move |d| {
        d.stacktrace(id, depth + 1, skip, with_defers, variables)
    });
    Ok(Box::pin(async move {
        let frames = frames.await?;
        Ok(Answer::json(
            convert::stacktrace_size(&frames),
            move |out| convert::write_stacktrace(out, &frames),
        ))
    }))
}

/// `Eval`: an expression in a frame, loaded as `Cfg` says (only a missing
/// configuration means Delve's full one).
fn eval(ctx: &Context, p: &Params) -> Result<PendingAnswer, String> {
    let scope = eval_scope(p, "Scope")?;
    let expression = p.string("Expr")?;
    let config = load_config(p, "Cfg")?.unwrap_or(LoadConfig::FULL);
    let v = on_tracer(ctx, move |d| d.eval(scope, expression, config));
    Ok(Box::pin(async move {
        let v = v.await?;
        Ok(Answer::json(convert::variable_size(&v), move |out| {
            convert::write_eval_reply(out, &v)
        }))
    }))
}

/// `ListLocalVars` / `ListFunctionArgs` (`arguments`): a frame's
/// variables; without a configuration Delve loads only the top level.
fn scope_variables(ctx: &Context, p: &Params, arguments: bool) -> Result<PendingAnswer, String> {
    let scope = eval_scope(p, "Scope")?;
    let config = load_config(p, "Cfg")?.unwrap_or(LoadConfig::NOTHING);
    let vars = on_tracer(ctx, move |d| {
        if arguments {
            d.function_args(scope, config)
        } else {
            d.local_vars(scope, config)
        }
    });
    let key = if arguments { "Args" } else { "Variables" };
    Ok(Box::pin(async move {
        let vars = vars.await?;
        Ok(Answer::json(convert::variables_size(&vars), move |out| {
            convert::write_variables_reply(out, key, &vars)
        }))
    }))
}

/// `ListPackageVars`: package variables whose name matches `Filter`.
fn package_variables(ctx: &Context, p: &Params) -> Result<PendingAnswer, String> {
    let matcher = Matcher::new(&p.string("Filter")?)?;
    let config = load_config(p, "Cfg")?.unwrap_or(LoadConfig::NOTHING);
    let vars = on_tracer(ctx, move |d| {
        d.package_vars(move |name| matcher.is_match(name), config)
    });
    Ok(Box::pin(async move {
        let vars = vars.await?;
        Ok(Answer::json(convert::variables_size(&vars), move |out| {
            convert::write_variables_reply(out, "Variables", &vars)
        }))
    }))
}

/// Delve's `StacktraceReadDefers` option bit.
const STACKTRACE_READ_DEFERS: i64 = 1;

/// `ListGoroutines`: a page of goroutines in the runtime's order, then
/// Delve's filters, then its grouping.
fn list_goroutines(ctx: &Context, p: &Params) -> Result<PendingAnswer, String> {
    // Where `chan` filters are evaluated.
    let scope = eval_scope(p, "EvalScope")?;
    let start = p.count_or("Start", 0)?;
    let count = p.count_or("Count", 0)?;
    let mut filters = Vec::new();
    if let Some(Value::Array(items)) = p.get("Filters") {
        for item in items {
            let Value::Object(o) = item else { continue };
            let f = Params::new(o.clone(), "ListGoroutinesFilter");
            filters.push(GoroutineFilter {
                field: GoroutineField::from_wire(f.i64("Kind")?),
                negated: f.bool("Negated")?,
                arg: f.string("Arg")?,
            });
        }
    }
    let group_by = p.i64("GroupBy")?;
    let grouping = (group_by != 0).then(|| -> Result<GroupOptions, String> {
        Ok(GroupOptions {
            field: GoroutineField::from_wire(group_by),
            key: p.string("GroupByKey")?,
            max_members: p.count_or("MaxGroupMembers", 0)?,
            max_groups: p.count_or("MaxGroups", 0)?,
        })
    });
    let grouping = grouping.transpose()?;
    let listing = on_tracer(ctx, move |d| {
        d.goroutine_listing(start, count, filters, grouping, scope)
    });
    Ok(Box::pin(async move {
        let listing = listing.await?;
        Ok(Answer::json(
            convert::goroutine_listing_size(&listing),
            move |out| convert::write_goroutine_listing(out, &listing),
        ))
    }))
}

/// `Command`: run control (or halt), reporting Resumed/Stopped events when
/// asked to.
async fn command(ctx: &Arc<Context>, p: &Params) -> Reply {
    let name = p.string("name")?;
    let with_events = p.bool("WithEvents")?;
    let command = match name.as_str() {
        "halt" => {
            ctx.pause_requested
                .store(true, std::sync::atomic::Ordering::SeqCst);
            let state = blocking(ctx, |d| d.halt()).await?;
            return Ok(json!({"State": convert::state(&state, true)}));
        }
        "continue" => Command::Continue,
        "next" => Command::Next,
        "step" => Command::Step,
        "stepOut" => Command::StepOut(load_config(p, "ReturnInfoLoadConfig")?),
        "stepInstruction" => Command::StepInstruction,
        "switchThread" => Command::SwitchThread(p.i64("threadID")? as i32),
        "switchGoroutine" => Command::SwitchGoroutine(p.i64("goroutineID")?),
        other => return Err(format!("unknown command {other:?}")),
    };
    let runs = !matches!(
        command,
        Command::SwitchThread(_) | Command::SwitchGoroutine(_)
    );
    if runs {
        ctx.publish(RunEvent::Resumed { by: 0 });
        if with_events {
            ctx.events.push(0);
        }
    }
    let result = blocking(ctx, move |d| d.command(command)).await;
    if runs {
        if with_events {
            ctx.events.push(1);
        }
        ctx.publish(RunEvent::Stopped {
            by: 0,
            state: Arc::new(result.clone()),
        });
    }
    let state = result?;
    Ok(json!({"State": convert::state(&state, true)}))
}

/// `Disassemble`: the instructions of `[StartPC, EndPC)`, or of the whole
/// function holding `StartPC` when `EndPC` is 0.
async fn disassemble(ctx: &Arc<Context>, p: &Params) -> Reply {
    let start = p.u64("StartPC")?;
    let end = p.u64("EndPC")?;
    let syntax = match p.i64("Flavour")? {
        0 => ferret_gort::disasm::Syntax::Gnu,
        2 => ferret_gort::disasm::Syntax::Go,
        _ => ferret_gort::disasm::Syntax::Intel,
    };
    let bi = ctx.debugger.bininfo().clone();
    let (start, end) = if end == 0 {
        let function = bi
            .function_at(start)
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("address {start:#x} does not belong to any function"))?;
        (function.entry, function.end)
    } else {
        (start, end)
    };
    if end <= start || end - start > 1 << 20 {
        return Err(format!("invalid address range {start:#x}-{end:#x}"));
    }
    let code = bi
        .image()
        .read_at(start, (end - start) as usize)
        .ok_or_else(|| format!("cannot read {start:#x}-{end:#x}"))?;
    let (breakpoints, pc) = if ctx.debugger.is_running() {
        (Vec::new(), 0)
    } else {
        let bps = blocking(ctx, |d| d.breakpoints()).await.unwrap_or_default();
        let state = blocking(ctx, |d| d.state(true)).await.ok();
        let pc = state.and_then(|s| s.current_thread).map_or(0, |t| t.pc);
        (
            bps.into_iter()
                .filter(|b| !b.disabled)
                .flat_map(|b| b.addrs)
                .collect(),
            pc,
        )
    };
    let decoded = match syntax {
        ferret_gort::disasm::Syntax::Go => {
            let symbols = ferret_gort::disasm::DelveSymbols::new(&bi).map_err(|e| e.to_string())?;
            ferret_gort::disasm::disassemble_go(code, start, &|a| symbols.lookup(a))
        }
        _ => ferret_gort::disasm::disassemble(code, start, syntax),
    };
    let instructions: Vec<Value> = decoded
        .into_iter()
        .map(|insn| {
            let loc = location_of(ctx, insn.address);
            let dest = insn
                .branch_target
                .map(|target| convert::location(&location_of(ctx, target)));
            json!({
                "Loc": convert::location(&loc),
                "DestLoc": dest,
                "Text": insn.text,
                "Bytes": base64_encode(&insn.bytes),
                "Breakpoint": breakpoints.contains(&insn.address),
                "AtPC": insn.address == pc,
            })
        })
        .collect();
    Ok(json!({"Disassemble": instructions}))
}

/// The source position of `pc` as an `api.Location` model.
fn location_of(ctx: &Context, pc: u64) -> ferret_debugger::model::Location {
    ctx.debugger.location_of(pc)
}

/// Standard base64, as Go encodes `[]byte` in JSON.
pub(crate) fn base64_encode(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Decodes standard base64 (DAP `writeMemory` data).
pub(crate) fn base64_decode(text: &str) -> Result<Vec<u8>, String> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .map_err(|e| e.to_string())
}

/// The `LoadConfig` object at `key`, if given.
fn load_config(p: &Params, key: &str) -> Result<Option<LoadConfig>, String> {
    Ok(match p.object(key, "LoadConfig")? {
        None => None,
        Some(c) => Some(LoadConfig {
            follow_pointers: c.bool("FollowPointers")?,
            max_variable_recurse: c.i64("MaxVariableRecurse")?,
            max_string_len: c.i64("MaxStringLen")?,
            max_array_values: c.i64("MaxArrayValues")?,
            max_struct_fields: c.i64("MaxStructFields")?,
        }),
    })
}

/// The `EvalScope` object at `key` (absent: the selected goroutine's
/// innermost frame).
fn eval_scope(p: &Params, key: &str) -> Result<EvalScope, String> {
    Ok(match p.object(key, "EvalScope")? {
        None => EvalScope {
            goroutine_id: -1,
            frame: 0,
            deferred_call: 0,
        },
        Some(s) => EvalScope {
            goroutine_id: s.i64("GoroutineID")?,
            frame: s.count_or("Frame", 0)?,
            deferred_call: s.count_or("DeferredCall", 0)?,
        },
    })
}

/// A breakpoint's attributes from the wire.
fn breakpoint_from(p: &Params) -> Result<Breakpoint, String> {
    let load = |key: &str| load_config(p, key);
    Ok(Breakpoint {
        id: p.i64("id")? as i32,
        name: p.string("name")?,
        addrs: p.u64s("addrs")?,
        file: p.string("file")?,
        line: p.i64("line")?.max(0) as u32,
        function_name: p.string("functionName")?,
        cond: p.string("Cond")?,
        hit_cond: p.string("HitCond")?,
        hit_cond_per_g: p.bool("HitCondPerG")?,
        tracepoint: p.bool("continue")?,
        trace_return: p.bool("traceReturn")?,
        goroutine: p.bool("goroutine")?,
        stacktrace: p.i64("stacktrace")?,
        variables: p.strings("variables")?,
        load_args: load("LoadArgs")?,
        load_locals: load("LoadLocals")?,
        disabled: p.bool("disabled")?,
        ..Breakpoint::default()
    })
}

/// Addresses of the `ret` instructions of a function (for `trace`).
fn return_locations(ctx: &Context, name: &str) -> Result<Vec<u64>, String> {
    let bi = ctx.debugger.bininfo();
    let function = bi
        .function_by_name(name)
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("unable to find function {name}"))?;
    let code = bi
        .image()
        .read_at(function.entry, (function.end - function.entry) as usize)
        .ok_or_else(|| format!("cannot read the code of {name}"))?;
    Ok(
        ferret_gort::disasm::disassemble(code, function.entry, ferret_gort::disasm::Syntax::Intel)
            .into_iter()
            .filter(|i| i.is_return)
            .map(|i| i.address)
            .collect(),
    )
}

/// The executable's GNU build id, hex.
fn build_id(ctx: &Context) -> String {
    let image = ctx.debugger.bininfo().image();
    match image.loaded_section(".note.gnu.build-id") {
        // Note header: namesz, descsz, type, then "GNU\0" and the id.
        Some((_, note)) if note.len() > 16 => {
            note[16..].iter().map(|b| format!("{b:02x}")).collect()
        }
        _ => String::new(),
    }
}

/// RFC 3339 with nanoseconds in UTC, as Go formats `time.Time`.
fn rfc3339(time: std::time::SystemTime) -> String {
    let since = time
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = since.as_secs() as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:09}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        since.subsec_nanos()
    )
}

/// The filters clients send: Go regular expressions (RE2 syntax, as the
/// `regex` crate reads them), matched anywhere in a name.
struct Matcher(regex::Regex);

impl Matcher {
    fn new(filter: &str) -> Result<Matcher, String> {
        regex::Regex::new(filter)
            .map(Matcher)
            .map_err(|e| format!("invalid filter argument: error parsing regexp: {e}"))
    }

    fn is_match(&self, s: &str) -> bool {
        self.0.is_match(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_and_times() {
        let m = Matcher::new(r"^plugin\.Open$").unwrap();
        assert!(m.is_match("plugin.Open"));
        assert!(!m.is_match("plugin.OpenX"));
        assert!(Matcher::new(r"^main\.").unwrap().is_match("main.main"));
        assert!(Matcher::new("a(b").is_err());
        assert!(Matcher::new("errEAGAIN|pdEface")
            .unwrap()
            .is_match("syscall.errEAGAIN"));
        let t = std::time::UNIX_EPOCH + std::time::Duration::new(1_764_151_616, 743_699_242);
        assert_eq!(rfc3339(t), "2025-11-26T10:06:56.743699242Z");
    }
}
