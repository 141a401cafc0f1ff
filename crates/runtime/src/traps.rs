//! Traps: calls from the host into wasm run under [`catch_traps`]; a trap in compiled code
//! faults (illegal instruction, segfault, division), the signal handler finds the faulting
//! pc in the registered trap tables, records the trap and a backtrace, and unwinds with
//! `longjmp` back to the `setjmp` in [`catch_traps`].
//!
//! Builtins and host functions report failures with [`set_pending`] and return a failure
//! status; the compiled code then executes a trap instruction whose trap-table entry says
//! "pending", and the same path carries their error out.

use crate::exceptions::ThrownException;
use crate::registry;
use crate::vmcontext::VMStoreContext;
use fact_environ::Trap;
use std::any::Any;
use std::cell::{Cell, RefCell, UnsafeCell};
use std::ptr;
use std::sync::Once;

extern "C" {
    fn fact_catch(
        jmp_buf_out: *mut *const u8,
        body: unsafe extern "C" fn(*mut u8),
        payload: *mut u8,
    ) -> i32;
    fn fact_unwind(jmp_buf: *const u8) -> !;
}

/// The largest number of frames a backtrace records.
const MAX_FRAMES: usize = 20_000;

/// An error recorded by a builtin or host function, raised by the code that called it.
pub enum Pending {
    Trap(Trap),
    Error(anyhow::Error),
    Panic(Box<dyn Any + Send>),
    /// An exception no wasm handler caught (it is the store's pending exception).
    Exception(ThrownException),
}

/// Why a call into wasm did not return normally. `pcs` are the return addresses of the
/// frames, innermost first (the first one is the faulting pc).
pub enum Unwind {
    Trap {
        trap: Trap,
        pcs: Vec<usize>,
    },
    Error {
        error: anyhow::Error,
        pcs: Vec<usize>,
    },
    Panic(Box<dyn Any + Send>),
    /// An exception left wasm; the store holds it as its pending exception.
    Exception(ThrownException),
}

/// One host → wasm call in progress on this thread.
struct Activation {
    jmp_buf: Cell<*const u8>,
    store_ctx: *mut VMStoreContext,
    prev: *const Activation,
    /// The store context's frame records as they were before this activation.
    saved_entry_fp: usize,
    saved_exit_fp: usize,
    saved_exit_pc: usize,
    pending: UnsafeCell<Option<Pending>>,
    unwound: UnsafeCell<Option<(Option<Trap>, Vec<usize>)>>,
}

thread_local! {
    static CURRENT: Cell<*const Activation> = const { Cell::new(ptr::null()) };
}

unsafe extern "C" fn call_body<F: FnOnce()>(payload: *mut u8) {
    let f = &mut *(payload as *mut Option<F>);
    if let Some(f) = f.take() {
        f();
    }
}

