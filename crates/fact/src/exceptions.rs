//! Exception tags and exceptions as the host sees them.
//!
//! An exception that wasm throws and no wasm handler catches leaves the call as an error
//! whose root cause is [`ThrownException`]; the exception itself becomes the store's
//! *pending exception*, which [`Store::take_pending_exception`] hands out as an [`ExnRef`].
//! A host function throws into its wasm caller by returning the error of [`Store::throw`]
//! (or of [`Caller::throw`]), which makes the exception pending again: the host-call glue
//! sees both and throws the exception into the caller instead of trapping.

use crate::store::{StoreId, StoreOpaque};
use crate::values::Val;
use crate::{AsContext, AsContextMut, Caller, Store, StoreContextMut};
use anyhow::{bail, Result};
use fact_environ::FuncType;
use fact_runtime::exceptions::{VMExnObject, VMTag};
use std::sync::Arc;

pub use fact_runtime::exceptions::ThrownException;

/// An exception tag of a store: defined by an instance, or by the host with [`Tag::new`].
#[derive(Copy, Clone, Debug)]
pub struct Tag {
    store: StoreId,
    pub(crate) id: usize,
}

impl Tag {
    pub(crate) fn from_id(store: &StoreOpaque, id: usize) -> Tag {
        Tag {
            store: store.id,
            id,
        }
    }

    /// A new tag whose exceptions carry values of `ty`'s parameter types (`ty` has no
    /// results).
    pub fn new(mut store: impl AsContextMut, ty: &FuncType) -> Result<Tag> {
        let store = &mut store.as_context_mut().0.opaque;
        if !ty.results.is_empty() {
            bail!("a tag's type has no results");
        }
        let types = store.engine.types();
        types.check_host_type(ty)?;
        let type_id = types.register(ty);
        let description = format!("host tag #{}", store.runtime.tags.len());
        let id = store.runtime.add_tag(type_id, &ty.params, description);
        Ok(Tag::from_id(store, id))
    }

    pub(crate) fn id_in(&self, store: &StoreOpaque) -> Result<usize> {
        store.check(self.store)?;
        Ok(self.id)
    }

    /// The tag's type.
    pub fn ty(&self, store: impl AsContext) -> FuncType {
        self.ty_in(&store.as_context().0.opaque)
    }

    pub(crate) fn ty_in(&self, store: &StoreOpaque) -> FuncType {
        let type_id = store.runtime.tags[self.id].type_id;
        store
            .engine
            .types()
            .lookup(type_id)
            .expect("tags have registered types")
    }

    /// Whether `a` and `b` are the same tag.
    pub fn eq(a: &Tag, b: &Tag, _store: impl AsContext) -> bool {
        a.store == b.store && a.id == b.id
    }

    fn vm_tag(&self, store: &StoreOpaque) -> *const VMTag {
        &*store.runtime.tags[self.id]
    }
}

/// A reference to an exception object of a store. The object lives at least as long as
/// some `ExnRef` to it does (and the store).
#[derive(Clone, Debug)]
pub struct ExnRef {
    store: StoreId,
    pub(crate) ptr: *mut VMExnObject,
    _root: Arc<()>,
}

// SAFETY: the pointer is only dereferenced through the store, which owns the object.
unsafe impl Send for ExnRef {}
unsafe impl Sync for ExnRef {}

impl ExnRef {
    /// A new exception of `tag` with payload `fields`, which must match the tag's
    /// parameters.
    pub fn new(mut store: impl AsContextMut, tag: &Tag, fields: &[Val]) -> Result<ExnRef> {
        let store = &mut store.as_context_mut().0.opaque;
        tag.id_in(store)?;
        let ty = tag.ty_in(store);
        if fields.len() != ty.params.len() {
            bail!(
                "the tag's exceptions carry {} values, not {}",
                ty.params.len(),
                fields.len()
            );
        }
        let mut raw = Vec::with_capacity(fields.len());
        for (i, (v, t)) in fields.iter().zip(ty.params.iter()).enumerate() {
            if !v.matches(store, *t)? {
                bail!("field {i} is a {}, but the tag says {t}", v.describe());
            }
            raw.push(v.to_raw(store)?);
        }
        let vm_tag = tag.vm_tag(store);
        // SAFETY: the tag is one of this store's.
        let ptr = unsafe { store.runtime.exceptions.alloc(vm_tag, &raw) };
        // SAFETY: just allocated in this store.
        Ok(unsafe { ExnRef::from_raw(store, ptr) })
    }

