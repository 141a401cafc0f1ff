//! Linear memories as the translator sees them: where an access goes and how it is kept
//! inside the memory.
//!
//! Every memory's base address is fixed for its whole life (the runtime reserves the
//! address space up front), so the base is a `readonly` load that Cranelift hoists. An
//! access at `index + offset` of `size` bytes is safe without a check when the memory's
//! reservation covers every address it can form — a 32-bit index and a small offset with
//! guard pages, where anything past the current length faults on an unmapped page and the
//! fault becomes a trap. Otherwise the access is compared with the current length first.
//! The index type is part of the heap, so 64-bit memories (memory64) take the same path
//! with the overflow check their wider indices need.

use super::env::{readonly, trusted};
use super::Translator;
use cranelift_codegen::ir::{self, condcodes::IntCC, types, InstBuilder, TrapCode};
use fact_environ::vmoffsets::memory_def;

/// How the accesses of one memory are kept in bounds.
#[derive(Copy, Clone, Debug)]
pub(crate) enum Bounds {
    /// Every address from the base up to `base + covered` either is inside the memory or
    /// faults; accesses whose end cannot pass that need no check.
    Reserved { covered: u64 },
    /// Every access is compared with the current length.
    Checked,
}

/// One linear memory, as its accesses are compiled.
#[derive(Copy, Clone, Debug)]
pub(crate) struct Heap {
    pub(crate) memory: u32,
    /// The type of addresses: `i32`, or `i64` for a 64-bit memory.
    pub(crate) index_type: ir::Type,
    pub(crate) bounds: Bounds,
}

impl Heap {
    /// The largest index the heap's index type can express, as a byte count.
    fn max_index(&self) -> u64 {
        if self.index_type == types::I32 {
            u64::from(u32::MAX)
        } else {
            u64::MAX
        }
    }

    /// Whether an access of `size` bytes at `offset` from any index needs a check.
    fn needs_check(&self, offset: u64, size: u32) -> bool {
        match self.bounds {
            Bounds::Checked => true,
            Bounds::Reserved { covered } => {
                let end = u128::from(self.max_index()) + u128::from(offset) + u128::from(size);
                end > u128::from(covered)
            }
        }
    }
}

impl Translator<'_, '_> {
    /// The heap of memory `memory`.
    pub(crate) fn heap(&self, memory: u32) -> Heap {
        let tunables = self.env.tunables();
        let memory64 = self.module().memories[memory as usize].memory64;
        // 32-bit memories reserve 4 GiB plus the guard region when guard pages are on; no
        // reservation covers what a 64-bit index can reach.
        let bounds = if tunables.guard_pages && !memory64 {
            Bounds::Reserved {
                covered: tunables.memory_reservation(),
            }
        } else {
            Bounds::Checked
        };
        Heap {
            memory,
            index_type: if memory64 { types::I64 } else { types::I32 },
            bounds,
        }
    }

    /// The `*mut VMMemoryDefinition` of `memory`.
    pub(crate) fn memory_def(&mut self, memory: u32) -> ir::Value {
        let offset = self.env.offsets().memory(memory);
        self.env.vmctx_ptr(&mut self.b, self.vmctx, offset)
    }

    /// The current length of `memory` in bytes (pointer-sized).
    pub(crate) fn memory_length(&mut self, memory: u32) -> ir::Value {
        let def = self.memory_def(memory);
        let ptr = self.env.pointer_type();
        self.b
            .ins()
            .load(ptr, trusted(), def, memory_def::LENGTH as i32)
    }

    /// An index of `heap`'s index type as a pointer-sized byte offset.
    pub(crate) fn index_to_offset(&mut self, heap: &Heap, index: ir::Value) -> ir::Value {
        if heap.index_type == types::I32 {
            let ptr = self.env.pointer_type();
            self.b.ins().uextend(ptr, index)
        } else {
            index
        }
    }

    /// The native address of an access of `size` bytes at `index + offset` in `heap`, as
    /// an address and an immediate offset to put in the load or store. Where the heap's
    /// bounds need a check, it traps with `out of bounds memory access` here; where the
    /// reservation covers the access, an access past the memory's length faults on a
    /// guard page, which becomes the same trap.
    pub(crate) fn heap_address(
        &mut self,
        heap: &Heap,
        index: ir::Value,
        offset: u64,
        size: u32,
    ) -> (ir::Value, i32) {
        let index = self.index_to_offset(heap, index);
        if heap.needs_check(offset, size) {
            let length = self.memory_length(heap.memory);
            let access = offset.saturating_add(u64::from(size));
            let end = if heap.index_type == types::I32 {
                // At most 2^32 - 1 + 2^32 - 1 + 16: no overflow in 64 bits.
                self.b.ins().iadd_imm_u(index, access as i64)
            } else {
                let access = self.b.ins().iconst(types::I64, access as i64);
                self.b
                    .ins()
                    .uadd_overflow_trap(index, access, TrapCode::HEAP_OUT_OF_BOUNDS)
            };
            let oob = self.b.ins().icmp(IntCC::UnsignedGreaterThan, end, length);
            self.b.ins().trapnz(oob, TrapCode::HEAP_OUT_OF_BOUNDS);
        }
        let def = self.memory_def(heap.memory);
        let ptr = self.env.pointer_type();
        let base = self
            .b
            .ins()
            .load(ptr, readonly(), def, memory_def::BASE as i32);
        let addr = self.b.ins().iadd(base, index);
        match i32::try_from(offset) {
            Ok(imm) => (addr, imm),
            Err(_) => (self.b.ins().iadd_imm_u(addr, offset as i64), 0),
        }
    }
}
