//! Randomized round trips: a seeded generator of interface types and values. For each
//! case, a root component imports the host's `echo` and wires two forwarding components:
//! `$Outer` lifts `echo` for the host and lowers the `echo` of `$Inner`, which lowers the
//! host's. A value goes host → `$Outer` (host lowering) → fused adapter → `$Inner` → host
//! (host lifting) and back the same way; each side has a random string encoding. The value
//! must come back unchanged.
//!
//! `FACT_ROUND_TRIP_CASES` sets the number of cases (default 150) and
//! `FACT_ROUND_TRIP_SEED` the first seed.

use fact::component::{Component, Linker, Val};
use fact::{Engine, Store};

/// xorshift64*: small, seeded, good enough for test data.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// A generated interface type.
#[derive(Clone, Debug)]
enum Ty {
    Bool,
    U8,
    S8,
    U16,
    S16,
    U32,
    S32,
    U64,
    S64,
    F32,
    F64,
    Char,
    String,
    List(Box<Ty>),
    Record(Vec<Ty>),
    Tuple(Vec<Ty>),
    Variant(Vec<Option<Ty>>),
    Enum(usize),
    Option(Box<Ty>),
    Result(Option<Box<Ty>>, Option<Box<Ty>>),
    Flags(usize),
}

#[derive(Copy, Clone, Debug, PartialEq)]
enum Flat {
    I32,
    I64,
    F32,
    F64,
}

impl Flat {
    fn wat(self) -> &'static str {
        match self {
            Flat::I32 => "i32",
            Flat::I64 => "i64",
            Flat::F32 => "f32",
            Flat::F64 => "f64",
        }
    }

    fn join(a: Flat, b: Flat) -> Flat {
        match (a, b) {
            _ if a == b => a,
            (Flat::I32, Flat::F32) | (Flat::F32, Flat::I32) => Flat::I32,
            _ => Flat::I64,
        }
    }
}

fn gen_ty(rng: &mut Rng, depth: u32) -> Ty {
    let leaf = depth == 0 || rng.chance(45);
    if leaf {
        return match rng.below(13) {
            0 => Ty::Bool,
            1 => Ty::U8,
            2 => Ty::S8,
            3 => Ty::U16,
            4 => Ty::S16,
            5 => Ty::U32,
            6 => Ty::S32,
            7 => Ty::U64,
            8 => Ty::S64,
            9 => Ty::F32,
            10 => Ty::F64,
            11 => Ty::Char,
            _ => Ty::String,
        };
    }
    let d = depth - 1;
    let sub = |rng: &mut Rng| gen_ty(rng, d);
    match rng.below(8) {
        0 => Ty::List(Box::new(sub(rng))),
        1 => Ty::Record((0..1 + rng.below(4)).map(|_| sub(rng)).collect()),
        2 => Ty::Tuple((0..1 + rng.below(4)).map(|_| sub(rng)).collect()),
        3 => Ty::Variant(
            (0..1 + rng.below(4))
                .map(|_| if rng.chance(70) { Some(sub(rng)) } else { None })
                .collect(),
        ),
        4 => Ty::Enum(1 + rng.below(5) as usize),
        5 => Ty::Option(Box::new(sub(rng))),
        6 => {
            let side = |rng: &mut Rng| {
                if rng.chance(70) {
                    Some(Box::new(gen_ty(rng, d)))
                } else {
                    None
                }
            };
            let ok = side(rng);
            Ty::Result(ok, side(rng))
        }
        _ => Ty::Flags(1 + rng.below(32) as usize),
    }
}

