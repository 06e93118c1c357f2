//! `ferret goroutines --connect ADDR`: a client that prints a server's
//! `Ferret.GoroutineSummary` as a table and, with `--watch`, how the groups
//! grow between samples: the "snapshot, wait, diff" way of finding a
//! goroutine leak, in one command.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::time::Duration;

use serde_json::{json, Value};

/// What to ask and how to show it.
pub struct Options {
    /// The server, HOST:PORT.
    pub connect: String,
    /// One or two grouping keys (`waitreason`, `userloc`, `label:KEY`, ...).
    pub group: Vec<String>,
    /// Only goroutines waiting at least this long.
    pub min_wait: Option<Duration>,
    /// Sample again at this interval, printing growth, until interrupted.
    pub watch: Option<Duration>,
}

/// Runs the client.
pub fn run(options: &Options) -> Result<(), String> {
    let mut client = Client::connect(&options.connect)?;
    let mut params = json!({"GroupBy": options.group, "Samples": 3});
    if let Some(min_wait) = options.min_wait {
        params["MinWaitSeconds"] = json!(min_wait.as_secs_f64());
    }
    let mut previous: Option<HashMap<Vec<String>, u64>> = None;
    loop {
        let summary = client.call("Ferret.GoroutineSummary", &params)?;
        let (text, counts) =
            ferret_server::leak::summary_text(&summary, &options.group, previous.as_ref());
        print!("{text}");
        let Some(interval) = options.watch else {
            return Ok(());
        };
        previous = Some(counts);
        std::thread::sleep(interval);
        println!();
    }
}

/// A blocking JSON-RPC client (Go's `net/rpc/jsonrpc` framing).
struct Client {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
    next_id: u64,
}

impl Client {
    fn connect(addr: &str) -> Result<Client, String> {
        let stream =
            TcpStream::connect(addr).map_err(|e| format!("cannot connect to {addr}: {e}"))?;
        let writer = stream.try_clone().map_err(|e| e.to_string())?;
        Ok(Client {
            reader: BufReader::new(stream),
            writer,
            next_id: 1,
        })
    }

    fn call(&mut self, method: &str, params: &Value) -> Result<Value, String> {
        let request = json!({"method": method, "params": [params], "id": self.next_id});
        self.next_id += 1;
        let mut line = serde_json::to_vec(&request).map_err(|e| e.to_string())?;
        line.push(b'\n');
        self.writer
            .write_all(&line)
            .map_err(|e| format!("sending {method}: {e}"))?;
        let mut reply = String::new();
        if self
            .reader
            .read_line(&mut reply)
            .map_err(|e| format!("reading the reply to {method}: {e}"))?
            == 0
        {
            return Err(format!("the server closed the connection during {method}"));
        }
        let reply: Value =
            serde_json::from_str(&reply).map_err(|e| format!("bad reply to {method}: {e}"))?;
        match reply["error"].as_str() {
            Some(error) if error.starts_with("unknown method") => Err(format!(
                "{error}: the server is not ferret (dlv has no goroutine summaries)"
            )),
            Some(error) => Err(error.to_owned()),
            None => Ok(reply["result"].clone()),
        }
    }
}
