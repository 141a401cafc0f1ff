//! Engine configuration.

pub use fact_environ::OptLevel;
use fact_environ::Tunables;
use std::path::PathBuf;

/// How an [`Engine`](crate::Engine) compiles and runs code.
#[derive(Clone, Debug)]
pub struct Config {
    pub(crate) tunables: Tunables,
    pub(crate) max_wasm_stack: usize,
    pub(crate) parallel_compilation: bool,
    pub(crate) emit_clif: Option<PathBuf>,
    pub(crate) artifact_key: Option<fact_environ::artifact::ArtifactKey>,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            tunables: Tunables::default(),
            max_wasm_stack: 512 * 1024,
            parallel_compilation: true,
            emit_clif: None,
            artifact_key: None,
        }
    }
}

impl Config {
    pub fn new() -> Config {
        Config::default()
    }

    /// Insert epoch checks at function entries and loop headers, so that
    /// [`Engine::increment_epoch`](crate::Engine::increment_epoch) past a store's deadline
    /// interrupts running code. Off by default.
    pub fn epoch_interruption(&mut self, enable: bool) -> &mut Config {
        self.tunables.epoch_interruption = enable;
        self
    }

    /// Count executed instructions against the store's fuel. Off by default.
    pub fn consume_fuel(&mut self, enable: bool) -> &mut Config {
        self.tunables.consume_fuel = enable;
        self
    }

    /// The most stack wasm code may use (512 KiB by default); deeper recursion traps with
    /// `call stack exhausted`.
    pub fn max_wasm_stack(&mut self, bytes: usize) -> &mut Config {
        self.max_wasm_stack = bytes;
        self
    }

    /// With guard pages (the default) each 32-bit memory reserves 4 GiB plus a guard
    /// region and compiled code does no bounds checks; without, every access is checked.
    pub fn guard_pages(&mut self, enable: bool) -> &mut Config {
        self.tunables.guard_pages = enable;
        self
    }

    /// How hard Cranelift optimizes ([`OptLevel::Speed`] by default).
    pub fn cranelift_opt_level(&mut self, level: OptLevel) -> &mut Config {
        self.tunables.opt_level = level;
        self
    }

    /// Make every NaN that float instructions produce the canonical NaN, so results are
    /// bit-for-bit deterministic across hosts (off by default; costs a little speed).
    pub fn cranelift_nan_canonicalization(&mut self, enable: bool) -> &mut Config {
        self.tunables.nan_canonicalization = enable;
        self
    }

    /// Accept the tail-call proposal (`return_call`, `return_call_indirect`,
    /// `return_call_ref`). On by default.
    pub fn wasm_tail_call(&mut self, enable: bool) -> &mut Config {
        self.tunables.features.tail_call = enable;
        self
    }

    /// Accept 64-bit memories and tables (memory64). On by default.
    pub fn wasm_memory64(&mut self, enable: bool) -> &mut Config {
        self.tunables.features.memory64 = enable;
        self
    }

    /// Accept typed function references, with `rec` groups and `sub` function types. On
    /// by default. (GC heap types — structs, arrays, `i31` — are not supported.)
    pub fn wasm_function_references(&mut self, enable: bool) -> &mut Config {
        self.tunables.features.function_references = enable;
        self
    }

    /// Accept the relaxed SIMD instructions. On by default.
    pub fn wasm_relaxed_simd(&mut self, enable: bool) -> &mut Config {
        self.tunables.features.relaxed_simd = enable;
        self
    }

    /// Make the relaxed SIMD instructions compute what the specification's
    /// deterministic profile prescribes (`relaxed_swizzle` as `swizzle`, `relaxed_trunc`
    /// as `trunc_sat`, `relaxed_madd` unfused, …), the same on every host. Off by
    /// default: each instruction then takes the fastest lowering this host has (one
    /// `pshufb` for `relaxed_swizzle`, `cvttps2dq` for `relaxed_trunc_f32x4_s`, FMA where
    /// the CPU has it), whose results for out-of-range inputs are the host's.
    pub fn relaxed_simd_deterministic(&mut self, enable: bool) -> &mut Config {
        self.tunables.relaxed_simd_deterministic = enable;
        self
    }

    /// Accept exception handling (tags, `throw`, `throw_ref`, `try_table`). On by default.
    pub fn wasm_exceptions(&mut self, enable: bool) -> &mut Config {
        self.tunables.features.exceptions = enable;
        self
    }

    /// Write the Cranelift IR of every function compiled to a `.clif` file in `dir`
    /// (`{module}-{index}[-{name}].clif`), for looking at what wasm becomes.
    pub fn emit_clif(&mut self, dir: impl Into<PathBuf>) -> &mut Config {
        self.emit_clif = Some(dir.into());
        self
    }

    /// Authenticate artifacts with `key`: every artifact this engine makes carries a keyed
    /// MAC (BLAKE3), and deserializing accepts only artifacts made under the same key, so
    /// precompiled code can be loaded from storage that others may write. A keyed engine
    /// refuses unkeyed artifacts, and an unkeyed engine keyed ones.
    pub fn artifact_key(&mut self, key: [u8; 32]) -> &mut Config {
        self.artifact_key = Some(key);
        self
    }

    /// Compile functions on all cores (on by default).
    pub fn parallel_compilation(&mut self, enable: bool) -> &mut Config {
        self.parallel_compilation = enable;
        self
    }
}
