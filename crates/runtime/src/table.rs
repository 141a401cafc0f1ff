//! Tables of references: funcrefs (`*const VMFuncRef`, 0 is null) and externrefs (store
//! handles, 0 is null).

use crate::vmcontext::VMTableDefinition;
use fact_environ::{RefType, TableType};

/// A table. Always boxed: compiled code holds pointers to its definition.
pub struct Table {
    def: VMTableDefinition,
    elements: Vec<usize>,
    ty: TableType,
}

// SAFETY: owned by one store and only used through it.
unsafe impl Send for Table {}

impl Table {
    pub fn new(ty: TableType, init: usize) -> anyhow::Result<Box<Table>> {
        let mut elements = Vec::new();
        usize::try_from(ty.limits.min)
            .ok()
            .and_then(|n| elements.try_reserve_exact(n).ok())
            .ok_or_else(|| {
                anyhow::anyhow!("failed to allocate a table of {} elements", ty.limits.min)
            })?;
        elements.resize(ty.limits.min as usize, init);
        let mut table = Box::new(Table {
            def: VMTableDefinition {
                base: std::ptr::null_mut(),
                current_elements: 0,
            },
            elements,
            ty,
        });
        table.sync();
        Ok(table)
    }

    fn sync(&mut self) {
        self.def.base = self.elements.as_mut_ptr();
        self.def.current_elements = self.elements.len() as u64;
    }

    pub fn element_type(&self) -> RefType {
        self.ty.element
    }

    pub fn ty(&self) -> TableType {
        let mut ty = self.ty;
        ty.limits.min = self.elements.len() as u64;
        ty
    }

    pub fn definition(&mut self) -> *mut VMTableDefinition {
        &mut self.def
    }

    pub fn len(&self) -> u64 {
        self.elements.len() as u64
    }

    pub fn is_empty(&self) -> bool {
        self.elements.is_empty()
    }

    pub fn get(&self, i: u64) -> Option<usize> {
        self.elements.get(usize::try_from(i).ok()?).copied()
    }

    pub fn set(&mut self, i: u64, v: usize) -> bool {
        let Ok(i) = usize::try_from(i) else {
            return false;
        };
        match self.elements.get_mut(i) {
            Some(e) => {
                *e = v;
                true
            }
            None => false,
        }
    }

    pub fn elements(&self) -> &[usize] {
        &self.elements
    }

    /// Grows by `delta` elements set to `init`; returns the old size or `None`.
    pub fn grow(&mut self, delta: u64, init: usize) -> Option<u64> {
        let old = self.elements.len() as u64;
        let new = old.checked_add(delta)?;
        // Without a declared maximum, the index type's range is the limit (and the
        // allocation, and the embedder's resource limiter).
        let index_max = if self.ty.table64 {
            u64::MAX
        } else {
            u64::from(u32::MAX)
        };
        let max = self.ty.limits.max.unwrap_or(index_max).min(index_max);
        if new > max {
            return None;
        }
        self.elements
            .try_reserve(usize::try_from(delta).ok()?)
            .ok()?;
        self.elements.resize(new as usize, init);
        self.sync();
        Some(old)
    }

    /// `table.fill`: false if out of bounds.
    pub fn fill(&mut self, dst: u64, v: usize, len: u64) -> bool {
        let Some(end) = dst.checked_add(len).filter(|&e| e <= self.len()) else {
            return false;
        };
        self.elements[dst as usize..end as usize].fill(v);
        true
    }

    /// `table.copy` between two tables (which may be the same): false if out of bounds.
    ///
    /// # Safety
    ///
    /// Both pointers must be valid.
    pub unsafe fn copy(dst: *mut Table, src: *const Table, d: u64, s: u64, len: u64) -> bool {
        let (dst_len, src_len) = ((*dst).len(), (*src).len());
        if d.checked_add(len).is_none_or(|e| e > dst_len)
            || s.checked_add(len).is_none_or(|e| e > src_len)
        {
            return false;
        }
        let from = (*src).elements.as_ptr().add(s as usize);
        let to = (*dst).elements.as_mut_ptr().add(d as usize);
        std::ptr::copy(from, to, len as usize);
        true
    }
}
