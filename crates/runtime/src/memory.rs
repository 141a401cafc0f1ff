//! Linear memories: address space reserved once (so the base never moves), pages made
//! accessible as the memory grows. With guard pages a 32-bit memory's reservation covers
//! 4 GiB plus a guard region, so compiled code needs no bounds checks. A 64-bit memory
//! reserves its maximum, up to [`MEMORY64_RESERVATION`]: it can grow no further (the spec
//! allows `memory.grow` to fail), and its accesses are always checked.

use crate::vmcontext::VMMemoryDefinition;
use anyhow::{Context, Result};
use fact_environ::{MemoryType, Tunables, WASM_PAGE_SIZE};

/// The address space a 64-bit memory reserves when its maximum is larger or absent, and so
/// the most it can grow to.
pub const MEMORY64_RESERVATION: u64 = 8 << 30;

/// A linear memory. Always boxed: compiled code holds pointers to its definition.
pub struct LinearMemory {
    def: VMMemoryDefinition,
    reservation: usize,
    ty: MemoryType,
    max_pages: u64,
}

// SAFETY: the memory is owned by one store and only used through it.
unsafe impl Send for LinearMemory {}

impl LinearMemory {
    pub fn new(ty: MemoryType, tunables: &Tunables) -> Result<Box<LinearMemory>> {
        let max_pages = ty.limits.max.unwrap_or(u64::MAX).min(ty.max_pages());
        if ty.limits.min > max_pages {
            anyhow::bail!("memory minimum size exceeds its maximum");
        }
        let page = rustix::param::page_size() as u64;
        let reservation = if ty.memory64 {
            max_pages
                .saturating_mul(WASM_PAGE_SIZE)
                .min(MEMORY64_RESERVATION)
                .max(page)
        } else if tunables.guard_pages {
            tunables.memory_reservation()
        } else {
            (max_pages * WASM_PAGE_SIZE).max(page)
        } as usize;
        if ty.limits.min.saturating_mul(WASM_PAGE_SIZE) > reservation as u64 {
            anyhow::bail!(
                "a memory of {} pages is larger than fact reserves for a 64-bit memory ({} GiB)",
                ty.limits.min,
                MEMORY64_RESERVATION >> 30
            );
        }
        // SAFETY: a fresh anonymous mapping that nothing else refers to.
        let base = unsafe {
            rustix::mm::mmap_anonymous(
                std::ptr::null_mut(),
                reservation,
                rustix::mm::ProtFlags::empty(),
                rustix::mm::MapFlags::PRIVATE | rustix::mm::MapFlags::NORESERVE,
            )
        }
        .context("failed to reserve address space for a linear memory")?;
        let mut memory = Box::new(LinearMemory {
            def: VMMemoryDefinition {
                base: base as *mut u8,
                current_length: 0,
            },
            reservation,
            ty,
            max_pages,
        });
        memory
            .grow(ty.limits.min)
            .context("failed to allocate the initial pages of a linear memory")?;
        Ok(memory)
    }

    pub fn ty(&self) -> MemoryType {
        MemoryType {
            limits: fact_environ::Limits {
                min: self.pages(),
                max: self.ty.limits.max,
            },
            memory64: self.ty.memory64,
        }
    }

    /// The current size in pages.
    pub fn pages(&self) -> u64 {
        self.def.current_length as u64 / WASM_PAGE_SIZE
    }

    /// The current size in bytes.
    pub fn len(&self) -> usize {
        self.def.current_length
    }

    pub fn is_empty(&self) -> bool {
        self.def.current_length == 0
    }

    pub fn base(&self) -> *mut u8 {
        self.def.base
    }

    /// The definition that compiled code reads.
    pub fn definition(&mut self) -> *mut VMMemoryDefinition {
        &mut self.def
    }

    /// Grows by `delta` pages, returning the old size in pages, or `None` if the memory
    /// cannot grow that much.
    pub fn grow(&mut self, delta: u64) -> Option<u64> {
        let old = self.pages();
        let new = old.checked_add(delta)?;
        if new > self.max_pages {
            return None;
        }
        let new_len = usize::try_from(new * WASM_PAGE_SIZE).ok()?;
        if new_len > self.reservation {
            return None;
        }
        if new_len > self.def.current_length {
            // SAFETY: the range is inside our reservation.
            unsafe {
                rustix::mm::mprotect(
                    self.def.base.add(self.def.current_length) as *mut _,
                    new_len - self.def.current_length,
                    rustix::mm::MprotectFlags::READ | rustix::mm::MprotectFlags::WRITE,
                )
            }
            .ok()?;
        }
        self.def.current_length = new_len;
        Some(old)
    }

    /// The memory's bytes.
    pub fn data(&self) -> &[u8] {
        // SAFETY: the accessible range is `base..base + current_length`.
        unsafe { std::slice::from_raw_parts(self.def.base, self.def.current_length) }
    }

    pub fn data_mut(&mut self) -> &mut [u8] {
        // SAFETY: as above, and we have exclusive access.
        unsafe { std::slice::from_raw_parts_mut(self.def.base, self.def.current_length) }
    }
}

impl Drop for LinearMemory {
    fn drop(&mut self) {
        // SAFETY: we own the reservation.
        unsafe {
            let _ = rustix::mm::munmap(self.def.base as *mut _, self.reservation);
        }
    }
}
