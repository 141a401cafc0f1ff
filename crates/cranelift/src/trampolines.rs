//! Trampolines between the host and wasm, generated with Cranelift.
//!
//! Both use an array of 16-byte raw values, so Rust can call any signature (and any number
//! of results) through one function type:
//!
//! - *array → wasm* (entry): `fn(callee_vmctx, caller_vmctx, code, values, len)` records
//!   its frame pointer as the innermost entry frame (where backtraces stop), loads the
//!   arguments from `values`, calls `code` and stores the results back into `values`.
//! - *wasm → array* (exit): has the wasm signature of a host function; it spills the
//!   arguments into a stack array, records the calling wasm frame (for backtraces that
//!   cross host calls), calls the host function whose pointer is in its context, and
//!   raises the host's error if it reports one, or throws the host's exception into the
//!   calling wasm (through the `throw_ref` builtin, which finds the caller from this
//!   trampoline's frame).

use crate::compiler::{CompiledCode, Compiler};
use crate::{raw_flags, val_type, wasm_signature, ESCAPING_CALL_CONV, TRAP_PENDING};
use anyhow::Result;
use cranelift_codegen::ir::{self, types, AbiParam, InstBuilder, MemFlagsData, UserFuncName};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use fact_environ::builtins::Builtin;
use fact_environ::vmoffsets::{host_ctx, store_ctx, vmctx, PTR, VAL_RAW_SIZE};
use fact_environ::FuncType;

impl Compiler {
    /// The entry trampoline for wasm functions of type `ty`.
    pub fn array_to_wasm_trampoline(&self, ty: &FuncType) -> Result<CompiledCode> {
        let isa = self.isa();
        let ptr = isa.pointer_type();
        let mut sig = ir::Signature::new(self.host_call_conv());
        sig.params.extend([AbiParam::new(ptr); 5]);
        let mut func = ir::Function::with_name_signature(UserFuncName::default(), sig);
        let callee_sig = func.import_signature(wasm_signature(isa, ty, ESCAPING_CALL_CONV));
        let mut ctx = FunctionBuilderContext::new();
        let mut b = FunctionBuilder::new(&mut func, &mut ctx);
        let block = b.create_block();
        b.append_block_params_for_function_params(block);
        b.switch_to_block(block);
        b.seal_block(block);
        let [callee_vmctx, caller_vmctx, code, values, _len] = b.block_params(block)[..] else {
            unreachable!()
        };

        // Backtraces stop at this frame.
        let store = b.ins().load(
            ptr,
            MemFlagsData::trusted(),
            callee_vmctx,
            vmctx::STORE_CTX as i32,
        );
        let fp = b.ins().get_frame_pointer(ptr);
        b.ins().store(
            MemFlagsData::trusted(),
            fp,
            store,
            store_ctx::LAST_ENTRY_FP as i32,
        );

        let mut args = vec![callee_vmctx, caller_vmctx];
        for (i, p) in ty.params.iter().enumerate() {
            let offset = (i as u32 * VAL_RAW_SIZE) as i32;
            args.push(b.ins().load(val_type(*p), raw_flags(), values, offset));
        }
        let call = b.ins().call_indirect(callee_sig, code, &args);
        let results = b.inst_results(call).to_vec();
        for (i, r) in results.into_iter().enumerate() {
            let offset = (i as u32 * VAL_RAW_SIZE) as i32;
            b.ins().store(raw_flags(), r, values, offset);
        }
        b.ins().return_(&[]);
        b.finalize(isa.frontend_config());
        self.finish(func)
    }

