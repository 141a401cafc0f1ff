//! `fact inspect`: what a component is made of and what was fused — its imports and
//! exports with WIT-like signatures, its core modules, the flattened instantiation plan,
//! and every fused adapter with both sides' options.

use anyhow::{Context, Result};
use fact_environ::component::{
    self, CanonOptions, ComponentTypes, CoreDef, Export, ImportPath, ImportType, Initializer,
    ModuleSource, Plan, ResourceDef,
};
use indexmap_like::Map;
use serde::Serialize;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

/// An ordered map for the JSON output.
mod indexmap_like {
    pub type Map = Vec<(String, super::Item)>;
}

#[derive(clap::Args)]
pub struct InspectArgs {
    /// The component (.wasm or .wat).
    file: PathBuf,
    /// Print the same information as JSON.
    #[arg(long)]
    json: bool,
}

/// An import or export, described.
#[derive(Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Item {
    Func {
        signature: String,
        source: Option<String>,
    },
    Instance {
        items: Map,
    },
    Module {
        source: String,
    },
    Resource {
        resource: u32,
    },
    Type,
}

#[derive(Serialize)]
struct ModuleSummary {
    index: usize,
    name: Option<String>,
    bytes: usize,
    offset: usize,
    functions: u32,
    imported_functions: u32,
    instantiations: usize,
}

#[derive(Serialize)]
struct Options {
    component_instance: u32,
    string_encoding: &'static str,
    memory: Option<String>,
    realloc: Option<String>,
    post_return: Option<String>,
}

#[derive(Serialize)]
struct AdapterSummary {
    index: u32,
    caller_instance: String,
    callee_instance: String,
    signature: String,
    caller: Options,
    callee: Options,
    calls: String,
    may_be_recursive: bool,
}

#[derive(Serialize)]
struct AdapterModuleSummary {
    index: usize,
    bytes: usize,
    adapters: Vec<u32>,
    imports: Vec<String>,
    instantiated_before_step: usize,
}

#[derive(Serialize)]
struct Inspection {
    file: String,
    bytes: usize,
    imports: Map,
    exports: Map,
    core_modules: Vec<ModuleSummary>,
    component_instances: Vec<String>,
    core_instances: u32,
    plan: Vec<String>,
    adapters: Vec<AdapterSummary>,
    adapter_modules: Vec<AdapterModuleSummary>,
    host_lowerings: Vec<String>,
    resources: Vec<String>,
    interface_types: usize,
}

fn core_def(d: &CoreDef) -> String {
    match d {
        CoreDef::Export(e) => format!("core instance {} export {:?}", e.instance.0, e.name),
        CoreDef::Lowering(l) => format!("host lowering {}", l.0),
        CoreDef::Adapter(a) => format!("adapter {}", a.0),
        CoreDef::ResourceNew(r, i) => format!(
            "resource.new of resource {} in component instance {}",
            r.0, i.0
        ),
        CoreDef::ResourceRep(r, i) => format!(
            "resource.rep of resource {} in component instance {}",
            r.0, i.0
        ),
        CoreDef::ResourceDrop(r, _, i) => format!(
            "resource.drop of resource {} in component instance {}",
            r.0, i.0
        ),
        CoreDef::InstanceFlags(i) => format!("flags of component instance {}", i.0),
        CoreDef::Intrinsic(component::Intrinsic::Trap) => "intrinsic trap".to_string(),
        CoreDef::Intrinsic(component::Intrinsic::Transcode { op, from, to }) => format!(
            "intrinsic {} (core instance {} {:?} -> core instance {} {:?})",
            op.name(),
            from.instance.0,
            from.name,
            to.instance.0,
            to.name
        ),
        CoreDef::Intrinsic(component::Intrinsic::TransferOwn { resource, from, to }) => format!(
            "intrinsic transfer-own of resource {} (component instance {} -> {})",
            resource.0, from.0, to.0
        ),
        CoreDef::Intrinsic(component::Intrinsic::TransferBorrow { resource, from, to }) => {
            format!(
                "intrinsic transfer-borrow of resource {} (component instance {} -> {})",
                resource.0, from.0, to.0
            )
        }
        CoreDef::Intrinsic(component::Intrinsic::EnterCall) => "intrinsic enter-call".into(),
        CoreDef::Intrinsic(component::Intrinsic::ExitCall) => "intrinsic exit-call".into(),
    }
}

