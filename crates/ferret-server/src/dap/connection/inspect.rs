//! Looking at a stopped program: threads, stacks, scopes, variables,
//! evaluate (and its console commands), setVariable, exceptionInfo,
//! source and loadedSources.

use super::*;

impl Connection {
    pub(super) fn threads(&mut self, request: &Request) {
        let filters = match self.args.thread_filters() {
            Ok(filters) => filters,
            Err(e) => {
                self.out.console(&e);
                Vec::new()
            }
        };
        let scope = EvalScope {
            goroutine_id: -1,
            frame: 0,
            deferred_call: 0,
        };
        // Without filters only the first goroutines are read; with them,
        // every goroutine is tested and the first matches kept.
        let max = self.args.max_goroutines;
        let filtered = !filters.is_empty();
        // Filters read every goroutine: a long operation with many.
        let progress = if filtered {
            self.progress_start("Filtering goroutines")
        } else {
            None
        };
        let listing = self
            .call(move |d| {
                d.goroutine_listing(0, if filtered { 0 } else { max }, filters, None, scope)
            })
            .map(|listing| {
                let more = listing.next >= 0 || listing.goroutines.len() > max;
                let mut goroutines = listing.goroutines;
                goroutines.truncate(max);
                (goroutines, more)
            });
        self.progress_end(progress);
        let selected = self
            .call(|d| d.state(true))
            .ok()
            .and_then(|s| s.current_goroutine.map(|g| g.id));
        let listing = listing.map(|(mut goroutines, more)| {
            if more {
                self.out.console(&format!(
                    "Too many goroutines, only loaded {max} (ferret: raise the limit with the maxGoroutines \
                     setting, or narrow the list with goroutineFilters)"
                ));
                // The selected goroutine is always listed.
                if let Some(id) = selected.filter(|id| !goroutines.iter().any(|g| g.id == *id)) {
                    if let Ok(g) = self.call(move |d| d.goroutine(id)) {
                        goroutines.push(g);
                    }
                }
            }
            goroutines
        });
        let threads: Vec<Value> = match listing {
            Ok(goroutines) if !goroutines.is_empty() => goroutines
                .iter()
                .map(|g| {
                    let star = if Some(g.id) == selected { "* " } else { "" };
                    if !g.unreadable.is_empty() {
                        return json!({"id": 0, "name": format!("{star} Unreadable goroutine: {}", g.unreadable)});
                    }
                    let thread = if g.thread_id != 0 {
                        format!(" (Thread {})", g.thread_id)
                    } else {
                        String::new()
                    };
                    let function = g
                        .user_current_loc
                        .function
                        .as_ref()
                        .map_or("???".to_owned(), |f| short_function_name(&f.name));
                    let labels = self.label_text(&g.labels);
                    json!({"id": g.id, "name": format!("{star}[Go {}{labels}] {function}{thread}", g.id)})
                })
                .collect(),
            Ok(_) => vec![json!({"id": 1, "name": "Dummy"})],
            Err(e) => {
                if exit_status_of(&e).is_none() {
                    self.out.event(
                        "output",
                        Some(json!({"category": "stderr", "output": format!("Unable to retrieve goroutines: {e}\n")})),
                    );
                }
                vec![json!({"id": 1, "name": "Dummy"})]
            }
        };
        self.out.respond(request, Some(json!({"threads": threads})));
    }

