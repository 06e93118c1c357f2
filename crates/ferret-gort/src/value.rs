//! Go values read from target memory, the way Delve shows them
//! (`api.Variable`): a tree of variables, each with its type, a value
//! string for scalars, length and capacity, and children for composite
//! values, loaded as deep and as wide as a [`LoadConfig`] allows.

use std::borrow::Cow;

use ferret_target::{BlockCachedMemory, Memory, PrefetchedMemory};

use crate::bininfo::{BinaryInfo, GoType, Kind, Shape};

/// How much of a value to read (Delve's `LoadConfig`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoadConfig {
    /// Read what pointers point to.
    pub follow_pointers: bool,
    /// How many levels of structs (and the like) below the top one are
    /// expanded; pointers and interfaces do not add a level.
    pub max_variable_recurse: i64,
    /// Longest string read, in bytes.
    pub max_string_len: i64,
    /// Most elements read of an array, slice or map.
    pub max_array_values: i64,
    /// Most fields read of a struct (-1: all).
    pub max_struct_fields: i64,
}

impl LoadConfig {
    /// Every limit zero: what Delve loads for a listing that names no
    /// configuration (no string bytes, no children).
    pub const NOTHING: LoadConfig = LoadConfig {
        follow_pointers: false,
        max_variable_recurse: 0,
        max_string_len: 0,
        max_array_values: 0,
        max_struct_fields: 0,
    };

    /// Delve's `LoadFullValue`, what `print` and `Eval` use by default.
    pub const FULL: LoadConfig = LoadConfig {
        follow_pointers: true,
        max_variable_recurse: 1,
        max_string_len: 64,
        max_array_values: 64,
        max_struct_fields: -1,
    };
}

/// `api.Variable` flag bits.
pub mod flags {
    /// The variable was moved to the heap (DWARF names it `&x`).
    pub const ESCAPED: u32 = 1;
    /// An inner scope declares a variable of the same name.
    pub const SHADOWED: u32 = 2;
    /// The value of a constant expression.
    pub const CONSTANT: u32 = 4;
    /// A function argument.
    pub const ARGUMENT: u32 = 8;
    /// A function result.
    pub const RETURN_ARGUMENT: u32 = 16;
    /// Held in registers (or pieces): `addr` is made up.
    pub const FAKE_ADDRESS: u32 = 32;
    /// A reslice whose bounds were both literal numbers (an internal flag
    /// of Delve's that shows on the wire).
    pub const LITERAL_BOUNDS: u32 = 256;
}

/// A value as clients see it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Variable {
    /// Its name ("" for elements and pointees).
    pub name: String,
    /// Where it is in memory (0 when not in memory).
    pub addr: u64,
    /// Only the address was read (a pointee not followed).
    pub only_addr: bool,
    /// Its type's name.
    pub type_name: String,
    /// The name of its type with typedefs resolved.
    pub real_type: String,
    /// [`flags`] bits.
    pub flags: u32,
    /// Its kind.
    pub kind: Option<Kind>,
    /// Scalars, strings, pointers and functions as text.
    pub value: String,
    /// The bytes of a string that is not valid UTF-8.
    pub string_bytes: Option<Vec<u8>>,
    /// Length (strings, arrays, slices, maps, channels; struct field count;
    /// 1 for pointers).
    pub len: i64,
    /// Capacity (arrays, slices, channels).
    pub cap: i64,
    /// Fields, elements, map keys and values, the pointee (see also
    /// `packed`; read them with [`Variable::each_child`]).
    pub children: Vec<Variable>,
    /// The elements instead of `children` when they are plain numbers
    /// read in one piece.
    pub packed: Option<Box<PackedNumbers>>,
    /// Address of the data behind it (strings, slices, maps, funcs).
    pub base: u64,
    /// Why it could not be read.
    pub unreadable: String,
    /// How DWARF locates it (for named variables).
    pub location_expr: String,
    /// Line of its declaration.
    pub decl_line: u32,
}

impl Variable {
    /// How many children it has (loaded or packed).
    pub fn child_count(&self) -> usize {
        match &self.packed {
            Some(packed) => packed.len(),
            None => self.children.len(),
        }
    }

    /// Its children in order, packed elements made variables one by one.
    pub fn each_child(&self) -> impl Iterator<Item = Cow<'_, Variable>> {
        let loaded = self.children.iter().map(Cow::Borrowed);
        let packed = self
            .packed
            .iter()
            .flat_map(|p| (0..p.len()).map(|i| Cow::Owned(p.get(i))));
        loaded.chain(packed)
    }
}

/// The elements of an array or slice of plain numbers (no named type
/// with constants to describe them) kept as the bytes read, each made a
/// [`Variable`] only when asked for: a million-element `[]int` costs its
/// 8 MB, not a million variables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackedNumbers {
    /// Address of the first element.
    start: u64,
    /// Distance between elements in memory.
    stride: u64,
    /// Bytes kept per element.
    size: usize,
    kind: Kind,
    type_name: String,
    /// `size` bytes per element, back to back.
    bytes: Vec<u8>,
}

impl PackedNumbers {
    /// How many elements it holds.
    pub fn len(&self) -> usize {
        self.bytes.len() / self.size.max(1)
    }

    /// Whether it holds no element.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Element `i` as the loader would have made it.
    pub fn get(&self, i: usize) -> Variable {
        let bytes = &self.bytes[i * self.size..(i + 1) * self.size];
        Variable {
            addr: self.start + i as u64 * self.stride,
            type_name: self.type_name.clone(),
            real_type: self.type_name.clone(),
            kind: Some(self.kind),
            value: scalar_text(self.kind, bytes),
            len: if matches!(self.kind, Kind::Complex64 | Kind::Complex128) {
                2
            } else {
                0
            },
            ..Variable::default()
        }
    }
}

