//! Component instances: instantiation walks the plan, creating core instances, host
//! lowerings, instance flags, resource types and intrinsics in order.

use super::abi::{CallShape, Options};
use super::func::{Func, FuncData, TypedFunc};
use super::intrinsics;
use super::linker::{Definition, Linker};
use super::{Component, ComponentType, Lift, Lower};
use crate::store::{StoreId, StoreInner};
use crate::{AsContextMut, Extern, GlobalType, ValType};
use anyhow::{anyhow, bail, Context as _, Result};
use fact_environ::component::{
    CoreDef, Export, FlatContext, ImportPath, ImportType, Initializer, Intrinsic, ModuleSource,
    ResourceDef,
};
use fact_runtime::component::handles::HandleTable;
use std::collections::HashMap;

/// What a store keeps for one component instantiation.
pub(crate) struct ComponentState {
    pub component: Component,
    /// Core instances, by the plan's core instance index.
    pub core: Vec<Option<crate::Instance>>,
    /// Flags globals, by component instance index.
    pub flags: Vec<crate::Global>,
    /// Handle tables, by component instance index.
    pub tables: Vec<HandleTable>,
    /// Host lowerings (core functions), by lowering index.
    pub lowered: Vec<Option<crate::Func>>,
    /// Resolved options and call shape of each lowering.
    pub lowering_opts: Vec<Option<(Options, CallShape)>>,
    /// The store's runtime resource type of each of the plan's resources.
    pub resource_ids: Vec<u32>,
    /// Exported functions handed out so far.
    pub funcs: Vec<FuncData>,
    /// Exports already turned into `FuncData`, by path.
    pub func_index: HashMap<Vec<String>, usize>,
    /// Intrinsics created so far.
    pub intrinsics: HashMap<Intrinsic, crate::Func>,
    /// A call from the host is running inside this instance tree.
    pub active: bool,
    /// A trap happened inside: no more calls.
    pub poisoned: bool,
}

/// An instance of a component.
#[derive(Copy, Clone, Debug)]
pub struct Instance {
    store: StoreId,
    state: usize,
}

/// A component and a linker checked against each other, for fast repeated instantiation.
pub struct InstancePre<T> {
    component: Component,
    linker: Linker<T>,
}

impl<T: 'static> InstancePre<T> {
    pub(crate) fn new(linker: &Linker<T>, component: &Component) -> Result<InstancePre<T>> {
        linker.check_imports(component)?;
        Ok(InstancePre {
            component: component.clone(),
            linker: linker.clone(),
        })
    }

    pub fn component(&self) -> &Component {
        &self.component
    }

    pub fn instantiate(&self, mut store: impl AsContextMut<Data = T>) -> Result<Instance> {
        instantiate(store.as_context_mut().0, &self.component, &self.linker)
    }
}

/// Resolves a path of the root import `path` to the linker's definition.
fn lookup<'a, T: 'static>(
    linker: &'a Linker<T>,
    component: &Component,
    path: &ImportPath,
) -> Result<&'a Definition<T>> {
    let (name, _) = component
        .plan()
        .imports
        .get_index(path.import.0 as usize)
        .ok_or_else(|| anyhow!("internal error: bad import index"))?;
    let mut def = linker
        .root_map()
        .get(name)
        .ok_or_else(|| anyhow!("import `{name}` has not been defined"))?;
    for n in &path.names {
        def = match def {
            Definition::Instance(items) => items
                .get(n)
                .ok_or_else(|| anyhow!("import `{name}` lacks `{n}`"))?,
            _ => bail!("import `{name}` is not an instance"),
        };
    }
    Ok(def)
}

