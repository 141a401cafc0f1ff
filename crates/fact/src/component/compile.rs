//! Compiling a component: the front end's plan, the adapter compiler's modules, and every
//! core module through the one Cranelift pipeline into one artifact.

use crate::Engine;
use anyhow::{Context as _, Result};
use fact_cranelift::ArtifactBuilder;
use fact_environ::artifact::{AdapterModuleMeta, ArtifactKind, ComponentArtifactInfo};
use fact_environ::component::{self, adapt, FlatContext};
use fact_environ::translate::translate_module;
use fact_environ::{FuncType, ValType};
use std::collections::HashMap;

/// Parses (text or binary), translates, fuses and compiles a component into an artifact.
pub(crate) fn compile_component(engine: &Engine, bytes: &[u8]) -> Result<Vec<u8>> {
    let wasm = wat::parse_bytes(bytes)?;
    let info = component::translate(&wasm, engine.features())?;
    let mut plan = info.plan;
    let adapter_modules = adapt::compile_adapters(&mut plan).context("compiling fused adapters")?;

    let compiler = engine.compiler();
    let mut builder = ArtifactBuilder::new(ArtifactKind::Component);
    let num_static_modules = info.modules.len() as u32;
    for (i, (translation, module_wasm)) in
        info.modules.into_iter().zip(&info.module_wasm).enumerate()
    {
        let name = translation
            .info
            .name
            .clone()
            .unwrap_or_else(|| format!("module{i}"));
        let compiled = compiler
            .compile_module(translation, module_wasm, &format!("module{i}"))
            .with_context(|| format!("compiling core module {i} ({name})"))?;
        builder.add_module(compiled, &name)?;
    }
    for (i, m) in adapter_modules.iter().enumerate() {
        let translation = translate_module(&m.wasm, engine.features())
            .with_context(|| format!("internal error: adapter module {i} is invalid"))?;
        let compiled = compiler.compile_module(translation, &m.wasm, &format!("adapters{i}"))?;
        builder.add_module(compiled, &format!("adapters{i}"))?;
    }

    // One lowering trampoline (wasm → host) per distinct core signature of a lowering.
    let mut trampolines = Vec::new();
    let mut by_sig: HashMap<FuncType, u32> = HashMap::new();
    let mut lowering_trampoline = Vec::with_capacity(plan.lowerings.len());
    for lowering in &plan.lowerings {
        let sig = plan.types.flat_signature(lowering.ty, FlatContext::Lower);
        let ty = FuncType::new(
            sig.params.iter().map(|t| flat_core(*t)),
            sig.results.iter().map(|t| flat_core(*t)),
        );
        let index = match by_sig.get(&ty) {
            Some(i) => *i,
            None => {
                let code = compiler.wasm_to_host_trampoline(&ty)?;
                let range = builder.add_code(&code, format!("lowering[{ty}]"))?;
                trampolines.push(range);
                let i = trampolines.len() as u32 - 1;
                by_sig.insert(ty, i);
                i
            }
        };
        lowering_trampoline.push(index);
    }

    let meta = ComponentArtifactInfo {
        plan,
        num_static_modules,
        adapter_modules: adapter_modules
            .into_iter()
            .map(|m| AdapterModuleMeta {
                imports: m.imports,
                exports: m.exports,
            })
            .collect(),
        lowering_trampolines: trampolines,
        lowering_trampoline,
    };
    builder.finish(engine.seal(), Some(meta))
}

pub(crate) fn flat_core(t: component::FlatType) -> ValType {
    match t {
        component::FlatType::I32 => ValType::I32,
        component::FlatType::I64 => ValType::I64,
        component::FlatType::F32 => ValType::F32,
        component::FlatType::F64 => ValType::F64,
    }
}
