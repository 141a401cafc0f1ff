//! `#[derive(ComponentType, Lift, Lower)]` on records, variants, enums and flags: values
//! round-trip host → guest → host import → guest → host, agree with dynamic `Val`s, and
//! mismatched interface types are rejected by the type check.

mod common;
use fact::component::{Component, ComponentType, Lift, Linker, Lower, TypedFunc, Val};
use fact::{Engine, Store};
use std::fmt::Debug;

#[derive(ComponentType, Lift, Lower, Clone, Debug, PartialEq)]
#[component(record)]
struct Point {
    x: u32,
    #[component(name = "y-coord")]
    y: u32,
}

#[derive(ComponentType, Lift, Lower, Clone, Debug, PartialEq)]
#[component(variant)]
enum Shape {
    Circle(f32),
    BigCircle(f64),
    #[component(name = "none")]
    Empty,
    Label(String),
    Polygon(Vec<Point>),
}

#[derive(ComponentType, Lift, Lower, Clone, Copy, Debug, PartialEq)]
#[component(enum)]
enum Color {
    Red,
    Green,
    DarkBlue,
}

#[derive(ComponentType, Lift, Lower, Clone, Copy, Debug, Default, PartialEq)]
#[component(flags)]
struct Perms {
    read: bool,
    write: bool,
    exec: bool,
}

/// Ten flags: two bytes in memory.
#[derive(ComponentType, Lift, Lower, Clone, Copy, Debug, Default, PartialEq)]
#[component(flags)]
struct Mode {
    a0: bool,
    a1: bool,
    a2: bool,
    a3: bool,
    a4: bool,
    a5: bool,
    a6: bool,
    a7: bool,
    a8: bool,
    r#type: bool,
}

#[derive(ComponentType, Lift, Lower, Clone, Debug, PartialEq)]
#[component(record)]
struct Drawing {
    name: String,
    shape: Shape,
    color: Option<Color>,
    points: Vec<Point>,
    perms: Perms,
}

/// More than 16 flat values: passed in memory.
#[derive(ComponentType, Lift, Lower, Clone, Debug, PartialEq)]
#[component(record)]
struct Wide {
    left: Drawing,
    right: Drawing,
    mode: Mode,
}

#[derive(ComponentType, Lift, Lower, Clone, Debug, PartialEq)]
#[component(record)]
struct Pair<T> {
    first: T,
    second: T,
}

#[derive(ComponentType, Lift, Lower, Clone, Debug, PartialEq)]
#[component(variant)]
enum Either<L, R> {
    Left(L),
    Right(R),
}

