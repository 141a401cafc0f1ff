//! Moving strings between two sides of a call: the canonical ABI's `load_string` on the
//! source side and `store_string` on the destination side, for all nine pairs of `utf8`,
//! `utf16` and `latin1+utf16`. The adapter makes every `realloc` call and every check in the
//! order the specification gives; the native transcoders of the runtime (imported as
//! intrinsics) validate and convert the bytes between the two memories.

use super::builder::FuncBuilder;
use super::fused::{Compiler, Len, Side, Val};
use crate::component::plan::{StringEncoding, Transcode};
use crate::component::types::{MAX_STRING_BYTE_LENGTH, UTF16_TAG};
use crate::Trap;
use anyhow::Result;
use wasm_encoder::{BlockType, Instruction as I, ValType as V};

/// The encoding of a source string once a `latin1+utf16` tag has been looked at.
#[derive(Copy, Clone, PartialEq, Eq)]
enum Simple {
    Utf8,
    Utf16,
    Latin1,
}

/// Where a string helper is: its memories and result locals.
struct Ctx {
    src_mem: u32,
    dst_mem: u32,
    src: u32,
    units: u32,
    out_ptr: u32,
    out_len: u32,
}

impl Compiler<'_> {
    /// The body of a string helper `(src_ptr, tagged_len) -> (dst_ptr, tagged_len)`.
    pub(crate) fn string_body(&mut self, from: &Side, to: &Side) -> Result<FuncBuilder> {
        let mut f = FuncBuilder::new(vec![V::I32, V::I32], vec![V::I32, V::I32]);
        let (src, tagged) = (0, 1);
        let cx = Ctx {
            src_mem: from.memory("a string")?,
            dst_mem: to.memory("a string")?,
            src,
            units: f.local(V::I32),
            out_ptr: f.local(V::I32),
            out_len: f.local(V::I32),
        };
        f.ins(I::LocalGet(tagged));
        f.ins(I::LocalSet(cx.units));
        match from.encoding {
            StringEncoding::Utf8 => {
                self.check_source(&mut f, &cx, 1, 1);
                self.store(&mut f, &cx, Simple::Utf8, false, to)?;
            }
            StringEncoding::Utf16 => {
                self.check_source(&mut f, &cx, 2, 2);
                self.store(&mut f, &cx, Simple::Utf16, false, to)?;
            }
            StringEncoding::CompactUtf16 => {
                f.ins(I::LocalGet(tagged));
                f.ins(I::I32Const(UTF16_TAG as i32));
                f.ins(I::I32And);
                f.ins(I::If(BlockType::Empty));
                f.ins(I::LocalGet(tagged));
                f.ins(I::I32Const(UTF16_TAG as i32));
                f.ins(I::I32Xor);
                f.ins(I::LocalSet(cx.units));
                self.check_source(&mut f, &cx, 2, 2);
                self.store(&mut f, &cx, Simple::Utf16, true, to)?;
                f.ins(I::Else);
                self.check_source(&mut f, &cx, 1, 2);
                self.store(&mut f, &cx, Simple::Latin1, true, to)?;
                f.ins(I::End);
            }
        }
        f.ins(I::LocalGet(cx.out_ptr));
        f.ins(I::LocalGet(cx.out_len));
        Ok(f)
    }

    /// `load_string_from_range`'s checks of the source string, in its order: its byte
    /// length within the maximum, its alignment, its bytes in the memory. All come before
    /// anything is allocated on the destination side.
    fn check_source(&mut self, f: &mut FuncBuilder, cx: &Ctx, unit: u64, align: u32) {
        let bytes = f.local(V::I64);
        f.ins(I::LocalGet(cx.units));
        f.ins(I::I64ExtendI32U);
        if unit > 1 {
            f.ins(I::I64Const(unit as i64));
            f.ins(I::I64Mul);
        }
        f.ins(I::LocalTee(bytes));
        f.ins(I::I64Const(MAX_STRING_BYTE_LENGTH as i64));
        f.ins(I::I64GtU);
        self.trap_if(f, Trap::StringTooLong);
        self.check_align(f, cx.src, align, Trap::UnalignedPointer);
        self.check_bounds(
            f,
            cx.src_mem,
            cx.src,
            Len::I64(bytes),
            Trap::StringOutOfBounds,
        );
    }

    /// `store_string` for a source of encoding `simple` (`tagged` if it came from
    /// `latin1+utf16`) into the destination side.
    fn store(
        &mut self,
        f: &mut FuncBuilder,
        cx: &Ctx,
        simple: Simple,
        tagged: bool,
        to: &Side,
    ) -> Result<()> {
        use Simple::*;
        match (to.encoding, simple) {
            (StringEncoding::Utf8, Utf8) => {
                self.copy(f, cx, to, 1, 1, Copy::Transcode(Transcode::Utf8ToUtf8))
            }
            (StringEncoding::Utf8, Utf16) => {
                self.store_as_utf8(f, cx, to, Transcode::Utf16ToUtf8, 3, 2)
            }
            (StringEncoding::Utf8, Latin1) => {
                self.store_as_utf8(f, cx, to, Transcode::Latin1ToUtf8, 2, 1)
            }
            (StringEncoding::Utf16, Utf8) => self.utf8_to_utf16(f, cx, to),
            (StringEncoding::Utf16, Utf16) => {
                self.copy(f, cx, to, 2, 2, Copy::Transcode(Transcode::Utf16ToUtf16))
            }
            (StringEncoding::Utf16, Latin1) => {
                self.copy(f, cx, to, 2, 2, Copy::Transcode(Transcode::Latin1ToUtf16))
            }
            (StringEncoding::CompactUtf16, Latin1) => self.copy(f, cx, to, 1, 2, Copy::Bytes),
            (StringEncoding::CompactUtf16, Utf16) if tagged => self.probably_utf16(f, cx, to),
            (StringEncoding::CompactUtf16, src) => self.store_as_latin1_or_utf16(f, cx, to, src),
        }
    }

    /// Traps unless `len` (an `i64` on the stack) fits the maximum string length, and
    /// leaves it in a fresh `i32` local.
    fn checked_length(&mut self, f: &mut FuncBuilder) -> u32 {
        let wide = f.local(V::I64);
        f.ins(I::LocalTee(wide));
        f.ins(I::I64Const(MAX_STRING_BYTE_LENGTH as i64));
        f.ins(I::I64GtU);
        self.trap_if(f, Trap::StringTooLong);
        let len = f.local(V::I32);
        f.ins(I::LocalGet(wide));
        f.ins(I::I32WrapI64);
        f.ins(I::LocalSet(len));
        len
    }

    /// `realloc` on the destination side, then its alignment and bounds checks.
    #[allow(clippy::too_many_arguments)]
    fn dst_realloc(
        &mut self,
        f: &mut FuncBuilder,
        cx: &Ctx,
        to: &Side,
        old: Val,
        old_size: Val,
        align: u32,
        size: u32,
    ) -> Result<u32> {
        let ptr = self.realloc(f, to, "a string", old, old_size, align, Val::Local(size))?;
        self.check_align(f, ptr, align, Trap::UnalignedPointer);
        self.check_bounds(f, cx.dst_mem, ptr, Len::I32(size), Trap::StringOutOfBounds);
        Ok(ptr)
    }

    fn set_out(&self, f: &mut FuncBuilder, cx: &Ctx, ptr: u32, len: impl FnOnce(&mut FuncBuilder)) {
        f.ins(I::LocalGet(ptr));
        f.ins(I::LocalSet(cx.out_ptr));
        len(f);
        f.ins(I::LocalSet(cx.out_len));
    }

    /// `store_string_copy`: the destination size is known up front.
    fn copy(
        &mut self,
        f: &mut FuncBuilder,
        cx: &Ctx,
        to: &Side,
        dst_unit: u64,
        align: u32,
        op: Copy,
    ) -> Result<()> {
        f.ins(I::LocalGet(cx.units));
        f.ins(I::I64ExtendI32U);
        if dst_unit > 1 {
            f.ins(I::I64Const(dst_unit as i64));
            f.ins(I::I64Mul);
        }
        let bytes = self.checked_length(f);
        let dst = self.dst_realloc(f, cx, to, Val::Const(0), Val::Const(0), align, bytes)?;
        match op {
            Copy::Bytes => {
                f.ins(I::LocalGet(dst));
                f.ins(I::LocalGet(cx.src));
                f.ins(I::LocalGet(cx.units));
                f.ins(I::MemoryCopy {
                    src_mem: cx.src_mem,
                    dst_mem: cx.dst_mem,
                });
            }
            Copy::Transcode(t) => {
                f.ins(I::LocalGet(cx.src));
                f.ins(I::LocalGet(cx.units));
                f.ins(I::LocalGet(dst));
                self.transcode_call(f, t, cx.src_mem, cx.dst_mem);
            }
        }
        let units = cx.units;
        self.set_out(f, cx, dst, |f| f.ins(I::LocalGet(units)));
        Ok(())
    }

    /// `store_utf16_to_utf8` / `store_latin1_to_utf8`: optimistic allocation of one byte
    /// per code unit, growth to the worst case if needed, then a final shrink.
    fn store_as_utf8(
        &mut self,
        f: &mut FuncBuilder,
        cx: &Ctx,
        to: &Side,
        op: Transcode,
        worst_factor: u64,
        src_unit: i32,
    ) -> Result<()> {
        let units = cx.units;
        let dst = self.dst_realloc(f, cx, to, Val::Const(0), Val::Const(0), 1, units)?;
        let (read, written) = (f.local(V::I32), f.local(V::I32));
        f.ins(I::LocalGet(cx.src));
        f.ins(I::LocalGet(units));
        f.ins(I::LocalGet(dst));
        f.ins(I::LocalGet(units));
        self.transcode_call(f, op, cx.src_mem, cx.dst_mem);
        unpack(f, read, written);

        f.ins(I::LocalGet(read));
        f.ins(I::LocalGet(units));
        f.ins(I::I32LtU);
        f.ins(I::If(BlockType::Empty));
        {
            f.ins(I::LocalGet(units));
            f.ins(I::I64ExtendI32U);
            f.ins(I::I64Const(worst_factor as i64));
            f.ins(I::I64Mul);
            let worst = self.checked_length(f);
            let grown =
                self.dst_realloc(f, cx, to, Val::Local(dst), Val::Local(units), 1, worst)?;
            f.ins(I::LocalGet(grown));
            f.ins(I::LocalSet(dst));
            // The rest of the source, after the part already written.
            f.ins(I::LocalGet(cx.src));
            f.ins(I::LocalGet(read));
            f.ins(I::I32Const(src_unit));
            f.ins(I::I32Mul);
            f.ins(I::I32Add);
            f.ins(I::LocalGet(units));
            f.ins(I::LocalGet(read));
            f.ins(I::I32Sub);
            f.ins(I::LocalGet(dst));
            f.ins(I::LocalGet(written));
            f.ins(I::I32Add);
            f.ins(I::LocalGet(worst));
            f.ins(I::LocalGet(written));
            f.ins(I::I32Sub);
            self.transcode_call(f, op, cx.src_mem, cx.dst_mem);
            f.ins(I::I32WrapI64);
            f.ins(I::LocalGet(written));
            f.ins(I::I32Add);
            f.ins(I::LocalSet(written));
            // Shrink to the final size.
            f.ins(I::LocalGet(written));
            f.ins(I::LocalGet(worst));
            f.ins(I::I32LtU);
            f.ins(I::If(BlockType::Empty));
            let shrunk =
                self.dst_realloc(f, cx, to, Val::Local(dst), Val::Local(worst), 1, written)?;
            f.ins(I::LocalGet(shrunk));
            f.ins(I::LocalSet(dst));
            f.ins(I::End);
        }
        f.ins(I::End);
        self.set_out(f, cx, dst, |f| f.ins(I::LocalGet(written)));
        Ok(())
    }

    /// `store_utf8_to_utf16`: worst-case allocation, then a shrink.
    fn utf8_to_utf16(&mut self, f: &mut FuncBuilder, cx: &Ctx, to: &Side) -> Result<()> {
        f.ins(I::LocalGet(cx.units));
        f.ins(I::I64ExtendI32U);
        f.ins(I::I64Const(2));
        f.ins(I::I64Mul);
        let worst = self.checked_length(f);
        let dst = self.dst_realloc(f, cx, to, Val::Const(0), Val::Const(0), 2, worst)?;
        let n = f.local(V::I32);
        f.ins(I::LocalGet(cx.src));
        f.ins(I::LocalGet(cx.units));
        f.ins(I::LocalGet(dst));
        self.transcode_call(f, Transcode::Utf8ToUtf16, cx.src_mem, cx.dst_mem);
        f.ins(I::LocalSet(n));
        let bytes = f.local(V::I32);
        f.ins(I::LocalGet(n));
        f.ins(I::I32Const(1));
        f.ins(I::I32Shl);
        f.ins(I::LocalTee(bytes));
        f.ins(I::LocalGet(worst));
        f.ins(I::I32LtU);
        f.ins(I::If(BlockType::Empty));
        let shrunk = self.dst_realloc(f, cx, to, Val::Local(dst), Val::Local(worst), 2, bytes)?;
        f.ins(I::LocalGet(shrunk));
        f.ins(I::LocalSet(dst));
        f.ins(I::End);
        self.set_out(f, cx, dst, |f| f.ins(I::LocalGet(n)));
        Ok(())
    }

    /// `store_string_to_latin1_or_utf16`: Latin-1 while every code point fits, else widen
    /// what was written in place and continue in UTF-16.
    fn store_as_latin1_or_utf16(
        &mut self,
        f: &mut FuncBuilder,
        cx: &Ctx,
        to: &Side,
        src: Simple,
    ) -> Result<()> {
        let units = cx.units;
        let dst = self.dst_realloc(f, cx, to, Val::Const(0), Val::Const(0), 2, units)?;
        let (read, written) = (f.local(V::I32), f.local(V::I32));
        f.ins(I::LocalGet(cx.src));
        f.ins(I::LocalGet(units));
        f.ins(I::LocalGet(dst));
        let (to_latin1, src_unit) = match src {
            Simple::Utf8 => (Transcode::Utf8ToLatin1, 1),
            _ => (Transcode::Utf16ToLatin1, 2),
        };
        self.transcode_call(f, to_latin1, cx.src_mem, cx.dst_mem);
        unpack(f, read, written);

        f.ins(I::LocalGet(read));
        f.ins(I::LocalGet(units));
        f.ins(I::I32Eq);
        f.ins(I::If(BlockType::Empty));
        {
            // All Latin-1: shrink if the source took more bytes.
            f.ins(I::LocalGet(written));
            f.ins(I::LocalGet(units));
            f.ins(I::I32LtU);
            f.ins(I::If(BlockType::Empty));
            let shrunk =
                self.dst_realloc(f, cx, to, Val::Local(dst), Val::Local(units), 2, written)?;
            f.ins(I::LocalGet(shrunk));
            f.ins(I::LocalSet(dst));
            f.ins(I::End);
            self.set_out(f, cx, dst, |f| f.ins(I::LocalGet(written)));
        }
        f.ins(I::Else);
        {
            f.ins(I::LocalGet(units));
            f.ins(I::I64ExtendI32U);
            f.ins(I::I64Const(2));
            f.ins(I::I64Mul);
            let worst = self.checked_length(f);
            let grown =
                self.dst_realloc(f, cx, to, Val::Local(dst), Val::Local(units), 2, worst)?;
            f.ins(I::LocalGet(grown));
            f.ins(I::LocalSet(dst));
            // Widen the Latin-1 prefix in place.
            f.ins(I::LocalGet(dst));
            f.ins(I::LocalGet(written));
            self.transcode_call(f, Transcode::InflateLatin1, cx.dst_mem, cx.dst_mem);
            // The rest as UTF-16 after it.
            let rest = f.local(V::I32);
            f.ins(I::LocalGet(units));
            f.ins(I::LocalGet(read));
            f.ins(I::I32Sub);
            f.ins(I::LocalSet(rest));
            f.ins(I::LocalGet(cx.src));
            f.ins(I::LocalGet(read));
            f.ins(I::I32Const(src_unit));
            f.ins(I::I32Mul);
            f.ins(I::I32Add);
            f.ins(I::LocalGet(rest));
            f.ins(I::LocalGet(dst));
            f.ins(I::LocalGet(written));
            f.ins(I::I32Const(1));
            f.ins(I::I32Shl);
            f.ins(I::I32Add);
            let total = f.local(V::I32);
            match src {
                Simple::Utf8 => {
                    self.transcode_call(f, Transcode::Utf8ToUtf16, cx.src_mem, cx.dst_mem);
                }
                _ => {
                    self.transcode_call(f, Transcode::Utf16ToUtf16, cx.src_mem, cx.dst_mem);
                    f.ins(I::LocalGet(rest));
                }
            }
            f.ins(I::LocalGet(written));
            f.ins(I::I32Add);
            f.ins(I::LocalSet(total));
            let bytes = f.local(V::I32);
            f.ins(I::LocalGet(total));
            f.ins(I::I32Const(1));
            f.ins(I::I32Shl);
            f.ins(I::LocalTee(bytes));
            f.ins(I::LocalGet(worst));
            f.ins(I::I32LtU);
            f.ins(I::If(BlockType::Empty));
            let shrunk =
                self.dst_realloc(f, cx, to, Val::Local(dst), Val::Local(worst), 2, bytes)?;
            f.ins(I::LocalGet(shrunk));
            f.ins(I::LocalSet(dst));
            f.ins(I::End);
            self.set_out(f, cx, dst, |f| {
                f.ins(I::LocalGet(total));
                f.ins(I::I32Const(UTF16_TAG as i32));
                f.ins(I::I32Or);
            });
        }
        f.ins(I::End);
        Ok(())
    }

    /// `store_probably_utf16_to_latin1_or_utf16`: copy as UTF-16, then narrow to Latin-1 in
    /// place if every code unit fits.
    fn probably_utf16(&mut self, f: &mut FuncBuilder, cx: &Ctx, to: &Side) -> Result<()> {
        let units = cx.units;
        f.ins(I::LocalGet(units));
        f.ins(I::I64ExtendI32U);
        f.ins(I::I64Const(2));
        f.ins(I::I64Mul);
        let bytes = self.checked_length(f);
        let dst = self.dst_realloc(f, cx, to, Val::Const(0), Val::Const(0), 2, bytes)?;
        f.ins(I::LocalGet(cx.src));
        f.ins(I::LocalGet(units));
        f.ins(I::LocalGet(dst));
        self.transcode_call(f, Transcode::Utf16ToUtf16, cx.src_mem, cx.dst_mem);
        f.ins(I::LocalGet(dst));
        f.ins(I::LocalGet(units));
        self.transcode_call(f, Transcode::DeflateUtf16, cx.dst_mem, cx.dst_mem);
        f.ins(I::If(BlockType::Empty));
        {
            let shrunk =
                self.dst_realloc(f, cx, to, Val::Local(dst), Val::Local(bytes), 1, units)?;
            self.set_out(f, cx, shrunk, |f| f.ins(I::LocalGet(units)));
        }
        f.ins(I::Else);
        self.set_out(f, cx, dst, |f| {
            f.ins(I::LocalGet(units));
            f.ins(I::I32Const(UTF16_TAG as i32));
            f.ins(I::I32Or);
        });
        f.ins(I::End);
        Ok(())
    }
}

/// How `copy` moves the bytes.
#[derive(Copy, Clone)]
enum Copy {
    /// `memory.copy` (Latin-1 to Latin-1 needs no validation).
    Bytes,
    Transcode(Transcode),
}

/// Splits a packed `read << 32 | written` result into two locals.
fn unpack(f: &mut FuncBuilder, read: u32, written: u32) {
    let packed = f.local(V::I64);
    f.ins(I::LocalTee(packed));
    f.ins(I::I64Const(32));
    f.ins(I::I64ShrU);
    f.ins(I::I32WrapI64);
    f.ins(I::LocalSet(read));
    f.ins(I::LocalGet(packed));
    f.ins(I::I32WrapI64);
    f.ins(I::LocalSet(written));
}
