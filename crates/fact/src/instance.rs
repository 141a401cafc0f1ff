//! Core instances.

use crate::store::{StoreId, StoreInner, StoreOpaque};
use crate::{
    AsContextMut, Extern, Func, Global, Memory, Module, Table, Tag, TypedFunc, WasmParams,
};
use anyhow::{bail, Context, Result};
use fact_environ::{EntityIndex, EntityType, Import, Trap};
use fact_runtime::{Imports, RuntimeModule, ValRaw};

/// An instance of a module in a store.
#[derive(Copy, Clone, Debug)]
pub struct Instance {
    store: StoreId,
    id: usize,
}

impl Instance {
    /// Instantiates `module` with `imports`, given in the order of the module's imports.
    pub fn new(
        mut store: impl AsContextMut,
        module: &Module,
        imports: &[Extern],
    ) -> Result<Instance> {
        let store = store.as_context_mut().0;
        instantiate(store, module, imports)
    }

    /// The export named `name`.
    pub fn get_export(&self, mut store: impl AsContextMut, name: &str) -> Option<Extern> {
        let store = &mut store.as_context_mut().0.opaque;
        if store.check(self.store).is_err() {
            return None;
        }
        let export = store.runtime.instance(self.id).get_export(name)?;
        Some(Extern::from_runtime(store, export))
    }

    /// All exports, in order.
    pub fn exports(&self, mut store: impl AsContextMut) -> Vec<(String, Extern)> {
        let store = &mut store.as_context_mut().0.opaque;
        let module = store.runtime.instance(self.id).module().clone();
        module
            .info()
            .exports
            .iter()
            .map(|(name, index)| {
                let export = store.runtime.instance(self.id).export(*index);
                (name.clone(), Extern::from_runtime(store, export))
            })
            .collect()
    }

    pub fn get_func(&self, store: impl AsContextMut, name: &str) -> Option<Func> {
        self.get_export(store, name)?.into_func()
    }

    /// The exported function `name` with a static type.
    pub fn get_typed_func<Params: WasmParams, Results: WasmParams>(
        &self,
        mut store: impl AsContextMut,
        name: &str,
    ) -> Result<TypedFunc<Params, Results>> {
        let func = self
            .get_func(&mut store, name)
            .with_context(|| format!("failed to find function export `{name}`"))?;
        func.typed(&store)
            .with_context(|| format!("failed to convert function `{name}` to the given type"))
    }

    pub fn get_memory(&self, store: impl AsContextMut, name: &str) -> Option<Memory> {
        self.get_export(store, name)?.into_memory()
    }

    pub fn get_table(&self, store: impl AsContextMut, name: &str) -> Option<Table> {
        self.get_export(store, name)?.into_table()
    }

    pub fn get_global(&self, store: impl AsContextMut, name: &str) -> Option<Global> {
        self.get_export(store, name)?.into_global()
    }

    pub fn get_tag(&self, store: impl AsContextMut, name: &str) -> Option<Tag> {
        self.get_export(store, name)?.into_tag()
    }
}

