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
        /// Authenticate the artifact with the key in FILE (32 bytes, or 64 hex digits):
        /// only engines with the same key load it.
        #[arg(long, value_name = "FILE")]
        artifact_key_file: Option<PathBuf>,
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
            artifact_key_file,
        } => compile(input, output, emit_clif, artifact_key_file),
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
    artifact_key_file: Option<PathBuf>,
) -> anyhow::Result<ExitCode> {
    use anyhow::Context;
    let mut config = fact::Config::new();
    // Like `fact run`'s engine, so every artifact can run under `fact run --timeout`.
    config.epoch_interruption(true);
    if let Some(path) = artifact_key_file {
        config.artifact_key(read_artifact_key(&path)?);
    }
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

/// The artifact key in the file at `path`: exactly 32 bytes, or 64 hex digits (a final
/// line break allowed).
fn read_artifact_key(path: &std::path::Path) -> anyhow::Result<[u8; 32]> {
    use anyhow::Context;
    let bytes = std::fs::read(path)
        .with_context(|| format!("failed to read the artifact key file {}", path.display()))?;
    let format_error = || {
        anyhow::anyhow!(
            "{} is not an artifact key: the file must hold exactly 32 bytes, or 64 hex \
             digits ({} bytes found)",
            path.display(),
            bytes.len()
        )
    };
    let hex = bytes
        .strip_suffix(b"\r\n")
        .or_else(|| bytes.strip_suffix(b"\n"))
        .unwrap_or(&bytes);
    if hex.len() == 64 && hex.iter().all(u8::is_ascii_hexdigit) {
        let mut key = [0u8; 32];
        for (i, pair) in hex.chunks(2).enumerate() {
            let text = std::str::from_utf8(pair).map_err(|_| format_error())?;
            key[i] = u8::from_str_radix(text, 16).map_err(|_| format_error())?;
        }
        return Ok(key);
    }
    bytes.as_slice().try_into().map_err(|_| format_error())
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
