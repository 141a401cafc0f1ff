//! The adapter compiler: turns the plan's fused adapters into core wasm modules.
//!
//! Adapters are grouped into as few modules as instantiation order allows: walking the
//! plan, adapters join a pending group where they are defined, and the group becomes one
//! module, instantiated just before the first step that uses any of its adapters (every
//! core instance its adapters import from already exists there, since an adapter is
//! defined after everything it refers to). An adapter may use another adapter of the same
//! module directly (say, as its `realloc`), or one of an earlier module through an import.
//!
//! The plan is then rewritten so that the runtime needs no notion of adapters: each
//! adapter module is an ordinary core instantiation (of `ModuleSource::Adapter`) whose
//! arguments are `CoreDef`s, and every use of an adapter becomes an export of it.

mod builder;
mod fused;
mod strings;

pub use builder::ImportKind;

use crate::component::inline::same_shape;
use crate::component::plan::*;
use crate::component::types::{FlatContext, FlatSignature};
use crate::Trap;
use anyhow::{bail, Context, Result};
use builder::FuncBuilder;
use fused::{flat_valtype, Callee, Compiler, Loc, Side, Val};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use wasm_encoder::{Instruction as I, ValType as V};

/// One import of an adapter module.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdapterImport {
    pub module: String,
    pub name: String,
    pub kind: ImportKind,
    /// What the instantiator passes.
    pub def: CoreDef,
}

/// A generated module of adapters.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AdapterModule {
    pub wasm: Vec<u8>,
    pub imports: Vec<AdapterImport>,
    /// `(export name, adapter)`.
    pub exports: Vec<(String, AdapterIndex)>,
    /// The core instance the plan instantiates it as.
    pub instance: CoreInstanceIndex,
}

/// The export name of an adapter in its module.
pub fn export_name(a: AdapterIndex) -> String {
    format!("adapter{}", a.0)
}

/// Compiles every adapter of `plan` and rewrites the plan to instantiate the modules.
pub fn compile_adapters(plan: &mut Plan) -> Result<Vec<AdapterModule>> {
    let initializers = std::mem::take(&mut plan.initializers);
    let mut out = Vec::with_capacity(initializers.len());
    let mut pending: Vec<AdapterIndex> = Vec::new();
    let mut placed: HashMap<AdapterIndex, CoreExport> = HashMap::new();
    let mut modules = Vec::new();

    for init in initializers {
        let uses_pending = |d: &CoreDef| matches!(d, CoreDef::Adapter(a) if pending.contains(a));
        let flush = match &init {
            Initializer::Adapter(a) => {
                pending.push(*a);
                continue;
            }
            Initializer::InstantiateModule { args, .. } => args.iter().any(uses_pending),
            Initializer::Lower(l) => {
                let o = &plan.lowerings[l.0 as usize].options;
                o.realloc.iter().chain(&o.post_return).any(uses_pending)
            }
            Initializer::DefineResource(r) => match &plan.resources[r.0 as usize] {
                ResourceDef::Defined { dtor: Some(d), .. } => uses_pending(d),
                _ => false,
            },
            Initializer::BeginComponentInstance(_) => false,
        };
        if flush {
            out.push(flush_group(plan, &mut pending, &mut placed, &mut modules)?);
        }
        out.push(init);
    }
    if !pending.is_empty() {
        out.push(flush_group(plan, &mut pending, &mut placed, &mut modules)?);
    }
    plan.initializers = out;

    // Every reference to an adapter becomes an export of its module instance.
    let resolve = |d: &mut CoreDef| {
        if let CoreDef::Adapter(a) = d {
            *d = CoreDef::Export(placed[a].clone());
        }
    };
    for init in &mut plan.initializers {
        if let Initializer::InstantiateModule { args, .. } = init {
            args.iter_mut().for_each(resolve);
        }
    }
    for l in &mut plan.lowerings {
        l.options
            .realloc
            .iter_mut()
            .chain(&mut l.options.post_return)
            .for_each(resolve);
    }
    for r in &mut plan.resources {
        if let ResourceDef::Defined { dtor: Some(d), .. } = r {
            resolve(d);
        }
    }
    fn exports(e: &mut Export, resolve: &dyn Fn(&mut CoreDef)) {
        match e {
            Export::LiftedFunc { func, options, .. } => {
                resolve(func);
                options
                    .realloc
                    .iter_mut()
                    .chain(&mut options.post_return)
                    .for_each(resolve);
            }
            Export::Instance(items) => items.values_mut().for_each(|e| exports(e, resolve)),
            _ => {}
        }
    }
    for e in plan.exports.values_mut() {
        exports(e, &resolve);
    }
    Ok(modules)
}

