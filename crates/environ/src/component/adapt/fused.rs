//! The body of a fused adapter: the canonical ABI's `canon lower` and `canon lift` of one
//! call pair, fused into a single core function. Values are moved from the caller's flat
//! parameters or memory straight into the callee's (and results back), never through an
//! intermediate copy.
//!
//! Locations are either flat (core values in locals, with the slot types of the whole
//! flattened signature, which for variants are *joined* types) or in memory (a memory, an
//! address in a local and a constant offset). Memory-to-memory translation of compound
//! types goes through one helper function per (type, source side, destination side), so
//! the generated code stays linear in the size of the types.

use super::builder::{FuncBuilder, ModuleBuilder};
use crate::component::plan::{
    ComponentInstanceIndex, CoreDef, CoreExport, Intrinsic, StringEncoding, Transcode,
    FLAG_MAY_LEAVE,
};
use crate::component::types::{
    discriminant_size, flags_size, ComponentTypes, FlatType, InterfaceType, TypeId,
};
use crate::Trap;
use anyhow::Result;
use std::collections::HashMap;
use wasm_encoder::{BlockType, Instruction as I, MemArg, ValType as V};

/// Something callable: an imported or a defined function of the adapter module.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Callee {
    Import(u32),
    Defined(u32),
}

/// One side of a call, as the adapter module sees it.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Side {
    /// Memory index in the adapter module.
    pub memory: Option<u32>,
    pub realloc: Option<Callee>,
    pub encoding: StringEncoding,
    /// Global index of the side's instance flags.
    pub flags: u32,
    /// The side's component instance (whose handle table it uses).
    pub instance: ComponentInstanceIndex,
}

impl Side {
    pub(crate) fn memory(&self, what: &str) -> Result<u32> {
        self.memory
            .ok_or_else(|| anyhow::anyhow!("canonical options lack the memory that {what} needs"))
    }

    fn realloc(&self, what: &str) -> Result<Callee> {
        self.realloc
            .ok_or_else(|| anyhow::anyhow!("canonical options lack the realloc that {what} needs"))
    }
}

/// A value's location.
#[derive(Clone, Debug)]
pub(crate) enum Loc {
    /// Core values in locals, with their slot types.
    Flat(Vec<(u32, V)>),
    /// In memory `mem` at the address in local `addr` plus `offset`.
    Mem { mem: u32, addr: u32, offset: u32 },
}

impl Loc {
    fn offset_by(&self, start: usize, len: usize, offset: u32) -> Loc {
        match self {
            Loc::Flat(v) => Loc::Flat(v[start..start + len].to_vec()),
            Loc::Mem {
                mem,
                addr,
                offset: o,
            } => Loc::Mem {
                mem: *mem,
                addr: *addr,
                offset: o + offset,
            },
        }
    }
}

/// A value source for call arguments.
#[derive(Copy, Clone)]
pub(crate) enum Val {
    Const(i32),
    Local(u32),
}

#[derive(Clone, PartialEq, Eq, Hash)]
enum Helper {
    Translate(TypeId, Side, Side),
    List(TypeId, Side, Side),
    String(Side, Side),
}

pub(crate) fn flat_valtype(f: FlatType) -> V {
    match f {
        FlatType::I32 => V::I32,
        FlatType::I64 => V::I64,
        FlatType::F32 => V::F32,
        FlatType::F64 => V::F64,
    }
}

fn memarg(mem: u32, offset: u32, align_log2: u32) -> MemArg {
    MemArg {
        offset: offset.into(),
        align: align_log2,
        target: wasm_encoder::MemArgTarget::Memory(mem),
        ordering: None,
    }
}

/// Generates adapter functions into one module.
pub(crate) struct Compiler<'a> {
    pub types: &'a ComponentTypes,
    pub module: ModuleBuilder,
    /// The memory each memory index imports.
    pub memories: Vec<CoreExport>,
    /// Whether guest code may throw, so that calls into it must contain exceptions
    /// (see [`Compiler::call_guest`]).
    pub contain_exceptions: bool,
    helpers: HashMap<Helper, u32>,
}

