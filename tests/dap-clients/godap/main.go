// Command godap is a scripted Debug Adapter Protocol client built on
// github.com/google/go-dap, the codec Delve's own DAP server uses. It
// connects to a DAP server (`dlv dap`, a headless `dlv exec`, or ferret
// serving the same), runs one named scenario against the `vars` fixture and
// prints one JSON document: every request it sent and, for each, the
// messages it received until the next request went out, normalized so that
// two runs against equal servers print equal documents.
//
// Usage:
//
//	godap --addr 127.0.0.1:PORT --scenario launch --program BIN --src DIR \
//	      [--goroot DIR] [--goversion go1.26.8] [--raw] [--timeout 10s]
//
// Scenarios (scenarios.go): launch and errors need a `dap` server (one
// client, launch requests); remote and errors-remote need a headless
// multiclient server already debugging --program.
//
// # Steps and ordering
//
// A scenario is a list of steps. A step sends one request (or, for a few
// steps, something else: a raw message, or a byte to the debuggee's stdin)
// and then reads until its completion condition holds: the response to that
// request, plus every event the step names (e.g. `stopped` after `next`,
// `terminated` after the program exits, `eof` when the server must close the
// connection). Everything read from sending the request until the condition
// holds belongs to that step, in arrival order. Steps name every message the
// server sends last for them, so nothing arrives after the condition and
// the split is the same run after run.
//
// # Normalization (unless --raw)
//
//   - `seq` is dropped from every received message (Delve numbers a response
//     before the events it sends ahead of it, so seq is not even monotonic on
//     the wire); `request_seq` is kept: the client numbers requests 1, 2, ...
//   - `systemProcessId` becomes "<pid>"; "(Thread N)" becomes
//     "(Thread <tid>)"; "Process N" becomes "Process <pid>".
//   - The program path, the fixture's source dir, GOROOT, the server's
//     address and the Go version string become <PROGRAM>, <SRC>, <GOROOT>,
//     <ADDR> and <GOVERSION>.
//   - Hex numbers that are neither small (below 0x10000), nor inside the
//     program's loaded ELF segments (text, rodata, data, bss: the same in
//     every run of the one binary both servers debug), nor the hex half of
//     Delve's "DEC = 0xHEX" rendering of an unsigned integer, are addresses
//     of the heap, goroutine stacks or mmaps, which differ from run to run
//     (Go 1.26 and later randomize the heap's base). They become
//     "<addr:N>", N counting distinct addresses in order of first appearance
//     in the document, so two values that held the same address still do.
//     Disassembled instructions keep their hex numbers (constants and
//     pc-relative offsets of code that does not move).
//   - A message go-dap cannot decode keeps its JSON and gains "_godap_error"
//     with the codec's complaint: a real go-dap client would choke on it.
//
// Everything else is kept: names, values, types, reasons, error ids and
// texts, handle numbers, line numbers, key presence.
package main

import (
	"bufio"
	"bytes"
	"debug/elf"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-dap"
)

// config is what the command line says.
type config struct {
	addr      string
	scenario  string
	program   string
	src       string
	goroot    string
	goversion string
	raw       bool
	timeout   time.Duration
}

