//! Dynamically typed wasm values.

use crate::store::{StoreId, StoreOpaque};
use crate::{AsContext, AsContextMut, ExnRef, Func};
use anyhow::Result;
use fact_environ::{HeapType, ValType};
use fact_runtime::{VMFuncRef, ValRaw};
use std::any::Any;
use std::sync::Arc;

/// A 128-bit SIMD value.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct V128(pub u128);

/// A wasm value.
#[derive(Clone, Debug)]
pub enum Val {
    I32(i32),
    I64(i64),
    /// An `f32`, as its bits (so NaN payloads survive).
    F32(u32),
    /// An `f64`, as its bits.
    F64(u64),
    V128(V128),
    FuncRef(Option<Func>),
    ExternRef(Option<ExternRef>),
    /// An `exnref`: a reference to an exception object.
    ExnRef(Option<ExnRef>),
}

impl Val {
    pub fn ty(&self) -> ValType {
        match self {
            Val::I32(_) => ValType::I32,
            Val::I64(_) => ValType::I64,
            Val::F32(_) => ValType::F32,
            Val::F64(_) => ValType::F64,
            Val::V128(_) => ValType::V128,
            Val::FuncRef(_) => ValType::FUNCREF,
            Val::ExternRef(_) => ValType::EXTERNREF,
            Val::ExnRef(_) => ValType::EXNREF,
        }
    }

    /// Whether this value may be passed where `ty` is expected: numbers by equality,
    /// references by subtyping (a null only where `ty` is nullable, a function only
    /// where its type is a subtype of `ty`'s heap type). `ty` uses engine type ids.
    pub(crate) fn matches(&self, store: &StoreOpaque, ty: ValType) -> Result<bool> {
        let ValType::Ref(expected) = ty else {
            return Ok(self.ty() == ty);
        };
        Ok(match self {
            Val::FuncRef(None) => expected.nullable && expected.heap.top() == HeapType::Func,
            Val::ExternRef(None) => expected.nullable && expected.heap.top() == HeapType::Extern,
            Val::ExnRef(None) => expected.nullable && expected.heap.top() == HeapType::Exn,
            Val::ExnRef(Some(e)) => {
                e.ptr_in(store)?;
                matches!(expected.heap, HeapType::Exn)
            }
            Val::ExternRef(Some(e)) => {
                store.check(e.store)?;
                matches!(expected.heap, HeapType::Extern)
            }
            Val::FuncRef(Some(f)) => match expected.heap {
                HeapType::Func => true,
                HeapType::Engine(id) => {
                    // SAFETY: a live `Func` of this store points at a funcref the store
                    // keeps alive.
                    let actual = unsafe { (*f.func_ref(store)?).type_id };
                    store.engine.types().is_subtype(actual, id)
                }
                _ => false,
            },
            _ => false,
        })
    }

    /// Describes this value's type for error messages: `null funcref` for a null, so a
    /// message about a non-nullable expectation reads right.
    pub(crate) fn describe(&self) -> String {
        match self {
            Val::FuncRef(None) => "null funcref".to_string(),
            Val::ExternRef(None) => "null externref".to_string(),
            Val::ExnRef(None) => "null exnref".to_string(),
            v => v.ty().to_string(),
        }
    }

    /// The zero value (or null reference) of a type.
    pub fn default_for(ty: ValType) -> Val {
        match ty {
            ValType::I32 => Val::I32(0),
            ValType::I64 => Val::I64(0),
            ValType::F32 => Val::F32(0),
            ValType::F64 => Val::F64(0),
            ValType::V128 => Val::V128(V128(0)),
            ValType::Ref(r) => match r.heap.top() {
                HeapType::Extern => Val::ExternRef(None),
                HeapType::Exn => Val::ExnRef(None),
                _ => Val::FuncRef(None),
            },
        }
    }

    pub fn i32(&self) -> Option<i32> {
        match self {
            Val::I32(v) => Some(*v),
            _ => None,
        }
    }

    pub fn i64(&self) -> Option<i64> {
        match self {
            Val::I64(v) => Some(*v),
            _ => None,
        }
    }

