use fact::*;

#[test]
fn add() -> Result<()> {
    let engine = Engine::default();
    let module = Module::new(
        &engine,
        r#"(module (func (export "add") (param i32 i32) (result i32)
        local.get 0 local.get 1 i32.add))"#,
    )?;
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[])?;
    let add = instance.get_typed_func::<(i32, i32), i32>(&mut store, "add")?;
    assert_eq!(add.call(&mut store, (2, 3))?, 5);
    Ok(())
}

#[test]
fn trap_and_host() -> Result<()> {
    let engine = Engine::default();
    let module = Module::new(
        &engine,
        r#"(module
        (import "host" "double" (func $double (param i32) (result i32)))
        (memory (export "mem") 1)
        (func (export "f") (param i32) (result i32) local.get 0 call $double i32.const 1 i32.add)
        (func (export "div") (param i32 i32) (result i32) local.get 0 local.get 1 i32.div_s)
        (func $r (export "rec") (param i32) (result i32) local.get 0 call $r)
        (func (export "oob") (result i32) i32.const 70000 i32.load)
        (func (export "unreach") unreachable))"#,
    )?;
    let mut store = Store::new(&engine, 0u32);
    let mut linker = Linker::new(&engine);
    linker.func_wrap("host", "double", |mut c: Caller<'_, u32>, x: i32| {
        *c.data_mut() += 1;
        x * 2
    })?;
    let instance = linker.instantiate(&mut store, &module)?;
    let f = instance.get_typed_func::<i32, i32>(&mut store, "f")?;
    assert_eq!(f.call(&mut store, 20)?, 41);
    assert_eq!(*store.data(), 1);
    let div = instance.get_typed_func::<(i32, i32), i32>(&mut store, "div")?;
    let err = div.call(&mut store, (1, 0)).unwrap_err();
    println!("{err:?}");
    assert_eq!(
        err.downcast_ref::<Trap>(),
        Some(&Trap::IntegerDivisionByZero)
    );
    let err = div.call(&mut store, (i32::MIN, -1)).unwrap_err();
    assert_eq!(err.downcast_ref::<Trap>(), Some(&Trap::IntegerOverflow));
    let rec = instance.get_typed_func::<i32, i32>(&mut store, "rec")?;
    let err = rec.call(&mut store, 1).unwrap_err();
    assert_eq!(err.downcast_ref::<Trap>(), Some(&Trap::StackOverflow));
    let oob = instance.get_typed_func::<(), i32>(&mut store, "oob")?;
    let err = oob.call(&mut store, ()).unwrap_err();
    println!("{err:?}");
    assert_eq!(err.downcast_ref::<Trap>(), Some(&Trap::MemoryOutOfBounds));
    let u = instance.get_typed_func::<(), ()>(&mut store, "unreach")?;
    let err = u.call(&mut store, ()).unwrap_err();
    assert_eq!(
        err.downcast_ref::<Trap>(),
        Some(&Trap::UnreachableCodeReached)
    );
    assert_eq!(f.call(&mut store, 1)?, 3);
    Ok(())
}