// Named interface types, each defined in terms of the ones before it.
const POINT: (&str, &str) = ("point", r#"(record (field "x" u32) (field "y-coord" u32))"#);
const SHAPE: (&str, &str) = (
    "shape",
    r#"(variant (case "circle" f32) (case "big-circle" f64) (case "none")
         (case "label" string) (case "polygon" (list $point)))"#,
);
const COLOR: (&str, &str) = ("color", r#"(enum "red" "green" "dark-blue")"#);
const PERMS: (&str, &str) = ("perms", r#"(flags "read" "write" "exec")"#);
const MODE: (&str, &str) = (
    "mode",
    r#"(flags "a0" "a1" "a2" "a3" "a4" "a5" "a6" "a7" "a8" "type")"#,
);
const DRAWING: (&str, &str) = (
    "drawing",
    r#"(record (field "name" string) (field "shape" $shape) (field "color" (option $color))
         (field "points" (list $point)) (field "perms" $perms))"#,
);
const WIDE: (&str, &str) = (
    "wide",
    r#"(record (field "left" $drawing) (field "right" $drawing) (field "mode" $mode))"#,
);

const SHAPE_FLAT: &[&str] = &["i32", "i64", "i32"];
const DRAWING_FLAT: &[&str] = &[
    "i32", "i32", "i32", "i64", "i32", "i32", "i32", "i32", "i32", "i32",
];

use common::echo_component;

fn compile(engine: &Engine, types: &[(&str, &str)], flat: &[&str]) -> Component {
    let wat = echo_component(types, flat);
    Component::new(engine, &wat).unwrap_or_else(|e| panic!("{e:?}\n{wat}"))
}

trait Value: ComponentType + Lift + Lower + Clone + Debug + PartialEq + Send + Sync + 'static {}
impl<T: ComponentType + Lift + Lower + Clone + Debug + PartialEq + Send + Sync + 'static> Value
    for T
{
}

/// The typed `echo` export.
type Echo<T> = TypedFunc<(T,), (T,)>;

/// Instantiates the echo component with a typed `host-echo` that records what it is
/// given, and returns the typed `echo`.
fn typed_echo<T: Value>(types: &[(&str, &str)], flat: &[&str]) -> (Store<Vec<T>>, Echo<T>) {
    let engine = Engine::default();
    let component = compile(&engine, types, flat);
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
        .unwrap();
    (store, echo)
}

/// Sends each of `values` through a typed call (host lowering, guest → host lifting and
/// lowering, host lifting), checking what the host import saw and what came back.
fn round_trip<T: Value>(types: &[(&str, &str)], flat: &[&str], values: &[T]) {
    let (mut store, echo) = typed_echo::<T>(types, flat);
    for v in values {
        let (back,) = echo
            .call(&mut store, (v.clone(),))
            .unwrap_or_else(|e| panic!("{v:?}: {e:?}"));
        assert_eq!(&back, v);
    }
    assert_eq!(store.data(), values);
}

/// Checks that the derived lifting and lowering agree with the dynamic `Val`s: a typed
/// call through a dynamic host import, then a dynamic call through a typed host import.
fn agrees_with_val<T: Value>(types: &[(&str, &str)], flat: &[&str], value: T, val: Val) {
    let engine = Engine::default();
    let component = compile(&engine, types, flat);

    let mut linker = Linker::<Vec<Val>>::new(&engine);
    linker
        .root()
        .func_new("host-echo", |mut store, params, results| {
            store.data_mut().push(params[0].clone());
            results[0] = params[0].clone();
            Ok(())
        })
        .unwrap();
    let mut store = Store::new(&engine, Vec::new());
    let instance = linker.instantiate(&mut store, &component).unwrap();
    let echo = instance
        .get_typed_func::<(T,), (T,)>(&mut store, "echo")
        .unwrap();
    assert_eq!(
        echo.call(&mut store, (value.clone(),)).unwrap(),
        (value.clone(),)
    );
    assert_eq!(store.data(), std::slice::from_ref(&val));

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
    let echo = instance.get_func(&mut store, "echo").unwrap();
    let mut out = [Val::Bool(false)];
    echo.call(&mut store, std::slice::from_ref(&val), &mut out)
        .unwrap();
    assert_eq!(out[0], val);
    assert_eq!(store.data(), &[value]);
}

fn point(x: u32, y: u32) -> Point {
    Point { x, y }
}

fn drawing(n: u32) -> Drawing {
    Drawing {
        name: format!("drawing #{n}"),
        shape: match n % 3 {
            0 => Shape::Polygon(vec![point(n, 1), point(2, n)]),
            1 => Shape::BigCircle(f64::from(n) * 1.5),
            _ => Shape::Label("ünïcode ✓".into()),
        },
        color: [None, Some(Color::Red), Some(Color::DarkBlue)][n as usize % 3],
        points: (0..n).map(|i| point(i, i * i)).collect(),
        perms: Perms {
            read: n & 1 == 0,
            write: true,
            exec: [true, false, false][n as usize % 3],
        },
    }
}

#[test]
fn records() {
    round_trip(
        &[POINT],
        &["i32", "i32"],
        &[point(1, 2), point(0, 0), point(u32::MAX, 7)],
    );
}

#[test]
fn variants() {
    round_trip(
        &[POINT, SHAPE],
        SHAPE_FLAT,
        &[
            Shape::Circle(2.5),
            Shape::BigCircle(-1e300),
            Shape::Empty,
            Shape::Label("hello".into()),
            Shape::Label(String::new()),
            Shape::Polygon(vec![point(1, 2), point(3, 4), point(5, 6)]),
            Shape::Polygon(Vec::new()),
            Shape::Circle(f32::NEG_INFINITY),
        ],
    );
}

#[test]
fn enums() {
    round_trip(
        &[COLOR],
        &["i32"],
        &[Color::Red, Color::Green, Color::DarkBlue, Color::Red],
    );
}

#[test]
fn flags() {
    let all = |bits: u32| Perms {
        read: bits & 1 != 0,
        write: bits & 2 != 0,
        exec: bits & 4 != 0,
    };
    round_trip(&[PERMS], &["i32"], &(0..8).map(all).collect::<Vec<_>>());
    let mode = |bits: u32| Mode {
        a0: bits & 1 != 0,
        a3: bits & 8 != 0,
        a7: bits & 0x80 != 0,
        a8: bits & 0x100 != 0,
        r#type: bits & 0x200 != 0,
        ..Mode::default()
    };
    round_trip(
        &[MODE],
        &["i32"],
        &[0, 1, 0x80, 0x100, 0x200, 0x389].map(mode),
    );
}

#[test]
fn nested_types() {
    let types = [POINT, SHAPE, COLOR, PERMS, DRAWING];
    round_trip(
        &types,
        DRAWING_FLAT,
        &(0..6).map(drawing).collect::<Vec<_>>(),
    );

    // Options of enums, lists of records.
    round_trip(
        &[COLOR, ("maybe", "(option $color)")],
        &["i32", "i32"],
        &[None, Some(Color::Green), Some(Color::DarkBlue)],
    );
    round_trip(
        &[POINT, ("points", "(list $point)")],
        &["i32", "i32"],
        &[
            vec![],
            vec![point(1, 2)],
            (0..50).map(|i| point(i, 2 * i)).collect(),
        ],
    );
}

#[test]
fn parameters_in_memory() {
    let types = [POINT, SHAPE, COLOR, PERMS, MODE, DRAWING, WIDE];
    let flat: Vec<&str> = [DRAWING_FLAT, DRAWING_FLAT, &["i32"]].concat();
    assert!(flat.len() > 16);
    let wide = |n: u32| Wide {
        left: drawing(n),
        right: drawing(n + 1),
        mode: Mode {
            a1: true,
            a8: n % 2 == 1,
            r#type: true,
            ..Mode::default()
        },
    };
    round_trip(&types, &flat, &(0..4).map(wide).collect::<Vec<_>>());
}

#[test]
fn generic_types() {
    round_trip(
        &[(
            "pair",
            r#"(record (field "first" u64) (field "second" u64))"#,
        )],
        &["i64", "i64"],
        &[Pair {
            first: u64::MAX,
            second: 3,
        }],
    );
    // `()` stands for a case without payload.
    round_trip(
        &[("either", r#"(variant (case "left") (case "right" string))"#)],
        &["i32", "i32", "i32"],
        &[Either::Left(()), Either::Right("right".to_string())],
    );
    round_trip(
        &[
            POINT,
            COLOR,
            (
                "either",
                r#"(variant (case "left" $point) (case "right" $color))"#,
            ),
        ],
        &["i32", "i32", "i32"],
        &[Either::Left(point(4, 5)), Either::Right(Color::Green)],
    );
}

#[test]
fn same_encoding_as_dynamic_values() {
    let s = |v: &str| Val::String(v.to_string());
    let p = |x: u32, y: u32| {
        Val::Record(vec![
            ("x".into(), Val::U32(x)),
            ("y-coord".into(), Val::U32(y)),
        ])
    };
    agrees_with_val(&[POINT], &["i32", "i32"], point(3, 4), p(3, 4));
    agrees_with_val(
        &[POINT, SHAPE],
        SHAPE_FLAT,
        Shape::BigCircle(0.5),
        Val::Variant("big-circle".into(), Some(Box::new(Val::Float64(0.5)))),
    );
    agrees_with_val(
        &[POINT, SHAPE],
        SHAPE_FLAT,
        Shape::Empty,
        Val::Variant("none".into(), None),
    );
    agrees_with_val(
        &[COLOR],
        &["i32"],
        Color::DarkBlue,
        Val::Enum("dark-blue".into()),
    );
    agrees_with_val(
        &[PERMS],
        &["i32"],
        Perms {
            read: true,
            write: false,
            exec: true,
        },
        Val::Flags(vec!["read".into(), "exec".into()]),
    );
    let value = Drawing {
        name: "d".into(),
        shape: Shape::Polygon(vec![point(1, 2)]),
        color: Some(Color::Green),
        points: vec![point(5, 6), point(7, 8)],
        perms: Perms {
            write: true,
            ..Perms::default()
        },
    };
    let val = Val::Record(vec![
        ("name".into(), s("d")),
        (
            "shape".into(),
            Val::Variant("polygon".into(), Some(Box::new(Val::List(vec![p(1, 2)])))),
        ),
        (
            "color".into(),
            Val::Option(Some(Box::new(Val::Enum("green".into())))),
        ),
        ("points".into(), Val::List(vec![p(5, 6), p(7, 8)])),
        ("perms".into(), Val::Flags(vec!["write".into()])),
    ]);
    agrees_with_val(
        &[POINT, SHAPE, COLOR, PERMS, DRAWING],
        DRAWING_FLAT,
        value,
        val,
    );
}

/// The error of typing the echo export of a component on `types` as `T`.
fn typing_error<T: Value>(types: &[(&str, &str)], flat: &[&str]) -> String {
    let engine = Engine::default();
    let component = compile(&engine, types, flat);
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
    let err = instance
        .get_typed_func::<(T,), (T,)>(&mut store, "echo")
        .unwrap_err();
    format!("{err:#}")
}

/// The error of instantiating a component on `types` with a `host-echo` typed as `T`.
fn import_error<T: Value>(types: &[(&str, &str)], flat: &[&str]) -> String {
    let engine = Engine::default();
    let component = compile(&engine, types, flat);
    let mut linker = Linker::<()>::new(&engine);
    linker
        .root()
        .func_wrap("host-echo", |_, (x,): (T,)| Ok((x,)))
        .unwrap();
    let mut store = Store::new(&engine, ());
    let err = linker.instantiate(&mut store, &component).unwrap_err();
    format!("{err:#}")
}

/// Asserts that `err` contains each of `parts`.
fn assert_mentions(err: &str, parts: &[&str]) {
    for part in parts {
        assert!(err.contains(part), "`{part}` not in: {err}");
    }
}

#[test]
fn typecheck_failures() {
    let both = |err_typed: String, err_import: String, parts: &[&str]| {
        assert_mentions(&err_typed, parts);
        assert_mentions(&err_import, parts);
        assert_mentions(&err_import, &["host-echo"]);
    };
    macro_rules! check {
        ($t:ty, $types:expr, $flat:expr, $parts:expr) => {
            both(
                typing_error::<$t>($types, $flat),
                import_error::<$t>($types, $flat),
                $parts,
            )
        };
    }

    // Wrong field name.
    check!(
        Point,
        &[("point", r#"(record (field "x" u32) (field "y" u32))"#)],
        &["i32", "i32"],
        &[
            "type mismatch",
            "field 1",
            "is `y`",
            "`Point` has `y-coord`"
        ]
    );
    // Wrong field count.
    check!(
        Point,
        &[("point", r#"(record (field "x" u32))"#)],
        &["i32"],
        &["type mismatch", "number of fields", "has 1, `Point` has 2"]
    );
    // Wrong field type.
    check!(
        Point,
        &[(
            "point",
            r#"(record (field "x" string) (field "y-coord" u32))"#
        )],
        &["i32", "i32", "i32"],
        &["type mismatch in field `x` of `Point`", "string, not u32"]
    );
    // Not a record.
    check!(
        Point,
        &[PERMS],
        &["i32"],
        &[
            "type mismatch",
            "flags { read, write, exec }",
            "not the record `Point`"
        ]
    );
    // Wrong case count.
    check!(
        Shape,
        &[(
            "shape",
            r#"(variant (case "circle" f32) (case "big-circle" f64) (case "none"))"#
        )],
        &["i32", "i64"],
        &["type mismatch", "number of cases", "has 3, `Shape` has 5"]
    );
    // A payload where the Rust case has none, and none where it has one.
    check!(
        Shape,
        &[
            POINT,
            (
                "shape",
                r#"(variant (case "circle" f32) (case "big-circle" f64) (case "none" u8)
                     (case "label" string) (case "polygon" (list $point)))"#
            )
        ],
        SHAPE_FLAT,
        &["case `none`", "has a payload, but `Shape::Empty` has none"]
    );
    check!(
        Shape,
        &[
            POINT,
            (
                "shape",
                r#"(variant (case "circle") (case "big-circle" f64) (case "none")
                     (case "label" string) (case "polygon" (list $point)))"#
            )
        ],
        SHAPE_FLAT,
        &[
            "case `circle`",
            "has no payload, but `Shape::Circle` has one"
        ]
    );
    // A wrong payload type, nested: the context names the case and the field.
    check!(
        Shape,
        &[
            ("point", r#"(record (field "x" u32) (field "y" u32))"#),
            SHAPE
        ],
        SHAPE_FLAT,
        &[
            "type mismatch in case `polygon` of `Shape`",
            "`Point` has `y-coord`"
        ]
    );
    // A variant is not an enum, and enum names must match.
    check!(
        Color,
        &[(
            "color",
            r#"(variant (case "red") (case "green") (case "dark-blue"))"#
        )],
        &["i32"],
        &["type mismatch", "not the enum `Color`"]
    );
    check!(
        Color,
        &[("color", r#"(enum "red" "green" "blue")"#)],
        &["i32"],
        &[
            "type mismatch",
            "case 2",
            "is `blue`, but `Color` has `dark-blue`"
        ]
    );
    // Flags labels in another order.
    check!(
        Perms,
        &[("perms", r#"(flags "read" "exec" "write")"#)],
        &["i32"],
        &[
            "type mismatch",
            "label 1",
            "is `exec`, but `Perms` has `write`"
        ]
    );
    // Deep inside a record.
    check!(
        Drawing,
        &[
            POINT,
            SHAPE,
            ("color", r#"(enum "red" "green")"#),
            PERMS,
            DRAWING
        ],
        DRAWING_FLAT,
        &[
            "type mismatch in field `color` of `Drawing`",
            "number of cases differs",
        ]
    );
}
