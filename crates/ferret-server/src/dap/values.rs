//! How DAP shows a Go value, the way Delve's DAP server does
//! (service/dap/server.go and service/api/prettyprint.go): the one-line
//! value text, the type, the evaluate name a client can send back, which
//! values expand (and into which children), the `len()` and `string()`
//! pseudo-children, paging of arrays, slices and maps, and the memory
//! references of strings and slices.
//!
//! The input is the session's value model ([`Variable`], Delve's
//! `api.Variable`). Values loaded too shallowly to be expanded are read
//! again through a [`Reload`] callback, with the address expressions
//! Delve uses (`*(*"main.T")(0xc000010000)`). Handle numbers belong to the
//! caller: every [`Shown`] with an [`Expandable`] gets the next handle, in
//! the order the lists here come in, as Delve allocates them.

use std::borrow::Cow;
use std::fmt::Write as _;

use ferret_gort::bininfo::Kind;
use ferret_gort::value::{flags, LoadConfig, Variable};
use serde_json::{json, Map, Value};

/// Evaluates an expression with a load configuration, or says why it
/// could not: in the frame the value came from (the frame of the scope or
/// of the `evaluate` request behind the handle). Most expressions built
/// here are addresses, which any frame reads the same; evaluate names,
/// tried when an address cannot be read, need that frame.
pub type Reload<'a> = dyn FnMut(&str, LoadConfig) -> Result<Variable, String> + 'a;

/// What the client (its `initialize` request) and the launch
/// configuration ask of the presentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// `supportsVariableType`: send types (otherwise `type` is left out).
    pub client_shows_types: bool,
    /// `supportsVariablePaging`: the client pages long lists itself;
    /// otherwise a partly loaded value's text starts with `(loaded n/m)`.
    pub client_pages_variables: bool,
    /// `showRawStrings`: strings as their bytes, not quoted.
    pub raw_strings: bool,
    /// `maxStringLen` (0: Delve's default, 512).
    pub max_string_len: i64,
    /// `maxArrayValues` (0: Delve's default, 64).
    pub max_array_values: i64,
}

impl Default for Options {
    /// What VS Code asks for: types and paging, quoted strings, default
    /// limits.
    fn default() -> Options {
        Options {
            client_shows_types: true,
            client_pages_variables: true,
            raw_strings: false,
            max_string_len: 0,
            max_array_values: 0,
        }
    }
}

/// The load configuration Delve's DAP server reads variables with (its
/// `DefaultLoadConfig`, with the launch configuration's limits): the same
/// for scopes, evaluations and reloads.
pub fn load_config(options: &Options) -> LoadConfig {
    let positive_or = |n: i64, default: i64| if n > 0 { n } else { default };
    LoadConfig {
        follow_pointers: true,
        max_variable_recurse: 1,
        max_string_len: positive_or(options.max_string_len, 512),
        max_array_values: positive_or(options.max_array_values, 64),
        max_struct_fields: -1,
    }
}

/// The longest value text of an expandable value (longer ones are cut and
/// end in `...`, unless the full value is asked for).
const MAX_VALUE_LEN: usize = 256;
/// The longest map key used as a child's name when the key expands.
const MAX_MAP_KEY_LEN: usize = 64;
/// How much of a string an evaluation reads again when the first read
/// was cut (repl, variables, hover and clipboard contexts).
const MAX_SINGLE_STRING_LEN: i64 = 4096;

/// Memory a client may read through a `memoryReference` (the bytes of a
/// string or of a slice's elements).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemoryReference {
    /// Where the data starts.
    pub address: u64,
    /// The value's length (bytes of a string, elements of a slice).
    pub len: i64,
}

impl MemoryReference {
    /// The reference as DAP carries it: the address in hex (`0xc000012000`).
    pub fn text(&self) -> String {
        format!("{:#x}", self.address)
    }
}

/// One value as DAP shows it: a `Variable` object (or an evaluate
/// result) without its handle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shown {
    /// The child's name (`X`, `[3]`, `"key"`, `len()`; empty for a pointee
    /// and for an evaluate result).
    pub name: String,
    /// The one-line value text.
    pub value: String,
    /// The type (empty when the client does not show types).
    pub type_name: String,
    /// An expression that reads this value again (may be empty).
    pub evaluate_name: String,
    /// Set when the value expands: the caller keeps it behind a new
    /// `variablesReference` handle.
    pub expandable: Option<Expandable>,
    /// Elements of an array or slice, entries of a map (0 otherwise).
    pub indexed_variables: i64,
    /// Pseudo-children: `len()` of a map, `string()` of bytes or runes.
    pub named_variables: i64,
    /// Where a string's or slice's data is (not for elements, map entries
    /// or evaluate results, as in Delve).
    pub memory_reference: Option<MemoryReference>,
}

/// What the caller keeps behind a `variablesReference` handle to list
/// the children later with [`children`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expandable {
    /// The value, as loaded (and reloaded when it was too shallow).
    pub variable: Variable,
    /// The expression its children's evaluate names build on (for a
    /// scope: the package of its variables, or empty).
    pub evaluate_name: String,
    /// A scope (Locals, Globals): its children are named variables.
    pub scope: bool,
}

impl Expandable {
    /// The `Locals` scope of a frame: its arguments, then its locals.
    pub fn locals(variables: Vec<Variable>) -> Expandable {
        Expandable {
            variable: Variable {
                name: "Locals".into(),
                children: variables,
                ..Variable::default()
            },
            evaluate_name: String::new(),
            scope: true,
        }
    }

    /// The `Globals (package P)` scope: package `package`'s variables,
    /// named without the package (evaluate names keep it).
    pub fn globals(package: &str, variables: Vec<Variable>) -> Expandable {
        let prefix = format!("{package}.");
        let children = variables
            .into_iter()
            .map(|mut v| {
                if let Some(short) = v.name.strip_prefix(&prefix) {
                    v.name = short.to_owned();
                }
                v
            })
            .collect();
        Expandable {
            variable: Variable {
                name: format!("Globals (package {package})"),
                children,
                ..Variable::default()
            },
            evaluate_name: package.to_owned(),
            scope: true,
        }
    }
}

/// The children of an expandable value, as a `variables` request lists
/// them. `filter` is the request's: `indexed` pages elements or entries
/// from `start`, `count` of them (read again unless exactly those are
/// loaded); `named` gives only the pseudo-children; none gives both, and
/// ignores `start` and `count` (as Delve does). An error is the request's
/// ("Unable to lookup variable").
pub fn children(
    expandable: &Expandable,
    filter: Option<&str>,
    start: usize,
    count: usize,
    options: &Options,
    reload: &mut Reload<'_>,
) -> Result<Vec<Shown>, String> {
    let filter = filter.unwrap_or("");
    let (parent, first_index) = if filter == "indexed" {
        (resliced(expandable, start, count, options, reload)?, start)
    } else {
        (Cow::Borrowed(expandable), 0)
    };
    let mut out = Vec::new();
    if filter == "named" || filter.is_empty() {
        out.extend(named_children(&parent, options, reload));
    }
    if filter == "indexed" || filter.is_empty() {
        out.extend(indexed_children(&parent, first_index, options, reload));
    }
    Ok(out)
}

