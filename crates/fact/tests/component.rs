//! Components through the embedding API: typed and dynamic calls in both directions,
//! fused calls between components, traps with backtraces, precompiled artifacts.

mod common;
use fact::component::{Component, Linker, Val};
use fact::{Engine, Store, Trap, WasmBacktrace};

/// A component exporting `echo: func(x: T) -> T` for the type `ty`, implemented by
/// calling the host's `host-echo` of the same type; `flat` is the core flattening of `T`.
fn echo_component(ty: &str, flat: &[&str]) -> String {
    common::echo_component(&[("t", ty)], flat)
}

/// Sends `value` guest-ward and back through host and guest lifting and lowering.
fn round_trip(ty: &str, flat: &[&str], value: Val) {
    let engine = Engine::default();
    let component =
        Component::new(&engine, echo_component(ty, flat)).unwrap_or_else(|e| panic!("{ty}: {e:?}"));
    let mut linker = Linker::<()>::new(&engine);
    linker
        .root()
        .func_new("host-echo", |_, params, results| {
            results[0] = params[0].clone();
            Ok(())
        })
        .unwrap();
    let mut store = Store::new(&engine, ());
    let instance = linker.instantiate(&mut store, &component).unwrap();
    let echo = instance.get_func(&mut store, "echo").unwrap();
    let mut out = [Val::Bool(false)];
    echo.call(&mut store, std::slice::from_ref(&value), &mut out)
        .unwrap_or_else(|e| panic!("{ty}: {e:?}"));
    assert_eq!(out[0], value, "{ty}");
}

#[test]
fn dynamic_values_round_trip() {
    let s = |v: &str| Val::String(v.to_string());
    let b = |v: Val| Some(Box::new(v));
    round_trip("u32", &["i32"], Val::U32(0xdead_beef));
    round_trip("s8", &["i32"], Val::S8(-7));
    round_trip("u64", &["i64"], Val::U64(u64::MAX));
    round_trip("f64", &["f64"], Val::Float64(-0.25));
    round_trip("char", &["i32"], Val::Char('ß'));
    round_trip("bool", &["i32"], Val::Bool(true));
    round_trip("string", &["i32", "i32"], s("héllo, wörld ✓"));
    round_trip(
        "(list u16)",
        &["i32", "i32"],
        Val::List(vec![Val::U16(1), Val::U16(65535), Val::U16(3)]),
    );
    round_trip(
        "(list string)",
        &["i32", "i32"],
        Val::List(vec![s("a"), s(""), s("ccc")]),
    );
    round_trip(
        "(record (field \"a\" u8) (field \"b\" string) (field \"c\" f32))",
        &["i32", "i32", "i32", "f32"],
        Val::Record(vec![
            ("a".into(), Val::U8(9)),
            ("b".into(), s("bee")),
            ("c".into(), Val::Float32(1.5)),
        ]),
    );
    round_trip(
        "(tuple u64 s16)",
        &["i64", "i32"],
        Val::Tuple(vec![Val::U64(1 << 40), Val::S16(-300)]),
    );
    let variant =
        "(variant (case \"none\") (case \"num\" f32) (case \"big\" u64) (case \"text\" string))";
    let vflat = &["i32", "i64", "i32"];
    round_trip(variant, vflat, Val::Variant("none".into(), None));
    round_trip(
        variant,
        vflat,
        Val::Variant("num".into(), b(Val::Float32(2.5))),
    );
    round_trip(
        variant,
        vflat,
        Val::Variant("big".into(), b(Val::U64(u64::MAX))),
    );
    round_trip(variant, vflat, Val::Variant("text".into(), b(s("variant"))));
    round_trip("(enum \"x\" \"y\" \"z\")", &["i32"], Val::Enum("z".into()));
    round_trip("(option u32)", &["i32", "i32"], Val::Option(b(Val::U32(5))));
    round_trip("(option u32)", &["i32", "i32"], Val::Option(None));
    round_trip(
        "(result string (error u8))",
        &["i32", "i32", "i32"],
        Val::Result(Err(b(Val::U8(4)))),
    );
    round_trip(
        "(result string (error u8))",
        &["i32", "i32", "i32"],
        Val::Result(Ok(b(s("ok")))),
    );
    let labels: String = (0..32).map(|i| format!("\"f{i}\" ")).collect();
    round_trip(
        &format!("(flags {labels})"),
        &["i32"],
        Val::Flags(vec!["f0".into(), "f17".into(), "f31".into()]),
    );
    round_trip(
        "(flags \"a\" \"b\" \"c\")",
        &["i32"],
        Val::Flags(vec!["b".into()]),
    );
}

