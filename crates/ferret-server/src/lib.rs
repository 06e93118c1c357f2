//! ferret-server: the network front of ferret.
//!
//! One TCP listener serves every client. Each connection's first byte
//! decides its protocol (Delve's rule: `C`, the start of `Content-Length:`,
//! means DAP; anything else JSON-RPC), and one task serves it. All clients
//! share one [`ferret_debugger::Debugger`]. This is the only crate that
//! knows JSON.
//!
//! # Layout
//! - [`serve`]: the accept loop and Delve's multi-client rules.
//! - [`rpc2`]: Delve's JSON-RPC API v2.
//! - [`dap`]: the Debug Adapter Protocol, on the shared port and standalone.
//! - [`tls`]: TLS and client-certificate checks.
//! - [`sameuser`]: the `--only-same-user` check.
//! - [`leak`]: goroutine-leak views as text (the `ferret goroutines` table).
//! - [`fuzzing`]: what the fuzzers under `fuzz/` feed bytes to.

pub mod dap;
pub mod fuzzing;
pub mod leak;
pub mod rpc2;
pub mod sameuser;
pub mod tls;

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use ferret_debugger::Debugger;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, BufReader};
use tokio::net::TcpListener;
use tokio::sync::{watch, Notify};

/// The default limit on one request's size.
pub const DEFAULT_MAX_REQUEST_BYTES: usize = 64 << 20;

/// How the server behaves.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Serve any number of clients, and survive their leaving (Delve's
    /// `--accept-multiclient`).
    pub accept_multiclient: bool,
    /// The target is a core file.
    pub core: bool,
    /// The largest request accepted; a bigger one closes that connection.
    pub max_request_bytes: usize,
    /// On a loopback listener, refuse clients of other users.
    pub only_same_user: bool,
    /// Serve over TLS with this configuration.
    pub tls: Option<Arc<tls::TlsState>>,
    /// Most clients connected at once; more are refused with an error.
    pub max_clients: usize,
}

/// The default for [`ServerConfig::max_clients`].
pub const DEFAULT_MAX_CLIENTS: usize = 64;

/// A connected client, as `Ferret.Clients` lists it.
#[derive(Debug, Clone)]
pub struct ClientInfo {
    /// Unique within this server.
    pub id: u64,
    /// The peer's address.
    pub address: String,
    /// `json-rpc` or `dap`.
    pub protocol: &'static str,
    /// The client certificate's subject, with mutual TLS.
    pub subject: Option<String>,
    /// When it connected.
    pub since: std::time::SystemTime,
}

/// Events for `GetEvents`, shared by all clients as in Delve.
#[derive(Debug, Default)]
pub struct EventQueue {
    queue: Mutex<VecDeque<i64>>,
    ready: Notify,
}

/// How many events the queue keeps (Delve drops beyond 100).
const MAX_EVENTS: usize = 100;

impl EventQueue {
    /// Adds an event of `kind` (0 resumed, 1 stopped).
    pub fn push(&self, kind: i64) {
        let mut queue = self.queue.lock().unwrap_or_else(|e| e.into_inner());
        if queue.len() < MAX_EVENTS {
            queue.push_back(kind);
        }
        drop(queue);
        self.ready.notify_one();
    }

    /// Waits until at least one event is queued, then takes them all.
    pub async fn wait(&self) -> Vec<i64> {
        loop {
            {
                let mut queue = self.queue.lock().unwrap_or_else(|e| e.into_inner());
                if !queue.is_empty() {
                    return queue.drain(..).collect();
                }
            }
            self.ready.notified().await;
        }
    }
}

/// A change of the target's run state or breakpoints, told to every DAP
/// client so each sees what any client (JSON-RPC or DAP) did.
#[derive(Debug, Clone)]
pub enum RunEvent {
    /// Client `by` (0: a JSON-RPC client) set the target running.
    Resumed {
        /// The client that resumed it.
        by: u64,
    },
    /// The target stopped (or exited) after client `by` resumed it.
    Stopped {
        /// The client that had resumed it.
        by: u64,
        /// The state it stopped in, or why the command failed.
        state: Arc<Result<ferret_debugger::model::State, String>>,
    },
    /// Client `by` (0: a JSON-RPC client) made, changed or cleared
    /// breakpoints.
    BreakpointsChanged {
        /// The client that changed them.
        by: u64,
    },
}

