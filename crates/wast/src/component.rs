//! The component half of the runner: component definitions and instances, component
//! values (`WastVal`) in invocations and assertions, and the component test host.

use anyhow::{anyhow, bail, Result};
use fact::component::{Component, Instance, Linker, Resource, ResourceType, Val};
use fact::{Engine, Module, Store};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use wast::component::WastVal;

/// The components of one script.
pub(crate) struct Components {
    pub linker: Linker<()>,
    pub definitions: HashMap<String, Component>,
    pub last_definition: Option<Component>,
    pub instances: HashMap<String, Instance>,
    pub current: Option<Instance>,
}

impl Components {
    pub fn new(engine: &Engine) -> Result<Components> {
        let mut linker = Linker::new(engine);
        define_host(engine, &mut linker)?;
        Ok(Components {
            linker,
            definitions: HashMap::new(),
            last_definition: None,
            instances: HashMap::new(),
            current: None,
        })
    }

    /// Instantiates `component`, naming the instance `name`; it becomes the current one.
    pub fn instantiate(
        &mut self,
        store: &mut Store<()>,
        component: &Component,
        name: Option<&str>,
    ) -> Result<Instance> {
        let instance = self.linker.instantiate(&mut *store, component)?;
        if let Some(name) = name {
            self.instances.insert(name.to_string(), instance);
        }
        self.current = Some(instance);
        Ok(instance)
    }

    /// Calls export `name` of `instance` with script values.
    pub fn invoke(
        &self,
        store: &mut Store<()>,
        instance: Instance,
        name: &str,
        args: &[&WastVal<'_>],
    ) -> Result<Vec<Val>> {
        let func = instance
            .get_func(&mut *store, name)
            .ok_or_else(|| anyhow!("no function export `{name}`"))?;
        let args = args.iter().map(|a| val(a)).collect::<Result<Vec<_>>>()?;
        let mut results = vec![Val::Bool(false); func.result_count(&*store)];
        func.call(&mut *store, &args, &mut results)?;
        Ok(results)
    }
}

/// A script value as a component value.
pub(crate) fn val(v: &WastVal<'_>) -> Result<Val> {
    let boxed = |v: &Option<Box<WastVal<'_>>>| -> Result<Option<Box<Val>>> {
        v.as_ref().map(|v| Ok(Box::new(val(v)?))).transpose()
    };
    Ok(match v {
        WastVal::Bool(b) => Val::Bool(*b),
        WastVal::U8(x) => Val::U8(*x),
        WastVal::S8(x) => Val::S8(*x),
        WastVal::U16(x) => Val::U16(*x),
        WastVal::S16(x) => Val::S16(*x),
        WastVal::U32(x) => Val::U32(*x),
        WastVal::S32(x) => Val::S32(*x),
        WastVal::U64(x) => Val::U64(*x),
        WastVal::S64(x) => Val::S64(*x),
        WastVal::F32(x) => Val::Float32(f32::from_bits(x.bits)),
        WastVal::F64(x) => Val::Float64(f64::from_bits(x.bits)),
        WastVal::Char(c) => Val::Char(*c),
        WastVal::String(s) => Val::String(s.to_string()),
        WastVal::List(items) => Val::List(items.iter().map(val).collect::<Result<_>>()?),
        WastVal::Record(fields) => Val::Record(
            fields
                .iter()
                .map(|(n, v)| Ok((n.to_string(), val(v)?)))
                .collect::<Result<_>>()?,
        ),
        WastVal::Tuple(items) => Val::Tuple(items.iter().map(val).collect::<Result<_>>()?),
        WastVal::Variant(case, payload) => Val::Variant(case.to_string(), boxed(payload)?),
        WastVal::Enum(case) => Val::Enum(case.to_string()),
        WastVal::Option(v) => Val::Option(boxed(v)?),
        WastVal::Result(r) => Val::Result(match r {
            Ok(v) => Ok(boxed(v)?),
            Err(v) => Err(boxed(v)?),
        }),
        WastVal::Flags(labels) => Val::Flags(labels.iter().map(|l| l.to_string()).collect()),
        WastVal::Map(_) => bail!("`map` values are not supported (the map extension)"),
    })
}

