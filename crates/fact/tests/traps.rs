//! Every trap kind comes back as `Err` with its code and a wasm backtrace, and the store
//! stays usable afterwards.

use fact::*;

const WAT: &str = r#"(module $traps
  (type $v (func))
  (type $i (func (param i32) (result i32)))
  (table $t 3 funcref)
  (elem (table $t) (i32.const 0) func $ok $takes_i32)
  (memory 1)
  (func $ok)
  (func $takes_i32 (param i32) (result i32) local.get 0)
  (func (export "unreachable") unreachable)
  (func (export "memory") (result i32) i32.const 65536 i32.load)
  (func (export "table") (result funcref) i32.const 7 table.get $t)
  (func (export "div") (param i32 i32) (result i32) local.get 0 local.get 1 i32.div_u)
  (func (export "overflow") (result i32) i32.const 0x80000000 i32.const -1 i32.div_s)
  (func (export "conversion") (result i32) f32.const nan i32.trunc_f32_s)
  (func (export "null") i32.const 2 call_indirect $t (type $v))
  (func (export "mismatch") i32.const 1 call_indirect $t (type $v))
  (func (export "undefined") i32.const 99 call_indirect $t (type $v))
  (func $recurse (export "recurse") (param i32) (result i32)
    local.get 0 i32.const 1 i32.add call $recurse)
  (func $inner (export "inner") unreachable)
  (func $middle call $inner)
  (func $outer (export "outer") call $middle)
  (func (export "fine") (result i32) i32.const 42)
)"#;

fn setup() -> (Store<()>, Instance) {
    let engine = Engine::default();
    let module = Module::new(&engine, WAT).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    (store, instance)
}

fn trap_of(
    store: &mut Store<()>,
    instance: &Instance,
    name: &str,
    params: &[Val],
) -> (Trap, anyhow::Error) {
    let f = instance.get_func(&mut *store, name).unwrap();
    let mut results = vec![Val::I32(0); f.ty(&*store).results.len()];
    if !results.is_empty() && f.ty(&*store).results[0] == ValType::FUNCREF {
        results[0] = Val::FuncRef(None);
    }
    let err = f.call(&mut *store, params, &mut results).unwrap_err();
    let trap = *err
        .downcast_ref::<Trap>()
        .unwrap_or_else(|| panic!("{name}: not a trap: {err:?}"));
    assert!(
        err.downcast_ref::<WasmBacktrace>().is_some(),
        "{name}: no backtrace"
    );
    (trap, err)
}

#[test]
fn every_trap_kind() {
    let (mut store, instance) = setup();
    let cases: &[(&str, &[Val], Trap, &str)] = &[
        (
            "unreachable",
            &[],
            Trap::UnreachableCodeReached,
            "unreachable",
        ),
        (
            "memory",
            &[],
            Trap::MemoryOutOfBounds,
            "out of bounds memory access",
        ),
        (
            "table",
            &[],
            Trap::TableOutOfBounds,
            "out of bounds table access",
        ),
        (
            "div",
            &[Val::I32(1), Val::I32(0)],
            Trap::IntegerDivisionByZero,
            "integer divide by zero",
        ),
        ("overflow", &[], Trap::IntegerOverflow, "integer overflow"),
        (
            "conversion",
            &[],
            Trap::BadConversionToInteger,
            "invalid conversion to integer",
        ),
        (
            "null",
            &[],
            Trap::IndirectCallToNull,
            "uninitialized element 2",
        ),
        (
            "mismatch",
            &[],
            Trap::BadSignature,
            "indirect call type mismatch",
        ),
        (
            "undefined",
            &[],
            Trap::UndefinedElement,
            "undefined element",
        ),
        (
            "recurse",
            &[Val::I32(0)],
            Trap::StackOverflow,
            "call stack exhausted",
        ),
    ];
    for (name, params, expected, message) in cases {
        let (trap, err) = trap_of(&mut store, &instance, name, params);
        assert_eq!(trap, *expected, "{name}");
        assert!(format!("{err:?}").contains(message), "{name}: {err:?}");
    }
    // The store and the instance remain usable after all of that.
    let fine = instance
        .get_typed_func::<(), i32>(&mut store, "fine")
        .unwrap();
    assert_eq!(fine.call(&mut store, ()).unwrap(), 42);
}

