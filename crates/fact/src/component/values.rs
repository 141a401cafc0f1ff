//! Dynamically typed component values.

use super::abi::{self, next, Context, Lift, Lower};
use super::resources::ResourceAny;
use anyhow::{anyhow, bail, Result};
use fact_environ::component::{ComponentTypes, InterfaceType, TypeId};
use fact_runtime::ValRaw;

/// A component-model value of any interface type.
#[derive(Clone, Debug, PartialEq)]
pub enum Val {
    Bool(bool),
    S8(i8),
    U8(u8),
    S16(i16),
    U16(u16),
    S32(i32),
    U32(u32),
    S64(i64),
    U64(u64),
    Float32(f32),
    Float64(f64),
    Char(char),
    String(String),
    List(Vec<Val>),
    Record(Vec<(String, Val)>),
    Tuple(Vec<Val>),
    Variant(String, Option<Box<Val>>),
    Enum(String),
    Option(Option<Box<Val>>),
    Result(Result<Option<Box<Val>>, Option<Box<Val>>>),
    /// The labels that are set.
    Flags(Vec<String>),
    Resource(ResourceAny),
}

impl Val {
    /// A short description of the value's kind, for messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Val::Bool(_) => "bool",
            Val::S8(_) => "s8",
            Val::U8(_) => "u8",
            Val::S16(_) => "s16",
            Val::U16(_) => "u16",
            Val::S32(_) => "s32",
            Val::U32(_) => "u32",
            Val::S64(_) => "s64",
            Val::U64(_) => "u64",
            Val::Float32(_) => "f32",
            Val::Float64(_) => "f64",
            Val::Char(_) => "char",
            Val::String(_) => "string",
            Val::List(_) => "list",
            Val::Record(_) => "record",
            Val::Tuple(_) => "tuple",
            Val::Variant(..) => "variant",
            Val::Enum(_) => "enum",
            Val::Option(_) => "option",
            Val::Result(_) => "result",
            Val::Flags(_) => "flags",
            Val::Resource(_) => "resource",
        }
    }
}

impl super::ComponentType for Val {
    fn typecheck(_: &ComponentTypes, _: TypeId) -> Result<()> {
        // Checked value by value while lowering.
        Ok(())
    }
}

fn mismatch(types: &ComponentTypes, ty: TypeId, v: &Val) -> anyhow::Error {
    anyhow!(
        "type mismatch: expected a value of type {}, found a {}",
        types.display(ty),
        v.kind()
    )
}

/// The index of `label` among `labels`.
fn position(labels: impl Iterator<Item = String>, label: &str, ty: &str) -> Result<u32> {
    labels
        .into_iter()
        .position(|l| l == label)
        .map(|p| p as u32)
        .ok_or_else(|| anyhow!("`{label}` is not a case of {ty}"))
}

/// The case index and payload of a variant-like value of type `ty`.
fn case_of<'v>(types: &ComponentTypes, ty: TypeId, v: &'v Val) -> Result<(u32, Option<&'v Val>)> {
    Ok(match (types.get(ty), v) {
        (InterfaceType::Variant(cases), Val::Variant(name, payload)) => (
            position(
                cases.iter().map(|(n, _)| n.clone()),
                name,
                &types.display(ty),
            )?,
            payload.as_deref(),
        ),
        (InterfaceType::Enum(labels), Val::Enum(name)) => (
            position(labels.iter().cloned(), name, &types.display(ty))?,
            None,
        ),
        (InterfaceType::Option(_), Val::Option(o)) => (o.is_some() as u32, o.as_deref()),
        (InterfaceType::Result { .. }, Val::Result(r)) => match r {
            Ok(p) => (0, p.as_deref()),
            Err(p) => (1, p.as_deref()),
        },
        _ => return Err(mismatch(types, ty, v)),
    })
}

/// Checks that a case's payload is present exactly when the type has one.
fn payload<'v>(
    types: &ComponentTypes,
    t: Option<TypeId>,
    p: Option<&'v Val>,
) -> Result<Option<(TypeId, &'v Val)>> {
    match (t, p) {
        (Some(t), Some(p)) => Ok(Some((t, p))),
        (None, None) => Ok(None),
        (Some(t), None) => bail!("a case of type {} needs a payload", types.display(t)),
        (None, Some(_)) => bail!("a case without payload was given one"),
    }
}

