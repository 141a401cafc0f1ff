//! Component figures: compile, deserialize and instantiate times; fused guest-to-guest
//! calls in a loop inside the guest (ns per call, MB/s for bulk data); host-to-guest typed
//! call overhead. Run with `cargo bench -p fact --bench component`; it prints, it asserts
//! nothing. Set `FACT_BENCH_COMPONENT=path.wasm` to also time a real component (for
//! example one built by `componentize-py`).

use fact::component::{Component, Linker};
use fact::{Engine, Store};
use std::time::{Duration, Instant};

/// Runs `f` repeatedly for about `budget` and returns the mean time per run.
fn measure(budget: Duration, mut f: impl FnMut()) -> Duration {
    f();
    let start = Instant::now();
    let mut runs = 0u32;
    while start.elapsed() < budget {
        f();
        runs += 1;
    }
    start.elapsed() / runs.max(1)
}

/// A callee component whose exports consume a value and return a small number, and a
/// caller component whose `loop-*` exports call them `n` times from inside wasm.
const FUSED_LOOPS: &str = r#"(component
  (component $Callee
    (core module $M
      (memory (export "mem") 48)
      ;; Every allocation gets the same buffer: the callee keeps nothing.
      (func (export "realloc") (param i32 i32 i32 i32) (result i32) (i32.const 65536))
      (func (export "id") (param i32) (result i32) (local.get 0))
      (func (export "len") (param i32 i32) (result i32) (local.get 1)))
    (core instance $m (instantiate $M))
    (func (export "id") (param "x" u32) (result u32) (canon lift (core func $m "id")))
    (func (export "str8") (param "s" string) (result u32)
      (canon lift (core func $m "len") (memory (core memory $m "mem")) (realloc (core func $m "realloc"))))
    (func (export "str16") (param "s" string) (result u32)
      (canon lift (core func $m "len") string-encoding=utf16
        (memory (core memory $m "mem")) (realloc (core func $m "realloc"))))
    (func (export "bytes") (param "b" (list u8)) (result u32)
      (canon lift (core func $m "len") (memory (core memory $m "mem")) (realloc (core func $m "realloc")))))

  (component $Caller
    (import "id" (func $id (param "x" u32) (result u32)))
    (import "str8" (func $str8 (param "s" string) (result u32)))
    (import "str16" (func $str16 (param "s" string) (result u32)))
    (import "bytes" (func $bytes (param "b" (list u8)) (result u32)))
    (core module $Mem (memory (export "mem") 17))
    (core instance $mem (instantiate $Mem))
    (core func $id (canon lower (func $id)))
    (core func $str8 (canon lower (func $str8) (memory (core memory $mem "mem"))))
    (core func $str16 (canon lower (func $str16) (memory (core memory $mem "mem"))))
    (core func $bytes (canon lower (func $bytes) (memory (core memory $mem "mem"))))
    (core module $Main
      (import "" "mem" (memory 17))
      (import "" "id" (func $id (param i32) (result i32)))
      (import "" "str8" (func $str8 (param i32 i32) (result i32)))
      (import "" "str16" (func $str16 (param i32 i32) (result i32)))
      (import "" "bytes" (func $bytes (param i32 i32) (result i32)))
      ;; 1 MiB of ASCII: valid UTF-8 for every string length.
      (func $start (memory.fill (i32.const 0) (i32.const 0x61) (i32.const 0x100000)))
      (start $start)
      (func (export "loop-id") (param $n i32) (result i32)
        (local $acc i32)
        (block $done (loop $next
          (br_if $done (i32.eqz (local.get $n)))
          (local.set $acc (i32.add (local.get $acc) (call $id (local.get $n))))
          (local.set $n (i32.sub (local.get $n) (i32.const 1)))
          (br $next)))
        (local.get $acc))
      (func (export "loop-str8") (param $n i32) (param $len i32) (result i32)
        (local $acc i32)
        (block $done (loop $next
          (br_if $done (i32.eqz (local.get $n)))
          (local.set $acc (i32.add (local.get $acc) (call $str8 (i32.const 0) (local.get $len))))
          (local.set $n (i32.sub (local.get $n) (i32.const 1)))
          (br $next)))
        (local.get $acc))
      (func (export "loop-str16") (param $n i32) (param $len i32) (result i32)
        (local $acc i32)
        (block $done (loop $next
          (br_if $done (i32.eqz (local.get $n)))
          (local.set $acc (i32.add (local.get $acc) (call $str16 (i32.const 0) (local.get $len))))
          (local.set $n (i32.sub (local.get $n) (i32.const 1)))
          (br $next)))
        (local.get $acc))
      (func (export "loop-bytes") (param $n i32) (param $len i32) (result i32)
        (local $acc i32)
        (block $done (loop $next
          (br_if $done (i32.eqz (local.get $n)))
          (local.set $acc (i32.add (local.get $acc) (call $bytes (i32.const 0) (local.get $len))))
          (local.set $n (i32.sub (local.get $n) (i32.const 1)))
          (br $next)))
        (local.get $acc)))
    (core instance $main (instantiate $Main (with "" (instance
      (export "mem" (memory $mem "mem"))
      (export "id" (func $id)) (export "str8" (func $str8))
      (export "str16" (func $str16)) (export "bytes" (func $bytes))))))
    (func (export "loop-id") (param "n" u32) (result u32) (canon lift (core func $main "loop-id")))
    (func (export "loop-str8") (param "n" u32) (param "len" u32) (result u32)
      (canon lift (core func $main "loop-str8")))
    (func (export "loop-str16") (param "n" u32) (param "len" u32) (result u32)
      (canon lift (core func $main "loop-str16")))
    (func (export "loop-bytes") (param "n" u32) (param "len" u32) (result u32)
      (canon lift (core func $main "loop-bytes"))))

  (instance $callee (instantiate $Callee))
  (instance $caller (instantiate $Caller
    (with "id" (func $callee "id")) (with "str8" (func $callee "str8"))
    (with "str16" (func $callee "str16")) (with "bytes" (func $callee "bytes"))))
  (export "loop-id" (func $caller "loop-id"))
  (export "loop-str8" (func $caller "loop-str8"))
  (export "loop-str16" (func $caller "loop-str16"))
  (export "loop-bytes" (func $caller "loop-bytes"))
  (export "id" (func $callee "id")))"#;

