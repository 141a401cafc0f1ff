//! Crafted artifacts: bytes of the metadata, the fact header and the ELF headers flipped,
//! with the checksum recomputed so that the corruption gets past it, then loaded,
//! instantiated and run. Deserialization trusts the code, never the metadata: every case
//! is an `Err` somewhere or runs; none panics, aborts or dies of a signal. (Most are
//! stopped by the metadata digest at the start of `.text`; see `docs/architecture.md`.)
//!
//! In keyed mode (`Config::artifact_key`) the MAC is recomputed too, as a holder of the key
//! could: what stands behind the MAC must hold as well.
//!
//! `FACT_CRAFT_CASES` (default 10,000: modules and components, keyed and not) cases run from seed
//! `FACT_CRAFT_SEED` (default 0); a failure names the seed that reproduces it.

use fact::component::{Component, Linker as ComponentLinker, Val as CVal};
use fact::*;
use fact_environ::artifact::{
    artifact_mac, checksum, ArtifactHeader, ArtifactKey, SECTION_HEADER, SECTION_META,
};
use object::{Object, ObjectSection};
use std::ops::Range;
use std::panic::{catch_unwind, AssertUnwindSafe};

const MODULE: &str = r#"(module $crafted
  (type $ii (func (param i32) (result i32)))
  (memory (export "mem") 1 4)
  (table $t 4 funcref)
  (global $g (export "g") (mut i32) (i32.const 7))
  (global $k i64 (i64.const 40))
  (tag $e (export "e") (param i32))
  (data (i32.const 16) "crafted")
  (elem (table $t) (i32.const 0) func $sq $inc)
  (func $sq (type $ii) (i32.mul (local.get 0) (local.get 0)))
  (func $inc (type $ii) (i32.add (local.get 0) (i32.const 1)))
  (func (export "indirect") (param i32 i32) (result i32)
    (call_indirect $t (type $ii) (local.get 1) (local.get 0)))
  (func (export "sum") (param i32) (result i32) (local i32)
    (block (loop
      (br_if 1 (i32.eqz (local.get 0)))
      (local.set 1 (i32.add (local.get 1) (i32.load8_u offset=16 (i32.and (local.get 0) (i32.const 7)))))
      (local.set 0 (i32.sub (local.get 0) (i32.const 1)))
      (br 0)))
    (global.set $g (local.get 1))
    (local.get 1))
  (func (export "catch") (param i32) (result i32)
    (block $h (result i32)
      (try_table (catch $e $h) (throw $e (local.get 0)))
      (i32.const -1)))
  (func (export "wide") (result i64) (global.get $k))
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
)"#;

const COMPONENT: &str = r#"(component
  (core module $M
    (memory (export "mem") 1)
    (global $bump (mut i32) (i32.const 1024))
    (func (export "realloc") (param i32 i32 i32 i32) (result i32) (local $p i32)
      (local.set $p (global.get $bump))
      (global.set $bump (i32.add (local.get $p) (i32.add (local.get 3) (i32.const 8))))
      (local.get $p))
    (func (export "echo") (param i32 i32) (result i32)
      (i32.store (i32.const 16) (local.get 0))
      (i32.store (i32.const 20) (local.get 1))
      (i32.const 16))
    (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1))))
  (core instance $m (instantiate $M))
  (func (export "echo") (param "s" string) (result string)
    (canon lift (core func $m "echo")
      (memory (core memory $m "mem")) (realloc (core func $m "realloc"))))
  (func $add (export "add") (param "a" u32) (param "b" u32) (result u32)
    (canon lift (core func $m "add")))
  (core func $ladd (canon lower (func $add)))
  (component $Inner
    (import "add" (func $add (param "a" u32) (param "b" u32) (result u32)))
    (core func $add (canon lower (func $add)))
    (core module $U
      (import "" "add" (func $add (param i32 i32) (result i32)))
      (func (export "twice") (param i32) (result i32) (call $add (local.get 0) (local.get 0))))
    (core instance $u (instantiate $U (with "" (instance (export "add" (func $add))))))
    (func (export "twice") (param "x" u32) (result u32) (canon lift (core func $u "twice"))))
  (instance $i (instantiate $Inner (with "add" (func $add))))
  (export "twice" (func $i "twice"))
)"#;

