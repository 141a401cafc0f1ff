//! Core instances and the store that owns them. A store owns every instance, memory, table
//! and global created in it; they live until the store is dropped, so compiled code and
//! tables may hold raw pointers to them.

use crate::exceptions::{ExnHeap, VMExnObject, VMTag};
use crate::libcalls;
use crate::memory::LinearMemory;
use crate::module::RuntimeModule;
use crate::table::Table;
use crate::vmcontext::{VMFuncRef, VMStoreContext, ValRaw};
use anyhow::Result;
use fact_environ::vmoffsets::{vmctx, VMCTX_MAGIC};
use fact_environ::{
    ConstExpr, ConstOp, DataMode, ElemItems, ElemMode, EntityIndex, GlobalType, Trap, Tunables,
    ValType,
};
use std::alloc::Layout;
use std::sync::Arc;

/// A global's storage and type.
#[repr(C)]
pub struct GlobalSlot {
    /// The value, where compiled code reads it (must stay the first field).
    pub value: ValRaw,
    pub ty: GlobalType,
}

/// What an instance exports.
#[derive(Copy, Clone, Debug)]
pub enum Export {
    Func(*const VMFuncRef),
    Table(usize),
    Memory(usize),
    Global(usize),
    /// A tag, by store id.
    Tag(usize),
}

/// The imports of an instantiation, resolved to store objects.
#[derive(Default, Clone)]
pub struct Imports {
    pub funcs: Vec<VMFuncRef>,
    pub tables: Vec<usize>,
    pub memories: Vec<usize>,
    pub globals: Vec<usize>,
    pub tags: Vec<usize>,
}

/// A core instance. Boxed and owned by its store.
pub struct Instance {
    module: Arc<RuntimeModule>,
    store: *mut StoreData,
    vmctx: *mut u8,
    layout: Layout,
    memories: Vec<usize>,
    tables: Vec<usize>,
    globals: Vec<usize>,
    tags: Vec<usize>,
    pub(crate) dropped_data: Vec<bool>,
    pub(crate) dropped_elems: Vec<bool>,
}

impl Instance {
    /// The instance that owns `vmctx`.
    ///
    /// # Safety
    ///
    /// `vmctx` must be the vmctx of a live instance.
    pub unsafe fn from_vmctx<'a>(vmctx: *mut u8) -> &'a mut Instance {
        debug_assert_eq!(*(vmctx as *const u32), VMCTX_MAGIC);
        &mut **(vmctx.add(vmctx::INSTANCE as usize) as *mut *mut Instance)
    }

    pub fn module(&self) -> &Arc<RuntimeModule> {
        &self.module
    }

    pub fn vmctx(&self) -> *mut u8 {
        self.vmctx
    }

    /// The store that owns this instance.
    ///
    /// # Safety
    ///
    /// No other reference to the store may be in use.
    pub(crate) unsafe fn store<'a>(&self) -> &'a mut StoreData {
        &mut *self.store
    }

    /// Store ids of this instance's memories, tables and globals (imported ones first).
    pub fn memory_id(&self, i: u32) -> usize {
        self.memories[i as usize]
    }

    pub fn table_id(&self, i: u32) -> usize {
        self.tables[i as usize]
    }

    pub fn global_id(&self, i: u32) -> usize {
        self.globals[i as usize]
    }

    pub fn tag_id(&self, i: u32) -> usize {
        self.tags[i as usize]
    }

    /// The identity of tag `i`, as compiled code sees it.
    pub fn tag_ptr(&self, i: u32) -> *const VMTag {
        // SAFETY: the vmctx slot of every tag is written at instantiation.
        unsafe { *self.offset::<*const VMTag>(self.module.offsets().tag(i)) }
    }

    fn offset<T>(&self, offset: u32) -> *mut T {
        // SAFETY: offsets come from the module's `VMOffsets`, within the allocation.
        unsafe { self.vmctx.add(offset as usize) as *mut T }
    }

    /// The funcref of function `func`, which must be imported or escaping.
    pub fn func_ref(&self, func: u32) -> *const VMFuncRef {
        let slot = self.module.info().functions[func as usize]
            .func_ref
            .expect("only escaping functions have function references");
        self.offset(self.module.offsets().func_ref(slot))
    }

