//! The inliner: evaluates the root component's definitions at compile time, instantiating
//! nested components as it meets them, so that the result is one flat [`Plan`] of core
//! instantiations, host lowerings and fused adapters in instantiation order.
//!
//! Each instantiation of a component gets a [`Frame`] holding its index spaces; their
//! entries are compile-time values (which core export a function is, which lifted function
//! an import is bound to, ...). Resource types are tracked by the validator's resource
//! ids, mapped per frame to the plan's runtime [`ResourceIndex`]es.

use super::plan::*;
use super::translate::{ComponentTranslation, Item, StaticComponent};
use super::types::{ComponentTypes, FuncTypeId, InterfaceType, ResourceIndex, TypeId};
use crate::types::{EntityType, FuncType as CoreFuncType, GlobalType, MemoryType, TableType};
use anyhow::{anyhow, bail, Context, Result};
use indexmap::IndexMap;
use std::collections::HashMap;
use std::rc::Rc;
use wasmparser::component_types::{
    ComponentAnyTypeId, ComponentDefinedType, ComponentEntityType, ComponentInstanceTypeId,
    ComponentValType, ResourceId,
};
use wasmparser::types::TypesRef;
use wasmparser::{
    CanonicalFunction, CanonicalOption, ComponentAlias, ComponentExternalKind, ComponentInstance,
    ComponentOuterAliasKind, ComponentTypeRef, ExternalKind, Instance, PrimitiveValType,
};

/// A component-level function.
#[derive(Clone, Debug)]
enum FuncDef {
    Lifted {
        ty: FuncTypeId,
        func: CoreDef,
        /// Boxed: the options are large and most items are not lifted functions.
        options: Box<CanonOptions>,
    },
    Import {
        path: ImportPath,
        ty: FuncTypeId,
    },
}

/// A component instance value.
#[derive(Clone, Debug)]
enum InstanceDef {
    /// Exports of an inlined instantiation or of an instance built from exports.
    Items(Rc<IndexMap<String, ItemDef>>),
    /// An imported instance (from the host).
    Import(ImportPath),
}

/// A component definition with the outer scopes it can alias from.
#[derive(Clone)]
struct ComponentDef {
    index: usize,
    scopes: Rc<Vec<Scope>>,
}

/// A type: only resources have a runtime identity.
#[derive(Clone, Debug)]
enum TypeDef {
    Resource(ResourceIndex),
    Other,
}

/// Any component-level item.
#[derive(Clone)]
enum ItemDef {
    Func(FuncDef),
    Instance(InstanceDef),
    Module(ModuleSource),
    Component(ComponentDef),
    Type(TypeDef),
}

impl std::fmt::Debug for ItemDef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ItemDef::Func(x) => x.fmt(f),
            ItemDef::Instance(x) => x.fmt(f),
            ItemDef::Module(x) => x.fmt(f),
            ItemDef::Component(c) => write!(f, "Component({})", c.index),
            ItemDef::Type(x) => x.fmt(f),
        }
    }
}

/// A core-level item.
#[derive(Clone, Debug)]
enum CoreItem {
    Func(CoreDef),
    Export(CoreExport),
}

/// A core instance value.
#[derive(Clone, Debug)]
enum CoreInstanceDef {
    Runtime(CoreInstanceIndex),
    /// Built from exports: no runtime object.
    Synthetic(Rc<IndexMap<String, CoreItem>>),
}

/// The parts of an enclosing component that `alias outer` can reach.
#[derive(Clone)]
struct Scope {
    modules: Vec<ModuleSource>,
    components: Vec<ComponentDef>,
    types: Vec<TypeDef>,
    resources: HashMap<ResourceId, ResourceIndex>,
}

/// One instantiation of a component.
struct Frame<'a, 'data> {
    component: &'a StaticComponent<'data>,
    instance: ComponentInstanceIndex,
    /// Enclosing scopes, innermost first.
    scopes: Rc<Vec<Scope>>,
    /// Arguments of the instantiation (empty for the root, whose imports are the host's).
    args: HashMap<String, ItemDef>,
    funcs: Vec<FuncDef>,
    instances: Vec<InstanceDef>,
    modules: Vec<ModuleSource>,
    components: Vec<ComponentDef>,
    types: Vec<TypeDef>,
    core_funcs: Vec<CoreDef>,
    core_memories: Vec<CoreExport>,
    core_tables: Vec<CoreExport>,
    core_globals: Vec<CoreExport>,
    core_tags: Vec<CoreExport>,
    core_instances: Vec<CoreInstanceDef>,
    resources: HashMap<ResourceId, ResourceIndex>,
    exports: IndexMap<String, ItemDef>,
}

