//! Splitting a client's byte stream into JSON-RPC requests, and decoding
//! one request's envelope.
//!
//! Go's `net/rpc/jsonrpc` reads back-to-back JSON objects with no
//! delimiter. [`JsonFramer`] does the same without any I/O (bytes are
//! pushed in as they arrive), so the fuzzer and the server run the same
//! code; [`read_request`] drives it from an async reader.

use serde_json::{Map, Value};
use tokio::io::{AsyncRead, AsyncReadExt};

use super::params::Params;

/// Why a stream of requests ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadEnd {
    /// The client closed the connection (or it broke).
    Closed,
    /// The bytes are not a JSON object (Delve closes the connection without
    /// a word).
    Invalid,
    /// A request grew past the size limit.
    TooLarge,
}

/// Cuts back-to-back JSON objects out of the bytes pushed in.
#[derive(Debug)]
pub struct JsonFramer {
    buffer: Vec<u8>,
    limit: usize,
    /// Whether the bytes pushed since the last attempt could complete an
    /// object: only a `}` can, so a large request arriving in pieces is
    /// not re-parsed from its start for every piece.
    worth_parsing: bool,
}

impl JsonFramer {
    /// A framer refusing any request longer than `limit` bytes.
    pub fn new(limit: usize) -> JsonFramer {
        JsonFramer {
            buffer: Vec::new(),
            limit,
            worth_parsing: false,
        }
    }

    /// Appends bytes read from the client.
    pub fn push(&mut self, bytes: &[u8]) {
        self.worth_parsing |= bytes.contains(&b'}');
        self.buffer.extend_from_slice(bytes);
    }

    /// The next complete object; `Ok(None)` when more bytes are needed.
    /// After an error the stream is unusable.
    pub fn next_value(&mut self) -> Result<Option<Value>, ReadEnd> {
        let start = self
            .buffer
            .iter()
            .position(|b| !b.is_ascii_whitespace())
            .unwrap_or(self.buffer.len());
        self.buffer.drain(..start);
        match self.buffer.first() {
            None => return Ok(None),
            Some(b'{') => {}
            Some(_) => return Err(ReadEnd::Invalid),
        }
        if self.worth_parsing {
            self.worth_parsing = false;
            let mut values =
                serde_json::Deserializer::from_slice(&self.buffer).into_iter::<Value>();
            match values.next() {
                Some(Ok(value)) => {
                    let used = values.byte_offset();
                    self.buffer.drain(..used);
                    // What is left may hold further complete objects.
                    self.worth_parsing = self.buffer.contains(&b'}');
                    return Ok(Some(value));
                }
                Some(Err(e)) if e.is_eof() => {}
                _ => return Err(ReadEnd::Invalid),
            }
        }
        if self.buffer.len() > self.limit {
            return Err(ReadEnd::TooLarge);
        }
        Ok(None)
    }
}

/// Reads from `reader` until `framer` yields the next object.
pub async fn read_request<R: AsyncRead + Unpin>(
    reader: &mut R,
    framer: &mut JsonFramer,
) -> Result<Value, ReadEnd> {
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        if let Some(value) = framer.next_value()? {
            return Ok(value);
        }
        match reader.read(&mut chunk).await {
            Ok(0) | Err(_) => return Err(ReadEnd::Closed),
            Ok(n) => framer.push(&chunk[..n]),
        }
    }
}

/// One request's envelope: `{"method": .., "params": [..], "id": ..}`.
#[derive(Debug, Clone)]
pub struct Request {
    /// Echoed back in the reply.
    pub id: Value,
    /// For example `RPCServer.State`.
    pub method: String,
    /// `params[0]`, or the error Go's codec reports for a malformed body.
    pub params: Result<Params, String>,
}

impl Request {
    /// Decodes an object read by [`JsonFramer`].
    pub fn decode(value: &Value) -> Request {
        let id = value.get("id").cloned().unwrap_or(Value::Null);
        let method = value
            .get("method")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        let params = parse_params(value, &method);
        Request { id, method, params }
    }
}

/// `params[0]` as the method's parameter object.
fn parse_params(request: &Value, method: &str) -> Result<Params, String> {
    let context = params_context(method);
    match request.get("params") {
        None | Some(Value::Null) => Err("malformed request body: jsonrpc: request body missing params".into()),
        Some(Value::Array(items)) => match items.first() {
            Some(Value::Object(o)) => Ok(Params::new(o.clone(), context)),
            _ => Ok(Params::new(Map::new(), context)),
        },
        Some(other) => Err(format!(
            "malformed request body: json: cannot unmarshal {} into Go value of type [1]interface {{}}",
            match other {
                Value::Object(_) => "object",
                Value::String(_) => "string",
                Value::Number(_) => "number",
                _ => "bool",
            }
        )),
    }
}

/// The Go struct name of a method's parameters, for type errors.
fn params_context(method: &str) -> &'static str {
    match method.strip_prefix("RPCServer.").unwrap_or("") {
        "State" => "StateIn",
        "Command" => "DebuggerCommand",
        "CreateBreakpoint" => "CreateBreakpointIn",
        "ClearBreakpoint" => "ClearBreakpointIn",
        "FindLocation" => "FindLocationIn",
        "Stacktrace" => "StacktraceIn",
        "Detach" => "DetachIn",
        _ => "in",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame_all(framer: &mut JsonFramer) -> (Vec<Value>, Option<ReadEnd>) {
        let mut values = Vec::new();
        loop {
            match framer.next_value() {
                Ok(Some(v)) => values.push(v),
                Ok(None) => return (values, None),
                Err(e) => return (values, Some(e)),
            }
        }
    }

    #[test]
    fn objects_split_anywhere_come_out_whole() {
        let input =
            br#" {"method":"RPCServer.State","params":[{}],"id":1}{"id":2,"params":[{"a":"}"}]}
"#;
        for cut in 0..input.len() {
            let mut framer = JsonFramer::new(1 << 20);
            framer.push(&input[..cut]);
            let (mut values, end) = frame_all(&mut framer);
            assert_eq!(end, None);
            framer.push(&input[cut..]);
            values.extend(frame_all(&mut framer).0);
            assert_eq!(values.len(), 2, "cut at {cut}");
            assert_eq!(values[1]["id"], 2);
        }
    }

    #[test]
    fn non_objects_and_oversized_requests_end_the_stream() {
        let mut framer = JsonFramer::new(1 << 20);
        framer.push(b"12 ");
        assert_eq!(framer.next_value(), Err(ReadEnd::Invalid));
        let mut framer = JsonFramer::new(8);
        framer.push(br#"{"method": "x""#);
        assert_eq!(framer.next_value(), Err(ReadEnd::TooLarge));
    }
}
