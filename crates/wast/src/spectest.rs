//! The `spectest` module that the core test suite imports.

use fact::{
    Global, GlobalType, Linker, Memory, MemoryType, RefType, Store, Table, TableType, Val, ValType,
};

/// Defines `spectest` in `linker`: the `print*` functions (which print nothing), the
/// globals (666 in every type), a 10..20 funcref table (and an `i64`-indexed one,
/// `table64`) and a 1..2 page memory.
pub fn define(linker: &mut Linker<()>, store: &mut Store<()>) -> anyhow::Result<()> {
    linker.func_wrap("spectest", "print", || {})?;
    linker.func_wrap("spectest", "print_i32", |_: i32| {})?;
    linker.func_wrap("spectest", "print_i64", |_: i64| {})?;
    linker.func_wrap("spectest", "print_f32", |_: f32| {})?;
    linker.func_wrap("spectest", "print_f64", |_: f64| {})?;
    linker.func_wrap("spectest", "print_i32_f32", |_: i32, _: f32| {})?;
    linker.func_wrap("spectest", "print_f64_f64", |_: f64, _: f64| {})?;

    let global = |store: &mut Store<()>, content, val| {
        Global::new(
            store,
            GlobalType {
                content,
                mutable: false,
            },
            val,
        )
    };
    let g = global(store, ValType::I32, Val::I32(666))?;
    linker.define("spectest", "global_i32", g)?;
    let g = global(store, ValType::I64, Val::I64(666))?;
    linker.define("spectest", "global_i64", g)?;
    let g = global(store, ValType::F32, Val::F32(666.6f32.to_bits()))?;
    linker.define("spectest", "global_f32", g)?;
    let g = global(store, ValType::F64, Val::F64(666.6f64.to_bits()))?;
    linker.define("spectest", "global_f64", g)?;

    let table = Table::new(
        &mut *store,
        TableType::new(RefType::FUNCREF, 10, Some(20)),
        Val::FuncRef(None),
    )?;
    linker.define("spectest", "table", table)?;
    let mut table64 = TableType::new(RefType::FUNCREF, 10, Some(20));
    table64.table64 = true;
    let table64 = Table::new(&mut *store, table64, Val::FuncRef(None))?;
    linker.define("spectest", "table64", table64)?;
    let memory = Memory::new(&mut *store, MemoryType::new(1, Some(2)))?;
    linker.define("spectest", "memory", memory)?;
    Ok(())
}
