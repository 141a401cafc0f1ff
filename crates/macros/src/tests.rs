//! Unit tests of the expansion: names, accepted inputs and the errors for misuse (the
//! round trips through guests are in `crates/fact/tests/derive.rs`).

use crate::expand::{expand, Derive};
use crate::model::{is_label, kebab_case};
use syn::{parse_quote, DeriveInput};

const ALL: [Derive; 3] = [Derive::ComponentType, Derive::Lower, Derive::Lift];

/// Expands every derive of `input` and checks the output is valid Rust items.
fn expands(input: DeriveInput) -> String {
    let mut out = String::new();
    for which in ALL {
        let tokens = expand(&input, which).unwrap_or_else(|e| panic!("{which:?}: {e}"));
        syn::parse2::<syn::File>(tokens.clone())
            .unwrap_or_else(|e| panic!("{which:?} output does not parse: {e}\n{tokens}"));
        out.push_str(&tokens.to_string());
    }
    out
}

/// The error every derive gives for `input`; they must agree.
fn error(input: DeriveInput) -> String {
    let errors: Vec<String> = ALL
        .iter()
        .map(|&which| match expand(&input, which) {
            Ok(tokens) => panic!("{which:?} expanded: {tokens}"),
            Err(e) => e.to_string(),
        })
        .collect();
    assert!(errors.iter().all(|e| *e == errors[0]), "{errors:?}");
    errors[0].clone()
}

#[test]
fn kebab_case_names() {
    for (ident, name) in [
        ("x", "x"),
        ("foo_bar", "foo-bar"),
        ("foo_bar_2", "foo-bar-2"),
        ("BigCircle", "big-circle"),
        ("Circle", "circle"),
        ("HTTPServer", "http-server"),
        ("V2Point", "v2-point"),
        ("Vec2", "vec2"),
        ("_private", "private"),
        ("a__b_", "a-b"),
        ("ALL_CAPS", "all-caps"),
    ] {
        assert_eq!(kebab_case(ident), name, "{ident}");
    }
}

#[test]
fn labels() {
    for ok in ["a", "foo-bar", "y-coord", "v2", "HTTP-server", "ABC-d1"] {
        assert!(is_label(ok), "{ok}");
    }
    for bad in [
        "", "-a", "a-", "a--b", "Foo", "2d", "foo_bar", "a-2", "héllo",
    ] {
        assert!(!is_label(bad), "{bad}");
    }
}

