//! fact's code generator: compiles core wasm modules (users' and the adapter compiler's)
//! and trampolines with Cranelift, and lays everything out in one ELF artifact
//! ([`ArtifactBuilder`]). It knows the vmctx layout from `fact-environ` and nothing of the
//! runtime.

mod compiler;
mod func_environ;
mod object;
mod trampolines;

pub use compiler::{CompiledCode, CompiledModule, Compiler, Relocation};
pub use object::ArtifactBuilder;

use cranelift_codegen::ir::{self, types, AbiParam, ArgumentPurpose, TrapCode};
use cranelift_codegen::isa::{CallConv, TargetIsa};
use fact_environ::{FuncDecl, FuncType, Trap, ValType};

/// The trap code of a site that raises the error a builtin or host function recorded.
pub(crate) const TRAP_PENDING: TrapCode = TrapCode::User(0);

/// The Cranelift trap code that stands for `trap`.
pub(crate) fn trap_code(trap: Trap) -> TrapCode {
    TrapCode::User(trap as u8 as u16)
}

/// Maps a Cranelift trap code (built in or ours) back to a [`Trap`]; `None` is a pending
/// trap.
pub(crate) fn trap_from_cranelift(code: TrapCode) -> anyhow::Result<Option<Trap>> {
    Ok(Some(match code {
        TrapCode::StackOverflow => Trap::StackOverflow,
        TrapCode::HeapOutOfBounds => Trap::MemoryOutOfBounds,
        TrapCode::HeapMisaligned => Trap::HeapMisaligned,
        TrapCode::TableOutOfBounds => Trap::TableOutOfBounds,
        TrapCode::IndirectCallToNull => Trap::IndirectCallToNull,
        TrapCode::BadSignature => Trap::BadSignature,
        TrapCode::IntegerOverflow => Trap::IntegerOverflow,
        TrapCode::IntegerDivisionByZero => Trap::IntegerDivisionByZero,
        TrapCode::BadConversionToInteger => Trap::BadConversionToInteger,
        TrapCode::UnreachableCodeReached => Trap::UnreachableCodeReached,
        TrapCode::Interrupt => Trap::Interrupt,
        TrapCode::NullReference | TrapCode::NullI31Ref => Trap::NullReference,
        TrapCode::User(0) => return Ok(None),
        TrapCode::User(n) => u8::try_from(n)
            .ok()
            .and_then(Trap::from_u8)
            .ok_or_else(|| anyhow::anyhow!("unknown trap code {n}"))?,
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
        ValType::FuncRef | ValType::ExternRef => types::I64,
    }
}

/// The calling convention of a function: functions reachable from outside the module use
/// the platform's, the rest the fastest internal one.
pub(crate) fn call_conv(decl: &FuncDecl) -> CallConv {
    if decl.escapes() {
        CallConv::SystemV
    } else {
        CallConv::Fast
    }
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
