;; fact-config: relaxed-simd-deterministic
;; With `Config::relaxed_simd_deterministic(true)` every relaxed SIMD instruction gives
;; the deterministic profile's result, exactly, including on the inputs where the spec
;; suite accepts several (out-of-range indices, NaN, overflow, mixed masks, signed zeros).

(module
  (func (export "swizzle") (param v128 v128) (result v128)
    (i8x16.relaxed_swizzle (local.get 0) (local.get 1)))
  (func (export "trunc_f32x4_s") (param v128) (result v128)
    (i32x4.relaxed_trunc_f32x4_s (local.get 0)))
  (func (export "trunc_f32x4_u") (param v128) (result v128)
    (i32x4.relaxed_trunc_f32x4_u (local.get 0)))
  (func (export "trunc_f64x2_s_zero") (param v128) (result v128)
    (i32x4.relaxed_trunc_f64x2_s_zero (local.get 0)))
  (func (export "trunc_f64x2_u_zero") (param v128) (result v128)
    (i32x4.relaxed_trunc_f64x2_u_zero (local.get 0)))
  (func (export "f32x4.madd") (param v128 v128 v128) (result v128)
    (f32x4.relaxed_madd (local.get 0) (local.get 1) (local.get 2)))
  (func (export "f32x4.nmadd") (param v128 v128 v128) (result v128)
    (f32x4.relaxed_nmadd (local.get 0) (local.get 1) (local.get 2)))
  (func (export "f64x2.madd") (param v128 v128 v128) (result v128)
    (f64x2.relaxed_madd (local.get 0) (local.get 1) (local.get 2)))
  (func (export "f64x2.nmadd") (param v128 v128 v128) (result v128)
    (f64x2.relaxed_nmadd (local.get 0) (local.get 1) (local.get 2)))
  (func (export "i8x16.laneselect") (param v128 v128 v128) (result v128)
    (i8x16.relaxed_laneselect (local.get 0) (local.get 1) (local.get 2)))
  (func (export "i16x8.laneselect") (param v128 v128 v128) (result v128)
    (i16x8.relaxed_laneselect (local.get 0) (local.get 1) (local.get 2)))
  (func (export "i32x4.laneselect") (param v128 v128 v128) (result v128)
    (i32x4.relaxed_laneselect (local.get 0) (local.get 1) (local.get 2)))
  (func (export "i64x2.laneselect") (param v128 v128 v128) (result v128)
    (i64x2.relaxed_laneselect (local.get 0) (local.get 1) (local.get 2)))
  (func (export "f32x4.min") (param v128 v128) (result v128)
    (f32x4.relaxed_min (local.get 0) (local.get 1)))
  (func (export "f32x4.max") (param v128 v128) (result v128)
    (f32x4.relaxed_max (local.get 0) (local.get 1)))
  (func (export "f64x2.min") (param v128 v128) (result v128)
    (f64x2.relaxed_min (local.get 0) (local.get 1)))
  (func (export "f64x2.max") (param v128 v128) (result v128)
    (f64x2.relaxed_max (local.get 0) (local.get 1)))
  (func (export "q15mulr") (param v128 v128) (result v128)
    (i16x8.relaxed_q15mulr_s (local.get 0) (local.get 1)))
  (func (export "dot") (param v128 v128) (result v128)
    (i16x8.relaxed_dot_i8x16_i7x16_s (local.get 0) (local.get 1)))
  (func (export "dot_add") (param v128 v128 v128) (result v128)
    (i32x4.relaxed_dot_i8x16_i7x16_add_s (local.get 0) (local.get 1) (local.get 2)))
)

;; Indices 16 and up select 0, as `i8x16.swizzle` does.
(assert_return
  (invoke "swizzle"
    (v128.const i8x16 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25)
    (v128.const i8x16 0 15 16 17 31 127 128 255 3 -1 -16 5 64 2 1 100))
  (v128.const i8x16 10 25 0 0 0 0 0 0 13 0 0 15 0 12 11 0))

;; NaN gives 0, out-of-range values saturate, like `trunc_sat`.
(assert_return
  (invoke "trunc_f32x4_s" (v128.const f32x4 nan 3e9 -3e9 -1.75))
  (v128.const i32x4 0 2147483647 -2147483648 -1))
(assert_return
  (invoke "trunc_f32x4_u" (v128.const f32x4 nan 5e9 -1.75 4294967040))
  (v128.const i32x4 0 4294967295 0 4294967040))
(assert_return
  (invoke "trunc_f64x2_s_zero" (v128.const f64x2 nan -3e9))
  (v128.const i32x4 0 -2147483648 0 0))
(assert_return
  (invoke "trunc_f64x2_u_zero" (v128.const f64x2 1e10 -1))
  (v128.const i32x4 4294967295 0 0 0))

;; Multiply-add rounds the product first: (1 + 2^-12)^2 = 1 + 2^-11 + 2^-24 rounds to
;; 1 + 2^-11, so the 2^-24 a fused operation would keep is lost.
(assert_return
  (invoke "f32x4.madd"
    (v128.const f32x4 0x1.001p0 2 -1 inf)
    (v128.const f32x4 0x1.001p0 3 0 0)
    (v128.const f32x4 -0x1.002p0 4 -0 1))
  (v128.const f32x4 0 10 -0 nan:canonical))
