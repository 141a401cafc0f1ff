//! fact's [`FuncEnvironment`]: how cranelift-wasm's translation of a function body reaches
//! the vmctx (memories, tables, globals, imported functions), the builtins, and the
//! interruption checks (stack limit, epochs, fuel).

use crate::{trap_code, val_type, wasm_signature, TRAP_PENDING};
use cranelift_codegen::cursor::FuncCursor;
use cranelift_codegen::ir::{self, condcodes::IntCC, types, InstBuilder, MemFlags};
use cranelift_codegen::isa::{CallConv, TargetFrontendConfig, TargetIsa};
use cranelift_entity::PrimaryMap;
use cranelift_frontend::FunctionBuilder;
use cranelift_wasm::{
    FuncEnvironment, FuncIndex, FuncTranslationState, GlobalIndex, GlobalVariable, Heap, HeapData,
    HeapStyle, MemoryIndex, TableIndex, TargetEnvironment, TypeConvert, TypeIndex, WasmError,
    WasmHeapType, WasmResult,
};
use fact_environ::builtins::{Builtin, BuiltinType};
use fact_environ::vmoffsets::{func_ref, memory_def, store_ctx, table_def, vmctx, VMOffsets};
use fact_environ::{ModuleInfo, Trap, Tunables, WASM_PAGE_SIZE};
use std::collections::HashMap;
use wasmparser::Operator;

/// Loads of vmctx fields that never change while an instance lives.
fn readonly() -> MemFlags {
    MemFlags::trusted().with_readonly()
}

