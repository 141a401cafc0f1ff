//! fact's runtime: maps artifacts ([`CodeMemory`]), creates instances with their memories,
//! tables and globals ([`StoreData`]), provides the builtins compiled code calls, and turns
//! faults in wasm code into traps ([`traps`]) and thrown exceptions into handler jumps
//! ([`exceptions`]). It knows the vmctx layout from
//! `fact-environ` and nothing of Cranelift.

pub mod code_memory;
pub mod component;
pub mod exceptions;
pub mod instance;
mod libcalls;
pub mod limits;
pub mod memory;
pub mod module;
pub mod registry;
pub mod table;
pub mod traps;
pub mod type_registry;
pub mod vmcontext;

pub use code_memory::CodeMemory;
pub use instance::{Export, GlobalSlot, Imports, Instance, StoreData};
pub use memory::LinearMemory;
pub use module::RuntimeModule;
pub use table::Table;
pub use type_registry::TypeRegistry;
pub use vmcontext::{HostCallFn, VMFuncRef, VMHostFuncContext, VMStoreContext, ValRaw};

/// Information about one frame of a backtrace.
#[derive(Clone, Debug)]
pub struct FrameInfo {
    /// The module's name, if it has one.
    pub module_name: Option<String>,
    /// The function's index in its module.
    pub func_index: u32,
    /// The function's name from the name section, if any.
    pub func_name: Option<String>,
    /// The offset of the instruction in the module's binary, if known.
    pub wasm_offset: Option<u32>,
}

/// Describes the wasm function at `pc` (a return address or the faulting pc), or `None`
/// if `pc` is not in a wasm function (trampolines, host code).
pub fn frame_info(pc: usize, is_return_address: bool) -> Option<FrameInfo> {
    registry::with_code(pc, |code, offset| {
        // A return address points after the call; look up the call itself.
        let offset = if is_return_address {
            offset.saturating_sub(1)
        } else {
            offset
        };
        let (m, f) = code.lookup_func(offset)?;
        let compiled = &code.info().modules[m];
        let func = &compiled.funcs[f];
        let rel = offset - func.text.start;
        let i = func
            .address_map
            .partition_point(|&(code_off, _)| code_off <= rel);
        let wasm_offset = i.checked_sub(1).map(|i| func.address_map[i].1);
        let index = compiled.module.num_imported_funcs + f as u32;
        Some(FrameInfo {
            module_name: compiled.module.name.clone(),
            func_index: index,
            func_name: compiled.module.func_names.get(&index).cloned(),
            wasm_offset,
        })
    })
    .flatten()
}