/// Runs `body`, which calls into wasm code of the store whose context is `store_ctx`.
/// If this is the outermost call for the store, the wasm stack limit is set
/// `max_wasm_stack` bytes below the current stack pointer.
///
/// # Safety
///
/// `store_ctx` must be valid, and `body` must not own anything that needs dropping while
/// wasm runs: a trap skips its frames.
pub unsafe fn catch_traps<F: FnOnce()>(
    store_ctx: *mut VMStoreContext,
    max_wasm_stack: usize,
    body: F,
) -> Result<(), Unwind> {
    init_thread();
    let ctx = &mut *store_ctx;
    let saved_limit = ctx.stack_limit;
    if saved_limit == usize::MAX {
        let here = &saved_limit as *const usize as usize;
        ctx.stack_limit = here.saturating_sub(max_wasm_stack);
    }
    let activation = Activation {
        jmp_buf: Cell::new(ptr::null()),
        store_ctx,
        prev: CURRENT.get(),
        saved_entry_fp: ctx.last_entry_fp,
        saved_exit_fp: ctx.last_exit_fp,
        saved_exit_pc: ctx.last_exit_pc,
        pending: UnsafeCell::new(None),
        unwound: UnsafeCell::new(None),
    };
    CURRENT.set(&activation);
    let mut body = Some(body);
    let returned = fact_catch(
        activation.jmp_buf.as_ptr(),
        call_body::<F>,
        &mut body as *mut Option<F> as *mut u8,
    );
    CURRENT.set(activation.prev);
    let ctx = &mut *store_ctx;
    ctx.stack_limit = saved_limit;
    ctx.last_entry_fp = activation.saved_entry_fp;
    ctx.last_exit_fp = activation.saved_exit_fp;
    ctx.last_exit_pc = activation.saved_exit_pc;
    if returned == 1 {
        return Ok(());
    }
    // A fault or a pending-trap site records `unwound`; an exception that no handler
    // caught records only its pending entry.
    let (trap, pcs) = activation.unwound.into_inner().unwrap_or_default();
    match (trap, activation.pending.into_inner()) {
        (Some(trap), _) | (None, Some(Pending::Trap(trap))) => Err(Unwind::Trap { trap, pcs }),
        (None, Some(Pending::Error(error))) => Err(Unwind::Error { error, pcs }),
        (None, Some(Pending::Panic(p))) => Err(Unwind::Panic(p)),
        (None, Some(Pending::Exception(e))) => Err(Unwind::Exception(e)),
        (None, None) => Err(Unwind::Error {
            error: anyhow::anyhow!("a builtin failed without saying why"),
            pcs,
        }),
    }
}

/// Records an error for the wasm code that called the current builtin or host function to
/// raise. Returns false if no wasm call is in progress on this thread.
pub fn set_pending(pending: Pending) -> bool {
    let current = CURRENT.get();
    if current.is_null() {
        return false;
    }
    // SAFETY: the activation lives on the stack of `catch_traps`, which is still running.
    unsafe { *(*current).pending.get() = Some(pending) };
    true
}

/// The frame pointer of the current activation's entry trampoline, where the wasm frames
/// of the activation end.
pub(crate) fn current_entry_fp() -> Option<usize> {
    let current = CURRENT.get();
    // SAFETY: the activation and its store context are live while it is current.
    (!current.is_null()).then(|| unsafe { (*(*current).store_ctx).last_entry_fp })
}

/// Ends the current activation with an exception that no handler caught: the store's
/// `VMStoreContext::pending_exception` holds `exn` and the host sees [`Unwind::Exception`].
///
/// # Safety
///
/// As `exceptions::unwind`: called on behalf of wasm code of the current activation, with
/// nothing on the Rust stack that needs dropping.
pub(crate) unsafe fn raise_exception(exn: *mut crate::exceptions::VMExnObject) -> ! {
    let current = CURRENT.get();
    assert!(!current.is_null(), "an exception was thrown outside wasm");
    (*(*current).store_ctx).pending_exception = exn;
    let thrown = ThrownException::new((*(*exn).tag).description.clone());
    *(*current).pending.get() = Some(Pending::Exception(thrown));
    fact_unwind((*current).jmp_buf.get())
}

/// After a host function called from wasm failed: if its recorded error is the one that
/// throws the store's pending exception, takes both and returns the exception; else
/// leaves the error to be raised and returns null.
///
/// # Safety
///
/// `store_ctx` must be the live context of the store of the current activation.
pub(crate) unsafe fn take_thrown_exception(
    store_ctx: *mut VMStoreContext,
) -> *mut crate::exceptions::VMExnObject {
    let current = CURRENT.get();
    let ctx = &mut *store_ctx;
    if current.is_null() || ctx.pending_exception.is_null() {
        return ptr::null_mut();
    }
    let pending = &mut *(*current).pending.get();
    let thrown = matches!(pending, Some(Pending::Error(e)) if e.is::<ThrownException>());
    if !thrown {
        return ptr::null_mut();
    }
    *pending = None;
    std::mem::replace(&mut ctx.pending_exception, ptr::null_mut())
}

/// Whether wasm code is running on this thread (host functions called from it are).
pub fn in_wasm() -> bool {
    !CURRENT.get().is_null()
}

