//! Loads, stores (scalar and `v128`) and the `memory.*` instructions.

use super::{little_endian, Translator};
use anyhow::{bail, Result};
use cranelift_codegen::ir::{self, types, InstBuilder};
use fact_environ::builtins::Builtin;
use fact_environ::WASM_PAGE_SIZE;
use wasmparser::{MemArg, MemArgTarget, Operator};

/// How a scalar load widens what it reads.
#[derive(Copy, Clone)]
enum LoadWidth {
    /// Reads a whole value of the result type.
    None,
    Signed8,
    Unsigned8,
    Signed16,
    Unsigned16,
    Signed32,
    Unsigned32,
}

impl LoadWidth {
    fn bytes(self, ty: ir::Type) -> u32 {
        match self {
            LoadWidth::None => ty.bytes(),
            LoadWidth::Signed8 | LoadWidth::Unsigned8 => 1,
            LoadWidth::Signed16 | LoadWidth::Unsigned16 => 2,
            LoadWidth::Signed32 | LoadWidth::Unsigned32 => 4,
        }
    }
}

/// A `v128` load that reads less than 16 bytes.
#[derive(Copy, Clone)]
enum VectorLoad {
    /// Eight, four or two narrow lanes, each widened (`v128.load8x8_s` …).
    Extend(LaneExtend),
    /// One scalar copied into every lane.
    Splat(ir::Type),
    /// One scalar into lane 0, the rest zero.
    Zero(ir::Type),
}

/// The lane-widening `v128` loads.
#[derive(Copy, Clone)]
enum LaneExtend {
    S8x8,
    U8x8,
    S16x4,
    U16x4,
    S32x2,
    U32x2,
}

