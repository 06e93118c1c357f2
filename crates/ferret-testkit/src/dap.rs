//! A minimal blocking DAP client for tests: frames requests, reads
//! responses and events, and keeps every message it read.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use serde_json::{json, Value};

/// Reads one framed DAP message from `stream`.
pub fn read_message(stream: &mut impl Read) -> std::io::Result<Value> {
    let mut reader = BufReader::new(ByteAtATime(stream));
    read_framed(&mut reader)
}

/// Reads byte by byte so nothing past the message is consumed.
struct ByteAtATime<'a, R: Read>(&'a mut R);

impl<R: Read> Read for ByteAtATime<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = buf.len().min(1);
        self.0.read(&mut buf[..n])
    }
}

fn read_framed(reader: &mut impl BufRead) -> std::io::Result<Value> {
    let mut length = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            if name.eq_ignore_ascii_case("Content-Length") {
                length = value.trim().parse::<usize>().ok();
            }
        }
    }
    let length = length.ok_or_else(|| std::io::Error::other("no Content-Length"))?;
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    serde_json::from_slice(&body).map_err(std::io::Error::other)
}

/// A DAP client over TCP.
pub struct DapClient {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
    seq: i64,
    /// Every message read, in order.
    pub received: Vec<Value>,
}

impl DapClient {
    /// Connects to `addr` (HOST:PORT); reads time out after 60 s.
    pub fn connect(addr: &str) -> DapClient {
        let stream = TcpStream::connect(addr).unwrap_or_else(|e| panic!("connect {addr}: {e}"));
        stream
            .set_read_timeout(Some(Duration::from_secs(60)))
            .unwrap();
        DapClient {
            reader: BufReader::new(stream.try_clone().unwrap()),
            writer: stream,
            seq: 0,
            received: Vec::new(),
        }
    }

    /// Sends a request; returns its seq.
    pub fn send(&mut self, command: &str, arguments: Value) -> i64 {
        self.seq += 1;
        let body =
            json!({"seq": self.seq, "type": "request", "command": command, "arguments": arguments})
                .to_string();
        self.writer
            .write_all(format!("Content-Length: {}\r\n\r\n{body}", body.len()).as_bytes())
            .unwrap();
        self.seq
    }

    /// The next message.
    pub fn read(&mut self) -> Value {
        let message = read_framed(&mut self.reader).expect("reading a DAP message");
        self.received.push(message.clone());
        message
    }

    /// Sends a request and reads until its response, which it returns.
    pub fn request(&mut self, command: &str, arguments: Value) -> Value {
        let seq = self.send(command, arguments);
        loop {
            let message = self.read();
            if message["type"] == "response" && message["request_seq"] == seq {
                return message;
            }
        }
    }

    /// Reads until event `name` and returns it.
    pub fn event(&mut self, name: &str) -> Value {
        loop {
            let message = self.read();
            if message["type"] == "event" && message["event"] == name {
                return message;
            }
        }
    }

    /// `initialize` with the arguments VS Code sends.
    pub fn initialize(&mut self) -> Value {
        self.request(
            "initialize",
            json!({"clientID": "vscode", "adapterID": "go", "pathFormat": "path",
                   "linesStartAt1": true, "columnsStartAt1": true,
                   "supportsVariableType": true, "supportsVariablePaging": true}),
        )
    }
}