impl<'a, 'data> Frame<'a, 'data> {
    fn types(&self) -> TypesRef<'a> {
        self.component.types.as_ref()
    }

    fn scope(&self) -> Scope {
        Scope {
            modules: self.modules.clone(),
            components: self.components.clone(),
            types: self.types.clone(),
            resources: self.resources.clone(),
        }
    }

    fn resource(&self, id: ResourceId) -> Result<ResourceIndex> {
        if let Some(r) = self.resources.get(&id) {
            return Ok(*r);
        }
        self.scopes
            .iter()
            .find_map(|s| s.resources.get(&id).copied())
            .ok_or_else(|| anyhow!("internal error: a resource type with no definition"))
    }

    fn item(&self, kind: ComponentExternalKind, index: u32) -> Result<ItemDef> {
        let i = index as usize;
        Ok(match kind {
            ComponentExternalKind::Func => ItemDef::Func(self.funcs[i].clone()),
            ComponentExternalKind::Instance => ItemDef::Instance(self.instances[i].clone()),
            ComponentExternalKind::Module => ItemDef::Module(self.modules[i].clone()),
            ComponentExternalKind::Component => ItemDef::Component(self.components[i].clone()),
            ComponentExternalKind::Type => ItemDef::Type(self.types[i].clone()),
            ComponentExternalKind::Value => bail!("unsupported component model feature: values"),
        })
    }

    fn core_item(&self, kind: ExternalKind, index: u32) -> Result<CoreItem> {
        let i = index as usize;
        Ok(match kind {
            ExternalKind::Func => CoreItem::Func(self.core_funcs[i].clone()),
            ExternalKind::Memory => CoreItem::Export(self.core_memories[i].clone()),
            ExternalKind::Table => CoreItem::Export(self.core_tables[i].clone()),
            ExternalKind::Global => CoreItem::Export(self.core_globals[i].clone()),
            ExternalKind::Tag => CoreItem::Export(self.core_tags[i].clone()),
            ExternalKind::FuncExact => {
                bail!("unsupported proposal: custom descriptors (exact function exports)")
            }
        })
    }
}

/// The imports of each static core module, in order (from module translation).
pub type ModuleImports = Vec<Vec<(String, String)>>;

struct Inliner<'a, 'data> {
    translation: &'a ComponentTranslation<'data>,
    module_imports: &'a ModuleImports,
    plan: Plan,
    adapters: HashMap<(CanonOptions, FuncTypeId, CanonOptions, FuncTypeId, CoreDef), AdapterIndex>,
    lowerings: HashMap<Lowering, LoweringIndex>,
    /// Resources of imported instances, by path.
    imported_resources: HashMap<ImportPath, ResourceIndex>,
}

/// Flattens the root component of `translation` into a plan.
pub fn inline(
    translation: &ComponentTranslation<'_>,
    module_imports: &ModuleImports,
) -> Result<Plan> {
    let mut inliner = Inliner {
        translation,
        module_imports,
        plan: Plan::default(),
        adapters: HashMap::new(),
        lowerings: HashMap::new(),
        imported_resources: HashMap::new(),
    };
    let root = inliner.new_component_instance(None, "root".to_string());
    let mut frame = inliner.new_frame(translation.root, Rc::new(Vec::new()), HashMap::new(), root);
    inliner.run(&mut frame)?;
    for (name, item) in std::mem::take(&mut frame.exports) {
        let export = inliner.root_export(&item, &name)?;
        inliner.plan.exports.insert(name, export);
    }
    Ok(inliner.plan)
}

impl<'a, 'data> Inliner<'a, 'data> {
    fn new_component_instance(
        &mut self,
        parent: Option<ComponentInstanceIndex>,
        path: String,
    ) -> ComponentInstanceIndex {
        let index = ComponentInstanceIndex(self.plan.component_instances.len() as u32);
        self.plan
            .component_instances
            .push(ComponentInstanceInfo { parent, path });
        self.plan
            .initializers
            .push(Initializer::BeginComponentInstance(index));
        index
    }

    fn new_frame(
        &self,
        component: usize,
        scopes: Rc<Vec<Scope>>,
        args: HashMap<String, ItemDef>,
        instance: ComponentInstanceIndex,
    ) -> Frame<'a, 'data> {
        Frame {
            component: &self.translation.components[component],
            instance,
            scopes,
            args,
            funcs: Vec::new(),
            instances: Vec::new(),
            modules: Vec::new(),
            components: Vec::new(),
            types: Vec::new(),
            core_funcs: Vec::new(),
            core_memories: Vec::new(),
            core_tables: Vec::new(),
            core_globals: Vec::new(),
            core_tags: Vec::new(),
            core_instances: Vec::new(),
            resources: HashMap::new(),
            exports: IndexMap::new(),
        }
    }

    fn is_root(&self, frame: &Frame<'_, '_>) -> bool {
        frame.instance == ComponentInstanceIndex(0)
    }

    fn run(&mut self, frame: &mut Frame<'a, 'data>) -> Result<()> {
        for item in &frame.component.items {
            match item {
                Item::Import(import) => self.import(frame, import.name.name, import.ty)?,
                Item::Export(export) => {
                    let item = frame.item(export.kind, export.index)?;
                    self.push_item(frame, item.clone())?;
                    frame.exports.insert(export.name.name.to_string(), item);
                }
                Item::Type { resource_dtor } => {
                    let def = match resource_dtor {
                        Some(dtor) => {
                            let dtor = dtor.map(|f| frame.core_funcs[f as usize].clone());
                            let r = self.new_resource(ResourceDef::Defined {
                                instance: frame.instance,
                                dtor,
                            });
                            self.plan.initializers.push(Initializer::DefineResource(r));
                            TypeDef::Resource(r)
                        }
                        None => TypeDef::Other,
                    };
                    self.push_type(frame, def);
                }
                Item::CoreType => {}
                Item::Module(i) => frame
                    .modules
                    .push(ModuleSource::Static(StaticModuleIndex(*i as u32))),
                Item::Component(i) => {
                    let mut scopes = vec![frame.scope()];
                    scopes.extend(frame.scopes.iter().cloned());
                    frame.components.push(ComponentDef {
                        index: *i,
                        scopes: Rc::new(scopes),
                    });
                }
                Item::CoreInstance(instance) => self.core_instance(frame, instance)?,
                Item::Instance(instance) => self.component_instance(frame, instance)?,
                Item::Alias(alias) => self.alias(frame, alias)?,
                Item::Canon(canon) => self.canon(frame, canon)?,
            }
        }
        Ok(())
    }