#[test]
fn typed_host_and_guest_functions() {
    let engine = Engine::default();
    let component = Component::new(&engine, echo_component("string", &["i32", "i32"])).unwrap();
    let mut linker = Linker::<Vec<String>>::new(&engine);
    linker
        .root()
        .func_wrap("host-echo", |mut store, (s,): (String,)| {
            store.data_mut().push(s.clone());
            Ok((s.to_uppercase(),))
        })
        .unwrap();
    let mut store = Store::new(&engine, Vec::new());
    let instance = linker.instantiate(&mut store, &component).unwrap();
    let echo = instance
        .get_typed_func::<(&str,), (String,)>(&mut store, "echo")
        .unwrap();
    assert_eq!(
        echo.call(&mut store, ("abc",)).unwrap(),
        ("ABC".to_string(),)
    );
    assert_eq!(echo.call(&mut store, ("",)).unwrap(), (String::new(),));
    assert_eq!(store.data(), &["abc".to_string(), String::new()]);

    // A wrong Rust type is reported when the function is typed, not when called.
    let err = instance
        .get_typed_func::<(u32,), (String,)>(&mut store, "echo")
        .unwrap_err();
    assert!(format!("{err:#}").contains("type mismatch"), "{err:#}");
    assert!(instance.get_func(&mut store, "missing").is_none());
}

#[test]
fn missing_and_mismatched_imports() {
    let engine = Engine::default();
    let component = Component::new(&engine, echo_component("u32", &["i32"])).unwrap();
    let mut store = Store::new(&engine, ());
    let err = Linker::new(&engine)
        .instantiate(&mut store, &component)
        .unwrap_err();
    assert!(format!("{err:#}").contains("host-echo"), "{err:#}");

    let mut linker = Linker::<()>::new(&engine);
    linker
        .root()
        .func_wrap("host-echo", |_, (s,): (String,)| Ok((s,)))
        .unwrap();
    let err = linker.instantiate(&mut store, &component).unwrap_err();
    assert!(format!("{err:#}").contains("host-echo"), "{err:#}");
}

/// Two components: `$Callee` exports string functions, `$Caller` imports them and is
/// called by the host; the calls between them go through fused adapters.
const FUSED: &str = r#"(component
  (component $Callee
    (core module $Mem
      (memory (export "mem") 1)
      (global $next (mut i32) (i32.const 1024))
      (func (export "realloc") (param i32 i32 i32 i32) (result i32)
        (local $p i32)
        (local.set $p (global.get $next))
        (global.set $next (i32.add (local.get $p) (local.get 3)))
        (local.get $p))
      ;; len(s): the byte length of a UTF-8 string
      (func (export "len") (param i32 i32) (result i32) (local.get 1))
      (func (export "boom") (param i32) unreachable))
    (core instance $m (instantiate $Mem))
    (func (export "len") (param "s" string) (result u32)
      (canon lift (core func $m "len") (memory (core memory $m "mem")) (realloc (core func $m "realloc"))))
    (func (export "boom") (param "x" u32) (canon lift (core func $m "boom"))))
  (component $Caller
    (import "len" (func $len (param "s" string) (result u32)))
    (import "boom" (func $boom (param "x" u32)))
    (core module $Mem
      (memory (export "mem") 1)
      (data (i32.const 100) "h\c3\a9llo")
      (data (i32.const 200) "\ff\fe")
      (func (export "realloc") (param i32 i32 i32 i32) (result i32) unreachable))
    (core instance $m (instantiate $Mem))
    (core func $len (canon lower (func $len) (memory (core memory $m "mem"))))
    (core func $boom (canon lower (func $boom)))
    (core module $Main
      (import "" "len" (func $len (param i32 i32) (result i32)))
      (import "" "boom" (func $boom (param i32)))
      (func (export "good") (result i32) (call $len (i32.const 100) (i32.const 6)))
      (func (export "bad") (result i32) (call $len (i32.const 200) (i32.const 2)))
      (func (export "oob") (result i32) (call $len (i32.const 65530) (i32.const 100)))
      (func (export "boom") (call $boom (i32.const 1))))
    (core instance $main (instantiate $Main
      (with "" (instance (export "len" (func $len)) (export "boom" (func $boom))))))
    (func (export "good") (result u32) (canon lift (core func $main "good")))
    (func (export "bad") (result u32) (canon lift (core func $main "bad")))
    (func (export "oob") (result u32) (canon lift (core func $main "oob")))
    (func (export "boom") (canon lift (core func $main "boom"))))
  (instance $callee (instantiate $Callee))
  (instance $caller (instantiate $Caller
    (with "len" (func $callee "len"))
    (with "boom" (func $callee "boom"))))
  (export "good" (func $caller "good"))
  (export "bad" (func $caller "bad"))
  (export "oob" (func $caller "oob"))
  (export "boom" (func $caller "boom")))"#;

