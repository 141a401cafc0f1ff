//! Handle tables: each component instance's table of resource handles (the canonical ABI's
//! `HandleTable`). Index 0 is never used; freed slots are reused most recently freed first;
//! every access checks the handle's resource type.

use fact_environ::Trap;

/// The largest index a table hands out (the top four bits stay clear).
pub const MAX_HANDLES: u32 = (1 << 28) - 1;

/// A runtime resource type: unique within a store. Ids of host-defined resources have
/// [`HOST_RESOURCE`] set.
pub type ResourceTypeId = u32;

/// The bit of a [`ResourceTypeId`] that marks a host-defined resource.
pub const HOST_RESOURCE: u32 = 1 << 31;

/// `host-defined` or `guest-defined`, for messages.
fn definer(ty: ResourceTypeId) -> &'static str {
    if ty & HOST_RESOURCE != 0 {
        "host-defined"
    } else {
        "guest-defined"
    }
}

/// One handle.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Handle {
    Own {
        ty: ResourceTypeId,
        rep: u32,
        /// Borrows lent out of this handle and not yet ended.
        lends: u32,
    },
    Borrow {
        ty: ResourceTypeId,
        rep: u32,
        /// The call (scope) that received the borrow.
        scope: u32,
    },
}

impl Handle {
    pub fn ty(&self) -> ResourceTypeId {
        match self {
            Handle::Own { ty, .. } | Handle::Borrow { ty, .. } => *ty,
        }
    }

    pub fn rep(&self) -> u32 {
        match self {
            Handle::Own { rep, .. } | Handle::Borrow { rep, .. } => *rep,
        }
    }
}

/// An error of a handle operation: the trap and a precise message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HandleError {
    pub trap: Trap,
    pub message: String,
}

impl HandleError {
    fn new(trap: Trap, message: String) -> HandleError {
        HandleError { trap, message }
    }
}

impl std::fmt::Display for HandleError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for HandleError {}

#[derive(Clone, Debug, Default)]
pub struct HandleTable {
    slots: Vec<Option<Handle>>,
    free: Vec<u32>,
}

impl HandleTable {
    pub fn new() -> HandleTable {
        HandleTable {
            slots: vec![None],
            free: Vec::new(),
        }
    }

    pub fn insert(&mut self, h: Handle) -> Result<u32, HandleError> {
        if let Some(i) = self.free.pop() {
            self.slots[i as usize] = Some(h);
            return Ok(i);
        }
        let i = self.slots.len() as u32;
        if i > MAX_HANDLES {
            return Err(HandleError::new(
                Trap::UnknownHandle,
                "handle table is full".into(),
            ));
        }
        self.slots.push(Some(h));
        Ok(i)
    }

    fn unknown(i: u32) -> HandleError {
        HandleError::new(Trap::UnknownHandle, format!("unknown handle index {i}"))
    }

    /// The handle at `i`, checked against the expected resource type.
    pub fn get(&self, i: u32, ty: ResourceTypeId) -> Result<Handle, HandleError> {
        let h = self
            .slots
            .get(i as usize)
            .copied()
            .flatten()
            .ok_or_else(|| Self::unknown(i))?;
        if h.ty() != ty {
            let different = if definer(h.ty()) == definer(ty) {
                "a different "
            } else {
                ""
            };
            return Err(HandleError::new(
                Trap::HandleWrongType,
                format!(
                    "handle index {i} used with the wrong type, expected {} resource but found {different}{} resource",
                    definer(ty),
                    definer(h.ty())
                ),
            ));
        }
        Ok(h)
    }

    /// The handle at `i` whatever its type.
    pub fn get_any(&self, i: u32) -> Result<Handle, HandleError> {
        self.slots
            .get(i as usize)
            .copied()
            .flatten()
            .ok_or_else(|| Self::unknown(i))
    }

    pub fn set(&mut self, i: u32, h: Handle) {
        self.slots[i as usize] = Some(h);
    }

