//! What a derive input means: its `#[component(...)]` attributes checked and turned into
//! a record, variant, enum or flags with the component names of its fields or cases.

use proc_macro2::Span;
use syn::ext::IdentExt;
use syn::spanned::Spanned;
use syn::{Attribute, Data, DeriveInput, Error, Fields, Generics, Ident, LitStr, Result, Type};

/// The most labels a `flags` type may have (the flags helpers work on one `u32`).
const MAX_FLAGS: usize = 32;

/// The kind of component type, from `#[component(KIND)]` on the Rust type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Record,
    Variant,
    Enum,
    Flags,
}

impl Kind {
    const ALL: [Kind; 4] = [Kind::Record, Kind::Variant, Kind::Enum, Kind::Flags];

    fn keyword(self) -> &'static str {
        match self {
            Kind::Record => "record",
            Kind::Variant => "variant",
            Kind::Enum => "enum",
            Kind::Flags => "flags",
        }
    }

    fn of(path: &syn::Path) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| path.is_ident(k.keyword()))
    }
}

/// A record field or a flag: a named struct field.
pub(crate) struct Field {
    pub ident: Ident,
    pub ty: Type,
    /// The component name (kebab-case).
    pub name: String,
}

/// A variant or enum case.
pub(crate) struct Case {
    pub ident: Ident,
    /// The component name (kebab-case).
    pub name: String,
    /// The type of the single unnamed field, if any.
    pub payload: Option<Type>,
}

/// The shape of the derived type.
pub(crate) enum Body {
    Record(Vec<Field>),
    Flags(Vec<Field>),
    Variant(Vec<Case>),
    Enum(Vec<Case>),
}

/// A checked derive input.
pub(crate) struct Model {
    pub ident: Ident,
    pub generics: Generics,
    pub body: Body,
}

impl Model {
    pub(crate) fn new(input: &DeriveInput) -> Result<Model> {
        let (kind, kind_span) = container_kind(input)?;
        let body = match (&input.data, kind) {
            (Data::Struct(s), Kind::Record | Kind::Flags) => {
                let fields = named_fields(input, &s.fields, kind)?;
                if kind == Kind::Record {
                    Body::Record(fields)
                } else {
                    if let Some(extra) = fields.get(MAX_FLAGS) {
                        return Err(Error::new(
                            extra.ident.span(),
                            format!("flags have at most {MAX_FLAGS} labels"),
                        ));
                    }
                    Body::Flags(fields)
                }
            }
            (Data::Enum(e), Kind::Variant | Kind::Enum) => {
                if e.variants.is_empty() {
                    return Err(Error::new(
                        input.ident.span(),
                        format!("`#[component({})]` needs at least one case", kind.keyword()),
                    ));
                }
                let cases = e
                    .variants
                    .iter()
                    .map(|v| case(v, kind))
                    .collect::<Result<Vec<_>>>()?;
                check_unique(cases.iter().map(|c| (&c.name, &c.ident)), "case")?;
                if kind == Kind::Variant {
                    Body::Variant(cases)
                } else {
                    Body::Enum(cases)
                }
            }
            (Data::Struct(_), _) => {
                return Err(Error::new(
                    kind_span,
                    format!(
                        "`#[component({})]` applies to an enum, not a struct \
                         (a struct derives `record` or `flags`)",
                        kind.keyword()
                    ),
                ))
            }
            (Data::Enum(_), _) => {
                return Err(Error::new(
                    kind_span,
                    format!(
                        "`#[component({})]` applies to a struct with named fields, not an enum \
                         (an enum derives `variant` or `enum`)",
                        kind.keyword()
                    ),
                ))
            }
            (Data::Union(u), _) => {
                return Err(Error::new(
                    u.union_token.span(),
                    "unions have no component type; use a struct or an enum",
                ))
            }
        };
        Ok(Model {
            ident: input.ident.clone(),
            generics: input.generics.clone(),
            body,
        })
    }
}

