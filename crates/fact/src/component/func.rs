//! Exported component functions, called from the host.

use super::abi::{self, CallShape, Context, Lift, Lower, Options};
use super::instance::ComponentState;
use super::Val;
use crate::store::{StoreId, StoreInner};
use crate::{AsContext, AsContextMut};
use anyhow::{bail, Result};
use fact_environ::component::{FuncTypeId, TypeId};
use fact_environ::Trap;
use fact_runtime::ValRaw;
use std::marker::PhantomData;

/// A component function exported by an instance.
#[derive(Copy, Clone, Debug)]
pub struct Func {
    pub(crate) store: StoreId,
    pub(crate) state: usize,
    pub(crate) index: usize,
}

/// What an instance knows about one of its exported functions.
pub(crate) struct FuncData {
    pub ty: FuncTypeId,
    pub shape: CallShape,
    /// The core function the export lifts.
    pub core: crate::Func,
    pub options: Options,
}

/// Where lowered values go.
pub(crate) enum Place<'a> {
    Flat(&'a mut Vec<ValRaw>),
    Memory(u32),
}

/// Where lifted values come from.
pub(crate) enum Source<'a, 'b> {
    Flat(&'a mut std::slice::Iter<'b, ValRaw>),
    Memory(u32),
}

pub(crate) fn lower_into<L: Lower + ?Sized>(
    v: &L,
    cx: &mut Context<'_>,
    ty: TypeId,
    place: Place<'_>,
) -> Result<()> {
    match place {
        Place::Flat(out) => v.lower_flat(cx, ty, out),
        Place::Memory(p) => v.store(cx, ty, p),
    }
}

pub(crate) fn lift_from<L: Lift>(
    cx: &mut Context<'_>,
    ty: TypeId,
    src: Source<'_, '_>,
) -> Result<L> {
    match src {
        Source::Flat(it) => L::lift_flat(cx, ty, it),
        Source::Memory(p) => L::load(cx, ty, p),
    }
}

/// Lowers dynamic values as the fields of the tuple type `ty`.
pub(crate) fn lower_vals(
    cx: &mut Context<'_>,
    ty: TypeId,
    vals: &[Val],
    place: Place<'_>,
) -> Result<()> {
    let fields = abi::record::fields(cx.types, ty)?;
    match place {
        Place::Flat(out) => {
            for (v, t) in vals.iter().zip(fields) {
                v.lower_flat(cx, t, out)?;
            }
        }
        Place::Memory(p) => {
            let offsets = abi::record::offsets(cx.types, ty, p)?;
            for ((v, t), o) in vals.iter().zip(fields).zip(offsets) {
                v.store(cx, t, o)?;
            }
        }
    }
    Ok(())
}

/// Lifts the fields of the tuple type `ty` as dynamic values.
pub(crate) fn lift_vals(
    cx: &mut Context<'_>,
    ty: TypeId,
    src: Source<'_, '_>,
    out: &mut [Val],
) -> Result<()> {
    let fields = abi::record::fields(cx.types, ty)?;
    match src {
        Source::Flat(it) => {
            for (o, t) in out.iter_mut().zip(fields) {
                *o = Val::lift_flat(cx, t, it)?;
            }
        }
        Source::Memory(p) => {
            let offsets = abi::record::offsets(cx.types, ty, p)?;
            for ((o, t), at) in out.iter_mut().zip(fields).zip(offsets) {
                *o = Val::load(cx, t, at)?;
            }
        }
    }
    Ok(())
}

/// Sets or clears the `may_leave` bit of a component instance's flags.
pub(crate) fn set_may_leave(
    store: &mut crate::store::StoreOpaque,
    state: usize,
    instance: u32,
    allow: bool,
) {
    let g = store.components[state].flags[instance as usize];
    let v = store.runtime.global_value(g.id).get_i32();
    let v = if allow { v | 1 } else { v & !1 };
    store.runtime.set_global_value(g.id, ValRaw::i32(v));
}