// ---- Backtraces ----

/// Walks the frame-pointer chains of every activation, innermost first.
unsafe fn backtrace(innermost: *const Activation, pc: usize, fp: usize) -> Vec<usize> {
    // For each store seen: (store, entry fp, exit fp, exit pc) as they were in effect for
    // the activation being walked.
    let mut views: Vec<(*mut VMStoreContext, usize, usize, usize)> = Vec::new();
    fn view(
        views: &mut Vec<(*mut VMStoreContext, usize, usize, usize)>,
        ctx: *mut VMStoreContext,
    ) -> usize {
        if let Some(i) = views.iter().position(|v| v.0 == ctx) {
            return i;
        }
        // SAFETY: activations point at live store contexts.
        let c = unsafe { &*ctx };
        views.push((ctx, c.last_entry_fp, c.last_exit_fp, c.last_exit_pc));
        views.len() - 1
    }

    let mut pcs = vec![pc];
    let mut fp = fp;
    let mut act = innermost;
    loop {
        let a = &*act;
        let i = view(&mut views, a.store_ctx);
        walk_frames(fp, views[i].1, &mut pcs);
        views[i] = (
            a.store_ctx,
            a.saved_entry_fp,
            a.saved_exit_fp,
            a.saved_exit_pc,
        );
        act = a.prev;
        if act.is_null() || pcs.len() >= MAX_FRAMES {
            break;
        }
        // The enclosing activation's wasm is suspended in a call to the host.
        let j = view(&mut views, (*act).store_ctx);
        let (_, _, exit_fp, exit_pc) = views[j];
        if exit_pc == 0 {
            break;
        }
        pcs.push(exit_pc);
        fp = exit_fp;
    }
    pcs
}

unsafe fn walk_frames(mut fp: usize, entry_fp: usize, pcs: &mut Vec<usize>) {
    while fp != 0 && fp != entry_fp && pcs.len() < MAX_FRAMES {
        let ret = *((fp + 8) as *const usize);
        let next = *(fp as *const usize);
        pcs.push(ret);
        // Callers' frames are at higher addresses; anything else is not a frame chain.
        if next <= fp {
            break;
        }
        fp = next;
    }
}

// ---- Signals ----

const SIGNALS: [libc::c_int; 4] = [libc::SIGSEGV, libc::SIGBUS, libc::SIGILL, libc::SIGFPE];

struct PrevHandlers(UnsafeCell<[libc::sigaction; 4]>);
// SAFETY: written once under `INSTALL`, before any handler can run; read-only afterwards.
unsafe impl Sync for PrevHandlers {}
static PREV: PrevHandlers = PrevHandlers(UnsafeCell::new(unsafe { std::mem::zeroed() }));
static INSTALL: Once = Once::new();

/// Installs the trap handlers, once per process.
pub fn init_traps() {
    INSTALL.call_once(|| unsafe {
        let prev = &mut *PREV.0.get();
        for (i, &sig) in SIGNALS.iter().enumerate() {
            let mut sa: libc::sigaction = std::mem::zeroed();
            sa.sa_sigaction = trap_handler as *const () as usize;
            sa.sa_flags = libc::SA_SIGINFO | libc::SA_NODEFER | libc::SA_ONSTACK;
            libc::sigemptyset(&mut sa.sa_mask);
            if libc::sigaction(sig, &sa, &mut prev[i]) != 0 {
                panic!("failed to install the handler for signal {sig}");
            }
        }
    });
}

#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
unsafe fn pc_and_fp(context: *mut libc::c_void) -> (usize, usize) {
    let cx = &*(context as *const libc::ucontext_t);
    (
        cx.uc_mcontext.gregs[libc::REG_RIP as usize] as usize,
        cx.uc_mcontext.gregs[libc::REG_RBP as usize] as usize,
    )
}

