//! Exception handling through the embedding API: exceptions that leave wasm are
//! `ThrownException` errors with the exception pending in the store, host functions throw
//! into wasm with `throw`, traps are never catchable, and caught exceptions are freed.

use fact::*;

const WAT: &str = r#"(module $m
  (import "host" "throw" (func $host_throw (param i32)))
  (import "host" "tag" (tag $host_tag (param i32)))
  (tag $e (export "e") (param i32))
  (tag $empty (export "empty"))
  (func (export "throw") (param i32) (throw $e (local.get 0)))
  (func (export "catch-host") (param i32) (result i32)
    (block $h (result i32)
      (try_table (catch $host_tag $h) (call $host_throw (local.get 0)))
      (i32.const -1)))
  (func (export "trap") (result i32)
    (block $h
      (try_table (catch_all $h) (unreachable)))
    (i32.const 0))
  ;; `n` exceptions thrown and caught, alternately by `catch` and `catch_all`.
  (func (export "loop") (param $n i64) (result i64) (local $caught i64)
    (loop $l
      (block $h (result i32)
        (try_table (catch $e $h) (throw $e (i32.const 1)))
        (i32.const 0))
      (drop)
      (block $all
        (try_table (catch_all $all) (throw $empty)))
      (local.set $caught (i64.add (local.get $caught) (i64.const 2)))
      (br_if $l (i64.ne (local.tee $n (i64.sub (local.get $n) (i64.const 2))) (i64.const 0))))
    (local.get $caught))
  ;; An exception held as an `exnref` and rethrown.
  (func (export "rethrow") (param i32) (result i32)
    (block $h (result i32)
      (try_table (result i32) (catch $e $h)
        (block $ref (result i32 exnref)
          (try_table (catch_ref $e $ref) (throw $e (local.get 0)))
          (unreachable))
        (throw_ref))))
  ;; An exception that unwinds many frames.
  (func $deep (param i32)
    (if (i32.eqz (local.get 0)) (then (throw $e (i32.const 99))))
    (call $deep (i32.sub (local.get 0) (i32.const 1))))
  (func (export "deep") (param i32) (result i32)
    (block $h (result i32)
      (try_table (catch $e $h) (call $deep (local.get 0)))
      (i32.const -1)))
)"#;

struct Fixture {
    store: Store<()>,
    instance: Instance,
    host_tag: Tag,
}

fn setup() -> Fixture {
    let engine = Engine::default();
    let module = Module::new(&engine, WAT).unwrap();
    let mut store = Store::new(&engine, ());
    let host_tag = Tag::new(&mut store, &FuncType::new([ValType::I32], [])).unwrap();
    let host_throw = Func::wrap(&mut store, move |mut caller: Caller<'_, ()>, n: i32| {
        let exn = ExnRef::new(&mut caller, &host_tag, &[Val::I32(n)])?;
        Ok(caller.throw::<()>(exn)?)
    })
    .unwrap();
    let instance =
        Instance::new(&mut store, &module, &[host_throw.into(), host_tag.into()]).unwrap();
    Fixture {
        store,
        instance,
        host_tag,
    }
}

#[test]
fn an_uncaught_exception_is_a_thrown_exception_error_naming_its_tag() {
    let mut f = setup();
    let throw = f
        .instance
        .get_typed_func::<i32, ()>(&mut f.store, "throw")
        .unwrap();
    let err = throw.call(&mut f.store, 7).unwrap_err();
    let thrown = err
        .downcast_ref::<ThrownException>()
        .expect("a ThrownException");
    assert_eq!(thrown.tag_description(), "tag 1 of module `m`");
    assert!(err.to_string().contains("tag 1 of module `m`"), "{err}");

    // The exception is the store's pending exception, with its tag and payload.
    let exn = f
        .store
        .take_pending_exception()
        .expect("a pending exception");
    let e = f.instance.get_tag(&mut f.store, "e").unwrap();
    assert!(Tag::eq(&exn.tag(&f.store).unwrap(), &e, &f.store));
    assert!(matches!(
        exn.fields(&mut f.store).unwrap()[..],
        [Val::I32(7)]
    ));
    assert!(f.store.take_pending_exception().is_none());
}

