//! fact's wasm → CLIF translator.
//!
//! One function body at a time, driven by wasmparser's operator stream: every operator is
//! first checked by the function's validator, then turned into Cranelift IR with
//! `cranelift-frontend`. The translation is a direct simulation of the wasm stack machine:
//!
//! - the **value stack** holds the `ir::Value` of every operand (see [`Translator::stack`]);
//! - the **control stack** ([`control`]) holds one frame per open `block`, `loop` and `if`,
//!   with the Cranelift blocks that `br` and `end` jump to; it lives on the heap, so nesting
//!   depth is bounded only by the function's size;
//! - **locals** are `cranelift-frontend` variables, so SSA form comes for free;
//! - code after `br`, `return`, `unreachable` … up to the matching `else`/`end` is
//!   validated but emits nothing ([`Translator::reachable`]).
//!
//! Everything that touches the runtime's data structures (the vmctx, memories, tables,
//! globals, builtins, interruption checks) goes through [`env::FuncEnv`], which reads the
//! layout from `fact_environ::vmoffsets`. The operators themselves are split by kind:
//! [`control`], [`numeric`], [`simd`], [`relaxed_simd`], [`memory`] (loads, stores and
//! the `memory.*` instructions, over the [`heap`] abstraction), [`tables`] (tables and
//! references), [`calls`] and [`exceptions`].

mod calls;
mod control;
mod env;
mod exceptions;
mod heap;
mod memory;
mod numeric;
mod relaxed_simd;
mod simd;
mod tables;

pub(crate) use env::FuncEnv;

use crate::{trap_code, val_type, wasm_signature};
use anyhow::{bail, Context as _, Result};
use control::Frame;
use cranelift_codegen::ir::{self, types, InstBuilder, UserFuncName};
use cranelift_codegen::isa::CallConv;
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext, Variable};
use fact_environ::{ModuleInfo, Trap, ValType};
use std::collections::HashMap;
use wasmparser::{FuncValidator, FunctionBody, Operator, ValidatorResources};

/// Translates the body of defined function `func_index` of `env`'s module into `func`
/// (which must be empty), validating it along the way.
pub(crate) fn translate_function(
    env: FuncEnv<'_>,
    builder_ctx: &mut FunctionBuilderContext,
    func: &mut ir::Function,
    func_index: u32,
    body: &FunctionBody<'_>,
    validator: &mut FuncValidator<ValidatorResources>,
) -> Result<()> {
    let decl = env.module().functions[func_index as usize];
    let ty = &env.module().types[decl.ty as usize];
    func.name = UserFuncName::user(0, func_index);
    func.signature = wasm_signature(env.isa(), ty, crate::call_conv_for(&decl));
    env.install_stack_limit(func);
    let frontend_config = env.isa().frontend_config();
    let builder = FunctionBuilder::new(func, builder_ctx);
    let mut t = Translator::new(builder, env);
    t.translate_body(func_index, body, validator)?;
    t.b.finalize(frontend_config);
    Ok(())
}

/// The state of one function's translation.
pub(crate) struct Translator<'m, 'f> {
    pub(crate) b: FunctionBuilder<'f>,
    pub(crate) env: FuncEnv<'m>,
    /// The wasm operand stack.
    pub(crate) stack: Vec<ir::Value>,
    /// Open `block`/`loop`/`if` frames; the function body itself is the outermost.
    pub(crate) control: Vec<Frame>,
    /// The variable of each wasm local, by local index.
    locals: Vec<Variable>,
    /// Whether the code being translated can run; false after an unconditional transfer
    /// of control until the `else` or `end` that makes code reachable again.
    pub(crate) reachable: bool,
    /// The callee vmctx parameter of the function being translated.
    pub(crate) vmctx: ir::Value,
    /// Signatures imported into the function, by module type index and convention.
    pub(crate) signatures: HashMap<(u32, CallConv), ir::SigRef>,
    /// Defined functions imported into the function for direct calls, by index.
    pub(crate) direct_callees: HashMap<u32, ir::FuncRef>,
    /// The dispatch blocks of the open `try_table`s, innermost last.
    pub(crate) handlers: Vec<exceptions::Handler>,
}

