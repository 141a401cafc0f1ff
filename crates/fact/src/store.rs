//! Stores: the owner of everything instantiated, plus the host's data `T`.

use crate::func::{FuncData, HostFuncCtx};
use crate::{Engine, ExternRef, Func};
use anyhow::{bail, Result};
use fact_environ::vmoffsets::HOST_CTX_MAGIC;
use fact_runtime::{StoreData, VMFuncRef, VMHostFuncContext};
use std::any::Any;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Identifies a store, so handles can be checked against the store they are used with.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct StoreId(u64);

impl StoreId {
    fn next() -> StoreId {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        StoreId(NEXT.fetch_add(1, Ordering::Relaxed))
    }
}

/// A collection of instances and the objects they use, with host data of type `T`.
/// Everything created in a store lives as long as the store.
pub struct Store<T> {
    inner: Box<StoreInner<T>>,
}

/// The store's contents. Boxed, so that compiled code and host functions can point at it.
pub struct StoreInner<T> {
    pub(crate) opaque: StoreOpaque,
    /// Boxed: compiled code holds pointers to each context.
    #[allow(clippy::vec_box)]
    pub(crate) host_funcs: Vec<Box<HostFuncCtx<T>>>,
    /// Destructors of host resource types, by runtime resource type.
    pub(crate) host_dtors: HashMap<u32, crate::component::linker_destructor::Destructor<T>>,
    pub(crate) data: T,
    /// The resource limiter, if [`Store::limiter`] installed one.
    pub(crate) limiter: Option<Box<crate::limits::LimiterState<T>>>,
}

/// The part of a store that does not depend on `T`.
pub struct StoreOpaque {
    pub(crate) engine: Engine,
    pub(crate) id: StoreId,
    pub(crate) runtime: StoreData,
    pub(crate) funcs: Vec<FuncData>,
    /// `VMFuncRef` address → index in `funcs`.
    func_by_ref: HashMap<usize, usize>,
    externrefs: Vec<Arc<dyn Any + Send + Sync>>,
    /// Component instantiations.
    pub(crate) components: Vec<crate::component::instance_state::ComponentState>,
    /// Runtime resource types.
    pub(crate) resource_types: Vec<crate::component::resources_state::RuntimeResource>,
    /// Open component calls that lend borrows: the innermost last.
    pub(crate) scopes: Vec<crate::component::resources_state::CallScope>,
    pub(crate) next_scope: u32,
    /// The host's own handles to guest resources (what a `ResourceAny` refers to).
    pub(crate) host_handles: fact_runtime::component::handles::HandleTable,
}

impl<T> Store<T> {
    pub fn new(engine: &Engine, data: T) -> Store<T> {
        let runtime = StoreData::new(engine.epoch_ptr(), engine.config().tunables.clone());
        Store {
            inner: Box::new(StoreInner {
                opaque: StoreOpaque {
                    engine: engine.clone(),
                    id: StoreId::next(),
                    runtime,
                    funcs: Vec::new(),
                    func_by_ref: HashMap::new(),
                    externrefs: Vec::new(),
                    components: Vec::new(),
                    resource_types: Vec::new(),
                    scopes: Vec::new(),
                    next_scope: 1,
                    host_handles: Default::default(),
                },
                host_funcs: Vec::new(),
                host_dtors: HashMap::new(),
                data,
                limiter: None,
            }),
        }
    }

    pub fn engine(&self) -> &Engine {
        &self.inner.opaque.engine
    }

    pub fn data(&self) -> &T {
        &self.inner.data
    }

    pub fn data_mut(&mut self) -> &mut T {
        &mut self.inner.data
    }

    pub(crate) fn inner_mut(&mut self) -> &mut StoreInner<T> {
        &mut self.inner
    }

    pub fn into_data(self) -> T {
        self.inner.data
    }

    /// Sets the fuel available to wasm code (requires [`crate::Config::consume_fuel`]).
    pub fn set_fuel(&mut self, fuel: u64) -> Result<()> {
        self.inner.opaque.check_fuel_enabled()?;
        self.inner.opaque.runtime.set_fuel(fuel);
        Ok(())
    }

    /// The fuel left.
    pub fn get_fuel(&self) -> Result<u64> {
        self.inner.opaque.check_fuel_enabled()?;
        Ok(self.inner.opaque.runtime.fuel())
    }

    /// Makes wasm code trap with `interrupt` once the engine's epoch is `ticks` beyond the
    /// current one (requires [`crate::Config::epoch_interruption`]). Until a deadline is
    /// set, code is never interrupted.
    pub fn set_epoch_deadline(&mut self, ticks: u64) {
        let deadline = self
            .inner
            .opaque
            .engine
            .current_epoch()
            .saturating_add(ticks);
        self.inner.opaque.runtime.set_epoch_deadline(deadline);
    }
}

impl StoreOpaque {
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    fn check_fuel_enabled(&self) -> Result<()> {
        if !self.engine.config().tunables.consume_fuel {
            bail!("fuel is not enabled in this engine's configuration");
        }
        Ok(())
    }

    /// Fails unless the handle with store id `id` belongs to this store.
    pub(crate) fn check(&self, id: StoreId) -> Result<()> {
        if id != self.id {
            bail!("object used with the wrong store");
        }
        Ok(())
    }

    pub(crate) fn add_func(&mut self, data: FuncData) -> Func {
        let index = self.funcs.len();
        self.func_by_ref.insert(data.func_ref as usize, index);
        self.funcs.push(data);
        Func::from_parts(self.id, index)
    }

