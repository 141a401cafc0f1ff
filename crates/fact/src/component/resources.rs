//! Resources: runtime resource types, the host's handles to resources (`Resource<T>` for
//! host-defined ones, `ResourceAny` for any), and their transfer in and out of the handle
//! tables of component instances.

use super::abi::{next, Context, Lift, Lower};
use super::ComponentType;
use crate::store::{StoreId, StoreOpaque};
use crate::AsContextMut;
use anyhow::{anyhow, bail, Result};
use fact_environ::component::{ComponentInstanceIndex, ComponentTypes, InterfaceType, TypeId};
use fact_runtime::component::handles::{Handle, HandleError, HOST_RESOURCE};
use fact_runtime::ValRaw;
use std::any::Any;
use std::marker::PhantomData;

/// A resource type.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct ResourceType {
    kind: Kind,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
enum Kind {
    Host(std::any::TypeId),
    Guest(StoreId, u32),
}

impl ResourceType {
    /// The host resource type represented by the Rust type `T`.
    pub fn host<T: 'static>() -> ResourceType {
        ResourceType {
            kind: Kind::Host(std::any::TypeId::of::<T>()),
        }
    }
}

/// A store's runtime resource type.
pub(crate) enum RuntimeResource {
    Host(std::any::TypeId),
    Guest {
        state: usize,
        instance: ComponentInstanceIndex,
        dtor: Option<crate::Func>,
    },
}

impl StoreOpaque {
    /// The runtime resource type with id `id`.
    pub(crate) fn resource_type(&self, id: u32) -> &RuntimeResource {
        &self.resource_types[(id & !HOST_RESOURCE) as usize]
    }

    /// The store's id for the host resource type `ty`.
    pub(crate) fn host_resource_id(&mut self, ty: ResourceType) -> Result<u32> {
        let Kind::Host(t) = ty.kind else {
            bail!("a guest resource type cannot be defined in a linker");
        };
        if let Some(i) = self
            .resource_types
            .iter()
            .position(|r| matches!(r, RuntimeResource::Host(h) if *h == t))
        {
            return Ok(i as u32 | HOST_RESOURCE);
        }
        self.resource_types.push(RuntimeResource::Host(t));
        Ok((self.resource_types.len() as u32 - 1) | HOST_RESOURCE)
    }

    pub(crate) fn new_guest_resource(
        &mut self,
        state: usize,
        instance: ComponentInstanceIndex,
        dtor: Option<crate::Func>,
    ) -> u32 {
        self.resource_types.push(RuntimeResource::Guest {
            state,
            instance,
            dtor,
        });
        self.resource_types.len() as u32 - 1
    }
}

/// An open call that may lend borrows (the canonical ABI's per-call borrow bookkeeping).
pub(crate) struct CallScope {
    id: u32,
    /// `borrow` handles given to the callee and not yet dropped.
    borrows: u32,
    /// `own` handles lent for the call, as (component state, instance, index).
    lenders: Vec<(usize, u32, u32)>,
}

impl StoreOpaque {
    /// The scope that borrows lent now belong to (0 outside any call).
    pub(crate) fn current_scope(&self) -> u32 {
        self.scopes.last().map_or(0, |s| s.id)
    }

    /// Opens a call scope; returns the depth to [`truncate_scopes`] to after a trap.
    ///
    /// [`truncate_scopes`]: StoreOpaque::truncate_scopes
    pub(crate) fn push_scope(&mut self) -> usize {
        let id = self.next_scope;
        self.next_scope = self.next_scope.wrapping_add(1).max(1);
        self.scopes.push(CallScope {
            id,
            borrows: 0,
            lenders: Vec::new(),
        });
        self.scopes.len() - 1
    }

