//! Exceptions: tags, exception objects, and the unwinder that takes a thrown exception to
//! its handler.
//!
//! A tag is a [`VMTag`] owned by its store; its address is its identity, and every vmctx
//! holds the tag pointers of its module's tags. An exception is a [`VMExnObject`] in the
//! store's [`ExnHeap`]; an `exnref` is its address.
//!
//! Compiled code throws by calling the `throw` or `throw_ref` builtin through a small stub
//! that adds the calling frame (its frame pointer, and the return address into it). The
//! unwinder walks the frame-pointer chain from there, looking each return address up in
//! the artifacts' handler tables (call sites inside a `try_table`, see
//! `fact_environ::artifact::HandlerSite`); at the first hit it resets the stack and frame
//! pointers to that frame and jumps to the handler with the exception in the first payload
//! register. The frames skipped are wasm frames and the builtin's, which owns nothing at
//! that point. The walk stops at the activation's entry frame: the exception never unwinds
//! through host frames; it leaves wasm as [`Pending::Exception`], and the host sees an
//! error.

use crate::instance::Instance;
use crate::registry;
use crate::traps::raise_exception;
use crate::vmcontext::ValRaw;
use fact_environ::vmoffsets::exn_obj;
use std::sync::Arc;

/// The error of a call out of which a wasm exception escaped (the exception is then the
/// store's pending exception), and the error with which a host function throws the
/// store's pending exception into its wasm caller (`Store::throw` makes one).
#[derive(Clone, Debug)]
pub struct ThrownException {
    tag: String,
}

impl std::fmt::Display for ThrownException {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "thrown wasm exception ({})", self.tag)
    }
}

impl std::error::Error for ThrownException {}

impl ThrownException {
    /// The error for an exception of the tag `tag_description` describes.
    pub fn new(tag_description: String) -> ThrownException {
        ThrownException {
            tag: tag_description,
        }
    }

    /// The description of the exception's tag, e.g. "tag 0 of module `m`".
    pub fn tag_description(&self) -> &str {
        &self.tag
    }
}

/// A tag: its identity is its address.
#[repr(C)]
pub struct VMTag {
    /// The engine-wide signature id of the tag's type.
    pub type_id: u32,
    /// The number of parameters of that type (every exception of the tag has at least as
    /// many payload values).
    pub num_params: u32,
    /// The tag's index among its store's tags.
    pub id: usize,
    /// The parameters that are `exnref`s (for collections to follow).
    ref_slots: Box<[u32]>,
    /// How errors name the tag, e.g. "tag 0 of module `m`".
    pub description: String,
}

impl VMTag {
    /// Tag `id` of a store, of type `type_id` with parameters `params`.
    pub fn new(
        id: usize,
        type_id: u32,
        params: &[fact_environ::ValType],
        description: String,
    ) -> VMTag {
        VMTag {
            type_id,
            num_params: params.len() as u32,
            id,
            ref_slots: params
                .iter()
                .enumerate()
                .filter(|(_, t)| is_exnref(**t))
                .map(|(i, _)| i as u32)
                .collect(),
            description,
        }
    }
}

/// An exception: a tag and one raw value per tag parameter.
#[repr(C)]
pub struct VMExnObject {
    pub tag: *const VMTag,
    values: *mut ValRaw,
    len: u32,
    /// The object's slot in its heap.
    slot: u32,
    /// Non-zero once an `exnref` to the object has been handed out (by a `catch_ref` or
    /// `catch_all_ref` clause, or to the host): from then on only a collection frees it.
    escaped: u8,
    /// Shared with every host `ExnRef` to the object: a count above one roots it.
    root: Option<Arc<()>>,
}

const _: () = {
    assert!(std::mem::offset_of!(VMExnObject, tag) == exn_obj::TAG as usize);
    assert!(std::mem::offset_of!(VMExnObject, values) == exn_obj::VALUES as usize);
    assert!(std::mem::offset_of!(VMExnObject, escaped) == exn_obj::ESCAPED as usize);
};

