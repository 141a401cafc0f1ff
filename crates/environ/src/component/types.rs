//! Interface types (the component model's value types), interned so that equal types have
//! equal ids, each with its canonical ABI layout computed once: size, alignment and the
//! flattened core types (see `CanonicalABI.md`, "Alignment", "Size", "Flattening").

use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fmt;

/// An interned interface type.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct TypeId(pub u32);

/// An interned component function type.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct FuncTypeId(pub u32);

/// A runtime resource type of the flattened component (one per resource definition per
/// component instantiation, plus one per imported resource).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ResourceIndex(pub u32);

/// An interface type. Compound types refer to their parts by [`TypeId`].
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum InterfaceType {
    Bool,
    S8,
    U8,
    S16,
    U16,
    S32,
    U32,
    S64,
    U64,
    F32,
    F64,
    Char,
    String,
    List(TypeId),
    Record(Box<[(String, TypeId)]>),
    Tuple(Box<[TypeId]>),
    Variant(Box<[(String, Option<TypeId>)]>),
    Enum(Box<[String]>),
    Option(TypeId),
    Result {
        ok: Option<TypeId>,
        err: Option<TypeId>,
    },
    Flags(Box<[String]>),
    Own(ResourceIndex),
    Borrow(ResourceIndex),
}

/// A core value type in a flattened signature.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum FlatType {
    I32,
    I64,
    F32,
    F64,
}

impl FlatType {
    /// The canonical ABI's `join` of two flat types sharing a variant slot.
    pub fn join(a: FlatType, b: FlatType) -> FlatType {
        match (a, b) {
            (a, b) if a == b => a,
            (FlatType::I32, FlatType::F32) | (FlatType::F32, FlatType::I32) => FlatType::I32,
            _ => FlatType::I64,
        }
    }
}

impl fmt::Display for FlatType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FlatType::I32 => "i32",
            FlatType::I64 => "i64",
            FlatType::F32 => "f32",
            FlatType::F64 => "f64",
        })
    }
}

/// The canonical ABI layout of a type.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Layout {
    pub size: u32,
    pub align: u32,
    pub flat: Box<[FlatType]>,
}

/// The most core parameters passed directly; beyond, a pointer to a tuple.
pub const MAX_FLAT_PARAMS: usize = 16;
/// The most core results returned directly; beyond, through a return pointer.
pub const MAX_FLAT_RESULTS: usize = 1;
/// The largest byte length of a string.
pub const MAX_STRING_BYTE_LENGTH: u32 = (1 << 31) - 1;
/// The bit of a `latin1+utf16` string's length that marks UTF-16.
pub const UTF16_TAG: u32 = 1 << 31;

/// Rounds `n` up to a multiple of `align` (a power of two).
pub fn align_to(n: u32, align: u32) -> u32 {
    n.div_ceil(align) * align
}

/// The size in bytes of a variant discriminant for `cases` cases.
pub fn discriminant_size(cases: usize) -> u32 {
    match cases {
        0..=0x100 => 1,
        0x101..=0x1_0000 => 2,
        _ => 4,
    }
}

/// The size in bytes of a `flags` value with `n` labels.
pub fn flags_size(n: usize) -> u32 {
    match n {
        0 => 0,
        1..=8 => 1,
        9..=16 => 2,
        _ => 4 * (n as u32).div_ceil(32),
    }
}

/// The number of `i32`s a `flags` value with `n` labels flattens to.
pub fn flags_i32s(n: usize) -> usize {
    n.div_ceil(32)
}

/// A component function type.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct FuncType {
    pub params: Box<[(String, TypeId)]>,
    /// At most one result in the MVP.
    pub results: Box<[TypeId]>,
    /// The parameters as one tuple type (their flattening and memory layout).
    pub params_tuple: TypeId,
    /// The results as one tuple type.
    pub results_tuple: TypeId,
}

