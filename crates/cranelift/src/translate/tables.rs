//! Tables and reference values.
//!
//! A table is reached through its `VMTableDefinition` (elements pointer and length, both
//! changed by `table.grow`). A funcref element is a `*const VMFuncRef` (null is 0), an
//! externref element a store handle (null is 0); `ref.func` is the address of the
//! function's `VMFuncRef` slot in the vmctx.

use super::env::trusted;
use super::Translator;
use crate::trap_code;
use anyhow::{bail, Result};
use cranelift_codegen::ir::{self, condcodes::IntCC, types, InstBuilder};
use fact_environ::builtins::Builtin;
use fact_environ::vmoffsets::table_def;
use fact_environ::Trap;
use wasmparser::Operator;

impl Translator<'_, '_> {
    /// Translates table and reference instructions; false if `op` is not one.
    pub(crate) fn translate_table(&mut self, op: &Operator<'_>) -> Result<bool> {
        use Operator as O;
        match *op {
            O::TableGet { table } => {
                let index = self.pop();
                let addr = self.table_element_addr(table, index, Trap::TableOutOfBounds);
                let ptr = self.env.pointer_type();
                let v = self.b.ins().load(ptr, trusted(), addr, 0);
                self.push(v);
            }
            O::TableSet { table } => {
                let (index, value) = self.pop2();
                let addr = self.table_element_addr(table, index, Trap::TableOutOfBounds);
                self.b.ins().store(trusted(), value, addr, 0);
            }
            O::TableSize { table } => {
                let len = self.table_length(table);
                let v = self.narrow_from_i64(len, self.table_index_type(table));
                self.push(v);
            }
            // The builtins take every index and length as `i64`.
            O::TableGrow { table } => {
                let (init, delta) = self.pop2();
                let delta = self.widen_to_i64(delta);
                let index_type = self.table_index_type(table);
                let table = self.i32_const(table);
                let old = self
                    .env
                    .call_builtin(
                        &mut self.b,
                        self.vmctx,
                        Builtin::table_grow,
                        &[table, delta, init],
                    )
                    .expect("table.grow returns a size");
                self.trap_if_grow_trapped(old);
                let old = self.narrow_from_i64(old, index_type);
                self.push(old);
            }
            O::TableFill { table } => {
                let (dst, value, len) = self.pop3();
                let (dst, len) = (self.widen_to_i64(dst), self.widen_to_i64(len));
                let table = self.i32_const(table);
                self.env.call_fallible_builtin(
                    &mut self.b,
                    self.vmctx,
                    Builtin::table_fill,
                    &[table, dst, value, len],
                );
            }
            O::TableCopy {
                dst_table,
                src_table,
            } => {
                let (dst, src, len) = self.pop3();
                let (dst, src, len) = (
                    self.widen_to_i64(dst),
                    self.widen_to_i64(src),
                    self.widen_to_i64(len),
                );
                let dst_table = self.i32_const(dst_table);
                let src_table = self.i32_const(src_table);
                self.env.call_fallible_builtin(
                    &mut self.b,
                    self.vmctx,
                    Builtin::table_copy,
                    &[dst_table, src_table, dst, src, len],
                );
            }
            O::TableInit { elem_index, table } => {
                let (dst, src, len) = self.pop3();
                let dst = self.widen_to_i64(dst);
                let table = self.i32_const(table);
                let seg = self.i32_const(elem_index);
                self.env.call_fallible_builtin(
                    &mut self.b,
                    self.vmctx,
                    Builtin::table_init,
                    &[table, seg, dst, src, len],
                );
            }
            O::ElemDrop { elem_index } => {
                let seg = self.i32_const(elem_index);
                self.env
                    .call_builtin(&mut self.b, self.vmctx, Builtin::elem_drop, &[seg]);
            }
            O::RefNull { .. } => {
                let v = self.b.ins().iconst(self.env.pointer_type(), 0);
                self.push(v);
            }
            O::RefIsNull => {
                let r = self.pop();
                let is_null = self.b.ins().icmp_imm_s(IntCC::Equal, r, 0);
                let v = self.b.ins().uextend(types::I32, is_null);
                self.push(v);
            }
            O::RefFunc { function_index } => {
                let Some(slot) = self.module().functions[function_index as usize].func_ref else {
                    bail!("ref.func of function {function_index}, which has no reference");
                };
                let offset = self.env.offsets().func_ref(slot);
                let v = self.b.ins().iadd_imm_u(self.vmctx, i64::from(offset));
                self.push(v);
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// The `*mut VMTableDefinition` of `table`.
    fn table_def(&mut self, table: u32) -> ir::Value {
        let offset = self.env.offsets().table(table);
        self.env.vmctx_ptr(&mut self.b, self.vmctx, offset)
    }

    /// The current number of elements of `table` (`i64`).
    fn table_length(&mut self, table: u32) -> ir::Value {
        let def = self.table_def(table);
        self.b
            .ins()
            .load(types::I64, trusted(), def, table_def::LENGTH as i32)
    }

    /// The type of `table`'s indices: `i64` for a 64-bit table.
    pub(crate) fn table_index_type(&self, table: u32) -> ir::Type {
        if self.module().tables[table as usize].table64 {
            types::I64
        } else {
            types::I32
        }
    }

    /// Bounds-checks `index` (of the table's index type) against `table`, trapping with
    /// `trap`, and returns the address of the element.
    pub(crate) fn table_element_addr(
        &mut self,
        table: u32,
        index: ir::Value,
        trap: Trap,
    ) -> ir::Value {
        let def = self.table_def(table);
        let len = self
            .b
            .ins()
            .load(types::I64, trusted(), def, table_def::LENGTH as i32);
        let index = self.widen_to_i64(index);
        let oob = self
            .b
            .ins()
            .icmp(IntCC::UnsignedGreaterThanOrEqual, index, len);
        self.b.ins().trapnz(oob, trap_code(trap));
        let ptr = self.env.pointer_type();
        let base = self
            .b
            .ins()
            .load(ptr, trusted(), def, table_def::BASE as i32);
        let offset = self
            .b
            .ins()
            .ishl_imm_u(index, i64::from(table_def::ELEMENT_SIZE.trailing_zeros()));
        self.b.ins().iadd(base, offset)
    }
}