/// An `evaluate` request's result for `expression` in `context` (`watch`,
/// `repl`, `hover`, `clipboard`, `variables`): `eval` reads the expression
/// in the request's frame; its error is the request's error. A string cut
/// short is read again, longer, except for watches; the clipboard and
/// variables contexts get the whole text of a long value. Expressions
/// starting with `dlv ` or `call ` are the caller's to handle first.
pub fn evaluate(
    expression: &str,
    context: &str,
    options: &Options,
    eval: &mut Reload<'_>,
) -> Result<Shown, String> {
    let config = load_config(options);
    let mut v = eval(expression, config)?;
    let rereads_strings = matches!(context, "repl" | "variables" | "hover" | "clipboard");
    if rereads_strings
        && v.kind == Some(Kind::String)
        && v.unreadable.is_empty()
        && (string_bytes(&v).len() as i64) < v.len
    {
        let longer = LoadConfig {
            max_string_len: MAX_SINGLE_STRING_LEN,
            ..config
        };
        // As in Delve, a failed second read keeps the first.
        if let Ok(longer) = eval(expression, longer) {
            v = longer;
        }
    }
    let full_value = matches!(context, "clipboard" | "variables");
    let converted = convert(&v, full_value, options, eval);
    Ok(converted.shown(String::new(), format!("({expression})"), options))
}

/// The one-line text of a value, whole, as a log point prints it
/// (values loaded too shallowly are read again first).
pub fn value_text(v: &Variable, options: &Options, reload: &mut Reload<'_>) -> String {
    convert(v, true, options, reload).value
}

/// The type of a value as DAP names it (an interface with its dynamic
/// type, `error(*errors.errorString)`), or nothing for a client that does
/// not show types: what a `setVariable` response says.
pub fn type_shown(v: &Variable, options: &Options) -> String {
    if !options.client_shows_types {
        return String::new();
    }
    if kind_of(v) == Kind::Interface {
        if let Some(data) = v.children.first().filter(|d| kind_of(d) != Kind::Invalid) {
            return format!("{}({})", v.type_name, data.type_name);
        }
    }
    type_text(v).into_owned()
}

/// The evaluate name of the child named `name` among `children` (a
/// [`children`] list without filter), which a `setVariable` request
/// assigns to; Delve's errors when there is none. (Delve lists the
/// children to find it, so their handles are allocated as for a
/// `variables` request.)
pub fn evaluate_name_of(children: &[Shown], name: &str) -> Result<String, String> {
    let child = children
        .iter()
        .find(|c| c.name == name)
        .ok_or("failed to find the named variable")?;
    if child.evaluate_name.is_empty() {
        return Err("cannot set the variable without evaluate name".into());
    }
    Ok(child.evaluate_name.clone())
}

/// Whether a failed evaluation in `context` is shown to the user
/// (`showUser` of the error body): not for watches, the repl and hovers.
pub fn shows_error_to_user(context: &str) -> bool {
    !matches!(context, "watch" | "repl" | "hover")
}

/// The DAP `Variable` object for `shown`, with handle `reference` (0 for
/// none); empty and zero optional fields left out, as Delve sends them.
pub fn to_json(shown: &Shown, reference: i64) -> Value {
    let mut out = Map::new();
    out.insert("name".into(), json!(shown.name));
    out.insert("value".into(), json!(shown.value));
    if !shown.type_name.is_empty() {
        out.insert("type".into(), json!(shown.type_name));
    }
    if !shown.evaluate_name.is_empty() {
        out.insert("evaluateName".into(), json!(shown.evaluate_name));
    }
    out.insert("variablesReference".into(), json!(reference));
    insert_counts(&mut out, shown);
    if let Some(memory) = &shown.memory_reference {
        out.insert("memoryReference".into(), json!(memory.text()));
    }
    Value::Object(out)
}

/// The body of an `evaluate` response for `shown` (from [`evaluate`]),
/// with handle `reference` (0 for none).
pub fn evaluate_json(shown: &Shown, reference: i64) -> Value {
    let mut out = Map::new();
    out.insert("result".into(), json!(shown.value));
    if !shown.type_name.is_empty() {
        out.insert("type".into(), json!(shown.type_name));
    }
    out.insert("variablesReference".into(), json!(reference));
    insert_counts(&mut out, shown);
    Value::Object(out)
}

fn insert_counts(out: &mut Map<String, Value>, shown: &Shown) {
    if shown.named_variables != 0 {
        out.insert("namedVariables".into(), json!(shown.named_variables));
    }
    if shown.indexed_variables != 0 {
        out.insert("indexedVariables".into(), json!(shown.indexed_variables));
    }
}

/// A value made ready to show: its text, the variable (read again if it
/// was too shallow), and whether it expands.
struct Converted<'v> {
    value: String,
    variable: Cow<'v, Variable>,
    expands: bool,
}

impl Converted<'_> {
    /// The value shown as `name`, read again by `evaluate_name` (without a
    /// memory reference).
    fn shown(self, name: String, evaluate_name: String, options: &Options) -> Shown {
        Shown {
            name,
            type_name: type_shown(&self.variable, options),
            indexed_variables: indexed_count(&self.variable),
            named_variables: named_count(&self.variable),
            expandable: self.expandable(&evaluate_name),
            value: self.value,
            evaluate_name,
            memory_reference: None,
        }
    }

    /// What to keep behind a handle, when the value expands.
    fn expandable(&self, evaluate_name: &str) -> Option<Expandable> {
        self.expands.then(|| Expandable {
            variable: self.variable.clone().into_owned(),
            evaluate_name: evaluate_name.to_owned(),
            scope: false,
        })
    }
}

