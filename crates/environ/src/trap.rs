//! Trap codes: the one list shared by the code generator (which records them per
//! instruction), the adapter compiler (which raises the component ones), and the runtime
//! (which reports them). The messages contain the wording that conformance suites match.

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! traps {
    ($($(#[$doc:meta])* $name:ident = $code:literal => $msg:literal,)*) => {
        /// Why a WebAssembly computation stopped abnormally.
        #[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[repr(u8)]
        #[non_exhaustive]
        pub enum Trap {
            $($(#[$doc])* $name = $code,)*
        }

        impl Trap {
            /// Every trap code, in code order.
            pub const ALL: &'static [Trap] = &[$(Trap::$name,)*];

            /// The trap's message, without the `wasm trap: ` prefix.
            pub fn message(self) -> &'static str {
                match self {
                    $(Trap::$name => $msg,)*
                }
            }

            /// Decodes a trap code as stored in trap tables and in the runtime.
            pub fn from_u8(code: u8) -> Option<Trap> {
                match code {
                    $($code => Some(Trap::$name),)*
                    _ => None,
                }
            }
        }
    };
}

traps! {
    /// The `unreachable` instruction was executed.
    UnreachableCodeReached = 1 => "wasm `unreachable` instruction executed",
    /// A load or store was outside the bounds of linear memory.
    MemoryOutOfBounds = 2 => "out of bounds memory access",
    /// An atomic access was misaligned.
    HeapMisaligned = 3 => "misaligned memory access",
    /// A table access was outside the bounds of the table.
    TableOutOfBounds = 4 => "out of bounds table access",
    /// `call_indirect` with an index outside the table.
    UndefinedElement = 5 => "undefined element: out of bounds table access",
    /// `call_indirect` through a null table entry.
    IndirectCallToNull = 6 => "uninitialized element",
    /// `call_indirect` to a function of the wrong type.
    BadSignature = 7 => "indirect call type mismatch",
    /// Signed division overflow.
    IntegerOverflow = 8 => "integer overflow",
    /// Division or remainder by zero.
    IntegerDivisionByZero = 9 => "integer divide by zero",
    /// A float could not be converted to an integer.
    BadConversionToInteger = 10 => "invalid conversion to integer",
    /// The wasm stack limit was reached.
    StackOverflow = 11 => "call stack exhausted",
    /// An epoch deadline was reached.
    Interrupt = 12 => "interrupt",
    /// All fuel was consumed.
    OutOfFuel = 13 => "all fuel consumed by WebAssembly",
    /// A null reference was dereferenced.
    NullReference = 14 => "null reference",
    /// `call_ref` or `return_call_ref` of a null function reference.
    NullFunctionReference = 15 => "null function reference",
    /// Compiled code faulted where no trap was expected (only inconsistent artifact
    /// metadata, or a bug, can cause it): reported rather than taking the process down.
    UnexpectedFault = 16 => "internal error: unexpected fault in compiled code",

    // ---- Canonical ABI traps (adapters, host lifting and lowering) ----
    /// A pointer did not have the alignment its type requires.
    UnalignedPointer = 32 => "unaligned pointer",
    /// A string's bytes are not inside the memory.
    StringOutOfBounds = 33 => "string content out-of-bounds",
    /// A list's elements are not inside the memory.
    ListOutOfBounds = 34 => "list content out-of-bounds",
    /// A `char` was not a Unicode scalar value.
    InvalidChar = 35 => "invalid `char` bit pattern",
    /// A variant, enum, option or result discriminant was out of range.
    InvalidDiscriminant = 36 => "invalid variant discriminant",
    /// A call left a component instance that may not leave (`may_leave` is false).
    CannotLeave = 37 => "cannot leave component instance",
    /// A call entered a component instance that may not be entered.
    CannotEnter = 38 => "cannot enter component instance",
    /// `realloc` returned a misaligned pointer.
    ReallocNotAligned = 39 => "realloc return: result not aligned",
    /// `realloc` returned memory beyond the end of the memory.
    ReallocOutOfBounds = 40 => "realloc return: beyond end of memory",
    /// A string was not valid UTF-8.
    InvalidUtf8 = 41 => "invalid utf-8",
    /// A string was not valid UTF-16 (an unpaired surrogate).
    InvalidUtf16 = 42 => "invalid utf-16",
    /// A string was longer than the canonical ABI allows.
    StringTooLong = 43 => "string length exceeds the canonical ABI maximum",
    /// A list's byte length overflowed 32 bits.
    ListTooLong = 44 => "list byte length overflows",
    /// A handle index did not name a live handle.
    UnknownHandle = 45 => "unknown handle index",
    /// A handle named a resource of another type.
    HandleWrongType = 46 => "handle used with the wrong resource type",
    /// An owned handle was dropped or moved while it was lent out.
    ResourceBorrowed = 47 => "cannot remove owned resource while borrowed",
    /// A call returned while it still held borrows it received.
    BorrowsRemain = 48 => "borrow handles still remain at the end of the call",
    /// A resource was used by a component instance that does not define it.
    ResourceNotOwned = 49 => "resource.rep used on a resource not defined by this instance",
    /// An exception was about to leave a component instance.
    UncaughtException = 50 => "uncaught exception leaving component instance",
}

impl Trap {
    /// Whether the trap belongs to the canonical ABI (as opposed to core wasm).
    pub fn is_canonical_abi(self) -> bool {
        (self as u8) >= 32
    }
}

impl fmt::Display for Trap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "wasm trap: {}", self.message())
    }
}

impl std::error::Error for Trap {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for &t in Trap::ALL {
            assert_eq!(Trap::from_u8(t as u8), Some(t));
        }
        assert_eq!(Trap::from_u8(0), None);
        assert_eq!(Trap::from_u8(255), None);
    }

    #[test]
    fn messages_carry_spec_wording() {
        assert!(Trap::UnreachableCodeReached
            .to_string()
            .contains("unreachable"));
        assert!(Trap::UndefinedElement
            .to_string()
            .contains("undefined element"));
        assert_eq!(
            Trap::InvalidChar.to_string(),
            "wasm trap: invalid `char` bit pattern"
        );
    }
}