/// Every interface type and function type of a component, with layouts.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct ComponentTypes {
    defs: Vec<InterfaceType>,
    layouts: Vec<Layout>,
    funcs: Vec<FuncType>,
    #[serde(skip)]
    def_ids: HashMap<InterfaceType, TypeId>,
    #[serde(skip)]
    func_ids: HashMap<FuncType, FuncTypeId>,
}

impl ComponentTypes {
    /// Interns `ty`, computing its layout if it is new.
    pub fn intern(&mut self, ty: InterfaceType) -> TypeId {
        if self.def_ids.is_empty() && !self.defs.is_empty() {
            self.rebuild_maps();
        }
        if let Some(id) = self.def_ids.get(&ty) {
            return *id;
        }
        let layout = self.compute_layout(&ty);
        let id = TypeId(self.defs.len() as u32);
        self.defs.push(ty.clone());
        self.layouts.push(layout);
        self.def_ids.insert(ty, id);
        id
    }

    /// Interns the function type `(params) -> (results)`.
    pub fn func_type(&mut self, params: Vec<(String, TypeId)>, results: Vec<TypeId>) -> FuncTypeId {
        let params_tuple = self.intern(InterfaceType::Tuple(
            params.iter().map(|(_, t)| *t).collect(),
        ));
        let results_tuple = self.intern(InterfaceType::Tuple(results.clone().into()));
        self.intern_func(FuncType {
            params: params.into(),
            results: results.into(),
            params_tuple,
            results_tuple,
        })
    }

    /// The id of `ty` if it is interned.
    pub fn lookup(&self, ty: &InterfaceType) -> Option<TypeId> {
        self.def_ids.get(ty).copied().or_else(|| {
            self.defs
                .iter()
                .position(|d| d == ty)
                .map(|i| TypeId(i as u32))
        })
    }

    /// Interns a function type (see [`ComponentTypes::func_type`]).
    fn intern_func(&mut self, ty: FuncType) -> FuncTypeId {
        if self.func_ids.is_empty() && !self.funcs.is_empty() {
            self.rebuild_maps();
        }
        if let Some(id) = self.func_ids.get(&ty) {
            return *id;
        }
        let id = FuncTypeId(self.funcs.len() as u32);
        self.funcs.push(ty.clone());
        self.func_ids.insert(ty, id);
        id
    }

    /// Restores the lookup maps after deserialization.
    fn rebuild_maps(&mut self) {
        self.def_ids = self
            .defs
            .iter()
            .enumerate()
            .map(|(i, t)| (t.clone(), TypeId(i as u32)))
            .collect();
        self.func_ids = self
            .funcs
            .iter()
            .enumerate()
            .map(|(i, t)| (t.clone(), FuncTypeId(i as u32)))
            .collect();
    }

    pub fn get(&self, id: TypeId) -> &InterfaceType {
        &self.defs[id.0 as usize]
    }

    pub fn layout(&self, id: TypeId) -> &Layout {
        &self.layouts[id.0 as usize]
    }

    pub fn func(&self, id: FuncTypeId) -> &FuncType {
        &self.funcs[id.0 as usize]
    }

    pub fn num_types(&self) -> usize {
        self.defs.len()
    }

    pub fn num_funcs(&self) -> usize {
        self.funcs.len()
    }

    fn compute_layout(&self, ty: &InterfaceType) -> Layout {
        use FlatType::*;
        use InterfaceType as T;
        let scalar = |size: u32, flat: FlatType| Layout {
            size,
            align: size,
            flat: Box::new([flat]),
        };
        match ty {
            T::Bool | T::S8 | T::U8 => scalar(1, I32),
            T::S16 | T::U16 => scalar(2, I32),
            T::S32 | T::U32 | T::Char => scalar(4, I32),
            T::S64 | T::U64 => scalar(8, I64),
            T::F32 => scalar(4, F32),
            T::F64 => scalar(8, F64),
            T::Own(_) | T::Borrow(_) => scalar(4, I32),
            T::String | T::List(_) => Layout {
                size: 8,
                align: 4,
                flat: Box::new([I32, I32]),
            },
            T::Record(fields) => self.record_layout(fields.iter().map(|(_, t)| *t)),
            T::Tuple(types) => self.record_layout(types.iter().copied()),
            T::Flags(labels) => {
                let size = flags_size(labels.len());
                Layout {
                    size,
                    align: size.clamp(1, 4),
                    flat: vec![I32; flags_i32s(labels.len())].into(),
                }
            }
            T::Variant(cases) => self.variant_layout(cases.iter().map(|(_, t)| *t)),
            T::Enum(labels) => self.variant_layout(labels.iter().map(|_| None)),
            T::Option(t) => self.variant_layout([None, Some(*t)].into_iter()),
            T::Result { ok, err } => self.variant_layout([*ok, *err].into_iter()),
        }
    }

