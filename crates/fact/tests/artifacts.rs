//! Compilation errors, the artifact format, and precompiled modules.

use fact::*;

const FIB: &str = r#"(module $fib
  (func $fib (export "fib") (param i32) (result i32)
    local.get 0 i32.const 2 i32.lt_u
    if (result i32) local.get 0
    else local.get 0 i32.const 1 i32.sub call $fib
         local.get 0 i32.const 2 i32.sub call $fib i32.add
    end)
  (func $helper (param i32) (result i32) local.get 0 call $fib)
  (func (export "fib_via_helper") (param i32) (result i32) local.get 0 call $helper)
  (memory 1) (data (i32.const 0) "hello"))"#;

fn run_fib(engine: &Engine, module: &Module) -> i32 {
    let mut store = Store::new(engine, ());
    let instance = Instance::new(&mut store, module, &[]).unwrap();
    let fib = instance
        .get_typed_func::<i32, i32>(&mut store, "fib_via_helper")
        .unwrap();
    fib.call(&mut store, 20).unwrap()
}

#[test]
fn calls_are_resolved_in_the_image() {
    let engine = Engine::default();
    let module = Module::new(&engine, FIB).unwrap();
    assert_eq!(module.text_relocations().unwrap(), 0);
    assert_eq!(run_fib(&engine, &module), 6765);
    // The artifact is an ELF file marked as a module.
    let bytes = module.serialize().unwrap();
    assert_eq!(&bytes[..4], b"\x7fELF");
    assert_eq!(
        Engine::detect_precompiled(&bytes),
        Some(Precompiled::Module)
    );
    assert_eq!(Engine::detect_precompiled(b"\0asm\x01\0\0\0"), None);
}