/// The text of type `t`. Records, variants, enums and flags must be named where they
/// appear in an import, so each gets a definition and an `eq` type import `tN` in `decls`;
/// the text refers to those.
fn wat_ty(t: &Ty, decls: &mut Vec<String>) -> String {
    let named = |def: String, decls: &mut Vec<String>| {
        let n = decls.len();
        decls.push(format!(
            "(type $d{n} {def}) (import \"t{n}\" (type $n{n} (eq $d{n})))"
        ));
        format!("$n{n}")
    };
    match t {
        Ty::Bool => "bool".into(),
        Ty::U8 => "u8".into(),
        Ty::S8 => "s8".into(),
        Ty::U16 => "u16".into(),
        Ty::S16 => "s16".into(),
        Ty::U32 => "u32".into(),
        Ty::S32 => "s32".into(),
        Ty::U64 => "u64".into(),
        Ty::S64 => "s64".into(),
        Ty::F32 => "f32".into(),
        Ty::F64 => "f64".into(),
        Ty::Char => "char".into(),
        Ty::String => "string".into(),
        Ty::List(e) => format!("(list {})", wat_ty(e, decls)),
        Ty::Record(fs) => {
            let fields = fs
                .iter()
                .enumerate()
                .map(|(i, f)| format!("(field \"f{i}\" {})", wat_ty(f, decls)))
                .collect::<Vec<_>>()
                .join(" ");
            named(format!("(record {fields})"), decls)
        }
        Ty::Tuple(ts) => format!(
            "(tuple {})",
            ts.iter()
                .map(|t| wat_ty(t, decls))
                .collect::<Vec<_>>()
                .join(" ")
        ),
        Ty::Variant(cs) => {
            let cases = cs
                .iter()
                .enumerate()
                .map(|(i, c)| match c {
                    Some(t) => format!("(case \"c{i}\" {})", wat_ty(t, decls)),
                    None => format!("(case \"c{i}\")"),
                })
                .collect::<Vec<_>>()
                .join(" ");
            named(format!("(variant {cases})"), decls)
        }
        Ty::Enum(n) => named(
            format!(
                "(enum {})",
                (0..*n)
                    .map(|i| format!("\"e{i}\""))
                    .collect::<Vec<_>>()
                    .join(" ")
            ),
            decls,
        ),
        Ty::Option(t) => format!("(option {})", wat_ty(t, decls)),
        Ty::Result(ok, err) => {
            let mut s = "(result".to_string();
            if let Some(ok) = ok {
                s += &format!(" {}", wat_ty(ok, decls));
            }
            if let Some(err) = err {
                s += &format!(" (error {})", wat_ty(err, decls));
            }
            s + ")"
        }
        Ty::Flags(n) => named(
            format!(
                "(flags {})",
                (0..*n)
                    .map(|i| format!("\"g{i}\""))
                    .collect::<Vec<_>>()
                    .join(" ")
            ),
            decls,
        ),
    }
}

/// The canonical ABI's flattening of `t`.
fn flatten(t: &Ty) -> Vec<Flat> {
    match t {
        Ty::Bool
        | Ty::U8
        | Ty::S8
        | Ty::U16
        | Ty::S16
        | Ty::U32
        | Ty::S32
        | Ty::Char
        | Ty::Enum(_)
        | Ty::Flags(_) => vec![Flat::I32],
        Ty::U64 | Ty::S64 => vec![Flat::I64],
        Ty::F32 => vec![Flat::F32],
        Ty::F64 => vec![Flat::F64],
        Ty::String | Ty::List(_) => vec![Flat::I32, Flat::I32],
        Ty::Record(fs) | Ty::Tuple(fs) => fs.iter().flat_map(flatten).collect(),
        Ty::Variant(cs) => flatten_cases(cs.iter().map(|c| c.as_ref())),
        Ty::Option(t) => flatten_cases([None, Some(&**t)].into_iter()),
        Ty::Result(ok, err) => flatten_cases([ok.as_deref(), err.as_deref()].into_iter()),
    }
}

fn flatten_cases<'a>(cases: impl Iterator<Item = Option<&'a Ty>>) -> Vec<Flat> {
    let mut joined: Vec<Flat> = Vec::new();
    for c in cases.flatten() {
        for (i, f) in flatten(c).into_iter().enumerate() {
            if i < joined.len() {
                joined[i] = Flat::join(joined[i], f);
            } else {
                joined.push(f);
            }
        }
    }
    let mut out = vec![Flat::I32];
    out.extend(joined);
    out
}

fn gen_string(rng: &mut Rng) -> String {
    const PIECES: &[&str] = &[
        "a",
        "Z",
        " ",
        "é",
        "ß",
        "ÿ",
        "Ā",
        "€",
        "中",
        "😀",
        "\u{10FFFF}",
        "\0",
    ];
    (0..rng.below(12))
        .map(|_| PIECES[rng.below(PIECES.len() as u64) as usize])
        .collect()
}