    /// The exit trampoline through which wasm calls host functions of type `ty`.
    pub fn wasm_to_host_trampoline(&self, ty: &FuncType) -> Result<CompiledCode> {
        let isa = self.isa();
        let ptr = isa.pointer_type();
        let sig = wasm_signature(isa, ty, ESCAPING_CALL_CONV);
        let mut func = ir::Function::with_name_signature(UserFuncName::default(), sig);
        let mut host_sig = ir::Signature::new(self.host_call_conv());
        host_sig.params.extend([AbiParam::new(ptr); 4]);
        host_sig.returns.push(AbiParam::new(types::I8));
        let host_sig = func.import_signature(host_sig);

        let mut ctx = FunctionBuilderContext::new();
        let mut b = FunctionBuilder::new(&mut func, &mut ctx);
        let block = b.create_block();
        b.append_block_params_for_function_params(block);
        b.switch_to_block(block);
        b.seal_block(block);
        let params = b.block_params(block).to_vec();
        let (host, caller_vmctx) = (params[0], params[1]);

        let len = ty.params.len().max(ty.results.len()).max(1) as u32;
        let slot = b.create_sized_stack_slot(ir::StackSlotData::new(
            ir::StackSlotKind::ExplicitSlot,
            len * VAL_RAW_SIZE,
            4,
        ));
        let values = b.ins().stack_addr(ptr, slot, 0);
        for (i, v) in params[2..].iter().enumerate() {
            b.ins()
                .store(raw_flags(), *v, values, (i as u32 * VAL_RAW_SIZE) as i32);
        }

        // Record the calling wasm frame: its frame pointer and the return address into it.
        let fp = b.ins().get_frame_pointer(ptr);
        let caller_fp = b.ins().load(ptr, MemFlagsData::trusted(), fp, 0);
        let caller_pc = b.ins().load(ptr, MemFlagsData::trusted(), fp, 8);
        let store = b.ins().load(
            ptr,
            MemFlagsData::trusted(),
            host,
            host_ctx::STORE_CTX as i32,
        );
        b.ins().store(
            MemFlagsData::trusted(),
            caller_fp,
            store,
            store_ctx::LAST_EXIT_FP as i32,
        );
        b.ins().store(
            MemFlagsData::trusted(),
            caller_pc,
            store,
            store_ctx::LAST_EXIT_PC as i32,
        );

        let callee = b.ins().load(
            ptr,
            MemFlagsData::trusted(),
            host,
            host_ctx::HOST_CALL as i32,
        );
        let len = b.ins().iconst(ptr, i64::from(len));
        let call = b
            .ins()
            .call_indirect(host_sig, callee, &[host, caller_vmctx, values, len]);
        let ok = b.inst_results(call)[0];
        // The hot path tests for success only. On failure, the `host_failed` builtin says
        // whether the host's error throws an exception into the caller, which is then
        // thrown as `throw_ref` would; otherwise the error is raised.
        let failed = b.create_block();
        let cont = b.create_block();
        b.ins().brif(ok, cont, &[], failed, &[]);
        b.switch_to_block(failed);
        b.seal_block(failed);
        b.set_cold_block(failed);
        let builtins = b.ins().load(
            ptr,
            MemFlagsData::trusted(),
            caller_vmctx,
            vmctx::BUILTINS as i32,
        );
        let builtin = |b: &mut FunctionBuilder<'_>, which: Builtin| {
            b.ins().load(
                ptr,
                MemFlagsData::trusted(),
                builtins,
                (which.index() * PTR) as i32,
            )
        };
        let failed_sig = b.import_signature(crate::builtin_signature(isa, Builtin::host_failed));
        let host_failed = builtin(&mut b, Builtin::host_failed);
        let call = b
            .ins()
            .call_indirect(failed_sig, host_failed, &[caller_vmctx]);
        let exn = b.inst_results(call)[0];
        b.ins().trapz(exn, TRAP_PENDING);
        let throw_sig = b.import_signature(crate::builtin_signature(isa, Builtin::throw_ref));
        let throw_ref = builtin(&mut b, Builtin::throw_ref);
        b.ins()
            .call_indirect(throw_sig, throw_ref, &[caller_vmctx, exn]);
        b.ins()
            .trap(crate::trap_code(fact_environ::Trap::UnreachableCodeReached));
        b.switch_to_block(cont);
        b.seal_block(cont);

        let results: Vec<ir::Value> = ty
            .results
            .iter()
            .enumerate()
            .map(|(i, r)| {
                b.ins().load(
                    val_type(*r),
                    raw_flags(),
                    values,
                    (i as u32 * VAL_RAW_SIZE) as i32,
                )
            })
            .collect();
        b.ins().return_(&results);
        b.finalize(isa.frontend_config());
        self.finish(func)
    }
}