/// What every connection task shares.
#[derive(Debug)]
pub struct Context {
    /// The debugging session.
    pub debugger: Debugger,
    /// `--accept-multiclient`.
    pub accept_multiclient: bool,
    /// Serving a core file.
    pub core: bool,
    /// Request size limit.
    pub max_request_bytes: usize,
    /// Client limit.
    pub max_clients: usize,
    /// Events for `GetEvents`.
    pub events: EventQueue,
    /// Set once the server is ending (after `Detach`).
    ended: AtomicBool,
    /// Wakes tasks when the server ends.
    pub shutdown: Notify,
    stop: watch::Sender<bool>,
    /// Connected clients.
    pub clients: Mutex<Vec<ClientInfo>>,
    next_client: std::sync::atomic::AtomicU64,
    /// Run-state changes, for DAP clients.
    pub run_events: tokio::sync::broadcast::Sender<RunEvent>,
    /// A client asked the target to stop (DAP `pause`, remote `attach`,
    /// JSON-RPC `halt`) since the last run began: a DAP run that sees the
    /// stop does not resume (it does resume after stops nobody asked for,
    /// such as halting to change breakpoints).
    pub pause_requested: AtomicBool,
    /// Runs started by DAP clients that have not ended (such a run resumes
    /// the target itself after a stop nobody asked for).
    pub dap_runs: std::sync::atomic::AtomicUsize,
    /// Set while a client changes breakpoints of a target it halted for
    /// that: DAP runs wait before resuming until it is cleared.
    pub hold_resume: AtomicBool,
    /// Wakes DAP runs waiting on [`Context::hold_resume`].
    pub resume_allowed: Notify,
    /// The address the server listens on (Delve names it in some errors).
    pub address: String,
    /// DAP log points: breakpoint id -> message template (Delve keeps it in
    /// the breakpoint's user data; ferret's breakpoints carry no such field).
    pub log_messages: Mutex<std::collections::HashMap<i32, String>>,
}

impl Context {
    /// A context for `debugger` served at `address` as `config` says.
    pub fn new(debugger: Debugger, config: &ServerConfig, address: String) -> Context {
        let (stop, _) = watch::channel(false);
        Context {
            debugger,
            accept_multiclient: config.accept_multiclient,
            core: config.core,
            max_request_bytes: config.max_request_bytes,
            max_clients: config.max_clients,
            events: EventQueue::default(),
            ended: AtomicBool::new(false),
            shutdown: Notify::new(),
            stop,
            clients: Mutex::new(Vec::new()),
            next_client: std::sync::atomic::AtomicU64::new(1),
            run_events: tokio::sync::broadcast::channel(64).0,
            log_messages: Mutex::new(std::collections::HashMap::new()),
            pause_requested: AtomicBool::new(false),
            dap_runs: std::sync::atomic::AtomicUsize::new(0),
            hold_resume: AtomicBool::new(false),
            resume_allowed: Notify::new(),
            address,
        }
    }

    /// Tells DAP clients that the target's run state changed.
    pub fn publish(&self, event: RunEvent) {
        let _ = self.run_events.send(event);
    }

    /// Whether the server is ending.
    pub fn ended(&self) -> bool {
        self.ended.load(Ordering::SeqCst)
    }

    /// Marks the server as ending and wakes every connection.
    pub fn end_server(&self) {
        self.ended.store(true, Ordering::SeqCst);
        self.shutdown.notify_waiters();
        let _ = self.stop.send(true);
    }
}

/// Serves clients on `listener` until a client detaches (or, without
/// multiclient, until the one client leaves). Ends the debugging session
/// on the way out as Delve does: a launched target is killed, an attached
/// one left running.
pub async fn serve(listener: TcpListener, debugger: Debugger, config: ServerConfig) {
    let address = listener
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_default();
    let ctx = Arc::new(Context::new(debugger, &config, address));
    let mut stopped = ctx.stop.subscribe();
    let mut listener = Some(listener);
    let mut single: Option<tokio::task::JoinHandle<()>> = None;
    while let Some(accepting) = listener.as_ref() {
        tokio::select! {
            accepted = accepting.accept() => {
                let Ok((stream, peer)) = accepted else { continue };
                let loopback = accepting.local_addr().is_ok_and(|a| a.ip().is_loopback());
                if config.only_same_user && loopback && !stream.local_addr().is_ok_and(|a| sameuser::same_user(peer, a)) {
                    eprintln!(
                        "closing connection from different user ({peer}): connections to localhost are only \
                         accepted from the same UNIX user for security reasons"
                    );
                    drop(stream);
                    continue;
                }
                let _ = stream.set_nodelay(true);
                let ctx = ctx.clone();
                let tls = config.tls.clone();
                let task = tokio::spawn(async move { serve_stream(stream, peer, tls, ctx).await });
                if !config.accept_multiclient {
                    // Delve serves exactly one client without multiclient.
                    listener = None;
                    single = Some(task);
                }
            }
            _ = stopped.changed() => break,
        }
    }
    if let Some(task) = single {
        tokio::select! {
            _ = task => {}
            _ = stopped.changed() => {}
        }
    }
    if !ctx.ended.load(Ordering::SeqCst) {
        finish(&ctx).await;
    }
}