    /// Closes the innermost call scope: the callee must have dropped every borrow it
    /// received, and the loans of the caller's `own` handles end.
    pub(crate) fn pop_scope(&mut self) -> Result<()> {
        let Some(scope) = self.scopes.pop() else {
            bail!("internal error: no call scope to close");
        };
        for (state, instance, index) in scope.lenders {
            self.components[state].tables[instance as usize].lend(index, -1);
        }
        if scope.borrows > 0 {
            return Err(anyhow::Error::new(fact_environ::Trap::BorrowsRemain)
                .context("borrow handles still remain at the end of the call"));
        }
        Ok(())
    }

    /// Drops the scopes above `depth` (after a trap; the instance is unusable anyway).
    pub(crate) fn truncate_scopes(&mut self, depth: usize) {
        self.scopes.truncate(depth);
    }

    /// A borrow of `scope` was dropped.
    pub(crate) fn borrow_dropped(&mut self, scope: u32) {
        if let Some(s) = self.scopes.iter_mut().rev().find(|s| s.id == scope) {
            s.borrows = s.borrows.saturating_sub(1);
        }
    }

    /// Records a new borrow in the innermost scope.
    fn borrow_added(&mut self) {
        if let Some(s) = self.scopes.last_mut() {
            s.borrows += 1;
        }
    }

    /// Lends the `own` handle at `index` for the innermost call.
    fn add_lender(&mut self, state: usize, instance: u32, index: u32) {
        self.components[state].tables[instance as usize].lend(index, 1);
        if let Some(s) = self.scopes.last_mut() {
            s.lenders.push((state, instance, index));
        }
    }

    /// `transfer-own`: moves an `own` handle between two instances' tables.
    pub(crate) fn transfer_own(
        &mut self,
        state: usize,
        resource: u32,
        from: u32,
        to: u32,
        index: u32,
    ) -> Result<u32> {
        let id = self.components[state].resource_ids[resource as usize];
        let s = &mut self.components[state];
        let h = s.tables[from as usize]
            .remove_own(index, id)
            .map_err(handle_error)?;
        s.tables[to as usize].insert(h).map_err(handle_error)
    }

    /// `transfer-borrow`: lends the resource at `index` in `from`'s table to `to`.
    pub(crate) fn transfer_borrow(
        &mut self,
        state: usize,
        resource: u32,
        from: u32,
        to: u32,
        index: u32,
    ) -> Result<u32> {
        let id = self.components[state].resource_ids[resource as usize];
        let h = self.components[state].tables[from as usize]
            .get(index, id)
            .map_err(handle_error)?;
        if matches!(h, Handle::Own { .. }) {
            self.add_lender(state, from, index);
        }
        let implements = matches!(
            *self.resource_type(id),
            RuntimeResource::Guest { state: s, instance, .. } if s == state && instance.0 == to
        );
        if implements {
            return Ok(h.rep());
        }
        let scope = self.current_scope();
        let i = self.components[state].tables[to as usize]
            .insert(Handle::Borrow {
                ty: id,
                rep: h.rep(),
                scope,
            })
            .map_err(handle_error)?;
        self.borrow_added();
        Ok(i)
    }
}

pub(crate) fn handle_error(e: HandleError) -> anyhow::Error {
    anyhow::Error::new(e.trap).context(e.message)
}

/// The resource a handle type refers to, and whether it is `own`.
fn handle_type(types: &ComponentTypes, ty: TypeId) -> Result<(u32, bool)> {
    match types.get(ty) {
        InterfaceType::Own(r) => Ok((r.0, true)),
        InterfaceType::Borrow(r) => Ok((r.0, false)),
        _ => Err(anyhow!(
            "type mismatch: the interface type is {}, not a resource handle",
            types.display(ty)
        )),
    }
}

