//! The component linker: host functions, instances, core modules and resource types by
//! name, checked against a component's imports and bound when it is instantiated.

use super::abi::{self, CallShape, Context, Lift, Lower};
use super::func::{lift_from, lift_vals, lower_into, lower_vals, set_may_leave, Place, Source};
use super::instance::{import_type_text, instantiate, Instance, InstancePre};
use super::resources::ResourceType;
use super::{Component, ComponentType, Val};
use crate::store::{StoreInner, StoreOpaque};
use crate::{AsContextMut, Engine, StoreContextMut};
use anyhow::{anyhow, bail, Context as _, Result};
use fact_environ::component::{ComponentTypes, FlatContext, FuncTypeId, ImportType};
use fact_environ::{FuncType as CoreFuncType, Trap};
use fact_runtime::ValRaw;
use indexmap::IndexMap;
use std::sync::Arc;

/// Handles one call of a host function: lifts the arguments, runs, lowers the results.
type HostCallFn<T> = dyn Fn(StoreContextMut<'_, T>, &mut HostCall<'_>) -> Result<()> + Send + Sync;

/// Checks a host function against the type of the import it is given for.
type TypecheckFn = dyn Fn(&ComponentTypes, FuncTypeId) -> Result<()> + Send + Sync;

/// A host function's implementation and its type check.
pub(crate) struct HostFunc<T> {
    call: Box<HostCallFn<T>>,
    typecheck: Box<TypecheckFn>,
}

/// A host resource's destructor.
pub(crate) type Destructor<T> =
    Arc<dyn Fn(StoreContextMut<'_, T>, u32) -> Result<()> + Send + Sync>;

/// What a name in the linker stands for.
pub(crate) enum Definition<T> {
    Func(Arc<HostFunc<T>>),
    Instance(IndexMap<String, Definition<T>>),
    Module(crate::Module),
    Resource(ResourceType, Option<Destructor<T>>),
}

impl<T> Clone for Definition<T> {
    fn clone(&self) -> Self {
        match self {
            Definition::Func(f) => Definition::Func(f.clone()),
            Definition::Instance(m) => Definition::Instance(m.clone()),
            Definition::Module(m) => Definition::Module(m.clone()),
            Definition::Resource(t, d) => Definition::Resource(*t, d.clone()),
        }
    }
}

/// Provides a component's imports.
pub struct Linker<T> {
    engine: Engine,
    root: IndexMap<String, Definition<T>>,
    allow_shadowing: bool,
}

impl<T> Clone for Linker<T> {
    fn clone(&self) -> Self {
        Linker {
            engine: self.engine.clone(),
            root: self.root.clone(),
            allow_shadowing: self.allow_shadowing,
        }
    }
}

/// The definitions of the root or of one (nested) instance of a [`Linker`].
pub struct LinkerInstance<'a, T> {
    map: &'a mut IndexMap<String, Definition<T>>,
    allow_shadowing: bool,
}

impl<T: 'static> Linker<T> {
    pub fn new(engine: &Engine) -> Linker<T> {
        Linker {
            engine: engine.clone(),
            root: IndexMap::new(),
            allow_shadowing: false,
        }
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Whether a later definition of a name replaces an earlier one (off by default).
    pub fn allow_shadowing(&mut self, allow: bool) -> &mut Self {
        self.allow_shadowing = allow;
        self
    }

    /// The root's definitions.
    pub fn root(&mut self) -> LinkerInstance<'_, T> {
        LinkerInstance {
            map: &mut self.root,
            allow_shadowing: self.allow_shadowing,
        }
    }

    /// The definitions of the root instance `name`, created if needed.
    pub fn instance(&mut self, name: &str) -> Result<LinkerInstance<'_, T>> {
        let allow = self.allow_shadowing;
        let map = nested(&mut self.root, name)?;
        Ok(LinkerInstance {
            map,
            allow_shadowing: allow,
        })
    }

    pub(crate) fn root_map(&self) -> &IndexMap<String, Definition<T>> {
        &self.root
    }

    /// Instantiates `component`, providing its imports from this linker.
    pub fn instantiate(
        &self,
        mut store: impl AsContextMut<Data = T>,
        component: &Component,
    ) -> Result<Instance> {
        instantiate(store.as_context_mut().0, component, self)
    }

    /// Checks `component`'s imports once, for repeated instantiation.
    pub fn instantiate_pre(&self, component: &Component) -> Result<InstancePre<T>> {
        InstancePre::new(self, component)
    }

    /// Checks that every import of `component` is defined with a matching type.
    pub(crate) fn check_imports(&self, component: &Component) -> Result<()> {
        for (name, ty) in &component.plan().imports {
            check(component, name, ty, self.root.get(name))?;
        }
        Ok(())
    }
}

