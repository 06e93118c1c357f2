//! A minimal DAP client over TCP (`Content-Length` framing, one request
//! at a time, events kept until asked for), and `dlv dap` as an oracle.

use std::collections::VecDeque;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{json, Value};

use crate::delve::Delve;

/// How long one message may take to arrive.
const READ_TIMEOUT: Duration = Duration::from_secs(60);

/// A DAP connection.
pub struct DapClient {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
    seq: i64,
    /// Events received while waiting for responses, oldest first.
    events: VecDeque<Value>,
}

impl DapClient {
    /// Connects to a DAP server at `addr` (`HOST:PORT`).
    pub fn connect(addr: &str) -> io::Result<DapClient> {
        let stream = TcpStream::connect(addr)?;
        stream.set_read_timeout(Some(READ_TIMEOUT))?;
        stream.set_nodelay(true)?;
        Ok(DapClient {
            reader: BufReader::new(stream.try_clone()?),
            writer: stream,
            seq: 0,
            events: VecDeque::new(),
        })
    }

    /// Sends request `command` with `arguments` (none when `Null`) and
    /// returns its response, successful or not. Panics when the
    /// connection fails.
    pub fn request(&mut self, command: &str, arguments: Value) -> Value {
        self.seq += 1;
        let mut message = json!({"seq": self.seq, "type": "request", "command": command});
        if !arguments.is_null() {
            message["arguments"] = arguments;
        }
        let body = message.to_string();
        // One write per message: with small writes, Nagle's algorithm and
        // delayed acknowledgements cost tens of milliseconds a request.
        let framed = format!("Content-Length: {}\r\n\r\n{body}", body.len());
        self.writer
            .write_all(framed.as_bytes())
            .unwrap_or_else(|e| panic!("send {command}: {e}"));
        loop {
            let received = self.receive();
            if received["type"] == "response" && received["request_seq"] == self.seq {
                return received;
            }
            if received["type"] == "event" {
                self.events.push_back(received);
            }
        }
    }

    /// Waits for event `name` (perhaps already received), dropping the
    /// events before it.
    pub fn wait_event(&mut self, name: &str) -> Value {
        while let Some(event) = self.events.pop_front() {
            if event["event"] == name {
                return event;
            }
        }
        loop {
            let received = self.receive();
            if received["type"] == "event" && received["event"] == name {
                return received;
            }
        }
    }

    /// Reads one message. Panics when the connection fails.
    fn receive(&mut self) -> Value {
        let mut length = None;
        loop {
            let mut line = String::new();
            let read = self
                .reader
                .read_line(&mut line)
                .unwrap_or_else(|e| panic!("read DAP header: {e}"));
            assert!(read > 0, "the DAP server closed the connection");
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some(n) = line.strip_prefix("Content-Length:") {
                length = n.trim().parse::<usize>().ok();
            }
        }
        let length = length.expect("a Content-Length header");
        let mut body = vec![0; length];
        self.reader
            .read_exact(&mut body)
            .unwrap_or_else(|e| panic!("read DAP body: {e}"));
        serde_json::from_slice(&body).expect("a JSON message")
    }
}

/// A running `dlv dap` and a connection to it; the session is ended and
/// dlv stopped when dropped.
pub struct DelveDap {
    child: Child,
    /// The connection.
    pub client: DapClient,
}

impl DelveDap {
    /// Starts `dlv dap` on a loopback port and connects to it.
    pub fn start() -> DelveDap {
        let dlv = Delve::path();
        assert!(
            dlv.exists(),
            "dlv is not installed at {}: run scripts/install-tools",
            dlv.display()
        );
        let mut child = Command::new(&dlv)
            .args(["dap", "--listen=127.0.0.1:0"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start dlv dap");
        let mut stdout = BufReader::new(child.stdout.take().expect("dlv stdout"));
        let mut banner = String::new();
        stdout.read_line(&mut banner).expect("read dlv banner");
        // A launched program shares this stdout: keep draining it.
        std::thread::spawn(move || io::copy(&mut stdout, &mut io::sink()));
        let addr = banner
            .trim()
            .strip_prefix("DAP server listening at: ")
            .unwrap_or_else(|| panic!("unexpected dlv dap banner: {banner:?}"))
            .to_owned();
        let client = DapClient::connect(&addr).expect("connect to dlv dap");
        DelveDap { child, client }
    }
}

impl Drop for DelveDap {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
