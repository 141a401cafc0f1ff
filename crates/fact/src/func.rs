//! Functions: wasm functions and host functions, called dynamically with [`Val`]s or
//! through [`TypedFunc`] with Rust types.

use crate::store::{StoreId, StoreInner, StoreOpaque};
use crate::values::Val;
use crate::{AsContext, AsContextMut, Extern, ExternRef, StoreContext, StoreContextMut};
use anyhow::{bail, Result};
use fact_environ::vmoffsets::{HOST_CTX_MAGIC, VMCTX_MAGIC};
use fact_environ::{FuncType, ValType};
use fact_runtime::traps::{catch_traps, set_pending, Pending};
use fact_runtime::{VMFuncRef, VMHostFuncContext, ValRaw};
use std::marker::PhantomData;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Arc;

/// A host function's implementation: reads its parameters from the raw values and writes
/// its results back.
pub(crate) type HostFn<T> = dyn Fn(Caller<'_, T>, &mut [ValRaw]) -> Result<()> + Send + Sync;

/// A host function's context: the header the exit trampoline reads, then the Rust side.
#[repr(C)]
pub(crate) struct HostFuncCtx<T> {
    header: VMHostFuncContext,
    store: *mut StoreInner<T>,
    func: Arc<HostFn<T>>,
}

/// What a store knows about a function.
pub(crate) struct FuncData {
    pub(crate) func_ref: *const VMFuncRef,
    pub(crate) ty: FuncType,
    /// Index in the store's host functions, for host functions.
    pub(crate) host: Option<usize>,
}

/// A function in a store: defined by wasm or by the host.
#[derive(Copy, Clone, Debug)]
pub struct Func {
    store: StoreId,
    index: usize,
}

/// The context of a host function call: the store, and the calling instance's exports.
pub struct Caller<'a, T> {
    pub(crate) store: &'a mut StoreInner<T>,
    /// The vmctx of the calling core instance, if a wasm instance called.
    caller: Option<*mut u8>,
}

impl<T> Caller<'_, T> {
    pub fn data(&self) -> &T {
        &self.store.data
    }

    pub fn data_mut(&mut self) -> &mut T {
        &mut self.store.data
    }

    pub fn engine(&self) -> &crate::Engine {
        &self.store.opaque.engine
    }

    /// An export of the calling instance (e.g. its memory).
    pub fn get_export(&mut self, name: &str) -> Option<Extern> {
        let vmctx = self.caller?;
        // SAFETY: `caller` is only set to the vmctx of a live instance.
        let instance = unsafe { fact_runtime::Instance::from_vmctx(vmctx) };
        let export = instance.get_export(name)?;
        Some(Extern::from_runtime(&mut self.store.opaque, export))
    }
}

impl<T> AsContext for Caller<'_, T> {
    type Data = T;
    fn as_context(&self) -> StoreContext<'_, T> {
        StoreContext(self.store)
    }
}

impl<T> AsContextMut for Caller<'_, T> {
    fn as_context_mut(&mut self) -> StoreContextMut<'_, T> {
        StoreContextMut(self.store)
    }
}

/// Called by the exit trampoline of a host function.
unsafe extern "C" fn host_call_shim<T>(
    ctx: *mut VMHostFuncContext,
    caller_vmctx: *mut u8,
    values: *mut ValRaw,
    len: usize,
) -> bool {
    let ctx = &*(ctx as *mut HostFuncCtx<T>);
    debug_assert_eq!(ctx.header.magic, HOST_CTX_MAGIC);
    let func: *const HostFn<T> = &*ctx.func;
    let caller = (!caller_vmctx.is_null() && *(caller_vmctx as *const u32) == VMCTX_MAGIC)
        .then_some(caller_vmctx);
    let values = std::slice::from_raw_parts_mut(values, len);
    let caller = Caller {
        store: &mut *ctx.store,
        caller,
    };
    match panic::catch_unwind(AssertUnwindSafe(|| (*func)(caller, values))) {
        Ok(Ok(())) => true,
        Ok(Err(e)) => {
            // The exit trampoline raises the error, or throws the store's pending
            // exception if the error is `Store::throw`'s `ThrownException`.
            set_pending(Pending::Error(e));
            false
        }
        Err(panic) => {
            set_pending(Pending::Panic(panic));
            false
        }
    }
}