impl VMExnObject {
    /// The payload.
    pub fn values(&self) -> &[ValRaw] {
        // SAFETY: `values` points at `len` values owned by this object.
        unsafe { std::slice::from_raw_parts(self.values, self.len as usize) }
    }
}

/// The exception objects of a store.
///
/// An exception that only ever travels as the thrown exception is freed by the `catch` or
/// `catch_all` clause that consumes it. One that has been seen as an `exnref` may be in
/// any local, global, table or payload; [`ExnHeap::collect`] frees those that nothing
/// references, when no wasm of the store is running (so no local can hold one): the
/// runtime's embedder calls it after the outermost call into wasm returns, once the heap
/// has grown enough since the last collection.
pub struct ExnHeap {
    slots: Vec<*mut VMExnObject>,
    free: Vec<u32>,
    /// The number of live objects.
    live: usize,
    /// The live-object count at which the next collection is worth doing.
    next_collection: usize,
}

impl Default for ExnHeap {
    fn default() -> ExnHeap {
        ExnHeap {
            slots: Vec::new(),
            free: Vec::new(),
            live: 0,
            next_collection: MIN_COLLECTION,
        }
    }
}

/// No collection happens below this many live objects.
const MIN_COLLECTION: usize = 1024;

impl ExnHeap {
    /// A new exception object of tag `tag` with payload `values` (padded with zeros to as
    /// many values as the tag has parameters).
    ///
    /// # Safety
    ///
    /// `tag` must be a live tag of this heap's store.
    pub unsafe fn alloc(&mut self, tag: *const VMTag, values: &[ValRaw]) -> *mut VMExnObject {
        let min_len = (*tag).num_params as usize;
        let values: Box<[ValRaw]> = if values.len() >= min_len {
            values.into()
        } else {
            let mut v = Vec::with_capacity(min_len);
            v.extend_from_slice(values);
            v.resize(min_len, ValRaw::default());
            v.into_boxed_slice()
        };
        let len = values.len() as u32;
        let slot = match self.free.pop() {
            Some(slot) => slot,
            None => {
                self.slots.push(std::ptr::null_mut());
                self.slots.len() as u32 - 1
            }
        };
        let obj = Box::into_raw(Box::new(VMExnObject {
            tag,
            values: Box::into_raw(values) as *mut ValRaw,
            len,
            slot,
            escaped: 0,
            root: None,
        }));
        self.slots[slot as usize] = obj;
        self.live += 1;
        obj
    }

    /// Frees `obj` unless an `exnref` to it has been handed out (see [`ExnHeap`]).
    ///
    /// # Safety
    ///
    /// `obj` must be a live object of this heap, consumed by a `catch` clause.
    pub unsafe fn release(&mut self, obj: *mut VMExnObject) {
        if (*obj).escaped == 0 {
            self.free_slot((*obj).slot);
        }
    }

    /// A root for the host's reference to `obj`, which must be a live object of this
    /// heap: while it lives, the object does.
    ///
    /// # Safety
    ///
    /// `obj` must be a live object of this heap.
    pub unsafe fn root(&mut self, obj: *mut VMExnObject) -> Arc<()> {
        let obj = &mut *obj;
        obj.escaped = 1;
        obj.root.get_or_insert_with(|| Arc::new(())).clone()
    }

    fn free_slot(&mut self, slot: u32) {
        let obj = std::mem::replace(&mut self.slots[slot as usize], std::ptr::null_mut());
        debug_assert!(!obj.is_null());
        self.free.push(slot);
        self.live -= 1;
        // SAFETY: the slot held a live object, which nothing uses any more.
        unsafe { drop_object(obj) };
    }

    /// Whether `obj` is a live object of this heap (checked without dereferencing it).
    pub fn contains(&self, obj: *const VMExnObject) -> bool {
        !obj.is_null() && self.slots.iter().any(|&s| std::ptr::eq(s, obj))
    }

