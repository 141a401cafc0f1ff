//! Components: compiled to one artifact (every core module, every adapter module and every
//! trampoline), instantiated from a flattened plan, called with dynamic [`Val`]s or with
//! Rust types through [`TypedFunc`].
//!
//! ```
//! use fact::component::{Component, Linker};
//! use fact::{Engine, Store};
//! let engine = Engine::default();
//! let component = Component::new(&engine, r#"(component
//!   (core module $m (func (export "add") (param i32 i32) (result i32)
//!     local.get 0 local.get 1 i32.add))
//!   (core instance $i (instantiate $m))
//!   (func (export "add") (param "a" u32) (param "b" u32) (result u32)
//!     (canon lift (core func $i "add"))))"#)?;
//! let mut store = Store::new(&engine, ());
//! let instance = Linker::new(&engine).instantiate(&mut store, &component)?;
//! let add = instance.get_typed_func::<(u32, u32), (u32,)>(&mut store, "add")?;
//! assert_eq!(add.call(&mut store, (2, 3))?, (5,));
//! # Ok::<(), anyhow::Error>(())
//! ```

pub(crate) mod abi;
pub(crate) mod compile;
pub(crate) mod func;
pub(crate) mod instance;
mod intrinsics;
pub(crate) mod linker;
pub(crate) mod resources;
mod values;

/// Names the store uses for component state.
pub(crate) mod instance_state {
    pub(crate) use super::instance::ComponentState;
}
pub(crate) mod resources_state {
    pub(crate) use super::resources::{CallScope, RuntimeResource};
}
pub(crate) mod linker_destructor {
    pub(crate) use super::linker::Destructor;
}

pub use abi::{ComponentType, Context as LiftLowerContext, Lift, Lower};
pub use fact_macros::{ComponentType, Lift, Lower};
pub use func::{Func, TypedFunc};
pub use instance::{Instance, InstancePre};
pub use linker::{Linker, LinkerInstance};
pub use resources::{Resource, ResourceAny, ResourceTable, ResourceType};
pub use values::Val;

/// Interface types, as a component's type table holds them.
pub mod types {
    pub use fact_environ::component::{ComponentTypes, InterfaceType, TypeId};
}

/// Internals used by code that `fact-macros` derives.
#[doc(hidden)]
pub mod __internal {
    pub use super::abi::{flags, next, record, variant, Context};
    pub use anyhow;
    pub use fact_environ::component::{ComponentTypes, InterfaceType, TypeId};
    pub use fact_runtime::ValRaw;

    /// The types that `cx` lifts and lowers with (for `record::fields` and the like).
    pub fn types<'a>(cx: &Context<'a>) -> &'a ComponentTypes {
        cx.types
    }
}

use crate::{Engine, Module};
use anyhow::{Context as _, Result};
use fact_environ::artifact::{ArtifactKind, ComponentArtifactInfo};
use fact_environ::component::{Export, ImportType, Plan};
use fact_runtime::{CodeMemory, RuntimeModule};
use std::path::Path;
use std::sync::Arc;

/// A compiled component, ready to be instantiated. Cheap to clone.
#[derive(Clone)]
pub struct Component {
    inner: Arc<ComponentInner>,
}

impl std::fmt::Debug for Component {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Component")
            .field("modules", &self.inner.modules.len())
            .field("imports", &self.plan().imports.len())
            .field("exports", &self.plan().exports.len())
            .finish()
    }
}

struct ComponentInner {
    engine: Engine,
    code: Arc<CodeMemory>,
    /// The component's core modules, then its adapter modules.
    modules: Vec<Module>,
    /// The address of each lowering's trampoline.
    lowering_trampolines: Vec<usize>,
}

impl Component {
    /// Compiles a component from its binary or text format.
    pub fn new(engine: &Engine, bytes: impl AsRef<[u8]>) -> Result<Component> {
        let image = compile::compile_component(engine, bytes.as_ref())?;
        let code = CodeMemory::from_bytes(&image, ArtifactKind::Component, engine.seal())?;
        Ok(Component::from_code(engine, code))
    }

    pub fn from_binary(engine: &Engine, wasm: &[u8]) -> Result<Component> {
        Component::new(engine, wasm)
    }

    /// Compiles the component in the file at `path` (binary or text).
    pub fn from_file(engine: &Engine, path: impl AsRef<Path>) -> Result<Component> {
        let path = path.as_ref();
        let bytes =
            std::fs::read(path).with_context(|| format!("failed to read {}", path.display()))?;
        Component::new(engine, bytes)
            .with_context(|| format!("failed to compile {}", path.display()))
    }

