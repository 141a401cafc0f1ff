//! `call`, `call_indirect` and `call_ref`.
//!
//! Every wasm function takes `(callee vmctx, caller vmctx, params…)`. A call to a function
//! defined in the same module is a direct, colocated call (the object builder writes its
//! displacement, so loaded code has no relocations); a call to an imported function goes
//! through the `VMFuncRef` the instance copied into its vmctx; `call_indirect` loads the
//! `VMFuncRef` from the table, checks it, and calls through it. The calling convention of
//! each callee comes from [`crate::call_conv_for`].

use super::env::{readonly, trusted};
use super::exceptions::Callee;
use super::Translator;
use crate::{call_conv_for, trap_code, wasm_signature, ESCAPING_CALL_CONV, TRAP_PENDING};
use cranelift_codegen::ir::{self, condcodes::IntCC, types, InstBuilder};
use cranelift_codegen::isa::CallConv;
use fact_environ::builtins::Builtin;
use fact_environ::vmoffsets::{func_ref, vmctx};
use fact_environ::Trap;

impl Translator<'_, '_> {
    /// The signature of module type `ty` with convention `cc`, imported once per function.
    fn signature(&mut self, ty: u32, cc: CallConv) -> ir::SigRef {
        if let Some(sig) = self.signatures.get(&(ty, cc)) {
            return *sig;
        }
        let sig = wasm_signature(self.env.isa(), &self.module().types[ty as usize], cc);
        let sig = self.b.import_signature(sig);
        self.signatures.insert((ty, cc), sig);
        sig
    }

    /// The reference through which this function calls defined function `callee`.
    fn direct_callee(&mut self, callee: u32) -> ir::FuncRef {
        if let Some(func) = self.direct_callees.get(&callee) {
            return *func;
        }
        let decl = self.module().functions[callee as usize];
        let signature = self.signature(decl.ty, call_conv_for(&decl));
        let name = self
            .b
            .func
            .declare_imported_user_function(ir::UserExternalName::new(0, callee));
        let func = self.b.import_function(ir::ExtFuncData {
            name: ir::ExternalName::User(name),
            signature,
            // In the same `.text`: the object builder writes the displacement.
            colocated: true,
            patchable: false,
        });
        self.direct_callees.insert(callee, func);
        func
    }

    /// `call` or, with `tail`, `return_call` of function `callee`.
    pub(crate) fn call(&mut self, callee: u32, tail: bool) {
        let module = self.module();
        let decl = module.functions[callee as usize];
        let ty = &module.types[decl.ty as usize];
        let mut args = Vec::with_capacity(ty.params.len() + 2);
        args.extend([self.vmctx, self.vmctx]);
        args.extend(self.pop_n_canonical(ty.params.len()));

        let call = if module.is_imported_func(callee) {
            // Through the `VMFuncRef` copied into our vmctx.
            let slot = self.env.offsets().func_ref(
                decl.func_ref
                    .expect("imported functions have a VMFuncRef slot"),
            );
            let code = self
                .env
                .vmctx_ptr(&mut self.b, self.vmctx, slot + func_ref::WASM_CALL);
            args[0] = self
                .env
                .vmctx_ptr(&mut self.b, self.vmctx, slot + func_ref::VMCTX);
            let sig = self.signature(decl.ty, call_conv_for(&decl));
            if tail {
                self.b.ins().return_call_indirect(sig, code, &args);
                self.reachable = false;
                return;
            }
            Callee::Indirect(sig, code)
        } else {
            let func = self.direct_callee(callee);
            if tail {
                self.b.ins().return_call(func, &args);
                self.reachable = false;
                return;
            }
            Callee::Direct(func)
        };
        let results = self.emit_call(call, &args);
        self.stack.extend(results);
    }

    /// `call_indirect` or, with `tail`, `return_call_indirect`.
    pub(crate) fn call_indirect(&mut self, type_index: u32, table: u32, tail: bool) {
        let module = self.module();
        let ty = &module.types[type_index as usize];
        let index = self.pop();
        let args = self.pop_n_canonical(ty.params.len());

        let addr = self.table_element_addr(table, index, Trap::UndefinedElement);
        let ptr = self.env.pointer_type();
        let funcref = self.b.ins().load(ptr, trusted(), addr, 0);

        // A null entry traps with a message naming the index, recorded by a builtin on a
        // cold path.
        let is_null = self.b.ins().icmp_imm_u(IntCC::Equal, funcref, 0);
        self.cold_path(is_null, |t, _| {
            let index = t.widen_to_i64(index);
            t.env
                .call_builtin(&mut t.b, t.vmctx, Builtin::uninitialized_element, &[index]);
            t.b.ins().trap(TRAP_PENDING);
        });

        self.check_signature(funcref, type_index);
        self.call_funcref(funcref, type_index, args, tail);
    }

