//! Core WebAssembly types as fact stores them: serializable, engine-independent, and limited
//! to the proposals fact supports (typed function references, but no GC heap types).
//!
//! A concrete reference type names a function type in one of two index spaces: a
//! module's type index ([`HeapType::Module`], in the types of a [`crate::ModuleInfo`]) or
//! an engine-wide signature id ([`HeapType::Engine`], in the types the runtime and the
//! embedder see, where equal types have equal ids). The runtime turns the first into the
//! second when it loads a module.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A core value type.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ValType {
    I32,
    I64,
    F32,
    F64,
    V128,
    Ref(RefType),
}

impl ValType {
    /// `funcref`: `(ref null func)`.
    pub const FUNCREF: ValType = ValType::Ref(RefType::FUNCREF);
    /// `externref`: `(ref null extern)`.
    pub const EXTERNREF: ValType = ValType::Ref(RefType::EXTERNREF);
    /// `exnref`: `(ref null exn)`.
    pub const EXNREF: ValType = ValType::Ref(RefType::EXNREF);

    /// Converts a validated wasmparser value type. Types outside fact's feature set are
    /// reported as unsupported.
    pub fn from_wasmparser(ty: wasmparser::ValType) -> anyhow::Result<ValType> {
        Ok(match ty {
            wasmparser::ValType::I32 => ValType::I32,
            wasmparser::ValType::I64 => ValType::I64,
            wasmparser::ValType::F32 => ValType::F32,
            wasmparser::ValType::F64 => ValType::F64,
            wasmparser::ValType::V128 => ValType::V128,
            wasmparser::ValType::Ref(r) => ValType::Ref(RefType::from_wasmparser(r)?),
        })
    }

    /// Whether this is a reference type.
    pub fn is_ref(self) -> bool {
        matches!(self, ValType::Ref(_))
    }

    /// The reference type, if this is one.
    pub fn as_ref(self) -> Option<RefType> {
        match self {
            ValType::Ref(r) => Some(r),
            _ => None,
        }
    }

    /// The same type with every concrete heap type replaced by `f`'s.
    pub fn map_heap_types(self, f: &impl Fn(HeapType) -> HeapType) -> ValType {
        match self {
            ValType::Ref(r) => ValType::Ref(r.map_heap_types(f)),
            other => other,
        }
    }
}

impl fmt::Display for ValType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ValType::I32 => f.write_str("i32"),
            ValType::I64 => f.write_str("i64"),
            ValType::F32 => f.write_str("f32"),
            ValType::F64 => f.write_str("f64"),
            ValType::V128 => f.write_str("v128"),
            ValType::Ref(r) => r.fmt(f),
        }
    }
}

/// A reference type: a heap type, and whether null is a value of the type.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RefType {
    pub nullable: bool,
    pub heap: HeapType,
}

impl RefType {
    /// `funcref`.
    pub const FUNCREF: RefType = RefType::new(true, HeapType::Func);
    /// `externref`.
    pub const EXTERNREF: RefType = RefType::new(true, HeapType::Extern);
    /// `exnref`.
    pub const EXNREF: RefType = RefType::new(true, HeapType::Exn);

    pub const fn new(nullable: bool, heap: HeapType) -> RefType {
        RefType { nullable, heap }
    }

    /// Converts a validated wasmparser reference type.
    pub fn from_wasmparser(ty: wasmparser::RefType) -> anyhow::Result<RefType> {
        Ok(RefType {
            nullable: ty.is_nullable(),
            heap: HeapType::from_wasmparser(ty.heap_type())?,
        })
    }

    /// The same type with every concrete heap type replaced by `f`'s.
    pub fn map_heap_types(self, f: &impl Fn(HeapType) -> HeapType) -> RefType {
        RefType {
            nullable: self.nullable,
            heap: self.heap.map_concrete(f),
        }
    }

    /// Subtyping between reference types of one index space; `concrete(a, b)` decides
    /// whether concrete type `a` is a subtype of concrete type `b`.
    pub fn is_subtype_of(
        self,
        other: RefType,
        concrete: &impl Fn(HeapType, HeapType) -> bool,
    ) -> bool {
        (!self.nullable || other.nullable) && self.heap.is_subtype_of(other.heap, concrete)
    }
}

impl fmt::Display for RefType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let short = match (self.nullable, self.heap) {
            (true, HeapType::Func) => Some("funcref"),
            (true, HeapType::Extern) => Some("externref"),
            (true, HeapType::Exn) => Some("exnref"),
            (true, HeapType::NoFunc) => Some("nullfuncref"),
            (true, HeapType::NoExtern) => Some("nullexternref"),
            (true, HeapType::NoExn) => Some("nullexnref"),
            _ => None,
        };
        match short {
            Some(s) => f.write_str(s),
            None if self.nullable => write!(f, "(ref null {})", self.heap),
            None => write!(f, "(ref {})", self.heap),
        }
    }
}

