//! Core engine figures: compile time, instantiation time, and call costs in both
//! directions. Run with `cargo bench -p fact --bench core`; it prints, it asserts nothing.

use fact::*;
use std::time::{Duration, Instant};

/// Runs `f` repeatedly for about `budget` and returns the mean time per run.
fn measure(budget: Duration, mut f: impl FnMut()) -> Duration {
    f();
    let start = Instant::now();
    let mut runs = 0u32;
    while start.elapsed() < budget {
        f();
        runs += 1;
    }
    start.elapsed() / runs.max(1)
}

/// A module of `n` functions of varied shapes, calling each other.
fn big_module(n: usize) -> String {
    let mut wat = String::from("(module (memory 1) (global $g (mut i32) (i32.const 0))\n");
    for i in 0..n {
        let callee = if i == 0 {
            "(local.get 0)".to_string()
        } else {
            format!("(call $f{} (local.get 0))", i - 1)
        };
        wat.push_str(&format!(
            "(func $f{i} (export \"f{i}\") (param i32) (result i32) (local i32)
               (local.set 1 (i32.const {i}))
               (block (loop
                 (br_if 1 (i32.ge_u (local.get 1) (i32.add (local.get 0) (i32.const 8))))
                 (i32.store (i32.and (local.get 1) (i32.const 1020)) (local.get 1))
                 (global.set $g (i32.add (global.get $g) (local.get 1)))
                 (local.set 1 (i32.add (local.get 1) (i32.const 1)))
                 (br 0)))
               (if (result i32) (i32.eqz (local.get 0))
                 (then (i32.load (i32.const 4)))
                 (else {callee} (i32.const 1) i32.add)))\n"
        ));
    }
    wat.push(')');
    wat
}

fn main() {
    let engine = Engine::default();

    let wasm = wat::parse_str(big_module(1000)).unwrap();
    let compile = measure(Duration::from_secs(3), || {
        Module::new(&engine, &wasm).unwrap();
    });
    println!(
        "compile, 1000 functions ({} KiB of wasm): {:.1} ms per compile",
        wasm.len() / 1024,
        compile.as_secs_f64() * 1e3
    );
    let module = Module::new(&engine, &wasm).unwrap();
    let artifact = module.serialize().unwrap();
    let deserialize = measure(Duration::from_secs(1), || unsafe {
        Module::deserialize(&engine, &artifact).unwrap();
    });
    println!(
        "deserialize that artifact ({} KiB): {:.1} us",
        artifact.len() / 1024,
        deserialize.as_secs_f64() * 1e6
    );

    let small = Module::new(
        &engine,
        r#"(module
            (import "host" "nop" (func $host_nop))
            (memory 1) (table 4 funcref) (global (mut i32) (i32.const 0))
            (data (i32.const 0) "some data")
            (func (export "nop"))
            (func (export "mix") (param i32 i64) (result f32)
              (f32.add (f32.convert_i32_s (local.get 0)) (f32.convert_i64_s (local.get 1))))
            (func (export "call_host") (param i32)
              (loop (call $host_nop)
                (br_if 0 (local.tee 0 (i32.sub (local.get 0) (i32.const 1)))))))"#,
    )
    .unwrap();
    let mut linker = Linker::new(&engine);
    linker.func_wrap("host", "nop", || {}).unwrap();
    // A store owns what is instantiated in it until it is dropped, so each round uses a
    // fresh store (its creation and teardown are included).
    let instantiate = measure(Duration::from_secs(2), || {
        let mut store = Store::new(&engine, ());
        linker.instantiate(&mut store, &small).unwrap();
    });
    println!(
        "instantiate in a new store (1 memory, 1 table, 1 global, 1 data segment, 1 host import): {:.2} us",
        instantiate.as_secs_f64() * 1e6
    );

    let mut store = Store::new(&engine, ());
    let instance = linker.instantiate(&mut store, &small).unwrap();
    let nop = instance
        .get_typed_func::<(), ()>(&mut store, "nop")
        .unwrap();
    let mix = instance
        .get_typed_func::<(i32, i64), f32>(&mut store, "mix")
        .unwrap();
    let call_host = instance
        .get_typed_func::<i32, ()>(&mut store, "call_host")
        .unwrap();

    const N: u32 = 1_000_000;
    let t = measure(Duration::from_secs(1), || {
        for _ in 0..N {
            nop.call(&mut store, ()).unwrap();
        }
    });
    println!(
        "host -> wasm, typed `nop`: {:.1} ns per call",
        t.as_secs_f64() * 1e9 / N as f64
    );
    let t = measure(Duration::from_secs(1), || {
        for i in 0..N {
            mix.call(&mut store, (i as i32, 7)).unwrap();
        }
    });
    println!(
        "host -> wasm, typed `(i32, i64) -> f32`: {:.1} ns per call",
        t.as_secs_f64() * 1e9 / N as f64
    );
    let dynamic = instance.get_func(&mut store, "mix").unwrap();
    let mut out = [Val::F32(0)];
    let t = measure(Duration::from_secs(1), || {
        for i in 0..N {
            dynamic
                .call(&mut store, &[Val::I32(i as i32), Val::I64(7)], &mut out)
                .unwrap();
        }
    });
    println!(
        "host -> wasm, dynamic `(i32, i64) -> f32`: {:.1} ns per call",
        t.as_secs_f64() * 1e9 / N as f64
    );
    let t = measure(Duration::from_secs(1), || {
        call_host.call(&mut store, N as i32).unwrap();
    });
    println!(
        "wasm -> host, `nop`: {:.1} ns per call",
        t.as_secs_f64() * 1e9 / N as f64
    );

    epoch_check_cost();
    exception_cost();
}