/// Delve's `convertVariableWithOpts`: the value text, reading again what
/// was loaded too shallowly to expand, and whether it expands.
fn convert<'v>(
    v: &'v Variable,
    full_value: bool,
    options: &Options,
    reload: &mut Reload<'_>,
) -> Converted<'v> {
    let mut variable = Cow::Borrowed(v);
    let mut value = format_value(v, options.raw_strings);
    if !v.unreadable.is_empty() {
        return Converted {
            value,
            variable,
            expands: false,
        };
    }
    let loaded = v.child_count();
    let kind = kind_of(v);
    let expands = match kind {
        k if k.is_unsigned() => {
            let n: u64 = int_text(&v.value).parse().unwrap_or(0);
            value = format!("{value} = {n:#x}");
            false
        }
        Kind::UnsafePointer | Kind::String => false,
        Kind::Ptr => {
            let pointee = v.children.first();
            let readable = |c: &Variable| c.addr != 0 && kind_of(c) != Kind::Invalid;
            match pointee {
                Some(pointee) if !v.type_name.is_empty() && readable(pointee) => {
                    if pointee.only_addr {
                        value = if v.addr == 0 {
                            reload_pointee(variable.to_mut(), options, reload)
                        } else {
                            reload_in_place(variable.to_mut(), options, reload)
                        };
                    }
                    !variable.children[0].only_addr
                }
                _ => false,
            }
        }
        Kind::Slice | Kind::Array => {
            if v.len > loaded as i64 {
                if v.base != 0 && loaded == 0 {
                    value = reload_in_place(variable.to_mut(), options, reload);
                } else if !options.client_pages_variables {
                    value = format!("(loaded {loaded}/{}) {value}", v.len);
                }
            }
            v.base != 0 && variable.child_count() > 0
        }
        Kind::Map => {
            if v.len > (loaded / 2) as i64 {
                if loaded == 0 {
                    value = reload_in_place(variable.to_mut(), options, reload);
                } else if !options.client_pages_variables {
                    value = format!("(loaded {}/{}) {value}", loaded / 2, v.len);
                }
            }
            v.base != 0 && variable.child_count() > 0
        }
        Kind::Interface => {
            let data = v.children.first();
            let readable = |c: &Variable| c.addr != 0 && kind_of(c) != Kind::Invalid;
            match data {
                Some(data) if v.addr != 0 && readable(data) => {
                    if data.only_addr {
                        value = reload_in_place(variable.to_mut(), options, reload);
                    }
                    !variable.children[0].only_addr
                }
                _ => false,
            }
        }
        Kind::Struct | Kind::Func => {
            if v.len > loaded as i64 {
                if loaded == 0 {
                    value = reload_in_place(variable.to_mut(), options, reload);
                } else {
                    value = format!("(loaded {loaded}/{}) {value}", v.len);
                }
            }
            variable.child_count() > 0
        }
        Kind::Complex64 | Kind::Complex128 => true,
        _ => loaded > 0,
    };
    if expands && !full_value && value.len() > MAX_VALUE_LEN {
        value = format!("{}...", cut_bytes(&value, MAX_VALUE_LEN));
    }
    Converted {
        value,
        variable,
        expands,
    }
}

/// Reads `v` again, whole, at its address (Delve's `reloadVariable`):
/// its children and value come from the new read. Returns the new value
/// text, or the old one with why the read failed.
fn reload_in_place(v: &mut Variable, options: &Options, reload: &mut Reload<'_>) -> String {
    let expression = address_expression(&v.type_name, v.addr);
    let config = LoadConfig {
        follow_pointers: true,
        ..load_config(options)
    };
    match reload(&expression, config) {
        Ok(loaded) => {
            v.children = loaded.children;
            v.packed = loaded.packed;
            v.value = loaded.value;
            format_value(v, options.raw_strings)
        }
        Err(e) => format!(
            "{} - FAILED TO LOAD: {e}",
            format_value(v, options.raw_strings)
        ),
    }
}

/// Reads the pointee of a pointer that is not itself in memory (`&x`)
/// at the pointee's address.
fn reload_pointee(v: &mut Variable, options: &Options, reload: &mut Reload<'_>) -> String {
    let pointee = &v.children[0];
    let expression = address_expression(&pointee.type_name, pointee.addr);
    match reload(&expression, load_config(options)) {
        Ok(mut loaded) => {
            loaded.name = pointee.name.clone();
            v.children = vec![loaded];
            format_value(v, options.raw_strings)
        }
        Err(e) => format!(
            "{} - FAILED TO LOAD: {e}",
            format_value(v, options.raw_strings)
        ),
    }
}

/// `*(*"T")(0xADDR)`: the value of type `type_name` at `addr`.
fn address_expression(type_name: &str, addr: u64) -> String {
    format!("*(*{})({addr:#x})", go_quote(type_name.as_bytes()))
}

/// The parent whose elements `start..start+count` are loaded (Delve's
/// `maybeLoadResliced`): the same one when exactly those are loaded,
/// otherwise a new read of just that window.
fn resliced<'e>(
    expandable: &'e Expandable,
    start: usize,
    count: usize,
    options: &Options,
    reload: &mut Reload<'_>,
) -> Result<Cow<'e, Expandable>, String> {
    let v = &expandable.variable;
    let kind = kind_of(v);
    let per_element = if kind == Kind::Map { 2 } else { 1 };
    if start == 0 && count * per_element == v.child_count() {
        return Ok(Cow::Borrowed(expandable));
    }
    let config = LoadConfig {
        max_array_values: count as i64,
        ..load_config(options)
    };
    let window = match kind {
        Kind::Array | Kind::Slice => {
            let (low, high) = (start as i64, (start + count) as i64);
            let high = high.min(v.len);
            let bound = if kind == Kind::Slice { v.cap } else { v.len };
            if low > bound || high > bound || high < low {
                return Err("index out of bounds".into());
            }
            let window = |whole: &str| format!("({whole})[{low}:{high}]");
            match read_whole(expandable, window, config, reload) {
                Err(_) if kind == Kind::Array => read_elements(v, low, high, config, reload)?,
                read => read?,
            }
        }
        Kind::Map => {
            // The map is read from its first entry up to the window's end,
            // in the order Delve reads it, and the entries before the
            // window are dropped.
            let config = LoadConfig {
                max_array_values: (start + count) as i64,
                ..config
            };
            let mut whole = read_whole(expandable, str::to_owned, config, reload)?;
            let skipped = (2 * start).min(whole.children.len());
            whole.children.drain(..skipped);
            whole
        }
        _ => return Err("variable to reslice is not an array, slice, or map".into()),
    };
    Ok(Cow::Owned(Expandable {
        variable: window,
        evaluate_name: expandable.evaluate_name.clone(),
        scope: false,
    }))
}

