//! The builtins compiled code calls (see `fact_environ::builtins` for the list and the
//! calling convention). Failing builtins record a trap with [`set_pending`] and return a
//! non-zero status; the calling code then raises it.

use crate::exceptions::VMExnObject;
use crate::instance::Instance;
use crate::table::Table;
use crate::traps::{set_pending, Pending};
use fact_environ::builtins::{Builtin, GROW_TRAPPED};
use fact_environ::Trap;

fn fail(trap: Trap) -> u32 {
    set_pending(Pending::Trap(trap));
    1
}

/// Checks that `start..start+len` lies within `0..size`.
fn in_bounds(start: u64, len: u64, size: u64) -> bool {
    start.checked_add(len).is_some_and(|end| end <= size)
}

unsafe extern "C" fn memory_grow(vmctx: *mut u8, mem: u32, delta: u64) -> u64 {
    let instance = Instance::from_vmctx(vmctx);
    let id = instance.memory_id(mem);
    grown(instance.store().grow_memory(id, delta))
}

/// The result of a grow builtin.
fn grown(result: anyhow::Result<Option<u64>>) -> u64 {
    match result {
        Ok(Some(old)) => old,
        Ok(None) => u64::MAX,
        Err(e) => {
            set_pending(Pending::Error(e));
            GROW_TRAPPED as u64
        }
    }
}

unsafe extern "C" fn memory_copy(
    vmctx: *mut u8,
    dst_mem: u32,
    dst: u64,
    src_mem: u32,
    src: u64,
    len: u64,
) -> u32 {
    let instance = Instance::from_vmctx(vmctx);
    let store = instance.store();
    let d = &store.memories[instance.memory_id(dst_mem)];
    let s = &store.memories[instance.memory_id(src_mem)];
    if !in_bounds(dst, len, d.len() as u64) || !in_bounds(src, len, s.len() as u64) {
        return fail(Trap::MemoryOutOfBounds);
    }
    std::ptr::copy(
        s.base().add(src as usize),
        d.base().add(dst as usize),
        len as usize,
    );
    0
}

unsafe extern "C" fn memory_fill(vmctx: *mut u8, mem: u32, dst: u64, val: u32, len: u64) -> u32 {
    let instance = Instance::from_vmctx(vmctx);
    let memory = &instance.store().memories[instance.memory_id(mem)];
    if !in_bounds(dst, len, memory.len() as u64) {
        return fail(Trap::MemoryOutOfBounds);
    }
    std::ptr::write_bytes(memory.base().add(dst as usize), val as u8, len as usize);
    0
}

unsafe extern "C" fn memory_init(
    vmctx: *mut u8,
    mem: u32,
    seg: u32,
    dst: u64,
    src: u32,
    len: u32,
) -> u32 {
    let instance = Instance::from_vmctx(vmctx);
    let module = instance.module().clone();
    let bytes = if instance.dropped_data[seg as usize] {
        &[][..]
    } else {
        module.data_segment(seg as usize)
    };
    let memory = &instance.store().memories[instance.memory_id(mem)];
    let (src, len) = (u64::from(src), u64::from(len));
    if !in_bounds(dst, len, memory.len() as u64) || !in_bounds(src, len, bytes.len() as u64) {
        return fail(Trap::MemoryOutOfBounds);
    }
    std::ptr::copy_nonoverlapping(
        bytes.as_ptr().add(src as usize),
        memory.base().add(dst as usize),
        len as usize,
    );
    0
}

unsafe extern "C" fn data_drop(vmctx: *mut u8, seg: u32) {
    Instance::from_vmctx(vmctx).dropped_data[seg as usize] = true;
}

unsafe extern "C" fn table_grow(vmctx: *mut u8, table: u32, delta: u64, init: usize) -> u64 {
    let instance = Instance::from_vmctx(vmctx);
    let id = instance.table_id(table);
    grown(instance.store().grow_table(id, delta, init))
}