fn check<T>(
    component: &Component,
    name: &str,
    ty: &ImportType,
    def: Option<&Definition<T>>,
) -> Result<()> {
    let expected = || import_type_text(component, ty);
    let Some(def) = def else {
        if matches!(ty, ImportType::Type) {
            return Ok(());
        }
        bail!(
            "import `{name}` has not been defined (expected {})",
            expected()
        );
    };
    let found = match def {
        Definition::Func(_) => "a host function",
        Definition::Instance(_) => "an instance",
        Definition::Module(_) => "a core module",
        Definition::Resource(..) => "a resource type",
    };
    match (ty, def) {
        (ImportType::Func(f), Definition::Func(h)) => (h.typecheck)(&component.plan().types, *f)
            .with_context(|| {
                format!(
                    "import `{name}` has the wrong type: expected {}",
                    expected()
                )
            }),
        (ImportType::Instance(items), Definition::Instance(map)) => {
            for (n, t) in items {
                check(component, &format!("{name}.{n}"), t, map.get(n))?;
            }
            Ok(())
        }
        (ImportType::Module { imports, exports }, Definition::Module(m)) => {
            for import in m.imports() {
                if !imports
                    .iter()
                    .any(|(a, b, t)| a == import.module && b == import.name && *t == import.ty)
                {
                    bail!(
                        "import `{name}`: the provided module imports `{}::{}` ({}), which the component does not provide",
                        import.module, import.name, import.ty
                    );
                }
            }
            for (n, t) in exports {
                if !m.exports().any(|e| e.name == n && e.ty == *t) {
                    bail!(
                        "import `{name}`: the provided module lacks the export `{n}` of type {t}"
                    );
                }
            }
            Ok(())
        }
        (ImportType::Resource(_), Definition::Resource(..)) => Ok(()),
        (ImportType::Type, _) => Ok(()),
        _ => bail!(
            "import `{name}` has the wrong kind: expected {}, found {found}",
            expected()
        ),
    }
}

fn nested<'a, T>(
    map: &'a mut IndexMap<String, Definition<T>>,
    name: &str,
) -> Result<&'a mut IndexMap<String, Definition<T>>> {
    let entry = map
        .entry(name.to_string())
        .or_insert_with(|| Definition::Instance(IndexMap::new()));
    match entry {
        Definition::Instance(m) => Ok(m),
        _ => bail!("`{name}` is already defined as something other than an instance"),
    }
}

impl<T: 'static> LinkerInstance<'_, T> {
    fn insert(&mut self, name: &str, def: Definition<T>) -> Result<()> {
        if !self.allow_shadowing && self.map.contains_key(name) {
            bail!("`{name}` is already defined");
        }
        self.map.insert(name.to_string(), def);
        Ok(())
    }