    pub fn get_export(&self, name: &str) -> Option<Export> {
        let index = *self.module.info().exports.get(name)?;
        Some(self.export(index))
    }

    pub fn export(&self, index: EntityIndex) -> Export {
        match index {
            EntityIndex::Func(f) => Export::Func(self.func_ref(f)),
            EntityIndex::Table(t) => Export::Table(self.table_id(t)),
            EntityIndex::Memory(m) => Export::Memory(self.memory_id(m)),
            EntityIndex::Global(g) => Export::Global(self.global_id(g)),
            EntityIndex::Tag(t) => Export::Tag(self.tag_id(t)),
        }
    }

    /// Evaluates a constant expression in this instance.
    pub(crate) fn eval_const(&self, store: &StoreData, expr: &ConstExpr) -> ValRaw {
        let mut stack: Vec<ValRaw> = Vec::with_capacity(2);
        for op in &expr.0 {
            let v = match *op {
                ConstOp::I32Const(v) => ValRaw::i32(v),
                ConstOp::I64Const(v) => ValRaw::i64(v),
                ConstOp::F32Const(v) => ValRaw::f32(v),
                ConstOp::F64Const(v) => ValRaw::f64(v),
                ConstOp::V128Const(v) => ValRaw::from_u128(v),
                ConstOp::RefNull(_) => ValRaw::ptr(0),
                ConstOp::RefFunc(f) => ValRaw::ptr(self.func_ref(f) as usize),
                ConstOp::GlobalGet(g) => store.globals[self.global_id(g)].value,
                ConstOp::I32Add | ConstOp::I32Sub | ConstOp::I32Mul => {
                    let b = stack.pop().unwrap_or_default().get_i32();
                    let a = stack.pop().unwrap_or_default().get_i32();
                    ValRaw::i32(match op {
                        ConstOp::I32Add => a.wrapping_add(b),
                        ConstOp::I32Sub => a.wrapping_sub(b),
                        _ => a.wrapping_mul(b),
                    })
                }
                ConstOp::I64Add | ConstOp::I64Sub | ConstOp::I64Mul => {
                    let b = stack.pop().unwrap_or_default().get_i64();
                    let a = stack.pop().unwrap_or_default().get_i64();
                    ValRaw::i64(match op {
                        ConstOp::I64Add => a.wrapping_add(b),
                        ConstOp::I64Sub => a.wrapping_sub(b),
                        _ => a.wrapping_mul(b),
                    })
                }
            };
            stack.push(v);
        }
        stack.pop().unwrap_or_default()
    }

    /// The values of element segment `seg` (funcref pointers or externref handles).
    pub(crate) fn elem_values(&self, store: &StoreData, seg: usize) -> Vec<usize> {
        match &self.module.info().elems[seg].items {
            ElemItems::Funcs(funcs) => funcs.iter().map(|&f| self.func_ref(f) as usize).collect(),
            ElemItems::Exprs(exprs) => exprs
                .iter()
                .map(|e| self.eval_const(store, e).get_ptr())
                .collect(),
        }
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        // SAFETY: allocated in `StoreData::instantiate` with this layout.
        unsafe { std::alloc::dealloc(self.vmctx, self.layout) }
    }
}

/// The runtime half of a store: everything created in it, and the context compiled code
/// shares.
pub struct StoreData {
    ctx: Box<VMStoreContext>,
    pub instances: Vec<Box<Instance>>,
    pub memories: Vec<Box<LinearMemory>>,
    pub tables: Vec<Box<Table>>,
    pub globals: Vec<Box<GlobalSlot>>,
    pub tags: Vec<Box<VMTag>>,
    pub exceptions: ExnHeap,
    pub(crate) limiter: Option<crate::limits::LimiterHook>,
    epoch: *const u64,
    tunables: Tunables,
}

// SAFETY: a store is used by one thread at a time; the raw pointers are into its own
// boxes and into the engine, which outlives it.
unsafe impl Send for StoreData {}

