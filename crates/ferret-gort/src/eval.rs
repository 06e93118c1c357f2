//! Evaluating Go expressions against a stopped target, the way Delve's
//! `Eval` does: names resolve to the frame's variables, then to package
//! variables; selectors, indexing, dereferences, `len`/`cap` and constant
//! arithmetic and comparisons work on what they find. The result is a
//! [`Variable`] loaded as a [`LoadConfig`] says.

use ferret_target::Memory;

use crate::bininfo::{package_of, BinaryInfo, GoType, Kind, Shape};
use crate::expr::{self, BinaryOp, Expr, UnaryOp};
use crate::value::{closure_function, flags, LoadConfig, Loader, Variable};

/// A variable of the frame an expression is evaluated in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    /// Its name.
    pub name: String,
    /// Where its value is.
    pub addr: u64,
    /// Its type (`.debug_info` offset).
    pub ty: u64,
    /// `api.Variable` flags (argument, escaped, ...).
    pub flags: u32,
    /// How DWARF locates it, as Delve prints it.
    pub location_expr: String,
    /// Its declaration line.
    pub decl_line: u32,
}

/// What an expression is evaluated against.
pub struct Frame<'a> {
    /// The frame's variables, innermost first: the first of a name wins.
    pub bindings: &'a [Binding],
    /// The function's name (for its package's variables).
    pub function: &'a str,
}

/// A value before it is loaded for the client.
#[derive(Debug, Clone)]
enum Val {
    /// Something in memory: a variable, a field, an element.
    Place {
        addr: u64,
        ty: u64,
        /// Its name when it keeps one (variables and their fields).
        name: Option<String>,
        flags: u32,
        location_expr: String,
        decl_line: u32,
    },
    /// A constant; `ty` set when it has a Go type (a typed result).
    Const { value: Const, ty: Option<u64> },
    /// A pointer that is not itself in memory (`&x`, `(*T)(0x1234)`): it
    /// points at `target`, whose type is `elem`; `pointee` is what `&x`
    /// took the address of.
    Pointer {
        target: u64,
        elem: u64,
        type_name: String,
        pointee: Option<Box<Val>>,
    },
    /// `nil`.
    Nil,
    /// One byte of a string (`s[i]`), shown as a `byte`.
    Byte { addr: u64, value: u8 },
    /// A slice made by slicing (`s[1:3]`): `len` elements of type `elem`
    /// from `base`; `literal` when both bounds were written as numbers
    /// (Delve then flags it 256 and reads every element).
    Slice {
        base: u64,
        len: u64,
        cap: u64,
        elem: u64,
        literal: bool,
    },
    /// Part of a string (`s[1:4]`), from byte `low` of the original.
    Substring {
        base: u64,
        text: String,
        low: u64,
        literal: bool,
    },
}

impl Val {
    /// Something in memory without a name of its own (an element, a
    /// pointee).
    fn unnamed(addr: u64, ty: u64) -> Val {
        Val::Place {
            addr,
            ty,
            name: None,
            flags: 0,
            location_expr: String::new(),
            decl_line: 0,
        }
    }
}

/// The value of a constant.
#[derive(Debug, Clone, PartialEq)]
enum Const {
    Int(i128),
    Float(f64),
    Bool(bool),
    Str(String),
}

/// Evaluates `source` in `frame`, loading the result as `config` says.
/// Errors are Delve's texts where Delve has one.
pub fn evaluate(
    bi: &BinaryInfo,
    mem: &dyn Memory,
    frame: &Frame<'_>,
    source: &str,
    config: LoadConfig,
) -> Result<Variable, String> {
    let parsed = expr::parse(source).map_err(|e| e.to_string())?;
    let evaluator = Evaluator { bi, mem, frame };
    let value = evaluator.eval(&parsed)?;
    Ok(evaluator.variable(value, source, config))
}

/// Why a non-empty string literal cannot be assigned (Delve's words): its
/// bytes would need memory in the target, which only an injected call
/// could allocate.
const STRING_NEEDS_CALL: &str =
    "literal string can not be allocated because function calls are not allowed without using 'call'";

/// Where the value `expression` names lives in memory and its size in
/// bytes (what a watchpoint watches); an error when it is not in memory.
pub fn place_of(
    bi: &BinaryInfo,
    mem: &dyn Memory,
    frame: &Frame<'_>,
    expression: &str,
) -> Result<(u64, u64), String> {
    let evaluator = Evaluator { bi, mem, frame };
    match evaluator.eval(&expr::parse(expression).map_err(|e| e.to_string())?)? {
        Val::Place { addr, ty, .. } => Ok((addr, evaluator.go_type(ty)?.size)),
        _ => Err(format!(
            "expression {:?} is not addressable",
            expression.trim()
        )),
    }
}