fn import_path(plan: &Plan, p: &ImportPath) -> String {
    let (name, _) = plan
        .imports
        .get_index(p.import.0 as usize)
        .expect("valid import");
    std::iter::once(name.clone())
        .chain(p.names.iter().cloned())
        .collect::<Vec<_>>()
        .join(".")
}

fn options(o: &CanonOptions) -> Options {
    Options {
        component_instance: o.instance.0,
        string_encoding: o.string_encoding.name(),
        memory: o
            .memory
            .as_ref()
            .map(|m| format!("core instance {} export {:?}", m.instance.0, m.name)),
        realloc: o.realloc.as_ref().map(core_def),
        post_return: o.post_return.as_ref().map(core_def),
    }
}

fn import_item(types: &ComponentTypes, t: &ImportType) -> Item {
    match t {
        ImportType::Func(f) => Item::Func {
            signature: types.display_func(*f),
            source: None,
        },
        ImportType::Instance(items) => Item::Instance {
            items: items
                .iter()
                .map(|(n, t)| (n.clone(), import_item(types, t)))
                .collect(),
        },
        ImportType::Module { imports, exports } => Item::Module {
            source: format!(
                "core module with {} imports, {} exports",
                imports.len(),
                exports.len()
            ),
        },
        ImportType::Resource(r) => Item::Resource { resource: r.0 },
        ImportType::Type => Item::Type,
    }
}

fn module_source(plan: &Plan, m: &ModuleSource) -> String {
    match m {
        ModuleSource::Static(i) => format!("core module {}", i.0),
        ModuleSource::Import(p) => format!("imported core module {}", import_path(plan, p)),
        ModuleSource::Adapter(i) => format!("adapter module {}", i.0),
    }
}

fn export_item(plan: &Plan, e: &Export) -> Item {
    match e {
        Export::LiftedFunc { ty, func, options } => Item::Func {
            signature: plan.types.display_func(*ty),
            source: Some(format!(
                "lifted from {} ({}, component instance {})",
                core_def(func),
                options.string_encoding.name(),
                options.instance.0
            )),
        },
        Export::ImportedFunc { ty, import } => Item::Func {
            signature: plan.types.display_func(*ty),
            source: Some(format!("re-exported import {}", import_path(plan, import))),
        },
        Export::Instance(items) => Item::Instance {
            items: items
                .iter()
                .map(|(n, e)| (n.clone(), export_item(plan, e)))
                .collect(),
        },
        Export::Module(m) => Item::Module {
            source: module_source(plan, m),
        },
        Export::Resource(r) => Item::Resource { resource: r.0 },
        Export::Type => Item::Type,
    }
}