impl Func {
    pub(crate) fn from_parts(store: StoreId, index: usize) -> Func {
        Func { store, index }
    }

    /// Registers a host function implemented by `func` in the store.
    pub(crate) fn new_host<T>(
        store: &mut StoreInner<T>,
        ty: FuncType,
        func: Arc<HostFn<T>>,
    ) -> Result<Func> {
        let (type_id, trampoline) = store.opaque.engine.host_trampoline(&ty)?;
        Func::new_host_with_trampoline_id(store, ty, func, trampoline, type_id)
    }

    /// Registers a host function reached through `trampoline` (an exit trampoline for
    /// `ty` that lives in an artifact, like a component's lowering trampolines).
    pub(crate) fn new_host_with_trampoline<T>(
        store: &mut StoreInner<T>,
        ty: FuncType,
        func: Arc<HostFn<T>>,
        trampoline: usize,
    ) -> Result<Func> {
        let type_id = store.opaque.engine.types().register(&ty);
        Func::new_host_with_trampoline_id(store, ty, func, trampoline, type_id)
    }

    fn new_host_with_trampoline_id<T>(
        store: &mut StoreInner<T>,
        ty: FuncType,
        func: Arc<HostFn<T>>,
        trampoline: usize,
        type_id: u32,
    ) -> Result<Func> {
        let store_ptr: *mut StoreInner<T> = store;
        let mut ctx = Box::new(HostFuncCtx {
            header: VMHostFuncContext {
                magic: HOST_CTX_MAGIC,
                store_ctx: store.opaque.runtime.ctx(),
                host_call: host_call_shim::<T>,
                func_ref: VMFuncRef {
                    wasm_call: trampoline as *const u8,
                    array_call: std::ptr::null(),
                    vmctx: std::ptr::null_mut(),
                    type_id,
                },
            },
            store: store_ptr,
            func,
        });
        let ctx_ptr: *mut HostFuncCtx<T> = &mut *ctx;
        ctx.header.func_ref.vmctx = ctx_ptr as *mut u8;
        let func_ref: *const VMFuncRef = &ctx.header.func_ref;
        store.host_funcs.push(ctx);
        let host = store.host_funcs.len() - 1;
        Ok(store.opaque.add_func(FuncData {
            func_ref,
            ty,
            host: Some(host),
        }))
    }

    /// A host function of type `ty` taking and returning dynamic values.
    pub fn new<T: 'static>(
        mut store: impl AsContextMut<Data = T>,
        ty: FuncType,
        func: impl Fn(Caller<'_, T>, &[Val], &mut [Val]) -> Result<()> + Send + Sync + 'static,
    ) -> Result<Func> {
        let store = store.as_context_mut().0;
        store.opaque.engine.types().check_host_type(&ty)?;
        let host = dynamic_host_fn(ty.clone(), func);
        Func::new_host(store, ty, host)
    }

