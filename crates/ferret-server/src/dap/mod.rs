//! DAP on the shared port. Until ferret speaks DAP, a DAP client gets one
//! clear error response to its first request, then the connection closes.

pub mod framing;
pub mod values;

use serde_json::{json, Value};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use framing::DapFramer;

/// What a DAP client is told.
pub const NOT_YET: &str =
    "this ferret build does not speak DAP yet; connect a Delve JSON-RPC client \
                           (e.g. `dlv connect HOST:PORT`) to this port instead";

/// The largest first request read before answering a refused client.
const REFUSAL_READ_LIMIT: usize = 1 << 20;

/// Answers the first DAP request with the not-yet-supported error.
pub async fn refuse<S: AsyncRead + AsyncWrite + Unpin>(stream: S) {
    refuse_with(stream, NOT_YET).await
}

/// Answers the first DAP request with an error response carrying
/// `message`, and closes.
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
