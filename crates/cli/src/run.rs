//! `fact run`.

use anyhow::{bail, Context, Result};
use fact::component::Component;
use fact::{Engine, Linker, Module, Precompiled, Store, Val, ValType};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct RunArgs {
    /// The module or component to run (.wasm, .wat or precompiled .cwasm).
    file: PathBuf,
    /// The exported function to call. For a module: its name (arguments follow the file).
    /// For a component: a call in WAVE syntax, e.g. `'greet("world", [1, 2])'`; a function
    /// of an exported instance is `'instance#name(...)'`.
    #[arg(long)]
    invoke: String,
    /// Arguments of a module's function, parsed according to its parameter types.
    args: Vec<String>,
    /// Interrupt the program (instantiation included) after this many seconds.
    #[arg(long)]
    timeout: Option<f64>,
    /// Load only artifacts authenticated with the key in FILE (32 bytes, or 64 hex
    /// digits), as made by `fact compile --artifact-key-file`.
    #[arg(long, value_name = "FILE")]
    artifact_key_file: Option<PathBuf>,
    /// Store limits, spelled as Wasmtime's `-W` options: `max-memory-size=BYTES`,
    /// `max-table-elements=N`, `max-instances=N`, `max-tables=N`, `max-memories=N`,
    /// `trap-on-grow-failure[=y|n]`.
    #[arg(short = 'W', value_name = "OPT=VALUE")]
    wasm: Vec<String>,
}

/// The store limits of the `-W` options.
fn store_limits(options: &[String]) -> Result<fact::StoreLimits> {
    let mut b = fact::StoreLimitsBuilder::new();
    for option in options {
        let (name, value) = option.split_once('=').unwrap_or((option, "y"));
        let number = || -> Result<usize> {
            value
                .replace('_', "")
                .parse()
                .with_context(|| format!("`-W {option}`: `{value}` is not a number"))
        };
        b = match name {
            "max-memory-size" => b.memory_size(number()?),
            "max-table-elements" => b.table_elements(number()?),
            "max-instances" => b.instances(number()?),
            "max-tables" => b.tables(number()?),
            "max-memories" => b.memories(number()?),
            "trap-on-grow-failure" => b.trap_on_grow_failure(match value {
                "y" | "yes" | "true" => true,
                "n" | "no" | "false" => false,
                _ => bail!("`-W {option}`: expected y or n"),
            }),
            _ => bail!(
                "unknown option `-W {name}`; known: max-memory-size, max-table-elements, \
                 max-instances, max-tables, max-memories, trap-on-grow-failure"
            ),
        };
    }
    Ok(b.build())
}

pub fn run(args: RunArgs) -> Result<ExitCode> {
    let mut config = fact::Config::new();
    // Always on (the deadline is armed only with `--timeout`), so that artifacts made by
    // `fact compile`, which always has the checks, load here with or without it.
    config.epoch_interruption(true);
    if let Some(path) = &args.artifact_key_file {
        config.artifact_key(crate::read_artifact_key(path)?);
    }
    let engine = Engine::new(&config)?;
    let bytes = std::fs::read(&args.file)
        .with_context(|| format!("failed to read {}", args.file.display()))?;
    let module = match Engine::detect_precompiled(&bytes) {
        // SAFETY: the user asked to run this artifact; it is checked before use.
        Some(Precompiled::Module) => unsafe { Module::deserialize_file(&engine, &args.file)? },
        Some(Precompiled::Component) => {
            // SAFETY: as above.
            let component = unsafe { Component::deserialize_file(&engine, &args.file)? };
            return run_component(&engine, &component, &args);
        }
        None => {
            let wasm = crate::binary(&args.file, &bytes)?;
            if crate::is_component(&wasm) {
                let component = Component::new(&engine, &wasm)
                    .with_context(|| format!("failed to compile {}", args.file.display()))?;
                return run_component(&engine, &component, &args);
            }
            Module::new(&engine, &wasm)
                .with_context(|| format!("failed to compile {}", args.file.display()))?
        }
    };
    let mut store = Store::new(&engine, store_limits(&args.wasm)?);
    store.limiter(|limits| limits);
    // Armed before instantiation: a start function runs under the deadline too.
    arm_timeout(&engine, &mut store, args.timeout);
    let linker = Linker::new(&engine);
    let instance = linker.instantiate(&mut store, &module)?;
    let func = instance
        .get_func(&mut store, &args.invoke)
        .with_context(|| format!("the module exports no function `{}`", args.invoke))?;
    let ty = func.ty(&store);
    if ty.params.len() != args.args.len() {
        bail!(
            "`{}` takes {} arguments ({}), {} given",
            args.invoke,
            ty.params.len(),
            ty,
            args.args.len()
        );
    }
    let params = ty
        .params
        .iter()
        .zip(&args.args)
        .map(|(t, a)| parse_arg(*t, a))
        .collect::<Result<Vec<_>>>()?;
    let mut results: Vec<Val> = ty.results.iter().map(|t| Val::default_for(*t)).collect();
    if let Err(e) = func.call(&mut store, &params, &mut results) {
        eprintln!("error: {e:?}");
        return Ok(ExitCode::FAILURE);
    }
    for r in results {
        println!("{}", show(&r));
    }
    Ok(ExitCode::SUCCESS)
}