    /// A host function from a Rust closure with wasm-typed parameters and results
    /// (optionally taking a [`Caller`] first).
    pub fn wrap<T: 'static, Params, Results>(
        mut store: impl AsContextMut<Data = T>,
        func: impl IntoFunc<T, Params, Results>,
    ) -> Result<Func> {
        let store = store.as_context_mut().0;
        let (ty, host) = func.into_host_fn();
        Func::new_host(store, ty, host)
    }

    pub(crate) fn data<'a>(&self, store: &'a StoreOpaque) -> Result<&'a FuncData> {
        store.check(self.store)?;
        Ok(&store.funcs[self.index])
    }

    pub(crate) fn func_ref(&self, store: &StoreOpaque) -> Result<*const VMFuncRef> {
        Ok(self.data(store)?.func_ref)
    }

    /// The function's type.
    pub fn ty(&self, store: impl AsContext) -> FuncType {
        let store = store.as_context();
        store.0.opaque.funcs[self.index].ty.clone()
    }

    /// Calls the function with dynamically typed values.
    pub fn call(
        &self,
        mut store: impl AsContextMut,
        params: &[Val],
        results: &mut [Val],
    ) -> Result<()> {
        let store = store.as_context_mut().0;
        let ty = self.data(&store.opaque)?.ty.clone();
        if params.len() != ty.params.len() {
            bail!(
                "expected {} arguments, got {}",
                ty.params.len(),
                params.len()
            );
        }
        if results.len() != ty.results.len() {
            bail!(
                "expected {} results, got space for {}",
                ty.results.len(),
                results.len()
            );
        }
        let mut raw = vec![ValRaw::default(); ty.params.len().max(ty.results.len())];
        for (i, (p, t)) in params.iter().zip(ty.params.iter()).enumerate() {
            if !p.matches(&store.opaque, *t)? {
                bail!("argument {i} has type {}, expected {t}", p.describe());
            }
            raw[i] = p.to_raw(&mut store.opaque)?;
        }
        call_raw(store, *self, &mut raw)?;
        for (i, t) in ty.results.iter().enumerate() {
            results[i] = Val::from_raw(&mut store.opaque, raw[i], *t);
        }
        Ok(())
    }

    /// A typed view of this function; fails if `Params` and `Results` do not match its
    /// type.
    pub fn typed<Params: WasmParams, Results: WasmParams>(
        &self,
        store: impl AsContext,
    ) -> Result<TypedFunc<Params, Results>> {
        let store = store.as_context();
        let ty = &self.data(&store.0.opaque)?.ty;
        let expected = FuncType::new(Params::valtypes(), Results::valtypes());
        if *ty != expected {
            bail!("type mismatch: the function has type {ty}, not {expected}");
        }
        Ok(TypedFunc {
            func: *self,
            _marker: PhantomData,
        })
    }
}

/// Calls `func` with its arguments in `raw` (which has room for its results too).
pub(crate) fn call_raw<T>(store: &mut StoreInner<T>, func: Func, raw: &mut [ValRaw]) -> Result<()> {
    let data = func.data(&store.opaque)?;
    if let Some(host) = data.host {
        let f: *const HostFn<T> = &*store.host_funcs[host].func;
        // SAFETY: host functions live as long as the store.
        return unsafe {
            (*f)(
                Caller {
                    store,
                    caller: None,
                },
                raw,
            )
        };
    }
    let func_ref = data.func_ref;
    // SAFETY: `func_ref` is a live wasm function of this store; `raw` is large enough.
    unsafe { invoke_wasm(&mut store.opaque, func_ref, raw) }
}

/// Calls a wasm function through its entry trampoline, catching traps.
///
/// # Safety
///
/// `func_ref` must be a wasm function of this store and `raw` large enough for its
/// parameters and results.
pub(crate) unsafe fn invoke_wasm(
    store: &mut StoreOpaque,
    func_ref: *const VMFuncRef,
    raw: &mut [ValRaw],
) -> Result<()> {
    let f = *func_ref;
    if f.array_call.is_null() {
        bail!("internal error: a host function was called as a wasm function");
    }
    // Exceptions that wasm held as `exnref`s are collected while no wasm runs: before an
    // outermost call (the check is cheapest here, before anything is live).
    store.runtime.maybe_collect_exceptions();
    let ctx = store.runtime.ctx();
    let max_stack = store.engine.config().max_wasm_stack;
    type ArrayCall = unsafe extern "C" fn(*mut u8, *mut u8, *const u8, *mut ValRaw, usize);
    let trampoline: ArrayCall = std::mem::transmute::<*const u8, ArrayCall>(f.array_call);
    let (values, len) = (raw.as_mut_ptr(), raw.len());
    catch_traps(ctx, max_stack, || {
        trampoline(f.vmctx, f.vmctx, f.wasm_call, values, len)
    })
    .map_err(crate::trap::from_unwind)
}