    fn record_layout(&self, fields: impl Iterator<Item = TypeId>) -> Layout {
        let (mut size, mut align, mut flat) = (0, 1, Vec::new());
        for f in fields {
            let l = self.layout(f);
            size = align_to(size, l.align) + l.size;
            align = align.max(l.align);
            flat.extend_from_slice(&l.flat);
        }
        Layout {
            size: align_to(size, align),
            align,
            flat: flat.into(),
        }
    }

    fn variant_layout(&self, cases: impl Iterator<Item = Option<TypeId>>) -> Layout {
        let cases: Vec<Option<TypeId>> = cases.collect();
        let disc = discriminant_size(cases.len());
        let mut case_align = 1;
        let mut case_size = 0;
        let mut payload: Vec<FlatType> = Vec::new();
        for l in cases.iter().flatten().map(|t| self.layout(*t)) {
            case_align = case_align.max(l.align);
            case_size = case_size.max(l.size);
            for (i, f) in l.flat.iter().enumerate() {
                match payload.get_mut(i) {
                    Some(slot) => *slot = FlatType::join(*slot, *f),
                    None => payload.push(*f),
                }
            }
        }
        let align = disc.max(case_align);
        let mut flat = vec![FlatType::I32];
        flat.extend(payload);
        Layout {
            size: align_to(align_to(disc, case_align) + case_size, align),
            align,
            flat: flat.into(),
        }
    }

    /// The byte offset of each field of a record or tuple.
    pub fn field_offsets(&self, fields: impl IntoIterator<Item = TypeId>) -> Vec<u32> {
        let mut offset = 0;
        fields
            .into_iter()
            .map(|f| {
                let l = self.layout(f);
                offset = align_to(offset, l.align);
                let here = offset;
                offset += l.size;
                here
            })
            .collect()
    }

    /// The cases of a variant-like type (variant, enum, option, result), despecialized.
    pub fn cases(&self, id: TypeId) -> Option<Vec<Option<TypeId>>> {
        Some(match self.get(id) {
            InterfaceType::Variant(cases) => cases.iter().map(|(_, t)| *t).collect(),
            InterfaceType::Enum(labels) => vec![None; labels.len()],
            InterfaceType::Option(t) => vec![None, Some(*t)],
            InterfaceType::Result { ok, err } => vec![*ok, *err],
            _ => return None,
        })
    }

    /// The offset of a variant-like type's payload from its start.
    pub fn payload_offset(&self, id: TypeId) -> u32 {
        let cases = self.cases(id).expect("a variant-like type");
        let case_align = cases
            .iter()
            .flatten()
            .map(|t| self.layout(*t).align)
            .max()
            .unwrap_or(1);
        align_to(discriminant_size(cases.len()), case_align)
    }

    /// The flattened parameters and results of a function type, as core wasm sees them
    /// in `context` (`lift` or `lower`).
    pub fn flat_signature(&self, ty: FuncTypeId, context: FlatContext) -> FlatSignature {
        let f = self.func(ty);
        let params: Vec<FlatType> = f
            .params
            .iter()
            .flat_map(|(_, t)| self.layout(*t).flat.iter().copied())
            .collect();
        let results: Vec<FlatType> = f
            .results
            .iter()
            .flat_map(|t| self.layout(*t).flat.iter().copied())
            .collect();
        let params_indirect = params.len() > MAX_FLAT_PARAMS;
        let results_indirect = results.len() > MAX_FLAT_RESULTS;
        let mut sig = FlatSignature {
            params: if params_indirect {
                vec![FlatType::I32]
            } else {
                params
            },
            results: results.clone(),
            params_indirect,
            results_indirect,
        };
        if results_indirect {
            match context {
                FlatContext::Lift => sig.results = vec![FlatType::I32],
                FlatContext::Lower => {
                    sig.params.push(FlatType::I32);
                    sig.results = Vec::new();
                }
            }
        }
        sig
    }