impl Context<'_> {
    /// The store's runtime type of the plan's resource `r`.
    fn resource_id(&self, r: u32) -> u32 {
        self.store.components[self.state].resource_ids[r as usize]
    }

    fn table(&mut self) -> &mut fact_runtime::component::handles::HandleTable {
        let instance = self.opts.instance.0 as usize;
        &mut self.store.components[self.state].tables[instance]
    }

    /// Whether this side's component instance implements resource type `id`.
    fn implements(&self, id: u32) -> bool {
        matches!(
            *self.store.resource_type(id),
            RuntimeResource::Guest { state, instance, .. } if state == self.state && instance == self.opts.instance
        )
    }

    /// Puts a resource into this side's handle table; returns the core value to pass.
    fn lower_handle(&mut self, id: u32, rep: u32, own: bool) -> Result<u32> {
        if own {
            return self
                .table()
                .insert(Handle::Own {
                    ty: id,
                    rep,
                    lends: 0,
                })
                .map_err(handle_error);
        }
        // A borrow of a resource this instance implements is its representation.
        if self.implements(id) {
            return Ok(rep);
        }
        let scope = self.store.current_scope();
        let i = self
            .table()
            .insert(Handle::Borrow { ty: id, rep, scope })
            .map_err(handle_error)?;
        self.store.borrow_added();
        Ok(i)
    }

    /// Takes a resource out of this side's handle table.
    fn lift_handle(&mut self, id: u32, index: u32, own: bool) -> Result<u32> {
        if own {
            Ok(self
                .table()
                .remove_own(index, id)
                .map_err(handle_error)?
                .rep())
        } else {
            let h = self.table().get(index, id).map_err(handle_error)?;
            if matches!(h, Handle::Own { .. }) {
                let instance = self.opts.instance.0;
                self.store.add_lender(self.state, instance, index);
            }
            Ok(h.rep())
        }
    }
}

/// A handle to a host-defined resource whose host state is `T` (often kept in a
/// [`ResourceTable`]); `rep` identifies it.
pub struct Resource<T> {
    rep: u32,
    own: bool,
    _marker: PhantomData<fn() -> T>,
}

impl<T> Clone for Resource<T> {
    fn clone(&self) -> Self {
        Resource {
            rep: self.rep,
            own: self.own,
            _marker: PhantomData,
        }
    }
}

impl<T> std::fmt::Debug for Resource<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Resource")
            .field("rep", &self.rep)
            .field("own", &self.own)
            .finish()
    }
}

impl<T: 'static> Resource<T> {
    /// An owned handle to the resource with representation `rep`.
    pub fn new_own(rep: u32) -> Resource<T> {
        Resource {
            rep,
            own: true,
            _marker: PhantomData,
        }
    }

    /// A borrowed handle to the resource with representation `rep`.
    pub fn new_borrow(rep: u32) -> Resource<T> {
        Resource {
            rep,
            own: false,
            _marker: PhantomData,
        }
    }

    pub fn rep(&self) -> u32 {
        self.rep
    }

    pub fn owned(&self) -> bool {
        self.own
    }

    fn check(cx: &mut Context<'_>, ty: TypeId) -> Result<(u32, bool)> {
        let (r, own) = handle_type(cx.types, ty)?;
        let id = cx.resource_id(r);
        let expected = cx.store.host_resource_id(ResourceType::host::<T>())?;
        if id != expected {
            bail!(
                "type mismatch: the resource type is not the host's `{}`",
                std::any::type_name::<T>()
            );
        }
        Ok((id, own))
    }
}

impl<T: 'static> ComponentType for Resource<T> {
    fn typecheck(types: &ComponentTypes, ty: TypeId) -> Result<()> {
        handle_type(types, ty).map(|_| ())
    }
}

impl<T: 'static> Lower for Resource<T> {
    fn lower_flat(&self, cx: &mut Context<'_>, ty: TypeId, out: &mut Vec<ValRaw>) -> Result<()> {
        let (id, own) = Self::check(cx, ty)?;
        if own && !self.own {
            bail!("a borrowed resource cannot be passed as `own`");
        }
        out.push(ValRaw::i32(cx.lower_handle(id, self.rep, own)? as i32));
        Ok(())
    }
    fn store(&self, cx: &mut Context<'_>, ty: TypeId, ptr: u32) -> Result<()> {
        let mut v = Vec::new();
        self.lower_flat(cx, ty, &mut v)?;
        cx.write(ptr, &(v[0].get_i32() as u32).to_le_bytes())
    }
}

