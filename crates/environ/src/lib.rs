//! The compile-time data model of fact, with no code generator: core module translation,
//! the vmctx layout shared by compiler and runtime, trap codes, builtins and the artifact
//! format. The component front end, the canonical ABI and the adapter compiler live here
//! too, since they produce plain data (and plain core wasm).

pub mod artifact;
pub mod builtins;
pub mod component;
pub mod module;
pub mod translate;
pub mod trap;
pub mod tunables;
pub mod types;
pub mod vmoffsets;

pub use module::*;
pub use trap::Trap;
pub use tunables::{Features, OptLevel, Tunables};
pub use types::*;
