//! The adapter compiler on a catalogue of signatures: every generated module validates,
//! and its text matches the golden snapshot in `adapters/` (set `FACT_BLESS=1` to rewrite
//! the snapshots after reviewing a change).

use fact_environ::component::adapt::{self, AdapterModule};
use fact_environ::component::*;
use fact_environ::Features;
use std::path::Path;

/// A function signature to test: named type definitions (records, variants, enums and
/// flags must be named in imports and exports) and the signature, which refers to them as
/// `$name`.
struct Sig {
    types: Vec<(&'static str, String)>,
    sig: String,
}

fn sig(sig: impl Into<String>) -> Sig {
    Sig {
        types: Vec::new(),
        sig: sig.into(),
    }
}

fn named(types: Vec<(&'static str, String)>, sig: impl Into<String>) -> Sig {
    Sig {
        types,
        sig: sig.into(),
    }
}

impl Sig {
    /// The types, defined locally and imported (for an importer of `f`).
    fn imported(&self) -> String {
        self.types
            .iter()
            .map(|(n, d)| {
                format!("(type ${n}-def {d}) (import \"{n}\" (type ${n} (eq ${n}-def)))\n")
            })
            .collect()
    }

    /// The types, defined and exported (for the exporter of `f`).
    fn exported(&self) -> String {
        self.types
            .iter()
            .map(|(n, d)| format!("(type ${n}-def {d}) (export ${n} \"{n}\" (type ${n}-def))\n"))
            .collect()
    }

    fn with_args(&self) -> String {
        self.types
            .iter()
            .map(|(n, _)| format!("(with \"{n}\" (type $callee \"{n}\"))"))
            .collect()
    }
}

/// The core signature of `f` (in `param`/`result` WAT syntax) on each side.
fn core_sigs(s: &Sig) -> (String, String) {
    let text = format!(
        "(component {} (import \"f\" (func {})))",
        s.imported(),
        s.sig
    );
    let wasm = wat::parse_str(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let plan = translate(&wasm, &Features::default())
        .unwrap_or_else(|e| panic!("{e:#}\n{text}"))
        .plan;
    let ImportType::Func(ty) = plan.imports["f"] else {
        panic!()
    };
    let show = |sig: FlatSignature| {
        let list = |v: &[FlatType]| {
            v.iter()
                .map(|t| t.to_string())
                .collect::<Vec<_>>()
                .join(" ")
        };
        (
            format!(
                "(param {}) (result {})",
                list(&sig.params),
                list(&sig.results)
            ),
            list(&sig.results),
        )
    };
    (
        show(plan.types.flat_signature(ty, FlatContext::Lift)).0,
        show(plan.types.flat_signature(ty, FlatContext::Lower)).0,
    )
}

/// A component where a caller (with `caller_opts`) calls a callee (with `callee_opts`)
/// through a fused adapter for `s`.
fn component(s: &Sig, callee_opts: &str, caller_opts: &str) -> String {
    let (lift, lower) = core_sigs(s);
    let post = lift
        .split("(result")
        .nth(1)
        .unwrap()
        .trim_end_matches(')')
        .trim()
        .to_string();
    format!(
        r#"(component
  (component $Callee
    (core module $M
      (memory (export "mem") 1)
      (func (export "realloc") (param i32 i32 i32 i32) (result i32) unreachable)
      (func (export "f") {lift} unreachable)
      (func (export "post") (param {post})))
    (core instance $m (instantiate $M))
    {exported}
    (func (export "f") {sig} (canon lift (core func $m "f") {callee_opts})))
  (component $Caller
    {imported}
    (import "f" (func $f {sig}))
    (core module $Libc (memory (export "mem") 1)
      (func (export "realloc") (param i32 i32 i32 i32) (result i32) unreachable))
    (core instance $libc (instantiate $Libc))
    (core func $f' (canon lower (func $f) {caller_opts}))
    (core module $Main (import "" "f" (func {lower})))
    (core instance (instantiate $Main (with "" (instance (export "f" (func $f')))))))
  (instance $callee (instantiate $Callee))
  (instance (instantiate $Caller {with} (with "f" (func $callee "f")))))"#,
        exported = s.exported(),
        imported = s.imported(),
        sig = s.sig,
        with = s.with_args(),
    )
}

fn opts(encoding: &str, memory: &str, post_return: bool) -> String {
    let mut o = format!(
        "string-encoding={encoding} (memory (core memory ${memory} \"mem\")) (realloc (core func ${memory} \"realloc\"))"
    );
    if post_return {
        o.push_str(&format!(" (post-return (core func ${memory} \"post\"))"));
    }
    o
}

fn compile(wat_text: &str) -> (Plan, Vec<AdapterModule>) {
    let wasm = wat::parse_str(wat_text).unwrap_or_else(|e| panic!("{e}\n{wat_text}"));
    let mut plan = translate(&wasm, &Features::default())
        .unwrap_or_else(|e| panic!("{e:#}"))
        .plan;
    let modules = adapt::compile_adapters(&mut plan).unwrap_or_else(|e| panic!("{e:#}"));
    for m in &modules {
        adapt::validate(&m.wasm).unwrap_or_else(|e| {
            panic!(
                "invalid adapter module: {e:#}\n{}",
                wasmprinter::print_bytes(&m.wasm).unwrap()
            )
        });
    }
    (plan, modules)
}

fn catalogue() -> Vec<(String, Sig)> {
    let mut cases: Vec<(String, Sig)> = Vec::new();
    for scalar in [
        "bool", "s8", "u8", "s16", "u16", "s32", "u32", "s64", "u64", "f32", "f64", "char",
    ] {
        cases.push((
            scalar.into(),
            sig(format!("(param \"x\" {scalar}) (result {scalar})")),
        ));
    }
    let both = |t: &str| format!("(param \"x\" {t}) (result {t})");
    for (name, ty) in [
        ("string", "string"),
        ("list-u8", "(list u8)"),
        ("list-f64", "(list f64)"),
        ("list-string", "(list string)"),
        ("list-list-u16", "(list (list u16))"),
        ("tuple", "(tuple u8 string char)"),
        ("option-u32", "(option u32)"),
        ("option-string", "(option string)"),
        ("result", "(result u32 (error string))"),
        ("result-empty", "(result)"),
    ] {
        cases.push((name.into(), sig(both(ty))));
    }
    let record = "(record (field \"a\" u8) (field \"b\" u16) (field \"c\" u64) (field \"d\" f32) (field \"e\" bool))";
    cases.push((
        "record".into(),
        named(vec![("r", record.into())], both("$r")),
    ));
    let rec_str = "(record (field \"a\" u8) (field \"b\" string))";
    cases.push((
        "list-record".into(),
        named(vec![("r", rec_str.into())], both("(list $r)")),
    ));
    let variant = "(variant (case \"a\" u8) (case \"b\" f32) (case \"c\" string) (case \"d\") (case \"e\" s64))";
    cases.push((
        "variant".into(),
        named(vec![("v", variant.into())], both("$v")),
    ));
    cases.push((
        "enum".into(),
        named(vec![("e", "(enum \"x\" \"y\" \"z\")".into())], both("$e")),
    ));
    let flags = |n: usize| {
        format!(
            "(flags {})",
            (0..n)
                .map(|i| format!("\"f{i}\""))
                .collect::<Vec<_>>()
                .join(" ")
        )
    };
    for n in [3, 9, 17, 32] {
        cases.push((
            format!("flags-{n}"),
            named(vec![("fl", flags(n))], both("$fl")),
        ));
    }
    let many: String = (0..17).map(|i| format!("(param \"p{i}\" u32) ")).collect();
    cases.push(("indirect-params".into(), sig(many.clone())));
    cases.push((
        "indirect-results".into(),
        sig("(param \"x\" u32) (result (tuple u32 u64))"),
    ));
    cases.push((
        "indirect-both".into(),
        sig(format!("{many} (result (tuple string u32))")),
    ));
    cases.push(("no-params-no-results".into(), sig("")));
    cases
}

#[test]
fn adapters_validate_and_match_the_golden_snapshots() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../adapters");
    let bless = std::env::var_os("FACT_BLESS").is_some();
    let mut mismatches = Vec::new();
    // Each file starts with what it was generated from.
    let mut check = |name: &str, header: String, module: &AdapterModule| {
        let text = header + &wasmprinter::print_bytes(&module.wasm).unwrap();
        let path = dir.join(format!("{name}.wat"));
        if bless {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(&path, &text).unwrap();
        } else if std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
            mismatches.push(name.to_string());
        }
    };
    let header = |sig: &Sig, callee: &str, caller: &str| {
        let types: String = sig
            .types
            .iter()
            .map(|(n, d)| format!(";; type {n}: {d}\n"))
            .collect();
        format!(
            ";; The fused adapter of a call of this signature:\n;;   {}\n{types};; callee (lift) options: {callee}\n;; caller (lower) options: {caller}\n",
            sig.sig
        )
    };
    for (name, s) in catalogue() {
        let (callee, caller) = (opts("utf8", "m", true), opts("utf8", "libc", false));
        let c = component(&s, &callee, &caller);
        let (plan, modules) = compile(&c);
        assert_eq!((plan.adapters.len(), modules.len()), (1, 1), "{name}");
        check(&name, header(&s, &callee, &caller), &modules[0]);
    }
    for from in ["utf8", "utf16", "latin1+utf16"] {
        for to in ["utf8", "utf16", "latin1+utf16"] {
            let s = sig("(param \"s\" string) (result string)");
            let (callee, caller) = (opts(to, "m", false), opts(from, "libc", false));
            let c = component(&s, &callee, &caller);
            let (_, modules) = compile(&c);
            check(
                &format!(
                    "string-{}-to-{}",
                    from.replace('+', "-"),
                    to.replace('+', "-")
                ),
                header(&s, &callee, &caller),
                &modules[0],
            );
        }
    }
    assert!(
        mismatches.is_empty(),
        "generated adapters differ from the snapshots in adapters/ (review, then rerun with FACT_BLESS=1): {mismatches:?}"
    );
}

#[test]
fn generated_code_grows_linearly_with_type_size() {
    // A record of n records of strings: the helpers are shared, so the module grows by
    // about the same amount per field.
    let size = |n: usize| {
        let fields: String = (0..n)
            .map(|i| format!("(field \"f{i}\" (tuple string u32 (list u16))) "))
            .collect();
        let s = named(
            vec![("r", format!("(record {fields})"))],
            "(param \"x\" (list $r))",
        );
        let c = component(&s, &opts("utf8", "m", false), &opts("utf8", "libc", false));
        compile(&c).1[0].wasm.len()
    };
    let (a, b, c) = (size(4), size(8), size(16));
    assert!(c - b <= 2 * (b - a) + 64, "{a} {b} {c}");
}

#[test]
fn chains_share_modules_and_reallocs_may_be_adapters() {
    // The callee's realloc is itself a function lifted by a third component and lowered
    // into the callee: an adapter used by an adapter.
    let c = r#"(component
      (component $Alloc
        (core module $A
          (memory (export "mem") 1)
          (func (export "alloc") (param i32 i32 i32 i32) (result i32) i32.const 0))
        (core instance $a (instantiate $A))
        (func (export "alloc") (param "a" u32) (param "b" u32) (param "c" u32) (param "d" u32) (result u32)
          (canon lift (core func $a "alloc"))))
      (component $Callee
        (import "alloc" (func $alloc (param "a" u32) (param "b" u32) (param "c" u32) (param "d" u32) (result u32)))
        (core func $alloc' (canon lower (func $alloc)))
        (core module $M
          (import "" "alloc" (func (param i32 i32 i32 i32) (result i32)))
          (memory (export "mem") 1)
          (func (export "f") (param i32 i32)))
        (core instance $m (instantiate $M (with "" (instance (export "alloc" (func $alloc'))))))
        (func (export "f") (param "s" string)
          (canon lift (core func $m "f") (memory (core memory $m "mem")) (realloc (core func $alloc')))))
      (component $Caller
        (import "f" (func $f (param "s" string)))
        (core module $Libc (memory (export "mem") 1))
        (core instance $libc (instantiate $Libc))
        (core func $f' (canon lower (func $f) (memory (core memory $libc "mem"))))
        (core module $Main (import "" "f" (func (param i32 i32))))
        (core instance (instantiate $Main (with "" (instance (export "f" (func $f')))))))
      (instance $alloc (instantiate $Alloc))
      (instance $callee1 (instantiate $Callee (with "alloc" (func $alloc "alloc"))))
      (instance $callee2 (instantiate $Callee (with "alloc" (func $alloc "alloc"))))
      (instance (instantiate $Caller (with "f" (func $callee1 "f"))))
      (instance (instantiate $Caller (with "f" (func $callee2 "f")))))"#;
    let (plan, modules) = compile(c);
    // alloc lowered into each callee instance (their options name different instances,
    // so they are two adapters), and one string adapter per caller.
    assert_eq!(plan.adapters.len(), 4);
    // Each adapter module is placed before its first use: before each callee's core
    // instance (which imports alloc), and before each caller's.
    assert_eq!(modules.len(), 4);
    let uses_adapter_realloc = modules.iter().any(|m| {
        m.imports.iter().any(|i| {
            i.module == "realloc"
                && matches!(&i.def, CoreDef::Export(e) if e.name.starts_with("adapter"))
        })
    });
    assert!(
        uses_adapter_realloc,
        "a callee realloc that is an adapter of an earlier module"
    );
}

/// A caller and a callee component fused by one adapter; `tag` goes into the callee's
/// core module.
fn fused_pair(tag: &str) -> String {
    format!(
        r#"(component
  (component $Callee
    (core module $M {tag} (func (export "f") (param i32) (result i32) (local.get 0)))
    (core instance $m (instantiate $M))
    (func (export "f") (param "x" u32) (result u32) (canon lift (core func $m "f"))))
  (component $Caller
    (import "f" (func $f (param "x" u32) (result u32)))
    (core func $f (canon lower (func $f)))
    (core module $N
      (import "" "f" (func $f (param i32) (result i32)))
      (func (export "g") (result i32) (call $f (i32.const 1))))
    (core instance $n (instantiate $N (with "" (instance (export "f" (func $f))))))
    (func (export "g") (result u32) (canon lift (core func $n "g"))))
  (instance $a (instantiate $Callee))
  (instance $b (instantiate $Caller (with "f" (func $a "f"))))
  (export "g" (func $b "g")))"#
    )
}

#[test]
fn adapters_contain_exceptions_only_when_a_module_uses_tags() {
    let text = |wat: &str| -> String {
        let (_, modules) = compile(wat);
        assert_eq!(modules.len(), 1);
        wasmprinter::print_bytes(&modules[0].wasm).unwrap()
    };
    let plain = text(&fused_pair(""));
    assert!(!plain.contains("try_table"), "{plain}");
    let guarded = text(&fused_pair("(tag)"));
    assert!(guarded.contains("try_table"), "{guarded}");
    assert!(guarded.contains("catch_all"), "{guarded}");
}