#[path = "common/seeded.rs"]
mod seeded;
use seeded::{env, Rng};

/// Where in an artifact the cases flip bytes, and where its checksum lives.
struct Layout {
    meta: Range<usize>,
    fact_header: Range<usize>,
    /// The ELF file header and the section header table.
    elf_headers: Vec<Range<usize>>,
    checksum_at: usize,
}

fn layout(image: &[u8]) -> Layout {
    let file = object::read::elf::ElfFile64::<object::Endianness>::parse(image).unwrap();
    let range = |name: &str| {
        let (start, size) = file.section_by_name(name).unwrap().file_range().unwrap();
        start as usize..(start + size) as usize
    };
    let fact_header = range(SECTION_HEADER);
    // e_shoff, e_shentsize and e_shnum of an ELF64 header.
    let shoff = u64::from_le_bytes(image[0x28..0x30].try_into().unwrap()) as usize;
    let shnum = u16::from_le_bytes(image[0x3c..0x3e].try_into().unwrap()) as usize;
    Layout {
        meta: range(SECTION_META),
        checksum_at: fact_header.start + ArtifactHeader::CHECKSUM_OFFSET,
        fact_header,
        elf_headers: vec![0..64, shoff..shoff + shnum * 64],
    }
}

/// The image with 1–3 bytes flipped where case `rng` says, and the checksum (and, with a
/// key, the MAC) fixed.
fn craft(image: &[u8], layout: &Layout, key: Option<&ArtifactKey>, rng: &mut Rng) -> Vec<u8> {
    let mut bad = image.to_vec();
    for _ in 0..1 + rng.below(3) {
        let region = match rng.below(10) {
            0 => layout.fact_header.clone(),
            1 => layout.elf_headers[rng.below(2)].clone(),
            _ => layout.meta.clone(),
        };
        let at = region.start + rng.below(region.len());
        let mask = match rng.below(3) {
            0 => 1u8 << rng.below(8),
            _ => (rng.next() as u8).max(1),
        };
        bad[at] ^= mask;
    }
    if let Some(key) = key {
        let mac = artifact_mac(key, &bad, layout.fact_header.start);
        let at = layout.fact_header.start + ArtifactHeader::MAC_OFFSET;
        bad[at..at + 32].copy_from_slice(mac.as_bytes());
    }
    let sum = checksum(&bad, layout.checksum_at);
    bad[layout.checksum_at..layout.checksum_at + 4].copy_from_slice(&sum.to_le_bytes());
    bad
}

const KEY: ArtifactKey = [0x42; 32];

fn engine(key: Option<ArtifactKey>) -> Engine {
    let mut config = Config::new();
    // Crafted metadata may make code loop for long: fuel bounds every run.
    config.consume_fuel(true);
    if let Some(key) = key {
        config.artifact_key(key);
    }
    Engine::new(&config).unwrap()
}

