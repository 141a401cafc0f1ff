//! The flattened instantiation plan of a component: everything that happens when the
//! component is instantiated, in order, with every nested component and instance inlined
//! away. Every adapter between core instances is known here, before anything runs.

use super::types::{ComponentTypes, FuncTypeId, ResourceIndex};
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

macro_rules! index {
    ($($(#[$doc:meta])* $name:ident;)*) => {$(
        $(#[$doc])*
        #[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub struct $name(pub u32);
    )*};
}

index! {
    /// A core module defined inside the component (compiled once, however often it is
    /// instantiated).
    StaticModuleIndex;
    /// A core instance created at runtime.
    CoreInstanceIndex;
    /// A component instance created at runtime (the root is 0).
    ComponentInstanceIndex;
    /// An import of the root component.
    ImportIndex;
    /// A fused adapter.
    AdapterIndex;
    /// A host import lowered into a core function.
    LoweringIndex;
}

/// A reference to an item of an imported instance: `import` then the export `names`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ImportPath {
    pub import: ImportIndex,
    pub names: Vec<String>,
}

/// An export of a core instance.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct CoreExport {
    pub instance: CoreInstanceIndex,
    pub name: String,
}

/// A core function (or memory, table, global) as the plan sees it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum CoreDef {
    /// An export of a core instance.
    Export(CoreExport),
    /// A host import lowered by the runtime.
    Lowering(LoweringIndex),
    /// A fused adapter (exported by an adapter module).
    Adapter(AdapterIndex),
    /// `canon resource.new` of a resource, in the instance owning the handle table.
    ResourceNew(ResourceIndex, ComponentInstanceIndex),
    /// `canon resource.rep`.
    ResourceRep(ResourceIndex, ComponentInstanceIndex),
    /// `canon resource.drop` of an `own` (true) or `borrow` (false) handle.
    ResourceDrop(ResourceIndex, bool, ComponentInstanceIndex),
}

/// How strings are encoded on one side of a call.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum StringEncoding {
    Utf8,
    Utf16,
    /// `latin1+utf16`.
    CompactUtf16,
}

impl StringEncoding {
    pub fn name(self) -> &'static str {
        match self {
            StringEncoding::Utf8 => "utf8",
            StringEncoding::Utf16 => "utf16",
            StringEncoding::CompactUtf16 => "latin1+utf16",
        }
    }
}

/// The canonical ABI options of one side of a call, resolved.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct CanonOptions {
    /// The component instance the options belong to.
    pub instance: ComponentInstanceIndex,
    pub string_encoding: StringEncoding,
    pub memory: Option<CoreExport>,
    pub realloc: Option<CoreDef>,
    pub post_return: Option<CoreDef>,
}

/// A `canon lower` of a function that another (or the same) component instance lifted:
/// compiled into core wasm by the adapter compiler.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Adapter {
    /// The caller's side (the `canon lower`).
    pub lower: CanonOptions,
    /// The function type as the caller sees it.
    pub lower_ty: FuncTypeId,
    /// The callee's side (the `canon lift`).
    pub lift: CanonOptions,
    /// The function type as the callee sees it.
    pub lift_ty: FuncTypeId,
    /// The core function the lift wraps.
    pub callee: CoreDef,
    /// A name for diagnostics: where it is called from and what it calls.
    pub name: String,
}

/// A `canon lower` of a host import.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Lowering {
    pub import: ImportPath,
    pub options: CanonOptions,
    pub ty: FuncTypeId,
}

/// Where a resource type comes from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ResourceDef {
    /// Defined by a component instance, with an optional destructor.
    Defined {
        instance: ComponentInstanceIndex,
        dtor: Option<CoreDef>,
    },
    /// Imported from the host.
    Imported(ImportPath),
}

/// Where a core module comes from.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ModuleSource {
    Static(StaticModuleIndex),
    /// A core module the host provides (a root import).
    Import(ImportPath),
}

/// One step of instantiation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Initializer {
    /// Instantiates a core module with `args`, one per import of the module in order.
    InstantiateModule {
        instance: CoreInstanceIndex,
        module: ModuleSource,
        args: Vec<CoreDef>,
        /// The component instance the core instance belongs to.
        component_instance: ComponentInstanceIndex,
    },
    /// A host import is lowered into a core function.
    Lower(LoweringIndex),
    /// A fused adapter is defined (lowered from a lifted function).
    Adapter(AdapterIndex),
    /// A resource type is created.
    DefineResource(ResourceIndex),
    /// A component instance begins (its parent, for nested components).
    BeginComponentInstance(ComponentInstanceIndex),
}

/// What a root import is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ImportType {
    Func(FuncTypeId),
    Instance(IndexMap<String, ImportType>),
    /// A core module; its imports and exports are checked when the host provides it.
    Module {
        imports: Vec<(String, String, crate::EntityType)>,
        exports: Vec<(String, crate::EntityType)>,
    },
    /// A resource type (the host provides its implementation).
    Resource(ResourceIndex),
    /// Any other type (no runtime presence).
    Type,
}

/// What the root exports.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Export {
    /// A function lifted from core wasm.
    LiftedFunc {
        ty: FuncTypeId,
        func: CoreDef,
        options: CanonOptions,
    },
    /// An imported host function, re-exported.
    ImportedFunc {
        ty: FuncTypeId,
        import: ImportPath,
    },
    Instance(IndexMap<String, Export>),
    Module(ModuleSource),
    /// A resource type.
    Resource(ResourceIndex),
    /// Any other type.
    Type,
}

/// A component instance of the plan.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComponentInstanceInfo {
    /// The instance that instantiated it (`None` for the root).
    pub parent: Option<ComponentInstanceIndex>,
    /// A path for diagnostics, e.g. `root/$c/$d`.
    pub path: String,
}

/// The flattened component.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Plan {
    pub imports: IndexMap<String, ImportType>,
    pub initializers: Vec<Initializer>,
    pub exports: IndexMap<String, Export>,
    pub component_instances: Vec<ComponentInstanceInfo>,
    pub num_core_instances: u32,
    pub adapters: Vec<Adapter>,
    pub lowerings: Vec<Lowering>,
    pub resources: Vec<ResourceDef>,
    pub types: ComponentTypes,
}

impl Plan {
    /// Whether component instance `a` is `b` or one of its ancestors.
    pub fn is_reflexive_ancestor(
        &self,
        a: ComponentInstanceIndex,
        b: ComponentInstanceIndex,
    ) -> bool {
        let mut cur = Some(b);
        while let Some(c) = cur {
            if c == a {
                return true;
            }
            cur = self.component_instances[c.0 as usize].parent;
        }
        false
    }

    /// Whether a call from instance `caller` into instance `callee` might be recursive
    /// reentrance, which the canonical ABI forbids: the same instance, or one an ancestor
    /// of the other. (Sibling instances may call each other.)
    pub fn call_might_be_recursive(
        &self,
        caller: ComponentInstanceIndex,
        callee: ComponentInstanceIndex,
    ) -> bool {
        self.is_reflexive_ancestor(caller, callee) || self.is_reflexive_ancestor(callee, caller)
    }
}