#[test]
fn a_host_function_throws_into_its_wasm_caller() {
    let mut f = setup();
    let catch = f
        .instance
        .get_typed_func::<i32, i32>(&mut f.store, "catch-host")
        .unwrap();
    assert_eq!(catch.call(&mut f.store, 5).unwrap(), 5);
    assert_eq!(catch.call(&mut f.store, -9).unwrap(), -9);
    assert!(f.store.take_pending_exception().is_none());
}

#[test]
fn the_host_catches_and_rethrows_what_wasm_throws() {
    let mut f = setup();
    let e = f.instance.get_tag(&mut f.store, "e").unwrap();
    let throw = f.instance.get_func(&mut f.store, "throw").unwrap();
    // A host function that calls wasm, catches its exception, and throws a new one of
    // the host's tag into its own caller.
    let host_tag = f.host_tag;
    let translate = Func::wrap(&mut f.store, move |mut caller: Caller<'_, ()>, n: i32| {
        let err = throw
            .call(&mut caller, &[Val::I32(n)], &mut [])
            .unwrap_err();
        assert!(err.is::<ThrownException>());
        let exn = caller.take_pending_exception().unwrap();
        assert!(Tag::eq(&exn.tag(&caller)?, &e, &caller));
        let Val::I32(v) = exn.fields(&mut caller)?[0] else {
            panic!("an i32 payload");
        };
        let new = ExnRef::new(&mut caller, &host_tag, &[Val::I32(v * 2)])?;
        Ok(caller.throw::<()>(new)?)
    })
    .unwrap();
    let err = translate
        .call(&mut f.store, &[Val::I32(21)], &mut [])
        .unwrap_err();
    assert!(err.is::<ThrownException>(), "{err:#}");
    let exn = f.store.take_pending_exception().unwrap();
    assert!(Tag::eq(&exn.tag(&f.store).unwrap(), &host_tag, &f.store));
    assert!(matches!(
        exn.fields(&mut f.store).unwrap()[..],
        [Val::I32(42)]
    ));
}

#[test]
fn traps_are_not_catchable() {
    let mut f = setup();
    let trap = f
        .instance
        .get_typed_func::<(), i32>(&mut f.store, "trap")
        .unwrap();
    let err = trap.call(&mut f.store, ()).unwrap_err();
    assert_eq!(
        err.downcast_ref::<Trap>(),
        Some(&Trap::UnreachableCodeReached)
    );
    assert!(f.store.take_pending_exception().is_none());
}

#[test]
fn exnref_values_are_rethrown() {
    let mut f = setup();
    let rethrow = f
        .instance
        .get_typed_func::<i32, i32>(&mut f.store, "rethrow")
        .unwrap();
    assert_eq!(rethrow.call(&mut f.store, 12).unwrap(), 12);
}

#[test]
fn an_exception_unwinds_ten_thousand_frames() {
    let mut f = setup();
    let deep = f
        .instance
        .get_typed_func::<i32, i32>(&mut f.store, "deep")
        .unwrap();
    assert_eq!(deep.call(&mut f.store, 10_000).unwrap(), 99);
}

/// The resident set size of this process, in bytes.
fn rss() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap();
    let pages: usize = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
    pages * 4096
}

#[test]
fn ten_million_exceptions_are_caught_in_flat_memory() {
    let mut f = setup();
    let run = f
        .instance
        .get_typed_func::<i64, i64>(&mut f.store, "loop")
        .unwrap();
    // Warm up, so that allocator pools are in place before measuring.
    assert_eq!(run.call(&mut f.store, 10_000).unwrap(), 10_000);
    let before = rss();
    assert_eq!(run.call(&mut f.store, 10_000_000).unwrap(), 10_000_000);
    let grown = rss().saturating_sub(before);
    // Ten million leaked objects would be hundreds of MiB.
    assert!(grown < 8 << 20, "memory grew by {grown} bytes");
}

const EXNREF_WAT: &str = r#"(module
  (tag $e (export "e") (param i32))
  (global $kept (export "kept") (mut exnref) (ref.null exn))
  ;; Returns an exception as an `exnref`.
  (func (export "make") (param i32) (result exnref) (local $x exnref)
    (block $h (result i32 exnref)
      (try_table (catch_ref $e $h) (throw $e (local.get 0)))
      (unreachable))
    (local.set $x)
    (drop)
    (local.get $x))
  ;; Rethrows an `exnref` and catches it, returning its payload.
  (func (export "open") (param exnref) (result i32)
    (block $h (result i32)
      (try_table (catch $e $h) (throw_ref (local.get 0)))
      (unreachable)))
  ;; Keeps a new `exnref` in a global, replacing the last one.
  (func (export "keep") (param i32)
    (block $h (result i32 exnref)
      (try_table (catch_ref $e $h) (throw $e (local.get 0)))
      (unreachable))
    (global.set $kept)
    (drop))
  (func (export "kept-value") (result i32)
    (block $h (result i32)
      (try_table (catch $e $h) (throw_ref (global.get $kept)))
      (unreachable)))
)"#;