pub(crate) fn dynamic_host_fn<T>(
    ty: FuncType,
    func: impl Fn(Caller<'_, T>, &[Val], &mut [Val]) -> Result<()> + Send + Sync + 'static,
) -> Arc<HostFn<T>> {
    Arc::new(move |caller: Caller<'_, T>, raw: &mut [ValRaw]| {
        let store: *mut StoreInner<T> = caller.store;
        // SAFETY: `store` stays valid for the whole call; `caller` is the only other
        // borrow and it is not used after `func` consumes it.
        let opaque = unsafe { &mut (*store).opaque };
        let params: Vec<Val> = ty
            .params
            .iter()
            .enumerate()
            .map(|(i, t)| Val::from_raw(opaque, raw[i], *t))
            .collect();
        let mut results: Vec<Val> = ty.results.iter().map(|t| Val::default_for(*t)).collect();
        func(caller, &params, &mut results)?;
        let opaque = unsafe { &mut (*store).opaque };
        for (i, (r, t)) in results.iter().zip(ty.results.iter()).enumerate() {
            if !r.matches(opaque, *t)? {
                bail!(
                    "host function returned a {} for result {i} of type {t}",
                    r.describe()
                );
            }
            raw[i] = r.to_raw(opaque)?;
        }
        Ok(())
    })
}

// ---- Typed calls ----

/// A Rust type that is a wasm value.
pub trait WasmTy: Send + Sized + 'static {
    fn valtype() -> ValType;
    #[doc(hidden)]
    fn into_raw(self, store: &mut StoreOpaque) -> Result<ValRaw>;
    #[doc(hidden)]
    fn from_raw(raw: ValRaw, store: &mut StoreOpaque) -> Self;
}

macro_rules! num_ty {
    ($t:ty, $vt:ident, $to:expr, $from:expr) => {
        impl WasmTy for $t {
            fn valtype() -> ValType {
                ValType::$vt
            }
            fn into_raw(self, _: &mut StoreOpaque) -> Result<ValRaw> {
                Ok($to(self))
            }
            fn from_raw(raw: ValRaw, _: &mut StoreOpaque) -> Self {
                $from(raw)
            }
        }
    };
}

num_ty!(i32, I32, ValRaw::i32, |r: ValRaw| r.get_i32());
num_ty!(
    u32,
    I32,
    |v: u32| ValRaw::i32(v as i32),
    |r: ValRaw| r.get_i32() as u32
);
num_ty!(i64, I64, ValRaw::i64, |r: ValRaw| r.get_i64());
num_ty!(
    u64,
    I64,
    |v: u64| ValRaw::i64(v as i64),
    |r: ValRaw| r.get_i64() as u64
);
num_ty!(f32, F32, |v: f32| ValRaw::f32(v.to_bits()), |r: ValRaw| {
    f32::from_bits(r.get_f32())
});
num_ty!(f64, F64, |v: f64| ValRaw::f64(v.to_bits()), |r: ValRaw| {
    f64::from_bits(r.get_f64())
});
num_ty!(
    crate::V128,
    V128,
    |v: crate::V128| ValRaw::from_u128(v.0),
    |r: ValRaw| crate::V128(r.get_u128())
);

impl WasmTy for Option<Func> {
    fn valtype() -> ValType {
        ValType::FUNCREF
    }
    fn into_raw(self, store: &mut StoreOpaque) -> Result<ValRaw> {
        Val::FuncRef(self).to_raw(store)
    }
    fn from_raw(raw: ValRaw, store: &mut StoreOpaque) -> Self {
        match raw.get_ptr() {
            0 => None,
            p => store.func_for_wasm_ref(p as *const VMFuncRef),
        }
    }
}

