//! The relaxed SIMD instructions.
//!
//! Each has a set of allowed results for some inputs (out-of-range swizzle indices, NaN
//! or out-of-range truncations, fused or unfused multiply-add, …). Two choices are made
//! here, by [`Tunables::relaxed_simd_deterministic`](fact_environ::Tunables):
//!
//! - **deterministic**: the specification's deterministic profile, the first of every
//!   set of allowed results — each instruction behaves like its non-relaxed relative
//!   (`swizzle`, `trunc_sat`, unfused `mul`+`add`, `min`/`max`, `q15mulr_sat`,
//!   `bitselect`, a signed dot product), identically on every host;
//! - **fast** (the default): whatever the host does in one instruction where that is an
//!   allowed result — `pshufb`, `cvttps2dq`/`cvttpd2dq`, FMA, `minps`/`maxps`,
//!   `pmulhrsw`, `pmaddubsw`, `blendv` on x86-64 — falling back to the deterministic
//!   lowering where the host has nothing faster.
//!
//! Within one engine the choice is fixed, so an instruction gives the same result for
//! the same inputs every time, as the specification requires.

use super::Translator;
use anyhow::Result;
use cranelift_codegen::ir::{
    self,
    condcodes::FloatCC,
    types::{F32X4, F64X2, I16X8, I32X4, I64X2, I8X16},
    InstBuilder,
};
use wasmparser::Operator;

