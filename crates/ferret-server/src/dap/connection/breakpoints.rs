//! Breakpoints: source, function, instruction, exception and data
//! breakpoints, made and kept as Delve's DAP server makes them (session
//! breakpoints under Delve's names), and `breakpoint` events for other
//! clients' changes.

use super::*;

impl Connection {
    /// Makes the breakpoints whose names start with `prefix` exactly the
    /// `wanted` ones: existing ones are amended, missing ones created, the
    /// rest cleared (Delve's rule). Answers one DAP breakpoint per wanted.
    pub(super) fn sync_breakpoints(
        &mut self,
        prefix: &str,
        wanted: Vec<WantedBreakpoint>,
    ) -> Vec<Value> {
        let existing: Vec<Breakpoint> = self
            .call(|d| d.breakpoints())
            .unwrap_or_default()
            .into_iter()
            .filter(|b| b.name.starts_with(prefix))
            .collect();
        let mut answers = vec![Value::Null; wanted.len()];
        let mut seen = std::collections::HashSet::new();
        // Amend the ones that exist.
        for (i, want) in wanted.iter().enumerate() {
            let Some(got) = existing.iter().find(|b| b.name == want.name) else {
                continue;
            };
            let result = if !seen.insert(want.name.clone()) {
                Err("breakpoint already exists".to_owned())
            } else {
                let mut update = got.clone();
                update.disabled = false;
                update.cond = want.condition.clone();
                update.hit_cond = want.hit_condition.clone();
                update.tracepoint = !want.log_message.is_empty();
                self.remember_log_message(update.id, &want.log_message);
                self.call(move |d| d.amend_breakpoint(update))
                    .map(|()| got.clone())
            };
            answers[i] = self.breakpoint_answer(result);
        }
        // Clear the ones no longer wanted.
        for got in &existing {
            if !seen.contains(&got.name) {
                let (id, name) = (got.id, got.name.clone());
                let _ = self.call(move |d| d.clear_breakpoint(id, name));
                self.remember_log_message(got.id, "");
            }
        }
        // Create the new ones.
        for (i, want) in wanted.into_iter().enumerate() {
            if existing.iter().any(|b| b.name == want.name) {
                continue;
            }
            let result = if !seen.insert(want.name.clone()) {
                Err("breakpoint already exists".to_owned())
            } else if let Err(e) = &want.location {
                Err(e.clone())
            } else {
                let log_message = want.log_message.clone();
                let watch = want.watch.clone();
                let request = BreakpointRequest {
                    template: Breakpoint {
                        name: want.name,
                        cond: want.condition,
                        hit_cond: want.hit_condition,
                        tracepoint: !want.log_message.is_empty(),
                        file: want.file,
                        line: want.line,
                        addrs: want.location.unwrap_or_default(),
                        ..Breakpoint::default()
                    },
                    loc_expr: String::new(),
                    addr: 0,
                };
                let created = match watch {
                    Some((scope, expression, watch_type)) => self.call(move |d| {
                        d.create_watchpoint(scope, expression, watch_type, request.template)
                    }),
                    None => self.call(move |d| d.create_breakpoint(request)),
                };
                if let Ok(bp) = &created {
                    self.remember_log_message(bp.id, &log_message);
                }
                created
            };
            answers[i] = self.breakpoint_answer(result);
        }
        self.note_breakpoints();
        if let Some(ctx) = &self.ctx {
            ctx.publish(RunEvent::BreakpointsChanged { by: self.id });
        }
        answers
    }

    /// Remembers the breakpoints as they are now (this client's own
    /// changes need no events).
    pub(super) fn note_breakpoints(&mut self) {
        self.known_breakpoints = self
            .call(|d| d.breakpoints())
            .unwrap_or_default()
            .into_iter()
            .filter(|b| b.id > 0)
            .map(|b| (b.id, b))
            .collect();
    }

    /// Sends `breakpoint` events (new, changed, removed) for what other
    /// clients did to the breakpoints since they were last noted.
    pub(super) fn tell_breakpoint_changes(&mut self) {
        if self.ctx.is_none() || self.target_running() {
            return;
        }
        let before = std::mem::take(&mut self.known_breakpoints);
        self.note_breakpoints();
        let mut events = Vec::new();
        for (id, now) in &self.known_breakpoints {
            match before.get(id) {
                None => events.push(("new", now.clone())),
                Some(old) if old != now => events.push(("changed", now.clone())),
                _ => {}
            }
        }
        for (id, old) in &before {
            if !self.known_breakpoints.contains_key(id) {
                events.push(("removed", old.clone()));
            }
        }
        events.sort_by_key(|(_, b)| b.id);
        for (reason, bp) in events {
            let mut answer = self.breakpoint_answer(Ok(bp.clone()));
            if reason == "removed" {
                answer = json!({"id": bp.id, "verified": false});
            }
            self.out.event(
                "breakpoint",
                Some(json!({"reason": reason, "breakpoint": answer})),
            );
        }
    }

