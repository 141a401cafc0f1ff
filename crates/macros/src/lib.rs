//! Derive macros for `fact::component`: [`ComponentType`](macro@ComponentType),
//! [`Lower`](macro@Lower) and [`Lift`](macro@Lift) for Rust structs and enums that stand
//! for component-model records, variants, enums and flags.
//!
//! Use them through their re-exports in `fact::component`. The kind of component type is
//! given by an attribute on the Rust type:
//!
//! | attribute | Rust type | component type |
//! | --- | --- | --- |
//! | `#[component(record)]` | struct with named fields | `record`, one field per Rust field |
//! | `#[component(variant)]` | enum whose cases have zero or one unnamed field | `variant` |
//! | `#[component(enum)]` | enum whose cases have no fields | `enum` |
//! | `#[component(flags)]` | struct of (at most 32) named `bool` fields | `flags`, one label per field |
//!
//! Names are matched in order. A field's or case's component name is its identifier in
//! kebab-case (`foo_bar` → `foo-bar`, `BigCircle` → `big-circle`) unless
//! `#[component(name = "...")]` on the field or case gives another.
//!
//! ```ignore
//! use fact::component::{ComponentType, Lift, Lower};
//!
//! #[derive(ComponentType, Lift, Lower)]
//! #[component(record)]
//! struct Point {
//!     x: u32,
//!     #[component(name = "y-coord")]
//!     y: u32,
//! }
//!
//! #[derive(ComponentType, Lift, Lower)]
//! #[component(variant)]
//! enum Shape {
//!     Circle(f32),
//!     #[component(name = "none")]
//!     Empty,
//! }
//!
//! #[derive(ComponentType, Lift, Lower)]
//! #[component(enum)]
//! enum Color {
//!     Red,
//!     Green,
//! }
//!
//! #[derive(ComponentType, Lift, Lower)]
//! #[component(flags)]
//! struct Perms {
//!     read: bool,
//!     write: bool,
//!     exec: bool,
//! }
//! ```
//!
//! Generic types are supported: each type parameter gets a bound on the derived trait.

mod expand;
mod model;

use expand::Derive;
use proc_macro::TokenStream;

/// Derives `fact::component::ComponentType`: `typecheck` accepts the interface type whose
/// kind (given by `#[component(record | variant | enum | flags)]`), field, case or label
/// names (in order) and field or payload types match the Rust type.
#[proc_macro_derive(ComponentType, attributes(component))]
pub fn derive_component_type(input: TokenStream) -> TokenStream {
    expand::derive(input.into(), Derive::ComponentType).into()
}

/// Derives `fact::component::Lower`: passes values of the Rust type into a guest, as flat
/// core values or in linear memory, with the canonical ABI of its component type.
#[proc_macro_derive(Lower, attributes(component))]
pub fn derive_lower(input: TokenStream) -> TokenStream {
    expand::derive(input.into(), Derive::Lower).into()
}

/// Derives `fact::component::Lift`: reads values of the Rust type from a guest, from flat
/// core values or from linear memory, with the canonical ABI of its component type.
#[proc_macro_derive(Lift, attributes(component))]
pub fn derive_lift(input: TokenStream) -> TokenStream {
    expand::derive(input.into(), Derive::Lift).into()
}

#[cfg(test)]
mod tests;