fn parse_arg(ty: ValType, s: &str) -> Result<Val> {
    let bad = || format!("cannot parse `{s}` as {ty}");
    Ok(match ty {
        ValType::I32 => Val::I32(parse_int(s).with_context(bad)? as i32),
        ValType::I64 => Val::I64(parse_int(s).with_context(bad)? as i64),
        ValType::F32 => Val::F32(s.parse::<f32>().with_context(bad)?.to_bits()),
        ValType::F64 => Val::F64(s.parse::<f64>().with_context(bad)?.to_bits()),
        other => bail!("arguments of type {other} cannot be given on the command line"),
    })
}

fn parse_int(s: &str) -> Result<i128> {
    let (neg, digits) = match s.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, s),
    };
    let v = match digits.strip_prefix("0x") {
        Some(hex) => i128::from_str_radix(hex, 16)?,
        None => digits.parse()?,
    };
    Ok(if neg { -v } else { v })
}

fn show(v: &Val) -> String {
    match v {
        Val::I32(x) => x.to_string(),
        Val::I64(x) => x.to_string(),
        Val::F32(b) => f32::from_bits(*b).to_string(),
        Val::F64(b) => f64::from_bits(*b).to_string(),
        Val::V128(x) => format!("{:#034x}", x.0),
        Val::FuncRef(f) => if f.is_some() { "funcref" } else { "null" }.into(),
        Val::ExternRef(e) => if e.is_some() { "externref" } else { "null" }.into(),
        Val::ExnRef(e) => if e.is_some() { "exnref" } else { "null" }.into(),
    }
}

/// Interrupts the wasm running in `store` once `timeout` seconds have passed.
fn arm_timeout<T>(engine: &Engine, store: &mut Store<T>, timeout: Option<f64>) {
    if let Some(secs) = timeout {
        store.set_epoch_deadline(1);
        let engine = engine.clone();
        std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_secs_f64(secs));
            engine.increment_epoch();
        });
    }
}

/// Runs an export of a component: the call is in WAVE syntax, results printed in WAVE.
fn run_component(engine: &Engine, component: &Component, args: &RunArgs) -> Result<ExitCode> {
    if !args.args.is_empty() {
        bail!(
            "a component's arguments go inside the call: --invoke '{}(...)'",
            args.invoke
        );
    }
    let imports = component.imports();
    if let Some((name, ty)) = imports.iter().find(|(_, ty)| ty != "type") {
        bail!("the component imports `{name}` ({ty}), which `fact run` cannot provide");
    }
    // The name may hold characters WAVE labels do not (`wasi:cli/run#run`), so only the
    // argument list goes to the WAVE parser.
    let (name, arg_list) = match args.invoke.find('(') {
        Some(i) => (&args.invoke[..i], &args.invoke[i..]),
        None => (args.invoke.as_str(), "()"),
    };
    let source = format!("f{arg_list}");
    let call = if arg_list.trim() == "()" {
        None
    } else {
        Some(
            wasm_wave::untyped::UntypedFuncCall::parse(&source)
                .map_err(|e| anyhow::anyhow!("cannot parse the call `{}`: {e}", args.invoke))?,
        )
    };
    let mut store = Store::new(engine, store_limits(&args.wasm)?);
    store.limiter(|limits| limits);
    // Armed before instantiation: start functions run under the deadline too.
    arm_timeout(engine, &mut store, args.timeout);
    let instance = fact::component::Linker::new(engine).instantiate(&mut store, component)?;
    let path: Vec<&str> = name.split('#').collect();
    let func = instance
        .get_export_func(&mut store, &path)
        .with_context(|| format!("the component exports no function `{name}`"))?;
    let (component, params, results) = func.signature(&store);
    let types = component.types();
    let wave_params = params
        .iter()
        .map(|(_, t)| crate::wave::wave_type(types, *t))
        .collect::<Result<Vec<_>>>()?;
    let values: Vec<wasm_wave::value::Value> = match &call {
        Some(call) => call
            .to_wasm_params(wave_params.iter())
            .map_err(|e| anyhow::anyhow!("invalid arguments for `{name}`: {e}"))?,
        None if wave_params.is_empty() => Vec::new(),
        None => bail!("`{name}` takes {} arguments, none given", wave_params.len()),
    };
    let params: Vec<fact::component::Val> = values.iter().map(crate::wave::to_val).collect();
    let mut out = vec![fact::component::Val::Bool(false); results.len()];
    if let Err(e) = func.call(&mut store, &params, &mut out) {
        eprintln!("error: {e:?}");
        return Ok(ExitCode::FAILURE);
    }
    for (ty, v) in results.iter().zip(&out) {
        let v = crate::wave::from_val(types, *ty, v)?;
        println!("{}", wasm_wave::to_string(&v)?);
    }
    Ok(ExitCode::SUCCESS)
}
