//! Core values in scripts: turning `WastArgCore` into [`Val`]s and checking results
//! against `WastRetCore` patterns (NaN patterns and v128 lanes included).

use anyhow::{bail, Result};
use fact::{ExternRef, Store, Val, V128};
use wast::core::{HeapType, NanPattern, V128Pattern, WastArgCore, WastRetCore};
use wast::token::{F32, F64};

/// The payload that `ref.extern N` arguments carry, so results can be compared.
#[derive(Debug, PartialEq, Eq)]
pub struct ExternPayload(pub u32);

pub fn arg(store: &mut Store<()>, arg: &WastArgCore<'_>) -> Result<Val> {
    Ok(match arg {
        WastArgCore::I32(v) => Val::I32(*v),
        WastArgCore::I64(v) => Val::I64(*v),
        WastArgCore::F32(v) => Val::F32(v.bits),
        WastArgCore::F64(v) => Val::F64(v.bits),
        WastArgCore::V128(v) => Val::V128(V128(u128::from_le_bytes(v.to_le_bytes()))),
        WastArgCore::RefNull(ty) => match null_hierarchy(ty) {
            Some(Hierarchy::Func) => Val::FuncRef(None),
            Some(Hierarchy::Extern) => Val::ExternRef(None),
            Some(Hierarchy::Exn) => Val::ExnRef(None),
            None => bail!("unsupported proposal: GC (a null reference of type {ty:?})"),
        },
        WastArgCore::RefExtern(n) => Val::ExternRef(Some(ExternRef::new(store, ExternPayload(*n)))),
        other => bail!("unsupported proposal: argument {other:?}"),
    })
}

/// The reference hierarchies whose values fact's [`Val`] holds.
#[derive(PartialEq)]
enum Hierarchy {
    Func,
    Extern,
    Exn,
}

/// The hierarchy of a null reference's type (`None` for GC types).
fn null_hierarchy(ty: &HeapType<'_>) -> Option<Hierarchy> {
    use wast::core::AbstractHeapType as A;
    match ty {
        HeapType::Concrete(_) => Some(Hierarchy::Func),
        HeapType::Abstract {
            ty: A::Func | A::NoFunc,
            ..
        } => Some(Hierarchy::Func),
        HeapType::Abstract {
            ty: A::Extern | A::NoExtern,
            ..
        } => Some(Hierarchy::Extern),
        HeapType::Abstract {
            ty: A::Exn | A::NoExn,
            ..
        } => Some(Hierarchy::Exn),
        _ => None,
    }
}

/// Whether a null of hierarchy `of` matches the result pattern `(ref.null ty)`; an
/// untyped `(ref.null)` matches any null.
fn null_of(ty: &Option<HeapType<'_>>, of: Hierarchy) -> bool {
    ty.as_ref().is_none_or(|t| null_hierarchy(t) == Some(of))
}

fn f32_matches(bits: u32, pattern: &NanPattern<F32>) -> bool {
    match pattern {
        NanPattern::CanonicalNan => bits & 0x7fff_ffff == 0x7fc0_0000,
        NanPattern::ArithmeticNan => bits & 0x7fc0_0000 == 0x7fc0_0000,
        NanPattern::Value(v) => bits == v.bits,
    }
}

fn f64_matches(bits: u64, pattern: &NanPattern<F64>) -> bool {
    match pattern {
        NanPattern::CanonicalNan => bits & 0x7fff_ffff_ffff_ffff == 0x7ff8_0000_0000_0000,
        NanPattern::ArithmeticNan => bits & 0x7ff8_0000_0000_0000 == 0x7ff8_0000_0000_0000,
        NanPattern::Value(v) => bits == v.bits,
    }
}

fn v128_matches(v: u128, pattern: &V128Pattern) -> bool {
    let b = v.to_le_bytes();
    match pattern {
        V128Pattern::I8x16(l) => l.iter().enumerate().all(|(i, x)| b[i] as i8 == *x),
        V128Pattern::I16x8(l) => l
            .iter()
            .enumerate()
            .all(|(i, x)| i16::from_le_bytes([b[2 * i], b[2 * i + 1]]) == *x),
        V128Pattern::I32x4(l) => l
            .iter()
            .enumerate()
            .all(|(i, x)| i32::from_le_bytes(b[4 * i..4 * i + 4].try_into().unwrap()) == *x),
        V128Pattern::I64x2(l) => l
            .iter()
            .enumerate()
            .all(|(i, x)| i64::from_le_bytes(b[8 * i..8 * i + 8].try_into().unwrap()) == *x),
        V128Pattern::F32x4(l) => l.iter().enumerate().all(|(i, p)| {
            f32_matches(
                u32::from_le_bytes(b[4 * i..4 * i + 4].try_into().unwrap()),
                p,
            )
        }),
        V128Pattern::F64x2(l) => l.iter().enumerate().all(|(i, p)| {
            f64_matches(
                u64::from_le_bytes(b[8 * i..8 * i + 8].try_into().unwrap()),
                p,
            )
        }),
    }
}