/// Builds the value of a variant-like type from its case.
fn make_case(types: &ComponentTypes, ty: TypeId, case: u32, p: Option<Val>) -> Val {
    let p = p.map(Box::new);
    match types.get(ty) {
        InterfaceType::Variant(cases) => Val::Variant(cases[case as usize].0.clone(), p),
        InterfaceType::Enum(labels) => Val::Enum(labels[case as usize].clone()),
        InterfaceType::Option(_) => Val::Option(p),
        _ => Val::Result(if case == 0 { Ok(p) } else { Err(p) }),
    }
}

fn flag_bits(types: &ComponentTypes, ty: TypeId, set: &[String]) -> Result<(usize, u32)> {
    let labels = abi::flags::labels(types, ty)?;
    let mut bits = 0u32;
    for s in set {
        bits |= 1 << position(labels.iter().cloned(), s, &types.display(ty))?;
    }
    Ok((labels.len(), bits))
}

fn flag_names(types: &ComponentTypes, ty: TypeId, bits: u32) -> Result<Val> {
    let labels = abi::flags::labels(types, ty)?;
    Ok(Val::Flags(
        labels
            .into_iter()
            .enumerate()
            .filter(|(i, _)| bits & (1 << i) != 0)
            .map(|(_, l)| l)
            .collect(),
    ))
}

/// Record fields of `v`, in the order of the type.
fn record_fields<'v>(
    types: &ComponentTypes,
    ty: TypeId,
    v: &'v Val,
) -> Result<Vec<(TypeId, &'v Val)>> {
    match (types.get(ty), v) {
        (InterfaceType::Record(fields), Val::Record(values)) => {
            if fields.len() != values.len() {
                bail!(
                    "record of type {} needs {} fields, {} given",
                    types.display(ty),
                    fields.len(),
                    values.len()
                );
            }
            fields
                .iter()
                .map(|(name, t)| {
                    values
                        .iter()
                        .find(|(n, _)| n == name)
                        .map(|(_, v)| (*t, v))
                        .ok_or_else(|| {
                            anyhow!("record of type {} lacks field `{name}`", types.display(ty))
                        })
                })
                .collect()
        }
        (InterfaceType::Tuple(ts), Val::Tuple(values)) => {
            if ts.len() != values.len() {
                bail!(
                    "tuple of type {} needs {} values, {} given",
                    types.display(ty),
                    ts.len(),
                    values.len()
                );
            }
            Ok(ts.iter().copied().zip(values).collect())
        }
        _ => Err(mismatch(types, ty, v)),
    }
}

fn make_record(types: &ComponentTypes, ty: TypeId, values: Vec<Val>) -> Val {
    match types.get(ty) {
        InterfaceType::Record(fields) => {
            Val::Record(fields.iter().map(|(n, _)| n.clone()).zip(values).collect())
        }
        _ => Val::Tuple(values),
    }
}

impl Lower for Val {
    fn lower_flat(&self, cx: &mut Context<'_>, ty: TypeId, out: &mut Vec<ValRaw>) -> Result<()> {
        let types = cx.types;
        match (types.get(ty), self) {
            (InterfaceType::Bool, Val::Bool(v)) => v.lower_flat(cx, ty, out),
            (InterfaceType::S8, Val::S8(v)) => v.lower_flat(cx, ty, out),
            (InterfaceType::U8, Val::U8(v)) => v.lower_flat(cx, ty, out),
            (InterfaceType::S16, Val::S16(v)) => v.lower_flat(cx, ty, out),
            (InterfaceType::U16, Val::U16(v)) => v.lower_flat(cx, ty, out),
            (InterfaceType::S32, Val::S32(v)) => v.lower_flat(cx, ty, out),
            (InterfaceType::U32, Val::U32(v)) => v.lower_flat(cx, ty, out),
            (InterfaceType::S64, Val::S64(v)) => v.lower_flat(cx, ty, out),
            (InterfaceType::U64, Val::U64(v)) => v.lower_flat(cx, ty, out),
            (InterfaceType::F32, Val::Float32(v)) => v.lower_flat(cx, ty, out),
            (InterfaceType::F64, Val::Float64(v)) => v.lower_flat(cx, ty, out),
            (InterfaceType::Char, Val::Char(v)) => v.lower_flat(cx, ty, out),
            (InterfaceType::String, Val::String(v)) => v.lower_flat(cx, ty, out),
            (InterfaceType::List(_), Val::List(v)) => v.lower_flat(cx, ty, out),
            (InterfaceType::Record(_) | InterfaceType::Tuple(_), _) => {
                for (t, v) in record_fields(types, ty, self)? {
                    v.lower_flat(cx, t, out)?;
                }
                Ok(())
            }
            (
                InterfaceType::Variant(_)
                | InterfaceType::Enum(_)
                | InterfaceType::Option(_)
                | InterfaceType::Result { .. },
                _,
            ) => {
                let (case, p) = case_of(types, ty, self)?;
                abi::variant::lower_flat(
                    cx,
                    ty,
                    case,
                    |cx, t, out| match payload(cx.types, t, p)? {
                        Some((t, p)) => p.lower_flat(cx, t, out),
                        None => Ok(()),
                    },
                    out,
                )
            }
            (InterfaceType::Flags(_), Val::Flags(set)) => {
                let (n, bits) = flag_bits(types, ty, set)?;
                if n > 0 {
                    out.push(ValRaw::i32(bits as i32));
                }
                Ok(())
            }
            (InterfaceType::Own(_) | InterfaceType::Borrow(_), Val::Resource(r)) => {
                r.lower_flat(cx, ty, out)
            }
            _ => Err(mismatch(types, ty, self)),
        }
    }