/// The kind given by `#[component(KIND)]` on the type, with the span of `KIND`.
fn container_kind(input: &DeriveInput) -> Result<(Kind, Span)> {
    let mut found: Option<(Kind, Span)> = None;
    for attr in component_attrs(&input.attrs) {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("name") {
                return Err(
                    meta.error("`name` renames a field or a case: put it on one, not on the type")
                );
            }
            let Some(kind) = Kind::of(&meta.path) else {
                return Err(meta.error(
                    "unknown component attribute: expected `record`, `variant`, `enum` or `flags`",
                ));
            };
            if !meta.input.is_empty() && !meta.input.peek(syn::Token![,]) {
                return Err(meta.error(format!("`{}` takes no arguments", kind.keyword())));
            }
            if found.is_some() {
                return Err(meta.error("the kind of component type is given more than once"));
            }
            found = Some((kind, meta.path.span()));
            Ok(())
        })?;
    }
    found.ok_or_else(|| {
        Error::new(
            input.ident.span(),
            "missing the kind of component type: add `#[component(record)]`, \
             `#[component(variant)]`, `#[component(enum)]` or `#[component(flags)]`",
        )
    })
}

fn component_attrs(attrs: &[Attribute]) -> impl Iterator<Item = &Attribute> {
    attrs.iter().filter(|a| a.path().is_ident("component"))
}

/// The `name = "..."` of a field's or case's `#[component(...)]`, if any.
fn rename(attrs: &[Attribute]) -> Result<Option<LitStr>> {
    let mut name: Option<LitStr> = None;
    for attr in component_attrs(attrs) {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("name") {
                if name.is_some() {
                    return Err(meta.error("`name` is given more than once"));
                }
                name = Some(meta.value()?.parse()?);
                Ok(())
            } else if let Some(kind) = Kind::of(&meta.path) {
                Err(meta.error(format!(
                    "`{}` is the kind of the whole type: put it on the struct or enum",
                    kind.keyword()
                )))
            } else {
                Err(meta.error("unknown component attribute: expected `name = \"...\"`"))
            }
        })?;
    }
    Ok(name)
}

/// The component name of a field or case: its `name = "..."`, or its identifier in
/// kebab-case.
fn component_name(ident: &Ident, attrs: &[Attribute]) -> Result<String> {
    match rename(attrs)? {
        Some(lit) => {
            let name = lit.value();
            if is_label(&name) {
                Ok(name)
            } else {
                Err(Error::new(
                    lit.span(),
                    format!(
                        "`{name}` is not a component name: use kebab-case words \
                         (like `big-circle`) each all lowercase or all uppercase"
                    ),
                ))
            }
        }
        None => {
            let name = kebab_case(&ident.unraw().to_string());
            if is_label(&name) {
                Ok(name)
            } else {
                Err(Error::new(
                    ident.span(),
                    format!(
                        "`{ident}` does not make a kebab-case component name; \
                         give one with `#[component(name = \"...\")]`"
                    ),
                ))
            }
        }
    }
}

