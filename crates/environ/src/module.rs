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