    /// The [`Func`] for a funcref pointer coming out of wasm code (not null).
    /// The `Func` of a funcref value that wasm produced, if it is a function reference of
    /// this store (wasm only ever holds those; anything else would be inconsistent
    /// metadata, and reads as null rather than being dereferenced).
    pub(crate) fn func_for_wasm_ref(&mut self, ptr: *const VMFuncRef) -> Option<Func> {
        let known = self.func_by_ref.contains_key(&(ptr as usize))
            || self.runtime.is_instance_func_ref(ptr as usize);
        known.then(|| self.func_for_ref(ptr))
    }

    pub(crate) fn func_for_ref(&mut self, ptr: *const VMFuncRef) -> Func {
        if let Some(&index) = self.func_by_ref.get(&(ptr as usize)) {
            return Func::from_parts(self.id, index);
        }
        // A copy of a host function's funcref (an imported host function re-exported, or
        // taken from a table) stands for the host function itself.
        // SAFETY: funcrefs in this store point at live `VMFuncRef`s whose vmctx is a
        // core instance's or a host function's context; both start with a magic number.
        unsafe {
            let vmctx = (*ptr).vmctx;
            if !vmctx.is_null() && *(vmctx as *const u32) == HOST_CTX_MAGIC {
                let canonical = vmctx as usize + std::mem::offset_of!(VMHostFuncContext, func_ref);
                if let Some(&index) = self.func_by_ref.get(&canonical) {
                    return Func::from_parts(self.id, index);
                }
            }
        }
        // SAFETY: funcrefs in this store point at live `VMFuncRef`s.
        let type_id = unsafe { (*ptr).type_id };
        let ty = self
            .engine
            .types()
            .lookup(type_id)
            .expect("funcrefs carry registered signature ids");
        self.add_func(FuncData {
            func_ref: ptr,
            ty,
            host: None,
        })
    }

    pub(crate) fn add_externref(&mut self, value: Arc<dyn Any + Send + Sync>) -> ExternRef {
        self.externrefs.push(value);
        ExternRef::from_parts(self.id, self.externrefs.len() as u32 - 1)
    }

    pub(crate) fn externref_data(&self, index: u32) -> &(dyn Any + Send + Sync) {
        &*self.externrefs[index as usize]
    }

    pub(crate) fn externref_count(&self) -> usize {
        self.externrefs.len()
    }
}

/// A shared borrow of a store.
pub struct StoreContext<'a, T>(pub(crate) &'a StoreInner<T>);

/// An exclusive borrow of a store.
pub struct StoreContextMut<'a, T>(pub(crate) &'a mut StoreInner<T>);

impl<T> StoreContext<'_, T> {
    pub fn data(&self) -> &T {
        &self.0.data
    }
    pub fn engine(&self) -> &Engine {
        &self.0.opaque.engine
    }
}

impl<T> StoreContextMut<'_, T> {
    pub fn data(&self) -> &T {
        &self.0.data
    }
    /// See [`Store::set_epoch_deadline`].
    pub fn set_epoch_deadline(&mut self, ticks: u64) {
        let deadline = self.0.opaque.engine.current_epoch().saturating_add(ticks);
        self.0.opaque.runtime.set_epoch_deadline(deadline);
    }
    pub fn data_mut(&mut self) -> &mut T {
        &mut self.0.data
    }
    pub fn engine(&self) -> &Engine {
        &self.0.opaque.engine
    }
}

/// Something that can be borrowed as a store.
pub trait AsContext {
    type Data;
    fn as_context(&self) -> StoreContext<'_, Self::Data>;
}

/// Something that can be borrowed mutably as a store.
pub trait AsContextMut: AsContext {
    fn as_context_mut(&mut self) -> StoreContextMut<'_, Self::Data>;
}

impl<T> AsContext for Store<T> {
    type Data = T;
    fn as_context(&self) -> StoreContext<'_, T> {
        StoreContext(&self.inner)
    }
}

impl<T> AsContextMut for Store<T> {
    fn as_context_mut(&mut self) -> StoreContextMut<'_, T> {
        StoreContextMut(&mut self.inner)
    }
}

impl<T> AsContext for StoreInner<T> {
    type Data = T;
    fn as_context(&self) -> StoreContext<'_, T> {
        StoreContext(self)
    }
}

impl<T> AsContextMut for StoreInner<T> {
    fn as_context_mut(&mut self) -> StoreContextMut<'_, T> {
        StoreContextMut(self)
    }
}

impl<T> AsContext for StoreContext<'_, T> {
    type Data = T;
    fn as_context(&self) -> StoreContext<'_, T> {
        StoreContext(self.0)
    }
}

impl<T> AsContext for StoreContextMut<'_, T> {
    type Data = T;
    fn as_context(&self) -> StoreContext<'_, T> {
        StoreContext(self.0)
    }
}

impl<T> AsContextMut for StoreContextMut<'_, T> {
    fn as_context_mut(&mut self) -> StoreContextMut<'_, T> {
        StoreContextMut(self.0)
    }
}

impl<C: AsContext + ?Sized> AsContext for &C {
    type Data = C::Data;
    fn as_context(&self) -> StoreContext<'_, C::Data> {
        (**self).as_context()
    }
}

impl<C: AsContext + ?Sized> AsContext for &mut C {
    type Data = C::Data;
    fn as_context(&self) -> StoreContext<'_, C::Data> {
        (**self).as_context()
    }
}

impl<C: AsContextMut + ?Sized> AsContextMut for &mut C {
    fn as_context_mut(&mut self) -> StoreContextMut<'_, C::Data> {
        (**self).as_context_mut()
    }
}

impl<T> std::fmt::Debug for Store<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").finish_non_exhaustive()
    }
}