func main() {
	var cfg config
	flag.StringVar(&cfg.addr, "addr", "", "the DAP server's host:port")
	flag.StringVar(&cfg.scenario, "scenario", "", "launch | remote | errors | errors-remote")
	flag.StringVar(&cfg.program, "program", "", "the vars fixture's executable")
	flag.StringVar(&cfg.src, "src", "", "the vars fixture's source directory")
	flag.StringVar(&cfg.goroot, "goroot", "", "GOROOT of the toolchain that built --program")
	flag.StringVar(&cfg.goversion, "goversion", "", "that toolchain's version, e.g. go1.26.8")
	flag.BoolVar(&cfg.raw, "raw", false, "print messages as received, without normalization")
	flag.DurationVar(&cfg.timeout, "timeout", 10*time.Second, "how long one step may wait")
	flag.Parse()
	if cfg.addr == "" || cfg.program == "" || cfg.src == "" {
		fmt.Fprintln(os.Stderr, "godap: --addr, --program and --src are required")
		os.Exit(2)
	}
	run, ok := scenarios[cfg.scenario]
	if !ok {
		names := make([]string, 0, len(scenarios))
		for name := range scenarios {
			names = append(names, name)
		}
		sort.Strings(names)
		fmt.Fprintf(os.Stderr, "godap: unknown scenario %q (have %s)\n", cfg.scenario, strings.Join(names, ", "))
		os.Exit(2)
	}
	conn, err := net.DialTimeout("tcp", cfg.addr, cfg.timeout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "godap:", err)
		os.Exit(1)
	}
	s := newSession(cfg, conn)
	result := "ok"
	func() {
		defer func() {
			if r := recover(); r != nil {
				if a, ok := r.(abort); ok {
					result = string(a)
					return
				}
				// A response the script needed was missing or not of
				// the expected shape (a nil dereference, usually): the
				// document still shows everything up to there.
				result = fmt.Sprintf("scenario stopped at step %d: %v", len(s.steps), r)
			}
		}()
		run(s)
	}()
	s.conn.Close()
	for _, f := range s.cleanup {
		f()
	}
	doc := map[string]any{
		"scenario": cfg.scenario,
		"steps":    s.steps,
		"result":   result,
	}
	out, err := json.MarshalIndent(doc, "", " ")
	if err != nil {
		fmt.Fprintln(os.Stderr, "godap:", err)
		os.Exit(1)
	}
	os.Stdout.Write(append(out, '\n'))
}

// abort ends a scenario early; the document says why in "result".
type abort string

// incoming is one thing the reader saw: a message, or the end of the stream.
type incoming struct {
	raw []byte
	err error
}

// message is one received message: its JSON as a generic value (numbers
// kept as written) and what go-dap's codec made of it.
type message struct {
	json    map[string]any
	decoded dap.Message
	decErr  error
	eof     bool
}

// session is one connection and the steps recorded on it.
type session struct {
	cfg   config
	conn  net.Conn
	in    chan incoming
	seq   int
	steps []map[string]any
	norm  *normalizer
	// fifo, when a scenario made one, is the write end of the debuggee's stdin.
	fifo *os.File
	eof  bool
	// cleanup runs when the scenario is over (the FIFO's directory).
	cleanup []func()
}

func newSession(cfg config, conn net.Conn) *session {
	s := &session{cfg: cfg, norm: newNormalizer(cfg)}
	s.attach(conn)
	return s
}

// attach makes conn the session's connection and starts reading it.
func (s *session) attach(conn net.Conn) {
	in := make(chan incoming, 1024)
	s.conn, s.in, s.eof = conn, in, false
	go func() {
		r := bufio.NewReader(conn)
		for {
			raw, err := dap.ReadBaseMessage(r)
			if err != nil {
				in <- incoming{err: err}
				close(in)
				return
			}
			in <- incoming{raw: raw}
		}
	}()
}

// reconnect closes the connection and opens a new one to the same
// server (a second client of a multiclient server), recording a step.
func (s *session) reconnect() {
	s.conn.Close()
	conn, err := net.DialTimeout("tcp", s.cfg.addr, s.cfg.timeout)
	step := map[string]any{"action": "connect again", "received": []any{}}
	s.steps = append(s.steps, step)
	if err != nil {
		step["received"] = []any{map[string]any{"_closed": "connect: " + err.Error()}}
		panic(abort("connecting again: " + err.Error()))
	}
	s.attach(conn)
}

// wait says what completes a step: the response to the step's request
// (unless noResponse) and, in any order, one of each named event; "eof"
// names the server closing the connection.
type wait struct {
	noResponse bool
	events     []string
}