#[test]
fn exnref_values_cross_the_host_boundary() {
    let engine = Engine::default();
    let module = Module::new(&engine, EXNREF_WAT).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let make = instance.get_func(&mut store, "make").unwrap();
    let mut results = [Val::I32(0)];
    make.call(&mut store, &[Val::I32(17)], &mut results)
        .unwrap();
    let Val::ExnRef(Some(exn)) = results[0].clone() else {
        panic!("an exnref, got {:?}", results[0]);
    };
    let e = instance.get_tag(&mut store, "e").unwrap();
    assert!(Tag::eq(&exn.tag(&store).unwrap(), &e, &store));
    assert!(matches!(
        exn.fields(&mut store).unwrap()[..],
        [Val::I32(17)]
    ));

    // Back into wasm, which rethrows and catches it (the host still holds it, so the
    // catch does not free it).
    let open = instance.get_func(&mut store, "open").unwrap();
    let mut out = [Val::I32(0)];
    open.call(&mut store, &[Val::ExnRef(Some(exn.clone()))], &mut out)
        .unwrap();
    assert!(matches!(out[0], Val::I32(17)));
    assert!(matches!(
        exn.fields(&mut store).unwrap()[..],
        [Val::I32(17)]
    ));

    // A host-made exception, through a global.
    let mine = ExnRef::new(&mut store, &e, &[Val::I32(5)]).unwrap();
    let kept = instance.get_global(&mut store, "kept").unwrap();
    kept.set(&mut store, Val::ExnRef(Some(mine))).unwrap();
    let value = instance
        .get_typed_func::<(), i32>(&mut store, "kept-value")
        .unwrap();
    assert_eq!(value.call(&mut store, ()).unwrap(), 5);
    assert!(matches!(kept.get(&mut store), Val::ExnRef(Some(_))));

    // The wrong payload is refused.
    assert!(ExnRef::new(&mut store, &e, &[Val::I64(5)]).is_err());
    assert!(ExnRef::new(&mut store, &e, &[]).is_err());
}

#[test]
fn exceptions_held_as_exnrefs_are_collected() {
    let engine = Engine::default();
    let module = Module::new(&engine, EXNREF_WAT).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let keep = instance
        .get_typed_func::<i32, ()>(&mut store, "keep")
        .unwrap();
    let value = instance
        .get_typed_func::<(), i32>(&mut store, "kept-value")
        .unwrap();
    for i in 0..10_000 {
        keep.call(&mut store, i).unwrap();
    }
    let before = rss();
    for i in 0..1_000_000 {
        keep.call(&mut store, i).unwrap();
    }
    let grown = rss().saturating_sub(before);
    // The exception in the global survives every collection.
    assert_eq!(value.call(&mut store, ()).unwrap(), 999_999);
    // A million uncollected objects would be about a hundred MiB.
    assert!(grown < 8 << 20, "memory grew by {grown} bytes");
}

#[test]
fn exceptions_can_be_turned_off() {
    let mut config = Config::new();
    config.wasm_exceptions(false);
    let engine = Engine::new(&config).unwrap();
    let err = Module::new(&engine, "(module (tag))").unwrap_err();
    assert!(format!("{err:#}").contains("exception"), "{err:#}");
}

#[test]
fn handlers_survive_serialization() {
    let engine = Engine::default();
    let bytes = Module::new(&engine, EXNREF_WAT)
        .unwrap()
        .serialize()
        .unwrap();
    // SAFETY: made just above by this engine.
    let module = unsafe { Module::deserialize(&engine, &bytes) }.unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let keep = instance
        .get_typed_func::<i32, ()>(&mut store, "keep")
        .unwrap();
    let value = instance
        .get_typed_func::<(), i32>(&mut store, "kept-value")
        .unwrap();
    keep.call(&mut store, 31).unwrap();
    assert_eq!(value.call(&mut store, ()).unwrap(), 31);
}