    /// The number of live objects.
    #[inline]
    pub fn len(&self) -> usize {
        self.live
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether enough objects have accumulated since the last collection to do one.
    #[inline]
    pub fn wants_collection(&self) -> bool {
        self.live >= self.next_collection
    }

    /// Frees every object not reachable from `roots` (exnref values in globals and
    /// tables, the pending exception; nulls allowed), from a host reference, or from
    /// the payload of a reachable object.
    ///
    /// # Safety
    ///
    /// No wasm code of the store may be running (its locals are not roots), and `roots`
    /// must be null or live objects of this heap.
    pub unsafe fn collect(&mut self, roots: impl IntoIterator<Item = *mut VMExnObject>) {
        let mut marked = vec![false; self.slots.len()];
        // Only live objects are followed: a root or payload value that is not one (which
        // consistent code never makes) is ignored rather than dereferenced.
        let live: std::collections::HashSet<usize> = self
            .slots
            .iter()
            .filter(|p| !p.is_null())
            .map(|&p| p as usize)
            .collect();
        let mut work: Vec<*mut VMExnObject> = roots
            .into_iter()
            .filter(|p| live.contains(&(*p as usize)))
            .collect();
        for &obj in &self.slots {
            if !obj.is_null()
                && (*obj)
                    .root
                    .as_ref()
                    .is_some_and(|r| Arc::strong_count(r) > 1)
            {
                work.push(obj);
            }
        }
        while let Some(obj) = work.pop() {
            let obj = &*obj;
            if std::mem::replace(&mut marked[obj.slot as usize], true) {
                continue;
            }
            for &i in (*obj.tag).ref_slots.iter() {
                let Some(value) = obj.values().get(i as usize) else {
                    continue;
                };
                let r = value.get_ptr() as *mut VMExnObject;
                if live.contains(&(r as usize)) {
                    work.push(r);
                }
            }
        }
        for (slot, marked) in marked.into_iter().enumerate() {
            if !marked && !self.slots[slot].is_null() {
                self.free_slot(slot as u32);
            }
        }
        self.next_collection = (2 * self.len()).max(MIN_COLLECTION);
    }
}

unsafe fn drop_object(obj: *mut VMExnObject) {
    let obj = Box::from_raw(obj);
    drop(Box::from_raw(std::ptr::slice_from_raw_parts_mut(
        obj.values,
        obj.len as usize,
    )));
}

impl Drop for ExnHeap {
    fn drop(&mut self) {
        for &obj in &self.slots {
            if !obj.is_null() {
                // SAFETY: the store, and with it everything that could refer to its
                // exceptions, is going away.
                unsafe { drop_object(obj) };
            }
        }
    }
}

// SAFETY: the heap is part of a store, used by one thread at a time.
unsafe impl Send for ExnHeap {}

/// Whether `ty` is a reference into the exception hierarchy.
pub fn is_exnref(ty: fact_environ::ValType) -> bool {
    ty.as_ref()
        .is_some_and(|r| r.heap.top() == fact_environ::HeapType::Exn)
}

// ---- Throwing ----

extern "C" {
    /// Resets the stack and frame pointers and jumps to `pc` with `exn` in the first
    /// exception payload register.
    fn fact_resume(pc: usize, sp: usize, fp: usize, exn: usize) -> !;
}

#[cfg(target_arch = "x86_64")]
std::arch::global_asm!(
    // The builtin table's `throw` and `throw_ref` entries. Called from wasm (whose frame
    // pointer is still in rbp) with the builtin's arguments in rdi, rsi, rdx, rcx; each adds
    // the return address into the wasm frame (r8) and that frame's pointer (r9) and
    // tail-jumps to the Rust implementation, which finds the frame there.
    ".globl fact_throw_stub",
    ".p2align 4",
    "fact_throw_stub:",
    "mov r8, [rsp]",
    "mov r9, rbp",
    "jmp {throw}",
    ".globl fact_throw_ref_stub",
    ".p2align 4",
    "fact_throw_ref_stub:",
    "mov r8, [rsp]",
    "mov r9, rbp",
    "jmp {throw_ref}",
    // The payload register of Cranelift's exception ABI on x86-64 is rax.
    ".globl fact_resume",
    ".p2align 4",
    "fact_resume:",
    "mov rsp, rsi",
    "mov rbp, rdx",
    "mov rax, rcx",
    "jmp rdi",
    throw = sym throw_impl,
    throw_ref = sym throw_ref_impl,
);

#[cfg(target_arch = "x86_64")]
extern "C" {
    pub(crate) fn fact_throw_stub();
    pub(crate) fn fact_throw_ref_stub();
}

/// Where exception handling is not implemented for the host architecture, compilation of
/// exception code is refused; these entries are never called.
#[cfg(not(target_arch = "x86_64"))]
pub(crate) unsafe extern "C" fn fact_throw_stub() {
    std::process::abort()
}
#[cfg(not(target_arch = "x86_64"))]
pub(crate) unsafe extern "C" fn fact_throw_ref_stub() {
    std::process::abort()
}

/// `throw`: a new exception of the caller's tag `tag` with the `count` values at
/// `values` (the compiled code's count). The payload has room for as many values as the
/// tag has parameters too, so a handler compiled against its type never reads past it,
/// whatever the metadata says.
unsafe extern "C" fn throw_impl(
    vmctx: *mut u8,
    tag: u32,
    values: *const ValRaw,
    count: u32,
    pc: usize,
    fp: usize,
) -> ! {
    let exn = {
        let instance = Instance::from_vmctx(vmctx);
        let tag_ptr = instance.tag_ptr(tag);
        let values = std::slice::from_raw_parts(values, count as usize);
        instance.store().exceptions.alloc(tag_ptr, values)
    };
    unwind(exn, pc, fp)
}

/// `throw_ref`: rethrows `exn` (not null: the code checks).
unsafe extern "C" fn throw_ref_impl(
    _vmctx: *mut u8,
    exn: *mut VMExnObject,
    _unused1: usize,
    _unused2: usize,
    pc: usize,
    fp: usize,
) -> ! {
    unwind(exn, pc, fp)
}

/// Throws `exn` from the wasm frame `fp` that is executing the call returning to `pc`.
///
/// # Safety
///
/// Must be called from a builtin that wasm called (so an activation is current), with
/// nothing on the Rust stack that needs dropping.
pub(crate) unsafe fn unwind(exn: *mut VMExnObject, pc: usize, fp: usize) -> ! {
    if let Some((handler, sp, fp)) = find_handler(pc, fp) {
        fact_resume(handler, sp, fp, exn as usize)
    }
    raise_exception(exn)
}

/// The innermost handler on the current activation's wasm stack, starting at frame `fp`
/// executing the call that returns to `pc`: `(handler address, stack pointer, frame
/// pointer)` to resume with.
unsafe fn find_handler(mut pc: usize, mut fp: usize) -> Option<(usize, usize, usize)> {
    let entry_fp = crate::traps::current_entry_fp()?;
    loop {
        let found = registry::with_code(pc, |code, offset| {
            code.lookup_handler(offset)
                .map(|(handler, frame_offset)| (code.text_base() + handler as usize, frame_offset))
        })
        .flatten();
        if let Some((handler, frame_offset)) = found {
            return Some((handler, fp - frame_offset as usize, fp));
        }
        let next = *(fp as *const usize);
        pc = *((fp + 8) as *const usize);
        // The entry trampoline's frame ends the activation's wasm frames; a chain that
        // does not go up the stack is not a frame chain.
        if next == entry_fp || next <= fp {
            return None;
        }
        fp = next;
    }
}