impl StoreData {
    /// A new store. `epoch` points at the engine's epoch counter.
    pub fn new(epoch: *const u64, tunables: Tunables) -> StoreData {
        StoreData {
            ctx: Box::default(),
            instances: Vec::new(),
            memories: Vec::new(),
            tables: Vec::new(),
            globals: Vec::new(),
            tags: Vec::new(),
            exceptions: ExnHeap::default(),
            limiter: None,
            epoch,
            tunables,
        }
    }

    /// The context shared with compiled code.
    pub fn ctx(&mut self) -> *mut VMStoreContext {
        &mut *self.ctx
    }

    pub fn ctx_ref(&self) -> &VMStoreContext {
        &self.ctx
    }

    pub fn tunables(&self) -> &Tunables {
        &self.tunables
    }

    pub fn add_memory(&mut self, memory: Box<LinearMemory>) -> usize {
        self.memories.push(memory);
        self.memories.len() - 1
    }

    pub fn add_table(&mut self, table: Box<Table>) -> usize {
        self.tables.push(table);
        self.tables.len() - 1
    }

    /// Whether `ptr` is where a `VMFuncRef` of this store lives: a function reference slot
    /// of one of its instances (host functions' own references are the embedder's to
    /// know). Checked without dereferencing `ptr`.
    pub fn is_instance_func_ref(&self, ptr: usize) -> bool {
        self.instances.iter().any(|i| {
            let offsets = i.module.offsets();
            if offsets.num_func_refs == 0 {
                return false;
            }
            let base = i.vmctx as usize + offsets.func_ref(0) as usize;
            let len =
                offsets.num_func_refs as usize * fact_environ::vmoffsets::func_ref::SIZE as usize;
            (base..base + len).contains(&ptr)
                && (ptr - base).is_multiple_of(fact_environ::vmoffsets::func_ref::SIZE as usize)
        })
    }

    /// A new tag whose type has engine-wide signature id `type_id` and parameters
    /// `params`.
    pub fn add_tag(&mut self, type_id: u32, params: &[ValType], description: String) -> usize {
        let id = self.tags.len();
        self.tags
            .push(Box::new(VMTag::new(id, type_id, params, description)));
        id
    }

    /// Frees the exception objects nothing references any more, if enough have
    /// accumulated. Only while no wasm of the store runs. Cheap when there is nothing to
    /// do: it runs after every call into wasm.
    #[inline]
    pub fn maybe_collect_exceptions(&mut self) {
        if self.exceptions.wants_collection() && self.ctx.last_entry_fp == 0 {
            self.collect_exceptions();
        }
    }

    #[cold]
    fn collect_exceptions(&mut self) {
        let mut roots: Vec<*mut VMExnObject> = vec![self.ctx.pending_exception];
        for g in &self.globals {
            if crate::exceptions::is_exnref(g.ty.content) {
                roots.push(g.value.get_ptr() as *mut VMExnObject);
            }
        }
        for t in &self.tables {
            if crate::exceptions::is_exnref(fact_environ::ValType::Ref(t.ty().element)) {
                roots.extend((0..t.len()).filter_map(|i| t.get(i)).map(|p| p as *mut _));
            }
        }
        // SAFETY: no wasm runs (the entry frame record is clear), and globals and tables
        // of exnref type hold only null or live objects.
        unsafe { self.exceptions.collect(roots) };
    }

    /// Makes `exn` the pending exception (for a host function to throw).
    pub fn set_pending_exception(&mut self, exn: *mut VMExnObject) {
        self.ctx.pending_exception = exn;
    }

    /// Takes the exception that last left wasm uncaught, if the host has not yet.
    pub fn take_pending_exception(&mut self) -> Option<*mut VMExnObject> {
        let exn = std::mem::replace(&mut self.ctx.pending_exception, std::ptr::null_mut());
        (!exn.is_null()).then_some(exn)
    }

    pub fn add_global(&mut self, ty: GlobalType, value: ValRaw) -> usize {
        self.globals.push(Box::new(GlobalSlot { value, ty }));
        self.globals.len() - 1
    }