/// A heap type: what a reference points at. fact supports the function, extern and
/// exception hierarchies; concrete types are always function types.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum HeapType {
    /// Any function.
    Func,
    /// No function (the bottom of the function hierarchy; only null).
    NoFunc,
    /// Any external reference.
    Extern,
    /// No external reference (only null).
    NoExtern,
    /// Any exception.
    Exn,
    /// No exception (only null).
    NoExn,
    /// Functions of a module's type, by module type index.
    Module(u32),
    /// Functions of a type, by engine-wide signature id.
    Engine(u32),
}

impl HeapType {
    /// Converts a validated wasmparser heap type; GC, shared and stack-switching heap
    /// types are unsupported.
    pub fn from_wasmparser(ty: wasmparser::HeapType) -> anyhow::Result<HeapType> {
        use wasmparser::AbstractHeapType as A;
        Ok(match ty {
            wasmparser::HeapType::Abstract { shared: true, .. } => {
                anyhow::bail!("unsupported proposal: shared-everything threads (shared heap types)")
            }
            wasmparser::HeapType::Abstract { ty, .. } => match ty {
                A::Func => HeapType::Func,
                A::NoFunc => HeapType::NoFunc,
                A::Extern => HeapType::Extern,
                A::NoExtern => HeapType::NoExtern,
                A::Exn => HeapType::Exn,
                A::NoExn => HeapType::NoExn,
                A::Any | A::None | A::Eq | A::Struct | A::Array | A::I31 => {
                    anyhow::bail!("unsupported proposal: GC (the heap type {ty:?})")
                }
                A::Cont | A::NoCont => {
                    anyhow::bail!("unsupported proposal: stack switching (the heap type {ty:?})")
                }
            },
            wasmparser::HeapType::Concrete(index) => match index.as_module_index() {
                Some(i) => HeapType::Module(i),
                None => anyhow::bail!("a type reference outside the module's index space"),
            },
            wasmparser::HeapType::Exact(_) => {
                anyhow::bail!("unsupported proposal: custom descriptors (exact heap types)")
            }
        })
    }

    /// Whether this is a concrete (defined) type.
    pub fn is_concrete(self) -> bool {
        matches!(self, HeapType::Module(_) | HeapType::Engine(_))
    }

    /// The top of this type's hierarchy: `func`, `extern` or `exn`.
    pub fn top(self) -> HeapType {
        match self {
            HeapType::Func | HeapType::NoFunc | HeapType::Module(_) | HeapType::Engine(_) => {
                HeapType::Func
            }
            HeapType::Extern | HeapType::NoExtern => HeapType::Extern,
            HeapType::Exn | HeapType::NoExn => HeapType::Exn,
        }
    }

    /// This type, or `f`'s replacement if it is concrete.
    pub fn map_concrete(self, f: &impl Fn(HeapType) -> HeapType) -> HeapType {
        if self.is_concrete() {
            f(self)
        } else {
            self
        }
    }

    /// Subtyping between heap types of one index space; `concrete(a, b)` decides whether
    /// concrete type `a` is a subtype of concrete type `b`.
    pub fn is_subtype_of(
        self,
        other: HeapType,
        concrete: &impl Fn(HeapType, HeapType) -> bool,
    ) -> bool {
        use HeapType as H;
        match (self, other) {
            _ if self == other => true,
            (H::NoFunc, H::Func | H::Module(_) | H::Engine(_)) => true,
            (H::Module(_) | H::Engine(_), H::Func) => true,
            (H::Module(_) | H::Engine(_), H::Module(_) | H::Engine(_)) => concrete(self, other),
            (H::NoExtern, H::Extern) | (H::NoExn, H::Exn) => true,
            _ => false,
        }
    }
}

impl fmt::Display for HeapType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HeapType::Func => f.write_str("func"),
            HeapType::NoFunc => f.write_str("nofunc"),
            HeapType::Extern => f.write_str("extern"),
            HeapType::NoExtern => f.write_str("noextern"),
            HeapType::Exn => f.write_str("exn"),
            HeapType::NoExn => f.write_str("noexn"),
            HeapType::Module(i) => write!(f, "{i}"),
            HeapType::Engine(id) => write!(f, "type#{id}"),
        }
    }
}