impl<'a> Compiler<'a> {
    pub fn new(types: &'a ComponentTypes) -> Compiler<'a> {
        Compiler {
            types,
            module: ModuleBuilder::default(),
            memories: Vec::new(),
            contain_exceptions: false,
            helpers: HashMap::new(),
        }
    }

    pub fn memory(&mut self, def: &CoreExport) -> u32 {
        let i = self
            .module
            .import_memory(def, &format!("i{}:{}", def.instance.0, def.name));
        if i as usize == self.memories.len() {
            self.memories.push(def.clone());
        }
        i
    }

    pub fn call(&self, f: &mut FuncBuilder, callee: Callee) {
        match callee {
            Callee::Import(i) => f.ins(I::Call(i)),
            Callee::Defined(i) => f.call_defined(i),
        }
    }

    /// Calls guest code (a lifted callee, `realloc`, `post-return`) of type
    /// `params -> results`, whose arguments are on the stack. An exception may not leave
    /// a component instance, so when the component's modules use tags the call is in a
    /// `try_table` whose `catch_all` traps:
    ///
    /// ```text
    /// block (params -> results)              ;; $done
    ///   block (params -> [])                 ;; $caught
    ///     try_table (params -> results) (catch_all $caught)
    ///       call callee
    ///     end
    ///     br $done
    ///   end
    ///   trap "uncaught exception leaving component instance"
    /// end
    /// ```
    pub fn call_guest(&mut self, f: &mut FuncBuilder, callee: Callee, params: &[V], results: &[V]) {
        if !self.contain_exceptions {
            self.call(f, callee);
            return;
        }
        let call_ty = BlockType::FunctionType(self.module.type_index(params, results));
        let caught_ty = BlockType::FunctionType(self.module.type_index(params, &[]));
        f.ins(I::Block(call_ty));
        f.ins(I::Block(caught_ty));
        f.ins(I::TryTable(
            call_ty,
            std::borrow::Cow::Owned(vec![wasm_encoder::Catch::All { label: 0 }]),
        ));
        self.call(f, callee);
        f.ins(I::End);
        f.ins(I::Br(1));
        f.ins(I::End);
        self.trap(f, Trap::UncaughtException);
        f.ins(I::End);
    }

    fn trap_func(&mut self) -> u32 {
        self.module.import_func(
            &CoreDef::Intrinsic(Intrinsic::Trap),
            "intrinsics",
            "trap",
            &[V::I32],
            &[],
        )
    }

    /// Raises `trap` unconditionally.
    pub fn trap(&mut self, f: &mut FuncBuilder, trap: Trap) {
        let func = self.trap_func();
        f.ins(I::I32Const(trap as i32));
        f.ins(I::Call(func));
        f.ins(I::Unreachable);
    }

    /// Raises `trap` if the `i32` on the stack is non-zero.
    pub fn trap_if(&mut self, f: &mut FuncBuilder, trap: Trap) {
        f.ins(I::If(BlockType::Empty));
        self.trap(f, trap);
        f.ins(I::End);
    }

    fn transcoder(&mut self, op: Transcode, from: u32, to: u32) -> u32 {
        let (from, to) = (
            self.memories[from as usize].clone(),
            self.memories[to as usize].clone(),
        );
        let name = format!(
            "{} i{}:{} -> i{}:{}",
            op.name(),
            from.instance.0,
            from.name,
            to.instance.0,
            to.name
        );
        let (params, results) = op.signature();
        let params: Vec<V> = params.iter().map(|t| core_valtype(*t)).collect();
        let results: Vec<V> = results.iter().map(|t| core_valtype(*t)).collect();
        self.module.import_func(
            &CoreDef::Intrinsic(Intrinsic::Transcode { op, from, to }),
            "intrinsics",
            &name,
            &params,
            &results,
        )
    }

    /// Imports a resource intrinsic (named for the plan item it serves).
    fn resource_intrinsic(&mut self, intrinsic: Intrinsic) -> u32 {
        let (name, params, results): (String, &[V], &[V]) = match &intrinsic {
            Intrinsic::TransferOwn { resource, from, to } => (
                format!("transfer-own r{} c{} -> c{}", resource.0, from.0, to.0),
                &[V::I32],
                &[V::I32],
            ),
            Intrinsic::TransferBorrow { resource, from, to } => (
                format!("transfer-borrow r{} c{} -> c{}", resource.0, from.0, to.0),
                &[V::I32],
                &[V::I32],
            ),
            Intrinsic::EnterCall => ("enter-call".into(), &[], &[]),
            Intrinsic::ExitCall => ("exit-call".into(), &[], &[]),
            Intrinsic::Trap | Intrinsic::Transcode { .. } => {
                unreachable!("not a resource intrinsic")
            }
        };
        self.module.import_func(
            &CoreDef::Intrinsic(intrinsic),
            "intrinsics",
            &name,
            params,
            results,
        )
    }

    /// Calls `enter-call` (true) or `exit-call` (false).
    pub fn call_scope(&mut self, f: &mut FuncBuilder, enter: bool) {
        let func = self.resource_intrinsic(if enter {
            Intrinsic::EnterCall
        } else {
            Intrinsic::ExitCall
        });
        f.ins(I::Call(func));
    }

    /// Moves a handle: reads the `i32` index, transfers it with `intrinsic`, writes the
    /// result.
    fn handle(&mut self, f: &mut FuncBuilder, intrinsic: Intrinsic, src: &Loc, dst: &Loc) {
        let func = self.resource_intrinsic(intrinsic);
        if let Loc::Mem { addr, .. } = dst {
            f.ins(I::LocalGet(*addr));
        }
        match src {
            Loc::Flat(v) => f.ins(I::LocalGet(v[0].0)),
            Loc::Mem { mem, addr, offset } => {
                f.ins(I::LocalGet(*addr));
                f.ins(I::I32Load(memarg(*mem, *offset, 2)));
            }
        }
        f.ins(I::Call(func));
        match dst {
            Loc::Flat(v) => f.ins(I::LocalSet(v[0].0)),
            Loc::Mem { mem, offset, .. } => f.ins(I::I32Store(memarg(*mem, *offset, 2))),
        }
    }

    // ---- Flags and checks ----

    /// `flags &= !MAY_LEAVE` (or `|=` when `allow`).
    pub fn set_may_leave(&self, f: &mut FuncBuilder, flags: u32, allow: bool) {
        f.ins(I::GlobalGet(flags));
        if allow {
            f.ins(I::I32Const(FLAG_MAY_LEAVE));
            f.ins(I::I32Or);
        } else {
            f.ins(I::I32Const(!FLAG_MAY_LEAVE));
            f.ins(I::I32And);
        }
        f.ins(I::GlobalSet(flags));
    }

    /// Traps with `cannot leave component instance` unless the flags allow leaving.
    pub fn check_may_leave(&mut self, f: &mut FuncBuilder, flags: u32) {
        f.ins(I::GlobalGet(flags));
        f.ins(I::I32Const(FLAG_MAY_LEAVE));
        f.ins(I::I32And);
        f.ins(I::I32Eqz);
        self.trap_if(f, Trap::CannotLeave);
    }

    /// Pushes the size of memory `mem` in bytes, as an `i64`.
    fn memory_bytes(&self, f: &mut FuncBuilder, mem: u32) {
        f.ins(I::MemorySize(mem));
        f.ins(I::I64ExtendI32U);
        f.ins(I::I64Const(16));
        f.ins(I::I64Shl);
    }

    /// Traps with `trap` unless `ptr` is a multiple of `align`.
    pub fn check_align(&mut self, f: &mut FuncBuilder, ptr: u32, align: u32, trap: Trap) {
        if align > 1 {
            f.ins(I::LocalGet(ptr));
            f.ins(I::I32Const(align as i32 - 1));
            f.ins(I::I32And);
            self.trap_if(f, trap);
        }
    }

    /// Traps unless `ptr` is a well-aligned pointer to a tuple of `size` bytes in memory
    /// `mem` (`unaligned pointer`, out-of-bounds memory access).
    pub fn check_tuple_pointer(
        &mut self,
        f: &mut FuncBuilder,
        mem: u32,
        ptr: u32,
        align: u32,
        size: u32,
    ) {
        self.check_align(f, ptr, align, Trap::UnalignedPointer);
        self.check_bounds(
            f,
            mem,
            ptr,
            Len::Const(size.into()),
            Trap::MemoryOutOfBounds,
        );
    }

    /// Traps with `trap` unless `ptr..ptr + len` lies within memory `mem`; `len` is an
    /// `i64` local or a constant.
    pub fn check_bounds(&mut self, f: &mut FuncBuilder, mem: u32, ptr: u32, len: Len, trap: Trap) {
        f.ins(I::LocalGet(ptr));
        f.ins(I::I64ExtendI32U);
        match len {
            Len::Const(n) => f.ins(I::I64Const(n as i64)),
            Len::I64(l) => f.ins(I::LocalGet(l)),
            Len::I32(l) => {
                f.ins(I::LocalGet(l));
                f.ins(I::I64ExtendI32U);
            }
        }
        f.ins(I::I64Add);
        self.memory_bytes(f, mem);
        f.ins(I::I64GtU);
        self.trap_if(f, trap);
    }

    /// Calls `realloc(old_ptr, old_size, align, new_size)` of `side` and returns the local
    /// holding the result (not yet checked). The arguments mirror `realloc`'s own.
    #[allow(clippy::too_many_arguments)]
    pub fn realloc(
        &mut self,
        f: &mut FuncBuilder,
        side: &Side,
        what: &str,
        old_ptr: Val,
        old_size: Val,
        align: u32,
        new_size: Val,
    ) -> Result<u32> {
        let realloc = side.realloc(what)?;
        for v in [old_ptr, old_size, Val::Const(align as i32), new_size] {
            match v {
                Val::Const(c) => f.ins(I::I32Const(c)),
                Val::Local(l) => f.ins(I::LocalGet(l)),
            }
        }
        self.call_guest(f, realloc, &[V::I32; 4], &[V::I32]);
        let ptr = f.local(V::I32);
        f.ins(I::LocalSet(ptr));
        Ok(ptr)
    }

    // ---- Value translation ----

    /// Moves a value of type `ty` from `src` (on the `from` side) to `dst` (on the `to`
    /// side), with every check and conversion of lifting and lowering.
    pub fn translate(
        &mut self,
        f: &mut FuncBuilder,
        ty: TypeId,
        src: &Loc,
        from: &Side,
        dst: &Loc,
        to: &Side,
    ) -> Result<()> {
        use InterfaceType as T;
        let types = self.types;
        match types.get(ty) {
            T::Bool
            | T::S8
            | T::U8
            | T::S16
            | T::U16
            | T::S32
            | T::U32
            | T::S64
            | T::U64
            | T::F32
            | T::F64
            | T::Char => self.scalar(f, ty, src, dst),
            T::Flags(labels) => self.flags(f, labels.len(), src, dst),
            T::String => self.pointer_pair(f, src, dst, |c, f, p, l| {
                let helper = c.string_helper(from, to)?;
                f.ins(I::LocalGet(p));
                f.ins(I::LocalGet(l));
                f.call_defined(helper);
                Ok(())
            }),
            T::List(elem) => {
                let elem = *elem;
                self.pointer_pair(f, src, dst, |c, f, p, l| {
                    let helper = c.list_helper(elem, from, to)?;
                    f.ins(I::LocalGet(p));
                    f.ins(I::LocalGet(l));
                    f.call_defined(helper);
                    Ok(())
                })
            }
            T::Record(_)
            | T::Tuple(_)
            | T::Variant(_)
            | T::Enum(_)
            | T::Option(_)
            | T::Result { .. }
                if matches!((src, dst), (Loc::Mem { .. }, Loc::Mem { .. })) =>
            {
                // Compound types in memory go through a shared helper.
                let helper = self.translate_helper(ty, from, to)?;
                let (
                    Loc::Mem {
                        addr: sa,
                        offset: so,
                        ..
                    },
                    Loc::Mem {
                        addr: da,
                        offset: doff,
                        ..
                    },
                ) = (src, dst)
                else {
                    unreachable!()
                };
                push_address(f, *sa, *so);
                push_address(f, *da, *doff);
                f.call_defined(helper);
                Ok(())
            }
            T::Record(fields) => {
                let fields: Vec<TypeId> = fields.iter().map(|(_, t)| *t).collect();
                self.fields(f, &fields, src, from, dst, to)
            }
            T::Tuple(fields) => {
                let fields = fields.to_vec();
                self.fields(f, &fields, src, from, dst, to)
            }
            T::Variant(_) | T::Enum(_) | T::Option(_) | T::Result { .. } => {
                self.variant(f, ty, src, from, dst, to)
            }
            T::Own(r) | T::Borrow(r) => {
                let (resource, from, to) = (*r, from.instance, to.instance);
                let intrinsic = if matches!(types.get(ty), T::Own(_)) {
                    Intrinsic::TransferOwn { resource, from, to }
                } else {
                    Intrinsic::TransferBorrow { resource, from, to }
                };
                self.handle(f, intrinsic, src, dst);
                Ok(())
            }
        }
    }

    /// Moves the fields of a record or tuple (or a parameter list).
    pub fn fields(
        &mut self,
        f: &mut FuncBuilder,
        fields: &[TypeId],
        src: &Loc,
        from: &Side,
        dst: &Loc,
        to: &Side,
    ) -> Result<()> {
        let offsets = self.types.field_offsets(fields.iter().copied());
        let mut flat = 0;
        for (t, off) in fields.iter().zip(offsets) {
            let n = self.types.layout(*t).flat.len();
            let s = src.offset_by(flat, n, off);
            let d = dst.offset_by(flat, n, off);
            self.translate(f, *t, &s, from, &d, to)?;
            flat += n;
        }
        Ok(())
    }

    fn scalar(&mut self, f: &mut FuncBuilder, ty: TypeId, src: &Loc, dst: &Loc) -> Result<()> {
        use InterfaceType as T;
        let t = self.types.get(ty).clone();
        if let Loc::Mem { addr, .. } = dst {
            f.ins(I::LocalGet(*addr));
        }
        match src {
            Loc::Flat(v) => {
                f.ins(I::LocalGet(v[0].0));
                // Lifting from core values: narrow integers ignore their high bits.
                match t {
                    T::U8 => {
                        f.ins(I::I32Const(0xff));
                        f.ins(I::I32And);
                    }
                    T::S8 => f.ins(I::I32Extend8S),
                    T::U16 => {
                        f.ins(I::I32Const(0xffff));
                        f.ins(I::I32And);
                    }
                    T::S16 => f.ins(I::I32Extend16S),
                    _ => {}
                }
            }
            Loc::Mem { mem, addr, offset } => {
                f.ins(I::LocalGet(*addr));
                let (m, o) = (*mem, *offset);
                f.ins(match t {
                    T::Bool | T::U8 => I::I32Load8U(memarg(m, o, 0)),
                    T::S8 => I::I32Load8S(memarg(m, o, 0)),
                    T::U16 => I::I32Load16U(memarg(m, o, 1)),
                    T::S16 => I::I32Load16S(memarg(m, o, 1)),
                    T::U32 | T::S32 | T::Char => I::I32Load(memarg(m, o, 2)),
                    T::U64 | T::S64 => I::I64Load(memarg(m, o, 3)),
                    T::F32 => I::F32Load(memarg(m, o, 2)),
                    T::F64 => I::F64Load(memarg(m, o, 3)),
                    _ => unreachable!(),
                });
            }
        }
        match t {
            // Any non-zero bit pattern is true; lowered as 1.
            T::Bool => {
                f.ins(I::I32Const(0));
                f.ins(I::I32Ne);
            }
            T::Char => {
                let c = f.local(V::I32);
                f.ins(I::LocalTee(c));
                f.ins(I::I32Const(0x11_0000));
                f.ins(I::I32GeU);
                self.trap_if(f, Trap::InvalidChar);
                f.ins(I::LocalGet(c));
                f.ins(I::I32Const(0xd800));
                f.ins(I::I32Sub);
                f.ins(I::I32Const(0x800));
                f.ins(I::I32LtU);
                self.trap_if(f, Trap::InvalidChar);
                f.ins(I::LocalGet(c));
            }
            _ => {}
        }
        match dst {
            Loc::Flat(v) => f.ins(I::LocalSet(v[0].0)),
            Loc::Mem { mem, offset, .. } => {
                let (m, o) = (*mem, *offset);
                f.ins(match t {
                    T::Bool | T::U8 | T::S8 => I::I32Store8(memarg(m, o, 0)),
                    T::U16 | T::S16 => I::I32Store16(memarg(m, o, 1)),
                    T::U32 | T::S32 | T::Char => I::I32Store(memarg(m, o, 2)),
                    T::U64 | T::S64 => I::I64Store(memarg(m, o, 3)),
                    T::F32 => I::F32Store(memarg(m, o, 2)),
                    T::F64 => I::F64Store(memarg(m, o, 3)),
                    _ => unreachable!(),
                });
            }
        }
        Ok(())
    }

    /// Flags: bits beyond the labels are ignored (masked off).
    fn flags(&mut self, f: &mut FuncBuilder, n: usize, src: &Loc, dst: &Loc) -> Result<()> {
        let mask = if n >= 32 {
            -1i32
        } else {
            ((1u32 << n) - 1) as i32
        };
        let size = flags_size(n);
        if let Loc::Mem { addr, .. } = dst {
            f.ins(I::LocalGet(*addr));
        }
        match src {
            Loc::Flat(v) => f.ins(I::LocalGet(v[0].0)),
            Loc::Mem { mem, addr, offset } => {
                f.ins(I::LocalGet(*addr));
                f.ins(match size {
                    1 => I::I32Load8U(memarg(*mem, *offset, 0)),
                    2 => I::I32Load16U(memarg(*mem, *offset, 1)),
                    _ => I::I32Load(memarg(*mem, *offset, 2)),
                });
            }
        }
        f.ins(I::I32Const(mask));
        f.ins(I::I32And);
        match dst {
            Loc::Flat(v) => f.ins(I::LocalSet(v[0].0)),
            Loc::Mem { mem, offset, .. } => f.ins(match size {
                1 => I::I32Store8(memarg(*mem, *offset, 0)),
                2 => I::I32Store16(memarg(*mem, *offset, 1)),
                _ => I::I32Store(memarg(*mem, *offset, 2)),
            }),
        }
        Ok(())
    }

    /// Strings and lists: reads `(ptr, len)`, runs `convert` (which leaves the new
    /// `(ptr, len)` on the stack) and writes the result.
    fn pointer_pair(
        &mut self,
        f: &mut FuncBuilder,
        src: &Loc,
        dst: &Loc,
        convert: impl FnOnce(&mut Self, &mut FuncBuilder, u32, u32) -> Result<()>,
    ) -> Result<()> {
        let (ptr, len) = match src {
            Loc::Flat(v) => (v[0].0, v[1].0),
            Loc::Mem { mem, addr, offset } => {
                let (p, l) = (f.local(V::I32), f.local(V::I32));
                f.ins(I::LocalGet(*addr));
                f.ins(I::I32Load(memarg(*mem, *offset, 2)));
                f.ins(I::LocalSet(p));
                f.ins(I::LocalGet(*addr));
                f.ins(I::I32Load(memarg(*mem, offset + 4, 2)));
                f.ins(I::LocalSet(l));
                (p, l)
            }
        };
        convert(self, f, ptr, len)?;
        match dst {
            Loc::Flat(v) => {
                f.ins(I::LocalSet(v[1].0));
                f.ins(I::LocalSet(v[0].0));
            }
            Loc::Mem { mem, addr, offset } => {
                let (p, l) = (f.local(V::I32), f.local(V::I32));
                f.ins(I::LocalSet(l));
                f.ins(I::LocalSet(p));
                f.ins(I::LocalGet(*addr));
                f.ins(I::LocalGet(p));
                f.ins(I::I32Store(memarg(*mem, *offset, 2)));
                f.ins(I::LocalGet(*addr));
                f.ins(I::LocalGet(l));
                f.ins(I::I32Store(memarg(*mem, offset + 4, 2)));
            }
        }
        Ok(())
    }

    /// Variants, enums, options and results.
    fn variant(
        &mut self,
        f: &mut FuncBuilder,
        ty: TypeId,
        src: &Loc,
        from: &Side,
        dst: &Loc,
        to: &Side,
    ) -> Result<()> {
        let types = self.types;
        let cases = types.cases(ty).unwrap();
        let n = cases.len() as u32;
        let disc_size = discriminant_size(cases.len());
        let payload_offset = types.payload_offset(ty);
        let flat = types.layout(ty).flat.clone();

        // The discriminant, checked.
        let d = f.local(V::I32);
        match src {
            Loc::Flat(v) => f.ins(I::LocalGet(v[0].0)),
            Loc::Mem { mem, addr, offset } => {
                f.ins(I::LocalGet(*addr));
                f.ins(match disc_size {
                    1 => I::I32Load8U(memarg(*mem, *offset, 0)),
                    2 => I::I32Load16U(memarg(*mem, *offset, 1)),
                    _ => I::I32Load(memarg(*mem, *offset, 2)),
                });
            }
        }
        f.ins(I::LocalTee(d));
        f.ins(I::I32Const(n as i32));
        f.ins(I::I32GeU);
        self.trap_if(f, Trap::InvalidDiscriminant);
        match dst {
            Loc::Flat(v) => {
                f.ins(I::LocalGet(d));
                f.ins(I::LocalSet(v[0].0));
                // Slots unused by the actual case are zero.
                for (l, t) in &v[1..] {
                    f.ins(match t {
                        V::I32 => I::I32Const(0),
                        V::I64 => I::I64Const(0),
                        V::F32 => I::F32Const(0.0f32.into()),
                        _ => I::F64Const(0.0f64.into()),
                    });
                    f.ins(I::LocalSet(*l));
                }
            }
            Loc::Mem { mem, addr, offset } => {
                f.ins(I::LocalGet(*addr));
                f.ins(I::LocalGet(d));
                f.ins(match disc_size {
                    1 => I::I32Store8(memarg(*mem, *offset, 0)),
                    2 => I::I32Store16(memarg(*mem, *offset, 1)),
                    _ => I::I32Store(memarg(*mem, *offset, 2)),
                });
            }
        }
        if cases.iter().all(|c| c.is_none()) {
            return Ok(());
        }

        // Dispatch on the case: block $done, then one block per case.
        f.ins(I::Block(BlockType::Empty));
        for _ in 0..n {
            f.ins(I::Block(BlockType::Empty));
        }
        f.ins(I::LocalGet(d));
        let targets: Vec<u32> = (0..n).collect();
        f.ins(I::BrTable(targets.into(), n - 1));
        for (k, case) in cases.iter().enumerate() {
            f.ins(I::End);
            if let Some(t) = case {
                let case_flat: Vec<V> = types
                    .layout(*t)
                    .flat
                    .iter()
                    .map(|f| flat_valtype(*f))
                    .collect();
                let payload_src = match src {
                    Loc::Flat(v) => Loc::Flat(self.unjoin(f, &v[1..], &case_flat)),
                    Loc::Mem { .. } => src.offset_by(0, 0, payload_offset),
                };
                match dst {
                    Loc::Flat(v) => {
                        let temps: Vec<(u32, V)> =
                            case_flat.iter().map(|t| (f.local(*t), *t)).collect();
                        self.translate(f, *t, &payload_src, from, &Loc::Flat(temps.clone()), to)?;
                        self.join(f, &temps, &v[1..]);
                    }
                    Loc::Mem { .. } => {
                        let d = dst.offset_by(0, 0, payload_offset);
                        self.translate(f, *t, &payload_src, from, &d, to)?;
                    }
                }
            }
            let depth = n - 1 - k as u32;
            if depth > 0 {
                f.ins(I::Br(depth));
            }
        }
        f.ins(I::End);
        let _ = flat;
        Ok(())
    }

    /// Reads a case's own flat values out of joined slots into fresh locals.
    fn unjoin(&mut self, f: &mut FuncBuilder, slots: &[(u32, V)], want: &[V]) -> Vec<(u32, V)> {
        want.iter()
            .zip(slots)
            .map(|(want, (slot, have))| {
                f.ins(I::LocalGet(*slot));
                match (have, want) {
                    (V::I64, V::I32) => f.ins(I::I32WrapI64),
                    (V::I32, V::F32) => f.ins(I::F32ReinterpretI32),
                    (V::I64, V::F32) => {
                        f.ins(I::I32WrapI64);
                        f.ins(I::F32ReinterpretI32);
                    }
                    (V::I64, V::F64) => f.ins(I::F64ReinterpretI64),
                    _ => {}
                }
                let l = f.local(*want);
                f.ins(I::LocalSet(l));
                (l, *want)
            })
            .collect()
    }

    /// Writes a case's own flat values into joined slots.
    fn join(&mut self, f: &mut FuncBuilder, values: &[(u32, V)], slots: &[(u32, V)]) {
        for ((value, have), (slot, want)) in values.iter().zip(slots) {
            f.ins(I::LocalGet(*value));
            match (have, want) {
                (V::F32, V::I32) => f.ins(I::I32ReinterpretF32),
                (V::I32, V::I64) => f.ins(I::I64ExtendI32U),
                (V::F32, V::I64) => {
                    f.ins(I::I32ReinterpretF32);
                    f.ins(I::I64ExtendI32U);
                }
                (V::F64, V::I64) => f.ins(I::I64ReinterpretF64),
                _ => {}
            }
            f.ins(I::LocalSet(*slot));
        }
    }

    // ---- Helpers ----

    /// `(src_addr, dst_addr)`: moves a compound value between memories.
    fn translate_helper(&mut self, ty: TypeId, from: &Side, to: &Side) -> Result<u32> {
        let key = Helper::Translate(ty, *from, *to);
        if let Some(h) = self.helpers.get(&key) {
            return Ok(*h);
        }
        let index = self.module.reserve_func();
        self.helpers.insert(key, index);
        let mut f = FuncBuilder::new(vec![V::I32, V::I32], vec![]);
        let src = Loc::Mem {
            mem: from.memory("a value in memory")?,
            addr: 0,
            offset: 0,
        };
        let dst = Loc::Mem {
            mem: to.memory("a value in memory")?,
            addr: 1,
            offset: 0,
        };
        // Not through `translate` (which would call this helper again).
        use InterfaceType as T;
        match self.types.get(ty).clone() {
            T::Record(fields) => {
                let fields: Vec<TypeId> = fields.iter().map(|(_, t)| *t).collect();
                self.fields(&mut f, &fields, &src, from, &dst, to)?;
            }
            T::Tuple(fields) => self.fields(&mut f, &fields, &src, from, &dst, to)?,
            _ => self.variant(&mut f, ty, &src, from, &dst, to)?,
        }
        self.module.define_func(index, f);
        Ok(index)
    }

    /// `(src_ptr, len) -> (dst_ptr, len)`: moves a list.
    fn list_helper(&mut self, elem: TypeId, from: &Side, to: &Side) -> Result<u32> {
        let key = Helper::List(elem, *from, *to);
        if let Some(h) = self.helpers.get(&key) {
            return Ok(*h);
        }
        let index = self.module.reserve_func();
        self.helpers.insert(key, index);
        let mut f = FuncBuilder::new(vec![V::I32, V::I32], vec![V::I32, V::I32]);
        let (src_ptr, len) = (0, 1);
        let layout = self.types.layout(elem).clone();
        let (size, align) = (layout.size, layout.align);
        let src_mem = from.memory("a list")?;
        let dst_mem = to.memory("a list")?;

        // The source range, computed without overflow.
        self.check_align(&mut f, src_ptr, align, Trap::UnalignedPointer);
        let bytes = f.local(V::I64);
        f.ins(I::LocalGet(len));
        f.ins(I::I64ExtendI32U);
        f.ins(I::I64Const(size as i64));
        f.ins(I::I64Mul);
        f.ins(I::LocalSet(bytes));
        self.check_bounds(
            &mut f,
            src_mem,
            src_ptr,
            Len::I64(bytes),
            Trap::ListOutOfBounds,
        );
        // It fits in the source memory, so it fits in 32 bits.
        let bytes32 = f.local(V::I32);
        f.ins(I::LocalGet(bytes));
        f.ins(I::I32WrapI64);
        f.ins(I::LocalSet(bytes32));

        // realloc is called even for empty lists.
        let dst_ptr = self.realloc(
            &mut f,
            to,
            "a list",
            Val::Const(0),
            Val::Const(0),
            align,
            Val::Local(bytes32),
        )?;
        self.check_align(&mut f, dst_ptr, align, Trap::UnalignedPointer);
        self.check_bounds(
            &mut f,
            dst_mem,
            dst_ptr,
            Len::I32(bytes32),
            Trap::ListOutOfBounds,
        );

        if self.is_bit_copyable(elem) {
            f.ins(I::LocalGet(dst_ptr));
            f.ins(I::LocalGet(src_ptr));
            f.ins(I::LocalGet(bytes32));
            f.ins(I::MemoryCopy { src_mem, dst_mem });
        } else {
            // for (i = 0; i < len; i++) translate(src + i * size, dst + i * size)
            let (s, d, i) = (f.local(V::I32), f.local(V::I32), f.local(V::I32));
            f.ins(I::LocalGet(src_ptr));
            f.ins(I::LocalSet(s));
            f.ins(I::LocalGet(dst_ptr));
            f.ins(I::LocalSet(d));
            f.ins(I::Block(BlockType::Empty));
            f.ins(I::LocalGet(len));
            f.ins(I::I32Eqz);
            f.ins(I::BrIf(0));
            f.ins(I::Loop(BlockType::Empty));
            let src_loc = Loc::Mem {
                mem: src_mem,
                addr: s,
                offset: 0,
            };
            let dst_loc = Loc::Mem {
                mem: dst_mem,
                addr: d,
                offset: 0,
            };
            self.translate(&mut f, elem, &src_loc, from, &dst_loc, to)?;
            for p in [s, d] {
                f.ins(I::LocalGet(p));
                f.ins(I::I32Const(size as i32));
                f.ins(I::I32Add);
                f.ins(I::LocalSet(p));
            }
            f.ins(I::LocalGet(i));
            f.ins(I::I32Const(1));
            f.ins(I::I32Add);
            f.ins(I::LocalTee(i));
            f.ins(I::LocalGet(len));
            f.ins(I::I32LtU);
            f.ins(I::BrIf(0));
            f.ins(I::End);
            f.ins(I::End);
        }
        f.ins(I::LocalGet(dst_ptr));
        f.ins(I::LocalGet(len));
        self.module.define_func(index, f);
        Ok(index)
    }

    /// Whether values of `ty` are moved by copying their bytes: numbers, and records and
    /// tuples of numbers.
    pub fn is_bit_copyable(&self, ty: TypeId) -> bool {
        use InterfaceType as T;
        match self.types.get(ty) {
            T::U8
            | T::S8
            | T::U16
            | T::S16
            | T::U32
            | T::S32
            | T::U64
            | T::S64
            | T::F32
            | T::F64 => true,
            T::Record(fields) => fields.iter().all(|(_, t)| self.is_bit_copyable(*t)),
            T::Tuple(ts) => ts.iter().all(|t| self.is_bit_copyable(*t)),
            _ => false,
        }
    }

    /// `(src_ptr, tagged_len) -> (dst_ptr, tagged_len)`: moves a string (see `strings`).
    fn string_helper(&mut self, from: &Side, to: &Side) -> Result<u32> {
        let key = Helper::String(*from, *to);
        if let Some(h) = self.helpers.get(&key) {
            return Ok(*h);
        }
        let index = self.module.reserve_func();
        self.helpers.insert(key, index);
        let f = self.string_body(from, to)?;
        self.module.define_func(index, f);
        Ok(index)
    }

    pub(crate) fn transcode_call(
        &mut self,
        f: &mut FuncBuilder,
        op: Transcode,
        from: u32,
        to: u32,
    ) {
        let func = self.transcoder(op, from, to);
        f.ins(I::Call(func));
    }
}

/// A length operand of a bounds check.
#[derive(Copy, Clone)]
pub(crate) enum Len {
    Const(u64),
    I32(u32),
    I64(u32),
}

fn push_address(f: &mut FuncBuilder, addr: u32, offset: u32) {
    f.ins(I::LocalGet(addr));
    if offset != 0 {
        f.ins(I::I32Const(offset as i32));
        f.ins(I::I32Add);
    }
}

pub(crate) fn core_valtype(t: crate::ValType) -> V {
    match t {
        crate::ValType::I32 => V::I32,
        crate::ValType::I64 => V::I64,
        crate::ValType::F32 => V::F32,
        crate::ValType::F64 => V::F64,
        _ => unreachable!("intrinsics take numbers"),
    }
}