pub(crate) struct FuncEnv<'a> {
    isa: &'a dyn TargetIsa,
    module: &'a ModuleInfo,
    offsets: &'a VMOffsets,
    tunables: &'a Tunables,
    heaps: PrimaryMap<Heap, HeapData>,
    vmctx: Option<ir::GlobalValue>,
    store_ctx: Option<ir::GlobalValue>,
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
            heaps: PrimaryMap::new(),
            vmctx: None,
            store_ctx: None,
            builtin_sigs: HashMap::new(),
            pending_fuel: 0,
        }
    }

    fn ptr(&self) -> ir::Type {
        self.isa.pointer_type()
    }

    fn vmctx_gv(&mut self, func: &mut ir::Function) -> ir::GlobalValue {
        *self
            .vmctx
            .get_or_insert_with(|| func.create_global_value(ir::GlobalValueData::VMContext))
    }

    /// A global value holding the field at `offset` of the vmctx.
    fn vmctx_load_gv(
        &mut self,
        func: &mut ir::Function,
        offset: u32,
        flags: MemFlags,
    ) -> ir::GlobalValue {
        let base = self.vmctx_gv(func);
        let ptr = self.ptr();
        func.create_global_value(ir::GlobalValueData::Load {
            base,
            offset: (offset as i32).into(),
            global_type: ptr,
            flags,
        })
    }

    fn store_ctx_gv(&mut self, func: &mut ir::Function) -> ir::GlobalValue {
        if let Some(gv) = self.store_ctx {
            return gv;
        }
        let gv = self.vmctx_load_gv(func, vmctx::STORE_CTX, readonly());
        self.store_ctx = Some(gv);
        gv
    }

    /// Sets the function's stack limit, so its prologue traps with `call stack exhausted`
    /// before the stack grows past the limit in the store context.
    pub(crate) fn install_stack_limit(&mut self, func: &mut ir::Function) {
        let store = self.store_ctx_gv(func);
        let ptr = self.ptr();
        let limit = func.create_global_value(ir::GlobalValueData::Load {
            base: store,
            offset: (store_ctx::STACK_LIMIT as i32).into(),
            global_type: ptr,
            flags: MemFlags::trusted(),
        });
        func.stack_limit = Some(limit);
    }

    fn vmctx_value(&self, func: &ir::Function) -> ir::Value {
        func.special_param(ir::ArgumentPurpose::VMContext)
            .expect("wasm functions have a vmctx parameter")
    }

    fn builtin_sig(&mut self, func: &mut ir::Function, builtin: Builtin) -> ir::SigRef {
        if let Some(sig) = self.builtin_sigs.get(&builtin) {
            return *sig;
        }
        let ptr = self.ptr();
        let ty = |t: BuiltinType| match t {
            BuiltinType::Ptr => ptr,
            BuiltinType::I32 => types::I32,
        };
        let mut sig = ir::Signature::new(CallConv::SystemV);
        sig.params
            .extend(builtin.params().iter().map(|t| ir::AbiParam::new(ty(*t))));
        sig.returns
            .extend(builtin.result().map(|t| ir::AbiParam::new(ty(t))));
        let sig = func.import_signature(sig);
        self.builtin_sigs.insert(builtin, sig);
        sig
    }

    /// Calls `builtin` with the vmctx prepended to `args`, returning its result (if any).
    fn call_builtin(
        &mut self,
        pos: &mut FuncCursor,
        builtin: Builtin,
        args: &[ir::Value],
    ) -> Option<ir::Value> {
        let sig = self.builtin_sig(pos.func, builtin);
        let vmctx = self.vmctx_value(pos.func);
        let ptr = self.ptr();
        let table = pos
            .ins()
            .load(ptr, readonly(), vmctx, vmctx::BUILTINS as i32);
        let callee = pos.ins().load(
            ptr,
            readonly(),
            table,
            (builtin.index() * fact_environ::vmoffsets::PTR) as i32,
        );
        let mut all = vec![vmctx];
        all.extend_from_slice(args);
        let call = pos.ins().call_indirect(sig, callee, &all);
        pos.func.dfg.inst_results(call).first().copied()
    }

    /// Calls a builtin that returns a status, and raises the trap it recorded on failure.
    fn call_fallible_builtin(
        &mut self,
        pos: &mut FuncCursor,
        builtin: Builtin,
        args: &[ir::Value],
    ) {
        let status = self.call_builtin(pos, builtin, args).unwrap();
        pos.ins().trapnz(status, TRAP_PENDING);
    }

    fn i32_const(pos: &mut FuncCursor, v: u32) -> ir::Value {
        pos.ins().iconst(types::I32, i64::from(v))
    }

    /// Loads the `*mut VMTableDefinition` of `table`.
    fn table_def(&mut self, pos: &mut FuncCursor, table: TableIndex) -> ir::Value {
        let vmctx = self.vmctx_value(pos.func);
        let ptr = self.ptr();
        pos.ins().load(
            ptr,
            readonly(),
            vmctx,
            self.offsets.table(table.as_u32()) as i32,
        )
    }

    /// Bounds-checks `index` against `table` (trapping with `trap`) and returns the address
    /// of the element.
    fn table_element_addr(
        &mut self,
        pos: &mut FuncCursor,
        table: TableIndex,
        index: ir::Value,
        trap: Trap,
    ) -> ir::Value {
        let def = self.table_def(pos, table);
        let len = pos.ins().load(
            types::I64,
            MemFlags::trusted(),
            def,
            table_def::LENGTH as i32,
        );
        let index = pos.ins().uextend(types::I64, index);
        let oob = pos
            .ins()
            .icmp(IntCC::UnsignedGreaterThanOrEqual, index, len);
        pos.ins().trapnz(oob, trap_code(trap));
        let base = pos
            .ins()
            .load(self.ptr(), MemFlags::trusted(), def, table_def::BASE as i32);
        let offset = pos.ins().ishl_imm(index, 3);
        pos.ins().iadd(base, offset)
    }

    /// Adds the fuel counted since the last flush to the store context.
    fn flush_fuel(&mut self, builder: &mut FunctionBuilder) {
        if self.pending_fuel == 0 {
            return;
        }
        let store = self.store_ctx_gv(builder.func);
        let ptr = self.ptr();
        let store = builder.ins().global_value(ptr, store);
        let consumed = builder.ins().load(
            types::I64,
            MemFlags::trusted(),
            store,
            store_ctx::FUEL_CONSUMED as i32,
        );
        let consumed = builder.ins().iadd_imm(consumed, self.pending_fuel);
        builder.ins().store(
            MemFlags::trusted(),
            consumed,
            store,
            store_ctx::FUEL_CONSUMED as i32,
        );
        self.pending_fuel = 0;
    }

    /// Emits the checks made at function entry and loop headers.
    fn interruption_checks(&mut self, builder: &mut FunctionBuilder) {
        if !self.tunables.consume_fuel && !self.tunables.epoch_interruption {
            return;
        }
        let store = self.store_ctx_gv(builder.func);
        let ptr = self.ptr();
        let store = builder.ins().global_value(ptr, store);
        if self.tunables.consume_fuel {
            self.flush_fuel(builder);
            let consumed = builder.ins().load(
                types::I64,
                MemFlags::trusted(),
                store,
                store_ctx::FUEL_CONSUMED as i32,
            );
            let out = builder
                .ins()
                .icmp_imm(IntCC::SignedGreaterThan, consumed, 0);
            builder.ins().trapnz(out, trap_code(Trap::OutOfFuel));
        }
        if self.tunables.epoch_interruption {
            let vmctx = self.vmctx_value(builder.func);
            let epoch_ptr = builder
                .ins()
                .load(ptr, readonly(), vmctx, vmctx::EPOCH_PTR as i32);
            // Another thread advances the epoch: an atomic load, which no optimization may
            // merge with an earlier load of the same address.
            let epoch = builder
                .ins()
                .atomic_load(types::I64, MemFlags::trusted(), epoch_ptr);
            let deadline = builder.ins().load(
                types::I64,
                MemFlags::trusted(),
                store,
                store_ctx::EPOCH_DEADLINE as i32,
            );
            let reached = builder
                .ins()
                .icmp(IntCC::UnsignedGreaterThanOrEqual, epoch, deadline);
            builder.ins().trapnz(reached, trap_code(Trap::Interrupt));
        }
    }

    fn unsupported<T>(what: &str) -> WasmResult<T> {
        Err(WasmError::Unsupported(format!(
            "unsupported proposal: {what}"
        )))
    }
}

