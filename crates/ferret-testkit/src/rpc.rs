//! A minimal Delve JSON-RPC client (Go `net/rpc/jsonrpc` framing), used
//! against the real dlv and against ferret alike.

use std::io::{BufReader, Write};
use std::net::TcpStream;
use std::time::Duration;

use serde_json::{json, Value};

/// One connection to a JSON-RPC server.
pub struct RpcClient {
    stream: TcpStream,
    responses: serde_json::StreamDeserializer<
        'static,
        serde_json::de::IoRead<BufReader<TcpStream>>,
        Value,
    >,
    next_id: u64,
}

impl RpcClient {
    /// Connects to `addr` (`HOST:PORT`).
    pub fn connect(addr: &str) -> std::io::Result<RpcClient> {
        let stream = TcpStream::connect(addr)?;
        stream.set_read_timeout(Some(Duration::from_secs(60)))?;
        let reader = BufReader::new(stream.try_clone()?);
        let responses = serde_json::Deserializer::from_reader(reader).into_iter::<Value>();
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
        let response = self
            .request(&request)
            .ok_or("the server closed the connection")?;
        match response.get("error") {
            Some(Value::String(message)) => Err(message.clone()),
            _ => Ok(response["result"].clone()),
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
        self.responses.next()?.ok()
    }

    /// Writes raw bytes.
    pub fn send_raw(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.stream.write_all(bytes)
    }
}
