//! Go types as the binary's DWARF describes them, decoded one entry at a
//! time on first use (the variables layer asks for the types of the values
//! it reads; a type refers to others by `.debug_info` offset, so cyclic
//! types such as linked lists need no special care).

use super::dwarf::{DwarfIndex, Reader};
use crate::error::{BinaryError, Result};

/// Go's type kinds, numbered as `reflect.Kind` (and DWARF's
/// `DW_AT_go_kind`, and Delve's `api.Variable.kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
#[allow(missing_docs)] // Go's own names for its kinds
pub enum Kind {
    Invalid = 0,
    Bool = 1,
    Int = 2,
    Int8 = 3,
    Int16 = 4,
    Int32 = 5,
    Int64 = 6,
    Uint = 7,
    Uint8 = 8,
    Uint16 = 9,
    Uint32 = 10,
    Uint64 = 11,
    Uintptr = 12,
    Float32 = 13,
    Float64 = 14,
    Complex64 = 15,
    Complex128 = 16,
    Array = 17,
    Chan = 18,
    Func = 19,
    Interface = 20,
    Map = 21,
    Ptr = 22,
    Slice = 23,
    String = 24,
    Struct = 25,
    UnsafePointer = 26,
}

impl Kind {
    /// The kind numbered `n` (`Invalid` for numbers Go does not use).
    pub fn from_number(n: u64) -> Kind {
        use Kind::*;
        const ALL: [Kind; 27] = [
            Invalid,
            Bool,
            Int,
            Int8,
            Int16,
            Int32,
            Int64,
            Uint,
            Uint8,
            Uint16,
            Uint32,
            Uint64,
            Uintptr,
            Float32,
            Float64,
            Complex64,
            Complex128,
            Array,
            Chan,
            Func,
            Interface,
            Map,
            Ptr,
            Slice,
            String,
            Struct,
            UnsafePointer,
        ];
        ALL.get(n as usize).copied().unwrap_or(Invalid)
    }

    /// Signed integer kinds.
    pub fn is_signed(self) -> bool {
        matches!(
            self,
            Kind::Int | Kind::Int8 | Kind::Int16 | Kind::Int32 | Kind::Int64
        )
    }

    /// Unsigned integer kinds (uintptr included).
    pub fn is_unsigned(self) -> bool {
        matches!(
            self,
            Kind::Uint | Kind::Uint8 | Kind::Uint16 | Kind::Uint32 | Kind::Uint64 | Kind::Uintptr
        )
    }
}

/// A Go type: its name as Go spells it, size, kind and how its bytes are
/// laid out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoType {
    /// Offset of its entry in `.debug_info` (its identity).
    pub offset: u64,
    /// Go's name, e.g. `int`, `main.Point`, `*main.Node`, `map[string]int`.
    pub name: String,
    /// Size in bytes.
    pub size: u64,
    /// Its kind.
    pub kind: Kind,
    /// How to read a value of it.
    pub shape: Shape,
}

/// The layout of a type's values (named types take their underlying type's).
/// Type references are `.debug_info` offsets (see [`GoType::offset`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(missing_docs)] // each variant says what its fields are
pub enum Shape {
    /// A boolean, number or complex number of the type's size.
    Scalar,
    /// `{data *byte, len int}`.
    String,
    /// A pointer; `elem` is the pointee type (none for `unsafe.Pointer`).
    Pointer { elem: Option<u64> },
    /// `len` elements of type `elem`, each `stride` bytes apart.
    Array { elem: u64, len: u64, stride: u64 },
    /// `{array *elem, len int, cap int}`.
    Slice { elem: u64 },
    /// Fields in declaration order.
    Struct { fields: Vec<Field> },
    /// `{tab|_type, data}`; `empty` for `interface{}` (`runtime.eface`).
    Interface { empty: bool },
    /// A pointer to the runtime's map header `header` (a struct type).
    Map { key: u64, elem: u64, header: u64 },
    /// A pointer to the runtime's channel header `header` (a struct type).
    Chan { elem: u64, header: u64 },
    /// A pointer to a closure whose first word is the code's address.
    Func,
    /// Something Go does not make (or DWARF does not describe).
    Other,
}

/// One field of a struct.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// Field name (the type's name for embedded fields).
    pub name: String,
    /// Byte offset in the struct.
    pub offset: u64,
    /// Its type.
    pub ty: u64,
    /// An embedded field.
    pub embedded: bool,
}

