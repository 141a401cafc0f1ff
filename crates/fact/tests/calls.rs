//! Calls between Rust and wasm in both directions: typed and dynamic, multi-value,
//! references, and the API objects (memories, tables, globals, linker).

use fact::*;

#[test]
fn multi_value_in_both_directions() {
    let engine = Engine::default();
    let module = Module::new(
        &engine,
        r#"(module
            (import "host" "split" (func $split (param i64) (result i32 i32 f64)))
            (func (export "three") (param i32 i64 f32) (result f32 i64 i32)
              local.get 2 local.get 1 local.get 0)
            (func (export "via_host") (param i64) (result i32 i32 f64)
              local.get 0 call $split)
            (func (export "many") (result i32 i32 i32 i32 i32 i32 i32 i32 i32 i32)
              i32.const 1 i32.const 2 i32.const 3 i32.const 4 i32.const 5
              i32.const 6 i32.const 7 i32.const 8 i32.const 9 i32.const 10))"#,
    )
    .unwrap();
    let mut store = Store::new(&engine, ());
    let mut linker = Linker::new(&engine);
    linker
        .func_wrap("host", "split", |x: i64| {
            ((x >> 32) as i32, x as i32, x as f64 / 2.0)
        })
        .unwrap();
    let instance = linker.instantiate(&mut store, &module).unwrap();

    let three = instance
        .get_typed_func::<(i32, i64, f32), (f32, i64, i32)>(&mut store, "three")
        .unwrap();
    assert_eq!(three.call(&mut store, (1, 2, 3.5)).unwrap(), (3.5, 2, 1));

    let via = instance
        .get_typed_func::<i64, (i32, i32, f64)>(&mut store, "via_host")
        .unwrap();
    assert_eq!(
        via.call(&mut store, 0x1_0000_0002).unwrap(),
        (1, 2, 2147483649.0)
    );

    let many = instance.get_func(&mut store, "many").unwrap();
    let mut results = vec![Val::I32(0); 10];
    many.call(&mut store, &[], &mut results).unwrap();
    let got: Vec<i32> = results.iter().map(|v| v.i32().unwrap()).collect();
    assert_eq!(got, (1..=10).collect::<Vec<_>>());

    // Typed views must match exactly.
    assert!(instance
        .get_typed_func::<(i32, i64), (f32, i64, i32)>(&mut store, "three")
        .is_err());
}

#[test]
fn dynamic_calls_with_every_value_kind() {
    let engine = Engine::default();
    let module = Module::new(
        &engine,
        r#"(module
            (func $id (export "id") (param i32 i64 f32 f64 v128 funcref externref)
                     (result i32 i64 f32 f64 v128 funcref externref)
              local.get 0 local.get 1 local.get 2 local.get 3 local.get 4 local.get 5 local.get 6))"#,
    )
    .unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let id = instance.get_func(&mut store, "id").unwrap();
    let ext = ExternRef::new(&mut store, String::from("payload"));
    let params = [
        Val::I32(-1),
        Val::I64(i64::MIN),
        Val::F32(f32::NAN.to_bits() | 1),
        Val::F64(1.5f64.to_bits()),
        Val::V128(V128(0x0102_0304_0506_0708_090a_0b0c_0d0e_0f10)),
        Val::FuncRef(Some(id)),
        Val::ExternRef(Some(ext)),
    ];
    let mut results: Vec<Val> = params.iter().map(|p| Val::default_for(p.ty())).collect();
    id.call(&mut store, &params, &mut results).unwrap();
    assert_eq!(results[0].i32(), Some(-1));
    assert_eq!(results[1].i64(), Some(i64::MIN));
    assert!(matches!(results[2], Val::F32(b) if b == f32::NAN.to_bits() | 1));
    assert_eq!(results[3].f64(), Some(1.5));
    assert!(matches!(
        results[4],
        Val::V128(V128(0x0102_0304_0506_0708_090a_0b0c_0d0e_0f10))
    ));
    let Val::FuncRef(Some(f)) = results[5] else {
        panic!()
    };
    assert_eq!(f.ty(&store), id.ty(&store));
    let Val::ExternRef(Some(e)) = results[6] else {
        panic!()
    };
    assert_eq!(
        e.data(&store).unwrap().downcast_ref::<String>().unwrap(),
        "payload"
    );

    // Wrong arity and wrong types are errors, not crashes.
    assert!(id.call(&mut store, &params[..3], &mut results).is_err());
    let mut bad = params.clone();
    bad[0] = Val::I64(0);
    assert!(id.call(&mut store, &bad, &mut results).is_err());
}

