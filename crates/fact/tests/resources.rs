//! Resources: guest-defined ones with destructors, host-defined ones with host state, and
//! `own`/`borrow` handles moving between two components and the host.

use fact::component::{Component, Linker, Resource, ResourceAny, ResourceTable, ResourceType, Val};
use fact::{Engine, Store, Trap};

/// `$Maker` defines resource `thing` (rep = 100 + serial) and counts live things; `$User`
/// imports it and exercises moves, loans and drops through fused adapters.
const TWO_COMPONENTS: &str = r#"(component
  (component $Maker
    (core module $Dtor
      (table (export "t") 1 funcref)
      (func (export "dtor") (param i32) (call_indirect (param i32) (local.get 0) (i32.const 0))))
    (core instance $dtor (instantiate $Dtor))
    (type $T (resource (rep i32) (dtor (core func $dtor "dtor"))))
    (export $thing "thing" (type $T))
    (core func $new (canon resource.new $T))
    (core func $rep (canon resource.rep $T))
    (core module $M
      (import "" "t" (table 1 funcref))
      (import "" "new" (func $new (param i32) (result i32)))
      (global $made (mut i32) (i32.const 0))
      (global $live (mut i32) (i32.const 0))
      (func (export "make") (result i32)
        (global.set $made (i32.add (global.get $made) (i32.const 1)))
        (global.set $live (i32.add (global.get $live) (i32.const 1)))
        (call $new (i32.add (i32.const 100) (global.get $made))))
      ;; a borrow of its own resource arrives as the representation
      (func (export "peek") (param i32) (result i32) (local.get 0))
      (func (export "live") (result i32) (global.get $live))
      (func $drop (param i32)
        (global.set $live (i32.sub (global.get $live) (i32.const 1))))
      (elem (i32.const 0) $drop))
    (core instance $m (instantiate $M
      (with "" (instance (export "t" (table $dtor "t")) (export "new" (func $new))))))
    (func (export "make") (result (own $thing)) (canon lift (core func $m "make")))
    (func (export "peek") (param "t" (borrow $thing)) (result u32) (canon lift (core func $m "peek")))
    (func (export "live") (result u32) (canon lift (core func $m "live"))))

  (component $Keeper
    (import "thing" (type $T (sub resource)))
    (core func $drop (canon resource.drop $T))
    (core module $K
      (import "" "drop" (func $drop (param i32)))
      ;; a borrow of a foreign resource arrives as a handle that must be dropped
      (func (export "polite") (param i32) (result i32) (call $drop (local.get 0)) (local.get 0))
      (func (export "rude") (param i32) (result i32) (local.get 0)))
    (core instance $k (instantiate $K (with "" (instance (export "drop" (func $drop))))))
    (func (export "polite") (param "t" (borrow $T)) (result u32) (canon lift (core func $k "polite")))
    (func (export "rude") (param "t" (borrow $T)) (result u32) (canon lift (core func $k "rude"))))

  (component $User
    (import "maker" (instance $maker
      (export "thing" (type $T (sub resource)))
      (export "make" (func (result (own $T))))
      (export "peek" (func (param "t" (borrow $T)) (result u32)))
      (export "live" (func (result u32)))))
    (alias export $maker "thing" (type $T))
    (import "keeper" (instance $keeper
      (export "polite" (func (param "t" (borrow $T)) (result u32)))
      (export "rude" (func (param "t" (borrow $T)) (result u32)))))
    (core func $make (canon lower (func $maker "make")))
    (core func $peek (canon lower (func $maker "peek")))
    (core func $live (canon lower (func $maker "live")))
    (core func $polite (canon lower (func $keeper "polite")))
    (core func $rude (canon lower (func $keeper "rude")))
    (core func $drop (canon resource.drop $T))
    (core module $U
      (import "" "make" (func $make (result i32)))
      (import "" "peek" (func $peek (param i32) (result i32)))
      (import "" "live" (func $live (result i32)))
      (import "" "polite" (func $polite (param i32) (result i32)))
      (import "" "rude" (func $rude (param i32) (result i32)))
      (import "" "drop" (func $drop (param i32)))
      ;; make two things, read one through a borrow, drop both: returns
      ;; peek * 1000 + live-before-drops * 10 + live-after-drops
      (func (export "scenario") (result i32)
        (local $a i32) (local $b i32) (local $r i32)
        (local.set $a (call $make))
        (local.set $b (call $make))
        ;; handle indices start at 1 in the user's own table
        (if (i32.ne (local.get $a) (i32.const 1)) (then unreachable))
        (if (i32.ne (local.get $b) (i32.const 2)) (then unreachable))
        (local.set $r (i32.mul (call $peek (local.get $b)) (i32.const 1000)))
        (local.set $r (i32.add (local.get $r) (i32.mul (call $live) (i32.const 10))))
        (call $drop (local.get $a))
        (call $drop (local.get $b))
        (i32.add (local.get $r) (call $live)))
      (func (export "lend-politely") (result i32)
        (local $a i32) (local $r i32)
        (local.set $a (call $make))
        (local.set $r (call $polite (local.get $a)))
        ;; the loan has ended: dropping works
        (call $drop (local.get $a))
        (local.get $r))
      (func (export "lend-rudely") (result i32)
        (call $rude (call $make)))
      (func (export "drop-twice")
        (local $a i32)
        (local.set $a (call $make))
        (call $drop (local.get $a))
        (call $drop (local.get $a))))
    (core instance $u (instantiate $U (with "" (instance
      (export "make" (func $make)) (export "peek" (func $peek)) (export "live" (func $live))
      (export "polite" (func $polite)) (export "rude" (func $rude)) (export "drop" (func $drop))))))
    (func (export "scenario") (result u32) (canon lift (core func $u "scenario")))
    (func (export "lend-politely") (result u32) (canon lift (core func $u "lend-politely")))
    (func (export "lend-rudely") (result u32) (canon lift (core func $u "lend-rudely")))
    (func (export "drop-twice") (canon lift (core func $u "drop-twice"))))

  (instance $maker (instantiate $Maker))
  (instance $keeper (instantiate $Keeper (with "thing" (type $maker "thing"))))
  (instance $user (instantiate $User
    (with "maker" (instance $maker))
    (with "keeper" (instance $keeper))))
  (export "scenario" (func $user "scenario"))
  (export "lend-politely" (func $user "lend-politely"))
  (export "lend-rudely" (func $user "lend-rudely"))
  (export "drop-twice" (func $user "drop-twice"))
  (export $thing "thing" (type $maker "thing"))
  (export "make" (func $maker "make") (func (result (own $thing))))
  (export "peek" (func $maker "peek") (func (param "t" (borrow $thing)) (result u32)))
  (export "live" (func $maker "live")))"#;

