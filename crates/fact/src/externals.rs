//! Memories, tables, globals, and the [`Extern`] sum of everything importable.

use crate::store::{StoreId, StoreOpaque};
use crate::values::Val;
use crate::{AsContext, AsContextMut, Func, Tag};
use anyhow::{bail, Result};
use fact_environ::{GlobalType, MemoryType, RefType, TableType, ValType};
use fact_runtime::{Export, LinearMemory, Table as RtTable};

/// Anything an instance can import or export.
#[derive(Copy, Clone, Debug)]
pub enum Extern {
    Func(Func),
    Table(Table),
    Memory(Memory),
    Global(Global),
    Tag(Tag),
}

impl Extern {
    pub(crate) fn from_runtime(store: &mut StoreOpaque, export: Export) -> Extern {
        match export {
            Export::Func(f) => Extern::Func(store.func_for_ref(f)),
            Export::Table(id) => Extern::Table(Table {
                store: store.id,
                id,
            }),
            Export::Memory(id) => Extern::Memory(Memory {
                store: store.id,
                id,
            }),
            Export::Global(id) => Extern::Global(Global {
                store: store.id,
                id,
            }),
            Export::Tag(id) => Extern::Tag(Tag::from_id(store, id)),
        }
    }

    pub fn into_func(self) -> Option<Func> {
        match self {
            Extern::Func(f) => Some(f),
            _ => None,
        }
    }

    pub fn into_memory(self) -> Option<Memory> {
        match self {
            Extern::Memory(m) => Some(m),
            _ => None,
        }
    }

    pub fn into_table(self) -> Option<Table> {
        match self {
            Extern::Table(t) => Some(t),
            _ => None,
        }
    }

    pub fn into_global(self) -> Option<Global> {
        match self {
            Extern::Global(g) => Some(g),
            _ => None,
        }
    }

    pub fn into_tag(self) -> Option<Tag> {
        match self {
            Extern::Tag(t) => Some(t),
            _ => None,
        }
    }

    /// The type of the extern.
    pub fn ty(&self, store: impl AsContext) -> fact_environ::EntityType {
        use fact_environ::EntityType;
        match self {
            Extern::Func(f) => EntityType::Func(f.ty(&store)),
            Extern::Table(t) => EntityType::Table(t.ty(&store)),
            Extern::Memory(m) => EntityType::Memory(m.ty(&store)),
            Extern::Global(g) => EntityType::Global(g.ty(&store)),
            Extern::Tag(t) => EntityType::Tag(t.ty(&store)),
        }
    }
}

impl From<Func> for Extern {
    fn from(f: Func) -> Extern {
        Extern::Func(f)
    }
}
impl From<Memory> for Extern {
    fn from(m: Memory) -> Extern {
        Extern::Memory(m)
    }
}
impl From<Table> for Extern {
    fn from(t: Table) -> Extern {
        Extern::Table(t)
    }
}
impl From<Tag> for Extern {
    fn from(t: Tag) -> Extern {
        Extern::Tag(t)
    }
}
impl From<Global> for Extern {
    fn from(g: Global) -> Extern {
        Extern::Global(g)
    }
}

/// A linear memory.
#[derive(Copy, Clone, Debug)]
pub struct Memory {
    store: StoreId,
    pub(crate) id: usize,
}

impl Memory {
    pub fn new(mut store: impl AsContextMut, ty: MemoryType) -> Result<Memory> {
        let store = &mut store.as_context_mut().0.opaque;
        store.runtime.check_new_memories(&[ty])?;
        let memory = LinearMemory::new(ty, store.runtime.tunables())?;
        let id = store.runtime.add_memory(memory);
        Ok(Memory {
            store: store.id,
            id,
        })
    }

    pub(crate) fn id_in(&self, store: &StoreOpaque) -> Result<usize> {
        store.check(self.store)?;
        Ok(self.id)
    }

