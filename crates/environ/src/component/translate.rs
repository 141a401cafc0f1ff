//! The first pass over a component binary: validate it (wasmparser, component model on)
//! and record, for the root and every nested component, its definitions in order. Core
//! modules are kept as byte ranges and translated separately. The second pass
//! ([`super::inline`]) evaluates these definitions into the flattened plan.

use crate::translate::wasm_features;
use crate::Features;
use anyhow::{bail, Context, Result};
use wasmparser::types::Types;
use wasmparser::{
    CanonicalFunction, ComponentAlias, ComponentExport, ComponentImport, ComponentInstance,
    Encoding, Instance, Parser, Payload, ValidPayload, Validator, WasmFeatures,
};

/// The features fact validates components with: fact's core proposals (for the modules
/// inside) and the component model as fact implements it, which is the MVP plus the 🏷️
/// `implements` and `external-id` name annotations (shipped in a WASI release; they are
/// metadata, and fact links by the plain name).
///
/// The other extensions stay off, including those wasmparser enables by default (async
/// with its streams and futures, `map`; compact imports for core modules): fact implements
/// none of them, nor `error-context`, fixed-length lists, nested names or values. Only the
/// validator sees every use of an extension, including a type definition no function uses,
/// so a component using one fails validation here, and [`translate_component`] reports it
/// as `unsupported proposal: …` once the component passes validation with every feature
/// enabled. A component that is invalid per the current specification fails that second
/// validation too, and keeps its validation error. (The translation still rejects each
/// extension's constructs by itself, should one get past validation.)
pub fn component_features(features: &Features) -> WasmFeatures {
    wasm_features(features) | WasmFeatures::COMPONENT_MODEL | WasmFeatures::CM_IMPLEMENTS
}

/// A core module defined in the component.
pub struct StaticModule<'data> {
    /// The module's binary (a standalone module).
    pub wasm: &'data [u8],
    /// Where it starts within the component binary.
    pub offset: usize,
}

/// One definition of a component, in binary order. Each appends to one index space.
pub enum Item<'data> {
    Import(ComponentImport<'data>),
    Export(ComponentExport<'data>),
    /// A component type definition; for a resource, its destructor (a core function).
    Type {
        resource_dtor: Option<Option<u32>>,
    },
    CoreType,
    /// A core module (index into the static modules).
    Module(usize),
    /// A nested component (index into the static components).
    Component(usize),
    CoreInstance(Instance<'data>),
    Instance(ComponentInstance<'data>),
    Alias(ComponentAlias<'data>),
    Canon(CanonicalFunction),
}

/// A component definition (root or nested), with the validator's view of its types.
pub struct StaticComponent<'data> {
    pub types: Types,
    pub items: Vec<Item<'data>>,
}

/// The whole binary: every component and core module definition.
pub struct ComponentTranslation<'data> {
    pub components: Vec<StaticComponent<'data>>,
    pub modules: Vec<StaticModule<'data>>,
    /// The root component's index in `components`.
    pub root: usize,
}

/// Explains a validation failure: if the component is valid once every feature is
/// enabled, it uses an extension fact does not support, and the error says so. A binary
/// that cannot be decoded at all gets a hint that its encoding may be newer (or older)
/// than the binary format fact reads.
fn explain(wasm: &[u8], err: anyhow::Error) -> anyhow::Error {
    let msg = format!("{err:#}");
    let mut all = Validator::new_with_features(WasmFeatures::all());
    if all.validate_all(wasm).is_ok() {
        return anyhow::anyhow!("unsupported proposal: {msg}");
    }
    if msg.contains("leading byte")
        && [
            "canonical",
            "type",
            "component",
            "export",
            "import",
            "defined",
        ]
        .iter()
        .any(|w| msg.contains(w))
    {
        return err.context(
            "unsupported component model feature: this binary uses an encoding fact's decoder \
             does not know (one newer than it, or one removed from the binary format)",
        );
    }
    err
}

/// Validates a component binary, whose core modules may use `features`, and records its
/// definitions.
pub fn translate_component<'data>(
    wasm: &'data [u8],
    features: &Features,
) -> Result<ComponentTranslation<'data>> {
    translate(wasm, component_features(features)).map_err(|e| explain(wasm, e))
}

