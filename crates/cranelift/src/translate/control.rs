//! Structured control flow: `block`, `loop`, `if`/`else`, `end`, the branches, `return`
//! and `unreachable`.
//!
//! Each open construct is a [`Frame`] on the translator's control stack. A frame knows the
//! Cranelift block that its `end` continues in (`next`, whose parameters are the frame's
//! results) and, for a loop, the header block that branches to the loop go to (whose
//! parameters are the loop's parameters). Values of a frame's parameters flow into `block` and `if`
//! bodies directly — the definitions dominate the body — so only loop headers and `next`
//! blocks have block parameters.

use super::Translator;
use crate::{trap_code, val_type};
use anyhow::Result;
use cranelift_codegen::ir::{self, InstBuilder, JumpTableData};
use cranelift_entity::packed_option::ReservedValue;
use cranelift_frontend::FunctionBuilder;
use fact_environ::{Trap, ValType};
use std::collections::HashMap;
use wasmparser::{BlockType, BrTable, Catch};

/// What kind of construct a frame is.
pub(crate) enum FrameKind {
    /// The function body: its `end` returns.
    Function,
    Block,
    Loop {
        /// The block that branches to the loop go to.
        header: ir::Block,
    },
    If {
        /// The block the `else` arm starts in; `None` once `else` has been seen (and
        /// always in a frame opened in unreachable code).
        else_block: Option<ir::Block>,
        /// The values of the `if`'s parameters, which the `else` arm starts with.
        params: Vec<ir::Value>,
    },
    /// A `try_table` (a block whose calls may land in its catch clauses).
    TryTable {
        catches: Vec<Catch>,
    },
}

/// One open `block`, `loop` or `if` (or the function body).
pub(crate) struct Frame {
    pub(crate) kind: FrameKind,
    /// Where control continues after `end`; its parameters are the frame's results.
    next: ir::Block,
    num_params: usize,
    num_results: usize,
    /// The height of the operand stack below the frame's parameters.
    height: usize,
    /// Whether control reaches `next` (a branch to it, or falling off the end).
    next_reached: bool,
    /// False for a frame opened in unreachable code: it has no Cranelift blocks at all.
    live: bool,
}

impl Frame {
    /// The frame of a function body whose results are `exit`'s parameters.
    pub(crate) fn function(exit: ir::Block, num_results: usize) -> Frame {
        Frame {
            kind: FrameKind::Function,
            next: exit,
            num_params: 0,
            num_results,
            height: 0,
            next_reached: false,
            live: true,
        }
    }

    /// A frame opened in unreachable code, with the operand stack `height` high.
    fn dead(kind: FrameKind, height: usize) -> Frame {
        Frame {
            kind,
            // Never used: a dead frame has no blocks.
            next: ir::Block::reserved_value(),
            num_params: 0,
            num_results: 0,
            height,
            next_reached: false,
            live: false,
        }
    }

    /// The number of values a branch to this frame carries.
    fn branch_arity(&self) -> usize {
        match self.kind {
            FrameKind::Loop { .. } => self.num_params,
            _ => self.num_results,
        }
    }
}

impl Translator<'_, '_> {
    /// The parameter and result types of a block type.
    fn block_signature(&self, ty: BlockType) -> Result<(Vec<ValType>, Vec<ValType>)> {
        Ok(match ty {
            BlockType::Empty => (Vec::new(), Vec::new()),
            BlockType::Type(t) => (Vec::new(), vec![ValType::from_wasmparser(t)?]),
            BlockType::FuncType(index) => {
                let ty = &self.module().types[index as usize];
                (ty.params.to_vec(), ty.results.to_vec())
            }
        })
    }

    /// A new block with parameters of the given wasm types.
    fn block_with_params(&mut self, tys: &[ValType]) -> ir::Block {
        let block = self.b.create_block();
        for ty in tys {
            self.b.append_block_param(block, val_type(*ty));
        }
        block
    }

    /// Opens a frame whose parameters are the top `num_params` operands.
    fn push_frame(
        &mut self,
        kind: FrameKind,
        next: ir::Block,
        num_params: usize,
        num_results: usize,
    ) {
        self.control.push(Frame {
            kind,
            next,
            num_params,
            num_results,
            height: self.stack.len() - num_params,
            next_reached: false,
            live: true,
        });
    }

    pub(crate) fn block(&mut self, ty: BlockType) -> Result<()> {
        let (params, results) = self.block_signature(ty)?;
        let next = self.block_with_params(&results);
        self.push_frame(FrameKind::Block, next, params.len(), results.len());
        Ok(())
    }

