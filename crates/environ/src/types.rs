//! Core WebAssembly types as fact stores them: serializable, engine-independent, and limited
//! to the proposals fact supports (no GC or typed function references).

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
    FuncRef,
    ExternRef,
}

impl ValType {
    /// Converts a validated wasmparser value type. Types outside fact's feature set never
    /// pass validation, so anything else is reported as unsupported.
    pub fn from_wasmparser(ty: wasmparser::ValType) -> anyhow::Result<ValType> {
        Ok(match ty {
            wasmparser::ValType::I32 => ValType::I32,
            wasmparser::ValType::I64 => ValType::I64,
            wasmparser::ValType::F32 => ValType::F32,
            wasmparser::ValType::F64 => ValType::F64,
            wasmparser::ValType::V128 => ValType::V128,
            wasmparser::ValType::Ref(r) => RefType::from_wasmparser(r)?.into(),
        })
    }

    /// Whether this is a reference type.
    pub fn is_ref(self) -> bool {
        matches!(self, ValType::FuncRef | ValType::ExternRef)
    }
}

impl fmt::Display for ValType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ValType::I32 => "i32",
            ValType::I64 => "i64",
            ValType::F32 => "f32",
            ValType::F64 => "f64",
            ValType::V128 => "v128",
            ValType::FuncRef => "funcref",
            ValType::ExternRef => "externref",
        })
    }
}

/// A reference type (always nullable in the supported feature set).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum RefType {
    FuncRef,
    ExternRef,
}

impl RefType {
    /// Converts a validated wasmparser reference type.
    pub fn from_wasmparser(ty: wasmparser::RefType) -> anyhow::Result<RefType> {
        if ty == wasmparser::RefType::FUNCREF {
            Ok(RefType::FuncRef)
        } else if ty == wasmparser::RefType::EXTERNREF {
            Ok(RefType::ExternRef)
        } else {
            anyhow::bail!(
                "unsupported proposal: reference type {ty:?} needs typed function references or GC"
            )
        }
    }
}

impl From<RefType> for ValType {
    fn from(r: RefType) -> ValType {
        match r {
            RefType::FuncRef => ValType::FuncRef,
            RefType::ExternRef => ValType::ExternRef,
        }
    }
}

impl fmt::Display for RefType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        ValType::from(*self).fmt(f)
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

    /// Import matching: the element types are equal, so are the index types, and the
    /// limits match.
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
}

impl EntityType {
    /// The kind of entity, as the text format names it.
    pub fn kind(&self) -> &'static str {
        match self {
            EntityType::Func(_) => "func",
            EntityType::Table(_) => "table",
            EntityType::Memory(_) => "memory",
            EntityType::Global(_) => "global",
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
        }
    }
}
