//! Component values on the command line, in the WAVE syntax (`wasm-wave`): types are
//! converted to WAVE types, arguments parsed into WAVE values and converted to [`Val`]s,
//! results converted back and printed.

use anyhow::{anyhow, bail, Result};
use fact::component::types::{ComponentTypes, InterfaceType, TypeId};
use fact::component::Val;
use std::borrow::Cow;
use wasm_wave::value::{Type, Value};
use wasm_wave::wasm::{WasmTypeKind, WasmValue};

/// The WAVE type of an interface type (resources have none).
pub fn wave_type(types: &ComponentTypes, ty: TypeId) -> Result<Type> {
    use InterfaceType as T;
    let invalid = || anyhow!("the type {} has no WAVE form", types.display(ty));
    Ok(match types.get(ty) {
        T::Bool => Type::BOOL,
        T::S8 => Type::S8,
        T::U8 => Type::U8,
        T::S16 => Type::S16,
        T::U16 => Type::U16,
        T::S32 => Type::S32,
        T::U32 => Type::U32,
        T::S64 => Type::S64,
        T::U64 => Type::U64,
        T::F32 => Type::F32,
        T::F64 => Type::F64,
        T::Char => Type::CHAR,
        T::String => Type::STRING,
        T::List(e) => Type::list(wave_type(types, *e)?),
        T::Record(fields) => {
            let fields = fields
                .iter()
                .map(|(n, t)| Ok((n.clone(), wave_type(types, *t)?)))
                .collect::<Result<Vec<_>>>()?;
            Type::record(fields).ok_or_else(invalid)?
        }
        T::Tuple(ts) => {
            let ts = ts
                .iter()
                .map(|t| wave_type(types, *t))
                .collect::<Result<Vec<_>>>()?;
            Type::tuple(ts).ok_or_else(invalid)?
        }
        T::Variant(cases) => {
            let cases = cases
                .iter()
                .map(|(n, t)| Ok((n.clone(), t.map(|t| wave_type(types, t)).transpose()?)))
                .collect::<Result<Vec<_>>>()?;
            Type::variant(cases).ok_or_else(invalid)?
        }
        T::Enum(cases) => Type::enum_ty(cases.iter().cloned()).ok_or_else(invalid)?,
        T::Option(t) => Type::option(wave_type(types, *t)?),
        T::Result { ok, err } => Type::result(
            ok.map(|t| wave_type(types, t)).transpose()?,
            err.map(|t| wave_type(types, t)).transpose()?,
        ),
        T::Flags(labels) => Type::flags(labels.iter().cloned()).ok_or_else(invalid)?,
        T::Own(_) | T::Borrow(_) => {
            bail!("resource handles cannot be given or shown on the command line")
        }
    })
}

/// Converts a parsed WAVE value to a [`Val`].
pub fn to_val(v: &Value) -> Val {
    use WasmTypeKind as K;
    let boxed = |v: Option<Cow<Value>>| v.map(|v| Box::new(to_val(&v)));
    match v.kind() {
        K::Bool => Val::Bool(v.unwrap_bool()),
        K::S8 => Val::S8(v.unwrap_s8()),
        K::U8 => Val::U8(v.unwrap_u8()),
        K::S16 => Val::S16(v.unwrap_s16()),
        K::U16 => Val::U16(v.unwrap_u16()),
        K::S32 => Val::S32(v.unwrap_s32()),
        K::U32 => Val::U32(v.unwrap_u32()),
        K::S64 => Val::S64(v.unwrap_s64()),
        K::U64 => Val::U64(v.unwrap_u64()),
        K::F32 => Val::Float32(v.unwrap_f32()),
        K::F64 => Val::Float64(v.unwrap_f64()),
        K::Char => Val::Char(v.unwrap_char()),
        K::String => Val::String(v.unwrap_string().into_owned()),
        K::List => Val::List(v.unwrap_list().map(|e| to_val(&e)).collect()),
        K::Record => Val::Record(
            v.unwrap_record()
                .map(|(n, e)| (n.into_owned(), to_val(&e)))
                .collect(),
        ),
        K::Tuple => Val::Tuple(v.unwrap_tuple().map(|e| to_val(&e)).collect()),
        K::Variant => {
            let (case, payload) = v.unwrap_variant();
            Val::Variant(case.into_owned(), boxed(payload))
        }
        K::Enum => Val::Enum(v.unwrap_enum().into_owned()),
        K::Option => Val::Option(boxed(v.unwrap_option())),
        K::Result => Val::Result(match v.unwrap_result() {
            Ok(p) => Ok(boxed(p)),
            Err(p) => Err(boxed(p)),
        }),
        K::Flags => Val::Flags(v.unwrap_flags().map(Cow::into_owned).collect()),
        // `Value` never has another kind (resources have no WAVE form).
        _ => Val::Bool(false),
    }
}

