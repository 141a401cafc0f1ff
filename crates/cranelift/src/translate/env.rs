//! The translator's view of the runtime: how compiled code reaches the vmctx and the
//! store context (layout from `fact_environ::vmoffsets`), globals, builtins, and the
//! interruption checks (stack limit, epochs, fuel).

use crate::{trap_code, val_type, TRAP_PENDING};
use cranelift_codegen::ir::{self, condcodes::IntCC, types, InstBuilder, MemFlagsData};
use cranelift_codegen::isa::TargetIsa;
use cranelift_frontend::FunctionBuilder;
use fact_environ::builtins::Builtin;
use fact_environ::vmoffsets::{store_ctx, vmctx, VMOffsets, PTR};
use fact_environ::{ModuleInfo, Trap, Tunables};
use std::collections::HashMap;
use wasmparser::Operator;

/// Loads of what never changes while an instance lives (vmctx fields, memory bases, the
/// builtin table, signature ids, immutable globals): Cranelift may merge them and hoist
/// them out of loops.
pub(crate) fn readonly() -> MemFlagsData {
    MemFlagsData::trusted().with_readonly().with_can_move()
}

/// Loads and stores of runtime state that compiled code and the runtime both change.
pub(crate) fn trusted() -> MemFlagsData {
    MemFlagsData::trusted()
}

/// What the translation of one function needs to know about its module and engine.
pub(crate) struct FuncEnv<'a> {
    isa: &'a dyn TargetIsa,
    module: &'a ModuleInfo,
    offsets: &'a VMOffsets,
    tunables: &'a Tunables,
    builtin_sigs: HashMap<Builtin, ir::SigRef>,
    /// Fuel consumed by operators translated since the last flush to the store context.
    pending_fuel: i64,
}

impl<'a> FuncEnv<'a> {
    pub(crate) fn new(
        isa: &'a dyn TargetIsa,
        module: &'a ModuleInfo,
        offsets: &'a VMOffsets,
        tunables: &'a Tunables,
    ) -> Self {
        FuncEnv {
            isa,
            module,
            offsets,
            tunables,
            builtin_sigs: HashMap::new(),
            pending_fuel: 0,
        }
    }

