//! Keyed artifacts (`Config::artifact_key`): made and loaded under one key, refused under
//! another or without one (and unkeyed ones refused by a keyed engine), and loaded from a
//! file without reading it again once authenticated.

use fact::component::Component;
use fact::*;

const FIB: &str = r#"(module (func $fib (export "fib") (param i32) (result i32)
  (if (result i32) (i32.lt_u (local.get 0) (i32.const 2))
    (then (local.get 0))
    (else (i32.add (call $fib (i32.sub (local.get 0) (i32.const 1)))
                   (call $fib (i32.sub (local.get 0) (i32.const 2))))))))"#;

fn engine(key: Option<[u8; 32]>) -> Engine {
    let mut config = Config::new();
    if let Some(key) = key {
        config.artifact_key(key);
    }
    Engine::new(&config).unwrap()
}

fn fib(engine: &Engine, module: &Module, n: i32) -> i32 {
    let mut store = Store::new(engine, ());
    let instance = Instance::new(&mut store, module, &[]).unwrap();
    let fib = instance
        .get_typed_func::<i32, i32>(&mut store, "fib")
        .unwrap();
    fib.call(&mut store, n).unwrap()
}

#[test]
fn a_key_admits_only_its_own_artifacts() {
    let keyed = engine(Some([7; 32]));
    let other = engine(Some([8; 32]));
    let plain = engine(None);
    let artifact = Module::new(&keyed, FIB).unwrap().serialize().unwrap();
    let unkeyed = Module::new(&plain, FIB).unwrap().serialize().unwrap();

    // SAFETY (all deserializations below): artifacts made just above by these engines.
    let module = unsafe { Module::deserialize(&keyed, &artifact) }.unwrap();
    assert_eq!(fib(&keyed, &module, 10), 55);

    let err = unsafe { Module::deserialize(&other, &artifact) }.unwrap_err();
    assert!(
        format!("{err:#}").contains("authentication failed"),
        "{err:#}"
    );
    let err = unsafe { Module::deserialize(&plain, &artifact) }.unwrap_err();
    assert!(format!("{err:#}").contains("artifact is keyed"), "{err:#}");
    let err = unsafe { Module::deserialize(&keyed, &unkeyed) }.unwrap_err();
    assert!(format!("{err:#}").contains("not keyed"), "{err:#}");

    // Components too.
    let wat = r#"(component
      (core module $m (func (export "f") (result i32) (i32.const 3)))
      (core instance $i (instantiate $m))
      (func (export "f") (result u32) (canon lift (core func $i "f"))))"#;
    let bytes = Component::new(&keyed, wat).unwrap().serialize().unwrap();
    assert!(unsafe { Component::deserialize(&keyed, &bytes) }.is_ok());
    assert!(unsafe { Component::deserialize(&other, &bytes) }.is_err());
    assert!(unsafe { Component::deserialize(&plain, &bytes) }.is_err());
}

#[test]
fn any_altered_byte_fails_authentication() {
    let keyed = engine(Some([7; 32]));
    let artifact = Module::new(&keyed, FIB).unwrap().serialize().unwrap();
    for i in (0..artifact.len()).step_by(61) {
        let mut bad = artifact.clone();
        bad[i] ^= 0x04;
        assert!(
            unsafe { Module::deserialize(&keyed, &bad) }.is_err(),
            "byte {i}"
        );
    }
}

#[test]
fn a_keyed_file_is_read_once() {
    let keyed = engine(Some([9; 32]));
    let artifact = Module::new(&keyed, FIB).unwrap().serialize().unwrap();
    let path = std::env::temp_dir().join(format!("fact-keyed-{}.cwasm", std::process::id()));
    std::fs::write(&path, &artifact).unwrap();
    // SAFETY: made just above by this engine.
    let module = unsafe { Module::deserialize_file(&keyed, &path) }.unwrap();
    // Whoever can write the file afterwards changes nothing that runs.
    let mut garbage = artifact.clone();
    for b in garbage.iter_mut().skip(4096) {
        *b = 0xcc;
    }
    std::fs::write(&path, &garbage).unwrap();
    assert_eq!(fib(&keyed, &module, 15), 610);
    std::fs::remove_file(&path).unwrap();
}
