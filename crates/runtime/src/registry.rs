//! The process-wide registry of loaded code, so that the signal handler can tell whether a
//! faulting pc is in wasm code, and backtraces can name the functions.

use crate::code_memory::CodeMemory;
use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

struct Entry {
    end: usize,
    code: *const CodeMemory,
}

// SAFETY: the pointer is only dereferenced while the entry is registered, and a
// `CodeMemory` unregisters itself before it is freed.
unsafe impl Send for Entry {}
unsafe impl Sync for Entry {}

static REGISTRY: RwLock<BTreeMap<usize, Entry>> = RwLock::new(BTreeMap::new());

pub(crate) fn register(code: &Arc<CodeMemory>) {
    let range = code.text_range();
    let mut map = REGISTRY.write().unwrap_or_else(|e| e.into_inner());
    if code.mark_registered() {
        map.insert(
            range.start,
            Entry {
                end: range.end,
                code: Arc::as_ptr(code),
            },
        );
    }
}

pub(crate) fn unregister(start: usize) {
    let mut map = REGISTRY.write().unwrap_or_else(|e| e.into_inner());
    map.remove(&start);
}

/// Calls `f` with the code containing `pc` and the pc's offset in its text.
pub fn with_code<R>(pc: usize, f: impl FnOnce(&CodeMemory, u32) -> R) -> Option<R> {
    let map = REGISTRY.read().unwrap_or_else(|e| e.into_inner());
    let (&start, entry) = map.range(..=pc).next_back()?;
    if pc >= entry.end {
        return None;
    }
    // SAFETY: registered entries point at live code memories (see `Entry`).
    let code = unsafe { &*entry.code };
    Some(f(code, (pc - start) as u32))
}