/// How a module declares one of its types for subtyping: whether it is final, and its
/// declared supertype (a module type index).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SubType {
    pub is_final: bool,
    pub supertype: Option<u32>,
}

impl Default for SubType {
    /// A plain `(type (func ...))`: final, without a supertype.
    fn default() -> SubType {
        SubType {
            is_final: true,
            supertype: None,
        }
    }
}

/// A function type.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub struct FuncType {
    pub params: Box<[ValType]>,
    pub results: Box<[ValType]>,
}

impl FuncType {
    pub fn new(
        params: impl IntoIterator<Item = ValType>,
        results: impl IntoIterator<Item = ValType>,
    ) -> FuncType {
        FuncType {
            params: params.into_iter().collect(),
            results: results.into_iter().collect(),
        }
    }

    /// The same type with every concrete heap type replaced by `f`'s.
    pub fn map_heap_types(&self, f: &impl Fn(HeapType) -> HeapType) -> FuncType {
        FuncType {
            params: self.params.iter().map(|t| t.map_heap_types(f)).collect(),
            results: self.results.iter().map(|t| t.map_heap_types(f)).collect(),
        }
    }

    /// Converts a validated wasmparser function type.
    pub fn from_wasmparser(ty: &wasmparser::FuncType) -> anyhow::Result<FuncType> {
        Ok(FuncType {
            params: ty
                .params()
                .iter()
                .map(|t| ValType::from_wasmparser(*t))
                .collect::<anyhow::Result<_>>()?,
            results: ty
                .results()
                .iter()
                .map(|t| ValType::from_wasmparser(*t))
                .collect::<anyhow::Result<_>>()?,
        })
    }
}

impl fmt::Display for FuncType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("(func")?;
        if !self.params.is_empty() {
            f.write_str(" (param")?;
            for p in self.params.iter() {
                write!(f, " {p}")?;
            }
            f.write_str(")")?;
        }
        if !self.results.is_empty() {
            f.write_str(" (result")?;
            for r in self.results.iter() {
                write!(f, " {r}")?;
            }
            f.write_str(")")?;
        }
        f.write_str(")")
    }
}

/// Size limits of a table or memory.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Limits {
    pub min: u64,
    pub max: Option<u64>,
}

impl Limits {
    /// Import subtyping: `self` (the provided entity) matches `expected` if it is at least as
    /// large and its maximum is at most the expected maximum.
    pub fn matches(&self, expected: &Limits) -> bool {
        self.min >= expected.min
            && match (self.max, expected.max) {
                (_, None) => true,
                (Some(a), Some(b)) => a <= b,
                (None, Some(_)) => false,
            }
    }
}

impl fmt::Display for Limits {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.max {
            Some(max) => write!(f, "{} {}", self.min, max),
            None => write!(f, "{}", self.min),
        }
    }
}

/// A table type.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TableType {
    pub element: RefType,
    pub limits: Limits,
    /// Indexed with `i64` (memory64's 64-bit tables) rather than `i32`.
    pub table64: bool,
}

impl TableType {
    /// A table indexed with `i32`.
    pub fn new(element: RefType, min: u32, max: Option<u32>) -> TableType {
        TableType {
            element,
            limits: Limits {
                min: min.into(),
                max: max.map(u64::from),
            },
            table64: false,
        }
    }

    /// The largest number of elements a table of this index type can have.
    pub fn max_elements(&self) -> u64 {
        if self.table64 {
            u64::MAX
        } else {
            u64::from(u32::MAX)
        }
    }

    /// The same type with every concrete heap type replaced by `f`'s.
    pub fn map_heap_types(&self, f: &impl Fn(HeapType) -> HeapType) -> TableType {
        TableType {
            element: self.element.map_heap_types(f),
            ..*self
        }
    }

    /// Import matching (of types in one index space): the element types are equal, so
    /// are the index types, and the limits match.
    pub fn matches(&self, expected: &TableType) -> bool {
        self.element == expected.element
            && self.table64 == expected.table64
            && self.limits.matches(&expected.limits)
    }

    pub fn from_wasmparser(ty: &wasmparser::TableType) -> anyhow::Result<TableType> {
        if ty.shared {
            anyhow::bail!("unsupported proposal: shared tables need shared-everything threads");
        }
        Ok(TableType {
            element: RefType::from_wasmparser(ty.element_type)?,
            limits: Limits {
                min: ty.initial,
                max: ty.maximum,
            },
            table64: ty.table64,
        })
    }
}

impl fmt::Display for TableType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let index = if self.table64 { "i64 " } else { "" };
        write!(f, "(table {index}{} {})", self.limits, self.element)
    }
}