impl TypeConvert for FuncEnv<'_> {
    fn lookup_heap_type(&self, _index: wasmparser::UnpackedIndex) -> WasmHeapType {
        // Concrete heap types need typed function references, which the validator rejects
        // before translation starts.
        WasmHeapType::Func
    }

    fn lookup_type_index(
        &self,
        index: wasmparser::UnpackedIndex,
    ) -> cranelift_wasm::EngineOrModuleTypeIndex {
        let index = index.as_module_index().unwrap_or(0);
        cranelift_wasm::EngineOrModuleTypeIndex::Module(
            cranelift_wasm::ModuleInternedTypeIndex::from_u32(index),
        )
    }
}

impl TargetEnvironment for FuncEnv<'_> {
    fn target_config(&self) -> TargetFrontendConfig {
        self.isa.frontend_config()
    }

    fn heap_access_spectre_mitigation(&self) -> bool {
        false
    }

    fn proof_carrying_code(&self) -> bool {
        false
    }

    fn reference_type(&self, _ty: WasmHeapType) -> (ir::Type, bool) {
        // funcrefs are `*const VMFuncRef`; externrefs are store-local handles.
        (self.ptr(), false)
    }
}

impl FuncEnvironment for FuncEnv<'_> {
    fn is_wasm_parameter(&self, _signature: &ir::Signature, index: usize) -> bool {
        // Parameters 0 and 1 are the callee's and the caller's vmctx.
        index >= 2
    }

    fn param_needs_stack_map(&self, _signature: &ir::Signature, _index: usize) -> bool {
        false
    }

    fn sig_ref_result_needs_stack_map(&self, _sig_ref: ir::SigRef, _index: usize) -> bool {
        false
    }

    fn func_ref_result_needs_stack_map(
        &self,
        _func: &ir::Function,
        _func_ref: ir::FuncRef,
        _index: usize,
    ) -> bool {
        false
    }

    fn make_global(
        &mut self,
        func: &mut ir::Function,
        index: GlobalIndex,
    ) -> WasmResult<GlobalVariable> {
        let i = index.as_u32();
        let gv = self.vmctx_load_gv(func, self.offsets.global(i), readonly());
        Ok(GlobalVariable::Memory {
            gv,
            offset: 0.into(),
            ty: val_type(self.module.global_type(i)),
        })
    }

    fn heaps(&self) -> &PrimaryMap<Heap, HeapData> {
        &self.heaps
    }

    fn make_heap(&mut self, func: &mut ir::Function, index: MemoryIndex) -> WasmResult<Heap> {
        let i = index.as_u32();
        let memory = self.module.memories[i as usize];
        let def = self.vmctx_load_gv(func, self.offsets.memory(i), readonly());
        let ptr = self.ptr();
        // The base of every memory is fixed for its whole life (memories reserve their
        // maximum address space up front), so it can be loaded once.
        let base = func.create_global_value(ir::GlobalValueData::Load {
            base: def,
            offset: (memory_def::BASE as i32).into(),
            global_type: ptr,
            flags: readonly(),
        });
        let (style, offset_guard_size) = if self.tunables.guard_pages {
            (
                HeapStyle::Static { bound: 4 << 30 },
                self.tunables.guard_size,
            )
        } else {
            let bound_gv = func.create_global_value(ir::GlobalValueData::Load {
                base: def,
                offset: (memory_def::LENGTH as i32).into(),
                global_type: ptr,
                flags: MemFlags::trusted(),
            });
            (HeapStyle::Dynamic { bound_gv }, 0)
        };
        Ok(self.heaps.push(HeapData {
            base,
            min_size: memory.limits.min * WASM_PAGE_SIZE,
            max_size: memory.limits.max.map(|m| m * WASM_PAGE_SIZE),
            offset_guard_size,
            style,
            index_type: types::I32,
            memory_type: None,
            page_size_log2: 16,
        }))
    }

    fn make_indirect_sig(
        &mut self,
        func: &mut ir::Function,
        index: TypeIndex,
    ) -> WasmResult<ir::SigRef> {
        let ty = &self.module.types[index.as_u32() as usize];
        Ok(func.import_signature(wasm_signature(self.isa, ty, CallConv::SystemV)))
    }

    fn make_direct_func(
        &mut self,
        func: &mut ir::Function,
        index: FuncIndex,
    ) -> WasmResult<ir::FuncRef> {
        let i = index.as_u32();
        let decl = self.module.functions[i as usize];
        let call_conv = crate::call_conv(&decl);
        let sig = wasm_signature(self.isa, &self.module.types[decl.ty as usize], call_conv);
        let signature = func.import_signature(sig);
        let name = func.declare_imported_user_function(ir::UserExternalName::new(0, i));
        Ok(func.import_function(ir::ExtFuncData {
            name: ir::ExternalName::User(name),
            signature,
            // Defined functions are in the same text section; imported ones are never
            // called through this reference (see `translate_call`).
            colocated: !self.module.is_imported_func(i),
        }))
    }

    fn translate_call(
        &mut self,
        builder: &mut FunctionBuilder,
        callee_index: FuncIndex,
        callee: ir::FuncRef,
        call_args: &[ir::Value],
    ) -> WasmResult<ir::Inst> {
        let i = callee_index.as_u32();
        let vmctx = self.vmctx_value(builder.func);
        let mut args = vec![vmctx, vmctx];
        args.extend_from_slice(call_args);
        if !self.module.is_imported_func(i) {
            return Ok(builder.ins().call(callee, &args));
        }
        // Imported: call through the `VMFuncRef` copied into our vmctx.
        let slot = self.offsets.func_ref(i) as i32;
        let ptr = self.ptr();
        let code = builder
            .ins()
            .load(ptr, readonly(), vmctx, slot + func_ref::WASM_CALL as i32);
        args[0] = builder
            .ins()
            .load(ptr, readonly(), vmctx, slot + func_ref::VMCTX as i32);
        let sig = builder.func.dfg.ext_funcs[callee].signature;
        Ok(builder.ins().call_indirect(sig, code, &args))
    }

    fn translate_call_indirect(
        &mut self,
        builder: &mut FunctionBuilder,
        table_index: TableIndex,
        sig_index: TypeIndex,
        sig_ref: ir::SigRef,
        callee: ir::Value,
        call_args: &[ir::Value],
    ) -> WasmResult<Option<ir::Inst>> {
        let ptr = self.ptr();
        let addr = self.table_element_addr(
            &mut builder.cursor(),
            table_index,
            callee,
            Trap::UndefinedElement,
        );
        let func_ref = builder.ins().load(ptr, MemFlags::trusted(), addr, 0);

        // A null entry traps with a message naming the index, recorded by a builtin on a
        // cold path.
        let null_block = builder.create_block();
        let cont = builder.create_block();
        builder.ins().brif(func_ref, cont, &[], null_block, &[]);
        builder.switch_to_block(null_block);
        builder.seal_block(null_block);
        builder.set_cold_block(null_block);
        self.call_builtin(
            &mut builder.cursor(),
            Builtin::uninitialized_element,
            &[callee],
        );
        builder.ins().trap(TRAP_PENDING);
        builder.switch_to_block(cont);
        builder.seal_block(cont);

        let mut pos = builder.cursor();
        let vmctx = self.vmctx_value(pos.func);
        let actual = pos.ins().load(
            types::I32,
            MemFlags::trusted(),
            func_ref,
            func_ref::TYPE_ID as i32,
        );
        let type_ids = pos
            .ins()
            .load(ptr, readonly(), vmctx, vmctx::TYPE_IDS as i32);
        let expected = pos.ins().load(
            types::I32,
            readonly(),
            type_ids,
            (sig_index.as_u32() * 4) as i32,
        );
        let mismatch = pos.ins().icmp(IntCC::NotEqual, actual, expected);
        pos.ins().trapnz(mismatch, trap_code(Trap::BadSignature));
        let code = pos.ins().load(
            ptr,
            MemFlags::trusted(),
            func_ref,
            func_ref::WASM_CALL as i32,
        );
        let callee_vmctx =
            pos.ins()
                .load(ptr, MemFlags::trusted(), func_ref, func_ref::VMCTX as i32);
        let mut args = vec![callee_vmctx, vmctx];
        args.extend_from_slice(call_args);
        Ok(Some(builder.ins().call_indirect(sig_ref, code, &args)))
    }

    fn translate_return_call_indirect(
        &mut self,
        _builder: &mut FunctionBuilder,
        _table_index: TableIndex,
        _sig_index: TypeIndex,
        _sig_ref: ir::SigRef,
        _callee: ir::Value,
        _call_args: &[ir::Value],
    ) -> WasmResult<()> {
        Self::unsupported("tail calls")
    }

    fn translate_return_call(
        &mut self,
        _builder: &mut FunctionBuilder,
        _callee_index: FuncIndex,
        _callee: ir::FuncRef,
        _call_args: &[ir::Value],
    ) -> WasmResult<()> {
        Self::unsupported("tail calls")
    }

    fn translate_return_call_ref(
        &mut self,
        _builder: &mut FunctionBuilder,
        _sig_ref: ir::SigRef,
        _callee: ir::Value,
        _call_args: &[ir::Value],
    ) -> WasmResult<()> {
        Self::unsupported("tail calls")
    }

    fn translate_call_ref(
        &mut self,
        _builder: &mut FunctionBuilder,
        _sig_ref: ir::SigRef,
        _callee: ir::Value,
        _call_args: &[ir::Value],
    ) -> WasmResult<ir::Inst> {
        Self::unsupported("typed function references")
    }

    fn translate_memory_grow(
        &mut self,
        mut pos: FuncCursor,
        index: MemoryIndex,
        _heap: Heap,
        val: ir::Value,
    ) -> WasmResult<ir::Value> {
        let mem = Self::i32_const(&mut pos, index.as_u32());
        Ok(self
            .call_builtin(&mut pos, Builtin::memory_grow, &[mem, val])
            .unwrap())
    }

    fn translate_memory_size(
        &mut self,
        mut pos: FuncCursor,
        index: MemoryIndex,
        _heap: Heap,
    ) -> WasmResult<ir::Value> {
        let vmctx = self.vmctx_value(pos.func);
        let ptr = self.ptr();
        let def = pos.ins().load(
            ptr,
            readonly(),
            vmctx,
            self.offsets.memory(index.as_u32()) as i32,
        );
        let len = pos
            .ins()
            .load(ptr, MemFlags::trusted(), def, memory_def::LENGTH as i32);
        let pages = pos.ins().ushr_imm(len, 16);
        Ok(pos.ins().ireduce(types::I32, pages))
    }

    fn translate_memory_copy(
        &mut self,
        mut pos: FuncCursor,
        src_index: MemoryIndex,
        _src_heap: Heap,
        dst_index: MemoryIndex,
        _dst_heap: Heap,
        dst: ir::Value,
        src: ir::Value,
        len: ir::Value,
    ) -> WasmResult<()> {
        let dst_mem = Self::i32_const(&mut pos, dst_index.as_u32());
        let src_mem = Self::i32_const(&mut pos, src_index.as_u32());
        self.call_fallible_builtin(
            &mut pos,
            Builtin::memory_copy,
            &[dst_mem, dst, src_mem, src, len],
        );
        Ok(())
    }

    fn translate_memory_fill(
        &mut self,
        mut pos: FuncCursor,
        index: MemoryIndex,
        _heap: Heap,
        dst: ir::Value,
        val: ir::Value,
        len: ir::Value,
    ) -> WasmResult<()> {
        let mem = Self::i32_const(&mut pos, index.as_u32());
        self.call_fallible_builtin(&mut pos, Builtin::memory_fill, &[mem, dst, val, len]);
        Ok(())
    }

    fn translate_memory_init(
        &mut self,
        mut pos: FuncCursor,
        index: MemoryIndex,
        _heap: Heap,
        seg_index: u32,
        dst: ir::Value,
        src: ir::Value,
        len: ir::Value,
    ) -> WasmResult<()> {
        let mem = Self::i32_const(&mut pos, index.as_u32());
        let seg = Self::i32_const(&mut pos, seg_index);
        self.call_fallible_builtin(&mut pos, Builtin::memory_init, &[mem, seg, dst, src, len]);
        Ok(())
    }

    fn translate_data_drop(&mut self, mut pos: FuncCursor, seg_index: u32) -> WasmResult<()> {
        let seg = Self::i32_const(&mut pos, seg_index);
        self.call_builtin(&mut pos, Builtin::data_drop, &[seg]);
        Ok(())
    }

    fn translate_table_size(
        &mut self,
        mut pos: FuncCursor,
        index: TableIndex,
    ) -> WasmResult<ir::Value> {
        let def = self.table_def(&mut pos, index);
        let len = pos.ins().load(
            types::I64,
            MemFlags::trusted(),
            def,
            table_def::LENGTH as i32,
        );
        Ok(pos.ins().ireduce(types::I32, len))
    }

    fn translate_table_grow(
        &mut self,
        mut pos: FuncCursor,
        table_index: TableIndex,
        delta: ir::Value,
        init_value: ir::Value,
    ) -> WasmResult<ir::Value> {
        let table = Self::i32_const(&mut pos, table_index.as_u32());
        Ok(self
            .call_builtin(&mut pos, Builtin::table_grow, &[table, delta, init_value])
            .unwrap())
    }

    fn translate_table_get(
        &mut self,
        builder: &mut FunctionBuilder,
        table_index: TableIndex,
        index: ir::Value,
    ) -> WasmResult<ir::Value> {
        let ptr = self.ptr();
        let mut pos = builder.cursor();
        let addr = self.table_element_addr(&mut pos, table_index, index, Trap::TableOutOfBounds);
        Ok(pos.ins().load(ptr, MemFlags::trusted(), addr, 0))
    }

    fn translate_table_set(
        &mut self,
        builder: &mut FunctionBuilder,
        table_index: TableIndex,
        value: ir::Value,
        index: ir::Value,
    ) -> WasmResult<()> {
        let mut pos = builder.cursor();
        let addr = self.table_element_addr(&mut pos, table_index, index, Trap::TableOutOfBounds);
        pos.ins().store(MemFlags::trusted(), value, addr, 0);
        Ok(())
    }

    fn translate_table_copy(
        &mut self,
        mut pos: FuncCursor,
        dst_table_index: TableIndex,
        src_table_index: TableIndex,
        dst: ir::Value,
        src: ir::Value,
        len: ir::Value,
    ) -> WasmResult<()> {
        let dst_table = Self::i32_const(&mut pos, dst_table_index.as_u32());
        let src_table = Self::i32_const(&mut pos, src_table_index.as_u32());
        self.call_fallible_builtin(
            &mut pos,
            Builtin::table_copy,
            &[dst_table, src_table, dst, src, len],
        );
        Ok(())
    }

    fn translate_table_fill(
        &mut self,
        mut pos: FuncCursor,
        table_index: TableIndex,
        dst: ir::Value,
        val: ir::Value,
        len: ir::Value,
    ) -> WasmResult<()> {
        let table = Self::i32_const(&mut pos, table_index.as_u32());
        self.call_fallible_builtin(&mut pos, Builtin::table_fill, &[table, dst, val, len]);
        Ok(())
    }

    fn translate_table_init(
        &mut self,
        mut pos: FuncCursor,
        seg_index: u32,
        table_index: TableIndex,
        dst: ir::Value,
        src: ir::Value,
        len: ir::Value,
    ) -> WasmResult<()> {
        let table = Self::i32_const(&mut pos, table_index.as_u32());
        let seg = Self::i32_const(&mut pos, seg_index);
        self.call_fallible_builtin(&mut pos, Builtin::table_init, &[table, seg, dst, src, len]);
        Ok(())
    }

    fn translate_elem_drop(&mut self, mut pos: FuncCursor, seg_index: u32) -> WasmResult<()> {
        let seg = Self::i32_const(&mut pos, seg_index);
        self.call_builtin(&mut pos, Builtin::elem_drop, &[seg]);
        Ok(())
    }

    fn translate_ref_null(
        &mut self,
        mut pos: FuncCursor,
        _ty: WasmHeapType,
    ) -> WasmResult<ir::Value> {
        Ok(pos.ins().iconst(self.ptr(), 0))
    }

    fn translate_ref_is_null(
        &mut self,
        mut pos: FuncCursor,
        value: ir::Value,
    ) -> WasmResult<ir::Value> {
        let is_null = pos.ins().icmp_imm(IntCC::Equal, value, 0);
        Ok(pos.ins().uextend(types::I32, is_null))
    }

    fn translate_ref_func(
        &mut self,
        mut pos: FuncCursor,
        func_index: FuncIndex,
    ) -> WasmResult<ir::Value> {
        let slot = self.module.functions[func_index.as_u32() as usize]
            .func_ref
            .ok_or_else(|| WasmError::User("ref.func of an undeclared function".into()))?;
        let vmctx = self.vmctx_value(pos.func);
        Ok(pos
            .ins()
            .iadd_imm(vmctx, i64::from(self.offsets.func_ref(slot))))
    }

    fn translate_custom_global_get(
        &mut self,
        _builder: &mut FunctionBuilder,
        _global_index: GlobalIndex,
    ) -> WasmResult<ir::Value> {
        Err(WasmError::User("fact has no custom globals".into()))
    }

    fn translate_custom_global_set(
        &mut self,
        _builder: &mut FunctionBuilder,
        _global_index: GlobalIndex,
        _val: ir::Value,
    ) -> WasmResult<()> {
        Err(WasmError::User("fact has no custom globals".into()))
    }

    fn translate_atomic_wait(
        &mut self,
        _pos: FuncCursor,
        _index: MemoryIndex,
        _heap: Heap,
        _addr: ir::Value,
        _expected: ir::Value,
        _timeout: ir::Value,
    ) -> WasmResult<ir::Value> {
        Self::unsupported("threads")
    }

    fn translate_atomic_notify(
        &mut self,
        _pos: FuncCursor,
        _index: MemoryIndex,
        _heap: Heap,
        _addr: ir::Value,
        _count: ir::Value,
    ) -> WasmResult<ir::Value> {
        Self::unsupported("threads")
    }

    fn translate_ref_i31(&mut self, _pos: FuncCursor, _val: ir::Value) -> WasmResult<ir::Value> {
        Self::unsupported("GC")
    }

    fn translate_i31_get_s(
        &mut self,
        _pos: FuncCursor,
        _i31ref: ir::Value,
    ) -> WasmResult<ir::Value> {
        Self::unsupported("GC")
    }

    fn translate_i31_get_u(
        &mut self,
        _pos: FuncCursor,
        _i31ref: ir::Value,
    ) -> WasmResult<ir::Value> {
        Self::unsupported("GC")
    }

    fn translate_loop_header(&mut self, builder: &mut FunctionBuilder) -> WasmResult<()> {
        self.interruption_checks(builder);
        Ok(())
    }

    fn before_translate_function(
        &mut self,
        builder: &mut FunctionBuilder,
        _state: &FuncTranslationState,
    ) -> WasmResult<()> {
        self.interruption_checks(builder);
        Ok(())
    }

    fn before_translate_operator(
        &mut self,
        op: &Operator,
        builder: &mut FunctionBuilder,
        state: &FuncTranslationState,
    ) -> WasmResult<()> {
        if !self.tunables.consume_fuel || !state.reachable() {
            return Ok(());
        }
        match op {
            // Structure and no-ops are free.
            Operator::Nop | Operator::Drop | Operator::Block { .. } | Operator::Loop { .. } => {}
            Operator::End | Operator::Else | Operator::Unreachable | Operator::Return => {}
            _ => self.pending_fuel += 1,
        }
        // Everything counted so far is written back before control can leave the
        // straight-line code it was counted in.
        match op {
            Operator::Block { .. }
            | Operator::Loop { .. }
            | Operator::If { .. }
            | Operator::Else
            | Operator::End
            | Operator::Br { .. }
            | Operator::BrIf { .. }
            | Operator::BrTable { .. }
            | Operator::Return
            | Operator::Call { .. }
            | Operator::CallIndirect { .. }
            | Operator::Unreachable => self.flush_fuel(builder),
            _ => {}
        }
        Ok(())
    }
}