/// Calls an exported function: lowers the arguments into the guest (with `lower`), calls
/// it, lifts the results (with `lift`), then runs its post-return. A trap here makes the
/// whole component instance unusable.
pub(crate) fn call_guest<T, R>(
    store: &mut StoreInner<T>,
    func: Func,
    lower: impl FnOnce(&mut Context<'_>, TypeId, Place<'_>) -> Result<()>,
    lift: impl FnOnce(&mut Context<'_>, TypeId, Source<'_, '_>) -> Result<R>,
) -> Result<R> {
    store.opaque.check(func.store)?;
    let state = func.state;
    {
        let s = &store.opaque.components[state];
        if s.poisoned || s.active {
            return Err(anyhow::Error::new(Trap::CannotEnter));
        }
    }
    store.opaque.components[state].active = true;
    let depth = store.opaque.push_scope();
    let result = call_guest_inner(store, func, lower, lift).and_then(|r| {
        store.opaque.pop_scope()?;
        Ok(r)
    });
    store.opaque.truncate_scopes(depth);
    let s = &mut store.opaque.components[state];
    s.active = false;
    if let Err(e) = &result {
        if e.downcast_ref::<Trap>().is_some() || e.downcast_ref::<crate::WasmBacktrace>().is_some()
        {
            s.poisoned = true;
        }
    }
    result
}

fn call_guest_inner<T, R>(
    store: &mut StoreInner<T>,
    func: Func,
    lower: impl FnOnce(&mut Context<'_>, TypeId, Place<'_>) -> Result<()>,
    lift: impl FnOnce(&mut Context<'_>, TypeId, Source<'_, '_>) -> Result<R>,
) -> Result<R> {
    let state: &ComponentState = &store.opaque.components[func.state];
    let component = state.component.clone();
    let types = &component.plan().types;
    let data = &state.funcs[func.index];
    let (shape, core, opts) = (data.shape, data.core, data.options);

    // Arguments, with the callee's may_leave clear while its realloc may run.
    set_may_leave(&mut store.opaque, func.state, opts.instance.0, false);
    let mut raw = Vec::with_capacity(shape.flat_params.max(shape.flat_results).max(1));
    let lowered = {
        let mut cx = Context {
            store: &mut store.opaque,
            opts: &opts,
            types,
            state: func.state,
        };
        match shape.params_in_memory {
            Some((align, size)) => cx.realloc(0, 0, align, size).and_then(|ptr| {
                raw.push(ValRaw::i32(ptr as i32));
                lower(&mut cx, shape.params, Place::Memory(ptr))
            }),
            None => lower(&mut cx, shape.params, Place::Flat(&mut raw)),
        }
    };
    set_may_leave(&mut store.opaque, func.state, opts.instance.0, true);
    lowered?;

    raw.resize(shape.flat_params.max(shape.flat_results), ValRaw::default());
    let called = crate::func::call_raw(store, core, &mut raw);
    super::contain_exception(&mut store.opaque, called)?;
    // `raw` now holds the core results, which post-return receives too.
    raw.truncate(shape.flat_results);

    let results = {
        let mut cx = Context {
            store: &mut store.opaque,
            opts: &opts,
            types,
            state: func.state,
        };
        match shape.results_in_memory {
            Some((align, size)) => {
                let ptr = raw[0].get_i32() as u32;
                abi::check_tuple(&mut cx, ptr, align, size)?;
                lift(&mut cx, shape.results, Source::Memory(ptr))?
            }
            None => lift(&mut cx, shape.results, Source::Flat(&mut raw.iter()))?,
        }
    };

    if let Some(post) = opts.post_return {
        set_may_leave(&mut store.opaque, func.state, opts.instance.0, false);
        raw.resize(raw.len().max(1), ValRaw::default());
        let r = crate::func::call_raw(store, post, &mut raw);
        set_may_leave(&mut store.opaque, func.state, opts.instance.0, true);
        super::contain_exception(&mut store.opaque, r)?;
    }
    Ok(results)
}

impl Func {
    fn data<'a>(
        &self,
        store: &'a crate::store::StoreOpaque,
    ) -> Result<(&'a ComponentState, &'a FuncData)> {
        store.check(self.store)?;
        let s = &store.components[self.state];
        Ok((s, &s.funcs[self.index]))
    }

    /// Calls the function with dynamic values; `results` must have room for the results.
    pub fn call(
        &self,
        mut store: impl AsContextMut,
        params: &[Val],
        results: &mut [Val],
    ) -> Result<()> {
        let store = store.as_context_mut().0;
        let (s, data) = self.data(&store.opaque)?;
        let ft = s.component.plan().types.func(data.ty);
        if params.len() != ft.params.len() {
            bail!(
                "expected {} arguments, got {}",
                ft.params.len(),
                params.len()
            );
        }
        if results.len() != ft.results.len() {
            bail!(
                "expected {} results, got space for {}",
                ft.results.len(),
                results.len()
            );
        }
        call_guest(
            store,
            *self,
            |cx, ty, place| lower_vals(cx, ty, params, place),
            |cx, ty, src| lift_vals(cx, ty, src, results),
        )
    }

    /// A typed view of the function: `Params` is a tuple of the parameter types,
    /// `Results` a tuple of the result types (`()` or `(T,)`). Checked once here.
    pub fn typed<Params, Results>(
        &self,
        store: impl AsContext,
    ) -> Result<TypedFunc<Params, Results>>
    where
        Params: Lower + super::ComponentType,
        Results: Lift + super::ComponentType,
    {
        let store = store.as_context();
        let (s, data) = self.data(&store.0.opaque)?;
        let types = &s.component.plan().types;
        let ft = types.func(data.ty);
        Params::typecheck(types, ft.params_tuple)
            .map_err(|e| e.context("the parameters do not match"))?;
        Results::typecheck(types, ft.results_tuple)
            .map_err(|e| e.context("the results do not match"))?;
        Ok(TypedFunc {
            func: *self,
            _marker: PhantomData,
        })
    }

    /// The parameters, as `(name, WIT-like type)`.
    pub fn params(&self, store: impl AsContext) -> Vec<(String, String)> {
        let store = store.as_context();
        let s = &store.0.opaque.components[self.state];
        let types = &s.component.plan().types;
        types
            .func(s.funcs[self.index].ty)
            .params
            .iter()
            .map(|(n, t)| (n.clone(), types.display(*t)))
            .collect()
    }

    /// The result types, WIT-like.
    pub fn results(&self, store: impl AsContext) -> Vec<String> {
        let store = store.as_context();
        let s = &store.0.opaque.components[self.state];
        let types = &s.component.plan().types;
        types
            .func(s.funcs[self.index].ty)
            .results
            .iter()
            .map(|t| types.display(*t))
            .collect()
    }

    /// The number of results.
    pub fn result_count(&self, store: impl AsContext) -> usize {
        self.results(store).len()
    }

    /// The function's signature in the type table of its component
    /// ([`Component::types`](super::Component::types)): the component, the parameters as
    /// `(name, type)` and the result types.
    pub fn signature(
        &self,
        store: impl AsContext,
    ) -> (super::Component, Vec<(String, TypeId)>, Vec<TypeId>) {
        let store = store.as_context();
        let s = &store.0.opaque.components[self.state];
        let ft = s.component.plan().types.func(s.funcs[self.index].ty);
        (s.component.clone(), ft.params.to_vec(), ft.results.to_vec())
    }
}

/// A component function with a statically checked type.
pub struct TypedFunc<Params, Results> {
    func: Func,
    _marker: PhantomData<fn(Params) -> Results>,
}

impl<P, R> Clone for TypedFunc<P, R> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<P, R> Copy for TypedFunc<P, R> {}

impl<P, R> std::fmt::Debug for TypedFunc<P, R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TypedFunc")
            .field("func", &self.func)
            .finish()
    }
}

impl<Params: Lower, Results: Lift> TypedFunc<Params, Results> {
    pub fn func(&self) -> &Func {
        &self.func
    }

    /// Calls the function.
    pub fn call(&self, mut store: impl AsContextMut, params: Params) -> Result<Results> {
        let store = store.as_context_mut().0;
        call_guest(
            store,
            self.func,
            |cx, ty, place| lower_into(&params, cx, ty, place),
            |cx, ty, src| lift_from(cx, ty, src),
        )
    }
}