fn fused_instance(engine: &Engine) -> (Store<()>, fact::component::Instance) {
    let component = Component::new(engine, FUSED).unwrap();
    let mut store = Store::new(engine, ());
    let instance = Linker::new(engine)
        .instantiate(&mut store, &component)
        .unwrap();
    (store, instance)
}

fn call_u32(
    store: &mut Store<()>,
    instance: &fact::component::Instance,
    name: &str,
) -> anyhow::Result<u32> {
    let f = instance.get_typed_func::<(), (u32,)>(&mut *store, name)?;
    Ok(f.call(&mut *store, ())?.0)
}

#[test]
fn fused_calls_between_components() {
    let engine = Engine::default();
    let (mut store, instance) = fused_instance(&engine);
    assert_eq!(call_u32(&mut store, &instance, "good").unwrap(), 6);
    assert_eq!(call_u32(&mut store, &instance, "good").unwrap(), 6);
}

fn trap_and_backtrace(err: &anyhow::Error) -> Trap {
    assert!(
        err.downcast_ref::<WasmBacktrace>().is_some(),
        "no backtrace: {err:?}"
    );
    *err.downcast_ref::<Trap>()
        .unwrap_or_else(|| panic!("not a trap: {err:?}"))
}

#[test]
fn adapter_traps_have_codes_and_backtraces() {
    let engine = Engine::default();
    for (name, expected) in [
        ("bad", Trap::InvalidUtf8),
        ("oob", Trap::StringOutOfBounds),
        ("boom", Trap::UnreachableCodeReached),
    ] {
        let (mut store, instance) = fused_instance(&engine);
        let err = if name == "boom" {
            let f = instance.get_typed_func::<(), ()>(&mut store, name).unwrap();
            f.call(&mut store, ()).unwrap_err()
        } else {
            call_u32(&mut store, &instance, name).unwrap_err()
        };
        assert_eq!(trap_and_backtrace(&err), expected, "{name}: {err:?}");

        // A trap leaves the component instance unusable.
        let err = call_u32(&mut store, &instance, "good").unwrap_err();
        assert!(
            format!("{err:#}").contains("cannot enter component instance"),
            "{err:#}"
        );
    }
}

