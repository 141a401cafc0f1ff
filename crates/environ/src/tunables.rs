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