/// What `symbol = value` writes in `frame`: the address and the bytes, as
/// Delve's `Set` allows it (numbers wrap to the destination's size; `nil`
/// into pointers, slices, maps, chans, funcs and interfaces; `""` into a
/// string; a value of the identical type copied).
pub fn assignment(
    bi: &BinaryInfo,
    mem: &dyn Memory,
    frame: &Frame<'_>,
    symbol: &str,
    value: &str,
) -> Result<(u64, Vec<u8>), String> {
    let evaluator = Evaluator { bi, mem, frame };
    // Delve evaluates the right-hand side first.
    let right = evaluator.eval(&expr::parse(value).map_err(|e| e.to_string())?)?;
    if matches!(&right, Val::Const { value: Const::Str(text), .. } if !text.is_empty()) {
        // A string literal would need memory in the target, which only an
        // injected call could allocate (Delve's words; "" needs none).
        return Err(STRING_NEEDS_CALL.to_owned());
    }
    let left = evaluator.eval(&expr::parse(symbol).map_err(|e| e.to_string())?)?;
    let Val::Place { addr, ty, .. } = left else {
        return Err(format!("can not assign to \"{}\"", symbol.trim()));
    };
    let target = evaluator.go_type(ty)?;
    let size = target.size as usize;
    let number = |n: i128| -> Vec<u8> { n.to_le_bytes()[..size.min(16)].to_vec() };
    let bytes = match (&target.shape, right) {
        (
            _,
            Val::Place {
                addr: from,
                ty: from_ty,
                ..
            },
        ) => {
            let source = evaluator.go_type(from_ty)?;
            if source.name != target.name {
                return Err(format!(
                    "can not convert value of type {} to {}",
                    source.name, target.name
                ));
            }
            let mut bytes = vec![0u8; size];
            mem.read_memory(from, &mut bytes)
                .map_err(|e| e.to_string())?;
            bytes
        }
        (Shape::Scalar, Val::Const { value, .. }) => match (value, target.kind) {
            (Const::Int(n), k) if k.is_signed() || k.is_unsigned() => number(n),
            (Const::Int(n), Kind::Float32) => (n as f32).to_le_bytes().to_vec(),
            (Const::Int(n), Kind::Float64) => (n as f64).to_le_bytes().to_vec(),
            (Const::Float(f), Kind::Float32) => (f as f32).to_le_bytes().to_vec(),
            (Const::Float(f), Kind::Float64) => f.to_le_bytes().to_vec(),
            (Const::Bool(b), Kind::Bool) => vec![b as u8],
            (other, _) => {
                return Err(format!(
                    "can not convert {} constant to {}",
                    constant_text(&other),
                    target.name
                ))
            }
        },
        (
            Shape::String,
            Val::Const {
                value: Const::Str(s),
                ..
            },
        ) if s.is_empty() => vec![0u8; 16],
        (
            Shape::String,
            Val::Const {
                value: Const::Str(_),
                ..
            },
        ) => return Err(STRING_NEEDS_CALL.into()),
        (
            Shape::Pointer { .. }
            | Shape::Slice { .. }
            | Shape::Map { .. }
            | Shape::Chan { .. }
            | Shape::Func
            | Shape::Interface { .. },
            Val::Nil,
        ) => vec![0u8; size],
        (_, Val::Const { value, .. }) => {
            return Err(format!(
                "can not convert {} constant to {}",
                constant_text(&value),
                target.name
            ))
        }
        _ => {
            return Err(format!(
                "can not set variables of type {} (not implemented)",
                target.name
            ))
        }
    };
    Ok((addr, bytes))
}

/// The goroutines (their `runtime.g` addresses) waiting to receive from
/// or send to the channel `source` evaluates to in `frame`, receivers
/// first, each queue in order.
pub fn channel_waiters(
    bi: &BinaryInfo,
    mem: &dyn Memory,
    frame: &Frame<'_>,
    source: &str,
) -> Result<Vec<u64>, String> {
    let evaluator = Evaluator { bi, mem, frame };
    let value = evaluator.eval(&expr::parse(source).map_err(|e| e.to_string())?)?;
    let Val::Place { addr, ty, .. } = value else {
        return Err(format!("{source} is not a channel"));
    };
    let Shape::Chan { header, .. } = evaluator.go_type(ty)?.shape else {
        return Err(format!("{source} is not a channel"));
    };
    let hchan = evaluator.word(addr)?;
    if hchan == 0 {
        return Ok(Vec::new());
    }
    let field = |ty: u64, name: &str| -> Result<(u64, u64), String> {
        match &evaluator.go_type(ty)?.shape {
            Shape::Struct { fields } => fields
                .iter()
                .find(|f| f.name == name)
                .map(|f| (f.offset, f.ty))
                .ok_or_else(|| format!("no field {name} in the runtime's channel types")),
            _ => Err("the runtime's channel types are not structs".into()),
        }
    };
    let mut out = Vec::new();
    for queue in ["recvq", "sendq"] {
        let (queue_offset, queue_ty) = field(header, queue)?;
        let (first_offset, first_ty) = field(queue_ty, "first")?;
        let Shape::Pointer { elem: Some(sudog) } = evaluator.go_type(first_ty)?.shape else {
            return Err("waitq.first is not a pointer".into());
        };
        let (g_offset, _) = field(sudog, "g")?;
        let (next_offset, _) = field(sudog, "next")?;
        let mut next = evaluator.word(hchan + queue_offset + first_offset)?;
        let mut hops = 0;
        while next != 0 && hops < MAX_WAITERS {
            out.push(evaluator.word(next + g_offset)?);
            next = evaluator.word(next + next_offset)?;
            hops += 1;
        }
    }
    Ok(out)
}

/// At most this many waiters are read per channel queue (a guard against
/// a damaged list).
const MAX_WAITERS: usize = 100_000;

/// A constant as Delve's errors show it.
fn constant_text(c: &Const) -> String {
    match c {
        Const::Int(n) => n.to_string(),
        Const::Float(f) => crate::value::format_float(*f, 64),
        Const::Bool(b) => b.to_string(),
        Const::Str(s) => format!("{s:?}"),
    }
}

struct Evaluator<'a> {
    bi: &'a BinaryInfo,
    mem: &'a dyn Memory,
    frame: &'a Frame<'a>,
}