/// Reads values of one binary's types from one target's memory.
#[derive(Clone, Copy)]
pub struct Loader<'a> {
    bi: &'a BinaryInfo,
    mem: &'a dyn Memory,
    config: LoadConfig,
    /// Where `runtime.types` starts: interface type words point there.
    types_base: u64,
}

/// The most bytes one string read takes, whatever the configuration says
/// (a request must not allocate without bound).
const MAX_STRING_BYTES: i64 = 1 << 20;
/// The most elements one array, slice or map read takes.
const MAX_ELEMENTS: i64 = 1 << 20;
/// The most bytes of elements read ahead in one go.
const MAX_PREFETCH_BYTES: u64 = 64 << 20;

impl<'a> Loader<'a> {
    /// A loader reading `mem` with the types of `bi`, as far as `config`
    /// says.
    pub fn new(bi: &'a BinaryInfo, mem: &'a dyn Memory, config: LoadConfig) -> Loader<'a> {
        let types_base = bi
            .symbols()
            .iter()
            .find(|s| s.name == "runtime.types")
            .map_or(0, |s| s.address);
        Loader {
            bi,
            mem,
            config,
            types_base,
        }
    }

    /// The value of type `ty` at `addr`, named `name`.
    pub fn load(&self, name: &str, addr: u64, ty: u64) -> Variable {
        match self.bi.go_type(ty) {
            Ok(go_type) => self.load_typed(name, addr, &go_type, 0),
            Err(e) => Variable {
                name: name.to_owned(),
                addr,
                unreadable: e.to_string(),
                ..Variable::default()
            },
        }
    }

    fn load_typed(&self, name: &str, addr: u64, ty: &GoType, level: i64) -> Variable {
        let mut v = Variable {
            name: name.to_owned(),
            addr,
            type_name: ty.name.clone(),
            real_type: ty.name.clone(),
            kind: Some(ty.kind),
            ..Variable::default()
        };
        if let Err(why) = self.fill(&mut v, ty, level) {
            v.unreadable = why;
        }
        v
    }

    /// Fills in `v` (its address and type set) from memory.
    fn fill(&self, v: &mut Variable, ty: &GoType, level: i64) -> Result<(), String> {
        let addr = v.addr;
        match &ty.shape {
            Shape::Scalar => {
                let mut bytes = vec![0u8; ty.size.min(16) as usize];
                if let Err(e) = self.read(addr, &mut bytes) {
                    // Delve shows an unreadable number as 0.
                    if ty.kind.is_signed() || ty.kind.is_unsigned() {
                        v.value = "0".into();
                    }
                    return Err(e);
                }
                v.value = scalar_text(ty.kind, &bytes);
                if (ty.kind.is_signed() || ty.kind.is_unsigned())
                    && ty.name.contains('.')
                    && !ty.name.starts_with("C.")
                {
                    if let Ok(n) = v.value.parse::<i64>() {
                        if let Some(text) = self.describe_constant(ty.offset, n) {
                            v.value = text;
                        }
                    }
                }
                if matches!(ty.kind, Kind::Complex64 | Kind::Complex128) {
                    v.len = 2;
                }
            }
            Shape::String => {
                let data = self.word(addr)?;
                let len = self.word(addr + 8)? as i64;
                v.len = len;
                v.base = data;
                let want = len
                    .min(self.config.max_string_len)
                    .clamp(0, MAX_STRING_BYTES);
                let mut bytes = vec![0u8; want as usize];
                if want > 0 {
                    self.read(data, &mut bytes)
                        .map_err(|e| format!("could not read string at {data:#x} due to {e}"))?;
                }
                match String::from_utf8(bytes) {
                    Ok(text) => v.value = text,
                    Err(e) => {
                        v.value = String::from_utf8_lossy(e.as_bytes()).into_owned();
                        v.string_bytes = Some(e.into_bytes());
                    }
                }
            }
            Shape::Pointer { elem } => {
                let target = self.word(addr)?;
                v.value = target.to_string();
                v.len = 1;
                let follow = self.config.follow_pointers;
                let child = match elem {
                    Some(elem) => {
                        let elem_type = self.bi.go_type(*elem).map_err(|e| e.to_string())?;
                        // Structs behind a pointer cost no level; pointers
                        // and interfaces behind one do, and past the limit
                        // are not read.
                        let (child_level, too_deep) = match elem_type.shape {
                            Shape::Interface { .. } => (level + 1, false),
                            Shape::Pointer { .. } => {
                                (level + 1, level > self.config.max_variable_recurse)
                            }
                            _ => (level, false),
                        };
                        if follow && target != 0 && !too_deep {
                            self.load_typed("", target, &elem_type, child_level)
                        } else {
                            // An array's length is its type's, read or not.
                            let len = match elem_type.shape {
                                Shape::Array { len, .. } => len as i64,
                                _ => 0,
                            };
                            Variable {
                                addr: target,
                                only_addr: !follow || too_deep,
                                type_name: elem_type.name.clone(),
                                real_type: elem_type.name.clone(),
                                kind: Some(elem_type.kind),
                                len,
                                cap: len,
                                ..Variable::default()
                            }
                        }
                    }
                    None => Variable {
                        addr: target,
                        only_addr: !follow,
                        type_name: "void".into(),
                        real_type: "void".into(),
                        kind: Some(Kind::Invalid),
                        // Reading what an unsafe.Pointer points to fails
                        // for want of a type (a nil one is not read).
                        unreadable: if follow && target != 0 {
                            "unknown or unsupported kind: \"invalid\"".into()
                        } else {
                            String::new()
                        },
                        ..Variable::default()
                    },
                };
                v.children.push(child);
            }
            Shape::Array { elem, len, stride } => {
                v.len = *len as i64;
                v.cap = *len as i64;
                v.base = addr;
                let count = (*len as i64)
                    .min(self.config.max_array_values)
                    .clamp(0, MAX_ELEMENTS);
                self.fill_elements(v, addr, *elem, *stride, count as u64, level + 1)?;
            }
            Shape::Slice { elem } => {
                let data = self.word(addr)?;
                v.len = self.word(addr + 8)? as i64;
                v.cap = self.word(addr + 16)? as i64;
                v.base = data;
                let size = self.bi.go_type(*elem).map_err(|e| e.to_string())?.size;
                let count = v
                    .len
                    .min(self.config.max_array_values)
                    .clamp(0, MAX_ELEMENTS);
                self.fill_elements(v, data, *elem, size, count as u64, level + 1)?;
            }
            Shape::Struct { fields } => {
                v.len = fields.len() as i64;
                if level > self.config.max_variable_recurse {
                    return Ok(());
                }
                let max = match self.config.max_struct_fields {
                    n if n < 0 => fields.len(),
                    n => (n as usize).min(fields.len()),
                };
                for field in &fields[..max] {
                    let field_type = self.bi.go_type(field.ty).map_err(|e| e.to_string())?;
                    v.children.push(self.load_typed(
                        &field.name,
                        addr + field.offset,
                        &field_type,
                        level + 1,
                    ));
                }
                if ty.name == "time.Time" {
                    if let Some(text) = time_text(&v.children) {
                        v.value = text;
                    }
                }
            }
            Shape::Interface { .. } => {
                let type_word = self.word(addr)?;
                let data_word = self.word(addr + 8)?;
                v.children
                    .push(self.interface_data(v, type_word, data_word, addr + 8, level)?);
            }
            Shape::Map { key, elem, header } => {
                let hmap = self.word(addr)?;
                if hmap == 0 {
                    return Ok(());
                }
                v.base = hmap;
                v.len = self.word(hmap)? as i64;
                // Too deep: only the length, so clients see it is not empty.
                if level <= self.config.max_variable_recurse {
                    // Groups and buckets are read slot by slot: in blocks.
                    let cached = BlockCachedMemory::new(self.mem);
                    let loader = Loader {
                        mem: &cached,
                        ..*self
                    };
                    loader.load_map(v, hmap, *key, *elem, *header, level)?;
                }
            }
            Shape::Chan { elem, header } => {
                let hchan = self.word(addr)?;
                if hchan == 0 {
                    return Ok(());
                }
                v.base = hchan;
                // The runtime's channel as Delve shows it whatever the
                // configuration: fully, from level 0.
                let full = Loader {
                    config: LoadConfig::FULL,
                    ..*self
                };
                let header_type = self.bi.go_type(*header).map_err(|e| e.to_string())?;
                let channel = full.load_typed("", hchan, &header_type, 0);
                v.len = channel.len;
                v.children = channel.children;
                // The buffer is shown as a pointer to an array of
                // `dataqsiz` elements.
                let size = v
                    .children
                    .iter()
                    .find(|c| c.name == "dataqsiz")
                    .and_then(|c| c.value.parse::<u64>().ok())
                    .unwrap_or(0);
                if let Some(buf) = v.children.iter_mut().find(|c| c.name == "buf") {
                    *buf = full.channel_buffer(buf.addr, *elem, size, 1)?;
                }
            }
            Shape::Func => {
                let closure = self.word(addr)?;
                if closure == 0 {
                    return Ok(());
                }
                let entry = self.word(closure)?;
                v.base = entry;
                let function = closure_function(self.bi, entry)?;
                let captured = self.bi.captured_variables(&function).unwrap_or_default();
                v.len = captured.len() as i64;
                if level <= self.config.max_variable_recurse {
                    // The captures are the closure struct's fields.
                    let max = match self.config.max_struct_fields {
                        n if n < 0 => captured.len(),
                        n => (n as usize).min(captured.len()),
                    };
                    for capture in &captured[..max] {
                        v.children.push(self.captured(closure, capture, level + 1));
                    }
                }
                v.value = function.name;
            }
            Shape::Other => {}
        }
        Ok(())
    }

    /// `n` in terms of the constants declared with type `ty`, as Delve
    /// writes it: `Name (n)` for a constant's value, `A|B (n)` when
    /// single-bit constants make up all of `n`; `None` otherwise.
    fn describe_constant(&self, ty: u64, n: i64) -> Option<String> {
        let constants = self.bi.constants_of(ty).ok()?;
        if constants.is_empty() {
            return None;
        }
        let short = |name: &str| -> String {
            let last_slash = name.rfind('/').map_or(0, |i| i + 1);
            match name[last_slash..].find('.') {
                Some(dot) => name[last_slash + dot + 1..].to_owned(),
                None => name.to_owned(),
            }
        };
        // Of several constants with the value, the first declared names it
        // (as in Delve for up to 12 constants, which Go's sort keeps in
        // order; Delve's order for more, and so its pick among aliases such
        // as EAGAIN/EWOULDBLOCK, follows Go's unstable pdqsort).
        if let Some((name, _)) = constants.iter().find(|&&(_, value)| value == n) {
            return Some(format!("{} ({n})", short(name)));
        }
        if n == 0 {
            return None;
        }
        let mut left = n;
        let mut names = Vec::new();
        for (name, value) in constants {
            if value.count_ones() == 1 && value & n != 0 {
                left &= !value;
                names.push(short(name));
            }
        }
        (left == 0).then(|| format!("{} ({n})", names.join("|")))
    }

    /// One variable a closure at `closure` captured: in its slot, or, when
    /// captured by reference (`&x`), where the slot points (shown as `x`,
    /// escaped).
    fn captured(
        &self,
        closure: u64,
        capture: &crate::bininfo::CapturedVariable,
        level: i64,
    ) -> Variable {
        let slot = closure + capture.offset;
        let Some(name) = capture.name.strip_prefix('&') else {
            return match self.bi.go_type(capture.ty) {
                Ok(ty) => self.load_typed(&capture.name, slot, &ty, level),
                Err(e) => unreadable(&capture.name, e.to_string()),
            };
        };
        let target = match self.word(slot) {
            Ok(target) => target,
            Err(e) => return unreadable(name, e),
        };
        match self.pointee(capture.ty) {
            Ok(Some(elem)) => match self.bi.go_type(elem) {
                Ok(ty) => {
                    let mut v = self.load_typed(name, target, &ty, level);
                    v.flags |= flags::ESCAPED;
                    v
                }
                Err(e) => unreadable(name, e.to_string()),
            },
            Ok(None) => unreadable(name, "captured by reference, but not a pointer".into()),
            Err(e) => unreadable(name, e),
        }
    }

    /// Sets `v`'s elements: `count` of type `elem`, `stride` bytes apart
    /// from `start`, their bytes read in one go (a million elements must
    /// not cost a million reads), plain numbers kept packed.
    fn fill_elements(
        &self,
        v: &mut Variable,
        start: u64,
        elem: u64,
        stride: u64,
        count: u64,
        level: i64,
    ) -> Result<(), String> {
        let elem_type = self.bi.go_type(elem).map_err(|e| e.to_string())?;
        let bytes = stride.saturating_mul(count);
        if count > 1 && bytes <= MAX_PREFETCH_BYTES && is_plain_number(&elem_type) {
            let size = elem_type.size.min(16) as usize;
            let mut read = vec![0u8; bytes as usize];
            if self.read(start, &mut read).is_ok() {
                let packed = if size as u64 == stride {
                    read
                } else {
                    read.chunks(stride as usize)
                        .flat_map(|e| e[..size].to_vec())
                        .collect()
                };
                v.packed = Some(Box::new(PackedNumbers {
                    start,
                    stride,
                    size,
                    kind: elem_type.kind,
                    type_name: elem_type.name.clone(),
                    bytes: packed,
                }));
                return Ok(());
            }
        }
        let prefetched;
        let loader = if count > 1 && bytes <= MAX_PREFETCH_BYTES {
            prefetched = PrefetchedMemory::new(self.mem, &[(start, bytes as usize)]);
            Loader {
                mem: &prefetched,
                ..*self
            }
        } else {
            *self
        };
        // As Delve does, reading stops at the fourth unreadable element.
        let mut unreadable = 0;
        for i in 0..count {
            let element = loader.load_typed("", start + i * stride, &elem_type, level);
            if !element.unreadable.is_empty() {
                unreadable += 1;
            }
            v.children.push(element);
            if unreadable == 4 {
                break;
            }
        }
        Ok(())
    }

    /// A channel's `buf` field (at `field_addr`) as a pointer to an array
    /// of `size` elements of type `elem`.
    fn channel_buffer(
        &self,
        field_addr: u64,
        elem: u64,
        size: u64,
        level: i64,
    ) -> Result<Variable, String> {
        let buf = self.word(field_addr)?;
        let elem_type = self.bi.go_type(elem).map_err(|e| e.to_string())?;
        let array_name = format!("[{size}]{}", elem_type.name);
        let mut array = Variable {
            addr: buf,
            type_name: array_name.clone(),
            real_type: array_name.clone(),
            kind: Some(Kind::Array),
            len: size as i64,
            cap: size as i64,
            base: buf,
            ..Variable::default()
        };
        let count = (size as i64)
            .min(self.config.max_array_values)
            .clamp(0, MAX_ELEMENTS);
        for i in 0..count as u64 {
            array.children.push(self.load_typed(
                "",
                buf + i * elem_type.size,
                &elem_type,
                level + 1,
            ));
        }
        Ok(Variable {
            name: "buf".into(),
            addr: field_addr,
            type_name: format!("*{array_name}"),
            real_type: format!("*{array_name}"),
            kind: Some(Kind::Ptr),
            value: buf.to_string(),
            len: 1,
            children: vec![array],
            ..Variable::default()
        })
    }

    /// The `data` child of an interface: the dynamic value, typed by the
    /// runtime type the interface holds.
    fn interface_data(
        &self,
        iface: &Variable,
        type_word: u64,
        data_word: u64,
        data_addr: u64,
        level: i64,
    ) -> Result<Variable, String> {
        if type_word == 0 {
            // No type: a nil interface (its data word is 0 too, unless the
            // type word was optimized away; then, as in Delve, the untyped
            // data cannot be read).
            return Ok(Variable {
                addr: data_word,
                type_name: "void".into(),
                real_type: "void".into(),
                kind: Some(Kind::Invalid),
                unreadable: if data_word != 0 {
                    "unknown or unsupported kind: \"invalid\"".into()
                } else {
                    String::new()
                },
                ..Variable::default()
            });
        }
        // A non-empty interface holds an itab; its type word is after the
        // interface type pointer.
        let runtime_type = if iface.type_name == "interface {}" || self.is_eface(iface) {
            type_word
        } else {
            self.word(type_word + 8)?
        };
        let Some(dynamic) = self.dwarf_type_of(runtime_type)? else {
            return Err("could not resolve interface type".into());
        };
        let ty = self.bi.go_type(dynamic).map_err(|e| e.to_string())?;
        // Pointer-shaped values are stored in the data word itself; as in
        // Delve, so is any pointer (pointers to not-in-heap types are not
        // flagged direct).
        let direct = self.is_direct(runtime_type)? || matches!(ty.shape, Shape::Pointer { .. });
        let at = if direct { data_addr } else { data_word };
        if level > self.config.max_variable_recurse {
            // Too deep: its type and address only.
            return Ok(Variable {
                name: "data".into(),
                addr: at,
                only_addr: true,
                type_name: ty.name.clone(),
                real_type: ty.name.clone(),
                kind: Some(ty.kind),
                ..Variable::default()
            });
        }
        Ok(self.load_typed("data", at, &ty, level))
    }

    fn is_eface(&self, iface: &Variable) -> bool {
        iface.type_name == "any"
    }

    /// The DWARF type describing the runtime type descriptor at `addr`.
    fn dwarf_type_of(&self, addr: u64) -> Result<Option<u64>, String> {
        if addr < self.types_base {
            return Ok(None);
        }
        self.bi
            .type_for_runtime_offset(addr - self.types_base)
            .map_err(|e| e.to_string())
    }

    /// Whether values of the runtime type at `addr` are stored directly in
    /// an interface's data word (pointer-shaped types).
    fn is_direct(&self, addr: u64) -> Result<bool, String> {
        // abi.Type: Size_, PtrBytes uintptr; Hash uint32; TFlag, Align_,
        // FieldAlign_, Kind_ uint8.
        let mut flags = [0u8; 4];
        self.read(addr + 20, &mut flags)?;
        let (tflag, kind) = (flags[0], flags[3]);
        Ok(kind & 0x20 != 0 || tflag & 0x20 != 0)
    }

    /// Reads a map's entries (both runtime layouts), at most
    /// `max_array_values` of them.
    fn load_map(
        &self,
        v: &mut Variable,
        hmap: u64,
        key: u64,
        elem: u64,
        header: u64,
        level: i64,
    ) -> Result<(), String> {
        let key_type = self.bi.go_type(key).map_err(|e| e.to_string())?;
        let elem_type = self.bi.go_type(elem).map_err(|e| e.to_string())?;
        let header_type = self.bi.go_type(header).map_err(|e| e.to_string())?;
        let Shape::Struct { fields } = &header_type.shape else {
            return Err(format!("map header {} is not a struct", header_type.name));
        };
        let field = |name: &str| fields.iter().find(|f| f.name == name);
        let max = self.config.max_array_values.clamp(0, MAX_ELEMENTS) as usize;
        let mut entries: Vec<(u64, u64)> = Vec::new();
        if let (Some(dir_ptr), Some(dir_len)) = (field("dirPtr"), field("dirLen")) {
            self.swiss_entries(
                hmap,
                dir_ptr.offset,
                dir_len.offset,
                dir_ptr.ty,
                max,
                &mut entries,
            )?;
        } else if let (Some(buckets), Some(log2)) = (field("buckets"), field("B")) {
            let indirect = (
                !matches!(key_type.shape, Shape::Pointer { .. }),
                !matches!(elem_type.shape, Shape::Pointer { .. }),
            );
            let layout = ClassicMap {
                buckets,
                log2: log2.offset,
                old_buckets: field("oldbuckets"),
                indirect,
            };
            self.classic_entries(hmap, &layout, max, &mut entries)?;
        }
        // Entries are (slot address, slot type): keys and values sit in the
        // slot at the offsets its struct gives.
        for (key_addr, elem_addr) in entries {
            v.children
                .push(self.load_typed("", key_addr, &key_type, level + 1));
            v.children
                .push(self.load_typed("", elem_addr, &elem_type, level + 1));
        }
        Ok(())
    }

    /// Swiss-table map entries (Go 1.24+), as Delve walks them: directory
    /// entries in order (each table once), groups in order, slots in
    /// order, full slots only.
    fn swiss_entries(
        &self,
        map: u64,
        dir_ptr_offset: u64,
        dir_len_offset: u64,
        dir_ptr_type: u64,
        max: usize,
        out: &mut Vec<(u64, u64)>,
    ) -> Result<(), String> {
        let dir_ptr = self.word(map + dir_ptr_offset)?;
        let dir_len = self.word(map + dir_len_offset)? as i64;
        if dir_ptr == 0 {
            return Ok(());
        }
        // dirPtr is `**table<K,V>` in DWARF: find the table and group types.
        let table_type = self
            .pointee(dir_ptr_type)?
            .and_then(|t| self.pointee(t).ok().flatten());
        let Some(table_type) = table_type else {
            return Err("map table type not described".into());
        };
        let table = self.bi.go_type(table_type).map_err(|e| e.to_string())?;
        let Shape::Struct { fields } = &table.shape else {
            return Err("map table is not a struct".into());
        };
        let groups_field = fields
            .iter()
            .find(|f| f.name == "groups")
            .ok_or("map table has no groups")?;
        let groups_type = self
            .bi
            .go_type(groups_field.ty)
            .map_err(|e| e.to_string())?;
        let Shape::Struct { fields: group_ref } = &groups_type.shape else {
            return Err("map groups reference is not a struct".into());
        };
        let data = group_ref
            .iter()
            .find(|f| f.name == "data")
            .ok_or("no groups data")?;
        let mask = group_ref
            .iter()
            .find(|f| f.name == "lengthMask")
            .ok_or("no groups lengthMask")?;
        let group_type = self
            .pointee(data.ty)?
            .ok_or("map group type not described")?;
        let group = self.bi.go_type(group_type).map_err(|e| e.to_string())?;
        let layout = GroupLayout::of(self, &group)?;
        let index_field = fields.iter().find(|f| f.name == "index").map(|f| f.offset);
        let visit_group = |group_addr: u64, out: &mut Vec<(u64, u64)>| -> Result<bool, String> {
            let ctrl = self.word(group_addr + layout.ctrl)?;
            for slot in 0..8u64 {
                if out.len() >= max {
                    return Ok(false);
                }
                if (ctrl >> (8 * slot)) & 0x80 != 0 {
                    continue;
                }
                let (mut key, mut elem) = layout.slot(group_addr, slot);
                if layout.indirect_key {
                    key = self.word(key)?;
                }
                if layout.indirect_elem {
                    elem = self.word(elem)?;
                }
                out.push((key, elem));
            }
            Ok(true)
        };
        if dir_len == 0 {
            // A small map: dirPtr points at one group.
            visit_group(dir_ptr, out)?;
            return Ok(());
        }
        for i in 0..dir_len.clamp(0, 1 << 20) as u64 {
            let table_addr = self.word(dir_ptr + i * 8)?;
            if let Some(index_offset) = index_field {
                // Several directory entries may share a table: visit it at
                // its own index only.
                let index = self.word(table_addr + index_offset)? as i64;
                if index != i as i64 {
                    continue;
                }
            }
            let groups = self.word(table_addr + groups_field.offset + data.offset)?;
            let length_mask = self.word(table_addr + groups_field.offset + mask.offset)?;
            for g in 0..=length_mask.min(1 << 20) {
                if !visit_group(groups + g * group.size, out)? {
                    return Ok(());
                }
            }
        }
        Ok(())
    }

    /// Classic hash map entries (up to Go 1.23), as Delve walks them.
    fn classic_entries(
        &self,
        hmap: u64,
        layout: &ClassicMap<'_>,
        max: usize,
        out: &mut Vec<(u64, u64)>,
    ) -> Result<(), String> {
        let ClassicMap {
            buckets: buckets_field,
            log2: log2_offset,
            old_buckets: old_buckets_field,
            indirect: (key_may_be_indirect, value_may_be_indirect),
        } = *layout;
        let mut log2 = [0u8; 1];
        self.read(hmap + log2_offset, &mut log2)?;
        let buckets = self.word(hmap + buckets_field.offset)?;
        let old_buckets = match old_buckets_field {
            Some(f) => self.word(hmap + f.offset)?,
            None => 0,
        };
        let bucket_type = self
            .pointee(buckets_field.ty)?
            .ok_or("map bucket type not described")?;
        let bucket = self.bi.go_type(bucket_type).map_err(|e| e.to_string())?;
        let Shape::Struct { fields } = &bucket.shape else {
            return Err("map bucket is not a struct".into());
        };
        let field = |name: &str| fields.iter().find(|f| f.name == name);
        let (Some(tophash), Some(keys), Some(values), Some(overflow)) = (
            field("tophash"),
            field("keys"),
            field("values").or_else(|| field("elems")),
            field("overflow"),
        ) else {
            return Err("map bucket fields not described".into());
        };
        let key_stride = self.array_stride(keys.ty)?;
        let value_stride = self.array_stride(values.ty)?;
        let (indirect_key, indirect_value) = (
            key_may_be_indirect && self.array_of_pointers(keys.ty)?,
            value_may_be_indirect && self.array_of_pointers(values.ty)?,
        );
        let count = 1u64 << log2[0].min(30);
        let visit = |mut b: u64, out: &mut Vec<(u64, u64)>| -> Result<bool, String> {
            let mut hops = 0;
            while b != 0 && hops < 1 << 16 {
                let mut hashes = [0u8; 8];
                self.read(b + tophash.offset, &mut hashes)?;
                for (slot, &h) in hashes.iter().enumerate() {
                    if h <= 1 {
                        continue;
                    }
                    if out.len() >= max {
                        return Ok(false);
                    }
                    let mut key = b + keys.offset + slot as u64 * key_stride;
                    let mut value = b + values.offset + slot as u64 * value_stride;
                    if indirect_key {
                        key = self.word(key)?;
                    }
                    if indirect_value {
                        value = self.word(value)?;
                    }
                    out.push((key, value));
                }
                b = self.word(b + overflow.offset)?;
                hops += 1;
            }
            Ok(true)
        };
        for i in 0..count {
            let mut b = buckets + i * bucket.size;
            if old_buckets != 0 {
                let old_count = (count / 2).max(1);
                let old = old_buckets + (i & (old_count - 1)) * bucket.size;
                let mut first = [0u8; 1];
                self.read(old + tophash.offset, &mut first)?;
                let evacuated = (2..=4).contains(&first[0]);
                if !evacuated {
                    if i >= old_count {
                        continue;
                    }
                    b = old;
                }
            }
            if !visit(b, out)? {
                return Ok(());
            }
        }
        Ok(())
    }

    /// The element stride of array type `ty`.
    fn array_stride(&self, ty: u64) -> Result<u64, String> {
        match self.bi.go_type(ty).map_err(|e| e.to_string())?.shape {
            Shape::Array { stride, .. } => Ok(stride),
            _ => Err("map bucket field is not an array".into()),
        }
    }

    /// Whether array type `ty` holds pointers: a bucket's keys or values
    /// over 128 bytes are stored out of line, and DWARF then shows `[8]*K`
    /// for a map whose key type `K` is not a pointer.
    fn array_of_pointers(&self, ty: u64) -> Result<bool, String> {
        match self.bi.go_type(ty).map_err(|e| e.to_string())?.shape {
            Shape::Array { elem, .. } => Ok(matches!(
                self.bi.go_type(elem).map_err(|e| e.to_string())?.shape,
                Shape::Pointer { .. }
            )),
            _ => Ok(false),
        }
    }

    /// The pointee of pointer type `ty`.
    fn pointee(&self, ty: u64) -> Result<Option<u64>, String> {
        Ok(
            match self.bi.go_type(ty).map_err(|e| e.to_string())?.shape {
                Shape::Pointer { elem } => elem,
                _ => None,
            },
        )
    }

    fn word(&self, addr: u64) -> Result<u64, String> {
        self.mem.read_u64(addr).map_err(|e| e.to_string())
    }

    fn read(&self, addr: u64, buf: &mut [u8]) -> Result<(), String> {
        self.mem.read_memory(addr, buf).map_err(|e| e.to_string())
    }
}

