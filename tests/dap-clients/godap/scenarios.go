package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/google/go-dap"
)

// scenarios maps --scenario names to their scripts.
var scenarios = map[string]func(*session){
	"launch":        scenarioLaunch,
	"remote":        scenarioRemote,
	"errors":        scenarioErrors,
	"errors-remote": scenarioErrorsRemote,
}

// req starts a request of command (seq and type are filled in by send).
func req(command string) dap.Request {
	return dap.Request{Command: command}
}

// raw is launch/attach arguments: go-dap leaves them as raw JSON, since
// each debug adapter defines its own.
func raw(v map[string]any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// line is the number of the first line of the fixture's main.go that
// contains needle.
func (s *session) line(needle string) int {
	text, err := os.ReadFile(s.mainGo())
	if err != nil {
		panic(abort(err.Error()))
	}
	for i, l := range strings.Split(string(text), "\n") {
		if strings.Contains(l, needle) {
			return i + 1
		}
	}
	panic(abort(fmt.Sprintf("no line of main.go contains %q", needle)))
}

func (s *session) mainGo() string { return filepath.Join(s.cfg.src, "main.go") }

func (s *session) source() dap.Source {
	return dap.Source{Name: "main.go", Path: s.mainGo()}
}

// initialize sends what VS Code's Go extension sends.
func (s *session) initialize() {
	s.send(&dap.InitializeRequest{Request: req("initialize"), Arguments: initializeArgs()}, until())
}

func initializeArgs() dap.InitializeRequestArguments {
	return dap.InitializeRequestArguments{
		ClientID:                     "vscode",
		ClientName:                   "Visual Studio Code",
		AdapterID:                    "go",
		Locale:                       "en",
		LinesStartAt1:                true,
		ColumnsStartAt1:              true,
		PathFormat:                   "path",
		SupportsVariableType:         true,
		SupportsVariablePaging:       true,
		SupportsRunInTerminalRequest: true,
		SupportsMemoryReferences:     true,
		SupportsProgressReporting:    true,
		SupportsInvalidatedEvent:     true,
	}
}

func (s *session) setBreakpoints(lines ...int) *dap.SetBreakpointsResponse {
	var bps []dap.SourceBreakpoint
	for _, l := range lines {
		bps = append(bps, dap.SourceBreakpoint{Line: l})
	}
	return response[*dap.SetBreakpointsResponse](s.send(&dap.SetBreakpointsRequest{
		Request:   req("setBreakpoints"),
		Arguments: dap.SetBreakpointsArguments{Source: s.source(), Breakpoints: bps, Lines: lines},
	}, until()))
}

func (s *session) setFunctionBreakpoints(bps ...dap.FunctionBreakpoint) {
	if bps == nil {
		bps = []dap.FunctionBreakpoint{}
	}
	s.send(&dap.SetFunctionBreakpointsRequest{
		Request:   req("setFunctionBreakpoints"),
		Arguments: dap.SetFunctionBreakpointsArguments{Breakpoints: bps},
	}, until())
}

func (s *session) setExceptionBreakpoints(filters ...string) {
	if filters == nil {
		filters = []string{}
	}
	s.send(&dap.SetExceptionBreakpointsRequest{
		Request:   req("setExceptionBreakpoints"),
		Arguments: dap.SetExceptionBreakpointsArguments{Filters: filters},
	}, until())
}

func (s *session) threads() *dap.ThreadsResponse {
	return response[*dap.ThreadsResponse](s.send(&dap.ThreadsRequest{Request: req("threads")}, until()))
}

func (s *session) stackTrace(thread, start, levels int) *dap.StackTraceResponse {
	return response[*dap.StackTraceResponse](s.send(&dap.StackTraceRequest{
		Request:   req("stackTrace"),
		Arguments: dap.StackTraceArguments{ThreadId: thread, StartFrame: start, Levels: levels},
	}, until()))
}

func (s *session) scopes(frame int) *dap.ScopesResponse {
	return response[*dap.ScopesResponse](s.send(&dap.ScopesRequest{
		Request:   req("scopes"),
		Arguments: dap.ScopesArguments{FrameId: frame},
	}, until()))
}

func (s *session) variables(args dap.VariablesArguments) *dap.VariablesResponse {
	return response[*dap.VariablesResponse](s.send(&dap.VariablesRequest{
		Request:   req("variables"),
		Arguments: args,
	}, until()))
}

func (s *session) evaluate(expr, context string, frame int) []message {
	return s.send(&dap.EvaluateRequest{
		Request:   req("evaluate"),
		Arguments: dap.EvaluateArguments{Expression: expr, Context: context, FrameId: frame},
	}, until())
}

// runControl sends continue/next/stepIn/stepOut and waits for what follows.
func (s *session) runControl(command string, thread int, w wait) []message {
	var msg dap.RequestMessage
	switch command {
	case "continue":
		msg = &dap.ContinueRequest{Request: req(command), Arguments: dap.ContinueArguments{ThreadId: thread}}
	case "next":
		msg = &dap.NextRequest{Request: req(command), Arguments: dap.NextArguments{ThreadId: thread}}
	case "stepIn":
		msg = &dap.StepInRequest{Request: req(command), Arguments: dap.StepInArguments{ThreadId: thread}}
	case "stepOut":
		msg = &dap.StepOutRequest{Request: req(command), Arguments: dap.StepOutArguments{ThreadId: thread}}
	default:
		panic("unknown run control " + command)
	}
	return s.send(msg, w)
}

func (s *session) disconnect(terminate bool, w wait) {
	s.send(&dap.DisconnectRequest{
		Request:   req("disconnect"),
		Arguments: &dap.DisconnectArguments{TerminateDebuggee: terminate},
	}, w)
}

// inspectStop looks at a stop the way an editor does: threads, the top
// frames, their scopes, and the first scope's variables.
func (s *session) inspectStop(thread int, levels int) (*dap.StackTraceResponse, *dap.VariablesResponse) {
	s.threads()
	st := s.stackTrace(thread, 0, levels)
	if len(st.Body.StackFrames) == 0 {
		return st, nil
	}
	sc := s.scopes(st.Body.StackFrames[0].Id)
	if len(sc.Body.Scopes) == 0 {
		return st, nil
	}
	return st, s.variables(dap.VariablesArguments{VariablesReference: sc.Body.Scopes[0].VariablesReference})
}

// byName finds a variable in a variables response.
func byName(vars *dap.VariablesResponse, name string) dap.Variable {
	for _, v := range vars.Body.Variables {
		if v.Name == name {
			return v
		}
	}
	panic(abort("no variable " + name))
}

// expand lists the children of the named variables, depth levels down
// (following the first children that have children of their own).
func (s *session) expand(vars *dap.VariablesResponse, depth int, names ...string) {
	for _, name := range names {
		v := byName(vars, name)
		ref := v.VariablesReference
		for level := 0; level < depth && ref > 0; level++ {
			children := s.variables(dap.VariablesArguments{VariablesReference: ref})
			ref = 0
			for _, c := range children.Body.Variables {
				if c.VariablesReference > 0 {
					ref = c.VariablesReference
					break
				}
			}
		}
	}
}

// scenarioLaunch is a VS Code-style session on `dlv dap`: launch the
// built fixture, stop at a line breakpoint, look around, step through
// main.pause and main.inspect, and run to the end.
func scenarioLaunch(s *session) {
	mainBp := s.line("// breakpoint here")
	s.initialize()
	s.send(&dap.LaunchRequest{Request: req("launch"), Arguments: raw(map[string]any{
		"name": "Launch vars", "type": "go", "request": "launch",
		"mode": "exec", "program": s.cfg.program, "stopOnEntry": false,
	})}, until("initialized"))
	s.setBreakpoints(mainBp, 2)
	s.setFunctionBreakpoints(dap.FunctionBreakpoint{Name: "main.pause"})
	s.setExceptionBreakpoints()
	msgs := s.send(&dap.ConfigurationDoneRequest{Request: req("configurationDone")}, until("stopped"))
	thread := event[*dap.StoppedEvent](msgs).Body.ThreadId

	st, locals := s.inspectStop(thread, 20)
	frame := st.Body.StackFrames[0].Id
	// Children of one variable of each kind, some two levels down.
	s.expand(locals, 1, "arr", "sl", "bytes", "p", "m", "ch", "fn", "closure",
		"shape", "anything", "anyInt", "err", "temp", "box", "strBox", "dur",
		"when", "matrix", "points", "c64", "uptrPoint")
	s.expand(locals, 3, "pp", "outer", "n1")
	// Paging through a big array and a big map.
	bigArr := byName(locals, "bigArr").VariablesReference
	s.variables(dap.VariablesArguments{VariablesReference: bigArr, Filter: "indexed", Start: 0, Count: 5})
	s.variables(dap.VariablesArguments{VariablesReference: bigArr, Filter: "indexed", Start: 995, Count: 5})
	// A map page holds entries in hash order, which differs from process to
	// process: only a page with every entry compares (sorted).
	bigMap := byName(locals, "bigMap").VariablesReference
	s.variables(dap.VariablesArguments{VariablesReference: bigMap, Filter: "indexed", Start: 0, Count: 100})
	// A frame further down (runtime.main) and its scopes; not its
	// variables, which hold the OS stack's addresses in decimal.
	deeper := s.stackTrace(thread, 1, 2)
	if len(deeper.Body.StackFrames) > 0 {
		s.scopes(deeper.Body.StackFrames[0].Id)
	}
	// Evaluate in every context Delve knows, and some failures.
	for _, e := range []struct{ expr, context string }{
		{"i", "watch"},
		{"p", "hover"},
		{"pp.X + 1", "repl"},
		{"long", "clipboard"},
		{"long", "hover"},
		{"sl[1]", "variables"},
		{`m["two"]`, "watch"},
		{"outer.Next.Next.Name", "hover"},
		{"len(bigArr)", "repl"},
		{"globalErr", "repl"},
		{"uptr", "watch"},
		{"nosuchvar", "watch"},
		{"nosuchvar", "repl"},
		{"nosuchvar", "hover"},
		{"1 +", "repl"},
		{"dlv help", "repl"},
		{"dlv config -list", "repl"},
		{"dlv help config", "repl"},
	} {
		s.evaluate(e.expr, e.context, frame)
	}
	s.evaluate("shape", "repl", 0)
	// Change a variable, then read it back both ways.
	localsRef := s.scopes(frame).Body.Scopes[0].VariablesReference
	s.send(&dap.SetVariableRequest{Request: req("setVariable"), Arguments: dap.SetVariableArguments{
		VariablesReference: localsRef, Name: "i", Value: "-7",
	}}, until("invalidated"))
	s.evaluate("i", "watch", frame)
	s.variables(dap.VariablesArguments{VariablesReference: localsRef, Filter: "named", Start: 0, Count: 3})
	// Memory and disassembly.
	if ref := byName(locals, "s").MemoryReference; ref != "" {
		s.send(&dap.ReadMemoryRequest{Request: req("readMemory"), Arguments: dap.ReadMemoryArguments{
			MemoryReference: ref, Count: 11,
		}}, until())
	}
	if ipr := st.Body.StackFrames[0].InstructionPointerReference; ipr != "" {
		s.send(&dap.DisassembleRequest{Request: req("disassemble"), Arguments: dap.DisassembleArguments{
			MemoryReference: ipr, InstructionCount: 4, ResolveSymbols: true,
		}}, until())
	}

	// Into main.pause through its function breakpoint, and back out.
	msgs = s.runControl("continue", thread, until("stopped"))
	thread = event[*dap.StoppedEvent](msgs).Body.ThreadId
	s.inspectStop(thread, 3)
	s.runControl("stepOut", thread, until("continued", "stopped"))
	s.stackTrace(thread, 0, 1)
	// Into main.inspect and through it.
	s.runControl("stepIn", thread, until("continued", "stopped"))
	_, args := s.inspectStop(thread, 2)
	if args != nil {
		s.expand(args, 1, "pt", "names")
	}
	// From the function's line, three nexts reach pause("inspect").
	for i := 0; i < 3; i++ {
		s.runControl("next", thread, until("continued", "stopped"))
	}
	// This next calls main.pause, whose breakpoint ends it (Delve drops
	// the next: no "Step interrupted" output, and continue would not
	// finish it).
	s.runControl("next", thread, until("continued", "stopped"))
	s.stackTrace(thread, 0, 2)
	s.runControl("stepOut", thread, until("continued", "stopped"))
	s.stackTrace(thread, 0, 1)
	// Out of main.inspect, whose results Delve shows as locals of main.
	s.runControl("stepOut", thread, until("continued", "stopped"))
	s.inspectStop(thread, 1)
	s.runControl("continue", thread, until("exited", "terminated"))
	s.threads()
	s.disconnect(true, until("eof"))
}

// scenarioRemote is VS Code's remote attach to a headless multiclient
// server that has the fixture stopped at its entry point.
func scenarioRemote(s *session) {
	inspectBp := s.line("// inspect breakpoint")
	s.initialize()
	s.send(&dap.AttachRequest{Request: req("attach"), Arguments: raw(map[string]any{
		"name": "Attach remote", "type": "go", "request": "attach",
		"mode": "remote", "stopOnEntry": true,
	})}, until("initialized", "capabilities"))
	s.setBreakpoints(inspectBp)
	s.setExceptionBreakpoints("unrecovered-panic")
	msgs := s.send(&dap.ConfigurationDoneRequest{Request: req("configurationDone")}, until("stopped"))
	thread := event[*dap.StoppedEvent](msgs).Body.ThreadId
	// At the entry point there are no goroutines yet.
	s.threads()
	s.send(&dap.StackTraceRequest{Request: req("stackTrace"), Arguments: dap.StackTraceArguments{ThreadId: thread, Levels: 5}}, until())
	msgs = s.runControl("continue", thread, until("stopped"))
	thread = event[*dap.StoppedEvent](msgs).Body.ThreadId
	st, vars := s.inspectStop(thread, 5)
	if vars != nil {
		s.expand(vars, 2, "pt", "ptr", "names")
	}
	frame := st.Body.StackFrames[0].Id
	s.evaluate("total", "watch", frame)
	s.evaluate("ptr.X * 10", "repl", frame)
	s.evaluate("names", "hover", frame)
	s.evaluate("dlv config -list", "repl", frame)
	s.runControl("next", thread, until("continued", "stopped"))
	s.runControl("stepOut", thread, until("continued", "stopped"))
	s.inspectStop(thread, 1)
	s.disconnect(true, until("eof"))
}

// fifo makes a named pipe for the debuggee's stdin and opens it for
// writing (read-write, so opening does not wait for the reader).
func (s *session) makeFifo() string {
	dir, err := os.MkdirTemp("", "godap-")
	if err != nil {
		panic(abort(err.Error()))
	}
	path := filepath.Join(dir, "stdin")
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		panic(abort(err.Error()))
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		panic(abort(err.Error()))
	}
	s.fifo = f
	s.cleanup = append(s.cleanup, func() { f.Close(); os.RemoveAll(dir) })
	s.norm.addPath(path, "<STDIN>")
	return path
}

