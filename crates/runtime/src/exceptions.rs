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

/// A tag: its identity is its address.
#[repr(C)]
pub struct VMTag {
    /// The engine-wide signature id of the tag's type.
    pub type_id: u32,
    /// How errors name the tag, e.g. "tag 0 of module `m`".
    pub description: String,
}

/// An exception: a tag and one raw value per tag parameter.
#[repr(C)]
pub struct VMExnObject {
    pub tag: *const VMTag,
    values: *mut ValRaw,
    len: u32,
    /// The object's slot in its heap.
    slot: u32,
}

const _: () = {
    assert!(std::mem::offset_of!(VMExnObject, tag) == exn_obj::TAG as usize);
    assert!(std::mem::offset_of!(VMExnObject, values) == exn_obj::VALUES as usize);
};

impl VMExnObject {
    /// The payload.
    pub fn values(&self) -> &[ValRaw] {
        // SAFETY: `values` points at `len` values owned by this object.
        unsafe { std::slice::from_raw_parts(self.values, self.len as usize) }
    }
}

/// The exception objects of a store. An object lives until a `catch`/`catch_all` clause
/// consumes it, or until the store is dropped (an object caught with `catch_ref` may be
/// anywhere an `exnref` can be).
#[derive(Default)]
pub struct ExnHeap {
    slots: Vec<*mut VMExnObject>,
    free: Vec<u32>,
}

impl ExnHeap {
    /// A new exception object of tag `tag` with payload `values`.
    pub fn alloc(&mut self, tag: *const VMTag, values: &[ValRaw]) -> *mut VMExnObject {
        let values: Box<[ValRaw]> = values.into();
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
        }));
        self.slots[slot as usize] = obj;
        obj
    }

    /// Frees `obj`, which must be a live object of this heap.
    ///
    /// # Safety
    ///
    /// Nothing may use `obj` afterwards.
    pub unsafe fn free(&mut self, obj: *mut VMExnObject) {
        let slot = (*obj).slot;
        debug_assert!(self.slots[slot as usize] == obj);
        self.slots[slot as usize] = std::ptr::null_mut();
        self.free.push(slot);
        drop_object(obj);
    }

    /// The number of live objects.
    pub fn len(&self) -> usize {
        self.slots.len() - self.free.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
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

// ---- Throwing ----

extern "C" {
    /// Resets the stack and frame pointers and jumps to `pc` with `exn` in the first
    /// exception payload register.
    fn fact_resume(pc: usize, sp: usize, fp: usize, exn: usize) -> !;
}

#[cfg(target_arch = "x86_64")]
std::arch::global_asm!(
    // The builtin table's `throw` and `throw_ref` entries. Called from wasm (whose frame
    // pointer is still in rbp) with the builtin's arguments in rdi, rsi, rdx; each adds
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

/// `throw`: a new exception of the caller's tag `tag` with the payload at `values`.
unsafe extern "C" fn throw_impl(
    vmctx: *mut u8,
    tag: u32,
    values: *const ValRaw,
    _unused: usize,
    pc: usize,
    fp: usize,
) -> ! {
    let exn = {
        let instance = Instance::from_vmctx(vmctx);
        let tag_ptr = instance.tag_ptr(tag);
        let n = instance.module().info().tag_type(tag).params.len();
        let values = std::slice::from_raw_parts(values, n);
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