/// A linear memory type; sizes are in 64 KiB pages.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct MemoryType {
    pub limits: Limits,
    /// Indexed with `i64` (memory64) rather than `i32`.
    pub memory64: bool,
}

/// The size of a wasm page in bytes.
pub const WASM_PAGE_SIZE: u64 = 0x1_0000;
/// The largest number of pages of a 32-bit memory.
pub const MAX_WASM_PAGES: u64 = 0x1_0000;
/// The largest number of pages of a 64-bit memory (2^64 bytes).
pub const MAX_WASM64_PAGES: u64 = 1 << 48;

impl MemoryType {
    /// A 32-bit memory.
    pub fn new(min: u32, max: Option<u32>) -> MemoryType {
        MemoryType {
            limits: Limits {
                min: min.into(),
                max: max.map(u64::from),
            },
            memory64: false,
        }
    }

    /// A 64-bit memory.
    pub fn new64(min: u64, max: Option<u64>) -> MemoryType {
        MemoryType {
            limits: Limits { min, max },
            memory64: true,
        }
    }

    /// The most pages a memory of this index type can have.
    pub fn max_pages(&self) -> u64 {
        if self.memory64 {
            MAX_WASM64_PAGES
        } else {
            MAX_WASM_PAGES
        }
    }

    /// Import matching: the index types are equal and the limits match.
    pub fn matches(&self, expected: &MemoryType) -> bool {
        self.memory64 == expected.memory64 && self.limits.matches(&expected.limits)
    }

    pub fn from_wasmparser(ty: &wasmparser::MemoryType) -> anyhow::Result<MemoryType> {
        if ty.shared {
            anyhow::bail!("unsupported proposal: shared memories need threads");
        }
        if ty.page_size_log2.is_some() {
            anyhow::bail!("unsupported proposal: custom page sizes");
        }
        Ok(MemoryType {
            limits: Limits {
                min: ty.initial,
                max: ty.maximum,
            },
            memory64: ty.memory64,
        })
    }
}

impl fmt::Display for MemoryType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let index = if self.memory64 { "i64 " } else { "" };
        write!(f, "(memory {index}{})", self.limits)
    }
}

/// A global type.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct GlobalType {
    pub content: ValType,
    pub mutable: bool,
}

impl GlobalType {
    /// The same type with every concrete heap type replaced by `f`'s.
    pub fn map_heap_types(&self, f: &impl Fn(HeapType) -> HeapType) -> GlobalType {
        GlobalType {
            content: self.content.map_heap_types(f),
            mutable: self.mutable,
        }
    }

    pub fn from_wasmparser(ty: &wasmparser::GlobalType) -> anyhow::Result<GlobalType> {
        if ty.shared {
            anyhow::bail!("unsupported proposal: shared globals need shared-everything threads");
        }
        Ok(GlobalType {
            content: ValType::from_wasmparser(ty.content_type)?,
            mutable: ty.mutable,
        })
    }
}

impl fmt::Display for GlobalType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.mutable {
            write!(f, "(global (mut {}))", self.content)
        } else {
            write!(f, "(global {})", self.content)
        }
    }
}

/// The type of an import or export.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum EntityType {
    Func(FuncType),
    Table(TableType),
    Memory(MemoryType),
    Global(GlobalType),
    /// An exception tag, by its signature (parameters only).
    Tag(FuncType),
}

impl EntityType {
    /// The same type with every concrete heap type replaced by `f`'s.
    pub fn map_heap_types(&self, f: &impl Fn(HeapType) -> HeapType) -> EntityType {
        match self {
            EntityType::Func(t) => EntityType::Func(t.map_heap_types(f)),
            EntityType::Table(t) => EntityType::Table(t.map_heap_types(f)),
            EntityType::Memory(t) => EntityType::Memory(*t),
            EntityType::Global(t) => EntityType::Global(t.map_heap_types(f)),
            EntityType::Tag(t) => EntityType::Tag(t.map_heap_types(f)),
        }
    }

    /// The kind of entity, as the text format names it.
    pub fn kind(&self) -> &'static str {
        match self {
            EntityType::Func(_) => "func",
            EntityType::Table(_) => "table",
            EntityType::Memory(_) => "memory",
            EntityType::Global(_) => "global",
            EntityType::Tag(_) => "tag",
        }
    }
}

impl fmt::Display for EntityType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EntityType::Func(t) => t.fmt(f),
            EntityType::Table(t) => t.fmt(f),
            EntityType::Memory(t) => t.fmt(f),
            EntityType::Global(t) => t.fmt(f),
            EntityType::Tag(t) => write!(f, "(tag {t})"),
        }
    }
}
