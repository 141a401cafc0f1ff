//! A Rust host embedding a component: it provides the host import `enrich` (taking and
//! returning a record with a string), calls the component's exports through the typed and
//! the dynamic APIs, then precompiles the component and loads the artifact back.
//!
//! Run from the repository root: `cargo run -p fact --example host`.

use anyhow::{Context, Result};
use fact::component::{Component, ComponentType, Lift, Linker, Lower, Val};
use fact::{Engine, Store};

/// The component's `person` record, mapped to a Rust struct.
#[derive(ComponentType, Lift, Lower, Clone, Debug, PartialEq)]
#[component(record)]
struct Person {
    name: String,
    age: u32,
}

/// What the host keeps between calls.
#[derive(Default)]
struct Host {
    enriched: u32,
}

fn main() -> Result<()> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/greeter.wat");
    let engine = Engine::default();
    let component = Component::from_file(&engine, path).context("compiling greeter.wat")?;

    println!("imports:");
    for (name, ty) in component.imports() {
        println!("  {name}: {ty}");
    }
    println!("exports:");
    for (name, ty) in component.exports() {
        println!("  {name}: {ty}");
    }

    // The host import: typed parameters and results.
    let mut linker = Linker::<Host>::new(&engine);
    linker
        .root()
        .func_wrap("enrich", |mut store, (p,): (Person,)| {
            store.data_mut().enriched += 1;
            Ok((Person {
                name: format!("Dr. {}", p.name),
                age: p.age + 1,
            },))
        })?;

    let mut store = Store::new(&engine, Host::default());
    let instance = linker.instantiate(&mut store, &component)?;

    // Typed: checked once, then called with Rust values.
    let introduce = instance.get_typed_func::<(Person,), (Person,)>(&mut store, "introduce")?;
    let (p,) = introduce.call(
        &mut store,
        (Person {
            name: "Ada".into(),
            age: 36,
        },),
    )?;
    println!("introduce(Ada, 36) = {p:?}");
    assert_eq!(p.name, "Dr. Ada");

    // Dynamic: values whose types are found at run time.
    let name_length = instance
        .get_func(&mut store, "name-length")
        .context("no `name-length` export")?;
    let mut out = [Val::U32(0)];
    name_length.call(&mut store, &[Val::String("Grace Hopper".into())], &mut out)?;
    println!("name-length(\"Grace Hopper\") = {:?}", out[0]);
    println!("the host enriched {} person(s)", store.data().enriched);

    // Ahead of time: serialize, then load the artifact without compiling.
    let artifact = component.serialize()?;
    // SAFETY: the artifact was produced by this engine just above.
    let loaded = unsafe { Component::deserialize(&engine, &artifact)? };
    let mut store = Store::new(&engine, Host::default());
    let instance = linker.instantiate(&mut store, &loaded)?;
    let introduce = instance.get_typed_func::<(Person,), (Person,)>(&mut store, "introduce")?;
    let (q,) = introduce.call(
        &mut store,
        (Person {
            name: "Alan".into(),
            age: 41,
        },),
    )?;
    println!(
        "from a {} KiB precompiled artifact: introduce(Alan, 41) = {q:?}",
        artifact.len() / 1024
    );
    Ok(())
}