/// What a walk of all of `.debug_info` finds (see
/// [`DwarfIndex::type_indexes`]).
#[derive(Debug, Default)]
pub(crate) struct TypeIndexes {
    /// Runtime type descriptor offset (from `runtime.types`) -> type entry.
    pub runtime_types: std::collections::HashMap<u64, u64>,
    /// Type entry -> its constants (full names and values), by value.
    pub constants: std::collections::HashMap<u64, Vec<(String, i64)>>,
}

/// Go's DWARF extensions (see `cmd/internal/dwarf`).
const DW_AT_GO_KIND: gimli::DwAt = gimli::DwAt(0x2900);
const DW_AT_GO_KEY: gimli::DwAt = gimli::DwAt(0x2901);
const DW_AT_GO_ELEM: gimli::DwAt = gimli::DwAt(0x2902);
const DW_AT_GO_EMBEDDED_FIELD: gimli::DwAt = gimli::DwAt(0x2903);

/// Offset of a type's runtime descriptor from `runtime.types`.
const DW_AT_GO_RUNTIME_TYPE: gimli::DwAt = gimli::DwAt(0x2904);

/// Typedef chains longer than this are treated as damaged.
const MAX_TYPEDEF_DEPTH: usize = 16;

impl DwarfIndex {
    /// Walks all of `.debug_info` once for what only a whole walk finds:
    /// every type with a runtime descriptor, and the constants of each
    /// named type.
    pub(super) fn type_indexes(&self) -> Result<TypeIndexes> {
        let mut index = TypeIndexes::default();
        for cu in &self.units {
            let unit = &cu.unit;
            let err = |e| BinaryError::dwarf(format!("types of unit {}", cu.name), e);
            let mut cursor = unit.entries();
            while let Some((_, entry)) = cursor.next_dfs().map_err(err)? {
                if entry.tag() == gimli::DW_TAG_constant {
                    let ty = entry
                        .attr_value(gimli::DW_AT_type)
                        .map_err(err)?
                        .and_then(|v| global_offset(unit, v));
                    let value = entry
                        .attr_value(gimli::DW_AT_const_value)
                        .map_err(err)?
                        .and_then(|v| v.sdata_value().or(v.udata_value().map(|u| u as i64)));
                    let name = self.entry_name(unit, entry).map_err(err)?;
                    if let (Some(ty), Some(value), Some(name)) = (ty, value, name) {
                        index.constants.entry(ty).or_default().push((name, value));
                    }
                    continue;
                }
                let Some(value) = entry.attr_value(DW_AT_GO_RUNTIME_TYPE).map_err(err)? else {
                    continue;
                };
                let descriptor = match value {
                    gimli::AttributeValue::Addr(a) => a,
                    other => match other.udata_value() {
                        Some(a) => a,
                        None => continue,
                    },
                };
                if descriptor == 0 {
                    continue;
                }
                if let Some(global) = entry.offset().to_debug_info_offset(&unit.header) {
                    index
                        .runtime_types
                        .entry(descriptor)
                        .or_insert(global.0 as u64);
                }
            }
        }
        for constants in index.constants.values_mut() {
            constants.sort_by_key(|&(_, value)| value);
        }
        Ok(index)
    }

    /// The type whose entry is at `.debug_info` offset `offset`.
    pub(super) fn go_type(&self, offset: u64) -> Result<GoType> {
        self.go_type_at_depth(offset, 0)
    }