fn instantiate(engine: &Engine, component: &Component) -> (Store<()>, fact::component::Instance) {
    let mut store = Store::new(engine, ());
    let instance = Linker::new(engine)
        .instantiate(&mut store, component)
        .unwrap();
    (store, instance)
}

#[test]
fn guest_resources_across_components() {
    let engine = Engine::default();
    let component = Component::new(&engine, TWO_COMPONENTS).unwrap();

    let (mut store, instance) = instantiate(&engine, &component);
    let scenario = instance
        .get_typed_func::<(), (u32,)>(&mut store, "scenario")
        .unwrap();
    // peek(b) = 102, two live before the drops, none after (the destructor ran twice).
    assert_eq!(scenario.call(&mut store, ()).unwrap(), (102_020,));

    let polite = instance
        .get_typed_func::<(), (u32,)>(&mut store, "lend-politely")
        .unwrap();
    // The keeper saw a handle in its own table: index 1.
    assert_eq!(polite.call(&mut store, ()).unwrap(), (1,));

    let rude = instance
        .get_typed_func::<(), (u32,)>(&mut store, "lend-rudely")
        .unwrap();
    let err = rude.call(&mut store, ()).unwrap_err();
    assert_eq!(
        err.downcast_ref::<Trap>(),
        Some(&Trap::BorrowsRemain),
        "{err:?}"
    );

    let (mut store, instance) = instantiate(&engine, &component);
    let twice = instance
        .get_typed_func::<(), ()>(&mut store, "drop-twice")
        .unwrap();
    let err = twice.call(&mut store, ()).unwrap_err();
    assert_eq!(
        err.downcast_ref::<Trap>(),
        Some(&Trap::UnknownHandle),
        "{err:?}"
    );
    assert!(
        format!("{err:#}").contains("unknown handle index 1"),
        "{err:#}"
    );
}

#[test]
fn guest_resources_held_by_the_host() {
    let engine = Engine::default();
    let component = Component::new(&engine, TWO_COMPONENTS).unwrap();
    let (mut store, instance) = instantiate(&engine, &component);
    let make = instance
        .get_typed_func::<(), (ResourceAny,)>(&mut store, "make")
        .unwrap();
    let peek = instance.get_func(&mut store, "peek").unwrap();
    let live = instance
        .get_typed_func::<(), (u32,)>(&mut store, "live")
        .unwrap();

    let (a,) = make.call(&mut store, ()).unwrap();
    let (b,) = make.call(&mut store, ()).unwrap();
    assert!(a.owned());
    assert_eq!(live.call(&mut store, ()).unwrap(), (2,));
    let mut out = [Val::U32(0)];
    peek.call(&mut store, &[Val::Resource(b)], &mut out)
        .unwrap();
    assert_eq!(out[0], Val::U32(102));

    // Dropping from the host runs the guest's destructor.
    a.resource_drop(&mut store).unwrap();
    assert_eq!(live.call(&mut store, ()).unwrap(), (1,));
    b.resource_drop(&mut store).unwrap();
    assert_eq!(live.call(&mut store, ()).unwrap(), (0,));
    // A handle cannot be dropped twice.
    assert!(a.resource_drop(&mut store).is_err());
}

