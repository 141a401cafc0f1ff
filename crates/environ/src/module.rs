//! The description of a translated core module: everything the compiler and the runtime
//! need to know about it except its function bodies. It is serialized into artifacts.

use crate::types::{
    EntityType, FuncType, GlobalType, HeapType, MemoryType, RefType, SubType, TableType, ValType,
};
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The index of a function, table, memory or global in its module's index space.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum EntityIndex {
    Func(u32),
    Table(u32),
    Memory(u32),
    Global(u32),
    Tag(u32),
}

/// One import of a module.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Import {
    pub module: String,
    pub name: String,
    /// Where the import lands in the module's index spaces.
    pub index: EntityIndex,
    pub ty: EntityType,
}

/// A function of the module (imported or defined).
#[derive(Copy, Clone, Debug, Serialize, Deserialize)]
pub struct FuncDecl {
    /// Module type index of the function's signature.
    pub ty: u32,
    /// The slot of this function's `VMFuncRef` in the instance's vmctx, if the function
    /// can be reached from outside the module (imports always have one).
    pub func_ref: Option<u32>,
}

impl FuncDecl {
    /// Whether code outside the module can reach this function.
    pub fn escapes(&self) -> bool {
        self.func_ref.is_some()
    }
}

/// One instruction of a constant expression (extended-const included).
#[derive(Copy, Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum ConstOp {
    I32Const(i32),
    I64Const(i64),
    F32Const(u32),
    F64Const(u64),
    V128Const(u128),
    RefNull(RefType),
    RefFunc(u32),
    GlobalGet(u32),
    I32Add,
    I32Sub,
    I32Mul,
    I64Add,
    I64Sub,
    I64Mul,
}

/// A constant expression, as a sequence of stack-machine operations.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ConstExpr(pub Vec<ConstOp>);

impl ConstExpr {
    /// Converts a validated wasmparser constant expression.
    pub fn from_wasmparser(expr: &wasmparser::ConstExpr<'_>) -> anyhow::Result<ConstExpr> {
        use wasmparser::Operator as O;
        let mut ops = Vec::new();
        let mut reader = expr.get_operators_reader();
        while !reader.eof() {
            let op = reader.read()?;
            ops.push(match op {
                O::End => break,
                O::I32Const { value } => ConstOp::I32Const(value),
                O::I64Const { value } => ConstOp::I64Const(value),
                O::F32Const { value } => ConstOp::F32Const(value.bits()),
                O::F64Const { value } => ConstOp::F64Const(value.bits()),
                O::V128Const { value } => ConstOp::V128Const(value.i128() as u128),
                O::RefNull { hty } => {
                    ConstOp::RefNull(RefType::new(true, HeapType::from_wasmparser(hty)?))
                }
                O::RefFunc { function_index } => ConstOp::RefFunc(function_index),
                O::GlobalGet { global_index } => ConstOp::GlobalGet(global_index),
                O::I32Add => ConstOp::I32Add,
                O::I32Sub => ConstOp::I32Sub,
                O::I32Mul => ConstOp::I32Mul,
                O::I64Add => ConstOp::I64Add,
                O::I64Sub => ConstOp::I64Sub,
                O::I64Mul => ConstOp::I64Mul,
                other => anyhow::bail!("unsupported constant expression operator {other:?}"),
            });
        }
        Ok(ConstExpr(ops))
    }

    /// The functions this expression takes a reference to.
    pub fn referenced_funcs(&self) -> impl Iterator<Item = u32> + '_ {
        self.0.iter().filter_map(|op| match op {
            ConstOp::RefFunc(f) => Some(*f),
            _ => None,
        })
    }
}

/// Where an element segment goes.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum ElemMode {
    Active { table: u32, offset: ConstExpr },
    Passive,
    Declared,
}

/// The items of an element segment.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum ElemItems {
    Funcs(Vec<u32>),
    Exprs(Vec<ConstExpr>),
}