    pub(super) fn remember_log_message(&self, id: i32, message: &str) {
        if let Some(ctx) = &self.ctx {
            let mut messages = ctx.log_messages.lock().unwrap_or_else(|e| e.into_inner());
            if message.is_empty() {
                messages.remove(&id);
            } else {
                messages.insert(id, message.to_owned());
            }
        }
    }

    /// One DAP `Breakpoint` object.
    pub(super) fn breakpoint_answer(&self, result: Result<Breakpoint, String>) -> Value {
        let result = result.and_then(|bp| {
            if bp.addrs.is_empty() {
                Err("unable to set breakpoint".to_owned())
            } else {
                Ok(bp)
            }
        });
        match result {
            Ok(bp) => {
                let mut answer = json!({"id": bp.id, "verified": true});
                if !bp.file.is_empty() {
                    let path = self.args.to_client_path(&bp.file);
                    answer["source"] = json!({"name": base_name(&path), "path": path});
                    answer["line"] = json!(bp.line);
                }
                answer
            }
            Err(message) => json!({"verified": false, "message": message}),
        }
    }

    pub(super) fn set_breakpoints(&mut self, request: &Request) {
        let client_path = request
            .arguments
            .pointer("/source/path")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        if client_path.is_empty() {
            return self.out.fail(
                request,
                error_id::UNABLE_TO_SET_BREAKPOINTS,
                "Unable to set or clear breakpoints",
                "empty file path",
                false,
            );
        }
        let server_path = self.args.to_server_path(&client_path);
        let prefix = format!("{SOURCE_PREFIX} Path={client_path:?} ");
        let wanted = list_of(&request.arguments, "breakpoints")
            .iter()
            .map(|b| {
                let line = b.get("line").and_then(Value::as_u64).unwrap_or(0) as u32;
                let column = b.get("column").and_then(Value::as_u64).unwrap_or(0);
                WantedBreakpoint {
                    name: format!("{prefix} Line={line} Column={column}"),
                    file: server_path.clone(),
                    line,
                    ..WantedBreakpoint::from_request(b)
                }
            })
            .collect();
        let breakpoints = self.sync_breakpoints(&prefix, wanted);
        self.out
            .respond(request, Some(json!({"breakpoints": breakpoints})));
    }

    pub(super) fn set_function_breakpoints(&mut self, request: &Request) {
        let wanted = list_of(&request.arguments, "breakpoints")
            .iter()
            .map(|b| {
                let name = b.get("name").and_then(Value::as_str).unwrap_or("");
                // Found before anything is made, as Delve does (a failure
                // uses up no breakpoint id).
                let spec = name.to_owned();
                let location = self.call(move |d| d.find_location(&spec)).map(|l| l.pcs);
                WantedBreakpoint {
                    name: format!("{FUNCTION_PREFIX} Name={name}"),
                    log_message: String::new(),
                    location,
                    ..WantedBreakpoint::from_request(b)
                }
            })
            .collect();
        let breakpoints = self.sync_breakpoints(FUNCTION_PREFIX, wanted);
        self.out
            .respond(request, Some(json!({"breakpoints": breakpoints})));
    }

    pub(super) fn set_instruction_breakpoints(&mut self, request: &Request) {
        let wanted = list_of(&request.arguments, "breakpoints")
            .iter()
            .map(|b| {
                let reference = b
                    .get("instructionReference")
                    .and_then(Value::as_str)
                    .unwrap_or("");
                WantedBreakpoint {
                    name: format!("{INSTRUCTION_PREFIX} PC={reference}"),
                    location: parse_go_number(reference, "ParseInt").map(|pc| vec![pc]),
                    log_message: String::new(),
                    ..WantedBreakpoint::from_request(b)
                }
            })
            .collect();
        let breakpoints = self.sync_breakpoints(INSTRUCTION_PREFIX, wanted);
        self.out
            .respond(request, Some(json!({"breakpoints": breakpoints})));
    }

