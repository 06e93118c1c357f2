//! Entry points for the fuzzers under `fuzz/` and for the tests that
//! replay their corpora, so both run exactly the same code.
//!
//! Each takes arbitrary bytes and panics only on a real bug: a crash in a
//! decoder, or an answer that depends on how the bytes were split into
//! reads.

use serde_json::Value;

use crate::dap::framing::{DapFrameError, DapFramer};
use crate::rpc2::framing::{JsonFramer, ReadEnd, Request};

/// How many bytes each read delivers, from the input's first byte: the
/// same stream must decode the same whole and in pieces.
fn split(data: &[u8]) -> Option<(usize, &[u8])> {
    let (&seed, input) = data.split_first()?;
    Some((usize::from(seed % 64) + 1, input))
}

/// The JSON-RPC request framer and envelope decoder.
pub fn json_rpc_decoder(data: &[u8]) {
    let Some((chunk, input)) = split(data) else {
        return;
    };
    let frame = |pieces: &mut dyn Iterator<Item = &[u8]>, limit: usize| {
        let mut framer = JsonFramer::new(limit);
        let mut values = Vec::new();
        for piece in pieces {
            framer.push(piece);
            loop {
                match framer.next_value() {
                    Ok(Some(value)) => values.push(value),
                    Ok(None) => break,
                    Err(end) => return (values, Some(end)),
                }
            }
        }
        (values, None::<ReadEnd>)
    };
    let whole = frame(&mut std::iter::once(input), input.len());
    let pieces = frame(&mut input.chunks(chunk), input.len());
    assert_eq!(
        whole.0, pieces.0,
        "framing depends on how the bytes were split"
    );
    // The framer parses only when a `}` arrives (so big requests are not
    // re-parsed per read), so a syntax error in a tail that arrived in
    // pieces may show only once more bytes come: `Invalid` whole may be
    // "need more" in pieces, and nothing else may differ.
    match (whole.1, pieces.1) {
        (a, b) if a == b => {}
        (Some(ReadEnd::Invalid), None) => {}
        (a, b) => panic!("stream ends as {a:?} whole but {b:?} in pieces"),
    }
    // A small limit must end the stream cleanly, never panic.
    frame(&mut input.chunks(chunk), chunk * 4);
    for value in &whole.0 {
        decode_request(value);
    }
}

/// Decodes one request and reads every parameter it carries as each type
/// a method could ask for.
fn decode_request(value: &Value) {
    let request = Request::decode(value);
    let Ok(params) = request.params else { return };
    let Some(Value::Object(object)) = value.get("params").and_then(|p| p.get(0)) else {
        return;
    };
    for key in object.keys() {
        let _ = params.bool(key);
        let _ = params.i64(key);
        let _ = params.u64(key);
        let _ = params.string(key);
        let _ = params.strings(key);
        let _ = params.u64s(key);
        if let Ok(Some(nested)) = params.object(key, "nested") {
            let _ = nested.string("File");
        }
    }
}

/// The DAP base-protocol framer.
pub fn dap_framer(data: &[u8]) {
    let Some((chunk, input)) = split(data) else {
        return;
    };
    let frame = |pieces: &mut dyn Iterator<Item = &[u8]>| {
        let mut framer = DapFramer::new(1 << 16);
        let mut messages = Vec::new();
        for piece in pieces {
            framer.push(piece);
            loop {
                match framer.next_message() {
                    Ok(Some(message)) => messages.push(message),
                    Ok(None) => break,
                    Err(e) => return (messages, Some(e)),
                }
            }
        }
        (messages, None::<DapFrameError>)
    };
    let whole = frame(&mut std::iter::once(input));
    let pieces = frame(&mut input.chunks(chunk));
    assert_eq!(whole, pieces, "framing depends on how the bytes were split");
    for message in &whole.0 {
        let _ = message.get("seq").and_then(Value::as_i64);
        let _ = message.get("command").and_then(Value::as_str);
    }
}