/// The named fields of a `record` or `flags` struct.
fn named_fields(input: &DeriveInput, fields: &Fields, kind: Kind) -> Result<Vec<Field>> {
    let named = match fields {
        Fields::Named(named) => named,
        Fields::Unnamed(unnamed) => {
            return Err(Error::new(
                unnamed.span(),
                format!(
                    "`#[component({})]` needs named fields, not a tuple struct \
                     (a component tuple is a Rust tuple)",
                    kind.keyword()
                ),
            ))
        }
        Fields::Unit => {
            return Err(Error::new(
                input.ident.span(),
                format!(
                    "`#[component({})]` needs a struct with named fields",
                    kind.keyword()
                ),
            ))
        }
    };
    if named.named.is_empty() {
        return Err(Error::new(
            input.ident.span(),
            format!(
                "`#[component({})]` needs at least one field",
                kind.keyword()
            ),
        ));
    }
    let fields = named
        .named
        .iter()
        .map(|f| {
            let Some(ident) = f.ident.clone() else {
                return Err(Error::new(f.span(), "a named field without a name"));
            };
            Ok(Field {
                name: component_name(&ident, &f.attrs)?,
                ident,
                ty: f.ty.clone(),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let what = if kind == Kind::Record {
        "field"
    } else {
        "flag"
    };
    check_unique(fields.iter().map(|f| (&f.name, &f.ident)), what)?;
    Ok(fields)
}

/// A case of a `variant` or `enum`.
fn case(v: &syn::Variant, kind: Kind) -> Result<Case> {
    let payload = match (&v.fields, kind) {
        (Fields::Unit, _) => None,
        (Fields::Unnamed(f), Kind::Variant) if f.unnamed.len() == 1 => {
            let field = &f.unnamed[0];
            if let Some(attr) = component_attrs(&field.attrs).next() {
                return Err(Error::new(
                    attr.span(),
                    "a case's payload takes no `#[component(...)]`: \
                     put `name` on the case itself",
                ));
            }
            Some(field.ty.clone())
        }
        (fields, Kind::Variant) => {
            return Err(Error::new(
                fields.span(),
                format!(
                    "case `{}` of a `#[component(variant)]` has at most one unnamed field \
                     (put several values in a tuple, like `{}((T1, T2))`)",
                    v.ident, v.ident
                ),
            ))
        }
        (fields, _) => {
            return Err(Error::new(
                fields.span(),
                format!(
                    "case `{}` of a `#[component(enum)]` has no payload \
                     (use `#[component(variant)]` for cases with payloads)",
                    v.ident
                ),
            ))
        }
    };
    Ok(Case {
        name: component_name(&v.ident, &v.attrs)?,
        ident: v.ident.clone(),
        payload,
    })
}

/// Rejects two fields or cases with the same component name.
fn check_unique<'a>(
    items: impl Iterator<Item = (&'a String, &'a Ident)>,
    what: &str,
) -> Result<()> {
    let mut seen: Vec<(&String, &Ident)> = Vec::new();
    for (name, ident) in items {
        if let Some((_, first)) = seen.iter().find(|(n, _)| *n == name) {
            return Err(Error::new(
                ident.span(),
                format!("{what} `{ident}` has the component name `{name}` of `{first}`"),
            ));
        }
        seen.push((name, ident));
    }
    Ok(())
}

/// Converts a Rust identifier (`snake_case` or `CamelCase`) to kebab-case: words split at
/// underscores and at lowercase-or-digit-to-uppercase changes (and before the last capital
/// of an acronym followed by lowercase, `HTTPServer` → `http-server`), then lowercased.
/// Empty words (from leading, trailing or doubled underscores) are dropped.
pub(crate) fn kebab_case(ident: &str) -> String {
    let chars: Vec<char> = ident.chars().collect();
    let mut words: Vec<String> = Vec::new();
    let mut word = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if c == '_' {
            if !word.is_empty() {
                words.push(std::mem::take(&mut word));
            }
            continue;
        }
        if c.is_uppercase() && !word.is_empty() {
            let prev = chars[i - 1];
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
            if prev.is_lowercase() || prev.is_ascii_digit() || (prev.is_uppercase() && next_lower) {
                words.push(std::mem::take(&mut word));
            }
        }
        word.extend(c.to_lowercase());
    }
    if !word.is_empty() {
        words.push(word);
    }
    words.join("-")
}

/// Whether `s` is a component-model label: words joined by `-`, each a letter followed
/// by letters and digits, all lowercase or all uppercase.
pub(crate) fn is_label(s: &str) -> bool {
    !s.is_empty()
        && s.split('-').all(|w| {
            let mut chars = w.chars();
            match chars.next() {
                Some(c) if c.is_ascii_lowercase() => {
                    chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
                }
                Some(c) if c.is_ascii_uppercase() => {
                    chars.all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
                }
                _ => false,
            }
        })
}
