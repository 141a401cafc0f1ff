//! `fact adapters`: writes a component's adapter modules as standalone `.wasm` and `.wat`
//! files, with a `plan.json` that tells a Web polyfill how to instantiate them: what each
//! module imports from where, and which core instance imports each adapter.

use anyhow::{Context, Result};
use fact_environ::component::{self, CoreDef, Initializer, ModuleSource, Plan};
use serde::Serialize;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct AdaptersArgs {
    /// The component (.wasm or .wat).
    file: PathBuf,
    /// The directory to write into (created if needed).
    #[arg(short, long)]
    output: PathBuf,
}

/// `plan.json`.
#[derive(Serialize)]
struct PlanJson {
    component: String,
    adapter_modules: Vec<ModuleJson>,
}

#[derive(Serialize)]
struct ModuleJson {
    /// The `.wasm` file, relative to `plan.json`.
    wasm: String,
    wat: String,
    /// The core instance the plan creates from this module.
    core_instance: u32,
    /// The step of the instantiation plan that instantiates it (0-based), after which
    /// the core instances importing its exports are created.
    step: usize,
    imports: Vec<ImportJson>,
    exports: Vec<ExportJson>,
}

#[derive(Serialize)]
struct ImportJson {
    module: String,
    name: String,
    kind: String,
    /// What to pass: a core instance's export, the flags global of a component
    /// instance, or a runtime intrinsic (see docs/architecture.md).
    value: CoreDef,
}

#[derive(Serialize)]
struct ExportJson {
    name: String,
    /// The fused call it implements, e.g. `func(s: string) -> u32`.
    signature: String,
    /// Where it goes: `(core instance, import module, import name)`.
    imported_by: Vec<UseJson>,
}

#[derive(Serialize)]
struct UseJson {
    core_instance: u32,
    module: String,
    name: String,
}

/// Every argument slot of the compiled plan that passes `export` of `instance`.
fn uses(
    plan: &Plan,
    info: &component::ComponentInfo<'_>,
    instance: u32,
    export: &str,
) -> Vec<UseJson> {
    let mut out = Vec::new();
    for init in &plan.initializers {
        let Initializer::InstantiateModule {
            instance: user,
            module,
            args,
            ..
        } = init
        else {
            continue;
        };
        for (k, a) in args.iter().enumerate() {
            let CoreDef::Export(e) = a else { continue };
            if e.instance.0 != instance || e.name != export {
                continue;
            }
            let (module_name, name) = match module {
                ModuleSource::Static(m) => info.modules[m.0 as usize]
                    .info
                    .imports
                    .get(k)
                    .map(|i| (i.module.clone(), i.name.clone()))
                    .unwrap_or_default(),
                _ => (String::new(), format!("argument {k}")),
            };
            out.push(UseJson {
                core_instance: user.0,
                module: module_name,
                name,
            });
        }
    }
    out
}

pub fn run(args: AdaptersArgs) -> Result<ExitCode> {
    let bytes = std::fs::read(&args.file)
        .with_context(|| format!("failed to read {}", args.file.display()))?;
    let wasm = crate::binary(&args.file, &bytes)?;
    let info = component::translate(&wasm, &fact_environ::Features::default())
        .with_context(|| format!("failed to translate {}", args.file.display()))?;
    let mut plan = info.plan.clone();
    let modules = component::adapt::compile_adapters(&mut plan)
        .with_context(|| format!("failed to compile the adapters of {}", args.file.display()))?;
    std::fs::create_dir_all(&args.output)
        .with_context(|| format!("failed to create {}", args.output.display()))?;

    let mut json = PlanJson {
        component: args.file.display().to_string(),
        adapter_modules: Vec::new(),
    };
    for (i, m) in modules.iter().enumerate() {
        let stem = format!("adapters{i}");
        let wat = wasmprinter::print_bytes(&m.wasm)
            .with_context(|| format!("failed to print adapter module {i}"))?;
        let write = |ext: &str, data: &[u8]| -> Result<String> {
            let name = format!("{stem}.{ext}");
            let path = args.output.join(&name);
            std::fs::write(&path, data)
                .with_context(|| format!("failed to write {}", path.display()))?;
            Ok(name)
        };
        let step = plan
            .initializers
            .iter()
            .position(|init| {
                matches!(init, Initializer::InstantiateModule { instance, .. } if *instance == m.instance)
            })
            .unwrap_or(0);
        json.adapter_modules.push(ModuleJson {
            wasm: write("wasm", &m.wasm)?,
            wat: write("wat", wat.as_bytes())?,
            core_instance: m.instance.0,
            step,
            imports: m
                .imports
                .iter()
                .map(|imp| ImportJson {
                    module: imp.module.clone(),
                    name: imp.name.clone(),
                    kind: format!("{:?}", imp.kind).to_lowercase(),
                    value: imp.def.clone(),
                })
                .collect(),
            exports: m
                .exports
                .iter()
                .map(|(name, a)| {
                    let adapter = &plan.adapters[a.0 as usize];
                    ExportJson {
                        name: name.clone(),
                        signature: plan.types.display_func(adapter.lift_ty),
                        imported_by: uses(&plan, &info, m.instance.0, name),
                    }
                })
                .collect(),
        });
    }
    let path = args.output.join("plan.json");
    std::fs::write(&path, serde_json::to_string_pretty(&json)?)
        .with_context(|| format!("failed to write {}", path.display()))?;
    eprintln!(
        "wrote {} adapter module(s) and plan.json to {}",
        modules.len(),
        args.output.display()
    );
    Ok(ExitCode::SUCCESS)
}