unsafe extern "C" fn table_fill(vmctx: *mut u8, table: u32, dst: u64, val: usize, len: u64) -> u32 {
    let instance = Instance::from_vmctx(vmctx);
    let table = &mut instance.store().tables[instance.table_id(table)];
    if table.fill(dst, val, len) {
        0
    } else {
        fail(Trap::TableOutOfBounds)
    }
}

unsafe extern "C" fn table_copy(
    vmctx: *mut u8,
    dst_table: u32,
    src_table: u32,
    dst: u64,
    src: u64,
    len: u64,
) -> u32 {
    let instance = Instance::from_vmctx(vmctx);
    let store = instance.store();
    let d: *mut Table = &mut *store.tables[instance.table_id(dst_table)];
    let s: *const Table = &*store.tables[instance.table_id(src_table)];
    if Table::copy(d, s, dst, src, len) {
        0
    } else {
        fail(Trap::TableOutOfBounds)
    }
}

unsafe extern "C" fn table_init(
    vmctx: *mut u8,
    table: u32,
    seg: u32,
    dst: u64,
    src: u32,
    len: u32,
) -> u32 {
    let instance = Instance::from_vmctx(vmctx);
    let store = instance.store();
    let values = if instance.dropped_elems[seg as usize] {
        Vec::new()
    } else {
        instance.elem_values(store, seg as usize)
    };
    let table = &mut store.tables[instance.table_id(table)];
    let (src, len) = (u64::from(src), u64::from(len));
    if !in_bounds(dst, len, table.len()) || !in_bounds(src, len, values.len() as u64) {
        drop(values);
        return fail(Trap::TableOutOfBounds);
    }
    for i in 0..len {
        table.set(dst + i, values[(src + i) as usize]);
    }
    0
}

unsafe extern "C" fn elem_drop(vmctx: *mut u8, seg: u32) {
    Instance::from_vmctx(vmctx).dropped_elems[seg as usize] = true;
}

unsafe extern "C" fn uninitialized_element(_vmctx: *mut u8, index: u64) {
    set_pending(Pending::Error(
        anyhow::Error::new(Trap::IndirectCallToNull)
            .context(format!("uninitialized element {index}")),
    ));
}

unsafe extern "C" fn is_subtype(vmctx: *mut u8, actual: u32, expected: u32) -> u32 {
    let types = Instance::from_vmctx(vmctx).module().types();
    u32::from(types.is_subtype(actual, expected))
}

unsafe extern "C" fn host_failed(vmctx: *mut u8) -> *mut VMExnObject {
    let store = Instance::from_vmctx(vmctx).store();
    crate::traps::take_thrown_exception(store.ctx())
}

unsafe extern "C" fn exn_free(vmctx: *mut u8, exn: *mut VMExnObject) {
    Instance::from_vmctx(vmctx).store().exceptions.release(exn);
}

// The throwing builtins are entered through stubs that pass the calling frame.
use crate::exceptions::{fact_throw_ref_stub as throw_ref, fact_throw_stub as throw};

struct BuiltinTable([*const u8; Builtin::ALL.len()]);
// SAFETY: a table of function addresses, never written.
unsafe impl Sync for BuiltinTable {}

/// Builds the builtin table from the functions above, named like the [`Builtin`]s, and
/// checks at compile time that each sits at its builtin's index.
macro_rules! builtin_table {
    ($($name:ident),* $(,)?) => {
        static BUILTINS: BuiltinTable = BuiltinTable([$($name as *const u8),*]);
        const _: () = {
            let order = [$(Builtin::$name),*];
            assert!(order.len() == Builtin::ALL.len(), "every builtin must be in the table");
            let mut i = 0;
            while i < order.len() {
                assert!(order[i] as usize == i, "builtins must be listed in `Builtin` order");
                i += 1;
            }
        };
    };
}

builtin_table![
    memory_grow,
    memory_copy,
    memory_fill,
    memory_init,
    data_drop,
    table_grow,
    table_fill,
    table_copy,
    table_init,
    elem_drop,
    uninitialized_element,
    is_subtype,
    throw,
    throw_ref,
    host_failed,
    exn_free,
];

/// The builtin table, in [`Builtin`] order.
pub fn builtins_table() -> *const *const u8 {
    BUILTINS.0.as_ptr()
}