    /// Opens the frame of a `try_table` (see [`super::exceptions`]).
    pub(crate) fn try_table_block(&mut self, ty: BlockType, catches: Vec<Catch>) -> Result<()> {
        let (params, results) = self.block_signature(ty)?;
        let next = self.block_with_params(&results);
        self.push_frame(
            FrameKind::TryTable { catches },
            next,
            params.len(),
            results.len(),
        );
        Ok(())
    }

    pub(crate) fn loop_(&mut self, ty: BlockType) -> Result<()> {
        let (params, results) = self.block_signature(ty)?;
        let header = self.block_with_params(&params);
        let next = self.block_with_params(&results);
        let args = self.pop_n_canonical(params.len());
        jump(&mut self.b, header, &args);
        self.b.switch_to_block(header);
        // The header is sealed at the loop's `end`, once every back edge is known.
        let header_params = self.b.block_params(header).to_vec();
        self.stack.extend(header_params);
        self.push_frame(
            FrameKind::Loop { header },
            next,
            params.len(),
            results.len(),
        );
        self.env.loop_header(&mut self.b, self.vmctx);
        Ok(())
    }

    pub(crate) fn if_(&mut self, ty: BlockType) -> Result<()> {
        let (params, results) = self.block_signature(ty)?;
        let cond = self.pop();
        let then_block = self.b.create_block();
        let else_block = self.b.create_block();
        let next = self.block_with_params(&results);
        self.b.ins().brif(cond, then_block, &[], else_block, &[]);
        self.b.seal_block(then_block);
        self.b.seal_block(else_block);
        self.b.switch_to_block(then_block);
        let kind = FrameKind::If {
            else_block: Some(else_block),
            params: self.stack[self.stack.len() - params.len()..].to_vec(),
        };
        self.push_frame(kind, next, params.len(), results.len());
        Ok(())
    }

    pub(crate) fn else_(&mut self) {
        // The `then` arm falls through to `next` if it is reachable.
        if self.reachable {
            let frame = self.control.last().unwrap();
            let (next, n) = (frame.next, frame.num_results);
            let args = self.pop_n_canonical(n);
            jump(&mut self.b, next, &args);
            self.control.last_mut().unwrap().next_reached = true;
        }
        let frame = self.control.last_mut().unwrap();
        self.stack.truncate(frame.height);
        if let FrameKind::If { else_block, params } = &mut frame.kind {
            let block = else_block.take();
            self.stack.extend_from_slice(params);
            if let (true, Some(block)) = (frame.live, block) {
                self.b.switch_to_block(block);
                self.reachable = true;
            }
        }
    }

    pub(crate) fn end(&mut self) {
        let mut frame = self.control.pop().unwrap();
        if self.reachable {
            let args = self.pop_n_canonical(frame.num_results);
            jump(&mut self.b, frame.next, &args);
            frame.next_reached = true;
        }
        self.stack.truncate(frame.height);
        match frame.kind {
            // An `if` without `else`: the missing arm passes the parameters through.
            FrameKind::If {
                else_block: Some(else_block),
                ref params,
            } if frame.live => {
                self.b.switch_to_block(else_block);
                let args: Vec<ir::Value> = params.iter().map(|v| self.canonical(*v)).collect();
                jump(&mut self.b, frame.next, &args);
                frame.next_reached = true;
            }
            FrameKind::Loop { header } => self.b.seal_block(header),
            FrameKind::TryTable { ref catches } if frame.live => self.end_try_table(catches),
            _ => {}
        }
        if !frame.live {
            return;
        }
        self.reachable = frame.next_reached;
        if frame.next_reached {
            self.b.switch_to_block(frame.next);
            self.b.seal_block(frame.next);
            let results = self.b.block_params(frame.next).to_vec();
            self.stack.extend(results);
        }
        if let FrameKind::Function = frame.kind {
            if self.reachable {
                let results = std::mem::take(&mut self.stack);
                self.b.ins().return_(&results);
            }
            self.reachable = false;
        }
    }

    /// The block a branch to relative depth `depth` goes to, with its arity; marks the
    /// frame's `next` as reached.
    pub(crate) fn branch_target(&mut self, depth: u32) -> (ir::Block, usize) {
        let index = self.control.len() - 1 - depth as usize;
        let frame = &mut self.control[index];
        let arity = frame.branch_arity();
        match frame.kind {
            FrameKind::Loop { header } => (header, arity),
            _ => {
                frame.next_reached = true;
                (frame.next, arity)
            }
        }
    }

    pub(crate) fn br(&mut self, depth: u32) {
        let (target, arity) = self.branch_target(depth);
        let args = self.pop_n_canonical(arity);
        jump(&mut self.b, target, &args);
        self.reachable = false;
    }