// until builds a wait for the response and the named events.
func until(events ...string) wait { return wait{events: events} }

// send sends a typed go-dap request, numbering it, and records the step.
func (s *session) send(req dap.RequestMessage, w wait) []message {
	s.seq++
	r := req.GetRequest()
	r.Seq = s.seq
	r.Type = "request"
	body, err := json.Marshal(req)
	if err != nil {
		panic(err)
	}
	return s.exchange(body, w, false)
}

// sendRaw sends body as is (after replacing "$SEQ" with the next seq),
// for messages go-dap would not produce.
func (s *session) sendRaw(body string, w wait) []message {
	s.seq++
	body = strings.ReplaceAll(body, "$SEQ", strconv.Itoa(s.seq))
	return s.exchange([]byte(body), w, true)
}

// poke writes a byte to the debuggee's stdin (the scenario's FIFO) and
// records what the server sends until w holds.
func (s *session) poke(w wait) []message {
	if _, err := s.fifo.Write([]byte("\n")); err != nil {
		panic(abort("writing the debuggee's stdin: " + err.Error()))
	}
	w.noResponse = true
	return s.record(map[string]any{"action": "write a line to the debuggee's stdin"}, w)
}

func (s *session) exchange(body []byte, w wait, raw bool) []message {
	var sent map[string]any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&sent); err != nil {
		panic(err)
	}
	if err := dap.WriteBaseMessage(s.conn, body); err != nil {
		panic(abort("writing request " + strconv.Itoa(s.seq) + ": " + err.Error()))
	}
	// The request as recorded: what was sent, seq included (the client's
	// numbering is part of the script), paths normalized.
	step := map[string]any{"request": s.norm.value(sent, "")}
	if raw {
		step["raw"] = true
	}
	return s.record(step, w)
}

// record reads until w holds, appending the step to the document.
func (s *session) record(step map[string]any, w wait) []message {
	var got []message
	var received []any
	s.steps = append(s.steps, step)
	defer func() { step["received"] = received }()

	needResponse := !w.noResponse
	needEvents := map[string]int{}
	for _, e := range w.events {
		needEvents[e]++
	}
	pending := func() []string {
		var out []string
		if needResponse {
			out = append(out, "response")
		}
		for e, n := range needEvents {
			for i := 0; i < n; i++ {
				out = append(out, e)
			}
		}
		sort.Strings(out)
		return out
	}
	deadline := time.NewTimer(s.cfg.timeout)
	defer deadline.Stop()
	for needResponse || len(needEvents) > 0 {
		if s.eof {
			received = append(received, map[string]any{"_timeout": pending()})
			panic(abort(fmt.Sprintf("step %d: the connection is closed; still waiting for %v", len(s.steps), pending())))
		}
		var item incoming
		var ok bool
		select {
		case item, ok = <-s.in:
		case <-deadline.C:
			received = append(received, map[string]any{"_timeout": pending()})
			panic(abort(fmt.Sprintf("step %d: no %v within %v", len(s.steps), pending(), s.cfg.timeout)))
		}
		if !ok || item.err != nil {
			s.eof = true
			what := "eof"
			if ok && item.err != io.EOF && !isClosed(item.err) {
				what = "eof: " + item.err.Error()
			}
			received = append(received, map[string]any{"_closed": what})
			got = append(got, message{eof: true})
			if needEvents["eof"] > 0 {
				delete(needEvents, "eof")
			}
			continue
		}
		m := message{}
		dec := json.NewDecoder(bytes.NewReader(item.raw))
		dec.UseNumber()
		if err := dec.Decode(&m.json); err != nil {
			received = append(received, map[string]any{"_unparsable": string(item.raw)})
			continue
		}
		if name, _ := m.json["event"].(string); ferretEvents[name] {
			continue // ferret's extension: not compared
		}
		m.decoded, m.decErr = dap.DecodeProtocolMessage(item.raw)
		got = append(got, m)
		received = append(received, s.norm.message(m))

		switch m.json["type"] {
		case "response":
			if needResponse && jsonInt(m.json["request_seq"]) == s.seq {
				needResponse = false
			}
		case "event":
			name, _ := m.json["event"].(string)
			if needEvents[name] > 0 {
				needEvents[name]--
				if needEvents[name] == 0 {
					delete(needEvents, name)
				}
			}
		}
	}
	return got
}