    /// `dataBreakpointInfo`: what a data breakpoint on a variable would
    /// watch. A child of a listed value is watched at its address (as
    /// `*(*[N]byte)(0xADDR)`, so it stays put when the frame changes); a
    /// name alone is an expression read in the frame given.
    pub(super) fn data_breakpoint_info(&mut self, request: &Request) {
        let fail = |out: &Outbox, detail: &str| {
            out.fail(
                request,
                error_id::UNABLE_TO_GET_DATA_BREAKPOINT_INFO,
                "Could not get data breakpoint info",
                detail,
                false,
            )
        };
        let name = request.str("name").to_owned();
        let reference = request.i64("variablesReference");
        let (goroutine, frame, expression, description) = if reference != 0 {
            let index = usize::try_from(reference - FIRST_HANDLE).ok();
            let Some(handle) = index.and_then(|i| self.variables.get(i)) else {
                return fail(
                    &self.out,
                    &format!("variable reference {reference} unknown"),
                );
            };
            let HandleContent::Value(expandable) = &handle.content else {
                return fail(&self.out, &format!("field {name} not found"));
            };
            let (goroutine, frame) = (handle.goroutine, handle.frame);
            let parent = expandable.variable.name.clone();
            let expandable = expandable.clone();
            let options = self.options();
            let mut reload = self.reader(goroutine, frame);
            let children = values::children(&expandable, None, 0, 0, &options, &mut reload)
                .unwrap_or_default();
            let Ok(child) = values::evaluate_name_of(&children, &name) else {
                return fail(&self.out, &format!("field {name} not found"));
            };
            let scope = EvalScope {
                goroutine_id: goroutine,
                frame,
                deferred_call: 0,
            };
            let (address, size) = match self.call(move |d| d.place_of(scope, child)) {
                Ok(place) => place,
                Err(e) => return fail(&self.out, &format!("field {name} is unreadable: {e}")),
            };
            (
                -1,
                0,
                format!("*(*[{size}]byte)({address:#x})"),
                format!("{parent}.{name}"),
            )
        } else {
            let (goroutine, frame) = self.frame_of(request);
            (goroutine, frame, name.clone(), name)
        };
        self.out.respond(
            request,
            Some(json!({
                "dataId": format!("{goroutine},{frame},{expression}"),
                "accessTypes": ["read", "write", "readWrite"],
                "canPersist": false,
                "description": description,
            })),
        );
    }

    /// `setDataBreakpoints`: hardware watchpoints on the `dataId`s
    /// `dataBreakpointInfo` gave, as Delve makes them.
    pub(super) fn set_data_breakpoints(&mut self, request: &Request) {
        let wanted = list_of(&request.arguments, "breakpoints")
            .iter()
            .map(|b| {
                let data_id = b.get("dataId").and_then(Value::as_str).unwrap_or("");
                let access = b.get("accessType").and_then(Value::as_str).unwrap_or("");
                let watch = parse_data_id(data_id).and_then(|(goroutine, frame, expression)| {
                    let watch_type = match access {
                        "read" => 1,
                        "write" => 2,
                        "readWrite" => 3,
                        other => return Err(format!("unknown access type: {other:?}")),
                    };
                    let scope = EvalScope {
                        goroutine_id: goroutine,
                        frame,
                        deferred_call: 0,
                    };
                    Ok((scope, expression, watch_type))
                });
                WantedBreakpoint {
                    name: format!("{DATA_PREFIX} {data_id}"),
                    log_message: String::new(),
                    location: watch.as_ref().map(|_| Vec::new()).map_err(Clone::clone),
                    watch: watch.ok(),
                    ..WantedBreakpoint::from_request(b)
                }
            })
            .collect();
        let breakpoints = self.sync_breakpoints(DATA_PREFIX, wanted);
        self.out
            .respond(request, Some(json!({"breakpoints": breakpoints})));
    }

    /// Enables exactly the internal breakpoints (unrecovered panics, fatal
    /// throws) whose filters are listed.
    pub(super) fn set_exception_breakpoints(&mut self, request: &Request) {
        let enabled: Vec<String> = list_of(&request.arguments, "filters")
            .iter()
            .filter_map(|f| f.as_str().map(str::to_owned))
            .collect();
        let internal: Vec<Breakpoint> = self
            .call(|d| d.breakpoints())
            .unwrap_or_default()
            .into_iter()
            .filter(|b| b.id < 0)
            .collect();
        let mut answers = Vec::new();
        for mut bp in internal {
            let wanted = enabled.contains(&bp.name);
            if bp.disabled == wanted {
                bp.disabled = !wanted;
                let update = bp.clone();
                let _ = self.call(move |d| d.amend_breakpoint(update));
            }
            if wanted {
                answers.push(self.breakpoint_answer(Ok(bp)));
            }
        }
        let body = if answers.is_empty() {
            json!({})
        } else {
            json!({"breakpoints": answers})
        };
        self.out.respond(request, Some(body));
    }
}