#[test]
fn objects_of_another_store_are_rejected() {
    let engine = Engine::default();
    let module = Module::new(&engine, r#"(module (func (export "f") (param funcref)))"#).unwrap();
    let mut a = Store::new(&engine, ());
    let mut b = Store::new(&engine, ());
    let ia = Instance::new(&mut a, &module, &[]).unwrap();
    let ib = Instance::new(&mut b, &module, &[]).unwrap();
    let fa = ia.get_func(&mut a, "f").unwrap();
    let fb = ib.get_func(&mut b, "f").unwrap();
    let err = fa
        .call(&mut a, &[Val::FuncRef(Some(fb))], &mut [])
        .unwrap_err();
    assert!(err.to_string().contains("wrong store"), "{err}");
    assert!(fb.call(&mut a, &[Val::FuncRef(None)], &mut []).is_err());
}

#[test]
fn memories_tables_and_globals() {
    let engine = Engine::default();
    let module = Module::new(
        &engine,
        r#"(module
            (import "env" "mem" (memory 1 4))
            (import "env" "g" (global $g (mut i32)))
            (import "env" "t" (table 2 funcref))
            (memory $own (export "own") 1)
            (func (export "load") (param i32) (result i32) local.get 0 i32.load8_u)
            (func (export "bump") global.get $g i32.const 1 i32.add global.set $g)
            (func (export "size") (result i32) memory.size)
            (func (export "grow") (param i32) (result i32) local.get 0 memory.grow)
            (func $f (export "f") (result i32) i32.const 9)
            (elem declare func $f)
            (func (export "set") (param i32) local.get 0 ref.func $f table.set 0))"#,
    )
    .unwrap();
    let mut store = Store::new(&engine, ());
    let mem = Memory::new(&mut store, MemoryType::new(1, Some(4))).unwrap();
    let g = Global::new(
        &mut store,
        GlobalType {
            content: ValType::I32,
            mutable: true,
        },
        Val::I32(41),
    )
    .unwrap();
    let t = Table::new(
        &mut store,
        TableType::new(RefType::FUNCREF, 2, None),
        Val::FuncRef(None),
    )
    .unwrap();
    let instance = Instance::new(&mut store, &module, &[mem.into(), g.into(), t.into()]).unwrap();

    mem.write(&mut store, 100, &[7, 8, 9]).unwrap();
    let load = instance
        .get_typed_func::<i32, i32>(&mut store, "load")
        .unwrap();
    assert_eq!(load.call(&mut store, 101).unwrap(), 8);
    assert!(mem.write(&mut store, 65535, &[1, 2]).is_err());

    instance
        .get_typed_func::<(), ()>(&mut store, "bump")
        .unwrap()
        .call(&mut store, ())
        .unwrap();
    assert_eq!(g.get(&mut store).i32(), Some(42));
    g.set(&mut store, Val::I32(1)).unwrap();
    assert!(g.set(&mut store, Val::I64(1)).is_err());

    let grow = instance
        .get_typed_func::<i32, i32>(&mut store, "grow")
        .unwrap();
    assert_eq!(grow.call(&mut store, 2).unwrap(), 1);
    assert_eq!(mem.size(&store), 3);
    assert_eq!(grow.call(&mut store, 2).unwrap(), -1, "above the maximum");
    assert_eq!(mem.grow(&mut store, 1).unwrap(), 3);
    assert_eq!(mem.data(&store).len(), 4 * 65536);
    assert!(mem.grow(&mut store, 1).is_err());

    assert!(t.get(&mut store, 1).unwrap().i32().is_none());
    instance
        .get_typed_func::<i32, ()>(&mut store, "set")
        .unwrap()
        .call(&mut store, 1)
        .unwrap();
    let Some(Val::FuncRef(Some(f))) = t.get(&mut store, 1) else {
        panic!()
    };
    assert_eq!(
        f.typed::<(), i32>(&store)
            .unwrap()
            .call(&mut store, ())
            .unwrap(),
        9
    );
    assert_eq!(t.grow(&mut store, 3, Val::FuncRef(None)).unwrap(), 2);
    assert_eq!(t.size(&store), 5);
    assert!(t.set(&mut store, 9, Val::FuncRef(None)).is_err());

    let own = instance.get_memory(&mut store, "own").unwrap();
    assert_eq!(own.data_size(&store), 65536);
}