/// The function whose code starts at `entry`, the first word of a
/// closure (a func value points at its closure); Delve's error when there
/// is none.
pub(crate) fn closure_function(
    bi: &BinaryInfo,
    entry: u64,
) -> Result<crate::bininfo::Function, String> {
    bi.function_at(entry)
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("could not find function for {entry:#x}"))
}

/// A variable that could not be read, and why.
fn unreadable(name: &str, why: String) -> Variable {
    Variable {
        name: name.to_owned(),
        unreadable: why,
        ..Variable::default()
    }
}

/// The header fields a classic hash map is read through.
struct ClassicMap<'f> {
    buckets: &'f crate::bininfo::Field,
    /// Offset of `B` (log2 of the bucket count).
    log2: u64,
    old_buckets: Option<&'f crate::bininfo::Field>,
    /// Whether keys and values may be stored out of line (their types are
    /// not pointers themselves).
    indirect: (bool, bool),
}

/// Where keys and values sit in a swiss-table group.
struct GroupLayout {
    ctrl: u64,
    /// Offset of slot 0 and the slot size (interleaved layout), or of the
    /// key and element arrays (split layout).
    slots: u64,
    slot_size: u64,
    key_in_slot: u64,
    elem_in_slot: u64,
    split: Option<(u64, u64, u64, u64)>,
    indirect_key: bool,
    indirect_elem: bool,
}