    fn new_resource(&mut self, def: ResourceDef) -> ResourceIndex {
        self.plan.resources.push(def);
        ResourceIndex(self.plan.resources.len() as u32 - 1)
    }

    /// The resource of an imported instance's export at `path`, created on first use.
    fn imported_resource(&mut self, path: ImportPath) -> ResourceIndex {
        if let Some(r) = self.imported_resources.get(&path) {
            return *r;
        }
        let r = self.new_resource(ResourceDef::Imported(path.clone()));
        self.imported_resources.insert(path, r);
        r
    }

    /// Appends a type to the frame's type space, recording its resource identity.
    fn push_type(&mut self, frame: &mut Frame<'a, 'data>, def: TypeDef) {
        let index = frame.types.len() as u32;
        if let TypeDef::Resource(r) = def {
            if let ComponentAnyTypeId::Resource(id) = frame.types().component_any_type_at(index) {
                frame.resources.insert(id.resource(), r);
            }
        }
        frame.types.push(def);
    }

    /// Appends an item to the index space of its kind.
    fn push_item(&mut self, frame: &mut Frame<'a, 'data>, item: ItemDef) -> Result<()> {
        match item {
            ItemDef::Func(f) => frame.funcs.push(f),
            ItemDef::Instance(i) => {
                let index = frame.instances.len() as u32;
                let ty = frame.types().component_instance_at(index);
                self.bind_instance_resources(frame, ty, &i)?;
                frame.instances.push(i);
            }
            ItemDef::Module(m) => frame.modules.push(m),
            ItemDef::Component(c) => frame.components.push(c),
            ItemDef::Type(t) => self.push_type(frame, t),
        }
        Ok(())
    }

    /// Maps the resource ids in an instance's type (as this frame's validator sees it) to
    /// the resources the instance value carries.
    fn bind_instance_resources(
        &mut self,
        frame: &mut Frame<'a, 'data>,
        ty: ComponentInstanceTypeId,
        instance: &InstanceDef,
    ) -> Result<()> {
        let types = frame.types();
        for (name, export) in types[ty].exports.iter() {
            let name = name.as_str();
            match &export.ty {
                ComponentEntityType::Type {
                    created: ComponentAnyTypeId::Resource(id),
                    ..
                } => {
                    let r = match instance {
                        InstanceDef::Items(items) => match items.get(name) {
                            Some(ItemDef::Type(TypeDef::Resource(r))) => *r,
                            _ => continue,
                        },
                        // An imported resource may be re-exported under several names
                        // (`use` in WIT): the resource id tells them apart, not the path.
                        InstanceDef::Import(path) => match frame.resources.get(&id.resource()) {
                            Some(r) => {
                                let alias = child_path(path, name);
                                if !self.imported_resources.contains_key(&alias) {
                                    self.imported_resources.insert(alias.clone(), *r);
                                    self.plan.resource_aliases.push((alias, *r));
                                }
                                *r
                            }
                            None => self.imported_resource(child_path(path, name)),
                        },
                    };
                    frame.resources.insert(id.resource(), r);
                }
                ComponentEntityType::Instance(inner) => {
                    let inner_def = match instance {
                        InstanceDef::Items(items) => match items.get(name) {
                            Some(ItemDef::Instance(i)) => i.clone(),
                            _ => continue,
                        },
                        InstanceDef::Import(path) => InstanceDef::Import(child_path(path, name)),
                    };
                    self.bind_instance_resources(frame, *inner, &inner_def)?;
                }
                _ => {}
            }
        }
        Ok(())
    }

    fn import(
        &mut self,
        frame: &mut Frame<'a, 'data>,
        name: &str,
        ty: ComponentTypeRef,
    ) -> Result<()> {
        if !self.is_root(frame) {
            let item = frame
                .args
                .get(name)
                .cloned()
                .with_context(|| format!("internal error: no argument for import `{name}`"))?;
            return self.push_item(frame, item);
        }
        // A root import: the host provides it.
        let index = ImportIndex(self.plan.imports.len() as u32);
        let path = ImportPath {
            import: index,
            names: Vec::new(),
        };
        let (item, import_ty) = match ty {
            ComponentTypeRef::Func(_) => {
                let types = frame.types();
                let func_ty = types.component_function_at(frame.funcs.len() as u32);
                let ty = self.convert_func(frame, func_ty)?;
                (
                    ItemDef::Func(FuncDef::Import { path, ty }),
                    ImportType::Func(ty),
                )
            }
            ComponentTypeRef::Instance(_) => {
                let def = InstanceDef::Import(path.clone());
                let ty = frame
                    .types()
                    .component_instance_at(frame.instances.len() as u32);
                self.bind_instance_resources(frame, ty, &def)?;
                let import_ty = self.instance_import_type(frame, ty, &path)?;
                frame.instances.push(def);
                self.plan.imports.insert(name.to_string(), import_ty);
                return Ok(());
            }
            ComponentTypeRef::Module(_) => {
                let ty = frame.types().module_at(frame.modules.len() as u32);
                let import_ty = module_import_type(frame.types(), ty)?;
                (ItemDef::Module(ModuleSource::Import(path)), import_ty)
            }
            ComponentTypeRef::Type(_) => {
                let index = frame.types.len() as u32;
                match frame.types().component_any_type_at(index) {
                    ComponentAnyTypeId::Resource(id) => {
                        let r = match frame.resources.get(&id.resource()) {
                            Some(r) => *r,
                            None => self.imported_resource(path),
                        };
                        (ItemDef::Type(TypeDef::Resource(r)), ImportType::Resource(r))
                    }
                    _ => (ItemDef::Type(TypeDef::Other), ImportType::Type),
                }
            }
            ComponentTypeRef::Component(_) => bail!(
                "importing a whole component (`{name}`) at the root is not supported: it could \
                 not be fused at compile time"
            ),
            ComponentTypeRef::Value(_) => {
                bail!("unsupported component model feature: value import `{name}`")
            }
        };
        self.push_item(frame, item)?;
        self.plan.imports.insert(name.to_string(), import_ty);
        Ok(())
    }