#[test]
fn linker_errors_name_the_import_and_types() {
    let engine = Engine::default();
    let module = Module::new(&engine, r#"(module (import "m" "f" (func (param i32))))"#).unwrap();
    let mut store = Store::new(&engine, ());
    let mut linker: Linker<()> = Linker::new(&engine);
    let err = linker.instantiate(&mut store, &module).unwrap_err();
    assert!(err.to_string().contains("unknown import: `m::f`"), "{err}");
    linker.func_wrap("m", "f", |_: i64| {}).unwrap();
    let err = linker.instantiate(&mut store, &module).unwrap_err();
    let text = format!("{err:#}");
    assert!(
        text.contains("incompatible import type for `m::f`"),
        "{text}"
    );
    assert!(
        text.contains("(func (param i32))") && text.contains("(func (param i64))"),
        "{text}"
    );
    assert!(
        linker.func_wrap("m", "f", |_: i32| {}).is_err(),
        "no shadowing by default"
    );
    linker.allow_shadowing(true);
    linker.func_wrap("m", "f", |_: i32| {}).unwrap();
    linker.instantiate(&mut store, &module).unwrap();
}

#[test]
fn instances_link_to_each_other() {
    let engine = Engine::default();
    let a = Module::new(
        &engine,
        r#"(module (func (export "inc") (param i32) (result i32) local.get 0 i32.const 1 i32.add)
                   (table (export "tab") 1 funcref) (elem (i32.const 0) 0))"#,
    )
    .unwrap();
    let b = Module::new(
        &engine,
        r#"(module (import "a" "inc" (func $inc (param i32) (result i32)))
                   (import "a" "tab" (table 1 funcref))
                   (type $t (func (param i32) (result i32)))
                   (func (export "twice") (param i32) (result i32) local.get 0 call $inc call $inc)
                   (func (export "indirect") (param i32) (result i32) local.get 0 i32.const 0 call_indirect (type $t)))"#,
    )
    .unwrap();
    let mut store = Store::new(&engine, ());
    let mut linker = Linker::new(&engine);
    linker.module(&mut store, "a", &a).unwrap();
    let ib = linker.instantiate(&mut store, &b).unwrap();
    let twice = ib.get_typed_func::<i32, i32>(&mut store, "twice").unwrap();
    assert_eq!(twice.call(&mut store, 5).unwrap(), 7);
    let ind = ib
        .get_typed_func::<i32, i32>(&mut store, "indirect")
        .unwrap();
    assert_eq!(ind.call(&mut store, 5).unwrap(), 6);
}

#[test]
fn host_functions_see_the_caller() {
    let engine = Engine::default();
    let module = Module::new(
        &engine,
        r#"(module (import "h" "sum" (func $sum (param i32 i32) (result i32)))
                   (memory (export "memory") 1)
                   (data (i32.const 8) "\01\02\03\04")
                   (func (export "f") (result i32) i32.const 8 i32.const 4 call $sum))"#,
    )
    .unwrap();
    let mut store = Store::new(&engine, 0usize);
    let mut linker = Linker::new(&engine);
    linker
        .func_wrap(
            "h",
            "sum",
            |mut caller: Caller<'_, usize>, ptr: i32, len: i32| -> anyhow::Result<i32> {
                let mem = caller
                    .get_export("memory")
                    .and_then(Extern::into_memory)
                    .unwrap();
                let bytes = mem.data(&caller)[ptr as usize..][..len as usize].to_vec();
                *caller.data_mut() += 1;
                Ok(bytes.iter().map(|b| *b as i32).sum())
            },
        )
        .unwrap();
    let instance = linker.instantiate(&mut store, &module).unwrap();
    let f = instance.get_typed_func::<(), i32>(&mut store, "f").unwrap();
    assert_eq!(f.call(&mut store, ()).unwrap(), 10);
    assert_eq!(*store.data(), 1);
}