    pub fn f32(&self) -> Option<f32> {
        match self {
            Val::F32(v) => Some(f32::from_bits(*v)),
            _ => None,
        }
    }

    pub fn f64(&self) -> Option<f64> {
        match self {
            Val::F64(v) => Some(f64::from_bits(*v)),
            _ => None,
        }
    }

    pub(crate) fn to_raw(&self, store: &mut StoreOpaque) -> Result<ValRaw> {
        Ok(match self {
            Val::I32(v) => ValRaw::i32(*v),
            Val::I64(v) => ValRaw::i64(*v),
            Val::F32(v) => ValRaw::f32(*v),
            Val::F64(v) => ValRaw::f64(*v),
            Val::V128(v) => ValRaw::from_u128(v.0),
            Val::FuncRef(None) | Val::ExternRef(None) | Val::ExnRef(None) => ValRaw::ptr(0),
            Val::ExnRef(Some(e)) => ValRaw::ptr(e.ptr_in(store)? as usize),
            Val::FuncRef(Some(f)) => ValRaw::ptr(f.func_ref(store)? as usize),
            Val::ExternRef(Some(e)) => {
                store.check(e.store)?;
                ValRaw::ptr(e.index as usize + 1)
            }
        })
    }

    pub(crate) fn from_raw(store: &mut StoreOpaque, raw: ValRaw, ty: ValType) -> Val {
        match ty {
            ValType::I32 => Val::I32(raw.get_i32()),
            ValType::I64 => Val::I64(raw.get_i64()),
            ValType::F32 => Val::F32(raw.get_f32()),
            ValType::F64 => Val::F64(raw.get_f64()),
            ValType::V128 => Val::V128(V128(raw.get_u128())),
            ValType::Ref(r) if r.heap.top() == HeapType::Exn => {
                Val::ExnRef(ExnRef::from_wasm(store, raw.get_ptr() as *mut _))
            }
            ValType::Ref(r) if r.heap.top() != HeapType::Extern => {
                Val::FuncRef(match raw.get_ptr() {
                    0 => None,
                    p => store.func_for_wasm_ref(p as *const VMFuncRef),
                })
            }
            ValType::Ref(_) => Val::ExternRef(match raw.get_ptr() {
                0 => None,
                h if h <= store.externref_count() => {
                    Some(ExternRef::from_parts(store.id, h as u32 - 1))
                }
                // Wasm can only hold handles the host gave it.
                _ => None,
            }),
        }
    }
}

impl From<i32> for Val {
    fn from(v: i32) -> Val {
        Val::I32(v)
    }
}
impl From<i64> for Val {
    fn from(v: i64) -> Val {
        Val::I64(v)
    }
}
impl From<f32> for Val {
    fn from(v: f32) -> Val {
        Val::F32(v.to_bits())
    }
}
impl From<f64> for Val {
    fn from(v: f64) -> Val {
        Val::F64(v.to_bits())
    }
}
impl From<Func> for Val {
    fn from(f: Func) -> Val {
        Val::FuncRef(Some(f))
    }
}

/// An opaque host value that wasm can hold as an `externref`. It lives as long as its
/// store.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct ExternRef {
    store: StoreId,
    index: u32,
}

impl ExternRef {
    pub(crate) fn from_parts(store: StoreId, index: u32) -> ExternRef {
        ExternRef { store, index }
    }

    /// Wraps `value` as an externref of the store.
    pub fn new<T>(
        mut store: impl AsContextMut<Data = T>,
        value: impl Any + Send + Sync,
    ) -> ExternRef {
        store
            .as_context_mut()
            .0
            .opaque
            .add_externref(Arc::new(value))
    }

    /// The wrapped value.
    pub fn data<'a, C: AsContext>(&self, store: &'a C) -> Result<&'a (dyn Any + Send + Sync)> {
        let ctx = store.as_context();
        ctx.0.opaque.check(self.store)?;
        // SAFETY: the data lives as long as the store, which `store` borrows for 'a.
        let data: *const (dyn Any + Send + Sync) = ctx.0.opaque.externref_data(self.index);
        Ok(unsafe { &*data })
    }
}