fn flush_group(
    plan: &mut Plan,
    pending: &mut Vec<AdapterIndex>,
    placed: &mut HashMap<AdapterIndex, CoreExport>,
    modules: &mut Vec<AdapterModule>,
) -> Result<Initializer> {
    let group = std::mem::take(pending);
    let instance = CoreInstanceIndex(plan.num_core_instances);
    plan.num_core_instances += 1;
    let module = compile_group(plan, &group, placed, instance)?;
    for a in &group {
        placed.insert(
            *a,
            CoreExport {
                instance,
                name: export_name(*a),
            },
        );
    }
    let init = Initializer::InstantiateModule {
        instance,
        module: ModuleSource::Adapter(AdapterModuleIndex(modules.len() as u32)),
        args: module.imports.iter().map(|i| i.def.clone()).collect(),
        component_instance: ComponentInstanceIndex(0),
    };
    modules.push(module);
    Ok(init)
}

/// Compiles the adapters of one group into a module.
fn compile_group(
    plan: &Plan,
    group: &[AdapterIndex],
    placed: &HashMap<AdapterIndex, CoreExport>,
    instance: CoreInstanceIndex,
) -> Result<AdapterModule> {
    let mut c = Compiler::new(&plan.types);
    c.contain_exceptions = plan.uses_exceptions;
    let local: HashMap<AdapterIndex, u32> = group
        .iter()
        .map(|a| (*a, c.module.reserve_func()))
        .collect();
    for a in group {
        let adapter = &plan.adapters[a.0 as usize];
        let f = compile_adapter(&mut c, plan, adapter, &local, placed)
            .with_context(|| format!("compiling adapter {} ({})", a.0, adapter.name))?;
        c.module.define_func(local[a], f);
        c.module.export_func(export_name(*a), local[a]);
    }
    let wasm = c.module.encode();
    if cfg!(debug_assertions) {
        validate(&wasm).context("the adapter compiler produced an invalid module")?;
    }
    let imports = c
        .module
        .imports()
        .map(|(module, name, kind, def)| AdapterImport {
            module: module.to_string(),
            name: name.to_string(),
            kind: kind.clone(),
            def: def.clone(),
        })
        .collect();
    Ok(AdapterModule {
        wasm,
        imports,
        exports: group.iter().map(|a| (export_name(*a), *a)).collect(),
        instance,
    })
}

/// Validates a generated module with wasmparser (adapters of components with tags use
/// `try_table`).
pub fn validate(wasm: &[u8]) -> Result<()> {
    let features = crate::translate::core_features() | wasmparser::WasmFeatures::EXCEPTIONS;
    wasmparser::Validator::new_with_features(features).validate_all(wasm)?;
    Ok(())
}

fn describe(d: &CoreDef) -> String {
    match d {
        CoreDef::Export(e) => format!("i{}:{}", e.instance.0, e.name),
        CoreDef::Adapter(a) => format!("adapter{}", a.0),
        CoreDef::Lowering(l) => format!("lowering{}", l.0),
        other => format!("{other:?}"),
    }
}

/// A function the adapter calls: a local adapter, an earlier module's adapter, or an
/// import.
fn callee(
    c: &mut Compiler<'_>,
    def: &CoreDef,
    module: &str,
    params: &[V],
    results: &[V],
    local: &HashMap<AdapterIndex, u32>,
    placed: &HashMap<AdapterIndex, CoreExport>,
) -> Result<Callee> {
    let def = match def {
        CoreDef::Adapter(a) => match local.get(a) {
            Some(f) => return Ok(Callee::Defined(*f)),
            None => CoreDef::Export(
                placed
                    .get(a)
                    .cloned()
                    .context("internal error: an adapter used before its module")?,
            ),
        },
        d => d.clone(),
    };
    Ok(Callee::Import(c.module.import_func(
        &def,
        module,
        &describe(&def),
        params,
        results,
    )))
}