    /// The pprof labels shown in a thread's name (`showPprofLabels`).
    pub(super) fn label_text(&self, labels: &[(String, String)]) -> String {
        let keys = &self.args.show_pprof_labels;
        let value_of = |key: &str| {
            labels
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.as_str())
                .filter(|v| !v.is_empty())
        };
        let mut text = String::new();
        if keys.len() == 1 && keys[0] != "*" {
            if let Some(value) = value_of(&keys[0]) {
                text.push(' ');
                text.push_str(value);
            }
            return text;
        }
        let mut shown: Vec<&str> = if keys.len() == 1 {
            let mut all: Vec<&str> = labels.iter().map(|(k, _)| k.as_str()).collect();
            all.sort_unstable();
            all
        } else {
            keys.iter().map(String::as_str).collect()
        };
        shown.dedup();
        for key in shown {
            if let Some(value) = value_of(key) {
                text.push_str(&format!(" {key}:{value}"));
            }
        }
        text
    }

    pub(super) fn stack_trace(&mut self, request: &Request) {
        let goroutine = request.i64("threadId");
        let start = request.i64("startFrame").max(0) as usize;
        let levels = match request.i64("levels") {
            n if n > 0 => n as usize,
            _ => self.args.stack_trace_depth,
        };
        let count = start + levels;
        let frames = match self.call(move |d| d.stacktrace(goroutine, count, 0, false, None)) {
            Ok(frames) => frames,
            Err(e) => {
                return self.out.fail(
                    request,
                    error_id::UNABLE_TO_PRODUCE_STACK_TRACE,
                    "Unable to produce stack trace",
                    &e,
                    false,
                )
            }
        };
        let system = self.goroutine_is_system(goroutine);
        let mut stack_frames = Vec::new();
        for (i, frame) in frames.iter().enumerate().skip(start).take(levels) {
            let handle = FIRST_HANDLE + self.frames.len() as i64;
            let location = &frame.location;
            self.frames.push(FrameHandle {
                goroutine,
                frame: i,
                optimized: location.function.as_ref().is_some_and(|f| f.optimized),
            });
            let function = location.function.as_ref().map(|f| f.name.to_string());
            let mut answer = json!({
                "id": handle,
                "name": function.as_deref().map_or("???".to_owned(), short_function_name),
                "line": location.line,
                "column": 0,
                "instructionPointerReference": format!("{:#x}", location.pc),
            });
            if &*location.file != "<autogenerated>" {
                let path = self.args.to_client_path(&location.file);
                answer["source"] = json!({"name": base_name(&path), "path": path});
            }
            let package = function
                .as_deref()
                .map_or("runtime", ferret_gort::bininfo::package_of);
            if !system && package == "runtime" {
                answer["presentationHint"] = json!("subtle");
            }
            stack_frames.push(answer);
        }
        let mut total = frames.len();
        if frames.len() >= start + levels && !frames.last().is_some_and(|f| f.bottom) {
            total += self.args.stack_trace_depth;
        }
        self.out.respond(
            request,
            Some(json!({"stackFrames": stack_frames, "totalFrames": total})),
        );
    }

    /// Delve's system-goroutine rule, by the goroutine's start function
    /// (an unknown goroutine counts as a system one).
    pub(super) fn goroutine_is_system(&self, goroutine: i64) -> bool {
        self.call(move |d| d.goroutine(goroutine))
            .map_or(true, |g| g.system)
    }

    pub(super) fn new_variables_handle(&mut self, handle: VariablesHandle) -> i64 {
        self.variables.push(handle);
        FIRST_HANDLE + self.variables.len() as i64 - 1
    }

    pub(super) fn scopes(&mut self, request: &Request) {
        let frame_id = request.i64("frameId");
        let Some(&FrameHandle {
            goroutine,
            frame,
            optimized,
        }) = usize::try_from(frame_id - FIRST_HANDLE)
            .ok()
            .and_then(|i| self.frames.get(i))
        else {
            return self.out.fail(
                request,
                error_id::UNABLE_TO_LIST_LOCALS,
                "Unable to list locals",
                &format!("unknown frame id {frame_id}"),
                false,
            );
        };
        let scope = EvalScope {
            goroutine_id: goroutine,
            frame,
            deferred_call: 0,
        };
        let config = values::load_config(&self.options());
        let arguments = match self.call(move |d| d.function_args(scope, config)) {
            Ok(arguments) => arguments,
            Err(e) => {
                return self.out.fail(
                    request,
                    error_id::UNABLE_TO_LIST_ARGS,
                    "Unable to list args",
                    &e,
                    false,
                )
            }
        };
        let locals = match self.call(move |d| d.local_vars(scope, config)) {
            Ok(locals) => locals,
            Err(e) => {
                return self.out.fail(
                    request,
                    error_id::UNABLE_TO_LIST_LOCALS,
                    "Unable to list locals",
                    &e,
                    false,
                )
            }
        };
        let name = if optimized {
            "Locals (warning: optimized function)"
        } else {
            "Locals"
        };
        let mut variables = arguments;
        variables.extend(locals);
        let reference = self.new_variables_handle(VariablesHandle {
            content: HandleContent::Value(Box::new(Expandable::locals(variables))),
            goroutine,
            frame,
        });
        let mut scopes =
            vec![json!({"name": name, "variablesReference": reference, "expensive": false})];
        if self.args.show_global_variables {
            match self.globals() {
                Ok((package, variables)) => {
                    let reference = self.new_variables_handle(VariablesHandle {
                        content: HandleContent::Value(Box::new(Expandable::globals(
                            &package, variables,
                        ))),
                        goroutine: -1,
                        frame: 0,
                    });
                    scopes.push(json!({"name": format!("Globals (package {package})"), "variablesReference": reference, "expensive": false}));
                }
                Err(e) => {
                    return self.out.fail(
                        request,
                        error_id::UNABLE_TO_LIST_GLOBALS,
                        "Unable to list globals",
                        &e,
                        false,
                    )
                }
            }
        }
        if self.args.show_registers {
            match self.registers_of(goroutine, frame) {
                Ok(registers) => {
                    let reference = self.new_variables_handle(VariablesHandle {
                        content: HandleContent::Registers(registers),
                        goroutine,
                        frame,
                    });
                    scopes.push(json!({"name": "Registers", "variablesReference": reference, "expensive": false}));
                }
                Err(e) => {
                    return self.out.fail(
                        request,
                        error_id::UNABLE_TO_LIST_REGISTERS,
                        "Unable to list registers",
                        &e,
                        false,
                    )
                }
            }
        }
        self.out.respond(request, Some(json!({"scopes": scopes})));
    }

    /// The registers of goroutine `goroutine`'s frame `frame`: all of them
    /// for the innermost frame; for the others what unwinding recovers (the
    /// return address, the stack pointer and the saved frame pointer).
    pub(super) fn registers_of(
        &self,
        goroutine: i64,
        frame: usize,
    ) -> Result<Vec<(String, String)>, String> {
        let text = |name: &str, value: u64| {
            (
                name.to_lowercase(),
                crate::rpc2::convert::register_value_text(name, value),
            )
        };
        if frame == 0 {
            let scope = EvalScope {
                goroutine_id: goroutine,
                frame: 0,
                deferred_call: 0,
            };
            let registers = self.call(move |d| d.registers(0, Some(scope)))?;
            return Ok(registers.iter().map(|(n, v, _)| text(n, *v)).collect());
        }
        let frames = self.call(move |d| d.stacktrace(goroutine, frame + 1, 0, false, None))?;
        let (Some(this), Some(callee)) = (frames.get(frame), frames.get(frame - 1)) else {
            return Err(format!("Invalid frame {frame}"));
        };
        let mut registers = vec![text("Rip", this.location.pc), text("Rsp", callee.cfa)];
        // Go saves the caller's frame pointer just below the return address.
        let saved_bp = callee.cfa.wrapping_sub(16);
        if let Ok(bytes) = self.call(move |d| d.examine_memory(saved_bp, 8)) {
            let bp = u64::from_le_bytes(bytes.try_into().unwrap_or_default());
            registers.push(text("Rbp", bp));
        }
        Ok(registers)
    }

    /// The current thread's package and its package-level variables
    /// (Delve's Globals scope).
    pub(super) fn globals(&self) -> Result<(String, Vec<Variable>), String> {
        let state = self.call(|d| d.state(false))?;
        let function = state
            .current_thread
            .and_then(|t| t.function)
            .ok_or("unable to determine current package due to unspecified function location")?;
        let package = ferret_gort::bininfo::package_of(&function.name).to_owned();
        let filter_prefix = format!("{package}.");
        let config = values::load_config(&self.options());
        let variables = self.call(move |d| {
            d.package_vars(
                move |name| {
                    name.strip_prefix(filter_prefix.as_str())
                        .is_some_and(|rest| !rest.contains('.'))
                },
                config,
            )
        })?;
        Ok((package, variables))
    }

    pub(super) fn variables_request(&mut self, request: &Request) {
        let reference = request.i64("variablesReference");
        let index = usize::try_from(reference - FIRST_HANDLE).ok();
        let Some(handle) = index.and_then(|i| self.variables.get(i)) else {
            return self.out.fail(
                request,
                error_id::UNABLE_TO_LOOKUP_VARIABLE,
                "Unable to lookup variable",
                &format!("unknown reference {reference}"),
                false,
            );
        };
        let start = request.i64("start").max(0) as usize;
        let count = request.i64("count").max(0) as usize;
        let filter = request
            .arguments
            .get("filter")
            .and_then(Value::as_str)
            .map(str::to_owned);
        let (goroutine, frame) = (handle.goroutine, handle.frame);
        let expandable = match &handle.content {
            HandleContent::Value(expandable) => expandable.clone(),
            HandleContent::Registers(registers) => {
                let variables = registers_json(registers, self.client_takes_types);
                return self
                    .out
                    .respond(request, Some(json!({"variables": variables})));
            }
        };
        let options = self.options();
        let mut reload = self.reader(goroutine, frame);
        let shown = values::children(
            &expandable,
            filter.as_deref(),
            start,
            count,
            &options,
            &mut reload,
        );
        let shown = match shown {
            Ok(shown) => shown,
            Err(e) => {
                return self.out.fail(
                    request,
                    error_id::UNABLE_TO_LOOKUP_VARIABLE,
                    "Unable to lookup variable",
                    &e,
                    false,
                )
            }
        };
        let variables = self.publish_shown(shown, goroutine, frame);
        self.out
            .respond(request, Some(json!({"variables": variables})));
    }

    /// The goroutine and frame a `frameId` names (the selected goroutine's
    /// top frame when absent or unknown).
    pub(super) fn frame_of(&self, request: &Request) -> (i64, usize) {
        usize::try_from(request.i64("frameId") - FIRST_HANDLE)
            .ok()
            .and_then(|i| self.frames.get(i))
            .map_or((-1, 0), |f| (f.goroutine, f.frame))
    }

    pub(super) fn evaluate(&mut self, request: &Request) {
        let expression = request.str("expression").to_owned();
        if let Some(line) = expression.strip_prefix("dlv ") {
            return self.dlv_command(request, line);
        }
        if let Some(line) = expression.strip_prefix("ferret ") {
            return self.ferret_command(request, line);
        }
        let (goroutine, frame) = self.frame_of(request);
        let context = request.str("context").to_owned();
        let options = self.options();
        let mut eval = self.reader(goroutine, frame);
        match values::evaluate(&expression, &context, &options, &mut eval) {
            Ok(shown) => {
                let reference = self.handle_for(&shown, goroutine, frame);
                self.out
                    .respond(request, Some(values::evaluate_json(&shown, reference)));
            }
            Err(e) => self.out.fail(
                request,
                error_id::UNABLE_TO_EVALUATE_EXPRESSION,
                "Unable to evaluate expression",
                &e,
                values::shows_error_to_user(&context),
            ),
        }
    }

    /// `ferret goroutines [--group KEY[,KEY]] [--min-wait DURATION]` typed
    /// in the debug console: the leak-hunting table of the `ferret
    /// goroutines` command, beyond Delve.
    pub(super) fn ferret_command(&mut self, request: &Request, line: &str) {
        let progress = self.progress_start("Summarizing goroutines");
        let table = self.goroutines_table(line);
        self.progress_end(progress);
        match table {
            Ok(text) => self.out.respond(
                request,
                Some(json!({"result": text, "variablesReference": 0})),
            ),
            Err(e) => self.out.fail(
                request,
                error_id::UNABLE_TO_RUN_DLV_COMMAND,
                "Unable to run ferret command",
                &e,
                false,
            ),
        }
    }

    pub(super) fn goroutines_table(&self, line: &str) -> Result<String, String> {
        let usage = "usage: ferret goroutines [--group KEY[,KEY]] [--min-wait DURATION] \
                     (keys: waitreason, userloc, startloc, goloc, curloc, label:KEY)";
        let mut words = line.split_whitespace();
        if words.next() != Some("goroutines") {
            return Err(usage.to_owned());
        }
        let mut group = vec!["waitreason".to_owned()];
        let mut min_wait = std::time::Duration::ZERO;
        while let Some(flag) = words.next() {
            let value = words.next().ok_or(usage)?;
            match flag {
                "--group" => group = value.split(',').map(str::to_owned).collect(),
                "--min-wait" => min_wait = crate::leak::parse_duration(value)?,
                _ => return Err(usage.to_owned()),
            }
        }
        let keys = group
            .iter()
            .map(|g| {
                ferret_debugger::goroutines::SummaryKey::parse(g)
                    .ok_or_else(|| format!("unknown grouping {g:?}; {usage}"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        if keys.len() > 2 {
            return Err(format!("one or two grouping keys, not {}", keys.len()));
        }
        let summary_request = ferret_debugger::goroutines::SummaryRequest {
            keys,
            wait_reasons: Vec::new(),
            min_wait_ns: min_wait.as_nanos() as i64,
            samples: 3,
        };
        let summary = self.call(move |d| d.goroutine_summary(summary_request))?;
        let wire = crate::rpc2::convert::goroutine_summary(&summary);
        Ok(crate::leak::summary_text(&wire, &group, None).0)
    }

    /// `dlv ...` typed in the debug console.
    pub(super) fn dlv_command(&mut self, request: &Request, line: &str) {
        let context = SessionFiles(self.debugger().cloned());
        match commands::run(line, &mut self.args, &context) {
            Ok(outcome) => {
                self.out.respond(
                    request,
                    Some(json!({"result": outcome.text, "variablesReference": 0})),
                );
                if let Some(area) = outcome.invalidated {
                    self.out
                        .event("invalidated", Some(json!({"areas": [area]})));
                }
            }
            Err(e) => self.out.fail(
                request,
                error_id::UNABLE_TO_RUN_DLV_COMMAND,
                "Unable to run dlv command",
                &e,
                false,
            ),
        }
    }

    /// `setVariable`: the named child of a scope or value is assigned the
    /// text `value` (Delve answers with that text, not a reloaded value).
    pub(super) fn set_variable(&mut self, request: &Request) {
        let reference = request.i64("variablesReference");
        let name = request.str("name").to_owned();
        let value = request.str("value").to_owned();
        let fail = |out: &Outbox, summary: &str, detail: &str| {
            out.fail(
                request,
                error_id::UNABLE_TO_SET_VARIABLE,
                summary,
                detail,
                false,
            )
        };
        let index = usize::try_from(reference - FIRST_HANDLE).ok();
        let Some(handle) = index.and_then(|i| self.variables.get(i)) else {
            return fail(
                &self.out,
                "Unable to lookup variable",
                &format!("unknown reference {reference}"),
            );
        };
        // The child's own expression (`p.X`, `m["k"]`), as Delve finds it:
        // the children are listed (and given handles) first.
        let (goroutine, frame) = (handle.goroutine, handle.frame);
        let HandleContent::Value(expandable) = &handle.content else {
            return fail(
                &self.out,
                "Unable to set variable",
                "registers can not be set",
            );
        };
        let expandable = expandable.clone();
        let options = self.options();
        let mut reload = self.reader(goroutine, frame);
        let children =
            values::children(&expandable, None, 0, 0, &options, &mut reload).unwrap_or_default();
        for child in &children {
            self.handle_for(child, goroutine, frame);
        }
        let symbol = values::evaluate_name_of(&children, &name).ok();
        let Some(symbol) = symbol else {
            let detail = values::evaluate_name_of(&children, &name)
                .err()
                .unwrap_or_default();
            return fail(&self.out, "Unable to set variable", &detail);
        };
        let scope = EvalScope {
            goroutine_id: goroutine,
            frame,
            deferred_call: 0,
        };
        let evaluated = {
            let symbol = symbol.clone();
            let config = values::load_config(&options);
            self.call(move |d| d.eval(scope, symbol, config))
        };
        let evaluated = match evaluated {
            Ok(v) => v,
            Err(e) => return fail(&self.out, "Unable to lookup variable", &e),
        };
        let assigned = {
            let value = value.clone();
            self.call(move |d| d.set_variable(scope, symbol, value))
        };
        if let Err(e) = assigned {
            return fail(&self.out, "Unable to set variable", &e);
        }
        let mut body = json!({"value": value});
        let type_name = values::type_shown(&evaluated, &options);
        if !type_name.is_empty() {
            body["type"] = json!(type_name);
        }
        self.out.respond(request, Some(body));
        if self.client_takes_invalidated {
            self.out
                .event("invalidated", Some(json!({"areas": ["all"]})));
        }
    }

    pub(super) fn exception_info(&mut self, request: &Request) {
        let goroutine = request.i64("threadId");
        let fail = |out: &Outbox, detail: &str| {
            out.fail(
                request,
                error_id::UNABLE_TO_GET_EXCEPTION_INFO,
                "Unable to get exception info",
                detail,
                false,
            )
        };
        let state = match self.call(|d| d.state(false)) {
            Ok(state) => state,
            Err(e) => return fail(&self.out, &e),
        };
        let on_breakpoint = stopped_on_breakpoints(&state)
            .into_iter()
            .find(|(g, _)| *g == goroutine)
            .map(|(_, bp)| bp);
        let (exception_id, description) = match on_breakpoint {
            Some(bp) if bp.name == "runtime-fatal-throw" => (
                "fatal error",
                self.expression_text(goroutine, "s")
                    .unwrap_or_else(|e| format!("Error getting throw reason: {e}")),
            ),
            Some(bp) if bp.name == "unrecovered-panic" => (
                "panic",
                self.expression_text(goroutine, "(*msgs).arg.(data)")
                    .unwrap_or_else(|e| format!("Error getting panic message: {e}")),
            ),
            _ => match &self.run_error {
                Some(e) => ("runtime error", e.clone()),
                None => return fail(&self.out, "no runtime error found"),
            },
        };
        let stack = self.stack_text(goroutine);
        self.out.respond(
            request,
            Some(json!({
                "exceptionId": exception_id,
                "description": description,
                "breakMode": "unhandled",
                "details": {"stackTrace": stack},
            })),
        );
    }

    /// A goroutine's stack as `exceptionInfo` prints it.
    pub(super) fn stack_text(&self, goroutine: i64) -> String {
        let depth = self.args.stack_trace_depth;
        match self.call(move |d| d.stacktrace(goroutine, depth + 1, 0, false, None)) {
            Ok(frames) => {
                let mut text = String::from("Stack:\n");
                let user = frames.iter().any(|f| {
                    f.location
                        .function
                        .as_ref()
                        .is_some_and(|f| !f.name.starts_with("runtime."))
                });
                for (i, frame) in frames.iter().enumerate() {
                    let name = frame
                        .location
                        .function
                        .as_ref()
                        .map_or("???".to_owned(), |f| f.name.to_string());
                    if user && name.starts_with("runtime.") {
                        continue;
                    }
                    text.push_str(&format!(
                        "\t{i:>2}  {:#018x} in {name}\n\t    at {}:{}\n",
                        frame.location.pc,
                        self.args.to_client_path(&frame.location.file),
                        frame.location.line
                    ));
                }
                text
            }
            Err(e) => format!("Error getting stack trace: {e}"),
        }
    }

    /// `loadedSources`, beyond Delve: every source file the program was
    /// built from, as the client names it.
    pub(super) fn loaded_sources(&mut self, request: &Request) {
        let files = self
            .debugger()
            .map(|d| d.bininfo().source_files())
            .transpose()
            .map_err(|e| e.to_string());
        match files {
            Ok(files) => {
                let sources: Vec<Value> = files
                    .unwrap_or_default()
                    .iter()
                    .map(|f| {
                        let path = self.args.to_client_path(f);
                        json!({"name": base_name(&path), "path": path})
                    })
                    .collect();
                self.out.respond(request, Some(json!({"sources": sources})));
            }
            Err(e) => self.out.fail(
                request,
                error_id::INTERNAL,
                "Unable to list sources",
                &e,
                false,
            ),
        }
    }

    /// `source`, beyond Delve (which refuses it): the text of a source file
    /// the program was built from, for clients that lack the file.
    pub(super) fn source(&mut self, request: &Request) {
        let path = request
            .arguments
            .pointer("/source/path")
            .and_then(Value::as_str)
            .unwrap_or("");
        let server_path = self.args.to_server_path(path);
        let known = self
            .debugger()
            .and_then(|d| d.bininfo().source_files().ok())
            .map(|files| files.contains(&server_path))
            .unwrap_or(false);
        let text = if known {
            std::fs::read_to_string(&server_path).map_err(|e| e.to_string())
        } else {
            Err(format!("{path:?} is not a source file of the program"))
        };
        match text {
            Ok(content) => self.out.respond(
                request,
                Some(json!({"content": content, "mimeType": "text/x-go"})),
            ),
            // Without a file of the program to serve, Delve's refusal.
            Err(_) => self.out.fail(
                request,
                error_id::UNSUPPORTED,
                "Unsupported command",
                "cannot process \"source\" request",
                false,
            ),
        }
    }
}