    fn store(&self, cx: &mut Context<'_>, ty: TypeId, ptr: u32) -> Result<()> {
        let types = cx.types;
        match (types.get(ty), self) {
            (InterfaceType::Bool, Val::Bool(v)) => v.store(cx, ty, ptr),
            (InterfaceType::S8, Val::S8(v)) => v.store(cx, ty, ptr),
            (InterfaceType::U8, Val::U8(v)) => v.store(cx, ty, ptr),
            (InterfaceType::S16, Val::S16(v)) => v.store(cx, ty, ptr),
            (InterfaceType::U16, Val::U16(v)) => v.store(cx, ty, ptr),
            (InterfaceType::S32, Val::S32(v)) => v.store(cx, ty, ptr),
            (InterfaceType::U32, Val::U32(v)) => v.store(cx, ty, ptr),
            (InterfaceType::S64, Val::S64(v)) => v.store(cx, ty, ptr),
            (InterfaceType::U64, Val::U64(v)) => v.store(cx, ty, ptr),
            (InterfaceType::F32, Val::Float32(v)) => v.store(cx, ty, ptr),
            (InterfaceType::F64, Val::Float64(v)) => v.store(cx, ty, ptr),
            (InterfaceType::Char, Val::Char(v)) => v.store(cx, ty, ptr),
            (InterfaceType::String, Val::String(v)) => v.store(cx, ty, ptr),
            (InterfaceType::List(_), Val::List(v)) => v.store(cx, ty, ptr),
            (InterfaceType::Record(_) | InterfaceType::Tuple(_), _) => {
                let offsets = abi::record::offsets(types, ty, ptr)?;
                for ((t, v), off) in record_fields(types, ty, self)?.into_iter().zip(offsets) {
                    v.store(cx, t, off)?;
                }
                Ok(())
            }
            (
                InterfaceType::Variant(_)
                | InterfaceType::Enum(_)
                | InterfaceType::Option(_)
                | InterfaceType::Result { .. },
                _,
            ) => {
                let (case, p) = case_of(types, ty, self)?;
                abi::variant::store(cx, ty, case, ptr, |cx, t, at| {
                    match payload(cx.types, t, p)? {
                        Some((t, p)) => p.store(cx, t, at),
                        None => Ok(()),
                    }
                })
            }
            (InterfaceType::Flags(_), Val::Flags(set)) => {
                let (n, bits) = flag_bits(types, ty, set)?;
                abi::flags::store(cx, n, bits, ptr)
            }
            (InterfaceType::Own(_) | InterfaceType::Borrow(_), Val::Resource(r)) => {
                r.store(cx, ty, ptr)
            }
            _ => Err(mismatch(types, ty, self)),
        }
    }
}

