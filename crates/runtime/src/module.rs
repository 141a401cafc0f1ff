//! A compiled module as the runtime uses it: its code memory, where its functions and
//! trampolines are, and the engine-wide ids of its signatures.

use crate::code_memory::CodeMemory;
use crate::type_registry::TypeRegistry;
use fact_environ::artifact::CompiledModuleInfo;
use fact_environ::vmoffsets::VMOffsets;
use fact_environ::{EntityType, HeapType, ModuleInfo};
use std::sync::Arc;

/// One module of a loaded artifact.
pub struct RuntimeModule {
    code: Arc<CodeMemory>,
    index: usize,
    /// The engine-wide id of each module type.
    type_ids: Box<[u32]>,
    types: Arc<TypeRegistry>,
    offsets: VMOffsets,
    /// Entry trampoline address per module type index (0 where there is none).
    array_trampolines: Box<[usize]>,
    /// Code address per defined function.
    func_ptrs: Box<[usize]>,
}

impl RuntimeModule {
    pub fn new(
        code: Arc<CodeMemory>,
        index: usize,
        types: &Arc<TypeRegistry>,
    ) -> Arc<RuntimeModule> {
        let compiled = &code.info().modules[index];
        let text = code.text_base();
        let type_ids = types.register_module(&compiled.module).into_boxed_slice();
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
            types: types.clone(),
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

    /// The engine's type registry.
    pub fn types(&self) -> &Arc<TypeRegistry> {
        &self.types
    }

    /// A heap type of this module in the engine's index space.
    pub fn engine_heap_type(&self, h: HeapType) -> HeapType {
        match h {
            HeapType::Module(i) => HeapType::Engine(self.type_ids[i as usize]),
            other => other,
        }
    }

    /// An import or export type of this module in the engine's index space.
    pub fn engine_entity_type(&self, ty: &EntityType) -> EntityType {
        ty.map_heap_types(&|h| self.engine_heap_type(h))
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
