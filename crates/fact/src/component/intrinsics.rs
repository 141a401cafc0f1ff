//! Host functions the runtime provides to a component's core instances: the intrinsics
//! that adapter modules import (traps, string transcoding) and the resource builtins
//! (`resource.new`, `resource.rep`, `resource.drop`).

use super::resources::RuntimeResource;
use crate::store::StoreInner;
use crate::{Caller, FuncType, Memory, ValType};
use anyhow::{anyhow, bail, Result};
use fact_environ::component::{CoreDef, Intrinsic, Transcode};
use fact_environ::Trap;
use fact_runtime::component::handles::Handle;
use fact_runtime::component::transcode as tc;
use fact_runtime::ValRaw;
use std::sync::Arc;

/// The host function for intrinsic `i` (created once per component instantiation).
pub(crate) fn intrinsic<T: 'static>(
    store: &mut StoreInner<T>,
    state: usize,
    i: &Intrinsic,
) -> Result<crate::Func> {
    if let Some(f) = store.opaque.components[state].intrinsics.get(i) {
        return Ok(*f);
    }
    let f = match i {
        Intrinsic::Trap => crate::Func::wrap(&mut *store, |code: i32| -> Result<()> {
            let trap = u8::try_from(code)
                .ok()
                .and_then(Trap::from_u8)
                .ok_or_else(|| anyhow!("adapter raised the unknown trap code {code}"))?;
            Err(anyhow::Error::new(trap))
        })?,
        Intrinsic::Transcode { op, from, to } => {
            let memory = |store: &mut StoreInner<T>, e| -> Result<Memory> {
                super::instance::resolve(store, state, &CoreDef::Export(e))?
                    .into_memory()
                    .ok_or_else(|| anyhow!("internal error: transcoding from a non-memory"))
            };
            let from = memory(store, from.clone())?;
            let to = memory(store, to.clone())?;
            transcoder(store, *op, from, to)?
        }
        Intrinsic::TransferOwn { resource, from, to }
        | Intrinsic::TransferBorrow { resource, from, to } => {
            let own = matches!(i, Intrinsic::TransferOwn { .. });
            let (resource, from, to) = (resource.0, from.0, to.0);
            let f = move |caller: Caller<'_, T>, raw: &mut [ValRaw]| -> Result<()> {
                let store = &mut caller.store.opaque;
                let index = raw[0].get_i32() as u32;
                let moved = if own {
                    store.transfer_own(state, resource, from, to, index)?
                } else {
                    store.transfer_borrow(state, resource, from, to, index)?
                };
                raw[0] = ValRaw::i32(moved as i32);
                Ok(())
            };
            let ty = FuncType::new([ValType::I32], [ValType::I32]);
            crate::Func::new_host(store, ty, Arc::new(f))?
        }
        Intrinsic::EnterCall => crate::Func::new_host(
            store,
            FuncType::new([], []),
            Arc::new(|caller: Caller<'_, T>, _: &mut [ValRaw]| {
                caller.store.opaque.push_scope();
                Ok(())
            }),
        )?,
        Intrinsic::ExitCall => crate::Func::new_host(
            store,
            FuncType::new([], []),
            Arc::new(|caller: Caller<'_, T>, _: &mut [ValRaw]| caller.store.opaque.pop_scope()),
        )?,
    };
    store.opaque.components[state]
        .intrinsics
        .insert(i.clone(), f);
    Ok(f)
}

/// The bytes `ptr..ptr + len` of memory `m`, checked.
fn range(
    store: &crate::store::StoreOpaque,
    m: Memory,
    ptr: u32,
    len: u64,
) -> Result<(*mut u8, usize)> {
    let mem = &store.runtime.memories[m.id];
    if u64::from(ptr) + len > mem.len() as u64 {
        return Err(anyhow::Error::new(Trap::StringOutOfBounds));
    }
    // SAFETY: in bounds of the memory.
    Ok((unsafe { mem.base().add(ptr as usize) }, len as usize))
}