    /// Creates an instance of `module` with `imports` (already type-checked), and runs its
    /// element and data segment initialization. Returns the instance's id. On a trap
    /// during initialization the instance stays in the store (its effects on imported
    /// memories and tables are visible), and the error's root cause is the [`Trap`].
    ///
    /// The store must not move afterwards (instances point back at it).
    pub fn instantiate(&mut self, module: &Arc<RuntimeModule>, imports: &Imports) -> Result<usize> {
        let info = module.info();
        self.check_new_instance(info)?;
        let offsets = module.offsets();
        let layout = Layout::from_size_align(offsets.size() as usize, 16)?;
        // SAFETY: the layout has a non-zero size (the header alone is 48 bytes).
        let vmctx = unsafe { std::alloc::alloc_zeroed(layout) };
        if vmctx.is_null() {
            std::alloc::handle_alloc_error(layout);
        }
        let mut instance = Box::new(Instance {
            module: module.clone(),
            store: self,
            vmctx,
            layout,
            memories: imports.memories.clone(),
            tables: imports.tables.clone(),
            globals: imports.globals.clone(),
            tags: imports.tags.clone(),
            dropped_data: vec![false; info.data.len()],
            dropped_elems: vec![false; info.elems.len()],
        });
        let inst_ptr: *mut Instance = &mut *instance;
        // SAFETY (all writes below): offsets are within the vmctx allocation.
        unsafe {
            *instance.offset::<u32>(vmctx::MAGIC) = VMCTX_MAGIC;
            *instance.offset::<*mut VMStoreContext>(vmctx::STORE_CTX) = &mut *self.ctx;
            *instance.offset::<*const *const u8>(vmctx::BUILTINS) = libcalls::builtins_table();
            *instance.offset::<*const u32>(vmctx::TYPE_IDS) = module.type_ids().as_ptr();
            *instance.offset::<*const u64>(vmctx::EPOCH_PTR) = self.epoch;
            *instance.offset::<*mut Instance>(vmctx::INSTANCE) = inst_ptr;
        }

        for ty in &info.memories[info.num_imported_memories as usize..] {
            let memory = LinearMemory::new(*ty, &self.tunables)?;
            let id = self.add_memory(memory);
            instance.memories.push(id);
        }
        for ty in &info.tables[info.num_imported_tables as usize..] {
            let ty = ty.map_heap_types(&|h| module.engine_heap_type(h));
            let id = self.add_table(Table::new(ty, 0)?);
            instance.tables.push(id);
        }
        for (i, &id) in instance.memories.iter().enumerate() {
            let def = self.memories[id].definition();
            unsafe { *instance.offset(offsets.memory(i as u32)) = def };
        }
        for (i, &id) in instance.tables.iter().enumerate() {
            let def = self.tables[id].definition();
            unsafe { *instance.offset(offsets.table(i as u32)) = def };
        }

        // Function references: imported ones are copied, escaping defined ones built.
        for (i, f) in imports.funcs.iter().enumerate() {
            unsafe { *instance.offset(offsets.func_ref(i as u32)) = *f };
        }
        for (i, decl) in info
            .functions
            .iter()
            .enumerate()
            .skip(info.num_imported_funcs as usize)
        {
            if let Some(slot) = decl.func_ref {
                let f = VMFuncRef {
                    wasm_call: module.defined_func_ptr(i as u32 - info.num_imported_funcs)
                        as *const u8,
                    array_call: module.array_trampoline(decl.ty) as *const u8,
                    vmctx,
                    type_id: module.type_ids()[decl.ty as usize],
                };
                unsafe { *instance.offset(offsets.func_ref(slot)) = f };
            }
        }

        // Tags: imported ones are shared, defined ones are new.
        for (i, &ty) in info.tags.iter().enumerate() {
            if i >= info.num_imported_tags as usize {
                let name = match &info.name {
                    Some(m) => format!("tag {i} of module `{m}`"),
                    None => format!("tag {i}"),
                };
                let params = &info.types[ty as usize].params;
                let id = self.add_tag(module.type_ids()[ty as usize], params, name);
                instance.tags.push(id);
            }
            let tag: *const VMTag = &*self.tags[instance.tags[i]];
            unsafe { *instance.offset(offsets.tag(i as u32)) = tag };
        }

        // Globals, in order: an initializer may read imported globals and functions.
        for (i, init) in info.global_inits.iter().enumerate() {
            let g = info.num_imported_globals as usize + i;
            let value = instance.eval_const(self, init);
            let ty = info.globals[g].map_heap_types(&|h| module.engine_heap_type(h));
            let id = self.add_global(ty, value);
            instance.globals.push(id);
        }
        // Table initializer expressions, which may read the globals.
        for (i, init) in info.table_inits.iter().enumerate() {
            if let Some(init) = init {
                let value = instance.eval_const(self, init).get_ptr();
                let table =
                    &mut self.tables[instance.tables[info.num_imported_tables as usize + i]];
                let len = table.len();
                table.fill(0, value, len);
            }
        }
        for (i, &id) in instance.globals.iter().enumerate() {
            let def: *mut ValRaw = &mut self.globals[id].value;
            unsafe { *instance.offset(offsets.global(i as u32)) = def };
        }

        self.instances.push(instance);
        let id = self.instances.len() - 1;
        self.initialize_segments(id)?;
        Ok(id)
    }