impl<T: 'static> Lift for Resource<T> {
    fn lift_flat(
        cx: &mut Context<'_>,
        ty: TypeId,
        src: &mut std::slice::Iter<'_, ValRaw>,
    ) -> Result<Self> {
        let index = next(src)?.get_i32() as u32;
        let (id, own) = Self::check(cx, ty)?;
        let rep = cx.lift_handle(id, index, own)?;
        Ok(Resource {
            rep,
            own,
            _marker: PhantomData,
        })
    }
    fn load(cx: &mut Context<'_>, ty: TypeId, ptr: u32) -> Result<Self> {
        let index = u32::from_le_bytes(cx.read::<4>(ptr)?);
        Self::lift_flat(cx, ty, &mut [ValRaw::i32(index as i32)].iter())
    }
}

/// A handle the host holds to a resource of any type. An owned one sits in the store's
/// table of host handles until it is passed to a guest as `own` or dropped, so using it
/// twice is an error rather than a double free; a borrowed one is valid for the call that
/// lent it.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct ResourceAny {
    store: StoreId,
    ty: u32,
    /// Own: the index in the store's host handle table. Borrow: the representation.
    slot: u32,
    own: bool,
}

impl ResourceAny {
    /// The resource's type.
    pub fn ty(&self) -> ResourceType {
        ResourceType {
            kind: Kind::Guest(self.store, self.ty),
        }
    }

    pub fn owned(&self) -> bool {
        self.own
    }

    /// The representation (checked against the store's host handles for an owned one).
    fn rep(&self, store: &StoreOpaque) -> Result<u32> {
        store.check(self.store)?;
        if !self.own {
            return Ok(self.slot);
        }
        Ok(store
            .host_handles
            .get(self.slot, self.ty)
            .map_err(handle_error)?
            .rep())
    }

    /// Drops an owned resource, running its destructor.
    pub fn resource_drop(self, mut store: impl AsContextMut) -> Result<()> {
        let store = store.as_context_mut().0;
        store.opaque.check(self.store)?;
        if !self.own {
            bail!("a borrowed resource cannot be dropped by the host");
        }
        let rep = store
            .opaque
            .host_handles
            .remove_own(self.slot, self.ty)
            .map_err(handle_error)?
            .rep();
        let dtor = match store.opaque.resource_type(self.ty) {
            RuntimeResource::Guest { dtor, .. } => *dtor,
            RuntimeResource::Host(_) => None,
        };
        match dtor {
            Some(d) => {
                let mut raw = [ValRaw::i32(rep as i32)];
                let called = crate::func::call_raw(store, d, &mut raw);
                super::contain_exception(&mut store.opaque, called)
            }
            None => Ok(()),
        }
    }
}

impl ComponentType for ResourceAny {
    fn typecheck(types: &ComponentTypes, ty: TypeId) -> Result<()> {
        handle_type(types, ty).map(|_| ())
    }
}

impl Lower for ResourceAny {
    fn lower_flat(&self, cx: &mut Context<'_>, ty: TypeId, out: &mut Vec<ValRaw>) -> Result<()> {
        let (r, own) = handle_type(cx.types, ty)?;
        if cx.resource_id(r) != self.ty {
            bail!("type mismatch: a handle of another resource type");
        }
        if own && !self.own {
            bail!("a borrowed resource cannot be passed as `own`");
        }
        let rep = if own {
            // Moving ownership into the guest: the host's handle is used up.
            cx.store.check(self.store)?;
            cx.store
                .host_handles
                .remove_own(self.slot, self.ty)
                .map_err(handle_error)?
                .rep()
        } else {
            self.rep(cx.store)?
        };
        out.push(ValRaw::i32(cx.lower_handle(self.ty, rep, own)? as i32));
        Ok(())
    }
    fn store(&self, cx: &mut Context<'_>, ty: TypeId, ptr: u32) -> Result<()> {
        let mut v = Vec::new();
        self.lower_flat(cx, ty, &mut v)?;
        cx.write(ptr, &(v[0].get_i32() as u32).to_le_bytes())
    }
}