/// Runs `f` on the source and destination byte ranges; if both are in the same memory the
/// source is copied first so that the two slices cannot alias.
fn with_ranges<R>(
    store: &crate::store::StoreOpaque,
    (from, src, src_len): (Memory, u32, u64),
    (to, dst, dst_len): (Memory, u32, u64),
    f: impl FnOnce(&[u8], &mut [u8]) -> R,
) -> Result<R> {
    let (s, sl) = range(store, from, src, src_len)?;
    let (d, dl) = range(store, to, dst, dst_len)?;
    // SAFETY: both ranges were checked; distinct memories never overlap, and within one
    // memory the source is copied.
    unsafe {
        let dst = std::slice::from_raw_parts_mut(d, dl);
        if from.id == to.id {
            let copy = std::slice::from_raw_parts(s, sl).to_vec();
            Ok(f(&copy, dst))
        } else {
            Ok(f(std::slice::from_raw_parts(s, sl), dst))
        }
    }
}

fn pack(read: usize, written: usize) -> ValRaw {
    ValRaw::i64(((read as u64) << 32 | written as u64) as i64)
}

fn transcoder<T: 'static>(
    store: &mut StoreInner<T>,
    op: Transcode,
    from: Memory,
    to: Memory,
) -> Result<crate::Func> {
    let (params, results) = op.signature();
    let ty = FuncType::new(params.iter().copied(), results.iter().copied());
    let f = move |caller: Caller<'_, T>, raw: &mut [ValRaw]| -> Result<()> {
        let store = &caller.store.opaque;
        let arg = |i: usize| raw[i].get_i32() as u32;
        let err = |t: Trap| anyhow::Error::new(t);
        match op {
            Transcode::Utf8ToUtf8 => {
                let n = u64::from(arg(1));
                with_ranges(store, (from, arg(0), n), (to, arg(2), n), tc::utf8_to_utf8)?
                    .map_err(err)?
            }
            Transcode::Utf16ToUtf16 => {
                let n = 2 * u64::from(arg(1));
                with_ranges(
                    store,
                    (from, arg(0), n),
                    (to, arg(2), n),
                    tc::utf16_to_utf16,
                )?
                .map_err(err)?
            }
            Transcode::Latin1ToUtf16 => {
                let n = u64::from(arg(1));
                with_ranges(
                    store,
                    (from, arg(0), n),
                    (to, arg(2), 2 * n),
                    tc::latin1_to_utf16,
                )?
            }
            Transcode::Utf8ToUtf16 => {
                let n = u64::from(arg(1));
                let units = with_ranges(
                    store,
                    (from, arg(0), n),
                    (to, arg(2), 2 * n),
                    tc::utf8_to_utf16,
                )?
                .map_err(err)?;
                raw[0] = ValRaw::i32(units as i32);
            }
            Transcode::Utf16ToUtf8 => {
                let (src, units, dst, cap) = (arg(0), u64::from(arg(1)), arg(2), u64::from(arg(3)));
                let (r, w) = with_ranges(
                    store,
                    (from, src, 2 * units),
                    (to, dst, cap),
                    tc::utf16_to_utf8,
                )?
                .map_err(err)?;
                raw[0] = pack(r, w);
            }
            Transcode::Latin1ToUtf8 => {
                let (src, n, dst, cap) = (arg(0), u64::from(arg(1)), arg(2), u64::from(arg(3)));
                let (r, w) =
                    with_ranges(store, (from, src, n), (to, dst, cap), tc::latin1_to_utf8)?;
                raw[0] = pack(r, w);
            }
            Transcode::Utf8ToLatin1 => {
                let n = u64::from(arg(1));
                let (r, w) = with_ranges(
                    store,
                    (from, arg(0), n),
                    (to, arg(2), n),
                    tc::utf8_to_latin1,
                )?
                .map_err(err)?;
                raw[0] = pack(r, w);
            }
            Transcode::Utf16ToLatin1 => {
                let n = u64::from(arg(1));
                let (r, w) = with_ranges(
                    store,
                    (from, arg(0), 2 * n),
                    (to, arg(2), n),
                    tc::utf16_to_latin1,
                )?
                .map_err(err)?;
                raw[0] = pack(r, w);
            }
            Transcode::InflateLatin1 => {
                let (ptr, len) = (arg(0), arg(1) as usize);
                let (p, l) = range(store, to, ptr, 2 * len as u64)?;
                // SAFETY: checked range of the destination memory.
                tc::inflate_latin1(unsafe { std::slice::from_raw_parts_mut(p, l) }, len);
            }
            Transcode::DeflateUtf16 => {
                let (ptr, units) = (arg(0), arg(1) as usize);
                let (p, l) = range(store, to, ptr, 2 * units as u64)?;
                // SAFETY: checked range of the destination memory.
                let ok = tc::deflate_utf16(unsafe { std::slice::from_raw_parts_mut(p, l) }, units);
                raw[0] = ValRaw::i32(ok as i32);
            }
        }
        Ok(())
    };
    crate::Func::new_host(store, ty, Arc::new(f))
}