    fn get<'a>(&self, store: &'a StoreOpaque) -> &'a LinearMemory {
        assert!(store.id == self.store, "memory used with the wrong store");
        &store.runtime.memories[self.id]
    }

    fn get_mut<'a>(&self, store: &'a mut StoreOpaque) -> &'a mut LinearMemory {
        assert!(store.id == self.store, "memory used with the wrong store");
        &mut store.runtime.memories[self.id]
    }

    pub fn ty(&self, store: impl AsContext) -> MemoryType {
        self.get(&store.as_context().0.opaque).ty()
    }

    /// The memory's contents.
    pub fn data<'a, T: 'a>(&self, store: impl Into<crate::StoreContext<'a, T>>) -> &'a [u8] {
        self.get(&store.into().0.opaque).data()
    }

    /// The memory's contents, mutably.
    pub fn data_mut<'a, T: 'a>(
        &self,
        store: impl Into<crate::StoreContextMut<'a, T>>,
    ) -> &'a mut [u8] {
        self.get_mut(&mut store.into().0.opaque).data_mut()
    }

    /// The base address of the memory (it never moves).
    pub fn data_ptr(&self, store: impl AsContext) -> *mut u8 {
        self.get(&store.as_context().0.opaque).base()
    }

    /// The size in bytes.
    pub fn data_size(&self, store: impl AsContext) -> usize {
        self.get(&store.as_context().0.opaque).len()
    }

    /// The size in pages.
    pub fn size(&self, store: impl AsContext) -> u64 {
        self.get(&store.as_context().0.opaque).pages()
    }

    /// Grows by `delta` pages and returns the old size in pages.
    pub fn grow(&self, mut store: impl AsContextMut, delta: u64) -> Result<u64> {
        let store = &mut store.as_context_mut().0.opaque;
        store.check(self.store)?;
        match store.runtime.grow_memory(self.id, delta)? {
            Some(old) => Ok(old),
            None => bail!("failed to grow memory by {delta} pages"),
        }
    }

    /// Copies `buf.len()` bytes at `offset` into `buf`.
    pub fn read(&self, store: impl AsContext, offset: usize, buf: &mut [u8]) -> Result<()> {
        let store = store.as_context();
        let data = self.get(&store.0.opaque).data();
        match offset.checked_add(buf.len()) {
            Some(end) if end <= data.len() => {
                buf.copy_from_slice(&data[offset..end]);
                Ok(())
            }
            _ => bail!("out of bounds memory access"),
        }
    }

    /// Copies `buf` into the memory at `offset`.
    pub fn write(&self, mut store: impl AsContextMut, offset: usize, buf: &[u8]) -> Result<()> {
        let store = store.as_context_mut();
        let data = self.get_mut(&mut store.0.opaque).data_mut();
        match offset.checked_add(buf.len()) {
            Some(end) if end <= data.len() => {
                data[offset..end].copy_from_slice(buf);
                Ok(())
            }
            _ => bail!("out of bounds memory access"),
        }
    }
}

impl<'a, T> From<&'a crate::Store<T>> for crate::StoreContext<'a, T> {
    fn from(store: &'a crate::Store<T>) -> Self {
        store.as_context()
    }
}
impl<'a, T> From<&'a mut crate::Store<T>> for crate::StoreContext<'a, T> {
    fn from(store: &'a mut crate::Store<T>) -> Self {
        crate::StoreContext(store.as_context_mut().0)
    }
}
impl<'a, T> From<&'a mut crate::Store<T>> for crate::StoreContextMut<'a, T> {
    fn from(store: &'a mut crate::Store<T>) -> Self {
        store.as_context_mut()
    }
}
impl<'a, 'b, T> From<&'a crate::Caller<'b, T>> for crate::StoreContext<'a, T> {
    fn from(c: &'a crate::Caller<'b, T>) -> Self {
        c.as_context()
    }
}
impl<'a, 'b, T> From<&'a mut crate::Caller<'b, T>> for crate::StoreContextMut<'a, T> {
    fn from(c: &'a mut crate::Caller<'b, T>) -> Self {
        c.as_context_mut()
    }
}
impl<'a, T> From<crate::StoreContextMut<'a, T>> for crate::StoreContext<'a, T> {
    fn from(c: crate::StoreContextMut<'a, T>) -> Self {
        crate::StoreContext(c.0)
    }
}

/// A table of references.
#[derive(Copy, Clone, Debug)]
pub struct Table {
    store: StoreId,
    pub(crate) id: usize,
}

impl Table {
    /// A new table of type `ty`, filled with `init` (which must match the element type).
    pub fn new(mut store: impl AsContextMut, ty: TableType, init: Val) -> Result<Table> {
        let store = &mut store.as_context_mut().0.opaque;
        store
            .engine
            .types()
            .check_host_val_type(ValType::Ref(ty.element))?;
        let init = table_raw(store, ty.element, &init)?;
        store.runtime.check_new_tables(&[ty])?;
        let id = store.runtime.add_table(RtTable::new(ty, init)?);
        Ok(Table {
            store: store.id,
            id,
        })
    }

