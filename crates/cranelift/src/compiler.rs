//! The compiler: Cranelift configured for the host, and the compilation of a translated
//! module's functions (in parallel) and trampolines.

use crate::translate::{translate_function, FuncEnv};
use crate::trap_from_cranelift;
use anyhow::{bail, Context as _, Result};
use cranelift_codegen::binemit::Reloc;
use cranelift_codegen::control::ControlPlane;
use cranelift_codegen::ir::{self, ExternalName};
use cranelift_codegen::isa::{CallConv, OwnedTargetIsa, TargetIsa};
use cranelift_codegen::settings::{self, Configurable};
use cranelift_codegen::{Context, FinalizedMachExceptionHandler, FinalizedRelocTarget};
use cranelift_frontend::FunctionBuilderContext;
use fact_environ::artifact::HandlerSite;
use fact_environ::translate::{explain_invalid, ModuleTranslation};
use fact_environ::vmoffsets::VMOffsets;
use fact_environ::{FuncType, ModuleInfo, OptLevel, Trap, Tunables};
use rayon::prelude::*;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// What one compilation thread reuses from function to function: Cranelift's and the
/// frontend's allocations.
struct Workspace {
    builder: FunctionBuilderContext,
    codegen: Context,
    validator: wasmparser::FuncValidatorAllocations,
}

impl Default for Workspace {
    fn default() -> Workspace {
        Workspace {
            builder: FunctionBuilderContext::new(),
            codegen: Context::new(),
            validator: Default::default(),
        }
    }
}

/// The stack of every compilation thread. Translation keeps its control stack on the heap
/// and Cranelift's passes are iterative (the functions in `tests/translator_limits.rs`, at
/// wasmparser's limits, compile with 2 MiB); the margin is for shapes nobody has tried,
/// and costs only address space, since stack pages are committed as they are touched.
const COMPILE_STACK_SIZE: usize = 64 << 20;

/// Modules with at most this many bytes of function bodies are compiled on the calling
/// thread.
const INLINE_COMPILE_LIMIT: usize = 4096;

/// The threads functions are compiled on: all cores, or one for sequential compilation.
fn compile_pool(parallel: bool) -> Result<&'static rayon::ThreadPool> {
    static PARALLEL: OnceLock<rayon::ThreadPool> = OnceLock::new();
    static SEQUENTIAL: OnceLock<rayon::ThreadPool> = OnceLock::new();
    let (cell, threads) = if parallel {
        (&PARALLEL, 0)
    } else {
        (&SEQUENTIAL, 1)
    };
    if let Some(pool) = cell.get() {
        return Ok(pool);
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .stack_size(COMPILE_STACK_SIZE)
        .thread_name(|i| format!("fact-compile-{i}"))
        .build()
        .context("starting the compilation threads")?;
    Ok(cell.get_or_init(|| pool))
}

/// A relocation: a call from compiled code to a function of the same module.
#[derive(Clone, Debug)]
pub struct Relocation {
    /// Offset of the patched bytes in the function's code.
    pub offset: u32,
    pub kind: Reloc,
    /// The called function's index in its module.
    pub target_func: u32,
    pub addend: i64,
}

/// The machine code of one function or trampoline, with what the object builder and the
/// runtime need to know about it.
#[derive(Clone, Debug, Default)]
pub struct CompiledCode {
    pub code: Vec<u8>,
    pub relocs: Vec<Relocation>,
    /// `(offset in code, trap)`; `None` is a pending trap.
    pub traps: Vec<(u32, Option<Trap>)>,
    /// `(offset in code, offset in the wasm binary)`.
    pub address_map: Vec<(u32, u32)>,
    /// The call sites inside a `try_table`, sorted by return address: where an exception
    /// thrown by the callee lands (offsets in code).
    pub handlers: Vec<HandlerSite>,
}

/// A compiled core module, ready for the object builder.
pub struct CompiledModule {
    pub info: ModuleInfo,
    /// The defined functions, in order.
    pub funcs: Vec<CompiledCode>,
    /// One entry trampoline per distinct signature of an escaping function, with the
    /// module type indices that use it.
    pub array_trampolines: Vec<(Vec<u32>, CompiledCode)>,
    /// The module's data blob.
    pub data: Vec<u8>,
}