    /// Active element and data segments, in order; each is dropped afterwards.
    fn initialize_segments(&mut self, id: usize) -> Result<()> {
        let instance: *mut Instance = &mut *self.instances[id];
        // SAFETY: the instance is boxed in `self.instances` and not otherwise borrowed.
        let instance = unsafe { &mut *instance };
        let module = instance.module.clone();
        let info = module.info();
        for (i, elem) in info.elems.iter().enumerate() {
            match &elem.mode {
                ElemMode::Active { table, offset } => {
                    // The offset has the table's index type.
                    let offset = instance.eval_const(self, offset);
                    let offset = if info.tables[*table as usize].table64 {
                        offset.get_i64() as u64
                    } else {
                        u64::from(offset.get_i32() as u32)
                    };
                    let values = instance.elem_values(self, i);
                    let table = &mut self.tables[instance.table_id(*table)];
                    let fits = offset
                        .checked_add(values.len() as u64)
                        .is_some_and(|end| end <= table.len());
                    if !fits {
                        return Err(Trap::TableOutOfBounds.into());
                    }
                    for (j, v) in values.into_iter().enumerate() {
                        table.set(offset + j as u64, v);
                    }
                    instance.dropped_elems[i] = true;
                }
                ElemMode::Declared => instance.dropped_elems[i] = true,
                ElemMode::Passive => {}
            }
        }
        for (i, seg) in info.data.iter().enumerate() {
            if let DataMode::Active { memory, offset } = &seg.mode {
                // The offset has the memory's index type.
                let offset = instance.eval_const(self, offset);
                let offset = if info.memories[*memory as usize].memory64 {
                    offset.get_i64() as u64
                } else {
                    u64::from(offset.get_i32() as u32)
                };
                let bytes = module.data_segment(i);
                let memory = &mut self.memories[instance.memory_id(*memory)];
                let fits = offset
                    .checked_add(bytes.len() as u64)
                    .is_some_and(|end| end <= memory.len() as u64);
                if !fits {
                    return Err(Trap::MemoryOutOfBounds.into());
                }
                let offset = offset as usize;
                memory.data_mut()[offset..offset + bytes.len()].copy_from_slice(bytes);
                instance.dropped_data[i] = true;
            }
        }
        Ok(())
    }

    pub fn instance(&self, id: usize) -> &Instance {
        &self.instances[id]
    }

    /// Reads a global's value.
    pub fn global_value(&self, id: usize) -> ValRaw {
        self.globals[id].value
    }

    pub fn set_global_value(&mut self, id: usize, v: ValRaw) {
        self.globals[id].value = v;
    }

    /// Sets the fuel available (fuel must be enabled in the engine).
    pub fn set_fuel(&mut self, fuel: u64) {
        self.ctx.fuel_consumed = -(fuel.min(i64::MAX as u64) as i64);
    }

    pub fn fuel(&self) -> u64 {
        (-self.ctx.fuel_consumed).max(0) as u64
    }

    pub fn set_epoch_deadline(&mut self, deadline: u64) {
        self.ctx.epoch_deadline = deadline;
    }
}