impl GroupLayout {
    fn of(loader: &Loader<'_>, group: &GoType) -> Result<GroupLayout, String> {
        let Shape::Struct { fields } = &group.shape else {
            return Err("map group is not a struct".into());
        };
        let field = |name: &str| fields.iter().find(|f| f.name == name);
        let ctrl = field("ctrl").ok_or("map group has no ctrl")?.offset;
        if let Some(slots) = field("slots") {
            let array = loader.bi.go_type(slots.ty).map_err(|e| e.to_string())?;
            let Shape::Array { elem, stride, .. } = array.shape else {
                return Err("map group slots are not an array".into());
            };
            let slot = loader.bi.go_type(elem).map_err(|e| e.to_string())?;
            let Shape::Struct {
                fields: slot_fields,
            } = &slot.shape
            else {
                return Err("map slot is not a struct".into());
            };
            let key = slot_fields
                .iter()
                .find(|f| f.name == "key")
                .ok_or("no slot key")?;
            let elem = slot_fields
                .iter()
                .find(|f| f.name == "elem")
                .ok_or("no slot elem")?;
            return Ok(GroupLayout {
                ctrl,
                slots: slots.offset,
                slot_size: stride,
                key_in_slot: key.offset,
                elem_in_slot: elem.offset,
                split: None,
                indirect_key: false,
                indirect_elem: false,
            });
        }
        let keys = field("keys").ok_or("map group has no slots")?;
        let elems = field("elems").ok_or("map group has no elems")?;
        let key_stride = match loader.bi.go_type(keys.ty).map_err(|e| e.to_string())?.shape {
            Shape::Array { stride, .. } => stride,
            _ => 0,
        };
        let elem_stride = match loader
            .bi
            .go_type(elems.ty)
            .map_err(|e| e.to_string())?
            .shape
        {
            Shape::Array { stride, .. } => stride,
            _ => 0,
        };
        Ok(GroupLayout {
            ctrl,
            slots: 0,
            slot_size: 0,
            key_in_slot: 0,
            elem_in_slot: 0,
            split: Some((keys.offset, key_stride, elems.offset, elem_stride)),
            indirect_key: false,
            indirect_elem: false,
        })
    }