fn translate(wasm: &[u8], features: WasmFeatures) -> Result<ComponentTranslation<'_>> {
    let mut validator = Validator::new_with_features(features);
    let mut components = Vec::new();
    let mut modules = Vec::new();
    let mut stack: Vec<Vec<Item<'_>>> = Vec::new();
    let mut root = None;
    // Payloads of a nested core module are only validated here; the module is translated
    // on its own later.
    let mut in_module = false;

    // The parser decodes with the validator's features: some extensions (such as options on
    // import and export names) are checked while decoding, not by the validator.
    let mut parser = Parser::new(0);
    parser.set_features(features);
    for payload in parser.parse_all(wasm) {
        let payload = payload?;
        let valid = validator.payload(&payload)?;
        if let ValidPayload::Func(func, body) = valid {
            // Function bodies are checked here too, so that an invalid component is
            // rejected with an offset in the component binary.
            func.into_validator(Default::default()).validate(&body)?;
            continue;
        }
        if in_module {
            if let Payload::End(_) = payload {
                in_module = false;
            }
            continue;
        }
        let items = stack.last_mut();
        match payload {
            Payload::Version { encoding, .. } => {
                if encoding == Encoding::Module {
                    bail!("expected a component, found a core module");
                }
                stack.push(Vec::new());
            }
            Payload::ModuleSection {
                unchecked_range, ..
            } => {
                // The parser checks the module's bytes only as it reads them, after this
                // payload: a truncated binary ends before the range does.
                let range =
                    usize::try_from(unchecked_range.start)?..usize::try_from(unchecked_range.end)?;
                let module = wasm.get(range.clone()).with_context(|| {
                    format!(
                        "unexpected end-of-file in the core module at offset {:#x}",
                        range.start
                    )
                })?;
                modules.push(StaticModule {
                    wasm: module,
                    offset: range.start,
                });
                items.unwrap().push(Item::Module(modules.len() - 1));
                in_module = true;
            }
            Payload::ComponentSection { .. } => {}
            Payload::ComponentTypeSection(section) => {
                let items = items.unwrap();
                for ty in section {
                    let resource_dtor = match ty? {
                        wasmparser::ComponentType::Resource { dtor, .. } => Some(dtor),
                        _ => None,
                    };
                    items.push(Item::Type { resource_dtor });
                }
            }
            Payload::CoreTypeSection(section) => {
                let items = items.unwrap();
                for ty in section {
                    ty?;
                    items.push(Item::CoreType);
                }
            }
            Payload::ComponentImportSection(section) => {
                let items = items.unwrap();
                for import in section {
                    items.push(Item::Import(import?));
                }
            }
            Payload::ComponentExportSection(section) => {
                let items = items.unwrap();
                for export in section {
                    items.push(Item::Export(export?));
                }
            }
            Payload::InstanceSection(section) => {
                let items = items.unwrap();
                for instance in section {
                    items.push(Item::CoreInstance(instance?));
                }
            }
            Payload::ComponentInstanceSection(section) => {
                let items = items.unwrap();
                for instance in section {
                    items.push(Item::Instance(instance?));
                }
            }
            Payload::ComponentAliasSection(section) => {
                let items = items.unwrap();
                for alias in section {
                    items.push(Item::Alias(alias?));
                }
            }
            Payload::ComponentCanonicalSection(section) => {
                let items = items.unwrap();
                for func in section {
                    items.push(Item::Canon(func?));
                }
            }
            Payload::ComponentStartSection { .. } => {
                bail!("unsupported component model feature: component start functions (values)")
            }
            Payload::End(_) => {
                let ValidPayload::End(types) = valid else {
                    bail!("internal error: the validator did not end a component");
                };
                let items = stack.pop().expect("a component was started");
                components.push(StaticComponent { types, items });
                let index = components.len() - 1;
                match stack.last_mut() {
                    Some(parent) => parent.push(Item::Component(index)),
                    None => root = Some(index),
                }
            }
            _ => {}
        }
    }
    Ok(ComponentTranslation {
        components,
        modules,
        root: root.ok_or_else(|| anyhow::anyhow!("empty component binary"))?,
    })
}