    /// `call_ref` or, with `tail`, `return_call_ref`, of a function of type `type_index`.
    pub(crate) fn call_ref(&mut self, type_index: u32, tail: bool) {
        let funcref = self.pop();
        let n = self.module().types[type_index as usize].params.len();
        let args = self.pop_n_canonical(n);
        self.b
            .ins()
            .trapz(funcref, trap_code(Trap::NullFunctionReference));
        // Validation proved the reference's type a subtype of `type_index`.
        self.call_funcref(funcref, type_index, args, tail);
    }

    /// Traps unless the function behind `funcref` has a subtype of module type
    /// `type_index`. Equal engine-wide ids are the fast path; a final type has no other
    /// subtypes, otherwise a cold builtin walks the declared supertype chain.
    fn check_signature(&mut self, funcref: ir::Value, type_index: u32) {
        let actual = self
            .b
            .ins()
            .load(types::I32, trusted(), funcref, func_ref::TYPE_ID as i32);
        let type_ids = self.env.vmctx_ptr(&mut self.b, self.vmctx, vmctx::TYPE_IDS);
        let expected = self
            .b
            .ins()
            .load(types::I32, readonly(), type_ids, (type_index * 4) as i32);
        let mismatch = self.b.ins().icmp(IntCC::NotEqual, actual, expected);
        let is_final = self
            .module()
            .subtypes
            .get(type_index as usize)
            .is_none_or(|s| s.is_final);
        if is_final {
            self.b.ins().trapnz(mismatch, trap_code(Trap::BadSignature));
            return;
        }
        self.cold_path(mismatch, |t, cont| {
            let is_subtype = t
                .env
                .call_builtin(&mut t.b, t.vmctx, Builtin::is_subtype, &[actual, expected])
                .expect("is_subtype returns a flag");
            t.b.ins().trapz(is_subtype, trap_code(Trap::BadSignature));
            t.b.ins().jump(cont, &[]);
        });
    }

    /// Emits `cold` in a cold block taken when `cond` is non-zero, then continues in a new
    /// block after the branch. `cold` must end its block: with a trap, or with a jump to
    /// the continuation block it is given.
    fn cold_path(&mut self, cond: ir::Value, cold: impl FnOnce(&mut Self, ir::Block)) {
        let cold_block = self.b.create_block();
        let cont = self.b.create_block();
        self.b.ins().brif(cond, cold_block, &[], cont, &[]);
        self.b.switch_to_block(cold_block);
        self.b.seal_block(cold_block);
        self.b.set_cold_block(cold_block);
        cold(self, cont);
        self.b.switch_to_block(cont);
        self.b.seal_block(cont);
    }

    /// Calls (or tail-calls) through the non-null `VMFuncRef` `funcref` with the
    /// signature of module type `type_index`, pushing the results.
    fn call_funcref(
        &mut self,
        funcref: ir::Value,
        type_index: u32,
        args: Vec<ir::Value>,
        tail: bool,
    ) {
        let ptr = self.env.pointer_type();
        let code = self
            .b
            .ins()
            .load(ptr, trusted(), funcref, func_ref::WASM_CALL as i32);
        let callee_vmctx = self
            .b
            .ins()
            .load(ptr, trusted(), funcref, func_ref::VMCTX as i32);
        let mut call_args = Vec::with_capacity(args.len() + 2);
        call_args.extend([callee_vmctx, self.vmctx]);
        call_args.extend(args);
        // Whatever a reference points at escapes its module, so it has the escaping
        // convention.
        let sig = self.signature(type_index, ESCAPING_CALL_CONV);
        if tail {
            self.b.ins().return_call_indirect(sig, code, &call_args);
            self.reachable = false;
            return;
        }
        let results = self.emit_call(Callee::Indirect(sig, code), &call_args);
        self.stack.extend(results);
    }
}
