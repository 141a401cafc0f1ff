//! Typed function references at the API: values checked against `(ref $t)` parameters
//! and globals by subtyping, engine-wide type ids in exported types, host function types
//! that must use engine ids, and import matching of host functions.

use fact::*;

const MODULE: &str = r#"(module
  (type $unary (func (param i32) (result i32)))
  (type $other (func (param i64) (result i64)))
  (func $double (export "double") (type $unary) (i32.mul (local.get 0) (i32.const 2)))
  (func (export "wide") (type $other) (local.get 0))
  (func (export "apply") (param $f (ref $unary)) (param i32) (result i32)
    (call_ref $unary (local.get 1) (local.get $f)))
  (global (export "g") (mut (ref null $unary)) (ref.null $unary)))"#;

fn setup() -> (Store<()>, Instance) {
    let engine = Engine::default();
    let module = Module::new(&engine, MODULE).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    (store, instance)
}

#[test]
fn a_typed_reference_parameter_accepts_functions_of_its_type_only() {
    let (mut store, instance) = setup();
    let apply = instance.get_func(&mut store, "apply").unwrap();
    let double = instance.get_func(&mut store, "double").unwrap();
    let wide = instance.get_func(&mut store, "wide").unwrap();
    let mut out = [Val::I32(0)];

    apply
        .call(
            &mut store,
            &[Val::FuncRef(Some(double)), Val::I32(21)],
            &mut out,
        )
        .unwrap();
    assert_eq!(out[0].i32(), Some(42));

    let err = apply
        .call(&mut store, &[Val::FuncRef(None), Val::I32(1)], &mut out)
        .unwrap_err();
    assert!(
        format!("{err}").contains("argument 0 has type null funcref"),
        "{err}"
    );
    let err = apply
        .call(
            &mut store,
            &[Val::FuncRef(Some(wide)), Val::I32(1)],
            &mut out,
        )
        .unwrap_err();
    assert!(format!("{err}").contains("argument 0"), "{err}");
}

#[test]
fn exported_types_name_engine_type_ids() {
    let (mut store, instance) = setup();
    let apply = instance.get_func(&mut store, "apply").unwrap();
    let double = instance.get_func(&mut store, "double").unwrap();
    let ValType::Ref(param) = apply.ty(&store).params[0] else {
        panic!("apply takes a reference");
    };
    assert!(!param.nullable);
    let HeapType::Engine(id) = param.heap else {
        panic!("a concrete heap type in engine form, got {:?}", param.heap);
    };
    // The same type id as the function `double` has: one type, one id.
    let global = instance.get_global(&mut store, "g").unwrap();
    let ValType::Ref(content) = global.ty(&store).content else {
        panic!("a reference global");
    };
    assert_eq!(content.heap, HeapType::Engine(id));
    global.set(&mut store, Val::FuncRef(Some(double))).unwrap();
    let wide = instance.get_func(&mut store, "wide").unwrap();
    let err = global
        .set(&mut store, Val::FuncRef(Some(wide)))
        .unwrap_err();
    assert!(
        format!("{err}").contains("does not match the global's type"),
        "{err}"
    );
}

#[test]
fn host_function_types_must_use_engine_ids() {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let ty = FuncType::new([ValType::Ref(RefType::new(true, HeapType::Module(0)))], []);
    let err = Func::new(&mut store, ty, |_, _, _| Ok(())).unwrap_err();
    assert!(
        format!("{err}").contains("cannot refer to module type 0"),
        "{err}"
    );
    let ty = FuncType::new(
        [ValType::Ref(RefType::new(true, HeapType::Engine(9999)))],
        [],
    );
    let err = Func::new(&mut store, ty, |_, _, _| Ok(())).unwrap_err();
    assert!(
        format!("{err}").contains("not a type of this engine"),
        "{err}"
    );
}

#[test]
fn a_host_function_satisfies_a_final_function_type_import() {
    let engine = Engine::default();
    let module = Module::new(
        &engine,
        r#"(module
          (type $t (func (result i32)))
          (import "host" "f" (func $f (type $t)))
          (elem declare func $f)
          (func (export "run") (result i32) (call_ref $t (ref.func $f))))"#,
    )
    .unwrap();
    let mut store = Store::new(&engine, ());
    let f = Func::wrap(&mut store, || 5i32).unwrap();
    let instance = Instance::new(&mut store, &module, &[Extern::Func(f)]).unwrap();
    let run = instance
        .get_typed_func::<(), i32>(&mut store, "run")
        .unwrap();
    assert_eq!(run.call(&mut store, ()).unwrap(), 5);

    // A non-final type with the same shape is a different type.
    let module = Module::new(
        &engine,
        r#"(module
          (type $t (sub (func (result i32))))
          (import "host" "f" (func (type $t))))"#,
    )
    .unwrap();
    let err = Instance::new(&mut store, &module, &[Extern::Func(f)]).unwrap_err();
    assert!(
        format!("{err:#}").contains("incompatible import type"),
        "{err:#}"
    );
}
