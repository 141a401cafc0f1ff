//! The `fact` command.

mod adapters;
mod inspect;
mod run;
mod wast;
mod wave;

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "fact",
    version,
    about = "A WebAssembly component-model toolchain and runtime"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run an exported function of a module or component (.wasm, .wat or precompiled
    /// .cwasm).
    Run(run::RunArgs),
    /// Compile a module or component ahead of time.
    Compile {
        /// The input (.wasm or .wat).
        input: PathBuf,
        /// Where to write the artifact.
        #[arg(short, long)]
        output: Option<PathBuf>,
        /// Also write the Cranelift IR of every compiled function to DIR, one `.clif`
        /// file each (`{module}-{index}[-{name}].clif`).
        #[arg(long, value_name = "DIR")]
        emit_clif: Option<PathBuf>,
    },
    /// Run .wast scripts (files or directories).
    Wast(wast::WastArgs),
    /// Explain a component: imports, exports, core modules, the instantiation plan and
    /// every fused adapter.
    Inspect(inspect::InspectArgs),
    /// Write a component's adapter modules as standalone .wasm/.wat files with a
    /// plan.json describing how to instantiate them (for Web polyfills).
    Adapters(adapters::AdaptersArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(args) => run::run(args),
        Command::Compile {
            input,
            output,
            emit_clif,
        } => compile(input, output, emit_clif),
        Command::Wast(args) => wast::run(args),
        Command::Inspect(args) => inspect::run(args),
        Command::Adapters(args) => adapters::run(args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:?}");
            ExitCode::FAILURE
        }
    }
}

fn compile(
    input: PathBuf,
    output: Option<PathBuf>,
    emit_clif: Option<PathBuf>,
) -> anyhow::Result<ExitCode> {
    use anyhow::Context;
    let mut config = fact::Config::new();
    // Like `fact run`'s engine, so every artifact can run under `fact run --timeout`.
    config.epoch_interruption(true);
    if let Some(dir) = emit_clif {
        config.emit_clif(dir);
    }
    let engine = fact::Engine::new(&config)?;
    let bytes =
        std::fs::read(&input).with_context(|| format!("failed to read {}", input.display()))?;
    let wasm = binary(&input, &bytes)?;
    let artifact = if is_component(&wasm) {
        engine.precompile_component(&wasm)
    } else {
        engine.precompile_module(&wasm)
    }
    .with_context(|| format!("failed to compile {}", input.display()))?;
    let output = output.unwrap_or_else(|| input.with_extension("cwasm"));
    std::fs::write(&output, artifact)
        .with_context(|| format!("failed to write {}", output.display()))?;
    Ok(ExitCode::SUCCESS)
}

/// The binary form of an input file (text is converted).
fn binary<'a>(
    path: &std::path::Path,
    bytes: &'a [u8],
) -> anyhow::Result<std::borrow::Cow<'a, [u8]>> {
    if bytes.starts_with(b"\0asm") {
        return Ok(bytes.into());
    }
    // A complete artifact is recognized before this; an ELF file that is not one is most
    // likely a `.cwasm` cut short (a partial copy or download).
    if bytes.starts_with(b"\x7fELF") {
        anyhow::bail!(
            "{} is a truncated or damaged fact artifact ({} bytes): recompile it with \
             `fact compile`",
            path.display(),
            bytes.len()
        );
    }
    let text = std::str::from_utf8(bytes)
        .map_err(|_| anyhow::anyhow!("{} is neither wasm binary nor text", path.display()))?;
    let wat = wat::Parser::new();
    let wasm = wat.parse_str(Some(path), text)?;
    Ok(wasm.into())
}

/// Whether a wasm binary is a component (its layer field is 1).
fn is_component(wasm: &[u8]) -> bool {
    wasm.len() >= 8 && wasm[6..8] == [1, 0]
}