/// What throwing and catching an exception costs: caught in the throwing function, and
/// caught three frames up.
fn exception_cost() {
    const N: i32 = 1_000_000;
    let wat = r#"(module
        (tag $e (param i32))
        (func $thrower (param i32) (throw $e (local.get 0)))
        (func $middle (param i32) (call $thrower (local.get 0)))
        (func $outer (param i32) (call $middle (local.get 0)))
        (func (export "local") (param i32) (result i32) (local i32)
          (loop
            (block $h (result i32)
              (try_table (catch $e $h) (throw $e (local.get 0)))
              (i32.const 0))
            (local.set 1 (i32.add (local.get 1)))
            (br_if 0 (local.tee 0 (i32.sub (local.get 0) (i32.const 1)))))
          (local.get 1))
        (func (export "deep") (param i32) (result i32) (local i32)
          (loop
            (block $h (result i32)
              (try_table (catch $e $h) (call $outer (local.get 0)))
              (i32.const 0))
            (local.set 1 (i32.add (local.get 1)))
            (br_if 0 (local.tee 0 (i32.sub (local.get 0) (i32.const 1)))))
          (local.get 1)))"#;
    let engine = Engine::default();
    let module = Module::new(&engine, wat).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let mut figures = Vec::new();
    for name in ["local", "deep"] {
        let f = instance
            .get_typed_func::<i32, i32>(&mut store, name)
            .unwrap();
        let t = measure(Duration::from_secs(1), || {
            f.call(&mut store, N).unwrap();
        });
        figures.push(t.as_secs_f64() * 1e9 / f64::from(N));
    }
    println!(
        "throw and catch an exception, in the same function / three frames up: {:.1} / {:.1} ns",
        figures[0], figures[1]
    );
}

/// What epoch interruption (which `fact compile` and `fact run` always enable, so every
/// artifact runs under `--timeout`) costs a tight loop: a check at each loop header.
fn epoch_check_cost() {
    const ITERATIONS: i32 = 100_000_000;
    let wat = r#"(module (func (export "count") (param i32) (result i32) (local i32)
        (loop (local.set 1 (i32.add (local.get 1) (i32.const 3)))
          (br_if 0 (local.tee 0 (i32.sub (local.get 0) (i32.const 1)))))
        (local.get 1)))"#;
    let mut per_iteration = [0.0f64; 2];
    for (slot, epochs) in per_iteration.iter_mut().zip([false, true]) {
        let mut config = Config::new();
        config.epoch_interruption(epochs);
        let engine = Engine::new(&config).unwrap();
        let module = Module::new(&engine, wat).unwrap();
        let mut store = Store::new(&engine, ());
        let instance = Instance::new(&mut store, &module, &[]).unwrap();
        let count = instance
            .get_typed_func::<i32, i32>(&mut store, "count")
            .unwrap();
        let t = measure(Duration::from_secs(2), || {
            count.call(&mut store, ITERATIONS).unwrap();
        });
        *slot = t.as_secs_f64() * 1e9 / f64::from(ITERATIONS);
    }
    println!(
        "loop iteration without / with epoch checks: {:.3} / {:.3} ns ({:+.1} %)",
        per_iteration[0],
        per_iteration[1],
        (per_iteration[1] / per_iteration[0] - 1.0) * 100.0
    );
}