    fn instance_import_type(
        &mut self,
        frame: &Frame<'a, 'data>,
        ty: ComponentInstanceTypeId,
        path: &ImportPath,
    ) -> Result<ImportType> {
        let types = frame.types();
        let mut exports = IndexMap::new();
        for (name, export) in types[ty].exports.iter() {
            let name = name.as_str();
            let t = match &export.ty {
                ComponentEntityType::Func(f) => ImportType::Func(self.convert_func(frame, *f)?),
                ComponentEntityType::Instance(i) => {
                    self.instance_import_type(frame, *i, &child_path(path, name))?
                }
                ComponentEntityType::Module(m) => module_import_type(types, *m)?,
                ComponentEntityType::Type {
                    created: ComponentAnyTypeId::Resource(id),
                    ..
                } => ImportType::Resource(match frame.resources.get(&id.resource()) {
                    Some(r) => *r,
                    None => self.imported_resource(child_path(path, name)),
                }),
                ComponentEntityType::Type { .. } => ImportType::Type,
                ComponentEntityType::Component(_) => {
                    bail!("an imported instance exporting a component (`{name}`) is not supported")
                }
                ComponentEntityType::Value(_) => {
                    bail!("unsupported component model feature: values")
                }
            };
            exports.insert(name.to_string(), t);
        }
        Ok(ImportType::Instance(exports))
    }

    fn core_instance(
        &mut self,
        frame: &mut Frame<'a, 'data>,
        instance: &Instance<'_>,
    ) -> Result<()> {
        let def = match instance {
            Instance::Instantiate { module_index, args } => {
                let module = frame.modules[*module_index as usize].clone();
                let args: HashMap<&str, &CoreInstanceDef> = args
                    .iter()
                    .map(|a| (a.name, &frame.core_instances[a.index as usize]))
                    .collect();
                let imports = match &module {
                    ModuleSource::Static(i) => self.module_imports[i.0 as usize].clone(),
                    ModuleSource::Import(path) => match self.import_type_at(path)? {
                        ImportType::Module { imports, .. } => imports
                            .iter()
                            .map(|(m, n, _)| (m.clone(), n.clone()))
                            .collect(),
                        _ => bail!("internal error: an imported module is not a module"),
                    },
                    ModuleSource::Adapter(_) => {
                        bail!("internal error: adapter modules appear after inlining")
                    }
                };
                let mut resolved = Vec::with_capacity(imports.len());
                for (m, n) in &imports {
                    let instance = args.get(m.as_str()).with_context(|| {
                        format!("internal error: missing instantiation argument `{m}`")
                    })?;
                    resolved.push(match instance {
                        CoreInstanceDef::Runtime(i) => CoreDef::Export(CoreExport {
                            instance: *i,
                            name: n.clone(),
                        }),
                        CoreInstanceDef::Synthetic(items) => match items.get(n.as_str()) {
                            Some(CoreItem::Func(f)) => f.clone(),
                            Some(CoreItem::Export(e)) => CoreDef::Export(e.clone()),
                            None => bail!("internal error: argument `{m}` lacks `{n}`"),
                        },
                    });
                }
                let index = CoreInstanceIndex(self.plan.num_core_instances);
                self.plan.num_core_instances += 1;
                self.plan.initializers.push(Initializer::InstantiateModule {
                    instance: index,
                    module,
                    args: resolved,
                    component_instance: frame.instance,
                });
                CoreInstanceDef::Runtime(index)
            }
            Instance::FromExports(exports) => {
                let mut items = IndexMap::new();
                for e in exports.iter() {
                    items.insert(e.name.to_string(), frame.core_item(e.kind, e.index)?);
                }
                CoreInstanceDef::Synthetic(Rc::new(items))
            }
        };
        frame.core_instances.push(def);
        Ok(())
    }

    /// The type of the root import at `path`.
    fn import_type_at(&self, path: &ImportPath) -> Result<&ImportType> {
        let mut ty = &self.plan.imports[path.import.0 as usize];
        for name in &path.names {
            ty = match ty {
                ImportType::Instance(exports) => exports
                    .get(name)
                    .with_context(|| format!("internal error: no import export `{name}`"))?,
                _ => bail!("internal error: import path through a non-instance"),
            };
        }
        Ok(ty)
    }

    fn component_instance(
        &mut self,
        frame: &mut Frame<'a, 'data>,
        instance: &ComponentInstance<'_>,
    ) -> Result<()> {
        let def = match instance {
            ComponentInstance::Instantiate {
                component_index,
                args,
            } => {
                let component = frame.components[*component_index as usize].clone();
                let mut arg_items = HashMap::new();
                for a in args.iter() {
                    arg_items.insert(a.name.to_string(), frame.item(a.kind, a.index)?);
                }
                let path = format!(
                    "{}/{}",
                    self.plan.component_instances[frame.instance.0 as usize].path,
                    frame.instances.len()
                );
                let child = self.new_component_instance(Some(frame.instance), path);
                let mut child_frame =
                    self.new_frame(component.index, component.scopes.clone(), arg_items, child);
                self.run(&mut child_frame)?;
                InstanceDef::Items(Rc::new(child_frame.exports))
            }
            ComponentInstance::FromExports(exports) => {
                let mut items = IndexMap::new();
                for e in exports.iter() {
                    items.insert(e.name.name.to_string(), frame.item(e.kind, e.index)?);
                }
                InstanceDef::Items(Rc::new(items))
            }
        };
        self.push_item(frame, ItemDef::Instance(def))
    }