impl Evaluator<'_> {
    fn eval(&self, e: &Expr) -> Result<Val, String> {
        match e {
            Expr::Paren { inner, .. } => self.eval(inner),
            Expr::Ident(ident) => self.identifier(&ident.name),
            Expr::Int { value, raw, .. } => match value {
                Some(v) if *v <= i128::MAX as u128 => Ok(constant(Const::Int(*v as i128))),
                _ => Err(format!("constant {raw} overflows")),
            },
            Expr::Float { value, .. } => Ok(constant(Const::Float(*value))),
            Expr::Char { value, .. } => Ok(constant(Const::Int(*value as i128))),
            Expr::String { value, .. } => Ok(constant(Const::Str(
                String::from_utf8_lossy(value).into_owned(),
            ))),
            Expr::Selector { base, field, .. } => self.selector(base, &field.name),
            Expr::Index { base, index, .. } => self.index(base, index),
            Expr::Slice {
                base,
                low,
                high,
                max,
                ..
            } => {
                if max.is_some() {
                    return Err("3-index slice expressions not supported".into());
                }
                self.slice(base, low.as_deref(), high.as_deref())
            }
            Expr::TypeAssert { base, ty, .. } => self.type_assert(base, ty),
            Expr::Star { operand, .. } => self.dereference(operand),
            Expr::Unary {
                op: UnaryOp::AddressOf,
                operand,
                ..
            } => self.address_of(operand),
            Expr::Call { func, args, .. } => self.call(func, args),
            Expr::Unary { op, operand, .. } => self.unary(*op, operand),
            Expr::Binary {
                op, left, right, ..
            } => self.binary(*op, left, right),
            other => Err(format!(
                "expression {:?} not implemented",
                other_kind(other)
            )),
        }
    }

    /// A name: the frame's variable, else a package variable of the
    /// function's package, else `true`/`false`.
    fn identifier(&self, name: &str) -> Result<Val, String> {
        if let Some(b) = self.frame.bindings.iter().find(|b| b.name == name) {
            return Ok(Val::Place {
                addr: b.addr,
                ty: b.ty,
                name: Some(b.name.clone()),
                flags: b.flags,
                location_expr: b.location_expr.clone(),
                decl_line: b.decl_line,
            });
        }
        let package = package_of(self.frame.function);
        if let Some(global) = self.global(&format!("{package}.{name}"), name)? {
            return Ok(global);
        }
        match name {
            "true" => Ok(constant(Const::Bool(true))),
            "false" => Ok(constant(Const::Bool(false))),
            "nil" => Ok(Val::Nil),
            _ => Err(format!("could not find symbol value for {name}")),
        }
    }

    /// The package variable with full name `full`, shown as `shown`.
    fn global(&self, full: &str, shown: &str) -> Result<Option<Val>, String> {
        let Some(var) = self.bi.package_variable(full).map_err(|e| e.to_string())? else {
            return Ok(None);
        };
        let crate::bininfo::VariableLocation::Expression(expression) = &var.location else {
            return Ok(None);
        };
        let place = crate::bininfo::variable_place(expression, 0, &|_| None, self.mem);
        let crate::bininfo::VariablePlace::Memory(addr) = place else {
            return Ok(None);
        };
        Ok(Some(Val::Place {
            addr,
            ty: var.ty,
            name: Some(shown.to_owned()),
            flags: 0,
            location_expr: crate::bininfo::location_text("[block] ", expression),
            decl_line: 0,
        }))
    }

    /// `base.field`: a field (through one pointer), or a package variable
    /// `pkg.Var` when `base` names a package.
    fn selector(&self, base: &Expr, field: &str) -> Result<Val, String> {
        let package = match base {
            Expr::Ident(ident) => Some(ident.name.clone()),
            Expr::String { value, .. } => Some(String::from_utf8_lossy(value).into_owned()),
            _ => None,
        };
        let resolved = match base {
            Expr::String { .. } => Err(String::new()),
            _ => self.eval(base),
        };
        let first_error = match resolved {
            Ok(value) => match self.field(value, field) {
                Ok(found) => return Ok(found),
                Err(e) => e,
            },
            Err(e) => e,
        };
        if let Some(package) = package {
            let full = format!("{package}.{field}");
            if let Some(global) = self.global(&full, &full)? {
                return Ok(global);
            }
            // A package path whose last element is `package`.
            let suffix = format!("/{full}");
            if let Some(name) = self
                .bi
                .package_variable_ending(&suffix)
                .map_err(|e| e.to_string())?
            {
                if let Some(global) = self.global(&name, &full)? {
                    return Ok(global);
                }
            }
            // When `package` named no variable either, it named a package.
            if first_error.is_empty()
                || first_error == format!("could not find symbol value for {package}")
            {
                return Err(format!("could not find symbol {full}"));
            }
        }
        Err(first_error)
    }

    /// Field `field` of `value` (a struct, or a pointer to one), or the
    /// variable `field` captured by the closure a func value points at.
    fn field(&self, value: Val, field: &str) -> Result<Val, String> {
        let Val::Place { addr, ty, name, .. } = value else {
            return Err(format!("{field} is not a field of a constant"));
        };
        let mut go_type = self.go_type(ty)?;
        // Delve calls a value without a name by its type's name.
        let shown = name.clone().unwrap_or_else(|| go_type.name.clone());
        if let Shape::Func = go_type.shape {
            let closure = self.word(addr)?;
            if closure != 0 {
                return self.captured(closure, name, &shown, field);
            }
        }
        let mut addr = addr;
        if let Shape::Pointer { elem: Some(elem) } = go_type.shape {
            let target = self.word(addr)?;
            if target == 0 {
                return Err(format!("{shown} is nil"));
            }
            addr = target;
            go_type = self.go_type(elem)?;
        }
        let Shape::Struct { fields } = &go_type.shape else {
            return Err(format!(
                "{shown} (type {}) has no member {field}",
                self.go_type(ty)?.name
            ));
        };
        // Declared fields first, then those of embedded structs.
        if let Some(f) = fields.iter().find(|f| f.name == field) {
            return Ok(Val::Place {
                addr: addr + f.offset,
                ty: f.ty,
                name: name.map(|n| format!("{n}.{field}")),
                flags: 0,
                location_expr: String::new(),
                decl_line: 0,
            });
        }
        for embedded in fields.iter().filter(|f| f.embedded) {
            let inner = Val::Place {
                addr: addr + embedded.offset,
                ty: embedded.ty,
                name: name.clone(),
                flags: 0,
                location_expr: String::new(),
                decl_line: 0,
            };
            if let Ok(found) = self.field(inner, field) {
                return Ok(found);
            }
        }
        Err(format!("{shown} has no member {field}"))
    }

    /// The variable `field` that the closure at `closure` captured (the
    /// func value is `name`, shown in errors as `shown`): captured by value,
    /// its slot in the closure, named `name.field`; by reference (`&field`),
    /// where the slot points, unnamed (as Delve finds them).
    fn captured(
        &self,
        closure: u64,
        name: Option<String>,
        shown: &str,
        field: &str,
    ) -> Result<Val, String> {
        let function = closure_function(self.bi, self.word(closure)?)?;
        let captured = self
            .bi
            .captured_variables(&function)
            .map_err(|e| e.to_string())?;
        for capture in captured {
            let slot = closure + capture.offset;
            if capture.name == field {
                return Ok(Val::Place {
                    addr: slot,
                    ty: capture.ty,
                    name: name.map(|n| format!("{n}.{field}")),
                    flags: 0,
                    location_expr: String::new(),
                    decl_line: 0,
                });
            }
            if capture.name.strip_prefix('&') == Some(field) {
                if let Shape::Pointer { elem: Some(elem) } = self.go_type(capture.ty)?.shape {
                    return Ok(Val::unnamed(self.word(slot)?, elem));
                }
            }
        }
        Err(format!("{shown} has no member {field}"))
    }

    /// `base[index]` on arrays, slices, strings and maps.
    fn index(&self, base: &Expr, index: &Expr) -> Result<Val, String> {
        let container = self.eval(base)?;
        let Val::Place { addr, ty, .. } = container else {
            return Err(format!(
                "expression {} does not support indexing",
                text_of(base)
            ));
        };
        let go_type = self.go_type(ty)?;
        match &go_type.shape {
            Shape::Array { elem, len, stride } => {
                let i = self.integer(index)?;
                if i < 0 || i as u64 >= *len {
                    return Err("index out of bounds".into());
                }
                Ok(Val::unnamed(addr + i as u64 * stride, *elem))
            }
            Shape::Slice { elem } => {
                let data = self.word(addr)?;
                let len = self.word(addr + 8)?;
                if data == 0 {
                    return Err(format!("can not index \"{}\"", text_of(base)));
                }
                let i = self.integer(index)?;
                if i < 0 || i as u64 >= len {
                    return Err("index out of bounds".into());
                }
                let size = self.go_type(*elem)?.size;
                Ok(Val::unnamed(data + i as u64 * size, *elem))
            }
            Shape::Map { .. } => self.map_lookup(addr, ty, index),
            Shape::String => {
                let data = self.word(addr)?;
                let len = self.word(addr + 8)?;
                let i = self.integer(index)?;
                if i < 0 || i as u64 >= len {
                    return Err("index out of bounds".into());
                }
                let mut byte = [0u8; 1];
                self.mem
                    .read_memory(data + i as u64, &mut byte)
                    .map_err(|e| e.to_string())?;
                Ok(Val::Byte {
                    addr: data + i as u64,
                    value: byte[0],
                })
            }
            _ => Err(format!(
                "expression \"{}\" ({}) does not support indexing",
                text_of(base),
                go_type.name
            )),
        }
    }

    /// `base[low:high]` on arrays, slices and strings.
    fn slice(&self, base: &Expr, low: Option<&Expr>, high: Option<&Expr>) -> Result<Val, String> {
        // Delve trusts (and flags) bounds written as numbers: a literal
        // high bound, and a literal or missing low one.
        let literal =
            matches!(low, None | Some(Expr::Int { .. })) && matches!(high, Some(Expr::Int { .. }));
        let container = self.eval(base)?;
        let Val::Place { addr, ty, .. } = container else {
            return Err(format!("can not slice \"{}\"", text_of(base)));
        };
        let go_type = self.go_type(ty)?;
        let (data, len, cap, elem, stride) = match &go_type.shape {
            Shape::Array { elem, len, stride } => (addr, *len, *len, Some(*elem), *stride),
            Shape::Slice { elem } => (
                self.word(addr)?,
                self.word(addr + 8)?,
                self.word(addr + 16)?,
                Some(*elem),
                self.go_type(*elem)?.size,
            ),
            Shape::String => {
                let len = self.word(addr + 8)?;
                (self.word(addr)?, len, len, None, 1)
            }
            _ => {
                return Err(format!(
                    "can not slice \"{}\" (type {})",
                    text_of(base),
                    go_type.name
                ))
            }
        };
        let bound = |e: Option<&Expr>, default: u64| -> Result<u64, String> {
            match e {
                Some(e) => {
                    let n = self.integer(e)?;
                    u64::try_from(n).map_err(|_| "index out of bounds".to_owned())
                }
                None => Ok(default),
            }
        };
        let low = bound(low, 0)?;
        let high = bound(high, len)?;
        if low > high || high > cap {
            return Err("index out of bounds".into());
        }
        let base_addr = data + low * stride;
        match elem {
            Some(elem) => Ok(Val::Slice {
                base: base_addr,
                len: high - low,
                cap: cap - low,
                elem,
                literal,
            }),
            None => {
                let mut bytes = vec![0u8; (high - low).min(1 << 20) as usize];
                self.mem
                    .read_memory(base_addr, &mut bytes)
                    .map_err(|e| e.to_string())?;
                Ok(Val::Substring {
                    base: base_addr,
                    text: String::from_utf8_lossy(&bytes).into_owned(),
                    low,
                    literal,
                })
            }
        }
    }

    /// `base.(T)`: the interface's dynamic value, when it is a `T`.
    fn type_assert(&self, base: &Expr, ty: &Expr) -> Result<Val, String> {
        let wanted = type_name_of(ty).ok_or("type assertion to a type ferret cannot name")?;
        let value = self.eval(base)?;
        let Val::Place {
            addr, ty: iface_ty, ..
        } = value
        else {
            return Err(format!(
                "expression \"{}\" is not an interface",
                text_of(base)
            ));
        };
        let iface = self.go_type(iface_ty)?;
        if !matches!(iface.shape, Shape::Interface { .. }) {
            return Err(format!(
                "expression \"{}\" is not an interface",
                text_of(base)
            ));
        }
        let loader = Loader::new(self.bi, self.mem, LoadConfig::FULL);
        let loaded = loader.load("", addr, iface_ty);
        let Some(data) = loaded.children.first() else {
            return Err(loaded.unreadable);
        };
        if data.kind == Some(Kind::Invalid) {
            return Err(format!(
                "interface conversion: {} is nil, not {wanted}",
                iface.name
            ));
        }
        // `.(data)` is Delve's way to say "the dynamic value, whatever its
        // type" (what DAP shows as an interface's `data` child).
        let wanted = if wanted == "data" {
            data.type_name.clone()
        } else {
            wanted
        };
        if data.type_name != wanted {
            return Err(format!(
                "interface conversion: {} is {}, not {wanted}",
                iface.name, data.type_name
            ));
        }
        let dynamic = self
            .bi
            .type_named(&wanted)
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("no type {wanted}"))?;
        Ok(Val::Place {
            addr: data.addr,
            ty: dynamic,
            name: Some("data".into()),
            flags: 0,
            location_expr: String::new(),
            decl_line: 0,
        })
    }

    /// `m[key]`: the element whose key equals `key`, found by walking the
    /// map as the loader does.
    fn map_lookup(&self, addr: u64, ty: u64, key: &Expr) -> Result<Val, String> {
        let key_value = self.eval(key)?;
        let wanted = self.as_constant(key_value)?.0;
        let Shape::Map {
            key: key_ty, elem, ..
        } = self.go_type(ty)?.shape
        else {
            return Err("not a map".into());
        };
        let loader = Loader::new(
            self.bi,
            self.mem,
            LoadConfig {
                max_array_values: i64::MAX,
                max_string_len: 1 << 20,
                ..LoadConfig::FULL
            },
        );
        let map = loader.load("", addr, ty);
        if !map.unreadable.is_empty() {
            return Err(map.unreadable);
        }
        let key_type = self.go_type(key_ty)?;
        for pair in map.children.chunks(2) {
            let [k, v] = pair else { continue };
            let matches = match (&wanted, key_type.kind) {
                (Const::Str(s), Kind::String) => k.value == *s,
                (Const::Int(n), kind) if kind.is_signed() || kind.is_unsigned() => {
                    k.value.parse::<i128>().ok() == Some(*n)
                }
                (Const::Bool(b), Kind::Bool) => k.value == b.to_string(),
                _ => false,
            };
            if matches {
                return Ok(Val::unnamed(v.addr, elem));
            }
        }
        Err("key not found".into())
    }

    /// `*operand`.
    fn dereference(&self, operand: &Expr) -> Result<Val, String> {
        let value = self.eval(operand)?;
        if let Val::Pointer { target, elem, .. } = value {
            if target == 0 {
                return Err("nil pointer dereference".into());
            }
            return Ok(Val::unnamed(target, elem));
        }
        let Val::Place { addr, ty, .. } = value else {
            return Err(format!(
                "expression \"{}\" can not be dereferenced",
                text_of(operand)
            ));
        };
        let go_type = self.go_type(ty)?;
        let Shape::Pointer { elem: Some(elem) } = go_type.shape else {
            return Err(format!(
                "expression \"{}\" ({}) can not be dereferenced",
                text_of(operand),
                go_type.name
            ));
        };
        let target = self.word(addr)?;
        if target == 0 {
            return Err("nil pointer dereference".into());
        }
        Ok(Val::unnamed(target, elem))
    }

    /// `&operand`: a pointer to something in memory.
    fn address_of(&self, operand: &Expr) -> Result<Val, String> {
        let value = self.eval(operand)?;
        let Val::Place { addr, ty, .. } = &value else {
            return Err(format!("can not take address of \"{}\"", text_of(operand)));
        };
        let elem = self.go_type(*ty)?;
        Ok(Val::Pointer {
            target: *addr,
            elem: *ty,
            type_name: format!("*{}", elem.name),
            pointee: Some(Box::new(value.clone())),
        })
    }

    /// The type a type expression names (`int`, `main.Point`, `*T`,
    /// `"main.T"`), when it names one.
    fn type_of_expression(&self, e: &Expr) -> Option<u64> {
        let name = type_name_of(e)?;
        self.bi.type_named(&name).ok().flatten()
    }

    /// `T(x)`: a conversion to the type `ty`.
    fn convert(&self, ty: u64, arg: &Expr) -> Result<Val, String> {
        let target = self.go_type(ty)?;
        let value = self.eval(arg)?;
        match (&target.shape, value) {
            // Integer to pointer: points there, not read.
            (
                Shape::Pointer { elem: Some(elem) },
                Val::Const {
                    value: Const::Int(n),
                    ..
                },
            ) => Ok(Val::Pointer {
                target: n as u64,
                elem: *elem,
                type_name: target.name.clone(),
                pointee: None,
            }),
            // Pointers and unsafe.Pointers re-typed: the same object.
            (
                Shape::Pointer { .. },
                Val::Place {
                    addr,
                    name,
                    flags,
                    location_expr,
                    decl_line,
                    ty: from,
                },
            ) => match self.go_type(from)?.shape {
                Shape::Pointer { .. } => Ok(Val::Place {
                    addr,
                    ty,
                    name,
                    flags,
                    location_expr,
                    decl_line,
                }),
                _ => Err(format!(
                    "can not convert \"{}\" to {}",
                    text_of(arg),
                    target.name
                )),
            },
            (Shape::Scalar, value) => {
                let (c, _) = match value {
                    // A pointer converted to uintptr is its address.
                    Val::Place { addr, ty: from, .. }
                        if matches!(self.go_type(from)?.shape, Shape::Pointer { .. }) =>
                    {
                        (Const::Int(self.word(addr)? as i128), None)
                    }
                    other => self.as_constant(other)?,
                };
                let c = match (c, target.kind) {
                    (Const::Float(f), k) if k.is_signed() || k.is_unsigned() => {
                        Const::Int(f as i128)
                    }
                    (Const::Int(n), Kind::Float32 | Kind::Float64) => Const::Float(n as f64),
                    (c, _) => c,
                };
                self.typed(c, Some(ty))
            }
            _ => Err(format!(
                "can not convert \"{}\" to {}",
                text_of(arg),
                target.name
            )),
        }
    }

    /// Builtin calls (`len` and `cap`) and conversions (`T(x)`).
    fn call(&self, func: &Expr, args: &[Expr]) -> Result<Val, String> {
        if args.len() == 1 {
            // `(*T)(0xADDR)`: a pointer to T there, even when the binary
            // has no `*T` type of its own.
            if let Some(elem) = pointer_cast_target(func).and_then(|t| self.type_of_expression(t)) {
                if let Val::Const {
                    value: Const::Int(n),
                    ..
                } = self.eval(&args[0])?
                {
                    let elem_name = self.go_type(elem)?.name.clone();
                    return Ok(Val::Pointer {
                        target: n as u64,
                        elem,
                        type_name: format!("*{elem_name}"),
                        pointee: None,
                    });
                }
            }
            let is_builtin = matches!(func, Expr::Ident(i) if i.name == "len" || i.name == "cap");
            if !is_builtin {
                if let Some(ty) = self.type_of_expression(func) {
                    return self.convert(ty, &args[0]);
                }
            }
        }
        let Expr::Ident(name) = func else {
            return Err("function calls not allowed without using 'call'".into());
        };
        let builtin = name.name.as_str();
        if !matches!(builtin, "len" | "cap") || args.len() != 1 {
            return Err("function calls not allowed without using 'call'".into());
        }
        let arg = self.eval(&args[0])?;
        let invalid = |type_name: &str| {
            format!(
                "invalid argument {} (type {type_name}) for {builtin}",
                text_of(&args[0])
            )
        };
        let n = match &arg {
            Val::Const {
                value: Const::Str(s),
                ..
            } if builtin == "len" => s.len() as i128,
            Val::Const { .. } | Val::Byte { .. } | Val::Nil => {
                return Err(invalid("untyped constant"))
            }
            Val::Slice { len, .. } if builtin == "len" => *len as i128,
            Val::Slice { cap, .. } => *cap as i128,
            Val::Substring { text, .. } => text.len() as i128,
            // A pointer to an array has the array's length.
            Val::Pointer {
                elem, type_name, ..
            } => match self.go_type(*elem)?.shape {
                Shape::Array { len, .. } => len as i128,
                _ => return Err(invalid(type_name)),
            },
            Val::Place { addr, ty, .. } => {
                let go_type = self.go_type(*ty)?;
                let pointed_array = match go_type.shape {
                    Shape::Pointer { elem: Some(elem) } => match self.go_type(elem)?.shape {
                        Shape::Array { len, .. } => Some(len),
                        _ => None,
                    },
                    _ => None,
                };
                match (&go_type.shape, builtin) {
                    (Shape::Array { len, .. }, _) => *len as i128,
                    (Shape::Pointer { .. }, _) if pointed_array.is_some() => {
                        pointed_array.unwrap_or(0) as i128
                    }
                    (Shape::Slice { .. }, "len") => self.word(addr + 8)? as i128,
                    (Shape::Slice { .. }, _) => self.word(addr + 16)? as i128,
                    (Shape::String, "len") => self.word(addr + 8)? as i128,
                    (Shape::Map { .. }, "len") => match self.word(*addr)? {
                        0 => 0,
                        header => self.word(header)? as i128,
                    },
                    (Shape::Chan { .. }, _) => match self.word(*addr)? {
                        0 => 0,
                        hchan => {
                            let offset = if builtin == "len" { 0 } else { 8 };
                            self.word(hchan + offset)? as i128
                        }
                    },
                    _ => return Err(invalid(&go_type.name)),
                }
            }
        };
        Ok(constant(Const::Int(n)))
    }

    fn unary(&self, op: UnaryOp, operand: &Expr) -> Result<Val, String> {
        let value = self.eval(operand)?;
        let (c, ty) = self.as_constant(value)?;
        let result = match (op, c) {
            (UnaryOp::Minus, Const::Int(n)) => Const::Int(-n),
            (UnaryOp::Minus, Const::Float(f)) => Const::Float(-f),
            (UnaryOp::Plus, c @ (Const::Int(_) | Const::Float(_))) => c,
            (UnaryOp::Not, Const::Bool(b)) => Const::Bool(!b),
            (UnaryOp::Complement, Const::Int(n)) => Const::Int(!n),
            (op, _) => return Err(format!("operator {} not supported here", op.as_str())),
        };
        self.typed(result, ty)
    }

    fn binary(&self, op: BinaryOp, left: &Expr, right: &Expr) -> Result<Val, String> {
        let (left, right) = (self.eval(left)?, self.eval(right)?);
        if matches!(op, BinaryOp::Equal | BinaryOp::NotEqual) {
            if let Some(equal) = self.compare_composite(&left, &right)? {
                return Ok(constant(Const::Bool(equal == (op == BinaryOp::Equal))));
            }
        }
        let (l, lt) = self.as_constant(left)?;
        let (r, rt) = self.as_constant(right)?;
        let ty = match (lt, rt) {
            (Some(a), Some(b)) if a != b => {
                return Err(format!(
                    "mismatched types \"{}\" and \"{}\"",
                    self.go_type(a)?.name,
                    self.go_type(b)?.name
                ))
            }
            (a, b) => a.or(b),
        };
        use BinaryOp::*;
        if matches!(
            op,
            Equal | NotEqual | Less | LessOrEqual | Greater | GreaterOrEqual
        ) {
            let ordering = match (&l, &r) {
                (Const::Int(a), Const::Int(b)) => a.partial_cmp(b),
                (Const::Float(a), Const::Float(b)) => a.partial_cmp(b),
                (Const::Int(a), Const::Float(b)) => (*a as f64).partial_cmp(b),
                (Const::Float(a), Const::Int(b)) => a.partial_cmp(&(*b as f64)),
                (Const::Str(a), Const::Str(b)) => a.partial_cmp(b),
                (Const::Bool(a), Const::Bool(b)) if matches!(op, Equal | NotEqual) => {
                    Some(a.cmp(b))
                }
                _ => return Err("mismatched types in comparison".into()),
            };
            let Some(ordering) = ordering else {
                return Ok(constant(Const::Bool(op == NotEqual)));
            };
            let result = match op {
                Equal => ordering.is_eq(),
                NotEqual => ordering.is_ne(),
                Less => ordering.is_lt(),
                LessOrEqual => ordering.is_le(),
                Greater => ordering.is_gt(),
                _ => ordering.is_ge(),
            };
            return Ok(constant(Const::Bool(result)));
        }
        let result = match (op, l, r) {
            (LogicalAnd, Const::Bool(a), Const::Bool(b)) => {
                return Ok(constant(Const::Bool(a && b)))
            }
            (LogicalOr, Const::Bool(a), Const::Bool(b)) => {
                return Ok(constant(Const::Bool(a || b)))
            }
            (Add, Const::Str(a), Const::Str(b)) => Const::Str(a + &b),
            (op, Const::Int(a), Const::Int(b)) => Const::Int(match op {
                Add => a.wrapping_add(b),
                Sub => a.wrapping_sub(b),
                Mul => a.wrapping_mul(b),
                Div | Rem if b == 0 => return Err("runtime error: integer divide by zero".into()),
                Div => a / b,
                Rem => a % b,
                And => a & b,
                Or => a | b,
                Xor => a ^ b,
                AndNot => a & !b,
                ShiftLeft => a.checked_shl(b as u32).unwrap_or(0),
                ShiftRight => a >> (b.clamp(0, 127) as u32),
                _ => return Err(format!("operator {} not defined on integers", op.as_str())),
            }),
            (op, a, b) => {
                let (Some(a), Some(b)) = (as_float(&a), as_float(&b)) else {
                    return Err(format!("operator {} not supported here", op.as_str()));
                };
                Const::Float(match op {
                    Add => a + b,
                    Sub => a - b,
                    Mul => a * b,
                    Div => a / b,
                    _ => return Err(format!("operator {} not defined on floats", op.as_str())),
                })
            }
        };
        self.typed(result, ty)
    }

    /// `==` between values that are not numbers, strings or booleans: a
    /// pointer, slice, map, chan, func or interface against `nil`, or two
    /// values of one composite type (compared by what they hold, as
    /// loaded). `None` when the operands are scalars.
    fn compare_composite(&self, left: &Val, right: &Val) -> Result<Option<bool>, String> {
        let is_nil = |v: &Val| -> Result<Option<bool>, String> {
            let Val::Place { addr, ty, .. } = v else {
                return Ok(None);
            };
            Ok(match self.go_type(*ty)?.shape {
                Shape::Pointer { .. } | Shape::Map { .. } | Shape::Chan { .. } | Shape::Func => {
                    Some(self.word(*addr)? == 0)
                }
                Shape::Slice { .. } | Shape::Interface { .. } => Some(self.word(*addr)? == 0),
                _ => None,
            })
        };
        match (left, right) {
            (Val::Nil, Val::Nil) => Ok(Some(true)),
            (Val::Nil, other) | (other, Val::Nil) => match is_nil(other)? {
                Some(nil) => Ok(Some(nil)),
                None => Err("can not compare with nil".into()),
            },
            (
                Val::Place {
                    addr: a, ty: at, ..
                },
                Val::Place {
                    addr: b, ty: bt, ..
                },
            ) => {
                let (left_type, right_type) = (self.go_type(*at)?, self.go_type(*bt)?);
                if matches!(left_type.shape, Shape::Scalar | Shape::String) {
                    return Ok(None);
                }
                if left_type.name != right_type.name {
                    return Err(format!(
                        "mismatched types \"{}\" and \"{}\"",
                        left_type.name, right_type.name
                    ));
                }
                if matches!(
                    left_type.shape,
                    Shape::Pointer { .. } | Shape::Chan { .. } | Shape::Map { .. }
                ) {
                    return Ok(Some(self.word(*a)? == self.word(*b)?));
                }
                let loader = self.value_loader();
                Ok(Some(same_value(
                    &loader.load("", *a, *at),
                    &loader.load("", *b, *bt),
                )))
            }
            _ => Ok(None),
        }
    }

    /// A typed result wraps to its type's size.
    fn typed(&self, value: Const, ty: Option<u64>) -> Result<Val, String> {
        let Some(ty) = ty else {
            return Ok(constant(value));
        };
        let go_type = self.go_type(ty)?;
        let value = match value {
            Const::Int(n) if go_type.kind.is_signed() || go_type.kind.is_unsigned() => {
                let bits = go_type.size * 8;
                let masked = if bits >= 128 {
                    n
                } else {
                    n & ((1i128 << bits) - 1)
                };
                if go_type.kind.is_signed() && bits < 128 && masked >> (bits - 1) & 1 == 1 {
                    Const::Int(masked - (1i128 << bits))
                } else {
                    Const::Int(masked)
                }
            }
            other => other,
        };
        Ok(Val::Const {
            value,
            ty: Some(ty),
        })
    }

    /// The value of a scalar, for arithmetic: a constant as it is, a
    /// variable read from memory with its type.
    fn as_constant(&self, value: Val) -> Result<(Const, Option<u64>), String> {
        match value {
            Val::Const { value, ty } => Ok((value, ty)),
            place @ Val::Place { ty, .. } => Ok((self.place_constant(&place)?, Some(ty))),
            Val::Byte { value, .. } => Ok((
                Const::Int(value as i128),
                self.bi.type_named("uint8").ok().flatten(),
            )),
            Val::Substring { text, .. } => Ok((Const::Str(text), None)),
            Val::Pointer { .. } | Val::Nil | Val::Slice { .. } => Err("not a number".into()),
        }
    }

    /// A loader that reads a value whole, strings up to 1 MiB: what
    /// comparing values and using a variable as a constant need.
    fn value_loader(&self) -> Loader<'_> {
        Loader::new(
            self.bi,
            self.mem,
            LoadConfig {
                max_string_len: 1 << 20,
                ..LoadConfig::FULL
            },
        )
    }

    /// A scalar or string variable's value.
    fn place_constant(&self, place: &Val) -> Result<Const, String> {
        let Val::Place { addr, ty, .. } = place else {
            return Err("not a variable".into());
        };
        let v = self.value_loader().load("", *addr, *ty);
        if !v.unreadable.is_empty() {
            return Err(v.unreadable);
        }
        let kind = v.kind.unwrap_or(Kind::Invalid);
        // Described enum values read "Name (n)": the number is in brackets.
        let number = v
            .value
            .rsplit_once(" (")
            .map_or(v.value.as_str(), |(_, n)| n.trim_end_matches(')'));
        match kind {
            Kind::Bool => Ok(Const::Bool(v.value == "true")),
            Kind::String => Ok(Const::Str(v.value)),
            k if k.is_signed() || k.is_unsigned() => number
                .parse::<i128>()
                .map(Const::Int)
                .map_err(|e| e.to_string()),
            Kind::Float32 | Kind::Float64 => number
                .parse::<f64>()
                .map(Const::Float)
                .map_err(|e| e.to_string()),
            _ => Err(format!("{} is not a number", v.type_name)),
        }
    }

    /// An index expression's integer value.
    fn integer(&self, index: &Expr) -> Result<i128, String> {
        match self.as_constant(self.eval(index)?)?.0 {
            Const::Int(n) => Ok(n),
            other => Err(format!("can not use {other:?} as an index")),
        }
    }

    /// Loads the result for the client: named as written unless it keeps
    /// a variable's name.
    fn variable(&self, value: Val, source: &str, config: LoadConfig) -> Variable {
        match value {
            Val::Place {
                addr,
                ty,
                name,
                flags: var_flags,
                location_expr,
                decl_line,
            } => {
                let loader = Loader::new(self.bi, self.mem, config);
                let mut v = loader.load(name.as_deref().unwrap_or(source), addr, ty);
                v.flags |= var_flags;
                v.location_expr = location_expr;
                v.decl_line = decl_line;
                v
            }
            Val::Pointer {
                target,
                elem,
                type_name,
                pointee,
            } => {
                // Not followed: the pointee shows only its address (and, for
                // `&x`, what x is).
                let elem_type = self.go_type(elem).ok();
                let child = match pointee.map(|p| *p) {
                    Some(Val::Place {
                        name,
                        flags: var_flags,
                        location_expr,
                        decl_line,
                        ..
                    }) => Variable {
                        name: name.unwrap_or_default(),
                        flags: var_flags,
                        location_expr,
                        decl_line,
                        ..Variable::default()
                    },
                    _ => Variable::default(),
                };
                Variable {
                    name: source.to_owned(),
                    type_name: type_name.clone(),
                    real_type: type_name,
                    kind: Some(Kind::Ptr),
                    children: vec![Variable {
                        addr: target,
                        only_addr: true,
                        type_name: elem_type
                            .as_ref()
                            .map(|t| t.name.clone())
                            .unwrap_or_default(),
                        real_type: elem_type
                            .as_ref()
                            .map(|t| t.name.clone())
                            .unwrap_or_default(),
                        kind: elem_type.map(|t| t.kind),
                        ..child
                    }],
                    ..Variable::default()
                }
            }
            Val::Slice {
                base,
                len,
                cap,
                elem,
                literal,
            } => {
                let elem_type = self.go_type(elem).ok();
                let elem_name = elem_type
                    .as_ref()
                    .map(|t| t.name.clone())
                    .unwrap_or_default();
                let stride = elem_type.as_ref().map_or(0, |t| t.size);
                // Delve reads every element of a slice with literal bounds.
                let count = if literal {
                    len
                } else {
                    len.min(config.max_array_values.max(0) as u64)
                };
                let loader = Loader::new(self.bi, self.mem, config);
                let children = (0..count.min(1 << 20))
                    .map(|i| loader.load("", base + i * stride, elem))
                    .collect();
                Variable {
                    name: source.to_owned(),
                    type_name: format!("[]{elem_name}"),
                    real_type: format!("[]{elem_name}"),
                    kind: Some(Kind::Slice),
                    flags: if literal { flags::LITERAL_BOUNDS } else { 0 },
                    len: len as i64,
                    cap: cap as i64,
                    base,
                    children,
                    ..Variable::default()
                }
            }
            Val::Substring {
                base,
                text,
                low,
                literal,
            } => {
                let shown: String = text
                    .char_indices()
                    .take_while(|(i, _)| (*i as i64) < config.max_string_len)
                    .map(|(_, c)| c)
                    .collect();
                Variable {
                    name: source.to_owned(),
                    type_name: "string".into(),
                    real_type: "string".into(),
                    kind: Some(Kind::String),
                    flags: if literal { flags::LITERAL_BOUNDS } else { 0 },
                    len: text.len() as i64,
                    // Delve's capacity of a string is 0, so a substring's
                    // is minus its start.
                    cap: -(low as i64),
                    base,
                    value: shown,
                    ..Variable::default()
                }
            }
            Val::Nil => Variable {
                name: source.to_owned(),
                kind: Some(Kind::Ptr),
                children: vec![Variable {
                    only_addr: true,
                    kind: Some(Kind::Invalid),
                    ..Variable::default()
                }],
                ..Variable::default()
            },
            Val::Byte { addr, value } => Variable {
                name: source.to_owned(),
                addr,
                type_name: "byte".into(),
                real_type: "byte".into(),
                kind: Some(Kind::Uint8),
                value: value.to_string(),
                ..Variable::default()
            },
            Val::Const { value, ty } => {
                let typed = ty.and_then(|t| self.go_type(t).ok());
                let (kind, text, len) = match &value {
                    Const::Int(n) => (Kind::Int, n.to_string(), 0),
                    Const::Float(f) => (Kind::Float64, crate::value::format_float(*f, 64), 0),
                    Const::Bool(b) => (Kind::Bool, b.to_string(), 0),
                    Const::Str(s) => (Kind::String, s.clone(), s.len() as i64),
                };
                match typed {
                    Some(t) => Variable {
                        name: source.to_owned(),
                        type_name: t.name.clone(),
                        real_type: t.name.clone(),
                        kind: Some(t.kind),
                        value: text,
                        len,
                        ..Variable::default()
                    },
                    None => Variable {
                        name: source.to_owned(),
                        flags: flags::CONSTANT,
                        kind: Some(kind),
                        value: text,
                        len,
                        ..Variable::default()
                    },
                }
            }
        }
    }

    fn go_type(&self, ty: u64) -> Result<std::sync::Arc<GoType>, String> {
        self.bi.go_type(ty).map_err(|e| e.to_string())
    }

    fn word(&self, addr: u64) -> Result<u64, String> {
        self.mem.read_u64(addr).map_err(|e| e.to_string())
    }
}