(assert_return
  (invoke "f32x4.nmadd"
    (v128.const f32x4 0x1.001p0 2 1 0)
    (v128.const f32x4 0x1.001p0 3 0 0)
    (v128.const f32x4 0x1.002p0 10 0 -0))
  (v128.const f32x4 0 4 0 -0))
;; (1 + 2^-27)^2 = 1 + 2^-26 + 2^-54 rounds to 1 + 2^-26.
(assert_return
  (invoke "f64x2.madd"
    (v128.const f64x2 0x1.0000002p0 2)
    (v128.const f64x2 0x1.0000002p0 3)
    (v128.const f64x2 -0x1.0000004p0 4))
  (v128.const f64x2 0 10))
(assert_return
  (invoke "f64x2.nmadd"
    (v128.const f64x2 0x1.0000002p0 2)
    (v128.const f64x2 0x1.0000002p0 3)
    (v128.const f64x2 0x1.0000004p0 10))
  (v128.const f64x2 0 4))

;; A mask lane mixing set and clear bits selects bit by bit, like `v128.bitselect`.
(assert_return
  (invoke "i8x16.laneselect"
    (v128.const i8x16 0xaa 0xaa 0xaa 0xaa 0xaa 0xaa 0xaa 0xaa 0xaa 0xaa 0xaa 0xaa 0xaa 0xaa 0xaa 0xaa)
    (v128.const i8x16 0x55 0x55 0x55 0x55 0x55 0x55 0x55 0x55 0x55 0x55 0x55 0x55 0x55 0x55 0x55 0x55)
    (v128.const i8x16 0xff 0 0x0f 0x80 0xf0 0x01 0 0 0 0 0 0 0 0 0 0xff))
  (v128.const i8x16 0xaa 0x55 0x5a 0xd5 0xa5 0x54 0x55 0x55 0x55 0x55 0x55 0x55 0x55 0x55 0x55 0xaa))
(assert_return
  (invoke "i16x8.laneselect"
    (v128.const i16x8 0xaaaa 0xaaaa 0xaaaa 0xaaaa 0xaaaa 0xaaaa 0xaaaa 0xaaaa)
    (v128.const i16x8 0x5555 0x5555 0x5555 0x5555 0x5555 0x5555 0x5555 0x5555)
    (v128.const i16x8 0xffff 0 0x00ff 0x8000 0 0 0 0))
  (v128.const i16x8 0xaaaa 0x5555 0x55aa 0xd555 0x5555 0x5555 0x5555 0x5555))
(assert_return
  (invoke "i32x4.laneselect"
    (v128.const i32x4 0xaaaaaaaa 0xaaaaaaaa 0xaaaaaaaa 0xaaaaaaaa)
    (v128.const i32x4 0x55555555 0x55555555 0x55555555 0x55555555)
    (v128.const i32x4 0xffffffff 0 0x0000ffff 0x80000000))
  (v128.const i32x4 0xaaaaaaaa 0x55555555 0x5555aaaa 0xd5555555))
(assert_return
  (invoke "i64x2.laneselect"
    (v128.const i64x2 0xaaaaaaaaaaaaaaaa 0xaaaaaaaaaaaaaaaa)
    (v128.const i64x2 0x5555555555555555 0x5555555555555555)
    (v128.const i64x2 0x00000000ffffffff 0x8000000000000000))
  (v128.const i64x2 0x55555555aaaaaaaa 0xd555555555555555))

;; NaNs propagate and -0 < +0, like `min` and `max`.
(assert_return
  (invoke "f32x4.min" (v128.const f32x4 nan 0 -0 1) (v128.const f32x4 1 -0 0 nan))
  (v128.const f32x4 nan:canonical -0 -0 nan:canonical))
(assert_return
  (invoke "f32x4.max" (v128.const f32x4 nan 0 -0 1) (v128.const f32x4 1 -0 0 nan))
  (v128.const f32x4 nan:canonical 0 0 nan:canonical))
(assert_return
  (invoke "f64x2.min" (v128.const f64x2 0 nan) (v128.const f64x2 -0 1))
  (v128.const f64x2 -0 nan:canonical))
(assert_return
  (invoke "f64x2.max" (v128.const f64x2 -0 1) (v128.const f64x2 0 nan))
  (v128.const f64x2 0 nan:canonical))

;; i16::MIN * i16::MIN saturates to i16::MAX.
(assert_return
  (invoke "q15mulr"
    (v128.const i16x8 -32768 16384 -32768 32767 0 0 0 0)
    (v128.const i16x8 -32768 16384 32767 32767 0 0 0 0))
  (v128.const i16x8 32767 8192 -32767 32766 0 0 0 0))

;; The second operand's bytes are signed: 0xff is -1, not 255.
(assert_return
  (invoke "dot"
    (v128.const i8x16 1 2 -3 4 100 100 0 0 0 0 0 0 0 0 0 0)
    (v128.const i8x16 -1 -1 -128 5 -100 127 0 0 0 0 0 0 0 0 0 0))
  (v128.const i16x8 -3 404 2700 0 0 0 0 0))
(assert_return
  (invoke "dot_add"
    (v128.const i8x16 1 1 1 1 2 2 2 2 0 0 0 0 -1 -1 -1 -1)
    (v128.const i8x16 -1 -1 -1 -1 -128 1 1 1 0 0 0 0 -128 -128 -128 -128)
    (v128.const i32x4 10 20 30 40))
  (v128.const i32x4 6 -230 30 552))