impl Translator<'_, '_> {
    /// Translates relaxed SIMD instructions; false if `op` is not one.
    pub(crate) fn translate_relaxed_simd(&mut self, op: &Operator<'_>) -> Result<bool> {
        use Operator as O;
        let fast = !self.env.tunables().relaxed_simd_deterministic;
        let isa = self.env.isa();
        let x86 = fast && isa.triple().architecture == target_lexicon::Architecture::X86_64;
        match *op {
            O::I8x16RelaxedSwizzle => {
                let (x, s) = self.pop2();
                let x = self.as_vector(x, I8X16);
                let s = self.as_vector(s, I8X16);
                // `pshufb` zeroes a lane whose index has its top bit set and otherwise
                // takes `x[index % 16]`; both are allowed results.
                let v = if fast && isa.has_x86_pshufb_lowering() {
                    self.b.ins().x86_pshufb(x, s)
                } else {
                    self.b.ins().swizzle(x, s)
                };
                self.push(v);
            }

            // `cvttps2dq` gives `i32::MIN` for NaN and out-of-range lanes, an allowed
            // result; the unsigned conversions have no cheaper form than saturation.
            O::I32x4RelaxedTruncF32x4S => {
                let x = self.pop();
                let x = self.as_vector(x, F32X4);
                let v = if x86 {
                    self.b.ins().x86_cvtt2dq(I32X4, x)
                } else {
                    self.b.ins().fcvt_to_sint_sat(I32X4, x)
                };
                self.push(v);
            }
            O::I32x4RelaxedTruncF32x4U => {
                let x = self.pop();
                let x = self.as_vector(x, F32X4);
                let v = self.b.ins().fcvt_to_uint_sat(I32X4, x);
                self.push(v);
            }
            O::I32x4RelaxedTruncF64x2SZero => {
                let x = self.pop();
                let x = self.as_vector(x, F64X2);
                let zero = super::simd::zero_vector(&mut self.b, I64X2);
                // Narrowing `x86_cvtt2dq` against zero is one `cvttpd2dq`.
                let wide = if x86 {
                    self.b.ins().x86_cvtt2dq(I64X2, x)
                } else {
                    self.b.ins().fcvt_to_sint_sat(I64X2, x)
                };
                let v = self.b.ins().snarrow(wide, zero);
                self.push(v);
            }
            O::I32x4RelaxedTruncF64x2UZero => {
                let x = self.pop();
                let x = self.as_vector(x, F64X2);
                let wide = self.b.ins().fcvt_to_uint_sat(I64X2, x);
                let zero = super::simd::zero_vector(&mut self.b, I64X2);
                let v = self.b.ins().uunarrow(wide, zero);
                self.push(v);
            }

            O::F32x4RelaxedMadd => self.relaxed_madd(F32X4, false),
            O::F32x4RelaxedNmadd => self.relaxed_madd(F32X4, true),
            O::F64x2RelaxedMadd => self.relaxed_madd(F64X2, false),
            O::F64x2RelaxedNmadd => self.relaxed_madd(F64X2, true),

            O::I8x16RelaxedLaneselect => self.relaxed_laneselect(I8X16),
            O::I16x8RelaxedLaneselect => self.relaxed_laneselect(I16X8),
            O::I32x4RelaxedLaneselect => self.relaxed_laneselect(I32X4),
            O::I64x2RelaxedLaneselect => self.relaxed_laneselect(I64X2),

            O::F32x4RelaxedMin => self.relaxed_min_max(F32X4, true),
            O::F32x4RelaxedMax => self.relaxed_min_max(F32X4, false),
            O::F64x2RelaxedMin => self.relaxed_min_max(F64X2, true),
            O::F64x2RelaxedMax => self.relaxed_min_max(F64X2, false),

            O::I16x8RelaxedQ15mulrS => {
                let (x, y) = self.pop2();
                let x = self.as_vector(x, I16X8);
                let y = self.as_vector(y, I16X8);
                // `pmulhrsw` gives `i16::MIN` for `i16::MIN * i16::MIN`, an allowed result.
                let v = if fast && isa.has_x86_pmulhrsw_lowering() {
                    self.b.ins().x86_pmulhrsw(x, y)
                } else {
                    self.b.ins().sqmul_round_sat(x, y)
                };
                self.push(v);
            }
            O::I16x8RelaxedDotI8x16I7x16S => {
                let (x, y) = self.pop2();
                let v = self.relaxed_dot(x, y);
                self.push(v);
            }
            O::I32x4RelaxedDotI8x16I7x16AddS => {
                let (x, y, acc) = self.pop3();
                let pairs = self.relaxed_dot(x, y);
                let (low, high) = (
                    self.b.ins().swiden_low(pairs),
                    self.b.ins().swiden_high(pairs),
                );
                let quads = self.b.ins().iadd_pairwise(low, high);
                let acc = self.as_vector(acc, I32X4);
                let v = self.b.ins().iadd(quads, acc);
                self.push(v);
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// `relaxed_madd(a, b, c)` is `a * b + c`, fused or not; `relaxed_nmadd` is
    /// `-a * b + c`. Fused only in fast mode on a host with FMA (a library call would be
    /// slower than two roundings).
    fn relaxed_madd(&mut self, ty: ir::Type, negate: bool) {
        let (a, b, c) = self.pop3();
        let a = self.as_vector(a, ty);
        let b = self.as_vector(b, ty);
        let c = self.as_vector(c, ty);
        let a = if negate { self.b.ins().fneg(a) } else { a };
        let fused =
            !self.env.tunables().relaxed_simd_deterministic && self.env.isa().has_native_fma();
        let v = if fused {
            self.b.ins().fma(a, b, c)
        } else {
            let product = self.b.ins().fmul(a, b);
            self.b.ins().fadd(product, c)
        };
        self.push(v);
    }

    /// `relaxed_laneselect(a, b, mask)`: `bitselect` (deterministic), or in fast mode a
    /// selection by each mask lane's top bit where the host has one instruction for it.
    fn relaxed_laneselect(&mut self, ty: ir::Type) {
        let (a, b, mask) = self.pop3();
        let a = self.as_vector(a, ty);
        let b = self.as_vector(b, ty);
        let mask = self.as_vector(mask, ty);
        let fast = !self.env.tunables().relaxed_simd_deterministic;
        let v = if fast && self.env.isa().has_blendv_lowering(ty) {
            self.b.ins().blendv(mask, a, b)
        } else {
            self.b.ins().bitselect(mask, a, b)
        };
        self.push(v);
    }

    /// `relaxed_min`/`relaxed_max`: wasm's `min`/`max` (deterministic), or in fast mode
    /// `a < b ? a : b` (`a > b ? a : b`), which is one `minps`/`maxps` on x86-64 and an
    /// allowed result for NaNs and zeros of either sign.
    fn relaxed_min_max(&mut self, ty: ir::Type, min: bool) {
        let (a, b) = self.pop2();
        let a = self.as_vector(a, ty);
        let b = self.as_vector(b, ty);
        let v = if self.env.tunables().relaxed_simd_deterministic {
            if min {
                self.b.ins().fmin(a, b)
            } else {
                self.b.ins().fmax(a, b)
            }
        } else {
            let take_a = if min {
                self.b.ins().fcmp(FloatCC::LessThan, a, b)
            } else {
                self.b.ins().fcmp(FloatCC::LessThan, b, a)
            };
            let take_a = self.b.ins().bitcast(ty, super::little_endian(), take_a);
            self.b.ins().bitselect(take_a, a, b)
        };
        self.push(v);
    }

    /// The pairwise 16-bit sums of `x`'s signed bytes times `y`'s bytes. Deterministic:
    /// `y` signed, sums wrapping. Fast on x86-64: one `pmaddubsw`, which reads `y` as
    /// unsigned and saturates the sums (the two differ only where `y`'s top bit is set,
    /// where the result is the host's).
    fn relaxed_dot(&mut self, x: ir::Value, y: ir::Value) -> ir::Value {
        let x = self.as_vector(x, I8X16);
        let y = self.as_vector(y, I8X16);
        let fast = !self.env.tunables().relaxed_simd_deterministic;
        if fast && self.env.isa().has_x86_pmaddubsw_lowering() {
            return self.b.ins().x86_pmaddubsw(x, y);
        }
        let (xl, yl) = (self.b.ins().swiden_low(x), self.b.ins().swiden_low(y));
        let low = self.b.ins().imul(xl, yl);
        let (xh, yh) = (self.b.ins().swiden_high(x), self.b.ins().swiden_high(y));
        let high = self.b.ins().imul(xh, yh);
        self.b.ins().iadd_pairwise(low, high)
    }
}