/// A host resource `counter` (state in a `ResourceTable`), used by a guest.
const HOST_RESOURCE: &str = r#"(component
  (import "counter" (type $C (sub resource)))
  (import "new-counter" (func $new (param "start" u32) (result (own $C))))
  (import "bump" (func $bump (param "c" (borrow $C)) (result u32)))
  (import "consume" (func $consume (param "c" (own $C)) (result u32)))
  (core func $new (canon lower (func $new)))
  (core func $bump (canon lower (func $bump)))
  (core func $consume (canon lower (func $consume)))
  (core func $drop (canon resource.drop $C))
  (core module $M
    (import "" "new" (func $new (param i32) (result i32)))
    (import "" "bump" (func $bump (param i32) (result i32)))
    (import "" "consume" (func $consume (param i32) (result i32)))
    (import "" "drop" (func $drop (param i32)))
    (func (export "run") (result i32)
      (local $a i32) (local $b i32) (local $r i32)
      (local.set $a (call $new (i32.const 10)))
      (local.set $b (call $new (i32.const 20)))
      (drop (call $bump (local.get $a)))
      (local.set $r (call $bump (local.get $a)))
      (call $drop (local.get $a))
      ;; r = 12; consume(b) = 20
      (i32.add (i32.mul (local.get $r) (i32.const 100)) (call $consume (local.get $b))))
    ;; a borrowed handle must be dropped before returning
    (func (export "bump-host") (param i32) (result i32)
      (local $r i32)
      (local.set $r (call $bump (local.get 0)))
      (call $drop (local.get 0))
      (local.get $r)))
  (core instance $m (instantiate $M (with "" (instance
    (export "new" (func $new)) (export "bump" (func $bump))
    (export "consume" (func $consume)) (export "drop" (func $drop))))))
  (func (export "run") (result u32) (canon lift (core func $m "run")))
  (func (export "bump-host") (param "c" (borrow $C)) (result u32)
    (canon lift (core func $m "bump-host"))))"#;

struct Counter(u32);

struct Host {
    table: ResourceTable,
    dropped: Vec<u32>,
}

#[test]
fn host_resources() {
    let engine = Engine::default();
    let component = Component::new(&engine, HOST_RESOURCE).unwrap();
    let mut linker = Linker::<Host>::new(&engine);
    let mut root = linker.root();
    root.resource(
        "counter",
        ResourceType::host::<Counter>(),
        |mut store, rep| {
            let host = store.data_mut();
            let c = host.table.delete(Resource::<Counter>::new_own(rep))?;
            host.dropped.push(c.0);
            Ok(())
        },
    )
    .unwrap();
    root.func_wrap("new-counter", |mut store, (start,): (u32,)| {
        Ok((store.data_mut().table.push(Counter(start))?,))
    })
    .unwrap();
    root.func_wrap("bump", |mut store, (c,): (Resource<Counter>,)| {
        assert!(!c.owned());
        let counter = store.data_mut().table.get_mut(&c)?;
        counter.0 += 1;
        Ok((counter.0,))
    })
    .unwrap();
    root.func_wrap("consume", |mut store, (c,): (Resource<Counter>,)| {
        assert!(c.owned());
        Ok((store.data_mut().table.delete(c)?.0,))
    })
    .unwrap();

    let mut store = Store::new(
        &engine,
        Host {
            table: ResourceTable::new(),
            dropped: Vec::new(),
        },
    );
    let instance = linker.instantiate(&mut store, &component).unwrap();
    let run = instance
        .get_typed_func::<(), (u32,)>(&mut store, "run")
        .unwrap();
    assert_eq!(run.call(&mut store, ()).unwrap(), (1220,));
    // `a` was dropped by the guest (the host destructor ran); `b` was consumed.
    assert_eq!(store.data().dropped, vec![12]);
    assert!(store.data().table.is_empty());

    // The host lends one of its own resources to the guest for a call.
    let c = store.data_mut().table.push(Counter(41)).unwrap();
    let bump = instance
        .get_typed_func::<(Resource<Counter>,), (u32,)>(&mut store, "bump-host")
        .unwrap();
    let borrowed = Resource::<Counter>::new_borrow(c.rep());
    assert_eq!(bump.call(&mut store, (borrowed,)).unwrap(), (42,));
    assert_eq!(store.data().table.get(&c).unwrap().0, 42);
}

struct Other;

/// An imported instance whose type makes resource `b` equal to `a`: the host must supply
/// the same resource type for both.
#[test]
fn resources_declared_equal_must_be_the_same() {
    let engine = Engine::default();
    let component = Component::new(
        &engine,
        r#"(component
          (import "i" (instance
            (export "a" (type (sub resource)))
            (export "b" (type (eq 0))))))"#,
    )
    .unwrap();
    let link = |b_type: ResourceType| {
        let mut linker = Linker::<()>::new(&engine);
        let mut i = linker.instance("i").unwrap();
        i.resource("a", ResourceType::host::<Counter>(), |_, _| Ok(()))
            .unwrap();
        i.resource("b", b_type, |_, _| Ok(())).unwrap();
        let mut store = Store::new(&engine, ());
        linker.instantiate(&mut store, &component).map(|_| ())
    };
    link(ResourceType::host::<Counter>()).unwrap();
    let err = link(ResourceType::host::<Other>()).unwrap_err();
    assert!(
        format!("{err:#}").contains("mismatched resource types"),
        "{err:#}"
    );
}
