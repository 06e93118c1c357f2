//! Variables: the `vars` fixture (one variable of each kind of Go value)
//! paused in a core; ferret's `ListLocalVars` and `ListFunctionArgs` must
//! answer exactly what dlv answers on the same core, and the values must
//! be those the program printed about itself.

use ferret_testkit::delve::Delve;
use ferret_testkit::fixture::{build_fixture, BuildOptions};
use ferret_testkit::rpc::RpcClient;
use ferret_testkit::servers::{BothOnCore, FerretServer};
use ferret_testkit::target_dir;
use ferret_testkit::toolchain::GoToolchain;
use ferret_testkit::vars::vars_core;
use serde_json::{json, Value};

/// Delve's `LoadFullValue` (what `print` uses) and the terminal's short
/// configuration (what `locals` and `args` use).
fn configs() -> [(&'static str, Value); 2] {
    [
        (
            "full",
            json!({"FollowPointers": true, "MaxVariableRecurse": 1, "MaxStringLen": 64, "MaxArrayValues": 64, "MaxStructFields": -1}),
        ),
        (
            "short",
            json!({"FollowPointers": false, "MaxVariableRecurse": 0, "MaxStringLen": 64, "MaxArrayValues": 0, "MaxStructFields": 3}),
        ),
    ]
}

/// The scope of `function`'s frame on goroutine 1.
fn scope_of(client: &mut RpcClient, function: &str) -> Value {
    let stack = client
        .call("Stacktrace", json!({"Id": 1, "Depth": 40}))
        .expect("Stacktrace");
    let frame = stack["Locations"]
        .as_array()
        .unwrap()
        .iter()
        .position(|f| f["function"]["name"] == function)
        .unwrap_or_else(|| panic!("no {function} frame in {stack}"));
    json!({"GoroutineID": 1, "Frame": frame, "DeferredCall": 0})
}

/// Where two JSON values first differ (a path and both sides), for
/// readable failures on deep variable trees; `None` when equal.
fn first_difference(ours: &Value, theirs: &Value, path: &str) -> Option<String> {
    match (ours, theirs) {
        (Value::Object(a), Value::Object(b)) => b.iter().find_map(|(k, v)| {
            first_difference(a.get(k).unwrap_or(&Value::Null), v, &format!("{path}.{k}"))
        }),
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => a
            .iter()
            .zip(b)
            .enumerate()
            .find_map(|(i, (x, y))| first_difference(x, y, &format!("{path}[{i}]"))),
        _ if ours == theirs => None,
        _ => Some(format!("{path}: ferret {ours} / dlv {theirs}")),
    }
}

/// Variables of a list by name.
fn by_name(list: &Value) -> std::collections::BTreeMap<String, Value> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|v| (v["name"].as_str().unwrap().to_owned(), v.clone()))
        .collect()
}