impl Translator<'_, '_> {
    /// Translates memory instructions; false if `op` is not one.
    pub(crate) fn translate_memory(&mut self, op: &Operator<'_>) -> Result<bool> {
        use LoadWidth as W;
        use Operator as O;
        match *op {
            O::I32Load { memarg } => self.load(&memarg, types::I32, W::None)?,
            O::I64Load { memarg } => self.load(&memarg, types::I64, W::None)?,
            O::F32Load { memarg } => self.load(&memarg, types::F32, W::None)?,
            O::F64Load { memarg } => self.load(&memarg, types::F64, W::None)?,
            O::V128Load { memarg } => self.load(&memarg, types::I8X16, W::None)?,
            O::I32Load8S { memarg } => self.load(&memarg, types::I32, W::Signed8)?,
            O::I32Load8U { memarg } => self.load(&memarg, types::I32, W::Unsigned8)?,
            O::I32Load16S { memarg } => self.load(&memarg, types::I32, W::Signed16)?,
            O::I32Load16U { memarg } => self.load(&memarg, types::I32, W::Unsigned16)?,
            O::I64Load8S { memarg } => self.load(&memarg, types::I64, W::Signed8)?,
            O::I64Load8U { memarg } => self.load(&memarg, types::I64, W::Unsigned8)?,
            O::I64Load16S { memarg } => self.load(&memarg, types::I64, W::Signed16)?,
            O::I64Load16U { memarg } => self.load(&memarg, types::I64, W::Unsigned16)?,
            O::I64Load32S { memarg } => self.load(&memarg, types::I64, W::Signed32)?,
            O::I64Load32U { memarg } => self.load(&memarg, types::I64, W::Unsigned32)?,

            O::I32Store { memarg }
            | O::I64Store { memarg }
            | O::F32Store { memarg }
            | O::F64Store { memarg }
            | O::V128Store { memarg } => self.store(&memarg, None)?,
            O::I32Store8 { memarg } | O::I64Store8 { memarg } => {
                self.store(&memarg, Some(types::I8))?
            }
            O::I32Store16 { memarg } | O::I64Store16 { memarg } => {
                self.store(&memarg, Some(types::I16))?
            }
            O::I64Store32 { memarg } => self.store(&memarg, Some(types::I32))?,

            O::V128Load8x8S { memarg } => {
                self.vector_load(&memarg, VectorLoad::Extend(LaneExtend::S8x8))?
            }
            O::V128Load8x8U { memarg } => {
                self.vector_load(&memarg, VectorLoad::Extend(LaneExtend::U8x8))?
            }
            O::V128Load16x4S { memarg } => {
                self.vector_load(&memarg, VectorLoad::Extend(LaneExtend::S16x4))?
            }
            O::V128Load16x4U { memarg } => {
                self.vector_load(&memarg, VectorLoad::Extend(LaneExtend::U16x4))?
            }
            O::V128Load32x2S { memarg } => {
                self.vector_load(&memarg, VectorLoad::Extend(LaneExtend::S32x2))?
            }
            O::V128Load32x2U { memarg } => {
                self.vector_load(&memarg, VectorLoad::Extend(LaneExtend::U32x2))?
            }
            O::V128Load8Splat { memarg } => {
                self.vector_load(&memarg, VectorLoad::Splat(types::I8))?
            }
            O::V128Load16Splat { memarg } => {
                self.vector_load(&memarg, VectorLoad::Splat(types::I16))?
            }
            O::V128Load32Splat { memarg } => {
                self.vector_load(&memarg, VectorLoad::Splat(types::I32))?
            }
            O::V128Load64Splat { memarg } => {
                self.vector_load(&memarg, VectorLoad::Splat(types::I64))?
            }
            O::V128Load32Zero { memarg } => {
                self.vector_load(&memarg, VectorLoad::Zero(types::I32))?
            }
            O::V128Load64Zero { memarg } => {
                self.vector_load(&memarg, VectorLoad::Zero(types::I64))?
            }
            O::V128Load8Lane { memarg, lane } => self.load_lane(&memarg, types::I8, lane)?,
            O::V128Load16Lane { memarg, lane } => self.load_lane(&memarg, types::I16, lane)?,
            O::V128Load32Lane { memarg, lane } => self.load_lane(&memarg, types::I32, lane)?,
            O::V128Load64Lane { memarg, lane } => self.load_lane(&memarg, types::I64, lane)?,
            O::V128Store8Lane { memarg, lane } => self.store_lane(&memarg, types::I8, lane)?,
            O::V128Store16Lane { memarg, lane } => self.store_lane(&memarg, types::I16, lane)?,
            O::V128Store32Lane { memarg, lane } => self.store_lane(&memarg, types::I32, lane)?,
            O::V128Store64Lane { memarg, lane } => self.store_lane(&memarg, types::I64, lane)?,

            O::MemorySize { mem } => {
                let length = self.memory_length(mem);
                let pages = self
                    .b
                    .ins()
                    .ushr_imm_u(length, i64::from(WASM_PAGE_SIZE.trailing_zeros()));
                let pages = self.narrow_from_i64(pages, self.heap(mem).index_type);
                self.push(pages);
            }
            O::MemoryGrow { mem } => {
                let delta = self.pop();
                let delta = self.widen_to_i64(delta);
                let index_type = self.heap(mem).index_type;
                let mem = self.i32_const(mem);
                let old = self
                    .env
                    .call_builtin(&mut self.b, self.vmctx, Builtin::memory_grow, &[mem, delta])
                    .expect("memory.grow returns a size");
                self.trap_if_grow_trapped(old);
                let old = self.narrow_from_i64(old, index_type);
                self.push(old);
            }
            // The builtins take every address and length as `i64`.
            O::MemoryCopy { dst_mem, src_mem } => {
                let (dst, src, len) = self.pop3();
                let (dst, src, len) = (
                    self.widen_to_i64(dst),
                    self.widen_to_i64(src),
                    self.widen_to_i64(len),
                );
                let dst_mem = self.i32_const(dst_mem);
                let src_mem = self.i32_const(src_mem);
                self.env.call_fallible_builtin(
                    &mut self.b,
                    self.vmctx,
                    Builtin::memory_copy,
                    &[dst_mem, dst, src_mem, src, len],
                );
            }
            O::MemoryFill { mem } => {
                let (dst, val, len) = self.pop3();
                let (dst, len) = (self.widen_to_i64(dst), self.widen_to_i64(len));
                let mem = self.i32_const(mem);
                self.env.call_fallible_builtin(
                    &mut self.b,
                    self.vmctx,
                    Builtin::memory_fill,
                    &[mem, dst, val, len],
                );
            }
            O::MemoryInit { data_index, mem } => {
                let (dst, src, len) = self.pop3();
                let dst = self.widen_to_i64(dst);
                let mem = self.i32_const(mem);
                let seg = self.i32_const(data_index);
                self.env.call_fallible_builtin(
                    &mut self.b,
                    self.vmctx,
                    Builtin::memory_init,
                    &[mem, seg, dst, src, len],
                );
            }
            O::DataDrop { data_index } => {
                let seg = self.i32_const(data_index);
                self.env
                    .call_builtin(&mut self.b, self.vmctx, Builtin::data_drop, &[seg]);
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// The address of the access `memarg` describes, for `size` bytes at the popped index.
    fn access(&mut self, memarg: &MemArg, size: u32) -> Result<(ir::Value, i32)> {
        let MemArgTarget::Memory(memory) = memarg.target else {
            bail!("unsupported proposal: GC (memory instructions on arrays)");
        };
        let index = self.pop();
        let heap = self.heap(memory);
        Ok(self.heap_address(&heap, index, memarg.offset, size))
    }

    fn load(&mut self, memarg: &MemArg, ty: ir::Type, widen: LoadWidth) -> Result<()> {
        let (addr, offset) = self.access(memarg, widen.bytes(ty))?;
        let flags = little_endian();
        let ins = self.b.ins();
        let v = match widen {
            LoadWidth::None => ins.load(ty, flags, addr, offset),
            LoadWidth::Signed8 => ins.sload8(ty, flags, addr, offset),
            LoadWidth::Unsigned8 => ins.uload8(ty, flags, addr, offset),
            LoadWidth::Signed16 => ins.sload16(ty, flags, addr, offset),
            LoadWidth::Unsigned16 => ins.uload16(ty, flags, addr, offset),
            LoadWidth::Signed32 => ins.sload32(flags, addr, offset),
            LoadWidth::Unsigned32 => ins.uload32(flags, addr, offset),
        };
        self.push(v);
        Ok(())
    }

    /// Stores the popped value, or its low `narrow` bits.
    fn store(&mut self, memarg: &MemArg, narrow: Option<ir::Type>) -> Result<()> {
        let value = self.pop();
        let size = narrow
            .unwrap_or_else(|| self.b.func.dfg.value_type(value))
            .bytes();
        let (addr, offset) = self.access(memarg, size)?;
        let flags = little_endian();
        let ins = self.b.ins();
        match narrow.map(|t| t.bits()) {
            None => ins.store(flags, value, addr, offset),
            Some(8) => ins.istore8(flags, value, addr, offset),
            Some(16) => ins.istore16(flags, value, addr, offset),
            Some(_) => ins.istore32(flags, value, addr, offset),
        };
        Ok(())
    }

    fn vector_load(&mut self, memarg: &MemArg, kind: VectorLoad) -> Result<()> {
        let flags = little_endian();
        let v = match kind {
            VectorLoad::Extend(extend) => {
                let (addr, offset) = self.access(memarg, 8)?;
                let ins = self.b.ins();
                match extend {
                    LaneExtend::S8x8 => ins.sload8x8(flags, addr, offset),
                    LaneExtend::U8x8 => ins.uload8x8(flags, addr, offset),
                    LaneExtend::S16x4 => ins.sload16x4(flags, addr, offset),
                    LaneExtend::U16x4 => ins.uload16x4(flags, addr, offset),
                    LaneExtend::S32x2 => ins.sload32x2(flags, addr, offset),
                    LaneExtend::U32x2 => ins.uload32x2(flags, addr, offset),
                }
            }
            VectorLoad::Splat(lane) => {
                let (addr, offset) = self.access(memarg, lane.bytes())?;
                let x = self.b.ins().load(lane, flags, addr, offset);
                let vector = lane.by(128 / lane.bits()).unwrap();
                self.b.ins().splat(vector, x)
            }
            VectorLoad::Zero(lane) => {
                let (addr, offset) = self.access(memarg, lane.bytes())?;
                let x = self.b.ins().load(lane, flags, addr, offset);
                let vector = lane.by(128 / lane.bits()).unwrap();
                self.b.ins().scalar_to_vector(vector, x)
            }
        };
        self.push(v);
        Ok(())
    }

    fn load_lane(&mut self, memarg: &MemArg, lane_ty: ir::Type, lane: u8) -> Result<()> {
        let vector = self.pop();
        let (addr, offset) = self.access(memarg, lane_ty.bytes())?;
        let x = self.b.ins().load(lane_ty, little_endian(), addr, offset);
        let vector_ty = lane_ty.by(128 / lane_ty.bits()).unwrap();
        let vector = self.as_vector(vector, vector_ty);
        let v = self.b.ins().insertlane(vector, x, lane);
        self.push(v);
        Ok(())
    }

    fn store_lane(&mut self, memarg: &MemArg, lane_ty: ir::Type, lane: u8) -> Result<()> {
        let vector = self.pop();
        let vector_ty = lane_ty.by(128 / lane_ty.bits()).unwrap();
        let vector = self.as_vector(vector, vector_ty);
        let x = self.b.ins().extractlane(vector, lane);
        let (addr, offset) = self.access(memarg, lane_ty.bytes())?;
        self.b.ins().store(little_endian(), x, addr, offset);
        Ok(())
    }
}