/// Loads, instantiates and runs a crafted module artifact; errors are fine.
fn run_module(engine: &Engine, bytes: &[u8]) -> Result<()> {
    // SAFETY: the code is the compiler's; only metadata and headers were changed.
    let module = unsafe { Module::deserialize(engine, bytes)? };
    let mut store = Store::new(engine, ());
    store.set_fuel(1_000_000)?;
    let instance = Instance::new(&mut store, &module, &[])?;
    for (name, args) in [
        ("indirect", vec![Val::I32(5), Val::I32(1)]),
        ("sum", vec![Val::I32(100)]),
        ("catch", vec![Val::I32(3)]),
        ("wide", vec![]),
        ("grow", vec![Val::I32(1)]),
    ] {
        let Some(f) = instance.get_func(&mut store, name) else {
            continue;
        };
        let ty = f.ty(&store);
        let mut results: Vec<Val> = ty.results.iter().map(|t| Val::default_for(*t)).collect();
        let _ = f.call(&mut store, &args, &mut results);
    }
    if let Some(g) = instance.get_global(&mut store, "g") {
        let _ = g.get(&mut store);
    }
    if let Some(m) = instance.get_memory(&mut store, "mem") {
        let _ = m.data(&store).iter().map(|b| *b as u64).sum::<u64>();
    }
    Ok(())
}

/// Loads, instantiates and runs a crafted component artifact; errors are fine.
fn run_component(engine: &Engine, bytes: &[u8]) -> Result<()> {
    // SAFETY: as in `run_module`.
    let component = unsafe { Component::deserialize(engine, bytes)? };
    let mut store = Store::new(engine, ());
    store.set_fuel(1_000_000)?;
    let linker = ComponentLinker::<()>::new(engine);
    let instance = linker.instantiate(&mut store, &component)?;
    for (name, args) in [
        ("echo", vec![CVal::String("crafted".into())]),
        ("add", vec![CVal::U32(2), CVal::U32(3)]),
        ("twice", vec![CVal::U32(21)]),
    ] {
        let Some(f) = instance.get_func(&mut store, name) else {
            continue;
        };
        let mut results = vec![CVal::U32(0); f.results(&store).len()];
        let _ = f.call(&mut store, &args, &mut results);
    }
    Ok(())
}

/// One kind of case: an engine and the pristine artifact it made.
struct Kind {
    engine: Engine,
    key: Option<ArtifactKey>,
    component: bool,
    image: Vec<u8>,
    layout: Layout,
}

#[test]
fn crafted_artifacts_are_errors_or_run() {
    let mut kinds = Vec::new();
    for key in [None, Some(KEY)] {
        let engine = engine(key);
        for component in [false, true] {
            let image = if component {
                Component::new(&engine, COMPONENT)
                    .unwrap()
                    .serialize()
                    .unwrap()
            } else {
                Module::new(&engine, MODULE).unwrap().serialize().unwrap()
            };
            // The pristine artifacts work.
            if component {
                run_component(&engine, &image).unwrap();
            } else {
                run_module(&engine, &image).unwrap();
            }
            let layout = layout(&image);
            kinds.push(Kind {
                engine: engine.clone(),
                key,
                component,
                image,
                layout,
            });
        }
    }

    let cases = env("FACT_CRAFT_CASES", 10_000);
    let seed = env("FACT_CRAFT_SEED", 0);
    let (mut loaded, mut panicked) = (0u64, Vec::new());
    // With `FACT_CRAFT_VERBOSE` set, every case is named before it runs (to find the one
    // that takes the process down, should one ever).
    let verbose = std::env::var_os("FACT_CRAFT_VERBOSE").is_some();
    for s in seed..seed + cases {
        let mut rng = Rng(s);
        let kind = &kinds[(s % 4) as usize];
        let bad = craft(&kind.image, &kind.layout, kind.key.as_ref(), &mut rng);
        if verbose {
            eprintln!("case {s}");
        }
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            if kind.component {
                run_component(&kind.engine, &bad)
            } else {
                run_module(&kind.engine, &bad)
            }
        }));
        match outcome {
            Ok(Ok(())) => loaded += 1,
            Ok(Err(_)) => {}
            Err(_) => panicked.push(s),
        }
    }
    println!(
        "crafted artifacts: seeds {seed}..{}: {loaded} loaded and ran, {} panicked {panicked:?}",
        seed + cases,
        panicked.len()
    );
    assert!(panicked.is_empty(), "panics at seeds {panicked:?}");
}