/// Checks that `provided` can satisfy `import` of `module`: functions by declared
/// subtyping of their engine-wide type ids, tables by equal element and index types and
/// matching limits, memories by index type and limits, globals by mutability and (for
/// immutable ones) value subtyping.
pub(crate) fn check_import(
    store: &StoreOpaque,
    module: &RuntimeModule,
    import: &Import,
    provided: &Extern,
) -> Result<()> {
    let types = store.engine.types();
    let engine = |h| module.engine_heap_type(h);
    let ok = match (&import.ty, provided) {
        (EntityType::Func(_), Extern::Func(f)) => {
            let EntityIndex::Func(index) = import.index else {
                bail!("a function import must land in the function index space");
            };
            let expected_id =
                module.type_ids()[module.info().functions[index as usize].ty as usize];
            // SAFETY: the funcref is live in this store.
            let found_id = unsafe { (*f.func_ref(store)?).type_id };
            types.is_subtype(found_id, expected_id)
        }
        (EntityType::Table(a), Extern::Table(t)) => store.runtime.tables[t.id_in(store)?]
            .ty()
            .matches(&a.map_heap_types(&engine)),
        (EntityType::Memory(a), Extern::Memory(m)) => {
            store.runtime.memories[m.id_in(store)?].ty().matches(a)
        }
        (EntityType::Global(a), Extern::Global(g)) => {
            let a = a.map_heap_types(&engine);
            let b = store.runtime.globals[g.id_in(store)?].ty;
            a.mutable == b.mutable
                && if a.mutable {
                    a.content == b.content
                } else {
                    types.is_val_subtype(b.content, a.content)
                }
        }
        (EntityType::Tag(_), Extern::Tag(t)) => {
            let EntityIndex::Tag(index) = import.index else {
                bail!("a tag import must land in the tag index space");
            };
            // Tag types match only when they are the same type.
            let expected_id = module.type_ids()[module.info().tags[index as usize] as usize];
            store.runtime.tags[t.id_in(store)?].type_id == expected_id
        }
        _ => false,
    };
    if !ok {
        // Both types, in the engine's index space, only for the message.
        let expected = module.engine_entity_type(&import.ty);
        let found = match provided {
            Extern::Func(f) => EntityType::Func(f.data(store)?.ty.clone()),
            Extern::Table(t) => EntityType::Table(store.runtime.tables[t.id_in(store)?].ty()),
            Extern::Memory(m) => EntityType::Memory(store.runtime.memories[m.id_in(store)?].ty()),
            Extern::Global(g) => EntityType::Global(store.runtime.globals[g.id_in(store)?].ty),
            Extern::Tag(t) => EntityType::Tag(t.ty_in(store)),
        };
        bail!("incompatible import type: expected {expected}, found {found}");
    }
    Ok(())
}

pub(crate) fn instantiate<T>(
    store: &mut StoreInner<T>,
    module: &Module,
    imports: &[Extern],
) -> Result<Instance> {
    if !crate::Engine::same(module.engine(), &store.opaque.engine) {
        bail!("cross-engine instantiation is not supported");
    }
    let info = module.info();
    if imports.len() != info.imports.len() {
        bail!(
            "expected {} imports, found {}",
            info.imports.len(),
            imports.len()
        );
    }
    let opaque = &mut store.opaque;
    let mut resolved = Imports::default();
    for (import, provided) in info.imports.iter().zip(imports) {
        check_import(opaque, module.runtime(), import, provided).with_context(|| {
            format!(
                "incompatible import type for `{}::{}`",
                import.module, import.name
            )
        })?;
        match provided {
            Extern::Func(f) => {
                // SAFETY: the funcref is live in this store.
                resolved.funcs.push(unsafe { *f.func_ref(opaque)? })
            }
            Extern::Table(t) => resolved.tables.push(t.id_in(opaque)?),
            Extern::Memory(m) => resolved.memories.push(m.id_in(opaque)?),
            Extern::Global(g) => resolved.globals.push(g.id_in(opaque)?),
            Extern::Tag(t) => resolved.tags.push(t.id_in(opaque)?),
        }
    }
    let id = opaque.runtime.instantiate(module.runtime(), &resolved)?;
    let instance = Instance {
        store: opaque.id,
        id,
    };
    if let Some(start) = info.start {
        // The start function may be an imported host function: call it as a `Func`.
        let func_ref = opaque.runtime.instance(id).func_ref(start);
        let func = opaque.func_for_ref(func_ref);
        crate::func::call_raw(store, func, &mut [ValRaw::default(); 1])?;
    }
    Ok(instance)
}

/// Whether an instantiation error is a trap (the module was valid and linked, but its
/// initialization failed).
pub fn is_trap(err: &anyhow::Error) -> bool {
    err.downcast_ref::<Trap>().is_some()
}