    /// Loads an artifact made by [`Component::serialize`] or
    /// [`Engine::precompile_component`].
    ///
    /// # Safety
    ///
    /// The artifact contains machine code that will run: it must come from a trusted
    /// compilation. Truncated, corrupted, foreign or incompatible artifacts (and module
    /// artifacts) are rejected with an error.
    pub unsafe fn deserialize(engine: &Engine, bytes: impl AsRef<[u8]>) -> Result<Component> {
        let code = CodeMemory::from_bytes(bytes.as_ref(), ArtifactKind::Component, engine.seal())?;
        Ok(Component::from_code(engine, code))
    }

    /// Like [`Component::deserialize`], but maps the file and uses its code in place.
    ///
    /// # Safety
    ///
    /// As for [`Component::deserialize`]; moreover the file must not change while mapped.
    pub unsafe fn deserialize_file(engine: &Engine, path: impl AsRef<Path>) -> Result<Component> {
        let path = path.as_ref();
        let code = CodeMemory::from_file(path, ArtifactKind::Component, engine.seal())
            .with_context(|| format!("failed to load {}", path.display()))?;
        Ok(Component::from_code(engine, code))
    }

    fn from_code(engine: &Engine, code: CodeMemory) -> Component {
        let code = Arc::new(code);
        code.register();
        let modules = (0..code.info().modules.len())
            .map(|i| {
                Module::from_runtime(engine, RuntimeModule::new(code.clone(), i, engine.types()))
            })
            .collect();
        let meta = code
            .info()
            .component
            .as_ref()
            .expect("checked: a component artifact");
        let lowering_trampolines = meta
            .lowering_trampoline
            .iter()
            .map(|&i| code.text_base() + meta.lowering_trampolines[i as usize].start as usize)
            .collect();
        Component {
            inner: Arc::new(ComponentInner {
                engine: engine.clone(),
                code,
                modules,
                lowering_trampolines,
            }),
        }
    }

    /// The artifact of this component, loadable with [`Component::deserialize`].
    pub fn serialize(&self) -> Result<Vec<u8>> {
        Ok(self.inner.code.image().to_vec())
    }

    pub fn engine(&self) -> &Engine {
        &self.inner.engine
    }

    pub(crate) fn meta(&self) -> &ComponentArtifactInfo {
        self.inner
            .code
            .info()
            .component
            .as_ref()
            .expect("a component artifact")
    }

    pub(crate) fn plan(&self) -> &Plan {
        &self.meta().plan
    }

    /// Core module `i` of the artifact (the component's own, then its adapter modules).
    pub(crate) fn module(&self, i: usize) -> &Module {
        &self.inner.modules[i]
    }

    pub(crate) fn lowering_trampoline(&self, lowering: usize) -> usize {
        self.inner.lowering_trampolines[lowering]
    }

    /// The table of the component's interface types (what [`Func::signature`] refers to).
    pub fn types(&self) -> &types::ComponentTypes {
        &self.plan().types
    }

    /// The component's imports, with WIT-like descriptions of their types.
    pub fn imports(&self) -> Vec<(String, String)> {
        let plan = self.plan();
        plan.imports
            .iter()
            .map(|(n, t)| (n.clone(), describe_import(plan, t)))
            .collect()
    }

    /// The component's exports, with WIT-like descriptions of their types.
    pub fn exports(&self) -> Vec<(String, String)> {
        let plan = self.plan();
        plan.exports
            .iter()
            .map(|(n, e)| (n.clone(), describe_export(plan, e)))
            .collect()
    }
}

fn describe_import(plan: &Plan, t: &ImportType) -> String {
    match t {
        ImportType::Func(f) => plan.types.display_func(*f),
        ImportType::Instance(items) => format!(
            "instance {{ {} }}",
            items
                .iter()
                .map(|(n, t)| format!("{n}: {}", describe_import(plan, t)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        ImportType::Module { .. } => "core module".into(),
        ImportType::Resource(_) => "resource".into(),
        ImportType::Type => "type".into(),
    }
}

fn describe_export(plan: &Plan, e: &Export) -> String {
    match e {
        Export::LiftedFunc { ty, .. } | Export::ImportedFunc { ty, .. } => {
            plan.types.display_func(*ty)
        }
        Export::Instance(items) => format!(
            "instance {{ {} }}",
            items
                .iter()
                .map(|(n, e)| format!("{n}: {}", describe_export(plan, e)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Export::Module(_) => "core module".into(),
        Export::Resource(_) => "resource".into(),
        Export::Type => "type".into(),
    }
}

/// An exception may not leave a component instance: where the canonical ABI calls guest
/// code from the host (a lifted export, `realloc`, `post-return`, a destructor), an
/// exception that escapes it becomes this trap. (Adapters contain the ones between
/// component instances themselves.)
pub(crate) fn contain_exception(
    store: &mut crate::store::StoreOpaque,
    result: anyhow::Result<()>,
) -> anyhow::Result<()> {
    match result {
        Err(e) if e.is::<crate::ThrownException>() => {
            store.runtime.take_pending_exception();
            Err(anyhow::Error::new(crate::Trap::UncaughtException))
        }
        r => r,
    }
}
