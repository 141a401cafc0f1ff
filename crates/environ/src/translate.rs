//! Core module translation: validate a module with wasmparser and describe it as a
//! [`ModuleInfo`], keeping the function bodies (with their validators) for the compiler.

use crate::module::{
    ConstExpr, DataMode, DataSegment, ElemItems, ElemMode, ElemSegment, EntityIndex, FuncDecl,
    Import, ModuleInfo,
};
use crate::types::{EntityType, FuncType, GlobalType, MemoryType, RefType, SubType, TableType};
use crate::Features;
use anyhow::{bail, Context, Result};
use wasmparser::{
    Encoding, FuncToValidate, FunctionBody, Parser, Payload, TypeRef, ValidPayload, Validator,
    ValidatorResources, WasmFeatures,
};

/// The WebAssembly proposals fact always compiles and runs. `REFERENCE_TYPES` includes the
/// overlong `call_indirect` encoding and `BULK_MEMORY` the `memory.copy`/`memory.fill` subset;
/// `GC_TYPES` is no GC, but what wasmparser requires for `externref` and `funcref`.
pub fn core_features() -> WasmFeatures {
    WasmFeatures::MUTABLE_GLOBAL
        | WasmFeatures::SATURATING_FLOAT_TO_INT
        | WasmFeatures::SIGN_EXTENSION
        | WasmFeatures::REFERENCE_TYPES
        | WasmFeatures::MULTI_VALUE
        | WasmFeatures::BULK_MEMORY
        | WasmFeatures::SIMD
        | WasmFeatures::FLOATS
        | WasmFeatures::MULTI_MEMORY
        | WasmFeatures::EXTENDED_CONST
        | WasmFeatures::GC_TYPES
}

/// What wasmparser validates with for an engine's `features`: [`core_features`] and the
/// proposals turned on. Typed function references bring wasmparser's `gc` feature, which
/// gates `rec` groups and `sub` types; fact's own translation rejects GC heap types.
pub fn wasm_features(features: &Features) -> WasmFeatures {
    let mut f = core_features();
    f.set(WasmFeatures::TAIL_CALL, features.tail_call);
    f.set(WasmFeatures::MEMORY64, features.memory64);
    f.set(
        WasmFeatures::FUNCTION_REFERENCES | WasmFeatures::GC,
        features.function_references,
    );
    f.set(WasmFeatures::RELAXED_SIMD, features.relaxed_simd);
    f.set(WasmFeatures::EXCEPTIONS, features.exceptions);
    f
}

/// The result of translating a core module.
pub struct ModuleTranslation<'data> {
    pub info: ModuleInfo,
    /// Bodies of the defined functions, in order, each with the validator that checks it
    /// while it is translated to Cranelift IR.
    pub bodies: Vec<(FunctionBody<'data>, FuncToValidate<ValidatorResources>)>,
    /// The bytes of every data segment, in segment order.
    pub data: Vec<&'data [u8]>,
}

impl ModuleTranslation<'_> {
    /// The concatenated bytes of all data segments (the module's data blob).
    pub fn data_blob(&self) -> Vec<u8> {
        self.data.concat()
    }
}

/// Explains a validation failure: if the module is valid once every proposal is enabled, the
/// problem is a proposal fact does not support, and the error says so.
pub fn explain_invalid(wasm: &[u8], err: anyhow::Error) -> anyhow::Error {
    if format!("{err:#}").starts_with("unsupported proposal") {
        return err;
    }
    let mut all = Validator::new_with_features(WasmFeatures::all());
    if all.validate_all(wasm).is_ok() {
        anyhow::anyhow!("unsupported proposal: {err:#}")
    } else {
        err
    }
}

/// Validates and translates the core module `wasm`, which may use `features`.
pub fn translate_module<'data>(
    wasm: &'data [u8],
    features: &Features,
) -> Result<ModuleTranslation<'data>> {
    translate(wasm, wasm_features(features)).map_err(|e| explain_invalid(wasm, e))
}

