#!/usr/bin/env node
// Drives a DAP server (ferret, or dlv as the reference) through one whole
// debug session with Microsoft's own DAP test client, DebugClient from
// @vscode/debugadapter-testsupport, and checks what a user of an editor
// would see: stop reasons, lines, function names, variable values.
//
//   node session.js --port N --request launch|attach --session vars|panic \
//        --program EXE --source MAIN_GO [--program-arg ARG]... [--config JSON_FILE]
//        [--go-version goX.Y.Z] [--trace]
//
// --request launch sends {mode: "exec", program} (what `dlv dap` and
// `ferret dap` accept); --request attach sends {mode: "remote"} (what a
// headless `dlv exec`/`ferret exec ... --headless --accept-multiclient`
// accepts on its shared port; the program is already loaded there, and
// its arguments were given to the server).
//
// Sessions (expected values come from the fixture's source and from what
// the program prints when run on its own):
// - vars (tests/fixtures/vars): a conditional breakpoint in a loop stops
//   once, where the condition holds; a log point prints without stopping;
//   at the "breakpoint here" line: threads, stackTrace, scopes, variables
//   of every kind (paged too), evaluate in each context (and one failing),
//   next, stepIn, stepOut, continue to the exit (exited + terminated).
// - panic (tests/fixtures/panics, run with the argument "string"): the
//   unrecovered-panic exception breakpoint stops with reason "exception";
//   exceptionInfo names the panic; continue lets it exit with status 2.
//
// Every step is printed; the exit status is 0 only when every check
// passed. --trace also prints every protocol message.
'use strict';

const assert = require('assert');
const childProcess = require('child_process');
const fs = require('fs');
const path = require('path');
const { DebugClient } = require('@vscode/debugadapter-testsupport');

// ---- command line ------------------------------------------------------

function parseArgs(argv) {
    const opts = { programArgs: [], trace: false, timeout: 60 };
    for (let i = 0; i < argv.length; i++) {
        const arg = argv[i];
        const value = () => {
            if (i + 1 >= argv.length) {
                usage(`${arg} needs a value`);
            }
            return argv[++i];
        };
        switch (arg) {
            case '--port': opts.port = Number(value()); break;
            case '--request': opts.request = value(); break;
            case '--session': opts.session = value(); break;
            case '--program': opts.program = value(); break;
            case '--source': opts.source = value(); break;
            case '--program-arg': opts.programArgs.push(value()); break;
            case '--go-version': opts.goVersion = value(); break;
            case '--config': opts.config = JSON.parse(fs.readFileSync(value(), 'utf8')); break;
            case '--timeout': opts.timeout = Number(value()); break;
            case '--trace': opts.trace = true; break;
            default: usage(`unknown argument ${arg}`);
        }
    }
    if (!Number.isInteger(opts.port) || opts.port <= 0) usage('--port N is required');
    if (!['launch', 'attach'].includes(opts.request)) usage('--request launch|attach is required');
    if (!['vars', 'panic'].includes(opts.session)) usage('--session vars|panic is required');
    if (!opts.program || !opts.source) usage('--program and --source are required');
    return opts;
}

function usage(message) {
    console.error(`session.js: ${message}`);
    console.error('usage: node session.js --port N --request launch|attach --session vars|panic ' +
        '--program EXE --source MAIN_GO [--program-arg ARG]... [--timeout SECONDS] [--trace]');
    process.exit(2);
}

const opts = parseArgs(process.argv.slice(2));

// The minor version of the Go that built the program (`--go-version
// go1.26.8`; the newest when not given).
function goMinor() {
    const m = /^go1\.(\d+)/.exec(opts.goVersion || '');
    return m ? Number(m[1]) : Infinity;
}
const STEP_TIMEOUT_MS = 15000;

// ---- the client and a record of every message --------------------------

const dc = new DebugClient('node', '', 'go');
const messages = [];      // every message, both ways, in order
const events = [];        // received events, in order
const responses = new Map(); // request seq -> response
const eventWaiters = [];

// DebugClient keeps no record of the wire; wrap its two private ends (the
// public API stays what tests use) so the checks can see event order and
// the body of failed responses, and --trace can print everything.
const originalDispatch = dc.dispatch.bind(dc);
dc.dispatch = (body) => {
    const msg = JSON.parse(body);
    messages.push({ dir: '<', msg });
    if (opts.trace) console.log(`    < ${body}`);
    if (msg.type === 'event') {
        events.push(msg);
        for (const waiter of [...eventWaiters]) waiter(msg);
    } else if (msg.type === 'response') {
        responses.set(msg.request_seq, msg);
    }
    originalDispatch(body);
};
const originalDoSend = dc.doSend.bind(dc);
dc.doSend = (command, args, clb) => {
    const seq = dc.sequence;
    const msg = { seq, type: 'request', command };
    if (args && Object.keys(args).length > 0) msg.arguments = args;
    messages.push({ dir: '>', msg });
    if (opts.trace) console.log(`    > ${JSON.stringify(msg)}`);
    lastRequestSeq = seq;
    originalDoSend(command, args, clb);
};
let lastRequestSeq = 0;

function withTimeout(promise, what, ms = STEP_TIMEOUT_MS) {
    let timer;
    const timeout = new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
    });
    return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// Sends `command` and returns its (successful) response; a failed response
// throws an Error carrying the whole response as `.response`.
async function request(command, args) {
    const method = dc[`${command}Request`];
    const promise = method ? method.call(dc, args) : dc.customRequest(command, args);
    const seq = lastRequestSeq;
    try {
        return await withTimeout(promise, `the response to ${command}`);
    } catch (err) {
        err.response = responses.get(seq);
        throw err;
    }
}

// Sends `command` expecting it to fail; returns the failed response.
async function requestFailing(command, args) {
    try {
        const response = await request(command, args);
        assert.fail(`${command} ${JSON.stringify(args)} succeeded: ${JSON.stringify(response.body)}`);
    } catch (err) {
        if (err instanceof assert.AssertionError) throw err;
        assert.ok(err.response, `${command} failed without a response: ${err.message}`);
        return err.response;
    }
}

// A position in the event stream, to wait for events that come after it.
function mark() {
    return events.length;
}

