//! fact: a WebAssembly component-model toolchain and runtime built on Cranelift.
//!
//! The core embedding API mirrors Wasmtime's: an [`Engine`] compiles [`Module`]s, a
//! [`Store`] holds instances and host data, a [`Linker`] resolves imports, and [`Func`] /
//! [`TypedFunc`] call into wasm. Modules can be compiled ahead of time
//! ([`Engine::precompile_module`], [`Module::serialize`]) and loaded with
//! [`Module::deserialize`] or [`Module::deserialize_file`].
//!
//! ```
//! use fact::{Engine, Module, Store, Instance};
//! let engine = Engine::default();
//! let module = Module::new(&engine, r#"(module (func (export "add") (param i32 i32) (result i32)
//!     local.get 0 local.get 1 i32.add))"#)?;
//! let mut store = Store::new(&engine, ());
//! let instance = Instance::new(&mut store, &module, &[])?;
//! let add = instance.get_typed_func::<(i32, i32), i32>(&mut store, "add")?;
//! assert_eq!(add.call(&mut store, (2, 3))?, 5);
//! # Ok::<(), anyhow::Error>(())
//! ```

pub mod component;
mod config;
mod engine;
mod exceptions;
mod externals;
mod func;
mod instance;
mod limits;
mod linker;
mod module;
mod store;
mod trap;
mod values;

pub use config::{Config, OptLevel};
pub use engine::{Engine, Precompiled};
pub use exceptions::{ExnRef, Tag, ThrownException};
pub use externals::{Extern, Global, Memory, Table};
pub use fact_environ::{
    EntityType as ExternType, FuncType, GlobalType, HeapType, Limits, MemoryType, RefType,
    TableType, ValType,
};
pub use func::{Caller, Func, IntoFunc, TypedFunc, WasmParams, WasmRet, WasmTy, WithCaller};
pub use instance::{is_trap, Instance};
pub use limits::{ResourceLimiter, StoreLimits, StoreLimitsBuilder};
pub use linker::Linker;
pub use module::{ExportType, ImportType, Module};
pub use store::{AsContext, AsContextMut, Store, StoreContext, StoreContextMut};
pub use trap::{FrameInfo, Trap, WasmBacktrace};
pub use values::{ExternRef, Val, V128};

pub use anyhow::{Error, Result};
