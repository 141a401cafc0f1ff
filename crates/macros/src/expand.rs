//! Code generation: one `impl` of `ComponentType`, `Lower` or `Lift` for a [`Model`].
//!
//! The generated code follows the hand-written impls for tuples, `Option` and `Result` in
//! `fact::component`: records go through `__internal::record`, variants and enums through
//! `__internal::variant`, flags through `__internal::flags`. Every path is absolute.

use crate::model::{Body, Case, Field, Model};
use proc_macro2::{Literal, TokenStream};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{parse_quote, DeriveInput, Result};

/// Which trait to derive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Derive {
    ComponentType,
    Lower,
    Lift,
}

/// Expands a derive, turning errors into `compile_error!`s.
pub(crate) fn derive(input: TokenStream, which: Derive) -> TokenStream {
    match syn::parse2::<DeriveInput>(input).and_then(|input| expand(&input, which)) {
        Ok(tokens) => tokens,
        Err(e) => e.to_compile_error(),
    }
}

/// The `impl` of `which` for `input`.
pub(crate) fn expand(input: &DeriveInput, which: Derive) -> Result<TokenStream> {
    let model = Model::new(input)?;
    let trait_path = match which {
        Derive::ComponentType => quote!(::fact::component::ComponentType),
        Derive::Lower => quote!(::fact::component::Lower),
        Derive::Lift => quote!(::fact::component::Lift),
    };

    // Each type parameter must implement the derived trait.
    let mut generics = model.generics.clone();
    let params: Vec<syn::Ident> = generics.type_params().map(|p| p.ident.clone()).collect();
    let where_clause = generics.make_where_clause();
    for p in params {
        where_clause.predicates.push(parse_quote!(#p: #trait_path));
    }
    let (impl_generics, ty_generics, where_clause) = generics.split_for_impl();

    let rust = model.ident.to_string();
    let items = match (which, &model.body) {
        (Derive::ComponentType, Body::Record(fields)) => record_typecheck(&rust, fields),
        (Derive::ComponentType, Body::Flags(fields)) => flags_typecheck(&rust, fields),
        (Derive::ComponentType, Body::Variant(cases)) => variant_typecheck(&rust, cases),
        (Derive::ComponentType, Body::Enum(cases)) => enum_typecheck(&rust, cases),
        (Derive::Lower, Body::Record(fields)) => record_lower(fields),
        (Derive::Lower, Body::Flags(fields)) => flags_lower(fields),
        (Derive::Lower, Body::Variant(cases)) => variant_lower(cases),
        (Derive::Lower, Body::Enum(cases)) => enum_lower(cases),
        (Derive::Lift, Body::Record(fields)) => record_lift(fields),
        (Derive::Lift, Body::Flags(fields)) => flags_lift(fields),
        (Derive::Lift, Body::Variant(cases)) => variant_lift(&rust, cases),
        (Derive::Lift, Body::Enum(cases)) => enum_lift(&rust, cases),
    };
    let ident = &model.ident;
    Ok(quote! {
        #[automatically_derived]
        impl #impl_generics #trait_path for #ident #ty_generics #where_clause {
            #items
        }
    })
}

/// `::fact::component::__internal`.
fn internal() -> TokenStream {
    quote!(::fact::component::__internal)
}

/// An index into the `Vec`s of field types and offsets.
fn index(i: usize) -> Literal {
    Literal::usize_unsuffixed(i)
}

/// A case number.
fn case_number(i: usize) -> Literal {
    Literal::u32_suffixed(i as u32)
}

/// The bit of flag `i`.
fn flag_bit(i: usize) -> Literal {
    Literal::u32_suffixed(1 << i)
}

// ---- ComponentType ----

/// `fn typecheck`, which matches `types.get(ty)` against `pattern` (binding `items`),
/// checks the names found by `found` against `names`, then runs `rest`.
fn typecheck(
    rust: &str,
    kind: &str,
    item: &str,
    pattern: TokenStream,
    found: TokenStream,
    names: &[&str],
    rest: TokenStream,
) -> TokenStream {
    let i = internal();
    let not_kind = format!("type mismatch: the interface type is {{}}, not the {kind} `{rust}`");
    let count = format!(
        "type mismatch: the number of {item}s differs: {{}} has {{}}, `{rust}` has {}",
        names.len()
    );
    let name = format!("type mismatch: {item} {{}} of {{}} is `{{}}`, but `{rust}` has `{{}}`");
    let n = index(names.len());
    quote! {
        fn typecheck(
            types: &#i::ComponentTypes,
            ty: #i::TypeId,
        ) -> #i::anyhow::Result<()> {
            let items = match types.get(ty) {
                #pattern => items,
                _ => #i::anyhow::bail!(#not_kind, types.display(ty)),
            };
            let found: ::std::vec::Vec<&::core::primitive::str> = #found;
            let expected: [&::core::primitive::str; #n] = [#(#names),*];
            if found.len() != expected.len() {
                #i::anyhow::bail!(#count, types.display(ty), found.len());
            }
            for (index, (found, expected)) in found.iter().zip(expected.iter()).enumerate() {
                if found != expected {
                    #i::anyhow::bail!(#name, index, types.display(ty), found, expected);
                }
            }
            #rest
            ::core::result::Result::Ok(())
        }
    }
}

fn record_typecheck(rust: &str, fields: &[Field]) -> TokenStream {
    let i = internal();
    let checks = fields.iter().enumerate().map(|(n, f)| {
        let ty = &f.ty;
        let n = index(n);
        let context = format!("type mismatch in field `{}` of `{rust}`", f.name);
        quote! {
            <#ty as ::fact::component::ComponentType>::typecheck(types, items[#n].1)
                .map_err(|e| e.context(#context))?;
        }
    });
    let names: Vec<&str> = fields.iter().map(|f| f.name.as_str()).collect();
    typecheck(
        rust,
        "record",
        "field",
        quote!(#i::InterfaceType::Record(items)),
        quote!(items.iter().map(|(name, _)| name.as_str()).collect()),
        &names,
        quote!(#(#checks)*),
    )
}

fn flags_typecheck(rust: &str, fields: &[Field]) -> TokenStream {
    let i = internal();
    // Every field must be a `bool`: reported at the field's type.
    let bools = fields.iter().map(|f| {
        let ident = &f.ident;
        quote_spanned!(f.ty.span()=> let _: &::core::primitive::bool = &value.#ident;)
    });
    let names: Vec<&str> = fields.iter().map(|f| f.name.as_str()).collect();
    typecheck(
        rust,
        "flags",
        "label",
        quote!(#i::InterfaceType::Flags(items)),
        quote!(items.iter().map(|name| name.as_str()).collect()),
        &names,
        quote!(let _ = |value: &Self| { #(#bools)* };),
    )
}

fn variant_typecheck(rust: &str, cases: &[Case]) -> TokenStream {
    let i = internal();
    let checks = cases.iter().enumerate().map(|(n, c)| {
        let n = index(n);
        let (name, case) = (&c.name, &c.ident);
        match &c.payload {
            None => {
                let msg = format!(
                    "type mismatch: case `{name}` of {{}} has a payload, \
                     but `{rust}::{case}` has none"
                );
                quote! {
                    if items[#n].1.is_some() {
                        #i::anyhow::bail!(#msg, types.display(ty));
                    }
                }
            }
            Some(ty) => {
                let msg = format!(
                    "type mismatch: case `{name}` of {{}} has no payload, \
                     but `{rust}::{case}` has one"
                );
                let context = format!("type mismatch in case `{name}` of `{rust}`");
                quote! {
                    match items[#n].1 {
                        ::core::option::Option::Some(t) => {
                            <#ty as ::fact::component::ComponentType>::typecheck(types, t)
                                .map_err(|e| e.context(#context))?
                        }
                        ::core::option::Option::None
                            if <#ty as ::fact::component::ComponentType>::IS_UNIT => {}
                        ::core::option::Option::None => {
                            #i::anyhow::bail!(#msg, types.display(ty))
                        }
                    }
                }
            }
        }
    });
    let names: Vec<&str> = cases.iter().map(|c| c.name.as_str()).collect();
    typecheck(
        rust,
        "variant",
        "case",
        quote!(#i::InterfaceType::Variant(items)),
        quote!(items.iter().map(|(name, _)| name.as_str()).collect()),
        &names,
        quote!(#(#checks)*),
    )
}

fn enum_typecheck(rust: &str, cases: &[Case]) -> TokenStream {
    let i = internal();
    let names: Vec<&str> = cases.iter().map(|c| c.name.as_str()).collect();
    typecheck(
        rust,
        "enum",
        "case",
        quote!(#i::InterfaceType::Enum(items)),
        quote!(items.iter().map(|name| name.as_str()).collect()),
        &names,
        quote!(),
    )
}

// ---- Lower ----

/// The two methods of `Lower`, with the given parameter patterns and bodies.
fn lower_methods(
    (flat_cx, flat_ty, flat): (TokenStream, TokenStream, TokenStream),
    (store_cx, store_ty, store): (TokenStream, TokenStream, TokenStream),
) -> TokenStream {
    let i = internal();
    quote! {
        fn lower_flat(
            &self,
            #flat_cx: &mut #i::Context<'_>,
            #flat_ty: #i::TypeId,
            out: &mut ::std::vec::Vec<#i::ValRaw>,
        ) -> #i::anyhow::Result<()> {
            #flat
        }
        fn store(
            &self,
            #store_cx: &mut #i::Context<'_>,
            #store_ty: #i::TypeId,
            ptr: ::core::primitive::u32,
        ) -> #i::anyhow::Result<()> {
            #store
        }
    }
}

fn record_lower(fields: &[Field]) -> TokenStream {
    let i = internal();
    let lower = quote!(::fact::component::Lower);
    let (idents, tys): (Vec<_>, Vec<_>) = fields.iter().map(|f| (&f.ident, &f.ty)).unzip();
    let n: Vec<Literal> = (0..fields.len()).map(index).collect();
    lower_methods(
        (
            quote!(cx),
            quote!(ty),
            quote! {
                let fields = #i::record::fields(#i::types(cx), ty)?;
                #(<#tys as #lower>::lower_flat(&self.#idents, cx, fields[#n], out)?;)*
                ::core::result::Result::Ok(())
            },
        ),
        (
            quote!(cx),
            quote!(ty),
            quote! {
                let types = #i::types(cx);
                let fields = #i::record::fields(types, ty)?;
                let offsets = #i::record::offsets(types, ty, ptr)?;
                #(<#tys as #lower>::store(&self.#idents, cx, fields[#n], offsets[#n])?;)*
                ::core::result::Result::Ok(())
            },
        ),
    )
}

fn flags_lower(fields: &[Field]) -> TokenStream {
    let i = internal();
    let count = index(fields.len());
    // Spanned at the field types, where a field that is not a `bool` is reported.
    let sets = fields.iter().enumerate().map(|(n, f)| {
        let (ident, bit) = (&f.ident, flag_bit(n));
        quote_spanned!(f.ty.span()=> if self.#ident { bits |= #bit; })
    });
    let collect = quote! {
        let mut bits: ::core::primitive::u32 = 0;
        #(#sets)*
    };
    lower_methods(
        (
            quote!(_),
            quote!(_),
            quote! {
                #collect
                out.push(#i::ValRaw::i32(bits as ::core::primitive::i32));
                ::core::result::Result::Ok(())
            },
        ),
        (
            quote!(cx),
            quote!(_),
            quote! {
                #collect
                #i::flags::store(cx, #count, bits, ptr)
            },
        ),
    )
}

fn variant_lower(cases: &[Case]) -> TokenStream {
    let i = internal();
    let lower = quote!(::fact::component::Lower);
    let ok = quote!(::core::result::Result::Ok);
    let (mut flat, mut store) = (Vec::new(), Vec::new());
    for (n, c) in cases.iter().enumerate() {
        let (ident, n) = (&c.ident, case_number(n));
        match &c.payload {
            None => {
                flat.push(quote! {
                    Self::#ident => #i::variant::lower_flat(cx, ty, #n, |_, _, _| #ok(()), out),
                });
                store.push(quote! {
                    Self::#ident => #i::variant::store(cx, ty, #n, ptr, |_, _, _| #ok(())),
                });
            }
            Some(t) => {
                flat.push(quote! {
                    Self::#ident(payload) => #i::variant::lower_flat(
                        cx,
                        ty,
                        #n,
                        |cx, t, out| match t {
                            ::core::option::Option::Some(t) => {
                                <#t as #lower>::lower_flat(payload, cx, t, out)
                            }
                            ::core::option::Option::None => #ok(()),
                        },
                        out,
                    ),
                });
                store.push(quote! {
                    Self::#ident(payload) => #i::variant::store(cx, ty, #n, ptr, |cx, t, ptr| {
                        match t {
                            ::core::option::Option::Some(t) => {
                                <#t as #lower>::store(payload, cx, t, ptr)
                            }
                            ::core::option::Option::None => #ok(()),
                        }
                    }),
                });
            }
        }
    }
    lower_methods(
        (quote!(cx), quote!(ty), quote!(match self { #(#flat)* })),
        (quote!(cx), quote!(ty), quote!(match self { #(#store)* })),
    )
}

fn enum_lower(cases: &[Case]) -> TokenStream {
    let i = internal();
    let ok = quote!(::core::result::Result::Ok);
    let idents: Vec<_> = cases.iter().map(|c| &c.ident).collect();
    let n: Vec<Literal> = (0..cases.len()).map(case_number).collect();
    let case = quote! {
        let case: ::core::primitive::u32 = match self { #(Self::#idents => #n,)* };
    };
    lower_methods(
        (
            quote!(cx),
            quote!(ty),
            quote! {
                #case
                #i::variant::lower_flat(cx, ty, case, |_, _, _| #ok(()), out)
            },
        ),
        (
            quote!(cx),
            quote!(ty),
            quote! {
                #case
                #i::variant::store(cx, ty, case, ptr, |_, _, _| #ok(()))
            },
        ),
    )
}

// ---- Lift ----

/// The two methods of `Lift`, with the given parameter patterns and bodies.
fn lift_methods(
    (flat_cx, flat_ty, flat): (TokenStream, TokenStream, TokenStream),
    (load_cx, load_ty, load): (TokenStream, TokenStream, TokenStream),
) -> TokenStream {
    let i = internal();
    quote! {
        fn lift_flat(
            #flat_cx: &mut #i::Context<'_>,
            #flat_ty: #i::TypeId,
            src: &mut ::core::slice::Iter<'_, #i::ValRaw>,
        ) -> #i::anyhow::Result<Self> {
            #flat
        }
        fn load(
            #load_cx: &mut #i::Context<'_>,
            #load_ty: #i::TypeId,
            ptr: ::core::primitive::u32,
        ) -> #i::anyhow::Result<Self> {
            #load
        }
    }
}

fn record_lift(fields: &[Field]) -> TokenStream {
    let i = internal();
    let lift = quote!(::fact::component::Lift);
    let (idents, tys): (Vec<_>, Vec<_>) = fields.iter().map(|f| (&f.ident, &f.ty)).unzip();
    let n: Vec<Literal> = (0..fields.len()).map(index).collect();
    lift_methods(
        (
            quote!(cx),
            quote!(ty),
            quote! {
                let fields = #i::record::fields(#i::types(cx), ty)?;
                ::core::result::Result::Ok(Self {
                    #(#idents: <#tys as #lift>::lift_flat(cx, fields[#n], src)?,)*
                })
            },
        ),
        (
            quote!(cx),
            quote!(ty),
            quote! {
                let types = #i::types(cx);
                let fields = #i::record::fields(types, ty)?;
                let offsets = #i::record::offsets(types, ty, ptr)?;
                ::core::result::Result::Ok(Self {
                    #(#idents: <#tys as #lift>::load(cx, fields[#n], offsets[#n])?,)*
                })
            },
        ),
    )
}

fn flags_lift(fields: &[Field]) -> TokenStream {
    let i = internal();
    let count = index(fields.len());
    let gets = fields.iter().enumerate().map(|(n, f)| {
        let (ident, mut bit) = (&f.ident, flag_bit(n));
        bit.set_span(f.ty.span());
        quote_spanned!(f.ty.span()=> #ident: bits & #bit != 0)
    });
    let build = quote! {
        ::core::result::Result::Ok(Self { #(#gets,)* })
    };
    lift_methods(
        (
            quote!(_),
            quote!(_),
            quote! {
                let bits = #i::flags::mask(
                    #count,
                    #i::next(src)?.get_i32() as ::core::primitive::u32,
                );
                #build
            },
        ),
        (
            quote!(cx),
            quote!(_),
            quote! {
                let bits = #i::flags::load(cx, #count, ptr)?;
                #build
            },
        ),
    )
}

/// The arms matching `(case, payload type)` for `variant::lift_flat` (`load` false) or
/// `variant::load` (`load` true), and whether any case has a payload.
fn lift_arms(rust: &str, cases: &[Case], load: bool) -> (TokenStream, bool) {
    let i = internal();
    let lift = quote!(::fact::component::Lift);
    let ok = quote!(::core::result::Result::Ok);
    let some = quote!(::core::option::Option::Some);
    let none = quote!(::core::option::Option::None);
    let arms = cases.iter().enumerate().map(|(n, c)| {
        let (ident, n) = (&c.ident, case_number(n));
        match &c.payload {
            None => quote!((#n, _) => #ok(Self::#ident),),
            Some(t) => {
                let read = if load {
                    quote!(<#t as #lift>::load(cx, t, ptr)?)
                } else {
                    quote!(<#t as #lift>::lift_flat(cx, t, src)?)
                };
                quote! {
                    (#n, #some(t)) => #ok(Self::#ident(#read)),
                    (#n, #none) => #ok(Self::#ident(<#t as #lift>::lift_unit()?)),
                }
            }
        }
    });
    let no_case = format!("type mismatch: `{rust}` has no case {{}}");
    let tokens = quote! {
        #(#arms)*
        (case, _) => ::core::result::Result::Err(#i::anyhow::anyhow!(#no_case, case)),
    };
    (tokens, cases.iter().any(|c| c.payload.is_some()))
}

fn variant_lift(rust: &str, cases: &[Case]) -> TokenStream {
    let i = internal();
    let (flat_arms, uses_payload) = lift_arms(rust, cases, false);
    let (load_arms, _) = lift_arms(rust, cases, true);
    let (flat_params, load_params) = if uses_payload {
        (quote!(|cx, case, t, src|), quote!(|cx, case, t, ptr|))
    } else {
        (quote!(|_, case, t, _|), quote!(|_, case, t, _|))
    };
    lift_methods(
        (
            quote!(cx),
            quote!(ty),
            quote! {
                #i::variant::lift_flat(cx, ty, src, #flat_params match (case, t) { #flat_arms })
            },
        ),
        (
            quote!(cx),
            quote!(ty),
            quote! {
                #i::variant::load(cx, ty, ptr, #load_params match (case, t) { #load_arms })
            },
        ),
    )
}

fn enum_lift(rust: &str, cases: &[Case]) -> TokenStream {
    let i = internal();
    let ok = quote!(::core::result::Result::Ok);
    let idents: Vec<_> = cases.iter().map(|c| &c.ident).collect();
    let n: Vec<Literal> = (0..cases.len()).map(case_number).collect();
    let no_case = format!("type mismatch: `{rust}` has no case {{}}");
    let arms = quote! {
        #(#n => #ok(Self::#idents),)*
        case => ::core::result::Result::Err(#i::anyhow::anyhow!(#no_case, case)),
    };
    lift_methods(
        (
            quote!(cx),
            quote!(ty),
            quote!(#i::variant::lift_flat(cx, ty, src, |_, case, _, _| match case { #arms })),
        ),
        (
            quote!(cx),
            quote!(ty),
            quote!(#i::variant::load(cx, ty, ptr, |_, case, _, _| match case { #arms })),
        ),
    )
}