#[test]
fn backtrace_names_every_frame() {
    let (mut store, instance) = setup();
    let (_, err) = trap_of(&mut store, &instance, "outer", &[]);
    let bt = err.downcast_ref::<WasmBacktrace>().unwrap();
    let names: Vec<_> = bt
        .frames()
        .iter()
        .map(|f| f.func_name.clone().unwrap_or_default())
        .collect();
    assert_eq!(names, ["inner", "middle", "outer"]);
    assert!(bt.frames().iter().all(|f| f.module_offset.is_some()));
    assert_eq!(bt.frames()[0].module_name.as_deref(), Some("traps"));
    let text = format!("{err:?}");
    assert!(text.contains("traps!inner"), "{text}");
}

#[test]
fn deep_recursion_is_a_trap_with_a_bounded_backtrace() {
    let (mut store, instance) = setup();
    let (_, err) = trap_of(&mut store, &instance, "recurse", &[Val::I32(0)]);
    let bt = err.downcast_ref::<WasmBacktrace>().unwrap();
    assert!(bt.frames().len() > 1000);
    // The printed backtrace elides the middle.
    assert!(format!("{bt}").contains("frames omitted"));
}

#[test]
fn configurable_stack_limit() {
    let mut config = Config::new();
    config.max_wasm_stack(64 * 1024);
    let engine = Engine::new(&config).unwrap();
    let module = Module::new(&engine, WAT).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let (trap, err) = trap_of(&mut store, &instance, "recurse", &[Val::I32(0)]);
    assert_eq!(trap, Trap::StackOverflow);
    let depth = err.downcast_ref::<WasmBacktrace>().unwrap().frames().len();
    assert!(depth < 64 * 1024 / 16, "{depth}");
}

#[test]
fn host_errors_and_traps_cross_host_frames() {
    let engine = Engine::default();
    let module = Module::new(
        &engine,
        r#"(module
            (import "host" "fail" (func $fail (param i32)))
            (import "host" "reenter" (func $reenter))
            (func $calls_fail (export "calls_fail") i32.const 7 call $fail)
            (func $trapper (export "trapper") unreachable)
            (func $calls_reenter (export "calls_reenter") call $reenter))"#,
    )
    .unwrap();
    let mut store = Store::new(&engine, None::<Func>);
    let mut linker = Linker::new(&engine);
    linker
        .func_wrap("host", "fail", |x: i32| -> anyhow::Result<()> {
            anyhow::bail!("host says no to {x}")
        })
        .unwrap();
    linker
        .func_wrap(
            "host",
            "reenter",
            |mut caller: Caller<'_, Option<Func>>| -> anyhow::Result<()> {
                let f = caller.data().unwrap();
                f.call(&mut caller, &[], &mut [])
            },
        )
        .unwrap();
    let instance = linker.instantiate(&mut store, &module).unwrap();

    let f = instance
        .get_typed_func::<(), ()>(&mut store, "calls_fail")
        .unwrap();
    let err = f.call(&mut store, ()).unwrap_err();
    assert_eq!(err.root_cause().to_string(), "host says no to 7");
    let bt = err.downcast_ref::<WasmBacktrace>().unwrap();
    assert_eq!(bt.frames()[0].func_name.as_deref(), Some("calls_fail"));

    // wasm → host → wasm, trapping in the inner wasm: the error carries the inner trap
    // and its backtrace continues through the host call into the outer wasm frames.
    let trapper = instance.get_func(&mut store, "trapper").unwrap();
    *store.data_mut() = Some(trapper);
    let f = instance
        .get_typed_func::<(), ()>(&mut store, "calls_reenter")
        .unwrap();
    let err = f.call(&mut store, ()).unwrap_err();
    assert_eq!(
        err.downcast_ref::<Trap>(),
        Some(&Trap::UnreachableCodeReached)
    );
    let names: Vec<_> = err
        .downcast_ref::<WasmBacktrace>()
        .unwrap()
        .frames()
        .iter()
        .map(|f| f.func_name.clone().unwrap_or_default())
        .collect();
    assert_eq!(names, ["trapper", "calls_reenter"]);
    // Everything still works.
    let err = instance
        .get_typed_func::<(), ()>(&mut store, "calls_fail")
        .unwrap()
        .call(&mut store, ())
        .unwrap_err();
    assert!(format!("{err:?}").contains("host says no"));
}

