//! Store resource limits: `Store::limiter` with `StoreLimits` or an embedder's own
//! `ResourceLimiter` bounds memory and table growth and the number of instances, tables and
//! memories; without one, tables grow as far as memory allows.

use fact::*;

const WAT: &str = r#"(module
  (memory (export "mem") 1)
  (table (export "t") 1 funcref)
  (func (export "grow-memory") (param i32) (result i32) (memory.grow (local.get 0)))
  (func (export "grow-table") (param i32) (result i32)
    (table.grow (ref.null func) (local.get 0))))"#;

struct Host {
    limits: StoreLimits,
}

fn setup(limits: StoreLimits) -> (Store<Host>, Instance) {
    let engine = Engine::default();
    let module = Module::new(&engine, WAT).unwrap();
    let mut store = Store::new(&engine, Host { limits });
    store.limiter(|host| &mut host.limits);
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    (store, instance)
}

fn grow(store: &mut Store<Host>, instance: &Instance, what: &str, n: i32) -> Result<i32> {
    let f = instance
        .get_typed_func::<i32, i32>(&mut *store, what)
        .unwrap();
    f.call(store, n)
}

#[test]
fn memory_growth_stops_at_the_limit() {
    let limits = StoreLimitsBuilder::new().memory_size(4 << 16).build();
    let (mut store, instance) = setup(limits);
    assert_eq!(grow(&mut store, &instance, "grow-memory", 3).unwrap(), 1);
    assert_eq!(grow(&mut store, &instance, "grow-memory", 1).unwrap(), -1);
    let mem = instance.get_memory(&mut store, "mem").unwrap();
    assert!(mem.grow(&mut store, 1).is_err());
    assert_eq!(mem.size(&store), 4);
}

#[test]
fn growth_beyond_the_limit_can_trap() {
    let limits = StoreLimitsBuilder::new()
        .memory_size(2 << 16)
        .table_elements(10)
        .trap_on_grow_failure(true)
        .build();
    let (mut store, instance) = setup(limits);
    let err = grow(&mut store, &instance, "grow-memory", 5).unwrap_err();
    assert!(
        format!("{err:#}").contains("forcing trap when growing memory"),
        "{err:#}"
    );
    let err = grow(&mut store, &instance, "grow-table", 50).unwrap_err();
    assert!(
        format!("{err:#}").contains("forcing trap when growing table"),
        "{err:#}"
    );
}

#[test]
fn table_growth_stops_at_the_limit() {
    let limits = StoreLimitsBuilder::new().table_elements(100).build();
    let (mut store, instance) = setup(limits);
    assert_eq!(grow(&mut store, &instance, "grow-table", 99).unwrap(), 1);
    assert_eq!(grow(&mut store, &instance, "grow-table", 1).unwrap(), -1);
}

#[test]
fn counts_of_instances_tables_and_memories_are_limited() {
    let engine = Engine::default();
    let module = Module::new(&engine, WAT).unwrap();
    let limits = StoreLimitsBuilder::new().instances(2).build();
    let mut store = Store::new(&engine, Host { limits });
    store.limiter(|host| &mut host.limits);
    Instance::new(&mut store, &module, &[]).unwrap();
    Instance::new(&mut store, &module, &[]).unwrap();
    let err = Instance::new(&mut store, &module, &[]).unwrap_err();
    assert!(
        format!("{err:#}").contains("instance count too high"),
        "{err:#}"
    );

    for (limits, what) in [
        (
            StoreLimitsBuilder::new().memories(1).build(),
            "memory count",
        ),
        (StoreLimitsBuilder::new().tables(1).build(), "table count"),
    ] {
        let mut store = Store::new(&engine, Host { limits });
        store.limiter(|host| &mut host.limits);
        Instance::new(&mut store, &module, &[]).unwrap();
        let err = Instance::new(&mut store, &module, &[]).unwrap_err();
        assert!(format!("{err:#}").contains(what), "{err:#}");
    }

    // The memories of one instantiation count together: two of them exceed a limit of one
    // even in an empty store.
    let two = Module::new(&engine, "(module (memory 1) (memory 1))").unwrap();
    let limits = StoreLimitsBuilder::new().memories(1).build();
    let mut store = Store::new(&engine, Host { limits });
    store.limiter(|host| &mut host.limits);
    let err = Instance::new(&mut store, &two, &[]).unwrap_err();
    assert!(
        format!("{err:#}").contains("memory count too high at 2"),
        "{err:#}"
    );

    // A host-made memory counts and is checked against the size limit too.
    let limits = StoreLimitsBuilder::new().memory_size(1 << 16).build();
    let mut store = Store::new(&engine, Host { limits });
    store.limiter(|host| &mut host.limits);
    let ty = MemoryType {
        limits: Limits { min: 2, max: None },
        memory64: false,
    };
    assert!(Memory::new(&mut store, ty).is_err());
}

/// An embedder's own limiter sees every request.
#[derive(Default)]
struct Recorder {
    requests: Vec<(usize, usize)>,
}

impl ResourceLimiter for Recorder {
    fn memory_growing(&mut self, current: usize, desired: usize, _: Option<usize>) -> Result<bool> {
        self.requests.push((current, desired));
        Ok(desired <= 3 << 16)
    }
    fn table_growing(&mut self, _: usize, _: usize, _: Option<usize>) -> Result<bool> {
        Ok(true)
    }
}

#[test]
fn a_custom_limiter_sees_creation_and_growth() {
    let engine = Engine::default();
    let module = Module::new(&engine, WAT).unwrap();
    let mut store = Store::new(&engine, Recorder::default());
    store.limiter(|r| r);
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let f = instance
        .get_typed_func::<i32, i32>(&mut store, "grow-memory")
        .unwrap();
    assert_eq!(f.call(&mut store, 2).unwrap(), 1);
    assert_eq!(f.call(&mut store, 1).unwrap(), -1);
    assert_eq!(
        store.data().requests,
        vec![(0, 1 << 16), (1 << 16, 3 << 16), (3 << 16, 4 << 16)]
    );
}

#[test]
fn tables_without_a_maximum_grow_past_ten_million_elements() {
    let engine = Engine::default();
    let module = Module::new(&engine, WAT).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let f = instance
        .get_typed_func::<i32, i32>(&mut store, "grow-table")
        .unwrap();
    assert_eq!(f.call(&mut store, 20_000_000).unwrap(), 1);
}