fn valtypes(sig: &[crate::component::types::FlatType]) -> Vec<V> {
    sig.iter().map(|f| flat_valtype(*f)).collect()
}

fn side(
    c: &mut Compiler<'_>,
    o: &CanonOptions,
    local: &HashMap<AdapterIndex, u32>,
    placed: &HashMap<AdapterIndex, CoreExport>,
) -> Result<Side> {
    let memory = o.memory.as_ref().map(|m| c.memory(m));
    let realloc = match &o.realloc {
        Some(r) => Some(callee(
            c,
            r,
            "realloc",
            &[V::I32; 4],
            &[V::I32],
            local,
            placed,
        )?),
        None => None,
    };
    let flags = c.module.import_global(
        &CoreDef::InstanceFlags(o.instance),
        "flags",
        &format!("instance{}", o.instance.0),
    );
    Ok(Side {
        memory,
        realloc,
        encoding: o.string_encoding,
        flags,
        instance: o.instance,
    })
}

/// One fused adapter: `canon lower` (caller side) of `canon lift` (callee side).
fn compile_adapter(
    c: &mut Compiler<'_>,
    plan: &Plan,
    adapter: &Adapter,
    local: &HashMap<AdapterIndex, u32>,
    placed: &HashMap<AdapterIndex, CoreExport>,
) -> Result<FuncBuilder> {
    let types = &plan.types;
    if !same_shape(types, adapter.lower_ty, adapter.lift_ty) {
        bail!(
            "the caller's type {} and the callee's type {} of a fused call differ",
            types.display_func(adapter.lower_ty),
            types.display_func(adapter.lift_ty)
        );
    }
    let lower: FlatSignature = types.flat_signature(adapter.lower_ty, FlatContext::Lower);
    let lift: FlatSignature = types.flat_signature(adapter.lift_ty, FlatContext::Lift);
    let mut f = FuncBuilder::new(valtypes(&lower.params), valtypes(&lower.results));

    let caller = side(c, &adapter.lower, local, placed)?;
    let callee_side = side(c, &adapter.lift, local, placed)?;
    let target = callee(
        c,
        &adapter.callee,
        "callee",
        &valtypes(&lift.params),
        &valtypes(&lift.results),
        local,
        placed,
    )?;

    // A call into the same instance, an ancestor or a descendant could be recursive
    // reentrance, which the canonical ABI forbids.
    if plan.call_might_be_recursive(adapter.lower.instance, adapter.lift.instance) {
        c.trap(&mut f, Trap::CannotEnter);
        return Ok(f);
    }
    c.check_may_leave(&mut f, caller.flags);

    let ft = types.func(adapter.lift_ty);
    let params: Vec<_> = ft.params.iter().map(|(_, t)| *t).collect();
    // Borrows lent to the callee live in a call scope that must be empty at the end.
    let scoped = params.iter().any(|t| types.has_borrow(*t));
    if scoped {
        c.call_scope(&mut f, true);
    }

    // Arguments: lowered into the callee, with its `may_leave` clear while its `realloc`
    // may run.
    let args_allocate = lower.params_indirect || params.iter().any(|t| types.allocates(*t));
    if args_allocate {
        c.set_may_leave(&mut f, callee_side.flags, false);
    }
    let mut args: Vec<u32> = Vec::new();
    if !lower.params_indirect {
        let src = Loc::Flat(
            lower
                .params
                .iter()
                .enumerate()
                .map(|(i, t)| (i as u32, flat_valtype(*t)))
                .collect(),
        );
        let dst: Vec<(u32, V)> = lift
            .params
            .iter()
            .map(|t| (f.local(flat_valtype(*t)), flat_valtype(*t)))
            .collect();
        c.fields(
            &mut f,
            &params,
            &src,
            &caller,
            &Loc::Flat(dst.clone()),
            &callee_side,
        )?;
        args.extend(dst.iter().map(|(l, _)| *l));
    } else {
        let layout = types.tuple_layout(params.iter().copied());
        let caller_mem = caller
            .memory
            .context("parameters in memory need the caller's memory")?;
        let callee_mem = callee_side
            .memory
            .context("parameters in memory need the callee's memory")?;
        let src_ptr = 0;
        c.check_tuple_pointer(&mut f, caller_mem, src_ptr, layout.align, layout.size);
        let dst_ptr = c.realloc(
            &mut f,
            &callee_side,
            "parameters in memory",
            Val::Const(0),
            Val::Const(0),
            layout.align,
            Val::Const(layout.size as i32),
        )?;
        c.check_tuple_pointer(&mut f, callee_mem, dst_ptr, layout.align, layout.size);
        let src = Loc::Mem {
            mem: caller_mem,
            addr: src_ptr,
            offset: 0,
        };
        let dst = Loc::Mem {
            mem: callee_mem,
            addr: dst_ptr,
            offset: 0,
        };
        c.fields(&mut f, &params, &src, &caller, &dst, &callee_side)?;
        args.push(dst_ptr);
    }
    if args_allocate {
        c.set_may_leave(&mut f, callee_side.flags, true);
    }

    // The call.
    for a in &args {
        f.ins(I::LocalGet(*a));
    }
    c.call_guest(
        &mut f,
        target,
        &valtypes(&lift.params),
        &valtypes(&lift.results),
    );
    let raw_results: Vec<u32> = lift
        .results
        .iter()
        .map(|t| f.local(flat_valtype(*t)))
        .collect();
    for r in raw_results.iter().rev() {
        f.ins(I::LocalSet(*r));
    }

    // Results: lowered into the caller, with its `may_leave` clear meanwhile.
    let mut returned = None;
    if let Some(result) = ft.results.first().copied() {
        let allocates = types.allocates(result);
        if allocates {
            c.set_may_leave(&mut f, caller.flags, false);
        }
        if !lower.results_indirect {
            let src = Loc::Flat(vec![(raw_results[0], flat_valtype(lift.results[0]))]);
            let d = f.local(flat_valtype(lower.results[0]));
            let dst = Loc::Flat(vec![(d, flat_valtype(lower.results[0]))]);
            c.translate(&mut f, result, &src, &callee_side, &dst, &caller)?;
            returned = Some(d);
        } else {
            let layout = types.layout(result).clone();
            let callee_mem = callee_side
                .memory
                .context("results in memory need the callee's memory")?;
            let caller_mem = caller
                .memory
                .context("results in memory need the caller's memory")?;
            let src_ptr = raw_results[0];
            let dst_ptr = lower.params.len() as u32 - 1;
            c.check_tuple_pointer(&mut f, callee_mem, src_ptr, layout.align, layout.size);
            c.check_tuple_pointer(&mut f, caller_mem, dst_ptr, layout.align, layout.size);
            let src = Loc::Mem {
                mem: callee_mem,
                addr: src_ptr,
                offset: 0,
            };
            let dst = Loc::Mem {
                mem: caller_mem,
                addr: dst_ptr,
                offset: 0,
            };
            c.translate(&mut f, result, &src, &callee_side, &dst, &caller)?;
        }
        if allocates {
            c.set_may_leave(&mut f, caller.flags, true);
        }
    }

    // post-return, exactly once, with the callee's core results.
    if let Some(post_return) = &adapter.lift.post_return {
        let post = callee(
            c,
            post_return,
            "post-return",
            &valtypes(&lift.results),
            &[],
            local,
            placed,
        )?;
        c.set_may_leave(&mut f, callee_side.flags, false);
        for r in &raw_results {
            f.ins(I::LocalGet(*r));
        }
        c.call_guest(&mut f, post, &valtypes(&lift.results), &[]);
        c.set_may_leave(&mut f, callee_side.flags, true);
    }
    if scoped {
        c.call_scope(&mut f, false);
    }
    if let Some(d) = returned {
        f.ins(I::LocalGet(d));
    }
    Ok(f)
}