    fn alias(&mut self, frame: &mut Frame<'a, 'data>, alias: &ComponentAlias<'_>) -> Result<()> {
        match alias {
            ComponentAlias::InstanceExport {
                kind,
                instance_index,
                name,
            } => {
                let item = match &frame.instances[*instance_index as usize] {
                    InstanceDef::Items(items) => items
                        .get(*name)
                        .cloned()
                        .with_context(|| format!("internal error: no export `{name}`"))?,
                    InstanceDef::Import(path) => {
                        let path = child_path(path, name);
                        match kind {
                            ComponentExternalKind::Func => {
                                let f = frame
                                    .types()
                                    .component_function_at(frame.funcs.len() as u32);
                                let ty = self.convert_func(frame, f)?;
                                ItemDef::Func(FuncDef::Import { path, ty })
                            }
                            ComponentExternalKind::Instance => {
                                ItemDef::Instance(InstanceDef::Import(path))
                            }
                            ComponentExternalKind::Module => {
                                ItemDef::Module(ModuleSource::Import(path))
                            }
                            ComponentExternalKind::Type => {
                                let index = frame.types.len() as u32;
                                match frame.types().component_any_type_at(index) {
                                    ComponentAnyTypeId::Resource(id) => {
                                        let r = match frame.resources.get(&id.resource()) {
                                            Some(r) => *r,
                                            None => self.imported_resource(path),
                                        };
                                        ItemDef::Type(TypeDef::Resource(r))
                                    }
                                    _ => ItemDef::Type(TypeDef::Other),
                                }
                            }
                            ComponentExternalKind::Component => bail!(
                                "a component exported by an imported instance is not supported"
                            ),
                            ComponentExternalKind::Value => {
                                bail!("unsupported component model feature: values")
                            }
                        }
                    }
                };
                self.push_item(frame, item)
            }
            ComponentAlias::CoreInstanceExport {
                kind,
                instance_index,
                name,
            } => {
                let item = match &frame.core_instances[*instance_index as usize] {
                    CoreInstanceDef::Runtime(i) => {
                        let e = CoreExport {
                            instance: *i,
                            name: name.to_string(),
                        };
                        match kind {
                            ExternalKind::Func => CoreItem::Func(CoreDef::Export(e)),
                            _ => CoreItem::Export(e),
                        }
                    }
                    CoreInstanceDef::Synthetic(items) => items
                        .get(*name)
                        .cloned()
                        .with_context(|| format!("internal error: no core export `{name}`"))?,
                };
                match (kind, item) {
                    (ExternalKind::Func, CoreItem::Func(f)) => frame.core_funcs.push(f),
                    (ExternalKind::Memory, CoreItem::Export(e)) => frame.core_memories.push(e),
                    (ExternalKind::Table, CoreItem::Export(e)) => frame.core_tables.push(e),
                    (ExternalKind::Global, CoreItem::Export(e)) => frame.core_globals.push(e),
                    (ExternalKind::Tag, CoreItem::Export(e)) => frame.core_tags.push(e),
                    (ExternalKind::FuncExact, _) => {
                        bail!("unsupported proposal: custom descriptors (exact function exports)")
                    }
                    _ => bail!("internal error: core alias of the wrong kind"),
                }
                Ok(())
            }
            ComponentAlias::Outer { kind, count, index } => {
                let i = *index as usize;
                if *count == 0 {
                    match kind {
                        ComponentOuterAliasKind::CoreModule => {
                            frame.modules.push(frame.modules[i].clone())
                        }
                        ComponentOuterAliasKind::Component => {
                            frame.components.push(frame.components[i].clone())
                        }
                        ComponentOuterAliasKind::Type => {
                            let t = frame.types[i].clone();
                            self.push_type(frame, t);
                        }
                        ComponentOuterAliasKind::CoreType => {}
                    }
                    return Ok(());
                }
                let scope = frame
                    .scopes
                    .get(*count as usize - 1)
                    .context("internal error: outer alias beyond the outermost component")?
                    .clone();
                match kind {
                    ComponentOuterAliasKind::CoreModule => {
                        frame.modules.push(scope.modules[i].clone())
                    }
                    ComponentOuterAliasKind::Component => {
                        frame.components.push(scope.components[i].clone())
                    }
                    ComponentOuterAliasKind::Type => self.push_type(frame, scope.types[i].clone()),
                    ComponentOuterAliasKind::CoreType => {}
                }
                Ok(())
            }
        }
    }

    fn options(
        &self,
        frame: &Frame<'a, 'data>,
        options: &[CanonicalOption],
    ) -> Result<CanonOptions> {
        let mut out = CanonOptions {
            instance: frame.instance,
            string_encoding: StringEncoding::Utf8,
            memory: None,
            realloc: None,
            post_return: None,
        };
        for o in options {
            match o {
                CanonicalOption::UTF8 => out.string_encoding = StringEncoding::Utf8,
                CanonicalOption::UTF16 => out.string_encoding = StringEncoding::Utf16,
                CanonicalOption::CompactUTF16 => out.string_encoding = StringEncoding::CompactUtf16,
                CanonicalOption::Memory(m) => {
                    out.memory = Some(frame.core_memories[*m as usize].clone())
                }
                CanonicalOption::Realloc(f) => {
                    out.realloc = Some(frame.core_funcs[*f as usize].clone())
                }
                CanonicalOption::PostReturn(f) => {
                    out.post_return = Some(frame.core_funcs[*f as usize].clone())
                }
                CanonicalOption::Async | CanonicalOption::Callback(_) => {
                    bail!("unsupported proposal: component-model async (`async` and `callback` options)")
                }
                CanonicalOption::CoreType(_) | CanonicalOption::Gc => {
                    bail!("unsupported proposal: component-model GC (`gc` and `core-type` options)")
                }
            }
        }
        Ok(out)
    }