    /// A nested instance `name`, created if needed.
    pub fn instance(&mut self, name: &str) -> Result<LinkerInstance<'_, T>> {
        let allow = self.allow_shadowing;
        Ok(LinkerInstance {
            map: nested(self.map, name)?,
            allow_shadowing: allow,
        })
    }

    /// Defines `name` as a host function with Rust-typed parameters (a tuple) and results
    /// (`()` or a one-element tuple).
    pub fn func_wrap<Params, Results, F>(&mut self, name: &str, f: F) -> Result<()>
    where
        Params: Lift + ComponentType + 'static,
        Results: Lower + ComponentType + 'static,
        F: Fn(StoreContextMut<'_, T>, Params) -> Result<Results> + Send + Sync + 'static,
    {
        let func = HostFunc {
            call: Box::new(move |store, call| {
                let params = call.lift_params::<Params>(&mut store.0.opaque)?;
                let results = f(StoreContextMut(&mut *store.0), params)?;
                call.lower_results(&mut store.0.opaque, &results)
            }),
            typecheck: Box::new(|types, ty| {
                let ft = types.func(ty);
                Params::typecheck(types, ft.params_tuple).context("the parameters do not match")?;
                Results::typecheck(types, ft.results_tuple).context("the results do not match")
            }),
        };
        self.insert(name, Definition::Func(Arc::new(func)))
    }

    /// Defines `name` as a host function taking and returning dynamic values; `results`
    /// has the length of the import's results.
    pub fn func_new<F>(&mut self, name: &str, f: F) -> Result<()>
    where
        F: Fn(StoreContextMut<'_, T>, &[Val], &mut [Val]) -> Result<()> + Send + Sync + 'static,
    {
        let func = HostFunc {
            call: Box::new(move |store, call| {
                let (params, mut results) = call.lift_vals(&mut store.0.opaque)?;
                f(StoreContextMut(&mut *store.0), &params, &mut results)?;
                call.lower_vals(&mut store.0.opaque, &results)
            }),
            typecheck: Box::new(|_, _| Ok(())),
        };
        self.insert(name, Definition::Func(Arc::new(func)))
    }

    /// Defines `name` as a core module (for a component's core module imports).
    pub fn module(&mut self, name: &str, module: &crate::Module) -> Result<()> {
        self.insert(name, Definition::Module(module.clone()))
    }

    /// Defines `name` as the host resource type `ty`, with a destructor that receives the
    /// representation of each dropped resource.
    pub fn resource(
        &mut self,
        name: &str,
        ty: ResourceType,
        dtor: impl Fn(StoreContextMut<'_, T>, u32) -> Result<()> + Send + Sync + 'static,
    ) -> Result<()> {
        self.insert(name, Definition::Resource(ty, Some(Arc::new(dtor))))
    }
}

/// A call from a guest into a host function, being handled.
pub(crate) struct HostCall<'a> {
    state: usize,
    lowering: usize,
    raw: &'a mut [ValRaw],
}

impl HostCall<'_> {
    /// The component (for its types), the caller's options and the call's shape.
    fn parts(&self, store: &StoreOpaque) -> Result<(super::Component, abi::Options, CallShape)> {
        let s = &store.components[self.state];
        let (opts, shape) = s.lowering_opts[self.lowering]
            .ok_or_else(|| anyhow!("internal error: a lowering called before it was bound"))?;
        Ok((s.component.clone(), opts, shape))
    }

    fn with_params<R>(
        &mut self,
        store: &mut StoreOpaque,
        lift: impl FnOnce(
            &mut Context<'_>,
            fact_environ::component::TypeId,
            Source<'_, '_>,
        ) -> Result<R>,
    ) -> Result<R> {
        let (component, opts, shape) = self.parts(store)?;
        let mut cx = Context {
            store,
            opts: &opts,
            types: &component.plan().types,
            state: self.state,
        };
        match shape.params_in_memory {
            Some((align, size)) => {
                let ptr = self.raw[0].get_i32() as u32;
                abi::check_tuple(&mut cx, ptr, align, size)?;
                lift(&mut cx, shape.params, Source::Memory(ptr))
            }
            None => lift(
                &mut cx,
                shape.params,
                Source::Flat(&mut self.raw[..shape.flat_params].iter()),
            ),
        }
    }

    fn with_results(
        &mut self,
        store: &mut StoreOpaque,
        lower: impl FnOnce(&mut Context<'_>, fact_environ::component::TypeId, Place<'_>) -> Result<()>,
    ) -> Result<()> {
        let (component, opts, shape) = self.parts(store)?;
        // The caller's may_leave is clear while its realloc may run.
        set_may_leave(store, self.state, opts.instance.0, false);
        let result = {
            let mut cx = Context {
                store: &mut *store,
                opts: &opts,
                types: &component.plan().types,
                state: self.state,
            };
            match shape.results_in_memory {
                Some((align, size)) => {
                    // The return pointer is the last core parameter.
                    let ptr = self.raw[shape.flat_params - 1].get_i32() as u32;
                    abi::check_tuple(&mut cx, ptr, align, size)
                        .and_then(|()| lower(&mut cx, shape.results, Place::Memory(ptr)))
                }
                None => {
                    let mut out = Vec::with_capacity(shape.flat_results);
                    lower(&mut cx, shape.results, Place::Flat(&mut out)).map(|()| {
                        for (slot, v) in self.raw.iter_mut().zip(out) {
                            *slot = v;
                        }
                    })
                }
            }
        };
        set_may_leave(store, self.state, opts.instance.0, true);
        result
    }

    pub(crate) fn lift_params<P: Lift>(&mut self, store: &mut StoreOpaque) -> Result<P> {
        self.with_params(store, |cx, ty, src| lift_from(cx, ty, src))
    }

    pub(crate) fn lower_results<R: Lower>(&mut self, store: &mut StoreOpaque, r: &R) -> Result<()> {
        self.with_results(store, |cx, ty, place| lower_into(r, cx, ty, place))
    }

    /// Lifts the parameters as dynamic values, with room for the results.
    pub(crate) fn lift_vals(&mut self, store: &mut StoreOpaque) -> Result<(Vec<Val>, Vec<Val>)> {
        let (component, _, shape) = self.parts(store)?;
        let types = &component.plan().types;
        let count = |tuple| abi::record::fields(types, tuple).map(|f| f.len());
        let mut params = vec![Val::Bool(false); count(shape.params)?];
        let results = vec![Val::Bool(false); count(shape.results)?];
        self.with_params(store, |cx, ty, src| lift_vals(cx, ty, src, &mut params))?;
        Ok((params, results))
    }

    pub(crate) fn lower_vals(&mut self, store: &mut StoreOpaque, results: &[Val]) -> Result<()> {
        self.with_results(store, |cx, ty, place| lower_vals(cx, ty, results, place))
    }
}