/// Reads `expression(whole)`, `whole` naming the expandable value: its
/// address first, then its evaluate name when that fails (for a type
/// only the debugger names, such as a channel's buffer array). Delve
/// reads the value itself; ferret reads expressions.
fn read_whole(
    expandable: &Expandable,
    expression: impl Fn(&str) -> String,
    config: LoadConfig,
    reload: &mut Reload<'_>,
) -> Result<Variable, String> {
    let v = &expandable.variable;
    let by_address = (v.addr != 0 && v.flags & flags::FAKE_ADDRESS == 0)
        .then(|| address_expression(&v.type_name, v.addr));
    let by_name = (!expandable.evaluate_name.is_empty()).then(|| expandable.evaluate_name.clone());
    let mut first_error = None;
    for whole in [by_address, by_name].into_iter().flatten() {
        match reload(&expression(&whole), config) {
            Ok(read) => return Ok(read),
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    Err(first_error.unwrap_or_else(|| "the value has neither an address nor a name".into()))
}

/// Elements `low..high` of array `v`, read one by one at their addresses:
/// for an array no expression can slice (a channel's buffer, whose array
/// type only the debugger names). Each is read as a value of its own, so
/// one level deeper than Delve reads an element.
fn read_elements(
    v: &Variable,
    low: i64,
    high: i64,
    config: LoadConfig,
    reload: &mut Reload<'_>,
) -> Result<Variable, String> {
    let mut loaded = v.each_child();
    let first = loaded.next().ok_or("no element of the array was read")?;
    let stride = loaded.next().map_or(0, |second| second.addr - first.addr);
    let mut elements = Vec::new();
    for i in low..high {
        let addr = first.addr + i as u64 * stride;
        elements.push(reload(&address_expression(&first.type_name, addr), config)?);
    }
    // Only the elements of a window are shown.
    Ok(Variable {
        kind: v.kind,
        len: v.len,
        cap: v.cap,
        children: elements,
        ..Variable::default()
    })
}

/// The pseudo-children: `len()` of a map, `string()` of a list of bytes or
/// runes (read again as a string, as long as a string may be).
fn named_children(parent: &Expandable, options: &Options, reload: &mut Reload<'_>) -> Vec<Shown> {
    let v = &parent.variable;
    let mut out = Vec::new();
    if kind_of(v) == Kind::Map && v.len > 0 {
        out.push(Shown {
            name: "len()".into(),
            value: v.len.to_string(),
            type_name: "int".into(),
            evaluate_name: format!("len({})", parent.evaluate_name),
            expandable: None,
            indexed_variables: 0,
            named_variables: 0,
            memory_reference: None,
        });
    }
    if is_list_of_bytes_or_runes(v) && v.addr != 0 && v.flags & flags::FAKE_ADDRESS == 0 {
        // As in Delve, a list that cannot be read as a string leaves
        // `string()` out.
        if let Some(text) = list_as_string(parent, options, reload) {
            out.push(Shown {
                name: "string()".into(),
                value: convert(&text, false, options, reload).value,
                type_name: "string".into(),
                evaluate_name: String::new(),
                expandable: None,
                indexed_variables: 0,
                named_variables: 0,
                memory_reference: None,
            });
        }
    }
    out
}

/// `string(list)` for a list of `uint8` or `int32` (Delve's conversion):
/// the list read again as long as a string may be, its bytes (or runes
/// encoded) as a string; the length is the list's for bytes, the text's
/// for runes.
fn list_as_string(
    parent: &Expandable,
    options: &Options,
    reload: &mut Reload<'_>,
) -> Option<Variable> {
    let element_type = parent.variable.each_child().next()?.type_name.clone();
    let config = load_config(options);
    let config = LoadConfig {
        max_array_values: config.max_string_len,
        ..config
    };
    let read = |list: &Variable| -> Vec<i64> {
        list.each_child()
            .map(|e| e.value.parse().unwrap_or(0))
            .collect()
    };
    let (bytes, len) = match element_type.as_str() {
        "uint8" | "byte" => {
            let list = read_whole(parent, str::to_owned, config, reload).ok()?;
            let bytes: Vec<u8> = read(&list).into_iter().map(|n| n as u8).collect();
            (bytes, list.len)
        }
        "int32" | "rune" => {
            let list = read_whole(parent, str::to_owned, config, reload).ok()?;
            let text: String = read(&list)
                .into_iter()
                .map(|n| char::from_u32(n as u32).unwrap_or('\u{fffd}'))
                .collect();
            let len = text.len() as i64;
            (text.into_bytes(), len)
        }
        _ => return None,
    };
    let (value, string_bytes) = match String::from_utf8(bytes) {
        Ok(text) => (text, None),
        Err(e) => (go_text(e.as_bytes()), Some(e.into_bytes())),
    };
    Some(Variable {
        type_name: "string".into(),
        real_type: "string".into(),
        kind: Some(Kind::String),
        value,
        string_bytes,
        len,
        ..Variable::default()
    })
}

/// Delve's `childrenToDAPVariables`: map entries, elements, or fields
/// (and the pointee, the interface's data, a channel's or closure's
/// fields, a complex number's parts, a scope's variables).
fn indexed_children(
    parent: &Expandable,
    first_index: usize,
    options: &Options,
    reload: &mut Reload<'_>,
) -> Vec<Shown> {
    let v = &parent.variable;
    match kind_of(v) {
        Kind::Map => map_entries(parent, first_index, options, reload),
        Kind::Slice | Kind::Array => v
            .each_child()
            .enumerate()
            .map(|(i, element)| {
                let index = first_index + i;
                let evaluate_name = format!("{}[{index}]", parent.evaluate_name);
                convert(&element, false, options, reload).shown(
                    format!("[{index}]"),
                    evaluate_name,
                    options,
                )
            })
            .collect(),
        kind => {
            let fields: Vec<Cow<'_, Variable>> = match kind {
                Kind::Complex64 | Kind::Complex128 => {
                    complex_parts(v).into_iter().map(Cow::Owned).collect()
                }
                _ => v.each_child().collect(),
            };
            fields
                .iter()
                .map(|field| {
                    let evaluate_name = field_evaluate_name(parent, kind, &field.name);
                    let converted = convert(field, false, options, reload);
                    let name = if field.flags & flags::SHADOWED != 0 {
                        format!("({})", field.name)
                    } else {
                        field.name.clone()
                    };
                    let memory_reference = memory_reference(&converted.variable);
                    Shown {
                        memory_reference,
                        ..converted.shown(name, evaluate_name, options)
                    }
                })
                .collect()
        }
    }
}

/// The evaluate name of child `name` of `parent` (a `kind` value, or a
/// scope): a field selector, the interface's `.(data)`, the pointee
/// `(*p)`, the bare name of a local; none for a complex number's parts,
/// for names no expression can reach, or under a parent without one.
fn field_evaluate_name(parent: &Expandable, kind: Kind, name: &str) -> String {
    let base = &parent.evaluate_name;
    if name.starts_with('~') || name.starts_with('.') {
        String::new()
    } else if parent.scope && base.is_empty() {
        name.to_owned()
    } else if base.is_empty() {
        String::new()
    } else {
        match kind {
            Kind::Interface => format!("{base}.({name})"),
            Kind::Ptr => format!("(*{base})"),
            Kind::Complex64 | Kind::Complex128 => String::new(),
            _ => format!("{base}.{name}"),
        }
    }
}

/// A complex number's `real` and `imaginary` parts, as float children.
fn complex_parts(v: &Variable) -> [Variable; 2] {
    let part_kind = if kind_of(v) == Kind::Complex64 {
        Kind::Float32
    } else {
        Kind::Float64
    };
    let inner = v.value.trim_start_matches('(').trim_end_matches(')');
    let (real, imaginary) = inner
        .split_once(" + ")
        .map_or(("", ""), |(re, im)| (re, im.trim_end_matches('i')));
    let part = |name: &str, value: &str| Variable {
        name: name.into(),
        kind: Some(part_kind),
        value: value.into(),
        ..Variable::default()
    };
    [part("real", real), part("imaginary", imaginary)]
}

/// A map's entries from index `first_index`: one child `key: value` when
/// the key or the value is a scalar, else `[key i]` and `[val i]`.
fn map_entries(
    parent: &Expandable,
    first_index: usize,
    options: &Options,
    reload: &mut Reload<'_>,
) -> Vec<Shown> {
    let entries: Vec<Cow<'_, Variable>> = parent.variable.each_child().collect();
    let mut out = Vec::new();
    for (i, pair) in entries.chunks_exact(2).enumerate() {
        let (key, val) = (&pair[0], &pair[1]);
        let index = first_index + i;
        let map = &parent.evaluate_name;
        let key_expression = format!(
            "(*(*{})({:#x}))",
            go_quote(type_text(key).as_bytes()),
            key.addr
        );
        let key_kind = kind_of(key);
        let val_expression = if key_kind.is_signed()
            || key_kind.is_unsigned()
            || matches!(
                key_kind,
                Kind::Bool | Kind::Float32 | Kind::Float64 | Kind::Complex64 | Kind::Complex128
            ) {
            format!("{map}[{}]", key.value)
        } else if key_kind == Kind::String
            && key.unreadable.is_empty()
            && string_bytes(key).len() as i64 == key.len
        {
            format!("{map}[{}]", go_quote(string_bytes(key)))
        } else {
            format!("{map}[{key_expression}]")
        };
        let key_shown = convert(key, false, options, reload);
        let val_shown = convert(val, false, options, reload);
        let key_type = type_shown(&key_shown.variable, options);
        let val_type = type_shown(&val_shown.variable, options);
        if key_shown.expands && val_shown.expands {
            // Both expand: the key and the value are children of their own.
            out.push(key_shown.shown(format!("[key {index}]"), key_expression, options));
            out.push(val_shown.shown(format!("[val {index}]"), val_expression, options));
            continue;
        }
        let type_name = if !key_type.is_empty() && !val_type.is_empty() {
            format!("{key_type}: {val_type}")
        } else {
            val_type
        };
        let mut entry = Shown {
            name: key_shown.value.clone(),
            value: val_shown.value.clone(),
            type_name,
            evaluate_name: val_expression.clone(),
            expandable: None,
            indexed_variables: 0,
            named_variables: 0,
            memory_reference: None,
        };
        // The expanding side (if any) is what the entry expands into.
        let expanding = if key_shown.expands {
            if key_shown.value.len() > MAX_MAP_KEY_LEN {
                entry.name = format!(
                    "{}... @ {:#x}",
                    cut_bytes(&key_shown.value, MAX_MAP_KEY_LEN),
                    key.addr
                );
            }
            Some((key_shown, key_expression))
        } else if val_shown.expands {
            Some((val_shown, val_expression))
        } else {
            None
        };
        if let Some((side, expression)) = expanding {
            entry.indexed_variables = indexed_count(&side.variable);
            entry.named_variables = named_count(&side.variable);
            entry.expandable = side.expandable(&expression);
        }
        out.push(entry);
    }
    out
}

/// The kind, `Invalid` when unknown.
fn kind_of(v: &Variable) -> Kind {
    v.kind.unwrap_or(Kind::Invalid)
}

/// Go's name of a kind (`reflect.Kind.String`).
fn kind_name(kind: Kind) -> &'static str {
    match kind {
        Kind::Invalid => "invalid",
        Kind::Bool => "bool",
        Kind::Int => "int",
        Kind::Int8 => "int8",
        Kind::Int16 => "int16",
        Kind::Int32 => "int32",
        Kind::Int64 => "int64",
        Kind::Uint => "uint",
        Kind::Uint8 => "uint8",
        Kind::Uint16 => "uint16",
        Kind::Uint32 => "uint32",
        Kind::Uint64 => "uint64",
        Kind::Uintptr => "uintptr",
        Kind::Float32 => "float32",
        Kind::Float64 => "float64",
        Kind::Complex64 => "complex64",
        Kind::Complex128 => "complex128",
        Kind::Array => "array",
        Kind::Chan => "chan",
        Kind::Func => "func",
        Kind::Interface => "interface",
        Kind::Map => "map",
        Kind::Ptr => "ptr",
        Kind::Slice => "slice",
        Kind::String => "string",
        Kind::Struct => "struct",
        Kind::UnsafePointer => "unsafe.Pointer",
    }
}