#[test]
fn accepted_inputs() {
    let out = expands(parse_quote! {
        #[component(record)]
        struct Point { x: u32, #[component(name = "y-coord")] y: u32, r#type: u8 }
    });
    assert!(out.contains("\"y-coord\""), "{out}");
    assert!(out.contains("\"type\""), "{out}");
    assert!(out.contains(":: fact :: component :: __internal :: record :: fields"));

    let out = expands(parse_quote! {
        #[derive(Debug)]
        #[component(variant)]
        enum Shape { BigCircle(f32), #[component(name = "none")] Empty, Unit(()) }
    });
    assert!(
        out.contains("\"big-circle\"") && out.contains("\"none\""),
        "{out}"
    );

    expands(parse_quote! {
        #[component(variant)]
        enum Tags { A, B }
    });
    expands(parse_quote! {
        #[component(enum)]
        enum Color { Red, Green = 7, DarkBlue }
    });
    let out = expands(parse_quote! {
        #[component(flags)]
        struct Perms { read: bool, write: bool, #[component(name = "x")] exec: bool }
    });
    assert!(out.contains("4u32"), "{out}");

    // Generic types get bounds on their parameters.
    let out = expands(parse_quote! {
        #[component(record)]
        struct Pair<'a, T, const N: usize> where T: Clone { a: T, b: &'a str }
    });
    assert!(out.contains("T : :: fact :: component :: Lower"), "{out}");

    // 32 flags are fine.
    let fields: Vec<syn::Ident> = (0..32).map(|i| quote::format_ident!("f{i}")).collect();
    expands(parse_quote! {
        #[component(flags)]
        struct Many { #(#fields: bool),* }
    });
}

#[test]
fn misuse_is_an_error() {
    for (input, msg) in [
        (
            parse_quote!(
                struct P {
                    x: u32,
                }
            ),
            "missing the kind of component type",
        ),
        (
            parse_quote!(
                #[component(record)]
                struct P(u32, u32);
            ),
            "needs named fields, not a tuple struct",
        ),
        (
            parse_quote!(
                #[component(record)]
                struct P;
            ),
            "needs a struct with named fields",
        ),
        (
            parse_quote!(
                #[component(record)]
                struct P {}
            ),
            "needs at least one field",
        ),
        (
            parse_quote!(
                #[component(variant)]
                enum E {
                    A(u32, u32),
                }
            ),
            "has at most one unnamed field",
        ),
        (
            parse_quote!(
                #[component(variant)]
                enum E {
                    A { x: u32 },
                }
            ),
            "has at most one unnamed field",
        ),
        (
            parse_quote!(
                #[component(variant)]
                enum E {}
            ),
            "needs at least one case",
        ),
        (
            parse_quote!(
                #[component(enum)]
                enum E {
                    A(u32),
                }
            ),
            "has no payload",
        ),
        (
            parse_quote!(
                #[component(record)]
                enum E {
                    A,
                }
            ),
            "applies to a struct with named fields, not an enum",
        ),
        (
            parse_quote!(
                #[component(variant)]
                struct S {
                    a: u32,
                }
            ),
            "applies to an enum, not a struct",
        ),
        (
            parse_quote!(#[component(record)] union U { a: u32 }),
            "unions have no component type",
        ),
        (
            parse_quote!(
                #[component(tuple)]
                struct S {
                    a: u32,
                }
            ),
            "unknown component attribute",
        ),
        (
            parse_quote!(
                #[component(record, record)]
                struct S {
                    a: u32,
                }
            ),
            "given more than once",
        ),
        (
            parse_quote!(
                #[component(record)]
                #[component(flags)]
                struct S {
                    a: bool,
                }
            ),
            "given more than once",
        ),
        (
            parse_quote!(
                #[component(record = "x")]
                struct S {
                    a: u32,
                }
            ),
            "takes no arguments",
        ),
        (
            parse_quote!(
                #[component(record, name = "s")]
                struct S {
                    a: u32,
                }
            ),
            "`name` renames a field or a case",
        ),
        (
            parse_quote!(
                #[component]
                struct S {
                    a: u32,
                }
            ),
            "expected attribute arguments in parentheses",
        ),
        (
            parse_quote!(
                #[component(record)]
                struct S {
                    #[component(name = "Bad_Name")]
                    a: u32,
                }
            ),
            "`Bad_Name` is not a component name",
        ),
        (
            parse_quote!(
                #[component(record)]
                struct S {
                    #[component(name = 3)]
                    a: u32,
                }
            ),
            "expected string literal",
        ),
        (
            parse_quote!(
                #[component(record)]
                struct S {
                    #[component(record)]
                    a: u32,
                }
            ),
            "is the kind of the whole type",
        ),
        (
            parse_quote!(
                #[component(record)]
                struct S {
                    #[component(rename = "b")]
                    a: u32,
                }
            ),
            "expected `name",
        ),
        (
            parse_quote!(
                #[component(record)]
                struct S {
                    _1: u32,
                }
            ),
            "does not make a kebab-case component name",
        ),
        (
            parse_quote!(
                #[component(record)]
                struct S {
                    a_b: u32,
                    #[component(name = "a-b")]
                    c: u32,
                }
            ),
            "field `c` has the component name `a-b` of `a_b`",
        ),
        (
            parse_quote!(
                #[component(enum)]
                enum E {
                    FooBar,
                    #[component(name = "foo-bar")]
                    Baz,
                }
            ),
            "case `Baz` has the component name `foo-bar` of `FooBar`",
        ),
        (
            parse_quote!(
                #[component(variant)]
                enum E {
                    A(#[component(name = "x")] u32),
                }
            ),
            "a case's payload takes no `#[component(...)]`",
        ),
    ] {
        let input: DeriveInput = input;
        let err = error(input.clone());
        assert!(err.contains(msg), "{}: {err}", quote::quote!(#input));
    }

    let fields: Vec<syn::Ident> = (0..33).map(|i| quote::format_ident!("f{i}")).collect();
    let err = error(parse_quote! {
        #[component(flags)]
        struct Many { #(#fields: bool),* }
    });
    assert!(err.contains("at most 32 labels"), "{err}");
}

/// The line and columns of the error for `src` (spans from a parsed string are real).
fn error_at(src: &str) -> (usize, usize, usize) {
    let input: DeriveInput = syn::parse_str(src).unwrap();
    let span = expand(&input, Derive::Lift).unwrap_err().span();
    assert_eq!(span.start().line, span.end().line, "{src}");
    (span.start().line, span.start().column, span.end().column)
}

#[test]
fn errors_point_at_the_culprit() {
    // The fields of the bad case.
    assert_eq!(
        error_at("#[component(variant)]\nenum E { A(u32), B(u32, u64) }"),
        (2, 18, 28)
    );
    // The tuple struct's fields.
    assert_eq!(
        error_at("#[component(record)]\nstruct P(u32, u32);"),
        (2, 8, 18)
    );
    // The type's name when the kind is missing.
    assert_eq!(error_at("struct Point { x: u32 }"), (1, 7, 12));
    // The kind that does not fit.
    assert_eq!(error_at("#[component(record)]\nenum E { A }"), (1, 12, 18));
    // The name that is not kebab-case.
    assert_eq!(
        error_at(
            "#[component(record)]\nstruct S {\n    #[component(name = \"A_b\")]\n    a: u32,\n}"
        ),
        (3, 23, 28)
    );
}

#[test]
fn compile_error_output() {
    let tokens = crate::expand::derive(
        quote::quote!(
            struct P {
                x: u32,
            }
        ),
        Derive::Lower,
    );
    assert!(
        tokens.to_string().starts_with(":: core :: compile_error !"),
        "{tokens}"
    );
}