impl Lift for Val {
    fn lift_flat(
        cx: &mut Context<'_>,
        ty: TypeId,
        src: &mut std::slice::Iter<'_, ValRaw>,
    ) -> Result<Self> {
        let types = cx.types;
        Ok(match types.get(ty) {
            InterfaceType::Bool => Val::Bool(bool::lift_flat(cx, ty, src)?),
            InterfaceType::S8 => Val::S8(i8::lift_flat(cx, ty, src)?),
            InterfaceType::U8 => Val::U8(u8::lift_flat(cx, ty, src)?),
            InterfaceType::S16 => Val::S16(i16::lift_flat(cx, ty, src)?),
            InterfaceType::U16 => Val::U16(u16::lift_flat(cx, ty, src)?),
            InterfaceType::S32 => Val::S32(i32::lift_flat(cx, ty, src)?),
            InterfaceType::U32 => Val::U32(u32::lift_flat(cx, ty, src)?),
            InterfaceType::S64 => Val::S64(i64::lift_flat(cx, ty, src)?),
            InterfaceType::U64 => Val::U64(u64::lift_flat(cx, ty, src)?),
            InterfaceType::F32 => Val::Float32(f32::lift_flat(cx, ty, src)?),
            InterfaceType::F64 => Val::Float64(f64::lift_flat(cx, ty, src)?),
            InterfaceType::Char => Val::Char(char::lift_flat(cx, ty, src)?),
            InterfaceType::String => Val::String(String::lift_flat(cx, ty, src)?),
            InterfaceType::List(_) => Val::List(Vec::<Val>::lift_flat(cx, ty, src)?),
            InterfaceType::Record(_) | InterfaceType::Tuple(_) => {
                let fields = abi::record::fields(types, ty)?;
                let values = fields
                    .into_iter()
                    .map(|t| Val::lift_flat(cx, t, src))
                    .collect::<Result<_>>()?;
                make_record(types, ty, values)
            }
            InterfaceType::Variant(_)
            | InterfaceType::Enum(_)
            | InterfaceType::Option(_)
            | InterfaceType::Result { .. } => {
                abi::variant::lift_flat(cx, ty, src, |cx, case, t, src| {
                    let p = match t {
                        Some(t) => Some(Val::lift_flat(cx, t, src)?),
                        None => None,
                    };
                    Ok(make_case(cx.types, ty, case, p))
                })?
            }
            InterfaceType::Flags(labels) => {
                let n = labels.len();
                let bits = if n == 0 {
                    0
                } else {
                    next(src)?.get_i32() as u32
                };
                flag_names(types, ty, abi::flags::mask(n, bits))?
            }
            InterfaceType::Own(_) | InterfaceType::Borrow(_) => {
                Val::Resource(ResourceAny::lift_flat(cx, ty, src)?)
            }
        })
    }

    fn load(cx: &mut Context<'_>, ty: TypeId, ptr: u32) -> Result<Self> {
        let types = cx.types;
        Ok(match types.get(ty) {
            InterfaceType::Bool => Val::Bool(bool::load(cx, ty, ptr)?),
            InterfaceType::S8 => Val::S8(i8::load(cx, ty, ptr)?),
            InterfaceType::U8 => Val::U8(u8::load(cx, ty, ptr)?),
            InterfaceType::S16 => Val::S16(i16::load(cx, ty, ptr)?),
            InterfaceType::U16 => Val::U16(u16::load(cx, ty, ptr)?),
            InterfaceType::S32 => Val::S32(i32::load(cx, ty, ptr)?),
            InterfaceType::U32 => Val::U32(u32::load(cx, ty, ptr)?),
            InterfaceType::S64 => Val::S64(i64::load(cx, ty, ptr)?),
            InterfaceType::U64 => Val::U64(u64::load(cx, ty, ptr)?),
            InterfaceType::F32 => Val::Float32(f32::load(cx, ty, ptr)?),
            InterfaceType::F64 => Val::Float64(f64::load(cx, ty, ptr)?),
            InterfaceType::Char => Val::Char(char::load(cx, ty, ptr)?),
            InterfaceType::String => Val::String(String::load(cx, ty, ptr)?),
            InterfaceType::List(_) => Val::List(Vec::<Val>::load(cx, ty, ptr)?),
            InterfaceType::Record(_) | InterfaceType::Tuple(_) => {
                let fields = abi::record::fields(types, ty)?;
                let offsets = abi::record::offsets(types, ty, ptr)?;
                let values = fields
                    .into_iter()
                    .zip(offsets)
                    .map(|(t, o)| Val::load(cx, t, o))
                    .collect::<Result<_>>()?;
                make_record(types, ty, values)
            }
            InterfaceType::Variant(_)
            | InterfaceType::Enum(_)
            | InterfaceType::Option(_)
            | InterfaceType::Result { .. } => {
                abi::variant::load(cx, ty, ptr, |cx, case, t, at| {
                    let p = match t {
                        Some(t) => Some(Val::load(cx, t, at)?),
                        None => None,
                    };
                    Ok(make_case(cx.types, ty, case, p))
                })?
            }
            InterfaceType::Flags(labels) => {
                let n = labels.len();
                let bits = abi::flags::load(cx, n, ptr)?;
                flag_names(types, ty, bits)?
            }
            InterfaceType::Own(_) | InterfaceType::Borrow(_) => {
                Val::Resource(ResourceAny::load(cx, ty, ptr)?)
            }
        })
    }
}
