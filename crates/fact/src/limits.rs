//! Store resource limits, shaped like Wasmtime's: a [`ResourceLimiter`] that a store
//! consults (see [`Store::limiter`]), and [`StoreLimits`], the ready-made one.

use crate::store::StoreInner;
use crate::Store;
use anyhow::{bail, Result};
pub use fact_runtime::limits::ResourceLimiter;
use fact_runtime::limits::{
    LimiterHook, DEFAULT_INSTANCE_LIMIT, DEFAULT_MEMORY_LIMIT, DEFAULT_TABLE_LIMIT,
};

/// The embedder's limiter and where the store's data is.
pub(crate) struct LimiterState<T> {
    data: *mut T,
    get: Box<dyn (FnMut(&mut T) -> &mut dyn ResourceLimiter) + Send + Sync>,
}

// SAFETY: the state belongs to one store, which is used by one thread at a time.
unsafe impl<T> Send for LimiterState<T> {}

/// The runtime's way to the limiter of a `StoreInner<T>`'s state.
///
/// # Safety
///
/// `ctx` is the store's `LimiterState<T>`, and nothing else uses the store's data meanwhile.
unsafe fn get_limiter<T>(ctx: *mut u8) -> *mut dyn ResourceLimiter {
    let state = &mut *(ctx as *mut LimiterState<T>);
    let limiter: *mut (dyn ResourceLimiter + '_) = (state.get)(&mut *state.data);
    // SAFETY: only the lifetime changes; the runtime uses the pointer for one call, while
    // the data it borrows is alive and unused.
    std::mem::transmute::<*mut (dyn ResourceLimiter + '_), *mut (dyn ResourceLimiter + 'static)>(
        limiter,
    )
}

impl<T> Store<T> {
    /// Makes the store consult the limiter that `limiter` finds in its data whenever a
    /// memory or table grows (creation counts as growing from zero) and when it
    /// instantiates, e.g. `store.limiter(|data| &mut data.limits)` with a [`StoreLimits`].
    pub fn limiter(
        &mut self,
        limiter: impl (FnMut(&mut T) -> &mut dyn ResourceLimiter) + Send + Sync + 'static,
    ) {
        let inner: &mut StoreInner<T> = self.inner_mut();
        let mut state = Box::new(LimiterState {
            data: &mut inner.data,
            get: Box::new(limiter),
        });
        let hook = LimiterHook {
            ctx: &mut *state as *mut LimiterState<T> as *mut u8,
            get: get_limiter::<T>,
        };
        inner.limiter = Some(state);
        inner.opaque.runtime.set_limiter(Some(hook));
    }
}

/// Limits on a store's memories, tables and instances (the shape of Wasmtime's
/// `StoreLimits`), made with [`StoreLimitsBuilder`].
#[derive(Clone, Debug)]
pub struct StoreLimits {
    memory_size: Option<usize>,
    table_elements: Option<usize>,
    instances: usize,
    tables: usize,
    memories: usize,
    trap_on_grow_failure: bool,
}

impl Default for StoreLimits {
    fn default() -> StoreLimits {
        StoreLimits {
            memory_size: None,
            table_elements: None,
            instances: DEFAULT_INSTANCE_LIMIT,
            tables: DEFAULT_TABLE_LIMIT,
            memories: DEFAULT_MEMORY_LIMIT,
            trap_on_grow_failure: false,
        }
    }
}

impl ResourceLimiter for StoreLimits {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> Result<bool> {
        let allow = self.memory_size.is_none_or(|limit| desired <= limit)
            && maximum.is_none_or(|max| desired <= max);
        if !allow && self.trap_on_grow_failure {
            bail!("forcing trap when growing memory to {desired} bytes");
        }
        Ok(allow)
    }

    fn memory_grow_failed(&mut self, error: anyhow::Error) -> Result<()> {
        if self.trap_on_grow_failure {
            return Err(error.context("forcing a memory growth failure to be a trap"));
        }
        Ok(())
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> Result<bool> {
        let allow = self.table_elements.is_none_or(|limit| desired <= limit)
            && maximum.is_none_or(|max| desired <= max);
        if !allow && self.trap_on_grow_failure {
            bail!("forcing trap when growing table to {desired} elements");
        }
        Ok(allow)
    }

    fn table_grow_failed(&mut self, error: anyhow::Error) -> Result<()> {
        if self.trap_on_grow_failure {
            return Err(error.context("forcing a table growth failure to be a trap"));
        }
        Ok(())
    }

    fn instances(&self) -> usize {
        self.instances
    }

    fn tables(&self) -> usize {
        self.tables
    }

    fn memories(&self) -> usize {
        self.memories
    }
}

/// Builds [`StoreLimits`]; every limit not set is the default (no size limits, 10,000
/// instances, tables and memories).
#[derive(Clone, Debug, Default)]
pub struct StoreLimitsBuilder(StoreLimits);

impl StoreLimitsBuilder {
    pub fn new() -> StoreLimitsBuilder {
        StoreLimitsBuilder::default()
    }

    /// The most bytes any one linear memory may have.
    pub fn memory_size(mut self, bytes: usize) -> StoreLimitsBuilder {
        self.0.memory_size = Some(bytes);
        self
    }

    /// The most elements any one table may have.
    pub fn table_elements(mut self, elements: usize) -> StoreLimitsBuilder {
        self.0.table_elements = Some(elements);
        self
    }

    /// The most instances the store may have.
    pub fn instances(mut self, n: usize) -> StoreLimitsBuilder {
        self.0.instances = n;
        self
    }

    /// The most tables the store may have.
    pub fn tables(mut self, n: usize) -> StoreLimitsBuilder {
        self.0.tables = n;
        self
    }

    /// The most memories the store may have.
    pub fn memories(mut self, n: usize) -> StoreLimitsBuilder {
        self.0.memories = n;
        self
    }

    /// Make a growth beyond the limits (or one that fails) trap instead of returning -1.
    pub fn trap_on_grow_failure(mut self, trap: bool) -> StoreLimitsBuilder {
        self.0.trap_on_grow_failure = trap;
        self
    }

    pub fn build(self) -> StoreLimits {
        self.0
    }
}