pub(crate) fn instantiate<T: 'static>(
    store: &mut StoreInner<T>,
    component: &Component,
    linker: &Linker<T>,
) -> Result<Instance> {
    if !crate::Engine::same(component.engine(), &store.opaque.engine) {
        bail!("cross-engine instantiation is not supported");
    }
    linker.check_imports(component)?;
    let plan = component.plan();
    let meta = component.meta();
    let state = store.opaque.components.len();
    store.opaque.components.push(ComponentState {
        component: component.clone(),
        core: vec![None; plan.num_core_instances as usize],
        flags: Vec::new(),
        tables: Vec::new(),
        lowered: vec![None; plan.lowerings.len()],
        lowering_opts: vec![None; plan.lowerings.len()],
        resource_ids: vec![u32::MAX; plan.resources.len()],
        funcs: Vec::new(),
        func_index: HashMap::new(),
        intrinsics: HashMap::new(),
        active: false,
        poisoned: false,
    });

    // Imported resources are the host's.
    for (i, r) in plan.resources.iter().enumerate() {
        if let ResourceDef::Imported(path) = r {
            let id = match lookup(linker, component, path)? {
                Definition::Resource(ty, dtor) => {
                    let id = store.opaque.host_resource_id(*ty)?;
                    if let Some(d) = dtor {
                        store.host_dtors.insert(id, d.clone());
                    }
                    id
                }
                _ => bail!("import `{}` is not a resource", describe(component, path)),
            };
            store.opaque.components[state].resource_ids[i] = id;
        }
    }
    // A resource the component's types make equal to another must be supplied as that
    // same resource wherever the host defines it.
    for (path, r) in &plan.resource_aliases {
        let Ok(def) = lookup(linker, component, path) else {
            continue;
        };
        let Definition::Resource(ty, _) = def else {
            bail!("import `{}` is not a resource", describe(component, path));
        };
        let id = store.opaque.host_resource_id(*ty)?;
        if id != store.opaque.components[state].resource_ids[r.0 as usize] {
            bail!(
                "mismatched resource types: import `{}` must be the same resource type as \
                 the one it is declared equal to",
                describe(component, path)
            );
        }
    }

    for init in &plan.initializers {
        match init {
            Initializer::BeginComponentInstance(_) => {
                let g = crate::Global::new(
                    &mut *store,
                    GlobalType {
                        content: ValType::I32,
                        mutable: true,
                    },
                    crate::Val::I32(1),
                )?;
                let s = &mut store.opaque.components[state];
                s.flags.push(g);
                s.tables.push(HandleTable::new());
            }
            Initializer::InstantiateModule {
                instance,
                module,
                args,
                ..
            } => {
                let module = match module {
                    ModuleSource::Static(i) => component.module(i.0 as usize).clone(),
                    ModuleSource::Adapter(i) => component
                        .module(meta.num_static_modules as usize + i.0 as usize)
                        .clone(),
                    ModuleSource::Import(path) => match lookup(linker, component, path)? {
                        Definition::Module(m) => m.clone(),
                        _ => bail!(
                            "import `{}` is not a core module",
                            describe(component, path)
                        ),
                    },
                };
                let mut externs = Vec::with_capacity(args.len());
                for a in args {
                    externs.push(resolve(store, state, a)?);
                }
                let i = crate::instance::instantiate(store, &module, &externs)?;
                store.opaque.components[state].core[instance.0 as usize] = Some(i);
            }
            Initializer::Lower(l) => {
                let lowering = &plan.lowerings[l.0 as usize];
                let def = match lookup(linker, component, &lowering.import)? {
                    Definition::Func(f) => f.clone(),
                    _ => bail!(
                        "import `{}` is not a function",
                        describe(component, &lowering.import)
                    ),
                };
                let opts = options(store, state, &lowering.options)?;
                let shape = CallShape::new(&plan.types, lowering.ty, FlatContext::Lower);
                store.opaque.components[state].lowering_opts[l.0 as usize] = Some((opts, shape));
                let f = super::linker::lower_host_func(store, state, l.0 as usize, def)?;
                store.opaque.components[state].lowered[l.0 as usize] = Some(f);
            }
            Initializer::Adapter(_) => bail!("internal error: an adapter survived compilation"),
            Initializer::DefineResource(r) => {
                let ResourceDef::Defined { instance, dtor } = &plan.resources[r.0 as usize] else {
                    bail!("internal error: defining an imported resource");
                };
                let dtor = match dtor {
                    Some(d) => match resolve(store, state, d)? {
                        Extern::Func(f) => Some(f),
                        _ => bail!("internal error: a destructor that is not a function"),
                    },
                    None => None,
                };
                let id = store.opaque.new_guest_resource(state, *instance, dtor);
                store.opaque.components[state].resource_ids[r.0 as usize] = id;
            }
        }
    }
    Ok(Instance {
        store: store.opaque.id,
        state,
    })
}

fn describe(component: &Component, path: &ImportPath) -> String {
    let plan = component.plan();
    let name = plan
        .imports
        .get_index(path.import.0 as usize)
        .map_or("?", |(n, _)| n.as_str());
    std::iter::once(name.to_string())
        .chain(path.names.iter().cloned())
        .collect::<Vec<_>>()
        .join(".")
}

/// The store object a `CoreDef` stands for.
pub(crate) fn resolve<T: 'static>(
    store: &mut StoreInner<T>,
    state: usize,
    def: &CoreDef,
) -> Result<Extern> {
    Ok(match def {
        CoreDef::Export(e) => {
            let instance =
                store.opaque.components[state].core[e.instance.0 as usize].ok_or_else(|| {
                    anyhow!(
                        "internal error: core instance {} used before it exists",
                        e.instance.0
                    )
                })?;
            instance.get_export(&mut *store, &e.name).ok_or_else(|| {
                anyhow!(
                    "internal error: core instance {} lacks `{}`",
                    e.instance.0,
                    e.name
                )
            })?
        }
        CoreDef::Lowering(l) => Extern::Func(
            store.opaque.components[state].lowered[l.0 as usize]
                .ok_or_else(|| anyhow!("internal error: lowering used before it is defined"))?,
        ),
        CoreDef::InstanceFlags(c) => {
            Extern::Global(store.opaque.components[state].flags[c.0 as usize])
        }
        CoreDef::Intrinsic(i) => Extern::Func(intrinsics::intrinsic(store, state, i)?),
        CoreDef::ResourceNew(..) | CoreDef::ResourceRep(..) | CoreDef::ResourceDrop(..) => {
            Extern::Func(intrinsics::resource_builtin(store, state, def)?)
        }
        CoreDef::Adapter(_) => bail!("internal error: an adapter reference survived compilation"),
    })
}