func isClosed(err error) bool {
	return err != nil && strings.Contains(err.Error(), "use of closed network connection")
}

func jsonInt(v any) int {
	if n, ok := v.(json.Number); ok {
		i, _ := n.Int64()
		return int(i)
	}
	return -1
}

// response returns the typed response among msgs, or nil (an error
// response, say).
func response[T dap.ResponseMessage](msgs []message) T {
	for _, m := range msgs {
		if r, ok := m.decoded.(T); ok {
			return r
		}
	}
	var zero T
	return zero
}

// event returns the first event of type T among msgs, or aborts.
func event[T dap.EventMessage](msgs []message) T {
	for _, m := range msgs {
		if e, ok := m.decoded.(T); ok {
			return e
		}
	}
	var zero T
	panic(abort(fmt.Sprintf("no %T among the messages received", zero)))
}

// normalizer rewrites what varies between runs; see the package comment.
type normalizer struct {
	raw      bool
	pairs    [][2]string // what to replace, longest first, and its placeholder
	addrs    map[string]string
	replacer *strings.Replacer
	image    []addrRange // the program's loaded segments
}

var (
	threadRe  = regexp.MustCompile(`\(Thread \d+\)`)
	processRe = regexp.MustCompile(`\bProcess \d+\b`)
	hexRe     = regexp.MustCompile(`0x[0-9a-fA-F]+`)
)

// smallHex is where addresses start: hex numbers below it are values.
const smallHex = 0x10000

func newNormalizer(cfg config) *normalizer {
	n := &normalizer{raw: cfg.raw, addrs: map[string]string{}}
	n.image = loadedRanges(cfg.program)
	n.addPath(cfg.program, "<PROGRAM>")
	n.addPath(strings.TrimSuffix(cfg.src, "/"), "<SRC>")
	n.addPath(strings.TrimSuffix(cfg.goroot, "/"), "<GOROOT>")
	n.addPath(cfg.addr, "<ADDR>")
	n.addPath(cfg.goversion, "<GOVERSION>")
	return n
}

// addPath makes every occurrence of old read placeholder (longer texts
// are replaced first, so a path inside another keeps the longer name).
func (n *normalizer) addPath(old, placeholder string) {
	if old == "" {
		return
	}
	n.pairs = append(n.pairs, [2]string{old, placeholder})
	sort.SliceStable(n.pairs, func(i, j int) bool { return len(n.pairs[i][0]) > len(n.pairs[j][0]) })
	var args []string
	for _, p := range n.pairs {
		args = append(args, p[0], p[1])
	}
	n.replacer = strings.NewReplacer(args...)
}

// message normalizes one received message.
func (n *normalizer) message(m message) any {
	out := n.value(m.json, "").(map[string]any)
	if !n.raw {
		delete(out, "seq")
		if out["type"] == "response" && out["command"] == "initialize" {
			// Capabilities ferret adds beyond Delve's (its extensions) are
			// not compared.
			if body, ok := out["body"].(map[string]any); ok {
				for _, extension := range ferretExtensions {
					delete(body, extension)
				}
			}
		}
		if out["type"] == "response" && out["command"] == "threads" {
			if body, ok := out["body"].(map[string]any); ok {
				if threads, ok := body["threads"].([]any); ok {
					body["threads"] = normalizeThreads(threads)
				}
			}
		}
		sortMaps(out)
	}
	if m.decErr != nil {
		out["_godap_error"] = m.decErr.Error()
	}
	return out
}

