//! Building adapter modules with wasm-encoder: imports (deduplicated by what they refer
//! to), defined functions whose calls to each other are patched once the number of
//! imported functions is known, and exports.

use crate::component::plan::{CoreDef, CoreExport};
use std::collections::HashMap;
use wasm_encoder::{
    CodeSection, EntityType, ExportKind, ExportSection, Function, FunctionSection, GlobalType,
    ImportSection, Instruction, MemoryType, Module, TypeSection, ValType,
};

/// An instruction of a function under construction.
pub(crate) enum Op {
    I(Instruction<'static>),
    /// A call to the defined function with this index (patched on encoding).
    CallDefined(u32),
}

/// A function under construction.
pub(crate) struct FuncBuilder {
    pub params: Vec<ValType>,
    pub results: Vec<ValType>,
    locals: Vec<ValType>,
    body: Vec<Op>,
}

impl FuncBuilder {
    pub fn new(params: Vec<ValType>, results: Vec<ValType>) -> FuncBuilder {
        FuncBuilder {
            params,
            results,
            locals: Vec::new(),
            body: Vec::new(),
        }
    }

    /// A fresh local of type `ty`.
    pub fn local(&mut self, ty: ValType) -> u32 {
        self.locals.push(ty);
        (self.params.len() + self.locals.len() - 1) as u32
    }

    pub fn ins(&mut self, i: Instruction<'static>) {
        self.body.push(Op::I(i));
    }

    pub fn call_defined(&mut self, index: u32) {
        self.body.push(Op::CallDefined(index));
    }

    fn encode(&self, imported_funcs: u32) -> Function {
        let mut f = Function::new_with_locals_types(self.locals.iter().copied());
        for op in &self.body {
            match op {
                Op::I(i) => f.instruction(i),
                Op::CallDefined(k) => f.instruction(&Instruction::Call(imported_funcs + k)),
            };
        }
        f.instruction(&Instruction::End);
        f
    }
}

/// What an import of an adapter module is, for whoever instantiates it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum ImportKind {
    Func,
    Memory,
    /// A mutable `i32` global.
    Global,
}

/// An adapter module under construction.
#[derive(Default)]
pub(crate) struct ModuleBuilder {
    types: Vec<(Vec<ValType>, Vec<ValType>)>,
    type_ids: HashMap<(Vec<ValType>, Vec<ValType>), u32>,
    /// `(module, name, kind, type or index, what)` in import order.
    imports: Vec<(String, String, ImportKind, u32, CoreDef)>,
    func_imports: HashMap<CoreDef, u32>,
    memory_imports: HashMap<CoreExport, u32>,
    global_imports: HashMap<CoreDef, u32>,
    num_func_imports: u32,
    num_memory_imports: u32,
    num_global_imports: u32,
    funcs: Vec<Option<(u32, FuncBuilder)>>,
    exports: Vec<(String, u32)>,
}

impl ModuleBuilder {
    /// The index of the function type `params -> results`, added on first use.
    pub fn type_index(&mut self, params: &[ValType], results: &[ValType]) -> u32 {
        let key = (params.to_vec(), results.to_vec());
        if let Some(i) = self.type_ids.get(&key) {
            return *i;
        }
        let i = self.types.len() as u32;
        self.types.push(key.clone());
        self.type_ids.insert(key, i);
        i
    }

    /// The function index of an imported function, importing it on first use.
    pub fn import_func(
        &mut self,
        what: &CoreDef,
        module: &str,
        name: &str,
        params: &[ValType],
        results: &[ValType],
    ) -> u32 {
        if let Some(i) = self.func_imports.get(what) {
            return *i;
        }
        let ty = self.type_index(params, results);
        let index = self.num_func_imports;
        self.num_func_imports += 1;
        self.imports.push((
            module.into(),
            name.into(),
            ImportKind::Func,
            ty,
            what.clone(),
        ));
        self.func_imports.insert(what.clone(), index);
        index
    }

    /// The memory index of an imported memory.
    pub fn import_memory(&mut self, what: &CoreExport, name: &str) -> u32 {
        if let Some(i) = self.memory_imports.get(what) {
            return *i;
        }
        let index = self.num_memory_imports;
        self.num_memory_imports += 1;
        self.imports.push((
            "memory".into(),
            name.into(),
            ImportKind::Memory,
            index,
            CoreDef::Export(what.clone()),
        ));
        self.memory_imports.insert(what.clone(), index);
        index
    }

    /// The global index of an imported mutable `i32` global.
    pub fn import_global(&mut self, what: &CoreDef, module: &str, name: &str) -> u32 {
        if let Some(i) = self.global_imports.get(what) {
            return *i;
        }
        let index = self.num_global_imports;
        self.num_global_imports += 1;
        self.imports.push((
            module.into(),
            name.into(),
            ImportKind::Global,
            index,
            what.clone(),
        ));
        self.global_imports.insert(what.clone(), index);
        index
    }

    /// Reserves a defined function (so that it can be called before its body exists).
    pub fn reserve_func(&mut self) -> u32 {
        self.funcs.push(None);
        self.funcs.len() as u32 - 1
    }

    pub fn define_func(&mut self, index: u32, f: FuncBuilder) {
        let ty = self.type_index(&f.params.clone(), &f.results.clone());
        self.funcs[index as usize] = Some((ty, f));
    }

    pub fn export_func(&mut self, name: String, defined: u32) {
        self.exports.push((name, defined));
    }

    /// The imports, in order: `(module, name, kind, what)`.
    pub fn imports(&self) -> impl Iterator<Item = (&str, &str, &ImportKind, &CoreDef)> {
        self.imports
            .iter()
            .map(|(m, n, k, _, w)| (m.as_str(), n.as_str(), k, w))
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut module = Module::new();
        let mut types = TypeSection::new();
        for (p, r) in &self.types {
            types.ty().function(p.iter().copied(), r.iter().copied());
        }
        module.section(&types);
        let mut imports = ImportSection::new();
        for (m, n, kind, ty, _) in &self.imports {
            let entity = match kind {
                ImportKind::Func => EntityType::Function(*ty),
                ImportKind::Memory => EntityType::Memory(MemoryType {
                    minimum: 0,
                    maximum: None,
                    memory64: false,
                    shared: false,
                    page_size_log2: None,
                }),
                ImportKind::Global => EntityType::Global(GlobalType {
                    val_type: ValType::I32,
                    mutable: true,
                    shared: false,
                }),
            };
            imports.import(m, n, entity);
        }
        module.section(&imports);
        let mut funcs = FunctionSection::new();
        for f in &self.funcs {
            let (ty, _) = f.as_ref().expect("every reserved function is defined");
            funcs.function(*ty);
        }
        module.section(&funcs);
        let mut exports = ExportSection::new();
        for (name, f) in &self.exports {
            exports.export(name, ExportKind::Func, self.num_func_imports + f);
        }
        module.section(&exports);
        let mut code = CodeSection::new();
        for f in &self.funcs {
            let (_, f) = f.as_ref().unwrap();
            code.function(&f.encode(self.num_func_imports));
        }
        module.section(&code);
        module.finish()
    }
}