/// Cranelift, configured once per engine.
pub struct Compiler {
    isa: OwnedTargetIsa,
    tunables: Tunables,
    parallel: bool,
    /// Where to write the CLIF of every compiled function, if anywhere.
    clif_dir: Option<PathBuf>,
}

impl Compiler {
    /// A compiler for the host machine. With `clif_dir`, the CLIF of every function is
    /// written there before Cranelift compiles it (`{module}-{index}[-{name}].clif`).
    pub fn new(tunables: Tunables, parallel: bool, clif_dir: Option<PathBuf>) -> Result<Compiler> {
        let mut flags = settings::builder();
        let set = |flags: &mut settings::Builder, k: &str, v: &str| {
            flags
                .set(k, v)
                .with_context(|| format!("setting Cranelift flag {k}={v}"))
        };
        let opt_level = match tunables.opt_level {
            OptLevel::None => "none",
            OptLevel::Speed => "speed",
            OptLevel::SpeedAndSize => "speed_and_size",
        };
        set(&mut flags, "opt_level", opt_level)?;
        set(
            &mut flags,
            "enable_nan_canonicalization",
            if tunables.nan_canonicalization {
                "true"
            } else {
                "false"
            },
        )?;
        // Multi-value functions may return more values than there are return registers;
        // both sides of every such call are compiled by us, so the extra values go through
        // a return area Cranelift adds on its own.
        set(&mut flags, "enable_multi_ret_implicit_sret", "true")?;
        // Frame pointers let the runtime walk wasm frames for backtraces.
        set(&mut flags, "preserve_frame_pointers", "true")?;
        // Stack overflow is caught by the stack-limit check in every prologue.
        set(&mut flags, "enable_probestack", "false")?;
        set(&mut flags, "unwind_info", "false")?;
        set(&mut flags, "enable_heap_access_spectre_mitigation", "false")?;
        set(
            &mut flags,
            "enable_table_access_spectre_mitigation",
            "false",
        )?;
        set(
            &mut flags,
            "enable_verifier",
            if cfg!(debug_assertions) {
                "true"
            } else {
                "false"
            },
        )?;
        let isa_builder = cranelift_native::builder()
            .map_err(|e| anyhow::anyhow!("this host is not supported by Cranelift: {e}"))?;
        let isa = isa_builder
            .finish(settings::Flags::new(flags))
            .context("configuring Cranelift for this host")?;
        if isa.pointer_bits() != 64 {
            bail!("fact supports 64-bit hosts only");
        }
        if let Some(dir) = &clif_dir {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("creating the CLIF directory {}", dir.display()))?;
        }
        Ok(Compiler {
            isa,
            tunables,
            parallel,
            clif_dir,
        })
    }

    pub fn isa(&self) -> &dyn TargetIsa {
        &*self.isa
    }

    pub fn tunables(&self) -> &Tunables {
        &self.tunables
    }

    /// Everything compiled code depends on. Artifacts record it, and an engine loads only
    /// artifacts whose string equals its own.
    pub fn compat_string(&self) -> String {
        let mut isa_flags: Vec<String> =
            self.isa.isa_flags().iter().map(|v| v.to_string()).collect();
        isa_flags.sort();
        format!(
            "fact {}; cranelift {}; target {}; flags {}; isa {}; {:?}",
            env!("CARGO_PKG_VERSION"),
            cranelift_codegen::VERSION,
            self.isa.triple(),
            self.isa.flags().to_string().replace('\n', " ").trim(),
            isa_flags.join(","),
            self.tunables,
        )
    }

    /// Compiles every function of a translated module, and its entry trampolines. `wasm`
    /// is the module's binary, used to explain validation errors; `label` names the module
    /// in CLIF file names.
    pub fn compile_module(
        &self,
        translation: ModuleTranslation<'_>,
        wasm: &[u8],
        label: &str,
    ) -> Result<CompiledModule> {
        let data = translation.data_blob();
        let info = translation.info;
        let offsets = VMOffsets::new(&info);
        let bodies = translation.bodies;
        let compile_one = |ws: &mut Workspace,
                           (i, (body, validator)): (
            usize,
            (
                wasmparser::FunctionBody<'_>,
                wasmparser::FuncToValidate<wasmparser::ValidatorResources>,
            ),
        )| {
            let index = info.num_imported_funcs + i as u32;
            let result = self.compile_function(ws, &info, &offsets, index, &body, validator, label);
            if result.is_err() {
                // A failed compilation may leave the workspace half-used.
                *ws = Workspace::default();
            }
            // A validation error may be a proposal fact does not support.
            let result = result.map_err(|e| {
                if e.downcast_ref::<wasmparser::BinaryReaderError>().is_some() {
                    explain_invalid(wasm, e)
                } else {
                    e
                }
            });
            result.with_context(|| {
                format!(
                    "failed to compile function {}",
                    info.func_display_name(index)
                )
            })
        };
        // A small module is compiled right here: handing it to the pool costs more than
        // its compilation, and its functions need little stack.
        let code_size: usize = bodies.iter().map(|(b, _)| b.as_bytes().len()).sum();
        let funcs: Vec<CompiledCode> = if code_size <= INLINE_COMPILE_LIMIT {
            let mut ws = Workspace::default();
            bodies
                .into_iter()
                .enumerate()
                .map(|item| compile_one(&mut ws, item))
                .collect::<Result<_>>()?
        } else {
            compile_pool(self.parallel)?.install(|| {
                bodies
                    .into_par_iter()
                    .enumerate()
                    .map_init(Workspace::default, compile_one)
                    .collect::<Result<_>>()
            })?
        };

        // Entry trampolines, one per distinct signature of an escaping defined function.
        let mut by_type: HashMap<&FuncType, Vec<u32>> = HashMap::new();
        let mut order = Vec::new();
        for decl in &info.functions[info.num_imported_funcs as usize..] {
            if decl.escapes() {
                let ty = &info.types[decl.ty as usize];
                let entry = by_type.entry(ty).or_insert_with(|| {
                    order.push(ty);
                    Vec::new()
                });
                if !entry.contains(&decl.ty) {
                    entry.push(decl.ty);
                }
            }
        }
        let array_trampolines = order
            .into_iter()
            .map(|ty| Ok((by_type[ty].clone(), self.array_to_wasm_trampoline(ty)?)))
            .collect::<Result<_>>()?;
        Ok(CompiledModule {
            info,
            funcs,
            array_trampolines,
            data,
        })
    }

    #[allow(clippy::too_many_arguments)]
    fn compile_function(
        &self,
        ws: &mut Workspace,
        module: &ModuleInfo,
        offsets: &VMOffsets,
        index: u32,
        body: &wasmparser::FunctionBody<'_>,
        validator: wasmparser::FuncToValidate<wasmparser::ValidatorResources>,
        label: &str,
    ) -> Result<CompiledCode> {
        let env = FuncEnv::new(&*self.isa, module, offsets, &self.tunables);
        let mut validator = validator.into_validator(std::mem::take(&mut ws.validator));
        ws.codegen.clear();
        let Workspace {
            builder, codegen, ..
        } = ws;
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            translate_function(env, builder, &mut codegen.func, index, body, &mut validator)
        }))
        .unwrap_or_else(|panic| {
            bail!(
                "internal compiler error: the translator panicked: {}",
                panic_message(&panic)
            )
        })?;
        ws.validator = validator.into_allocations();
        if let Some(dir) = &self.clif_dir {
            write_clif(
                dir,
                label,
                index,
                module.func_names.get(&index),
                &ws.codegen.func,
            )?;
        }
        self.compile_in(&mut ws.codegen)
    }

    /// Runs Cranelift on a function and collects its code, relocations, traps and
    /// address map.
    pub(crate) fn finish(&self, func: ir::Function) -> Result<CompiledCode> {
        self.compile_in(&mut Context::for_function(func))
    }

    /// Runs Cranelift on the function in `ctx`, as [`Compiler::finish`].
    fn compile_in(&self, ctx: &mut Context) -> Result<CompiledCode> {
        // A panic inside Cranelift is a bug, in it or in the IR we gave it; either way the
        // host gets an error for this compilation rather than an unwinding thread.
        let compiled = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            ctx.compile(&*self.isa, &mut ControlPlane::default())
                .map(|_| ())
                .map_err(|e| anyhow::anyhow!("Cranelift failed: {:?}", e.inner))
        }));
        match compiled {
            Ok(result) => result?,
            Err(panic) => bail!(
                "internal compiler error: Cranelift panicked: {}",
                panic_message(&panic)
            ),
        }
        let compiled = ctx.compiled_code().context("Cranelift produced no code")?;
        let buffer = &compiled.buffer;
        let func = &ctx.func;
        let mut relocs = Vec::new();
        for r in buffer.relocs() {
            let target = match &r.target {
                FinalizedRelocTarget::ExternalName(ExternalName::User(name)) => {
                    func.params.user_named_funcs()[*name].index
                }
                FinalizedRelocTarget::ExternalName(ExternalName::LibCall(lc)) => bail!(
                    "the generated code needs the library routine {lc:?}, which fact does not provide (on x86-64, a CPU without SSE4.1 needs it)"
                ),
                other => bail!("unexpected relocation target {other:?}"),
            };
            relocs.push(Relocation {
                offset: r.offset,
                kind: r.kind,
                target_func: target,
                addend: r.addend,
            });
        }
        let traps = buffer
            .traps()
            .iter()
            .map(|t| Ok((t.offset, trap_from_cranelift(t.code)?)))
            .collect::<Result<_>>()?;
        let mut handlers = Vec::new();
        for site in buffer.call_sites() {
            let landing = site.exception_handlers.iter().find_map(|h| match h {
                FinalizedMachExceptionHandler::Default(offset) => Some(*offset),
                _ => None,
            });
            if let Some(handler) = landing {
                let frame_offset = site
                    .frame_offset
                    .context("Cranelift did not record the frame size of a try_call")?;
                handlers.push(HandlerSite {
                    ret_addr: site.ret_addr,
                    frame_offset,
                    handler,
                });
            }
        }
        handlers.sort_by_key(|h| h.ret_addr);
        let mut address_map: Vec<(u32, u32)> = Vec::new();
        for loc in buffer.get_srclocs_sorted() {
            let wasm = loc.loc;
            if wasm.is_default() {
                continue;
            }
            if address_map.last().map(|l| l.1) != Some(wasm.bits()) {
                address_map.push((loc.start, wasm.bits()));
            }
        }
        Ok(CompiledCode {
            code: buffer.data().to_vec(),
            relocs,
            traps,
            address_map,
            handlers,
        })
    }

    /// The convention of every call between the host and wasm.
    pub(crate) fn host_call_conv(&self) -> CallConv {
        CallConv::triple_default(self.isa.triple())
    }
}

/// Writes `func`'s CLIF to `dir/{module}-{index}[-{name}].clif`, with every character
/// outside `[A-Za-z0-9._-]` in the names replaced so that any name makes a file name.
fn write_clif(
    dir: &Path,
    module: &str,
    index: u32,
    name: Option<&String>,
    func: &ir::Function,
) -> Result<()> {
    let clean = |s: &str| -> String {
        s.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || "._-".contains(c) {
                    c
                } else {
                    '_'
                }
            })
            .collect()
    };
    let file = match name {
        Some(name) => format!("{}-{index}-{}.clif", clean(module), clean(name)),
        None => format!("{}-{index}.clif", clean(module)),
    };
    let path = dir.join(file);
    std::fs::write(&path, func.display().to_string())
        .with_context(|| format!("writing {}", path.display()))
}

/// The message of a caught panic.
fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> &str {
    panic
        .downcast_ref::<String>()
        .map(|s| s.as_str())
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("(no message)")
}