/// The host function of a resource builtin (`resource.new`, `.rep`, `.drop`).
pub(crate) fn resource_builtin<T: 'static>(
    store: &mut StoreInner<T>,
    state: usize,
    def: &CoreDef,
) -> Result<crate::Func> {
    let i32_ = ValType::I32;
    let check_leave = move |store: &crate::store::StoreOpaque, instance: u32| -> Result<()> {
        let flags = store.components[state].flags[instance as usize];
        if store.runtime.global_value(flags.id).get_i32() & 1 == 0 {
            return Err(anyhow::Error::new(Trap::CannotLeave));
        }
        Ok(())
    };
    let handle_error = |e: fact_runtime::component::handles::HandleError| {
        anyhow::Error::new(e.trap).context(e.message)
    };
    match def.clone() {
        CoreDef::ResourceNew(r, c) => {
            let f = move |caller: Caller<'_, T>, raw: &mut [ValRaw]| -> Result<()> {
                let store = &mut caller.store.opaque;
                check_leave(store, c.0)?;
                let id = store.components[state].resource_ids[r.0 as usize];
                let rep = raw[0].get_i32() as u32;
                let index = store.components[state].tables[c.0 as usize]
                    .insert(Handle::Own {
                        ty: id,
                        rep,
                        lends: 0,
                    })
                    .map_err(handle_error)?;
                raw[0] = ValRaw::i32(index as i32);
                Ok(())
            };
            crate::Func::new_host(store, FuncType::new([i32_], [i32_]), Arc::new(f))
        }
        CoreDef::ResourceRep(r, c) => {
            let f = move |caller: Caller<'_, T>, raw: &mut [ValRaw]| -> Result<()> {
                let store = &mut caller.store.opaque;
                let id = store.components[state].resource_ids[r.0 as usize];
                let h = store.components[state].tables[c.0 as usize]
                    .get(raw[0].get_i32() as u32, id)
                    .map_err(handle_error)?;
                raw[0] = ValRaw::i32(h.rep() as i32);
                Ok(())
            };
            crate::Func::new_host(store, FuncType::new([i32_], [i32_]), Arc::new(f))
        }
        CoreDef::ResourceDrop(r, _, c) => {
            let f = move |caller: Caller<'_, T>, raw: &mut [ValRaw]| -> Result<()> {
                let inner: &mut StoreInner<T> = caller.store;
                let store = &mut inner.opaque;
                check_leave(store, c.0)?;
                let id = store.components[state].resource_ids[r.0 as usize];
                let h = store.components[state].tables[c.0 as usize]
                    .remove(raw[0].get_i32() as u32, id)
                    .map_err(handle_error)?;
                let rep = match h {
                    Handle::Own { rep, .. } => rep,
                    Handle::Borrow { scope, .. } => {
                        store.borrow_dropped(scope);
                        return Ok(());
                    }
                };
                match store.resource_type(id) {
                    RuntimeResource::Guest { dtor: Some(d), .. } => {
                        let d = *d;
                        let mut args = [ValRaw::i32(rep as i32)];
                        let called = crate::func::call_raw(inner, d, &mut args);
                        super::contain_exception(&mut inner.opaque, called)
                    }
                    RuntimeResource::Guest { dtor: None, .. } => Ok(()),
                    RuntimeResource::Host(_) => match inner.host_dtors.get(&id).cloned() {
                        Some(d) => d(crate::StoreContextMut(inner), rep),
                        None => Ok(()),
                    },
                }
            };
            crate::Func::new_host(store, FuncType::new([i32_], []), Arc::new(f))
        }
        _ => bail!("internal error: not a resource builtin"),
    }
}