// scenarioErrors sends `dlv dap` what it refuses: requests it does not
// know or support, requests before a launch, bad launches, requests that
// need a stopped target while the target runs, and references to things
// that do not exist.
func scenarioErrors(s *session) {
	stdin := s.makeFifo()
	afterPause := s.line("inspect(i, s, p, pp, sl)")

	s.sendRaw(`{"seq":$SEQ,"type":"request","command":"fooBar","arguments":{}}`, until())
	s.threads()
	bad := initializeArgs()
	bad.PathFormat = "uri"
	s.send(&dap.InitializeRequest{Request: req("initialize"), Arguments: bad}, until())
	bad = initializeArgs()
	bad.LinesStartAt1 = false
	s.send(&dap.InitializeRequest{Request: req("initialize"), Arguments: bad}, until())
	s.initialize()
	s.stackTrace(1, 0, 1)
	s.send(&dap.AttachRequest{Request: req("attach"), Arguments: raw(map[string]any{"mode": "remote"})}, until())
	s.send(&dap.AttachRequest{Request: req("attach"), Arguments: raw(map[string]any{"mode": "local"})}, until())
	s.send(&dap.AttachRequest{Request: req("attach"), Arguments: raw(map[string]any{"mode": "sideways"})}, until())
	s.send(&dap.LaunchRequest{Request: req("launch"), Arguments: raw(map[string]any{
		"mode": "exec", "program": s.cfg.program + ".missing",
	})}, until())
	s.send(&dap.LaunchRequest{Request: req("launch"), Arguments: raw(map[string]any{
		"mode": "bogus", "program": s.cfg.program,
	})}, until())
	s.send(&dap.LaunchRequest{Request: req("launch"), Arguments: raw(map[string]any{
		"mode": "exec", "program": s.cfg.program, "stdinFrom": stdin, "stdoutTo": "/dev/null",
		"env": map[string]any{"VARS_PAUSE": "main"},
	})}, until("initialized"))
	s.send(&dap.SetBreakpointsRequest{Request: req("setBreakpoints"), Arguments: dap.SetBreakpointsArguments{
		Source:      dap.Source{Name: "nosuch.go", Path: filepath.Join(s.cfg.src, "nosuch.go")},
		Breakpoints: []dap.SourceBreakpoint{{Line: 3}},
	}}, until())
	s.send(&dap.SetBreakpointsRequest{Request: req("setBreakpoints"), Arguments: dap.SetBreakpointsArguments{
		Source:      s.source(),
		Breakpoints: []dap.SourceBreakpoint{{Line: s.line("// breakpoint here"), Condition: "i ==="}, {Line: 100000}},
	}}, until())
	s.setFunctionBreakpoints(dap.FunctionBreakpoint{Name: "main.nosuch"}, dap.FunctionBreakpoint{Name: "main.inspect", Condition: "n === 1"})
	s.setExceptionBreakpoints("no-such-filter")
	// Running, blocked reading stdin in main.pause.
	s.send(&dap.ConfigurationDoneRequest{Request: req("configurationDone")}, until())
	s.threads()
	s.stackTrace(1, 0, 1)
	s.scopes(1000)
	s.variables(dap.VariablesArguments{VariablesReference: 1000})
	s.evaluate("i", "watch", 0)
	s.runControl("next", 1, until())
	s.runControl("continue", 1, until())
	s.send(&dap.DataBreakpointInfoRequest{Request: req("dataBreakpointInfo"), Arguments: dap.DataBreakpointInfoArguments{Name: "i"}}, until())
	// setBreakpoints while running halts, sets and resumes.
	s.send(&dap.SetBreakpointsRequest{Request: req("setBreakpoints"), Arguments: dap.SetBreakpointsArguments{
		Source: s.source(), Breakpoints: []dap.SourceBreakpoint{{Line: afterPause}},
	}}, until())
	// Let main.pause return: the program reaches the breakpoint.
	msgs := s.poke(until("stopped"))
	thread := event[*dap.StoppedEvent](msgs).Body.ThreadId
	st := s.stackTrace(thread, 0, 1)
	frame := st.Body.StackFrames[0].Id

	s.stackTrace(424242, 0, 1)
	s.scopes(424242)
	s.variables(dap.VariablesArguments{VariablesReference: 424242})
	s.evaluate(")(", "repl", frame)
	s.evaluate(")(", "watch", frame)
	s.evaluate("i", "watch", 424242)
	s.evaluate("dlv nosuchcommand", "repl", frame)
	s.evaluate("dlv config nosuchparam 1", "repl", frame)
	// Not compared: "call f(...)" (Delve injects a function call; ferret
	// does not inject calls yet).
	localsRef := s.scopes(frame).Body.Scopes[0].VariablesReference
	s.send(&dap.SetVariableRequest{Request: req("setVariable"), Arguments: dap.SetVariableArguments{
		VariablesReference: localsRef, Name: "nosuchvar", Value: "1",
	}}, until())
	s.send(&dap.SetVariableRequest{Request: req("setVariable"), Arguments: dap.SetVariableArguments{
		VariablesReference: localsRef, Name: "i", Value: `"text"`,
	}}, until())
	s.send(&dap.ExceptionInfoRequest{Request: req("exceptionInfo"), Arguments: dap.ExceptionInfoArguments{ThreadId: thread}}, until())
	s.send(&dap.ReadMemoryRequest{Request: req("readMemory"), Arguments: dap.ReadMemoryArguments{MemoryReference: "nonsense", Count: 4}}, until())
	s.send(&dap.DisassembleRequest{Request: req("disassemble"), Arguments: dap.DisassembleArguments{MemoryReference: "nonsense", InstructionCount: 4}}, until())
	// Requests Delve does not support.
	s.send(&dap.SourceRequest{Request: req("source"), Arguments: dap.SourceArguments{SourceReference: 1}}, until())
	s.send(&dap.ModulesRequest{Request: req("modules")}, until())
	s.send(&dap.CompletionsRequest{Request: req("completions"), Arguments: dap.CompletionsArguments{Text: "pr", Column: 3}}, until())
	s.send(&dap.BreakpointLocationsRequest{Request: req("breakpointLocations"), Arguments: &dap.BreakpointLocationsArguments{Source: s.source(), Line: afterPause}}, until())
	s.send(&dap.RestartFrameRequest{Request: req("restartFrame"), Arguments: dap.RestartFrameArguments{FrameId: frame}}, until())
	s.send(&dap.GotoRequest{Request: req("goto"), Arguments: dap.GotoArguments{ThreadId: thread, TargetId: 1}}, until())
	s.send(&dap.StepInTargetsRequest{Request: req("stepInTargets"), Arguments: dap.StepInTargetsArguments{FrameId: frame}}, until())
	s.send(&dap.GotoTargetsRequest{Request: req("gotoTargets"), Arguments: dap.GotoTargetsArguments{Source: s.source(), Line: afterPause}}, until())
	s.send(&dap.TerminateThreadsRequest{Request: req("terminateThreads"), Arguments: dap.TerminateThreadsArguments{ThreadIds: []int{thread}}}, until())
	s.send(&dap.SetExpressionRequest{Request: req("setExpression"), Arguments: dap.SetExpressionArguments{Expression: "i", Value: "1"}}, until())
	// Not compared: loadedSources (Delve refuses it; ferret answers it).
	s.send(&dap.CancelRequest{Request: req("cancel"), Arguments: &dap.CancelArguments{RequestId: 1}}, until())
	s.send(&dap.TerminateRequest{Request: req("terminate"), Arguments: &dap.TerminateArguments{}}, until())
	// stepBack without a recording: answered, then a stop saying why.
	s.send(&dap.StepBackRequest{Request: req("stepBack"), Arguments: dap.StepBackArguments{ThreadId: thread}}, until("continued", "stopped"))
	// A step of a goroutine that does not exist: answered, then a stop.
	s.runControl("next", 424242, until("continued", "stopped"))
	s.send(&dap.PauseRequest{Request: req("pause"), Arguments: dap.PauseArguments{ThreadId: thread}}, until())
	// Run to the end; then what needs a live process.
	s.runControl("continue", thread, until("exited", "terminated"))
	s.threads()
	s.stackTrace(thread, 0, 1)
	s.evaluate("i", "repl", 0)
	// continue after the exit: answered, and the exit told again.
	s.runControl("continue", thread, until("exited", "terminated"))
	s.disconnect(true, until("terminated", "eof"))
}

