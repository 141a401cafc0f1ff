//! The layout of the runtime's data structures that compiled code reads and writes. This is
//! the one place that computes them: the code generator emits loads at these offsets and the
//! runtime's `#[repr(C)]` structs are checked against them.
//!
//! fact supports 64-bit hosts only, so every pointer is 8 bytes.

use crate::module::ModuleInfo;

/// The size of a pointer on every supported host.
pub const PTR: u32 = 8;

/// Offsets of the fixed header of every instance's `VMContext`.
pub mod vmctx {
    /// A magic number identifying a core instance's vmctx (`VMCTX_MAGIC`).
    pub const MAGIC: u32 = 0;
    /// `*mut VMStoreContext`: the store's shared runtime state.
    pub const STORE_CTX: u32 = 8;
    /// `*const [*const u8; N]`: the builtin functions (see [`crate::builtins`]).
    pub const BUILTINS: u32 = 16;
    /// `*const u32`: the engine-wide signature id of each module type index.
    pub const TYPE_IDS: u32 = 24;
    /// `*const u64`: the engine's epoch counter.
    pub const EPOCH_PTR: u32 = 32;
    /// `*mut Instance`: the runtime's instance object.
    pub const INSTANCE: u32 = 40;
    /// Start of the variable-sized part.
    pub const HEADER_SIZE: u32 = 48;
}

/// The magic number at offset 0 of a core instance's vmctx ("vmct").
pub const VMCTX_MAGIC: u32 = u32::from_le_bytes(*b"vmct");
/// The magic number at offset 0 of a host function's context ("host").
pub const HOST_CTX_MAGIC: u32 = u32::from_le_bytes(*b"host");

/// `VMStoreContext`: per-store state shared by all instances of a store.
pub mod store_ctx {
    /// `usize`: the lowest address the wasm stack may grow to.
    pub const STACK_LIMIT: u32 = 0;
    /// `i64`: fuel consumed, counting up towards zero from minus the fuel available.
    pub const FUEL_CONSUMED: u32 = 8;
    /// `u64`: the epoch at which wasm code traps with `interrupt`.
    pub const EPOCH_DEADLINE: u32 = 16;
    /// `usize`: frame pointer of the last wasm frame that called out to the host.
    pub const LAST_EXIT_FP: u32 = 24;
    /// `usize`: the return address into that frame.
    pub const LAST_EXIT_PC: u32 = 32;
    /// `usize`: frame pointer of the innermost host→wasm entry trampoline.
    pub const LAST_ENTRY_FP: u32 = 40;
    /// `u32`: the trap code a builtin asks the code to raise.
    pub const PENDING_TRAP: u32 = 48;
    /// `*mut VMExnObject`: the exception that last left wasm uncaught.
    pub const PENDING_EXCEPTION: u32 = 56;
    pub const SIZE: u32 = 64;
}

/// `VMFuncRef`: what a `funcref` points to.
pub mod func_ref {
    /// `*const u8`: the function's code, callable with the wasm calling convention.
    pub const WASM_CALL: u32 = 0;
    /// `*const u8`: the entry trampoline for calls from the host (array of raw values).
    pub const ARRAY_CALL: u32 = 8;
    /// `*mut u8`: the callee's vmctx (or host function context).
    pub const VMCTX: u32 = 16;
    /// `u32`: the engine-wide signature id.
    pub const TYPE_ID: u32 = 24;
    pub const SIZE: u32 = 32;
}

/// `VMMemoryDefinition`.
pub mod memory_def {
    /// `*mut u8`: the base address; it never moves.
    pub const BASE: u32 = 0;
    /// `usize`: the current size in bytes.
    pub const LENGTH: u32 = 8;
    pub const SIZE: u32 = 16;
}

/// `VMTableDefinition`.
pub mod table_def {
    /// `*mut usize`: the elements; moves when the table grows.
    pub const BASE: u32 = 0;
    /// `u64`: the current number of elements.
    pub const LENGTH: u32 = 8;
    pub const SIZE: u32 = 16;
    /// The size of one element (a funcref pointer or an externref handle).
    pub const ELEMENT_SIZE: u32 = 8;
}