// The first event named `name` (and matching `pred`) received at or after
// position `from`, waiting for it if needed.
function waitEvent(name, from, pred = () => true, ms = STEP_TIMEOUT_MS) {
    const match = (e) => e.event === name && pred(e);
    const found = events.slice(from).find(match);
    if (found) return Promise.resolve(found);
    let waiter;
    const promise = new Promise((resolve) => {
        waiter = (e) => { if (match(e)) resolve(e); };
        eventWaiters.push(waiter);
    });
    return withTimeout(promise, `a '${name}' event`, ms)
        .finally(() => eventWaiters.splice(eventWaiters.indexOf(waiter), 1));
}

// The events received since `from`, by name (for order checks and output).
function eventNamesSince(from) {
    return events.slice(from).map((e) => e.event);
}

// The messages exchanged since index `from` of `messages`, in one line
// each: what arrived in which order.
function orderSince(from) {
    return messages.slice(from).map(({ dir, msg }) => {
        if (msg.type === 'event') return `${dir} event ${msg.event}`;
        if (msg.type === 'response') return `${dir} response ${msg.command}${msg.success ? '' : ' (failed)'}`;
        return `${dir} ${msg.command}`;
    });
}

// ---- steps and checks --------------------------------------------------

let checks = 0;
let stepNumber = 0;
let stepName = 'connect';
const started = Date.now();

function check(condition, message) {
    checks++;
    assert.ok(condition, message);
}

function checkEqual(actual, expected, message) {
    checks++;
    assert.deepStrictEqual(actual, expected, message);
}

async function step(name, body) {
    stepNumber++;
    stepName = name;
    const t0 = Date.now();
    const before = checks;
    const result = await body();
    const note = result && typeof result === 'string' ? `: ${result}` : '';
    console.log(`ok ${String(stepNumber).padStart(2)} ${name} (${checks - before} checks, ${Date.now() - t0} ms)${note}`);
    return result;
}

// ---- fixture facts -----------------------------------------------------

const sourceText = fs.readFileSync(opts.source, 'utf8');
const sourceLines = sourceText.split('\n');

// The 1-based line of the only line of the source containing `marker`.
function lineOf(marker) {
    const hits = [];
    sourceLines.forEach((line, i) => { if (line.includes(marker)) hits.push(i + 1); });
    if (hits.length !== 1) {
        throw new Error(`${opts.source}: ${hits.length} lines contain ${JSON.stringify(marker)}`);
    }
    return hits[0];
}

// The `name=value` pairs the vars fixture prints when run on its own (no
// debugger): values as fmt printed them.
function printedByProgram() {
    const out = childProcess.execFileSync(opts.program, opts.programArgs, {
        encoding: 'utf8',
        timeout: 20000,
        env: { ...process.env, VARS_PAUSE: '' },
    });
    const printed = new Map();
    for (let line of out.split('\n')) {
        line = line.replace(/^inspect: /, '');
        if (!line.includes('=')) continue;
        // A value runs to the next " name=" (names: letters, digits, [].()).
        const parts = line.split(/ (?=[\w.()[\]]+=)/);
        for (const part of parts) {
            const eq = part.indexOf('=');
            printed.set(part.slice(0, eq), part.slice(eq + 1));
        }
    }
    return printed;
}

// ---- session pieces shared by both fixtures ----------------------------

let capabilities = {};

async function initialize() {
    await step('initialize', async () => {
        // What VS Code sends, less the reverse requests this client cannot
        // answer (runInTerminal, startDebugging).
        const response = await request('initialize', {
            clientID: 'debugclient',
            clientName: '@vscode/debugadapter-testsupport DebugClient',
            adapterID: 'go',
            locale: 'en',
            linesStartAt1: true,
            columnsStartAt1: true,
            pathFormat: 'path',
            supportsVariableType: true,
            supportsVariablePaging: true,
            supportsMemoryReferences: true,
        });
        capabilities = response.body || {};
        for (const cap of ['supportsConfigurationDoneRequest', 'supportsConditionalBreakpoints',
            'supportsLogPoints', 'supportsEvaluateForHovers', 'supportsClipboardContext',
            'supportsExceptionInfoRequest', 'supportsFunctionBreakpoints', 'supportsSetVariable']) {
            check(capabilities[cap] === true, `initialize: ${cap} is not true: ${JSON.stringify(capabilities)}`);
        }
        const filters = (capabilities.exceptionBreakpointFilters || []).map((f) => f.filter);
        checkEqual(filters, ['unrecovered-panic', 'runtime-fatal-throw'], 'initialize: exceptionBreakpointFilters');
        return `filters ${filters.join(', ')}`;
    });
}

// The launch or attach arguments: what an editor's configuration sends
// (VS Code adds name/type/request; a server must ignore keys it does not
// know).
function startArguments(extra) {
    if (opts.config) {
        // A configuration from docs/clients.md: sent as written, with the
        // program (and its arguments) the test runs.
        const args = { ...opts.config, ...extra };
        if (opts.request === 'launch') {
            args.program = opts.program;
            if (opts.programArgs.length) args.args = opts.programArgs;
        }
        return args;
    }
    if (opts.request === 'launch') {
        const args = {
            name: 'Launch (ferret DAP test)',
            type: 'go',
            request: 'launch',
            mode: 'exec',
            program: opts.program,
            stopOnEntry: false,
            ...extra,
        };
        if (opts.programArgs.length) args.args = opts.programArgs;
        return args;
    }
    const dir = path.dirname(opts.source);
    return {
        name: 'Attach to headless server (ferret DAP test)',
        type: 'go',
        request: 'attach',
        mode: 'remote',
        substitutePath: [{ from: dir, to: dir }],
        stopOnEntry: false,
        ...extra,
    };
}