#[test]
fn precompiled_components() {
    let engine = Engine::default();
    let component = Component::new(&engine, FUSED).unwrap();
    let bytes = component.serialize().unwrap();
    // SAFETY: the bytes were produced by `serialize` just above.
    let loaded = unsafe { Component::deserialize(&engine, &bytes) }.unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Linker::new(&engine)
        .instantiate(&mut store, &loaded)
        .unwrap();
    assert_eq!(call_u32(&mut store, &instance, "good").unwrap(), 6);

    // Through a file, mapped in place.
    let dir = std::env::temp_dir().join(format!("fact-component-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("fused.cwasm");
    std::fs::write(&path, &bytes).unwrap();
    // SAFETY: as above.
    let loaded = unsafe { Component::deserialize_file(&engine, &path) }.unwrap();
    let instance = Linker::new(&engine)
        .instantiate(&mut store, &loaded)
        .unwrap();
    assert_eq!(call_u32(&mut store, &instance, "good").unwrap(), 6);
    std::fs::remove_dir_all(&dir).ok();

    // A core module artifact is not a component, and the other way round.
    let module = fact::Module::new(&engine, "(module)").unwrap();
    let err = unsafe { Component::deserialize(&engine, module.serialize().unwrap()) }
        .expect_err("a module artifact must not load as a component");
    assert!(format!("{err:#}").contains("module"), "{err:#}");
    let err = unsafe { fact::Module::deserialize(&engine, &bytes) }
        .expect_err("a component artifact must not load as a module");
    assert!(format!("{err:#}").contains("component"), "{err:#}");

    // Corruption anywhere is caught by the checksum.
    let mut bad = bytes.clone();
    let at = bad.len() / 2;
    bad[at] ^= 0x40;
    assert!(unsafe { Component::deserialize(&engine, &bad) }.is_err());
    assert!(unsafe { Component::deserialize(&engine, &bytes[..bytes.len() / 3]) }.is_err());
}

#[test]
fn invalid_components_are_errors() {
    let engine = Engine::default();
    for (wat, expect) in [
        (
            "(component (core module (func (result i32))))",
            "type mismatch",
        ),
        (
            "(component (import \"f\" (func (param \"x\" u32))) (import \"f\" (func)))",
            "conflicts",
        ),
    ] {
        let err = Component::new(&engine, wat).expect_err(wat);
        assert!(format!("{err:#}").contains(expect), "{wat}: {err:#}");
    }
    // A truncated component binary.
    let err = Component::new(&engine, b"\0asm\x0d\0\x01\0\x01").unwrap_err();
    assert!(format!("{err:#}").contains("unexpected end"), "{err:#}");
}

/// A typed round trip: the host calls `echo` with a Rust value, the guest passes it to the
/// host's `host-echo` (a typed `func_wrap`), and both directions must preserve it.
fn typed_round_trip<T>(ty: &str, flat: &[&str], value: T)
where
    T: fact::component::Lift
        + fact::component::Lower
        + fact::component::ComponentType
        + Clone
        + PartialEq
        + std::fmt::Debug
        + Send
        + Sync
        + 'static,
{
    let engine = Engine::default();
    let component = Component::new(&engine, echo_component(ty, flat)).unwrap();
    let mut linker = Linker::<Vec<T>>::new(&engine);
    linker
        .root()
        .func_wrap("host-echo", |mut store, (x,): (T,)| {
            store.data_mut().push(x.clone());
            Ok((x,))
        })
        .unwrap();
    let mut store = Store::new(&engine, Vec::new());
    let instance = linker.instantiate(&mut store, &component).unwrap();
    let echo = instance
        .get_typed_func::<(T,), (T,)>(&mut store, "echo")
        .unwrap_or_else(|e| panic!("{ty}: {e:#}"));
    let (back,) = echo
        .call(&mut store, (value.clone(),))
        .unwrap_or_else(|e| panic!("{ty}: {e:#}"));
    assert_eq!(back, value, "{ty}: host -> guest -> host");
    assert_eq!(
        store.data(),
        &[value],
        "{ty}: what the host import received"
    );
}

#[test]
fn every_rust_type_mapping_both_ways() {
    typed_round_trip("bool", &["i32"], true);
    typed_round_trip("s8", &["i32"], -5i8);
    typed_round_trip("u8", &["i32"], 250u8);
    typed_round_trip("s16", &["i32"], -30_000i16);
    typed_round_trip("u16", &["i32"], 65_000u16);
    typed_round_trip("s32", &["i32"], i32::MIN);
    typed_round_trip("u32", &["i32"], u32::MAX);
    typed_round_trip("s64", &["i64"], i64::MIN);
    typed_round_trip("u64", &["i64"], u64::MAX);
    typed_round_trip("f32", &["f32"], 1.25f32);
    typed_round_trip("f64", &["f64"], -2.5e300f64);
    typed_round_trip("char", &["i32"], '😀');
    typed_round_trip("string", &["i32", "i32"], "strings ✓".to_string());
    typed_round_trip("(list u32)", &["i32", "i32"], vec![1u32, 2, 3]);
    typed_round_trip(
        "(list string)",
        &["i32", "i32"],
        vec!["a".to_string(), String::new()],
    );
    typed_round_trip("(option u64)", &["i32", "i64"], Some(7u64));
    typed_round_trip("(option u64)", &["i32", "i64"], None::<u64>);
    typed_round_trip(
        "(result string (error u32))",
        &["i32", "i32", "i32"],
        Ok::<String, u32>("ok".into()),
    );
    typed_round_trip(
        "(result string (error u32))",
        &["i32", "i32", "i32"],
        Err::<String, u32>(404),
    );
    typed_round_trip("(result)", &["i32"], Ok::<(), ()>(()));
    typed_round_trip(
        "(tuple u8 string)",
        &["i32", "i32", "i32"],
        (1u8, "x".to_string()),
    );
    typed_round_trip(
        "(tuple u32 u32 (list (tuple s8 bool)))",
        &["i32", "i32", "i32", "i32"],
        (1u32, 2u32, vec![(-1i8, true), (2, false)]),
    );

    // Borrowed forms lower like their owned ones.
    let engine = Engine::default();
    let component = Component::new(&engine, echo_component("(list u16)", &["i32", "i32"])).unwrap();
    let mut linker = Linker::<()>::new(&engine);
    linker
        .root()
        .func_wrap("host-echo", |_, (x,): (Vec<u16>,)| Ok((x,)))
        .unwrap();
    let mut store = Store::new(&engine, ());
    let instance = linker.instantiate(&mut store, &component).unwrap();
    let echo = instance
        .get_typed_func::<(&[u16],), (Vec<u16>,)>(&mut store, "echo")
        .unwrap();
    assert_eq!(
        echo.call(&mut store, (&[9u16, 8][..],)).unwrap(),
        (vec![9, 8],)
    );
}
