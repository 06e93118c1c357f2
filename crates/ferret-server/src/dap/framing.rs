//! DAP's base protocol: each message is a header block of
//! `Name: value\r\n` lines ending with an empty line, of which
//! `Content-Length` is required, then that many bytes of JSON.
//!
//! [`DapFramer`] does no I/O (bytes are pushed in as they arrive), so the
//! fuzzer and the server run the same code.

use serde_json::Value;

/// Longest header block accepted; real clients send about 25 bytes.
const MAX_HEADER_BYTES: usize = 4096;

/// Why a DAP stream cannot be read further.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DapFrameError {
    /// No blank line within the first [`MAX_HEADER_BYTES`] bytes.
    HeaderTooLong,
    /// The header is not text of `Name: value` lines.
    MalformedHeader(String),
    /// The header has no `Content-Length`.
    MissingContentLength,
    /// `Content-Length` is over the limit.
    TooLarge {
        /// What the header announced.
        length: usize,
        /// The limit.
        limit: usize,
    },
    /// The body is not a JSON object.
    BadBody(String),
}

impl std::fmt::Display for DapFrameError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DapFrameError::HeaderTooLong => {
                write!(f, "DAP header longer than {MAX_HEADER_BYTES} bytes")
            }
            DapFrameError::MalformedHeader(line) => write!(f, "malformed DAP header line {line:?}"),
            DapFrameError::MissingContentLength => write!(f, "DAP header without Content-Length"),
            DapFrameError::TooLarge { length, limit } => {
                write!(f, "DAP message of {length} bytes is larger than the server's limit of {limit} bytes")
            }
            DapFrameError::BadBody(e) => write!(f, "DAP message body is not a JSON object: {e}"),
        }
    }
}

impl std::error::Error for DapFrameError {}

/// Cuts DAP messages out of the bytes pushed in.
#[derive(Debug)]
pub struct DapFramer {
    buffer: Vec<u8>,
    limit: usize,
}

impl DapFramer {
    /// A framer refusing bodies longer than `limit` bytes.
    pub fn new(limit: usize) -> DapFramer {
        DapFramer {
            buffer: Vec::new(),
            limit,
        }
    }

    /// Appends bytes read from the client.
    pub fn push(&mut self, bytes: &[u8]) {
        self.buffer.extend_from_slice(bytes);
    }

    /// The next complete message's JSON object; `Ok(None)` when more bytes
    /// are needed. After [`DapFrameError::BadBody`] the next message can
    /// still be read; after any other error the stream is unusable.
    pub fn next_message(&mut self) -> Result<Option<Value>, DapFrameError> {
        let Some(header_end) = self.buffer.windows(4).position(|w| w == b"\r\n\r\n") else {
            // A terminator starting within the limit would have been found
            // by now; the answer must not depend on how bytes were split.
            return if self.buffer.len() >= MAX_HEADER_BYTES + 4 {
                Err(DapFrameError::HeaderTooLong)
            } else {
                Ok(None)
            };
        };
        if header_end > MAX_HEADER_BYTES {
            return Err(DapFrameError::HeaderTooLong);
        }
        let length = content_length(&self.buffer[..header_end])?;
        if length > self.limit {
            return Err(DapFrameError::TooLarge {
                length,
                limit: self.limit,
            });
        }
        let body_start = header_end + 4;
        if self.buffer.len() - body_start < length {
            return Ok(None);
        }
        let body = &self.buffer[body_start..body_start + length];
        let value = match serde_json::from_slice::<Value>(body) {
            Ok(value @ Value::Object(_)) => Ok(Some(value)),
            Ok(_) => Err(DapFrameError::BadBody("not an object".into())),
            Err(e) => Err(DapFrameError::BadBody(e.to_string())),
        };
        // A bad body was framed correctly: it is dropped and the stream
        // goes on with the next message.
        self.buffer.drain(..body_start + length);
        value
    }
}

/// The `Content-Length` of a header block (names match case-insensitively;
/// other fields are ignored, as the spec allows).
fn content_length(header: &[u8]) -> Result<usize, DapFrameError> {
    let text = std::str::from_utf8(header)
        .map_err(|_| DapFrameError::MalformedHeader(String::from_utf8_lossy(header).into()))?;
    let mut length = None;
    for line in text.split("\r\n") {
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| DapFrameError::MalformedHeader(line.to_owned()))?;
        if name.trim().eq_ignore_ascii_case("Content-Length") {
            let value = value.trim();
            length = Some(
                value
                    .parse::<usize>()
                    .map_err(|_| DapFrameError::MalformedHeader(line.to_owned()))?,
            );
        }
    }
    length.ok_or(DapFrameError::MissingContentLength)
}

/// One message as DAP frames it.
pub fn encode(message: &Value) -> Vec<u8> {
    let body = message.to_string();
    let mut out = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
    out.extend_from_slice(body.as_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn messages_split_anywhere_come_out_whole() {
        let first = json!({"seq": 1, "type": "request", "command": "initialize", "arguments": {"adapterID": "go"}});
        let second = json!({"seq": 2, "type": "request", "command": "attach"});
        let mut input = encode(&first);
        input.extend(encode(&second));
        for cut in 0..input.len() {
            let mut framer = DapFramer::new(1 << 20);
            let mut got = Vec::new();
            for part in [&input[..cut], &input[cut..]] {
                framer.push(part);
                while let Some(message) = framer.next_message().unwrap() {
                    got.push(message);
                }
            }
            assert_eq!(got, vec![first.clone(), second.clone()], "cut at {cut}");
        }
    }

    #[test]
    fn bad_headers_and_bodies_are_errors() {
        let cases: [(&[u8], DapFrameError); 4] = [
            (
                b"Content-Type: x\r\n\r\n{}",
                DapFrameError::MissingContentLength,
            ),
            (
                b"Content-Length: -1\r\n\r\n",
                DapFrameError::MalformedHeader("Content-Length: -1".into()),
            ),
            (
                b"Content-Length: 99\r\n\r\n",
                DapFrameError::TooLarge {
                    length: 99,
                    limit: 10,
                },
            ),
            (
                b"Content-Length: 2\r\n\r\n[]",
                DapFrameError::BadBody("not an object".into()),
            ),
        ];
        for (input, expected) in cases {
            let mut framer = DapFramer::new(10);
            framer.push(input);
            assert_eq!(framer.next_message(), Err(expected));
        }
        let mut framer = DapFramer::new(10);
        framer.push(&[b'x'; MAX_HEADER_BYTES + 4]);
        assert_eq!(framer.next_message(), Err(DapFrameError::HeaderTooLong));
    }
}
