//! Resource limits: the embedder's [`ResourceLimiter`], consulted whenever a store's
//! memories or tables grow (creation counts as growing from zero) and when it instantiates.

use crate::instance::StoreData;
use anyhow::{bail, Result};
use fact_environ::{MemoryType, ModuleInfo, TableType, WASM_PAGE_SIZE};

/// The default limits on the number of instances, tables and memories of a store.
pub const DEFAULT_INSTANCE_LIMIT: usize = 10_000;
pub const DEFAULT_TABLE_LIMIT: usize = 10_000;
pub const DEFAULT_MEMORY_LIMIT: usize = 10_000;

/// Decides whether a store's memories and tables may grow, and how many instances, tables
/// and memories it may have (the shape of Wasmtime's trait of the same name).
pub trait ResourceLimiter {
    /// A memory wants to grow from `current` to `desired` bytes (`maximum` is its type's
    /// limit, if any): `Ok(true)` allows it, `Ok(false)` makes the growth fail (`-1` for
    /// `memory.grow`), an error traps.
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> Result<bool>;

    /// A memory could not grow although the limiter allowed it: an error traps.
    fn memory_grow_failed(&mut self, error: anyhow::Error) -> Result<()> {
        let _ = error;
        Ok(())
    }

    /// A table wants to grow from `current` to `desired` elements; as `memory_growing`.
    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> Result<bool>;

    /// A table could not grow although the limiter allowed it: an error traps.
    fn table_grow_failed(&mut self, error: anyhow::Error) -> Result<()> {
        let _ = error;
        Ok(())
    }

    /// The most instances the store may have.
    fn instances(&self) -> usize {
        DEFAULT_INSTANCE_LIMIT
    }

    /// The most tables the store may have.
    fn tables(&self) -> usize {
        DEFAULT_TABLE_LIMIT
    }

    /// The most memories the store may have.
    fn memories(&self) -> usize {
        DEFAULT_MEMORY_LIMIT
    }
}

/// How the runtime reaches the embedder's limiter: a function of a context pointer (the
/// embedder's store), monomorphized by the embedder.
#[derive(Copy, Clone)]
pub struct LimiterHook {
    pub ctx: *mut u8,
    /// # Safety
    ///
    /// Called with `ctx`, while nothing else uses what the limiter borrows.
    pub get: unsafe fn(*mut u8) -> *mut dyn ResourceLimiter,
}

fn to_usize(v: u64) -> usize {
    usize::try_from(v).unwrap_or(usize::MAX)
}

impl StoreData {
    fn limiter(&mut self) -> Option<&mut dyn ResourceLimiter> {
        let hook = self.limiter?;
        // SAFETY: the hook's contract; the limiter lives in the embedder's data, apart
        // from the runtime's state.
        Some(unsafe { &mut *(hook.get)(hook.ctx) })
    }

    /// Grows memory `id` by `delta` pages as `memory.grow` does: the old size in pages,
    /// `None` if it cannot grow (or the limiter says no), an error to trap with.
    pub fn grow_memory(&mut self, id: usize, delta: u64) -> Result<Option<u64>> {
        let memory = &self.memories[id];
        let current = memory.len();
        let maximum = memory
            .ty()
            .limits
            .max
            .map(|m| to_usize(m.saturating_mul(WASM_PAGE_SIZE)));
        let desired = (memory.pages() as u128 + delta as u128) * WASM_PAGE_SIZE as u128;
        let desired = usize::try_from(desired).unwrap_or(usize::MAX);
        if let Some(limiter) = self.limiter() {
            if !limiter.memory_growing(current, desired, maximum)? {
                return Ok(None);
            }
        }
        match self.memories[id].grow(delta) {
            Some(old) => Ok(Some(old)),
            None => {
                if let Some(limiter) = self.limiter() {
                    limiter.memory_grow_failed(anyhow::anyhow!(
                        "failed to grow memory from {current} to {desired} bytes"
                    ))?;
                }
                Ok(None)
            }
        }
    }

    /// Grows table `id` by `delta` elements set to `init`, as `table.grow` does.
    pub fn grow_table(&mut self, id: usize, delta: u64, init: usize) -> Result<Option<u64>> {
        let table = &self.tables[id];
        let current = to_usize(table.len());
        let maximum = table.ty().limits.max.map(to_usize);
        let desired = to_usize(table.len().saturating_add(delta));
        if let Some(limiter) = self.limiter() {
            if !limiter.table_growing(current, desired, maximum)? {
                return Ok(None);
            }
        }
        match self.tables[id].grow(delta, init) {
            Some(old) => Ok(Some(old)),
            None => {
                if let Some(limiter) = self.limiter() {
                    limiter.table_grow_failed(anyhow::anyhow!(
                        "failed to grow table from {current} to {desired} elements"
                    ))?;
                }
                Ok(None)
            }
        }
    }

    /// Asks the limiter whether `types.len()` new memories of those types may be created
    /// beside the store's existing ones.
    pub fn check_new_memories(&mut self, types: &[MemoryType]) -> Result<()> {
        let count = self.memories.len() + types.len();
        let Some(limiter) = self.limiter() else {
            return Ok(());
        };
        if !types.is_empty() && count > limiter.memories() {
            bail!("resource limit exceeded: memory count too high at {count}");
        }
        for ty in types {
            let desired = to_usize(ty.limits.min.saturating_mul(WASM_PAGE_SIZE));
            let maximum = ty
                .limits
                .max
                .map(|m| to_usize(m.saturating_mul(WASM_PAGE_SIZE)));
            if !limiter.memory_growing(0, desired, maximum)? {
                bail!(
                    "resource limit exceeded: memory minimum size of {} pages exceeds memory limits",
                    ty.limits.min
                );
            }
        }
        Ok(())
    }

    /// As [`StoreData::check_new_memories`], for tables.
    pub fn check_new_tables(&mut self, types: &[TableType]) -> Result<()> {
        let count = self.tables.len() + types.len();
        let Some(limiter) = self.limiter() else {
            return Ok(());
        };
        if !types.is_empty() && count > limiter.tables() {
            bail!("resource limit exceeded: table count too high at {count}");
        }
        for ty in types {
            let (min, max) = (ty.limits.min, ty.limits.max);
            if !limiter.table_growing(0, to_usize(min), max.map(to_usize))? {
                bail!(
                    "resource limit exceeded: table minimum size of {min} elements exceeds table limits"
                );
            }
        }
        Ok(())
    }

    /// Whether an instance of `module` may be created: one more instance, and its defined
    /// memories and tables.
    pub fn check_new_instance(&mut self, module: &ModuleInfo) -> Result<()> {
        let count = self.instances.len() + 1;
        if let Some(limiter) = self.limiter() {
            if count > limiter.instances() {
                bail!("resource limit exceeded: instance count too high at {count}");
            }
        }
        self.check_new_memories(&module.memories[module.num_imported_memories as usize..])?;
        self.check_new_tables(&module.tables[module.num_imported_tables as usize..])
    }

    /// Installs (or removes) the embedder's limiter.
    pub fn set_limiter(&mut self, hook: Option<LimiterHook>) {
        self.limiter = hook;
    }
}
