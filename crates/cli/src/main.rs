//! The `fact` command.

mod inspect;
mod run;
mod wast;

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
    /// Run an exported function of a module (.wasm, .wat or precompiled .cwasm).
    Run(run::RunArgs),
    /// Compile a module ahead of time.
    Compile {
        /// The input (.wasm or .wat).
        input: PathBuf,
        /// Where to write the artifact.
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
    /// Run .wast scripts (files or directories).
    Wast(wast::WastArgs),
    /// Explain a component: imports, exports, core modules, the instantiation plan and
    /// every fused adapter.
    Inspect(inspect::InspectArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(args) => run::run(args),
        Command::Compile { input, output } => compile(input, output),
        Command::Wast(args) => wast::run(args),
        Command::Inspect(args) => inspect::run(args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:?}");
            ExitCode::FAILURE
        }
    }
}

fn compile(input: PathBuf, output: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    use anyhow::Context;
    let engine = fact::Engine::default();
    let bytes =
        std::fs::read(&input).with_context(|| format!("failed to read {}", input.display()))?;
    let artifact = engine
        .precompile_module(&bytes)
        .with_context(|| format!("failed to compile {}", input.display()))?;
    let output = output.unwrap_or_else(|| input.with_extension("cwasm"));
    std::fs::write(&output, artifact)
        .with_context(|| format!("failed to write {}", output.display()))?;
    Ok(ExitCode::SUCCESS)
}