/// Whether `actual` is the value the script expects. Floats compare by bits, except that
/// any NaN matches a NaN; flags compare as sets.
pub(crate) fn matches(actual: &Val, expected: &WastVal<'_>) -> bool {
    let opt = |a: &Option<Box<Val>>, e: &Option<Box<WastVal<'_>>>| match (a, e) {
        (None, None) => true,
        (Some(a), Some(e)) => matches(a, e),
        _ => false,
    };
    match (actual, expected) {
        (Val::Bool(a), WastVal::Bool(e)) => a == e,
        (Val::U8(a), WastVal::U8(e)) => a == e,
        (Val::S8(a), WastVal::S8(e)) => a == e,
        (Val::U16(a), WastVal::U16(e)) => a == e,
        (Val::S16(a), WastVal::S16(e)) => a == e,
        (Val::U32(a), WastVal::U32(e)) => a == e,
        (Val::S32(a), WastVal::S32(e)) => a == e,
        (Val::U64(a), WastVal::U64(e)) => a == e,
        (Val::S64(a), WastVal::S64(e)) => a == e,
        (Val::Float32(a), WastVal::F32(e)) => {
            let e = f32::from_bits(e.bits);
            a.to_bits() == e.to_bits() || (a.is_nan() && e.is_nan())
        }
        (Val::Float64(a), WastVal::F64(e)) => {
            let e = f64::from_bits(e.bits);
            a.to_bits() == e.to_bits() || (a.is_nan() && e.is_nan())
        }
        (Val::Char(a), WastVal::Char(e)) => a == e,
        (Val::String(a), WastVal::String(e)) => a == e,
        (Val::List(a), WastVal::List(e)) | (Val::Tuple(a), WastVal::Tuple(e)) => {
            a.len() == e.len() && a.iter().zip(e).all(|(a, e)| matches(a, e))
        }
        (Val::Record(a), WastVal::Record(e)) => {
            a.len() == e.len()
                && a.iter()
                    .zip(e)
                    .all(|((an, av), (en, ev))| an == en && matches(av, ev))
        }
        (Val::Variant(ac, ap), WastVal::Variant(ec, ep)) => ac == ec && opt(ap, ep),
        (Val::Enum(a), WastVal::Enum(e)) => a == e,
        (Val::Option(a), WastVal::Option(e)) => opt(a, e),
        (Val::Result(Ok(a)), WastVal::Result(Ok(e)))
        | (Val::Result(Err(a)), WastVal::Result(Err(e))) => opt(a, e),
        (Val::Flags(a), WastVal::Flags(e)) => {
            a.len() == e.len() && e.iter().all(|l| a.iter().any(|x| x == l))
        }
        _ => false,
    }
}

/// A component value for reports.
pub(crate) fn show(v: &Val) -> String {
    format!("{v:?}")
}

/// An expected value for reports.
pub(crate) fn show_expected(v: &WastVal<'_>) -> String {
    match val(v) {
        Ok(v) => show(&v),
        Err(_) => format!("{v:?}"),
    }
}

/// The host resource type `resource1` of the test host (a marker).
struct Resource1;
/// The host resource type `resource2` of the test host (a marker).
struct Resource2;

/// Drops of `resource1`, for `[static]resource1.drops` and `.last-drop`.
#[derive(Default)]
struct Drops {
    count: AtomicU32,
    last: AtomicU32,
}

/// The component test host, shaped like the one the public component-model suites
/// written for Wasmtime import (see `wast-tests/component/README.md`).
fn define_host(engine: &Engine, linker: &mut Linker<()>) -> Result<()> {
    let mut root = linker.root();
    root.func_wrap("host-return-two", |_, (): ()| Ok((2u32,)))?;
    root.func_wrap("host-echo-u32", |_, (x,): (u32,)| Ok((x,)))?;

    let mut host = linker.instance("host")?;
    host.func_wrap("return-three", |_, (): ()| Ok((3u32,)))?;
    host.instance("nested")?
        .func_wrap("return-four", |_, (): ()| Ok((4u32,)))?;
    let module = Module::new(
        engine,
        r#"(module
             (global (export "g") i32 (i32.const 100))
             (func (export "f") (result i32) (i32.const 101)))"#,
    )?;
    host.module("simple-module", &module)?;

    let drops = Arc::new(Drops::default());
    let on_drop = {
        let drops = drops.clone();
        move |_: fact::StoreContextMut<'_, ()>, rep: u32| {
            drops.count.fetch_add(1, Ordering::SeqCst);
            drops.last.store(rep, Ordering::SeqCst);
            Ok(())
        }
    };
    host.resource(
        "resource1",
        ResourceType::host::<Resource1>(),
        on_drop.clone(),
    )?;
    // The same type under a second name (as WIT `use` produces).
    host.resource(
        "resource1-again",
        ResourceType::host::<Resource1>(),
        on_drop,
    )?;
    host.resource(
        "resource2",
        ResourceType::host::<Resource2>(),
        |_, _| Ok(()),
    )?;

    host.func_wrap("[constructor]resource1", |_, (rep,): (u32,)| {
        Ok((Resource::<Resource1>::new_own(rep),))
    })?;
    host.func_wrap(
        "[static]resource1.assert",
        |_, (r, rep): (Resource<Resource1>, u32)| {
            if r.rep() != rep {
                bail!("resource1.assert: representation {} is not {rep}", r.rep());
            }
            Ok(())
        },
    )?;
    host.func_wrap("[static]resource1.last-drop", {
        let drops = drops.clone();
        move |_, (): ()| Ok((drops.last.load(Ordering::SeqCst),))
    })?;
    host.func_wrap("[static]resource1.drops", {
        let drops = drops.clone();
        move |_, (): ()| Ok((drops.count.load(Ordering::SeqCst),))
    })?;
    host.func_wrap(
        "[method]resource1.simple",
        |_, (r, rep): (Resource<Resource1>, u32)| {
            if r.owned() || r.rep() != rep {
                bail!("resource1.simple: expected a borrow of {rep}");
            }
            Ok(())
        },
    )?;
    host.func_wrap(
        "[method]resource1.take-borrow",
        |_, (a, b): (Resource<Resource1>, Resource<Resource1>)| {
            if a.owned() || b.owned() {
                bail!("resource1.take-borrow: expected two borrows");
            }
            Ok(())
        },
    )?;
    host.func_wrap(
        "[method]resource1.take-own",
        |_, (a, b): (Resource<Resource1>, Resource<Resource1>)| {
            if a.owned() || !b.owned() {
                bail!("resource1.take-own: expected a borrow and an own");
            }
            Ok(())
        },
    )?;
    Ok(())
}
