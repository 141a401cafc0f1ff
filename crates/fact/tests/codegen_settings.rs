//! The Cranelift settings an embedder chooses: optimization level, NaN
//! canonicalization and the relaxed SIMD mode.

use fact::{Config, Engine, Instance, Module, OptLevel, Store};

/// `nan`'s quiet NaN with a payload, added to 1.0: x86 passes the payload through.
const NAN_MODULE: &str = r#"(module
  (func (export "add32") (result i32)
    (i32.reinterpret_f32 (f32.add (f32.const nan:0x200000) (f32.const 1))))
  (func (export "add64") (result i64)
    (i64.reinterpret_f64 (f64.add (f64.const nan:0x4000000000000) (f64.const 1))))
  (func (export "add32x4") (result i32)
    (i32x4.extract_lane 2
      (f32x4.add (v128.const f32x4 0 0 nan:0x200000 0) (v128.const f32x4 1 1 1 1)))))"#;

fn run_nan_module(config: &Config) -> (u32, u64, u32) {
    let engine = Engine::new(config).unwrap();
    let module = Module::new(&engine, NAN_MODULE).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let add32 = instance
        .get_typed_func::<(), i32>(&mut store, "add32")
        .unwrap();
    let add64 = instance
        .get_typed_func::<(), i64>(&mut store, "add64")
        .unwrap();
    let add32x4 = instance
        .get_typed_func::<(), i32>(&mut store, "add32x4")
        .unwrap();
    (
        add32.call(&mut store, ()).unwrap() as u32,
        add64.call(&mut store, ()).unwrap() as u64,
        add32x4.call(&mut store, ()).unwrap() as u32,
    )
}

#[test]
fn nan_canonicalization_makes_every_nan_the_canonical_one() {
    let mut config = Config::new();
    config.cranelift_nan_canonicalization(true);
    assert_eq!(
        run_nan_module(&config),
        (0x7fc0_0000, 0x7ff8_0000_0000_0000, 0x7fc0_0000)
    );

    // Without it the hardware's NaN comes out: a NaN, here with the input's payload.
    let (a, b, c) = run_nan_module(&Config::new());
    assert!(f32::from_bits(a).is_nan() && f64::from_bits(b).is_nan());
    assert!(f32::from_bits(c).is_nan());
    if cfg!(target_arch = "x86_64") {
        assert_eq!((a, b, c), (0x7fe0_0000, 0x7ffc_0000_0000_0000, 0x7fe0_0000));
    }
}

#[test]
fn every_optimization_level_compiles_the_same_program() {
    let fib = r#"(module (func $fib (export "fib") (param i32) (result i32)
        (if (result i32) (i32.lt_u (local.get 0) (i32.const 2))
          (then (local.get 0))
          (else (i32.add (call $fib (i32.sub (local.get 0) (i32.const 1)))
                         (call $fib (i32.sub (local.get 0) (i32.const 2))))))))"#;
    for level in [OptLevel::None, OptLevel::Speed, OptLevel::SpeedAndSize] {
        let mut config = Config::new();
        config.cranelift_opt_level(level);
        let engine = Engine::new(&config).unwrap();
        let module = Module::new(&engine, fib).unwrap();
        let mut store = Store::new(&engine, ());
        let instance = Instance::new(&mut store, &module, &[]).unwrap();
        let f = instance
            .get_typed_func::<i32, i32>(&mut store, "fib")
            .unwrap();
        assert_eq!(f.call(&mut store, 20).unwrap(), 6765, "{level:?}");
        // The level is part of what an artifact depends on.
        let other = Engine::new(&{
            let mut c = Config::new();
            c.cranelift_opt_level(if level == OptLevel::None {
                OptLevel::Speed
            } else {
                OptLevel::None
            });
            c
        })
        .unwrap();
        let artifact = module.serialize().unwrap();
        assert!(unsafe { Module::deserialize(&other, &artifact) }.is_err());
    }
}

/// One relaxed instruction each, on inputs where the host's fastest lowering and the
/// deterministic profile may disagree; every function returns lane 0 of its result.
const RELAXED_MODULE: &str = r#"(module
  ;; Index 17 is out of range: 0 in the deterministic profile, `pshufb` takes lane 17 % 16.
  (func (export "swizzle") (result i32)
    (i8x16.extract_lane_u 0
      (i8x16.relaxed_swizzle (v128.const i8x16 0 7 0 0 0 0 0 0 0 0 0 0 0 0 0 0)
                             (v128.const i8x16 17 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0))))
  ;; NaN: 0 in the deterministic profile, `cvttps2dq` gives i32::MIN.
  (func (export "trunc") (result i32)
    (i32x4.extract_lane 0 (i32x4.relaxed_trunc_f32x4_s (v128.const f32x4 nan 0 0 0))))
  ;; (1 + 2^-12)^2 - (1 + 2^-11) is 2^-24 exactly, which the unfused product rounds away.
  (func (export "madd") (result f32)
    (f32x4.extract_lane 0
      (f32x4.relaxed_madd (v128.const f32x4 0x1.001p0 0 0 0)
                          (v128.const f32x4 0x1.001p0 0 0 0)
                          (v128.const f32x4 -0x1.002p0 0 0 0)))))"#;

fn run_relaxed_module(deterministic: bool) -> (i32, i32, f32) {
    let mut config = Config::new();
    config.relaxed_simd_deterministic(deterministic);
    let engine = Engine::new(&config).unwrap();
    let module = Module::new(&engine, RELAXED_MODULE).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let mut call_i32 = |name: &str| {
        instance
            .get_typed_func::<(), i32>(&mut store, name)
            .unwrap()
            .call(&mut store, ())
            .unwrap()
    };
    let (swizzle, trunc) = (call_i32("swizzle"), call_i32("trunc"));
    let madd = instance
        .get_typed_func::<(), f32>(&mut store, "madd")
        .unwrap()
        .call(&mut store, ())
        .unwrap();
    (swizzle, trunc, madd)
}

#[test]
fn relaxed_simd_deterministic_gives_the_deterministic_profile() {
    assert_eq!(run_relaxed_module(true), (0, 0, 0.0));
}

#[cfg(target_arch = "x86_64")]
#[test]
fn relaxed_simd_fast_mode_differs_from_the_deterministic_profile() {
    let (swizzle, trunc, madd) = run_relaxed_module(false);
    assert_eq!(swizzle, 7, "relaxed_swizzle is one pshufb");
    assert_eq!(trunc, i32::MIN, "relaxed_trunc_f32x4_s is one cvttps2dq");
    if std::arch::is_x86_feature_detected!("fma") && std::arch::is_x86_feature_detected!("avx") {
        assert_eq!(madd, 2f32.powi(-24), "relaxed_madd is fused");
    } else {
        assert_eq!(
            madd, 0.0,
            "without FMA, relaxed_madd is a multiply and an add"
        );
        println!("NOTE: this host has no FMA; relaxed_madd is unfused in both modes");
    }
}
