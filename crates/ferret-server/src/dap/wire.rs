//! DAP messages as they go on the wire: requests read, responses and
//! events written with their sequence numbers, error bodies in Delve's
//! shape (`{"error":{"id","format","showUser"}}` plus a top-level
//! `message`), and Delve's error ids.

use serde_json::{json, Value};
use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;

use super::framing;

/// Delve's DAP error ids (service/dap/error_ids.go), so clients that match
/// on them behave the same.
pub mod error_id {
    /// A request ferret will not handle.
    pub const UNSUPPORTED: i64 = 9999;
    /// Something went wrong inside ferret.
    pub const INTERNAL: i64 = 8888;
    /// A request ferret does not handle yet.
    pub const NOT_YET_IMPLEMENTED: i64 = 7777;
    /// `launch` failed; also "no debug session started".
    pub const FAILED_TO_LAUNCH: i64 = 3000;
    /// `attach` failed.
    pub const FAILED_TO_ATTACH: i64 = 3001;
    /// `initialize` refused.
    pub const FAILED_TO_INITIALIZE: i64 = 3002;
    /// Setting breakpoints failed.
    pub const UNABLE_TO_SET_BREAKPOINTS: i64 = 2002;
    /// `stackTrace` failed.
    pub const UNABLE_TO_PRODUCE_STACK_TRACE: i64 = 2004;
    /// Listing locals failed.
    pub const UNABLE_TO_LIST_LOCALS: i64 = 2005;
    /// Listing arguments failed.
    pub const UNABLE_TO_LIST_ARGS: i64 = 2006;
    /// Listing globals failed.
    pub const UNABLE_TO_LIST_GLOBALS: i64 = 2007;
    /// A `variables` handle is unknown or its value unreadable.
    pub const UNABLE_TO_LOOKUP_VARIABLE: i64 = 2008;
    /// `evaluate` failed.
    pub const UNABLE_TO_EVALUATE_EXPRESSION: i64 = 2009;
    /// `pause` failed.
    pub const UNABLE_TO_HALT: i64 = 2010;
    /// `exceptionInfo` failed.
    pub const UNABLE_TO_GET_EXCEPTION_INFO: i64 = 2011;
    /// `setVariable` failed.
    pub const UNABLE_TO_SET_VARIABLE: i64 = 2012;
    /// Listing registers failed.
    pub const UNABLE_TO_LIST_REGISTERS: i64 = 2014;
    /// `disassemble` failed.
    pub const UNABLE_TO_DISASSEMBLE: i64 = 2013;
    /// A `dlv ...` command in `evaluate` failed.
    pub const UNABLE_TO_RUN_DLV_COMMAND: i64 = 2015;
    /// `readMemory` failed.
    pub const UNABLE_TO_READ_MEMORY: i64 = 2016;
    /// `dataBreakpointInfo` failed.
    pub const UNABLE_TO_GET_DATA_BREAKPOINT_INFO: i64 = 2017;
    /// `writeMemory` failed.
    pub const UNABLE_TO_WRITE_MEMORY: i64 = 2018;
    /// The request needs a stopped target.
    pub const DEBUGGEE_IS_RUNNING: i64 = 4000;
    /// `disconnect` failed.
    pub const DISCONNECT_ERROR: i64 = 5000;
}

/// A request from the client.
#[derive(Debug, Clone)]
pub struct Request {
    /// Its sequence number.
    pub seq: i64,
    /// The command, e.g. `stackTrace`.
    pub command: String,
    /// Its arguments (`null` when absent).
    pub arguments: Value,
}

impl Request {
    /// Reads a request out of a decoded message; `Err` carries the seq and
    /// why it is not a request.
    pub fn from_message(message: &Value) -> Result<Request, (i64, String)> {
        let seq = message.get("seq").and_then(Value::as_i64).unwrap_or(0);
        if message.get("type").and_then(Value::as_str) != Some("request") {
            return Err((seq, format!("Unable to process non-request {message}")));
        }
        let Some(command) = message.get("command").and_then(Value::as_str) else {
            return Err((seq, "request without a command".to_owned()));
        };
        Ok(Request {
            seq,
            command: command.to_owned(),
            arguments: message.get("arguments").cloned().unwrap_or(Value::Null),
        })
    }

    /// A string argument ("" when absent).
    pub fn str(&self, key: &str) -> &str {
        self.arguments
            .get(key)
            .and_then(Value::as_str)
            .unwrap_or("")
    }

    /// An integer argument (0 when absent).
    pub fn i64(&self, key: &str) -> i64 {
        self.arguments.get(key).and_then(Value::as_i64).unwrap_or(0)
    }

    /// A boolean argument (false when absent).
    pub fn bool(&self, key: &str) -> bool {
        self.arguments
            .get(key)
            .and_then(Value::as_bool)
            .unwrap_or(false)
    }
}

/// Where a connection's outgoing messages go: a queue that one writer task
/// empties in order, numbering each message as it is written.
#[derive(Debug, Clone)]
pub struct Outbox {
    tx: mpsc::UnboundedSender<Value>,
}

impl Outbox {
    /// An outbox and the task writing its messages to `writer`; the task
    /// ends when every [`Outbox`] clone is gone or the client is.
    pub fn start<W: AsyncWrite + Unpin + Send + 'static>(
        mut writer: W,
    ) -> (Outbox, tokio::task::JoinHandle<()>) {
        let (tx, mut rx) = mpsc::unbounded_channel::<Value>();
        let task = tokio::spawn(async move {
            let mut seq = 0i64;
            while let Some(mut message) = rx.recv().await {
                seq += 1;
                message["seq"] = json!(seq);
                if writer.write_all(&framing::encode(&message)).await.is_err() {
                    break;
                }
                if rx.is_empty() && writer.flush().await.is_err() {
                    break;
                }
            }
            let _ = writer.shutdown().await;
        });
        (Outbox { tx }, task)
    }

    fn send(&self, message: Value) {
        let _ = self.tx.send(message);
    }

    /// A successful response to `request`, with `body` when not `None`.
    pub fn respond(&self, request: &Request, body: Option<Value>) {
        let mut message = json!({
            "type": "response",
            "request_seq": request.seq,
            "success": true,
            "command": request.command,
        });
        if let Some(body) = body {
            message["body"] = body;
        }
        self.send(message);
    }

    /// An error response in Delve's shape: `message` is the summary and the
    /// error's `format` is `summary: detail`.
    pub fn fail(&self, request: &Request, id: i64, summary: &str, detail: &str, show_user: bool) {
        self.fail_seq(
            request.seq,
            &request.command,
            id,
            summary,
            detail,
            show_user,
        );
    }

    /// [`Outbox::fail`] for a message known only by its seq and command.
    pub fn fail_seq(
        &self,
        seq: i64,
        command: &str,
        id: i64,
        summary: &str,
        detail: &str,
        show_user: bool,
    ) {
        self.send(json!({
            "type": "response",
            "request_seq": seq,
            "success": false,
            "command": command,
            "message": summary,
            "body": {"error": {"id": id, "format": format!("{summary}: {detail}"), "showUser": show_user}},
        }));
    }

    /// An event, with `body` when not `None`.
    pub fn event(&self, name: &str, body: Option<Value>) {
        let mut message = json!({"type": "event", "event": name});
        if let Some(body) = body {
            message["body"] = body;
        }
        self.send(message);
    }

    /// A line for the client's debug console.
    pub fn console(&self, text: &str) {
        self.event(
            "output",
            Some(json!({"category": "console", "output": format!("{text}\n")})),
        );
    }
}
