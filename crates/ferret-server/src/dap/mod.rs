//! DAP, the Debug Adapter Protocol, as Delve's DAP server speaks it: on a
//! headless server's shared port (a connection starting with
//! `Content-Length:`; remote attach to the running session) and as the
//! standalone `ferret dap` server (the client's launch or attach starts
//! the target).
//!
//! - [`framing`]: the base protocol's headers and bodies.
//! - `wire`: requests, responses, events and Delve's error ids.
//! - `config`: launch/attach configuration keys.
//! - `commands`: the `dlv ...` console commands.
//! - `connection`: one client's session: the request loop, launch/attach
//!   and run control; `connection::breakpoints`, `::inspect` (threads,
//!   stacks, variables, evaluate) and `::memory` hold the other handlers.
//! - `output`: a launched program's output as `output` events.
//! - [`values`]: how a Go value is shown.

mod commands;
mod config;
mod connection;
pub mod framing;
mod output;
pub mod values;
mod wire;

use std::sync::Arc;

use serde_json::{json, Value};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::{Context, ServerConfig};
use connection::Backend;
use framing::DapFramer;

/// The largest first request read before answering a refused client.
const REFUSAL_READ_LIMIT: usize = 1 << 20;

/// Serves a DAP client that connected to a headless server's port.
pub async fn serve_shared<S>(stream: S, ctx: Arc<Context>, client_id: u64)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let ends_server = !ctx.accept_multiclient;
    connection::serve(stream, Backend::Shared(ctx.clone()), client_id).await;
    if ends_server && !ctx.ended() {
        // The single client is gone: the server ends, as Delve's does.
        ctx.end_server();
    }
}

/// `ferret dap`: serves one DAP client on `listener`; its `launch` or
/// `attach` starts the target, and its `disconnect` (or leaving) ends the
/// session and the server. A launched target is killed then, an attached
/// one left running.
pub async fn serve_standalone(listener: TcpListener, config: ServerConfig) {
    let address = listener
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_default();
    let Ok((stream, _peer)) = listener.accept().await else {
        return;
    };
    drop(listener);
    let _ = stream.set_nodelay(true);
    let backend = Backend::Standalone {
        config: Box::new(config),
        address,
    };
    let ctx = connection::serve(stream, backend, 1).await;
    if let Some(ctx) = ctx {
        if !ctx.ended() {
            crate::finish(&ctx).await;
        }
    }
}

/// Answers the first DAP request with an error response carrying
/// `message`, and closes (for clients turned away).
pub async fn refuse_with<S: AsyncRead + AsyncWrite + Unpin>(mut stream: S, message: &str) {
    let mut framer = DapFramer::new(REFUSAL_READ_LIMIT);
    let mut chunk = [0u8; 4096];
    // An unreadable first request is still answered, with seq 0.
    let request = loop {
        match framer.next_message() {
            Ok(Some(request)) => break request,
            Ok(None) => {}
            Err(_) => break Value::Null,
        }
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => framer.push(&chunk[..n]),
        }
    };
    let response = json!({
        "seq": 1,
        "type": "response",
        "request_seq": request.get("seq").cloned().unwrap_or(json!(0)),
        "success": false,
        "command": request.get("command").cloned().unwrap_or(json!("")),
        "message": message,
        "body": {"error": {"id": 3000, "format": message, "showUser": true}},
    });
    let _ = stream.write_all(&framing::encode(&response)).await;
    let _ = stream.shutdown().await;
}
