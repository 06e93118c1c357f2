//! What a crashed Go program leaves in its memory: the panics a goroutine
//! is running (`g._panic`, newest first, each with its value), the signal
//! the runtime turned into a panic (`g.sig`, `g.sigcode1`, `g.sigpc`), and
//! panic values written as the runtime writes them after `panic: `.

use ferret_target::Memory;

use crate::bininfo::{BinaryInfo, StructLayout};
use crate::error::Result;
use crate::value::{LoadConfig, Loader, Variable};

/// Where the runtime keeps panics and fault signals, from DWARF.
#[derive(Debug, Clone, Copy)]
pub struct PanicLayout {
    /// `g._panic`: the newest panic being run.
    g_panic: u64,
    /// `_panic.arg` (an `any`).
    arg: u64,
    /// `_panic.link`: the panic it interrupted.
    link: u64,
    /// `_panic.recovered`.
    recovered: Option<u64>,
    /// DWARF offset of the type `interface {}`.
    any_type: u64,
    /// `g.sig`, `g.sigcode1` (the fault address) and `g.sigpc`.
    signal: Option<(u64, u64, u64)>,
}

/// One panic in progress.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Panic {
    /// The value given to `panic`, loaded as an `any`.
    pub value: Variable,
    /// What the runtime prints for it after `panic: `.
    pub message: String,
    /// `recover` was called for it.
    pub recovered: bool,
}

/// A signal the runtime turned into a panic on a goroutine (a fault in Go
/// code: nil dereference, bad address).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GoSignal {
    /// The signal number.
    pub signal: u32,
    /// The faulting address.
    pub addr: u64,
    /// Where it happened.
    pub pc: u64,
}

/// Most panics walked on one goroutine (the list is a chain in memory; a
/// corrupted one must not loop).
const MAX_PANICS: usize = 64;

/// Longest panic message read, in bytes.
const MAX_MESSAGE: i64 = 64 << 10;

fn member(layout: &StructLayout, name: &str) -> Option<u64> {
    layout.member(name).map(|m| m.offset)
}

impl PanicLayout {
    /// Reads the layout from `bi`; `None` when the binary does not describe
    /// `runtime._panic`.
    pub fn new(bi: &BinaryInfo) -> Result<Option<PanicLayout>> {
        let (Some(g), Some(record), Some(any_type)) = (
            bi.struct_layout("runtime.g")?,
            bi.struct_layout("runtime._panic")?,
            bi.type_named("interface {}")?,
        ) else {
            return Ok(None);
        };
        let (Some(g_panic), Some(arg), Some(link)) = (
            member(&g, "_panic"),
            member(&record, "arg"),
            member(&record, "link"),
        ) else {
            return Ok(None);
        };
        let signal = match (
            member(&g, "sig"),
            member(&g, "sigcode1"),
            member(&g, "sigpc"),
        ) {
            (Some(sig), Some(addr), Some(pc)) => Some((sig, addr, pc)),
            _ => None,
        };
        Ok(Some(PanicLayout {
            g_panic,
            arg,
            link,
            recovered: member(&record, "recovered"),
            any_type,
            signal,
        }))
    }

    /// The panics the goroutine at `g` is running, oldest first (the order
    /// Go prints them in).
    pub fn panics(&self, bi: &BinaryInfo, mem: &dyn Memory, g: u64) -> Vec<Panic> {
        let config = LoadConfig {
            follow_pointers: true,
            max_variable_recurse: 2,
            max_string_len: MAX_MESSAGE,
            max_array_values: 64,
            max_struct_fields: -1,
        };
        let loader = Loader::new(bi, mem, config);
        let mut out = Vec::new();
        let mut next = mem.read_u64(g + self.g_panic).unwrap_or(0);
        while next != 0 && out.len() < MAX_PANICS {
            let value = loader.load("", next + self.arg, self.any_type);
            let recovered = self.recovered.is_some_and(|offset| {
                let mut byte = [0u8];
                mem.read_memory(next + offset, &mut byte).is_ok() && byte[0] != 0
            });
            out.push(Panic {
                message: panic_message(&value),
                value,
                recovered,
            });
            next = mem.read_u64(next + self.link).unwrap_or(0);
        }
        out.reverse();
        out
    }

    /// The fault signal recorded on the goroutine at `g`, if any.
    pub fn signal(&self, mem: &dyn Memory, g: u64) -> Option<GoSignal> {
        let (sig, addr, pc) = self.signal?;
        let mut word = [0u8; 4];
        mem.read_memory(g + sig, &mut word).ok()?;
        let signal = u32::from_le_bytes(word);
        (signal != 0).then(|| GoSignal {
            signal,
            addr: mem.read_u64(g + addr).unwrap_or(0),
            pc: mem.read_u64(g + pc).unwrap_or(0),
        })
    }
}