#[test]
fn host_panics_propagate_as_panics() {
    let engine = Engine::default();
    let module = Module::new(
        &engine,
        r#"(module (import "h" "p" (func $p)) (func (export "f") call $p))"#,
    )
    .unwrap();
    let mut store = Store::new(&engine, ());
    let mut linker = Linker::new(&engine);
    linker
        .func_wrap("h", "p", || -> () { panic!("boom") })
        .unwrap();
    let instance = linker.instantiate(&mut store, &module).unwrap();
    let f = instance.get_typed_func::<(), ()>(&mut store, "f").unwrap();
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f.call(&mut store, ())));
    let payload = result.unwrap_err();
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"boom"));
}

#[test]
fn bounds_checked_memories_trap_too() {
    let mut config = Config::new();
    config.guard_pages(false);
    let engine = Engine::new(&config).unwrap();
    let module = Module::new(&engine, WAT).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let (trap, _) = trap_of(&mut store, &instance, "memory", &[]);
    assert_eq!(trap, Trap::MemoryOutOfBounds);
}

#[test]
fn traps_in_start_functions_and_segments_fail_instantiation() {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let module = Module::new(&engine, "(module (func $s unreachable) (start $s))").unwrap();
    let err = Instance::new(&mut store, &module, &[]).unwrap_err();
    assert_eq!(
        err.downcast_ref::<Trap>(),
        Some(&Trap::UnreachableCodeReached)
    );
    let module = Module::new(
        &engine,
        r#"(module (memory 1) (data (i32.const 65535) "ab"))"#,
    )
    .unwrap();
    let err = Instance::new(&mut store, &module, &[]).unwrap_err();
    assert_eq!(err.downcast_ref::<Trap>(), Some(&Trap::MemoryOutOfBounds));
    assert!(is_trap(&err));
}

/// Frames are as small as Wasmtime's: at the default 512 KiB wasm stack this function
/// (three parameters, two locals live across the call) recurses 10,915 times in fact and
/// 10,920 times in Wasmtime 50 (PyPI `wasmtime`); a minimal recursive function 32,746 and 32,762 times.
#[test]
fn recursion_depth_at_the_default_stack_is_level_with_wasmtime() {
    let wat = r#"(module
      (global $d (mut i32) (i32.const 0))
      (func $r (export "r") (param i32 i64 f64) (result i64) (local i64 i64)
        (global.set $d (i32.add (global.get $d) (i32.const 1)))
        (local.set 3 (i64.mul (local.get 1) (i64.const 3)))
        (local.set 4 (i64.add (local.get 1) (i64.const 7)))
        (if (result i64) (i32.eqz (local.get 0)) (then (local.get 3))
          (else (i64.add
            (i64.add (call $r (i32.sub (local.get 0) (i32.const 1)) (local.get 4) (local.get 2))
                     (local.get 3))
            (i64.trunc_f64_s (local.get 2))))))
      (func $m (export "m") (param i32) (result i32)
        (global.set $d (i32.add (global.get $d) (i32.const 1)))
        (if (result i32) (i32.eqz (local.get 0)) (then (i32.const 0))
          (else (i32.add (call $m (i32.sub (local.get 0) (i32.const 1))) (i32.const 1)))))
      (func (export "depth") (result i32) (global.get $d))
      (func (export "reset") (global.set $d (i32.const 0))))"#;
    let engine = Engine::default();
    let module = Module::new(&engine, wat).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let r = instance
        .get_typed_func::<(i32, i64, f64), i64>(&mut store, "r")
        .unwrap();
    let m = instance
        .get_typed_func::<i32, i32>(&mut store, "m")
        .unwrap();
    let depth = instance
        .get_typed_func::<(), i32>(&mut store, "depth")
        .unwrap();
    let reset = instance
        .get_typed_func::<(), ()>(&mut store, "reset")
        .unwrap();
    let err = r.call(&mut store, (1_000_000, 1, 2.0)).unwrap_err();
    assert_eq!(err.downcast_ref::<Trap>(), Some(&Trap::StackOverflow));
    let frames = depth.call(&mut store, ()).unwrap();
    assert!(frames >= 10_500, "only {frames} frames");
    reset.call(&mut store, ()).unwrap();
    assert!(m.call(&mut store, 10_000_000).is_err());
    let frames = depth.call(&mut store, ()).unwrap();
    assert!(frames >= 32_000, "only {frames} frames");
}
