//! The Cranelift settings an embedder chooses: optimization level and NaN
//! canonicalization.

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
