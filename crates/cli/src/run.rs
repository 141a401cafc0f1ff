//! `fact run`.

use anyhow::{bail, Context, Result};
use fact::{Engine, Linker, Module, Precompiled, Store, Val, ValType};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct RunArgs {
    /// The module to run.
    file: PathBuf,
    /// The exported function to call.
    #[arg(long)]
    invoke: String,
    /// Arguments, parsed according to the function's parameter types.
    args: Vec<String>,
    /// Interrupt the call after this many seconds.
    #[arg(long)]
    timeout: Option<f64>,
}

pub fn run(args: RunArgs) -> Result<ExitCode> {
    let mut config = fact::Config::new();
    config.epoch_interruption(args.timeout.is_some());
    let engine = Engine::new(&config)?;
    let bytes = std::fs::read(&args.file)
        .with_context(|| format!("failed to read {}", args.file.display()))?;
    let module = match Engine::detect_precompiled(&bytes) {
        // SAFETY: the user asked to run this artifact; it is checked before use.
        Some(Precompiled::Module) => unsafe { Module::deserialize_file(&engine, &args.file)? },
        Some(Precompiled::Component) => {
            bail!(
                "{} is a precompiled component; components are not supported by `run` yet",
                args.file.display()
            )
        }
        None => Module::new(&engine, &bytes)
            .with_context(|| format!("failed to compile {}", args.file.display()))?,
    };
    let mut store = Store::new(&engine, ());
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
    if let Some(secs) = args.timeout {
        store.set_epoch_deadline(1);
        let engine = engine.clone();
        std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_secs_f64(secs));
            engine.increment_epoch();
        });
    }
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
    }
}
