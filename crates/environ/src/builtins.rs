//! Builtins: runtime functions that compiled code calls through the table whose address is
//! at [`crate::vmoffsets::vmctx::BUILTINS`]. The compiler derives each call's signature from
//! this list and the runtime fills the table in the same order.
//!
//! Builtins that can fail return a status (`0` = success); on failure they have stored the
//! trap code in the store context's `PENDING_TRAP` field and the code raises it.

/// The type of a builtin parameter or result.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum BuiltinType {
    /// A pointer (the vmctx, or a reference value).
    Ptr,
    I32,
    I64,
}

macro_rules! builtins {
    ($($(#[$doc:meta])* $name:ident($($param:ident),*) $(-> $result:ident)?;)*) => {
        /// A builtin function, by index in the builtin table.
        #[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
        #[allow(non_camel_case_types)]
        pub enum Builtin {
            $($(#[$doc])* $name,)*
        }

        impl Builtin {
            /// Every builtin, in table order.
            pub const ALL: &'static [Builtin] = &[$(Builtin::$name,)*];

            /// Parameter types (the first is always the caller's vmctx).
            pub fn params(self) -> &'static [BuiltinType] {
                match self {
                    $(Builtin::$name => &[BuiltinType::Ptr, $(BuiltinType::$param),*],)*
                }
            }

            /// The result type, if any.
            pub fn result(self) -> Option<BuiltinType> {
                match self {
                    $(Builtin::$name => builtins!(@result $($result)?),)*
                }
            }

            /// The builtin's name, for diagnostics.
            pub fn name(self) -> &'static str {
                match self {
                    $(Builtin::$name => stringify!($name),)*
                }
            }
        }
    };
    (@result) => { None };
    (@result $r:ident) => { Some(BuiltinType::$r) };
}

// Addresses, sizes and element indices are 64-bit for every memory and table: 32-bit ones
// pass them zero-extended, 64-bit ones (memory64) as they are.
builtins! {
    /// `(memory, delta_pages) -> old_pages, -1, or [`GROW_TRAPPED`]`.
    memory_grow(I32, I64) -> I64;
    /// `(dst_memory, dst, src_memory, src, len) -> status`.
    memory_copy(I32, I64, I32, I64, I64) -> I32;
    /// `(memory, dst, byte, len) -> status`.
    memory_fill(I32, I64, I32, I64) -> I32;
    /// `(memory, data_segment, dst, src, len) -> status`.
    memory_init(I32, I32, I64, I32, I32) -> I32;
    /// `(data_segment)`.
    data_drop(I32);
    /// `(table, delta, init) -> old_size, -1, or [`GROW_TRAPPED`]`.
    table_grow(I32, I64, Ptr) -> I64;
    /// `(table, dst, value, len) -> status`.
    table_fill(I32, I64, Ptr, I64) -> I32;
    /// `(dst_table, src_table, dst, src, len) -> status`.
    table_copy(I32, I32, I64, I64, I64) -> I32;
    /// `(table, elem_segment, dst, src, len) -> status`.
    table_init(I32, I32, I64, I32, I32) -> I32;
    /// `(elem_segment)`.
    elem_drop(I32);
    /// `(index)`: records the trap of a `call_indirect` through a null entry at `index`.
    uninitialized_element(I64);
    /// `(actual, expected) -> 1 or 0`: whether engine type id `actual` is a declared
    /// subtype of `expected` (the slow path of a signature check on a non-final type).
    is_subtype(I32, I32) -> I32;
    /// `(tag, values, count) -> !`: throws a new exception of tag `tag` (an index in the
    /// caller's module) whose payload is the `count` raw values at `values` (the count is
    /// the compiled code's, not the metadata's). Never returns: control resumes in the
    /// innermost matching handler, or the exception leaves wasm. Called with the `tail`
    /// convention, through a stub that passes the calling frame.
    throw(I32, Ptr, I32);
    /// `(exn) -> !`: rethrows a (non-null) exception object, as `throw`.
    throw_ref(Ptr);
    /// `() -> exn or null`: after a host function failed, the exception its error throws
    /// into the caller (taking it and the error), or null to raise the error.
    host_failed() -> Ptr;
    /// `(exn)`: releases an exception object that a `catch`/`catch_all` clause has
    /// consumed (freeing it unless an `exnref` to it exists).
    exn_free(Ptr);
}

/// What `memory_grow` and `table_grow` return when the embedder's resource limiter
/// raised an error, recorded as pending for the calling code to raise (`-1` is an
/// ordinary failure to grow).
pub const GROW_TRAPPED: i64 = -2;

impl Builtin {
    /// Whether the builtin throws: it never returns, and a call to it inside `try_table`
    /// is a `try_call`.
    pub fn throws(self) -> bool {
        matches!(self, Builtin::throw | Builtin::throw_ref)
    }

    /// The builtin's index in the builtin table.
    pub fn index(self) -> u32 {
        self as u32
    }
}