/// What the runtime prints after `panic: ` for the value `any` holds
/// (`printpanicval`, after an error's `Error` or a stringer's `String`
/// replaced it): the text of the error types the runtime and the standard
/// library panic with, numbers and strings as they are, named basic types
/// as `T(v)`. Before printing a panic the runtime replaces an error or
/// stringer value with its text (`preprintpanics`), so a core of a program
/// that died of it holds the text; a value of the program's own type seen
/// before that (a live target) is shown as a Go-like literal, as its method
/// cannot be run here.
pub fn panic_message(any: &Variable) -> String {
    if !any.unreadable.is_empty() {
        return format!("(unreadable: {})", any.unreadable);
    }
    let Some(value) = any.children.first() else {
        return "nil".into();
    };
    let field = |v: &Variable, name: &str| -> Option<String> {
        let target = match v.children.first() {
            Some(pointee) if v.type_name.starts_with('*') => pointee,
            _ => v,
        };
        target
            .children
            .iter()
            .find(|c| c.name == name)
            .map(|c| c.value.clone())
    };
    let ty = value.type_name.as_str();
    match ty {
        "runtime.plainError" => value.value.clone(),
        "runtime.errorString" => format!("runtime error: {}", value.value),
        "*errors.errorString" => field(value, "s").unwrap_or_default(),
        "*fmt.wrapError" | "*fmt.wrapErrors" => field(value, "msg").unwrap_or_default(),
        "runtime.boundsError" => {
            bounds_message(value).unwrap_or_else(|| format!("({ty}) {:#x}", value.addr))
        }
        "string" | "bool" | "int" | "int8" | "int16" | "int32" | "int64" | "uint" | "uint8"
        | "uint16" | "uint32" | "uint64" | "uintptr" => value.value.clone(),
        _ if value.children.is_empty() && !value.value.is_empty() && !ty.starts_with('*') => {
            if value.kind == Some(crate::bininfo::Kind::String) {
                format!("{ty}(\"{}\")", value.value)
            } else {
                format!("{ty}({})", value.value)
            }
        }
        _ => literal(value, 2),
    }
}

/// `v` as a short Go-like literal (`main.T{code: 28}`, `&main.T{...}`),
/// `depth` levels of fields deep.
fn literal(v: &Variable, depth: usize) -> String {
    use crate::bininfo::Kind;
    match v.kind {
        Some(Kind::String) => format!("{:?}", v.value),
        Some(Kind::Struct) if depth > 0 => {
            let fields: Vec<String> = v
                .children
                .iter()
                .map(|c| format!("{}: {}", c.name, literal(c, depth - 1)))
                .collect();
            format!("{}{{{}}}", v.type_name, fields.join(", "))
        }
        Some(Kind::Ptr) => match v.children.first() {
            Some(pointee) if v.value != "0" && depth > 0 => {
                format!("&{}", literal(pointee, depth - 1))
            }
            _ if v.value == "0" => "nil".into(),
            _ => format!(
                "({}) {:#x}",
                v.type_name,
                v.value.parse::<u64>().unwrap_or(0)
            ),
        },
        _ if v.children.is_empty() && !v.value.is_empty() => v.value.clone(),
        _ => format!("{}{{...}}", v.type_name),
    }
}

/// `runtime.boundsError`'s text (`runtime/error.go`: the format chosen by
/// its code, `%x` and `%y` its two numbers).
fn bounds_message(v: &Variable) -> Option<String> {
    let get = |name: &str| v.children.iter().find(|c| c.name == name);
    let x: i64 = get("x")?.value.parse().ok()?;
    let y: i64 = get("y")?.value.parse().ok()?;
    let signed = get("signed")?.value == "true";
    let code: u8 = get("code")?
        .value
        .split_whitespace()
        .next()?
        .parse()
        .ok()
        .or_else(|| {
            // A described constant: "boundsIndex (0)".
            let text = &get("code")?.value;
            text[text.rfind('(')? + 1..text.rfind(')')?].parse().ok()
        })?;
    let format = if signed && x < 0 {
        match code {
            0 => "index out of range [%x]",
            1 => "slice bounds out of range [:%x]",
            2 => "slice bounds out of range [:%x]",
            3 => "slice bounds out of range [%x:]",
            4 => "slice bounds out of range [::%x]",
            5 => "slice bounds out of range [::%x]",
            6 => "slice bounds out of range [:%x:]",
            7 => "slice bounds out of range [%x::]",
            _ => return None,
        }
    } else {
        match code {
            0 => "index out of range [%x] with length %y",
            1 => "slice bounds out of range [:%x] with length %y",
            2 => "slice bounds out of range [:%x] with capacity %y",
            3 => "slice bounds out of range [%x:%y]",
            4 => "slice bounds out of range [::%x] with length %y",
            5 => "slice bounds out of range [::%x] with capacity %y",
            6 => "slice bounds out of range [:%x:%y]",
            7 => "slice bounds out of range [%x:%y:]",
            8 => "cannot convert slice with length %x to array or pointer to array with length %y",
            _ => return None,
        }
    };
    let x = if signed {
        x.to_string()
    } else {
        (x as u64).to_string()
    };
    Some(format!(
        "runtime error: {}",
        format.replace("%x", &x).replace("%y", &y.to_string())
    ))
}