impl<'m, 'f> Translator<'m, 'f> {
    /// A translator positioned in the function's entry block, whose parameters are the
    /// two vmctx pointers and the wasm parameters.
    fn new(mut b: FunctionBuilder<'f>, env: FuncEnv<'m>) -> Self {
        let entry = b.create_block();
        b.append_block_params_for_function_params(entry);
        b.switch_to_block(entry);
        b.seal_block(entry);
        let vmctx = b.block_params(entry)[0];
        Translator {
            b,
            env,
            stack: Vec::new(),
            control: Vec::new(),
            locals: Vec::new(),
            reachable: true,
            vmctx,
            signatures: HashMap::new(),
            direct_callees: HashMap::new(),
            handlers: Vec::new(),
        }
    }

    pub(crate) fn module(&self) -> &'m ModuleInfo {
        self.env.module()
    }

    fn translate_body(
        &mut self,
        func_index: u32,
        body: &FunctionBody<'_>,
        validator: &mut FuncValidator<ValidatorResources>,
    ) -> Result<()> {
        let module = self.module();
        let ty = module.func_type(func_index);

        // The wasm parameters are locals, after the two vmctx pointers.
        let entry = self
            .b
            .current_block()
            .expect("the translator starts in the entry block");
        let params = self.b.block_params(entry).to_vec();
        for (i, param_ty) in ty.params.iter().enumerate() {
            let var = self.b.declare_var(val_type(*param_ty));
            self.b.def_var(var, params[2 + i]);
            self.locals.push(var);
        }

        // Declared locals start as zero.
        let mut locals = body.get_locals_reader()?;
        for _ in 0..locals.get_count() {
            let offset = locals.original_position();
            let (count, wasm_ty) = locals.read()?;
            validator.define_locals(offset, count, wasm_ty)?;
            let local_ty = ValType::from_wasmparser(wasm_ty)?;
            let zero = self.zero(local_ty);
            for _ in 0..count {
                let var = self.b.declare_var(val_type(local_ty));
                self.b.def_var(var, zero);
                self.locals.push(var);
            }
        }

        self.env.function_entry(&mut self.b, self.vmctx);

        // The body is a block whose results are the function's results; its `end` returns.
        let exit = self.b.create_block();
        for r in ty.results.iter() {
            self.b.append_block_param(exit, val_type(*r));
        }
        self.control.push(Frame::function(exit, ty.results.len()));

        let mut reader = body.get_operators_reader()?;
        while !reader.eof() {
            let offset = reader.original_position();
            let op = reader.read()?;
            validator.op(offset, &op)?;
            self.b.set_srcloc(ir::SourceLoc::new(offset as u32));
            self.translate_operator(&op)
                .with_context(|| format!("at offset 0x{offset:x}"))?;
        }
        reader.finish()?;
        debug_assert!(
            self.control.is_empty(),
            "validated: the body ends its blocks"
        );
        Ok(())
    }

    /// Translates one (validated) operator.
    fn translate_operator(&mut self, op: &Operator<'_>) -> Result<()> {
        if !self.reachable {
            return self.translate_unreachable_operator(op);
        }
        self.env.count_fuel(&mut self.b, self.vmctx, op);
        use Operator as O;
        match *op {
            O::Nop => {}
            O::Unreachable => self.unreachable(),
            O::Block { blockty } => self.block(blockty)?,
            O::Loop { blockty } => self.loop_(blockty)?,
            O::If { blockty } => self.if_(blockty)?,
            O::Else => self.else_(),
            O::End => self.end(),
            O::Br { relative_depth } => self.br(relative_depth),
            O::BrIf { relative_depth } => self.br_if(relative_depth),
            O::BrTable { ref targets } => self.br_table(targets)?,
            O::Return => self.return_(),

            O::Call { function_index } => self.call(function_index, false),
            O::ReturnCall { function_index } => self.call(function_index, true),
            O::CallIndirect {
                type_index,
                table_index,
            } => self.call_indirect(type_index, table_index, false),
            O::ReturnCallIndirect {
                type_index,
                table_index,
            } => self.call_indirect(type_index, table_index, true),
            O::CallRef { type_index } => self.call_ref(type_index, false),
            O::ReturnCallRef { type_index } => self.call_ref(type_index, true),
            O::TryTable { ref try_table } => self.try_table(try_table)?,
            O::Throw { tag_index } => self.throw(tag_index)?,
            O::ThrowRef => self.throw_ref()?,
            O::BrOnNull { relative_depth } => self.br_on_null(relative_depth),
            O::BrOnNonNull { relative_depth } => self.br_on_non_null(relative_depth),
            O::RefAsNonNull => {
                let r = self.peek(0);
                self.b.ins().trapz(r, trap_code(Trap::NullReference));
            }

            O::Drop => {
                self.pop();
            }
            O::Select | O::TypedSelect { .. } => {
                let cond = self.pop();
                let y = self.pop();
                let x = self.pop();
                let (x, y) = if self.b.func.dfg.value_type(x).is_vector() {
                    (self.canonical_v128(x), self.canonical_v128(y))
                } else {
                    (x, y)
                };
                let v = self.b.ins().select(cond, x, y);
                self.push(v);
            }

            O::LocalGet { local_index } => {
                let v = self.b.use_var(self.locals[local_index as usize]);
                self.push(v);
            }
            O::LocalSet { local_index } => {
                let v = self.pop();
                let v = self.canonical(v);
                self.b.def_var(self.locals[local_index as usize], v);
            }
            O::LocalTee { local_index } => {
                let v = self.peek(0);
                let v = self.canonical(v);
                self.b.def_var(self.locals[local_index as usize], v);
            }
            O::GlobalGet { global_index } => {
                let v = self.env.global_get(&mut self.b, self.vmctx, global_index);
                self.push(v);
            }
            O::GlobalSet { global_index } => {
                let v = self.pop();
                let v = self.canonical(v);
                self.env
                    .global_set(&mut self.b, self.vmctx, global_index, v);
            }

            _ => {
                if !(self.translate_numeric(op)?
                    || self.translate_memory(op)?
                    || self.translate_simd(op)?
                    || self.translate_relaxed_simd(op)?
                    || self.translate_table(op)?)
                {
                    if is_gc_operator(op) {
                        bail!("unsupported proposal: GC (the operator {op:?})");
                    }
                    bail!("unsupported proposal: the operator {op:?} is not supported by fact");
                }
            }
        }
        Ok(())
    }

    /// Pushes a value onto the operand stack.
    pub(crate) fn push(&mut self, v: ir::Value) {
        self.stack.push(v);
    }

    /// Pops the top operand (validation guarantees there is one).
    pub(crate) fn pop(&mut self) -> ir::Value {
        self.stack
            .pop()
            .expect("validated: operand stack underflow")
    }

    /// Pops the top two operands, returning them in push order.
    pub(crate) fn pop2(&mut self) -> (ir::Value, ir::Value) {
        let y = self.pop();
        let x = self.pop();
        (x, y)
    }

    /// Pops the top three operands, returning them in push order.
    pub(crate) fn pop3(&mut self) -> (ir::Value, ir::Value, ir::Value) {
        let z = self.pop();
        let (x, y) = self.pop2();
        (x, y, z)
    }

    /// The operand `depth` places below the top.
    pub(crate) fn peek(&self, depth: usize) -> ir::Value {
        self.stack[self.stack.len() - 1 - depth]
    }

    /// Removes the top `n` operands and returns them in push order, each in the type it
    /// has at a control-flow join or call boundary (see [`Translator::canonical`]).
    pub(crate) fn pop_n_canonical(&mut self, n: usize) -> Vec<ir::Value> {
        let start = self.stack.len() - n;
        let values: Vec<ir::Value> = self.stack.drain(start..).collect();
        values.into_iter().map(|v| self.canonical(v)).collect()
    }

    /// The top `n` operands in push order, canonical, left on the stack.
    pub(crate) fn peek_n_canonical(&mut self, n: usize) -> Vec<ir::Value> {
        let start = self.stack.len() - n;
        (start..self.stack.len())
            .map(|i| {
                let v = self.stack[i];
                self.canonical(v)
            })
            .collect()
    }

    /// A `v128` may live on the operand stack as any 128-bit vector type (whatever the
    /// operator that made it produced); where values meet — block parameters, locals,
    /// globals, calls, returns — it is always `i8x16`. Other values are unchanged.
    pub(crate) fn canonical(&mut self, v: ir::Value) -> ir::Value {
        if self.b.func.dfg.value_type(v).is_vector() {
            self.canonical_v128(v)
        } else {
            v
        }
    }

    pub(crate) fn canonical_v128(&mut self, v: ir::Value) -> ir::Value {
        self.as_vector(v, types::I8X16)
    }

    /// Reinterprets a `v128` as the vector type `ty`.
    pub(crate) fn as_vector(&mut self, v: ir::Value, ty: ir::Type) -> ir::Value {
        if self.b.func.dfg.value_type(v) == ty {
            v
        } else {
            self.b.ins().bitcast(ty, little_endian(), v)
        }
    }

    /// The zero value of a wasm type (null for references).
    fn zero(&mut self, ty: ValType) -> ir::Value {
        match ty {
            ValType::I32 => self.b.ins().iconst(types::I32, 0),
            ValType::I64 => self.b.ins().iconst(types::I64, 0),
            ValType::F32 => self.b.ins().f32const(0.0),
            ValType::F64 => self.b.ins().f64const(0.0),
            ValType::V128 => self.v128_const(&[0; 16]),
            ValType::Ref(_) => self.b.ins().iconst(self.env.pointer_type(), 0),
        }
    }

    /// An `i32` address, size or index as `i64` (zero-extended); an `i64` as it is.
    pub(crate) fn widen_to_i64(&mut self, v: ir::Value) -> ir::Value {
        if self.b.func.dfg.value_type(v) == types::I32 {
            self.b.ins().uextend(types::I64, v)
        } else {
            v
        }
    }

    /// An `i64` size as `index_type` (`i32` for 32-bit memories and tables).
    pub(crate) fn narrow_from_i64(&mut self, v: ir::Value, index_type: ir::Type) -> ir::Value {
        if index_type == types::I32 {
            self.b.ins().ireduce(types::I32, v)
        } else {
            v
        }
    }

    /// Raises the error the embedder's resource limiter recorded, if the grow builtin
    /// that returned `result` says it did.
    pub(crate) fn trap_if_grow_trapped(&mut self, result: ir::Value) {
        use cranelift_codegen::ir::condcodes::IntCC;
        use fact_environ::builtins::GROW_TRAPPED;
        let trapped = self.b.ins().icmp_imm_s(IntCC::Equal, result, GROW_TRAPPED);
        self.b.ins().trapnz(trapped, crate::TRAP_PENDING);
    }

    /// An `i32` constant (an index operand of a builtin, say).
    pub(crate) fn i32_const(&mut self, value: u32) -> ir::Value {
        self.b.ins().iconst(types::I32, i64::from(value))
    }

    /// A `v128` constant.
    pub(crate) fn v128_const(&mut self, bytes: &[u8; 16]) -> ir::Value {
        let constant = self
            .b
            .func
            .dfg
            .constants
            .insert(ir::ConstantData::from(&bytes[..]));
        self.b.ins().vconst(types::I8X16, constant)
    }
}

/// Memory flags of accesses that reinterpret vectors or touch wasm-visible bytes: wasm is
/// little-endian whatever the host. Heap accesses rely on these flags keeping their default
/// trap code (`HEAP_OUT_OF_BOUNDS`), which turns a fault on a guard page into the trap.
pub(crate) fn little_endian() -> ir::MemFlagsData {
    ir::MemFlagsData::new().with_endianness(ir::Endianness::Little)
}

/// Whether `op` belongs to the GC proposal's struct, array, i31 and cast instructions,
/// which need heap types fact does not implement.
fn is_gc_operator(op: &Operator<'_>) -> bool {
    let name = format!("{op:?}");
    [
        "Struct",
        "Array",
        "RefI31",
        "I31Get",
        "RefTest",
        "RefCast",
        "BrOnCast",
        "AnyConvertExtern",
        "ExternConvertAny",
        "RefEq",
    ]
    .iter()
    .any(|prefix| name.starts_with(prefix))
}