/// The type's name, or the kind's for a value without a type (a
/// constant, a complex number's part), as Delve's `TypeString` says.
fn type_text(v: &Variable) -> Cow<'_, str> {
    if v.type_name.is_empty() {
        Cow::Borrowed(kind_name(kind_of(v)))
    } else {
        Cow::Borrowed(&v.type_name)
    }
}

/// Elements of an array or slice, entries of a map.
fn indexed_count(v: &Variable) -> i64 {
    match kind_of(v) {
        Kind::Array | Kind::Slice | Kind::Map => v.len,
        _ => 0,
    }
}

/// How many pseudo-children [`named_children`] gives.
fn named_count(v: &Variable) -> i64 {
    let len = i64::from(kind_of(v) == Kind::Map && v.len > 0);
    let string = i64::from(is_list_of_bytes_or_runes(v));
    len + string
}

/// An array or slice of (loaded) bytes or runes.
fn is_list_of_bytes_or_runes(v: &Variable) -> bool {
    matches!(kind_of(v), Kind::Array | Kind::Slice)
        && v.each_child()
            .next()
            .is_some_and(|first| matches!(kind_of(&first), Kind::Uint8 | Kind::Int32))
}

/// Strings and slices point at their data.
fn memory_reference(v: &Variable) -> Option<MemoryReference> {
    let addressable = v.unreadable.is_empty() && matches!(kind_of(v), Kind::Slice | Kind::String);
    addressable.then_some(MemoryReference {
        address: if v.base != 0 { v.base } else { v.addr },
        len: v.len,
    })
}

/// The bytes of a string value as read.
fn string_bytes(v: &Variable) -> &[u8] {
    v.string_bytes.as_deref().unwrap_or(v.value.as_bytes())
}

/// The number in a value text such as `Red (2)`, or the text itself.
fn int_text(value: &str) -> &str {
    match value.strip_suffix(')').and_then(|v| v.rsplit_once('(')) {
        Some((_, number)) => number,
        None => value,
    }
}

/// The first `max` bytes of `text`, a character cut in two becoming one
/// U+FFFD per byte (what Go's JSON encoder makes of the broken bytes).
fn cut_bytes(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mut whole = max;
    while !text.is_char_boundary(whole) {
        whole -= 1;
    }
    let mut out = text[..whole].to_owned();
    out.extend(std::iter::repeat_n('\u{fffd}', max - whole));
    out
}