    /// The resource of the type at `index` in the frame's type space.
    fn resource_at(&self, frame: &Frame<'a, 'data>, index: u32) -> Result<ResourceIndex> {
        match &frame.types[index as usize] {
            TypeDef::Resource(r) => Ok(*r),
            TypeDef::Other => match frame.types().component_any_type_at(index) {
                ComponentAnyTypeId::Resource(id) => frame.resource(id.resource()),
                _ => bail!("internal error: a resource builtin on a non-resource type"),
            },
        }
    }

    fn canon(&mut self, frame: &mut Frame<'a, 'data>, canon: &CanonicalFunction) -> Result<()> {
        match canon {
            CanonicalFunction::Lift {
                core_func_index,
                type_index,
                options,
            } => {
                let ty = match frame.types().component_any_type_at(*type_index) {
                    ComponentAnyTypeId::Func(f) => self.convert_func(frame, f)?,
                    _ => bail!("internal error: lift with a non-function type"),
                };
                let func = frame.core_funcs[*core_func_index as usize].clone();
                let options = self.options(frame, options)?;
                frame.funcs.push(FuncDef::Lifted {
                    ty,
                    func,
                    options: Box::new(options),
                });
            }
            CanonicalFunction::Lower {
                func_index,
                options,
            } => {
                let lower = self.options(frame, options)?;
                let lower_ty = {
                    let f = frame.types().component_function_at(*func_index);
                    self.convert_func(frame, f)?
                };
                let def = match frame.funcs[*func_index as usize].clone() {
                    FuncDef::Lifted { ty, func, options } => {
                        let options = *options;
                        let key = (lower.clone(), lower_ty, options.clone(), ty, func.clone());
                        let index = match self.adapters.get(&key) {
                            Some(i) => *i,
                            None => {
                                let index = AdapterIndex(self.plan.adapters.len() as u32);
                                let name = format!(
                                    "{} -> {}",
                                    self.plan.component_instances[lower.instance.0 as usize].path,
                                    self.plan.component_instances[options.instance.0 as usize].path,
                                );
                                self.plan.adapters.push(Adapter {
                                    lower,
                                    lower_ty,
                                    lift: options,
                                    lift_ty: ty,
                                    callee: func,
                                    name,
                                });
                                self.plan.initializers.push(Initializer::Adapter(index));
                                self.adapters.insert(key, index);
                                index
                            }
                        };
                        CoreDef::Adapter(index)
                    }
                    FuncDef::Import { path, .. } => {
                        let lowering = Lowering {
                            import: path,
                            options: lower,
                            ty: lower_ty,
                        };
                        let index = match self.lowerings.get(&lowering) {
                            Some(i) => *i,
                            None => {
                                let index = LoweringIndex(self.plan.lowerings.len() as u32);
                                self.plan.lowerings.push(lowering.clone());
                                self.plan.initializers.push(Initializer::Lower(index));
                                self.lowerings.insert(lowering, index);
                                index
                            }
                        };
                        CoreDef::Lowering(index)
                    }
                };
                frame.core_funcs.push(def);
            }
            CanonicalFunction::ResourceNew { resource } => {
                let r = self.resource_at(frame, *resource)?;
                frame
                    .core_funcs
                    .push(CoreDef::ResourceNew(r, frame.instance));
            }
            CanonicalFunction::ResourceRep { resource } => {
                let r = self.resource_at(frame, *resource)?;
                frame
                    .core_funcs
                    .push(CoreDef::ResourceRep(r, frame.instance));
            }
            CanonicalFunction::ResourceDrop { resource } => {
                let r = self.resource_at(frame, *resource)?;
                frame
                    .core_funcs
                    .push(CoreDef::ResourceDrop(r, true, frame.instance));
            }
            // The built-ins of component model extensions: validation rejects them first
            // (see `component_features`), these errors are for completeness.
            CanonicalFunction::ThreadSpawnRef { .. }
            | CanonicalFunction::ThreadSpawnIndirect { .. }
            | CanonicalFunction::ThreadAvailableParallelism => {
                bail!("unsupported proposal: shared-everything threads (`thread.spawn` built-ins)")
            }
            CanonicalFunction::ErrorContextNew { .. }
            | CanonicalFunction::ErrorContextDebugMessage { .. }
            | CanonicalFunction::ErrorContextDrop => {
                bail!("unsupported proposal: error-context (`error-context` built-ins)")
            }
            CanonicalFunction::ThreadIndex
            | CanonicalFunction::ThreadNewIndirect { .. }
            | CanonicalFunction::ThreadResumeLater
            | CanonicalFunction::ThreadSuspend
            | CanonicalFunction::ThreadSuspendThenResume
            | CanonicalFunction::ThreadYieldThenResume
            | CanonicalFunction::ThreadSuspendThenPromote
            | CanonicalFunction::ThreadYieldThenPromote => {
                bail!("unsupported proposal: component-model threading (`thread` built-ins)")
            }
            CanonicalFunction::BackpressureInc
            | CanonicalFunction::BackpressureDec
            | CanonicalFunction::TaskReturn { .. }
            | CanonicalFunction::TaskCancel
            | CanonicalFunction::ContextGet { .. }
            | CanonicalFunction::ContextSet { .. }
            | CanonicalFunction::ThreadYield
            | CanonicalFunction::SubtaskDrop
            | CanonicalFunction::SubtaskCancel { .. }
            | CanonicalFunction::StreamNew { .. }
            | CanonicalFunction::StreamRead { .. }
            | CanonicalFunction::StreamWrite { .. }
            | CanonicalFunction::StreamForward { .. }
            | CanonicalFunction::StreamCancelRead { .. }
            | CanonicalFunction::StreamCancelWrite { .. }
            | CanonicalFunction::StreamDropReadable { .. }
            | CanonicalFunction::StreamDropWritable { .. }
            | CanonicalFunction::FutureNew { .. }
            | CanonicalFunction::FutureRead { .. }
            | CanonicalFunction::FutureWrite { .. }
            | CanonicalFunction::FutureForward { .. }
            | CanonicalFunction::FutureCancelRead { .. }
            | CanonicalFunction::FutureCancelWrite { .. }
            | CanonicalFunction::FutureDropReadable { .. }
            | CanonicalFunction::FutureDropWritable { .. }
            | CanonicalFunction::WaitableSetNew
            | CanonicalFunction::WaitableSetWait { .. }
            | CanonicalFunction::WaitableSetPoll { .. }
            | CanonicalFunction::WaitableSetDrop
            | CanonicalFunction::WaitableJoin => bail!(
                "unsupported proposal: component-model async (task, subtask, stream, future and \
                 waitable-set built-ins)"
            ),
        }
        Ok(())
    }