    /// Addresses of slot `i`'s key and element in the group at `group`.
    fn slot(&self, group: u64, i: u64) -> (u64, u64) {
        match self.split {
            Some((keys, key_stride, elems, elem_stride)) => (
                group + keys + i * key_stride,
                group + elems + i * elem_stride,
            ),
            None => {
                let slot = group + self.slots + i * self.slot_size;
                (slot + self.key_in_slot, slot + self.elem_in_slot)
            }
        }
    }
}

/// Whether values of `ty` are numbers (or bools) whose text is their
/// bytes' alone: no named integer type whose constants describe them.
fn is_plain_number(ty: &GoType) -> bool {
    let integer = ty.kind.is_signed() || ty.kind.is_unsigned();
    matches!(ty.shape, Shape::Scalar)
        && (integer
            || matches!(
                ty.kind,
                Kind::Bool | Kind::Float32 | Kind::Float64 | Kind::Complex64 | Kind::Complex128
            ))
        && !(integer && ty.name.contains('.') && !ty.name.starts_with("C."))
        && ty.size <= 16
}

/// A scalar's text, as Delve (and Go's fmt) writes it.
fn scalar_text(kind: Kind, bytes: &[u8]) -> String {
    let mut word = [0u8; 8];
    let n = bytes.len().min(8);
    word[..n].copy_from_slice(&bytes[..n]);
    let raw = u64::from_le_bytes(word);
    let signed = |bits: u32| ((raw << (64 - bits)) as i64) >> (64 - bits);
    match kind {
        Kind::Bool => (raw & 0xff != 0).to_string(),
        Kind::Int8 => signed(8).to_string(),
        Kind::Int16 => signed(16).to_string(),
        Kind::Int32 => signed(32).to_string(),
        Kind::Int | Kind::Int64 => (raw as i64).to_string(),
        Kind::Uint8 => (raw & 0xff).to_string(),
        Kind::Uint16 => (raw & 0xffff).to_string(),
        Kind::Uint32 => (raw & 0xffff_ffff).to_string(),
        Kind::Uint | Kind::Uint64 | Kind::Uintptr => raw.to_string(),
        Kind::Float32 => format_float(f32::from_bits(raw as u32) as f64, 32),
        Kind::Float64 => format_float(f64::from_bits(raw), 64),
        Kind::Complex64 => {
            let re = f32::from_bits(raw as u32) as f64;
            let im = f32::from_bits((raw >> 32) as u32) as f64;
            format!("({} + {}i)", format_float(re, 32), format_float(im, 32))
        }
        Kind::Complex128 => {
            let mut imag = [0u8; 8];
            if bytes.len() >= 16 {
                imag.copy_from_slice(&bytes[8..16]);
            }
            let re = f64::from_bits(raw);
            let im = f64::from_bits(u64::from_le_bytes(imag));
            format!("({} + {}i)", format_float(re, 64), format_float(im, 64))
        }
        _ => String::new(),
    }
}