/// Bytes as text, each byte that is not part of valid UTF-8 becoming
/// U+FFFD (Go's JSON encoder does the same).
fn go_text(bytes: &[u8]) -> String {
    let mut out = String::new();
    for chunk in bytes.utf8_chunks() {
        out.push_str(chunk.valid());
        out.extend(std::iter::repeat_n('\u{fffd}', chunk.invalid().len()));
    }
    out
}

/// A value as Go's `constant.Value.String()` prints it (strings quoted,
/// other values as their text): how Delve words a panic's or fatal
/// error's message in `stopped` events and `exceptionInfo`.
pub fn constant_text(v: &Variable) -> String {
    match v.kind {
        Some(Kind::String) => go_quote(string_bytes(v)),
        _ => v.value.clone(),
    }
}

/// Go's `%q` (`strconv.Quote`) of the bytes: a double-quoted string with
/// Go escapes, bytes that are not UTF-8 as `\xNN`.
fn go_quote(bytes: &[u8]) -> String {
    let mut out = String::from("\"");
    for chunk in bytes.utf8_chunks() {
        for ch in chunk.valid().chars() {
            match ch {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\u{7}' => out.push_str("\\a"),
                '\u{8}' => out.push_str("\\b"),
                '\u{c}' => out.push_str("\\f"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                '\u{b}' => out.push_str("\\v"),
                c if ferret_gort::expr::is_printable(c) => out.push(c),
                c if (c as u32) < 0x20 || c == '\u{7f}' => {
                    let _ = write!(out, "\\x{:02x}", c as u32);
                }
                c if (c as u32) < 0x10000 => {
                    let _ = write!(out, "\\u{:04x}", c as u32);
                }
                c => {
                    let _ = write!(out, "\\U{:08x}", c as u32);
                }
            }
        }
        for byte in chunk.invalid() {
            let _ = write!(out, "\\x{byte:02x}");
        }
    }
    out.push('"');
    out
}

/// Delve's `ShortenType`: package paths cut to their last element
/// (`github.com/a/b.T` becomes `b.T`), inside pointers, arrays, slices,
/// maps and type arguments; types it cannot take apart stay whole.
fn shorten_type(name: &str) -> String {
    shortened(name).unwrap_or_else(|| name.to_owned())
}

fn shortened(name: &str) -> Option<String> {
    if let Some(rest) = name.strip_prefix("map[") {
        let mut depth = 1;
        for (i, b) in rest.bytes().enumerate() {
            match b {
                b'[' => depth += 1,
                b']' => {
                    depth -= 1;
                    if depth == 0 {
                        let key = shortened(&rest[..i]);
                        let value = shortened(&rest[i + 1..]);
                        return Some(format!("map[{}]{}", key?, value?));
                    }
                }
                _ => {}
            }
        }
        return None;
    }
    if name.starts_with('[') {
        let close = name.find(']')?;
        return Some(format!(
            "{}{}",
            &name[..=close],
            shortened(&name[close + 1..])?
        ));
    }
    if let Some(rest) = name.strip_prefix('*') {
        return Some(format!("*{}", shortened(rest)?));
    }
    if matches!(
        name,
        "interface {}" | "interface{}" | "struct {}" | "struct{}"
    ) {
        return Some(name.to_owned());
    }
    if has_anonymous_type(name) {
        return None;
    }
    if let Some(open) = name.find('[') {
        let arguments = name[open + 1..].strip_suffix(']')?;
        let generic = shortened(&name[..open])?;
        let arguments: Option<Vec<String>> =
            arguments.split(',').map(|a| shortened(a.trim())).collect();
        return Some(format!("{generic}[{}]", arguments?.join(", ")));
    }
    let allowed = |c: char| c.is_alphanumeric() || "_./@%-".contains(c);
    if !name.chars().all(allowed) {
        return None;
    }
    match name.rfind('/') {
        Some(slash) if name.matches('/').count() > 1 => Some(name[slash + 1..].to_owned()),
        _ => Some(name.to_owned()),
    }
}

/// Whether `name` spells out a struct, interface or function type with
/// members.
fn has_anonymous_type(name: &str) -> bool {
    [
        "interface {",
        "interface{",
        "struct {",
        "struct{",
        "func (",
        "func(",
    ]
    .iter()
    .any(|opening| {
        name.find(opening).is_some_and(|at| {
            let after = name[at + opening.len()..].chars().next();
            after.is_some_and(|c| c != '}' && c != ')')
        })
    })
}

/// How a value (and each value inside it) is written: Delve's pretty
/// printer flags, without the multi-line form DAP never uses.
#[derive(Debug, Clone, Copy)]
struct Style {
    /// The outermost value (a nil check is skipped there).
    top: bool,
    /// Write the type before the value.
    with_type: bool,
    /// Shorten package paths in types.
    shorten: bool,
    /// Strings as their bytes.
    raw: bool,
}

/// The one-line value text (Delve's `formatVar`): with its type, short
/// package names, strings quoted unless raw.
fn format_value(v: &Variable, raw_strings: bool) -> String {
    let mut out = String::new();
    write_value(
        &mut out,
        v,
        Style {
            top: true,
            with_type: true,
            shorten: true,
            raw: raw_strings,
        },
    );
    out
}

fn write_value(out: &mut String, v: &Variable, style: Style) {
    if !v.unreadable.is_empty() {
        let _ = write!(out, "(unreadable {})", v.unreadable);
        return;
    }
    if !style.top && v.addr == 0 && v.value.is_empty() {
        if style.with_type && v.type_name != "void" {
            let _ = write!(out, "{} nil", type_in(v, style));
        } else {
            out.push_str("nil");
        }
        return;
    }
    let inner = Style {
        top: false,
        ..style
    };
    match kind_of(v) {
        Kind::Slice => {
            if style.with_type {
                let _ = write!(
                    out,
                    "{} len: {}, cap: {}, ",
                    type_in(v, style),
                    v.len,
                    v.cap
                );
            }
            if v.base == 0 && v.child_count() == 0 {
                out.push_str("nil");
            } else {
                write_elements(out, v, style);
            }
        }
        Kind::Array => {
            if style.with_type {
                let _ = write!(out, "{} ", type_in(v, style));
            }
            write_elements(out, v, style);
        }
        Kind::Ptr => match v.children.first() {
            Some(pointee) if !v.type_name.is_empty() => {
                if pointee.only_addr && pointee.addr != 0 {
                    write_cast(out, v, pointee.addr, style);
                } else {
                    out.push('*');
                    write_value(out, pointee, inner);
                }
            }
            _ => out.push_str("nil"),
        },
        Kind::UnsafePointer => match v.children.first() {
            Some(pointee) => {
                let _ = write!(out, "unsafe.Pointer({:#x})", pointee.addr);
            }
            None => out.push_str("unsafe.Pointer(nil)"),
        },
        Kind::Chan => match (v.children.first(), v.children.get(1)) {
            (Some(count), Some(size)) => {
                let _ = write!(out, "{} {}/{}", type_in(v, style), count.value, size.value);
            }
            _ => {
                let _ = write!(out, "{} nil", type_in(v, style));
            }
        },
        Kind::Struct => {
            let mut style = style;
            if !v.value.is_empty() {
                let _ = write!(out, "{}({})", type_in(v, style), v.value);
                style.with_type = false;
            }
            write_struct(out, v, style);
        }
        Kind::Interface => write_interface(out, v, style),
        Kind::Map => write_map(out, v, style),
        Kind::Func => {
            if v.value.is_empty() {
                out.push_str("nil");
            } else {
                out.push_str(&v.value);
            }
        }
        kind => write_scalar(out, v, kind, style),
    }
}

/// The type as written inside a value.
fn type_in(v: &Variable, style: Style) -> String {
    if style.shorten {
        shorten_type(&v.type_name)
    } else {
        v.type_name.clone()
    }
}

/// The type for a cast, quoted when it has a package path: `(*main.T)` or
/// `("*github.com/a/b.T")`.
fn cast_type(v: &Variable, style: Style) -> String {
    let name = type_in(v, style);
    if v.type_name.contains('/') {
        go_quote(name.as_bytes())
    } else {
        name
    }
}

/// `(T)(0xADDR)`: a pointer whose pointee was not read.
fn write_cast(out: &mut String, v: &Variable, addr: u64, style: Style) {
    let _ = write!(out, "({})({addr:#x})", cast_type(v, style));
}

fn write_scalar(out: &mut String, v: &Variable, kind: Kind, style: Style) {
    if v.value.is_empty() && kind != Kind::String {
        let _ = write!(out, "(unknown {})", kind_name(kind));
        return;
    }
    match kind {
        Kind::String => {
            let mut bytes = string_bytes(v).to_vec();
            if bytes.len() as i64 != v.len {
                let more = v.len - bytes.len() as i64;
                bytes.extend_from_slice(format!("...+{more} more").as_bytes());
            }
            if style.raw {
                out.push_str(&go_text(&bytes));
            } else {
                out.push_str(&go_quote(&bytes));
            }
        }
        k if k == Kind::Bool
            || k.is_signed()
            || k.is_unsigned()
            || matches!(
                k,
                Kind::Float32 | Kind::Float64 | Kind::Complex64 | Kind::Complex128
            ) =>
        {
            out.push_str(&v.value)
        }
        _ => {}
    }
}

/// `[a,b,c]`, `[a,b,...+8 more]`, or `[...]` when none is loaded.
fn write_elements(out: &mut String, v: &Variable, style: Style) {
    let element = Style {
        top: false,
        with_type: false,
        shorten: style.shorten,
        raw: false,
    };
    out.push('[');
    let mut written = 0;
    for (i, child) in v.each_child().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_value(out, &child, element);
        written += 1;
    }
    if written as i64 != v.len {
        if written > 0 {
            let _ = write!(out, ",...+{} more", v.len - written as i64);
        } else {
            out.push_str("...");
        }
    }
    out.push(']');
}

