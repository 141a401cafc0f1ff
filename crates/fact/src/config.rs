//! Engine configuration.

use fact_environ::Tunables;

/// How an [`Engine`](crate::Engine) compiles and runs code.
#[derive(Clone, Debug)]
pub struct Config {
    pub(crate) tunables: Tunables,
    pub(crate) max_wasm_stack: usize,
    pub(crate) parallel_compilation: bool,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            tunables: Tunables::default(),
            max_wasm_stack: 512 * 1024,
            parallel_compilation: true,
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

    /// Run Cranelift's optimizer (on by default).
    pub fn optimize(&mut self, enable: bool) -> &mut Config {
        self.tunables.optimize = enable;
        self
    }

    /// Compile functions on all cores (on by default).
    pub fn parallel_compilation(&mut self, enable: bool) -> &mut Config {
        self.parallel_compilation = enable;
        self
    }
}