    fn go_type_at_depth(&self, offset: u64, depth: usize) -> Result<GoType> {
        let what = || format!("type at .debug_info offset {offset:#x}");
        let err = |e| BinaryError::dwarf(what(), e);
        let global = gimli::DebugInfoOffset(offset as usize);
        let unit_index = self
            .unit_containing(global)
            .ok_or_else(|| BinaryError::dwarf(what(), gimli::Error::NoEntryAtGivenOffset))?;
        let unit = &self.units[unit_index].unit;
        let local = global
            .to_unit_offset(&unit.header)
            .ok_or_else(|| BinaryError::dwarf(what(), gimli::Error::NoEntryAtGivenOffset))?;
        let entry = unit.entry(local).map_err(err)?;
        let name = self
            .entry_name(unit, &entry)
            .map_err(err)?
            .unwrap_or_default();
        let size = entry
            .attr_value(gimli::DW_AT_byte_size)
            .map_err(err)?
            .and_then(|v| v.udata_value())
            .unwrap_or(0);
        let go_kind = entry
            .attr_value(DW_AT_GO_KIND)
            .map_err(err)?
            .and_then(|v| v.udata_value())
            // Types the linker makes up (`waitq<int>`) say kind 0.
            .filter(|&k| k != 0)
            .map(Kind::from_number);
        let reference = |attr: gimli::DwAt| -> Result<Option<u64>> {
            Ok(entry
                .attr_value(attr)
                .map_err(err)?
                .and_then(|v| global_offset(unit, v)))
        };
        let ty = |kind: Kind, shape: Shape, size: u64| GoType {
            offset,
            name: name.clone(),
            size,
            kind,
            shape,
        };
        Ok(match entry.tag() {
            gimli::DW_TAG_typedef => {
                let target = reference(gimli::DW_AT_type)?;
                match go_kind {
                    Some(Kind::Map) | Some(Kind::Chan) => {
                        // A pointer to the runtime's header struct.
                        let header = match target {
                            Some(pointer) => match self.go_type(pointer)?.shape {
                                Shape::Pointer { elem: Some(header) } => header,
                                _ => 0,
                            },
                            None => 0,
                        };
                        let elem = reference(DW_AT_GO_ELEM)?.unwrap_or(0);
                        if go_kind == Some(Kind::Map) {
                            let key = reference(DW_AT_GO_KEY)?.unwrap_or(0);
                            ty(Kind::Map, Shape::Map { key, elem, header }, 8)
                        } else {
                            ty(Kind::Chan, Shape::Chan { elem, header }, 8)
                        }
                    }
                    _ => match target {
                        Some(target) if depth < MAX_TYPEDEF_DEPTH => {
                            let underlying = self.go_type_at_depth(target, depth + 1)?;
                            let shape = match (go_kind, &underlying.shape) {
                                (Some(Kind::Interface), _) => Shape::Interface {
                                    empty: underlying.name == "runtime.eface",
                                },
                                _ => underlying.shape,
                            };
                            ty(go_kind.unwrap_or(underlying.kind), shape, underlying.size)
                        }
                        _ => ty(Kind::Invalid, Shape::Other, size),
                    },
                }
            }
            gimli::DW_TAG_base_type => {
                let kind = go_kind.unwrap_or_else(|| {
                    let encoding = entry
                        .attr_value(gimli::DW_AT_encoding)
                        .ok()
                        .flatten()
                        .and_then(|v| match v {
                            gimli::AttributeValue::Encoding(e) => Some(e),
                            _ => None,
                        });
                    base_kind(encoding, size)
                });
                ty(kind, Shape::Scalar, size)
            }
            gimli::DW_TAG_pointer_type => {
                let elem = reference(gimli::DW_AT_type)?;
                let kind = match (go_kind, elem) {
                    (Some(kind), _) => kind,
                    (None, None) => Kind::UnsafePointer,
                    (None, Some(_)) => Kind::Ptr,
                };
                ty(kind, Shape::Pointer { elem }, 8)
            }
            gimli::DW_TAG_structure_type => match go_kind {
                Some(Kind::String) => ty(Kind::String, Shape::String, size),
                Some(Kind::Slice) => {
                    let elem = match reference(DW_AT_GO_ELEM)? {
                        Some(elem) => elem,
                        None => self.slice_element(unit, local)?.unwrap_or(0),
                    };
                    ty(Kind::Slice, Shape::Slice { elem }, size)
                }
                _ => {
                    let fields = self.struct_fields(unit, local)?;
                    ty(
                        go_kind.unwrap_or(Kind::Struct),
                        Shape::Struct { fields },
                        size,
                    )
                }
            },
            gimli::DW_TAG_array_type => {
                let elem = reference(gimli::DW_AT_type)?.unwrap_or(0);
                let len = self.array_length(unit, local)?;
                let stride = match len {
                    0 => 0,
                    n => size / n,
                };
                ty(Kind::Array, Shape::Array { elem, len, stride }, size)
            }
            gimli::DW_TAG_subroutine_type => ty(Kind::Func, Shape::Func, 8),
            _ => ty(go_kind.unwrap_or(Kind::Invalid), Shape::Other, size),
        })
    }