/// Whether `val` matches the expected result `expected`.
pub fn matches(store: &Store<()>, val: &Val, expected: &WastRetCore<'_>) -> Result<bool> {
    Ok(match (val, expected) {
        (Val::I32(a), WastRetCore::I32(b)) => a == b,
        (Val::I64(a), WastRetCore::I64(b)) => a == b,
        (Val::F32(a), WastRetCore::F32(p)) => f32_matches(*a, p),
        (Val::F64(a), WastRetCore::F64(p)) => f64_matches(*a, p),
        (Val::V128(a), WastRetCore::V128(p)) => v128_matches(a.0, p),
        (Val::FuncRef(f), WastRetCore::RefNull(ty)) => f.is_none() && null_of(ty, Hierarchy::Func),
        (Val::ExternRef(e), WastRetCore::RefNull(ty)) => {
            e.is_none() && null_of(ty, Hierarchy::Extern)
        }
        (Val::ExnRef(e), WastRetCore::RefNull(ty)) => e.is_none() && null_of(ty, Hierarchy::Exn),
        (Val::FuncRef(f), WastRetCore::RefFunc(_)) => f.is_some(),
        (Val::ExternRef(e), WastRetCore::RefExtern(n)) => match (e, n) {
            (None, _) => false,
            (Some(_), None) => true,
            (Some(e), Some(n)) => e
                .data(store)?
                .downcast_ref::<ExternPayload>()
                .is_some_and(|p| p.0 == *n),
        },
        (_, WastRetCore::Either(alts)) => {
            for alt in alts {
                if matches(store, val, alt)? {
                    return Ok(true);
                }
            }
            false
        }
        (_, WastRetCore::RefHost(_) | WastRetCore::RefAny | WastRetCore::RefEq)
        | (_, WastRetCore::RefArray | WastRetCore::RefStruct | WastRetCore::RefI31)
        | (_, WastRetCore::RefI31Shared) => bail!("unsupported proposal: GC result pattern"),
        _ => false,
    })
}

/// A value for messages.
pub fn show(store: &Store<()>, val: &Val) -> String {
    match val {
        Val::I32(v) => format!("i32 {v} ({:#x})", *v as u32),
        Val::I64(v) => format!("i64 {v} ({:#x})", *v as u64),
        Val::F32(b) => format!("f32 {} ({b:#010x})", f32::from_bits(*b)),
        Val::F64(b) => format!("f64 {} ({b:#018x})", f64::from_bits(*b)),
        Val::V128(v) => format!("v128 {:#034x}", v.0),
        Val::FuncRef(None) => "ref.null func".into(),
        Val::FuncRef(Some(_)) => "ref.func".into(),
        Val::ExternRef(None) => "ref.null extern".into(),
        Val::ExnRef(None) => "ref.null exn".into(),
        Val::ExnRef(Some(_)) => "exnref".into(),
        Val::ExternRef(Some(e)) => match e
            .data(store)
            .ok()
            .and_then(|d| d.downcast_ref::<ExternPayload>())
        {
            Some(p) => format!("ref.extern {}", p.0),
            None => "ref.extern (host value)".into(),
        },
    }
}

/// An expected result for messages.
pub fn show_expected(r: &WastRetCore<'_>) -> String {
    match r {
        WastRetCore::I32(v) => format!("i32 {v}"),
        WastRetCore::I64(v) => format!("i64 {v}"),
        WastRetCore::F32(NanPattern::Value(v)) => {
            format!("f32 {} ({:#010x})", f32::from_bits(v.bits), v.bits)
        }
        WastRetCore::F64(NanPattern::Value(v)) => {
            format!("f64 {} ({:#018x})", f64::from_bits(v.bits), v.bits)
        }
        other => format!("{other:?}"),
    }
}