/// Whether two loaded values hold the same (values and children, not
/// addresses).
fn same_value(a: &Variable, b: &Variable) -> bool {
    a.value == b.value
        && a.len == b.len
        && a.child_count() == b.child_count()
        && a.each_child()
            .zip(b.each_child())
            .all(|(x, y)| same_value(&x, &y))
}

/// An untyped constant.
fn constant(value: Const) -> Val {
    Val::Const { value, ty: None }
}

fn as_float(c: &Const) -> Option<f64> {
    match c {
        Const::Int(n) => Some(*n as f64),
        Const::Float(f) => Some(*f),
        _ => None,
    }
}

/// `T` of a `(*T)` cast's function part.
fn pointer_cast_target(func: &Expr) -> Option<&Expr> {
    match func {
        Expr::Paren { inner, .. } => match &**inner {
            Expr::Star { operand, .. } => Some(operand),
            _ => None,
        },
        _ => None,
    }
}

/// The Go name of a type expression: `int`, `main.Point`, `*T`, `[]T`,
/// and Delve's quoted names (`"main.T"`).
fn type_name_of(e: &Expr) -> Option<String> {
    match e {
        Expr::Ident(ident) => Some(ident.name.clone()),
        Expr::Selector { base, field, .. } => match &**base {
            Expr::Ident(package) => Some(format!("{}.{}", package.name, field.name)),
            _ => None,
        },
        Expr::String { value, .. } => Some(String::from_utf8_lossy(value).into_owned()),
        Expr::Paren { inner, .. } => type_name_of(inner),
        Expr::Star { operand, .. } => Some(format!("*{}", type_name_of(operand)?)),
        Expr::SliceType { elem, .. } => Some(format!("[]{}", type_name_of(elem)?)),
        _ => None,
    }
}

/// The source text of a sub-expression, for error messages.
fn text_of(e: &Expr) -> String {
    match e {
        Expr::Ident(ident) => ident.name.clone(),
        Expr::Selector { base, field, .. } => format!("{}.{}", text_of(base), field.name),
        Expr::Paren { inner, .. } => format!("({})", text_of(inner)),
        Expr::Star { operand, .. } => format!("*{}", text_of(operand)),
        Expr::Int { raw, .. } | Expr::Float { raw, .. } | Expr::String { raw, .. } => raw.clone(),
        _ => "expression".to_owned(),
    }
}

/// Delve's name for expression kinds it does not evaluate.
fn other_kind(e: &Expr) -> &'static str {
    match e {
        Expr::Imaginary { .. } => "*ast.BasicLit",
        _ => "*ast.Expr",
    }
}
