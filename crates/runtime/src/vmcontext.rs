//! The runtime's `#[repr(C)]` structures that compiled code reads, checked against the
//! offsets in `fact_environ::vmoffsets`.

use fact_environ::vmoffsets::{func_ref, host_ctx, memory_def, store_ctx, table_def};
use std::mem::offset_of;

/// Per-store state read by compiled code (see `vmoffsets::store_ctx`).
#[repr(C)]
#[derive(Debug)]
pub struct VMStoreContext {
    pub stack_limit: usize,
    pub fuel_consumed: i64,
    pub epoch_deadline: u64,
    pub last_exit_fp: usize,
    pub last_exit_pc: usize,
    pub last_entry_fp: usize,
    pub pending_trap: u32,
    /// The exception that last left wasm uncaught, until the host takes it.
    pub pending_exception: *mut crate::exceptions::VMExnObject,
}

impl Default for VMStoreContext {
    fn default() -> Self {
        VMStoreContext {
            stack_limit: usize::MAX,
            fuel_consumed: 0,
            epoch_deadline: u64::MAX,
            last_exit_fp: 0,
            last_exit_pc: 0,
            last_entry_fp: 0,
            pending_trap: 0,
            pending_exception: std::ptr::null_mut(),
        }
    }
}

/// What a `funcref` points to.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct VMFuncRef {
    pub wasm_call: *const u8,
    pub array_call: *const u8,
    pub vmctx: *mut u8,
    pub type_id: u32,
}

impl VMFuncRef {
    pub const NULL: VMFuncRef = VMFuncRef {
        wasm_call: std::ptr::null(),
        array_call: std::ptr::null(),
        vmctx: std::ptr::null_mut(),
        type_id: u32::MAX,
    };
}

/// A linear memory as compiled code sees it.
#[repr(C)]
#[derive(Debug)]
pub struct VMMemoryDefinition {
    pub base: *mut u8,
    pub current_length: usize,
}

/// A table as compiled code sees it.
#[repr(C)]
#[derive(Debug)]
pub struct VMTableDefinition {
    pub base: *mut usize,
    pub current_elements: u64,
}

/// A global's storage.
#[repr(C, align(16))]
#[derive(Debug, Clone, Copy, Default)]
pub struct VMGlobalDefinition {
    pub bytes: [u8; 16],
}

/// One raw value in the arrays of the trampolines: little-endian, zero-extended.
#[repr(C, align(16))]
#[derive(Clone, Copy, Default, PartialEq, Eq)]
pub struct ValRaw([u8; 16]);

impl std::fmt::Debug for ValRaw {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ValRaw({:#x})", self.get_u128())
    }
}

impl ValRaw {
    pub fn from_u128(v: u128) -> ValRaw {
        ValRaw(v.to_le_bytes())
    }
    pub fn i32(v: i32) -> ValRaw {
        ValRaw::from_u128(v as u32 as u128)
    }
    pub fn i64(v: i64) -> ValRaw {
        ValRaw::from_u128(v as u64 as u128)
    }
    pub fn f32(bits: u32) -> ValRaw {
        ValRaw::from_u128(bits as u128)
    }
    pub fn f64(bits: u64) -> ValRaw {
        ValRaw::from_u128(bits as u128)
    }
    pub fn ptr(p: usize) -> ValRaw {
        ValRaw::from_u128(p as u128)
    }
    pub fn get_u128(&self) -> u128 {
        u128::from_le_bytes(self.0)
    }
    pub fn get_i32(&self) -> i32 {
        self.get_u128() as u32 as i32
    }
    pub fn get_i64(&self) -> i64 {
        self.get_u128() as u64 as i64
    }
    pub fn get_f32(&self) -> u32 {
        self.get_u128() as u32
    }
    pub fn get_f64(&self) -> u64 {
        self.get_u128() as u64
    }
    pub fn get_ptr(&self) -> usize {
        self.get_u128() as u64 as usize
    }
}

/// The function a host function's context points to: called by the exit trampoline with
/// the context, the caller's vmctx, and the value array; returns false after recording an
/// error with [`crate::traps::set_pending`] (which may be a
/// [`crate::exceptions::ThrownException`], throwing the store's pending exception).
pub type HostCallFn = unsafe extern "C" fn(
    ctx: *mut VMHostFuncContext,
    caller_vmctx: *mut u8,
    values: *mut ValRaw,
    len: usize,
) -> bool;

/// The header of a host function's context: what the exit trampoline reads.
#[repr(C)]
pub struct VMHostFuncContext {
    pub magic: u32,
    pub store_ctx: *mut VMStoreContext,
    pub host_call: HostCallFn,
    /// The function reference that wasm sees for this host function.
    pub func_ref: VMFuncRef,
}

const _: () = {
    assert!(offset_of!(VMStoreContext, stack_limit) == store_ctx::STACK_LIMIT as usize);
    assert!(offset_of!(VMStoreContext, fuel_consumed) == store_ctx::FUEL_CONSUMED as usize);
    assert!(offset_of!(VMStoreContext, epoch_deadline) == store_ctx::EPOCH_DEADLINE as usize);
    assert!(offset_of!(VMStoreContext, last_exit_fp) == store_ctx::LAST_EXIT_FP as usize);
    assert!(offset_of!(VMStoreContext, last_exit_pc) == store_ctx::LAST_EXIT_PC as usize);
    assert!(offset_of!(VMStoreContext, last_entry_fp) == store_ctx::LAST_ENTRY_FP as usize);
    assert!(offset_of!(VMStoreContext, pending_trap) == store_ctx::PENDING_TRAP as usize);
    assert!(offset_of!(VMStoreContext, pending_exception) == store_ctx::PENDING_EXCEPTION as usize);
    assert!(std::mem::size_of::<VMStoreContext>() == store_ctx::SIZE as usize);
    assert!(offset_of!(VMFuncRef, wasm_call) == func_ref::WASM_CALL as usize);
    assert!(offset_of!(VMFuncRef, array_call) == func_ref::ARRAY_CALL as usize);
    assert!(offset_of!(VMFuncRef, vmctx) == func_ref::VMCTX as usize);
    assert!(offset_of!(VMFuncRef, type_id) == func_ref::TYPE_ID as usize);
    assert!(std::mem::size_of::<VMFuncRef>() == func_ref::SIZE as usize);
    assert!(offset_of!(VMMemoryDefinition, base) == memory_def::BASE as usize);
    assert!(offset_of!(VMMemoryDefinition, current_length) == memory_def::LENGTH as usize);
    assert!(offset_of!(VMTableDefinition, base) == table_def::BASE as usize);
    assert!(offset_of!(VMTableDefinition, current_elements) == table_def::LENGTH as usize);
    assert!(offset_of!(VMHostFuncContext, magic) == host_ctx::MAGIC as usize);
    assert!(offset_of!(VMHostFuncContext, store_ctx) == host_ctx::STORE_CTX as usize);
    assert!(offset_of!(VMHostFuncContext, host_call) == host_ctx::HOST_CALL as usize);
    assert!(std::mem::size_of::<ValRaw>() == fact_environ::vmoffsets::VAL_RAW_SIZE as usize);
};
