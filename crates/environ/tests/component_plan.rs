//! The component front end on hand-written components: the flattened plan is checked, not
//! just that translation succeeds.

use fact_environ::component::*;
use fact_environ::Features;

fn plan(wat: &str) -> Plan {
    let wasm = wat::parse_str(wat).unwrap();
    translate(&wasm, &Features::default())
        .unwrap_or_else(|e| panic!("{e:#}"))
        .plan
}

fn error(wat: &str) -> String {
    let wasm = wat::parse_str(wat).unwrap();
    format!(
        "{:#}",
        translate(&wasm, &Features::default())
            .err()
            .expect("translation should fail")
    )
}

/// The initializers, abbreviated: `C<n>` begin component instance, `I<core>=<module>@<comp>`
/// instantiate, `A<n>` adapter, `L<n>` lowering, `R<n>` resource.
fn steps(plan: &Plan) -> Vec<String> {
    plan.initializers
        .iter()
        .map(|i| match i {
            Initializer::BeginComponentInstance(c) => format!("C{}", c.0),
            Initializer::InstantiateModule {
                instance,
                module,
                component_instance,
                ..
            } => match module {
                ModuleSource::Static(m) => {
                    format!("I{}=m{}@{}", instance.0, m.0, component_instance.0)
                }
                ModuleSource::Import(_) => {
                    format!("I{}=import@{}", instance.0, component_instance.0)
                }
                ModuleSource::Adapter(a) => {
                    format!("I{}=adapters{}@{}", instance.0, a.0, component_instance.0)
                }
            },
            Initializer::Adapter(a) => format!("A{}", a.0),
            Initializer::Lower(l) => format!("L{}", l.0),
            Initializer::DefineResource(r) => format!("R{}", r.0),
        })
        .collect()
}

const CALLEE: &str = r#"
    (component $Callee
      (core module $M
        (memory (export "mem") 1)
        (func (export "realloc") (param i32 i32 i32 i32) (result i32) i32.const 8)
        (func (export "echo") (param i32 i32) (result i32) i32.const 0))
      (core instance $m (instantiate $M))
      (func (export "echo") (param "s" string) (result string)
        (canon lift (core func $m "echo") (memory (core memory $m "mem")) (realloc (core func $m "realloc")))))
"#;