impl WasmTy for Option<ExternRef> {
    fn valtype() -> ValType {
        ValType::EXTERNREF
    }
    fn into_raw(self, store: &mut StoreOpaque) -> Result<ValRaw> {
        Val::ExternRef(self).to_raw(store)
    }
    fn from_raw(raw: ValRaw, store: &mut StoreOpaque) -> Self {
        match Val::from_raw(store, raw, ValType::EXTERNREF) {
            Val::ExternRef(e) => e,
            _ => None,
        }
    }
}

/// A list of wasm values as Rust types: `()`, a [`WasmTy`], or a tuple of them.
pub trait WasmParams: Send + Sized + 'static {
    /// The number of values.
    const LEN: usize;
    fn valtypes() -> Vec<ValType>;
    #[doc(hidden)]
    fn into_raw(self, store: &mut StoreOpaque, out: &mut [ValRaw]) -> Result<()>;
    #[doc(hidden)]
    fn from_raw(store: &mut StoreOpaque, raw: &[ValRaw]) -> Self;
}

impl<A: WasmTy> WasmParams for A {
    const LEN: usize = 1;
    fn valtypes() -> Vec<ValType> {
        vec![A::valtype()]
    }
    fn into_raw(self, store: &mut StoreOpaque, out: &mut [ValRaw]) -> Result<()> {
        out[0] = WasmTy::into_raw(self, store)?;
        Ok(())
    }
    fn from_raw(store: &mut StoreOpaque, raw: &[ValRaw]) -> Self {
        A::from_raw(raw[0], store)
    }
}

macro_rules! tuple_params {
    ($($a:ident)*) => {
        #[allow(non_snake_case, unused_variables, unused_mut, unused_assignments, clippy::unused_unit)]
        impl<$($a: WasmTy,)*> WasmParams for ($($a,)*) {
            const LEN: usize = <[&str]>::len(&[$(stringify!($a)),*]);
            fn valtypes() -> Vec<ValType> {
                vec![$($a::valtype()),*]
            }
            fn into_raw(self, store: &mut StoreOpaque, out: &mut [ValRaw]) -> Result<()> {
                let ($($a,)*) = self;
                let mut i = 0;
                $(out[i] = WasmTy::into_raw($a, store)?; i += 1;)*
                Ok(())
            }
            fn from_raw(store: &mut StoreOpaque, raw: &[ValRaw]) -> Self {
                let mut i = 0;
                $(let $a = $a::from_raw(raw[i], store); i += 1;)*
                ($($a,)*)
            }
        }
    };
}

macro_rules! for_each_arity {
    ($m:ident) => {
        $m!();
        $m!(A1);
        $m!(A1 A2);
        $m!(A1 A2 A3);
        $m!(A1 A2 A3 A4);
        $m!(A1 A2 A3 A4 A5);
        $m!(A1 A2 A3 A4 A5 A6);
        $m!(A1 A2 A3 A4 A5 A6 A7);
        $m!(A1 A2 A3 A4 A5 A6 A7 A8);
        $m!(A1 A2 A3 A4 A5 A6 A7 A8 A9);
        $m!(A1 A2 A3 A4 A5 A6 A7 A8 A9 A10);
        $m!(A1 A2 A3 A4 A5 A6 A7 A8 A9 A10 A11);
        $m!(A1 A2 A3 A4 A5 A6 A7 A8 A9 A10 A11 A12);
        $m!(A1 A2 A3 A4 A5 A6 A7 A8 A9 A10 A11 A12 A13);
        $m!(A1 A2 A3 A4 A5 A6 A7 A8 A9 A10 A11 A12 A13 A14);
        $m!(A1 A2 A3 A4 A5 A6 A7 A8 A9 A10 A11 A12 A13 A14 A15);
        $m!(A1 A2 A3 A4 A5 A6 A7 A8 A9 A10 A11 A12 A13 A14 A15 A16);
    };
}

for_each_arity!(tuple_params);