async function launchOrAttach(extra) {
    const from = mark();
    const at = messages.length;
    await step(`${opts.request} (${opts.request === 'launch' ? 'mode exec' : 'mode remote'})`, async () => {
        await request(opts.request, startArguments(extra));
        await waitEvent('initialized', from);
        if (opts.request === 'launch') {
            const processEvent = events.slice(from).find((e) => e.event === 'process');
            check(processEvent, `launch: no 'process' event (got ${eventNamesSince(from)})`);
            // For the harness, which kills what is left when a test ends.
            console.log(`debuggee pid: ${processEvent.body.systemProcessId}`);
            // dlv names the process by its command line.
            checkEqual(processEvent.body.name, [opts.program, ...opts.programArgs].join(' '), 'process event: name');
            check(processEvent.body.systemProcessId > 0, 'process event: systemProcessId');
            check(processEvent.body.isLocalProcess === true, 'process event: isLocalProcess');
            checkEqual(processEvent.body.startMethod, 'launch', 'process event: startMethod');
        } else {
            // A multiclient server lets a client end the debuggee on disconnect.
            const caps = events.slice(from).find((e) => e.event === 'capabilities');
            check(caps && caps.body.capabilities.supportTerminateDebuggee === true,
                `attach: no 'capabilities' event with supportTerminateDebuggee (got ${eventNamesSince(from)})`);
        }
        return `order: ${orderSince(at).join(', ')}`;
    });
}

async function configurationDone() {
    const from = mark();
    const at = messages.length;
    await step('configurationDone', async () => {
        await request('configurationDone');
        return `order: ${orderSince(at).join(', ')}`;
    });
    return from;
}

// Waits for the `stopped` event after `from`, checks its reason, and
// returns it with the top frames of its thread.
async function stoppedAt(from, reason, what) {
    const stopped = await waitEvent('stopped', from);
    checkEqual(stopped.body.reason, reason, `${what}: stop reason (event ${JSON.stringify(stopped.body)})`);
    check(Number.isInteger(stopped.body.threadId), `${what}: stopped event without threadId`);
    check(stopped.body.allThreadsStopped === true, `${what}: allThreadsStopped`);
    const stack = await request('stackTrace', { threadId: stopped.body.threadId, startFrame: 0, levels: 20 });
    const frames = stack.body.stackFrames;
    check(frames.length > 0, `${what}: empty stack`);
    return { stopped, frames, stack: stack.body };
}

function checkFrame(frame, name, line, what) {
    checkEqual(frame.name, name, `${what}: function`);
    checkEqual(frame.line, line, `${what}: line in ${frame.name}`);
    checkEqual(frame.source && frame.source.path, opts.source, `${what}: source path`);
}

async function expectExit(from, exitCode, what) {
    const exited = await waitEvent('exited', from);
    checkEqual(exited.body.exitCode, exitCode, `${what}: exit code`);
    await waitEvent('terminated', from);
    const names = eventNamesSince(from);
    check(names.indexOf('exited') < names.indexOf('terminated'), `${what}: 'exited' after 'terminated': ${names}`);
    // Nothing stopped on the way out.
    check(!names.includes('stopped'), `${what}: stopped before exiting: ${names}`);
    return names;
}

async function disconnect() {
    await step('disconnect', async () => {
        const at = messages.length;
        const from = mark();
        // A headless server is told to end the (already exited) debuggee,
        // so that it exits too; `dap` servers end with their only client.
        const args = opts.request === 'attach' ? { restart: false, terminateDebuggee: true } : { restart: false };
        await request('disconnect', args);
        await waitEvent('terminated', from);
        const said = events.slice(from).filter((e) => e.event === 'output').map((e) => JSON.stringify(e.body.output));
        return `order: ${orderSince(at).join(', ')}; output ${said.join(', ')}`;
    });
}

// ---- variables ---------------------------------------------------------

async function variables(ref, what, extra = {}) {
    check(ref > 0, `${what}: no variablesReference`);
    const response = await request('variables', { variablesReference: ref, ...extra });
    return response.body.variables;
}

async function childrenByName(ref, what, extra) {
    const list = await variables(ref, what, extra);
    const byName = new Map();
    for (const v of list) {
        check(!byName.has(v.name), `${what}: two children named ${JSON.stringify(v.name)}`);
        byName.set(v.name, v);
    }
    return byName;
}

// Checks the children `expected` ({name: value} or {name: {value, type}})
// of variable reference `ref` (other children may exist only if `exact`
// is false).
async function checkChildren(ref, expected, what, exact = true) {
    const children = await childrenByName(ref, what);
    if (exact) {
        checkEqual([...children.keys()].sort(), Object.keys(expected).sort(), `${what}: children`);
    }
    for (const [name, want] of Object.entries(expected)) {
        const child = children.get(name);
        check(child, `${what}: no child ${JSON.stringify(name)} among ${[...children.keys()]}`);
        checkValue(child, want, `${what}.${name}`);
    }
    return children;
}

// `want`: a string (the exact value), a RegExp, or {value, type, ...}.
function checkValue(variable, want, what) {
    if (typeof want === 'string' || want instanceof RegExp) want = { value: want };
    if (want.value instanceof RegExp) {
        check(want.value.test(variable.value), `${what}: value ${JSON.stringify(variable.value)} does not match ${want.value}`);
    } else if (want.value !== undefined) {
        checkEqual(variable.value, want.value, `${what}: value`);
    }
    if (want.type !== undefined) checkEqual(variable.type, want.type, `${what}: type`);
    if (want.leaf) checkEqual(variable.variablesReference, 0, `${what}: has children`);
    if (want.indexed !== undefined) checkEqual(variable.indexedVariables, want.indexed, `${what}: indexedVariables`);
}

// The value of an unsigned integer as dlv shows it: "N = 0xHEX".
function unsigned(decimal) {
    return `${decimal} = 0x${BigInt(decimal).toString(16)}`;
}

// fmt's "(1-2i)" as dlv shows a complex number: "(1 + -2i)".
function complexValue(printed) {
    const m = /^\(([-+]?[\d.e+-]+?)([-+][\d.e+-]+)i\)$/.exec(printed);
    assert.ok(m, `cannot read complex ${printed}`);
    return { text: `(${Number(m[1])} + ${Number(m[2])}i)`, real: String(Number(m[1])), imag: String(Number(m[2])) };
}