#[test]
fn nested_components_instantiated_twice_with_arguments() {
    let p = plan(&format!(
        r#"(component
          {CALLEE}
          (component $Caller
            (import "echo" (func $echo (param "s" string) (result string)))
            (core module $Libc (memory (export "mem") 1)
              (func (export "realloc") (param i32 i32 i32 i32) (result i32) i32.const 8))
            (core instance $libc (instantiate $Libc))
            (core func $echo' (canon lower (func $echo) (memory (core memory $libc "mem")) (realloc (core func $libc "realloc"))))
            (core module $Main (import "" "echo" (func (param i32 i32 i32))))
            (core instance (instantiate $Main (with "" (instance (export "echo" (func $echo'))))))
          )
          (instance $a (instantiate $Callee))
          (instance $b (instantiate $Callee))
          (instance $x (instantiate $Caller (with "echo" (func $a "echo"))))
          (instance $y (instantiate $Caller (with "echo" (func $b "echo"))))
        )"#
    ));
    assert_eq!(p.component_instances.len(), 5);
    assert_eq!(
        p.component_instances[3].parent,
        Some(ComponentInstanceIndex(0))
    );
    assert_eq!(
        steps(&p),
        [
            "C0", "C1", "I0=m0@1", "C2", "I1=m0@2", "C3", "I2=m1@3", "A0", "I3=m2@3", "C4",
            "I4=m1@4", "A1", "I5=m2@4"
        ]
    );
    // Each caller instance reaches the callee instance it was given.
    let a0 = &p.adapters[0];
    assert_eq!((a0.lower.instance.0, a0.lift.instance.0), (3, 1));
    assert_eq!(
        a0.callee,
        CoreDef::Export(CoreExport {
            instance: CoreInstanceIndex(0),
            name: "echo".into()
        })
    );
    let a1 = &p.adapters[1];
    assert_eq!((a1.lower.instance.0, a1.lift.instance.0), (4, 2));
    assert_eq!(
        a1.lower.memory,
        Some(CoreExport {
            instance: CoreInstanceIndex(4),
            name: "mem".into()
        })
    );
    assert_eq!(a1.lift.string_encoding, StringEncoding::Utf8);
    // The adapter is the argument of the caller's core instantiation.
    let Initializer::InstantiateModule { args, .. } = &p.initializers[8] else {
        panic!()
    };
    assert_eq!(args, &[CoreDef::Adapter(AdapterIndex(0))]);
    assert!(!p.call_might_be_recursive(a0.lower.instance, a0.lift.instance));
}

#[test]
fn the_same_pair_gives_one_adapter_and_options_make_a_new_one() {
    let p = plan(&format!(
        r#"(component
          {CALLEE}
          (instance $c (instantiate $Callee))
          (alias export $c "echo" (func $echo))
          (core module $Libc (memory (export "mem") 1)
            (func (export "realloc") (param i32 i32 i32 i32) (result i32) i32.const 8))
          (core instance $libc (instantiate $Libc))
          (core func $e1 (canon lower (func $echo) (memory (core memory $libc "mem")) (realloc (core func $libc "realloc"))))
          (core func $e2 (canon lower (func $echo) (memory (core memory $libc "mem")) (realloc (core func $libc "realloc"))))
          (core func $e3 (canon lower (func $echo) string-encoding=utf16 (memory (core memory $libc "mem")) (realloc (core func $libc "realloc"))))
          (core module $Main (import "" "a" (func (param i32 i32 i32))) (import "" "b" (func (param i32 i32 i32))) (import "" "c" (func (param i32 i32 i32))))
          (core instance (instantiate $Main (with "" (instance (export "a" (func $e1)) (export "b" (func $e2)) (export "c" (func $e3))))))
        )"#
    ));
    assert_eq!(p.adapters.len(), 2);
    assert_eq!(p.adapters[1].lower.string_encoding, StringEncoding::Utf16);
    let Some(Initializer::InstantiateModule { args, .. }) = p.initializers.last() else {
        panic!()
    };
    assert_eq!(
        args,
        &[
            CoreDef::Adapter(AdapterIndex(0)),
            CoreDef::Adapter(AdapterIndex(0)),
            CoreDef::Adapter(AdapterIndex(1))
        ]
    );
    // The root lowering its child's function: parent → child calls trap at runtime.
    assert!(p.call_might_be_recursive(p.adapters[0].lower.instance, p.adapters[0].lift.instance));
}

#[test]
fn one_core_module_instantiated_several_times_with_synthetic_instances() {
    let p = plan(
        r#"(component
          (core module $Counter
            (import "env" "start" (global i32))
            (memory (export "mem") 1)
            (func (export "get") (result i32) global.get 0))
          (core module $Env (global (export "g") i32 (i32.const 7)))
          (core instance $env (instantiate $Env))
          (core instance $c1 (instantiate $Counter
            (with "env" (instance (export "start" (global $env "g"))))))
          (core instance $c2 (instantiate $Counter
            (with "env" (instance (export "start" (global $env "g"))))))
          (core instance $c3 (instantiate $Counter
            (with "env" (instance (export "start" (global $env "g"))))))
        )"#,
    );
    assert_eq!(
        steps(&p),
        ["C0", "I0=m1@0", "I1=m0@0", "I2=m0@0", "I3=m0@0"]
    );
    let Initializer::InstantiateModule { args, .. } = &p.initializers[2] else {
        panic!()
    };
    assert_eq!(
        args,
        &[CoreDef::Export(CoreExport {
            instance: CoreInstanceIndex(0),
            name: "g".into()
        })]
    );
}

#[test]
fn aliases_outer_aliases_and_reexports() {
    let p = plan(
        r#"(component $root
          (import "host" (instance $host
            (export "log" (func (param "msg" string)))
            (export "nested" (instance (export "get" (func (result u32)))))))
          (import "f" (func $f (result u32)))
          (type $t (record (field "a" u32) (field "b" string)))
          (core module $M (func (export "id") (param i32) (result i32) local.get 0))
          (component $Inner
            (alias outer $root $t (type $t2))
            (alias outer $root $M (core module $M2))
            (core instance $m (instantiate $M2))
            (func (export "id") (param "x" u32) (result u32) (canon lift (core func $m "id")))
            (export "t" (type $t2))
          )
          (instance $i (instantiate $Inner))
          (alias export $host "nested" (instance $nested))
          (alias export $nested "get" (func $get))
          (export "id" (func $i "id"))
          (export "f-again" (func $f))
          (export "get" (func $get))
          (export "inner" (instance $i))
          (export "host" (instance $host))
          (export "M" (core module $M))
        )"#,
    );
    assert_eq!(p.imports.len(), 2);
    let ImportType::Instance(host) = &p.imports["host"] else {
        panic!()
    };
    assert!(matches!(host["nested"], ImportType::Instance(_)));
    let ImportType::Func(log) = host["log"] else {
        panic!()
    };
    assert_eq!(p.types.display_func(log), "func(msg: string)");
    assert!(matches!(&p.exports["id"], Export::LiftedFunc { .. }));
    let Export::ImportedFunc { import, .. } = &p.exports["get"] else {
        panic!()
    };
    assert_eq!(
        (import.import.0, import.names.clone()),
        (0, vec!["nested".to_string(), "get".to_string()])
    );
    assert!(matches!(&p.exports["f-again"], Export::ImportedFunc { .. }));
    let Export::Instance(inner) = &p.exports["inner"] else {
        panic!()
    };
    assert!(matches!(inner["id"], Export::LiftedFunc { .. }) && matches!(inner["t"], Export::Type));
    let Export::Instance(host) = &p.exports["host"] else {
        panic!()
    };
    assert!(matches!(host["log"], Export::ImportedFunc { .. }));
    assert!(matches!(
        &p.exports["M"],
        Export::Module(ModuleSource::Static(StaticModuleIndex(0)))
    ));
    // The outer-aliased module is the same static module.
    assert_eq!(steps(&p), ["C0", "C1", "I0=m0@1"]);
}

#[test]
fn host_imports_are_lowered_and_deduplicated() {
    let p = plan(
        r#"(component
          (import "log" (func $log (param "m" string)))
          (core module $Libc (memory (export "mem") 1))
          (core instance $libc (instantiate $Libc))
          (core func $l1 (canon lower (func $log) (memory (core memory $libc "mem"))))
          (core func $l2 (canon lower (func $log) (memory (core memory $libc "mem"))))
          (core module $Main (import "" "a" (func (param i32 i32))) (import "" "b" (func (param i32 i32))))
          (core instance (instantiate $Main (with "" (instance (export "a" (func $l1)) (export "b" (func $l2))))))
        )"#,
    );
    assert_eq!(p.lowerings.len(), 1);
    assert_eq!(steps(&p), ["C0", "I0=m0@0", "L0", "I1=m1@0"]);
}

#[test]
fn resources_per_instantiation() {
    let p = plan(
        r#"(component
          (component $Owner
            (core module $M
              (func (export "dtor") (param i32))
              (func (export "make") (param i32) (result i32) local.get 0))
            (core instance $m (instantiate $M))
            (type $r (resource (rep i32) (dtor (core func $m "dtor"))))
            (core func $new (canon resource.new $r))
            (core func $rep (canon resource.rep $r))
            (core func $drop (canon resource.drop $r))
            (core module $User (import "" "new" (func (param i32) (result i32))) (import "" "rep" (func (param i32) (result i32))) (import "" "drop" (func (param i32))))
            (core instance $u (instantiate $User (with "" (instance (export "new" (func $new)) (export "rep" (func $rep)) (export "drop" (func $drop))))))
            (export $r' "r" (type $r))
            (func (export "make") (param "rep" u32) (result (own $r')) (canon lift (core func $m "make")))
          )
          (instance $a (instantiate $Owner))
          (instance $b (instantiate $Owner))
          (export "a" (instance $a))
          (export "b" (instance $b))
          (import "host-res" (type $hr (sub resource)))
          (import "take" (func (param "x" (borrow $hr))))
        )"#,
    );
    assert_eq!(p.resources.len(), 3);
    assert!(matches!(
        p.resources[0],
        ResourceDef::Defined {
            instance: ComponentInstanceIndex(1),
            dtor: Some(_)
        }
    ));
    assert!(matches!(
        p.resources[1],
        ResourceDef::Defined {
            instance: ComponentInstanceIndex(2),
            ..
        }
    ));
    assert!(matches!(p.resources[2], ResourceDef::Imported(_)));
    assert_eq!(
        steps(&p),
        ["C0", "C1", "I0=m0@1", "R0", "I1=m1@1", "C2", "I2=m0@2", "R1", "I3=m1@2"]
    );
    let Initializer::InstantiateModule { args, .. } = &p.initializers[4] else {
        panic!()
    };
    assert_eq!(
        args,
        &[
            CoreDef::ResourceNew(ResourceIndex(0), ComponentInstanceIndex(1)),
            CoreDef::ResourceRep(ResourceIndex(0), ComponentInstanceIndex(1)),
            CoreDef::ResourceDrop(ResourceIndex(0), true, ComponentInstanceIndex(1)),
        ]
    );
    // Each instance's `make` returns its own resource type.
    let own = |name: &str| {
        let Export::Instance(i) = &p.exports[name] else {
            panic!()
        };
        let Export::LiftedFunc { ty, .. } = &i["make"] else {
            panic!()
        };
        p.types.func(*ty).results[0]
    };
    assert_eq!(p.types.get(own("a")), &InterfaceType::Own(ResourceIndex(0)));
    assert_eq!(p.types.get(own("b")), &InterfaceType::Own(ResourceIndex(1)));
    let ImportType::Func(take) = p.imports["take"] else {
        panic!()
    };
    assert_eq!(
        p.types.get(p.types.func(take).params[0].1),
        &InterfaceType::Borrow(ResourceIndex(2))
    );
}

#[test]
fn adapters_used_out_of_order_keep_definition_order() {
    // The lowered function is defined before an unrelated instantiation and used after.
    let p = plan(&format!(
        r#"(component
          {CALLEE}
          (instance $c (instantiate $Callee))
          (core module $Libc (memory (export "mem") 1)
            (func (export "realloc") (param i32 i32 i32 i32) (result i32) i32.const 8))
          (component $Sibling
            (import "echo" (func $echo (param "s" string) (result string)))
            (core module $Libc (memory (export "mem") 1)
              (func (export "realloc") (param i32 i32 i32 i32) (result i32) i32.const 8))
            (core instance $libc (instantiate $Libc))
            (core func $e (canon lower (func $echo) (memory (core memory $libc "mem")) (realloc (core func $libc "realloc"))))
            (core instance $unrelated (instantiate $Libc))
            (core module $Main (import "" "echo" (func (param i32 i32 i32))))
            (core instance (instantiate $Main (with "" (instance (export "echo" (func $e))))))
          )
          (instance (instantiate $Sibling (with "echo" (func $c "echo"))))
        )"#
    ));
    assert_eq!(
        steps(&p),
        ["C0", "C1", "I0=m0@1", "C2", "I1=m2@2", "A0", "I2=m2@2", "I3=m3@2"]
    );
}

#[test]
fn invalid_and_unsupported_components_are_errors() {
    let e = error(
        r#"(component (core module $M) (core instance (instantiate $M (with "x" (instance 7)))))"#,
    );
    assert!(e.contains("offset"), "{e}");
    let e = error(r#"(component (import "c" (component)))"#);
    assert!(e.contains("importing a whole component"), "{e}");
    let e = error(r#"(component (component $C) (export "c" (component $C)))"#);
    assert!(e.contains("exporting a whole component"), "{e}");
    let wasm = wat::parse_str("(module)").unwrap();
    assert!(format!(
        "{:#}",
        translate(&wasm, &Features::default()).err().unwrap()
    )
    .contains("core module"));
    // A core module using a proposal fact does not implement (threads).
    let e = error(r#"(component (core module $M (memory 1 1 shared)))"#);
    assert!(e.contains("unsupported"), "{e}");
}

#[test]
fn async_options_are_rejected_as_unsupported() {
    let wasm = wat::parse_str(
        r#"(component
          (core module $M (func (export "f") (result i32) i32.const 0))
          (core instance $m (instantiate $M))
          (func (export "f") (canon lift (core func $m "f") async (callback (func $m "f")))))"#,
    );
    let Ok(wasm) = wasm else { return };
    let e = format!(
        "{:#}",
        translate(&wasm, &Features::default()).err().unwrap()
    );
    assert!(e.contains("unsupported"), "{e}");
}

#[test]
fn post_mvp_component_features_are_unsupported_proposals() {
    // Valid components under today's component model, each using an extension fact does
    // not implement; most only define a type that no function uses, which the translation
    // never looks at: validation catches them.
    for wat in [
        "(component (type (future)))",
        "(component (type (stream u8)))",
        "(component (type (map string u32)))",
        "(component (type (list u32 4)))",
        "(component (type (list error-context)))",
        "(component (type (func async)))",
        "(component (core func (canon backpressure.inc)))",
        "(component (core func (canon error-context.drop)))",
        r#"(component
          (type $f (func (param "x" (map string u32))))
          (import "f" (func (type $f))))"#,
    ] {
        let Ok(wasm) = wat::parse_str(wat) else {
            panic!("`wat` does not parse {wat}");
        };
        let e = format!(
            "{:#}",
            translate(&wasm, &Features::default()).err().expect(wat)
        );
        assert!(e.starts_with("unsupported proposal: "), "{wat}: {e}");
    }
}

#[test]
fn implements_and_external_id_annotations_are_accepted() {
    // 🏷️ metadata on names (shipped in a WASI release): the import is still known by its
    // plain name.
    for (wat, name) in [
        (
            r#"(component (import "store" (implements "a:b/c") (instance)))"#,
            "store",
        ),
        (
            r#"(component (import "f" (external-id "f-1") (func)))"#,
            "f",
        ),
    ] {
        let wasm = wat::parse_str(wat).unwrap();
        let plan = translate(&wasm, &Features::default())
            .unwrap_or_else(|e| panic!("{wat}: {e:#}"))
            .plan;
        assert!(
            plan.imports.contains_key(name),
            "{wat}: {:?}",
            plan.imports.keys()
        );
    }
}

#[test]
fn invalid_post_mvp_components_are_validation_errors() {
    // Invalid under today's rules too (streams of `char` are not allowed): a validation
    // error, not an unsupported proposal.
    let wasm = wat::parse_str("(component (type (stream char)))").unwrap();
    let e = format!(
        "{:#}",
        translate(&wasm, &Features::default()).err().unwrap()
    );
    assert!(!e.contains("unsupported proposal"), "{e}");
}

#[test]
fn a_truncated_module_section_is_an_error() {
    // The module section is the only section: every cut after the header is inside it.
    let wasm = wat::parse_str("(component (core module (func)))").unwrap();
    for len in 9..wasm.len() {
        assert!(
            translate(&wasm[..len], &Features::default()).is_err(),
            "{len}"
        );
    }
}
