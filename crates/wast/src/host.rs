//! The `fact` host module that the project's own scripts (`wast-tests/core/`) import, for
//! behaviour the specification's scripts cannot reach: calls that cross host frames, host
//! errors, and epoch interruption.
//!
//! - `call (param funcref)`: calls the function (of type `[] -> []`) from the host;
//! - `fail (param i32)`: returns the host error `host failure N`;
//! - `epoch_deadline (param i64)`: interrupts wasm once the epoch advances N more ticks;
//! - `tick`: advances the engine's epoch by one;
//! - `tag`: a host-defined exception tag `(param i32)`;
//! - `throw (param i32)`: throws an exception of `tag` with the value into its caller;
//! - `catch (param funcref) (result i32)`: calls the function (`[] -> []`) from the host
//!   and catches an exception of `tag` that it throws: returns the exception's value, or
//!   -1 if the function returned normally (any other exception or error propagates).

use fact::{AsContextMut, Caller, ExnRef, Func, FuncType, Linker, Store, Tag, Val, ValType};

pub fn define(linker: &mut Linker<()>, store: &mut Store<()>) -> anyhow::Result<()> {
    let tag = Tag::new(&mut *store, &FuncType::new([ValType::I32], []))?;
    linker.define("fact", "tag", tag)?;
    linker.func_wrap(
        "fact",
        "throw",
        move |mut caller: Caller<'_, ()>, n: i32| -> anyhow::Result<()> {
            let exn = ExnRef::new(&mut caller, &tag, &[Val::I32(n)])?;
            Ok(caller.throw(exn)?)
        },
    )?;
    linker.func_wrap(
        "fact",
        "catch",
        move |mut caller: Caller<'_, ()>, f: Option<Func>| -> anyhow::Result<i32> {
            let f = f.ok_or_else(|| anyhow::anyhow!("fact.catch: null function"))?;
            let Err(error) = f.call(&mut caller, &[], &mut []) else {
                return Ok(-1);
            };
            if !error.is::<fact::ThrownException>() {
                return Err(error);
            }
            let exn = caller
                .take_pending_exception()
                .ok_or_else(|| anyhow::anyhow!("fact.catch: the exception is gone"))?;
            if !Tag::eq(&exn.tag(&caller)?, &tag, &caller) {
                // Not ours: rethrow it.
                return Ok(caller.throw(exn)?);
            }
            match exn.fields(&mut caller)?[..] {
                [Val::I32(n)] => Ok(n),
                _ => anyhow::bail!("fact.catch: the exception's payload is not one i32"),
            }
        },
    )?;
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