fn translate(wasm: &[u8], features: WasmFeatures) -> Result<ModuleTranslation<'_>> {
    let mut validator = Validator::new_with_features(features);
    let mut info = ModuleInfo::default();
    let mut bodies = Vec::new();
    let mut data = Vec::new();
    let mut data_len = 0u32;
    let mut escaping = Vec::new();

    // The parser decodes with the validator's features: some proposals (such as compact
    // imports) are checked while decoding, not by the validator.
    let mut parser = Parser::new(0);
    parser.set_features(features);
    for payload in parser.parse_all(wasm) {
        let payload = payload?;
        if let ValidPayload::Func(validator, body) = validator.payload(&payload)? {
            bodies.push((body, validator));
            continue;
        }
        match payload {
            Payload::Version { encoding, .. } if encoding != Encoding::Module => {
                bail!("expected a core module, found a component");
            }
            Payload::TypeSection(section) => {
                for group in section {
                    let start = info.types.len() as u32;
                    for ty in group?.into_types() {
                        let composite = &ty.composite_type;
                        if composite.shared {
                            bail!("unsupported proposal: shared-everything threads (shared types)");
                        }
                        if composite.descriptor_idx.is_some() || composite.describes_idx.is_some() {
                            bail!("unsupported proposal: custom descriptors");
                        }
                        match &composite.inner {
                            wasmparser::CompositeInnerType::Func(f) => {
                                info.types.push(FuncType::from_wasmparser(f)?)
                            }
                            wasmparser::CompositeInnerType::Cont(_) => {
                                bail!("unsupported proposal: stack switching (continuation types)")
                            }
                            _ => bail!("unsupported proposal: GC (struct and array types)"),
                        }
                        let supertype = ty
                            .supertype_idxs
                            .first()
                            .map(|idx| {
                                idx.as_module_index()
                                    .context("a supertype outside the module's index space")
                            })
                            .transpose()?;
                        info.subtypes.push(SubType {
                            is_final: ty.is_final,
                            supertype,
                        });
                    }
                    info.rec_groups
                        .push((start, info.types.len() as u32 - start));
                }
            }
            Payload::ImportSection(section) => {
                // An import section holds groups of imports (several may share a module
                // name, with compact imports); these are the imports one by one, in order.
                for import in section.into_imports() {
                    let import = import?;
                    let (index, ty) = match import.ty {
                        TypeRef::Func(ty) => {
                            let index = info.functions.len() as u32;
                            info.functions.push(FuncDecl {
                                ty,
                                func_ref: Some(index),
                            });
                            info.num_imported_funcs += 1;
                            let ft = info
                                .types
                                .get(ty as usize)
                                .context("import refers to an unknown type")?;
                            (EntityIndex::Func(index), EntityType::Func(ft.clone()))
                        }
                        TypeRef::Table(t) => {
                            let t = TableType::from_wasmparser(&t)?;
                            info.tables.push(t);
                            info.num_imported_tables += 1;
                            (
                                EntityIndex::Table(info.tables.len() as u32 - 1),
                                EntityType::Table(t),
                            )
                        }
                        TypeRef::Memory(m) => {
                            let m = MemoryType::from_wasmparser(&m)?;
                            info.memories.push(m);
                            info.num_imported_memories += 1;
                            (
                                EntityIndex::Memory(info.memories.len() as u32 - 1),
                                EntityType::Memory(m),
                            )
                        }
                        TypeRef::Global(g) => {
                            let g = GlobalType::from_wasmparser(&g)?;
                            info.globals.push(g);
                            info.num_imported_globals += 1;
                            (
                                EntityIndex::Global(info.globals.len() as u32 - 1),
                                EntityType::Global(g),
                            )
                        }
                        TypeRef::Tag(tag) => {
                            let ft = info
                                .types
                                .get(tag.func_type_idx as usize)
                                .context("import refers to an unknown type")?
                                .clone();
                            info.tags.push(tag.func_type_idx);
                            info.num_imported_tags += 1;
                            (
                                EntityIndex::Tag(info.tags.len() as u32 - 1),
                                EntityType::Tag(ft),
                            )
                        }
                        TypeRef::FuncExact(_) => {
                            bail!(
                                "unsupported proposal: custom descriptors (exact function imports)"
                            )
                        }
                    };
                    info.imports.push(Import {
                        module: import.module.to_string(),
                        name: import.name.to_string(),
                        index,
                        ty,
                    });
                }
            }
            Payload::FunctionSection(section) => {
                for ty in section {
                    info.functions.push(FuncDecl {
                        ty: ty?,
                        func_ref: None,
                    });
                }
            }
            Payload::TableSection(section) => {
                for table in section {
                    let table = table?;
                    let init = match &table.init {
                        wasmparser::TableInit::RefNull => None,
                        wasmparser::TableInit::Expr(expr) => {
                            let init = ConstExpr::from_wasmparser(expr)?;
                            escaping.extend(init.referenced_funcs());
                            Some(init)
                        }
                    };
                    info.tables.push(TableType::from_wasmparser(&table.ty)?);
                    info.table_inits.push(init);
                }
            }
            Payload::MemorySection(section) => {
                for memory in section {
                    info.memories.push(MemoryType::from_wasmparser(&memory?)?);
                }
            }
            Payload::TagSection(section) => {
                for tag in section {
                    info.tags.push(tag?.func_type_idx);
                }
            }
            Payload::GlobalSection(section) => {
                for global in section {
                    let global = global?;
                    info.globals.push(GlobalType::from_wasmparser(&global.ty)?);
                    let init = ConstExpr::from_wasmparser(&global.init_expr)?;
                    escaping.extend(init.referenced_funcs());
                    info.global_inits.push(init);
                }
            }
            Payload::ExportSection(section) => {
                for export in section {
                    let export = export?;
                    let index = match export.kind {
                        wasmparser::ExternalKind::Func => {
                            escaping.push(export.index);
                            EntityIndex::Func(export.index)
                        }
                        wasmparser::ExternalKind::Table => EntityIndex::Table(export.index),
                        wasmparser::ExternalKind::Memory => EntityIndex::Memory(export.index),
                        wasmparser::ExternalKind::Global => EntityIndex::Global(export.index),
                        wasmparser::ExternalKind::Tag => EntityIndex::Tag(export.index),
                        wasmparser::ExternalKind::FuncExact => {
                            bail!(
                                "unsupported proposal: custom descriptors (exact function exports)"
                            )
                        }
                    };
                    info.exports.insert(export.name.to_string(), index);
                }
            }
            Payload::StartSection { func, .. } => {
                escaping.push(func);
                info.start = Some(func);
            }
            Payload::ElementSection(section) => {
                for elem in section {
                    let elem = elem?;
                    let (ty, items) = match elem.items {
                        wasmparser::ElementItems::Functions(funcs) => {
                            let funcs = funcs.into_iter().collect::<Result<Vec<u32>, _>>()?;
                            escaping.extend(funcs.iter().copied());
                            (RefType::FUNCREF, ElemItems::Funcs(funcs))
                        }
                        wasmparser::ElementItems::Expressions(ty, exprs) => {
                            let mut items = Vec::new();
                            for expr in exprs {
                                let expr = ConstExpr::from_wasmparser(&expr?)?;
                                escaping.extend(expr.referenced_funcs());
                                items.push(expr);
                            }
                            (RefType::from_wasmparser(ty)?, ElemItems::Exprs(items))
                        }
                    };
                    let mode = match elem.kind {
                        wasmparser::ElementKind::Passive => ElemMode::Passive,
                        wasmparser::ElementKind::Declared => ElemMode::Declared,
                        wasmparser::ElementKind::Active {
                            table_index,
                            offset_expr,
                        } => ElemMode::Active {
                            table: table_index.unwrap_or(0),
                            offset: ConstExpr::from_wasmparser(&offset_expr)?,
                        },
                    };
                    info.elems.push(ElemSegment { mode, ty, items });
                }
            }
            Payload::DataSection(section) => {
                for segment in section {
                    let segment = segment?;
                    let mode = match segment.kind {
                        wasmparser::DataKind::Passive => DataMode::Passive,
                        wasmparser::DataKind::Active {
                            memory_index,
                            offset_expr,
                        } => DataMode::Active {
                            memory: memory_index,
                            offset: ConstExpr::from_wasmparser(&offset_expr)?,
                        },
                    };
                    let len = u32::try_from(segment.data.len())
                        .ok()
                        .and_then(|l| data_len.checked_add(l))
                        .context("data segments larger than 4 GiB")?;
                    info.data.push(DataSegment {
                        mode,
                        start: data_len,
                        end: len,
                    });
                    data_len = len;
                    data.push(segment.data);
                }
            }
            Payload::CustomSection(section) => {
                if let wasmparser::KnownCustom::Name(names) = section.as_known() {
                    // A malformed name section does not make a module invalid: keep what
                    // could be read.
                    let _ = read_names(names, &mut info);
                }
            }
            _ => {}
        }
    }

    // Functions reachable from outside the module get a `VMFuncRef` slot; the rest may use
    // the internal calling convention.
    let mut next_slot = info.num_imported_funcs;
    escaping.sort_unstable();
    escaping.dedup();
    for func in escaping {
        let decl = info
            .functions
            .get_mut(func as usize)
            .context("reference to an unknown function")?;
        if decl.func_ref.is_none() {
            decl.func_ref = Some(next_slot);
            next_slot += 1;
        }
    }
    info.num_func_refs = next_slot;

    Ok(ModuleTranslation { info, bodies, data })
}