/// Resolves canonical options to store objects.
pub(crate) fn options<T: 'static>(
    store: &mut StoreInner<T>,
    state: usize,
    o: &fact_environ::component::CanonOptions,
) -> Result<Options> {
    let func = |store: &mut StoreInner<T>, d: &Option<CoreDef>| -> Result<Option<crate::Func>> {
        Ok(match d {
            Some(d) => Some(
                resolve(store, state, d)?
                    .into_func()
                    .context("internal error: not a function")?,
            ),
            None => None,
        })
    };
    let memory = match &o.memory {
        Some(m) => Some(
            resolve(store, state, &CoreDef::Export(m.clone()))?
                .into_memory()
                .context("internal error: not a memory")?,
        ),
        None => None,
    };
    Ok(Options {
        instance: o.instance,
        memory,
        realloc: func(store, &o.realloc)?,
        post_return: func(store, &o.post_return)?,
        encoding: o.string_encoding,
    })
}

impl Instance {
    fn find_export<'a>(
        &self,
        store: &'a crate::store::StoreOpaque,
        path: &[&str],
    ) -> Option<&'a Export> {
        let plan = store.components[self.state].component.plan();
        let mut e = plan.exports.get(*path.first()?)?;
        for n in &path[1..] {
            e = match e {
                Export::Instance(items) => items.get(*n)?,
                _ => return None,
            };
        }
        Some(e)
    }

    /// The exported function `name` of the root.
    pub fn get_func<S: AsContextMut>(&self, store: S, name: &str) -> Option<Func>
    where
        S::Data: 'static,
    {
        self.get_export_func(store, &[name])
    }

    /// The function at `path` among the exports (e.g. `["wasi:cli/run", "run"]`).
    pub fn get_export_func<S: AsContextMut>(&self, mut store: S, path: &[&str]) -> Option<Func>
    where
        S::Data: 'static,
    {
        let store = store.as_context_mut().0;
        if store.opaque.check(self.store).is_err() {
            return None;
        }
        let key: Vec<String> = path.iter().map(|s| s.to_string()).collect();
        if let Some(&index) = store.opaque.components[self.state].func_index.get(&key) {
            return Some(Func {
                store: self.store,
                state: self.state,
                index,
            });
        }
        let (ty, func, opts) = match self.find_export(&store.opaque, path)? {
            Export::LiftedFunc { ty, func, options } => (*ty, func.clone(), options.clone()),
            _ => return None,
        };
        let core = resolve(store, self.state, &func).ok()?.into_func()?;
        let options = options(store, self.state, &opts).ok()?;
        let s = &mut store.opaque.components[self.state];
        let shape = CallShape::new(&s.component.plan().types, ty, FlatContext::Lift);
        s.funcs.push(FuncData {
            ty,
            shape,
            core,
            options,
        });
        let index = s.funcs.len() - 1;
        s.func_index.insert(key, index);
        Some(Func {
            store: self.store,
            state: self.state,
            index,
        })
    }

    /// The exported function `name` with a static type.
    pub fn get_typed_func<Params, Results>(
        &self,
        mut store: impl AsContextMut<Data: 'static>,
        name: &str,
    ) -> Result<TypedFunc<Params, Results>>
    where
        Params: Lower + ComponentType,
        Results: Lift + ComponentType,
    {
        let f = self
            .get_func(&mut store, name)
            .with_context(|| format!("the component exports no function `{name}`"))?;
        f.typed(&store)
            .with_context(|| format!("the function `{name}` does not have the requested type"))
    }

    /// The names of the root exports.
    pub fn export_names(&self, store: impl crate::AsContext) -> Vec<String> {
        let store = store.as_context();
        store.0.opaque.components[self.state]
            .component
            .plan()
            .exports
            .keys()
            .cloned()
            .collect()
    }

    /// The exported core module `name`.
    pub fn get_module(&self, mut store: impl AsContextMut, name: &str) -> Option<crate::Module> {
        let store = store.as_context_mut().0;
        let component = store.opaque.components[self.state].component.clone();
        match component.plan().exports.get(name)? {
            Export::Module(ModuleSource::Static(i)) => Some(component.module(i.0 as usize).clone()),
            _ => None,
        }
    }
}

/// Describes a root import's type for errors.
pub(crate) fn import_type_text(component: &Component, t: &ImportType) -> String {
    let plan = component.plan();
    match t {
        ImportType::Func(f) => plan.types.display_func(*f),
        ImportType::Instance(_) => "an instance".into(),
        ImportType::Module { .. } => "a core module".into(),
        ImportType::Resource(_) => "a resource type".into(),
        ImportType::Type => "a type".into(),
    }
}
