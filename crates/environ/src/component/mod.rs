//! The component front end: validation, translation and flattening of a component into
//! an instantiation [`Plan`], with interface types and their canonical ABI layout.

pub mod adapt;
pub mod inline;
pub mod plan;
pub mod translate;
pub mod types;

pub use plan::*;
pub use types::*;

use crate::translate::{translate_module, ModuleTranslation};
use crate::Features;
use anyhow::{Context, Result};

/// A translated component: its plan and its static core modules.
pub struct ComponentInfo<'data> {
    pub plan: Plan,
    /// The core modules defined in the component, translated (not yet compiled).
    pub modules: Vec<ModuleTranslation<'data>>,
    /// Each core module's binary.
    pub module_wasm: Vec<&'data [u8]>,
    /// Where each core module starts in the component binary.
    pub module_offsets: Vec<usize>,
}

/// Validates, translates and flattens the component `wasm`, whose core modules may use
/// `features`.
pub fn translate<'data>(wasm: &'data [u8], features: &Features) -> Result<ComponentInfo<'data>> {
    let translation = translate::translate_component(wasm, features)?;
    let mut modules = Vec::with_capacity(translation.modules.len());
    for (i, m) in translation.modules.iter().enumerate() {
        modules.push(
            translate_module(m.wasm, features)
                .with_context(|| format!("in core module {i} (at offset {:#x})", m.offset))?,
        );
    }
    let imports: inline::ModuleImports = modules
        .iter()
        .map(|m| {
            m.info
                .imports
                .iter()
                .map(|i| (i.module.clone(), i.name.clone()))
                .collect()
        })
        .collect();
    let mut plan = inline::inline(&translation, &imports)?;
    plan.uses_exceptions = modules.iter().any(|m| !m.info.tags.is_empty());
    Ok(ComponentInfo {
        plan,
        module_offsets: translation.modules.iter().map(|m| m.offset).collect(),
        module_wasm: translation.modules.iter().map(|m| m.wasm).collect(),
        modules,
    })
}