// Every local of main.main at the "breakpoint here" line, by kind: the
// value a user sees, its type, and what expanding it shows.
function mainLocals(printed) {
    const p = (name) => {
        assert.ok(printed.has(name), `the program printed no ${name}=`);
        return printed.get(name);
    };
    const c64 = complexValue(p('c64'));
    const c128 = complexValue(p('c128'));
    const point12 = 'main.Point {X: 1, Y: 2}';
    return {
        // Booleans and numbers: as the program printed them.
        b: { value: p('b'), type: 'bool', leaf: true },
        i: { value: p('i'), type: 'int', leaf: true },
        i8: { value: p('i8'), type: 'int8', leaf: true },
        i16: { value: p('i16'), type: 'int16', leaf: true },
        i32: { value: p('i32'), type: 'int32', leaf: true },
        i64: { value: p('i64'), type: 'int64', leaf: true },
        u: { value: unsigned(p('u')), type: 'uint', leaf: true },
        u8: { value: unsigned(p('u8')), type: 'uint8', leaf: true },
        u16: { value: unsigned(p('u16')), type: 'uint16', leaf: true },
        u32: { value: unsigned(p('u32')), type: 'uint32', leaf: true },
        u64: { value: unsigned(p('u64')), type: 'uint64', leaf: true },
        uptr: { value: unsigned(BigInt(p('uptr')).toString()), type: 'uintptr', leaf: true },
        f32: { value: p('f32'), type: 'float32', leaf: true },
        f64: { value: p('f64'), type: 'float64', leaf: true },
        c64: { value: c64.text, type: 'complex64', children: { real: c64.real, imaginary: c64.imag } },
        c128: { value: c128.text, type: 'complex128', children: { real: c128.real, imaginary: c128.imag } },
        r: { value: p('r'), type: 'int32', leaf: true },
        by: { value: unsigned(p('by')), type: 'uint8', leaf: true },
        // Strings: the program printed them with %q.
        s: { value: p('s'), type: 'string', leaf: true },
        uni: { value: p('uni'), type: 'string', leaf: true },
        long: { value: p('long'), type: 'string', leaf: true },
        empty: { value: p('empty'), type: 'string', leaf: true },
        // Arrays and slices.
        arr: { value: '[3]int [1,2,3]', type: '[3]int', indexed: 3, children: { '[0]': '1', '[1]': '2', '[2]': '3' } },
        bigArr: { value: /^\[1000\]int \[0,2,4,6,(\d+,){59}126,\.\.\.\+936 more\]$/, type: '[1000]int', indexed: 1000 },
        sl: { value: '[]string len: 3, cap: 3, ["x","y","z"]', type: '[]string', indexed: 3, children: { '[0]': '"x"', '[1]': '"y"', '[2]': '"z"' } },
        nilSlice: { value: '[]int len: 0, cap: 0, nil', type: '[]int', leaf: true },
        emptySlice: { value: '[]int len: 0, cap: 0, []', type: '[]int', leaf: true },
        bytes: {
            value: '[]uint8 len: 9, cap: 9, [114,97,119,0,98,121,116,101,115]', type: '[]uint8', indexed: 9,
            children: {
                'string()': { value: p('bytes'), type: 'string' },
                '[0]': unsigned(114), '[1]': unsigned(97), '[2]': unsigned(119), '[3]': unsigned(0), '[4]': unsigned(98),
                '[5]': unsigned(121), '[6]': unsigned(116), '[7]': unsigned(101), '[8]': unsigned(115),
            },
        },
        matrix: {
            value: '[2][2]int [[1,2],[3,4]]', type: '[2][2]int', indexed: 2,
            children: { '[0]': '[2]int [1,2]', '[1]': '[2]int [3,4]' },
        },
        points: {
            value: '[]main.Point len: 2, cap: 2, [{X: 1, Y: 2},{X: 3, Y: 4}]', type: '[]main.Point', indexed: 2,
            children: { '[0]': point12, '[1]': 'main.Point {X: 3, Y: 4}' },
        },
        // Structs and pointers.
        p: { value: point12, type: 'main.Point', children: { X: '1', Y: '2' } },
        pp: { value: `*${point12}`, type: '*main.Point', children: { '': point12 } },
        nilPtr: { value: '*main.Point nil', type: '*main.Point', leaf: true },
        outer: { value: /^\*main\.Outer \{Inner: main\.Inner \{ID: 5, Tags: \[\]string len: 2, cap: 2, \["t1","t2"\]\}, Name: "outer", Next: \*main\.Outer /, type: '*main.Outer' },
        n1: { value: /^\*main\.Node \{Value: 1, Next: \*main\.Node \{Value: 2, Next: / , type: '*main.Node' },
        n2: { value: /^\*main\.Node \{Value: 2, Next: \*main\.Node \{Value: 1, Next: /, type: '*main.Node' },
        box: { value: '*main.Box[int] {Items: []int len: 2, cap: 2, [4,5], Count: 2}', type: '*main.Box[int]' },
        strBox: {
            value: 'main.Box[string] {Items: []string len: 1, cap: 1, ["a"], Count: 1}', type: 'main.Box[string]',
            children: { Items: '[]string len: 1, cap: 1, ["a"]', Count: '1' },
        },
        uptrPoint: { value: /^unsafe\.Pointer\(0x[0-9a-f]+\)$/, type: 'unsafe.Pointer', leaf: true },
        // Maps.
        m: { value: 'map[string]int ["one": 1, "two": 2, ]', type: 'map[string]int', indexed: 2, children: { 'len()': '2', '"one"': '1', '"two"': '2' } },
        bigMap: { value: /^map\[int\]string \[(\d+: "v\d+", )+/, type: 'map[int]string', indexed: 100 },
        nilMap: { value: 'map[string]int nil', type: 'map[string]int', leaf: true },
        // Channels.
        ch: { value: `chan int ${p('len(ch)')}/${p('cap(ch)')}`, type: 'chan int' },
        nilChan: { value: 'chan string nil', type: 'chan string', leaf: true },
        // Functions.
        fn: { value: 'strings.ToUpper', type: 'func(string) string', leaf: true },
        counter: { value: p('closure'), type: 'int', leaf: true },
        // Go records where a closure keeps what it captured since 1.23.
        closure: goMinor() >= 23
            ? { value: 'main.main.func1', type: 'func() int', children: { counter: p('closure'), i: p('i') } }
            : { value: 'main.main.func1', type: 'func() int', leaf: true },
        nilFunc: { value: 'nil', type: 'func()', leaf: true },
        // Interfaces.
        shape: { value: 'main.Shape(main.Rect) {W: 3, H: 4}', type: 'main.Shape(main.Rect)', children: { data: 'main.Rect {W: 3, H: 4}' } },
        nilShape: { value: 'main.Shape nil', type: 'main.Shape', leaf: true },
        anything: { value: `interface {}(main.Point) {X: 1, Y: 2}`, type: 'interface {}(main.Point)', children: { data: point12 } },
        anyInt: { value: `interface {}(int) ${p('anyInt')}`, type: 'interface {}(int)', children: { data: p('anyInt') } },
        nilAny: { value: 'interface {} nil', type: 'interface {}', leaf: true },
        err: { value: /^error\(\*fmt\.wrapError\) \*\{msg: "wrapped: file does not exist"/, type: 'error(*fmt.wrapError)' },
        nilErr: { value: 'error nil', type: 'error', leaf: true },
        // Named basic types.
        temp: { value: p('temp'), type: 'main.Celsius', leaf: true },
        day: { value: p('day'), type: 'main.Weekday', leaf: true },
        label: { value: JSON.stringify(p('label')), type: 'main.Label', leaf: true },
        // Types from the standard library.
        dur: { value: p('dur'), type: 'time.Duration', leaf: true },
        when: { value: /^time\.Time\(2024-01-02T03:04:05Z\)\{/, type: 'time.Time' },
    };
}

// The package variables (showGlobalVariables), as the program printed them
// on its "globals:" line: 42 "package level" [1 2 3] map[a:1] {X:7 Y:8} "global failure".
const mainGlobals = {
    globalInt: { value: '42', type: 'int', leaf: true },
    globalString: { value: '"package level"', type: 'string', leaf: true },
    globalSlice: { value: '[]int len: 3, cap: 3, [1,2,3]', type: '[]int', children: { '[0]': '1', '[1]': '2', '[2]': '3' } },
    globalMap: { value: 'map[string]int ["a": 1, ]', type: 'map[string]int', children: { 'len()': '1', '"a"': '1' } },
    globalPoint: { value: 'main.Point {X: 7, Y: 8}', type: 'main.Point', children: { X: '7', Y: '8' } },
    globalErr: { value: 'error(*errors.errorString) *{s: "global failure"}', type: 'error(*errors.errorString)', children: { data: '*errors.errorString {s: "global failure"}' } },
    sink: { value: '[]interface {} len: 0, cap: 0, nil', type: '[]interface {}', leaf: true },
};

// Expands every variable with children, `depth` levels down (large ones
// only by a page), so that no reference a client may follow fails.
async function walkAll(list, depth, what) {
    let count = 0;
    for (const v of list) {
        if (!v.variablesReference || depth === 0) continue;
        const paging = v.indexedVariables > 64 ? { filter: 'indexed', start: 0, count: 8 } : {};
        const children = await variables(v.variablesReference, `${what}.${v.name}`, paging);
        count += children.length + await walkAll(children, depth - 1, `${what}.${v.name}`);
    }
    return count;
}

// ---- the vars session --------------------------------------------------

async function varsSession() {
    const printed = printedByProgram();
    const loopLine = lineOf('bigArr[k] = k * 2');
    const logLine = lineOf('sl := []string{"x", "y", "z"}');
    const breakLine = lineOf('pause("main") // breakpoint here');
    const inspectCallLine = lineOf('inspect(i, s, p, pp, sl)');
    const inspectLine = lineOf('func inspect(');
    const inspectBody = lineOf('total = n + len(name)');
    const mainEnd = lineOf('outer, n1, box, strBox, dur, when') + 1;

    await initialize();
    await launchOrAttach({ showGlobalVariables: true });

    let ids = {};
    await step('setBreakpoints (conditional, log point, plain)', async () => {
        const response = await request('setBreakpoints', {
            source: { name: path.basename(opts.source), path: opts.source },
            breakpoints: [
                { line: loopLine, condition: 'k == 500' },
                { line: logLine, logMessage: 'i={i} bigArr[999]={bigArr[999]} len(bigArr)={len(bigArr)}' },
                { line: breakLine },
            ],
            sourceModified: false,
        });
        const bps = response.body.breakpoints;
        checkEqual(bps.length, 3, 'setBreakpoints: one answer per breakpoint');
        [loopLine, logLine, breakLine].forEach((line, n) => {
            check(bps[n].verified === true, `breakpoint ${n} at line ${line} not verified: ${JSON.stringify(bps[n])}`);
            checkEqual(bps[n].line, line, `breakpoint ${n}: line`);
            checkEqual(bps[n].source && bps[n].source.path, opts.source, `breakpoint ${n}: source path`);
            check(Number.isInteger(bps[n].id), `breakpoint ${n}: no id`);
        });
        check(new Set(bps.map((b) => b.id)).size === 3, 'breakpoint ids are not distinct');
        ids = { loop: bps[0].id, log: bps[1].id, plain: bps[2].id };
        return `lines ${loopLine} (if k == 500), ${logLine} (log), ${breakLine}`;
    });
    await step('setExceptionBreakpoints', async () => {
        const response = await request('setExceptionBreakpoints', { filters: ['unrecovered-panic', 'runtime-fatal-throw'] });
        check(response.success, 'setExceptionBreakpoints');
    });

    let from = await configurationDone();
    await step('stopped at the conditional breakpoint, once, where k == 500', async () => {
        const { stopped, frames } = await stoppedAt(from, 'breakpoint', 'conditional breakpoint');
        checkEqual(stopped.body.hitBreakpointIds, [ids.loop], 'conditional breakpoint: hitBreakpointIds');
        checkEqual(stopped.body.threadId, 1, 'conditional breakpoint: the main goroutine stopped');
        checkFrame(frames[0], 'main.main', loopLine, 'conditional breakpoint');
        const k = await request('evaluate', { expression: 'k', frameId: frames[0].id, context: 'watch' });
        checkEqual(k.body.result, '500', 'conditional breakpoint: k');
        const elem = await request('evaluate', { expression: 'bigArr[499]', frameId: frames[0].id, context: 'watch' });
        checkEqual(elem.body.result, '998', 'conditional breakpoint: bigArr[499] (filled before the stop)');
        const next = await request('evaluate', { expression: 'bigArr[500]', frameId: frames[0].id, context: 'watch' });
        checkEqual(next.body.result, '0', 'conditional breakpoint: bigArr[500] (not filled yet)');
        return `k=500 at line ${loopLine}`;
    });

    from = mark();
    let threadId;
    let frames;
    await step('continue: the log point prints, does not stop; stop at the plain breakpoint', async () => {
        const response = await request('continue', { threadId: 1 });
        check(response.body === undefined || response.body.allThreadsContinued !== false, 'continue: allThreadsContinued');
        const result = await stoppedAt(from, 'breakpoint', 'plain breakpoint');
        ({ frames } = result);
        threadId = result.stopped.body.threadId;
        checkEqual(result.stopped.body.hitBreakpointIds, [ids.plain], 'plain breakpoint: hitBreakpointIds');
        checkFrame(frames[0], 'main.main', breakLine, 'plain breakpoint');
        const logged = events.slice(from).filter((e) => e.event === 'output' && e.body.category === 'stdout');
        checkEqual(logged.length, 1, `log point: one stdout output event (got ${JSON.stringify(logged)})`);
        const out = logged[0].body;
        checkEqual(out.output, `> [Go 1]: i=${printed.get('i')} bigArr[999]=${printed.get('bigArr[999]')} len(bigArr)=1000\n`,
            'log point: output text');
        checkEqual(out.source && out.source.path, opts.source, 'log point: output source');
        checkEqual(out.line, logLine, 'log point: output line');
        const names = eventNamesSince(from);
        check(names.indexOf('output') < names.indexOf('stopped'), `log point output after the stop: ${names}`);
        checkEqual(names.filter((n) => n === 'stopped').length, 1, `one stop only (the condition held once): ${names}`);
        return `log point said ${JSON.stringify(out.output)}`;
    });

    await step('threads', async () => {
        const response = await request('threads');
        const threads = response.body.threads;
        const main = threads.find((t) => t.id === threadId);
        check(main, `threads: no thread ${threadId} in ${JSON.stringify(threads)}`);
        check(/^\* \[Go 1\] main\.main \(Thread \d+\)$/.test(main.name), `threads: main goroutine's name ${JSON.stringify(main.name)}`);
        check(threads.every((t) => Number.isInteger(t.id) && typeof t.name === 'string'), 'threads: id and name');
        checkEqual(threads.filter((t) => t.name.startsWith('* ')).length, 1, 'threads: one selected');
        return `${threads.length} threads, ${JSON.stringify(main.name)}`;
    });

    await step('stackTrace', async () => {
        const response = await request('stackTrace', { threadId, startFrame: 0, levels: 20 });
        const stack = response.body.stackFrames;
        checkFrame(stack[0], 'main.main', breakLine, 'frame 0');
        checkEqual(stack[1].name, 'runtime.main', 'frame 1');
        checkEqual(stack[1].presentationHint, 'subtle', 'frame 1: runtime frames are subtle');
        check(/^0x[0-9a-f]+$/.test(stack[0].instructionPointerReference || ''), 'frame 0: instructionPointerReference');
        check(response.body.totalFrames >= stack.length, 'stackTrace: totalFrames');
        check(new Set(stack.map((f) => f.id)).size === stack.length, 'stackTrace: frame ids distinct');
        // A later page continues where the first ended.
        const tail = await request('stackTrace', { threadId, startFrame: 1, levels: 1 });
        checkEqual(tail.body.stackFrames.map((f) => f.name), ['runtime.main'], 'stackTrace page from frame 1');
        frames = stack;
        return stack.map((f) => `${f.name}:${f.line}`).join(' <- ');
    });

    let scopes;
    await step('scopes', async () => {
        const response = await request('scopes', { frameId: frames[0].id });
        scopes = response.body.scopes;
        checkEqual(scopes.map((s) => s.name), ['Locals', 'Globals (package main)'], 'scopes: names');
        check(scopes.every((s) => s.variablesReference > 0 && s.expensive === false), 'scopes: references');
        return scopes.map((s) => s.name).join(', ');
    });

    await step('variables: every local, by kind', async () => {
        const expected = mainLocals(printed);
        const locals = await childrenByName(scopes[0].variablesReference, 'Locals');
        checkEqual([...locals.keys()].sort(), Object.keys(expected).sort(), 'Locals: names');
        for (const [name, want] of Object.entries(expected)) {
            const v = locals.get(name);
            checkValue(v, want, name);
            checkEqual(v.evaluateName, name, `${name}: evaluateName`);
            if (want.children) await checkChildren(v.variablesReference, want.children, name);
            else if (!want.leaf) check(v.variablesReference > 0, `${name}: no children`);
        }
        return `${locals.size} locals`;
    });

    await step('variables: expanding structs, pointers, cycles, closures', async () => {
        const locals = await childrenByName(scopes[0].variablesReference, 'Locals');
        // A pointer shows its target as one unnamed child.
        const pp = await checkChildren(locals.get('pp').variablesReference, { '': 'main.Point {X: 1, Y: 2}' }, 'pp');
        await checkChildren(pp.get('').variablesReference, { X: '1', Y: '2' }, '*pp');
        // Embedded struct, and a pointer back to itself.
        const outer = await childrenByName(locals.get('outer').variablesReference, 'outer');
        const outerValue = await childrenByName(outer.get('').variablesReference, '*outer');
        checkEqual([...outerValue.keys()], ['Inner', 'Name', 'Next'], '*outer: fields');
        checkValue(outerValue.get('Name'), { value: JSON.stringify(printed.get('outer.Name')), type: 'string' }, '*outer.Name');
        const inner = await checkChildren(outerValue.get('Inner').variablesReference,
            { ID: printed.get('outer.ID'), Tags: '[]string len: 2, cap: 2, ["t1","t2"]' }, 'outer.Inner');
        await checkChildren(inner.get('Tags').variablesReference, { '[0]': '"t1"', '[1]': '"t2"' }, 'outer.Inner.Tags');
        const next = await childrenByName(outerValue.get('Next').variablesReference, 'outer.Next');
        const nextValue = await childrenByName(next.get('').variablesReference, '*outer.Next');
        checkValue(nextValue.get('Name'), '"outer"', '*outer.Next.Name (the cycle)');
        // A two-node cycle: n1 -> n2 -> n1.
        let node = locals.get('n1');
        const seen = [];
        for (let hop = 0; hop < 3; hop++) {
            const target = await childrenByName(node.variablesReference, `n1 hop ${hop}`);
            const fields = await childrenByName(target.get('').variablesReference, `*n1 hop ${hop}`);
            seen.push(fields.get('Value').value);
            node = fields.get('Next');
        }
        checkEqual(seen, ['1', printed.get('n1.Next.Value'), '1'], 'n1 -> Next -> Next values');
        // Generic instantiations.
        const box = await childrenByName(locals.get('box').variablesReference, 'box');
        await checkChildren(box.get('').variablesReference, { Items: '[]int len: 2, cap: 2, [4,5]', Count: '2' }, '*box');
        // Interfaces: the dynamic value, and into it.
        const shape = await childrenByName(locals.get('shape').variablesReference, 'shape');
        await checkChildren(shape.get('data').variablesReference, { W: '3', H: '4' }, 'shape.(data)');
        const err = await childrenByName(locals.get('err').variablesReference, 'err');
        check(/^\*fmt\.wrapError \{msg: "wrapped: file does not exist"/.test(err.get('data').value), `err.(data): ${err.get('data').value}`);
        // A channel's buffer holds what was sent.
        const ch = await childrenByName(locals.get('ch').variablesReference, 'ch');
        checkValue(ch.get('qcount'), unsigned(printed.get('len(ch)')), 'ch.qcount');
        checkValue(ch.get('dataqsiz'), unsigned(printed.get('cap(ch)')), 'ch.dataqsiz');
        checkValue(ch.get('buf'), '*[4]int [10,20,0,0]', 'ch.buf');
        return 'pointers, embedded struct, cycles, generics, interfaces, channel';
    });

    await step('variables: paging through large arrays and maps', async () => {
        const locals = await childrenByName(scopes[0].variablesReference, 'Locals');
        const tail = await variables(locals.get('bigArr').variablesReference, 'bigArr',
            { filter: 'indexed', start: 998, count: 2 });
        checkEqual(tail.map((v) => [v.name, v.value]), [['[998]', '1996'], ['[999]', printed.get('bigArr[999]')]], 'bigArr[998:1000]');
        const entries = await variables(locals.get('bigMap').variablesReference, 'bigMap',
            { filter: 'indexed', start: 0, count: 100 });
        const keys = entries.filter((v) => /^\d+$/.test(v.name));
        checkEqual(keys.length, Number(printed.get('len(bigMap)')), 'bigMap: every entry over one page');
        const v42 = keys.find((v) => v.name === '42');
        checkValue(v42, { value: JSON.stringify(printed.get('bigMap[42]')), type: 'int: string' }, 'bigMap[42]');
        checkEqual(v42.evaluateName, 'bigMap[42]', 'bigMap[42]: evaluateName');
        return `bigArr[999]=${tail[1].value}, ${keys.length} map entries`;
    });

    await step('variables: globals (package main)', async () => {
        const globals = await childrenByName(scopes[1].variablesReference, 'Globals');
        checkEqual([...globals.keys()].sort(), Object.keys(mainGlobals).sort(), 'Globals: names');
        for (const [name, want] of Object.entries(mainGlobals)) {
            const v = globals.get(name);
            checkValue(v, want, name);
            checkEqual(v.evaluateName, `main.${name}`, `${name}: evaluateName`);
            if (want.children) await checkChildren(v.variablesReference, want.children, name);
        }
        return `${globals.size} globals`;
    });

    await step('variables: every reference can be followed (two levels)', async () => {
        const locals = await variables(scopes[0].variablesReference, 'Locals');
        const globals = await variables(scopes[1].variablesReference, 'Globals');
        const count = await walkAll(locals, 2, 'Locals') + await walkAll(globals, 2, 'Globals');
        return `${count} children read`;
    });

    await step('evaluate: watch, hover, repl, clipboard, and a failing one', async () => {
        const frameId = frames[0].id;
        const watch = await request('evaluate', { expression: 'p', frameId, context: 'watch' });
        checkEqual(watch.body.result, 'main.Point {X: 1, Y: 2}', 'watch p');
        checkEqual(watch.body.type, 'main.Point', 'watch p: type');
        await checkChildren(watch.body.variablesReference, { X: '1', Y: '2' }, 'watch p');
        const hover = await request('evaluate', { expression: 'sl', frameId, context: 'hover' });
        checkEqual(hover.body.result, '[]string len: 3, cap: 3, ["x","y","z"]', 'hover sl');
        checkEqual(hover.body.indexedVariables, 3, 'hover sl: indexedVariables');
        const repl = await request('evaluate', { expression: 'len(bigMap)', frameId, context: 'repl' });
        checkEqual(repl.body.result, printed.get('len(bigMap)'), 'repl len(bigMap)');
        checkEqual(repl.body.variablesReference, 0, 'repl len(bigMap): no children');
        const index = await request('evaluate', { expression: 'bigMap[42]', frameId, context: 'repl' });
        checkEqual(index.body.result, JSON.stringify(printed.get('bigMap[42]')), 'repl bigMap[42]');
        const field = await request('evaluate', { expression: 'outer.Inner.Tags[1]', frameId, context: 'repl' });
        checkEqual(field.body.result, '"t2"', 'repl outer.Inner.Tags[1]');
        const arith = await request('evaluate', { expression: 'i + int(i8)', frameId, context: 'repl' });
        checkEqual(arith.body.result, String(Number(printed.get('i')) + Number(printed.get('i8'))), 'repl i + int(i8)');
        const clip = await request('evaluate', { expression: 'long', frameId, context: 'clipboard' });
        checkEqual(clip.body.result, printed.get('long'), 'clipboard long (the whole string)');
        const global = await request('evaluate', { expression: 'globalString', frameId, context: 'hover' });
        checkEqual(global.body.result, '"package level"', 'hover globalString');
        const failed = await requestFailing('evaluate', { expression: 'nosuchvar', frameId, context: 'repl' });
        checkEqual(failed.success, false, 'evaluate nosuchvar fails');
        const text = JSON.stringify(failed.body || {}) + (failed.message || '');
        check(text.includes('nosuchvar'), `evaluate nosuchvar: the error does not name it: ${JSON.stringify(failed)}`);
        return `failure: ${failed.message} / ${failed.body && failed.body.error && failed.body.error.format}`;
    });

    from = mark();
    let at = messages.length;
    await step('next', async () => {
        await request('next', { threadId });
        const { stopped, frames: f } = await stoppedAt(from, 'step', 'next');
        checkEqual(stopped.body.threadId, threadId, 'next: same goroutine');
        checkFrame(f[0], 'main.main', inspectCallLine, 'next');
        return `line ${f[0].line}; order: ${orderSince(at).join(', ')}`;
    });

    from = mark();
    at = messages.length;
    await step('stepIn', async () => {
        await request('stepIn', { threadId });
        const { frames: f } = await stoppedAt(from, 'step', 'stepIn');
        checkEqual(f[0].name, 'main.inspect', 'stepIn: function');
        check(f[0].line === inspectLine || f[0].line === inspectBody, `stepIn: line ${f[0].line}, not ${inspectLine} or ${inspectBody}`);
        checkEqual(f[0].source.path, opts.source, 'stepIn: source');
        checkFrame(f[1], 'main.main', inspectCallLine, 'stepIn: caller');
        const scope = await request('scopes', { frameId: f[0].id });
        const args = await checkChildren(scope.body.scopes[0].variablesReference, {
            n: printed.get('n'),
            name: printed.get('name'),
            pt: 'main.Point {X: 1, Y: 2}',
            ptr: '*main.Point {X: 1, Y: 2}',
            names: '[]string len: 3, cap: 3, ["x","y","z"]',
        }, 'inspect arguments', false);
        check(args.has('total') && args.has('err'), 'inspect: named results listed');
        return `main.inspect:${f[0].line}; order: ${orderSince(at).join(', ')}`;
    });

    from = mark();
    at = messages.length;
    await step('stepOut', async () => {
        await request('stepOut', { threadId });
        const { frames: f } = await stoppedAt(from, 'step', 'stepOut');
        // Back in main.main: on the call's line, or (dlv, as the call's
        // results are discarded) at the first instruction of the next line.
        checkEqual(f[0].name, 'main.main', 'stepOut: function');
        check(f[0].line === inspectCallLine || f[0].line === inspectCallLine + 1,
            `stepOut: line ${f[0].line}, not ${inspectCallLine} or ${inspectCallLine + 1}`);
        checkEqual(f[0].source.path, opts.source, 'stepOut: source');
        return `main.main:${f[0].line}; order: ${orderSince(at).join(', ')}`;
    });

    from = mark();
    at = messages.length;
    await step('continue to the exit', async () => {
        await request('continue', { threadId });
        const names = await expectExit(from, 0, 'continue');
        return `events: ${names.join(', ')} (main ends at line ${mainEnd})`;
    });

    await disconnect();
}

// ---- the panic session -------------------------------------------------

async function panicSession() {
    const panicLine = lineOf('panic("boom: " + how)');
    const callLine = lineOf('crash(os.Args[1])');
    check(opts.programArgs.join(' ') === 'string' || opts.request === 'attach',
        `the panics fixture must run with the argument "string" (got ${opts.programArgs})`);

    await initialize();
    await launchOrAttach({});
    await step('setExceptionBreakpoints (unrecovered-panic)', async () => {
        const response = await request('setExceptionBreakpoints', { filters: ['unrecovered-panic'] });
        check(response.success, 'setExceptionBreakpoints');
    });
    let from = await configurationDone();
    let threadId;
    await step('stopped on the panic', async () => {
        const { stopped, frames } = await stoppedAt(from, 'exception', 'panic');
        threadId = stopped.body.threadId;
        checkEqual(threadId, 1, 'panic: on the main goroutine');
        checkEqual(stopped.body.description, 'panic', 'panic: description');
        checkEqual(stopped.body.text, '"boom: string"', 'panic: text');
        const crash = frames.findIndex((f) => f.name === 'main.crash');
        check(crash >= 0, `panic: no main.crash frame in ${frames.map((f) => f.name)}`);
        checkFrame(frames[crash], 'main.crash', panicLine, 'panicking frame');
        checkFrame(frames[crash + 1], 'main.main', callLine, 'its caller');
        check(frames.slice(0, crash).every((f) => f.name.startsWith('runtime.')), 'panic: only runtime frames above main.crash');
        const scope = await request('scopes', { frameId: frames[crash].id });
        await checkChildren(scope.body.scopes[0].variablesReference, { how: '"string"' }, 'main.crash arguments', false);
        return `${frames[0].name} <- ... main.crash:${panicLine} <- main.main:${callLine}`;
    });
    await step('exceptionInfo', async () => {
        const response = await request('exceptionInfo', { threadId });
        const info = response.body;
        checkEqual(info.exceptionId, 'panic', 'exceptionInfo: exceptionId');
        checkEqual(info.description, '"boom: string"', 'exceptionInfo: description');
        // dlv sends breakMode "" (not one of DAP's values); clients ignore it.
        check(typeof info.breakMode === 'string', 'exceptionInfo: breakMode');
        const trace = (info.details && info.details.stackTrace) || '';
        check(trace.includes('main.crash') && trace.includes(`main.go:${panicLine}`),
            `exceptionInfo: the stack trace misses main.crash at line ${panicLine}: ${trace}`);
        return `${info.exceptionId}: ${info.description}`;
    });
    from = mark();
    await step('continue: the panic ends the program (status 2)', async () => {
        await request('continue', { threadId });
        const names = await expectExit(from, 2, 'continue after the panic');
        return `events: ${names.join(', ')}`;
    });
    await disconnect();
}

// ---- main --------------------------------------------------------------

async function main() {
    console.log(`DebugClient session '${opts.session}' (${opts.request}) on 127.0.0.1:${opts.port}: ${opts.program}`);
    await withTimeout(dc.start(opts.port), `a connection to 127.0.0.1:${opts.port}`);
    if (opts.session === 'vars') await varsSession();
    else await panicSession();
}

function fail(err) {
    console.log(`FAIL ${stepNumber} ${stepName}: ${err && err.message ? err.message : err}`);
    if (err && err.response) console.log(`     response: ${JSON.stringify(err.response)}`);
    const tail = messages.slice(-25);
    console.log(`last ${tail.length} messages:`);
    for (const { dir, msg } of tail) console.log(`  ${dir} ${JSON.stringify(msg).slice(0, 400)}`);
    process.exit(1);
}

process.on('uncaughtException', fail);
process.on('unhandledRejection', fail);
const watchdog = setTimeout(() => fail(new Error(`the whole session took over ${opts.timeout} s`)), opts.timeout * 1000);

main().then(() => {
    clearTimeout(watchdog);
    console.log(`PASS: ${checks} checks in ${stepNumber} steps, ${Date.now() - started} ms`);
    dc.stopAdapter();
    process.exit(0);
}, fail);