/// `VMExnObject`: an exception object; an `exnref` is a pointer to one.
pub mod exn_obj {
    /// `*const VMTag`: the exception's tag (its identity).
    pub const TAG: u32 = 0;
    /// `*const ValRaw`: the payload, one raw value per tag parameter.
    pub const VALUES: u32 = 8;
    /// `u8`: non-zero once an `exnref` to the object has been handed out.
    pub const ESCAPED: u32 = 24;
}

/// `VMGlobalDefinition`: 16 bytes of storage, large enough for a `v128`.
pub const GLOBAL_SIZE: u32 = 16;

/// `VMHostFuncContext`: the "vmctx" of a host function.
pub mod host_ctx {
    /// `u32`: [`super::HOST_CTX_MAGIC`].
    pub const MAGIC: u32 = 0;
    /// `*mut VMStoreContext`, at the same offset as in a vmctx.
    pub const STORE_CTX: u32 = 8;
    /// `extern "C" fn(ctx, caller_vmctx, values: *mut ValRaw, len: usize) -> bool`.
    pub const HOST_CALL: u32 = 16;
}

/// The size of one raw value in the arrays that trampolines use.
pub const VAL_RAW_SIZE: u32 = 16;

/// The layout of the variable part of a module's vmctx.
#[derive(Clone, Debug)]
pub struct VMOffsets {
    pub num_memories: u32,
    pub num_tables: u32,
    pub num_globals: u32,
    pub num_func_refs: u32,
    pub num_tags: u32,
    memories: u32,
    tables: u32,
    globals: u32,
    func_refs: u32,
    tags: u32,
    size: u32,
}

impl VMOffsets {
    pub fn new(module: &ModuleInfo) -> VMOffsets {
        Self::from_counts(
            module.memories.len() as u32,
            module.tables.len() as u32,
            module.globals.len() as u32,
            module.num_func_refs,
            module.tags.len() as u32,
        )
    }

    pub fn from_counts(
        num_memories: u32,
        num_tables: u32,
        num_globals: u32,
        num_func_refs: u32,
        num_tags: u32,
    ) -> VMOffsets {
        let memories = vmctx::HEADER_SIZE;
        let tables = memories + num_memories * PTR;
        let globals = tables + num_tables * PTR;
        let func_refs = globals + num_globals * PTR;
        let tags = func_refs + num_func_refs * func_ref::SIZE;
        let size = tags + num_tags * PTR;
        VMOffsets {
            num_memories,
            num_tables,
            num_globals,
            num_func_refs,
            memories,
            tables,
            globals,
            func_refs,
            num_tags,
            tags,
            size,
        }
    }

    /// Offset of the `*mut VMMemoryDefinition` of memory `i`.
    pub fn memory(&self, i: u32) -> u32 {
        debug_assert!(i < self.num_memories);
        self.memories + i * PTR
    }

    /// Offset of the `*mut VMTableDefinition` of table `i`.
    pub fn table(&self, i: u32) -> u32 {
        debug_assert!(i < self.num_tables);
        self.tables + i * PTR
    }

    /// Offset of the `*mut VMGlobalDefinition` of global `i`.
    pub fn global(&self, i: u32) -> u32 {
        debug_assert!(i < self.num_globals);
        self.globals + i * PTR
    }

    /// Offset of the `VMFuncRef` in slot `slot`.
    pub fn func_ref(&self, slot: u32) -> u32 {
        debug_assert!(slot < self.num_func_refs);
        self.func_refs + slot * func_ref::SIZE
    }

    /// Offset of the `*const VMTag` of tag `i` (its address is the tag's identity).
    pub fn tag(&self, i: u32) -> u32 {
        debug_assert!(i < self.num_tags);
        self.tags + i * PTR
    }

    /// The total size of the vmctx in bytes.
    pub fn size(&self) -> u32 {
        self.size
    }
}