    fn root_export(&mut self, item: &ItemDef, name: &str) -> Result<Export> {
        Ok(match item {
            ItemDef::Func(FuncDef::Lifted { ty, func, options }) => Export::LiftedFunc {
                ty: *ty,
                func: func.clone(),
                options: options.as_ref().clone(),
            },
            ItemDef::Func(FuncDef::Import { path, ty }) => Export::ImportedFunc {
                ty: *ty,
                import: path.clone(),
            },
            ItemDef::Instance(InstanceDef::Items(items)) => {
                let mut exports = IndexMap::new();
                for (n, i) in items.iter() {
                    exports.insert(n.clone(), self.root_export(i, n)?);
                }
                Export::Instance(exports)
            }
            ItemDef::Instance(InstanceDef::Import(path)) => {
                Export::Instance(self.reexport_import(path, self.import_type_at(path)?.clone())?)
            }
            ItemDef::Module(m) => Export::Module(m.clone()),
            ItemDef::Component(_) => bail!(
                "exporting a whole component (`{name}`) from the root is not supported: it could \
                 not be fused at compile time"
            ),
            ItemDef::Type(TypeDef::Resource(r)) => Export::Resource(*r),
            ItemDef::Type(TypeDef::Other) => Export::Type,
        })
    }

    /// Exports of a re-exported imported instance.
    fn reexport_import(
        &mut self,
        path: &ImportPath,
        ty: ImportType,
    ) -> Result<IndexMap<String, Export>> {
        let ImportType::Instance(exports) = ty else {
            bail!("internal error: re-export of a non-instance import");
        };
        let mut out = IndexMap::new();
        for (name, t) in exports {
            let p = child_path(path, &name);
            let e = match t {
                ImportType::Func(ty) => Export::ImportedFunc { ty, import: p },
                ImportType::Instance(_) => Export::Instance(self.reexport_import(&p, t)?),
                ImportType::Module { .. } => Export::Module(ModuleSource::Import(p)),
                ImportType::Resource(r) => Export::Resource(r),
                ImportType::Type => Export::Type,
            };
            out.insert(name, e);
        }
        Ok(out)
    }

    // ---- Types ----

    fn convert_func(
        &mut self,
        frame: &Frame<'a, 'data>,
        id: wasmparser::component_types::ComponentFuncTypeId,
    ) -> Result<FuncTypeId> {
        let types = frame.types();
        let f = &types[id];
        // Like every construct of a component model extension, async functions and the
        // types below fail validation first; they are rejected here for completeness.
        if f.async_ {
            bail!("unsupported proposal: component-model async (`async` function types)");
        }
        let mut params = Vec::with_capacity(f.params.len());
        for (name, ty) in f.params.iter() {
            params.push((name.to_string(), self.convert_val(frame, *ty)?));
        }
        let results = match f.result {
            Some(ty) => vec![self.convert_val(frame, ty)?],
            None => Vec::new(),
        };
        Ok(self.plan.types.func_type(params, results))
    }