    /// The members of the struct entry at `local`.
    fn struct_fields(
        &self,
        unit: &gimli::Unit<Reader>,
        local: gimli::UnitOffset,
    ) -> Result<Vec<Field>> {
        let err = |e| BinaryError::dwarf("struct members".to_owned(), e);
        let mut tree = unit.entries_tree(Some(local)).map_err(err)?;
        let root = tree.root().map_err(err)?;
        let mut fields = Vec::new();
        let mut children = root.children();
        while let Some(child) = children.next().map_err(err)? {
            let entry = child.entry();
            if entry.tag() != gimli::DW_TAG_member {
                continue;
            }
            let name = self
                .entry_name(unit, entry)
                .map_err(err)?
                .unwrap_or_default();
            let offset = entry
                .attr_value(gimli::DW_AT_data_member_location)
                .map_err(err)?
                .and_then(|v| v.udata_value())
                .unwrap_or(0);
            let ty = entry
                .attr_value(gimli::DW_AT_type)
                .map_err(err)?
                .and_then(|v| global_offset(unit, v))
                .unwrap_or(0);
            let embedded = entry
                .attr_value(DW_AT_GO_EMBEDDED_FIELD)
                .map_err(err)?
                .is_some_and(|v| {
                    matches!(v, gimli::AttributeValue::Flag(true)) || v.udata_value() == Some(1)
                });
            fields.push(Field {
                name,
                offset,
                ty,
                embedded,
            });
        }
        Ok(fields)
    }

    /// The element type of a slice struct: the pointee of its `array` member.
    fn slice_element(
        &self,
        unit: &gimli::Unit<Reader>,
        local: gimli::UnitOffset,
    ) -> Result<Option<u64>> {
        let fields = self.struct_fields(unit, local)?;
        let Some(array) = fields.iter().find(|f| f.name == "array") else {
            return Ok(None);
        };
        Ok(match self.go_type(array.ty)?.shape {
            Shape::Pointer { elem } => elem,
            _ => None,
        })
    }

    /// The element count of the array entry at `local` (its subrange's
    /// count, or upper bound + 1).
    fn array_length(&self, unit: &gimli::Unit<Reader>, local: gimli::UnitOffset) -> Result<u64> {
        let err = |e| BinaryError::dwarf("array bounds".to_owned(), e);
        let mut tree = unit.entries_tree(Some(local)).map_err(err)?;
        let root = tree.root().map_err(err)?;
        let mut children = root.children();
        while let Some(child) = children.next().map_err(err)? {
            let entry = child.entry();
            if entry.tag() != gimli::DW_TAG_subrange_type {
                continue;
            }
            if let Some(count) = entry
                .attr_value(gimli::DW_AT_count)
                .map_err(err)?
                .and_then(|v| v.udata_value())
            {
                return Ok(count);
            }
            if let Some(upper) = entry
                .attr_value(gimli::DW_AT_upper_bound)
                .map_err(err)?
                .and_then(|v| v.sdata_value())
            {
                return Ok((upper + 1).max(0) as u64);
            }
        }
        Ok(0)
    }
}

/// A type reference as a `.debug_info` offset.
pub(super) fn global_offset(
    unit: &gimli::Unit<Reader>,
    value: gimli::AttributeValue<Reader>,
) -> Option<u64> {
    match value {
        gimli::AttributeValue::UnitRef(local) => {
            local.to_debug_info_offset(&unit.header).map(|o| o.0 as u64)
        }
        gimli::AttributeValue::DebugInfoRef(global) => Some(global.0 as u64),
        _ => None,
    }
}

/// The kind of a base type without `DW_AT_go_kind`, from its encoding.
fn base_kind(encoding: Option<gimli::DwAte>, size: u64) -> Kind {
    match (encoding, size) {
        (Some(gimli::DW_ATE_boolean), _) => Kind::Bool,
        (Some(gimli::DW_ATE_float), 4) => Kind::Float32,
        (Some(gimli::DW_ATE_float), _) => Kind::Float64,
        (Some(gimli::DW_ATE_complex_float), 8) => Kind::Complex64,
        (Some(gimli::DW_ATE_complex_float), _) => Kind::Complex128,
        (Some(gimli::DW_ATE_signed), 1) => Kind::Int8,
        (Some(gimli::DW_ATE_signed), 2) => Kind::Int16,
        (Some(gimli::DW_ATE_signed), 4) => Kind::Int32,
        (Some(gimli::DW_ATE_signed), _) => Kind::Int64,
        (Some(gimli::DW_ATE_unsigned | gimli::DW_ATE_unsigned_char), 1) => Kind::Uint8,
        (Some(gimli::DW_ATE_unsigned), 2) => Kind::Uint16,
        (Some(gimli::DW_ATE_unsigned), 4) => Kind::Uint32,
        (Some(gimli::DW_ATE_unsigned), _) => Kind::Uint64,
        _ => Kind::Invalid,
    }
}