fn gen_val(rng: &mut Rng, t: &Ty) -> Val {
    let b = |v: Val| Some(Box::new(v));
    match t {
        Ty::Bool => Val::Bool(rng.chance(50)),
        Ty::U8 => Val::U8(rng.next() as u8),
        Ty::S8 => Val::S8(rng.next() as i8),
        Ty::U16 => Val::U16(rng.next() as u16),
        Ty::S16 => Val::S16(rng.next() as i16),
        Ty::U32 => Val::U32(rng.next() as u32),
        Ty::S32 => Val::S32(rng.next() as i32),
        Ty::U64 => Val::U64(rng.next()),
        Ty::S64 => Val::S64(rng.next() as i64),
        // Finite values: NaN payloads are not part of the comparison here.
        Ty::F32 => Val::Float32((rng.next() as i32) as f32 / 7.0),
        Ty::F64 => Val::Float64((rng.next() as i64) as f64 / 3.0),
        Ty::Char => Val::Char(
            char::from_u32(rng.below(0x11_0000) as u32)
                .filter(|_| rng.chance(80))
                .unwrap_or('λ'),
        ),
        Ty::String => Val::String(gen_string(rng)),
        Ty::List(e) => Val::List((0..rng.below(5)).map(|_| gen_val(rng, e)).collect()),
        Ty::Record(fs) => Val::Record(
            fs.iter()
                .enumerate()
                .map(|(i, f)| (format!("f{i}"), gen_val(rng, f)))
                .collect(),
        ),
        Ty::Tuple(ts) => Val::Tuple(ts.iter().map(|t| gen_val(rng, t)).collect()),
        Ty::Variant(cs) => {
            let i = rng.below(cs.len() as u64) as usize;
            Val::Variant(
                format!("c{i}"),
                cs[i].as_ref().map(|t| Box::new(gen_val(rng, t))),
            )
        }
        Ty::Enum(n) => Val::Enum(format!("e{}", rng.below(*n as u64))),
        Ty::Option(t) => Val::Option(if rng.chance(60) {
            b(gen_val(rng, t))
        } else {
            None
        }),
        Ty::Result(ok, err) => {
            let payload =
                |rng: &mut Rng, t: &Option<Box<Ty>>| t.as_ref().map(|t| Box::new(gen_val(rng, t)));
            Val::Result(if rng.chance(50) {
                Ok(payload(rng, ok))
            } else {
                Err(payload(rng, err))
            })
        }
        Ty::Flags(n) => Val::Flags(
            (0..*n)
                .filter(|_| rng.chance(40))
                .map(|i| format!("g{i}"))
                .collect(),
        ),
    }
}

const ENCODINGS: &[&str] = &["utf8", "utf16", "latin1+utf16"];

/// A forwarding component: exports `echo` (lifted with `encoding`) by calling its import
/// `echo` (lowered with the same encoding), through a return area it allocates. `decls`
/// declares the named types, `ty` is the value type's text.
fn forwarder(name: &str, decls: &str, ty: &str, flat: &[Flat], encoding: &str) -> String {
    let indirect_params = flat.len() > 16;
    let params: Vec<Flat> = if indirect_params {
        vec![Flat::I32]
    } else {
        flat.to_vec()
    };
    let p: String = params
        .iter()
        .map(|t| format!("(param {}) ", t.wat()))
        .collect();
    let gets: String = (0..params.len())
        .map(|i| format!("local.get {i} "))
        .collect();
    let (import_sig, export_sig, body) = if flat.len() > 1 {
        (
            format!("{p}(param i32)"),
            format!("{p}(result i32)"),
            format!("{gets} i32.const 8 call $echo i32.const 8"),
        )
    } else {
        let r = format!("(result {})", flat[0].wat());
        (
            format!("{p}{r}"),
            format!("{p}{r}"),
            format!("{gets} call $echo"),
        )
    };
    format!(
        r#"(component ${name}
    {decls}
    (import "echo" (func $echo (param "x" {ty}) (result {ty})))
    ;; The return area is at 8; the heap starts above any generated type's size.
    (core module $Mem
      (memory (export "mem") 1)
      (global $next (mut i32) (i32.const 8192))
      (func (export "realloc") (param $old i32) (param $old_size i32) (param $align i32) (param $size i32) (result i32)
        (local $p i32)
        (local.set $p (i32.and
          (i32.add (global.get $next) (i32.sub (local.get $align) (i32.const 1)))
          (i32.sub (i32.const 0) (local.get $align))))
        (global.set $next (i32.add (local.get $p) (local.get $size)))
        (if (i32.gt_u (global.get $next) (i32.shl (memory.size) (i32.const 16)))
          (then (drop (memory.grow (i32.const 1)))))
        (if (local.get $old_size)
          (then (memory.copy (local.get $p) (local.get $old) (local.get $old_size))))
        (local.get $p)))
    (core instance $mem (instantiate $Mem))
    (core func $echo (canon lower (func $echo) string-encoding={encoding}
      (memory (core memory $mem "mem")) (realloc (core func $mem "realloc"))))
    (core module $Glue
      (import "" "echo" (func $echo {import_sig}))
      (func (export "echo") {export_sig} {body}))
    (core instance $glue (instantiate $Glue (with "" (instance (export "echo" (func $echo))))))
    (func (export "echo") (param "x" {ty}) (result {ty})
      (canon lift (core func $glue "echo") string-encoding={encoding}
        (memory (core memory $mem "mem")) (realloc (core func $mem "realloc")))))"#
    )
}