fn read_names(names: wasmparser::NameSectionReader<'_>, info: &mut ModuleInfo) -> Result<()> {
    for name in names {
        match name? {
            wasmparser::Name::Module { name, .. } => info.name = Some(name.to_string()),
            wasmparser::Name::Function(map) => {
                for naming in map {
                    let naming = naming?;
                    info.func_names
                        .insert(naming.index, naming.name.to_string());
                }
            }
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tiny module, assembled by hand so that this crate needs no text parser: an
    /// internal function and an exported `(func (export "f") (result i32) i32.const 7)`.
    fn sample_module() -> Vec<u8> {
        let mut m = wasm_encoder::Module::new();
        let mut types = wasm_encoder::TypeSection::new();
        types.ty().function([], [wasm_encoder::ValType::I32]);
        m.section(&types);
        let mut funcs = wasm_encoder::FunctionSection::new();
        funcs.function(0);
        funcs.function(0);
        m.section(&funcs);
        let mut exports = wasm_encoder::ExportSection::new();
        exports.export("f", wasm_encoder::ExportKind::Func, 1);
        m.section(&exports);
        let mut code = wasm_encoder::CodeSection::new();
        for v in [1, 7] {
            let mut f = wasm_encoder::Function::new([]);
            f.instruction(&wasm_encoder::Instruction::I32Const(v));
            f.instruction(&wasm_encoder::Instruction::End);
            code.function(&f);
        }
        m.section(&code);
        m.finish()
    }

    #[test]
    fn the_core_proposals_are_exactly_fact_s() {
        let names: Vec<&str> = core_features().iter_names().map(|(n, _)| n).collect();
        assert_eq!(
            names,
            [
                "MUTABLE_GLOBAL",
                "SATURATING_FLOAT_TO_INT",
                "SIGN_EXTENSION",
                "REFERENCE_TYPES",
                "MULTI_VALUE",
                "BULK_MEMORY",
                "SIMD",
                "FLOATS",
                "MULTI_MEMORY",
                "EXTENDED_CONST",
                "GC_TYPES",
            ]
        );
        // The parts of the two proposals wasmparser splits.
        assert!(core_features()
            .contains(WasmFeatures::CALL_INDIRECT_OVERLONG | WasmFeatures::BULK_MEMORY_OPT));
    }

    #[test]
    fn only_exported_functions_escape() {
        let wasm = sample_module();
        let info = translate_module(&wasm, &Features::default()).unwrap().info;
        assert_eq!(info.functions.len(), 2);
        assert!(!info.functions[0].escapes());
        assert_eq!(info.functions[1].func_ref, Some(0));
        assert_eq!(info.num_func_refs, 1);
        assert_eq!(info.exports.get("f"), Some(&EntityIndex::Func(1)));
    }

    #[test]
    fn malformed_and_unsupported_are_errors() {
        let err = translate_module(b"\0asm\x01\0\0\0\x01", &Features::default())
            .err()
            .unwrap();
        assert!(err.to_string().contains("offset"), "{err}");

        // A module using a tail call: valid wasm, but a proposal this engine has off.
        let mut m = wasm_encoder::Module::new();
        let mut types = wasm_encoder::TypeSection::new();
        types.ty().function([], []);
        m.section(&types);
        let mut funcs = wasm_encoder::FunctionSection::new();
        funcs.function(0);
        m.section(&funcs);
        let mut code = wasm_encoder::CodeSection::new();
        let mut f = wasm_encoder::Function::new([]);
        f.instruction(&wasm_encoder::Instruction::ReturnCall(0));
        f.instruction(&wasm_encoder::Instruction::End);
        code.function(&f);
        m.section(&code);
        let wasm = m.finish();
        // Function bodies are validated while compiling; module-level checks pass here.
        let no_tail_calls = Features {
            tail_call: false,
            ..Features::default()
        };
        let t = translate_module(&wasm, &no_tail_calls).unwrap();
        let (body, v) = t.bodies.into_iter().next().unwrap();
        let mut v = v.into_validator(Default::default());
        let err = v.validate(&body).unwrap_err();
        let err = explain_invalid(&wasm, err.into());
        assert!(err.to_string().starts_with("unsupported proposal"), "{err}");
    }

    /// A module importing two memories from `env`, as one group of imports in the compact
    /// encoding if `compact`.
    fn memory_imports(compact: bool) -> Vec<u8> {
        let ty = wasm_encoder::EntityType::Memory(wasm_encoder::MemoryType {
            minimum: 1,
            maximum: None,
            memory64: false,
            shared: false,
            page_size_log2: None,
        });
        let mut imports = wasm_encoder::ImportSection::new();
        if compact {
            imports.imports(wasm_encoder::Imports::Compact2 {
                module: "env",
                ty,
                names: ["a", "b"][..].into(),
            });
        } else {
            imports.import("env", "a", ty).import("env", "b", ty);
        }
        let mut m = wasm_encoder::Module::new();
        m.section(&imports);
        m.finish()
    }

    #[test]
    fn imports_one_by_one_and_compact_imports_are_unsupported() {
        let info = translate_module(&memory_imports(false), &Features::default())
            .unwrap()
            .info;
        let names: Vec<_> = info
            .imports
            .iter()
            .map(|i| (&*i.module, &*i.name))
            .collect();
        assert_eq!(names, [("env", "a"), ("env", "b")]);
        assert_eq!(info.num_imported_memories, 2);

        let err = translate_module(&memory_imports(true), &Features::default())
            .err()
            .unwrap();
        assert!(err.to_string().starts_with("unsupported proposal"), "{err}");
    }
}
