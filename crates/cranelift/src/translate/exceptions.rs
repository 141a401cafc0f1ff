//! Exception handling: `throw`, `throw_ref` and `try_table`, and the calls that an
//! enclosing `try_table` can catch exceptions from.
//!
//! Inside a `try_table`, every call that can throw — to a wasm function, an import, through
//! a table or a reference, and the `throw` builtins themselves — is a Cranelift `try_call`
//! whose one exceptional destination is the try_table's *dispatch* block. Cranelift records
//! each such call site's return address, frame size and dispatch address; the runtime's
//! unwinder walks the frames from the throw and resumes at the first call site that has
//! one, with the exception object (the `exnref`) in the first payload register.
//!
//! The dispatch block does the tag matching itself: it compares the exception's tag with
//! the tags of the catch clauses, in order (tags are compared by identity, the address of
//! the runtime's tag object, which the vmctx holds for every tag of the module), and
//! branches to the first clause that matches with the payload loaded from the exception
//! object. If none matches it rethrows, which continues the search from this frame. A
//! `catch` or `catch_all` clause consumes the exception object and releases it (freeing
//! it unless it was ever an `exnref`); the `_ref` clauses mark it as escaped and pass it
//! on as an `exnref` (see `fact_runtime::exceptions::ExnHeap`).

use super::env::trusted;
use super::Translator;
use crate::{raw_flags, trap_code, val_type};
use anyhow::Result;
use cranelift_codegen::ir::{self, condcodes::IntCC, InstBuilder};
use fact_environ::builtins::Builtin;
use fact_environ::vmoffsets::{exn_obj, VAL_RAW_SIZE};
use fact_environ::Trap;
use wasmparser::{Catch, TryTable};

/// An open `try_table`'s dispatch block, where calls in its body land when they throw.
pub(crate) struct Handler {
    pub(crate) block: ir::Block,
    /// Whether any call site lands here (otherwise no dispatch code is emitted).
    pub(crate) used: bool,
}

/// What a call calls: a function imported into the CLIF function, or an address.
pub(crate) enum Callee {
    Direct(ir::FuncRef),
    Indirect(ir::SigRef, ir::Value),
}

impl Translator<'_, '_> {
    /// The runtime's unwinder (its stubs and its resume routine) exists for x86-64 only.
    fn check_exceptions_supported(&self) -> Result<()> {
        let arch = self.env.isa().triple().architecture;
        if arch != target_lexicon::Architecture::X86_64 {
            anyhow::bail!(
                "unsupported: exception handling is implemented for x86-64 only, not {arch}"
            );
        }
        Ok(())
    }

    /// Emits a (non-tail) call and returns its results. Inside a `try_table` it is a
    /// `try_call` that lands in the innermost dispatch block when the callee throws.
    pub(crate) fn emit_call(&mut self, callee: Callee, args: &[ir::Value]) -> Vec<ir::Value> {
        let Some(handler) = self.handlers.last_mut() else {
            let call = match callee {
                Callee::Direct(f) => self.b.ins().call(f, args),
                Callee::Indirect(sig, addr) => self.b.ins().call_indirect(sig, addr, args),
            };
            return self.b.inst_results(call).to_vec();
        };
        handler.used = true;
        let handler = handler.block;
        let sig = match callee {
            Callee::Direct(f) => self.b.func.dfg.ext_funcs[f].signature,
            Callee::Indirect(sig, _) => sig,
        };
        let returns: Vec<ir::Type> = self.b.func.dfg.signatures[sig]
            .returns
            .iter()
            .map(|r| r.value_type)
            .collect();
        let cont = self.b.create_block();
        for ty in &returns {
            self.b.append_block_param(cont, *ty);
        }
        let rets: Vec<ir::BlockArg> = (0..returns.len() as u32)
            .map(ir::BlockArg::TryCallRet)
            .collect();
        let normal = self.b.func.dfg.block_call(cont, &rets);
        let exceptional = self
            .b
            .func
            .dfg
            .block_call(handler, &[ir::BlockArg::TryCallExn(0)]);
        let table = ir::ExceptionTableData::new(
            sig,
            normal,
            [ir::ExceptionTableItem::Default(exceptional)],
        );
        let table = self.b.func.dfg.exception_tables.push(table);
        match callee {
            Callee::Direct(f) => self.b.ins().try_call(f, args, table),
            Callee::Indirect(_, addr) => self.b.ins().try_call_indirect(addr, args, table),
        };
        self.b.switch_to_block(cont);
        self.b.seal_block(cont);
        self.b.block_params(cont).to_vec()
    }

    /// Calls a throwing builtin; control does not come back.
    fn call_throwing_builtin(&mut self, builtin: Builtin, args: &[ir::Value]) {
        let (sig, addr) = self.env.builtin_callee(&mut self.b, self.vmctx, builtin);
        let mut all = Vec::with_capacity(args.len() + 1);
        all.push(self.vmctx);
        all.extend_from_slice(args);
        self.emit_call(Callee::Indirect(sig, addr), &all);
        // The builtin never returns normally.
        self.b.ins().trap(trap_code(Trap::UnreachableCodeReached));
        self.reachable = false;
    }