fn describe(
    file: String,
    bytes: usize,
    info: &component::ComponentInfo<'_>,
    adapter_modules: &[component::adapt::AdapterModule],
    compiled: &Plan,
) -> Inspection {
    let plan = &info.plan;
    let mut instantiations = vec![0; info.modules.len()];
    let mut steps = Vec::new();
    for init in &plan.initializers {
        steps.push(match init {
            Initializer::BeginComponentInstance(i) => {
                let c = &plan.component_instances[i.0 as usize];
                match c.parent {
                    Some(p) => format!(
                        "begin component instance {} ({}) inside {}",
                        i.0, c.path, p.0
                    ),
                    None => format!("begin component instance {} ({})", i.0, c.path),
                }
            }
            Initializer::InstantiateModule {
                instance,
                module,
                args,
                component_instance,
            } => {
                if let ModuleSource::Static(m) = module {
                    instantiations[m.0 as usize] += 1;
                }
                let mut s = format!(
                    "instantiate {} as core instance {} in component instance {}",
                    module_source(plan, module),
                    instance.0,
                    component_instance.0
                );
                if let ModuleSource::Static(m) = module {
                    for (imp, arg) in info.modules[m.0 as usize].info.imports.iter().zip(args) {
                        let _ = write!(
                            s,
                            "\n       import {:?} {:?} <- {}",
                            imp.module,
                            imp.name,
                            core_def(arg)
                        );
                    }
                }
                s
            }
            Initializer::Lower(l) => {
                let low = &plan.lowerings[l.0 as usize];
                format!(
                    "lower host import {} as host lowering {}: {}",
                    import_path(plan, &low.import),
                    l.0,
                    plan.types.display_func(low.ty)
                )
            }
            Initializer::Adapter(a) => {
                let ad = &plan.adapters[a.0 as usize];
                format!(
                    "fuse adapter {} ({}): {}",
                    a.0,
                    ad.name,
                    plan.types.display_func(ad.lift_ty)
                )
            }
            Initializer::DefineResource(r) => format!("define resource {}", r.0),
        });
    }
    Inspection {
        file,
        bytes,
        imports: plan
            .imports
            .iter()
            .map(|(n, t)| (n.clone(), import_item(&plan.types, t)))
            .collect(),
        exports: plan
            .exports
            .iter()
            .map(|(n, e)| (n.clone(), export_item(plan, e)))
            .collect(),
        core_modules: info
            .modules
            .iter()
            .enumerate()
            .map(|(i, m)| ModuleSummary {
                index: i,
                name: m.info.name.clone(),
                bytes: info.module_wasm[i].len(),
                offset: info.module_offsets[i],
                functions: m.info.functions.len() as u32,
                imported_functions: m.info.num_imported_funcs,
                instantiations: instantiations[i],
            })
            .collect(),
        component_instances: plan
            .component_instances
            .iter()
            .map(|c| c.path.clone())
            .collect(),
        core_instances: plan.num_core_instances,
        plan: steps,
        adapters: plan
            .adapters
            .iter()
            .enumerate()
            .map(|(i, a)| AdapterSummary {
                index: i as u32,
                caller_instance: plan.component_instances[a.lower.instance.0 as usize]
                    .path
                    .clone(),
                callee_instance: plan.component_instances[a.lift.instance.0 as usize]
                    .path
                    .clone(),
                signature: plan.types.display_func(a.lift_ty),
                caller: options(&a.lower),
                callee: options(&a.lift),
                calls: core_def(&a.callee),
                may_be_recursive: plan.call_might_be_recursive(a.lower.instance, a.lift.instance),
            })
            .collect(),
        host_lowerings: plan
            .lowerings
            .iter()
            .map(|l| {
                format!(
                    "{}: {} ({})",
                    import_path(plan, &l.import),
                    plan.types.display_func(l.ty),
                    l.options.string_encoding.name()
                )
            })
            .collect(),
        resources: plan
            .resources
            .iter()
            .map(|r| match r {
                ResourceDef::Defined { instance, dtor } => format!(
                    "defined by component instance {}{}",
                    instance.0,
                    dtor.as_ref()
                        .map(|d| format!(", destructor {}", core_def(d)))
                        .unwrap_or_default()
                ),
                ResourceDef::Imported(p) => format!("imported as {}", import_path(plan, p)),
            })
            .collect(),
        interface_types: plan.types.num_types(),
        adapter_modules: adapter_modules
            .iter()
            .enumerate()
            .map(|(i, m)| AdapterModuleSummary {
                index: i,
                bytes: m.wasm.len(),
                adapters: m.exports.iter().map(|(_, a)| a.0).collect(),
                imports: m
                    .imports
                    .iter()
                    .map(|imp| format!("{:?} {:?} <- {}", imp.module, imp.name, core_def(&imp.def)))
                    .collect(),
                instantiated_before_step: step_of(compiled, m.instance),
            })
            .collect(),
    }
}

/// The number of the first step of the original plan after the adapter module's
/// instantiation (the step that needs it).
fn step_of(compiled: &Plan, instance: component::CoreInstanceIndex) -> usize {
    let mut original = 0;
    for init in &compiled.initializers {
        match init {
            Initializer::InstantiateModule {
                instance: i,
                module: ModuleSource::Adapter(_),
                ..
            } => {
                if *i == instance {
                    return original;
                }
            }
            _ => original += 1,
        }
    }
    original
}

fn write_items(out: &mut String, items: &Map, indent: usize) {
    for (name, item) in items {
        let pad = " ".repeat(indent);
        match item {
            Item::Func { signature, source } => {
                let _ = write!(out, "{pad}{name}: {signature}");
                if let Some(s) = source {
                    let _ = write!(out, "\n{pad}    ({s})");
                }
                out.push('\n');
            }
            Item::Instance { items } => {
                let _ = writeln!(out, "{pad}{name}: instance {{");
                write_items(out, items, indent + 2);
                let _ = writeln!(out, "{pad}}}");
            }
            Item::Module { source } => {
                let _ = writeln!(out, "{pad}{name}: {source}");
            }
            Item::Resource { resource } => {
                let _ = writeln!(out, "{pad}{name}: resource {resource}");
            }
            Item::Type => {
                let _ = writeln!(out, "{pad}{name}: type");
            }
        }
    }
}

