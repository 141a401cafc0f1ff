//! Traps and wasm backtraces.

use fact_runtime::traps::Unwind;
use std::fmt;

pub use fact_environ::Trap;

/// One wasm frame of a backtrace.
#[derive(Clone, Debug)]
pub struct FrameInfo {
    pub module_name: Option<String>,
    pub func_index: u32,
    pub func_name: Option<String>,
    /// Offset of the instruction in the module binary.
    pub module_offset: Option<u32>,
}

/// The wasm frames active when a trap happened, innermost first. Attached as context to
/// every error that comes out of a call into wasm.
#[derive(Clone, Debug, Default)]
pub struct WasmBacktrace {
    frames: Vec<FrameInfo>,
}

impl WasmBacktrace {
    pub(crate) fn from_pcs(pcs: &[usize]) -> WasmBacktrace {
        let frames = pcs
            .iter()
            .enumerate()
            .filter_map(|(i, &pc)| fact_runtime::frame_info(pc, i > 0))
            .map(|f| FrameInfo {
                module_name: f.module_name,
                func_index: f.func_index,
                func_name: f.func_name,
                module_offset: f.wasm_offset,
            })
            .collect();
        WasmBacktrace { frames }
    }

    pub fn frames(&self) -> &[FrameInfo] {
        &self.frames
    }
}

/// How many frames at each end of a long backtrace are printed.
const SHOWN_FRAMES: usize = 40;

impl fmt::Display for WasmBacktrace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "error while executing at wasm backtrace:")?;
        let n = self.frames.len();
        for (i, frame) in self.frames.iter().enumerate() {
            if n > 2 * SHOWN_FRAMES && i == SHOWN_FRAMES {
                writeln!(f, "  ... {} frames omitted ...", n - 2 * SHOWN_FRAMES)?;
            }
            if n > 2 * SHOWN_FRAMES && (SHOWN_FRAMES..n - SHOWN_FRAMES).contains(&i) {
                continue;
            }
            write!(f, "  {i:>3}: ")?;
            if let Some(off) = frame.module_offset {
                write!(f, "{off:#8x} - ")?;
            }
            if let Some(m) = &frame.module_name {
                write!(f, "{m}!")?;
            }
            match &frame.func_name {
                Some(name) => writeln!(f, "{name}")?,
                None => writeln!(f, "<wasm function {}>", frame.func_index)?,
            }
        }
        if n == 0 {
            writeln!(f, "  (no wasm frames)")?;
        }
        Ok(())
    }
}

/// Turns an unwound call into the error a caller sees (panics are resumed).
pub(crate) fn from_unwind(unwind: Unwind) -> anyhow::Error {
    match unwind {
        Unwind::Trap { trap, pcs } => {
            anyhow::Error::new(trap).context(WasmBacktrace::from_pcs(&pcs))
        }
        Unwind::Error { error, pcs } => {
            if error.downcast_ref::<WasmBacktrace>().is_some() {
                error
            } else {
                error.context(WasmBacktrace::from_pcs(&pcs))
            }
        }
        Unwind::Panic(payload) => std::panic::resume_unwind(payload),
        Unwind::Exception(thrown) => anyhow::Error::new(thrown),
    }
}