/// `T {A: 1, B: "x"}`, or `(*T)(0xADDR)` when no field was read.
fn write_struct(out: &mut String, v: &Variable, style: Style) {
    if v.len != v.children.len() as i64 && v.children.is_empty() {
        let _ = write!(out, "(*{})({:#x})", cast_type(v, style), v.addr);
        return;
    }
    if style.with_type {
        let _ = write!(out, "{} ", type_in(v, style));
    }
    let field_style = Style {
        top: false,
        with_type: true,
        shorten: style.shorten,
        raw: false,
    };
    out.push('{');
    for (i, field) in v.children.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        let _ = write!(out, "{}: ", field.name);
        write_value(out, field, field_style);
    }
    if v.children.len() as i64 != v.len {
        let _ = write!(out, ",...+{} more", v.len - v.children.len() as i64);
    }
    out.push('}');
}

/// `I(T) value`, `I nil`; what is not read as Delve writes it.
fn write_interface(out: &mut String, v: &Variable, style: Style) {
    let Some(data) = v.children.first().filter(|_| v.addr != 0) else {
        out.push_str("nil");
        return;
    };
    if style.with_type {
        if kind_of(data) == Kind::Invalid {
            let _ = write!(out, "{} ", type_in(v, style));
            if data.addr == 0 {
                out.push_str("nil");
                return;
            }
        } else {
            let _ = write!(out, "{}({}) ", type_in(v, style), type_in(data, style));
        }
    }
    let data_style = Style {
        top: false,
        with_type: !style.with_type,
        ..style
    };
    if kind_of(data) == Kind::Ptr {
        match data.children.first() {
            None => out.push_str("..."),
            Some(pointee) if pointee.addr == 0 => out.push_str("nil"),
            Some(pointee) if pointee.only_addr => {
                let _ = write!(out, "0x{:x}", data.addr);
            }
            Some(_) => write_value(out, data, data_style),
        }
    } else if data.only_addr {
        let _ = write!(out, "*(*{})({:#x})", cast_type(v, style), v.addr);
    } else {
        write_value(out, data, data_style);
    }
}