/// What a host closure may return: results, or a `Result` of them.
pub trait WasmRet {
    type Results: WasmParams;
    #[doc(hidden)]
    fn into_result(self) -> Result<Self::Results>;
}

impl<R: WasmParams> WasmRet for R {
    type Results = R;
    fn into_result(self) -> Result<R> {
        Ok(self)
    }
}

impl<R: WasmParams> WasmRet for Result<R> {
    type Results = R;
    fn into_result(self) -> Result<R> {
        self
    }
}

/// A Rust closure usable as a host function (see [`Func::wrap`]).
pub trait IntoFunc<T, Params, Results>: Send + Sync + 'static {
    #[doc(hidden)]
    fn into_host_fn(self) -> (FuncType, Arc<HostFn<T>>);
}

/// Marks closures that take a [`Caller`] first.
pub struct WithCaller<P>(PhantomData<P>);

macro_rules! into_func {
    ($($a:ident)*) => {
        #[allow(non_snake_case, unused_variables, unused_mut, unused_assignments)]
        impl<T, F, R, $($a,)*> IntoFunc<T, ($($a,)*), R> for F
        where
            F: Fn($($a),*) -> R + Send + Sync + 'static,
            $($a: WasmTy,)*
            R: WasmRet + 'static,
        {
            fn into_host_fn(self) -> (FuncType, Arc<HostFn<T>>) {
                let ty = FuncType::new([$($a::valtype()),*], R::Results::valtypes());
                let f = move |caller: Caller<'_, T>, raw: &mut [ValRaw]| -> Result<()> {
                    let store = &mut caller.store.opaque;
                    let mut i = 0;
                    $(let $a = $a::from_raw(raw[i], store); i += 1;)*
                    let results = self($($a),*).into_result()?;
                    results.into_raw(store, raw)
                };
                (ty, Arc::new(f))
            }
        }

        #[allow(non_snake_case, unused_variables, unused_mut, unused_assignments)]
        impl<T, F, R, $($a,)*> IntoFunc<T, WithCaller<($($a,)*)>, R> for F
        where
            F: Fn(Caller<'_, T>, $($a),*) -> R + Send + Sync + 'static,
            $($a: WasmTy,)*
            R: WasmRet + 'static,
        {
            fn into_host_fn(self) -> (FuncType, Arc<HostFn<T>>) {
                let ty = FuncType::new([$($a::valtype()),*], R::Results::valtypes());
                let f = move |caller: Caller<'_, T>, raw: &mut [ValRaw]| -> Result<()> {
                    let store: *mut StoreInner<T> = caller.store;
                    // SAFETY: the store outlives the call; `caller` is the only other
                    // borrow and it is not used after the closure consumes it.
                    let opaque = unsafe { &mut (*store).opaque };
                    let mut i = 0;
                    $(let $a = $a::from_raw(raw[i], opaque); i += 1;)*
                    let results = self(caller, $($a),*).into_result()?;
                    results.into_raw(unsafe { &mut (*store).opaque }, raw)
                };
                (ty, Arc::new(f))
            }
        }
    };
}

for_each_arity!(into_func);

/// A function with a statically known type.
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

impl<Params: WasmParams, Results: WasmParams> TypedFunc<Params, Results> {
    pub fn func(&self) -> &Func {
        &self.func
    }

    /// Calls the function.
    pub fn call(&self, mut store: impl AsContextMut, params: Params) -> Result<Results> {
        let store = store.as_context_mut().0;
        let mut buf = [ValRaw::default(); 16];
        let mut heap;
        let n = Params::LEN.max(Results::LEN);
        let raw: &mut [ValRaw] = if n <= buf.len() {
            &mut buf[..n]
        } else {
            heap = vec![ValRaw::default(); n];
            &mut heap
        };
        params.into_raw(&mut store.opaque, raw)?;
        call_raw(store, self.func, raw)?;
        Ok(Results::from_raw(&mut store.opaque, raw))
    }
}