impl Lift for ResourceAny {
    fn lift_flat(
        cx: &mut Context<'_>,
        ty: TypeId,
        src: &mut std::slice::Iter<'_, ValRaw>,
    ) -> Result<Self> {
        let index = next(src)?.get_i32() as u32;
        let (r, own) = handle_type(cx.types, ty)?;
        let id = cx.resource_id(r);
        let rep = cx.lift_handle(id, index, own)?;
        let slot = if own {
            cx.store
                .host_handles
                .insert(Handle::Own {
                    ty: id,
                    rep,
                    lends: 0,
                })
                .map_err(handle_error)?
        } else {
            rep
        };
        Ok(ResourceAny {
            store: cx.store.id,
            ty: id,
            slot,
            own,
        })
    }
    fn load(cx: &mut Context<'_>, ty: TypeId, ptr: u32) -> Result<Self> {
        let index = u32::from_le_bytes(cx.read::<4>(ptr)?);
        Self::lift_flat(cx, ty, &mut [ValRaw::i32(index as i32)].iter())
    }
}

/// The error of a `ResourceTable` lookup that finds nothing of type `T`.
fn missing<T>(r: &Resource<T>) -> anyhow::Error {
    anyhow!(
        "no resource {} of type {} in the table",
        r.rep,
        std::any::type_name::<T>()
    )
}

/// A table of host resource state: `push` stores a value and gives the `Resource<T>`
/// handle to pass to guests; `get` and `delete` find it again by the handle.
#[derive(Default)]
pub struct ResourceTable {
    entries: Vec<Option<Box<dyn Any + Send>>>,
    free: Vec<u32>,
}

impl ResourceTable {
    pub fn new() -> ResourceTable {
        ResourceTable::default()
    }

    /// Stores `value`; returns an owned handle to it.
    pub fn push<T: Send + 'static>(&mut self, value: T) -> Result<Resource<T>> {
        let entry = Some(Box::new(value) as Box<dyn Any + Send>);
        let rep = match self.free.pop() {
            Some(i) => {
                self.entries[i as usize] = entry;
                i
            }
            None => {
                self.entries.push(entry);
                self.entries.len() as u32 - 1
            }
        };
        Ok(Resource::new_own(rep))
    }

    pub fn get<T: 'static>(&self, r: &Resource<T>) -> Result<&T> {
        self.entries
            .get(r.rep as usize)
            .and_then(|e| e.as_ref())
            .and_then(|e| e.downcast_ref())
            .ok_or_else(|| missing(r))
    }

    pub fn get_mut<T: 'static>(&mut self, r: &Resource<T>) -> Result<&mut T> {
        self.entries
            .get_mut(r.rep as usize)
            .and_then(|e| e.as_mut())
            .and_then(|e| e.downcast_mut())
            .ok_or_else(|| missing(r))
    }

    /// Removes the value behind `r`.
    pub fn delete<T: 'static>(&mut self, r: Resource<T>) -> Result<T> {
        self.get::<T>(&r)?;
        let entry = self.entries[r.rep as usize].take().expect("checked");
        self.free.push(r.rep);
        Ok(*entry.downcast().expect("checked"))
    }

    /// The number of live entries.
    pub fn len(&self) -> usize {
        self.entries.iter().filter(|e| e.is_some()).count()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