    /// The host's reference to `ptr`, if it is a live exception object of `store` (wasm
    /// only ever holds those; anything else would be inconsistent metadata, and is null).
    pub(crate) fn from_wasm(store: &mut StoreOpaque, ptr: *mut VMExnObject) -> Option<ExnRef> {
        // SAFETY: checked to be a live object of this store.
        store
            .runtime
            .exceptions
            .contains(ptr)
            .then(|| unsafe { ExnRef::from_raw(store, ptr) })
    }

    /// The host's reference to `ptr`, a live exception object of `store`.
    ///
    /// # Safety
    ///
    /// `ptr` must be a live object of `store`'s exception heap.
    pub(crate) unsafe fn from_raw(store: &mut StoreOpaque, ptr: *mut VMExnObject) -> ExnRef {
        let root = store.runtime.exceptions.root(ptr);
        ExnRef {
            store: store.id,
            ptr,
            _root: root,
        }
    }

    /// The object, checked to belong to `store`.
    pub(crate) fn ptr_in(&self, store: &StoreOpaque) -> Result<*mut VMExnObject> {
        store.check(self.store)?;
        Ok(self.ptr)
    }

    fn object<'a>(&self, store: &'a StoreOpaque) -> Result<&'a VMExnObject> {
        // SAFETY: the object lives while this reference roots it.
        Ok(unsafe { &*self.ptr_in(store)? })
    }

    /// The exception's tag.
    pub fn tag(&self, store: impl AsContext) -> Result<Tag> {
        self.tag_in(&store.as_context().0.opaque)
    }

    fn tag_in(&self, store: &StoreOpaque) -> Result<Tag> {
        // SAFETY: an exception's tag is one of its store's, which live as long as it.
        let id = unsafe { (*self.object(store)?.tag).id };
        Ok(Tag::from_id(store, id))
    }

    /// The exception's payload.
    pub fn fields(&self, mut store: impl AsContextMut) -> Result<Vec<Val>> {
        let store = &mut store.as_context_mut().0.opaque;
        let ty = self.tag_in(store)?.ty_in(store);
        let values = self.object(store)?.values().to_vec();
        Ok(ty
            .params
            .iter()
            .zip(values)
            .map(|(t, raw)| Val::from_raw(store, raw, *t))
            .collect())
    }
}

impl<T> Store<T> {
    /// Makes `exn` the store's pending exception and returns the error that, returned by a
    /// host function, throws it into the function's wasm caller.
    pub fn throw<R>(&mut self, exn: ExnRef) -> Result<R, ThrownException> {
        throw(&mut self.as_context_mut().0.opaque, exn)
    }

    /// The exception that last escaped from wasm to the host (or that a host function is
    /// about to throw), taking it out of the store.
    pub fn take_pending_exception(&mut self) -> Option<ExnRef> {
        take_pending(&mut self.as_context_mut().0.opaque)
    }
}

impl<T> StoreContextMut<'_, T> {
    /// As [`Store::throw`].
    pub fn throw<R>(&mut self, exn: ExnRef) -> Result<R, ThrownException> {
        throw(&mut self.0.opaque, exn)
    }

    /// As [`Store::take_pending_exception`].
    pub fn take_pending_exception(&mut self) -> Option<ExnRef> {
        take_pending(&mut self.0.opaque)
    }
}

impl<T> Caller<'_, T> {
    /// As [`Store::throw`].
    pub fn throw<R>(&mut self, exn: ExnRef) -> Result<R, ThrownException> {
        throw(&mut self.as_context_mut().0.opaque, exn)
    }

    /// As [`Store::take_pending_exception`].
    pub fn take_pending_exception(&mut self) -> Option<ExnRef> {
        take_pending(&mut self.as_context_mut().0.opaque)
    }
}

fn throw<R>(store: &mut StoreOpaque, exn: ExnRef) -> Result<R, ThrownException> {
    let description = match exn.object(store) {
        // SAFETY: tags live as long as their store.
        Ok(obj) => unsafe { (*obj.tag).description.clone() },
        Err(e) => return Err(ThrownException::new(format!("{e:#}"))),
    };
    store.runtime.set_pending_exception(exn.ptr);
    Err(ThrownException::new(description))
}

fn take_pending(store: &mut StoreOpaque) -> Option<ExnRef> {
    let ptr = store.runtime.take_pending_exception()?;
    // SAFETY: the pending exception is a live object (collections keep it).
    Some(unsafe { ExnRef::from_raw(store, ptr) })
}