fn to_text(i: &Inspection) -> String {
    let mut out = format!("component {} ({} bytes)\n", i.file, i.bytes);
    let _ = writeln!(out, "\nimports:");
    write_items(&mut out, &i.imports, 2);
    let _ = writeln!(out, "\nexports:");
    write_items(&mut out, &i.exports, 2);
    let _ = writeln!(out, "\ncore modules:");
    for m in &i.core_modules {
        let _ = writeln!(
            out,
            "  {}{}: {} bytes, {} functions ({} imported), at offset {:#x}, instantiated {} time(s)",
            m.index,
            m.name.as_ref().map(|n| format!(" ({n})")).unwrap_or_default(),
            m.bytes,
            m.functions,
            m.imported_functions,
            m.offset,
            m.instantiations
        );
    }
    let _ = writeln!(
        out,
        "\nplan ({} steps, {} component instances, {} core instances):",
        i.plan.len(),
        i.component_instances.len(),
        i.core_instances
    );
    for (n, step) in i.plan.iter().enumerate() {
        let _ = writeln!(out, "  {n:>3}: {step}");
    }
    let _ = writeln!(out, "\nfused adapters ({}):", i.adapters.len());
    for a in &i.adapters {
        let _ = writeln!(
            out,
            "  adapter {}: {} -> {}",
            a.index, a.caller_instance, a.callee_instance
        );
        let _ = writeln!(out, "    type:   {}", a.signature);
        for (side, o) in [("caller", &a.caller), ("callee", &a.callee)] {
            let _ = writeln!(
                out,
                "    {side}: {}, memory {}, realloc {}{}",
                o.string_encoding,
                o.memory.as_deref().unwrap_or("none"),
                o.realloc.as_deref().unwrap_or("none"),
                if side == "callee" {
                    format!(
                        ", post-return {}",
                        o.post_return.as_deref().unwrap_or("none")
                    )
                } else {
                    String::new()
                }
            );
        }
        let _ = writeln!(out, "    calls:  {}", a.calls);
        if a.may_be_recursive {
            let _ = writeln!(out, "    note:   caller and callee are the same instance or nested: every call traps (cannot enter component instance)");
        }
    }
    let _ = writeln!(out, "\nadapter modules ({}):", i.adapter_modules.len());
    for m in &i.adapter_modules {
        let _ = writeln!(
            out,
            "  adapter module {}: {} bytes, adapters {:?}, instantiated before step {}",
            m.index, m.bytes, m.adapters, m.instantiated_before_step
        );
        for imp in &m.imports {
            let _ = writeln!(out, "    import {imp}");
        }
    }
    if !i.host_lowerings.is_empty() {
        let _ = writeln!(out, "\nhost lowerings ({}):", i.host_lowerings.len());
        for (n, l) in i.host_lowerings.iter().enumerate() {
            let _ = writeln!(out, "  {n}: {l}");
        }
    }
    if !i.resources.is_empty() {
        let _ = writeln!(out, "\nresources ({}):", i.resources.len());
        for (n, r) in i.resources.iter().enumerate() {
            let _ = writeln!(out, "  {n}: {r}");
        }
    }
    let _ = writeln!(out, "\n{} interface types", i.interface_types);
    out
}

pub fn run(args: InspectArgs) -> Result<ExitCode> {
    let bytes = std::fs::read(&args.file)
        .with_context(|| format!("failed to read {}", args.file.display()))?;
    let wasm = wat::parse_bytes(&bytes)?;
    let info = component::translate(&wasm, &fact_environ::Features::default())
        .with_context(|| format!("failed to translate {}", args.file.display()))?;
    let mut compiled = info.plan.clone();
    let modules = component::adapt::compile_adapters(&mut compiled)
        .with_context(|| format!("failed to compile the adapters of {}", args.file.display()))?;
    let inspection = describe(
        args.file.display().to_string(),
        wasm.len(),
        &info,
        &modules,
        &compiled,
    );
    if args.json {
        println!("{}", serde_json::to_string_pretty(&inspection)?);
    } else {
        print!("{}", to_text(&inspection));
    }
    Ok(ExitCode::SUCCESS)
}