/// A component of `n` callee/caller pairs, each with its own record-and-string adapter:
/// many core instances, many adapters, one artifact.
fn big_component(n: usize) -> String {
    let mut wat = String::from("(component\n");
    for i in 0..n {
        wat.push_str(&format!(
            r#"(component $Callee{i}
  (core module $M
    (memory (export "mem") 1)
    (func (export "realloc") (param i32 i32 i32 i32) (result i32) (i32.const 64))
    (func (export "f") (param i32 i32 i32 i32 i32 i32) (result i32) (i32.add (local.get 1) (local.get 5))))
  (core instance $m (instantiate $M))
  (type $r' (record (field "name" string) (field "tags" (list u16)) (field "n" u32)))
  (export $r "r" (type $r'))
  (func (export "f") (param "x" $r) (param "k" u32) (result u32)
    (canon lift (core func $m "f") (memory (core memory $m "mem")) (realloc (core func $m "realloc")))))
(component $Caller{i}
  (type $r2 (record (field "name" string) (field "tags" (list u16)) (field "n" u32)))
  (import "r" (type $r (eq $r2)))
  (import "f" (func $f (param "x" $r) (param "k" u32) (result u32)))
  (core module $Mem (memory (export "mem") 1))
  (core instance $mem (instantiate $Mem))
  (core func $f (canon lower (func $f) (memory (core memory $mem "mem"))))
  (core module $Main
    (import "" "f" (func $f (param i32 i32 i32 i32 i32 i32) (result i32)))
    (func (export "go") (result i32) (call $f (i32.const 0) (i32.const 4) (i32.const 8) (i32.const 2) (i32.const 3) (i32.const {i}))))
  (core instance $main (instantiate $Main (with "" (instance (export "f" (func $f))))))
  (func (export "go") (result u32) (canon lift (core func $main "go"))))
(instance $callee{i} (instantiate $Callee{i}))
(instance $caller{i} (instantiate $Caller{i}
  (with "r" (type $callee{i} "r")) (with "f" (func $callee{i} "f"))))
(export "go{i}" (func $caller{i} "go"))
"#
        ));
    }
    wat.push(')');
    wat
}

fn main() {
    let engine = Engine::default();

    // Compile, deserialize, instantiate.
    let fused = wat::parse_str(FUSED_LOOPS).unwrap();
    let big = wat::parse_str(big_component(100)).unwrap();
    for (what, wasm) in [
        ("fused-loop test component", &fused),
        ("100-pair component", &big),
    ] {
        let compile = measure(Duration::from_secs(2), || {
            Component::new(&engine, wasm).unwrap();
        });
        println!(
            "Component::new, {what} ({} KiB): {:.1} ms",
            wasm.len() / 1024,
            compile.as_secs_f64() * 1e3
        );
    }
    if let Ok(path) = std::env::var("FACT_BENCH_COMPONENT") {
        let wasm = std::fs::read(&path).unwrap();
        let start = Instant::now();
        match Component::new(&engine, &wasm) {
            Ok(c) => {
                let compile = start.elapsed();
                let artifact = c.serialize().unwrap();
                let load = measure(Duration::from_secs(1), || unsafe {
                    Component::deserialize(&engine, &artifact).unwrap();
                });
                println!(
                    "Component::new, {path} ({:.1} MiB): {:.0} ms; deserialize {:.2} ms",
                    wasm.len() as f64 / (1 << 20) as f64,
                    compile.as_secs_f64() * 1e3,
                    load.as_secs_f64() * 1e3
                );
            }
            Err(e) => println!("Component::new, {path}: not supported: {e:#}"),
        }
    }

    let component = Component::new(&engine, &fused).unwrap();
    let artifact = component.serialize().unwrap();
    let deserialize = measure(Duration::from_secs(1), || unsafe {
        Component::deserialize(&engine, &artifact).unwrap();
    });
    println!(
        "Component::deserialize ({} KiB artifact): {:.1} µs",
        artifact.len() / 1024,
        deserialize.as_secs_f64() * 1e6
    );
    let linker = Linker::<()>::new(&engine);
    let pre = linker.instantiate_pre(&component).unwrap();
    let mut store = Store::new(&engine, ());
    let instantiate = measure(Duration::from_secs(1), || {
        pre.instantiate(&mut store).unwrap();
    });
    println!(
        "instantiate (2 components, 4 core instances, 1 adapter module): {:.1} µs",
        instantiate.as_secs_f64() * 1e6
    );

    // Fused calls, looped inside the guest.
    let mut store = Store::new(&engine, ());
    let instance = linker.instantiate(&mut store, &component).unwrap();
    let loop_id = instance
        .get_typed_func::<(u32,), (u32,)>(&mut store, "loop-id")
        .unwrap();
    let n = 1_000_000;
    let t = measure(Duration::from_secs(2), || {
        loop_id.call(&mut store, (n,)).unwrap();
    });
    println!(
        "fused call, u32 -> u32: {:.1} ns per call",
        t.as_secs_f64() * 1e9 / n as f64
    );
    for (export, what, len, n, bytes) in [
        (
            "loop-str8",
            "16-byte string (utf8 -> utf8)",
            16u32,
            200_000u32,
            16usize,
        ),
        (
            "loop-str8",
            "64 KiB string (utf8 -> utf8)",
            65536,
            2000,
            65536,
        ),
        ("loop-bytes", "1 MiB list<u8>", 1 << 20, 200, 1 << 20),
        (
            "loop-str16",
            "64 KiB string (utf8 -> utf16)",
            65536,
            2000,
            65536,
        ),
    ] {
        let f = instance
            .get_typed_func::<(u32, u32), (u32,)>(&mut store, export)
            .unwrap();
        let t = measure(Duration::from_secs(2), || {
            f.call(&mut store, (n, len)).unwrap();
        });
        let per_call = t.as_secs_f64() / n as f64;
        println!(
            "fused call, {what}: {:.1} ns per call, {:.0} MB/s",
            per_call * 1e9,
            bytes as f64 / per_call / 1e6
        );
    }

    // Host to guest.
    let id = instance
        .get_typed_func::<(u32,), (u32,)>(&mut store, "id")
        .unwrap();
    let t = measure(Duration::from_secs(1), || {
        id.call(&mut store, (7,)).unwrap();
    });
    println!(
        "host -> guest typed call, u32 -> u32: {:.1} ns",
        t.as_secs_f64() * 1e9
    );
}