impl ElemItems {
    pub fn len(&self) -> usize {
        match self {
            ElemItems::Funcs(f) => f.len(),
            ElemItems::Exprs(e) => e.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// An element segment.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ElemSegment {
    pub mode: ElemMode,
    pub ty: RefType,
    pub items: ElemItems,
}

/// Where a data segment goes.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum DataMode {
    Active { memory: u32, offset: ConstExpr },
    Passive,
}

/// A data segment; its bytes live in the artifact's data section.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DataSegment {
    pub mode: DataMode,
    /// Byte range within this module's data blob.
    pub start: u32,
    pub end: u32,
}

/// Everything about a module except its code.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct ModuleInfo {
    /// The module's name from the name section, if any.
    pub name: Option<String>,
    /// Function types, by module type index. Concrete reference types in them are
    /// [`HeapType::Module`] indices.
    pub types: Vec<FuncType>,
    /// Each type's subtyping declaration, by module type index.
    pub subtypes: Vec<SubType>,
    /// The recursion groups, as `(first type index, number of types)`, in order; they
    /// cover every type. Types are identical across modules when their whole groups are.
    pub rec_groups: Vec<(u32, u32)>,
    pub imports: Vec<Import>,
    /// All functions, imported ones first.
    pub functions: Vec<FuncDecl>,
    pub num_imported_funcs: u32,
    /// All tables, imported ones first.
    pub tables: Vec<TableType>,
    pub num_imported_tables: u32,
    /// The initial element of each defined table with an initializer expression (the
    /// others start out null).
    pub table_inits: Vec<Option<ConstExpr>>,
    /// All memories, imported ones first.
    pub memories: Vec<MemoryType>,
    pub num_imported_memories: u32,
    /// All globals, imported ones first.
    pub globals: Vec<GlobalType>,
    pub num_imported_globals: u32,
    /// Initializers of the defined globals.
    pub global_inits: Vec<ConstExpr>,
    /// All exception tags, imported ones first, as the module type index of each tag's
    /// signature (its parameters are the exception's payload; it has no results).
    pub tags: Vec<u32>,
    pub num_imported_tags: u32,
    pub exports: IndexMap<String, EntityIndex>,
    pub start: Option<u32>,
    pub elems: Vec<ElemSegment>,
    pub data: Vec<DataSegment>,
    /// Function names from the name section.
    pub func_names: BTreeMap<u32, String>,
    /// The number of `VMFuncRef` slots in the vmctx.
    pub num_func_refs: u32,
}

impl ModuleInfo {
    /// The signature of function `func`.
    pub fn func_type(&self, func: u32) -> &FuncType {
        &self.types[self.functions[func as usize].ty as usize]
    }

    /// Whether `func` is imported.
    pub fn is_imported_func(&self, func: u32) -> bool {
        func < self.num_imported_funcs
    }

    /// The number of functions defined (not imported) by the module.
    pub fn num_defined_funcs(&self) -> u32 {
        self.functions.len() as u32 - self.num_imported_funcs
    }

    /// The type of an entity of this module.
    pub fn entity_type(&self, index: EntityIndex) -> EntityType {
        match index {
            EntityIndex::Func(i) => EntityType::Func(self.func_type(i).clone()),
            EntityIndex::Table(i) => EntityType::Table(self.tables[i as usize]),
            EntityIndex::Memory(i) => EntityType::Memory(self.memories[i as usize]),
            EntityIndex::Global(i) => EntityType::Global(self.globals[i as usize]),
            EntityIndex::Tag(i) => EntityType::Tag(self.tag_type(i).clone()),
        }
    }

    /// A printable name for function `func`: its name-section name or `func[N]`.
    pub fn func_display_name(&self, func: u32) -> String {
        match self.func_names.get(&func) {
            Some(name) => name.clone(),
            None => format!("func[{func}]"),
        }
    }

    /// The signature of tag `tag`.
    pub fn tag_type(&self, tag: u32) -> &FuncType {
        &self.types[self.tags[tag as usize] as usize]
    }