    /// The tuple layout of a list of types (parameters or results passed in memory).
    pub fn tuple_layout(&self, types: impl IntoIterator<Item = TypeId>) -> Layout {
        self.record_layout(types.into_iter())
    }

    /// Writes `ty` in WIT-like syntax.
    pub fn display(&self, id: TypeId) -> String {
        use InterfaceType as T;
        let join = |items: Vec<String>| items.join(", ");
        match self.get(id) {
            T::Bool => "bool".into(),
            T::S8 => "s8".into(),
            T::U8 => "u8".into(),
            T::S16 => "s16".into(),
            T::U16 => "u16".into(),
            T::S32 => "s32".into(),
            T::U32 => "u32".into(),
            T::S64 => "s64".into(),
            T::U64 => "u64".into(),
            T::F32 => "f32".into(),
            T::F64 => "f64".into(),
            T::Char => "char".into(),
            T::String => "string".into(),
            T::List(t) => format!("list<{}>", self.display(*t)),
            T::Record(fields) => format!(
                "record {{ {} }}",
                join(
                    fields
                        .iter()
                        .map(|(n, t)| format!("{n}: {}", self.display(*t)))
                        .collect()
                )
            ),
            T::Tuple(ts) => format!(
                "tuple<{}>",
                join(ts.iter().map(|t| self.display(*t)).collect())
            ),
            T::Variant(cases) => format!(
                "variant {{ {} }}",
                join(
                    cases
                        .iter()
                        .map(|(n, t)| match t {
                            Some(t) => format!("{n}({})", self.display(*t)),
                            None => n.clone(),
                        })
                        .collect()
                )
            ),
            T::Enum(labels) => format!("enum {{ {} }}", labels.join(", ")),
            T::Option(t) => format!("option<{}>", self.display(*t)),
            T::Result { ok, err } => {
                let show =
                    |t: &Option<TypeId>| t.map(|t| self.display(t)).unwrap_or_else(|| "_".into());
                match (ok, err) {
                    (None, None) => "result".into(),
                    (Some(_), None) => format!("result<{}>", show(ok)),
                    _ => format!("result<{}, {}>", show(ok), show(err)),
                }
            }
            T::Flags(labels) => format!("flags {{ {} }}", labels.join(", ")),
            T::Own(r) => format!("own<resource{}>", r.0),
            T::Borrow(r) => format!("borrow<resource{}>", r.0),
        }
    }

    /// Writes a function type in WIT-like syntax.
    pub fn display_func(&self, id: FuncTypeId) -> String {
        let f = self.func(id);
        let params: Vec<String> = f
            .params
            .iter()
            .map(|(n, t)| format!("{n}: {}", self.display(*t)))
            .collect();
        let mut out = format!("func({})", params.join(", "));
        if let Some(r) = f.results.first() {
            out.push_str(&format!(" -> {}", self.display(*r)));
        }
        out
    }

    /// Whether lowering values of this type allocates (it contains strings or lists).
    pub fn allocates(&self, id: TypeId) -> bool {
        use InterfaceType as T;
        match self.get(id) {
            T::String | T::List(_) => true,
            T::Record(f) => f.iter().any(|(_, t)| self.allocates(*t)),
            T::Tuple(ts) => ts.iter().any(|t| self.allocates(*t)),
            T::Variant(c) => c.iter().any(|(_, t)| t.is_some_and(|t| self.allocates(t))),
            T::Option(t) => self.allocates(*t),
            T::Result { ok, err } => [ok, err]
                .iter()
                .any(|t| t.is_some_and(|t| self.allocates(t))),
            _ => false,
        }
    }