/// `strconv.FormatFloat(f, 'f', -1, bits)`, as Delve writes floats: the
/// shortest digits that read back as the same number, never in exponent
/// form.
pub fn format_float(f: f64, bits: u32) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        };
    }
    // Shortest round-trip digits, from Rust's exponent formatting.
    let text = if bits == 32 {
        format!("{:e}", f as f32)
    } else {
        format!("{f:e}")
    };
    let (mantissa, exponent) = text.split_once('e').expect("exponent form");
    let exponent: i32 = exponent.parse().expect("exponent");
    let sign = if mantissa.starts_with('-') { "-" } else { "" };
    let digits: String = mantissa.chars().filter(|c| c.is_ascii_digit()).collect();
    if f == 0.0 {
        return format!("{sign}0");
    }
    let point = exponent + 1; // digits before the decimal point
    if point <= 0 {
        format!("{sign}0.{}{digits}", "0".repeat((-point) as usize))
    } else if point as usize >= digits.len() {
        format!(
            "{sign}{digits}{}",
            "0".repeat(point as usize - digits.len())
        )
    } else {
        let (int, frac) = digits.split_at(point as usize);
        format!("{sign}{int}.{frac}")
    }
}

/// A `time.Time` as Delve shows it: RFC 3339 in UTC, without fractions of
/// a second, plus `, +<monotonic>` when it carries a monotonic reading.
fn time_text(fields: &[Variable]) -> Option<String> {
    let wall: u64 = fields
        .iter()
        .find(|f| f.name == "wall")?
        .value
        .parse()
        .ok()?;
    let ext: i64 = fields
        .iter()
        .find(|f| f.name == "ext")?
        .value
        .parse()
        .ok()?;
    let loc = fields.iter().find(|f| f.name == "loc")?;
    if loc.value != "0" {
        return None;
    }
    const HAS_MONOTONIC: u64 = 1 << 63;
    const WALL_TO_INTERNAL: i64 = (1884 * 365 + 1884 / 4 - 1884 / 100 + 1884 / 400) * 86400;
    const UNIX_TO_INTERNAL: i64 = (1969 * 365 + 1969 / 4 - 1969 / 100 + 1969 / 400) * 86400;
    let (seconds, monotonic) = if wall & HAS_MONOTONIC != 0 {
        let secs = ((wall << 1) >> 31) as i64;
        (secs + WALL_TO_INTERNAL - UNIX_TO_INTERNAL, Some(ext))
    } else {
        (ext - UNIX_TO_INTERNAL, None)
    };
    let days = seconds.div_euclid(86400);
    let rem = seconds.rem_euclid(86400);
    let (y, m, d) = civil_from_days(days);
    let mut text = format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    );
    if let Some(mono) = monotonic {
        text.push_str(&format!(", +{mono}"));
    }
    Some(text)
}

/// The proleptic Gregorian date of a day count from 1970-01-01.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_format_as_go_does() {
        // Expected texts are Go's strconv.FormatFloat(f, 'f', -1, 64) (and
        // what dlv printed for f64*1e6, f64*1e23, f64/1e5 with f64 = pi).
        for (f, go) in [
            (std::f64::consts::PI, "3.141592653589793"),
            (1.5, "1.5"),
            (3141592.653589793, "3141592.653589793"),
            (3.141592653589793e23, "314159265358979300000000"),
            (3.141592653589793e-5, "0.00003141592653589793"),
            (-2.0, "-2"),
        ] {
            assert_eq!(format_float(f, 64), go, "{f}");
        }
        assert_eq!(format_float(36.6f32 as f64, 32), "36.6");
    }
}
