//! Settings that change the generated code, and so belong to an artifact's compatibility
//! string.

use serde::{Deserialize, Serialize};

/// Code generation settings chosen by the engine's configuration.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Tunables {
    /// Reserve 4 GiB plus a guard region per 32-bit memory and elide bounds checks; when
    /// false every access is checked against the memory's current length.
    pub guard_pages: bool,
    /// Bytes of guard region after a 4 GiB reservation (only with `guard_pages`).
    pub guard_size: u64,
    /// Check the engine's epoch at function entries and loop headers.
    pub epoch_interruption: bool,
    /// Count and limit executed instructions.
    pub consume_fuel: bool,
    /// How hard Cranelift optimizes.
    pub opt_level: OptLevel,
    /// Canonicalize every NaN that float arithmetic produces (deterministic NaN bits).
    pub nan_canonicalization: bool,
    /// Give the relaxed SIMD instructions the results of the specification's
    /// deterministic profile instead of the fastest lowering for the host.
    pub relaxed_simd_deterministic: bool,
    /// The WebAssembly proposals modules may use.
    pub features: Features,
}

/// The WebAssembly proposals beyond WebAssembly 2.0 that an engine accepts; each can be
/// turned off, and all are on by default. (WebAssembly 2.0 itself — multi-value, sign
/// extension, saturating conversions, bulk memory, reference types, SIMD — and
/// multi-memory and extended constant expressions are always on.)
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Features {
    /// `return_call`, `return_call_indirect` (and `return_call_ref`).
    pub tail_call: bool,
    /// 64-bit memories and tables.
    pub memory64: bool,
    /// Typed function references, with the part of the GC proposal's type system they use
    /// (`rec` groups, `sub`/`final` function types); not GC heap types.
    pub function_references: bool,
    /// The relaxed SIMD instructions.
    pub relaxed_simd: bool,
    /// Exception handling (tags, `throw`, `throw_ref`, `try_table`, `exnref`).
    pub exceptions: bool,
}

impl Default for Features {
    fn default() -> Features {
        Features {
            tail_call: true,
            memory64: true,
            function_references: true,
            relaxed_simd: true,
            exceptions: true,
        }
    }
}

/// Cranelift's optimization level.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum OptLevel {
    /// No optimization: the fastest compilation.
    None,
    /// Optimize for speed (the default).
    Speed,
    /// Optimize for speed, and for size where that costs no speed.
    SpeedAndSize,
}

impl Default for Tunables {
    fn default() -> Tunables {
        Tunables {
            guard_pages: true,
            guard_size: 2 << 30,
            epoch_interruption: false,
            consume_fuel: false,
            opt_level: OptLevel::Speed,
            nan_canonicalization: false,
            relaxed_simd_deterministic: false,
            features: Features::default(),
        }
    }
}

impl Tunables {
    /// The address space reserved for each 32-bit memory.
    pub fn memory_reservation(&self) -> u64 {
        if self.guard_pages {
            (4u64 << 30) + self.guard_size
        } else {
            4u64 << 30
        }
    }
}