/// The root component of one case.
fn case_component(ty: &Ty, outer_enc: &str, inner_enc: &str) -> String {
    let flat = flatten(ty);
    let mut decls = Vec::new();
    let text = wat_ty(ty, &mut decls);
    let types: String = (0..decls.len())
        .map(|i| format!("(with \"t{i}\" (type $n{i})) "))
        .collect();
    let decls = decls.join("\n  ");
    format!(
        r#"(component
  {decls}
  (import "echo" (func $host (param "x" {text}) (result {text})))
  {inner}
  {outer}
  (instance $inner (instantiate $Inner {types} (with "echo" (func $host))))
  (instance $outer (instantiate $Outer {types} (with "echo" (func $inner "echo"))))
  (export "echo" (func $outer "echo")))"#,
        inner = forwarder("Inner", &decls, &text, &flat, inner_enc),
        outer = forwarder("Outer", &decls, &text, &flat, outer_enc),
    )
}

/// The type's text for messages.
fn show_ty(t: &Ty) -> String {
    let mut decls = Vec::new();
    let text = wat_ty(t, &mut decls);
    format!("{text} where {}", decls.join(" "))
}

#[test]
fn randomized_round_trips() {
    let cases: u64 = std::env::var("FACT_ROUND_TRIP_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(150);
    let first_seed: u64 = std::env::var("FACT_ROUND_TRIP_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    // Odd seeds run with explicit bounds checks, even ones with guard pages.
    let mut bounds_checks = fact::Config::new();
    bounds_checks.guard_pages(false);
    let engines = [Engine::default(), Engine::new(&bounds_checks).unwrap()];
    let linkers: Vec<Linker<()>> = engines
        .iter()
        .map(|engine| {
            let mut linker = Linker::<()>::new(engine);
            linker
                .root()
                .func_new("echo", |_, params, results| {
                    results[0] = params[0].clone();
                    Ok(())
                })
                .unwrap();
            linker
        })
        .collect();
    for seed in first_seed..first_seed + cases {
        let (engine, linker) = (&engines[seed as usize % 2], &linkers[seed as usize % 2]);
        let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
        let ty = gen_ty(&mut rng, 3);
        let outer = ENCODINGS[rng.below(3) as usize];
        let inner = ENCODINGS[rng.below(3) as usize];
        let wat = case_component(&ty, outer, inner);
        let component = Component::new(engine, &wat).unwrap_or_else(|e| {
            panic!(
                "seed {seed}: {} does not compile: {e:#}\n{wat}",
                show_ty(&ty)
            )
        });
        let mut store = Store::new(engine, ());
        let instance = linker
            .instantiate(&mut store, &component)
            .unwrap_or_else(|e| panic!("seed {seed}: {e:#}"));
        let echo = instance.get_func(&mut store, "echo").unwrap();
        for _ in 0..4 {
            let value = gen_val(&mut rng, &ty);
            let mut out = [Val::Bool(false)];
            echo.call(&mut store, std::slice::from_ref(&value), &mut out)
                .unwrap_or_else(|e| {
                    panic!(
                        "seed {seed}: {} ({outer} -> {inner}) with {value:?}: {e:?}",
                        show_ty(&ty)
                    )
                });
            assert_eq!(
                out[0],
                value,
                "seed {seed}: {} ({outer} -> {inner})",
                show_ty(&ty)
            );
        }
    }
}