    pub(crate) fn br_if(&mut self, depth: u32) {
        let cond = self.pop();
        let (target, arity) = self.branch_target(depth);
        let args = block_args(&self.peek_n_canonical(arity));
        let fallthrough = self.b.create_block();
        self.b.ins().brif(cond, target, &args, fallthrough, &[]);
        self.b.seal_block(fallthrough);
        self.b.switch_to_block(fallthrough);
    }

    /// `br_on_null`: branches with the values below the reference if it is null, else
    /// leaves the (now non-null) reference on the stack.
    pub(crate) fn br_on_null(&mut self, depth: u32) {
        let r = self.pop();
        let (target, arity) = self.branch_target(depth);
        let args = block_args(&self.peek_n_canonical(arity));
        let fallthrough = self.b.create_block();
        self.b.ins().brif(r, fallthrough, &[], target, &args);
        self.b.seal_block(fallthrough);
        self.b.switch_to_block(fallthrough);
        self.push(r);
    }

    /// `br_on_non_null`: branches with the reference (topmost of the branch's values) if
    /// it is not null, else drops it.
    pub(crate) fn br_on_non_null(&mut self, depth: u32) {
        let r = self.peek(0);
        let (target, arity) = self.branch_target(depth);
        let args = block_args(&self.peek_n_canonical(arity));
        let fallthrough = self.b.create_block();
        self.b.ins().brif(r, target, &args, fallthrough, &[]);
        self.b.seal_block(fallthrough);
        self.b.switch_to_block(fallthrough);
        self.pop();
    }

    /// `br_table` jumps to one *landing* block per distinct target depth, which jumps on
    /// to the target with the branch's values. So the jump table's entries carry no
    /// arguments: its size stays one entry per target however many values the branch
    /// carries, and when SSA construction later gives a target (a loop header, say) a
    /// new parameter, only the landing block's one jump changes, not every entry.
    pub(crate) fn br_table(&mut self, table: &BrTable<'_>) -> Result<()> {
        let index = self.pop();
        let arity = self.branch_arity(table.default());
        let args = self.pop_n_canonical(arity);
        let mut landings: HashMap<u32, ir::Block> = HashMap::new();
        let mut order = Vec::new();
        let mut landing = |b: &mut FunctionBuilder<'_>, depth: u32| {
            *landings.entry(depth).or_insert_with(|| {
                order.push(depth);
                b.create_block()
            })
        };
        let mut entries = Vec::with_capacity(table.len() as usize);
        for depth in table.targets() {
            let block = landing(&mut self.b, depth?);
            entries.push(self.b.func.dfg.block_call(block, &[]));
        }
        let default = landing(&mut self.b, table.default());
        let default = self.b.func.dfg.block_call(default, &[]);
        let jt = self
            .b
            .create_jump_table(JumpTableData::new(default, &entries));
        self.b.ins().br_table(index, jt);
        for depth in order {
            let block = landings[&depth];
            self.b.switch_to_block(block);
            self.b.seal_block(block);
            let (target, _) = self.branch_target(depth);
            jump(&mut self.b, target, &args);
        }
        self.reachable = false;
        Ok(())
    }

    /// The number of values a branch to relative depth `depth` carries.
    fn branch_arity(&self, depth: u32) -> usize {
        self.control[self.control.len() - 1 - depth as usize].branch_arity()
    }

    pub(crate) fn return_(&mut self) {
        let n = self.control[0].num_results;
        let results = self.pop_n_canonical(n);
        self.b.ins().return_(&results);
        self.reachable = false;
    }

    pub(crate) fn unreachable(&mut self) {
        self.b.ins().trap(trap_code(Trap::UnreachableCodeReached));
        self.reachable = false;
    }

    /// An operator in unreachable code: only the structure matters. Every block-opening
    /// operator fact accepts is here; a proposal that adds one must add it too, or dead
    /// code would lose track of the nesting.
    pub(crate) fn translate_unreachable_operator(
        &mut self,
        op: &wasmparser::Operator<'_>,
    ) -> Result<()> {
        use wasmparser::Operator as O;
        let height = self.stack.len();
        match op {
            O::Block { .. } | O::Loop { .. } | O::TryTable { .. } => {
                self.control.push(Frame::dead(FrameKind::Block, height))
            }
            O::If { .. } => self.control.push(Frame::dead(
                FrameKind::If {
                    else_block: None,
                    params: Vec::new(),
                },
                height,
            )),
            O::Else => self.else_(),
            O::End => self.end(),
            _ => {}
        }
        Ok(())
    }
}

/// Block arguments for plain values.
fn block_args(values: &[ir::Value]) -> Vec<ir::BlockArg> {
    values.iter().map(|v| ir::BlockArg::Value(*v)).collect()
}

/// Jumps to `block` with `args`.
fn jump(b: &mut FunctionBuilder<'_>, block: ir::Block, args: &[ir::Value]) {
    b.ins().jump(block, &block_args(args));
}