    /// The value type of global `g`.
    pub fn global_type(&self, g: u32) -> ValType {
        self.globals[g as usize].content
    }
}

/// The largest number of each kind of entity a module may have: wasmparser's limits, so
/// that every module it validates fits, and every size computed from the counts (the vmctx
/// layout's above all) fits in 32 bits.
pub mod limits {
    pub const TYPES: usize = 1_000_000;
    pub const FUNCTIONS: usize = 1_000_000;
    pub const TABLES: usize = 100;
    pub const MEMORIES: usize = 100;
    pub const GLOBALS: usize = 1_000_000;
    pub const TAGS: usize = 1_000_000;
}

impl ModuleInfo {
    /// Checks that every index, count and range in the description is consistent, so that
    /// nothing using it can index out of bounds: it may come from an artifact, whose
    /// metadata is never trusted. `data_len` is the length of the module's data blob.
    pub fn validate(&self, data_len: usize) -> anyhow::Result<()> {
        use anyhow::{bail, ensure};
        let n_types = self.types.len();
        ensure!(
            n_types <= limits::TYPES
                && self.functions.len() <= limits::FUNCTIONS
                && self.tables.len() <= limits::TABLES
                && self.memories.len() <= limits::MEMORIES
                && self.globals.len() <= limits::GLOBALS
                && self.tags.len() <= limits::TAGS,
            "the module has more entities than wasm allows"
        );
        let bad_heap = std::cell::Cell::new(false);
        let check_heap = |h: HeapType| {
            match h {
                HeapType::Module(i) if (i as usize) < n_types => {}
                HeapType::Module(_) | HeapType::Engine(_) => bad_heap.set(true),
                _ => {}
            }
            h
        };
        for t in &self.types {
            t.map_heap_types(&check_heap);
        }
        ensure!(
            self.subtypes.len() <= n_types,
            "more subtype declarations than types"
        );
        for s in &self.subtypes {
            ensure!(
                s.supertype.is_none_or(|t| (t as usize) < n_types),
                "a supertype is out of range"
            );
        }
        let mut next = 0u64;
        for &(start, len) in &self.rec_groups {
            ensure!(
                u64::from(start) == next,
                "recursion groups do not tile the types"
            );
            next += u64::from(len);
        }
        ensure!(
            next == n_types as u64,
            "recursion groups do not cover the types"
        );

        let counts = [
            (self.num_imported_funcs as usize, self.functions.len()),
            (self.num_imported_tables as usize, self.tables.len()),
            (self.num_imported_memories as usize, self.memories.len()),
            (self.num_imported_globals as usize, self.globals.len()),
            (self.num_imported_tags as usize, self.tags.len()),
        ];
        ensure!(
            counts.iter().all(|(imported, all)| imported <= all),
            "more imports than entities"
        );
        ensure!(
            self.table_inits.len() == self.tables.len() - self.num_imported_tables as usize
                && self.global_inits.len()
                    == self.globals.len() - self.num_imported_globals as usize,
            "initializers do not match the defined tables and globals"
        );

        // Function references: every import has a slot, slots are distinct and in range.
        let mut slots = vec![false; self.num_func_refs as usize];
        ensure!(
            self.num_func_refs as usize <= self.functions.len(),
            "more function reference slots than functions"
        );
        for (i, f) in self.functions.iter().enumerate() {
            ensure!(
                (f.ty as usize) < n_types,
                "a function's type is out of range"
            );
            match f.func_ref {
                Some(slot) => {
                    let used = slots.get_mut(slot as usize).ok_or_else(|| {
                        anyhow::anyhow!("a function reference slot is out of range")
                    })?;
                    ensure!(!*used, "two functions share a function reference slot");
                    *used = true;
                }
                None => ensure!(
                    i >= self.num_imported_funcs as usize,
                    "an imported function has no function reference slot"
                ),
            }
        }
        for t in &self.tables {
            t.map_heap_types(&check_heap);
        }
        for g in &self.globals {
            g.map_heap_types(&check_heap);
        }
        for &t in &self.tags {
            ensure!((t as usize) < n_types, "a tag's type is out of range");
        }
        ensure!(!bad_heap.get(), "a reference type names an unknown type");

        let escaping = |f: u32| {
            self.functions
                .get(f as usize)
                .is_some_and(|d| d.func_ref.is_some())
        };
        let entity = |index: EntityIndex| match index {
            EntityIndex::Func(f) => escaping(f),
            EntityIndex::Table(t) => (t as usize) < self.tables.len(),
            EntityIndex::Memory(m) => (m as usize) < self.memories.len(),
            EntityIndex::Global(g) => (g as usize) < self.globals.len(),
            EntityIndex::Tag(t) => (t as usize) < self.tags.len(),
        };
        // Imports land in order at the start of their index spaces.
        let mut next = [0u32; 5];
        for import in &self.imports {
            let (kind, i) = match (import.index, &import.ty) {
                (EntityIndex::Func(i), EntityType::Func(_)) => (0, i),
                (EntityIndex::Table(i), EntityType::Table(_)) => (1, i),
                (EntityIndex::Memory(i), EntityType::Memory(_)) => (2, i),
                (EntityIndex::Global(i), EntityType::Global(_)) => (3, i),
                (EntityIndex::Tag(i), EntityType::Tag(_)) => (4, i),
                _ => bail!("an import's index and type disagree"),
            };
            ensure!(i == next[kind], "imports are out of order");
            next[kind] += 1;
            import.ty.map_heap_types(&check_heap);
        }
        ensure!(
            next.iter()
                .zip(counts)
                .all(|(n, (imported, _))| *n as usize == imported),
            "the import counts do not match the imports"
        );
        ensure!(!bad_heap.get(), "an import's type names an unknown type");
        for index in self.exports.values() {
            ensure!(entity(*index), "an export is out of range");
        }
        if let Some(start) = self.start {
            ensure!(escaping(start), "the start function is out of range");
        }

        // Constant expressions may read functions with references, and globals: the
        // imported and earlier ones in a global's initializer, any in the others.
        let check_expr = |expr: &ConstExpr, globals: usize| -> anyhow::Result<()> {
            for op in &expr.0 {
                match *op {
                    ConstOp::RefFunc(f) => ensure!(escaping(f), "a constant names a bad function"),
                    ConstOp::GlobalGet(g) => {
                        ensure!((g as usize) < globals, "a constant reads a bad global")
                    }
                    ConstOp::RefNull(r) => {
                        check_heap(r.heap);
                    }
                    _ => {}
                }
            }
            Ok(())
        };
        for (i, init) in self.global_inits.iter().enumerate() {
            check_expr(init, self.num_imported_globals as usize + i)?;
        }
        for init in self.table_inits.iter().flatten() {
            check_expr(init, self.globals.len())?;
        }
        for elem in &self.elems {
            if let ElemMode::Active { table, offset } = &elem.mode {
                ensure!(
                    (*table as usize) < self.tables.len(),
                    "an element segment's table is out of range"
                );
                check_expr(offset, self.globals.len())?;
            }
            check_heap(elem.ty.heap);
            match &elem.items {
                ElemItems::Funcs(funcs) => {
                    ensure!(
                        funcs.iter().all(|f| escaping(*f)),
                        "an element names a bad function"
                    )
                }
                ElemItems::Exprs(exprs) => {
                    for e in exprs {
                        check_expr(e, self.globals.len())?;
                    }
                }
            }
        }
        for seg in &self.data {
            if let DataMode::Active { memory, offset } = &seg.mode {
                ensure!(
                    (*memory as usize) < self.memories.len(),
                    "a data segment's memory is out of range"
                );
                check_expr(offset, self.globals.len())?;
            }
            ensure!(
                seg.start <= seg.end && seg.end as usize <= data_len,
                "a data segment lies outside the module's data"
            );
        }
        ensure!(!bad_heap.get(), "a reference type names an unknown type");
        Ok(())
    }
}
