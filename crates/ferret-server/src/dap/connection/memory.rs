//! `readMemory`, `writeMemory` and `disassemble`.

use super::*;

impl Connection {
    pub(super) fn read_memory(&mut self, request: &Request) {
        let fail = |out: &Outbox, detail: &str| {
            out.fail(
                request,
                error_id::UNABLE_TO_READ_MEMORY,
                "Unable to read memory",
                detail,
                false,
            )
        };
        let count = request.i64("count");
        if count < 0 {
            return fail(&self.out, "negative count");
        }
        let reference = request.str("memoryReference");
        let Some((address, size)) = parse_address(reference)
            .and_then(|a| self.memory_references.get(&a).map(|&size| (a, size)))
        else {
            return fail(&self.out, "unknown memoryReference");
        };
        // Only the bytes of the value the reference was handed out for.
        let offset = request.i64("offset");
        let from = offset.clamp(0, size);
        let to = (offset + count).clamp(0, size);
        let start = address + from as u64;
        let wanted = (to - from).max(0) as usize;
        let mut unreadable = count - wanted as i64;
        let data = if wanted == 0 {
            Vec::new()
        } else {
            match self.call(move |d| d.examine_memory(start, wanted)) {
                Ok(data) => data,
                Err(e) => return fail(&self.out, &e),
            }
        };
        unreadable += (wanted - data.len()) as i64;
        let mut body = json!({"address": format!("{start:#x}")});
        if !data.is_empty() {
            body["data"] = json!(crate::rpc2::base64_encode(&data));
        }
        if unreadable > 0 {
            body["unreadableBytes"] = json!(unreadable);
        }
        self.out.respond(request, Some(body));
    }

    pub(super) fn write_memory(&mut self, request: &Request) {
        let fail = |out: &Outbox, detail: &str| {
            out.fail(
                request,
                error_id::UNABLE_TO_WRITE_MEMORY,
                "Unable to write memory",
                detail,
                false,
            )
        };
        let data = request.str("data");
        if data.is_empty() {
            return fail(&self.out, "empty data");
        }
        let Some(address) = parse_address(request.str("memoryReference"))
            .filter(|a| self.memory_references.contains_key(a))
        else {
            return fail(&self.out, "unknown memoryReference");
        };
        let bytes = match crate::rpc2::base64_decode(data) {
            Ok(bytes) => bytes,
            Err(e) => return fail(&self.out, &e),
        };
        let at = address.wrapping_add_signed(request.i64("offset"));
        let written = bytes.len();
        if let Err(e) = self.call(move |d| d.write_memory(at, bytes)) {
            return fail(&self.out, &e);
        }
        self.out
            .respond(request, Some(json!({"bytesWritten": written})));
        if self.client_takes_invalidated {
            self.out
                .event("invalidated", Some(json!({"areas": ["variables"]})));
        }
    }

    /// `disassemble`: `instructionCount` instructions around
    /// `memoryReference` (shifted by `instructionOffset`), padded with
    /// "invalid instruction" where there is no code, as Delve answers.
    pub(super) fn disassemble(&mut self, request: &Request) {
        let fail = |out: &Outbox, detail: &str| {
            out.fail(
                request,
                error_id::UNABLE_TO_DISASSEMBLE,
                "Unable to disassemble",
                detail,
                false,
            )
        };
        let reference = request.str("memoryReference");
        let address = match parse_go_number(reference, "ParseUint") {
            Ok(address) => address,
            Err(e) => return fail(&self.out, &e),
        };
        let count = request.i64("instructionCount").max(0) as usize;
        let offset = request.i64("instructionOffset");
        let invalid =
            |address: String| json!({"address": address, "instruction": "invalid instruction"});
        if address == 0 || address == u64::MAX {
            let instructions: Vec<Value> =
                (0..count).map(|_| invalid(reference.to_owned())).collect();
            return self
                .out
                .respond(request, Some(json!({"instructions": instructions})));
        }
        let Some(debugger) = self.debugger().cloned() else {
            return fail(&self.out, "no debug session");
        };
        let bi = debugger.bininfo().clone();
        // Whole functions around the wanted bytes, so instructions line up.
        let byte_offset = offset * MAX_INSTRUCTION_LENGTH as i64;
        let mut start = address;
        if byte_offset < 0 {
            start = address.saturating_sub(byte_offset.unsigned_abs());
        }
        let extra = byte_offset.max(0) as u64;
        let end = address + (count as u64 + extra) * MAX_INSTRUCTION_LENGTH;
        if let Ok(Some(f)) = bi.function_at(start) {
            start = f.entry;
        }
        let end = match bi.function_at(end) {
            Ok(Some(f)) => f.end,
            _ => end.min(start + 10 * 1024),
        };
        let Some(code) = bi.image().read_at(start, (end - start) as usize) else {
            return fail(&self.out, &format!("cannot read {start:#x}-{end:#x}"));
        };
        // Go's own assembler syntax, symbols named as Delve names them.
        let symbols = match ferret_gort::disasm::DelveSymbols::new(&bi) {
            Ok(symbols) => symbols,
            Err(e) => return fail(&self.out, &e.to_string()),
        };
        let decoded = ferret_gort::disasm::disassemble_go(code, start, &|a| symbols.lookup(a));
        let Some(at) = decoded.iter().position(|i| i.address == address) else {
            return fail(&self.out, "could not find memory reference");
        };
        let first = at as i64 + offset;
        let mut instructions = Vec::with_capacity(count);
        let (mut last_file, mut last_line) = (String::new(), 0);
        for i in 0..count as i64 {
            let index = first + i;
            if index < 0 {
                instructions.push(invalid("0x0".to_owned()));
                continue;
            }
            let Some(insn) = decoded.get(index as usize) else {
                instructions.push(invalid(format!("{:#x}", u64::MAX)));
                continue;
            };
            let location = debugger.location_of(insn.address);
            let mut answer = json!({
                "address": format!("{:#x}", insn.address),
                "instructionBytes": hex(&insn.bytes),
                "instruction": insn.text,
            });
            if *location.file != *last_file || location.line != last_line {
                answer["location"] = json!({"path": self.args.to_client_path(&location.file)});
                answer["line"] = json!(location.line);
                last_file = location.file.to_string();
                last_line = location.line;
            }
            instructions.push(answer);
        }
        self.out
            .respond(request, Some(json!({"instructions": instructions})));
    }
}