/// `map[K]V [k: v, k: v, ]` (a separator after every entry, as Delve
/// writes it), `,...+N more` when not all entries were read.
fn write_map(out: &mut String, v: &Variable, style: Style) {
    if style.with_type {
        let _ = write!(out, "{} ", type_in(v, style));
    }
    let count = v.child_count();
    if v.base == 0 && count == 0 {
        out.push_str("nil");
        return;
    }
    let key_style = Style {
        top: false,
        with_type: false,
        shorten: false,
        raw: false,
    };
    let value_style = Style {
        shorten: style.shorten,
        ..key_style
    };
    out.push('[');
    let entries: Vec<Cow<'_, Variable>> = v.each_child().collect();
    for pair in entries.chunks_exact(2) {
        write_value(out, &pair[0], key_style);
        out.push_str(": ");
        write_value(out, &pair[1], value_style);
        out.push_str(", ");
    }
    if (count / 2) as i64 != v.len {
        if count > 0 {
            let _ = write!(out, ",...+{} more", v.len - (count / 2) as i64);
        } else {
            out.push_str("...");
        }
    }
    out.push(']');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn int(name: &str, value: i64) -> Variable {
        Variable {
            name: name.into(),
            addr: 0x1000,
            type_name: "int".into(),
            kind: Some(Kind::Int),
            value: value.to_string(),
            ..Variable::default()
        }
    }

    fn string(name: &str, text: &str, len: i64) -> Variable {
        Variable {
            name: name.into(),
            addr: 0x2000,
            type_name: "string".into(),
            kind: Some(Kind::String),
            value: text.into(),
            len,
            base: 0x3000,
            ..Variable::default()
        }
    }

    fn no_reload(_: &str, _: LoadConfig) -> Result<Variable, String> {
        panic!("nothing should be read again")
    }

    #[test]
    fn struct_text_has_typed_fields() {
        let point = Variable {
            name: "p".into(),
            addr: 0x1000,
            type_name: "main.Point".into(),
            kind: Some(Kind::Struct),
            len: 2,
            children: vec![int("X", 1), string("Name", "origin", 6)],
            ..Variable::default()
        };
        assert_eq!(
            format_value(&point, false),
            r#"main.Point {X: 1, Name: "origin"}"#
        );
    }

    #[test]
    fn cut_strings_say_how_much_is_left() {
        assert_eq!(
            format_value(&string("s", "abc", 10), false),
            r#""abc...+7 more""#
        );
        assert_eq!(format_value(&string("s", "a\"b", 3), true), "a\"b");
    }

    #[test]
    fn quoting_is_go_quoting() {
        assert_eq!(go_quote(b"raw\x00bytes"), r#""raw\x00bytes""#);
        assert_eq!(go_quote("tab\t é ✓".as_bytes()), "\"tab\\t é ✓\"");
        assert_eq!(go_quote(b"\xff\xfe"), r#""\xff\xfe""#);
        assert_eq!(go_quote("\u{200b}".as_bytes()), r#""\u200b""#);
    }

    #[test]
    fn types_lose_long_package_paths() {
        assert_eq!(shorten_type("github.com/a/b.T"), "b.T");
        assert_eq!(shorten_type("internal/abi.Type"), "internal/abi.Type");
        assert_eq!(
            shorten_type("map[github.com/a/b.K][]*github.com/a/c.V"),
            "map[b.K][]*c.V"
        );
        assert_eq!(shorten_type("main.Box[github.com/a/b.T]"), "main.Box[b.T]");
        assert_eq!(
            shorten_type("struct { a github.com/x/y.Z }"),
            "struct { a github.com/x/y.Z }"
        );
    }

    #[test]
    fn cut_values_replace_split_characters_byte_by_byte() {
        assert_eq!(cut_bytes("ab✓", 3), "ab\u{fffd}");
        assert_eq!(cut_bytes("ab✓", 4), "ab\u{fffd}\u{fffd}");
        assert_eq!(cut_bytes("abc", 3), "abc");
    }

    #[test]
    fn unsigned_values_show_hex_and_maps_pair_keys_with_values() {
        let byte = |value: u8| Variable {
            addr: 0x5000 + u64::from(value),
            type_name: "uint8".into(),
            kind: Some(Kind::Uint8),
            value: value.to_string(),
            ..Variable::default()
        };
        let map = Variable {
            name: "m".into(),
            addr: 0x4000,
            type_name: "map[string]uint8".into(),
            kind: Some(Kind::Map),
            len: 1,
            base: 0x6000,
            children: vec![string("", "k", 1), byte(200)],
            ..Variable::default()
        };
        let scope = Expandable::locals(vec![map]);
        let options = Options::default();
        let locals = children(&scope, None, 0, 0, &options, &mut no_reload).unwrap();
        assert_eq!(
            to_json(&locals[0], 1000),
            json!({"name": "m", "value": "map[string]uint8 [\"k\": 200, ]",
                   "type": "map[string]uint8", "evaluateName": "m", "variablesReference": 1000,
                   "namedVariables": 1, "indexedVariables": 1})
        );
        let entries = children(
            locals[0].expandable.as_ref().unwrap(),
            None,
            0,
            0,
            &options,
            &mut no_reload,
        )
        .unwrap();
        let entries: Vec<Value> = entries.iter().map(|s| to_json(s, 0)).collect();
        assert_eq!(
            entries,
            [
                json!({"name": "len()", "value": "1", "type": "int", "evaluateName": "len(m)", "variablesReference": 0}),
                json!({"name": "\"k\"", "value": "200 = 0xc8", "type": "string: uint8", "evaluateName": "m[\"k\"]", "variablesReference": 0}),
            ]
        );
    }

    fn point(addr: u64, x: i64) -> Variable {
        Variable {
            addr,
            type_name: "main.Point".into(),
            kind: Some(Kind::Struct),
            len: 1,
            children: vec![int("X", x)],
            ..Variable::default()
        }
    }

    #[test]
    fn entries_whose_key_and_value_expand_are_two_children() {
        let map = Expandable {
            variable: Variable {
                type_name: "map[main.Point]main.Point".into(),
                kind: Some(Kind::Map),
                len: 1,
                base: 0x6000,
                children: vec![point(0x7000, 1), point(0x7008, 2)],
                ..Variable::default()
            },
            evaluate_name: "pm".into(),
            scope: false,
        };
        let entries = children(&map, None, 0, 0, &Options::default(), &mut no_reload).unwrap();
        let names: Vec<(&str, &str)> = entries
            .iter()
            .map(|e| (e.name.as_str(), e.evaluate_name.as_str()))
            .collect();
        assert_eq!(
            names,
            [
                ("len()", "len(pm)"),
                ("[key 0]", r#"(*(*"main.Point")(0x7000))"#),
                ("[val 0]", r#"pm[(*(*"main.Point")(0x7000))]"#),
            ]
        );
        assert!(entries[1].expandable.is_some() && entries[2].expandable.is_some());
    }

    #[test]
    fn scopes_name_their_variables_for_evaluation() {
        let mut shadowed = int("x", 1);
        shadowed.flags = flags::SHADOWED;
        let locals = Expandable::locals(vec![shadowed, int("x", 2)]);
        let shown = children(&locals, None, 0, 0, &Options::default(), &mut no_reload).unwrap();
        let names: Vec<(&str, &str)> = shown
            .iter()
            .map(|s| (s.name.as_str(), s.evaluate_name.as_str()))
            .collect();
        assert_eq!(names, [("(x)", "x"), ("x", "x")]);
        let globals = Expandable::globals("main", vec![int("main.total", 3)]);
        let shown = children(&globals, None, 0, 0, &Options::default(), &mut no_reload).unwrap();
        assert_eq!(
            (shown[0].name.as_str(), shown[0].evaluate_name.as_str()),
            ("total", "main.total")
        );
    }

    #[test]
    fn a_struct_read_too_shallow_is_read_again_at_its_address() {
        let shallow = Variable {
            name: "Inner".into(),
            addr: 0xc000,
            type_name: "main.Inner".into(),
            kind: Some(Kind::Struct),
            len: 1,
            ..Variable::default()
        };
        let mut asked = Vec::new();
        let mut reload = |expression: &str, _: LoadConfig| {
            asked.push(expression.to_owned());
            Ok(Variable {
                children: vec![int("ID", 5)],
                ..shallow.clone()
            })
        };
        let converted = convert(&shallow, false, &Options::default(), &mut reload);
        assert_eq!(converted.value, "main.Inner {ID: 5}");
        assert!(converted.expands);
        assert_eq!(asked, [r#"*(*"main.Inner")(0xc000)"#]);
    }
}
