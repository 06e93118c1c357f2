//! A minimal Delve JSON-RPC client (Go `net/rpc/jsonrpc` framing), used
//! against the real dlv and against ferret alike.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::time::Duration;

use serde_json::{json, Value};

/// One connection to a JSON-RPC server.
pub struct RpcClient {
    stream: TcpStream,
    /// Replies, one JSON object a line (as Go's encoder and ferret write
    /// them).
    responses: BufReader<TcpStream>,
    next_id: u64,
}

impl RpcClient {
    /// Connects to `addr` (`HOST:PORT`).
    pub fn connect(addr: &str) -> std::io::Result<RpcClient> {
        let stream = TcpStream::connect(addr)?;
        stream.set_read_timeout(Some(Duration::from_secs(60)))?;
        let responses = BufReader::with_capacity(1 << 20, stream.try_clone()?);
        Ok(RpcClient {
            stream,
            responses,
            next_id: 0,
        })
    }

    /// Calls `RPCServer.<method>` with one parameter object; returns the
    /// result, or the error text the server answered with.
    pub fn call(&mut self, method: &str, params: Value) -> Result<Value, String> {
        self.next_id += 1;
        let request = json!({"method": format!("RPCServer.{method}"), "params": [params], "id": self.next_id});
        let mut response = self
            .request(&request)
            .ok_or("the server closed the connection")?;
        match response.get_mut("error") {
            Some(Value::String(message)) => Err(std::mem::take(message)),
            _ => Ok(response["result"].take()),
        }
    }

    /// Like [`RpcClient::call`], the result read straight into a `T` (no
    /// JSON value tree: for replies of hundreds of megabytes).
    pub fn call_typed<T: serde::de::DeserializeOwned>(
        &mut self,
        method: &str,
        params: Value,
    ) -> Result<T, String> {
        #[derive(serde::Deserialize)]
        struct Envelope<T> {
            result: Option<T>,
            error: Option<String>,
        }
        self.next_id += 1;
        let request = json!({"method": format!("RPCServer.{method}"), "params": [params], "id": self.next_id});
        self.send(&request).map_err(|e| e.to_string())?;
        let line = self
            .receive_line()
            .ok_or("the server closed the connection")?;
        let reply: Envelope<T> = serde_json::from_slice(&line).map_err(|e| e.to_string())?;
        match (reply.result, reply.error) {
            (_, Some(message)) => Err(message),
            (Some(result), None) => Ok(result),
            (None, None) => Err("a reply with neither result nor error".into()),
        }
    }

    /// Sends a whole request object and returns the whole response
    /// envelope; `None` if the connection closed.
    pub fn request(&mut self, request: &Value) -> Option<Value> {
        self.send_raw(format!("{request}\n").as_bytes()).ok()?;
        self.receive()
    }

    /// Sends a request without waiting for its answer.
    pub fn send(&mut self, request: &Value) -> std::io::Result<()> {
        self.send_raw(format!("{request}\n").as_bytes())
    }

    /// The next response envelope; `None` if the connection closed.
    pub fn receive(&mut self) -> Option<Value> {
        serde_json::from_slice(&self.receive_line()?).ok()
    }

    /// The next reply line; `None` if the connection closed.
    fn receive_line(&mut self) -> Option<Vec<u8>> {
        let mut line = Vec::new();
        match self.responses.read_until(b'\n', &mut line) {
            Ok(n) if n > 0 => Some(line),
            _ => None,
        }
    }

    /// Writes raw bytes.
    pub fn send_raw(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.stream.write_all(bytes)
    }
}
