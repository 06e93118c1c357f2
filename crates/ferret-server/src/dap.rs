//! DAP on the shared port. Until ferret speaks DAP, a DAP client gets one
//! clear error response to its first request, then the connection closes.

use serde_json::{json, Value};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// What a DAP client is told.
pub const NOT_YET: &str = "this ferret build does not speak DAP yet; connect a Delve JSON-RPC client \
                           (e.g. `dlv connect HOST:PORT`) to this port instead";

/// Answers the first DAP request with the not-yet-supported error.
pub async fn refuse<S: AsyncRead + AsyncWrite + Unpin>(stream: S) {
    refuse_with(stream, NOT_YET).await
}

/// Answers the first DAP request with an error response carrying
/// `message`, and closes.
pub async fn refuse_with<S: AsyncRead + AsyncWrite + Unpin>(mut stream: S, message: &str) {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 4096];
    // Read the header and the body it announces (at most 1 MiB).
    let request: Value = loop {
        if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            let header = String::from_utf8_lossy(&buffer[..end]).to_string();
            let length = header
                .lines()
                .find_map(|l| l.strip_prefix("Content-Length:"))
                .and_then(|v| v.trim().parse::<usize>().ok())
                .unwrap_or(0);
            if buffer.len() >= end + 4 + length {
                break serde_json::from_slice(&buffer[end + 4..end + 4 + length]).unwrap_or(Value::Null);
            }
        }
        if buffer.len() > 1 << 20 {
            return;
        }
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buffer.extend_from_slice(&chunk[..n]),
        }
    };
    let body = json!({
        "seq": 1,
        "type": "response",
        "request_seq": request.get("seq").cloned().unwrap_or(json!(0)),
        "success": false,
        "command": request.get("command").cloned().unwrap_or(json!("")),
        "message": message,
        "body": {"error": {"id": 3000, "format": message, "showUser": true}},
    });
    let text = body.to_string();
    let message = format!("Content-Length: {}\r\n\r\n{}", text.len(), text);
    let _ = stream.write_all(message.as_bytes()).await;
    let _ = stream.shutdown().await;
}
