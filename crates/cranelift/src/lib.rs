//! fact's code generator: compiles core wasm modules (users' and the adapter compiler's)
//! and trampolines with Cranelift, and lays everything out in one ELF artifact
//! ([`ArtifactBuilder`]). It knows the vmctx layout from `fact-environ` and nothing of the
//! runtime. Wasm function bodies go through fact's own translator ([`translate`]).

mod compiler;
mod object;
mod trampolines;
mod translate;

pub use compiler::{CompiledCode, CompiledModule, Compiler, Relocation};
pub use object::ArtifactBuilder;

use cranelift_codegen::ir::{self, types, AbiParam, ArgumentPurpose, TrapCode};
use cranelift_codegen::isa::{CallConv, TargetIsa};
use fact_environ::builtins::{Builtin, BuiltinType};
use fact_environ::{FuncDecl, FuncType, Trap, ValType};

/// The trap code of a site that raises the error a builtin or host function recorded.
/// fact's own codes ([`Trap`]) are all below it.
pub(crate) const TRAP_PENDING: TrapCode = TrapCode::unwrap_user(250);

/// The Cranelift trap code that stands for `trap`.
pub(crate) fn trap_code(trap: Trap) -> TrapCode {
    TrapCode::unwrap_user(trap as u8)
}

/// Maps a Cranelift trap code (built in or ours) back to a [`Trap`]; `None` is a pending
/// trap.
pub(crate) fn trap_from_cranelift(code: TrapCode) -> anyhow::Result<Option<Trap>> {
    Ok(Some(match code {
        TRAP_PENDING => return Ok(None),
        TrapCode::STACK_OVERFLOW => Trap::StackOverflow,
        TrapCode::HEAP_OUT_OF_BOUNDS => Trap::MemoryOutOfBounds,
        TrapCode::INTEGER_OVERFLOW => Trap::IntegerOverflow,
        TrapCode::INTEGER_DIVISION_BY_ZERO => Trap::IntegerDivisionByZero,
        TrapCode::BAD_CONVERSION_TO_INTEGER => Trap::BadConversionToInteger,
        other => {
            let n = other.as_raw().get();
            Trap::from_u8(n).ok_or_else(|| anyhow::anyhow!("unknown trap code {n}"))?
        }
    }))
}

/// The Cranelift type of a wasm value (references are pointer-sized).
pub(crate) fn val_type(ty: ValType) -> ir::Type {
    match ty {
        ValType::I32 => types::I32,
        ValType::I64 => types::I64,
        ValType::F32 => types::F32,
        ValType::F64 => types::F64,
        ValType::V128 => types::I8X16,
        ValType::Ref(_) => types::I64,
    }
}

/// The convention of every function that code outside its module can call: through a
/// table, a `funcref`, an export, an import, or from the host's entry trampolines.
pub(crate) const ESCAPING_CALL_CONV: CallConv = CallConv::Tail;

/// The calling convention of a wasm function. Every wasm function uses Cranelift's `tail`
/// convention: `return_call` is allowed only between `tail` functions, and any function
/// may be the target of a tail call, directly or through a table or an import. This is
/// the one place the choice is made; every call site and definition asks here.
pub(crate) fn call_conv_for(_decl: &FuncDecl) -> CallConv {
    ESCAPING_CALL_CONV
}

/// Memory flags of the raw values in trampoline arrays and exception payloads: trusted,
/// little-endian.
pub(crate) fn raw_flags() -> ir::MemFlagsData {
    ir::MemFlagsData::trusted().with_endianness(ir::Endianness::Little)
}

/// The signature of `builtin`: `extern "C"` functions of the runtime, except that the
/// throwing ones are called as `tail` functions. A `try_call` to a `tail` callee treats
/// every register as clobbered on the exceptional edge, which is what the runtime's
/// unwinder (it restores no registers) needs; their parameters are integers in the first
/// argument registers, where both conventions put them, and they never return.
pub(crate) fn builtin_signature(isa: &dyn TargetIsa, builtin: Builtin) -> ir::Signature {
    let ptr = isa.pointer_type();
    let ty = |t: BuiltinType| match t {
        BuiltinType::Ptr => ptr,
        BuiltinType::I32 => types::I32,
        BuiltinType::I64 => types::I64,
    };
    let cc = if builtin.throws() {
        CallConv::Tail
    } else {
        isa.default_call_conv()
    };
    let mut sig = ir::Signature::new(cc);
    sig.params
        .extend(builtin.params().iter().map(|t| AbiParam::new(ty(*t))));
    sig.returns
        .extend(builtin.result().map(|t| AbiParam::new(ty(t))));
    sig
}

/// The native signature of a wasm function: `(callee vmctx, caller vmctx, params...)`.
pub(crate) fn wasm_signature(isa: &dyn TargetIsa, ty: &FuncType, cc: CallConv) -> ir::Signature {
    let ptr = isa.pointer_type();
    let mut sig = ir::Signature::new(cc);
    sig.params
        .push(AbiParam::special(ptr, ArgumentPurpose::VMContext));
    sig.params.push(AbiParam::new(ptr));
    sig.params
        .extend(ty.params.iter().map(|t| AbiParam::new(val_type(*t))));
    sig.returns
        .extend(ty.results.iter().map(|t| AbiParam::new(val_type(*t))));
    sig
}