    pub(crate) fn id_in(&self, store: &StoreOpaque) -> Result<usize> {
        store.check(self.store)?;
        Ok(self.id)
    }

    pub fn ty(&self, store: impl AsContext) -> TableType {
        let store = store.as_context();
        store.0.opaque.runtime.tables[self.id].ty()
    }

    /// The number of elements (a 64-bit table's as well as a 32-bit one's).
    pub fn size(&self, store: impl AsContext) -> u64 {
        let store = store.as_context();
        store.0.opaque.runtime.tables[self.id].len()
    }

    pub fn get(&self, mut store: impl AsContextMut, index: u64) -> Option<Val> {
        let store = &mut store.as_context_mut().0.opaque;
        let table = &store.runtime.tables[self.id];
        let raw = table.get(index)?;
        let ty = ValType::Ref(table.element_type());
        Some(Val::from_raw(store, fact_runtime::ValRaw::ptr(raw), ty))
    }

    pub fn set(&self, mut store: impl AsContextMut, index: u64, val: Val) -> Result<()> {
        let store = &mut store.as_context_mut().0.opaque;
        store.check(self.store)?;
        let elem = store.runtime.tables[self.id].element_type();
        let raw = table_raw(store, elem, &val)?;
        if !store.runtime.tables[self.id].set(index, raw) {
            bail!("out of bounds table access");
        }
        Ok(())
    }

    /// Grows by `delta` elements set to `init`, returning the old size.
    pub fn grow(&self, mut store: impl AsContextMut, delta: u64, init: Val) -> Result<u64> {
        let store = &mut store.as_context_mut().0.opaque;
        store.check(self.store)?;
        let elem = store.runtime.tables[self.id].element_type();
        let raw = table_raw(store, elem, &init)?;
        match store.runtime.grow_table(self.id, delta, raw)? {
            Some(old) => Ok(old),
            None => bail!("failed to grow table by {delta}"),
        }
    }
}

fn table_raw(store: &mut StoreOpaque, elem: RefType, val: &Val) -> Result<usize> {
    if !val.matches(store, ValType::Ref(elem))? {
        bail!(
            "value of type {} does not fit a table of {elem}",
            val.describe()
        );
    }
    Ok(val.to_raw(store)?.get_ptr())
}

/// A global variable.
#[derive(Copy, Clone, Debug)]
pub struct Global {
    store: StoreId,
    pub(crate) id: usize,
}

impl Global {
    pub fn new(mut store: impl AsContextMut, ty: GlobalType, val: Val) -> Result<Global> {
        let store = &mut store.as_context_mut().0.opaque;
        store.engine.types().check_host_val_type(ty.content)?;
        if !val.matches(store, ty.content)? {
            bail!(
                "value of type {} does not match the global's type {}",
                val.describe(),
                ty.content
            );
        }
        let raw = val.to_raw(store)?;
        let id = store.runtime.add_global(ty, raw);
        Ok(Global {
            store: store.id,
            id,
        })
    }

    pub(crate) fn id_in(&self, store: &StoreOpaque) -> Result<usize> {
        store.check(self.store)?;
        Ok(self.id)
    }

    pub fn ty(&self, store: impl AsContext) -> GlobalType {
        let store = store.as_context();
        store.0.opaque.runtime.globals[self.id].ty
    }

    pub fn get(&self, mut store: impl AsContextMut) -> Val {
        let store = &mut store.as_context_mut().0.opaque;
        let slot = &store.runtime.globals[self.id];
        let (raw, ty) = (slot.value, slot.ty.content);
        Val::from_raw(store, raw, ty)
    }

    pub fn set(&self, mut store: impl AsContextMut, val: Val) -> Result<()> {
        let store = &mut store.as_context_mut().0.opaque;
        store.check(self.store)?;
        let ty = store.runtime.globals[self.id].ty;
        if !ty.mutable {
            bail!("immutable global cannot be set");
        }
        if !val.matches(store, ty.content)? {
            bail!(
                "value of type {} does not match the global's type {}",
                val.describe(),
                ty.content
            );
        }
        let raw = val.to_raw(store)?;
        store.runtime.set_global_value(self.id, raw);
        Ok(())
    }
}