    /// Removes an `own` handle (to drop it or move it out); fails while it is lent.
    pub fn remove_own(&mut self, i: u32, ty: ResourceTypeId) -> Result<Handle, HandleError> {
        let h = self.get(i, ty)?;
        match h {
            Handle::Own { lends, .. } if lends > 0 => Err(HandleError::new(
                Trap::ResourceBorrowed,
                "cannot remove owned resource while borrowed".into(),
            )),
            Handle::Own { .. } => Ok(self.take(i)),
            Handle::Borrow { .. } => Err(HandleError::new(
                Trap::HandleWrongType,
                format!("handle index {i} is a borrow, not an own handle"),
            )),
        }
    }

    /// Removes a `borrow` handle.
    pub fn remove_borrow(&mut self, i: u32, ty: ResourceTypeId) -> Result<Handle, HandleError> {
        let h = self.get(i, ty)?;
        match h {
            Handle::Borrow { .. } => Ok(self.take(i)),
            Handle::Own { .. } => Err(HandleError::new(
                Trap::HandleWrongType,
                format!("handle index {i} is an own handle, not a borrow"),
            )),
        }
    }

    /// Removes whatever handle is at `i` (for `resource.drop`).
    pub fn remove(&mut self, i: u32, ty: ResourceTypeId) -> Result<Handle, HandleError> {
        match self.get(i, ty)? {
            Handle::Own { .. } => self.remove_own(i, ty),
            Handle::Borrow { .. } => self.remove_borrow(i, ty),
        }
    }

    fn take(&mut self, i: u32) -> Handle {
        let h = self.slots[i as usize].take().expect("checked");
        self.free.push(i);
        h
    }

    /// Adjusts the lend count of the `own` handle at `i`.
    pub fn lend(&mut self, i: u32, delta: i32) {
        if let Some(Some(Handle::Own { lends, .. })) = self.slots.get_mut(i as usize) {
            *lends = lends.saturating_add_signed(delta);
        }
    }

    /// Borrows of `scope` still in the table.
    pub fn borrows_in_scope(&self, scope: u32) -> usize {
        self.slots
            .iter()
            .flatten()
            .filter(|h| matches!(h, Handle::Borrow { scope: s, .. } if *s == scope))
            .count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indices_start_at_one_and_reuse_most_recent_first() {
        let mut t = HandleTable::new();
        let own = |rep| Handle::Own {
            ty: 7,
            rep,
            lends: 0,
        };
        assert_eq!(t.insert(own(10)).unwrap(), 1);
        assert_eq!(t.insert(own(11)).unwrap(), 2);
        assert_eq!(t.insert(own(12)).unwrap(), 3);
        t.remove_own(1, 7).unwrap();
        t.remove_own(3, 7).unwrap();
        assert_eq!(t.insert(own(13)).unwrap(), 3);
        assert_eq!(t.insert(own(14)).unwrap(), 1);
        assert_eq!(t.get(0, 7).unwrap_err().message, "unknown handle index 0");
        assert_eq!(t.get(9, 7).unwrap_err().trap, Trap::UnknownHandle);
        assert_eq!(t.get(2, 8).unwrap_err().trap, Trap::HandleWrongType);
    }

    #[test]
    fn lent_handles_cannot_be_removed() {
        let mut t = HandleTable::new();
        let i = t
            .insert(Handle::Own {
                ty: 1,
                rep: 5,
                lends: 0,
            })
            .unwrap();
        t.lend(i, 1);
        assert_eq!(
            t.remove_own(i, 1).unwrap_err().message,
            "cannot remove owned resource while borrowed"
        );
        t.lend(i, -1);
        assert_eq!(t.remove_own(i, 1).unwrap().rep(), 5);
        let b = t
            .insert(Handle::Borrow {
                ty: 1,
                rep: 5,
                scope: 3,
            })
            .unwrap();
        assert_eq!(t.borrows_in_scope(3), 1);
        assert!(t.remove_own(b, 1).is_err());
        t.remove_borrow(b, 1).unwrap();
        assert_eq!(t.borrows_in_scope(3), 0);
    }
}