#[test]
fn dynamic_host_functions() {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let ty = FuncType::new([ValType::I32, ValType::F64], [ValType::F64]);
    let f = Func::new(&mut store, ty, |_, params, results| {
        results[0] = Val::from(params[0].i32().unwrap() as f64 * params[1].f64().unwrap());
        Ok(())
    })
    .unwrap();
    let module = Module::new(
        &engine,
        r#"(module (import "" "f" (func $f (param i32 f64) (result f64)))
                   (func (export "g") (result f64) i32.const 3 f64.const 1.5 call $f))"#,
    )
    .unwrap();
    let instance = Instance::new(&mut store, &module, &[f.into()]).unwrap();
    let g = instance.get_typed_func::<(), f64>(&mut store, "g").unwrap();
    assert_eq!(g.call(&mut store, ()).unwrap(), 4.5);
    // Called directly from the host too.
    let mut out = [Val::F64(0)];
    f.call(&mut store, &[Val::I32(2), Val::from(2.0f64)], &mut out)
        .unwrap();
    assert_eq!(out[0].f64(), Some(4.0));
    // A host function returning the wrong type is an error.
    let bad = Func::new(&mut store, FuncType::new([], [ValType::I32]), |_, _, r| {
        r[0] = Val::I64(0);
        Ok(())
    })
    .unwrap();
    assert!(bad.call(&mut store, &[], &mut [Val::I32(0)]).is_err());
}

#[test]
fn sixty_four_bit_memories_and_tables() {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    // A 64-bit memory made by the host grows past 4 GiB (pages are reserved, not
    // touched), and wasm sees the same size through 64-bit indices.
    let memory = Memory::new(&mut store, MemoryType::new64(1, Some(70_000))).unwrap();
    assert!(memory.ty(&store).memory64);
    assert_eq!(memory.grow(&mut store, 65_536).unwrap(), 1);
    assert_eq!(memory.size(&store), 65_537);
    assert!(memory.data_size(&store) as u64 > u64::from(u32::MAX));
    let mut table_ty = TableType::new(RefType::FUNCREF, 3, None);
    table_ty.table64 = true;
    let table = Table::new(&mut store, table_ty, Val::FuncRef(None)).unwrap();
    assert_eq!(table.grow(&mut store, 2, Val::FuncRef(None)).unwrap(), 3);
    let module = Module::new(
        &engine,
        r#"(module
          (import "" "m" (memory i64 1))
          (import "" "t" (table i64 1 funcref))
          (func (export "size") (result i64 i64) (memory.size) (table.size))
          (func (export "poke") (param i64 i32) (i32.store8 (local.get 0) (local.get 1)))
          (func (export "grow") (result i64) (memory.grow (i64.const 1))))"#,
    )
    .unwrap();
    let instance = Instance::new(&mut store, &module, &[memory.into(), table.into()]).unwrap();
    let size = instance
        .get_typed_func::<(), (i64, i64)>(&mut store, "size")
        .unwrap();
    assert_eq!(size.call(&mut store, ()).unwrap(), (65_537, 5));
    // A store just past 4 GiB lands where the host sees it.
    let poke = instance
        .get_typed_func::<(i64, i32), ()>(&mut store, "poke")
        .unwrap();
    let far = (1u64 << 32) + 7;
    poke.call(&mut store, (far as i64, 42)).unwrap();
    assert_eq!(memory.data(&store)[far as usize], 42);
    let err = poke.call(&mut store, (65_537 << 16, 1)).unwrap_err();
    assert!(
        format!("{err:#}").contains("out of bounds memory access"),
        "{err:#}"
    );
    let grow = instance
        .get_typed_func::<(), i64>(&mut store, "grow")
        .unwrap();
    assert_eq!(grow.call(&mut store, ()).unwrap(), 65_537);
    // 64-bit and 32-bit memories do not match each other's imports.
    let err = Instance::new(
        &mut store,
        &Module::new(&engine, r#"(module (import "" "m" (memory 1)))"#).unwrap(),
        &[memory.into()],
    )
    .unwrap_err();
    assert!(
        format!("{err:#}").contains("incompatible import type"),
        "{err:#}"
    );
}