/// Converts a [`Val`] of type `ty` to a WAVE value.
pub fn from_val(types: &ComponentTypes, ty: TypeId, v: &Val) -> Result<Value> {
    let wty = wave_type(types, ty)?;
    let err = |e: wasm_wave::wasm::WasmValueError| anyhow!("{e}");
    let child = |t: Option<TypeId>, v: &Option<Box<Val>>| -> Result<Option<Value>> {
        match (t, v) {
            (Some(t), Some(v)) => Ok(Some(from_val(types, t, v)?)),
            _ => Ok(None),
        }
    };
    use InterfaceType as T;
    Ok(match (types.get(ty), v) {
        (_, Val::Bool(x)) => Value::make_bool(*x),
        (_, Val::S8(x)) => Value::make_s8(*x),
        (_, Val::U8(x)) => Value::make_u8(*x),
        (_, Val::S16(x)) => Value::make_s16(*x),
        (_, Val::U16(x)) => Value::make_u16(*x),
        (_, Val::S32(x)) => Value::make_s32(*x),
        (_, Val::U32(x)) => Value::make_u32(*x),
        (_, Val::S64(x)) => Value::make_s64(*x),
        (_, Val::U64(x)) => Value::make_u64(*x),
        (_, Val::Float32(x)) => Value::make_f32(*x),
        (_, Val::Float64(x)) => Value::make_f64(*x),
        (_, Val::Char(x)) => Value::make_char(*x),
        (_, Val::String(x)) => Value::make_string(Cow::Borrowed(x)),
        (T::List(e), Val::List(items)) => {
            let items = items
                .iter()
                .map(|v| from_val(types, *e, v))
                .collect::<Result<Vec<_>>>()?;
            Value::make_list(&wty, items).map_err(err)?
        }
        (T::Record(fields), Val::Record(vals)) => {
            let vals = fields
                .iter()
                .zip(vals)
                .map(|((n, t), (_, v))| Ok((n.as_str(), from_val(types, *t, v)?)))
                .collect::<Result<Vec<_>>>()?;
            Value::make_record(&wty, vals).map_err(err)?
        }
        (T::Tuple(ts), Val::Tuple(vals)) => {
            let vals = ts
                .iter()
                .zip(vals)
                .map(|(t, v)| from_val(types, *t, v))
                .collect::<Result<Vec<_>>>()?;
            Value::make_tuple(&wty, vals).map_err(err)?
        }
        (T::Variant(cases), Val::Variant(case, payload)) => {
            let t = cases.iter().find(|(n, _)| n == case).and_then(|(_, t)| *t);
            Value::make_variant(&wty, case, child(t, payload)?).map_err(err)?
        }
        (_, Val::Enum(case)) => Value::make_enum(&wty, case).map_err(err)?,
        (T::Option(t), Val::Option(v)) => {
            Value::make_option(&wty, child(Some(*t), v)?).map_err(err)?
        }
        (T::Result { ok, err: e }, Val::Result(r)) => {
            let r = match r {
                Ok(v) => Ok(child(*ok, v)?),
                Err(v) => Err(child(*e, v)?),
            };
            Value::make_result(&wty, r).map_err(err)?
        }
        (_, Val::Flags(set)) => {
            Value::make_flags(&wty, set.iter().map(String::as_str)).map_err(err)?
        }
        (_, v) => bail!("cannot show a {} value as {}", v.kind(), types.display(ty)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_survive_the_round_trip() {
        let mut types = ComponentTypes::default();
        let u8_ = types.intern(InterfaceType::U8);
        let s = types.intern(InterfaceType::String);
        let rec = types.intern(InterfaceType::Record(
            vec![("a".to_string(), u8_), ("b".to_string(), s)].into(),
        ));
        let list = types.intern(InterfaceType::List(rec));
        let opt = types.intern(InterfaceType::Option(list));
        let ty = wave_type(&types, opt).unwrap();
        let parsed: Value =
            wasm_wave::from_str(&ty, r#"some([{a: 1, b: "x"}, {a: 2, b: ""}])"#).unwrap();
        let val = to_val(&parsed);
        let back = from_val(&types, opt, &val).unwrap();
        assert_eq!(
            wasm_wave::to_string(&back).unwrap(),
            r#"some([{a: 1, b: "x"}, {a: 2, b: ""}])"#
        );
    }
}
