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
        let counts = print_summary(&summary, &options.group, previous.as_ref());
        let Some(interval) = options.watch else {
            return Ok(());
        };
        previous = Some(counts);
        std::thread::sleep(interval);
        println!();
    }
}

/// Prints one summary; returns each group's count for the next round.
/// With `previous`, a column shows each group's growth since then.
fn print_summary(
    summary: &Value,
    group: &[String],
    previous: Option<&HashMap<Vec<String>, u64>>,
) -> HashMap<Vec<String>, u64> {
    let total = summary["Total"].as_u64().unwrap_or(0);
    let matched = summary["Matched"].as_u64().unwrap_or(0);
    let mut header = format!("{matched} of {total} goroutines");
    if let Some(process) = summary["Process"].as_object() {
        let fds: Vec<String> = process
            .get("FDs")
            .and_then(Value::as_object)
            .map(|fds| fds.iter().map(|(kind, n)| format!("{kind} {n}")).collect())
            .unwrap_or_default();
        header.push_str(&format!(
            "; {} threads; fds: {}",
            process["Threads"],
            fds.join(", ")
        ));
    }
    println!("{header}");
    let mut columns = vec!["COUNT".to_owned()];
    if previous.is_some() {
        columns.push("GROWTH".into());
    }
    columns.push("OLDEST WAIT".into());
    columns.extend(group.iter().map(|g| g.to_uppercase()));
    columns.push("SAMPLE IDS".into());
    let mut rows = vec![columns];
    let mut counts = HashMap::new();
    for g in summary["Groups"].as_array().into_iter().flatten() {
        let key: Vec<String> = g["Key"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|k| k.as_str().unwrap_or("").to_owned())
            .collect();
        let count = g["Count"].as_u64().unwrap_or(0);
        let mut row = vec![count.to_string()];
        if let Some(previous) = previous {
            let before = previous.get(&key).copied().unwrap_or(0);
            row.push(format!("{:+}", count as i64 - before as i64));
        }
        row.push(
            g["OldestWaitSeconds"]
                .as_f64()
                .map_or("-".into(), format_wait),
        );
        row.extend(key.iter().cloned());
        let ids: Vec<String> = g["SampleIDs"]
            .as_array()
            .into_iter()
            .flatten()
            .map(Value::to_string)
            .collect();
        row.push(ids.join(" "));
        rows.push(row);
        counts.insert(key, count);
    }
    print_table(&rows);
    counts
}

/// `95s` as `1m35s`, `3700s` as `1h1m`.
fn format_wait(seconds: f64) -> String {
    let s = seconds as u64;
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m{}s", s / 60, s % 60),
        _ => format!("{}h{}m", s / 3600, s % 3600 / 60),
    }
}

/// Left-aligned columns, two spaces apart.
fn print_table(rows: &[Vec<String>]) {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(|s| s.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = std::io::stdout().lock();
    for row in rows {
        let line: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        let _ = writeln!(out, "{}", line.join("  ").trim_end());
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

/// Parses `90s`, `5m`, `1h`, `250ms` or a number of seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let bad = || format!("invalid duration {text:?}: use e.g. 30s, 5m, 1h or 250ms");
    let (number, unit) = text
        .find(|c: char| c.is_ascii_alphabetic())
        .map_or((text, "s"), |i| text.split_at(i));
    let value: f64 = number.trim().parse().map_err(|_| bad())?;
    let seconds = match unit {
        "ms" => value / 1000.0,
        "s" => value,
        "m" => value * 60.0,
        "h" => value * 3600.0,
        _ => return Err(bad()),
    };
    Duration::try_from_secs_f64(seconds).map_err(|_| bad())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_waits() {
        assert_eq!(parse_duration("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("2"), Ok(Duration::from_secs(2)));
        assert!(parse_duration("-1s").is_err());
        assert!(parse_duration("5 weeks").is_err());
        assert_eq!(format_wait(95.0), "1m35s");
        assert_eq!(format_wait(3700.0), "1h1m");
    }
}