    fn convert_val(&mut self, frame: &Frame<'a, 'data>, ty: ComponentValType) -> Result<TypeId> {
        let t = match ty {
            ComponentValType::Primitive(p) => primitive(p)?,
            ComponentValType::Type(id) => {
                let types = frame.types();
                match &types[id] {
                    ComponentDefinedType::Primitive(p) => primitive(*p)?,
                    ComponentDefinedType::Record(r) => {
                        let mut fields = Vec::new();
                        for (name, t) in r.fields.iter() {
                            fields.push((name.to_string(), self.convert_val(frame, *t)?));
                        }
                        InterfaceType::Record(fields.into())
                    }
                    ComponentDefinedType::Variant(v) => {
                        let mut cases = Vec::new();
                        for (name, case) in v.cases.iter() {
                            let t = match case.ty {
                                Some(t) => Some(self.convert_val(frame, t)?),
                                None => None,
                            };
                            cases.push((name.to_string(), t));
                        }
                        InterfaceType::Variant(cases.into())
                    }
                    ComponentDefinedType::List { element, .. } => {
                        InterfaceType::List(self.convert_val(frame, *element)?)
                    }
                    ComponentDefinedType::Map { .. } => {
                        bail!("unsupported proposal: map types")
                    }
                    ComponentDefinedType::FixedLengthList { .. } => {
                        bail!("unsupported proposal: fixed-length lists")
                    }
                    ComponentDefinedType::Future { .. } | ComponentDefinedType::Stream { .. } => {
                        bail!(
                            "unsupported proposal: component-model async (future and stream types)"
                        )
                    }
                    ComponentDefinedType::Tuple(t) => {
                        let mut ts = Vec::new();
                        for t in t.types.iter() {
                            ts.push(self.convert_val(frame, *t)?);
                        }
                        InterfaceType::Tuple(ts.into())
                    }
                    ComponentDefinedType::Flags(labels) => {
                        if labels.len() > 32 {
                            bail!("unsupported component model feature: flags with more than 32 labels");
                        }
                        InterfaceType::Flags(labels.iter().map(|l| l.to_string()).collect())
                    }
                    ComponentDefinedType::Enum(labels) => {
                        InterfaceType::Enum(labels.iter().map(|l| l.to_string()).collect())
                    }
                    ComponentDefinedType::Option { ty, .. } => {
                        InterfaceType::Option(self.convert_val(frame, *ty)?)
                    }
                    ComponentDefinedType::Result { ok, err, .. } => InterfaceType::Result {
                        ok: match ok {
                            Some(t) => Some(self.convert_val(frame, *t)?),
                            None => None,
                        },
                        err: match err {
                            Some(t) => Some(self.convert_val(frame, *t)?),
                            None => None,
                        },
                    },
                    ComponentDefinedType::Own(r) => {
                        InterfaceType::Own(frame.resource(r.resource())?)
                    }
                    ComponentDefinedType::Borrow(r) => {
                        InterfaceType::Borrow(frame.resource(r.resource())?)
                    }
                }
            }
        };
        Ok(self.plan.types.intern(t))
    }
}

fn primitive(p: PrimitiveValType) -> Result<InterfaceType> {
    Ok(match p {
        PrimitiveValType::Bool => InterfaceType::Bool,
        PrimitiveValType::S8 => InterfaceType::S8,
        PrimitiveValType::U8 => InterfaceType::U8,
        PrimitiveValType::S16 => InterfaceType::S16,
        PrimitiveValType::U16 => InterfaceType::U16,
        PrimitiveValType::S32 => InterfaceType::S32,
        PrimitiveValType::U32 => InterfaceType::U32,
        PrimitiveValType::S64 => InterfaceType::S64,
        PrimitiveValType::U64 => InterfaceType::U64,
        PrimitiveValType::F32 => InterfaceType::F32,
        PrimitiveValType::F64 => InterfaceType::F64,
        PrimitiveValType::Char => InterfaceType::Char,
        PrimitiveValType::String => InterfaceType::String,
        PrimitiveValType::ErrorContext => bail!("unsupported proposal: error-context"),
    })
}

fn child_path(path: &ImportPath, name: &str) -> ImportPath {
    let mut p = path.clone();
    p.names.push(name.to_string());
    p
}

/// The type of a core module import, in fact's core types.
fn module_import_type(
    types: TypesRef<'_>,
    ty: wasmparser::component_types::ComponentCoreModuleTypeId,
) -> Result<ImportType> {
    let m = &types[ty];
    let mut imports = Vec::new();
    for ((module, name), t) in m.imports.iter() {
        imports.push((module.clone(), name.clone(), entity_type(types, t)?));
    }
    let mut exports = Vec::new();
    for (name, t) in m.exports.iter() {
        exports.push((name.clone(), entity_type(types, t)?));
    }
    Ok(ImportType::Module { imports, exports })
}

fn entity_type(types: TypesRef<'_>, t: &wasmparser::types::EntityType) -> Result<EntityType> {
    use wasmparser::types::EntityType as E;
    Ok(match t {
        E::Func(id) => match &types[*id].composite_type.inner {
            wasmparser::CompositeInnerType::Func(f) => {
                EntityType::Func(CoreFuncType::from_wasmparser(f)?)
            }
            _ => bail!("unsupported proposal: GC types"),
        },
        E::Table(t) => EntityType::Table(TableType::from_wasmparser(t)?),
        E::Memory(m) => EntityType::Memory(MemoryType::from_wasmparser(m)?),
        E::Global(g) => EntityType::Global(GlobalType::from_wasmparser(g)?),
        E::Tag(id) => match &types[*id].composite_type.inner {
            wasmparser::CompositeInnerType::Func(f) => {
                EntityType::Tag(CoreFuncType::from_wasmparser(f)?)
            }
            _ => bail!("unsupported proposal: GC types"),
        },
        E::FuncExact(_) => bail!("unsupported proposal: custom descriptors (exact function types)"),
    })
}

/// The component types of a plan are interned per plan; this checks two function types of
/// the same plan describe the same values (the caller's and callee's views of a call).
pub fn same_shape(types: &ComponentTypes, a: FuncTypeId, b: FuncTypeId) -> bool {
    a == b || {
        let (fa, fb) = (types.func(a), types.func(b));
        fa.params.len() == fb.params.len()
            && fa.results.len() == fb.results.len()
            && fa
                .params
                .iter()
                .zip(fb.params.iter())
                .all(|(x, y)| x.1 == y.1)
            && fa
                .results
                .iter()
                .zip(fb.results.iter())
                .all(|(x, y)| x == y)
    }
}