/// Ends the session when the server stops without a `Detach`.
pub async fn finish(ctx: &Context) {
    let debugger = ctx.debugger.clone();
    let _ = tokio::task::spawn_blocking(move || {
        if debugger.is_running() {
            let _ = debugger.halt();
        }
        let _ = debugger.detach(false);
    })
    .await;
}

/// Terminates TLS when configured, then sniffs the protocol of one
/// connection and serves it.
async fn serve_stream(
    stream: tokio::net::TcpStream,
    peer: std::net::SocketAddr,
    tls: Option<Arc<tls::TlsState>>,
    ctx: Arc<Context>,
) {
    match tls {
        None => sniff_and_serve(stream, peer, None, ctx).await,
        Some(tls) => {
            let handshake = tls.acceptor().accept(stream);
            let stream =
                match tokio::time::timeout(std::time::Duration::from_secs(10), handshake).await {
                    Ok(Ok(stream)) => stream,
                    Ok(Err(e)) => {
                        eprintln!("TLS handshake with {peer} failed: {e}");
                        return;
                    }
                    Err(_) => {
                        eprintln!("TLS handshake with {peer} timed out");
                        return;
                    }
                };
            let subject = stream
                .get_ref()
                .1
                .peer_certificates()
                .and_then(|c| c.first())
                .and_then(|c| tls::subject_of(c));
            if !tls.subject_allowed(subject.as_deref()) {
                eprintln!("closing connection from {peer}: client certificate subject {subject:?} is not allowed");
                return;
            }
            eprintln!(
                "TLS client {peer} connected, certificate subject {}",
                subject.as_deref().unwrap_or("(none)")
            );
            sniff_and_serve(stream, peer, subject, ctx).await
        }
    }
}

/// Tells one client why it is turned away, in its own protocol, and closes.
async fn refuse<S: AsyncRead + AsyncWrite + Unpin>(stream: S, protocol: &str, message: &str) {
    if protocol == "dap" {
        dap::refuse_with(stream, message).await;
    } else {
        rpc2::refuse(stream, message).await;
    }
}

/// Removes a client from the list when its connection ends.
struct Registered<'a> {
    ctx: &'a Context,
    id: u64,
}

impl Drop for Registered<'_> {
    fn drop(&mut self) {
        self.ctx
            .clients
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|c| c.id != self.id);
    }
}

/// Sniffs the first byte (`C` = DAP) and serves the connection.
async fn sniff_and_serve<S>(
    stream: S,
    peer: std::net::SocketAddr,
    subject: Option<String>,
    ctx: Arc<Context>,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let mut buffered = BufReader::new(stream);
    let first = match buffered.fill_buf().await {
        Ok([first, ..]) => *first,
        _ => return,
    };
    let protocol = if first == b'C' { "dap" } else { "json-rpc" };
    let id = ctx.next_client.fetch_add(1, Ordering::SeqCst);
    let admitted = {
        let mut clients = ctx.clients.lock().unwrap_or_else(|e| e.into_inner());
        let room = clients.len() < ctx.max_clients;
        if room {
            clients.push(ClientInfo {
                id,
                address: peer.to_string(),
                protocol,
                subject,
                since: std::time::SystemTime::now(),
            });
        }
        room
    };
    if !admitted {
        let message = format!(
            "too many clients: this server accepts at most {} at once",
            ctx.max_clients
        );
        eprintln!("refusing {peer}: {message}");
        refuse(buffered, protocol, &message).await;
        return;
    }
    let _registered = Registered { ctx: &ctx, id };
    if protocol == "dap" {
        dap::serve_shared(buffered, ctx.clone(), id).await;
    } else {
        rpc2::serve_connection(buffered, ctx.clone()).await;
    }
}