/// Creates the core function through which core wasm calls host import `lowering`.
pub(crate) fn lower_host_func<T: 'static>(
    store: &mut StoreInner<T>,
    state: usize,
    lowering: usize,
    host: Arc<HostFunc<T>>,
) -> Result<crate::Func> {
    let component = store.opaque.components[state].component.clone();
    let plan = component.plan();
    let ty = plan.lowerings[lowering].ty;
    let sig = plan.types.flat_signature(ty, FlatContext::Lower);
    let core_ty = CoreFuncType::new(
        sig.params.iter().map(|t| super::compile::flat_core(*t)),
        sig.results.iter().map(|t| super::compile::flat_core(*t)),
    );
    let trampoline = component.lowering_trampoline(lowering);
    let call = move |caller: crate::Caller<'_, T>, raw: &mut [ValRaw]| -> Result<()> {
        let store = caller.store;
        let s = &store.opaque.components[state];
        let instance = s.lowering_opts[lowering].map_or(0, |(o, _)| o.instance.0);
        let flags = s.flags[instance as usize];
        if store.opaque.runtime.global_value(flags.id).get_i32() & 1 == 0 {
            return Err(anyhow::Error::new(Trap::CannotLeave));
        }
        let mut call = HostCall {
            state,
            lowering,
            raw,
        };
        let depth = store.opaque.push_scope();
        let result = (host.call)(StoreContextMut(&mut *store), &mut call)
            .and_then(|()| store.opaque.pop_scope());
        store.opaque.truncate_scopes(depth);
        result
    };
    crate::Func::new_host_with_trampoline(store, core_ty, Arc::new(call), trampoline)
        .map_err(|e| anyhow!("creating a host lowering: {e:#}"))
}