// ferretExtensions are the capabilities ferret announces that Delve does
// not (requests it answers beyond Delve).
var ferretExtensions = []string{"supportsLoadedSourcesRequest"}

// ferretEvents are the events ferret sends that Delve does not: progress
// reports of long operations, for clients that asked for them.
var ferretEvents = map[string]bool{"progressStart": true, "progressUpdate": true, "progressEnd": true}

// runtimeGoroutine matches the name Delve gives a goroutine that is not
// selected and stands in the runtime: "[Go 17] runtime.gopark".
var runtimeGoroutine = regexp.MustCompile(`^\[Go \d+\] runtime\.`)

// normalizeThreads sorts threads by id and replaces the runtime's own
// goroutines (which ones exist, and where they wait, depends on when the
// garbage collector last ran) with one entry saying there were some.
func normalizeThreads(threads []any) []any {
	var kept []any
	runtime := 0
	for _, t := range threads {
		if obj, ok := t.(map[string]any); ok {
			if name, _ := obj["name"].(string); runtimeGoroutine.MatchString(name) {
				runtime++
				continue
			}
		}
		kept = append(kept, t)
	}
	sort.SliceStable(kept, func(i, j int) bool { return threadID(kept[i]) < threadID(kept[j]) })
	if runtime > 0 {
		kept = append(kept, map[string]any{"_runtime_goroutines": "elided"})
	}
	if kept == nil {
		kept = []any{}
	}
	return kept
}

func threadID(t any) int {
	if obj, ok := t.(map[string]any); ok {
		return jsonInt(obj["id"])
	}
	return 0
}

// sortMaps puts Go maps in an order that does not depend on the process's
// hash seed: a map's value text lists its entries sorted (or, when Delve
// shows only some, says so instead of listing them), and in a list of
// variables the entries of a map (whose type reads "K: V") are sorted by
// name.
func sortMaps(v any) {
	switch v := v.(type) {
	case map[string]any:
		typ, _ := v["type"].(string)
		if strings.HasPrefix(typ, "map[") {
			for _, key := range []string{"value", "result"} {
				if text, ok := v[key].(string); ok {
					v[key] = sortMapText(typ, text)
				}
			}
		}
		for _, child := range v {
			sortMaps(child)
		}
		if vars, ok := v["variables"].([]any); ok {
			sortMapEntries(vars)
		}
	case []any:
		for _, child := range v {
			sortMaps(child)
		}
	}
}

// sortMapEntries sorts each run of map entries in a variables list by name.
func sortMapEntries(vars []any) {
	isEntry := func(i int) bool {
		obj, ok := vars[i].(map[string]any)
		if !ok {
			return false
		}
		typ, _ := obj["type"].(string)
		return strings.Contains(typ, ": ")
	}
	name := func(x any) string {
		obj, _ := x.(map[string]any)
		s, _ := obj["name"].(string)
		return s
	}
	for i := 0; i < len(vars); {
		if !isEntry(i) {
			i++
			continue
		}
		j := i
		for j < len(vars) && isEntry(j) {
			j++
		}
		run := vars[i:j]
		sort.SliceStable(run, func(a, b int) bool { return name(run[a]) < name(run[b]) })
		i = j
	}
}

// sortMapText rewrites `map[K]V [k1: v1, k2: v2, ]` with its entries
// sorted; when the text was cut short ("...") the entries shown are a
// hash-order prefix, so they are replaced by a note.
func sortMapText(typ, text string) string {
	rest, ok := strings.CutPrefix(text, typ+" [")
	if !ok || !strings.HasSuffix(rest, "]") && !strings.HasSuffix(rest, "...") {
		return text
	}
	if strings.HasSuffix(rest, "...") || strings.Contains(rest, "...+") {
		return typ + " [<entries in hash order>...]"
	}
	body := strings.TrimSuffix(rest, "]")
	trailing := strings.HasSuffix(body, ", ")
	body = strings.TrimSuffix(body, ", ")
	entries := splitTopLevel(body)
	sort.Strings(entries)
	out := typ + " [" + strings.Join(entries, ", ")
	if trailing {
		out += ", "
	}
	return out + "]"
}