    /// `throw $tag`: the payload goes to the runtime in a stack array of raw values.
    pub(crate) fn throw(&mut self, tag: u32) -> Result<()> {
        self.check_exceptions_supported()?;
        let n = self.module().tag_type(tag).params.len();
        let values = self.pop_n_canonical(n);
        let slot = self.b.create_sized_stack_slot(ir::StackSlotData::new(
            ir::StackSlotKind::ExplicitSlot,
            (n.max(1) as u32) * VAL_RAW_SIZE,
            4,
        ));
        let ptr = self.env.pointer_type();
        let array = self.b.ins().stack_addr(ptr, slot, 0);
        for (i, v) in values.into_iter().enumerate() {
            self.b
                .ins()
                .store(raw_flags(), v, array, (i as u32 * VAL_RAW_SIZE) as i32);
        }
        let tag = self.i32_const(tag);
        let count = self.i32_const(n as u32);
        self.call_throwing_builtin(Builtin::throw, &[tag, array, count]);
        Ok(())
    }

    /// `throw_ref`: rethrows an `exnref`; null traps.
    pub(crate) fn throw_ref(&mut self) -> Result<()> {
        self.check_exceptions_supported()?;
        let exn = self.pop();
        self.b.ins().trapz(exn, trap_code(Trap::NullReference));
        self.call_throwing_builtin(Builtin::throw_ref, &[exn]);
        Ok(())
    }

    /// Opens a `try_table`: a block whose calls land in a new dispatch block.
    pub(crate) fn try_table(&mut self, table: &TryTable) -> Result<()> {
        self.check_exceptions_supported()?;
        self.try_table_block(table.ty, table.catches.clone())?;
        let block = self.b.create_block();
        self.b.append_block_param(block, self.env.pointer_type());
        self.b.set_cold_block(block);
        self.handlers.push(Handler { block, used: false });
        Ok(())
    }

    /// Closes the innermost `try_table`'s handler scope and, if any call lands in its
    /// dispatch block, emits the dispatch there. Called by `end` once the body's fallthrough
    /// is done; leaves the builder in the (filled) dispatch block.
    pub(crate) fn end_try_table(&mut self, catches: &[Catch]) {
        let handler = self.handlers.pop().expect("try_table pushed a handler");
        if !handler.used {
            return;
        }
        let block = handler.block;
        self.b.switch_to_block(block);
        self.b.seal_block(block);
        let exn = self.b.block_params(block)[0];
        let ptr = self.env.pointer_type();
        let tag = self.b.ins().load(ptr, trusted(), exn, exn_obj::TAG as i32);
        for catch in catches {
            let (tag_index, label, with_ref) = match *catch {
                Catch::One { tag, label } => (Some(tag), label, false),
                Catch::OneRef { tag, label } => (Some(tag), label, true),
                Catch::All { label } => (None, label, false),
                Catch::AllRef { label } => (None, label, true),
            };
            let next = match tag_index {
                Some(t) => {
                    let slot = self.env.offsets().tag(t);
                    let expected = self.env.vmctx_ptr(&mut self.b, self.vmctx, slot);
                    let matches = self.b.ins().icmp(IntCC::Equal, tag, expected);
                    let taken = self.b.create_block();
                    let next = self.b.create_block();
                    self.b.ins().brif(matches, taken, &[], next, &[]);
                    self.b.switch_to_block(taken);
                    self.b.seal_block(taken);
                    Some(next)
                }
                None => None,
            };
            let mut args = match tag_index {
                Some(t) => self.load_payload(exn, t),
                None => Vec::new(),
            };
            if with_ref {
                // From now on the object may be anywhere an `exnref` can be.
                let one = self.b.ins().iconst(ir::types::I8, 1);
                self.b
                    .ins()
                    .store(trusted(), one, exn, exn_obj::ESCAPED as i32);
                args.push(exn);
            } else {
                self.env
                    .call_builtin(&mut self.b, self.vmctx, Builtin::exn_free, &[exn]);
            }
            let (target, _) = self.branch_target(label);
            let args: Vec<ir::BlockArg> = args.into_iter().map(ir::BlockArg::Value).collect();
            self.b.ins().jump(target, &args);
            match next {
                Some(next) => {
                    self.b.switch_to_block(next);
                    self.b.seal_block(next);
                }
                // A catch-all clause ends the dispatch.
                None => return,
            }
        }
        // No clause matched: the search goes on from this frame, in the enclosing
        // `try_table` (if any) and then in the callers.
        self.call_throwing_builtin(Builtin::throw_ref, &[exn]);
    }

    /// The payload of exception `exn`, whose tag is module tag `tag`.
    fn load_payload(&mut self, exn: ir::Value, tag: u32) -> Vec<ir::Value> {
        let ptr = self.env.pointer_type();
        let values = self
            .b
            .ins()
            .load(ptr, trusted(), exn, exn_obj::VALUES as i32);
        let params = self.module().tag_type(tag).params.clone();
        params
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let offset = (i as u32 * VAL_RAW_SIZE) as i32;
                self.b.ins().load(val_type(*p), raw_flags(), values, offset)
            })
            .collect()
    }
}