#[cfg(all(target_os = "linux", target_arch = "aarch64"))]
unsafe fn pc_and_fp(context: *mut libc::c_void) -> (usize, usize) {
    let cx = &*(context as *const libc::ucontext_t);
    (cx.uc_mcontext.pc as usize, cx.uc_mcontext.regs[29] as usize)
}

unsafe extern "C" fn trap_handler(
    signum: libc::c_int,
    info: *mut libc::siginfo_t,
    context: *mut libc::c_void,
) {
    let act = CURRENT.get();
    if !act.is_null() {
        let (pc, fp) = pc_and_fp(context);
        // A fault in wasm code at a trap site is that trap (or the pending one); anywhere
        // else in wasm code it is still reported as an error, never a crash.
        if let Some(site) = registry::with_code(pc, |code, off| code.lookup_trap(off)) {
            let trap = site.unwrap_or(Some(Trap::UnexpectedFault));
            let pcs = backtrace(act, pc, fp);
            *(*act).unwound.get() = Some((trap, pcs));
            fact_unwind((*act).jmp_buf.get());
        }
    }
    // Not a trap in wasm code: let whoever handled the signal before us handle it.
    let Some(i) = SIGNALS.iter().position(|&s| s == signum) else {
        return;
    };
    let prev = &(*PREV.0.get())[i];
    if prev.sa_flags & libc::SA_SIGINFO != 0 {
        let f: extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void) =
            std::mem::transmute(prev.sa_sigaction);
        f(signum, info, context);
    } else if prev.sa_sigaction == libc::SIG_DFL || prev.sa_sigaction == libc::SIG_IGN {
        // Restore the default action and return: the instruction faults again and the
        // process gets the default treatment.
        libc::sigaction(signum, prev, ptr::null_mut());
    } else {
        let f: extern "C" fn(libc::c_int) = std::mem::transmute(prev.sa_sigaction);
        f(signum);
    }
}

// ---- Per-thread alternate signal stack ----

/// The signal handler runs on an alternate stack of at least this size.
const ALT_STACK_SIZE: usize = 64 * 1024;

struct AltStack {
    /// Our mapping (guard page + stack), if we installed one.
    mapping: Option<(*mut libc::c_void, usize)>,
}

impl Drop for AltStack {
    fn drop(&mut self) {
        if let Some((ptr, len)) = self.mapping {
            unsafe {
                let disable = libc::stack_t {
                    ss_sp: ptr::null_mut(),
                    ss_flags: libc::SS_DISABLE,
                    ss_size: ALT_STACK_SIZE,
                };
                libc::sigaltstack(&disable, ptr::null_mut());
                libc::munmap(ptr, len);
            }
        }
    }
}

thread_local! {
    static ALT_STACK: RefCell<Option<AltStack>> = const { RefCell::new(None) };
}

fn init_thread() {
    ALT_STACK.with(|slot| {
        if slot.borrow().is_some() {
            return;
        }
        let alt = unsafe {
            let mut old: libc::stack_t = std::mem::zeroed();
            libc::sigaltstack(ptr::null(), &mut old);
            if old.ss_flags & libc::SS_DISABLE == 0 && old.ss_size >= ALT_STACK_SIZE {
                AltStack { mapping: None }
            } else {
                let page = rustix::param::page_size();
                let len = ALT_STACK_SIZE + page;
                let ptr = libc::mmap(
                    ptr::null_mut(),
                    len,
                    libc::PROT_NONE,
                    libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                    -1,
                    0,
                );
                if ptr == libc::MAP_FAILED {
                    panic!("failed to allocate the signal stack");
                }
                let stack = (ptr as *mut u8).add(page) as *mut libc::c_void;
                libc::mprotect(stack, ALT_STACK_SIZE, libc::PROT_READ | libc::PROT_WRITE);
                let new = libc::stack_t {
                    ss_sp: stack,
                    ss_flags: 0,
                    ss_size: ALT_STACK_SIZE,
                };
                libc::sigaltstack(&new, ptr::null_mut());
                AltStack {
                    mapping: Some((ptr, len)),
                }
            }
        };
        *slot.borrow_mut() = Some(alt);
    });
}
