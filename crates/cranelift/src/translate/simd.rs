//! The 128-bit SIMD instructions (other than loads and stores, which are in `memory`).
//!
//! Wasm's `v128` is untyped; Cranelift's vectors have lane types. Each operator
//! reinterprets its operands as the lane type it works on ([`Translator::as_vector`], a
//! no-op when the operand already has it) and pushes its result in whatever type it
//! produced; values are made `i8x16` only where they meet at joins and calls.

use super::Translator;
use anyhow::Result;
use cranelift_codegen::ir::{
    self,
    condcodes::{FloatCC, IntCC},
    types::{self, F32X4, F64X2, I16X8, I32X4, I64X2, I8X16},
    InstBuilder,
};
use cranelift_frontend::FunctionBuilder;
use wasmparser::Operator;

type VUnary = fn(&mut FunctionBuilder<'_>, ir::Value) -> ir::Value;
type VBinary = fn(&mut FunctionBuilder<'_>, ir::Value, ir::Value) -> ir::Value;

impl Translator<'_, '_> {
    /// Translates SIMD instructions; false if `op` is not one.
    pub(crate) fn translate_simd(&mut self, op: &Operator<'_>) -> Result<bool> {
        use Operator as O;
        match *op {
            O::V128Const { value } => {
                let v = self.v128_const(value.bytes());
                self.push(v);
            }
            O::I8x16Shuffle { lanes } => {
                let (a, b) = self.pop2();
                let a = self.as_vector(a, I8X16);
                let b = self.as_vector(b, I8X16);
                let mask = self
                    .b
                    .func
                    .dfg
                    .immediates
                    .push(ir::ConstantData::from(&lanes[..]));
                let v = self.b.ins().shuffle(a, b, mask);
                self.push(v);
            }
            O::I8x16Swizzle => self.vbinary(I8X16, |b, x, y| b.ins().swizzle(x, y)),

            O::I8x16Splat => self.splat(I8X16),
            O::I16x8Splat => self.splat(I16X8),
            O::I32x4Splat => self.splat(I32X4),
            O::I64x2Splat => self.splat(I64X2),
            O::F32x4Splat => self.splat(F32X4),
            O::F64x2Splat => self.splat(F64X2),

            O::I8x16ExtractLaneS { lane } => self.extract_lane(I8X16, lane, Some(true)),
            O::I8x16ExtractLaneU { lane } => self.extract_lane(I8X16, lane, Some(false)),
            O::I16x8ExtractLaneS { lane } => self.extract_lane(I16X8, lane, Some(true)),
            O::I16x8ExtractLaneU { lane } => self.extract_lane(I16X8, lane, Some(false)),
            O::I32x4ExtractLane { lane } => self.extract_lane(I32X4, lane, None),
            O::I64x2ExtractLane { lane } => self.extract_lane(I64X2, lane, None),
            O::F32x4ExtractLane { lane } => self.extract_lane(F32X4, lane, None),
            O::F64x2ExtractLane { lane } => self.extract_lane(F64X2, lane, None),
            O::I8x16ReplaceLane { lane } => self.replace_lane(I8X16, lane),
            O::I16x8ReplaceLane { lane } => self.replace_lane(I16X8, lane),
            O::I32x4ReplaceLane { lane } => self.replace_lane(I32X4, lane),
            O::I64x2ReplaceLane { lane } => self.replace_lane(I64X2, lane),
            O::F32x4ReplaceLane { lane } => self.replace_lane(F32X4, lane),
            O::F64x2ReplaceLane { lane } => self.replace_lane(F64X2, lane),

            O::I8x16Eq => self.vicmp(I8X16, IntCC::Equal),
            O::I8x16Ne => self.vicmp(I8X16, IntCC::NotEqual),
            O::I8x16LtS => self.vicmp(I8X16, IntCC::SignedLessThan),
            O::I8x16LtU => self.vicmp(I8X16, IntCC::UnsignedLessThan),
            O::I8x16GtS => self.vicmp(I8X16, IntCC::SignedGreaterThan),
            O::I8x16GtU => self.vicmp(I8X16, IntCC::UnsignedGreaterThan),
            O::I8x16LeS => self.vicmp(I8X16, IntCC::SignedLessThanOrEqual),
            O::I8x16LeU => self.vicmp(I8X16, IntCC::UnsignedLessThanOrEqual),
            O::I8x16GeS => self.vicmp(I8X16, IntCC::SignedGreaterThanOrEqual),
            O::I8x16GeU => self.vicmp(I8X16, IntCC::UnsignedGreaterThanOrEqual),
            O::I16x8Eq => self.vicmp(I16X8, IntCC::Equal),
            O::I16x8Ne => self.vicmp(I16X8, IntCC::NotEqual),
            O::I16x8LtS => self.vicmp(I16X8, IntCC::SignedLessThan),
            O::I16x8LtU => self.vicmp(I16X8, IntCC::UnsignedLessThan),
            O::I16x8GtS => self.vicmp(I16X8, IntCC::SignedGreaterThan),
            O::I16x8GtU => self.vicmp(I16X8, IntCC::UnsignedGreaterThan),
            O::I16x8LeS => self.vicmp(I16X8, IntCC::SignedLessThanOrEqual),
            O::I16x8LeU => self.vicmp(I16X8, IntCC::UnsignedLessThanOrEqual),
            O::I16x8GeS => self.vicmp(I16X8, IntCC::SignedGreaterThanOrEqual),
            O::I16x8GeU => self.vicmp(I16X8, IntCC::UnsignedGreaterThanOrEqual),
            O::I32x4Eq => self.vicmp(I32X4, IntCC::Equal),
            O::I32x4Ne => self.vicmp(I32X4, IntCC::NotEqual),
            O::I32x4LtS => self.vicmp(I32X4, IntCC::SignedLessThan),
            O::I32x4LtU => self.vicmp(I32X4, IntCC::UnsignedLessThan),
            O::I32x4GtS => self.vicmp(I32X4, IntCC::SignedGreaterThan),
            O::I32x4GtU => self.vicmp(I32X4, IntCC::UnsignedGreaterThan),
            O::I32x4LeS => self.vicmp(I32X4, IntCC::SignedLessThanOrEqual),
            O::I32x4LeU => self.vicmp(I32X4, IntCC::UnsignedLessThanOrEqual),
            O::I32x4GeS => self.vicmp(I32X4, IntCC::SignedGreaterThanOrEqual),
            O::I32x4GeU => self.vicmp(I32X4, IntCC::UnsignedGreaterThanOrEqual),
            O::I64x2Eq => self.vicmp(I64X2, IntCC::Equal),
            O::I64x2Ne => self.vicmp(I64X2, IntCC::NotEqual),
            O::I64x2LtS => self.vicmp(I64X2, IntCC::SignedLessThan),
            O::I64x2GtS => self.vicmp(I64X2, IntCC::SignedGreaterThan),
            O::I64x2LeS => self.vicmp(I64X2, IntCC::SignedLessThanOrEqual),
            O::I64x2GeS => self.vicmp(I64X2, IntCC::SignedGreaterThanOrEqual),
            O::F32x4Eq => self.vfcmp(F32X4, FloatCC::Equal),
            O::F32x4Ne => self.vfcmp(F32X4, FloatCC::NotEqual),
            O::F32x4Lt => self.vfcmp(F32X4, FloatCC::LessThan),
            O::F32x4Gt => self.vfcmp(F32X4, FloatCC::GreaterThan),
            O::F32x4Le => self.vfcmp(F32X4, FloatCC::LessThanOrEqual),
            O::F32x4Ge => self.vfcmp(F32X4, FloatCC::GreaterThanOrEqual),
            O::F64x2Eq => self.vfcmp(F64X2, FloatCC::Equal),
            O::F64x2Ne => self.vfcmp(F64X2, FloatCC::NotEqual),
            O::F64x2Lt => self.vfcmp(F64X2, FloatCC::LessThan),
            O::F64x2Gt => self.vfcmp(F64X2, FloatCC::GreaterThan),
            O::F64x2Le => self.vfcmp(F64X2, FloatCC::LessThanOrEqual),
            O::F64x2Ge => self.vfcmp(F64X2, FloatCC::GreaterThanOrEqual),

            O::V128Not => self.vunary(I8X16, |b, x| b.ins().bnot(x)),
            O::V128And => self.vbinary_any(|b, x, y| b.ins().band(x, y)),
            O::V128AndNot => self.vbinary_any(|b, x, y| b.ins().band_not(x, y)),
            O::V128Or => self.vbinary_any(|b, x, y| b.ins().bor(x, y)),
            O::V128Xor => self.vbinary_any(|b, x, y| b.ins().bxor(x, y)),
            O::V128Bitselect => {
                let (x, y, c) = self.pop3();
                let ty = self.b.func.dfg.value_type(x);
                let y = self.as_vector(y, ty);
                let c = self.as_vector(c, ty);
                let v = self.b.ins().bitselect(c, x, y);
                self.push(v);
            }
            O::V128AnyTrue => {
                let x = self.pop();
                let t = self.b.ins().vany_true(x);
                let v = self.b.ins().uextend(types::I32, t);
                self.push(v);
            }
            O::I8x16AllTrue => self.all_true(I8X16),
            O::I16x8AllTrue => self.all_true(I16X8),
            O::I32x4AllTrue => self.all_true(I32X4),
            O::I64x2AllTrue => self.all_true(I64X2),
            O::I8x16Bitmask => self.bitmask(I8X16),
            O::I16x8Bitmask => self.bitmask(I16X8),
            O::I32x4Bitmask => self.bitmask(I32X4),
            O::I64x2Bitmask => self.bitmask(I64X2),

            O::I8x16Abs => self.vunary(I8X16, |b, x| b.ins().iabs(x)),
            O::I16x8Abs => self.vunary(I16X8, |b, x| b.ins().iabs(x)),
            O::I32x4Abs => self.vunary(I32X4, |b, x| b.ins().iabs(x)),
            O::I64x2Abs => self.vunary(I64X2, |b, x| b.ins().iabs(x)),
            O::I8x16Neg => self.vunary(I8X16, |b, x| b.ins().ineg(x)),
            O::I16x8Neg => self.vunary(I16X8, |b, x| b.ins().ineg(x)),
            O::I32x4Neg => self.vunary(I32X4, |b, x| b.ins().ineg(x)),
            O::I64x2Neg => self.vunary(I64X2, |b, x| b.ins().ineg(x)),
            O::I8x16Popcnt => self.vunary(I8X16, |b, x| b.ins().popcnt(x)),

            O::I8x16NarrowI16x8S => self.vbinary(I16X8, |b, x, y| b.ins().snarrow(x, y)),
            O::I8x16NarrowI16x8U => self.vbinary(I16X8, |b, x, y| b.ins().unarrow(x, y)),
            O::I16x8NarrowI32x4S => self.vbinary(I32X4, |b, x, y| b.ins().snarrow(x, y)),
            O::I16x8NarrowI32x4U => self.vbinary(I32X4, |b, x, y| b.ins().unarrow(x, y)),
            O::I16x8ExtendLowI8x16S => self.vunary(I8X16, |b, x| b.ins().swiden_low(x)),
            O::I16x8ExtendHighI8x16S => self.vunary(I8X16, |b, x| b.ins().swiden_high(x)),
            O::I16x8ExtendLowI8x16U => self.vunary(I8X16, |b, x| b.ins().uwiden_low(x)),
            O::I16x8ExtendHighI8x16U => self.vunary(I8X16, |b, x| b.ins().uwiden_high(x)),
            O::I32x4ExtendLowI16x8S => self.vunary(I16X8, |b, x| b.ins().swiden_low(x)),
            O::I32x4ExtendHighI16x8S => self.vunary(I16X8, |b, x| b.ins().swiden_high(x)),
            O::I32x4ExtendLowI16x8U => self.vunary(I16X8, |b, x| b.ins().uwiden_low(x)),
            O::I32x4ExtendHighI16x8U => self.vunary(I16X8, |b, x| b.ins().uwiden_high(x)),
            O::I64x2ExtendLowI32x4S => self.vunary(I32X4, |b, x| b.ins().swiden_low(x)),
            O::I64x2ExtendHighI32x4S => self.vunary(I32X4, |b, x| b.ins().swiden_high(x)),
            O::I64x2ExtendLowI32x4U => self.vunary(I32X4, |b, x| b.ins().uwiden_low(x)),
            O::I64x2ExtendHighI32x4U => self.vunary(I32X4, |b, x| b.ins().uwiden_high(x)),

            O::I8x16Shl => self.vshift(I8X16, |b, x, y| b.ins().ishl(x, y)),
            O::I8x16ShrS => self.vshift(I8X16, |b, x, y| b.ins().sshr(x, y)),
            O::I8x16ShrU => self.vshift(I8X16, |b, x, y| b.ins().ushr(x, y)),
            O::I16x8Shl => self.vshift(I16X8, |b, x, y| b.ins().ishl(x, y)),
            O::I16x8ShrS => self.vshift(I16X8, |b, x, y| b.ins().sshr(x, y)),
            O::I16x8ShrU => self.vshift(I16X8, |b, x, y| b.ins().ushr(x, y)),
            O::I32x4Shl => self.vshift(I32X4, |b, x, y| b.ins().ishl(x, y)),
            O::I32x4ShrS => self.vshift(I32X4, |b, x, y| b.ins().sshr(x, y)),
            O::I32x4ShrU => self.vshift(I32X4, |b, x, y| b.ins().ushr(x, y)),
            O::I64x2Shl => self.vshift(I64X2, |b, x, y| b.ins().ishl(x, y)),
            O::I64x2ShrS => self.vshift(I64X2, |b, x, y| b.ins().sshr(x, y)),
            O::I64x2ShrU => self.vshift(I64X2, |b, x, y| b.ins().ushr(x, y)),

            O::I8x16Add => self.vbinary(I8X16, |b, x, y| b.ins().iadd(x, y)),
            O::I16x8Add => self.vbinary(I16X8, |b, x, y| b.ins().iadd(x, y)),
            O::I32x4Add => self.vbinary(I32X4, |b, x, y| b.ins().iadd(x, y)),
            O::I64x2Add => self.vbinary(I64X2, |b, x, y| b.ins().iadd(x, y)),
            O::I8x16Sub => self.vbinary(I8X16, |b, x, y| b.ins().isub(x, y)),
            O::I16x8Sub => self.vbinary(I16X8, |b, x, y| b.ins().isub(x, y)),
            O::I32x4Sub => self.vbinary(I32X4, |b, x, y| b.ins().isub(x, y)),
            O::I64x2Sub => self.vbinary(I64X2, |b, x, y| b.ins().isub(x, y)),
            O::I16x8Mul => self.vbinary(I16X8, |b, x, y| b.ins().imul(x, y)),
            O::I32x4Mul => self.vbinary(I32X4, |b, x, y| b.ins().imul(x, y)),
            O::I64x2Mul => self.vbinary(I64X2, |b, x, y| b.ins().imul(x, y)),
            O::I8x16AddSatS => self.vbinary(I8X16, |b, x, y| b.ins().sadd_sat(x, y)),
            O::I8x16AddSatU => self.vbinary(I8X16, |b, x, y| b.ins().uadd_sat(x, y)),
            O::I8x16SubSatS => self.vbinary(I8X16, |b, x, y| b.ins().ssub_sat(x, y)),
            O::I8x16SubSatU => self.vbinary(I8X16, |b, x, y| b.ins().usub_sat(x, y)),
            O::I16x8AddSatS => self.vbinary(I16X8, |b, x, y| b.ins().sadd_sat(x, y)),
            O::I16x8AddSatU => self.vbinary(I16X8, |b, x, y| b.ins().uadd_sat(x, y)),
            O::I16x8SubSatS => self.vbinary(I16X8, |b, x, y| b.ins().ssub_sat(x, y)),
            O::I16x8SubSatU => self.vbinary(I16X8, |b, x, y| b.ins().usub_sat(x, y)),
            O::I8x16MinS => self.vbinary(I8X16, |b, x, y| b.ins().smin(x, y)),
            O::I8x16MinU => self.vbinary(I8X16, |b, x, y| b.ins().umin(x, y)),
            O::I8x16MaxS => self.vbinary(I8X16, |b, x, y| b.ins().smax(x, y)),
            O::I8x16MaxU => self.vbinary(I8X16, |b, x, y| b.ins().umax(x, y)),
            O::I16x8MinS => self.vbinary(I16X8, |b, x, y| b.ins().smin(x, y)),
            O::I16x8MinU => self.vbinary(I16X8, |b, x, y| b.ins().umin(x, y)),
            O::I16x8MaxS => self.vbinary(I16X8, |b, x, y| b.ins().smax(x, y)),
            O::I16x8MaxU => self.vbinary(I16X8, |b, x, y| b.ins().umax(x, y)),
            O::I32x4MinS => self.vbinary(I32X4, |b, x, y| b.ins().smin(x, y)),
            O::I32x4MinU => self.vbinary(I32X4, |b, x, y| b.ins().umin(x, y)),
            O::I32x4MaxS => self.vbinary(I32X4, |b, x, y| b.ins().smax(x, y)),
            O::I32x4MaxU => self.vbinary(I32X4, |b, x, y| b.ins().umax(x, y)),
            O::I8x16AvgrU => self.vbinary(I8X16, |b, x, y| b.ins().avg_round(x, y)),
            O::I16x8AvgrU => self.vbinary(I16X8, |b, x, y| b.ins().avg_round(x, y)),
            O::I16x8Q15MulrSatS => self.vbinary(I16X8, |b, x, y| b.ins().sqmul_round_sat(x, y)),

            O::I16x8ExtAddPairwiseI8x16S => self.vunary(I8X16, |b, x| {
                let (lo, hi) = (b.ins().swiden_low(x), b.ins().swiden_high(x));
                b.ins().iadd_pairwise(lo, hi)
            }),
            O::I16x8ExtAddPairwiseI8x16U => self.vunary(I8X16, |b, x| {
                let (lo, hi) = (b.ins().uwiden_low(x), b.ins().uwiden_high(x));
                b.ins().iadd_pairwise(lo, hi)
            }),
            O::I32x4ExtAddPairwiseI16x8S => self.vunary(I16X8, |b, x| {
                let (lo, hi) = (b.ins().swiden_low(x), b.ins().swiden_high(x));
                b.ins().iadd_pairwise(lo, hi)
            }),
            O::I32x4ExtAddPairwiseI16x8U => self.vunary(I16X8, |b, x| {
                let (lo, hi) = (b.ins().uwiden_low(x), b.ins().uwiden_high(x));
                b.ins().iadd_pairwise(lo, hi)
            }),
            O::I32x4DotI16x8S => self.vbinary(I16X8, |b, x, y| {
                let (xl, yl) = (b.ins().swiden_low(x), b.ins().swiden_low(y));
                let low = b.ins().imul(xl, yl);
                let (xh, yh) = (b.ins().swiden_high(x), b.ins().swiden_high(y));
                let high = b.ins().imul(xh, yh);
                b.ins().iadd_pairwise(low, high)
            }),

            O::I16x8ExtMulLowI8x16S => self.extmul(I8X16, HalfWiden::SignedLow),
            O::I16x8ExtMulHighI8x16S => self.extmul(I8X16, HalfWiden::SignedHigh),
            O::I16x8ExtMulLowI8x16U => self.extmul(I8X16, HalfWiden::UnsignedLow),
            O::I16x8ExtMulHighI8x16U => self.extmul(I8X16, HalfWiden::UnsignedHigh),
            O::I32x4ExtMulLowI16x8S => self.extmul(I16X8, HalfWiden::SignedLow),
            O::I32x4ExtMulHighI16x8S => self.extmul(I16X8, HalfWiden::SignedHigh),
            O::I32x4ExtMulLowI16x8U => self.extmul(I16X8, HalfWiden::UnsignedLow),
            O::I32x4ExtMulHighI16x8U => self.extmul(I16X8, HalfWiden::UnsignedHigh),
            O::I64x2ExtMulLowI32x4S => self.extmul(I32X4, HalfWiden::SignedLow),
            O::I64x2ExtMulHighI32x4S => self.extmul(I32X4, HalfWiden::SignedHigh),
            O::I64x2ExtMulLowI32x4U => self.extmul(I32X4, HalfWiden::UnsignedLow),
            O::I64x2ExtMulHighI32x4U => self.extmul(I32X4, HalfWiden::UnsignedHigh),

            O::F32x4Ceil => self.vunary(F32X4, |b, x| b.ins().ceil(x)),
            O::F32x4Floor => self.vunary(F32X4, |b, x| b.ins().floor(x)),
            O::F32x4Trunc => self.vunary(F32X4, |b, x| b.ins().trunc(x)),
            O::F32x4Nearest => self.vunary(F32X4, |b, x| b.ins().nearest(x)),
            O::F32x4Abs => self.vunary(F32X4, |b, x| b.ins().fabs(x)),
            O::F32x4Neg => self.vunary(F32X4, |b, x| b.ins().fneg(x)),
            O::F32x4Sqrt => self.vunary(F32X4, |b, x| b.ins().sqrt(x)),
            O::F32x4Add => self.vbinary(F32X4, |b, x, y| b.ins().fadd(x, y)),
            O::F32x4Sub => self.vbinary(F32X4, |b, x, y| b.ins().fsub(x, y)),
            O::F32x4Mul => self.vbinary(F32X4, |b, x, y| b.ins().fmul(x, y)),
            O::F32x4Div => self.vbinary(F32X4, |b, x, y| b.ins().fdiv(x, y)),
            O::F32x4Min => self.vbinary(F32X4, |b, x, y| b.ins().fmin(x, y)),
            O::F32x4Max => self.vbinary(F32X4, |b, x, y| b.ins().fmax(x, y)),
            O::F32x4PMin => self.vbinary(F32X4, pseudo_min),
            O::F32x4PMax => self.vbinary(F32X4, pseudo_max),
            O::F64x2Ceil => self.vunary(F64X2, |b, x| b.ins().ceil(x)),
            O::F64x2Floor => self.vunary(F64X2, |b, x| b.ins().floor(x)),
            O::F64x2Trunc => self.vunary(F64X2, |b, x| b.ins().trunc(x)),
            O::F64x2Nearest => self.vunary(F64X2, |b, x| b.ins().nearest(x)),
            O::F64x2Abs => self.vunary(F64X2, |b, x| b.ins().fabs(x)),
            O::F64x2Neg => self.vunary(F64X2, |b, x| b.ins().fneg(x)),
            O::F64x2Sqrt => self.vunary(F64X2, |b, x| b.ins().sqrt(x)),
            O::F64x2Add => self.vbinary(F64X2, |b, x, y| b.ins().fadd(x, y)),
            O::F64x2Sub => self.vbinary(F64X2, |b, x, y| b.ins().fsub(x, y)),
            O::F64x2Mul => self.vbinary(F64X2, |b, x, y| b.ins().fmul(x, y)),
            O::F64x2Div => self.vbinary(F64X2, |b, x, y| b.ins().fdiv(x, y)),
            O::F64x2Min => self.vbinary(F64X2, |b, x, y| b.ins().fmin(x, y)),
            O::F64x2Max => self.vbinary(F64X2, |b, x, y| b.ins().fmax(x, y)),
            O::F64x2PMin => self.vbinary(F64X2, pseudo_min),
            O::F64x2PMax => self.vbinary(F64X2, pseudo_max),

            O::I32x4TruncSatF32x4S => self.vunary(F32X4, |b, x| b.ins().fcvt_to_sint_sat(I32X4, x)),
            O::I32x4TruncSatF32x4U => self.vunary(F32X4, |b, x| b.ins().fcvt_to_uint_sat(I32X4, x)),
            O::F32x4ConvertI32x4S => self.vunary(I32X4, |b, x| b.ins().fcvt_from_sint(F32X4, x)),
            O::F32x4ConvertI32x4U => self.vunary(I32X4, |b, x| b.ins().fcvt_from_uint(F32X4, x)),
            O::I32x4TruncSatF64x2SZero => self.vunary(F64X2, |b, x| {
                let wide = b.ins().fcvt_to_sint_sat(I64X2, x);
                let zero = zero_vector(b, I64X2);
                b.ins().snarrow(wide, zero)
            }),
            O::I32x4TruncSatF64x2UZero => self.vunary(F64X2, |b, x| {
                let wide = b.ins().fcvt_to_uint_sat(I64X2, x);
                let zero = zero_vector(b, I64X2);
                b.ins().uunarrow(wide, zero)
            }),
            O::F64x2ConvertLowI32x4S => self.vunary(I32X4, |b, x| {
                let wide = b.ins().swiden_low(x);
                b.ins().fcvt_from_sint(F64X2, wide)
            }),
            O::F64x2ConvertLowI32x4U => self.vunary(I32X4, |b, x| {
                let wide = b.ins().uwiden_low(x);
                b.ins().fcvt_from_uint(F64X2, wide)
            }),
            O::F32x4DemoteF64x2Zero => self.vunary(F64X2, |b, x| b.ins().fvdemote(x)),
            O::F64x2PromoteLowF32x4 => self.vunary(F32X4, |b, x| b.ins().fvpromote_low(x)),
            _ => return Ok(false),
        }
        Ok(true)
    }

    fn vunary(&mut self, ty: ir::Type, f: VUnary) {
        let x = self.pop();
        let x = self.as_vector(x, ty);
        let v = f(&mut self.b, x);
        self.push(v);
    }

    fn vbinary(&mut self, ty: ir::Type, f: VBinary) {
        let (x, y) = self.pop2();
        let x = self.as_vector(x, ty);
        let y = self.as_vector(y, ty);
        let v = f(&mut self.b, x, y);
        self.push(v);
    }

    /// A bitwise operation: any lane type will do, so the first operand's is kept.
    fn vbinary_any(&mut self, f: VBinary) {
        let (x, y) = self.pop2();
        let ty = self.b.func.dfg.value_type(x);
        let y = self.as_vector(y, ty);
        let v = f(&mut self.b, x, y);
        self.push(v);
    }

    /// A shift of every lane by a scalar `i32` count (taken modulo the lane width).
    fn vshift(&mut self, ty: ir::Type, f: VBinary) {
        let (x, count) = self.pop2();
        let x = self.as_vector(x, ty);
        let v = f(&mut self.b, x, count);
        self.push(v);
    }

    fn vicmp(&mut self, ty: ir::Type, cc: IntCC) {
        let (x, y) = self.pop2();
        let x = self.as_vector(x, ty);
        let y = self.as_vector(y, ty);
        let v = self.b.ins().icmp(cc, x, y);
        self.push(v);
    }

    fn vfcmp(&mut self, ty: ir::Type, cc: FloatCC) {
        let (x, y) = self.pop2();
        let x = self.as_vector(x, ty);
        let y = self.as_vector(y, ty);
        let v = self.b.ins().fcmp(cc, x, y);
        self.push(v);
    }

    fn splat(&mut self, ty: ir::Type) {
        let x = self.pop();
        let x = if ty.lane_bits() < 32 {
            self.b.ins().ireduce(ty.lane_type(), x)
        } else {
            x
        };
        let v = self.b.ins().splat(ty, x);
        self.push(v);
    }

    /// Extracts a lane; `signed` says how a lane narrower than `i32` is extended.
    fn extract_lane(&mut self, ty: ir::Type, lane: u8, signed: Option<bool>) {
        let x = self.pop();
        let x = self.as_vector(x, ty);
        let v = self.b.ins().extractlane(x, lane);
        let v = match signed {
            Some(true) => self.b.ins().sextend(types::I32, v),
            Some(false) => self.b.ins().uextend(types::I32, v),
            None => v,
        };
        self.push(v);
    }

    fn replace_lane(&mut self, ty: ir::Type, lane: u8) {
        let (x, value) = self.pop2();
        let x = self.as_vector(x, ty);
        let value = if ty.lane_bits() < 32 {
            self.b.ins().ireduce(ty.lane_type(), value)
        } else {
            value
        };
        let v = self.b.ins().insertlane(x, value, lane);
        self.push(v);
    }

    fn all_true(&mut self, ty: ir::Type) {
        let x = self.pop();
        let x = self.as_vector(x, ty);
        let t = self.b.ins().vall_true(x);
        let v = self.b.ins().uextend(types::I32, t);
        self.push(v);
    }

    fn bitmask(&mut self, ty: ir::Type) {
        let x = self.pop();
        let x = self.as_vector(x, ty);
        let v = self.b.ins().vhigh_bits(types::I32, x);
        self.push(v);
    }

    /// `extmul`: widens the chosen half of both operands' lanes and multiplies them.
    fn extmul(&mut self, ty: ir::Type, widen: HalfWiden) {
        let (x, y) = self.pop2();
        let x = self.as_vector(x, ty);
        let y = self.as_vector(y, ty);
        let (x, y) = (widen.apply(&mut self.b, x), widen.apply(&mut self.b, y));
        let v = self.b.ins().imul(x, y);
        self.push(v);
    }
}

/// Which half of a vector's lanes a widening takes, and how it extends them.
#[derive(Copy, Clone)]
enum HalfWiden {
    SignedLow,
    SignedHigh,
    UnsignedLow,
    UnsignedHigh,
}

impl HalfWiden {
    fn apply(self, b: &mut FunctionBuilder<'_>, x: ir::Value) -> ir::Value {
        match self {
            HalfWiden::SignedLow => b.ins().swiden_low(x),
            HalfWiden::SignedHigh => b.ins().swiden_high(x),
            HalfWiden::UnsignedLow => b.ins().uwiden_low(x),
            HalfWiden::UnsignedHigh => b.ins().uwiden_high(x),
        }
    }
}

/// A vector of zeros of type `ty`.
pub(crate) fn zero_vector(b: &mut FunctionBuilder<'_>, ty: ir::Type) -> ir::Value {
    let constant = b
        .func
        .dfg
        .constants
        .insert(ir::ConstantData::from(&[0u8; 16][..]));
    b.ins().vconst(ty, constant)
}

/// `pmin(x, y)`: `y < x ? y : x`, lane by lane (not IEEE `min`: NaNs and zeros pass
/// through by position).
fn pseudo_min(b: &mut FunctionBuilder<'_>, x: ir::Value, y: ir::Value) -> ir::Value {
    let take_y = b.ins().fcmp(FloatCC::LessThan, y, x);
    select_lanes(b, take_y, y, x)
}

/// `pmax(x, y)`: `x < y ? y : x`, lane by lane.
fn pseudo_max(b: &mut FunctionBuilder<'_>, x: ir::Value, y: ir::Value) -> ir::Value {
    let take_y = b.ins().fcmp(FloatCC::LessThan, x, y);
    select_lanes(b, take_y, y, x)
}

/// Lane by lane `mask ? x : y`, where `mask` is a comparison result (an integer vector
/// of `x`'s lane width).
fn select_lanes(
    b: &mut FunctionBuilder<'_>,
    mask: ir::Value,
    x: ir::Value,
    y: ir::Value,
) -> ir::Value {
    let ty = b.func.dfg.value_type(x);
    let mask = b.ins().bitcast(ty, super::little_endian(), mask);
    b.ins().bitselect(mask, x, y)
}