    /// Whether values of this type contain `borrow` handles (whose calls need a scope).
    pub fn has_borrow(&self, id: TypeId) -> bool {
        use InterfaceType as T;
        match self.get(id) {
            T::Borrow(_) => true,
            T::List(t) | T::Option(t) => self.has_borrow(*t),
            T::Record(f) => f.iter().any(|(_, t)| self.has_borrow(*t)),
            T::Tuple(ts) => ts.iter().any(|t| self.has_borrow(*t)),
            T::Variant(c) => c.iter().any(|(_, t)| t.is_some_and(|t| self.has_borrow(t))),
            T::Result { ok, err } => [ok, err]
                .iter()
                .any(|t| t.is_some_and(|t| self.has_borrow(t))),
            _ => false,
        }
    }
}

/// Which side of a call a flat signature is for.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum FlatContext {
    /// The core function a `canon lift` wraps (results through a returned pointer).
    Lift,
    /// The core function a `canon lower` produces (results through a pointer parameter).
    Lower,
}

/// A component function type as core wasm sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlatSignature {
    pub params: Vec<FlatType>,
    pub results: Vec<FlatType>,
    /// Parameters are passed as one pointer to a tuple in memory.
    pub params_indirect: bool,
    /// Results are passed through memory (a returned pointer when lifting, a pointer
    /// parameter when lowering).
    pub results_indirect: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use FlatType::*;
    use InterfaceType as T;

    fn flat(types: &ComponentTypes, id: TypeId) -> Vec<FlatType> {
        types.layout(id).flat.to_vec()
    }

    #[test]
    fn scalars() {
        let mut t = ComponentTypes::default();
        for (ty, size, align, f) in [
            (T::Bool, 1, 1, I32),
            (T::U8, 1, 1, I32),
            (T::S16, 2, 2, I32),
            (T::U32, 4, 4, I32),
            (T::S64, 8, 8, I64),
            (T::F32, 4, 4, F32),
            (T::F64, 8, 8, F64),
            (T::Char, 4, 4, I32),
        ] {
            let id = t.intern(ty);
            assert_eq!((t.layout(id).size, t.layout(id).align), (size, align));
            assert_eq!(flat(&t, id), [f]);
        }
        let s = t.intern(T::String);
        assert_eq!((t.layout(s).size, t.layout(s).align), (8, 4));
        assert_eq!(flat(&t, s), [I32, I32]);
    }

    #[test]
    fn interning_makes_equal_types_equal() {
        let mut t = ComponentTypes::default();
        let u8_ = t.intern(T::U8);
        let a = t.intern(T::List(u8_));
        let b = t.intern(T::List(u8_));
        assert_eq!(a, b);
        let u16_ = t.intern(T::U16);
        assert_ne!(a, t.intern(T::List(u16_)));
    }

    #[test]
    fn nested_records() {
        // record { a: u8, b: record { c: u16, d: u64 }, e: u8 }
        let mut t = ComponentTypes::default();
        let (u8_, u16_, u64_) = (t.intern(T::U8), t.intern(T::U16), t.intern(T::U64));
        let inner = t.intern(T::Record(Box::new([
            ("c".into(), u16_),
            ("d".into(), u64_),
        ])));
        assert_eq!((t.layout(inner).size, t.layout(inner).align), (16, 8));
        let outer = t.intern(T::Record(Box::new([
            ("a".into(), u8_),
            ("b".into(), inner),
            ("e".into(), u8_),
        ])));
        assert_eq!(t.field_offsets([u8_, inner, u8_]), [0, 8, 24]);
        assert_eq!((t.layout(outer).size, t.layout(outer).align), (32, 8));
        assert_eq!(flat(&t, outer), [I32, I32, I64, I32]);
        let tuple = t.intern(T::Tuple(Box::new([u8_, u16_])));
        assert_eq!((t.layout(tuple).size, t.layout(tuple).align), (4, 2));
    }

    #[test]
    fn variants_join_their_payload_slots() {
        let mut t = ComponentTypes::default();
        let (u8_, f32_, u16_, s64) = (
            t.intern(T::U8),
            t.intern(T::F32),
            t.intern(T::U16),
            t.intern(T::S64),
        );
        // u8 and f32 share one slot: i32.
        let v = t.intern(T::Variant(Box::new([
            ("a".into(), Some(u8_)),
            ("b".into(), Some(f32_)),
        ])));
        assert_eq!(flat(&t, v), [I32, I32]);
        assert_eq!(
            (t.layout(v).size, t.layout(v).align, t.payload_offset(v)),
            (8, 4, 4)
        );
        // u16 and s64: i64.
        let v = t.intern(T::Variant(Box::new([
            ("a".into(), Some(u16_)),
            ("b".into(), Some(s64)),
        ])));
        assert_eq!(flat(&t, v), [I32, I64]);
        assert_eq!(
            (t.layout(v).size, t.layout(v).align, t.payload_offset(v)),
            (16, 8, 8)
        );
        // f32 and f64 cannot share: i64.
        let f64_ = t.intern(T::F64);
        let v = t.intern(T::Result {
            ok: Some(f32_),
            err: Some(f64_),
        });
        assert_eq!(flat(&t, v), [I32, I64]);
        // A payload-less case and a string.
        let s = t.intern(T::String);
        let o = t.intern(T::Option(s));
        assert_eq!(flat(&t, o), [I32, I32, I32]);
        assert_eq!((t.layout(o).size, t.layout(o).align), (12, 4));
        // Enums: discriminant only, sized by case count.
        let e = t.intern(T::Enum((0..300).map(|i| format!("c{i}")).collect()));
        assert_eq!((t.layout(e).size, t.layout(e).align), (2, 2));
        assert_eq!(flat(&t, e), [I32]);
        let r = t.intern(T::Result {
            ok: None,
            err: None,
        });
        assert_eq!((t.layout(r).size, t.layout(r).align), (1, 1));
    }

    #[test]
    fn flags_of_every_size() {
        let mut t = ComponentTypes::default();
        for (n, size, align, i32s) in [
            (1, 1, 1, 1),
            (8, 1, 1, 1),
            (9, 2, 2, 1),
            (16, 2, 2, 1),
            (17, 4, 4, 1),
            (32, 4, 4, 1),
        ] {
            let id = t.intern(T::Flags((0..n).map(|i| format!("f{i}")).collect()));
            assert_eq!(
                (t.layout(id).size, t.layout(id).align),
                (size, align),
                "{n} flags"
            );
            assert_eq!(flat(&t, id).len(), i32s);
        }
    }

    #[test]
    fn flat_signatures_spill_to_memory() {
        let mut t = ComponentTypes::default();
        let u32_ = t.intern(T::U32);
        let s = t.intern(T::String);
        let params: Vec<(String, TypeId)> = (0..17).map(|i| (format!("p{i}"), u32_)).collect();
        let f = t.func_type(params, vec![s]);
        let lift = t.flat_signature(f, FlatContext::Lift);
        assert_eq!((lift.params, lift.results), (vec![I32], vec![I32]));
        let lower = t.flat_signature(f, FlatContext::Lower);
        assert_eq!((lower.params, lower.results), (vec![I32, I32], vec![]));
        let g = t.func_type(vec![("a".into(), u32_)], vec![u32_]);
        let sig = t.flat_signature(g, FlatContext::Lower);
        assert!(!sig.params_indirect && !sig.results_indirect);
        assert_eq!(
            t.display_func(f).split("->").nth(1).map(str::trim),
            Some("string")
        );
    }

    #[test]
    fn survives_serialization() {
        let mut t = ComponentTypes::default();
        let u8_ = t.intern(T::U8);
        let l = t.intern(T::List(u8_));
        let bytes = postcard::to_stdvec(&t).unwrap();
        let mut back: ComponentTypes = postcard::from_bytes(&bytes).unwrap();
        assert_eq!(back.intern(T::List(u8_)), l);
        assert_eq!(back.layout(l), t.layout(l));
    }
}