#[test]
fn serialize_deserialize_runs_identically() {
    let engine = Engine::default();
    let module = Module::new(&engine, FIB).unwrap();
    let bytes = module.serialize().unwrap();
    let loaded = unsafe { Module::deserialize(&engine, &bytes) }.unwrap();
    assert_eq!(run_fib(&engine, &loaded), 6765);
    assert_eq!(loaded.exports().count(), module.exports().count());

    let dir = std::env::temp_dir().join(format!("fact-artifact-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("fib.cwasm");
    std::fs::write(&path, engine.precompile_module(FIB.as_bytes()).unwrap()).unwrap();
    let mapped = unsafe { Module::deserialize_file(&engine, &path) }.unwrap();
    assert_eq!(run_fib(&engine, &mapped), 6765);
    // A second engine with the same configuration loads it too.
    let other = Engine::default();
    let again = unsafe { Module::deserialize_file(&other, &path) }.unwrap();
    assert_eq!(run_fib(&other, &again), 6765);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn truncated_corrupted_and_foreign_artifacts_are_rejected() {
    let engine = Engine::default();
    let bytes = Module::new(&engine, FIB).unwrap().serialize().unwrap();

    for len in [0, 3, 64, bytes.len() / 2, bytes.len() - 1] {
        let err = unsafe { Module::deserialize(&engine, &bytes[..len]) }.unwrap_err();
        assert!(!err.to_string().is_empty());
    }
    // Flip one bit in every 97th byte, one at a time: each is caught.
    for i in (0..bytes.len()).step_by(97) {
        let mut bad = bytes.clone();
        bad[i] ^= 0x10;
        assert!(
            unsafe { Module::deserialize(&engine, &bad) }.is_err(),
            "byte {i}"
        );
    }
    let mut bad = bytes.clone();
    let mid = bytes.len() / 3;
    bad[mid] ^= 0xff;
    let err = unsafe { Module::deserialize(&engine, &bad) }.unwrap_err();
    assert!(
        format!("{err:#}").contains("corrupt") || format!("{err:#}").contains("checksum"),
        "{err:#}"
    );

    // Another configuration: compatible format, foreign settings.
    let mut config = Config::new();
    config.consume_fuel(true);
    let fuel_engine = Engine::new(&config).unwrap();
    let err = unsafe { Module::deserialize(&fuel_engine, &bytes) }.unwrap_err();
    assert!(
        err.to_string().contains("another engine configuration"),
        "{err}"
    );

    // Not an artifact at all.
    let err = unsafe { Module::deserialize(&engine, b"\0asm\x01\0\0\0") }.unwrap_err();
    assert!(err.to_string().contains("not a precompiled"), "{err}");
    let elf = std::fs::read("/proc/self/exe").unwrap();
    assert!(unsafe { Module::deserialize(&engine, &elf) }.is_err());
}

/// Artifacts made by fact before its own translator (cranelift-wasm 0.112, artifact
/// format 1), checked in by that compiler: loading them says what to do.
#[test]
fn artifacts_of_an_older_fact_ask_to_be_recompiled() {
    let engine = Engine::default();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let module = std::fs::read(dir.join("fib-cranelift-0.112.cwasm")).unwrap();
    assert_eq!(
        Engine::detect_precompiled(&module),
        Some(Precompiled::Module)
    );
    let err = unsafe { Module::deserialize(&engine, &module) }.unwrap_err();
    let msg = format!("{err:#}");
    assert!(
        msg.contains("made by an older fact") && msg.contains("recompile"),
        "{msg}"
    );
    let err = unsafe { Module::deserialize_file(&engine, dir.join("fib-cranelift-0.112.cwasm")) }
        .unwrap_err();
    assert!(
        format!("{err:#}").contains("made by an older fact"),
        "{err:#}"
    );

    let component = std::fs::read(dir.join("greeter-cranelift-0.112.cwasm")).unwrap();
    let err = unsafe { fact::component::Component::deserialize(&engine, &component) }.unwrap_err();
    let msg = format!("{err:#}");
    assert!(
        msg.contains("made by an older fact") && msg.contains("recompile"),
        "{msg}"
    );
}

#[test]
fn malformed_invalid_and_unsupported_modules_are_errors() {
    let engine = Engine::default();
    let err = Module::new(&engine, b"\0asm\x01\0\0\0\x01\x05").unwrap_err();
    assert!(format!("{err:#}").contains("offset"), "{err:#}");
    let err = Module::new(&engine, b"\0asm\x02\0\0\0").unwrap_err();
    assert!(!format!("{err:#}").is_empty());
    let err = Module::new(&engine, "(module (func (result i32) i64.const 1))").unwrap_err();
    assert!(format!("{err:#}").contains("type mismatch"), "{err:#}");
    // A proposal turned off in the configuration is an unsupported proposal.
    let tail_call = "(module (func (param i32)) (func (return_call 0 (i32.const 1))))";
    Module::new(&engine, tail_call).unwrap();
    let mut config = Config::new();
    config.wasm_tail_call(false);
    let err = Module::new(&Engine::new(&config).unwrap(), tail_call).unwrap_err();
    assert!(
        format!("{err:#}").contains("unsupported proposal"),
        "{err:#}"
    );
    Module::new(&engine, "(module (memory i64 1))").unwrap();
    let mut config = Config::new();
    config.wasm_memory64(false);
    let err = Module::new(&Engine::new(&config).unwrap(), "(module (memory i64 1))").unwrap_err();
    assert!(
        format!("{err:#}").contains("unsupported proposal"),
        "{err:#}"
    );
    Module::new(&engine, "(module (tag))").unwrap();
    let mut config = Config::new();
    config.wasm_exceptions(false);
    let err = Module::new(&Engine::new(&config).unwrap(), "(module (tag))").unwrap_err();
    assert!(
        format!("{err:#}").contains("unsupported proposal"),
        "{err:#}"
    );
    let err = Module::new(&engine, "(module (type (struct)))").unwrap_err();
    assert!(
        format!("{err:#}").contains("unsupported proposal"),
        "{err:#}"
    );
    let err = Module::new(&engine, "(module (memory 1 1 shared))").unwrap_err();
    assert!(
        format!("{err:#}").contains("unsupported proposal"),
        "{err:#}"
    );
    let err = Module::new(&engine, "(module (func").unwrap_err();
    assert!(format!("{err:#}").contains("expected"), "{err:#}");
    let err = Module::new(&engine, "(component)").unwrap_err();
    assert!(format!("{err:#}").contains("component"), "{err:#}");
}

#[test]
fn large_modules_compile_in_parallel_and_sequentially() {
    let mut wat = String::from("(module (func $f0 (result i32) i32.const 0)\n");
    for i in 1..300 {
        wat.push_str(&format!(
            "(func $f{i} (export \"f{i}\") (result i32) call $f{} i32.const 1 i32.add)\n",
            i - 1
        ));
    }
    wat.push(')');
    for parallel in [true, false] {
        let mut config = Config::new();
        config.parallel_compilation(parallel);
        let engine = Engine::new(&config).unwrap();
        let module = Module::new(&engine, &wat).unwrap();
        assert_eq!(module.text_relocations().unwrap(), 0);
        let mut store = Store::new(&engine, ());
        let instance = Instance::new(&mut store, &module, &[]).unwrap();
        let f = instance
            .get_typed_func::<(), i32>(&mut store, "f299")
            .unwrap();
        assert_eq!(f.call(&mut store, ()).unwrap(), 299);
    }
}
