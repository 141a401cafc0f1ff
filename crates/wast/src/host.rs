//! The `fact` host module that the project's own scripts (`wast-tests/core/`) import, for
//! behaviour the specification's scripts cannot reach: calls that cross host frames, host
//! errors, and epoch interruption.
//!
//! - `call (param funcref)`: calls the function (of type `[] -> []`) from the host;
//! - `fail (param i32)`: returns the host error `host failure N`;
//! - `epoch_deadline (param i64)`: interrupts wasm once the epoch advances N more ticks;
//! - `tick`: advances the engine's epoch by one.

use fact::{AsContextMut, Caller, Func, Linker};

pub fn define(linker: &mut Linker<()>) -> anyhow::Result<()> {
    linker.func_wrap(
        "fact",
        "call",
        |mut caller: Caller<'_, ()>, f: Option<Func>| -> anyhow::Result<()> {
            let f = f.ok_or_else(|| anyhow::anyhow!("fact.call: null function"))?;
            f.call(&mut caller, &[], &mut [])
        },
    )?;
    linker.func_wrap("fact", "fail", |n: i32| -> anyhow::Result<()> {
        anyhow::bail!("host failure {n}")
    })?;
    linker.func_wrap(
        "fact",
        "epoch_deadline",
        |mut caller: Caller<'_, ()>, ticks: i64| {
            caller.as_context_mut().set_epoch_deadline(ticks as u64);
        },
    )?;
    linker.func_wrap("fact", "tick", |caller: Caller<'_, ()>| {
        caller.engine().increment_epoch();
    })?;
    Ok(())
}