// splitTopLevel splits s at the ", " that are outside quotes and brackets.
func splitTopLevel(s string) []string {
	if s == "" {
		return nil
	}
	var parts []string
	depth, start := 0, 0
	inQuote := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case inQuote && c == '\\':
			i++
		case c == '"':
			inQuote = !inQuote
		case inQuote:
		case c == '[' || c == '{' || c == '(':
			depth++
		case c == ']' || c == '}' || c == ')':
			depth--
		case depth == 0 && c == ',' && i+1 < len(s) && s[i+1] == ' ':
			parts = append(parts, s[start:i])
			start = i + 2
			i++
		}
	}
	return append(parts, s[start:])
}

// value normalizes v, found under key.
func (n *normalizer) value(v any, key string) any {
	if n.raw {
		return v
	}
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		// Visit keys in order so "<addr:N>" numbering follows the text.
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			out[k] = n.value(v[k], k)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i := range v {
			out[i] = n.value(v[i], key)
		}
		return out
	case json.Number:
		if key == "systemProcessId" {
			return "<pid>"
		}
		return v
	case string:
		if key == "instruction" {
			// Disassembly: the code of the one binary, whose constants
			// and pc-relative offsets are the same in every run.
			return n.replacer.Replace(v)
		}
		return n.text(v)
	default:
		return v
	}
}

// text normalizes a string.
func (n *normalizer) text(s string) string {
	s = n.replacer.Replace(s)
	s = threadRe.ReplaceAllString(s, "(Thread <tid>)")
	s = processRe.ReplaceAllString(s, "Process <pid>")
	var out strings.Builder
	last := 0
	for _, m := range hexRe.FindAllStringIndex(s, -1) {
		h := s[m[0]:m[1]]
		out.WriteString(s[last:m[0]])
		last = m[1]
		v, err := strconv.ParseUint(h[2:], 16, 64)
		if err != nil || v < smallHex || n.inImage(v) || isDecimalOf(s[:m[0]], v) {
			out.WriteString(h)
			continue
		}
		key := strings.ToLower(h)
		p, ok := n.addrs[key]
		if !ok {
			p = fmt.Sprintf("<addr:%d>", len(n.addrs)+1)
			n.addrs[key] = p
		}
		out.WriteString(p)
	}
	out.WriteString(s[last:])
	return out.String()
}

// isDecimalOf says whether before ends with "DEC = " where DEC is v: Delve
// shows unsigned integers as "4000000000 = 0xee6b2800".
func isDecimalOf(before string, v uint64) bool {
	rest, ok := strings.CutSuffix(before, " = ")
	if !ok {
		return false
	}
	i := len(rest)
	for i > 0 && rest[i-1] >= '0' && rest[i-1] <= '9' {
		i--
	}
	d, err := strconv.ParseUint(rest[i:], 10, 64)
	return err == nil && d == v
}

// addrRange is one loaded segment, [lo, hi).
type addrRange struct{ lo, hi uint64 }

// loadedRanges lists the PT_LOAD segments of the ELF file at path.
func loadedRanges(path string) []addrRange {
	f, err := elf.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []addrRange
	for _, p := range f.Progs {
		if p.Type == elf.PT_LOAD {
			out = append(out, addrRange{p.Vaddr, p.Vaddr + p.Memsz})
		}
	}
	return out
}

func (n *normalizer) inImage(v uint64) bool {
	for _, r := range n.image {
		if v >= r.lo && v < r.hi {
			return true
		}
	}
	return false
}