    pub(crate) fn isa(&self) -> &'a dyn TargetIsa {
        self.isa
    }

    pub(crate) fn module(&self) -> &'a ModuleInfo {
        self.module
    }

    pub(crate) fn offsets(&self) -> &'a VMOffsets {
        self.offsets
    }

    pub(crate) fn tunables(&self) -> &'a Tunables {
        self.tunables
    }

    pub(crate) fn pointer_type(&self) -> ir::Type {
        self.isa.pointer_type()
    }

    /// Loads the pointer-sized vmctx field at `offset`, which never changes.
    pub(crate) fn vmctx_ptr(
        &self,
        b: &mut FunctionBuilder<'_>,
        vmctx: ir::Value,
        offset: u32,
    ) -> ir::Value {
        b.ins()
            .load(self.pointer_type(), readonly(), vmctx, offset as i32)
    }

    /// The store context of the running instance.
    pub(crate) fn store_ctx(&self, b: &mut FunctionBuilder<'_>, vmctx: ir::Value) -> ir::Value {
        self.vmctx_ptr(b, vmctx, vmctx::STORE_CTX)
    }

    /// Sets the function's stack limit, so its prologue traps with `call stack exhausted`
    /// before the stack grows past the limit in the store context.
    pub(crate) fn install_stack_limit(&self, func: &mut ir::Function) {
        let ptr = self.pointer_type();
        let readonly = func
            .dfg
            .mem_flags
            .insert_unchecked(MemFlagsData::trusted().with_readonly());
        let trusted = func.dfg.mem_flags.insert_unchecked(MemFlagsData::trusted());
        let vmctx = func.create_global_value(ir::GlobalValueData::VMContext);
        let store = func.create_global_value(ir::GlobalValueData::Load {
            base: vmctx,
            offset: (vmctx::STORE_CTX as i32).into(),
            global_type: ptr,
            flags: readonly,
        });
        let limit = func.create_global_value(ir::GlobalValueData::Load {
            base: store,
            offset: (store_ctx::STACK_LIMIT as i32).into(),
            global_type: ptr,
            flags: trusted,
        });
        func.stack_limit = Some(limit);
    }

    /// The address of global `index`'s storage.
    fn global_addr(&self, b: &mut FunctionBuilder<'_>, vmctx: ir::Value, index: u32) -> ir::Value {
        self.vmctx_ptr(b, vmctx, self.offsets.global(index))
    }

    pub(crate) fn global_get(
        &self,
        b: &mut FunctionBuilder<'_>,
        vmctx: ir::Value,
        index: u32,
    ) -> ir::Value {
        let ty = val_type(self.module.global_type(index));
        let addr = self.global_addr(b, vmctx, index);
        let flags = if self.module.globals[index as usize].mutable {
            trusted()
        } else {
            readonly()
        };
        b.ins().load(ty, flags, addr, 0)
    }

    pub(crate) fn global_set(
        &self,
        b: &mut FunctionBuilder<'_>,
        vmctx: ir::Value,
        index: u32,
        value: ir::Value,
    ) {
        let addr = self.global_addr(b, vmctx, index);
        b.ins().store(trusted(), value, addr, 0);
    }

    fn builtin_sig(&mut self, b: &mut FunctionBuilder<'_>, builtin: Builtin) -> ir::SigRef {
        if let Some(sig) = self.builtin_sigs.get(&builtin) {
            return *sig;
        }
        let sig = crate::builtin_signature(self.isa, builtin);
        let sig = b.import_signature(sig);
        self.builtin_sigs.insert(builtin, sig);
        sig
    }

    /// The signature of `builtin` and its address, loaded from the builtin table.
    pub(crate) fn builtin_callee(
        &mut self,
        b: &mut FunctionBuilder<'_>,
        vmctx: ir::Value,
        builtin: Builtin,
    ) -> (ir::SigRef, ir::Value) {
        let sig = self.builtin_sig(b, builtin);
        let table = self.vmctx_ptr(b, vmctx, vmctx::BUILTINS);
        let callee = b.ins().load(
            self.pointer_type(),
            readonly(),
            table,
            (builtin.index() * PTR) as i32,
        );
        (sig, callee)
    }

    /// Calls `builtin` with the vmctx prepended to `args`, returning its result (if any).
    pub(crate) fn call_builtin(
        &mut self,
        b: &mut FunctionBuilder<'_>,
        vmctx: ir::Value,
        builtin: Builtin,
        args: &[ir::Value],
    ) -> Option<ir::Value> {
        let (sig, callee) = self.builtin_callee(b, vmctx, builtin);
        let mut all = Vec::with_capacity(args.len() + 1);
        all.push(vmctx);
        all.extend_from_slice(args);
        let call = b.ins().call_indirect(sig, callee, &all);
        b.inst_results(call).first().copied()
    }

    /// Calls a builtin that returns a status, and raises the trap it recorded on failure.
    pub(crate) fn call_fallible_builtin(
        &mut self,
        b: &mut FunctionBuilder<'_>,
        vmctx: ir::Value,
        builtin: Builtin,
        args: &[ir::Value],
    ) {
        let status = self
            .call_builtin(b, vmctx, builtin, args)
            .expect("fallible builtins return a status");
        b.ins().trapnz(status, TRAP_PENDING);
    }

    /// The checks made when a function starts.
    pub(crate) fn function_entry(&mut self, b: &mut FunctionBuilder<'_>, vmctx: ir::Value) {
        self.interruption_checks(b, vmctx);
    }

    /// The checks made at every loop header.
    pub(crate) fn loop_header(&mut self, b: &mut FunctionBuilder<'_>, vmctx: ir::Value) {
        self.interruption_checks(b, vmctx);
    }

    /// Counts the fuel of `op` (in reachable code) and, before control can leave the
    /// straight-line code the count was made in, writes what was counted back to the store
    /// context. (A trap in the middle of straight-line code leaves the count since the last
    /// write-back unrecorded, as in Wasmtime: the store's fuel is then an upper bound.)
    pub(crate) fn count_fuel(
        &mut self,
        b: &mut FunctionBuilder<'_>,
        vmctx: ir::Value,
        op: &Operator<'_>,
    ) {
        if !self.tunables.consume_fuel {
            return;
        }
        use Operator as O;
        match op {
            // Structure and no-ops are free.
            O::Nop | O::Drop | O::Block { .. } | O::Loop { .. } => {}
            O::End | O::Else | O::Unreachable | O::Return => {}
            _ => self.pending_fuel += 1,
        }
        match op {
            O::Block { .. }
            | O::Loop { .. }
            | O::If { .. }
            | O::Else
            | O::End
            | O::Br { .. }
            | O::BrIf { .. }
            | O::BrTable { .. }
            | O::Return
            | O::Call { .. }
            | O::CallIndirect { .. }
            | O::ReturnCall { .. }
            | O::ReturnCallIndirect { .. }
            | O::Unreachable => self.flush_fuel(b, vmctx),
            _ => {}
        }
    }

    /// Adds the fuel counted since the last flush to the store context.
    fn flush_fuel(&mut self, b: &mut FunctionBuilder<'_>, vmctx: ir::Value) {
        if self.pending_fuel == 0 {
            return;
        }
        let store = self.store_ctx(b, vmctx);
        let consumed = b.ins().load(
            types::I64,
            trusted(),
            store,
            store_ctx::FUEL_CONSUMED as i32,
        );
        let consumed = b.ins().iadd_imm_s(consumed, self.pending_fuel);
        b.ins()
            .store(trusted(), consumed, store, store_ctx::FUEL_CONSUMED as i32);
        self.pending_fuel = 0;
    }

    /// Emits the fuel and epoch checks made at function entries and loop headers.
    fn interruption_checks(&mut self, b: &mut FunctionBuilder<'_>, vmctx: ir::Value) {
        if !self.tunables.consume_fuel && !self.tunables.epoch_interruption {
            return;
        }
        let store = self.store_ctx(b, vmctx);
        if self.tunables.consume_fuel {
            self.flush_fuel(b, vmctx);
            let consumed = b.ins().load(
                types::I64,
                trusted(),
                store,
                store_ctx::FUEL_CONSUMED as i32,
            );
            let out = b.ins().icmp_imm_s(IntCC::SignedGreaterThan, consumed, 0);
            b.ins().trapnz(out, trap_code(Trap::OutOfFuel));
        }
        if self.tunables.epoch_interruption {
            let epoch_ptr = self.vmctx_ptr(b, vmctx, vmctx::EPOCH_PTR);
            // Another thread advances the epoch: an atomic load, which no optimization may
            // merge with an earlier load of the same address.
            let epoch = b.ins().atomic_load(types::I64, trusted(), epoch_ptr);
            let deadline = b.ins().load(
                types::I64,
                trusted(),
                store,
                store_ctx::EPOCH_DEADLINE as i32,
            );
            let reached = b
                .ins()
                .icmp(IntCC::UnsignedGreaterThanOrEqual, epoch, deadline);
            b.ins().trapnz(reached, trap_code(Trap::Interrupt));
        }
    }
}