/// An empty scratch directory for one test's core,
/// `variables-tests/LABEL-PID` under the target directory.
fn scratch(label: &str) -> std::path::PathBuf {
    let dir = target_dir().join(format!("variables-tests/{label}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[test]
fn locals_and_args_read_the_same_against_ferret_and_dlv() {
    for toolchain in GoToolchain::selected().into_iter().filter(Delve::supports) {
        let version = &toolchain.version;
        let exe = build_fixture("vars", &toolchain, &BuildOptions::debug());
        for (place, function, method, key) in [
            ("main", "main.main", "ListLocalVars", "Variables"),
            ("inspect", "main.inspect", "ListFunctionArgs", "Args"),
            ("inspect", "main.inspect", "ListLocalVars", "Variables"),
        ] {
            let dir = scratch(&format!("{place}-{version}"));
            let (core, _) = vars_core(&exe, place, &dir);
            let mut both = BothOnCore::start(&exe, &core);
            // The frame numbers may differ: below the signal that made the
            // core, dlv skips frames (see the goroutines tests).
            let our_scope = scope_of(&mut both.ferret, function);
            let their_scope = scope_of(&mut both.dlv, function);
            for (config_name, config) in configs() {
                let theirs = both
                    .dlv
                    .call(method, json!({"Scope": their_scope, "Cfg": config}))
                    .unwrap();
                let ours = both
                    .ferret
                    .call(method, json!({"Scope": our_scope, "Cfg": config}))
                    .unwrap();
                let (theirs, ours) = (by_name(&theirs[key]), by_name(&ours[key]));
                assert_eq!(
                    ours.keys().collect::<Vec<_>>(),
                    theirs.keys().collect::<Vec<_>>(),
                    "{version} {method} {function} {config_name}: names"
                );
                for (name, expected) in &theirs {
                    let difference = first_difference(&ours[name], expected, name);
                    assert!(
                        difference.is_none(),
                        "{version} {method} {function} {config_name}: {}",
                        difference.unwrap_or_default()
                    );
                }
            }
            drop(both);
            let _ = std::fs::remove_dir_all(&dir);
        }
    }
}

/// `Stacktrace` with variables (`Full`, or a `Cfg`) gives each frame the
/// locals and arguments dlv gives it on the same core. Frames are matched
/// from the bottom of the stack up to where the two unwinds part (below
/// the signal that made the core, dlv skips frames).
#[test]
fn stacktrace_variables_read_the_same_against_ferret_and_dlv() {
    for toolchain in GoToolchain::selected().into_iter().filter(Delve::supports) {
        let version = &toolchain.version;
        let exe = build_fixture("vars", &toolchain, &BuildOptions::debug());
        let dir = scratch(&format!("stack-{version}"));
        let (core, _) = vars_core(&exe, "main", &dir);
        let mut both = BothOnCore::start(&exe, &core);
        for params in [
            json!({"Id": 1, "Depth": 40, "Full": true}),
            json!({"Id": 1, "Depth": 40, "Full": false, "Cfg": configs()[1].1}),
        ] {
            let theirs = both.dlv.call("Stacktrace", params.clone()).unwrap();
            let ours = both.ferret.call("Stacktrace", params.clone()).unwrap();
            let theirs = theirs["Locations"].as_array().unwrap();
            let ours = ours["Locations"].as_array().unwrap();
            let mut compared = 0;
            for (a, b) in theirs.iter().rev().zip(ours.iter().rev()) {
                if a["function"]["name"] != b["function"]["name"] {
                    break;
                }
                let function = &a["function"]["name"];
                for key in ["Locals", "Arguments"] {
                    let difference = first_difference(&b[key], &a[key], key);
                    assert!(
                        difference.is_none(),
                        "{version} {params}: {function}: {}",
                        difference.unwrap_or_default()
                    );
                }
                compared += 1;
            }
            assert!(compared >= 8, "{version}: only {compared} frames compared");
        }
        drop(both);
        let _ = std::fs::remove_dir_all(&dir);
    }
}

/// Expressions `Eval` answers exactly as dlv does on the same core, with
/// the default (full) configuration: names, fields through pointers and
/// embedding, indexing of arrays, slices and maps, dereferences,
/// `len`/`cap`, package variables, constant and typed arithmetic, and
/// Delve's errors.
const EVAL_EXPRESSIONS: &[&str] = &[
    "i",
    "p.X",
    "pp.X",
    "pp.Y",
    "len(sl)",
    "cap(sl)",
    "len(s)",
    "len(m)",
    "len(ch)",
    "cap(ch)",
    "nosuch",
    "globalInt",
    "main.globalPoint",
    "main.globalPoint.X",
    r#"m["one"]"#,
    r#"m["nope"]"#,
    "bigMap[42]",
    "i+1",
    "i8+1",
    "i8+u8",
    "1+2",
    "7/2",
    "1.5*2",
    "i == -12345",
    "b && true",
    "s",
    "sl[1]",
    "sl[5]",
    "arr[2]",
    "bigArr[999]",
    "*pp",
    "*nilPtr",
    "outer.ID",
    "outer.Inner.Tags",
    "outer.Name",
    "n1.Next.Value",
    "box.Items",
    "strBox.Count",
    "shape",
    "err",
    "temp",
    "day",
    "f64*2",
    "-i",
    "!b",
    r#""a"+"b""#,
    r#"s+"x""#,
    "u8+100",
    "i8/0",
    "nilPtr.X",
    "i8.X",
    "p.Nope",
    "fmt.Foo",
    "main.globalInt",
    "matrix[1][0]",
    "points[1].Y",
    "globalSlice[2]",
    r#"globalMap["a"]"#,
    "len(bigArr)",
    "len(i8)",
    "c128",
    "when",
    "dur",
    "r",
    "label",
    "uni",
    "i8 << 2",
    "len(sl)+1",
    "c64",
    "anything",
    "closure",
    "counter",
    "strBox.Items[0]",
    "outer.Next.Next.Name",
    "ch",
    "fn",
    "p",
    "globalErr",
    "main.sink",
    "emptySlice",
    "nilMap",
    "bytes[1]",
    "true",
    "(i)",
    "1 +",
    "a b",
    "&p",
    "nil",
    "uint8(300)",
    "int8(u8)",
    "uintptr(pp)",
    "(*main.Point)(uptrPoint)",
    "*(*main.Point)(uintptr(pp))",
    r#"*(*"main.Point")(uintptr(pp))"#,
    "s[1]",
    "float64(i)",
    "main.Celsius(1.5)",
    "int(f64)",
    "&i8",
    "&1",
    "(*main.Point)(0x1234)",
    "len(&arr)",
    "sl[1:]",
    "arr[1:2]",
    "s[1:4]",
    "sl[1:2:3]",
    "bigArr[1:3]",
    "shape.(main.Rect)",
    "err.(*fmt.wrapError)",
    "anything.(main.Point)",
    "shape.(*main.Rect)",
    "nilErr.(*fmt.wrapError)",
    "anyInt.(int)",
    "sl[i:]",
    "bigArr[:100]",
    "uni[1:3]",
    "len(sl[1:])",
    "s[2:]",
    "s[:]",
    "arr[:]",
    "nilPtr == nil",
    "pp != nil",
    "nilSlice == nil",
    "m == nil",
    "nilMap == nil",
    "err != nil",
    "nilErr == nil",
    r#"s == "hello, vars""#,
    r#"s < "z""#,
    "nilFunc == nil",
    "ch != nil",
    "p == p",
    "pp == pp",
    "p == globalPoint",
    "nil == nil",
    "emptySlice == nil",
    "temp > 30",
    "day == 3",
];

#[test]
fn eval_answers_the_same_against_ferret_and_dlv() {
    for toolchain in GoToolchain::selected().into_iter().filter(Delve::supports) {
        let version = &toolchain.version;
        let exe = build_fixture("vars", &toolchain, &BuildOptions::debug());
        let dir = scratch(&format!("eval-{version}"));
        let (core, _) = vars_core(&exe, "main", &dir);
        let mut both = BothOnCore::start(&exe, &core);
        let our_scope = scope_of(&mut both.ferret, "main.main");
        let their_scope = scope_of(&mut both.dlv, "main.main");
        for expression in EVAL_EXPRESSIONS {
            let theirs = both
                .dlv
                .call("Eval", json!({"Scope": their_scope, "Expr": expression}));
            let ours = both
                .ferret
                .call("Eval", json!({"Scope": our_scope, "Expr": expression}));
            match (&ours, &theirs) {
                (Ok(ours), Ok(theirs)) => {
                    let difference = first_difference(ours, theirs, expression);
                    assert!(
                        difference.is_none(),
                        "{version}: {}",
                        difference.unwrap_or_default()
                    );
                }
                _ => assert_eq!(ours, theirs, "{version}: Eval {expression}"),
            }
        }
        drop(both);
        let _ = std::fs::remove_dir_all(&dir);
    }
}

/// Scalars and strings the `vars` fixture printed (`printed`) against
/// what `value` says a local holds (`None`: not there, or unreadable,
/// skipped); returns how many were compared.
fn check_printed_scalars(
    version: &str,
    printed: &std::collections::BTreeMap<String, String>,
    value: &mut dyn FnMut(&str) -> Option<String>,
) -> usize {
    let mut compared = 0;
    for name in [
        "b", "i", "i8", "i16", "i32", "i64", "u", "u8", "u16", "u32", "u64", "f32", "f64", "r",
        "by", "temp", "day", "label",
    ] {
        if let Some(v) = value(name) {
            assert_eq!(v, printed[name], "{version}: {name}");
            compared += 1;
        }
    }
    if let Some(v) = value("uptr") {
        let v = format!("{:#x}", v.parse::<u64>().unwrap());
        assert_eq!(v, printed["uptr"], "{version}: uptr");
        compared += 1;
    }
    // Strings were printed quoted (%q).
    for name in ["s", "uni", "empty"] {
        if let Some(v) = value(name) {
            assert_eq!(format!("{v:?}"), printed[name], "{version}: {name}");
            compared += 1;
        }
    }
    compared
}

/// On every toolchain (dlv does not read Go 1.22), the values ferret shows
/// are those the program printed with fmt before pausing.
#[test]
fn values_are_what_the_program_printed() {
    for toolchain in GoToolchain::selected() {
        let version = &toolchain.version;
        let exe = build_fixture("vars", &toolchain, &BuildOptions::debug());
        let dir = scratch(&format!("printed-{version}"));
        let (core, printed) = vars_core(&exe, "main", &dir);
        let server = FerretServer::core(&exe, &core);
        let mut client = RpcClient::connect(&server.addr).unwrap();
        let scope = scope_of(&mut client, "main.main");
        let full = &configs()[0].1;
        let locals = client
            .call("ListLocalVars", json!({"Scope": scope, "Cfg": full}))
            .unwrap();
        let locals = by_name(&locals["Variables"]);
        let value = |name: &str| -> String {
            locals
                .get(name)
                .unwrap_or_else(|| panic!("{version}: no local {name}"))["value"]
                .as_str()
                .unwrap()
                .to_owned()
        };
        check_printed_scalars(version, &printed, &mut |name| Some(value(name)));
        let long = &locals["long"];
        assert_eq!(long["len"], 100, "{version}");
        assert!(printed["long"]
            .trim_matches('"')
            .starts_with(long["value"].as_str().unwrap()));
        // Lengths and elements.
        let children = |name: &str| locals[name]["children"].as_array().unwrap().clone();
        let arr: Vec<String> = children("arr")
            .iter()
            .map(|c| c["value"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(format!("[{}]", arr.join(" ")), printed["arr"], "{version}");
        assert_eq!(locals["bigArr"]["len"], 1000, "{version}");
        assert_eq!(
            locals["bigMap"]["len"].to_string(),
            printed["len(bigMap)"],
            "{version}"
        );
        let ch = children("ch");
        let qcount = ch.iter().find(|c| c["name"] == "qcount").unwrap();
        assert_eq!(
            qcount["value"].as_str().unwrap(),
            printed["len(ch)"],
            "{version}"
        );
        // Map entries as the program printed them (map[one:1 two:2], sorted).
        let m = children("m");
        let mut entries: Vec<String> = m
            .chunks(2)
            .map(|kv| {
                format!(
                    "{}:{}",
                    kv[0]["value"].as_str().unwrap(),
                    kv[1]["value"].as_str().unwrap()
                )
            })
            .collect();
        entries.sort();
        assert_eq!(
            format!("map[{}]", entries.join(" ")),
            printed["m"],
            "{version}"
        );
        // Interfaces hold their dynamic values.
        let any_int = children("anyInt");
        assert_eq!(
            any_int[0]["value"].as_str().unwrap(),
            printed["anyInt"],
            "{version}"
        );
        let shape = children("shape");
        assert_eq!(shape[0]["type"], "main.Rect", "{version}");
        // The cyclic list goes round.
        let n1 = children("n1");
        let next = &n1[0]["children"][1]["children"][0];
        assert_eq!(
            next["children"][0]["value"].as_str().unwrap(),
            printed["n1.Next.Value"],
            "{version}"
        );
        drop(server);
        let _ = std::fs::remove_dir_all(&dir);
    }
}

/// In optimized builds of every toolchain (dlv does not read Go 1.22),
/// paused in `inspect`: the arguments and results ferret can still read
/// there (through location lists and pieces; the others are dead by then)
/// are what the program printed.
#[test]
fn optimized_values_are_what_the_program_printed() {
    for toolchain in GoToolchain::selected() {
        let version = &format!("{} optimized", toolchain.version);
        let exe = build_fixture("vars", &toolchain, &BuildOptions::optimized());
        let dir = scratch(&format!("printed-opt-{}", toolchain.version));
        let (core, printed) = vars_core(&exe, "inspect", &dir);
        let server = FerretServer::core(&exe, &core);
        let mut client = RpcClient::connect(&server.addr).unwrap();
        let scope = scope_of(&mut client, "main.inspect");
        let args = client
            .call(
                "ListFunctionArgs",
                json!({"Scope": scope, "Cfg": configs()[0].1}),
            )
            .unwrap();
        let args = by_name(&args["Args"]);
        let readable = |name: &str| {
            let v = args.get(name)?;
            v["unreadable"]
                .as_str()
                .unwrap()
                .is_empty()
                .then(|| v["value"].as_str().unwrap().to_owned())
        };
        let mut compared = Vec::new();
        for name in ["n", "total"] {
            if let Some(v) = readable(name) {
                assert_eq!(v, printed[name], "{version}: {name}");
                compared.push(name);
            }
        }
        if let Some(v) = readable("name") {
            assert_eq!(format!("{v:?}"), printed["name"], "{version}: name");
            compared.push("name");
        }
        if readable("names").is_some() {
            let names: Vec<String> = args["names"]["children"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| format!("{:?}", c["value"].as_str().unwrap()))
                .collect();
            assert_eq!(
                format!("[{}]", names.join(" ")),
                printed["names"],
                "{version}: names"
            );
            compared.push("names");
        }
        if readable("ptr").is_some() {
            let y = &args["ptr"]["children"][0]["children"][1];
            assert_eq!(
                y["value"].as_str().unwrap(),
                printed["ptr.Y"],
                "{version}: ptr.Y"
            );
            compared.push("ptr.Y");
        }
        eprintln!("{version}: compared {compared:?}");
        assert!(
            compared.len() >= 2,
            "{version}: too little readable: {args:?}"
        );
        drop(server);
        let _ = std::fs::remove_dir_all(&dir);
    }
}

/// Conditional breakpoints (`Cond`, `HitCond`, both) on `main.work` in
/// `busy loop 20` stop where dlv's stop, with the same hit counts; a hit
/// condition that does not parse is refused with dlv's text, and a
/// condition that cannot be evaluated stops at the first hit in both.
#[test]
fn conditional_breakpoints_stop_where_dlv_stops() {
    for toolchain in GoToolchain::selected().into_iter().filter(Delve::supports) {
        let exe = build_fixture("busy", &toolchain, &BuildOptions::debug());
        let cases = [
            ("i == 7", ""),
            ("", "% 3"),
            ("i > 2", "== 2"),
            ("i >= 4 && i % 2 == 0", ""),
            ("nosuch == 1", ""),
            ("i", ""),
        ];
        for (cond, hit_cond) in cases {
            let mut answers: Vec<Vec<String>> = Vec::new();
            let run =
                |client: &mut dyn FnMut(&str, Value) -> Result<Value, String>| -> Vec<String> {
                    let mut seen = Vec::new();
                    let created = client(
                        "CreateBreakpoint",
                        json!({"Breakpoint": {"functionName": "main.work", "Cond": cond, "HitCond": hit_cond}}),
                    );
                    seen.push(format!("{:?}", created.as_ref().err()));
                    for _ in 0..2 {
                        let state = client("Command", json!({"name": "continue"}));
                        let exited = state
                            .as_ref()
                            .map(|s| s["State"]["exited"] == true)
                            .unwrap_or(true);
                        seen.push(format!("exited {exited}"));
                        if exited {
                            break;
                        }
                        let i = client("Eval", json!({"Scope": {"GoroutineID": -1}, "Expr": "i"}));
                        seen.push(format!(
                            "i = {:?}",
                            i.map(|v| v["Variable"]["value"].clone())
                        ));
                        let bps = client("ListBreakpoints", json!({})).unwrap();
                        let user: Vec<&Value> = bps["Breakpoints"]
                            .as_array()
                            .unwrap()
                            .iter()
                            .filter(|b| b["id"].as_i64().unwrap_or(0) > 0)
                            .collect();
                        seen.push(format!("hits {}", user[0]["totalHitCount"]));
                    }
                    seen
                };
            let mut dlv = Delve::exec_with_args(&exe, &["loop", "20"]);
            answers.push(run(&mut |m, p| dlv.call(m, p)));
            drop(dlv);
            let server = FerretServer::exec(&exe, &["loop", "20"]);
            let mut ferret = RpcClient::connect(&server.addr).unwrap();
            answers.push(run(&mut |m, p| ferret.call(m, p)));
            let _ = ferret.call("Detach", json!({"Kill": true}));
            assert_eq!(
                answers[1], answers[0],
                "Cond {cond:?} HitCond {hit_cond:?}: ferret, then dlv"
            );
        }
        // A hit condition that does not parse.
        let server = FerretServer::exec(&exe, &["loop", "1"]);
        let mut ferret = RpcClient::connect(&server.addr).unwrap();
        let mut dlv = Delve::exec_with_args(&exe, &["loop", "1"]);
        let bad = json!({"Breakpoint": {"functionName": "main.work", "HitCond": "bogus"}});
        assert_eq!(
            ferret.call("CreateBreakpoint", bad.clone()),
            dlv.call("CreateBreakpoint", bad)
        );
        let _ = ferret.call("Detach", json!({"Kill": true}));
    }
}

/// `Set` writes what dlv writes (read back with `Eval`), wraps numbers to
/// the destination's size, and refuses what dlv refuses with its words.
#[test]
fn set_assigns_as_dlv_does() {
    for toolchain in GoToolchain::selected().into_iter().filter(Delve::supports) {
        let exe = build_fixture("vars", &toolchain, &BuildOptions::debug());
        let assignments = [
            ("i", "5"),
            ("i8", "1000"),
            ("u8", "-1"),
            ("f64", "2.5"),
            ("f32", "3"),
            ("b", "false"),
            ("pp", "nil"),
            ("sl", "nil"),
            ("m", "nil"),
            ("err", "nil"),
            ("empty", r#""""#),
            ("s", r#""x""#),
            ("i8", "1.5"),
            ("p", "p"),
            ("i", "i64"),
            ("nosuch", "1"),
            ("p.X", "42"),
            ("outer.ID", "44"),
            ("arr[1]", "9"),
            ("temp", "1"),
            ("label", r#""""#),
        ];
        let mut answers: Vec<Vec<String>> = Vec::new();
        let mut run = |client: &mut dyn FnMut(&str, Value) -> Result<Value, String>| {
            let mut seen = Vec::new();
            client(
                "CreateBreakpoint",
                json!({"Breakpoint": {"functionName": "main.pause"}}),
            )
            .unwrap();
            client("Command", json!({"name": "continue"})).unwrap();
            let scope = json!({"GoroutineID": -1, "Frame": 1});
            for (symbol, value) in assignments {
                let set = client(
                    "Set",
                    json!({"Scope": scope, "Symbol": symbol, "Value": value}),
                );
                let read = client("Eval", json!({"Scope": scope, "Expr": symbol}))
                    .map(|v| (v["Variable"]["value"].clone(), v["Variable"]["len"].clone()));
                seen.push(format!("{symbol} = {value}: {set:?} -> {read:?}"));
            }
            answers.push(seen);
        };
        let mut dlv = Delve::exec(&exe);
        run(&mut |m, p| dlv.call(m, p));
        drop(dlv);
        let server = FerretServer::exec(&exe, &[]);
        let mut ferret = RpcClient::connect(&server.addr).unwrap();
        run(&mut |m, p| ferret.call(m, p));
        let _ = ferret.call("Detach", json!({"Kill": true}));
        for (ours, theirs) in answers[1].iter().zip(&answers[0]) {
            assert_eq!(ours, theirs, "ferret, then dlv");
        }
    }
}

/// The real `dlv connect` terminal prints the same for `locals`, `args`,
/// `print` and `whatis` against ferret as against dlv, on the same core of
/// the vars fixture. Frame numbers differ (below the core's signal dlv
/// skips frames), so each server gets its own frame number and the outputs
/// are compared block by block.
#[test]
fn dlv_connect_prints_the_same_against_ferret_and_dlv() {
    for toolchain in GoToolchain::selected().into_iter().filter(Delve::supports) {
        let version = &toolchain.version;
        let exe = build_fixture("vars", &toolchain, &BuildOptions::debug());
        let dir = scratch(&format!("terminal-{version}"));
        let (core, _) = vars_core(&exe, "main", &dir);
        let commands = [
            "locals",
            "args",
            "print p",
            "print pp",
            "print m",
            "print sl",
            "print s",
            "print uni",
            "print long",
            "print shape",
            "print err",
            "print ch",
            "print when",
            "print outer",
            "print n1",
            "print closure",
            "print arr",
            "print c64",
            "print f32",
            "print bytes",
            "print anything",
            "print nilAny",
            "print nilPtr",
            "print len(sl)",
            "print nosuch",
            "print p.X + 1",
            "whatis p",
            "whatis m",
            "locals -v p",
            "print bigMap",
        ];
        let script = |frame: usize| -> Vec<String> {
            let mut script: Vec<String> = commands
                .iter()
                .map(|c| format!("goroutine 1 frame {frame} {c}"))
                .collect();
            script.push("exit".into());
            script
        };
        let (mut dlv_server, dlv_addr) = ferret_testkit::terminal::start_dlv_core(&exe, &core);
        let mut dlv_client = RpcClient::connect(&dlv_addr).unwrap();
        let dlv_frame = scope_of(&mut dlv_client, "main.main")["Frame"]
            .as_u64()
            .unwrap() as usize;
        drop(dlv_client);
        let dlv_script = script(dlv_frame);
        let refs: Vec<&str> = dlv_script.iter().map(String::as_str).collect();
        let theirs = ferret_testkit::terminal::run_dlv_connect(
            &dlv_addr,
            &refs,
            std::time::Duration::from_secs(60),
        );
        let _ = ferret_testkit::terminal::wait_or_kill(
            &mut dlv_server,
            std::time::Duration::from_secs(10),
        );

        let server = FerretServer::core(&exe, &core);
        let mut client = RpcClient::connect(&server.addr).unwrap();
        let our_frame = scope_of(&mut client, "main.main")["Frame"]
            .as_u64()
            .unwrap() as usize;
        drop(client);
        let our_script = script(our_frame);
        let refs: Vec<&str> = our_script.iter().map(String::as_str).collect();
        let ours = ferret_testkit::terminal::run_dlv_connect(
            &server.addr,
            &refs,
            std::time::Duration::from_secs(60),
        );

        assert_eq!(
            ours.blocks.len(),
            theirs.blocks.len(),
            "{version}:\n{}",
            ours.raw
        );
        for (i, ((_, our_output), (_, their_output))) in
            ours.blocks.iter().zip(&theirs.blocks).enumerate()
        {
            let command = commands
                .get(i.wrapping_sub(1))
                .copied()
                .unwrap_or("<connect/exit>");
            assert_eq!(our_output, their_output, "{version}: `{command}`");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}

/// Optimized builds: variables live in registers and pieces and come and
/// go by location lists; ferret's locals and arguments of the fixture's
/// frames equal dlv's on the same core, except for how an unreadable core
/// address is worded (compared up to "due to").
#[test]
fn optimized_locals_and_args_read_the_same_against_ferret_and_dlv() {
    /// The value with every `unreadable` text cut at " due to ".
    fn cut_memory_errors(v: &Value) -> Value {
        match v {
            Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(k, v)| {
                        let v = match (k.as_str(), v) {
                            ("unreadable", Value::String(s)) => {
                                Value::String(s.split(" due to ").next().unwrap_or("").to_owned())
                            }
                            _ => cut_memory_errors(v),
                        };
                        (k.clone(), v)
                    })
                    .collect(),
            ),
            Value::Array(items) => Value::Array(items.iter().map(cut_memory_errors).collect()),
            other => other.clone(),
        }
    }
    for toolchain in GoToolchain::selected().into_iter().filter(Delve::supports) {
        let version = &toolchain.version;
        let exe = build_fixture("vars", &toolchain, &BuildOptions::optimized());
        for (place, function, method, key) in [
            ("main", "main.main", "ListLocalVars", "Variables"),
            ("inspect", "main.inspect", "ListFunctionArgs", "Args"),
        ] {
            let dir = scratch(&format!("optimized-{place}-{version}"));
            let (core, _) = vars_core(&exe, place, &dir);
            let mut both = BothOnCore::start(&exe, &core);
            let our_scope = scope_of(&mut both.ferret, function);
            let their_scope = scope_of(&mut both.dlv, function);
            for (config_name, config) in configs() {
                let theirs = both
                    .dlv
                    .call(method, json!({"Scope": their_scope, "Cfg": config}))
                    .unwrap();
                let ours = both
                    .ferret
                    .call(method, json!({"Scope": our_scope, "Cfg": config}))
                    .unwrap();
                let (theirs, ours) = (
                    cut_memory_errors(&theirs[key]),
                    cut_memory_errors(&ours[key]),
                );
                let difference = first_difference(&ours, &theirs, key);
                assert!(
                    difference.is_none(),
                    "{version} optimized {method} {function} {config_name}: {}",
                    difference.unwrap_or_default()
                );
            }
            drop(both);
            let _ = std::fs::remove_dir_all(&dir);
        }
    }
}

/// `ListRegisters` and `ExamineMemory` answer what dlv answers on the same
/// core: the current thread's registers (text and list), bytes of a
/// variable, and Delve's errors for bad lengths and unreadable memory.
#[test]
fn registers_and_memory_read_the_same_against_ferret_and_dlv() {
    for toolchain in GoToolchain::selected().into_iter().filter(Delve::supports) {
        let version = &toolchain.version;
        let exe = build_fixture("vars", &toolchain, &BuildOptions::debug());
        let dir = scratch(&format!("registers-{version}"));
        let (core, _) = vars_core(&exe, "main", &dir);
        let mut both = BothOnCore::start(&exe, &core);
        let scope = scope_of(&mut both.ferret, "main.main");
        let p = both
            .ferret
            .call("Eval", json!({"Scope": scope, "Expr": "p"}))
            .unwrap();
        let address = p["Variable"]["addr"].as_u64().unwrap();
        for (method, params) in [
            (
                "ListRegisters",
                json!({"ThreadID": 0, "IncludeFp": false, "Scope": null}),
            ),
            ("ExamineMemory", json!({"Address": address, "Length": 16})),
            ("ExamineMemory", json!({"Address": address, "Length": 0})),
            (
                "ExamineMemory",
                json!({"Address": address, "Length": 70000}),
            ),
        ] {
            let theirs = both.dlv.call(method, params.clone());
            let ours = both.ferret.call(method, params.clone());
            assert_eq!(ours, theirs, "{version}: {method} {params}");
        }
        // Unreadable memory is an error for both (worded by each).
        let unmapped = json!({"Address": 8, "Length": 8});
        assert!(both.ferret.call("ExamineMemory", unmapped.clone()).is_err());
        assert!(both.dlv.call("ExamineMemory", unmapped).is_err());
        drop(both);
        let _ = std::fs::remove_dir_all(&dir);
    }
}

/// A breakpoint with `LoadArgs` and `LoadLocals` delivers the stopped
/// frame's arguments and locals in the `Command` reply's `breakPointInfo`,
/// as dlv does.
#[test]
fn breakpoint_info_carries_args_and_locals_as_dlv_does() {
    for toolchain in GoToolchain::selected().into_iter().filter(Delve::supports) {
        let exe = build_fixture("vars", &toolchain, &BuildOptions::debug());
        let full = configs()[0].1.clone();
        let request = json!({"Breakpoint": {"functionName": "main.inspect", "line": 0, "LoadArgs": full, "LoadLocals": full}});
        let mut infos = Vec::new();
        let mut run = |client: &mut dyn FnMut(&str, Value) -> Result<Value, String>| {
            client("CreateBreakpoint", request.clone()).unwrap();
            let state = client("Command", json!({"name": "continue"})).unwrap();
            infos.push(state["State"]["currentThread"]["breakPointInfo"].clone());
        };
        let mut dlv = Delve::exec(&exe);
        run(&mut |m, p| dlv.call(m, p));
        drop(dlv);
        let server = FerretServer::exec(&exe, &[]);
        let mut ferret = RpcClient::connect(&server.addr).unwrap();
        run(&mut |m, p| ferret.call(m, p));
        let _ = ferret.call("Detach", json!({"Kill": true}));
        // Addresses differ between the two runs of the program: compare what
        // does not depend on them.
        fn shape(v: &Value) -> Value {
            match v {
                Value::Object(map) => Value::Object(
                    map.iter()
                        .filter(|(k, _)| !matches!(k.as_str(), "addr" | "base" | "value"))
                        .map(|(k, v)| (k.clone(), shape(v)))
                        .collect(),
                ),
                Value::Array(items) => Value::Array(items.iter().map(shape).collect()),
                other => other.clone(),
            }
        }
        assert!(infos[0]["arguments"].is_array(), "{}", infos[0]);
        let difference = first_difference(&shape(&infos[1]), &shape(&infos[0]), "breakPointInfo");
        assert!(difference.is_none(), "{}", difference.unwrap_or_default());
        // Values that are no addresses are equal too.
        let args = |info: &Value| -> Vec<String> {
            info["arguments"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|a| a["kind"] != 22)
                .map(|a| format!("{}={}", a["name"], a["value"]))
                .collect()
        };
        assert_eq!(args(&infos[1]), args(&infos[0]));
    }
}

/// Tracepoints (`continue` breakpoints) report every hit with what they
/// load, and the client continues, as with dlv.
#[test]
fn tracepoints_report_each_hit_as_dlv_does() {
    for toolchain in GoToolchain::selected().into_iter().filter(Delve::supports) {
        let exe = build_fixture("busy", &toolchain, &BuildOptions::debug());
        let full = configs()[0].1.clone();
        let mut runs: Vec<Vec<String>> = Vec::new();
        let mut run = |client: &mut dyn FnMut(&str, Value) -> Result<Value, String>| {
            client(
                "CreateBreakpoint",
                json!({"Breakpoint": {"functionName": "main.work", "continue": true, "LoadArgs": full}}),
            )
            .unwrap();
            let mut seen = Vec::new();
            for _ in 0..5 {
                let state = client("Command", json!({"name": "continue"})).unwrap();
                let thread = &state["State"]["currentThread"];
                seen.push(format!(
                    "exited {} tracepoint {} args {}",
                    state["State"]["exited"],
                    thread["breakPoint"]["continue"],
                    thread["breakPointInfo"]["arguments"]
                        .as_array()
                        .map(|a| a
                            .iter()
                            .map(|v| v["value"].to_string())
                            .collect::<Vec<_>>()
                            .join(","))
                        .unwrap_or_default()
                ));
                if state["State"]["exited"] == true {
                    break;
                }
            }
            runs.push(seen);
        };
        let mut dlv = Delve::exec_with_args(&exe, &["loop", "3"]);
        run(&mut |m, p| dlv.call(m, p));
        drop(dlv);
        let server = FerretServer::exec(&exe, &["loop", "3"]);
        let mut ferret = RpcClient::connect(&server.addr).unwrap();
        run(&mut |m, p| ferret.call(m, p));
        let _ = ferret.call("Detach", json!({"Kill": true}));
        assert_eq!(runs[1], runs[0], "{}: ferret, then dlv", toolchain.version);
    }
}

/// `stepout` with a `ReturnInfoLoadConfig` returns the function's results
/// in `ReturnValues` (here `main.inspect`'s named `total` and `err`, and
/// `square`'s `~r0` in the hello fixture), as dlv does.
#[test]
fn stepout_return_values_read_the_same_against_ferret_and_dlv() {
    for toolchain in GoToolchain::selected().into_iter().filter(Delve::supports) {
        for (fixture, function) in [("vars", "main.inspect"), ("hello", "main.square")] {
            let exe = build_fixture(fixture, &toolchain, &BuildOptions::debug());
            let full = configs()[0].1.clone();
            let mut returned = Vec::new();
            let mut run = |client: &mut dyn FnMut(&str, Value) -> Result<Value, String>| {
                client(
                    "CreateBreakpoint",
                    json!({"Breakpoint": {"functionName": function}}),
                )
                .unwrap();
                client("Command", json!({"name": "continue"})).unwrap();
                let state = client(
                    "Command",
                    json!({"name": "stepOut", "ReturnInfoLoadConfig": full}),
                )
                .unwrap();
                let values = state["State"]["currentThread"]["ReturnValues"].clone();
                returned.push(
                    values
                        .as_array()
                        .map(|vs| {
                            vs.iter()
                                .map(|v| {
                                    format!(
                                        "{} {} {} {} flags {}",
                                        v["name"], v["type"], v["kind"], v["value"], v["flags"]
                                    )
                                })
                                .collect::<Vec<_>>()
                        })
                        .unwrap_or_default(),
                );
            };
            let mut dlv = Delve::exec(&exe);
            run(&mut |m, p| dlv.call(m, p));
            drop(dlv);
            let server = FerretServer::exec(&exe, &[]);
            let mut ferret = RpcClient::connect(&server.addr).unwrap();
            run(&mut |m, p| ferret.call(m, p));
            let _ = ferret.call("Detach", json!({"Kill": true}));
            assert!(
                !returned[0].is_empty(),
                "dlv returned nothing for {function}"
            );
            assert_eq!(
                returned[1], returned[0],
                "{}: {function}: ferret, then dlv",
                toolchain.version
            );
        }
    }
}

/// `Set` of an argument still in its register (at a function breakpoint in
/// a debug build) changes the register: the program then sees the new
/// value, as with dlv.
#[test]
fn set_changes_a_value_held_in_a_register_as_dlv_does() {
    for toolchain in GoToolchain::selected().into_iter().filter(Delve::supports) {
        let exe = build_fixture("busy", &toolchain, &BuildOptions::debug());
        let mut runs = Vec::new();
        let mut run = |client: &mut dyn FnMut(&str, Value) -> Result<Value, String>| {
            client(
                "CreateBreakpoint",
                json!({"Breakpoint": {"functionName": "main.work"}}),
            )
            .unwrap();
            client("Command", json!({"name": "continue"})).unwrap();
            let scope = json!({"GoroutineID": -1});
            let set = client("Set", json!({"Scope": scope, "Symbol": "i", "Value": "42"}));
            let read = || json!({"Scope": {"GoroutineID": -1}, "Expr": "i"});
            let now = client("Eval", read()).map(|v| v["Variable"]["value"].clone());
            client("Command", json!({"name": "next"})).unwrap();
            let after = client("Eval", read()).map(|v| v["Variable"]["value"].clone());
            runs.push(format!("{set:?} {now:?} {after:?}"));
        };
        let mut dlv = Delve::exec_with_args(&exe, &["loop", "3"]);
        run(&mut |m, p| dlv.call(m, p));
        drop(dlv);
        let server = FerretServer::exec(&exe, &["loop", "3"]);
        let mut ferret = RpcClient::connect(&server.addr).unwrap();
        run(&mut |m, p| ferret.call(m, p));
        let _ = ferret.call("Detach", json!({"Kill": true}));
        assert_eq!(runs[1], runs[0], "{}: ferret, then dlv", toolchain.version);
        assert!(runs[0].contains("42"), "{}", runs[0]);
    }
}

/// A million-element slice and a 100,000-entry map (the bigvals fixture,
/// paused in a core) come whole in one reply each, every element the
/// value the program stored: replies this large are streamed in chunks
/// and arrays of numbers kept packed, so this checks both paths.
#[test]
fn large_values_come_whole() {
    let toolchain = &GoToolchain::selected()[0];
    let exe = build_fixture("bigvals", toolchain, &BuildOptions::debug());
    let dir = scratch("bigvals");
    let (core, ()) = ferret_testkit::cores::core_when_ready(&exe, &[], &[], &dir, |stdout| {
        use std::io::BufRead;
        let mut lines = std::io::BufReader::new(stdout).lines();
        lines.any(|l| l.is_ok_and(|l| l == "paused")).then_some(())
    });
    let server = FerretServer::core(&exe, &core);
    let mut client = RpcClient::connect(&server.addr).unwrap();
    let scope = scope_of(&mut client, "main.main");
    /// The parts of an `api.Variable` checked here.
    #[derive(serde::Deserialize)]
    struct Loaded {
        value: String,
        addr: u64,
        #[serde(rename = "type")]
        type_name: String,
        len: i64,
        base: u64,
        children: Vec<Loaded>,
    }
    #[derive(serde::Deserialize)]
    struct EvalOut {
        #[serde(rename = "Variable")]
        variable: Loaded,
    }
    let eval = |client: &mut RpcClient, expr: &str, max: i64| {
        let cfg = json!({"FollowPointers": true, "MaxVariableRecurse": 1, "MaxStringLen": 64, "MaxArrayValues": max, "MaxStructFields": -1});
        client
            .call_typed::<EvalOut>("Eval", json!({"Scope": scope, "Expr": expr, "Cfg": cfg}))
            .unwrap_or_else(|e| panic!("Eval {expr}: {e}"))
            .variable
    };
    // The fixture stores big[i] = i*3 and entries[i] = i*7.
    let big = eval(&mut client, "big", 1_000_000);
    assert_eq!(big.len, 1_000_000);
    assert_eq!(big.children.len(), 1_000_000);
    for (i, e) in big.children.iter().enumerate() {
        assert_eq!(e.value, (i * 3).to_string(), "big[{i}]");
        assert_eq!(e.addr, big.base + 8 * i as u64, "&big[{i}]");
        assert_eq!(e.type_name, "int");
    }
    let entries = eval(&mut client, "entries", 100_000);
    assert_eq!(entries.children.len(), 200_000);
    let mut keys: Vec<u64> = entries
        .children
        .chunks(2)
        .map(|kv| {
            let key: u64 = kv[0].value.parse().unwrap();
            assert_eq!(kv[1].value, (key * 7).to_string(), "entries[{key}]");
            key
        })
        .collect();
    keys.sort_unstable();
    assert!(keys.iter().copied().eq(0..100_000), "every key once");
    // The connection still answers after the large replies.
    let short = eval(&mut client, "big", 3);
    assert_eq!(short.children.len(), 3);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Scopes of deferred calls (`EvalScope.DeferredCall`) on a live target
/// stopped in the leak fixture's `waitGroupWorker` after its two `defer`
/// statements: variables, an `Eval` and the error past the last call
/// answer as dlv's do.
#[test]
fn deferred_call_scopes_read_the_same_against_ferret_and_dlv() {
    for toolchain in GoToolchain::selected().into_iter().filter(Delve::supports) {
        let exe = build_fixture("leak", &toolchain, &BuildOptions::debug());
        let source = ferret_testkit::fixture::fixture_dir("leak").join("main.go");
        let line = std::fs::read_to_string(&source)
            .unwrap()
            .lines()
            .position(|l| l.trim() == "waitGroup.Wait()")
            .expect("waitGroup.Wait() in leak/main.go")
            + 1;
        let mut answers: [Vec<Result<Value, String>>; 2] = Default::default();
        let run = |call: &mut dyn FnMut(&str, Value) -> Result<Value, String>| {
            let mut out = Vec::new();
            call(
                "CreateBreakpoint",
                json!({"Breakpoint": {"file": source.display().to_string(), "line": line}}),
            )
            .unwrap();
            let state = call("Command", json!({"name": "continue"})).unwrap();
            let gid = state["State"]["currentGoroutine"]["id"].as_i64().unwrap();
            let stack = call("Stacktrace", json!({"Id": gid, "Depth": 5, "Defers": true})).unwrap();
            assert_eq!(stack["Locations"][0]["Defers"].as_array().unwrap().len(), 2);
            for deferred in 0..=3 {
                let scope = json!({"GoroutineID": gid, "Frame": 0, "DeferredCall": deferred});
                let full = &configs()[0].1;
                out.push(call("ListLocalVars", json!({"Scope": scope, "Cfg": full})));
                out.push(call(
                    "ListFunctionArgs",
                    json!({"Scope": scope, "Cfg": full}),
                ));
                for expr in ["len(\"defer\") + 1", "deferredRuns", "kind"] {
                    out.push(call("Eval", json!({"Scope": scope, "Expr": expr})));
                }
            }
            out
        };
        let mut dlv = Delve::exec_with_args(&exe, &["1"]);
        answers[0] = run(&mut |m, p| dlv.call(m, p));
        drop(dlv);
        let server = FerretServer::exec(&exe, &["1"]);
        let mut ferret = RpcClient::connect(&server.addr).unwrap();
        answers[1] = run(&mut |m, p| ferret.call(m, p));
        let _ = ferret.call("Detach", json!({"Kill": true}));
        for (i, (ours, theirs)) in answers[1].iter().zip(&answers[0]).enumerate() {
            assert_eq!(ours, theirs, "{}: answer {i}", toolchain.version);
        }
    }
}

/// A func value that is a closure shows the variables it captured as its
/// children, and `Eval` reaches them as members (`closure.counter`), as
/// dlv does: on a core of the vars fixture, the closure, the plain function
/// `fn` and `nilFunc` answer the same from ferret and dlv under several
/// load configurations, and the captured values are those the program
/// printed (`closure=` is `counter`). Go 1.22 (which dlv does not read)
/// describes no captured variables in its DWARF (`DW_AT_go_closure_offset`
/// came with Go 1.23), so there the closure shows its function and no
/// children, which is also what dlv 1.27 shows when made to read it.
#[test]
fn closures_show_their_captured_variables_as_dlv_does() {
    let configs = [
        configs().to_vec(),
        vec![
            (
                "one field, no depth",
                json!({"FollowPointers": true, "MaxVariableRecurse": 0, "MaxStringLen": 64, "MaxArrayValues": 64, "MaxStructFields": 1}),
            ),
            (
                "nothing",
                json!({"FollowPointers": false, "MaxVariableRecurse": 0, "MaxStringLen": 0, "MaxArrayValues": 0, "MaxStructFields": 0}),
            ),
        ],
    ]
    .concat();
    let expressions = [
        "closure",
        "fn",
        "nilFunc",
        "closure.counter",
        "closure.i",
        "closure.nope",
        "closure.counter.x",
        "fn.x",
        "nilFunc.x",
    ];
    for toolchain in GoToolchain::selected() {
        let version = &toolchain.version;
        let exe = build_fixture("vars", &toolchain, &BuildOptions::debug());
        let dir = scratch(&format!("closures-{version}"));
        let (core, printed) = vars_core(&exe, "main", &dir);
        let server = FerretServer::core(&exe, &core);
        let mut ferret = RpcClient::connect(&server.addr).unwrap();
        let scope = scope_of(&mut ferret, "main.main");
        let closure = ferret
            .call("Eval", json!({"Scope": scope, "Expr": "closure"}))
            .unwrap();
        let closure = &closure["Variable"];
        assert_eq!(closure["value"], "main.main.func1", "{version}");
        assert_eq!(closure["kind"], 19, "{version}");
        assert_eq!(closure["type"], "func() int", "{version}");
        let captured: Vec<(&str, &str)> = closure["children"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| (c["name"].as_str().unwrap(), c["value"].as_str().unwrap()))
            .collect();
        if toolchain.minor() < (1, 23) {
            assert_eq!(captured, [], "{version}: {closure}");
            drop(server);
            let _ = std::fs::remove_dir_all(&dir);
            continue;
        }
        assert_eq!(
            captured,
            [
                ("counter", printed["closure"].as_str()),
                ("i", printed["i"].as_str())
            ],
            "{version}"
        );
        if !Delve::supports(&toolchain) {
            drop(server);
            let _ = std::fs::remove_dir_all(&dir);
            continue;
        }
        drop(server);
        let mut both = BothOnCore::start(&exe, &core);
        let our_scope = scope_of(&mut both.ferret, "main.main");
        let their_scope = scope_of(&mut both.dlv, "main.main");
        for expression in expressions {
            let mut requests = vec![("default", json!({"Expr": expression}))];
            for (config_name, config) in &configs {
                requests.push((config_name, json!({"Expr": expression, "Cfg": config})));
            }
            for (config_name, request) in requests {
                let ask = |scope: &Value| {
                    let mut request = request.clone();
                    request["Scope"] = scope.clone();
                    request
                };
                let theirs = both.dlv.call("Eval", ask(&their_scope));
                let ours = both.ferret.call("Eval", ask(&our_scope));
                match (&ours, &theirs) {
                    (Ok(ours), Ok(theirs)) => {
                        let difference = first_difference(ours, theirs, expression);
                        assert!(
                            difference.is_none(),
                            "{version} {config_name}: {}",
                            difference.unwrap_or_default()
                        );
                    }
                    _ => assert_eq!(ours, theirs, "{version} {config_name}: Eval {expression}"),
                }
            }
        }
        drop(both);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
