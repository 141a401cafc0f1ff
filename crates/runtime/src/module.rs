//! A compiled module as the runtime uses it: its code memory, where its functions and
//! trampolines are, and the engine-wide ids of its signatures.

use crate::code_memory::CodeMemory;
use fact_environ::artifact::CompiledModuleInfo;
use fact_environ::vmoffsets::VMOffsets;
use fact_environ::{FuncType, ModuleInfo};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

/// Engine-wide signature ids: structurally equal function types get the same id, so that
/// `call_indirect` can compare signatures across modules with one integer comparison.
#[derive(Default)]
pub struct TypeRegistry {
    inner: RwLock<(HashMap<FuncType, u32>, Vec<FuncType>)>,
}

impl TypeRegistry {
    pub fn register(&self, ty: &FuncType) -> u32 {
        if let Some(id) = self.inner.read().unwrap().0.get(ty) {
            return *id;
        }
        let mut inner = self.inner.write().unwrap();
        if let Some(id) = inner.0.get(ty) {
            return *id;
        }
        let id = inner.1.len() as u32;
        inner.1.push(ty.clone());
        inner.0.insert(ty.clone(), id);
        id
    }

    pub fn lookup(&self, id: u32) -> Option<FuncType> {
        self.inner.read().unwrap().1.get(id as usize).cloned()
    }
}

/// One module of a loaded artifact.
pub struct RuntimeModule {
    code: Arc<CodeMemory>,
    index: usize,
    type_ids: Box<[u32]>,
    offsets: VMOffsets,
    /// Entry trampoline address per module type index (0 where there is none).
    array_trampolines: Box<[usize]>,
    /// Code address per defined function.
    func_ptrs: Box<[usize]>,
}

impl RuntimeModule {
    pub fn new(code: Arc<CodeMemory>, index: usize, types: &TypeRegistry) -> Arc<RuntimeModule> {
        let compiled = &code.info().modules[index];
        let text = code.text_base();
        let type_ids = compiled
            .module
            .types
            .iter()
            .map(|t| types.register(t))
            .collect();
        let mut array_trampolines = vec![0; compiled.module.types.len()].into_boxed_slice();
        for t in &compiled.array_trampolines {
            array_trampolines[t.ty as usize] = text + t.text.start as usize;
        }
        let func_ptrs = compiled
            .funcs
            .iter()
            .map(|f| text + f.text.start as usize)
            .collect();
        Arc::new(RuntimeModule {
            offsets: VMOffsets::new(&compiled.module),
            code,
            index,
            type_ids,
            array_trampolines,
            func_ptrs,
        })
    }

    pub fn compiled(&self) -> &CompiledModuleInfo {
        &self.code.info().modules[self.index]
    }

    pub fn info(&self) -> &ModuleInfo {
        &self.compiled().module
    }

    pub fn code(&self) -> &Arc<CodeMemory> {
        &self.code
    }

    /// The module's index within its artifact.
    pub fn index(&self) -> usize {
        self.index
    }

    pub fn offsets(&self) -> &VMOffsets {
        &self.offsets
    }

    pub fn type_ids(&self) -> &[u32] {
        &self.type_ids
    }

    pub(crate) fn array_trampoline(&self, ty: u32) -> usize {
        self.array_trampolines[ty as usize]
    }

    pub(crate) fn defined_func_ptr(&self, defined: u32) -> usize {
        self.func_ptrs[defined as usize]
    }

    /// The bytes of data segment `i`.
    pub fn data_segment(&self, i: usize) -> &[u8] {
        let compiled = self.compiled();
        let seg = &compiled.module.data[i];
        let base = compiled.data.start as usize;
        &self.code.data()[base + seg.start as usize..base + seg.end as usize]
    }
}