// scenarioErrorsRemote sends a headless server what it refuses: launch
// and local attach (the server already has a target), then a remote
// attach, and finally a request whose arguments do not decode, which
// makes Delve drop the connection.
func scenarioErrorsRemote(s *session) {
	s.initialize()
	s.send(&dap.LaunchRequest{Request: req("launch"), Arguments: raw(map[string]any{
		"mode": "exec", "program": s.cfg.program,
	})}, until())
	s.send(&dap.AttachRequest{Request: req("attach"), Arguments: raw(map[string]any{
		"mode": "local", "processId": 1,
	})}, until())
	s.send(&dap.AttachRequest{Request: req("attach"), Arguments: raw(map[string]any{
		"mode": "remote", "stopOnEntry": true,
	})}, until("initialized", "capabilities"))
	s.setBreakpoints(2)
	s.send(&dap.ConfigurationDoneRequest{Request: req("configurationDone")}, until("stopped"))
	s.threads()
	s.stackTrace(1, 0, 1)
	s.sendRaw(`{"seq":$SEQ,"type":"request","command":"next","arguments":{"threadId":"one"}}`, wait{noResponse: true, events: []string{"eof"}})
	// The server outlives that connection: a second client attaches to the
	// same target, still at its entry point, and ends it.
	s.reconnect()
	s.initialize()
	s.send(&dap.AttachRequest{Request: req("attach"), Arguments: raw(map[string]any{
		"mode": "remote", "stopOnEntry": false,
	})}, until("initialized", "capabilities"))
	s.setBreakpoints(s.line("// breakpoint here"))
	s.send(&dap.ConfigurationDoneRequest{Request: req("configurationDone")}, until("stopped"))
	s.stackTrace(1, 0, 1)
	s.disconnect(true, until("terminated", "eof"))
}
